//! Snapshot times from around the files, as users' archives carry them: stamps in other patterns in the file
//! and folder names, and modification times that a copy rewrote. The demo's lsass.exe dumps are renamed,
//! re-foldered and re-timed; `handles --by account` must give the rates the stamps support, per boot, and no
//! rate at all where the times were lost.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use assert_cmd::Command;
use serde_json::Value;

const DEMO: &str = "fixtures/incidents/lsass-token-leak";

/// The demo's lsass.exe dumps with their UTC times (from the `handle-lsass-YYYYMMDDTHHMMSSZ.txt` names).
fn dumps() -> Vec<(String, chrono::NaiveDateTime)> {
    let mut out: Vec<(String, chrono::NaiveDateTime)> = fs::read_dir(DEMO)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let stamp = name.strip_prefix("handle-lsass-")?.strip_suffix("Z.txt")?.to_owned();
            Some((name, chrono::NaiveDateTime::parse_from_str(&stamp, "%Y%m%dT%H%M%S").unwrap()))
        })
        .collect();
    out.sort();
    out
}

/// Copies each dump to `dir/<relative path>` and sets every copy's modification time `ms_apart` milliseconds
/// after the previous one (0: all at one instant).
fn lay_out(dir: &Path, name: impl Fn(usize, chrono::NaiveDateTime) -> String, ms_apart: u64) {
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for (i, (file, at)) in dumps().into_iter().enumerate() {
        let to = dir.join(name(i, at));
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(Path::new(DEMO).join(file), &to).unwrap();
        let mtime = base + Duration::from_millis(ms_apart * i as u64);
        fs::File::options().write(true).open(&to).unwrap().set_modified(mtime).unwrap();
    }
}

fn handles_by_account(dir: &Path) -> (Value, String) {
    let out = Command::cargo_bin("poolscope")
        .unwrap()
        .args(["handles", "--by", "account", "--format", "json"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (serde_json::from_slice(&out.stdout).unwrap(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The svc-scan series of each boot: (boot, hours, rate first-last).
fn svc_scan(report: &Value) -> Vec<(u64, f64, Option<f64>)> {
    let mut rows: Vec<(u64, f64, Option<f64>)> = report["series"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["account"] == "CONTOSO\\svc-scan")
        .map(|s| (s["boot"].as_u64().unwrap(), s["hours"].as_f64().unwrap(), s["per_hour_first_last"].as_f64()))
        .collect();
    rows.sort_by_key(|r| r.0);
    rows
}

/// The hung boot's three dumps over ~60 h give the leak's rate; the dump after the reboot (new lsass.exe pid)
/// is another boot and no part of it.
fn assert_rates_from_stamps(report: &Value) {
    let rows = svc_scan(report);
    assert!(!rows.is_empty(), "no svc-scan series: {report:#}");
    let (boot, hours, rate) = rows[0];
    assert_eq!(boot, 0);
    assert!((59.0..62.0).contains(&hours), "hung boot spans {hours} h");
    let rate = rate.expect("a rate over 60 h");
    assert!((400.0..500.0).contains(&rate), "svc-scan Token handles grow {rate}/h");
    assert!(rows.iter().all(|r| r.2.is_none_or(|rate| rate.abs() < 10_000.0)), "{rows:?}");
}

#[test]
fn renamed_dumps_with_one_mtime_are_timed_by_their_names() {
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path(), |_, at| format!("lsass_{}.txt", at.format("%Y%m%d-%H%M")), 0);
    let (report, _) = handles_by_account(dir.path());
    assert_rates_from_stamps(&report);
    assert!(report["snapshots"].as_array().unwrap().iter().all(|s| s["time_source"] == "file_name"));
}

#[test]
fn day_first_names_are_settled_over_the_set() {
    // dd-MM-yyyy_HH.mm: 18-05 and 20-05 fit only day first; 05 ... would be read alike.
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path(), |_, at| format!("WEB01 lsass {}.txt", at.format("%d-%m-%Y_%H.%M")), 1);
    let (report, _) = handles_by_account(dir.path());
    assert_rates_from_stamps(&report);
    let day_month = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["message"].as_str().is_some_and(|m| m.contains("day/month")));
    assert_eq!(day_month.count(), 0, "settled by the fields above 12: {:#}", report["diagnostics"]);
}

#[test]
fn folder_stamps_time_plain_file_names() {
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path(), |_, at| format!("collect_{}/handle.txt", at.format("%Y-%m-%d_%H-%M-%S")), 1);
    let (report, _) = handles_by_account(dir.path());
    assert_rates_from_stamps(&report);
    assert!(report["snapshots"].as_array().unwrap().iter().all(|s| s["time_source"] == "folder_name"));
}

#[test]
fn copied_mtimes_without_stamps_give_no_rate_and_say_so_once() {
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path(), |i, _| format!("lsass_{}.txt", i + 1), 1);
    let (report, stderr) = handles_by_account(dir.path());
    assert!(report["series"].as_array().unwrap().is_empty(), "no series without times: {:#}", report["series"]);
    let copied: Vec<&Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["message"].as_str().is_some_and(|m| m.contains("modified within")))
        .collect();
    assert_eq!(copied.len(), 1, "{:#}", report["diagnostics"]);
    assert!(copied[0]["message"].as_str().unwrap().contains("the 4 handle.exe files"));
    assert!(stderr.contains("left out of the growth figures"), "{stderr}");

    // The text output prints no rate either.
    let out =
        Command::cargo_bin("poolscope").unwrap().args(["handles", "--by", "account"]).arg(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("Growth per hour"), "{text}");
}

#[test]
fn dumps_one_minute_apart_by_mtime_are_kept_but_too_short_for_a_rate() {
    // Genuine mtimes of a fast loop (a minute apart) are times; three minutes in all is too short for /h.
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path(), |i, _| format!("lsass_{}.txt", i + 1), 60_000);
    let (report, _) = handles_by_account(dir.path());
    let series = report["series"].as_array().unwrap();
    assert!(!series.is_empty());
    for s in series {
        assert!(s["per_hour_first_last"].is_null(), "{s:#}");
        assert!(s["no_rate"].as_str().is_some_and(|r| r.contains("too short")), "{s:#}");
    }
}
