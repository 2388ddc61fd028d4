//! Any file: format detection (`poolscope::parse::Format::detect`), decoding (`parse::text::decode`), the
//! known formats poolscope does not read (`parse::unread`), then whichever parser the content picks
//! (`parse::parse_bytes`), as `parse`, `analyze` and `report` do for every file of an archive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::parse::{self, unread, Format};

fuzz_target!(|data: &[u8]| {
    let _ = Format::detect(data);
    let _ = unread::known_unread(data, "fuzz.bin");
    let _ = parse::parse_bytes(data, None, &poolscope_fuzz::context("srv01_poolmon_20200522.log"));
});
