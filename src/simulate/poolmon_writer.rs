//! Writes poolmon `-n -r` snapshots in the x64 build's layout (formats reference §1.3), and the
//! timestamp lines collection loops put before them (§1.4).
//!
//! Text is produced as ASCII with `\n`; the archive's text sink turns it into CRLF and UTF-16LE when
//! asked. Numbers are formatted by hand (this is the hot loop of a 1 GB archive).

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::pool_model::RowValues;
use crate::model::PoolType;

/// The x64 build's column header without `/g` (formats reference §1.3, B1 strings).
pub const COLUMN_HEADER: &str =
    " Tag  Type     Allocs            Frees               Diff            Bytes                 Per Alloc";

/// The `-r` summary values of one snapshot, in KiB (page faults as a count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// `Memory:` physical memory.
    pub memory_kb: u64,
    /// `Avail:` available memory.
    pub avail_kb: u64,
    /// `PageFlts:` cumulative page faults since boot (snapshot mode prints the total, not a delta).
    pub page_faults: u64,
    /// `InRam Krnl:` resident kernel code and data.
    pub inram_kernel_kb: u64,
    /// `P:` (first line) resident paged pool.
    pub inram_paged_kb: u64,
    /// `Commit:` commit charge.
    pub commit_kb: u64,
    /// `Limit:` commit limit.
    pub limit_kb: u64,
    /// `Peak:` peak commit charge this boot.
    pub peak_kb: u64,
    /// `Pool N:` nonpaged pool total.
    pub pool_nonpaged_kb: u64,
    /// `P:` (second line) paged pool total.
    pub pool_paged_kb: u64,
}

/// One row to print.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// The 4-character tag.
    pub tag: &'a str,
    /// Pool type.
    pub pool: PoolType,
    /// Its numbers.
    pub values: RowValues,
}

/// Appends `v` right-aligned in `width` columns (C's `%<width>d` for a non-negative value: wider
/// numbers simply overflow the column, as poolmon's do).
pub fn push_right(buf: &mut Vec<u8>, v: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut n = v;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let len = digits.len() - i;
    for _ in len..width {
        buf.push(b' ');
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Appends `v` as exactly `width` zero-padded digits.
pub fn push_zero_padded(buf: &mut Vec<u8>, v: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut n = v;
    for slot in digits.iter_mut().rev().take(width) {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    buf.extend_from_slice(&digits[20 - width..]);
}

/// Appends a string left-aligned in `width` columns (C's `%-<width>s`).
pub fn push_left(buf: &mut Vec<u8>, s: &str, width: usize) {
    buf.extend_from_slice(s.as_bytes());
    for _ in s.len()..width {
        buf.push(b' ');
    }
}

/// The `%5s` type column: poolmon's strings are `Paged` and `Nonp ` (with the trailing space).
fn type_column(pool: PoolType) -> &'static [u8] {
    match pool {
        PoolType::Paged => b"Paged",
        PoolType::Nonpaged => b"Nonp ",
    }
}

/// Appends one snapshot as `poolmon -n FILE -r` appends it: a blank line, the two summary lines, a
/// blank line, the column header, a blank line and the rows (` %4s %5s %18I64d %18I64d  %16I64d
/// %14I64d     %12I64d        %s` with an empty `Mapped_Driver`, so each row ends in 8 spaces).
pub fn write_snapshot(buf: &mut Vec<u8>, s: &Summary, rows: &[Row<'_>]) {
    buf.push(b'\n');
    // ` Memory:%8ldK Avail:%8ldK  PageFlts:%6ld   InRam Krnl:%5ldK P:%5ldK`
    buf.extend_from_slice(b" Memory:");
    push_right(buf, s.memory_kb, 8);
    buf.extend_from_slice(b"K Avail:");
    push_right(buf, s.avail_kb, 8);
    buf.extend_from_slice(b"K  PageFlts:");
    push_right(buf, s.page_faults, 6);
    buf.extend_from_slice(b"   InRam Krnl:");
    push_right(buf, s.inram_kernel_kb, 5);
    buf.extend_from_slice(b"K P:");
    push_right(buf, s.inram_paged_kb, 5);
    buf.extend_from_slice(b"K\n");
    // ` Commit:%7ldK Limit:%7ldK Peak:%7ldK            Pool N:%5ldK P:%5ldK`
    buf.extend_from_slice(b" Commit:");
    push_right(buf, s.commit_kb, 7);
    buf.extend_from_slice(b"K Limit:");
    push_right(buf, s.limit_kb, 7);
    buf.extend_from_slice(b"K Peak:");
    push_right(buf, s.peak_kb, 7);
    buf.extend_from_slice(b"K            Pool N:");
    push_right(buf, s.pool_nonpaged_kb, 5);
    buf.extend_from_slice(b"K P:");
    push_right(buf, s.pool_paged_kb, 5);
    buf.extend_from_slice(b"K\n\n");
    buf.extend_from_slice(COLUMN_HEADER.as_bytes());
    buf.extend_from_slice(b"\n\n");
    for row in rows {
        buf.push(b' ');
        push_left(buf, row.tag, 4);
        buf.push(b' ');
        buf.extend_from_slice(type_column(row.pool));
        buf.push(b' ');
        push_right(buf, row.values.allocs, 18);
        buf.push(b' ');
        push_right(buf, row.values.frees, 18);
        buf.extend_from_slice(b"  ");
        push_right(buf, row.values.diff, 16);
        buf.push(b' ');
        push_right(buf, row.values.bytes, 14);
        buf.extend_from_slice(b"     ");
        push_right(buf, row.values.per_alloc, 12);
        buf.extend_from_slice(b"        \n");
    }
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// cmd's `echo %DATE% %TIME% >> poolmon.log` in the en-US locale: `Tue 05/22/2020 22:35:55.53 `
/// (hundredths truncated, hours below 10 padded with a space, `echo` keeps the space before `>>`).
pub fn push_cmd_stamp(buf: &mut Vec<u8>, local: DateTime<Utc>) {
    buf.extend_from_slice(WEEKDAYS[local.weekday().num_days_from_monday() as usize].as_bytes());
    buf.push(b' ');
    push_zero_padded(buf, u64::from(local.month()), 2);
    buf.push(b'/');
    push_zero_padded(buf, u64::from(local.day()), 2);
    buf.push(b'/');
    push_zero_padded(buf, local.year().unsigned_abs().into(), 4);
    buf.push(b' ');
    push_right(buf, u64::from(local.hour()), 2);
    buf.push(b':');
    push_zero_padded(buf, u64::from(local.minute()), 2);
    buf.push(b':');
    push_zero_padded(buf, u64::from(local.second()), 2);
    buf.push(b'.');
    push_zero_padded(buf, u64::from(local.nanosecond().min(999_999_999) / 10_000_000), 2);
    buf.extend_from_slice(b" \n");
}

/// PowerShell's `Get-Date -Format o` on a host whose zone is UTC: `2020-05-22T22:35:55.5300000+00:00`.
pub fn push_iso_stamp(buf: &mut Vec<u8>, local: DateTime<Utc>) {
    push_zero_padded(buf, local.year().unsigned_abs().into(), 4);
    buf.push(b'-');
    push_zero_padded(buf, u64::from(local.month()), 2);
    buf.push(b'-');
    push_zero_padded(buf, u64::from(local.day()), 2);
    buf.push(b'T');
    push_zero_padded(buf, u64::from(local.hour()), 2);
    buf.push(b':');
    push_zero_padded(buf, u64::from(local.minute()), 2);
    buf.push(b':');
    push_zero_padded(buf, u64::from(local.second()), 2);
    buf.push(b'.');
    push_zero_padded(buf, u64::from(local.nanosecond().min(999_999_999) / 100), 7);
    buf.extend_from_slice(b"+00:00\n");
}

/// `20200522T223555Z`: the UTC time in file names (Himmel's `poolmon-<yyyyMMddTHHmmssZ>` scheme).
pub fn compact_utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn row(tag: &str, pool: PoolType, allocs: u64, frees: u64, bytes: u64) -> Row<'_> {
        let diff = allocs - frees;
        Row { tag, pool, values: RowValues { allocs, frees, diff, bytes, per_alloc: bytes / diff } }
    }

    #[test]
    fn row_matches_the_x64_format_string() {
        let mut buf = Vec::new();
        write_snapshot(
            &mut buf,
            &Summary::default(),
            &[row("FMfn", PoolType::Paged, 8_665_967, 5_982_729, 1_495_080_176)],
        );
        let text = String::from_utf8(buf).unwrap();
        let last = text.lines().last().unwrap();
        assert_eq!(
            last,
            " FMfn Paged            8665967            5982729           2683238     1495080176              557        "
        );
    }

    #[test]
    fn nonpaged_type_column_keeps_its_trailing_space() {
        let mut buf = Vec::new();
        write_snapshot(
            &mut buf,
            &Summary::default(),
            &[row("File", PoolType::Nonpaged, 44_288_592, 43_651_808, 254_683_680)],
        );
        let text = String::from_utf8(buf).unwrap();
        assert!(text.ends_with(" File Nonp            44288592           43651808            636784      254683680              399        \n"), "{text}");
    }

    #[test]
    fn summary_lines_and_snapshot_structure() {
        let s = Summary {
            memory_kb: 49_371_552,
            avail_kb: 26_121_028,
            page_faults: 901_597_864,
            inram_kernel_kb: 76_500,
            inram_paged_kb: 4_130_272,
            commit_kb: 35_762_700,
            limit_kb: 64_575_904,
            peak_kb: 43_634_092,
            pool_nonpaged_kb: 2_275_124,
            pool_paged_kb: 4_427_892,
        };
        let mut buf = Vec::new();
        write_snapshot(&mut buf, &s, &[]);
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines[0], "");
        assert_eq!(lines[1], " Memory:49371552K Avail:26121028K  PageFlts:901597864   InRam Krnl:76500K P:4130272K");
        assert_eq!(lines[2], " Commit:35762700K Limit:64575904K Peak:43634092K            Pool N:2275124K P:4427892K");
        assert_eq!(lines[3], "");
        assert_eq!(lines[4], COLUMN_HEADER);
        assert_eq!(lines[5], "");
    }

    #[test]
    fn narrow_values_are_padded() {
        let mut buf = Vec::new();
        push_right(&mut buf, 42, 6);
        push_right(&mut buf, 0, 3);
        push_right(&mut buf, 1_234_567, 3);
        assert_eq!(buf, b"    42  01234567");
    }

    #[test]
    fn cmd_stamp_pads_morning_hours_with_a_space() {
        let t = Utc.with_ymd_and_hms(2020, 5, 22, 22, 35, 55).unwrap() + chrono::Duration::milliseconds(539);
        let mut buf = Vec::new();
        push_cmd_stamp(&mut buf, t);
        assert_eq!(buf, b"Fri 05/22/2020 22:35:55.53 \n");
        let t = Utc.with_ymd_and_hms(2020, 5, 19, 9, 5, 1).unwrap() + chrono::Duration::milliseconds(70);
        buf.clear();
        push_cmd_stamp(&mut buf, t);
        assert_eq!(buf, b"Tue 05/19/2020  9:05:01.07 \n");
    }

    #[test]
    fn iso_stamp_has_seven_fraction_digits() {
        let t = Utc.with_ymd_and_hms(2020, 5, 22, 22, 35, 55).unwrap() + chrono::Duration::microseconds(531_234);
        let mut buf = Vec::new();
        push_iso_stamp(&mut buf, t);
        assert_eq!(buf, b"2020-05-22T22:35:55.5312340+00:00\n");
        assert_eq!(compact_utc(t), "20200522T223555Z");
    }
}
