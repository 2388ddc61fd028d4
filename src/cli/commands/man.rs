//! `poolscope man` and `poolscope completions`: the man pages and shell completions, generated from the
//! same clap model that parses the arguments, so they never disagree with `--help`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::args::Cli;
use crate::cli::{ExitStatus, Printer};

/// Arguments of `poolscope man`.
#[derive(Debug, Args)]
#[command(after_help = "\
Without -o, prints the page of COMMAND (or of poolscope itself) to stdout: `poolscope man | man -l -`.
With -o DIR, writes poolscope.1 and one poolscope-<command>.1 per subcommand into DIR, e.g.
  poolscope man -o ~/.local/share/man/man1")]
pub struct ManArgs {
    /// Folder to write every page into (created when missing).
    #[arg(short, long, value_name = "DIR", conflicts_with = "command")]
    pub output: Option<PathBuf>,
    /// The subcommand whose page to print (default: the page of poolscope).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// Arguments of `poolscope completions`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  poolscope completions bash > ~/.local/share/bash-completion/completions/poolscope
  poolscope completions zsh > ~/.zfunc/_poolscope        (with fpath+=~/.zfunc before compinit)
  poolscope completions fish > ~/.config/fish/completions/poolscope.fish
  poolscope completions powershell >> $PROFILE
  poolscope completions elvish >> ~/.config/elvish/rc.elv")]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// Prints one man page, or writes them all to `-o DIR`.
pub fn run_man(args: &ManArgs, printer: &Printer) -> Result<ExitStatus> {
    let pages = pages()?;
    if let Some(dir) = &args.output {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, bytes) in &pages {
            let path = dir.join(format!("{name}.1"));
            crate::output::write_atomic(&path, bytes)?;
        }
        printer.info(&format!("wrote {} man pages to {}", pages.len(), dir.display()));
        return Ok(ExitStatus::Success);
    }
    let wanted = args.command.as_deref().map_or_else(|| "poolscope".to_owned(), |c| format!("poolscope-{c}"));
    let Some((_, bytes)) = pages.iter().find(|(name, _)| *name == wanted) else {
        let known: Vec<&str> = pages.iter().filter_map(|(n, _)| n.strip_prefix("poolscope-")).collect();
        anyhow::bail!("no man page for {wanted:?}; commands are {}", known.join(", "));
    };
    super::emit(None, bytes)?;
    Ok(ExitStatus::Success)
}

/// Prints the completion script of one shell to stdout.
pub fn run_completions(args: &CompletionsArgs) -> Result<ExitStatus> {
    let mut cmd = Cli::command();
    let mut bytes = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "poolscope", &mut bytes);
    super::emit(None, &bytes)?;
    Ok(ExitStatus::Success)
}

/// Every man page as (name without section, roff bytes): `poolscope` first, then `poolscope-<command>`
/// for each subcommand (clap's own `help` has none).
pub fn pages() -> Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = Cli::command();
    // Built once so global options (-q, -v, --color, ...) and the version reach every subcommand.
    cmd.build();
    let mut pages = vec![("poolscope".to_owned(), render(&cmd)?)];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("poolscope-{}", sub.get_name());
        // `propagate_version` gave every subcommand the version when the command was built.
        pages.push((name.clone(), render(&sub.clone().name(name))?));
    }
    Ok(pages)
}

/// Renders one command's page in roff.
fn render(cmd: &clap::Command) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut bytes).context("cannot render a man page")?;
    Ok(bytes)
}
