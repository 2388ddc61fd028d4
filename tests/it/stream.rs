//! Streamed reading (issue 14) gives what reading the whole text gives: every handle.exe and event-export
//! fixture, the hostile files and a simulated archive, parsed from a stream through buffers of several sizes
//! (lines, UTF-16 code units and XML events straddling them; XML cut at every event) and compared with the
//! whole-text entry points, snapshots, events and diagnostics alike.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use poolscope::model::{Diagnostic, Severity};
use poolscope::parse::{events, handle, text, FileContext, Format};
use poolscope::simulate::{simulate, Newline, ScenarioName, SimOptions, TextEncoding};

/// Buffer capacities the streams are read through: odd small ones (every boundary case), and a large one.
const CAPACITIES: [usize; 4] = [3, 61, 4096, 1 << 18];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir`, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect();
    out.sort();
    out
}

fn context(path: &Path) -> FileContext {
    let modified = chrono::DateTime::parse_from_rfc3339("2020-05-22T22:35:55Z").ok().map(|t| t.to_utc());
    FileContext { path: path.display().to_string(), modified, ..FileContext::default() }
}

/// Handle.exe and event-export files among `paths`, by detected format.
fn text_inputs(paths: &[PathBuf]) -> Vec<(PathBuf, Format, Vec<u8>)> {
    paths
        .iter()
        .filter_map(|p| {
            let bytes = std::fs::read(p).ok()?;
            let format = Format::detect(&bytes)?;
            matches!(format, Format::Handle | Format::EventXml | Format::EventCsv | Format::EventText)
                .then(|| (p.clone(), format, bytes))
        })
        .collect()
}

/// Compares the streamed and whole-text parses of one file; returns the records read.
fn same_as_whole(path: &Path, format: Format, bytes: &[u8], capacities: &[usize]) -> usize {
    let ctx = context(path);
    if format == Format::Handle {
        let whole = handle::parse(&text::decode(bytes).text, &ctx);
        for &capacity in capacities {
            let streamed = handle::parse_reader(BufReader::with_capacity(capacity, bytes), &ctx);
            assert_eq!(streamed.0, whole.0, "{}: capacity {capacity}", path.display());
            assert_eq!(streamed.1, whole.1, "{}: capacity {capacity}", path.display());
        }
        whole.0.len()
    } else {
        let whole = events::parse(bytes, format, &ctx);
        for &capacity in capacities {
            for segment in [1, events::SEGMENT_BYTES] {
                let reader = BufReader::with_capacity(capacity, bytes);
                let streamed = events::parse_reader_in(reader, format, &ctx, segment);
                assert_eq!(streamed.0, whole.0, "{}: capacity {capacity}, segment {segment}", path.display());
                assert_eq!(streamed.1, whole.1, "{}: capacity {capacity}, segment {segment}", path.display());
            }
        }
        whole.0.len()
    }
}

#[test]
fn every_handle_and_event_fixture_streams_as_it_parses_whole() {
    let inputs = text_inputs(&files_under(&root().join("fixtures")));
    let handles = inputs.iter().filter(|(_, f, _)| *f == Format::Handle).count();
    // fixtures/handle, the incidents' dumps and summaries, the hostile dump; the event exports.
    assert!(handles >= 25, "{handles} handle.exe fixtures");
    assert!(inputs.len() - handles >= 12, "{} event-export fixtures", inputs.len() - handles);
    let mut records = 0;
    for (path, format, bytes) in &inputs {
        records += same_as_whole(path, *format, bytes, &CAPACITIES);
    }
    assert!(records > 100, "{records} records");
}

#[test]
fn a_simulated_archive_streams_as_it_parses_whole() {
    // As written (ANSI, CRLF), and as a PowerShell wrapper writes it (UTF-16LE with BOM, LF, truncated end).
    for utf16 in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = SimOptions::new(ScenarioName::LsassTokenLeak, 14);
        opts.hours = Some(36.0);
        opts.tags = Some(25);
        opts.interval_secs = 15 * 60;
        opts.dump_interval_secs = 6 * 3600;
        if utf16 {
            opts.encoding = TextEncoding::Utf16;
            opts.newline = Newline::Lf;
            opts.truncate_last = true;
        }
        simulate(&opts, dir.path()).unwrap();
        let inputs = text_inputs(&files_under(dir.path()));
        let handle_files = inputs.iter().filter(|(_, f, _)| *f == Format::Handle).count();
        assert!(handle_files >= 2, "utf16 {utf16}: {handle_files} handle.exe files simulated");
        for (path, format, bytes) in &inputs {
            same_as_whole(path, *format, bytes, &[61, 1 << 18]);
        }
    }
}

/// UTF-16 as PowerShell's `Out-File` writes it, with or without its BOM.
fn utf16(text: &str, bom: bool) -> Vec<u8> {
    let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

#[test]
fn utf16_handle_and_event_files_stream_as_they_parse_whole() {
    let summary = "Nthandle v5.0 - Handle viewer\r\n\r\nHandle type summary:\r\n  File            : 10\r\n  \
                   Key             : 3\r\nTotal handles: 13\r\n";
    let csv =
        "\u{feff}Level,Date and Time,Source,Event ID,Task Category\r\nError,5/22/2020 10:35:55 PM,Srv,2019,None,\"The \
               server\r\nwas unable\"\r\n";
    for (name, format, text) in [("h.txt", Format::Handle, summary), ("e.csv", Format::EventCsv, csv)] {
        for bom in [true, false] {
            let bytes = utf16(text, bom);
            let records = same_as_whole(Path::new(name), format, &bytes, &CAPACITIES);
            assert_eq!(records, 1, "{name}, bom {bom}");
        }
    }
}

#[test]
fn long_lines_of_a_streamed_handle_file_are_cut_with_a_warning() {
    let long = "x".repeat(5000);
    let text = format!("Handle type summary:\r\n  File            : 10\r\n{long}\r\nTotal handles: 10\r\n");
    let mut ctx = FileContext { path: "long.txt".into(), ..FileContext::default() };
    ctx.limits.max_line_bytes = 100;
    let (snaps, diags) = handle::parse_reader(BufReader::with_capacity(64, text.as_bytes()), &ctx);
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].total_handles, Some(10));
    let cut: Vec<&Diagnostic> = diags.iter().filter(|d| d.message.contains("--max-line-length")).collect();
    assert_eq!(cut.len(), 1, "{diags:?}");
    assert_eq!((cut[0].line, cut[0].severity), (Some(3), Severity::Warning));
    // 5000 x and the `\r` before the line end; 100 kept.
    assert!(cut[0].message.contains("(4901 bytes)"), "{}", cut[0].message);
}

#[test]
fn an_xml_export_on_one_line_is_not_cut_at_the_line_limit() {
    // Event Viewer's "Save as XML" writes the whole log on one line.
    let event = "<Event><System><Provider Name='EventLog'/><EventID>6005</EventID>\
                 <TimeCreated SystemTime='2023-05-29T02:57:41Z'/></System></Event>";
    let text = format!("<?xml version=\"1.0\"?><Events>{}</Events>", event.repeat(500));
    let mut ctx = FileContext { path: "one-line.xml".into(), ..FileContext::default() };
    ctx.limits.max_line_bytes = 1000;
    let reader = BufReader::with_capacity(4096, text.as_bytes());
    let (streamed, diags) = events::parse_reader_in(reader, Format::EventXml, &ctx, 2048);
    assert_eq!(streamed.len(), 500, "{diags:?}");
    assert!(diags.iter().all(|d| d.severity != Severity::Error), "{diags:?}");
}

#[test]
fn long_lines_of_a_streamed_csv_export_are_cut_with_a_warning() {
    let long = "x".repeat(5000);
    let text = format!(
        "Level,Date and Time,Source,Event ID,Task Category\r\nError,5/22/2020 10:35:55 PM,Srv,2019,None,{long}\r\n\
         Error,5/22/2020 10:36:55 PM,Srv,2020,None,short\r\n"
    );
    let mut ctx = FileContext { path: "long.csv".into(), ..FileContext::default() };
    ctx.limits.max_line_bytes = 100;
    let reader = BufReader::with_capacity(64, text.as_bytes());
    let (read, diags) = events::parse_reader(reader, Format::EventCsv, &ctx);
    assert_eq!(read.len(), 2, "{diags:?}");
    let cut: Vec<&Diagnostic> = diags.iter().filter(|d| d.message.contains("--max-line-length")).collect();
    assert_eq!(cut.len(), 1, "{diags:?}");
    assert_eq!(cut[0].line, Some(2));
    let message = read.iter().find(|e| e.event_id == 2019).and_then(|e| e.message.as_deref()).unwrap();
    assert!(message.len() < 100 && message.starts_with("xxx"), "{message}");
    assert_eq!(read.iter().find(|e| e.event_id == 2020).unwrap().source.line, Some(3));
}
