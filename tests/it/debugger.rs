//! Debugger text (WinDbg `!poolused`, `!vm`): each fixture states what parses and which diagnostics are
//! expected; `analyze` over the demo incident plus a `!vm` file takes its limits from `!vm`.

use assert_cmd::Command;
use serde_json::Value;

const DEMO: &str = "fixtures/incidents/lsass-token-leak";
const VM: &str = "fixtures/debugger/vm_1_pool_maxima_commit_limit.txt";

fn poolscope() -> Command {
    Command::cargo_bin("poolscope").expect("binary built")
}

fn parse_json(path: &str) -> Value {
    let out =
        poolscope().args(["parse", "--format", "json", "--no-progress", "--host", "SRV-APP01", path]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (line, severity, message) of each diagnostic but the zone notes.
fn diagnostics(doc: &Value) -> Vec<(Option<u64>, String, String)> {
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| !d["message"].as_str().unwrap().contains("carry no zone"))
        .map(|d| {
            (d["line"].as_u64(), d["severity"].as_str().unwrap().to_owned(), d["message"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn poolused_4_with_descriptions_is_one_snapshot_at_the_session_time() {
    let doc = parse_json("fixtures/debugger/poolused_4_paged_descriptions_session_time.txt");
    let snaps = doc["pool_snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 1);
    let snap = &snaps[0];
    assert_eq!(snap["taken_at"], "2020-05-22T13:40:02.123Z");
    assert_eq!(snap["time_source"], "timestamp_line");
    assert_eq!(snap["host"], "SRV-APP01");
    // 5 tags; NtFs and Ntf0 are in both pools.
    let rows = snap["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!((rows[0]["tag"].as_str(), rows[0]["pool"].as_str()), (Some("Toke"), Some("paged")));
    assert_eq!(rows[0]["diff"], 1_394_724);
    assert_eq!(rows[0]["driver"], "[nt!se]");
    let glued = rows.iter().find(|r| r["tag"] == "Ntf0" && r["pool"] == "paged").unwrap();
    assert_eq!(glued["bytes"], 1_024_000);
    let said = diagnostics(&doc);
    assert!(said.iter().any(|d| d.0 == Some(7) && d.2.contains("Debug session time")), "{said:?}");
    assert!(said.iter().all(|d| d.1 == "info"), "{said:?}");
}

#[test]
fn poolused_2_without_descriptions_takes_the_file_name_time() {
    let doc = parse_json("fixtures/debugger/poolused_2_nonpaged_no_descriptions_2020-05-22_13-40-02.txt");
    let snap = &doc["pool_snapshots"][0];
    assert_eq!(snap["time_source"], "file_name");
    assert_eq!(snap["taken_at"], "2020-05-22T13:40:02Z");
    assert_eq!(snap["rows"].as_array().unwrap().len(), 3);
    assert!(diagnostics(&doc).iter().any(|d| d.2 == "!poolused snapshot time from the file name"));
}

#[test]
fn poolused_cut_short_keeps_its_rows_and_says_where() {
    let doc = parse_json("fixtures/debugger/err_poolused_cut_no_total_2020-05-22_13-40-02.txt");
    assert_eq!(doc["pool_snapshots"][0]["rows"].as_array().unwrap().len(), 2);
    let warnings: Vec<_> = diagnostics(&doc).into_iter().filter(|d| d.1 == "warning").collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(warnings[0].0, Some(9), "the cut row");
    assert!(warnings[1].2.contains("no TOTAL line"), "{warnings:?}");
}

#[test]
fn vm_gives_limits_in_bytes() {
    let doc = parse_json(VM);
    let limits = &doc["debugger_limits"][0];
    assert_eq!(limits["paged_pool_max"], 3_145_728u64 * 1024);
    assert_eq!(limits["nonpaged_pool_max"], 3_145_728u64 * 1024);
    assert_eq!(limits["commit_limit"], 4_456_156u64 * 1024);
    assert_eq!(limits["physical_memory"], 4_193_484u64 * 1024);
    assert_eq!(limits["host"], "SRV-APP01");
    assert!(doc["pool_snapshots"].as_array().unwrap().is_empty());
}

#[test]
fn analyze_demo_with_vm_states_the_vm_limit_source() {
    let out = poolscope()
        .args(["analyze", "--format", "json", "--no-progress", "--host", "SRV-APP01", DEMO, VM])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let source = |pool: &str| -> String {
        let p = doc["projections"].as_array().unwrap().iter().find(|p| p["boot"] == 0 && p["pool"] == pool).unwrap();
        p["limit_source"].as_str().unwrap().to_owned()
    };
    assert_eq!(source("nonpaged"), "!vm NonPagedPoolMaximum");
    assert_eq!(source("commit"), "!vm Commit limit");
    // Commit headroom is tighter than the 3 GiB PagedPoolMaximum here: both are named.
    assert!(source("paged").contains("!vm PagedPoolMaximum") && source("paged").contains("!vm Commit limit"));
    assert_eq!(doc["suspects"][0]["tag"], "Toke");
}
