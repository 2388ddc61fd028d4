//! `poolscope export`: read the inputs, analyse them and write (or update) a hive-partitioned Parquet
//! dataset with [`crate::export::export`].

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::analyze::AnalysisArgs;
use crate::cli::printer::sanitize;
use crate::cli::{ExitStatus, Printer};

/// Arguments of `poolscope export`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
DIR gets SCHEMA.md and one folder per table, partitioned by host and boot:
  DIR/table=pool_samples/host=H/boot=B/part-0.parquet
  DIR/table=handle_counts/...  DIR/table=events/...          the records, with their boot
  DIR/table=suspects/...  DIR/table=projections/...  DIR/table=attributions/...   the analysis
SCHEMA.md lists every column with its type, unit and meaning; the schema version is also in each file's
key-value metadata (poolscope.schema_version). Each partition is replaced atomically, and only the hosts
read this time are replaced: export each host's archive into the same DIR as it arrives. Host and boot
values are escaped for path use (%XX, as Hive and Spark do); DuckDB and Spark decode them.

Query it with DuckDB: SELECT * FROM read_parquet('DIR/table=suspects/**/*.parquet', hive_partitioning=true)
(contrib/duckdb/ has ready queries). The analysis options are those of `poolscope analyze`.
Exit codes: 0 success, 1 a leak was found and --fail-on leak was given, 2 error.")]
pub struct ExportArgs {
    /// Files or directories (walked recursively; formats detected by content).
    #[arg(required = true, value_name = "ARCHIVE")]
    pub paths: Vec<PathBuf>,
    /// Dataset folder (created when missing; the partitions of the hosts read are replaced).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Analysis options (those of `poolscope analyze`).
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// Runs `poolscope export`.
pub fn run(args: &ExportArgs, printer: &Printer) -> Result<ExitStatus> {
    // Refuse a bad output folder before the (long) read of the inputs.
    crate::output::check_not_input(&args.output, &args.paths, "the dataset")?;
    // One host at a time: its pool rows are read for its analysis, then again for its partitions.
    let (survey, files, analysis) = args.analysis.survey_and_analyze(&args.paths, "export", printer)?;
    let status = args.analysis.exit_status(&analysis);
    let mut load = |_: &str, mut data: crate::model::HostData| {
        crate::ingest::fill_pool_rows(&mut data, &files, None);
        data
    };
    let summary = crate::export::export_loading(survey, &analysis, &args.output, &mut load)
        .with_context(|| format!("exporting to {}", sanitize(&args.output.display().to_string())))?;
    if !printer.quiet {
        let rows: usize = summary.partitions.iter().map(|p| p.rows).sum();
        eprintln!(
            "poolscope: wrote {} partition file(s), {rows} row(s), for {} host(s) to {} (schema version {})",
            summary.partitions.len(),
            summary.hosts.len(),
            sanitize(&args.output.display().to_string()),
            crate::export::EXPORT_SCHEMA_VERSION
        );
    }
    Ok(status)
}
