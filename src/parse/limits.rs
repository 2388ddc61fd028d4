//! Resource limits on what one input may cost: stated, enforced, and named with the flag that raises them.
//!
//! Files come from customers and hung servers: a runaway log, a file of one 300 MB line, a folder with a million
//! files. Readers that stream (poolmon, handle.exe output, event exports and .evtx) are bounded by a snapshot, a
//! line, a record or a chunk batch (and the records kept) whatever the file's size; the limits below bound the
//! rest, and each error names its flag. Members of .zip archives (read in place, [`super::archive`]) count as
//! files, and each archive is bounded too: its entries, its decompressed bytes and each member's compression
//! ratio, so that a zip bomb is refused before it costs time or memory.

/// Limits on reading one run's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Largest file read whole into memory (formats that are not streamed: pool CSVs, debugger text, perfmon,
    /// pooltag.txt), bytes (`--max-file-size`). Streamed formats (poolmon, handle.exe output, event exports,
    /// .evtx) are not bound by it.
    pub max_file_bytes: u64,
    /// Longest line kept, bytes (`--max-line-length`); the rest of a longer line is skipped with a diagnostic.
    pub max_line_bytes: usize,
    /// Most records kept from one file (`--max-records`): pool rows, handles and events. A poolmon log stops
    /// keeping snapshots at the limit while it is read; other files are cut to it after reading. Either way the
    /// file's error names the limit and the flag.
    pub max_records: u64,
    /// Most files read in one run (`--max-files`).
    pub max_files: usize,
    /// Most bytes read in one run, over all files (`--max-total-size`).
    pub max_total_bytes: u64,
    /// Most members listed in one .zip archive, its nested zips' members included (`--max-archive-entries`);
    /// an archive with more is not read at all.
    pub max_archive_entries: usize,
    /// Most bytes one .zip archive may decompress to, its nested zips included (`--max-archive-size`): checked on
    /// the declared sizes before anything is read, and each member is stopped at its declared size.
    pub max_archive_bytes: u64,
    /// Largest ratio of a member's decompressed to compressed size (`--max-compression-ratio`), checked on the
    /// declared sizes and again while decompressing, once a member passes [`RATIO_CHECKED_FROM`] bytes.
    pub max_compression_ratio: u64,
}

/// 1 GiB: a day of one-second handle dumps is a few hundred MB; an event export of a whole log rarely 100 MB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 30;
/// 1 MiB: the longest real line (an event message or a handle name) is a few KiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;
/// 50,000,000 records: a 3 GB poolmon log (a month of one-minute snapshots of 1,000 tags), about 5 GB in memory;
/// more than a 24 GB machine holds beside the analysis of a second file that size.
pub const DEFAULT_MAX_RECORDS: u64 = 50_000_000;
/// 1,000,000 files: ten years of one-minute snapshot files for two tools.
pub const DEFAULT_MAX_FILES: usize = 1_000_000;
/// 1 TiB: far above any one archive; a guard against pointing poolscope at the wrong share.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 1 << 40;

/// 100,000 members: a week of one-minute snapshot files for a fleet of five hosts, and about 20 MB of archive
/// directory held in memory.
pub const DEFAULT_MAX_ARCHIVE_ENTRIES: usize = 100_000;
/// 64 GiB: a fleet's gigabyte poolmon logs compress about 20:1, so a few GiB of zip; a zip bomb costs no more
/// than reading that.
pub const DEFAULT_MAX_ARCHIVE_BYTES: u64 = 64 << 30;
/// 200:1: real logs deflate 3:1 to 20:1; deflate's own maximum (a run of zeros) is about 1030:1.
pub const DEFAULT_MAX_COMPRESSION_RATIO: u64 = 200;
/// Members smaller than this (1 MiB) decompressed are never refused for their ratio: a small file of repeated
/// lines or zeros is no bomb.
pub const RATIO_CHECKED_FROM: u64 = 1 << 20;

/// The error said once for a file cut at [`ReadLimits::max_records`].
pub fn too_many_records(path: &str, limit: u64) -> crate::model::Diagnostic {
    crate::model::Diagnostic::for_file(
        path,
        crate::model::Severity::Error,
        format!(
            "more than {limit} records in this file: the rest is left out (--max-records raises the limit; the \
             records kept are the first ones)"
        ),
    )
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_records: DEFAULT_MAX_RECORDS,
            max_files: DEFAULT_MAX_FILES,
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_archive_entries: DEFAULT_MAX_ARCHIVE_ENTRIES,
            max_archive_bytes: DEFAULT_MAX_ARCHIVE_BYTES,
            max_compression_ratio: DEFAULT_MAX_COMPRESSION_RATIO,
        }
    }
}
