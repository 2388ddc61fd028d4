//! Times poolmon parsing on a generated append-mode x64 `-n -r` log of 100+ MB and reports MB/s and peak
//! memory (Linux `VmHWM`), streaming first (memory bounded by two snapshots), then whole-file.
//!
//! ```text
//! cargo run --release --example poolmon_throughput -- [MB]      # default 128
//! ```

use std::io::BufReader;
use std::time::Instant;

use poolscope::parse::{poolmon, text, FileContext};

#[path = "../benches/support/poolmon_gen.rs"]
mod poolmon_gen;

/// Peak resident set size in KiB (`VmHWM` in /proc/self/status), when the platform has it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time this process has run, in seconds (`/proc/self/schedstat`), so that figures on a shared machine
/// say what one core does; `None` off Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/schedstat").ok()?;
    let ns: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// `wall s = X MiB/s, cpu s = Y MiB/s per core`.
fn rates(size_mb: f64, wall: f64, cpu: Option<f64>) -> String {
    let per_core =
        cpu.map_or_else(|| "n/a".to_owned(), |c| format!("{c:.2} s cpu = {:.0} MiB/s per core", size_mb / c));
    format!("{wall:.2} s wall = {:.0} MiB/s; {per_core}", size_mb / wall)
}

fn main() -> std::io::Result<()> {
    let mb: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(128);
    let path = std::env::temp_dir().join(format!("poolscope-throughput-{}.log", std::process::id()));
    // Write the log snapshot by snapshot, so generating it never holds it in memory.
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let (written, snapshots) = poolmon_gen::write_log(&mut file, mb * 1024 * 1024)?;
    drop(file);
    let size_mb = written as f64 / (1024.0 * 1024.0);
    println!("input: {} ({size_mb:.1} MiB, {snapshots} snapshots of {} rows)", path.display(), poolmon_gen::TAGS);
    println!("peak RSS before parsing: {:?} KiB", peak_rss_kib());
    let ctx = FileContext { path: path.display().to_string(), ..FileContext::default() };

    let (start, cpu0) = (Instant::now(), cpu_seconds());
    let (mut snaps, mut rows) = (0usize, 0usize);
    let reader = BufReader::with_capacity(1 << 16, std::fs::File::open(&path)?);
    let diags = poolmon::parse_reader(reader, &ctx, |s| {
        snaps += 1;
        rows += s.rows.len();
    });
    let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    println!(
        "streaming (file -> rows): {snaps} snapshots, {rows} rows, {} diagnostics in {}; peak RSS {:?} KiB",
        diags.len(),
        rates(size_mb, start.elapsed().as_secs_f64(), cpu),
        peak_rss_kib()
    );

    let bytes = std::fs::read(&path)?;
    let (start, cpu0) = (Instant::now(), cpu_seconds());
    let decoded = text::decode(&bytes);
    let (all, diags) = poolmon::parse(&decoded.text, &ctx);
    let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    let wall = start.elapsed().as_secs_f64();
    let rows: usize = all.iter().map(|s| s.rows.len()).sum();
    println!(
        "whole file (bytes in memory -> rows): {} snapshots, {rows} rows, {} diagnostics in {}; peak RSS {:?} KiB",
        all.len(),
        diags.len(),
        rates(size_mb, wall, cpu),
        peak_rss_kib()
    );
    std::fs::remove_file(&path)?;
    Ok(())
}
