//! Who grows with a leaking tag: handle series against tag series (ANALYSIS.md §5).
//!
//! - Handle counts become series per (process, handle type) and, for Token handles, per
//!   (process, Token, account) from `DOMAIN\user:luid` names ([`crate::frame::handle_counts`]).
//! - Each handle series is joined to the tag's outstanding allocations on time with polars' as-of
//!   join (nearest sample within a tolerance: the larger of the two sampling intervals), per host
//!   and boot.
//! - The coefficient is Spearman's on per-interval **increments**, not levels (any two growing series
//!   correlate on levels), at the lag in −3..=3 samples where it is strongest.
//! - Its one-sided p-value (Fisher's z with the Spearman variance 1.06/(n−3)) is multiplied by the number of
//!   lags tried (Bonferroni: the best of seven is not one test), then Benjamini-Hochberg runs over every
//!   (process, type, account) series tested against the tag, so the object-type search counts too. A row is
//!   kept when q < [`MAX_Q`] or when the type is the tag's own object; the verdict cites a correlation only
//!   for the tag's own object type with at least [`VERDICT_MIN_PAIRS`] pairs and q < [`MAX_Q`].
//! - Tags that are the body of a kernel object type (`Toke`/Token, `Proc`/Process, `File`/File,
//!   `Key `/Key ...) are flagged as invariants: [`crate::parse::pooltag::object_type_for_tag`] is the
//!   one editable table.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use polars::prelude::*;

use super::boots::{hours_between, BootSpan};
use super::stats;
use super::Correlation;
use crate::frame::{HandleCount, SYSTEM_PROCESS};
use crate::parse::pooltag::object_type_for_tag;

/// Lags tried, in samples of the handle series.
pub const MAX_LAG: i32 = 3;
/// Fewest increment pairs for a coefficient.
const MIN_PAIRS: usize = 5;
/// False-discovery rate a correlation row must pass (unless it is the tag's own object type).
pub const MAX_Q: f64 = 0.05;
/// Fewest increment pairs for a correlation to be cited in the verdict (ANALYSIS.md §5: about 20).
pub const VERDICT_MIN_PAIRS: usize = 20;
/// Rows kept per tag, at most.
const MAX_ROWS_PER_TAG: usize = 10;

/// One handle series of a host.
#[derive(Debug, Clone, PartialEq)]
pub struct HandleSeries {
    /// Process image name, or `(system)`.
    pub process: String,
    /// Handle type.
    pub handle_type: String,
    /// Token account, for per-account series.
    pub account: Option<String>,
    /// Snapshot times, ascending.
    pub times: Vec<DateTime<Utc>>,
    /// Handle counts.
    pub counts: Vec<f64>,
}

/// Builds one host's handle series from its handle counts: per (process, type) summed over pids,
/// accounts and path prefixes, and per (process, Token, account).
pub fn handle_series(counts: &[HandleCount]) -> Vec<HandleSeries> {
    type Key = (String, String, Option<String>);
    let mut map: BTreeMap<Key, BTreeMap<DateTime<Utc>, f64>> = BTreeMap::new();
    for c in counts {
        let Some(t) = c.time else { continue };
        *map.entry((c.process.clone(), c.handle_type.clone(), None)).or_default().entry(t).or_default() +=
            c.count as f64;
        if let Some(account) = &c.account {
            *map.entry((c.process.clone(), c.handle_type.clone(), Some(account.clone())))
                .or_default()
                .entry(t)
                .or_default() += c.count as f64;
        }
    }
    map.into_iter()
        .map(|((process, handle_type, account), points)| HandleSeries {
            process,
            handle_type,
            account,
            times: points.keys().copied().collect(),
            counts: points.values().copied().collect(),
        })
        .collect()
}

/// Median interval between consecutive times, in milliseconds (0 with fewer than two).
pub fn median_interval_ms(times: &[DateTime<Utc>]) -> i64 {
    let gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]).num_milliseconds() as f64).collect();
    stats::median(&gaps).unwrap_or(0.0) as i64
}

/// The tag values nearest in time to each of `left` (within `tolerance_ms`), by polars' as-of join.
/// Both inputs must be sorted by time.
pub fn asof_nearest(
    left: &[DateTime<Utc>],
    right: &[DateTime<Utc>],
    right_values: &[f64],
    tolerance_ms: i64,
) -> PolarsResult<Vec<Option<f64>>> {
    let left_df = DataFrame::new(
        left.len(),
        vec![Column::new("t".into(), left.iter().map(DateTime::timestamp_millis).collect::<Vec<i64>>())],
    )?;
    let right_df = DataFrame::new(
        right.len(),
        vec![
            Column::new("t".into(), right.iter().map(DateTime::timestamp_millis).collect::<Vec<i64>>()),
            Column::new("v".into(), right_values.to_vec()),
        ],
    )?;
    let options = AsOfOptions {
        strategy: AsofStrategy::Nearest,
        tolerance: Some(Scalar::from(tolerance_ms.max(0))),
        allow_eq: true,
        ..AsOfOptions::default()
    };
    let joined = left_df
        .lazy()
        .join(right_df.lazy(), [col("t")], [col("t")], JoinArgs::new(JoinType::AsOf(Box::new(options))))
        .collect()?;
    let v = joined.column("v")?.as_materialized_series().f64()?.clone();
    Ok((0..v.len()).map(|i| v.get(i)).collect())
}

/// The strongest lag of one handle series against a tag series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BestLag {
    /// Spearman coefficient on increments at the lag.
    pub coefficient: f64,
    /// Lag in samples (positive: the handles follow the tag).
    pub lag: i32,
    /// Increment pairs at the lag.
    pub pairs: usize,
    /// Lags that had enough pairs to be tried (the Bonferroni factor).
    pub lags_tried: usize,
}

impl BestLag {
    /// One-sided p-value of the coefficient (Fisher's z, Spearman variance 1.06/(n−3)), times the lags tried.
    pub fn p_value(&self) -> f64 {
        if self.pairs < 4 {
            return 1.0;
        }
        let r = self.coefficient.clamp(-0.999_999, 0.999_999);
        let z = r.atanh() * ((self.pairs as f64 - 3.0) / 1.06).sqrt();
        // Fisher's z overstates small samples: no ranking of n pairs is rarer than 1/n! (a perfect one), so
        // the p-value is never below that exact floor.
        let floor = 1.0 / (1..=self.pairs.min(170)).map(|k| k as f64).product::<f64>();
        (stats::normal_sf(z).max(floor) * self.lags_tried.max(1) as f64).min(1.0)
    }
}

/// Spearman on increments at the best lag. `handles[i]` is paired with `tag[i - lag]`, so a positive lag
/// means the handles follow the tag.
pub fn best_lag(handles: &[Option<f64>], tag: &[Option<f64>]) -> Option<BestLag> {
    let n = handles.len().min(tag.len());
    let mut best: Option<(f64, i32, usize)> = None;
    let mut tried = 0;
    for lag in 0..=MAX_LAG {
        for lag in if lag == 0 { vec![0] } else { vec![lag, -lag] } {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for (i, h) in handles.iter().enumerate().take(n) {
                let j = i as i64 - i64::from(lag);
                if j < 0 || j >= n as i64 {
                    continue;
                }
                if let (Some(a), Some(b)) = (*h, tag[j as usize]) {
                    x.push(a);
                    y.push(b);
                }
            }
            if x.len() < MIN_PAIRS {
                continue;
            }
            tried += 1;
            if let Some(r) = stats::spearman(&x, &y) {
                if best.is_none_or(|(b, _, _)| r > b + 1e-12) {
                    best = Some((r, lag, x.len()));
                }
            }
        }
    }
    best.map(|(coefficient, lag, pairs)| BestLag { coefficient, lag, pairs, lags_tried: tried })
}

/// Increments of a series whose values may be missing: `d[i] = v[i] − v[i−1]` when both exist.
fn increments(values: &[Option<f64>]) -> Vec<Option<f64>> {
    values
        .windows(2)
        .map(|w| match (w[0], w[1]) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        })
        .collect()
}

/// Whether a handle type is the kernel object a tag allocates (`Toke` and `Token`).
pub fn is_invariant(tag: &str, handle_type: &str) -> bool {
    object_type_for_tag(tag).is_some_and(|t| t.eq_ignore_ascii_case(handle_type))
}

/// A tag series to correlate: its name and outstanding allocations over time.
#[derive(Debug, Clone, Copy)]
pub struct TagPoints<'a> {
    /// Tag.
    pub tag: &'a str,
    /// Sample times.
    pub times: &'a [DateTime<Utc>],
    /// Outstanding allocations.
    pub outstanding: &'a [f64],
}

/// Correlates one tag with every growing handle series of the boot.
pub fn correlate(
    host: &str,
    boot: &BootSpan,
    tag: TagPoints<'_>,
    handles: &[HandleSeries],
    pool_interval_ms: i64,
) -> PolarsResult<Vec<Correlation>> {
    let mut rows = Vec::new();
    let mut p_values = Vec::new();
    for h in handles {
        let (times, counts): (Vec<DateTime<Utc>>, Vec<f64>) = h
            .times
            .iter()
            .zip(&h.counts)
            .filter(|(t, _)| boot.contains(**t) && **t >= boot.fit_start)
            .map(|(t, c)| (*t, *c))
            .unzip();
        if times.len() < MIN_PAIRS + 1 {
            continue;
        }
        let hours: Vec<f64> = times.iter().map(|t| hours_between(boot.start, *t)).collect();
        let handles_per_hour = stats::theil_sen(&hours, &counts).map_or(0.0, |f| f.slope);
        let invariant = is_invariant(tag.tag, &h.handle_type);
        if handles_per_hour <= 0.0 {
            continue;
        }
        let tolerance = pool_interval_ms.max(median_interval_ms(&times));
        let nearest = asof_nearest(&times, tag.times, tag.outstanding, tolerance)?;
        let d_tag = increments(&nearest);
        let d_handles = increments(&counts.iter().copied().map(Some).collect::<Vec<_>>());
        let Some(best) = best_lag(&d_handles, &d_tag) else { continue };
        let (coefficient, lag, samples) = (best.coefficient, best.lag, best.pairs);
        p_values.push(best.p_value());
        rows.push(Correlation {
            host: host.to_owned(),
            boot: boot.boot,
            tag: tag.tag.to_owned(),
            process: h.process.clone(),
            handle_type: h.handle_type.clone(),
            account: h.account.clone(),
            coefficient,
            lag,
            samples,
            handles_per_hour,
            invariant,
            q: 1.0,
        });
    }
    // Benjamini-Hochberg over every series tested against the tag; then only the discoveries (and the tag's
    // own object type, shown whatever its q so a reader sees it was looked at).
    for (row, q) in rows.iter_mut().zip(stats::benjamini_hochberg(&p_values)) {
        row.q = q;
    }
    rows.retain(|r| r.invariant || r.q < MAX_Q);
    rows.sort_by(|a, b| {
        b.invariant
            .cmp(&a.invariant)
            .then_with(|| b.coefficient.total_cmp(&a.coefficient))
            .then_with(|| a.process.cmp(&b.process))
            .then_with(|| a.handle_type.cmp(&b.handle_type))
            .then_with(|| a.account.cmp(&b.account))
    });
    rows.truncate(MAX_ROWS_PER_TAG);
    Ok(rows)
}

/// The attribution for a tag among its correlation rows: the process-level row that best explains it
/// (an invariant first, a named process before the system-wide count, then the coefficient), and the
/// account of that process and type whose handles grow fastest, when it carries most of the growth.
pub fn attribution<'a>(rows: &'a [Correlation], tag: &str) -> Option<(&'a Correlation, Option<&'a Correlation>)> {
    let mine: Vec<&Correlation> = rows.iter().filter(|r| r.tag == tag).collect();
    let process = mine.iter().filter(|r| r.account.is_none()).copied().max_by(|a, b| {
        a.invariant
            .cmp(&b.invariant)
            .then_with(|| (a.process != SYSTEM_PROCESS).cmp(&(b.process != SYSTEM_PROCESS)))
            .then_with(|| a.coefficient.total_cmp(&b.coefficient))
            .then_with(|| b.process.cmp(&a.process))
    })?;
    let account = mine
        .iter()
        .filter(|r| r.account.is_some() && r.process == process.process && r.handle_type == process.handle_type)
        .copied()
        .max_by(|a, b| a.handles_per_hour.total_cmp(&b.handles_per_hour).then_with(|| b.account.cmp(&a.account)))
        .filter(|r| r.handles_per_hour >= 0.5 * process.handles_per_hour);
    Some((process, account))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 5, 18, 20, 0, 0).unwrap()
    }

    #[test]
    fn asof_join_takes_the_nearest_within_tolerance() {
        let right: Vec<_> = (0..10).map(|m| t0() + Duration::minutes(m)).collect();
        let values: Vec<f64> = (0..10).map(f64::from).collect();
        let left = vec![t0() + Duration::seconds(50), t0() + Duration::seconds(130), t0() + Duration::minutes(30)];
        let got = asof_nearest(&left, &right, &values, 60_000).unwrap();
        assert_eq!(got, vec![Some(1.0), Some(2.0), None]);
    }

    #[test]
    fn best_lag_finds_a_delay() {
        // Handles follow the tag one step later.
        let tag: Vec<Option<f64>> =
            [3.0, 9.0, 1.0, 7.0, 2.0, 8.0, 4.0, 6.0, 5.0, 0.0].iter().map(|v| Some(*v)).collect();
        let mut handles = vec![Some(0.0)];
        handles.extend(tag[..9].iter().copied());
        let best = best_lag(&handles, &tag).unwrap();
        assert!((best.coefficient - 1.0).abs() < 1e-12);
        assert_eq!((best.lag, best.pairs, best.lags_tried), (1, 9, 7));
        assert!(best.p_value() < 0.01, "{}", best.p_value());
    }

    #[test]
    fn few_pairs_searched_over_lags_are_not_significant() {
        // Five perfectly ranked pairs, best of seven lags: 7/5! is above 5%.
        let five = BestLag { coefficient: 1.0, lag: 2, pairs: 5, lags_tried: 7 };
        assert!(five.p_value() > 0.05, "{}", five.p_value());
        // Forty pairs at 0.86 are overwhelming, lags counted or not.
        let forty = BestLag { coefficient: 0.86, lag: 0, pairs: 40, lags_tried: 7 };
        assert!(forty.p_value() < 1e-6, "{}", forty.p_value());
        // A weak coefficient on many pairs is not.
        let weak = BestLag { coefficient: 0.1, lag: 0, pairs: 40, lags_tried: 7 };
        assert!(weak.p_value() > 0.5);
    }

    #[test]
    fn series_per_process_type_and_account() {
        let row = |h: i64, account: Option<&str>, count| HandleCount {
            host: "h".into(),
            time: Some(t0() + Duration::hours(h)),
            process: "lsass.exe".into(),
            pid: Some(612),
            handle_type: "Token".into(),
            account: account.map(str::to_owned),
            name_prefix: None,
            count,
            source_path: "x".into(),
            source_line: None,
        };
        let series = handle_series(&[row(0, Some("A\\x"), 2), row(0, Some("A\\y"), 3), row(1, Some("A\\x"), 4)]);
        assert_eq!(series.len(), 3);
        assert_eq!(series[0].account, None);
        assert_eq!(series[0].counts, vec![5.0, 4.0]);
        assert_eq!(series[1].account.as_deref(), Some("A\\x"));
        assert_eq!(series[1].counts, vec![2.0, 4.0]);
    }

    #[test]
    fn token_handles_follow_a_toke_leak() {
        // Toke leaks with a varying rate; lsass Token handles for one account follow it, another
        // account stays flat, and the system-wide File count grows independently.
        let mut rng = stats::SplitMix64(11);
        let n = 60;
        let times: Vec<_> = (0..n).map(|i| t0() + Duration::minutes(15 * i)).collect();
        let (mut toke, mut tok_handles, mut files) = (vec![1000.0], vec![100.0], vec![50.0]);
        for _ in 1..n {
            let burst = 1.0 + rng.below(20) as f64;
            toke.push(toke.last().unwrap() + 35.0 * burst);
            tok_handles.push(tok_handles.last().unwrap() + burst);
            files.push(files.last().unwrap() + rng.below(5) as f64);
        }
        let counts: Vec<HandleCount> = (0..n as usize)
            .flat_map(|i| {
                let base = HandleCount {
                    host: "h".into(),
                    time: Some(times[i]),
                    process: "lsass.exe".into(),
                    pid: Some(612),
                    handle_type: "Token".into(),
                    account: Some("CONTOSO\\svc-scan".into()),
                    name_prefix: None,
                    count: tok_handles[i] as u64,
                    source_path: "x".into(),
                    source_line: None,
                };
                let other = HandleCount { account: Some("NT AUTHORITY\\SYSTEM".into()), count: 40, ..base.clone() };
                let file = HandleCount {
                    process: SYSTEM_PROCESS.into(),
                    pid: None,
                    handle_type: "File".into(),
                    account: None,
                    count: files[i] as u64,
                    ..base.clone()
                };
                [base, other, file]
            })
            .collect();
        let boot = BootSpan {
            boot: 0,
            start: t0(),
            end: *times.last().unwrap(),
            start_evidence: String::new(),
            end_evidence: String::new(),
            snapshots: 0..n as usize,
            fit_start: t0(),
            warmup_hours: 0.0,
            next_first_sample: None,
            next_start: None,
        };
        let series = handle_series(&counts);
        let tag = TagPoints { tag: "Toke", times: &times, outstanding: &toke };
        let rows = correlate("h", &boot, tag, &series, 60_000).unwrap();
        let (process, account) = attribution(&rows, "Toke").unwrap();
        assert_eq!((process.process.as_str(), process.handle_type.as_str()), ("lsass.exe", "Token"));
        assert!(process.invariant);
        assert!(process.coefficient > 0.99, "{process:?}");
        assert_eq!(process.lag, 0);
        assert_eq!(account.unwrap().account.as_deref(), Some("CONTOSO\\svc-scan"));
        // The flat account grows at 0/h and is dropped; File is not Toke's object type.
        assert!(rows.iter().all(|r| r.account.as_deref() != Some("NT AUTHORITY\\SYSTEM")));
        assert!(rows.iter().filter(|r| r.handle_type == "File").all(|r| !r.invariant));
    }
}
