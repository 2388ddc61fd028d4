//! `poolscope diff`.

use anyhow::Result;
use clap::Args;

use crate::cli::{ExitStatus, Printer};

/// Arguments of `poolscope diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Inputs.
    pub paths: Vec<std::path::PathBuf>,
}

/// Runs `poolscope diff`. (Placeholder until the command lands.)
pub fn run(_args: &DiffArgs, _printer: &Printer) -> Result<ExitStatus> {
    anyhow::bail!("`poolscope diff` is not implemented yet")
}
