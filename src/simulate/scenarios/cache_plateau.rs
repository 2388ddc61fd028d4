//! A file server whose `MmSt` cache (section prototype PTEs for mapped files) climbs from ~50 MB to
//! ~1.6 GB over the first ten hours or so and then stays there: a cache, not a leak, and the largest
//! grower of the first hours. Beside it a storage filter (`acmesf.sys`, tag `AcSf`) leaks ~2 MB an
//! hour, slowly and steadily: a correct ranking puts that leak first and does not flag the cache
//! (ANALYSIS.md §3).

use super::background::PoolBudget;
use super::{host_base, utc, HostPlan, MIB};
use crate::model::PoolType;
use crate::simulate::scenario::{LeakSpec, OsSpec, Scenario, ScenarioName, SimOptions, TagSpec, Warmup};

/// The cache that plateaus.
pub const CACHE_TAG: &str = "MmSt";
/// The slow leak.
pub const LEAK_TAG: &str = "AcSf";

/// The cache-plateau scenario: one host, 48 hours.
pub fn build(opts: &SimOptions, tags: usize) -> Scenario {
    let plan = HostPlan {
        name: "SRV-FILE03",
        os: OsSpec::SERVER_2016,
        ram_mib: 16_384,
        pagefile_mib: 4096,
        budget: PoolBudget {
            paged_bytes: 200.0 * MIB,
            cache_bytes: 500.0 * MIB,
            nonpaged_bytes: 140.0 * MIB,
            traffic: 2.0,
        },
        process_commit_mib: 3_200.0,
        system_handles: 42_000.0,
        exhaustion: None,
        reserved: &[LEAK_TAG],
    };
    let mut host = host_base(opts, tags, 0, &plan);
    // The headline cache: much bigger and slower to fill than the usual MmSt.
    match host.tags.iter_mut().find(|t| t.tag == CACHE_TAG) {
        Some(cache) => {
            cache.base = 1_600.0 * MIB / f64::from(cache.per_alloc);
            cache.warmup = Some(Warmup { from: 0.03, tau_h: 3.5 });
        }
        None => host.tags.push(TagSpec {
            tag: CACHE_TAG.into(),
            pool: PoolType::Paged,
            base: 1_600.0 * MIB / 1186.0,
            per_alloc: 1186,
            size_spread: 0.15,
            churn_per_hour: 100_000.0,
            noise: 0.02,
            noise_tau_h: 2.0,
            daily: 0.0,
            warmup: Some(Warmup { from: 0.03, tau_h: 3.5 }),
            first_use_h: 0.0,
            leak: None,
        }),
    }
    host.tags.push(TagSpec {
        tag: LEAK_TAG.into(),
        pool: PoolType::Paged,
        base: 2_000.0,
        per_alloc: 512,
        size_spread: 0.0,
        churn_per_hour: 300_000.0,
        noise: 0.03,
        noise_tau_h: 1.0,
        daily: 0.0,
        warmup: None,
        first_use_h: 0.0,
        leak: Some(LeakSpec {
            allocs_per_hour: 4_000.0,
            per_alloc_bytes: 512,
            starts_after_h: 0.1,
            driver: "acmesf.sys".into(),
            follows_activity: false,
        }),
    });
    Scenario { name: ScenarioName::CachePlateau, start: utc(2022, 10, 3, 6, 2, 45), hours: 48.0, hosts: vec![host] }
}
