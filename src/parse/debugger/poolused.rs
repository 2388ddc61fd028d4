//! WinDbg `!poolused` tables (peers.md §2.3, §3; formats §1.6): outstanding allocations and bytes per tag in
//! nonpaged and paged pool at the moment of the dump.
//!
//! ```text
//!  Sorting by NonPaged Pool Consumed
//!
//!                NonPaged                  Paged
//!  Tag     Allocs         Used     Allocs         Used
//!
//!  Toke         0            0    1394724   2320820736    Token objects , Binary: nt!se
//!  1394         1          520          0            0UNKNOWN pooltag '1394', please update pooltag.txt
//!  TOTAL   144013    296263728    1185123   2363437792
//! ```
//! Flags 2 and 4 only sort the rows; a description (pooltag.txt) may follow a tab or be glued to the last
//! number; the `TOTAL` line ends the table (a table without one was cut short: the debugger was stopped or
//! the file was cut). `Allocs` is the count outstanding, not poolmon's cumulative count: a row becomes a
//! [`PoolRow`] with `allocs = diff` = that count and `frees = 0`.

use crate::model::{Diagnostic, PoolRow, PoolTag, PoolType, Severity};

/// One `!poolused` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolusedTable {
    /// 1-based line of the column header.
    pub line: u64,
    /// One row per tag and pool type with allocations or bytes, in file order.
    pub rows: Vec<PoolRow>,
    /// The `TOTAL` line: nonpaged allocs, nonpaged bytes, paged allocs, paged bytes.
    pub total: Option<[u64; 4]>,
}

/// Whether the line is the column header ` Tag  Allocs  Used  Allocs  Used`.
pub fn column_header(line: &str) -> bool {
    line.split_whitespace().eq(["Tag", "Allocs", "Used", "Allocs", "Used"])
}

/// Whether the line is a `Sorting by ...` line `!poolused` prints first.
pub fn sorting_line(line: &str) -> bool {
    let line = line.trim();
    line.starts_with("Sorting by") && (line.ends_with("Pool Consumed") || line.ends_with("Tag"))
}

/// A tag row: the tag (4 characters, spaces kept), the four numbers and what follows them (the description).
pub fn tag_row(line: &str) -> Option<(String, [u64; 4], &str)> {
    let line = line.trim_end_matches(['\r', '\n']);
    // Fixed position first (a tag may hold spaces: `Key `, `Dh 1`), then the first word (a copy that lost
    // the leading space, or a tag printed shorter).
    let fixed = [1usize, 0].into_iter().find_map(|start| {
        let tag = line.get(start..start + 4)?;
        let next = line.get(start + 4..start + 5)?;
        let before_ok = start == 0 || line.starts_with(' ');
        (before_ok && next.chars().all(char::is_whitespace) && !tag.trim().is_empty())
            .then(|| (tag.to_owned(), line.get(start + 4..).unwrap_or("")))
    });
    let (tag, rest) = match fixed.and_then(|(tag, rest)| numbers(rest).map(|n| (tag, n))) {
        Some((tag, (values, rest))) => return Some((tag, values, rest)),
        None => {
            let trimmed = line.trim_start();
            let word = trimmed.split_whitespace().next()?;
            (word, &trimmed[word.len()..])
        }
    };
    if tag.chars().count() > 4 {
        return None;
    }
    let (values, rest) = numbers(rest)?;
    let mut tag: String = tag.to_owned();
    while tag.chars().count() < 4 {
        tag.push(' ');
    }
    Some((tag, values, rest))
}

/// Four numbers separated by whitespace; the last may have a description glued to it.
fn numbers(text: &str) -> Option<([u64; 4], &str)> {
    let mut values = [0u64; 4];
    let mut rest = text;
    for value in &mut values {
        rest = rest.trim_start_matches([' ', '\t']);
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 20 {
            return None;
        }
        *value = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
    }
    Some((values, rest))
}

/// The `TOTAL` line's four numbers.
pub fn total_line(line: &str) -> Option<[u64; 4]> {
    let rest = line.trim_start().strip_prefix("TOTAL")?;
    numbers(rest).map(|(values, _)| values)
}

/// Every `!poolused` table in the text, with a diagnostic (path:line) for each line inside a table that is no
/// row, and for a table without its `TOTAL` line.
pub fn tables(text: &str, path: &str, diagnostics: &mut Vec<Diagnostic>) -> Vec<PoolusedTable> {
    let mut out: Vec<PoolusedTable> = Vec::new();
    let mut open: Option<PoolusedTable> = None;
    for (index, line) in text.lines().enumerate() {
        let no = index as u64 + 1;
        if column_header(line) {
            if let Some(cut) = open.take() {
                out.push(unfinished(cut, path, diagnostics));
            }
            open = Some(PoolusedTable { line: no, ..PoolusedTable::default() });
            continue;
        }
        let Some(table) = open.as_mut() else { continue };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.chars().all(|c| c == '.') {
            continue;
        }
        if let Some(total) = total_line(line) {
            table.total = Some(total);
            out.extend(open.take());
            continue;
        }
        if let Some((tag, [np_allocs, np_bytes, p_allocs, p_bytes], rest)) = tag_row(line) {
            let driver = binary(rest);
            for (pool, allocs, bytes) in
                [(PoolType::Nonpaged, np_allocs, np_bytes), (PoolType::Paged, p_allocs, p_bytes)]
            {
                if allocs == 0 && bytes == 0 {
                    continue;
                }
                table.rows.push(PoolRow {
                    tag: PoolTag::new(&tag),
                    pool,
                    allocs,
                    frees: 0,
                    diff: allocs,
                    bytes,
                    per_alloc: bytes.checked_div(allocs).unwrap_or(0),
                    driver: driver.clone(),
                });
            }
            continue;
        }
        // The next command's prompt (`0: kd> !vm`) or the debugger's own talk ends the table.
        if trimmed.contains("kd>") || trimmed.starts_with('*') || trimmed.starts_with("Sorting by") {
            if let Some(cut) = open.take() {
                out.push(unfinished(cut, path, diagnostics));
            }
            continue;
        }
        diagnostics.push(Diagnostic::at_line(
            path,
            no,
            Severity::Warning,
            "not a !poolused row (expected a tag and four numbers: nonpaged allocs and bytes, paged allocs and bytes); skipped",
        ));
    }
    if let Some(cut) = open.take() {
        out.push(unfinished(cut, path, diagnostics));
    }
    out
}

/// A table that ended without its `TOTAL` line: kept, and said.
fn unfinished(table: PoolusedTable, path: &str, diagnostics: &mut Vec<Diagnostic>) -> PoolusedTable {
    diagnostics.push(Diagnostic::at_line(
        path,
        table.line,
        Severity::Warning,
        "!poolused table has no TOTAL line: it may be cut short (the debugger was stopped or the file was cut); \
         the rows read are kept",
    ));
    table
}

/// The binary a pooltag.txt description names (`Token objects , Binary: nt!se`), as `[nt!se]`.
fn binary(description: &str) -> Option<String> {
    let (_, after) = description.split_once("Binary:")?;
    let name = after.split_whitespace().next()?.trim_end_matches(',');
    (!name.is_empty()).then(|| format!("[{name}]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_with_tab_glued_and_no_description() {
        let (tag, values, rest) =
            tag_row(" Toke         0            0    1394724   2320820736\tToken objects , Binary: nt!se").unwrap();
        assert_eq!((tag.as_str(), values), ("Toke", [0, 0, 1_394_724, 2_320_820_736]));
        assert_eq!(binary(rest).as_deref(), Some("[nt!se]"));
        let (tag, values, rest) =
            tag_row(" 1394         1          520          0            0UNKNOWN pooltag '1394'").unwrap();
        assert_eq!((tag.as_str(), values), ("1394", [1, 520, 0, 0]));
        assert!(rest.starts_with("UNKNOWN"));
        assert_eq!(binary(rest), None);
        let (tag, ..) = tag_row(" Key          3          256         10         1000").unwrap();
        assert_eq!(tag, "Key ");
        let (tag, ..) = tag_row(" Dh 1         3          256         10         1000").unwrap();
        assert_eq!(tag, "Dh 1");
        let (tag, ..) = tag_row("Irp    1000   288000   0   0").unwrap();
        assert_eq!(tag, "Irp ");
    }

    #[test]
    fn header_total_and_non_rows() {
        assert!(column_header(" Tag     Allocs         Used     Allocs         Used"));
        assert!(!column_header(" Tag  Type     Allocs"));
        assert!(sorting_line(" Sorting by  NonPaged Pool Consumed"));
        assert!(sorting_line(" Sorting by Paged Pool Consumed"));
        assert_eq!(
            total_line(" TOTAL   144013    296263728    1185123   2363437792"),
            Some([144_013, 296_263_728, 1_185_123, 2_363_437_792])
        );
        assert_eq!(tag_row(" TOTAL   1 2 3 4"), None);
        assert_eq!(tag_row("Pool Used:"), None);
        assert_eq!(tag_row(" Toke  1 2 3"), None);
        assert_eq!(tag_row(" Toke  1 2 3 999999999999999999999999"), None);
        assert_eq!(tag_row("é"), None);
    }

    #[test]
    fn a_table_cut_short_keeps_its_rows_and_says_so() {
        let text =
            " Tag     Allocs   Used   Allocs   Used\n\n Toke 0 0 10 16640\n garbage line here\n File 5 1560 0 0\n";
        let mut diagnostics = Vec::new();
        let tables = tables(text, "p", &mut diagnostics);
        assert_eq!(tables.len(), 1);
        assert_eq!(tables[0].rows.len(), 2);
        assert_eq!(tables[0].rows[0].per_alloc, 1664);
        assert_eq!(tables[0].rows[1].pool, PoolType::Nonpaged);
        assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
        assert_eq!(diagnostics[0].line, Some(4));
        assert!(diagnostics[1].message.contains("no TOTAL"));
    }
}
