//! Charts: a small data model ([`Chart`]) built from the analysis by one function per chart kind, and
//! one renderer generic over plotters' `DrawingBackend`, so PNG and SVG share every line of drawing code.
//!
//! Readability rules (issue 7, PAL §2.5 of `peers.md`): 1200x700, at most about 12 series, the
//! Okabe-Ito palette plus a distinct dash and marker per series (survives greyscale printing and
//! colour-blind readers), binary units on byte axes, time axes in the host's zone (or UTC, labelled),
//! a legend beside the plot rather than over the data, and series downsampled to the pixel width.

pub mod axis;
pub mod build;
pub mod draw;
pub mod glyphs;
pub mod labels;

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{FontStyle, RGBColor};

use crate::error::{Error, Result};

/// Chart width in pixels.
pub const WIDTH: u32 = 1200;
/// Chart height in pixels.
pub const HEIGHT: u32 = 700;

/// Okabe-Ito colours for data series, in the order they are handed out (yellow is left out: it is
/// unreadable as a thin line on white). Black is kept for totals and limits.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(230, 159, 0),   // orange
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
];
/// Totals, limits and projections.
pub const INK: RGBColor = RGBColor(0, 0, 0);
/// Secondary text and boot markers.
pub const GREY: RGBColor = RGBColor(110, 110, 110);
/// Event markers (2004, 2019/2020, 41, ...): a neutral dark grey of their own, drawn solid, so they are not
/// read as the vermillion second data series (boots are lighter grey and dashed, projections black dotted).
pub const EVENT: RGBColor = RGBColor(64, 64, 64);
/// PAL's warning band (60-80% of the limit).
pub const WARNING: RGBColor = RGBColor(230, 159, 0);
/// PAL's critical band (80-100% of the limit).
pub const CRITICAL: RGBColor = RGBColor(213, 94, 0);

/// Picture format of chart files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChartFormat {
    /// PNG bitmaps (1200x700).
    #[default]
    Png,
    /// SVG vector drawings.
    Svg,
}

impl ChartFormat {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            ChartFormat::Png => "png",
            ChartFormat::Svg => "svg",
        }
    }

    /// MIME type, for data URIs.
    pub fn mime(self) -> &'static str {
        match self {
            ChartFormat::Png => "image/png",
            ChartFormat::Svg => "image/svg+xml",
        }
    }
}

/// What a y axis measures; decides its unit and tick labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Bytes, shown in one binary unit chosen from the axis range.
    Bytes,
    /// Counts (allocations, handles).
    Count,
}

/// Line dash pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dash {
    /// Solid.
    Solid,
    /// Long dashes.
    Dashed,
    /// Dots.
    Dotted,
}

/// Point marker shape, drawn on a few points of a line so lines differ without colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// No markers.
    None,
    /// Filled circle.
    Circle,
    /// Triangle.
    Triangle,
    /// Filled square.
    Square,
    /// Diagonal cross.
    Cross,
    /// Open circle.
    Ring,
}

/// How a line looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineStyle {
    /// Colour.
    pub color: RGBColor,
    /// Dash pattern.
    pub dash: Dash,
    /// Marker shape.
    pub shape: Shape,
    /// Stroke width in pixels.
    pub width: u32,
}

impl LineStyle {
    /// The style of the `i`-th data series: colour, marker and (after the palette runs out) dash
    /// all change, so no two of the first 12 series look alike even in greyscale.
    pub fn series(i: usize) -> Self {
        const SHAPES: [Shape; 5] = [Shape::Circle, Shape::Triangle, Shape::Square, Shape::Cross, Shape::Ring];
        Self {
            color: PALETTE[i % PALETTE.len()],
            dash: if (i / PALETTE.len()) % 2 == 0 { Dash::Solid } else { Dash::Dashed },
            shape: SHAPES[i % SHAPES.len()],
            width: 3,
        }
    }

    /// A plain line of a colour and dash.
    pub fn plain(color: RGBColor, dash: Dash, width: u32) -> Self {
        Self { color, dash, shape: Shape::None, width }
    }
}

/// One line on a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Legend text.
    pub label: String,
    /// (x, y) points: x in the chart's x unit, y in raw bytes or counts.
    pub points: Vec<(f64, f64)>,
    /// Look.
    pub style: LineStyle,
    /// Drawn against the panel's secondary (right) axis.
    pub secondary: bool,
}

/// A horizontal band (PAL's warning and critical ranges).
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Legend text.
    pub label: String,
    /// Lower edge, raw units.
    pub from: f64,
    /// Upper edge, raw units.
    pub to: f64,
    /// Fill colour (drawn translucent).
    pub color: RGBColor,
}

/// A horizontal line (a limit).
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// Legend text.
    pub label: String,
    /// Height, raw units.
    pub y: f64,
    /// Look.
    pub style: LineStyle,
}

/// What a vertical marker shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkerKind {
    /// A boot starts.
    Boot,
    /// The projected exhaustion time.
    Projected,
    /// Resource exhaustion, pool empty or an unexpected shutdown logged (wins when markers merge).
    Event,
}

/// A vertical marker line with a short label at its top.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Position, chart x unit.
    pub x: f64,
    /// Short label (`boot 1`, `2004`, `41`).
    pub label: String,
    /// Kind (decides the look).
    pub kind: MarkerKind,
}

/// One y axis.
#[derive(Debug, Clone, PartialEq)]
pub struct YAxis {
    /// Axis title without unit (the unit is appended).
    pub title: String,
    /// What it measures.
    pub quantity: Quantity,
}

/// One plot area with its own y axis (and optionally a second one on the right).
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Short heading drawn above the panel.
    pub title: String,
    /// Left axis.
    pub y: YAxis,
    /// Right axis, for twin-axis panels.
    pub y2: Option<YAxis>,
    /// Lines.
    pub lines: Vec<Line>,
    /// Horizontal bands.
    pub bands: Vec<Band>,
    /// Horizontal lines.
    pub levels: Vec<Level>,
    /// Vertical markers.
    pub markers: Vec<Marker>,
}

/// The x axis of a chart.
#[derive(Debug, Clone, PartialEq)]
pub enum XAxis {
    /// Absolute time: x is seconds since the Unix epoch, labelled in `tz`.
    Time {
        /// First instant shown.
        start: f64,
        /// Last instant shown.
        end: f64,
        /// Zone of the tick labels.
        tz: chrono_tz::Tz,
        /// A break in the axis: a projection far beyond the data is drawn at the right edge.
        cut: Option<AxisCut>,
    },
    /// Hours since boot (boots overlaid at uptime 0).
    Uptime {
        /// Last hour shown.
        end: f64,
    },
}

/// A break in a time axis (issue 10): the axis runs linearly from its start to `at`, then jumps to
/// `target`, which is drawn at the axis' `end`. It keeps the data readable when the projected exhaustion
/// is many times the observed span away, instead of squashing the data to the left edge.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisCut {
    /// Where the break is drawn (Unix seconds; the linear part ends here).
    pub at: f64,
    /// The instant the axis' right edge stands for.
    pub target: f64,
    /// Written under the right edge: the date it stands for (`Jun 12 2021`).
    pub label: String,
}

/// A whole chart: title, panels stacked top to bottom, one legend.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// File stem (`01-pool-totals-SRV01`), unique within a report.
    pub id: String,
    /// Title.
    pub title: String,
    /// Subtitle (host, boot, zone).
    pub subtitle: String,
    /// Text alternative for the HTML report and screen readers.
    pub alt: String,
    /// X axis.
    pub x: XAxis,
    /// Panels.
    pub panels: Vec<Panel>,
    /// Panels per row: 1 stacks them; more draws small multiples, each with its own y scale.
    pub columns: usize,
}

/// Registers the embedded `DejaVu` Sans as `sans-serif` once, so text renders without system fonts.
pub(crate) fn register_fonts() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Output { context: "charts".into(), message: "the embedded font could not be loaded".into() })
    }
}

fn chart_error(chart: &Chart, e: impl std::fmt::Display) -> Error {
    Error::Output { context: format!("chart {}", chart.id), message: e.to_string() }
}

/// Renders a chart to a PNG file's bytes.
pub fn render_png(chart: &Chart) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    register_fonts()?;
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = glyphs::GlyphFix::new(BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT))).into_drawing_area();
        draw::draw(&root, chart).map_err(|e| chart_error(chart, e))?;
        // As the plotters examples insist: present explicitly so a failure is not lost in Drop.
        root.present().map_err(|e| chart_error(chart, e))?;
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&pixels, WIDTH, HEIGHT, image::ColorType::Rgb8)
        .map_err(|e| chart_error(chart, e))?;
    Ok(png)
}

/// Renders a chart to an SVG document's bytes.
pub fn render_svg(chart: &Chart) -> Result<Vec<u8>> {
    register_fonts()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw::draw(&root, chart).map_err(|e| chart_error(chart, e))?;
        root.present().map_err(|e| chart_error(chart, e))?;
    }
    Ok(svg.into_bytes())
}

/// Renders a chart in the given format.
pub fn render(chart: &Chart, format: ChartFormat) -> Result<Vec<u8>> {
    match format {
        ChartFormat::Png => render_png(chart),
        ChartFormat::Svg => render_svg(chart),
    }
}
