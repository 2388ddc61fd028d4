//! Text event exports (events reference §2.2, §2.5, §2.7):
//! - `wevtutil qe /f:text`: `Event[N]:` blocks of indented `Label: value` lines, then `Description:` and
//!   the message from column 0. Labels stay English; values such as Level are localized. The `Date:` is
//!   `2016-12-22T05:29:02.512` (local, no zone) on older builds and `2025-11-12T15:49:43.5630000Z` (UTC)
//!   on newer ones; both are read. `EventData` is not in this format;
//! - the header of Event Viewer's "Copy details as text" without its XML: blocks that start at
//!   `Log Name:` with a local `Date:` such as `12/27/2023 12:17:15`;
//! - Event Viewer "Save as Text": tab-delimited, the CSV's columns (no public sample: the column set is
//!   assumed to mirror the CSV; §2.5), read by [`super::csv::parse_delimited`].

use std::collections::BTreeMap;
use std::io::BufRead;

use super::localtime::{LocalClock, LocalStamp};
use crate::model::event::EventData;
use crate::model::{Diagnostic, Event, EventKind, Severity, SourceRef};
use crate::parse::lines::LineReader;

/// Reads a text export: tab-delimited when the first line is a tab-separated header, else label blocks.
pub fn parse(text: &str, path: &str, clock: &mut LocalClock<'_>) -> (Vec<Event>, Vec<Diagnostic>) {
    let first = text.trim_start_matches('\u{feff}').lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if is_tab_header(first) {
        save_as_text(text, path, clock)
    } else {
        labelled_blocks(text, path, clock)
    }
}

/// Whether a line is the header of a tab-delimited export (`Level<TAB>Date and Time<TAB>...`).
pub fn is_tab_header(line: &str) -> bool {
    line.matches('\t').count() >= 3 && !line.trim_start().starts_with("Event[")
}

/// Event Viewer "Save as Text" (tab-delimited): the CSV's columns with tabs.
pub fn save_as_text(text: &str, path: &str, clock: &mut LocalClock<'_>) -> (Vec<Event>, Vec<Diagnostic>) {
    super::csv::parse_delimited(text, Some(b'\t'), path, clock)
}

/// `Event[12]:` (wevtutil's block header).
fn is_block_header(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("Event[") && t.ends_with("]:") && t[6..t.len() - 2].bytes().all(|b| b.is_ascii_digit())
}

/// One block being read; owned, so that blocks are read a line at a time from a stream.
struct Block {
    line: u64,
    labels: BTreeMap<&'static str, String>,
    description: Vec<String>,
    in_description: bool,
}

impl Block {
    fn new(line: u64) -> Self {
        Self { line, labels: BTreeMap::new(), description: Vec::new(), in_description: false }
    }
}

/// The labels of a block (wevtutil's and Event Viewer's, which stay English in every language).
const LABELS: [&str; 14] = [
    "Log Name",
    "Source",
    "Date",
    "Event ID",
    "Task",
    "Task Category",
    "Level",
    "Opcode",
    "Keyword",
    "Keywords",
    "User",
    "User Name",
    "Computer",
    "Description",
];

/// A `Label: value` line.
fn label_line(line: &str) -> Option<(&'static str, &str)> {
    let (label, value) = line.trim().split_once(':')?;
    let label = label.trim();
    LABELS.iter().find(|known| **known == label).map(|known| (*known, value.trim()))
}

/// `wevtutil qe /f:text` blocks, or copy-details headers without XML.
pub fn labelled_blocks(text: &str, path: &str, clock: &mut LocalClock<'_>) -> (Vec<Event>, Vec<Diagnostic>) {
    let mut blocks = LabelledBlocks::new(path);
    for (i, raw) in text.lines().enumerate() {
        blocks.line(i as u64 + 1, raw);
    }
    blocks.finish(clock)
}

/// [`labelled_blocks`] over numbered lines read from a stream ([`crate::parse::lines`]); lines cut at the
/// line-length limit are said so.
pub fn labelled_reader<R: BufRead>(
    lines: LineReader<R>,
    path: &str,
    clock: &mut LocalClock<'_>,
) -> (Vec<Event>, Vec<Diagnostic>) {
    let mut blocks = LabelledBlocks::new(path);
    let failed = crate::parse::lines::each_line(lines, path, |line, cut| {
        blocks.diags.extend(cut);
        // As `str::lines`: a `\r` goes with the `\n` after it.
        let text = if line.complete { line.text.strip_suffix('\r').unwrap_or(line.text) } else { line.text };
        blocks.line(line.no, text);
    });
    blocks.diags.extend(failed);
    blocks.finish(clock)
}

/// The blocks of a labelled export read so far.
struct LabelledBlocks<'p> {
    path: &'p str,
    blocks: Vec<Block>,
    diags: Vec<Diagnostic>,
}

impl<'p> LabelledBlocks<'p> {
    fn new(path: &'p str) -> Self {
        Self { path, blocks: Vec::new(), diags: Vec::new() }
    }

    /// Reads line `number` (without its line ending).
    fn line(&mut self, number: u64, raw: &str) {
        let path = self.path;
        let line = raw.trim_start_matches('\u{feff}');
        if is_block_header(line) {
            self.blocks.push(Block::new(number));
            return;
        }
        // Copy-details pastes have no `Event[N]:`; a `Log Name:` at column 0 starts one.
        let starts_paste = line.starts_with("Log Name:")
            && self.blocks.last().is_none_or(|b| b.in_description || b.labels.contains_key("Log Name"));
        if starts_paste {
            self.blocks.push(Block::new(number));
        }
        let Some(block) = self.blocks.last_mut() else {
            if !line.trim().is_empty() {
                self.diags.push(Diagnostic::at_line(
                    path,
                    number,
                    Severity::Warning,
                    "text before the first event ignored",
                ));
            }
            return;
        };
        if block.in_description {
            block.description.push(line.trim_end().to_owned());
            return;
        }
        match label_line(line) {
            Some(("Description", first)) => {
                block.in_description = true;
                if !first.is_empty() {
                    block.description.push(first.to_owned());
                }
            }
            Some((label, value)) => {
                block.labels.insert(label, value.to_owned());
            }
            None if line.trim().is_empty() => {}
            None => {
                self.diags.push(Diagnostic::at_line(path, number, Severity::Warning, "line not understood, ignored"));
            }
        }
    }

    /// Dates the blocks (day/month order settled over the file) and makes them events.
    fn finish(self, clock: &mut LocalClock<'_>) -> (Vec<Event>, Vec<Diagnostic>) {
        let (path, blocks, mut diags) = (self.path, self.blocks, self.diags);
        let stamps: Vec<Option<LocalStamp>> =
            blocks.iter().map(|b| b.labels.get("Date").and_then(|d| LocalStamp::parse(d))).collect();
        clock.settle(stamps.iter().flatten());
        let mut events = Vec::with_capacity(blocks.len());
        for (block, stamp) in blocks.into_iter().zip(stamps) {
            let Some(time) = stamp.as_ref().and_then(|s| clock.to_utc(s)) else {
                let date = block.labels.get("Date").map_or("", String::as_str);
                diags.push(Diagnostic::at_line(
                    path,
                    block.line,
                    Severity::Error,
                    format!("event skipped: date {date:?} not understood"),
                ));
                continue;
            };
            let id = block.labels.get("Event ID").map_or("", String::as_str);
            let Ok(event_id) = id.parse::<u32>() else {
                diags.push(Diagnostic::at_line(
                    path,
                    block.line,
                    Severity::Error,
                    format!("event skipped: event id {id:?} is not a number"),
                ));
                continue;
            };
            let label = |k: &str| block.labels.get(k).filter(|v| !v.is_empty() && *v != "N/A").cloned();
            let mut description = block.description;
            while description.last().is_some_and(|l| l.trim().is_empty()) {
                description.pop();
            }
            let message = description.join("\n");
            events.push(Event {
                source: SourceRef::line(path, block.line),
                provider: label("Source").unwrap_or_default(),
                event_id,
                level: block.labels.get("Level").and_then(|l| level(l)),
                time,
                computer: label("Computer"),
                channel: label("Log Name"),
                record_id: None,
                data: EventData::new(),
                message: (!message.trim().is_empty()).then_some(message),
                kind: EventKind::Other,
            });
        }
        (events, diags)
    }
}

/// The English level names wevtutil and Event Viewer print; localized ones (`信息`) give `None`.
fn level(text: &str) -> Option<u8> {
    match text.trim().to_ascii_lowercase().as_str() {
        "critical" => Some(1),
        "error" => Some(2),
        "warning" => Some(3),
        "information" => Some(4),
        "verbose" => Some(5),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimeSettings;

    fn read(text: &str) -> (Vec<Event>, Vec<Diagnostic>) {
        let settings = TimeSettings::default();
        let mut clock = LocalClock::new(&settings);
        let (events, mut diags) = parse(text, "t.txt", &mut clock);
        diags.extend(clock.diagnostics("t.txt"));
        (events, diags)
    }

    const WEVTUTIL: &str = "Event[0]:\r\n  Log Name: System\r\n  Source: EventLog\r\n  Date: 2016-12-22T05:29:02.512\r\n  Event ID: 6009\r\n  Task: N/A\r\n  Level: Information\r\n  Opcode: N/A\r\n  Keyword: Classic\r\n  User: N/A\r\n  User Name: N/A\r\n  Computer: WIN-UFKT7P1ELHE\r\n  Description: \r\nMicrosoft (R) Windows (R) 10.00. 14393  Multiprocessor Free.\r\n\r\nEvent[1]:\r\n  Log Name: System\r\n  Source: EventLog\r\n  Date: 2025-11-12T15:49:43.5630000Z\r\n  Event ID: 6013\r\n  Level: 信息\r\n  Computer: WIN-UFKT7P1ELHE\r\n  Description: \r\nThe system uptime is 46 seconds.\r\nSecond line: with a colon.\r\n\r\n";

    #[test]
    fn wevtutil_blocks_with_both_date_styles() {
        let (events, diags) = read(WEVTUTIL);
        assert_eq!(events.len(), 2, "{diags:?}");
        assert_eq!((events[0].event_id, events[0].level), (6009, Some(4)));
        assert_eq!(events[0].time.to_rfc3339(), "2016-12-22T05:29:02.512+00:00");
        assert_eq!(events[0].message.as_deref(), Some("Microsoft (R) Windows (R) 10.00. 14393  Multiprocessor Free."));
        assert_eq!(events[1].level, None);
        assert_eq!(events[1].time.to_rfc3339(), "2025-11-12T15:49:43.563+00:00");
        assert_eq!(events[1].message.as_deref(), Some("The system uptime is 46 seconds.\nSecond line: with a colon."));
        assert_eq!(events[1].source.line, Some(16));
        assert_eq!(events[0].channel.as_deref(), Some("System"));
        // Only the first block's local time asked for the zone assumption.
        assert_eq!(diags.len(), 1, "{diags:?}");
    }

    #[test]
    fn copy_details_header_without_xml() {
        let text = "Log Name:      System\nSource:        Srv\nDate:          22/05/2020 10:35:55\nEvent ID:      2020\nLevel:         Error\nComputer:      HOST\nDescription:\nThe server was unable to allocate from the system paged pool because the pool was empty.\nLog Name:      System\nSource:        Srv\nDate:          23/05/2020 10:35:55\nEvent ID:      2019\nDescription:\nnonpaged\n";
        let (events, diags) = read(text);
        assert_eq!(events.len(), 2, "{diags:?}");
        assert_eq!(events[0].time.to_rfc3339(), "2020-05-22T10:35:55+00:00");
        assert_eq!(events[1].event_id, 2019);
        assert_eq!(events[1].source.line, Some(9));
    }

    #[test]
    fn tab_delimited_save_as_text() {
        let text = "Level\tDate and Time\tSource\tEvent ID\tTask Category\nWarning\t12/27/2023 12:17:15 PM\tMicrosoft-Windows-Resource-Exhaustion-Detector\t2004\tResource Exhaustion Diagnosis Events\t\"Windows successfully diagnosed\tlow memory.\n more\"\n";
        let (events, diags) = read(text);
        assert_eq!(events.len(), 1, "{diags:?}");
        assert_eq!(events[0].event_id, 2004);
        assert_eq!(events[0].message.as_deref(), Some("Windows successfully diagnosed\tlow memory.\n more"));
    }

    #[test]
    fn bad_blocks_are_diagnostics() {
        let (events, diags) = read(
            "junk\nEvent[0]:\n  Date: soon\n  Event ID: 1\nEvent[1]:\n  Date: 2020-01-01T00:00:00Z\n  Event ID: x\n",
        );
        assert!(events.is_empty());
        let lines: Vec<_> = diags.iter().filter_map(|d| d.line).collect();
        assert_eq!(lines, vec![1, 2, 5]);
    }
}
