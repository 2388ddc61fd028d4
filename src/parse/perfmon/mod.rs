//! perfmon counter logs as `relog -f csv|tsv` and Performance Monitor's "Save as CSV" write them (reference
//! peers.md §2.6): a PDH header row naming the zone, `\\HOST\Object(Instance)\Counter` columns, one row per
//! sample in the collecting machine's local time, blank or `" "` cells for missing samples.
//!
//! Only the counters a pool leak hunt needs are kept ([`names`]); the rest are counted in one info
//! diagnostic. Duplicate process instances (`svchost#1`, renumbered when a process exits) are re-identified
//! through their `ID Process` column in the same row.

pub mod header;
pub mod names;
pub mod path;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};

use self::header::{pdh_header, FileZone};
use self::names::{Counter, Object};
use crate::model::{Diagnostic, PerfSample, PerfSeries, ProcessCounters, Severity, SourceRef};
use crate::parse::FileContext;

/// At most this many bad rows are reported one by one per file; the rest are counted.
const ROW_ERRORS_SHOWN: usize = 50;

/// Whether decoded text starts like a PDH log (its first cell names `PDH-CSV` or `PDH-TSV`).
pub fn looks_like(text: &str) -> bool {
    let first = text.trim_start_matches('\u{feff}').lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    first.contains("(PDH-CSV ") || first.contains("(PDH-TSV ")
}

/// What one column holds.
#[derive(Debug, Clone)]
enum Column {
    /// A counter poolscope reads: the host index, the process instance (for Process counters) and which.
    Used { host: usize, instance: Option<String>, object: Object, counter: Counter },
    /// Anything else.
    Ignored,
}

/// The counters of one process instance in one row, before it is named.
#[derive(Debug, Default)]
struct InstanceCells {
    pid: Option<u64>,
    handles: Option<u64>,
    paged: Option<u64>,
    nonpaged: Option<u64>,
}

/// Parses a perfmon CSV or TSV log. Never panics; rows that do not parse are diagnostics, the rest is kept.
pub fn parse(text: &str, ctx: &FileContext) -> (Vec<PerfSeries>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let tab = first.contains("PDH-TSV") || (first.contains('\t') && !first.contains("\",\""));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(if tab { b'\t' } else { b',' })
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let Some(Ok(head)) = records.next() else {
        diagnostics.push(Diagnostic::for_file(&ctx.path, Severity::Error, "perfmon log without a header row"));
        return (Vec::new(), diagnostics);
    };
    // csv counts lines from 0 at a record's start here; diagnostics count from 1.
    let head_line = head.position().map_or(1, |p| p.line() + 1);
    let Some(pdh) = head.get(0).and_then(pdh_header) else {
        diagnostics.push(Diagnostic::at_line(
            &ctx.path,
            head_line,
            Severity::Error,
            "perfmon log: the first cell is not a PDH header such as \"(PDH-CSV 4.0) (zone)(bias)\"",
        ));
        return (Vec::new(), diagnostics);
    };
    let zone = FileZone::choose(&pdh, &ctx.time, &ctx.path, &mut diagnostics);
    let (hosts, columns, ignored) = read_columns(&head);
    if ignored.0 > 0 {
        diagnostics.push(Diagnostic::at_line(
            &ctx.path,
            head_line,
            Severity::Info,
            format!("{} perfmon counter(s) not used by poolscope were ignored (first: {})", ignored.0, ignored.1),
        ));
    }
    let mut series: Vec<PerfSeries> = hosts
        .iter()
        .map(|h| PerfSeries {
            source: SourceRef::line(&ctx.path, head_line),
            host: (!h.is_empty()).then(|| h.clone()),
            samples: Vec::new(),
        })
        .collect();
    let mut errors = 0usize;
    let mut adjusted = 0usize;
    let mut prev: Option<DateTime<Utc>> = None;
    for record in records {
        let (line, row) = match record {
            Ok(r) => (r.position().map_or(0, |p| p.line() + 1), r),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() + 1);
                report(&mut diagnostics, &mut errors, &ctx.path, line, format!("unreadable perfmon row: {e}"));
                continue;
            }
        };
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell0 = row.get(0).unwrap_or("").trim();
        let Some(local) = sample_time(cell0) else {
            let shown: String = cell0.chars().take(40).collect();
            report(&mut diagnostics, &mut errors, &ctx.path, line, format!("perfmon row time \"{shown}\" not read"));
            continue;
        };
        let (time, odd) = zone.to_utc(local, prev);
        adjusted += usize::from(odd);
        prev = Some(time);
        let mut bad = Vec::new();
        let mut samples: Vec<PerfSample> = series.iter().map(|_| empty_sample(time, line)).collect();
        let mut cells: Vec<BTreeMap<String, InstanceCells>> = series.iter().map(|_| BTreeMap::new()).collect();
        for (i, column) in columns.iter().enumerate() {
            let Column::Used { host, instance, object, counter } = column else { continue };
            let Some(value) = row.get(i + 1).and_then(|c| value(c, &mut bad, i + 1)) else { continue };
            fill(&mut samples[*host], &mut cells[*host], instance.as_deref(), *object, *counter, value);
        }
        if let Some((column, cell)) = bad.first() {
            report(
                &mut diagnostics,
                &mut errors,
                &ctx.path,
                line,
                format!("{} perfmon cell(s) are not numbers and were skipped (column {column}: \"{cell}\")", bad.len()),
            );
        }
        for ((mut sample, cells), s) in samples.into_iter().zip(cells).zip(series.iter_mut()) {
            sample.processes = name_instances(cells);
            if has_values(&sample) {
                s.samples.push(sample);
            }
        }
    }
    if errors > ROW_ERRORS_SHOWN {
        diagnostics.push(Diagnostic::for_file(
            &ctx.path,
            Severity::Error,
            format!("{} more bad perfmon rows not shown", errors - ROW_ERRORS_SHOWN),
        ));
    }
    if adjusted > 0 {
        diagnostics.push(Diagnostic::for_file(
            &ctx.path,
            Severity::Warning,
            format!("{adjusted} perfmon row time(s) fall in a daylight-saving change; read as the rows' order suggests"),
        ));
    }
    series.retain(|s| !s.samples.is_empty());
    (series, diagnostics)
}

/// Reports one bad row (the first [`ROW_ERRORS_SHOWN`] of a file one by one).
fn report(diagnostics: &mut Vec<Diagnostic>, errors: &mut usize, path: &str, line: u64, message: String) {
    *errors += 1;
    if *errors <= ROW_ERRORS_SHOWN {
        diagnostics.push(Diagnostic::at_line(path, line, Severity::Error, message));
    }
}

/// The hosts of the header (in first-seen order; `""` for paths naming none), what each column holds, and
/// how many counter columns are ignored with the first of them.
fn read_columns(head: &csv::StringRecord) -> (Vec<String>, Vec<Column>, (usize, String)) {
    let mut hosts: Vec<String> = Vec::new();
    let mut ignored = (0usize, String::new());
    let mut columns = Vec::new();
    for cell in head.iter().skip(1) {
        let used = path::counter_path(cell).and_then(|p| {
            let counter = names::counter(p.counter)?;
            let object = names::object(p.object).unwrap_or(if p.instance.is_some() { Object::Process } else { Object::Memory });
            // Memory counters have no instance; Process counters do.
            if !names::used_on(object, counter) || (object == Object::Process) != p.instance.is_some() {
                return None;
            }
            let host = p.host.unwrap_or("");
            let index = hosts.iter().position(|h| h.eq_ignore_ascii_case(host)).unwrap_or_else(|| {
                hosts.push(host.to_owned());
                hosts.len() - 1
            });
            Some(Column::Used { host: index, instance: p.instance.map(str::to_owned), object, counter })
        });
        columns.push(used.unwrap_or_else(|| {
            if ignored.0 == 0 {
                ignored.1 = cell.chars().take(80).collect();
            }
            ignored.0 += 1;
            Column::Ignored
        }));
    }
    (hosts, columns, ignored)
}

/// A row's time: `MM/DD/YYYY HH:MM:SS.mmm`, as PDH writes it whatever the locale.
fn sample_time(cell: &str) -> Option<NaiveDateTime> {
    ["%m/%d/%Y %H:%M:%S%.f", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(cell, f).ok())
}

/// A cell's value: `None` for a missing sample (`""`, `" "`) and for a cell that is not a non-negative number
/// (kept in `bad` with its column).
fn value(cell: &str, bad: &mut Vec<(usize, String)>, column: usize) -> Option<u64> {
    let cell = cell.trim();
    if cell.is_empty() {
        return None;
    }
    let number = cell.parse::<f64>().ok().or_else(|| cell.replace(',', ".").parse::<f64>().ok());
    match number {
        Some(v) if v.is_finite() && v >= 0.0 && v < 1.8e19 => {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked just above
            Some(v.round() as u64)
        }
        _ => {
            bad.push((column, cell.chars().take(40).collect()));
            None
        }
    }
}

/// A sample with no values yet.
fn empty_sample(time: DateTime<Utc>, line: u64) -> PerfSample {
    PerfSample {
        time,
        line,
        pool_paged_bytes: None,
        pool_nonpaged_bytes: None,
        committed_bytes: None,
        commit_limit: None,
        total_handles: None,
        processes: Vec::new(),
    }
}

/// Puts one value where it belongs.
fn fill(
    sample: &mut PerfSample,
    cells: &mut BTreeMap<String, InstanceCells>,
    instance: Option<&str>,
    object: Object,
    counter: Counter,
    value: u64,
) {
    match (object, instance) {
        (Object::Memory, _) => match counter {
            Counter::PoolPagedBytes => sample.pool_paged_bytes = Some(value),
            Counter::PoolNonpagedBytes => sample.pool_nonpaged_bytes = Some(value),
            Counter::CommittedBytes => sample.committed_bytes = Some(value),
            Counter::CommitLimit => sample.commit_limit = Some(value),
            Counter::HandleCount | Counter::IdProcess => {}
        },
        (Object::Process, Some(i)) if i.eq_ignore_ascii_case("_Total") => {
            if counter == Counter::HandleCount {
                sample.total_handles = Some(value);
            }
        }
        (Object::Process, Some(i)) => {
            let c = cells.entry(i.to_owned()).or_default();
            match counter {
                Counter::IdProcess => c.pid = Some(value),
                Counter::HandleCount => c.handles = Some(value),
                Counter::PoolPagedBytes => c.paged = Some(value),
                Counter::PoolNonpagedBytes => c.nonpaged = Some(value),
                Counter::CommittedBytes | Counter::CommitLimit => {}
            }
        }
        (Object::Process, None) => {}
    }
}

/// Names the process instances of one row: with a pid the `#n` suffix goes (the pid tells them apart, and the
/// numbering shifts when a process exits); without one the instance stays as written.
fn name_instances(cells: BTreeMap<String, InstanceCells>) -> Vec<ProcessCounters> {
    let mut out: Vec<ProcessCounters> = cells
        .into_iter()
        .filter(|(_, c)| c.handles.is_some() || c.paged.is_some() || c.nonpaged.is_some())
        .map(|(instance, c)| {
            let pid = c.pid.and_then(|p| u32::try_from(p).ok());
            let name = if pid.is_some() { path::base_instance(&instance).to_owned() } else { instance };
            ProcessCounters { name, pid, handle_count: c.handles, pool_paged_bytes: c.paged, pool_nonpaged_bytes: c.nonpaged }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.pid.cmp(&b.pid)));
    out
}

/// Whether a sample holds any counter.
fn has_values(s: &PerfSample) -> bool {
    s.pool_paged_bytes.is_some()
        || s.pool_nonpaged_bytes.is_some()
        || s.committed_bytes.is_some()
        || s.commit_limit.is_some()
        || s.total_handles.is_some()
        || !s.processes.is_empty()
}

#[cfg(test)]
mod tests;
