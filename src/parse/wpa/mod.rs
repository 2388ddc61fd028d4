//! WPA pool tables: what `wpaexporter trace.etl -profile x.wpaProfile -outputfolder d` or "Export to CSV" writes
//! from the Pool Usage / Pool Graphs tables of a "Pool usage" trace (peers §2.4, §8).
//!
//! What is accepted:
//! - columns matched by name in any order ([`columns`]): `Type` (AIFO/AIFI/AOFI/AOFO) and `Pool Tag` are needed,
//!   with at least one of `Size`, `Count`, `Outstanding Size`, `Total Size` or `Stack`; `Paged` (Paged/NonPaged or
//!   True/False) is optional; other columns are ignored;
//! - `,`, `;` or tab as delimiter (the one the header row uses most), quoted fields, UTF-8 with or without BOM and
//!   UTF-16LE with BOM (decoded before); numbers with thousands separators (`6,189`, `6.189`, `6 189`);
//! - `Size` is bytes per allocation; without it, `Outstanding Size` (else `Total Size`) over `Count`. Without a
//!   `Count` (or `Outstanding Count`) column each row is one allocation;
//! - the stack in one cell, frames separated by `/` or line breaks ([`stack`]); or one frame per row, as a table
//!   exported with its stack tree expanded writes it: a row whose only non-empty cell is `Stack` continues the
//!   stack of the row above.
//!
//! A row that cannot be read (no tag, an unknown type, a number that is not one, fewer cells than the header,
//! a last row cut short) is a diagnostic with its line and is left out.

pub mod columns;
pub mod stack;

use columns::Columns;

use crate::model::{AllocationKind, AllocationTable, Diagnostic, PoolAllocation, PoolType, Severity, SourceRef};
use crate::parse::perfmon::LineIndex;
use crate::parse::FileContext;

/// Bad rows of a file reported one by one; the rest are counted in one diagnostic.
const ROW_DIAGNOSTICS_SHOWN: usize = 20;

/// Whether the first non-empty line is the header of a WPA pool table.
pub fn looks_like(text: &str) -> bool {
    header_line(text).is_some_and(|(_, line, delimiter)| Columns::from_header(split_header(line, delimiter)).is_ok())
}

/// The header: (byte offset of its line, the line, the delimiter).
fn header_line(text: &str) -> Option<(usize, &str, u8)> {
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_start_matches('\u{feff}').trim();
        if !line.is_empty() {
            return Some((offset, line, delimiter(line)));
        }
        offset += raw.len();
    }
    None
}

/// The delimiter a header row uses most: tab, `;` or `,`.
fn delimiter(line: &str) -> u8 {
    let count = |c: char| line.matches(c).count();
    let (tabs, semicolons, commas) = (count('\t'), count(';'), count(','));
    if tabs > 0 && tabs >= semicolons && tabs >= commas {
        b'\t'
    } else if semicolons > commas {
        b';'
    } else {
        b','
    }
}

fn split_header(line: &str, delimiter: u8) -> impl Iterator<Item = &str> {
    line.split(char::from(delimiter))
}

/// A row being read, before its stack is put innermost first.
struct Pending {
    allocation: PoolAllocation,
    frames: Vec<String>,
    rooted: bool,
}

impl Pending {
    fn finish(self) -> PoolAllocation {
        let mut allocation = self.allocation;
        allocation.stack = stack::innermost_first(self.frames, self.rooted);
        allocation
    }
}

/// Parses a decoded WPA pool table. `None` (with an error) when the header is not a pool table's; a table
/// with no usable row is returned empty (the caller says the file gave nothing).
pub fn parse(text: &str, ctx: &FileContext) -> (Option<AllocationTable>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let text = text.trim_start_matches('\u{feff}');
    let Some((start, header, delimiter)) = header_line(text) else {
        diagnostics.push(Diagnostic::for_file(&ctx.path, Severity::Error, "empty WPA pool table"));
        return (None, diagnostics);
    };
    let lines = LineIndex::new(text);
    let header_line_no = text[..start].matches('\n').count() as u64 + 1;
    let columns = match Columns::from_header(split_header(header, delimiter)) {
        Ok(c) => c,
        Err(e) => {
            diagnostics.push(Diagnostic::at_line(&ctx.path, header_line_no, Severity::Error, e.to_string()));
            return (None, diagnostics);
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(&text.as_bytes()[start..]);
    if let Err(e) = reader.headers() {
        diagnostics.push(Diagnostic::at_line(
            &ctx.path,
            header_line_no,
            Severity::Error,
            format!("bad header row: {e}"),
        ));
        return (None, diagnostics);
    }
    let mut rows = Rows { ctx, columns, diagnostics: &mut diagnostics, bad: 0, kept: Vec::new() };
    let mut record = csv::StringRecord::new();
    loop {
        let position = reader.position().clone();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let byte = record.position().map_or(position.byte(), csv::Position::byte) as usize + start;
                let mut at = csv::Position::new();
                at.set_byte(byte as u64);
                let line = lines.of(Some(&at));
                // A copy taken while wpaexporter wrote: the file ends inside the last row's quoted cell.
                let at_end = reader.position().byte() as usize + start >= text.len();
                let open_quote = at_end && !text.ends_with('\n') && text.get(byte..).is_some_and(unbalanced_quotes);
                if open_quote {
                    rows.bad(line, "the file ends inside this row's quoted cell (cut short?); skipped".to_owned());
                } else if record.len() < columns.width {
                    let message = format!(
                        "row has {} of the header's {} cells (cut short?); skipped",
                        record.len(),
                        columns.width
                    );
                    rows.bad(line, message);
                } else {
                    rows.row(&record, line);
                }
            }
            Err(e) => {
                let byte = e.position().map_or(position.byte(), csv::Position::byte) as usize + start;
                let mut at = csv::Position::new();
                at.set_byte(byte as u64);
                rows.bad(lines.of(Some(&at)), format!("unreadable row: {e}"));
                // The csv reader moves on past a bad record; one that cannot would repeat forever.
                if reader.position().byte() == position.byte() {
                    break;
                }
            }
        }
    }
    let bad = rows.bad;
    let allocations: Vec<PoolAllocation> = rows.kept.into_iter().map(Pending::finish).collect();
    if bad > ROW_DIAGNOSTICS_SHOWN {
        diagnostics.push(Diagnostic::for_file(
            &ctx.path,
            Severity::Warning,
            format!("{} more rows of the WPA pool table were skipped", bad - ROW_DIAGNOSTICS_SHOWN),
        ));
    }
    let table =
        AllocationTable { source: SourceRef::line(&ctx.path, header_line_no), host: ctx.host.clone(), allocations };
    (Some(table), diagnostics)
}

/// Whether a row's raw text (to the end of the file) leaves a quoted field open: the file ends inside it.
fn unbalanced_quotes(raw: &str) -> bool {
    raw.matches('"').count() % 2 == 1
}

/// The rows read so far.
struct Rows<'a> {
    ctx: &'a FileContext,
    columns: Columns,
    diagnostics: &'a mut Vec<Diagnostic>,
    bad: usize,
    kept: Vec<Pending>,
}

impl Rows<'_> {
    fn bad(&mut self, line: u64, message: String) {
        self.bad += 1;
        if self.bad <= ROW_DIAGNOSTICS_SHOWN {
            self.diagnostics.push(Diagnostic::at_line(&self.ctx.path, line, Severity::Warning, message));
        }
    }

    fn row(&mut self, record: &csv::StringRecord, line: u64) {
        let c = self.columns;
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).map(str::trim).filter(|s| !s.is_empty());
        let stack_cell = c.stack.and_then(|i| record.get(i)).filter(|s| !s.trim().is_empty());
        let others_empty = record.iter().enumerate().all(|(i, v)| Some(i) == c.stack || v.trim().is_empty());
        if others_empty {
            // One frame per row (a stack tree expanded): more frames of the row above.
            match (stack_cell, self.kept.last_mut()) {
                (Some(s), Some(last)) => last.frames.extend(stack::split_cell(s).0.into_iter().map(str::to_owned)),
                (Some(_), None) => self.bad(line, "stack frames before any allocation row; skipped".to_owned()),
                (None, _) => {}
            }
            return;
        }
        let Some(tag) = cell(Some(c.tag)) else {
            return self.bad(line, "row without a pool tag; skipped".to_owned());
        };
        let kind_text = cell(Some(c.kind)).unwrap_or("");
        // Exports concatenated from several runs repeat the header.
        if columns::name_and_unit(tag).0 == "pool tag" || columns::name_and_unit(kind_text).0 == "type" {
            return;
        }
        let Some(kind) = allocation_kind(kind_text) else {
            return self.bad(line, format!("tag {tag:?}: type {kind_text:?} is not AIFO, AIFI, AOFI or AOFO; skipped"));
        };
        let mut amounts = [None; 5];
        let specs = [
            c.count.map(|i| (i, 1.0, false)),
            c.outstanding_count.map(|i| (i, 1.0, false)),
            c.size.map(|(i, f)| (i, f, f > 1.0)),
            c.outstanding_size.map(|(i, f)| (i, f, f > 1.0)),
            c.total_size.map(|(i, f)| (i, f, f > 1.0)),
        ];
        for (slot, spec) in amounts.iter_mut().zip(specs) {
            let Some((i, factor, decimals)) = spec else { continue };
            let Some(text) = cell(Some(i)) else { continue };
            match number(text, decimals) {
                Some(v) => *slot = Some((v * factor).round().max(0.0) as u64),
                None => return self.bad(line, format!("tag {tag:?}: {text:?} is not a number; skipped")),
            }
        }
        let [count, outstanding_count, size, outstanding_size, total_size] = amounts;
        let count = count.or(outstanding_count).unwrap_or(1);
        let total = outstanding_size.or(total_size);
        let size = match (size, total) {
            // A profile that sums Size over the row's allocations: the per-allocation size is the mean.
            (Some(s), Some(t)) if count > 1 && s == t => Some(t / count),
            (Some(s), _) => Some(s),
            (None, Some(t)) if count > 0 => Some(t / count),
            _ => None,
        };
        let (frames, rooted) = stack_cell.map(stack::split_cell).unwrap_or_default();
        self.kept.push(Pending {
            allocation: PoolAllocation {
                source: SourceRef::line(&self.ctx.path, line),
                tag: super::pool_csv::fit_tag(tag).to_string(),
                pool: cell(c.pool).and_then(pool_type),
                kind,
                size,
                count,
                stack: Vec::new(),
            },
            frames: frames.into_iter().map(str::to_owned).collect(),
            rooted,
        });
    }
}

/// `AIFO` and its kin, also spelled out (`Allocated Inside Freed Outside`), any case.
fn allocation_kind(text: &str) -> Option<AllocationKind> {
    let letters: String = text.chars().filter(char::is_ascii_alphabetic).collect::<String>().to_ascii_lowercase();
    let code = match letters.as_str() {
        "allocatedinsidefreedoutside" => "aifo",
        "allocatedinsidefreedinside" => "aifi",
        "allocatedoutsidefreedinside" => "aofi",
        "allocatedoutsidefreedoutside" => "aofo",
        other => other,
    };
    AllocationKind::ALL.into_iter().find(|k| k.code().eq_ignore_ascii_case(code))
}

/// The `Paged` column: `Paged`/`NonPaged` (any case, `NonPagedNx` too) or `True`/`False`.
fn pool_type(text: &str) -> Option<PoolType> {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("non") || lower == "false" {
        Some(PoolType::Nonpaged)
    } else if lower.starts_with("paged") || lower == "true" {
        Some(PoolType::Paged)
    } else {
        None
    }
}

/// A number cell. Spaces, no-break spaces and apostrophes group thousands. In a count or byte column
/// (`decimals` false) a last `.` or `,` is the decimal point only when one or two digits follow it
/// (`1,664.00`), else it groups thousands (`6,189`, `6.189`); in a column of KB or MB it is the decimal point
/// unless it is repeated before three digits (`1.625` KB, `1,234,567` KB).
fn number(text: &str, decimals: bool) -> Option<f64> {
    let cleaned: String = text.chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'')).collect();
    let (int_part, frac_part) = match cleaned.rfind(['.', ',']) {
        Some(i) => {
            let after = &cleaned[i + 1..];
            let repeated = cleaned[..i].contains(&cleaned[i..=i]);
            let decimal_point = if decimals { !(repeated && after.len() == 3) } else { (1..=2).contains(&after.len()) };
            if decimal_point {
                (&cleaned[..i], after)
            } else {
                (cleaned.as_str(), "")
            }
        }
        None => (cleaned.as_str(), ""),
    };
    let digits: String = int_part.chars().filter(|c| !matches!(c, '.' | ',')).collect();
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if digits.is_empty() || digits.len() > 20 || !all_digits(&digits) || !all_digits(frac_part) {
        return None;
    }
    format!("{digits}.{}", if frac_part.is_empty() { "0" } else { frac_part }).parse().ok()
}

/// One test per rule, and every fixture under `fixtures/wpa/` with how many rows it gives and how many
/// diagnostics.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AllocationKind::{Aifi, Aifo, Aofi, Aofo};

    fn ctx(name: &str) -> FileContext {
        FileContext { path: format!("fixtures/wpa/{name}"), ..FileContext::default() }
    }

    /// A fixture decoded and parsed: its table and diagnostics.
    fn fixture(name: &str) -> (AllocationTable, Vec<Diagnostic>) {
        let bytes = std::fs::read(format!("{}/fixtures/wpa/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let text = crate::parse::text::decode(&bytes).text.into_owned();
        assert!(looks_like(&text), "{name} is not detected");
        let (table, diags) = parse(&text, &ctx(name));
        (table.expect("a table"), diags)
    }

    #[test]
    fn wpaexporter_flat_stack() {
        let (t, diags) = fixture("wpaexporter_flat_stack.csv");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(t.allocations.len(), 7);
        let a = &t.allocations[0];
        assert_eq!(
            (a.tag.as_str(), a.kind, a.pool, a.size, a.count),
            ("Toke", Aifo, Some(PoolType::Paged), Some(1664), 5980)
        );
        assert_eq!(a.stack[0], "ntkrnlmp.exe!ExAllocatePoolWithTag");
        assert_eq!(stack::callers(&a.stack, 1), ["ntkrnlmp.exe!SepDuplicateToken"]);
        assert_eq!(a.source.line, Some(2));
        assert_eq!(t.allocations[6].kind, Aofi);
        assert_eq!(t.allocations[4].kind, Aofo);
        assert_eq!(t.allocations[3].kind, Aifi);
        assert_eq!(t.allocations[5].tag, "ObNm");
    }

    #[test]
    fn utf16le_bom_tab_multiline_stack() {
        let (t, diags) = fixture("utf16le_bom_tab_multiline_stack.csv");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(t.allocations.len(), 3);
        let toke = &t.allocations[0];
        // Written innermost first (the allocator at the top): kept that way.
        assert_eq!(stack::callers(&toke.stack, 2), ["ntkrnlmp.exe!SepDuplicateToken", "ntkrnlmp.exe!NtDuplicateToken"]);
        assert_eq!(t.allocations[1].pool, Some(PoolType::Nonpaged));
        assert_eq!(t.allocations[1].tag, "NtFs");
        assert!(t.allocations[2].stack.is_empty());
        // The second row starts on line 7: the first row's stack cell spans five lines.
        assert_eq!(t.allocations[1].source.line, Some(7));
    }

    #[test]
    fn semicolon_de_thousands_kb() {
        let (t, diags) = fixture("semicolon_de_thousands_kb.csv");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(t.allocations.len(), 3);
        // 9.820,50 KB over 6.043 allocations; no Size column.
        assert_eq!((t.allocations[0].count, t.allocations[0].size), (6043, Some(1664)));
        assert_eq!(t.allocations[1].size, Some(1664));
        assert_eq!((t.allocations[2].pool, t.allocations[2].size), (Some(PoolType::Nonpaged), Some(512)));
        assert_eq!(t.allocations[0].pool, Some(PoolType::Paged));
    }

    #[test]
    fn missing_columns_no_stack_no_paged() {
        let (t, diags) = fixture("missing_columns_no_stack_no_paged.csv");
        // The unknown type and the row without a tag.
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert_eq!(diags[0].line, Some(5));
        assert!(diags[0].message.contains("\"XXXX\""), "{diags:?}");
        assert_eq!(diags[1].line, Some(6));
        assert_eq!(t.allocations.len(), 3);
        assert_eq!((t.allocations[0].size, t.allocations[0].pool), (Some(1664), None));
        assert_eq!(t.allocations[2].tag, "Key ");
        assert_eq!(t.allocations[2].size, Some(64));
    }

    #[test]
    fn err_truncated_last_row() {
        let (t, diags) = fixture("err_truncated_last_row.csv");
        assert_eq!(t.allocations.len(), 6);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].line, Some(8));
        assert!(diags[0].message.contains("cut short"), "{diags:?}");
    }

    #[test]
    fn stack_tree_one_frame_per_row() {
        let (t, diags) = fixture("stack_tree_one_frame_per_row.csv");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(t.allocations.len(), 2);
        assert_eq!(t.allocations[0].stack.len(), 5);
        assert_eq!(stack::callers(&t.allocations[0].stack, 1), ["ntkrnlmp.exe!SepDuplicateToken"]);
        assert_eq!(t.allocations[1].stack, ["ntkrnlmp.exe!ExAllocatePool2", "ntkrnlmp.exe!SepDuplicateToken"]);
    }

    #[test]
    fn numbers_with_separators() {
        assert_eq!(number("6,189", false), Some(6189.0));
        assert_eq!(number("6.189", false), Some(6189.0));
        assert_eq!(number("6\u{a0}189", false), Some(6189.0));
        assert_eq!(number("1,664.00", false), Some(1664.0));
        assert_eq!(number("1.234.567", false), Some(1_234_567.0));
        assert_eq!(number("1.625", true), Some(1.625));
        assert_eq!(number("1,234,567", true), Some(1_234_567.0));
        assert_eq!(number("9.820,50", true), Some(9820.5));
        for bad in ["", "-", "12a", "1e5", ",", "99999999999999999999999"] {
            assert_eq!(number(bad, false), None, "{bad}");
        }
    }

    #[test]
    fn kinds_and_pools_in_their_spellings() {
        assert_eq!(allocation_kind("aifo"), Some(Aifo));
        assert_eq!(allocation_kind("Allocated Inside Freed Outside"), Some(Aifo));
        assert_eq!(allocation_kind("AOFO"), Some(Aofo));
        assert_eq!(allocation_kind("Inside"), None);
        assert_eq!(pool_type("NonPagedNx"), Some(PoolType::Nonpaged));
        assert_eq!(pool_type("False"), Some(PoolType::Nonpaged));
        assert_eq!(pool_type("TRUE"), Some(PoolType::Paged));
        assert_eq!(pool_type("Session"), None);
    }

    #[test]
    fn delimiter_is_the_headers_most_used() {
        assert_eq!(delimiter("Type;Pool Tag;Count"), b';');
        assert_eq!(delimiter("Type\tPool Tag\tSize (B), total"), b'\t');
        assert_eq!(delimiter("\"Type\",\"Pool Tag\",\"Count\""), b',');
    }

    #[test]
    fn repeated_headers_are_skipped_and_a_bad_header_is_an_error() {
        let text = "Type,Pool Tag,Count\nAIFO,Toke,3\nType,Pool Tag,Count\nAIFO,Toke,4\n";
        let (t, diags) = parse(text, &ctx("x.csv"));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(t.unwrap().allocations.iter().map(|a| a.count).sum::<u64>(), 7);
        let (t, diags) = parse("Tag,PagedUsedBytes\nToke,1\n", &ctx("x.csv"));
        assert!(t.is_none());
        assert_eq!(diags[0].severity, Severity::Error);
        assert_eq!(diags[0].line, Some(1));
        let (t, diags) = parse("\n\n", &ctx("x.csv"));
        assert!(t.is_none() && diags[0].severity == Severity::Error);
    }

    #[test]
    fn bad_rows_beyond_the_shown_ones_are_counted() {
        let mut text = String::from("Type,Pool Tag,Count\n");
        for _ in 0..30 {
            text.push_str("AIFO,Toke,many\n");
        }
        let (t, diags) = parse(&text, &ctx("x.csv"));
        assert!(t.unwrap().allocations.is_empty());
        assert_eq!(diags.len(), ROW_DIAGNOSTICS_SHOWN + 1);
        assert!(diags.last().unwrap().message.starts_with("10 more rows"), "{diags:?}");
    }

    #[test]
    fn any_prefix_of_a_fixture_never_panics() {
        let text =
            std::fs::read_to_string(format!("{}/fixtures/wpa/wpaexporter_flat_stack.csv", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        for cut in (0..text.len()).filter(|c| text.is_char_boundary(*c)) {
            let _ = parse(&text[..cut], &ctx("x.csv"));
        }
        let _ = parse("Type,Pool Tag,Stack\n\"", &ctx("x.csv"));
        let _ = parse("Type,Pool Tag,Stack\n,,x\n,,y\n", &ctx("x.csv"));
    }
}
