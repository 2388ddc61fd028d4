//! The analysis of one host: boots, then per boot the trend test of every series, the suspects,
//! the projections and the correlations; then repeats across boots and the verdict.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use super::attribution::{self, Attribution, SuspectTag};
use super::boots::{split_boots, BootSpan};
use super::correlate::{self, HandleSeries, TagPoints};
use super::growth::{self, boot_series, BootSeries, Trend};
use super::limits::{self, HostLimits};
use super::projection::{self, Sustained};
use super::suspects::{self, Candidate};
use super::{eventlog, stats, verdict};
use super::{
    AnalyzeOptions, Boot, Correlation, Projection, Rejected, Resource, Series, Suspect, TooShort, Undecided, Verdict,
};
use crate::model::{Diagnostic, HostData, PoolSnapshot, PoolType, Severity};

/// Suspects per boot that are correlated with handle series and drawn as chart series.
const TOP_SUSPECTS: usize = 5;
/// Chart series longer than this are thinned to about half of it.
const SERIES_MAX_POINTS: usize = 2000;

/// Everything found for one host.
#[derive(Debug, Default)]
pub struct HostResult {
    /// Boots.
    pub boots: Vec<Boot>,
    /// Suspects.
    pub suspects: Vec<Suspect>,
    /// Tags slowing down like a cache warming up (not ranked).
    pub undecided: Vec<Undecided>,
    /// Larger growers that are not suspects, with why.
    pub rejected: Vec<Rejected>,
    /// Projections.
    pub projections: Vec<Projection>,
    /// Attributions of the suspects.
    pub attributions: Vec<Attribution>,
    /// Correlations.
    pub correlations: Vec<Correlation>,
    /// Processes whose perfmon Handle Count grows, per boot.
    pub process_growth: Vec<super::process_growth::ProcessGrowth>,
    /// Who allocates each tag of the host's WPA pool tables.
    pub allocation_stacks: Vec<super::stacks::AllocationStacks>,
    /// Chart series.
    pub series: Vec<Series>,
    /// The verdict.
    pub verdict: Option<Verdict>,
    /// Diagnostics.
    pub diagnostics: Vec<Diagnostic>,
}

/// Every point of a series, thinned to at most [`SERIES_MAX_POINTS`] by keeping every k-th point
/// and the last one (charts need the shape, not every minute).
fn chart_series(host: &str, boot: u32, name: String, times: &[DateTime<Utc>], values: &[f64]) -> Series {
    let n = times.len().min(values.len());
    let stride = if n > SERIES_MAX_POINTS { n.div_ceil(SERIES_MAX_POINTS / 2) } else { 1 };
    let keep: Vec<usize> = (0..n).filter(|i| i % stride == 0 || *i == n - 1).collect();
    Series {
        host: host.to_owned(),
        boot,
        name,
        times: keep.iter().map(|&i| times[i]).collect(),
        values: keep.iter().map(|&i| values[i]).collect(),
    }
}

/// The trend test of every series of a boot, with Benjamini-Hochberg q-values.
///
/// The family the false-discovery rate is controlled over is the series that could pass the
/// material-size rule at all: those whose range over the fitting window is at least half the floor
/// times the window's length (a series that moved less cannot have a sustained slope above the
/// floor). This is independent filtering (Bourgon, Gentleman & Huber 2010): under the no-trend null
/// the range is a scale statistic, independent of the Mann-Kendall ranks, so the filter keeps the
/// FDR while sparing the power that hundreds of idle tags would cost. Series outside the family get
/// q = 1.
fn trends(series: &BootSeries, min_bytes_per_hour: f64) -> Vec<((String, PoolType), Trend, f64)> {
    let fit_from = series.hours.get(series.fit_from).copied().unwrap_or(0.0);
    let keys: Vec<&(String, PoolType)> = series.tags.keys().collect();
    let tested: Vec<((String, PoolType), Trend, bool)> = keys
        .par_iter()
        .filter_map(|key| {
            let s = &series.tags[*key];
            let t = series.hours_of(s);
            let (ft, fy) = growth::window(&t, &s.bytes, fit_from);
            let span = ft.last()? - ft.first()?;
            let (lo, hi) = fy.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
            let material = hi - lo >= 0.5 * min_bytes_per_hour * span;
            growth::trend(&ft, &fy).map(|tr| ((*key).clone(), tr, material))
        })
        .collect();
    let family: Vec<f64> = tested.iter().filter(|(_, _, m)| *m).map(|(_, tr, _)| tr.p).collect();
    let mut q = stats::benjamini_hochberg(&family).into_iter();
    tested
        .into_iter()
        .map(|(k, tr, material)| {
            let q = if material { q.next().unwrap_or(1.0) } else { 1.0 };
            (k, tr, q)
        })
        .collect()
}

/// One boot's suspects (ranked), sustained rates and projections.
struct BootFindings {
    suspects: Vec<Candidate>,
    sustained: BTreeMap<PoolType, Sustained>,
    projections: Vec<Projection>,
}

/// One boot's candidates (series that passed the trend test, with their growth) and the series it
/// could test at all, with the length of its fitting window in hours.
struct Tested {
    candidates: Vec<Candidate>,
    series: std::collections::BTreeSet<(String, PoolType)>,
    fit_hours: f64,
}

fn test_boot(series: &BootSeries, options: &AnalyzeOptions) -> Tested {
    let tested = trends(series, options.rule.min_bytes_per_hour);
    let candidates: Vec<Candidate> = tested
        .par_iter()
        .filter(|(_, tr, q)| *q < options.rule.fdr && tr.binned_slope > 0.0)
        .filter_map(|((tag, pool), tr, q)| {
            let s = series.tags.get(&(tag.clone(), *pool))?;
            let g = growth::growth(series, s)?;
            Some(Candidate { tag: tag.clone(), pool: *pool, trend: *tr, q: *q, growth: g, driver: s.driver.clone() })
        })
        .collect();
    let fit_from = series.hours.get(series.fit_from).copied().unwrap_or(0.0);
    let fit_hours = series.hours.last().map_or(0.0, |last| last - fit_from);
    Tested { candidates, series: tested.into_iter().map(|(k, _, _)| k).collect(), fit_hours }
}

/// Cross-boot check (ANALYSIS.md §3, "compare boots"): a series flagged in a boot whose fitting
/// window is less than half as long as another boot's, where the same series was tested and not
/// flagged, is a cache still warming up in the young boot (it levelled off in the longer one).
/// Returns the suspects kept per boot and a diagnostic per suspect set aside.
fn cross_boot_check(
    host: &str,
    per_boot: &[(u32, Vec<Candidate>)],
    tested: &[(u32, &Tested)],
) -> (Vec<(u32, Vec<Candidate>)>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let flagged = |boot: u32, key: &(String, PoolType)| {
        per_boot.iter().any(|(b, list)| *b == boot && list.iter().any(|c| c.tag == key.0 && c.pool == key.1))
    };
    let mut out = Vec::new();
    for (boot, list) in per_boot {
        let my_hours = tested.iter().find(|(b, _)| b == boot).map_or(0.0, |(_, t)| t.fit_hours);
        let mut kept = Vec::new();
        for c in list {
            let key = (c.tag.clone(), c.pool);
            let plateau = tested.iter().find(|(b, t)| {
                b != boot && t.fit_hours >= 2.0 * my_hours && t.series.contains(&key) && !flagged(*b, &key)
            });
            match plateau {
                Some((b, t)) => diagnostics.push(Diagnostic::for_file(
                    "",
                    Severity::Info,
                    format!(
                        "{host} boot {boot}: {} ({}) grew over {:.1} h but did not grow over the {:.1} h of boot {b}: \
                         taken for a cache still warming up, not a suspect",
                        c.tag.trim_end(),
                        c.pool,
                        my_hours,
                        t.fit_hours
                    ),
                )),
                None => kept.push(c.clone()),
            }
        }
        out.push((*boot, kept));
    }
    (out, diagnostics)
}

fn analyse_boot(
    host: &str,
    boot: &BootSpan,
    series: &BootSeries,
    suspects: Vec<Candidate>,
    limits: &HostLimits,
    data: &HostData,
    options: &AnalyzeOptions,
) -> BootFindings {
    let min_late_snr = 0.5 * options.rule.min_signal_to_noise;
    let paged = projection::sustained_pool(series, PoolType::Paged, &suspects, min_late_snr);
    let nonpaged = projection::sustained_pool(series, PoolType::Nonpaged, &suspects, min_late_snr);
    let fit_from = series.hours.get(series.fit_from).copied().unwrap_or(0.0);
    let mut projections = Vec::new();
    // The rates come from the poolmon snapshots; the usage they start from, and the naive line, from the totals
    // with perfmon's gap fills (the last sample may be perfmon's, hours after poolmon stopped).
    let commit = projection::sustained_commit(series, &paged, &nonpaged, min_late_snr);
    let commit_points = series.commit_points();
    let last_commit = commit_points.2.last().copied();
    let headroom =
        limits.commit.as_ref().zip(last_commit).map(|((limit, _), now)| (*limit as f64 - now).max(0.0) as u64);
    let (pt, ph, pv) = series.total_points(PoolType::Paged);
    let paged_now = pv.last().copied().unwrap_or(0.0) as u64;
    if let Some(limit) = limits::paged_limit(options.limit_paged, limits, paged_now, headroom) {
        projections.extend(projection::project(host, boot, Resource::Paged, (&pt, &ph, &pv), &limit, &paged, fit_from));
    }
    if let Some(limit) = limits::nonpaged_limit(options.limit_nonpaged, limits) {
        let (t, h, v) = series.total_points(PoolType::Nonpaged);
        projections.extend(projection::project(
            host,
            boot,
            Resource::Nonpaged,
            (&t, &h, &v),
            &limit,
            &nonpaged,
            fit_from,
        ));
    }
    if let (Some((_, _, rate)), Some(limit)) = (&commit, limits::commit_limit(limits)) {
        let (t, h, v) = &commit_points;
        projections.extend(projection::project(host, boot, Resource::Commit, (t, h, v), &limit, rate, fit_from));
    }
    projection::observe(&mut projections, boot, &data.events);
    let sustained = BTreeMap::from([(PoolType::Paged, paged), (PoolType::Nonpaged, nonpaged)]);
    BootFindings { suspects, sustained, projections }
}

fn undecided_row(host: &str, boot: u32, c: &Candidate, more_hours: f64) -> Undecided {
    let g = &c.growth;
    Undecided {
        host: host.to_owned(),
        boot,
        tag: c.tag.clone(),
        pool: c.pool,
        bytes_per_hour: g.bytes_per_hour,
        early_bytes_per_hour: g.early_bytes_per_hour,
        late_bytes_per_hour: g.late_bytes_per_hour,
        early_outstanding_per_hour: g.early_outstanding_per_hour,
        late_outstanding_per_hour: g.late_outstanding_per_hour,
        per_alloc_bytes: g.per_alloc_bytes,
        more_hours,
        decide: {
            let bytes_slow = g.late_bytes_per_hour < suspects::DECELERATING * g.early_bytes_per_hour;
            let slowing = if bytes_slow {
                String::new()
            } else {
                format!(
                    "its count of allocations slows from {:.0}/h to {:.0}/h while their size drifts; ",
                    g.early_outstanding_per_hour, g.late_outstanding_per_hour
                )
            };
            format!("{slowing}{more_hours:.0} more hours of samples: a cache levels off, a leak keeps its rate")
        },
    }
}

fn suspect_row(
    host: &str,
    boot: u32,
    rank: usize,
    c: &Candidate,
    sustained: &BTreeMap<PoolType, Sustained>,
    options: &AnalyzeOptions,
) -> Suspect {
    let g = &c.growth;
    let total = sustained.get(&c.pool).map_or(0.0, |s| s.rate);
    let info = options.descriptions.describe(&c.tag);
    Suspect {
        host: host.to_owned(),
        boot,
        rank: rank as u32 + 1,
        tag: c.tag.clone(),
        pool: c.pool,
        bytes_per_hour: g.bytes_per_hour,
        bytes_per_hour_ci: g.bytes_per_hour_ci,
        ols_bytes_per_hour: g.ols_bytes_per_hour,
        r_squared: g.r_squared,
        outstanding_per_hour: g.outstanding_per_hour,
        per_alloc_bytes: g.per_alloc_bytes,
        per_alloc_stable: g.per_alloc_stable,
        alloc_free_ratio: g.alloc_free_ratio,
        positive_step_share: g.positive_step_share,
        share_of_growth: if total > 0.0 { (g.bytes_per_hour / total).clamp(0.0, 1.0) } else { 0.0 },
        trend_p: c.trend.p,
        trend_q: c.q,
        end_point_delta_bytes: g.end_point_delta_bytes,
        bytes_now: g.bytes_now,
        outstanding_now: g.outstanding_now,
        driver: c.driver.clone(),
        description: info.map(|i| i.summary()),
        repeats_in_boots: Vec::new(),
    }
}

/// Whether a boot's fitting window is shorter than [`suspects::MIN_FIT_HOURS`]; if so, its hours of samples and
/// the hours it would need. The need is found by lengthening the capture until the window, after the warm-up
/// rule (`--warmup`, or 10% of the boot up to an hour) and any uptime before the first sample, is long enough.
fn too_short(series: &BootSeries, fit_hours: f64, warmup: Option<f64>) -> Option<TooShort> {
    if fit_hours >= suspects::MIN_FIT_HOURS {
        return None;
    }
    let before = series.hours.first().copied().unwrap_or(0.0).max(0.0);
    let hours = series.hours.last().copied().unwrap_or(0.0) - before;
    let window = |capture: f64| {
        let boot = before + capture;
        let warm = warmup.unwrap_or_else(|| super::boots::default_warmup_hours(boot));
        boot - warm.max(before)
    };
    // Steps of 0.05 h from the minimum window: the window grows with the capture, so the first that
    // fits is the need (bounded: a warm-up of days needs no exact answer).
    let need_hours = (0..10_000)
        .map(|i| suspects::MIN_FIT_HOURS + 0.05 * f64::from(i))
        .find(|c| window(*c) >= suspects::MIN_FIT_HOURS - 1e-9)
        .unwrap_or(suspects::MIN_FIT_HOURS + warmup.unwrap_or(1.0));
    Some(TooShort { hours, need_hours })
}

/// The post-mortem of a host without pool snapshots: boots, exhaustion, handle attribution and recurrence from the
/// event log and handle.exe output ([`eventlog`]).
fn records_only(host: &str, data: &HostData, mut out: HostResult) -> HostResult {
    let counts = crate::frame::host_handle_counts(host, data);
    let handle_times: Vec<DateTime<Utc>> = counts.iter().filter_map(|c| c.time).collect();
    let spans = eventlog::boots_from_records(&data.events, &handle_times);
    out.boots = eventlog::boot_rows(host, &spans, &data.events);
    let found = eventlog::findings(host, &spans, &out.boots, &data.events, &counts);
    out.attributions = found.attributions;
    let mut sentences = found.sentences;
    let subject = found.subject.unwrap_or(0);
    let mut suspect_process = found.handle_suspect.clone();
    let mut block = found.block;
    if let Some(a) = out.attributions.iter().find(|a| a.boot == subject) {
        sentences.extend(verdict::who_sentence(subject, &a.tag, &out.attributions, &[]));
        suspect_process = Some(a.process.clone());
        let object = crate::parse::pooltag::object_type_for_tag(&a.tag);
        block.who = Some(super::block::who_line(super::block::WhoInputs {
            boot: subject,
            tag: &a.tag,
            object_type: object,
            attributions: &out.attributions,
            correlations: &[],
            handle_dumps: data.handle_snapshots.len(),
            process_growth: &[],
        }));
    }
    if block.who.is_none() {
        block.who = Some(found.who_from_2004.clone().unwrap_or_else(|| {
            if data.handle_snapshots.is_empty() {
                "not attributed: no handle.exe dumps in the archive".to_owned()
            } else {
                "not attributed: no dumped process's handles grow".to_owned()
            }
        }));
    }
    sentences.push(eventlog::next_collection(suspect_process.as_deref()));
    out.verdict = Some(Verdict {
        host: host.to_owned(),
        boot: subject,
        leak_found: found.exhaustion_on_record,
        block,
        text: verdict::join_sentences(host, &sentences),
    });
    out
}

/// A boot that ended (a later boot follows) at its limit also died, even when no event log says so: with only
/// poolmon output, the boot whose pool or commit was within [`AT_LIMIT`] of its limit at its last sample, or was
/// projected to run out within the hour after it, is the one that hung.
fn mark_boots_that_ran_out(boots: &mut [Boot], projections: &[Projection]) {
    let last = boots.iter().map(|b| b.boot).max();
    for b in boots.iter_mut().filter(|b| Some(b.boot) != last && !b.died) {
        b.died = projections.iter().filter(|p| p.boot == b.boot).any(|p| {
            let near = p.limit_bytes > 0 && p.now_bytes as f64 >= AT_LIMIT * p.limit_bytes as f64;
            let soon = p.exhaustion_at.is_some_and(|t| t <= p.now_at + chrono::Duration::hours(1));
            near || soon
        });
    }
}

/// Share of a limit at which a boot's last sample counts as "at the limit".
const AT_LIMIT: f64 = 0.95;

/// Analyses one host: its records, then who allocates the tags its WPA pool tables hold.
pub fn analyse_host(host: &str, data: &HostData, options: &AnalyzeOptions) -> HostResult {
    let mut out = analyse_records(host, data, options);
    super::stacks::attach(host, &data.allocations, &mut out);
    super::drivers::attach(&data.driver_inventory(), &mut out);
    out
}

/// Gives each boot the perfmon samples in the gaps of its poolmon series (the pool totals only, see
/// [`super::perfmon`]), and says how many filled how many gaps.
fn fill_gaps(
    host: &str,
    data: &HostData,
    spans: &[BootSpan],
    times: &[DateTime<Utc>],
    restarts: &[DateTime<Utc>],
    all_series: &mut [BootSeries],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let fills = super::perfmon::gap_fills(&data.perf_series, times);
    if fills.is_empty() {
        return;
    }
    let bounds = super::boots::boundaries(&data.events, restarts);
    let (mut points, mut gaps) = (0, 0);
    for (span, series) in spans.iter().zip(all_series.iter_mut()) {
        let Some(&first) = times.get(span.snapshots.start) else { continue };
        series.fills = fills
            .iter()
            .filter(|f| super::boots::owns(span, first, f.time, &bounds))
            .map(|f| growth::TotalsPoint { hours: super::boots::hours_between(span.start, f.time), ..*f })
            .collect();
        points += series.fills.len();
        gaps += series.fill_gaps();
    }
    if points > 0 {
        diagnostics.push(Diagnostic::for_file(
            "",
            Severity::Info,
            format!(
                "{host}: perfmon filled {points} pool-total points in {gaps} {} of the poolmon series",
                if gaps == 1 { "gap" } else { "gaps" }
            ),
        ));
    }
}

/// Analyses one host's pool, handle and event records.
fn analyse_records(host: &str, data: &HostData, options: &AnalyzeOptions) -> HostResult {
    let mut out = HostResult::default();
    // No timed poolmon snapshot: perfmon's pool and commit counters stand in (header-only snapshots).
    let from_perfmon = if data.pool_snapshots.iter().all(|s| s.taken_at.is_none()) {
        super::perfmon::pool_snapshots(&data.perf_series)
    } else {
        Vec::new()
    };
    let timed: Vec<(&PoolSnapshot, DateTime<Utc>)> =
        data.pool_snapshots.iter().chain(&from_perfmon).filter_map(|s| s.taken_at.map(|t| (s, t))).collect();
    let untimed = data.pool_snapshots.iter().filter(|s| s.taken_at.is_none()).count();
    if untimed > 0 {
        out.diagnostics.push(Diagnostic::for_file(
            "",
            Severity::Warning,
            format!("{host}: {untimed} poolmon snapshots have no time and were left out of the analysis (see --time)"),
        ));
    }
    if timed.is_empty() {
        return records_only(host, data, out);
    }
    let mut timed = timed;
    timed.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.source.cmp(&b.0.source)));
    let snaps: Vec<&PoolSnapshot> = timed.iter().map(|(s, _)| *s).collect();
    let times: Vec<DateTime<Utc>> = timed.iter().map(|(_, t)| *t).collect();
    let restarts = super::perfmon::restarts(&data.perf_series);
    let spans = split_boots(host, &snaps, &times, &data.events, &restarts, options.warmup_hours, &mut out.diagnostics);
    let mut limits = limits::host_limits(&data.events, &snaps, &data.debugger_limits);
    super::perfmon::fill_limits(&mut limits, &data.perf_series);
    if limits.release.is_none() && !spans.is_empty() {
        out.diagnostics.push(Diagnostic::for_file(
            "",
            Severity::Info,
            format!("{host}: no event names the Windows release; pool maxima assume x64 Windows 8.1/2012 R2 or later"),
        ));
    }
    let handle_counts = crate::frame::host_handle_counts(host, data);
    let handles: Vec<HandleSeries> = correlate::handle_series(&handle_counts);
    let mut per_boot_rates: BTreeMap<u32, Vec<(String, PoolType, f64)>> = BTreeMap::new();
    let mut all_series: Vec<BootSeries> = spans.iter().map(|span| boot_series(span, &snaps, &times)).collect();
    if from_perfmon.is_empty() {
        fill_gaps(host, data, &spans, &times, &restarts, &mut all_series, &mut out.diagnostics);
    }
    let tests: Vec<Tested> = all_series.iter().map(|series| test_boot(series, options)).collect();
    let ranked: Vec<(u32, Vec<Candidate>)> = spans
        .iter()
        .zip(&tests)
        .map(|(span, t)| (span.boot, suspects::rank(t.candidates.clone(), &options.rule)))
        .collect();
    // Too little data (ANALYSIS.md §3): a boot too short to separate a leak from warm-up has no suspects;
    // a suspect slowing down like a cache warming up is undecided, not ranked.
    let short: Vec<Option<TooShort>> =
        all_series.iter().zip(&tests).map(|(s, t)| too_short(s, t.fit_hours, options.warmup_hours)).collect();
    let ranked: Vec<(u32, Vec<Candidate>)> = ranked
        .into_iter()
        .zip(short.iter().zip(&tests))
        .map(|((boot, list), (short, t))| {
            if short.is_some() {
                return (boot, Vec::new());
            }
            let mut kept = Vec::new();
            for c in list {
                match suspects::undecided(&c, t.fit_hours, &options.rule) {
                    Some(more) => out.undecided.push(undecided_row(host, boot, &c, more)),
                    None => kept.push(c),
                }
            }
            (boot, kept)
        })
        .collect();
    // Say why the larger growers that passed the trend test were not flagged ("why not my tag?").
    for (span, t) in spans.iter().zip(&tests) {
        let mut rejected: Vec<(&Candidate, &str)> = t
            .candidates
            .iter()
            .filter(|c| c.growth.bytes_per_hour >= options.rule.min_bytes_per_hour)
            .filter_map(|c| suspects::rejection(c, &options.rule).map(|why| (c, why)))
            .collect();
        rejected.sort_by(|a, b| b.0.growth.bytes_per_hour.total_cmp(&a.0.growth.bytes_per_hour));
        for (c, why) in rejected.into_iter().take(5) {
            let g = &c.growth;
            out.rejected.push(Rejected {
                host: host.to_owned(),
                boot: span.boot,
                tag: c.tag.clone(),
                pool: c.pool,
                reason: why.to_owned(),
                bytes_per_hour: g.bytes_per_hour,
                late_bytes_per_hour: g.late_bytes_per_hour,
                q: c.q,
            });
            out.diagnostics.push(Diagnostic::for_file(
                "",
                Severity::Info,
                format!(
                    "{host} boot {}: {} ({}) grew {} but is not a suspect: {why} (rise {:.1}x its wobble, {:.1}x over \
                     the last half; late slope {}, late p {:.1e}, q {:.1e})",
                    span.boot,
                    c.tag.trim_end(),
                    c.pool,
                    crate::units::rate(g.bytes_per_hour),
                    g.signal_to_noise,
                    g.late_signal_to_noise,
                    crate::units::rate(g.late_bytes_per_hour),
                    g.late_p,
                    c.q
                ),
            ));
        }
        for c in ranked.iter().filter(|(b, _)| *b == span.boot).flat_map(|(_, l)| l) {
            let g = &c.growth;
            out.diagnostics.push(Diagnostic::for_file(
                "",
                Severity::Info,
                format!(
                    "{host} boot {}: {} ({}) flagged: rise {:.1}x its wobble, {:.1}x over the last half; early slope {}, \
                     late slope {}, late p {:.1e}, q {:.1e}",
                    span.boot,
                    c.tag.trim_end(),
                    c.pool,
                    g.signal_to_noise,
                    g.late_signal_to_noise,
                    crate::units::rate(g.early_bytes_per_hour),
                    crate::units::rate(g.late_bytes_per_hour),
                    g.late_p,
                    c.q
                ),
            ));
        }
    }
    let tested_refs: Vec<(u32, &Tested)> = spans.iter().map(|s| s.boot).zip(tests.iter()).collect();
    let (kept, set_aside) = cross_boot_check(host, &ranked, &tested_refs);
    out.diagnostics.extend(set_aside);
    for (((span, series), (_, boot_suspects)), short) in spans.iter().zip(&all_series).zip(kept).zip(&short) {
        let findings = if short.is_some() {
            BootFindings { suspects: Vec::new(), sustained: BTreeMap::new(), projections: Vec::new() }
        } else {
            analyse_boot(host, span, series, boot_suspects, &limits, data, options)
        };
        out.boots.push(Boot {
            host: host.to_owned(),
            boot: span.boot,
            start: span.start,
            end: span.end,
            start_evidence: span.start_evidence.clone(),
            end_evidence: span.end_evidence.clone(),
            died: super::boots::died(span, &data.events),
            pool_samples: span.snapshots.len(),
            fit_start: span.fit_start,
            too_short: *short,
        });
        per_boot_rates.insert(
            span.boot,
            findings.suspects.iter().map(|c| (c.tag.clone(), c.pool, c.growth.bytes_per_hour)).collect(),
        );
        for (rank, c) in findings.suspects.iter().enumerate() {
            out.suspects.push(suspect_row(host, span.boot, rank, c, &findings.sustained, options));
        }
        // Correlations and chart series for the top suspects.
        let pool_interval = correlate::median_interval_ms(&series.times);
        let mut boot_rows = Vec::new();
        for c in findings.suspects.iter().take(TOP_SUSPECTS) {
            let suspect = SuspectTag { tag: &c.tag, outstanding_per_hour: c.growth.outstanding_per_hour };
            out.attributions.extend(attribution::attribute(host, span, suspect, &handle_counts));
            let Some(s) = series.tags.get(&(c.tag.clone(), c.pool)) else { continue };
            let tag_times: Vec<DateTime<Utc>> = s.idx.iter().map(|&i| series.times[i as usize]).collect();
            let points = TagPoints { tag: &c.tag, times: &tag_times, outstanding: &s.outstanding };
            match correlate::correlate(host, span, points, &handles, pool_interval) {
                Ok(rows) => boot_rows.extend(rows),
                Err(e) => out.diagnostics.push(Diagnostic::for_file(
                    "",
                    Severity::Warning,
                    format!("{host} boot {}: correlating {} failed: {e}", span.boot, c.tag.trim_end()),
                )),
            }
            out.series.push(chart_series(host, span.boot, format!("tag:{}:{}", c.tag, c.pool), &tag_times, &s.bytes));
        }
        for (name, pool) in [("paged_total", PoolType::Paged), ("nonpaged_total", PoolType::Nonpaged)] {
            let (t, _, v) = series.total_points(pool);
            out.series.push(chart_series(host, span.boot, name.into(), &t, &v));
        }
        let (ct, _, cv) = series.commit_points();
        if !ct.is_empty() {
            out.series.push(chart_series(host, span.boot, "commit".into(), &ct, &cv));
        }
        // Handle counts of the attributed processes, per type (and the attributed account).
        let mut drawn: Vec<(String, Option<String>)> = Vec::new();
        for a in out.attributions.iter().filter(|a| a.boot == span.boot) {
            let key = (a.process.clone(), a.account.clone());
            if !drawn.contains(&key) {
                drawn.push(key);
            }
        }
        for (process, account) in &drawn {
            for h in handles.iter().filter(|h| &h.process == process && (h.account.is_none() || h.account == *account))
            {
                let (ht, hv): (Vec<DateTime<Utc>>, Vec<f64>) =
                    h.times.iter().zip(&h.counts).filter(|(t, _)| span.contains(**t)).map(|(t, c)| (*t, *c)).unzip();
                if ht.is_empty() {
                    continue;
                }
                let name = match &h.account {
                    Some(a) => format!("handles:{}:{}:{a}", h.process, h.handle_type),
                    None => format!("handles:{}:{}", h.process, h.handle_type),
                };
                out.series.push(chart_series(host, span.boot, name, &ht, &hv));
            }
        }
        out.correlations.extend(boot_rows);
        out.projections.extend(findings.projections);
        out.process_growth.extend(super::process_growth::growing_processes(host, span, &data.perf_series));
    }
    mark_boots_that_ran_out(&mut out.boots, &out.projections);
    let repeats = suspects::repeats(&per_boot_rates);
    for s in &mut out.suspects {
        if let Some(r) = repeats.get(&(s.boot, s.tag.clone(), s.pool)) {
            s.repeats_in_boots.clone_from(r);
        }
    }
    let object_type = |tag: &str| crate::parse::pooltag::object_type_for_tag(tag).map(str::to_owned);
    let found = verdict::HostFindings {
        boots: &out.boots,
        suspects: &out.suspects,
        projections: &out.projections,
        attributions: &out.attributions,
        correlations: &out.correlations,
        events: &data.events,
        handle_dumps: data.handle_snapshots.len(),
        process_growth: &out.process_growth,
        tagless: data.pool_snapshots.iter().all(|s| s.rows.is_empty()),
    };
    out.verdict = Some(verdict::verdict(host, found, &object_type));
    out
}
