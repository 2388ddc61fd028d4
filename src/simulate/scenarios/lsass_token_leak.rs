//! The seed case (ARCHITECTURE.md "The job"): a Windows Server 2008 R2 SP1 VM with 4 GB of RAM and a
//! small page file. Once a security product's driver (`acmesec.sys`) starts, every network logon of
//! the scanner's service account leaks a token: `Toke` (paged) grows by ~15,700 allocations of 1,664
//! bytes an hour, lsass.exe keeps a Token handle per leaked logon (~440 an hour, all for
//! `CONTOSO\svc-scan`), system handles climb from ~25,000 to ~64,600, and paged pool from ~120 MB after
//! boot to ~2.9 GB, when commit runs out after ~89-90 hours: the 2004 event, then the hang. After the
//! reset the next boot starts the same leak.

use super::background::PoolBudget;
use super::{host_base, token_handle_leak, utc, HostPlan, MIB};
use crate::model::PoolType;
use crate::simulate::scenario::{
    HostSpec, LeakSpec, OsSpec, Resource, Scenario, ScenarioName, SimOptions, ThirdPartyDriver, WpaTrace,
};

/// The leaking tag.
pub const TAG: &str = "Toke";
/// The security product's minifilter loaded on the leaking hosts (the only driver not Microsoft's).
pub const SECURITY_FILTER: &str = "ctxscan";
/// Bytes per leaked token object.
pub const PER_ALLOC: u32 = 1664;
/// Leaked token objects an hour.
pub const ALLOCS_PER_HOUR: f64 = 15_700.0;
/// Leaked lsass.exe Token handles an hour.
pub const HANDLES_PER_HOUR: f64 = 440.0;
/// The account whose logons leak.
pub const ACCOUNT: &str = "CONTOSO\\svc-scan";
/// The leaking driver.
pub const DRIVER: &str = "acmesec.sys";

/// The seed case's host; `rate` scales the leak (1 for the seed case) and `exhausts` says whether
/// commit runs out (the fleet's leaker has room to spare).
pub fn host(opts: &SimOptions, tags: usize, name: &str, index: usize, rate: f64, exhausts: bool) -> HostSpec {
    let plan = HostPlan {
        name,
        os: OsSpec::SERVER_2008_R2_SP1,
        ram_mib: 4096,
        // A 256 MB page file: commit runs out when paged pool reaches ~2.9 GB.
        pagefile_mib: if exhausts { 256 } else { 4096 },
        budget: PoolBudget {
            paged_bytes: 90.0 * MIB,
            cache_bytes: 460.0 * MIB,
            nonpaged_bytes: 85.0 * MIB,
            traffic: 1.0,
        },
        process_commit_mib: 1_350.0,
        system_handles: 25_000.0,
        exhaustion: exhausts.then_some(Resource::Commit),
        reserved: &[],
    };
    let mut host = host_base(opts, tags, index, &plan);
    let leak = LeakSpec {
        allocs_per_hour: ALLOCS_PER_HOUR * rate,
        per_alloc_bytes: PER_ALLOC,
        starts_after_h: 0.25,
        driver: DRIVER.into(),
        follows_activity: true,
    };
    match host.tags.iter_mut().find(|t| t.tag == TAG && t.pool == PoolType::Paged) {
        Some(toke) => toke.leak = Some(leak),
        None => host.tags.push(crate::simulate::scenario::TagSpec {
            tag: TAG.into(),
            pool: PoolType::Paged,
            base: 1_800.0,
            per_alloc: 1450,
            size_spread: 0.1,
            churn_per_hour: 40_000.0,
            noise: 0.05,
            noise_tau_h: 1.0,
            daily: 0.0,
            warmup: None,
            first_use_h: 0.0,
            leak: Some(leak),
        }),
    }
    token_handle_leak(&mut host, ACCOUNT, HANDLES_PER_HOUR * rate, 0.25);
    // The seed case's culprit: a security product's file-system minifilter that asks for tokens.
    host.third_party_drivers.push(ThirdPartyDriver {
        name: SECURITY_FILTER.into(),
        display_name: "Contoso Scan Filter Driver".into(),
        company: "Contoso Security".into(),
        altitude: Some("329420".into()),
    });
    host
}

/// The frames WPA shows for a pool allocation, outermost first, from lsass.exe's call `via` (a system service)
/// through the token routine `routine` to the pool allocator.
fn token_stack(via: &str, routine: &str) -> Vec<String> {
    [
        "ntdll.dll!RtlUserThreadStart",
        "kernel32.dll!BaseThreadInitThunk",
        "lsasrv.dll!LsapAuApiDispatchLogonUser",
        "ntkrnlmp.exe!KiSystemServiceCopyEnd",
        via,
        routine,
        "ntkrnlmp.exe!ObCreateObjectEx",
        "ntkrnlmp.exe!ObpAllocateObject",
        "ntkrnlmp.exe!ExAllocatePoolWithTag",
    ]
    .iter()
    .map(|f| (*f).to_owned())
    .collect()
}

/// The seed case: one host, 120 hours (one full boot to the hang, then the start of the next), with a
/// 24-minute WPR Pool usage trace taken 36 hours into the leak (issue 13).
pub fn build(opts: &SimOptions, tags: usize) -> Scenario {
    let mut leaker = host(opts, tags, "SRV-APP01", 0, 1.0, true);
    leaker.wpa_trace = Some(WpaTrace {
        tag: TAG.into(),
        ends_after_h: 36.0,
        hours: 0.4,
        stack: token_stack("ntkrnlmp.exe!NtDuplicateToken", "ntkrnlmp.exe!SepDuplicateToken"),
        other_stack: token_stack("ntkrnlmp.exe!NtCreateTokenEx", "ntkrnlmp.exe!SepCreateToken"),
    });
    Scenario {
        name: ScenarioName::LsassTokenLeak,
        start: utc(2020, 5, 18, 20, 14, 7),
        hours: 120.0,
        hosts: vec![leaker],
    }
}
