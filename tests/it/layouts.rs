//! The bundled demo laid out the ways users keep archives (not only the way the simulator writes them): the
//! host of every file, the top suspect and the attribution in the verdict must not depend on the layout, nor on
//! the files' modification times.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use assert_cmd::Command;
use serde_json::Value;

const DEMO: &str = "fixtures/incidents/lsass-token-leak";

fn poolscope() -> Command {
    Command::cargo_bin("poolscope").expect("binary built")
}

/// A simulated archive's files (one host, flat) by kind.
fn files_of(dir: &Path) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let kind = if name.starts_with("handle") {
            "handles"
        } else if name.starts_with("poolmon") {
            "poolmon"
        } else if name.starts_with("System") {
            "events"
        } else {
            continue;
        };
        out.push((name, kind));
    }
    out.sort();
    out
}

/// How the files' modification times look after the copy.
#[derive(Clone, Copy, Debug)]
enum Mtimes {
    /// Every file at one instant (an archive tool that stamps everything alike).
    Frozen,
    /// A millisecond apart, in name order (cp, unzip, a git checkout).
    CopiedMsApart,
}

fn copy(from: &Path, to: &Path, mtimes: Mtimes, index: usize) {
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    fs::copy(from, to).unwrap();
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let at = match mtimes {
        Mtimes::Frozen => base,
        Mtimes::CopiedMsApart => base + Duration::from_millis(index as u64),
    };
    fs::File::options().write(true).open(to).unwrap().set_modified(at).unwrap();
}

/// Lays the demo out under `root` by `place(file name, kind) -> relative path` (`None`: left out).
fn lay_out(root: &Path, mtimes: Mtimes, place: impl Fn(&str, &str) -> Option<PathBuf>) {
    lay_out_from(Path::new(DEMO), root, mtimes, place);
}

/// Lays the files of archive `from` out under `root` by `place`.
fn lay_out_from(from: &Path, root: &Path, mtimes: Mtimes, place: impl Fn(&str, &str) -> Option<PathBuf>) {
    for (i, (name, kind)) in files_of(from).iter().enumerate() {
        if let Some(rel) = place(name, kind) {
            copy(&from.join(name), &root.join(rel), mtimes, i);
        }
    }
}

fn analyze(dir: &Path) -> Value {
    let out = poolscope().arg("analyze").arg(dir).args(["--format", "json", "-q"]).output().unwrap();
    assert!(out.status.success() || out.status.code() == Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The hosts analysed, sorted.
fn hosts(a: &Value) -> Vec<String> {
    let mut h: Vec<String> =
        a["boots"].as_array().unwrap().iter().map(|b| b["host"].as_str().unwrap().to_owned()).collect();
    h.sort();
    h.dedup();
    h
}

/// The verdict of `host`: the boot that died, Toke first, lsass.exe, Token and the account with shares.
fn assert_seed_conclusion(a: &Value, host: &str, with_dumps: bool) {
    let verdict = a["verdicts"].as_array().unwrap().iter().find(|v| v["host"] == host).expect("a verdict");
    assert_eq!(verdict["boot"], 0, "the boot that died is the subject: {verdict}");
    let text = verdict["text"].as_str().unwrap();
    let top = a["suspects"].as_array().unwrap().iter().find(|s| s["host"] == host && s["boot"] == 0 && s["rank"] == 1);
    assert_eq!(top.expect("a top suspect")["tag"], "Toke", "{text}");
    if with_dumps {
        assert!(text.contains("lsass.exe (pid 528) holds 99.5% of the Token handle growth"), "{text}");
        assert!(text.contains("of those are tokens of CONTOSO\\svc-scan"), "{text}");
    }
    assert!(text.contains("observed: event 2004"), "{text}");
}

/// Host diagnostics: one per host, none per file.
fn host_lines(a: &Value) -> Vec<String> {
    a["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["message"].as_str())
        .filter(|m| m.starts_with("host ") || m.contains("names its host") || m.contains("name no host"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_layout_gives_one_host_and_the_seed_conclusion() {
    let layouts: Vec<(&str, Box<dyn Fn(&str, &str) -> Option<PathBuf>>)> = vec![
        ("flat", Box::new(|name, _| Some(PathBuf::from(name)))),
        ("HOST/KIND", Box::new(|name, kind| Some(PathBuf::from("SRV-APP01").join(kind).join(name)))),
        (
            "KIND/HOST_*",
            Box::new(|name, kind| {
                let kind = match kind {
                    "handles" => "handle",
                    "events" => "evtx",
                    k => k,
                };
                Some(PathBuf::from(kind).join(format!("SRV-APP01_{name}")))
            }),
        ),
        (
            "tool folders, host only in the events",
            Box::new(|name, kind| Some(PathBuf::from("x").join(kind).join(name))),
        ),
        (
            "ROOT/HOST/KIND with a date folder",
            Box::new(|name, kind| Some(PathBuf::from("case-4711/SRV-APP01/2020-05-23").join(kind).join(name))),
        ),
    ];
    for mtimes in [Mtimes::Frozen, Mtimes::CopiedMsApart] {
        for (label, place) in &layouts {
            let dir = tempfile::tempdir().unwrap();
            lay_out(dir.path(), mtimes, place);
            let a = analyze(dir.path());
            assert_eq!(hosts(&a), ["SRV-APP01"], "{label} ({mtimes:?}): {:?}", host_lines(&a));
            assert_seed_conclusion(&a, "SRV-APP01", true);
            let lines = host_lines(&a);
            assert_eq!(lines.len(), 1, "{label}: one host diagnostic, not one per file: {lines:?}");
            assert!(lines[0].starts_with("host SRV-APP01: 106 input files") || lines[0].contains("107 input files"));
        }
    }
}

/// The other single-host scenarios in two layouts the simulator does not write (one with frozen mtimes, one
/// with copy mtimes a millisecond apart): one host,
/// the leaks of the ground truth alone as suspects, and no handle type unrelated to the suspect in a verdict.
#[test]
fn every_scenario_in_other_layouts_gives_one_host_and_its_leaks() {
    for scenario in ["nonpaged-leak", "cache-plateau", "healthy"] {
        let sim = tempfile::tempdir().unwrap();
        poolscope()
            .args(["simulate", scenario, "--hours", "30", "--tags", "80", "--force", "-q", "-o"])
            .arg(sim.path())
            .assert()
            .success();
        let truth: Value = serde_json::from_slice(&fs::read(sim.path().join("truth.json")).unwrap()).unwrap();
        let host = truth["hosts"][0]["host"].as_str().unwrap().to_owned();
        let mut leaks: Vec<String> = truth["hosts"][0]["leaks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["tag"].as_str().unwrap().to_owned())
            .collect();
        leaks.sort();
        let layouts: [(&str, Box<dyn Fn(&str, &str) -> Option<PathBuf>>); 2] = [
            ("KIND/HOST_*", Box::new(|name, kind| Some(PathBuf::from(kind).join(format!("{host}_{name}"))))),
            ("tool folders", Box::new(|name, kind| Some(PathBuf::from("collect").join(kind).join(name)))),
        ];
        for (mtimes, (label, place)) in [Mtimes::Frozen, Mtimes::CopiedMsApart].into_iter().zip(&layouts) {
            let dir = tempfile::tempdir().unwrap();
            lay_out_from(sim.path(), dir.path(), mtimes, place);
            let a = analyze(dir.path());
            assert_eq!(hosts(&a), std::slice::from_ref(&host), "{scenario} {label}: {:?}", host_lines(&a));
            let mut found: Vec<String> =
                a["suspects"].as_array().unwrap().iter().map(|s| s["tag"].as_str().unwrap().to_owned()).collect();
            found.sort();
            found.dedup();
            assert_eq!(found, leaks, "{scenario} {label}");
            for v in a["verdicts"].as_array().unwrap() {
                let text = v["text"].as_str().unwrap();
                assert!(!text.contains("grow in step"), "{text}");
                assert!(!text.contains("handles rise with") || text.contains("Token handles rise with Toke"), "{text}");
            }
        }
    }
}

/// Tool folders whose names could pass for hosts (`h`, `pm`, `logs2`) under the host folder are folders per
/// tool: their files stay with the host, whether a kind folder beside them (`pool/`) already made the host folder
/// a host or only the names say so. Two weak names under a folder nobody's files sit in stay two hosts.
#[test]
fn short_tool_folders_under_a_host_folder_stay_with_the_host() {
    let layouts: [(&str, fn(&str) -> &'static str); 2] = [
        ("case 4711/SRV-APP01/{pool,logs,h}", |kind| match kind {
            "handles" => "case 4711/SRV-APP01/h",
            "events" => "case 4711/SRV-APP01/logs",
            _ => "case 4711/SRV-APP01/pool",
        }),
        ("SRV-APP01/{pm,logs2,h}", |kind| match kind {
            "handles" => "SRV-APP01/h",
            "events" => "SRV-APP01/logs2",
            _ => "SRV-APP01/pm",
        }),
    ];
    for (label, folder) in layouts {
        let dir = tempfile::tempdir().unwrap();
        lay_out(dir.path(), Mtimes::CopiedMsApart, |name, kind| Some(PathBuf::from(folder(kind)).join(name)));
        let a = analyze(dir.path());
        assert_eq!(hosts(&a), ["SRV-APP01"], "{label}: {:?}", host_lines(&a));
        assert_seed_conclusion(&a, "SRV-APP01", true);
    }
    // Hosts with plain names under a site folder: each its own host (no events, which would name SRV-APP01).
    let dir = tempfile::tempdir().unwrap();
    for host in ["webserver", "mailhost"] {
        lay_out(dir.path(), Mtimes::Frozen, |name, kind| {
            (kind != "events").then(|| PathBuf::from("SITE1").join(host).join(name))
        });
    }
    let a = analyze(dir.path());
    assert_eq!(hosts(&a), ["mailhost", "webserver"], "{:?}", host_lines(&a));
}

#[test]
fn a_fleet_root_gives_one_host_per_folder_and_records_override_a_wrong_folder() {
    let dir = tempfile::tempdir().unwrap();
    // SRV-APP01 with every kind; WEB02 without event logs (so only its folder names it).
    lay_out(dir.path(), Mtimes::CopiedMsApart, |name, kind| Some(PathBuf::from("SRV-APP01").join(kind).join(name)));
    lay_out(dir.path(), Mtimes::CopiedMsApart, |name, kind| {
        (kind != "events").then(|| PathBuf::from("WEB02").join(kind).join(name))
    });
    let a = analyze(dir.path());
    assert_eq!(hosts(&a), ["SRV-APP01", "WEB02"], "{:?}", host_lines(&a));
    assert_seed_conclusion(&a, "SRV-APP01", true);
    assert_eq!(host_lines(&a).len(), 2, "{:?}", host_lines(&a));

    // A folder named after the wrong machine: the event records win, and one warning says so.
    let wrong = tempfile::tempdir().unwrap();
    lay_out(wrong.path(), Mtimes::Frozen, |name, _| Some(PathBuf::from("WEB99").join(name)));
    let a = analyze(wrong.path());
    assert_eq!(hosts(&a), ["SRV-APP01"]);
    let lines = host_lines(&a);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("folder WEB99 holds event records of SRV-APP01"), "{lines:?}");
}

/// An admin's label for the machine on its folder and file names (`SRV01/handle/SRV01_handle-*.log`) while the
/// event log inside names the computer `SRV-APP01`: one machine, analysed once under its computer name, with the
/// event limit (2004) and the attribution together. The same two names in a flat folder with no folder that
/// confirms the label stay two hosts.
#[test]
fn a_host_folder_with_its_own_label_is_one_machine_with_the_records_name() {
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path(), Mtimes::CopiedMsApart, |name, kind| {
        let (folder, file) = match kind {
            "handles" => ("handle", format!("SRV01_{name}")),
            "events" => ("logs", "sys.evtx".to_owned()),
            _ => ("poolmon", name.to_owned()),
        };
        Some(PathBuf::from("SRV01").join(folder).join(file))
    });
    for walked in [dir.path().to_path_buf(), dir.path().join("SRV01")] {
        let a = analyze(&walked);
        assert_eq!(hosts(&a), ["SRV-APP01"], "{:?}", host_lines(&a));
        assert_seed_conclusion(&a, "SRV-APP01", true);
        let lines = host_lines(&a);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("call it SRV01"), "{lines:?}");
        let projection = a["projections"].as_array().unwrap().iter().find(|p| p["boot"] == 0).unwrap().to_string();
        assert!(projection.contains("2004"), "the event limit is used: {projection}");
    }

    let flat = tempfile::tempdir().unwrap();
    lay_out(flat.path(), Mtimes::Frozen, |name, kind| {
        Some(PathBuf::from(if kind == "handles" { format!("WEB07_{name}") } else { name.to_owned() }))
    });
    let a = analyze(flat.path());
    assert_eq!(hosts(&a), ["SRV-APP01", "WEB07", "unknown"], "{:?}", host_lines(&a));
    assert!(host_lines(&a).iter().any(|l| l.contains("sit beside files of several hosts")), "{:?}", host_lines(&a));
}

#[test]
fn an_fqdn_and_a_short_name_are_one_host() {
    // The folder says srv-app01.contoso.local, the events SRV-APP01.contoso.local: one host, shown short.
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path(), Mtimes::Frozen, |name, kind| {
        let host = if kind == "events" { "SRV-APP01" } else { "srv-app01.contoso.local" };
        Some(PathBuf::from(host).join(name))
    });
    let a = analyze(dir.path());
    assert_eq!(hosts(&a), ["SRV-APP01"], "{:?}", host_lines(&a));
}

#[test]
fn no_host_anywhere_is_unknown_said_once() {
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path(), Mtimes::CopiedMsApart, |name, kind| {
        (kind != "events").then(|| PathBuf::from("collect").join(kind).join(name))
    });
    let a = analyze(dir.path());
    assert_eq!(hosts(&a), ["unknown"]);
    let lines = host_lines(&a);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("no input names its host") && lines[0].contains("--host"), "{lines:?}");
    // Without the event log there is no observed exhaustion, but the attribution stands.
    let verdict = &a["verdicts"][0];
    let text = verdict["text"].as_str().unwrap();
    assert!(text.contains("lsass.exe (pid 528)") && text.contains("CONTOSO\\svc-scan"), "{text}");
    // --host names it.
    let out = poolscope()
        .arg("analyze")
        .arg(dir.path())
        .args(["--format", "json", "-q", "--host", "SRV-APP01"])
        .output()
        .unwrap();
    let named: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hosts(&named), ["SRV-APP01"]);
}

#[test]
fn the_system_log_alone_gives_what_ran_out_and_the_handle_suspect() {
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path(), Mtimes::Frozen, |name, _| (name == "System.evtx").then(|| PathBuf::from(name)));
    let out = poolscope().arg("analyze").arg(dir.path()).args(["--format", "json", "-q"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hosts(&a), ["SRV-APP01"]);
    let boots = a["boots"].as_array().unwrap();
    assert_eq!(boots.len(), 2, "{boots:?}");
    assert_eq!(boots[0]["died"], true);
    let v = &a["verdicts"][0];
    assert_eq!(v["boot"], 0);
    let text = v["text"].as_str().unwrap();
    for words in [
        "no poolmon output",
        "Commit ran out at 2020-05-22 13:44 UTC (event 2004",
        "top paged tags Toke",
        "lsass.exe (pid 528) held 40,293 handles at the 2004, 22x the next process",
        "Srv 2020) 8 times",
        "41 after",
        "handle.exe -a -p lsass.exe",
    ] {
        assert!(text.contains(words), "{words:?} not in {text}");
    }
    assert!(!text.contains("at the dump"), "the 2004 is no dump: {text}");
    // The 2004's suspect is in the attributions, for scripts and the report's table.
    let who = &a["attributions"][0];
    assert_eq!(
        (who["process"].as_str(), who["pid"].as_u64(), who["dumps"].as_u64()),
        (Some("lsass.exe"), Some(528), Some(0))
    );
    assert_eq!(who["handles"][1], 40_293);
    assert!(who["strength"].as_str().unwrap().starts_with("event 2004 at 2020-05-22 13:44 UTC only"), "{who}");
    // Exhaustion on record fires --fail-on leak.
    poolscope().arg("analyze").arg(dir.path()).args(["-q", "--fail-on", "leak"]).assert().code(1);
}

#[test]
fn handle_output_alone_gives_the_attribution() {
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path(), Mtimes::CopiedMsApart, |name, kind| (kind == "handles").then(|| PathBuf::from(name)));
    let a = analyze(dir.path());
    let text = a["verdicts"][0]["text"].as_str().unwrap();
    assert!(text.contains("lsass.exe (pid 528) holds 99.5% of the Token handle growth"), "{text}");
    assert!(text.contains("tokens of CONTOSO\\svc-scan"), "{text}");
    assert_eq!(a["verdicts"][0]["leak_found"], false, "no exhaustion is on record");
}

#[test]
fn an_empty_folder_is_still_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "nothing here\n").unwrap();
    poolscope().arg("analyze").arg(dir.path()).arg("-q").assert().code(2);
}
