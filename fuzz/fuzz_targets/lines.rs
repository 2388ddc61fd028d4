//! Streaming text: `poolscope::parse::lines` (`DecodeReader`, `LineReader`), the decoder every streamed text
//! format reads through, fed through a small buffer so lines and UTF-16 code units straddle buffer boundaries.
//! Checked against the whole-file `parse::text::decode`: the same text for input without NUL bytes (the
//! module docs name the differences a file with NULs can show), and the same lines, each cut at the limit.
#![no_main]

use std::io::{BufReader, Read};

use libfuzzer_sys::fuzz_target;
use poolscope::parse::lines::{decoded_lines, DecodeReader};

/// A small line-length limit, so that cutting is exercised too.
const MAX_LINE: usize = 200;

fuzz_target!(|data: &[u8]| {
    let whole = poolscope::parse::text::decode(data).text.into_owned();
    let mut streamed = String::new();
    DecodeReader::new(BufReader::with_capacity(61, data)).read_to_string(&mut streamed).unwrap();
    if !data.contains(&0) {
        assert_eq!(streamed, whole);
    }
    let mut lines = decoded_lines(BufReader::with_capacity(61, data), MAX_LINE);
    let mut expected = streamed.split_inclusive('\n');
    while let Some(line) = lines.next_line().unwrap() {
        let full = expected.next().unwrap();
        let body = full.strip_suffix('\n').unwrap_or(full);
        assert_eq!(line.complete, full.ends_with('\n'));
        assert!(body.starts_with(line.text) && line.text.len() <= MAX_LINE);
        assert_eq!(line.text.len() as u64 + line.cut, body.len() as u64);
    }
    assert!(expected.next().is_none());
});
