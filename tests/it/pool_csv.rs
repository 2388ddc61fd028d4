//! PowerShell pool CSVs (poolmon-powershell `-view csv`, PoolmonViz `<date>.pool.csv`): each fixture states
//! how many snapshots and rows parse, their times and host, and which diagnostics are expected; `analyze` over a
//! folder of one-snapshot files finds the growing tag.

use assert_cmd::Command;
use serde_json::Value;

fn poolscope() -> Command {
    Command::cargo_bin("poolscope").expect("binary built")
}

/// `poolscope parse --format json` of the given paths (with `--host`), as JSON.
fn parse_json(paths: &[&str]) -> Value {
    let out = poolscope()
        .args(["parse", "--format", "json", "--no-progress", "--host", "SRV-CSV01"])
        .args(paths)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (taken_at, time_source, number of rows) of each snapshot.
fn snapshots(doc: &Value) -> Vec<(String, String, usize)> {
    doc["pool_snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["host"], "SRV-CSV01");
            (
                s["taken_at"].as_str().unwrap_or("").to_owned(),
                s["time_source"].as_str().unwrap_or("").to_owned(),
                s["rows"].as_array().unwrap().len(),
            )
        })
        .collect()
}

fn warnings(doc: &Value) -> Vec<(Option<u64>, String)> {
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "warning" || d["severity"] == "error")
        .filter(|d| !d["message"].as_str().unwrap().contains("carry no zone"))
        .map(|d| (d["line"].as_u64(), d["message"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn poolmon_powershell_loop_repeats_its_header_every_round() {
    let doc = parse_json(&["fixtures/pool_csv/poolmon_powershell_view_csv_loop_repeated_header.csv"]);
    // Toke (paged), File (nonpaged), NtFs (paged and nonpaged) in each of the two rounds.
    assert_eq!(
        snapshots(&doc),
        [
            ("2020-05-22T15:35:55Z".to_owned(), "record".to_owned(), 4),
            ("2020-05-22T15:36:55Z".to_owned(), "record".to_owned(), 4)
        ]
    );
    assert_eq!(warnings(&doc), [], "the repeated header is not a bad row");
    let rows = doc["pool_snapshots"][0]["rows"].as_array().unwrap();
    let toke = rows.iter().find(|r| r["tag"] == "Toke").unwrap();
    assert_eq!(toke["bytes"], (1_500_000u64 - 105_276) * 1664);
    assert_eq!(toke["per_alloc"], 1664);
    assert_eq!(toke["driver"], "[nt!se]");
}

#[test]
fn poolmon_powershell_values_subset_keeps_bytes() {
    let doc = parse_json(&["fixtures/pool_csv/poolmon_powershell_values_subset.csv"]);
    assert_eq!(snapshots(&doc), [("2020-05-22T15:35:55Z".to_owned(), "record".to_owned(), 2)]);
    assert_eq!(doc["pool_snapshots"][0]["rows"][0]["bytes"], 2_320_000_000u64);
    assert_eq!(warnings(&doc), []);
}

#[test]
fn poolmonviz_utf16le_bom_reads_utc_and_skips_total() {
    let doc = parse_json(&["fixtures/pool_csv/poolmonviz_utf16le_bom_20200522T223555.pool.csv"]);
    // Toke paged, `Key ` paged and nonpaged, `Irp ` nonpaged; the TOTAL row is not a tag.
    assert_eq!(snapshots(&doc), [("2020-05-22T22:35:55Z".to_owned(), "record".to_owned(), 4)]);
    let tags: Vec<&str> =
        doc["pool_snapshots"][0]["rows"].as_array().unwrap().iter().map(|r| r["tag"].as_str().unwrap()).collect();
    assert_eq!(tags, ["Toke", "Key ", "Key ", "Irp "]);
    assert_eq!(warnings(&doc), []);
}

#[test]
fn truncated_last_line_keeps_earlier_snapshots() {
    let doc = parse_json(&["fixtures/pool_csv/err_truncated_last_line.pool.csv"]);
    assert_eq!(
        snapshots(&doc),
        [
            ("2020-05-22T22:35:55Z".to_owned(), "record".to_owned(), 2),
            ("2020-05-22T22:36:55Z".to_owned(), "record".to_owned(), 2)
        ]
    );
    let warnings = warnings(&doc);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].0, Some(6));
    assert!(warnings[0].1.contains("truncated"), "{warnings:?}");
}

/// A PoolmonViz collector's folder: one UTF-16LE `<date>.pool.csv` per hour for 30 hours; `Toke` grows 20 MiB/h
/// while the other tags wander.
fn poolmonviz_series(dir: &std::path::Path) {
    let header =
        "\"DateTime\",\"DateTimeUTC\",\"Tag\",\"PagedAllocs\",\"PagedFrees\",\"PagedDiff\",\"PagedUsedBytes\",\
                  \"NonPagedAllocs\",\"NonPagedFrees\",\"NonPagedDiff\",\"NonPagedUsedBytes\",\"TotalUsedBytes\",\
                  \"Binary\",\"Description\"";
    for hour in 0..30u64 {
        let (day, h) = (20 + hour / 24, hour % 24);
        let utc = format!("2020-05-{day:02}T{h:02}:00:00");
        let mut text = format!("#TYPE System.Management.Automation.PSCustomObject\r\n{header}\r\n");
        let wobble = [3u64, 1, 4, 1, 5, 9, 2, 6][hour as usize % 8];
        let toke_outstanding = 100_000 + hour * 12_600;
        let tags = [
            ("Toke", toke_outstanding, 1664u64, true),
            ("NtFs", 20_000 + wobble * 50, 400, true),
            ("File", 9_000 + wobble * 20, 312, false),
            ("MmSt", 3_000 + (9 - wobble) * 30, 1024, true),
        ];
        for (tag, outstanding, size, paged) in tags {
            // Cumulative counters only rise within a boot (a drop would read as a reboot).
            let allocs = 1_000_000 + hour * 50_000 + outstanding;
            let frees = allocs - outstanding;
            let bytes = outstanding * size;
            let (p, n) = if paged {
                (
                    format!("\"{allocs}\",\"{frees}\",\"{outstanding}\",\"{bytes}\""),
                    "\"0\",\"0\",\"0\",\"0\"".to_owned(),
                )
            } else {
                (
                    "\"0\",\"0\",\"0\",\"0\"".to_owned(),
                    format!("\"{allocs}\",\"{frees}\",\"{outstanding}\",\"{bytes}\""),
                )
            };
            text.push_str(&format!("\"{utc}\",\"{utc}\",\"{tag}\",{p},{n},\"{bytes}\",\"\",\"\"\r\n"));
        }
        let mut bytes = vec![0xff, 0xfe];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        std::fs::write(dir.join(format!("2020-05-{day:02}-{h:02}00.pool.csv")), bytes).unwrap();
    }
}

#[test]
fn analyze_a_folder_of_pool_csvs_finds_the_growing_tag() {
    let dir = tempfile::tempdir().unwrap();
    let host_dir = dir.path().join("SRV-CSV01");
    std::fs::create_dir(&host_dir).unwrap();
    poolmonviz_series(&host_dir);
    let out = poolscope().args(["analyze", "--format", "json", "--no-progress"]).arg(&host_dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let suspects = doc["suspects"].as_array().unwrap();
    assert!(!suspects.is_empty(), "{doc}");
    assert_eq!(suspects[0]["tag"], "Toke");
    assert_eq!(suspects[0]["pool"], "paged");
    assert_eq!(suspects[0]["host"], "SRV-CSV01");
    let rate = suspects[0]["bytes_per_hour"].as_f64().unwrap();
    assert!((rate - 12_600.0 * 1664.0).abs() < 0.01 * rate, "{rate}");
    assert!(suspects.iter().all(|s| s["tag"] == "Toke"), "{suspects:?}");
}
