//! Binary `.evtx` through our reader: `poolscope::parse::events::evtx` (the evtx crate behind our chunk
//! checks, deadline and panic guard), then the mapping to typed events; each rendered record is read by
//! `poolscope::parse::events::xml::rendered` (its fallback is quick-xml).
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::parse::{events, Format};

fuzz_target!(|data: &[u8]| {
    let _ = events::parse(data, Format::Evtx, &poolscope_fuzz::context("System.evtx"));
});
