//! Event CSV (Event Viewer "Save as CSV", `Export-Csv`): `poolscope::parse::events::csv` directly and through
//! `parse::events::parse` (local times: `parse::events::localtime`; classification: `parse::events::typed`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::model::TimeSettings;
use poolscope::parse::events::localtime::LocalClock;
use poolscope::parse::{events, Format};

fuzz_target!(|data: &[u8]| {
    let text = poolscope_fuzz::decoded(data);
    let settings = TimeSettings::default();
    let _ = events::csv::parse(&text, "fuzz/System.csv", &mut LocalClock::new(&settings));
    let _ = events::parse(data, Format::EventCsv, &poolscope_fuzz::context("System.csv"));
});
