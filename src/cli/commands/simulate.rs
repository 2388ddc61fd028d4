//! `poolscope simulate`: write a realistic incident archive and its ground truth.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::parse_time_arg;
use crate::cli::{ExitStatus, Printer};
use crate::simulate::scenario::parse_duration_secs;
use crate::simulate::{self, Layout, Newline, ScenarioName, SimOptions, StampStyle, TextEncoding};

/// Arguments of `poolscope simulate`.
#[derive(Debug, Args)]
#[command(after_help = "\
DIR gets poolmon.log (or poolmon-<time>.txt files), handle-s-<time>.txt, handle-lsass-<time>.txt,
System.evtx, System.xml (one folder per host when there are several) and truth.json (what really
happened). The same seed and options write byte-identical files.")]
pub struct SimulateArgs {
    /// The incident to simulate.
    #[arg(value_enum, value_name = "SCENARIO")]
    pub scenario: ScenarioArg,
    /// Folder to write the archive into (created; must be empty unless --force).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Length of the archive from the first boot, in hours [default: per scenario].
    #[arg(long, value_name = "H")]
    pub hours: Option<f64>,
    /// Time between poolmon snapshots (`90s`, `1m`, `5m`, `1h`).
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub interval: String,
    /// Seed of the random streams.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Number of hosts (fleet: default 4; other scenarios add healthy peers).
    #[arg(long, value_name = "N")]
    pub hosts: Option<usize>,
    /// Background pool tags per host.
    #[arg(long, value_name = "N", default_value_t = simulate::scenarios::DEFAULT_TAGS)]
    pub tags: usize,
    /// Text encoding of poolmon, handle and XML files.
    #[arg(long, value_enum, default_value_t = EncodingArg::Ansi)]
    pub encoding: EncodingArg,
    /// Line endings of text files.
    #[arg(long, value_enum, default_value_t = NewlineArg::Crlf)]
    pub newline: NewlineArg,
    /// How poolmon snapshot times are recorded.
    #[arg(long, value_enum, default_value_t = StampArg::Cmd)]
    pub stamps: StampArg,
    /// Cut each host's last poolmon snapshot short, as a copy taken mid-write.
    #[arg(long)]
    pub truncate_last: bool,
    /// Time between `handle -s` summaries.
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub handle_interval: String,
    /// Time between `handle -a -p lsass.exe` dumps (`0` for none).
    #[arg(long, value_name = "DURATION", default_value = "6h")]
    pub dump_interval: String,
    /// When the first boot starts (RFC 3339 or `YYYY-MM-DD HH:MM:SS` UTC) [default: per scenario].
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// How each host's files are laid out: `flat`, or `kit` as `poolscope kit`'s scripts write them
    /// (`<HOST>/poolmon/`, `handle/`, `perfmon/`, `eventlog/`; ISO stamps; perfmon counters).
    #[arg(long, value_enum, default_value_t = LayoutArg::Flat)]
    pub layout: LayoutArg,
    /// Also write perfmon counters (`logman ... -f csv`, one file per boot, sampled with each snapshot).
    #[arg(long)]
    pub perfmon: bool,
    /// Also write PoolmonViz's per-day `<yyyy-MM-dd>.pool.csv` (UTF-16, every snapshot's tags).
    #[arg(long)]
    pub pool_csv: bool,
    /// Also write the WinDbg text (`!vm 1`, `!poolused 4`) of a kernel dump taken at each hang.
    #[arg(long)]
    pub debugger: bool,
    /// Write into DIR even when it is not empty (files of the same names are replaced).
    #[arg(long)]
    pub force: bool,
}

/// `--layout` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// Every file of a host in one folder (the root with one host).
    Flat,
    /// `<HOST>/<kind>/...`, exactly as `poolscope kit`'s collection scripts write.
    Kit,
}

/// `SCENARIO` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScenarioArg {
    /// The seed case: Toke leak, lsass.exe Token handles, commit exhaustion after ~89 h.
    LsassTokenLeak,
    /// A network driver's nonpaged leak.
    NonpagedLeak,
    /// A cache that rises and plateaus beside a slow leak.
    CachePlateau,
    /// No leak.
    Healthy,
    /// Several hosts, one leaking.
    Fleet,
}

impl From<ScenarioArg> for ScenarioName {
    fn from(s: ScenarioArg) -> Self {
        match s {
            ScenarioArg::LsassTokenLeak => ScenarioName::LsassTokenLeak,
            ScenarioArg::NonpagedLeak => ScenarioName::NonpagedLeak,
            ScenarioArg::CachePlateau => ScenarioName::CachePlateau,
            ScenarioArg::Healthy => ScenarioName::Healthy,
            ScenarioArg::Fleet => ScenarioName::Fleet,
        }
    }
}

/// `--encoding` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncodingArg {
    /// ANSI (ASCII text), as the tools write when redirected by cmd.
    Ansi,
    /// UTF-16LE with BOM, as Windows PowerShell 5.1's `Out-File` writes.
    Utf16,
}

/// `--newline` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NewlineArg {
    /// CRLF (Windows).
    Crlf,
    /// LF.
    Lf,
}

/// `--stamps` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StampArg {
    /// One poolmon.log with cmd `echo %DATE% %TIME%` lines (en-US).
    Cmd,
    /// One poolmon.log with PowerShell `Get-Date -Format o` lines.
    Iso,
    /// One `poolmon-<yyyyMMddTHHmmssZ>.txt` file per snapshot.
    Filename,
}

/// Parses a duration flag, allowing `0` where `allow_zero`.
fn duration(flag: &str, text: &str, allow_zero: bool) -> Result<u32> {
    if allow_zero && text.trim() == "0" {
        return Ok(0);
    }
    parse_duration_secs(text).with_context(|| format!("--{flag}"))
}

/// Turns the flags into library options.
fn options(args: &SimulateArgs) -> Result<SimOptions> {
    let mut opts = SimOptions::new(args.scenario.into(), args.seed);
    opts.hours = args.hours;
    opts.interval_secs = duration("interval", &args.interval, false)?;
    opts.hosts = args.hosts;
    opts.tags = Some(args.tags);
    opts.encoding = match args.encoding {
        EncodingArg::Ansi => TextEncoding::Ansi,
        EncodingArg::Utf16 => TextEncoding::Utf16,
    };
    opts.newline = match args.newline {
        NewlineArg::Crlf => Newline::Crlf,
        NewlineArg::Lf => Newline::Lf,
    };
    opts.stamps = match args.stamps {
        StampArg::Cmd => StampStyle::Cmd,
        StampArg::Iso => StampStyle::Iso,
        StampArg::Filename => StampStyle::FileName,
    };
    opts.truncate_last = args.truncate_last;
    opts.layout = match args.layout {
        LayoutArg::Flat => Layout::Flat,
        LayoutArg::Kit => Layout::Kit,
    };
    opts.extras.perfmon = args.perfmon;
    opts.extras.pool_csv = args.pool_csv;
    opts.extras.debugger = args.debugger;
    opts.handle_interval_secs = duration("handle-interval", &args.handle_interval, false)?;
    opts.dump_interval_secs = duration("dump-interval", &args.dump_interval, true)?;
    if let Some(start) = &args.start {
        opts.start = Some(parse_time_arg(start, chrono_tz::UTC).with_context(|| format!("--start {start:?}"))?);
    }
    Ok(opts)
}

/// Runs `poolscope simulate`.
pub fn run(args: &SimulateArgs, printer: &Printer) -> Result<ExitStatus> {
    let opts = options(args)?;
    let dir = &args.output;
    super::check_empty_or_forced(dir, args.force)?;
    let started = std::time::Instant::now();
    let truth =
        simulate::simulate(&opts, dir).with_context(|| format!("writing the archive into {}", dir.display()))?;
    let (mut files, mut bytes) = (1u64, 0u64);
    for host in &truth.hosts {
        for f in &host.files {
            files += f.files;
            bytes += f.bytes;
        }
    }
    if !printer.quiet {
        eprintln!(
            "poolscope: wrote {} ({} host{}, {files} files, {}) to {} in {:.1} s",
            truth.scenario,
            truth.hosts.len(),
            if truth.hosts.len() == 1 { "" } else { "s" },
            crate::units::bytes(bytes as f64),
            dir.display(),
            started.elapsed().as_secs_f64()
        );
        for host in &truth.hosts {
            for boot in &host.boots {
                let hang = boot
                    .hang_at
                    .map(|h| format!(", hung at {}", h.format("%Y-%m-%d %H:%M:%S UTC")))
                    .unwrap_or_default();
                printer.info(&format!(
                    "{} boot {}: {} snapshots from {}{hang}",
                    host.host,
                    boot.boot,
                    boot.snapshots,
                    boot.start.format("%Y-%m-%d %H:%M:%S UTC")
                ));
            }
        }
        eprintln!("poolscope: ground truth in {}", dir.join(simulate::TRUTH_FILE).display());
    }
    Ok(ExitStatus::Success)
}
