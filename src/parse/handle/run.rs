//! One handle.exe run being assembled: the grammar rules' borrowed lines become owned model records
//! here, in one place. A run borrows nothing from the lines it was read from, so lines can be read one at a
//! time from a stream ([`super::parse_reader`]).

use std::collections::{BTreeMap, HashMap};

use super::command::Echoed;
use super::csv::{CsvLayout, CsvRow};
use super::dump::{HandleLine, ProcessHeader};
use super::names;
use super::search::SearchLine;
use crate::model::handles::HandleMode;
use crate::model::{HandleEntry, HandleSnapshot, ProcessHandles, SourceRef, TimeSource};
use crate::parse::timestamp::RawStamp;

/// Name given to handles listed before any `pid:` header (trimmed output).
pub const UNKNOWN_PROCESS: &str = "<unknown process>";

/// Where a run is in its `-s` summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryState {
    /// No `Handle type summary:` yet.
    None,
    /// Between the title and `Total handles:`.
    Open,
    /// Ended with `Total handles:`.
    Done,
}

/// A run of handle.exe output, from its banner (or first data line) to the next run.
#[derive(Debug)]
pub struct Run {
    /// Line of the banner or first data line.
    pub start_line: u64,
    /// Version from the banner.
    pub version: Option<String>,
    /// Mode, once a data line said it.
    pub mode: Option<HandleMode>,
    /// The echoed command line before the run, when there was one.
    pub echo: Option<Echoed>,
    /// The timestamp line a collection loop wrote just before the run.
    pub stamp: Option<RawStamp>,
    /// Summary counts by type (duplicates summed).
    pub type_counts: BTreeMap<String, u64>,
    /// Where the run is in its `-s` summary.
    pub summary: SummaryState,
    /// `Total handles:`.
    pub total: Option<u64>,
    /// Processes listed.
    pub processes: Vec<ProcessHandles>,
    /// Index of the process whose section is open (dump mode).
    current: Option<usize>,
    /// Handles of the open section, moved into its process when the section ends: one exact-size copy
    /// instead of the repeated growth of many per-process vectors (the hot path of a 200 MB dump).
    section: Vec<HandleEntry>,
    /// Processes by pid (then name, the latest listed first), for search and CSV lines and for repeated dump
    /// headers; keyed by pid alone so that a line's borrowed name is looked up without a copy.
    index: HashMap<u32, Vec<usize>>,
    /// The run hit an error notice.
    pub failed: bool,
    /// The run said `No matching handles found.`
    pub no_matches: bool,
    /// The run is `-c` output (closing a handle).
    pub closing: bool,
    /// The CSV header's claimed layout, and whether a mismatch was reported already.
    pub csv_header: Option<(u64, Option<CsvLayout>)>,
    /// Rows whose layout differed from the header's (first line, count, row layout).
    pub csv_mismatch: Option<(u64, usize, CsvLayout)>,
    /// First handle line listed outside any process section.
    pub orphan_line: Option<u64>,
}

impl Run {
    /// A new run starting at `line`.
    pub fn new(line: u64, version: Option<String>, echo: Option<Echoed>) -> Self {
        Self {
            start_line: line,
            version,
            mode: None,
            echo,
            stamp: None,
            type_counts: BTreeMap::new(),
            summary: SummaryState::None,
            total: None,
            processes: Vec::new(),
            current: None,
            section: Vec::new(),
            index: HashMap::new(),
            failed: false,
            no_matches: false,
            closing: false,
            csv_header: None,
            csv_mismatch: None,
            orphan_line: None,
        }
    }

    /// Whether the run holds any data.
    pub fn has_data(&self) -> bool {
        !self.type_counts.is_empty() || self.total.is_some() || !self.processes.is_empty()
    }

    /// Whether a dump header for this process was seen already in this run (then a new run began).
    pub fn has_process(&self, header: &ProcessHeader<'_>) -> bool {
        self.find(header.pid, header.name).is_some()
    }

    /// The latest process listed with this pid and name.
    fn find(&self, pid: u32, name: &str) -> Option<usize> {
        self.index.get(&pid)?.iter().rev().copied().find(|&at| self.processes[at].name == name)
    }

    /// Opens a process section.
    pub fn open_process(&mut self, header: &ProcessHeader<'_>) {
        self.flush_section();
        let owner = header.owner.map(normalise_owner);
        self.index.entry(header.pid).or_default().push(self.processes.len());
        self.current = Some(self.processes.len());
        self.processes.push(ProcessHandles {
            name: header.name.to_owned(),
            pid: header.pid,
            owner,
            handles: Vec::new(),
        });
    }

    /// Closes the open process section (at a separator).
    pub fn close_process(&mut self) {
        self.flush_section();
        self.current = None;
    }

    /// Moves the open section's handles into its process.
    fn flush_section(&mut self) {
        if self.section.is_empty() {
            return;
        }
        if let Some(process) = self.current.and_then(|at| self.processes.get_mut(at)) {
            process.handles.reserve_exact(self.section.len());
            process.handles.append(&mut self.section);
        }
        self.section.clear();
    }

    /// Adds a dump handle line to the open section. Returns `false` when no section was open and the
    /// handle went under [`UNKNOWN_PROCESS`] (or the `-p` pid of the echoed command).
    pub fn push_dump_handle(&mut self, line: &HandleLine<'_>) -> bool {
        let opened = self.current.is_some();
        if !opened {
            self.orphan_process();
        }
        self.section.push(entry(line.value, line.handle_type, line.share, line.name));
        opened
    }

    /// The process that handle lines without a header go under.
    fn orphan_process(&mut self) {
        // Copied (once per section without a header): the header would otherwise borrow the run it opens into.
        let filter = self.echo.as_ref().and_then(|e| e.process_filter.clone());
        let pid = filter.as_deref().and_then(|f| f.parse::<u32>().ok());
        let name = match (&filter, pid) {
            (Some(f), None) => f.as_str(),
            _ => UNKNOWN_PROCESS,
        };
        let header = ProcessHeader { name, pid: pid.unwrap_or(0), owner: None };
        if let Some(at) = self.find(header.pid, header.name) {
            self.current = Some(at);
            return;
        }
        self.open_process(&header);
    }

    /// The process a search or CSV line belongs to (created on first sight, in order of appearance).
    fn listed_process(&mut self, name: &str, pid: u32, user: Option<&str>) -> usize {
        let at = if let Some(at) = self.find(pid, name) {
            at
        } else {
            self.index.entry(pid).or_default().push(self.processes.len());
            self.processes.push(ProcessHandles { name: name.to_owned(), pid, owner: None, handles: Vec::new() });
            self.processes.len() - 1
        };
        if let (None, Some(user)) = (&self.processes[at].owner, user) {
            if !user.is_empty() {
                self.processes[at].owner = Some(normalise_owner(user));
            }
        }
        at
    }

    /// Adds a search-mode line.
    pub fn push_search(&mut self, line: &SearchLine<'_>) {
        let at = self.listed_process(line.process, line.pid, line.user);
        self.processes[at].handles.push(entry(line.value, line.handle_type, None, line.name));
    }

    /// Adds a CSV row.
    pub fn push_csv(&mut self, row: &CsvRow<'_>) {
        let at = self.listed_process(row.process, row.pid, row.user);
        self.processes[at].handles.push(entry(row.value, row.handle_type, row.share, row.name));
    }

    /// Adds a summary type line; returns `true` when the type was listed before (and the counts summed).
    pub fn push_type_count(&mut self, handle_type: &str, count: u64) -> bool {
        if let Some(n) = self.type_counts.get_mut(handle_type) {
            *n = n.saturating_add(count);
            true
        } else {
            self.type_counts.insert(handle_type.to_owned(), count);
            false
        }
    }

    /// The owned snapshot (time fields are filled in later, over the whole file).
    pub fn into_snapshot(mut self, path: &str, host: Option<&str>) -> HandleSnapshot {
        self.flush_section();
        HandleSnapshot {
            source: SourceRef::line(path, self.start_line),
            host: host.map(str::to_owned),
            taken_at: None,
            time_source: TimeSource::Unknown,
            tool_version: self.version,
            mode: self.mode.unwrap_or(HandleMode::Dump),
            process_filter: self.echo.and_then(|e| e.process_filter),
            type_counts: self.type_counts,
            total_handles: self.total,
            processes: self.processes,
        }
    }
}

/// One owned handle entry, with its name parsed by type.
fn entry(value: u64, handle_type: &str, share: Option<&str>, name: &str) -> HandleEntry {
    HandleEntry {
        value,
        handle_type: handle_type.to_owned(),
        share: share.map(str::to_owned),
        identity: names::identity(handle_type, name),
        name: name.to_owned(),
    }
}

/// `\<unable to open process>` (v3.5 prints an empty domain before the placeholder, §2.2a) becomes
/// `<unable to open process>`, so placeholders group together whatever the version.
fn normalise_owner(owner: &str) -> String {
    owner.strip_prefix('\\').filter(|rest| rest.starts_with('<')).unwrap_or(owner).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_placeholders_lose_the_empty_domain() {
        assert_eq!(normalise_owner(r"\<unable to open process>"), "<unable to open process>");
        assert_eq!(normalise_owner(r"NT AUTHORITY\SYSTEM"), r"NT AUTHORITY\SYSTEM");
        assert_eq!(normalise_owner("<unable to open token>"), "<unable to open token>");
    }

    #[test]
    fn duplicate_summary_types_are_summed() {
        let mut run = Run::new(1, None, None);
        assert!(!run.push_type_count("Process", 3));
        assert!(run.push_type_count("Process", 38));
        assert_eq!(run.type_counts["Process"], 41);
    }

    #[test]
    fn orphan_handles_take_the_echoed_pid() {
        let echo = Echoed { process_filter: Some("5996".to_owned()) };
        let mut run = Run::new(1, None, Some(echo));
        let line = HandleLine { value: 0xA4, handle_type: "File", share: None, name: r"C:\Temp\test.txt" };
        assert!(!run.push_dump_handle(&line));
        // The first orphan opened the section; the next line belongs to it.
        assert!(run.push_dump_handle(&line));
        run.close_process();
        assert_eq!(run.processes.len(), 1);
        assert_eq!((run.processes[0].name.as_str(), run.processes[0].pid), (UNKNOWN_PROCESS, 5996));
        assert_eq!(run.processes[0].handles.len(), 2);
    }
}
