//! Decoding text inputs: UTF-8 (with or without BOM), ANSI (Windows-1252), UTF-16LE (with or without
//! BOM), and files whose encoding changes part-way (a PowerShell loop appending UTF-16 lines to a
//! file that poolmon appends to in ANSI; formats reference §1.5).
//!
//! Decoding keeps line boundaries, so line numbers in the decoded text are line numbers in the file.

use std::borrow::Cow;

/// The encoding a text input was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 (or plain ASCII), with or without BOM.
    Utf8,
    /// Windows-1252 (poolmon and handle.exe write the ANSI code page).
    Ansi,
    /// UTF-16 little-endian (Windows PowerShell 5.1's `>` and `Out-File`).
    Utf16Le,
    /// Different encodings in different parts of the file.
    Mixed,
}

/// Decoded text and how it was read.
#[derive(Debug, Clone)]
pub struct DecodedText<'a> {
    /// The text, borrowed from the input when it was plain UTF-8.
    pub text: Cow<'a, str>,
    /// The encoding found.
    pub encoding: TextEncoding,
}

/// The UTF-8 byte order mark.
pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// The UTF-16LE byte order mark.
pub(crate) const UTF16LE_BOM: &[u8] = b"\xFF\xFE";

/// Decodes a text file's bytes. Never fails: undecodable bytes become U+FFFD.
///
/// Plain UTF-8 without NUL bytes is borrowed as is (the fast path for large poolmon logs).
pub fn decode(bytes: &[u8]) -> DecodedText<'_> {
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if !body.starts_with(UTF16LE_BOM) && !body.contains(&0) {
        return match std::str::from_utf8(body) {
            Ok(s) => DecodedText { text: Cow::Borrowed(s), encoding: TextEncoding::Utf8 },
            Err(_) => DecodedText { text: Cow::Owned(decode_ansi_or_utf8_lines(body)), encoding: TextEncoding::Ansi },
        };
    }
    decode_segments(body)
}

/// Decodes byte text that has no NUL bytes: each line as UTF-8 when it is valid UTF-8, else as Windows-1252.
fn decode_ansi_or_utf8_lines(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        push_single_byte_line(&mut out, line);
    }
    out
}

/// Appends one line of single-byte text: UTF-8 when it is valid UTF-8, else Windows-1252.
pub(crate) fn push_single_byte_line(out: &mut String, line: &[u8]) {
    match std::str::from_utf8(line) {
        Ok(s) => out.push_str(s),
        Err(_) => out.push_str(&encoding_rs::WINDOWS_1252.decode_without_bom_handling(line).0),
    }
}

/// Whether the bytes starting here look like UTF-16LE text: most high bytes of the first pairs are zero.
///
/// Looks at no more than the first 64 bytes (or up to the first line end): what a streaming reader must have
/// buffered to judge a line as this does ([`crate::parse::lines`]).
pub(crate) fn looks_utf16le(bytes: &[u8]) -> bool {
    if bytes.starts_with(UTF16LE_BOM) {
        return true;
    }
    // Judge only the current line (up to the first 0x0A byte, which in UTF-16LE is the newline's low
    // byte): the bytes after it may be in the other encoding.
    let line_end = bytes.iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| (i + 2).min(bytes.len()));
    let pairs = bytes[..line_end].chunks_exact(2).take(32);
    let (mut total, mut zero_high) = (0usize, 0usize);
    for pair in pairs {
        total += 1;
        if pair[1] == 0 && pair[0] != 0 {
            zero_high += 1;
        }
    }
    total > 0 && zero_high * 10 >= total * 6
}

/// Decodes a file line by line, deciding at each line start whether the line is UTF-16LE or single-byte.
fn decode_segments(bytes: &[u8]) -> DecodedText<'static> {
    let mut out = String::with_capacity(bytes.len());
    let (mut saw_utf16, mut saw_single) = (false, false);
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if looks_utf16le(rest) {
            saw_utf16 = true;
            let start = usize::from(rest.starts_with(UTF16LE_BOM)) * 2;
            let end = utf16_line_end(rest, start).unwrap_or(rest.len());
            push_utf16le(&mut out, &rest[start..end]);
            pos += end;
        } else {
            saw_single = true;
            let end = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |i| i + 1);
            push_segment_single_byte_line(&mut out, &rest[..end]);
            pos += end;
        }
    }
    let encoding = match (saw_utf16, saw_single) {
        (true, true) => TextEncoding::Mixed,
        (true, false) => TextEncoding::Utf16Le,
        _ => TextEncoding::Ansi,
    };
    DecodedText { text: Cow::Owned(out), encoding }
}

/// The end (after its `0A 00`) of the UTF-16LE line that starts at `start` in `rest`: the first newline unit at
/// an even offset from `start`; `None` when the bytes hold no line end yet.
pub(crate) fn utf16_line_end(rest: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    while i + 1 < rest.len() {
        if rest[i] == b'\n' && rest[i + 1] == 0 {
            return Some(i + 2);
        }
        i += 2;
    }
    None
}

/// Appends UTF-16LE code units (unpaired surrogates become U+FFFD, and so does an odd trailing byte).
pub(crate) fn push_utf16le(out: &mut String, bytes: &[u8]) {
    let units = bytes.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]]));
    out.extend(char::decode_utf16(units).map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER)));
    if bytes.len() % 2 == 1 {
        out.push(char::REPLACEMENT_CHARACTER);
    }
}

/// Appends a single-byte line of a file that also holds UTF-16: a UTF-8 BOM at its start is dropped, and so are
/// stray NULs (a half-written UTF-16 remnant).
pub(crate) fn push_segment_single_byte_line(out: &mut String, line: &[u8]) {
    let line = line.strip_prefix(UTF8_BOM).unwrap_or(line);
    if line.contains(&0) {
        let cleaned: Vec<u8> = line.iter().copied().filter(|&b| b != 0).collect();
        push_single_byte_line(out, &cleaned);
    } else {
        push_single_byte_line(out, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { UTF16LE_BOM.to_vec() } else { Vec::new() };
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    }

    #[test]
    fn plain_utf8_is_borrowed() {
        let d = decode(b"a\r\nb\n");
        assert!(matches!(d.text, Cow::Borrowed("a\r\nb\n")));
        assert_eq!(d.encoding, TextEncoding::Utf8);
    }

    #[test]
    fn utf8_bom_is_stripped() {
        assert_eq!(decode(b"\xEF\xBB\xBFabc").text, "abc");
    }

    #[test]
    fn ansi_bytes_decode_as_windows_1252() {
        let d = decode(b"caf\xE9\n");
        assert_eq!(d.text, "caf\u{e9}\n");
        assert_eq!(d.encoding, TextEncoding::Ansi);
    }

    #[test]
    fn utf16le_with_bom() {
        let bytes = utf16("Tue 05/22/2020\r\nline two\r\n", true);
        let d = decode(&bytes);
        assert_eq!(d.text, "Tue 05/22/2020\r\nline two\r\n");
        assert_eq!(d.encoding, TextEncoding::Utf16Le);
    }

    #[test]
    fn encoding_that_changes_part_way_keeps_every_line() {
        let mut bytes = utf16("Tuesday, May 22, 2020 10:35:55 PM\r\n", true);
        bytes.extend_from_slice(b"\r\n Tag  Type\r\n");
        bytes.extend(utf16("Tuesday, May 22, 2020 10:36:55 PM\r\n", true));
        bytes.extend_from_slice(b" Toke Paged 1 2 3\r\n");
        let d = decode(&bytes);
        assert_eq!(d.encoding, TextEncoding::Mixed);
        let lines: Vec<&str> = d.text.lines().collect();
        assert_eq!(
            lines,
            [
                "Tuesday, May 22, 2020 10:35:55 PM",
                "",
                " Tag  Type",
                "Tuesday, May 22, 2020 10:36:55 PM",
                " Toke Paged 1 2 3"
            ]
        );
    }

    #[test]
    fn odd_trailing_byte_never_panics() {
        let mut bytes = utf16("ab", true);
        bytes.push(b'c');
        let _ = decode(&bytes);
    }
}
