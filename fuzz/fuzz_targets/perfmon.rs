//! perfmon CSV/TSV: `poolscope::parse::perfmon::parse` (reaching `parse::perfmon::header`,
//! `parse::perfmon::path` and `parse::perfmon::names`) with the input placed after a PDH header row naming
//! memory and process counters, so the fuzzer starts inside the rows.
#![no_main]

use libfuzzer_sys::fuzz_target;

const HEADER: &str = "\"(PDH-CSV 4.0) (W. Europe Standard Time)(-60)\",\"\\\\H\\Memory\\Pool Paged Bytes\",\
                      \"\\\\H\\Process(svchost#1)\\Handle Count\",\"\\\\H\\Process(svchost#1)\\ID Process\"\r\n";

fuzz_target!(|data: &[u8]| {
    let ctx = poolscope_fuzz::context("perfmon.csv");
    let text = poolscope_fuzz::decoded(data);
    // Both the input alone (its own header) and the input as rows under a known header.
    let _ = poolscope::parse::perfmon::parse(&text, &ctx);
    let _ = poolscope::parse::perfmon::parse(&format!("{HEADER}{text}"), &ctx);
});
