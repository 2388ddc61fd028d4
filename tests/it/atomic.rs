//! Outputs are atomic and never touch the evidence (issue 14).
//!
//! - A `report` killed at any moment leaves, under each final name, the previous complete file or none:
//!   reports are deterministic, so every file present after a kill must be byte-identical to the file a
//!   complete run writes (only hidden `.NAME.tmp-PID-N` files may be left, and the next run removes them).
//! - Every command over a read-only copy of the demo leaves its files' contents and mtimes as they were and
//!   creates nothing inside the input folders; `-o` at or inside an input is refused with exit 2.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

const DEMO: &str = "fixtures/incidents/lsass-token-leak";

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("poolscope")
}

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO)
}

/// Every file under `root` (relative path → bytes), temporary files of the output module left out.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in walk(root) {
        let rel = entry.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        if !is_temp(&entry) {
            out.insert(rel, std::fs::read(&entry).unwrap());
        }
    }
    out
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else { return out };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn is_temp(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        let n = n.to_string_lossy();
        n.starts_with('.') && n.contains(".tmp-")
    })
}

fn report_cmd(out: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(["-q", "--no-progress", "report"]).arg(demo()).arg("-o").arg(out);
    cmd
}

#[test]
fn a_report_killed_at_any_moment_leaves_whole_files_only() {
    let tmp = tempfile::tempdir().unwrap();
    let complete = tmp.path().join("complete");
    let status = report_cmd(&complete).status().unwrap();
    assert!(status.success());
    let expected = files(&complete);
    for name in ["index.html", "summary.md", "analysis.json", "data/pool_samples.csv"] {
        assert!(expected.contains_key(name), "a complete report has {name}");
    }
    let started = std::time::Instant::now();
    let mut cut_short = 0;
    // Fresh folders (no previous report) and one folder rewritten again and again (the previous report is
    // complete each time), killed after a range of delays that covers reading, charts and writing.
    let rewritten = tmp.path().join("rewritten");
    std::fs::create_dir_all(&rewritten).unwrap();
    for (i, delay_ms) in [0u64, 15, 40, 70, 110, 160, 220, 300, 400, 520, 650, 800, 1000].into_iter().enumerate() {
        for out in [tmp.path().join(format!("fresh-{i}")), rewritten.clone()] {
            let mut child = report_cmd(&out).spawn().unwrap();
            std::thread::sleep(Duration::from_millis(delay_ms));
            let finished = child.try_wait().unwrap().is_some();
            let _ = child.kill();
            let _ = child.wait();
            if !finished {
                cut_short += 1;
            }
            for (name, bytes) in files(&out) {
                let Some(want) = expected.get(&name) else { panic!("{name}: not a report file ({delay_ms} ms)") };
                assert!(bytes == *want, "{name} is not the complete file after a kill at {delay_ms} ms");
            }
        }
    }
    assert!(cut_short >= 4, "only {cut_short} runs were killed before they finished");
    // The next run completes the report and clears what the killed runs left.
    assert!(report_cmd(&rewritten).status().unwrap().success());
    assert_eq!(files(&rewritten), expected);
    let leftovers: Vec<_> = walk(&rewritten).into_iter().filter(|p| is_temp(p)).collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    eprintln!("kill test: {cut_short} runs cut short, {:.1} s", started.elapsed().as_secs_f64());
}

fn simulate_cmd(out: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(["-q", "--no-progress", "simulate", "lsass-token-leak", "--seed", "7", "--hours", "12", "--force", "-o"])
        .arg(out);
    cmd
}

#[test]
fn a_simulation_killed_midway_leaves_whole_files_only() {
    let tmp = tempfile::tempdir().unwrap();
    let complete = tmp.path().join("complete");
    assert!(simulate_cmd(&complete).status().unwrap().success());
    let expected = files(&complete);
    assert!(expected.contains_key("truth.json") && expected.contains_key("poolmon.log"), "{:?}", expected.keys());
    let mut cut_short = 0;
    for (i, delay_ms) in [0u64, 50, 150, 300, 600, 1000].into_iter().enumerate() {
        let out = tmp.path().join(format!("killed-{i}"));
        let mut child = simulate_cmd(&out).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            cut_short += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        for (name, bytes) in files(&out) {
            let Some(want) = expected.get(&name) else { panic!("{name}: not an archive file ({delay_ms} ms)") };
            assert!(bytes == *want, "{name} is not the complete file after a kill at {delay_ms} ms");
        }
    }
    assert!(cut_short >= 2, "only {cut_short} runs were killed before they finished");
}

/// Contents, mtimes and the list of every file and folder under `root`.
fn snapshot(root: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let meta = std::fs::metadata(&dir).unwrap();
        out.insert(format!("{}/", dir.strip_prefix(root).unwrap().display()), (Vec::new(), meta.modified().unwrap()));
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let meta = std::fs::metadata(&path).unwrap();
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, (std::fs::read(&path).unwrap(), meta.modified().unwrap()));
            }
        }
    }
    out
}

fn set_read_only(root: &Path, read_only: bool) {
    use std::os::unix::fs::PermissionsExt;
    for path in walk(root) {
        let mode = if read_only { 0o444 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let mode = if read_only { 0o555 } else { 0o755 };
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn every_command_leaves_a_read_only_copy_of_the_demo_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");
    std::fs::create_dir_all(&archive).unwrap();
    for path in walk(&demo()) {
        std::fs::copy(&path, archive.join(path.file_name().unwrap())).unwrap();
    }
    // A pooltag.txt beside the evidence, as `tags --pooltag` and `analyze --pooltag` read it.
    let pooltag = tmp.path().join("pooltag");
    std::fs::create_dir_all(&pooltag).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pooltag/quirks.txt"),
        pooltag.join("pooltag.txt"),
    )
    .unwrap();
    set_read_only(&archive, true);
    set_read_only(&pooltag, true);
    let before = (snapshot(&archive), snapshot(&pooltag));
    let out = tmp.path().join("out");
    let a = archive.display().to_string();
    let log = archive.join("poolmon.log").display().to_string();
    let evtx = archive.join("System.evtx").display().to_string();
    let handle = archive.join("handle-lsass-20200521T081924Z.txt").display().to_string();
    let tags = pooltag.join("pooltag.txt").display().to_string();
    let o = |name: &str| out.join(name).display().to_string();
    let runs: Vec<Vec<String>> = vec![
        vec!["parse".into(), a.clone()],
        vec!["parse".into(), a.clone(), "--format".into(), "json".into(), "-o".into(), o("parse.json")],
        vec!["parse".into(), a.clone(), "--format".into(), "csv".into(), "-o".into(), o("pool.csv")],
        vec!["parse".into(), a.clone(), "--format".into(), "parquet".into(), "-o".into(), o("pool.parquet")],
        vec!["analyze".into(), a.clone(), "--pooltag".into(), tags.clone()],
        vec!["analyze".into(), a.clone(), "--format".into(), "json".into(), "-o".into(), o("analysis.json")],
        vec!["report".into(), a.clone(), "-o".into(), o("report")],
        vec!["handles".into(), a.clone()],
        vec!["handles".into(), handle.clone(), "--by".into(), "account".into(), "-o".into(), o("handles.txt")],
        vec!["events".into(), evtx.clone()],
        vec!["events".into(), a.clone(), "--format".into(), "json".into(), "-o".into(), o("events.json")],
        vec!["diff".into(), format!("{log}@1"), format!("{log}@-1")],
        vec!["diff".into(), format!("{log}@1"), format!("{log}@-1"), "-o".into(), o("diff.txt")],
        vec!["tags".into(), "Toke".into(), "--pooltag".into(), tags.clone()],
    ];
    for args in &runs {
        let result = Command::new(bin()).args(["-q", "--no-progress"]).args(args).output().unwrap();
        let code = result.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "poolscope {}: {code:?}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&result.stderr)
        );
    }
    // Outputs aimed at the evidence are refused (exit 2) before anything is read or written.
    let refused: Vec<Vec<String>> = vec![
        vec!["report".into(), a.clone(), "-o".into(), archive.join("report").display().to_string()],
        vec!["report".into(), a.clone(), "-o".into(), a.clone()],
        vec!["parse".into(), a.clone(), "-o".into(), archive.join("records.json").display().to_string()],
        vec!["parse".into(), log.clone(), "--format".into(), "csv".into(), "-o".into(), log.clone()],
        vec!["analyze".into(), log.clone(), "-o".into(), archive.join("analysis.txt").display().to_string()],
        vec!["handles".into(), handle.clone(), "-o".into(), handle.clone()],
        vec!["events".into(), evtx.clone(), "-o".into(), evtx.clone()],
        vec!["diff".into(), format!("{log}@1"), format!("{log}@-1"), "-o".into(), log.clone()],
    ];
    for args in &refused {
        let result = Command::new(bin()).args(["--no-progress"]).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "poolscope {}: {stderr}", args.join(" "));
        assert!(stderr.contains("refusing to write"), "poolscope {}: {stderr}", args.join(" "));
    }
    let after = (snapshot(&archive), snapshot(&pooltag));
    set_read_only(&archive, false);
    set_read_only(&pooltag, false);
    for (name, (was, now)) in [("archive", (&before.0, &after.0)), ("pooltag", (&before.1, &after.1))] {
        let added: Vec<_> = now.keys().filter(|k| !was.contains_key(*k)).collect();
        assert!(added.is_empty(), "created inside the {name} folder: {added:?}");
        for (path, (bytes, mtime)) in was {
            let (now_bytes, now_mtime) = &now[path];
            assert!(bytes == now_bytes, "{path} changed");
            assert_eq!(mtime, now_mtime, "{path}: mtime changed");
        }
    }
    assert!(out.join("report/index.html").is_file() && out.join("pool.parquet").is_file());
}
