//! Writes a sample System log of simulated events in both event formats poolscope simulates, for
//! checking them with other readers (`.ci/evtx-interop.sh` runs python-evtx on them):
//!
//! ```text
//! cargo run --example write_sample_evtx -- OUT_DIR [RECORDS]
//! ```
//!
//! writes `OUT_DIR/sample.evtx` (binary), `OUT_DIR/sample.xml` (`wevtutil qe /f:xml` form) and
//! `OUT_DIR/sample.json` (the simulated events themselves, the values every reader must find).
//! RECORDS (default 3000) cycles through every event constructor; the text includes XML markup
//! characters, quotes and non-ASCII (U+200E marks, an emoji) in element text.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{Duration, TimeZone, Utc};
use poolscope::model::event::{ExhaustedProcess, ResourceExhaustion, TagUsage};
use poolscope::model::PoolType;
use poolscope::simulate::events::{to_wevtutil_xml, write_evtx, SimEvent};

fn exhaustion(i: u64, at: chrono::DateTime<Utc>) -> ResourceExhaustion {
    let names = ["sqlservr.exe", "w3wp.exe", "Ωmega<&>.exe", "svchost.exe", "explorer.exe", "lsass.exe"];
    ResourceExhaustion {
        commit_limit: Some(34_359_738_368),
        commit_charge: Some(34_000_000_000 + i),
        process_commit_charge: Some(21_474_836_480),
        paged_pool_usage: Some(4_294_967_296 + i * 4096),
        nonpaged_pool_usage: Some(734_003_200),
        physical_memory_size: Some(17_179_869_184),
        physical_memory_usage: Some(16_800_000_000),
        process_count: Some(212),
        paged_tags: [("MmSt", 2_147_483_648 + i), ("Ntff", 402_653_184), ("CM31", 100_663_296)]
            .iter()
            .take((i % 4) as usize)
            .map(|(t, b)| TagUsage { tag: (*t).to_owned(), bytes: *b })
            .collect(),
        nonpaged_tags: vec![TagUsage { tag: "Thre".to_owned(), bytes: 50_331_648 }],
        processes: names
            .iter()
            .take((i % 7) as usize)
            .enumerate()
            .map(|(k, name)| ExhaustedProcess {
                name: (*name).to_owned(),
                pid: 1000 + 4 * k as u32,
                created_at: Some(at - Duration::days(3) + Duration::nanoseconds(987_654_300)),
                commit_charge: 8_000_000_000 >> k,
                handle_count: 1200 + i,
            })
            .collect(),
        detected_at: Some(at - Duration::milliseconds(1400)),
    }
}

fn sample(records: u64) -> Vec<SimEvent> {
    let start = Utc.with_ymd_and_hms(2025, 11, 2, 6, 30, 0).unwrap();
    (1..=records)
        .map(|id| {
            let t = start + Duration::seconds(13 * id as i64) + Duration::nanoseconds(id as i64 * 1_234_500);
            let host = if id % 9 == 0 { "SQL-ÜBER-01" } else { "SQL01" };
            match id % 13 {
                0 => SimEvent::resource_exhaustion(t, id, host, &exhaustion(id, t)),
                1 => SimEvent::pool_empty(t, id, host, PoolType::Paged),
                2 => SimEvent::pool_empty(t, id, host, PoolType::Nonpaged),
                3 => SimEvent::eventlog_started(t, id, host),
                4 => SimEvent::eventlog_stopped(t, id, host),
                5 => SimEvent::unexpected_shutdown(t, id, host, t - Duration::minutes(9)),
                6 => SimEvent::os_version(t, id, host, 20348),
                7 => SimEvent::uptime(t, id, host, 86_400 + id),
                8 => SimEvent::kernel_power_41(t, id, host, 0x133),
                9 => SimEvent::kernel_general_12(t, id, host, t - Duration::milliseconds(500)),
                10 => SimEvent::kernel_general_13(t, id, host),
                11 => SimEvent::user32_1074(
                    t,
                    id,
                    host,
                    "C:\\Windows\\system32\\shutdown.exe",
                    "Application: Maintenance (Planned) <&> \"quoted\" 'x' \u{200e}😀",
                    "restart",
                    "SQL01\\Administrator",
                ),
                _ => SimEvent::user32_1076(t, id, host, "Other (Unplanned)", "SQL01\\dba"),
            }
        })
        .collect()
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: write_sample_evtx OUT_DIR [RECORDS]");
        return ExitCode::from(2);
    };
    let records = match args.next().map(|n| n.parse::<u64>()) {
        None => 3000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("write_sample_evtx: RECORDS must be a number: {e}");
            return ExitCode::from(2);
        }
    };
    let events = sample(records);
    let json = match serde_json::to_string_pretty(&events) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("write_sample_evtx: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outputs = [
        ("sample.evtx", write_evtx(&events)),
        ("sample.xml", to_wevtutil_xml(&events).into_bytes()),
        ("sample.json", json.into_bytes()),
    ];
    for (name, bytes) in outputs {
        let path = dir.join(name);
        if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &bytes)) {
            eprintln!("write_sample_evtx: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("{}: {} bytes", path.display(), bytes.len());
    }
    ExitCode::SUCCESS
}
