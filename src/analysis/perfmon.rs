//! perfmon counters standing in for poolmon (issue 13): a host with no timed poolmon snapshot but perfmon
//! `Memory\Pool Paged Bytes`, `Pool Nonpaged Bytes` and `Committed Bytes` gets one header-only pool snapshot per
//! sample, so the projection of pool and commit exhaustion runs on the counters (no tag rows: no suspects).
//! `Memory\Commit Limit` becomes the commit limit, named "perfmon Commit Limit".
//!
//! A host with poolmon snapshots keeps them for everything, and perfmon fills the gaps of their pool totals
//! ([`gap_fills`]): a sample further than [`GAP_FACTOR`] times the median poolmon interval from every poolmon
//! snapshot (the loop stopped for hours, files were lost, the hung server's last hours are only in perfmon) joins
//! the paged, nonpaged and commit totals of the boot that owns it ([`super::boots::owns`]), so the projection
//! and the totals chart run up to it. Samples nearer a snapshot are dropped: poolmon wins where both exist. The
//! fills never enter the per-tag series (a tag absent from a snapshot would read as 0 bytes), so the suspects and
//! the boots are poolmon's alone, and the sustained rates too (the suspects' share of a fill is unknown).

use chrono::{DateTime, Utc};

use crate::model::{PerfSeries, PoolHeader, PoolSnapshot, SourceRef, TimeSource};

use super::growth::TotalsPoint;
use super::limits::HostLimits;

/// A perfmon sample fills a gap when every poolmon snapshot is more than this many median poolmon intervals
/// away: a loop late by half an interval is jitter, not a gap.
pub const GAP_FACTOR: f64 = 1.5;

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

/// The median of the positive steps between consecutive times (sorted), in milliseconds.
fn median_step_ms(times: &[DateTime<Utc>]) -> Option<i64> {
    let mut steps: Vec<i64> = times.windows(2).map(|w| (w[1] - w[0]).num_milliseconds()).filter(|ms| *ms > 0).collect();
    if steps.is_empty() {
        return None;
    }
    steps.sort_unstable();
    Some(steps[steps.len() / 2])
}

/// The perfmon samples with a pool or commit total that fill the gaps of the poolmon series `poolmon` (the
/// host's timed snapshots, sorted): those further than [`GAP_FACTOR`] times the median poolmon interval from
/// every snapshot (the median of perfmon's own interval when poolmon has fewer than two snapshots). Where both
/// exist at the same moment poolmon wins: a sample at a snapshot's time is at distance 0. One sample per time
/// (the first by file and line), in time order; `hours` is left 0 for the boot to set.
pub fn gap_fills(series: &[PerfSeries], poolmon: &[DateTime<Utc>]) -> Vec<TotalsPoint> {
    let to_f = |b: Option<u64>| b.map(|b| b as f64);
    let mut samples: Vec<(DateTime<Utc>, &SourceRef, u64, TotalsPoint)> = series
        .iter()
        .flat_map(|s| s.samples.iter().map(move |x| (s, x)))
        .filter(|(_, x)| x.pool_paged_bytes.is_some() || x.pool_nonpaged_bytes.is_some() || x.committed_bytes.is_some())
        .map(|(s, x)| {
            let point = TotalsPoint {
                time: x.time,
                hours: 0.0,
                paged: to_f(x.pool_paged_bytes),
                nonpaged: to_f(x.pool_nonpaged_bytes),
                commit: to_f(x.committed_bytes),
            };
            (x.time, &s.source, x.line, point)
        })
        .collect();
    samples.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)).then(a.2.cmp(&b.2)));
    samples.dedup_by_key(|s| s.0);
    if poolmon.is_empty() {
        return Vec::new();
    }
    let perf_times: Vec<DateTime<Utc>> = samples.iter().map(|s| s.0).collect();
    let Some(step) = median_step_ms(poolmon).or_else(|| median_step_ms(&perf_times)) else {
        return Vec::new();
    };
    let threshold = GAP_FACTOR * step as f64;
    // Distance to the nearest snapshot: binary search in the sorted poolmon times.
    let nearest_ms = |t: DateTime<Utc>| {
        let i = poolmon.partition_point(|p| *p < t);
        let after = poolmon.get(i).map(|p| (*p - t).num_milliseconds());
        let before = i.checked_sub(1).map(|j| (t - poolmon[j]).num_milliseconds());
        after.into_iter().chain(before).min().unwrap_or(i64::MAX)
    };
    samples.into_iter().filter(|s| nearest_ms(s.0) as f64 > threshold).map(|s| s.3).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PerfSample;
    use chrono::{Duration, TimeZone};

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 5, 22, 0, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    fn perf(minutes: &[i64]) -> PerfSeries {
        let sample = |(i, m): (usize, &i64)| PerfSample {
            time: t(*m),
            line: i as u64 + 2,
            pool_paged_bytes: Some(1000 + *m as u64),
            pool_nonpaged_bytes: Some(500),
            committed_bytes: Some(9000),
            commit_limit: None,
            total_handles: None,
            processes: Vec::new(),
        };
        PerfSeries {
            source: SourceRef::line("counters.csv", 1),
            host: None,
            samples: minutes.iter().enumerate().map(sample).collect(),
        }
    }

    #[test]
    fn samples_in_gaps_fill_and_samples_near_poolmon_do_not() {
        // poolmon every 10 min, stopped from 30 to 90 and after 120; perfmon every 5 min from 0 to 180.
        let poolmon: Vec<_> = [0, 10, 20, 30, 90, 100, 110, 120].into_iter().map(t).collect();
        let series = perf(&(0..=36).map(|i| i * 5).collect::<Vec<_>>());
        let fills = gap_fills(&[series], &poolmon);
        let minutes: Vec<i64> = fills.iter().map(|f| (f.time - t(0)).num_minutes()).collect();
        // More than 15 min (1.5 × the 10 min median) from every snapshot: 50..=70 in the middle gap, 140.. after.
        let mut expected = vec![50, 55, 60, 65, 70];
        expected.extend((28..=36).map(|i| i * 5));
        assert_eq!(minutes, expected);
        assert_eq!(fills[0].paged, Some(1050.0));
        assert_eq!(fills[0].commit, Some(9000.0));
    }

    #[test]
    fn poolmon_wins_where_both_have_a_sample() {
        // One perfmon sample at a snapshot's time, one just past the threshold, one just within it.
        let poolmon: Vec<_> = [0, 10, 20].into_iter().map(t).collect();
        let series = perf(&[20, 35, 36]);
        let fills = gap_fills(&[series], &poolmon);
        assert_eq!(fills.iter().map(|f| f.time).collect::<Vec<_>>(), vec![t(36)]);
        // The same sample in two files counts once.
        let twice = gap_fills(&[perf(&[40]), perf(&[40])], &poolmon);
        assert_eq!(twice.len(), 1);
    }

    #[test]
    fn one_poolmon_snapshot_measures_gaps_by_perfmon_interval() {
        let series = perf(&[0, 5, 10, 15, 20]);
        let fills = gap_fills(&[series], &[t(5)]);
        // 1.5 × 5 min from the snapshot at 5: 15 and 20 are in the gap.
        assert_eq!(fills.iter().map(|f| f.time).collect::<Vec<_>>(), vec![t(15), t(20)]);
        assert!(gap_fills(&[perf(&[0, 50])], &[]).is_empty());
    }
}
