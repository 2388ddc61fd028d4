//! Kernel debugger text saved from WinDbg or kd over a dump or a live kernel (peers.md §2.3, §3; formats §1.6):
//! `!poolused` tables ([`poolused`]: one pool snapshot) and `!vm` summaries ([`vm`]: the host's limits). One
//! file may hold both (a session log of several commands). Fuzzed by `fuzz/fuzz_targets/debugger.rs`
//! (`parse::debugger`, `parse::debugger::poolused`, `parse::debugger::vm`).
//!
//! A `!poolused` table is one moment: its time is the `Debug session time:` line WinDbg prints when it opens a
//! dump (or `.time` prints), else a timestamp line in the file, else the file's name, then its mtime, as for
//! poolmon; a diagnostic says which.

pub mod poolused;
pub mod vm;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

use crate::model::{DebuggerLimits, Diagnostic, PoolHeader, PoolSnapshot, Severity, SourceRef, TimeSource};
use crate::parse::timestamp::{stamp_line, StampClock};
use crate::parse::FileContext;

/// Whether the text holds a `!poolused` table (its column header or its `Sorting by` line).
pub fn looks_like_poolused(text: &str) -> bool {
    text.lines().take(400).any(|l| poolused::column_header(l) || poolused::sorting_line(l))
}

/// What a debugger text file gives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DebuggerText {
    /// The `!poolused` snapshot (the fullest table when the file holds several: one moment sorted two ways).
    pub snapshot: Option<PoolSnapshot>,
    /// The `!vm` limits.
    pub limits: Option<DebuggerLimits>,
}

/// Parses a decoded debugger text file: the `!poolused` snapshot and the `!vm` limits it holds.
pub fn parse(text: &str, ctx: &FileContext) -> (DebuggerText, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let limits = vm::limits(text, &ctx.path, ctx.host.as_deref(), &mut diagnostics);
    let tables = poolused::tables(text, &ctx.path, &mut diagnostics);
    let count = tables.len();
    let Some(table) =
        tables.into_iter().filter(|t| !t.rows.is_empty()).max_by_key(|t| (t.rows.len(), std::cmp::Reverse(t.line)))
    else {
        if count > 0 {
            diagnostics.push(Diagnostic::for_file(&ctx.path, Severity::Warning, "!poolused table with no tag rows"));
        }
        return (DebuggerText { snapshot: None, limits }, diagnostics);
    };
    if count > 1 {
        diagnostics.push(Diagnostic::at_line(
            &ctx.path,
            table.line,
            Severity::Info,
            format!("{count} !poolused tables in the file (one moment, sorted or filtered differently): the fullest is kept"),
        ));
    }
    let (taken_at, time_source) = snapshot_time(text, ctx, &mut diagnostics);
    let snapshot = PoolSnapshot {
        source: SourceRef::line(&ctx.path, table.line),
        host: ctx.host.clone(),
        taken_at,
        time_source,
        header: PoolHeader::default(),
        rows: table.rows,
    };
    (DebuggerText { snapshot: Some(snapshot), limits }, diagnostics)
}

/// The time of the file's `!poolused` snapshot, with a note saying where it came from.
fn snapshot_time(
    text: &str,
    ctx: &FileContext,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Option<DateTime<Utc>>, TimeSource) {
    let said = |diagnostics: &mut Vec<Diagnostic>, line: Option<u64>, from: &str| {
        let message = format!("!poolused snapshot time from {from}");
        diagnostics.push(match line {
            Some(line) => Diagnostic::at_line(&ctx.path, line, Severity::Info, message),
            None => Diagnostic::for_file(&ctx.path, Severity::Info, message),
        });
    };
    for (index, line) in text.lines().enumerate() {
        if let Some(t) = session_time(line) {
            said(diagnostics, Some(index as u64 + 1), "the `Debug session time:` line");
            return (Some(t), TimeSource::TimestampLine);
        }
    }
    let mut clock = StampClock::new(&ctx.time, &ctx.path);
    let stamped = text.lines().enumerate().take(10_000).find_map(|(index, line)| {
        let mut stamp = stamp_line(line)?;
        stamp.line = Some(index as u64 + 1);
        Some((index as u64 + 1, clock.push(&stamp, diagnostics)?))
    });
    clock.finish(diagnostics);
    if let Some((line, t)) = stamped {
        said(diagnostics, Some(line), "a timestamp line");
        return (Some(t), TimeSource::TimestampLine);
    }
    let (taken_at, source) = ctx.fallback_time(diagnostics);
    match (taken_at, source) {
        (Some(_), TimeSource::Override) => said(diagnostics, None, "--time"),
        (Some(_), TimeSource::FileName) => said(diagnostics, None, "the file name"),
        (Some(_), TimeSource::FolderName) => said(diagnostics, None, "the folder name"),
        (Some(_), _) => said(diagnostics, None, "the file's modification time (no stamp in the file or its name)"),
        (None, _) => diagnostics.push(Diagnostic::for_file(
            &ctx.path,
            Severity::Warning,
            "!poolused snapshot has no time (no `Debug session time:` line, stamp, dated name or mtime); give --time",
        )),
    }
    (taken_at, source)
}

/// `Debug session time: Fri May 22 13:40:02.123 2020 (UTC + 2:00)` in UTC.
pub fn session_time(line: &str) -> Option<DateTime<Utc>> {
    let rest = line.trim().strip_prefix("Debug session time:")?.trim();
    let (when, zone) = rest.split_once("(UTC")?;
    let when = when.split_whitespace().collect::<Vec<_>>().join(" ");
    let naive = NaiveDateTime::parse_from_str(&when, "%a %b %d %H:%M:%S%.f %Y")
        .or_else(|_| NaiveDateTime::parse_from_str(&when, "%a %b %d %H:%M:%S %Y"))
        .ok()?;
    let zone: String =
        zone.trim_end_matches(|c: char| c == ')' || c.is_whitespace()).chars().filter(|c| !c.is_whitespace()).collect();
    let seconds = if zone.is_empty() {
        0
    } else {
        let (sign, hm) = match zone.split_at_checked(1)? {
            ("+", hm) => (1, hm),
            ("-", hm) => (-1, hm),
            _ => return None,
        };
        let (h, m) = hm.split_once(':').unwrap_or((hm, "0"));
        let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
        if !(0..=14).contains(&h) || !(0..60).contains(&m) {
            return None;
        }
        sign * (h * 3600 + m * 60)
    };
    let offset = FixedOffset::east_opt(seconds)?;
    offset.from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PoolType;

    fn ctx() -> FileContext {
        FileContext { path: "dump/poolused.txt".into(), ..FileContext::default() }
    }

    #[test]
    fn session_time_with_offset() {
        let t = session_time("Debug session time: Fri May 22 13:40:02.123 2020 (UTC + 2:00)").unwrap();
        assert_eq!(t.to_rfc3339(), "2020-05-22T11:40:02.123+00:00");
        let t = session_time("Debug session time: Sat May  2 06:00:00 2020 (UTC - 7:00)").unwrap();
        assert_eq!(t.to_rfc3339(), "2020-05-02T13:00:00+00:00");
        assert_eq!(session_time("Debug session time: whenever (UTC + 2:00)"), None);
        assert_eq!(session_time("Debug session time: Fri May 22 13:40:02 2020 (UTC + 99:00)"), None);
        assert_eq!(session_time("Debug session time: Fri May 22 13:40:02 2020 (UTC é)"), None);
    }

    #[test]
    fn poolused_and_vm_in_one_session_log() {
        let text = "Debug session time: Fri May 22 13:40:02.123 2020 (UTC + 0:00)\n0: kd> !vm 1\n\
*** Virtual Memory Usage ***\n    NonPagedPool Max:      786432 (   3145728 Kb)\n    PagedPool Maximum:   33554432 ( 134217728 Kb)\n\
    Commit limit:         1114039 (   4456156 Kb)\n0: kd> !poolused 4\n Sorting by  Paged Pool Consumed\n\n\
               NonPaged                  Paged\n Tag     Allocs         Used     Allocs         Used\n\n\
 Toke         0            0    1394724   2320820736\tToken objects , Binary: nt!se\n\
 CM31         0            0      13000     18000000\n TOTAL        0            0    1407724   2338820736\n";
        assert!(looks_like_poolused(text));
        assert!(vm::looks_like(text));
        let (out, diagnostics) = parse(text, &ctx());
        let snapshot = out.snapshot.unwrap();
        assert_eq!(snapshot.rows.len(), 2);
        assert_eq!(snapshot.rows[0].pool, PoolType::Paged);
        assert_eq!(snapshot.taken_at.unwrap().to_rfc3339(), "2020-05-22T13:40:02.123+00:00");
        assert_eq!(snapshot.source.line, Some(11));
        assert!(diagnostics.iter().any(|d| d.message.contains("Debug session time")), "{diagnostics:?}");
        let limits = out.limits.unwrap();
        assert_eq!(limits.commit_limit, Some(4_456_156 * 1024));
        assert_eq!(limits.nonpaged_pool_max, Some(3 << 30));
    }

    #[test]
    fn no_stamp_takes_the_file_name_and_says_so() {
        let text = " Tag  Allocs Used Allocs Used\n Toke 0 0 10 16640\n TOTAL 0 0 10 16640\n";
        let mut ctx = ctx();
        ctx.path = "dump/poolused_2020-05-22_13-40-02.txt".into();
        let (out, diagnostics) = parse(text, &ctx);
        assert_eq!(out.snapshot.unwrap().time_source, TimeSource::FileName);
        assert!(
            diagnostics.iter().any(|d| d.message == "!poolused snapshot time from the file name"),
            "{diagnostics:?}"
        );
        for cut in 0..text.len() {
            let _ = parse(&text[..cut], &ctx);
        }
    }
}
