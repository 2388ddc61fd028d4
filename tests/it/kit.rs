//! `poolscope kit` and what its scripts collect (issue 13): the scripts name the files the kit layout of the
//! simulator writes, and poolscope finds the leak in that layout; perfmon counters name the growing process when
//! there is no handle.exe output, and stand in for poolmon's totals when there is no poolmon either.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use poolscope::analysis::{analyze, Analysis, AnalyzeOptions, Resource};
use poolscope::ingest::{ingest, IngestOptions};
use poolscope::kit::{folder, kit_files, KitOptions};
use poolscope::simulate::{simulate, Layout, ScenarioName, SimOptions};

fn poolscope() -> Command {
    let mut cmd = Command::cargo_bin("poolscope").expect("binary built");
    cmd.env("NO_COLOR", "1");
    cmd
}

/// The seed case over 100 hours in the kit's layout (a hang after ~89 h, then the leak back), coarse.
fn kit_archive() -> tempfile::TempDir {
    let mut opts = SimOptions::new(ScenarioName::LsassTokenLeak, 3);
    opts.tags = Some(25);
    opts.interval_secs = 15 * 60;
    opts.hours = Some(100.0);
    opts.dump_interval_secs = 12 * 3600;
    opts.layout = Layout::Kit;
    let dir = tempfile::tempdir().unwrap();
    simulate(&opts, dir.path()).unwrap();
    dir
}

fn analyse(paths: &[PathBuf]) -> Analysis {
    let dataset = ingest(paths, &IngestOptions::default(), &|_| {});
    analyze(&dataset, &AnalyzeOptions::default())
}

/// Copies the named kind folders of the archive's host into a new archive.
fn only(archive: &Path, kinds: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    for kind in kinds {
        let from = archive.join("SRV-APP01").join(kind);
        let to = out.path().join("SRV-APP01").join(kind);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(&from).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    out
}

#[test]
fn kit_command_writes_every_script_with_the_chosen_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("kit");
    poolscope()
        .args(["kit", "-o"])
        .arg(&out)
        .args(["--root", r"E:\leak", "--interval", "30s", "--process", "svchost.exe", "--process", "LSASS.EXE"])
        .assert()
        .success();
    let mut names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let expected = [
        "README.txt",
        "collect.ps1",
        "handle-loop.ps1",
        "install.ps1",
        "perfmon-start.ps1",
        "poolmon-loop.ps1",
        "uninstall.ps1",
    ];
    assert_eq!(names, expected);
    let handle_loop = std::fs::read_to_string(out.join("handle-loop.ps1")).unwrap();
    // lsass.exe is always dumped, once, and the extra process after it.
    assert!(handle_loop.contains("@('lsass.exe', 'svchost.exe')"), "{handle_loop}");
    let poolmon_loop = std::fs::read_to_string(out.join("poolmon-loop.ps1")).unwrap();
    assert!(poolmon_loop.contains("[string]$Root = 'E:\\leak',") && poolmon_loop.contains("= 30\r\n"));
    // Not into a folder that holds something, unless told.
    poolscope().args(["kit", "-o"]).arg(&out).assert().failure();
    poolscope().args(["kit", "--force", "-o"]).arg(&out).assert().success();
    poolscope().args(["kit", "--process", "a'b.exe", "-o"]).arg(dir.path().join("other")).assert().failure();
}

/// A file name the kit's scripts write, as (folder, name pattern): `*` stands for a stamp or a process name.
fn kit_patterns() -> Vec<(&'static str, &'static str)> {
    vec![
        (folder::POOLMON, "poolmon.log"),
        (folder::HANDLE, "handle-s-*.txt"),
        (folder::HANDLE, "handle-lsass-*.txt"),
        (folder::PERFMON, "counters-*.csv"),
        (folder::EVENTLOG, "System.evtx"),
        (folder::DRIVERS, "driverquery.csv"),
        (folder::DRIVERS, "driverquery-si.csv"),
        (folder::DRIVERS, "fltmc.txt"),
        ("wpa", "wpa-pool-usage.csv"),
    ]
}

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        Some((head, tail)) => name.len() > head.len() + tail.len() && name.starts_with(head) && name.ends_with(tail),
        None => pattern == name,
    }
}

#[test]
fn the_scripts_write_the_names_the_simulated_kit_layout_has() {
    let files = kit_files(&KitOptions::default());
    let script = |name: &str| files.iter().find(|f| f.name == name).unwrap().text.clone();
    // Each pattern (but the WPA export, which the admin saves by hand) is what a script writes.
    assert!(script("poolmon-loop.ps1").contains("'poolmon.log'"));
    assert!(script("poolmon-loop.ps1").contains("-Format o"));
    assert!(script("handle-loop.ps1").contains("'handle-s-{0}.txt'"));
    assert!(script("handle-loop.ps1").contains("'handle-{0}-{1}.txt'"));
    assert!(script("handle-loop.ps1").contains("ToString('yyyyMMddTHHmmssZ')"));
    assert!(script("perfmon-start.ps1").contains("'counters-{0}.csv'"));
    assert!(script("collect.ps1").contains("'System.evtx'"));
    for name in ["'driverquery.csv'", "'driverquery-si.csv'", "'fltmc.txt'"] {
        assert!(script("collect.ps1").contains(name), "collect.ps1 writes no {name}");
    }
    for (kind, _) in kit_patterns().iter().filter(|(k, _)| *k != "wpa") {
        let quoted = format!("'{kind}'");
        assert!(files.iter().any(|f| f.text.contains(&quoted)), "no script writes into {kind}");
    }
    // And every file the simulator writes in the kit layout is one of them.
    let archive = kit_archive();
    let host = archive.path().join("SRV-APP01");
    let mut seen = Vec::new();
    for entry in walkdir::WalkDir::new(&host).into_iter().map(Result::unwrap).filter(|e| e.file_type().is_file()) {
        let rel = entry.path().strip_prefix(&host).unwrap();
        let kind = rel.parent().unwrap().to_string_lossy().into_owned();
        let name = rel.file_name().unwrap().to_string_lossy().into_owned();
        let pattern = kit_patterns().into_iter().find(|(k, p)| *k == kind && matches(p, &name));
        assert!(pattern.is_some(), "{} is not a name the kit writes", rel.display());
        seen.extend(pattern);
    }
    for p in kit_patterns() {
        assert!(seen.contains(&p), "the simulator wrote no {}/{}", p.0, p.1);
    }
}

#[test]
fn a_kit_archive_gives_the_seed_case_answer_with_perfmon_agreeing() {
    let archive = kit_archive();
    let analysis = analyse(&[archive.path().to_path_buf()]);
    let verdict = &analysis.verdicts[0];
    assert_eq!(verdict.host, "SRV-APP01");
    assert!(verdict.leak_found, "{verdict:#?}");
    let top = analysis.suspects.iter().find(|s| s.boot == verdict.boot).expect("a suspect");
    assert_eq!(top.tag, "Toke");
    let who = verdict.block.who.as_deref().unwrap_or_default();
    assert!(who.starts_with("lsass.exe") && who.contains("CONTOSO\\svc-scan"), "{who}");
    // The counters show the same process growing, fastest, in every boot.
    for boot in analysis.boots.iter().map(|b| b.boot) {
        let first = analysis.process_growth.iter().find(|g| g.boot == boot).expect("perfmon growth");
        assert_eq!(first.image(), "lsass.exe");
        assert!(first.handles_per_hour > 200.0, "{first:#?}");
    }
}

#[test]
fn without_handle_exe_output_perfmon_names_the_process_whose_handle_count_grows() {
    let archive = kit_archive();
    let cut = only(archive.path(), &[folder::POOLMON, folder::PERFMON, folder::EVENTLOG]);
    let analysis = analyse(&[cut.path().to_path_buf()]);
    let verdict = &analysis.verdicts[0];
    assert!(verdict.leak_found);
    let who = verdict.block.who.as_deref().unwrap_or_default();
    assert!(who.starts_with("lsass.exe (pid ") && who.contains("Handle Count +") && who.contains("perfmon"), "{who}");
    assert!(verdict.text.contains("handle -a -p lsass.exe"), "{}", verdict.text);
    assert!(analysis.attributions.is_empty());
}

#[test]
fn with_perfmon_alone_pool_and_commit_are_projected_and_the_growing_process_is_named() {
    let archive = kit_archive();
    let cut = only(archive.path(), &[folder::PERFMON]);
    let analysis = analyse(&[cut.path().to_path_buf()]);
    assert!(analysis.suspects.is_empty());
    let verdict = &analysis.verdicts[0];
    let what = verdict.block.what.as_deref().unwrap_or_default();
    assert!(what.starts_with("tag not known: pool totals only"), "{what}");
    for resource in [Resource::Paged, Resource::Commit] {
        let p = analysis
            .projections
            .iter()
            .find(|p| p.boot == verdict.boot && p.pool == resource)
            .unwrap_or_else(|| panic!("no {resource:?} projection: {:#?}", analysis.projections));
        // ~24 MiB/h of Token objects (the seed case's rate), and a date it runs out.
        assert!(p.bytes_per_hour > 20.0 * 1_048_576.0 && p.bytes_per_hour < 30.0 * 1_048_576.0, "{p:#?}");
        assert!(p.exhaustion_at.is_some(), "{p:#?}");
    }
    let commit = analysis.projections.iter().find(|p| p.pool == Resource::Commit).unwrap();
    assert_eq!(commit.limit_source, "perfmon Commit Limit");
    let who = verdict.block.who.as_deref().unwrap_or_default();
    assert!(who.starts_with("lsass.exe (pid "), "{who}");
}

#[test]
fn the_zip_collect_ps1_sends_gives_the_same_answer_as_the_folder() {
    let archive = kit_archive();
    // `collect.ps1 -Zip`: Compress-Archive of <Root>\<COMPUTERNAME>, so the zip holds SRV-APP01\... .
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let host = archive.path().join("SRV-APP01");
    let mut entries: Vec<PathBuf> = walkdir::WalkDir::new(&host)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect();
    entries.sort();
    for path in &entries {
        let name = path.strip_prefix(archive.path()).unwrap().to_string_lossy().replace('\\', "/");
        writer.start_file(name, options).unwrap();
        std::io::Write::write_all(&mut writer, &std::fs::read(path).unwrap()).unwrap();
    }
    let bytes = writer.finish().unwrap().into_inner();
    let out = tempfile::tempdir().unwrap();
    let zip_path = out.path().join("SRV-APP01-20200523T010000Z.zip");
    std::fs::write(&zip_path, bytes).unwrap();
    let from_zip = analyse(&[zip_path]);
    let from_folder = analyse(&[archive.path().to_path_buf()]);
    assert_eq!(from_zip.verdicts.len(), 1);
    assert_eq!(from_zip.verdicts[0].block, from_folder.verdicts[0].block);
    assert_eq!(from_zip.suspects.len(), from_folder.suspects.len());
    assert_eq!(
        from_zip.process_growth,
        from_folder
            .process_growth
            .iter()
            .map(|g| {
                let mut g = g.clone();
                g.source = from_zip
                    .process_growth
                    .iter()
                    .find(|z| z.boot == g.boot && z.process == g.process)
                    .unwrap()
                    .source
                    .clone();
                g
            })
            .collect::<Vec<_>>()
    );
}
