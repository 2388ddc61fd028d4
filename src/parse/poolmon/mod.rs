//! poolmon output: `-n` snapshot files (x86 and x64 layouts) and interactive screens (formats reference §1).
//!
//! * [`parse`] reads a whole decoded file into [`PoolSnapshot`]s (what `parse_bytes` uses);
//! * [`parse_detailed`] also keeps what the model has no place for: layout, screen title (system or session
//!   pool), per-refresh `( delta)` columns, `/e` totals, and whether poolmon said the list was truncated;
//! * [`parse_reader`] streams from any [`std::io::BufRead`] with memory bounded by two tables.
//!
//! Lines are classified by the rules in [`grammar`] (named after the format's terms: `summary_line`,
//! `title_line`, `column_header`, `tag_row`, `mapped_driver`, `total_row`, `error_line`), data rows first
//! through the allocation-free [`row::fast_tag_row`]. [`assemble`] groups lines into tables and [`timing`]
//! dates them (timestamp line, file name, `--time`, modification time). Nothing panics: a line that does not
//! parse is a diagnostic with its line number and the rest of the file is kept.

pub mod assemble;
pub mod grammar;
pub mod row;
pub mod stream;
pub mod timing;

use serde::Serialize;

use crate::model::{Diagnostic, PoolSnapshot};
use crate::parse::timestamp::RawStamp;
use crate::parse::FileContext;

pub use grammar::{Layout, PoolScope, RowDeltas, TotalFields};
pub use stream::{parse_reader, parse_reader_detailed};

/// One poolmon table with everything the text says about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolmonTable {
    /// The snapshot as the rest of poolscope uses it.
    pub snapshot: PoolSnapshot,
    /// Column layout (build and mode) told by the column header's spacing.
    pub layout: Layout,
    /// Whether the column header has `Mapped_Driver` (`/g`).
    pub mapped_driver: bool,
    /// The screen's title line: system pool, all sessions or one session (`/s`); `None` in `-n` files and
    /// old-layout screens. Session pool rows are a different series from system pool rows of the same tag.
    pub scope: Option<PoolScope>,
    /// Per-refresh `( delta)` columns of screen rows, aligned with `snapshot.rows`; empty for `-n` files.
    pub deltas: Vec<Option<RowDeltas>>,
    /// `/e` totals rows (`Total Paged`, `Total Nonp`), kept apart from the data rows.
    pub totals: Vec<TotalFields>,
    /// poolmon wrote `ERROR: Number of Pool Tags Exceeds Buffer Size ... List Truncated` for this table.
    pub truncated: bool,
    /// The timestamp line written just before the table, as read (its `line` is set).
    #[serde(skip)]
    pub stamp: Option<RawStamp>,
}

/// Splits text into numbered lines, telling whether each ended with a line end (a last line without one may
/// be cut short). Files with CR-only line ends are split at CR.
pub(crate) fn numbered_lines(text: &str) -> impl Iterator<Item = (u64, &str, bool)> {
    let sep = if !text.contains('\n') && text.contains('\r') { '\r' } else { '\n' };
    text.split_inclusive(sep).enumerate().map(move |(k, l)| {
        let complete = l.ends_with(sep);
        (k as u64 + 1, l.strip_suffix(sep).unwrap_or(l), complete)
    })
}

/// Whether text looks like poolmon output even without the usual ` Tag  Type` header or `Pool N:` summary:
/// a mangled column header (`## Tag   Type`, tabs), a data row, or one of poolmon's own error lines within the
/// first 200 lines (a file from a loop whose runs all failed is still a poolmon file, and says why).
pub fn looks_like(text: &str) -> bool {
    text.lines().take(200).any(|line| {
        row::fast_tag_row(line).is_some()
            || grammar::column_header(line).is_ok()
            || grammar::tag_row(line).is_ok()
            || grammar::error_line(line).is_ok()
    })
}

/// Parses every table in a decoded poolmon file, with what the model has no place for.
pub fn parse_detailed(text: &str, ctx: &FileContext) -> (Vec<PoolmonTable>, Vec<Diagnostic>) {
    let mut assembler = assemble::Assembler::new(&ctx.path, ctx.host.clone());
    let mut tables = Vec::new();
    for (no, line, complete) in numbered_lines(text) {
        assembler.line(no, line, complete, &mut |t| tables.push(t));
    }
    assembler.finish(&mut |t| tables.push(t));
    let mut diagnostics = std::mem::take(&mut assembler.diagnostics);
    let mut times = timing::TimeAssigner::whole(ctx, &tables, &mut diagnostics);
    let only = tables.len() == 1;
    for table in &mut tables {
        times.assign(table, only, &mut diagnostics);
    }
    times.finish(&mut diagnostics);
    (tables, diagnostics)
}

/// Parses every snapshot in a decoded poolmon file: `-n` files of either build, with or without `-r` and `/g`,
/// pasted interactive screens, many snapshots appended in one file. Snapshots come in file order, each with
/// its source line and time; diagnostics cover every line that was skipped and every assumption made.
pub fn parse(text: &str, ctx: &FileContext) -> (Vec<PoolSnapshot>, Vec<Diagnostic>) {
    let (tables, mut diagnostics) = parse_detailed(text, ctx);
    let snapshots = tables
        .into_iter()
        .map(|t| {
            diagnostics.extend(session_scope_warning(&t));
            t.snapshot
        })
        .collect();
    (snapshots, diagnostics)
}

/// A [`PoolSnapshot`] has no field for the pool a screen shows, so a session-pool screen (`/s`) would pass for
/// the system pool of its host; say so (use [`parse_detailed`] to tell them apart).
pub(crate) fn session_scope_warning(table: &PoolmonTable) -> Option<Diagnostic> {
    let which = match table.scope? {
        PoolScope::System => return None,
        PoolScope::AllSessions => "all sessions' pool".to_owned(),
        PoolScope::Session(n) => format!("session {n} pool"),
    };
    Some(Diagnostic::at_line(
        &table.snapshot.source.path,
        table.snapshot.source.line.unwrap_or(0),
        crate::model::Severity::Warning,
        format!(
            "this screen shows the {which} (poolmon /s), not the system pool; its rows are read like system pool rows"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PoolType, Severity, TimeSource};

    fn ctx() -> FileContext {
        FileContext { path: "x.log".into(), ..FileContext::default() }
    }

    #[test]
    fn numbered_lines_marks_the_unterminated_last_line() {
        let v: Vec<_> = numbered_lines("a\r\nb\nc").collect();
        assert_eq!(v, vec![(1, "a\r", true), (2, "b", true), (3, "c", false)]);
        let v: Vec<_> = numbered_lines("a\rb\r").collect();
        assert_eq!(v, vec![(1, "a", true), (2, "b", true)]);
    }

    #[test]
    fn looks_like_mangled_or_failed_poolmon_output() {
        assert!(looks_like("## Tag   Type   Allocs   Frees   Diff   Bytes   Per Alloc\n"));
        assert!(looks_like("Tue 05/22/2020 22:35:55.53 \r\nQuery pooltags Failed c0000017\r\n"));
        assert!(looks_like("Io Nonp 1021112 ( 1) 1020985 ( 1) 127 91912 ( 0) 723\n"));
        assert!(!looks_like("Toke - nt!se - Token objects\nlsass.exe pid: 768 NT AUTHORITY\\SYSTEM\n"));
    }

    #[test]
    fn parse_reads_a_stamped_series() {
        let text = "22/05/2020 22:35:55.53\r\n\r\n Tag  Type     Allocs         Frees    Diff   Bytes    Per Alloc\r\n\r\n \
                    Toke Nonp         10         5         5       500        100        \r\n\
                    22/05/2020 22:40:55.53\r\n\r\n Tag  Type     Allocs         Frees    Diff   Bytes    Per Alloc\r\n\r\n \
                    Toke Nonp         20         5        15      1500        100        \r\n";
        let (snaps, diags) = parse(text, &ctx());
        assert_eq!(snaps.len(), 2);
        assert_eq!(snaps[1].rows[0].pool, PoolType::Nonpaged);
        assert_eq!(snaps[1].time_source, TimeSource::TimestampLine);
        assert_eq!(snaps[1].taken_at.unwrap().to_rfc3339(), "2020-05-22T22:40:55.530+00:00");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].severity, Severity::Warning, "UTC assumed");
    }
}
