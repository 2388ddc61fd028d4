//! Binary `.evtx` logs through the evtx crate (events reference §3). This is the only module that uses
//! the crate: each record is rendered to XML and read by [`super::xml::record`], so binary logs and XML
//! exports share one mapping.
//!
//! Files come from crashed or half-copied machines, so: a dirty header is normal (said as info); a chunk
//! with a bad checksum is still read (warning); a chunk or record that cannot be read is a diagnostic
//! with its byte offset, and reading carries on; a file cut inside a chunk has the records before the cut
//! read; a panic inside the crate loses only its chunk. Time is bounded per chunk by the crate's own
//! render budgets, and per file by a deadline checked between chunk batches.

use std::error::Error as StdError;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use evtx::err::EvtxError;
use evtx::{EvtxChunkData, EvtxParser, HeaderFlags, ParserSettings};
use rayon::prelude::*;

use super::xml;
use crate::model::{Diagnostic, Event, Severity, SourceRef};

/// The file header block (§3).
const FILE_HEADER_SIZE: u64 = 4096;
/// Every chunk is 64 KiB.
const CHUNK_SIZE: u64 = 65536;
/// A chunk header; a cut chunk shorter than this has nothing to read.
const CHUNK_HEADER_SIZE: usize = 512;
/// Most records a chunk can hold (a record takes at least a header and a little `BinXML`).
const MAX_RECORDS_PER_CHUNK: usize = (CHUNK_SIZE as usize - CHUNK_HEADER_SIZE) / 32;
/// A record header precedes each record's `BinXML`.
const RECORD_HEADER_SIZE: u64 = 24;

/// How long one file may take: generous for real logs on a busy machine (a 100 MiB log takes seconds),
/// short enough that a pathological file cannot stall a run.
fn deadline_for(len: u64) -> Duration {
    Duration::from_secs(30 + (len >> 20))
}

/// Records and diagnostics of one chunk.
#[derive(Default)]
struct ChunkOut {
    events: Vec<Event>,
    diags: Vec<Diagnostic>,
}

/// An error and its causes on one line (the crate's top-level messages alone say little).
fn describe(err: &dyn StdError) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

/// The file offset an error points at, when it says.
fn error_offset(err: &EvtxError, chunk_base: Option<u64>) -> Option<u64> {
    match err {
        EvtxError::FailedToParseChunk { chunk_id, .. } => Some(FILE_HEADER_SIZE + chunk_id.saturating_mul(CHUNK_SIZE)),
        EvtxError::FailedToReadRecordAt { chunk: Some(chunk), offset, .. } => {
            Some(FILE_HEADER_SIZE + chunk.saturating_mul(CHUNK_SIZE) + offset)
        }
        EvtxError::FailedToReadRecordAt { chunk: None, offset, .. } => chunk_base.map(|b| b + offset),
        _ => chunk_base,
    }
}

fn diagnostic(path: &str, offset: Option<u64>, severity: Severity, message: String) -> Diagnostic {
    match offset {
        Some(offset) => Diagnostic::at_offset(path, offset, severity, message),
        None => Diagnostic::for_file(path, severity, message),
    }
}

/// A record header's FILETIME, as chrono.
fn header_time(ts: evtx::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts.as_second(), u32::try_from(ts.subsec_nanosecond()).ok()?)
}

/// Reads every record of one chunk.
fn chunk_events(mut data: EvtxChunkData, settings: &Arc<ParserSettings>, path: &str) -> ChunkOut {
    let mut out = ChunkOut::default();
    let number = data.number.unwrap_or(0);
    let base = FILE_HEADER_SIZE + number * CHUNK_SIZE;
    if !data.validate_checksum() {
        out.diags.push(Diagnostic::at_offset(
            path,
            base,
            Severity::Warning,
            format!("chunk {number}: checksum mismatch (damaged or partly written); its records are read anyway"),
        ));
    }
    // Room for every record the header counts (bounded: the header may be damaged).
    let counted = data.header.last_event_record_number.saturating_sub(data.header.first_event_record_number);
    out.events.reserve(usize::try_from(counted.saturating_add(1)).unwrap_or(0).min(MAX_RECORDS_PER_CHUNK));
    let mut chunk = match data.parse(Arc::clone(settings)) {
        Ok(chunk) => chunk,
        Err(e) => {
            out.diags.push(Diagnostic::at_offset(
                path,
                base,
                Severity::Error,
                format!("chunk {number} skipped: {}", describe(&e)),
            ));
            return out;
        }
    };
    let mut reader = xml::RecordReader::new();
    for record in chunk.iter() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                out.diags.push(diagnostic(
                    path,
                    error_offset(&e, Some(base)),
                    Severity::Error,
                    format!("record skipped: {}", describe(&e)),
                ));
                continue;
            }
        };
        let offset = base + record.binxml_offset.saturating_sub(RECORD_HEADER_SIZE);
        let header_id = record.event_record_id;
        let header_ts = header_time(record.timestamp);
        let rendered = match record.into_xml_bytes() {
            Ok(r) => r,
            Err(e) => {
                out.diags.push(Diagnostic::at_offset(
                    path,
                    offset,
                    Severity::Error,
                    format!("record {header_id} skipped: {}", describe(&e)),
                ));
                continue;
            }
        };
        // The XML's TimeCreated and EventRecordID are the real ones: in exported or filtered logs the
        // record header's differ (§3). The header's are only a fallback.
        match reader
            .read(&rendered.data)
            .and_then(|fields| fields.into_event(SourceRef::offset(path, offset), header_ts, Some(header_id)))
        {
            Ok(event) => out.events.push(event),
            Err(why) => out.diags.push(Diagnostic::at_offset(
                path,
                offset,
                Severity::Error,
                format!("record {header_id} skipped: {why}"),
            )),
        }
    }
    out
}

/// [`chunk_events`], with a panic inside the crate turned into a diagnostic for that chunk.
fn chunk_events_guarded(data: EvtxChunkData, settings: &Arc<ParserSettings>, path: &str) -> ChunkOut {
    let number = data.number.unwrap_or(0);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| chunk_events(data, settings, path))).unwrap_or_else(|_| {
        ChunkOut {
            events: Vec::new(),
            diags: vec![Diagnostic::at_offset(
                path,
                FILE_HEADER_SIZE + number * CHUNK_SIZE,
                Severity::Error,
                format!("chunk {number} skipped: the evtx reader failed on it (internal error)"),
            )],
        }
    })
}

/// Reads a binary event log held in memory. Never panics; see the module docs for what damage is tolerated.
pub fn parse(bytes: &[u8], path: &str) -> (Vec<Event>, Vec<Diagnostic>) {
    parse_with_deadline(bytes, path, deadline_for(bytes.len() as u64))
}

/// [`parse`] with an explicit time budget (tests use a short one).
pub fn parse_with_deadline(bytes: &[u8], path: &str, budget: Duration) -> (Vec<Event>, Vec<Diagnostic>) {
    parse_seekable(Cursor::new(bytes), bytes.len() as u64, path, budget)
}

/// Reads a binary event log from a file (or any seekable reader) chunk by chunk: memory is bounded by a
/// batch of 64 KiB chunks plus the events read, not by the file's size.
pub fn parse_file(file: std::fs::File, path: &str) -> (Vec<Event>, Vec<Diagnostic>) {
    let len = file.metadata().map_or(0, |m| m.len());
    parse_seekable(std::io::BufReader::with_capacity(CHUNK_SIZE as usize, file), len, path, deadline_for(len))
}

/// The reader of [`parse_file`] and [`parse`]: `len` is the size of the whole log.
fn parse_seekable<R: Read + Seek + Send>(
    mut reader: R,
    len: u64,
    path: &str,
    budget: Duration,
) -> (Vec<Event>, Vec<Diagnostic>) {
    let started = Instant::now();
    let mut events = Vec::new();
    let mut diags = Vec::new();
    // A cut last chunk is read from its own copy of the tail, taken before the crate owns the reader.
    let tail = read_tail(&mut reader, len);
    // From the start whatever the reader had read (a caller may have read the head to tell the format).
    let _ = reader.seek(SeekFrom::Start(0));
    let parser = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || EvtxParser::from_read_seek(reader)));
    let mut parser = match parser {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            diags.push(Diagnostic::at_offset(
                path,
                0,
                Severity::Error,
                format!("not a readable .evtx file: {}", describe(&e)),
            ));
            return (events, diags);
        }
        Err(_) => {
            diags.push(Diagnostic::at_offset(
                path,
                0,
                Severity::Error,
                "not a readable .evtx file: bad file header".to_owned(),
            ));
            return (events, diags);
        }
    };
    let header = parser.header();
    if header.flags.contains(HeaderFlags::DIRTY) {
        diags.push(Diagnostic::at_offset(
            path,
            0,
            Severity::Info,
            "log marked dirty (not closed cleanly, as after a crash or a live copy); read anyway",
        ));
    }
    if !header.validate_checksum() {
        diags.push(Diagnostic::at_offset(
            path,
            0,
            Severity::Warning,
            "file header checksum mismatch; chunks read anyway",
        ));
    }
    let settings = Arc::new(ParserSettings::new().indent(false).validate_checksums(false));

    // Chunks stream through the pool: each worker takes the next chunk from the reader when it is free
    // (so reading overlaps parsing and no worker waits for a batch to end), and outputs are put back in
    // file order by their sequence number. Memory in flight is one chunk per worker. The deadline is
    // checked before each chunk is taken.
    let stopped = AtomicBool::new(false);
    let chunks = parser.chunks().enumerate().take_while(|_| {
        let late = started.elapsed() > budget;
        if late {
            stopped.store(true, Ordering::Relaxed);
        }
        !late
    });
    let mut outs: Vec<(usize, ChunkOut)> = chunks
        .par_bridge()
        .map(|(seq, chunk)| match chunk {
            Ok(data) => (seq, chunk_events_guarded(data, &settings, path)),
            Err(e) => (
                seq,
                ChunkOut {
                    events: Vec::new(),
                    diags: vec![diagnostic(
                        path,
                        error_offset(&e, None),
                        Severity::Error,
                        format!("chunk skipped: {}", describe(&e)),
                    )],
                },
            ),
        })
        .collect();
    outs.sort_unstable_by_key(|(seq, _)| *seq);
    // Per-chunk event lists, joined once at the end (no regrowth copies of a large list).
    let mut per_chunk: Vec<Vec<Event>> = Vec::with_capacity(outs.len() + 1);
    for (_, out) in outs {
        per_chunk.push(out.events);
        diags.extend(out.diags);
    }
    if stopped.into_inner() {
        diags.push(Diagnostic::for_file(
            path,
            Severity::Error,
            format!(
                "stopped reading after {} s (time limit for a file of this size); later chunks skipped",
                budget.as_secs()
            ),
        ));
    } else if let Some(out) = tail.and_then(|(start, tail)| cut_chunk(start, &tail, &settings, path)) {
        per_chunk.push(out.events);
        diags.extend(out.diags);
    }
    events.reserve_exact(per_chunk.iter().map(Vec::len).sum());
    for chunk_events in per_chunk {
        events.extend(chunk_events);
    }
    (events, diags)
}

/// The bytes after the last whole chunk (less than one chunk), with their offset; `None` when the file ends on a
/// chunk boundary or the tail cannot be read.
fn read_tail<R: Read + Seek>(reader: &mut R, len: u64) -> Option<(u64, Vec<u8>)> {
    let rest = len.checked_sub(FILE_HEADER_SIZE)? % CHUNK_SIZE;
    if rest == 0 {
        return None;
    }
    let start = len - rest;
    let mut buf = Vec::with_capacity(rest as usize);
    reader.seek(SeekFrom::Start(start)).ok()?;
    reader.by_ref().take(rest).read_to_end(&mut buf).ok()?;
    Some((start, buf))
}

/// A file cut inside a chunk (a half-copied log): the crate stops at the last whole chunk, so the cut one
/// is padded with zeros and read up to the cut. The records past it fail to read and are reported.
/// `tail` is the file from offset `start` (past the last whole chunk) to its end.
fn cut_chunk(start: u64, tail: &[u8], settings: &Arc<ParserSettings>, path: &str) -> Option<ChunkOut> {
    let rest = tail.len();
    let number = start.checked_sub(FILE_HEADER_SIZE)? / CHUNK_SIZE;
    let mut out = ChunkOut::default();
    if rest < CHUNK_HEADER_SIZE || !tail.starts_with(b"ElfChnk\0") {
        out.diags.push(Diagnostic::at_offset(
            path,
            start,
            Severity::Warning,
            format!("{rest} bytes after the last whole chunk ignored (truncated copy?)"),
        ));
        return Some(out);
    }
    out.diags.push(Diagnostic::at_offset(
        path,
        start,
        Severity::Warning,
        format!("file ends inside chunk {number} ({rest} of {CHUNK_SIZE} bytes): truncated copy; records before the cut are read"),
    ));
    let mut padded = tail.to_vec();
    padded.resize(CHUNK_SIZE as usize, 0);
    match EvtxChunkData::new(padded, false) {
        Ok(mut data) => {
            data.number = Some(number);
            let read = chunk_events_guarded(data, settings, path);
            out.events.extend(read.events);
            // The checksum cannot match a cut chunk; that warning would only repeat the one above.
            out.diags.extend(read.diags.into_iter().filter(|d| !d.message.contains("checksum mismatch")));
        }
        Err(e) => out.diags.push(Diagnostic::at_offset(
            path,
            start,
            Severity::Error,
            format!("chunk {number} skipped: {}", describe(&e)),
        )),
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_short_input_is_a_diagnostic() {
        for input in [&b""[..], b"ElfFile\0", &[0u8; 5000]] {
            let (events, diags) = parse(input, "x.evtx");
            assert!(events.is_empty());
            assert_eq!(diags.len(), 1, "{diags:?}");
            assert_eq!(diags[0].severity, Severity::Error);
            assert_eq!(diags[0].offset, Some(0));
        }
    }

    #[test]
    fn header_without_chunks_reads_nothing_quietly() {
        let mut header = vec![0u8; FILE_HEADER_SIZE as usize];
        header[..8].copy_from_slice(b"ElfFile\0");
        header[32..36].copy_from_slice(&128u32.to_le_bytes());
        header[36..38].copy_from_slice(&1u16.to_le_bytes());
        header[38..40].copy_from_slice(&3u16.to_le_bytes());
        header[40..42].copy_from_slice(&4096u16.to_le_bytes());
        let (events, diags) = parse(&header, "x.evtx");
        assert!(events.is_empty());
        assert!(diags.iter().all(|d| d.severity != Severity::Error), "{diags:?}");
    }

    #[test]
    fn garbage_tail_after_header_is_reported() {
        let mut bytes = vec![0u8; FILE_HEADER_SIZE as usize];
        bytes[..8].copy_from_slice(b"ElfFile\0");
        bytes[40..42].copy_from_slice(&4096u16.to_le_bytes());
        bytes.extend_from_slice(&[7u8; 100]);
        let (_, diags) = parse(&bytes, "x.evtx");
        assert!(diags.iter().any(|d| d.message.contains("100 bytes after the last whole chunk")), "{diags:?}");
    }

    #[test]
    fn describe_joins_the_cause_chain() {
        let inner = std::io::Error::other("inner cause");
        let outer = EvtxError::IoError(inner);
        assert!(describe(&outer).contains("inner cause"));
    }
}
