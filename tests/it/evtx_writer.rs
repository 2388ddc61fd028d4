//! The simulated event writers (`poolscope::simulate::events`): a multi-chunk `.evtx` read back by
//! the evtx crate with checksum validation, and the wevtutil XML read back with quick-xml. Both must
//! give the same element tree, and that tree must carry every value of the simulated events.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};
use evtx::{EvtxParser, ParserSettings};
use poolscope::model::event::{ExhaustedProcess, ResourceExhaustion, TagUsage};
use poolscope::model::{EventKind, PoolType, Severity, TimeSettings};
use poolscope::parse::{parse_bytes, FileContext, Format};
use poolscope::simulate::events::{sanitize_text, to_wevtutil_xml, write_evtx, Payload, SimEvent};
use proptest::prelude::*;
use quick_xml::events::Event as XmlEvent;
use quick_xml::Reader;

/// An XML element as both readers' output is compared (writer spec P15): name, attributes, child
/// elements, and text; whitespace-only text between child elements (indentation) is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Node>,
    text: String,
}

impl Node {
    fn get(&self, path: &str) -> &Node {
        path.split('/').fold(self, |node, name| {
            node.children
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("no <{name}> under <{}> (path {path})", node.name))
        })
    }

    fn text_at(&self, path: &str) -> &str {
        &self.get(path).text
    }

    fn attr(&self, path: &str, name: &str) -> Option<&str> {
        let node = if path.is_empty() { self } else { self.get(path) };
        node.attrs.get(name).map(String::as_str)
    }
}

/// Parses every top-level element of an XML text (wevtutil output has no root element). Text is
/// taken as written (no end-of-line normalisation), so a CR survives when it was escaped or raw.
fn parse_xml(xml: &str) -> Vec<Node> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Node> = Vec::new();
    let mut roots = Vec::new();
    let start = |e: &quick_xml::events::BytesStart<'_>| Node {
        name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (String::from_utf8(a.key.as_ref().to_vec()).unwrap(), a.unescape_value().unwrap().into_owned())
            })
            .collect(),
        children: Vec::new(),
        text: String::new(),
    };
    let mut close = |mut node: Node, stack: &mut Vec<Node>| {
        if !node.children.is_empty() && node.text.trim().is_empty() {
            node.text.clear();
        }
        match stack.last_mut() {
            Some(parent) => parent.children.push(node),
            None => roots.push(node),
        }
    };
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("XML error {e} in {xml}")) {
            XmlEvent::Start(e) => stack.push(start(&e)),
            XmlEvent::Empty(e) => close(start(&e), &mut stack),
            XmlEvent::End(_) => {
                let node = stack.pop().expect("balanced");
                close(node, &mut stack);
            }
            XmlEvent::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.decode().unwrap());
                }
            }
            XmlEvent::CData(t) => stack.last_mut().unwrap().text.push_str(&t.decode().unwrap()),
            XmlEvent::GeneralRef(r) => {
                let text = if let Some(c) = r.resolve_char_ref().unwrap() {
                    c.to_string()
                } else {
                    let name = r.decode().unwrap();
                    quick_xml::escape::resolve_predefined_entity(&name).expect("predefined entity").to_owned()
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements");
    roots
}

/// What the evtx crate reads from a file: (record id, header time as (seconds, nanoseconds), tree).
/// Asserts the file and every chunk pass checksum validation and no record fails.
fn read_with_evtx_crate(bytes: &[u8]) -> Vec<(u64, (i64, i32), Node)> {
    let settings = ParserSettings::default().validate_checksums(true).num_threads(1);
    let mut parser = EvtxParser::from_buffer(bytes.to_vec()).unwrap().with_configuration(settings);
    assert!(parser.header().validate_checksum(), "file header CRC");
    let chunk_count = parser.header().chunk_count;
    let mut chunks = 0;
    for chunk in parser.chunks() {
        let chunk = chunk.expect("chunk parses");
        assert!(chunk.validate_header_checksum(), "chunk {chunks} header CRC");
        assert!(chunk.validate_data_checksum(), "chunk {chunks} records CRC");
        chunks += 1;
    }
    assert_eq!(chunks, usize::from(chunk_count), "header chunk count");
    parser
        .records()
        .map(|r| {
            let r = r.expect("record renders");
            let mut roots = parse_xml(&r.data);
            assert_eq!(roots.len(), 1);
            (r.event_record_id, (r.timestamp.as_second(), r.timestamp.subsec_nanosecond()), roots.remove(0))
        })
        .collect()
}

fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap()
}

fn exhaustion(i: u64) -> ResourceExhaustion {
    let tags = |names: &[&str], n: usize| {
        names
            .iter()
            .take(n)
            .enumerate()
            .map(|(k, t)| TagUsage { tag: (*t).to_owned(), bytes: 1_000_000 * (k as u64 + 1) + i })
            .collect()
    };
    let processes = (0..(i % 7) as usize)
        .map(|k| ExhaustedProcess {
            name: ["explorer.exe", "svchost.exe", "sqlservr.exe", "w3wp.exe", "Ünïcode.exe", "a&b<c>.exe"][k]
                .to_owned(),
            pid: 4 * (k as u32 + 100),
            created_at: (k % 2 == 0)
                .then(|| base_time() - Duration::hours(k as i64) + Duration::nanoseconds(123_456_700)),
            commit_charge: 3_685_900_288 / (k as u64 + 1),
            handle_count: if k == 0 { 359_617 + i } else { 5_000_000_000 },
        })
        .collect();
    ResourceExhaustion {
        commit_limit: Some(28_285_681_664 + i),
        commit_charge: Some(28_097_462_272),
        process_commit_charge: (i % 3 != 0).then_some(22_483_431_424),
        paged_pool_usage: Some(843_325_440),
        nonpaged_pool_usage: Some(732_229_632),
        physical_memory_size: Some(8_450_822_144),
        physical_memory_usage: Some(8_185_782_272),
        process_count: Some(402),
        paged_tags: tags(&["Gpbm", "MmSt", "Ntf "], (i % 4) as usize),
        nonpaged_tags: tags(&["smNp", "EtwB", "ConT"], 3 - (i % 4) as usize),
        processes,
        detected_at: (i % 5 != 0).then(|| base_time() + Duration::milliseconds(1_600)),
    }
}

/// `n` events cycling through every constructor, record ids 1..=n, times rising (some with
/// sub-100 ns digits, which the writers drop).
fn sample_events(n: u64) -> Vec<SimEvent> {
    (1..=n)
        .map(|id| {
            let time = base_time()
                + Duration::seconds(7 * id as i64)
                + Duration::nanoseconds((id as i64 * 7_654_321) % 1_000_000_000);
            let host = if id % 11 == 0 { "SRV-ÉTÉ-😀" } else { "SRV01" };
            match id % 14 {
                0 => SimEvent::resource_exhaustion(time, id, host, &exhaustion(id)),
                1 => SimEvent::pool_empty(time, id, host, PoolType::Paged),
                2 => SimEvent::pool_empty(time, id, host, PoolType::Nonpaged),
                3 => SimEvent::eventlog_started(time, id, host),
                4 => SimEvent::eventlog_stopped(time, id, host),
                5 => SimEvent::unexpected_shutdown(time, id, host, time - Duration::minutes(17)),
                6 => SimEvent::os_version(time, id, host, 20348),
                7 => SimEvent::uptime(time, id, host, id * 60),
                8 => SimEvent::kernel_power_41(time, id, host, if id % 3 == 0 { 0x9F } else { 0 }),
                9 => SimEvent::kernel_general_12(time, id, host, time - Duration::milliseconds(300)),
                10 => SimEvent::kernel_general_13(time, id, host),
                11 => SimEvent::user32_1074(
                    time,
                    id,
                    host,
                    "C:\\Windows\\system32\\shutdown.exe",
                    "Other <&> \"planned\" 'reason' ‎😀",
                    "restart",
                    "SRV01\\Administrator",
                ),
                12 => SimEvent::user32_1076(time, id, host, "Other (Unplanned)", "SRV01\\ops"),
                _ => SimEvent::resource_exhaustion(time, id, host, &exhaustion(id + 3)),
            }
        })
        .collect()
}

fn system_time(t: DateTime<Utc>) -> String {
    format!("{}.{:07}Z", t.format("%Y-%m-%dT%H:%M:%S"), t.nanosecond() / 100)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut hex, b| {
        write!(hex, "{b:02X}").unwrap();
        hex
    })
}

/// Asserts that an `<Event>` tree carries the values of `e` (written independently of the writer,
/// from events reference §1 and the wevtutil samples).
fn assert_event_values(node: &Node, e: &SimEvent) {
    let id = e.record_id;
    assert_eq!(node.name, "Event");
    assert_eq!(node.attr("", "xmlns"), Some("http://schemas.microsoft.com/win/2004/08/events/event"));
    assert_eq!(node.attr("System/Provider", "Name"), Some(e.provider.as_str()), "record {id}");
    assert_eq!(node.attr("System/Provider", "Guid"), e.provider_guid.as_deref(), "record {id}");
    assert_eq!(node.attr("System/Provider", "EventSourceName"), e.event_source_name.as_deref());
    assert_eq!(node.text_at("System/EventID"), e.event_id.to_string(), "record {id}");
    assert_eq!(node.attr("System/EventID", "Qualifiers"), e.qualifiers.map(|q| q.to_string()).as_deref());
    assert_eq!(node.text_at("System/Version"), e.version.to_string());
    assert_eq!(node.text_at("System/Level"), e.level.to_string());
    assert_eq!(node.text_at("System/Task"), e.task.to_string());
    assert_eq!(node.text_at("System/Opcode"), e.opcode.to_string());
    assert_eq!(node.text_at("System/Keywords"), format!("0x{:x}", e.keywords));
    assert_eq!(node.attr("System/TimeCreated", "SystemTime"), Some(system_time(e.time).as_str()), "record {id}");
    assert_eq!(node.text_at("System/EventRecordID"), id.to_string());
    assert_eq!(node.text_at("System/Channel"), "System");
    assert_eq!(node.text_at("System/Computer"), e.computer, "record {id}");
    assert_eq!(node.attr("System/Security", "UserID"), e.user_sid.as_deref());
    let data_of = |node: &Node| -> Vec<(Option<String>, String)> {
        node.get("EventData")
            .children
            .iter()
            .filter(|c| c.name == "Data")
            .map(|c| (c.attrs.get("Name").cloned(), c.text.clone()))
            .collect()
    };
    let binary_of =
        |node: &Node| node.get("EventData").children.iter().find(|c| c.name == "Binary").map(|c| c.text.clone());
    match &e.payload {
        Payload::EventData(data) => {
            assert_eq!(&data_of(node), data, "record {id}");
            assert_eq!(binary_of(node), None);
        }
        Payload::EventDataBinary { data, binary } => {
            assert_eq!(&data_of(node), data, "record {id}");
            assert_eq!(binary_of(node), Some(hex(binary)), "record {id}");
        }
        Payload::ResourceExhaustion(info) => assert_2004_user_data(node, info),
        Payload::None => assert_eq!(node.children.len(), 1),
    }
}

/// Every `UserData` field of a 2004 event, with all 3 + 3 tag slots and 6 process slots present
/// (events reference §1.1: empty slots are written too).
fn assert_2004_user_data(node: &Node, info: &ResourceExhaustion) {
    let m = node.get("UserData/MemoryExhaustionInfo");
    assert_eq!(m.attr("", "xmlns"), Some("http://www.microsoft.com/Windows/Resource/Exhaustion/Detector/Events"));
    let n = |v: Option<u64>| v.unwrap_or(0).to_string();
    for (path, value) in [
        ("SystemInfo/SystemCommitLimit", n(info.commit_limit)),
        ("SystemInfo/SystemCommitCharge", n(info.commit_charge)),
        ("SystemInfo/ProcessCommitCharge", n(info.process_commit_charge)),
        ("SystemInfo/PagedPoolUsage", n(info.paged_pool_usage)),
        ("SystemInfo/PhysicalMemorySize", n(info.physical_memory_size)),
        ("SystemInfo/PhysicalMemoryUsage", n(info.physical_memory_usage)),
        ("SystemInfo/NonPagedPoolUsage", n(info.nonpaged_pool_usage)),
        ("SystemInfo/Processes", n(info.process_count)),
    ] {
        assert_eq!(m.text_at(path), value, "{path}");
    }
    for (block, tags) in [("PagedPoolInfo", &info.paged_tags), ("NonPagedPoolInfo", &info.nonpaged_tags)] {
        assert_eq!(m.get(block).children.len(), 3);
        for slot in 0..3 {
            let tag = tags.get(slot);
            let base = format!("{block}/Tag_{}", slot + 1);
            assert_eq!(m.text_at(&format!("{base}/Name")), tag.map_or("", |t| t.tag.as_str()));
            assert_eq!(m.text_at(&format!("{base}/PoolUsed")), tag.map_or(0, |t| t.bytes).to_string());
        }
    }
    assert_eq!(m.get("ProcessInfo").children.len(), 6);
    for slot in 0..6 {
        let p = info.processes.get(slot);
        let base = format!("ProcessInfo/Process_{}", slot + 1);
        let at = |leaf: &str| m.text_at(&format!("{base}/{leaf}")).to_owned();
        assert_eq!(at("Name"), p.map_or("", |p| p.name.as_str()));
        assert_eq!(at("ID"), p.map_or(0, |p| p.pid).to_string());
        let created =
            p.and_then(|p| p.created_at).map_or_else(|| "1601-01-01T00:00:00.0000000Z".to_owned(), system_time);
        assert_eq!(at("CreationTime"), created);
        assert_eq!(at("CommitCharge"), p.map_or(0, |p| p.commit_charge).to_string());
        assert_eq!(at("HandleCount"), p.map_or(0, |p| p.handle_count).to_string());
        assert_eq!(at("Version"), "0.0.0.0");
        assert!(at("TypeInfo").parse::<u32>().is_ok());
    }
    let detected = info.detected_at.map_or_else(|| "1601-01-01T00:00:00.0000000Z".to_owned(), system_time);
    assert_eq!(m.text_at("ExhaustionEventInfo/Time"), detected);
}

#[test]
fn thousands_of_records_read_back_by_the_evtx_crate_and_as_wevtutil_xml() {
    let events = sample_events(3000);
    let bytes = write_evtx(&events);
    assert_eq!((bytes.len() - 4096) % 65536, 0);
    let chunks = (bytes.len() - 4096) / 65536;
    assert!(chunks >= 10, "3000 records span many chunks, got {chunks}");

    let from_evtx = read_with_evtx_crate(&bytes);
    let xml = to_wevtutil_xml(&events);
    let from_xml = parse_xml(&xml);
    assert_eq!(from_evtx.len(), events.len(), "every record read by the evtx crate");
    assert_eq!(from_xml.len(), events.len(), "every event in the XML");
    assert_eq!(
        xml.lines().count(),
        events.len() + events.iter().filter(|e| e.event_id == 1076).count(),
        "one line per event (1076 carries a line break in param5)"
    );

    for ((e, (record_id, (secs, nanos), evtx_tree)), xml_tree) in events.iter().zip(&from_evtx).zip(&from_xml) {
        assert_eq!(*record_id, e.record_id);
        assert_eq!(
            (*secs, *nanos),
            (e.time.timestamp(), (e.time.nanosecond() / 100 * 100) as i32),
            "record {record_id}"
        );
        assert_event_values(evtx_tree, e);
        assert_event_values(xml_tree, e);
        assert_eq!(evtx_tree, xml_tree, "record {record_id}: both writers give the same tree");
    }
}

#[test]
fn output_is_deterministic_and_header_counts_are_exact() {
    let events = sample_events(500);
    let a = write_evtx(&events);
    assert_eq!(a, write_evtx(&events));
    assert_eq!(to_wevtutil_xml(&events), to_wevtutil_xml(&events));
    let parser = EvtxParser::from_buffer(a.clone()).unwrap();
    let h = parser.header();
    assert_eq!(usize::from(h.chunk_count), (a.len() - 4096) / 65536);
    assert_eq!(h.last_chunk_number, u64::from(h.chunk_count) - 1);
    assert_eq!(h.next_record_id, 501);
    assert_eq!((h.major_version, h.minor_version, h.header_block_size), (3, 1, 4096));
}

#[test]
fn a_flipped_record_byte_fails_the_records_checksum() {
    // Guards the checks above: the evtx crate really recomputes the CRCs this writer stores.
    let mut bytes = write_evtx(&sample_events(100));
    bytes[4096 + 600] ^= 0x01;
    let mut parser = EvtxParser::from_buffer(bytes).unwrap();
    let chunk = parser.chunks().next().unwrap().unwrap();
    assert!(chunk.validate_header_checksum());
    assert!(!chunk.validate_data_checksum());
}

#[test]
fn empty_log_has_no_records() {
    let bytes = write_evtx(&[]);
    assert!(read_with_evtx_crate(&bytes).is_empty());
    assert_eq!(to_wevtutil_xml(&[]), "");
}

#[test]
fn wevtutil_form_matches_the_real_capture() {
    // events reference §2.1: single quotes, no root, `<Data></Data>` for empty values.
    let e = SimEvent::unexpected_shutdown(base_time(), 64649, "EC2AMAZ-NEUK2LF", base_time() - Duration::minutes(20));
    let xml = to_wevtutil_xml(&[e]);
    assert!(xml.starts_with("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='EventLog'/><EventID Qualifiers='32768'>6008</EventID>"));
    assert!(
        xml.contains("<EventData><Data>7:40:00 AM</Data><Data>\u{200e}3/\u{200e}1/\u{200e}2024</Data><Data></Data>")
    );
    assert!(!xml.contains('"'));
}

/// The 100 ns resolution both formats keep (FILETIME).
fn ticks(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(t.nanosecond() / 100 * 100).unwrap()
}

/// What poolscope's event parsers should make of a simulated event (stated from events reference
/// §1, independently of the writer and of the parsers).
fn expected_kind(e: &SimEvent) -> EventKind {
    let data = |i: usize| match &e.payload {
        Payload::EventData(d) | Payload::EventDataBinary { data: d, .. } => d[i].1.trim().to_owned(),
        _ => panic!("record {} has no event data", e.record_id),
    };
    let some = |i: usize| Some(data(i)).filter(|v| !v.is_empty());
    match (e.provider.as_str(), e.event_id) {
        (_, 2004) => {
            let Payload::ResourceExhaustion(info) = &e.payload else { panic!("2004 without UserData") };
            let mut info = info.clone();
            // Windows writes every field, so an absent figure reads back as 0; empty slots are skipped.
            for v in [
                &mut info.commit_limit,
                &mut info.commit_charge,
                &mut info.process_commit_charge,
                &mut info.paged_pool_usage,
                &mut info.nonpaged_pool_usage,
                &mut info.physical_memory_size,
                &mut info.physical_memory_usage,
                &mut info.process_count,
            ] {
                *v = Some(v.unwrap_or(0));
            }
            for p in &mut info.processes {
                p.created_at = p.created_at.map(ticks);
            }
            info.detected_at = info.detected_at.map(ticks);
            EventKind::ResourceExhaustion(Box::new(info))
        }
        ("Srv", 2019) => EventKind::PoolEmpty { pool: PoolType::Nonpaged },
        ("Srv", 2020) => EventKind::PoolEmpty { pool: PoolType::Paged },
        ("EventLog", 6005 | 6009) => EventKind::Boot { start_time: None },
        (_, 12) => EventKind::Boot { start_time: Some(data(6).parse().unwrap()) },
        ("EventLog", 6006) | (_, 13) => {
            EventKind::Shutdown { process: None, reason: None, shutdown_type: None, user: None }
        }
        ("User32", 1074) => {
            EventKind::Shutdown { process: some(0), reason: some(2), shutdown_type: some(4), user: some(6) }
        }
        ("EventLog", 6013) => EventKind::Uptime { seconds: data(4).parse().unwrap() },
        ("EventLog", 6008) => {
            let printed = format!("{} {}", data(1).replace('\u{200e}', ""), data(0));
            let at = chrono::NaiveDateTime::parse_from_str(&printed, "%m/%d/%Y %I:%M:%S %p").unwrap().and_utc();
            EventKind::Crash {
                previous_shutdown: Some(printed),
                previous_shutdown_at: Some(at),
                bugcheck_code: None,
                reason: None,
                user: None,
            }
        }
        (_, 41) => EventKind::Crash {
            previous_shutdown: None,
            previous_shutdown_at: None,
            bugcheck_code: Some(data(0).parse().unwrap()),
            reason: None,
            user: None,
        },
        ("User32", 1076) => EventKind::Crash {
            previous_shutdown: None,
            previous_shutdown_at: None,
            bugcheck_code: None,
            reason: some(0),
            user: some(5),
        },
        other => panic!("no expectation for {other:?}"),
    }
}

#[test]
fn poolscope_parsers_read_both_outputs_as_the_simulated_typed_events() {
    let events = sample_events(700);
    // Simulated hosts run on UTC; saying so keeps 6008's local time from raising an "assumed UTC" note.
    let time = TimeSettings { tz_given: true, ..TimeSettings::default() };
    for (path, bytes, format) in [
        ("sim/System.evtx", write_evtx(&events), Format::Evtx),
        ("sim/System.xml", to_wevtutil_xml(&events).into_bytes(), Format::EventXml),
    ] {
        assert_eq!(Format::detect(&bytes), Some(format), "{path}");
        let ctx = FileContext { path: path.to_owned(), time: time.clone(), ..FileContext::default() };
        let parsed = parse_bytes(&bytes, None, &ctx);
        // The one note allowed says in which zone 6008's localized time was read (Info, by design).
        let problems: Vec<_> = parsed
            .diagnostics
            .iter()
            .filter(|d| !(d.severity == Severity::Info && d.message.starts_with("local times in this file read in")))
            .collect();
        assert!(problems.is_empty(), "{path}: {problems:?}");
        assert_eq!(parsed.events.len(), events.len(), "{path}");
        let mut got = parsed.events;
        got.sort_by_key(|e| e.record_id);
        for (e, g) in events.iter().zip(&got) {
            let id = e.record_id;
            assert_eq!(g.record_id, Some(id), "{path}");
            assert_eq!((g.provider.as_str(), g.event_id), (e.provider.as_str(), e.event_id), "{path} record {id}");
            assert_eq!(g.time, ticks(e.time), "{path} record {id}");
            assert_eq!(g.level, Some(e.level), "{path} record {id}");
            assert_eq!(g.computer.as_deref(), Some(e.computer.as_str()), "{path} record {id}");
            assert_eq!(g.channel.as_deref(), Some("System"), "{path} record {id}");
            assert_eq!(g.kind, expected_kind(e), "{path} record {id}");
        }
    }
}

fn text_strategy() -> impl Strategy<Value = String> {
    let specials = prop::sample::select(vec![
        '<', '>', '&', '\'', '"', '\r', '\n', '\t', ' ', '\u{200e}', '😀', '\u{85}', '\u{7}', '\u{ffff}', 'é', '中',
    ]);
    prop::collection::vec(prop_oneof![any::<char>(), specials], 0..80).prop_map(String::from_iter)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Arbitrary text in data values, data names and the computer name comes back from both
    /// writers as [`sanitize_text`] gives it (control characters replaced, all else unchanged).
    #[test]
    fn arbitrary_text_round_trips_through_both_writers(
        computer in text_strategy(),
        data in prop::collection::vec((prop::option::of(text_strategy()), text_strategy()), 0..6),
    ) {
        let mut event = SimEvent::kernel_general_13(base_time(), 42, "placeholder");
        event.computer = computer.clone();
        event.payload = Payload::EventData(data.clone());
        let expected_data: Vec<(Option<String>, String)> = data
            .iter()
            .map(|(name, value)| {
                let name = name.as_deref().map(|n| sanitize_text(n).into_owned()).filter(|n| !n.is_empty());
                (name, sanitize_text(value).into_owned())
            })
            .collect();
        let expected = SimEvent { computer: sanitize_text(&computer).into_owned(), payload: Payload::EventData(expected_data), ..event.clone() };

        let from_evtx = read_with_evtx_crate(&write_evtx(std::slice::from_ref(&event)));
        prop_assert_eq!(from_evtx.len(), 1);
        assert_event_values(&from_evtx[0].2, &expected);
        let from_xml = parse_xml(&to_wevtutil_xml(std::slice::from_ref(&event)));
        prop_assert_eq!(from_xml.len(), 1);
        assert_event_values(&from_xml[0], &expected);
        prop_assert_eq!(&from_evtx[0].2, &from_xml[0]);
    }
}
