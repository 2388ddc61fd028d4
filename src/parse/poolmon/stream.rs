//! Streaming: tables from any reader, one at a time, with memory bounded by two tables (the one being read and
//! the one held back until it is known whether it is the file's only table, which decides whether the file's
//! modification time may date it; see [`super::timing`]).
//!
//! Lines are decoded one by one like [`crate::parse::text::decode`] does (UTF-8, else Windows-1252). UTF-16
//! text (a PowerShell wrapper's lines, formats reference §1.5) cannot be split on `\n` bytes, so from the first
//! line that holds a NUL byte on, the rest of the input is read and decoded whole; such files are small in
//! practice. Day/month order is settled as timestamps come ([`crate::parse::timestamp::StampClock`]), so a
//! streamed file whose order is only settled late gets a warning that [`super::parse`] would not need.

use std::io::BufRead;

use crate::model::{Diagnostic, PoolSnapshot, Severity};
use crate::parse::text::decode;
use crate::parse::FileContext;

use super::assemble::Assembler;
use super::timing::TimeAssigner;
use super::{numbered_lines, PoolmonTable};

/// Holds back the latest table until the next one (or the end) shows whether it was the file's only one.
struct Pipeline<'c, F: FnMut(PoolmonTable)> {
    held: Option<PoolmonTable>,
    emitted: usize,
    times: TimeAssigner<'c>,
    diagnostics: Vec<Diagnostic>,
    on_table: F,
}

impl<F: FnMut(PoolmonTable)> Pipeline<'_, F> {
    fn push(&mut self, table: PoolmonTable) {
        if let Some(mut prev) = self.held.replace(table) {
            self.times.assign(&mut prev, false, &mut self.diagnostics);
            self.emitted += 1;
            (self.on_table)(prev);
        }
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        if let Some(mut last) = self.held.take() {
            self.times.assign(&mut last, self.emitted == 0, &mut self.diagnostics);
            (self.on_table)(last);
        }
        self.times.finish(&mut self.diagnostics);
        self.diagnostics
    }
}

/// Streams the snapshots of a poolmon file from `reader` to `on_snapshot`, in file order, and returns the
/// diagnostics. Same results as [`super::parse`] (see the module docs for the one difference in warnings).
pub fn parse_reader<R: BufRead>(
    reader: R,
    ctx: &FileContext,
    mut on_snapshot: impl FnMut(PoolSnapshot),
) -> Vec<Diagnostic> {
    let mut scope_warnings = Vec::new();
    let mut diagnostics = parse_reader_detailed(reader, ctx, |t| {
        scope_warnings.extend(super::session_scope_warning(&t));
        on_snapshot(t.snapshot);
    });
    diagnostics.extend(scope_warnings);
    diagnostics
}

/// Streams whole [`PoolmonTable`]s (deltas, totals, scope) from `reader` to `on_table`.
pub fn parse_reader_detailed<R: BufRead>(
    mut reader: R,
    ctx: &FileContext,
    on_table: impl FnMut(PoolmonTable),
) -> Vec<Diagnostic> {
    let mut lines = LineFeeder {
        assembler: Assembler::new(&ctx.path, ctx.host.clone()),
        pipe: Pipeline {
            held: None,
            emitted: 0,
            times: TimeAssigner::streaming(ctx),
            diagnostics: Vec::new(),
            on_table,
        },
        no: 0,
        max_line: ctx.limits.max_line_bytes.max(1),
        path: &ctx.path,
    };
    // Lines are read in place from the reader's buffer; only a line split across two refills is copied, and
    // of a line longer than the limit only the first `max_line` bytes are (the rest is counted and skipped).
    let mut carry: Vec<u8> = Vec::new();
    let mut skipped: u64 = 0;
    loop {
        let chunk = match reader.fill_buf() {
            Ok([]) => break,
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                lines.read_error(&ctx.path, &e);
                break;
            }
        };
        let len = chunk.len();
        let Some(last_end) = chunk.iter().rposition(|&b| b == b'\n') else {
            skipped += lines.keep_of_line(&mut carry, chunk);
            reader.consume(len);
            continue;
        };
        let block = &chunk[..=last_end];
        if carry.contains(&0) || block.contains(&0) {
            // UTF-16 from the line holding the first NUL on (a PowerShell wrapper's lines; formats reference
            // §1.5): the lines before it are read as usual, the rest is decoded whole, keeping line numbers.
            let mut all = std::mem::take(&mut carry);
            all.extend_from_slice(chunk);
            reader.consume(len);
            let nul = all.iter().position(|&b| b == 0).unwrap_or(0);
            let line_start = all[..nul].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            let mut rest = all.split_off(line_start);
            lines.block(&all);
            if let Err(e) = reader.read_to_end(&mut rest) {
                lines.read_error(&ctx.path, &e);
            }
            lines.decoded(&rest);
            return lines.finish();
        }
        let mut body = block;
        if !carry.is_empty() || skipped > 0 {
            let first_end = block.iter().position(|&b| b == b'\n').unwrap_or(last_end);
            skipped += lines.keep_of_line(&mut carry, &block[..first_end]);
            carry.push(b'\n');
            lines.skipped(std::mem::take(&mut skipped));
            lines.block(&carry);
            carry.clear();
            body = &block[first_end + 1..];
        }
        lines.block(body);
        skipped += lines.keep_of_line(&mut carry, &chunk[last_end + 1..]);
        reader.consume(len);
    }
    lines.skipped(skipped);
    if !carry.is_empty() {
        if carry.contains(&0) {
            lines.decoded(&carry);
        } else {
            lines.line(&carry, false);
        }
    }
    lines.finish()
}

/// Feeds byte lines to the assembler, numbering them and decoding each as UTF-8, else Windows-1252.
struct LineFeeder<'c, F: FnMut(PoolmonTable)> {
    assembler: Assembler,
    pipe: Pipeline<'c, F>,
    no: u64,
    /// `--max-line-length`: bytes of a line kept.
    max_line: usize,
    path: &'c str,
}

impl<F: FnMut(PoolmonTable)> LineFeeder<'_, F> {
    /// Appends `more` (part of one line) to the line held in `carry`, up to the line-length limit; returns the
    /// bytes left out.
    fn keep_of_line(&self, carry: &mut Vec<u8>, more: &[u8]) -> u64 {
        let room = self.max_line.saturating_sub(carry.len()).min(more.len());
        carry.extend_from_slice(&more[..room]);
        (more.len() - room) as u64
    }

    /// Says that the next line was cut at the limit, when it was.
    fn skipped(&mut self, bytes: u64) {
        if bytes > 0 {
            self.pipe.diagnostics.push(long_line(self.path, self.no + 1, self.max_line, bytes));
        }
    }

    /// Whole lines, each ending in `\n`, without NUL bytes.
    fn block(&mut self, bytes: &[u8]) {
        if let Ok(text) = std::str::from_utf8(bytes) {
            // The common case: one validation for the block, memchr-driven splitting.
            for line in text.split_terminator('\n') {
                self.no += 1;
                let line = if line.len() > self.max_line {
                    let mut end = self.max_line;
                    while !line.is_char_boundary(end) {
                        end -= 1;
                    }
                    let cut = (line.len() - end) as u64;
                    self.pipe.diagnostics.push(long_line(self.path, self.no, self.max_line, cut));
                    &line[..end]
                } else {
                    line
                };
                self.assembler.line(self.no, line, true, &mut |t| self.pipe.push(t));
            }
        } else if let Some(body) = bytes.strip_suffix(b"\n") {
            for line in body.split(|&b| b == b'\n') {
                if line.len() > self.max_line {
                    self.pipe.diagnostics.push(long_line(
                        self.path,
                        self.no + 1,
                        self.max_line,
                        (line.len() - self.max_line) as u64,
                    ));
                }
                self.line(&line[..line.len().min(self.max_line)], true);
            }
        }
    }

    /// One line (without its `\n`), decoded on its own.
    fn line(&mut self, bytes: &[u8], complete: bool) {
        self.no += 1;
        if let Ok(line) = std::str::from_utf8(bytes) {
            self.assembler.line(self.no, line, complete, &mut |t| self.pipe.push(t));
        } else {
            let line = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0;
            self.assembler.line(self.no, &line, complete, &mut |t| self.pipe.push(t));
        }
    }

    /// The rest of the input, decoded whole (UTF-16 or mixed encodings).
    fn decoded(&mut self, bytes: &[u8]) {
        let text = decode(bytes);
        let base = self.no;
        for (k, line, complete) in numbered_lines(&text.text) {
            self.no = base + k;
            self.assembler.line(self.no, line, complete, &mut |t| self.pipe.push(t));
        }
    }

    fn read_error(&mut self, path: &str, e: &std::io::Error) {
        self.pipe.diagnostics.push(Diagnostic::at_line(
            path,
            self.no + 1,
            Severity::Error,
            format!("read error, rest of the file skipped: {e}"),
        ));
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        self.assembler.finish(&mut |t| self.pipe.push(t));
        let mut diagnostics = std::mem::take(&mut self.assembler.diagnostics);
        diagnostics.extend(self.pipe.finish());
        diagnostics
    }
}

/// The diagnostic for a line longer than `--max-line-length`.
fn long_line(path: &str, line: u64, max: usize, skipped: u64) -> Diagnostic {
    Diagnostic::at_line(
        path,
        line,
        Severity::Warning,
        format!("line longer than the limit of {max} bytes: the rest ({skipped} bytes) skipped; --max-line-length raises it"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_the_same_snapshots_as_parse() {
        let text = " Memory:16468560K Avail:12072536K  PageFlts:468600648   InRam Krnl:56708K P:950888K\r\n \
                    Commit:4100436K Limit:17517136K Peak:11685564K            Pool N:710920K P:983564K\r\n\r\n \
                    Tag  Type     Allocs         Frees    Diff   Bytes    Per Alloc\r\n\r\n \
                    EtwB Nonp       6394      4056      2338 163418368      69896\r\n \
                    MmSt Paged   caf\u{e9}\r\n";
        let ctx = FileContext { path: "s.log".into(), ..FileContext::default() };
        let (whole, mut d1) = super::super::parse(text, &ctx);
        let mut streamed = Vec::new();
        let mut bytes = text.as_bytes().to_vec();
        // the same line in ANSI: decoded as Windows-1252 by both paths
        let at = bytes.windows(5).position(|w| w == "caf\u{e9}".as_bytes()).unwrap();
        bytes.splice(at..at + 5, *b"caf\xE9");
        let mut d2 = parse_reader(&bytes[..], &ctx, |s| streamed.push(s));
        assert_eq!(whole, streamed);
        d1.sort();
        d2.sort();
        assert_eq!(d1, d2);
        assert_eq!(whole[0].header.commit_kb, Some(4_100_436));
    }

    #[test]
    fn lines_split_across_buffer_refills() {
        let text =
            "22/05/2020 22:35:55.53 \r\n\r\n Tag  Type     Allocs         Frees    Diff   Bytes    Per Alloc\r\n\r\n \
                    Toke Nonp         10         5         5       500        100        \r\n \
                    MmSt Paged   2269405   2095404    174001 156097152        897        \r\n \
                    File Nonp   25376177  25";
        let ctx = FileContext { path: "r.log".into(), ..FileContext::default() };
        let (whole, d1) = super::super::parse(text, &ctx);
        assert_eq!(whole[0].rows.len(), 2);
        for capacity in [1, 2, 3, 7, 64, 8192] {
            let mut streamed = Vec::new();
            let reader = std::io::BufReader::with_capacity(capacity, text.as_bytes());
            let d2 = parse_reader(reader, &ctx, |s| streamed.push(s));
            assert_eq!(whole, streamed, "capacity {capacity}");
            assert_eq!(d1, d2, "capacity {capacity}");
        }
    }

    #[test]
    fn utf16_switch_mid_stream_keeps_line_numbers() {
        let mut bytes = b" Tag  Type     Allocs         Frees    Diff   Bytes    Per Alloc\r\n\r\n".to_vec();
        bytes.extend_from_slice(&[0xFF, 0xFE]);
        for u in "22 May 2020 22:35:55\r\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        bytes.extend_from_slice(b"\r\n Tag  Type     Allocs         Frees    Diff   Bytes    Per Alloc\r\n\r\n");
        bytes.extend_from_slice(b" Toke Paged 1 0 1 10 10\r\n garbled\r\n");
        let ctx = FileContext { path: "m.log".into(), ..FileContext::default() };
        let mut snaps = Vec::new();
        let diags = parse_reader(&bytes[..], &ctx, |s| snaps.push(s));
        assert_eq!(snaps.len(), 1);
        assert_eq!(snaps[0].source.line, Some(5));
        let garbled = diags.iter().find(|d| d.severity == Severity::Error).unwrap();
        assert_eq!(garbled.line, Some(8), "{diags:?}");
    }

    #[test]
    fn lines_longer_than_the_limit_are_cut_with_a_warning() {
        let long = "x".repeat(5000);
        let text = format!(
            " Tag  Type     Allocs         Frees    Diff   Bytes    Per Alloc\r\n{long}\r\n \
             Toke Paged        10         5         5       500        100\r\n{long}"
        );
        let mut ctx = FileContext { path: "long.log".into(), ..FileContext::default() };
        ctx.limits.max_line_bytes = 100;
        for capacity in [16, 64, 1000, 8192] {
            let mut snaps = Vec::new();
            let reader = std::io::BufReader::with_capacity(capacity, text.as_bytes());
            let diags = parse_reader(reader, &ctx, |s| snaps.push(s));
            assert_eq!(snaps.len(), 1, "capacity {capacity}");
            assert_eq!(snaps[0].rows.len(), 1);
            let cut: Vec<_> = diags.iter().filter(|d| d.message.contains("--max-line-length")).collect();
            assert_eq!(cut.len(), 2, "capacity {capacity}: {diags:?}");
            assert_eq!((cut[0].line, cut[1].line), (Some(2), Some(4)), "capacity {capacity}");
            assert!(cut[0].message.contains("4901 bytes"), "{}", cut[0].message);
        }
    }
}
