//! Untrusted log text never reaches the terminal raw (issue 14): every command's text output and its
//! diagnostics on stderr show terminal escapes, OSC sequences, other control characters and bidi
//! overrides escaped (`\x1b`, `\u{202e}`), and the report's Markdown and HTML carry none of them either.
//!
//! `fixtures/hostile/` holds a poolmon log, a handle.exe dump and an event export whose driver, process,
//! account, file and provider names carry `ESC [2J` (clear screen), OSC 8 (a forged link), OSC 52 (write
//! the clipboard), BEL, SGR colour/hide codes and U+202E / U+2066-2069 (Trojan Source reordering). The
//! names of the HTML-injection test (`report::hostile_log_text_is_shown_as_escaped_text`) are reused in a
//! handle dump written here, so both kinds of hostility meet the same commands.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn poolscope() -> Command {
    let mut cmd = Command::cargo_bin("poolscope").expect("binary built");
    cmd.env_remove("NO_COLOR").args(["--color", "never", "--no-progress"]);
    cmd
}

fn hostile_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile")
}

/// Characters that must never be printed raw: C0 controls except tab and newline, DEL, C1 controls,
/// bidi embeddings, overrides, isolates and marks.
fn raw_hostile(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| {
        (c.is_control() && c != '\t' && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
    })
}

fn assert_clean(what: &str, text: &str) {
    if let Some((at, c)) = raw_hostile(text) {
        let from = text[..at].char_indices().rev().nth(40).map_or(0, |(i, _)| i);
        panic!("{what}: raw {c:?} at byte {at}, after {:?}\n{text}", &text[from..at]);
    }
}

/// Runs a command and checks stdout and stderr; returns both for further checks.
fn run_clean(args: &[&str], extra: &[&Path]) -> (String, String) {
    let out = poolscope().args(args).args(extra).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let what = format!("poolscope {}", args.join(" "));
    assert!(out.status.code().is_some_and(|c| c <= 2), "{what}: {:?}\n{stderr}", out.status);
    assert_clean(&format!("{what} (stdout)"), &stdout);
    assert_clean(&format!("{what} (stderr)"), &stderr);
    (stdout, stderr)
}

#[test]
fn hostile_log_text_is_escaped_in_every_text_output() {
    let dir = hostile_dir();
    let poolmon = dir.join("poolmon-20200522T100000Z.log");
    let handle = dir.join("handle-a-20200522T110000Z.txt");
    let events = dir.join("System-hostile.xml");
    let mut all = String::new();
    for (args, inputs) in [
        (vec!["parse", "--format", "table"], vec![dir.as_path()]),
        (vec!["-v", "parse", "--format", "table"], vec![dir.as_path()]),
        (vec!["analyze", "--format", "text"], vec![dir.as_path()]),
        (vec!["-v", "analyze", "--format", "markdown"], vec![dir.as_path()]),
        (vec!["handles"], vec![handle.as_path()]),
        (vec!["handles", "--by", "account"], vec![handle.as_path()]),
        (vec!["handles", "--by", "process"], vec![handle.as_path()]),
        (vec!["events"], vec![events.as_path()]),
        (vec!["-v", "events", "--format", "markdown"], vec![events.as_path()]),
        (vec!["diff"], vec![poolmon.as_path(), poolmon.as_path()]),
        (vec!["tags", "Toke", "Ev\u{7}l"], vec![]),
    ] {
        let (stdout, stderr) = run_clean(&args, &inputs);
        all.push_str(&stdout);
        all.push_str(&stderr);
    }
    // The text is still there, shown escaped, so the reader sees what the log carried.
    for shown in [r"\x1b[2J", r"\u{202e}", r"\x07", r"\x1b]8;;"] {
        assert!(all.contains(shown), "no {shown} in any output:\n{all}");
    }
}

#[test]
fn hostile_names_of_the_html_test_and_escapes_are_escaped_in_the_report_files_too() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("archive");
    std::fs::create_dir_all(&input).unwrap();
    for entry in std::fs::read_dir(hostile_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, input.join(path.file_name().unwrap())).unwrap();
    }
    // The names `report::hostile_log_text_is_shown_as_escaped_text` uses, in a handle dump of their own.
    let dump = format!(
        "{}\r\n<script>alert(1)</script> pid: 77 \"><img src=x onerror=alert(1)>\r\n   10: Token         \"><img src=x onerror=alert(1)>:3e7\r\n",
        "-".repeat(78)
    );
    std::fs::write(input.join("handle-a-20200522T113000Z.txt"), dump).unwrap();
    let out = tmp.path().join("report");
    let (_, stderr) = run_clean(&["report", "-o"], &[out.as_path(), input.as_path()]);
    for name in ["summary.md", "index.html"] {
        let Ok(text) = std::fs::read_to_string(out.join(name)) else { panic!("no {name}: {stderr}") };
        assert_clean(name, &text);
        assert!(!text.contains("<script>alert") && !text.contains("<img src=x"), "{name} carries raw markup");
    }
    let json = std::fs::read_to_string(out.join("analysis.json")).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
}

/// JSON is data for scripts, but it is also paged and `cat`-ed: every command's JSON carries hostile log
/// text as `\uXXXX` escapes (serde_json leaves C1 and bidi controls raw), and decodes to the same text.
#[test]
fn hostile_log_text_is_escaped_in_every_json_output_and_decodes_unchanged() {
    let dir = hostile_dir();
    let poolmon = dir.join("poolmon-20200522T100000Z.log");
    let handle = dir.join("handle-a-20200522T110000Z.txt");
    let events = dir.join("System-hostile.xml");
    let mut decoded = String::new();
    for (args, inputs) in [
        (vec!["parse", "--format", "json"], vec![dir.as_path()]),
        (vec!["analyze", "--format", "json"], vec![dir.as_path()]),
        (vec!["handles", "--format", "json"], vec![handle.as_path()]),
        (vec!["events", "--format", "json"], vec![events.as_path()]),
        (vec!["diff", "--format", "json"], vec![poolmon.as_path(), poolmon.as_path()]),
        (vec!["tags", "--format", "json", "Toke", "Ev\u{7}l"], vec![]),
    ] {
        let (stdout, _) = run_clean(&args, &inputs);
        let value: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON: {e}\n{stdout}"));
        push_strings(&value, &mut decoded);
    }
    // The hostile characters are still in the data, for the scripts that read it.
    for raw in ["\u{202e}", "\u{1b}[2J"] {
        assert!(decoded.contains(raw), "{raw:?} is not in the decoded JSON");
    }
}

/// Every string of a JSON value (keys and values), decoded.
fn push_strings(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::String(s) => out.push_str(s),
        serde_json::Value::Array(items) => items.iter().for_each(|v| push_strings(v, out)),
        serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push_str(k);
            push_strings(v, out);
        }),
        _ => {}
    }
}
