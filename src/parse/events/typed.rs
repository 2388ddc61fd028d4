//! What an event means for a pool-leak post-mortem, keyed on (provider, id): ids are reused across
//! providers (Microsoft-Windows-Setup writes a 2004 too; events reference §1.3), so the provider is always
//! part of the match. Values come from the event's data (EventData/UserData), never from its localized
//! message (§1.1: messages carry the locale's digit grouping).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::localtime::{self, LocalClock, LocalStamp};
use crate::model::event::{EventData, ExhaustedProcess, ResourceExhaustion, TagUsage};
use crate::model::{DateOrder, Event, EventKind, PoolType};

/// `Microsoft-Windows-Resource-Exhaustion-Detector` (§1.1).
pub const RESOURCE_EXHAUSTION_DETECTOR: &str = "Microsoft-Windows-Resource-Exhaustion-Detector";
/// The classic `Srv` source of 2019/2020 (§1.2).
pub const SRV: &str = "Srv";
/// The classic `EventLog` source of 6005/6006/6008/6009/6013 (§1.3).
pub const EVENT_LOG: &str = "EventLog";
/// `Microsoft-Windows-Kernel-Power` (41).
pub const KERNEL_POWER: &str = "Microsoft-Windows-Kernel-Power";
/// `Microsoft-Windows-Kernel-General` (12, 13).
pub const KERNEL_GENERAL: &str = "Microsoft-Windows-Kernel-General";
/// `User32` (1074, 1076).
pub const USER32: &str = "User32";

/// The providers this module types, by their short names (without `Microsoft-Windows-`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    ResourceExhaustionDetector,
    Srv,
    EventLog,
    KernelPower,
    KernelGeneral,
    User32,
    Other,
}

/// Which typed provider a name is. Exports may drop the `Microsoft-Windows-` prefix (Event Viewer's
/// Source column) or change case (`SRV` in KB text, lowercase GUID-era renderings), so both are ignored.
fn provider(name: &str) -> Provider {
    let name = name.trim();
    let short = match name.get(..18) {
        Some(prefix) if prefix.eq_ignore_ascii_case("Microsoft-Windows-") => &name[18..],
        _ => name,
    };
    let is = |s: &str| short.eq_ignore_ascii_case(s);
    if is("Resource-Exhaustion-Detector") {
        Provider::ResourceExhaustionDetector
    } else if is("Srv") {
        Provider::Srv
    } else if is("EventLog") {
        Provider::EventLog
    } else if is("Kernel-Power") {
        Provider::KernelPower
    } else if is("Kernel-General") {
        Provider::KernelGeneral
    } else if is("User32") {
        Provider::User32
    } else {
        Provider::Other
    }
}

/// The typed meaning of an event. `clock` reads 6008's localized previous-shutdown time in `--tz`.
pub fn classify(event: &Event, clock: &mut LocalClock<'_>) -> EventKind {
    let data = &event.data;
    match (provider(&event.provider), event.event_id) {
        (Provider::ResourceExhaustionDetector, 2004) => {
            EventKind::ResourceExhaustion(Box::new(resource_exhaustion(data)))
        }
        (Provider::Srv, 2019) => EventKind::PoolEmpty { pool: PoolType::Nonpaged },
        (Provider::Srv, 2020) => EventKind::PoolEmpty { pool: PoolType::Paged },
        (Provider::EventLog, 6005 | 6009) => EventKind::Boot { start_time: None },
        (Provider::KernelGeneral, 12) => {
            EventKind::Boot { start_time: text(data, "StartTime").and_then(|t| localtime::system_time(&t)) }
        }
        (Provider::EventLog, 6006) | (Provider::KernelGeneral, 13) => {
            EventKind::Shutdown { process: None, reason: None, shutdown_type: None, user: None }
        }
        (Provider::User32, 1074) => EventKind::Shutdown {
            process: text(data, "param1"),
            reason: text(data, "param3"),
            shutdown_type: text(data, "param5"),
            user: text(data, "param7"),
        },
        (Provider::EventLog, 6013) => match number(data, &["4"]) {
            Some(seconds) => EventKind::Uptime { seconds },
            // An export without event data (CSV, text) has no uptime to give.
            None => EventKind::Other,
        },
        (Provider::EventLog, 6008) => {
            let (previous_shutdown, previous_shutdown_at) = previous_shutdown(data, event.time, clock);
            EventKind::Crash { previous_shutdown, previous_shutdown_at, bugcheck_code: None, reason: None, user: None }
        }
        (Provider::KernelPower, 41) => EventKind::Crash {
            previous_shutdown: None,
            previous_shutdown_at: None,
            bugcheck_code: number(data, &["BugcheckCode"]),
            reason: None,
            user: None,
        },
        (Provider::User32, 1076) => EventKind::Crash {
            previous_shutdown: None,
            previous_shutdown_at: None,
            bugcheck_code: None,
            reason: text(data, "param1"),
            user: text(data, "param6"),
        },
        _ => EventKind::Other,
    }
}

/// A data value, trimmed; `None` when absent or blank.
fn text(data: &EventData, key: &str) -> Option<String> {
    let v = data.get(key)?.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// A data value as written (pool tags keep their trailing spaces, `Ntf `); `None` when absent or blank.
fn raw(data: &EventData, key: &str) -> Option<String> {
    let v = data.get(key)?.trim_matches('\0');
    (!v.trim().is_empty()).then(|| v.to_owned())
}

/// The first of `keys` that holds a number: decimal as the manifests' `UInt` types render, or `0x` hex.
fn number(data: &EventData, keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|k| {
        let v = data.get(k)?.trim();
        match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => v.parse().ok(),
        }
    })
}

/// A FILETIME rendered as ISO UTC; the empty slot's `1601-01-01T00:00:00` means "none".
fn filetime(data: &EventData, keys: &[&str]) -> Option<DateTime<Utc>> {
    let t = keys.iter().find_map(|k| data.get(k).and_then(localtime::system_time))?;
    (t.timestamp() > -11_644_473_600).then_some(t)
}

/// Resource-Exhaustion-Detector 2004, from `UserData/MemoryExhaustionInfo` (§1.1). Keys are the element
/// paths below `MemoryExhaustionInfo` (`SystemInfo/SystemCommitLimit`); the manifest's flat template
/// names (`SystemCommitLimit`, `PagedPoolTag_1`) are accepted too, for renderings that use them.
pub fn resource_exhaustion(data: &EventData) -> ResourceExhaustion {
    let sys = |name: &str| number(data, &[&format!("SystemInfo/{name}"), name]);
    let tags = |pool: &str| -> Vec<TagUsage> {
        (1..=3)
            .filter_map(|i| {
                let tag = raw(data, &format!("{pool}PoolInfo/Tag_{i}/Name"))
                    .or_else(|| raw(data, &format!("{pool}PoolTag_{i}")))?;
                let bytes =
                    number(data, &[&format!("{pool}PoolInfo/Tag_{i}/PoolUsed"), &format!("{pool}PoolUsed_{i}")])?;
                Some(TagUsage { tag, bytes })
            })
            .collect()
    };
    let processes = (1..=6)
        .filter_map(|i| {
            let key = |field: &str| format!("ProcessInfo/Process_{i}/{field}");
            let name = raw(data, &key("Name"))?;
            let commit_charge = number(data, &[&key("CommitCharge")])?;
            // Unused slots are still written, with an empty name and zero commit (§1.1).
            if commit_charge == 0 {
                return None;
            }
            Some(ExhaustedProcess {
                name,
                pid: number(data, &[&key("ID")]).and_then(|p| u32::try_from(p).ok()).unwrap_or(0),
                created_at: filetime(data, &[&key("CreationTime")]),
                commit_charge,
                handle_count: number(data, &[&key("HandleCount")]).unwrap_or(0),
            })
        })
        .collect();
    ResourceExhaustion {
        commit_limit: sys("SystemCommitLimit"),
        commit_charge: sys("SystemCommitCharge"),
        process_commit_charge: sys("ProcessCommitCharge"),
        paged_pool_usage: sys("PagedPoolUsage"),
        nonpaged_pool_usage: sys("NonPagedPoolUsage"),
        physical_memory_size: sys("PhysicalMemorySize"),
        physical_memory_usage: sys("PhysicalMemoryUsage"),
        process_count: sys("Processes").or_else(|| number(data, &["TotalProcesses"])),
        paged_tags: tags("Paged"),
        nonpaged_tags: tags("NonPaged"),
        processes,
        detected_at: filetime(data, &["ExhaustionEventInfo/Time", "EventGenerationTime"]),
    }
}

/// 6008's previous-shutdown time: Data[0] is the localized time, Data[1] the localized date with hidden
/// U+200E marks (§1.3). Returns the printed text (marks stripped, date first) and the time it names, read
/// in `--tz`. The day/month order is `--date-order` when given; otherwise the reading closest before the
/// event itself (the previous shutdown precedes the 6008 that reports it). When the strings cannot be read
/// (a mangled AM/PM marker), the binary data's two SYSTEMTIMEs are used if they agree (then the machine
/// ran on UTC and they are exact; which one is local when they differ is unverified).
fn previous_shutdown(
    data: &EventData,
    logged_at: DateTime<Utc>,
    clock: &mut LocalClock<'_>,
) -> (Option<String>, Option<DateTime<Utc>>) {
    let time = data.get("0").map(|t| localtime::strip_marks(t).trim().to_owned()).unwrap_or_default();
    let date = data.get("1").map(|d| localtime::strip_marks(d).trim().to_owned()).unwrap_or_default();
    let printed = match (date.is_empty(), time.is_empty()) {
        (true, true) => None,
        (false, true) => Some(date.clone()),
        (true, false) => Some(time.clone()),
        (false, false) => Some(format!("{date} {time}")),
    };
    let parsed = printed.as_deref().and_then(LocalStamp::parse).and_then(|stamp| {
        if !stamp.is_ambiguous() || clock.has_forced_order() {
            return clock.to_utc(&stamp);
        }
        let candidates: Vec<DateTime<Utc>> = [DateOrder::Mdy, DateOrder::Dmy]
            .into_iter()
            .filter_map(|order| stamp.naive(order))
            .filter_map(|naive| clock.local_to_utc(naive))
            .collect();
        // Allow a day of slack for a zone the user did not give.
        let slack = chrono::TimeDelta::days(1);
        candidates.iter().copied().filter(|t| *t <= logged_at + slack).max().or_else(|| candidates.first().copied())
    });
    let at = parsed.or_else(|| data.get("Binary").and_then(binary_systemtimes));
    (printed, at)
}

/// The two SYSTEMTIMEs at the start of 6008's binary data, when they are equal.
fn binary_systemtimes(hex: &str) -> Option<DateTime<Utc>> {
    let hex = hex.trim();
    let bytes: Vec<u8> =
        (0..hex.len() / 2).map_while(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()).collect();
    if bytes.len() < 32 || bytes[..16] != bytes[16..32] {
        return None;
    }
    let w = |i: usize| u32::from(u16::from_le_bytes([bytes[2 * i], bytes[2 * i + 1]]));
    let date = NaiveDate::from_ymd_opt(i32::try_from(w(0)).ok()?, w(1), w(3))?;
    let time = NaiveTime::from_hms_milli_opt(w(4), w(5), w(6), w(7))?;
    Some(DateTime::from_naive_utc_and_offset(NaiveDateTime::new(date, time), Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SourceRef, TimeSettings};

    fn event(provider: &str, id: u32, data: &[(&str, &str)]) -> Event {
        Event {
            source: SourceRef::default(),
            provider: provider.to_owned(),
            event_id: id,
            level: None,
            time: DateTime::parse_from_rfc3339("2023-05-29T02:57:41Z").unwrap().with_timezone(&Utc),
            computer: None,
            channel: None,
            record_id: None,
            data: data.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            message: None,
            kind: EventKind::Other,
        }
    }

    fn kind(e: &Event) -> EventKind {
        let settings = TimeSettings::default();
        let mut clock = LocalClock::new(&settings);
        classify(e, &mut clock)
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn red_2004_reads_userdata_and_skips_empty_slots() {
        let e = event(
            RESOURCE_EXHAUSTION_DETECTOR,
            2004,
            &[
                ("SystemInfo/SystemCommitLimit", "28285681664"),
                ("SystemInfo/SystemCommitCharge", "28097462272"),
                ("SystemInfo/Processes", "402"),
                ("PagedPoolInfo/Tag_1/Name", "Toke"),
                ("PagedPoolInfo/Tag_1/PoolUsed", "2300000000"),
                ("NonPagedPoolInfo/Tag_1/Name", "smNp"),
                ("NonPagedPoolInfo/Tag_1/PoolUsed", "64679936"),
                ("ProcessInfo/Process_1/Name", "lsass.exe"),
                ("ProcessInfo/Process_1/ID", "612"),
                ("ProcessInfo/Process_1/CreationTime", "2023-12-20T00:02:42.6501123Z"),
                ("ProcessInfo/Process_1/CommitCharge", "3685900288"),
                ("ProcessInfo/Process_1/HandleCount", "359617"),
                ("ProcessInfo/Process_2/Name", ""),
                ("ProcessInfo/Process_2/CommitCharge", "0"),
                ("ProcessInfo/Process_3/Name", "ghost.exe"),
                ("ProcessInfo/Process_3/CommitCharge", "0"),
                ("ExhaustionEventInfo/Time", "2023-12-27T11:17:17.1659321Z"),
            ],
        );
        let EventKind::ResourceExhaustion(re) = kind(&e) else { panic!("not typed") };
        assert_eq!(re.commit_limit, Some(28_285_681_664));
        assert_eq!(re.commit_charge, Some(28_097_462_272));
        assert_eq!(re.process_count, Some(402));
        assert_eq!(re.paged_tags, vec![TagUsage { tag: "Toke".into(), bytes: 2_300_000_000 }]);
        assert_eq!(re.nonpaged_tags.len(), 1);
        assert_eq!(re.processes.len(), 1);
        assert_eq!(re.processes[0].pid, 612);
        assert_eq!(re.processes[0].handle_count, 359_617);
        assert_eq!(re.processes[0].created_at, Some(utc("2023-12-20T00:02:42.6501123Z")));
        assert_eq!(re.detected_at, Some(utc("2023-12-27T11:17:17.1659321Z")));
    }

    #[test]
    fn setup_2004_is_not_exhaustion() {
        assert_eq!(kind(&event("Microsoft-Windows-Setup", 2004, &[])), EventKind::Other);
    }

    #[test]
    fn srv_2019_is_nonpaged_and_2020_paged() {
        assert_eq!(kind(&event("Srv", 2019, &[])), EventKind::PoolEmpty { pool: PoolType::Nonpaged });
        assert_eq!(kind(&event("SRV", 2020, &[])), EventKind::PoolEmpty { pool: PoolType::Paged });
        assert_eq!(kind(&event("Srv", 2018, &[])), EventKind::Other);
    }

    #[test]
    fn eventlog_6005_and_6009_are_boots_6006_a_shutdown() {
        assert_eq!(kind(&event("EventLog", 6005, &[])), EventKind::Boot { start_time: None });
        assert_eq!(kind(&event("EventLog", 6009, &[("0", "10.00.")])), EventKind::Boot { start_time: None });
        assert!(matches!(kind(&event("EventLog", 6006, &[])), EventKind::Shutdown { process: None, .. }));
    }

    #[test]
    fn kernel_general_12_carries_start_time_and_13_is_a_shutdown() {
        let e = event(KERNEL_GENERAL, 12, &[("StartTime", "2023-05-29T02:57:37.500000000Z")]);
        assert_eq!(kind(&e), EventKind::Boot { start_time: Some(utc("2023-05-29T02:57:37.5Z")) });
        assert!(matches!(kind(&event("Kernel-General", 13, &[])), EventKind::Shutdown { .. }));
    }

    #[test]
    fn uptime_6013_is_data_4_in_seconds() {
        let e = event("EventLog", 6013, &[("4", "1165"), ("5", "60"), ("6", "0 Coordinated Universal Time")]);
        assert_eq!(kind(&e), EventKind::Uptime { seconds: 1165 });
        assert_eq!(kind(&event("EventLog", 6013, &[])), EventKind::Other);
    }

    #[test]
    fn kernel_power_41_bugcheck_code_is_decimal() {
        let e = event(KERNEL_POWER, 41, &[("BugcheckCode", "159"), ("BugcheckParameter1", "0x3")]);
        assert!(matches!(kind(&e), EventKind::Crash { bugcheck_code: Some(159), .. }));
    }

    #[test]
    fn user32_1074_names_process_reason_type_and_user() {
        let e = event(
            USER32,
            1074,
            &[
                ("param1", "C:\\Windows\\system32\\shutdown.exe (HOST)"),
                ("param3", "Other (Planned)"),
                ("param5", "restart"),
                ("param6", ""),
                ("param7", "HOST\\admin"),
            ],
        );
        assert_eq!(
            kind(&e),
            EventKind::Shutdown {
                process: Some("C:\\Windows\\system32\\shutdown.exe (HOST)".into()),
                reason: Some("Other (Planned)".into()),
                shutdown_type: Some("restart".into()),
                user: Some("HOST\\admin".into()),
            }
        );
    }

    #[test]
    fn user32_1076_is_a_crash_with_reason_and_user() {
        let e = event(
            USER32,
            1076,
            &[("param1", "Other (Unplanned)"), ("param5", "\n"), ("param6", "HOST\\Administrator")],
        );
        assert!(matches!(
            kind(&e),
            EventKind::Crash { reason: Some(r), user: Some(u), .. } if r == "Other (Unplanned)" && u == "HOST\\Administrator"
        ));
    }

    #[test]
    fn eventlog_6008_strips_marks_and_reads_the_time() {
        let e = event("EventLog", 6008, &[("0", "2:41:02 AM"), ("1", "\u{200e}5/\u{200e}29/\u{200e}2023"), ("2", "")]);
        let EventKind::Crash { previous_shutdown, previous_shutdown_at, .. } = kind(&e) else { panic!() };
        assert_eq!(previous_shutdown.as_deref(), Some("5/29/2023 2:41:02 AM"));
        assert_eq!(previous_shutdown_at, Some(utc("2023-05-29T02:41:02Z")));
    }

    #[test]
    fn eventlog_6008_ambiguous_date_takes_the_reading_before_the_event() {
        // 5/6 as month-first is May 6; day-first is June 5, after the event of May 29: not it.
        let e = event("EventLog", 6008, &[("0", "10:00:00"), ("1", "6/5/2023")]);
        let EventKind::Crash { previous_shutdown_at, .. } = kind(&e) else { panic!() };
        assert_eq!(previous_shutdown_at, Some(utc("2023-05-06T10:00:00Z")));
    }

    #[test]
    fn eventlog_6008_mangled_strings_fall_back_to_equal_systemtimes() {
        let binary = "E707050001001D00020029000200B803E707050001001D00020029000200B8033C000000";
        let e =
            event("EventLog", 6008, &[("0", "\u{fffd}\u{fffd} 2:41:02"), ("1", "?2023-?05-?29"), ("Binary", binary)]);
        let EventKind::Crash { previous_shutdown, previous_shutdown_at, .. } = kind(&e) else { panic!() };
        assert_eq!(previous_shutdown.as_deref(), Some("2023-05-29 \u{fffd}\u{fffd} 2:41:02"));
        assert_eq!(previous_shutdown_at, Some(utc("2023-05-29T02:41:02.952Z")));
    }

    #[test]
    fn provider_prefix_and_case_are_ignored_but_ids_are_not() {
        assert!(matches!(kind(&event("Resource-Exhaustion-Detector", 2004, &[])), EventKind::ResourceExhaustion(_)));
        assert_eq!(kind(&event("Microsoft-Windows-Resource-Exhaustion-Resolver", 2004, &[])), EventKind::Other);
        assert_eq!(kind(&event("EventLog", 41, &[])), EventKind::Other);
    }
}
