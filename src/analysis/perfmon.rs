//! perfmon counters standing in for poolmon (issue 13): a host with no timed poolmon snapshot but perfmon
//! `Memory\Pool Paged Bytes`, `Pool Nonpaged Bytes` and `Committed Bytes` gets one header-only pool snapshot per
//! sample, so the projection of pool and commit exhaustion runs on the counters (no tag rows: no suspects).
//! `Memory\Commit Limit` becomes the commit limit, named "perfmon Commit Limit".

use chrono::{DateTime, Utc};

use crate::model::{PerfSeries, PoolHeader, PoolSnapshot, SourceRef, TimeSource};

use super::limits::HostLimits;

/// The name of the limit taken from `\Memory\Commit Limit`.
pub const COMMIT_LIMIT_SOURCE: &str = "perfmon Commit Limit";

/// One header-only snapshot per perfmon sample that has a pool total, in time order.
pub fn pool_snapshots(series: &[PerfSeries]) -> Vec<PoolSnapshot> {
    let kib = |b: Option<u64>| b.map(|b| b / 1024);
    let mut out: Vec<PoolSnapshot> = series
        .iter()
        .flat_map(|s| s.samples.iter().map(move |x| (s, x)))
        .filter(|(_, x)| x.pool_paged_bytes.is_some() || x.pool_nonpaged_bytes.is_some())
        .map(|(s, x)| PoolSnapshot {
            source: SourceRef::line(&s.source.path, x.line),
            host: s.host.clone(),
            taken_at: Some(x.time),
            time_source: TimeSource::Record,
            header: PoolHeader {
                commit_kb: kib(x.committed_bytes),
                pool_paged_kb: kib(x.pool_paged_bytes),
                pool_nonpaged_kb: kib(x.pool_nonpaged_bytes),
                ..PoolHeader::default()
            },
            rows: Vec::new(),
        })
        .collect();
    out.sort_by(|a, b| a.taken_at.cmp(&b.taken_at).then_with(|| a.source.cmp(&b.source)));
    out
}

/// Restarts the counters show: lsass.exe's `ID Process` changing between two samples (lsass.exe only ends with
/// the system), each as the time of the first sample after it, in time order.
pub fn restarts(series: &[PerfSeries]) -> Vec<DateTime<Utc>> {
    let is_lsass = |name: &str| {
        let name = name.strip_suffix(".exe").unwrap_or(name);
        name.eq_ignore_ascii_case("lsass")
    };
    let mut pids: Vec<(DateTime<Utc>, u32)> = series
        .iter()
        .flat_map(|s| &s.samples)
        .filter_map(|x| x.processes.iter().find(|p| is_lsass(&p.name)).and_then(|p| Some((x.time, p.pid?))))
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids.windows(2).filter(|w| w[0].1 != w[1].1 && w[0].0 != w[1].0).map(|w| w[1].0).collect()
}

/// Fills the commit limit from the last perfmon `Commit Limit` when no stronger source gave one.
pub fn fill_limits(limits: &mut HostLimits, series: &[PerfSeries]) {
    if limits.commit.is_some() {
        return;
    }
    let last = series.iter().flat_map(|s| &s.samples).filter_map(|x| x.commit_limit.map(|l| (x.time, l))).max();
    if let Some((_, bytes)) = last {
        limits.commit = Some((bytes, COMMIT_LIMIT_SOURCE.to_owned()));
    }
}
