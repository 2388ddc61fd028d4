//! Time zone names as users and Windows write them: IANA names (`Europe/Berlin`), Windows zone IDs as
//! `[TimeZoneInfo]::Local.Id` and `tzutil /g` print them (`W. Europe Standard Time`), and UTC offsets
//! (`+02:00`, `UTC+2`, `GMT-5`). Used by `--tz` and by stamp lines that carry a Windows zone ID (Clue).

use chrono_tz::Tz;

/// Windows time zone IDs and the IANA zone CLDR's `windowsZones.xml` maps each to (territory "001"),
/// every ID `tzutil /l` lists on a current Windows, plus "Coordinated Universal Time" (the display name some
/// scripts log). IANA names are parsed when looked up; a unit test checks every one exists in chrono-tz.
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("Dateline Standard Time", "Etc/GMT+12"),
    ("UTC-11", "Etc/GMT+11"),
    ("Aleutian Standard Time", "America/Adak"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Marquesas Standard Time", "Pacific/Marquesas"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("UTC-09", "Etc/GMT+9"),
    ("Pacific Standard Time (Mexico)", "America/Tijuana"),
    ("UTC-08", "Etc/GMT+8"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Mountain Standard Time (Mexico)", "America/Mazatlan"),
    ("Mountain Standard Time", "America/Denver"),
    ("Yukon Standard Time", "America/Whitehorse"),
    ("Central America Standard Time", "America/Guatemala"),
    ("Central Standard Time", "America/Chicago"),
    ("Easter Island Standard Time", "Pacific/Easter"),
    ("Central Standard Time (Mexico)", "America/Mexico_City"),
    ("Canada Central Standard Time", "America/Regina"),
    ("SA Pacific Standard Time", "America/Bogota"),
    ("Eastern Standard Time (Mexico)", "America/Cancun"),
    ("Eastern Standard Time", "America/New_York"),
    ("Haiti Standard Time", "America/Port-au-Prince"),
    ("Cuba Standard Time", "America/Havana"),
    ("US Eastern Standard Time", "America/Indiana/Indianapolis"),
    ("Turks And Caicos Standard Time", "America/Grand_Turk"),
    ("Paraguay Standard Time", "America/Asuncion"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("Venezuela Standard Time", "America/Caracas"),
    ("Central Brazilian Standard Time", "America/Cuiaba"),
    ("SA Western Standard Time", "America/La_Paz"),
    ("Pacific SA Standard Time", "America/Santiago"),
    ("Newfoundland Standard Time", "America/St_Johns"),
    ("Tocantins Standard Time", "America/Araguaina"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("SA Eastern Standard Time", "America/Cayenne"),
    ("Argentina Standard Time", "America/Argentina/Buenos_Aires"),
    ("Greenland Standard Time", "America/Nuuk"),
    ("Montevideo Standard Time", "America/Montevideo"),
    ("Magallanes Standard Time", "America/Punta_Arenas"),
    ("Saint Pierre Standard Time", "America/Miquelon"),
    ("Bahia Standard Time", "America/Bahia"),
    ("UTC-02", "Etc/GMT+2"),
    ("Mid-Atlantic Standard Time", "Etc/GMT+2"),
    ("Azores Standard Time", "Atlantic/Azores"),
    ("Cape Verde Standard Time", "Atlantic/Cape_Verde"),
    ("UTC", "Etc/UTC"),
    ("Coordinated Universal Time", "Etc/UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("Sao Tome Standard Time", "Africa/Sao_Tome"),
    ("Morocco Standard Time", "Africa/Casablanca"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("W. Central Africa Standard Time", "Africa/Lagos"),
    ("Jordan Standard Time", "Asia/Amman"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Middle East Standard Time", "Asia/Beirut"),
    ("Egypt Standard Time", "Africa/Cairo"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("Syria Standard Time", "Asia/Damascus"),
    ("West Bank Standard Time", "Asia/Hebron"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("South Sudan Standard Time", "Africa/Juba"),
    ("Kaliningrad Standard Time", "Europe/Kaliningrad"),
    ("Sudan Standard Time", "Africa/Khartoum"),
    ("Libya Standard Time", "Africa/Tripoli"),
    ("Namibia Standard Time", "Africa/Windhoek"),
    ("Arabic Standard Time", "Asia/Baghdad"),
    ("Turkey Standard Time", "Europe/Istanbul"),
    ("Arab Standard Time", "Asia/Riyadh"),
    ("Belarus Standard Time", "Europe/Minsk"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("E. Africa Standard Time", "Africa/Nairobi"),
    ("Volgograd Standard Time", "Europe/Volgograd"),
    ("Iran Standard Time", "Asia/Tehran"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("Astrakhan Standard Time", "Europe/Astrakhan"),
    ("Azerbaijan Standard Time", "Asia/Baku"),
    ("Russia Time Zone 3", "Europe/Samara"),
    ("Mauritius Standard Time", "Indian/Mauritius"),
    ("Saratov Standard Time", "Europe/Saratov"),
    ("Georgian Standard Time", "Asia/Tbilisi"),
    ("Caucasus Standard Time", "Asia/Yerevan"),
    ("Afghanistan Standard Time", "Asia/Kabul"),
    ("West Asia Standard Time", "Asia/Tashkent"),
    ("Ekaterinburg Standard Time", "Asia/Yekaterinburg"),
    ("Pakistan Standard Time", "Asia/Karachi"),
    ("Qyzylorda Standard Time", "Asia/Qyzylorda"),
    ("India Standard Time", "Asia/Kolkata"),
    ("Sri Lanka Standard Time", "Asia/Colombo"),
    ("Nepal Standard Time", "Asia/Kathmandu"),
    ("Central Asia Standard Time", "Asia/Almaty"),
    ("Bangladesh Standard Time", "Asia/Dhaka"),
    ("Omsk Standard Time", "Asia/Omsk"),
    ("Myanmar Standard Time", "Asia/Yangon"),
    ("SE Asia Standard Time", "Asia/Bangkok"),
    ("Altai Standard Time", "Asia/Barnaul"),
    ("W. Mongolia Standard Time", "Asia/Hovd"),
    ("North Asia Standard Time", "Asia/Krasnoyarsk"),
    ("N. Central Asia Standard Time", "Asia/Novosibirsk"),
    ("Tomsk Standard Time", "Asia/Tomsk"),
    ("China Standard Time", "Asia/Shanghai"),
    ("North Asia East Standard Time", "Asia/Irkutsk"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("W. Australia Standard Time", "Australia/Perth"),
    ("Taipei Standard Time", "Asia/Taipei"),
    ("Ulaanbaatar Standard Time", "Asia/Ulaanbaatar"),
    ("Aus Central W. Standard Time", "Australia/Eucla"),
    ("Transbaikal Standard Time", "Asia/Chita"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("North Korea Standard Time", "Asia/Pyongyang"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("Yakutsk Standard Time", "Asia/Yakutsk"),
    ("Cen. Australia Standard Time", "Australia/Adelaide"),
    ("AUS Central Standard Time", "Australia/Darwin"),
    ("E. Australia Standard Time", "Australia/Brisbane"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("West Pacific Standard Time", "Pacific/Port_Moresby"),
    ("Tasmania Standard Time", "Australia/Hobart"),
    ("Vladivostok Standard Time", "Asia/Vladivostok"),
    ("Lord Howe Standard Time", "Australia/Lord_Howe"),
    ("Bougainville Standard Time", "Pacific/Bougainville"),
    ("Russia Time Zone 10", "Asia/Srednekolymsk"),
    ("Magadan Standard Time", "Asia/Magadan"),
    ("Norfolk Standard Time", "Pacific/Norfolk"),
    ("Sakhalin Standard Time", "Asia/Sakhalin"),
    ("Central Pacific Standard Time", "Pacific/Guadalcanal"),
    ("Russia Time Zone 11", "Asia/Kamchatka"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("UTC+12", "Etc/GMT-12"),
    ("Fiji Standard Time", "Pacific/Fiji"),
    ("Kamchatka Standard Time", "Asia/Kamchatka"),
    ("Chatham Islands Standard Time", "Pacific/Chatham"),
    ("UTC+13", "Etc/GMT-13"),
    ("Tonga Standard Time", "Pacific/Tongatapu"),
    ("Samoa Standard Time", "Pacific/Apia"),
    ("Line Islands Standard Time", "Pacific/Kiritimati"),
];

/// Offsets that are not whole hours, each with a zone that has that offset all year and no DST (chrono-tz
/// has no fixed zones other than `Etc/GMT±N`).
const FRACTIONAL_OFFSETS: &[(i32, &str)] = &[
    (-9 * 60 - 30, "Pacific/Marquesas"),
    (3 * 60 + 30, "Asia/Tehran"),
    (4 * 60 + 30, "Asia/Kabul"),
    (5 * 60 + 30, "Asia/Kolkata"),
    (5 * 60 + 45, "Asia/Kathmandu"),
    (6 * 60 + 30, "Asia/Yangon"),
    (8 * 60 + 45, "Australia/Eucla"),
    (9 * 60 + 30, "Australia/Darwin"),
];

/// Maps a Windows time zone ID to its IANA zone (`Pacific Standard Time` → `America/Los_Angeles`); case and
/// surrounding spaces do not matter.
pub fn windows_zone(id: &str) -> Option<Tz> {
    let id = id.trim();
    WINDOWS_ZONES.iter().find(|(name, _)| name.eq_ignore_ascii_case(id)).and_then(|(_, iana)| iana.parse().ok())
}

/// Reads a UTC offset: `Z`, `+02:00`, `-0500`, `+5`, `UTC+2`, `GMT-05:00`, `UTC+05:30`. Whole hours become
/// `Etc/GMT∓N` (whose sign is POSIX's, the other way round); half and quarter hours a zone that has that
/// offset all year. `None` for anything else, and for offsets no zone has all year (`+03:15`).
pub fn offset_zone(text: &str) -> Option<Tz> {
    let text = text.trim();
    let upper = text.to_ascii_uppercase();
    let rest = upper.strip_prefix("UTC").or_else(|| upper.strip_prefix("GMT")).unwrap_or(&upper);
    let prefixed = rest.len() != upper.len();
    if rest.is_empty() {
        return prefixed.then_some(Tz::UTC);
    }
    if rest == "Z" {
        return (!prefixed).then_some(Tz::UTC);
    }
    let (sign, digits) = match rest.as_bytes()[0] {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    // Digits and one colon only: what follows splits by byte position.
    if !digits.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() > 2 => digits.split_at(digits.len() - 2),
        None => (digits, "0"),
    };
    let all_digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(hours) || !all_digits(minutes) {
        return None;
    }
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 14 || minutes > 59 {
        return None;
    }
    let total = sign * (hours * 60 + minutes);
    if minutes == 0 {
        if total == 0 {
            return Some(Tz::UTC);
        }
        // Etc/GMT-2 is two hours *ahead* of UTC.
        let name = format!("Etc/GMT{}{}", if total > 0 { '-' } else { '+' }, hours);
        return name.parse().ok();
    }
    FRACTIONAL_OFFSETS.iter().find(|(offset, _)| *offset == total).and_then(|(_, iana)| iana.parse().ok())
}

/// Reads a zone as `--tz` takes it: an IANA name, a Windows zone ID or a UTC offset. The error names a few
/// examples of each.
pub fn zone(text: &str) -> Result<Tz, UnknownZone> {
    text.trim()
        .parse::<Tz>()
        .ok()
        .or_else(|| windows_zone(text))
        .or_else(|| offset_zone(text))
        .ok_or_else(|| UnknownZone(text.to_owned()))
}

/// A zone name [`zone`] does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownZone(pub String);

impl std::fmt::Display for UnknownZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown time zone {:?}: give an IANA name (Europe/Berlin, America/New_York, Asia/Shanghai), a \
             Windows zone ID as `tzutil /g` prints it (W. Europe Standard Time, Pacific Standard Time, China \
             Standard Time) or a UTC offset (+02:00, UTC-5)",
            self.0
        )
    }
}

impl std::error::Error for UnknownZone {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_windows_zone_maps_to_a_known_iana_zone() {
        assert!(WINDOWS_ZONES.len() >= 135, "{}", WINDOWS_ZONES.len());
        for (id, iana) in WINDOWS_ZONES {
            assert!(iana.parse::<Tz>().is_ok(), "{id} -> {iana} is not in chrono-tz");
        }
        for (_, iana) in FRACTIONAL_OFFSETS {
            assert!(iana.parse::<Tz>().is_ok(), "{iana}");
        }
    }

    #[test]
    fn windows_ids_map_to_their_cldr_zones() {
        assert_eq!(windows_zone("W. Europe Standard Time"), Some(Tz::Europe__Berlin));
        assert_eq!(windows_zone("pacific standard time"), Some(Tz::America__Los_Angeles));
        assert_eq!(windows_zone("China Standard Time"), Some(Tz::Asia__Shanghai));
        assert_eq!(windows_zone(" Pacific Standard Time (Mexico) "), Some(Tz::America__Tijuana));
        assert_eq!(windows_zone("UTC-11"), Some(Tz::Etc__GMTPlus11));
        assert_eq!(windows_zone("Mars Standard Time"), None);
    }

    #[test]
    fn offsets_become_zones_with_that_offset() {
        assert_eq!(offset_zone("+02:00"), Some(Tz::Etc__GMTMinus2));
        assert_eq!(offset_zone("UTC+2"), Some(Tz::Etc__GMTMinus2));
        assert_eq!(offset_zone("GMT-05:00"), Some(Tz::Etc__GMTPlus5));
        assert_eq!(offset_zone("-0800"), Some(Tz::Etc__GMTPlus8));
        assert_eq!(offset_zone("utc"), Some(Tz::UTC));
        assert_eq!(offset_zone("Z"), Some(Tz::UTC));
        assert_eq!(offset_zone("+00:00"), Some(Tz::UTC));
        assert_eq!(offset_zone("+05:30"), Some(Tz::Asia__Kolkata));
        assert_eq!(offset_zone("UTC+0545"), Some(Tz::Asia__Kathmandu));
        assert_eq!(offset_zone("+03:15"), None);
        assert_eq!(offset_zone("+15"), None);
        assert_eq!(offset_zone("+2:7x"), None);
        assert_eq!(offset_zone("2"), None);
        assert_eq!(offset_zone(""), None);
        // Found by the timestamp fuzz target: a multi-byte character where the minutes would start.
        assert_eq!(offset_zone("+1\u{20ac}"), None);
        assert_eq!(offset_zone("UTC-0\u{fffd}"), None);
    }

    #[test]
    fn zone_reads_iana_windows_and_offsets_and_explains_unknown_names() {
        assert_eq!(zone("Europe/Berlin"), Ok(Tz::Europe__Berlin));
        assert_eq!(zone("W. Europe Standard Time"), Ok(Tz::Europe__Berlin));
        assert_eq!(zone("UTC+8"), Ok(Tz::Etc__GMTMinus8));
        let err = zone("Nowhere Time").unwrap_err().to_string();
        assert!(
            err.contains("\"Nowhere Time\"") && err.contains("W. Europe Standard Time") && err.contains("+02:00"),
            "{err}"
        );
    }
}
