//! Event XML (`wevtutil qe /f:xml`, RenderedXml, Event Viewer "Save as XML"): `poolscope::parse::events::xml`
//! through `parse::events::parse`, which also classifies each event (`parse::events::typed`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::parse::{events, Format};

fuzz_target!(|data: &[u8]| {
    let _ = events::parse(data, Format::EventXml, &poolscope_fuzz::context("System.xml"));
});
