//! The banner that starts every run unless `-nobanner` (formats reference §2.1).
//!
//! ```text
//! Handle v3.5                                   v3.x and v4.0
//! Nthandle v5.0 - Handle viewer                 v4.1 and later: `%s v%s - %s`
//! Copyright (C) 1997-2022 Mark Russinovich
//! Sysinternals - www.sysinternals.com
//! ```

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1};
use nom::combinator::{opt, recognize};
use nom::sequence::{pair, preceded};
use nom::{IResult, Parser};

/// A version number as printed after `v`: `3.42`, `4.22`, `5.0`.
fn version(input: &str) -> IResult<&str, &str> {
    recognize(pair(
        take_while1(|c: char| c.is_ascii_digit()),
        opt(pair(tag("."), take_while1(|c: char| c.is_ascii_digit() || c == '.'))),
    ))
    .parse(input)
}

/// The banner's first line, `Handle v3.5` or `Nthandle v5.0 - Handle viewer`: the version.
pub fn banner_title(line: &str) -> Option<&str> {
    let line = line.trim();
    let (rest, version) = preceded(alt((tag("Nthandle v"), tag("Handle v"))), version).parse(line).ok()?;
    // `Handle v3.5` ends there (v3.5's `Handle v3.5%s` appends nothing in practice); v4.1+ add ` - Handle viewer`.
    (rest.is_empty() || rest.starts_with(" - ")).then_some(version)
}

/// The banner's copyright line: `Copyright (C) 1997-2022 Mark Russinovich`.
pub fn copyright_line(line: &str) -> bool {
    let line = line.trim();
    line.starts_with("Copyright (C) 1997") && line.ends_with("Mark Russinovich")
}

/// The banner's last line: `Sysinternals - www.sysinternals.com`.
pub fn sysinternals_line(line: &str) -> bool {
    line.trim() == "Sysinternals - www.sysinternals.com"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_title_of_every_version() {
        assert_eq!(banner_title("Handle v3.42"), Some("3.42"));
        assert_eq!(banner_title("Handle v3.5"), Some("3.5"));
        assert_eq!(banner_title("Handle v4.0"), Some("4.0"));
        assert_eq!(banner_title("Nthandle v4.1 - Handle viewer"), Some("4.1"));
        assert_eq!(banner_title("Nthandle v4.22 - Handle viewer\r"), Some("4.22"));
        assert_eq!(banner_title("Nthandle v5.0 - Handle viewer"), Some("5.0"));
        assert_eq!(banner_title("Handle v"), None);
        assert_eq!(banner_title("Handle values are hex"), None);
        assert_eq!(banner_title("Handle v3.5 and more"), None);
    }

    #[test]
    fn copyright_lines() {
        assert!(copyright_line("Copyright (C) 1997-2008 Mark Russinovich"));
        assert!(copyright_line("Copyright (C) 1997-2022 Mark Russinovich"));
        assert!(!copyright_line("Copyright (C) 2020 Someone"));
    }

    #[test]
    fn sysinternals_lines() {
        assert!(sysinternals_line("Sysinternals - www.sysinternals.com"));
        assert!(!sysinternals_line("www.sysinternals.com"));
    }
}
