//! `poolscope events`: list event-log records, typed (2004 resource exhaustion, 2019/2020 pool empty,
//! boots, shutdowns, crashes), filtered, as text, JSON, CSV or Markdown.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{emit, parse_time_arg, time_settings};
use crate::cli::args::{OutputArgs, TimeArgs};
use crate::cli::printer::sanitize;
use crate::cli::{ExitStatus, Printer};
use crate::model::event::ResourceExhaustion;
use crate::model::{Diagnostic, Event, EventKind, SourceRef};
use crate::table::TextTable;
use crate::units::thousands;

/// Version of the JSON layout printed by `events --format json`.
pub const EVENTS_SCHEMA_VERSION: u32 = 1;

/// Arguments of `poolscope events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Event logs (.evtx) or exports (wevtutil XML/text, Event Viewer XML/CSV/text, Get-WinEvent CSV),
    /// or directories to walk.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Only these event ids (comma-separated: `2004,41,6008`).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub id: Vec<u32>,
    /// Only providers whose name contains this, ignoring case (`Kernel-Power`, `EventLog`).
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    /// Only events of these kinds (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KIND")]
    pub kind: Vec<KindArg>,
    /// Only events at or after this time (RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` in `--tz`).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Only events at or before this time.
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EventsFormat::Text)]
    pub format: EventsFormat,
    /// Time options.
    #[command(flatten)]
    pub time: TimeArgs,
    /// Output file.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `events --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    /// One line per event; 2004 events with their commit, pool, tag and process figures.
    Text,
    /// Every listed event with all its fields, and the diagnostics.
    Json,
    /// One row per event.
    Csv,
    /// A table and the 2004 evidence, for tickets.
    Markdown,
}

/// `events --kind` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Resource-Exhaustion-Detector 2004.
    ResourceExhaustion,
    /// Srv 2019/2020.
    PoolEmpty,
    /// 6005, 6009, Kernel-General 12.
    Boot,
    /// 6013 uptime reports.
    Uptime,
    /// 6006, Kernel-General 13, User32 1074.
    Shutdown,
    /// 6008, Kernel-Power 41, User32 1076.
    Crash,
    /// Everything else.
    Other,
}

impl KindArg {
    fn matches(self, kind: &EventKind) -> bool {
        matches!(
            (self, kind),
            (KindArg::ResourceExhaustion, EventKind::ResourceExhaustion(_))
                | (KindArg::PoolEmpty, EventKind::PoolEmpty { .. })
                | (KindArg::Boot, EventKind::Boot { .. })
                | (KindArg::Uptime, EventKind::Uptime { .. })
                | (KindArg::Shutdown, EventKind::Shutdown { .. })
                | (KindArg::Crash, EventKind::Crash { .. })
                | (KindArg::Other, EventKind::Other)
        )
    }
}

/// One listed event and the host it was filed under.
#[derive(Debug, Serialize)]
pub struct HostEvent<'a> {
    /// Host name (the event's computer, the folder, or `--host`).
    pub host: &'a str,
    /// The event.
    #[serde(flatten)]
    pub event: &'a Event,
}

/// The JSON document `events --format json` prints.
#[derive(Debug, Serialize)]
pub struct EventsOutput<'a> {
    /// [`EVENTS_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Events read before filtering.
    pub events_read: usize,
    /// The events that passed the filters, by time.
    pub events: Vec<HostEvent<'a>>,
    /// Every diagnostic from reading the inputs.
    pub diagnostics: &'a [Diagnostic],
}

/// The filters of one run.
struct Filter {
    ids: Vec<u32>,
    provider: Option<String>,
    kinds: Vec<KindArg>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

impl Filter {
    fn keeps(&self, e: &Event) -> bool {
        (self.ids.is_empty() || self.ids.contains(&e.event_id))
            && self.provider.as_ref().is_none_or(|p| e.provider.to_lowercase().contains(p))
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| k.matches(&e.kind)))
            && self.since.is_none_or(|t| e.time >= t)
            && self.until.is_none_or(|t| e.time <= t)
    }
}

/// Runs `poolscope events`.
pub fn run(args: &EventsArgs, printer: &Printer) -> Result<ExitStatus> {
    super::check_output(&args.output, &args.paths)?;
    let time = time_settings(&args.time)?;
    let since =
        args.since.as_deref().map(|t| parse_time_arg(t, time.tz).map_err(|e| e.context(format!("--since {t:?}"))));
    let until =
        args.until.as_deref().map(|t| parse_time_arg(t, time.tz).map_err(|e| e.context(format!("--until {t:?}"))));
    let filter = Filter {
        ids: args.id.clone(),
        provider: args.provider.as_ref().map(|p| p.to_lowercase()),
        kinds: args.kind.clone(),
        since: since.transpose()?,
        until: until.transpose()?,
    };
    let dataset =
        super::parse::read_dataset(&args.paths, super::parse::ingest_options(time, &args.time, None), printer);

    let mut all: Vec<HostEvent<'_>> = dataset
        .hosts
        .iter()
        .flat_map(|(host, data)| data.events.iter().map(move |event| HostEvent { host, event }))
        .collect();
    if all.is_empty() {
        let names: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        printer.error(&anyhow::anyhow!(
            "no events read from {} (expected .evtx, or an event export as XML, CSV or text)",
            names.join(", ")
        ));
        return Ok(ExitStatus::Error);
    }
    let events_read = all.len();
    all.retain(|he| filter.keeps(he.event));
    all.sort_by(|a, b| {
        a.event
            .time
            .cmp(&b.event.time)
            .then_with(|| a.host.cmp(b.host))
            .then_with(|| a.event.record_id.cmp(&b.event.record_id))
    });
    if all.is_empty() {
        printer.warn(&format!("none of the {events_read} events read matched the filters"));
    } else {
        printer.info(&format!("{} of {events_read} events listed", all.len()));
    }
    let output = args.output.output.as_deref();
    let text = match args.format {
        EventsFormat::Json => {
            let doc = EventsOutput {
                schema_version: EVENTS_SCHEMA_VERSION,
                events_read,
                events: all,
                diagnostics: &dataset.diagnostics,
            };
            let mut text = crate::untrusted::to_json_pretty_string(&doc)?;
            text.push('\n');
            text
        }
        EventsFormat::Csv => csv_table(&all)?,
        EventsFormat::Markdown => markdown(&all, events_read),
        EventsFormat::Text => text_view(&all, printer.width),
    };
    emit(output, text.as_bytes())?;
    Ok(ExitStatus::Success)
}

/// Binary units to three significant digits: `804 MiB`, `26.2 GiB`, `71.6 MiB`.
pub fn bytes(value: u64) -> String {
    super::diff::fmt_bytes(value as f64)
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3fZ").to_string()
}

/// `2d 03:04:05`.
fn duration(seconds: u64) -> String {
    let (d, rest) = (seconds / 86_400, seconds % 86_400);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// The provider without the `Microsoft-Windows-` prefix, for narrow columns.
fn short_provider(p: &str) -> &str {
    p.strip_prefix("Microsoft-Windows-").unwrap_or(p)
}

fn level_name(level: Option<u8>) -> &'static str {
    match level {
        Some(1) => "critical",
        Some(2) => "error",
        Some(3) => "warning",
        Some(0 | 4) => "info",
        Some(5) => "verbose",
        _ => "-",
    }
}

fn kind_name(kind: &EventKind) -> &'static str {
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

/// One line saying what the event means.
pub fn summary(e: &Event) -> String {
    let opt = |v: &Option<String>| v.as_deref().map(sanitize);
    match &e.kind {
        EventKind::ResourceExhaustion(re) => {
            let mut s = "low virtual memory diagnosed".to_owned();
            if let (Some(charge), Some(limit)) = (re.commit_charge, re.commit_limit) {
                let _ = write!(s, ": commit {} of {}", bytes(charge), bytes(limit));
            }
            s
        }
        EventKind::PoolEmpty { pool } => format!("server could not allocate: {} pool empty", pool.as_str()),
        EventKind::Boot { start_time } => match (e.event_id, start_time) {
            (_, Some(t)) => format!("system started at {}", when(*t)),
            (6009, None) => "boot: OS version logged".to_owned(),
            _ => "boot: event log service started".to_owned(),
        },
        EventKind::Uptime { seconds } => format!("uptime {}", duration(*seconds)),
        EventKind::Shutdown { process, reason, shutdown_type, user } => {
            let mut s = match e.event_id {
                1074 => format!("{} initiated", opt(shutdown_type).unwrap_or_else(|| "shutdown".to_owned())),
                13 => "operating system shutting down".to_owned(),
                _ => "clean shutdown: event log service stopped".to_owned(),
            };
            if let Some(p) = opt(process) {
                let _ = write!(s, " by {p}");
            }
            if let Some(u) = opt(user) {
                let _ = write!(s, " for {u}");
            }
            if let Some(r) = opt(reason) {
                let _ = write!(s, ": {r}");
            }
            s
        }
        EventKind::Crash { previous_shutdown, previous_shutdown_at, bugcheck_code, reason, user } => match e.event_id {
            41 => match bugcheck_code {
                Some(0) => "rebooted without a clean shutdown (no bugcheck: hang or power loss)".to_owned(),
                Some(code) => format!("rebooted without a clean shutdown after bugcheck 0x{code:X}"),
                None => "rebooted without a clean shutdown".to_owned(),
            },
            1076 => {
                let mut s = "reason given for the unexpected shutdown".to_owned();
                if let Some(u) = opt(user) {
                    let _ = write!(s, " by {u}");
                }
                if let Some(r) = opt(reason) {
                    let _ = write!(s, ": {r}");
                }
                s
            }
            _ => match (previous_shutdown_at, previous_shutdown) {
                (Some(t), _) => format!("previous shutdown at {} was unexpected", when(*t)),
                (None, Some(p)) => format!("previous shutdown at {} (local) was unexpected", sanitize(p)),
                (None, None) => "previous shutdown was unexpected".to_owned(),
            },
        },
        EventKind::Other => e
            .message
            .as_deref()
            .and_then(|m| m.lines().find(|l| !l.trim().is_empty()))
            .map(|l| {
                let l = sanitize(l.trim());
                if l.chars().count() > 100 {
                    format!("{}...", l.chars().take(100).collect::<String>())
                } else {
                    l
                }
            })
            .unwrap_or_default(),
    }
}

/// The evidence lines of a 2004 event: when, commit and pool figures, top tags, top processes. An export
/// without event data has none; its message is shown instead (as printed, never read for values).
fn exhaustion_details(re: &ResourceExhaustion, e: &Event, indent: &str, width: Option<usize>) -> String {
    let logged = e.time;
    let mut out = String::new();
    let opt = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), bytes);
    // `label  value` lines, the value wrapped under itself.
    let hanging = format!("{indent}{}", " ".repeat(15));
    let mut field = |label: &str, value: String| {
        out.push_str(&crate::table::wrap(&value, width, &format!("{indent}{label:<14} "), &hanging));
    };
    if let Some(t) = re.detected_at {
        let delta = (t - logged).num_milliseconds() as f64 / 1000.0;
        field("detected at", format!("{} ({delta:+.1} s from the log time)", when(t)));
    }
    if re.commit_limit.is_some() || re.commit_charge.is_some() {
        let pct = match (re.commit_charge, re.commit_limit) {
            (Some(c), Some(l)) if l > 0 => format!(" ({} of the limit)", crate::units::percent(c as f64 / l as f64)),
            _ => String::new(),
        };
        field(
            "commit",
            format!(
                "{} of {} limit{pct}; processes {}",
                opt(re.commit_charge),
                opt(re.commit_limit),
                opt(re.process_commit_charge)
            ),
        );
    }
    if re.paged_pool_usage.is_some() || re.nonpaged_pool_usage.is_some() {
        field("pool", format!("paged {}, nonpaged {}", opt(re.paged_pool_usage), opt(re.nonpaged_pool_usage)));
    }
    if re.physical_memory_size.is_some() {
        let memory = format!("{} of {} physical in use", opt(re.physical_memory_usage), opt(re.physical_memory_size));
        field("memory", memory);
    }
    if let Some(n) = re.process_count {
        field("processes", thousands(n));
    }
    for (label, tags) in [("paged tags", &re.paged_tags), ("nonpaged tags", &re.nonpaged_tags)] {
        if !tags.is_empty() {
            let list: Vec<String> = tags.iter().map(|t| format!("{} {}", sanitize(&t.tag), bytes(t.bytes))).collect();
            field(label, list.join(", "));
        }
    }
    if !re.processes.is_empty() {
        let _ = writeln!(out, "{indent}top processes by commit charge:");
        let mut table =
            TextTable::new(crate::table::columns(&["process@f", "pid@r", "commit@r", "handles@r", "started (UTC)@1"]));
        for p in &re.processes {
            table.push(vec![
                p.name.clone(),
                p.pid.to_string(),
                bytes(p.commit_charge),
                thousands(p.handle_count),
                p.created_at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default(),
            ]);
        }
        out.push_str(&table.render(&format!("{indent}  "), width));
    }
    if out.is_empty() {
        let _ = writeln!(out, "{indent}(no event data in this export: figures unavailable)");
        if let Some(message) = &e.message {
            let _ = writeln!(out, "{indent}message:");
            for line in message.lines().filter(|l| !l.trim().is_empty()) {
                out.push_str(&crate::table::wrap(
                    &sanitize(line.trim()),
                    width,
                    &format!("{indent}  "),
                    &format!("{indent}  "),
                ));
            }
        }
    }
    out
}

/// The readable listing: a table of events fitted to `width` (the summary folds; the level, host and record
/// columns go first when it is narrow), then the evidence of each 2004 event under a heading naming its row.
fn text_view(events: &[HostEvent<'_>], width: Option<usize>) -> String {
    let one_host = events.windows(2).all(|w| w[0].host == w[1].host);
    // Row numbers only when the evidence below the table refers to them.
    let numbered = events.iter().any(|he| matches!(he.event.kind, EventKind::ResourceExhaustion(_)));
    let mut specs = if numbered { vec!["#@r", "time (UTC)"] } else { vec!["time (UTC)"] };
    if !one_host {
        specs.push("host@1");
    }
    specs.extend(["provider@f", "id@r", "level@2", "summary@f", "record@r3"]);
    let mut table = TextTable::new(crate::table::columns(&specs));
    for (i, he) in events.iter().enumerate() {
        let e = he.event;
        // Seconds are enough to read by; the order (sub-second included) is the sort's.
        let time = e.time.format("%Y-%m-%d %H:%M:%S").to_string();
        let mut row = if numbered { vec![format!("{}", i + 1), time] } else { vec![time] };
        if !one_host {
            row.push(he.host.to_owned());
        }
        row.extend([
            short_provider(&e.provider).to_owned(),
            e.event_id.to_string(),
            level_name(e.level).to_owned(),
            summary(e),
            e.record_id.map(|r| format!("#{r}")).unwrap_or_default(),
        ]);
        table.push(row);
    }
    let mut out = String::new();
    if let (true, Some(first)) = (one_host, events.first()) {
        let _ = writeln!(out, "Events of host {}", sanitize(first.host));
    }
    out.push_str(&table.render("", width));
    for (i, he) in events.iter().enumerate() {
        if let EventKind::ResourceExhaustion(re) = &he.event.kind {
            let _ =
                writeln!(out, "\n[{}] resource exhaustion on {} at {}:", i + 1, sanitize(he.host), when(he.event.time));
            out.push_str(&exhaustion_details(re, he.event, "  ", width));
        }
    }
    out
}

/// CSV: one row per event.
fn csv_table(events: &[HostEvent<'_>]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "time",
        "host",
        "provider",
        "event_id",
        "level",
        "channel",
        "computer",
        "record_id",
        "kind",
        "summary",
        "source",
    ])?;
    for he in events {
        let e = he.event;
        w.write_record([
            e.time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            sanitize(he.host),
            sanitize(&e.provider),
            e.event_id.to_string(),
            e.level.map(|l| l.to_string()).unwrap_or_default(),
            e.channel.as_deref().map(sanitize).unwrap_or_default(),
            e.computer.as_deref().map(sanitize).unwrap_or_default(),
            e.record_id.map(|r| r.to_string()).unwrap_or_default(),
            kind_name(&e.kind).to_owned(),
            summary(e),
            sanitize(&source_text(&e.source)),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {e}"))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `path:line` or `path@0x0000abcd`, as diagnostics print places.
fn source_text(source: &SourceRef) -> String {
    match (source.line, source.offset) {
        (Some(line), _) => format!("{}:{line}", source.path),
        (None, Some(offset)) => format!("{}@0x{offset:08x}", source.path),
        (None, None) => source.path.clone(),
    }
}

/// Markdown for a ticket: a table of events, then the evidence of each 2004 event.
fn markdown(events: &[HostEvent<'_>], read: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Events\n\n{} of {read} events read.\n", events.len());
    if events.is_empty() {
        return out;
    }
    // The table model keeps GFM tables to six columns: the level goes first (the kind says more).
    let mut table = TextTable::new(crate::table::columns(&[
        "time (UTC)",
        "host",
        "provider",
        "id@r",
        "level@1",
        "kind",
        "summary",
    ]));
    for he in events {
        let e = he.event;
        table.push(vec![
            when(e.time),
            he.host.to_owned(),
            short_provider(&e.provider).to_owned(),
            e.event_id.to_string(),
            level_name(e.level).to_owned(),
            kind_name(&e.kind).to_owned(),
            summary(e),
        ]);
    }
    out.push_str(&table.render_markdown());
    for he in events {
        if let EventKind::ResourceExhaustion(re) = &he.event.kind {
            let _ = writeln!(
                out,
                "\n## Resource exhaustion on {} at {}\n",
                crate::table::markdown_cell(he.host),
                when(he.event.time)
            );
            let _ = writeln!(out, "```\n{}```", exhaustion_details(re, he.event, "", None));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(843_325_440), "804 MiB");
        assert_eq!(bytes(75_059_936), "71.6 MiB");
        assert_eq!(bytes(28_285_681_664), "26.3 GiB");
        assert_eq!(bytes(3_685_900_288), "3.43 GiB");
    }

    #[test]
    fn grouping_and_durations() {
        assert_eq!(thousands(359_617), "359,617");
        assert_eq!(thousands(12), "12");
        assert_eq!(duration(46), "00:00:46");
        assert_eq!(duration(93_784), "1d 02:03:04");
    }
}
