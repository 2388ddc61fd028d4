//! `poolscope handles`: who holds which handles (handle.exe output), and how the counts grow over time
//! (ANALYSIS.md §5: Token handles by account name the account whose logons leak).

use std::fmt::Write as _;

use crate::table::{markdown_cell, Column, TextTable};
use std::path::PathBuf;

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::analysis::handle_counts::{self, GroupKey, GroupSeries, HandleCounts, HandleQuery};
use crate::cli::args::{OutputArgs, TimeArgs};
use crate::cli::printer::sanitize;
use crate::cli::{ExitStatus, Printer};
use crate::model::handles::HandleMode;
use crate::model::TimeSource;

/// Arguments of `poolscope handles`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Counts come from handle listings (dumps, search lines, -v CSV) and from -s summaries. A summary counts the
whole system, or the processes of its -p filter when the command line was echoed in front of it.

Without --by, handles are grouped by process and type. --by account groups Token handles by the account in
their name (DOMAIN\\user:luid). With several snapshots over time, each group's count is listed at each time,
with its growth per hour: first to last, and the least-squares slope over every snapshot.")]
pub struct HandlesArgs {
    /// handle.exe output files, or directories to walk.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Group handles by this key (default: process and type).
    #[arg(long, value_enum, value_name = "KEY")]
    pub by: Option<GroupBy>,
    /// Only handles of this object type (`Token`, `File`, `ALPC Port`; case-insensitive).
    #[arg(long = "type", value_name = "TYPE")]
    pub handle_type: Option<String>,
    /// Only processes whose image name starts with this (case-insensitive, as `handle -p`), or this pid.
    #[arg(long, value_name = "NAME|PID")]
    pub process: Option<String>,
    /// Show only the N largest groups and the N fastest-growing series.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = HandlesFormat::Text, value_name = "FORMAT")]
    pub format: HandlesFormat,
    /// Output file.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Time options.
    #[command(flatten)]
    pub time: TimeArgs,
}

/// `--by` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Object type.
    Type,
    /// Process (image name and pid).
    Process,
    /// Account in Token handle names (`DOMAIN\user:luid`).
    Account,
    /// Object name (with its type).
    Name,
}

/// `poolscope handles --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HandlesFormat {
    /// Aligned tables.
    #[value(alias = "table")]
    Text,
    /// JSON with a `schema_version`.
    Json,
    /// CSV, one row per (snapshot, group).
    Csv,
    /// Markdown tables, for tickets.
    Markdown,
}

/// A group's count over one boot, and its growth.
type Series = GroupSeries;

/// Everything `handles` prints, in every format.
type HandlesReport = HandleCounts;

impl From<GroupBy> for handle_counts::GroupBy {
    fn from(by: GroupBy) -> Self {
        match by {
            GroupBy::Type => Self::Type,
            GroupBy::Process => Self::Process,
            GroupBy::Account => Self::Account,
            GroupBy::Name => Self::Name,
        }
    }
}

/// Runs `poolscope handles`.
pub fn run(args: &HandlesArgs, printer: &Printer) -> Result<ExitStatus> {
    super::check_output(&args.output, &args.paths)?;
    let time = super::time_settings(&args.time)?;
    let dataset =
        super::parse::read_dataset(&args.paths, super::parse::ingest_options(time, &args.time, None), printer);

    let total: usize = dataset.hosts.values().map(|h| h.handle_snapshots.len()).sum();
    if total == 0 {
        printer
            .error(&anyhow::anyhow!("no handle.exe output found in the inputs (expected -s, -a, search or -v output)"));
        return Ok(ExitStatus::Error);
    }
    let query = HandleQuery {
        by: args.by.map(Into::into),
        handle_type: args.handle_type.as_deref(),
        process: args.process.as_deref(),
    };
    let report = handle_counts::count(&dataset, &query, args.top);
    if report.snapshots.is_empty() {
        let only_summaries =
            dataset.hosts.values().flat_map(|h| &h.handle_snapshots).all(|s| s.mode == HandleMode::Summary);
        if only_summaries && matches!(args.by, Some(GroupBy::Account | GroupBy::Name)) {
            printer.warn("--by account and --by name need handle listings (-a dumps, search lines, -v CSV): the inputs hold only -s summaries, which count types");
        } else {
            printer.warn("no handles match the filters (--type/--process/--by) in any snapshot");
        }
    }
    let mut distinct: Vec<_> = report.snapshots.iter().filter_map(|s| s.taken_at).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if report.snapshots.len() > 1 && distinct.len() == 1 {
        printer.warn(&format!(
            "no growth figures: the {} snapshots share one time ({}), so no rate can be given; name the files with \
             a stamp (NAME_20240311-1014.txt) or collect with a timestamp line before each run",
            report.snapshots.len(),
            fmt_time(distinct.first().copied())
        ));
    }
    let untimed = report.snapshots.iter().filter(|s| s.taken_at.is_none()).count();
    if untimed > 0 && report.snapshots.len() > 1 {
        printer.warn(&format!(
            "{untimed} snapshot(s) without a time are left out of the growth figures (give --time or timestamp lines)"
        ));
    }
    let bytes = match args.format {
        HandlesFormat::Json => {
            let mut text = crate::untrusted::to_json_pretty(&report)?;
            text.push(b'\n');
            text
        }
        HandlesFormat::Csv => render_csv(&report)?,
        HandlesFormat::Text => render_text(&report, false, printer.width).into_bytes(),
        HandlesFormat::Markdown => render_text(&report, true, None).into_bytes(),
    };
    super::emit(args.output.output.as_deref(), &bytes)?;
    Ok(ExitStatus::Success)
}

/// The columns a key shows, by `--by`.
fn key_columns(by: Option<handle_counts::GroupBy>) -> &'static [&'static str] {
    match by {
        None => &["process", "pid", "type"],
        Some(handle_counts::GroupBy::Type) => &["type"],
        Some(handle_counts::GroupBy::Process) => &["process", "pid"],
        Some(handle_counts::GroupBy::Account) => &["account"],
        Some(handle_counts::GroupBy::Name) => &["type", "name"],
    }
}

fn key_cells(key: &GroupKey, by: Option<handle_counts::GroupBy>) -> Vec<String> {
    key_columns(by)
        .iter()
        .map(|column| match *column {
            "process" => key.process.clone().unwrap_or_default(),
            "pid" => key.pid.map(|p| p.to_string()).unwrap_or_default(),
            "type" => key.handle_type.clone().unwrap_or_default(),
            "account" => key.account.clone().unwrap_or_default(),
            _ => key.name.clone().map(|n| if n.is_empty() { "(unnamed)".to_owned() } else { n }).unwrap_or_default(),
        })
        .collect()
}

fn fmt_time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "(no time)".to_owned(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}

fn fmt_rate(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".to_owned(), |r| format!("{r:+.1}"))
}

/// Text (aligned columns, sanitised) or Markdown (escaped table cells).
fn render_text(report: &HandlesReport, markdown: bool, width: Option<usize>) -> String {
    let mut out = String::new();
    let mixed_views =
        report.groups.iter().any(|g| g.key.view == "summary") && report.groups.iter().any(|g| g.key.view == "listing");
    let mut hosts: Vec<&str> = report.snapshots.iter().map(|s| s.host.as_str()).collect();
    hosts.dedup();
    for host in hosts {
        let mut shown: Vec<usize> = report.groups.iter().filter(|g| g.host == host).map(|g| g.snapshot).collect();
        shown.dedup();
        for at in shown {
            render_groups(&mut out, report, at, markdown, width);
        }
        render_series(&mut out, report, host, mixed_views, markdown, width);
    }
    if report.snapshots.is_empty() {
        out.push_str(if markdown { "No handles match the filters.\n" } else { "no handles match the filters\n" });
    }
    out
}

fn heading(out: &mut String, text: &str, markdown: bool) {
    if markdown {
        let _ = writeln!(out, "## {}\n", markdown_cell(text));
    } else {
        let _ = writeln!(out, "{}", sanitize(text));
    }
}

/// A line of prose under a table: indented and wrapped to the width in text, as is in Markdown.
fn note(out: &mut String, text: &str, markdown: bool, width: Option<usize>) {
    if markdown {
        let _ = writeln!(out, "{text}");
    } else {
        out.push_str(&crate::table::wrap(text, width, "  ", "  "));
    }
}

/// The grouped table of one snapshot.
fn render_groups(out: &mut String, report: &HandlesReport, at: usize, markdown: bool, width: Option<usize>) {
    let snap = &report.snapshots[at];
    let version = snap.tool_version.as_deref().map(|v| format!(", handle v{v}")).unwrap_or_default();
    let line = snap.source.line.map(|l| format!(":{l}")).unwrap_or_default();
    let scope = match (snap.mode, snap.process_filter.as_deref()) {
        (HandleMode::Summary, Some(filter)) => format!(" (-p {filter})"),
        (HandleMode::Summary, None) => " (all processes)".to_owned(),
        _ => String::new(),
    };
    heading(out, &format!("{}; host {}", describe(report), snap.host), markdown);
    let path = if markdown { markdown_cell(&snap.source.path) } else { sanitize(&snap.source.path) };
    let latest = format!(
        "latest {}{scope}: {} UTC ({}){version}, {path}{line}",
        mode_label(snap.mode),
        fmt_time(snap.taken_at),
        time_source_label(snap.time_source),
    );
    note(out, &latest, markdown, width);
    out.push('\n');
    let mut headers: Vec<&str> = key_columns(report.by).to_vec();
    headers.extend(["handles", "share"]);
    let mut rows: Vec<Vec<String>> = report
        .groups
        .iter()
        .filter(|g| g.snapshot == at)
        .map(|group| {
            let mut row = key_cells(&group.key, report.by);
            row.push(group.count.to_string());
            row.push(crate::units::percent(group.share / 100.0));
            row
        })
        .collect();
    let mut total = vec![String::new(); headers.len()];
    "total".clone_into(&mut total[0]);
    total[headers.len() - 2] = snap.handles.to_string();
    rows.push(total);
    out.push_str(&table(&headers, &rows, markdown, width));
    out.push('\n');
}

/// The growth table and the counts at each time of one host's series.
fn render_series(
    out: &mut String,
    report: &HandlesReport,
    host: &str,
    mixed_views: bool,
    markdown: bool,
    width: Option<usize>,
) {
    let series: Vec<&Series> = report.series.iter().filter(|s| s.host == host).collect();
    let mut times: Vec<DateTime<Utc>> = series.iter().flat_map(|s| s.points.iter().map(|p| p.taken_at)).collect();
    times.sort();
    times.dedup();
    let (Some(first), Some(last)) = (times.first(), times.last()) else { return };
    let span = (*last - *first).num_seconds() as f64 / 3600.0;
    heading(out, &format!("Growth per hour; host {host}, {} snapshot times over {span:.2} h", times.len()), markdown);
    let several_boots = series.iter().any(|s| s.boot > 0);
    let mut headers: Vec<&str> = vec!["#"];
    if several_boots {
        headers.push("boot");
    }
    if mixed_views {
        headers.push("view");
    }
    headers.extend(key_columns(report.by));
    headers.extend(["first", "last", "change", "/h first-last", "/h least squares"]);
    let rows: Vec<Vec<String>> = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut row = vec![format!("[{}]", i + 1)];
            if several_boots {
                row.push(s.boot.to_string());
            }
            if mixed_views {
                row.push(s.key.view.to_owned());
            }
            row.extend(key_cells(&s.key, report.by));
            row.extend([
                s.first.to_string(),
                s.last.to_string(),
                format!("{:+}", s.change),
                fmt_rate(s.per_hour_first_last),
                fmt_rate(s.per_hour_least_squares),
            ]);
            row
        })
        .collect();
    out.push_str(&table(&headers, &rows, markdown, width));
    for (i, s) in series.iter().enumerate() {
        if let Some(why) = &s.no_rate {
            note(out, &format!("[{}] has no rate: {why}", i + 1), markdown, width);
        }
    }
    if several_boots {
        let boots = "A boot starts at a boot record or where lsass.exe (or another process that lives as long as the \
                     boot) has a new pid; no series spans a reboot.";
        note(out, boots, markdown, width);
    }
    out.push('\n');

    heading(out, &format!("Counts at each time; host {host}, columns are the series above"), markdown);
    let labels: Vec<String> = (1..=series.len()).map(|i| format!("[{i}]")).collect();
    let mut headers: Vec<&str> = vec!["time (UTC)"];
    headers.extend(labels.iter().map(String::as_str));
    let rows: Vec<Vec<String>> = times
        .iter()
        .map(|t| {
            let mut row = vec![fmt_time(Some(*t))];
            for s in &series {
                let at: Vec<String> =
                    s.points.iter().filter(|p| p.taken_at == *t).map(|p| p.count.to_string()).collect();
                // Several snapshots at one time (files dated alike) show all their counts.
                row.push(if at.is_empty() { "-".to_owned() } else { at.join("/") });
            }
            row
        })
        .collect();
    out.push_str(&table(&headers, &rows, markdown, width));
    out.push('\n');
}

/// What the tables count, in words: "Token handles of lsass.exe, by account".
fn describe(report: &HandlesReport) -> String {
    let what = report.filter_type.as_deref().map_or_else(
        || "Handles".to_owned(),
        |t| {
            let mut chars = t.chars();
            let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
            format!("{first}{} handles", chars.as_str())
        },
    );
    let of = report.filter_process.as_deref().map(|p| format!(" of {p}")).unwrap_or_default();
    let by = match report.by {
        None => "process and type",
        Some(handle_counts::GroupBy::Type) => "type",
        Some(handle_counts::GroupBy::Process) => "process",
        Some(handle_counts::GroupBy::Account) => "account",
        Some(handle_counts::GroupBy::Name) => "object name",
    };
    format!("{what}{of}, by {by}")
}

fn mode_label(mode: HandleMode) -> &'static str {
    match mode {
        HandleMode::Summary => "-s summary",
        HandleMode::Dump => "dump",
        HandleMode::Search => "search",
        HandleMode::Csv => "-v CSV",
    }
}

fn time_source_label(source: TimeSource) -> &'static str {
    match source {
        TimeSource::Record => "record",
        TimeSource::TimestampLine => "timestamp line",
        TimeSource::FileName => "file name",
        TimeSource::FolderName => "folder name",
        TimeSource::FileModified => "file modified",
        TimeSource::Override => "--time",
        TimeSource::Unknown => "unknown",
    }
}

/// Whether a column holds numbers (right-aligned).
fn numeric_column(header: &str) -> bool {
    !matches!(header, "process" | "type" | "account" | "name" | "view" | "time (UTC)" | "#" | "boot")
}

/// An aligned text table, or a Markdown table (the one table renderer; numbers right-aligned).
fn table(headers: &[&str], rows: &[Vec<String>], markdown: bool, width: Option<usize>) -> String {
    let columns = headers
        .iter()
        .map(|h| match *h {
            // A series' column in the counts at each time: the rightmost (slowest-growing) go first.
            h if h.starts_with('[') => Column::new(h).right().optional(1),
            // The rates are the answer; the counts they come from can be left out of a narrow terminal.
            "first" | "last" => Column::new(h).right().optional(1),
            h if numeric_column(h) => Column::new(h).right(),
            // Object names and accounts are the long free text: they fold before anything is dropped.
            "name" | "account" | "process" => Column::new(h).fold(),
            h => Column::new(h),
        })
        .collect();
    let table = TextTable { columns, rows: rows.to_vec() };
    if markdown {
        table.render_markdown()
    } else {
        table.render("  ", width)
    }
}

/// CSV: one row per (snapshot, group).
fn render_csv(report: &HandlesReport) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "host",
        "taken_at",
        "time_source",
        "path",
        "line",
        "mode",
        "view",
        "process",
        "pid",
        "type",
        "account",
        "name",
        "count",
    ])?;
    for snap in &report.snapshots {
        for (key, count) in &snap.counts {
            writer.write_record([
                snap.host.clone(),
                snap.taken_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default(),
                time_source_label(snap.time_source).to_owned(),
                snap.source.path.clone(),
                snap.source.line.map(|l| l.to_string()).unwrap_or_default(),
                format!("{:?}", snap.mode).to_lowercase(),
                key.view.to_owned(),
                key.process.clone().unwrap_or_default(),
                key.pid.map(|p| p.to_string()).unwrap_or_default(),
                key.handle_type.clone().unwrap_or_default(),
                key.account.clone().unwrap_or_default(),
                key.name.clone().unwrap_or_default(),
                count.to_string(),
            ])?;
        }
    }
    writer.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_cannot_inject_html_or_break_tables() {
        assert_eq!(markdown_cell(r"<Unknown type>|x"), r"&lt;Unknown type&gt;\|x");
        assert_eq!(markdown_cell("C:\\$Extend\u{1b}[2J"), r"C:\\$Extend\x1b\[2J");
    }
}
