//! Times in event exports: the UTC `SystemTime` of event XML, and the local, culture-formatted times
//! of CSV and text exports (events reference §2.2-2.4), read in the user's `--tz`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};

use crate::model::{DateOrder, Diagnostic, Severity, TimeSettings};

/// Parses an ISO 8601 UTC time as event XML writes it: `2023-12-27T11:17:15.5785479Z`, with 0 to 9
/// fractional digits (older Windows writes 9, newer 7, evtx 0.15 7; reference §2.3), an optional `Z` and
/// an optional numeric offset. A time without a zone is taken as UTC, as `SystemTime` always is.
pub fn system_time(text: &str) -> Option<DateTime<Utc>> {
    let s = text.trim().as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = s.get(range)?;
        let mut v = 0u32;
        for &d in digits {
            if !d.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(d - b'0');
        }
        Some(v)
    };
    if s.len() < 19 || s[4] != b'-' || s[7] != b'-' || !matches!(s[10], b'T' | b't' | b' ') || s[13] != b':' {
        return None;
    }
    if s[16] != b':' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let (h, m, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut pos = 19;
    let mut nanos = 0u32;
    if s.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while pos < s.len() && s[pos].is_ascii_digit() {
            if pos - start < 9 {
                nanos = nanos * 10 + u32::from(s[pos] - b'0');
            }
            pos += 1;
        }
        let digits = (pos - start).min(9);
        if digits == 0 {
            return None;
        }
        nanos *= 10u32.pow(9 - digits as u32);
    }
    // A leap second (`:60`) is clamped rather than refused.
    let time = NaiveTime::from_hms_nano_opt(h, m, sec.min(59), nanos)?;
    let naive = NaiveDateTime::new(date, time);
    let offset_minutes: i64 = match &s[pos..] {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let rest: Vec<u8> = rest.iter().copied().filter(|&c| c != b':').collect();
            if rest.len() != 4 || !rest.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let v = i64::from(rest[0] - b'0') * 600
                + i64::from(rest[1] - b'0') * 60
                + i64::from(rest[2] - b'0') * 10
                + i64::from(rest[3] - b'0');
            if *sign == b'-' {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    Some(Utc.from_utc_datetime(&(naive - TimeDelta::minutes(offset_minutes))))
}

/// Characters Windows puts into localized dates that are not part of them: the bidi marks of 6008's
/// `‎5/‎29/‎2023` (U+200E), other direction marks, BOMs; and `?`, which is what those marks become once
/// wevtutil's console code page has mangled them (reference §1.3, §2.1).
pub fn strip_marks(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '?'))
        .map(|c| if c == '\u{00A0}' || c == '\u{202F}' { ' ' } else { c })
        .collect()
}

/// A local date and time as an export prints it, before its day/month order is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalStamp {
    /// The three numbers of the date in written order.
    date: [u32; 3],
    /// Whether the year is written first (`2025-12-09`), which settles the order.
    year_first: bool,
    /// Hour as written (12-hour when `pm` is set).
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// `Some(true)` for PM, `Some(false)` for AM, `None` for a 24-hour clock.
    pm: Option<bool>,
    /// Whether the text ended in `Z` (then it is UTC, not local).
    utc: bool,
}

impl LocalStamp {
    /// Reads `12/9/2025 5:37:32 PM`, `19-07-2026 09:58:57`, `12.09.2025 17:37:32`, `2025-12-09 17:37:32`,
    /// `2016-12-22T05:29:02.512`, or with the AM/PM marker first (`오후 8:31:11`, `下午 8:31:11`).
    /// Returns `None` for anything else, including a time with a marker it cannot read (a mangled one):
    /// guessing AM or PM would be wrong half the time.
    pub fn parse(text: &str) -> Option<LocalStamp> {
        let cleaned = strip_marks(text);
        let mut date = None;
        let mut time = None;
        let mut pm = None;
        let mut utc = false;
        for token in cleaned.split(|c: char| c.is_whitespace() || c == ',').filter(|t| !t.is_empty()) {
            // ISO `date T time` in one token.
            let (d, t) = match token.find(['T', 't']) {
                Some(i) if token[..i].chars().all(|c| c.is_ascii_digit() || c == '-') && i > 0 => {
                    (Some(&token[..i]), Some(&token[i + 1..]))
                }
                _ if token.contains(':') => (None, Some(token)),
                _ => (Some(token), None),
            };
            if let Some(t) = t {
                let t = match t.strip_suffix(['Z', 'z']) {
                    Some(rest) => {
                        utc = true;
                        rest
                    }
                    None => t,
                };
                if time.is_some() {
                    return None;
                }
                time = Some(clock(t)?);
            }
            if let Some(d) = d {
                if let Some(marker) = meridiem(d) {
                    pm = Some(marker);
                } else if let Some(parsed) = numeric_date(d) {
                    if date.is_some() {
                        return None;
                    }
                    date = Some(parsed);
                } else {
                    return None;
                }
            }
        }
        let (date, year_first) = date?;
        let (hour, minute, second, nanos) = time?;
        if pm.is_some() && !(1..=12).contains(&hour) {
            return None;
        }
        Some(LocalStamp { date, year_first, hour, minute, second, nanos, pm, utc })
    }

    /// Whether the text said which order its date is in (year first), or its numbers do (a part above 12).
    pub fn order_hint(&self) -> Option<DateOrder> {
        if self.year_first {
            return None;
        }
        match (self.date[0] > 12, self.date[1] > 12) {
            (true, false) => Some(DateOrder::Dmy),
            (false, true) => Some(DateOrder::Mdy),
            _ => None,
        }
    }

    /// Whether the day/month order matters for this stamp (both could be a month, and differ).
    pub fn is_ambiguous(&self) -> bool {
        !self.year_first && self.date[0] <= 12 && self.date[1] <= 12 && self.date[0] != self.date[1]
    }

    /// The wall-clock time, with the date read in `order` (ignored when the year comes first).
    pub fn naive(&self, order: DateOrder) -> Option<NaiveDateTime> {
        let [first, second, third] = self.date;
        let (year, month, day) = if self.year_first {
            (first, second, third)
        } else {
            let year = if third < 100 { third + 2000 } else { third };
            match order {
                DateOrder::Mdy => (year, first, second),
                DateOrder::Dmy => (year, second, first),
            }
        };
        let hour = match self.pm {
            Some(true) if self.hour == 12 => 12,
            Some(true) => self.hour + 12,
            Some(false) if self.hour == 12 => 0,
            _ => self.hour,
        };
        let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
        let time = NaiveTime::from_hms_nano_opt(hour, self.minute, self.second.min(59), self.nanos)?;
        Some(NaiveDateTime::new(date, time))
    }

    /// Whether the text carried its own `Z` (UTC).
    pub fn is_utc(&self) -> bool {
        self.utc
    }
}

/// `AM`/`PM` in the forms Windows cultures print: `AM`, `a.m.`, `上午`/`下午` (zh), `午前`/`午後` (ja),
/// `오전`/`오후` (ko). `Some(true)` is PM.
fn meridiem(token: &str) -> Option<bool> {
    let lower = token.to_lowercase();
    let plain: String = lower.chars().filter(|c| *c != '.').collect();
    match plain.as_str() {
        "am" | "上午" | "午前" | "오전" => Some(false),
        "pm" | "下午" | "午後" | "오후" => Some(true),
        _ => None,
    }
}

/// `9/12/2025`, `19-07-2026`, `12.09.2025.` or `2025-12-09`: three numbers and whether the year is first.
fn numeric_date(token: &str) -> Option<([u32; 3], bool)> {
    let token = token.strip_suffix('.').unwrap_or(token);
    let mut parts = token.split(['/', '-', '.']);
    let mut out = [0u32; 3];
    let mut widths = [0usize; 3];
    for i in 0..3 {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out[i] = p.parse().ok()?;
        widths[i] = p.len();
    }
    if parts.next().is_some() {
        return None;
    }
    Some((out, widths[0] == 4))
}

/// `5:37:32`, `09:58`, `05:29:02.512`: hour, minute, second, nanoseconds.
fn clock(text: &str) -> Option<(u32, u32, u32, u32)> {
    let (hms, frac) = match text.split_once(['.', ',']) {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (text, None),
    };
    let mut parts = hms.split(':');
    let mut field = || -> Option<u32> {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let hour = field()?;
    let minute = field()?;
    let second = field().unwrap_or(0);
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let nanos = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            let digits = &f[..f.len().min(9)];
            let v: u32 = digits.parse().ok()?;
            v * 10u32.pow(9 - digits.len() as u32)
        }
        Some(_) => return None,
    };
    Some((hour, minute, second, nanos))
}

/// Turns local export times into UTC in the user's zone, settles the day/month order over a whole file,
/// and says once per file what it assumed.
#[derive(Debug)]
pub struct LocalClock<'a> {
    settings: &'a TimeSettings,
    /// The day/month order settled for this file (from `--date-order` or the file's own dates).
    order: Option<DateOrder>,
    /// Whether a local time was converted (then the zone assumption is worth a diagnostic).
    used: bool,
    /// Whether an ambiguous date was read with an assumed order.
    assumed_order: bool,
}

impl<'a> LocalClock<'a> {
    /// A clock for one file.
    pub fn new(settings: &'a TimeSettings) -> Self {
        Self { settings, order: settings.date_order, used: false, assumed_order: false }
    }

    /// Settles the day/month order from every date of the file (`--date-order` wins). A date with a part
    /// above 12 says which order the file uses.
    pub fn settle<'s>(&mut self, stamps: impl IntoIterator<Item = &'s LocalStamp>) {
        if self.settings.date_order.is_some() {
            return;
        }
        for stamp in stamps {
            if let Some(hint) = stamp.order_hint() {
                self.order = Some(hint);
                return;
            }
        }
    }

    /// Whether the day/month order is known for this file (`--date-order`, or settled from its dates).
    pub fn has_forced_order(&self) -> bool {
        self.order.is_some()
    }

    /// The day/month order in use: settled, or month first (en-US, the most common export culture).
    fn order_for(&mut self, stamp: &LocalStamp) -> DateOrder {
        if let Some(order) = self.order.or_else(|| stamp.order_hint()) {
            return order;
        }
        if stamp.is_ambiguous() {
            self.assumed_order = true;
        }
        DateOrder::Mdy
    }

    /// The UTC time of a local stamp, read in `--tz` (a `Z` stamp is UTC already).
    pub fn to_utc(&mut self, stamp: &LocalStamp) -> Option<DateTime<Utc>> {
        let order = self.order_for(stamp);
        let naive = stamp.naive(order)?;
        if stamp.is_utc() {
            return Some(Utc.from_utc_datetime(&naive));
        }
        self.local_to_utc(naive)
    }

    /// A wall-clock time read in `--tz`. In the hour a DST change repeats, the earlier is taken; in the hour
    /// it skips, the time an hour later (which is what the clock showed).
    pub fn local_to_utc(&mut self, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
        self.used = true;
        let tz = self.settings.tz;
        tz.from_local_datetime(&naive)
            .earliest()
            .or_else(|| tz.from_local_datetime(&(naive + TimeDelta::hours(1))).earliest())
            .map(|t| t.with_timezone(&Utc))
    }

    /// Reads a local time string; `None` when it is not a time this module understands.
    pub fn parse(&mut self, text: &str) -> Option<DateTime<Utc>> {
        let stamp = LocalStamp::parse(text)?;
        self.to_utc(&stamp)
    }

    /// The once-per-file diagnostics: which zone local times were read in, and any assumed date order.
    pub fn diagnostics(&self, path: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if self.used {
            if self.settings.tz_given {
                out.push(Diagnostic::for_file(
                    path,
                    Severity::Info,
                    format!("local times in this file read in {}", self.settings.tz),
                ));
            } else {
                out.push(Diagnostic::for_file(
                    path,
                    Severity::Warning,
                    "local times in this file (export dates, 6008's previous-shutdown time) carry no zone; read \
                     them as UTC (give --tz ZONE for the machine's zone)",
                ));
            }
        }
        if self.assumed_order {
            out.push(Diagnostic::for_file(
                path,
                Severity::Warning,
                "day/month order of dates could not be settled from the file; assumed month first (give \
                 --date-order dmy or mdy)",
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn system_time_accepts_zero_to_nine_fraction_digits() {
        assert_eq!(system_time("2015-04-26T22:30:59.914186600Z"), Some(utc("2015-04-26T22:30:59.9141866Z")));
        assert_eq!(system_time("2023-12-27T11:17:15.5785479Z"), Some(utc("2023-12-27T11:17:15.5785479Z")));
        assert_eq!(system_time("2023-12-27T11:17:15Z"), Some(utc("2023-12-27T11:17:15Z")));
        assert_eq!(system_time("2023-12-27T11:17:15.5"), Some(utc("2023-12-27T11:17:15.5Z")));
        assert_eq!(system_time("2023-12-27T11:17:15.1234567891Z"), Some(utc("2023-12-27T11:17:15.123456789Z")));
    }

    #[test]
    fn system_time_reads_offsets_and_refuses_garbage() {
        assert_eq!(system_time("2023-12-27T12:17:15+01:00"), Some(utc("2023-12-27T11:17:15Z")));
        assert_eq!(system_time("1601-01-01T00:00:00.0000000Z"), Some(utc("1601-01-01T00:00:00Z")));
        assert_eq!(system_time("2023-13-27T11:17:15Z"), None);
        assert_eq!(system_time("2023-12-27T11:17:15.Z"), None);
        assert_eq!(system_time("yesterday"), None);
        assert_eq!(system_time(""), None);
    }

    #[test]
    fn marks_of_6008_dates_are_stripped() {
        assert_eq!(strip_marks("\u{200e}5/\u{200e}29/\u{200e}2023"), "5/29/2023");
        assert_eq!(strip_marks("?2026-?09-?03"), "2026-09-03");
    }

    #[test]
    fn us_date_with_pm() {
        let s = LocalStamp::parse("12/9/2025 5:37:32 PM").unwrap();
        assert_eq!(s.naive(DateOrder::Mdy).unwrap().to_string(), "2025-12-09 17:37:32");
        assert!(s.is_ambiguous());
    }

    #[test]
    fn day_first_dash_date_settles_order() {
        let s = LocalStamp::parse("19-07-2026 09:58:57").unwrap();
        assert_eq!(s.order_hint(), Some(DateOrder::Dmy));
        assert_eq!(s.naive(DateOrder::Dmy).unwrap().to_string(), "2026-07-19 09:58:57");
    }

    #[test]
    fn iso_local_with_milliseconds_and_utc_marker() {
        let s = LocalStamp::parse("2016-12-22T05:29:02.512").unwrap();
        assert!(!s.is_utc());
        assert_eq!(s.naive(DateOrder::Dmy).unwrap().to_string(), "2016-12-22 05:29:02.512");
        let z = LocalStamp::parse("2025-11-12T15:49:43.5630000Z").unwrap();
        assert!(z.is_utc());
    }

    #[test]
    fn asian_markers_come_first() {
        let s = LocalStamp::parse("2026-09-03 오후 8:31:11").unwrap();
        assert_eq!(s.naive(DateOrder::Mdy).unwrap().to_string(), "2026-09-03 20:31:11");
        let s = LocalStamp::parse("2023/5/29 上午 12:05:00").unwrap();
        assert_eq!(s.naive(DateOrder::Mdy).unwrap().to_string(), "2023-05-29 00:05:00");
    }

    #[test]
    fn mangled_marker_is_not_guessed() {
        assert_eq!(LocalStamp::parse("2026-09-03 \u{fffd}\u{fffd} 8:31:11"), None);
    }

    #[test]
    fn clock_reads_in_the_given_zone_and_says_so_once() {
        let settings = TimeSettings { tz: chrono_tz::America::Los_Angeles, tz_given: true, ..TimeSettings::default() };
        let mut clock = LocalClock::new(&settings);
        assert_eq!(clock.parse("12/9/2025 5:37:32 PM"), Some(utc("2025-12-10T01:37:32Z")));
        assert_eq!(clock.parse("12/9/2025 9:12:08 AM"), Some(utc("2025-12-09T17:12:08Z")));
        let d = clock.diagnostics("f.csv");
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].message.contains("America/Los_Angeles"));
        assert!(d[1].message.contains("month first"));
    }

    #[test]
    fn settled_order_from_another_row_applies_to_ambiguous_ones() {
        let settings = TimeSettings::default();
        let mut clock = LocalClock::new(&settings);
        let stamps = [LocalStamp::parse("05/06/2020 10:00").unwrap(), LocalStamp::parse("22/05/2020 10:00").unwrap()];
        clock.settle(&stamps);
        assert_eq!(clock.to_utc(&stamps[0]), Some(utc("2020-06-05T10:00:00Z")));
        let d = clock.diagnostics("f.csv");
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("as UTC"));
    }

    #[test]
    fn spring_forward_gap_takes_the_later_hour() {
        let settings = TimeSettings { tz: chrono_tz::Europe::Berlin, tz_given: true, ..TimeSettings::default() };
        let mut clock = LocalClock::new(&settings);
        assert_eq!(clock.parse("2024-03-31 02:30:00"), Some(utc("2024-03-31T01:30:00Z")));
    }
}
