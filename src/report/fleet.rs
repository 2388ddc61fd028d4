//! Fleet reports (issue 10): when a report covers several hosts, `index.html` becomes an overview —
//! one row per host with its worst suspect, rate and projected exhaustion, and a bar chart of those
//! rates — that links a page per host under `hosts/`, each the single-host report of that host.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use image::ImageEncoder;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use plotters::prelude::*;

use super::chart::axis::{value_label, Scale};
use super::chart::build::main_boot;
use super::chart::glyphs::GlyphFix;
use super::chart::{Quantity, CRITICAL, GREY, INK, PALETTE};
use super::{data, format, html as page, inputs, json, markdown, Report, ReportFiles, ReportOptions};
use crate::analysis::{Analysis, Resource};
use crate::error::{Error, Result};
use crate::model::{Dataset, PoolType};

/// Folder of the per-host pages.
pub const HOSTS_DIR: &str = "hosts";
/// File name of the fleet chart under `charts/`.
pub const CHART_FILE: &str = "00-fleet-worst-suspects.png";

/// One host of the fleet table.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetRow {
    /// Host.
    pub host: String,
    /// The boot the page details.
    pub boot: u32,
    /// The verdict found a leak.
    pub leak_found: bool,
    /// The worst suspect: tag, pool and sustained bytes per hour.
    pub worst: Option<(String, PoolType, f64)>,
    /// The earliest projected exhaustion of the boot, and of what.
    pub exhaustion: Option<(DateTime<Utc>, Resource)>,
    /// Link to the host's page, relative to `index.html`.
    pub page: String,
    /// What was read for the host: files, and their error and warning diagnostics (one summary per host; the
    /// host's page lists them).
    pub inputs: HostInputs,
}

/// One host's input files in a line of the fleet table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostInputs {
    /// Files whose records were filed under the host.
    pub files: usize,
    /// Error diagnostics about those files.
    pub errors: usize,
    /// Warning diagnostics about those files.
    pub warnings: usize,
}

impl HostInputs {
    /// `12 files, 1 error, 3 warnings`.
    pub fn words(&self) -> String {
        let n = |k: usize, one: &str, many: &str| {
            format!("{} {}", format::count(k as i64), if k == 1 { one } else { many })
        };
        format!(
            "{}, {}, {}",
            n(self.files, "file", "files"),
            n(self.errors, "error", "errors"),
            n(self.warnings, "warning", "warnings")
        )
    }
}

/// The fleet table: every host, worst suspect rate first (hosts without a suspect last, by name).
pub fn rows(report: &Report<'_>) -> Vec<FleetRow> {
    let a = report.analysis;
    let mut out: Vec<FleetRow> = report
        .hosts()
        .into_iter()
        .map(|host| {
            let boot = main_boot(a, host);
            let worst = a
                .suspects
                .iter()
                .filter(|s| s.host == host && s.boot == boot)
                .max_by(|x, y| x.bytes_per_hour.total_cmp(&y.bytes_per_hour).then_with(|| y.tag.cmp(&x.tag)))
                .map(|s| (s.tag.clone(), s.pool, s.bytes_per_hour));
            let exhaustion = a
                .projections
                .iter()
                .filter(|p| p.host == host && p.boot == boot)
                .filter_map(|p| p.exhaustion_at.map(|at| (at, p.pool)))
                .min_by_key(|(at, _)| *at);
            let mut inputs = HostInputs::default();
            for file in report.inputs.iter().filter(|f| f.hosts.contains(host)) {
                inputs.files += 1;
                inputs.errors += file.errors;
                inputs.warnings += file.warnings;
            }
            FleetRow {
                inputs,
                host: host.to_owned(),
                boot,
                leak_found: a.verdicts.iter().any(|v| v.host == host && v.leak_found),
                worst,
                exhaustion,
                page: page_path(host),
            }
        })
        .collect();
    let rate = |r: &FleetRow| r.worst.as_ref().map_or(f64::NEG_INFINITY, |w| w.2);
    out.sort_by(|x, y| rate(y).total_cmp(&rate(x)).then_with(|| x.host.cmp(&y.host)));
    out
}

/// The analysis restricted to one host (what its page shows).
pub fn host_analysis(a: &Analysis, host: &str) -> Analysis {
    let mine = |h: &str| h == host;
    Analysis {
        schema_version: a.schema_version,
        verdicts: a.verdicts.iter().filter(|v| mine(&v.host)).cloned().collect(),
        boots: a.boots.iter().filter(|b| mine(&b.host)).cloned().collect(),
        suspects: a.suspects.iter().filter(|s| mine(&s.host)).cloned().collect(),
        undecided: a.undecided.iter().filter(|u| mine(&u.host)).cloned().collect(),
        rejected: a.rejected.iter().filter(|r| mine(&r.host)).cloned().collect(),
        projections: a.projections.iter().filter(|p| mine(&p.host)).cloned().collect(),
        attributions: a.attributions.iter().filter(|x| mine(&x.host)).cloned().collect(),
        correlations: a.correlations.iter().filter(|c| mine(&c.host)).cloned().collect(),
        process_growth: a.process_growth.iter().filter(|g| mine(&g.host)).cloned().collect(),
        allocation_stacks: a.allocation_stacks.iter().filter(|s| mine(&s.host)).cloned().collect(),
        series: a.series.iter().filter(|s| mine(&s.host)).cloned().collect(),
        parameters: a.parameters.clone(),
        // The analysis names the host in its own messages; file diagnostics name the file.
        diagnostics: a
            .diagnostics
            .iter()
            .filter(|d| d.message.contains(host) || d.path.contains(host))
            .cloned()
            .collect(),
    }
}

/// The dataset restricted to one host.
pub fn host_dataset(d: &Dataset, host: &str) -> Dataset {
    Dataset {
        hosts: d.hosts.iter().filter(|(h, _)| *h == host).map(|(h, data)| (h.clone(), data.clone())).collect(),
        diagnostics: d
            .diagnostics
            .iter()
            .filter(|x| x.path.contains(host) || x.message.contains(host))
            .cloned()
            .collect(),
    }
}

/// One host's records for a fleet report: the same read its analysis made ([`crate::ingest::load_host`] of the
/// host, or a copy out of a dataset held in memory).
pub type LoadHostDataset<'a> = dyn Fn(&str) -> Dataset + Sync + 'a;

/// Writes a fleet report host by host: each host's records are loaded (`load`), its rows appended to `data/`,
/// its charts drawn and its page `hosts/<host>.html` written, and all of it dropped before the next host, so
/// memory is bounded by the largest host, not the fleet. Then `analysis.json` (every host), `summary.md` (every
/// verdict, each host's section as its page has it) and the fleet `index.html` ranking the hosts.
///
/// `survey` is the fleet as surveyed: hosts (their records may be missing; `load` supplies them), events and
/// the diagnostics of the survey.
pub fn write_host_by_host(
    analysis: &Analysis,
    survey: &Dataset,
    load: &LoadHostDataset<'_>,
    options: &ReportOptions,
    dir: &Path,
) -> Result<ReportFiles> {
    super::prepare_output_dir(dir, &options.inputs)?;
    crate::output::remove_stale_temps(&dir.join(HOSTS_DIR));
    let charts_dir = dir.join("charts");
    let mut report = Report::without_charts(analysis, survey, options);
    let mut tables = data::TableWriters::create(&dir.join("data"), options.parquet)?;
    let mut records = BTreeMap::new();
    let mut files = ReportFiles::default();
    let mut sections = Vec::new();
    let hosts: Vec<String> = report.hosts().into_iter().map(str::to_owned).collect();
    for host in &hosts {
        let loaded = load(host);
        tables.append(analysis, &loaded)?;
        inputs::add_records(&mut records, &loaded);
        let mut dataset = host_dataset(survey, host);
        dataset.hosts = loaded.hosts;
        let host_analysis = host_analysis(analysis, host);
        let page = Report::build(&host_analysis, &dataset, options)?;
        for chart in &page.charts {
            let path = charts_dir.join(&chart.file_name);
            crate::output::write_atomic(&path, &chart.bytes)?;
            files.charts.push(path);
        }
        sections.push(markdown::host_section(&page, host));
        let path = dir.join(page_path(host));
        crate::output::write_atomic(&path, host_page(&page).as_bytes())?;
        files.host_pages.push(path);
    }
    files.data = tables.finish()?;
    report.inputs = inputs::finish(records, &report.diagnostics);
    files.analysis_json = dir.join(json::FILE_NAME);
    crate::output::write_atomic(&files.analysis_json, &json::analysis_json(analysis)?)?;
    files.summary_md = dir.join(markdown::FILE_NAME);
    crate::output::write_atomic(&files.summary_md, markdown::render_with_sections(&report, &sections).as_bytes())?;
    let rows = rows(&report);
    let png = chart(&rows)?;
    let chart_path = charts_dir.join(CHART_FILE);
    crate::output::write_atomic(&chart_path, &png)?;
    files.charts.push(chart_path);
    super::remove_stale_charts(&charts_dir, &files.charts);
    files.index_html = dir.join(page::FILE_NAME);
    crate::output::write_atomic(&files.index_html, render(&report, &rows, &png).into_string().as_bytes())?;
    Ok(files)
}

/// A host's page of a fleet report: its single-host report with the way back to the fleet.
fn host_page(page: &Report<'_>) -> String {
    let html = page::render(page).into_string();
    // One focused addition to the host page: the way back to the fleet.
    let back = "<main><p class=\"note\"><a href=\"../index.html\">← Fleet overview</a></p>";
    html.replacen("<main>", back, 1)
}

/// Where a host's page goes, relative to the report folder (and to `index.html`).
fn page_path(host: &str) -> String {
    format!("{HOSTS_DIR}/{}.html", format::file_stem(host))
}

/// The fleet `index.html`.
pub fn render(report: &Report<'_>, rows: &[FleetRow], png: &[u8]) -> Markup {
    use base64::Engine as _;
    let uri = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png));
    let leaking = rows.iter().filter(|r| r.leak_found).count();
    let title = format!("Kernel pool leak report: fleet of {} hosts", rows.len());
    let (w, h) = chart_size(rows.len());
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(page::CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(format!("poolscope {}", report.version));
                title { (title) }
                style { (PreEscaped(page::STYLE)) }
            }
            body {
                header.titlebar {
                    h1 { (title) }
                    p { "poolscope " (report.version) " · " (report.inputs.len()) " input file(s) · times in " (report.tz.name()) }
                }
                main {
                    section #verdict {
                        h2 { "Fleet verdict" }
                        div.verdict.leak[leaking > 0] {
                            span.flag { @if leaking > 0 { "leak found on " (leaking) " of " (rows.len()) " hosts" } @else { "no significant leak" } }
                            p { "One row per host, worst suspect first. Each host links to its own report page." }
                        }
                        (table(rows, report))
                        @let unread: Vec<&inputs::InputFile> = report.inputs.iter().filter(|f| f.hosts.is_empty()).collect();
                        @if !unread.is_empty() {
                            p.note {
                                (unread.len()) " input file(s) gave no records for any host ("
                                (unread.iter().map(|f| f.errors).sum::<usize>()) " error(s)); analysis.json lists their diagnostics: "
                                @for (i, f) in unread.iter().take(5).enumerate() {
                                    @if i > 0 { ", " }
                                    code { (format::clean(&f.path)) }
                                }
                                @if unread.len() > 5 { ", …" }
                            }
                        }
                    }
                    section #fleet-chart {
                        h2 { "Worst suspect per host" }
                        figure {
                            img src=(uri) alt="Sustained growth of each host's worst suspect tag, one bar per host" width=(w) height=(h);
                            figcaption { "Sustained growth (Theil-Sen, bytes per hour) of each host's worst suspect. File: charts/" (CHART_FILE) }
                        }
                    }
                    footer {
                        "Written by poolscope " (report.version) ". analysis.json holds every number of every host; "
                        "summary.md is the ticket-ready summary; data/ holds the normalised tables."
                    }
                }
            }
        }
    }
}

fn table(rows: &[FleetRow], report: &Report<'_>) -> Markup {
    html! {
        table {
            thead { tr { th { "Host" } th { "Boot" } th { "Verdict" } th { "Worst suspect" } th.num { "Rate" } th { "Projected exhaustion" } th { "Inputs" } } }
            tbody {
                @for r in rows {
                    tr {
                        td { a href=(r.page) { (format::clean(&r.host)) } }
                        td.num { (r.boot) }
                        td { @if r.leak_found { "leak found" } @else { "no significant leak" } }
                        @match &r.worst {
                            Some((tag, pool, rate)) => {
                                td { span.tag { (format::tag(tag)) } " (" (pool) ")" }
                                td.num { (format::bytes_rate(*rate)) }
                            }
                            None => { td { "none" } td.num { "-" } }
                        }
                        td {
                            @match r.exhaustion {
                                Some((at, resource)) => { (format::time_short(at, report.tz)) " (" (resource_words(resource)) ")" }
                                None => { "none projected" }
                            }
                        }
                        td { (r.inputs.words()) }
                    }
                }
            }
        }
    }
}

fn resource_words(resource: Resource) -> &'static str {
    match resource {
        Resource::Paged => "paged pool",
        Resource::Nonpaged => "nonpaged pool",
        Resource::Commit => "commit",
    }
}

/// Height of the fleet chart: a bar row per host.
fn chart_size(hosts: usize) -> (u32, u32) {
    let n = u32::try_from(hosts).unwrap_or(u32::MAX).min(60);
    (1200, (130 + 34 * n).clamp(240, 2200))
}

/// The fleet chart: one horizontal bar per host, its worst suspect's sustained rate, labelled with
/// the tag and rate; hosts without a suspect get no bar and say so.
pub fn chart(rows: &[FleetRow]) -> Result<Vec<u8>> {
    let (w, h) = chart_size(rows.len());
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    let failed = |e: &dyn std::fmt::Display| Error::Output { context: "fleet chart".into(), message: e.to_string() };
    super::chart::register_fonts()?;
    {
        let root = GlyphFix::new(BitMapBackend::with_buffer(&mut pixels, (w, h))).into_drawing_area();
        draw(&root, rows, w).map_err(|e| failed(&e))?;
        root.present().map_err(|e| failed(&e))?;
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&pixels, w, h, image::ColorType::Rgb8)
        .map_err(|e| failed(&e))?;
    Ok(png)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    rows: &[FleetRow],
    width: u32,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let font = |size: u32| ("sans-serif", size).into_font().color(&INK);
    root.fill(&WHITE)?;
    root.draw(&Text::new(
        "Worst suspect per host (sustained growth)",
        (20, 10),
        ("sans-serif", 24).into_font().style(FontStyle::Bold),
    ))?;
    let shown: Vec<&FleetRow> = rows.iter().take(60).collect();
    let max = shown.iter().filter_map(|r| r.worst.as_ref().map(|w| w.2)).fold(0.0, f64::max);
    let scale = Scale::new(Quantity::Bytes, 0.0, max.max(1.0));
    let (left, right, top, row_h) = (200, width as i32 - 260, 70, 34);
    let px = |v: f64| left + ((scale.apply(v) / scale.max) * f64::from(right - left)) as i32;
    // Grid and ticks in one binary unit per hour.
    let bottom = top + row_h * shown.len() as i32;
    for k in 0..=5 {
        let v = scale.max * f64::from(k) / 5.0;
        let x = left + (f64::from(right - left) * f64::from(k) / 5.0) as i32;
        root.draw(&PathElement::new(vec![(x, top - 4), (x, bottom)], RGBColor(225, 225, 225)))?;
        root.draw(&Text::new(format!("{} {}/h", value_label(v), scale.unit), (x - 24, bottom + 6), font(14)))?;
    }
    for (i, r) in shown.iter().enumerate() {
        let y = top + row_h * i as i32;
        root.draw(&Text::new(format::clean(&r.host), (20, y + 8), font(15)))?;
        match &r.worst {
            Some((tag, pool, rate)) => {
                let colour = if r.leak_found { CRITICAL } else { PALETTE[0] };
                root.draw(&Rectangle::new([(left, y + 5), (px(*rate).max(left + 2), y + row_h - 5)], colour.filled()))?;
                let label = format!("{} ({pool}) {}", format::tag(tag), format::bytes_rate(*rate));
                root.draw(&Text::new(label, (px(*rate).max(left + 2) + 8, y + 8), font(14)))?;
            }
            None => root.draw(&Text::new("no suspect", (left + 8, y + 8), font(14).color(&GREY)))?,
        }
    }
    root.draw(&PathElement::new(vec![(left, top - 4), (left, bottom)], GREY))?;
    Ok(())
}
