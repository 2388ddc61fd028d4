//! handle.exe output in whatever mode the input picks: `poolscope::parse::handle::parse` (banners, summaries,
//! dumps, search lines, CSV, notices and echoed commands: `parse::handle::banner`, `parse::handle::summary`,
//! `parse::handle::dump`, `parse::handle::search`, `parse::handle::csv`, `parse::handle::names`,
//! `parse::handle::notice`, `parse::handle::command`, `parse::handle::run`, `parse::handle::times`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = poolscope_fuzz::context("handle-s-20200521T072039Z.txt");
    let _ = poolscope::parse::handle::parse(&poolscope_fuzz::decoded(data), &ctx);
});
