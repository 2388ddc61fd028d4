//! Parsers: one module per input format, all producing the owned types of [`crate::model`].
//!
//! [`Format::detect`] sniffs content (not extensions); [`text::decode`] turns bytes into text, and [`lines`]
//! does the same as a file is read (the streamed formats: see [`stream_file`]); [`parse_file`] runs the right
//! parser and returns records plus diagnostics.

pub mod archive;
pub mod debugger;
pub mod drivers;
pub mod events;
mod file;
pub mod handle;
pub mod limits;
pub mod lines;
pub mod perfmon;
pub mod pool_csv;
pub mod poolmon;
pub mod pooltag;
pub mod text;
pub mod timestamp;
pub mod unread;
pub mod wpa;
pub mod zones;

use std::path::Path;

use chrono::{DateTime, Utc};

pub use file::{head_of, input_len, parse_file_in, read_head, stream_file};
pub use limits::ReadLimits;

use crate::model::{
    AllocationTable, DebuggerLimits, Diagnostic, DriverListing, Event, HandleSnapshot, PerfSeries, PoolSnapshot,
    Severity, TimeSettings, TimeSource,
};

/// An input format poolscope can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// poolmon `-n` snapshot files and interactive screens pasted as text.
    Poolmon,
    /// handle.exe text output (banner, `-s` summary, dump, search) and `-v`/`-vt` CSV.
    Handle,
    /// Binary `.evtx` event log (`ElfFile\0` magic).
    Evtx,
    /// Event XML: `wevtutil qe /f:xml` or `/f:RenderedXml`, Event Viewer "Save as XML", "Copy details as text".
    EventXml,
    /// Event Viewer "Save as CSV" or `Get-WinEvent | Export-Csv`.
    EventCsv,
    /// `wevtutil qe /f:text` or Event Viewer "Save as Text" (tab-delimited).
    EventText,
    /// A PowerShell pool CSV: poolmon-powershell `-view csv` or PoolmonViz `<date>.pool.csv`.
    PoolCsv,
    /// WinDbg/kd `!poolused` output saved as text (one pool snapshot; `!vm` limits in the same file are read too).
    Poolused,
    /// WinDbg/kd `!vm` output saved as text: the host's pool maxima and commit limit.
    DebuggerVm,
    /// A pooltag.txt tag description file.
    Pooltag,
    /// perfmon counters as `relog -f csv|tsv` or Performance Monitor's "Save as CSV" write them.
    Perfmon,
    /// A WPA pool table (Pool Usage / Pool Graphs) exported by `wpaexporter` or "Export to CSV": allocations by
    /// type (AIFO...), tag, size and stack.
    WpaPool,
    /// A driver or minifilter list: `driverquery [/v|/si] /fo csv`, `fltmc [instances]`, or
    /// `Get-CimInstance Win32_SystemDriver | Export-Csv`.
    DriverList,
}

impl Format {
    /// What the format is, in words, for messages (`this is a PowerShell pool CSV`).
    pub fn describe(self) -> &'static str {
        match self {
            Format::Poolmon => "poolmon output",
            Format::Handle => "handle.exe output",
            Format::Evtx => "a binary .evtx event log",
            Format::EventXml => "an event XML export",
            Format::EventCsv => "an event CSV export",
            Format::EventText => "an event text export",
            Format::PoolCsv => "a PowerShell pool CSV",
            Format::Poolused => "WinDbg !poolused output",
            Format::DebuggerVm => "WinDbg !vm output",
            Format::Perfmon => "perfmon CSV/TSV (relog output)",
            Format::Pooltag => "a pooltag.txt file",
            Format::WpaPool => "a WPA pool table export",
            Format::DriverList => "a driver list (driverquery, fltmc or Win32_SystemDriver CSV)",
        }
    }

    /// Whether the format gives pool snapshots (what `diff` compares).
    pub fn has_pool_snapshots(self) -> bool {
        matches!(self, Format::Poolmon | Format::PoolCsv | Format::Poolused)
    }

    /// Guesses the format from the first bytes of a file (up to 64 KiB is enough).
    /// `None` means the content matches no known format.
    pub fn detect(head: &[u8]) -> Option<Format> {
        if head.starts_with(b"ElfFile\0") {
            return Some(Format::Evtx);
        }
        let text = text::decode(&head[..head.len().min(64 * 1024)]).text.into_owned();
        Self::detect_text(&text)
    }

    /// Guesses the format of decoded text.
    pub fn detect_text(text: &str) -> Option<Format> {
        // The PDH header is the first cell: nothing else starts that way, and counter names could quote anything.
        if perfmon::looks_like(text) {
            return Some(Format::Perfmon);
        }
        if let Some(format) = Self::detect_event_export_header(text) {
            return Some(format);
        }
        // Before the content sniffing below: a Description cell may quote anything.
        if pool_csv::looks_like(text) {
            return Some(Format::PoolCsv);
        }
        // Before the sniffing below: a tab-delimited header may read `Pool Tag\tType`, and a stack cell anything.
        if wpa::looks_like(text) {
            return Some(Format::WpaPool);
        }
        // Before the sniffing below: a driver's description may quote anything. driverquery's table and list
        // formats are claimed too, so the file is named with what to run instead.
        if drivers::looks_like(text).is_some() || drivers::is_unread_driverquery(text) {
            return Some(Format::DriverList);
        }
        let has = |needle: &str| text.contains(needle);
        if has("<Event ") || has("<Event>") || has("<Events>") || has("Event Xml:") {
            return Some(Format::EventXml);
        }
        if has("Event[0]:") || (has("Log Name:") && has("Event ID:")) {
            return Some(Format::EventText);
        }
        // Before handle.exe and poolmon: a debugger session log may list processes or quote anything.
        if debugger::looks_like_poolused(text) {
            return Some(Format::Poolused);
        }
        if debugger::vm::looks_like(text) {
            return Some(Format::DebuggerVm);
        }
        if has("Handle type summary:")
            || has("Sysinternals - www.sysinternals.com")
            || has(" pid: ")
            || has("Process,PID,")
            || has("Process\tPID\t")
            || has("No matching handles found")
            // handle.exe error and first-run output with no data (formats reference §2.3): still handle.exe,
            // so the file gets that error as a diagnostic rather than "not a recognised format".
            || has("Nthandle v")
            || has("Error obtaining handle information")
            || has("Make sure that you are an administrator")
            || has("Unable to extract x64 image")
            || has("Use -accepteula to accept EULA")
        {
            return Some(Format::Handle);
        }
        if has(" Tag  Type") || has("Tag  Type") || has("Tag\tType") || has("Pool N:") || poolmon::looks_like(text) {
            return Some(Format::Poolmon);
        }
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if (first.starts_with("Level,")
            || first.starts_with("Level\t")
            || first.contains("\"Id\"")
            || first.contains("ProviderName"))
            && (has("Event ID") || has("Id") || has("Source"))
        {
            return Some(Format::EventCsv);
        }
        if text.lines().take(200).any(|l| {
            let l = l.trim();
            !l.starts_with("rem") && l.len() > 7 && l.as_bytes().get(4..7) == Some(b" - ")
        }) {
            return Some(Format::Pooltag);
        }
        None
    }
}

impl Format {
    /// Event exports recognised by their first line (events reference §2.4-2.6), before any sniffing of
    /// content that an event message could trigger (a message may quote ` pid: ` or ` Tag  Type`):
    /// Event Viewer's CSV or tab-delimited header, and Get-WinEvent's `#TYPE` line or quoted header.
    fn detect_event_export_header(text: &str) -> Option<Format> {
        let mut lines = text.trim_start_matches('\u{feff}').lines().map(str::trim).filter(|l| !l.is_empty());
        let mut first = lines.next()?;
        if first.starts_with("#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord") {
            first = lines.next().unwrap_or("");
        }
        let unquoted = first.replace('"', "");
        let named = |name: &str| unquoted.split([',', ';', '\t']).any(|f| f.trim() == name);
        let event_viewer = named("Date and Time") && named("Source") && named("Event ID");
        let get_winevent = named("Id") && named("ProviderName") && named("TimeCreated");
        if !(event_viewer || get_winevent) {
            return None;
        }
        if first.matches('\t').count() >= 3 {
            Some(Format::EventText)
        } else {
            Some(Format::EventCsv)
        }
    }
}

/// What a parser needs to know about the file besides its bytes.
#[derive(Debug, Clone, Default)]
pub struct FileContext {
    /// Path as shown in diagnostics and provenance.
    pub path: String,
    /// The file's modification time, when known (the last resort for a snapshot's time).
    pub modified: Option<DateTime<Utc>>,
    /// How to read text times.
    pub time: TimeSettings,
    /// `--host`: the host to give records that name none.
    pub host: Option<String>,
    /// The time the file's name or folder gives, when the ingest settled it over the whole set of names.
    pub name_time: NameTime,
    /// What reading the file may cost.
    pub limits: ReadLimits,
}

/// The time a file's name (or its folder's) gives, as the ingest settled it over every name of the run (one
/// day/month order for the whole set, one zone warning), or left for the parser to read from the file name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NameTime {
    /// Not settled by an ingest (a file parsed on its own): the parser reads its file name.
    #[default]
    Unread,
    /// Settled: the time and where it came from ([`crate::model::TimeSource::FileName`] or [`crate::model::TimeSource::FolderName`]), or
    /// none.
    Settled(Option<(DateTime<Utc>, crate::model::TimeSource)>),
}

impl FileContext {
    /// Context for a file on disk: path and modification time.
    pub fn for_path(path: &Path, time: TimeSettings, host: Option<String>) -> Self {
        // A zip member's recorded time stands in for the mtime, as unzipping would have set it.
        let modified = if archive::is_member(path) {
            archive::member_modified(path, &time)
        } else {
            std::fs::metadata(path).and_then(|m| m.modified()).ok().map(DateTime::<Utc>::from)
        };
        Self {
            path: path.display().to_string(),
            modified,
            time,
            host,
            name_time: NameTime::Unread,
            limits: ReadLimits::default(),
        }
    }

    /// The time the name gives: the ingest's settled time, or (for a file parsed on its own) the stamp in the
    /// file name, read with this file's settings.
    pub fn name_time(&self, diagnostics: &mut Vec<Diagnostic>) -> Option<(DateTime<Utc>, crate::model::TimeSource)> {
        match self.name_time {
            NameTime::Settled(settled) => settled,
            NameTime::Unread => timestamp::stamp_in_file_name(self.file_name())
                .and_then(|stamp| {
                    timestamp::resolve_stamps(&[stamp], &self.time, &self.path, diagnostics).pop().flatten()
                })
                .map(|t| (t, crate::model::TimeSource::FileName)),
        }
    }

    /// The time of a snapshot that carries none: `--time`, then the file (or folder) name's, then the mtime.
    pub fn fallback_time(&self, diagnostics: &mut Vec<Diagnostic>) -> (Option<DateTime<Utc>>, TimeSource) {
        if let Some(t) = self.time.time_override {
            return (Some(t), TimeSource::Override);
        }
        if let Some((t, source)) = self.name_time(diagnostics) {
            return (Some(t), source);
        }
        match self.modified {
            Some(t) => (Some(t), TimeSource::FileModified),
            None => (None, TimeSource::Unknown),
        }
    }

    /// The file name part of the path (where a timestamp or host name may be).
    pub fn file_name(&self) -> &str {
        self.path.rsplit(['/', '\\']).next().unwrap_or(&self.path)
    }
}

/// Records and diagnostics read from one file.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// poolmon snapshots.
    pub pool_snapshots: Vec<PoolSnapshot>,
    /// handle.exe snapshots.
    pub handle_snapshots: Vec<HandleSnapshot>,
    /// Event-log records.
    pub events: Vec<Event>,
    /// Limits read from debugger output (`!vm`).
    pub limits: Vec<DebuggerLimits>,
    /// perfmon counter series, one per host named in the file.
    pub perf_series: Vec<PerfSeries>,
    /// Pool allocations with stacks (WPA pool tables), one per file.
    pub allocations: Vec<AllocationTable>,
    /// Driver and minifilter lists, one per file.
    pub drivers: Vec<DriverListing>,
    /// Problems and assumptions.
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// Whether nothing usable was read.
    pub fn is_empty(&self) -> bool {
        self.pool_snapshots.is_empty()
            && self.handle_snapshots.is_empty()
            && self.events.is_empty()
            && self.limits.is_empty()
            && self.perf_series.is_empty()
            && self.allocations.iter().all(|t| t.allocations.is_empty())
            && self.drivers.iter().all(DriverListing::is_empty)
    }
}

/// Parses one file's bytes in the given (or detected) format. Never panics; a file that yields
/// nothing gets an error diagnostic that names what was expected.
pub fn parse_bytes(bytes: &[u8], format: Option<Format>, ctx: &FileContext) -> Parsed {
    match format.map_or_else(|| detect_or_explain(bytes, ctx), Ok) {
        Ok(format) => parse_detected(bytes, format, ctx),
        Err(parsed) => *parsed,
    }
}

/// The format of a file from its first bytes, or the error saying why it is not read (a known format poolscope
/// does not read is named).
pub(crate) fn detect_or_explain(head: &[u8], ctx: &FileContext) -> Result<Format, Box<Parsed>> {
    let signature = unread::by_signature(head);
    match signature.is_none().then(|| Format::detect(head)).flatten() {
        Some(format) => Ok(format),
        None => {
            // A known format is a warning naming the file (one per file: the name keeps it from being collapsed
            // with its like); only an unknown one is an error.
            let (severity, message) = unread::known_unread(head, ctx.file_name()).map_or_else(
                || {
                    (
                        Severity::Error,
                        "not a recognised format (expected poolmon, handle.exe, event-log, perfmon, pool CSV, WPA pool table, \
                         driver list or debugger output)"
                            .to_owned(),
                    )
                },
                |known| (Severity::Warning, format!("{} is {known}", ctx.file_name())),
            );
            Err(Box::new(Parsed {
                diagnostics: vec![Diagnostic::for_file(&ctx.path, severity, message)],
                ..Parsed::default()
            }))
        }
    }
}

/// Parses a whole file's bytes in a known format.
fn parse_detected(bytes: &[u8], format: Format, ctx: &FileContext) -> Parsed {
    let mut parsed = Parsed::default();
    match format {
        Format::Poolmon => {
            let text = text::decode(bytes);
            let (snaps, diags) = poolmon::parse(&text.text, ctx);
            parsed.pool_snapshots = snaps;
            parsed.diagnostics = diags;
        }
        Format::PoolCsv => {
            let text = text::decode(bytes);
            let (snaps, diags) = pool_csv::parse(&text.text, ctx);
            parsed.pool_snapshots = snaps;
            parsed.diagnostics = diags;
        }
        Format::Poolused | Format::DebuggerVm => {
            let text = text::decode(bytes);
            let (read, diags) = debugger::parse(&text.text, ctx);
            parsed.pool_snapshots.extend(read.snapshot);
            parsed.limits.extend(read.limits);
            parsed.diagnostics = diags;
        }
        Format::Handle => {
            let text = text::decode(bytes);
            let (snaps, diags) = handle::parse(&text.text, ctx);
            parsed.handle_snapshots = snaps;
            parsed.diagnostics = diags;
        }
        Format::Evtx | Format::EventXml | Format::EventCsv | Format::EventText => {
            let (events, diags) = events::parse(bytes, format, ctx);
            parsed.events = events;
            parsed.diagnostics = diags;
        }
        Format::Pooltag => return pooltag_note(ctx),
        Format::Perfmon => {
            let text = text::decode(bytes);
            let (series, diags) = perfmon::parse(&text.text, ctx);
            parsed.perf_series = series;
            parsed.diagnostics = diags;
        }
        Format::WpaPool => {
            let text = text::decode(bytes);
            let (table, diags) = wpa::parse(&text.text, ctx);
            parsed.allocations.extend(table.filter(|t| !t.allocations.is_empty()));
            parsed.diagnostics = diags;
        }
        Format::DriverList => {
            let text = text::decode(bytes);
            let (listing, diags) = drivers::parse(&text.text, ctx);
            parsed.drivers.extend(listing.filter(|l| !l.is_empty()));
            parsed.diagnostics = diags;
        }
    }
    parsed.note_if_empty(format, &ctx.path, 0);
    parsed
}

/// A pooltag.txt met among the inputs: not data.
fn pooltag_note(ctx: &FileContext) -> Parsed {
    Parsed {
        diagnostics: vec![Diagnostic::for_file(
            &ctx.path,
            Severity::Info,
            "pooltag.txt file: used for tag descriptions (give it with --pooltag), not as data",
        )],
        ..Parsed::default()
    }
}

impl Parsed {
    /// Adds "no usable records" when nothing was read (`streamed` counts records handed on instead of kept)
    /// and no file-wide error already says why.
    fn note_if_empty(&mut self, format: Format, path: &str, streamed: usize) {
        if streamed == 0
            && self.is_empty()
            && !self.diagnostics.iter().any(|d| d.severity == Severity::Error && d.line.is_none())
        {
            self.diagnostics.push(Diagnostic::for_file(
                path,
                Severity::Error,
                format!("no usable {format:?} records found in the file"),
            ));
        }
    }
}

/// Reads and parses a file on disk.
pub fn parse_file(path: &Path, format: Option<Format>, time: &TimeSettings, host: Option<&str>) -> Parsed {
    parse_file_in(path, format, &FileContext::for_path(path, time.clone(), host.map(str::to_owned)))
}
