//! Simulated event writers (never run in CI), in bytes of output per second:
//! - `write_evtx`: `poolscope::simulate::events::write_evtx` on 20 000 generated System events (every
//!   constructor in rotation, a 2004 event every seventh record), per byte of `.evtx` written;
//! - `to_wevtutil_xml`: the same events as `wevtutil qe /f:xml` text, per byte of XML written.

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use poolscope::model::event::{ExhaustedProcess, ResourceExhaustion, TagUsage};
use poolscope::model::PoolType;
use poolscope::simulate::events::{to_wevtutil_xml, write_evtx, SimEvent};

fn events(count: u64) -> Vec<SimEvent> {
    let start = Utc.with_ymd_and_hms(2025, 1, 6, 0, 0, 0).unwrap();
    let info = ResourceExhaustion {
        commit_limit: Some(34_359_738_368),
        commit_charge: Some(34_300_000_000),
        paged_pool_usage: Some(6_442_450_944),
        paged_tags: vec![TagUsage { tag: "MmSt".into(), bytes: 4_294_967_296 }],
        processes: (0..6)
            .map(|k| ExhaustedProcess {
                name: format!("proc{k}.exe"),
                pid: 1000 + k,
                created_at: Some(start),
                commit_charge: 1 << (30 - k),
                handle_count: 2000,
            })
            .collect(),
        detected_at: Some(start),
        ..ResourceExhaustion::default()
    };
    (1..=count)
        .map(|id| {
            let t = start + Duration::seconds(id as i64);
            match id % 7 {
                0 => SimEvent::resource_exhaustion(t, id, "BENCH01", &info),
                1 => SimEvent::pool_empty(t, id, "BENCH01", PoolType::Paged),
                2 => SimEvent::kernel_power_41(t, id, "BENCH01", 0),
                3 => SimEvent::kernel_general_12(t, id, "BENCH01", t),
                4 => SimEvent::unexpected_shutdown(t, id, "BENCH01", t - Duration::minutes(5)),
                5 => SimEvent::uptime(t, id, "BENCH01", id),
                _ => SimEvent::user32_1074(
                    t,
                    id,
                    "BENCH01",
                    "C:\\Windows\\system32\\shutdown.exe",
                    "Other (Planned)",
                    "restart",
                    "BENCH01\\ops",
                ),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let events = events(20_000);
    let mut group = c.benchmark_group("evtx_writer");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(write_evtx(&events).len() as u64));
    group.bench_function("write_evtx_20k_events", |b| b.iter(|| write_evtx(&events)));
    group.throughput(Throughput::Bytes(to_wevtutil_xml(&events).len() as u64));
    group.bench_function("to_wevtutil_xml_20k_events", |b| b.iter(|| to_wevtutil_xml(&events)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
