//! Hive partition folders (`table=T/host=H/boot=B/`): escaping untrusted values into one safe path
//! component, replacing a partition atomically, and removing a host's partitions that an export no longer
//! writes.
//!
//! Host names come from the logs (an event's `Computer`, a file name), so a value may hold `/`, `..`,
//! control characters, a Windows device name or be hundreds of bytes long. [`escape_value`] turns any value
//! into one path component that is safe on Linux, macOS and Windows, using the percent-encoding Hive and
//! Spark use (`%2F` for `/`), which DuckDB and Spark decode when they read the partition value back.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The name Hive, Spark and DuckDB give a null partition value.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// File name of a partition's single data file.
pub const PART_FILE: &str = "part-0.parquet";

/// Escaped values longer than this (bytes) are cut and given a hash of the whole value, so that a path
/// component stays within every file system's 255-byte limit with `host=` in front.
const MAX_VALUE_BYTES: usize = 200;

/// Windows device names, which cannot be file names there (with or without an extension).
const WINDOWS_DEVICES: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// One path component for a partition value (`None`: the null partition).
///
/// ASCII letters, digits, `-` and `_`, and non-ASCII letters and digits, are kept; `.` is kept inside a
/// value but escaped at its start and end (no `.`/`..`, no hidden names, no trailing dot that Windows
/// drops); everything else is `%XX` per UTF-8 byte. The first character is escaped when the value would
/// otherwise be a Windows device name or the null-partition name. A value longer than 200 bytes escaped is
/// cut at a character boundary and ends in `~` and a 64-bit FNV-1a hash of the whole value (in hex), so two
/// long names stay apart; the `host` column inside the files always holds the value unchanged.
pub fn escape_value(value: Option<&str>) -> String {
    let Some(value) = value else { return NULL_PARTITION.to_owned() };
    if value.is_empty() {
        // An empty value cannot be a path component; `%00` never comes out of a real host name.
        return "%00".to_owned();
    }
    let last = value.chars().count() - 1;
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let keep = c.is_ascii_alphanumeric()
            || c == '-'
            || c == '_'
            || (c == '.' && i != 0 && i != last)
            || (!c.is_ascii() && c.is_alphanumeric());
        if keep {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    let stem = out.split('.').next().unwrap_or_default().to_ascii_uppercase();
    if WINDOWS_DEVICES.contains(&stem.as_str()) || out == NULL_PARTITION {
        let first = out.chars().next().unwrap_or('_');
        let mut escaped = String::new();
        push_escaped(&mut escaped, first);
        out.replace_range(..first.len_utf8(), &escaped);
    }
    if out.len() > MAX_VALUE_BYTES {
        let mut cut = MAX_VALUE_BYTES - 17;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        // Do not end inside a `%XX` escape.
        if let Some(pos) = out[..cut].rfind('%') {
            if pos + 3 > cut {
                cut = pos;
            }
        }
        out = format!("{}~{:016x}", &out[..cut], fnv1a(value.as_bytes()));
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    for b in c.encode_utf8(&mut buf).bytes() {
        out.push_str(&format!("%{b:02X}"));
    }
}

/// 64-bit FNV-1a: a stable hash (the same on every platform and run) for cut names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// `root/table=TABLE`.
pub fn table_dir(root: &Path, table: &str) -> PathBuf {
    root.join(format!("table={table}"))
}

/// `root/table=TABLE/host=HOST` with the host escaped.
pub fn host_dir(root: &Path, table: &str, host: &str) -> PathBuf {
    table_dir(root, table).join(format!("host={}", escape_value(Some(host))))
}

/// `boot=B` (`boot=__HIVE_DEFAULT_PARTITION__` for rows without a boot).
pub fn boot_component(boot: Option<u32>) -> String {
    format!("boot={}", escape_value(boot.map(|b| b.to_string()).as_deref()))
}

/// Replaces the partition folder `dir`'s data with `bytes`: written to a temporary file in `dir` and renamed
/// to [`PART_FILE`] (atomic on one file system), then every other file of the partition removed (a partition
/// is replaced whole). Returns the data file's path.
pub fn replace_partition(dir: &Path, bytes: &[u8]) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    crate::output::remove_stale_temps(dir);
    let path = dir.join(PART_FILE);
    crate::output::write_atomic(&path, bytes)?;
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Hidden files are other writers' temporary files (ours were removed above); leave them.
        if name != PART_FILE && !name.starts_with('.') && entry.path().is_file() {
            std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        }
    }
    Ok(path)
}

/// Removes the `boot=*` folders under `host_dir` whose names are not in `keep` (boots a re-export no longer
/// has), and `host_dir` itself when nothing is kept.
pub fn remove_stale_boots(host_dir: &Path, keep: &[String]) -> Result<()> {
    if keep.is_empty() {
        return match std::fs::remove_dir_all(host_dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(host_dir, e)),
            _ => Ok(()),
        };
    }
    let Ok(entries) = std::fs::read_dir(host_dir) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("boot=") && !keep.contains(&name) && entry.path().is_dir() {
            std::fs::remove_dir_all(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_host_names_are_kept() {
        assert_eq!(escape_value(Some("WEB01")), "WEB01");
        assert_eq!(escape_value(Some("srv-app_01.contoso.local")), "srv-app_01.contoso.local");
        assert_eq!(escape_value(Some("Überserver")), "Überserver");
    }

    #[test]
    fn separators_and_traversal_are_escaped() {
        assert_eq!(escape_value(Some("a/b")), "a%2Fb");
        assert_eq!(escape_value(Some("..")), "%2E%2E");
        assert_eq!(escape_value(Some("../etc")), "%2E.%2Fetc");
        assert_eq!(escape_value(Some("a\\b:c")), "a%5Cb%3Ac");
        assert_eq!(escape_value(Some("x=y %")), "x%3Dy%20%25");
        assert_eq!(escape_value(Some("bell\u{7}\n")), "bell%07%0A");
        assert_eq!(escape_value(Some("host.")), "host%2E");
        assert_eq!(escape_value(Some("evil\u{202e}txt")), "evil%E2%80%AEtxt");
    }

    #[test]
    fn windows_device_names_and_the_null_name_are_escaped() {
        assert_eq!(escape_value(Some("con")), "%63on");
        assert_eq!(escape_value(Some("LPT1.local")), "%4CPT1.local");
        assert_eq!(escape_value(Some(NULL_PARTITION)), "%5F_HIVE_DEFAULT_PARTITION__");
        assert_eq!(escape_value(None), NULL_PARTITION);
        assert_eq!(escape_value(Some("")), "%00");
    }

    #[test]
    fn long_values_are_cut_with_a_hash() {
        let a = "A".repeat(300);
        let b = format!("{}B", "A".repeat(299));
        let (ea, eb) = (escape_value(Some(&a)), escape_value(Some(&b)));
        assert!(ea.len() <= MAX_VALUE_BYTES && eb.len() <= MAX_VALUE_BYTES);
        assert_ne!(ea, eb);
        let slashes = "/".repeat(100);
        let e = escape_value(Some(&slashes));
        assert!(e.len() <= MAX_VALUE_BYTES);
        let before_hash = e.split('~').next().unwrap();
        assert!(before_hash.len() % 3 == 0, "no escape is cut in half: {e}");
    }

    #[test]
    fn every_value_is_one_safe_component() {
        for v in ["a/b/c", "..", ".", "\0", "é/..", "C:\\x", "*?<>|\"", "   "] {
            let e = escape_value(Some(v));
            assert!(!e.contains(['/', '\\', ':', '*', '?', '<', '>', '|', '"', '\0']), "{v:?} -> {e}");
            assert!(!e.starts_with('.') && !e.ends_with('.') && !e.is_empty());
        }
    }
}
