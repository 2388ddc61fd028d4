//! Performance-counter samples (perfmon CSV/TSV as `relog` writes it): pool and commit totals and the
//! per-process counters that a leak hunt collects (reference peers.md §2.6).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::SourceRef;

/// The counters of one host read from one perfmon file, in file order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerfSeries {
    /// File the counters came from (the line of the header row).
    pub source: SourceRef,
    /// Host named by the counter paths (`\\HOST\Memory\...`); the ingest settles it like an event Computer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub host: Option<String>,
    /// One sample per row that had at least one used counter for this host.
    pub samples: Vec<PerfSample>,
}

/// One row of counters for one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerfSample {
    /// When it was taken, in UTC (the file's local time converted with its PDH zone or `--tz`).
    pub time: DateTime<Utc>,
    /// 1-based line of the row in the file.
    pub line: u64,
    /// `\Memory\Pool Paged Bytes`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pool_paged_bytes: Option<u64>,
    /// `\Memory\Pool Nonpaged Bytes`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pool_nonpaged_bytes: Option<u64>,
    /// `\Memory\Committed Bytes`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub committed_bytes: Option<u64>,
    /// `\Memory\Commit Limit`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub commit_limit: Option<u64>,
    /// `\Process(_Total)\Handle Count`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total_handles: Option<u64>,
    /// Per-process counters, sorted by name then pid.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub processes: Vec<ProcessCounters>,
}

/// The counters of one process instance in one sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessCounters {
    /// Process name: the instance without its `#n` suffix when `ID Process` identified it, else the
    /// instance as written (`svchost#1`).
    pub name: String,
    /// `ID Process` of the instance in this row, when collected.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pid: Option<u32>,
    /// `\Process(*)\Handle Count`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub handle_count: Option<u64>,
    /// `\Process(*)\Pool Paged Bytes` (paged pool charged to the process).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pool_paged_bytes: Option<u64>,
    /// `\Process(*)\Pool Nonpaged Bytes`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pool_nonpaged_bytes: Option<u64>,
}
