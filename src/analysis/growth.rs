//! Per-boot series and the growth statistics of one series (ANALYSIS.md §1-2).
//!
//! A boot's pool snapshots become one series per (tag, pool type): bytes, outstanding allocations,
//! and the 32-bit Allocs/Frees counters unwrapped. Every series is first given the cheap trend test
//! ([`trend`]: Mann-Kendall on hourly medians with the Hamed-Rao correction); only the series that
//! pass it get the full set of statistics ([`growth`]), which is what keeps a 600-tag, 5,400-sample
//! boot fast.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::boots::{hours_between, BootSpan};
use super::stats;
use crate::model::{PoolSnapshot, PoolType};

/// A 32-bit counter's modulus: Allocs and Frees wrap at 2³² (ANALYSIS.md §1).
const COUNTER_WRAP: u64 = 1 << 32;
/// Per Alloc counts as stable when its 10th-90th percentile spread is within this share of its median.
const PER_ALLOC_STABLE_SPREAD: f64 = 0.05;
/// Aim for at least this many bins in the trend test (narrower than an hour for boots under a day): with 12
/// hourly bins and the Hamed-Rao factor, even a perfectly steady leak cannot reach q < 0.01 among hundreds of
/// tags (a 12 h capture of a 12 MiB/h leak went unflagged).
const MIN_BINS: f64 = 24.0;
/// At most this many bins (wider than an hour for boots longer than about three weeks), which
/// keeps the O(bins²) Mann-Kendall and Hamed-Rao steps bounded however long the archive.
const MAX_BINS: f64 = 500.0;

/// One (tag, pool type) series within a boot.
#[derive(Debug, Clone, Default)]
pub struct TagSeries {
    /// Indices of the boot's snapshots in which the tag appears.
    pub idx: Vec<u32>,
    /// Bytes.
    pub bytes: Vec<f64>,
    /// Outstanding allocations.
    pub outstanding: Vec<f64>,
    /// Allocs, unwrapped.
    pub allocs: Vec<u64>,
    /// Frees, unwrapped.
    pub frees: Vec<u64>,
    /// `Mapped_Driver` text from the last row that had one.
    pub driver: Option<String>,
    /// Number of counter wraps unwrapped.
    pub wraps: u32,
}

/// The series of one boot.
#[derive(Debug, Clone, Default)]
pub struct BootSeries {
    /// Snapshot times.
    pub times: Vec<DateTime<Utc>>,
    /// Snapshot times, hours since the boot's start.
    pub hours: Vec<f64>,
    /// Index of the first snapshot in the fitting window (after warm-up).
    pub fit_from: usize,
    /// Per (tag, pool) series, sorted by key.
    pub tags: BTreeMap<(String, PoolType), TagSeries>,
    /// Sum of bytes of paged rows per snapshot.
    pub paged_total: Vec<f64>,
    /// Sum of bytes of nonpaged rows per snapshot.
    pub nonpaged_total: Vec<f64>,
    /// Commit charge in bytes from the poolmon header, per snapshot (`None` where absent).
    pub commit: Vec<Option<f64>>,
    /// The header's `P:` paged pool total in bytes, per snapshot (`None` where absent).
    pub paged_header: Vec<Option<f64>>,
    /// The header's `Pool N:` nonpaged pool total in bytes, per snapshot.
    pub nonpaged_header: Vec<Option<f64>>,
    /// perfmon samples filling the gaps of this boot's poolmon series ([`super::perfmon::gap_fills`]), in time
    /// order. They join the pool totals and commit only, never the tag series: a tag absent from a snapshot
    /// would read as 0 bytes.
    pub fills: Vec<TotalsPoint>,
}

/// One pool-totals sample from outside poolmon (a perfmon row), in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TotalsPoint {
    /// When it was taken.
    pub time: DateTime<Utc>,
    /// Hours since the boot's start (set when the point is given to a boot).
    pub hours: f64,
    /// `\Memory\Pool Paged Bytes`.
    pub paged: Option<f64>,
    /// `\Memory\Pool Nonpaged Bytes`.
    pub nonpaged: Option<f64>,
    /// `\Memory\Committed Bytes`.
    pub commit: Option<f64>,
}

/// A usage series: times, hours since the boot's start, values.
pub type Points = (Vec<DateTime<Utc>>, Vec<f64>, Vec<f64>);

/// Merges poolmon points (`Some` values only) with fill points by time; poolmon first on equal times.
fn merged(
    times: &[DateTime<Utc>],
    hours: &[f64],
    values: &[Option<f64>],
    fills: &[TotalsPoint],
    fill_value: impl Fn(&TotalsPoint) -> Option<f64>,
) -> Points {
    let poolmon = times.iter().zip(hours).zip(values).filter_map(|((t, h), v)| v.map(|v| (*t, *h, v)));
    let extra = fills.iter().filter_map(|f| fill_value(f).map(|v| (f.time, f.hours, v)));
    let mut all: Vec<(DateTime<Utc>, f64, f64, bool)> =
        poolmon.map(|(t, h, v)| (t, h, v, false)).chain(extra.map(|(t, h, v)| (t, h, v, true))).collect();
    // Stable sort: poolmon's points come first in `all`, and `false < true` keeps them first on ties.
    all.sort_by(|a, b| a.0.cmp(&b.0).then(a.3.cmp(&b.3)));
    let mut out: Points = (Vec::with_capacity(all.len()), Vec::with_capacity(all.len()), Vec::with_capacity(all.len()));
    for (t, h, v, _) in all {
        out.0.push(t);
        out.1.push(h);
        out.2.push(v);
    }
    out
}

impl BootSeries {
    /// Hours (since boot start) of a series' points.
    pub fn hours_of(&self, s: &TagSeries) -> Vec<f64> {
        s.idx.iter().map(|&i| self.hours[i as usize]).collect()
    }

    /// The total of one pool per snapshot: the header's `P:`/`Pool N:` (what the limits apply to,
    /// including pool not listed under any tag) when every snapshot of the boot has it, else the sum
    /// of the rows.
    pub fn total(&self, pool: PoolType) -> Vec<f64> {
        let (rows, header) = match pool {
            PoolType::Paged => (&self.paged_total, &self.paged_header),
            PoolType::Nonpaged => (&self.nonpaged_total, &self.nonpaged_header),
        };
        if !header.is_empty() && header.iter().all(Option::is_some) {
            header.iter().map(|h| h.unwrap_or(0.0)).collect()
        } else {
            rows.clone()
        }
    }

    /// The total of one pool with the perfmon fills merged in by time, for the projection and the chart. The
    /// fills join only a header total (`P:`/`Pool N:` is the kernel counter perfmon reads); beside sums of rows
    /// (no header) their untagged share would read as a step.
    pub fn total_points(&self, pool: PoolType) -> Points {
        let (rows, header) = match pool {
            PoolType::Paged => (&self.paged_total, &self.paged_header),
            PoolType::Nonpaged => (&self.nonpaged_total, &self.nonpaged_header),
        };
        if !header.is_empty() && header.iter().all(Option::is_some) {
            merged(&self.times, &self.hours, header, &self.fills, |f| match pool {
                PoolType::Paged => f.paged,
                PoolType::Nonpaged => f.nonpaged,
            })
        } else {
            (self.times.clone(), self.hours.clone(), rows.clone())
        }
    }

    /// Commit charge where poolmon's header or a perfmon fill has it, merged by time.
    pub fn commit_points(&self) -> Points {
        merged(&self.times, &self.hours, &self.commit, &self.fills, |f| f.commit)
    }

    /// Runs of fill points with no poolmon snapshot between them: the gaps the fills closed.
    pub fn fill_gaps(&self) -> usize {
        let mut gaps = 0;
        let mut k = 0;
        let mut last_fill_gap: Option<usize> = None;
        // The number of poolmon snapshots before each fill tells its gap apart.
        for f in &self.fills {
            while k < self.times.len() && self.times[k] <= f.time {
                k += 1;
            }
            if last_fill_gap != Some(k) {
                gaps += 1;
                last_fill_gap = Some(k);
            }
        }
        gaps
    }

    /// A series' values on every snapshot of the boot: the last known value carried forward, 0 before
    /// the tag first appears (poolmon lists every tag that has allocated since boot).
    pub fn dense(&self, s: &TagSeries, values: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.times.len()];
        let mut k = 0;
        let mut last = 0.0;
        for (i, slot) in out.iter_mut().enumerate() {
            while k < s.idx.len() && s.idx[k] as usize == i {
                last = values[k];
                k += 1;
            }
            *slot = last;
        }
        out
    }
}

/// Builds the series of one boot from its snapshots (sorted by time).
pub fn boot_series(boot: &BootSpan, snaps: &[&PoolSnapshot], times: &[DateTime<Utc>]) -> BootSeries {
    let range = boot.snapshots.clone();
    let mut out = BootSeries {
        times: times[range.clone()].to_vec(),
        hours: times[range.clone()].iter().map(|t| hours_between(boot.start, *t)).collect(),
        ..BootSeries::default()
    };
    out.fit_from = out.times.iter().position(|t| *t >= boot.fit_start).unwrap_or(0);
    let mut index: HashMap<(&str, PoolType), TagSeries> = HashMap::new();
    // Last raw (allocs, frees) and the wrap offsets per series.
    let mut raw: HashMap<(&str, PoolType), (u64, u64, u64, u64)> = HashMap::new();
    for (i, snap) in snaps[range].iter().enumerate() {
        let (mut paged, mut nonpaged) = (0.0, 0.0);
        for row in &snap.rows {
            match row.pool {
                PoolType::Paged => paged += row.bytes as f64,
                PoolType::Nonpaged => nonpaged += row.bytes as f64,
            }
            let key = (row.tag.as_str(), row.pool);
            let series = index.entry(key).or_default();
            let state = raw.entry(key).or_insert((row.allocs, row.frees, 0, 0));
            // A 32-bit counter that drops within a boot wrapped past 2^32 (a reboot would have split
            // the boot). A value that was already above 2^32 is no 32-bit counter: its drop is left alone.
            if row.allocs < state.0 && state.0 < COUNTER_WRAP {
                state.2 = state.2.saturating_add(COUNTER_WRAP);
                series.wraps += 1;
            }
            if row.frees < state.1 && state.1 < COUNTER_WRAP {
                state.3 = state.3.saturating_add(COUNTER_WRAP);
                series.wraps += 1;
            }
            state.0 = row.allocs;
            state.1 = row.frees;
            series.idx.push(i as u32);
            series.bytes.push(row.bytes as f64);
            series.outstanding.push(row.diff as f64);
            series.allocs.push(row.allocs.saturating_add(state.2));
            series.frees.push(row.frees.saturating_add(state.3));
            if row.driver.is_some() {
                series.driver.clone_from(&row.driver);
            }
        }
        out.paged_total.push(paged);
        out.nonpaged_total.push(nonpaged);
        out.commit.push(snap.header.commit_kb.map(|k| k as f64 * 1024.0));
        out.paged_header.push(snap.header.pool_paged_kb.map(|k| k as f64 * 1024.0));
        out.nonpaged_header.push(snap.header.pool_nonpaged_kb.map(|k| k as f64 * 1024.0));
    }
    out.tags = index.into_iter().map(|((tag, pool), s)| ((tag.to_owned(), pool), s)).collect();
    out
}

/// The cheap trend test of one series on its fitting window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// Points in the fitting window.
    pub n: usize,
    /// Theil-Sen slope of the binned medians (y per hour), for the sign and the detrending.
    pub binned_slope: f64,
    /// Mann-Kendall p-value on the binned medians with the Hamed-Rao correction.
    pub p: f64,
    /// The Hamed-Rao variance factor used.
    pub variance_factor: f64,
}

/// Bin width for the trend test: one hour, narrower when that leaves fewer than `MIN_BINS` bins,
/// wider when it would make more than `MAX_BINS`.
pub fn bin_width(span_hours: f64) -> f64 {
    if span_hours <= 0.0 || !span_hours.is_finite() {
        return 1.0;
    }
    (span_hours / MIN_BINS).min(1.0).max(span_hours / MAX_BINS)
}

/// Mann-Kendall on hourly medians with the Hamed-Rao correction (ANALYSIS.md §2: one-minute
/// samples are autocorrelated; both remedies are applied, since hourly medians of a random walk
/// are still autocorrelated). `None` with fewer than 4 points or 4 bins.
pub fn trend(t: &[f64], y: &[f64]) -> Option<Trend> {
    let n = t.len().min(y.len());
    if n < 4 {
        return None;
    }
    let width = bin_width(t[n - 1] - t[0]);
    let (bt, by) = stats::bin_medians(t, y, width);
    if bt.len() < 4 {
        return None;
    }
    let fit = stats::theil_sen(&bt, &by)?;
    let factor = stats::hamed_rao_factor(&bt, &by, fit.slope);
    let mk = stats::mann_kendall(&by)?;
    Some(Trend { n, binned_slope: fit.slope, p: mk.p_value(factor), variance_factor: factor })
}

/// The 95% interval of a slope: Theil-Sen's interval from Kendall's S on the binned medians with the
/// Hamed-Rao factor (raw one-minute samples would give an interval far too narrow), widened to
/// contain `point` (the slope of the raw samples).
pub fn slope_ci(t: &[f64], y: &[f64], point: f64) -> [f64; 2] {
    let n = t.len().min(y.len());
    if n < 4 {
        return [point, point];
    }
    let (bt, by) = stats::bin_medians(t, y, bin_width(t[n - 1] - t[0]));
    let factor = stats::theil_sen(&bt, &by).map_or(1.0, |f| stats::hamed_rao_factor(&bt, &by, f.slope));
    match stats::theil_sen_ci(&bt, &by, factor) {
        Some([lo, hi]) => [lo.min(point), hi.max(point)],
        None => [point, point],
    }
}

/// The full statistics of a growing series over the fitting window.
#[derive(Debug, Clone, PartialEq)]
pub struct Growth {
    /// Theil-Sen slope of bytes per hour (raw samples).
    pub bytes_per_hour: f64,
    /// Its 95% interval.
    pub bytes_per_hour_ci: [f64; 2],
    /// Theil-Sen slope over the first half of the window (with the late slope: is the growth slowing down,
    /// as a cache warming up does?).
    pub early_bytes_per_hour: f64,
    /// Theil-Sen slope over the last half of the window (the persistence check).
    pub late_bytes_per_hour: f64,
    /// Trend-test p-value over the last half of the window (Hamed-Rao corrected, not FDR-adjusted).
    pub late_p: f64,
    /// Growth over the window (slope × length) divided by the wobble around the trend: the robust
    /// standard deviation (1.4826 × MAD) of the detrended binned medians.
    pub signal_to_noise: f64,
    /// The same over the last half of the window, with the late slope.
    pub late_signal_to_noise: f64,
    /// OLS slope of bytes per hour.
    pub ols_bytes_per_hour: f64,
    /// OLS R².
    pub r_squared: f64,
    /// Theil-Sen slope of outstanding allocations per hour.
    pub outstanding_per_hour: f64,
    /// The same over the first half of the window (with `late_outstanding_per_hour`: a cache filling up
    /// slows down in its count of objects even when their sizes drift up).
    pub early_outstanding_per_hour: f64,
    /// The same over the last half of the window.
    pub late_outstanding_per_hour: f64,
    /// Median bytes per outstanding allocation.
    pub per_alloc_bytes: f64,
    /// Whether Per Alloc stays within 5% (10th-90th percentile spread).
    pub per_alloc_stable: bool,
    /// Allocations per free over the window (frees floored at 1).
    pub alloc_free_ratio: f64,
    /// Share of positive steps among the steps that changed bytes.
    pub positive_step_share: f64,
    /// Last − first bytes over the whole boot.
    pub end_point_delta_bytes: i64,
    /// Bytes at the last sample.
    pub bytes_now: u64,
    /// Outstanding at the last sample.
    pub outstanding_now: u64,
}

/// Share of the fit window, at its end, used for the persistence check ("the last half": a third
/// of a short window is too short to tell a slope from the wander of a noisy tag).
pub const LATE_SHARE: f64 = 0.5;

/// The points of `t`/`y` at or after `from` hours.
pub fn window(t: &[f64], y: &[f64], from: f64) -> (Vec<f64>, Vec<f64>) {
    t.iter().zip(y).filter(|(ti, _)| **ti >= from).map(|(a, b)| (*a, *b)).unzip()
}

/// The late part of a window: the points in its last `share` of time.
pub fn late_window(t: &[f64], y: &[f64], share: f64) -> (Vec<f64>, Vec<f64>) {
    match (t.first(), t.last()) {
        (Some(first), Some(last)) => window(t, y, last - (last - first) * share),
        _ => (Vec::new(), Vec::new()),
    }
}

/// The early part of a window: the points in its first `share` of time.
pub fn early_window(t: &[f64], y: &[f64], share: f64) -> (Vec<f64>, Vec<f64>) {
    match (t.first(), t.last()) {
        (Some(first), Some(last)) => {
            let until = first + (last - first) * share;
            t.iter().zip(y).filter(|(ti, _)| **ti <= until).map(|(a, b)| (*a, *b)).unzip()
        }
        _ => (Vec::new(), Vec::new()),
    }
}

/// The rise over a window at `slope` (slope × length) divided by the wobble around that trend: the
/// robust standard deviation (1.4826 × MAD) of the binned medians after removing the trend.
pub fn rise_over_wobble(t: &[f64], y: &[f64], slope: f64) -> f64 {
    let n = t.len().min(y.len());
    if n < 2 {
        return 0.0;
    }
    let span = t[n - 1] - t[0];
    let (bt, by) = stats::bin_medians(t, y, bin_width(span));
    let residuals: Vec<f64> = bt.iter().zip(&by).map(|(ti, yi)| yi - slope * ti).collect();
    let centre = stats::median(&residuals).unwrap_or(0.0);
    let deviations: Vec<f64> = residuals.iter().map(|r| (r - centre).abs()).collect();
    let wobble = 1.4826 * stats::median(&deviations).unwrap_or(0.0);
    let rise = slope * span;
    if wobble > 0.0 {
        rise / wobble
    } else if rise > 0.0 {
        1e9
    } else {
        0.0
    }
}

/// Full statistics of one series on the boot's fitting window.
pub fn growth(series: &BootSeries, s: &TagSeries) -> Option<Growth> {
    let t_all = series.hours_of(s);
    let fit_from = series.hours.get(series.fit_from).copied().unwrap_or(0.0);
    let start = t_all.iter().position(|t| *t >= fit_from)?;
    let t = &t_all[start..];
    let bytes = &s.bytes[start..];
    let outstanding = &s.outstanding[start..];
    if t.len() < 4 {
        return None;
    }
    let sen = stats::theil_sen(t, bytes)?;
    let ols = stats::ols(t, bytes)?;
    let (lt, ly) = late_window(t, bytes, LATE_SHARE);
    let late = stats::theil_sen(&lt, &ly).map_or(0.0, |f| f.slope);
    let (et, ey) = early_window(t, bytes, 1.0 - LATE_SHARE);
    let early = stats::theil_sen(&et, &ey).map_or(0.0, |f| f.slope);
    let late_p = trend(&lt, &ly).map_or(1.0, |tr| if tr.binned_slope > 0.0 { tr.p } else { 1.0 });
    let signal_to_noise = rise_over_wobble(t, bytes, sen.slope);
    let late_signal_to_noise = rise_over_wobble(&lt, &ly, late);
    let out_sen = stats::theil_sen(t, outstanding).map_or(0.0, |f| f.slope);
    let (lt_o, ly_o) = late_window(t, outstanding, LATE_SHARE);
    let late_out = stats::theil_sen(&lt_o, &ly_o).map_or(0.0, |f| f.slope);
    let (et_o, ey_o) = early_window(t, outstanding, 1.0 - LATE_SHARE);
    let early_out = stats::theil_sen(&et_o, &ey_o).map_or(0.0, |f| f.slope);
    let per_alloc: Vec<f64> = bytes.iter().zip(outstanding).filter(|(_, o)| **o > 0.0).map(|(b, o)| b / o).collect();
    let per_alloc_bytes = stats::median(&per_alloc).unwrap_or(0.0);
    let per_alloc_stable = match (stats::quantile(&per_alloc, 0.1), stats::quantile(&per_alloc, 0.9)) {
        (Some(lo), Some(hi)) if per_alloc_bytes > 0.0 => (hi - lo) / per_alloc_bytes <= PER_ALLOC_STABLE_SPREAD,
        _ => false,
    };
    let allocs = &s.allocs[start..];
    let frees = &s.frees[start..];
    let d_allocs = allocs.last()?.saturating_sub(allocs[0]);
    let d_frees = frees.last()?.saturating_sub(frees[0]);
    let (mut up, mut changed) = (0usize, 0usize);
    for w in bytes.windows(2) {
        #[allow(clippy::float_cmp)] // whole byte counts: any change is a step
        if w[1] != w[0] {
            changed += 1;
            if w[1] > w[0] {
                up += 1;
            }
        }
    }
    Some(Growth {
        bytes_per_hour: sen.slope,
        bytes_per_hour_ci: slope_ci(t, bytes, sen.slope),
        early_bytes_per_hour: early,
        late_bytes_per_hour: late,
        late_p,
        signal_to_noise,
        late_signal_to_noise,
        ols_bytes_per_hour: ols.slope,
        r_squared: ols.r_squared,
        outstanding_per_hour: out_sen,
        early_outstanding_per_hour: early_out,
        late_outstanding_per_hour: late_out,
        per_alloc_bytes,
        per_alloc_stable,
        alloc_free_ratio: d_allocs as f64 / d_frees.max(1) as f64,
        positive_step_share: if changed > 0 { up as f64 / changed as f64 } else { 0.0 },
        end_point_delta_bytes: (*s.bytes.last()? - s.bytes[0]) as i64,
        bytes_now: *s.bytes.last()? as u64,
        outstanding_now: *s.outstanding.last()? as u64,
    })
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact sums of whole bytes
mod tests {
    use super::*;
    use crate::model::{PoolHeader, PoolRow, SourceRef, TimeSource};
    use chrono::{Duration, TimeZone};

    fn snap(at: DateTime<Utc>, rows: Vec<PoolRow>) -> PoolSnapshot {
        PoolSnapshot {
            source: SourceRef::line("p.log", 1),
            host: None,
            taken_at: Some(at),
            time_source: TimeSource::TimestampLine,
            header: PoolHeader { commit_kb: Some(1000), ..PoolHeader::default() },
            rows,
        }
    }

    fn row(tag: &str, allocs: u64, frees: u64, per: u64) -> PoolRow {
        PoolRow {
            tag: tag.into(),
            pool: PoolType::Paged,
            allocs,
            frees,
            diff: allocs.wrapping_sub(frees) % COUNTER_WRAP,
            bytes: allocs.wrapping_sub(frees) % COUNTER_WRAP * per,
            per_alloc: per,
            driver: None,
        }
    }

    fn boot_of(times: &[DateTime<Utc>]) -> BootSpan {
        BootSpan {
            boot: 0,
            start: times[0],
            end: *times.last().unwrap(),
            start_evidence: "first sample".into(),
            end_evidence: "still running".into(),
            snapshots: 0..times.len(),
            fit_start: times[1],
            warmup_hours: 1.0,
            next_first_sample: None,
            next_start: None,
        }
    }

    #[test]
    fn wrapped_allocs_are_unwrapped_and_totals_summed() {
        let t0 = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
        let times: Vec<_> = (0..3).map(|h| t0 + Duration::hours(h)).collect();
        let snaps = [
            snap(times[0], vec![row("Toke", 4_294_967_000, 4_294_966_990, 1664), row("Key ", 5, 1, 100)]),
            snap(times[1], vec![row("Toke", 100, 4_294_967_000, 1664)]),
            snap(times[2], vec![row("Toke", 200, 10, 1664)]),
        ];
        let refs: Vec<&PoolSnapshot> = snaps.iter().collect();
        let series = boot_series(&boot_of(&times), &refs, &times);
        let toke = &series.tags[&("Toke".to_owned(), PoolType::Paged)];
        assert_eq!(toke.allocs, vec![4_294_967_000, COUNTER_WRAP + 100, COUNTER_WRAP + 200]);
        assert_eq!(toke.frees, vec![4_294_966_990, 4_294_967_000, COUNTER_WRAP + 10]);
        assert_eq!(toke.wraps, 2);
        assert_eq!(series.paged_total[0], 10.0 * 1664.0 + 400.0);
        assert_eq!(series.commit[0], Some(1000.0 * 1024.0));
        assert_eq!(series.fit_from, 1);
        // Key appears once; dense() carries it forward.
        let key = &series.tags[&("Key ".to_owned(), PoolType::Paged)];
        assert_eq!(series.dense(key, &key.bytes), vec![400.0, 400.0, 400.0]);
    }

    #[test]
    fn fills_join_the_header_totals_and_commit_but_not_the_tags() {
        let t0 = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
        let times: Vec<_> = [0, 1, 5].iter().map(|h| t0 + Duration::hours(*h)).collect();
        let mut snaps: Vec<_> = times.iter().map(|t| snap(*t, vec![row("Toke", 10, 0, 100)])).collect();
        for s in &mut snaps {
            s.header.pool_paged_kb = Some(2);
        }
        let refs: Vec<&PoolSnapshot> = snaps.iter().collect();
        let mut series = boot_series(&boot_of(&times), &refs, &times);
        let fill = |h: i64, paged: Option<f64>| TotalsPoint {
            time: t0 + Duration::hours(h),
            hours: h as f64,
            paged,
            nonpaged: None,
            commit: Some(7.0),
        };
        series.fills = vec![fill(2, Some(3000.0)), fill(3, None), fill(6, Some(4000.0))];
        let (t, h, v) = series.total_points(PoolType::Paged);
        assert_eq!(h, vec![0.0, 1.0, 2.0, 5.0, 6.0]);
        assert_eq!(v, vec![2048.0, 2048.0, 3000.0, 2048.0, 4000.0]);
        assert_eq!(t.len(), 5);
        assert_eq!(series.commit_points().1, vec![0.0, 1.0, 2.0, 3.0, 5.0, 6.0]);
        // Two gaps (2-3 h, after 5 h); the tag keeps its three poolmon points.
        assert_eq!(series.fill_gaps(), 2);
        assert_eq!(series.tags[&("Toke".to_owned(), PoolType::Paged)].idx, vec![0, 1, 2]);
        // Without the header on every snapshot the total is the rows' sum, and fills stay out of it.
        series.paged_header[1] = None;
        assert_eq!(series.total_points(PoolType::Paged).2, vec![1000.0; 3]);
    }

    #[test]
    fn a_steady_leak_has_a_significant_trend_and_stable_per_alloc() {
        let t0 = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
        let times: Vec<_> = (0..600).map(|m| t0 + Duration::minutes(m * 2)).collect();
        let snaps: Vec<_> = times
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let allocs = 1000 + 40 * i as u64 + (i as u64 * 7919) % 13;
                snap(*t, vec![row("Toke", allocs, 1000 + 30 * i as u64, 1664)])
            })
            .collect();
        let refs: Vec<&PoolSnapshot> = snaps.iter().collect();
        let series = boot_series(&boot_of(&times), &refs, &times);
        let s = &series.tags[&("Toke".to_owned(), PoolType::Paged)];
        let tr = trend(&series.hours_of(s), &s.bytes).unwrap();
        assert!(tr.p < 1e-6, "{tr:?}");
        let g = growth(&series, s).unwrap();
        // 10 outstanding per 2 minutes = 300/h, 1664 bytes each.
        assert!((g.outstanding_per_hour - 300.0).abs() < 3.0, "{g:?}");
        assert!((g.bytes_per_hour - 300.0 * 1664.0).abs() < 0.01 * 300.0 * 1664.0, "{g:?}");
        assert!(g.bytes_per_hour_ci[0] <= g.bytes_per_hour && g.bytes_per_hour <= g.bytes_per_hour_ci[1]);
        assert!(g.per_alloc_stable);
        assert!((g.per_alloc_bytes - 1664.0).abs() < 1e-9);
        assert!((g.alloc_free_ratio - 4.0 / 3.0).abs() < 0.01);
        assert!(g.late_bytes_per_hour > 0.9 * g.bytes_per_hour);
        assert!(g.late_p < 1e-3 && g.signal_to_noise > 10.0, "{g:?}");
    }

    #[test]
    fn flat_noise_has_no_trend() {
        let t: Vec<f64> = (0..400).map(|i| f64::from(i) / 30.0).collect();
        let mut rng = stats::SplitMix64(3);
        let y: Vec<f64> = t.iter().map(|_| 1e6 + rng.below(5000) as f64).collect();
        assert!(trend(&t, &y).unwrap().p > 0.01);
    }

    #[test]
    fn bin_width_narrows_for_short_boots() {
        assert_eq!(bin_width(90.0), 1.0);
        assert!((bin_width(6.0) - 0.25).abs() < 1e-12);
        // 60 days: 1,440 hours in at most 500 bins.
        assert!((bin_width(1440.0) - 2.88).abs() < 1e-12);
    }
}
