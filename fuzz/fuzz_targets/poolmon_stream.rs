//! poolmon read as a stream: `poolscope::parse::poolmon::stream` (`parse_reader`), the reader `ingest` uses
//! for large files, fed through a small buffer so lines straddle buffer boundaries.
#![no_main]

use std::io::BufReader;

use libfuzzer_sys::fuzz_target;
use poolscope::parse::poolmon;

fuzz_target!(|data: &[u8]| {
    let ctx = poolscope_fuzz::context("poolmon_2020-05-22_22-35-55.log");
    let mut snapshots = 0usize;
    let _ = poolmon::parse_reader(BufReader::with_capacity(61, data), &ctx, |_| snapshots += 1);
});
