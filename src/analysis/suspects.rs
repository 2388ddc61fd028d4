//! Which (tag, pool type) series leak, ranked (ANALYSIS.md §3).
//!
//! The rule, in order:
//! 1. **Trend**: Mann-Kendall on hourly medians of the fitting window (Hamed-Rao corrected), with
//!    Benjamini-Hochberg control of the false-discovery rate across every series of the host and
//!    boot: q < `fdr` (default 0.01).
//! 2. **Direction and confidence**: the Theil-Sen slope of bytes is positive and so is the lower end
//!    of its 95% interval.
//! 3. **Material size**: at least `min_bytes_per_hour` (default 64 KiB/h). A tag that grows by a few
//!    hundred bytes an hour never exhausts a pool, however significant its trend.
//! 4. **Above the wander**: the rise over the window (slope × length) is at least `min_signal_to_noise`
//!    (default 20) times the wobble around the trend (robust standard deviation of the detrended
//!    hourly medians). Noisy tags wander for hours at a time (allocation sizes drift, caches breathe);
//!    a trend within that wander is not a leak even when a rank test calls it significant: with a
//!    wander correlated over hours, a one-day window holds only a handful of independent samples and
//!    the autocorrelation correction cannot see it. On the simulator's scenarios, leaks score 55 to
//!    1,500 and wandering or warming tags 3 to 14.
//! 5. **Persistence**: over the last half of the fitting window the trend is still significant
//!    (p < `fdr`, Hamed-Rao corrected), its Theil-Sen slope is at least `persistence` (default one
//!    half) of the whole window's, and its rise there is still half `min_signal_to_noise` times the
//!    wobble there.
//!    A cache that rises and plateaus has a late slope near zero, or one within its wander, and is
//!    not flagged; a leak keeps its rate to the end.
//!
//! Survivors are ranked by the robust slope (bytes/hour), never by size or end-point difference.
//!
//! **Too little data.** A boot whose fitting window (after the warm-up) is shorter than
//! [`MIN_FIT_HOURS`] gives no suspects and no projection: it says "capture too short to separate a
//! leak from warm-up" (see `analysis::TooShort`). The simulator's caches fill with time constants of
//! 1.5 to 3.5 hours; over a window of under 4 hours their late half still rises at well over half
//! their overall rate, so the persistence check cannot tell them from a leak (`simulate healthy
//! --hours 4` flags a 4,096-byte registry cache, `--hours 2` five caches). With the default warm-up
//! (10% of the boot, at most 1 hour) that is a boot of about 4.4 hours of samples.
//!
//! **Undecided.** A survivor whose growth is slowing down (late-half slope below
//! [`DECELERATING`] times the early-half slope, in bytes or in outstanding allocations: a cache whose
//! object sizes drift up can rise faster in bytes while it fills more slowly) and has no fixed
//! per-allocation size looks like a
//! cache still warming up: it is listed apart ([`undecided`]), never ranked. What decides it is more
//! hours: taking the slowdown as a cache's exponential approach with time constant
//! τ = (window/2) / ln(early/late), its late slope falls below `persistence` times its overall
//! slope once the window reaches 2τ·ln((2 - persistence)/persistence); a leak keeps its rate. A leak
//! of a fixed-size object (a constant Per Alloc, such as 1,664-byte tokens) is never undecided.

use std::collections::BTreeMap;

use super::growth::{Growth, Trend};
use crate::model::PoolType;

/// The thresholds of the suspect rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SuspectRule {
    /// Benjamini-Hochberg false-discovery rate (q below it passes).
    pub fdr: f64,
    /// Smallest sustained growth worth flagging, bytes/hour.
    pub min_bytes_per_hour: f64,
    /// Smallest ratio of the late slope to the whole-window slope.
    pub persistence: f64,
    /// Smallest ratio of the rise over the window to the wobble around the trend.
    pub min_signal_to_noise: f64,
}

impl Default for SuspectRule {
    fn default() -> Self {
        Self { fdr: 0.01, min_bytes_per_hour: 64.0 * 1024.0, persistence: 0.5, min_signal_to_noise: 20.0 }
    }
}

/// Shortest fitting window (hours after the warm-up) in which a boot can have suspects.
pub const MIN_FIT_HOURS: f64 = 4.0;
/// A late-half slope below this share of the early-half slope is "slowing down".
pub const DECELERATING: f64 = 0.6;

/// Hours more of samples after which a suspect's growth tells a cache from a leak, when it is slowing down
/// like a cache warming up and has no fixed per-allocation size (`None`: it is a suspect). `fit_hours` is
/// the length of the fitting window.
pub fn undecided(c: &Candidate, fit_hours: f64, rule: &SuspectRule) -> Option<f64> {
    let g = &c.growth;
    if g.per_alloc_stable {
        return None;
    }
    // Slowing down in bytes, or in its count of objects (a cache whose object sizes drift up can rise
    // faster in bytes while it fills more slowly).
    let slowdown = |early: f64, late: f64| (early > 0.0 && late < DECELERATING * early).then(|| late.max(0.0) / early);
    let ratio = match (
        slowdown(g.early_bytes_per_hour, g.late_bytes_per_hour),
        slowdown(g.early_outstanding_per_hour, g.late_outstanding_per_hour),
    ) {
        (Some(a), Some(b)) => a.min(b),
        (Some(r), None) | (None, Some(r)) => r,
        (None, None) => return None,
    };
    // The slowdown read as exp(-t/tau) over half the window; the persistence check rejects such a cache
    // once the window is 2 tau ln((2 - p)/p) long.
    let ratio = ratio.clamp(1e-3, DECELERATING);
    let tau = 0.5 * fit_hours / (1.0 / ratio).ln();
    let p = rule.persistence.clamp(0.05, 0.95);
    let needed = 2.0 * tau * ((2.0 - p) / p).ln();
    Some((needed - fit_hours).max(1.0).ceil())
}

/// A series that passed the trend test, with its full statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Tag.
    pub tag: String,
    /// Pool type.
    pub pool: PoolType,
    /// The trend test.
    pub trend: Trend,
    /// Benjamini-Hochberg adjusted p-value.
    pub q: f64,
    /// Growth statistics.
    pub growth: Growth,
    /// `Mapped_Driver` text.
    pub driver: Option<String>,
}

/// Why a candidate is not a suspect (`None`: it is one).
pub fn rejection(c: &Candidate, rule: &SuspectRule) -> Option<&'static str> {
    let g = &c.growth;
    if c.q >= rule.fdr {
        return Some("trend not significant");
    }
    if g.bytes_per_hour <= 0.0 || g.bytes_per_hour_ci[0] <= 0.0 {
        return Some("slope interval includes zero");
    }
    if g.bytes_per_hour < rule.min_bytes_per_hour {
        return Some("below the material-size floor");
    }
    if g.signal_to_noise < rule.min_signal_to_noise {
        return Some("within the series' wander");
    }
    if g.late_p >= rule.fdr
        || g.late_bytes_per_hour < rule.persistence * g.bytes_per_hour
        || g.late_signal_to_noise < 0.5 * rule.min_signal_to_noise
    {
        return Some("levels off (no sustained growth over the last half)");
    }
    None
}

/// The suspects among the candidates, ranked by robust bytes/hour (ties by tag, then pool).
pub fn rank(candidates: Vec<Candidate>, rule: &SuspectRule) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = candidates.into_iter().filter(|c| rejection(c, rule).is_none()).collect();
    out.sort_by(|a, b| {
        b.growth
            .bytes_per_hour
            .total_cmp(&a.growth.bytes_per_hour)
            .then_with(|| a.tag.cmp(&b.tag))
            .then_with(|| a.pool.cmp(&b.pool))
    });
    out
}

/// For each boot's suspects, the other boots of the same host where the same (tag, pool) was a
/// suspect at a rate within a factor of two: a rate that repeats boot after boot.
pub fn repeats(per_boot: &BTreeMap<u32, Vec<(String, PoolType, f64)>>) -> BTreeMap<(u32, String, PoolType), Vec<u32>> {
    let mut out = BTreeMap::new();
    for (boot, list) in per_boot {
        for (tag, pool, rate) in list {
            let others: Vec<u32> = per_boot
                .iter()
                .filter(|(b, _)| *b != boot)
                .filter(|(_, l)| {
                    l.iter().any(|(t, p, r)| t == tag && p == pool && *r >= rate / 2.0 && *r <= rate * 2.0)
                })
                .map(|(b, _)| *b)
                .collect();
            out.insert((*boot, tag.clone(), *pool), others);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(tag: &str, rate: f64, late: f64, q: f64) -> Candidate {
        Candidate {
            tag: tag.into(),
            pool: PoolType::Paged,
            trend: Trend { n: 100, binned_slope: rate, p: q, variance_factor: 1.0 },
            q,
            growth: Growth {
                bytes_per_hour: rate,
                bytes_per_hour_ci: [rate * 0.9, rate * 1.1],
                early_bytes_per_hour: rate,
                late_bytes_per_hour: late,
                late_p: q,
                signal_to_noise: 50.0,
                late_signal_to_noise: 50.0,
                ols_bytes_per_hour: rate,
                r_squared: 0.9,
                outstanding_per_hour: rate / 100.0,
                early_outstanding_per_hour: rate / 100.0,
                late_outstanding_per_hour: late / 100.0,
                per_alloc_bytes: 100.0,
                per_alloc_stable: true,
                alloc_free_ratio: 1.1,
                positive_step_share: 0.6,
                end_point_delta_bytes: 0,
                bytes_now: 0,
                outstanding_now: 0,
            },
            driver: None,
        }
    }

    #[test]
    fn a_cache_slowing_in_count_while_sizes_drift_is_undecided() {
        let rule = SuspectRule::default();
        // Bytes rise faster late (sizes drift up), objects fill more slowly: a cache warming up.
        let mut c = candidate("MmSt", 30e6, 45e6, 1e-4);
        c.growth.per_alloc_stable = false;
        c.growth.early_outstanding_per_hour = 30_000.0;
        c.growth.late_outstanding_per_hour = 12_000.0;
        assert!(undecided(&c, 5.4, &rule).is_some_and(|h| h >= 1.0));
        // The same with a steady count is a suspect; so is any fixed-size object.
        c.growth.late_outstanding_per_hour = 29_000.0;
        assert_eq!(undecided(&c, 5.4, &rule), None);
        c.growth.late_outstanding_per_hour = 12_000.0;
        c.growth.per_alloc_stable = true;
        assert_eq!(undecided(&c, 5.4, &rule), None);
    }

    #[test]
    fn the_rule_rejects_each_failure() {
        let rule = SuspectRule::default();
        assert_eq!(rejection(&candidate("Leak", 2e6, 2e6, 1e-9), &rule), None);
        assert_eq!(rejection(&candidate("Noise", 2e6, 2e6, 0.2), &rule), Some("trend not significant"));
        assert_eq!(rejection(&candidate("Tiny", 1000.0, 1000.0, 1e-9), &rule), Some("below the material-size floor"));
        assert!(rejection(&candidate("MmSt", 5e7, 1e5, 1e-12), &rule).unwrap().starts_with("levels off"));
        let mut shaky = candidate("Shaky", 2e6, 2e6, 1e-9);
        shaky.growth.bytes_per_hour_ci[0] = -1.0;
        assert_eq!(rejection(&shaky, &rule), Some("slope interval includes zero"));
        let mut wander = candidate("Wand", 2e6, 2e6, 1e-9);
        wander.growth.signal_to_noise = 6.0;
        assert_eq!(rejection(&wander, &rule), Some("within the series' wander"));
        let mut stalled = candidate("Stal", 2e6, 2e6, 1e-9);
        stalled.growth.late_p = 0.3;
        assert!(rejection(&stalled, &rule).unwrap().starts_with("levels off"));
    }

    #[test]
    fn ranking_is_by_sustained_slope_not_size() {
        let mut slow = candidate("AcSf", 2e6, 2e6, 1e-9);
        slow.growth.bytes_now = 10;
        let mut plateau = candidate("MmSt", 9e7, 0.0, 1e-12);
        plateau.growth.bytes_now = 1 << 30;
        let fast = candidate("Toke", 2.6e7, 2.6e7, 1e-12);
        let ranked = rank(vec![slow, plateau, fast], &SuspectRule::default());
        let tags: Vec<&str> = ranked.iter().map(|c| c.tag.as_str()).collect();
        assert_eq!(tags, vec!["Toke", "AcSf"]);
    }

    #[test]
    fn repeats_need_a_similar_rate() {
        let mut per_boot = BTreeMap::new();
        per_boot.insert(0, vec![("Toke".to_owned(), PoolType::Paged, 2.6e7)]);
        per_boot.insert(1, vec![("Toke".to_owned(), PoolType::Paged, 2.4e7)]);
        per_boot.insert(2, vec![("Toke".to_owned(), PoolType::Paged, 1e5)]);
        let r = repeats(&per_boot);
        assert_eq!(r[&(0, "Toke".to_owned(), PoolType::Paged)], vec![1]);
        assert!(r[&(2, "Toke".to_owned(), PoolType::Paged)].is_empty());
    }
}
