//! `poolscope report`: read the inputs, analyse them and write the evidence folder (HTML, Markdown,
//! JSON, data tables, charts) with [`crate::report::write_report`].

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::analyze::{AnalysisArgs, Surveyed};
use crate::cli::printer::sanitize;
use crate::cli::{ExitStatus, Printer};
use crate::model::Dataset;
use crate::report::fleet::write_host_by_host;
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
  charts/        pool totals, projections, each suspect against its handles, Token handles by account,
                 handles by type, the top growing tags, the caches cleared as suspects (PNG or SVG)
  hosts/         with several hosts: one page per host; index.html is then the fleet overview

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
    /// Analysis options (those of `poolscope analyze`); with `--fail-on` the report is written either way.
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// `--charts` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChartsArg {
    /// PNG bitmaps, 1200x700.
    Png,
    /// SVG vector drawings.
    Svg,
}

/// Runs `poolscope report`.
pub fn run(args: &ReportArgs, printer: &Printer) -> Result<ExitStatus> {
    // Refuse a bad output folder before the (long) read of the inputs.
    crate::report::check_output_dir(&args.output, &args.paths)?;
    let surveyed = args.analysis.survey(&args.paths, printer)?;
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
    let (analysis, files) = if surveyed.dataset.hosts.len() > 1 {
        // A fleet: analysed one host at a time, then each host read again for its page and dropped after, so
        // memory is bounded by the largest host (each host's files are read twice).
        let Surveyed { descriptions, dataset: survey, files } = surveyed;
        let analysis = args.analysis.analyze_survey(&survey, &files, descriptions, "a report", printer)?;
        let load = |host: &str| {
            let mut one = Dataset::default();
            if let Some(data) = survey.hosts.get(host) {
                // The read diagnostics are the analysis's already (said once over the fleet).
                let (full, _) = crate::ingest::load_host(host, data, &files, None);
                one.hosts.insert(host.to_owned(), full);
            }
            one
        };
        let written = write_host_by_host(&analysis, &survey, &load, &report_options, &args.output);
        (analysis, written)
    } else {
        let (dataset, analysis) = args.analysis.read_all_and_analyze(surveyed, "a report", printer)?;
        let written = write_report(&analysis, &dataset, &report_options, &args.output);
        (analysis, written)
    };
    let files =
        files.with_context(|| format!("writing the report to {}", sanitize(&args.output.display().to_string())))?;
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
    Ok(args.analysis.exit_status(&analysis))
}
