//! `analyze` throughput over generated datasets (never run in CI), in pool rows per second: one host
//! with about 600 tags sampled every minute for 22, 45 and 90 hours (the seed case's scale is the
//! last: 5,400 snapshots, 3.2 million rows). Time should grow about linearly with the rows.
//!
//! End-to-end figures (parse + analyze, peak memory) come from the release binary on a simulated
//! archive: `poolscope simulate lsass-token-leak -o DIR && /usr/bin/time -v poolscope analyze DIR`.

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use poolscope::analysis::{analyze, AnalyzeOptions};
use poolscope::model::{Dataset, HostData, PoolHeader, PoolRow, PoolSnapshot, PoolType, SourceRef, TimeSource};

/// Background tags besides the leak and the caches.
const TAGS: usize = 594;

/// xorshift: a fixed-seed generator for the dataset.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One host, `hours` of one-minute snapshots: `Toke` leaking 26 MB/h, five caches filling with
/// 1.5-3.5 h time constants, and [`TAGS`] background tags wandering around their level.
fn dataset(hours: usize) -> (Dataset, u64) {
    let mut rng = Rng(0x00b0_0715);
    let t0 = Utc.with_ymd_and_hms(2020, 5, 18, 20, 0, 0).unwrap();
    let names: Vec<String> = (0..TAGS).map(|i| format!("B{i:03}")).collect();
    let mut levels: Vec<f64> = (0..TAGS).map(|i| 500.0 + (i % 50) as f64 * 200.0).collect();
    let mut snaps = Vec::with_capacity(hours * 60 + 1);
    let mut rows_total = 0u64;
    for m in 0..=hours * 60 {
        let h = m as f64 / 60.0;
        let mut rows = Vec::with_capacity(TAGS + 6);
        let mut push = |tag: &str, pool, outstanding: f64, per_alloc: u64, churn: u64| {
            let diff = outstanding.max(0.0) as u64;
            rows.push(PoolRow {
                tag: tag.into(),
                pool,
                allocs: churn * m as u64 + diff,
                frees: churn * m as u64,
                diff,
                bytes: diff * per_alloc,
                per_alloc,
                driver: None,
            });
        };
        push("Toke", PoolType::Paged, 1_800.0 + 15_700.0 * h * (0.9 + 0.2 * rng.unit()), 1664, 600);
        for (i, cache) in ["MmSt", "CM31", "Ntff", "FMfn", "CM25"].iter().enumerate() {
            let tau = 1.5 + 0.5 * i as f64;
            push(cache, PoolType::Paged, 100_000.0 * (1.0 - (-h / tau).exp()) * (1.0 + 0.02 * rng.unit()), 1024, 900);
        }
        for (i, level) in levels.iter_mut().enumerate() {
            *level = (*level + (rng.unit() - 0.5) * 10.0).max(10.0);
            let pool = if i % 3 == 0 { PoolType::Nonpaged } else { PoolType::Paged };
            push(&names[i], pool, *level, 64 + (i as u64 % 8) * 64, 50);
        }
        rows_total += rows.len() as u64;
        let paged: u64 = rows.iter().filter(|r| r.pool == PoolType::Paged).map(|r| r.bytes).sum();
        snaps.push(PoolSnapshot {
            source: SourceRef::line("poolmon.log", 1 + 620 * m as u64),
            host: Some("BENCH".into()),
            taken_at: Some(t0 + Duration::seconds(60 * m as i64 + (rng.unit() * 3.0) as i64)),
            time_source: TimeSource::TimestampLine,
            header: PoolHeader {
                commit_kb: Some(1_500_000 + paged / 1024),
                limit_kb: Some(4_400_000),
                memory_kb: Some(4_194_304),
                ..PoolHeader::default()
            },
            rows,
        });
    }
    let mut ds = Dataset { hosts: BTreeMap::new(), diagnostics: Vec::new() };
    ds.hosts.insert("BENCH".into(), HostData { pool_snapshots: snaps, ..HostData::default() });
    (ds, rows_total)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("analyze");
    group.sample_size(10);
    for hours in [22, 45, 90] {
        let (ds, rows) = dataset(hours);
        group.throughput(Throughput::Elements(rows));
        group.bench_with_input(BenchmarkId::new("one_host_600_tags_1min", format!("{hours}h")), &ds, |b, ds| {
            b.iter(|| {
                let a = analyze(ds, &AnalyzeOptions::default());
                assert_eq!(a.suspects.first().map(|s| s.tag.as_str()), Some("Toke"));
                a
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
