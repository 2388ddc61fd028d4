//! The baseline: a Server 2016 host with no leak. Caches warm up after each boot, counters churn and
//! wrap, levels wander with noise and a daily cycle, and Windows Update restarts the host once. A
//! correct analysis finds no suspect here.

use super::background::PoolBudget;
use super::{host_base, utc, HostPlan, MIB};
use crate::simulate::scenario::{HostSpec, OsSpec, Scenario, ScenarioName, SimOptions};

/// A healthy host; `index` varies memory and load between fleet members.
pub fn host(opts: &SimOptions, tags: usize, name: &str, index: usize) -> HostSpec {
    let big = index % 2 == 1;
    let plan = HostPlan {
        name,
        os: OsSpec::SERVER_2016,
        ram_mib: if big { 16_384 } else { 8192 },
        pagefile_mib: 4096,
        budget: PoolBudget {
            paged_bytes: if big { 220.0 } else { 150.0 } * MIB,
            cache_bytes: 400.0 * MIB,
            nonpaged_bytes: 110.0 * MIB,
            traffic: if big { 1.6 } else { 1.0 },
        },
        process_commit_mib: if big { 4_200.0 } else { 2_400.0 },
        system_handles: if big { 38_000.0 } else { 29_000.0 },
        exhaustion: None,
        reserved: &[],
    };
    let mut host = host_base(opts, tags, index, &plan);
    host.planned_restarts_h = vec![30.0];
    host
}

/// The healthy scenario: one host, 48 hours, one planned restart.
pub fn build(opts: &SimOptions, tags: usize) -> Scenario {
    Scenario {
        name: ScenarioName::Healthy,
        start: utc(2023, 1, 9, 8, 0, 0),
        hours: 48.0,
        hosts: vec![host(opts, tags, "SRV-WEB01", 0)],
    }
}
