//! Text files as Windows tools leave them: ASCII text produced with `\n` is written with CRLF or LF
//! line endings, as ANSI bytes or as UTF-16LE with a BOM (formats reference §1.5, §2.4).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::scenario::{Newline, TextEncoding};
use crate::error::{Error, Result};
use crate::output::AtomicFile;

/// How text is encoded on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextStyle {
    /// ANSI or UTF-16LE.
    pub encoding: TextEncoding,
    /// CRLF or LF.
    pub newline: Newline,
}

impl TextStyle {
    /// Appends `text` (ASCII with `\n`) to `out` in this style, without a BOM.
    pub fn encode_into(self, text: &[u8], out: &mut Vec<u8>) {
        let crlf = self.newline == Newline::Crlf;
        match self.encoding {
            TextEncoding::Ansi => {
                if !crlf {
                    out.extend_from_slice(text);
                    return;
                }
                out.reserve(text.len() + text.len() / 40);
                let mut start = 0;
                for (i, &b) in text.iter().enumerate() {
                    if b == b'\n' {
                        out.extend_from_slice(&text[start..i]);
                        out.extend_from_slice(b"\r\n");
                        start = i + 1;
                    }
                }
                out.extend_from_slice(&text[start..]);
            }
            TextEncoding::Utf16 => {
                out.reserve(text.len() * 2 + text.len() / 20);
                for &b in text {
                    if b == b'\n' && crlf {
                        out.extend_from_slice(&[b'\r', 0]);
                    }
                    out.extend_from_slice(&[b, 0]);
                }
            }
        }
    }

    /// The byte-order mark a new file starts with (UTF-16LE only).
    pub fn bom(self) -> &'static [u8] {
        match self.encoding {
            TextEncoding::Ansi => b"",
            TextEncoding::Utf16 => b"\xFF\xFE",
        }
    }

    /// A whole file's bytes: BOM plus encoded text.
    pub fn encode_file(self, text: &[u8]) -> Vec<u8> {
        let mut out = self.bom().to_vec();
        self.encode_into(text, &mut out);
        out
    }
}

/// A text file being written through a buffer, in a [`TextStyle`], under a temporary name until
/// [`TextFile::finish`] renames it into place ([`crate::output`]).
#[derive(Debug)]
pub struct TextFile {
    path: PathBuf,
    out: AtomicFile,
    style: TextStyle,
    scratch: Vec<u8>,
    written: u64,
}

impl TextFile {
    /// Starts `path` (replaced when [`TextFile::finish`]ed) and writes the BOM when the style has one.
    pub fn create(path: &Path, style: TextStyle) -> Result<Self> {
        let mut me =
            Self { path: path.to_owned(), out: AtomicFile::create(path)?, style, scratch: Vec::new(), written: 0 };
        let bom = style.bom();
        me.out.write_all(bom).map_err(|e| Error::io(path, e))?;
        me.written += bom.len() as u64;
        Ok(me)
    }

    /// Appends ASCII text with `\n` line ends, converted to the file's style.
    pub fn write_text(&mut self, text: &[u8]) -> Result<()> {
        self.scratch.clear();
        self.style.encode_into(text, &mut self.scratch);
        self.out.write_all(&self.scratch).map_err(|e| Error::io(&self.path, e))?;
        self.written += self.scratch.len() as u64;
        Ok(())
    }

    /// Flushes the file and renames it into place; returns the number of bytes written.
    pub fn finish(self) -> Result<u64> {
        self.out.commit()?;
        Ok(self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_ansi_and_utf16() {
        let text = b"a b\n\nc\n";
        let crlf = TextStyle { encoding: TextEncoding::Ansi, newline: Newline::Crlf };
        assert_eq!(crlf.encode_file(text), b"a b\r\n\r\nc\r\n");
        let lf = TextStyle { encoding: TextEncoding::Ansi, newline: Newline::Lf };
        assert_eq!(lf.encode_file(text), text);
        let utf16 = TextStyle { encoding: TextEncoding::Utf16, newline: Newline::Crlf };
        assert_eq!(utf16.encode_file(b"a\n"), b"\xFF\xFEa\0\r\0\n\0");
    }

    #[test]
    fn file_counts_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.txt");
        let style = TextStyle { encoding: TextEncoding::Utf16, newline: Newline::Lf };
        let mut f = TextFile::create(&path, style).unwrap();
        f.write_text(b"hi\n").unwrap();
        assert_eq!(f.finish().unwrap(), 8);
        assert_eq!(std::fs::read(&path).unwrap(), b"\xFF\xFEh\0i\0\n\0");
    }
}
