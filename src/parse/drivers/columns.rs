//! The header rows of the CSV driver lists, matched by name: which list it is and which cell holds what.
//!
//! `driverquery` localises its headers; the English ones are Windows' own (`"Module Name","Display Name",
//! "Description","Driver Type","Start Mode","State","Status","Accept Stop","Accept Pause","Paged Pool(bytes)",
//! "Code(bytes)","BSS(bytes)","Link Date","Path","Init(bytes)"` for `/v`; `"Module Name","Display Name","Driver
//! Type","Link Date"` without it). The German and French names below are this project's best reading of those
//! systems' output and are not verified against a real capture (README "What it reads"): a header that matches
//! none of them is not detected. `driverquery /si` (`DeviceName`, `InfName`, `IsSigned`, `Manufacturer`) and
//! CIM exports use property names, which Windows does not translate.

use crate::model::drivers::ListingKind;

/// Where each field of a row is, by 0-based cell index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Columns {
    /// Which list the header is.
    pub kind: Option<ListingKind>,
    /// Module, service or device name.
    pub name: usize,
    /// Display name.
    pub display_name: Option<usize>,
    /// Description.
    pub description: Option<usize>,
    /// Driver type (`Kernel`, `File System`) or CIM `ServiceType`.
    pub driver_type: Option<usize>,
    /// Start mode.
    pub start_mode: Option<usize>,
    /// State (`Running`, `Stopped`).
    pub state: Option<usize>,
    /// CIM `Started` (`True`/`False`).
    pub started: Option<usize>,
    /// Image path (`Path`, CIM `PathName`).
    pub path: Option<usize>,
    /// Link date.
    pub link_date: Option<usize>,
    /// `/si` `InfName`.
    pub inf: Option<usize>,
    /// `/si` `IsSigned`.
    pub signed: Option<usize>,
    /// `/si` `Manufacturer`.
    pub manufacturer: Option<usize>,
    /// CIM `SystemName` or `PSComputerName`.
    pub system_name: Option<usize>,
    /// Cells in the header row.
    pub width: usize,
}

/// A header cell lowercased with everything but letters and digits removed: `"Module Name"` and `Modulname`
/// compare as `modulename` and `modulname`; accents stay (`étatétat`).
pub fn normalise(cell: &str) -> String {
    cell.trim_start_matches('\u{feff}').chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// `driverquery` module-name headers: English, German, French.
const MODULE: &[&str] = &["modulename", "modulname", "nomdumodule", "nomdemodule"];
const DISPLAY: &[&str] = &["displayname", "anzeigename", "nomcomplet", "nomdaffichage"];
const DESCRIPTION: &[&str] = &["description", "beschreibung"];
const DRIVER_TYPE: &[&str] = &["drivertype", "treibertyp", "typedepilote"];
const START_MODE: &[&str] = &["startmode", "startmodus", "starttyp", "modededémarrage"];
/// `State` first: German prints `Status` twice (state, then status), and the first is the state.
const STATE: &[&str] = &["state", "zustand", "état", "etat", "status"];
const PATH: &[&str] = &["path", "pfad", "chemindaccès", "chemin"];
const LINK_DATE: &[&str] = &["linkdate", "linkdatum", "datedelien", "datedeliaison", "datedelédition"];

impl Columns {
    /// Reads a header row. `None` when it is none of the driver lists.
    pub fn from_header<'a>(cells: impl IntoIterator<Item = &'a str>) -> Option<Columns> {
        let named: Vec<String> = cells.into_iter().map(normalise).collect();
        let find = |names: &[&str]| names.iter().find_map(|n| named.iter().position(|c| c == n));
        let width = named.len();
        // driverquery /si.
        if let (Some(device), Some(inf)) = (find(&["devicename"]), find(&["infname"])) {
            return Some(Columns {
                kind: Some(ListingKind::DriverquerySigned),
                name: device,
                inf: Some(inf),
                signed: find(&["issigned"]),
                manufacturer: find(&["manufacturer"]),
                width,
                ..Columns::default()
            });
        }
        // Win32_SystemDriver: property names, with a PathName and a ServiceType.
        if let (Some(name), Some(path), Some(service_type)) =
            (find(&["name"]), find(&["pathname"]), find(&["servicetype"]))
        {
            return Some(Columns {
                kind: Some(ListingKind::SystemDriverCsv),
                name,
                display_name: find(&["displayname"]),
                description: find(&["description"]),
                driver_type: Some(service_type),
                start_mode: find(&["startmode"]),
                state: find(&["state"]),
                started: find(&["started"]),
                path: Some(path),
                system_name: find(&["systemname", "pscomputername"]),
                width,
                ..Columns::default()
            });
        }
        let name = find(MODULE)?;
        let columns = Columns {
            kind: Some(ListingKind::Driverquery),
            name,
            display_name: find(DISPLAY),
            description: find(DESCRIPTION),
            driver_type: find(DRIVER_TYPE),
            start_mode: find(START_MODE),
            state: find(STATE),
            path: find(PATH),
            link_date: find(LINK_DATE),
            width,
            ..Columns::default()
        };
        // A module name alone could be anything's; driverquery always has a display name or a type beside it.
        (columns.display_name.is_some() || columns.driver_type.is_some()).then_some(columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driverquery_verbose_header_in_english() {
        let header = [
            "Module Name",
            "Display Name",
            "Description",
            "Driver Type",
            "Start Mode",
            "State",
            "Status",
            "Accept Stop",
            "Accept Pause",
            "Paged Pool(bytes)",
            "Code(bytes)",
            "BSS(bytes)",
            "Link Date",
            "Path",
            "Init(bytes)",
        ];
        let c = Columns::from_header(header).unwrap();
        assert_eq!(c.kind, Some(ListingKind::Driverquery));
        assert_eq!((c.name, c.display_name, c.driver_type, c.state, c.path), (0, Some(1), Some(3), Some(5), Some(13)));
        assert_eq!((c.link_date, c.width), (Some(12), 15));
    }

    #[test]
    fn german_status_twice_takes_the_first_as_the_state() {
        let c = Columns::from_header(["Modulname", "Anzeigename", "Treibertyp", "Status", "Status", "Pfad"]).unwrap();
        assert_eq!((c.state, c.path, c.driver_type), (Some(3), Some(5), Some(2)));
    }

    #[test]
    fn signed_and_cim_headers_and_what_is_not_a_driver_list() {
        let si = Columns::from_header(["DeviceName", "InfName", "IsSigned", "Manufacturer"]).unwrap();
        assert_eq!((si.kind, si.manufacturer), (Some(ListingKind::DriverquerySigned), Some(3)));
        let cim = Columns::from_header(["Caption", "Name", "State", "Started", "PathName", "ServiceType"]).unwrap();
        assert_eq!((cim.kind, cim.name, cim.started), (Some(ListingKind::SystemDriverCsv), 1, Some(3)));
        assert_eq!(Columns::from_header(["Module Name", "Size"]), None);
        assert_eq!(Columns::from_header(["Tag", "Type", "Allocs"]), None);
    }
}
