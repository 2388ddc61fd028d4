//! handle.exe `-v` CSV: `poolscope::parse::handle::parse` with the input placed after a `-v -u` CSV header, so the
//! fuzzer starts inside that mode.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = poolscope_fuzz::context("handle-20200521T072039Z.txt");
    let text = format!("{}{}", "Process,PID,User,Handle,Type,Share Flags,Name\n", poolscope_fuzz::decoded(data));
    let _ = poolscope::parse::handle::parse(&text, &ctx);
});
