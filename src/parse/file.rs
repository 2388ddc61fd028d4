//! Reading a file on disk (or a zip member, decompressed as it is read) for its parser, without holding more
//! of it than the format needs.
//!
//! The first 64 KiB tell the format. Then (issue 14: memory independent of file size):
//!
//! * poolmon logs (the inputs that reach gigabytes: weeks of one-minute snapshots) stream snapshot by snapshot;
//! * handle.exe output streams a line at a time, each run becoming its snapshot when it ends
//!   ([`super::handle::parse_reader`]);
//! * event exports (XML, CSV, wevtutil and Event Viewer text) stream in pieces cut at records
//!   ([`super::events::parse_reader`]), and binary .evtx logs chunk by chunk.
//!
//! Text is decoded as it is read ([`super::lines`]), lines longer than `--max-line-length` are cut with a
//! `path:line` warning, and none of these is bounded by [`ReadLimits::max_file_bytes`]: memory is that of the
//! records read (and one table, line or piece), not of the file. The remaining formats are small by nature and
//! read whole, up to `--max-file-size` (beyond which the file is refused with an error naming the flag): pool
//! CSVs (one snapshot per file), debugger `!poolused`/`!vm` text, perfmon CSV/TSV and pooltag.txt.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

use super::{detect_or_explain, parse_detected, poolmon, FileContext, Format, Parsed, ReadLimits};
use crate::model::{Diagnostic, PoolSnapshot, Severity};
use crate::units;

/// Bytes read to tell a file's format (the detectors look at no more).
const HEAD_BYTES: usize = 64 * 1024;
/// Read buffer of the streaming readers.
const STREAM_BUFFER: usize = 256 * 1024;

/// Reads and parses a file on disk with a context the caller prepared (the ingest's settled name time); every
/// record is kept in the returned [`Parsed`].
pub fn parse_file_in(path: &Path, format: Option<Format>, ctx: &FileContext) -> Parsed {
    let mut pool = Vec::new();
    let mut parsed = stream_file(path, format, ctx, &mut |s| pool.push(s));
    // Streamed snapshots come first, as they were read; formats read whole return theirs in `parsed`.
    pool.append(&mut parsed.pool_snapshots);
    parsed.pool_snapshots = pool;
    parsed
}

/// Reads and parses a file on disk (or a zip member, `x.zip!/dir/f.log`: see [`super::archive`]), handing
/// poolmon snapshots to `on_pool` one at a time, in file order, as they are read (they are not kept in the
/// returned [`Parsed`]); everything else is returned.
pub fn stream_file(
    path: &Path,
    format: Option<Format>,
    ctx: &FileContext,
    on_pool: &mut dyn FnMut(PoolSnapshot),
) -> Parsed {
    if super::archive::is_member(path) {
        // A member streams as it is decompressed; nothing of it is written anywhere.
        let read = super::archive::with_member(path, &ctx.limits, |reader, size| {
            stream_source(Source::Member(reader), size, format, ctx, on_pool)
        });
        return keep_records_within_limit(read.unwrap_or_else(|e| cannot_read(ctx, &e)), ctx);
    }
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return cannot_read(ctx, &e),
    };
    let size = file.metadata().map_or(0, |m| m.len());
    keep_records_within_limit(stream_source(Source::Disk(file), size, format, ctx, on_pool), ctx)
}

/// Cuts a file's handle snapshots and events to [`ReadLimits::max_records`] (poolmon logs are cut while they
/// stream, in [`stream_source`]): the first records are kept, whole snapshots only, and the file says so.
fn keep_records_within_limit(mut parsed: Parsed, ctx: &FileContext) -> Parsed {
    let limit = ctx.limits.max_records;
    let mut cut = false;
    if parsed.events.len() as u64 > limit {
        parsed.events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        cut = true;
    }
    let mut kept = 0u64;
    let before = parsed.handle_snapshots.len();
    parsed.handle_snapshots.retain(|snap| {
        // A summary counts as one record per type; a listing as one per handle.
        let records =
            snap.type_counts.len() as u64 + snap.processes.iter().map(|p| p.handles.len() as u64).sum::<u64>();
        kept += records.max(1);
        kept <= limit
    });
    cut |= parsed.handle_snapshots.len() < before;
    if cut {
        parsed.diagnostics.push(super::limits::too_many_records(&ctx.path, limit));
    }
    parsed
}

/// The diagnostic of a file that cannot be opened or read.
fn cannot_read(ctx: &FileContext, e: &std::io::Error) -> Parsed {
    Parsed {
        diagnostics: vec![Diagnostic::for_file(&ctx.path, Severity::Error, format!("cannot read file: {e}"))],
        ..Parsed::default()
    }
}

/// What a file is read from: a file on disk (seekable: .evtx logs are read chunk by chunk), or a zip member's
/// decompressed bytes (an .evtx member is read into memory, up to `--max-file-size`).
enum Source<'a> {
    Disk(File),
    Member(&'a mut dyn Read),
}

impl Read for Source<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Disk(file) => file.read(buf),
            Source::Member(reader) => reader.read(buf),
        }
    }
}

/// [`stream_file`] once the file is open; `size` is its length (a member's declared size).
fn stream_source(
    mut source: Source<'_>,
    size: u64,
    format: Option<Format>,
    ctx: &FileContext,
    on_pool: &mut dyn FnMut(PoolSnapshot),
) -> Parsed {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    if let Err(e) = source.by_ref().take(HEAD_BYTES as u64).read_to_end(&mut head) {
        return cannot_read(ctx, &e);
    }
    let format = match format.map_or_else(|| detect_or_explain(&head, ctx), Ok) {
        Ok(f) => f,
        Err(parsed) => return *parsed,
    };
    match format {
        Format::Poolmon => {
            let (mut streamed, mut rows, mut cut) = (0usize, 0u64, false);
            let reader = BufReader::with_capacity(STREAM_BUFFER, Cursor::new(head).chain(source));
            let mut diagnostics = poolmon::stream::parse_reader(reader, ctx, |s| {
                // Whole snapshots only: the one that would pass the limit and every later one are left out.
                rows += s.rows.len() as u64;
                if cut || rows > ctx.limits.max_records {
                    cut = true;
                    return;
                }
                streamed += 1;
                on_pool(s);
            });
            if cut {
                diagnostics.push(super::limits::too_many_records(&ctx.path, ctx.limits.max_records));
            }
            let mut parsed = Parsed { diagnostics, ..Parsed::default() };
            parsed.note_if_empty(format, &ctx.path, streamed);
            parsed
        }
        Format::Evtx => {
            let (events, diagnostics) = match source {
                Source::Disk(file) => super::events::parse_evtx_file(file, ctx),
                Source::Member(reader) => {
                    if let Some(refused) = too_large(size, &ctx.limits, &ctx.path) {
                        return refused;
                    }
                    let mut bytes = head;
                    if let Err(e) = reader.take(ctx.limits.max_file_bytes).read_to_end(&mut bytes) {
                        return cannot_read(ctx, &e);
                    }
                    return parse_detected(&bytes, format, ctx);
                }
            };
            let mut parsed = Parsed { events, diagnostics, ..Parsed::default() };
            parsed.note_if_empty(format, &ctx.path, 0);
            parsed
        }
        Format::Handle => {
            let reader = BufReader::with_capacity(STREAM_BUFFER, Cursor::new(head).chain(source));
            let (handle_snapshots, diagnostics) = super::handle::parse_reader(reader, ctx);
            let mut parsed = Parsed { handle_snapshots, diagnostics, ..Parsed::default() };
            parsed.note_if_empty(format, &ctx.path, 0);
            parsed
        }
        Format::EventXml | Format::EventCsv | Format::EventText => {
            let reader = BufReader::with_capacity(STREAM_BUFFER, Cursor::new(head).chain(source));
            let (events, diagnostics) = super::events::parse_reader(reader, format, ctx);
            let mut parsed = Parsed { events, diagnostics, ..Parsed::default() };
            parsed.note_if_empty(format, &ctx.path, 0);
            parsed
        }
        _ => {
            if let Some(refused) = too_large(size, &ctx.limits, &ctx.path) {
                return refused;
            }
            let mut bytes = head;
            if let Err(e) = source.take(ctx.limits.max_file_bytes).read_to_end(&mut bytes) {
                return cannot_read(ctx, &e);
            }
            // Small formats read whole. Their pool snapshots (pool CSVs, debugger text) go the way streamed ones do.
            let mut parsed = parse_detected(&bytes, format, ctx);
            for snapshot in std::mem::take(&mut parsed.pool_snapshots) {
                on_pool(snapshot);
            }
            parsed
        }
    }
}

/// The first bytes of a file on disk or a zip member, as many as format detection looks at.
pub fn head_of(path: &Path, limits: &ReadLimits) -> std::io::Result<Vec<u8>> {
    if super::archive::is_member(path) {
        return super::archive::with_member(path, limits, |reader, _| {
            let mut head = Vec::with_capacity(HEAD_BYTES);
            reader.take(HEAD_BYTES as u64).read_to_end(&mut head).map(|_| head)
        })?;
    }
    read_head(&mut File::open(path)?)
}

/// The length of a file on disk, or a zip member's declared size.
pub fn input_len(path: &Path) -> Option<u64> {
    if super::archive::is_member(path) {
        return super::archive::member_len(path);
    }
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// The first bytes of a file, as many as format detection looks at ([`Format::detect`]).
pub fn read_head(file: &mut File) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    file.by_ref().take(HEAD_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// The error for a file read whole that is larger than `--max-file-size`.
fn too_large(size: u64, limits: &ReadLimits, path: &str) -> Option<Parsed> {
    (size > limits.max_file_bytes).then(|| Parsed {
        diagnostics: vec![Diagnostic::for_file(
            path,
            Severity::Error,
            format!(
                "file not read: {} is larger than the limit of {} for this format (read whole); \
                 --max-file-size raises it",
                units::bytes(size as f64),
                units::bytes(limits.max_file_bytes as f64)
            ),
        )],
        ..Parsed::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn streamed_poolmon_matches_the_whole_file_parse() {
        let dir = tempfile::tempdir().unwrap();
        let text =
            "22/05/2020 22:35:55.53 \r\n\r\n Tag  Type     Allocs         Frees    Diff   Bytes    Per Alloc\r\n\r\n \
                    Toke Paged        10         5         5       500        100        \r\n";
        let path = write(dir.path(), "p.log", text.as_bytes());
        let ctx = FileContext::for_path(&path, crate::model::TimeSettings::default(), None);
        let streamed = parse_file_in(&path, None, &ctx);
        let whole = super::super::parse_bytes(text.as_bytes(), None, &ctx);
        assert_eq!(streamed.pool_snapshots, whole.pool_snapshots);
        assert_eq!(streamed.pool_snapshots.len(), 1);
        assert_eq!(streamed.diagnostics, whole.diagnostics);
    }

    #[test]
    fn a_file_read_whole_beyond_the_limit_is_refused_naming_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let text = "\"(PDH-CSV 4.0) (Eastern Standard Time)(300)\",\"\\\\DB1\\Memory\\Pool Paged Bytes\"\r\n\
                    \"01/02/2024 00:00:00.000\",\"5000\"\r\n";
        let path = write(dir.path(), "perf.csv", text.as_bytes());
        let mut ctx = FileContext::for_path(&path, crate::model::TimeSettings::default(), None);
        ctx.limits.max_file_bytes = 16;
        let parsed = parse_file_in(&path, None, &ctx);
        assert!(parsed.is_empty());
        let error = &parsed.diagnostics[0];
        assert_eq!(error.severity, Severity::Error);
        assert!(error.message.contains("--max-file-size"), "{error:?}");
        ctx.limits.max_file_bytes = 1 << 20;
        assert!(!parse_file_in(&path, None, &ctx).perf_series.is_empty());
    }

    #[test]
    fn handle_and_event_files_stream_past_the_whole_file_limit() {
        let dir = tempfile::tempdir().unwrap();
        let handle = "Handle type summary:\r\n  File            : 10\r\nTotal handles: 10\r\n";
        let xml = "<Event><System><Provider Name='EventLog'/><EventID>6005</EventID>\
                   <TimeCreated SystemTime='2023-05-29T02:57:41Z'/></System></Event>\r\n";
        for (name, text) in [("h.txt", handle), ("e.xml", xml)] {
            let path = write(dir.path(), name, text.as_bytes());
            let mut ctx = FileContext::for_path(&path, crate::model::TimeSettings::default(), None);
            ctx.limits.max_file_bytes = 16;
            let streamed = parse_file_in(&path, None, &ctx);
            let whole = super::super::parse_bytes(text.as_bytes(), None, &ctx);
            assert_eq!(streamed.handle_snapshots.len() + streamed.events.len(), 1, "{name}: {streamed:?}");
            assert_eq!(streamed.handle_snapshots, whole.handle_snapshots, "{name}");
            assert_eq!(streamed.events, whole.events, "{name}");
            assert_eq!(streamed.diagnostics, whole.diagnostics, "{name}");
        }
    }

    #[test]
    fn missing_and_empty_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = FileContext::default();
        let missing = parse_file_in(&dir.path().join("nope"), None, &ctx);
        assert!(missing.diagnostics[0].message.starts_with("cannot read file"));
        let empty = write(dir.path(), "empty.log", b"");
        let parsed = parse_file_in(&empty, None, &ctx);
        assert_eq!(parsed.diagnostics[0].severity, Severity::Error);
        let forced = parse_file_in(&empty, Some(Format::Poolmon), &ctx);
        assert!(forced.diagnostics.iter().any(|d| d.message.contains("no usable Poolmon records")), "{forced:?}");
    }
}
