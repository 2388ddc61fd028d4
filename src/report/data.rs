//! `data/`: the normalised tables (pool samples with their boot, handle samples, events) as CSV, and
//! as Parquet on request, through [`crate::frame`] so the columns are those `poolscope parse` writes.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::frame;
use crate::model::Dataset;

/// The boot of a sample time according to the analysis (the boot whose span holds it).
fn boot_of(analysis: &Analysis, host: &str, at: Option<DateTime<Utc>>) -> Option<u32> {
    let at = at?;
    analysis.boots.iter().find(|b| b.host == host && at >= b.start && at <= b.end).map(|b| b.boot)
}

/// Writes the tables into `dir` and returns the paths written. Tables are built and written one at a
/// time, and CSV is streamed into its temporary file: the pool table of a seed-scale archive is
/// millions of rows and hundreds of megabytes, which should not sit in memory twice.
pub fn write(analysis: &Analysis, dataset: &Dataset, dir: &Path, parquet: bool) -> Result<Vec<PathBuf>> {
    let boots = |host: &str, at: Option<DateTime<Utc>>| boot_of(analysis, host, at);
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut written = Vec::new();
    for name in ["pool_samples", "handle_samples", "events"] {
        let mut df = match name {
            "pool_samples" => frame::pool_rows_frame_with_boots(dataset, &boots)?,
            "handle_samples" => frame::handle_rows_frame(dataset)?,
            _ => frame::events_frame(dataset)?,
        };
        let path = dir.join(format!("{name}.csv"));
        crate::output::write_atomic_with(&path, |w| frame::write_csv(&mut df, w))?;
        written.push(path);
        if parquet {
            let path = dir.join(format!("{name}.parquet"));
            frame::write_parquet(&mut df, &path)?;
            written.push(path);
        }
    }
    Ok(written)
}
