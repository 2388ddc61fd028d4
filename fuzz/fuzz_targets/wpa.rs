//! WPA pool tables: `poolscope::parse::wpa::parse` (reaching `parse::wpa::columns` and `parse::wpa::stack`),
//! on the input alone (its own header) and as rows under a wpaexporter header, so the fuzzer starts inside the
//! rows (quoted stack cells, thousands separators, one-frame continuation rows).
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::parse::wpa;

const HEADER: &str = "\"Type\",\"Paged\",\"Pool Tag\",\"Stack\",\"Size (KB)\",\"Count\",\"Outstanding Size\"\r\n";

fuzz_target!(|data: &[u8]| {
    let ctx = poolscope_fuzz::context("wpa-pool-usage.csv");
    let text = poolscope_fuzz::decoded(data);
    let _ = wpa::looks_like(&text);
    let _ = wpa::parse(&text, &ctx);
    let _ = wpa::parse(&format!("{HEADER}{text}"), &ctx);
});
