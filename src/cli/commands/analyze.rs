//! `poolscope analyze`.

use anyhow::Result;
use clap::Args;

use crate::cli::{ExitStatus, Printer};

/// Arguments of `poolscope analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Inputs.
    pub paths: Vec<std::path::PathBuf>,
}

/// Runs `poolscope analyze`. (Placeholder until the command lands.)
pub fn run(_args: &AnalyzeArgs, _printer: &Printer) -> Result<ExitStatus> {
    anyhow::bail!("`poolscope analyze` is not implemented yet")
}
