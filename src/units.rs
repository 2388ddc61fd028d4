//! The one formatter of sizes, rates and counts, used by analysis (the verdict), reports, charts and
//! every command, so a figure reads the same in every output.
//!
//! Sizes are binary (KiB, MiB, GiB: what poolmon's K columns and Windows' pool limits use) with three
//! significant digits; rates are per hour (`25.9 MiB/h`). JSON keeps raw bytes and never goes through here.
//! This module depends on nothing else in the crate, so any layer may use it.

/// A binary size unit, chosen once per axis or column so values stay comparable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteUnit {
    /// Bytes.
    B,
    /// 2^10 bytes.
    KiB,
    /// 2^20 bytes.
    MiB,
    /// 2^30 bytes.
    GiB,
    /// 2^40 bytes.
    TiB,
}

impl ByteUnit {
    /// The largest unit in which `bytes` is at least 1 (B for anything below 1 KiB).
    pub fn for_value(bytes: f64) -> Self {
        let b = bytes.abs();
        if b >= 1024f64.powi(4) {
            ByteUnit::TiB
        } else if b >= 1024f64.powi(3) {
            ByteUnit::GiB
        } else if b >= 1024f64.powi(2) {
            ByteUnit::MiB
        } else if b >= 1024.0 {
            ByteUnit::KiB
        } else {
            ByteUnit::B
        }
    }

    /// Bytes per unit.
    pub fn factor(self) -> f64 {
        match self {
            ByteUnit::B => 1.0,
            ByteUnit::KiB => 1024.0,
            ByteUnit::MiB => 1024f64.powi(2),
            ByteUnit::GiB => 1024f64.powi(3),
            ByteUnit::TiB => 1024f64.powi(4),
        }
    }

    /// The unit's symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            ByteUnit::B => "B",
            ByteUnit::KiB => "KiB",
            ByteUnit::MiB => "MiB",
            ByteUnit::GiB => "GiB",
            ByteUnit::TiB => "TiB",
        }
    }
}

/// A size with three significant digits in the best binary unit: `2.31 GiB`, `1,664 B`.
pub fn bytes(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    let unit = ByteUnit::for_value(value);
    if unit == ByteUnit::B {
        return format!("{} B", count(value.round() as i64));
    }
    format!("{} {}", significant(value / unit.factor()), unit.symbol())
}

/// A size with the exact byte count after it: `2.31 GiB (2,480,000,000 B)`, for evidence tables.
pub fn bytes_exact(value: u64) -> String {
    if value < 1024 {
        return format!("{} B", count_u(value));
    }
    format!("{} ({} B)", bytes(value as f64), count_u(value))
}

/// A size with its sign: `+1.39 GiB`, `-512 B`, `0 B`.
pub fn signed_bytes(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    let sign = if value > 0.0 {
        "+"
    } else if value < 0.0 {
        "-"
    } else {
        ""
    };
    format!("{sign}{}", bytes(value.abs()))
}

/// A rate in bytes per hour with its sign, for tables and chart labels: `+25.9 MiB/h`.
pub fn bytes_rate(per_hour: f64) -> String {
    if !per_hour.is_finite() {
        return "n/a".to_owned();
    }
    format!("{}/h", signed_bytes(per_hour))
}

/// A rate in bytes per hour for prose ("grows 25.9 MiB/h"): no `+`, a `-` when it shrinks.
pub fn rate(per_hour: f64) -> String {
    if !per_hour.is_finite() {
        return "n/a".to_owned();
    }
    format!("{}/h", bytes(per_hour))
}

/// A range of rates for prose: `24.6-25.0 MiB/h` when both ends share a unit, else `980 KiB/h to 1.02 MiB/h`.
pub fn rate_range(low: f64, high: f64) -> String {
    let (lo, hi) = (bytes(low), bytes(high));
    match (lo.rsplit_once(' '), hi.rsplit_once(' ')) {
        (Some((a, unit_a)), Some((b, unit_b))) if unit_a == unit_b && !a.starts_with('-') && !b.starts_with('-') => {
            format!("{a}-{b} {unit_a}/h")
        }
        _ => format!("{lo}/h to {hi}/h"),
    }
}

/// A count per hour: `+15,672/h`.
pub fn count_rate(per_hour: f64) -> String {
    if !per_hour.is_finite() {
        return "n/a".to_owned();
    }
    if per_hour == 0.0 {
        return "0/h".to_owned();
    }
    let sign = if per_hour > 0.0 { "+" } else { "" };
    let magnitude = per_hour.abs();
    let body = if magnitude >= 100.0 { count(per_hour.round() as i64) } else { significant(per_hour) };
    format!("{sign}{body}/h")
}

/// An unsigned integer with thousands separators (`1,394,724`).
pub fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An integer with thousands separators: `1,394,724`, `-1,000`.
pub fn count(value: i64) -> String {
    let digits = thousands(value.unsigned_abs());
    if value < 0 {
        format!("-{digits}")
    } else {
        digits
    }
}

/// An unsigned count with thousands separators.
pub fn count_u(value: u64) -> String {
    count(i64::try_from(value).unwrap_or(i64::MAX))
}

/// Three significant digits without exponent: `2.31`, `25.9`, `412`, `1,394,724` (large values keep
/// all their integer digits).
pub fn significant(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    let magnitude = value.abs();
    if magnitude >= 1000.0 {
        count(value.round() as i64)
    } else if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 0.01 || magnitude == 0.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.2e}")
    }
}

/// A share (0.0 to 1.0) as a percentage, the one percent formatter of every output (verdict, tables, charts):
/// whole percents from 10% (`87%`), one decimal below (`4.2%`, `0.4%`), `0%` for nothing. A share that is not
/// all of it never reads as `100%`: 99.5% to 99.9% keep their decimal, rounded down (`99.5%`, `99.9%`), so a
/// pool at its limit and one just below it, or every handle and almost every one, read differently.
pub fn percent(share: f64) -> String {
    if !share.is_finite() {
        return "n/a".to_owned();
    }
    let p = share * 100.0;
    let magnitude = p.abs();
    if magnitude == 0.0 || magnitude == 100.0 {
        format!("{p:.0}%")
    } else if (99.5..100.0).contains(&magnitude) {
        format!("{:.1}%", (p * 10.0).trunc() / 10.0)
    } else if magnitude >= 9.95 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_is_whole_from_ten_and_never_rounds_up_to_all() {
        assert_eq!(percent(0.874), "87%");
        assert_eq!(percent(0.042), "4.2%");
        assert_eq!(percent(0.004), "0.4%");
        assert_eq!(percent(0.0995), "10%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.995), "99.5%");
        assert_eq!(percent(0.9996), "99.9%");
        assert_eq!(percent(0.994), "99%");
        assert_eq!(percent(-0.25), "-25%");
        assert_eq!(percent(f64::NAN), "n/a");
    }

    #[test]
    fn bytes_use_binary_units_with_three_significant_digits() {
        assert_eq!(bytes(1664.0), "1.62 KiB");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(2_480_000_000.0), "2.31 GiB");
        assert_eq!(bytes(27_180_000.0), "25.9 MiB");
        assert_eq!(bytes_exact(1664), "1.62 KiB (1,664 B)");
        assert_eq!(signed_bytes(-512.0), "-512 B");
        assert_eq!(signed_bytes(0.0), "0 B");
    }

    #[test]
    fn rates_carry_a_unit_and_in_tables_a_sign() {
        assert_eq!(bytes_rate(27_180_000.0), "+25.9 MiB/h");
        assert_eq!(bytes_rate(-2048.0), "-2.00 KiB/h");
        assert_eq!(rate(27_180_000.0), "25.9 MiB/h");
        assert_eq!(rate(12.0), "12 B/h");
        assert_eq!(rate_range(25.8e6, 26.2e6), "24.6-25.0 MiB/h");
        assert_eq!(rate_range(1000.0 * 1024.0, 1.1e6), "1,000 KiB/h to 1.05 MiB/h");
        assert_eq!(count_rate(15_672.4), "+15,672/h");
        assert_eq!(count_rate(2.5), "+2.50/h");
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(thousands(1_394_724), "1,394,724");
        assert_eq!(count(-1000), "-1,000");
        assert_eq!(count(999), "999");
        assert_eq!(count_u(u64::MAX), count(i64::MAX));
    }
}
