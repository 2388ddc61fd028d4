//! Reports: the evidence an engineer attaches to a ticket, written to one folder.
//!
//! [`write_report`] turns an [`Analysis`] and the [`Dataset`] it came from into
//! - `index.html`: one self-contained file (inline CSS, charts as data URIs, no scripts, no network),
//!   verdict first, in the spirit of PAL's report (`../reference/peers.md` §2.5) without its faults;
//! - `summary.md`: the evidence table investigators paste into tickets, and the verdict;
//! - `analysis.json`: exactly what `poolscope analyze --format json` prints;
//! - `data/`: the normalised tables as CSV (and Parquet on request);
//! - `charts/`: every chart as PNG (or SVG).
//!
//! Exporters are pure functions of a [`Report`] (one per format, behind [`Exporter`]); log text is
//! untrusted and escaped by each exporter. Every file is written under a temporary name and renamed
//! into place, and never into an input folder.

pub mod chart;
pub mod data;
pub mod events;
pub mod fleet;
pub mod format;
pub mod html;
pub mod inputs;
pub mod json;
pub mod markdown;
pub mod series;
pub mod stacks;
pub mod tables;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rayon::prelude::*;

pub use chart::build::Role;
pub use chart::{Chart, ChartFormat};

use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::model::{Dataset, Diagnostic};

/// How a report is written.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Picture format of `charts/` (the HTML embeds the same pictures).
    pub charts: ChartFormat,
    /// Also write the data tables as Parquet.
    pub parquet: bool,
    /// The input paths: the report refuses to write into any of their folders.
    pub inputs: Vec<PathBuf>,
    /// Shown in the report's title bar; `None` leaves it out (byte-identical reruns).
    pub generated_at: Option<DateTime<Utc>>,
    /// Most suspect tags per host that get their own chart and section.
    pub max_tag_sections: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self { charts: ChartFormat::Png, parquet: false, inputs: Vec::new(), generated_at: None, max_tag_sections: 8 }
    }
}

/// The files a report wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFiles {
    /// `index.html`.
    pub index_html: PathBuf,
    /// `summary.md`.
    pub summary_md: PathBuf,
    /// `analysis.json`.
    pub analysis_json: PathBuf,
    /// Tables under `data/`.
    pub data: Vec<PathBuf>,
    /// Charts under `charts/`.
    pub charts: Vec<PathBuf>,
    /// Per-host pages under `hosts/` (fleet reports only; `index.html` is then the fleet overview).
    pub host_pages: Vec<PathBuf>,
}

/// A rendered chart and where it goes.
#[derive(Debug, Clone)]
pub struct RenderedChart {
    /// What the chart shows (the HTML report places charts by it).
    pub role: Role,
    /// The chart's data.
    pub chart: Chart,
    /// File name under `charts/`.
    pub file_name: String,
    /// Picture format.
    pub format: ChartFormat,
    /// The picture.
    pub bytes: Vec<u8>,
}

impl RenderedChart {
    /// The picture as a `data:` URI, for embedding in the self-contained HTML.
    pub fn data_uri(&self) -> String {
        use base64::Engine as _;
        format!("data:{};base64,{}", self.format.mime(), base64::engine::general_purpose::STANDARD.encode(&self.bytes))
    }
}

/// Everything the exporters render: the analysis, the data behind it and what the report derived.
pub struct Report<'a> {
    /// The analysis.
    pub analysis: &'a Analysis,
    /// The records it came from.
    pub dataset: &'a Dataset,
    /// Series lookup for statistics and tables.
    pub source: series::SeriesSource<'a>,
    /// Zone in which times are shown.
    pub tz: Tz,
    /// When the report was generated, if it should say so.
    pub generated_at: Option<DateTime<Utc>>,
    /// poolscope's version.
    pub version: &'static str,
    /// Input files with what they held.
    pub inputs: Vec<inputs::InputFile>,
    /// Exhaustion, crash and boot events, in time order.
    pub events: Vec<events::Notable>,
    /// Charts, in reading order.
    pub charts: Vec<RenderedChart>,
    /// Diagnostics of reading and analysis, deduplicated and sorted by file and line.
    pub diagnostics: Vec<Diagnostic>,
    /// Most suspect sections per host.
    pub max_tag_sections: usize,
}

impl<'a> Report<'a> {
    /// Builds the report model and renders its charts (in parallel; each chart is independent).
    pub fn build(analysis: &'a Analysis, dataset: &'a Dataset, options: &ReportOptions) -> Result<Self> {
        let mut report = Self::without_charts(analysis, dataset, options);
        let planned = {
            let ctx = chart::build::Context { analysis, source: &report.source, tz: report.tz, events: &report.events };
            chart::build::plan(&ctx, options.max_tag_sections)
        };
        let format = options.charts;
        report.charts = planned
            .into_par_iter()
            .map(|(role, chart)| {
                let bytes = chart::render(&chart, format)?;
                let file_name = format!("{}.{}", chart.id, format.extension());
                Ok(RenderedChart { role, chart, file_name, format, bytes })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(report)
    }

    /// Builds the report model without charts (the Markdown summary needs none).
    pub fn without_charts(analysis: &'a Analysis, dataset: &'a Dataset, options: &ReportOptions) -> Self {
        let diagnostics: BTreeSet<Diagnostic> =
            dataset.diagnostics.iter().chain(&analysis.diagnostics).cloned().collect();
        let diagnostics: Vec<Diagnostic> = diagnostics.into_iter().collect();
        Self {
            analysis,
            dataset,
            source: series::SeriesSource::new(analysis, dataset),
            tz: format::zone(&analysis.parameters.tz),
            generated_at: options.generated_at,
            version: env!("CARGO_PKG_VERSION"),
            inputs: inputs::summarise(dataset, &diagnostics),
            events: events::notable(dataset),
            charts: Vec::new(),
            diagnostics,
            max_tag_sections: options.max_tag_sections,
        }
    }

    /// The chart with a role, if one was drawn.
    pub fn chart(&self, role: &Role) -> Option<&RenderedChart> {
        self.charts.iter().find(|c| &c.role == role)
    }

    /// Hosts in the report, sorted.
    pub fn hosts(&self) -> Vec<&'a str> {
        hosts_of(self.analysis, self.dataset)
    }
}

/// The hosts of a dataset and its analysis, sorted.
fn hosts_of<'a>(analysis: &'a Analysis, dataset: &'a Dataset) -> Vec<&'a str> {
    let mut hosts: Vec<&str> = dataset.hosts.keys().map(String::as_str).collect();
    hosts.extend(analysis.verdicts.iter().map(|v| v.host.as_str()));
    hosts.extend(analysis.suspects.iter().map(|s| s.host.as_str()));
    hosts.sort_unstable();
    hosts.dedup();
    hosts
}

/// One output format.
pub trait Exporter {
    /// File name inside the report folder.
    fn file_name(&self) -> &'static str;
    /// The file's bytes.
    fn render(&self, report: &Report<'_>) -> Result<Vec<u8>>;
}

/// Refuses an output folder that is an input folder or inside one (the report must never write
/// next to the evidence, and a later run over the same folder would read the report's CSV back).
pub fn check_output_dir(dir: &Path, inputs: &[PathBuf]) -> Result<()> {
    crate::output::check_not_input(dir, inputs, "the report")
}

/// Writes `index.html`, `summary.md`, `analysis.json`, `data/` and `charts/` into `dir`; with several hosts,
/// a fleet report ([`fleet::write_host_by_host`], each host's records copied out of `dataset` in turn).
pub fn write_report(
    analysis: &Analysis,
    dataset: &Dataset,
    options: &ReportOptions,
    dir: &Path,
) -> Result<ReportFiles> {
    if hosts_of(analysis, dataset).len() > 1 {
        let load = |host: &str| fleet::host_dataset(dataset, host);
        return fleet::write_host_by_host(analysis, dataset, &load, options, dir);
    }
    prepare_output_dir(dir, &options.inputs)?;
    // The data tables (mostly CSV formatting and IO) are written while the charts are drawn.
    let (data, files) = rayon::join(
        || data::write(analysis, dataset, &dir.join("data"), options.parquet),
        || write_documents(analysis, dataset, options, dir),
    );
    let mut files = files?;
    files.data = data?;
    Ok(files)
}

/// Checks and creates the report folder, and removes the temporary files of a report that was killed
/// mid-write (the files under their final names are the previous report's, whole).
fn prepare_output_dir(dir: &Path, inputs: &[PathBuf]) -> Result<()> {
    check_output_dir(dir, inputs)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for sub in [dir.to_path_buf(), dir.join("data"), dir.join("charts")] {
        crate::output::remove_stale_temps(&sub);
    }
    Ok(())
}

/// Writes the charts, `analysis.json`, `summary.md` and `index.html` of a single-host report.
fn write_documents(analysis: &Analysis, dataset: &Dataset, options: &ReportOptions, dir: &Path) -> Result<ReportFiles> {
    let report = Report::build(analysis, dataset, options)?;
    let charts_dir = dir.join("charts");
    let mut files = ReportFiles::default();
    for chart in &report.charts {
        let path = charts_dir.join(&chart.file_name);
        crate::output::write_atomic(&path, &chart.bytes)?;
        files.charts.push(path);
    }
    remove_stale_charts(&charts_dir, &files.charts);
    let exporters: [&dyn Exporter; 3] = [&json::JsonExporter, &markdown::MarkdownExporter, &html::HtmlExporter];
    for exporter in exporters {
        let path = dir.join(exporter.file_name());
        crate::output::write_atomic(&path, &exporter.render(&report)?)?;
        match exporter.file_name() {
            json::FILE_NAME => files.analysis_json = path,
            markdown::FILE_NAME => files.summary_md = path,
            _ => files.index_html = path,
        }
    }
    Ok(files)
}

/// Removes charts an earlier report left in `charts/` that this one did not write (only files named
/// like ours: `NN-name.png` or `.svg`), so the folder matches the HTML.
fn remove_stale_charts(dir: &Path, written: &[PathBuf]) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.len() > 3
            && name.as_bytes()[..2].iter().all(u8::is_ascii_digit)
            && name.as_bytes()[2] == b'-'
            && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png") || e.eq_ignore_ascii_case("svg"));
        if ours && !written.contains(&path) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_inside_an_input_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("archive");
        std::fs::create_dir_all(&input).unwrap();
        let err = check_output_dir(&input.join("report"), std::slice::from_ref(&input)).unwrap_err();
        assert!(err.to_string().contains("inside the input folder"), "{err}");
        assert!(check_output_dir(&input, std::slice::from_ref(&input)).is_err());
        assert!(check_output_dir(&dir.path().join("report"), &[input]).is_ok());
    }

    #[test]
    fn an_input_file_protects_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("poolmon.log");
        std::fs::write(&file, b"x").unwrap();
        assert!(check_output_dir(&dir.path().join("out"), &[file]).is_err());
    }
}
