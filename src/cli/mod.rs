//! The command-line interface. Only this module knows about clap, anyhow, indicatif and colours;
//! each subcommand in [`commands`] turns its arguments into library options and calls the library.

pub mod args;
pub mod commands;
pub mod exit;
pub mod printer;
pub mod progress;

use clap::Parser;

pub use exit::ExitStatus;
pub use printer::Printer;

/// Runs the command line and returns the process exit code (0 success, 1 `--fail-on` hit, 2 error).
pub fn main() -> std::process::ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { ExitStatus::Error } else { ExitStatus::Success };
            let _ = e.print();
            return code.into();
        }
    };
    let printer = Printer::new(&cli.global);
    match commands::run(cli.command, &printer) {
        Ok(status) => status.into(),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitStatus::Success.into();
            }
            printer.error(&err);
            ExitStatus::Error.into()
        }
    }
}

/// A closed pipe (`poolscope ... | head`) is not an error: exit quietly with 0.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}
