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

mod rendered;

use std::borrow::Cow;
use std::io::BufRead;

use chrono::{DateTime, Utc};
use quick_xml::events::{BytesStart, Event as XmlEvent};
use quick_xml::Reader;

use super::localtime;
use crate::model::event::{EventData, EventDataBuilder};
use crate::model::{Diagnostic, Event, EventKind, Severity, SourceRef};

/// The parts of an `<Event>` as read, before they are checked and typed. Numbers and times are parsed
/// as they are read (no copies); text that is not a number or time is kept for the diagnostic.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EventFields {
    /// `Provider/@Name`.
    pub provider: Option<String>,
    /// `Provider/@EventSourceName` (classic sources), used when `Name` is missing.
    pub source_name: Option<String>,
    /// `EventID`, or its text when it is not a number.
    pub event_id: Option<Result<u32, String>>,
    /// `Level`, when it is a number.
    pub level: Option<u8>,
    /// `TimeCreated/@SystemTime`, or its text when it is not a time.
    pub time_created: Option<Result<DateTime<Utc>, String>>,
    /// `EventRecordID`, when it is a number.
    pub record_id: Option<u64>,
    /// `Channel` text.
    pub channel: Option<String>,
    /// `Computer` text.
    pub computer: Option<String>,
    /// EventData/UserData fields (see the module docs for the keys).
    pub data: EventData,
    /// `RenderingInfo/Message`, when the export carried one.
    pub message: Option<String>,
}

/// A string without surrounding whitespace; `None` when nothing is left. Reuses the allocation when
/// there is nothing to trim (the usual case).
fn trimmed(value: Option<String>) -> Option<String> {
    let value = value?;
    let t = value.trim();
    if t.is_empty() {
        None
    } else if t.len() == value.len() {
        Some(value)
    } else {
        Some(t.to_owned())
    }
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
        let event_id = match self.event_id {
            Some(Ok(id)) => id,
            Some(Err(text)) => return Err(format!("EventID {text:?} is not a number")),
            None => return Err("event has no EventID".to_owned()),
        };
        let time = match self.time_created {
            Some(Ok(t)) => t,
            Some(Err(text)) => fallback_time.ok_or_else(|| format!("TimeCreated {text:?} is not a time"))?,
            None => fallback_time.ok_or_else(|| "event has no TimeCreated".to_owned())?,
        };
        let message = match self.message {
            Some(m) if m.trim_end().len() == m.len() => Some(m),
            Some(m) => Some(m.trim_end().to_owned()),
            None => None,
        };
        Ok(Event {
            source,
            provider: trimmed(self.provider).or_else(|| trimmed(self.source_name)).unwrap_or_default(),
            event_id,
            level: self.level,
            time,
            computer: trimmed(self.computer),
            channel: trimmed(self.channel),
            record_id: self.record_id.or(fallback_record_id),
            data: self.data,
            message: message.filter(|m| !m.is_empty()),
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

/// Which leaf element is open, and where its text goes when it closes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Leaf {
    EventId,
    Level,
    RecordId,
    Channel,
    Computer,
    /// An EventData `<Data>` or `<Binary>`; its key is the reader's `key`.
    Data,
    Message,
    None,
}

/// Reads one `<Event>` element's body, keeping one reusable text buffer and allocating only what the
/// [`Event`] keeps.
struct EventReader {
    fields: EventFields,
    depth: usize,
    section: Section,
    leaf: Leaf,
    unnamed: usize,
    /// Text of the open element, reused from element to element.
    text: String,
    /// The key of the open EventData element.
    key: String,
    /// The event's data fields as read.
    data: EventDataBuilder,
    /// `UserData`: the element path below the root element, and for each open element the path length
    /// before it and whether it has element children (only leaves become data).
    path: String,
    open: Vec<(usize, bool)>,
}

impl EventReader {
    fn new() -> Self {
        Self {
            fields: EventFields::default(),
            depth: 0,
            section: Section::Other,
            leaf: Leaf::None,
            unnamed: 0,
            text: String::new(),
            key: String::new(),
            data: EventDataBuilder::default(),
            path: String::new(),
            open: Vec::new(),
        }
    }

    /// The text of the element that just closed, as a new exact-size string.
    fn take_text(&self) -> String {
        self.text.as_str().to_owned()
    }

    /// An element opened: `name` is its local name, `attrs` its attributes.
    fn open_element(&mut self, name: &[u8], attrs: &impl Attributes) {
        self.text.clear();
        match self.depth {
            1 => {
                self.section = match name {
                    b"System" => Section::System,
                    b"EventData" => Section::EventData,
                    b"UserData" => Section::UserData,
                    b"RenderingInfo" => Section::RenderingInfo,
                    _ => Section::Other,
                };
            }
            2 => {
                self.leaf = match (self.section, name) {
                    (Section::System, b"Provider") => {
                        self.fields.provider = attrs.get(b"Name").map(Cow::into_owned);
                        // Classic sources' `EventSourceName` is only needed when `Name` is missing.
                        if self.fields.provider.as_deref().is_none_or(|p| p.trim().is_empty()) {
                            self.fields.source_name = attrs.get(b"EventSourceName").map(Cow::into_owned);
                        }
                        Leaf::None
                    }
                    (Section::System, b"TimeCreated") => {
                        self.fields.time_created =
                            attrs.get(b"SystemTime").map(|t| localtime::system_time(&t).ok_or_else(|| t.into_owned()));
                        Leaf::None
                    }
                    (Section::System, b"EventID") => Leaf::EventId,
                    (Section::System, b"Level") => Leaf::Level,
                    (Section::System, b"EventRecordID") => Leaf::RecordId,
                    (Section::System, b"Channel") => Leaf::Channel,
                    (Section::System, b"Computer") => Leaf::Computer,
                    (Section::EventData, b"Data") => {
                        self.key.clear();
                        match attrs.get(b"Name") {
                            Some(n) if !n.is_empty() => self.key.push_str(&n),
                            _ => {
                                self.unnamed += 1;
                                self.key.push_str(itoa::Buffer::new().format(self.unnamed - 1));
                            }
                        }
                        Leaf::Data
                    }
                    (Section::EventData, b"Binary") => {
                        self.key.clear();
                        self.key.push_str("Binary");
                        Leaf::Data
                    }
                    (Section::RenderingInfo, b"Message") => Leaf::Message,
                    (Section::UserData, _) => {
                        self.path.clear();
                        self.open.clear();
                        Leaf::None
                    }
                    _ => Leaf::None,
                };
            }
            _ if self.section == Section::UserData => {
                if let Some(parent) = self.open.last_mut() {
                    parent.1 = true;
                }
                self.open.push((self.path.len(), false));
                if !self.path.is_empty() {
                    self.path.push('/');
                }
                match std::str::from_utf8(name) {
                    Ok(n) => self.path.push_str(n),
                    Err(_) => self.path.push_str(&String::from_utf8_lossy(name)),
                }
            }
            _ => {}
        }
    }

    fn close_element(&mut self) {
        if self.depth == 2 {
            // Only System values are trimmed; data values are kept as written.
            let trimmed = || self.text.trim();
            match std::mem::replace(&mut self.leaf, Leaf::None) {
                Leaf::EventId => self.fields.event_id = Some(trimmed().parse().map_err(|_| trimmed().to_owned())),
                Leaf::Level => self.fields.level = trimmed().parse().ok(),
                Leaf::RecordId => self.fields.record_id = trimmed().parse().ok(),
                Leaf::Channel => self.fields.channel = Some(trimmed().to_owned()),
                Leaf::Computer => self.fields.computer = Some(trimmed().to_owned()),
                Leaf::Data => self.data.push(&self.key, &self.text),
                Leaf::Message => self.fields.message = Some(self.take_text()),
                Leaf::None => {}
            }
        } else if self.depth >= 3 && self.section == Section::UserData {
            if let Some((len, has_child)) = self.open.pop() {
                if !has_child {
                    self.data.push(&self.path, &self.text);
                }
                self.path.truncate(len);
            }
        }
        self.text.clear();
    }

    /// Starts a new `<Event>` (its start tag was just read), keeping the buffers of the last one.
    fn begin(&mut self) {
        self.depth = 0;
        self.section = Section::Other;
        self.leaf = Leaf::None;
        self.unnamed = 0;
        self.text.clear();
        self.path.clear();
        self.open.clear();
        // A record that failed half-way leaves fields behind.
        self.data.clear();
        self.fields = EventFields::default();
    }

    /// A start tag inside the event.
    fn start(&mut self, name: &[u8], attrs: &impl Attributes) {
        self.depth += 1;
        self.open_element(name, attrs);
    }

    /// An empty-element tag (`<X/>`) inside the event.
    fn empty(&mut self, name: &[u8], attrs: &impl Attributes) {
        self.depth += 1;
        self.open_element(name, attrs);
        self.close_element();
        self.depth -= 1;
    }

    /// An end tag; `true` when it ends the `<Event>` itself (end tags are matched by depth, not name).
    fn end(&mut self) -> bool {
        if self.depth == 0 {
            return true;
        }
        self.close_element();
        self.depth -= 1;
        false
    }

    /// The fields of the event that just ended.
    fn finish(&mut self) -> EventFields {
        self.fields.data = self.data.finish();
        std::mem::take(&mut self.fields)
    }

    /// Reads up to the end tag of the `<Event>` whose start tag was just read. The reader's buffers are
    /// kept for the next event.
    fn read(&mut self, reader: &mut Reader<&[u8]>) -> Result<EventFields, ReadError> {
        self.begin();
        let xml_err = |reader: &Reader<&[u8]>, e: quick_xml::Error| match e {
            // Every `Unclosed*` syntax error means the input ended inside markup.
            quick_xml::Error::Syntax(s) if s != quick_xml::errors::SyntaxError::InvalidBangMarkup => {
                ReadError::Truncated
            }
            e => ReadError::Xml { offset: reader.error_position(), message: e.to_string() },
        };
        loop {
            match reader.read_event().map_err(|e| xml_err(reader, e))? {
                XmlEvent::Start(e) => self.start(e.local_name().as_ref(), &e),
                XmlEvent::Empty(e) => self.empty(e.local_name().as_ref(), &e),
                // `end` closes the element either way; an end tag that does not end the event falls to `_`.
                XmlEvent::End(_) if self.end() => return Ok(self.finish()),
                XmlEvent::Text(t) => self.text.push_str(&t.decode().map_err(|e| xml_err(reader, e.into()))?),
                XmlEvent::CData(t) => self.text.push_str(&t.decode().map_err(|e| xml_err(reader, e.into()))?),
                XmlEvent::GeneralRef(r) => {
                    if r.is_char_ref() {
                        if let Ok(Some(c)) = r.resolve_char_ref() {
                            self.text.push(c);
                        }
                    } else {
                        let name = r.decode().map_err(|e| xml_err(reader, e.into()))?;
                        if let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) {
                            self.text.push_str(s);
                        } else {
                            self.text.push('&');
                            self.text.push_str(&name);
                            self.text.push(';');
                        }
                    }
                }
                XmlEvent::Eof => return Err(ReadError::Truncated),
                _ => {}
            }
        }
    }
}

/// Reads the body of one `<Event>` whose start tag was just read, up to its end tag.
fn event_body(
    body: &mut EventReader,
    reader: &mut Reader<&[u8]>,
    start_is_empty: bool,
) -> Result<EventFields, ReadError> {
    if start_is_empty {
        return Ok(EventFields::default());
    }
    body.read(reader)
}

/// An element's attributes, looked up by local name (`xmlns:x` is `x`), the first of that name winning;
/// values unescaped and borrowed from the input when nothing needs unescaping.
trait Attributes {
    fn get(&self, name: &[u8]) -> Option<Cow<'_, str>>;
}

impl Attributes for BytesStart<'_> {
    fn get(&self, name: &[u8]) -> Option<Cow<'_, str>> {
        self.attributes().with_checks(false).flatten().find(|a| a.key.local_name().as_ref() == name).map(|a| {
            match a.value {
                Cow::Borrowed(raw) => attribute_value(raw),
                Cow::Owned(raw) => Cow::Owned(unescape_lossy(&raw)),
            }
        })
    }
}

/// A raw attribute value, unescaped; borrowed as is when it is UTF-8 without `&` (the usual case).
fn attribute_value(raw: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(raw) {
        Ok(s) if !s.contains('&') => Cow::Borrowed(s),
        _ => Cow::Owned(unescape_lossy(raw)),
    }
}

/// Unescapes an attribute value; one that is not valid UTF-8 or has a bad entity is kept as written.
fn unescape_lossy(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    match quick_xml::escape::unescape(&text) {
        Ok(s) => s.into_owned(),
        Err(_) => text.into_owned(),
    }
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

/// Reads one record as the evtx crate renders it: a declaration and one `<Event>`. One-off; a reader of
/// many records keeps a [`RecordReader`].
pub fn record(xml: &[u8]) -> Result<EventFields, String> {
    RecordReader::new().read(xml)
}

/// Reads records as the evtx crate renders them, keeping its buffers from record to record. The crate's
/// exact shape (see the `rendered` module) is read by a scanner of its own; anything else, or anything that
/// scanner is not sure of, by quick-xml. Both drive the same field mapping, so a record reads the same
/// either way (and the same as in an XML export).
pub struct RecordReader {
    body: EventReader,
}

impl Default for RecordReader {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordReader {
    /// A reader with empty buffers.
    pub fn new() -> Self {
        Self { body: EventReader::new() }
    }

    /// Reads one rendered record.
    pub fn read(&mut self, xml: &[u8]) -> Result<EventFields, String> {
        if let Some(fields) = rendered::record(xml, &mut self.body) {
            return Ok(fields);
        }
        self.read_general(xml)
    }

    /// [`Self::read`] through quick-xml alone (tests compare the two paths).
    pub fn read_general(&mut self, xml: &[u8]) -> Result<EventFields, String> {
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
        event_body(&mut self.body, &mut reader, false).map_err(|e| match e {
            ReadError::Xml { offset, message } => format!("rendered record is not XML at byte {offset}: {message}"),
            ReadError::Truncated => "rendered record ends inside <Event>".to_owned(),
        })
    }
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
    let mut body = EventReader::new();
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
            match event_body(&mut body, &mut reader, start_empty) {
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
    // Events take 0.5-3 KiB of XML: room for the smaller estimate up front saves most regrowth copies.
    let mut events = Vec::with_capacity(text.len() / 3072);
    let mut diags = Vec::new();
    if text.contains(EVENT_XML_LABEL) {
        copy_details(text, path, &mut events, &mut diags);
    } else {
        stream(text, 1, path, &mut events, &mut diags);
    }
    (events, diags)
}

/// Largest text held while no `</Event>` ends it (a runaway or event-less file): beyond it, what is held is read
/// as it is (its cut event is a diagnostic) and reading goes on from there.
const HELD_LIMIT: usize = 64 << 20;

/// Reads decoded event XML from `reader` with memory bounded by `segment` bytes and one event, not by the file:
/// the text is cut after an `</Event>` once at least `segment` bytes are held, and each piece is read by
/// [`stream`] (numbering its lines from where it starts). Exports are one line per file (Event Viewer) or per
/// event, so XML is cut at events, not at lines. A file that fits in one piece, or whose first piece holds a
/// "Copy details as text" label (pastes are small), is read whole by [`parse`]: the same as reading the whole
/// text in every case but a paste that starts after the first piece of a large file.
pub fn parse_reader<R: BufRead>(mut reader: R, path: &str, segment: usize) -> (Vec<Event>, Vec<Diagnostic>) {
    let mut events = Vec::new();
    let mut diags = Vec::new();
    let mut held = String::new();
    // Line of `held`'s first byte; end of the last `</Event>` in `held`; bytes of `held` searched for one.
    let (mut line, mut last_end, mut searched) = (1u64, None::<usize>, 0usize);
    let (mut cut_any, mut whole) = (false, false);
    let mut failed = None;
    loop {
        let chunk = match reader.fill_buf() {
            Ok([]) => break,
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let at = line + held.matches('\n').count() as u64;
                failed = Some(crate::parse::lines::read_error(path, at, &e));
                break;
            }
        };
        let len = chunk.len();
        held.push_str(&String::from_utf8_lossy(chunk));
        reader.consume(len);
        if !cut_any && !whole && held.contains(EVENT_XML_LABEL) {
            whole = true;
        }
        if whole && held.len() <= HELD_LIMIT {
            continue;
        }
        // Only the new text (and the 7 bytes before it, for an end tag split across reads) is searched.
        let mut from = searched.saturating_sub(7);
        while !held.is_char_boundary(from) {
            from -= 1;
        }
        if let Some(at) = held[from..].rfind("</Event>") {
            last_end = Some(from + at + "</Event>".len());
        }
        searched = held.len();
        let cut = match last_end {
            Some(end) if held.len() >= segment => end,
            _ if held.len() > HELD_LIMIT => held.len(),
            _ => continue,
        };
        let rest = held.split_off(cut);
        stream(&held, line, path, &mut events, &mut diags);
        line += held.matches('\n').count() as u64;
        held = rest;
        (last_end, searched, cut_any) = (None, 0, true);
    }
    if cut_any {
        stream(&held, line, path, &mut events, &mut diags);
    } else {
        (events, diags) = parse(&held, path);
    }
    diags.extend(failed);
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
        assert_eq!(e.data.get("0"), Some("2:41:02 AM"));
        assert_eq!(e.data.get("2"), Some(""));
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
        assert_eq!(d.get("BugcheckCode"), Some("159"));
        assert_eq!(d.get("SleepInProgress"), Some(""));
        assert_eq!(d.get("Binary"), Some("0100"));
    }

    #[test]
    fn userdata_leaves_are_keyed_by_path() {
        let text = "<Event><System><Provider Name='R'/><EventID>2004</EventID><TimeCreated SystemTime='2023-12-27T11:17:15Z'/></System><UserData><MemoryExhaustionInfo xmlns='y'><SystemInfo><SystemCommitLimit>5</SystemCommitLimit></SystemInfo><PagedPoolInfo><Tag_1><Name>Toke</Name><PoolUsed>7</PoolUsed></Tag_1></PagedPoolInfo><ProcessInfo><Process_4><Name></Name><Version/></Process_4></ProcessInfo></MemoryExhaustionInfo></UserData></Event>";
        let (events, diags) = read(text);
        assert!(diags.is_empty(), "{diags:?}");
        let d = &events[0].data;
        assert_eq!(d.get("SystemInfo/SystemCommitLimit"), Some("5"));
        assert_eq!(d.get("PagedPoolInfo/Tag_1/Name"), Some("Toke"));
        assert_eq!(d.get("ProcessInfo/Process_4/Name"), Some(""));
        assert_eq!(d.get("ProcessInfo/Process_4/Version"), Some(""));
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
        assert_eq!(fields.data.get("4"), Some("46"));
        let e = fields.into_event(SourceRef::offset("f", 0), None, None).unwrap();
        assert_eq!((e.event_id, e.record_id), (6013, Some(177)));
    }

    #[test]
    fn char_references_are_resolved() {
        let (events, _) = read("<Event><System><Provider Name='a&amp;b'/><EventID>1</EventID><TimeCreated SystemTime='2020-01-01T00:00:00Z'/></System><EventData><Data Name='x'>&#x41;&lt;</Data></EventData></Event>");
        assert_eq!(events[0].provider, "a&b");
        assert_eq!(events[0].data.get("x"), Some("A<"));
    }
}
