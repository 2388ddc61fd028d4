//! WinDbg `!vm` summaries (peers.md §2.3, §6): the host's real pool maxima and commit limit.
//!
//! ```text
//! *** Virtual Memory Usage ***
//!     Physical Memory:      1048371 (   4193484 Kb)
//!     NonPagedPool Max:      786432 (   3145728 Kb)
//!     PagedPool Maximum:   33554432 ( 134217728 Kb)
//!     Commit limit:         1114039 (   4456156 Kb)
//! ```
//! Each line gives pages and, in parentheses, KiB; the KiB value is read (a line with pages only is read as
//! 4 KiB pages). Labels are matched without their spaces, so `PagedPoolMaximum` and `NonPagedPoolMaximum`
//! (other debugger builds) read the same. The last value of each label wins.

use crate::model::{DebuggerLimits, Diagnostic, Severity, SourceRef};

/// Bytes of a page on x86 and x64 (the only kernels with pool leak tooling that writes these files).
const PAGE_BYTES: u64 = 4096;

/// What a `!vm` line states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmField {
    /// `PagedPool Maximum:`.
    PagedPoolMax,
    /// `NonPagedPool Max:`.
    NonPagedPoolMax,
    /// `Commit limit:`.
    CommitLimit,
    /// `Physical Memory:`.
    PhysicalMemory,
}

/// Whether the text holds a `!vm` summary (its banner, or one of its limit lines).
pub fn looks_like(text: &str) -> bool {
    text.contains("*** Virtual Memory Usage ***")
        || text
            .lines()
            .take(400)
            .any(|l| matches!(vm_line(l), Some((VmField::PagedPoolMax | VmField::NonPagedPoolMax, _))))
}

/// A limit line: the field and its value in bytes.
pub fn vm_line(line: &str) -> Option<(VmField, u64)> {
    let (label, value) = line.split_once(':')?;
    let key: String = label.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    let field = match key.as_str() {
        "pagedpoolmaximum" | "pagedpoolmax" => VmField::PagedPoolMax,
        "nonpagedpoolmax" | "nonpagedpoolmaximum" => VmField::NonPagedPoolMax,
        "commitlimit" => VmField::CommitLimit,
        "physicalmemory" => VmField::PhysicalMemory,
        _ => return None,
    };
    Some((field, value_bytes(value)?))
}

/// `1048371 (   4193484 Kb)` -> 4193484 KiB; `98304Kb` -> 98304 KiB; `1048371` -> pages.
fn value_bytes(text: &str) -> Option<u64> {
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        let digits: String =
            s.chars().take_while(|c| c.is_ascii_digit() || *c == ',').filter(char::is_ascii_digit).collect();
        (!digits.is_empty() && digits.len() <= 20).then(|| digits.parse().ok()).flatten()
    };
    if let Some((_, inner)) = text.split_once('(') {
        let inner = inner.split(')').next().unwrap_or("");
        if inner.trim_end().to_ascii_lowercase().ends_with("kb") {
            return number(inner)?.checked_mul(1024);
        }
    }
    let first = text.split_whitespace().next()?;
    if first.to_ascii_lowercase().ends_with("kb") {
        return number(first)?.checked_mul(1024);
    }
    number(first)?.checked_mul(PAGE_BYTES)
}

/// The limits of every `!vm` summary in the text (the last value of each field wins), or `None` when no
/// limit line was read.
pub fn limits(text: &str, path: &str, host: Option<&str>, diagnostics: &mut Vec<Diagnostic>) -> Option<DebuggerLimits> {
    let mut out = DebuggerLimits { host: host.map(str::to_owned), ..DebuggerLimits::default() };
    let mut first_line = None;
    for (index, line) in text.lines().enumerate() {
        let Some((field, bytes)) = vm_line(line) else {
            let key = line.split(':').next().unwrap_or("").trim();
            if ["PagedPool Maximum", "NonPagedPool Max", "Commit limit"].contains(&key) {
                diagnostics.push(Diagnostic::at_line(
                    path,
                    index as u64 + 1,
                    Severity::Warning,
                    format!("{key}: no number read (expected pages and `( N Kb)`)"),
                ));
            }
            continue;
        };
        first_line.get_or_insert(index as u64 + 1);
        let slot = match field {
            VmField::PagedPoolMax => &mut out.paged_pool_max,
            VmField::NonPagedPoolMax => &mut out.nonpaged_pool_max,
            VmField::CommitLimit => &mut out.commit_limit,
            VmField::PhysicalMemory => &mut out.physical_memory,
        };
        *slot = Some(bytes);
    }
    out.source = SourceRef::line(path, first_line?);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kb_in_parentheses_kb_glued_and_pages() {
        assert_eq!(
            vm_line("      NonPagedPool Max:     6252   (   25008 Kb)"),
            Some((VmField::NonPagedPoolMax, 25008 * 1024))
        );
        assert_eq!(
            vm_line("\tPagedPool Maximum:   33554432 ( 134217728 Kb)"),
            Some((VmField::PagedPoolMax, 134_217_728 * 1024))
        );
        assert_eq!(vm_line("PagedPoolMaximum: 100 (400 Kb)"), Some((VmField::PagedPoolMax, 400 * 1024)));
        assert_eq!(vm_line("NonPagedPoolMaximum: 100"), Some((VmField::NonPagedPoolMax, 100 * 4096)));
        assert_eq!(vm_line("Commit limit:  98304Kb"), Some((VmField::CommitLimit, 98304 * 1024)));
        assert_eq!(vm_line("PagedPool Usage:  1597 ( 6388 Kb)"), None);
        assert_eq!(vm_line("Commit limit: lots"), None);
        assert_eq!(vm_line("Commit limit: 99999999999999999999999 (1 Kb)"), Some((VmField::CommitLimit, 1024)));
        assert_eq!(vm_line("Commit limit: 1 (99999999999999999999 Kb)"), None);
    }

    #[test]
    fn last_value_wins_and_bad_numbers_are_said() {
        let text =
            "*** Virtual Memory Usage ***\n Commit limit: 1 (4 Kb)\n PagedPool Maximum: x\n Commit limit: 2 (8 Kb)\n";
        assert!(looks_like(text));
        let mut diagnostics = Vec::new();
        let limits = limits(text, "vm.txt", None, &mut diagnostics).unwrap();
        assert_eq!(limits.commit_limit, Some(8192));
        assert_eq!(limits.paged_pool_max, None);
        assert_eq!(limits.source.line, Some(2));
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].line, Some(3));
        assert!(super::limits("nothing", "p", None, &mut diagnostics).is_none());
    }
}
