//! poolmon snapshots: one table of pool tags at one moment.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{PoolTag, SourceRef, TimeSource};

/// Kernel pool type of a row. poolmon prints `Paged` or `Nonp`; session pool rows are one of these too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolType {
    /// Paged pool (`Paged`).
    Paged,
    /// Nonpaged pool (`Nonp`).
    Nonpaged,
}

impl PoolType {
    /// `"paged"` or `"nonpaged"`, as in JSON and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolType::Paged => "paged",
            PoolType::Nonpaged => "nonpaged",
        }
    }
}

impl std::fmt::Display for PoolType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `-r` summary lines (or an interactive screen's first two lines), all in KiB as poolmon prints them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolHeader {
    /// `Memory:` physical memory, KiB.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub memory_kb: Option<u64>,
    /// `Avail:` available physical memory, KiB.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub avail_kb: Option<u64>,
    /// `PageFlts:` cumulative page faults in `-n` files (a per-refresh delta on interactive screens).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub page_faults: Option<u64>,
    /// `Commit:` committed memory, KiB.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub commit_kb: Option<u64>,
    /// `Limit:` the commit limit, KiB.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub limit_kb: Option<u64>,
    /// `Peak:` peak commit, KiB.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peak_kb: Option<u64>,
    /// `Pool N:` current nonpaged pool total, KiB (not a maximum).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pool_nonpaged_kb: Option<u64>,
    /// `P:` current paged pool total, KiB (not a maximum).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pool_paged_kb: Option<u64>,
}

/// One row of a poolmon table: one tag in one pool type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRow {
    /// The 4-character pool tag, spaces kept (`Key `, `Dh 1`), held inline.
    pub tag: PoolTag,
    /// Paged or nonpaged.
    pub pool: PoolType,
    /// Cumulative allocations (a 32-bit kernel counter on most builds: it wraps).
    pub allocs: u64,
    /// Cumulative frees (32-bit, wraps).
    pub frees: u64,
    /// Outstanding allocations, `allocs - frees`.
    pub diff: u64,
    /// Bytes currently allocated under this tag.
    pub bytes: u64,
    /// Bytes per outstanding allocation, as poolmon prints it.
    pub per_alloc: u64,
    /// Mapped_Driver text (`/g`): `[ntfs.sys - Create.c]`, `[a][b]` or `Unknown Driver`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub driver: Option<String>,
}

/// One poolmon table at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolSnapshot {
    /// File and line of the snapshot's first line.
    pub source: SourceRef,
    /// Host the snapshot came from, when known (from the data, file or folder names, or `--host`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub host: Option<String>,
    /// When it was taken, in UTC; `None` when no time source was found.
    pub taken_at: Option<DateTime<Utc>>,
    /// Where `taken_at` came from.
    pub time_source: TimeSource,
    /// Summary lines (`-r`), when present.
    pub header: PoolHeader,
    /// One row per (tag, pool type), in file order.
    pub rows: Vec<PoolRow>,
}
