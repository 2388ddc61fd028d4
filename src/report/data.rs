//! `data/`: the normalised tables (pool samples with their boot, handle samples, events) as CSV, and
//! as Parquet on request, through [`crate::frame`] so the columns are those `poolscope parse` writes.
//!
//! A fleet report writes the tables host by host ([`TableWriters::append`]): each host's rows are built,
//! written and dropped before the next host is read, so the tables of a fleet never sit in memory at once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use polars::io::parquet::write::BatchedWriter;
use polars::prelude::{CsvWriter, DataFrame, ParquetWriter, SerWriter};

use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::frame;
use crate::model::Dataset;
use crate::output::AtomicFile;

/// The tables under `data/`, in the order they are written.
const TABLES: [&str; 3] = ["pool_samples", "handle_samples", "events"];

/// The boot of a sample time according to the analysis (the boot whose span holds it).
fn boot_of(analysis: &Analysis, host: &str, at: Option<DateTime<Utc>>) -> Option<u32> {
    let at = at?;
    analysis.boots.iter().find(|b| b.host == host && at >= b.start && at <= b.end).map(|b| b.boot)
}

/// Writes the tables into `dir` and returns the paths written. Tables are built and written one at a
/// time, and CSV is streamed into its temporary file: the pool table of a seed-scale archive is
/// millions of rows and hundreds of megabytes, which should not sit in memory twice.
pub fn write(analysis: &Analysis, dataset: &Dataset, dir: &Path, parquet: bool) -> Result<Vec<PathBuf>> {
    let mut tables = TableWriters::create(dir, parquet)?;
    tables.append(analysis, dataset)?;
    tables.finish()
}

/// The tables of `data/` open for writing, each under its temporary name until [`TableWriters::finish`].
pub struct TableWriters {
    tables: Vec<TableFile>,
}

/// One table: its CSV (the header once, then each append's rows) and, on request, its Parquet file (a row
/// group per append).
struct TableFile {
    name: &'static str,
    csv: AtomicFile,
    header_written: bool,
    parquet: Option<ParquetFile>,
}

/// A Parquet file written in batches; the batched writer owns its output, so the file is shared with it and
/// taken back to be committed.
struct ParquetFile {
    file: Arc<Mutex<Option<AtomicFile>>>,
    writer: Option<BatchedWriter<SharedFile>>,
    path: PathBuf,
}

/// The write side of a [`ParquetFile`].
struct SharedFile(Arc<Mutex<Option<AtomicFile>>>);

impl Write for SharedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.lock().map_err(|_| std::io::Error::other("parquet output poisoned"))?.as_mut() {
            Some(file) => file.write(buf),
            None => Err(std::io::Error::other("parquet output already closed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.lock().map_err(|_| std::io::Error::other("parquet output poisoned"))?.as_mut() {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

impl TableWriters {
    /// Opens every table of `dir` (created when missing) for writing.
    pub fn create(dir: &Path, parquet: bool) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let tables = TABLES
            .iter()
            .map(|&name| {
                let parquet = parquet.then(|| -> Result<ParquetFile> {
                    let path = dir.join(format!("{name}.parquet"));
                    let file = Arc::new(Mutex::new(Some(AtomicFile::create(&path)?)));
                    Ok(ParquetFile { file, writer: None, path })
                });
                Ok(TableFile {
                    name,
                    csv: AtomicFile::create(&dir.join(format!("{name}.csv")))?,
                    header_written: false,
                    parquet: parquet.transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { tables })
    }

    /// Appends the rows of `dataset` (a host, or a whole archive) to every table.
    pub fn append(&mut self, analysis: &Analysis, dataset: &Dataset) -> Result<()> {
        let boots = |host: &str, at: Option<DateTime<Utc>>| boot_of(analysis, host, at);
        for table in &mut self.tables {
            // One table's frame at a time: the pool table is the big one.
            let mut df = match table.name {
                "pool_samples" => frame::pool_rows_frame_with_boots(dataset, &boots)?,
                "handle_samples" => frame::handle_rows_frame(dataset)?,
                _ => frame::events_frame(dataset)?,
            };
            table.append(&mut df)?;
        }
        Ok(())
    }

    /// Puts every table in place and returns the paths written.
    pub fn finish(self) -> Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for table in self.tables {
            let path = table.csv.path().to_path_buf();
            table.csv.commit()?;
            written.push(path);
            if let Some(parquet) = table.parquet {
                written.push(parquet.finish()?);
            }
        }
        Ok(written)
    }
}

impl TableFile {
    fn append(&mut self, df: &mut DataFrame) -> Result<()> {
        let csv_error =
            |e: polars::prelude::PolarsError| Error::Output { context: "csv".into(), message: e.to_string() };
        if !self.header_written || df.height() > 0 {
            CsvWriter::new(&mut self.csv)
                .include_header(!self.header_written)
                .with_datetime_format(Some(frame::CSV_DATETIME_FORMAT.into()))
                .finish(df)
                .map_err(csv_error)?;
            self.header_written = true;
        }
        if let Some(parquet) = &mut self.parquet {
            parquet.append(df)?;
        }
        Ok(())
    }
}

impl ParquetFile {
    fn error(&self, e: &dyn std::fmt::Display) -> Error {
        Error::Output { context: self.path.display().to_string(), message: e.to_string() }
    }

    fn append(&mut self, df: &DataFrame) -> Result<()> {
        if self.writer.is_none() {
            // polars' default compression is zstd, as frame::write_parquet writes.
            let writer = ParquetWriter::new(SharedFile(Arc::clone(&self.file)))
                .batched(df.schema())
                .map_err(|e| self.error(&e))?;
            self.writer = Some(writer);
        }
        if df.height() > 0 {
            if let Some(writer) = self.writer.as_mut() {
                writer.write_batch(df).map_err(|e| self.error(&e))?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<PathBuf> {
        let Some(writer) = self.writer.take() else {
            // No table was appended: there is no schema to write (the temporary file goes with `self`).
            return Err(self.error(&"no rows were given to the Parquet table"));
        };
        writer.finish().map_err(|e| self.error(&e))?;
        drop(writer);
        let file = self.file.lock().map_err(|e| self.error(&e))?.take();
        match file {
            Some(file) => file.commit()?,
            None => return Err(self.error(&"parquet output already closed")),
        }
        Ok(self.path)
    }
}
