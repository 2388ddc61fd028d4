//! `poolscope report`.

use anyhow::Result;
use clap::Args;

use crate::cli::{ExitStatus, Printer};

/// Arguments of `poolscope report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Inputs.
    pub paths: Vec<std::path::PathBuf>,
}

/// Runs `poolscope report`. (Placeholder until the command lands.)
pub fn run(_args: &ReportArgs, _printer: &Printer) -> Result<ExitStatus> {
    anyhow::bail!("`poolscope report` is not implemented yet")
}
