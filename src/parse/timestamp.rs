//! Timestamps in collection-loop lines and file names (formats reference §1.4).
//!
//! poolmon and handle.exe never print a time, so archives carry it out of band: a line a collection loop
//! wrote just before each run (`echo %DATE% %TIME%`, PowerShell `Get-Date`, Clue's zone-named stamp, xray's
//! `=====` marker) or a stamp in the file name (Himmel, `PoolmonScript`, `PoolmonViz`). This module recognises those
//! ([`stamp_line`], [`stamp_in_file_name`]) into a [`RawStamp`] that keeps what the text leaves open (day/month
//! order, zone), and [`resolve_stamps`] settles that over a whole file and converts to UTC.
//!
//! Used by the poolmon and handle.exe parsers alike.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc, Weekday};
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while1, take_while_m_n};
use nom::character::complete::{char, one_of, space0, space1};
use nom::combinator::{map_res, opt, rest};
use nom::sequence::preceded;
use nom::{IResult, Parser};

use crate::model::{DateOrder, Diagnostic, Severity, TimeSettings};

/// The date part of a stamp, with the day/month order kept open when the text does not settle it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampDate {
    /// Year, month and day are known (ISO dates, month names, dotted day-first dates).
    Known {
        /// Year.
        year: i32,
        /// Month, 1-12.
        month: u32,
        /// Day of month, 1-31.
        day: u32,
    },
    /// Two numeric fields whose order is locale-dependent (`05/06/2020`): `first` and `second` as written.
    Ambiguous {
        /// Year.
        year: i32,
        /// The first of the two fields as written.
        first: u32,
        /// The second of the two fields as written.
        second: u32,
        /// The order the writer most likely used (en-US `Ddd MM/DD/YYYY` is month first; `PoolmonScript` file
        /// names are `YYYY-DD-MM`), used only when the whole file cannot settle it (with a warning).
        likely: DateOrder,
    },
}

/// The zone a stamp's wall-clock time is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StampZone {
    /// Local time of the collecting machine, not stated: read in `--tz` (UTC when not given, with a warning).
    Local,
    /// UTC (`Z` suffix).
    Utc,
    /// A fixed offset from UTC, in seconds east (`Get-Date -Format o` writes `+02:00`).
    Offset(i32),
    /// A zone named in the text (Clue's Windows zone ID, mapped to IANA).
    Named(chrono_tz::Tz),
    /// A Windows zone ID missing from the mapping table: read as [`StampZone::Local`] with a warning.
    UnknownName(String),
}

/// A timestamp as written, before the file-wide day/month order and the zone are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStamp {
    /// The date, possibly with day/month order still open.
    pub date: StampDate,
    /// Weekday named in the text (`Tue 05/22/2020`, `Tuesday, May 22, 2020`); settles day/month order.
    pub weekday: Option<Weekday>,
    /// Hour, 0-23 (12-hour clock times are converted).
    pub hour: u32,
    /// Minute, 0-59.
    pub minute: u32,
    /// Second, 0-59.
    pub second: u32,
    /// Nanoseconds from the fraction (`.53` of cmd's `%TIME%`).
    pub nanos: u32,
    /// The zone.
    pub zone: StampZone,
    /// Line of the stamp in its file, when it came from a line (the caller fills it; diagnostics use it).
    pub line: Option<u64>,
}

impl RawStamp {
    /// The wall-clock date and time under the given day/month order (ignored for known dates).
    /// `None` when the fields make no valid date (`31/02/2020`).
    pub fn naive(&self, order: DateOrder) -> Option<NaiveDateTime> {
        let (year, month, day) = match self.date {
            StampDate::Known { year, month, day } => (year, month, day),
            StampDate::Ambiguous { year, first, second, .. } => match order {
                DateOrder::Dmy => (year, second, first),
                DateOrder::Mdy => (year, first, second),
            },
        };
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        let time = NaiveTime::from_hms_nano_opt(self.hour, self.minute, self.second, self.nanos)?;
        Some(date.and_time(time))
    }

    /// Which orders this stamp allows on its own: (day first possible, month first possible). A named weekday
    /// narrows two valid readings to the one it fits, but never rules out the only valid one (a loop's clock may
    /// be right while a hand-typed weekday is wrong).
    fn allows(&self) -> (bool, bool) {
        let dmy = self.naive(DateOrder::Dmy);
        let mdy = self.naive(DateOrder::Mdy);
        if let (Some(w), Some(d), Some(m)) = (self.weekday, dmy, mdy) {
            let fits = (d.weekday() == w, m.weekday() == w);
            if fits.0 != fits.1 {
                return fits;
            }
        }
        (dmy.is_some(), mdy.is_some())
    }

    fn is_ambiguous(&self) -> bool {
        matches!(self.date, StampDate::Ambiguous { first, second, .. } if first != second)
    }
}

// ---------------------------------------------------------------------------------------------------------
// Grammar pieces
// ---------------------------------------------------------------------------------------------------------

/// `n` to `m` ASCII digits as a number.
fn number(min: usize, max: usize) -> impl FnMut(&str) -> IResult<&str, u32> {
    move |i| map_res(take_while_m_n(min, max, |c: char| c.is_ascii_digit()), str::parse::<u32>).parse(i)
}

/// A four-digit year.
fn year(i: &str) -> IResult<&str, i32> {
    let (i, y) = number(4, 4)(i)?;
    Ok((i, y as i32))
}

/// A fraction of a second after `.` or `,` (cmd writes `%TIME%` with the locale's decimal separator).
fn fraction(i: &str) -> IResult<&str, u32> {
    let (i, digits) = preceded(one_of(".,"), take_while1(|c: char| c.is_ascii_digit())).parse(i)?;
    let mut nanos = 0u32;
    for (k, d) in digits.bytes().take(9).enumerate() {
        nanos += u32::from(d - b'0') * 10u32.pow(8 - k as u32);
    }
    Ok((i, nanos))
}

/// `AM`/`PM` (PowerShell en-US long time).
fn meridiem(i: &str) -> IResult<&str, bool> {
    let (i, m) = preceded(space0, alt((tag_no_case("AM"), tag_no_case("PM")))).parse(i)?;
    Ok((i, m.eq_ignore_ascii_case("PM")))
}

/// `H:MM:SS[.fff][ AM|PM]`: the time of day, hour 0-23 after 12-hour conversion.
fn time_of_day(i: &str) -> IResult<&str, (u32, u32, u32, u32)> {
    let (i, (h, _, m, _, s, frac, pm)) =
        (number(1, 2), char(':'), number(2, 2), char(':'), number(2, 2), opt(fraction), opt(meridiem)).parse(i)?;
    let hour = match pm {
        Some(true) if h < 12 => h + 12,
        Some(false) if h == 12 => 0,
        _ => h,
    };
    if hour > 23 || m > 59 || s > 60 || (pm.is_some() && !(1..=12).contains(&h)) {
        return Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify)));
    }
    Ok((i, (hour, m, s.min(59), frac.unwrap_or(0))))
}

/// An English weekday name, full or abbreviated (`Tue`, `Tuesday`).
fn weekday_name(word: &str) -> Option<Weekday> {
    const NAMES: [(&str, Weekday); 7] = [
        ("mon", Weekday::Mon),
        ("tue", Weekday::Tue),
        ("wed", Weekday::Wed),
        ("thu", Weekday::Thu),
        ("fri", Weekday::Fri),
        ("sat", Weekday::Sat),
        ("sun", Weekday::Sun),
    ];
    let lower = word.to_ascii_lowercase();
    let full = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    NAMES.iter().zip(full).find(|((abbr, _), full)| lower == *abbr || lower == *full).map(|((_, w), _)| *w)
}

/// A month name: English full or abbreviated, or German (PowerShell de-DE long dates; `ä` becomes `?` or `a`
/// when a wrapper forces ASCII, formats reference §1.4).
fn month_name(word: &str) -> Option<u32> {
    const MONTHS: [&[&str]; 12] = [
        &["january", "jan", "januar"],
        &["february", "feb", "februar"],
        &["march", "mar", "märz", "m?rz", "marz", "maerz"],
        &["april", "apr"],
        &["may", "mai"],
        &["june", "jun", "juni"],
        &["july", "jul", "juli"],
        &["august", "aug"],
        &["september", "sep", "sept"],
        &["october", "oct", "oktober", "okt"],
        &["november", "nov"],
        &["december", "dec", "dezember", "dez"],
    ];
    let lower = word.trim_end_matches('.').to_lowercase();
    MONTHS.iter().position(|names| names.contains(&lower.as_str())).map(|p| p as u32 + 1)
}

/// A word of letters (weekday or month names; `?` stands for a non-ASCII letter lost to ASCII output).
fn word(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_alphabetic() || c == '?').parse(i)
}

/// Optional weekday prefix: `Tue `, `Tuesday, `, `Dienstag, ` (unknown names are skipped, not used).
fn weekday_prefix(i: &str) -> IResult<&str, Option<Weekday>> {
    let (i, w) = word(i)?;
    let (i, _) = (opt(char(',')), space1).parse(i)?;
    Ok((i, weekday_name(w)))
}

/// Numeric date as cmd's `%DATE%` writes it: `YYYY-MM-DD`/`YYYY/MM/DD`/`YYYY.MM.DD` (year first: always
/// year-month-day), `DD.MM.YYYY` (dotted: day first in every locale that uses it), or `NN/NN/YYYY` and
/// `NN-NN-YYYY` (order open; `likely` is month first when a weekday precedes, as in en-US `Tue 05/22/2020`).
fn numeric_date(weekday_given: bool) -> impl FnMut(&str) -> IResult<&str, StampDate> {
    move |i| {
        let year_first = |i| -> IResult<&str, StampDate> {
            let (i, (year, sep, month)) = (year, one_of("-/."), number(1, 2)).parse(i)?;
            let (i, (_, day)) = (char(sep), number(1, 2)).parse(i)?;
            if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
                return Err(verify_error(i));
            }
            Ok((i, StampDate::Known { year, month, day }))
        };
        let year_last = |i| -> IResult<&str, StampDate> {
            let (i, (first, sep, second)) = (number(1, 2), one_of("-/."), number(1, 2)).parse(i)?;
            let (i, (_, year)) = (char(sep), year).parse(i)?;
            if first == 0 || second == 0 || first.max(second) > 31 || first.min(second) > 12 {
                return Err(verify_error(i));
            }
            let date = if sep == '.' {
                StampDate::Known { year, month: second, day: first }
            } else {
                let likely = if weekday_given { DateOrder::Mdy } else { DateOrder::Dmy };
                StampDate::Ambiguous { year, first, second, likely }
            };
            Ok((i, date))
        };
        alt((year_first, year_last)).parse(i)
    }
}

/// A cmd `%DATE% %TIME%` line, an ISO 8601 time (`Get-Date -Format o` or `s`) or a plain
/// `YYYY-MM-DD HH:MM:SS`: `[weekday ]date( |T)time[zone]`.
fn numeric_stamp(i: &str) -> IResult<&str, RawStamp> {
    let (i, weekday) = opt(weekday_prefix).parse(i)?;
    let weekday = weekday.flatten();
    let (i, date) = numeric_date(weekday.is_some())(i)?;
    let (i, _) = alt((tag("T"), space1)).parse(i)?;
    let (i, (hour, minute, second, nanos)) = time_of_day(i)?;
    let (i, zone) = opt(zone_suffix).parse(i)?;
    let stamp =
        RawStamp { date, weekday, hour, minute, second, nanos, zone: zone.unwrap_or(StampZone::Local), line: None };
    Ok((i, stamp))
}

/// `Z` or `±HH:MM` (or `±HHMM`) after an ISO time.
fn zone_suffix(i: &str) -> IResult<&str, StampZone> {
    if let Ok((rest, _)) = tag::<_, _, nom::error::Error<&str>>("Z").parse(i) {
        return Ok((rest, StampZone::Utc));
    }
    let (i, (sign, h, _, m)) = (one_of("+-"), number(2, 2), opt(char(':')), number(2, 2)).parse(i)?;
    let secs = (h * 3600 + m * 60) as i32;
    Ok((i, StampZone::Offset(if sign == '-' { -secs } else { secs })))
}

/// PowerShell's default `Get-Date` rendering (long date + long time of the culture):
/// en-US `Tuesday, May 22, 2020 10:35:55 PM`, en-GB `22 May 2020 22:35:55`, de-DE `Freitag, 22. Mai 2020 22:35:55`.
fn long_date_stamp(i: &str) -> IResult<&str, RawStamp> {
    let (i, weekday) = opt(weekday_prefix).parse(i)?;
    let weekday = weekday.flatten();
    let month_first = |i| -> IResult<&str, (u32, u32)> {
        let (i, (m, _, d, _, _)) = (word, space1, number(1, 2), opt(char(',')), space1).parse(i)?;
        let month = month_name(m).ok_or_else(|| verify_error(i))?;
        Ok((i, (month, d)))
    };
    let day_first = |i| -> IResult<&str, (u32, u32)> {
        let (i, (d, _, _, m, _, _)) = (number(1, 2), opt(char('.')), space1, word, opt(char('.')), space1).parse(i)?;
        let month = month_name(m).ok_or_else(|| verify_error(i))?;
        Ok((i, (month, d)))
    };
    let (i, (month, day)) = alt((month_first, day_first)).parse(i)?;
    let (i, (year, _)) = (year, space1).parse(i)?;
    let (i, (hour, minute, second, nanos)) = time_of_day(i)?;
    let date = StampDate::Known { year, month, day };
    Ok((i, RawStamp { date, weekday, hour, minute, second, nanos, zone: StampZone::Local, line: None }))
}

/// Clue's `New-PoolmonLog` stamp: `2019.03.04-10:15:00 Pacific Standard Time (local time of the PC where this
/// was collected)`; the zone is `[TimeZoneInfo]::Local.ID`, a Windows zone ID.
fn clue_stamp(i: &str) -> IResult<&str, RawStamp> {
    let (i, (year, _, month, _, day, _)) =
        (year, char('.'), number(2, 2), char('.'), number(2, 2), char('-')).parse(i)?;
    let (i, (hour, minute, second, nanos)) = time_of_day(i)?;
    let (i, (_, zone_text)) = (space1, rest).parse(i)?;
    let zone_id = zone_text.split(" (").next().unwrap_or("").trim();
    if zone_id.is_empty() {
        return Err(verify_error(i));
    }
    let zone = windows_zone(zone_id).map_or_else(|| StampZone::UnknownName(zone_id.to_owned()), StampZone::Named);
    let date = StampDate::Known { year, month, day };
    Ok(("", RawStamp { date, weekday: None, hour, minute, second, nanos, zone, line: None }))
}

fn verify_error(i: &str) -> nom::Err<nom::error::Error<&str>> {
    nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify))
}

pub use super::zones::windows_zone;

/// Whether `line` is a timestamp line a collection loop wrote (the whole line, apart from surrounding
/// whitespace, a BOM, xray's `=====` markers and Clue's zone suffix, must be a stamp):
/// cmd `echo %DATE% %TIME%` in common locales, PowerShell `Get-Date` default output (en-US, en-GB, de-DE)
/// and `-Format o`/`s`, Clue's `yyyy.MM.dd-HH:mm:ss <zone ID> (…)`, xray's `===== … =====` (§1.4).
pub fn stamp_line(line: &str) -> Option<RawStamp> {
    let mut text = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if text.len() < 10 || text.len() > 160 || !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    // xray's consumer expects `^\s*===== (.{22}) =====` before snapshots (§1.4, §4).
    if let Some(inner) = text.strip_prefix("=====") {
        text = inner.trim_end().strip_suffix("=====").unwrap_or(inner).trim();
    }
    let full = |parser: fn(&str) -> IResult<&str, RawStamp>| -> Option<RawStamp> {
        match parser(text) {
            Ok((rest, stamp)) if rest.trim().is_empty() => Some(stamp),
            _ => None,
        }
    };
    full(numeric_stamp).or_else(|| full(long_date_stamp)).or_else(|| full(clue_stamp))
}

/// Parsers for stamps inside file and folder names, tried at every digit-run start.
///
/// Dates: `yyyyMMdd` (only with a time: a bare eight-digit number is too often something else),
/// `yyyy-MM-dd` / `yyyy.MM.dd`, and `dd-MM-yyyy` / `MM-dd-yyyy` (order kept open, settled over the set).
/// Times after `T`, `_`, `-`, `.` or a space: `HHmm[ss]` or `HH?mm[?ss]` with one of `-.:` as `?`; a `Z` means
/// UTC. So `20200522T223555Z` (Himmel), `lsass_20240311-1014`, `2024-03-11_1014`, `2020.05.22_22.35.55`
/// (`PoolmonViz`), `2024-03-11T1014`, `11-03-2024_10.14`, `03-11-2024`. Dashes all the way through
/// (`2020-22-05-22-35-55`) is `PoolmonScript`'s `poolmon.YYYY-DD-MM-HH-MM-SS.log`: day before month, built from
/// en-US `%DATE%` substrings; kept open but likely day first.
fn file_name_stamp(input: &str) -> IResult<&str, RawStamp> {
    let (rest, (date, date_sep, time)) =
        alt((compact_name_date, year_first_name_date, year_last_name_date)).parse(input)?;
    let (hour, minute, second, between) = time.unwrap_or((0, 0, 0, ' '));
    let date = match date {
        // PoolmonScript: `YYYY-DD-MM-HH-MM-SS`.
        StampDate::Known { year, month, day } if date_sep == '-' && between == '-' => {
            StampDate::Ambiguous { year, first: month, second: day, likely: DateOrder::Dmy }
        }
        other => other,
    };
    let year = match date {
        StampDate::Known { year, .. } | StampDate::Ambiguous { year, .. } => year,
    };
    let (rest, utc) = opt(char('Z')).parse(rest)?;
    // A year far from now is a version or a count that happens to have the shape (`1776-12-01`).
    if !(1990..=2100).contains(&year)
        || rest.starts_with(|c: char| c.is_ascii_digit())
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(verify_error(rest));
    }
    let zone = if utc.is_some() { StampZone::Utc } else { StampZone::Local };
    Ok((rest, RawStamp { date, weekday: None, hour, minute, second, nanos: 0, zone, line: None }))
}

/// A name stamp's date, the separator inside it, and its time (hour, minute, second, separator before it).
type NameDate = (StampDate, char, Option<(u32, u32, u32, char)>);

/// The time after a name stamp's date: `HHmm[ss]`, or `HH?mm[?ss]` with one separator of `-.:`.
fn name_time(i: &str) -> IResult<&str, (u32, u32, u32, char)> {
    let (i, between) = one_of("T_-. ")(i)?;
    let (i, hour) = number(2, 2)(i)?;
    let (i, sep) = opt(one_of("-.:")).parse(i)?;
    let (i, minute) = number(2, 2)(i)?;
    let (i, second) = match sep {
        Some(sep) => opt(preceded(char(sep), number(2, 2))).parse(i)?,
        None => opt(number(2, 2)).parse(i)?,
    };
    Ok((i, (hour, minute, second.unwrap_or(0), between)))
}

/// `yyyyMMdd` followed by a time.
fn compact_name_date(i: &str) -> IResult<&str, NameDate> {
    let (i, (year, month, day)) = (year, number(2, 2), number(2, 2)).parse(i)?;
    let (i, time) = name_time(i)?;
    Ok((i, (StampDate::Known { year, month, day }, ' ', Some(time))))
}

/// `yyyy-MM-dd` or `yyyy.MM.dd` (one separator), with an optional time.
fn year_first_name_date(i: &str) -> IResult<&str, NameDate> {
    let (i, (year, sep)) = (year, one_of("-.")).parse(i)?;
    let (i, (month, _, day)) = (number(2, 2), char(sep), number(2, 2)).parse(i)?;
    let (i, time) = opt(name_time).parse(i)?;
    Ok((i, (StampDate::Known { year, month, day }, sep, time)))
}

/// `dd-MM-yyyy` or `MM-dd-yyyy` (also with `.`), with an optional time: the order is open. With a time, day
/// first is likelier (European scripts); a bare date is likelier the en-US `MM-dd-yyyy`.
fn year_last_name_date(i: &str) -> IResult<&str, NameDate> {
    let (i, (first, sep)) = (number(2, 2), one_of("-.")).parse(i)?;
    let (i, (second, _, year)) = (number(2, 2), char(sep), year).parse(i)?;
    let (i, time) = opt(name_time).parse(i)?;
    let likely = if time.is_some() { DateOrder::Dmy } else { DateOrder::Mdy };
    Ok((i, (StampDate::Ambiguous { year, first, second, likely }, sep, time)))
}

/// Unix epoch seconds as a whole ten-digit run (`handles_1710151440.txt`), between 2000 and 2100.
fn epoch_name_stamp(run: &str) -> Option<RawStamp> {
    if run.len() != 10 {
        return None;
    }
    let secs: i64 = run.parse().ok()?;
    if !(946_684_800..4_102_444_800).contains(&secs) {
        return None;
    }
    let t = DateTime::<Utc>::from_timestamp(secs, 0)?;
    let date = StampDate::Known { year: t.year(), month: t.month(), day: t.day() };
    let (hour, minute, second) = (t.hour(), t.minute(), t.second());
    Some(RawStamp { date, weekday: None, hour, minute, second, nanos: 0, zone: StampZone::Utc, line: None })
}

/// A timestamp inside a file name, in the naming schemes of the collection scripts in formats reference §1.4
/// (see `file_name_stamp`), or epoch seconds. Directories are ignored: pass the name or a path (folder names
/// are read one by one with this same function by the ingest).
pub fn stamp_in_file_name(name: &str) -> Option<RawStamp> {
    let name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut prev_digit = false;
    for (pos, c) in name.char_indices() {
        let digit = c.is_ascii_digit();
        if digit && !prev_digit {
            if let Ok((_, stamp)) = file_name_stamp(&name[pos..]) {
                if stamp.allows() != (false, false) {
                    return Some(stamp);
                }
            }
            let run_len = name[pos..].bytes().take_while(u8::is_ascii_digit).count();
            if let Some(stamp) = epoch_name_stamp(&name[pos..pos + run_len]) {
                return Some(stamp);
            }
        }
        prev_digit = digit;
    }
    None
}

// ---------------------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------------------

/// Settles the day/month order of a file's ambiguous stamps, or `None` when none is ambiguous.
///
/// In order: `--date-order`; a field above 12 or a named weekday that fits only one order; time having to run
/// forward through the file; else the writer's likely order, with a warning that says how to force it.
fn settle_order(
    stamps: &[RawStamp],
    settings: &TimeSettings,
    path: &str,
    scope: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<DateOrder> {
    let ambiguous: Vec<&RawStamp> = stamps.iter().filter(|s| s.is_ambiguous()).collect();
    let first = ambiguous.first()?;
    if let Some(order) = settings.date_order {
        return Some(order);
    }
    let (mut only_dmy, mut only_mdy) = (0usize, 0usize);
    for s in &ambiguous {
        match s.allows() {
            (true, false) => only_dmy += 1,
            (false, true) => only_mdy += 1,
            _ => {}
        }
    }
    let example = stamp_text(first);
    match (only_dmy, only_mdy) {
        (0, 0) => {}
        (_, 0) => return Some(DateOrder::Dmy),
        (0, _) => return Some(DateOrder::Mdy),
        (d, m) => {
            let order = if d >= m { DateOrder::Dmy } else { DateOrder::Mdy };
            diagnostics.push(Diagnostic::for_file(
                path,
                Severity::Warning,
                format!(
                    "dates in {scope} contradict each other on day/month order ({d} fit only day first, {m} only \
                     month first); read as {}; pass --date-order dmy or --date-order mdy to force it",
                    order_words(order)
                ),
            ));
            return Some(order);
        }
    }
    let forward = |order| {
        let times: Vec<Option<NaiveDateTime>> = stamps.iter().map(|s| s.naive(order)).collect();
        times.iter().all(Option::is_some) && times.windows(2).all(|w| w[0] <= w[1])
    };
    match (forward(DateOrder::Dmy), forward(DateOrder::Mdy)) {
        (true, false) => return Some(DateOrder::Dmy),
        (false, true) => return Some(DateOrder::Mdy),
        _ => {}
    }
    let likely_dmy = ambiguous.iter().filter(|s| matches!(s.date, StampDate::Ambiguous { likely: DateOrder::Dmy, .. }));
    let order = if likely_dmy.count() * 2 >= ambiguous.len() { DateOrder::Dmy } else { DateOrder::Mdy };
    diagnostics.push(Diagnostic {
        path: path.to_owned(),
        line: first.line,
        offset: None,
        severity: Severity::Warning,
        message: format!(
            "day/month order of dates such as {example} cannot be settled from {scope} (no field above 12, no \
             weekday, time runs forward either way); read as {}; pass --date-order dmy (day first) or \
             --date-order mdy (month first) to force it",
            order_words(order)
        ),
    });
    Some(order)
}

fn order_words(order: DateOrder) -> &'static str {
    match order {
        DateOrder::Dmy => "day first",
        DateOrder::Mdy => "month first",
    }
}

/// The stamp's date as written, for messages.
fn stamp_text(s: &RawStamp) -> String {
    match s.date {
        StampDate::Known { year, month, day } => format!("{year:04}-{month:02}-{day:02}"),
        StampDate::Ambiguous { year, first, second, .. } => format!("{first:02}/{second:02}/{year:04}"),
    }
}

/// Converts a local wall-clock time in `tz` to UTC. In the repeated hour of a DST fall-back the reading that
/// keeps time running forward from `prev` is taken; a time in a spring-forward gap is moved past the gap.
fn local_to_utc(
    tz: chrono_tz::Tz,
    naive: NaiveDateTime,
    prev: Option<DateTime<Utc>>,
    warn: &mut dyn FnMut(String),
) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(early, late) => {
            let early = early.with_timezone(&Utc);
            Some(if prev.is_some_and(|p| early <= p) { late.with_timezone(&Utc) } else { early })
        }
        chrono::LocalResult::None => {
            warn(format!("{naive} does not exist in {tz} (clocks went forward); read one hour later"));
            tz.from_local_datetime(&(naive + Duration::hours(1))).earliest().map(|t| t.with_timezone(&Utc))
        }
    }
}

/// Turns settled wall-clock times into UTC, one stamp after another (shared by [`resolve_stamps`] and
/// [`StampClock`]): applies the stamp's zone or `--tz`, keeps time running forward through a DST fall-back, and
/// remembers what it must say once per file.
#[derive(Debug, Default)]
struct Converter {
    prev: Option<DateTime<Utc>>,
    local_read: bool,
    unknown_zones: Vec<String>,
}

impl Converter {
    fn convert(
        &mut self,
        stamp: &RawStamp,
        order: DateOrder,
        settings: &TimeSettings,
        path: &str,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Option<DateTime<Utc>> {
        let diag = |severity, message: String| Diagnostic {
            path: path.to_owned(),
            line: stamp.line,
            offset: None,
            severity,
            message,
        };
        let Some(naive) = stamp.naive(order) else {
            diagnostics.push(diag(
                Severity::Error,
                format!("timestamp {} is not a valid date ({})", stamp_text(stamp), order_words(order)),
            ));
            return None;
        };
        let prev = self.prev;
        let mut warnings = Vec::new();
        let time = match &stamp.zone {
            StampZone::Utc => Some(naive.and_utc()),
            StampZone::Offset(secs) => chrono::FixedOffset::east_opt(*secs)
                .and_then(|o| o.from_local_datetime(&naive).single())
                .map(|t| t.with_timezone(&Utc)),
            StampZone::Named(tz) => local_to_utc(*tz, naive, prev, &mut |m| warnings.push(m)),
            StampZone::Local | StampZone::UnknownName(_) => {
                if let StampZone::UnknownName(name) = &stamp.zone {
                    if !self.unknown_zones.contains(name) {
                        self.unknown_zones.push(name.clone());
                        diagnostics.push(diag(
                            Severity::Warning,
                            format!("unknown Windows time zone {name:?}; its times are read in {}", settings.tz),
                        ));
                    }
                }
                self.local_read = true;
                local_to_utc(settings.tz, naive, prev, &mut |m| warnings.push(m))
            }
        };
        diagnostics.extend(warnings.into_iter().map(|m| diag(Severity::Warning, m)));
        if time.is_some() {
            self.prev = time;
        }
        time
    }

    fn finish(&self, settings: &TimeSettings, path: &str, diagnostics: &mut Vec<Diagnostic>) {
        if self.local_read && !settings.tz_given {
            diagnostics.push(Diagnostic::for_file(
                path,
                Severity::Warning,
                "timestamps carry no zone and no --tz was given: read as UTC (pass --tz with an IANA zone such as \
                 Europe/Berlin to read them as local time)",
            ));
        }
    }
}

/// Settles the day/month order over all stamps of one file, applies zones (`--tz` for local times) and returns
/// UTC times aligned with `stamps` (`None` where the fields make no valid date; each such stamp gets an Error
/// diagnostic). Emits at most one "UTC assumed" warning per call when local times were read without `--tz`,
/// and a warning whenever the day/month order had to be picked rather than settled.
pub fn resolve_stamps(
    stamps: &[RawStamp],
    settings: &TimeSettings,
    path: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Option<DateTime<Utc>>> {
    let order = settle_order(stamps, settings, path, "this file", diagnostics).unwrap_or(DateOrder::Dmy);
    let mut converter = Converter::default();
    let out = stamps.iter().map(|s| converter.convert(s, order, settings, path, diagnostics)).collect();
    converter.finish(settings, path, diagnostics);
    out
}

/// Settles one day/month order for stamps read from the file and folder names of a whole archive (never per
/// file: `pool_05-03-2024.txt` alone cannot say, its neighbour `pool_13-03-2024.txt` can). `label` names the
/// set in the one warning given when the order had to be picked.
pub fn settle_name_order(
    stamps: &[RawStamp],
    settings: &TimeSettings,
    label: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> DateOrder {
    settle_order(stamps, settings, label, "the file and folder names", diagnostics).unwrap_or(DateOrder::Dmy)
}

/// Converts one name stamp to UTC under an order settled over the set ([`settle_name_order`]). Returns the
/// time (`None`, with an error diagnostic, when the fields make no valid date) and whether it was read as local
/// time in `--tz`, so that the caller says once for the whole set that no zone was given.
pub fn convert_name_stamp(
    stamp: &RawStamp,
    order: DateOrder,
    settings: &TimeSettings,
    path: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Option<DateTime<Utc>>, bool) {
    let mut converter = Converter::default();
    let time = converter.convert(stamp, order, settings, path, diagnostics);
    (time, converter.local_read)
}

/// Resolves a file's stamps one at a time, for streaming parsers that cannot wait for the whole file.
///
/// Settles the day/month order as soon as a stamp decides it (a field above 12, a weekday, time running
/// backwards under one reading). Stamps met before that are read in the writer's likely order; if a later stamp
/// settles the other order, a warning names how many were read wrongly and how to force the order. Call
/// [`StampClock::finish`] at the end of the file for the once-per-file warnings. [`resolve_stamps`], which sees
/// the whole file first, never needs to guess early.
#[derive(Debug)]
pub struct StampClock {
    settings: TimeSettings,
    path: String,
    order: Option<DateOrder>,
    provisional: Option<(DateOrder, usize, Option<u64>)>,
    prev: Option<RawStamp>,
    converter: Converter,
}

impl StampClock {
    /// A clock for one file.
    pub fn new(settings: &TimeSettings, path: &str) -> Self {
        Self {
            settings: settings.clone(),
            path: path.to_owned(),
            order: settings.date_order,
            provisional: None,
            prev: None,
            converter: Converter::default(),
        }
    }

    /// The UTC time of the next stamp of the file.
    pub fn push(&mut self, stamp: &RawStamp, diagnostics: &mut Vec<Diagnostic>) -> Option<DateTime<Utc>> {
        let order = if stamp.is_ambiguous() { self.order_for(stamp, diagnostics) } else { DateOrder::Dmy };
        self.prev = Some(stamp.clone());
        self.converter.convert(stamp, order, &self.settings, &self.path, diagnostics)
    }

    fn order_for(&mut self, stamp: &RawStamp, diagnostics: &mut Vec<Diagnostic>) -> DateOrder {
        if let Some(order) = self.order {
            return order;
        }
        let decided = match stamp.allows() {
            (true, false) => Some(DateOrder::Dmy),
            (false, true) => Some(DateOrder::Mdy),
            _ => self.prev.as_ref().and_then(|prev| {
                // Both readings of both stamps: time must run forward under the right one.
                let forward = |order| match (prev.naive(order), stamp.naive(order)) {
                    (Some(before), Some(now)) => now >= before,
                    _ => false,
                };
                match (forward(DateOrder::Dmy), forward(DateOrder::Mdy)) {
                    (true, false) => Some(DateOrder::Dmy),
                    (false, true) => Some(DateOrder::Mdy),
                    _ => None,
                }
            }),
        };
        if let Some(order) = decided {
            self.order = Some(order);
            if let Some((guessed, count, line)) = self.provisional.take() {
                if guessed != order {
                    diagnostics.push(Diagnostic {
                        path: self.path.clone(),
                        line,
                        offset: None,
                        severity: Severity::Warning,
                        message: format!(
                            "{count} earlier timestamp(s) were read {} before line {} showed the dates are {}; their \
                             times are wrong: pass --date-order {} (or read the file whole, not streamed)",
                            order_words(guessed),
                            stamp.line.map_or_else(|| "?".to_owned(), |l| l.to_string()),
                            order_words(order),
                            if order == DateOrder::Dmy { "dmy" } else { "mdy" },
                        ),
                    });
                }
            }
            return order;
        }
        let likely = match stamp.date {
            StampDate::Ambiguous { likely, .. } => likely,
            StampDate::Known { .. } => DateOrder::Dmy,
        };
        let entry = self.provisional.get_or_insert((likely, 0, stamp.line));
        entry.1 += 1;
        entry.0
    }

    /// Ends the file: the warnings that are said once per file (order never settled, UTC assumed).
    pub fn finish(self, diagnostics: &mut Vec<Diagnostic>) {
        if let (None, Some((guessed, count, line))) = (self.order, self.provisional) {
            diagnostics.push(Diagnostic {
                path: self.path.clone(),
                line,
                offset: None,
                severity: Severity::Warning,
                message: format!(
                    "day/month order of {count} date(s) cannot be settled from this file (no field above 12, no \
                     weekday, time runs forward either way); read as {}; pass --date-order dmy (day first) or \
                     --date-order mdy (month first) to force it",
                    order_words(guessed)
                ),
            });
        }
        self.converter.finish(&self.settings, &self.path, diagnostics);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn one(stamp: RawStamp, settings: &TimeSettings) -> (Option<DateTime<Utc>>, Vec<Diagnostic>) {
        let mut d = Vec::new();
        let t = resolve_stamps(&[stamp], settings, "f", &mut d);
        (t[0], d)
    }

    #[test]
    fn numeric_stamp_cmd_en_us_with_weekday_and_trailing_space() {
        let s = stamp_line("Tue 05/22/2020 22:35:55.53 ").unwrap();
        assert_eq!(s.weekday, Some(Weekday::Tue));
        assert_eq!(s.date, StampDate::Ambiguous { year: 2020, first: 5, second: 22, likely: DateOrder::Mdy });
        assert_eq!((s.hour, s.minute, s.second, s.nanos), (22, 35, 55, 530_000_000));
        // hour < 10 gets a leading space in %TIME%
        let s = stamp_line("Fri 05/22/2020  9:05:01.07 ").unwrap();
        assert_eq!(s.hour, 9);
    }

    #[test]
    fn numeric_stamp_locales() {
        let s = stamp_line("22/05/2020 22:35:55.53").unwrap();
        assert_eq!(s.date, StampDate::Ambiguous { year: 2020, first: 22, second: 5, likely: DateOrder::Dmy });
        let s = stamp_line("22.05.2020 22:35:55,53").unwrap();
        assert_eq!(s.date, StampDate::Known { year: 2020, month: 5, day: 22 });
        assert_eq!(s.nanos, 530_000_000);
        let s = stamp_line("2020-05-22 22:35:55").unwrap();
        assert_eq!(s.date, StampDate::Known { year: 2020, month: 5, day: 22 });
        assert_eq!(s.zone, StampZone::Local);
        assert!(stamp_line("2020/05/22 22:35:55.53").is_some());
    }

    #[test]
    fn numeric_stamp_iso_get_date_format_o_and_s() {
        let s = stamp_line("2020-05-22T22:35:55.1234567+02:00").unwrap();
        assert_eq!(s.zone, StampZone::Offset(7200));
        assert_eq!(s.nanos, 123_456_700);
        let (t, d) = one(s, &TimeSettings::default());
        assert_eq!(t, Some(utc("2020-05-22T20:35:55.1234567Z")));
        assert!(d.is_empty(), "{d:?}");
        let s = stamp_line("2020-05-22T22:35:55").unwrap();
        assert_eq!(s.zone, StampZone::Local);
        assert_eq!(stamp_line("2020-05-22T22:35:55Z").unwrap().zone, StampZone::Utc);
    }

    #[test]
    fn long_date_stamp_powershell_cultures() {
        let s = stamp_line("Tuesday, May 22, 2020 10:35:55 PM").unwrap();
        assert_eq!(s.date, StampDate::Known { year: 2020, month: 5, day: 22 });
        assert_eq!(s.hour, 22);
        assert_eq!(s.weekday, Some(Weekday::Tue));
        let s = stamp_line("Friday, May 22, 2020 12:05:00 AM").unwrap();
        assert_eq!(s.hour, 0);
        let s = stamp_line("22 May 2020 22:35:55").unwrap();
        assert_eq!(s.date, StampDate::Known { year: 2020, month: 5, day: 22 });
        let s = stamp_line("Freitag, 22. M?rz 2020 07:35:55").unwrap();
        assert_eq!(s.date, StampDate::Known { year: 2020, month: 3, day: 22 });
        assert_eq!(s.weekday, None);
    }

    #[test]
    fn clue_stamp_maps_windows_zone() {
        let line = "2019.03.04-10:15:00 Pacific Standard Time (local time of the PC where this was collected)";
        let s = stamp_line(line).unwrap();
        assert_eq!(s.zone, StampZone::Named(chrono_tz::America::Los_Angeles));
        let (t, d) = one(s, &TimeSettings::default());
        assert_eq!(t, Some(utc("2019-03-04T18:15:00Z")));
        assert!(d.is_empty(), "a named zone needs no --tz: {d:?}");
        let s = stamp_line("2019.03.04-10:15:00 Mars Standard Time (local time of the PC where this was collected)");
        assert_eq!(s.unwrap().zone, StampZone::UnknownName("Mars Standard Time".into()));
    }

    #[test]
    fn xray_marker() {
        let s = stamp_line("===== 22/05/2020 22:35:55.53 =====").unwrap();
        assert_eq!(s.date, StampDate::Ambiguous { year: 2020, first: 22, second: 5, likely: DateOrder::Dmy });
    }

    #[test]
    fn stamp_line_rejects_data_and_prose() {
        for line in [
            " Tag  Type     Allocs            Frees               Diff            Bytes                 Per Alloc",
            " FMfn Paged            8665967            5982729           2683238     1495080176              557",
            " Memory:16468560K Avail:12072536K  PageFlts:468600648   InRam Krnl:56708K P:950888K",
            "Poolmon: Failed to query pool tags information (status C0000005).",
            "Snapshot taken 2020-05-22 22:35:55 by the loop",
            "13/13/2020 10:00:00",
            "2020-05-22 25:00:00",
            "",
        ] {
            assert_eq!(stamp_line(line), None, "{line:?}");
        }
    }

    #[test]
    fn file_name_stamp_schemes() {
        let s = stamp_in_file_name("C:\\logs\\poolmon-20200522T223555Z-1234.txt").unwrap();
        assert_eq!(s.zone, StampZone::Utc);
        assert_eq!(s.date, StampDate::Known { year: 2020, month: 5, day: 22 });
        let s = stamp_in_file_name("poolmon.2020-22-05-22-35-55.log").unwrap();
        assert_eq!(s.date, StampDate::Ambiguous { year: 2020, first: 22, second: 5, likely: DateOrder::Dmy });
        let (t, d) = one(s, &TimeSettings::default());
        assert_eq!(t, Some(utc("2020-05-22T22:35:55Z")));
        assert_eq!(d.len(), 1, "only the UTC-assumed warning: {d:?}");
        let s = stamp_in_file_name("2020.05.22_22.35.55_x.pool.csv").unwrap();
        assert_eq!(s.date, StampDate::Known { year: 2020, month: 5, day: 22 });
        let s = stamp_in_file_name("poolmon_2020-05-22_22-35-55.log").unwrap();
        assert_eq!(s.date, StampDate::Known { year: 2020, month: 5, day: 22 });
        assert_eq!(s.hour, 22);
        assert_eq!(stamp_in_file_name("poolmon.log"), None);
        assert_eq!(stamp_in_file_name("poolmon-123456789012345.txt"), None);
    }

    /// The stamp in `name` as (date, hour, minute, second, UTC?).
    fn name(name: &str) -> (StampDate, u32, u32, u32, bool) {
        let s = stamp_in_file_name(name).unwrap_or_else(|| panic!("no stamp in {name:?}"));
        (s.date, s.hour, s.minute, s.second, s.zone == StampZone::Utc)
    }

    fn known(year: i32, month: u32, day: u32) -> StampDate {
        StampDate::Known { year, month, day }
    }

    #[test]
    fn name_stamp_compact_date_dash_hour_minute() {
        assert_eq!(name("lsass_20240311-1014.txt"), (known(2024, 3, 11), 10, 14, 0, false));
    }

    #[test]
    fn name_stamp_compact_date_underscore_seconds() {
        assert_eq!(name("handles_20240311_101455.txt"), (known(2024, 3, 11), 10, 14, 55, false));
    }

    #[test]
    fn name_stamp_compact_utc() {
        assert_eq!(name("handle-s-20200518T201848Z.txt"), (known(2020, 5, 18), 20, 18, 48, true));
    }

    #[test]
    fn name_stamp_iso_date_dashed_time() {
        assert_eq!(name("handle_2024-03-11_10-14-55.log"), (known(2024, 3, 11), 10, 14, 55, false));
    }

    #[test]
    fn name_stamp_iso_date_t_compact_time() {
        assert_eq!(name("run-2024-03-11T1014.txt"), (known(2024, 3, 11), 10, 14, 0, false));
    }

    #[test]
    fn name_stamp_dotted_date_and_time() {
        assert_eq!(name("2024.03.11-10.14.55.txt"), (known(2024, 3, 11), 10, 14, 55, false));
    }

    #[test]
    fn name_stamp_day_month_year_time_is_open() {
        let amb = StampDate::Ambiguous { year: 2024, first: 11, second: 3, likely: DateOrder::Dmy };
        assert_eq!(name("lsass_11-03-2024_10.14.txt"), (amb, 10, 14, 0, false));
    }

    #[test]
    fn name_stamp_month_day_year_is_open() {
        let amb = StampDate::Ambiguous { year: 2024, first: 3, second: 11, likely: DateOrder::Mdy };
        assert_eq!(name("handles 03-11-2024.txt"), (amb, 0, 0, 0, false));
    }

    #[test]
    fn name_stamp_epoch_seconds() {
        assert_eq!(name("handle_1710151440.txt"), (known(2024, 3, 11), 10, 4, 0, true));
    }

    #[test]
    fn name_stamp_poolmon_script_day_before_month() {
        let amb = StampDate::Ambiguous { year: 2020, first: 22, second: 5, likely: DateOrder::Dmy };
        assert_eq!(name("poolmon.2020-22-05-22-35-55.log"), (amb, 22, 35, 55, false));
    }

    #[test]
    fn name_stamp_folder_name() {
        assert_eq!(name("2024-03-11_1014"), (known(2024, 3, 11), 10, 14, 0, false));
    }

    #[test]
    fn name_stamp_rejects_versions_pids_and_counters() {
        for n in [
            "handle64_v4.22.txt",
            "handle-v5.0.txt",
            "lsass_528.txt",
            "lsass-pid-1234.txt",
            "run1",
            "run12.txt",
            "poolmon-123456789012345.txt",
            "win-10.0.17763.txt",
            "ip-10.20.30.40.txt",
            "build_20240311.txt",
            "handle_0123456789.txt",
            "handle_9999999999.txt",
            "x_1776-12-01_10-00-00.txt",
        ] {
            assert_eq!(stamp_in_file_name(n), None, "{n:?}");
        }
    }

    #[test]
    fn resolve_settles_order_by_field_above_12() {
        let stamps: Vec<RawStamp> =
            ["03/05/2020 10:00:00", "13/05/2020 10:00:00"].iter().map(|l| stamp_line(l).unwrap()).collect();
        let mut d = Vec::new();
        let t = resolve_stamps(&stamps, &TimeSettings::default(), "f", &mut d);
        assert_eq!(t, vec![Some(utc("2020-05-03T10:00:00Z")), Some(utc("2020-05-13T10:00:00Z"))]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].message.contains("read as UTC"));
    }

    #[test]
    fn resolve_settles_order_by_weekday() {
        // 2020-05-06 is a Wednesday; 2020-06-05 a Friday.
        let s = stamp_line("Wed 05/06/2020 10:00:00.00").unwrap();
        let settings = TimeSettings { tz_given: true, ..TimeSettings::default() };
        let (t, d) = one(s, &settings);
        assert_eq!(t, Some(utc("2020-05-06T10:00:00Z")));
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn resolve_settles_order_by_time_running_forward() {
        // 01/02 then 02/01: only month-first runs forward (Jan 2 -> Feb 1); day-first would go Feb 1 -> Jan 2.
        let stamps: Vec<RawStamp> =
            ["01/02/2020 10:00:00", "02/01/2020 10:00:00"].iter().map(|l| stamp_line(l).unwrap()).collect();
        let settings = TimeSettings { tz_given: true, ..TimeSettings::default() };
        let mut d = Vec::new();
        let t = resolve_stamps(&stamps, &settings, "f", &mut d);
        assert_eq!(t[0], Some(utc("2020-01-02T10:00:00Z")));
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn resolve_warns_when_order_cannot_be_settled() {
        let stamps: Vec<RawStamp> = ["05/06/2020 10:00:00", "05/06/2020 11:00:00"]
            .iter()
            .enumerate()
            .map(|(k, l)| RawStamp { line: Some(k as u64 + 1), ..stamp_line(l).unwrap() })
            .collect();
        let settings = TimeSettings { tz_given: true, ..TimeSettings::default() };
        let mut d = Vec::new();
        let t = resolve_stamps(&stamps, &settings, "f", &mut d);
        assert_eq!(t[0], Some(utc("2020-06-05T10:00:00Z")), "likely order for a slash date without weekday");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].severity, Severity::Warning);
        assert_eq!(d[0].line, Some(1));
        assert!(d[0].message.contains("--date-order"), "{}", d[0].message);
        // --date-order settles it silently.
        let forced = TimeSettings { date_order: Some(DateOrder::Mdy), ..settings };
        let mut d = Vec::new();
        let t = resolve_stamps(&stamps, &forced, "f", &mut d);
        assert_eq!(t[1], Some(utc("2020-05-06T11:00:00Z")));
        assert!(d.is_empty());
    }

    #[test]
    fn resolve_reads_local_times_in_tz_across_dst() {
        let settings = TimeSettings { tz: chrono_tz::Europe::Berlin, tz_given: true, ..TimeSettings::default() };
        let stamps: Vec<RawStamp> = [
            "2020-10-25 02:30:00", // first 02:30 (CEST, +2)
            "2020-10-25 02:30:00", // the repeated one (CET, +1): time must run forward
            "2020-03-29 02:30:00", // in the spring gap
        ]
        .iter()
        .map(|l| stamp_line(l).unwrap())
        .collect();
        let mut d = Vec::new();
        let t = resolve_stamps(&stamps, &settings, "f", &mut d);
        assert_eq!(t[0], Some(utc("2020-10-25T00:30:00Z")));
        assert_eq!(t[1], Some(utc("2020-10-25T01:30:00Z")));
        assert_eq!(t[2], Some(utc("2020-03-29T01:30:00Z")));
        assert_eq!(d.len(), 1, "{d:?}");
    }

    #[test]
    fn resolve_reports_invalid_dates() {
        let s = RawStamp { line: Some(7), ..stamp_line("2020-02-30 10:00:00").unwrap() };
        let (t, d) = one(s, &TimeSettings { tz_given: true, ..TimeSettings::default() });
        assert_eq!(t, None);
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(d[0].line, Some(7));
    }

    #[test]
    fn stamp_clock_settles_late_and_says_so() {
        let settings = TimeSettings { tz_given: true, ..TimeSettings::default() };
        let mut clock = StampClock::new(&settings, "f");
        let mut d = Vec::new();
        let lines = ["05/06/2020 10:00:00", "05/06/2020 11:00:00", "05/13/2020 10:00:00"];
        let times: Vec<_> = lines
            .iter()
            .enumerate()
            .map(|(k, l)| clock.push(&RawStamp { line: Some(k as u64 + 1), ..stamp_line(l).unwrap() }, &mut d))
            .collect();
        clock.finish(&mut d);
        // read day first (likely for slash dates without weekday) until 05/13 proves month first
        assert_eq!(times[0], Some(utc("2020-06-05T10:00:00Z")));
        assert_eq!(times[2], Some(utc("2020-05-13T10:00:00Z")));
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].message.contains("2 earlier timestamp(s)"), "{}", d[0].message);
        assert_eq!(d[0].line, Some(1));
    }

    #[test]
    fn stamp_clock_agrees_with_resolve_when_settled_early() {
        let lines = ["13/05/2020 10:00:00", "01/06/2020 10:00:00", "Tue 05/22/2020 22:35:55.53"];
        let stamps: Vec<RawStamp> = lines.iter().map(|l| stamp_line(l).unwrap()).collect();
        let settings = TimeSettings::default();
        let (mut d1, mut d2) = (Vec::new(), Vec::new());
        let whole = resolve_stamps(&stamps[..2], &settings, "f", &mut d1);
        let mut clock = StampClock::new(&settings, "f");
        let streamed: Vec<_> = stamps[..2].iter().map(|s| clock.push(s, &mut d2)).collect();
        clock.finish(&mut d2);
        assert_eq!(whole, streamed);
        assert_eq!(d1, d2);
        assert_eq!(whole[1], Some(utc("2020-06-01T10:00:00Z")));
    }
}
