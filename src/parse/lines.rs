//! Streaming text: a file's bytes decoded as they are read ([`DecodeReader`]) and split into numbered lines
//! ([`LineReader`]), with memory bounded by a read buffer and the longest line kept, not by the file
//! (issue 14: memory independent of file size).
//!
//! Decoding follows [`super::text::decode`] line by line: a UTF-8 BOM at the start is dropped; lines are UTF-8
//! when valid, else Windows-1252; a file that starts with a UTF-16LE BOM, or from the first line holding a NUL
//! byte on (a PowerShell wrapper appending UTF-16 lines, formats reference §1.5), is judged line by line as
//! UTF-16LE or single-byte exactly as `decode` judges a file holding NULs. Line numbers are those of the
//! whole-file decode. Where the two can differ (both documented in the tests):
//!
//! * a line that is not the first and starts with a UTF-8 BOM or bytes `FF FE`, before the first NUL of a file
//!   that holds NULs further on: `decode` reads it by the UTF-16 rules (BOM dropped, `FF FE` as UTF-16), this
//!   reader by the single-byte rules (it cannot know that NULs come later);
//! * a line longer than 1 MiB ([`PART`]) is decoded in parts of that size, each UTF-8 when valid, else
//!   Windows-1252 (`decode` decides for the whole line).
//!
//! [`LineReader`] keeps at most `--max-line-length` bytes of a line (of its decoded UTF-8, cut at a character
//! boundary) and tells how many it skipped, for the `path:line` warning (`long_line`). Lines end at `\n`
//! (a trailing `\r` is kept for the parser to strip): files with CR-only line ends are one long line here.

use std::collections::VecDeque;
use std::io::{self, BufRead, Cursor, Read};

use super::text::{
    looks_utf16le, push_segment_single_byte_line, push_single_byte_line, push_utf16le, utf16_line_end, UTF16LE_BOM,
    UTF8_BOM,
};
use crate::model::{Diagnostic, Severity};

/// Bytes of one line decoded at a time: a longer line is decoded in parts of this size.
pub const PART: usize = 1 << 20;
/// Bytes a line's encoding is judged on ([`looks_utf16le`] looks at no more).
const JUDGE: usize = 64;

/// How the reader is decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Single-byte lines (UTF-8, else Windows-1252), split at `\n` bytes.
    Bytes,
    /// Each line judged UTF-16LE or single-byte, as [`super::text::decode`] does for a file that holds NULs.
    Segments,
}

/// Decodes a text file as it is read: a [`BufRead`] of UTF-8 text whose lines are those of
/// [`super::text::decode`] (see the module docs). Never fails on content; read errors are passed on.
pub struct DecodeReader<R> {
    inner: io::Chain<Cursor<Vec<u8>>, R>,
    mode: Mode,
    /// Raw bytes not decoded yet: part of a line (bytes mode) or everything from the current line start
    /// (segments mode).
    pending: Vec<u8>,
    /// Segments mode, inside a line whose first part was decoded already: whether it is UTF-16LE.
    within: Option<bool>,
    /// Decoded text not read yet, from `pos`.
    out: String,
    pos: usize,
    /// The inner reader is exhausted.
    eof: bool,
    /// A read error met while looking at the file's first bytes, returned by the first read.
    error: Option<io::Error>,
}

impl<R: BufRead> DecodeReader<R> {
    /// A decoder over `inner`, positioned at the start of the file.
    pub fn new(mut inner: R) -> Self {
        // The first bytes tell a UTF-8 BOM (dropped) and a UTF-16LE BOM after it (UTF-16 from the start).
        let mut head = Vec::with_capacity(5);
        let error = (&mut inner).take(5).read_to_end(&mut head).err();
        let body = head.strip_prefix(UTF8_BOM).unwrap_or(&head).to_vec();
        let mode = if body.starts_with(UTF16LE_BOM) { Mode::Segments } else { Mode::Bytes };
        Self {
            inner: Cursor::new(body).chain(inner),
            mode,
            pending: Vec::new(),
            within: None,
            out: String::new(),
            pos: 0,
            eof: false,
            error,
        }
    }

    /// Decodes more of the input into `out` (empty only at the end of the input).
    fn refill(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() && !(self.eof && self.pending.is_empty()) {
            match self.mode {
                Mode::Bytes => self.bytes_step()?,
                Mode::Segments => self.segments_step()?,
            }
        }
        Ok(())
    }

    /// Bytes mode: decodes the whole lines of the next buffer (one UTF-8 check for all of them when it can);
    /// switches to segments mode at the line holding the first NUL byte.
    fn bytes_step(&mut self) -> io::Result<()> {
        let chunk = fill(&mut self.inner)?;
        if chunk.is_empty() {
            self.eof = true;
            let line = std::mem::take(&mut self.pending);
            push_single_byte_line(&mut self.out, &line);
            return Ok(());
        }
        let len = chunk.len();
        let nul = memchr::memchr(0, chunk);
        let region = &chunk[..nul.unwrap_or(len)];
        if let Some(last) = memchr::memrchr(b'\n', region) {
            let mut start = 0;
            if !self.pending.is_empty() {
                let first = memchr::memchr(b'\n', region).unwrap_or(last);
                self.pending.extend_from_slice(&region[..=first]);
                push_single_byte_line(&mut self.out, &self.pending);
                self.pending.clear();
                start = first + 1;
            }
            let block = &region[start..=last];
            match std::str::from_utf8(block) {
                Ok(text) => self.out.push_str(text),
                Err(_) => {
                    let mut from = 0;
                    for end in memchr::memchr_iter(b'\n', block) {
                        push_single_byte_line(&mut self.out, &block[from..=end]);
                        from = end + 1;
                    }
                }
            }
            self.pending.extend_from_slice(&chunk[last + 1..]);
        } else {
            self.pending.extend_from_slice(chunk);
        }
        self.inner.consume(len);
        if nul.is_some() {
            self.mode = Mode::Segments;
        } else if self.pending.len() >= PART {
            self.single_byte_part(false);
        }
        Ok(())
    }

    /// Decodes the start of a long single-byte line held in `pending` (bytes mode, or segments mode with
    /// `segments`, where NULs are dropped): UTF-8 up to an incomplete character at the end, else Windows-1252.
    fn single_byte_part(&mut self, segments: bool) {
        if segments {
            self.pending.retain(|&b| b != 0);
        }
        // An incomplete character at the end waits for the next part; anything else goes now.
        let take = match std::str::from_utf8(&self.pending) {
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            _ => self.pending.len(),
        };
        let part: Vec<u8> = self.pending.drain(..take).collect();
        push_single_byte_line(&mut self.out, &part);
    }

    /// Segments mode: reads another buffer and decodes every line of `pending` that is complete (or long
    /// enough to decode a part of), judging each line at its start as `decode` does.
    fn segments_step(&mut self) -> io::Result<()> {
        if !self.eof {
            let chunk = fill(&mut self.inner)?;
            if chunk.is_empty() {
                self.eof = true;
            } else {
                let len = chunk.len();
                self.pending.extend_from_slice(chunk);
                self.inner.consume(len);
            }
        }
        let mut at = 0;
        while at < self.pending.len() {
            let rest = &self.pending[at..];
            let utf16 = match self.within {
                Some(utf16) => utf16,
                None => {
                    let judged = rest.len() >= JUDGE
                        || self.eof
                        || memchr::memchr(b'\n', rest).is_some_and(|i| i + 2 <= rest.len());
                    if !judged {
                        break;
                    }
                    looks_utf16le(rest)
                }
            };
            let start = if self.within.is_none() && utf16 && rest.starts_with(UTF16LE_BOM) { 2 } else { 0 };
            let end = if utf16 { utf16_line_end(rest, start) } else { memchr::memchr(b'\n', rest).map(|i| i + 1) };
            match end {
                Some(end) => {
                    push_segment(&mut self.out, self.within.is_some(), utf16, &rest[start..end]);
                    self.within = None;
                    at += end;
                }
                None if self.eof => {
                    push_segment(&mut self.out, self.within.is_some(), utf16, &rest[start..]);
                    self.within = None;
                    at = self.pending.len();
                }
                None if rest.len() >= PART => {
                    // A long line: decode what is here, keeping an odd byte and a high surrogate for the next part.
                    if utf16 {
                        let mut take = start + (rest.len() - start) / 2 * 2;
                        if take >= start + 2 && (0xD8..=0xDB).contains(&rest[take - 1]) {
                            take -= 2;
                        }
                        push_utf16le(&mut self.out, &rest[start..take]);
                        at += take;
                    } else {
                        self.pending.drain(..at);
                        at = 0;
                        if self.within.is_none() && self.pending.starts_with(UTF8_BOM) {
                            // The BOM rule applies at the line start only.
                            self.pending.drain(..UTF8_BOM.len());
                        }
                        self.single_byte_part(true);
                    }
                    self.within = Some(utf16);
                }
                None => break,
            }
        }
        self.pending.drain(..at);
        Ok(())
    }
}

/// Appends one line (or the last part of one, `within` it) decoded by its judged encoding.
fn push_segment(out: &mut String, within: bool, utf16: bool, bytes: &[u8]) {
    if utf16 {
        push_utf16le(out, bytes);
    } else if within {
        // Not the line's start: no BOM to drop.
        let cleaned: Vec<u8> = bytes.iter().copied().filter(|&b| b != 0).collect();
        push_single_byte_line(out, &cleaned);
    } else {
        push_segment_single_byte_line(out, bytes);
    }
}

/// `fill_buf`, retried when interrupted.
fn fill<R: BufRead>(reader: &mut R) -> io::Result<&[u8]> {
    loop {
        match reader.fill_buf() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Re-borrowed: the loop would otherwise hold the first borrow.
            Ok(_) => return reader.fill_buf(),
            Err(e) => return Err(e),
        }
    }
}

impl<R: BufRead> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for DecodeReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.out.len() {
            self.refill()?;
        }
        Ok(&self.out.as_bytes()[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.out.len());
    }
}

/// One line of a [`LineReader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// 1-based line number in the file.
    pub no: u64,
    /// The line without its `\n` (a `\r` before it is kept), cut at the line-length limit.
    pub text: &'a str,
    /// Whether the line ended with `\n` (a last line without one may be cut short).
    pub complete: bool,
    /// Bytes of the line left out beyond the limit (0 when it was not cut).
    pub cut: u64,
}

/// Numbered lines of UTF-8 text read from a [`BufRead`] (such as a [`DecodeReader`]), each borrowed from the
/// reader's buffer when it lies in one (no copy, no allocation), else from a line buffer of at most
/// `max_line` bytes.
pub struct LineReader<R> {
    inner: R,
    no: u64,
    max_line: usize,
    /// Bytes of `inner`'s buffer the line last returned took, consumed at the next call.
    taken: usize,
    carry: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    /// Lines of `inner`, keeping at most `max_line` bytes of each (at least 1).
    pub fn new(inner: R, max_line: usize) -> Self {
        Self { inner, no: 0, max_line: max_line.max(1), taken: 0, carry: Vec::new() }
    }

    /// The next line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.inner.consume(std::mem::take(&mut self.taken));
        self.carry.clear();
        let mut cut = 0u64;
        loop {
            let (newline, len) = {
                let buf = fill(&mut self.inner)?;
                (memchr::memchr(b'\n', buf), buf.len())
            };
            if len == 0 {
                if self.carry.is_empty() && cut == 0 {
                    return Ok(None);
                }
                self.no += 1;
                let text = keep_whole_chars(&mut self.carry, &mut cut);
                return Ok(Some(Line { no: self.no, text, complete: false, cut }));
            }
            match newline {
                Some(end) if self.carry.is_empty() && cut == 0 => {
                    // The common case: the whole line is in the buffer.
                    self.taken = end + 1;
                    self.no += 1;
                    let buf = fill(&mut self.inner)?;
                    let (text, cut) = cut_at(&buf[..end], self.max_line);
                    return Ok(Some(Line { no: self.no, text, complete: true, cut }));
                }
                Some(end) => {
                    let buf = fill(&mut self.inner)?;
                    cut += keep(&mut self.carry, &buf[..end], self.max_line);
                    self.inner.consume(end + 1);
                    self.no += 1;
                    let text = keep_whole_chars(&mut self.carry, &mut cut);
                    return Ok(Some(Line { no: self.no, text, complete: true, cut }));
                }
                None => {
                    let buf = fill(&mut self.inner)?;
                    cut += keep(&mut self.carry, buf, self.max_line);
                    self.inner.consume(len);
                }
            }
        }
    }

    /// The number of the last line returned.
    pub fn line_no(&self) -> u64 {
        self.no
    }
}

/// Appends to `carry` as much of `more` as the limit leaves room for; returns the bytes left out.
fn keep(carry: &mut Vec<u8>, more: &[u8], max_line: usize) -> u64 {
    let room = max_line.saturating_sub(carry.len()).min(more.len());
    carry.extend_from_slice(&more[..room]);
    (more.len() - room) as u64
}

/// `carry` as text, without a character the limit cut in two (its bytes count as skipped).
fn keep_whole_chars<'a>(carry: &'a mut Vec<u8>, cut: &mut u64) -> &'a str {
    let valid = match std::str::from_utf8(carry) {
        Ok(_) => carry.len(),
        Err(e) => e.valid_up_to(),
    };
    *cut += (carry.len() - valid) as u64;
    carry.truncate(valid);
    std::str::from_utf8(carry).unwrap_or_default()
}

/// A line borrowed whole, or cut at the last character boundary within the limit; with the bytes cut.
fn cut_at(line: &[u8], max_line: usize) -> (&str, u64) {
    let mut end = line.len().min(max_line);
    // UTF-8 continuation bytes are 0b10xx_xxxx: a cut before one splits a character.
    while end < line.len() && end > 0 && line[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    let text = match std::str::from_utf8(&line[..end]) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(&line[..e.valid_up_to()]).unwrap_or_default(),
    };
    (text, (line.len() - text.len()) as u64)
}

/// The text of a [`LineReader`] again, each line cut at the limit (and said so in `diagnostics`), for readers
/// that take a byte stream and find their own records in it (the csv reader: a quoted message spans lines). Line
/// ends are kept, so byte positions count the same lines as in the file.
pub struct CutLines<'d, R> {
    lines: LineReader<R>,
    path: &'d str,
    diagnostics: &'d mut Vec<Diagnostic>,
    /// The current line as passed on, and how much of it was.
    line: Vec<u8>,
    at: usize,
    done: bool,
}

impl<'d, R: BufRead> CutLines<'d, R> {
    /// The lines of `lines`, warnings about cut ones (with `path`) into `diagnostics`.
    pub fn new(lines: LineReader<R>, path: &'d str, diagnostics: &'d mut Vec<Diagnostic>) -> Self {
        Self { lines, path, diagnostics, line: Vec::new(), at: 0, done: false }
    }
}

impl<R: BufRead> Read for CutLines<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let max_line = self.lines.max_line;
        while self.at >= self.line.len() && !self.done {
            self.line.clear();
            self.at = 0;
            match self.lines.next_line() {
                Ok(Some(line)) => {
                    if line.cut > 0 {
                        self.diagnostics.push(long_line(self.path, line.no, max_line, line.cut));
                    }
                    self.line.extend_from_slice(line.text.as_bytes());
                    if line.complete {
                        self.line.push(b'\n');
                    }
                }
                Ok(None) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        }
        let n = (self.line.len() - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.line[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Hands every line of `lines` to `on_line`, with the `--max-line-length` warning when the line was cut;
/// returns the read error that ended the input early, if one did (what was read before it is kept).
pub fn each_line<R: BufRead>(
    mut lines: LineReader<R>,
    path: &str,
    mut on_line: impl FnMut(Line<'_>, Option<Diagnostic>),
) -> Option<Diagnostic> {
    let max_line = lines.max_line;
    loop {
        match lines.next_line() {
            Ok(Some(line)) => {
                let cut = (line.cut > 0).then(|| long_line(path, line.no, max_line, line.cut));
                on_line(line, cut);
            }
            Ok(None) => return None,
            Err(e) => return Some(read_error(path, lines.line_no() + 1, &e)),
        }
    }
}

/// Numbered lines of a file's bytes, decoded as [`DecodeReader`] does.
pub fn decoded_lines<R: BufRead>(reader: R, max_line: usize) -> LineReader<DecodeReader<R>> {
    LineReader::new(DecodeReader::new(reader), max_line)
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

/// The diagnostic for a read error: what was read before it is kept.
pub(crate) fn read_error(path: &str, line: u64, e: &io::Error) -> Diagnostic {
    Diagnostic::at_line(path, line, Severity::Error, format!("read error, rest of the file skipped: {e}"))
}

/// Tells the line of byte offsets in a stream of text as it passes through: a [`Read`] adapter for readers
/// (the csv crate) that report byte positions. A position at a line end counts as the next line (the csv crate
/// places a record after the `\r` of a CRLF); offsets asked for must not decrease. Memory is bounded by the
/// line ends read ahead of the last offset asked for.
pub struct LineTracker<R> {
    inner: R,
    /// Bytes passed through.
    offset: u64,
    /// Start of the run of `\r`/`\n` bytes the last one passed belongs to, and where that last one was.
    run_start: u64,
    last_line_end: Option<u64>,
    /// For each `\n` passed and not counted yet: the start of its run of `\r`/`\n` bytes.
    pending: VecDeque<u64>,
    line: u64,
}

impl<R> LineTracker<R> {
    /// A tracker whose first byte is on line `first_line`.
    pub fn new(inner: R, first_line: u64) -> Self {
        Self { inner, offset: 0, run_start: 0, last_line_end: None, pending: VecDeque::new(), line: first_line }
    }

    /// The line of byte `offset` (counted from this reader's first byte), skipping line-end bytes at it.
    pub fn line_at(&mut self, offset: u64) -> u64 {
        while self.pending.front().is_some_and(|&start| start <= offset) {
            self.pending.pop_front();
            self.line += 1;
        }
        self.line
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for i in memchr::memchr2_iter(b'\r', b'\n', &buf[..n]) {
            let at = self.offset + i as u64;
            if self.last_line_end.is_none_or(|last| last + 1 != at) {
                self.run_start = at;
            }
            self.last_line_end = Some(at);
            if buf[i] == b'\n' {
                self.pending.push_back(self.run_start);
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::text::decode;

    fn utf16(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { UTF16LE_BOM.to_vec() } else { Vec::new() };
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    }

    fn streamed(bytes: &[u8], capacity: usize) -> String {
        let mut text = String::new();
        DecodeReader::new(io::BufReader::with_capacity(capacity, bytes)).read_to_string(&mut text).unwrap();
        text
    }

    /// Every capacity from one byte up decodes as the whole-file decode does.
    fn same_as_decode(bytes: &[u8]) {
        let whole = decode(bytes).text.into_owned();
        for capacity in [1, 2, 3, 5, 7, 64, 65, 1000, 1 << 16] {
            assert_eq!(streamed(bytes, capacity), whole, "capacity {capacity}");
        }
    }

    #[test]
    fn utf8_ansi_and_bom_decode_as_decode_does() {
        same_as_decode(b"\xEF\xBB\xBFa\r\nb\n");
        same_as_decode(b"caf\xE9\nd\xC3\xA9j\xC3\xA0\r\nlast");
        same_as_decode(b"");
        same_as_decode(b"\n\n");
    }

    #[test]
    fn utf16le_with_and_without_bom_decodes_as_decode_does() {
        same_as_decode(&utf16("Tue 05/22/2020\r\nline two \u{1F600}\r\n", true));
        same_as_decode(&utf16("Handle type summary:\r\n  File : 10\r\nno end", false));
        let mut odd = utf16("ab\r\n", true);
        odd.push(b'c');
        same_as_decode(&odd);
    }

    #[test]
    fn encoding_that_changes_part_way_decodes_as_decode_does() {
        let mut bytes = b"first ansi caf\xE9\r\n".to_vec();
        bytes.extend(utf16("Tuesday, May 22, 2020 10:35:55 PM\r\n", true));
        bytes.extend_from_slice(b"\r\n Tag  Type\r\n\xEF\xBB\xBFbom line\r\n");
        bytes.extend(utf16("next\r\n", false));
        bytes.extend_from_slice(b" Toke Paged 1 2 3");
        same_as_decode(&bytes);
    }

    #[test]
    fn a_mid_file_bom_before_the_first_nul_is_where_streaming_differs() {
        // decode() applies the UTF-16 rules to every line of a file with NULs; the stream cannot know yet.
        let mut bytes = b"a\r\n\xEF\xBB\xBFb\r\n".to_vec();
        bytes.extend(utf16("c\r\n", true));
        assert_eq!(decode(&bytes).text, "a\r\nb\r\nc\r\n");
        assert_eq!(streamed(&bytes, 4096), "a\r\n\u{feff}b\r\nc\r\n");
    }

    #[test]
    fn long_lines_decode_in_parts() {
        let long = "é".repeat(PART);
        let mut bytes = long.as_bytes().to_vec();
        bytes.extend_from_slice(b"\nend\n");
        assert_eq!(streamed(&bytes, 4096), format!("{long}\nend\n"));
        // A surrogate pair across the part boundary (capacities 1-3 would rescan the long line per byte).
        for pad in [PART / 2 - 1, PART / 2, PART / 2 + 1] {
            let wide = utf16(&format!("{}\u{1F600}\r\nz", "x".repeat(pad)), true);
            assert_eq!(streamed(&wide, 4096), decode(&wide).text, "pad {pad}");
        }
    }

    fn lines(text: &[u8], capacity: usize, max: usize) -> Vec<(u64, String, bool, u64)> {
        let mut reader = decoded_lines(io::BufReader::with_capacity(capacity, text), max);
        let mut out = Vec::new();
        while let Some(l) = reader.next_line().unwrap() {
            out.push((l.no, l.text.to_owned(), l.complete, l.cut));
        }
        out
    }

    #[test]
    fn lines_are_numbered_as_split_does() {
        let text = b"a\r\n\nb\nlast";
        for capacity in [1, 2, 3, 4096] {
            assert_eq!(
                lines(text, capacity, 100),
                [
                    (1, "a\r".to_owned(), true, 0),
                    (2, String::new(), true, 0),
                    (3, "b".to_owned(), true, 0),
                    (4, "last".to_owned(), false, 0)
                ]
            );
        }
        assert!(lines(b"", 16, 100).is_empty());
        assert_eq!(lines(b"x\n", 16, 100).len(), 1);
    }

    #[test]
    fn long_lines_are_cut_at_a_character_boundary() {
        let text = "aé€xyz\nshort\n".as_bytes();
        for capacity in [1, 3, 4096] {
            let got = lines(text, capacity, 4);
            // `a`, `é` (2 bytes) fit in 4; `€` (3 bytes) does not.
            assert_eq!(got[0], (1, "aé".to_owned(), true, 6), "capacity {capacity}");
            assert_eq!(got[1], (2, "shor".to_owned(), true, 1));
        }
    }

    #[test]
    fn line_tracker_counts_line_ends_before_an_offset() {
        let text = b"ab\r\ncd\n\nef";
        let mut tracker = LineTracker::new(&text[..], 1);
        let mut sink = Vec::new();
        tracker.read_to_end(&mut sink).unwrap();
        assert_eq!(tracker.line_at(0), 1);
        // At the `\r` of the first CRLF: the record after it starts on line 2.
        assert_eq!(tracker.line_at(2), 2);
        assert_eq!(tracker.line_at(4), 2);
        // Offset 6 is the first `\n` of a `\n\n` run: both are skipped.
        assert_eq!(tracker.line_at(6), 4);
        assert_eq!(tracker.line_at(9), 4);
    }
}
