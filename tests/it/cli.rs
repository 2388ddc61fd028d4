//! The command line as a user meets it: help, version, exit codes.

use assert_cmd::Command;

fn poolscope() -> Command {
    Command::cargo_bin("poolscope").expect("binary built")
}

#[test]
fn help_lists_every_subcommand() {
    let out = poolscope().arg("--help").assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    for cmd in ["parse", "diff", "handles", "events", "tags", "analyze", "report", "export", "simulate"] {
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

/// Files of formats every ticket carries but poolscope does not read are named, with their conversion, never
/// "not a recognised format"; the rest of the folder is still read.
#[test]
fn known_unread_formats_are_named_with_their_conversion() {
    let dir = tempfile::tempdir().unwrap();
    let mut evt = vec![0x30, 0, 0, 0];
    evt.extend_from_slice(b"LfLe");
    evt.resize(0x30, 0);
    let files: [(&str, &[u8], &str); 8] = [
        ("SysEvent.Evt", &evt, "wevtutil epl"),
        ("old_log.bin", &evt, "XP/2003"),
        ("MEMORY.DMP", b"PAGEDU64\x0f\x00\x00\x00", "!poolused"),
        ("x86_kernel.bin", b"PAGEDUMP\x0f\x00\x00\x00", "!vm"),
        ("mini.bin", b"MDMP\x93\xa7\x00\x00", "!poolused 2"),
        ("case.zip.1", b"PK\x03\x04\x14\x00 poolmon Tag  Type", "name it .zip"),
        ("DataCollector01.blg", b"\x00\x10\x20\x30", "relog"),
        ("pool.etl", b"\x00\x10\x20\x30", "WPA"),
    ];
    for (name, bytes, _) in &files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    std::fs::copy("fixtures/incidents/lsass-token-leak/System.evtx", dir.path().join("System.evtx")).unwrap();
    let out = poolscope().args(["analyze", "--format", "json", "-q"]).arg(dir.path()).output().unwrap();
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the System log is still analysed");
    let diagnostics = a["diagnostics"].as_array().unwrap();
    for (name, _, words) in files {
        let d = diagnostics
            .iter()
            .find(|d| d["path"].as_str().is_some_and(|p| p.ends_with(name)))
            .unwrap_or_else(|| panic!("no diagnostic for {name}"));
        let message = d["message"].as_str().unwrap();
        assert!(message.contains(words) && !message.contains("not a recognised"), "{name}: {message}");
        assert!(message.starts_with(name), "one warning per file, naming it: {message}");
        assert_eq!(d["severity"], "warning", "{name}");
        assert_eq!(diagnostics.iter().filter(|d| d["path"].as_str().is_some_and(|p| p.ends_with(name))).count(), 1);
    }
}

#[test]
fn parse_table_format_shows_the_chosen_records_fitted_to_the_terminal() {
    let demo = "fixtures/incidents/lsass-token-leak";
    let run = |args: &[&str]| {
        let out = poolscope().env("COLUMNS", "80").args(args).assert().success().get_output().stdout.clone();
        String::from_utf8(out).unwrap()
    };
    let summary = run(&["parse", "-q", demo]);
    assert!(summary.contains("poolmon snapshots:"), "{summary}");
    for (table, header, expect) in
        [("handles", "handle_type", "Token"), ("events", "provider", "  2004  "), ("pool", "tag", "Toke")]
    {
        let text = run(&["parse", "-q", "--table", table, demo]);
        assert_ne!(text, summary, "--table {table} is ignored");
        assert!(text.starts_with("host SRV-APP01\n"), "{table}: {}", &text[..200.min(text.len())]);
        assert!(text.lines().nth(1).is_some_and(|l| l.contains(header)), "{table}: {}", &text[..300.min(text.len())]);
        assert!(text.contains(expect), "{table}");
        let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(widest <= 80, "--table {table}: a line of {widest} columns");
    }
    // --wide gives every column, whatever COLUMNS says.
    let wide = run(&["--wide", "parse", "-q", "--table", "handles", demo]);
    assert!(wide.lines().nth(1).is_some_and(|l| l.contains("source_path")), "{}", &wide[..300]);
}

/// Every command's text output on the demo fits an 80-column terminal, and `--wide` lifts the limit.
#[test]
fn every_text_command_fits_the_terminal_width() {
    let demo = "fixtures/incidents/lsass-token-leak";
    let run = |args: &[&str]| {
        let out = poolscope().env("COLUMNS", "80").args(args).assert().success().get_output().stdout.clone();
        String::from_utf8(out).unwrap()
    };
    let commands: [&[&str]; 6] = [
        &["analyze", "-q", demo],
        &["events", "-q", demo],
        &["handles", "-q", demo],
        &["handles", "-q", "--by", "account", "--type", "token", demo],
        &["tags", "-q", "Toke", "MmSt"],
        &["diff", "-q", "fixtures/incidents/lsass-token-leak/poolmon.log"],
    ];
    for args in commands {
        let text = run(args);
        assert!(text.lines().count() > 3, "{args:?} printed almost nothing:\n{text}");
        let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(widest <= 80, "{args:?}: a line of {widest} columns:\n{text}");
    }
    let wide = run(&["--wide", "events", "-q", demo]);
    assert!(wide.lines().any(|l| l.contains('#') && l.contains("record")), "--wide keeps every column:\n{wide}");
}

/// `poolscope man -o DIR` writes one roff page per subcommand, each with its own name and options.
#[test]
fn man_writes_one_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    poolscope().arg("man").arg("-o").arg(&out).assert().success();
    for cmd in
        ["parse", "diff", "handles", "events", "tags", "analyze", "report", "export", "simulate", "man", "completions"]
    {
        let page = std::fs::read_to_string(out.join(format!("poolscope-{cmd}.1"))).unwrap();
        assert!(page.contains(&format!(".TH poolscope-{cmd} 1")), "{cmd}: {page}");
        assert!(page.contains(".SH NAME") && page.contains(".SH SYNOPSIS"), "{cmd}");
    }
    let top = std::fs::read_to_string(out.join("poolscope.1")).unwrap();
    assert!(top.contains(".TH poolscope 1") && top.contains("\\-\\-color"), "{top}");
    assert!(!out.join("poolscope-help.1").exists());
}

/// Without `-o` the page goes to stdout (`poolscope man analyze | man -l -`); an unknown command names the
/// known ones.
#[test]
fn man_prints_one_page_and_names_commands_it_does_not_know() {
    let out = poolscope().args(["man", "analyze"]).assert().success().get_output().stdout.clone();
    let page = String::from_utf8(out).unwrap();
    assert!(page.contains(".TH poolscope-analyze 1") && page.contains("\\-\\-limit\\-paged"), "{page}");
    let err = poolscope().args(["man", "nope"]).assert().code(2).get_output().stderr.clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("nope") && err.contains("analyze"), "{err}");
}

/// Every shell's completion script names the subcommands and a few options; the bash one is valid bash.
#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = poolscope().args(["completions", shell]).assert().success().get_output().stdout.clone();
        let script = String::from_utf8(out).unwrap();
        for word in ["analyze", "report", "simulate", "limit-paged", "color"] {
            assert!(script.contains(word), "{shell} completions miss {word}");
        }
    }
    let out = poolscope().args(["completions", "bash"]).assert().success().get_output().stdout.clone();
    if let Ok(mut bash) = std::process::Command::new("bash").arg("-n").stdin(std::process::Stdio::piped()).spawn() {
        use std::io::Write;
        bash.stdin.take().unwrap().write_all(&out).unwrap();
        assert!(bash.wait().unwrap().success(), "bash -n rejects the completion script");
    }
    poolscope().args(["completions", "tcsh"]).assert().code(2);
}
