//! Typed records that every parser produces and every analysis consumes.
//!
//! Parsers borrow from their input while parsing and convert to these owned types in one place.
//! Every record carries its provenance ([`SourceRef`]); every problem found while reading input
//! is a [`Diagnostic`], never a panic.

pub mod allocation;
pub mod dataset;
pub mod drivers;
pub mod event;
pub mod handles;
pub mod limits;
pub mod perf;
pub mod pool;
pub mod tag;
pub mod time;

use serde::{Deserialize, Serialize};

pub use allocation::{AllocationKind, AllocationTable, PoolAllocation};
pub use dataset::{Dataset, HostData};
pub use drivers::{DriverInventory, DriverListing};
pub use event::{Event, EventKind};
pub use handles::{HandleEntry, HandleMode, HandleSnapshot, ObjectIdentity, ProcessHandles};
pub use limits::DebuggerLimits;
pub use perf::{PerfSample, PerfSeries, ProcessCounters};
pub use pool::{PoolHeader, PoolRow, PoolSnapshot, PoolType};
pub use tag::PoolTag;
pub use time::{DateOrder, TimeSettings, TimeSource};

/// Where a record came from: the input file and the line (text formats) or byte offset (binary formats).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct SourceRef {
    /// Path of the input file, as given on the command line or found while walking a directory.
    pub path: String,
    /// 1-based line number of the record's first line, for text formats.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<u64>,
    /// Byte offset of the record, for binary formats (EVTX).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub offset: Option<u64>,
}

impl SourceRef {
    /// A reference to a line of a text file.
    pub fn line(path: impl Into<String>, line: u64) -> Self {
        Self { path: path.into(), line: Some(line), offset: None }
    }

    /// A reference to a byte offset of a binary file.
    pub fn offset(path: impl Into<String>, offset: u64) -> Self {
        Self { path: path.into(), line: None, offset: Some(offset) }
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Input that could not be used (a garbled row, a corrupt chunk); the rest of the file was kept.
    Error,
    /// Input that was used with an assumption the user should know about (assumed time zone, wrapped counter).
    Warning,
    /// Something worth saying that needs no action.
    Info,
}

/// A problem or assumption met while reading input, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Input file the diagnostic is about (empty for run-wide diagnostics).
    pub path: String,
    /// 1-based line number, for text formats.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<u64>,
    /// Byte offset, for binary formats.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub offset: Option<u64>,
    /// How serious it is.
    pub severity: Severity,
    /// What happened, in lowercase words without a trailing period.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic about a line of a text file.
    pub fn at_line(path: impl Into<String>, line: u64, severity: Severity, message: impl Into<String>) -> Self {
        Self { path: path.into(), line: Some(line), offset: None, severity, message: message.into() }
    }

    /// A diagnostic about a byte offset of a binary file.
    pub fn at_offset(path: impl Into<String>, offset: u64, severity: Severity, message: impl Into<String>) -> Self {
        Self { path: path.into(), line: None, offset: Some(offset), severity, message: message.into() }
    }

    /// A diagnostic about a whole file (or the whole run when `path` is empty).
    pub fn for_file(path: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        Self { path: path.into(), line: None, offset: None, severity, message: message.into() }
    }

    /// `path:line: message` (or `path@0x0000abcd: message`), as printed on stderr.
    pub fn location(&self) -> String {
        match (self.line, self.offset) {
            (Some(line), _) => format!("{}:{line}", self.path),
            (None, Some(offset)) => format!("{}@0x{offset:08x}", self.path),
            (None, None) => self.path.clone(),
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        if self.path.is_empty() {
            write!(f, "{sev}: {}", self.message)
        } else {
            write!(f, "{}: {sev}: {}", self.location(), self.message)
        }
    }
}
