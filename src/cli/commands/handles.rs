//! `poolscope handles`.

use anyhow::Result;
use clap::Args;

use crate::cli::{ExitStatus, Printer};

/// Arguments of `poolscope handles`.
#[derive(Debug, Args)]
pub struct HandlesArgs {
    /// Inputs.
    pub paths: Vec<std::path::PathBuf>,
}

/// Runs `poolscope handles`. (Placeholder until the command lands.)
pub fn run(_args: &HandlesArgs, _printer: &Printer) -> Result<ExitStatus> {
    anyhow::bail!("`poolscope handles` is not implemented yet")
}
