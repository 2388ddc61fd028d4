//! PoolmonViz's per-day `<yyyy-MM-dd>.pool.csv` (issue 13): what its collector's `Export-Csv` writes from Windows
//! PowerShell 5.1 — a `#TYPE` line, a quoted header, every field quoted, UTF-16LE with a BOM and CRLF — one row per
//! tag and snapshot, paged and nonpaged columns side by side.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::pool_model::{merge_by_tag, RowValues};
use crate::model::PoolType;

/// The `#TYPE` line and the header.
pub const HEADER: &str = "#TYPE System.Management.Automation.PSCustomObject\n\
\"DateTime\",\"DateTimeUTC\",\"Tag\",\"PagedAllocs\",\"PagedFrees\",\"PagedDiff\",\"PagedUsedBytes\",\
\"NonPagedAllocs\",\"NonPagedFrees\",\"NonPagedDiff\",\"NonPagedUsedBytes\",\"TotalUsedBytes\",\"Binary\",\"Description\"\n";

/// The file a snapshot taken at `t` goes to (one per UTC day).
pub fn file_name(t: DateTime<Utc>) -> String {
    format!("{}.pool.csv", t.format("%Y-%m-%d"))
}

/// The rows of one snapshot (tags as poolmon lists them: one row per tag and pool), merged per tag.
pub fn snapshot_rows(t: DateTime<Utc>, rows: &[(&str, PoolType, RowValues)]) -> String {
    let merged = merge_by_tag(rows.iter().map(|(tag, pool, v)| (*tag, *pool, [v.allocs, v.frees, v.diff, v.bytes])));
    // The collector runs on the server in its zone; the simulated hosts run on UTC.
    let stamp = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let mut out = String::with_capacity(merged.len() * 110);
    for (tag, [nonpaged, paged]) in merged {
        let _ = write!(out, "\"{stamp}\",\"{stamp}\",\"{}\"", tag.replace('"', "\"\""));
        // Paged columns, nonpaged columns, TotalUsedBytes.
        for v in paged.iter().chain(&nonpaged).chain(std::iter::once(&(paged[3] + nonpaged[3]))) {
            let _ = write!(out, ",\"{v}\"");
        }
        out.push_str(",\"\",\"\"\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::TimeSettings;
    use crate::parse::{parse_bytes, FileContext, Format};

    #[test]
    fn written_rows_read_back_as_one_snapshot_per_time() {
        let t0 = Utc.with_ymd_and_hms(2020, 5, 22, 22, 35, 55).unwrap();
        let v = |allocs, frees, bytes| RowValues { allocs, frees, diff: allocs - frees, bytes, per_alloc: 0 };
        let rows = [
            ("Toke", PoolType::Paged, v(1_500_000, 105_276, 2_320_820_736)),
            ("Irp ", PoolType::Nonpaged, v(800_000, 799_000, 288_000)),
            ("Irp ", PoolType::Paged, v(10, 5, 640)),
        ];
        let mut text = HEADER.to_owned();
        text.push_str(&snapshot_rows(t0, &rows));
        text.push_str(&snapshot_rows(t0 + chrono::Duration::minutes(1), &rows));
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.replace('\n', "\r\n").encode_utf16().flat_map(u16::to_le_bytes));
        let ctx = FileContext { path: file_name(t0), time: TimeSettings::default(), ..FileContext::default() };
        let parsed = parse_bytes(&bytes, Some(Format::PoolCsv), &ctx);
        assert_eq!(parsed.pool_snapshots.len(), 2, "{:#?}", parsed.diagnostics);
        let snap = &parsed.pool_snapshots[0];
        assert_eq!(snap.taken_at, Some(t0));
        assert_eq!(snap.rows.len(), 3, "{:#?}", snap.rows);
        let toke = snap.rows.iter().find(|r| r.tag == "Toke").unwrap();
        assert_eq!((toke.allocs, toke.frees, toke.bytes), (1_500_000, 105_276, 2_320_820_736));
        assert_eq!(file_name(t0), "2020-05-22.pool.csv");
    }
}
