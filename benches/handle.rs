//! handle.exe parsing throughput over a generated v5.0 `-a` dump (never run in CI), in bytes per second.
//! `examples/handle_throughput.rs` times a 200+ MB dump end to end.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use poolscope::parse::handle;
use poolscope::parse::FileContext;

#[path = "support/handle_gen.rs"]
mod handle_gen;

fn bench(c: &mut Criterion) {
    let (dump, processes, handles) = handle_gen::dump_of_size(32 * 1024 * 1024);
    let ctx = FileContext { path: "bench.txt".into(), ..FileContext::default() };
    let mut group = c.benchmark_group("handle");
    group.throughput(Throughput::Bytes(dump.len() as u64));
    group.sample_size(10);
    group.bench_function(format!("parse_dump_a_{processes}_processes_{handles}_handles"), |b| {
        // Dropping the snapshots (millions of strings) is not parsing: keep it out of the timing.
        b.iter_with_large_drop(|| {
            let (snaps, _) = handle::parse(&dump, &ctx);
            assert_eq!(snaps[0].processes.len(), processes);
            snaps
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
