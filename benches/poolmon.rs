//! poolmon parsing throughput over a generated x64 `-n -r` log (never run in CI): whole-text [`poolmon::parse`]
//! and streaming [`poolmon::parse_reader`], in bytes per second. `examples/poolmon_throughput.rs` times 100+ MB
//! and reports peak memory.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use poolscope::parse::poolmon;
use poolscope::parse::FileContext;

#[path = "support/poolmon_gen.rs"]
mod poolmon_gen;

fn bench(c: &mut Criterion) {
    let (log, snapshots) = poolmon_gen::log_of_size(16 * 1024 * 1024);
    let ctx = FileContext { path: "bench.log".into(), ..FileContext::default() };
    let mut group = c.benchmark_group("poolmon");
    group.throughput(Throughput::Bytes(log.len() as u64));
    group.sample_size(10);
    group.bench_function(format!("parse_x64_n_r_{snapshots}_snapshots"), |b| {
        b.iter(|| {
            let (snaps, _) = poolmon::parse(&log, &ctx);
            assert_eq!(snaps.len(), snapshots);
            snaps
        });
    });
    group.bench_function(format!("parse_reader_x64_n_r_{snapshots}_snapshots"), |b| {
        b.iter(|| {
            let mut rows = 0usize;
            poolmon::parse_reader(log.as_bytes(), &ctx, |s| rows += s.rows.len());
            assert_eq!(rows, snapshots * poolmon_gen::TAGS);
            rows
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
