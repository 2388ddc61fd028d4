//! `poolscope analyze`: find the leaking tag, its rate, the time to exhaustion and who grows with it.
//!
//! Text and Markdown put the verdict first, then the evidence tables (suspects, projections with the
//! observed check, correlations, boots) and a count of diagnostics; JSON is the [`Analysis`] itself.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::{Args, ValueEnum};

use super::emit;
use crate::analysis::suspects::SuspectRule;
use crate::analysis::verdict::hours_text;
use crate::analysis::{Analysis, AnalyzeOptions};
use crate::cli::args::{OutputArgs, TimeArgs};
use crate::cli::printer::sanitize;
use crate::cli::{ExitStatus, Printer};
use crate::model::{Dataset, Severity};
use crate::parse::pooltag::{self, TagDescriptions};
use crate::table::{columns, markdown_cell, wrap, Column, TextTable};
use crate::units::percent;
use crate::units::{bytes, rate, thousands};

/// Arguments of `poolscope analyze`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Every statistic is per host and per boot, on the window after warm-up (default: the first 10% of the boot \
or 1 hour, whichever is shorter). A tag is a suspect when its Mann-Kendall trend (on hourly medians, \
Hamed-Rao corrected, Benjamini-Hochberg across the host's tags) is significant, it grows at least 64 KiB/h, \
its rise stands well above its own wander, and it keeps growing over the last half of the window (caches \
that level off are not flagged). Run with -v to see why a growing tag was not flagged.

Limits come from --limit-paged/--limit-nonpaged, else a 2004 event, else poolmon's Limit: (commit), else \
Microsoft's documented maxima for the release (from the event log) and RAM.

Exit codes: 0 success, 1 a leak was found and --fail-on leak was given, 2 error or nothing usable read.")]
pub struct AnalyzeArgs {
    /// Files or directories (walked recursively; formats detected by content).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AnalyzeFormat::Text)]
    pub format: AnalyzeFormat,
    /// Analysis options (shared with `poolscope report`).
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Output file.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The analysis options that `analyze` and `report` share, with the time options.
#[derive(Debug, Args)]
pub struct AnalysisArgs {
    /// Paged pool limit (bytes, or with a unit: 3G, 2.5GiB, 512M).
    #[arg(long, value_name = "BYTES", value_parser = bytes_arg)]
    pub limit_paged: Option<u64>,
    /// Nonpaged pool limit (bytes, or with a unit: 3G, 2.5GiB, 512M).
    #[arg(long, value_name = "BYTES", value_parser = bytes_arg)]
    pub limit_nonpaged: Option<u64>,
    /// Warm-up to leave out at the start of each boot (2h, 30m, 1h30m, 0).
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    pub warmup: Option<f64>,
    /// False-discovery rate of the trend tests.
    #[arg(long, value_name = "Q", default_value_t = 0.01, value_parser = fdr_arg)]
    pub fdr: f64,
    /// pooltag.txt for tag descriptions (from the Debugging Tools for Windows).
    #[arg(long, value_name = "FILE")]
    pub pooltag: Option<PathBuf>,
    /// Exit with code 1 when this is found.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<FailOn>,
    /// Time options.
    #[command(flatten)]
    pub time: TimeArgs,
}

/// The inputs as [`AnalysisArgs::survey`] found them, with the tag descriptions the analysis will use.
pub struct Surveyed {
    /// Built-in descriptions, with `--pooltag`'s file over them.
    pub descriptions: TagDescriptions,
    /// Every host, with its events; poolmon and handle.exe records are read by [`crate::ingest::load_host`].
    pub dataset: Dataset,
    /// The files found, with what [`crate::ingest::load_host`] needs to read each.
    pub files: Vec<crate::ingest::ReadFile>,
}

impl AnalysisArgs {
    /// Loads tag descriptions, reads the inputs (which must hold poolmon, handle.exe or event records: `what`
    /// names the command in the error), runs the analysis and prints its diagnostics.
    pub fn read_and_analyze(&self, paths: &[PathBuf], what: &str, printer: &Printer) -> Result<(Dataset, Analysis)> {
        let surveyed = self.survey(paths, printer)?;
        self.read_all_and_analyze(surveyed, what, printer)
    }

    /// The same read and analysis as `analyze` (same diagnostics in the same place), but every host is kept
    /// once read: the caller (a single-host report) draws them.
    pub fn read_all_and_analyze(
        &self,
        surveyed: Surveyed,
        what: &str,
        printer: &Printer,
    ) -> Result<(Dataset, Analysis)> {
        use rayon::prelude::*;
        let Surveyed { descriptions, mut dataset, files } = surveyed;
        let read: std::collections::BTreeMap<String, Vec<crate::model::Diagnostic>> = dataset
            .hosts
            .par_iter_mut()
            .map(|(host, data)| {
                let (full, diagnostics) = crate::ingest::load_host(host, data, &files, None);
                *data = full;
                (host.clone(), diagnostics)
            })
            .collect();
        let analysis = self.analyze_dataset(&dataset, descriptions, what, printer, &|host, data| {
            (Cow::Borrowed(data), read.get(host).cloned().unwrap_or_default())
        })?;
        Ok((dataset, analysis))
    }

    /// Reads and analyses one host at a time: the inputs are surveyed without reading poolmon and handle.exe
    /// files ([`crate::ingest::survey_deferred`]), and each host's are read just before it is analysed and dropped
    /// after, so memory is bounded by the hosts analysed at once rather than the fleet. Returns the survey and its
    /// files with the analysis, so a caller can load each host again ([`crate::ingest::load_host`]).
    pub fn survey_and_analyze(
        &self,
        paths: &[PathBuf],
        what: &str,
        printer: &Printer,
    ) -> Result<(Dataset, Vec<crate::ingest::ReadFile>, Analysis)> {
        let Surveyed { descriptions, dataset, files } = self.survey(paths, printer)?;
        let analysis = self.analyze_survey(&dataset, &files, descriptions, what, printer)?;
        Ok((dataset, files, analysis))
    }

    /// Loads the tag descriptions (first: a bad `--pooltag` fails before the long read) and surveys the
    /// inputs: hosts decided, events read, poolmon and handle.exe files found but not read yet.
    pub fn survey(&self, paths: &[PathBuf], printer: &Printer) -> Result<Surveyed> {
        let descriptions = self.descriptions(printer)?;
        let (dataset, files) = super::parse::survey_inputs(paths, &self.time, None, printer, true)?;
        Ok(Surveyed { descriptions, dataset, files })
    }

    /// Analyses a survey one host at a time (see [`AnalysisArgs::survey_and_analyze`]).
    pub fn analyze_survey(
        &self,
        survey: &Dataset,
        files: &[crate::ingest::ReadFile],
        descriptions: TagDescriptions,
        what: &str,
        printer: &Printer,
    ) -> Result<Analysis> {
        self.analyze_dataset(survey, descriptions, what, printer, &|host, data| {
            let (full, diagnostics) = crate::ingest::load_host(host, data, files, None);
            (Cow::Owned(full), diagnostics)
        })
    }

    /// The tag descriptions: built in, with `--pooltag`'s file over them.
    fn descriptions(&self, printer: &Printer) -> Result<TagDescriptions> {
        let mut descriptions = TagDescriptions::builtin();
        if let Some(path) = &self.pooltag {
            let (file, diagnostics) =
                pooltag::load(path).with_context(|| format!("--pooltag {}", sanitize(&path.display().to_string())))?;
            printer.diagnostics(&diagnostics);
            descriptions = TagDescriptions::with_pooltag(file);
        }
        Ok(descriptions)
    }

    /// Analyses a [`crate::ingest::survey_deferred`] read with this command's options, its hosts completed by
    /// `load`.
    fn analyze_dataset(
        &self,
        dataset: &Dataset,
        descriptions: TagDescriptions,
        what: &str,
        printer: &Printer,
        load: &crate::analysis::LoadHost<'_>,
    ) -> Result<Analysis> {
        // A survey's hosts may hold nothing yet (their files are read when each is analysed), so a host that
        // is present counts.
        if dataset.hosts.is_empty() {
            bail!("nothing to analyse in the inputs: {what} needs poolmon, handle.exe or event-log output");
        }
        let options = AnalyzeOptions {
            warmup_hours: self.warmup,
            limit_paged: self.limit_paged,
            limit_nonpaged: self.limit_nonpaged,
            rule: SuspectRule { fdr: self.fdr, ..SuspectRule::default() },
            tz: self.time.tz.clone().unwrap_or_else(|| "UTC".to_owned()),
            descriptions,
        };
        let analysis = crate::analysis::analyze_loading(dataset, &options, load);
        printer.diagnostics(&analysis.diagnostics[dataset.diagnostics.len().min(analysis.diagnostics.len())..]);
        Ok(analysis)
    }

    /// The exit status `--fail-on` asks for, given the analysis.
    pub fn exit_status(&self, analysis: &Analysis) -> ExitStatus {
        let leak = analysis.verdicts.iter().any(|v| v.leak_found);
        if self.fail_on == Some(FailOn::Leak) && leak {
            ExitStatus::Found
        } else {
            ExitStatus::Success
        }
    }
}

/// `analyze --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalyzeFormat {
    /// The verdict and aligned tables.
    #[value(alias = "table")]
    Text,
    /// The analysis as JSON (flat arrays, each element with its host and boot).
    Json,
    /// The verdict and tables in Markdown, for tickets.
    Markdown,
}

/// `--fail-on` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// A significant leak on any host.
    Leak,
}

fn bytes_arg(text: &str) -> std::result::Result<u64, String> {
    crate::cli::args::size_arg(text)
}

fn fdr_arg(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(q) if q > 0.0 && q < 1.0 => Ok(q),
        _ => Err(format!("expected a rate between 0 and 1 such as 0.01, not {text:?}")),
    }
}

/// Reads a duration (`2h`, `30m`, `1h30m`, `90s`, `1.5h`, `0`) as hours.
pub fn parse_duration_hours(text: &str) -> Option<f64> {
    let s = text.trim();
    if s == "0" {
        return Some(0.0);
    }
    let mut total = 0.0;
    let mut number = String::new();
    let mut any = false;
    for c in s.chars() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let value: f64 = number.parse().ok()?;
        number.clear();
        total += value
            * match c {
                'd' => 24.0,
                'h' => 1.0,
                'm' => 1.0 / 60.0,
                's' => 1.0 / 3600.0,
                _ => return None,
            };
        any = true;
    }
    (number.is_empty() && any && total.is_finite()).then_some(total)
}

fn duration_arg(text: &str) -> std::result::Result<f64, String> {
    parse_duration_hours(text).ok_or_else(|| format!("expected a duration like 2h, 30m or 1h30m, not {text:?}"))
}

/// Runs `poolscope analyze`.
pub fn run(args: &AnalyzeArgs, printer: &Printer) -> Result<ExitStatus> {
    super::check_output(&args.output, &args.paths)?;
    let (_, _, analysis) = args.analysis.survey_and_analyze(&args.paths, "analyze", printer)?;
    let tz: Tz = analysis.parameters.tz.parse().unwrap_or(chrono_tz::UTC);
    let bytes = match args.format {
        AnalyzeFormat::Json => {
            let mut v = crate::untrusted::to_json_pretty(&analysis)?;
            v.push(b'\n');
            v
        }
        AnalyzeFormat::Text => render(&analysis, tz, Style::Text, printer.width).into_bytes(),
        AnalyzeFormat::Markdown => render(&analysis, tz, Style::Markdown, printer.width).into_bytes(),
    };
    emit(args.output.output.as_deref(), &bytes)?;
    Ok(args.analysis.exit_status(&analysis))
}

/// Text or Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Text,
    Markdown,
}

/// A titled table: columns and rows of plain-text cells (escaped when rendered).
struct Table {
    title: String,
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
}

/// A tag shown with its trailing spaces visible: `'Key '` in text, `Key·` in Markdown (where quotes or a
/// code span would need escaping).
fn tag_cell(tag: &str, style: Style) -> String {
    match style {
        Style::Text => format!("'{}'", sanitize(tag)),
        Style::Markdown => crate::report::format::tag(tag),
    }
}

fn time_cell(t: Option<DateTime<Utc>>, tz: Tz) -> String {
    t.map_or_else(|| "-".to_owned(), |t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
}

fn table_text(t: &Table, style: Style, width: Option<usize>) -> String {
    let table = TextTable { columns: t.columns.clone(), rows: t.rows.clone() };
    match style {
        Style::Text => format!("{}{}\n", wrap(&t.title, width, "", "  "), table.render("  ", width)),
        Style::Markdown => format!("## {}\n\n{}\n", t.title, table.render_markdown()),
    }
}

/// Renders the analysis as text or Markdown: verdicts (the five-line block, then the explanation), then the
/// evidence tables.
fn render(a: &Analysis, tz: Tz, style: Style, width: Option<usize>) -> String {
    let mut out = String::new();
    let zone = tz.name();
    match style {
        Style::Text => out.push_str("Verdict\n"),
        Style::Markdown => out.push_str("# poolscope analysis\n\n## Verdict\n\n"),
    }
    for v in &a.verdicts {
        let flag = if v.leak_found { "leak found" } else { "no significant leak" };
        match style {
            Style::Text => {
                let _ = writeln!(out, "  {} (boot {}): {flag}", sanitize(&v.host), v.boot);
                for (label, line) in v.block.lines() {
                    let head = format!("    {label:<17} ");
                    out.push_str(&wrap(&sanitize(line), width, &head, &" ".repeat(head.len())));
                }
                out.push('\n');
                out.push_str(&wrap(&sanitize(&v.text), width, "  ", "  "));
            }
            Style::Markdown => {
                let _ = writeln!(out, "- **{}** (boot {}), {flag}", markdown_cell(&v.host), v.boot);
                for (label, line) in v.block.lines() {
                    let _ = writeln!(out, "  - **{label}:** {}", markdown_cell(line));
                }
                let _ = writeln!(out, "\n  {}", markdown_cell(&v.text));
            }
        }
        out.push('\n');
    }
    out.push('\n');
    let suspects = Table {
        title: "Suspects (ranked by sustained bytes/hour after warm-up)".to_owned(),
        columns: columns(&[
            "host",
            "boot@r",
            "rank@r4",
            "tag",
            "pool",
            "rate@r",
            "95% CI@1",
            "share@r2",
            "allocs/h@r5",
            "per alloc@r",
            "alloc:free@r6",
            "q@r3",
            "also leaks in@4",
            "now@r2",
            "what@f",
        ]),
        rows: a
            .suspects
            .iter()
            .map(|s| {
                vec![
                    sanitize(&s.host),
                    s.boot.to_string(),
                    s.rank.to_string(),
                    tag_cell(&s.tag, style),
                    s.pool.to_string(),
                    rate(s.bytes_per_hour),
                    format!("{} .. {}", rate(s.bytes_per_hour_ci[0]), rate(s.bytes_per_hour_ci[1])),
                    percent(s.share_of_growth),
                    format!("{:.0}", s.outstanding_per_hour),
                    format!(
                        "{}{}",
                        thousands(s.per_alloc_bytes.round().max(0.0) as u64),
                        if s.per_alloc_stable { " (fixed)" } else { "" }
                    ),
                    format!("{:.2}", s.alloc_free_ratio),
                    format!("{:.1e}", s.trend_q),
                    crate::report::tables::boots_words(&s.repeats_in_boots),
                    bytes(s.bytes_now as f64),
                    sanitize(s.driver.as_deref().or(s.description.as_deref()).unwrap_or("-"))
                        .chars()
                        .take(60)
                        .collect(),
                ]
            })
            .collect(),
    };
    let projections = Table {
        title: format!("Projections (times in {zone})"),
        columns: columns(&[
            "host",
            "boot@r",
            "resource",
            "now@r3",
            "limit@r",
            "limit from@f",
            "sustained rate@r",
            "exhaustion",
            "range@2",
            "naive fit@4",
            "60%@5",
            "80%@5",
            "observed@f1",
            "error@1",
        ]),
        rows: a
            .projections
            .iter()
            .map(|p| {
                let error = match (p.exhaustion_at, p.observed_exhaustion_at) {
                    (Some(proj), Some(obs)) => {
                        let h = crate::analysis::boots::hours_between(obs, proj);
                        let span = crate::analysis::boots::hours_between(
                            a.boots.iter().find(|b| b.host == p.host && b.boot == p.boot).map_or(obs, |b| b.start),
                            obs,
                        );
                        // Positive: the projection came later than the observed exhaustion.
                        let sign = if h < 0.0 { "-" } else { "+" };
                        if span > 0.0 {
                            format!("{sign}{} ({} of uptime)", hours_text(h.abs()), percent(h.abs() / span))
                        } else {
                            format!("{sign}{}", hours_text(h.abs()))
                        }
                    }
                    _ => "-".to_owned(),
                };
                vec![
                    sanitize(&p.host),
                    p.boot.to_string(),
                    p.pool_name().to_owned(),
                    bytes(p.now_bytes as f64),
                    bytes(p.limit_bytes as f64),
                    sanitize(&p.limit_source),
                    rate(p.bytes_per_hour),
                    time_cell(p.exhaustion_at, tz),
                    match p.exhaustion_range {
                        Some([lo, hi]) => format!("{} .. {}", time_cell(Some(lo), tz), time_cell(Some(hi), tz)),
                        None => "-".to_owned(),
                    },
                    time_cell(p.naive_exhaustion_at, tz),
                    time_cell(p.warning_at, tz),
                    time_cell(p.critical_at, tz),
                    match (&p.observed_evidence, p.observed_exhaustion_at) {
                        (Some(e), _) => sanitize(e),
                        (None, Some(t)) => time_cell(Some(t), tz),
                        _ => "-".to_owned(),
                    },
                    error,
                ]
            })
            .collect(),
    };
    let attributions = Table {
        title: "Who holds the leaked objects (share of the object type's handle growth)".to_owned(),
        columns: columns(&[
            "host",
            "boot@r",
            "tag",
            "object",
            "process",
            "pid@r",
            "handles/h@r",
            "share@r",
            "account@f",
            "account share@r2",
            "evidence@f1",
        ]),
        rows: a
            .attributions
            .iter()
            .map(|w| {
                let pct = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), percent);
                vec![
                    sanitize(&w.host),
                    w.boot.to_string(),
                    tag_cell(&w.tag, style),
                    sanitize(&w.object_type),
                    sanitize(&w.process),
                    w.pid.map_or_else(|| "-".to_owned(), |p| p.to_string()),
                    w.handles_per_hour.map_or_else(|| "-".to_owned(), |r| format!("{r:.1}")),
                    match (w.share_of_growth, w.held_share) {
                        (Some(_), _) => pct(w.share_of_growth),
                        (None, Some(h)) => format!("held {}", pct(Some(h))),
                        _ => "-".to_owned(),
                    },
                    sanitize(w.account.as_deref().unwrap_or("-")),
                    pct(w.account_share),
                    sanitize(&w.strength),
                ]
            })
            .collect(),
    };
    let correlations = Table {
        title: "Correlations (Spearman on increments, best lag; q over every series and lag tried)".to_owned(),
        columns: columns(&[
            "host",
            "boot@r",
            "tag",
            "process",
            "handle type",
            "account@f2",
            "spearman@r",
            "lag@r3",
            "pairs@r",
            "q@r",
            "handles/h@r2",
            "object of tag@1",
        ]),
        rows: a
            .correlations
            .iter()
            .map(|c| {
                vec![
                    sanitize(&c.host),
                    c.boot.to_string(),
                    tag_cell(&c.tag, style),
                    sanitize(&c.process),
                    sanitize(&c.handle_type),
                    sanitize(c.account.as_deref().unwrap_or("-")),
                    format!("{:.2}", c.coefficient),
                    c.lag.to_string(),
                    c.samples.to_string(),
                    format!("{:.0e}", c.q),
                    format!("{:.1}", c.handles_per_hour),
                    if c.invariant { "yes" } else { "-" }.to_owned(),
                ]
            })
            .collect(),
    };
    let undecided = Table {
        title: "Undecided (growing, but slowing down like a cache warming up; not ranked)".to_owned(),
        columns: columns(&[
            "host",
            "boot@r",
            "tag",
            "pool",
            "rate@r",
            "early half@r1",
            "late half@r1",
            "per alloc@r2",
            "would decide it@f",
        ]),
        rows: a
            .undecided
            .iter()
            .map(|u| {
                vec![
                    sanitize(&u.host),
                    u.boot.to_string(),
                    tag_cell(&u.tag, style),
                    u.pool.to_string(),
                    rate(u.bytes_per_hour),
                    rate(u.early_bytes_per_hour),
                    rate(u.late_bytes_per_hour),
                    thousands(u.per_alloc_bytes.round().max(0.0) as u64),
                    sanitize(&u.decide),
                ]
            })
            .collect(),
    };
    let boots = Table {
        title: format!("Boots (times in {zone})"),
        columns: columns(&[
            "host",
            "boot@r",
            "start",
            "start evidence@f",
            "end",
            "end evidence@f",
            "samples@r2",
            "fit from@1",
        ]),
        rows: a
            .boots
            .iter()
            .map(|b| {
                vec![
                    sanitize(&b.host),
                    b.boot.to_string(),
                    time_cell(Some(b.start), tz),
                    sanitize(&b.start_evidence),
                    time_cell(Some(b.end), tz),
                    sanitize(&b.end_evidence),
                    b.pool_samples.to_string(),
                    time_cell(Some(b.fit_start), tz),
                ]
            })
            .collect(),
    };
    let stacks = Table {
        title: "Allocation stacks (WPA pool trace; AIFO: allocated inside it, outstanding at its end)".to_owned(),
        columns: columns(&[
            "host",
            "tag",
            "pool@2",
            "suspect",
            "AIFO@r",
            "AIFO bytes@r3",
            "commonest size@r",
            "allocated from@f",
            "rest of the trace@f1",
        ]),
        rows: a
            .allocation_stacks
            .iter()
            .map(|s| {
                vec![
                    sanitize(&s.host),
                    tag_cell(&s.tag, style),
                    s.pool.map_or_else(|| "-".to_owned(), |p| p.to_string()),
                    if s.suspect { "yes" } else { "-" }.to_owned(),
                    thousands(s.outstanding),
                    bytes(s.outstanding_bytes as f64),
                    crate::report::stacks::commonest_size(s),
                    crate::report::stacks::top_caller(s),
                    crate::report::stacks::other_kinds(s),
                ]
            })
            .collect(),
    };
    // One host (the usual post-mortem): its name goes into the titles instead of a column repeating it.
    let mut hosts: Vec<&str> = a.boots.iter().map(|b| b.host.as_str()).collect();
    hosts.dedup();
    let single_host = match hosts.as_slice() {
        [one] => Some(sanitize(one)),
        _ => None,
    };
    let optional = [undecided.title.clone(), stacks.title.clone()];
    for mut t in [suspects, undecided, projections, attributions, correlations, stacks, boots] {
        // The undecided and stacks tables only when there is one (most analyses have none).
        if t.rows.is_empty() && optional.contains(&t.title) {
            continue;
        }
        if let Some(host) = &single_host {
            if t.rows.iter().all(|r| r.first() == Some(host)) {
                t.columns.remove(0);
                for r in &mut t.rows {
                    r.remove(0);
                }
                t.title = match t.title.split_once(" (") {
                    Some((head, rest)) => format!("{head} on {host} ({rest}"),
                    None => format!("{} on {host}", t.title),
                };
            }
        }
        if t.rows.is_empty() {
            match style {
                Style::Text => {
                    let _ = writeln!(out, "{}\n  (none)\n", t.title);
                }
                Style::Markdown => {
                    let _ = writeln!(out, "## {}\n\n(none)\n", t.title);
                }
            }
        } else {
            out.push_str(&table_text(&t, style, width));
        }
    }
    let count = |sev| a.diagnostics.iter().filter(|d| d.severity == sev).count();
    let params = &a.parameters;
    let warmup =
        params.warmup_hours.map_or_else(|| "10% of the boot or 1 h, whichever is shorter".to_owned(), hours_text);
    let footer = format!(
        "Diagnostics: {} errors, {} warnings, {} notes (see `poolscope parse` or -v). Warm-up: {warmup}; FDR {}.",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        params.fdr
    );
    match style {
        Style::Text => out.push_str(&wrap(&footer, width, "", "")),
        Style::Markdown => {
            out.push_str(&markdown_cell(&footer));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_hours("2h"), Some(2.0));
        assert_eq!(parse_duration_hours("30m"), Some(0.5));
        assert_eq!(parse_duration_hours("1h30m"), Some(1.5));
        assert_eq!(parse_duration_hours("0"), Some(0.0));
        assert_eq!(parse_duration_hours("1.5h"), Some(1.5));
        assert_eq!(parse_duration_hours("2"), None);
        assert_eq!(parse_duration_hours("2x"), None);
        assert_eq!(parse_duration_hours(""), None);
    }

    #[test]
    fn cells_neutralise_control_characters_and_show_tag_spaces() {
        assert_eq!(sanitize("x\u{1b}[2J"), r"x\x1b[2J");
        assert_eq!(tag_cell("Key ", Style::Markdown), "Key·");
        assert_eq!(tag_cell("Key ", Style::Text), "'Key '");
    }

    #[test]
    fn verdict_lines_wrap_under_their_label() {
        let text = wrap("one two three four five six", Some(20), "  Who: ", "       ");
        assert_eq!(text, "  Who: one two three\n       four five six\n");
        assert_eq!(wrap("x", Some(20), "", ""), "x\n");
    }
}
