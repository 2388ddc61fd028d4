//! `poolscope simulate`: every file it writes is read back by poolscope's own parsers without errors and
//! agrees with `truth.json`; the same seed gives byte-identical archives; the bundled demo regenerates
//! byte for byte.
//!
//! The bundled demo, `fixtures/incidents/lsass-token-leak/`, was written by (from the repository root):
//!
//! ```text
//! poolscope simulate lsass-token-leak --seed 7 --tags 40 --interval 15m --hours 100 --dump-interval 30h \
//!     -o fixtures/incidents/lsass-token-leak
//! ```
//!
//! [`DEMO_ARGS`] holds the same arguments; [`bundled_demo_regenerates_byte_for_byte`] checks them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::{DateTime, Utc};
use poolscope::ingest::{ingest, IngestOptions};
use poolscope::model::event::EventKind;
use poolscope::model::{Dataset, HandleMode, PoolType, Severity};
use poolscope::simulate::{simulate, Newline, ScenarioName, SimOptions, StampStyle, TextEncoding, Truth};

/// The arguments that wrote the bundled demo (after `simulate`, before `-o`).
const DEMO_ARGS: [&str; 11] = [
    "lsass-token-leak",
    "--seed",
    "7",
    "--tags",
    "40",
    "--interval",
    "15m",
    "--hours",
    "100",
    "--dump-interval",
    "30h",
];
const DEMO_DIR: &str = "fixtures/incidents/lsass-token-leak";

fn poolscope() -> Command {
    let mut cmd = Command::cargo_bin("poolscope").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).env("NO_COLOR", "1");
    cmd
}

/// Small, fast options for a scenario: few background tags, a coarse loop.
fn small(scenario: ScenarioName, seed: u64) -> SimOptions {
    let mut opts = SimOptions::new(scenario, seed);
    opts.tags = Some(25);
    opts.interval_secs = 15 * 60;
    opts.dump_interval_secs = 24 * 3600;
    opts
}

fn generate(opts: &SimOptions) -> (tempfile::TempDir, Truth) {
    let dir = tempfile::tempdir().unwrap();
    let truth = simulate(opts, dir.path()).unwrap();
    (dir, truth)
}

fn read_back(dir: &Path) -> Dataset {
    ingest(&[dir.to_path_buf()], &IngestOptions::default(), &|_| {})
}

fn errors(dataset: &Dataset) -> Vec<String> {
    dataset.diagnostics.iter().filter(|d| d.severity == Severity::Error).map(ToString::to_string).collect()
}

/// Every file under `dir` (relative path) with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(dir).unwrap().to_path_buf();
            out.insert(rel, std::fs::read(entry.path()).unwrap());
        }
    }
    out
}

/// FNV-1a of every file's path and bytes: one number per archive.
fn archive_hash(dir: &Path) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (path, bytes) in files(dir) {
        for b in path.to_string_lossy().bytes().chain(bytes) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn hours_between(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 3_600_000.0
}

#[test]
fn seed_case_reads_back_without_errors_and_matches_truth() {
    let mut opts = small(ScenarioName::LsassTokenLeak, 5);
    opts.hours = Some(100.0);
    let (dir, truth) = generate(&opts);
    let data = read_back(dir.path());
    assert!(errors(&data).is_empty(), "{:#?}", errors(&data));
    assert_eq!(data.hosts.keys().collect::<Vec<_>>(), ["SRV-APP01"]);
    let host = &data.hosts["SRV-APP01"];
    let t = &truth.hosts[0];

    // Two boots: the first ends in the hang at ~89-90 hours with paged pool near 2.9 GB.
    assert_eq!(t.boots.len(), 2);
    let b1 = &t.boots[0];
    let hang = b1.hang_at.expect("boot 1 hangs");
    let hang_h = hours_between(b1.start, hang);
    assert!((86.0..94.0).contains(&hang_h), "hang after {hang_h} h");
    assert!((2.7e9..3.1e9).contains(&(b1.paged_pool_bytes_at_end as f64)), "{}", b1.paged_pool_bytes_at_end);
    let snapshots: u32 = t.boots.iter().map(|b| b.snapshots).sum();
    assert_eq!(host.pool_snapshots.len(), snapshots as usize);

    // The last snapshot before the hang shows the Toke row truth realised, at about the true rate.
    let last = host.pool_snapshots.iter().rev().find(|s| s.taken_at.is_some_and(|at| at < hang)).unwrap();
    let toke = last.rows.iter().find(|r| r.tag == "Toke" && r.pool == PoolType::Paged).unwrap();
    let realized = &b1.realized[0];
    assert_eq!(toke.bytes, realized.tag_bytes);
    let leak = &t.leaks[0];
    assert_eq!((leak.tag.as_str(), leak.per_alloc_bytes), ("Toke", 1664));
    let expected = leak.bytes_per_hour * realized.leak_hours;
    assert!((toke.bytes as f64 / expected - 1.0).abs() < 0.08, "{} vs {expected}", toke.bytes);
    assert_eq!(toke.per_alloc, toke.bytes / toke.diff);
    // poolmon's `Pool P:` is the Paged rows plus the constant overhead truth states.
    let paged_rows: u64 = last.rows.iter().filter(|r| r.pool == PoolType::Paged).map(|r| r.bytes).sum();
    assert_eq!(last.header.pool_paged_kb, Some((paged_rows + t.paged_overhead_bytes) / 1024));
    assert_eq!(last.header.limit_kb, Some(t.commit_limit_bytes / 1024));
    // 32-bit counters: never above 2^32, Diff = Allocs - Frees modulo 2^32.
    for row in &last.rows {
        assert!(row.allocs < 1 << 32 && row.frees < 1 << 32);
        assert_eq!(row.allocs.wrapping_sub(row.frees) & 0xFFFF_FFFF, row.diff);
    }

    // The reboot resets cumulative page faults.
    let faults: Vec<u64> = host.pool_snapshots.iter().filter_map(|s| s.header.page_faults).collect();
    assert_eq!(faults.windows(2).filter(|w| w[1] < w[0]).count(), 1);

    // Events: 2004 at the hang with Toke on top, Srv 2020 before it, 6008 and 41 after it.
    let red = host
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::ResourceExhaustion(info) => Some((e.time, info)),
            _ => None,
        })
        .expect("a 2004 event");
    assert!((red.0 - hang).num_seconds().abs() <= 1, "{} vs {hang}", red.0);
    assert_eq!(red.1.paged_tags[0].tag, "Toke");
    assert_eq!(red.1.commit_limit, Some(t.commit_limit_bytes));
    let ids_between = |id: u32, from: DateTime<Utc>, to: DateTime<Utc>| {
        host.events.iter().any(|e| e.event_id == id && e.time >= from && e.time <= to)
    };
    assert!(ids_between(2020, hang - chrono::Duration::hours(6), hang));
    let b2 = t.boots[1].start;
    assert!(ids_between(6008, b2, b2 + chrono::Duration::minutes(5)));
    assert!(ids_between(41, b2, b2 + chrono::Duration::minutes(5)));
    assert!(ids_between(6005, b2, b2 + chrono::Duration::minutes(5)));
    // Each event is in both System.evtx and System.xml: every record read from both, kept once (from the
    // .evtx, read first), and said once.
    let evtx = host.events.iter().filter(|e| e.source.path.ends_with("System.evtx")).count();
    let xml = host.events.iter().filter(|e| e.source.path.ends_with("System.xml")).count();
    let records = |kind: &str| t.files.iter().find(|f| f.kind == kind).map_or(0, |f| f.records as usize);
    assert_eq!(records("evtx"), records("event_xml"));
    assert_eq!((evtx, xml), (records("evtx"), 0));
    let twice = format!("{} event records were read twice", records("event_xml"));
    assert!(data.diagnostics.iter().any(|d| d.message.contains(&twice)), "{:?}", data.diagnostics);

    // handle.exe: Token handles of the service account grow at the true rate; summaries see them.
    let responsible = t.responsible.as_ref().unwrap();
    assert_eq!((responsible.process.as_str(), responsible.handle_type.as_str()), ("lsass.exe", "Token"));
    let dumps: Vec<_> = host.handle_snapshots.iter().filter(|s| s.mode == HandleMode::Dump).collect();
    assert!(dumps.len() >= 4);
    let last_dump = dumps.iter().rev().find(|s| s.taken_at.is_some_and(|at| at < hang)).unwrap();
    let lsass = &last_dump.processes[0];
    assert_eq!(lsass.name, "lsass.exe");
    let leaked = lsass
        .handles
        .iter()
        .filter(|h| h.handle_type == "Token" && h.name.starts_with(&format!("{}:", responsible.account)))
        .count() as f64;
    let dump_h = hours_between(b1.start, last_dump.taken_at.unwrap()) - 0.25;
    assert!((leaked / (responsible.handles_per_hour * dump_h) - 1.0).abs() < 0.1, "{leaked} in {dump_h} h");
    let summaries: Vec<_> = host.handle_snapshots.iter().filter(|s| s.mode == HandleMode::Summary).collect();
    let before_hang: Vec<u64> =
        summaries.iter().filter(|s| s.taken_at.is_some_and(|at| at < hang)).filter_map(|s| s.total_handles).collect();
    assert!(before_hang[0] < 30_000 && *before_hang.last().unwrap() > 55_000, "{before_hang:?}");
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let opts = small(ScenarioName::Fleet, 11);
    let mut short = opts.clone();
    short.hours = Some(12.0);
    let (a, _) = generate(&short);
    let (b, _) = generate(&short);
    assert_eq!(files(a.path()).len(), files(b.path()).len());
    assert_eq!(archive_hash(a.path()), archive_hash(b.path()));
    let mut other = short.clone();
    other.seed = 12;
    let (c, _) = generate(&other);
    assert_ne!(archive_hash(a.path()), archive_hash(c.path()));
}

/// The bundled demo equals a fresh run of the documented command, file for file and byte for byte.
#[test]
fn bundled_demo_regenerates_byte_for_byte() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO_DIR);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("demo");
    poolscope().arg("simulate").args(DEMO_ARGS).arg("-o").arg(&target).assert().success();
    let committed = files(&demo);
    let fresh = files(&target);
    assert_eq!(committed.keys().collect::<Vec<_>>(), fresh.keys().collect::<Vec<_>>());
    for (path, bytes) in &committed {
        assert!(bytes == &fresh[path], "{} differs from a fresh generation", path.display());
    }
    let total: usize = committed.values().map(Vec::len).sum();
    assert!(total < 6_000_000, "the demo should stay small: {total} bytes");
}

#[test]
fn bundled_demo_reads_back_without_errors() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO_DIR);
    let data = read_back(&demo);
    assert!(errors(&data).is_empty(), "{:#?}", errors(&data));
    let truth: Truth = serde_json::from_slice(&std::fs::read(demo.join("truth.json")).unwrap()).unwrap();
    let host = &data.hosts[&truth.hosts[0].host];
    assert_eq!(host.pool_snapshots.len() as u32, truth.hosts[0].boots.iter().map(|b| b.snapshots).sum::<u32>());
    assert!(host.events.iter().any(|e| matches!(e.kind, EventKind::ResourceExhaustion(_))));
}

#[test]
fn every_scenario_has_sane_truth_and_reads_back() {
    for name in ScenarioName::ALL {
        let mut opts = small(name, 2);
        if name == ScenarioName::Fleet {
            opts.hours = Some(24.0);
        }
        let (dir, truth) = generate(&opts);
        assert_eq!(truth.scenario, name.as_str());
        let data = read_back(dir.path());
        assert!(errors(&data).is_empty(), "{name}: {:#?}", errors(&data));
        assert_eq!(data.hosts.len(), truth.hosts.len(), "{name}: hosts {:?}", data.hosts.keys());
        for host in &truth.hosts {
            assert!(!host.boots.is_empty(), "{name}");
            assert!(host.boots.windows(2).all(|w| w[0].end <= w[1].start), "{name}: boots in order");
            for leak in &host.leaks {
                assert!(leak.allocs_per_hour > 0.0);
                assert!((leak.bytes_per_hour - leak.allocs_per_hour * f64::from(leak.per_alloc_bytes)).abs() < 1e-6);
            }
            for boot in &host.boots {
                if let (Some(hang), Some(x)) = (boot.hang_at, boot.exhaustion_at) {
                    assert!(hang >= x && hang >= boot.start && hang <= boot.end, "{name}");
                }
            }
            let got = &data.hosts[&host.host];
            assert_eq!(got.pool_snapshots.len() as u32, host.boots.iter().map(|b| b.snapshots).sum::<u32>(), "{name}");
        }
        let leaking: Vec<&str> = truth.hosts.iter().filter(|h| !h.leaks.is_empty()).map(|h| h.host.as_str()).collect();
        match name {
            ScenarioName::Healthy => assert!(leaking.is_empty()),
            ScenarioName::Fleet => {
                assert_eq!(truth.hosts.len(), 4);
                assert_eq!(leaking, ["WEB02"]);
                assert!(truth.hosts.iter().all(|h| h.folder == h.host));
            }
            _ => assert_eq!(leaking.len(), 1, "{name}"),
        }
        match name {
            ScenarioName::NonpagedLeak => {
                let h = &truth.hosts[0];
                assert_eq!(h.exhausted_resource.as_deref(), Some("nonpaged_pool"));
                let b = &h.boots[0];
                assert!(b.hang_at.is_some());
                assert!(b.nonpaged_pool_bytes_at_end as f64 >= 0.99 * h.nonpaged_limit_bytes as f64);
                assert_eq!(h.leaks[0].pool, "nonpaged");
            }
            ScenarioName::CachePlateau => {
                let h = &truth.hosts[0];
                let cache = h.non_leaks.iter().find(|n| n.tag == "MmSt").unwrap();
                assert!(cache.plateau_bytes > 1_500_000_000);
                assert!(h.leaks[0].bytes_per_hour < 4e6, "a slow leak");
                assert!(h.boots.iter().all(|b| b.hang_at.is_none()));
            }
            _ => {}
        }
    }
}

#[test]
fn utf16_lf_iso_stamps_and_a_truncated_last_snapshot_read_back() {
    let mut opts = small(ScenarioName::NonpagedLeak, 4);
    opts.hours = Some(20.0);
    opts.encoding = TextEncoding::Utf16;
    opts.newline = Newline::Lf;
    opts.stamps = StampStyle::Iso;
    opts.truncate_last = true;
    let (dir, truth) = generate(&opts);
    let log = std::fs::read(dir.path().join("poolmon.log")).unwrap();
    assert_eq!(&log[..2], b"\xFF\xFE");
    assert!(!log.windows(4).any(|w| w == b"\r\0\n\0"), "LF only");
    let data = read_back(dir.path());
    let host = &data.hosts[&truth.hosts[0].host];
    let written = truth.hosts[0].boots.iter().map(|b| b.snapshots).sum::<u32>() as usize;
    // The cut snapshot keeps the rows before the cut (or is dropped); the others are whole.
    assert!(host.pool_snapshots.len() == written || host.pool_snapshots.len() == written - 1);
    let full = &host.pool_snapshots[host.pool_snapshots.len() - 2];
    assert!(full.rows.len() >= 25);
    // Diagnostics may only concern the cut end of the file.
    let last_line =
        String::from_utf16_lossy(&log[2..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>())
            .lines()
            .count() as u64;
    for d in data.diagnostics.iter().filter(|d| d.severity == Severity::Error) {
        assert!(d.path.ends_with("poolmon.log") && d.line.is_some_and(|l| l + 5 >= last_line), "{d}");
    }
    assert!(host.handle_snapshots.iter().all(|s| s.taken_at.is_some()));
}

#[test]
fn one_file_per_snapshot_with_the_time_in_its_name() {
    let mut opts = small(ScenarioName::Healthy, 6);
    opts.hours = Some(6.0);
    opts.stamps = StampStyle::FileName;
    let (dir, truth) = generate(&opts);
    let names: Vec<String> = files(dir.path())
        .keys()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|n| n.starts_with("poolmon-"))
        .collect();
    assert_eq!(names.len() as u32, truth.hosts[0].boots[0].snapshots);
    assert!(names.iter().all(|n| n.len() == "poolmon-20230109T080000Z.txt".len() && n.ends_with("Z.txt")));
    let data = read_back(dir.path());
    assert!(errors(&data).is_empty(), "{:#?}", errors(&data));
    let snaps = &data.hosts[&truth.hosts[0].host].pool_snapshots;
    assert_eq!(snaps.len(), names.len());
    assert!(snaps.iter().all(|s| s.taken_at.is_some()));
}

#[test]
fn cli_writes_an_archive_and_refuses_a_non_empty_folder() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("a");
    let assert = poolscope()
        .args(["simulate", "healthy", "--hours", "2", "--tags", "10", "--interval", "10m", "-o"])
        .arg(&dir)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("wrote healthy") && stderr.contains("truth.json"), "{stderr}");
    assert!(assert.get_output().stdout.is_empty(), "stdout is for data");
    assert!(dir.join("truth.json").is_file() && dir.join("System.evtx").is_file() && dir.join("poolmon.log").is_file());
    let assert = poolscope().args(["simulate", "healthy", "--hours", "2", "-o"]).arg(&dir).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("not empty") && stderr.contains("--force"), "{stderr}");
    poolscope()
        .args(["simulate", "healthy", "--hours", "2", "--interval", "soon", "-o"])
        .arg(out.path().join("b"))
        .assert()
        .code(2);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Whatever the values, a row the simulator writes is read back by the poolmon parser unchanged.
    #[test]
    fn written_rows_read_back_exactly(
        rows in proptest::collection::vec(
            ("[A-Za-z][A-Za-z0-9 ]{3}", proptest::bool::ANY, 0u64..1 << 32, 0u64..1 << 32, 0u64..1 << 40),
            1..20,
        ),
    ) {
        use poolscope::parse::{parse_bytes, FileContext, Format};
        use poolscope::simulate::pool_model::RowValues;
        use poolscope::simulate::poolmon_writer::{write_snapshot, Row, Summary};
        let mut seen = std::collections::BTreeSet::new();
        let rows: Vec<Row<'_>> = rows
            .iter()
            .filter(|(tag, paged, ..)| seen.insert((tag.clone(), *paged)))
            .map(|(tag, paged, allocs, frees, bytes)| {
                let diff = allocs.wrapping_sub(*frees) & 0xFFFF_FFFF;
                Row {
                    tag,
                    pool: if *paged { PoolType::Paged } else { PoolType::Nonpaged },
                    values: RowValues { allocs: *allocs, frees: *frees, diff, bytes: *bytes, per_alloc: bytes.checked_div(diff).unwrap_or(0) },
                }
            })
            .collect();
        let summary = Summary { memory_kb: 4_193_280, limit_kb: 4_455_424, ..Summary::default() };
        let mut text = b"Fri 05/22/2020 22:35:55.53 \n".to_vec();
        write_snapshot(&mut text, &summary, &rows);
        let parsed = parse_bytes(&text, Some(Format::Poolmon), &FileContext { path: "p.log".into(), ..FileContext::default() });
        proptest::prop_assert!(parsed.diagnostics.iter().all(|d| d.severity != Severity::Error), "{:?}", parsed.diagnostics);
        proptest::prop_assert_eq!(parsed.pool_snapshots.len(), 1);
        let got = &parsed.pool_snapshots[0].rows;
        proptest::prop_assert_eq!(got.len(), rows.len());
        for (g, w) in got.iter().zip(&rows) {
            proptest::prop_assert_eq!((g.tag.as_str(), g.pool), (w.tag, w.pool));
            proptest::prop_assert_eq!((g.allocs, g.frees, g.diff, g.bytes, g.per_alloc), (w.values.allocs, w.values.frees, w.values.diff, w.values.bytes, w.values.per_alloc));
        }
    }
}
