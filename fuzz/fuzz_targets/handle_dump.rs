//! handle.exe dumps (`-a`): `poolscope::parse::handle::parse` with the input placed after a separator and a process header, so the
//! fuzzer starts inside that mode.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = poolscope_fuzz::context("handle-20200521T072039Z.txt");
    let text = format!("{}{}", "------------------------------------------------------------------------------\nlsass.exe pid: 768 NT AUTHORITY\\SYSTEM\n", poolscope_fuzz::decoded(data));
    let _ = poolscope::parse::handle::parse(&text, &ctx);
});
