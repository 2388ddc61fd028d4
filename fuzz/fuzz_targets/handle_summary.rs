//! handle.exe `-s` summaries: `poolscope::parse::handle::parse` with the input placed after a banner and a `Handle type summary:` title, so the
//! fuzzer starts inside that mode.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = poolscope_fuzz::context("handle-20200521T072039Z.txt");
    let text =
        format!("{}{}", "Nthandle v5.0 - Handle viewer\r\n\r\nHandle type summary:\r\n", poolscope_fuzz::decoded(data));
    let _ = poolscope::parse::handle::parse(&text, &ctx);
});
