//! perfmon CSV as the only input (issue 13): the pool and commit counters feed the projection of exhaustion.

use std::fmt::Write as _;

use poolscope::analysis::{analyze, AnalyzeOptions, Resource};
use poolscope::ingest::{ingest, IngestOptions};

/// 48 hourly samples, UTC zone: paged pool grows 20 MiB/hour from 200 MiB, commit grows with it, limit 4 GiB.
fn growing_csv() -> String {
    let mut text = String::from(
        "\"(PDH-CSV 4.0) (Coordinated Universal Time)(0)\",\"\\\\LEAKY\\Memory\\Pool Paged Bytes\",\
         \"\\\\LEAKY\\Memory\\Pool Nonpaged Bytes\",\"\\\\LEAKY\\Memory\\Committed Bytes\",\
         \"\\\\LEAKY\\Memory\\Commit Limit\",\"\\\\LEAKY\\Processor(_Total)\\% Processor Time\"\r\n",
    );
    let mib = 1024 * 1024u64;
    for h in 0..48u64 {
        let paged = 200 * mib + h * 20 * mib + (h % 3) * 64 * 1024;
        let commit = 1024 * mib + h * 20 * mib + (h % 2) * 128 * 1024;
        let _ = write!(
            text,
            "\"01/{:02}/2024 {:02}:00:00.000\",\"{paged}\",\"{}\",\"{commit}\",\"{}\",\"5.0\"\r\n",
            1 + h / 24,
            h % 24,
            80 * mib,
            4096 * mib
        );
    }
    text
}

#[test]
fn perfmon_alone_projects_pool_and_commit_exhaustion_with_the_perfmon_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counters.csv");
    std::fs::write(&path, growing_csv()).unwrap();
    let dataset = ingest(&[path], &IngestOptions::default(), &|_| {});
    let host = &dataset.hosts["LEAKY"];
    assert_eq!(host.perf_series.len(), 1);
    assert_eq!(host.perf_series[0].samples.len(), 48);
    assert!(host.pool_snapshots.is_empty());
    let analysis = analyze(&dataset, &AnalyzeOptions::default());
    let commit = analysis
        .projections
        .iter()
        .find(|p| p.pool == Resource::Commit)
        .unwrap_or_else(|| panic!("no commit projection: {:#?}", analysis.projections));
    assert_eq!(commit.limit_source, "perfmon Commit Limit");
    assert_eq!(commit.limit_bytes, 4096 * 1024 * 1024);
    assert!(commit.exhaustion_at.is_some(), "{commit:#?}");
    let paged = analysis.projections.iter().find(|p| p.pool == Resource::Paged).expect("paged projection");
    assert!(paged.bytes_per_hour > 15.0 * 1024.0 * 1024.0, "{paged:#?}");
    assert!(paged.exhaustion_at.is_some(), "{paged:#?}");
}

#[test]
fn parse_summary_shows_each_host_series_and_input_format_forces_the_reader() {
    let out = assert_cmd::Command::cargo_bin("poolscope")
        .unwrap()
        .args(["parse", "--input-format", "perfmon", "fixtures/perfmon/two_hosts.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("host APP01\n  perfmon samples: 2 from 2024-03-10 00:00:00"), "{stdout}");
    assert!(stdout.contains("host APP02\n  perfmon samples: 3"), "{stdout}");
    assert!(stdout.contains("fixtures/perfmon/two_hosts.csv:1"), "{stdout}");
}

#[test]
fn a_perfmon_log_of_two_hosts_places_each_series_without_an_unknown_host_warning() {
    let dataset = ingest(&["fixtures/perfmon/two_hosts.csv".into()], &IngestOptions::default(), &|_| {});
    let hosts: Vec<&String> = dataset.hosts.keys().collect();
    assert_eq!(hosts, ["APP01", "APP02"]);
    assert!(!dataset.diagnostics.iter().any(|d| d.message.contains("\"unknown\"")), "{:#?}", dataset.diagnostics);
}

proptest::proptest! {
    /// Arbitrary rows under a PDH header, and arbitrary bytes alone, never panic.
    #[test]
    fn arbitrary_rows_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
        let ctx = poolscope::parse::FileContext { path: "p.csv".into(), ..Default::default() };
        let header = "\"(PDH-CSV 4.0) (X (y))(-60)\",\"\\\\H\\Memory\\Pool Paged Bytes\",\"\\\\H\\Process(a#1)\\ID Process\"\r\n";
        let text = poolscope::parse::text::decode(&body).text.into_owned();
        let _ = poolscope::parse::perfmon::parse(&format!("{header}{text}"), &ctx);
        let _ = poolscope::parse::parse_bytes(&body, Some(poolscope::parse::Format::Perfmon), &ctx);
    }
}
