//! WPA pool tables (issue 13): detected by their header and nothing else is; the demo incident's trace gives the
//! verdict its Stacks line and the reports their "Allocation stacks" section; bad rows are diagnostics with
//! their lines.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use poolscope::parse::Format;
use serde_json::Value;

const DEMO: &str = "fixtures/incidents/lsass-token-leak";

fn poolscope() -> Command {
    let mut cmd = Command::cargo_bin("poolscope").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).env("NO_COLOR", "1");
    cmd
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn detected(path: &Path) -> Option<Format> {
    let bytes = std::fs::read(path).unwrap();
    Format::detect(&bytes[..bytes.len().min(64 * 1024)])
}

#[test]
fn every_wpa_fixture_is_a_wpa_table_and_no_other_fixture_is() {
    let mut wpa = 0;
    for entry in walkdir::WalkDir::new(repo("fixtures")) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() || entry.path().extension().is_some_and(|e| e == "json") {
            continue;
        }
        let is_wpa = entry.path().parent().is_some_and(|p| p.ends_with("wpa"))
            || entry.file_name().to_string_lossy().starts_with("wpa-");
        let format = detected(entry.path());
        if is_wpa {
            wpa += 1;
            assert_eq!(format, Some(Format::WpaPool), "{}", entry.path().display());
        } else {
            assert_ne!(format, Some(Format::WpaPool), "{} taken for a WPA table", entry.path().display());
        }
    }
    assert!(wpa >= 7, "{wpa} WPA fixtures");
}

#[test]
fn demo_verdict_names_the_allocating_routine() {
    let out = poolscope().args(["analyze", "--format", "json", "-q", DEMO]).assert().success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let verdict = &json["verdicts"][0];
    let line = verdict["block"]["stacks"].as_str().expect("a Stacks line");
    assert!(line.starts_with("AIFO ") && line.contains(" allocations of tag Toke, "), "{line}");
    assert!(line.contains(" of them 1,664 bytes, allocated from ntkrnlmp.exe!SepDuplicateToken"), "{line}");
    let stacks = json["allocation_stacks"].as_array().unwrap();
    let toke = stacks.iter().find(|s| s["tag"] == "Toke").unwrap();
    assert_eq!(toke["suspect"], true);
    assert!(toke["dominant_size_count"].as_u64().unwrap() * 10 > toke["outstanding"].as_u64().unwrap() * 9);
    // The other traced tag is listed, not a suspect, and not in the verdict.
    let other = stacks.iter().find(|s| s["tag"] == "ObNm").expect("the other traced tag");
    assert_eq!(other["suspect"], false);
    assert!(!verdict["block"].to_string().contains("ObNm"));

    let text = poolscope().args(["analyze", "-q", DEMO]).env("COLUMNS", "200").assert().success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    assert!(text.contains(&format!("Stacks            {line}")), "{text}");
    assert!(text.contains("Allocation stacks on SRV-APP01"), "{text}");
}

#[test]
fn report_has_an_allocation_stacks_section() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    poolscope().args(["report", "-q", "--charts", "svg", DEMO, "-o"]).arg(&out).assert().success();
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("<section id=\"allocation-stacks\">"), "no section");
    assert!(html.contains("href=\"#allocation-stacks\""));
    assert!(html.contains("ntkrnlmp.exe!SepDuplicateToken"));
    assert!(html.contains("<dt>Stacks</dt>"));
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("### Allocation stacks (WPA pool trace)"), "{md}");
    assert!(md.contains("- **Stacks:** AIFO "), "{md}");
    assert!(md.contains("ObNm (paged)"), "{md}");
}

#[test]
fn a_truncated_table_keeps_its_rows_and_names_the_cut_line() {
    let out = poolscope().args(["parse", "fixtures/wpa/err_truncated_last_row.csv"]).assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stdout.contains("WPA pool table: 6 rows, 2 tags, 6,201 AIFO allocations"), "{stdout}");
    assert!(
        stderr.contains("err_truncated_last_row.csv:8: warning: the file ends inside this row's quoted cell"),
        "{stderr}"
    );
}

#[test]
fn a_table_with_no_usable_row_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pool.csv");
    std::fs::write(&path, "Type,Pool Tag,Count\r\nAIFO,Toke,lots\r\n").unwrap();
    let out = poolscope().arg("parse").arg(&path).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("pool.csv:2: warning: tag \"Toke\": \"lots\" is not a number"), "{stderr}");
    assert!(stderr.contains("no usable WpaPool records"), "{stderr}");
}
