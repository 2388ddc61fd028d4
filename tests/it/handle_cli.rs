//! `poolscope handles` as a user runs it, and format detection of every handle fixture.
//!
//! Times are pinned (`--time`, or the fixtures' own timestamp lines) so outputs do not depend on the
//! fixtures' modification times.

use assert_cmd::Command;
use poolscope::parse::{parse_bytes, FileContext, Format};
use serde_json::Value;

fn poolscope() -> Command {
    let mut cmd = Command::cargo_bin("poolscope").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).env("NO_COLOR", "1");
    cmd
}

fn stdout_of(args: &[&str]) -> String {
    let out = poolscope().args(args).assert().success().get_output().stdout.clone();
    String::from_utf8(out).expect("utf-8 output")
}

const TOKENS: &str = "fixtures/handle/v5.0_dump_a_tokens.txt";
const LOOP_DUMPS: &str = "fixtures/handle/loop_nobanner_dumps_getdate.txt";
const LOOP_SUMMARIES: &str = "fixtures/handle/loop_stamped_summaries_cmd_date.txt";

#[test]
fn lsass_token_handles_by_account_text() {
    let text = stdout_of(&[
        "handles",
        TOKENS,
        "--process",
        "lsass.exe",
        "--type",
        "Token",
        "--by",
        "account",
        "--time",
        "2020-05-22 22:35:55",
    ]);
    insta::assert_snapshot!("handles_lsass_tokens_by_account_text", text);
    // Largest first.
    let svc = text.find(r"CONTOSO\svc_backup").unwrap();
    assert!(svc < text.find(r"NT AUTHORITY\SYSTEM").unwrap());
}

#[test]
fn loop_of_dumps_growth_json() {
    let json = stdout_of(&["handles", LOOP_DUMPS, "--by", "account", "--tz", "Europe/Berlin", "--format", "json"]);
    insta::assert_snapshot!("handles_loop_dumps_by_account_json", json);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["snapshots"].as_array().unwrap().len(), 3);
    let leak = &v["series"][0];
    assert_eq!(leak["account"], r"CONTOSO\svc_backup");
    assert_eq!((leak["first"].as_u64(), leak["last"].as_u64()), (Some(3), Some(7)));
    assert!((leak["per_hour_least_squares"].as_f64().unwrap() - 2.0).abs() < 1e-9);
    assert!((leak["per_hour_first_last"].as_f64().unwrap() - 2.0).abs() < 1e-9);
}

#[test]
fn loop_of_summaries_growth_text() {
    let out = poolscope().args(["handles", LOOP_SUMMARIES, "--by", "type"]).assert().success().get_output().clone();
    let text = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!("handles_loop_summaries_by_type_text", text);
    assert!(text.contains("+600.0"), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--tz"), "UTC assumed is said: {stderr}");
}

#[test]
fn two_runs_markdown() {
    let md = stdout_of(&[
        "handles",
        "fixtures/handle/two_runs_s_then_a.txt",
        "--time",
        "2020-05-22T10:00:00Z",
        "--format",
        "markdown",
    ]);
    insta::assert_snapshot!("handles_two_runs_markdown", md);
    assert!(md.contains("&lt;") || !md.contains('<'), "no raw angle brackets in Markdown: {md}");
}

#[test]
fn csv_has_one_row_per_snapshot_and_group() {
    let text = stdout_of(&["handles", LOOP_DUMPS, "--by", "account", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "host");
    assert_eq!(&headers[12], "count");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 6, "3 snapshots x 2 accounts");
    let svc: Vec<&str> = rows.iter().filter(|r| &r[10] == r"CONTOSO\svc_backup").map(|r| r.get(12).unwrap()).collect();
    assert_eq!(svc, ["3", "5", "7"]);
}

#[test]
fn output_file_and_top() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tokens.json");
    poolscope()
        .args(["handles", TOKENS, "--top", "2", "--format", "json", "-o"])
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(
        (groups[0]["process"].as_str(), groups[0]["type"].as_str(), groups[0]["count"].as_u64()),
        (Some("lsass.exe"), Some("Token"), Some(10))
    );
}

#[test]
fn error_output_only_exits_2_with_the_reason() {
    for (file, reason) in [
        ("err_access_denied.txt", "Access denied"),
        ("err_no_matching_handles.txt", "no matching handles"),
        ("eula_first_run.txt", "-accepteula"),
        ("err_extract_x64.txt", "x64 image"),
    ] {
        let path = format!("fixtures/handle/{file}");
        let out = poolscope().args(["handles", &path]).assert().code(2).get_output().clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("{path}:5:")) && stderr.contains(reason), "{file}: {stderr}");
        assert!(out.stdout.is_empty(), "{file}: stdout stays empty");
    }
}

#[test]
fn filters_that_match_nothing_warn_and_succeed() {
    let out = poolscope()
        .args(["handles", TOKENS, "--process", "nosuch.exe", "--time", "2020-05-22 10:00"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no handles match"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "no handles match the filters\n");
}

#[test]
fn hostile_names_are_sanitised_in_text_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.txt");
    let dump = format!(
        "{}\nevil\u{1b}[2J.exe pid: 66 CONTOSO\\x\n   10: Token         CONTOSO\\evil\u{7}user:3e7\n",
        "-".repeat(78)
    );
    std::fs::write(&path, dump).unwrap();
    let out = poolscope()
        .arg("handles")
        .arg(&path)
        .args(["--time", "2020-05-22 10:00"])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}') && text.contains(r"evil\x1b[2J.exe"), "{text}");
    let out = poolscope()
        .arg("handles")
        .arg(&path)
        .args(["--by", "account", "--time", "2020-05-22 10:00"])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{7}') && text.contains(r"CONTOSO\evil\x07user"), "{text}");
}

#[test]
fn every_handle_fixture_is_detected_as_handle_output() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/handle");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(Format::detect(&bytes), Some(Format::Handle), "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 20, "{seen} fixtures");
}

#[test]
fn parse_bytes_turns_error_output_into_an_error_not_an_empty_success() {
    let bytes =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/handle/err_access_denied.txt"))
            .unwrap();
    let ctx = FileContext { path: "err_access_denied.txt".into(), ..FileContext::default() };
    let parsed = parse_bytes(&bytes, None, &ctx);
    assert!(parsed.handle_snapshots.is_empty());
    let errors: Vec<_> =
        parsed.diagnostics.iter().filter(|d| d.severity == poolscope::model::Severity::Error).collect();
    assert_eq!(errors.len(), 2, "{:?}", parsed.diagnostics);
    assert_eq!(errors[0].line, Some(5));
}

#[test]
fn by_account_over_summaries_only_says_why_nothing_matches() {
    let out = poolscope()
        .args(["handles", "fixtures/handle/v4.22_summary_s.txt", "--by", "account", "--time", "2020-05-22 10:00"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("need handle listings"), "{out:?}");
}

#[test]
fn summary_with_an_echoed_p_filter_answers_for_that_process() {
    let v: Value = serde_json::from_str(&stdout_of(&[
        "handles",
        "fixtures/handle/v5.0_summary_s_p_echoed_command.txt",
        "--process",
        "lsass.exe",
        "--type",
        "Token",
        "--time",
        "2020-05-22 10:00",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(v["snapshots"][0]["process_filter"], "lsass.exe");
    assert_eq!(
        (v["groups"][0]["process"].as_str(), v["groups"][0]["count"].as_u64()),
        (Some("lsass.exe"), Some(41230))
    );
}

/// `--tz` takes a Windows zone ID (`tzutil /g`) or a UTC offset as well as an IANA name: the same local
/// times come out at the same instants.
#[test]
fn tz_accepts_windows_zone_ids_and_offsets() {
    let json = |tz: &str| -> Value {
        let text = stdout_of(&["handles", LOOP_DUMPS, "--by", "account", "--tz", tz, "--format", "json"]);
        let v: Value = serde_json::from_str(&text).unwrap();
        v["snapshots"].clone()
    };
    let iana = json("Europe/Berlin");
    assert_eq!(json("W. Europe Standard Time"), iana);
    // The fixture's times are in May (CEST, UTC+2).
    assert_eq!(json("+02:00"), iana);
    assert_eq!(json("UTC+2"), iana);
    assert_ne!(json("Pacific Standard Time"), iana);
    let out =
        poolscope().args(["handles", LOOP_DUMPS, "--tz", "Mars Standard Time"]).assert().code(2).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Mars Standard Time") && stderr.contains("W. Europe Standard Time"), "{stderr}");
}
