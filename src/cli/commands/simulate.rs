//! `poolscope simulate`.

use anyhow::Result;
use clap::Args;

use crate::cli::{ExitStatus, Printer};

/// Arguments of `poolscope simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Inputs.
    pub paths: Vec<std::path::PathBuf>,
}

/// Runs `poolscope simulate`. (Placeholder until the command lands.)
pub fn run(_args: &SimulateArgs, _printer: &Printer) -> Result<ExitStatus> {
    anyhow::bail!("`poolscope simulate` is not implemented yet")
}
