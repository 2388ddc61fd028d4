//! The drivers and file-system minifilters a host had loaded (issue 13), as `driverquery`, `fltmc` and
//! `Get-CimInstance Win32_SystemDriver | Export-Csv` list them.
//!
//! Each file gives one [`DriverListing`]; [`DriverInventory::merge`] joins the listings of a host by driver
//! name (case-insensitive: `driverquery` prints `WdFilter`, `fltmc` `WdFilter`, a CIM export `WdFilter`, and
//! hand-edited lists `wdfilter`), so that one driver carries its path and state from `driverquery`, its
//! altitude and instances from `fltmc`, and its manufacturer from `driverquery /si` when the device names meet.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SourceRef;

/// Which command wrote a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingKind {
    /// `driverquery /fo csv` (4 columns) or `driverquery /v /fo csv` (15 columns).
    Driverquery,
    /// `driverquery /si /fo csv`: signed PnP devices with their INF and manufacturer.
    DriverquerySigned,
    /// `fltmc` (or `fltmc filters`): the loaded minifilters with their altitudes.
    FltmcFilters,
    /// `fltmc instances`: one row per minifilter instance on a volume.
    FltmcInstances,
    /// `Get-CimInstance Win32_SystemDriver | Export-Csv` (or `Get-WmiObject`).
    SystemDriverCsv,
}

impl ListingKind {
    /// The command, for messages and tables.
    pub fn command(self) -> &'static str {
        match self {
            ListingKind::Driverquery => "driverquery",
            ListingKind::DriverquerySigned => "driverquery /si",
            ListingKind::FltmcFilters => "fltmc",
            ListingKind::FltmcInstances => "fltmc instances",
            ListingKind::SystemDriverCsv => "Win32_SystemDriver CSV",
        }
    }
}

/// Kernel driver or file-system driver, as `driverquery` (`Kernel`, `File System`) and CIM (`Kernel Driver`,
/// `File System Driver`) say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriverType {
    /// A kernel-mode driver.
    Kernel,
    /// A file-system driver (NTFS, a minifilter registered as one).
    FileSystem,
    /// Anything else the list says (`Recognizer`, `Adapter`).
    Other,
}

/// What `fltmc` says of a minifilter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minifilter {
    /// Its altitude as printed (`328010`, `385201.5`): a decimal string, its place in the filter stack; `None`
    /// for a legacy filter (`<Legacy>`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub altitude: Option<String>,
    /// `Num Instances` (from `fltmc`), or the instances counted in `fltmc instances`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub instances: Option<u32>,
    /// Filter Manager frame.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub frame: Option<u32>,
    /// Volumes it is attached to (`fltmc instances`), in file order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub volumes: Vec<String>,
    /// Whether `fltmc` lists it as a legacy (non-minifilter) file-system filter.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub legacy: bool,
}

/// One driver, as one file lists it or as the files of a host agree on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Driver {
    /// Module or service name (`WdFilter`, `ctxscan`), the key the listings are joined on.
    pub name: String,
    /// Display name (`Microsoft antimalware file system filter driver`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub display_name: Option<String>,
    /// Description, when it differs from the display name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// Image path (`C:\Windows\system32\drivers\wd\WdFilter.sys`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
    /// Kernel or file-system driver.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub driver_type: Option<DriverType>,
    /// State as printed (`Running`, `Stopped`, localised words kept as they are).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state: Option<String>,
    /// Whether it was loaded when the list was taken (`Running`, `Started=True`, listed by `fltmc`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub loaded: Option<bool>,
    /// Start mode (`Boot`, `System`, `Auto`, `Manual`, `Disabled`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub start_mode: Option<String>,
    /// `Link Date` as printed (a local time with no zone).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub link_date: Option<String>,
    /// Manufacturer or company, where a list gives it (`driverquery /si`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub manufacturer: Option<String>,
    /// Whether it is signed (`driverquery /si` `IsSigned`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signed: Option<bool>,
    /// What `fltmc` says, when it is a minifilter.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub minifilter: Option<Minifilter>,
    /// Every row that described it (file and line).
    pub sources: Vec<SourceRef>,
}

impl Driver {
    /// The image file name (`ctxscan.sys`) from the path, else the module name.
    pub fn file_name(&self) -> &str {
        self.path
            .as_deref()
            .and_then(|p| p.rsplit(['\\', '/']).next())
            .filter(|f| !f.trim().is_empty())
            .unwrap_or(&self.name)
    }

    /// Fills what this driver lacks from `other` (the same driver in another list); `fltmc` details are merged
    /// field by field, volumes appended.
    fn absorb(&mut self, other: Driver) {
        fn fill<T>(mine: &mut Option<T>, theirs: Option<T>) {
            if mine.is_none() {
                *mine = theirs;
            }
        }
        fill(&mut self.display_name, other.display_name);
        fill(&mut self.description, other.description);
        fill(&mut self.path, other.path);
        fill(&mut self.driver_type, other.driver_type);
        fill(&mut self.state, other.state);
        // Listed as loaded anywhere (fltmc lists only loaded filters) wins over a stopped state elsewhere.
        self.loaded = match (self.loaded, other.loaded) {
            (Some(a), Some(b)) => Some(a || b),
            (a, b) => a.or(b),
        };
        fill(&mut self.start_mode, other.start_mode);
        fill(&mut self.link_date, other.link_date);
        fill(&mut self.manufacturer, other.manufacturer);
        fill(&mut self.signed, other.signed);
        match (&mut self.minifilter, other.minifilter) {
            (Some(mine), Some(theirs)) => {
                fill(&mut mine.altitude, theirs.altitude);
                fill(&mut mine.instances, theirs.instances);
                fill(&mut mine.frame, theirs.frame);
                for v in theirs.volumes {
                    if !mine.volumes.contains(&v) {
                        mine.volumes.push(v);
                    }
                }
                mine.legacy |= theirs.legacy;
            }
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
        self.sources.extend(other.sources);
    }
}

/// A signed PnP device from `driverquery /si`: it names a device and its INF, not a module, so it joins a
/// driver only when its device name is that driver's display name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedDevice {
    /// `DeviceName` (`Contoso Scan Device`).
    pub device_name: String,
    /// `InfName` (`oem12.inf`, `machine.inf`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub inf: Option<String>,
    /// `IsSigned`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signed: Option<bool>,
    /// `Manufacturer` (`Microsoft`, `(Standard system devices)`, `Contoso Ltd.`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub manufacturer: Option<String>,
    /// The row.
    pub source: SourceRef,
}

/// The drivers one file lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverListing {
    /// The file (the line of its header).
    pub source: SourceRef,
    /// Which command wrote it.
    pub kind: ListingKind,
    /// Host, once the ingest has decided it (these lists do not name their machine, except a CIM export's
    /// `SystemName`, kept in [`DriverListing::system_name`]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub host: Option<String>,
    /// The machine a CIM export names in its `SystemName` or `PSComputerName` column.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub system_name: Option<String>,
    /// Drivers (or minifilters), in file order, one per name.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub drivers: Vec<Driver>,
    /// Signed devices (`driverquery /si`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub devices: Vec<SignedDevice>,
}

impl DriverListing {
    /// Whether the file gave nothing usable.
    pub fn is_empty(&self) -> bool {
        self.drivers.is_empty() && self.devices.is_empty()
    }
}

/// The drivers of one host, every listing joined by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverInventory {
    /// Drivers by lowercase name order.
    pub drivers: Vec<Driver>,
    /// Signed devices whose name met no driver's display name.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub devices: Vec<SignedDevice>,
    /// The files, with the command that wrote each, in input order.
    pub sources: Vec<(String, ListingKind)>,
}

impl DriverInventory {
    /// Joins a host's listings: drivers by case-insensitive name (a `.sys` suffix ignored), then signed devices
    /// onto the driver whose display name is the device name.
    pub fn merge(listings: &[DriverListing]) -> Self {
        let mut by_name: BTreeMap<String, Driver> = BTreeMap::new();
        let mut devices = Vec::new();
        let mut sources = Vec::new();
        for listing in listings {
            sources.push((listing.source.path.clone(), listing.kind));
            for d in &listing.drivers {
                match by_name.entry(key(&d.name)) {
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(d.clone());
                    }
                    std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().absorb(d.clone()),
                }
            }
            devices.extend(listing.devices.iter().cloned());
        }
        let mut unjoined = Vec::new();
        for device in devices {
            let wanted = device.device_name.trim().to_lowercase();
            let driver = by_name.values_mut().find(|d| {
                d.display_name.as_deref().is_some_and(|n| n.trim().to_lowercase() == wanted)
                    || d.description.as_deref().is_some_and(|n| n.trim().to_lowercase() == wanted)
            });
            match driver {
                Some(d) => {
                    if d.manufacturer.is_none() {
                        d.manufacturer.clone_from(&device.manufacturer);
                    }
                    if d.signed.is_none() {
                        d.signed = device.signed;
                    }
                    d.sources.push(device.source.clone());
                }
                None => unjoined.push(device),
            }
        }
        Self { drivers: by_name.into_values().collect(), devices: unjoined, sources }
    }

    /// Whether any listing was read.
    pub fn is_empty(&self) -> bool {
        self.drivers.is_empty() && self.devices.is_empty()
    }

    /// The driver of that name (case-insensitive, `.sys` ignored).
    pub fn get(&self, name: &str) -> Option<&Driver> {
        let k = key(name);
        self.drivers.iter().find(|d| key(&d.name) == k)
    }
}

/// The join key of a driver name: trimmed, lowercase, without a `.sys` suffix.
pub fn key(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    lower.strip_suffix(".sys").map_or_else(|| lower.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(kind: ListingKind, drivers: Vec<Driver>, devices: Vec<SignedDevice>) -> DriverListing {
        DriverListing {
            source: SourceRef::line(format!("{kind:?}.txt"), 1),
            kind,
            host: None,
            system_name: None,
            drivers,
            devices,
        }
    }

    #[test]
    fn listings_join_by_name_case_insensitively_and_devices_by_display_name() {
        let dq = Driver {
            name: "CtxScan".into(),
            display_name: Some("Contoso Scan Filter".into()),
            path: Some(r"C:\Windows\system32\drivers\ctxscan.sys".into()),
            loaded: Some(true),
            sources: vec![SourceRef::line("driverquery.csv", 7)],
            ..Driver::default()
        };
        let flt = Driver {
            name: "ctxscan".into(),
            loaded: Some(true),
            minifilter: Some(Minifilter {
                altitude: Some("329420".into()),
                instances: Some(3),
                ..Minifilter::default()
            }),
            ..Driver::default()
        };
        let device = SignedDevice {
            device_name: "contoso scan filter".into(),
            manufacturer: Some("Contoso Ltd.".into()),
            signed: Some(true),
            ..SignedDevice::default()
        };
        let other = SignedDevice { device_name: "PCI bus".into(), ..SignedDevice::default() };
        let inv = DriverInventory::merge(&[
            listing(ListingKind::Driverquery, vec![dq], vec![]),
            listing(ListingKind::FltmcFilters, vec![flt], vec![]),
            listing(ListingKind::DriverquerySigned, vec![], vec![device, other]),
        ]);
        assert_eq!(inv.drivers.len(), 1);
        let d = inv.get("CTXSCAN.SYS").unwrap();
        assert_eq!(d.file_name(), "ctxscan.sys");
        assert_eq!(d.minifilter.as_ref().and_then(|m| m.altitude.as_deref()), Some("329420"));
        assert_eq!(d.manufacturer.as_deref(), Some("Contoso Ltd."));
        assert_eq!(d.sources.len(), 2, "the device row is a source too: {:?}", d.sources);
        assert_eq!(inv.devices.len(), 1);
        assert_eq!(inv.sources.len(), 3);
    }

    #[test]
    fn loaded_anywhere_wins_and_volumes_are_not_repeated() {
        let stopped = Driver { name: "x".into(), loaded: Some(false), ..Driver::default() };
        let vol = |v: &str| Driver {
            name: "X".into(),
            loaded: Some(true),
            minifilter: Some(Minifilter { volumes: vec![v.into()], ..Minifilter::default() }),
            ..Driver::default()
        };
        let inv = DriverInventory::merge(&[
            listing(ListingKind::Driverquery, vec![stopped], vec![]),
            listing(ListingKind::FltmcInstances, vec![vol("C:"), vol("C:"), vol(r"\Device\Mup")], vec![]),
        ]);
        let d = &inv.drivers[0];
        assert_eq!(d.loaded, Some(true));
        assert_eq!(d.minifilter.as_ref().unwrap().volumes, ["C:", r"\Device\Mup"]);
    }
}
