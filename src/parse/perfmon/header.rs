//! The PDH header cell, `(PDH-CSV 4.0) (W. Europe Standard Time)(-60)`, and the zone its times are read in
//! (reference peers.md §2.6): the collecting machine's zone name and its bias, UTC − local in minutes.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::model::{Diagnostic, Severity, TimeSettings};
use crate::parse::zones;

/// What the first cell of a PDH log says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdhHeader {
    /// Whether it is the tab-separated form (`PDH-TSV`).
    pub tsv: bool,
    /// The zone name as written (localized; may itself contain parentheses).
    pub zone_name: Option<String>,
    /// The last parenthesised number: UTC − local, minutes.
    pub bias_minutes: Option<i32>,
}

/// Reads the first cell of a PDH log; `None` when it is not one.
pub fn pdh_header(cell: &str) -> Option<PdhHeader> {
    let cell = cell.trim().trim_start_matches('\u{feff}').trim_matches('"').trim();
    let start = cell.find("(PDH-")?;
    let rest = &cell[start + 5..];
    let tsv = rest.starts_with("TSV");
    let close = rest.find(')')?;
    let rest = rest[close + 1..].trim();
    // The bias is the *last* group: a localized zone name can hold parentheses of its own.
    let (zone_part, bias_minutes) = match rest.strip_suffix(')').and_then(|r| r.rfind('(').map(|i| (r, i))) {
        Some((r, i)) => match r[i + 1..].trim().parse::<i32>() {
            Ok(bias) if bias.abs() <= 24 * 60 => (&r[..i], Some(bias)),
            _ => (rest, None),
        },
        None => (rest, None),
    };
    let zone_part = zone_part.trim();
    let name = zone_part.strip_prefix('(').and_then(|z| z.strip_suffix(')')).unwrap_or(zone_part).trim();
    Some(PdhHeader { tsv, zone_name: (!name.is_empty()).then(|| name.to_owned()), bias_minutes })
}

/// The zone local times of one file are read in.
#[derive(Debug, Clone, Copy)]
pub enum FileZone {
    /// A named zone (daylight saving followed).
    Named(Tz),
    /// A fixed offset (the header's bias, when its name is unknown).
    Fixed(FixedOffset),
}

impl FileZone {
    /// Chooses the zone: `--tz` when given, else the header's zone name, else its bias, else UTC; says which
    /// when it is not the header's named zone.
    pub fn choose(header: &PdhHeader, settings: &TimeSettings, path: &str, diagnostics: &mut Vec<Diagnostic>) -> Self {
        let name = header.zone_name.as_deref().unwrap_or("");
        if settings.tz_given {
            if !name.is_empty() {
                diagnostics.push(Diagnostic::for_file(
                    path,
                    Severity::Info,
                    format!("perfmon times read in --tz {} rather than the PDH header's zone \"{name}\"", settings.tz),
                ));
            }
            return FileZone::Named(settings.tz);
        }
        // The header holds the name shown at collection time: the daylight name in summer.
        let named = zones::windows_zone(name).or_else(|| zones::windows_zone(&name.replace("Daylight", "Standard")));
        if let Some(tz) = named {
            return FileZone::Named(tz);
        }
        match header.bias_minutes.and_then(|b| FixedOffset::west_opt(b * 60)) {
            Some(offset) => {
                diagnostics.push(Diagnostic::for_file(
                    path,
                    Severity::Warning,
                    format!(
                        "PDH header zone \"{name}\" is not a known Windows zone name: times read at its bias, fixed \
                         offset {offset} (a daylight-saving change inside the file is not followed); pass --tz to \
                         name the zone"
                    ),
                ));
                FileZone::Fixed(offset)
            }
            None => {
                diagnostics.push(Diagnostic::for_file(
                    path,
                    Severity::Warning,
                    "PDH header names no zone or bias: times read as UTC; pass --tz to name the zone",
                ));
                FileZone::Named(Tz::UTC)
            }
        }
    }

    /// The UTC time of a local time. In the repeated hour of a daylight-saving change the reading not before
    /// `prev` is taken (rows run forward); in a skipped hour the standard offset is used. The flag says whether
    /// the local time was ambiguous or skipped.
    pub fn to_utc(self, local: NaiveDateTime, prev: Option<DateTime<Utc>>) -> (DateTime<Utc>, bool) {
        match self {
            FileZone::Fixed(offset) => match offset.from_local_datetime(&local) {
                LocalResult::Single(t) => (t.with_timezone(&Utc), false),
                _ => (local.and_utc(), true),
            },
            FileZone::Named(tz) => match tz.from_local_datetime(&local) {
                LocalResult::Single(t) => (t.with_timezone(&Utc), false),
                LocalResult::Ambiguous(a, b) => {
                    let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
                    let (early, late) = if a <= b { (a, b) } else { (b, a) };
                    (if prev.is_some_and(|p| p > early) { late } else { early }, true)
                }
                LocalResult::None => {
                    let shifted = local + chrono::Duration::hours(1);
                    let t = tz
                        .from_local_datetime(&shifted)
                        .earliest()
                        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc) - chrono::Duration::hours(1));
                    (t, true)
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_with_zone_and_bias() {
        let h = pdh_header("\"(PDH-CSV 4.0) (W. Europe Standard Time)(-60)\"").unwrap();
        assert_eq!(
            h,
            PdhHeader { tsv: false, zone_name: Some("W. Europe Standard Time".into()), bias_minutes: Some(-60) }
        );
    }

    #[test]
    fn localized_zone_name_with_parentheses_keeps_the_last_group_as_bias() {
        let h = pdh_header("(PDH-TSV 4.0) (Paris, Madrid (heure d'été))(-120)").unwrap();
        assert!(h.tsv);
        assert_eq!(h.zone_name.as_deref(), Some("Paris, Madrid (heure d'été)"));
        assert_eq!(h.bias_minutes, Some(-120));
    }

    #[test]
    fn not_a_header() {
        assert_eq!(pdh_header("Date and Time"), None);
        let h = pdh_header("(PDH-CSV 4.0)").unwrap();
        assert_eq!((h.zone_name, h.bias_minutes), (None, None));
    }

    #[test]
    fn daylight_name_and_unknown_name_fall_back() {
        let mut d = Vec::new();
        let settings = TimeSettings::default();
        let h = pdh_header("(PDH-CSV 4.0) (Pacific Daylight Time)(420)").unwrap();
        assert!(matches!(FileZone::choose(&h, &settings, "f", &mut d), FileZone::Named(_)));
        assert!(d.is_empty());
        let h = pdh_header("(PDH-CSV 4.0) (Heure du Pacifique)(420)").unwrap();
        let zone = FileZone::choose(&h, &settings, "f", &mut d);
        assert!(matches!(zone, FileZone::Fixed(o) if o.local_minus_utc() == -7 * 3600));
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("bias"), "{d:?}");
    }
}
