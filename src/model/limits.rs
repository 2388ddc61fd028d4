//! Memory limits a kernel debugger printed: WinDbg's `!vm` over a dump or a live kernel (peers.md §2.3, §6).
//!
//! They are the host's real maxima, not the documented ones for its release, so the analysis prefers them to
//! every other source but the user's flags.

use serde::{Deserialize, Serialize};

use super::SourceRef;

/// What one `!vm` output says about a host's limits, in bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebuggerLimits {
    /// File and line of the first limit read.
    pub source: SourceRef,
    /// Host, when known (`--host`, file or folder names).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub host: Option<String>,
    /// `PagedPool Maximum:` (`PagedPoolMaximum`), bytes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub paged_pool_max: Option<u64>,
    /// `NonPagedPool Max:` (`NonPagedPoolMaximum`), bytes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nonpaged_pool_max: Option<u64>,
    /// `Commit limit:`, bytes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub commit_limit: Option<u64>,
    /// `Physical Memory:`, bytes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub physical_memory: Option<u64>,
}

impl DebuggerLimits {
    /// Whether no limit was read.
    pub fn is_empty(&self) -> bool {
        self.paged_pool_max.is_none()
            && self.nonpaged_pool_max.is_none()
            && self.commit_limit.is_none()
            && self.physical_memory.is_none()
    }
}
