//! handle.exe output of every version and mode (formats reference §2): banners, `-s` summaries, dumps,
//! search lines, `-v`/`-vt` CSV, and the error and EULA text that can stand in for data.
//!
//! A file may hold several runs one after another (`handle -s > f` then `handle -a >> f`, §2.4, or a
//! collection loop). Runs are split at banners, at a change of mode, at a repeated process in a dump, and
//! at an echoed command line; each run with data becomes one [`HandleSnapshot`].
//!
//! The grammar rules live in small modules named after the format's parts: [`banner`], [`summary`],
//! [`dump`], [`search`], [`csv`], [`names`], plus [`notice`] (errors, EULA) and [`command`] (echoed
//! command lines). They borrow from the line; [`run`] turns them into owned records.
//!
//! [`parse_reader`] reads a file a line at a time ([`crate::parse::lines`]): nothing read crosses a line
//! borrowed, and each run becomes its [`HandleSnapshot`] when it ends, so memory is that of the snapshots, not
//! of the text. [`parse`] reads decoded text with the same state machine.

pub mod banner;
pub mod command;
pub mod csv;
pub mod dump;
pub mod names;
pub mod notice;
pub mod run;
pub mod search;
pub mod summary;
pub mod times;

use std::io::BufRead;

use crate::model::handles::HandleMode;
use crate::model::{Diagnostic, HandleSnapshot, Severity};
use crate::parse::timestamp::{stamp_line, RawStamp};
use crate::parse::{lines, FileContext};

use self::command::Echoed;
use self::csv::CsvLayout;
use self::notice::Notice;
use self::run::{Run, SummaryState};

/// At most this many unrecognised lines are reported one by one per file; the rest are counted.
const UNRECOGNISED_SHOWN: usize = 50;

/// Parses every handle.exe run in a file. Never panics; what did not parse is a diagnostic.
pub fn parse(text: &str, ctx: &FileContext) -> (Vec<HandleSnapshot>, Vec<Diagnostic>) {
    let mut reader = Reader::new(ctx);
    let mut last = 0;
    for (index, line) in text.split('\n').enumerate() {
        last = index as u64 + 1;
        reader.line(last, line.strip_suffix('\r').unwrap_or(line));
    }
    if !text.is_empty() && !text.ends_with('\n') {
        reader.unterminated(last);
    }
    reader.finish(ctx)
}

/// Parses every handle.exe run of a file's bytes read from `reader`, a line at a time (decoded and cut at
/// `--max-line-length` by [`lines::decoded_lines`]): the same snapshots and diagnostics as [`parse`] of the
/// decoded text, with memory bounded by the snapshots read, not by the file.
pub fn parse_reader<R: BufRead>(reader: R, ctx: &FileContext) -> (Vec<HandleSnapshot>, Vec<Diagnostic>) {
    let mut state = Reader::new(ctx);
    let mut unterminated = None;
    let lines = lines::decoded_lines(reader, ctx.limits.max_line_bytes);
    let failed = lines::each_line(lines, &ctx.path, |line, cut| {
        state.diagnostics.extend(cut);
        state.line(line.no, line.text.strip_suffix('\r').unwrap_or(line.text));
        if !line.complete {
            unterminated = Some(line.no);
        }
    });
    state.diagnostics.extend(failed);
    if let Some(last) = unterminated {
        state.unterminated(last);
    }
    state.finish(ctx)
}

/// Which kind of line the reader expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between runs, or after a banner.
    Idle,
    /// Inside a `Handle type summary:` block.
    Summary,
    /// Inside a dump (handle lines expected).
    Dump,
    /// Search-mode lines.
    Search,
    /// CSV rows with this delimiter and the header's claimed layout.
    Csv(char, Option<CsvLayout>),
}

/// An unrecognised line, kept until it is known whether a run follows it.
#[derive(Debug)]
enum Loose {
    /// A timestamp line (its `line` set): it dates the run that follows it.
    Stamp(RawStamp),
    /// Other text, as the warning will show it.
    Shown(u64, String),
    /// Lines beyond those shown one by one: only counted.
    Hidden(usize),
}

/// The line-by-line state machine over one file. It borrows nothing from the lines it reads.
struct Reader<'c> {
    path: &'c str,
    host: Option<&'c str>,
    state: State,
    run: Option<Run>,
    /// Snapshots of the runs finished so far, with the timestamp line before each.
    snapshots: Vec<HandleSnapshot>,
    stamps: Vec<Option<RawStamp>>,
    /// Unrecognised lines since the last recognised one: a timestamp line of a collection loop, or junk.
    loose: Vec<Loose>,
    /// Unrecognised text lines in `loose` (the next one's place in the count of those shown).
    loose_text: usize,
    /// A command line echoed before the next run.
    pending_echo: Option<Echoed>,
    /// Inside the licence text of a first run: (first line, last line).
    license: Option<(u64, u64)>,
    diagnostics: Vec<Diagnostic>,
    unrecognised: usize,
    /// Index in `diagnostics` of the last initialization error (the administrator hint joins it).
    last_init_error: Option<usize>,
}

impl<'c> Reader<'c> {
    fn new(ctx: &'c FileContext) -> Self {
        Self {
            path: &ctx.path,
            host: ctx.host.as_deref(),
            state: State::Idle,
            run: None,
            snapshots: Vec::new(),
            stamps: Vec::new(),
            loose: Vec::new(),
            loose_text: 0,
            pending_echo: None,
            license: None,
            diagnostics: Vec::new(),
            unrecognised: 0,
            last_init_error: None,
        }
    }

    fn diag(&mut self, line: u64, severity: Severity, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::at_line(self.path, line, severity, message));
    }

    /// Notes a last line without a line ending, when a run with data is open.
    fn unterminated(&mut self, last: u64) {
        if self.run.as_ref().is_some_and(Run::has_data) {
            self.diag(last, Severity::Info, "the file ends without a line ending: its last line may be cut short");
        }
    }

    /// Reads one line (without its line ending).
    fn line(&mut self, no: u64, line: &str) {
        // The hot path: handle lines inside a dump.
        if self.state == State::Dump {
            if let Some(handle) = dump::handle_line(line) {
                if !self.loose.is_empty() {
                    self.report_loose();
                }
                self.push_dump_handle(no, &handle);
                return;
            }
        }
        if line.trim().is_empty() {
            return;
        }
        if let Some((_, last)) = &mut self.license {
            let ends =
                banner::banner_title(line).is_some() || matches!(notice::notice(line), Some(Notice::EulaPrompt(_)));
            if !ends {
                *last = no;
                return;
            }
            self.end_license();
        }
        if let Some(version) = banner::banner_title(line) {
            self.start_run(no, Some(version.to_owned()));
            self.state = State::Idle;
            return;
        }
        if banner::copyright_line(line) || banner::sysinternals_line(line) {
            return;
        }
        if let Some(notice) = notice::notice(line) {
            self.notice(no, notice);
            return;
        }
        if self.data_line(no, line) {
            return;
        }
        if let Some(echo) = command::command_echo(line) {
            self.report_loose();
            self.finish_run();
            self.state = State::Idle;
            self.pending_echo = Some(echo.into());
            return;
        }
        self.push_loose(no, line);
    }

    /// Keeps an unrecognised line for [`Self::start_run`] or [`Self::report_loose`]: a timestamp line as its
    /// stamp, other text as the warning shows it while within the lines shown one by one, else only counted.
    fn push_loose(&mut self, no: u64, line: &str) {
        if let Some(stamp) = stamp_line(line) {
            self.loose.push(Loose::Stamp(RawStamp { line: Some(no), ..stamp }));
            return;
        }
        self.loose_text += 1;
        if self.unrecognised + self.loose_text <= UNRECOGNISED_SHOWN {
            self.loose.push(Loose::Shown(no, shown(line)));
        } else if let Some(Loose::Hidden(n)) = self.loose.last_mut() {
            *n += 1;
        } else {
            self.loose.push(Loose::Hidden(1));
        }
    }

    /// Takes the loose lines kept so far.
    fn take_loose(&mut self) -> Vec<Loose> {
        self.loose_text = 0;
        std::mem::take(&mut self.loose)
    }

    /// Tries every data rule in the order that keeps them apart; `true` when the line was data.
    fn data_line(&mut self, no: u64, line: &str) -> bool {
        if summary::summary_title(line) {
            let new_run = self.run.as_ref().is_some_and(|r| r.summary != SummaryState::None);
            self.begin(no, HandleMode::Summary, new_run);
            if let Some(run) = &mut self.run {
                run.summary = SummaryState::Open;
            }
            self.state = State::Summary;
            return true;
        }
        if self.state == State::Summary {
            if let Some((handle_type, count)) = summary::type_count(line) {
                self.report_loose();
                let duplicate = self.run.as_mut().is_some_and(|run| run.push_type_count(handle_type, count));
                if duplicate {
                    self.diag(
                        no,
                        Severity::Info,
                        format!("type `{handle_type}` listed twice in the summary: counts summed"),
                    );
                }
                return true;
            }
        }
        if let Some(total) = summary::total_handles(line) {
            self.begin(no, HandleMode::Summary, false);
            if let Some(run) = &mut self.run {
                run.total = Some(total);
                run.summary = SummaryState::Done;
            }
            self.state = State::Idle;
            return true;
        }
        if dump::separator(line) {
            self.begin(no, HandleMode::Dump, false);
            if let Some(run) = &mut self.run {
                run.close_process();
            }
            self.state = State::Dump;
            return true;
        }
        if let Some(header) = csv::csv_header(line) {
            let new_run = self.run.as_ref().is_some_and(Run::has_data);
            self.begin(no, HandleMode::Csv, new_run);
            if let Some(run) = &mut self.run {
                run.csv_header = Some((no, header.layout));
            }
            if header.layout.is_none() {
                self.diag(no, Severity::Warning, "CSV header with unknown columns: the layout is read from the rows");
            }
            self.state = State::Csv(header.delimiter, header.layout);
            return true;
        }
        if let State::Csv(delimiter, hint) = self.state {
            if let Some(row) = csv::csv_row(line, delimiter, hint) {
                self.report_loose();
                self.push_csv(no, &row, hint);
                return true;
            }
        }
        if let Some(found) = search::search_line(line) {
            self.begin(no, HandleMode::Search, false);
            if found.value_08x_bug {
                self.note_08x_bug(no);
            }
            if let Some(run) = &mut self.run {
                run.push_search(&found);
            }
            self.state = State::Search;
            return true;
        }
        if let Some(header) = dump::process_header(line) {
            let repeated =
                self.run.as_ref().is_some_and(|r| r.mode == Some(HandleMode::Dump) && r.has_process(&header));
            self.begin(no, HandleMode::Dump, repeated);
            if let Some(run) = &mut self.run {
                run.open_process(&header);
            }
            self.state = State::Dump;
            return true;
        }
        if let Some(handle) = dump::handle_line(line) {
            self.begin(no, HandleMode::Dump, false);
            self.state = State::Dump;
            self.push_dump_handle(no, &handle);
            return true;
        }
        if self.state == State::Dump && dump::pagefile_line(line) {
            return true;
        }
        if !matches!(self.state, State::Csv(..)) {
            for delimiter in [',', '\t'] {
                if let Some(row) = csv::csv_row(line, delimiter, None) {
                    self.begin(no, HandleMode::Csv, false);
                    self.diag(no, Severity::Info, "CSV rows without a header: the layout is read from the rows");
                    self.state = State::Csv(delimiter, None);
                    self.push_csv(no, &row, None);
                    return true;
                }
            }
        }
        false
    }

    fn push_dump_handle(&mut self, no: u64, handle: &dump::HandleLine<'_>) {
        let Some(run) = &mut self.run else { return };
        if !run.push_dump_handle(handle) {
            run.orphan_line.get_or_insert(no);
        }
    }

    fn push_csv(&mut self, no: u64, row: &csv::CsvRow<'_>, hint: Option<CsvLayout>) {
        let Some(run) = &mut self.run else { return };
        run.push_csv(row);
        if hint.is_some_and(|h| h != row.layout) {
            match &mut run.csv_mismatch {
                Some((_, count, _)) => *count += 1,
                None => run.csv_mismatch = Some((no, 1, row.layout)),
            }
        }
    }

    fn note_08x_bug(&mut self, no: u64) {
        let already = self.diagnostics.iter().any(|d| d.message.starts_with("handle values printed as"));
        if !already {
            self.diag(
                no,
                Severity::Info,
                "handle values printed as `<hex>08X` (handle v5.0 -u format bug, MicrosoftDocs/sysinternals#792): read as hex",
            );
        }
    }

    /// Makes sure a run of `mode` is open: continues the current run when it has that mode (or none yet)
    /// and `force_new` is not set; otherwise finishes it and starts a new one at `no`.
    fn begin(&mut self, no: u64, mode: HandleMode, force_new: bool) {
        // A timestamp line since the last data line means a new run even without a banner (`-nobanner` loops).
        let stamped = self.loose.iter().any(|l| matches!(l, Loose::Stamp(_)));
        let continues = self.run.as_ref().is_some_and(|r| !force_new && !stamped && r.mode.is_none_or(|m| m == mode));
        if continues {
            self.report_loose();
        } else {
            self.start_run(no, None);
        }
        if let Some(run) = &mut self.run {
            run.mode.get_or_insert(mode);
        }
    }

    /// Finishes the current run and starts a new one at `no`; a timestamp line among the loose lines before it
    /// dates it, the other loose lines are unrecognised.
    fn start_run(&mut self, no: u64, version: Option<String>) {
        self.finish_run();
        let mut run = Run::new(no, version, self.pending_echo.take());
        for loose in self.take_loose() {
            match loose {
                // The last timestamp line before a run dates it (§1.4).
                Loose::Stamp(stamp) => run.stamp = Some(stamp),
                other => self.unrecognised(other),
            }
        }
        self.run = Some(run);
    }

    /// Loose lines in the middle of a run are unrecognised; a timestamp line there dates nothing.
    fn report_loose(&mut self) {
        for loose in self.take_loose() {
            match loose {
                Loose::Stamp(stamp) => self.diag(
                    stamp.line.unwrap_or(0),
                    Severity::Info,
                    "timestamp line not followed by handle.exe output: ignored",
                ),
                other => self.unrecognised(other),
            }
        }
    }

    /// Counts unrecognised text lines, warning about the first [`UNRECOGNISED_SHOWN`] of the file.
    fn unrecognised(&mut self, loose: Loose) {
        match loose {
            Loose::Shown(no, shown) => {
                self.unrecognised += 1;
                self.diag(no, Severity::Warning, format!("unrecognised line skipped: {shown}"));
            }
            Loose::Hidden(n) => self.unrecognised += n,
            Loose::Stamp(_) => {}
        }
    }

    fn notice(&mut self, no: u64, notice: Notice<'_>) {
        if notice.is_failure() || matches!(notice, Notice::NoMatches) {
            self.report_loose();
            if self.run.is_none() {
                self.start_run(no, None);
            }
        }
        let run = self.run.as_mut();
        match notice {
            Notice::NoMatches => {
                if let Some(run) = run {
                    run.no_matches = true;
                }
                self.diag(
                    no,
                    Severity::Warning,
                    "handle.exe found no matching handles (an unelevated run says this even when handles exist)",
                );
            }
            Notice::AdministratorHint => match self.last_init_error {
                Some(at) if self.diagnostics.get(at).is_some_and(|d| d.line.is_some_and(|l| l + 1 == no)) => {
                    self.diagnostics[at].message.push_str(": make sure that you are an administrator");
                }
                _ => self.diag(no, Severity::Error, "handle.exe needs administrator rights: no data"),
            },
            Notice::EulaSwitchHint | Notice::PressAnyKey => {}
            Notice::EulaPrompt(answer) => {
                let (severity, message) = match answer {
                    Some(true) => (Severity::Info, "EULA prompt answered yes: the output follows it"),
                    Some(false) => (Severity::Error, "EULA prompt answered no: handle.exe printed no data"),
                    None => (Severity::Warning, "handle.exe stopped at its EULA prompt (run it with -accepteula)"),
                };
                if let Some(run) = run {
                    run.failed |= answer == Some(false);
                }
                self.diag(no, severity, message);
            }
            Notice::LicenseStart => self.license = Some((no, no)),
            Notice::ClosePrompt | Notice::CloseResult => {
                if let Some(run) = run {
                    run.closing = true;
                }
            }
            failure => {
                if let Some(run) = run {
                    run.failed = true;
                }
                let message = failure_message(failure);
                if matches!(failure, Notice::InitializationError(_)) {
                    self.last_init_error = Some(self.diagnostics.len());
                }
                self.diag(no, Severity::Error, message);
            }
        }
    }

    fn end_license(&mut self) {
        if let Some((start, last)) = self.license.take() {
            self.diag(start, Severity::Info, format!("EULA licence text skipped (lines {start}-{last})"));
        }
    }

    /// Ends the current run: a snapshot when it holds data, diagnostics otherwise.
    fn finish_run(&mut self) {
        let Some(run) = self.run.take() else { return };
        if run.closing {
            self.diag(
                run.start_line,
                Severity::Warning,
                "handle -c output (closing a handle) is not a snapshot: skipped",
            );
            return;
        }
        if let (Some((header_line, Some(claimed))), Some((first, rows, actual))) = (run.csv_header, run.csv_mismatch) {
            self.diag(
                header_line,
                Severity::Warning,
                format!(
                    "CSV header says {} but {rows} row(s) from line {first} are {} (handle v5.0 -u bug, \
                     MicrosoftDocs/sysinternals#735): read by the rows",
                    claimed.describe(),
                    actual.describe()
                ),
            );
        }
        if let Some(line) = run.orphan_line {
            self.diag(
                line,
                Severity::Warning,
                format!("handle lines without a `pid:` header (trimmed output?): kept under {}", orphan_name(&run)),
            );
        }
        if run.summary == SummaryState::Open {
            self.diag(run.start_line, Severity::Warning, "summary without its `Total handles:` line (truncated?)");
        }
        if let Some(total) = run.total {
            let sum: u64 = run.type_counts.values().sum();
            if !run.type_counts.is_empty() && sum != total {
                self.diag(
                    run.start_line,
                    Severity::Warning,
                    format!("summary types add up to {sum} but `Total handles:` says {total} (truncated summary?)"),
                );
            }
        }
        if run.has_data() {
            let mut run = run;
            self.stamps.push(run.stamp.take());
            self.snapshots.push(run.into_snapshot(self.path, self.host));
        } else if !run.failed && !run.no_matches {
            self.diag(run.start_line, Severity::Warning, "handle.exe banner without any output after it");
        }
    }

    fn finish(mut self, ctx: &FileContext) -> (Vec<HandleSnapshot>, Vec<Diagnostic>) {
        self.end_license();
        self.report_loose();
        self.finish_run();
        if self.unrecognised > UNRECOGNISED_SHOWN {
            let more = self.unrecognised - UNRECOGNISED_SHOWN;
            self.diagnostics.push(Diagnostic::for_file(
                self.path,
                Severity::Warning,
                format!("{more} more unrecognised lines skipped"),
            ));
        }
        times::assign(&mut self.snapshots, &self.stamps, ctx, &mut self.diagnostics);
        (self.snapshots, self.diagnostics)
    }
}

/// What handles without a header were kept under.
fn orphan_name(run: &Run) -> String {
    match run.echo.as_ref().and_then(|e| e.process_filter.as_deref()) {
        Some(filter) if filter.parse::<u32>().is_ok() => format!("{} (pid {filter})", run::UNKNOWN_PROCESS),
        Some(filter) => filter.to_owned(),
        None => run::UNKNOWN_PROCESS.to_owned(),
    }
}

/// An unrecognised line as its warning shows it: trimmed, at most 80 characters.
fn shown(line: &str) -> String {
    line.trim().chars().take(80).collect()
}

/// The diagnostic text of a failure notice.
fn failure_message(notice: Notice<'_>) -> String {
    match notice {
        Notice::InitializationError(detail) if !detail.is_empty() => {
            format!("handle.exe initialization error: {detail}")
        }
        Notice::InitializationError(_) => "handle.exe initialization error".to_owned(),
        Notice::HandleInformationError(reason) => format!("handle.exe could not obtain handle information: {reason}"),
        Notice::DriverError(reason) => format!("handle.exe could not load its driver: {reason}"),
        Notice::NeedsWindowsXp => "handle.exe requires Windows XP or higher".to_owned(),
        Notice::ExtractError => {
            "handle.exe could not extract its x64 image (run it from a writeable directory): no data".to_owned()
        }
        Notice::EulaFirstRun => {
            "handle.exe stopped at its first-run EULA notice (run it with -accepteula): no data".to_owned()
        }
        other => format!("{other:?}"),
    }
}
