//! Resource limits on what one input may cost: stated, enforced, and named with the flag that raises them.
//!
//! Files come from customers and hung servers: a runaway log, a file of one 300 MB line, a folder with a million
//! files. Readers that stream (poolmon, handle.exe output, event exports and .evtx) are bounded by a snapshot, a
//! line, a record or a chunk batch (and the records kept) whatever the file's size; the limits below bound the
//! rest, and each error names its flag.

/// Limits on reading one run's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Largest file read whole into memory (formats that are not streamed: pool CSVs, debugger text, perfmon,
    /// pooltag.txt), bytes (`--max-file-size`). Streamed formats (poolmon, handle.exe output, event exports,
    /// .evtx) are not bound by it.
    pub max_file_bytes: u64,
    /// Longest line kept, bytes (`--max-line-length`); the rest of a longer line is skipped with a diagnostic.
    pub max_line_bytes: usize,
    /// Most files read in one run (`--max-files`).
    pub max_files: usize,
    /// Most bytes read in one run, over all files (`--max-total-size`).
    pub max_total_bytes: u64,
}

/// 1 GiB: a day of one-second handle dumps is a few hundred MB; an event export of a whole log rarely 100 MB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 30;
/// 1 MiB: the longest real line (an event message or a handle name) is a few KiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;
/// 1,000,000 files: ten years of one-minute snapshot files for two tools.
pub const DEFAULT_MAX_FILES: usize = 1_000_000;
/// 1 TiB: far above any one archive; a guard against pointing poolscope at the wrong share.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 1 << 40;

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_files: DEFAULT_MAX_FILES,
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
        }
    }
}
