//! `poolscope tags`.

use anyhow::Result;
use clap::Args;

use crate::cli::{ExitStatus, Printer};

/// Arguments of `poolscope tags`.
#[derive(Debug, Args)]
pub struct TagsArgs {
    /// Inputs.
    pub paths: Vec<std::path::PathBuf>,
}

/// Runs `poolscope tags`. (Placeholder until the command lands.)
pub fn run(_args: &TagsArgs, _printer: &Printer) -> Result<ExitStatus> {
    anyhow::bail!("`poolscope tags` is not implemented yet")
}
