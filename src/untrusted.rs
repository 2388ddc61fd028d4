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
    fn ordinary_text_is_borrowed_unchanged() {
        for text in ["lsass.exe", "CONTOSO\\svc_scan", "Key \t", "Größe 日本語 😀", ""] {
            assert!(matches!(escape(text), Cow::Borrowed(t) if t == text), "{text:?}");
        }
    }
}
