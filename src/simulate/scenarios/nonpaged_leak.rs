//! A network filter driver (`acmenf.sys`, tag `Nfbf`) leaks 2 KB nonpaged buffers with the traffic it
//! sees, ~61,000 an hour, on a Server 2008 R2 host with 8 GB: nonpaged pool reaches its limit (75% of
//! RAM on that release, peers §6) after about two days. The file server logs Srv 2019 ("nonpaged pool
//! empty") as it gets close; the host hangs, is reset, and the leak starts again.

use super::background::PoolBudget;
use super::{host_base, utc, HostPlan, MIB};
use crate::model::PoolType;
use crate::simulate::scenario::{LeakSpec, OsSpec, Resource, Scenario, ScenarioName, SimOptions, TagSpec};

/// The leaking tag.
pub const TAG: &str = "Nfbf";

/// The nonpaged-leak scenario: one host, 60 hours.
pub fn build(opts: &SimOptions, tags: usize) -> Scenario {
    let plan = HostPlan {
        name: "SRV-FS02",
        os: OsSpec::SERVER_2008_R2_SP1,
        ram_mib: 8192,
        pagefile_mib: 8192,
        budget: PoolBudget {
            paged_bytes: 110.0 * MIB,
            cache_bytes: 300.0 * MIB,
            nonpaged_bytes: 120.0 * MIB,
            traffic: 1.5,
        },
        process_commit_mib: 1_900.0,
        system_handles: 31_000.0,
        exhaustion: Some(Resource::NonpagedPool),
        reserved: &[TAG],
    };
    let mut host = host_base(opts, tags, 0, &plan);
    host.tags.push(TagSpec {
        tag: TAG.into(),
        pool: PoolType::Nonpaged,
        base: 900.0,
        per_alloc: 2048,
        size_spread: 0.0,
        churn_per_hour: 2_500_000.0,
        noise: 0.08,
        noise_tau_h: 0.5,
        daily: 0.0,
        warmup: None,
        first_use_h: 0.0,
        leak: Some(LeakSpec {
            allocs_per_hour: 61_000.0,
            per_alloc_bytes: 2048,
            starts_after_h: 0.05,
            driver: "acmenf.sys".into(),
            follows_activity: true,
        }),
    });
    Scenario { name: ScenarioName::NonpagedLeak, start: utc(2021, 3, 8, 7, 31, 12), hours: 60.0, hosts: vec![host] }
}
