//! Streaming exports of the pool-samples table: rows written snapshot by snapshot as the poolmon files are read
//! a second time, so memory is bounded by a few snapshots (plus one Parquet row group) whatever the archive's
//! size.
//!
//! The first read is [`crate::ingest::survey`]: it decides every snapshot's host and time exactly as the
//! analysis does (hosts from event records and paths, copied modification times cleared, day/month order
//! settled over the set of names) but keeps no rows. The second read, here, streams each file that gave pool
//! snapshots again with the same context, on a second thread, and takes each snapshot's host and time from the
//! survey. Files are written per host in the order of their first snapshot's time, each in file order; this is
//! the analysis' time order whenever a host's files do not overlap in time.

use std::collections::HashMap;
use std::io::Write;
use std::sync::mpsc;

use crate::error::{Error, Result};
use crate::frame;
use crate::ingest::ReadFile;
use crate::model::{Dataset, PoolSnapshot};
use crate::parse::{self, Format};

/// Rows buffered per Parquet row group (about 13 MB of rows at ~100 bytes each).
const PARQUET_ROW_GROUP_ROWS: usize = 128 * 1024;
/// Snapshots in flight between the reading thread and the writer.
const SNAPSHOTS_IN_FLIGHT: usize = 8;

/// One file to read again: its host and the survey's snapshots of it, in file order.
struct FilePlan<'a> {
    file: &'a ReadFile,
    host: &'a str,
    surveyed: Vec<&'a PoolSnapshot>,
}

/// The files that gave pool snapshots, per host (sorted) in the order of their first snapshot in the survey.
fn plan<'a>(survey: &'a Dataset, files: &'a [ReadFile]) -> Vec<FilePlan<'a>> {
    let by_path: HashMap<&str, &ReadFile> = files.iter().map(|f| (f.context.path.as_str(), f)).collect();
    let mut plans: Vec<FilePlan<'a>> = Vec::new();
    for (host, data) in &survey.hosts {
        let mut index: HashMap<&str, usize> = HashMap::new();
        for snapshot in &data.pool_snapshots {
            let path = snapshot.source.path.as_str();
            let Some(file) = by_path.get(path) else { continue };
            let i = *index.entry(path).or_insert_with(|| {
                plans.push(FilePlan { file, host: host.as_str(), surveyed: Vec::new() });
                plans.len() - 1
            });
            plans[i].surveyed.push(snapshot);
        }
    }
    for plan in &mut plans {
        plan.surveyed.sort_by(|a, b| a.source.cmp(&b.source));
    }
    plans
}

/// Reads the pool snapshots of the surveyed files again and hands each to `each` with its host, in the order
/// described in the module docs, with the host and time the survey decided. Reading runs on its own thread, so
/// `each` (formatting and writing) runs beside it. Stops at the first error `each` returns.
pub fn for_each_pool_snapshot(
    survey: &Dataset,
    files: &[ReadFile],
    format: Option<Format>,
    mut each: impl FnMut(&str, PoolSnapshot) -> Result<()>,
) -> Result<()> {
    let plans = plan(survey, files);
    let (sender, receiver) = mpsc::sync_channel::<(usize, PoolSnapshot)>(SNAPSHOTS_IN_FLIGHT);
    std::thread::scope(|scope| {
        let plans = &plans;
        scope.spawn(move || {
            for (i, plan) in plans.iter().enumerate() {
                // A send fails only when the writer stopped (an error); the rest is then not needed.
                let mut stopped = false;
                let parsed = parse::stream_file(&plan.file.path, format, &plan.file.context, &mut |s| {
                    stopped = stopped || sender.send((i, s)).is_err();
                });
                for s in parsed.pool_snapshots {
                    stopped = stopped || sender.send((i, s)).is_err();
                }
                if stopped {
                    return;
                }
            }
        });
        let mut seen = vec![0usize; plans.len()];
        for (i, mut snapshot) in receiver {
            let plan = &plans[i];
            if let Some(surveyed) = plan.surveyed.get(seen[i]) {
                snapshot.taken_at = surveyed.taken_at;
                snapshot.time_source = surveyed.time_source;
            }
            seen[i] += 1;
            snapshot.host = Some(plan.host.to_owned());
            // Dropping the receiver on error ends the reading thread at its next send.
            each(plan.host, snapshot)?;
        }
        Ok(())
    })
}

/// Appends one CSV field the way polars' writer does (`QuoteStyle::Necessary`): null empty, an empty string
/// `""`, quoted when it holds a comma, a quote or a line break, quotes doubled.
fn push_csv_field(buf: &mut Vec<u8>, field: Option<&str>) {
    let Some(s) = field else { return };
    if s.is_empty() {
        buf.extend_from_slice(b"\"\"");
        return;
    }
    if !s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        buf.extend_from_slice(s.as_bytes());
        return;
    }
    buf.push(b'"');
    for part in s.split('"').enumerate() {
        if part.0 > 0 {
            buf.extend_from_slice(b"\"\"");
        }
        buf.extend_from_slice(part.1.as_bytes());
    }
    buf.push(b'"');
}

/// Appends an unsigned integer and a comma.
fn push_number(buf: &mut Vec<u8>, n: u64) {
    buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    buf.push(b',');
}

/// Writes the pool-samples table as CSV, one snapshot at a time: the same bytes as
/// [`frame::pool_rows_frame`] written by [`frame::write_csv`].
pub struct PoolCsvWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
}

impl<W: Write> PoolCsvWriter<W> {
    /// Starts the table (writes the header).
    pub fn new(mut out: W) -> Result<Self> {
        let header = [
            frame::HOST,
            frame::BOOT,
            frame::TIME,
            frame::TAG,
            frame::POOL,
            frame::ALLOCS,
            frame::FREES,
            frame::DIFF,
            frame::BYTES,
            frame::PER_ALLOC,
            frame::DRIVER,
            frame::SOURCE_PATH,
            frame::SOURCE_LINE,
        ]
        .join(",");
        writeln!(out, "{header}").map_err(csv_error)?;
        Ok(Self { out, buf: Vec::with_capacity(1 << 16) })
    }

    /// Writes the rows of one snapshot of `host`.
    pub fn write(&mut self, host: &str, snapshot: &PoolSnapshot) -> Result<()> {
        // The fields every row of the snapshot shares, formatted once.
        let mut head = Vec::new();
        push_csv_field(&mut head, Some(host));
        head.extend_from_slice(b",,");
        if let Some(t) = snapshot.taken_at {
            head.extend_from_slice(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string().as_bytes());
        }
        head.push(b',');
        let mut tail = Vec::new();
        push_csv_field(&mut tail, Some(&snapshot.source.path));
        tail.push(b',');
        if let Some(line) = snapshot.source.line {
            tail.extend_from_slice(itoa::Buffer::new().format(line).as_bytes());
        }
        tail.push(b'\n');
        let buf = &mut self.buf;
        buf.clear();
        for row in &snapshot.rows {
            buf.extend_from_slice(&head);
            push_csv_field(buf, Some(&row.tag));
            buf.push(b',');
            buf.extend_from_slice(row.pool.as_str().as_bytes());
            buf.push(b',');
            for n in [row.allocs, row.frees, row.diff, row.bytes, row.per_alloc] {
                push_number(buf, n);
            }
            push_csv_field(buf, row.driver.as_deref());
            buf.push(b',');
            buf.extend_from_slice(&tail);
        }
        self.out.write_all(buf).map_err(csv_error)
    }

    /// Flushes and gives the output back.
    pub fn finish(mut self) -> Result<W> {
        self.out.flush().map_err(csv_error)?;
        Ok(self.out)
    }
}

fn csv_error(e: std::io::Error) -> Error {
    Error::Output { context: "csv".into(), message: e.to_string() }
}

/// Writes the pool-samples table as Parquet, one row group per 131,072 rows.
pub struct PoolParquetWriter<W: Write> {
    out: Option<W>,
    writer: Option<polars::io::parquet::write::BatchedWriter<W>>,
    pending: Vec<(String, PoolSnapshot)>,
    pending_rows: usize,
    context: String,
}

impl<W: Write> PoolParquetWriter<W> {
    /// A writer into `out`; `context` names the output in errors.
    pub fn new(out: W, context: &str) -> Self {
        Self { out: Some(out), writer: None, pending: Vec::new(), pending_rows: 0, context: context.to_owned() }
    }

    /// Adds one snapshot's rows.
    pub fn write(&mut self, host: &str, snapshot: PoolSnapshot) -> Result<()> {
        self.pending_rows += snapshot.rows.len();
        self.pending.push((host.to_owned(), snapshot));
        if self.pending_rows >= PARQUET_ROW_GROUP_ROWS {
            self.flush_group()?;
        }
        Ok(())
    }

    fn error(&self, e: &polars::prelude::PolarsError) -> Error {
        Error::Output { context: self.context.clone(), message: e.to_string() }
    }

    /// Writes the buffered snapshots as one row group (the first one also starts the file with its schema).
    fn flush_group(&mut self) -> Result<()> {
        let snapshots: Vec<(&str, &PoolSnapshot)> = self.pending.iter().map(|(h, s)| (h.as_str(), s)).collect();
        let df = frame::pool_snapshots_frame(&snapshots, &|_, _| None)?;
        if self.writer.is_none() {
            let out = self.out.take().ok_or_else(|| Error::Output {
                context: self.context.clone(),
                message: "parquet writer already finished".into(),
            })?;
            let writer = polars::prelude::ParquetWriter::new(out).batched(df.schema()).map_err(|e| self.error(&e))?;
            self.writer = Some(writer);
        }
        if let Some(writer) = self.writer.as_mut() {
            if df.height() > 0 {
                writer
                    .write_batch(&df)
                    .map_err(|e| Error::Output { context: self.context.clone(), message: e.to_string() })?;
            }
        }
        self.pending.clear();
        self.pending_rows = 0;
        Ok(())
    }

    /// Writes what is buffered and the file's footer.
    pub fn finish(mut self) -> Result<()> {
        self.flush_group()?;
        if let Some(writer) = self.writer.take() {
            writer.finish().map_err(|e| self.error(&e))?;
        }
        Ok(())
    }
}

/// Appends `value` as pretty JSON whose lines after the first are indented by `indent` spaces (how serde_json's
/// pretty printer nests it at that depth; JSON strings hold no raw line breaks, so every `\n` is structure).
pub fn push_pretty_json(out: &mut Vec<u8>, value: &impl serde::Serialize, indent: usize) -> Result<()> {
    let text = crate::untrusted::to_json_pretty_string(value)
        .map_err(|e| Error::Output { context: "json".into(), message: e.to_string() })?;
    let pad = format!("\n{}", " ".repeat(indent));
    out.extend_from_slice(text.replace('\n', &pad).as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_like_polars() {
        let cases = [
            (None, ""),
            (Some(""), "\"\""),
            (Some("Toke"), "Toke"),
            (Some("Ntf "), "Ntf "),
            (Some("a,b"), "\"a,b\""),
            (Some("say \"hi\""), "\"say \"\"hi\"\"\""),
            (Some("two\nlines"), "\"two\nlines\""),
        ];
        for (field, want) in cases {
            let mut buf = Vec::new();
            push_csv_field(&mut buf, field);
            assert_eq!(String::from_utf8(buf).unwrap(), want, "{field:?}");
        }
    }
}
