//! One function per chart kind: analysis and series in, a [`Chart`] out (no drawing here).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::axis::to_x;
use super::{
    AxisCut, Band, Chart, Dash, Level, Line, LineStyle, Marker, MarkerKind, Panel, Quantity, XAxis, YAxis, CRITICAL,
    GREY, INK, WARNING,
};
use crate::analysis::{Analysis, Boot, Correlation, Projection, Resource, Suspect};
use crate::model::PoolType;
use crate::report::events::{Importance, Notable};
use crate::report::format;
use crate::report::series::{Points, SeriesSource, SYSTEM_PROCESS};

/// Suspect tags drawn on a projection chart (each adds an observed line and a trend line).
const PROJECTION_TAGS: usize = 4;
/// Handle series correlated with a tag drawn on its twin-axis chart.
const TAG_HANDLE_SERIES: usize = 3;
/// Most lines on one chart (PAL splits charts above 12 instances).
pub const MAX_LINES: usize = 12;

/// What a chart is about; the HTML report places charts by it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Paged and nonpaged totals of a host.
    Totals {
        /// Host.
        host: String,
    },
    /// Projection of one resource of a host's boot to its limit.
    Projection {
        /// Host.
        host: String,
        /// Boot.
        boot: u32,
        /// Resource.
        resource: Resource,
    },
    /// One suspect tag against its correlated handles.
    Tag {
        /// Host.
        host: String,
        /// Boot.
        boot: u32,
        /// Tag.
        tag: String,
        /// Pool.
        pool: PoolType,
    },
    /// Handle counts by type of the top process, boots overlaid.
    Handles {
        /// Host.
        host: String,
        /// Image name.
        process: String,
    },
    /// The tags that grew most over the main boot.
    TopTags {
        /// Host.
        host: String,
        /// Boot.
        boot: u32,
    },
    /// Tags that grew but were rejected as suspects (caches levelling off), with their plateau.
    Rejected {
        /// Host.
        host: String,
        /// Boot.
        boot: u32,
    },
    /// Token handles of the attributed process by account over the main boot.
    Accounts {
        /// Host.
        host: String,
        /// Image name.
        process: String,
    },
}

impl Role {
    /// The host the chart is about.
    pub fn host(&self) -> &str {
        match self {
            Role::Totals { host }
            | Role::Projection { host, .. }
            | Role::Tag { host, .. }
            | Role::Handles { host, .. }
            | Role::TopTags { host, .. }
            | Role::Rejected { host, .. }
            | Role::Accounts { host, .. } => host,
        }
    }
}

/// Tags on the top-growth chart.
pub const TOP_TAGS: usize = 6;
/// Accounts on the handles-by-account chart.
const TOP_ACCOUNTS: usize = 6;

/// What the chart builders read.
pub struct Context<'a> {
    /// The analysis.
    pub analysis: &'a Analysis,
    /// Series lookup.
    pub source: &'a SeriesSource<'a>,
    /// Zone of time axes.
    pub tz: Tz,
    /// Events to mark.
    pub events: &'a [Notable],
}

impl Context<'_> {
    fn zone_note(&self) -> String {
        format!("times in {}", self.tz.name())
    }

    fn boot_span(&self, boot: Option<&Boot>) -> String {
        boot.map(|b| {
            format!(
                "boot {} ({} to {})",
                b.boot,
                format::time_short(b.start, self.tz),
                format::time_short(b.end, self.tz)
            )
        })
        .unwrap_or_default()
    }

    /// Markers for the host's boots and exhaustion events inside `[x0, x1]`. Charts of one boot
    /// (`with_boots` false) leave out 41, 1076 and 6008: they are logged early in a boot about the
    /// end of the previous one.
    /// The end of a time axis that stops at the last sample, moved on to the events logged after it (the 2004
    /// at the hang, the 41 and 6008 of the reboot that follows), so they are marked, not cut off. Events more
    /// than a quarter of the plotted span (or an hour) later are left out rather than squashing the data.
    fn through_trailing_events(&self, host: &str, x0: f64, x1: f64) -> f64 {
        let reach = ((x1 - x0) * 0.25).max(3600.0);
        let last = self
            .events
            .iter()
            .filter(|e| e.host == host && e.importance == Importance::Exhaustion)
            .map(|e| to_x(e.at))
            .filter(|&x| x > x1 && x - x1 <= reach)
            .fold(x1, f64::max);
        if last > x1 {
            // A little room so the last marker is not drawn on the frame.
            last + (last - x0) * 0.01
        } else {
            x1
        }
    }

    fn markers(&self, host: &str, x0: f64, x1: f64, with_boots: bool) -> Vec<Marker> {
        let mut out = Vec::new();
        if with_boots {
            for b in self.source.boots(host) {
                let x = to_x(b.start);
                // The first instant of the chart is its left edge: a marker there says nothing.
                if x > x0 && x <= x1 {
                    out.push(Marker { x, label: format!("boot {}", b.boot), kind: MarkerKind::Boot });
                }
            }
        }
        let about_previous_boot = |id: u32| matches!(id, 41 | 1076 | 6008);
        for e in self
            .events
            .iter()
            .filter(|e| e.host == host && e.importance == Importance::Exhaustion)
            .filter(|e| with_boots || !about_previous_boot(e.event_id))
        {
            let x = to_x(e.at);
            if x >= x0 && x <= x1 && !out.iter().any(|m: &Marker| m.label == e.label && (m.x - x).abs() < 1.0) {
                out.push(Marker { x, label: e.label.clone(), kind: MarkerKind::Event });
            }
        }
        out
    }
}

fn xy(points: &Points) -> Vec<(f64, f64)> {
    points.times.iter().zip(&points.values).map(|(t, v)| (to_x(*t), *v)).collect()
}

fn resource_words(resource: Resource) -> &'static str {
    match resource {
        Resource::Paged => "paged pool",
        Resource::Nonpaged => "nonpaged pool",
        Resource::Commit => "commit charge",
    }
}

fn pool_resource(pool: PoolType) -> Resource {
    match pool {
        PoolType::Paged => Resource::Paged,
        PoolType::Nonpaged => Resource::Nonpaged,
    }
}

/// The boot whose suspects the report details: the verdict's, else the last boot with suspects, else
/// the host's last boot.
pub fn main_boot(analysis: &Analysis, host: &str) -> u32 {
    if let Some(v) = analysis.verdicts.iter().find(|v| v.host == host) {
        return v.boot;
    }
    analysis
        .suspects
        .iter()
        .filter(|s| s.host == host)
        .map(|s| s.boot)
        .max()
        .or_else(|| analysis.boots.iter().filter(|b| b.host == host).map(|b| b.boot).max())
        .unwrap_or(0)
}

/// Paged and nonpaged pool totals of a host over every boot, with boots, events and the limits.
pub fn totals(ctx: &Context<'_>, host: &str) -> Option<Chart> {
    let boots: Vec<u32> = {
        let b: Vec<u32> = ctx.source.boots(host).iter().map(|b| b.boot).collect();
        if b.is_empty() {
            vec![0]
        } else {
            b
        }
    };
    let mut panels = Vec::new();
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, resource) in [Resource::Paged, Resource::Nonpaged].into_iter().enumerate() {
        let mut lines = Vec::new();
        for &boot in &boots {
            let points = ctx.source.total(host, boot, resource);
            if points.is_empty() {
                continue;
            }
            let pts = xy(&points);
            x0 = x0.min(pts[0].0);
            x1 = x1.max(pts[pts.len() - 1].0);
            // One line per boot, same look and label: the reboot drop is not drawn as a fall.
            lines.push(Line {
                label: format!("{} total", resource_words(resource)),
                points: pts,
                // Paged blue, nonpaged bluish green: vermillion is kept for event markers.
                style: LineStyle { shape: super::Shape::None, ..LineStyle::series(2 * i) },
                secondary: false,
            });
        }
        if lines.is_empty() {
            continue;
        }
        let last_boot = boots.last().copied().unwrap_or(0);
        let data_max = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).fold(0.0, f64::max);
        let limit =
            ctx.analysis.projections.iter().find(|p| p.host == host && p.boot == last_boot && p.pool == resource);
        let mut title = if resource == Resource::Paged { "Paged pool" } else { "Nonpaged pool" }.to_owned();
        let mut levels = Vec::new();
        if let Some(p) = limit {
            let limit = p.limit_bytes as f64;
            // A limit far above the data would flatten it to the axis: name it instead of drawing it.
            if limit <= 4.0 * data_max {
                levels.push(Level {
                    label: format!(
                        "{} limit {} ({})",
                        resource_words(resource),
                        format::bytes(limit),
                        format::clean(&p.limit_source)
                    ),
                    y: limit,
                    style: LineStyle::plain(INK, Dash::Solid, 2),
                });
            } else {
                title = format!("{title} (limit {} is far above the data)", format::bytes(limit));
            }
        }
        let axis = if resource == Resource::Paged { "Paged pool" } else { "Nonpaged pool" };
        panels.push(Panel {
            title,
            y: YAxis { title: axis.to_owned(), quantity: Quantity::Bytes },
            y2: None,
            lines,
            bands: Vec::new(),
            levels,
            markers: Vec::new(),
        });
    }
    if panels.is_empty() {
        return None;
    }
    let x1 = ctx.through_trailing_events(host, x0, x1);
    for panel in &mut panels {
        panel.markers = ctx.markers(host, x0, x1, true);
    }
    Some(Chart {
        id: format!("pool-totals-{}", format::file_stem(host)),
        title: format!("Pool totals on {}", format::clean(host)),
        subtitle: format!("{} boot(s), {}", boots.len(), ctx.zone_note()),
        alt: format!(
            "Paged and nonpaged pool totals over time on host {}, with boots and logged events",
            format::clean(host)
        ),
        x: XAxis::Time { start: x0, end: x1, tz: ctx.tz, cut: None },
        panels,
        columns: 1,
    })
}

/// Theil-Sen intercept of `points` for a known slope: the median of `y - slope * t` over the points
/// at or after `fit_start`, at `t = 0` = `fit_start` (hours).
fn intercept(points: &Points, fit_start: DateTime<Utc>, per_hour: f64) -> Option<f64> {
    let mut residuals: Vec<f64> = points
        .times
        .iter()
        .zip(&points.values)
        .filter(|(t, _)| **t >= fit_start)
        .map(|(t, v)| v - per_hour * format::hours_between(fit_start, *t))
        .collect();
    if residuals.is_empty() {
        return None;
    }
    residuals.sort_by(f64::total_cmp);
    let n = residuals.len();
    Some(if n % 2 == 1 { residuals[n / 2] } else { f64::midpoint(residuals[n / 2 - 1], residuals[n / 2]) })
}

/// The fitted trend of a suspect from its fit window's start to `until`.
fn trend_line(points: &Points, suspect: &Suspect, fit_start: DateTime<Utc>, until: f64) -> Option<Vec<(f64, f64)>> {
    let b = intercept(points, fit_start, suspect.bytes_per_hour)?;
    let x_start = to_x(fit_start);
    let at = |x: f64| b + suspect.bytes_per_hour * (x - x_start) / 3600.0;
    Some(vec![(x_start, at(x_start)), (until, at(until))])
}

/// A resource's total with the top suspects, their fitted trends, the projection to the limit and
/// PAL's warning (60%) and critical (80%) bands.
pub fn projection(ctx: &Context<'_>, p: &Projection) -> Option<Chart> {
    let total = ctx.source.total(&p.host, p.boot, p.pool);
    if total.is_empty() || p.limit_bytes == 0 {
        return None;
    }
    let boot = ctx.source.boot(&p.host, p.boot);
    let start = to_x(boot.map_or(total.times[0], |b| b.start));
    let now = to_x(p.now_at);
    let observed = p.observed_exhaustion_at.map(to_x);
    let exhaustion = p.exhaustion_at.map(to_x);
    let cap = now + (3.0 * (now - start)).max(24.0 * 3600.0);
    // A chart is worth drawing when the limit comes into view: the projection reaches it soon, the
    // archive shows the exhaustion, or usage is already a visible share of the limit.
    let reaches = exhaustion.is_some_and(|x| x <= cap);
    if !(reaches || observed.is_some() || p.now_bytes as f64 >= 0.05 * p.limit_bytes as f64) {
        return None;
    }
    let range = projection_range(start, now, observed, exhaustion);
    let (end, linear_end) = (range.end, range.linear_end);
    let cut = match (range.cut_at, p.exhaustion_at) {
        (Some(at), Some(target)) => Some(AxisCut {
            at,
            target: to_x(target),
            label: target.with_timezone(&ctx.tz).format("%b %-d %Y").to_string(),
        }),
        _ => None,
    };
    let limit = p.limit_bytes as f64;

    let mut lines = vec![Line {
        label: format!("{} total", resource_words(p.pool)),
        points: xy(&total),
        style: LineStyle::plain(INK, Dash::Solid, 3),
        secondary: false,
    }];
    if p.bytes_per_hour > 0.0 {
        lines.push(Line {
            label: format!("projection at {} (sustained)", format::bytes_rate(p.bytes_per_hour)),
            points: sustained_points(p.now_bytes as f64, now, p.bytes_per_hour, limit, exhaustion, &range),
            style: LineStyle::plain(INK, Dash::Dashed, 2),
            secondary: false,
        });
    }
    if let Some(naive) = p.naive_exhaustion_at.map(to_x).filter(|&n| n > now) {
        let slope = (limit - p.now_bytes as f64) / (naive - now);
        let reach = naive.min(linear_end);
        lines.push(Line {
            label: "naive straight-line fit of the total".to_owned(),
            points: vec![(now, p.now_bytes as f64), (reach, p.now_bytes as f64 + slope * (reach - now))],
            style: LineStyle::plain(GREY, Dash::Dotted, 2),
            secondary: false,
        });
    }
    let pool = match p.pool {
        Resource::Paged => Some(PoolType::Paged),
        Resource::Nonpaged => Some(PoolType::Nonpaged),
        Resource::Commit => None,
    };
    let suspects: Vec<&Suspect> = ctx
        .analysis
        .suspects
        .iter()
        .filter(|s| s.host == p.host && s.boot == p.boot && pool.is_none_or(|pl| s.pool == pl))
        .take(PROJECTION_TAGS)
        .collect();
    let keys: Vec<(String, PoolType)> = suspects.iter().map(|s| (s.tag.clone(), s.pool)).collect();
    let series = ctx.source.tags(&p.host, p.boot, &keys);
    for (i, s) in suspects.iter().enumerate() {
        let Some(points) = series.get(&(s.tag.clone(), s.pool)).map(|t| &t.bytes) else { continue };
        if points.is_empty() {
            continue;
        }
        let style = LineStyle::series(i);
        lines.push(Line {
            label: format!("{} ({})", format::tag(&s.tag), s.pool),
            points: xy(points),
            style,
            secondary: false,
        });
        let fit_start = boot.map_or(points.times[0], |b| b.fit_start);
        if let Some(trend) = trend_line(points, s, fit_start, linear_end) {
            lines.push(Line {
                label: format!("{} trend {}", format::tag(&s.tag), format::bytes_rate(s.bytes_per_hour)),
                points: trend,
                style: LineStyle { dash: Dash::Dashed, shape: super::Shape::None, width: 2, ..style },
                secondary: false,
            });
        }
    }
    let mut markers = ctx.markers(&p.host, start, linear_end, false);
    if let Some(x) = exhaustion {
        // Beyond a break the exhaustion stands at the right edge.
        let x = if cut.is_some() { end } else { x };
        markers.push(Marker { x, label: "projected".to_owned(), kind: MarkerKind::Projected });
    }
    if let Some(x) = observed
        .filter(|&x| x <= linear_end && !markers.iter().any(|m| m.kind == MarkerKind::Event && (m.x - x).abs() < 60.0))
    {
        markers.push(Marker { x, label: "observed".to_owned(), kind: MarkerKind::Event });
    }
    let beyond = match p.exhaustion_at {
        Some(at) if cut.is_some() => format!(
            "; axis broken: projected exhaustion {} ({} after the last sample)",
            format::time_short(at, ctx.tz),
            format::hours((to_x(at) - now) / 3600.0)
        ),
        _ => String::new(),
    };
    let what = resource_words(p.pool);
    Some(Chart {
        id: format!("projection-{}-b{}-{}", format::file_stem(&p.host), p.boot, what.replace(' ', "-")),
        title: format!("Projection of {what} to its limit on {}", format::clean(&p.host)),
        subtitle: format!("{}, {}{beyond}", ctx.boot_span(boot), ctx.zone_note()),
        alt: format!(
            "{what} total on host {} with the top suspect tags, their fitted trends and the projection to the {} limit",
            format::clean(&p.host),
            format::bytes(limit)
        ),
        x: XAxis::Time { start, end, tz: ctx.tz, cut },
        panels: vec![Panel {
            title: format!("{} against its limit", capitalise(what)),
            y: YAxis { title: capitalise(what), quantity: Quantity::Bytes },
            y2: None,
            lines,
            bands: vec![
                Band {
                    label: "warning: 60-80% of the limit".to_owned(),
                    from: 0.6 * limit,
                    to: 0.8 * limit,
                    color: WARNING,
                },
                Band {
                    label: "critical: 80-100% of the limit".to_owned(),
                    from: 0.8 * limit,
                    to: limit,
                    color: CRITICAL,
                },
            ],
            levels: vec![Level {
                label: format!("limit {} ({})", format::bytes(limit), format::clean(&p.limit_source)),
                y: limit,
                style: LineStyle::plain(INK, Dash::Solid, 2),
            }],
            markers,
        }],
        columns: 1,
    })
}

/// Exhaustion further than this many observed spans after the last sample breaks the axis.
pub const FAR_SPANS: f64 = 10.0;

/// The x range of a projection chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProjectionRange {
    /// Right edge of the axis (the exhaustion itself when the axis is broken).
    pub end: f64,
    /// Where the linear part of the axis ends: `end`, or the break.
    pub linear_end: f64,
    /// The break, when the exhaustion is too far away to draw to scale.
    pub cut_at: Option<f64>,
}

/// The time range of a projection chart (issue 10): to the projected exhaustion, so the sustained
/// line meets the limit inside the chart, with a little room after it; when the exhaustion is more
/// than [`FAR_SPANS`] observed spans away, the axis runs a little past the data, breaks, and its last
/// tenth stands for the exhaustion.
pub fn projection_range(start: f64, now: f64, observed: Option<f64>, exhaustion: Option<f64>) -> ProjectionRange {
    let span = (now - start).max(3600.0);
    let seen = observed.map_or(now, |o| o.max(now));
    match exhaustion {
        Some(x) if x - now > FAR_SPANS * span => {
            let at = seen + 0.25 * span;
            ProjectionRange { end: at + 0.12 * (at - start), linear_end: at, cut_at: Some(at) }
        }
        _ => {
            let horizon = exhaustion.map_or(seen, |x| x.max(seen));
            let end = horizon + (horizon - start).max(3600.0) * 0.04;
            ProjectionRange { end, linear_end: end, cut_at: None }
        }
    }
}

/// The sustained projection from the last sample: to the limit at the exhaustion (drawn at the right
/// edge past a break), or to the chart's edge when the resource does not run out.
fn sustained_points(
    now_bytes: f64,
    now: f64,
    per_hour: f64,
    limit: f64,
    exhaustion: Option<f64>,
    range: &ProjectionRange,
) -> Vec<(f64, f64)> {
    let y_at = |x: f64| (now_bytes + per_hour * (x - now) / 3600.0).min(limit);
    match (exhaustion, range.cut_at) {
        (Some(_), Some(at)) => vec![(now, now_bytes), (at, y_at(at)), (range.end, limit)],
        (Some(x), None) => vec![(now, now_bytes), (x.max(now), limit)],
        (None, _) => vec![(now, now_bytes), (range.end, y_at(range.end))],
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The correlations of a suspect, strongest first.
pub fn correlations_of<'a>(analysis: &'a Analysis, s: &Suspect) -> Vec<&'a Correlation> {
    let mut out: Vec<&Correlation> =
        analysis.correlations.iter().filter(|c| c.host == s.host && c.boot == s.boot && c.tag == s.tag).collect();
    out.sort_by(|a, b| b.invariant.cmp(&a.invariant).then(b.coefficient.abs().total_cmp(&a.coefficient.abs())));
    out
}

/// One suspect's bytes and fitted trend against its correlated handle counts (or its outstanding
/// allocations when no handle series moved with it), on twin axes.
pub fn tag(ctx: &Context<'_>, s: &Suspect) -> Option<Chart> {
    let key = (s.tag.clone(), s.pool);
    let series = ctx.source.tags(&s.host, s.boot, std::slice::from_ref(&key));
    let points = series.get(&key)?;
    if points.bytes.is_empty() {
        return None;
    }
    let boot = ctx.source.boot(&s.host, s.boot);
    let pts = xy(&points.bytes);
    let (x0, x1) = (pts[0].0, pts[pts.len() - 1].0);
    let shown = format::tag(&s.tag);
    let mut lines = vec![Line {
        label: format!("{shown} bytes ({})", s.pool),
        points: pts,
        style: LineStyle::series(0),
        secondary: false,
    }];
    let fit_start = boot.map_or(points.bytes.times[0], |b| b.fit_start);
    if let Some(trend) = trend_line(&points.bytes, s, fit_start, x1) {
        lines.push(Line {
            label: format!("Theil-Sen trend {}", format::bytes_rate(s.bytes_per_hour)),
            points: trend,
            style: LineStyle::plain(INK, Dash::Dashed, 2),
            secondary: false,
        });
    }
    let mut right = "Outstanding allocations";
    for (i, c) in correlations_of(ctx.analysis, s).into_iter().take(TAG_HANDLE_SERIES).enumerate() {
        let handles = ctx.source.handles(&s.host, s.boot, &c.process, &c.handle_type);
        if handles.is_empty() {
            continue;
        }
        right = "Handles";
        let who = if c.process == SYSTEM_PROCESS { "all processes".to_owned() } else { format::clean(&c.process) };
        lines.push(Line {
            label: format!("{who} {} handles (right axis)", format::clean(&c.handle_type)),
            points: xy(&handles),
            style: LineStyle::series(i + 1),
            secondary: true,
        });
    }
    if right == "Outstanding allocations" && !points.outstanding.is_empty() {
        lines.push(Line {
            label: "outstanding allocations (right axis)".to_owned(),
            points: xy(&points.outstanding),
            style: LineStyle::series(1),
            secondary: true,
        });
    }
    let twin = lines.iter().any(|l| l.secondary);
    Some(Chart {
        id: format!("tag-{}-b{}-{}-{}", format::file_stem(&s.host), s.boot, format::file_stem(&s.tag), s.pool),
        title: format!("Tag {shown} ({}): bytes against {}", s.pool, right.to_lowercase()),
        subtitle: format!("{}, {}, {}", format::clean(&s.host), ctx.boot_span(boot), ctx.zone_note()),
        alt: format!(
            "Bytes of pool tag {shown} on host {} over time with its fitted trend and {}",
            format::clean(&s.host),
            right.to_lowercase()
        ),
        x: XAxis::Time { start: x0, end: x1, tz: ctx.tz, cut: None },
        panels: vec![Panel {
            title: format!("{shown} ({})", s.pool),
            y: YAxis { title: format!("{shown} bytes"), quantity: Quantity::Bytes },
            y2: twin.then(|| YAxis { title: right.to_owned(), quantity: Quantity::Count }),
            lines,
            bands: Vec::new(),
            levels: Vec::new(),
            markers: ctx.markers(&s.host, x0, x1, false),
        }],
        columns: 1,
    })
}

/// The process whose handles the report charts: the one most strongly tied to a suspect (kernel
/// object invariants first), else the one holding the most handles.
pub fn top_process(ctx: &Context<'_>, host: &str) -> Option<String> {
    let boot = main_boot(ctx.analysis, host);
    let mut correlated: Vec<&Correlation> =
        ctx.analysis.correlations.iter().filter(|c| c.host == host && c.process != SYSTEM_PROCESS).collect();
    correlated.sort_by(|a, b| {
        b.invariant
            .cmp(&a.invariant)
            .then(b.coefficient.abs().total_cmp(&a.coefficient.abs()))
            .then(a.process.cmp(&b.process))
    });
    correlated
        .first()
        .map(|c| c.process.clone())
        .or_else(|| ctx.source.busiest_processes(host, boot).into_iter().next().map(|(name, _)| name))
}

/// Handle counts by type for one process, every boot overlaid at uptime 0.
pub fn handles(ctx: &Context<'_>, host: &str, process: &str) -> Option<Chart> {
    let boots: Vec<u32> = {
        let b: Vec<u32> = ctx.source.boots(host).iter().map(|b| b.boot).collect();
        if b.is_empty() {
            vec![0]
        } else {
            b
        }
    };
    let mut per_boot: Vec<(u32, DateTime<Utc>, std::collections::BTreeMap<String, Points>)> = boots
        .iter()
        .filter_map(|&boot| {
            let by_type = ctx.source.handles_by_type(host, boot, process);
            let first = by_type.values().filter_map(|p| p.times.first().copied()).min()?;
            let start = ctx.source.boot(host, boot).map_or(first, |b| b.start);
            Some((boot, start, by_type))
        })
        .collect();
    // The last three boots: older ones add lines, not evidence.
    if per_boot.len() > 3 {
        per_boot.drain(..per_boot.len() - 3);
    }
    if per_boot.is_empty() {
        return None;
    }
    let mut peaks: std::collections::BTreeMap<&str, f64> = std::collections::BTreeMap::new();
    for (_, _, by_type) in &per_boot {
        for (t, p) in by_type {
            let peak = p.values.iter().copied().fold(0.0, f64::max);
            let e = peaks.entry(t.as_str()).or_insert(0.0);
            *e = e.max(peak);
        }
    }
    let mut types: Vec<(&str, f64)> = peaks.into_iter().collect();
    types.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    // Four types per boot: more lines hide the one that grows behind flat ones.
    let keep = (MAX_LINES / per_boot.len()).clamp(1, 4);
    types.truncate(keep);
    let dashes = [Dash::Solid, Dash::Dashed, Dash::Dotted];
    let mut lines = Vec::new();
    let mut end: f64 = 0.0;
    let n = per_boot.len();
    for (k, (boot, start, by_type)) in per_boot.iter().enumerate() {
        // The newest boot is solid; older boots are dashed, then dotted.
        let dash = dashes[(n - 1 - k).min(2)];
        for (i, (t, _)) in types.iter().enumerate() {
            let Some(points) = by_type.get(*t) else { continue };
            let pts: Vec<(f64, f64)> = points
                .times
                .iter()
                .zip(&points.values)
                .map(|(at, v)| (format::hours_between(*start, *at), *v))
                .collect();
            end = end.max(pts.last().map_or(0.0, |p| p.0));
            lines.push(Line {
                label: format!("{}, boot {boot}", format::clean(t)),
                points: pts,
                style: LineStyle { dash, width: if dash == Dash::Solid { 3 } else { 2 }, ..LineStyle::series(i) },
                secondary: false,
            });
        }
    }
    if lines.is_empty() {
        return None;
    }
    let shown = format::clean(process);
    Some(Chart {
        id: format!("handles-{}-{}", format::file_stem(host), format::file_stem(process)),
        title: format!("Handles held by {shown}, by type"),
        subtitle: format!("{}, {} boot(s) overlaid at uptime 0", format::clean(host), per_boot.len()),
        alt: format!("Handle counts by type held by {shown} on host {} over hours since boot", format::clean(host)),
        x: XAxis::Uptime { end: end.max(1.0) },
        panels: vec![Panel {
            title: format!("{shown} handles"),
            y: YAxis { title: "Handles".to_owned(), quantity: Quantity::Count },
            y2: None,
            lines,
            bands: Vec::new(),
            levels: Vec::new(),
            markers: Vec::new(),
        }],
        columns: 1,
    })
}

/// A time chart of one panel of byte lines over a boot.
fn boot_lines_chart(ctx: &Context<'_>, host: &str, boot: u32, lines: Vec<Line>, words: [String; 4]) -> Option<Chart> {
    let [id, title, panel, alt] = words;
    let xs = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    if lines.is_empty() || !x0.is_finite() || x1 <= x0 {
        return None;
    }
    let span = ctx.source.boot(host, boot);
    Some(Chart {
        id,
        title,
        subtitle: format!("{}, {}, {}", format::clean(host), ctx.boot_span(span), ctx.zone_note()),
        alt,
        x: XAxis::Time { start: x0, end: x1, tz: ctx.tz, cut: None },
        panels: vec![Panel {
            title: panel,
            y: YAxis { title: "Bytes".to_owned(), quantity: Quantity::Bytes },
            y2: None,
            lines,
            bands: Vec::new(),
            levels: Vec::new(),
            markers: ctx.markers(host, x0, x1, false),
        }],
        columns: 1,
    })
}

/// The [`TOP_TAGS`] tags that grew most over a boot (first to last snapshot), whether suspects or not:
/// what else moved while the suspect grew.
pub fn top_tags(ctx: &Context<'_>, host: &str, boot: u32) -> Option<Chart> {
    let top = ctx.source.top_growing_tags(host, boot, TOP_TAGS);
    let keys: Vec<(String, PoolType)> = top.iter().map(|(k, _)| k.clone()).collect();
    let series = ctx.source.tags(host, boot, &keys);
    let mut lines = Vec::new();
    for (i, ((tag, pool), grew)) in top.iter().enumerate() {
        let Some(points) = series.get(&(tag.clone(), *pool)).filter(|p| !p.bytes.is_empty()) else { continue };
        let suspect = ctx.analysis.suspects.iter().any(|s| s.host == host && s.boot == boot && &s.tag == tag);
        lines.push(Line {
            label: format!(
                "{} ({pool}) {}{}",
                format::tag(tag),
                crate::units::signed_bytes(*grew),
                if suspect { ", suspect" } else { "" }
            ),
            points: xy(&points.bytes),
            style: LineStyle { width: 2, ..LineStyle::series(i) },
            secondary: false,
        });
    }
    let mut chart = boot_lines_chart(
        ctx,
        host,
        boot,
        lines,
        [
            format!("top-tags-{}-b{boot}", format::file_stem(host)),
            format!("The {} tags that grew most in boot {boot} on {}", top.len(), format::clean(host)),
            String::new(),
            format!(
                "Small multiples: bytes of each of the pool tags that grew most over boot {boot} on host {}, each on its own scale",
                format::clean(host)
            ),
        ],
    )?;
    // Small multiples: one panel per tag, each on its own scale, so a cache's plateau and a slow
    // leak stay readable beside a fast one (one shared axis flattens all but the largest).
    let template = chart.panels.pop()?;
    chart.panels = template
        .lines
        .iter()
        .map(|line| Panel { title: line.label.clone(), lines: vec![line.clone()], ..template.clone() })
        .collect();
    chart.columns = 3;
    Some(chart)
}

/// The tags that grew but are not suspects (analysis' `rejected`), so the reader sees the plateau
/// that cleared them.
pub fn rejected(ctx: &Context<'_>, host: &str, boot: u32) -> Option<Chart> {
    let rejected: Vec<&crate::analysis::Rejected> =
        ctx.analysis.rejected.iter().filter(|r| r.host == host && r.boot == boot).take(TOP_TAGS).collect();
    let keys: Vec<(String, PoolType)> = rejected.iter().map(|r| (r.tag.clone(), r.pool)).collect();
    let series = ctx.source.tags(host, boot, &keys);
    let mut lines = Vec::new();
    for (i, r) in rejected.iter().enumerate() {
        let Some(points) = series.get(&(r.tag.clone(), r.pool)).filter(|p| !p.bytes.is_empty()) else { continue };
        lines.push(Line {
            label: format!(
                "{} ({}) {}, last half {}: {}",
                format::tag(&r.tag),
                r.pool,
                format::bytes_rate(r.bytes_per_hour),
                format::bytes_rate(r.late_bytes_per_hour),
                r.reason
            ),
            points: xy(&points.bytes),
            style: LineStyle { width: 2, ..LineStyle::series(i) },
            secondary: false,
        });
    }
    boot_lines_chart(
        ctx,
        host,
        boot,
        lines,
        [
            format!("rejected-{}-b{boot}", format::file_stem(host)),
            format!("Tags that grew but are not suspects, boot {boot} on {}", format::clean(host)),
            "Bytes per tag: caches level off, leaks keep their rate".to_owned(),
            format!(
                "Bytes of the pool tags on host {} that grew in boot {boot} but were cleared as suspects",
                format::clean(host)
            ),
        ],
    )
}

/// Token handles held by `process` per account over a boot (handle.exe dumps): the account whose
/// logons leak climbs, the others stay flat.
pub fn accounts(ctx: &Context<'_>, host: &str, boot: u32, process: &str) -> Option<Chart> {
    let by_account = ctx.source.accounts_over_time(host, boot, process);
    let mut ranked: Vec<(&String, &Points)> = by_account.iter().filter(|(_, p)| p.values.len() >= 2).collect();
    let last = |p: &Points| p.values.last().copied().unwrap_or(0.0);
    ranked.sort_by(|a, b| last(b.1).total_cmp(&last(a.1)).then_with(|| a.0.cmp(b.0)));
    ranked.truncate(TOP_ACCOUNTS);
    let lines: Vec<Line> = ranked
        .iter()
        .enumerate()
        .map(|(i, (account, points))| Line {
            label: format!("{} ({} at the last dump)", format::clean(account), format::count(last(points) as i64)),
            points: xy(points),
            style: LineStyle::series(i),
            secondary: false,
        })
        .collect();
    let shown = format::clean(process);
    let mut chart = boot_lines_chart(
        ctx,
        host,
        boot,
        lines,
        [
            format!("accounts-{}-b{boot}-{}", format::file_stem(host), format::file_stem(process)),
            format!("Token handles held by {shown}, by account"),
            format!("{shown} Token handles per account (handle.exe dumps)"),
            format!("Token handles held by {shown} on host {} per account over boot {boot}", format::clean(host)),
        ],
    )?;
    chart.panels[0].y = YAxis { title: "Token handles".to_owned(), quantity: Quantity::Count };
    Some(chart)
}

/// Every chart of a report, in reading order, with unique numbered ids.
pub fn plan(ctx: &Context<'_>, max_tag_charts: usize) -> Vec<(Role, Chart)> {
    let mut out: Vec<(Role, Chart)> = Vec::new();
    let mut hosts: Vec<&str> = ctx.analysis.boots.iter().map(|b| b.host.as_str()).collect();
    hosts.extend(ctx.analysis.suspects.iter().map(|s| s.host.as_str()));
    hosts.extend(ctx.source.hosts());
    hosts.sort_unstable();
    hosts.dedup();
    for host in hosts {
        if let Some(c) = totals(ctx, host) {
            out.push((Role::Totals { host: host.to_owned() }, c));
        }
        let boot = main_boot(ctx.analysis, host);
        for p in ctx.analysis.projections.iter().filter(|p| p.host == host && p.boot == boot) {
            if let Some(c) = projection(ctx, p) {
                out.push((Role::Projection { host: host.to_owned(), boot, resource: p.pool }, c));
            }
        }
        for s in ctx.analysis.suspects.iter().filter(|s| s.host == host && s.boot == boot).take(max_tag_charts) {
            if let Some(c) = tag(ctx, s) {
                out.push((Role::Tag { host: host.to_owned(), boot, tag: s.tag.clone(), pool: s.pool }, c));
            }
        }
        if let Some(process) = top_process(ctx, host) {
            if let Some(c) = accounts(ctx, host, boot, &process) {
                out.push((Role::Accounts { host: host.to_owned(), process: process.clone() }, c));
            }
            if let Some(c) = handles(ctx, host, &process) {
                out.push((Role::Handles { host: host.to_owned(), process }, c));
            }
        }
        if let Some(c) = top_tags(ctx, host, boot) {
            out.push((Role::TopTags { host: host.to_owned(), boot }, c));
        }
        // The main boot's cleared caches, else those of the latest boot that has any.
        let cleared = |b: u32| ctx.analysis.rejected.iter().any(|r| r.host == host && r.boot == b);
        let rejected_boot = if cleared(boot) {
            Some(boot)
        } else {
            ctx.analysis.rejected.iter().filter(|r| r.host == host).map(|r| r.boot).max()
        };
        if let Some(c) = rejected_boot.and_then(|b| rejected(ctx, host, b)) {
            out.push((Role::Rejected { host: host.to_owned(), boot: rejected_boot.unwrap_or(boot) }, c));
        }
    }
    for (i, (_, chart)) in out.iter_mut().enumerate() {
        chart.id = format!("{:02}-{}", i + 1, chart.id);
    }
    out
}

/// The pool resource a tag's pool counts against.
pub fn resource_of(pool: PoolType) -> Resource {
    pool_resource(pool)
}
