//! Event-log records (binary .evtx or any export), typed where they matter to a pool-leak post-mortem.

mod data;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{PoolType, SourceRef};

pub use data::{EventData, EventDataBuilder};

/// One event-log record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// File and line (exports) or byte offset (binary .evtx) of the record.
    pub source: SourceRef,
    /// Provider name (`Microsoft-Windows-Resource-Exhaustion-Detector`, `EventLog`, `Srv`).
    pub provider: String,
    /// Event id; ids are reused across providers, so always read it with the provider.
    pub event_id: u32,
    /// Level (1 critical, 2 error, 3 warning, 4 information), when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub level: Option<u8>,
    /// `TimeCreated`, in UTC.
    pub time: DateTime<Utc>,
    /// `Computer` (the host name), when present.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub computer: Option<String>,
    /// Channel (`System`), when present.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub channel: Option<String>,
    /// `EventRecordID`, when present (record order is not time order).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub record_id: Option<u64>,
    /// EventData/UserData fields by name; unnamed `<Data>` elements are keyed `0`, `1`, ...
    pub data: EventData,
    /// The rendered message, when the export carried one (never parsed for values).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message: Option<String>,
    /// What the event means for a pool-leak post-mortem.
    pub kind: EventKind,
}

/// The typed meaning of an event, matched on (provider, id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum EventKind {
    /// Resource-Exhaustion-Detector 2004: low virtual memory diagnosed.
    ResourceExhaustion(Box<ResourceExhaustion>),
    /// Srv 2019 (nonpaged) / 2020 (paged): the server could not allocate because the pool was empty.
    PoolEmpty {
        /// Which pool was empty.
        pool: PoolType,
    },
    /// The system or the event log started (6005, 6009, Kernel-General 12).
    Boot {
        /// Kernel-General 12 `StartTime`, when present.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        start_time: Option<DateTime<Utc>>,
    },
    /// 6013: system uptime report.
    Uptime {
        /// Uptime in seconds.
        seconds: u64,
    },
    /// A clean shutdown (6006, Kernel-General 13, User32 1074).
    Shutdown {
        /// User32 1074: the process that initiated it.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        process: Option<String>,
        /// User32 1074: reason text.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        reason: Option<String>,
        /// User32 1074: shutdown type (`restart`, `power off`).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        shutdown_type: Option<String>,
        /// User32 1074: on behalf of which user.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        user: Option<String>,
    },
    /// An unclean end of the previous boot: 6008, Kernel-Power 41, User32 1076.
    Crash {
        /// 6008: the previous shutdown time as printed (localized, marks stripped).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        previous_shutdown: Option<String>,
        /// 6008: the previous shutdown time, parsed, when it could be.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        previous_shutdown_at: Option<DateTime<Utc>>,
        /// Kernel-Power 41: bugcheck code (0 when the machine hung or lost power).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        bugcheck_code: Option<u64>,
        /// User32 1076: the reason given after the fact (`Other (Unplanned)`), localized.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        reason: Option<String>,
        /// User32 1076: the user who gave the reason.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        user: Option<String>,
    },
    /// Any other event, kept generically.
    Other,
}

/// The fields of a Resource-Exhaustion-Detector 2004 event, read from its XML data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceExhaustion {
    /// `SystemCommitLimit`, bytes.
    pub commit_limit: Option<u64>,
    /// `SystemCommitCharge`, bytes.
    pub commit_charge: Option<u64>,
    /// `ProcessCommitCharge`, bytes.
    pub process_commit_charge: Option<u64>,
    /// `PagedPoolUsage`, bytes.
    pub paged_pool_usage: Option<u64>,
    /// `NonPagedPoolUsage`, bytes.
    pub nonpaged_pool_usage: Option<u64>,
    /// `PhysicalMemorySize`, bytes.
    pub physical_memory_size: Option<u64>,
    /// `PhysicalMemoryUsage`, bytes.
    pub physical_memory_usage: Option<u64>,
    /// `Processes`: the number of processes.
    pub process_count: Option<u64>,
    /// Top paged pool tags (up to 3) with bytes.
    pub paged_tags: Vec<TagUsage>,
    /// Top nonpaged pool tags (up to 3) with bytes.
    pub nonpaged_tags: Vec<TagUsage>,
    /// Top processes by commit charge (up to 6, empty slots skipped).
    pub processes: Vec<ExhaustedProcess>,
    /// `ExhaustionEventInfo/Time`: the detection time (differs from TimeCreated by a second or two).
    pub detected_at: Option<DateTime<Utc>>,
}

/// A pool tag and its usage, as listed in a 2004 event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagUsage {
    /// The pool tag.
    pub tag: String,
    /// Bytes used.
    pub bytes: u64,
}

/// A process listed in a 2004 event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExhaustedProcess {
    /// Image name.
    pub name: String,
    /// Process id.
    pub pid: u32,
    /// Creation time.
    pub created_at: Option<DateTime<Utc>>,
    /// Commit charge, bytes.
    pub commit_charge: u64,
    /// Handle count.
    pub handle_count: u64,
}
