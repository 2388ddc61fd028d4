//! The files of one host: where each output goes, in which style, and what was written.
//!
//! Layout of a host's folder (flat: ingest takes the first folder below the walked one as the host):
//! `poolmon.log` (one growing file with timestamp lines) or `poolmon-<yyyyMMddTHHmmssZ>.txt` (one file
//! per snapshot); `handle-s-<stamp>.txt` (`handle -s`); `handle-lsass-<stamp>.txt`
//! (`handle -a -p lsass.exe`); `System.evtx` and `System.xml` (`wevtutil qe System /f:xml`); `wpa-pool-usage.csv`
//! (`wpaexporter`'s pool table of a WPR Pool usage trace) when the scenario took one; `driverquery.csv`,
//! `driverquery-si.csv` and `fltmc.txt`, the driver inventory ([`super::inventory_writer`]).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::events::{to_wevtutil_xml, write_evtx, SimEvent};
use super::handle_writer::{self, HandleLine};
use super::poolmon_writer::{compact_utc, push_cmd_stamp, push_iso_stamp};
use super::scenario::{Newline, SimOptions, StampStyle, TextEncoding};
use super::sink::{TextFile, TextStyle};
use super::truth::FileTruth;
use crate::error::{Error, Result};

/// A group of files of one kind, counted as they are written.
#[derive(Debug, Clone, Default)]
struct Tally {
    files: u64,
    records: u64,
    bytes: u64,
}

/// Writes one host's files and keeps count.
#[derive(Debug)]
pub struct HostOutput {
    dir: PathBuf,
    prefix: String,
    style: TextStyle,
    stamps: StampStyle,
    truncate_last: bool,
    poolmon_log: Option<TextFile>,
    /// The latest snapshot's text, held back so the last one can be cut short.
    pending: Option<(DateTime<Utc>, Vec<u8>)>,
    poolmon: Tally,
    summaries: Tally,
    dumps: Tally,
    events: Vec<FileTruth>,
    wpa: Option<FileTruth>,
    inventory: Vec<FileTruth>,
}

impl HostOutput {
    /// Output into `dir`, which is `folder` (empty for the archive root) relative to the archive.
    pub fn new(dir: &Path, folder: &str, opts: &SimOptions) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let style = TextStyle { encoding: opts.encoding, newline: opts.newline };
        let poolmon_log = match opts.stamps {
            StampStyle::Cmd | StampStyle::Iso => Some(TextFile::create(&dir.join("poolmon.log"), style)?),
            StampStyle::FileName => None,
        };
        Ok(Self {
            dir: dir.to_owned(),
            prefix: if folder.is_empty() { String::new() } else { format!("{folder}/") },
            style,
            stamps: opts.stamps,
            truncate_last: opts.truncate_last,
            poolmon_log,
            pending: None,
            poolmon: Tally::default(),
            summaries: Tally::default(),
            dumps: Tally::default(),
            events: Vec::new(),
            wpa: None,
            inventory: Vec::new(),
        })
    }

    /// Records a poolmon snapshot taken at `t` (its text from [`super::poolmon_writer::write_snapshot`]).
    pub fn poolmon(&mut self, t: DateTime<Utc>, snapshot: &[u8]) -> Result<()> {
        self.flush_pending(false)?;
        let mut text = Vec::with_capacity(snapshot.len() + 40);
        match self.stamps {
            StampStyle::Cmd => push_cmd_stamp(&mut text, t),
            StampStyle::Iso => push_iso_stamp(&mut text, t),
            StampStyle::FileName => {}
        }
        text.extend_from_slice(snapshot);
        self.pending = Some((t, text));
        self.poolmon.records += 1;
        Ok(())
    }

    /// Writes the held-back snapshot, cut short when it is the last one and truncation was asked for.
    fn flush_pending(&mut self, last: bool) -> Result<()> {
        let Some((t, mut text)) = self.pending.take() else { return Ok(()) };
        if last && self.truncate_last {
            // A copy taken while poolmon was still appending: the file ends inside a row.
            let mut cut = (text.len() * 3 / 5).max(1);
            while cut < text.len() && (text[cut - 1] == b'\n' || text[cut] == b'\n') {
                cut += 1;
            }
            text.truncate(cut);
        }
        if let Some(file) = &mut self.poolmon_log {
            file.write_text(&text)?;
        } else {
            let name = format!("poolmon-{}.txt", compact_utc(t));
            let bytes = self.style.encode_file(&text);
            write_file(&self.dir.join(&name), &bytes)?;
            self.poolmon.files += 1;
            self.poolmon.bytes += bytes.len() as u64;
        }
        Ok(())
    }

    /// Writes a `handle -s` run taken at `t`.
    pub fn handle_summary(&mut self, t: DateTime<Utc>, counts: &[(&str, u64)]) -> Result<()> {
        let mut text = handle_writer::BANNER.as_bytes().to_vec();
        handle_writer::write_summary(&mut text, counts);
        let bytes = self.style.encode_file(&text);
        write_file(&self.dir.join(format!("handle-s-{}.txt", compact_utc(t))), &bytes)?;
        self.summaries.files += 1;
        self.summaries.records += 1;
        self.summaries.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Writes a `handle -a -p lsass.exe` run taken at `t`.
    pub fn handle_dump(&mut self, t: DateTime<Utc>, pid: u32, lines: &[HandleLine]) -> Result<()> {
        let mut text = handle_writer::BANNER.as_bytes().to_vec();
        text.reserve(lines.len() * 48 + 200);
        handle_writer::write_dump_process(&mut text, "lsass.exe", pid, "NT AUTHORITY\\SYSTEM", lines);
        let bytes = self.style.encode_file(&text);
        write_file(&self.dir.join(format!("handle-lsass-{}.txt", compact_utc(t))), &bytes)?;
        self.dumps.files += 1;
        self.dumps.records += 1;
        self.dumps.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Writes the System log as binary `System.evtx` and as `wevtutil qe System /f:xml` output.
    pub fn events(&mut self, events: &[SimEvent]) -> Result<()> {
        let evtx = write_evtx(events);
        write_file(&self.dir.join("System.evtx"), &evtx)?;
        self.events.push(self.file_truth("System.evtx", "evtx", 1, events.len() as u64, evtx.len() as u64));
        let mut xml = to_wevtutil_xml(events);
        if self.style.newline == Newline::Lf {
            xml = xml.replace("\r\n", "\n");
        }
        let bytes = match self.style.encoding {
            // wevtutil writes UTF-8 when redirected; the text holds U+200E marks (6008), so not ANSI.
            TextEncoding::Ansi => xml.into_bytes(),
            TextEncoding::Utf16 => {
                let mut out = vec![0xFF, 0xFE];
                out.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
                out
            }
        };
        write_file(&self.dir.join("System.xml"), &bytes)?;
        self.events.push(self.file_truth("System.xml", "event_xml", 1, events.len() as u64, bytes.len() as u64));
        Ok(())
    }

    /// Writes the WPA pool table of a trace (UTF-8, as wpaexporter writes it) with its number of rows.
    pub fn wpa_pool(&mut self, text: &[u8], rows: u64) -> Result<()> {
        let name = "wpa-pool-usage.csv";
        write_file(&self.dir.join(name), text)?;
        self.wpa = Some(self.file_truth(name, "wpa_pool", 1, rows, text.len() as u64));
        Ok(())
    }

    /// Writes the driver inventory files in the host's text style.
    pub fn inventory(&mut self, files: &[super::inventory_writer::InventoryFile]) -> Result<()> {
        for f in files {
            let bytes = self.style.encode_file(f.text.as_bytes());
            write_file(&self.dir.join(f.name), &bytes)?;
            self.inventory.push(self.file_truth(f.name, f.kind, 1, f.records, bytes.len() as u64));
        }
        Ok(())
    }

    fn file_truth(&self, name: &str, kind: &str, files: u64, records: u64, bytes: u64) -> FileTruth {
        FileTruth { path: format!("{}{name}", self.prefix), kind: kind.to_owned(), files, records, bytes }
    }

    /// Writes what is still held back, closes the files and lists what was written.
    pub fn finish(mut self) -> Result<Vec<FileTruth>> {
        self.flush_pending(true)?;
        let mut files = Vec::new();
        if let Some(log) = self.poolmon_log.take() {
            let bytes = log.finish()?;
            files.push(self.file_truth("poolmon.log", "poolmon", 1, self.poolmon.records, bytes));
        } else if self.poolmon.files > 0 {
            let p = self.poolmon.clone();
            files.push(self.file_truth("poolmon-*.txt", "poolmon", p.files, p.records, p.bytes));
        }
        if self.summaries.files > 0 {
            let s = self.summaries.clone();
            files.push(self.file_truth("handle-s-*.txt", "handle_summary", s.files, s.records, s.bytes));
        }
        if self.dumps.files > 0 {
            let d = self.dumps.clone();
            files.push(self.file_truth("handle-lsass-*.txt", "handle_dump", d.files, d.records, d.bytes));
        }
        files.append(&mut self.events);
        files.extend(self.wpa.take());
        files.append(&mut self.inventory);
        Ok(files)
    }
}

/// Writes a whole file (atomically: a temporary name renamed into place).
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::output::write_atomic(path, bytes)
}
