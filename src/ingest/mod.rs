//! Walking inputs, parsing them in parallel and grouping the records by host into a [`Dataset`].

pub mod hosts;

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
    let parsed: Vec<(hosts::PathClues, Parsed)> = files
        .par_iter()
        .map(|(root, file)| {
            let parsed = parse::parse_file(file, options.format, &options.time, options.host.as_deref());
            progress(file);
            (hosts::path_clues(root.as_deref(), file), parsed)
        })
        .collect();
    let (file_hosts, host_diagnostics) = hosts::decide(&parsed, options.host.as_deref());
    for ((_, parsed), file_host) in parsed.into_iter().zip(file_hosts) {
        add_parsed(&mut dataset, parsed, &file_host);
    }
    dataset.diagnostics.extend(host_diagnostics);
    for host in dataset.hosts.values_mut() {
        host.pool_snapshots.sort_by(|a, b| a.taken_at.cmp(&b.taken_at).then_with(|| a.source.cmp(&b.source)));
        host.handle_snapshots.sort_by(|a, b| a.taken_at.cmp(&b.taken_at).then_with(|| a.source.cmp(&b.source)));
        host.events.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.record_id.cmp(&b.record_id)));
    }
    dataset
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
    for event in parsed.events {
        // A forwarded-events log names several computers: each event goes to its own.
        let host = file_host.event_host(event.computer.as_deref()).to_owned();
        dataset.hosts.entry(host).or_default().events.push(event);
    }
    dataset.diagnostics.extend(parsed.diagnostics);
}
