//! A .zip archive read in place the way the walk and the ingest read it: `poolscope::parse::archive` (`list`:
//! the directory, one level of nested zips, names, limits; `with_member`: each member decompressed through
//! `poolscope::parse::archive::guard` and read from `poolscope::parse::archive::open`'s kept archives) under
//! small limits, so the entry, size and ratio refusals are exercised too. Nothing may panic, hang or allocate
//! beyond the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::parse::{archive, ReadLimits};

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("poolscope-fuzz-zip-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let path = dir.join("input.zip");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let limits = ReadLimits {
        max_file_bytes: 1 << 20,
        max_archive_entries: 64,
        max_archive_bytes: 4 << 20,
        max_compression_ratio: 50,
        ..ReadLimits::default()
    };
    let mut diagnostics = Vec::new();
    for member in archive::list(&path, &limits, &mut diagnostics) {
        let _ = archive::with_member(&member, &limits, |reader, _| {
            let mut buf = [0u8; 8192];
            while matches!(reader.read(&mut buf), Ok(n) if n > 0) {}
        });
    }
});
