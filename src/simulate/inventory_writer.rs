//! A host's driver inventory as an engineer collects it (issue 13): `driverquery /v /fo csv > driverquery.csv`,
//! `driverquery /si /fo csv > driverquery-si.csv` and `fltmc > fltmc.txt`, taken once while the host runs.
//!
//! Windows' own drivers and minifilters for the host's release, plus the scenario's third-party drivers
//! ([`crate::simulate::scenario::ThirdPartyDriver`]): a third-party minifilter is in all three lists (its
//! software device, named as its display name, carries the company in `/si`). Text is ASCII with `\n`; the
//! host output encodes it in the archive's style (ANSI or UTF-16LE with BOM, CRLF or LF).

use super::scenario::{HostSpec, ThirdPartyDriver};

/// One file of the inventory.
#[derive(Debug, Clone)]
pub struct InventoryFile {
    /// File name in the host's folder.
    pub name: &'static str,
    /// Kind for truth.json (`driverquery`, `driverquery_si`, `fltmc`).
    pub kind: &'static str,
    /// Rows written (drivers, devices or filters).
    pub records: u64,
    /// The text.
    pub text: String,
}

/// In-box kernel drivers every simulated host lists: (module, display name, type, start mode).
const KERNEL_DRIVERS: &[(&str, &str, &str, &str)] = &[
    ("ACPI", "Microsoft ACPI Driver", "Kernel", "Boot"),
    ("AFD", "Ancillary Function Driver for Winsock", "Kernel", "System"),
    ("atapi", "IDE Channel", "Kernel", "Boot"),
    ("Beep", "Beep", "Kernel", "System"),
    ("CLFS", "Common Log (CLFS)", "Kernel", "Boot"),
    ("CNG", "CNG", "Kernel", "Boot"),
    ("disk", "Disk Driver", "Kernel", "Boot"),
    ("FltMgr", "FltMgr", "File System", "Boot"),
    ("HTTP", "HTTP", "Kernel", "Manual"),
    ("KSecDD", "KSecDD", "Kernel", "Boot"),
    ("mountmgr", "Mount Point Manager", "Kernel", "Boot"),
    ("mrxsmb", "SMB MiniRedirector Wrapper and Engine", "File System", "Manual"),
    ("Mup", "Mup", "File System", "Boot"),
    ("NDIS", "NDIS System Driver", "Kernel", "Boot"),
    ("NetBT", "NetBT", "Kernel", "System"),
    ("Npfs", "Npfs", "File System", "System"),
    ("Ntfs", "Ntfs", "File System", "Boot"),
    ("partmgr", "Partition Manager", "Kernel", "Boot"),
    ("pci", "PCI Bus Driver", "Kernel", "Boot"),
    ("rdbss", "Redirected Buffering Sub Sysytem", "File System", "System"),
    ("srv2", "Server SMB 2.xxx Driver", "File System", "Manual"),
    ("srvnet", "srvnet", "File System", "Manual"),
    ("storvsc", "storvsc", "Kernel", "Boot"),
    ("Tcpip", "TCP/IP Protocol Driver", "Kernel", "Boot"),
    ("vmbus", "Virtual Machine Bus", "Kernel", "Boot"),
    ("volmgr", "Volume Manager Driver", "Kernel", "Boot"),
    ("volsnap", "Storage volumes", "Kernel", "Boot"),
];

/// In-box minifilters with their altitudes (Microsoft's allocation), for Server 2008 R2 (`6.1`) and later.
const MINIFILTERS_2008R2: &[(&str, &str, &str)] =
    &[("luafv", "UAC File Virtualization", "135000"), ("FileInfo", "File Information FS MiniFilter", "40500")];
/// Added from Windows Server 2016 on.
const MINIFILTERS_LATER: &[(&str, &str, &str)] = &[
    ("bindflt", "Windows Bind Filter Driver", "409800"),
    ("WdFilter", "Microsoft antimalware file system filter driver", "328010"),
    ("storqosflt", "Storage QoS Filter Driver", "244000"),
    ("wcifs", "Windows Container Isolation", "189900"),
    ("CldFlt", "Windows Cloud Files Filter Driver", "180451"),
    ("FileCrypt", "FileCrypt", "141100"),
    ("npsvctrig", "Named pipe service trigger provider", "46000"),
    ("Wof", "Windows Overlay File System Filter Driver", "40700"),
];

/// In-box PnP devices `driverquery /si` lists: (device, INF, manufacturer).
const DEVICES: &[(&str, &str, &str)] = &[
    ("Microsoft ACPI-Compliant System", "acpi.inf", "Microsoft"),
    ("PCI Bus", "machine.inf", "(Standard system devices)"),
    ("Microsoft Hyper-V Virtual Machine Bus", "wvmbus.inf", "Microsoft"),
    ("Microsoft Hyper-V SCSI Controller", "wstorvsc.inf", "Microsoft"),
    ("Disk drive", "disk.inf", "(Standard disk drives)"),
];

/// The `driverquery /v /fo csv` header.
const VERBOSE_HEADER: &str = "\"Module Name\",\"Display Name\",\"Description\",\"Driver Type\",\"Start Mode\",\
\"State\",\"Status\",\"Accept Stop\",\"Accept Pause\",\"Paged Pool(bytes)\",\"Code(bytes)\",\"BSS(bytes)\",\
\"Link Date\",\"Path\",\
\"Init(bytes)\"";

/// The in-box minifilters of the host's release.
fn inbox_minifilters(host: &HostSpec) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut out = MINIFILTERS_2008R2.to_vec();
    if host.os.major >= 10 {
        out.extend_from_slice(MINIFILTERS_LATER);
    }
    out
}

/// A driverquery number cell: `12,288`.
fn bytes_cell(v: u64) -> String {
    crate::units::thousands(v)
}

/// One `driverquery /v` row.
fn verbose_row(out: &mut String, name: &str, display: &str, kind: &str, start: &str, link: &str, i: u64) {
    // driverquery pads the type to the width of its widest value: `Kernel ` and `File System `.
    let cells = [
        name.to_owned(),
        display.to_owned(),
        display.to_owned(),
        format!("{kind} "),
        start.to_owned(),
        "Running".to_owned(),
        "OK".to_owned(),
        "TRUE".to_owned(),
        "FALSE".to_owned(),
        bytes_cell(4096 * (1 + i % 7)),
        bytes_cell(8192 * (2 + i % 11)),
        "0".to_owned(),
        link.to_owned(),
        format!("C:\\Windows\\system32\\drivers\\{name}.sys"),
        bytes_cell(4096 * (1 + i % 3)),
    ];
    let quoted: Vec<String> = cells.iter().map(|c| format!("\"{c}\"")).collect();
    out.push_str(&quoted.join(","));
    out.push('\n');
}

/// `driverquery /v /fo csv`.
fn driverquery(host: &HostSpec, minifilters: &[(&str, &str, &str)]) -> (String, u64) {
    let link = if host.os.major >= 10 { "10/5/2022 3:14:07 AM" } else { "11/20/2010 5:32:12 AM" };
    let mut rows: Vec<(String, String, &str, &str)> =
        KERNEL_DRIVERS.iter().map(|(n, d, k, s)| ((*n).to_owned(), (*d).to_owned(), *k, *s)).collect();
    rows.extend(minifilters.iter().map(|(n, d, _)| ((*n).to_owned(), (*d).to_owned(), "File System", "Boot")));
    rows.extend(host.third_party_drivers.iter().map(|t| {
        let kind = if t.altitude.is_some() { "File System" } else { "Kernel" };
        (t.name.clone(), t.display_name.clone(), kind, "Boot")
    }));
    rows.sort_by_key(|r| r.0.to_lowercase());
    let mut text = String::from(VERBOSE_HEADER);
    text.push('\n');
    for (i, (name, display, kind, start)) in rows.iter().enumerate() {
        verbose_row(&mut text, name, display, kind, start, link, i as u64);
    }
    (text, rows.len() as u64)
}

/// `driverquery /si /fo csv`: in-box devices, then each third-party driver's software device.
fn signed_devices(third: &[ThirdPartyDriver]) -> (String, u64) {
    let mut text = String::from("\"DeviceName\",\"InfName\",\"IsSigned\",\"Manufacturer\"\n");
    let mut rows = 0;
    for (device, inf, maker) in DEVICES {
        text.push_str(&format!("\"{device}\",\"{inf}\",\"TRUE\",\"{maker}\"\n"));
        rows += 1;
    }
    for (i, t) in third.iter().enumerate() {
        text.push_str(&format!("\"{}\",\"oem{}.inf\",\"TRUE\",\"{}\"\n", t.display_name, 12 + i, t.company));
        rows += 1;
    }
    (text, rows)
}

/// `fltmc`: the filters table, highest altitude first (as fltmc sorts it).
fn fltmc(minifilters: &[(&str, &str, &str)], third: &[ThirdPartyDriver]) -> (String, u64) {
    let mut rows: Vec<(String, String)> =
        minifilters.iter().map(|(n, _, a)| ((*n).to_owned(), (*a).to_owned())).collect();
    rows.extend(third.iter().filter_map(|t| Some((t.name.clone(), t.altitude.clone()?))));
    rows.sort_by(|a, b| {
        let num = |s: &str| s.parse::<f64>().unwrap_or(0.0);
        num(&b.1).total_cmp(&num(&a.1))
    });
    let mut text = String::from("\nFilter Name                     Num Instances    Altitude    Frame\n");
    text.push_str("------------------------------  -------------  ------------  -----\n");
    for (i, (name, altitude)) in rows.iter().enumerate() {
        let instances = 1 + (i * 3 + name.len()) % 4;
        text.push_str(&format!("{name:<32}{instances:>13}{altitude:>13}{:>10}\n", 0));
    }
    (text, rows.len() as u64)
}

/// The inventory files of a host.
pub fn inventory(host: &HostSpec) -> Vec<InventoryFile> {
    let minifilters = inbox_minifilters(host);
    let (dq, dq_rows) = driverquery(host, &minifilters);
    let (si, si_rows) = signed_devices(&host.third_party_drivers);
    let (flt, flt_rows) = fltmc(&minifilters, &host.third_party_drivers);
    vec![
        InventoryFile { name: "driverquery.csv", kind: "driverquery", records: dq_rows, text: dq },
        InventoryFile { name: "driverquery-si.csv", kind: "driverquery_si", records: si_rows, text: si },
        InventoryFile { name: "fltmc.txt", kind: "fltmc", records: flt_rows, text: flt },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::drivers;
    use crate::parse::FileContext;

    #[test]
    fn every_file_reads_back_as_the_list_it_is() {
        let opts = crate::simulate::SimOptions::new(crate::simulate::ScenarioName::LsassTokenLeak, 1);
        let scn = crate::simulate::scenarios::build(&opts).unwrap();
        let files = inventory(&scn.hosts[0]);
        let mut listings = Vec::new();
        for f in &files {
            let (listing, diags) =
                drivers::parse(&f.text, &FileContext { path: f.name.into(), ..FileContext::default() });
            assert!(diags.is_empty(), "{}: {diags:?}", f.name);
            let listing = listing.unwrap();
            assert_eq!((listing.drivers.len() + listing.devices.len()) as u64, f.records, "{}", f.name);
            listings.push(listing);
        }
        let inv = crate::model::DriverInventory::merge(&listings);
        let ctx = inv.get("ctxscan").expect("the security filter");
        assert_eq!(ctx.manufacturer.as_deref(), Some("Contoso Security"));
        assert_eq!(ctx.minifilter.as_ref().and_then(|m| m.altitude.as_deref()), Some("329420"));
    }
}
