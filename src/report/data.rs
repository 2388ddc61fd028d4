//! `data/`: the normalised tables (pool samples with their boot, handle samples, events) as CSV, and
//! as Parquet on request, through [`crate::frame`] so the columns are those `poolscope parse` writes.

use std::fs::File;
use std::io::BufWriter;
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
        write_streamed(&path, |w| frame::write_csv(&mut df, w))?;
        written.push(path);
        if parquet {
            let path = dir.join(format!("{name}.parquet"));
            frame::write_parquet(&mut df, &path)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Like [`crate::output::write_atomic`] (same temporary name, fsync, rename), but the content is
/// written by `fill` through a buffer instead of being held in memory first.
fn write_streamed(path: &Path, fill: impl FnOnce(&mut BufWriter<File>) -> Result<()>) -> Result<()> {
    let parent = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut writer = BufWriter::with_capacity(1 << 20, File::create(&tmp).map_err(|e| Error::io(&tmp, e))?);
        fill(&mut writer)?;
        let file = writer.into_inner().map_err(|e| Error::io(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_writes_leave_only_the_final_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        write_streamed(&path, |w| {
            use std::io::Write;
            w.write_all(b"a,b\n1,2\n").map_err(|e| Error::io("t.csv", e))
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n1,2\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_stream_removes_its_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let err = write_streamed(&path, |_| Err(Error::Usage("stop".into()))).unwrap_err();
        assert_eq!(err.to_string(), "stop");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
