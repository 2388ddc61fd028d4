//! Snapshot assembly: classifies each line and groups lines into tables (formats reference §1.2, §1.3).
//!
//! A table starts at its first summary line, title line or column header (whichever comes first) and ends
//! where the next one starts, at a timestamp line, or at the end of the input. Lines are fed one at a time,
//! so the same code serves whole-text parsing and streaming; memory is one table.

use crate::model::{Diagnostic, PoolHeader, PoolRow, PoolSnapshot, PoolTag, Severity, SourceRef, TimeSource};
use crate::parse::timestamp::{stamp_line, RawStamp};

use super::grammar::{
    column_header, error_line, summary_line, tag_row, title_line, to_counter, total_row, ErrorLine, Layout, RowFields,
    SummaryLine,
};
use super::row::fast_tag_row;
use super::PoolmonTable;

/// A table being read.
// One flag per kind of line the format puts before the rows (formats reference §1.2): which ones were seen
// decides where the next table starts.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug)]
struct Builder {
    table: PoolmonTable,
    has_memory: bool,
    has_commit: bool,
    has_title: bool,
    has_header: bool,
    /// Rows that ended in whitespace (`-n` without `/g` ends every row in 8 spaces).
    rows_with_trailing_space: usize,
}

impl Builder {
    fn started(&self) -> bool {
        self.has_header || !self.table.snapshot.rows.is_empty()
    }
}

/// Groups lines into [`PoolmonTable`]s and collects diagnostics about the lines.
#[derive(Debug)]
pub struct Assembler {
    path: String,
    host: Option<String>,
    current: Option<Builder>,
    /// A timestamp line waiting for the table after it, with its line number.
    pending_stamp: Option<RawStamp>,
    /// poolmon said `List Truncated` before the table it belongs to started.
    pending_truncated: bool,
    /// x86 negatives reinterpreted: count and first line.
    negatives: (u64, u64),
    /// Lines outside any table that were not recognised: count and first line.
    ignored: (u64, u64),
    /// Rows in the previous table: the next one's row vector starts at that capacity (no regrowth per table).
    last_rows: usize,
    /// Diagnostics so far.
    pub diagnostics: Vec<Diagnostic>,
}

/// At most this many characters of a bad line are quoted in a diagnostic.
const QUOTE_CHARS: usize = 60;

/// A bad line, shortened and with control characters escaped, for a diagnostic (logs are untrusted).
fn quote(line: &str) -> String {
    let mut out: String = line.trim().chars().take(QUOTE_CHARS).flat_map(char::escape_debug).collect();
    if line.trim().chars().count() > QUOTE_CHARS {
        out.push('…');
    }
    out
}

impl Assembler {
    /// An assembler for one file.
    pub fn new(path: &str, host: Option<String>) -> Self {
        Self {
            path: path.to_owned(),
            host,
            current: None,
            pending_stamp: None,
            pending_truncated: false,
            negatives: (0, 0),
            ignored: (0, 0),
            last_rows: 0,
            diagnostics: Vec::new(),
        }
    }

    fn diag(&mut self, line: u64, severity: Severity, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::at_line(&self.path, line, severity, message));
    }

    /// Feeds one line (without its line end). `complete` is false for a last line that had no line end: a
    /// file cut off while poolmon was writing.
    pub fn line(&mut self, no: u64, line: &str, complete: bool, out: &mut dyn FnMut(PoolmonTable)) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(fields) = fast_tag_row(line) {
            self.row(no, fields, complete, line, out);
            return;
        }
        let line = line.trim_start_matches('\u{feff}');
        if line.trim().is_empty() {
            return;
        }
        if let Ok((_, fields)) = tag_row(line) {
            self.row(no, fields, complete, line, out);
        } else if let Ok((_, summary)) = summary_line(line) {
            self.summary(no, summary, out);
        } else if let Ok((_, header)) = column_header(line) {
            let b = self.builder_for(no, |b| b.has_header || !b.table.snapshot.rows.is_empty(), out);
            b.has_header = true;
            b.table.layout = header.layout;
            b.table.mapped_driver = header.mapped_driver;
        } else if let Ok((_, scope)) = title_line(line) {
            let b = self.builder_for(no, |b| b.has_title || b.started(), out);
            b.has_title = true;
            b.table.scope = Some(scope);
        } else if let Ok((_, total)) = total_row(line) {
            match self.current.as_mut() {
                Some(b) if b.started() => b.table.totals.push(total),
                _ => self.diag(no, Severity::Error, "`Total` row outside a poolmon table"),
            }
        } else if let Ok((_, kind)) = error_line(line) {
            self.error_line(no, kind, line);
        } else if let Some(mut stamp) = stamp_line(line) {
            self.finish_current(out);
            if let Some(old) = self.pending_stamp.take() {
                let at = old.line.unwrap_or(no);
                self.diag(at, Severity::Warning, "timestamp line with no poolmon output after it (the run failed?)");
            }
            stamp.line = Some(no);
            self.pending_stamp = Some(stamp);
        } else if self.current.as_ref().is_some_and(Builder::started) {
            let what = if complete { "garbled line in a poolmon table" } else { "truncated last line" };
            self.diag(no, Severity::Error, format!("{what}, skipped: {}", quote(line)));
        } else {
            if self.ignored.0 == 0 {
                self.ignored.1 = no;
            }
            self.ignored.0 += 1;
        }
    }

    /// The current builder, after finishing it first when `ends_it` says this line starts a new table.
    fn builder_for(
        &mut self,
        no: u64,
        ends_it: impl Fn(&Builder) -> bool,
        out: &mut dyn FnMut(PoolmonTable),
    ) -> &mut Builder {
        if self.current.as_ref().is_some_and(ends_it) {
            self.finish_current(out);
        }
        let (path, host) = (&self.path, &self.host);
        let (stamp, truncated, capacity) = (&mut self.pending_stamp, &mut self.pending_truncated, self.last_rows);
        self.current.get_or_insert_with(|| Builder {
            table: PoolmonTable {
                snapshot: PoolSnapshot {
                    source: SourceRef::line(path.clone(), no),
                    host: host.clone(),
                    taken_at: None,
                    time_source: TimeSource::Unknown,
                    header: PoolHeader::default(),
                    rows: Vec::with_capacity(capacity),
                },
                layout: Layout::Other,
                mapped_driver: false,
                scope: None,
                deltas: Vec::new(),
                totals: Vec::new(),
                truncated: std::mem::take(truncated),
                stamp: stamp.take(),
            },
            has_memory: false,
            has_commit: false,
            has_title: false,
            has_header: false,
            rows_with_trailing_space: 0,
        })
    }

    fn summary(&mut self, no: u64, summary: SummaryLine, out: &mut dyn FnMut(PoolmonTable)) {
        let mut negative = false;
        let mut kb = |v: i64| {
            let (value, reinterpreted) = to_counter(v)?;
            negative |= reinterpreted;
            Some(value)
        };
        match summary {
            SummaryLine::Memory { memory, avail, page_faults, .. } => {
                let (memory, avail, page_faults) = (kb(memory), kb(avail), kb(page_faults));
                let b = self.builder_for(no, |b| b.has_memory || b.has_commit || b.has_title || b.started(), out);
                b.has_memory = true;
                let h = &mut b.table.snapshot.header;
                (h.memory_kb, h.avail_kb, h.page_faults) = (memory, avail, page_faults);
            }
            SummaryLine::Commit { commit, limit, peak, pool_nonpaged, pool_paged } => {
                let values = (kb(commit), kb(limit), kb(peak), kb(pool_nonpaged), kb(pool_paged));
                let b = self.builder_for(no, |b| b.has_commit || b.has_title || b.started(), out);
                b.has_commit = true;
                let h = &mut b.table.snapshot.header;
                (h.commit_kb, h.limit_kb, h.peak_kb, h.pool_nonpaged_kb, h.pool_paged_kb) = values;
            }
        }
        if negative {
            self.count_negative(no);
        }
    }

    fn count_negative(&mut self, no: u64) {
        if self.negatives.0 == 0 {
            self.negatives.1 = no;
        }
        self.negatives.0 += 1;
    }

    fn error_line(&mut self, no: u64, kind: ErrorLine, line: &str) {
        match kind {
            ErrorLine::ListTruncated => {
                match self.current.as_mut() {
                    Some(b) if b.started() => b.table.truncated = true,
                    _ => self.pending_truncated = true,
                }
                self.diag(no, Severity::Warning, "poolmon truncated this snapshot's tag list (more tags than its buffer holds): the table is incomplete");
            }
            ErrorLine::QueryFailed => {
                self.diag(
                    no,
                    Severity::Error,
                    format!("poolmon could not query pool tags, no snapshot from this run: {}", quote(line)),
                );
            }
            ErrorLine::Other => self.diag(no, Severity::Warning, format!("poolmon message: {}", quote(line))),
            ErrorLine::Advice => self.diag(no, Severity::Info, format!("poolmon advice: {}", quote(line))),
        }
    }

    fn row(&mut self, no: u64, fields: RowFields<'_>, complete: bool, line: &str, out: &mut dyn FnMut(PoolmonTable)) {
        let mut values = [0u64; 5];
        let mut negative = false;
        for (slot, &printed) in values.iter_mut().zip(&fields.values) {
            let Some((value, reinterpreted)) = to_counter(printed) else {
                self.diag(
                    no,
                    Severity::Error,
                    format!("value {printed} is out of range for a pool counter, row skipped"),
                );
                return;
            };
            *slot = value;
            negative |= reinterpreted;
        }
        if let (false, Some(b)) = (complete, self.current.as_ref()) {
            // A last line without a line end is cut short when the rest of the table says more should follow:
            // rows of `-n` files without /g end in 8 spaces, and /g tables end each row in driver text.
            // A `-n` table's first row has no earlier rows to compare with: its layout says the spaces belong.
            let snapshot_layout = matches!(b.table.layout, Layout::X86Snapshot | Layout::X64Snapshot);
            let rows = b.table.snapshot.rows.len();
            let spaces_expected =
                if rows == 0 { snapshot_layout && !b.table.mapped_driver } else { b.rows_with_trailing_space == rows };
            let cut = (!fields.trailing_space && spaces_expected) || (b.table.mapped_driver && fields.driver.is_none());
            if cut {
                self.diag(no, Severity::Error, format!("truncated last line, skipped: {}", quote(line)));
                return;
            }
        }
        if negative {
            self.count_negative(no);
        }
        let b = self.builder_for(no, |_| false, out);
        let rows = &mut b.table.snapshot.rows;
        if let Some(d) = fields.deltas {
            if b.table.deltas.len() < rows.len() {
                b.table.deltas.resize(rows.len(), None);
            }
            b.table.deltas.push(Some(d));
        } else if !b.table.deltas.is_empty() {
            b.table.deltas.push(None);
        }
        b.rows_with_trailing_space += usize::from(fields.trailing_space);
        let [allocs, frees, diff, bytes, per_alloc] = values;
        rows.push(PoolRow {
            tag: pad_tag(fields.tag),
            pool: fields.pool,
            allocs,
            frees,
            diff,
            bytes,
            per_alloc,
            driver: fields.driver.map(str::to_owned),
        });
    }

    /// Ends the current table and hands it out (or drops it, with a diagnostic, when it holds nothing).
    pub fn finish_current(&mut self, out: &mut dyn FnMut(PoolmonTable)) {
        let Some(b) = self.current.take() else { return };
        let mut table = b.table;
        self.last_rows = table.snapshot.rows.len();
        let line = table.snapshot.source.line.unwrap_or(0);
        if table.snapshot.rows.is_empty() {
            if b.has_memory || b.has_commit {
                self.diag(
                    line,
                    Severity::Warning,
                    "snapshot has summary lines but no tag rows (cut short?); kept for its totals",
                );
            } else {
                self.diag(line, Severity::Warning, "poolmon table with no rows, skipped");
                if let Some(stamp) = table.stamp {
                    self.pending_stamp.get_or_insert(stamp);
                }
                return;
            }
        }
        self.drop_duplicates(&mut table);
        if !table.deltas.is_empty() {
            table.deltas.resize(table.snapshot.rows.len(), None);
        }
        out(table);
    }

    /// One row per (tag, pool type) in a table: later repeats are dropped with a warning.
    fn drop_duplicates(&mut self, table: &mut PoolmonTable) {
        let rows = &table.snapshot.rows;
        let mut repeats = repeated_rows(rows);
        if repeats.is_empty() {
            return;
        }
        repeats.sort_unstable();
        repeats.dedup();
        let line = table.snapshot.source.line.unwrap_or(0);
        let first = &rows[repeats[0]];
        self.diag(
            line,
            Severity::Warning,
            format!(
                "{} repeated (tag, type) row(s) in one table (first: {:?} {}), later ones dropped",
                repeats.len(),
                first.tag,
                first.pool
            ),
        );
        let mut keep = vec![true; rows.len()];
        for &k in &repeats {
            keep[k] = false;
        }
        let mut mask = keep.iter();
        table.snapshot.rows.retain(|_| mask.next().copied().unwrap_or(true));
        if !table.deltas.is_empty() {
            let mut mask = keep.iter();
            table.deltas.retain(|_| mask.next().copied().unwrap_or(true));
        }
    }

    /// Ends the input: the last table, and the diagnostics said once per file.
    pub fn finish(&mut self, out: &mut dyn FnMut(PoolmonTable)) {
        self.finish_current(out);
        if let Some(stamp) = self.pending_stamp.take() {
            self.diag(
                stamp.line.unwrap_or(0),
                Severity::Warning,
                "timestamp line with no poolmon output after it (the run failed or the file was cut)",
            );
        }
        let (count, line) = self.negatives;
        if count > 0 {
            self.diag(
                line,
                Severity::Info,
                format!("{count} line(s) with negative numbers read as unsigned 32-bit values (the x86 poolmon build prints values of 2^31 and above as negative)"),
            );
        }
        let (count, line) = self.ignored;
        if count > 0 {
            self.diag(line, Severity::Info, format!("{count} line(s) outside poolmon tables ignored"));
        }
    }
}

/// Indexes of rows whose (tag, pool type) an earlier row already has. Runs once per table, so it is on the hot
/// path of large logs: 4-byte tags (all of them, in practice) are compared as integers, and tables that poolmon
/// sorted by tag (its default) need no sort at all.
fn repeated_rows(rows: &[PoolRow]) -> Vec<usize> {
    let packed: Option<Vec<u64>> = rows
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let tag: [u8; 4] = r.tag.as_bytes().try_into().ok()?;
            let key = (u64::from(u32::from_be_bytes(tag)) << 1) | u64::from(r.pool == crate::model::PoolType::Paged);
            Some((key << 31) | (k as u64 & 0x7fff_ffff))
        })
        .collect();
    match packed {
        Some(mut keys) if rows.len() < 1 << 31 => {
            if keys.windows(2).all(|w| w[0] >> 31 < w[1] >> 31) {
                return Vec::new();
            }
            keys.sort_unstable();
            keys.windows(2).filter(|w| w[0] >> 31 == w[1] >> 31).map(|w| (w[1] & 0x7fff_ffff) as usize).collect()
        }
        _ => {
            let mut keys: Vec<(&str, crate::model::PoolType, usize)> =
                rows.iter().enumerate().map(|(k, r)| (r.tag.as_str(), r.pool, k)).collect();
            keys.sort_unstable();
            keys.windows(2).filter(|w| w[0].0 == w[1].0 && w[0].1 == w[1].1).map(|w| w[1].2).collect()
        }
    }
}

/// A tag as the model keeps it: 4 characters, padded with spaces when a paste lost the padding (`Io` → `Io  `).
fn pad_tag(tag: &str) -> PoolTag {
    if tag.len() == 4 && tag.is_ascii() {
        return PoolTag::new(tag);
    }
    let mut s = String::with_capacity(4);
    s.push_str(tag);
    for _ in tag.chars().count()..4 {
        s.push(' ');
    }
    PoolTag::new(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Vec<PoolmonTable>, Vec<Diagnostic>) {
        let mut a = Assembler::new("t.log", None);
        let mut tables = Vec::new();
        let lines: Vec<&str> = text.split('\n').collect();
        for (k, l) in lines.iter().enumerate() {
            let last = k + 1 == lines.len();
            if last && l.is_empty() {
                break;
            }
            a.line(k as u64 + 1, l, !last, &mut |t| tables.push(t));
        }
        a.finish(&mut |t| tables.push(t));
        (tables, a.diagnostics)
    }

    #[test]
    fn headers_split_snapshots_and_stamps_attach() {
        let text = "Tue 05/22/2020 22:35:55.53 \n\n Tag  Type     Allocs         Frees    Diff   Bytes    Per Alloc\n\n \
                    Toke Paged 10 5 5 500 100        \n\n Tag  Type     Allocs         Frees    Diff   Bytes    Per Alloc\n\n \
                    Toke Paged 20 5 15 1500 100        \n";
        let (t, d) = run(text);
        assert_eq!(t.len(), 2, "{d:?}");
        assert!(t[0].stamp.is_some());
        assert!(t[1].stamp.is_none());
        assert_eq!(t[0].snapshot.source.line, Some(3));
        assert_eq!(t[1].snapshot.rows[0].allocs, 20);
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn duplicate_rows_are_dropped_with_a_warning() {
        let (t, d) = run(" Toke Paged 1 0 1 10 10\n Toke Nonp 1 0 1 10 10\n Toke Paged 2 0 2 20 10\n");
        assert_eq!(t[0].snapshot.rows.len(), 2);
        assert_eq!(t[0].snapshot.rows[0].allocs, 1);
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("repeated"));
    }

    #[test]
    fn repeated_rows_by_packed_and_string_keys() {
        use crate::model::PoolType::{Nonpaged, Paged};
        let r = |tag: &str, pool| PoolRow {
            tag: tag.into(),
            pool,
            allocs: 0,
            frees: 0,
            diff: 0,
            bytes: 0,
            per_alloc: 0,
            driver: None,
        };
        let sorted = [r("Abcd", Nonpaged), r("Abcd", Paged), r("Bcde", Paged)];
        assert!(repeated_rows(&sorted).is_empty());
        let unsorted = [r("Bcde", Paged), r("Abcd", Paged), r("Bcde", Paged), r("Abcd", Nonpaged), r("Bcde", Paged)];
        assert_eq!(repeated_rows(&unsorted), [2, 4]);
        let wide = [r("Lin\u{eb}", Paged), r("Abcd", Paged), r("Lin\u{eb}", Paged)];
        assert_eq!(repeated_rows(&wide), [2]);
    }

    #[test]
    fn pad_tag_keeps_four_characters() {
        assert_eq!(pad_tag("Io"), "Io  ");
        assert_eq!(pad_tag("Dh 1"), "Dh 1");
        assert_eq!(pad_tag("Lin\u{eb}"), "Lin\u{eb}");
    }

    #[test]
    fn quote_escapes_and_shortens() {
        assert_eq!(quote("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert!(quote(&"x".repeat(100)).ends_with('…'));
    }
}
