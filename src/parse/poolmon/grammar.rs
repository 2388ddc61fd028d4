//! nom rules for the lines of poolmon output, named after the format's own terms (formats reference §1.2, §1.3).
//!
//! Every rule works on one line (line ends already removed) and borrows from it. Numbers are kept as the
//! signed values poolmon printed; [`to_counter`] reinterprets the x86 build's negative `%ld` output.
//! The hot path for data rows is the hand-written [`super::row::fast_tag_row`]; [`tag_row`] here is the
//! complete grammar, used for every line the fast path declines, and the reference the fast path is tested
//! against.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_till1, take_while, take_while1};
use nom::character::complete::{char, digit1, space0, space1};
use nom::combinator::{all_consuming, map, map_res, opt, recognize, value};
use nom::multi::many1;
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

use crate::model::PoolType;

/// Column layout of a table, told apart by the spacing of the column header (formats reference §1.2, §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// `-n` snapshot file from the x86 build (`%9ld %9ld  %8ld %7ld`).
    X86Snapshot,
    /// `-n` snapshot file from the x64 build (`%18I64d %18I64d  %16I64d %14I64d`).
    X64Snapshot,
    /// Interactive screen of the x86 build (`Diff   Bytes`).
    X86Screen,
    /// Interactive screen of the x64 build (`Diff       Bytes`).
    X64Screen,
    /// Any other spacing: older builds (`Tag  Type        Allocs`), pastes with mangled whitespace, or no
    /// column header at all.
    Other,
}

/// The column header line (` Tag  Type     Allocs ... Per Alloc[ Mapped_Driver]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnHeader {
    /// Which build and mode the spacing belongs to.
    pub layout: Layout,
    /// Whether the `Mapped_Driver` column (`/g`, x86 `/c`) is present.
    pub mapped_driver: bool,
}

/// What a `-r` summary line (or a screen's first two lines) holds, in the units printed (KiB, counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryLine {
    /// ` Memory:%8ldK Avail:%8ldK  PageFlts:%6ld   InRam Krnl:%5ldK P:%5ldK`.
    Memory {
        /// `Memory:` KiB.
        memory: i64,
        /// `Avail:` KiB.
        avail: i64,
        /// `PageFlts:` (cumulative in `-n` files, a per-refresh delta on screens).
        page_faults: i64,
        /// `InRam Krnl:` KiB.
        in_ram_kernel: i64,
        /// `InRam ... P:` KiB.
        in_ram_pool: i64,
    },
    /// ` Commit:%7ldK Limit:%7ldK Peak:%7ldK            Pool N:%5ldK P:%5ldK`.
    Commit {
        /// `Commit:` KiB.
        commit: i64,
        /// `Limit:` KiB.
        limit: i64,
        /// `Peak:` KiB.
        peak: i64,
        /// `Pool N:` KiB.
        pool_nonpaged: i64,
        /// `Pool ... P:` KiB.
        pool_paged: i64,
    },
}

/// Which pool a screen shows: the title line (`System pool information`, `/s` session variants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolScope {
    /// ` System pool information`.
    System,
    /// ` All sessions pool information` (`/s`).
    AllSessions,
    /// ` Session %u pool information` (`/s<N>`).
    Session(u32),
}

/// Per-refresh changes of a screen row: the `( delta)` columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct RowDeltas {
    /// Change of Allocs since the previous refresh.
    pub allocs: i64,
    /// Change of Frees since the previous refresh.
    pub frees: i64,
    /// Change of Bytes since the previous refresh.
    pub bytes: i64,
}

/// A data row as printed, borrowed from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowFields<'a> {
    /// The tag, 1-4 characters as printed (a pasted row may have lost the padding of `Io  `).
    pub tag: &'a str,
    /// `Paged` or `Nonp`.
    pub pool: PoolType,
    /// Allocs, Frees, Diff, Bytes, Per Alloc as printed (x86 negatives not yet reinterpreted).
    pub values: [i64; 5],
    /// The `( delta)` columns of a screen row.
    pub deltas: Option<RowDeltas>,
    /// The `Mapped_Driver` text, trimmed.
    pub driver: Option<&'a str>,
    /// Whether the line ended in whitespace (`-n` rows without `/g` end in 8 spaces).
    pub trailing_space: bool,
}

/// A `/e` totals row: `Total %5s` and the numeric columns (Per Alloc may be absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TotalFields {
    /// Pool type of the total.
    pub pool: PoolType,
    /// Allocs, Frees, Diff, Bytes as printed.
    pub values: [i64; 4],
    /// The `( delta)` columns, when present.
    pub deltas: Option<RowDeltas>,
}

/// An error message poolmon itself writes (B1 string table, formats reference §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorLine {
    /// `ERROR: Number of Pool Tags Exceeds Buffer Size in PoolSnap, List Truncated`: the snapshot is cut short.
    ListTruncated,
    /// Pool tags could not be queried (`Poolmon: Failed to query pool tags ...`, `Query pooltags Failed`, ...):
    /// no snapshot follows.
    QueryFailed,
    /// Any other `Poolmon:` message (tag file, log file errors).
    Other,
    /// The advice printed after a failed query (`Please check if pool tags are enabled.`, `Did you remember to
    /// enable pool tagging with gflags.exe and reboot?`).
    Advice,
}

type Res<'a, T> = IResult<&'a str, T>;

/// A number as printed: optional `-`, digits.
pub fn signed_number(i: &str) -> Res<'_, i64> {
    map_res(recognize((opt(char('-')), digit1)), str::parse::<i64>).parse(i)
}

/// Reinterprets a printed counter as unsigned. The x86 build prints unsigned 32-bit quantities with `%ld`, so
/// values of 2^31 and above come out negative (formats reference §1.3; ANALYSIS.md §1): `-1` is 4294967295.
/// Returns the value and whether it was reinterpreted; `None` for values no 32-bit reading explains.
pub fn to_counter(printed: i64) -> Option<(u64, bool)> {
    if printed >= 0 {
        Some((printed as u64, false))
    } else if printed >= -(1i64 << 31) {
        Some(((printed + (1i64 << 32)) as u64, true))
    } else {
        None
    }
}

/// `Paged` or `Nonp`.
pub fn pool_type(i: &str) -> Res<'_, PoolType> {
    alt((value(PoolType::Paged, tag("Paged")), value(PoolType::Nonpaged, tag("Nonp")))).parse(i)
}

/// A `( delta)` column: parentheses around a signed number, inner spaces optional (`( -184)`, `( 0)`).
pub fn delta(i: &str) -> Res<'_, i64> {
    delimited((space0, char('('), space0), signed_number, (space0, char(')'))).parse(i)
}

/// `Mapped_Driver` text (`/g`): `[text]` groups, several run together when a tag matches more than one source
/// (`[ipsec][ipsec.sys    -  event queue]`), or the literal `Unknown Driver`.
pub fn mapped_driver(i: &str) -> Res<'_, &str> {
    let group = delimited(char('['), take_till(|c| c == ']'), char(']'));
    alt((tag("Unknown Driver"), recognize(many1(group)))).parse(i)
}

/// The tag and type at the start of a row: the 4 characters after the optional single leading space (tags
/// hold spaces: `Key `, `Dh 1`, `Io  `), then whitespace and the type. A paste whose whitespace was collapsed
/// (`Io Nonp`) is read by taking the first word as a short tag.
pub fn tag_and_type(i: &str) -> Res<'_, (&str, PoolType)> {
    let fixed = |i| -> Res<'_, (&str, PoolType)> {
        let (i, _) = opt(char(' ')).parse(i)?;
        let end = i.char_indices().nth(4).map_or(usize::MAX, |(p, _)| p);
        if end == usize::MAX {
            return Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Eof)));
        }
        let (tag, after) = i.split_at(end);
        let (after, (_, pool)) = (space1, pool_type).parse(after)?;
        Ok((after, (tag, pool)))
    };
    let collapsed = |i| -> Res<'_, (&str, PoolType)> {
        let (i, (_, tag, _, pool)) = (space0, take_till1(|c: char| c.is_whitespace()), space1, pool_type).parse(i)?;
        if tag.chars().count() > 4 {
            return Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify)));
        }
        Ok((i, (tag, pool)))
    };
    let (i, found) = alt((fixed, collapsed)).parse(i)?;
    // The type must end at whitespace or a digit (`Paged169392` never happens; `Pagedx` is not a type).
    if i.starts_with(|c: char| c.is_alphabetic()) {
        return Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify)));
    }
    Ok((i, found))
}

/// A counter column: the number and, on screens, its `( delta)`.
fn counter(i: &str) -> Res<'_, (i64, Option<i64>)> {
    (preceded(space1, signed_number), opt(delta)).parse(i)
}

/// The number after a column: separated by whitespace, except that after a `( delta)` the space may be lost in
/// a paste (`169392( 0)` shows the same for the delta itself).
fn next_number(after_delta: bool) -> impl FnMut(&str) -> Res<'_, i64> {
    move |i| {
        if after_delta {
            preceded(space0, signed_number).parse(i)
        } else {
            preceded(space1, signed_number).parse(i)
        }
    }
}

/// The numeric columns shared by data and total rows: Allocs, Frees, Diff, Bytes (each counter with an
/// optional delta), returned with the deltas when all three are present.
fn numeric_columns(i: &str) -> Res<'_, ([i64; 4], Option<RowDeltas>)> {
    let (i, (allocs, d_allocs)) = counter(i)?;
    let (i, frees) = next_number(d_allocs.is_some())(i)?;
    let (i, d_frees) = opt(delta).parse(i)?;
    let (i, diff) = next_number(d_frees.is_some())(i)?;
    let (i, (bytes, d_bytes)) = counter(i)?;
    let deltas = match (d_allocs, d_frees, d_bytes) {
        (Some(allocs), Some(frees), Some(bytes)) => Some(RowDeltas { allocs, frees, bytes }),
        (None, None, None) => None,
        _ => return Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify))),
    };
    Ok((i, ([allocs, frees, diff, bytes], deltas)))
}

/// Whitespace to the end of the line, or an error naming what is left.
fn line_end(i: &str) -> Res<'_, ()> {
    let (i, _) = take_while(char::is_whitespace)(i)?;
    if i.is_empty() {
        Ok((i, ()))
    } else {
        Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Eof)))
    }
}

/// A data row, snapshot (` %4s %5s %9ld %9ld  %8ld %7ld     %6ld        %s`) or screen
/// (` %4s %5s %9ld (%4ld) %9ld (%4ld) %8ld %7ld (%6ld) %6ld %s`), any build: fields by whitespace, tag by
/// position, optional deltas, optional `Mapped_Driver`, trailing whitespace allowed.
pub fn tag_row(line: &str) -> Res<'_, RowFields<'_>> {
    let (i, (tag, pool)) = tag_and_type(line)?;
    let (i, (numbers, deltas)) = numeric_columns(i)?;
    let (i, per_alloc) = next_number(deltas.is_some())(i)?;
    let (i, driver) = opt(preceded(space1, mapped_driver)).parse(i)?;
    let (i, ()) = line_end(i)?;
    let [allocs, frees, diff, bytes] = numbers;
    let fields = RowFields {
        tag,
        pool,
        values: [allocs, frees, diff, bytes, per_alloc],
        deltas,
        driver,
        trailing_space: line.ends_with(char::is_whitespace),
    };
    Ok((i, fields))
}

/// A `/e` totals row: `Total Paged ...` / `Total Nonp  ...`; not a data row.
pub fn total_row(line: &str) -> Res<'_, TotalFields> {
    let (i, (_, _, _, pool)) = (space0, tag("Total"), space1, pool_type).parse(line)?;
    let (i, (values, deltas)) = numeric_columns(i)?;
    let (i, _) = opt(next_number(deltas.is_some())).parse(i)?;
    let (i, ()) = line_end(i)?;
    Ok((i, TotalFields { pool, values, deltas }))
}

/// A labelled summary value: `Label:` then optional spaces, a number and an optional `K`
/// (`Commit:4100436K` has no space; a Markdown paste has `Memory: 16224K`).
fn summary_value<'a>(label: &'static str) -> impl Parser<&'a str, Output = i64, Error = nom::error::Error<&'a str>> {
    delimited((space0, tag(label), space0), signed_number, opt(char('K')))
}

/// `InRam Krnl:` (the two words may be split by any whitespace in a paste).
fn in_ram_krnl(i: &str) -> Res<'_, ()> {
    value((), (space0, tag("InRam"), space1, tag("Krnl:"))).parse(i)
}

/// `Pool N:`.
fn pool_n(i: &str) -> Res<'_, ()> {
    value((), (space0, tag("Pool"), space1, tag("N:"))).parse(i)
}

/// A `-r` summary line: the Memory line or the Commit line (formats reference §1.2).
pub fn summary_line(line: &str) -> Res<'_, SummaryLine> {
    let memory = map(
        (
            summary_value("Memory:"),
            summary_value("Avail:"),
            summary_value("PageFlts:"),
            preceded(in_ram_krnl, summary_value("")),
            summary_value("P:"),
        ),
        |(memory, avail, page_faults, in_ram_kernel, in_ram_pool)| SummaryLine::Memory {
            memory,
            avail,
            page_faults,
            in_ram_kernel,
            in_ram_pool,
        },
    );
    let commit = map(
        (
            summary_value("Commit:"),
            summary_value("Limit:"),
            summary_value("Peak:"),
            preceded(pool_n, summary_value("")),
            summary_value("P:"),
        ),
        |(commit, limit, peak, pool_nonpaged, pool_paged)| SummaryLine::Commit {
            commit,
            limit,
            peak,
            pool_nonpaged,
            pool_paged,
        },
    );
    all_consuming(delimited(space0, alt((memory, commit)), space0)).parse(line)
}

/// The column header. Markdown may have turned it into `## Tag   Type ...`; tabs may stand for the spaces.
pub fn column_header(line: &str) -> Res<'_, ColumnHeader> {
    let (i, _) = (space0, opt((take_while1(|c| c == '#'), space0))).parse(line)?;
    let body = i.trim_end();
    let words = [("Tag", true), ("Type", true), ("Allocs", true), ("Frees", true), ("Diff", true), ("Bytes", true)];
    let mut rest_of = body;
    let mut gaps = [0usize; 6];
    for (k, (word, _)) in words.iter().enumerate() {
        let (after_ws, ws) = space0(rest_of)?;
        gaps[k] = ws.len();
        let (after_word, _) = tag(*word).parse(after_ws)?;
        rest_of = after_word;
    }
    let (after, _) = (space1, tag("Per"), space1, tag("Alloc")).parse(rest_of)?;
    let (after, driver) = opt(preceded(space1, tag("Mapped_Driver"))).parse(after)?;
    all_consuming(space0).parse(after)?;
    let layout = if body.contains('\t') {
        Layout::Other
    } else {
        // Gaps before Frees, Diff and Bytes differ by build and mode (formats reference §1.2, §1.3).
        match (gaps[3], gaps[4], gaps[5]) {
            (9, 4, 3) => Layout::X86Snapshot,
            (12, 15, 12) => Layout::X64Snapshot,
            (12, 12, 3) => Layout::X86Screen,
            (12, 12, 7) => Layout::X64Screen,
            _ => Layout::Other,
        }
    };
    Ok(("", ColumnHeader { layout, mapped_driver: driver.is_some() }))
}

/// The screen's title line: ` System pool information`, ` All sessions pool information`,
/// ` Session %u pool information`.
pub fn title_line(line: &str) -> Res<'_, PoolScope> {
    let session =
        map(delimited((tag("Session"), space1), map_res(digit1, str::parse::<u32>), space1), PoolScope::Session);
    let scope = alt((
        value(PoolScope::System, (tag("System"), space1)),
        value(PoolScope::AllSessions, (tag("All"), space1, tag("sessions"), space1)),
        session,
    ));
    all_consuming(delimited(space0, scope, (tag("pool"), space1, tag("information"), space0))).parse(line)
}

/// One of poolmon's own error messages (B1 string table, formats reference §1.3), or the advice line that
/// follows one.
pub fn error_line(line: &str) -> Res<'_, ErrorLine> {
    let (i, _) = space0(line)?;
    let truncated = value(ErrorLine::ListTruncated, tag("ERROR: Number of Pool Tags Exceeds Buffer Size"));
    let failed = value(
        ErrorLine::QueryFailed,
        alt((
            tag("Poolmon: Failed to query pool tags"),
            tag("Poolmon: Query pooltags failed"),
            tag("Query pooltags Failed"),
        )),
    );
    let other = value(ErrorLine::Other, tag("Poolmon: "));
    let advice = value(
        ErrorLine::Advice,
        alt((tag("Please check if pool tags are enabled"), tag("Did you remember to enable pool tagging"))),
    );
    let (_, kind) = alt((truncated, failed, other, advice)).parse(i)?;
    Ok(("", kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_number_and_to_counter() {
        assert_eq!(signed_number("-184)"), Ok((")", -184)));
        assert_eq!(to_counter(163_418_368), Some((163_418_368, false)));
        assert_eq!(to_counter(-1), Some((4_294_967_295, true)));
        assert_eq!(to_counter(-2_147_483_648), Some((2_147_483_648, true)));
        assert_eq!(to_counter(-2_147_483_649), None);
    }

    #[test]
    fn pool_type_rule() {
        assert_eq!(pool_type("Paged  1"), Ok(("  1", PoolType::Paged)));
        assert_eq!(pool_type("Nonp 1"), Ok((" 1", PoolType::Nonpaged)));
        assert!(pool_type("Sess").is_err());
    }

    #[test]
    fn delta_rule() {
        assert_eq!(delta(" (   1)"), Ok(("", 1)));
        assert_eq!(delta("( -184)"), Ok(("", -184)));
        assert_eq!(delta("( 0) "), Ok((" ", 0)));
        assert!(delta(" 12").is_err());
    }

    #[test]
    fn mapped_driver_rule() {
        assert_eq!(mapped_driver("[ntfs.sys  -  Create.c]"), Ok(("", "[ntfs.sys  -  Create.c]")));
        assert_eq!(
            mapped_driver("[ipsec][ipsec.sys    -  event queue]"),
            Ok(("", "[ipsec][ipsec.sys    -  event queue]"))
        );
        assert_eq!(mapped_driver("Unknown Driver"), Ok(("", "Unknown Driver")));
        assert!(mapped_driver("[ntfs.sys - Crea").is_err());
        assert!(mapped_driver("garbage").is_err());
    }

    #[test]
    fn tag_and_type_rule() {
        assert_eq!(tag_and_type(" Io   Nonp    1").unwrap().1, ("Io  ", PoolType::Nonpaged));
        assert_eq!(tag_and_type("Dh 1 Paged        37").unwrap().1, ("Dh 1", PoolType::Paged));
        assert_eq!(tag_and_type(" Key  Paged 1").unwrap().1, ("Key ", PoolType::Paged));
        assert_eq!(tag_and_type("CM31 \tPaged \t169392").unwrap().1, ("CM31", PoolType::Paged));
        assert_eq!(tag_and_type("Io Nonp 5").unwrap().1, ("Io", PoolType::Nonpaged));
        assert!(tag_and_type(" Total Paged 1").is_err());
        assert!(tag_and_type(" Tag  Type").is_err());
    }

    #[test]
    fn tag_row_snapshot_x64_and_x86() {
        let line =
            " FMfn Paged            8665967            5982729           2683238     1495080176              557";
        let (_, row) = tag_row(line).unwrap();
        assert_eq!(row.tag, "FMfn");
        assert_eq!(row.values, [8_665_967, 5_982_729, 2_683_238, 1_495_080_176, 557]);
        assert_eq!(row.deltas, None);
        assert!(!row.trailing_space);
        let (_, row) = tag_row(" Ntfx Nonp    1127072   1037111     89961 26955808        299        ").unwrap();
        assert_eq!(row.values[3], 26_955_808);
        assert!(row.trailing_space);
        let (_, row) = tag_row(" EtwB Nonp       6394      4056      2338 -163418368      69896").unwrap();
        assert_eq!(row.values[3], -163_418_368);
    }

    #[test]
    fn tag_row_screen_with_deltas_and_driver() {
        let (_, row) =
            tag_row(" Io   Nonp    1021112 (   1)   1020985 (   1)      127   91912 (     0)    723").unwrap();
        assert_eq!(row.tag, "Io  ");
        assert_eq!(row.deltas, Some(RowDeltas { allocs: 1, frees: 1, bytes: 0 }));
        assert_eq!(row.values, [1_021_112, 1_020_985, 127, 91_912, 723]);
        let line = " IpEQ Nonp          1 (   0)         0 (   0)        1    1808 (     0)   1808 [ipsec][ipsec.sys    -  event queue]";
        let (_, row) = tag_row(line).unwrap();
        assert_eq!(row.driver, Some("[ipsec][ipsec.sys    -  event queue]"));
        let (_, row) =
            tag_row("DDfb Paged        34 (   0)        22 (   0)       12     720 (     0)     60 Unknown Driver")
                .unwrap();
        assert_eq!((row.tag, row.driver), ("DDfb", Some("Unknown Driver")));
    }

    #[test]
    fn tag_row_mangled_pastes() {
        let (_, row) = tag_row("MmSt \tPaged \t673616( 16) 656049( 17) 17567 \t28286672( -184) 1610").unwrap();
        assert_eq!(row.values, [673_616, 656_049, 17_567, 28_286_672, 1610]);
        assert_eq!(row.deltas, Some(RowDeltas { allocs: 16, frees: 17, bytes: -184 }));
        let (_, row) = tag_row("CM31 \tPaged \t169392( 0) \t153744( 0) \t15648 \t74838016( 0) \t4782").unwrap();
        assert_eq!(row.values[0], 169_392);
        let (_, row) =
            tag_row("Drsd Paged       560 ( 177)       539 ( 171)       21   17472 (  4992)    832 ").unwrap();
        assert_eq!(row.deltas, Some(RowDeltas { allocs: 177, frees: 171, bytes: 4992 }));
    }

    #[test]
    fn tag_row_rejects_garbage() {
        for line in [
            " MmSt Paged   2269405   2095",
            " MmSt Paged   2269405   2095404    174001 156097152        897 garbage",
            " MmSt Paged   2269405 (  1)  2095404    174001 156097152        897",
            " Tag  Type     Allocs",
            "",
        ] {
            assert!(tag_row(line).is_err(), "{line:?}");
        }
    }

    #[test]
    fn total_row_rule() {
        let (_, t) = total_row(" Total Paged   1161638 (   0)   1161630 (   0)        8     864 (     0)").unwrap();
        assert_eq!(t.pool, PoolType::Paged);
        assert_eq!(t.values, [1_161_638, 1_161_630, 8, 864]);
        assert!(t.deltas.is_some());
        assert!(total_row(" Total Nonp    3971107 (   0)   3971077 (   0)       30    8456 (     0)    281").is_ok());
        assert!(total_row(" Toke Paged 1 2 3 4 5").is_err());
    }

    #[test]
    fn summary_line_rule() {
        let (_, s) =
            summary_line(" Memory:16468560K Avail:12072536K  PageFlts:468600648   InRam Krnl:56708K P:950888K")
                .unwrap();
        assert_eq!(
            s,
            SummaryLine::Memory {
                memory: 16_468_560,
                avail: 12_072_536,
                page_faults: 468_600_648,
                in_ram_kernel: 56_708,
                in_ram_pool: 950_888
            }
        );
        let (_, s) =
            summary_line(" Commit:4100436K Limit:17517136K Peak:11685564K            Pool N:710920K P:983564K")
                .unwrap();
        assert!(matches!(s, SummaryLine::Commit { commit: 4_100_436, pool_paged: 983_564, .. }));
        assert!(summary_line("Memory: 2096696K Avail: 1150336K PageFlts: 8135 InRam Krnl: 5004K P:158756K").is_ok());
        assert!(summary_line(" Memory:  260620K Avail:   96364K  PageFlts:     0   InRam Krnl: 1916K P:17856K").is_ok());
        assert!(summary_line(" Memory:16468560K Avail:12072536K  PageFlts:4686").is_err());
    }

    #[test]
    fn column_header_rule() {
        let h = |l| column_header(l).unwrap().1;
        assert_eq!(h(" Tag  Type     Allocs         Frees    Diff   Bytes    Per Alloc").layout, Layout::X86Snapshot);
        assert_eq!(
            h(" Tag  Type     Allocs            Frees               Diff            Bytes                 Per Alloc")
                .layout,
            Layout::X64Snapshot
        );
        assert_eq!(
            h(" Tag  Type     Allocs            Frees            Diff   Bytes       Per Alloc").layout,
            Layout::X86Screen
        );
        let g = h(" Tag  Type     Allocs            Frees            Diff   Bytes      Per Alloc  Mapped_Driver");
        assert_eq!(g, ColumnHeader { layout: Layout::X86Screen, mapped_driver: true });
        assert_eq!(
            h(" Tag  Type     Allocs            Frees            Diff       Bytes                  Per Alloc").layout,
            Layout::X64Screen
        );
        assert_eq!(
            h("Tag  Type        Allocs           Frees           Diff  Bytes           Per Alloc").layout,
            Layout::Other
        );
        assert_eq!(h("## Tag   Type   Allocs   Frees   Diff   Bytes   Per Alloc").layout, Layout::Other);
        assert_eq!(h("Tag \tType \tAllocs \t\tFrees \t\tDiff \tBytes \t\t\tPer Alloc").layout, Layout::Other);
        assert!(column_header(" Tag  Type     Allocs").is_err());
    }

    #[test]
    fn title_line_rule() {
        assert_eq!(title_line(" System pool information"), Ok(("", PoolScope::System)));
        assert_eq!(title_line(" All sessions pool information"), Ok(("", PoolScope::AllSessions)));
        assert_eq!(title_line("Session 0 pool information"), Ok(("", PoolScope::Session(0))));
        assert!(title_line(" System pool information and more").is_err());
    }

    #[test]
    fn error_line_rule() {
        assert_eq!(
            error_line("ERROR: Number of Pool Tags Exceeds Buffer Size in PoolSnap, List Truncated").unwrap().1,
            ErrorLine::ListTruncated
        );
        assert_eq!(
            error_line("Poolmon: Failed to query pool tags information (status C0000005).").unwrap().1,
            ErrorLine::QueryFailed
        );
        assert_eq!(error_line("Query pooltags Failed c0000017").unwrap().1, ErrorLine::QueryFailed);
        assert_eq!(error_line("Poolmon: Tag file pooltag.txt absent or invalid: 2").unwrap().1, ErrorLine::Other);
        assert_eq!(error_line("Please check if pool tags are enabled.").unwrap().1, ErrorLine::Advice);
        assert!(error_line(" FMfn Paged 1 2 3 4 5").is_err());
    }
}
