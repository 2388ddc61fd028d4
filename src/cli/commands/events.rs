//! `poolscope events`.

use anyhow::Result;
use clap::Args;

use crate::cli::{ExitStatus, Printer};

/// Arguments of `poolscope events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Inputs.
    pub paths: Vec<std::path::PathBuf>,
}

/// Runs `poolscope events`. (Placeholder until the command lands.)
pub fn run(_args: &EventsArgs, _printer: &Printer) -> Result<ExitStatus> {
    anyhow::bail!("`poolscope events` is not implemented yet")
}
