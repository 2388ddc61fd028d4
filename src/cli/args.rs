//! Command-line arguments (clap derive). Each subcommand's arguments live beside its code in
//! `commands/<name>.rs`; this file holds the top level and the options shared by several commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::commands;

/// Post-mortem analysis of Windows kernel pool leaks from archived poolmon, handle.exe and event-log files.
#[derive(Debug, Parser)]
#[command(name = "poolscope", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Print only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail on stderr (every diagnostic, not only a summary).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// When to colour stderr output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Never draw progress bars.
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// Print tables at their full width (default: fit `COLUMNS`, the terminal, or 100 columns).
    #[arg(long, global = true)]
    pub wide: bool,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stderr is a terminal, NO_COLOR is unset and TERM is not `dumb`.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read poolmon, handle.exe and event-log files and print the normalised records and diagnostics.
    Parse(commands::parse::ParseArgs),
    /// Compare two poolmon snapshots tag by tag.
    Diff(commands::diff::DiffArgs),
    /// Show who holds which handles (handle.exe output), and how counts grow over time.
    Handles(commands::handles::HandlesArgs),
    /// List event-log records, typed (2004 resource exhaustion, 2019/2020 pool empty, boots, crashes).
    Events(commands::events::EventsArgs),
    /// Say what pool tags are (pooltag.txt and built-in notes on kernel-object tags).
    Tags(commands::tags::TagsArgs),
    /// Find the leaking tag, its rate, the time to exhaustion and who is responsible.
    Analyze(commands::analyze::AnalyzeArgs),
    /// Write an HTML report, a Markdown summary, JSON, data tables and charts to a folder.
    Report(commands::report::ReportArgs),
    /// Write the records and the analysis as a hive-partitioned Parquet dataset (for DuckDB or Spark).
    Export(commands::export::ExportArgs),
    /// Write a realistic incident archive in every supported format, with its ground truth.
    Simulate(commands::simulate::SimulateArgs),
    /// Write the collection scripts for a server (poolmon, handle.exe, perfmon, event log, drivers).
    Kit(commands::kit::KitArgs),
    /// Print or write the man pages (one per subcommand).
    Man(commands::man::ManArgs),
    /// Print the completion script for a shell (bash, zsh, fish, powershell, elvish).
    Completions(commands::man::CompletionsArgs),
}

/// Options for reading text times, shared by commands that read inputs.
#[derive(Debug, Args, Clone, Default)]
pub struct TimeArgs {
    /// Time zone of local times in the inputs: an IANA name (`Europe/Berlin`), a Windows zone ID
    /// (`W. Europe Standard Time`) or a UTC offset (`+02:00`); default UTC.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Day/month order of numeric dates, when the files cannot settle it.
    #[arg(long, value_enum, value_name = "ORDER")]
    pub date_order: Option<DateOrderArg>,
    /// Time to give snapshots that carry none (RFC 3339, or `YYYY-MM-DD HH:MM:SS` in `--tz`).
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
    /// Host name for records that name none.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Limits on what reading the inputs may cost.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `--max-*`: resource limits on reading inputs, each named in the error it causes.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Input limits")]
pub struct LimitArgs {
    /// Largest file read whole (pool CSVs, debugger text, perfmon; poolmon, handle.exe output and event logs
    /// stream and are not bound by it), e.g. 4G [default: 1GiB].
    #[arg(long, value_name = "SIZE", value_parser = size_arg)]
    pub max_file_size: Option<u64>,
    /// Longest line kept; the rest of a longer line is skipped with a warning [default: 1MiB].
    #[arg(long, value_name = "SIZE", value_parser = size_arg)]
    pub max_line_length: Option<u64>,
    /// Most records (pool rows, handles, events) kept from one file [default: 50000000].
    #[arg(long, value_name = "N")]
    pub max_records: Option<u64>,
    /// Most files read in one run [default: 1000000].
    #[arg(long, value_name = "N")]
    pub max_files: Option<usize>,
    /// Most bytes read in one run, over all files [default: 1TiB].
    #[arg(long, value_name = "SIZE", value_parser = size_arg)]
    pub max_total_size: Option<u64>,
    /// Most members read from one .zip archive, nested zips included [default: 100000].
    #[arg(long, value_name = "N")]
    pub max_archive_entries: Option<usize>,
    /// Most bytes one .zip archive may decompress to, nested zips included [default: 64GiB].
    #[arg(long, value_name = "SIZE", value_parser = size_arg)]
    pub max_archive_size: Option<u64>,
    /// Largest decompressed-to-compressed ratio of a .zip member above 1 MiB (a zip bomb's is ~1000)
    /// [default: 200].
    #[arg(long, value_name = "N")]
    pub max_compression_ratio: Option<u64>,
}

impl LimitArgs {
    /// The limits, defaults filled in.
    pub fn read_limits(&self) -> crate::parse::ReadLimits {
        let default = crate::parse::ReadLimits::default();
        crate::parse::ReadLimits {
            max_file_bytes: self.max_file_size.unwrap_or(default.max_file_bytes),
            max_line_bytes: self
                .max_line_length
                .map_or(default.max_line_bytes, |n| usize::try_from(n).unwrap_or(usize::MAX)),
            max_records: self.max_records.unwrap_or(default.max_records),
            max_files: self.max_files.unwrap_or(default.max_files),
            max_total_bytes: self.max_total_size.unwrap_or(default.max_total_bytes),
            max_archive_entries: self.max_archive_entries.unwrap_or(default.max_archive_entries),
            max_archive_bytes: self.max_archive_size.unwrap_or(default.max_archive_bytes),
            max_compression_ratio: self.max_compression_ratio.unwrap_or(default.max_compression_ratio),
        }
    }
}

/// A size on the command line: bytes, or with a unit (3G, 2.5GiB, 512M, 64K).
pub fn size_arg(text: &str) -> std::result::Result<u64, String> {
    crate::analysis::limits::parse_bytes(text)
        .ok_or_else(|| format!("expected a size like 3221225472, 3G, 2.5GiB or 512M, not {text:?}"))
}

/// `--date-order` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DateOrderArg {
    /// Day first: 22/05/2020.
    Dmy,
    /// Month first: 05/22/2020.
    Mdy,
}

/// Output formats (each command accepts the subset that makes sense for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A readable table or text.
    #[value(alias = "table")]
    Text,
    /// JSON with a `schema_version`.
    Json,
    /// CSV, one row per record.
    Csv,
    /// Markdown, for tickets.
    Markdown,
    /// Apache Parquet (needs `-o`).
    Parquet,
}

/// An output file argument: `-o FILE`, or stdout when absent.
#[derive(Debug, Args, Clone, Default)]
pub struct OutputArgs {
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}
