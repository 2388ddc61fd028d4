//! Simulator throughput (never run in CI), in bytes of archive written per second:
//! - `archive`: `poolscope::simulate::simulate` writing the seed case (300 background tags, 1-minute
//!   poolmon loop, hourly `handle -s`, 6-hourly lsass dumps) for `POOLSCOPE_BENCH_HOURS` hours (default 24)
//!   into a temporary folder, end to end (model, formatting, encoding, files);
//! - `snapshot_text`: formatting poolmon rows alone (the hot loop), per byte of text produced.
//!
//! End to end with the release binary: `poolscope simulate lsass-token-leak --hours 720 -o /tmp/big`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use poolscope::model::PoolType;
use poolscope::simulate::pool_model::RowValues;
use poolscope::simulate::poolmon_writer::{write_snapshot, Row, Summary};
use poolscope::simulate::{simulate, ScenarioName, SimOptions};

fn hours() -> f64 {
    std::env::var("POOLSCOPE_BENCH_HOURS").ok().and_then(|v| v.parse().ok()).unwrap_or(24.0)
}

fn archive_bytes(dir: &std::path::Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn bench(c: &mut Criterion) {
    let mut opts = SimOptions::new(ScenarioName::LsassTokenLeak, 1);
    opts.hours = Some(hours());
    // One run to learn the size, so the throughput is in archive bytes.
    let probe = tempfile::tempdir().expect("temp dir");
    simulate(&opts, probe.path()).expect("simulate");
    let size = archive_bytes(probe.path());
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(size));
    group.bench_function(format!("archive_lsass_token_leak_{}h", hours()), |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            simulate(&opts, dir.path()).expect("simulate")
        });
    });

    let tags: Vec<String> = (0..300).map(|i| format!("T{i:03}")).collect();
    let rows: Vec<Row<'_>> = tags
        .iter()
        .enumerate()
        .map(|(i, tag)| {
            let i = i as u64;
            Row {
                tag,
                pool: if i % 3 == 0 { PoolType::Nonpaged } else { PoolType::Paged },
                values: RowValues {
                    allocs: 4_000_000_000 - i * 7_919,
                    frees: 3_999_000_000 - i * 7_919,
                    diff: 1_000_000,
                    bytes: 1_664_000_000 + i,
                    per_alloc: 1664,
                },
            }
        })
        .collect();
    let mut buf = Vec::new();
    write_snapshot(&mut buf, &Summary::default(), &rows);
    group.throughput(Throughput::Bytes(buf.len() as u64));
    group.sample_size(50);
    group.bench_function("snapshot_text_300_rows", |b| {
        b.iter(|| {
            buf.clear();
            write_snapshot(&mut buf, &Summary::default(), &rows);
            buf.len()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
