//! `poolscope diff` over poolmon `-n -r` files in the x64 layout (fixtures/diff/).
//!
//! `fixtures/diff/series_x64_n_r_iso_stamps.log` holds three snapshots two hours apart (ISO timestamp lines):
//! `Toke` leaks 95,000 tokens (1,664 bytes each) per interval, `Irp ` Nonp's Allocs and Frees wrap past 2^32
//! between snapshots 2 and 3, `Old1` disappears, `New1` appears, `File` has a Paged and a Nonp row, `File`
//! Paged never changes. The two `poolmon-<UTC stamp>-4242.txt` files are snapshots 1 and 3 as single files.

use assert_cmd::Command;
use serde_json::Value;

fn poolscope() -> Command {
    let mut cmd = Command::cargo_bin("poolscope").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).env_remove("POOLSCOPE_POOLTAG").env("NO_COLOR", "1");
    cmd
}

fn stdout_of(args: &[&str]) -> String {
    let out = poolscope().args(args).assert().success().get_output().stdout.clone();
    String::from_utf8(out).expect("utf-8 output")
}

fn json_of(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&stdout_of(&all)).expect("valid JSON")
}

const SERIES: &str = "fixtures/diff/series_x64_n_r_iso_stamps.log";
const SINGLE_A: &str = "fixtures/diff/poolmon-20200522T100000Z-4242.txt";
const SINGLE_B: &str = "fixtures/diff/poolmon-20200522T140000Z-4242.txt";

fn row<'a>(v: &'a Value, tag: &str, pool: &str) -> &'a Value {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tag"] == tag && r["pool"] == pool)
        .unwrap_or_else(|| panic!("no row {tag} {pool} in {v:#}"))
}

#[test]
fn series_first_against_last_json_snapshot() {
    let json = stdout_of(&["diff", &format!("{SERIES}@1"), &format!("{SERIES}@-1"), "--format", "json"]);
    insta::assert_snapshot!("diff_series_1_to_3_json", json);
}

#[test]
fn series_first_against_last_text_snapshot() {
    let text = stdout_of(&["diff", &format!("{SERIES}@1"), &format!("{SERIES}@3")]);
    insta::assert_snapshot!("diff_series_1_to_3_text", text);
}

#[test]
fn series_markdown_snapshot() {
    let md = stdout_of(&["diff", &format!("{SERIES}@1"), &format!("{SERIES}@3"), "--format", "markdown", "--top", "3"]);
    insta::assert_snapshot!("diff_series_1_to_3_markdown_top3", md);
}

#[test]
fn leak_rate_and_size_of_the_leaked_objects() {
    let v = json_of(&["diff", &format!("{SERIES}@1"), &format!("{SERIES}@3")]);
    assert_eq!(v["hours"], 4.0);
    let toke = row(&v, "Toke", "paged");
    assert_eq!(toke["delta_diff"], 190_000);
    assert_eq!(toke["delta_bytes"], 190_000 * 1664);
    assert_eq!(toke["bytes_per_hour"], 190_000.0 * 1664.0 / 4.0);
    assert_eq!(toke["per_alloc"], 1664.0);
    assert_eq!(v["rows"][0]["tag"], "Toke", "largest change in bytes first");
}

#[test]
fn wrapped_counters_are_corrected_and_noted() {
    let v = json_of(&["diff", &format!("{SERIES}@2"), &format!("{SERIES}@3")]);
    let irp = row(&v, "Irp ", "nonpaged");
    assert_eq!(irp["delta_allocs"], 567_296);
    assert_eq!(irp["delta_frees"], 566_296);
    assert_eq!(irp["delta_diff"], 1000);
    assert!(irp["notes"].to_string().contains("wrapped"), "{irp}");
}

#[test]
fn appeared_disappeared_and_both_pools_of_one_tag() {
    let v = json_of(&["diff", &format!("{SERIES}@1"), &format!("{SERIES}@3")]);
    assert_eq!(row(&v, "New1", "nonpaged")["status"], "appeared");
    assert_eq!(row(&v, "Old1", "paged")["status"], "disappeared");
    assert_eq!(row(&v, "File", "nonpaged")["status"], "present");
    assert!(
        v["rows"].as_array().unwrap().iter().all(|r| !(r["tag"] == "File" && r["pool"] == "paged")),
        "unchanged row left out"
    );
    let all = json_of(&["diff", &format!("{SERIES}@1"), &format!("{SERIES}@3"), "--unchanged"]);
    assert_eq!(row(&all, "File", "paged")["delta_bytes"], 0);
}

#[test]
fn single_files_give_the_same_rows_as_the_series() {
    let series = json_of(&["diff", &format!("{SERIES}@1"), &format!("{SERIES}@3")]);
    let singles = json_of(&["diff", SINGLE_A, SINGLE_B]);
    assert_eq!(series["rows"], singles["rows"]);
    assert_eq!(series["totals"], singles["totals"]);
    assert_eq!(singles["before"]["time_source"], "file_name");
}

#[test]
fn one_argument_compares_first_and_last_snapshot() {
    let v = json_of(&["diff", SERIES]);
    assert_eq!(
        (v["before"]["index"].clone(), v["after"]["index"].clone(), v["after"]["count"].clone()),
        (1.into(), 3.into(), 3.into())
    );
}

#[test]
fn snapshot_nearest_to_a_time() {
    let v = json_of(&["diff", &format!("{SERIES}@2020-05-22T11:50:00Z"), SERIES]);
    assert_eq!(v["before"]["index"], 2);
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("A: the snapshot nearest to 2020-05-22 11:50:00 UTC (taken 10.0 min after)"),
        "{v:#}"
    );
}

#[test]
fn path_containing_an_at_sign() {
    let v = json_of(&["diff", "fixtures/diff/series@node1.log", "fixtures/diff/series@node1.log@-1"]);
    assert_eq!(v["before"]["source"]["path"], "fixtures/diff/series@node1.log");
    assert_eq!((v["before"]["index"].clone(), v["after"]["index"].clone()), (1.into(), 2.into()));
}

#[test]
fn index_out_of_range_exits_2_and_says_how_many() {
    let out = poolscope()
        .args(["diff", &format!("{SERIES}@1"), &format!("{SERIES}@4")])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("has 3 snapshots"), "{stderr}");
}

#[test]
fn file_without_snapshot_exits_2() {
    let out =
        poolscope().args(["diff", "fixtures/diff/err_no_snapshot.txt", SINGLE_B]).assert().code(2).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("err_no_snapshot.txt: no poolmon snapshot found"), "{stderr}");
}

#[test]
fn other_kinds_of_file_are_named() {
    let out = poolscope().args(["diff", "fixtures/pooltag/quirks.txt", SINGLE_B]).assert().code(2).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("quirks.txt: this is a pooltag.txt file (give it with --pooltag), not a pool snapshot"),
        "{stderr}"
    );
}

#[test]
fn different_boots_are_said_and_not_corrected() {
    let v = json_of(&["diff", "fixtures/diff/err_two_boots_counters_restart.log"]);
    assert!(v["notes"].to_string().contains("different boots"), "{v:#}");
    assert!(row(&v, "Toke", "paged")["delta_allocs"].as_i64().unwrap() < 0);
}

#[test]
fn pool_filter_sort_and_top() {
    let v = json_of(&["diff", SERIES, "--pool", "nonpaged", "--sort", "allocs", "--top", "1"]);
    assert_eq!(v["rows"].as_array().unwrap().len(), 1);
    assert_eq!(v["rows"][0]["tag"], "Irp ");
    assert_eq!(v["rows_total"], 3);
    let pools: Vec<&str> = v["totals"].as_array().unwrap().iter().map(|t| t["pool"].as_str().unwrap()).collect();
    assert_eq!(pools, ["nonpaged", "all"]);
}

#[test]
fn csv_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d.csv");
    poolscope().args(["diff", SERIES, "--format", "csv", "-o"]).arg(&out).assert().success().stdout("");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("tag,pool,status,bytes_before,bytes_after,delta_bytes,bytes_per_hour,"), "{text}");
    assert!(
        text.lines().nth(1).unwrap().starts_with("Toke,paged,present,166400000,482560000,316160000,79040000,"),
        "{text}"
    );
}

#[test]
fn descriptions_from_a_pooltag_file_and_the_built_in_notes() {
    let text = stdout_of(&["diff", SERIES, "--pooltag", "fixtures/pooltag/quirks.txt", "--wide"]);
    assert!(text.contains("DirectDraw object (tag with an inner space) (<unknown>)"), "{text}");
    let text = stdout_of(&["diff", SERIES, "--wide"]);
    assert!(text.contains("Registry key objects (nt!cm)"), "built-in notes without --pooltag: {text}");
    assert!(!text.contains("DirectDraw"), "{text}");
}
