//! The engine: runs one host through its boots and writes what its collection left behind.
//!
//! Within a boot, time advances in steps: every poolmon snapshot, `handle -s` summary and lsass dump
//! is a step (their loops drift independently), plus coarse steps before collection starts. Each step
//! advances every tag ([`TagState`]), the handle counts ([`HandleState`]) and the host's activity,
//! then checks the host's exhaustion: when the modelled resource crosses its limit between two steps,
//! the crossing time (interpolated) is the exhaustion and the hang; the boot ends there, the machine
//! stays hung until someone resets it, and the next boot starts the same leak.

use chrono::{DateTime, Duration, Timelike, Utc};

use super::handle_model::HandleState;
use super::host_events::EventLog;
use super::host_output::HostOutput;
use super::math;
use super::pool_model::{warm_factor, TagState};
use super::poolmon_writer::{self, Row, Summary};
use super::rng::Rng;
use super::scenario::{HostSpec, Resource, Scenario, SimOptions};
use super::truth::{BootTruth, RealizedLeak};
use crate::error::Result;
use crate::model::event::{ExhaustedProcess, ResourceExhaustion, TagUsage};
use crate::model::PoolType;

/// Steps before the collection loop starts (fleet hosts booted before the archive) are this coarse.
const PRE_COLLECTION_STEP_SECS: i64 = 900;
/// Minutes a hung host stays hung before someone resets it (range).
const OUTAGE_MINUTES: (u64, u64) = (25, 80);
/// Share of the limit above which the file server logs "pool empty" (Srv 2019/2020).
const POOL_EMPTY_RATIO: f64 = 0.99;

/// Hours between two times.
fn hours(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 3_600_000.0
}

/// Milliseconds as a duration.
fn ms(v: u64) -> Duration {
    Duration::milliseconds(v as i64)
}

/// How a boot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Hang,
    Restart,
    ArchiveEnd,
}

/// The host's totals at one step.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    paged: u64,
    nonpaged: u64,
    commit: u64,
    process_commit: u64,
}

/// Everything that evolves within one boot.
struct BootState {
    start: DateTime<Utc>,
    tags: Vec<TagState>,
    handles: HandleState,
    rng: Rng,
    activity_noise: f64,
    commit_noise: f64,
    page_faults: u64,
    peak_commit: u64,
    t: DateTime<Utc>,
    totals: Totals,
    /// The counters' own noise (perfmon), apart from the engine's stream so writing them changes nothing else.
    perf_rng: Rng,
}

/// Runs one host of the scenario and writes its files through `out`. Returns the truth of its boots.
pub fn run_host(scn: &Scenario, index: usize, opts: &SimOptions, out: &mut HostOutput) -> Result<Vec<BootTruth>> {
    let host = &scn.hosts[index];
    let archive_end = scn.start + Duration::milliseconds((scn.hours * 3_600_000.0) as i64);
    let mut rng = Rng::derive(opts.seed, &format!("host/{}", host.name), index as u64);
    let mut restarts: Vec<DateTime<Utc>> =
        host.planned_restarts_h.iter().map(|h| scn.start + Duration::milliseconds((h * 3_600_000.0) as i64)).collect();
    restarts.sort();
    let mut log = EventLog::new(format!("{}.{}", host.name, host.dns_suffix));
    // The archive's System log starts with the planned restart that began the first boot.
    let mut boot_start = scn.start + Duration::milliseconds((host.first_boot_offset_h * 3_600_000.0) as i64);
    log.planned_restart(host, boot_start - Duration::seconds(150 + rng.below(60) as i64), false);
    let mut unclean = None;
    let mut boots = Vec::new();
    let mut boot_no = 1u32;
    while boot_start < archive_end {
        log.boot(host, boot_start, unclean, &mut rng);
        let restart = restarts.iter().copied().find(|r| *r > boot_start + Duration::minutes(10));
        let (truth, ending) = run_boot(scn, index, opts, boot_no, boot_start, restart, archive_end, &mut log, out)?;
        log.daily_uptime(boot_start, truth.hang_at.unwrap_or(truth.end).min(archive_end));
        let end = truth.end;
        let hang_at = truth.hang_at;
        boots.push(truth);
        match ending {
            Ending::ArchiveEnd => break,
            Ending::Restart => {
                log.planned_restart(host, end, true);
                unclean = None;
                boot_start = end + Duration::seconds(100 + rng.below(80) as i64);
            }
            Ending::Hang => {
                // The last time the system was known alive, as 6008 reports it.
                unclean = hang_at.map(|h| h.with_nanosecond(0).unwrap_or(h));
                boot_start = end + Duration::seconds(70 + rng.below(60) as i64);
            }
        }
        boot_no += 1;
    }
    if let Some(trace) = &host.wpa_trace {
        // Taken during the first boot (earlier in a short archive), while the leak runs.
        let uptime = boots.first().map_or(0.0, |b: &BootTruth| hours(b.start, b.hang_at.unwrap_or(b.end)));
        let ends = trace.ends_after_h.min(0.8 * uptime);
        if ends >= trace.hours {
            let mut trace_rng = Rng::derive(opts.seed, &format!("wpa/{}", host.name), index as u64);
            let (text, rows) = super::wpa_writer::pool_table(host, trace, ends, &mut trace_rng);
            out.wpa_pool(text.as_bytes(), rows)?;
        }
    }
    out.inventory(&super::inventory_writer::inventory(host))?;
    let first_record = 20_000 + rng.below(60_000);
    out.events(&log.finish(first_record))?;
    Ok(boots)
}

/// Runs one boot from `start` until a hang, the planned `restart` or `archive_end`.
#[allow(clippy::too_many_arguments)]
fn run_boot(
    scn: &Scenario,
    index: usize,
    opts: &SimOptions,
    boot_no: u32,
    start: DateTime<Utc>,
    restart: Option<DateTime<Utc>>,
    archive_end: DateTime<Utc>,
    log: &mut EventLog,
    out: &mut HostOutput,
) -> Result<(BootTruth, Ending)> {
    let host = &scn.hosts[index];
    let label = format!("{}/{boot_no}", host.name);
    let mut rng = Rng::derive(opts.seed, &format!("boot/{label}"), index as u64);
    let hod = hour_of_day(start);
    let tags: Vec<TagState> = host
        .tags
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            TagState::new(spec, Rng::derive(opts.seed, &format!("tag/{label}/{}", spec.tag), i as u64), hod)
        })
        .collect();
    let handles =
        HandleState::new(host, Rng::derive(opts.seed, &format!("handles/{label}"), 0), opts.seed ^ u64::from(boot_no));
    let mut st = BootState {
        start,
        tags,
        handles,
        activity_noise: rng.normal(),
        commit_noise: rng.normal(),
        page_faults: 380_000 + rng.below(120_000),
        peak_commit: 0,
        t: start,
        totals: Totals::default(),
        rng,
        perf_rng: Rng::derive(opts.seed, &format!("perfmon/{label}"), index as u64),
    };
    st.totals = totals(host, &st);
    st.peak_commit = st.totals.commit;

    // The collection loop starts from a scheduled task a few minutes after boot (or at the archive's
    // start for a host that booted before it).
    let loop_delay = ms(120_000 + st.rng.below(120_000));
    let collect_from = (start + loop_delay).max(scn.start);
    let stop = restart.map_or(archive_end, |r| r.min(archive_end));
    let interval = ms(u64::from(opts.interval_secs) * 1000);
    let mut next_pool = collect_from;
    let mut next_summary = collect_from + ms(45_000);
    let mut next_dump = (opts.dump_interval_secs > 0).then(|| collect_from + ms(75_000));
    let limit = host.exhaustion.map(|r| (r, limit_of(host, r)));
    let mut prev_value = limit.map_or(0.0, |(r, _)| value_of(&st.totals, r));
    let mut next_pool_empty: Option<DateTime<Utc>> = None;
    let mut truth = BootTruth {
        boot: boot_no,
        start,
        end: stop,
        ended_by: "archive_end".into(),
        hang_at: None,
        exhaustion_at: None,
        snapshots: 0,
        last_snapshot_at: None,
        paged_pool_bytes_at_end: 0,
        nonpaged_pool_bytes_at_end: 0,
        commit_bytes_at_end: 0,
        handles_at_end: 0,
        realized: Vec::new(),
    };
    let mut ending = if stop < archive_end { Ending::Restart } else { Ending::ArchiveEnd };
    loop {
        let mut t_next = next_pool.min(next_summary).min(stop);
        if let Some(d) = next_dump {
            t_next = t_next.min(d);
        }
        if t_next < collect_from {
            t_next = t_next.min(st.t + Duration::seconds(PRE_COLLECTION_STEP_SECS));
        }
        let prev_t = st.t;
        advance(host, &mut st, t_next);
        if let Some((resource, limit)) = limit {
            let value = value_of(&st.totals, resource);
            if value >= limit {
                // Crossed between the previous step and this one: interpolate.
                let frac = if value > prev_value {
                    ((limit - prev_value) / (value - prev_value)).clamp(0.0, 1.0)
                } else {
                    1.0
                };
                let at = prev_t + Duration::milliseconds(((t_next - prev_t).num_milliseconds() as f64 * frac) as i64);
                log.exhaustion(at, &exhaustion_info(host, &st, at, resource));
                if opts.extras.debugger {
                    // The dump an engineer forces at the hang (a manual bugcheck) a few minutes in; the delay comes
                    // from the time, not the random stream, so writing the dump changes nothing else of the run.
                    let dump_at = at + Duration::minutes(3 + i64::from(at.second() % 10));
                    out.debugger(dump_at, &dump_text(host, &st, dump_at))?;
                }
                let reset = at
                    + Duration::minutes((OUTAGE_MINUTES.0 + st.rng.below(OUTAGE_MINUTES.1 - OUTAGE_MINUTES.0)) as i64);
                truth.hang_at = Some(at);
                truth.exhaustion_at = Some(at);
                truth.end = reset.min(archive_end);
                truth.ended_by = "hang".into();
                ending = Ending::Hang;
                break;
            }
            if value >= POOL_EMPTY_RATIO * limit && next_pool_empty.is_none_or(|n| t_next >= n) {
                let pool = if resource == Resource::NonpagedPool { PoolType::Nonpaged } else { PoolType::Paged };
                log.pool_empty(t_next + ms(st.rng.below(50_000)), pool);
                next_pool_empty = Some(t_next + Duration::minutes(8 + st.rng.below(12) as i64));
            }
            prev_value = value;
        }
        if t_next >= stop {
            break;
        }
        if t_next < collect_from {
            continue;
        }
        if t_next == next_pool && opts.extras.perfmon {
            // logman samples on its own schedule; here with each poolmon snapshot (never missing).
            let sample = perf_sample(host, &mut st, boot_no);
            out.perf_sample(boot_no, t_next, &host.name, &sample)?;
        }
        if t_next == next_pool {
            // Now and then a snapshot is missing (poolmon failed, the loop was slow).
            if opts.extras.pool_csv {
                let rows: Vec<(&str, PoolType, super::pool_model::RowValues)> = st
                    .tags
                    .iter()
                    .zip(&host.tags)
                    .filter_map(|(state, spec)| state.row().map(|v| (spec.tag.as_str(), spec.pool, v)))
                    .collect();
                out.pool_csv(t_next, &rows)?;
            }
            if !st.rng.chance(0.002) {
                let text = snapshot_text(host, &st);
                out.poolmon(t_next, &text)?;
                truth.snapshots += 1;
                truth.last_snapshot_at = Some(t_next);
                truth.realized = realized(host, &st);
            }
            // The loop sleeps `interval`, plus poolmon's own run time: the series drifts.
            next_pool += interval + ms(200 + st.rng.below(1_400));
        }
        if t_next == next_summary {
            let uptime = hours(st.start, t_next);
            let counts = st.handles.summary(&host.handles, uptime);
            out.handle_summary(t_next, &counts)?;
            next_summary += ms(u64::from(opts.handle_interval_secs) * 1000 + 500 + st.rng.below(2_500));
        }
        if next_dump == Some(t_next) {
            let lines = st.handles.lsass_dump(host);
            out.handle_dump(t_next, st.handles.lsass_pid, &lines)?;
            next_dump = Some(t_next + ms(u64::from(opts.dump_interval_secs) * 1000 + 1_000 + st.rng.below(4_000)));
        }
    }
    truth.paged_pool_bytes_at_end = st.totals.paged;
    truth.nonpaged_pool_bytes_at_end = st.totals.nonpaged;
    truth.commit_bytes_at_end = st.totals.commit;
    truth.handles_at_end = st.handles.summary(&host.handles, hours(st.start, st.t)).iter().map(|(_, c)| c).sum();
    Ok((truth, ending))
}

/// Hour of the day (UTC, the simulated hosts' zone) as a fraction.
fn hour_of_day(t: DateTime<Utc>) -> f64 {
    f64::from(t.hour()) + f64::from(t.minute()) / 60.0 + f64::from(t.second()) / 3600.0
}

/// The host's activity now (mean 1): logons and requests, log-normal around 1.
fn activity(host: &HostSpec, noise: f64) -> f64 {
    let sd = host.activity_sd;
    math::exp(sd * noise - 0.5 * sd * sd)
}

/// Advances every part of the boot to `t`.
fn advance(host: &HostSpec, st: &mut BootState, t: DateTime<Utc>) {
    let dt = hours(st.t, t);
    if dt <= 0.0 {
        return;
    }
    let uptime = hours(st.start, t);
    let phi = math::exp(-dt / host.activity_tau_h.max(1e-6));
    st.activity_noise = phi * st.activity_noise + (1.0 - phi * phi).sqrt() * st.rng.normal();
    let phi = math::exp(-dt / 2.0);
    st.commit_noise = phi * st.commit_noise + (1.0 - phi * phi).sqrt() * st.rng.normal();
    let act = activity(host, st.activity_noise);
    let hod = hour_of_day(t);
    for (state, spec) in st.tags.iter_mut().zip(&host.tags) {
        state.step(spec, uptime, dt, hod, act);
    }
    st.handles.step(&host.handles, uptime, dt, act);
    // About 700 page faults a second on a quiet server, more when busy.
    st.page_faults += st.rng.poisson(2_500_000.0 * dt * act);
    st.t = t;
    st.totals = totals(host, st);
    st.peak_commit = st.peak_commit.max(st.totals.commit);
}

/// Pool totals as poolmon's `Pool N:`/`P:` report them (rows plus the host's constant overhead),
/// and the commit charge: processes + pool + kernel.
fn totals(host: &HostSpec, st: &BootState) -> Totals {
    let (mut paged, mut nonpaged) = (host.paged_overhead_bytes, host.nonpaged_overhead_bytes);
    for (state, spec) in st.tags.iter().zip(&host.tags) {
        match spec.pool {
            PoolType::Paged => paged += state.bytes(),
            PoolType::Nonpaged => nonpaged += state.bytes(),
        }
    }
    let uptime = hours(st.start, st.t);
    let warm = 0.7 + 0.3 * (1.0 - math::exp(-uptime / 1.5));
    let process_commit = (host.process_commit_bytes * warm * (1.0 + 0.01 * st.commit_noise)) as u64;
    let commit = process_commit + paged + nonpaged + host.kernel_commit_bytes as u64;
    Totals { paged, nonpaged, commit, process_commit }
}

fn limit_of(host: &HostSpec, r: Resource) -> f64 {
    match r {
        Resource::Commit => host.commit_limit_bytes as f64,
        Resource::PagedPool => host.paged_limit_bytes as f64,
        Resource::NonpagedPool => host.nonpaged_limit_bytes as f64,
    }
}

fn value_of(t: &Totals, r: Resource) -> f64 {
    match r {
        Resource::Commit => t.commit as f64,
        Resource::PagedPool => t.paged as f64,
        Resource::NonpagedPool => t.nonpaged as f64,
    }
}

/// Physical memory in use: nonpaged pool, most of paged pool, process working sets, the kernel.
fn memory_in_use(host: &HostSpec, t: &Totals) -> u64 {
    let used =
        t.nonpaged as f64 + 0.85 * t.paged as f64 + 0.75 * t.process_commit as f64 + 0.5 * host.kernel_commit_bytes;
    (used as u64).min(host.ram_bytes.saturating_sub(24 << 20))
}

/// The text of one poolmon snapshot at the current step (rows sorted by bytes, as `-b` sorts).
fn snapshot_text(host: &HostSpec, st: &BootState) -> Vec<u8> {
    let t = &st.totals;
    let commit_kb = (t.commit.min(host.commit_limit_bytes)) / 1024;
    let summary = Summary {
        memory_kb: host.ram_bytes / 1024,
        avail_kb: host.ram_bytes.saturating_sub(memory_in_use(host, t)) / 1024,
        page_faults: st.page_faults,
        inram_kernel_kb: 6_800 + (st.page_faults / 977) % 900,
        inram_paged_kb: (t.paged as f64 * 0.85) as u64 / 1024,
        commit_kb,
        limit_kb: host.commit_limit_bytes / 1024,
        peak_kb: (st.peak_commit.min(host.commit_limit_bytes) / 1024).max(commit_kb),
        pool_nonpaged_kb: t.nonpaged / 1024,
        pool_paged_kb: t.paged / 1024,
    };
    let mut rows: Vec<Row<'_>> = st
        .tags
        .iter()
        .zip(&host.tags)
        .filter_map(|(state, spec)| state.row().map(|values| Row { tag: &spec.tag, pool: spec.pool, values }))
        .collect();
    rows.sort_unstable_by(|a, b| {
        b.values.bytes.cmp(&a.values.bytes).then_with(|| a.tag.cmp(b.tag)).then_with(|| a.pool.cmp(&b.pool))
    });
    let mut buf = Vec::with_capacity(rows.len() * 110 + 400);
    poolmon_writer::write_snapshot(&mut buf, &summary, &rows);
    buf
}

/// Other processes whose counters perfmon collects: (instance, handles, paged pool charged, nonpaged).
const PERF_PROCESSES: [(&str, u64, u64, u64); 4] = [
    ("svchost", 1_420, 2_900_000, 61_000),
    ("svchost#1", 880, 1_300_000, 22_000),
    ("w3wp", 1_850, 3_400_000, 48_000),
    ("AcmeAgent", 960, 1_100_000, 35_000),
];

/// The perfmon counters now: the totals of this step, lsass.exe as the handle model holds it (its leaked
/// Token handles and the paged pool their objects charge it), the other processes steady with noise.
fn perf_sample(host: &HostSpec, st: &mut BootState, boot_no: u32) -> super::perfmon_writer::PerfSample {
    use super::perfmon_writer::{PerfSample, ProcessSample};
    let uptime = hours(st.start, st.t);
    let leaked = st.handles.leaked();
    let mut processes = vec![ProcessSample {
        instance: "lsass",
        pid: st.handles.lsass_pid,
        handles: st.handles.lsass_count(),
        pool_paged: 4_200_000 + leaked * 1_664,
        pool_nonpaged: 38_000 + leaked * 16,
    }];
    let mut pid = 600 + 8 * boot_no;
    for (instance, handles, paged, nonpaged) in PERF_PROCESSES {
        pid += 132;
        let noise = |rng: &mut Rng, base: u64, sd: f64| (base as f64 * (1.0 + sd * rng.normal())).max(0.0) as u64;
        processes.push(ProcessSample {
            instance,
            pid,
            handles: noise(&mut st.perf_rng, handles, 0.01),
            pool_paged: noise(&mut st.perf_rng, paged, 0.005),
            pool_nonpaged: noise(&mut st.perf_rng, nonpaged, 0.005),
        });
    }
    PerfSample {
        pool_paged: st.totals.paged,
        pool_nonpaged: st.totals.nonpaged,
        committed: st.totals.commit.min(host.commit_limit_bytes),
        commit_limit: host.commit_limit_bytes,
        total_handles: st.handles.system_total(&host.handles, uptime),
        processes,
    }
}

/// The WinDbg session text of a dump written at `at` (the state of the step that crossed the limit).
fn dump_text(host: &HostSpec, st: &BootState, at: DateTime<Utc>) -> String {
    use super::debugger_writer::{dump_text, DumpTag, VmFigures};
    let t = &st.totals;
    let vm = VmFigures {
        physical: host.ram_bytes,
        available: host.ram_bytes.saturating_sub(memory_in_use(host, t)),
        nonpaged: t.nonpaged,
        nonpaged_max: host.nonpaged_limit_bytes,
        paged: t.paged,
        paged_max: host.paged_limit_bytes,
        committed: t.commit.min(host.commit_limit_bytes),
        commit_limit: host.commit_limit_bytes,
    };
    let tags: Vec<DumpTag<'_>> = st
        .tags
        .iter()
        .zip(&host.tags)
        .filter_map(|(state, spec)| {
            let v = state.row()?;
            Some(DumpTag { tag: &spec.tag, pool: spec.pool, allocs: v.diff, bytes: v.bytes })
        })
        .collect();
    let uptime = (at - st.start).num_seconds().max(0) as u64;
    dump_text((host.os.major, host.os.minor, host.os.build, host.os.service_pack), at, uptime, &vm, &tags)
}

/// What each leak realised by now.
fn realized(host: &HostSpec, st: &BootState) -> Vec<RealizedLeak> {
    let uptime = hours(st.start, st.t);
    st.tags
        .iter()
        .zip(&host.tags)
        .filter_map(|(state, spec)| {
            let leak = spec.leak.as_ref()?;
            Some(RealizedLeak {
                tag: spec.tag.clone(),
                pool: spec.pool.as_str().to_owned(),
                leaked_allocs: state.leaked(),
                leaked_bytes: state.leaked() * u64::from(leak.per_alloc_bytes),
                tag_bytes: state.bytes(),
                leak_hours: (uptime - leak.starts_after_h).max(0.0),
            })
        })
        .collect()
}

/// The processes a 2004 event lists by commit charge: (image, share of process commit, handles).
const TOP_PROCESSES: [(&str, f64, u64); 6] = [
    ("w3wp.exe", 0.21, 1_850),
    ("AcmeAgent.exe", 0.11, 960),
    ("svchost.exe", 0.07, 1_420),
    ("lsass.exe", 0.03, 0),
    ("WmiPrvSE.exe", 0.02, 410),
    ("explorer.exe", 0.02, 690),
];

/// The data of the Resource-Exhaustion-Detector 2004 logged at `at` (events reference §1.1).
fn exhaustion_info(host: &HostSpec, st: &BootState, at: DateTime<Utc>, resource: Resource) -> ResourceExhaustion {
    let t = &st.totals;
    let top = |pool: PoolType| -> Vec<TagUsage> {
        let mut usage: Vec<TagUsage> = st
            .tags
            .iter()
            .zip(&host.tags)
            .filter(|(_, spec)| spec.pool == pool)
            .map(|(state, spec)| TagUsage { tag: spec.tag.clone(), bytes: state.bytes() })
            .collect();
        usage.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.tag.cmp(&b.tag)));
        usage.truncate(3);
        usage
    };
    let mut pid = 1_000u32;
    let mut processes: Vec<ExhaustedProcess> = TOP_PROCESSES
        .iter()
        .enumerate()
        .map(|(i, &(name, share, handles))| {
            let lsass = name == "lsass.exe";
            pid += 4 * (37 + 11 * i as u32);
            ExhaustedProcess {
                name: name.to_owned(),
                pid: if lsass { st.handles.lsass_pid } else { pid },
                created_at: Some(st.start + Duration::seconds(if lsass { 9 } else { 40 + 13 * i as i64 })),
                commit_charge: (t.process_commit as f64 * share) as u64
                    + if lsass { st.handles.leaked() * 2_048 } else { 0 },
                handle_count: if lsass { st.handles.lsass_count() } else { handles },
            }
        })
        .collect();
    processes.sort_by(|a, b| b.commit_charge.cmp(&a.commit_charge).then_with(|| a.name.cmp(&b.name)));
    let commit_charge = if resource == Resource::Commit { host.commit_limit_bytes.min(t.commit) } else { t.commit };
    ResourceExhaustion {
        commit_limit: Some(host.commit_limit_bytes),
        commit_charge: Some(commit_charge.max(t.commit.min(host.commit_limit_bytes))),
        process_commit_charge: Some(t.process_commit),
        paged_pool_usage: Some(t.paged),
        nonpaged_pool_usage: Some(t.nonpaged),
        physical_memory_size: Some(host.ram_bytes),
        physical_memory_usage: Some(memory_in_use(host, t)),
        process_count: Some(64 + st.page_faults % 13),
        paged_tags: top(PoolType::Paged),
        nonpaged_tags: top(PoolType::Nonpaged),
        processes,
        detected_at: Some(at - Duration::milliseconds(1_400)),
    }
}

/// Mean bytes a tag levels off at once warmed up (for truth's `non_leaks`).
pub fn plateau_bytes(spec: &super::scenario::TagSpec) -> u64 {
    (spec.base * f64::from(spec.per_alloc) * warm_factor(spec, 1e6)) as u64
}
