//! poolmon text read whole: `poolscope::parse::poolmon::parse` (and through it `parse::poolmon::grammar`,
//! `parse::poolmon::row`, `parse::poolmon::assemble`, `parse::poolmon::timing`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::parse::poolmon;

fuzz_target!(|data: &[u8]| {
    let ctx = poolscope_fuzz::context("poolmon-20200522T223555Z-1234.txt");
    let text = poolscope_fuzz::decoded(data);
    let _ = poolmon::parse_detailed(&text, &ctx);
    let _ = poolmon::parse(&text, &ctx);
});
