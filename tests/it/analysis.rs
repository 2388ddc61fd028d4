//! The correlation engine and `poolscope analyze`, scored against ground truth: synthetic datasets
//! built here (a leak beside a plateauing cache and noise) and every simulator scenario
//! (`truth.json`): the leaking tag found and ranked first, its rate within 5%, no suspect from a
//! cache or a healthy host, the projected exhaustion within 5% (of the uptime) of the real hang, and
//! the process, handle type and account attributed.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use chrono::{DateTime, Duration, TimeZone, Utc};
use poolscope::analysis::{analyze, Analysis, AnalyzeOptions, Resource};
use poolscope::ingest::{ingest, IngestOptions};
use poolscope::model::event::EventKind;
use poolscope::model::handles::HandleMode;
use poolscope::model::{
    Dataset, Event, HandleEntry, HandleSnapshot, HostData, ObjectIdentity, PoolHeader, PoolRow, PoolSnapshot, PoolType,
    ProcessHandles, SourceRef, TimeSource,
};
use poolscope::simulate::{simulate, ScenarioName, SimOptions, Truth};

// ---------------------------------------------------------------------------------------------------
// Synthetic datasets
// ---------------------------------------------------------------------------------------------------

/// A tiny deterministic generator for test data (xorshift).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 5, 18, 20, 0, 0).unwrap()
}

fn row(tag: &str, pool: PoolType, outstanding: f64, per_alloc: f64, allocs: u64) -> PoolRow {
    let diff = outstanding.max(0.0).round() as u64;
    PoolRow {
        tag: tag.into(),
        pool,
        allocs: allocs + diff,
        frees: allocs,
        diff,
        bytes: (diff as f64 * per_alloc).round() as u64,
        per_alloc: per_alloc.round() as u64,
        driver: None,
    }
}

fn event(at: DateTime<Utc>, id: u32, kind: EventKind) -> Event {
    Event {
        source: SourceRef::line("System.xml", u64::from(id)),
        provider: "EventLog".into(),
        event_id: id,
        level: Some(4),
        time: at,
        computer: Some("SYNTH".into()),
        channel: Some("System".into()),
        record_id: None,
        data: poolscope::model::event::EventData::new(),
        message: None,
        kind,
    }
}

/// The synthetic incident: 48 hours of 5-minute poolmon snapshots of host `SYNTH`:
/// - `Toke` (paged) leaks 600 token objects of 1,664 bytes an hour (998,400 bytes/h), with a rate
///   that varies from interval to interval like real logons do;
/// - `MmSt` (paged) is a cache that fills to 400 MB with a 3-hour time constant, then stays;
/// - 30 background tags wander around their level;
/// - lsass.exe holds one more Token handle for `CONTOSO\svc-scan` per leaked logon (dumped hourly);
///   `NT AUTHORITY\SYSTEM`'s tokens stay flat;
/// - commit = 1.5 GB + both pools; the commit limit is 3 GB (poolmon `Limit:`).
struct Synthetic {
    dataset: Dataset,
    /// Leaked bytes per hour (generating rate).
    rate: f64,
    /// When commit reaches its limit at the generating rate, extrapolated from the last sample.
    hang_at: DateTime<Utc>,
}

fn synthetic(hours: i64, seed: u64) -> Synthetic {
    const PER_TOKEN: f64 = 1664.0;
    const TOKENS_PER_HOUR: f64 = 600.0;
    const COMMIT_BASE: f64 = 1.5e9;
    const COMMIT_LIMIT_KB: u64 = 3 * 1024 * 1024;
    let mut noise = Noise(seed);
    let steps = hours * 12;
    let mut snaps = Vec::new();
    let mut handle_snaps = Vec::new();
    let mut leaked = 0.0f64;
    let mut handles = 0u64;
    let mut levels: Vec<f64> = (0..30).map(|i| 2_000.0 + 300.0 * f64::from(i)).collect();
    let mut last_commit = 0.0;
    for step in 0..=steps {
        let at = t0() + Duration::minutes(5 * step) + Duration::seconds((noise.next() * 20.0) as i64);
        let h = step as f64 / 12.0;
        // Logons come in bursts: each interval leaks a random multiple of the mean.
        if step > 0 {
            let burst = TOKENS_PER_HOUR / 12.0 * (0.4 + 1.2 * noise.next());
            leaked += burst;
            handles += (burst / 20.0).round() as u64;
        }
        let cache = 400e6 / 1186.0 * (1.0 - (-h / 3.0).exp());
        let mut rows = vec![
            row("Toke", PoolType::Paged, 1_500.0 + leaked, PER_TOKEN, 1_000 * step as u64),
            row("MmSt", PoolType::Paged, cache * (1.0 + 0.01 * (noise.next() - 0.5)), 1186.0, 50 * step as u64),
        ];
        for (i, level) in levels.iter_mut().enumerate() {
            *level = (*level + (noise.next() - 0.5) * 40.0).max(100.0);
            let pool = if i % 3 == 0 { PoolType::Nonpaged } else { PoolType::Paged };
            rows.push(row(&format!("Bg{i:02}"), pool, *level, 256.0, 500 * step as u64));
        }
        let paged: u64 = rows.iter().filter(|r| r.pool == PoolType::Paged).map(|r| r.bytes).sum();
        let nonpaged: u64 = rows.iter().filter(|r| r.pool == PoolType::Nonpaged).map(|r| r.bytes).sum();
        last_commit = COMMIT_BASE + paged as f64 + nonpaged as f64;
        snaps.push(PoolSnapshot {
            source: SourceRef::line("poolmon.log", 1 + 40 * step as u64),
            host: Some("SYNTH".into()),
            taken_at: Some(at),
            time_source: TimeSource::TimestampLine,
            header: PoolHeader {
                memory_kb: Some(4 * 1024 * 1024),
                page_faults: Some(1_000 + 10_000 * step as u64),
                commit_kb: Some((last_commit / 1024.0) as u64),
                limit_kb: Some(COMMIT_LIMIT_KB),
                pool_paged_kb: Some(paged / 1024),
                pool_nonpaged_kb: Some(nonpaged / 1024),
                ..PoolHeader::default()
            },
            rows,
        });
        if step % 12 == 6 {
            let token = |n: u64, account: &str| HandleEntry {
                value: 0x100 + 4 * n,
                handle_type: "Token".into(),
                share: None,
                name: format!("{account}:3e7"),
                identity: Some(ObjectIdentity::Token { account: account.into(), luid: format!("{n:x}") }),
            };
            let mut entries: Vec<HandleEntry> = (0..40 + handles).map(|n| token(n, "CONTOSO\\svc-scan")).collect();
            entries.extend((0..25).map(|n| token(10_000 + n, "NT AUTHORITY\\SYSTEM")));
            handle_snaps.push(HandleSnapshot {
                source: SourceRef::line(format!("handle-{step}.txt"), 1),
                host: Some("SYNTH".into()),
                taken_at: Some(at),
                time_source: TimeSource::FileName,
                tool_version: Some("4.22".into()),
                mode: HandleMode::Dump,
                process_filter: Some("lsass.exe".into()),
                type_counts: BTreeMap::new(),
                total_handles: None,
                processes: vec![ProcessHandles { name: "lsass.exe".into(), pid: 612, owner: None, handles: entries }],
            });
        }
    }
    let rate = TOKENS_PER_HOUR * PER_TOKEN;
    let last = snaps.last().and_then(|s| s.taken_at).unwrap();
    let to_go = (COMMIT_LIMIT_KB as f64 * 1024.0 - last_commit) / rate;
    let hang_at = last + Duration::seconds((to_go * 3600.0) as i64);
    let mut dataset = Dataset::default();
    dataset.hosts.insert(
        "SYNTH".into(),
        HostData {
            pool_snapshots: snaps,
            handle_snapshots: handle_snaps,
            events: vec![event(t0() - Duration::minutes(3), 6005, EventKind::Boot { start_time: None })],
            ..HostData::default()
        },
    );
    Synthetic { dataset, rate, hang_at }
}

fn within(actual: f64, expected: f64, share: f64) -> bool {
    (actual - expected).abs() <= share * expected.abs()
}

fn hours_between(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 3.6e6
}

#[test]
fn synthetic_leak_is_found_and_the_cache_is_not() {
    let s = synthetic(48, 0x5eed);
    let a = analyze(&s.dataset, &AnalyzeOptions::default());
    let tags: Vec<&str> = a.suspects.iter().map(|x| x.tag.as_str()).collect();
    assert_eq!(tags, vec!["Toke"], "{:#?}", a.suspects);
    let toke = &a.suspects[0];
    assert!(within(toke.bytes_per_hour, s.rate, 0.05), "{} vs {}", toke.bytes_per_hour, s.rate);
    assert!(toke.bytes_per_hour_ci[0] <= toke.bytes_per_hour && toke.bytes_per_hour <= toke.bytes_per_hour_ci[1]);
    assert!(toke.per_alloc_stable);
    assert!(toke.share_of_growth > 0.9, "{toke:?}");
    assert!(a.verdicts[0].leak_found);
    // The boot starts at the 6005 event and the warm-up is 1 hour (10% of 48 h is longer).
    assert_eq!(a.boots.len(), 1);
    assert_eq!(a.boots[0].start, t0() - Duration::minutes(3));
    assert_eq!(a.boots[0].start_evidence, "event 6005");
}

#[test]
fn synthetic_projection_matches_the_arithmetic() {
    let s = synthetic(48, 0x5eed);
    let a = analyze(&s.dataset, &AnalyzeOptions::default());
    let commit = a.projections.iter().find(|p| p.pool == Resource::Commit).expect("commit projection");
    assert_eq!(commit.limit_source, "poolmon Limit:");
    let at = commit.exhaustion_at.expect("exhaustion projected");
    let uptime = hours_between(a.boots[0].start, s.hang_at);
    let error = hours_between(s.hang_at, at).abs();
    assert!(error <= 0.05 * uptime, "projected {at}, expected {} ({error:.1} h off)", s.hang_at);
    // The naive straight line over a window that holds the cache's warm-up projects too early.
    let naive = commit.naive_exhaustion_at.expect("naive projection");
    assert!(naive < at, "naive {naive} vs sustained {at}");
    let [lo, hi] = commit.exhaustion_range.expect("range");
    assert!(lo <= at && at <= hi);
}

#[test]
fn synthetic_attribution_names_lsass_token_handles_and_the_account() {
    let s = synthetic(48, 0x5eed);
    let a = analyze(&s.dataset, &AnalyzeOptions::default());
    let best = a
        .correlations
        .iter()
        .find(|c| c.tag == "Toke" && c.process == "lsass.exe" && c.account.as_deref() == Some("CONTOSO\\svc-scan"))
        .unwrap_or_else(|| panic!("{:#?}", a.correlations));
    assert!(best.invariant);
    assert_eq!(best.handle_type, "Token");
    assert!(best.coefficient > 0.8, "{best:?}");
    assert!(within(best.handles_per_hour, 30.0, 0.1), "{best:?}");
    assert!(!a.correlations.iter().any(|c| c.account.as_deref() == Some("NT AUTHORITY\\SYSTEM")));
    // The attribution: lsass.exe's growth from its dumps, the account's share of it.
    let who = a.attributions.iter().find(|w| w.tag == "Toke").unwrap_or_else(|| panic!("{:#?}", a.attributions));
    assert_eq!((who.process.as_str(), who.pid, who.object_type.as_str()), ("lsass.exe", Some(612), "Token"));
    assert!(within(who.handles_per_hour.unwrap(), 30.0, 0.1), "{who:?}");
    assert_eq!(who.account.as_deref(), Some("CONTOSO\\svc-scan"));
    assert!(who.account_share.unwrap() > 0.95, "{who:?}");
    let text = &a.verdicts[0].text;
    assert!(text.contains("lsass.exe (pid 612) gains +29 Token handles/h"), "{text}");
    assert!(text.contains("are tokens of CONTOSO\\svc-scan"), "{text}");
}

#[test]
fn analysis_is_deterministic() {
    let s = synthetic(24, 7);
    let one = serde_json::to_string(&analyze(&s.dataset, &AnalyzeOptions::default())).unwrap();
    let two = serde_json::to_string(&analyze(&s.dataset, &AnalyzeOptions::default())).unwrap();
    assert_eq!(one, two);
}

#[test]
fn warmup_flag_moves_the_fit_window() {
    let s = synthetic(24, 7);
    let options = AnalyzeOptions { warmup_hours: Some(6.0), ..AnalyzeOptions::default() };
    let a = analyze(&s.dataset, &options);
    assert_eq!(a.parameters.warmup_hours, Some(6.0));
    assert_eq!(a.boots[0].fit_start, a.boots[0].start + Duration::hours(6) + Duration::seconds(a_few_seconds(&a)));
}

/// The fit starts at the first sample at or after start + warm-up; samples carry up to 20 s of jitter.
fn a_few_seconds(a: &Analysis) -> i64 {
    (a.boots[0].fit_start - (a.boots[0].start + Duration::hours(6))).num_seconds().clamp(0, 300)
}

#[test]
fn json_snapshot_of_a_small_dataset() {
    let s = synthetic(12, 99);
    let mut a = analyze(&s.dataset, &AnalyzeOptions::default());
    // Chart series are long; the snapshot keeps their names and lengths only.
    for series in &mut a.series {
        series.times.truncate(2);
        series.values.truncate(2);
    }
    insta::assert_snapshot!("analysis_small_synthetic_json", serde_json::to_string_pretty(&a).unwrap());
}

// ---------------------------------------------------------------------------------------------------
// Simulated scenarios (truth.json)
// ---------------------------------------------------------------------------------------------------

/// Simulates a scenario with fewer tags and a 5-minute loop (the analysis is the same; the test is
/// faster), reads it back as a user would, and analyses it.
fn scenario(name: ScenarioName, tweak: impl FnOnce(&mut SimOptions)) -> (Truth, Analysis) {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = SimOptions::new(name, 1);
    opts.tags = Some(80);
    opts.interval_secs = 300;
    opts.dump_interval_secs = 3 * 3600;
    tweak(&mut opts);
    let truth = simulate(&opts, dir.path()).unwrap();
    let dataset = ingest(&[dir.path().to_path_buf()], &IngestOptions::default(), &|_| {});
    (truth, analyze(&dataset, &AnalyzeOptions::default()))
}

fn resource(name: &str) -> Resource {
    match name {
        "commit" => Resource::Commit,
        "paged_pool" => Resource::Paged,
        "nonpaged_pool" => Resource::Nonpaged,
        other => panic!("unknown resource {other}"),
    }
}

fn pool_of(name: &str) -> PoolType {
    if name == "paged" {
        PoolType::Paged
    } else {
        PoolType::Nonpaged
    }
}

/// Scores an analysis against the truth: leaks first with rates within 5% of what each boot
/// realised, nothing else flagged on hosts without leaks, no cache flagged anywhere, and every hang
/// projected within 5% of the uptime at which it came.
fn score(truth: &Truth, a: &Analysis) {
    for host in &truth.hosts {
        let suspects: Vec<_> = a.suspects.iter().filter(|s| s.host == host.host).collect();
        for cache in &host.non_leaks {
            assert!(
                !suspects.iter().any(|s| s.tag == cache.tag && s.pool == pool_of(&cache.pool)),
                "{}: cache {} flagged: {suspects:#?}",
                host.host,
                cache.tag
            );
        }
        if host.leaks.is_empty() {
            assert!(suspects.is_empty(), "{}: healthy host has suspects: {suspects:#?}", host.host);
            let v = a.verdicts.iter().find(|v| v.host == host.host).unwrap();
            assert!(!v.leak_found, "{v:?}");
            continue;
        }
        let leak = &host.leaks[0];
        for tb in &host.boots {
            // The analysis' boot whose span holds the truth boot's last snapshot (cmd's %TIME% keeps
            // centiseconds, the truth milliseconds).
            let Some(last) = tb.last_snapshot_at else { continue };
            let boot = a
                .boots
                .iter()
                .find(|b| b.host == host.host && b.start <= last && last <= b.end + Duration::seconds(1))
                .unwrap_or_else(|| panic!("{}: no boot holds {last}: {:#?}", host.host, a.boots));
            let fit_hours = hours_between(boot.fit_start, boot.end);
            let top = suspects.iter().find(|s| s.boot == boot.boot && s.rank == 1);
            let top =
                top.unwrap_or_else(|| panic!("{} boot {}: no suspect over {fit_hours:.1} h", host.host, boot.boot));
            assert_eq!((top.tag.as_str(), top.pool), (leak.tag.as_str(), pool_of(&leak.pool)), "{top:#?}");
            let realized = tb.realized.iter().find(|r| r.tag == leak.tag).unwrap();
            let realized_rate = realized.leaked_bytes as f64 / realized.leak_hours;
            assert!(
                within(top.bytes_per_hour, realized_rate, 0.05),
                "{} boot {}: {} vs realised {realized_rate}",
                host.host,
                boot.boot,
                top.bytes_per_hour
            );
            assert!(within(top.per_alloc_bytes, f64::from(leak.per_alloc_bytes), 0.02), "{top:#?}");
            if let (Some(hang), Some(res)) = (tb.hang_at, host.exhausted_resource.as_deref()) {
                let p = a
                    .projections
                    .iter()
                    .find(|p| p.host == host.host && p.boot == boot.boot && p.pool == resource(res))
                    .unwrap_or_else(|| panic!("no {res} projection: {:#?}", a.projections));
                let at = p.exhaustion_at.expect("exhaustion projected");
                let uptime = hours_between(tb.start, hang);
                assert!(
                    hours_between(hang, at).abs() <= 0.05 * uptime,
                    "{} boot {}: {res} projected at {at}, hung at {hang}",
                    host.host,
                    boot.boot
                );
                assert!(p.observed_exhaustion_at.is_some(), "{p:#?}");
            }
        }
    }
}

/// The process, handle type and account the truth names grow with the leak.
fn attribution(truth: &Truth, a: &Analysis) {
    for host in truth.hosts.iter().filter(|h| h.responsible.is_some()) {
        let r = host.responsible.as_ref().unwrap();
        let row = a.correlations.iter().find(|c| {
            c.host == host.host
                && c.process == r.process
                && c.handle_type == r.handle_type
                && c.account.as_deref() == Some(r.account.as_str())
        });
        let row = row.unwrap_or_else(|| panic!("{}: {r:?} not attributed: {:#?}", host.host, a.correlations));
        assert!(row.invariant && row.coefficient > 0.5, "{row:?}");
        assert!(within(row.handles_per_hour, r.handles_per_hour, 0.15), "{row:?} vs {r:?}");
        // The attribution of the boot the verdict is about names the process, the type and the account, with
        // their shares of the growth.
        let verdict = a.verdicts.iter().find(|v| v.host == host.host).unwrap();
        let who = a
            .attributions
            .iter()
            .find(|w| w.host == host.host && w.boot == verdict.boot && w.object_type == r.handle_type)
            .unwrap_or_else(|| panic!("{}: no attribution in boot {}: {:#?}", host.host, verdict.boot, a.attributions));
        assert_eq!(who.process, r.process, "{who:?}");
        assert_eq!(who.account.as_deref(), Some(r.account.as_str()), "{who:?}");
        assert!(who.share_of_growth.unwrap() > 0.9, "{who:?}");
        assert!(who.account_share.unwrap() > 0.9, "{who:?}");
        assert!(within(who.handles_per_hour.unwrap(), r.handles_per_hour, 0.15), "{who:?} vs {r:?}");
        let words = format!("of the {} handle growth", r.handle_type);
        assert!(verdict.text.contains(&r.process) && verdict.text.contains(&words), "{}", verdict.text);
        assert!(verdict.text.contains(&format!("are tokens of {}", r.account)), "{}", verdict.text);
    }
}

#[test]
fn scenario_lsass_token_leak() {
    let (truth, a) = scenario(ScenarioName::LsassTokenLeak, |_| {});
    score(&truth, &a);
    attribution(&truth, &a);
    assert!(a.verdicts[0].text.starts_with("SRV-APP01: Toke (paged; Token objects) grows"), "{}", a.verdicts[0].text);
    rejected_are_listed_and_said(&a);
}

#[test]
fn scenario_lsass_token_leak_projected_from_young_data() {
    // Only the first 40 hours are archived: the projection from them must still land within 5%
    // of the hang the full run shows (the archive is a prefix of the full one).
    let (full, _) = scenario(ScenarioName::LsassTokenLeak, |o| o.hours = Some(95.0));
    let hang = full.hosts[0].boots[0].hang_at.expect("the full run hangs");
    let (_, a) = scenario(ScenarioName::LsassTokenLeak, |o| o.hours = Some(40.0));
    let p = a.projections.iter().find(|p| p.pool == Resource::Commit).unwrap();
    let at = p.exhaustion_at.unwrap();
    let uptime = hours_between(full.hosts[0].boots[0].start, hang);
    assert!(hours_between(hang, at).abs() <= 0.05 * uptime, "projected {at}, hung at {hang} ({p:#?})");
    // The naive total fit is worse: caches still warming up inflate its slope.
    let naive = p.naive_exhaustion_at.unwrap();
    assert!(hours_between(hang, naive).abs() > hours_between(hang, at).abs(), "naive {naive}, sustained {at}");
}

#[test]
fn scenario_nonpaged_leak() {
    let (truth, a) = scenario(ScenarioName::NonpagedLeak, |_| {});
    score(&truth, &a);
    let p = a.projections.iter().find(|p| p.pool == Resource::Nonpaged && p.boot == 0).unwrap();
    assert!(p.limit_source.contains("75% of RAM"), "{}", p.limit_source);
    assert_eq!(p.limit_bytes, truth.hosts[0].nonpaged_limit_bytes);
}

/// Growers that are not suspects are listed in `rejected` with their reason, and still said in words.
fn rejected_are_listed_and_said(a: &Analysis) {
    assert!(!a.rejected.is_empty(), "no rejected growers");
    for r in &a.rejected {
        assert!(!a.suspects.iter().any(|s| s.host == r.host && s.boot == r.boot && s.tag == r.tag && s.pool == r.pool));
        assert!(!r.reason.is_empty() && r.bytes_per_hour > 0.0, "{r:?}");
        let said = format!("{} ({}) grew", r.tag.trim_end(), r.pool);
        assert!(a.diagnostics.iter().any(|d| d.message.contains(&said) && d.message.contains(&r.reason)), "{said}");
    }
    let json = serde_json::to_value(a).unwrap();
    assert_eq!(json["rejected"][0]["tag"], a.rejected[0].tag.as_str());
    assert!(json["rejected"][0]["reason"].is_string() && json["rejected"][0]["bytes_per_hour"].is_f64());
}

#[test]
fn scenario_cache_plateau() {
    let (truth, a) = scenario(ScenarioName::CachePlateau, |_| {});
    score(&truth, &a);
    assert_eq!(a.suspects.len(), 1, "{:#?}", a.suspects);
}

#[test]
fn scenario_healthy() {
    let (truth, a) = scenario(ScenarioName::Healthy, |_| {});
    score(&truth, &a);
    assert!(a.suspects.is_empty());
    assert!(a.verdicts[0].text.contains("no leak found"), "{}", a.verdicts[0].text);
}

#[test]
fn scenario_fleet() {
    let (truth, a) = scenario(ScenarioName::Fleet, |_| {});
    score(&truth, &a);
    attribution(&truth, &a);
    // The leaking host's verdict comes first.
    assert_eq!(a.verdicts[0].host, "WEB02");
    assert!(a.verdicts[1..].iter().all(|v| !v.leak_found));
}

// ---------------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------------

fn poolscope() -> Command {
    Command::cargo_bin("poolscope").expect("binary built")
}

const DEMO: &str = "fixtures/incidents/lsass-token-leak";

#[test]
fn cli_analyze_demo_text_puts_the_verdict_first() {
    if !Path::new(DEMO).exists() {
        return;
    }
    let out = poolscope().args(["analyze", DEMO, "-q"]).assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    // The five-line block of the boot that died leads, naming the process and the account.
    assert!(
        text.starts_with("Verdict\n  SRV-APP01 (boot 0): leak found\n    What leaks        Toke in paged pool"),
        "{text}"
    );
    let block: String = text.lines().take_while(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n");
    for line in ["How fast ", "When it runs out ", "Who ", "Evidence "] {
        assert!(block.contains(line), "{line} missing from the block:\n{block}");
    }
    assert!(block.contains("lsass.exe (pid 528)") && block.contains("CONTOSO\\svc-scan"), "{block}");
    let verdict = text.split("\nSuspects").next().unwrap();
    assert!(verdict.lines().all(|l| l.chars().count() <= 100), "the verdict wraps at 100 columns:\n{verdict}");
    for section in ["Suspects", "Projections", "Correlations", "Boots", "Diagnostics:"] {
        assert!(text.contains(section), "{section} missing:\n{text}");
    }
}

#[test]
fn cli_analyze_json_and_fail_on_leak() {
    if !Path::new(DEMO).exists() {
        return;
    }
    let out =
        poolscope().args(["analyze", DEMO, "--format", "json", "-q"]).assert().success().get_output().stdout.clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["suspects"][0]["tag"], "Toke");
    assert_eq!(json["suspects"][0]["host"], "SRV-APP01");
    poolscope().args(["analyze", DEMO, "--fail-on", "leak", "-q"]).assert().code(1);
    let md = poolscope()
        .args(["analyze", DEMO, "--format", "markdown", "-q"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let md = String::from_utf8(md).unwrap();
    assert!(
        md.starts_with(
            "# poolscope analysis\n\n## Verdict\n\n- **SRV-APP01** (boot 0), leak found\n  - **What leaks:** Toke"
        ),
        "{md}"
    );
    assert!(md.contains("| boot | tag | pool | rate | per alloc | what |"), "{md}");
}

#[test]
fn cli_analyze_flags_are_validated() {
    poolscope().args(["analyze", "x", "--limit-paged", "3X"]).assert().code(2);
    poolscope().args(["analyze", "x", "--warmup", "soon"]).assert().code(2);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "nothing to see here\n").unwrap();
    let assert = poolscope().args(["analyze"]).arg(dir.path()).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("no usable records"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------------
// Robustness: any dataset, however odd, gives an analysis (no panic) whose JSON reads back
// ---------------------------------------------------------------------------------------------------

mod arbitrary {
    use super::*;
    use proptest::prelude::*;

    prop_compose! {
        fn pool_row()(tag in prop::sample::select(vec!["Toke", "Key ", "MmSt", "Dh 1", "Irp "]),
                      paged in any::<bool>(),
                      allocs in prop_oneof![0u64..1_000, any::<u32>().prop_map(u64::from), Just(u64::MAX)],
                      frees in 0u64..1_000_000,
                      diff in prop_oneof![0u64..1_000_000, Just(u64::MAX)],
                      bytes in prop_oneof![0u64..1_000_000_000, Just(u64::MAX)]) -> PoolRow {
            PoolRow {
                tag: tag.into(),
                pool: if paged { PoolType::Paged } else { PoolType::Nonpaged },
                allocs, frees, diff, bytes,
                per_alloc: bytes / diff.max(1),
                driver: None,
            }
        }
    }

    prop_compose! {
        fn snapshot()(minutes in prop::option::weighted(0.9, 0i64..6_000),
                      rows in prop::collection::vec(pool_row(), 0..8),
                      commit in prop::option::of(0u64..10_000_000),
                      limit in prop::option::of(0u64..10_000_000),
                      page_faults in prop::option::of(0u64..1_000_000)) -> PoolSnapshot {
            PoolSnapshot {
                source: SourceRef::line("p.log", 1),
                host: None,
                taken_at: minutes.map(|m| t0() + Duration::minutes(m)),
                time_source: TimeSource::TimestampLine,
                header: PoolHeader { commit_kb: commit, limit_kb: limit, page_faults, memory_kb: limit, ..PoolHeader::default() },
                rows,
            }
        }
    }

    prop_compose! {
        fn an_event()(minutes in -600i64..6_000, which in 0u8..6, seconds in 0u64..10_000_000) -> Event {
            let at = t0() + Duration::minutes(minutes);
            let kind = match which {
                0 => EventKind::Boot { start_time: None },
                1 => EventKind::Uptime { seconds },
                2 => EventKind::Shutdown { process: None, reason: None, shutdown_type: None, user: None },
                3 => EventKind::Crash {
                    previous_shutdown: None,
                    previous_shutdown_at: Some(at - Duration::minutes(30)),
                    bugcheck_code: Some(0),
                    reason: None,
                    user: None,
                },
                4 => EventKind::PoolEmpty { pool: PoolType::Paged },
                _ => EventKind::ResourceExhaustion(Box::default()),
            };
            event(at, 6005, kind)
        }
    }

    prop_compose! {
        fn handle_snapshot()(minutes in 0i64..6_000, count in 0u64..50, account in "[A-Z]{1,3}\\\\[a-z]{1,4}") -> HandleSnapshot {
            let handles = (0..count)
                .map(|n| HandleEntry {
                    value: n,
                    handle_type: "Token".into(),
                    share: None,
                    name: String::new(),
                    identity: Some(ObjectIdentity::Token { account: account.clone(), luid: "1".into() }),
                })
                .collect();
            HandleSnapshot {
                source: SourceRef::line("h.txt", 1),
                host: None,
                taken_at: Some(t0() + Duration::minutes(minutes)),
                time_source: TimeSource::FileName,
                tool_version: None,
                mode: HandleMode::Dump,
                process_filter: None,
                type_counts: BTreeMap::from([("Token".to_owned(), count)]),
                total_handles: None,
                processes: vec![ProcessHandles { name: "lsass.exe".into(), pid: 1, owner: None, handles }],
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn any_dataset_analyses_without_panic(
            snaps in prop::collection::vec(snapshot(), 0..60),
            events in prop::collection::vec(an_event(), 0..6),
            handles in prop::collection::vec(handle_snapshot(), 0..8),
            warmup in prop::option::of(0.0f64..20.0),
        ) {
            let mut dataset = Dataset::default();
            let mut pool_snapshots = snaps;
            pool_snapshots.sort_by_key(|s| s.taken_at);
            dataset.hosts.insert("h".into(), HostData { pool_snapshots, handle_snapshots: handles, events, ..HostData::default() });
            let options = AnalyzeOptions { warmup_hours: warmup, ..AnalyzeOptions::default() };
            let a = analyze(&dataset, &options);
            let json = serde_json::to_string(&a).unwrap();
            let back: Analysis = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back.suspects.len(), a.suspects.len());
            prop_assert_eq!(a.verdicts.len(), 1);
        }
    }
}

#[test]
fn shutdown_reason_logged_after_the_reboot_is_no_time_zone_warning() {
    // The demo's User32 1076 is written 15 minutes after the boot it follows; it must not read as a
    // reboot the counters contradict (the warning every simulated incident used to print).
    let out = poolscope().args(["analyze", DEMO]).assert().success().get_output().stderr.clone();
    let stderr = String::from_utf8(out).unwrap();
    assert!(!stderr.contains("not taken as a reboot"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(
        &poolscope().args(["analyze", DEMO, "--format", "json", "-q"]).assert().success().get_output().stdout,
    )
    .unwrap();
    assert_eq!(json["boots"].as_array().unwrap().len(), 2, "still two boots");
}

/// A fleet is analysed one host at a time: the same findings as reading it whole, and a warning every host's
/// files give (timestamps without a zone) said once, not once per host.
#[test]
fn a_fleet_analysed_host_by_host_gives_the_whole_read_findings_and_one_zone_warning() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("poolscope")
        .unwrap()
        .args(["simulate", "fleet", "--hosts", "3", "--hours", "24", "--tags", "40", "--force", "-q", "-o"])
        .arg(dir.path())
        .assert()
        .success();
    let out = Command::cargo_bin("poolscope")
        .unwrap()
        .arg("analyze")
        .arg(dir.path())
        .args(["--format", "json", "-q"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let zone = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["message"].as_str().unwrap().starts_with("timestamps carry no zone"))
        .count();
    assert_eq!(zone, 1, "{}", json["diagnostics"]);

    let whole = ingest(&[dir.path().to_path_buf()], &IngestOptions::default(), &|_| {});
    let read_whole = analyze(&whole, &AnalyzeOptions::default());
    let suspects = |v: &serde_json::Value| -> Vec<(String, String)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| (s["host"].as_str().unwrap().to_owned(), s["tag"].as_str().unwrap().to_owned()))
            .collect()
    };
    // Through text like the command's output (serde_json's float parsing is not exact to the last bit).
    let whole_json: serde_json::Value = serde_json::from_str(&serde_json::to_string(&read_whole).unwrap()).unwrap();
    assert!(!suspects(&json["suspects"]).is_empty());
    assert_eq!(suspects(&json["suspects"]), suspects(&whole_json["suspects"]));
    assert_eq!(json["projections"], whole_json["projections"]);
    assert_eq!(json["attributions"], whole_json["attributions"]);
}

/// `report` over a fleet reads and writes one host at a time: its tables equal those of the whole fleet held in
/// memory (the library's `write_report`), each host has its page with its own attribution, `summary.md` has each
/// leaking host's section with the account table (drawn from that host's handle dumps, read for its page), and
/// the overview says per host what was read.
#[test]
fn a_fleet_report_written_host_by_host_equals_the_whole_fleet_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("fleet");
    Command::cargo_bin("poolscope")
        .unwrap()
        .args(["simulate", "fleet", "--hosts", "3", "--hours", "24", "--tags", "40", "--force", "-q", "-o"])
        .arg(&fleet)
        .assert()
        .success();
    let out = dir.path().join("report");
    Command::cargo_bin("poolscope").unwrap().arg("report").arg(&fleet).arg("-o").arg(&out).arg("-q").assert().success();

    let whole = ingest(std::slice::from_ref(&fleet), &IngestOptions::default(), &|_| {});
    assert_eq!(whole.hosts.len(), 3);
    let analysis = analyze(&whole, &AnalyzeOptions::default());
    let memory = dir.path().join("memory");
    let options = poolscope::report::ReportOptions { inputs: vec![fleet.clone()], ..Default::default() };
    poolscope::report::write_report(&analysis, &whole, &options, &memory).unwrap();
    for table in ["pool_samples.csv", "handle_samples.csv", "events.csv"] {
        let a = std::fs::read(out.join("data").join(table)).unwrap();
        let b = std::fs::read(memory.join("data").join(table)).unwrap();
        assert!(a == b, "data/{table} differs between the host-by-host and the in-memory report");
        let text = String::from_utf8(a).unwrap();
        assert_eq!(text.lines().filter(|l| l.starts_with("host,")).count(), 1, "{table}: one header");
    }
    let pool = std::fs::read_to_string(out.join("data/pool_samples.csv")).unwrap();
    for host in whole.hosts.keys() {
        assert!(pool.lines().any(|l| l.starts_with(&format!("{host},"))), "no pool rows of {host}");
        let page = out.join("hosts").join(format!("{host}.html"));
        assert!(page.is_file(), "no page for {host}");
    }
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    let leaking: Vec<&str> = analysis.verdicts.iter().filter(|v| v.leak_found).map(|v| v.host.as_str()).collect();
    assert!(!leaking.is_empty());
    for host in &leaking {
        let section =
            summary.split(&format!("## {host} (boot ")).nth(1).unwrap_or_else(|| panic!("no section of {host}"));
        let section = section.split("\n## ").next().unwrap();
        assert!(section.contains("by account"), "{host}: no account table in its section:\n{section}");
    }
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("fleet of 3 hosts") && index.contains("<th>Inputs</th>"), "{index}");
    assert!(index.contains(" files, 0 errors"), "per-host input summary missing");
}
