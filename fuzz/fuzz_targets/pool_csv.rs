//! PowerShell pool CSVs: `poolscope::parse::pool_csv::parse` (and `looks_like`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::parse::pool_csv;

fuzz_target!(|data: &[u8]| {
    let ctx = poolscope_fuzz::context("2020-05-22.pool.csv");
    let text = poolscope_fuzz::decoded(data);
    let _ = pool_csv::looks_like(&text);
    let _ = pool_csv::parse(&text, &ctx);
});
