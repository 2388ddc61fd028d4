//! Formats poolscope recognises but does not read (yet), named with the conversion that makes them readable,
//! so that a user never sees a bare "not a recognised format" for a file every pool-leak ticket carries.

/// What to tell the user about a file of a known format poolscope does not read, from its first bytes and its
/// name; `None` when the file is of no format known here.
pub fn known_unread(head: &[u8], file_name: &str) -> Option<&'static str> {
    by_signature(head).or_else(|| by_name(file_name))
}

/// A known unread format from its magic bytes alone (checked before any text sniffing: a zip that stores a
/// poolmon log uncompressed must not be read as a garbled poolmon log).
pub fn by_signature(head: &[u8]) -> Option<&'static str> {
    named(head, "")
}

fn by_name(file_name: &str) -> Option<&'static str> {
    named(b"", file_name)
}

fn named(head: &[u8], file_name: &str) -> Option<&'static str> {
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    // Legacy event log (Windows XP/2003): a 0x30-byte header record whose signature `LfLe` follows its size.
    if head.get(4..8) == Some(b"LfLe") || ext == "evt" {
        return Some(
            "a legacy .evt event log (Windows XP/2003), not read by poolscope: convert it on Windows with \
             `wevtutil epl file.evt file.evtx /lf:true` and pass the .evtx",
        );
    }
    if head.starts_with(b"PAGEDU64") || head.starts_with(b"PAGEDUMP") || head.starts_with(b"MDMP") || ext == "dmp" {
        return Some(
            "a memory dump, not read by poolscope: open it in WinDbg, run `!poolused 2` (and `!poolused 4`) and \
             `!vm`, save the output as text and pass that (poolscope reads !poolused and !vm text)",
        );
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") || ext == "zip" {
        // A file named .zip is listed in place by the walk (`parse::archive`) and never reaches here.
        return Some(
            "a zip archive not named .zip (or an Office or Java file): name it .zip to have it read in place, or \
             extract it and pass the folder",
        );
    }
    match ext.as_str() {
        "blg" => Some(
            "a binary perfmon log (.blg), not read by poolscope: convert it on Windows with \
             `relog file.blg -f csv -o file.csv`",
        ),
        "etl" => Some(
            "an ETW trace (.etl), not read by poolscope: export its pool tables, which poolscope reads \
             (`wpaexporter file.etl -profile x.wpaProfile -outputfolder d`, or Export to CSV from WPA's Pool Usage table)",
        ),
        "cab" | "7z" | "rar" | "gz" | "tgz" => {
            Some("a compressed archive, not read in place: extract it and pass the folder")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_names_are_named_with_their_conversion() {
        let mut evt = vec![0x30, 0, 0, 0];
        evt.extend_from_slice(b"LfLe");
        assert!(known_unread(&evt, "SysEvent").unwrap().contains("wevtutil epl"));
        assert!(known_unread(b"PAGEDU64\x0f\x00", "MEMORY").unwrap().contains("!poolused"));
        assert!(known_unread(b"MDMP\x93\xa7", "mini.bin").unwrap().contains("!vm"));
        assert!(known_unread(b"PK\x03\x04....", "case").unwrap().contains("zip"));
        assert!(known_unread(b"\x00\x01\x02", "DataCollector01.BLG").unwrap().contains("relog"));
        assert!(known_unread(b"\x00\x01\x02", "pool.etl").unwrap().contains("WPA"));
        assert_eq!(known_unread(b"hello", "notes.txt"), None);
        assert_eq!(by_signature(b"\x00\x01\x02"), None, "a name alone is no signature");
    }
}
