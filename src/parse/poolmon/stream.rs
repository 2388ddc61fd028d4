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
    parse_reader_detailed(reader, ctx, |t| on_snapshot(t.snapshot))
}

/// Streams whole [`PoolmonTable`]s (deltas, totals, scope) from `reader` to `on_table`.
pub fn parse_reader_detailed<R: BufRead>(
    mut reader: R,
    ctx: &FileContext,
    on_table: impl FnMut(PoolmonTable),
) -> Vec<Diagnostic> {
    let mut assembler = Assembler::new(&ctx.path, ctx.host.clone());
    let mut pipe =
        Pipeline { held: None, emitted: 0, times: TimeAssigner::streaming(ctx), diagnostics: Vec::new(), on_table };
    let mut buf: Vec<u8> = Vec::with_capacity(512);
    let mut no: u64 = 0;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                pipe.diagnostics.push(Diagnostic::at_line(
                    &ctx.path,
                    no + 1,
                    Severity::Error,
                    format!("read error, rest of the file skipped: {e}"),
                ));
                break;
            }
        }
        if buf.contains(&0) {
            // UTF-16 from here on (or a mixed file): decode the rest whole, keeping line numbers.
            if let Err(e) = reader.read_to_end(&mut buf) {
                pipe.diagnostics.push(Diagnostic::at_line(
                    &ctx.path,
                    no + 1,
                    Severity::Error,
                    format!("read error, rest of the file skipped: {e}"),
                ));
            }
            let text = decode(&buf);
            for (k, line, complete) in numbered_lines(&text.text) {
                assembler.line(no + k, line, complete, &mut |t| pipe.push(t));
            }
            break;
        }
        no += 1;
        let complete = buf.last() == Some(&b'\n');
        let bytes = if complete { &buf[..buf.len() - 1] } else { &buf[..] };
        if let Ok(line) = std::str::from_utf8(bytes) {
            assembler.line(no, line, complete, &mut |t| pipe.push(t));
        } else {
            let line = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0;
            assembler.line(no, &line, complete, &mut |t| pipe.push(t));
        }
    }
    assembler.finish(&mut |t| pipe.push(t));
    let mut diagnostics = std::mem::take(&mut assembler.diagnostics);
    diagnostics.extend(pipe.finish());
    diagnostics
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
}
