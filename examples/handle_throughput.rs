//! Times the handle.exe parser over a generated v5.0 `-a` dump and prints MB/s (one thread, so per core):
//! by wall-clock time, and by the thread's CPU time where Linux reports it (`/proc/thread-self/schedstat`),
//! which stays honest on a machine shared with other work. Both entry points are timed: `parse` over the
//! decoded text, and `parse_reader` over the bytes (decoded and split into lines as it reads, as files are).
//!
//! ```text
//! cargo run --release --example handle_throughput -- [MEGABYTES]    (default 200)
//! ```

use std::time::Instant;

use poolscope::model::{Diagnostic, HandleSnapshot};
use poolscope::parse::{handle, FileContext};

#[path = "../benches/support/handle_gen.rs"]
mod handle_gen;

/// One of the two entry points, over the same dump.
type Parse<'a> = &'a dyn Fn(&FileContext) -> (Vec<HandleSnapshot>, Vec<Diagnostic>);

fn main() {
    let megabytes: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let (dump, processes, handles) = handle_gen::dump_of_size(megabytes * 1_000_000);
    let ctx = FileContext { path: "generated.txt".into(), ..FileContext::default() };
    let mb = dump.len() as f64 / 1e6;
    let whole = |ctx: &FileContext| handle::parse(&dump, ctx);
    let streamed = |ctx: &FileContext| handle::parse_reader(std::io::BufReader::new(dump.as_bytes()), ctx);
    for (name, parse) in [("parse", &whole as Parse<'_>), ("parse_reader", &streamed)] {
        let (mut best, mut best_cpu) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..3 {
            let start = Instant::now();
            let cpu_start = thread_cpu_seconds();
            let (snaps, diags) = parse(&ctx);
            let seconds = start.elapsed().as_secs_f64();
            if let (Some(a), Some(b)) = (cpu_start, thread_cpu_seconds()) {
                best_cpu = best_cpu.min(b - a);
            }
            assert_eq!(snaps.len(), 1, "{diags:?}");
            assert_eq!(snaps[0].processes.len(), processes);
            assert_eq!(snaps[0].processes.iter().map(|p| p.handles.len()).sum::<usize>(), handles);
            best = best.min(seconds);
            drop(snaps);
        }
        println!(
            "{name}: handle -a dump: {mb:.1} MB, {processes} processes, {handles} handles: best of 3 {best:.3} s wall = \
             {:.0} MB/s (1 thread)",
            mb / best
        );
        if best_cpu.is_finite() {
            println!("  thread CPU time: best of 3 {best_cpu:.3} s = {:.0} MB/s per core", mb / best_cpu);
        }
    }
}

/// CPU time of the calling thread, in seconds (Linux; `None` elsewhere).
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e9)
}
