//! pooltag.txt: `poolscope::parse::pooltag::parse`, then the look-ups `tags` and the reports make
//! (exact, wildcard and case-insensitive matches).
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::parse::pooltag::{self, TagDescriptions};

fuzz_target!(|data: &[u8]| {
    let (file, _) = pooltag::parse(data, "fuzz/pooltag.txt");
    // Tags taken from the input too, so look-ups meet the entries the fuzzer wrote.
    let from_input: Vec<String> = poolscope_fuzz::decoded(data)
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .take(8)
        .map(|c| c.iter().collect())
        .collect();
    for tag in ["Toke", "Key ", "MmSt", "Ntf*", "", "toke"].iter().map(|s| (*s).to_owned()).chain(from_input) {
        let _ = file.lookup(&tag);
        let _ = file.case_insensitive_matches(&tag);
        let descriptions = TagDescriptions::with_pooltag(file.clone());
        let _ = descriptions.all(&tag);
        let _ = descriptions.case_suggestions(&tag);
    }
    let _ = file.duplicate_tags();
});
