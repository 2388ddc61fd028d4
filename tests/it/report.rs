//! Reports: files written, Markdown and HTML structure snapshots, decoded PNG charts, escaping of
//! hostile log text, self-containment, determinism.
//!
//! The Analysis here is built by hand to match a small synthetic incident (a Toke leak in lsass.exe's
//! Token handles for one account, a hang with 2020 and 2004 events, a 6008/41 pair at the reboot), so
//! the report is tested without depending on the analysis engine's numbers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use poolscope::analysis::block::VerdictBlock;
use poolscope::analysis::stacks::{AllocationStacks, StackCaller};
use poolscope::analysis::{
    Analysis, Boot, Correlation, Parameters, Projection, Resource, Suspect, Verdict, ANALYSIS_SCHEMA_VERSION,
};
use poolscope::model::event::ResourceExhaustion;
use poolscope::model::{
    AllocationKind, Dataset, Diagnostic, Event, EventKind, HandleEntry, HandleMode, HandleSnapshot, HostData,
    ObjectIdentity, PoolHeader, PoolRow, PoolSnapshot, PoolType, ProcessHandles, Severity, SourceRef, TimeSource,
};
use poolscope::report::chart::{ChartFormat, EVENT, PALETTE};
use poolscope::report::{self, Report, ReportOptions};

const HOST: &str = "SRV01";
const TOKEN_BYTES: u64 = 1664;

fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn boot0() -> (DateTime<Utc>, DateTime<Utc>) {
    (t(2020, 5, 15, 6, 0), t(2020, 5, 17, 12, 0))
}

fn boot1() -> (DateTime<Utc>, DateTime<Utc>) {
    (t(2020, 5, 19, 5, 20), t(2020, 5, 22, 22, 20))
}

/// Names that a hostile or broken log could carry; the XSS test swaps them in.
struct Names {
    process: String,
    account: String,
    driver: String,
}

impl Names {
    fn normal() -> Self {
        Self {
            process: "lsass.exe".into(),
            account: "CORP\\svc_scan".into(),
            driver: "ksecdd.sys - Token objects".into(),
        }
    }

    fn hostile() -> Self {
        Self {
            process: "<script>alert(1)</script>".into(),
            account: "\"><img src=x onerror=alert(1)>".into(),
            driver: "<script>alert(1)</script> \"><img src=x onerror=alert(1)>".into(),
        }
    }
}

fn row(tag: &str, pool: PoolType, outstanding: u64, per_alloc: u64, churn: u64, driver: Option<&str>) -> PoolRow {
    PoolRow {
        tag: tag.into(),
        pool,
        allocs: churn + outstanding,
        frees: churn,
        diff: outstanding,
        bytes: outstanding * per_alloc,
        per_alloc,
        driver: driver.map(Into::into),
    }
}

/// Pool snapshots every 10 minutes; Toke leaks 16,000 tokens an hour in boot 1 and 6,000 in boot 0.
fn pool_snapshots(names: &Names) -> Vec<PoolSnapshot> {
    let mut out = Vec::new();
    for (boot, (start, end), leak_per_hour) in [(0u32, boot0(), 6_000.0), (1, boot1(), 16_000.0)] {
        let mut at = start;
        let mut i: u64 = 0;
        while at <= end {
            let h = (at - start).num_seconds() as f64 / 3600.0;
            let toke = 20_000 + (leak_per_hour * h) as u64;
            // A cache that rises for six hours and plateaus: not a leak.
            let mmst = 40_000 + (30_000.0 * (h / 6.0).min(1.0)) as u64;
            let noise = i * 7919 % 13;
            let rows = vec![
                row("Toke", PoolType::Paged, toke, TOKEN_BYTES, 1_000_000 + 50 * i, Some(&names.driver)),
                row(
                    "MmSt",
                    PoolType::Paged,
                    mmst,
                    512,
                    4_000_000 + 900 * i,
                    Some("nt!mm - Mm section object prototype ptes"),
                ),
                row("CM31", PoolType::Paged, 9_000 + noise, 4096, 200_000 + 10 * i, None),
                row("Key ", PoolType::Paged, 3_000 + noise, 192, 90_000 + 4 * i, None),
                row(
                    "Thre",
                    PoolType::Nonpaged,
                    1_200 + (20.0 * h) as u64,
                    1_232,
                    30_000 + 9 * i,
                    Some("nt!ps - Thread objects"),
                ),
                row("Ntfx", PoolType::Nonpaged, 8_000 + noise, 256, 700_000 + 30 * i, None),
            ];
            let paged: u64 = rows.iter().filter(|r| r.pool == PoolType::Paged).map(|r| r.bytes).sum();
            let nonpaged: u64 = rows.iter().filter(|r| r.pool == PoolType::Nonpaged).map(|r| r.bytes).sum();
            out.push(PoolSnapshot {
                source: SourceRef::line(format!("archive/{HOST}/poolmon-boot{boot}.log"), 1 + i * 12),
                host: Some(HOST.into()),
                taken_at: Some(at),
                time_source: TimeSource::TimestampLine,
                header: PoolHeader {
                    memory_kb: Some(8_388_608),
                    commit_kb: Some(2_000_000 + (paged + nonpaged) / 1024),
                    limit_kb: Some(12_582_912),
                    pool_paged_kb: Some(paged / 1024),
                    pool_nonpaged_kb: Some(nonpaged / 1024),
                    ..PoolHeader::default()
                },
                rows,
            });
            at += Duration::minutes(10);
            i += 1;
        }
    }
    out
}

fn token(value: u64, account: &str) -> HandleEntry {
    HandleEntry {
        value,
        handle_type: "Token".into(),
        share: None,
        name: format!("{account}:3e7"),
        identity: Some(ObjectIdentity::Token { account: account.into(), luid: "3e7".into() }),
    }
}

/// Hourly handle.exe dumps of lsass.exe: Token handles for one account grow 40 an hour.
fn handle_snapshots(names: &Names) -> Vec<HandleSnapshot> {
    let mut out = Vec::new();
    for (boot, (start, end)) in [(0u32, boot0()), (1, boot1())] {
        let mut at = start + Duration::minutes(5);
        let mut k: u64 = 0;
        while at <= end {
            let mut handles: Vec<HandleEntry> = (0..40).map(|v| token(4 * v, "NT AUTHORITY\\SYSTEM")).collect();
            let grown = 100 + 40 * k * (u64::from(boot) + 1);
            handles.extend((0..grown).map(|v| token(1000 + 4 * v, &names.account)));
            handles.extend((0..300 + (k % 3)).map(|v| HandleEntry {
                value: 100_000 + 4 * v,
                handle_type: "File".into(),
                share: Some("RW-".into()),
                name: format!("\\Device\\NamedPipe\\lsass{v}"),
                identity: None,
            }));
            handles.extend((0..120).map(|v| HandleEntry {
                value: 200_000 + 4 * v,
                handle_type: "Key".into(),
                share: None,
                name: "HKLM\\SYSTEM\\ControlSet001\\Control\\Lsa".into(),
                identity: None,
            }));
            out.push(HandleSnapshot {
                source: SourceRef::line(format!("archive/{HOST}/handle-lsass-boot{boot}.txt"), 1 + k * 500),
                host: Some(HOST.into()),
                taken_at: Some(at),
                time_source: TimeSource::FileName,
                tool_version: Some("4.22".into()),
                mode: HandleMode::Dump,
                process_filter: Some("lsass".into()),
                type_counts: BTreeMap::new(),
                total_handles: None,
                processes: vec![ProcessHandles { name: names.process.clone(), pid: 612, owner: None, handles }],
            });
            at += Duration::hours(1);
            k += 1;
        }
    }
    out
}

fn event(id: u32, provider: &str, at: DateTime<Utc>, kind: EventKind, offset: u64) -> Event {
    Event {
        source: SourceRef::offset(format!("archive/{HOST}/System.evtx"), offset),
        provider: provider.into(),
        event_id: id,
        level: Some(2),
        time: at,
        computer: Some(format!("{HOST}.corp.local")),
        channel: Some("System".into()),
        record_id: Some(offset / 512),
        data: poolscope::model::event::EventData::new(),
        message: None,
        kind,
    }
}

fn events(names: &Names) -> Vec<Event> {
    let (s0, e0) = boot0();
    let (s1, _) = boot1();
    let exhaustion = ResourceExhaustion {
        commit_limit: Some(12_884_901_888),
        commit_charge: Some(12_800_000_000),
        paged_pool_usage: Some(2_600_000_000),
        paged_tags: vec![poolscope::model::event::TagUsage { tag: "Toke".into(), bytes: 2_400_000_000 }],
        processes: vec![poolscope::model::event::ExhaustedProcess {
            name: names.process.clone(),
            pid: 612,
            created_at: None,
            commit_charge: 90_000_000,
            handle_count: 1_450_000,
        }],
        ..ResourceExhaustion::default()
    };
    vec![
        event(6005, "EventLog", s0, EventKind::Boot { start_time: None }, 4096),
        event(
            6008,
            "EventLog",
            s1 - Duration::minutes(2),
            EventKind::Crash {
                previous_shutdown: Some("5/17/2020 2:00:00 PM".into()),
                previous_shutdown_at: Some(e0 + Duration::minutes(10)),
                bugcheck_code: None,
                reason: None,
                user: None,
            },
            8192,
        ),
        event(
            41,
            "Microsoft-Windows-Kernel-Power",
            s1 - Duration::minutes(3),
            EventKind::Crash {
                previous_shutdown: None,
                previous_shutdown_at: None,
                bugcheck_code: Some(0),
                reason: None,
                user: None,
            },
            12_288,
        ),
        event(6005, "EventLog", s1 - Duration::minutes(1), EventKind::Boot { start_time: None }, 16_384),
        event(2020, "Srv", t(2020, 5, 22, 22, 28), EventKind::PoolEmpty { pool: PoolType::Paged }, 20_480),
        event(
            2004,
            "Microsoft-Windows-Resource-Exhaustion-Detector",
            t(2020, 5, 22, 22, 35),
            EventKind::ResourceExhaustion(Box::new(exhaustion)),
            24_576,
        ),
    ]
}

fn dataset(names: &Names) -> Dataset {
    let mut host = HostData {
        pool_snapshots: pool_snapshots(names),
        handle_snapshots: handle_snapshots(names),
        events: events(names),
        ..HostData::default()
    };
    host.events.sort_by_key(|e| e.time);
    let mut dataset = Dataset::default();
    dataset.hosts.insert(HOST.into(), host);
    dataset.diagnostics = vec![
        Diagnostic::at_line(
            format!("archive/{HOST}/poolmon-boot1.log"),
            6409,
            Severity::Error,
            "row has 5 columns, expected 7",
        ),
        Diagnostic::for_file("", Severity::Warning, "no --tz given: local times read as UTC"),
    ];
    dataset
}

fn suspect(rank: u32, tag: &str, pool: PoolType, per_hour: f64, per_alloc: f64, now: u64, outstanding: u64) -> Suspect {
    Suspect {
        host: HOST.into(),
        boot: 1,
        rank,
        tag: tag.into(),
        pool,
        bytes_per_hour: per_hour,
        bytes_per_hour_ci: [per_hour * 0.98, per_hour * 1.02],
        ols_bytes_per_hour: per_hour * 1.01,
        r_squared: 0.999,
        outstanding_per_hour: per_hour / per_alloc,
        per_alloc_bytes: per_alloc,
        per_alloc_stable: true,
        alloc_free_ratio: 1.0162,
        positive_step_share: 0.97,
        share_of_growth: if pool == PoolType::Paged { 0.99 } else { 1.0 },
        trend_p: 1e-9,
        trend_q: 1e-8,
        end_point_delta_bytes: (per_hour * 89.0) as i64,
        bytes_now: now,
        outstanding_now: outstanding,
        driver: None,
        description: None,
        repeats_in_boots: vec![0],
    }
}

fn analysis(names: &Names) -> Analysis {
    let (s0, e0) = boot0();
    let (s1, e1) = boot1();
    let hours = (e1 - s1).num_seconds() as f64 / 3600.0;
    let toke_now = 20_000 + (16_000.0 * hours) as u64;
    let mut toke = suspect(
        1,
        "Toke",
        PoolType::Paged,
        16_000.0 * TOKEN_BYTES as f64,
        TOKEN_BYTES as f64,
        toke_now * TOKEN_BYTES,
        toke_now,
    );
    toke.driver = Some(names.driver.clone());
    toke.description = Some("Token objects".into());
    let thre_now = 1_200 + (20.0 * hours) as u64;
    let mut thre = suspect(2, "Thre", PoolType::Nonpaged, 20.0 * 1232.0, 1232.0, thre_now * 1232, thre_now);
    thre.description = Some("Thread objects".into());
    thre.repeats_in_boots = Vec::new();
    let key = suspect(3, "Key ", PoolType::Paged, 30.0, 192.0, 3_012 * 192, 3_012);
    let paged_now = toke_now * TOKEN_BYTES + 70_000 * 512 + 9_006 * 4096 + 3_006 * 192;
    let rate = 16_000.0 * TOKEN_BYTES as f64;
    // The limit the leak reaches 25 minutes after the last sample, just after the hang was logged.
    let limit = paged_now + (rate * 25.0 / 60.0) as u64;
    let exhaustion = e1 + Duration::seconds(((limit - paged_now) as f64 / rate * 3600.0) as i64);
    Analysis {
        schema_version: ANALYSIS_SCHEMA_VERSION,
        verdicts: vec![Verdict {
            host: HOST.into(),
            boot: 1,
            leak_found: true,
            // Log-derived names reach the block's lines too, so the HTML must escape them there as well.
            block: VerdictBlock {
                what: Some(format!("paged pool tag Toke (Token objects), driver {}", names.driver)),
                how_fast: Some("+25.4 MiB/h (95% CI 24.9-25.9)".into()),
                when: Some("paged pool limit about 2020-05-23 01:58 CEST".into()),
                who: Some(format!(
                    "{}: 99% of Token handle growth; 100% are tokens of {}",
                    names.process, names.account
                )),
                evidence: None,
                stacks: Some(format!(
                    "AIFO 6,189 allocations of tag Toke, allocated from {}!SepDuplicateToken",
                    names.process
                )),
                drivers: Some(format!(
                    "1 of 30 loaded drivers not Microsoft's: {} minifilter (altitude 329420; publisher unknown): \
                     question it first",
                    names.driver
                )),
            },
            text: format!(
                "Paged pool tag Toke (Token objects) grows 25.4 MiB/h, 99% of the paged pool's growth; the paged pool \
                 limit is reached about 2020-05-23 01:58 CEST. {} holds ever more Token handles for {}.",
                names.process, names.account
            ),
        }],
        boots: vec![
            Boot {
                host: HOST.into(),
                boot: 0,
                start: s0,
                end: e0,
                start_evidence: "event 6005".into(),
                end_evidence: "6008 after".into(),
                died: true,
                pool_samples: 331,
                fit_start: s0 + Duration::hours(1),
                too_short: None,
            },
            Boot {
                host: HOST.into(),
                boot: 1,
                start: s1,
                end: e1,
                start_evidence: "event 6005".into(),
                end_evidence: "2004 at 2020-05-22 22:35".into(),
                died: true,
                pool_samples: 535,
                fit_start: s1 + Duration::hours(1),
                too_short: None,
            },
        ],
        suspects: vec![toke, thre, key],
        undecided: vec![poolscope::analysis::Undecided {
            host: HOST.into(),
            boot: 1,
            tag: "CM25".into(),
            pool: PoolType::Paged,
            bytes_per_hour: 900_000.0,
            early_bytes_per_hour: 1_500_000.0,
            late_bytes_per_hour: 400_000.0,
            early_outstanding_per_hour: 480.0,
            late_outstanding_per_hour: 130.0,
            per_alloc_bytes: 3_100.0,
            more_hours: 3.0,
            decide: "3 more hours of samples: a cache levels off, a leak keeps its rate".into(),
        }],
        rejected: vec![poolscope::analysis::Rejected {
            host: HOST.into(),
            boot: 1,
            tag: "MmSt".into(),
            pool: PoolType::Paged,
            reason: "levels off (no sustained growth over the last half)".into(),
            bytes_per_hour: 160_000.0,
            late_bytes_per_hour: 0.0,
            q: 1e-6,
        }],
        projections: vec![
            Projection {
                host: HOST.into(),
                boot: 1,
                pool: Resource::Paged,
                limit_bytes: limit,
                limit_source: "--limit-paged".into(),
                now_bytes: paged_now,
                now_at: e1,
                bytes_per_hour: rate,
                rate_source: "suspects' robust slopes + residual trend".into(),
                exhaustion_at: Some(exhaustion),
                exhaustion_range: Some([exhaustion - Duration::minutes(40), exhaustion + Duration::minutes(45)]),
                naive_exhaustion_at: Some(exhaustion - Duration::hours(2)),
                warning_at: Some(s1 + Duration::hours(62)),
                critical_at: Some(s1 + Duration::hours(83)),
                observed_exhaustion_at: Some(t(2020, 5, 22, 22, 28)),
                observed_evidence: Some("Srv 2020 at 2020-05-22 22:28".into()),
            },
            Projection {
                host: HOST.into(),
                boot: 1,
                pool: Resource::Nonpaged,
                limit_bytes: 6 * 1024 * 1024 * 1024,
                limit_source: "75% of RAM (Server 2008 R2)".into(),
                now_bytes: thre_now * 1232 + 8_006 * 256,
                now_at: e1,
                bytes_per_hour: 20.0 * 1232.0,
                rate_source: "suspects' robust slopes + residual trend".into(),
                exhaustion_at: None,
                exhaustion_range: None,
                naive_exhaustion_at: None,
                warning_at: None,
                critical_at: None,
                observed_exhaustion_at: None,
                observed_evidence: None,
            },
        ],
        attributions: vec![poolscope::analysis::attribution::Attribution {
            host: HOST.into(),
            boot: 1,
            tag: "Toke".into(),
            object_type: "Token".into(),
            process: names.process.clone(),
            pid: Some(612),
            from: s1 + Duration::hours(2),
            to: e1 - Duration::hours(1),
            dumps: 3,
            handles: [40, 7_000],
            handles_per_hour: Some(80.0),
            type_handles_per_hour: Some(82.0),
            share_of_growth: Some(80.0 / 82.0),
            share_of: poolscope::analysis::attribution::SYSTEM_WIDE.into(),
            held_share: None,
            account: Some(names.account.clone()),
            account_share: Some(0.99),
            tag_outstanding_per_hour: 80.0,
            strength: "3 dumps over 87.0 h; 88 system-wide summaries".into(),
        }],
        correlations: vec![Correlation {
            host: HOST.into(),
            boot: 1,
            tag: "Toke".into(),
            process: names.process.clone(),
            handle_type: "Token".into(),
            account: Some(names.account.clone()),
            coefficient: 0.93,
            lag: 0,
            samples: 88,
            handles_per_hour: 80.0,
            invariant: true,
            q: 1e-9,
        }],
        // Frames come from the trace's symbols: log text like any other.
        process_growth: Vec::new(),
        allocation_stacks: vec![AllocationStacks {
            host: HOST.into(),
            tag: "Toke".into(),
            pool: Some(PoolType::Paged),
            suspect: true,
            outstanding: 6_189,
            outstanding_bytes: 6_189 * TOKEN_BYTES,
            dominant_size: Some(TOKEN_BYTES),
            dominant_size_count: 6_043,
            by_kind: BTreeMap::from([(AllocationKind::Aifo, 6_189), (AllocationKind::Aifi, 21_402)]),
            callers: vec![StackCaller {
                frame: format!("{}!SepDuplicateToken", names.process),
                frames: vec![format!("{}!SepDuplicateToken", names.process), "nt!NtDuplicateToken".into()],
                count: 6_043,
                share: 6_043.0 / 6_189.0,
            }],
            sources: vec!["in/wpa-pool-usage.csv".into()],
        }],
        series: Vec::new(),
        parameters: Parameters {
            warmup_hours: None,
            limit_paged: Some(limit),
            limit_nonpaged: None,
            fdr: 0.05,
            tz: "Europe/Berlin".into(),
        },
        diagnostics: vec![Diagnostic::for_file("", Severity::Info, "warm-up: first hour of each boot excluded")],
    }
}

fn options(format: ChartFormat) -> ReportOptions {
    ReportOptions { charts: format, ..ReportOptions::default() }
}

/// Writes the report; with `POOLSCOPE_KEEP_REPORT=DIR` set, also into DIR for a person to look at.
fn write(names: &Names, format: ChartFormat) -> (tempfile::TempDir, report::ReportFiles) {
    let dir = tempfile::tempdir().unwrap();
    let (analysis, dataset) = (analysis(names), dataset(names));
    let files = report::write_report(&analysis, &dataset, &options(format), &dir.path().join("report")).unwrap();
    if let Some(keep) = std::env::var_os("POOLSCOPE_KEEP_REPORT") {
        report::write_report(&analysis, &dataset, &options(format), Path::new(&keep)).unwrap();
    }
    (dir, files)
}

#[test]
fn report_writes_every_file() {
    let (_dir, files) = write(&Names::normal(), ChartFormat::Png);
    let analysis = analysis(&Names::normal());
    let json = std::fs::read(&files.analysis_json).unwrap();
    let mut expected = serde_json::to_vec_pretty(&analysis).unwrap();
    expected.push(b'\n');
    assert_eq!(json, expected, "analysis.json is exactly `analyze --format json`");
    assert!(std::fs::read_to_string(&files.summary_md).unwrap().starts_with("# Kernel pool leak summary: SRV01"));
    assert!(std::fs::read_to_string(&files.index_html).unwrap().starts_with("<!DOCTYPE html>"));
    let names: Vec<String> = files.data.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["pool_samples.csv", "handle_samples.csv", "events.csv"]);
    let pool_csv = std::fs::read_to_string(&files.data[0]).unwrap();
    assert!(pool_csv.lines().next().unwrap().contains("tag"));
    assert_eq!(pool_csv.lines().count(), 1 + 6 * pool_snapshots(&Names::normal()).len());
    let charts: Vec<String> =
        files.charts.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(
        charts,
        [
            "01-pool-totals-SRV01.png",
            // The nonpaged projection is not drawn: 5 MiB of 6 GiB, exhaustion centuries away.
            "02-projection-SRV01-b1-paged-pool.png",
            "03-tag-SRV01-b1-Toke-paged.png",
            "04-tag-SRV01-b1-Thre-nonpaged.png",
            "05-tag-SRV01-b1-Key_-paged.png",
            "06-accounts-SRV01-b1-lsass.exe.png",
            "07-handles-SRV01-lsass.exe.png",
            "08-top-tags-SRV01-b1.png",
            "09-rejected-SRV01-b1.png",
        ]
    );
    // No temporary files are left behind.
    for dir in [files.index_html.parent().unwrap(), files.charts[0].parent().unwrap(), files.data[0].parent().unwrap()]
    {
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!name.starts_with('.'), "temporary file left: {name}");
        }
    }
}

/// Decodes a PNG and returns its pixels.
fn decode(path: &Path) -> image::RgbImage {
    image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8()
}

fn has_colour(img: &image::RgbImage, rgb: [u8; 3], at_least: usize) -> bool {
    img.pixels().filter(|p| p.0 == rgb).count() >= at_least
}

#[test]
fn png_charts_are_1200x700_not_blank_and_show_their_series_colours() {
    let (_dir, files) = write(&Names::normal(), ChartFormat::Png);
    for path in &files.charts {
        let img = decode(path);
        assert_eq!(img.dimensions(), (1200, 700), "{}", path.display());
        let inked = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        let share = inked as f64 / f64::from(1200 * 700);
        assert!(share > 0.02 && share < 0.6, "{}: {share:.3} of the pixels are drawn", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        // The first data series is Okabe-Ito blue on every chart.
        assert!(has_colour(&img, [PALETTE[0].0, PALETTE[0].1, PALETTE[0].2], 400), "{name}: no blue series");
        // Twin-axis and multi-series charts also draw the second palette colour (vermillion)...
        if name.contains("-tag-SRV01-b1-Toke") || name.contains("handles") {
            assert!(has_colour(&img, [PALETTE[1].0, PALETTE[1].1, PALETTE[1].2], 200), "{name}: no second series");
        }
        // ...and the totals chart draws nonpaged pool in bluish green, events in their own neutral grey (not
        // the vermillion of a second series).
        if name.contains("pool-totals") {
            assert!(has_colour(&img, [PALETTE[2].0, PALETTE[2].1, PALETTE[2].2], 200), "{name}: no nonpaged series");
            assert!(has_colour(&img, [EVENT.0, EVENT.1, EVENT.2], 200), "{name}: no event markers");
        }
        if name.contains("projection-SRV01-b1-paged") {
            // Warning and critical bands are translucent Okabe-Ito orange and vermillion over white.
            let banded = img.pixels().filter(|p| p.0[0] > 240 && p.0[1] > 200 && p.0[1] < 245 && p.0[2] < 235).count();
            assert!(banded > 10_000, "{name}: bands missing ({banded} pixels)");
        }
    }
}

#[test]
fn svg_charts_are_written_on_request_and_embedded() {
    let (_dir, files) = write(&Names::normal(), ChartFormat::Svg);
    assert!(!files.charts.is_empty());
    for path in &files.charts {
        assert_eq!(path.extension().unwrap(), "svg");
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"), "{}", path.display());
        assert!(text.contains("width=\"1200\"") && text.contains("height=\"700\""));
    }
    let html = std::fs::read_to_string(&files.index_html).unwrap();
    assert!(html.contains("src=\"data:image/svg+xml;base64,"));
}

fn markdown(names: &Names) -> String {
    let (analysis, dataset) = (analysis(names), dataset(names));
    let report = Report::without_charts(&analysis, &dataset, &ReportOptions::default());
    report::markdown::render(&report)
}

#[test]
fn summary_md_is_the_ticket_ready_evidence() {
    insta::assert_snapshot!("summary_md", markdown(&Names::normal()));
}

/// The HTML's outline: section ids and headings, in order (the whole file is too big to snapshot).
fn outline(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..=end.min(rest.len() - 1)];
        if let Some(id) =
            tag.strip_prefix("<section").and_then(|t| t.split("id=\"").nth(1)).and_then(|t| t.split('"').next())
        {
            let _ = writeln!(out, "section #{id}");
        }
        for h in ["<h1", "<h2", "<h3"] {
            if tag.starts_with(h) {
                let close = format!("</{}>", &h[1..]);
                let body = &rest[end + 1..rest.find(&close).unwrap()];
                let text = strip_tags(body);
                let _ = writeln!(out, "  {}: {text}", &h[1..]);
            }
        }
        rest = &rest[1..];
    }
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in s.chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn html_outline_puts_the_verdict_first() {
    let (_dir, files) = write(&Names::normal(), ChartFormat::Png);
    let html = std::fs::read_to_string(&files.index_html).unwrap();
    let outline = outline(&html);
    assert!(outline.find("section #verdict").unwrap() < outline.find("section #suspects").unwrap());
    insta::assert_snapshot!("html_outline", outline);
    // Every chart is embedded, and every in-page link has a target.
    assert_eq!(html.matches("<img src=\"data:image/png;base64,").count(), files.charts.len());
    for href in html.split("href=\"#").skip(1).map(|s| s.split('"').next().unwrap()) {
        assert!(html.contains(&format!("id=\"{href}\"")), "dangling link #{href}");
    }
}

#[test]
fn html_is_self_contained_and_loads_nothing() {
    let (_dir, files) = write(&Names::normal(), ChartFormat::Png);
    let html = std::fs::read_to_string(&files.index_html).unwrap();
    let lower = html.to_lowercase();
    for banned in
        ["<script", "<link", "<iframe", "<object", "<embed", "@import", "url(", "http://", "https://", "file://"]
    {
        assert!(!lower.contains(banned), "index.html contains {banned}");
    }
    for src in html.split(" src=\"").skip(1) {
        assert!(src.starts_with("data:image/"), "non-data source: {}", &src[..40.min(src.len())]);
    }
    assert!(html.contains("Content-Security-Policy") && html.contains("default-src 'none'"));
    assert!(html.contains("@media print"));
}

#[test]
fn hostile_log_text_is_shown_as_escaped_text() {
    let (_dir, files) = write(&Names::hostile(), ChartFormat::Svg);
    let html = std::fs::read_to_string(&files.index_html).unwrap();
    let md = std::fs::read_to_string(&files.summary_md).unwrap();
    for (name, text) in [("index.html", &html), ("summary.md", &md)] {
        assert!(!text.contains("<script>alert"), "{name} carries a raw script tag");
        assert!(!text.contains("<img src=x"), "{name} carries a raw img tag");
    }
    // ...and the text is still there, escaped, for the reader.
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Rendered by a real GFM parser, the hostile names make no HTML, no link and no extra cell.
    let rendered = crate::markdown::render(&md);
    crate::markdown::assert_pasteable(&rendered, "hostile summary.md");
    assert!(rendered.text.contains("<script>alert(1)</script>"), "the reader still sees the text");
    // The account table (from handle.exe names) shows the hostile account escaped.
    assert!(html.contains("Token handles held by &lt;script&gt;"));
    // Chart files are named from sanitised text and their SVG text is escaped too.
    for path in &files.charts {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "{name}");
        let svg = std::fs::read_to_string(path).unwrap();
        assert!(!svg.contains("<script") && !svg.contains("<img"), "{name}");
    }
}

#[test]
fn reports_are_byte_identical_across_runs() {
    let (_a, first) = write(&Names::normal(), ChartFormat::Png);
    let (_b, second) = write(&Names::normal(), ChartFormat::Png);
    for (a, b) in [(&first.index_html, &second.index_html), (&first.summary_md, &second.summary_md)] {
        assert!(std::fs::read(a).unwrap() == std::fs::read(b).unwrap(), "{} differs between runs", a.display());
    }
}

#[test]
fn a_report_is_never_written_into_an_input_folder() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir_all(&archive).unwrap();
    let (analysis, dataset) = (analysis(&Names::normal()), dataset(&Names::normal()));
    let options = ReportOptions { inputs: vec![archive.clone()], ..ReportOptions::default() };
    let err = report::write_report(&analysis, &dataset, &options, &archive.join("report")).unwrap_err();
    assert!(err.to_string().contains("inside the input folder"), "{err}");
    assert_eq!(std::fs::read_dir(&archive).unwrap().count(), 0, "nothing was written");
}

#[test]
fn an_empty_analysis_still_gives_a_readable_report() {
    let dir = tempfile::tempdir().unwrap();
    let analysis = Analysis {
        schema_version: ANALYSIS_SCHEMA_VERSION,
        verdicts: Vec::new(),
        boots: Vec::new(),
        suspects: Vec::new(),
        undecided: Vec::new(),
        rejected: Vec::new(),
        projections: Vec::new(),
        attributions: Vec::new(),
        correlations: Vec::new(),
        process_growth: Vec::new(),
        allocation_stacks: Vec::new(),
        series: Vec::new(),
        parameters: Parameters { fdr: 0.05, tz: "UTC".into(), ..Parameters::default() },
        diagnostics: vec![Diagnostic::for_file("in/x.bin", Severity::Error, "no known format")],
    };
    let files = report::write_report(&analysis, &Dataset::default(), &ReportOptions::default(), dir.path()).unwrap();
    assert!(files.charts.is_empty());
    let html = std::fs::read_to_string(&files.index_html).unwrap();
    assert!(html.contains("no verdict") && html.contains("no known format"));
    let md = std::fs::read_to_string(&files.summary_md).unwrap();
    assert!(md.contains("No verdict"), "{md}");
}

#[test]
fn parquet_tables_are_written_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let (analysis, dataset) = (analysis(&Names::normal()), dataset(&Names::normal()));
    let options = ReportOptions { parquet: true, ..ReportOptions::default() };
    let files = report::write_report(&analysis, &dataset, &options, dir.path()).unwrap();
    let parquet: Vec<&std::path::PathBuf> = files.data.iter().filter(|p| p.extension().unwrap() == "parquet").collect();
    assert_eq!(parquet.len(), 3);
    for path in parquet {
        // Parquet files start and end with the `PAR1` magic.
        let bytes = std::fs::read(path).unwrap();
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"), "{}", path.display());
    }
}

fn poolscope() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("poolscope").expect("binary built");
    cmd.env("NO_COLOR", "1");
    cmd
}

/// The command as a user runs it: a simulated incident in, the report folder out.
#[test]
fn report_command_writes_the_folder_for_a_simulated_incident() {
    let dir = tempfile::tempdir().unwrap();
    let incident = dir.path().join("incident");
    let out = dir.path().join("report");
    poolscope()
        .args(["-q", "simulate", "lsass-token-leak", "--hours", "40", "--interval", "10m", "--tags", "40", "-o"])
        .arg(&incident)
        .assert()
        .success();
    let assert = poolscope().arg("report").arg(&incident).arg("-o").arg(&out).args(["--fail-on", "leak"]).assert();
    // A leak was found and --fail-on leak asked about it: exit 1, and the report is written anyway.
    let output = assert.code(1).get_output().clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.stdout.is_empty(), "stdout carries no talk");
    assert!(stderr.contains("leak found") && stderr.contains("index.html"), "{stderr}");
    for name in ["index.html", "summary.md", "analysis.json", "data/pool_samples.csv", "data/events.csv"] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("| Toke | paged |"), "{summary}");
    let charts = std::fs::read_dir(out.join("charts")).unwrap().count();
    assert!(charts >= 3, "{charts} charts");
    // analysis.json is what `analyze --format json` prints for the same inputs.
    let json = poolscope().args(["-q", "analyze", "--format", "json"]).arg(&incident).assert().success();
    assert_eq!(std::fs::read(out.join("analysis.json")).unwrap(), json.get_output().stdout);
}

#[test]
fn report_command_refuses_an_output_folder_inside_the_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let incident = dir.path().join("incident");
    std::fs::create_dir_all(&incident).unwrap();
    std::fs::write(incident.join("poolmon.log"), b"not really poolmon\r\n").unwrap();
    let assert = poolscope().arg("report").arg(&incident).arg("-o").arg(incident.join("report")).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("inside the input folder"), "{stderr}");
    assert!(!incident.join("report").exists());
}

/// The projection chart of `p`, built as the report builds it.
fn projection_chart(analysis: &Analysis, dataset: &Dataset, p: &Projection) -> poolscope::report::Chart {
    use poolscope::report::chart::build;
    let report = Report::without_charts(analysis, dataset, &options(ChartFormat::Png));
    let ctx = build::Context { analysis, source: &report.source, tz: report.tz, events: &report.events };
    build::projection(&ctx, p).expect("a projection chart")
}

/// The x range and the sustained projection line of a projection chart.
fn sustained(
    chart: &poolscope::report::Chart,
) -> (f64, f64, Vec<(f64, f64)>, Option<poolscope::report::chart::AxisCut>) {
    use poolscope::report::chart::XAxis;
    let XAxis::Time { start, end, cut, .. } = chart.x.clone() else { panic!("a time axis") };
    let line = chart.panels[0].lines.iter().find(|l| l.label.contains("(sustained)")).expect("the sustained line");
    (start, end, line.points.clone(), cut)
}

#[test]
fn projection_axis_reaches_the_exhaustion_so_the_sustained_line_meets_the_limit() {
    let names = Names::normal();
    let (mut analysis, dataset) = (analysis(&names), dataset(&names));
    // Exhaustion two observed spans after the last sample: once beyond the old 3-span-or-24-h cap's
    // subtitle case, now drawn to scale.
    let mut p = analysis.projections[0].clone();
    let span = p.now_at - boot1().0;
    p.exhaustion_at = Some(p.now_at + span * 2);
    p.observed_exhaustion_at = None;
    analysis.projections[0] = p.clone();
    let chart = projection_chart(&analysis, &dataset, &p);
    let (start, end, points, cut) = sustained(&chart);
    assert!(cut.is_none(), "no break for an exhaustion two spans away");
    let &(x, y) = points.last().unwrap();
    assert!(y >= p.limit_bytes as f64 - 1.0, "the sustained line ends at the limit: {y}");
    assert!(x > start && x <= end, "its end {x} is inside the axis {start}..{end}");
    assert!((x - p.exhaustion_at.unwrap().timestamp() as f64).abs() < 1.0, "it ends at the exhaustion");
    assert!(!chart.subtitle.contains("beyond the chart"), "{}", chart.subtitle);
    // The projected marker is on the axis too.
    assert!(chart.panels[0].markers.iter().any(|m| m.label == "projected" && m.x <= end));
}

#[test]
fn projection_axis_breaks_for_a_far_exhaustion_and_names_it_at_the_right_edge() {
    let names = Names::normal();
    let (mut analysis, dataset) = (analysis(&names), dataset(&names));
    let mut p = analysis.projections[0].clone();
    let span = p.now_at - boot1().0;
    let far = p.now_at + span * 40;
    p.exhaustion_at = Some(far);
    p.observed_exhaustion_at = None;
    analysis.projections[0] = p.clone();
    let chart = projection_chart(&analysis, &dataset, &p);
    let (start, end, points, cut) = sustained(&chart);
    let cut = cut.expect("a break in the axis");
    let now = p.now_at.timestamp() as f64;
    // The data keeps most of the width: the break is shortly after the last sample.
    assert!(cut.at > now && cut.at - start < 1.5 * (now - start), "break at {} for data {start}..{now}", cut.at);
    assert!(end > cut.at && end - cut.at < 0.2 * (end - start));
    assert!((cut.target - far.timestamp() as f64).abs() < 1.0);
    assert_eq!(cut.label, far.with_timezone(&chrono_tz::Europe::Berlin).format("%b %-d %Y").to_string());
    let &(x, y) = points.last().unwrap();
    assert!(y >= p.limit_bytes as f64 - 1.0 && (x - end).abs() < 1e-6, "ends at the limit at the right edge");
    assert!(chart.subtitle.contains("axis broken"), "{}", chart.subtitle);
    // It renders, and with POOLSCOPE_KEEP_CHART=DIR a person can look at it.
    let png = poolscope::report::chart::render_png(&chart).unwrap();
    if let Some(dir) = std::env::var_os("POOLSCOPE_KEEP_CHART") {
        std::fs::write(Path::new(&dir).join("projection-cut.png"), &png).unwrap();
    }
}

/// The synthetic host twice: SRV01 leaking as above, SRV02 the same records with no suspects.
fn fleet(names: &Names) -> (Analysis, Dataset) {
    let (mut analysis, mut dataset) = (analysis(names), dataset(names));
    let copy = dataset.hosts[HOST].clone();
    dataset.hosts.insert("SRV02".into(), copy);
    let boots: Vec<Boot> = analysis.boots.iter().map(|b| Boot { host: "SRV02".into(), ..b.clone() }).collect();
    analysis.boots.extend(boots);
    (analysis, dataset)
}

#[test]
fn a_fleet_report_has_an_overview_index_linking_host_pages() {
    let names = Names::normal();
    let (analysis, dataset) = fleet(&names);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let files = report::write_report(&analysis, &dataset, &options(ChartFormat::Png), &out).unwrap();
    if let Some(keep) = std::env::var_os("POOLSCOPE_KEEP_FLEET") {
        report::write_report(&analysis, &dataset, &options(ChartFormat::Png), Path::new(&keep)).unwrap();
    }
    let index = std::fs::read_to_string(&files.index_html).unwrap();
    assert!(index.contains("fleet of 2 hosts"), "the index is the fleet overview");
    // One row per host, the leaking host first, each linking its page.
    let first = index.find("href=\"hosts/SRV01.html\"").expect("a link to SRV01's page");
    let second = index.find("href=\"hosts/SRV02.html\"").expect("a link to SRV02's page");
    assert!(first < second, "worst suspect first");
    assert!(index.contains("+25.4 MiB/h") || index.contains("MiB/h"), "the worst rate is shown");
    assert_eq!(files.host_pages.len(), 2);
    for page in &files.host_pages {
        let html = std::fs::read_to_string(page).unwrap();
        assert!(html.contains("href=\"../index.html\""), "{}: a way back", page.display());
        assert!(!html.contains("(0), with their statistics"), "{}: an empty table of growing tags", page.display());
        // A host page embeds only its own host's charts.
        let other = if page.ends_with("SRV01.html") { "SRV02" } else { "SRV01" };
        assert!(!html.contains(&format!("charts/01-pool-totals-{other}")), "{}", page.display());
    }
    let srv02 = std::fs::read_to_string(out.join("hosts/SRV02.html")).unwrap();
    assert!(srv02.contains("No pool tag grew significantly."));
    // The fleet chart is a decodable PNG, listed with the charts.
    let chart = files.charts.iter().find(|p| p.ends_with(report::fleet::CHART_FILE)).expect("the fleet chart");
    let img = decode(chart);
    assert_eq!(img.width(), 1200);
    assert!(has_colour(&img, [213, 94, 0], 200), "the leaking host's bar");
    // Deterministic: a second run writes the same bytes.
    let again =
        report::write_report(&analysis, &dataset, &options(ChartFormat::Png), &dir.path().join("again")).unwrap();
    assert_eq!(std::fs::read(&files.index_html).unwrap(), std::fs::read(&again.index_html).unwrap());
    assert_eq!(
        std::fs::read(chart).unwrap(),
        std::fs::read(dir.path().join("again/charts").join(report::fleet::CHART_FILE)).unwrap()
    );
    for (a, b) in files.host_pages.iter().zip(&again.host_pages) {
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }
}
