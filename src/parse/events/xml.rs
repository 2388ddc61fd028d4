//! Event XML in every shape Windows writes it (events reference §2.1, §2.3, §2.7), read with a streaming
//! quick-xml reader (no DOM):
//! - `wevtutil qe /f:xml`: no root element and no declaration, one `<Event>` per line, single-quoted
//!   attributes;
//! - `wevtutil qe /f:RenderedXml`: the same plus a `<RenderingInfo>` per event (its `Message` is kept);
//! - Event Viewer "Save as XML": an `<Events>` root after a declaration, `RenderingInfo`, 0-9 fractional
//!   digits in `SystemTime`;
//! - Event Viewer "Copy details as text": a text header, then the event's XML after `Event Xml:`;
//! - one record rendered by the evtx crate (see [`record`]).
//!
//! Data fields: named `<Data Name='X'>` under `EventData` are keyed `X`; unnamed ones `0`, `1`, ...;
//! `<Binary>` is keyed `Binary`; `UserData` leaves are keyed by their element path below the `UserData`
//! root element (`SystemInfo/SystemCommitLimit` for a 2004 event's `MemoryExhaustionInfo`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use quick_xml::events::{BytesStart, Event as XmlEvent};
use quick_xml::Reader;

use super::localtime;
use crate::model::{Diagnostic, Event, EventKind, Severity, SourceRef};

/// The parts of an `<Event>` as read, before they are checked and typed.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EventFields {
    /// `Provider/@Name`.
    pub provider: Option<String>,
    /// `Provider/@EventSourceName` (classic sources), used when `Name` is missing.
    pub source_name: Option<String>,
    /// `EventID` text.
    pub event_id: Option<String>,
    /// `Level` text.
    pub level: Option<String>,
    /// `TimeCreated/@SystemTime`.
    pub time_created: Option<String>,
    /// `EventRecordID` text.
    pub record_id: Option<String>,
    /// `Channel` text.
    pub channel: Option<String>,
    /// `Computer` text.
    pub computer: Option<String>,
    /// EventData/UserData fields (see the module docs for the keys).
    pub data: BTreeMap<String, String>,
    /// `RenderingInfo/Message`, when the export carried one.
    pub message: Option<String>,
}

impl EventFields {
    /// Checks the fields and builds an [`Event`] (kind not yet typed). `fallback_time` and
    /// `fallback_record_id` come from a binary record's header when the XML lacks them.
    pub fn into_event(
        self,
        source: SourceRef,
        fallback_time: Option<DateTime<Utc>>,
        fallback_record_id: Option<u64>,
    ) -> Result<Event, String> {
        let event_id = match self.event_id.as_deref().map(str::trim) {
            Some(id) => id.parse::<u32>().map_err(|_| format!("EventID {id:?} is not a number"))?,
            None => return Err("event has no EventID".to_owned()),
        };
        let time = match self.time_created.as_deref() {
            Some(t) => match localtime::system_time(t) {
                Some(t) => t,
                None => fallback_time.ok_or_else(|| format!("TimeCreated {t:?} is not a time"))?,
            },
            None => fallback_time.ok_or_else(|| "event has no TimeCreated".to_owned())?,
        };
        let trimmed = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(Event {
            source,
            provider: trimmed(self.provider).or_else(|| trimmed(self.source_name)).unwrap_or_default(),
            event_id,
            level: self.level.as_deref().and_then(|l| l.trim().parse().ok()),
            time,
            computer: trimmed(self.computer),
            channel: trimmed(self.channel),
            record_id: self.record_id.as_deref().and_then(|r| r.trim().parse().ok()).or(fallback_record_id),
            data: self.data,
            message: self.message.map(|m| m.trim_end().to_owned()).filter(|m| !m.is_empty()),
            kind: EventKind::Other,
        })
    }
}

/// Why an `<Event>` element could not be read.
#[derive(Debug)]
enum ReadError {
    /// The XML itself is broken at this offset (relative to the reader's input).
    Xml { offset: u64, message: String },
    /// The input ended inside the event.
    Truncated,
}

/// Where in the `<Event>` element the reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    System,
    EventData,
    UserData,
    RenderingInfo,
    Other,
}

/// Which `System` child is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SystemField {
    EventId,
    Level,
    RecordId,
    Channel,
    Computer,
    Other,
}

/// Reads the body of one `<Event>` whose start tag `start` was just read, up to its end tag.
fn event_body(reader: &mut Reader<&[u8]>, start_is_empty: bool) -> Result<EventFields, ReadError> {
    let mut f = EventFields::default();
    if start_is_empty {
        return Ok(f);
    }
    let mut depth = 0usize;
    let mut section = Section::Other;
    let mut field = SystemField::Other;
    let mut key: Option<String> = None;
    let mut unnamed = 0usize;
    let mut text = String::new();
    // UserData: the element path below the root, and for each open element the path length before it
    // and whether it has element children (only leaves become data).
    let mut path = String::new();
    let mut open: Vec<(usize, bool)> = Vec::new();
    let xml_err = |reader: &Reader<&[u8]>, e: quick_xml::Error| match e {
        // Every `Unclosed*` syntax error means the input ended inside markup.
        quick_xml::Error::Syntax(s) if s != quick_xml::errors::SyntaxError::InvalidBangMarkup => ReadError::Truncated,
        e => ReadError::Xml { offset: reader.error_position(), message: e.to_string() },
    };
    loop {
        let ev = reader.read_event().map_err(|e| xml_err(reader, e))?;
        let (element, is_empty) = match ev {
            XmlEvent::Start(e) => (Some(e), false),
            XmlEvent::Empty(e) => (Some(e), true),
            XmlEvent::End(_) => {
                if depth == 0 {
                    return Ok(f);
                }
                close(&mut f, section, field, depth, &mut key, &mut text, &mut path, &mut open);
                depth -= 1;
                continue;
            }
            XmlEvent::Text(t) => {
                text.push_str(&t.decode().map_err(|e| xml_err(reader, e.into()))?);
                continue;
            }
            XmlEvent::CData(t) => {
                text.push_str(&t.decode().map_err(|e| xml_err(reader, e.into()))?);
                continue;
            }
            XmlEvent::GeneralRef(r) => {
                if r.is_char_ref() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        text.push(c);
                    }
                } else {
                    let name = r.decode().map_err(|e| xml_err(reader, e.into()))?;
                    if let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) {
                        text.push_str(s);
                    } else {
                        text.push('&');
                        text.push_str(&name);
                        text.push(';');
                    }
                }
                continue;
            }
            XmlEvent::Eof => return Err(ReadError::Truncated),
            _ => continue,
        };
        let Some(e) = element else { continue };
        depth += 1;
        text.clear();
        open_element(&mut f, &e, depth, &mut section, &mut field, &mut key, &mut unnamed, &mut path, &mut open);
        if is_empty {
            close(&mut f, section, field, depth, &mut key, &mut text, &mut path, &mut open);
            depth -= 1;
        }
    }
}

/// The value of attribute `name` (local name), unescaped.
fn attribute(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes().with_checks(false).flatten().find(|a| a.key.local_name().as_ref() == name).map(|a| {
        a.unescape_value().map_or_else(|_| String::from_utf8_lossy(&a.value).into_owned(), std::borrow::Cow::into_owned)
    })
}

#[allow(clippy::too_many_arguments)]
fn open_element(
    f: &mut EventFields,
    e: &BytesStart<'_>,
    depth: usize,
    section: &mut Section,
    field: &mut SystemField,
    key: &mut Option<String>,
    unnamed: &mut usize,
    path: &mut String,
    open: &mut Vec<(usize, bool)>,
) {
    let local = e.local_name();
    let name = local.as_ref();
    match depth {
        1 => {
            *section = match name {
                b"System" => Section::System,
                b"EventData" => Section::EventData,
                b"UserData" => Section::UserData,
                b"RenderingInfo" => Section::RenderingInfo,
                _ => Section::Other,
            };
        }
        2 => match *section {
            Section::System => {
                *field = match name {
                    b"Provider" => {
                        f.provider = attribute(e, b"Name");
                        f.source_name = attribute(e, b"EventSourceName");
                        SystemField::Other
                    }
                    b"TimeCreated" => {
                        f.time_created = attribute(e, b"SystemTime");
                        SystemField::Other
                    }
                    b"EventID" => SystemField::EventId,
                    b"Level" => SystemField::Level,
                    b"EventRecordID" => SystemField::RecordId,
                    b"Channel" => SystemField::Channel,
                    b"Computer" => SystemField::Computer,
                    _ => SystemField::Other,
                };
            }
            Section::EventData => {
                *key = match name {
                    b"Data" => Some(attribute(e, b"Name").filter(|n| !n.is_empty()).unwrap_or_else(|| {
                        let k = unnamed.to_string();
                        *unnamed += 1;
                        k
                    })),
                    b"Binary" => Some("Binary".to_owned()),
                    _ => None,
                };
            }
            Section::UserData => {
                path.clear();
                open.clear();
            }
            Section::RenderingInfo => {
                *key = (name == b"Message").then(|| "Message".to_owned());
            }
            Section::Other => {}
        },
        _ if *section == Section::UserData => {
            if let Some(parent) = open.last_mut() {
                parent.1 = true;
            }
            open.push((path.len(), false));
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(&String::from_utf8_lossy(name));
        }
        _ => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn close(
    f: &mut EventFields,
    section: Section,
    field: SystemField,
    depth: usize,
    key: &mut Option<String>,
    text: &mut String,
    path: &mut String,
    open: &mut Vec<(usize, bool)>,
) {
    match (section, depth) {
        (Section::System, 2) => {
            let value = Some(std::mem::take(text));
            match field {
                SystemField::EventId => f.event_id = value,
                SystemField::Level => f.level = value,
                SystemField::RecordId => f.record_id = value,
                SystemField::Channel => f.channel = value,
                SystemField::Computer => f.computer = value,
                SystemField::Other => {}
            }
        }
        (Section::EventData, 2) => {
            if let Some(k) = key.take() {
                f.data.insert(k, std::mem::take(text));
            }
        }
        (Section::RenderingInfo, 2) if key.take().is_some() => {
            f.message = Some(std::mem::take(text));
        }
        (Section::UserData, d) if d >= 3 => {
            if let Some((len, has_child)) = open.pop() {
                if !has_child {
                    f.data.insert(path.clone(), std::mem::take(text));
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
    text.clear();
}

fn reader(input: &[u8]) -> Reader<&[u8]> {
    let mut reader = Reader::from_reader(input);
    let config = reader.config_mut();
    // Tolerance: exports from crashed machines can be cut or mangled; names are matched by depth.
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    reader
}

/// Reads one record as the evtx crate renders it: a declaration and one `<Event>`.
pub fn record(xml: &[u8]) -> Result<EventFields, String> {
    let mut reader = reader(xml);
    loop {
        match reader.read_event() {
            Ok(XmlEvent::Start(e)) if e.local_name().as_ref() == b"Event" => break,
            Ok(XmlEvent::Empty(e)) if e.local_name().as_ref() == b"Event" => return Ok(EventFields::default()),
            Ok(XmlEvent::Eof) => return Err("no <Event> element in the rendered record".to_owned()),
            Ok(_) => {}
            Err(e) => return Err(format!("rendered record is not XML: {e}")),
        }
    }
    event_body(&mut reader, false).map_err(|e| match e {
        ReadError::Xml { offset, message } => format!("rendered record is not XML at byte {offset}: {message}"),
        ReadError::Truncated => "rendered record ends inside <Event>".to_owned(),
    })
}

/// Counts lines up to increasing offsets without rescanning.
struct LineIndex<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str, first_line: u64) -> Self {
        Self { bytes: text.as_bytes(), offset: 0, line: first_line }
    }

    /// The 1-based line of byte `offset`.
    #[allow(clippy::naive_bytecount)] // one pass over the file; not worth a dependency
    fn line_at(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.bytes.len());
        if offset < self.offset {
            let back = self.bytes[offset..self.offset].iter().filter(|&&b| b == b'\n').count() as u64;
            self.line -= back;
        } else {
            self.line += self.bytes[self.offset..offset].iter().filter(|&&b| b == b'\n').count() as u64;
        }
        self.offset = offset;
        self.line
    }
}

/// Reads every `<Event>` in `text` (any root or none; declarations, comments and text between events
/// are skipped). Broken XML becomes a diagnostic at its line, and reading resumes at the next `<Event`.
/// `first_line` is the line number of `text`'s first line in the file.
pub fn stream(text: &str, first_line: u64, path: &str, events: &mut Vec<Event>, diags: &mut Vec<Diagnostic>) {
    let mut lines = LineIndex::new(text, first_line);
    let mut pos = 0usize;
    'resync: while pos < text.len() {
        let mut reader = reader(&text.as_bytes()[pos..]);
        loop {
            let before = pos + reader.buffer_position() as usize;
            let ev = match reader.read_event() {
                Ok(ev) => ev,
                Err(e) => {
                    let at = pos + reader.error_position() as usize;
                    diags.push(Diagnostic::at_line(
                        path,
                        lines.line_at(at),
                        Severity::Error,
                        format!("broken XML: {e}"),
                    ));
                    match next_event_start(text, at + 1) {
                        Some(next) => {
                            pos = next;
                            continue 'resync;
                        }
                        None => break 'resync,
                    }
                }
            };
            let (start_empty, is_event) = match &ev {
                XmlEvent::Start(e) => (false, e.local_name().as_ref() == b"Event"),
                XmlEvent::Empty(e) => (true, e.local_name().as_ref() == b"Event"),
                XmlEvent::Eof => break 'resync,
                _ => (false, false),
            };
            if !is_event {
                continue;
            }
            // Skip the whitespace a pretty-printed file has before `<Event`.
            let start = before + text[before..].find('<').unwrap_or(0);
            let line = lines.line_at(start);
            match event_body(&mut reader, start_empty) {
                Ok(fields) => match fields.into_event(SourceRef::line(path, line), None, None) {
                    Ok(event) => events.push(event),
                    Err(why) => {
                        diags.push(Diagnostic::at_line(path, line, Severity::Error, format!("event skipped: {why}")));
                    }
                },
                Err(ReadError::Truncated) => {
                    diags.push(Diagnostic::at_line(
                        path,
                        line,
                        Severity::Error,
                        "event cut off: the input ends inside <Event> (truncated copy?)",
                    ));
                    break 'resync;
                }
                Err(ReadError::Xml { offset, message }) => {
                    let at = pos + offset as usize;
                    diags.push(Diagnostic::at_line(
                        path,
                        lines.line_at(at),
                        Severity::Error,
                        format!("event skipped, broken XML: {message}"),
                    ));
                    match next_event_start(text, at.max(start) + 1) {
                        Some(next) => {
                            pos = next;
                            continue 'resync;
                        }
                        None => break 'resync,
                    }
                }
            }
        }
    }
}

/// The offset of the next `<Event` start tag (not `<Events`) at or after `from`.
fn next_event_start(text: &str, from: usize) -> Option<usize> {
    let mut from = from;
    while from < text.len() {
        let rel = text.get(from..)?.find("<Event")?;
        let at = from + rel;
        match text.as_bytes().get(at + 6) {
            Some(b' ' | b'>' | b'/' | b'\t' | b'\r' | b'\n') => return Some(at),
            _ => from = at + 6,
        }
    }
    None
}

/// The label that starts the XML of an Event Viewer "Copy details as text" paste (§2.7).
const EVENT_XML_LABEL: &str = "Event Xml:";

/// Reads decoded event XML of any shape; "Copy details as text" pastes are recognised by `Event Xml:`.
pub fn parse(text: &str, path: &str) -> (Vec<Event>, Vec<Diagnostic>) {
    let mut events = Vec::new();
    let mut diags = Vec::new();
    if text.contains(EVENT_XML_LABEL) {
        copy_details(text, path, &mut events, &mut diags);
    } else {
        stream(text, 1, path, &mut events, &mut diags);
    }
    (events, diags)
}

/// Event Viewer "Copy details as text": a `Log Name:` ... `Description:` header, the message, then
/// `Event Xml:` and the event's XML. Several pastes may follow each other. The header's local `Date:` is
/// not needed (the XML has `SystemTime`); the description becomes the message.
fn copy_details(text: &str, path: &str, events: &mut Vec<Event>, diags: &mut Vec<Diagnostic>) {
    let mut lines = LineIndex::new(text, 1);
    let mut search = 0usize;
    while let Some(rel) = text[search..].find(EVENT_XML_LABEL) {
        let label = search + rel;
        let xml_start = label + EVENT_XML_LABEL.len();
        // The paste's XML ends where the next paste's header starts.
        let xml_end = text[xml_start..].find("\nLog Name:").map_or(text.len(), |i| xml_start + i + 1);
        let header_start = text[..label].rfind("Log Name:").filter(|&h| h >= search).unwrap_or(search);
        let message = description(&text[header_start..label]);
        let before = events.len();
        stream(&text[xml_start..xml_end], lines.line_at(xml_start), path, events, diags);
        if events.len() == before {
            diags.push(Diagnostic::at_line(
                path,
                lines.line_at(label),
                Severity::Error,
                "no event XML after `Event Xml:`",
            ));
        }
        for event in &mut events[before..] {
            if event.message.is_none() {
                event.message.clone_from(&message);
            }
        }
        search = xml_end;
    }
}

/// The text after `Description:` in a copy-details header.
fn description(header: &str) -> Option<String> {
    let (_, rest) = header.split_once("Description:")?;
    let message = rest.trim();
    (!message.is_empty()).then(|| message.replace("\r\n", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<Event>, Vec<Diagnostic>) {
        parse(text, "t.xml")
    }

    const WEVTUTIL_LINE: &str = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='EventLog'/><EventID Qualifiers='32768'>6008</EventID><Level>2</Level><TimeCreated SystemTime='2026-09-02T23:57:30.0945289Z'/><EventRecordID>17</EventRecordID><Channel>System</Channel><Computer>HOST</Computer></System><EventData><Data>2:41:02 AM</Data><Data>5/29/2023</Data><Data></Data></EventData></Event>";

    #[test]
    fn wevtutil_line_without_root_and_single_quotes() {
        let (events, diags) = read(&format!("{WEVTUTIL_LINE}{WEVTUTIL_LINE}\r\n"));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(events.len(), 2);
        let e = &events[0];
        assert_eq!((e.provider.as_str(), e.event_id, e.level, e.record_id), ("EventLog", 6008, Some(2), Some(17)));
        assert_eq!(e.computer.as_deref(), Some("HOST"));
        assert_eq!(e.channel.as_deref(), Some("System"));
        assert_eq!(e.data.get("0").map(String::as_str), Some("2:41:02 AM"));
        assert_eq!(e.data.get("2").map(String::as_str), Some(""));
        assert_eq!(e.source.line, Some(1));
    }

    #[test]
    fn events_root_with_rendering_info_message() {
        let text = "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\r\n<Events><Event xmlns='x'><System><Provider Name='P'/><EventID>1</EventID><TimeCreated SystemTime='2020-09-20T06:30:07.000000000Z'/></System><EventData Name='X'></EventData><RenderingInfo Culture='fr-FR'><Message>Le serveur &amp; co</Message><Level>Avertissement</Level></RenderingInfo></Event></Events>";
        let (events, diags) = read(text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(events[0].message.as_deref(), Some("Le serveur & co"));
        assert_eq!(events[0].source.line, Some(2));
        assert!(events[0].data.is_empty());
    }

    #[test]
    fn named_data_and_binary() {
        let text = "<Event><System><Provider Name='Microsoft-Windows-Kernel-Power'/><EventID>41</EventID><TimeCreated SystemTime='2023-05-29T02:57:39Z'/></System><EventData><Data Name='BugcheckCode'>159</Data><Data Name='SleepInProgress'/><Binary>0100</Binary></EventData></Event>";
        let (events, _) = read(text);
        let d = &events[0].data;
        assert_eq!(d.get("BugcheckCode").map(String::as_str), Some("159"));
        assert_eq!(d.get("SleepInProgress").map(String::as_str), Some(""));
        assert_eq!(d.get("Binary").map(String::as_str), Some("0100"));
    }

    #[test]
    fn userdata_leaves_are_keyed_by_path() {
        let text = "<Event><System><Provider Name='R'/><EventID>2004</EventID><TimeCreated SystemTime='2023-12-27T11:17:15Z'/></System><UserData><MemoryExhaustionInfo xmlns='y'><SystemInfo><SystemCommitLimit>5</SystemCommitLimit></SystemInfo><PagedPoolInfo><Tag_1><Name>Toke</Name><PoolUsed>7</PoolUsed></Tag_1></PagedPoolInfo><ProcessInfo><Process_4><Name></Name><Version/></Process_4></ProcessInfo></MemoryExhaustionInfo></UserData></Event>";
        let (events, diags) = read(text);
        assert!(diags.is_empty(), "{diags:?}");
        let d = &events[0].data;
        assert_eq!(d.get("SystemInfo/SystemCommitLimit").map(String::as_str), Some("5"));
        assert_eq!(d.get("PagedPoolInfo/Tag_1/Name").map(String::as_str), Some("Toke"));
        assert_eq!(d.get("ProcessInfo/Process_4/Name").map(String::as_str), Some(""));
        assert_eq!(d.get("ProcessInfo/Process_4/Version").map(String::as_str), Some(""));
        assert_eq!(d.len(), 5);
    }

    #[test]
    fn copy_details_takes_the_xml_after_the_label_and_the_description() {
        let text = "Log Name:      System\r\nSource:        X\r\nDate:          12/27/2023 12:17:15\r\nEvent ID:      2004\r\nDescription:\r\nLow & <memory>.\r\nEvent Xml:\r\n<Event xmlns=\"e\">\r\n  <System>\r\n    <Provider Name=\"X\" />\r\n    <EventID>2004</EventID>\r\n    <TimeCreated SystemTime=\"2023-12-27T11:17:15.5785479Z\" />\r\n  </System>\r\n</Event>\r\n";
        let (events, diags) = read(text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].message.as_deref(), Some("Low & <memory>."));
        assert_eq!(events[0].source.line, Some(8));
    }

    #[test]
    fn truncated_last_event_keeps_earlier_ones() {
        let text = format!("{WEVTUTIL_LINE}\n{}", &WEVTUTIL_LINE[..200]);
        let (events, diags) = read(&text);
        assert_eq!(events.len(), 1);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, Some(2));
        assert!(diags[0].message.contains("cut off"));
    }

    #[test]
    fn broken_event_is_skipped_and_reading_resumes() {
        let broken = WEVTUTIL_LINE.replace("<Channel>", "<!Channel>");
        let text = format!("{WEVTUTIL_LINE}\n{broken}\n{WEVTUTIL_LINE}\n");
        let (events, diags) = read(&text);
        assert_eq!(events.len(), 2, "{diags:?}");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, Some(2));
    }

    #[test]
    fn event_without_time_or_id_is_a_diagnostic() {
        let (events, diags) = read("<Event><System><EventID>1</EventID></System></Event><Event><System><TimeCreated SystemTime='2020-01-01T00:00:00Z'/></System></Event>");
        assert!(events.is_empty());
        assert_eq!(diags.len(), 2);
    }

    #[test]
    fn record_from_evtx_rendering() {
        let xml = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Event xmlns=\"e\"><System><Provider Name=\"EventLog\"/><EventID Qualifiers=\"32768\">6013</EventID><TimeCreated SystemTime=\"2017-07-12T17:18:17.7723848Z\"/><EventRecordID>177</EventRecordID></System><EventData><Data></Data><Data></Data><Data></Data><Data></Data><Data>46</Data></EventData></Event>";
        let fields = record(xml).unwrap();
        assert_eq!(fields.data.get("4").map(String::as_str), Some("46"));
        let e = fields.into_event(SourceRef::offset("f", 0), None, None).unwrap();
        assert_eq!((e.event_id, e.record_id), (6013, Some(177)));
    }

    #[test]
    fn char_references_are_resolved() {
        let (events, _) = read("<Event><System><Provider Name='a&amp;b'/><EventID>1</EventID><TimeCreated SystemTime='2020-01-01T00:00:00Z'/></System><EventData><Data Name='x'>&#x41;&lt;</Data></EventData></Event>");
        assert_eq!(events[0].provider, "a&b");
        assert_eq!(events[0].data.get("x").map(String::as_str), Some("A<"));
    }
}
