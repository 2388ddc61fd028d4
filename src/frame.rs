//! [`Dataset`] → polars [`DataFrame`]s: long ("tidy") tables of pool samples, handle samples and events.
//!
//! These tables are what `poolscope parse --format csv|parquet` writes and what the analysis joins on
//! time (`join_asof`, ANALYSIS.md §5). Column names are the `*` constants below, so a script, the
//! exporters and the analysis agree on them. Times are UTC, stored as naive `Datetime[ms]` (polars
//! needs its `timezones` feature to print zoned times; the zone is always UTC here, see the module docs
//! of [`crate::model::time`]).

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use polars::prelude::*;

use crate::error::{Error, Result};
use crate::model::{Dataset, EventKind, HostData, ObjectIdentity, PoolSnapshot};

/// Host name (`unknown` when no host could be told).
pub const HOST: &str = "host";
/// Boot number within the host, from 0 (null when boots were not computed).
pub const BOOT: &str = "boot";
/// Sample or event time, UTC (null when the snapshot had no time).
pub const TIME: &str = "time";
/// Pool tag, 4 characters, spaces kept.
pub const TAG: &str = "tag";
/// Pool type: `paged` or `nonpaged`.
pub const POOL: &str = "pool";
/// Cumulative allocations (as read; 32-bit counters wrap).
pub const ALLOCS: &str = "allocs";
/// Cumulative frees (as read).
pub const FREES: &str = "frees";
/// Outstanding allocations (`allocs - frees`).
pub const DIFF: &str = "diff";
/// Bytes allocated under the tag.
pub const BYTES: &str = "bytes";
/// Bytes per outstanding allocation, as poolmon prints it.
pub const PER_ALLOC: &str = "per_alloc";
/// `Mapped_Driver` text, when present.
pub const DRIVER: &str = "driver";
/// Input file the record came from.
pub const SOURCE_PATH: &str = "source_path";
/// 1-based line of the record in its file (text formats).
pub const SOURCE_LINE: &str = "source_line";
/// Byte offset of the record in its file (binary formats).
pub const SOURCE_OFFSET: &str = "source_offset";
/// Process image name (`lsass.exe`), or `(system)` for a system-wide `-s` summary.
pub const PROCESS: &str = "process";
/// Process id (null for summaries).
pub const PID: &str = "pid";
/// Handle (object) type name (`Token`, `File`).
pub const HANDLE_TYPE: &str = "handle_type";
/// Account of a Token handle (`CONTOSO\svc-scan`), from `DOMAIN\user:luid` names.
pub const ACCOUNT: &str = "account";
/// Path prefix of a File or Key handle (first three path components).
pub const NAME_PREFIX: &str = "name_prefix";
/// Number of handles.
pub const COUNT: &str = "count";
/// Event provider.
pub const PROVIDER: &str = "provider";
/// Event id.
pub const EVENT_ID: &str = "event_id";
/// Typed meaning of an event (`resource_exhaustion`, `pool_empty`, `boot`, `uptime`, `shutdown`, `crash`, `other`).
pub const KIND: &str = "kind";
/// Event level (1 critical .. 4 information).
pub const LEVEL: &str = "level";
/// `EventRecordID`.
pub const RECORD_ID: &str = "record_id";

/// Process name used for system-wide handle counts (a `-s` summary without `-p`).
pub const SYSTEM_PROCESS: &str = "(system)";

fn frame_err(e: &PolarsError) -> Error {
    Error::Frame(e.to_string())
}

/// Milliseconds since the epoch, the physical value of a `Datetime[ms]` column.
fn millis(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp_millis())
}

/// A naive (UTC) `Datetime[ms]` column from epoch milliseconds.
pub fn time_column(name: &str, values: &[Option<i64>]) -> Column {
    Int64Chunked::new(name.into(), values).into_datetime(TimeUnit::Milliseconds, None).into_column()
}

/// The `snake_case` name of an event's kind (as in JSON).
pub fn event_kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::ResourceExhaustion(_) => "resource_exhaustion",
        EventKind::PoolEmpty { .. } => "pool_empty",
        EventKind::Boot { .. } => "boot",
        EventKind::Uptime { .. } => "uptime",
        EventKind::Shutdown { .. } => "shutdown",
        EventKind::Crash { .. } => "crash",
        EventKind::Other => "other",
    }
}

/// The pool samples, one row per (snapshot, tag, pool type); `boot` is null (see [`pool_rows_frame_with_boots`]).
pub fn pool_rows_frame(dataset: &Dataset) -> Result<DataFrame> {
    pool_rows_frame_with_boots(dataset, &|_, _| None)
}

/// Gives the boot of a sample from its host and time.
pub type BootOf<'a> = &'a dyn Fn(&str, Option<DateTime<Utc>>) -> Option<u32>;

/// The pool samples with a boot number from `boot_of(host, time)` (the analysis' boot split).
pub fn pool_rows_frame_with_boots(dataset: &Dataset, boot_of: BootOf<'_>) -> Result<DataFrame> {
    let snapshots: Vec<(&str, &PoolSnapshot)> = dataset
        .hosts
        .iter()
        .flat_map(|(name, data)| data.pool_snapshots.iter().map(move |s| (name.as_str(), s)))
        .collect();
    pool_snapshots_frame(&snapshots, boot_of)
}

/// The pool-samples table of some snapshots, each with its host (the streaming Parquet export writes one such
/// frame per row group).
pub fn pool_snapshots_frame(snapshots: &[(&str, &PoolSnapshot)], boot_of: BootOf<'_>) -> Result<DataFrame> {
    let n: usize = snapshots.iter().map(|(_, s)| s.rows.len()).sum();
    let mut host = Vec::with_capacity(n);
    let mut boot = Vec::with_capacity(n);
    let mut time = Vec::with_capacity(n);
    let mut tag = Vec::with_capacity(n);
    let mut pool = Vec::with_capacity(n);
    let mut allocs = Vec::with_capacity(n);
    let mut frees = Vec::with_capacity(n);
    let mut diff = Vec::with_capacity(n);
    let mut bytes = Vec::with_capacity(n);
    let mut per_alloc = Vec::with_capacity(n);
    let mut driver = Vec::with_capacity(n);
    let mut path = Vec::with_capacity(n);
    let mut line = Vec::with_capacity(n);
    for &(name, snap) in snapshots {
        let b = boot_of(name, snap.taken_at);
        let t = millis(snap.taken_at);
        for row in &snap.rows {
            host.push(name);
            boot.push(b);
            time.push(t);
            tag.push(row.tag.as_str());
            pool.push(row.pool.as_str());
            allocs.push(row.allocs);
            frees.push(row.frees);
            diff.push(row.diff);
            bytes.push(row.bytes);
            per_alloc.push(row.per_alloc);
            driver.push(row.driver.as_deref());
            path.push(snap.source.path.as_str());
            line.push(snap.source.line);
        }
    }
    DataFrame::new(
        n,
        vec![
            Column::new(HOST.into(), host),
            Column::new(BOOT.into(), boot),
            time_column(TIME, &time),
            Column::new(TAG.into(), tag),
            Column::new(POOL.into(), pool),
            Column::new(ALLOCS.into(), allocs),
            Column::new(FREES.into(), frees),
            Column::new(DIFF.into(), diff),
            Column::new(BYTES.into(), bytes),
            Column::new(PER_ALLOC.into(), per_alloc),
            Column::new(DRIVER.into(), driver),
            Column::new(SOURCE_PATH.into(), path),
            Column::new(SOURCE_LINE.into(), line),
        ],
    )
    .map_err(|e| frame_err(&e))
}

/// The first `depth` components of a `\`-separated path, for grouping File and Key handles
/// (`\REGISTRY\MACHINE\SOFTWARE\...` → `\REGISTRY\MACHINE\SOFTWARE`; ANALYSIS.md §5).
pub fn path_prefix(path: &str, depth: usize) -> String {
    let mut out = String::new();
    let mut parts = 0;
    for (i, part) in path.split('\\').enumerate() {
        if i > 0 {
            out.push('\\');
        }
        out.push_str(part);
        if !part.is_empty() {
            parts += 1;
            if parts >= depth {
                break;
            }
        }
    }
    out
}

/// One handle count: who holds how many handles of a type (and account or path prefix) at one time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HandleCount {
    /// Host.
    pub host: String,
    /// Snapshot time.
    pub time: Option<DateTime<Utc>>,
    /// Process image name, or [`SYSTEM_PROCESS`] / the `-p` filter for summaries.
    pub process: String,
    /// Process id (none for summaries).
    pub pid: Option<u32>,
    /// Handle type.
    pub handle_type: String,
    /// Token account, when the handles are Token handles with `DOMAIN\user:luid` names.
    pub account: Option<String>,
    /// File/Key path prefix.
    pub name_prefix: Option<String>,
    /// Number of handles.
    pub count: u64,
    /// Input file.
    pub source_path: String,
    /// Line of the snapshot in the file.
    pub source_line: Option<u64>,
}

/// Counts handles per (snapshot, process, pid, type, account or path prefix), for every host.
/// Summaries (`-s`) give one row per type under [`SYSTEM_PROCESS`] (or the `-p` filter's text).
pub fn handle_counts(dataset: &Dataset) -> Vec<HandleCount> {
    dataset.hosts.iter().flat_map(|(name, data)| host_handle_counts(name, data)).collect()
}

/// [`handle_counts`] for one host.
pub fn host_handle_counts(name: &str, data: &HostData) -> Vec<HandleCount> {
    let mut out = Vec::new();
    for snap in &data.handle_snapshots {
        let base = |process: String, pid, handle_type: String, count| HandleCount {
            host: name.to_owned(),
            time: snap.taken_at,
            process,
            pid,
            handle_type,
            account: None,
            name_prefix: None,
            count,
            source_path: snap.source.path.clone(),
            source_line: snap.source.line,
        };
        let scope = snap.process_filter.clone().unwrap_or_else(|| SYSTEM_PROCESS.to_owned());
        for (handle_type, count) in &snap.type_counts {
            out.push(base(scope.clone(), None, handle_type.clone(), *count));
        }
        for proc in &snap.processes {
            let mut groups: std::collections::BTreeMap<(&str, Option<String>, Option<String>), u64> =
                std::collections::BTreeMap::new();
            for h in &proc.handles {
                let (account, prefix) = match &h.identity {
                    Some(ObjectIdentity::Token { account, .. }) => (Some(account.clone()), None),
                    Some(ObjectIdentity::File { path } | ObjectIdentity::Key { path }) => {
                        (None, Some(path_prefix(path, 3)))
                    }
                    _ => (None, None),
                };
                *groups.entry((h.handle_type.as_str(), account, prefix)).or_default() += 1;
            }
            for ((handle_type, account, prefix), count) in groups {
                let mut row = base(proc.name.clone(), Some(proc.pid), handle_type.to_owned(), count);
                row.account = account;
                row.name_prefix = prefix;
                out.push(row);
            }
        }
    }
    out
}

/// The handle samples: one row per [`HandleCount`].
pub fn handle_rows_frame(dataset: &Dataset) -> Result<DataFrame> {
    let rows = handle_counts(dataset);
    let n = rows.len();
    DataFrame::new(
        n,
        vec![
            Column::new(HOST.into(), rows.iter().map(|r| r.host.as_str()).collect::<Vec<_>>()),
            time_column(TIME, &rows.iter().map(|r| millis(r.time)).collect::<Vec<_>>()),
            Column::new(PROCESS.into(), rows.iter().map(|r| r.process.as_str()).collect::<Vec<_>>()),
            Column::new(PID.into(), rows.iter().map(|r| r.pid).collect::<Vec<_>>()),
            Column::new(HANDLE_TYPE.into(), rows.iter().map(|r| r.handle_type.as_str()).collect::<Vec<_>>()),
            Column::new(ACCOUNT.into(), rows.iter().map(|r| r.account.as_deref()).collect::<Vec<_>>()),
            Column::new(NAME_PREFIX.into(), rows.iter().map(|r| r.name_prefix.as_deref()).collect::<Vec<_>>()),
            Column::new(COUNT.into(), rows.iter().map(|r| r.count).collect::<Vec<_>>()),
            Column::new(SOURCE_PATH.into(), rows.iter().map(|r| r.source_path.as_str()).collect::<Vec<_>>()),
            Column::new(SOURCE_LINE.into(), rows.iter().map(|r| r.source_line).collect::<Vec<_>>()),
        ],
    )
    .map_err(|e| frame_err(&e))
}

/// The events: one row per event-log record.
pub fn events_frame(dataset: &Dataset) -> Result<DataFrame> {
    let events: Vec<(&str, &crate::model::Event)> =
        dataset.hosts.iter().flat_map(|(h, d)| d.events.iter().map(move |e| (h.as_str(), e))).collect();
    let n = events.len();
    DataFrame::new(
        n,
        vec![
            Column::new(HOST.into(), events.iter().map(|(h, _)| *h).collect::<Vec<_>>()),
            time_column(TIME, &events.iter().map(|(_, e)| Some(e.time.timestamp_millis())).collect::<Vec<_>>()),
            Column::new(PROVIDER.into(), events.iter().map(|(_, e)| e.provider.as_str()).collect::<Vec<_>>()),
            Column::new(EVENT_ID.into(), events.iter().map(|(_, e)| e.event_id).collect::<Vec<_>>()),
            Column::new(KIND.into(), events.iter().map(|(_, e)| event_kind_name(&e.kind)).collect::<Vec<_>>()),
            Column::new(LEVEL.into(), events.iter().map(|(_, e)| e.level.map(u32::from)).collect::<Vec<_>>()),
            Column::new(RECORD_ID.into(), events.iter().map(|(_, e)| e.record_id).collect::<Vec<_>>()),
            Column::new(SOURCE_PATH.into(), events.iter().map(|(_, e)| e.source.path.as_str()).collect::<Vec<_>>()),
            Column::new(SOURCE_LINE.into(), events.iter().map(|(_, e)| e.source.line).collect::<Vec<_>>()),
            Column::new(SOURCE_OFFSET.into(), events.iter().map(|(_, e)| e.source.offset).collect::<Vec<_>>()),
        ],
    )
    .map_err(|e| frame_err(&e))
}

/// How CSV tables write times: RFC 3339 in UTC with milliseconds.
pub const CSV_DATETIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// Writes a frame as CSV with a header row; times as RFC 3339 UTC (`2020-05-22T22:35:55.000Z`).
pub fn write_csv(df: &mut DataFrame, writer: &mut impl Write) -> Result<()> {
    CsvWriter::new(writer)
        .include_header(true)
        .with_datetime_format(Some(CSV_DATETIME_FORMAT.into()))
        .finish(df)
        .map_err(|e| Error::Output { context: "csv".into(), message: e.to_string() })
}

/// Writes a frame as a Parquet file (zstd), atomically: a temporary file renamed into place.
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<()> {
    let mut buf = Vec::new();
    // polars' default compression is zstd.
    ParquetWriter::new(&mut buf)
        .finish(df)
        .map_err(|e| Error::Output { context: path.display().to_string(), message: e.to_string() })?;
    crate::output::write_atomic(path, &buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Event, HandleEntry, HandleSnapshot, HostData, PoolHeader, PoolRow, PoolSnapshot, PoolType, ProcessHandles,
        SourceRef, TimeSource,
    };
    use chrono::TimeZone;

    fn dataset() -> Dataset {
        let t0 = Utc.with_ymd_and_hms(2020, 5, 22, 10, 0, 0).unwrap();
        let row = |tag: &str, pool, bytes| PoolRow {
            tag: tag.into(),
            pool,
            allocs: 10,
            frees: 4,
            diff: 6,
            bytes,
            per_alloc: bytes / 6,
            driver: None,
        };
        let snap = PoolSnapshot {
            source: SourceRef::line("p.log", 3),
            host: Some("web1".into()),
            taken_at: Some(t0),
            time_source: TimeSource::TimestampLine,
            header: PoolHeader::default(),
            rows: vec![row("Toke", PoolType::Paged, 9984), row("Key ", PoolType::Paged, 600)],
        };
        let handle = |name: &str, identity| HandleEntry {
            value: 4,
            handle_type: "Token".into(),
            share: None,
            name: name.into(),
            identity: Some(identity),
        };
        let token = |acct: &str| ObjectIdentity::Token { account: acct.into(), luid: "3e7".into() };
        let hsnap = HandleSnapshot {
            source: SourceRef::line("h.txt", 1),
            host: Some("web1".into()),
            taken_at: Some(t0),
            time_source: TimeSource::TimestampLine,
            tool_version: None,
            mode: crate::model::handles::HandleMode::Dump,
            process_filter: None,
            type_counts: std::collections::BTreeMap::from([("Token".to_owned(), 7)]),
            total_handles: None,
            processes: vec![ProcessHandles {
                name: "lsass.exe".into(),
                pid: 612,
                owner: None,
                handles: vec![
                    handle("CONTOSO\\svc:3e7", token("CONTOSO\\svc")),
                    handle("CONTOSO\\svc:3e8", token("CONTOSO\\svc")),
                    handle("NT AUTHORITY\\SYSTEM:3e7", token("NT AUTHORITY\\SYSTEM")),
                ],
            }],
        };
        let event = Event {
            source: SourceRef::offset("s.evtx", 0x1000),
            provider: "EventLog".into(),
            event_id: 6005,
            level: Some(4),
            time: t0,
            computer: None,
            channel: None,
            record_id: Some(1),
            data: crate::model::event::EventData::new(),
            message: None,
            kind: EventKind::Boot { start_time: None },
        };
        let mut ds = Dataset::default();
        ds.hosts.insert(
            "web1".into(),
            HostData {
                pool_snapshots: vec![snap],
                handle_snapshots: vec![hsnap],
                events: vec![event],
                ..HostData::default()
            },
        );
        ds
    }

    #[test]
    fn pool_rows_are_long_form_with_one_row_per_tag_and_pool() {
        let df = pool_rows_frame(&dataset()).unwrap();
        assert_eq!(df.height(), 2);
        assert_eq!(df.column(TAG).unwrap().str().unwrap().get(1), Some("Key "));
        assert_eq!(df.column(BYTES).unwrap().u64().unwrap().get(0), Some(9984));
        assert_eq!(df.column(BOOT).unwrap().null_count(), 2);
        assert!(matches!(df.column(TIME).unwrap().dtype(), DataType::Datetime(TimeUnit::Milliseconds, None)));
    }

    #[test]
    fn token_handles_are_counted_per_account() {
        let rows = handle_counts(&dataset());
        let summary: Vec<_> = rows.iter().filter(|r| r.process == SYSTEM_PROCESS).collect();
        assert_eq!(summary.len(), 1);
        assert_eq!(summary[0].count, 7);
        let svc = rows.iter().find(|r| r.account.as_deref() == Some("CONTOSO\\svc")).unwrap();
        assert_eq!((svc.process.as_str(), svc.pid, svc.count), ("lsass.exe", Some(612), 2));
        assert_eq!(handle_rows_frame(&dataset()).unwrap().height(), 3);
    }

    #[test]
    fn path_prefix_keeps_three_components() {
        assert_eq!(path_prefix("\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor\\Key", 3), "\\REGISTRY\\MACHINE\\SOFTWARE");
        assert_eq!(path_prefix("C:\\Windows\\System32\\drivers\\etc", 3), "C:\\Windows\\System32");
        assert_eq!(path_prefix("short", 3), "short");
    }

    #[test]
    fn csv_has_header_and_rfc3339_times() {
        let mut df = pool_rows_frame(&dataset()).unwrap();
        let mut out = Vec::new();
        write_csv(&mut df, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "host,boot,time,tag,pool,allocs,frees,diff,bytes,per_alloc,driver,source_path,source_line"
        );
        assert_eq!(lines.next().unwrap(), "web1,,2020-05-22T10:00:00.000Z,Toke,paged,10,4,6,9984,1664,,p.log,3");
    }

    #[test]
    fn parquet_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.parquet");
        let mut df = events_frame(&dataset()).unwrap();
        write_parquet(&mut df, &path).unwrap();
        let back = ParquetReader::new(std::fs::File::open(&path).unwrap()).finish().unwrap();
        assert_eq!(back.height(), 1);
        assert_eq!(back.column(KIND).unwrap().str().unwrap().get(0), Some("boot"));
        assert_eq!(back.column(SOURCE_OFFSET).unwrap().u64().unwrap().get(0), Some(0x1000));
    }
}
