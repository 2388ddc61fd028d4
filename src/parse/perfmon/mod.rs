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
    let lines = LineIndex::new(text);
    let head_line = lines.of(head.position());
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
            Ok(r) => (lines.of(r.position()), r),
            Err(e) => {
                let line = lines.of(e.position());
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
            format!(
                "{adjusted} perfmon row time(s) fall in a daylight-saving change; read as the rows' order suggests"
            ),
        ));
    }
    series.retain(|s| !s.samples.is_empty());
    (series, diagnostics)
}

/// 1-based line numbers from byte offsets. csv's own line count lags by one after a CRLF (it takes the `\n`
/// as the start of the next record), so lines are counted here from the record's first byte.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Self { text, starts }
    }

    /// The line of a record that starts at `position` (skipping the line ends before its first byte).
    pub(crate) fn of(&self, position: Option<&csv::Position>) -> u64 {
        let Some(position) = position else { return 0 };
        let bytes = self.text.as_bytes();
        let mut at = usize::try_from(position.byte()).unwrap_or(usize::MAX).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        self.starts.partition_point(|&s| s <= at) as u64
    }
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
            let object =
                names::object(p.object).unwrap_or(if p.instance.is_some() { Object::Process } else { Object::Memory });
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
        Some(v) if (0.0..1.8e19).contains(&v) => {
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
            ProcessCounters {
                name,
                pid,
                handle_count: c.handles,
                pool_paged_bytes: c.paged,
                pool_nonpaged_bytes: c.nonpaged,
            }
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

/// One test per quirk, over the fixtures in `fixtures/perfmon/`.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimeSettings;

    fn read(name: &str, time: TimeSettings) -> (Vec<PerfSeries>, Vec<Diagnostic>) {
        let path = format!("{}/fixtures/perfmon/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap();
        let ctx = FileContext { path: name.to_owned(), time, ..FileContext::default() };
        let parsed = crate::parse::parse_bytes(&bytes, None, &ctx);
        (parsed.perf_series, parsed.diagnostics)
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn utf16_bom_relog_reads_memory_counters_in_the_header_zone() {
        let (series, diags) = read("utf16_bom_relog.csv", TimeSettings::default());
        assert_eq!(series.len(), 1);
        let s = &series[0];
        assert_eq!(s.host.as_deref(), Some("WEB01"));
        assert_eq!(s.samples.len(), 3);
        // W. Europe in January is UTC+1.
        assert_eq!(s.samples[0].time, utc("2024-01-15T09:00:00Z"));
        assert_eq!(s.samples[2].pool_paged_bytes, Some(102_000_000));
        assert_eq!(s.samples[0].commit_limit, Some(8_589_934_592));
        assert_eq!(s.samples[0].line, 2);
        assert_eq!(s.source.line, Some(1));
        // Only the ignored processor counter is said.
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].severity == Severity::Info && diags[0].message.starts_with("1 perfmon counter"));
    }

    #[test]
    fn tsv_de_localized_reads_german_names_and_the_daylight_zone() {
        let (series, diags) = read("tsv_de_localized.tsv", TimeSettings::default());
        assert!(diags.is_empty(), "{diags:?}");
        let s = &series[0];
        assert_eq!(s.host.as_deref(), Some("SRV-DE"));
        assert_eq!(s.samples.len(), 2);
        assert_eq!(s.samples[0].time, utc("2024-07-01T10:00:00Z"));
        assert_eq!(s.samples[1].total_handles, Some(40_010));
        let lsass = &s.samples[1].processes[0];
        assert_eq!((lsass.name.as_str(), lsass.pid, lsass.handle_count), ("lsass", Some(640), Some(1510)));
        assert_eq!(s.samples[0].pool_nonpaged_bytes, Some(60_000_000));
    }

    #[test]
    fn two_hosts_give_two_series_and_blank_cells_are_missing_samples() {
        let (series, diags) = read("two_hosts.csv", TimeSettings::default());
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].host.as_deref(), Some("APP01"));
        assert_eq!(series[0].samples.len(), 2, "the row with a blank cell for APP01 is no APP01 sample");
        assert_eq!(series[1].host.as_deref(), Some("APP02"));
        assert_eq!(series[1].samples.len(), 3);
        assert_eq!(series[1].samples[1].pool_paged_bytes, None);
        assert_eq!(series[1].samples[2].time, utc("2024-03-10T00:02:00Z"));
    }

    #[test]
    fn instance_hash_suffix_is_reidentified_by_id_process() {
        let (series, _) = read("instance_hash_suffix.csv", TimeSettings::default());
        let s = &series[0];
        // Pacific in February is UTC-8.
        assert_eq!(s.samples[0].time, utc("2024-02-01T16:00:00Z"));
        let find = |i: usize, pid: u32| s.samples[i].processes.iter().find(|p| p.pid == Some(pid)).cloned();
        assert_eq!(find(0, 200).unwrap().handle_count, Some(900));
        // pid 100 exited: svchost#1 (pid 200) is now instance `svchost`, and is still the same process.
        let later = find(1, 200).unwrap();
        assert_eq!((later.name.as_str(), later.handle_count), ("svchost", Some(910)));
        assert!(find(1, 100).is_none());
        // Without ID Process the instance keeps its suffix.
        assert!(s.samples[1].processes.iter().any(|p| p.name == "notepad#1" && p.pid.is_none()));
    }

    #[test]
    fn blank_cells_bad_numbers_and_bad_times_are_reported_with_lines() {
        let (series, diags) = read("blank_cells.csv", TimeSettings::default());
        let s = &series[0];
        // Rows 2, 4 and 6 have values; row 3 is all blank, row 5 has no time.
        assert_eq!(s.samples.iter().map(|x| x.line).collect::<Vec<_>>(), vec![2, 4, 6]);
        assert_eq!(s.samples[0].pool_paged_bytes, None);
        assert_eq!(s.samples[1].pool_nonpaged_bytes, Some(5100));
        assert_eq!(s.samples[2].time, utc("2024-01-02T05:03:00Z"));
        let errors: Vec<String> =
            diags.iter().filter(|d| d.severity == Severity::Error).map(Diagnostic::location).collect();
        assert_eq!(errors, vec!["blank_cells.csv:4", "blank_cells.csv:5"]);
        assert!(diags.iter().any(|d| d.severity == Severity::Info && d.message.contains("System\\Processes")));
    }

    #[test]
    fn unknown_zone_name_falls_back_to_the_bias_and_says_so() {
        let (series, diags) = read("unknown_zone_bias.csv", TimeSettings::default());
        assert_eq!(series[0].samples[0].time, utc("2024-12-01T08:00:00Z"));
        assert_eq!(series[0].samples[0].commit_limit, Some(8_589_934_592));
        assert!(diags.iter().any(|d| d.severity == Severity::Warning && d.message.contains("bias")), "{diags:?}");
    }

    #[test]
    fn tz_given_wins_over_the_header() {
        let time = TimeSettings { tz: chrono_tz::Asia::Tokyo, tz_given: true, ..TimeSettings::default() };
        let (series, diags) = read("utf16_bom_relog.csv", time);
        assert_eq!(series[0].samples[0].time, utc("2024-01-15T01:00:00Z"));
        assert!(diags.iter().any(|d| d.message.contains("--tz")), "{diags:?}");
    }

    #[test]
    fn not_a_pdh_header_and_garbage_do_not_panic() {
        let ctx = FileContext { path: "g".into(), ..FileContext::default() };
        let (series, diags) = parse("hello,world\n", &ctx);
        assert!(series.is_empty() && diags[0].severity == Severity::Error);
        let (series, _) = parse("\"(PDH-CSV 4.0)\",\"\\\\H\\Memory\\Pool Paged Bytes\"\n\"x\n", &ctx);
        assert!(series.is_empty());
        let (series, _) = parse("", &ctx);
        assert!(series.is_empty());
        // LF line ends count the same as CRLF ones.
        let lf =
            "\"(PDH-CSV 4.0) (UTC)(0)\",\"\\\\H\\Memory\\Pool Paged Bytes\"\n\"01/01/2024 00:00:00\",\"1\"\nbad,2\n";
        let (series, diags) = parse(lf, &ctx);
        assert_eq!(series[0].samples[0].line, 2);
        assert_eq!(diags.iter().map(Diagnostic::location).collect::<Vec<_>>(), vec!["g:3"]);
    }
}
