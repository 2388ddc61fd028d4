//! The five-line verdict of every scenario, snapshot-tested, and one unit system in every rendered output.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const DEMO: &str = "fixtures/incidents/lsass-token-leak";

fn poolscope() -> Command {
    Command::cargo_bin("poolscope").expect("binary built")
}

fn stdout(args: &[&str], path: &Path) -> String {
    let out = poolscope().args(args).arg(path).assert().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

/// A scenario written by the simulator into a temporary folder (fixed seed: the simulator is deterministic).
fn simulated(scenario: &str, extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    poolscope()
        .args(["simulate", scenario, "--hours", "30", "--tags", "60", "--seed", "7", "--force", "-q"])
        .args(extra)
        .arg("-o")
        .arg(dir.path())
        .assert()
        .success();
    dir
}

/// The verdict blocks of an analysis, as a reader sees them: one heading per boot, then the five lines (and the
/// Stacks line when the archive holds a WPA trace).
fn blocks(dir: &Path) -> String {
    let json: Value = serde_json::from_str(&stdout(&["analyze", "--format", "json", "-q"], dir)).unwrap();
    let mut out = String::new();
    for v in json["verdicts"].as_array().unwrap() {
        let flag = if v["leak_found"].as_bool().unwrap() { "leak found" } else { "no significant leak" };
        out.push_str(&format!("{} (boot {}): {flag}\n", v["host"].as_str().unwrap(), v["boot"]));
        let block = &v["block"];
        for (label, key) in [
            ("What leaks", "what"),
            ("How fast", "how_fast"),
            ("When it runs out", "when"),
            ("Who", "who"),
            ("Evidence", "evidence"),
        ] {
            let line = block[key].as_str().unwrap_or("-");
            assert!(line.chars().count() <= 160, "{label} is too long for a ticket line: {line}");
            out.push_str(&format!("  {label:<17} {line}\n"));
        }
        // The sixth line only when the archive holds a WPA trace of the leaking tag.
        if let Some(line) = block["stacks"].as_str() {
            assert!(line.chars().count() <= 160, "Stacks is too long for a ticket line: {line}");
            out.push_str(&format!("  {:<17} {line}\n", "Stacks"));
        }
        // The seventh when the leaking tag is a kernel object allocated for any caller (issue 13).
        if let Some(line) = block["drivers"].as_str() {
            assert!(line.chars().count() <= 200, "Drivers is too long for a ticket line: {line}");
            out.push_str(&format!("  {:<17} {line}\n", "Drivers"));
        }
    }
    out
}

#[test]
fn verdict_of_the_demo() {
    insta::assert_snapshot!("verdict_demo", blocks(Path::new(DEMO)));
}

#[test]
fn verdict_of_each_simulated_scenario() {
    for (scenario, extra) in [
        ("lsass-token-leak", &[][..]),
        ("nonpaged-leak", &[][..]),
        ("cache-plateau", &[][..]),
        ("healthy", &[][..]),
        ("fleet", &["--hosts", "3"][..]),
    ] {
        let dir = simulated(scenario, extra);
        insta::assert_snapshot!(format!("verdict_{scenario}"), blocks(dir.path()));
    }
}

/// Decimal units ("24.3 MB/h", "2.91 GB") that would contradict the binary ones beside them.
fn decimal_units(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    for i in 0..chars.len().saturating_sub(1) {
        // A digit, an optional space, then KB/MB/GB/TB not followed by a letter (so "MiB" and "MBps" differ).
        let unit = |j: usize| {
            chars.get(j).is_some_and(|c| "KMGT".contains(*c))
                && chars.get(j + 1) == Some(&'B')
                && !chars.get(j + 2).is_some_and(char::is_ascii_alphanumeric)
        };
        if chars[i].is_ascii_digit() && (unit(i + 1) || (chars[i + 1] == ' ' && unit(i + 2))) {
            let from = i.saturating_sub(12);
            found.push(chars[from..(i + 6).min(chars.len())].iter().collect());
        }
    }
    found
}

/// Embedded images (base64) are not text a reader sees.
fn without_images(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("base64,") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail.find(['"', '\'', ')']).unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn every_byte_figure_is_binary_in_every_output() {
    // The check finds what it looks for (two decimal figures) and nothing else.
    assert_eq!(decimal_units("24.3 MB/h and 2.91GB, not 2.71 GiB or 5 MBps").len(), 2);
    let sim = simulated("nonpaged-leak", &[]);
    for dir in [Path::new(DEMO), sim.path()] {
        let text = stdout(&["analyze", "-q", "--wide"], dir);
        let md = stdout(&["analyze", "-q", "--format", "markdown"], dir);
        let out = tempfile::tempdir().unwrap();
        poolscope().args(["-q", "report"]).arg(dir).arg("-o").arg(out.path()).assert().success();
        let summary = std::fs::read_to_string(out.path().join("summary.md")).unwrap();
        let html = without_images(&std::fs::read_to_string(out.path().join("index.html")).unwrap());
        let events = stdout(&["events", "-q"], dir);
        for (name, rendered) in [
            ("analyze", &text),
            ("analyze markdown", &md),
            ("summary.md", &summary),
            ("index.html", &html),
            ("events", &events),
        ] {
            // (The events of a log without a 2004 carry no byte figure.)
            let has_bytes = name != "events" || dir == Path::new(DEMO);
            assert!(!has_bytes || rendered.contains("iB"), "{name} of {} shows no byte figure at all", dir.display());
            let decimal = decimal_units(rendered);
            assert!(decimal.is_empty(), "{name} of {}: decimal units {decimal:?}", dir.display());
        }
    }
}
