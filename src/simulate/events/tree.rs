//! The XML element tree of one simulated event, shared by both writers: the wevtutil XML writer
//! prints it, the binary EVTX writer encodes it as `BinXML`. Building it once keeps the two outputs of
//! the same event identical (events reference §1, writer spec §7.1).

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::{Payload, SimEvent};
use crate::model::event::ResourceExhaustion;

/// Namespace of `<Event>`.
pub(crate) const EVENT_NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";
/// Namespace of the Resource-Exhaustion-Detector 2004 `<MemoryExhaustionInfo>` block (events reference §1.1).
pub(crate) const RED_NS: &str = "http://www.microsoft.com/Windows/Resource/Exhaustion/Detector/Events";

/// A leaf value: an attribute value or the text of an element without children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// Text (already sanitized, see [`sanitize_text`]).
    Text(String),
    /// A constant of the format (a namespace), written as literal text in the template.
    Literal(&'static str),
    /// An integer that Windows types as `UInt8`.
    U8(u8),
    /// `UInt16`.
    U16(u16),
    /// `UInt32`.
    U32(u32),
    /// `UInt64`.
    U64(u64),
}

impl Value {
    /// The value as XML text (integers in decimal, as both EVTX readers render them; spec §6.10).
    pub(crate) fn text(&self) -> Cow<'_, str> {
        match self {
            Value::Text(s) => Cow::Borrowed(s),
            Value::Literal(s) => Cow::Borrowed(s),
            Value::U8(v) => Cow::Owned(v.to_string()),
            Value::U16(v) => Cow::Owned(v.to_string()),
            Value::U32(v) => Cow::Owned(v.to_string()),
            Value::U64(v) => Cow::Owned(v.to_string()),
        }
    }

    /// Whether the value renders as the empty string.
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Value::Text(s) => s.is_empty(),
            Value::Literal(s) => s.is_empty(),
            _ => false,
        }
    }

    /// An unsigned integer typed as `UInt32` when it fits, `UInt64` otherwise (both render in decimal).
    fn count(v: u64) -> Value {
        u32::try_from(v).map_or(Value::U64(v), Value::U32)
    }
}

/// What an element holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Content {
    /// Nothing, by the schema (`<Correlation/>`, `<TimeCreated SystemTime='…'/>`).
    Empty,
    /// Text, possibly empty (`<Data></Data>` in wevtutil output).
    Value(Value),
    /// Child elements.
    Children(Vec<Element>),
}

/// One element. Names are constants of the schema, so they are always valid XML names that both
/// EVTX readers accept (spec §10 rule 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    /// Element name.
    pub(crate) name: &'static str,
    /// Attributes in order; none has an empty value (spec P7: the evtx crate drops those).
    pub(crate) attrs: Vec<(&'static str, Value)>,
    /// The content.
    pub(crate) content: Content,
}

impl Element {
    fn new(name: &'static str, content: Content) -> Self {
        Element { name, attrs: Vec::new(), content }
    }

    fn leaf(name: &'static str, value: Value) -> Self {
        Element::new(name, Content::Value(value))
    }

    fn text(name: &'static str, text: &str) -> Self {
        Element::leaf(name, Value::Text(sanitize_text(text).into_owned()))
    }

    fn parent(name: &'static str, children: Vec<Element>) -> Self {
        Element::new(name, Content::Children(children))
    }

    /// Adds an attribute unless its value is empty (spec P7).
    fn attr(mut self, name: &'static str, value: Value) -> Self {
        if !value.is_empty() {
            self.attrs.push((name, value));
        }
        self
    }

    fn attr_text(self, name: &'static str, text: Option<&str>) -> Self {
        match text {
            Some(text) => self.attr(name, Value::Text(sanitize_text(text).into_owned())),
            None => self,
        }
    }

    /// Cuts every text value to at most `limit` UTF-16 code units (at a character boundary).
    /// The EVTX writer uses this for a record too large for a chunk (writer spec §5).
    pub(crate) fn truncate_text(&mut self, limit: usize) {
        for (_, value) in &mut self.attrs {
            truncate_value(value, limit);
        }
        match &mut self.content {
            Content::Empty => {}
            Content::Value(value) => truncate_value(value, limit),
            Content::Children(children) => children.iter_mut().for_each(|c| c.truncate_text(limit)),
        }
    }
}

fn truncate_value(value: &mut Value, limit: usize) {
    if let Value::Text(s) = value {
        let mut units = 0;
        let cut = s.char_indices().find_map(|(i, c)| {
            units += c.len_utf16();
            (units > limit).then_some(i)
        });
        if let Some(cut) = cut {
            s.truncate(cut);
        }
    }
}

/// Replaces the characters that cannot be carried identically through both event formats with
/// U+FFFD: the C0 controls other than tab, LF and CR, U+FFFE and U+FFFF (not XML 1.0 characters at
/// all), and DEL and the C1 controls except NEL (python-evtx silently drops those, the evtx crate
/// keeps them: writer spec P13). Everything else is written unchanged.
pub fn sanitize_text(text: &str) -> Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}')
            || c == '\u{fffe}'
            || c == '\u{ffff}'
    }
    if text.chars().any(unsafe_char) {
        Cow::Owned(text.chars().map(|c| if unsafe_char(c) { '\u{fffd}' } else { c }).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// `SystemTime` as Windows renders it: UTC, 7 fraction digits (100 ns, the FILETIME resolution), `Z`.
pub(crate) fn system_time(time: DateTime<Utc>) -> String {
    // A leap second has nanos >= 1e9; keep the digits at 7.
    let ticks = (time.nanosecond() / 100).min(9_999_999);
    format!("{}.{ticks:07}Z", time.format("%Y-%m-%dT%H:%M:%S"))
}

/// FILETIME of a UTC time: 100 ns intervals since 1601-01-01, clamped to the u64 range (spec §1).
pub(crate) fn filetime(time: DateTime<Utc>) -> u64 {
    const EPOCH_DIFF_SECS: i128 = 11_644_473_600;
    let secs = i128::from(time.timestamp()) + EPOCH_DIFF_SECS;
    let ticks = secs * 10_000_000 + i128::from(time.timestamp_subsec_nanos().min(999_999_999) / 100);
    u64::try_from(ticks.max(0)).unwrap_or(u64::MAX)
}

/// A SYSTEMTIME structure (8 little-endian u16: year, month, weekday, day, hour, minute, second,
/// milliseconds), as `EventLog` 6005/6008 carry it in `<Binary>` (events reference §1.3).
pub(crate) fn systemtime_bytes(time: DateTime<Utc>) -> Vec<u8> {
    let fields = [
        u16::try_from(time.year()).unwrap_or(0),
        time.month() as u16,
        time.weekday().num_days_from_sunday() as u16,
        time.day() as u16,
        time.hour() as u16,
        time.minute() as u16,
        time.second().min(59) as u16,
        (time.timestamp_subsec_millis().min(999)) as u16,
    ];
    fields.iter().flat_map(|f| f.to_le_bytes()).collect()
}

/// Process and thread id for `<Execution>`, which the simulated event does not carry. Kernel
/// providers log from the System process (4/8) and classic sources with 0/0, as in real System logs
/// (events reference §1.3 samples); other providers get a stable id derived from host and provider,
/// like a long-running service.
fn execution_ids(event: &SimEvent) -> (u32, u32) {
    match event.provider.as_str() {
        "EventLog" | "Srv" => (0, 0),
        p if p.starts_with("Microsoft-Windows-Kernel-") => (4, 8),
        p => {
            // FNV-1a: stable across runs and platforms.
            let mut h: u32 = 0x811c_9dc5;
            for b in event.computer.bytes().chain(p.bytes()) {
                h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
            }
            (400 + (h % 15_000) * 4, 400 + ((h >> 16) % 15_000) * 4)
        }
    }
}

/// The `<Event>` tree of an event, in the element order Windows writes.
pub(crate) fn event_tree(event: &SimEvent) -> Element {
    let mut children = vec![system(event)];
    match &event.payload {
        Payload::EventData(data) => children.push(event_data(data, &[])),
        Payload::EventDataBinary { data, binary } => children.push(event_data(data, binary)),
        Payload::ResourceExhaustion(info) => children.push(user_data_2004(info)),
        Payload::None => {}
    }
    Element::parent("Event", children).attr("xmlns", Value::Literal(EVENT_NS))
}

fn system(event: &SimEvent) -> Element {
    let (pid, tid) = execution_ids(event);
    let event_id = u16::try_from(event.event_id).map_or(Value::U32(event.event_id), Value::U16);
    let mut event_id = Element::leaf("EventID", event_id);
    if let Some(q) = event.qualifiers {
        event_id = event_id.attr("Qualifiers", Value::U16(q));
    }
    Element::parent(
        "System",
        vec![
            Element::new("Provider", Content::Empty)
                .attr_text("Name", Some(&event.provider))
                .attr_text("Guid", event.provider_guid.as_deref())
                .attr_text("EventSourceName", event.event_source_name.as_deref()),
            event_id,
            Element::leaf("Version", Value::U8(event.version)),
            Element::leaf("Level", Value::U8(event.level)),
            Element::leaf("Task", Value::U16(event.task)),
            Element::leaf("Opcode", Value::U8(event.opcode)),
            // Keywords as a string: the readers render the typed HexInt64 differently (spec P2).
            Element::leaf("Keywords", Value::Text(format!("0x{:x}", event.keywords))),
            Element::new("TimeCreated", Content::Empty).attr("SystemTime", Value::Text(system_time(event.time))),
            Element::leaf("EventRecordID", Value::U64(event.record_id)),
            Element::new("Correlation", Content::Empty),
            Element::new("Execution", Content::Empty)
                .attr("ProcessID", Value::U32(pid))
                .attr("ThreadID", Value::U32(tid)),
            Element::text("Channel", &event.channel),
            Element::text("Computer", &event.computer),
            Element::new("Security", Content::Empty).attr_text("UserID", event.user_sid.as_deref()),
        ],
    )
}

fn event_data(data: &[(Option<String>, String)], binary: &[u8]) -> Element {
    let mut children: Vec<Element> =
        data.iter().map(|(name, value)| Element::text("Data", value).attr_text("Name", name.as_deref())).collect();
    if !binary.is_empty() {
        // `<Binary>` is upper-case hex in Windows' rendering; a String keeps both readers identical
        // (typed Binary renders as hex in one reader and base64 in the other, spec §6.10).
        let mut hex = String::with_capacity(binary.len() * 2);
        for b in binary {
            let _ = write!(hex, "{b:02X}");
        }
        children.push(Element::leaf("Binary", Value::Text(hex)));
    }
    Element::parent("EventData", children)
}

/// `UserData/MemoryExhaustionInfo` exactly as Windows writes it: 3 + 3 tag slots and 6 process
/// slots, empty ones included (events reference §1.1 "Empty slots").
fn user_data_2004(info: &ResourceExhaustion) -> Element {
    const TAGS: [&str; 3] = ["Tag_1", "Tag_2", "Tag_3"];
    const PROCESSES: [&str; 6] = ["Process_1", "Process_2", "Process_3", "Process_4", "Process_5", "Process_6"];
    // TypeInfo's meaning is unknown (events reference §1.1); these are the values observed per
    // slot in the Win11 sample, so a filled slot looks like a real one. An empty slot has 0.
    const TYPE_INFO: [u32; 6] = [65, 66, 67, 136, 144, 152];
    let number = |name, v: Option<u64>| Element::leaf(name, Value::U64(v.unwrap_or(0)));
    let system_info = Element::parent(
        "SystemInfo",
        vec![
            number("SystemCommitLimit", info.commit_limit),
            number("SystemCommitCharge", info.commit_charge),
            number("ProcessCommitCharge", info.process_commit_charge),
            number("PagedPoolUsage", info.paged_pool_usage),
            number("PhysicalMemorySize", info.physical_memory_size),
            number("PhysicalMemoryUsage", info.physical_memory_usage),
            number("NonPagedPoolUsage", info.nonpaged_pool_usage),
            Element::leaf("Processes", Value::count(info.process_count.unwrap_or(0))),
        ],
    );
    let tags = |name, tags: &[crate::model::event::TagUsage]| {
        let slots = TAGS
            .iter()
            .enumerate()
            .map(|(i, slot)| {
                let (tag, bytes) = tags.get(i).map_or(("", 0), |t| (t.tag.as_str(), t.bytes));
                Element::parent(slot, vec![Element::text("Name", tag), Element::leaf("PoolUsed", Value::U64(bytes))])
            })
            .collect();
        Element::parent(name, slots)
    };
    let processes = PROCESSES
        .iter()
        .enumerate()
        .map(|(i, slot)| {
            let p = info.processes.get(i);
            let created = p.and_then(|p| p.created_at).map_or_else(
                || "1601-01-01T00:00:00.0000000Z".to_owned(), // FILETIME 0, as an empty slot shows it
                system_time,
            );
            Element::parent(
                slot,
                vec![
                    Element::text("Name", p.map_or("", |p| p.name.as_str())),
                    Element::leaf("ID", Value::U32(p.map_or(0, |p| p.pid))),
                    // FILETIME fields are strings: the readers format a typed FILETIME differently (spec P2).
                    Element::leaf("CreationTime", Value::Text(created)),
                    Element::leaf("CommitCharge", Value::U64(p.map_or(0, |p| p.commit_charge))),
                    Element::leaf("HandleCount", Value::count(p.map_or(0, |p| p.handle_count))),
                    // The model keeps no image version; "0.0.0.0" is what Windows writes when it has none.
                    Element::leaf("Version", Value::Literal("0.0.0.0")),
                    Element::leaf("TypeInfo", Value::U32(if p.is_some() { TYPE_INFO[i] } else { 0 })),
                ],
            )
        })
        .collect();
    let detected = info.detected_at.map_or_else(|| "1601-01-01T00:00:00.0000000Z".to_owned(), system_time);
    let exhaustion = Element::parent(
        "MemoryExhaustionInfo",
        vec![
            system_info,
            tags("PagedPoolInfo", &info.paged_tags),
            tags("NonPagedPoolInfo", &info.nonpaged_tags),
            Element::parent("ProcessInfo", processes),
            Element::parent("ExhaustionEventInfo", vec![Element::leaf("Time", Value::Text(detected))]),
        ],
    )
    .attr("xmlns", Value::Literal(RED_NS));
    Element::parent("UserData", vec![exhaustion])
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn system_time_has_seven_fraction_digits() {
        let t = Utc.with_ymd_and_hms(2023, 5, 29, 2, 57, 39).unwrap() + chrono::Duration::nanoseconds(438_851_399);
        assert_eq!(system_time(t), "2023-05-29T02:57:39.4388513Z");
    }

    #[test]
    fn filetime_matches_spec_example() {
        // Writer spec §8: 2024-03-01T08:00:00Z is FILETIME 133537536000000000.
        let t = Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap();
        assert_eq!(filetime(t), 133_537_536_000_000_000);
        let before_1601 = Utc.with_ymd_and_hms(1500, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(filetime(before_1601), 0);
    }

    #[test]
    fn systemtime_matches_real_6008_binary() {
        // events reference §1.3: E707 0500 0100 1D00 0200 2900 0200 B803 = 2023-05-29 02:41:02.952 (a Monday).
        let t = Utc.with_ymd_and_hms(2023, 5, 29, 2, 41, 2).unwrap() + chrono::Duration::milliseconds(952);
        let expected = [0xE7, 0x07, 5, 0, 1, 0, 0x1D, 0, 2, 0, 0x29, 0, 2, 0, 0xB8, 0x03];
        assert_eq!(systemtime_bytes(t), expected);
    }

    #[test]
    fn sanitize_replaces_only_unportable_characters() {
        assert_eq!(sanitize_text("a\tb\nc\r&<>\"'é😀\u{85}"), "a\tb\nc\r&<>\"'é😀\u{85}");
        assert_eq!(sanitize_text("a\u{7}b\u{0}\u{7f}\u{9f}\u{ffff}"), "a\u{fffd}b\u{fffd}\u{fffd}\u{fffd}\u{fffd}");
    }

    #[test]
    fn truncate_counts_utf16_units() {
        let mut v = Value::Text("a😀b".to_owned());
        truncate_value(&mut v, 2);
        assert_eq!(v, Value::Text("a".to_owned()));
        let mut v = Value::Text("a😀b".to_owned());
        truncate_value(&mut v, 3);
        assert_eq!(v, Value::Text("a😀".to_owned()));
    }

    #[test]
    fn empty_attribute_values_are_dropped() {
        let e = Element::new("Security", Content::Empty).attr_text("UserID", Some(""));
        assert!(e.attrs.is_empty());
    }
}
