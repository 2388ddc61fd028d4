//! Delimited event exports (events reference §2.4-2.6):
//! - Event Viewer "Save as CSV": UTF-8 BOM, header `Level,Date and Time,Source,Event ID,Task Category`
//!   (five names) while every row has six fields, the sixth an unnamed message column; local times to the
//!   second in the user's short-date/long-time format; newest first; multi-line messages quoted;
//! - `Get-WinEvent | Export-Csv`: an optional `#TYPE` line (Windows PowerShell 5.1), 27 quoted columns
//!   (`Message`, `Id`, `Level`, `RecordId`, `ProviderName`, `LogName`, `MachineName`, `TimeCreated`, ...),
//!   `;` with `-UseCulture`; `EventData` is lost (`Properties` is a .NET type name);
//! - Event Viewer "Save as Text" (tab-delimited), read with the same column rules (see `super::text`).
//!
//! Columns are found by their header names; a header in another language is read by position when it has
//! Event Viewer's five columns. Times are local and read in `--tz` with a day/month order settled over
//! the whole file.

use std::collections::BTreeMap;
use std::io::{BufRead, Cursor, Read};

use super::localtime::{LocalClock, LocalStamp};
use crate::model::event::EventData;
use crate::model::{Diagnostic, Event, EventKind, Severity, SourceRef};
use crate::parse::lines::LineTracker;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    /// `Level`: a name (`Information`) in Event Viewer, a number in Get-WinEvent.
    Level,
    /// `LevelDisplayName` (Get-WinEvent), used when `Level` is not numeric.
    LevelName,
    /// `Date and Time` / `TimeCreated`: local time.
    Time,
    /// `Source` / `ProviderName`.
    Provider,
    /// `Event ID` / `Id`.
    EventId,
    /// `Computer` / `MachineName`.
    Computer,
    /// `Log Name` / `LogName`.
    Channel,
    /// `RecordId` (Get-WinEvent).
    RecordId,
    /// `Message` / `Description`, or Event Viewer's unnamed last column.
    Message,
    /// Anything else (`Task Category`, `Keywords`, `Properties`, ...).
    Ignored,
}

fn column(name: &str) -> Column {
    match name.trim().trim_start_matches('\u{feff}').to_ascii_lowercase().as_str() {
        "level" => Column::Level,
        "leveldisplayname" => Column::LevelName,
        "date and time" | "timecreated" | "date" | "time created" => Column::Time,
        "source" | "providername" | "provider" => Column::Provider,
        "event id" | "id" | "eventid" => Column::EventId,
        "computer" | "machinename" => Column::Computer,
        "log name" | "logname" | "channel" => Column::Channel,
        "recordid" | "record id" => Column::RecordId,
        "message" | "description" | "" => Column::Message,
        _ => Column::Ignored,
    }
}

/// Event Viewer's columns by position, for a header in another language.
const EVENT_VIEWER_COLUMNS: [Column; 6] =
    [Column::Level, Column::Time, Column::Provider, Column::EventId, Column::Ignored, Column::Message];

/// A level's number from Event Viewer's English names or a number; localized names give `None`.
fn level(text: &str) -> Option<u8> {
    let t = text.trim();
    if let Ok(n) = t.parse::<u8>() {
        return Some(n);
    }
    match t.to_ascii_lowercase().as_str() {
        "critical" => Some(1),
        "error" => Some(2),
        "warning" => Some(3),
        "information" => Some(4),
        "verbose" => Some(5),
        _ => None,
    }
}

/// The delimiter of a header line: the most frequent of `,` `;` and tab outside quotes.
fn delimiter_of(header: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in header.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    if counts[2] > counts[0] && counts[2] >= counts[1] {
        b'\t'
    } else if counts[1] > counts[0] {
        b';'
    } else {
        b','
    }
}

/// The start of an export up to its first non-blank line, without a UTF-8 BOM and without a `#TYPE` first line
/// (then 1 line skipped).
fn read_head<R: BufRead>(input: &mut R) -> std::io::Result<(Vec<u8>, u64)> {
    let mut head = Vec::new();
    input.read_until(b'\n', &mut head)?;
    if let Some(rest) = head.strip_prefix("\u{feff}".as_bytes()) {
        head = rest.to_vec();
    }
    let mut skipped = 0;
    if head.starts_with(b"#TYPE") {
        head.clear();
        skipped = 1;
        input.read_until(b'\n', &mut head)?;
    }
    let mut line_start = 0;
    // Blank lines before the header are kept (they are lines of the file); the header ends the head.
    while String::from_utf8_lossy(&head[line_start..]).trim().is_empty() {
        line_start = head.len();
        if input.read_until(b'\n', &mut head)? == 0 {
            break;
        }
    }
    Ok((head, skipped))
}

/// One row as read, before its time is settled.
struct Row {
    line: u64,
    stamp: Option<LocalStamp>,
    time_text: String,
    fields: BTreeMap<&'static str, String>,
    level: Option<u8>,
}

/// Reads a CSV export; the delimiter is found from the header.
pub fn parse(text: &str, path: &str, clock: &mut LocalClock<'_>) -> (Vec<Event>, Vec<Diagnostic>) {
    parse_delimited(text, None, path, clock)
}

/// Reads a delimited export with the given delimiter (found from the header when `None`).
pub fn parse_delimited(
    text: &str,
    delimiter: Option<u8>,
    path: &str,
    clock: &mut LocalClock<'_>,
) -> (Vec<Event>, Vec<Diagnostic>) {
    parse_delimited_reader(text.as_bytes(), delimiter, path, clock)
}

/// Reads a delimited export of decoded text from `reader`, a record at a time (quoted multi-line messages
/// included); the rows are held, small, until the file's day/month order is settled. Streamed files come here
/// with their lines cut at `--max-line-length` ([`crate::parse::lines::CutLines`]).
pub fn parse_delimited_reader<R: BufRead>(
    mut input: R,
    delimiter: Option<u8>,
    path: &str,
    clock: &mut LocalClock<'_>,
) -> (Vec<Event>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    // The header decides the delimiter: read up to it (through Windows PowerShell 5.1's
    // `#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord` first line).
    let (head, skipped_lines) = match read_head(&mut input) {
        Ok(read) => read,
        Err(e) => {
            diags.push(Diagnostic::for_file(path, Severity::Error, format!("cannot read file: {e}")));
            return (Vec::new(), diags);
        }
    };
    let delimiter = delimiter.unwrap_or_else(|| {
        let head_text = String::from_utf8_lossy(&head);
        delimiter_of(head_text.lines().find(|l| !l.trim().is_empty()).unwrap_or(""))
    });
    // Lines are counted from byte offsets (multi-line quoted messages span several).
    let body = LineTracker::new(Cursor::new(head).chain(input), 1 + skipped_lines);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(body);
    let mut columns: Option<Vec<Column>> = None;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let at = reader.position().byte();
        let line_before = reader.get_mut().line_at(at);
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line_before, |p| reader.get_mut().line_at(p.byte()));
                diags.push(Diagnostic::at_line(path, line, Severity::Error, format!("row skipped: {e}")));
                // A UTF-8 error is per record; anything else (IO) ends the file.
                if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    continue;
                }
                break;
            }
        }
        let line = record.position().map_or(line_before, |p| reader.get_mut().line_at(p.byte()));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let Some(cols) = &columns else {
            let named: Vec<Column> = record.iter().map(column).collect();
            let has = |c: Column| named.contains(&c);
            if has(Column::Time) && has(Column::Provider) && has(Column::EventId) {
                columns = Some(named);
            } else if (5..=6).contains(&record.len()) {
                diags.push(Diagnostic::at_line(
                    path,
                    line,
                    Severity::Warning,
                    "column names not recognised; read as Event Viewer's columns by position (level, date and \
                     time, source, event id, task category, message)",
                ));
                columns = Some(EVENT_VIEWER_COLUMNS.to_vec());
            } else {
                diags.push(Diagnostic::at_line(
                    path,
                    line,
                    Severity::Error,
                    "not an event export header (expected Event Viewer's `Level,Date and Time,Source,Event ID,...` \
                     or Get-WinEvent's `Message,Id,...,TimeCreated`)",
                ));
                return (Vec::new(), diags);
            }
            continue;
        };
        rows.push(row(&record, cols, line));
    }
    clock.settle(rows.iter().filter_map(|r| r.stamp.as_ref()));
    let mut events = Vec::with_capacity(rows.len());
    for mut r in rows {
        let Some(time) = r.stamp.as_ref().and_then(|s| clock.to_utc(s)) else {
            diags.push(Diagnostic::at_line(
                path,
                r.line,
                Severity::Error,
                format!("row skipped: time {:?} not understood", r.time_text),
            ));
            continue;
        };
        let id_text = r.fields.remove("id").unwrap_or_default();
        let Ok(event_id) = id_text.trim().parse::<u32>() else {
            diags.push(Diagnostic::at_line(
                path,
                r.line,
                Severity::Error,
                format!("row skipped: event id {id_text:?} is not a number"),
            ));
            continue;
        };
        let mut take = |k: &str| r.fields.remove(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let provider = take("provider").unwrap_or_default();
        let computer = take("computer");
        let channel = take("channel");
        let record_id = take("record_id").and_then(|v| v.parse().ok());
        let message =
            r.fields.remove("message").map(|m| m.replace("\r\n", "\n").trim_end().to_owned()).filter(|m| !m.is_empty());
        events.push(Event {
            source: SourceRef::line(path, r.line),
            provider,
            event_id,
            level: r.level,
            time,
            computer,
            channel,
            record_id,
            data: EventData::new(),
            message,
            kind: EventKind::Other,
        });
    }
    if columns.is_none() {
        diags.push(Diagnostic::for_file(path, Severity::Error, "empty export: no header and no rows"));
    }
    (events, diags)
}

/// One data row mapped through the header's columns. Fields past the header are the message (Event
/// Viewer's unnamed sixth column).
fn row(record: &csv::StringRecord, columns: &[Column], line: u64) -> Row {
    let mut fields = BTreeMap::new();
    let mut level_num = None;
    let mut level_name = None;
    let mut time_text = String::new();
    let mut message_parts: Vec<&str> = Vec::new();
    for (i, value) in record.iter().enumerate() {
        let col = columns.get(i).copied().unwrap_or(Column::Message);
        match col {
            Column::Level => level_num = level(value),
            Column::LevelName => level_name = level(value),
            Column::Time => value.clone_into(&mut time_text),
            Column::Provider => drop(fields.insert("provider", value.to_owned())),
            Column::EventId => drop(fields.insert("id", value.to_owned())),
            Column::Computer => drop(fields.insert("computer", value.to_owned())),
            Column::Channel => drop(fields.insert("channel", value.to_owned())),
            Column::RecordId => drop(fields.insert("record_id", value.to_owned())),
            Column::Message => {
                if !value.is_empty() {
                    message_parts.push(value);
                }
            }
            Column::Ignored => {}
        }
    }
    if !message_parts.is_empty() {
        fields.insert("message", message_parts.join(","));
    }
    Row { line, stamp: LocalStamp::parse(&time_text), time_text, fields, level: level_num.or(level_name) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimeSettings;

    fn read(text: &str, settings: &TimeSettings) -> (Vec<Event>, Vec<Diagnostic>) {
        let mut clock = LocalClock::new(settings);
        let (events, mut diags) = parse(text, "t.csv", &mut clock);
        diags.extend(clock.diagnostics("t.csv"));
        (events, diags)
    }

    #[test]
    fn event_viewer_five_names_six_fields_bom_crlf() {
        let text = "\u{feff}Level,Date and Time,Source,Event ID,Task Category\r\nWarning,12/9/2025 5:37:32 PM,Microsoft-Windows-Resource-Exhaustion-Detector,2004,Resource Exhaustion Diagnosis Events,\"Windows successfully diagnosed a low virtual memory condition.\r\n\r\nexplorer.exe (30876) consumed 3685900288 bytes, more\"\r\n";
        let settings = TimeSettings { tz: chrono_tz::America::Los_Angeles, tz_given: true, ..TimeSettings::default() };
        let (events, diags) = read(text, &settings);
        assert_eq!(events.len(), 1, "{diags:?}");
        let e = &events[0];
        assert_eq!(
            (e.provider.as_str(), e.event_id, e.level),
            ("Microsoft-Windows-Resource-Exhaustion-Detector", 2004, Some(3))
        );
        assert_eq!(e.time.to_rfc3339(), "2025-12-10T01:37:32+00:00");
        assert!(e.message.as_deref().unwrap().contains("\n\nexplorer.exe"));
        assert_eq!(e.source.line, Some(2));
    }

    #[test]
    fn get_winevent_with_type_line_and_numeric_level() {
        let text = "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n\"Message\",\"Id\",\"Version\",\"Qualifiers\",\"Level\",\"RecordId\",\"ProviderName\",\"LogName\",\"MachineName\",\"TimeCreated\",\"LevelDisplayName\",\"Properties\"\r\n\"The system uptime is 46 seconds.\",\"6013\",\"0\",\"32768\",\"4\",\"177\",\"EventLog\",\"System\",\"HOST\",\"22/05/2020 10:35:55\",\"Information\",\"System.Collections.Generic.List`1[System.Diagnostics.Eventing.Reader.EventProperty]\"\r\n";
        let (events, diags) = read(text, &TimeSettings::default());
        assert_eq!(events.len(), 1, "{diags:?}");
        let e = &events[0];
        assert_eq!((e.event_id, e.level, e.record_id), (6013, Some(4), Some(177)));
        assert_eq!(e.computer.as_deref(), Some("HOST"));
        assert_eq!(e.channel.as_deref(), Some("System"));
        assert_eq!(e.time.to_rfc3339(), "2020-05-22T10:35:55+00:00");
        assert_eq!(e.source.line, Some(3));
        assert!(diags.iter().any(|d| d.message.contains("as UTC")));
    }

    #[test]
    fn semicolon_from_use_culture() {
        let text = "\"Message\";\"Id\";\"ProviderName\";\"TimeCreated\"\n\"m\";\"41\";\"Microsoft-Windows-Kernel-Power\";\"2020-05-22 10:35:55\"\n";
        let (events, _) = read(text, &TimeSettings::default());
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_id, 41);
    }

    #[test]
    fn localized_header_is_read_by_position() {
        let text = "Ebene,Datum und Uhrzeit,Quelle,Ereignis-ID,Aufgabenkategorie\nWarnung,22.05.2020 10:35:55,Srv,2020,Keine,\"x\"\n";
        let (events, diags) = read(text, &TimeSettings::default());
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_id, 2020);
        assert_eq!(events[0].level, None);
        assert!(diags.iter().any(|d| d.message.contains("by position")));
    }

    #[test]
    fn bad_rows_are_diagnostics_with_lines() {
        let text = "Level,Date and Time,Source,Event ID,Task Category\nError,yesterday,Srv,2019,None,m\nError,1/2/2020 1:00:00 AM,Srv,x,None,m\nError,1/2/2020 1:00:00 AM,Srv,2019,None,m\n";
        let (events, diags) = read(text, &TimeSettings::default());
        assert_eq!(events.len(), 1);
        let lines: Vec<_> = diags.iter().filter_map(|d| d.line).collect();
        assert_eq!(lines, vec![2, 3]);
    }

    #[test]
    fn unknown_header_is_an_error() {
        let (events, diags) = read("a,b\n1,2\n", &TimeSettings::default());
        assert!(events.is_empty());
        assert_eq!(diags[0].severity, Severity::Error);
    }

    #[test]
    fn delimiter_detection() {
        assert_eq!(delimiter_of("Level\tDate and Time\tSource"), b'\t');
        assert_eq!(delimiter_of("\"a;b\",c,d"), b',');
        assert_eq!(delimiter_of("a;b;c"), b';');
    }
}
