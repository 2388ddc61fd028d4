//! Object names by type: what the name of a Process, Thread, Token, File or Key handle says
//! (formats reference §2.2a, "Object-name conventions", from handle.exe v5.0's format strings).
//!
//! * Process: `name(pid)`, e.g. `lsass.exe(768)`;
//! * Thread: `name(pid): tid`, e.g. `System(4): 12`;
//! * Token: `DOMAIN\user:luid`, e.g. `NT AUTHORITY\SYSTEM:3e7`;
//! * File: a drive path, `\Device\...`, `\clfs` (odd names such as `C:?` are kept as they are);
//! * Key: a registry path, `\REGISTRY\MACHINE\...` or `HKLM\...`.
//!
//! Names that do not follow their type's convention get no identity; the name itself is always kept.

use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::{char, digit1};
use nom::combinator::{all_consuming, map_res, opt, recognize};
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

use crate::model::ObjectIdentity;

/// The identity an object name carries for its handle type, when it follows that type's convention.
pub fn identity(handle_type: &str, name: &str) -> Option<ObjectIdentity> {
    if name.is_empty() {
        return None;
    }
    match handle_type {
        "Process" => process_name(name).map(|(name, pid)| ObjectIdentity::Process { name: name.to_owned(), pid }),
        "Thread" => {
            thread_name(name).map(|(name, pid, tid)| ObjectIdentity::Thread { name: name.to_owned(), pid, tid })
        }
        "Token" => token_name(name)
            .map(|(account, luid)| ObjectIdentity::Token { account: account.to_owned(), luid: luid.to_owned() }),
        "File" => Some(ObjectIdentity::File { path: name.to_owned() }),
        "Key" => Some(ObjectIdentity::Key { path: name.to_owned() }),
        _ => None,
    }
}

/// `(pid)` at the end of a Process handle's name.
fn pid_in_parens(input: &str) -> IResult<&str, u32> {
    all_consuming(delimited(char('('), map_res(digit1, str::parse::<u32>), char(')'))).parse(input)
}

/// A Process handle's name, `name(pid)` (`%s(%d)`). The image name may itself contain parentheses
/// (`app (x86).exe(1234)`), so the pid is the last parenthesised group.
pub fn process_name(name: &str) -> Option<(&str, u32)> {
    let open = name.rfind('(')?;
    let (_, pid) = pid_in_parens(&name[open..]).ok()?;
    let image = &name[..open];
    (!image.is_empty()).then_some((image, pid))
}

/// `: tid` after a Thread handle's `name(pid)`.
fn thread_id(input: &str) -> IResult<&str, u32> {
    all_consuming(preceded(tag(": "), map_res(digit1, str::parse::<u32>))).parse(input)
}

/// A Thread handle's name, `name(pid): tid` (`%s(%d): %d`).
pub fn thread_name(name: &str) -> Option<(&str, u32, u32)> {
    let close = name.rfind("): ")?;
    let (_, tid) = thread_id(&name[close + 1..]).ok()?;
    let (image, pid) = process_name(&name[..=close])?;
    Some((image, pid, tid))
}

/// The logon-session id after the last `:` of a Token handle's name: hex, as printed (`3e7`), with an
/// optional `0x`.
fn luid(input: &str) -> IResult<&str, &str> {
    all_consuming(recognize((opt(tag("0x")), take_while1(|c: char| c.is_ascii_hexdigit())))).parse(input)
}

/// A Token handle's name, `DOMAIN\user:luid`: the account and the logon session (LUID, hex as printed).
/// Account names may contain spaces (`NT AUTHORITY\LOCAL SERVICE`), so the split is on the last `:`.
pub fn token_name(name: &str) -> Option<(&str, &str)> {
    let (account, rest) = name.rsplit_once(':')?;
    let (_, luid) = luid(rest).ok()?;
    let account = account.trim();
    (!account.is_empty() && luid.len() <= 18).then_some((account, luid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_name_takes_the_last_parenthesised_pid() {
        assert_eq!(process_name("lsass.exe(768)"), Some(("lsass.exe", 768)));
        assert_eq!(process_name("app (x86).exe(1234)"), Some(("app (x86).exe", 1234)));
        assert_eq!(process_name("<Non-existent Process>(77)"), Some(("<Non-existent Process>", 77)));
        assert_eq!(process_name("lsass.exe"), None);
        assert_eq!(process_name("(768)"), None);
        assert_eq!(process_name("x(76a)"), None);
        assert_eq!(process_name("x(99999999999)"), None);
    }

    #[test]
    fn thread_name_has_pid_and_tid() {
        assert_eq!(thread_name("System(4): 12"), Some(("System", 4, 12)));
        assert_eq!(thread_name("svchost.exe(1020): 4410"), Some(("svchost.exe", 1020, 4410)));
        assert_eq!(thread_name("svchost.exe(1020)"), None);
        assert_eq!(thread_name("svchost.exe(1020): x"), None);
    }

    #[test]
    fn token_name_splits_on_the_last_colon() {
        assert_eq!(token_name(r"NT AUTHORITY\SYSTEM:3e7"), Some((r"NT AUTHORITY\SYSTEM", "3e7")));
        assert_eq!(token_name(r"NT AUTHORITY\NETWORK SERVICE:3e4"), Some((r"NT AUTHORITY\NETWORK SERVICE", "3e4")));
        assert_eq!(token_name(r"CONTOSO\svc_backup:0x1a2b3c"), Some((r"CONTOSO\svc_backup", "0x1a2b3c")));
        assert_eq!(token_name(r"CONTOSO\svc:zz"), None);
        assert_eq!(token_name(":3e7"), None);
        assert_eq!(token_name("no luid"), None);
    }

    #[test]
    fn identity_follows_the_type() {
        assert_eq!(
            identity("Token", r"CONTOSO\svc_backup:5c203"),
            Some(ObjectIdentity::Token { account: r"CONTOSO\svc_backup".into(), luid: "5c203".into() })
        );
        assert_eq!(
            identity("Process", "lsass.exe(768)"),
            Some(ObjectIdentity::Process { name: "lsass.exe".into(), pid: 768 })
        );
        assert_eq!(
            identity("Thread", "System(4): 12"),
            Some(ObjectIdentity::Thread { name: "System".into(), pid: 4, tid: 12 })
        );
        assert_eq!(identity("File", r"\Device\Afd"), Some(ObjectIdentity::File { path: r"\Device\Afd".into() }));
        assert_eq!(
            identity("Key", r"\REGISTRY\MACHINE"),
            Some(ObjectIdentity::Key { path: r"\REGISTRY\MACHINE".into() })
        );
        assert_eq!(identity("Event", r"\BaseNamedObjects\x"), None);
        assert_eq!(identity("File", ""), None);
        assert_eq!(identity("Token", "garbled"), None);
    }
}
