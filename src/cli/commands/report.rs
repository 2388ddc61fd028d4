//! `poolscope report`: read the inputs, analyse them and write the evidence folder (HTML, Markdown,
//! JSON, data tables, charts) with [`crate::report::write_report`].

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use super::analyze::{parse_duration_hours, FailOn};
use super::parse::read_inputs;
use crate::analysis::limits::parse_bytes;
use crate::analysis::suspects::SuspectRule;
use crate::analysis::{analyze, AnalyzeOptions};
use crate::cli::args::TimeArgs;
use crate::cli::printer::sanitize;
use crate::cli::{ExitStatus, Printer};
use crate::parse::pooltag::{self, TagDescriptions};
use crate::report::{write_report, ChartFormat, ReportOptions};

/// Arguments of `poolscope report`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
DIR gets:
  index.html     one self-contained page (no scripts, no network): verdict, suspects, projections with the
                 projected-against-observed check, attribution, a section per suspect tag, events, inputs
  summary.md     the verdict and the evidence table to paste into a ticket
  analysis.json  exactly what `poolscope analyze --format json` prints
  data/          pool_samples, handle_samples and events as CSV (and Parquet with --parquet)
  charts/        pool totals, projections, each suspect against its handles, handles by type (PNG or SVG)

DIR must not be inside an input folder: the report never writes next to the evidence.
The analysis options are those of `poolscope analyze`. Exit codes: 0 success, 1 a leak was found and
--fail-on leak was given, 2 error.")]
pub struct ReportArgs {
    /// Files or directories (walked recursively; formats detected by content).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Folder to write the report into (created when missing; files in it are replaced).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Picture format of the chart files (the HTML embeds the same pictures).
    #[arg(long, value_enum, default_value_t = ChartsArg::Png, value_name = "FORMAT")]
    pub charts: ChartsArg,
    /// Also write the data tables as Parquet.
    #[arg(long)]
    pub parquet: bool,
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
    /// Exit with code 1 when this is found (the report is written either way).
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<FailOn>,
    /// Time options.
    #[command(flatten)]
    pub time: TimeArgs,
}

/// `--charts` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChartsArg {
    /// PNG bitmaps, 1200x700.
    Png,
    /// SVG vector drawings.
    Svg,
}

fn bytes_arg(text: &str) -> std::result::Result<u64, String> {
    parse_bytes(text).ok_or_else(|| format!("expected a size like 3221225472, 3G, 2.5GiB or 512M, not {text:?}"))
}

fn duration_arg(text: &str) -> std::result::Result<f64, String> {
    parse_duration_hours(text).ok_or_else(|| format!("expected a duration like 2h, 30m or 1h30m, not {text:?}"))
}

fn fdr_arg(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(q) if q > 0.0 && q < 1.0 => Ok(q),
        _ => Err(format!("expected a rate between 0 and 1 such as 0.01, not {text:?}")),
    }
}

/// Runs `poolscope report`.
pub fn run(args: &ReportArgs, printer: &Printer) -> Result<ExitStatus> {
    // Refuse a bad output folder before the (long) read of the inputs.
    crate::report::check_output_dir(&args.output, &args.paths)?;
    let mut descriptions = TagDescriptions::builtin();
    if let Some(path) = &args.pooltag {
        let (file, diagnostics) =
            pooltag::load(path).with_context(|| format!("--pooltag {}", sanitize(&path.display().to_string())))?;
        printer.diagnostics(&diagnostics);
        descriptions = TagDescriptions::with_pooltag(file);
    }
    let dataset = read_inputs(&args.paths, &args.time, None, printer)?;
    if dataset.hosts.values().all(|h| h.pool_snapshots.is_empty()) {
        bail!(
            "no poolmon snapshots in the inputs: a report needs poolmon output to measure pool growth \
             (handle.exe and event-log files alone cannot show it)"
        );
    }
    let options = AnalyzeOptions {
        warmup_hours: args.warmup,
        limit_paged: args.limit_paged,
        limit_nonpaged: args.limit_nonpaged,
        rule: SuspectRule { fdr: args.fdr, ..SuspectRule::default() },
        tz: args.time.tz.clone().unwrap_or_else(|| "UTC".to_owned()),
        descriptions,
    };
    let analysis = analyze(&dataset, &options);
    printer.diagnostics(&analysis.diagnostics[dataset.diagnostics.len().min(analysis.diagnostics.len())..]);
    let report_options = ReportOptions {
        charts: match args.charts {
            ChartsArg::Png => ChartFormat::Png,
            ChartsArg::Svg => ChartFormat::Svg,
        },
        parquet: args.parquet,
        inputs: args.paths.clone(),
        // No generation time: the same inputs give byte-identical files.
        generated_at: None,
        ..ReportOptions::default()
    };
    let files = write_report(&analysis, &dataset, &report_options, &args.output)
        .with_context(|| format!("writing the report to {}", sanitize(&args.output.display().to_string())))?;
    if !printer.quiet {
        for v in &analysis.verdicts {
            let flag = if v.leak_found { "leak found" } else { "no significant leak" };
            eprintln!("poolscope: {} (boot {}): {flag}: {}", sanitize(&v.host), v.boot, sanitize(&v.text));
        }
        eprintln!(
            "poolscope: wrote {} ({} chart(s), {} data file(s), summary.md, analysis.json)",
            sanitize(&files.index_html.display().to_string()),
            files.charts.len(),
            files.data.len()
        );
    }
    let leak = analysis.verdicts.iter().any(|v| v.leak_found);
    Ok(if args.fail_on == Some(FailOn::Leak) && leak { ExitStatus::Found } else { ExitStatus::Success })
}
