//! Streaming: tables from any reader, one at a time, with memory bounded by two tables (the one being read and
//! the one held back until it is known whether it is the file's only table, which decides whether the file's
//! modification time may date it; see [`super::timing`]).
//!
//! Lines are decoded and cut at `--max-line-length` by [`crate::parse::lines`], as the whole-file
//! [`crate::parse::text::decode`] decodes them (UTF-8, else Windows-1252; UTF-16 lines of a PowerShell wrapper,
//! formats reference §1.5, from the first line holding a NUL byte on). Day/month order is settled as timestamps come ([`crate::parse::timestamp::StampClock`]), so a
//! streamed file whose order is only settled late gets a warning that [`super::parse`] would not need.

use std::io::BufRead;

use crate::model::{Diagnostic, PoolSnapshot};
use crate::parse::{lines, FileContext};

use super::assemble::Assembler;
use super::timing::TimeAssigner;
use super::PoolmonTable;

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
    reader: R,
    ctx: &FileContext,
    on_table: impl FnMut(PoolmonTable),
) -> Vec<Diagnostic> {
    let mut assembler = Assembler::new(&ctx.path, ctx.host.clone());
    let mut pipe =
        Pipeline { held: None, emitted: 0, times: TimeAssigner::streaming(ctx), diagnostics: Vec::new(), on_table };
    let lines = lines::decoded_lines(reader, ctx.limits.max_line_bytes);
    let failed = lines::each_line(lines, &ctx.path, |line, cut| {
        pipe.diagnostics.extend(cut);
        assembler.line(line.no, line.text, line.complete, &mut |t| pipe.push(t));
    });
    pipe.diagnostics.extend(failed);
    assembler.finish(&mut |t| pipe.push(t));
    let mut diagnostics = std::mem::take(&mut assembler.diagnostics);
    diagnostics.extend(pipe.finish());
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

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
