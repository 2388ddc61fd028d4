//! Debugger text: `poolscope::parse::debugger::parse` over `!poolused` tables (`parse::debugger::poolused`) and
//! `!vm` summaries (`parse::debugger::vm`), and their detectors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::parse::debugger;

fuzz_target!(|data: &[u8]| {
    let ctx = poolscope_fuzz::context("poolused_2020-05-22_13-40-02.txt");
    let text = poolscope_fuzz::decoded(data);
    let _ = debugger::looks_like_poolused(&text);
    let _ = debugger::vm::looks_like(&text);
    for line in text.lines().take(64) {
        let _ = debugger::poolused::tag_row(line);
        let _ = debugger::vm::vm_line(line);
        let _ = debugger::session_time(line);
    }
    let _ = debugger::parse(&text, &ctx);
});
