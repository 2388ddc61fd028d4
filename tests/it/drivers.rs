//! Driver inventories (issue 13): every fixture under `fixtures/drivers/` with what it yields and how many
//! diagnostics; arbitrary bytes never panic the parsers; the simulator's inventory reaches the verdict's
//! Drivers line, which names exactly the third-party minifilter of truth.json and no Microsoft driver.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use poolscope::model::drivers::{DriverType, ListingKind};
use poolscope::model::{DriverInventory, DriverListing, Severity, TimeSettings};
use poolscope::parse::{self, drivers, FileContext, Format};
use proptest::prelude::*;
use serde_json::Value;

const DEMO: &str = "fixtures/incidents/lsass-token-leak";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn poolscope() -> Command {
    let mut cmd = Command::cargo_bin("poolscope").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).env("NO_COLOR", "1");
    cmd
}

/// A fixture, detected by content and parsed: its listing (if any) and the diagnostics.
fn fixture(name: &str) -> (Option<DriverListing>, Vec<poolscope::model::Diagnostic>) {
    let path = repo(&format!("fixtures/drivers/{name}"));
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(Format::detect(&bytes), Some(Format::DriverList), "{name} is not detected as a driver list");
    let parsed = parse::parse_file(&path, None, &TimeSettings::default(), None);
    (parsed.drivers.into_iter().next(), parsed.diagnostics)
}

fn names(listing: &DriverListing) -> Vec<&str> {
    listing.drivers.iter().map(|d| d.name.as_str()).collect()
}

#[test]
fn driverquery_v_utf16le_bom() {
    let (l, diags) = fixture("driverquery_v_utf16le_bom.csv");
    let l = l.unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(l.kind, ListingKind::Driverquery);
    assert_eq!(names(&l), ["ACPI", "Ntfs", "WdFilter", "ctxscan", "Floppy"]);
    let wd = &l.drivers[2];
    assert_eq!(wd.file_name(), "WdFilter.sys");
    assert_eq!((wd.driver_type, wd.loaded), (Some(DriverType::FileSystem), Some(true)));
    assert_eq!(l.drivers[4].loaded, Some(false), "Stopped");
    assert_eq!(l.drivers[3].sources[0].line, Some(5));
}

#[test]
fn driverquery_v_de_localized_ansi() {
    let (l, diags) = fixture("driverquery_v_de_localized_ansi.csv");
    let l = l.unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(names(&l), ["ACPI", "ctxscan", "Floppy"]);
    // `Wird ausgeführt` read from Windows-1252 bytes; the first of the two `Status` columns is the state.
    assert_eq!(l.drivers[0].state.as_deref(), Some("Wird ausgeführt"));
    assert_eq!(l.drivers.iter().map(|d| d.loaded).collect::<Vec<_>>(), [Some(true), Some(true), Some(false)]);
    assert_eq!(l.drivers[1].driver_type, Some(DriverType::FileSystem), "Dateisystem");
    assert_eq!(l.drivers[2].file_name(), "flpydisk.sys");
}

#[test]
fn driverquery_plain_fr_localized_lf() {
    let (l, diags) = fixture("driverquery_plain_fr_localized_lf.csv");
    let l = l.unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(names(&l), ["ACPI", "ctxscan"]);
    assert_eq!(l.drivers[1].driver_type, Some(DriverType::FileSystem), "Système de fichiers");
    assert_eq!(l.drivers[1].link_date.as_deref(), Some("01/03/2019 10:00:00"));
    assert_eq!(l.drivers[1].loaded, None, "the plain list has no state");
}

#[test]
fn driverquery_si_signed_devices() {
    let (l, diags) = fixture("driverquery_si_signed_devices.csv");
    let l = l.unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(l.kind, ListingKind::DriverquerySigned);
    assert!(l.drivers.is_empty());
    assert_eq!(l.devices.len(), 4);
    assert_eq!(l.devices[3].signed, Some(false));
    assert_eq!(l.devices[2].manufacturer.as_deref(), Some("Contoso Security"));
}

#[test]
fn fltmc_instances_long_volume_fractional_altitude() {
    let (l, diags) = fixture("fltmc_instances_long_volume_fractional_altitude.txt");
    let l = l.unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(l.kind, ListingKind::FltmcInstances);
    assert_eq!(names(&l), ["bindflt", "ctxscan", "WdFilter", "UCPD", "FileInfo"]);
    let ctx = l.drivers[1].minifilter.as_ref().unwrap();
    assert_eq!(ctx.instances, Some(3));
    assert_eq!(ctx.volumes[1], r"\Device\HarddiskVolumeShadowCopy12345678901", "a volume name wider than its column");
    assert_eq!(l.drivers[3].minifilter.as_ref().unwrap().altitude.as_deref(), Some("385250.5"));
}

#[test]
fn fltmc_filters_legacy_utf16le_bom() {
    let (l, diags) = fixture("fltmc_filters_legacy_utf16le_bom.txt");
    let l = l.unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(l.kind, ListingKind::FltmcFilters);
    assert_eq!(names(&l), ["ctxscan", "WdFilter", "luafv", "FileInfo", "OldAvFlt"]);
    assert!(l.drivers[4].minifilter.as_ref().unwrap().legacy);
    assert!(l.drivers.iter().all(|d| d.loaded == Some(true)), "fltmc lists loaded filters only");
}

#[test]
fn cim_systemdriver_export_type_line() {
    let (l, diags) = fixture("cim_systemdriver_export_type_line.csv");
    let l = l.unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(l.kind, ListingKind::SystemDriverCsv);
    assert_eq!(l.system_name.as_deref(), Some("SRV-APP01"));
    assert_eq!(names(&l), ["ACPI", "ctxscan", "Floppy"]);
    assert_eq!(l.drivers[1].driver_type, Some(DriverType::FileSystem));
    assert_eq!(l.drivers[2].loaded, Some(false), "Started False");
    assert_eq!(l.source.line, Some(2), "the header follows the #TYPE line");
}

#[test]
fn err_truncated_last_row() {
    let (l, diags) = fixture("err_truncated_last_row.csv");
    assert_eq!(names(&l.unwrap()), ["ACPI", "ctxscan"]);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!((diags[0].line, diags[0].severity), (Some(4), Severity::Warning));
    assert!(diags[0].message.contains("cut short"), "{diags:?}");
}

#[test]
fn err_table_format_not_read() {
    let (l, diags) = fixture("err_table_format_not_read.txt");
    assert!(l.is_none());
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].severity, Severity::Error);
    assert!(diags[0].message.contains("driverquery /v /fo csv"), "{diags:?}");
}

#[test]
fn the_fixtures_of_one_host_merge_into_one_inventory() {
    let lists: Vec<DriverListing> =
        ["driverquery_v_utf16le_bom.csv", "driverquery_si_signed_devices.csv", "fltmc_filters_legacy_utf16le_bom.txt"]
            .iter()
            .filter_map(|n| fixture(n).0)
            .collect();
    let inv = DriverInventory::merge(&lists);
    let ctx = inv.get("CTXSCAN").unwrap();
    assert_eq!(ctx.manufacturer.as_deref(), Some("Contoso Security"), "joined through the /si device name");
    assert_eq!(ctx.minifilter.as_ref().and_then(|m| m.altitude.as_deref()), Some("329420"));
    let others: Vec<&str> =
        poolscope::analysis::drivers::not_microsoft(&inv).iter().map(|(d, _)| d.name.as_str()).collect();
    // Floppy is stopped; OldAvFlt is a loaded legacy filter nobody names.
    assert_eq!(others, ["ctxscan", "OldAvFlt"]);
}

/// The simulator's archive: the Drivers line names truth's third-party minifilter and no Microsoft driver.
#[test]
fn simulated_token_leak_names_exactly_the_third_party_minifilter() {
    let dir = tempfile::tempdir().unwrap();
    poolscope()
        .args(["simulate", "lsass-token-leak", "--hours", "30", "--tags", "30", "--seed", "3", "-q", "-o"])
        .arg(dir.path())
        .assert()
        .success();
    let truth: Value = serde_json::from_slice(&std::fs::read(dir.path().join("truth.json")).unwrap()).unwrap();
    let third = truth["hosts"][0]["third_party_drivers"].as_array().unwrap();
    assert_eq!(third.len(), 1);
    let name = third[0]["name"].as_str().unwrap();
    let out = poolscope().args(["analyze", "--format", "json", "-q"]).arg(dir.path()).assert().success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let line = json["verdicts"][0]["block"]["drivers"].as_str().expect("a Drivers line").to_owned();
    assert!(line.starts_with("1 of "), "{line}");
    assert!(
        line.contains(&format!("{name}.sys minifilter (altitude {}", third[0]["altitude"].as_str().unwrap())),
        "{line}"
    );
    assert!(line.contains(third[0]["company"].as_str().unwrap()), "{line}");
    // No Microsoft driver of the inventory is named.
    let dq = std::fs::read_to_string(dir.path().join("driverquery.csv")).unwrap();
    for module in dq.lines().skip(1).filter_map(|l| l.split('"').nth(1)).filter(|m| *m != name) {
        assert!(!line.contains(&format!("{module}.sys")), "{module} named: {line}");
    }
}

#[test]
fn demo_verdict_has_the_drivers_line_in_every_output() {
    let text = poolscope().args(["analyze", "-q", DEMO]).assert().success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    assert!(text.contains("Drivers") && text.contains("ctxscan.sys minifilter"), "{text}");
    let md = poolscope().args(["analyze", "--format", "markdown", "-q", DEMO]).assert().success();
    let md = String::from_utf8(md.get_output().stdout.clone()).unwrap();
    assert!(md.contains("Drivers") && md.contains("ctxscan.sys"), "{md}");
}

#[test]
fn a_kernel_object_leak_without_an_inventory_says_what_to_collect() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo(DEMO)).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("driverquery") || name.starts_with("fltmc") || name == "truth.json") {
            std::fs::copy(&path, dir.path().join(&name)).unwrap();
        }
    }
    let out = poolscope().args(["analyze", "--format", "json", "-q"]).arg(dir.path()).assert().success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let line = json["verdicts"][0]["block"]["drivers"].as_str().unwrap();
    assert!(line.starts_with("no driver list in the archive"), "{line}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Arbitrary bytes, alone and under each kind of header, never panic a driver-list parser.
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let ctx = FileContext { path: "p.csv".into(), ..FileContext::default() };
        let text = parse::text::decode(&data).text.into_owned();
        let _ = drivers::looks_like(&text);
        let _ = drivers::parse(&text, &ctx);
        for header in [
            "\"Module Name\",\"Display Name\",\"Driver Type\",\"Link Date\"\n",
            "\"DeviceName\",\"InfName\",\"IsSigned\",\"Manufacturer\"\n",
            "#TYPE x\n\"Name\",\"PathName\",\"ServiceType\",\"State\",\"Started\"\n",
            "Filter Name  Num Instances  Altitude  Frame\n----  ----  ----  ----\n",
            "Filter  Volume Name  Altitude  Instance Name  Frame\n--  --  --  --  --\n",
        ] {
            let (listing, _) = drivers::parse(&format!("{header}{text}"), &ctx);
            prop_assert!(listing.is_some());
        }
        let _ = parse::parse_bytes(&data, Some(Format::DriverList), &ctx);
    }
}
