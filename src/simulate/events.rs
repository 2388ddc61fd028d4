//! Simulated System-log events: one description ([`SimEvent`]), constructors for every event a
//! pool-leak post-mortem reads (events reference §1), and two writers that emit the same events the
//! way Windows does: [`to_wevtutil_xml`] (`wevtutil qe System /f:xml`) and [`write_evtx`] (a binary
//! `.evtx` file that both the evtx crate and python-evtx read back identically).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use poolscope::model::PoolType;
//! use poolscope::simulate::events::{to_wevtutil_xml, write_evtx, SimEvent};
//!
//! let t = Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap();
//! let events = vec![
//!     SimEvent::eventlog_started(t, 1, "SRV01"),
//!     SimEvent::pool_empty(t + chrono::Duration::hours(5), 2, "SRV01", PoolType::Paged),
//! ];
//! let xml = to_wevtutil_xml(&events);
//! assert!(xml.contains("<EventID Qualifiers='49152'>2020</EventID>"));
//! let evtx = write_evtx(&events);
//! assert_eq!(&evtx[..8], b"ElfFile\0");
//! assert_eq!(evtx.len(), 4096 + 65536);
//! ```

mod tree;
mod wevtutil;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::model::event::ResourceExhaustion;
use crate::model::PoolType;

pub use self::tree::sanitize_text;
pub use self::wevtutil::to_wevtutil_xml;
pub use crate::simulate::evtx::write_evtx;
pub(crate) use tree::{event_tree, filetime, Content, Element, Value};

/// The `System` channel every simulated event is logged to.
pub const SYSTEM_CHANNEL: &str = "System";

/// Keywords of a classic (non-manifest) event source: `0x80000000000000` ("Classic").
pub const CLASSIC_KEYWORDS: u64 = 0x0080_0000_0000_0000;

/// One simulated event-log record: the System header fields plus its data.
///
/// Text is written as given, except the characters [`sanitize_text`] replaces; an `Option` that is
/// `None` or an empty string leaves its attribute out, as Windows does. Records of one file should
/// carry record ids that rise by one, as Windows numbers them (readers walk a chunk up to its last id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimEvent {
    /// `Provider/@Name` (`EventLog`, `Srv`, `Microsoft-Windows-Kernel-Power`).
    pub provider: String,
    /// `Provider/@Guid` in braces and lower case, for manifest providers.
    pub provider_guid: Option<String>,
    /// `Provider/@EventSourceName`, which User32 carries.
    pub event_source_name: Option<String>,
    /// `EventID` (a `UInt16` in Windows; larger values are written as `UInt32`).
    pub event_id: u32,
    /// `EventID/@Qualifiers` of classic sources (32768 for `EventLog`, 49152 for Srv errors).
    pub qualifiers: Option<u16>,
    /// `Version`.
    pub version: u8,
    /// `Level`: 1 critical, 2 error, 3 warning, 4 information.
    pub level: u8,
    /// `Task`.
    pub task: u16,
    /// `Opcode`.
    pub opcode: u8,
    /// `Keywords`, rendered as lower-case hex without padding (`0x80000000000000`).
    pub keywords: u64,
    /// `TimeCreated/@SystemTime` and the record header's written time, in UTC; kept to 100 ns
    /// (FILETIME resolution), finer digits are dropped.
    pub time: DateTime<Utc>,
    /// `EventRecordID` and the record header's id.
    pub record_id: u64,
    /// `Computer`.
    pub computer: String,
    /// `Channel`.
    pub channel: String,
    /// `Security/@UserID` (a SID string such as `S-1-5-18`).
    pub user_sid: Option<String>,
    /// What follows `System`.
    pub payload: Payload,
}

/// The part of an event after `<System>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Payload {
    /// `EventData` with named (`<Data Name='x'>`) or unnamed (`<Data>`) values, in order.
    EventData(Vec<(Option<String>, String)>),
    /// `EventData` with `<Data>` values followed by `<Binary>` (upper-case hex), as classic sources
    /// (`EventLog`, Srv) write it. An empty `binary` writes no `<Binary>`.
    EventDataBinary {
        /// The `<Data>` values, named or unnamed, in order.
        data: Vec<(Option<String>, String)>,
        /// The binary data.
        binary: Vec<u8>,
    },
    /// `UserData/MemoryExhaustionInfo` of Resource-Exhaustion-Detector 2004, with all 3 + 3 tag
    /// slots and 6 process slots written as Windows does, empty ones included (events reference §1.1).
    ResourceExhaustion(ResourceExhaustion),
    /// Nothing after `System`.
    None,
}

const RED_PROVIDER: &str = "Microsoft-Windows-Resource-Exhaustion-Detector";
const RED_GUID: &str = "{9988748e-c2e8-4054-85f6-0c3e1cad2470}";
const KERNEL_POWER: &str = "Microsoft-Windows-Kernel-Power";
const KERNEL_POWER_GUID: &str = "{331c3b3a-2005-44c2-ac5e-77220c37d6b4}";
const KERNEL_GENERAL: &str = "Microsoft-Windows-Kernel-General";
const KERNEL_GENERAL_GUID: &str = "{a68ca8b7-004f-d7b6-a698-07e2de0f1f5d}";
const USER32_GUID: &str = "{b0aa8734-56f7-41cc-b2f4-de228e98b946}";
const LOCAL_SYSTEM: &str = "S-1-5-18";
/// The Windows build the simulated hosts run (Server 2022, as in the real sequence of events reference §1.3).
const BUILD: u32 = 20348;

fn named(pairs: &[(&str, String)]) -> Vec<(Option<String>, String)> {
    pairs.iter().map(|(k, v)| (Some((*k).to_owned()), v.clone())).collect()
}

fn unnamed(values: &[&str]) -> Vec<(Option<String>, String)> {
    values.iter().map(|v| (None, (*v).to_owned())).collect()
}

impl SimEvent {
    /// An event of a classic source (no provider GUID, "Classic" keywords) logged to `System`.
    fn classic(
        provider: &str,
        event_id: u32,
        qualifiers: u16,
        level: u8,
        time: DateTime<Utc>,
        record_id: u64,
        computer: &str,
    ) -> Self {
        SimEvent {
            provider: provider.to_owned(),
            provider_guid: None,
            event_source_name: None,
            event_id,
            qualifiers: Some(qualifiers),
            version: 0,
            level,
            task: 0,
            opcode: 0,
            keywords: CLASSIC_KEYWORDS,
            time,
            record_id,
            computer: computer.to_owned(),
            channel: SYSTEM_CHANNEL.to_owned(),
            user_sid: None,
            payload: Payload::None,
        }
    }

    /// An event of a manifest provider (GUID, no qualifiers) logged to `System`.
    #[allow(clippy::too_many_arguments)]
    fn manifest(
        provider: &str,
        guid: &str,
        event_id: u32,
        level: u8,
        task: u16,
        keywords: u64,
        time: DateTime<Utc>,
        record_id: u64,
        computer: &str,
    ) -> Self {
        SimEvent {
            provider_guid: Some(guid.to_owned()),
            qualifiers: None,
            task,
            keywords,
            ..Self::classic(provider, event_id, 0, level, time, record_id, computer)
        }
    }

    /// Resource-Exhaustion-Detector 2004, "Windows successfully diagnosed a low virtual memory
    /// condition" (events reference §1.1: Level 3, Task 3, Opcode 33, keywords 0x8000000020000000).
    pub fn resource_exhaustion(time: DateTime<Utc>, record_id: u64, computer: &str, info: &ResourceExhaustion) -> Self {
        SimEvent {
            opcode: 33,
            user_sid: Some(LOCAL_SYSTEM.to_owned()),
            payload: Payload::ResourceExhaustion(info.clone()),
            ..Self::manifest(RED_PROVIDER, RED_GUID, 2004, 3, 3, 0x8000_0000_2000_0000, time, record_id, computer)
        }
    }

    /// Srv 2019 (nonpaged) or 2020 (paged): "The server was unable to allocate from the system …
    /// pool because the pool was empty" (events reference §1.2: Qualifiers 49152, Level 2).
    ///
    /// The binary data is the `IO_ERROR_LOG_PACKET` of KB 312362 (`ErrorCode` 0xC00007E3/4, `FinalStatus`
    /// `STATUS_INSUFFICIENT_RESOURCES`); the one insertion string is the server's device name, which is
    /// an assumption (the reference marks its content unverified).
    pub fn pool_empty(time: DateTime<Utc>, record_id: u64, computer: &str, pool: PoolType) -> Self {
        let (event_id, error_code) = match pool {
            PoolType::Nonpaged => (2019, 0xC000_07E3u32),
            PoolType::Paged => (2020, 0xC000_07E4u32),
        };
        let packet: [u32; 11] = [0x0004_0000, 0x0054_0001, 0, error_code, 0, 0xC000_009A, 0, 0, 0, 0, 0x0000_000B];
        SimEvent {
            payload: Payload::EventDataBinary {
                data: unnamed(&["\\Device\\LanmanServer"]),
                binary: packet.iter().flat_map(|d| d.to_le_bytes()).collect(),
            },
            ..Self::classic("Srv", event_id, 0xC000, 2, time, record_id, computer)
        }
    }

    /// `EventLog` 6005, "The Event log service was started": a boot marker. Its binary data is the
    /// start time as a SYSTEMTIME (events reference §1.3).
    pub fn eventlog_started(time: DateTime<Utc>, record_id: u64, computer: &str) -> Self {
        SimEvent {
            payload: Payload::EventDataBinary { data: Vec::new(), binary: tree::systemtime_bytes(time) },
            ..Self::classic("EventLog", 6005, 0x8000, 4, time, record_id, computer)
        }
    }

    /// `EventLog` 6006, "The Event log service was stopped": a clean-shutdown marker.
    pub fn eventlog_stopped(time: DateTime<Utc>, record_id: u64, computer: &str) -> Self {
        SimEvent {
            payload: Payload::EventDataBinary { data: Vec::new(), binary: vec![1, 0, 0, 0, 0, 0, 0, 0] },
            ..Self::classic("EventLog", 6006, 0x8000, 4, time, record_id, computer)
        }
    }

    /// `EventLog` 6008, "The previous system shutdown at %1 on %2 was unexpected" (Level 2).
    /// `previous` is printed as an en-US host on UTC prints it: `2:41:02 AM` and `‎5/‎29/‎2023`, the
    /// date with a U+200E LEFT-TO-RIGHT MARK before each part, as Windows writes it (events
    /// reference §1.3). The binary data holds the time twice as SYSTEMTIME (local and UTC agree on UTC).
    pub fn unexpected_shutdown(time: DateTime<Utc>, record_id: u64, computer: &str, previous: DateTime<Utc>) -> Self {
        let clock = previous.format("%-I:%M:%S %p").to_string();
        let date = format!("\u{200e}{}/\u{200e}{}/\u{200e}{}", previous.month(), previous.day(), previous.year());
        let mut binary = tree::systemtime_bytes(previous);
        binary.extend(tree::systemtime_bytes(previous));
        SimEvent {
            payload: Payload::EventDataBinary { data: unnamed(&[&clock, &date, "", "", "", "", ""]), binary },
            ..Self::classic("EventLog", 6008, 0x8000, 2, time, record_id, computer)
        }
    }

    /// `EventLog` 6009, "Microsoft (R) Windows (R) %1 %2 %3 %4": the OS version logged at boot.
    pub fn os_version(time: DateTime<Utc>, record_id: u64, computer: &str, build: u32) -> Self {
        let build = build.to_string();
        SimEvent {
            payload: Payload::EventData(unnamed(&["10.00.", &build, "", "Multiprocessor Free", "0"])),
            ..Self::classic("EventLog", 6009, 0x8000, 4, time, record_id, computer)
        }
    }

    /// `EventLog` 6013, "The system uptime is %5 seconds" (the fifth value; the seventh is the time
    /// zone, UTC for simulated hosts). The binary OS strings Windows adds are left out.
    pub fn uptime(time: DateTime<Utc>, record_id: u64, computer: &str, seconds: u64) -> Self {
        let seconds = seconds.to_string();
        SimEvent {
            payload: Payload::EventData(unnamed(&["", "", "", "", &seconds, "60", "0 Coordinated Universal Time"])),
            ..Self::classic("EventLog", 6013, 0x8000, 4, time, record_id, computer)
        }
    }

    /// Kernel-Power 41, "The system has rebooted without cleanly shutting down first" (Version 8,
    /// Level 1, Task 63); `bugcheck_code` is printed in decimal (0 when the machine hung or lost power).
    pub fn kernel_power_41(time: DateTime<Utc>, record_id: u64, computer: &str, bugcheck_code: u32) -> Self {
        let zero = || "0".to_owned();
        let no = || "false".to_owned();
        let data = named(&[
            ("BugcheckCode", bugcheck_code.to_string()),
            ("BugcheckParameter1", "0x0".to_owned()),
            ("BugcheckParameter2", "0x0".to_owned()),
            ("BugcheckParameter3", "0x0".to_owned()),
            ("BugcheckParameter4", "0x0".to_owned()),
            ("SleepInProgress", zero()),
            ("PowerButtonTimestamp", zero()),
            ("BootAppStatus", zero()),
            ("Checkpoint", zero()),
            ("ConnectedStandbyInProgress", no()),
            ("SystemSleepTransitionsToOn", zero()),
            ("CsEntryScenarioInstanceId", zero()),
            ("BugcheckInfoFromEFI", no()),
            ("CheckpointStatus", zero()),
            ("CsEntryScenarioInstanceIdV2", zero()),
            ("LongPowerButtonPressDetected", no()),
        ]);
        SimEvent {
            version: 8,
            user_sid: Some(LOCAL_SYSTEM.to_owned()),
            payload: Payload::EventData(data),
            ..Self::manifest(
                KERNEL_POWER,
                KERNEL_POWER_GUID,
                41,
                1,
                63,
                0x8000_4000_0000_0002,
                time,
                record_id,
                computer,
            )
        }
    }

    /// Kernel-General 12, "The operating system started at system time %7" (`StartTime`, Task 1).
    pub fn kernel_general_12(time: DateTime<Utc>, record_id: u64, computer: &str, start_time: DateTime<Utc>) -> Self {
        let data = named(&[
            ("MajorVersion", "10".to_owned()),
            ("MinorVersion", "0".to_owned()),
            ("BuildVersion", BUILD.to_string()),
            ("QfeVersion", "1726".to_owned()),
            ("ServiceVersion", "0".to_owned()),
            ("BootMode", "0".to_owned()),
            ("StartTime", tree::system_time(start_time)),
        ]);
        SimEvent {
            user_sid: Some(LOCAL_SYSTEM.to_owned()),
            payload: Payload::EventData(data),
            ..Self::manifest(
                KERNEL_GENERAL,
                KERNEL_GENERAL_GUID,
                12,
                4,
                1,
                0x8000_0000_0000_0080,
                time,
                record_id,
                computer,
            )
        }
    }

    /// Kernel-General 13, "The operating system is shutting down at system time %1" (`StopTime`,
    /// the event's own time; Task 2).
    pub fn kernel_general_13(time: DateTime<Utc>, record_id: u64, computer: &str) -> Self {
        SimEvent {
            payload: Payload::EventData(named(&[("StopTime", tree::system_time(time))])),
            ..Self::manifest(
                KERNEL_GENERAL,
                KERNEL_GENERAL_GUID,
                13,
                4,
                2,
                0x8000_0000_0000_0080,
                time,
                record_id,
                computer,
            )
        }
    }

    /// User32 1074, "The process %1 has initiated the %5 of computer %2 on behalf of user %7 for the
    /// following reason: %3": a planned shutdown or restart. `process` is the image path (written
    /// as `path (COMPUTER)`), `reason` the reason text, `shutdown_type` `restart` or `power off`,
    /// `user` `DOMAIN\name`. The reason code is looked up for the common reason texts, else `0x0`.
    pub fn user32_1074(
        time: DateTime<Utc>,
        record_id: u64,
        computer: &str,
        process: &str,
        reason: &str,
        shutdown_type: &str,
        user: &str,
    ) -> Self {
        let data = named(&[
            ("param1", format!("{process} ({computer})")),
            ("param2", computer.to_owned()),
            ("param3", reason.to_owned()),
            ("param4", reason_code(reason).to_owned()),
            ("param5", shutdown_type.to_owned()),
            ("param6", String::new()),
            ("param7", user.to_owned()),
        ]);
        SimEvent {
            event_source_name: Some("User32".to_owned()),
            qualifiers: Some(0x8000),
            user_sid: Some(user_sid(computer, user)),
            payload: Payload::EventData(data),
            ..Self::manifest("User32", USER32_GUID, 1074, 4, 0, 0x8080_0000_0000_0000, time, record_id, computer)
        }
    }

    /// User32 1076, "The reason supplied by user %6 for the last unexpected shutdown of this
    /// computer is: %1" (Level 3), logged when someone explains a crash after the reboot.
    pub fn user32_1076(time: DateTime<Utc>, record_id: u64, computer: &str, reason: &str, user: &str) -> Self {
        let data = named(&[
            ("param1", reason.to_owned()),
            ("param2", reason_code(reason).to_owned()),
            ("param3", String::new()),
            ("param4", String::new()),
            ("param5", "\n".to_owned()),
            ("param6", user.to_owned()),
        ]);
        SimEvent {
            event_source_name: Some("User32".to_owned()),
            qualifiers: Some(0x8000),
            user_sid: Some(user_sid(computer, user)),
            payload: Payload::EventData(data),
            ..Self::manifest("User32", USER32_GUID, 1076, 3, 0, 0x8080_0000_0000_0000, time, record_id, computer)
        }
    }
}

/// The shutdown reason code Windows prints for a reason text (the standard reasons of the
/// shutdown dialog; `0x0` for anything else, which is also what Windows logs without a reason).
fn reason_code(reason: &str) -> &'static str {
    match reason {
        "Other (Planned)" => "0x85000000",
        "Other (Unplanned)" => "0xa000000",
        "Operating System: Upgrade (Planned)" => "0x80020003",
        "Operating System: Service pack (Planned)" => "0x80020010",
        "Operating System: Security fix (Unplanned)" => "0x80020012",
        "Application: Maintenance (Planned)" => "0x80040001",
        "Application: Unresponsive" => "0x40005",
        "Hardware: Maintenance (Planned)" => "0x80010001",
        _ => "0x0",
    }
}

/// The `Security/@UserID` of the user a User32 event names: `LocalSystem` for `SYSTEM`, else a
/// stable local-account SID derived from the host name (RID 500 for Administrator, 1000 otherwise).
fn user_sid(computer: &str, user: &str) -> String {
    let name = user.rsplit('\\').next().unwrap_or(user);
    if name.eq_ignore_ascii_case("SYSTEM") {
        return LOCAL_SYSTEM.to_owned();
    }
    // FNV-1a over the host name: the machine SID of a simulated host is the same in every file.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in computer.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let rid = if name.eq_ignore_ascii_case("Administrator") { 500 } else { 1000 };
    format!(
        "S-1-5-21-{}-{}-{}-{rid}",
        (h & 0x3fff_ffff) + 100_000_000,
        ((h >> 30) & 0x3fff_ffff) + 100_000_000,
        (h >> 60) * 100_000_000 + 400_000_000
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 5, 29, 2, 57, 41).unwrap()
    }

    fn data(e: &SimEvent) -> &[(Option<String>, String)] {
        match &e.payload {
            Payload::EventData(d) | Payload::EventDataBinary { data: d, .. } => d,
            _ => &[],
        }
    }

    #[test]
    fn unexpected_shutdown_has_marks_in_the_date() {
        let prev = Utc.with_ymd_and_hms(2023, 5, 29, 2, 41, 2).unwrap();
        let e = SimEvent::unexpected_shutdown(t(), 64649, "EC2AMAZ-NEUK2LF", prev);
        assert_eq!(data(&e)[0].1, "2:41:02 AM");
        assert_eq!(data(&e)[1].1, "\u{200e}5/\u{200e}29/\u{200e}2023");
        assert_eq!(data(&e).len(), 7);
        assert_eq!((e.level, e.qualifiers, e.event_id), (2, Some(32768), 6008));
    }

    #[test]
    fn pool_empty_ids_and_packet() {
        let e = SimEvent::pool_empty(t(), 1, "H", PoolType::Nonpaged);
        assert_eq!((e.provider.as_str(), e.event_id, e.qualifiers, e.level), ("Srv", 2019, Some(49152), 2));
        let Payload::EventDataBinary { binary, .. } = &e.payload else { panic!("binary payload") };
        assert_eq!(&binary[12..16], &0xC000_07E3u32.to_le_bytes());
        assert_eq!(SimEvent::pool_empty(t(), 1, "H", PoolType::Paged).event_id, 2020);
    }

    #[test]
    fn kernel_power_41_has_decimal_bugcheck() {
        let e = SimEvent::kernel_power_41(t(), 1, "H", 0x9F);
        assert_eq!(data(&e)[0], (Some("BugcheckCode".to_owned()), "159".to_owned()));
        assert_eq!(data(&e).len(), 16);
        assert_eq!((e.version, e.level, e.task, e.keywords), (8, 1, 63, 0x8000_4000_0000_0002));
    }

    #[test]
    fn user32_1074_fields() {
        let e = SimEvent::user32_1074(
            t(),
            1,
            "H1",
            "C:\\Windows\\system32\\shutdown.exe",
            "Other (Planned)",
            "restart",
            "H1\\Administrator",
        );
        assert_eq!(data(&e)[0].1, "C:\\Windows\\system32\\shutdown.exe (H1)");
        assert_eq!(data(&e)[3].1, "0x85000000");
        assert_eq!(data(&e)[4].1, "restart");
        assert!(e.user_sid.as_deref().unwrap().ends_with("-500"));
        assert_eq!(e.event_source_name.as_deref(), Some("User32"));
    }

    #[test]
    fn user_sid_is_stable_per_host() {
        assert_eq!(user_sid("A", "A\\bob"), user_sid("A", "A\\alice"));
        assert_ne!(user_sid("A", "A\\bob"), user_sid("B", "B\\bob"));
        assert_eq!(user_sid("A", "NT AUTHORITY\\SYSTEM"), "S-1-5-18");
    }

    #[test]
    fn kernel_general_start_time() {
        let start = Utc.with_ymd_and_hms(2023, 5, 29, 2, 57, 38).unwrap() + chrono::Duration::milliseconds(500);
        let e = SimEvent::kernel_general_12(t(), 1, "H", start);
        assert_eq!(data(&e)[6], (Some("StartTime".to_owned()), "2023-05-29T02:57:38.5000000Z".to_owned()));
        let e = SimEvent::kernel_general_13(t(), 2, "H");
        assert_eq!(data(&e)[0].1, "2023-05-29T02:57:41.0000000Z");
        assert_eq!(e.task, 2);
    }
}
