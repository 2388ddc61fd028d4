//! Number, size, rate and time formatting shared by every exporter and chart.
//!
//! Sizes, rates and counts come from [`crate::units`] (binary units, one formatter for every output); times are
//! shown in the host's zone when the run knew it (`--tz`), else in UTC, and always say which.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub use crate::units::{bytes, bytes_exact, bytes_rate, count, count_rate, count_u, percent, significant, ByteUnit};

/// A p-value: `< 0.0001` below that, else four decimals.
pub fn p_value(p: f64) -> String {
    if !p.is_finite() {
        "n/a".to_owned()
    } else if p < 0.0001 {
        "< 0.0001".to_owned()
    } else {
        format!("{p:.4}")
    }
}

/// A ratio such as allocations per free: `1.0007`, `12.3`, `∞` when nothing was freed.
pub fn ratio(value: f64) -> String {
    if value.is_infinite() {
        "∞".to_owned()
    } else if !value.is_finite() {
        "n/a".to_owned()
    } else if value.abs() < 10.0 {
        format!("{value:.4}")
    } else {
        significant(value)
    }
}

/// A duration given in hours: `45 min`, `5.2 h`, `3 d 4 h`.
pub fn hours(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let h = value.abs();
    if h < 1.0 {
        format!("{sign}{:.0} min", h * 60.0)
    } else if h < 48.0 {
        format!("{sign}{h:.1} h")
    } else {
        let days = (h / 24.0).floor();
        let rest = (h - days * 24.0).round();
        if rest >= 24.0 {
            format!("{sign}{:.0} d", days + 1.0)
        } else if rest == 0.0 {
            format!("{sign}{days:.0} d")
        } else {
            format!("{sign}{days:.0} d {rest:.0} h")
        }
    }
}

/// Hours between two instants (`b - a`).
pub fn hours_between(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 3_600_000.0
}

/// The zone times are shown in: the analysis' zone when it parses, else UTC. The flag says whether the
/// zone was known (a named zone other than UTC counts as known; UTC is labelled as such either way).
pub fn zone(name: &str) -> Tz {
    name.parse::<Tz>().unwrap_or(chrono_tz::UTC)
}

/// A time in the report's zone, to the second, with the zone's abbreviation: `2020-05-22 22:35:55 CEST`.
pub fn time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z").to_string()
}

/// A time in the report's zone, to the minute: `2020-05-22 22:35 CEST`.
pub fn time_short(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// A time near `reference` as briefly as it stays unambiguous: `23:55` on the same local day,
/// `05-24 01:10` on another day of the same year, else the full date.
pub fn time_near(at: DateTime<Utc>, reference: DateTime<Utc>, tz: Tz) -> String {
    let (a, r) = (at.with_timezone(&tz), reference.with_timezone(&tz));
    if a.date_naive() == r.date_naive() {
        a.format("%H:%M").to_string()
    } else if a.format("%Y").to_string() == r.format("%Y").to_string() {
        a.format("%m-%d %H:%M").to_string()
    } else {
        a.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// Log text made safe for a table, a chart label or a file: control characters, terminal escapes and bidi
/// overrides shown escaped ([`crate::untrusted::escape`]: `\x1b`, `\u{202e}`); tabs become spaces.
pub fn clean(text: &str) -> String {
    crate::untrusted::escape(text).replace('\t', " ")
}

/// A pool tag shown so its trailing spaces are visible (`Key ` → `Key·`, poolmon's tags are exactly four
/// characters and `Key` and `Key ` would otherwise look the same).
pub fn tag(tag: &str) -> String {
    let cleaned = clean(tag);
    let trimmed = cleaned.trim_end_matches(' ');
    let spaces = cleaned.len() - trimmed.len();
    format!("{trimmed}{}", "·".repeat(spaces))
}

/// A string usable in a file name: ASCII letters, digits, `.`, `-` and `_`; everything else is `_`.
pub fn file_stem(text: &str) -> String {
    let stem: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' })
        .take(60)
        .collect();
    let stem = stem.trim_start_matches('.').to_owned();
    if stem.is_empty() {
        "_".to_owned()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn durations_read_in_days_and_hours() {
        assert_eq!(hours(0.5), "30 min");
        assert_eq!(hours(5.25), "5.2 h");
        assert_eq!(hours(89.0), "3 d 17 h");
        assert_eq!(hours(-2.0), "-2.0 h");
    }

    #[test]
    fn times_are_shown_in_the_zone_with_its_abbreviation() {
        let at = Utc.with_ymd_and_hms(2020, 5, 22, 20, 35, 55).unwrap();
        assert_eq!(time(at, zone("Europe/Berlin")), "2020-05-22 22:35:55 CEST");
        assert_eq!(time_short(at, zone("not a zone")), "2020-05-22 20:35 UTC");
        let berlin = zone("Europe/Berlin");
        assert_eq!(time_near(at + chrono::Duration::minutes(30), at, berlin), "23:05");
        assert_eq!(time_near(at + chrono::Duration::hours(2), at, berlin), "05-23 00:35");
    }

    #[test]
    fn log_text_loses_control_characters_and_tags_show_trailing_spaces() {
        assert_eq!(clean("a\u{1b}[2Jb\tc"), r"a\x1b[2Jb c");
        assert_eq!(tag("Key "), "Key·");
        assert_eq!(file_stem("../lsass.exe <x>"), "_lsass.exe__x_");
        assert_eq!(file_stem(""), "_");
    }

    #[test]
    fn p_values_and_ratios() {
        assert_eq!(p_value(0.000_01), "< 0.0001");
        assert_eq!(p_value(0.0312), "0.0312");
        assert_eq!(ratio(f64::INFINITY), "∞");
        assert_eq!(ratio(1.000_71), "1.0007");
        assert_eq!(percent(0.874), "87%");
    }
}
