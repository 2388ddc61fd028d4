//! Walking inputs, parsing them in parallel and grouping the records by host into a [`Dataset`].

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
}

/// Lists the files under the given paths (directories walked recursively, sorted for determinism).
/// Paths that do not exist become error diagnostics.
pub fn walk(paths: &[PathBuf], diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
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
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
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

/// Files a walk skips: hidden files and poolscope's own outputs and ground truth.
fn is_ignored(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    name.starts_with('.') || name == "truth.json" || name.ends_with(".md") || name.ends_with(".html")
}

/// Guesses a host name from a path: a folder or file name part that looks like a computer name is not
/// reliable, so only the parent folder of a file inside a walked directory is used, when it is not the
/// walked directory itself.
fn host_from_path(root: Option<&Path>, file: &Path) -> Option<String> {
    let root = root?;
    let rel = file.strip_prefix(root).ok()?;
    let mut parts = rel.components();
    let first = parts.next()?;
    // A file directly in the walked folder says nothing about its host.
    parts.next()?;
    Some(first.as_os_str().to_string_lossy().into_owned())
}

/// Reads every input in parallel and groups the records by host. `progress` is called once per file
/// parsed (from worker threads) so callers can draw a progress bar.
pub fn ingest(paths: &[PathBuf], options: &IngestOptions, progress: &(dyn Fn(&Path) + Sync)) -> Dataset {
    let mut dataset = Dataset::default();
    let mut files: Vec<(Option<PathBuf>, PathBuf)> = Vec::new();
    for path in paths {
        let root = path.is_dir().then(|| path.clone());
        for file in walk(std::slice::from_ref(path), &mut dataset.diagnostics) {
            files.push((root.clone(), file));
        }
    }
    let parsed: Vec<(Option<String>, Parsed)> = files
        .par_iter()
        .map(|(root, file)| {
            let parsed = parse::parse_file(file, options.format, &options.time, options.host.as_deref());
            progress(file);
            (host_from_path(root.as_deref(), file), parsed)
        })
        .collect();
    for (path_host, parsed) in parsed {
        add_parsed(&mut dataset, parsed, options.host.as_deref(), path_host.as_deref());
    }
    merge_unknown_host(&mut dataset);
    for host in dataset.hosts.values_mut() {
        host.pool_snapshots.sort_by(|a, b| a.taken_at.cmp(&b.taken_at).then_with(|| a.source.cmp(&b.source)));
        host.handle_snapshots.sort_by(|a, b| a.taken_at.cmp(&b.taken_at).then_with(|| a.source.cmp(&b.source)));
        host.events.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.record_id.cmp(&b.record_id)));
    }
    dataset
}

/// The host of a record: `--host`, else what the record names, else the path's folder, else `unknown`.
fn pick_host(forced: Option<&str>, record: Option<&str>, path_host: Option<&str>) -> String {
    forced.or(record).or(path_host).unwrap_or("unknown").to_owned()
}

/// Adds one file's records to the dataset under their hosts.
pub fn add_parsed(dataset: &mut Dataset, parsed: Parsed, forced_host: Option<&str>, path_host: Option<&str>) {
    // Events name their computer; a file's poolmon/handle snapshots follow the events' host when the
    // file itself names none (a per-host folder is the usual layout).
    for mut snap in parsed.pool_snapshots {
        let host = pick_host(forced_host, snap.host.as_deref(), path_host);
        snap.host = Some(host.clone());
        dataset.hosts.entry(host).or_default().pool_snapshots.push(snap);
    }
    for mut snap in parsed.handle_snapshots {
        let host = pick_host(forced_host, snap.host.as_deref(), path_host);
        snap.host = Some(host.clone());
        dataset.hosts.entry(host).or_default().handle_snapshots.push(snap);
    }
    for event in parsed.events {
        // `HOST.contoso.local` and the `HOST` of a folder name are the same machine.
        let computer = event.computer.as_deref().map(|c| c.split('.').next().unwrap_or(c));
        let host = pick_host(forced_host, path_host.or(computer), None);
        dataset.hosts.entry(host).or_default().events.push(event);
    }
    dataset.diagnostics.extend(parsed.diagnostics);
}

/// When records without a host sit beside the records of exactly one named host (poolmon files next
/// to that host's event log), they belong to it.
fn merge_unknown_host(dataset: &mut Dataset) {
    if dataset.hosts.len() == 2 {
        if let Some(unknown) = dataset.hosts.remove("unknown") {
            if let Some(host) = dataset.hosts.values_mut().next() {
                host.pool_snapshots.extend(unknown.pool_snapshots);
                host.handle_snapshots.extend(unknown.handle_snapshots);
                host.events.extend(unknown.events);
            }
        }
    }
}
