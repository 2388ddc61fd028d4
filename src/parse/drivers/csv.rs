//! The CSV driver lists: `driverquery [/v] /fo csv`, `driverquery /si /fo csv` and
//! `Get-CimInstance Win32_SystemDriver | Export-Csv` (with or without its `#TYPE` line).
//!
//! A row with fewer cells than the header (a copy cut short), with no name, or that cannot be read is a
//! diagnostic with its line and is left out. A CIM export of services rather than drivers (`ServiceType` `Own
//! Process`) is not a driver list: those rows are skipped and counted in one note. A header repeated inside
//! the file (lists appended to one file) is skipped.

use super::columns::{normalise, Columns};
use super::{loaded_from_state, yes_no};
use crate::model::drivers::{Driver, DriverListing, DriverType, ListingKind, SignedDevice};
use crate::model::{Diagnostic, Severity, SourceRef};
use crate::parse::perfmon::LineIndex;
use crate::parse::FileContext;

/// Bad rows of a file reported one by one; the rest are counted in one diagnostic.
const ROW_DIAGNOSTICS_SHOWN: usize = 20;

/// The header: (byte offset of its line, its 1-based line number, the line), after an optional `#TYPE` line.
pub fn header_line(text: &str) -> Option<(usize, u64, &str)> {
    let mut offset = 0;
    let mut line_no = 0;
    for raw in text.split_inclusive('\n') {
        line_no += 1;
        let line = raw.trim_start_matches('\u{feff}').trim();
        if !line.is_empty() && !line.starts_with("#TYPE") {
            return Some((offset, line_no, line));
        }
        offset += raw.len();
    }
    None
}

/// The header's columns, when it is a CSV driver list's.
pub fn columns(text: &str) -> Option<Columns> {
    let (_, _, line) = header_line(text)?;
    let mut reader = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(line.as_bytes());
    let record = reader.records().next()?.ok()?;
    Columns::from_header(record.iter())
}

/// Parses a decoded CSV driver list. `None` (with an error) when the header is not a driver list's.
pub fn parse(text: &str, ctx: &FileContext) -> (Option<DriverListing>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let text = text.trim_start_matches('\u{feff}');
    let Some((start, header_no, _)) = header_line(text) else {
        diagnostics.push(Diagnostic::for_file(&ctx.path, Severity::Error, "empty driver list"));
        return (None, diagnostics);
    };
    let Some(columns) = columns(text) else {
        diagnostics.push(Diagnostic::at_line(
            &ctx.path,
            header_no,
            Severity::Error,
            "not a driverquery, driverquery /si or Win32_SystemDriver CSV header",
        ));
        return (None, diagnostics);
    };
    let kind = columns.kind.unwrap_or(ListingKind::Driverquery);
    let lines = LineIndex::new(text);
    let mut reader =
        ::csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(&text.as_bytes()[start..]);
    let mut listing = DriverListing {
        source: SourceRef::line(&ctx.path, header_no),
        kind,
        host: ctx.host.clone(),
        system_name: None,
        drivers: Vec::new(),
        devices: Vec::new(),
    };
    let mut rows = Rows { ctx, diagnostics: &mut diagnostics, bad: 0, services: 0 };
    let mut record = ::csv::StringRecord::new();
    loop {
        let before = reader.position().clone();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let mut at = ::csv::Position::new();
                at.set_byte(record.position().map_or(before.byte(), ::csv::Position::byte) + start as u64);
                let line = lines.of(Some(&at));
                if record.len() < columns.width {
                    let cut = if reader.position().byte() as usize + start >= text.len() && !text.ends_with('\n') {
                        " (the file ends inside it: cut short?)"
                    } else {
                        ""
                    };
                    rows.bad(
                        line,
                        format!("row has {} of the header's {} cells{cut}; skipped", record.len(), columns.width),
                    );
                    continue;
                }
                rows.row(&mut listing, &columns, &record, line);
            }
            Err(e) => {
                let mut at = ::csv::Position::new();
                at.set_byte(e.position().map_or(before.byte(), ::csv::Position::byte) + start as u64);
                rows.bad(lines.of(Some(&at)), format!("unreadable row: {e}"));
                // The csv reader moves on past a bad record; one that cannot would repeat forever.
                if reader.position().byte() == before.byte() {
                    break;
                }
            }
        }
    }
    let (bad, services) = (rows.bad, rows.services);
    if bad > ROW_DIAGNOSTICS_SHOWN {
        diagnostics.push(Diagnostic::for_file(
            &ctx.path,
            Severity::Warning,
            format!("{} more rows of the driver list were skipped", bad - ROW_DIAGNOSTICS_SHOWN),
        ));
    }
    if services > 0 {
        diagnostics.push(Diagnostic::for_file(
            &ctx.path,
            Severity::Info,
            format!("{services} rows are services, not drivers (ServiceType is not a driver's); skipped"),
        ));
    }
    (Some(listing), diagnostics)
}

/// The rows read so far.
struct Rows<'a> {
    ctx: &'a FileContext,
    diagnostics: &'a mut Vec<Diagnostic>,
    bad: usize,
    services: usize,
}

impl Rows<'_> {
    fn bad(&mut self, line: u64, message: String) {
        self.bad += 1;
        if self.bad <= ROW_DIAGNOSTICS_SHOWN {
            self.diagnostics.push(Diagnostic::at_line(&self.ctx.path, line, Severity::Warning, message));
        }
    }

    fn row(&mut self, listing: &mut DriverListing, c: &Columns, record: &::csv::StringRecord, line: u64) {
        let cell = |i: Option<usize>| {
            i.and_then(|i| record.get(i)).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
        };
        let Some(name) = cell(Some(c.name)) else {
            return self.bad(line, "row without a name; skipped".to_owned());
        };
        // Lists appended to one file repeat the header.
        if Columns::from_header(record.iter()).is_some() || normalise(&name) == "modulename" {
            return;
        }
        let source = SourceRef::line(&self.ctx.path, line);
        if listing.kind == ListingKind::DriverquerySigned {
            listing.devices.push(SignedDevice {
                device_name: name,
                inf: cell(c.inf),
                signed: cell(c.signed).as_deref().and_then(yes_no),
                manufacturer: cell(c.manufacturer),
                source,
            });
            return;
        }
        let type_text = cell(c.driver_type);
        let driver_type = type_text.as_deref().map(driver_type);
        if listing.kind == ListingKind::SystemDriverCsv && driver_type == Some(DriverType::Other) {
            self.services += 1;
            return;
        }
        if listing.system_name.is_none() {
            listing.system_name = cell(c.system_name);
        }
        let state = cell(c.state);
        let loaded =
            cell(c.started).as_deref().and_then(yes_no).or_else(|| state.as_deref().and_then(loaded_from_state));
        let display_name = cell(c.display_name);
        let description = cell(c.description).filter(|d| Some(d) != display_name.as_ref());
        let driver = Driver {
            name,
            display_name,
            description,
            path: cell(c.path),
            driver_type,
            state,
            loaded,
            start_mode: cell(c.start_mode),
            link_date: cell(c.link_date),
            sources: vec![source],
            ..Driver::default()
        };
        match listing.drivers.iter_mut().find(|d| d.name.eq_ignore_ascii_case(&driver.name)) {
            // driverquery lists a module once; a CIM export of several runs may repeat it.
            Some(known) => known.sources.extend(driver.sources),
            None => listing.drivers.push(driver),
        }
    }
}

/// `Kernel`, `File System` (driverquery; German `Dateisystem`, French `Système de fichiers`, `Noyau`) or CIM's
/// `Kernel Driver` and `File System Driver`.
fn driver_type(text: &str) -> DriverType {
    let t = normalise(text);
    if t.starts_with("kernel") || t == "noyau" {
        DriverType::Kernel
    } else if t.starts_with("filesystem") || t.starts_with("dateisystem") || t.starts_with("systèmedefichiers") {
        DriverType::FileSystem
    } else {
        DriverType::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (DriverListing, Vec<Diagnostic>) {
        let (listing, diags) = parse(text, &FileContext { path: "d.csv".into(), ..FileContext::default() });
        (listing.expect("a listing"), diags)
    }

    #[test]
    fn verbose_rows_give_type_state_and_path() {
        let (l, diags) = read(concat!(
            "\"Module Name\",\"Display Name\",\"Description\",\"Driver Type\",\"Start Mode\",\"State\",\"Status\",",
            "\"Accept Stop\",\"Accept Pause\",\"Paged Pool(bytes)\",\"Code(bytes)\",\"BSS(bytes)\",\"Link Date\",",
            "\"Path\",\"Init(bytes)\"\r\n",
            "\"Ntfs\",\"Ntfs\",\"Ntfs\",\"File System \",\"Boot\",\"Running\",\"OK\",\"TRUE\",\"FALSE\",\"757,760\",",
            "\"1,589,248\",\"0\",\"4/9/2020 10:12:36 PM\",\"C:\\Windows\\system32\\drivers\\Ntfs.sys\",\"77,824\"\r\n",
        ));
        assert!(diags.is_empty(), "{diags:?}");
        let d = &l.drivers[0];
        assert_eq!((d.name.as_str(), d.driver_type, d.loaded), ("Ntfs", Some(DriverType::FileSystem), Some(true)));
        assert_eq!(d.description, None, "the same as the display name");
        assert_eq!(d.file_name(), "Ntfs.sys");
        assert_eq!(d.sources[0].line, Some(2));
    }

    #[test]
    fn cim_services_are_skipped_with_a_note() {
        let (l, diags) = read(concat!(
            "#TYPE Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_Service\n",
            "\"Name\",\"PathName\",\"ServiceType\",\"State\",\"Started\"\n",
            "\"Spooler\",\"C:\\Windows\\System32\\spoolsv.exe\",\"Own Process\",\"Running\",\"True\"\n",
        ));
        assert!(l.is_empty());
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.contains("services"), "{diags:?}");
    }

    #[test]
    fn a_short_last_row_is_said_cut_short() {
        let (l, diags) = read("\"Module Name\",\"Display Name\",\"Driver Type\",\"Link Date\"\n\"ACPI\",\"Micro");
        assert!(l.is_empty());
        assert!(diags[0].message.contains("cut short"), "{diags:?}");
        assert_eq!(diags[0].line, Some(2));
    }
}
