//! Search mode (`handle NAME`, `handle -a NAME`, `handle -u NAME`): one line per matching handle
//! (formats reference §2.2b).
//!
//! ```text
//! %-18s pid: %-6d type: %-13s %4X: %s                     v3.5 .. v5.0
//! %-18s pid: %-6d type: %-13s %-25s %4X: %s               -u, v3.5 .. v4.x (25-wide user column)
//! %-18s pid: %-6d type: %-13s %-25s %0x08X %s             -u, v5.0: the handle prints as `1dd3408X`
//! ```
//!
//! Long or spaced image names push the columns right, so the line is read by its `pid:` and `type:`
//! anchors, never by column positions.

use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::space1;
use nom::combinator::map_res;
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

use super::dump::type_and_name;

/// One search-mode line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchLine<'a> {
    /// Image name.
    pub process: &'a str,
    /// Process id.
    pub pid: u32,
    /// Object type.
    pub handle_type: &'a str,
    /// The `-u` user column, when present.
    pub user: Option<&'a str>,
    /// Handle value.
    pub value: u64,
    /// Object name.
    pub name: &'a str,
    /// Whether the handle was printed by v5.0's broken `-u` format (`1dd3408X`).
    pub value_08x_bug: bool,
}

/// `pid: N   type: ` after the image name.
fn pid_anchor(input: &str) -> IResult<&str, u32> {
    terminated(map_res(take_while1(|c: char| c.is_ascii_digit()), str::parse::<u32>), (space1, tag("type: ")))
        .parse(input)
}

/// `%4X: ` (the usual handle column), as a whole whitespace-separated token `35DC:`.
fn handle_token(token: &str) -> Option<u64> {
    let hex = token.strip_suffix(':')?;
    if hex.is_empty() || hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// v5.0's `%0x08X` with `-u`: lowercase hex of the handle (`%0x`) followed by a literal `08X` and no colon.
/// The hex digits may themselves end in `08`, so the literal is taken from the end.
fn handle_08x_bug(token: &str) -> Option<u64> {
    let hex = token.strip_suffix("08X")?;
    if hex.is_empty() || hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// Splits off the first whitespace-separated token of `text` (after leading spaces) and the rest
/// after one separating space.
fn next_token(text: &str) -> Option<(&str, &str, usize)> {
    let start = text.len() - text.trim_start().len();
    if start == text.len() {
        return None;
    }
    let token_end = text[start..].find(' ').map_or(text.len(), |i| start + i);
    let rest = text.get(token_end + 1..).unwrap_or("");
    Some((&text[start..token_end], rest, start))
}

/// What follows the type column: `HEX: name`, or `user HEX: name`, or `user hex08X name`. The user column
/// holds spaces (`NT AUTHORITY\SYSTEM`), so the handle is the first token shaped like a handle.
fn handle_and_name(text: &str) -> Option<(Option<&str>, u64, &str, bool)> {
    let mut cursor = 0usize;
    loop {
        let (token, rest, start) = next_token(&text[cursor..])?;
        let token_start = cursor + start;
        let user = text[..token_start].trim();
        let user = (!user.is_empty()).then_some(user);
        if let Some(value) = handle_token(token) {
            return Some((user, value, rest.trim(), false));
        }
        if user.is_some() {
            if let Some(value) = handle_08x_bug(token) {
                return Some((user, value, rest.trim(), true));
            }
        }
        cursor = token_start + token.len();
    }
}

/// A search-mode line: `NAME pid: N type: TYPE [USER] HANDLE: NAME`.
pub fn search_line(line: &str) -> Option<SearchLine<'_>> {
    let mut from = 0usize;
    while let Some(found) = line[from..].find(" pid: ") {
        let at = from + found;
        from = at + 1;
        let Ok((after_type, pid)) = preceded(tag(" pid: "), pid_anchor).parse(&line[at..]) else { continue };
        let process = line[..at].trim();
        let (handle_type, rest) = type_and_name(after_type);
        if process.is_empty() || handle_type.is_empty() {
            return None;
        }
        let (user, value, name, value_08x_bug) = handle_and_name(rest)?;
        return Some(SearchLine { process, pid, handle_type, user, value, name, value_08x_bug });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_line_v4_22() {
        let line = r"vmwp.exe           pid: 17640  type: File          35DC: C:\dev\obj\x.dll";
        assert_eq!(
            search_line(line),
            Some(SearchLine {
                process: "vmwp.exe",
                pid: 17640,
                handle_type: "File",
                user: None,
                value: 0x35DC,
                name: r"C:\dev\obj\x.dll",
                value_08x_bug: false
            })
        );
    }

    #[test]
    fn search_line_with_long_spaced_name_and_type() {
        let line = r"Some Very Long Image Name.exe pid: 1234   type: ALPC Port       1C: \RPC Control\x";
        let parsed = search_line(line).unwrap();
        assert_eq!(parsed.process, "Some Very Long Image Name.exe");
        assert_eq!(parsed.handle_type, "ALPC Port");
        assert_eq!(parsed.value, 0x1C);
        assert_eq!(parsed.name, r"\RPC Control\x");
    }

    #[test]
    fn search_line_with_user_column() {
        let line = r"lsass.exe          pid: 768    type: Token         NT AUTHORITY\SYSTEM        1F0: NT AUTHORITY\SYSTEM:3e7";
        let parsed = search_line(line).unwrap();
        assert_eq!(parsed.user, Some(r"NT AUTHORITY\SYSTEM"));
        assert_eq!(parsed.value, 0x1F0);
        assert_eq!(parsed.name, r"NT AUTHORITY\SYSTEM:3e7");
        assert!(!parsed.value_08x_bug);
    }

    #[test]
    fn search_line_v5_0_u_08x_bug() {
        let line =
            r"explorer.exe       pid: 6116   type: File          CLNTNAME\Alias1           1dd3408X E:\Users\Alias1\x";
        let parsed = search_line(line).unwrap();
        assert_eq!(parsed.process, "explorer.exe");
        assert_eq!(parsed.pid, 6116);
        assert_eq!(parsed.user, Some(r"CLNTNAME\Alias1"));
        assert_eq!(parsed.value, 0x1dd34);
        assert_eq!(parsed.name, r"E:\Users\Alias1\x");
        assert!(parsed.value_08x_bug);
    }

    #[test]
    fn handle_tokens() {
        assert_eq!(handle_token("35DC:"), Some(0x35DC));
        assert_eq!(handle_token("35DC"), None);
        assert_eq!(handle_token(":"), None);
        assert_eq!(handle_08x_bug("1ea0c08X"), Some(0x1ea0c));
        assert_eq!(handle_08x_bug("08X"), None);
        assert_eq!(handle_08x_bug("1EA0C08X"), None);
        assert_eq!(handle_08x_bug("10808X"), Some(0x108));
    }

    #[test]
    fn not_search_lines() {
        assert_eq!(search_line(r"lsass.exe pid: 768 NT AUTHORITY\SYSTEM"), None);
        assert_eq!(search_line("x pid: 1 type: File"), None);
        assert_eq!(search_line("x pid: 1 type: File          nohandle here"), None);
        assert_eq!(search_line("pid: 1"), None);
    }
}
