//! Times that come from around the files of an archive rather than from inside them (formats reference §1.4),
//! decided over the whole set of files, never one file at a time:
//!
//! - **Names.** A stamp in a file's name, else in the name of a folder it sits in (`2024-03-11_1014/poolmon.txt`;
//!   a folder stamp must carry a time of day, since a day folder holds many snapshots). The day/month order of
//!   ambiguous stamps (`05-03-2024_10.14`) is settled once over every name of the run ([`name_times`]), so a
//!   name that cannot say (`05-03`) is read like its neighbours that can (`13-03`); the zone warning is given
//!   once for the set.
//! - **Copied modification times.** A file's mtime dates a snapshot only when nothing better exists, and not at
//!   all when the files timed that way were all modified within seconds of each other although they hold
//!   separate captures of the same kind ([`clear_copied_mtimes`]): `cp`, unzip or a git checkout rewrote them,
//!   and rates over "0.00 h" would follow. Those snapshots then have no time, said once per host.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::model::{Dataset, Diagnostic, Severity, TimeSettings, TimeSource};
use crate::parse::timestamp::{convert_name_stamp, settle_name_order, stamp_in_file_name, RawStamp};
use crate::parse::NameTime;

/// Modification times of separate captures closer than this (over the whole set) are a copy's, not a
/// collection loop's: the fastest loops in formats reference §1.4 sample once a minute.
pub const COPY_SPREAD_SECONDS: i64 = 10;

/// A stamp found in a file's name or in one of its folders' names.
struct NameStamp {
    stamp: RawStamp,
    source: TimeSource,
}

/// The name stamp of one file: its own name's, else the innermost folder's (below the walked root; for a file
/// named on the command line, its parent folder) that carries a time of day.
fn name_stamp(root: Option<&Path>, file: &Path) -> Option<NameStamp> {
    let own = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if let Some(stamp) = stamp_in_file_name(&own) {
        return Some(NameStamp { stamp, source: TimeSource::FileName });
    }
    let parent = file.parent()?;
    let folders: Vec<String> = match root {
        Some(root) => {
            parent.strip_prefix(root).ok()?.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect()
        }
        None => parent.file_name().map(|n| vec![n.to_string_lossy().into_owned()]).unwrap_or_default(),
    };
    folders
        .iter()
        .rev()
        .filter_map(|folder| stamp_in_file_name(crate::parse::archive::folder_name(folder)))
        .find(|s| (s.hour, s.minute, s.second) != (0, 0, 0))
        .map(|stamp| NameStamp { stamp, source: TimeSource::FolderName })
}

/// The settled name time of every file (aligned with `files`, each `(walked root, file)`): one day/month order
/// over all names, each stamp converted with `--tz`, and one warning for the set when no zone was given.
pub fn name_times(
    files: &[(Option<PathBuf>, PathBuf)],
    settings: &TimeSettings,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<NameTime> {
    let stamps: Vec<Option<NameStamp>> = files.iter().map(|(root, file)| name_stamp(root.as_deref(), file)).collect();
    let raw: Vec<RawStamp> = stamps.iter().flatten().map(|s| s.stamp.clone()).collect();
    let label = files
        .iter()
        .zip(&stamps)
        .find(|(_, s)| s.is_some())
        .map(|((root, file), _)| root.as_deref().unwrap_or(file.as_path()).display().to_string())
        .unwrap_or_default();
    let order = settle_name_order(&raw, settings, &label, diagnostics);
    let mut local_read = false;
    let times = files
        .iter()
        .zip(stamps)
        .map(|((_, file), stamp)| {
            let Some(NameStamp { stamp, source }) = stamp else { return NameTime::Settled(None) };
            let path = file.display().to_string();
            let (time, local) = convert_name_stamp(&stamp, order, settings, &path, diagnostics);
            local_read |= local;
            NameTime::Settled(time.map(|t| (t, source)))
        })
        .collect();
    if local_read && !settings.tz_given {
        diagnostics.push(Diagnostic::for_file(
            label,
            Severity::Warning,
            "times in file and folder names carry no zone and no --tz was given: read as UTC (pass --tz with the \
             collecting machine's zone, an IANA name such as Europe/Berlin or a Windows name such as \
             \"W. Europe Standard Time\")",
        ));
    }
    times
}

/// What kind of capture a snapshot is, for telling a copy (two captures of one kind modified together) from a
/// collection that writes a summary and a dump within seconds of each other.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Capture {
    Pool,
    /// The handle.exe mode (as its debug name: the model's enum is not ordered) and the `-p` filter.
    Handle(String, Option<String>),
}

/// One file whose snapshots were timed by its modification time.
struct ModifiedFile {
    capture: Capture,
    modified: DateTime<Utc>,
}

/// Clears the times of snapshots dated by file modification times that a copy rewrote: per host and kind of
/// evidence (poolmon, handle.exe), when two or more files hold separate captures of the same kind and every
/// such file was modified within [`COPY_SPREAD_SECONDS`] of the others. One warning per host and kind says so.
pub fn clear_copied_mtimes(dataset: &mut Dataset) {
    let mut diagnostics = Vec::new();
    for (host, data) in &mut dataset.hosts {
        clear_copied_mtimes_of_host(host, data, &mut diagnostics);
    }
    dataset.diagnostics.extend(diagnostics);
}

/// [`clear_copied_mtimes`] for one host (its warnings pushed to `diagnostics`).
pub fn clear_copied_mtimes_of_host(host: &str, data: &mut crate::model::HostData, diagnostics: &mut Vec<Diagnostic>) {
    {
        let pool: Vec<(String, ModifiedFile)> = data
            .pool_snapshots
            .iter()
            .filter(|s| s.time_source == TimeSource::FileModified)
            .filter_map(|s| {
                Some((s.source.path.clone(), ModifiedFile { capture: Capture::Pool, modified: s.taken_at? }))
            })
            .collect();
        if let Some(message) = copied("poolmon", &pool) {
            for snap in data.pool_snapshots.iter_mut().filter(|s| s.time_source == TimeSource::FileModified) {
                (snap.taken_at, snap.time_source) = (None, TimeSource::Unknown);
            }
            diagnostics.push(Diagnostic::for_file(host, Severity::Warning, message));
        }
        let handle: Vec<(String, ModifiedFile)> = data
            .handle_snapshots
            .iter()
            .filter(|s| s.time_source == TimeSource::FileModified)
            .filter_map(|s| {
                let capture = Capture::Handle(format!("{:?}", s.mode), s.process_filter.clone());
                Some((s.source.path.clone(), ModifiedFile { capture, modified: s.taken_at? }))
            })
            .collect();
        if let Some(message) = copied("handle.exe", &handle) {
            for snap in data.handle_snapshots.iter_mut().filter(|s| s.time_source == TimeSource::FileModified) {
                (snap.taken_at, snap.time_source) = (None, TimeSource::Unknown);
            }
            diagnostics.push(Diagnostic::for_file(host, Severity::Warning, message));
        }
    }
}

/// The warning to give when `files` (path, capture, mtime; one entry per snapshot) look copied, else `None`.
fn copied(kind: &str, snapshots: &[(String, ModifiedFile)]) -> Option<String> {
    let mut files: BTreeMap<&str, &ModifiedFile> = BTreeMap::new();
    for (path, file) in snapshots {
        files.entry(path.as_str()).or_insert(file);
    }
    if files.len() < 2 {
        return None;
    }
    let mut captures: Vec<&Capture> = files.values().map(|f| &f.capture).collect();
    captures.sort();
    let repeated = captures.windows(2).any(|w| w[0] == w[1]);
    let first = files.values().map(|f| f.modified).min()?;
    let last = files.values().map(|f| f.modified).max()?;
    let spread = last - first;
    if !repeated || spread.num_seconds() >= COPY_SPREAD_SECONDS {
        return None;
    }
    Some(format!(
        "the {} {kind} files dated only by their modification time were all modified within {:.1} s of each other \
         (a copy, unzip or checkout rewrites modification times), so their snapshots have no time and give no rates; \
         a stamp in the file names (NAME_20240311-1014.txt), a timestamp line before each run, or --time gives them one",
        files.len(),
        spread.num_milliseconds() as f64 / 1000.0
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HandleMode, HandleSnapshot, HostData, PoolSnapshot, SourceRef};

    fn settle(paths: &[&str], settings: &TimeSettings) -> (Vec<Option<(String, TimeSource)>>, Vec<Diagnostic>) {
        let files: Vec<(Option<PathBuf>, PathBuf)> =
            paths.iter().map(|p| (Some(PathBuf::from("/case")), PathBuf::from(format!("/case/{p}")))).collect();
        let mut diagnostics = Vec::new();
        let times = name_times(&files, settings, &mut diagnostics)
            .into_iter()
            .map(|t| match t {
                NameTime::Settled(Some((t, source))) => Some((t.format("%Y-%m-%d %H:%M:%S").to_string(), source)),
                _ => None,
            })
            .collect();
        (times, diagnostics)
    }

    #[allow(clippy::unnecessary_wraps)] // compared with the Option the settling returns
    fn at(s: &str) -> Option<(String, TimeSource)> {
        Some((s.to_owned(), TimeSource::FileName))
    }

    #[test]
    fn every_stamp_pattern_in_names() {
        let cases = [
            ("lsass_20240311-1014.txt", "2024-03-11 10:14:00"),
            ("handles_20240311_101455.txt", "2024-03-11 10:14:55"),
            ("pool_20240311T101455Z.log", "2024-03-11 10:14:55"),
            ("poolmon_2024-03-11_10-14-55.log", "2024-03-11 10:14:55"),
            ("poolmon-2024-03-11T1014.txt", "2024-03-11 10:14:00"),
            ("snap.2024.03.11-10.14.55.txt", "2024-03-11 10:14:55"),
            ("WEB01_1710152095.txt", "2024-03-11 10:14:55"),
        ];
        for (name, want) in cases {
            let (times, _) = settle(&[name], &TimeSettings::default());
            assert_eq!(times, vec![at(want)], "{name}");
        }
    }

    #[test]
    fn day_month_order_is_settled_over_the_set_not_per_file() {
        // 05-03 alone could be either; 13-03 says day first, for every name.
        let (times, diagnostics) =
            settle(&["pool_05-03-2024_10.14.txt", "pool_13-03-2024_10.14.txt"], &TimeSettings::default());
        assert_eq!(times, vec![at("2024-03-05 10:14:00"), at("2024-03-13 10:14:00")]);
        assert!(!diagnostics.iter().any(|d| d.message.contains("day/month")), "{diagnostics:?}");
        // Month first, settled by 03-13.
        let (times, _) = settle(&["pool_03-05-2024_10.14.txt", "pool_03-13-2024_10.14.txt"], &TimeSettings::default());
        assert_eq!(times, vec![at("2024-03-05 10:14:00"), at("2024-03-13 10:14:00")]);
        // Nothing settles it: one warning for the set, not one per file.
        let (_, diagnostics) = settle(
            &["a_05-03-2024_10.14.txt", "b_06-03-2024_10.14.txt", "c_07-03-2024_10.14.txt"],
            &TimeSettings::default(),
        );
        assert_eq!(diagnostics.iter().filter(|d| d.message.contains("day/month")).count(), 1, "{diagnostics:?}");
    }

    #[test]
    fn poolmonscript_year_day_month_names_settle_over_the_set() {
        // PoolmonScript writes yyyy-dd-MM; 2024-25-03 can only be day first, and so is 2024-05-03.
        let (times, diagnostics) =
            settle(&["poolmon.2024-05-03-10-14-00.log", "poolmon.2024-25-03-10-14-00.log"], &TimeSettings::default());
        assert_eq!(times, vec![at("2024-03-05 10:14:00"), at("2024-03-25 10:14:00")]);
        assert!(!diagnostics.iter().any(|d| d.message.contains("day/month")), "{diagnostics:?}");
    }

    #[test]
    fn folder_stamps_date_files_without_their_own_and_day_folders_do_not() {
        let (times, _) = settle(
            &["2024-03-11_10-14-00/poolmon.txt", "2024-03-11/poolmon.txt", "WEB01/x_20240312-0900.txt"],
            &TimeSettings::default(),
        );
        assert_eq!(
            times,
            vec![Some(("2024-03-11 10:14:00".to_owned(), TimeSource::FolderName)), None, at("2024-03-12 09:00:00")]
        );
    }

    #[test]
    fn zone_warning_once_for_the_set_and_tz_applies() {
        let names = ["a_20240311-1014.txt", "b_20240311-1114.txt", "c_20240311-1214.txt"];
        let (_, diagnostics) = settle(&names, &TimeSettings::default());
        assert_eq!(diagnostics.iter().filter(|d| d.message.contains("no zone")).count(), 1, "{diagnostics:?}");
        let berlin = TimeSettings { tz: chrono_tz::Europe::Berlin, tz_given: true, ..TimeSettings::default() };
        let (times, diagnostics) = settle(&names[..1], &berlin);
        assert_eq!(times, vec![at("2024-03-11 09:14:00")]);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
    }

    fn handle_snap(path: &str, mode: HandleMode, modified: DateTime<Utc>) -> HandleSnapshot {
        HandleSnapshot {
            source: SourceRef::line(path, 1),
            taken_at: Some(modified),
            time_source: TimeSource::FileModified,
            mode,
            host: None,
            tool_version: None,
            process_filter: None,
            type_counts: std::collections::BTreeMap::new(),
            total_handles: None,
            processes: Vec::new(),
        }
    }

    fn t(ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp_millis(1_710_150_000_000 + ms).unwrap()
    }

    #[test]
    fn copied_dumps_lose_their_times_with_one_warning() {
        let mut dataset = Dataset::default();
        let host = dataset.hosts.entry("WEB01".to_owned()).or_insert_with(HostData::default);
        for (i, name) in ["a.txt", "b.txt", "c.txt"].iter().enumerate() {
            host.handle_snapshots.push(handle_snap(name, HandleMode::Dump, t(i as i64 * 3)));
        }
        clear_copied_mtimes(&mut dataset);
        let host = &dataset.hosts["WEB01"];
        assert!(host.handle_snapshots.iter().all(|s| s.taken_at.is_none() && s.time_source == TimeSource::Unknown));
        assert_eq!(dataset.diagnostics.len(), 1);
        assert!(dataset.diagnostics[0].message.contains("the 3 handle.exe files"), "{:?}", dataset.diagnostics);
    }

    #[test]
    fn a_summary_and_a_dump_written_together_keep_their_times() {
        let mut dataset = Dataset::default();
        let host = dataset.hosts.entry("WEB01".to_owned()).or_insert_with(HostData::default);
        host.handle_snapshots.push(handle_snap("s.txt", HandleMode::Summary, t(0)));
        host.handle_snapshots.push(handle_snap("a.txt", HandleMode::Dump, t(2_000)));
        clear_copied_mtimes(&mut dataset);
        assert!(dataset.hosts["WEB01"].handle_snapshots.iter().all(|s| s.taken_at.is_some()));
        assert!(dataset.diagnostics.is_empty());
    }

    #[test]
    fn mtimes_a_minute_apart_are_a_collection_and_stay() {
        let mut dataset = Dataset::default();
        let host = dataset.hosts.entry("WEB01".to_owned()).or_insert_with(HostData::default);
        for i in 0..3 {
            let mut snap = PoolSnapshot {
                source: SourceRef::line(format!("p{i}.txt"), 1),
                taken_at: Some(t(i * 60_000)),
                time_source: TimeSource::FileModified,
                host: None,
                header: crate::model::PoolHeader::default(),
                rows: Vec::new(),
            };
            snap.host = Some("WEB01".to_owned());
            host.pool_snapshots.push(snap);
        }
        clear_copied_mtimes(&mut dataset);
        assert!(dataset.hosts["WEB01"].pool_snapshots.iter().all(|s| s.taken_at.is_some()));
    }
}
