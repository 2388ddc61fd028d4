//! `poolscope parse`.

use anyhow::Result;
use clap::Args;

use crate::cli::{ExitStatus, Printer};

/// Arguments of `poolscope parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Inputs.
    pub paths: Vec<std::path::PathBuf>,
}

/// Runs `poolscope parse`. (Placeholder until the command lands.)
pub fn run(_args: &ParseArgs, _printer: &Printer) -> Result<ExitStatus> {
    anyhow::bail!("`poolscope parse` is not implemented yet")
}
