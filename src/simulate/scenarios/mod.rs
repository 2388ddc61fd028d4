//! The incidents `poolscope simulate` knows, as [`Scenario`] data.
//!
//! Each scenario module builds its hosts from [`background`] tags plus its own: the leaking tag, the
//! cache that must not be flagged, the handle leak and what exhausts. Options (`--hours`, `--tags`,
//! `--hosts`, `--start`) are applied here.

pub mod background;
mod cache_plateau;
mod fleet;
mod healthy;
mod lsass_token_leak;
mod nonpaged_leak;

use chrono::{DateTime, TimeZone, Utc};

use self::background::PoolBudget;
use super::rng::Rng;
use super::scenario::{HandleSpec, HostSpec, OsSpec, Resource, Responsible, Scenario, ScenarioName, SimOptions};
use crate::error::{Error, Result};

/// Background tags per host unless `--tags` says otherwise.
pub const DEFAULT_TAGS: usize = 300;

/// Bytes in a MiB, for readable budgets.
const MIB: f64 = 1_048_576.0;

/// Builds the scenario the options name, with the options applied.
pub fn build(opts: &SimOptions) -> Result<Scenario> {
    validate(opts)?;
    let tags = opts.tags.unwrap_or(DEFAULT_TAGS);
    let mut scn = match opts.scenario {
        ScenarioName::LsassTokenLeak => lsass_token_leak::build(opts, tags),
        ScenarioName::NonpagedLeak => nonpaged_leak::build(opts, tags),
        ScenarioName::CachePlateau => cache_plateau::build(opts, tags),
        ScenarioName::Healthy => healthy::build(opts, tags),
        ScenarioName::Fleet => fleet::build(opts, tags),
    };
    if let Some(hours) = opts.hours {
        scn.hours = hours;
    }
    if let Some(start) = opts.start {
        scn.start = start;
    }
    // `--hosts N` on a single-host scenario adds healthy peers beside the incident host.
    if scn.name != ScenarioName::Fleet {
        let wanted = opts.hosts.unwrap_or(1);
        let mut peer = 1;
        while scn.hosts.len() < wanted {
            let name = format!("SRV-WEB{peer:02}");
            peer += 1;
            let mut host = healthy::host(opts, tags, &name, scn.hosts.len());
            host.planned_restarts_h.clear();
            scn.hosts.push(host);
        }
    }
    Ok(scn)
}

fn validate(opts: &SimOptions) -> Result<()> {
    if let Some(h) = opts.hours {
        if !(h > 0.0 && h <= 24.0 * 366.0) {
            return Err(Error::Usage(format!("--hours {h}: expected more than 0 and at most a year (8784)")));
        }
    }
    if opts.interval_secs == 0 || opts.handle_interval_secs == 0 {
        return Err(Error::Usage("--interval and --handle-interval must be at least one second".into()));
    }
    if let Some(n) = opts.hosts {
        if !(1..=256).contains(&n) {
            return Err(Error::Usage(format!("--hosts {n}: expected 1 to 256")));
        }
    }
    if let Some(n) = opts.tags {
        if n > 20_000 {
            return Err(Error::Usage(format!("--tags {n}: expected at most 20000")));
        }
    }
    Ok(())
}

/// A UTC time from its parts (scenario start dates are constants).
fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// What differs between hosts that [`host_base`] does not choose.
struct HostPlan<'a> {
    name: &'a str,
    os: OsSpec,
    ram_mib: u64,
    pagefile_mib: u64,
    budget: PoolBudget,
    process_commit_mib: f64,
    system_handles: f64,
    exhaustion: Option<Resource>,
    /// Tags the scenario adds itself (kept out of generated names).
    reserved: &'a [&'a str],
}

/// A host with background tags, documented limits for its release and RAM (peers §6), and ordinary
/// handle counts; scenarios then add their leak.
fn host_base(opts: &SimOptions, tags: usize, index: usize, plan: &HostPlan<'_>) -> HostSpec {
    let mut rng = Rng::derive(opts.seed, &format!("spec/{}", plan.name), index as u64);
    // Windows sees a little less than the VM's memory.
    let ram_bytes = (plan.ram_mib << 20) - (1_024 + rng.below(512)) * 1024;
    let commit_limit_bytes = ram_bytes + (plan.pagefile_mib << 20);
    let (paged_max, nonpaged_max) = match (plan.os.major, plan.os.minor) {
        (6, 1) => (128u64 << 30, (ram_bytes as f64 * 0.75) as u64),
        (6, 2) => (384u64 << 30, ram_bytes.min(128 << 30)),
        _ => ((155u64 << 40) / 10, ram_bytes.min(16 << 40)),
    };
    let mut accounts = vec![
        format!("CONTOSO\\{}$", plan.name),
        "CONTOSO\\administrator".to_owned(),
        "CONTOSO\\svc-backup".to_owned(),
        "CONTOSO\\svc-monitor".to_owned(),
    ];
    accounts.sort();
    HostSpec {
        name: plan.name.to_owned(),
        domain: "CONTOSO".into(),
        dns_suffix: "contoso.local".into(),
        os: plan.os.clone(),
        ram_bytes,
        commit_limit_bytes,
        paged_limit_bytes: paged_max.min(commit_limit_bytes),
        nonpaged_limit_bytes: nonpaged_max,
        exhaustion: plan.exhaustion,
        first_boot_offset_h: 0.0,
        planned_restarts_h: Vec::new(),
        paged_overhead_bytes: (plan.budget.paged_bytes * 0.06) as u64 / 4096 * 4096,
        nonpaged_overhead_bytes: (plan.budget.nonpaged_bytes * 0.08) as u64 / 4096 * 4096,
        process_commit_bytes: plan.process_commit_mib * MIB,
        kernel_commit_bytes: 120.0 * MIB,
        tags: background::background_tags(&mut rng, tags, &plan.budget, plan.reserved),
        handles: HandleSpec { system_handles: plan.system_handles, lsass_handles: 1_150, accounts, leak: None },
        responsible: None,
        activity_sd: 0.1,
        activity_tau_h: 1.0,
        wpa_trace: None,
        third_party_drivers: Vec::new(),
    }
}

/// The Token handle leak of the seed case, in lsass.exe, for `account`.
fn token_handle_leak(host: &mut HostSpec, account: &str, handles_per_hour: f64, starts_after_h: f64) {
    if !host.handles.accounts.iter().any(|a| a == account) {
        host.handles.accounts.push(account.to_owned());
        host.handles.accounts.sort();
    }
    host.handles.leak =
        Some(super::scenario::HandleLeak { account: account.to_owned(), handles_per_hour, starts_after_h });
    host.responsible =
        Some(Responsible { process: "lsass.exe".into(), handle_type: "Token".into(), account: account.to_owned() });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_builds_with_defaults() {
        for name in ScenarioName::ALL {
            let scn = build(&SimOptions::new(name, 7)).unwrap();
            assert!(!scn.hosts.is_empty(), "{name}");
            assert!(scn.hours > 0.0);
            for host in &scn.hosts {
                assert!(host.tags.len() >= DEFAULT_TAGS, "{name}: {}", host.tags.len());
                assert!(host.paged_limit_bytes <= host.commit_limit_bytes);
                assert!(host.ram_bytes < host.commit_limit_bytes);
            }
        }
    }

    #[test]
    fn options_are_applied_and_checked() {
        let mut opts = SimOptions::new(ScenarioName::LsassTokenLeak, 1);
        opts.hours = Some(10.0);
        opts.tags = Some(20);
        opts.hosts = Some(3);
        let scn = build(&opts).unwrap();
        assert!((scn.hours - 10.0).abs() < 1e-12);
        assert_eq!(scn.hosts.len(), 3);
        assert!(scn.hosts[0].tags.len() < 30);
        opts.hours = Some(-1.0);
        assert!(build(&opts).is_err());
    }

    #[test]
    fn seed_case_limits_match_server_2008_r2() {
        let scn = build(&SimOptions::new(ScenarioName::LsassTokenLeak, 1)).unwrap();
        let host = &scn.hosts[0];
        assert_eq!(host.os, OsSpec::SERVER_2008_R2_SP1);
        assert_eq!(host.nonpaged_limit_bytes, (host.ram_bytes as f64 * 0.75) as u64);
        assert_eq!(host.paged_limit_bytes, host.commit_limit_bytes);
        assert_eq!(host.exhaustion, Some(Resource::Commit));
    }
}
