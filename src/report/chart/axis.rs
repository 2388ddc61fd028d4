//! Axis ticks and labels: time ticks on round local hours and days, y ranges in binary units.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

use super::Quantity;
use crate::report::format::{self, ByteUnit};

/// Tick steps tried for time axes, in seconds, smallest first.
const TIME_STEPS: [i64; 15] =
    [300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 345_600, 604_800, 1_209_600, 2_592_000];

/// Tick positions (Unix seconds) on round local times between `start` and `end`, at most `max_ticks`,
/// and the strftime format their labels use.
pub fn time_ticks(start: f64, end: f64, tz: Tz, max_ticks: usize) -> (Vec<f64>, &'static str) {
    let span = (end - start).max(1.0);
    let step = TIME_STEPS.iter().copied().find(|&s| span / s as f64 <= max_ticks.max(1) as f64).unwrap_or(2_592_000);
    let (Some(first), Some(last)) = (to_utc(start), to_utc(end)) else {
        return (Vec::new(), "%b %d %H:%M");
    };
    let first_day = first.with_timezone(&tz).date_naive();
    let last_day = last.with_timezone(&tz).date_naive();
    let mut ticks = Vec::new();
    if step < 86_400 {
        // Round local clock times, restarted at each local midnight so DST days stay aligned.
        let mut day = first_day;
        while day <= last_day {
            let mut offset = 0;
            while offset < 86_400 {
                if let Some(t) = local(tz, day, offset) {
                    push_tick(&mut ticks, t, start, end);
                }
                offset += step;
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
    } else {
        let days = step / 86_400;
        let mut day = first_day;
        while day <= last_day {
            if let Some(t) = local(tz, day, 0) {
                push_tick(&mut ticks, t, start, end);
            }
            let Some(next) = day.checked_add_signed(Duration::days(days)) else { break };
            day = next;
        }
    }
    let same_day = first_day == last_day;
    let fmt = if step >= 86_400 {
        "%b %d"
    } else if same_day {
        "%H:%M"
    } else {
        "%b %d %H:%M"
    };
    (ticks, fmt)
}

fn push_tick(ticks: &mut Vec<f64>, t: DateTime<Utc>, start: f64, end: f64) {
    let x = t.timestamp() as f64;
    if x >= start && x <= end && ticks.last().is_none_or(|&last| x > last) {
        ticks.push(x);
    }
}

fn local(tz: Tz, day: NaiveDate, seconds: i64) -> Option<DateTime<Utc>> {
    let time = NaiveTime::from_num_seconds_from_midnight_opt(u32::try_from(seconds).ok()?, 0)?;
    tz.from_local_datetime(&day.and_time(time)).earliest().map(|t| t.with_timezone(&Utc))
}

/// Unix seconds to a UTC time.
pub fn to_utc(x: f64) -> Option<DateTime<Utc>> {
    if !x.is_finite() {
        return None;
    }
    DateTime::<Utc>::from_timestamp(x.floor() as i64, 0)
}

/// A UTC time to Unix seconds (the x unit of time axes).
pub fn to_x(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

/// Label of a time tick.
pub fn time_label(x: f64, tz: Tz, fmt: &str) -> String {
    to_utc(x).map(|t| t.with_timezone(&tz).format(fmt).to_string()).unwrap_or_default()
}

/// The title of a time axis: `Time (Europe/Berlin, 2020)`; UTC is named as such.
pub fn time_title(start: f64, end: f64, tz: Tz) -> String {
    let year = |x: f64| to_utc(x).map(|t| t.with_timezone(&tz).format("%Y").to_string()).unwrap_or_default();
    let (a, b) = (year(start), year(end));
    let years = if a == b { a } else { format!("{a}-{b}") };
    format!("Time ({}, {years})", tz.name())
}

/// An f64 axis whose ticks are given (round local times), with no light grid lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ticked {
    /// An axis over `lo..hi` with ticks at `ticks`.
    pub fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        Self { lo, hi, ticks }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        // As plotters' own f64 coordinate maps values, so lines and ticks agree to the pixel.
        let logic = (*value - self.lo) / (self.hi - self.lo);
        let actual = limit.1 - limit.0;
        if actual == 0 || !logic.is_finite() {
            return limit.1;
        }
        if actual > 0 {
            limit.0 + (f64::from(actual) * logic + 1e-3).floor() as i32
        } else {
            limit.0 + (f64::from(actual) * logic - 1e-3).ceil() as i32
        }
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// A y axis' scale: data range rounded out to nice ticks, in a display unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Raw units per display unit (1 for counts, 2^20 for MiB...).
    pub factor: f64,
    /// Display unit symbol (empty for counts).
    pub unit: &'static str,
    /// Bottom of the axis, display units.
    pub min: f64,
    /// Top of the axis, display units.
    pub max: f64,
}

impl Scale {
    /// A scale covering `lo..hi` (raw units; `lo` is clamped to 0 for growth charts that start at 0
    /// when the data is non-negative).
    pub fn new(quantity: Quantity, lo: f64, hi: f64) -> Self {
        let (lo, hi) = if lo.is_finite() && hi.is_finite() && hi > lo {
            (lo, hi)
        } else if lo.is_finite() {
            (lo.min(0.0), lo.max(0.0) + 1.0)
        } else {
            (0.0, 1.0)
        };
        let (factor, unit) = match quantity {
            Quantity::Bytes => {
                let unit = ByteUnit::for_value(hi.abs().max(lo.abs()));
                (unit.factor(), unit.symbol())
            }
            Quantity::Count => (1.0, ""),
        };
        let min = if lo >= 0.0 { 0.0 } else { lo / factor };
        let max = nice_ceiling(hi / factor * 1.05);
        Self { factor, unit, min, max: if max > min { max } else { min + 1.0 } }
    }

    /// A raw value in display units.
    pub fn apply(&self, raw: f64) -> f64 {
        raw / self.factor
    }

    /// Axis title with unit: `Paged pool (GiB)`.
    pub fn title(&self, title: &str) -> String {
        if self.unit.is_empty() {
            title.to_owned()
        } else {
            format!("{title} ({})", self.unit)
        }
    }
}

/// The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 times a power of ten at or above `v`.
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * power >= v * (1.0 - 1e-12) {
            return m * power;
        }
    }
    10.0 * power
}

/// Label of a y tick in display units: no trailing zeros, thousands separated.
pub fn value_label(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format::count(v.round() as i64)
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ticks_fall_on_round_local_hours() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let start = to_x(Utc.with_ymd_and_hms(2020, 5, 19, 5, 17, 0).unwrap());
        let end = to_x(Utc.with_ymd_and_hms(2020, 5, 22, 22, 35, 0).unwrap());
        let (ticks, fmt) = time_ticks(start, end, tz, 9);
        assert!(!ticks.is_empty() && ticks.len() <= 10, "{ticks:?}");
        assert_eq!(fmt, "%b %d %H:%M");
        for t in &ticks {
            let local = to_utc(*t).unwrap().with_timezone(&tz);
            assert_eq!(local.format("%M:%S").to_string(), "00:00");
        }
        assert_eq!(time_label(ticks[0], tz, fmt), "May 19 12:00");
    }

    #[test]
    fn long_spans_tick_on_days() {
        let start = to_x(Utc.with_ymd_and_hms(2020, 5, 1, 0, 0, 0).unwrap());
        let end = to_x(Utc.with_ymd_and_hms(2020, 5, 20, 0, 0, 0).unwrap());
        let (ticks, fmt) = time_ticks(start, end, chrono_tz::UTC, 8);
        assert_eq!(fmt, "%b %d");
        assert!(ticks.len() <= 8 && ticks.len() >= 4, "{ticks:?}");
    }

    #[test]
    fn byte_scales_pick_a_binary_unit_and_a_nice_top() {
        let s = Scale::new(Quantity::Bytes, 0.0, 2.9 * 1024f64.powi(3));
        assert_eq!(s.unit, "GiB");
        assert!((s.max - 4.0).abs() < 1e-12);
        assert_eq!(s.title("Paged pool"), "Paged pool (GiB)");
        let c = Scale::new(Quantity::Count, 10.0, 41_000.0);
        assert_eq!(c.unit, "");
        assert!(c.min.abs() < 1e-12 && (c.max - 50_000.0).abs() < 1e-9);
        assert!((Scale::new(Quantity::Count, 5.0, 5.0).max - 8.0).abs() < 1e-12);
    }

    #[test]
    fn tick_labels_read_naturally() {
        assert_eq!(value_label(2.5), "2.5");
        assert_eq!(value_label(3.0), "3");
        assert_eq!(value_label(40_000.0), "40,000");
        assert_eq!(time_title(0.0, 10.0, chrono_tz::UTC), "Time (UTC, 1970)");
    }
}
