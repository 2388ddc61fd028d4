//! The files of one host: where each output goes, in which style, and what was written.
//!
//! Layout of a host's folder (flat: ingest takes the first folder below the walked one as the host):
//! `poolmon.log` (one growing file with timestamp lines) or `poolmon-<yyyyMMddTHHmmssZ>.txt` (one file
//! per snapshot); `handle-s-<stamp>.txt` (`handle -s`); `handle-lsass-<stamp>.txt`
//! (`handle -a -p lsass.exe`); `System.evtx` and `System.xml` (`wevtutil qe System /f:xml`); `wpa-pool-usage.csv`
//! (`wpaexporter`'s pool table of a WPR Pool usage trace) when the scenario took one; `perfmon-<boot>.csv`
//! (`logman ... -f csv`, one per boot) when counters are collected; `driverquery.csv`, `driverquery-si.csv`
//! and `fltmc.txt`, the driver inventory ([`super::inventory_writer`]).
//!
//! In the kit layout ([`Layout::Kit`]) every host has its folder and each kind its subfolder, as `poolscope kit`'s
//! scripts write them: `poolmon/poolmon.log`, `handle/handle-s-<stamp>.txt` and `handle/handle-lsass-<stamp>.txt`,
//! `perfmon/counters-<boot>.csv`, `eventlog/System.evtx` (`wevtutil epl`: no XML export), `drivers/`, `wpa/`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::events::{to_wevtutil_xml, write_evtx, SimEvent};
use super::handle_writer::{self, HandleLine};
use super::perfmon_writer::{self, PerfSample};
use super::pool_csv_writer;
use super::pool_model::RowValues;
use super::poolmon_writer::{compact_utc, push_cmd_stamp, push_iso_stamp};
use super::scenario::{Layout, Newline, SimOptions, StampStyle, TextEncoding};
use super::sink::{TextFile, TextStyle};
use super::truth::FileTruth;
use crate::error::{Error, Result};
use crate::kit::folder;

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
    layout: Layout,
    /// The perfmon file of the boot being written: boot, its truth path, the file, rows so far.
    perf: Option<(u32, String, TextFile, u64)>,
    perf_files: Vec<FileTruth>,
    inventory: Vec<FileTruth>,
    /// The PoolmonViz file of the day being written: day, its truth path, the file, rows so far.
    pool_csv: Option<(String, String, TextFile, u64)>,
    extra_files: Vec<FileTruth>,
}

impl HostOutput {
    /// Output into `dir`, which is `folder` (empty for the archive root) relative to the archive.
    pub fn new(dir: &Path, folder: &str, opts: &SimOptions) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let style = TextStyle { encoding: opts.encoding, newline: opts.newline };
        let kind_dir = |kind: &str| match opts.layout {
            Layout::Flat => dir.to_owned(),
            Layout::Kit => dir.join(kind),
        };
        let poolmon_log = match opts.stamps {
            StampStyle::Cmd | StampStyle::Iso => {
                let folder = kind_dir(folder::POOLMON);
                std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
                Some(TextFile::create(&folder.join("poolmon.log"), style)?)
            }
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
            layout: opts.layout,
            perf: None,
            perf_files: Vec::new(),
            inventory: Vec::new(),
            pool_csv: None,
            extra_files: Vec::new(),
        })
    }

    /// Where a file of `kind` named `name` goes: its path on disk (its folder created) and in the truth.
    fn place(&self, kind: &str, name: &str) -> Result<(PathBuf, String)> {
        let shown = format!("{}{}", self.prefix, in_kind(self.layout, kind, name));
        match self.layout {
            Layout::Flat => Ok((self.dir.join(name), shown)),
            Layout::Kit => {
                let folder = self.dir.join(kind);
                std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
                Ok((folder.join(name), shown))
            }
        }
    }

    /// Records one perfmon sample of boot `boot` taken at `t`; the first sample of a boot starts its file.
    pub fn perf_sample(&mut self, boot: u32, t: DateTime<Utc>, host: &str, sample: &PerfSample) -> Result<()> {
        if self.perf.as_ref().is_some_and(|(b, ..)| *b != boot) {
            self.finish_perf()?;
        }
        if self.perf.is_none() {
            let name = match self.layout {
                Layout::Flat => format!("perfmon-{}.csv", compact_utc(t)),
                Layout::Kit => format!("counters-{}.csv", compact_utc(t)),
            };
            let (path, shown) = self.place(folder::PERFMON, &name)?;
            let mut file = TextFile::create(&path, self.style)?;
            file.write_text(perfmon_writer::header(host, sample).as_bytes())?;
            self.perf = Some((boot, shown, file, 0));
        }
        if let Some((_, _, file, rows)) = &mut self.perf {
            file.write_text(perfmon_writer::row(t, sample).as_bytes())?;
            *rows += 1;
        }
        Ok(())
    }

    /// Records one snapshot's rows in PoolmonViz's file of its day (UTF-16LE with BOM, CRLF: Windows PowerShell's
    /// `Export-Csv`, whatever the style of the other files).
    pub fn pool_csv(&mut self, t: DateTime<Utc>, rows: &[(&str, crate::model::PoolType, RowValues)]) -> Result<()> {
        let name = pool_csv_writer::file_name(t);
        if self.pool_csv.as_ref().is_some_and(|(day, ..)| *day != name) {
            self.finish_pool_csv()?;
        }
        if self.pool_csv.is_none() {
            let (path, shown) = self.place("poolmonviz", &name)?;
            let style = TextStyle { encoding: TextEncoding::Utf16, newline: Newline::Crlf };
            let mut file = TextFile::create(&path, style)?;
            file.write_text(pool_csv_writer::HEADER.as_bytes())?;
            self.pool_csv = Some((name, shown, file, 0));
        }
        if let Some((_, _, file, count)) = &mut self.pool_csv {
            file.write_text(pool_csv_writer::snapshot_rows(t, rows).as_bytes())?;
            *count += rows.len() as u64;
        }
        Ok(())
    }

    fn finish_pool_csv(&mut self) -> Result<()> {
        if let Some((_, shown, file, rows)) = self.pool_csv.take() {
            let bytes = file.finish()?;
            self.extra_files.push(FileTruth { path: shown, kind: "pool_csv".into(), files: 1, records: rows, bytes });
        }
        Ok(())
    }

    /// Writes the debugger session text of a kernel dump taken at `t`.
    pub fn debugger(&mut self, t: DateTime<Utc>, text: &str) -> Result<()> {
        let (path, shown) = self.place("dump", &format!("memory-dmp-{}.txt", compact_utc(t)))?;
        let bytes = self.style.encode_file(text.as_bytes());
        write_file(&path, &bytes)?;
        self.extra_files.push(FileTruth {
            path: shown,
            kind: "debugger".into(),
            files: 1,
            records: 1,
            bytes: bytes.len() as u64,
        });
        Ok(())
    }

    /// Closes the current perfmon file and lists it.
    fn finish_perf(&mut self) -> Result<()> {
        if let Some((_, shown, file, rows)) = self.perf.take() {
            let bytes = file.finish()?;
            self.perf_files.push(FileTruth { path: shown, kind: "perfmon".into(), files: 1, records: rows, bytes });
        }
        Ok(())
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
            let (path, _) = self.place(folder::POOLMON, &format!("poolmon-{}.txt", compact_utc(t)))?;
            let bytes = self.style.encode_file(&text);
            write_file(&path, &bytes)?;
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
        let (path, _) = self.place(folder::HANDLE, &format!("handle-s-{}.txt", compact_utc(t)))?;
        write_file(&path, &bytes)?;
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
        let (path, _) = self.place(folder::HANDLE, &format!("handle-lsass-{}.txt", compact_utc(t)))?;
        write_file(&path, &bytes)?;
        self.dumps.files += 1;
        self.dumps.records += 1;
        self.dumps.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Writes the System log as binary `System.evtx` and as `wevtutil qe System /f:xml` output.
    pub fn events(&mut self, events: &[SimEvent]) -> Result<()> {
        let evtx = write_evtx(events);
        let (path, shown) = self.place(folder::EVENTLOG, "System.evtx")?;
        write_file(&path, &evtx)?;
        self.events.push(FileTruth {
            path: shown,
            kind: "evtx".into(),
            files: 1,
            records: events.len() as u64,
            bytes: evtx.len() as u64,
        });
        if self.layout == Layout::Kit {
            // The kit exports the log with `wevtutil epl`: the binary log only.
            return Ok(());
        }
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
        let (path, shown) = self.place("wpa", "wpa-pool-usage.csv")?;
        write_file(&path, text)?;
        self.wpa =
            Some(FileTruth { path: shown, kind: "wpa_pool".into(), files: 1, records: rows, bytes: text.len() as u64 });
        Ok(())
    }

    /// Writes the driver inventory files in the host's text style.
    pub fn inventory(&mut self, files: &[super::inventory_writer::InventoryFile]) -> Result<()> {
        for f in files {
            let bytes = self.style.encode_file(f.text.as_bytes());
            let (path, shown) = self.place(folder::DRIVERS, f.name)?;
            write_file(&path, &bytes)?;
            self.inventory.push(FileTruth {
                path: shown,
                kind: f.kind.to_owned(),
                files: 1,
                records: f.records,
                bytes: bytes.len() as u64,
            });
        }
        Ok(())
    }

    fn file_truth(&self, name: &str, kind: &str, files: u64, records: u64, bytes: u64) -> FileTruth {
        FileTruth { path: format!("{}{name}", self.prefix), kind: kind.to_owned(), files, records, bytes }
    }

    /// Writes what is still held back, closes the files and lists what was written.
    pub fn finish(mut self) -> Result<Vec<FileTruth>> {
        self.flush_pending(true)?;
        self.finish_perf()?;
        self.finish_pool_csv()?;
        let mut files = Vec::new();
        let layout = self.layout;
        let kind = |kind: &str, name: &str| in_kind(layout, kind, name);
        if let Some(log) = self.poolmon_log.take() {
            let bytes = log.finish()?;
            files.push(self.file_truth(
                &kind(folder::POOLMON, "poolmon.log"),
                "poolmon",
                1,
                self.poolmon.records,
                bytes,
            ));
        } else if self.poolmon.files > 0 {
            let p = self.poolmon.clone();
            files.push(self.file_truth(
                &kind(folder::POOLMON, "poolmon-*.txt"),
                "poolmon",
                p.files,
                p.records,
                p.bytes,
            ));
        }
        if self.summaries.files > 0 {
            let s = self.summaries.clone();
            let name = kind(folder::HANDLE, "handle-s-*.txt");
            files.push(self.file_truth(&name, "handle_summary", s.files, s.records, s.bytes));
        }
        if self.dumps.files > 0 {
            let d = self.dumps.clone();
            let name = kind(folder::HANDLE, "handle-lsass-*.txt");
            files.push(self.file_truth(&name, "handle_dump", d.files, d.records, d.bytes));
        }
        files.append(&mut self.events);
        files.extend(self.wpa.take());
        files.append(&mut self.perf_files);
        files.append(&mut self.inventory);
        files.append(&mut self.extra_files);
        Ok(files)
    }
}

/// A file's path within the host's folder: `name`, or `kind/name` in the kit layout.
fn in_kind(layout: Layout, kind: &str, name: &str) -> String {
    match layout {
        Layout::Flat => name.to_owned(),
        Layout::Kit => format!("{kind}/{name}"),
    }
}

/// Writes a whole file (atomically: a temporary name renamed into place).
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::output::write_atomic(path, bytes)
}
