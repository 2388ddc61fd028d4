//! Walking inputs, parsing them in parallel and grouping the records by host into a [`Dataset`].

pub mod hosts;
pub mod times;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::model::{Dataset, Diagnostic, Severity, TimeSettings};
use crate::parse::{self, Format, Parsed};

/// Options for reading an archive.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// How to read text times.
    pub time: TimeSettings,
    /// `--host`: the host for records that name none (overrides names guessed from paths).
    pub host: Option<String>,
    /// Force one input format instead of detecting it.
    pub format: Option<Format>,
    /// What reading may cost (per file and per run).
    pub limits: parse::ReadLimits,
}

/// Lists the files under the given paths (directories walked recursively, sorted for determinism). A .zip
/// archive, named or met in a folder, is listed in place: its member files (`x.zip!/dir/f.log`, see
/// [`parse::archive`]) take its place, under `limits`' archive limits. Paths that do not exist become error
/// diagnostics.
pub fn walk(paths: &[PathBuf], limits: &parse::ReadLimits, diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .follow_links(true)
                .into_iter()
                .filter_map(|entry| match entry {
                    Ok(e) if e.file_type().is_file() => Some(e.into_path()),
                    Ok(_) => None,
                    Err(e) => {
                        diagnostics.push(Diagnostic::for_file(
                            path.display().to_string(),
                            Severity::Error,
                            format!("cannot walk: {e}"),
                        ));
                        None
                    }
                })
                .filter(|p| !is_ignored(p))
                .collect();
            found.sort();
            for file in found {
                push_listed(file, limits, &mut files, diagnostics);
            }
        } else if path.is_file() {
            push_listed(path.clone(), limits, &mut files, diagnostics);
        } else {
            diagnostics.push(Diagnostic::for_file(
                path.display().to_string(),
                Severity::Error,
                "no such file or directory",
            ));
        }
    }
    files
}

/// Adds a file to the walk's list, or a zip archive's members in its place.
fn push_listed(file: PathBuf, limits: &parse::ReadLimits, files: &mut Vec<PathBuf>, diagnostics: &mut Vec<Diagnostic>) {
    if parse::archive::is_zip_path(&file) {
        files.extend(parse::archive::list(&file, limits, diagnostics).into_iter().filter(|m| !is_ignored(m)));
    } else {
        files.push(file);
    }
}

/// Files a walk skips: hidden files and poolscope's own outputs and ground truth.
fn is_ignored(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    name.starts_with('.') || name == "truth.json" || name.ends_with(".md") || name.ends_with(".html")
}

/// Reads every input in parallel and groups the records by host. `progress` is called once per file
/// parsed (from worker threads) so callers can draw a progress bar.
pub fn ingest(paths: &[PathBuf], options: &IngestOptions, progress: &(dyn Fn(&Path) + Sync)) -> Dataset {
    read_inputs(paths, options, progress, PoolRows::Keep).0
}

/// A file as the ingest read it, with what it takes to read it again the same way (its settled name time).
#[derive(Debug, Clone)]
pub struct ReadFile {
    /// The file on disk.
    pub path: PathBuf,
    /// The context it was parsed with.
    pub context: parse::FileContext,
    /// For a file [`survey_deferred`] did not parse: the host it belongs to ([`load_host`] reads it).
    pub deferred_host: Option<String>,
}

/// Like [`ingest`], except that pool snapshots keep no rows (their hosts, times, sources and headers are all
/// decided as [`ingest`] decides them); with every file read, to read the rows again one snapshot at a time.
/// This is how the streaming exports hold one snapshot of a multi-gigabyte poolmon log instead of all of it.
pub fn survey(
    paths: &[PathBuf],
    options: &IngestOptions,
    progress: &(dyn Fn(&Path) + Sync),
) -> (Dataset, Vec<ReadFile>) {
    read_inputs(paths, options, progress, PoolRows::Drop)
}

/// Like [`survey`], but poolmon and handle.exe files are not parsed at all: only their hosts are decided (from
/// their paths and the other files' records, which is all the decision uses of them); [`load_host`] reads them
/// when their host is analysed. Event logs and every other format are parsed as [`ingest`] does. Memory is then
/// that of the event records plus the hosts being loaded, not of the fleet.
pub fn survey_deferred(
    paths: &[PathBuf],
    options: &IngestOptions,
    progress: &(dyn Fn(&Path) + Sync),
) -> (Dataset, Vec<ReadFile>) {
    read_inputs(paths, options, progress, PoolRows::Defer)
}

/// The full records of one host of a [`survey_deferred`]: its deferred files parsed (rows and all), copied
/// modification times cleared and snapshots sorted as [`ingest`] does; with the diagnostics of those files.
pub fn load_host(
    host: &str,
    surveyed: &crate::model::HostData,
    files: &[ReadFile],
    format: Option<Format>,
) -> (crate::model::HostData, Vec<Diagnostic>) {
    let mut data = surveyed.clone();
    let mut diagnostics = Vec::new();
    for file in files.iter().filter(|f| f.deferred_host.as_deref() == Some(host)) {
        let parsed = parse::parse_file_in(&file.path, format, &file.context);
        for mut snap in parsed.pool_snapshots {
            snap.host = Some(host.to_owned());
            data.pool_snapshots.push(snap);
        }
        for mut snap in parsed.handle_snapshots {
            snap.host = Some(host.to_owned());
            data.handle_snapshots.push(snap);
        }
        data.events.extend(parsed.events);
        diagnostics.extend(parsed.diagnostics);
    }
    times::clear_copied_mtimes_of_host(host, &mut data, &mut diagnostics);
    sort_host(&mut data);
    // Not collapsed here: a warning every host's files give is said once over the run ([`collapse_repeats`]).
    (data, diagnostics)
}

/// Sorts a host's snapshots and events by time (then source), the order the analysis reads them in.
fn sort_host(host: &mut crate::model::HostData) {
    host.pool_snapshots.sort_by(|a, b| a.taken_at.cmp(&b.taken_at).then_with(|| a.source.cmp(&b.source)));
    host.handle_snapshots.sort_by(|a, b| a.taken_at.cmp(&b.taken_at).then_with(|| a.source.cmp(&b.source)));
    host.events.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.record_id.cmp(&b.record_id)));
}

/// What the ingest keeps of pool snapshots, and whether it reads poolmon and handle.exe files at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PoolRows {
    Keep,
    Drop,
    Defer,
}

/// Whether [`survey_deferred`] leaves a file for [`load_host`]: poolmon and handle.exe output, whose records never
/// name their host (by content, as the parse would tell it, or by the forced format).
fn deferrable(file: &Path, format: Option<Format>, limits: &parse::ReadLimits) -> bool {
    let format = format.or_else(|| Format::detect(&parse::head_of(file, limits).ok()?));
    matches!(format, Some(Format::Poolmon | Format::Handle))
}

/// Reads the inputs (see [`ingest`] and [`survey`]).
fn read_inputs(
    paths: &[PathBuf],
    options: &IngestOptions,
    progress: &(dyn Fn(&Path) + Sync),
    rows: PoolRows,
) -> (Dataset, Vec<ReadFile>) {
    let mut dataset = Dataset::default();
    let mut files: Vec<(Option<PathBuf>, PathBuf)> = Vec::new();
    for path in paths {
        // A zip named on the command line is walked like a folder: its inside (`x.zip!`) is the root.
        let root = if path.is_dir() {
            Some(path.clone())
        } else {
            parse::archive::is_zip_path(path).then(|| parse::archive::inside(path))
        };
        for file in walk(std::slice::from_ref(path), &options.limits, &mut dataset.diagnostics) {
            files.push((root.clone(), file));
        }
    }
    if let Some(refused) = over_run_limits(&files, &options.limits) {
        dataset.diagnostics.push(refused);
        return (dataset, Vec::new());
    }
    let name_times = times::name_times(&files, &options.time, &mut dataset.diagnostics);
    let (parsed, read): (Vec<(hosts::PathClues, Parsed)>, Vec<ReadFile>) = files
        .par_iter()
        .zip(name_times)
        .map(|((root, file), name_time)| {
            let mut ctx = parse::FileContext::for_path(file, options.time.clone(), options.host.clone());
            ctx.name_time = name_time;
            ctx.limits = options.limits;
            let mut deferred_host = None;
            let parsed = match rows {
                PoolRows::Drop => parse_without_pool_rows(file, options.format, &ctx),
                PoolRows::Defer if deferrable(file, options.format, &options.limits) => {
                    // Marked now, named once the hosts are decided.
                    deferred_host = Some(String::new());
                    Parsed::default()
                }
                PoolRows::Keep | PoolRows::Defer => parse::parse_file_in(file, options.format, &ctx),
            };
            progress(file);
            let read = ReadFile { path: file.clone(), context: ctx, deferred_host };
            ((hosts::path_clues(root.as_deref(), file), parsed), read)
        })
        .unzip();
    let mut parsed = parsed;
    hosts::settle_tool_folders(parsed.iter_mut().map(|(clues, _)| clues));
    let (file_hosts, host_diagnostics) = hosts::decide(&parsed, options.host.as_deref());
    let mut read = read;
    for (((_, parsed), file_host), file) in parsed.into_iter().zip(file_hosts).zip(&mut read) {
        if file.deferred_host.is_some() {
            dataset.hosts.entry(file_host.host.clone()).or_default();
            file.deferred_host = Some(file_host.host.clone());
        }
        add_parsed(&mut dataset, parsed, &file_host);
    }
    dataset.diagnostics.extend(host_diagnostics);
    times::clear_copied_mtimes(&mut dataset);
    dataset.diagnostics = collapse_repeats(std::mem::take(&mut dataset.diagnostics));
    dataset.hosts.values_mut().for_each(sort_host);
    let mut duplicate_notes = Vec::new();
    for (name, host) in &mut dataset.hosts {
        if let Some(note) = drop_duplicate_events(name, &mut host.events) {
            duplicate_notes.push(note);
        }
    }
    dataset.diagnostics.extend(duplicate_notes);
    (dataset, read)
}

/// Parses a file keeping its pool snapshots without their rows (streamed, so a long poolmon log is never held).
fn parse_without_pool_rows(file: &Path, format: Option<Format>, ctx: &parse::FileContext) -> Parsed {
    let mut pool = Vec::new();
    let mut parsed = parse::stream_file(file, format, ctx, &mut |mut s| {
        s.rows = Vec::new();
        pool.push(s);
    });
    for snapshot in &mut parsed.pool_snapshots {
        snapshot.rows = Vec::new();
    }
    pool.append(&mut parsed.pool_snapshots);
    parsed.pool_snapshots = pool;
    parsed
}

/// The error when a run would read more files or bytes than `--max-files` / `--max-total-size` allow: nothing
/// is read then (a half-read archive would give a silently partial answer).
fn over_run_limits(files: &[(Option<PathBuf>, PathBuf)], limits: &parse::ReadLimits) -> Option<Diagnostic> {
    let root =
        files.first().map(|(root, file)| root.as_ref().unwrap_or(file).display().to_string()).unwrap_or_default();
    if files.len() > limits.max_files {
        return Some(Diagnostic::for_file(
            root,
            Severity::Error,
            format!(
                "nothing read: the inputs hold {} files, more than the limit of {}; --max-files raises it",
                files.len(),
                limits.max_files
            ),
        ));
    }
    let total: u64 = files.iter().filter_map(|(_, f)| parse::input_len(f)).sum();
    (total > limits.max_total_bytes).then(|| {
        Diagnostic::for_file(
            root,
            Severity::Error,
            format!(
                "nothing read: the inputs hold {}, more than the limit of {}; --max-total-size raises it",
                crate::units::bytes(total as f64),
                crate::units::bytes(limits.max_total_bytes as f64)
            ),
        )
    })
}

/// Keeps one copy of each event record read from two forms of one log (System.evtx and its XML or CSV
/// export: same provider, event id, time and record id), so `events`, the analysis and the report count it
/// once; says so in one note per host naming the files.
fn drop_duplicate_events(host: &str, events: &mut Vec<crate::model::Event>) -> Option<Diagnostic> {
    let mut kept_from = std::collections::HashMap::new();
    let mut files = std::collections::BTreeSet::new();
    let mut dropped = 0usize;
    events.retain(|e| {
        let key = (e.provider.to_ascii_lowercase(), e.event_id, e.time, e.record_id);
        if let Some(first) = kept_from.get(&key) {
            dropped += 1;
            files.insert(String::clone(first));
            files.insert(e.source.path.clone());
            false
        } else {
            kept_from.insert(key, e.source.path.clone());
            true
        }
    });
    (dropped > 0).then(|| {
        let names: Vec<&str> = files.iter().map(String::as_str).collect();
        Diagnostic::for_file(
            "",
            Severity::Info,
            format!(
                "{host}: {dropped} event records were read twice (two forms of one log: {}); each is counted once",
                names.join(", ")
            ),
        )
    })
}

/// Files that must repeat a warning before it is said once with a count.
const REPEATS_TO_COLLAPSE: usize = 2;

/// Says a warning or note that many files gave alike (the same message without a line, such as "timestamps
/// carry no zone") once, at its first file, with how many other files gave it. Errors stay one per file.
pub fn collapse_repeats(diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut count: std::collections::HashMap<(Severity, String), usize> = std::collections::HashMap::new();
    let collapsible = |d: &Diagnostic| d.severity != Severity::Error && d.line.is_none() && d.offset.is_none();
    for d in diagnostics.iter().filter(|d| collapsible(d)) {
        *count.entry((d.severity, d.message.clone())).or_insert(0) += 1;
    }
    let mut said = std::collections::HashSet::new();
    diagnostics
        .into_iter()
        .filter_map(|mut d| {
            if !collapsible(&d) {
                return Some(d);
            }
            let key = (d.severity, d.message.clone());
            let n = count.get(&key).copied().unwrap_or(1);
            if n < REPEATS_TO_COLLAPSE {
                return Some(d);
            }
            if !said.insert(key) {
                return None;
            }
            d.message = format!("{} (and {} other files alike)", d.message, n - 1);
            Some(d)
        })
        .collect()
}

/// Adds one file's records to the dataset under the host decided for the file.
fn add_parsed(dataset: &mut Dataset, parsed: Parsed, file_host: &hosts::FileHost) {
    for mut snap in parsed.pool_snapshots {
        snap.host = Some(file_host.host.clone());
        dataset.hosts.entry(file_host.host.clone()).or_default().pool_snapshots.push(snap);
    }
    for mut snap in parsed.handle_snapshots {
        snap.host = Some(file_host.host.clone());
        dataset.hosts.entry(file_host.host.clone()).or_default().handle_snapshots.push(snap);
    }
    for mut limits in parsed.limits {
        limits.host = Some(file_host.host.clone());
        dataset.hosts.entry(file_host.host.clone()).or_default().debugger_limits.push(limits);
    }
    for event in parsed.events {
        // A forwarded-events log names several computers: each event goes to its own.
        let host = file_host.event_host(event.computer.as_deref()).to_owned();
        dataset.hosts.entry(host).or_default().events.push(event);
    }
    for mut series in parsed.perf_series {
        // A counter path names its machine like an event's Computer; a file may hold several.
        let host = file_host.event_host(series.host.as_deref()).to_owned();
        series.host = Some(host.clone());
        dataset.hosts.entry(host).or_default().perf_series.push(series);
    }
    for mut table in parsed.allocations {
        table.host = Some(file_host.host.clone());
        dataset.hosts.entry(file_host.host.clone()).or_default().allocations.push(table);
    }
    for mut listing in parsed.drivers {
        listing.host = Some(file_host.host.clone());
        dataset.hosts.entry(file_host.host.clone()).or_default().drivers.push(listing);
    }
    dataset.diagnostics.extend(parsed.diagnostics);
}
