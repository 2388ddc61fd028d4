//! Writes a whole simulated archive: every host's files (hosts in parallel) and `truth.json`.

use std::path::Path;

use chrono::Duration;
use rayon::prelude::*;

use super::host::{plateau_bytes, run_host};
use super::host_output::HostOutput;
use super::scenario::{Layout, Newline, Scenario, SimOptions, StampStyle, TextEncoding};
use super::scenarios;
use super::truth::{
    BootTruth, DriverTruth, FileTruth, HostTruth, LeakTruth, NonLeakTruth, ResponsibleTruth, Truth, TruthOptions,
    TRUTH_SCHEMA_VERSION,
};
use crate::error::{Error, Result};

/// Name of the ground-truth file at the archive's root (ingest skips it).
pub const TRUTH_FILE: &str = "truth.json";

/// Builds the scenario the options name and writes its archive into `dir` (created when missing;
/// existing files of the same names are overwritten). Returns the truth that was written.
pub fn simulate(opts: &SimOptions, dir: &Path) -> Result<Truth> {
    let opts = &settled(opts);
    let scn = scenarios::build(opts)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    // A folder per host with several hosts, and always in the kit's layout (`%COMPUTERNAME%\<kind>\`).
    let multi = scn.hosts.len() > 1 || opts.layout == Layout::Kit;
    let results: Vec<Result<(Vec<BootTruth>, Vec<FileTruth>)>> = (0..scn.hosts.len())
        .into_par_iter()
        .map(|i| {
            let folder = if multi { scn.hosts[i].name.clone() } else { String::new() };
            let mut out = HostOutput::new(&dir.join(&folder), &folder, opts)?;
            let boots = run_host(&scn, i, opts, &mut out)?;
            Ok((boots, out.finish()?))
        })
        .collect();
    let mut hosts = Vec::with_capacity(scn.hosts.len());
    for (i, result) in results.into_iter().enumerate() {
        let (boots, files) = result?;
        hosts.push(host_truth(&scn, i, multi, boots, files));
    }
    let truth = Truth {
        schema_version: TRUTH_SCHEMA_VERSION,
        scenario: scn.name.as_str().to_owned(),
        seed: opts.seed,
        options: truth_options(opts, &scn),
        start: scn.start,
        end: scn.start + Duration::milliseconds((scn.hours * 3_600_000.0) as i64),
        hosts,
    };
    let mut json = serde_json::to_vec_pretty(&truth)
        .map_err(|e| Error::Output { context: TRUTH_FILE.into(), message: e.to_string() })?;
    json.push(b'\n');
    let path = dir.join(TRUTH_FILE);
    crate::output::write_atomic(&path, &json)?;
    Ok(truth)
}

/// The options as the run uses them: the kit's layout is what its scripts write, so it brings their stamps
/// (`Get-Date -Format o` before each snapshot) and their perfmon collection.
fn settled(opts: &SimOptions) -> SimOptions {
    let mut opts = opts.clone();
    if opts.layout == Layout::Kit {
        opts.stamps = StampStyle::Iso;
        opts.extras.perfmon = true;
    }
    opts
}

fn truth_options(opts: &SimOptions, scn: &Scenario) -> TruthOptions {
    TruthOptions {
        hours: scn.hours,
        interval_secs: opts.interval_secs,
        tags: opts.tags.unwrap_or(scenarios::DEFAULT_TAGS),
        encoding: match opts.encoding {
            TextEncoding::Ansi => "ansi",
            TextEncoding::Utf16 => "utf16",
        }
        .into(),
        newline: match opts.newline {
            Newline::Crlf => "crlf",
            Newline::Lf => "lf",
        }
        .into(),
        stamps: match opts.stamps {
            StampStyle::Cmd => "cmd",
            StampStyle::Iso => "iso",
            StampStyle::FileName => "filename",
        }
        .into(),
        truncate_last: opts.truncate_last,
        handle_interval_secs: opts.handle_interval_secs,
        dump_interval_secs: opts.dump_interval_secs,
        layout: (opts.layout == Layout::Kit).then(|| "kit".to_owned()),
        extras: [
            (opts.extras.perfmon, "perfmon"),
            (opts.extras.pool_csv, "pool_csv"),
            (opts.extras.debugger, "debugger"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| name.to_owned())
        .collect(),
    }
}

fn host_truth(scn: &Scenario, index: usize, multi: bool, boots: Vec<BootTruth>, files: Vec<FileTruth>) -> HostTruth {
    let host = &scn.hosts[index];
    let first_boot = boots.first().map(|b| b.start);
    let leaks = host
        .tags
        .iter()
        .filter_map(|t| {
            let leak = t.leak.as_ref()?;
            Some(LeakTruth {
                tag: t.tag.clone(),
                pool: t.pool.as_str().to_owned(),
                bytes_per_hour: leak.allocs_per_hour * f64::from(leak.per_alloc_bytes),
                allocs_per_hour: leak.allocs_per_hour,
                per_alloc_bytes: leak.per_alloc_bytes,
                starts_at: first_boot.map(|b| b + Duration::milliseconds((leak.starts_after_h * 3_600_000.0) as i64)),
                starts_after_boot_hours: leak.starts_after_h,
                driver: leak.driver.clone(),
            })
        })
        .collect();
    let mut non_leaks: Vec<NonLeakTruth> = host
        .tags
        .iter()
        .filter(|t| t.leak.is_none())
        .filter_map(|t| {
            let w = t.warmup?;
            Some(NonLeakTruth {
                tag: t.tag.clone(),
                pool: t.pool.as_str().to_owned(),
                kind: "cache_plateau".into(),
                plateau_bytes: plateau_bytes(t),
                warmup_tau_hours: w.tau_h,
            })
        })
        .collect();
    non_leaks.sort_by(|a, b| b.plateau_bytes.cmp(&a.plateau_bytes).then_with(|| a.tag.cmp(&b.tag)));
    HostTruth {
        host: host.name.clone(),
        folder: if multi { host.name.clone() } else { String::new() },
        os: host.os.name.to_owned(),
        os_version: format!("{}.{}.{}", host.os.major, host.os.minor, host.os.build),
        timezone: "UTC".into(),
        ram_bytes: host.ram_bytes,
        paged_limit_bytes: host.paged_limit_bytes,
        nonpaged_limit_bytes: host.nonpaged_limit_bytes,
        commit_limit_bytes: host.commit_limit_bytes,
        exhausted_resource: host.exhaustion.map(|r| r.as_str().to_owned()),
        paged_overhead_bytes: host.paged_overhead_bytes,
        nonpaged_overhead_bytes: host.nonpaged_overhead_bytes,
        boots,
        leaks,
        non_leaks,
        responsible: host.responsible.as_ref().map(|r| ResponsibleTruth {
            process: r.process.clone(),
            handle_type: r.handle_type.clone(),
            account: r.account.clone(),
            handles_per_hour: host.handles.leak.as_ref().map_or(0.0, |l| l.handles_per_hour),
        }),
        third_party_drivers: host
            .third_party_drivers
            .iter()
            .map(|d| DriverTruth { name: d.name.clone(), company: d.company.clone(), altitude: d.altitude.clone() })
            .collect(),
        files,
    }
}
