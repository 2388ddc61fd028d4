//! The one chart renderer, generic over the plotters backend (PNG and SVG share it).
//!
//! Layout: title and subtitle on top; panels stacked on the left; a legend column on the right, so a
//! legend never hides data; event markers as vertical lines whose labels are staggered when close.

use plotters::chart::DualCoordChartContext;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{self, Scale, Ticked};
use super::labels;
use super::{Chart, Dash, Line, LineStyle, MarkerKind, Panel, Shape, XAxis, EVENT, GREY, INK};
use crate::report::series::downsample;

/// Width of the legend column.
const LEGEND_W: u32 = 280;
/// Height of the title block.
const TITLE_H: u32 = 70;
/// Points per line after downsampling: about one min/max pair per pixel column of the plot.
const BUCKETS: usize = 450;
/// Markers drawn on each line.
const MARKS_PER_LINE: usize = 8;

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&INK)
}

fn shape_style(style: &LineStyle) -> ShapeStyle {
    ShapeStyle { color: style.color.to_rgba(), filled: true, stroke_width: style.width }
}

/// Draws `chart` on `root`.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (width, height) = root.dim_in_pixel();
    root.draw(&Text::new(chart.title.clone(), (20, 10), ("sans-serif", 24).into_font().style(FontStyle::Bold)))?;
    root.draw(&Text::new(chart.subtitle.clone(), (20, 42), font(15).color(&GREY)))?;
    let body = root.margin(TITLE_H, 6, 6, 6);
    let (plot, legend) = body.split_horizontally(width.saturating_sub(LEGEND_W + 12));
    let panels = if chart.panels.is_empty() { 1 } else { chart.panels.len() };
    let columns = chart.columns.clamp(1, panels);
    let rows = panels.div_ceil(columns);
    // Row-major: panel i is in row i / columns.
    let areas = plot.split_evenly((rows, columns));
    let max_ticks = (8 / columns).max(3);
    if chart.panels.is_empty() {
        let (w, h) = plot.dim_in_pixel();
        plot.draw(&Text::new("no data", ((w / 2) as i32 - 30, (h / 2) as i32), font(20).color(&GREY)))?;
    }
    for (i, (panel, area)) in chart.panels.iter().zip(&areas).enumerate() {
        // The x axis is titled under the bottom row only (a panel is bottom when none is below it).
        let bottom = i + columns >= chart.panels.len();
        draw_panel(root, area, panel, &chart.x, bottom, max_ticks)?;
    }
    draw_legend(&legend, chart, height)?;
    Ok(())
}

/// The raw y range of a panel's content on one axis.
fn extent(panel: &Panel, secondary: bool) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for line in panel.lines.iter().filter(|l| l.secondary == secondary) {
        for &(_, y) in &line.points {
            if y.is_finite() {
                lo = lo.min(y);
                hi = hi.max(y);
            }
        }
    }
    if !secondary {
        for level in &panel.levels {
            lo = lo.min(level.y);
            hi = hi.max(level.y);
        }
        for band in &panel.bands {
            lo = lo.min(band.from);
            hi = hi.max(band.to);
        }
    }
    (lo, hi)
}

/// Formats an x tick.
type TickLabel = Box<dyn Fn(&f64) -> String>;

/// X range, tick positions, tick label function and axis title.
fn x_ticks(x: &XAxis, max_ticks: usize) -> (f64, f64, Vec<f64>, TickLabel, String) {
    match x {
        XAxis::Time { start, end, tz, cut } => {
            let (start, tz) = (*start, *tz);
            let end = if *end > start { *end } else { start + 3600.0 };
            match cut {
                Some(cut) if cut.at > start && cut.at < end => {
                    // Ticks on the linear part, and one at the right edge for the instant it stands for.
                    let (mut ticks, fmt) = axis::time_ticks(start, cut.at, tz, max_ticks.saturating_sub(1).max(2));
                    ticks.push(end);
                    let title = axis::time_title(start, cut.at, tz);
                    let edge = cut.label.clone();
                    let label = move |v: &f64| {
                        if (*v - end).abs() < 1.0 {
                            edge.clone()
                        } else {
                            axis::time_label(*v, tz, fmt)
                        }
                    };
                    (start, end, ticks, Box::new(label), title)
                }
                _ => {
                    let (ticks, fmt) = axis::time_ticks(start, end, tz, max_ticks);
                    let title = axis::time_title(start, end, tz);
                    (start, end, ticks, Box::new(move |v: &f64| axis::time_label(*v, tz, fmt)), title)
                }
            }
        }
        XAxis::Uptime { end } => {
            let end = if *end > 0.0 { *end } else { 1.0 };
            let step = [1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 48.0, 72.0, 96.0, 168.0, 336.0, 720.0]
                .into_iter()
                .find(|s| end / s <= max_ticks as f64 + 2.0)
                .unwrap_or(1440.0);
            let count = (end / step).floor() as u32;
            let ticks: Vec<f64> = (0..=count).map(|k| f64::from(k) * step).collect();
            (0.0, end, ticks, Box::new(|v: &f64| format!("{v:.0} h")), "Hours since boot".to_owned())
        }
    }
}

/// Keeps the points inside the x range, scales y to display units and downsamples.
fn prepare(line: &Line, x0: f64, x1: f64, scale: &Scale) -> Vec<(f64, f64)> {
    let inside: Vec<(f64, f64)> = line
        .points
        .iter()
        .filter(|(x, y)| *x >= x0 && *x <= x1 && x.is_finite() && y.is_finite())
        .map(|&(x, y)| (x, scale.apply(y)))
        .collect();
    downsample(&inside, BUCKETS)
}

/// Draws a series on the primary or the secondary coordinates of a dual-coordinate chart.
macro_rules! draw_on {
    ($cc:expr, $secondary:expr, $series:expr) => {
        if $secondary {
            $cc.draw_secondary_series($series)?;
        } else {
            $cc.draw_series($series)?;
        }
    };
}

/// Markers whose labels start closer than this (pixels) share one label; wider steps are tried
/// when labels find no room.
const MARKER_MERGE_PX: [i32; 4] = [24, 60, 120, 240];
/// Height of a row of marker labels in the band above a plot.
const LABEL_ROW_H: i32 = 17;
/// Most rows of marker labels.
const LABEL_ROWS: usize = 4;
/// Space for the panel heading above the marker band.
const HEADING_H: u32 = 28;

/// Marker groups of a panel inside `x0..x1`: repeats of one event within 3% of the x range merge.
fn marker_groups(panel: &Panel, x: &XAxis, x0: f64, x1: f64) -> Vec<labels::MarkerGroup> {
    let inside: Vec<super::Marker> = panel.markers.iter().filter(|m| m.x >= x0 && m.x <= x1).cloned().collect();
    let tz = match x {
        XAxis::Time { tz, .. } => Some(*tz),
        XAxis::Uptime { .. } => None,
    };
    labels::group(&inside, 0.03 * (x1 - x0), |v| match tz {
        Some(tz) => axis::time_label(v, tz, "%H:%M"),
        None => format!("{v:.0} h"),
    })
}

/// The short form of a level's legend text, written on the line: `limit 2.71 GiB`.
fn level_tag(label: &str) -> &str {
    label.split(" (").next().unwrap_or(label)
}

fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    x: &XAxis,
    last: bool,
    max_ticks: usize,
) -> DrawResult<DB> {
    let (lo, hi) = extent(panel, false);
    let scale = Scale::new(panel.y.quantity, lo, hi);
    let scale2 = panel.y2.as_ref().map(|y2| {
        let (lo, hi) = extent(panel, true);
        Scale::new(y2.quantity, lo, hi)
    });
    let (x0, x1, ticks, x_label, x_title) = x_ticks(x, max_ticks);
    let builder = |top: u32| {
        let mut builder = ChartBuilder::on(area);
        builder
            .margin_top(top)
            .margin_left(4)
            .margin_right(8)
            .x_label_area_size(if last { 58 } else { 30 })
            .y_label_area_size(88);
        if scale2.is_some() {
            builder.right_y_label_area_size(88);
        }
        builder
    };

    // Marker labels go in a band between the heading and the plot, never over the data. The x
    // mapping does not depend on the band's height, so a probe chart places them first.
    let label_font = font(13);
    let (groups, placed, band_h, px_of) = {
        let probe = builder(HEADING_H).build_cartesian_2d(Ticked::new(x0, x1, Vec::new()), scale.min..scale.max)?;
        let px = |v: f64| probe.backend_coord(&(v, scale.max)).0;
        let (left, right) = (px(x0), px(x1));
        let band = labels::Band { left, right, base: 0, row_height: LABEL_ROW_H, max_rows: LABEL_ROWS };
        let groups = marker_groups(panel, x, x0, x1);
        let measure = |text: &str| root.estimate_text_size(text, &label_font).map_or(0, |(w, _)| w as i32 + 6);
        let (groups, placed) = labels::layout(groups, &MARKER_MERGE_PX, &band, &[], px, measure);
        let rows = placed.iter().flatten().map(|p| p.row + 1).max().unwrap_or(0);
        let band_h = if groups.is_empty() { 0 } else { rows as u32 * LABEL_ROW_H as u32 + 8 };
        let px_of: Vec<Vec<(i32, MarkerKind)>> =
            groups.iter().map(|g| g.members.iter().map(|&(v, k)| (px(v), k)).collect()).collect();
        (groups, placed, band_h, px_of)
    };

    let cc =
        builder(HEADING_H + band_h).build_cartesian_2d(Ticked::new(x0, x1, ticks.clone()), scale.min..scale.max)?;
    let (s2min, s2max) = scale2.map_or((scale.min, scale.max), |s| (s.min, s.max));
    let mut cc = cc.set_secondary_coord(Ticked::new(x0, x1, ticks), s2min..s2max);

    let y_label = |v: &f64| axis::value_label(*v);
    let grid = RGBColor(225, 225, 225);
    let mut mesh = cc.configure_mesh();
    mesh.x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .y_labels(7)
        .y_desc(scale.title(&panel.y.title))
        .label_style(font(14))
        .axis_desc_style(font(15))
        .bold_line_style(grid)
        .light_line_style(TRANSPARENT)
        .axis_style(GREY);
    if last {
        mesh.x_desc(x_title);
    }
    mesh.draw()?;
    if let (Some(s2), Some(y2)) = (scale2, &panel.y2) {
        cc.configure_secondary_axes()
            .y_label_formatter(&y_label)
            .y_labels(7)
            .y_desc(s2.title(&y2.title))
            .label_style(font(14))
            .axis_desc_style(font(15))
            .axis_style(GREY)
            .draw()?;
    }

    for band in &panel.bands {
        let rect = Rectangle::new(
            [(x0, scale.apply(band.from)), (x1, scale.apply(band.to).min(scale.max))],
            band.color.mix(0.16).filled(),
        );
        cc.draw_series(std::iter::once(rect))?;
    }
    for level in &panel.levels {
        let y = scale.apply(level.y);
        draw_styled(&mut cc, false, vec![(x0, y), (x1, y)], &level.style)?;
    }
    let s2 = scale2.unwrap_or(scale);
    for (i, line) in panel.lines.iter().enumerate() {
        let pts = prepare(line, x0, x1, if line.secondary { &s2 } else { &scale });
        if pts.is_empty() {
            continue;
        }
        draw_styled(&mut cc, line.secondary, pts.clone(), &line.style)?;
        draw_marks(&mut cc, line.secondary, &pts, &line.style, i, x0, x1)?;
    }

    let (plot_left, plot_top) = cc.backend_coord(&(x0, scale.max));
    let plot_bottom = cc.backend_coord(&(x1, scale.min)).1;
    if let XAxis::Time { cut: Some(cut), .. } = x {
        draw_cut(root, cc.backend_coord(&(cut.at, scale.max)).0, plot_top, plot_bottom)?;
    }

    // Marker lines through the plot: thin events first, then boots and projections on top, so a boot
    // at the same minute as a 41/6008 pair still shows.
    for pass in [MarkerKind::Event, MarkerKind::Projected, MarkerKind::Boot] {
        for &(px, kind) in px_of.iter().flatten().filter(|m| m.1 == pass) {
            draw_vertical(root, px, plot_top, plot_bottom, kind)?;
        }
    }
    // Levels are named on the plot, at the right end above their line.
    let tag_font = font(13);
    for level in &panel.levels {
        let text = level_tag(&level.label);
        let (w, _) = root.estimate_text_size(text, &tag_font)?;
        let y = cc.backend_coord(&(x0, scale.apply(level.y))).1;
        // At the left end: leaks start low, so the data is far below the limit there.
        // Above the line, or below it when the line runs along the top of the plot.
        let ty = if y - 18 >= plot_top + 2 { y - 18 } else { y + 5 };
        let tx = plot_left + 8;
        root.draw(&Rectangle::new([(tx - 3, ty - 1), (tx + w as i32 + 3, ty + 15)], WHITE.mix(0.9).filled()))?;
        root.draw(&Text::new(text.to_owned(), (tx, ty), tag_font.clone()))?;
    }

    // The band: a tick at every member, the label in its row, a leader down to the first member.
    for ((g, pxs), p) in groups.iter().zip(&px_of).zip(&placed) {
        let color = marker_style(g.kind).color;
        for &(px, kind) in pxs {
            let stroke = ShapeStyle { color: marker_style(kind).color.to_rgba(), filled: true, stroke_width: 2 };
            root.draw(&PathElement::new(vec![(px, plot_top - 6), (px, plot_top - 1)], stroke))?;
        }
        let Some(p) = p else { continue };
        let dy = plot_top - 2;
        if let Some(l) = p.leader {
            let thin = ShapeStyle { color: color.to_rgba(), filled: true, stroke_width: 1 };
            root.draw(&PathElement::new(vec![(l.x0, l.y0 + dy), (l.x0, l.y1 + dy)], thin))?;
        }
        root.draw(&Text::new(g.label.clone(), (p.label.x0 + 3, p.label.y0 + dy), label_font.clone().color(&color)))?;
    }

    // Panel heading, above the band.
    let (left, top) = area.get_base_pixel();
    root.draw(&Text::new(
        panel.title.clone(),
        (left + 92, top + 6),
        ("sans-serif", 16).into_font().style(FontStyle::Bold),
    ))?;
    Ok(())
}

/// A vertical marker line through the plot, in pixels.
fn draw_vertical<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    px: i32,
    top: i32,
    bottom: i32,
    kind: MarkerKind,
) -> DrawResult<DB> {
    let style = marker_style(kind);
    let (on, off, width, alpha) = match kind {
        MarkerKind::Event => (bottom - top + 1, 0, 1, 1.0),
        MarkerKind::Boot => (10, 6, 2, 1.0),
        MarkerKind::Projected => (3, 5, 2, 1.0),
    };
    let s = ShapeStyle { color: style.color.mix(alpha), filled: true, stroke_width: width };
    let mut y = top;
    while y <= bottom {
        let end = (y + on - 1).min(bottom);
        root.draw(&PathElement::new(vec![(px, y), (px, end)], s))?;
        y = end + 1 + off;
    }
    Ok(())
}

/// The break of a cut time axis: a white gap through the plot with two slanted strokes on each edge.
fn draw_cut<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, px: i32, top: i32, bottom: i32) -> DrawResult<DB> {
    root.draw(&Rectangle::new([(px - 4, top), (px + 4, bottom + 3)], WHITE.filled()))?;
    let s = ShapeStyle { color: GREY.to_rgba(), filled: true, stroke_width: 2 };
    for y in [top, bottom] {
        for dx in [-5, 3] {
            root.draw(&PathElement::new(vec![(px + dx - 3, y + 6), (px + dx + 3, y - 6)], s))?;
        }
    }
    Ok(())
}

/// The look of a vertical marker of a kind.
pub fn marker_style(kind: MarkerKind) -> LineStyle {
    match kind {
        MarkerKind::Boot => LineStyle::plain(GREY, Dash::Dashed, 2),
        MarkerKind::Event => LineStyle::plain(EVENT, Dash::Solid, 2),
        MarkerKind::Projected => LineStyle::plain(INK, Dash::Dotted, 2),
    }
}

fn draw_styled<'a, DB, X1, Y1, X2, Y2>(
    cc: &mut DualCoordChartContext<'a, DB, Cartesian2d<X1, Y1>, Cartesian2d<X2, Y2>>,
    secondary: bool,
    pts: Vec<(f64, f64)>,
    style: &LineStyle,
) -> DrawResult<DB>
where
    DB: DrawingBackend + 'a,
    X1: Ranged<ValueType = f64>,
    Y1: Ranged<ValueType = f64>,
    X2: Ranged<ValueType = f64>,
    Y2: Ranged<ValueType = f64>,
{
    let s = shape_style(style);
    match style.dash {
        Dash::Solid => draw_on!(cc, secondary, LineSeries::new(pts, s)),
        Dash::Dashed => draw_on!(cc, secondary, DashedLineSeries::new(pts, 14, 8, s)),
        Dash::Dotted => draw_on!(cc, secondary, DashedLineSeries::new(pts, 3, 7, s)),
    }
    Ok(())
}

fn draw_marks<'a, DB, X1, Y1, X2, Y2>(
    cc: &mut DualCoordChartContext<'a, DB, Cartesian2d<X1, Y1>, Cartesian2d<X2, Y2>>,
    secondary: bool,
    pts: &[(f64, f64)],
    style: &LineStyle,
    index: usize,
    x0: f64,
    x1: f64,
) -> DrawResult<DB>
where
    DB: DrawingBackend + 'a,
    X1: Ranged<ValueType = f64>,
    Y1: Ranged<ValueType = f64>,
    X2: Ranged<ValueType = f64>,
    Y2: Ranged<ValueType = f64>,
{
    // A series of one point (one dump in a boot) draws no line: it is marked, or it would be missing from
    // the chart while its legend entry says it is there.
    let lone = pts.len() == 1;
    if style.shape == Shape::None && !lone {
        return Ok(());
    }
    // Shift each line's marks a little so marks of overlapping lines do not sit on each other.
    let offset = (index % 5) as f64 * 0.15 + 0.1;
    let mut chosen: Vec<(f64, f64)> = Vec::new();
    for k in 0..MARKS_PER_LINE {
        let target = x0 + (k as f64 + offset) / MARKS_PER_LINE as f64 * (x1 - x0);
        let i = pts.partition_point(|p| p.0 < target);
        if i < pts.len() && (pts[i].0 - target).abs() <= (x1 - x0) / MARKS_PER_LINE as f64 / 2.0 {
            chosen.push(pts[i]);
        }
    }
    if lone {
        chosen = pts.to_vec();
    }
    let filled = ShapeStyle { color: style.color.to_rgba(), filled: true, stroke_width: 1 };
    let open = ShapeStyle { color: style.color.to_rgba(), filled: false, stroke_width: 2 };
    let at = chosen.into_iter();
    match style.shape {
        Shape::Circle | Shape::None => draw_on!(cc, secondary, at.map(|c| Circle::new(c, 5, filled))),
        Shape::Ring => draw_on!(cc, secondary, at.map(|c| Circle::new(c, 5, open))),
        Shape::Triangle => draw_on!(cc, secondary, at.map(|c| TriangleMarker::new(c, 7, filled))),
        Shape::Cross => draw_on!(cc, secondary, at.map(|c| Cross::new(c, 5, open))),
        Shape::Square => {
            draw_on!(cc, secondary, at.map(|c| EmptyElement::at(c) + Rectangle::new([(-5, -5), (5, 5)], filled)));
        }
    }
    Ok(())
}

/// One legend row: what to draw as the sample, and the text.
enum Sample {
    Line(LineStyle),
    Band(RGBColor),
    Marker(LineStyle),
}

fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart, height: u32) -> DrawResult<DB> {
    let mut rows: Vec<(Sample, String)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for panel in &chart.panels {
        for line in &panel.lines {
            if seen.insert(line.label.clone()) {
                rows.push((Sample::Line(line.style), line.label.clone()));
            }
        }
        for level in &panel.levels {
            if seen.insert(level.label.clone()) {
                rows.push((Sample::Line(level.style), level.label.clone()));
            }
        }
        for band in &panel.bands {
            if seen.insert(band.label.clone()) {
                rows.push((Sample::Band(band.color), band.label.clone()));
            }
        }
    }
    let mut kinds: Vec<MarkerKind> = chart.panels.iter().flat_map(|p| p.markers.iter().map(|m| m.kind)).collect();
    kinds.sort();
    kinds.dedup();
    for kind in kinds {
        let text = match kind {
            MarkerKind::Boot => "boot (start of a boot)",
            MarkerKind::Event => "logged event (2004, 2019/2020, 6008, 41)",
            MarkerKind::Projected => "projected exhaustion",
        };
        rows.push((Sample::Marker(marker_style(kind)), text.to_owned()));
    }
    let text_style = font(14);
    let max_text = LEGEND_W as i32 - 70;
    let mut y = 34;
    for (sample, label) in rows {
        let lines = wrap(area, &label, &text_style, max_text)?;
        if y + 20 * lines.len() as i32 > height as i32 - TITLE_H as i32 - 10 {
            area.draw(&Text::new("…", (12, y), text_style.clone()))?;
            break;
        }
        let mid = y + 8;
        match sample {
            Sample::Line(style) => {
                draw_sample_line(area, &style, mid)?;
                let filled = ShapeStyle { color: style.color.to_rgba(), filled: true, stroke_width: 1 };
                let open = ShapeStyle { color: style.color.to_rgba(), filled: false, stroke_width: 2 };
                let c = (32, mid);
                match style.shape {
                    Shape::None => {}
                    Shape::Circle => area.draw(&Circle::new(c, 5, filled))?,
                    Shape::Ring => area.draw(&Circle::new(c, 5, open))?,
                    Shape::Triangle => area.draw(&TriangleMarker::new(c, 7, filled))?,
                    Shape::Cross => area.draw(&Cross::new(c, 5, open))?,
                    Shape::Square => area.draw(&Rectangle::new([(27, mid - 5), (37, mid + 5)], filled))?,
                }
            }
            Sample::Band(color) => {
                area.draw(&Rectangle::new([(10, mid - 8), (54, mid + 8)], color.mix(0.3).filled()))?;
            }
            Sample::Marker(style) => {
                let s = shape_style(&style);
                if style.dash == Dash::Solid {
                    area.draw(&PathElement::new(vec![(32, mid - 10), (32, mid + 10)], s))?;
                } else {
                    for k in 0..4 {
                        let y0 = mid - 10 + k * 6;
                        area.draw(&PathElement::new(vec![(32, y0), (32, y0 + 3)], s))?;
                    }
                }
            }
        }
        for (k, text) in lines.iter().enumerate() {
            area.draw(&Text::new(text.clone(), (64, y + 20 * k as i32), text_style.clone()))?;
        }
        y += 20 * lines.len() as i32 + 8;
    }
    Ok(())
}

fn draw_sample_line<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, style: &LineStyle, mid: i32) -> DrawResult<DB> {
    let s = shape_style(style);
    let segments: Vec<(i32, i32)> = match style.dash {
        Dash::Solid => vec![(10, 54)],
        Dash::Dashed => vec![(10, 22), (28, 40), (46, 54)],
        Dash::Dotted => vec![(10, 13), (19, 22), (28, 31), (37, 40), (46, 49)],
    };
    for (a, b) in segments {
        area.draw(&PathElement::new(vec![(a, mid), (b, mid)], s))?;
    }
    Ok(())
}

/// Wraps a legend label into lines of at most `max` pixels.
fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle<'_>,
    max: i32,
) -> Result<Vec<String>, DrawingAreaErrorKind<DB::ErrorType>> {
    let error = std::cell::RefCell::new(None);
    let lines = wrap_words(text, max, |s| match area.estimate_text_size(s, style) {
        Ok((w, _)) => w as i32,
        Err(e) => {
            error.borrow_mut().get_or_insert(e);
            0
        }
    });
    match error.into_inner() {
        Some(e) => Err(e),
        None => Ok(lines),
    }
}

/// Wraps `text` at spaces into as many lines as it needs, each at most `max` wide as `width`
/// measures (issue 10: legends lost their ends to `…`). A word wider than a line on its own is
/// broken between characters rather than cut.
pub fn wrap_words(text: &str, max: i32, width: impl Fn(&str) -> i32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if current.is_empty() { word.to_owned() } else { format!("{current} {word}") };
        if width(&candidate) <= max {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        // The word alone: split it where it overflows.
        for c in word.chars() {
            current.push(c);
            if width(&current) > max && current.chars().count() > 1 {
                current.pop();
                lines.push(std::mem::take(&mut current));
                current.push(c);
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legends_wrap_onto_as_many_lines_as_they_need() {
        // 8 px per character, 100 px lines: nothing is cut, every word survives in order.
        let width = |s: &str| 8 * s.chars().count() as i32;
        let label = "paged pool limit 2.71 GiB (event 2004 PagedPoolUsage (paged pool quota))";
        let lines = wrap_words(label, 120, width);
        assert!(lines.len() > 2, "{lines:?}");
        assert!(lines.iter().all(|l| width(l) <= 120), "{lines:?}");
        assert_eq!(lines.join(" "), label);
        assert!(!lines.concat().contains('…'));
        // A word longer than a line is broken, not lost.
        let long = wrap_words("SuperLongProcessNameWithoutSpaces.exe", 100, width);
        assert_eq!(long.concat(), "SuperLongProcessNameWithoutSpaces.exe");
        assert!(long.iter().all(|l| width(l) <= 100));
        assert_eq!(wrap_words("", 100, width), [""]);
    }

    /// A one-panel time chart over 0..100 000 s with `markers`.
    fn marked_chart(markers: Vec<super::super::Marker>) -> Chart {
        use super::super::{Level, YAxis};
        Chart {
            id: "t".into(),
            title: "t".into(),
            subtitle: String::new(),
            alt: String::new(),
            x: XAxis::Time { start: 0.0, end: 100_000.0, tz: chrono_tz::UTC, cut: None },
            panels: vec![Panel {
                title: "p".into(),
                y: YAxis { title: "Bytes".into(), quantity: super::super::Quantity::Bytes },
                y2: None,
                lines: vec![Line {
                    label: "total".into(),
                    points: (0..=100).map(|k| (f64::from(k) * 1000.0, 1e9 + f64::from(k) * 1e7)).collect(),
                    style: LineStyle::series(0),
                    secondary: false,
                }],
                bands: Vec::new(),
                levels: vec![Level {
                    label: "limit 2 GiB".into(),
                    y: 2.1e9,
                    style: LineStyle::plain(INK, Dash::Solid, 2),
                }],
                markers,
            }],
            columns: 1,
        }
    }

    #[test]
    fn a_boot_at_the_minute_of_a_crash_stays_visible_above_the_event_line() {
        use super::super::Marker;
        let m = |x: f64, label: &str, kind| Marker { x, label: label.into(), kind };
        let chart = marked_chart(vec![
            m(60_000.0, "41", MarkerKind::Event),
            m(60_000.0, "6008", MarkerKind::Event),
            m(60_030.0, "boot 1", MarkerKind::Boot),
        ]);
        let png = super::super::render_png(&chart).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        // Columns well inside the plot (axes are grey too): the boot's dashes are drawn over the event.
        let grey = (300..850)
            .flat_map(|x| (200..600).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == [GREY.0, GREY.1, GREY.2])
            .count();
        assert!(grey > 100, "{grey} boot pixels");
        let event = (300..850)
            .flat_map(|x| (80..600).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == [EVENT.0, EVENT.1, EVENT.2])
            .count();
        assert!(event > 20, "{event} event pixels");
    }

    /// Boot 1's Token handles (one dump in that boot) were missing from the handles-by-type chart: a series
    /// of one point draws no line, so it is marked.
    #[test]
    fn a_series_of_one_point_is_marked() {
        let mut chart = marked_chart(Vec::new());
        let colour = super::super::PALETTE[1];
        let mut style = LineStyle::series(1);
        style.shape = Shape::None;
        chart.panels[0].lines.push(Line {
            label: "one dump".into(),
            points: vec![(50_000.0, 1.5e9)],
            style,
            secondary: false,
        });
        let png = super::super::render_png(&chart).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        let marked = (100..880)
            .flat_map(|x| (60..650).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == [colour.0, colour.1, colour.2])
            .count();
        assert!(marked > 20, "{marked} pixels of the one-point series");
    }

    #[test]
    fn event_labels_sit_above_the_plot_not_on_the_data() {
        use super::super::Marker;
        let m = |x: f64, label: &str| Marker { x, label: label.into(), kind: MarkerKind::Event };
        let with =
            super::super::render_png(&marked_chart(vec![m(30_000.0, "2004"), m(70_000.0, "2020 paged")])).unwrap();
        let without = super::super::render_png(&marked_chart(Vec::new())).unwrap();
        let (a, b) =
            (image::load_from_memory(&with).unwrap().to_rgb8(), image::load_from_memory(&without).unwrap().to_rgb8());
        // The plot's top edge (first grid row of the y axis) moves down to make room for the band.
        let top = |img: &image::RgbImage| (60..700).find(|&y| img.get_pixel(500, y).0 != [255, 255, 255]).unwrap();
        assert!(top(&a) >= top(&b) + 14, "band: plot top {} vs {}", top(&a), top(&b));
    }

    #[test]
    fn events_win_over_boots_when_markers_merge() {
        assert_eq!(MarkerKind::Boot.max(MarkerKind::Event), MarkerKind::Event);
        assert_eq!(MarkerKind::Projected.max(MarkerKind::Event), MarkerKind::Event);
    }
}
