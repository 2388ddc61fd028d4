//! Pool allocations with their stacks, as the WPA pool tables of a "Pool usage" trace export them
//! (`wpaexporter` or "Export to CSV"; reference peers.md §2.4): the only input that says which code
//! allocated a leaking tag.

use serde::{Deserialize, Serialize};

use super::{PoolType, SourceRef};

/// Where an allocation falls in the trace's selection (WPA's glossary, the same for heap and pool).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocationKind {
    /// Allocated inside the selection, still outstanding at its end: the leak candidates.
    Aifo,
    /// Allocated and freed inside the selection.
    Aifi,
    /// Allocated before the selection, freed inside it.
    Aofi,
    /// Allocated before the selection, still outstanding at its end.
    Aofo,
}

impl AllocationKind {
    /// Every kind, in WPA's order of interest (leak candidates first).
    pub const ALL: [AllocationKind; 4] =
        [AllocationKind::Aifo, AllocationKind::Aifi, AllocationKind::Aofi, AllocationKind::Aofo];

    /// WPA's code: `AIFO`, `AIFI`, `AOFI` or `AOFO`.
    pub fn code(self) -> &'static str {
        match self {
            AllocationKind::Aifo => "AIFO",
            AllocationKind::Aifi => "AIFI",
            AllocationKind::Aofi => "AOFI",
            AllocationKind::Aofo => "AOFO",
        }
    }
}

impl std::fmt::Display for AllocationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One row of a WPA pool table: allocations of one tag, kind, size and stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolAllocation {
    /// The row (its first line) in the export.
    pub source: SourceRef,
    /// Pool tag, 4 characters with trailing spaces kept as poolmon shows them (`Key `).
    pub tag: String,
    /// Paged or nonpaged, when the table has a `Paged` column.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pool: Option<PoolType>,
    /// Inside/outside the selection (`AIFO` = allocated inside, still outstanding at the end).
    pub kind: AllocationKind,
    /// Bytes per allocation (`Size`, or the row's total size over its count), when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size: Option<u64>,
    /// Allocations the row stands for (`Count`; 1 when the table has one row per allocation).
    pub count: u64,
    /// The allocating stack, innermost frame first (`ntkrnlmp.exe!ExAllocatePoolWithTag`, then its caller...);
    /// empty when the table has no `Stack` column.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub stack: Vec<String>,
}

/// The allocations read from one WPA export file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationTable {
    /// The file (the line of its header row).
    pub source: SourceRef,
    /// Host, once the ingest has decided it (WPA tables do not name their machine).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub host: Option<String>,
    /// Every usable row, in file order.
    pub allocations: Vec<PoolAllocation>,
}
