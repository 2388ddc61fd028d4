//! Log text is untrusted: one escaping function for everything that shows it to a person.
//!
//! A process, account or provider name, a tag, an event message or a file name read from an archive can
//! carry terminal escapes (`ESC [2J` clears the screen, OSC 8 forges links, OSC 52 writes the clipboard),
//! other control characters, or bidi overrides that make `exe.txt` display as `txt.exe` (Trojan Source,
//! CVE-2021-42574). [`escape`] shows each such character as a visible escape (`\x1b`, `\u{202e}`) so the
//! reader sees that it was there, and nothing reaches the terminal (or a Markdown/HTML file) raw. The text
//! printers and the diagnostic printer of the CLI and the report's cell formatter all go through it.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is shown escaped: C0 controls except tab, DEL, C1 controls, the bidi embeddings, overrides
/// and isolates (U+202A-202E, U+2066-2069), the bidi marks (U+200E, U+200F, U+061C) and the Unicode line
/// and paragraph separators.
pub fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `text` with every character of [`needs_escape`] written as an escape: `\n`, `\r`, `\x1b` for the other
/// ASCII controls, `\u{85}` / `\u{202e}` beyond ASCII. Tabs and all printable text (backslashes included,
/// `DOMAIN\user` stays as it is) are kept. Borrows when there is nothing to escape.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if !needs_escape(c) => out.push(c),
            c if c.is_ascii() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// `value` as pretty JSON (two-space indent, as `serde_json::to_vec_pretty`) in which every character of
/// [`needs_escape`] that serde_json would write raw (C1 controls, bidi controls, line and paragraph separators)
/// is written as a `\uXXXX` escape instead. The JSON decodes to exactly the same strings, so scripts see the
/// log text as it was; a terminal or pager that shows the file sees no control sequence or reordering.
pub fn to_json_pretty(value: &impl serde::Serialize) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(4096);
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, SafeFormatter(serde_json::ser::PrettyFormatter::new()));
    value.serialize(&mut ser)?;
    Ok(out)
}

/// [`to_json_pretty`] as a `String`.
pub fn to_json_pretty_string(value: &impl serde::Serialize) -> serde_json::Result<String> {
    // Only UTF-8 is written (serde_json's strings and structure, ASCII escapes), so nothing is lost here.
    to_json_pretty(value)
        .map(|bytes| String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// serde_json's pretty formatter with the string escapes of [`to_json_pretty`].
struct SafeFormatter<'a>(serde_json::ser::PrettyFormatter<'a>);

impl serde_json::ser::Formatter for SafeFormatter<'_> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(&mut self, w: &mut W, fragment: &str) -> std::io::Result<()> {
        // serde_json has already escaped `"`, `\\` and C0 controls; what is left raw is escaped here.
        let mut rest = fragment;
        while let Some((at, c)) = rest.char_indices().find(|&(_, c)| needs_escape(c)) {
            w.write_all(&rest.as_bytes()[..at])?;
            write!(w, "\\u{:04x}", c as u32)?;
            rest = &rest[at + c.len_utf8()..];
        }
        w.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_are_shown_not_sent() {
        assert_eq!(escape("evil\u{1b}[2Jname"), "evil\\x1b[2Jname");
        assert_eq!(escape("\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{7}"), "\\x1b]8;;http://x\\x07link\\x1b]8;;\\x07");
        assert_eq!(escape("a\0b\u{7f}"), "a\\x00b\\x7f");
        assert_eq!(escape("line\r\nnext"), "line\\r\\nnext");
    }

    #[test]
    fn c1_controls_and_bidi_overrides_are_shown_as_code_points() {
        assert_eq!(escape("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(escape("invoice\u{202e}fdp.exe"), "invoice\\u{202e}fdp.exe");
        assert_eq!(escape("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(escape("a\u{2028}b"), "a\\u{2028}b");
    }

    #[test]
    fn json_shows_bidi_and_c1_controls_as_escapes_and_decodes_to_the_same_text() {
        let hostile = vec!["invoice\u{202e}fdp.exe", "\u{9b}2J\u{1b}[0m", "a\u{2028}b", "CONTOSO\\svc \"x\"", "Größe"];
        let bytes = to_json_pretty(&hostile).unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(!text.chars().any(needs_escape_in_file), "{text}");
        assert!(text.contains("invoice\\u202efdp.exe") && text.contains("\\u009b2J\\u001b[0m"), "{text}");
        let back: Vec<String> = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, hostile);
        // Ordinary values come out exactly as serde_json writes them.
        let plain = serde_json::json!({"tag": "Toke", "n": [1, 2], "who": "CONTOSO\\svc-scan", "e": {}});
        assert_eq!(to_json_pretty(&plain).unwrap(), serde_json::to_vec_pretty(&plain).unwrap());
    }

    /// The layout characters pretty JSON itself holds are not hostile.
    fn needs_escape_in_file(c: char) -> bool {
        needs_escape(c) && c != '\n'
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in ["lsass.exe", "CONTOSO\\svc_scan", "Key \t", "Größe 日本語 😀", ""] {
            assert!(matches!(escape(text), Cow::Borrowed(t) if t == text), "{text:?}");
        }
    }
}
