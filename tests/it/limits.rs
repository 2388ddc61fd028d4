//! Resource limits on reading (issue 14): each is enforced and its error names the flag that raises it.

use assert_cmd::Command;

const DEMO: &str = "fixtures/incidents/lsass-token-leak";

fn poolscope() -> Command {
    Command::cargo_bin("poolscope").expect("binary built")
}

fn stderr_of(args: &[&str]) -> (Option<i32>, String) {
    let out = poolscope().args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn too_many_files_reads_nothing_and_names_the_flag() {
    let (code, stderr) = stderr_of(&["parse", "--max-files", "3", DEMO]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("more than the limit of 3") && stderr.contains("--max-files"), "{stderr}");
    poolscope().args(["parse", "--max-files", "100000", DEMO]).assert().success();
}

#[test]
fn too_many_bytes_reads_nothing_and_names_the_flag() {
    let (code, stderr) = stderr_of(&["parse", "--max-total-size", "64K", DEMO]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--max-total-size") && stderr.contains("64.0 KiB"), "{stderr}");
}

/// Formats read whole are refused above `--max-file-size` (the perfmon CSV here), naming the file; poolmon,
/// handle.exe output and event logs (XML and .evtx) stream and are still read (issue 14).
#[test]
fn files_read_whole_are_bounded_and_streamed_ones_are_not() {
    let perfmon = "fixtures/perfmon/tsv_de_localized.tsv";
    let args = ["parse", "--format", "json", "--max-file-size", "200", DEMO, perfmon];
    let out = poolscope().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (records, what) in [
        ("pool_snapshots", "poolmon is streamed"),
        ("handle_snapshots", "handle.exe output is streamed"),
        ("events", "event logs are streamed"),
    ] {
        assert!(!doc[records].as_array().unwrap().is_empty(), "{what}, not bound by the limit");
    }
    let refused: Vec<&serde_json::Value> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["message"].as_str().unwrap().contains("--max-file-size"))
        .collect();
    // The perfmon CSV, the demo's WPA pool table and its driver lists (all read whole) are refused; nothing that
    // streams is.
    assert!(refused.iter().all(|d| d["severity"] == "error"), "{refused:?}");
    let paths: Vec<&str> = refused.iter().map(|d| d["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&perfmon), "{paths:?}");
    let read_whole = |p: &str| p == perfmon || p.contains("wpa") || p.contains("driverquery") || p.contains("fltmc");
    assert!(paths.iter().all(|p| read_whole(p)), "{paths:?}");
}

#[test]
fn a_line_without_end_is_cut_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = b" Tag  Type     Allocs         Frees    Diff   Bytes    Per Alloc\r\n\r\n".to_vec();
    text.extend_from_slice(b" Toke Paged        10         5         5       500        100\r\n");
    text.extend(std::iter::repeat_n(b'A', 3 << 20));
    let path = dir.path().join("poolmon_2020-05-22_22-35-55.log");
    std::fs::write(&path, &text).unwrap();
    let out = poolscope().args(["parse", "--format", "json"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["pool_snapshots"].as_array().unwrap().len(), 1);
    let cut = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("--max-line-length"))
        .expect("the long line is reported");
    assert_eq!(cut["line"], 4);
    assert!(cut["message"].as_str().unwrap().contains(&format!("{} bytes", (3 << 20) - (1 << 20))), "{cut}");
}

/// `--max-records` cuts a file to its first records (whole poolmon snapshots, whole handle.exe runs, events) and
/// says so once per file, naming the flag; files under the limit are untouched.
#[test]
fn records_beyond_the_per_file_limit_are_left_out_and_named() {
    let parse = |extra: &[&str]| {
        let (poolmon, events) = (format!("{DEMO}/poolmon.log"), format!("{DEMO}/System.xml"));
        let out =
            poolscope().args(["parse", "--format", "json", "-q"]).args(extra).args([poolmon, events]).output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let whole = parse(&[]);
    let cut = parse(&["--max-records", "100"]);
    let snapshots = |d: &serde_json::Value| d["pool_snapshots"].as_array().unwrap().clone();
    let rows: usize = snapshots(&cut).iter().map(|s| s["rows"].as_array().unwrap().len()).sum();
    assert!(rows <= 100 && rows > 0, "{rows} rows kept");
    assert!(snapshots(&cut).len() < snapshots(&whole).len());
    assert_eq!(snapshots(&cut)[..], snapshots(&whole)[..snapshots(&cut).len()], "the first snapshots are kept");
    let events = |d: &serde_json::Value| d["events"].as_array().unwrap().len();
    assert!(events(&whole) > 10);
    let cut_events = parse(&["--max-records", "10"]);
    assert_eq!(events(&cut_events), 10);
    let named: Vec<&str> = cut_events["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["message"].as_str().unwrap().contains("--max-records"))
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(named.len(), 2, "one error per cut file: {named:?}");
    assert!(whole["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| !d["message"].as_str().unwrap().contains("--max-records")));
}
