//! Event logs (`poolscope::parse::events`): every export format and every typed event from the fixtures
//! in `fixtures/events/`, the real samples in `../shared/samples/` (skipped with a note when absent),
//! damaged and arbitrary input (no panic, no hang), a round trip through the simulated EVTX writer,
//! and the `poolscope events` command as a user runs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::Command;
use chrono::{DateTime, TimeZone, Utc};
use poolscope::model::event::{ExhaustedProcess, ResourceExhaustion, TagUsage};
use poolscope::model::{DateOrder, Diagnostic, Event, EventKind, PoolType, Severity, TimeSettings};
use poolscope::parse::{self, FileContext, Format, Parsed};
use poolscope::simulate::events::{to_wevtutil_xml, write_evtx, SimEvent};
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/events").join(name)
}

/// A real sample, or `None` (with a note) when `../shared/samples` is not there.
fn sample(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples").join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("note: {} not present, test skipped", path.display());
        None
    }
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn settings(tz: chrono_tz::Tz) -> TimeSettings {
    TimeSettings { tz, tz_given: true, ..TimeSettings::default() }
}

fn read(path: &Path, time: &TimeSettings) -> Parsed {
    let bytes = std::fs::read(path).unwrap();
    let format = Format::detect(&bytes);
    assert!(
        matches!(format, Some(Format::Evtx | Format::EventXml | Format::EventCsv | Format::EventText)),
        "{} detected as {format:?}",
        path.display()
    );
    parse::parse_file(path, None, time, None)
}

fn errors(diags: &[Diagnostic]) -> Vec<&Diagnostic> {
    diags.iter().filter(|d| d.severity == Severity::Error).collect()
}

fn kind_name(k: &EventKind) -> &'static str {
    match k {
        EventKind::ResourceExhaustion(_) => "resource_exhaustion",
        EventKind::PoolEmpty { .. } => "pool_empty",
        EventKind::Boot { .. } => "boot",
        EventKind::Uptime { .. } => "uptime",
        EventKind::Shutdown { .. } => "shutdown",
        EventKind::Crash { .. } => "crash",
        EventKind::Other => "other",
    }
}

/// (provider, id, kind) in the order read (which is time order).
fn summary(events: &[Event]) -> Vec<(String, u32, &'static str)> {
    events.iter().map(|e| (e.provider.clone(), e.event_id, kind_name(&e.kind))).collect()
}

fn exhaustion(e: &Event) -> &ResourceExhaustion {
    match &e.kind {
        EventKind::ResourceExhaustion(re) => re,
        other => panic!("not a 2004: {other:?}"),
    }
}

/// The 2004 event every fixture of the simulated-looking incident carries (SRV-APP01, a `Toke` leak).
fn assert_fixture_2004(re: &ResourceExhaustion) {
    assert_eq!(re.commit_limit, Some(34_359_738_368));
    assert_eq!(re.commit_charge, Some(34_231_451_648));
    assert_eq!(re.process_commit_charge, Some(9_663_676_416));
    assert_eq!(re.paged_pool_usage, Some(3_221_225_472));
    assert_eq!(re.nonpaged_pool_usage, Some(402_653_184));
    assert_eq!(re.physical_memory_size, Some(17_179_869_184));
    assert_eq!(re.physical_memory_usage, Some(16_642_998_272));
    assert_eq!(re.process_count, Some(187));
    let tag = |t: &str, b| TagUsage { tag: t.to_owned(), bytes: b };
    assert_eq!(re.paged_tags, vec![tag("Toke", 2_469_396_480), tag("MmSt", 104_857_600), tag("CM31", 62_914_560)]);
    assert_eq!(re.nonpaged_tags, vec![tag("Even", 41_943_040), tag("File", 33_554_432), tag("Thre", 25_165_824)]);
    // Process_5 and Process_6 are empty slots.
    let names: Vec<&str> = re.processes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["sqlservr.exe", "lsass.exe", "w3wp.exe", "svchost.exe"]);
    assert_eq!(
        re.processes[1],
        ExhaustedProcess {
            name: "lsass.exe".into(),
            pid: 640,
            created_at: Some(utc("2024-03-04T08:01:25.1234567Z")),
            commit_charge: 2_147_483_648,
            handle_count: 1_394_724,
        }
    );
    assert_eq!(re.detected_at, Some(utc("2024-03-08T03:05:10.9876543Z")));
}

// ---------------------------------------------------------------------------------------------
// Fixtures: one per export format and typed event.

#[test]
fn wevtutil_f_xml_2004_without_root_single_quotes() {
    let parsed = read(&fixture("wevtutil_qe_f_xml_2004.xml"), &TimeSettings::default());
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(parsed.events.len(), 1);
    let e = &parsed.events[0];
    assert_eq!((e.event_id, e.level, e.record_id), (2004, Some(3), Some(1190)));
    assert_eq!(e.time, utc("2024-03-08T03:05:12.4567891Z"));
    assert_eq!(e.computer.as_deref(), Some("SRV-APP01"));
    assert_eq!(e.channel.as_deref(), Some("System"));
    assert_eq!(e.source.line, Some(1));
    assert_fixture_2004(exhaustion(e));
    // Every UserData leaf is kept under its path: 8 system + 2x3x2 tags + 6x7 process fields + time.
    assert_eq!(e.data.len(), 8 + 12 + 42 + 1);
}

#[test]
fn wevtutil_rendered_xml_keeps_messages_but_types_from_data() {
    let parsed = read(&fixture("wevtutil_renderedxml.xml"), &TimeSettings::default());
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(
        summary(&parsed.events),
        [
            ("EventLog".into(), 6013, "uptime"),
            ("Microsoft-Windows-Resource-Exhaustion-Detector".into(), 2004, "resource_exhaustion"),
            ("Microsoft-Windows-Kernel-Power".into(), 41, "crash"),
        ]
    );
    let e = &parsed.events[1];
    // The message's digit grouping is never read: the figures come from UserData.
    assert!(e.message.as_deref().unwrap().contains("4,294,967,296 bytes"));
    assert_fixture_2004(exhaustion(e));
    assert_eq!(parsed.events[0].kind, EventKind::Uptime { seconds: 14_330 });
}

#[test]
fn event_viewer_save_as_xml_with_nine_digit_times() {
    let parsed = read(&fixture("eventviewer_save_as_xml_9_digits.xml"), &TimeSettings::default());
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let times: Vec<DateTime<Utc>> = parsed.events.iter().map(|e| e.time).collect();
    assert_eq!(
        times,
        [utc("2024-03-04T08:00:01Z"), utc("2024-03-07T22:40:41.7500000Z"), utc("2024-03-08T03:05:12.4567891Z")]
    );
    assert_eq!(
        summary(&parsed.events).into_iter().map(|(_, id, k)| (id, k)).collect::<Vec<_>>(),
        [(6006, "shutdown"), (2020, "pool_empty"), (2004, "resource_exhaustion")]
    );
    assert_eq!(parsed.events[1].kind, EventKind::PoolEmpty { pool: PoolType::Paged });
    assert_eq!(parsed.events[0].message.as_deref(), Some("The Event log service was stopped."));
    assert_eq!(parsed.events[2].computer.as_deref(), Some("SRV-APP01.contoso.local"));
    assert_fixture_2004(exhaustion(&parsed.events[2]));
    assert_eq!(parsed.events[2].source.line, Some(2));
}

#[test]
fn copy_details_as_text_takes_the_xml_after_event_xml() {
    let parsed = read(&fixture("copy_details_as_text_2004.txt"), &TimeSettings::default());
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(parsed.events.len(), 1);
    let e = &parsed.events[0];
    assert_eq!(e.source.line, Some(19));
    assert!(e.message.as_deref().unwrap().contains("lsass.exe (640) consumed 2147483648 bytes"));
    assert_fixture_2004(exhaustion(e));
}

#[test]
fn boot_and_crash_markers_are_typed_and_sorted_by_their_own_time() {
    let parsed =
        read(&fixture("boot_markers_6005_6006_6008_6009_6013_41_12_13_1074_1076.xml"), &settings(chrono_tz::UTC));
    let ev = &parsed.events;
    let got: Vec<(u32, &str, Option<u64>)> = ev.iter().map(|e| (e.event_id, kind_name(&e.kind), e.record_id)).collect();
    assert_eq!(
        got,
        [
            (1074, "shutdown", Some(1001)),
            (6006, "shutdown", Some(1002)),
            (13, "shutdown", Some(1003)),
            (12, "boot", Some(1004)),
            (6009, "boot", Some(1005)),
            (6005, "boot", Some(1006)),
            (6013, "uptime", Some(1010)),
            (12, "boot", Some(1210)),
            // Kernel-Power 41 has a higher record id than the 6008 logged after it.
            (41, "crash", Some(1214)),
            (6008, "crash", Some(1211)),
            (6009, "boot", Some(1212)),
            (6005, "boot", Some(1213)),
            (1076, "crash", Some(1230)),
        ]
    );
    assert_eq!(
        ev[0].kind,
        EventKind::Shutdown {
            process: Some("C:\\Windows\\system32\\winlogon.exe (SRV-APP01)".into()),
            reason: Some("No title for this reason could be found".into()),
            shutdown_type: Some("restart".into()),
            user: Some("NT AUTHORITY\\SYSTEM".into()),
        }
    );
    assert_eq!(ev[3].kind, EventKind::Boot { start_time: Some(utc("2024-03-04T08:01:09.5Z")) });
    assert_eq!(ev[6].kind, EventKind::Uptime { seconds: 14_330 });
    assert!(matches!(ev[8].kind, EventKind::Crash { bugcheck_code: Some(0), .. }));
    assert_eq!(
        ev[9].kind,
        EventKind::Crash {
            previous_shutdown: Some("3/7/2024 11:42:17 PM".into()),
            previous_shutdown_at: Some(utc("2024-03-07T23:42:17Z")),
            bugcheck_code: None,
            reason: None,
            user: None,
        }
    );
    assert!(matches!(
        &ev[12].kind,
        EventKind::Crash { reason: Some(r), user: Some(u), .. } if r == "Other (Unplanned)" && u == "SRV-APP01\\Administrator"
    ));
    // The 6008 time was read in the zone the user gave: said once, as info.
    assert_eq!(parsed.diagnostics.len(), 1, "{:?}", parsed.diagnostics);
    assert_eq!(parsed.diagnostics[0].severity, Severity::Info);
}

#[test]
fn srv_2019_is_nonpaged_and_2020_paged() {
    let parsed = read(&fixture("srv_2019_2020.xml"), &TimeSettings::default());
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let kinds: Vec<&EventKind> = parsed.events.iter().map(|e| &e.kind).collect();
    assert_eq!(
        kinds,
        [
            &EventKind::PoolEmpty { pool: PoolType::Nonpaged },
            &EventKind::PoolEmpty { pool: PoolType::Paged },
            &EventKind::PoolEmpty { pool: PoolType::Paged }
        ]
    );
    let e = &parsed.events[1];
    assert_eq!(e.data.get("0"), Some("\\Device\\LanmanServer"));
    // The IO_ERROR_LOG_PACKET: ErrorCode 0xC00007E4 and STATUS_INSUFFICIENT_RESOURCES (reference §1.2).
    let binary = e.data.get("Binary").unwrap();
    assert!(binary.contains("E40700C0") && binary.contains("9A0000C0"), "{binary}");
}

#[test]
fn setup_2004_is_not_exhaustion() {
    let parsed = read(&fixture("setup_2004_is_not_exhaustion.xml"), &TimeSettings::default());
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(parsed.events.len(), 2);
    assert!(parsed.events.iter().all(|e| e.event_id == 2004 && e.kind == EventKind::Other));
    assert_eq!(parsed.events[0].data.get("OSbuildversion"), Some("20348"));
}

/// (id, kind, level, time, line) of an Event Viewer CSV row.
type CsvRow<'a> = (u32, &'a str, Option<u8>, DateTime<Utc>, Option<u64>);

#[test]
fn event_viewer_csv_newest_first_local_times() {
    let chicago = settings(chrono_tz::America::Chicago);
    let parsed = read(&fixture("eventviewer_save_as_csv_newest_first.csv"), &chicago);
    let ev = &parsed.events;
    assert_eq!(ev.len(), 7, "{:?}", parsed.diagnostics);
    let got: Vec<CsvRow<'_>> =
        ev.iter().map(|e| (e.event_id, kind_name(&e.kind), e.level, e.time, e.source.line)).collect();
    assert_eq!(
        got,
        [
            (6005, "boot", Some(4), utc("2024-03-04T08:01:20Z"), Some(19)),
            // No event data in a CSV: the uptime is unknown, so 6013 stays generic.
            (6013, "other", Some(4), utc("2024-03-04T12:00:00Z"), Some(18)),
            (2020, "pool_empty", Some(2), utc("2024-03-07T23:12:09Z"), Some(17)),
            (2004, "resource_exhaustion", Some(3), utc("2024-03-08T03:05:12Z"), Some(10)),
            (41, "crash", Some(1), utc("2024-03-08T03:15:47Z"), Some(9)),
            (6008, "crash", Some(2), utc("2024-03-08T03:15:52Z"), Some(8)),
            (1076, "crash", Some(3), utc("2024-03-08T03:20:05Z"), Some(2)),
        ]
    );
    assert_eq!(*exhaustion(&ev[3]), ResourceExhaustion::default());
    assert!(ev[3].message.as_deref().unwrap().contains("\n\nlsass.exe (640) consumed"));
    let messages: Vec<&str> = parsed.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(parsed.diagnostics.len(), 3, "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("without event data")));
    assert!(messages.iter().any(|m| m.contains("America/Chicago")));
    assert!(messages.iter().any(|m| m.contains("day/month order")));
    // With the order given, nothing is assumed.
    let mdy = TimeSettings { date_order: Some(DateOrder::Mdy), ..chicago };
    let again = read(&fixture("eventviewer_save_as_csv_newest_first.csv"), &mdy);
    assert_eq!(again.diagnostics.len(), 2, "{:?}", again.diagnostics);
}

#[test]
fn event_viewer_save_as_text_tab_delimited() {
    let parsed = read(&fixture("eventviewer_save_as_text_tab.txt"), &TimeSettings::default());
    let ids: Vec<u32> = parsed.events.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, [2020, 2004, 41, 6008]);
    // No --tz: local times read as UTC, with a warning.
    assert_eq!(parsed.events[3].time, utc("2024-03-07T21:15:52Z"));
    assert!(parsed.diagnostics.iter().any(|d| d.severity == Severity::Warning && d.message.contains("as UTC")));
    assert!(errors(&parsed.diagnostics).is_empty());
}

/// (id, record id, level, time) of a Get-WinEvent row.
type WinEventRow = (u32, Option<u64>, Option<u8>, DateTime<Utc>);

#[test]
fn get_winevent_export_csv_with_type_line() {
    let parsed = read(&fixture("get_winevent_export_csv.csv"), &settings(chrono_tz::America::Chicago));
    let got: Vec<WinEventRow> = parsed.events.iter().map(|e| (e.event_id, e.record_id, e.level, e.time)).collect();
    assert_eq!(
        got,
        [
            (2004, Some(1190), Some(3), utc("2024-03-08T03:05:12Z")),
            (41, Some(1214), Some(1), utc("2024-03-08T03:15:47Z")),
            (6008, Some(1211), Some(2), utc("2024-03-08T03:15:52Z")),
            (1076, Some(1230), Some(3), utc("2024-03-08T03:20:05Z")),
        ]
    );
    assert!(parsed
        .events
        .iter()
        .all(|e| e.computer.as_deref() == Some("SRV-APP01") && e.channel.as_deref() == Some("System")));
    assert!(errors(&parsed.diagnostics).is_empty(), "{:?}", parsed.diagnostics);
}

#[test]
fn wevtutil_f_text_iso_dates_local_and_utc() {
    let parsed = read(&fixture("wevtutil_f_text_iso_dates.txt"), &settings(chrono_tz::America::Chicago));
    let got: Vec<(u32, &str, DateTime<Utc>)> =
        parsed.events.iter().map(|e| (e.event_id, kind_name(&e.kind), e.time)).collect();
    assert_eq!(
        got,
        [
            // `2024-03-04T02:01:20.000` has no zone: read in --tz.
            (6009, "boot", utc("2024-03-04T08:01:20Z")),
            (6005, "boot", utc("2024-03-04T08:01:20Z")),
            (2004, "resource_exhaustion", utc("2024-03-08T03:05:12.4567891Z")),
            // `...Z` is UTC whatever --tz says.
            (41, "crash", utc("2024-03-08T03:15:47Z")),
        ]
    );
    assert!(parsed.events[3].message.as_deref().unwrap().starts_with("The system has rebooted"));
    assert_eq!(parsed.events[0].source.line, Some(1));
    assert_eq!(parsed.events[3].source.line, Some(31));
}

#[test]
fn wevtutil_f_text_locale_dates() {
    let parsed = read(&fixture("wevtutil_f_text_us_dates.txt"), &settings(chrono_tz::America::Chicago));
    let got: Vec<(u32, DateTime<Utc>)> = parsed.events.iter().map(|e| (e.event_id, e.time)).collect();
    assert_eq!(
        got,
        [(2020, utc("2024-03-07T23:12:09Z")), (6008, utc("2024-03-08T03:15:52Z")), (1076, utc("2024-03-08T03:20:05Z"))]
    );
    assert!(parsed.events[2].message.as_deref().unwrap().contains("\n Reason Code: 0xa000000"));
}

#[test]
fn ingest_files_events_under_the_short_computer_name() {
    let time = TimeSettings::default();
    let options = poolscope::ingest::IngestOptions { time, ..Default::default() };
    let dataset = poolscope::ingest::ingest(&[fixture("eventviewer_save_as_xml_9_digits.xml")], &options, &|_| {});
    assert_eq!(dataset.hosts.keys().collect::<Vec<_>>(), ["SRV-APP01"]);
}

// ---------------------------------------------------------------------------------------------
// Real samples (../shared/samples), counted independently of this crate's XML reading.

/// Counts of (provider, id) in an event list.
fn tally(events: &[Event]) -> BTreeMap<(String, u32), usize> {
    let mut t = BTreeMap::new();
    for e in events {
        *t.entry((e.provider.clone(), e.event_id)).or_insert(0) += 1;
    }
    t
}

/// The evtx crate's own rendering of a file: (provider, id) per record found by plain string search,
/// and the record count. Independent of `parse::events::xml`.
fn crate_tally(path: &Path) -> (usize, BTreeMap<(String, u32), usize>) {
    let mut parser = evtx::EvtxParser::from_path(path).unwrap();
    let mut t = BTreeMap::new();
    let mut n = 0;
    for r in parser.records().flatten() {
        n += 1;
        let provider = r.data.split("<Provider Name=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_owned();
        let id_text = r
            .data
            .split("<EventID")
            .nth(1)
            .and_then(|s| s.split('>').nth(1))
            .and_then(|s| s.split('<').next())
            .unwrap();
        *t.entry((provider, id_text.parse::<u32>().unwrap())).or_insert(0) += 1;
    }
    (n, t)
}

/// The events a `*.rendered.xml` file next to a sample lists: (record id, provider, id, `SystemTime`).
fn rendered_selection(path: &Path) -> Vec<(u64, String, u32, DateTime<Utc>)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("<Event xmlns")
        .skip(1)
        .map(|block| {
            let between = |a: &str, b: &str| block.split(a).nth(1).and_then(|s| s.split(b).next()).unwrap().to_owned();
            let id: u32 = between("<EventID", "</EventID>").rsplit('>').next().unwrap().parse().unwrap();
            (
                between("<EventRecordID>", "</EventRecordID>").parse().unwrap(),
                between("<Provider Name=\"", "\""),
                id,
                utc(&between("SystemTime=\"", "\"")),
            )
        })
        .collect()
}

fn count(t: &BTreeMap<(String, u32), usize>, provider: &str, id: u32) -> usize {
    t.get(&(provider.to_owned(), id)).copied().unwrap_or(0)
}

fn assert_selection_found(events: &[Event], selection: &[(u64, String, u32, DateTime<Utc>)]) {
    assert!(!selection.is_empty());
    for (rec, provider, id, time) in selection {
        let found = events.iter().find(|e| e.record_id == Some(*rec)).unwrap_or_else(|| panic!("record {rec} missing"));
        assert_eq!((&found.provider, found.event_id, found.time), (provider, *id, *time), "record {rec}");
    }
}

#[test]
fn sample_evtx_repo_system() {
    let (Some(path), Some(rendered)) =
        (sample("evtx/evtx-repo_system.evtx"), sample("evtx/evtx-repo_system_selected_events.rendered.xml"))
    else {
        return;
    };
    let parsed = read(&path, &TimeSettings::default());
    assert!(errors(&parsed.diagnostics).is_empty(), "{:?}", parsed.diagnostics);
    let (records, crate_counts) = crate_tally(&path);
    assert_eq!(parsed.events.len(), records);
    assert_eq!(tally(&parsed.events), crate_counts);
    let t = tally(&parsed.events);
    // Reference §3's tally.
    for (provider, id, n) in [
        ("EventLog", 6005, 3),
        ("EventLog", 6006, 2),
        ("EventLog", 6009, 3),
        ("EventLog", 6011, 1),
        ("EventLog", 6013, 23),
        ("Microsoft-Windows-Kernel-General", 12, 3),
        ("Microsoft-Windows-Kernel-General", 13, 2),
        ("User32", 1074, 2),
        ("Microsoft-Windows-Setup", 2004, 1),
    ] {
        assert_eq!(count(&t, provider, id), n, "{provider} {id}");
    }
    let kinds = |k: &str| parsed.events.iter().filter(|e| kind_name(&e.kind) == k).count();
    assert_eq!(kinds("boot"), 9);
    assert_eq!(kinds("shutdown"), 6);
    assert_eq!(kinds("uptime"), 23);
    assert_eq!(kinds("crash") + kinds("resource_exhaustion") + kinds("pool_empty"), 0);
    assert_selection_found(&parsed.events, &rendered_selection(&rendered));
    assert!(parsed.events.windows(2).all(|w| w[0].time <= w[1].time));
    // 6013 record 177: "The system uptime is 46 seconds"? The data value, whatever it is, is the uptime.
    let uptime = parsed.events.iter().find(|e| e.record_id == Some(177)).unwrap();
    let EventKind::Uptime { seconds } = uptime.kind else { panic!("{:?}", uptime.kind) };
    assert_eq!(Some(seconds.to_string()), uptime.data.get("4").map(str::to_owned));
}

#[test]
fn sample_evtx_repo_vss_system() {
    let Some(path) = sample("evtx/evtx-repo_2-vss_7-System.evtx") else { return };
    let parsed = read(&path, &TimeSettings::default());
    let (records, crate_counts) = crate_tally(&path);
    assert_eq!(parsed.events.len(), records);
    assert_eq!(tally(&parsed.events), crate_counts);
    let t = tally(&parsed.events);
    for (provider, id, n) in
        [("EventLog", 6005, 3), ("EventLog", 6006, 2), ("EventLog", 6009, 3), ("EventLog", 6013, 33)]
    {
        assert_eq!(count(&t, provider, id), n, "{provider} {id}");
    }
    assert!(count(&t, "Microsoft-Windows-Kernel-Power", 109) >= 1);
}

#[test]
fn sample_anotherc0ne_crash_sequence() {
    let (Some(path), Some(rendered)) = (
        sample("evtx/anotherc0ne_System_chunks10-11_DERIVED.evtx"),
        sample("evtx/anotherc0ne_System_chunks10-11_selected_events.rendered.xml"),
    ) else {
        return;
    };
    let parsed = read(&path, &TimeSettings::default());
    assert!(errors(&parsed.diagnostics).is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(parsed.events.len(), 359);
    let (records, crate_counts) = crate_tally(&path);
    assert_eq!(records, 359);
    assert_eq!(tally(&parsed.events), crate_counts);
    let t = tally(&parsed.events);
    assert_eq!(count(&t, "Microsoft-Windows-Kernel-Power", 41), 1);
    assert_eq!(count(&t, "EventLog", 6008), 1);
    assert_eq!(count(&t, "User32", 1076), 1);
    assert_eq!(count(&t, "Microsoft-Windows-Kernel-General", 12), 2);
    assert_selection_found(&parsed.events, &rendered_selection(&rendered));

    let pos = |id: u32| parsed.events.iter().position(|e| e.event_id == id).unwrap();
    // Sorted by time: KP41 (record 64666) comes before 6008 (record 64649).
    assert!(pos(41) < pos(6008));
    let kp41 = &parsed.events[pos(41)];
    assert!(matches!(kp41.kind, EventKind::Crash { bugcheck_code: Some(0), .. }));
    let e6008 = &parsed.events[pos(6008)];
    let EventKind::Crash { previous_shutdown, previous_shutdown_at, .. } = &e6008.kind else { panic!() };
    assert_eq!(previous_shutdown.as_deref(), Some("5/29/2023 2:41:02 AM"));
    assert_eq!(*previous_shutdown_at, Some(utc("2023-05-29T02:41:02Z")));
    let e1076 = &parsed.events[pos(1076)];
    assert!(matches!(
        &e1076.kind,
        EventKind::Crash { reason: Some(r), user: Some(u), .. } if r == "Other (Unplanned)" && u == "EC2AMAZ-NEUK2LF\\Administrator"
    ));
}

#[test]
fn sample_mta_evtx_matches_its_event_viewer_csv() {
    let (Some(evtx), Some(csv)) =
        (sample("evtx/evtx-repo_mta_test.evtx"), sample("exports/evtx-repo_mta_test.EventViewer-SaveAsCSV.csv"))
    else {
        return;
    };
    let from_evtx = read(&evtx, &TimeSettings::default());
    // The CSV was saved on a machine at UTC-8 (reference §2.4): 12/9/2025 5:37:32 PM is 2025-12-10T01:37:32Z.
    let from_csv = read(&csv, &settings(chrono_tz::America::Los_Angeles));
    assert_eq!(from_csv.events.len(), 239);
    assert_eq!(from_evtx.events.len(), from_csv.events.len());
    let key = |e: &Event| (e.event_id, e.time.timestamp());
    let mut a: Vec<_> = from_evtx.events.iter().map(key).collect();
    let mut b: Vec<_> = from_csv.events.iter().map(key).collect();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    assert!(from_csv.events.iter().any(|e| e.time == utc("2025-12-10T01:37:32Z")));
}

#[test]
fn sample_resource_exhaustion_operational_logs() {
    if let Some(path) = sample("evtx/fukusuket_Resource-Exhaustion-Detector%4Operational.evtx") {
        let parsed = read(&path, &TimeSettings::default());
        assert!(!parsed.events.is_empty());
        assert!(parsed.events.iter().all(|e| e.provider == "Microsoft-Windows-Resource-Exhaustion-Detector"));
        // The Operational channel holds 1001/1002..., never the System channel's 2004.
        assert!(parsed.events.iter().all(|e| e.kind == EventKind::Other && e.event_id != 2004));
    }
    if let Some(path) = sample("evtx/fukusuket_Resource-Exhaustion-Resolver%4Operational.evtx") {
        let parsed = read(&path, &TimeSettings::default());
        let e1014 = parsed.events.iter().find(|e| e.event_id == 1014).expect("a 1014");
        for key in ["ProcessImageName", "ProcessId", "ProcessCreationTime", "DropReasonCode"] {
            assert!(e1014.data.contains_key(key), "{key} in {:?}", e1014.data);
        }
    }
}

#[test]
fn sample_copy_details_2004_win11() {
    let Some(path) = sample("exports/RED2004_EventViewer-CopyDetailsAsText_len20_Win11-22621.txt") else { return };
    let parsed = read(&path, &TimeSettings::default());
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(parsed.events.len(), 1);
    let e = &parsed.events[0];
    assert_eq!((e.record_id, e.computer.as_deref()), (Some(85281), Some("len20")));
    let re = exhaustion(e);
    assert_eq!(re.commit_limit, Some(28_285_681_664));
    assert_eq!(re.paged_pool_usage, Some(843_325_440));
    assert_eq!(re.nonpaged_pool_usage, Some(732_229_632));
    assert_eq!(re.process_count, Some(402));
    let tags = |v: &[TagUsage]| v.iter().map(|t| (t.tag.clone(), t.bytes)).collect::<Vec<_>>();
    assert_eq!(
        tags(&re.paged_tags),
        [("Gpbm".into(), 75_059_936), ("MmSt".into(), 48_371_392), ("FMfn".into(), 31_035_120)]
    );
    assert_eq!(
        tags(&re.nonpaged_tags),
        [("smNp".into(), 64_679_936), ("EtwB".into(), 54_911_232), ("ConT".into(), 47_378_432)]
    );
    assert_eq!(re.processes.len(), 6);
    assert_eq!(
        (
            re.processes[0].name.as_str(),
            re.processes[0].pid,
            re.processes[0].commit_charge,
            re.processes[0].handle_count
        ),
        ("explorer.exe", 30876, 3_685_900_288, 359_617)
    );
    assert_eq!(re.detected_at, Some(utc("2023-12-27T11:17:17.1659321Z")));
    assert_eq!(e.time, utc("2023-12-27T11:17:15.5785479Z"));
}

#[test]
fn sample_wevtutil_capture_with_mangled_strings() {
    let Some(path) = sample("exports/wevtutil_qe_f-xml_fixtures_DESKTOP-T8J1GNM.xml") else { return };
    let parsed = read(&path, &TimeSettings::default());
    assert!(errors(&parsed.diagnostics).is_empty(), "{:?}", parsed.diagnostics);
    let ids: Vec<u32> = parsed.events.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, [2004, 1074, 41, 6008]);
    let re = exhaustion(&parsed.events[0]);
    // The capture's tag blocks were cut by its author; Process_4 is an empty slot.
    assert!(re.paged_tags.is_empty() && re.nonpaged_tags.is_empty());
    assert_eq!(
        re.processes.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["warp.exe", "python.exe", "vmmemWSL"]
    );
    assert_eq!(re.commit_limit, Some(136_749_981_696));
    // 6008's AM/PM marker was mangled by the console code page: kept as printed, not guessed.
    let EventKind::Crash { previous_shutdown, previous_shutdown_at, .. } = &parsed.events[3].kind else { panic!() };
    assert!(previous_shutdown.as_deref().unwrap().starts_with("2026-09-03 "));
    assert_eq!(*previous_shutdown_at, None);
}

#[test]
fn sample_event_viewer_xml_french() {
    let Some(path) = sample("exports/EventViewer-SaveAsXML_fr-FR_DNS4013.xml") else { return };
    let parsed = read(&path, &TimeSettings::default());
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(parsed.events.len(), 1);
    let e = &parsed.events[0];
    assert_eq!((e.event_id, e.channel.as_deref()), (4013, Some("DNS Server")));
    assert!(e.message.as_deref().unwrap().starts_with("Le serveur DNS attend"));
}

// ---------------------------------------------------------------------------------------------
// Damaged and arbitrary input: no panic, no hang.

/// Runs `f` on another thread and fails the test when it takes longer than `limit` (a hang) or panics.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("did not finish within {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("panicked"),
    }
}

fn parse_events(bytes: &[u8], format: Format) -> (Vec<Event>, Vec<Diagnostic>) {
    let ctx = FileContext { path: "damaged".into(), ..FileContext::default() };
    poolscope::parse::events::parse(bytes, format, &ctx)
}

/// A multi-chunk log from the simulated writer (always available, unlike the samples).
fn simulated_log(n: u64) -> (Vec<SimEvent>, Vec<u8>) {
    let events = round_trip_events(n);
    let bytes = write_evtx(&events);
    (events, bytes)
}

/// The real log when present, else the simulated one.
fn some_log() -> Vec<u8> {
    sample("evtx/evtx-repo_system.evtx").map_or_else(|| simulated_log(3000).1, |p| std::fs::read(p).unwrap())
}

#[test]
fn cut_evtx_keeps_the_records_before_the_cut() {
    let (_, bytes) = simulated_log(3000);
    assert!(bytes.len() > 4096 + 3 * 65536, "need several chunks");
    let (all, _) = parse_events(&bytes, Format::Evtx);
    // Cut in the middle of the third chunk.
    let cut = 4096 + 2 * 65536 + 30_000;
    let (events, diags) = within(Duration::from_secs(60), move || parse_events(&bytes[..cut], Format::Evtx));
    assert!(
        diags.iter().any(|d| d.message.contains("file ends inside chunk 2") && d.offset == Some(4096 + 2 * 65536)),
        "{diags:?}"
    );
    let first_two = all.iter().filter(|e| e.source.offset.unwrap() < 4096 + 2 * 65536).count();
    assert!(events.len() > first_two, "records of the cut chunk before the cut are read");
    let by_offset: BTreeMap<u64, &Event> = all.iter().map(|e| (e.source.offset.unwrap(), e)).collect();
    for e in &events {
        assert!(e.source.offset.unwrap() < cut as u64);
        assert_eq!(by_offset[&e.source.offset.unwrap()], e, "a cut never changes a record");
    }
}

#[test]
fn corrupt_chunk_magic_skips_that_chunk_only() {
    let (_, mut bytes) = simulated_log(3000);
    let (all, _) = parse_events(&bytes, Format::Evtx);
    let chunk1 = 4096 + 65536;
    bytes[chunk1..chunk1 + 8].copy_from_slice(b"XXXXXXXX");
    let (events, diags) = within(Duration::from_secs(60), move || parse_events(&bytes, Format::Evtx));
    assert!(
        diags
            .iter()
            .any(|d| d.severity == Severity::Error && d.offset == Some(chunk1 as u64) && d.message.contains("chunk")),
        "{diags:?}"
    );
    let in_chunk1 =
        all.iter().filter(|e| (chunk1..chunk1 + 65536).contains(&(e.source.offset.unwrap() as usize))).count();
    assert_eq!(events.len(), all.len() - in_chunk1);
}

#[test]
fn flipped_bytes_in_a_chunk_never_panic_or_hang() {
    let original = some_log();
    let chunks = (original.len() - 4096) / 65536;
    for seed in 0..24u64 {
        let mut bytes = original.clone();
        // A small deterministic scramble inside one chunk (headers, string tables, records).
        let chunk = 4096 + (seed as usize % chunks) * 65536;
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for _ in 0..(4 + seed * 8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = chunk + (x as usize % 65536);
            bytes[at] ^= (x >> 32) as u8 | 1;
        }
        let (events, diags) = within(Duration::from_secs(60), move || parse_events(&bytes, Format::Evtx));
        assert!(!events.is_empty() || !diags.is_empty());
    }
}

#[test]
fn dirty_header_is_read_with_an_info() {
    let (_, mut bytes) = simulated_log(10);
    bytes[120..124].copy_from_slice(&1u32.to_le_bytes());
    let (events, diags) = parse_events(&bytes, Format::Evtx);
    assert_eq!(events.len(), 10);
    assert!(diags.iter().any(|d| d.severity == Severity::Info && d.message.contains("dirty")), "{diags:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        for format in [Format::Evtx, Format::EventXml, Format::EventCsv, Format::EventText] {
            let _ = parse_events(&bytes, format);
        }
    }

    #[test]
    fn arbitrary_chunk_after_a_valid_header_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..70_000)) {
        let (_, log) = simulated_log(1);
        let mut bytes = log[..4096].to_vec();
        bytes.extend_from_slice(b"ElfChnk\0");
        bytes.extend_from_slice(&tail);
        let _ = within(Duration::from_secs(30), move || parse_events(&bytes, Format::Evtx));
    }

    #[test]
    fn cut_at_any_length_never_panics(cut in 0usize..(4096 + 2 * 65536)) {
        let (_, log) = simulated_log(800);
        let bytes = log[..cut.min(log.len())].to_vec();
        let (events, _) = within(Duration::from_secs(30), move || parse_events(&bytes, Format::Evtx));
        prop_assert!(events.len() <= 800);
    }

    #[test]
    fn cut_xml_export_keeps_whole_events(cut in 0usize..9460) {
        let text = std::fs::read(fixture("boot_markers_6005_6006_6008_6009_6013_41_12_13_1074_1076.xml")).unwrap();
        let bytes = text[..cut.min(text.len())].to_vec();
        let (events, _) = parse_events(&bytes, Format::EventXml);
        prop_assert!(events.len() <= 13);
    }

    #[test]
    fn arbitrary_text_in_export_shapes_never_panics(body in "[ -~\\t\\r\\n\u{200e}\u{fffd}\"<>&;,]{0,400}") {
        for prefix in ["Level,Date and Time,Source,Event ID,Task Category\r\n", "Event[0]:\r\n  Date: ", "<Events><Event><System>", "Event Xml:\n<Event>"] {
            for format in [Format::EventXml, Format::EventCsv, Format::EventText] {
                let _ = parse_events(format!("{prefix}{body}").as_bytes(), format);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Round trip through the simulated writers (src/simulate): typed values survive.

fn round_trip_events(n: u64) -> Vec<SimEvent> {
    let base = Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap();
    (1..=n)
        .map(|id| {
            let t =
                base + chrono::Duration::seconds(13 * id as i64) + chrono::Duration::nanoseconds(id as i64 % 10 * 100);
            match id % 12 {
                0 => SimEvent::resource_exhaustion(t, id, "SRV01", &exhaustion_info(id)),
                1 => SimEvent::pool_empty(t, id, "SRV01", PoolType::Nonpaged),
                2 => SimEvent::pool_empty(t, id, "SRV01", PoolType::Paged),
                3 => SimEvent::eventlog_started(t, id, "SRV01"),
                4 => SimEvent::eventlog_stopped(t, id, "SRV01"),
                5 => SimEvent::unexpected_shutdown(t, id, "SRV01", base + chrono::Duration::seconds(id as i64)),
                6 => SimEvent::os_version(t, id, "SRV01", 20348),
                7 => SimEvent::uptime(t, id, "SRV01", id * 61),
                8 => SimEvent::kernel_power_41(t, id, "SRV01", 0x9F),
                9 => SimEvent::kernel_general_12(t, id, "SRV01", t - chrono::Duration::milliseconds(700)),
                10 => SimEvent::user32_1074(
                    t,
                    id,
                    "SRV01",
                    "C:\\Windows\\system32\\shutdown.exe",
                    "Other (Planned)",
                    "restart",
                    "SRV01\\ops",
                ),
                _ => SimEvent::user32_1076(t, id, "SRV01", "Other (Unplanned)", "SRV01\\ops"),
            }
        })
        .collect()
}

fn exhaustion_info(i: u64) -> ResourceExhaustion {
    let base = Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap();
    ResourceExhaustion {
        commit_limit: Some(34_359_738_368 + i),
        commit_charge: Some(34_231_451_648),
        process_commit_charge: Some(9_663_676_416),
        paged_pool_usage: Some(3_221_225_472),
        nonpaged_pool_usage: Some(402_653_184),
        physical_memory_size: Some(17_179_869_184),
        physical_memory_usage: Some(16_642_998_272),
        process_count: Some(187),
        paged_tags: vec![
            TagUsage { tag: "Toke".into(), bytes: 2_469_396_480 + i },
            TagUsage { tag: "Ntf ".into(), bytes: 1024 },
        ],
        nonpaged_tags: vec![TagUsage { tag: "Even".into(), bytes: 41_943_040 }],
        processes: (0..(i % 7) as u32)
            .map(|k| ExhaustedProcess {
                name: format!("proc{k}.exe"),
                pid: 600 + k,
                created_at: Some(
                    base - chrono::Duration::hours(i64::from(k)) + chrono::Duration::nanoseconds(1_234_500),
                ),
                commit_charge: 1_000_000 * u64::from(k + 1),
                handle_count: 1_394_724 + u64::from(k),
            })
            .collect(),
        detected_at: Some(base + chrono::Duration::milliseconds(1_400)),
    }
}

/// The typed meaning a simulated event must come back with.
fn expected_kind(e: &SimEvent) -> EventKind {
    use poolscope::simulate::events::Payload;
    match (e.event_id, &e.payload) {
        (2004, Payload::ResourceExhaustion(info)) => EventKind::ResourceExhaustion(Box::new(info.clone())),
        (2019, _) => EventKind::PoolEmpty { pool: PoolType::Nonpaged },
        (2020, _) => EventKind::PoolEmpty { pool: PoolType::Paged },
        (6005 | 6009, _) => EventKind::Boot { start_time: None },
        (6006 | 13, _) => EventKind::Shutdown { process: None, reason: None, shutdown_type: None, user: None },
        (12, _) => EventKind::Boot { start_time: Some(e.time - chrono::Duration::milliseconds(700)) },
        (6013, _) => EventKind::Uptime { seconds: e.record_id * 61 },
        (41, _) => EventKind::Crash {
            previous_shutdown: None,
            previous_shutdown_at: None,
            bugcheck_code: Some(0x9F),
            reason: None,
            user: None,
        },
        (1074, _) => EventKind::Shutdown {
            process: Some("C:\\Windows\\system32\\shutdown.exe (SRV01)".into()),
            reason: Some("Other (Planned)".into()),
            shutdown_type: Some("restart".into()),
            user: Some("SRV01\\ops".into()),
        },
        (1076, _) => EventKind::Crash {
            previous_shutdown: None,
            previous_shutdown_at: None,
            bugcheck_code: None,
            reason: Some("Other (Unplanned)".into()),
            user: Some("SRV01\\ops".into()),
        },
        (6008, _) => {
            let base = Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap();
            let previous = base + chrono::Duration::seconds(e.record_id as i64);
            EventKind::Crash {
                previous_shutdown: Some(previous.format("%-m/%-d/%Y %-I:%M:%S %p").to_string()),
                previous_shutdown_at: Some(previous),
                bugcheck_code: None,
                reason: None,
                user: None,
            }
        }
        other => panic!("unexpected simulated event {other:?}"),
    }
}

fn assert_round_trip(sim: &[SimEvent], events: &[Event]) {
    assert_eq!(events.len(), sim.len());
    for (s, e) in sim.iter().zip(events) {
        assert_eq!(
            (e.record_id, e.event_id, e.time),
            (Some(s.record_id), s.event_id, s.time),
            "record {}",
            s.record_id
        );
        assert_eq!(e.provider, s.provider);
        assert_eq!(e.computer.as_deref(), Some(s.computer.as_str()));
        assert_eq!(e.kind, expected_kind(s), "record {}", s.record_id);
    }
}

#[test]
fn simulated_evtx_round_trips_typed_values() {
    let (sim, bytes) = simulated_log(2400);
    assert!(bytes.len() > 4096 + 65536, "several chunks");
    let ctx = FileContext { path: "sim.evtx".into(), time: settings(chrono_tz::UTC), ..FileContext::default() };
    let (events, diags) = poolscope::parse::events::parse(&bytes, Format::Evtx, &ctx);
    assert!(errors(&diags).is_empty(), "{diags:?}");
    assert_round_trip(&sim, &events);
}

#[test]
fn simulated_wevtutil_xml_round_trips_typed_values() {
    let sim = round_trip_events(240);
    let xml = to_wevtutil_xml(&sim);
    let ctx = FileContext { path: "sim.xml".into(), time: settings(chrono_tz::UTC), ..FileContext::default() };
    let (events, diags) = poolscope::parse::events::parse(xml.as_bytes(), Format::EventXml, &ctx);
    assert!(errors(&diags).is_empty(), "{diags:?}");
    assert_round_trip(&sim, &events);
}

// ---------------------------------------------------------------------------------------------
// `poolscope events` as a user runs it.

fn poolscope() -> Command {
    Command::cargo_bin("poolscope").expect("binary built")
}

fn stdout_of(args: &[&str]) -> String {
    let out = poolscope().args(args).assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn cli_text_view_of_a_2004_reads_like_evidence() {
    let text = String::from_utf8(
        poolscope()
            .args(["events", &path_str(&fixture("wevtutil_qe_f_xml_2004.xml"))])
            .env("COLUMNS", "100")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert!(text.lines().all(|l| l.chars().count() <= 100), "wider than COLUMNS=100:\n{text}");
    for needle in [
        "Events of host SRV-APP01",
        "1  2024-03-08 03:05:12  Resource-Exhaustion-Detector  2004  warning  low virtual memory diagnosed",
        "[1] resource exhaustion on SRV-APP01 at 2024-03-08 03:05:12.456Z:",
        "detected at    2024-03-08 03:05:10.987Z (-1.5 s from the log time)",
        "commit         31.9 GiB of 32.0 GiB limit (99.6% of the limit)",
        "pool           paged 3.00 GiB, nonpaged 384 MiB",
        "paged tags     Toke 2.30 GiB, MmSt 100 MiB, CM31 60.0 MiB",
        "process        pid    commit    handles  started (UTC)",
        "lsass.exe      640  2.00 GiB  1,394,724  2024-03-04 08:01:25",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn cli_filters_by_kind_id_provider_and_time() {
    let boot = path_str(&fixture("boot_markers_6005_6006_6008_6009_6013_41_12_13_1074_1076.xml"));
    let json = stdout_of(&["events", &boot, "--kind", "crash", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["events_read"], 13);
    let ids: Vec<u64> = doc["events"].as_array().unwrap().iter().map(|e| e["event_id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [41, 6008, 1076]);
    assert_eq!(doc["events"][0]["host"], "SRV-APP01");
    assert_eq!(doc["events"][0]["kind"]["kind"], "crash");

    let csv = stdout_of(&["events", &boot, "--id", "6005,6009", "--since", "2024-03-08 00:00", "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("time,host,provider,event_id"));
    assert!(lines[1].contains(",6009,") && lines[2].contains(",6005,"));

    let md = stdout_of(&[
        "events",
        &boot,
        "--provider",
        "kernel-general",
        "--until",
        "2024-03-05T00:00:00Z",
        "--format",
        "markdown",
    ]);
    assert!(md.contains("| time (UTC) | host |"));
    assert_eq!(md.lines().filter(|l| l.starts_with("| 2024-")).count(), 2, "{md}");
}

#[test]
fn cli_nothing_usable_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"\x00\x01\x02 not an event log").unwrap();
    let assert = poolscope().args(["events", &path_str(&junk)]).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("no events read"), "{stderr}");
}

#[test]
fn cli_no_match_is_success_with_a_warning() {
    let assert = poolscope().args(["events", &path_str(&fixture("srv_2019_2020.xml")), "--id", "1"]).assert().success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("none of the 3 events"), "{stderr}");
}

#[test]
fn cli_sanitises_text_from_logs() {
    let dir = tempfile::tempdir().unwrap();
    let evil = dir.path().join("evil.xml");
    std::fs::write(
        &evil,
        "<Event><System><Provider Name='User32'/><EventID>1074</EventID><TimeCreated SystemTime='2024-01-01T00:00:00Z'/></System><EventData><Data Name='param1'>evil\u{1b}[2J.exe</Data><Data Name='param5'>restart</Data></EventData></Event>",
    )
    .unwrap();
    let text = stdout_of(&["events", &path_str(&evil)]);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains(r"restart initiated by evil\x1b[2J.exe"), "{text}");
}

#[test]
fn a_log_and_its_export_list_each_record_once() {
    const DEMO: &str = "fixtures/incidents/lsass-token-leak";
    let json = |paths: &[&str]| -> serde_json::Value {
        let mut args = vec!["events", "--format", "json", "-q"];
        args.extend_from_slice(paths);
        serde_json::from_str(&stdout_of(&args)).unwrap()
    };
    let both = json(&[&format!("{DEMO}/System.evtx"), &format!("{DEMO}/System.xml")]);
    let one = json(&[&format!("{DEMO}/System.evtx")]);
    let listed = |v: &serde_json::Value| v["events"].as_array().unwrap().len();
    assert_eq!(listed(&both), listed(&one), "the XML export repeats the .evtx records");
    assert!(listed(&one) > 10);
    let ids: Vec<u64> = both["events"].as_array().unwrap().iter().map(|e| e["record_id"].as_u64().unwrap()).collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    // Said once, naming both files.
    let out = poolscope().args(["events", "-v", DEMO]).assert().success().get_output().stderr.clone();
    let stderr = String::from_utf8(out).unwrap();
    let notes: Vec<&str> = stderr.lines().filter(|l| l.contains("read twice")).collect();
    assert_eq!(notes.len(), 1, "{stderr}");
    assert!(notes[0].contains("System.evtx") && notes[0].contains("System.xml"), "{stderr}");
    // The text listing shows the 2020 at 11:21:43 once.
    let text = stdout_of(&["events", DEMO, "-q"]);
    assert_eq!(text.matches("2020-05-22 11:21:43").count(), 1, "{text}");
}
