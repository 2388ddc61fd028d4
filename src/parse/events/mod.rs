//! Event logs: binary .evtx and every export format (events reference §2, §3), as typed events.
//!
//! Each format module reads records into [`Event`]s; this module then types them ([`typed::classify`],
//! keyed on provider and id), says once per file which zone local export times were read in, and sorts
//! by the event's own time (record order is not time order: §1.3's 6008 has a lower record id than the
//! Kernel-Power 41 logged before it).
//!
//! [`parse`] reads a whole file's bytes; [`parse_reader`] reads exports from a stream with memory bounded by
//! the events read, not the text (issue 14): XML in pieces cut at `</Event>` ([`xml::parse_reader`]), CSV a
//! record at a time ([`csv::parse_delimited_reader`]), text exports a line at a time
//! ([`text::labelled_reader`]), all decoded as they are read ([`crate::parse::lines`]).

pub mod csv;
pub mod evtx;
pub mod localtime;
pub mod text;
pub mod typed;
pub mod xml;

use std::io::{BufRead, BufReader, Cursor, Read};

use rayon::prelude::*;

use crate::model::{Diagnostic, Event, EventKind, Severity};
use crate::parse::lines::{CutLines, DecodeReader, LineReader, PART};
use crate::parse::{FileContext, Format};

use localtime::LocalClock;

/// Parses an event log or export in the given (detected) format. Never panics: what cannot be read is
/// a diagnostic with its line or byte offset, and everything else is kept.
pub fn parse(bytes: &[u8], format: Format, ctx: &FileContext) -> (Vec<Event>, Vec<Diagnostic>) {
    let path = ctx.path.as_str();
    let mut clock = LocalClock::new(&ctx.time);
    let (events, diags) = match format {
        Format::Evtx => evtx::parse(bytes, path),
        Format::EventXml => {
            let decoded = crate::parse::text::decode(bytes);
            xml::parse(&decoded.text, path)
        }
        Format::EventCsv | Format::EventText => {
            let decoded = crate::parse::text::decode(bytes);
            let text = decoded.text.as_ref();
            match layout(text) {
                TextLayout::Labelled => text::labelled_blocks(text, path, &mut clock),
                TextLayout::Tabs => text::save_as_text(text, path, &mut clock),
                TextLayout::Xml => xml::parse(text, path),
                TextLayout::Delimited => csv::parse(text, path, &mut clock),
            }
        }
        Format::Poolmon
        | Format::Handle
        | Format::PoolCsv
        | Format::Poolused
        | Format::DebuggerVm
        | Format::Pooltag
        | Format::Perfmon
        | Format::WpaPool
        | Format::DriverList => {
            return (
                Vec::new(),
                vec![Diagnostic::for_file(path, Severity::Error, format!("{format:?} is not an event-log format"))],
            );
        }
    };
    typed_and_sorted(events, diags, clock, path)
}

/// Bytes of XML export text read at a time by [`parse_reader`] (cut at the next `</Event>`).
pub const SEGMENT_BYTES: usize = 4 << 20;

/// Reads an event export (XML, CSV, text) from a stream of its bytes, with the results of [`parse`] (see
/// [`xml::parse_reader`] for the one case where they can differ) and memory bounded by the events read.
pub fn parse_reader<R: BufRead>(reader: R, format: Format, ctx: &FileContext) -> (Vec<Event>, Vec<Diagnostic>) {
    parse_reader_in(reader, format, ctx, SEGMENT_BYTES)
}

/// [`parse_reader`] with XML cut into pieces of at least `segment` bytes (tests cut at every event).
pub fn parse_reader_in<R: BufRead>(
    reader: R,
    format: Format,
    ctx: &FileContext,
    segment: usize,
) -> (Vec<Event>, Vec<Diagnostic>) {
    let path = ctx.path.as_str();
    let mut clock = LocalClock::new(&ctx.time);
    let mut decoded = DecodeReader::new(reader);
    let (events, diags) = match format {
        Format::EventXml => xml::parse_reader(decoded, path, segment),
        Format::EventCsv | Format::EventText => {
            let head = match read_layout_head(&mut decoded) {
                Ok(head) => head,
                Err(e) => {
                    let cannot = Diagnostic::for_file(path, Severity::Error, format!("cannot read file: {e}"));
                    return (Vec::new(), vec![cannot]);
                }
            };
            let layout = layout(&head);
            let text = Cursor::new(head.into_bytes()).chain(decoded);
            let max_line = ctx.limits.max_line_bytes;
            match layout {
                TextLayout::Labelled => text::labelled_reader(LineReader::new(text, max_line), path, &mut clock),
                TextLayout::Xml => xml::parse_reader(text, path, segment),
                TextLayout::Tabs | TextLayout::Delimited => {
                    let delimiter = (layout == TextLayout::Tabs).then_some(b'\t');
                    let mut cut = Vec::new();
                    let lines = BufReader::new(CutLines::new(LineReader::new(text, max_line), path, &mut cut));
                    let (events, mut diags) = csv::parse_delimited_reader(lines, delimiter, path, &mut clock);
                    diags.extend(cut);
                    (events, diags)
                }
            }
        }
        _ => return not_an_export(format, path),
    };
    typed_and_sorted(events, diags, clock, path)
}

/// The diagnostic for a format that is not an event export read as text.
fn not_an_export(format: Format, path: &str) -> (Vec<Event>, Vec<Diagnostic>) {
    (Vec::new(), vec![Diagnostic::for_file(path, Severity::Error, format!("{format:?} is not an event-log format"))])
}

/// Decoded text up to the line [`layout`] decides on (at most about [`PART`] bytes).
fn read_layout_head<R: BufRead>(decoded: &mut R) -> std::io::Result<String> {
    let mut head = Vec::new();
    loop {
        let start = head.len();
        if decoded.by_ref().take(PART as u64).read_until(b'\n', &mut head)? == 0 {
            break;
        }
        // Judged on the new line alone (one pass over the head); it may read a line more than `layout` needs.
        if first_meaningful_line(&String::from_utf8_lossy(&head[start..])).is_some() || head.len() > PART {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// Reads a binary .evtx file chunk by chunk (memory bounded by a batch of chunks, not by the file's size) and
/// types its events like [`parse`].
pub fn parse_evtx_file(file: std::fs::File, ctx: &FileContext) -> (Vec<Event>, Vec<Diagnostic>) {
    let (events, diags) = evtx::parse_file(file, &ctx.path);
    typed_and_sorted(events, diags, LocalClock::new(&ctx.time), &ctx.path)
}

/// Types every event ([`typed::classify`]), notes exports without event data, says which zone local times
/// were read in, and sorts by time.
fn typed_and_sorted(
    mut events: Vec<Event>,
    mut diags: Vec<Diagnostic>,
    mut clock: LocalClock<'_>,
    path: &str,
) -> (Vec<Event>, Vec<Diagnostic>) {
    let mut without_data = 0usize;
    for event in &mut events {
        let kind = typed::classify(event, &mut clock);
        if let EventKind::ResourceExhaustion(re) = &kind {
            if re.commit_limit.is_none() && re.processes.is_empty() && event.data.is_empty() {
                without_data += 1;
            }
        }
        event.kind = kind;
    }
    if without_data > 0 {
        diags.push(Diagnostic::for_file(
            path,
            Severity::Warning,
            format!(
                "{without_data} resource-exhaustion (2004) event(s) come without event data in this export: commit, \
                 pool and process figures are not available (export the log as .evtx or XML to get them)"
            ),
        ));
    }
    diags.extend(clock.diagnostics(path));
    sort_by_time(&mut events);
    (events, diags)
}

/// Sorts by the event's own time, then record id; stable, so equal times keep file order. Logs are
/// mostly in time order already, and an event is a large value: the order is settled on small keys and
/// each event is then moved once.
pub fn sort_by_time(events: &mut Vec<Event>) {
    let key = |e: &Event| (e.time, e.record_id);
    if events.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
        return;
    }
    // The keys are unique (the index is one), so the parallel unstable sort is deterministic.
    let mut order: Vec<(chrono::DateTime<chrono::Utc>, Option<u64>, usize)> =
        events.par_iter().enumerate().map(|(i, e)| (e.time, e.record_id, i)).collect();
    order.par_sort_unstable();
    let mut slots: Vec<Option<Event>> = std::mem::take(events).into_iter().map(Some).collect();
    events.extend(order.into_iter().filter_map(|(_, _, i)| slots[i].take()));
}

/// How a text export is laid out, from its first meaningful line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextLayout {
    /// `Event[0]:` blocks or `Log Name:` copy-details headers.
    Labelled,
    /// Event Viewer "Save as Text" (tab-delimited).
    Tabs,
    /// Event XML (a forced format that was XML after all).
    Xml,
    /// CSV (comma or semicolon).
    Delimited,
}

/// The first line that is neither blank nor `#TYPE`, trimmed.
fn first_meaningful_line(text: &str) -> Option<&str> {
    text.trim_start_matches('\u{feff}').lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("#TYPE"))
}

fn layout(text: &str) -> TextLayout {
    let first = first_meaningful_line(text).unwrap_or("");
    if first.starts_with("Event[") || first.starts_with("Log Name:") {
        TextLayout::Labelled
    } else if first.starts_with('<') {
        TextLayout::Xml
    } else if text::is_tab_header(first) {
        TextLayout::Tabs
    } else {
        TextLayout::Delimited
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimeSettings;

    fn ctx() -> FileContext {
        FileContext { path: "f".into(), time: TimeSettings::default(), ..FileContext::default() }
    }

    #[test]
    fn layout_is_read_from_the_first_line() {
        assert_eq!(layout("\u{feff}Event[0]:\n"), TextLayout::Labelled);
        assert_eq!(layout("Log Name:      System\n"), TextLayout::Labelled);
        assert_eq!(layout("Level\tDate and Time\tSource\tEvent ID\tTask Category\n"), TextLayout::Tabs);
        assert_eq!(layout("#TYPE x\n\"Message\",\"Id\"\n"), TextLayout::Delimited);
        assert_eq!(layout("  <Event>"), TextLayout::Xml);
    }

    #[test]
    fn events_are_sorted_by_their_own_time_and_typed() {
        let xml = "<Event><System><Provider Name='EventLog'/><EventID>6008</EventID><TimeCreated SystemTime='2023-05-29T02:57:41Z'/><EventRecordID>64649</EventRecordID></System><EventData><Data>2:41:02 AM</Data><Data>5/29/2023</Data></EventData></Event>\n<Event><System><Provider Name='Microsoft-Windows-Kernel-Power'/><EventID>41</EventID><TimeCreated SystemTime='2023-05-29T02:57:39Z'/><EventRecordID>64666</EventRecordID></System><EventData><Data Name='BugcheckCode'>0</Data></EventData></Event>";
        let (events, diags) = parse(xml.as_bytes(), Format::EventXml, &ctx());
        let ids: Vec<_> = events.iter().map(|e| e.record_id).collect();
        assert_eq!(ids, vec![Some(64666), Some(64649)]);
        assert!(matches!(events[0].kind, EventKind::Crash { bugcheck_code: Some(0), .. }));
        // 6008's localized time was read as UTC: said once.
        assert_eq!(diags.len(), 1, "{diags:?}");
    }

    #[test]
    fn exhaustion_without_data_is_said() {
        let csv = "Level,Date and Time,Source,Event ID,Task Category\nWarning,12/27/2023 12:17:15 PM,Microsoft-Windows-Resource-Exhaustion-Detector,2004,x,msg\n";
        let (events, diags) = parse(csv.as_bytes(), Format::EventCsv, &ctx());
        assert!(matches!(events[0].kind, EventKind::ResourceExhaustion(_)));
        assert!(diags.iter().any(|d| d.message.contains("without event data")), "{diags:?}");
    }

    #[test]
    fn non_event_format_is_refused() {
        let (events, diags) = parse(b"x", Format::Poolmon, &ctx());
        assert!(events.is_empty());
        assert_eq!(diags.len(), 1);
    }
}
