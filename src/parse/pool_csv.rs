//! PowerShell pool CSVs: poolmon-powershell's `-view csv` and PoolmonViz's `<date>.pool.csv` (peers §2 rows 6-7,
//! formats §1.6).
//!
//! Columns (any order, matched by name): `DateTime`, `DateTimeUTC` (PoolmonViz only), `Tag`, `PagedAllocs`,
//! `PagedFrees`, `PagedDiff`, `PagedUsedBytes`, `NonPagedAllocs`, `NonPagedFrees`, `NonPagedDiff`,
//! `NonPagedUsedBytes`, `TotalUsedBytes`, `Binary`, `Description`. Export-Csv may write a `#TYPE` line first and
//! quotes every field; `-UseCulture` writes `;`. Each distinct time is one [`PoolSnapshot`] with a row per tag and
//! pool type (a pool type with no allocations and no bytes is left out, as poolmon leaves it out); PoolmonViz's
//! `TOTAL` row is not a tag and is skipped. `DateTimeUTC` wins over `DateTime`; a file with neither gets its
//! name's time, then its mtime.

use crate::model::{Diagnostic, PoolHeader, PoolRow, PoolSnapshot, PoolTag, PoolType, Severity, SourceRef, TimeSource};
use crate::parse::timestamp::{stamp_line, StampClock};
use crate::parse::FileContext;

/// The columns of which one makes a file with a `Tag` column a PowerShell pool CSV: poolmon-powershell's
/// `-values` may keep any subset (`-values DateTime,Tag,PagedUsedBytes,Binary,Description`), but a pool type's
/// bytes are what the analysis needs.
const KEY_COLUMNS: [&str; 2] = ["PagedUsedBytes", "NonPagedUsedBytes"];

/// Whether the first non-`#TYPE` line is a PowerShell pool CSV header.
pub fn looks_like(text: &str) -> bool {
    header_line(text).is_some_and(|(_, header, _)| {
        let names = split_header(header);
        names.iter().any(|n| n == "Tag") && KEY_COLUMNS.iter().any(|k| names.iter().any(|n| n == k))
    })
}

/// The header: (0-based line index, the line, the delimiter).
fn header_line(text: &str) -> Option<(usize, &str, u8)> {
    let (index, line) = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i, l.trim_start_matches('\u{feff}').trim()))
        .find(|(_, l)| !l.is_empty() && !l.starts_with('#'))?;
    let delimiter = if line.matches(';').count() > line.matches(',').count() { b';' } else { b',' };
    Some((index, line, delimiter))
}

fn split_header(line: &str) -> Vec<String> {
    let delimiter = if line.matches(';').count() > line.matches(',').count() { ';' } else { ',' };
    line.split(delimiter).map(|f| f.trim().trim_matches('"').to_owned()).collect()
}

/// Parses a decoded PowerShell pool CSV into snapshots (one per distinct time) and diagnostics.
pub fn parse(text: &str, ctx: &FileContext) -> (Vec<PoolSnapshot>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let Some((header_index, _, delimiter)) = header_line(text) else {
        diagnostics.push(Diagnostic::for_file(&ctx.path, Severity::Error, "no PowerShell pool CSV header found"));
        return (Vec::new(), diagnostics);
    };
    // Skip to the header by lines, so the CSV reader's line numbers are offset by `header_index`.
    let body: String = text.lines().skip(header_index).flat_map(|l| [l, "\n"]).collect();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim_matches('"').to_owned()).collect(),
        Err(e) => {
            diagnostics.push(Diagnostic::for_file(&ctx.path, Severity::Error, format!("bad CSV header: {e}")));
            return (Vec::new(), diagnostics);
        }
    };
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(tag_col), utc_col, local_col) = (column("Tag"), column("DateTimeUTC"), column("DateTime")) else {
        diagnostics.push(Diagnostic::for_file(&ctx.path, Severity::Error, "PowerShell pool CSV has no Tag column"));
        return (Vec::new(), diagnostics);
    };
    let counters = |prefix: &str| {
        [
            column(&format!("{prefix}Allocs")),
            column(&format!("{prefix}Frees")),
            column(&format!("{prefix}Diff")),
            column(&format!("{prefix}UsedBytes")),
        ]
    };
    let pools = [(PoolType::Paged, counters("Paged")), (PoolType::Nonpaged, counters("NonPaged"))];
    let binary_col = column("Binary");

    let mut utc_settings = ctx.time.clone();
    utc_settings.tz = chrono_tz::UTC;
    utc_settings.tz_given = true;
    let mut utc_clock = StampClock::new(&utc_settings, &ctx.path);
    let mut local_clock = StampClock::new(&ctx.time, &ctx.path);
    let mut used_local = false;

    let mut snapshots: Vec<PoolSnapshot> = Vec::new();
    let mut current_key: Option<String> = None;
    for record in reader.records() {
        let position = match &record {
            Ok(r) => r.position(),
            Err(e) => e.position(),
        };
        let line = header_index as u64 + position.map_or(0, csv::Position::line);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                diagnostics.push(Diagnostic::at_line(&ctx.path, line, Severity::Warning, format!("bad CSV row: {e}")));
                continue;
            }
        };
        // `-loop` with `-view csv` runs ConvertTo-Csv once per round: every round repeats the header.
        if record.get(tag_col).is_some_and(|t| t.trim().eq_ignore_ascii_case("Tag")) {
            continue;
        }
        // A row cut short (the last line of a file copied while the collector wrote it) would read its missing
        // counters as 0: skipped, and said.
        if record.len() < headers.len() {
            diagnostics.push(Diagnostic::at_line(
                &ctx.path,
                line,
                Severity::Warning,
                format!("row has {} of the header's {} fields (truncated?); skipped", record.len(), headers.len()),
            ));
            continue;
        }
        let field = |i: Option<usize>| i.and_then(|i| record.get(i)).map(str::trim).filter(|s| !s.is_empty());
        let Some(tag) = field(Some(tag_col)) else {
            diagnostics.push(Diagnostic::at_line(&ctx.path, line, Severity::Warning, "row without a tag; skipped"));
            continue;
        };
        if tag.eq_ignore_ascii_case("TOTAL") {
            continue;
        }
        let utc_text = field(utc_col);
        let local_text = field(local_col);
        let key = utc_text.or(local_text).unwrap_or("").to_owned();
        if current_key.as_deref() != Some(key.as_str()) || snapshots.is_empty() {
            let (taken_at, time_source) = if let Some(t) = utc_text {
                (stamped(t, line, &mut utc_clock, &ctx.path, &mut diagnostics), TimeSource::Record)
            } else if let Some(t) = local_text {
                used_local = true;
                (stamped(t, line, &mut local_clock, &ctx.path, &mut diagnostics), TimeSource::Record)
            } else {
                (None, TimeSource::Unknown)
            };
            let (taken_at, time_source) = match taken_at {
                Some(t) => (Some(t), time_source),
                None => ctx.fallback_time(&mut diagnostics),
            };
            snapshots.push(PoolSnapshot {
                source: SourceRef::line(&ctx.path, line),
                host: ctx.host.clone(),
                taken_at,
                time_source,
                header: PoolHeader::default(),
                rows: Vec::new(),
            });
            current_key = Some(key);
        }
        let Some(snapshot) = snapshots.last_mut() else { continue };
        let tag = fit_tag(tag);
        let driver = field(binary_col).map(|b| format!("[{b}]"));
        for (pool, cols) in &pools {
            let mut values = [0u64; 4];
            let mut bad = false;
            for (value, col) in values.iter_mut().zip(cols) {
                match field(*col).map(number) {
                    Some(Some(v)) => *value = v,
                    Some(None) => bad = true,
                    None => {}
                }
            }
            if bad {
                diagnostics.push(Diagnostic::at_line(
                    &ctx.path,
                    line,
                    Severity::Warning,
                    format!("tag {tag:?}: a {pool} counter is not a number; row skipped"),
                ));
                continue;
            }
            let [allocs, frees, diff, bytes] = values;
            if allocs == 0 && bytes == 0 && diff == 0 {
                continue;
            }
            let diff = if cols[2].is_some() { diff } else { allocs.saturating_sub(frees) };
            snapshot.rows.push(PoolRow {
                tag,
                pool: *pool,
                allocs,
                frees,
                diff,
                bytes,
                per_alloc: bytes.checked_div(diff).unwrap_or(0),
                driver: driver.clone(),
            });
        }
    }
    utc_clock.finish(&mut diagnostics);
    if used_local {
        local_clock.finish(&mut diagnostics);
    }
    snapshots.retain(|s| !s.rows.is_empty());
    (snapshots, diagnostics)
}

/// A stamp cell read through the file's clock.
fn stamped(
    text: &str,
    line: u64,
    clock: &mut StampClock,
    path: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    match stamp_line(text) {
        Some(mut stamp) => {
            stamp.line = Some(line);
            clock.push(&stamp, diagnostics)
        }
        None => {
            diagnostics.push(Diagnostic::at_line(path, line, Severity::Warning, format!("unreadable time {text:?}")));
            None
        }
    }
}

/// A counter cell: digits, maybe with thousands separators a culture added.
fn number(text: &str) -> Option<u64> {
    let digits: String = text.chars().filter(|c| !matches!(c, ',' | '.' | ' ' | '\u{a0}' | '\'')).collect();
    digits.parse().ok()
}

/// Pool tags are 4 characters; PowerShell and WPA trim trailing spaces (`Key`), poolmon keeps them (`Key `).
pub(crate) fn fit_tag(tag: &str) -> PoolTag {
    let mut tag: String = tag.chars().take(4).collect();
    while tag.chars().count() < 4 {
        tag.push(' ');
    }
    PoolTag::new(&tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimeSettings;

    fn ctx() -> FileContext {
        FileContext { path: "t/2020-05-22.pool.csv".into(), time: TimeSettings::default(), ..FileContext::default() }
    }

    const VIZ: &str = "#TYPE System.Management.Automation.PSCustomObject\r\n\
\"DateTime\",\"DateTimeUTC\",\"Tag\",\"PagedAllocs\",\"PagedFrees\",\"PagedDiff\",\"PagedUsedBytes\",\"NonPagedAllocs\",\"NonPagedFrees\",\"NonPagedDiff\",\"NonPagedUsedBytes\",\"TotalUsedBytes\",\"Binary\",\"Description\"\r\n\
\"5/22/2020 3:35:55 PM\",\"5/22/2020 10:35:55 PM\",\"Toke\",\"1500000\",\"105276\",\"1394724\",\"2320000000\",\"0\",\"0\",\"0\",\"0\",\"2320000000\",\"nt!se\",\"Token objects\"\r\n\
\"5/22/2020 3:35:55 PM\",\"5/22/2020 10:35:55 PM\",\"Key\",\"10\",\"5\",\"5\",\"1000\",\"3\",\"1\",\"2\",\"256\",\"1256\",\"\",\"\"\r\n\
\"5/22/2020 3:35:55 PM\",\"5/22/2020 10:35:55 PM\",\"TOTAL\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"\",\"\"\r\n\
\"5/22/2020 3:36:55 PM\",\"5/22/2020 10:36:55 PM\",\"Toke\",\"1500100\",\"105276\",\"1394824\",\"2320166400\",\"0\",\"0\",\"0\",\"0\",\"2320166400\",\"nt!se\",\"Token objects\"\r\n";

    #[test]
    fn poolmonviz_groups_by_utc_time() {
        assert!(looks_like(VIZ));
        let (snaps, diags) = parse(VIZ, &ctx());
        assert_eq!(snaps.len(), 2, "{diags:?}");
        assert_eq!(snaps[0].rows.len(), 3);
        assert_eq!(snaps[0].rows[0].tag, "Toke");
        assert_eq!(snaps[0].rows[0].per_alloc, 2_320_000_000 / 1_394_724);
        assert_eq!(snaps[0].rows[1].tag, "Key ");
        assert_eq!(snaps[0].rows[2].pool, PoolType::Nonpaged);
        assert_eq!(snaps[0].taken_at.unwrap().to_rfc3339(), "2020-05-22T22:35:55+00:00");
        assert_eq!(snaps[1].source.line, Some(6));
    }

    #[test]
    fn base_version_without_time_uses_file_name() {
        let text = "Tag,PagedAllocs,PagedFrees,PagedDiff,PagedUsedBytes,NonPagedAllocs,NonPagedFrees,NonPagedDiff,NonPagedUsedBytes,TotalUsedBytes,Binary,Description\nToke,5,1,4,6656,0,0,0,0,6656,,\n";
        assert!(looks_like(text));
        let (snaps, _) = parse(text, &ctx());
        assert_eq!(snaps.len(), 1);
        assert_eq!(snaps[0].time_source, TimeSource::FileName);
    }

    #[test]
    fn culture_semicolons_and_garbage_never_panic() {
        let text = "\u{feff}Tag;PagedAllocs;PagedUsedBytes;NonPagedAllocs;NonPagedUsedBytes\nToke;x;1;0;0\nKey;2;64;0;0\n\"unterminated";
        assert!(looks_like(text));
        let (snaps, diags) = parse(text, &ctx());
        assert_eq!(snaps.len(), 1);
        assert_eq!(snaps[0].rows.len(), 1);
        assert!(diags.iter().any(|d| d.line == Some(2)), "{diags:?}");
        for cut in 0..VIZ.len() {
            if VIZ.is_char_boundary(cut) {
                let _ = parse(&VIZ[..cut], &ctx());
            }
        }
    }

    #[test]
    fn event_csv_is_not_a_pool_csv() {
        assert!(!looks_like("\"Message\",\"Id\",\"ProviderName\",\"TimeCreated\"\n"));
    }
}
