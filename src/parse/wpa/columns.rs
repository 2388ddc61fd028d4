//! The header row of a WPA pool table: which column holds what, matched by name, because the set and order of
//! the columns depend on the `.wpaProfile` that exported it (peers §8).
//!
//! Names are compared without quotes, case or a parenthesised suffix; a byte unit in that suffix
//! (`Size (KB)`, `Outstanding Size (MB)`) scales the column's values (WPA's KB are 1,024 bytes).

/// Where each field of a row is, by 0-based cell index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Columns {
    /// `Type`: AIFO, AIFI, AOFI or AOFO.
    pub kind: usize,
    /// `Pool Tag` (or `Tag`).
    pub tag: usize,
    /// `Paged` (Paged/NonPaged or True/False), or `Pool Type`.
    pub pool: Option<usize>,
    /// `Stack`.
    pub stack: Option<usize>,
    /// `Size`: bytes per allocation, with its unit factor.
    pub size: Option<(usize, f64)>,
    /// `Count`: allocations the row stands for.
    pub count: Option<usize>,
    /// `Outstanding Count`, when there is no `Count`.
    pub outstanding_count: Option<usize>,
    /// `Outstanding Size`, with its unit factor.
    pub outstanding_size: Option<(usize, f64)>,
    /// `Total Size`, with its unit factor.
    pub total_size: Option<(usize, f64)>,
    /// Cells in the header row.
    pub width: usize,
}

/// What is wrong with a header that is not a WPA pool table's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotPoolTable {
    /// No `Pool Tag` column.
    NoTag,
    /// No `Type` (AIFO...) column.
    NoType,
    /// No column with an amount or a stack (`Size`, `Count`, `Outstanding Size`, `Total Size`, `Stack`).
    NoAmount,
}

impl std::fmt::Display for NotPoolTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotPoolTable::NoTag => "WPA pool table without a Pool Tag column",
            NotPoolTable::NoType => "WPA pool table without a Type column (AIFO, AIFI, AOFI, AOFO)",
            NotPoolTable::NoAmount => "WPA pool table without a Size, Count, Outstanding Size or Stack column",
        })
    }
}

/// A header cell as a lowercase name and the byte factor of its unit suffix: `"Size (KB)"` gives
/// `("size", 1024.0)`, `"Count (Sum)"` gives `("count", 1.0)`.
pub fn name_and_unit(cell: &str) -> (String, f64) {
    let cell = cell.trim_start_matches('\u{feff}').trim().trim_matches('"').trim();
    let (name, suffix) = match cell.split_once('(') {
        Some((name, rest)) => (name, rest.trim_end_matches(')').trim()),
        None => (cell, ""),
    };
    let factor = match suffix.to_ascii_lowercase().as_str() {
        "kb" | "kib" => 1024.0,
        "mb" | "mib" => 1024.0 * 1024.0,
        "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => 1.0,
    };
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
    (name, factor)
}

impl Columns {
    /// Reads a header row's cells. The first column of a name wins (a profile may show one twice).
    pub fn from_header<'a>(cells: impl IntoIterator<Item = &'a str>) -> Result<Columns, NotPoolTable> {
        let named: Vec<(String, f64)> = cells.into_iter().map(name_and_unit).collect();
        let find = |names: &[&str]| names.iter().find_map(|n| named.iter().position(|(c, _)| c == n));
        let with_unit = |names: &[&str]| find(names).map(|i| (i, named[i].1));
        let tag = find(&["pool tag", "tag"]).ok_or(NotPoolTable::NoTag)?;
        let kind = find(&["type", "allocation type"]).ok_or(NotPoolTable::NoType)?;
        let columns = Columns {
            kind,
            tag,
            pool: find(&["paged", "pool type", "pool"]),
            stack: find(&["stack", "allocation stack"]),
            size: with_unit(&["size", "allocation size"]),
            count: find(&["count", "allocation count"]),
            outstanding_count: find(&["outstanding count"]),
            outstanding_size: with_unit(&["outstanding size"]),
            total_size: with_unit(&["total size"]),
            width: named.len(),
        };
        let amount = columns.stack.is_some()
            || columns.size.is_some()
            || columns.count.is_some()
            || columns.outstanding_count.is_some()
            || columns.outstanding_size.is_some()
            || columns.total_size.is_some();
        if amount {
            Ok(columns)
        } else {
            Err(NotPoolTable::NoAmount)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_quotes_case_and_units() {
        assert_eq!(name_and_unit("\u{feff}\"Pool Tag\""), ("pool tag".to_owned(), 1.0));
        assert_eq!(name_and_unit("Size (KB)"), ("size".to_owned(), 1024.0));
        assert_eq!(name_and_unit("Outstanding  Size (MB)"), ("outstanding size".to_owned(), 1_048_576.0));
        assert_eq!(name_and_unit("Count (Sum)"), ("count".to_owned(), 1.0));
    }

    #[test]
    fn any_order_and_extra_columns() {
        let c = Columns::from_header(["Line #", "Stack", "Count", "Pool Tag", "Process", "Type", "Size (B)"]).unwrap();
        assert_eq!((c.tag, c.kind, c.stack, c.count, c.size), (3, 5, Some(1), Some(2), Some((6, 1.0))));
        assert_eq!(c.pool, None);
        assert_eq!(c.width, 7);
    }

    #[test]
    fn a_table_needs_a_tag_a_type_and_an_amount() {
        assert_eq!(Columns::from_header(["Type", "Count"]), Err(NotPoolTable::NoTag));
        assert_eq!(Columns::from_header(["Pool Tag", "Count"]), Err(NotPoolTable::NoType));
        assert_eq!(Columns::from_header(["Pool Tag", "Type", "Paged"]), Err(NotPoolTable::NoAmount));
        // A PowerShell pool CSV has a Tag but no Type.
        assert!(Columns::from_header(["DateTime", "Tag", "PagedUsedBytes"]).is_err());
    }
}
