//! One module per subcommand: each turns its clap arguments into library options and calls the library.

pub mod analyze;
pub mod diff;
pub mod events;
pub mod export;
pub mod handles;
pub mod kit;
pub mod man;
pub mod parse;
pub mod report;
pub mod simulate;
pub mod tags;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::args::{Command, DateOrderArg, OutputArgs, TimeArgs};
use super::{ExitStatus, Printer};
use crate::model::{DateOrder, TimeSettings};

/// Runs one subcommand.
pub fn run(command: Command, printer: &Printer) -> Result<ExitStatus> {
    match command {
        Command::Parse(args) => parse::run(&args, printer),
        Command::Diff(args) => diff::run(&args, printer),
        Command::Handles(args) => handles::run(&args, printer),
        Command::Events(args) => events::run(&args, printer),
        Command::Tags(args) => tags::run(&args, printer),
        Command::Analyze(args) => analyze::run(&args, printer),
        Command::Report(args) => report::run(&args, printer),
        Command::Export(args) => export::run(&args, printer),
        Command::Simulate(args) => simulate::run(&args, printer),
        Command::Kit(args) => kit::run(&args, printer),
        Command::Man(args) => man::run_man(&args, printer),
        Command::Completions(args) => man::run_completions(&args),
    }
}

/// Turns `--tz`, `--date-order` and `--time` into the library's [`TimeSettings`].
pub fn time_settings(args: &TimeArgs) -> Result<TimeSettings> {
    let mut settings = TimeSettings::default();
    if let Some(tz) = &args.tz {
        // An IANA name, a Windows zone ID as `tzutil /g` prints it ("W. Europe Standard Time"), or an offset.
        settings.tz = crate::parse::zones::zone(tz).map_err(|e| anyhow::anyhow!("--tz: {e}"))?;
        settings.tz_given = true;
    }
    settings.date_order = args.date_order.map(|o| match o {
        DateOrderArg::Dmy => DateOrder::Dmy,
        DateOrderArg::Mdy => DateOrder::Mdy,
    });
    if let Some(text) = &args.time {
        settings.time_override = Some(parse_time_arg(text, settings.tz).with_context(|| format!("--time {text:?}"))?);
    }
    Ok(settings)
}

/// Reads a command-line time: RFC 3339, or `YYYY-MM-DD[ T]HH:MM[:SS]` in the given zone.
pub fn parse_time_arg(text: &str, tz: chrono_tz::Tz) -> Result<chrono::DateTime<chrono::Utc>> {
    use chrono::{NaiveDateTime, TimeZone};
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, fmt) {
            return tz
                .from_local_datetime(&naive)
                .earliest()
                .map(|t| t.with_timezone(&chrono::Utc))
                .ok_or_else(|| anyhow::anyhow!("{text} does not exist in {tz}"));
        }
    }
    anyhow::bail!("expected a time like 2020-05-22T22:35:55Z or \"2020-05-22 22:35:55\"")
}

/// Refuses to write into `dir` when it exists and holds anything, unless `force` (`simulate`, `kit`).
pub fn check_empty_or_forced(dir: &Path, force: bool) -> Result<()> {
    if !force && dir.exists() {
        let mut entries = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            anyhow::bail!("{} is not empty (use --force to write into it anyway)", dir.display());
        }
    }
    Ok(())
}

/// Refuses `-o FILE` when it is an input or lies in an input's folder (checked before anything is read, so
/// a long read does not end in a refusal).
pub fn check_output(output: &OutputArgs, inputs: &[PathBuf]) -> Result<()> {
    if let Some(path) = &output.output {
        crate::output::check_not_input(path, inputs, "the output")?;
    }
    Ok(())
}

/// Writes command output to `-o FILE` (atomically) or to stdout.
pub fn emit(output: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match output {
        Some(path) => crate::output::write_atomic(path, bytes).map_err(Into::into),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes)?;
            stdout.flush()?;
            Ok(())
        }
    }
}
