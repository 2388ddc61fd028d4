//! Event-log throughput (never run in CI), in input bytes per second:
//! - a >= 100 MiB `.evtx` read into typed events by [`poolscope::parse::events::parse`], next to what the
//!   evtx crate's own `evtx_dump` does with the same file (render every chunk to XML and write it out, on
//!   all threads), so the two figures of one run compare as a ratio. Two files: one written by the
//!   simulated EVTX writer (`poolscope::simulate::events::write_evtx`, self-contained records), and one
//!   made of a real log's chunks repeated (`../shared/samples/evtx/evtx-repo_system.evtx`, templates as
//!   Windows writes them; skipped when the sample is absent);
//! - a >= 100 MiB `wevtutil qe /f:xml` export (no root, one event per line) read into typed events on one
//!   thread (the XML path is a single streaming pass).
//!
//! `POOLSCOPE_BENCH_MIB` changes the size (default 100).

use std::io::{Cursor, Write};
use std::path::Path;

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use evtx::{EvtxParser, ParserSettings};
use poolscope::model::event::{ExhaustedProcess, ResourceExhaustion, TagUsage};
use poolscope::model::PoolType;
use poolscope::parse::{FileContext, Format};
use poolscope::simulate::events::{to_wevtutil_xml, write_evtx, Payload, SimEvent};

fn target_bytes() -> usize {
    std::env::var("POOLSCOPE_BENCH_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(100usize) << 20
}

fn exhaustion(i: u64) -> ResourceExhaustion {
    let base = Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap();
    ResourceExhaustion {
        commit_limit: Some(34_359_738_368),
        commit_charge: Some(34_231_451_648 - i),
        process_commit_charge: Some(9_663_676_416),
        paged_pool_usage: Some(3_221_225_472),
        nonpaged_pool_usage: Some(402_653_184),
        physical_memory_size: Some(17_179_869_184),
        physical_memory_usage: Some(16_642_998_272),
        process_count: Some(187),
        paged_tags: vec![
            TagUsage { tag: "Toke".into(), bytes: 2_469_396_480 },
            TagUsage { tag: "MmSt".into(), bytes: 104_857_600 },
        ],
        nonpaged_tags: vec![TagUsage { tag: "Even".into(), bytes: 41_943_040 }],
        processes: (0..4u32)
            .map(|k| ExhaustedProcess {
                name: format!("proc{k}.exe"),
                pid: 600 + k,
                created_at: Some(base),
                commit_charge: 1 << (30 - k),
                handle_count: 1_394_724,
            })
            .collect(),
        detected_at: Some(base),
    }
}

/// A System-log mix: mostly Service Control Manager 7036 (what real System logs are full of), with the
/// typed events sprinkled in.
fn system_events(count: u64) -> Vec<SimEvent> {
    let base = Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap();
    let services = [
        "Windows Update",
        "Background Intelligent Transfer Service",
        "WinHTTP Web Proxy Auto-Discovery Service",
        "Windows Modules Installer",
    ];
    (1..=count)
        .map(|id| {
            let t = base + Duration::seconds(id as i64 * 3);
            match id % 50 {
                0 => SimEvent::resource_exhaustion(t, id, "SRV-APP01", &exhaustion(id)),
                1 => SimEvent::pool_empty(t, id, "SRV-APP01", PoolType::Paged),
                2 => SimEvent::uptime(t, id, "SRV-APP01", id),
                3 => SimEvent::kernel_power_41(t, id, "SRV-APP01", 0),
                4 => SimEvent::unexpected_shutdown(t, id, "SRV-APP01", t - Duration::minutes(9)),
                5 => SimEvent::user32_1074(
                    t,
                    id,
                    "SRV-APP01",
                    "C:\\Windows\\system32\\shutdown.exe",
                    "Other (Planned)",
                    "restart",
                    "SRV-APP01\\ops",
                ),
                _ => SimEvent {
                    provider: "Service Control Manager".into(),
                    provider_guid: Some("{555908d1-a6d7-4695-8e1e-26931d2012f4}".into()),
                    event_source_name: Some("Service Control Manager".into()),
                    event_id: 7036,
                    qualifiers: Some(16384),
                    version: 0,
                    level: 4,
                    task: 0,
                    opcode: 0,
                    keywords: 0x8080_0000_0000_0000,
                    time: t,
                    record_id: id,
                    computer: "SRV-APP01".into(),
                    channel: "System".into(),
                    user_sid: None,
                    payload: Payload::EventDataBinary {
                        data: vec![
                            (Some("param1".into()), services[id as usize % services.len()].into()),
                            (Some("param2".into()), if id % 2 == 0 { "running".into() } else { "stopped".into() }),
                        ],
                        binary: b"w\0u\0a\0u\0s\0e\0r\0v\0/\x004\0\0\0".to_vec(),
                    },
                },
            }
        })
        .collect()
}

/// A simulated `.evtx` of at least `size` bytes.
fn simulated_evtx(size: usize) -> Vec<u8> {
    let probe = write_evtx(&system_events(2000));
    let per_event = probe.len() as f64 / 2000.0;
    let count = (size as f64 / per_event * 1.02) as u64 + 1;
    write_evtx(&system_events(count))
}

/// A `.evtx` of at least `size` bytes made of a real log's chunks repeated; its header is patched
/// (chunk count, CRC) so it reads as one log.
fn replicated_evtx(sample: &Path, size: usize) -> Option<Vec<u8>> {
    let real = std::fs::read(sample).ok()?;
    let chunks = &real[4096..4096 + (real.len() - 4096) / 65536 * 65536];
    let mut out = real[..4096].to_vec();
    while out.len() < size + 4096 {
        out.extend_from_slice(chunks);
    }
    let count = (out.len() - 4096) / 65536;
    out[16..24].copy_from_slice(&(count as u64 - 1).to_le_bytes());
    out[42..44].copy_from_slice(&u16::try_from(count).ok()?.to_le_bytes());
    let crc = poolscope::simulate::evtx::crc32(&out[..120]);
    out[124..128].copy_from_slice(&crc.to_le_bytes());
    Some(out)
}

/// What `evtx_dump` (default settings: XML, indented, record numbers, all threads) does, minus the
/// terminal: every chunk rendered to XML and written to a sink. Returns the bytes written.
fn evtx_dump_equivalent(bytes: &[u8]) -> u64 {
    let settings = ParserSettings::default().num_threads(0).indent(true);
    let mut parser = EvtxParser::from_read_seek(Cursor::new(bytes)).unwrap().with_configuration(settings);
    let mut sink = std::io::sink();
    let mut written = 0u64;
    for chunk in parser.chunks_xml_bytes(true) {
        sink.write_all(&chunk.data).unwrap();
        written += chunk.data.len() as u64;
    }
    written
}

/// What `evtx_dump -o json` does: every record rendered as indented JSON (on all threads) and written out.
fn evtx_dump_json(bytes: &[u8]) -> u64 {
    let settings = ParserSettings::default().num_threads(0).indent(true);
    let mut parser = EvtxParser::from_read_seek(Cursor::new(bytes)).unwrap().with_configuration(settings);
    let mut sink = std::io::sink();
    let mut written = 0u64;
    for record in parser.records_json().flatten() {
        sink.write_all(record.data.as_bytes()).unwrap();
        written += record.data.len() as u64;
    }
    written
}

fn typed(bytes: &[u8], format: Format) -> usize {
    let ctx = FileContext { path: "bench".into(), ..FileContext::default() };
    let (events, _) = poolscope::parse::events::parse(bytes, format, &ctx);
    assert!(!events.is_empty());
    events.len()
}

fn evtx_benches(c: &mut Criterion) {
    let size = target_bytes();
    let mut files = vec![("simulated", simulated_evtx(size))];
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/evtx/evtx-repo_system.evtx");
    match replicated_evtx(&sample, size) {
        Some(bytes) => files.push(("replicated_real_chunks", bytes)),
        None => eprintln!("note: {} absent, replicated-chunk file skipped", sample.display()),
    }
    for (name, bytes) in &files {
        eprintln!("{name}: {} MiB, {} events", bytes.len() >> 20, typed(bytes, Format::Evtx));
        let mut group = c.benchmark_group(format!("evtx_{name}_{}mib", bytes.len() >> 20));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.sample_size(10);
        group.bench_function("evtx_dump_equivalent", |b| b.iter(|| evtx_dump_equivalent(bytes)));
        group.bench_function("evtx_dump_json", |b| b.iter(|| evtx_dump_json(bytes)));
        group.bench_function("poolscope_typed_events", |b| b.iter(|| typed(bytes, Format::Evtx)));
        group.finish();
    }
}

/// Where the time of the typed path goes, on one thread: the crate's per-record rendering alone, then
/// reading the rendered XML into fields, then the whole typed parse.
fn evtx_phases(c: &mut Criterion) {
    use std::sync::Arc;
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/evtx/evtx-repo_system.evtx");
    let Some(bytes) = replicated_evtx(&sample, target_bytes()) else { return };
    let settings = Arc::new(ParserSettings::new().indent(false));
    let walk = |read_fields: bool| {
        let mut parser = EvtxParser::from_read_seek(Cursor::new(&bytes[..])).unwrap();
        let mut n = 0usize;
        for chunk in parser.chunks() {
            let mut chunk = chunk.unwrap();
            let mut chunk = chunk.parse(Arc::clone(&settings)).unwrap();
            for record in chunk.iter() {
                let xml = record.unwrap().into_xml_bytes().unwrap();
                n += if read_fields {
                    poolscope::parse::events::xml::record(&xml.data).unwrap().data.len()
                } else {
                    xml.data.len()
                };
            }
        }
        n
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut group = c.benchmark_group(format!("evtx_phases_1_thread_{}mib", bytes.len() >> 20));
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(10);
    group.bench_function("1_crate_renders_xml", |b| b.iter(|| walk(false)));
    group.bench_function("2_plus_xml_to_fields", |b| b.iter(|| walk(true)));
    group.bench_function("3_typed_events", |b| b.iter(|| pool.install(|| typed(&bytes, Format::Evtx))));
    group.finish();
}

fn xml_benches(c: &mut Criterion) {
    let size = target_bytes();
    let probe = to_wevtutil_xml(&system_events(2000));
    let count = (size as f64 / (probe.len() as f64 / 2000.0) * 1.02) as u64 + 1;
    let xml = to_wevtutil_xml(&system_events(count));
    eprintln!("wevtutil xml: {} MiB, {count} events", xml.len() >> 20);
    // One thread: the XML path is a single pass, so this is the per-core figure.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut group = c.benchmark_group(format!("wevtutil_xml_{}mib", xml.len() >> 20));
    group.throughput(Throughput::Bytes(xml.len() as u64));
    group.sample_size(10);
    group.bench_function("poolscope_typed_events_1_thread", |b| {
        b.iter(|| pool.install(|| typed(xml.as_bytes(), Format::EventXml)));
    });
    group.finish();
}

criterion_group!(benches, evtx_benches, evtx_phases, xml_benches);
criterion_main!(benches);
