//! `analysis.json`: exactly what `poolscope analyze --format json` prints (the [`Analysis`] with its
//! `schema_version`, pretty-printed, with a trailing newline), so scripts read one format.

use super::{Exporter, Report};
use crate::analysis::Analysis;
use crate::error::{Error, Result};

/// File name inside the report folder.
pub const FILE_NAME: &str = "analysis.json";

/// The JSON bytes of an analysis: `serde_json` pretty form and a trailing newline.
pub fn analysis_json(analysis: &Analysis) -> Result<Vec<u8>> {
    let mut bytes = crate::untrusted::to_json_pretty(analysis)
        .map_err(|e| Error::Output { context: FILE_NAME.into(), message: e.to_string() })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Writes `analysis.json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn file_name(&self) -> &'static str {
        FILE_NAME
    }

    fn render(&self, report: &Report<'_>) -> Result<Vec<u8>> {
        analysis_json(report.analysis)
    }
}
