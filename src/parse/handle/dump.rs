//! Dump mode (`handle`, `handle -a`, `handle -p X`): per-process sections (formats reference §2.2a).
//!
//! ```text
//! ------------------------------------------------------------------------------     separator (78 '-')
//! lsass.exe pid: 768 NT AUTHORITY\SYSTEM                                              process header
//!    C4: File  (RW-)   C:\Windows\System32                       ` %4X: %-5s (%c%c%c)   %s`
//!    80: Section       \Windows\Theme577161652                   ` %4X: %-13s %s`
//! ```
//!
//! These are the hot rules (a 200 MB `-a` dump is millions of handle lines), so they are written over
//! bytes with early exits; nom is used where a rule is more than a scan.

use nom::bytes::complete::{tag, take_while1, take_while_m_n};
use nom::character::complete::space0;
use nom::combinator::map_res;
use nom::sequence::{delimited, terminated};
use nom::{IResult, Parser};

/// The width handle.exe pads the type column to in the generic handle format (`%-13s`).
const TYPE_WIDTH: usize = 13;

/// A `NAME pid: N OWNER` line that opens a process's section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessHeader<'a> {
    /// Image name (may contain spaces, or be a placeholder such as `<Non-existant Process>`).
    pub name: &'a str,
    /// Process id.
    pub pid: u32,
    /// Owner account or placeholder, as printed (`\<unable to open process>` keeps its backslash here).
    pub owner: Option<&'a str>,
}

/// One handle line of a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandleLine<'a> {
    /// Handle value.
    pub value: u64,
    /// Object type (`File`, `ALPC Port`, `<Unknown type>`).
    pub handle_type: &'a str,
    /// Share flags (`RW-`) of the File format.
    pub share: Option<&'a str>,
    /// Object name (may be empty).
    pub name: &'a str,
}

/// The separator before each process section: a line of dashes (78 of them in every version; shorter or
/// longer runs of at least 20 are accepted, since pastes get trimmed).
pub fn separator(line: &str) -> bool {
    let line = line.trim_end();
    line.len() >= 20 && line.bytes().all(|b| b == b'-')
}

/// `pid: N` and what follows it, e.g. `768 NT AUTHORITY\SYSTEM`: the pid and the owner text.
fn pid_and_rest(input: &str) -> IResult<&str, u32> {
    map_res(take_while1(|c: char| c.is_ascii_digit()), str::parse::<u32>).parse(input)
}

/// A process header, `%s pid: %d %s`. Image names contain spaces (`VS Code @ FB.exe`), so the line is read
/// from the right: the last ` pid: ` followed by digits and then a space or the end of the line.
/// Search-mode lines (`... pid: 17640  type: File ...`) are not headers.
pub fn process_header(line: &str) -> Option<ProcessHeader<'_>> {
    let line = line.trim_end();
    let mut end = line.len();
    while let Some(at) = line[..end].rfind(" pid: ") {
        end = at;
        let Ok((rest, pid)) = pid_and_rest(&line[at + 6..]) else { continue };
        if !(rest.is_empty() || rest.starts_with(' ')) {
            continue;
        }
        let owner = rest.trim();
        if owner.starts_with("type: ") {
            return None;
        }
        let name = line[..at].trim();
        if name.is_empty() {
            return None;
        }
        return Some(ProcessHeader { name, pid, owner: (!owner.is_empty()).then_some(owner) });
    }
    None
}

/// A handle value, `%4X: ` (right-aligned uppercase hex; wider values simply grow): the rest of the line
/// after it, and the value. Written over bytes: it runs once per line of a dump.
fn handle_value(line: &str) -> Option<(&str, u64)> {
    let bytes = line.as_bytes();
    let start = bytes.iter().position(|&b| b != b' ')?;
    let mut value = 0u64;
    let mut end = start;
    while let Some(digit) = bytes.get(end).and_then(|&b| char::from(b).to_digit(16)) {
        if end - start == 16 {
            return None;
        }
        value = value << 4 | u64::from(digit);
        end += 1;
    }
    if end == start || bytes.get(end..end + 2) != Some(b": ") {
        return None;
    }
    Some((&line[end + 2..], value))
}

/// A handle line of a dump: ` %4X: ` and then the File format with share flags or the generic format.
pub fn handle_line(line: &str) -> Option<HandleLine<'_>> {
    // Cheap rejection first: a handle line starts with spaces and a hex digit.
    let first = line.bytes().find(|&b| b != b' ')?;
    if !first.is_ascii_hexdigit() {
        return None;
    }
    let (rest, value) = handle_value(line)?;
    if let Some((handle_type, share, name)) = share_flags_form(rest) {
        return Some(HandleLine { value, handle_type, share: Some(share), name });
    }
    let (handle_type, name) = type_and_name(rest);
    if handle_type.is_empty() {
        return None;
    }
    Some(HandleLine { value, handle_type, share: None, name })
}

/// `(RW-)`: the three share flags of the File format, each its letter or `-`.
fn share_flags(input: &str) -> IResult<&str, &str> {
    terminated(
        delimited(tag("("), take_while_m_n(3, 3, |c: char| matches!(c, 'R' | 'W' | 'D' | '-')), tag(")")),
        space0,
    )
    .parse(input)
}

/// The File format `%-5s (%c%c%c)   %s`: type, share flags, name. Only File handles are printed this
/// way; v5.0 also prints File handles without flags through the generic format, which is not this rule.
fn share_flags_form(rest: &str) -> Option<(&str, &str, &str)> {
    let after_type = rest.strip_prefix("File ")?;
    let (name, share) = share_flags(after_type.trim_start()).ok()?;
    Some(("File", share, name.trim_end()))
}

/// Splits `%-13s %s` into the type and the name. The type is padded to 13 characters and followed by
/// one space; longer types (`WaitCompletionPacket`, `<Unknown type>`) push the name right. Types contain
/// spaces (`ALPC Port`), so a space alone does not end the type; a type followed by its padding does.
/// Pastes that collapsed the padding to one space are read by the first space instead.
pub fn type_and_name(rest: &str) -> (&str, &str) {
    if rest.starts_with('<') {
        if let Some(close) = rest.find('>') {
            return (&rest[..=close], rest[close + 1..].trim());
        }
    }
    let bytes = rest.as_bytes();
    if bytes.len() <= TYPE_WIDTH {
        return (rest.trim(), "");
    }
    if bytes[TYPE_WIDTH] == b' ' && rest.is_char_boundary(TYPE_WIDTH) {
        let field = rest[..TYPE_WIDTH].trim_end();
        // A padded field, or a full-width one without inner spaces, is the real column.
        if (field.len() < TYPE_WIDTH && !field.contains("  ")) || !field.contains(' ') {
            return (field, rest[TYPE_WIDTH + 1..].trim());
        }
    }
    match rest.find(' ') {
        Some(space) => (&rest[..space], rest[space + 1..].trim()),
        None => (rest.trim_end(), ""),
    }
}

/// The `-l` extra lines under a pagefile-backed Section: `       Pagefile      %I64d bytes` or
/// `                     %I64d bytes`. They carry no handle and are accepted silently.
pub fn pagefile_line(line: &str) -> bool {
    let trimmed = line.trim();
    let Some(number) = trimmed.strip_suffix(" bytes") else { return false };
    let number = number.strip_prefix("Pagefile").unwrap_or(number).trim();
    !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separator_is_a_line_of_dashes() {
        assert!(separator(&"-".repeat(78)));
        assert!(separator(&format!("{}\r", "-".repeat(78))));
        assert!(separator(&"-".repeat(40)));
        assert!(!separator("-----"));
        assert!(!separator(&format!("{}x", "-".repeat(78))));
        assert!(!separator(""));
    }

    #[test]
    fn process_header_reads_from_the_right() {
        assert_eq!(
            process_header(r"lsass.exe pid: 768 NT AUTHORITY\SYSTEM"),
            Some(ProcessHeader { name: "lsass.exe", pid: 768, owner: Some(r"NT AUTHORITY\SYSTEM") })
        );
        assert_eq!(
            process_header(r"VS Code @ FB.exe pid: 9 CONTOSO\user name"),
            Some(ProcessHeader { name: "VS Code @ FB.exe", pid: 9, owner: Some(r"CONTOSO\user name") })
        );
        assert_eq!(
            process_header(r"System pid: 4 \<unable to open process>"),
            Some(ProcessHeader { name: "System", pid: 4, owner: Some(r"\<unable to open process>") })
        );
        assert_eq!(
            process_header("<Non-existant Process> pid: 5412 <unable to open token>"),
            Some(ProcessHeader { name: "<Non-existant Process>", pid: 5412, owner: Some("<unable to open token>") })
        );
        assert_eq!(
            process_header("System Idle Process pid: 0"),
            Some(ProcessHeader { name: "System Idle Process", pid: 0, owner: None })
        );
        assert_eq!(process_header("vmwp.exe           pid: 17640  type: File          35DC: C:\\x"), None);
        assert_eq!(process_header(" pid: 4 x"), None);
        assert_eq!(process_header("x pid: 4x"), None);
        assert_eq!(process_header("nothing here"), None);
    }

    #[test]
    fn handle_line_with_share_flags() {
        assert_eq!(
            handle_line(r"   C4: File  (RW-)   C:\Windows\System32"),
            Some(HandleLine { value: 0xC4, handle_type: "File", share: Some("RW-"), name: r"C:\Windows\System32" })
        );
        assert_eq!(
            handle_line(r" 14F8: File  (---)   C:\Program Files (x86)\a b.dll"),
            Some(HandleLine {
                value: 0x14F8,
                handle_type: "File",
                share: Some("---"),
                name: r"C:\Program Files (x86)\a b.dll"
            })
        );
        // Spaces collapsed by a paste.
        assert_eq!(
            handle_line(r"24C: File (RW-) C:\x.bdic"),
            Some(HandleLine { value: 0x24C, handle_type: "File", share: Some("RW-"), name: r"C:\x.bdic" })
        );
    }

    #[test]
    fn handle_values() {
        assert_eq!(handle_value("    8: File"), Some(("File", 8)));
        assert_eq!(handle_value(" 14F8: x"), Some(("x", 0x14F8)));
        assert_eq!(handle_value("FFFFFFFFFFFFFFFF: x"), Some(("x", u64::MAX)));
        assert_eq!(handle_value("1FFFFFFFFFFFFFFFF: x"), None);
        assert_eq!(handle_value("   : x"), None);
        assert_eq!(handle_value("   C4:x"), None);
        assert_eq!(handle_value("    "), None);
    }

    #[test]
    fn handle_line_generic_format() {
        assert_eq!(
            handle_line(r"   80: Section       \Windows\Theme577161652"),
            Some(HandleLine { value: 0x80, handle_type: "Section", share: None, name: r"\Windows\Theme577161652" })
        );
        assert_eq!(
            handle_line(r"   A4: File          C:\Temp\test.txt"),
            Some(HandleLine { value: 0xA4, handle_type: "File", share: None, name: r"C:\Temp\test.txt" })
        );
        assert_eq!(
            handle_line(r"   10: ALPC Port     \RPC Control\OLE1"),
            Some(HandleLine { value: 0x10, handle_type: "ALPC Port", share: None, name: r"\RPC Control\OLE1" })
        );
        assert_eq!(
            handle_line(r"  1F0: Token         NT AUTHORITY\SYSTEM:3e7"),
            Some(HandleLine { value: 0x1F0, handle_type: "Token", share: None, name: r"NT AUTHORITY\SYSTEM:3e7" })
        );
        assert_eq!(
            handle_line("   20: WaitCompletionPacket "),
            Some(HandleLine { value: 0x20, handle_type: "WaitCompletionPacket", share: None, name: "" })
        );
        assert_eq!(
            handle_line("   24: <Unknown type> <Error Opening Key>"),
            Some(HandleLine { value: 0x24, handle_type: "<Unknown type>", share: None, name: "<Error Opening Key>" })
        );
        assert_eq!(
            handle_line("    4: Event"),
            Some(HandleLine { value: 4, handle_type: "Event", share: None, name: "" })
        );
        assert_eq!(handle_line("Total handles: 238"), None);
        assert_eq!(handle_line("   C4 File"), None);
        assert_eq!(handle_line("   : File"), None);
        assert_eq!(handle_line("   C4: "), None);
    }

    #[test]
    fn type_and_name_handles_every_width() {
        assert_eq!(type_and_name("Key           \\REGISTRY\\MACHINE"), ("Key", "\\REGISTRY\\MACHINE"));
        assert_eq!(type_and_name("TpWorkerFactory "), ("TpWorkerFactory", ""));
        assert_eq!(type_and_name("IoCompletionR x"), ("IoCompletionR", "x"));
        assert_eq!(
            type_and_name("Section \\Sessions\\1\\BaseNamedObjects\\x"),
            ("Section", "\\Sessions\\1\\BaseNamedObjects\\x")
        );
        assert_eq!(type_and_name("ALPC Port"), ("ALPC Port", ""));
        assert_eq!(type_and_name("<Unknown type>"), ("<Unknown type>", ""));
    }

    #[test]
    fn pagefile_lines_of_l() {
        assert!(pagefile_line("       Pagefile      4096 bytes"));
        assert!(pagefile_line("                     65536 bytes"));
        assert!(!pagefile_line("   80: Section       bytes"));
        assert!(!pagefile_line(" bytes"));
    }
}
