//! Writes Sysinternals handle.exe v5.0 output: the banner, `-s` summaries and `-a -p <process>` dumps,
//! with the exact line layouts of formats reference §2.1-2.2 (B1 strings of the v5.0 binary).

use super::poolmon_writer::{push_left, push_right};

/// The banner v5.0 prints first (`InternalName` "Nthandle", `FileDescription` "Handle viewer"), then a blank line.
pub const BANNER: &str =
    "Nthandle v5.0 - Handle viewer\nCopyright (C) 1997-2022 Mark Russinovich\nSysinternals - www.sysinternals.com\n\n";

/// The separator line before each process in dump mode: 78 dashes.
pub const SEPARATOR: &str = "------------------------------------------------------------------------------";

/// One handle of a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandleLine {
    /// Handle value (printed as upper-case hex, right-aligned in 4).
    pub value: u64,
    /// Object type name.
    pub kind: &'static str,
    /// File share flags `RWD` (with `-` for absent ones), for File handles.
    pub share: Option<[u8; 3]>,
    /// Object name (may be empty).
    pub name: String,
}

/// Appends an upper-case hex value right-aligned in `width` (C's `%<width>X`).
fn push_hex(buf: &mut Vec<u8>, v: u64, width: usize) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut digits = [0u8; 16];
    let mut n = v;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = HEX[(n & 0xF) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    for _ in (digits.len() - i)..width {
        buf.push(b' ');
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Appends a `-s` summary: `Handle type summary:`, one `  %-16s: %d` line per type (in the order
/// given; handle.exe sorts by name), and `Total handles: %d`.
pub fn write_summary(buf: &mut Vec<u8>, counts: &[(&str, u64)]) {
    buf.extend_from_slice(b"Handle type summary:\n");
    let mut total = 0;
    for (kind, count) in counts {
        buf.extend_from_slice(b"  ");
        push_left(buf, kind, 16);
        buf.extend_from_slice(b": ");
        push_right(buf, *count, 0);
        buf.push(b'\n');
        total += count;
    }
    buf.extend_from_slice(b"Total handles: ");
    push_right(buf, total, 0);
    buf.push(b'\n');
}

/// Appends one process of a dump: the separator, `%s pid: %d %s`, and its handles in the order given
/// (handle.exe lists them in handle-table order, i.e. ascending value). File handles use
/// ` %4X: %-5s (%c%c%c)   %s`, every other type ` %4X: %-13s %s`.
pub fn write_dump_process(buf: &mut Vec<u8>, image: &str, pid: u32, owner: &str, handles: &[HandleLine]) {
    buf.extend_from_slice(SEPARATOR.as_bytes());
    buf.push(b'\n');
    buf.extend_from_slice(image.as_bytes());
    buf.extend_from_slice(b" pid: ");
    push_right(buf, u64::from(pid), 0);
    buf.push(b' ');
    buf.extend_from_slice(owner.as_bytes());
    buf.push(b'\n');
    for h in handles {
        buf.push(b' ');
        push_hex(buf, h.value, 4);
        buf.extend_from_slice(b": ");
        if let Some(flags) = h.share {
            push_left(buf, h.kind, 5);
            buf.extend_from_slice(b" (");
            buf.extend_from_slice(&flags);
            buf.extend_from_slice(b")   ");
        } else {
            push_left(buf, h.kind, 13);
            buf.push(b' ');
        }
        buf.extend_from_slice(h.name.as_bytes());
        buf.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_layout_and_total() {
        let mut buf = Vec::new();
        write_summary(&mut buf, &[("ALPC Port", 11), ("WaitCompletionPacket", 25), ("Token", 3)]);
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text,
            "Handle type summary:\n  ALPC Port       : 11\n  WaitCompletionPacket: 25\n  Token           : 3\nTotal handles: 39\n"
        );
    }

    #[test]
    fn dump_lines_for_token_and_file_handles() {
        let mut buf = Vec::new();
        let handles = vec![
            HandleLine { value: 0xC4, kind: "File", share: Some(*b"RW-"), name: "C:\\Windows\\System32".into() },
            HandleLine { value: 0x14F8, kind: "Token", share: None, name: "CONTOSO\\svc-scan:3a8f2c1".into() },
            HandleLine { value: 0x1_0A2C, kind: "Event", share: None, name: String::new() },
        ];
        write_dump_process(&mut buf, "lsass.exe", 512, "NT AUTHORITY\\SYSTEM", &handles);
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].len(), 78);
        assert_eq!(lines[1], "lsass.exe pid: 512 NT AUTHORITY\\SYSTEM");
        assert_eq!(lines[2], "   C4: File  (RW-)   C:\\Windows\\System32");
        assert_eq!(lines[3], " 14F8: Token         CONTOSO\\svc-scan:3a8f2c1");
        assert_eq!(lines[4], " 10A2C: Event         ");
    }

    #[test]
    fn banner_is_v5() {
        assert!(BANNER.starts_with("Nthandle v5.0 - Handle viewer\n"));
        assert!(BANNER.ends_with("www.sysinternals.com\n\n"));
    }
}
