//! `poolscope parse`: read inputs and print the normalised records and diagnostics.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{emit, time_settings};
use crate::cli::args::{OutputArgs, TimeArgs};
use crate::cli::printer::sanitize;
use crate::cli::{ExitStatus, Printer};
use crate::ingest::{self, IngestOptions};
use crate::model::{Dataset, DebuggerLimits, Diagnostic, Event, HandleSnapshot, PoolSnapshot, PoolType, TimeSettings};
use crate::parse::Format;

/// Version of the JSON layout printed by `parse --format json`.
pub const PARSE_SCHEMA_VERSION: u32 = 1;

/// Arguments of `poolscope parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Files or directories (walked recursively; formats detected by content).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format: a summary table, JSON of every record, or one long table (CSV, Parquet).
    #[arg(long, value_enum, default_value_t = ParseFormat::Table)]
    pub format: ParseFormat,
    /// Which records: the long table for CSV or Parquet (default `pool`), or, with the table format, that
    /// table's rows aligned for reading instead of the summary.
    #[arg(long, value_enum)]
    pub table: Option<RecordTable>,
    /// Read every input as this format instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,
    /// Time options.
    #[command(flatten)]
    pub time: TimeArgs,
    /// Output file.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `parse --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ParseFormat {
    /// A summary of what was read, per host and snapshot.
    Table,
    /// Every record and diagnostic as JSON.
    Json,
    /// One long table as CSV (see `--table`).
    Csv,
    /// One long table as Apache Parquet (needs `-o`).
    Parquet,
}

/// `parse --table` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordTable {
    /// poolmon rows: one per (snapshot, tag, pool).
    Pool,
    /// handle.exe: one row per (snapshot, process, handle type) count.
    Handles,
    /// Event-log records: one row per event.
    Events,
}

/// `--input-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// poolmon snapshot files and screens.
    Poolmon,
    /// handle.exe output.
    Handle,
    /// Binary .evtx.
    Evtx,
    /// Event XML exports.
    EventXml,
    /// Event CSV exports.
    EventCsv,
    /// Event text exports.
    EventText,
    /// PowerShell pool CSVs (poolmon-powershell `-view csv`, PoolmonViz `.pool.csv`).
    PoolCsv,
    /// WinDbg `!poolused` text (with any `!vm` in the same file).
    Poolused,
    /// WinDbg `!vm` text.
    Vm,
    /// perfmon CSV/TSV (relog output).
    Perfmon,
    /// WPA pool tables (`wpaexporter` or "Export to CSV" of a Pool usage trace).
    WpaPool,
    /// Driver lists: `driverquery [/v|/si] /fo csv`, `fltmc [instances]`, Win32_SystemDriver CSV.
    Drivers,
}

impl From<InputFormat> for Format {
    fn from(f: InputFormat) -> Self {
        match f {
            InputFormat::Poolmon => Format::Poolmon,
            InputFormat::Handle => Format::Handle,
            InputFormat::Evtx => Format::Evtx,
            InputFormat::EventXml => Format::EventXml,
            InputFormat::EventCsv => Format::EventCsv,
            InputFormat::EventText => Format::EventText,
            InputFormat::PoolCsv => Format::PoolCsv,
            InputFormat::Poolused => Format::Poolused,
            InputFormat::Vm => Format::DebuggerVm,
            InputFormat::Perfmon => Format::Perfmon,
            InputFormat::WpaPool => Format::WpaPool,
            InputFormat::Drivers => Format::DriverList,
        }
    }
}

/// The JSON document `parse --format json` prints.
#[derive(Debug, Serialize)]
pub struct ParseOutput<'a> {
    /// [`PARSE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Every poolmon snapshot, by host then time.
    pub pool_snapshots: Vec<&'a PoolSnapshot>,
    /// Every handle.exe snapshot, by host then time.
    pub handle_snapshots: Vec<&'a HandleSnapshot>,
    /// Every event, by host then time.
    pub events: Vec<&'a Event>,
    /// Limits read from debugger `!vm` output, by host.
    pub debugger_limits: Vec<&'a DebuggerLimits>,
    /// WPA pool tables (allocations with their stacks), by host, one per file.
    pub allocation_tables: Vec<&'a crate::model::AllocationTable>,
    /// Driver and minifilter lists (driverquery, fltmc, Win32_SystemDriver CSV), by host, one per file.
    pub driver_lists: Vec<&'a crate::model::DriverListing>,
    /// Every diagnostic.
    pub diagnostics: &'a [Diagnostic],
}

/// The ingest options of a command: its time settings (already checked), `--host`, the limits and a forced
/// format.
pub fn ingest_options(time: TimeSettings, args: &TimeArgs, format: Option<Format>) -> IngestOptions {
    IngestOptions { time, host: args.host.clone(), format, limits: args.limits.read_limits() }
}

/// Walks and parses the inputs into a [`Dataset`] with a progress bar, and prints their diagnostics.
/// Does not judge whether anything usable was read: each command says what it expected.
pub fn read_dataset(paths: &[PathBuf], options: IngestOptions, printer: &Printer) -> Dataset {
    with_reading_bar(paths, printer, |progress| (ingest::ingest(paths, &options, progress), ())).0
}

/// Runs one of the ingest's reads with a progress bar over the input files, and prints the diagnostics of the
/// dataset it returns.
fn with_reading_bar<T>(
    paths: &[PathBuf],
    printer: &Printer,
    read: impl FnOnce(&(dyn Fn(&std::path::Path) + Sync)) -> (Dataset, T),
) -> (Dataset, T) {
    let total = ingest::walk(paths, &crate::parse::ReadLimits::default(), &mut Vec::new()).len() as u64;
    let bar = crate::cli::progress::bar(total, printer.progress && total > 20, "reading");
    let read = read(&|_| bar.inc(1));
    bar.finish_and_clear();
    printer.diagnostics(&read.0.diagnostics);
    read
}

/// Reads the inputs into a [`Dataset`] with the command's options, failing when nothing usable was read;
/// shared by commands that read archives.
pub fn read_inputs(paths: &[PathBuf], time: &TimeArgs, format: Option<Format>, printer: &Printer) -> Result<Dataset> {
    let dataset = read_dataset(paths, ingest_options(time_settings(time)?, time, format), printer);
    require_records(&dataset, paths)?;
    Ok(dataset)
}

/// Like [`read_inputs`], but pool snapshots come without rows ([`ingest::survey`]), with the files to stream
/// them from again.
/// With `deferred`, poolmon and handle.exe files are not read at all yet ([`ingest::survey_deferred`]).
pub fn survey_inputs(
    paths: &[PathBuf],
    time: &TimeArgs,
    format: Option<Format>,
    printer: &Printer,
    deferred: bool,
) -> Result<(Dataset, Vec<ingest::ReadFile>)> {
    let options = ingest_options(time_settings(time)?, time, format);
    let survey = if deferred { ingest::survey_deferred } else { ingest::survey };
    let (dataset, files) = with_reading_bar(paths, printer, |progress| survey(paths, &options, progress));
    if !files.iter().any(|f| f.deferred_host.is_some()) {
        require_records(&dataset, paths)?;
    }
    Ok((dataset, files))
}

/// The error when the inputs held no usable record.
fn require_records(dataset: &Dataset, paths: &[PathBuf]) -> Result<()> {
    if dataset.hosts.values().all(|h| {
        h.pool_snapshots.is_empty()
            && h.handle_snapshots.is_empty()
            && h.events.is_empty()
            && h.debugger_limits.is_empty()
            && h.perf_series.is_empty()
            && h.allocations.is_empty()
            && h.drivers.is_empty()
    }) {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "no usable records in {} (expected poolmon, handle.exe, event-log, perfmon, WPA pool-table or driver-list output)",
            sanitize(&names.join(", "))
        );
    }
    Ok(())
}

/// Runs `poolscope parse`.
pub fn run(args: &ParseArgs, printer: &Printer) -> Result<ExitStatus> {
    super::check_output(&args.output, &args.paths)?;
    if args.format == ParseFormat::Parquet && args.output.output.is_none() {
        bail!("--format parquet needs -o FILE (Parquet is binary; it is not printed to a terminal)");
    }
    let format = args.input_format.map(Into::into);
    let output = args.output.output.as_deref();
    let table = args.table.unwrap_or(RecordTable::Pool);
    match args.format {
        // The JSON document and the pool table stream their pool snapshots: bounded by a snapshot, not the archive.
        ParseFormat::Json | ParseFormat::Csv | ParseFormat::Parquet
            if args.format == ParseFormat::Json || table == RecordTable::Pool =>
        {
            let (survey, files) = survey_inputs(&args.paths, &args.time, format, printer, false)?;
            stream_records(args, &survey, &files, format)?;
        }
        _ => {
            let dataset = read_inputs(&args.paths, &args.time, format, printer)?;
            match (args.format, args.table) {
                (ParseFormat::Table, None) => emit(output, summary_table(&dataset).as_bytes())?,
                (ParseFormat::Table, Some(table)) => {
                    emit(output, records_text(table, &dataset, printer.width)?.as_bytes())?;
                }
                _ => write_table(args, &dataset)?,
            }
        }
    }
    Ok(ExitStatus::Success)
}

/// Writes the pool table (CSV, Parquet) or the JSON document, streaming the pool snapshots from the surveyed
/// files ([`crate::stream_export`]): to `-o` atomically (nothing is left at the path on an error), else stdout.
fn stream_records(
    args: &ParseArgs,
    survey: &Dataset,
    files: &[ingest::ReadFile],
    format: Option<Format>,
) -> Result<()> {
    match args.output.output.as_deref() {
        Some(path) => {
            let mut file = crate::output::AtomicFile::create(path)?;
            stream_records_to(args, survey, files, format, &mut file, &path.display().to_string())?;
            file.commit()?;
        }
        None => {
            let mut stdout = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            stream_records_to(args, survey, files, format, &mut stdout, "stdout")?;
            std::io::Write::flush(&mut stdout)?;
        }
    }
    Ok(())
}

/// [`stream_records`] into one writer.
fn stream_records_to(
    args: &ParseArgs,
    survey: &Dataset,
    files: &[ingest::ReadFile],
    format: Option<Format>,
    out: &mut dyn std::io::Write,
    name: &str,
) -> Result<()> {
    use crate::stream_export::{for_each_pool_snapshot, push_pretty_json, PoolCsvWriter, PoolParquetWriter};
    match args.format {
        ParseFormat::Csv => {
            let mut writer = PoolCsvWriter::new(out)?;
            for_each_pool_snapshot(survey, files, format, |host, s| writer.write(host, &s))?;
            writer.finish()?;
        }
        ParseFormat::Parquet => {
            let mut writer = PoolParquetWriter::new(out, name);
            for_each_pool_snapshot(survey, files, format, |host, s| writer.write(host, s))?;
            writer.finish()?;
        }
        _ => {
            // The layout of [`ParseOutput`] as serde_json's pretty printer writes it, pool snapshots streamed.
            let mut buf =
                format!("{{\n  \"schema_version\": {PARSE_SCHEMA_VERSION},\n  \"pool_snapshots\": [").into_bytes();
            let mut any = false;
            for_each_pool_snapshot(survey, files, format, |_, s| {
                buf.extend_from_slice(if any { b",\n    " } else { b"\n    " });
                any = true;
                push_pretty_json(&mut buf, &s, 4)?;
                out.write_all(&buf).map_err(|e| crate::Error::io(std::path::Path::new(name), e))?;
                buf.clear();
                Ok(())
            })?;
            buf.extend_from_slice(if any {
                b"\n  ],\n  \"handle_snapshots\": "
            } else {
                b"],\n  \"handle_snapshots\": "
            });
            let handles: Vec<&HandleSnapshot> = survey.hosts.values().flat_map(|h| &h.handle_snapshots).collect();
            push_pretty_json(&mut buf, &handles, 2)?;
            buf.extend_from_slice(b",\n  \"events\": ");
            let events: Vec<&Event> = survey.hosts.values().flat_map(|h| &h.events).collect();
            push_pretty_json(&mut buf, &events, 2)?;
            buf.extend_from_slice(b",\n  \"debugger_limits\": ");
            let limits: Vec<&DebuggerLimits> = survey.hosts.values().flat_map(|h| &h.debugger_limits).collect();
            push_pretty_json(&mut buf, &limits, 2)?;
            buf.extend_from_slice(b",\n  \"allocation_tables\": ");
            let tables: Vec<&crate::model::AllocationTable> =
                survey.hosts.values().flat_map(|h| &h.allocations).collect();
            push_pretty_json(&mut buf, &tables, 2)?;
            buf.extend_from_slice(b",\n  \"driver_lists\": ");
            let lists: Vec<&crate::model::DriverListing> = survey.hosts.values().flat_map(|h| &h.drivers).collect();
            push_pretty_json(&mut buf, &lists, 2)?;
            buf.extend_from_slice(b",\n  \"diagnostics\": ");
            push_pretty_json(&mut buf, &survey.diagnostics, 2)?;
            buf.extend_from_slice(b"\n}\n");
            out.write_all(&buf)?;
        }
    }
    Ok(())
}

/// Writes the chosen long table as CSV (stdout or `-o`) or Parquet (`-o` required).
fn write_table(args: &ParseArgs, dataset: &Dataset) -> Result<()> {
    let mut frame = record_frame(args.table.unwrap_or(RecordTable::Pool), dataset)?;
    if args.format == ParseFormat::Parquet {
        let Some(path) = args.output.output.as_deref() else {
            bail!("--format parquet needs -o FILE (Parquet is binary; it is not printed to a terminal)");
        };
        crate::frame::write_parquet(&mut frame, path)?;
    } else {
        let mut bytes = Vec::new();
        crate::frame::write_csv(&mut frame, &mut bytes)?;
        emit(args.output.output.as_deref(), &bytes)?;
    }
    Ok(())
}

/// The long table of one kind of record.
fn record_frame(table: RecordTable, dataset: &Dataset) -> Result<polars::prelude::DataFrame> {
    Ok(match table {
        RecordTable::Pool => crate::frame::pool_rows_frame(dataset)?,
        RecordTable::Handles => crate::frame::handle_rows_frame(dataset)?,
        RecordTable::Events => crate::frame::events_frame(dataset)?,
    })
}

/// The long table of one kind of record as aligned text fitted to `width`: the CSV's columns, numbers
/// right-aligned, where each record came from left out first when it does not fit.
fn records_text(table: RecordTable, dataset: &Dataset, width: Option<usize>) -> Result<String> {
    let mut frame = record_frame(table, dataset)?;
    let mut csv_bytes = Vec::new();
    crate::frame::write_csv(&mut frame, &mut csv_bytes)?;
    let mut reader = csv::Reader::from_reader(csv_bytes.as_slice());
    let headers: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let rows: Vec<Vec<String>> =
        reader.records().map(|r| r.map(|r| r.iter().map(str::to_owned).collect())).collect::<Result<_, _>>()?;
    if rows.is_empty() {
        return Ok(format!("no {} records read\n", format!("{table:?}").to_lowercase()));
    }
    // One host (the usual case): said once above the table instead of in a column on every row.
    let (mut headers, mut rows, mut heading) = (headers, rows, String::new());
    if headers.first().is_some_and(|h| h == "host") && rows.iter().all(|r| r[0] == rows[0][0]) {
        heading = format!("host {}\n", sanitize(&rows[0][0]));
        headers.remove(0);
        for r in &mut rows {
            r.remove(0);
        }
    }
    let columns = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let numeric = rows.iter().all(|r| r[i].is_empty() || r[i].parse::<f64>().is_ok());
            let mut c = crate::table::Column::new(h);
            // Times stay on one line; other text may fold.
            c = if numeric {
                c.right()
            } else if h == "time" {
                c
            } else {
                c.fold()
            };
            match h.as_str() {
                "source_path" | "source_line" | "source_offset" | "time_source" => c.optional(3),
                "name_prefix" | "driver" | "message" | "account" => c.fold().optional(1),
                "boot" | "allocs" | "frees" | "level" | "record_id" => c.optional(2),
                _ => c,
            }
        })
        .collect();
    Ok(heading + &crate::table::TextTable { columns, rows }.render("", width))
}

/// The snake_case name of a time source, as in JSON (`timestamp_line`, `file_name`, ...).
fn time_source_name(source: crate::model::TimeSource) -> String {
    serde_json::to_value(source).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// KiB total of one pool type in a snapshot.
fn pool_total(snapshot: &PoolSnapshot, pool: PoolType) -> u64 {
    snapshot.rows.iter().filter(|r| r.pool == pool).map(|r| r.bytes).sum()
}

/// Formats bytes in binary units (`1.50 GiB`; [`crate::units::bytes`]).
pub fn human_bytes(bytes: f64) -> String {
    crate::units::bytes(bytes)
}

/// The readable summary: per host, what was read, with times and their sources.
fn summary_table(dataset: &Dataset) -> String {
    let mut out = String::new();
    for (host, data) in &dataset.hosts {
        let _ = writeln!(out, "host {}", sanitize(host));
        if !data.pool_snapshots.is_empty() {
            let _ = writeln!(out, "  poolmon snapshots: {}", data.pool_snapshots.len());
            let _ = writeln!(
                out,
                "    {:<20} {:<15} {:>6} {:>12} {:>12}  source",
                "taken at (UTC)", "time from", "rows", "paged", "nonpaged"
            );
            for snap in &data.pool_snapshots {
                let when = snap.taken_at.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string());
                let _ = writeln!(
                    out,
                    "    {:<20} {:<15} {:>6} {:>12} {:>12}  {}:{}",
                    when,
                    time_source_name(snap.time_source),
                    snap.rows.len(),
                    human_bytes(pool_total(snap, PoolType::Paged) as f64),
                    human_bytes(pool_total(snap, PoolType::Nonpaged) as f64),
                    sanitize(&snap.source.path),
                    snap.source.line.unwrap_or(0)
                );
            }
        }
        if !data.handle_snapshots.is_empty() {
            let _ = writeln!(out, "  handle.exe snapshots: {}", data.handle_snapshots.len());
            for snap in &data.handle_snapshots {
                let when = snap.taken_at.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string());
                let handles: usize = snap.processes.iter().map(|p| p.handles.len()).sum();
                let _ = writeln!(
                    out,
                    "    {:<20} {:<10?} processes {:>5}  handles {:>7}  types {:>3}  {}:{}",
                    when,
                    snap.mode,
                    snap.processes.len(),
                    handles,
                    snap.type_counts.len(),
                    sanitize(&snap.source.path),
                    snap.source.line.unwrap_or(0)
                );
            }
        }
        if !data.events.is_empty() {
            let first = data.events.first().map(|e| e.time.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default();
            let last = data.events.last().map(|e| e.time.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default();
            let typed = data.events.iter().filter(|e| !matches!(e.kind, crate::model::EventKind::Other)).count();
            let _ = writeln!(out, "  events: {} ({} typed) from {first} to {last}", data.events.len(), typed);
        }
        perf_summary(&mut out, &data.perf_series);
        for t in &data.allocations {
            let aifo: u64 =
                t.allocations.iter().filter(|a| a.kind == crate::model::AllocationKind::Aifo).map(|a| a.count).sum();
            let tags: std::collections::BTreeSet<&str> = t.allocations.iter().map(|a| a.tag.as_str()).collect();
            let _ = writeln!(
                out,
                "  WPA pool table: {} rows, {} tags, {} AIFO allocations  {}",
                t.allocations.len(),
                tags.len(),
                crate::units::thousands(aifo),
                sanitize(&t.source.path)
            );
        }
        for l in &data.drivers {
            let merged = crate::model::DriverInventory::merge(std::slice::from_ref(l));
            let others = crate::analysis::drivers::not_microsoft(&merged).len();
            let what = if l.devices.is_empty() {
                format!("{} drivers, {others} not known to be Microsoft's", l.drivers.len())
            } else {
                format!("{} signed devices", l.devices.len())
            };
            let _ = writeln!(out, "  driver list ({}): {what}  {}", l.kind.command(), sanitize(&l.source.path));
        }
    }
    let errors = dataset.diagnostics.iter().filter(|d| d.severity == crate::model::Severity::Error).count();
    let _ = writeln!(out, "diagnostics: {} ({} errors)", dataset.diagnostics.len(), errors);
    out
}

/// The `parse` summary lines of a host's perfmon series: one per file, with its time span and last totals.
fn perf_summary(out: &mut String, series: &[crate::model::PerfSeries]) {
    use std::fmt::Write as _;
    for s in series {
        let (Some(first), Some(last)) = (s.samples.first(), s.samples.last()) else { continue };
        let last_of = |f: fn(&crate::model::PerfSample) -> Option<u64>| {
            s.samples.iter().rev().find_map(f).map_or_else(|| "-".to_owned(), |v| human_bytes(v as f64))
        };
        let processes: std::collections::BTreeSet<(&str, Option<u32>)> =
            s.samples.iter().flat_map(|x| &x.processes).map(|p| (p.name.as_str(), p.pid)).collect();
        let _ = writeln!(
            out,
            "  perfmon samples: {} from {} to {}  paged {}  nonpaged {}  commit {} of {}  processes {}  {}:{}",
            s.samples.len(),
            first.time.format("%Y-%m-%d %H:%M:%S"),
            last.time.format("%Y-%m-%d %H:%M:%S"),
            last_of(|x| x.pool_paged_bytes),
            last_of(|x| x.pool_nonpaged_bytes),
            last_of(|x| x.committed_bytes),
            last_of(|x| x.commit_limit),
            processes.len(),
            sanitize(&s.source.path),
            s.source.line.unwrap_or(0)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;
    use polars::prelude::SerReader as _;
    use std::path::Path;

    /// Runs `parse` with `args` into a file and returns its bytes.
    fn run_to_file(paths: &[PathBuf], extra: &[&str]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut argv: Vec<String> = vec!["poolscope".into(), "parse".into(), "-q".into()];
        argv.extend(paths.iter().map(|p| p.display().to_string()));
        argv.extend(extra.iter().map(|s| (*s).to_owned()));
        argv.extend(["-o".to_owned(), out.display().to_string()]);
        let cli = crate::cli::args::Cli::try_parse_from(argv).unwrap();
        let crate::cli::args::Command::Parse(args) = &cli.command else { panic!("not parse") };
        let printer = Printer { quiet: true, verbose: false, color: false, progress: false, width: None };
        run(args, &printer).unwrap();
        std::fs::read(out).unwrap()
    }

    /// The archives compared: the demo incident (several files per kind, one host by its event log) and every
    /// poolmon fixture (quirks, UTF-16, several snapshots per file, name stamps).
    fn archives() -> Vec<Vec<PathBuf>> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        vec![vec![root.join("incidents/lsass-token-leak")], vec![root.join("poolmon")]]
    }

    /// The first line where two texts differ, for a short assertion message.
    fn first_difference(a: &str, b: &str) -> Option<(usize, String, String)> {
        let (mut x, mut y) = (a.lines(), b.lines());
        for i in 0.. {
            match (x.next(), y.next()) {
                (None, None) => return None,
                (l, r) if l != r => return Some((i + 1, l.unwrap_or("").to_owned(), r.unwrap_or("").to_owned())),
                _ => {}
            }
        }
        None
    }

    /// The streamed CSV and JSON are byte for byte what the whole-dataset writers give when a host's files do not
    /// overlap in time (the demo); with overlapping files (every poolmon fixture as one host) the same rows and
    /// snapshots come file by file instead of interleaved.
    #[test]
    fn streamed_exports_equal_the_in_memory_ones() {
        for (paths, exact) in archives().into_iter().zip([true, false]) {
            let options = ingest_options(TimeSettings::default(), &TimeArgs::default(), None);
            let dataset = ingest::ingest(&paths, &options, &|_| {});
            let mut frame = crate::frame::pool_rows_frame(&dataset).unwrap();
            let mut csv = Vec::new();
            crate::frame::write_csv(&mut frame, &mut csv).unwrap();
            let csv = String::from_utf8(csv).unwrap();
            let streamed = String::from_utf8(run_to_file(&paths, &["--format", "csv"])).unwrap();
            assert!(csv.len() > 1000, "{paths:?}");
            if exact {
                assert_eq!(first_difference(&streamed, &csv), None, "{paths:?}");
            } else {
                let sorted = |t: &str| {
                    let mut lines: Vec<String> = t.lines().map(str::to_owned).collect();
                    lines.sort();
                    lines.join("\n")
                };
                assert_eq!(first_difference(&sorted(&streamed), &sorted(&csv)), None, "{paths:?}");
            }

            let doc = ParseOutput {
                schema_version: PARSE_SCHEMA_VERSION,
                pool_snapshots: dataset.hosts.values().flat_map(|h| &h.pool_snapshots).collect(),
                handle_snapshots: dataset.hosts.values().flat_map(|h| &h.handle_snapshots).collect(),
                events: dataset.hosts.values().flat_map(|h| &h.events).collect(),
                debugger_limits: dataset.hosts.values().flat_map(|h| &h.debugger_limits).collect(),
                allocation_tables: dataset.hosts.values().flat_map(|h| &h.allocations).collect(),
                driver_lists: dataset.hosts.values().flat_map(|h| &h.drivers).collect(),
                diagnostics: &dataset.diagnostics,
            };
            let json = crate::untrusted::to_json_pretty_string(&doc).unwrap() + "\n";
            let streamed = String::from_utf8(run_to_file(&paths, &["--format", "json"])).unwrap();
            if exact {
                assert_eq!(first_difference(&streamed, &json), None, "{paths:?}");
            } else {
                let mut a: serde_json::Value = serde_json::from_str(&streamed).unwrap();
                let mut b: serde_json::Value = serde_json::from_str(&json).unwrap();
                for doc in [&mut a, &mut b] {
                    let snaps = doc["pool_snapshots"].as_array_mut().unwrap();
                    snaps.sort_by_key(|s| (s["source"]["path"].to_string(), s["source"]["line"].as_u64()));
                }
                assert_eq!(a, b, "{paths:?}");
            }

            let parquet = run_to_file(&paths, &["--format", "parquet"]);
            let read = polars::prelude::ParquetReader::new(std::io::Cursor::new(parquet)).finish().unwrap();
            assert_eq!(read.shape(), frame.shape(), "{paths:?}");
            assert_eq!(read.schema(), frame.schema(), "{paths:?}");
            if exact {
                assert!(read.equals_missing(&frame), "{paths:?}");
            }
        }
    }
}
