//! `truth.json`: what the simulator really did, for checking an analysis against it.
//!
//! Rates are the generating rates (the mean of the process that made the data), exhaustion is the time
//! the host's modelled resource crossed its limit (the model hangs right there), and each boot also
//! records what was realised (leaked allocations at its last snapshot), since a finite sample of a
//! random process never shows its mean exactly. The file holds nothing that varies between runs (no
//! generation time), so the same seed and options give a byte-identical file.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Version of the truth.json layout.
pub const TRUTH_SCHEMA_VERSION: u32 = 1;

/// The ground truth of one simulated archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// [`TRUTH_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Scenario name (`lsass-token-leak`).
    pub scenario: String,
    /// The seed that generated the archive.
    pub seed: u64,
    /// The options that shaped the files (with the seed and scenario they regenerate the archive).
    pub options: TruthOptions,
    /// When the archive starts (the earliest host's first boot or the collection start), UTC.
    pub start: DateTime<Utc>,
    /// When the collection ends, UTC.
    pub end: DateTime<Utc>,
    /// One entry per host.
    pub hosts: Vec<HostTruth>,
}

/// The options a run used (defaults filled in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthOptions {
    /// Archive length, hours.
    pub hours: f64,
    /// Seconds between poolmon snapshots (before the loop's drift).
    pub interval_secs: u32,
    /// Background tags per host.
    pub tags: usize,
    /// `ansi` or `utf16`.
    pub encoding: String,
    /// `crlf` or `lf`.
    pub newline: String,
    /// `cmd`, `iso` or `filename`: how snapshot times are recorded.
    pub stamps: String,
    /// Whether each host's last poolmon snapshot was cut short.
    pub truncate_last: bool,
    /// Seconds between `handle -s` summaries.
    pub handle_interval_secs: u32,
    /// Seconds between `handle -a -p lsass.exe` dumps (0: none).
    pub dump_interval_secs: u32,
    /// `kit` when the files are laid out as `poolscope kit`'s scripts write them (absent: flat).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub layout: Option<String>,
    /// Collections written beyond poolmon, handle.exe and the System log (`perfmon`, `pool_csv`, `debugger`); absent
    /// when none.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub extras: Vec<String>,
}

/// The ground truth of one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostTruth {
    /// Host name (`SRV-APP01`); events carry it as `SRV-APP01.contoso.local`.
    pub host: String,
    /// The host's folder relative to the archive (empty for single-host archives).
    pub folder: String,
    /// Operating system (`Windows Server 2008 R2 SP1`).
    pub os: String,
    /// Version as major.minor.build (`6.1.7601`).
    pub os_version: String,
    /// Time zone of local times in the files (always UTC for simulated hosts).
    pub timezone: String,
    /// Physical memory, bytes.
    pub ram_bytes: u64,
    /// Paged pool maximum for the release and RAM (peers §6), bytes.
    pub paged_limit_bytes: u64,
    /// Nonpaged pool maximum, bytes.
    pub nonpaged_limit_bytes: u64,
    /// Commit limit (RAM plus page files), bytes; poolmon's `Limit:`.
    pub commit_limit_bytes: u64,
    /// The resource whose exhaustion hangs this host (`commit`, `paged_pool`, `nonpaged_pool`), if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exhausted_resource: Option<String>,
    /// Pool bytes poolmon's `Pool P:` total holds beyond the sum of the Paged rows (constant).
    pub paged_overhead_bytes: u64,
    /// Same for `Pool N:` and the Nonp rows.
    pub nonpaged_overhead_bytes: u64,
    /// The boots inside the archive, in order.
    pub boots: Vec<BootTruth>,
    /// Tags that leak, with their generating rates (the same in every boot).
    pub leaks: Vec<LeakTruth>,
    /// Tags that rise and plateau after boot: caches, not leaks.
    pub non_leaks: Vec<NonLeakTruth>,
    /// The process, handle type and account that grow with the leak.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub responsible: Option<ResponsibleTruth>,
    /// Drivers and minifilters loaded that are not Windows' own (the driver inventory's non-Microsoft
    /// entries); empty when the host has none.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub third_party_drivers: Vec<DriverTruth>,
    /// The files written for this host, relative to the archive.
    pub files: Vec<FileTruth>,
}

/// A loaded driver that is not Windows' own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverTruth {
    /// Module name (`ctxscan`).
    pub name: String,
    /// Its company (`Contoso Security`).
    pub company: String,
    /// Its minifilter altitude, when it is a minifilter.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub altitude: Option<String>,
}

/// One boot of a host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootTruth {
    /// 1-based boot number within the archive.
    pub boot: u32,
    /// When the boot started (Kernel-General 12 `StartTime`), UTC.
    pub start: DateTime<Utc>,
    /// When it ended: the reset after a hang, the planned restart, or the archive's end.
    pub end: DateTime<Utc>,
    /// `hang`, `restart` or `archive_end`.
    pub ended_by: String,
    /// When the host stopped responding (the model hangs at exhaustion), UTC.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hang_at: Option<DateTime<Utc>>,
    /// When the modelled resource crossed its limit, UTC.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exhaustion_at: Option<DateTime<Utc>>,
    /// poolmon snapshots written during the boot.
    pub snapshots: u32,
    /// Time of the last snapshot written, UTC.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_snapshot_at: Option<DateTime<Utc>>,
    /// Paged pool total (`Pool P:` in bytes) at the boot's last model step.
    pub paged_pool_bytes_at_end: u64,
    /// Nonpaged pool total at the boot's last model step.
    pub nonpaged_pool_bytes_at_end: u64,
    /// Commit charge at the boot's last model step.
    pub commit_bytes_at_end: u64,
    /// System-wide handles at the boot's last model step.
    pub handles_at_end: u64,
    /// What each leak realised in this boot, at its last snapshot.
    pub realized: Vec<RealizedLeak>,
}

/// What a leak realised in one boot, read at the boot's last written snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealizedLeak {
    /// The tag.
    pub tag: String,
    /// `paged` or `nonpaged`.
    pub pool: String,
    /// Leaked allocations outstanding at the last snapshot.
    pub leaked_allocs: u64,
    /// Their bytes.
    pub leaked_bytes: u64,
    /// The tag's Bytes column at the last snapshot (leaked plus the tag's normal level).
    pub tag_bytes: u64,
    /// Hours the leak had been running at the last snapshot.
    pub leak_hours: f64,
}

/// A tag that leaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeakTruth {
    /// The tag (`Toke`).
    pub tag: String,
    /// `paged` or `nonpaged`.
    pub pool: String,
    /// Generating rate in bytes an hour (`allocs_per_hour * per_alloc_bytes`).
    pub bytes_per_hour: f64,
    /// Generating rate in leaked allocations an hour.
    pub allocs_per_hour: f64,
    /// Bytes per leaked allocation.
    pub per_alloc_bytes: u32,
    /// When the leak first starts (in the first boot that reaches it), UTC.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// Hours after each boot at which the leaking driver starts.
    pub starts_after_boot_hours: f64,
    /// The leaking driver.
    pub driver: String,
}

/// A tag that rises after boot and levels off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NonLeakTruth {
    /// The tag (`MmSt`).
    pub tag: String,
    /// `paged` or `nonpaged`.
    pub pool: String,
    /// `cache_plateau`.
    pub kind: String,
    /// Bytes it levels off at (its mean once warmed up).
    pub plateau_bytes: u64,
    /// Warm-up time constant, hours (95% of the rise is done after three of them).
    pub warmup_tau_hours: f64,
}

/// Who grows with the leak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsibleTruth {
    /// Image name (`lsass.exe`).
    pub process: String,
    /// Handle type (`Token`).
    pub handle_type: String,
    /// Account (`CONTOSO\svc-scan`).
    pub account: String,
    /// Generating rate of leaked handles an hour.
    pub handles_per_hour: f64,
}

/// One file of the archive, or a group of files named by a pattern (one file per snapshot or run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTruth {
    /// Path relative to the archive, `/`-separated; a group uses `*` for the time in the name
    /// (`handle-s-*.txt`).
    pub path: String,
    /// `poolmon`, `handle_summary`, `handle_dump`, `evtx`, `event_xml`, `wpa_pool`, `driverquery`,
    /// `driverquery_si` or `fltmc`.
    pub kind: String,
    /// Number of files (1 for a single file).
    pub files: u64,
    /// Records in them (snapshots, handle.exe runs, events, WPA table rows, drivers, devices or filters).
    pub records: u64,
    /// Total size in bytes.
    pub bytes: u64,
}
