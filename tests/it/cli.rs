//! The command line as a user meets it: help, version, exit codes.

use assert_cmd::Command;

fn poolscope() -> Command {
    Command::cargo_bin("poolscope").expect("binary built")
}

#[test]
fn help_lists_every_subcommand() {
    let out = poolscope().arg("--help").assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    for cmd in ["parse", "diff", "handles", "events", "tags", "analyze", "report", "simulate"] {
        assert!(text.contains(cmd), "--help misses {cmd}:\n{text}");
    }
}

#[test]
fn usage_error_exits_2() {
    poolscope().arg("no-such-command").assert().code(2);
}

#[test]
fn missing_input_exits_2_and_names_the_file() {
    let assert = poolscope().args(["parse", "does/not/exist.log"]).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("does/not/exist.log"), "{stderr}");
}
