//! What each input file contributed: record counts, hosts, time range, where its times came from,
//! and its diagnostics. A report that does not say how times were found cannot be checked.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::model::{Dataset, Diagnostic, Severity, TimeSource};

/// One input file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputFile {
    /// Path as given or found while walking.
    pub path: String,
    /// Hosts its records were filed under.
    pub hosts: BTreeSet<String>,
    /// poolmon snapshots read.
    pub pool_snapshots: usize,
    /// handle.exe snapshots read.
    pub handle_snapshots: usize,
    /// Event-log records read.
    pub events: usize,
    /// WPA pool-table rows read (allocations with stacks; the table carries no times).
    pub allocation_rows: usize,
    /// Drivers, minifilters or signed devices a driver list named (it carries no times).
    pub drivers: usize,
    /// Where the snapshots' times came from.
    pub time_sources: BTreeSet<TimeSource>,
    /// Snapshots without any time.
    pub untimed: usize,
    /// Earliest record time.
    pub first: Option<DateTime<Utc>>,
    /// Latest record time.
    pub last: Option<DateTime<Utc>>,
    /// Error diagnostics about the file.
    pub errors: usize,
    /// Warning diagnostics about the file.
    pub warnings: usize,
}

impl InputFile {
    fn saw(&mut self, at: Option<DateTime<Utc>>) {
        if let Some(t) = at {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        } else {
            self.untimed += 1;
        }
    }

    /// What the file held, in words: `5,400 poolmon snapshots`, `12 events`.
    pub fn contents(&self) -> String {
        let mut parts = Vec::new();
        let mut add = |n: usize, one: &str, many: &str| {
            if n > 0 {
                parts.push(format!("{} {}", super::format::count(n as i64), if n == 1 { one } else { many }));
            }
        };
        add(self.pool_snapshots, "poolmon snapshot", "poolmon snapshots");
        add(self.handle_snapshots, "handle.exe snapshot", "handle.exe snapshots");
        add(self.events, "event", "events");
        add(self.allocation_rows, "WPA pool-table row", "WPA pool-table rows");
        add(self.drivers, "driver-list entry", "driver-list entries");
        if parts.is_empty() {
            "nothing usable".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// Words for a time source.
pub fn time_source_words(source: TimeSource) -> &'static str {
    match source {
        TimeSource::Record => "in the record",
        TimeSource::TimestampLine => "timestamp line before the snapshot",
        TimeSource::FileName => "file name",
        TimeSource::FolderName => "folder name",
        TimeSource::FileModified => "file modification time",
        TimeSource::Override => "--time",
        TimeSource::Unknown => "none found",
    }
}

fn entry<'m>(files: &'m mut BTreeMap<String, InputFile>, path: &str, host: &str) -> &'m mut InputFile {
    let f = files.entry(path.to_owned()).or_insert_with(|| InputFile { path: path.to_owned(), ..InputFile::default() });
    if !host.is_empty() {
        f.hosts.insert(host.to_owned());
    }
    f
}

/// Every input file with what it held, sorted by path; files known only from diagnostics (they yielded
/// nothing) are listed too.
pub fn summarise(dataset: &Dataset, diagnostics: &[Diagnostic]) -> Vec<InputFile> {
    let mut files = BTreeMap::new();
    add_records(&mut files, dataset);
    finish(files, diagnostics)
}

/// Adds what `dataset`'s records say of their files to `files` (by path): a fleet report adds each host's
/// records as it reads them, then calls [`finish`] once.
pub fn add_records(files: &mut BTreeMap<String, InputFile>, dataset: &Dataset) {
    for (host, data) in &dataset.hosts {
        for s in &data.pool_snapshots {
            let f = entry(files, &s.source.path, host);
            f.pool_snapshots += 1;
            f.time_sources.insert(s.time_source);
            f.saw(s.taken_at);
        }
        for s in &data.handle_snapshots {
            let f = entry(files, &s.source.path, host);
            f.handle_snapshots += 1;
            f.time_sources.insert(s.time_source);
            f.saw(s.taken_at);
        }
        for e in &data.events {
            let f = entry(files, &e.source.path, host);
            f.events += 1;
            f.time_sources.insert(TimeSource::Record);
            f.saw(Some(e.time));
        }
        for t in &data.allocations {
            entry(files, &t.source.path, host).allocation_rows += t.allocations.len();
        }
        for l in &data.drivers {
            entry(files, &l.source.path, host).drivers += l.drivers.len() + l.devices.len();
        }
    }
}

/// The files of [`add_records`] with their error and warning counts from `diagnostics` (each diagnostic
/// counted once), sorted by path.
pub fn finish(mut files: BTreeMap<String, InputFile>, diagnostics: &[Diagnostic]) -> Vec<InputFile> {
    for d in diagnostics.iter().filter(|d| !d.path.is_empty()) {
        let f = entry(&mut files, &d.path, "");
        match d.severity {
            Severity::Error => f.errors += 1,
            Severity::Warning => f.warnings += 1,
            Severity::Info => {}
        }
    }
    files.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, EventKind, HostData, PoolHeader, PoolSnapshot, SourceRef};
    use chrono::TimeZone;

    #[test]
    fn files_are_summarised_with_their_time_sources_and_diagnostics() {
        let t = Utc.with_ymd_and_hms(2020, 5, 19, 5, 0, 0).unwrap();
        let snap = |line, taken_at, time_source| PoolSnapshot {
            source: SourceRef::line("a/poolmon.log", line),
            host: None,
            taken_at,
            time_source,
            header: PoolHeader::default(),
            rows: Vec::new(),
        };
        let mut host = HostData::default();
        host.pool_snapshots.push(snap(1, Some(t), TimeSource::TimestampLine));
        host.pool_snapshots.push(snap(40, None, TimeSource::Unknown));
        host.events.push(Event {
            source: SourceRef::offset("a/System.evtx", 4096),
            provider: "EventLog".into(),
            event_id: 6005,
            level: None,
            time: t,
            computer: None,
            channel: None,
            record_id: None,
            data: crate::model::event::EventData::new(),
            message: None,
            kind: EventKind::Boot { start_time: None },
        });
        let mut dataset = Dataset::default();
        dataset.hosts.insert("SRV01".into(), host);
        let diags = vec![
            Diagnostic::at_line("a/poolmon.log", 40, Severity::Warning, "snapshot has no time"),
            Diagnostic::for_file("a/junk.bin", Severity::Error, "no known format"),
        ];
        let files = summarise(&dataset, &diags);
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].path, "a/System.evtx");
        assert_eq!(files[0].contents(), "1 event");
        assert_eq!(files[1].path, "a/junk.bin");
        assert_eq!((files[1].errors, files[1].contents().as_str()), (1, "nothing usable"));
        let poolmon = &files[2];
        assert_eq!((poolmon.pool_snapshots, poolmon.untimed, poolmon.warnings), (2, 1, 1));
        assert!(poolmon.time_sources.contains(&TimeSource::TimestampLine));
        assert_eq!(poolmon.first, Some(t));
    }
}
