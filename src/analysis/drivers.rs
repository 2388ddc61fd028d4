//! Who else to question (issue 13): when the leaking tag is a kernel object the kernel allocates for whoever
//! asks (`Toke`, `Proc`, `File`, ... : [`crate::parse::pooltag::allocated_for_callers`]), the pool tag names no
//! driver, and the culprit in the seed case was a security product's minifilter asking for tokens. The
//! verdict's Drivers line lists the loaded drivers and minifilters that are not Microsoft's, minifilters first.
//!
//! **Who is Microsoft** ([`publisher`]), in order:
//! 1. a manufacturer or company given by the list (`driverquery /si`): `Microsoft` (or Windows' in-box
//!    `(Standard system devices)`) is Microsoft, any other name is that company;
//! 2. otherwise the name: the in-box Windows drivers of [`INBOX_DRIVERS`] and the minifilters Microsoft's
//!    "Allocated filter altitudes" page lists under company Microsoft ([`MICROSOFT_MINIFILTERS`]) are
//!    Microsoft's;
//! 3. otherwise the publisher is unknown, and said so ("publisher unknown"): no guess from a path or a
//!    description. An altitude only places a minifilter in its load order group ([`load_order_group`]); it
//!    does not make a filter Microsoft's (a third party can print any number).

use std::fmt::Write as _;

use super::host::HostResult;
use crate::model::drivers::{key, Driver, DriverInventory};

/// Minifilters Microsoft's "Allocated filter altitudes" page lists for company Microsoft, with their
/// altitude (module names without `.sys`). Samples and test filters of the WDK are left out.
pub const MICROSOFT_MINIFILTERS: &[(&str, &str)] = &[
    ("wcnfs", "409900"),
    ("bindflt", "409800"),
    ("cldflt", "409500"),
    ("iorate", "409010"),
    ("ioqos", "409000"),
    ("fsdepends", "407000"),
    ("sftredir", "406000"),
    ("dfs", "405000"),
    ("csvnsflt", "404900"),
    ("csvflt", "404800"),
    ("Microsoft.Uev.AgentDriver", "404710"),
    ("AppvVfs", "404700"),
    ("CCFFilter", "404600"),
    ("DhWatchdog", "389030"),
    ("mssecflt", "385600"),
    ("Backupreader", "385500"),
    ("MsixPackagingToolMonitor", "385410"),
    ("AppVMon", "385400"),
    ("DpmFilter", "385300"),
    ("Procmon11", "385200"),
    ("fdrtrace", "385001"),
    ("filetrace", "385000"),
    ("uwfreg", "384910"),
    ("uwfs", "384900"),
    ("locksmith", "384800"),
    ("iiscache", "367000"),
    ("wrpfv", "364900"),
    ("msnfsflt", "364000"),
    ("WdFilter", "328010"),
    ("MpFilter", "328000"),
    ("fsrecord", "305000"),
    ("defilter", "284000"),
    ("cbafilt", "261150"),
    ("SmbBandwidthLimitFilter", "261110"),
    ("DfsrRo", "261100"),
    ("DataScrn", "261000"),
    ("storqosflt", "244000"),
    ("fbwf", "226000"),
    ("fsredir", "221000"),
    ("ResumeKeyFilter", "202000"),
    ("wcifs", "189900"),
    ("prjflt", "189800"),
    ("gameflt", "189750"),
    ("dvfilter", "183003"),
    ("Fstier", "183000"),
    ("odphflt", "180455"),
    ("appxstrm", "180710"),
    ("wimmount", "180700"),
    ("hsmflt", "180600"),
    ("dfsrflt", "180500"),
    ("StorageSyncGuard", "180465"),
    ("StorageSync", "180460"),
    ("dedup", "180450"),
    ("dfmflt", "180410"),
    ("sis", "180400"),
    ("wimFltr", "170500"),
    ("compress", "165000"),
    ("cmpflt", "162000"),
    ("wimfsf", "161000"),
    ("prvflder", "148000"),
    ("FileCrypt", "141100"),
    ("svhdxflt", "135100"),
    ("luafv", "135000"),
    ("sfo", "130100"),
    ("DeVolume", "130000"),
    ("quota", "125000"),
    ("scrubber", "65000"),
    ("npsvctrig", "46000"),
    ("rsfxdrv", "41000"),
    ("AppVVemgr", "40800"),
    ("wofadk", "40730"),
    ("Wof", "40700"),
    ("FileInfo", "40500"),
    ("WinSetupBoot", "40400"),
];

/// In-box Windows drivers and filters by module name (what `driverquery` prints), besides
/// [`MICROSOFT_MINIFILTERS`]: the kernel's file systems, network stack, storage and bus drivers, Hyper-V guest
/// drivers, and in-box minifilters whose altitude the page does not list (`applockerfltr`, `bfs`, `UCPD`).
// One line holds several names: a name per line would make the list 300 lines long.
#[rustfmt::skip]
pub const INBOX_DRIVERS: &[&str] = &[
    "1394ohci", "3ware", "ACPI", "AcpiDev", "acpiex", "acpipagr", "AcpiPmi", "acpitime", "AFD", "afunix",
    "ahcache", "applockerfltr", "AppvStrm", "AsyncMac", "atapi", "bam", "BasicDisplay", "BasicRender", "Beep",
    "bfs", "bowser", "bttflt", "buttonconverter", "CAD", "cdfs", "cdrom", "CimFS", "circlass", "CLFS", "CmBatt",
    "CNG", "cnghwassist", "CompositeBus", "condrv", "CSC", "dam", "Dfsc", "disk", "dmvsc", "Dxgkrnl", "EhStorClass",
    "EhStorTcgDrv", "ErrDev", "exfat", "fastfat", "fdc", "FltMgr", "flpydisk", "fvevol", "gencounter", "GPIOClx0101",
    "HdAudAddService", "HDAudBus", "HidBatt", "HidBth", "hidi2c", "hidinterrupt", "HidIr", "hidspi", "HidUsb",
    "HTTP", "hvcrash", "hvservice", "hvsocketcontrol", "HwNClx0101", "hwpolicy", "hyperkbd", "HyperVideo",
    "i8042prt", "IndirectKmd", "intelide", "intelpep", "intelpmax", "IPMIDRV", "IPNAT", "IPT", "isapnp", "kbdclass",
    "kbdhid", "kdnic", "KSecDD", "KSecPkg", "ksthunk", "KslD", "lltdio", "luafv", "MbbCx", "megasas",
    "mlx4_bus", "MMCSS", "Modem", "monitor", "mouclass", "mouhid", "mountmgr", "mpsdrv", "MRxDAV", "mrxsmb",
    "mrxsmb10", "mrxsmb20", "MsBridge", "MSDMFilt", "msgpiowin32", "mshidkmdf", "mshidumdf", "msisadrv", "MSKSSRV",
    "MsLldp", "MSPCLOCK", "MSPQM", "MsQuic", "MsRPC", "MsSecCore", "mssmbios", "MSTEE", "MTConfig", "Mup",
    "mvumis", "NativeWifiP", "ndfltr", "NDIS", "NdisCap", "NdisImPlatform", "NdisTapi", "Ndisuio",
    "NdisVirtualBus", "NdisWan", "ndiswanlegacy", "NDKPing", "ndproxy", "Ndu", "NetAdapterCx", "NetBIOS", "NetBT",
    "netvsc", "Npfs", "npsvctrig", "nsiproxy", "Ntfs", "Null", "nvdimm", "nvraid", "partmgr", "pci", "pciide",
    "pcmcia", "pcw", "pdc", "PEAUTH", "percsas2i", "percsas3i", "PptpMiniport", "Processor", "Psched", "QWAVEdrv",
    "Ramdisk", "RasAcd", "RasAgileVpn", "Rasl2tp", "RasPppoe", "RasSstp", "rdbss", "rdpbus", "RDPDR",
    "RdpVideoMiniport",
    "rdyboost", "ReFS", "ReFSv1", "RFCOMM", "rhproxy", "rspndr", "s3cap", "sacdrv", "scmbus", "sdbus", "SDFRd",
    "sdstor", "secdrv", "SerCx", "SerCx2", "Serenum", "Serial", "sermouse", "sfloppy", "SgrmAgent", "SiSRaid2",
    "SiSRaid4", "SmartSAMD", "spaceparser", "spaceport", "SpatialGraphFilter", "SpbCx", "srv", "srv2", "srvnet",
    "stexstor", "storahci", "storflt", "stornvme", "storqosflt", "storufs", "storvsc", "storvsp", "swenum", "Tcpip",
    "Tcpip6", "tcpipreg", "tdx", "Telemetry", "terminpt", "TPM", "TsUsbFlt", "TsUsbGD", "tsusbhub", "tunnel",
    "UASPStor", "UcmCx0101", "UcmTcpciCx0101", "UcmUcsiAcpiClient", "UcmUcsiCx0101", "UCPD", "Ucx01000", "UdeCx",
    "udfs", "UEFI", "Ufx01000", "UfxChipidea", "ufxsynopsys", "umbus", "UmPass", "UrsChipidea", "UrsCx01000",
    "UrsSynopsys", "usbaudio", "usbaudio2", "usbccgp", "usbcir", "usbehci", "usbhub", "USBHUB3", "usbohci",
    "usbprint", "usbser", "USBSTOR", "usbuhci", "USBXHCI", "VerifierExt", "vdrvroot", "vhdmp", "vhf", "Vid",
    "VirtualRender", "vmbus", "VMBusHID", "vmgid", "vmbusr", "volmgr", "volmgrx", "volsnap", "volume", "vpci",
    "vsmraid", "VSTXRAID", "vwifibus", "vwififlt", "WacomPen", "wanarp", "wanarpv6", "WdBoot", "Wdf01000",
    "WdNisDrv", "WFPLWFS", "wfplwf", "WIMMount", "WindowsTrustedRT", "WindowsTrustedRTProxy", "WinMad", "WinNat",
    "WINUSB", "WinVerbs", "WmiAcpi", "Wof", "WpdUpFltr", "ws2ifsl", "WudfPf", "WUDFRd", "xboxgip", "xinputhid",
];

/// Microsoft's minifilter load order groups with their altitude ranges (the "Load order groups and altitudes
/// for minifilter drivers" page), highest first.
const LOAD_ORDER_GROUPS: &[(u32, u32, &str)] = &[
    (420_000, 429_999, "Filter"),
    (400_000, 409_999, "FSFilter Top"),
    (360_000, 389_999, "FSFilter Activity Monitor"),
    (340_000, 349_999, "FSFilter Undelete"),
    (320_000, 329_999, "FSFilter Anti-Virus"),
    (300_000, 309_999, "FSFilter Replication"),
    (280_000, 289_999, "FSFilter Continuous Backup"),
    (260_000, 269_999, "FSFilter Content Screener"),
    (240_000, 249_999, "FSFilter Quota Management"),
    (220_000, 229_999, "FSFilter System Recovery"),
    (200_000, 209_999, "FSFilter Cluster File System"),
    (180_000, 189_999, "FSFilter HSM"),
    (170_000, 174_999, "FSFilter Imaging"),
    (160_000, 169_999, "FSFilter Compression"),
    (140_000, 149_999, "FSFilter Encryption"),
    (130_000, 139_999, "FSFilter Virtualization"),
    (120_000, 129_999, "FSFilter Physical Quota Management"),
    (100_000, 109_999, "FSFilter Open File"),
    (80_000, 89_999, "FSFilter Security Enhancer"),
    (60_000, 69_999, "FSFilter Copy Protection"),
    (40_000, 49_999, "FSFilter Bottom"),
    (20_000, 29_999, "FSFilter System"),
];

/// Drivers named in the line; the rest are counted.
const NAMED: usize = 4;

/// Who published a driver, as far as the archive says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publisher {
    /// Microsoft: the list says so, or the name is an in-box Windows driver or a Microsoft minifilter.
    Microsoft,
    /// Another company, named by the list.
    Company(String),
    /// Nothing says who.
    Unknown,
}

/// Who published the driver ([module docs](self) for the rule).
pub fn publisher(driver: &Driver) -> Publisher {
    if let Some(m) = driver.manufacturer.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        let lower = m.to_lowercase();
        return if lower.contains("microsoft") || lower == "(standard system devices)" {
            Publisher::Microsoft
        } else {
            Publisher::Company(m.to_owned())
        };
    }
    let name = key(&driver.name);
    let file = key(driver.file_name());
    let known = |n: &str| key(n) == name || key(n) == file;
    if INBOX_DRIVERS.iter().any(|n| known(n)) || MICROSOFT_MINIFILTERS.iter().any(|(n, _)| known(n)) {
        Publisher::Microsoft
    } else {
        Publisher::Unknown
    }
}

/// The load order group an altitude falls in (`329420` is in FSFilter Anti-Virus).
pub fn load_order_group(altitude: &str) -> Option<&'static str> {
    let whole: u32 = altitude.split('.').next()?.trim().parse().ok()?;
    LOAD_ORDER_GROUPS.iter().find(|(lo, hi, _)| (*lo..=*hi).contains(&whole)).map(|(_, _, g)| *g)
}

/// The loaded drivers not known to be Microsoft's: minifilters first (highest altitude first: nearest the
/// caller), then by name. A driver listed as stopped is left out; one whose state no list gives is kept.
pub fn not_microsoft(inventory: &DriverInventory) -> Vec<(&Driver, Publisher)> {
    let altitude = |d: &Driver| {
        d.minifilter.as_ref().and_then(|m| m.altitude.as_deref()).and_then(|a| a.parse::<f64>().ok()).unwrap_or(-1.0)
    };
    let mut out: Vec<(&Driver, Publisher)> = inventory
        .drivers
        .iter()
        .filter(|d| d.loaded != Some(false))
        .map(|d| (d, publisher(d)))
        .filter(|(_, p)| *p != Publisher::Microsoft)
        .collect();
    out.sort_by(|(a, _), (b, _)| {
        b.minifilter
            .is_some()
            .cmp(&a.minifilter.is_some())
            .then(altitude(b).total_cmp(&altitude(a)))
            .then_with(|| key(&a.name).cmp(&key(&b.name)))
    });
    out
}

/// One driver in the line: `ctxscan.sys minifilter (altitude 329420, FSFilter Anti-Virus; publisher unknown)`.
fn describe(driver: &Driver, publisher: &Publisher) -> String {
    let mut details = Vec::new();
    let kind = match &driver.minifilter {
        Some(m) if m.legacy => " legacy filter",
        Some(m) => {
            if let Some(a) = &m.altitude {
                let group = load_order_group(a).map_or(String::new(), |g| format!(", {g}"));
                details.push(format!("altitude {a}{group}"));
            }
            " minifilter"
        }
        None => "",
    };
    details.push(match publisher {
        Publisher::Company(c) => c.chars().take(40).collect(),
        _ => "publisher unknown".to_owned(),
    });
    let name: String = driver.file_name().chars().take(40).collect();
    format!("{name}{kind} ({})", details.join("; "))
}

/// The Drivers line for a leaking tag the kernel allocates for callers: the non-Microsoft drivers to question
/// first, that all are Microsoft's, or what to collect when the archive has no driver list.
pub fn verdict_line(tag: &str, inventory: &DriverInventory) -> String {
    let tag = tag.trim_end();
    if inventory.drivers.is_empty() {
        return format!(
            "no driver list in the archive: collect `driverquery /v /fo csv` and `fltmc` to see which third-party \
             drivers may ask the kernel for the {tag} objects"
        );
    }
    let loaded = inventory.drivers.iter().filter(|d| d.loaded != Some(false)).count();
    let others = not_microsoft(inventory);
    if others.is_empty() {
        return format!(
            "all {loaded} loaded drivers and minifilters are Microsoft's: the {tag} objects are asked for from user \
             mode (see Who)"
        );
    }
    let mut line = format!("{} of {loaded} loaded drivers not Microsoft's: ", others.len());
    let named: Vec<String> = others.iter().take(NAMED).map(|(d, p)| describe(d, p)).collect();
    line.push_str(&named.join(", "));
    if others.len() > NAMED {
        let _ = write!(line, " and {} more", others.len() - NAMED);
    }
    let it = if others.len() == 1 { "it" } else { "them" };
    let _ = write!(line, ": question {it} first ({tag} is allocated by the kernel for any caller)");
    line
}

/// Adds the Drivers line to the verdict when its leading tag is allocated by the kernel for callers.
pub fn attach(inventory: &DriverInventory, out: &mut HostResult) {
    let Some(verdict) = out.verdict.as_mut().filter(|v| v.leak_found) else { return };
    let top = out.suspects.iter().find(|s| s.boot == verdict.boot && s.rank == 1).map(|s| s.tag.as_str());
    let Some(tag) = top.filter(|t| crate::parse::pooltag::allocated_for_callers(t)) else { return };
    verdict.block.drivers = Some(verdict_line(tag, inventory));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::drivers::Minifilter;

    fn driver(name: &str, altitude: Option<&str>) -> Driver {
        Driver {
            name: name.into(),
            loaded: Some(true),
            minifilter: altitude.map(|a| Minifilter { altitude: Some(a.into()), ..Minifilter::default() }),
            ..Driver::default()
        }
    }

    #[test]
    fn microsoft_by_manufacturer_then_by_name_else_unknown() {
        assert_eq!(publisher(&driver("WdFilter", Some("328010"))), Publisher::Microsoft);
        assert_eq!(publisher(&driver("ntfs.sys", None)), Publisher::Microsoft);
        assert_eq!(publisher(&driver("ctxscan", Some("329420"))), Publisher::Unknown);
        let named = Driver { manufacturer: Some("Contoso Ltd.".into()), ..driver("WdFilter", None) };
        assert_eq!(publisher(&named), Publisher::Company("Contoso Ltd.".into()), "what the list says wins");
        let inbox = Driver { manufacturer: Some("(Standard system devices)".into()), ..driver("x", None) };
        assert_eq!(publisher(&inbox), Publisher::Microsoft);
    }

    #[test]
    fn altitudes_fall_in_load_order_groups() {
        assert_eq!(load_order_group("329420"), Some("FSFilter Anti-Virus"));
        assert_eq!(load_order_group("385201.5"), Some("FSFilter Activity Monitor"));
        assert_eq!(load_order_group("12"), None);
        assert_eq!(load_order_group("x"), None);
    }

    #[test]
    fn the_line_names_minifilters_first_and_leaves_stopped_drivers_out() {
        let stopped = Driver { loaded: Some(false), ..driver("oldav", None) };
        let inv = DriverInventory {
            drivers: vec![driver("Ntfs", None), driver("vmxnet3", None), driver("ctxscan", Some("329420")), stopped],
            ..DriverInventory::default()
        };
        assert_eq!(
            verdict_line("Toke", &inv),
            "2 of 3 loaded drivers not Microsoft's: ctxscan minifilter (altitude 329420, FSFilter Anti-Virus; \
             publisher unknown), vmxnet3 (publisher unknown): question them first (Toke is allocated by the kernel \
             for any caller)"
        );
        let clean = DriverInventory { drivers: vec![driver("Ntfs", None)], ..DriverInventory::default() };
        assert!(verdict_line("Toke", &clean).starts_with("all 1 loaded drivers and minifilters are Microsoft's"));
        assert!(verdict_line("Key ", &DriverInventory::default()).contains("driverquery /v /fo csv"));
    }
}
