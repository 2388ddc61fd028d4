//! `poolscope tags`: built-in notes, pooltag.txt quirks (fixtures/pooltag/), output formats, errors.

use assert_cmd::Command;

fn poolscope() -> Command {
    let mut cmd = Command::cargo_bin("poolscope").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).env_remove("POOLSCOPE_POOLTAG").env("NO_COLOR", "1");
    cmd
}

fn stdout_of(args: &[&str]) -> String {
    let out = poolscope().args(args).assert().success().get_output().stdout.clone();
    String::from_utf8(out).expect("utf-8 output")
}

const QUIRKS: &str = "fixtures/pooltag/quirks.txt";

#[test]
fn builtin_note_names_the_object_type_without_a_pooltag_file() {
    let text = stdout_of(&["tags", "Toke"]);
    assert!(text.contains("kernel object type: Token"), "{text}");
    assert!(text.contains("built-in  nt!se"), "{text}");
}

#[test]
fn short_tag_is_padded_and_matched_in_pooltag_txt() {
    let text = stdout_of(&["tags", "Key", "--pooltag", QUIRKS]);
    assert!(text.contains("given as \"Key\""), "{text}");
    assert!(text.contains("quirks.txt:10"), "{text}");
    assert!(text.contains("Registry key objects"), "{text}");
}

#[test]
fn wildcard_entries_show_the_pattern_that_matched() {
    let text = stdout_of(&["tags", "AfdE", "CM31", "Acpx", "Burn", "--pooltag", QUIRKS]);
    assert!(text.contains("wildcard entry \"Afd?\""), "{text}");
    assert!(text.contains("wildcard entry \"CM??\""), "{text}");
    assert!(text.contains("wildcard entry \"Acp*\""), "{text}");
    assert!(text.contains("wildcard entry \"Bu* \""), "{text}");
    assert!(text.contains("registry hive storage (no space after the dash)"), "{text}");
}

#[test]
fn duplicate_tags_list_every_description_in_file_order() {
    let text = stdout_of(&["tags", "Fatv", "--pooltag", QUIRKS]);
    let first = text.find("FAT events").expect("first entry");
    let second = text.find("FAT spare volume").expect("second entry");
    assert!(first < second, "{text}");
}

#[test]
fn stray_line_is_reported_once_on_stderr_and_listed_with_verbose() {
    let out = poolscope().args(["tags", "Toke", "--pooltag", QUIRKS]).assert().success().get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 line is not a pooltag entry"), "{stderr}");
    let out = poolscope().args(["-v", "tags", "Toke", "--pooltag", QUIRKS]).assert().success().get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("quirks.txt:25: warning: line ignored"), "{stderr}");
}

#[test]
fn utf16_copy_gives_the_same_answers() {
    let ansi = stdout_of(&["tags", "Toke", "Dh 1", "PX1", "--pooltag", QUIRKS, "--format", "json"]);
    let utf16 = stdout_of(&[
        "tags",
        "Toke",
        "Dh 1",
        "PX1",
        "--pooltag",
        "fixtures/pooltag/quirks_utf16le_bom.txt",
        "--format",
        "json",
    ]);
    assert_eq!(ansi.replace("quirks.txt", "X"), utf16.replace("quirks_utf16le_bom.txt", "X"));
}

#[test]
fn unknown_tag_suggests_case_and_findstr() {
    let text = stdout_of(&["tags", "CALL", "--pooltag", QUIRKS]);
    assert!(text.contains("did you mean \"Call\" or \"call\""), "{text}");
    assert!(text.contains("findstr /m /l /s \"CALL\""), "{text}");
}

#[test]
fn pooltag_from_the_environment() {
    let mut cmd = poolscope();
    cmd.env("POOLSCOPE_POOLTAG", QUIRKS).args(["tags", "RpcL"]);
    let text = String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap();
    assert!(text.contains("debug log data - checked builds only"), "{text}");
}

#[test]
fn json_output_snapshot() {
    let json = stdout_of(&["tags", "Toke", "Key", "AfdE", "Zzzz", "--pooltag", QUIRKS, "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(value["schema_version"], 1);
    insta::assert_snapshot!("tags_json_quirks", json);
}

#[test]
fn text_output_snapshot() {
    let text = stdout_of(&["tags", "Toke", "Key", "AfdE", "Zzzz", "--pooltag", QUIRKS]);
    insta::assert_snapshot!("tags_text_quirks", text);
}

#[test]
fn markdown_output_snapshot() {
    let md = stdout_of(&["tags", "Toke", "Key", "AfdE", "Zzzz", "--pooltag", QUIRKS, "--format", "markdown"]);
    insta::assert_snapshot!("tags_markdown_quirks", md);
}

#[test]
fn file_without_entries_exits_2() {
    let out = poolscope()
        .args(["tags", "Toke", "--pooltag", "fixtures/pooltag/err_no_entries.txt"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no pooltag entries found"), "{stderr}");
}

#[test]
fn missing_pooltag_file_exits_2_and_names_it() {
    let out =
        poolscope().args(["tags", "Toke", "--pooltag", "no/such/pooltag.txt"]).assert().code(2).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no/such/pooltag.txt"), "{stderr}");
}

#[test]
fn tag_longer_than_four_characters_is_refused() {
    let out = poolscope().args(["tags", "Tokens"]).assert().code(2).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tags are 1 to 4 characters"), "{stderr}");
}

#[test]
fn quirks_fixture_parses_17_entries_with_one_warning() {
    use poolscope::model::Severity;
    for name in ["quirks.txt", "quirks_utf16le_bom.txt"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pooltag").join(name);
        let (file, diagnostics) = poolscope::parse::pooltag::load(&path).expect("readable fixture");
        assert_eq!(file.entries.len(), 17, "{name}");
        let warnings: Vec<_> = diagnostics.iter().filter(|d| d.severity == Severity::Warning).collect();
        assert_eq!(warnings.len(), 1, "{name}: {diagnostics:?}");
        assert_eq!(warnings[0].line, Some(25), "{name}: the stray `<unknown>` line");
        assert_eq!(diagnostics.len(), 2, "{name}: plus one note on the duplicate tag: {diagnostics:?}");
    }
}
