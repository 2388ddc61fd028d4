//! Time to exhaustion of paged pool, nonpaged pool and commit (ANALYSIS.md §4).
//!
//! The rate that matters is the *sustained* one. A straight line through a pool total over a window
//! that still holds caches warming up overstates the rate and projects the hang too early, so the
//! projection is built from parts:
//! - the suspects' robust (Theil-Sen) slopes, which passed the persistence check;
//! - plus the trend of everything else (total − suspects) over the last half of the fitting window,
//!   when it is significant and positive there and over the whole window: by then the caches have
//!   levelled off, and what remains is real growth the suspect rule did not single out (many small
//!   growers).
//!
//! Commit is charged for both pools, so its sustained rate is the two pools' plus the trend of the
//! rest of commit (processes, kernel) over the last half of the window. The naive projection (OLS of
//! the total over the whole fitting window) is shown beside it.

use chrono::{DateTime, Utc};
use std::fmt::Write as _;

use super::boots::{add_hours, BootSpan};
use super::growth::{late_window, rise_over_wobble, slope_ci, trend, window, BootSeries};
use super::limits::Limit;
use super::stats;
use super::suspects::Candidate;
use super::{Projection, Resource};
use crate::model::{Event, EventKind, PoolType};

/// Significance needed for the residual trend to count.
const RESIDUAL_P: f64 = 0.01;
/// Share of the fitting window, at its end, on which the residual trend is measured.
const RESIDUAL_SHARE: f64 = 0.5;
/// PAL's warning and critical bands.
const WARNING: f64 = 0.6;
const CRITICAL: f64 = 0.8;

/// A sustained growth rate with its interval and what it was built from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sustained {
    /// Bytes per hour.
    pub rate: f64,
    /// 95% interval (sum of the parts' intervals).
    pub ci: [f64; 2],
    /// Words: which parts.
    pub source: String,
}

/// The trend of `y` that remains once caches have levelled off: the Theil-Sen slope over the last
/// half of the fitting window, with its interval, counted only when the trend is significant and
/// positive both over that late half and over the whole window, and its rise over the late half is
/// at least `min_late_snr` times the wobble there (the suspects' own wander test). This keeps
/// autocorrelated noise and a cache's wander out: adding a residual only when chance made it look
/// significant and positive would bias every projection early.
fn residual_trend(t: &[f64], y: &[f64], fit_from: f64, min_late_snr: f64) -> (f64, [f64; 2]) {
    let (ft, fy) = window(t, y, fit_from);
    let (lt, ly) = late_window(&ft, &fy, RESIDUAL_SHARE);
    let significant = |t: &[f64], y: &[f64]| trend(t, y).is_some_and(|tr| tr.p < RESIDUAL_P && tr.binned_slope > 0.0);
    if !significant(&lt, &ly) || !significant(&ft, &fy) {
        return (0.0, [0.0, 0.0]);
    }
    let slope = stats::theil_sen(&lt, &ly).map_or(0.0, |f| f.slope);
    if slope <= 0.0 || rise_over_wobble(&lt, &ly, slope) < min_late_snr {
        return (0.0, [0.0, 0.0]);
    }
    let ci = slope_ci(&lt, &ly, slope);
    (slope, [ci[0].max(0.0), ci[1]])
}

/// The sustained rate of one pool total: its suspects' slopes plus the significant late trend of the
/// rest (see `residual_trend`; `min_late_snr` is half the suspect rule's signal-to-noise floor).
pub fn sustained_pool(series: &BootSeries, pool: PoolType, suspects: &[Candidate], min_late_snr: f64) -> Sustained {
    let total = series.total(pool);
    let mine: Vec<&Candidate> = suspects.iter().filter(|c| c.pool == pool).collect();
    let mut rest = total.clone();
    for c in &mine {
        if let Some(s) = series.tags.get(&(c.tag.clone(), c.pool)) {
            for (r, v) in rest.iter_mut().zip(series.dense(s, &s.bytes)) {
                *r -= v;
            }
        }
    }
    let fit_from = series.hours.get(series.fit_from).copied().unwrap_or(0.0);
    let (res, res_ci) = residual_trend(&series.hours, &rest, fit_from, min_late_snr);
    let rate: f64 = mine.iter().map(|c| c.growth.bytes_per_hour).sum::<f64>() + res;
    let lo: f64 = mine.iter().map(|c| c.growth.bytes_per_hour_ci[0]).sum::<f64>() + res_ci[0];
    let hi: f64 = mine.iter().map(|c| c.growth.bytes_per_hour_ci[1]).sum::<f64>() + res_ci[1];
    let mut parts: Vec<String> =
        mine.iter().map(|c| format!("{} {}", c.tag.trim_end(), crate::units::rate(c.growth.bytes_per_hour))).collect();
    if res > 0.0 {
        parts.push(format!("rest {} (late trend)", crate::units::rate(res)));
    }
    let source = if parts.is_empty() {
        "no sustained growth (no suspect, no significant late trend)".to_owned()
    } else if mine.is_empty() {
        format!("late trend of the total: {}", parts.join(" + "))
    } else {
        format!("suspects' robust slopes + late trend of the rest: {}", parts.join(" + "))
    };
    Sustained { rate, ci: [lo.min(rate), hi.max(rate)], source }
}

/// The sustained rate of commit: both pools' sustained rates plus the late trend of the rest of commit.
/// `None` without commit figures in the poolmon headers.
pub fn sustained_commit(
    series: &BootSeries,
    paged: &Sustained,
    nonpaged: &Sustained,
    min_late_snr: f64,
) -> Option<(Vec<f64>, Vec<f64>, Sustained)> {
    let paged_total = series.total(PoolType::Paged);
    let nonpaged_total = series.total(PoolType::Nonpaged);
    let (mut t, mut commit, mut other) = (Vec::new(), Vec::new(), Vec::new());
    for (i, c) in series.commit.iter().enumerate() {
        if let Some(c) = c {
            t.push(series.hours[i]);
            commit.push(*c);
            other.push(c - paged_total[i] - nonpaged_total[i]);
        }
    }
    if t.len() < 4 {
        return None;
    }
    let fit_from = series.hours.get(series.fit_from).copied().unwrap_or(0.0);
    let (res, res_ci) = residual_trend(&t, &other, fit_from, min_late_snr);
    let rate = paged.rate + nonpaged.rate + res;
    let ci = [paged.ci[0] + nonpaged.ci[0] + res_ci[0], paged.ci[1] + nonpaged.ci[1] + res_ci[1]];
    let mut source =
        format!("paged {} + nonpaged {}", crate::units::rate(paged.rate), crate::units::rate(nonpaged.rate));
    if res > 0.0 {
        let _ = write!(source, " + rest of commit {} (late trend)", crate::units::rate(res));
    }
    Some((t, commit, Sustained { rate, ci, source }))
}

/// Projections further out than this are reported as none: ten years of a straight line say
/// nothing, and a date in the year 4864 only confuses.
pub const HORIZON_HOURS: f64 = 10.0 * 365.25 * 24.0;

/// Hours until `y_now` reaches `target` at `rate` (`None` when not growing, or beyond the horizon).
fn hours_to(target: f64, y_now: f64, rate: f64) -> Option<f64> {
    if y_now >= target {
        return Some(0.0);
    }
    let hours = (target - y_now) / rate;
    (rate > 0.0 && hours <= HORIZON_HOURS).then_some(hours)
}

/// When a threshold is (or was) crossed: projected when still ahead, else the first sample at or above it.
fn crossing(
    threshold: f64,
    times: &[DateTime<Utc>],
    values: &[f64],
    now: DateTime<Utc>,
    y_now: f64,
    rate: f64,
) -> Option<DateTime<Utc>> {
    if y_now < threshold {
        return hours_to(threshold, y_now, rate).map(|h| add_hours(now, h));
    }
    values.iter().position(|v| *v >= threshold).map(|i| times[i])
}

/// Builds one projection from a usage series (times, hours since boot start, values), its limit and
/// sustained rate.
pub fn project(
    host: &str,
    boot: &BootSpan,
    resource: Resource,
    points: (&[DateTime<Utc>], &[f64], &[f64]),
    limit: &Limit,
    sustained: &Sustained,
    fit_from: f64,
) -> Option<Projection> {
    let (times, hours, values) = points;
    let (&now, &y_now, &h_now) = (times.last()?, values.last()?, hours.last()?);
    let l = limit.bytes as f64;
    let exhaustion_at = hours_to(l, y_now, sustained.rate).map(|h| add_hours(now, h));
    let exhaustion_range = match (hours_to(l, y_now, sustained.ci[1]), hours_to(l, y_now, sustained.ci[0])) {
        (Some(early), Some(late)) => Some([add_hours(now, early), add_hours(now, late)]),
        _ => None,
    };
    let (ft, fy) = window(hours, values, fit_from);
    let naive_exhaustion_at = stats::ols(&ft, &fy).and_then(|fit| {
        let ahead = (l - fit.intercept) / fit.slope - h_now;
        (fit.slope > 0.0 && ahead <= HORIZON_HOURS).then(|| add_hours(now, ahead))
    });
    Some(Projection {
        host: host.to_owned(),
        boot: boot.boot,
        pool: resource,
        limit_bytes: limit.bytes,
        limit_source: limit.source.clone(),
        now_bytes: y_now.max(0.0) as u64,
        now_at: now,
        bytes_per_hour: sustained.rate,
        rate_source: sustained.source.clone(),
        exhaustion_at,
        exhaustion_range,
        naive_exhaustion_at,
        warning_at: crossing(WARNING * l, times, values, now, y_now, sustained.rate),
        critical_at: crossing(CRITICAL * l, times, values, now, y_now, sustained.rate),
        observed_exhaustion_at: None,
        observed_evidence: None,
    })
}

/// Fills the observed exhaustion of a boot's projections from its events (the model check):
/// a 2004 inside the boot, Srv 2019/2020 for its pool, a 6008 (with the time the system went down)
/// or a 41 logged at the next boot. Generic evidence (2004, 6008, 41) is given to the resources that
/// were near their limit by then (at least 80% at the projected rate); 2019/2020 to their pool.
pub fn observe(projections: &mut [Projection], boot: &BootSpan, events: &[Event]) {
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let in_boot = |e: &&Event| boot.contains(e.time);
    let after = |e: &&Event| e.time > boot.end && boot.next_first_sample.is_none_or(|n| e.time <= n);
    let mut generic: Option<(DateTime<Utc>, String)> = None;
    if let Some(e) = events.iter().filter(in_boot).find(|e| matches!(e.kind, EventKind::ResourceExhaustion(_))) {
        generic = Some((e.time, format!("event {} (resource exhaustion) at {}", e.event_id, fmt(e.time))));
    }
    let crashes: Vec<&Event> =
        events.iter().filter(after).filter(|e| matches!(e.kind, EventKind::Crash { .. })).collect();
    if generic.is_none() {
        if let Some((e, at)) = crashes.iter().find_map(|e| match e.kind {
            EventKind::Crash { previous_shutdown_at: Some(at), .. } => Some((e, at)),
            _ => None,
        }) {
            generic = Some((at, format!("event {} at the next boot: went down at {}", e.event_id, fmt(at))));
        } else if let Some(e) = crashes.first() {
            generic = Some((
                boot.end,
                format!("event {} at the next boot: down after the last sample at {}", e.event_id, fmt(boot.end)),
            ));
        }
    }
    for p in projections.iter_mut() {
        let pool_empty = match p.pool {
            Resource::Paged => Some(PoolType::Paged),
            Resource::Nonpaged => Some(PoolType::Nonpaged),
            Resource::Commit => None,
        };
        let specific = events
            .iter()
            .filter(in_boot)
            .find(|e| matches!(&e.kind, EventKind::PoolEmpty { pool } if Some(*pool) == pool_empty));
        if let Some(e) = specific {
            if generic.as_ref().is_none_or(|(at, _)| e.time < *at) {
                p.observed_exhaustion_at = Some(e.time);
                p.observed_evidence =
                    Some(format!("event {} ({} pool empty) at {}", e.event_id, p.pool_name(), fmt(e.time)));
                continue;
            }
        }
        if let Some((at, why)) = &generic {
            let hours = super::boots::hours_between(p.now_at, *at);
            let projected = p.now_bytes as f64 + p.bytes_per_hour.max(0.0) * hours.max(0.0);
            if projected >= CRITICAL * p.limit_bytes as f64 {
                p.observed_exhaustion_at = Some(*at);
                p.observed_evidence = Some(why.clone());
            }
        }
    }
}

impl Projection {
    /// `paged pool`, `nonpaged pool` or `commit`.
    pub fn pool_name(&self) -> &'static str {
        match self.pool {
            Resource::Paged => "paged",
            Resource::Nonpaged => "nonpaged",
            Resource::Commit => "commit",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn boot() -> BootSpan {
        let t0 = Utc.with_ymd_and_hms(2020, 5, 18, 20, 0, 0).unwrap();
        BootSpan {
            boot: 0,
            start: t0,
            end: add_hours(t0, 10.0),
            start_evidence: "first sample".into(),
            end_evidence: "still running".into(),
            snapshots: 0..11,
            fit_start: t0,
            warmup_hours: 0.0,
            next_first_sample: None,
            next_start: None,
        }
    }

    #[test]
    fn projection_by_hand() {
        // 100 MB now, 10 MB/h sustained, limit 200 MB: 10 h; CI 5..20 MB/h → 5..20 h;
        // 60% (120 MB) in 2 h, 80% (160 MB) in 6 h.
        let b = boot();
        let hours: Vec<f64> = (0..=10).map(f64::from).collect();
        let times: Vec<_> = hours.iter().map(|h| add_hours(b.start, *h)).collect();
        let values: Vec<f64> = hours.iter().map(|h| 1e6 * (10.0 * h)).collect();
        let limit = Limit { bytes: 200_000_000, source: "--limit-paged".into() };
        let s = Sustained { rate: 1e7, ci: [5e6, 2e7], source: "test".into() };
        let p = project("h", &b, Resource::Paged, (&times, &hours, &values), &limit, &s, 0.0).unwrap();
        assert_eq!(p.now_bytes, 100_000_000);
        assert_eq!(p.exhaustion_at, Some(add_hours(b.start, 20.0)));
        assert_eq!(p.exhaustion_range, Some([add_hours(b.start, 15.0), add_hours(b.start, 30.0)]));
        assert_eq!(p.warning_at, Some(add_hours(b.start, 12.0)));
        assert_eq!(p.critical_at, Some(add_hours(b.start, 16.0)));
        // The naive OLS line is the same line here.
        assert_eq!(p.naive_exhaustion_at, Some(add_hours(b.start, 20.0)));
    }

    #[test]
    fn crossings_already_passed_come_from_the_data() {
        let b = boot();
        let hours: Vec<f64> = (0..=10).map(f64::from).collect();
        let times: Vec<_> = hours.iter().map(|h| add_hours(b.start, *h)).collect();
        let values: Vec<f64> = hours.iter().map(|h| 1e6 * (10.0 * h)).collect();
        let limit = Limit { bytes: 110_000_000, source: "x".into() };
        let s = Sustained { rate: 0.0, ci: [0.0, 0.0], source: "none".into() };
        let p = project("h", &b, Resource::Nonpaged, (&times, &hours, &values), &limit, &s, 0.0).unwrap();
        assert_eq!(p.exhaustion_at, None);
        assert_eq!(p.warning_at, Some(times[7])); // 66 MB threshold: first sample at 70 MB
        assert_eq!(p.critical_at, Some(times[9]));
    }
}
