//! The simulator's other collections (issue 13), read end to end: PoolmonViz's pool CSVs stand in for poolmon,
//! and the WinDbg text of the dump taken at the hang gives the projection its limits (`!vm`) without splitting
//! the boot it was taken in.

use std::path::Path;

use poolscope::analysis::{analyze, Analysis, AnalyzeOptions, Resource};
use poolscope::ingest::{ingest, IngestOptions};
use poolscope::simulate::{simulate, ScenarioName, SimOptions, Truth};

fn seed_case(pool_csv: bool, debugger: bool) -> (tempfile::TempDir, Truth) {
    let mut opts = SimOptions::new(ScenarioName::LsassTokenLeak, 5);
    opts.tags = Some(25);
    opts.interval_secs = 15 * 60;
    opts.hours = Some(100.0);
    opts.dump_interval_secs = 12 * 3600;
    opts.extras.pool_csv = pool_csv;
    opts.extras.debugger = debugger;
    let dir = tempfile::tempdir().unwrap();
    let truth = simulate(&opts, dir.path()).unwrap();
    (dir, truth)
}

fn analyse(dir: &Path) -> Analysis {
    let dataset = ingest(&[dir.to_path_buf()], &IngestOptions::default(), &|_| {});
    analyze(&dataset, &AnalyzeOptions::default())
}

#[test]
fn the_dump_at_the_hang_gives_the_vm_limits_and_keeps_the_boots_of_the_truth() {
    let (dir, truth) = seed_case(false, true);
    let dumps: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("memory-dmp-"))
        .collect();
    let hangs = truth.hosts[0].boots.iter().filter(|b| b.hang_at.is_some()).count();
    assert!(hangs >= 1 && dumps.len() == hangs, "{dumps:?} for {hangs} hangs");
    let analysis = analyse(dir.path());
    // The dump's !poolused snapshot (outstanding counts only) is not a counter reset.
    assert_eq!(analysis.boots.len(), truth.hosts[0].boots.len(), "{:#?}", analysis.boots);
    let died = analysis.boots.iter().find(|b| b.died).expect("a boot that died");
    let commit = analysis
        .projections
        .iter()
        .find(|p| p.boot == died.boot && p.pool == Resource::Commit)
        .expect("commit projection");
    assert_eq!(commit.limit_source, "!vm Commit limit");
    assert_eq!(commit.limit_bytes, truth.hosts[0].commit_limit_bytes);
    let paged = analysis.projections.iter().find(|p| p.boot == died.boot && p.pool == Resource::Paged).unwrap();
    // Paged pool's limit is the commit headroom here (commit runs out first), still from and below !vm's figures.
    assert!(paged.limit_source.contains("!vm PagedPoolMaximum"), "{paged:#?}");
    assert!(paged.limit_bytes <= truth.hosts[0].paged_limit_bytes);
    let top = analysis.suspects.iter().find(|s| s.boot == died.boot).expect("a suspect");
    assert_eq!(top.tag, "Toke");
}

#[test]
fn poolmonviz_csvs_alone_name_the_leak_at_the_true_rate() {
    let (dir, truth) = seed_case(true, false);
    std::fs::remove_file(dir.path().join("poolmon.log")).unwrap();
    let days = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".pool.csv"))
        .count();
    assert!(days >= 4, "{days} day files");
    let analysis = analyse(dir.path());
    let verdict = &analysis.verdicts[0];
    assert!(verdict.leak_found, "{verdict:#?}");
    let top = analysis.suspects.iter().find(|s| s.boot == verdict.boot).expect("a suspect");
    assert_eq!(top.tag, "Toke");
    let true_rate = truth.hosts[0].leaks[0].bytes_per_hour;
    assert!((top.bytes_per_hour / true_rate - 1.0).abs() < 0.1, "{} vs {true_rate}", top.bytes_per_hour);
}
