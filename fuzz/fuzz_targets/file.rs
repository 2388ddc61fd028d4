//! A file read from disk the way `ingest` reads it: `poolscope::parse::file` (`stream_file`: format told from the
//! first 64 KiB, poolmon streamed, .evtx read chunk by chunk, the rest read whole) under small
//! `poolscope::parse::limits` (`ReadLimits`), so the line cut and the size refusal are exercised too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::parse::{self, ReadLimits};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("poolscope-fuzz-file-{}", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let mut ctx = poolscope_fuzz::context("poolmon_2020-05-22_22-35-55.log");
    ctx.limits = ReadLimits { max_file_bytes: 32 * 1024, max_line_bytes: 200, ..ReadLimits::default() };
    let mut snapshots = 0usize;
    let _ = parse::stream_file(&path, None, &ctx, &mut |_| snapshots += 1);
});
