//! `poolscope kit`: write the collection scripts for a server ([`crate::kit`]).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::cli::{ExitStatus, Printer};
use crate::kit::{kit_files, KitOptions};
use crate::simulate::scenario::parse_duration_secs;

/// Arguments of `poolscope kit`.
#[derive(Debug, Args)]
#[command(after_help = "\
DIR gets README.txt (for the server's admin: steps, costs, where the records go), install.ps1,
poolmon-loop.ps1, handle-loop.ps1, perfmon-start.ps1, collect.ps1 and uninstall.ps1. Copy DIR to
the server with poolmon.exe and handle64.exe beside the scripts, and follow README.txt. What they
record is read as it is: `poolscope report HOST-<time>.zip -o report`.")]
pub struct KitArgs {
    /// Folder to write the scripts into (created; must be empty unless --force).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Where the records go on the server (each host writes into ROOT\<COMPUTERNAME>\).
    #[arg(long, value_name = "ROOT", default_value = r"C:\poolscope")]
    pub root: String,
    /// Time between poolmon snapshots and perfmon samples (`30s`, `1m`, `5m`).
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub interval: String,
    /// Time between `handle -s` summaries.
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub handle_interval: String,
    /// Time between `handle -a -p` dumps of each process.
    #[arg(long, value_name = "DURATION", default_value = "6h")]
    pub dump_interval: String,
    /// A process to dump with `handle -a -p` besides lsass.exe (repeat for more).
    #[arg(long = "process", value_name = "NAME")]
    pub processes: Vec<String>,
    /// Write into DIR even when it is not empty (files of the same names are replaced).
    #[arg(long)]
    pub force: bool,
}

/// Runs `poolscope kit`.
pub fn run(args: &KitArgs, printer: &Printer) -> Result<ExitStatus> {
    let duration = |flag: &str, text: &str| parse_duration_secs(text).with_context(|| format!("--{flag}"));
    let mut processes = vec!["lsass.exe".to_owned()];
    for p in &args.processes {
        if p.is_empty() || p.contains(['"', '\'', '\r', '\n']) {
            bail!("--process {p:?}: expected an image name such as svchost.exe");
        }
        if !processes.iter().any(|q| q.eq_ignore_ascii_case(p)) {
            processes.push(p.clone());
        }
    }
    if args.root.is_empty() || args.root.contains(['"', '\r', '\n']) {
        bail!("--root {:?}: expected a folder such as D:\\poolscope", args.root);
    }
    let options = KitOptions {
        root: args.root.clone(),
        interval_secs: duration("interval", &args.interval)?,
        handle_interval_secs: duration("handle-interval", &args.handle_interval)?,
        dump_interval_secs: duration("dump-interval", &args.dump_interval)?,
        processes,
    };
    let dir = &args.output;
    super::check_empty_or_forced(dir, args.force)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let files = kit_files(&options);
    for f in &files {
        crate::output::write_atomic(&dir.join(f.name), f.text.as_bytes())?;
    }
    if !printer.quiet {
        eprintln!(
            "poolscope: wrote the collection kit ({} files) to {}; start with {}",
            files.len(),
            dir.display(),
            dir.join("README.txt").display()
        );
    }
    Ok(ExitStatus::Success)
}
