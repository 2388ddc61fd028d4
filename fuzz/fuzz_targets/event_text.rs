//! Event text (`wevtutil qe /f:text`, Event Viewer "Save as Text", "Copy details as text"):
//! `poolscope::parse::events::text` (both layouts) and through `parse::events::parse`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::model::TimeSettings;
use poolscope::parse::events::localtime::LocalClock;
use poolscope::parse::{events, Format};

fuzz_target!(|data: &[u8]| {
    let text = poolscope_fuzz::decoded(data);
    let settings = TimeSettings::default();
    let _ = events::text::labelled_blocks(&text, "fuzz/System.txt", &mut LocalClock::new(&settings));
    let _ = events::text::save_as_text(&text, "fuzz/System.txt", &mut LocalClock::new(&settings));
    let _ = events::parse(data, Format::EventText, &poolscope_fuzz::context("System.txt"));
});
