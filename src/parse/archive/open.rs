//! Opened zip archives: their directories read once and kept, so that reading each of ten thousand members (in
//! parallel, and again when a host is loaded) does not parse the directory ten thousand times.
//!
//! An archive on disk is read through a [`Source`] on disk, which opens its own file handle on first use: a clone
//! of the archive (cheap: the directory is shared) reads independently of the others. A zip inside a zip is
//! decompressed into memory once (a [`Source`] in memory) and kept while it is among the last few used.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use chrono::{DateTime, NaiveDate, Utc};

/// The bytes of an archive: a file on disk, or a nested zip held in memory. Every byte read is counted in
/// `consumed`, which the member's guard compares with what it decompressed to.
#[derive(Debug)]
pub struct Source {
    kind: Kind,
    /// Bytes read through this source.
    pub consumed: Arc<AtomicU64>,
}

#[derive(Debug)]
enum Kind {
    Disk { path: Arc<Path>, file: Option<File>, pos: u64 },
    Memory(Cursor<Arc<[u8]>>),
}

thread_local! {
    /// The count the next clone made on this thread reads into ([`reader`]).
    static NEXT_COUNT: std::cell::RefCell<Option<Arc<AtomicU64>>> = const { std::cell::RefCell::new(None) };
}

impl Clone for Source {
    /// A source at the same position with its own file handle (opened when first read) and its own count.
    fn clone(&self) -> Self {
        let kind = match &self.kind {
            Kind::Disk { path, pos, .. } => Kind::Disk { path: Arc::clone(path), file: None, pos: *pos },
            Kind::Memory(cursor) => Kind::Memory(cursor.clone()),
        };
        let consumed = NEXT_COUNT.with(|next| next.borrow_mut().take()).unwrap_or_default();
        Self { kind, consumed }
    }
}

/// A reader of an opened archive (a clone sharing its directory), with the count of the bytes it reads from
/// the archive: the zip crate lends no access to its reader, so the count is handed to the clone as it is made.
pub fn reader(opened: &Opened) -> (zip::ZipArchive<Source>, Arc<AtomicU64>) {
    let consumed = Arc::new(AtomicU64::new(0));
    NEXT_COUNT.with(|next| *next.borrow_mut() = Some(Arc::clone(&consumed)));
    let zip = opened.zip.clone();
    NEXT_COUNT.with(|next| next.borrow_mut().take());
    (zip, consumed)
}

impl Source {
    fn disk(path: &Path) -> Self {
        Self { kind: Kind::Disk { path: path.into(), file: None, pos: 0 }, consumed: Arc::default() }
    }

    fn memory(bytes: Vec<u8>) -> Self {
        Self { kind: Kind::Memory(Cursor::new(bytes.into())), consumed: Arc::default() }
    }

    /// The open file of a disk source, at the source's position.
    fn file<'a>(file: &'a mut Option<File>, path: &Path, pos: u64) -> io::Result<&'a mut File> {
        if file.is_none() {
            let mut opened = File::open(path)?;
            opened.seek(SeekFrom::Start(pos))?;
            *file = Some(opened);
        }
        file.as_mut().ok_or_else(|| io::Error::other("file not open"))
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.kind {
            Kind::Disk { path, file, pos } => {
                let n = Self::file(file, path, *pos)?.read(buf)?;
                *pos += n as u64;
                n
            }
            Kind::Memory(cursor) => cursor.read(buf)?,
        };
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Seek for Source {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match &mut self.kind {
            Kind::Disk { path, file, pos } => {
                *pos = Self::file(file, path, *pos)?.seek(to)?;
                Ok(*pos)
            }
            Kind::Memory(cursor) => cursor.seek(to),
        }
    }
}

/// When a member was last modified, as the archive records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// A UTC time (the extended-timestamp field Info-ZIP and 7-Zip write).
    Utc(DateTime<Utc>),
    /// The MS-DOS date and time every zip carries: local time of the zipping machine, no zone, 2 s steps.
    Local(chrono::NaiveDateTime),
}

/// A member file of an opened archive.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Index in the archive's directory.
    pub index: usize,
    /// Declared decompressed size, bytes.
    pub size: u64,
    /// Declared compressed size, bytes.
    pub compressed: u64,
    /// Last modification.
    pub modified: Option<Stamp>,
    /// Why it is not read, when it is not (encrypted, a method poolscope does not decompress).
    pub unreadable: Option<String>,
}

/// An archive with its directory read: member files by their tidied name (see [`super::tidy_name`]).
#[derive(Debug)]
pub struct Opened {
    /// The archive (clone it to read: clones share the directory).
    pub zip: zip::ZipArchive<Source>,
    /// Member files by tidied name, sorted (directories and unnamed members left out).
    pub files: std::collections::BTreeMap<String, Entry>,
    /// Directory entries, counted against `--max-archive-entries`.
    pub entries: usize,
    /// Member names that were left out: outside the archive (`../x`), or a repeat of an earlier one.
    pub skipped: Vec<(String, &'static str)>,
}

/// Archives kept open, most recently used last.
static OPENED: Mutex<Vec<(Key, Arc<Opened>)>> = Mutex::new(Vec::new());
/// Archives kept open at most, and nested ones (held in memory) among them.
const KEPT: usize = 32;
const KEPT_IN_MEMORY: usize = 2;

/// An archive on disk as it is now (a rewritten file is read again), or a nested zip within one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    disk: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
    nested: Option<String>,
}

fn key(disk: &Path, nested: Option<&str>) -> io::Result<Key> {
    let meta = std::fs::metadata(disk)?;
    Ok(Key {
        disk: disk.to_owned(),
        len: meta.len(),
        modified: meta.modified().ok(),
        nested: nested.map(str::to_owned),
    })
}

fn kept(key: &Key) -> Option<Arc<Opened>> {
    let mut opened = OPENED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let at = opened.iter().position(|(k, _)| k == key)?;
    let entry = opened.remove(at);
    let archive = Arc::clone(&entry.1);
    opened.push(entry);
    Some(archive)
}

fn keep(key: Key, archive: &Arc<Opened>) {
    let mut opened = OPENED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    opened.retain(|(k, _)| k != &key);
    opened.push((key, Arc::clone(archive)));
    while opened.iter().filter(|(k, _)| k.nested.is_some()).count() > KEPT_IN_MEMORY {
        if let Some(at) = opened.iter().position(|(k, _)| k.nested.is_some()) {
            opened.remove(at);
        }
    }
    while opened.len() > KEPT {
        opened.remove(0);
    }
}

/// The archive on disk at `path`, its directory read (or kept from an earlier read).
pub fn disk(path: &Path) -> io::Result<Arc<Opened>> {
    let key = key(path, None)?;
    if let Some(archive) = kept(&key) {
        return Ok(archive);
    }
    let archive = Arc::new(read_directory(Source::disk(path))?);
    keep(key, &archive);
    Ok(archive)
}

/// The zip member `name` of the archive on disk at `disk`, decompressed into memory by `read` (which enforces
/// the member limits) and its directory read; kept while among the last few used.
pub fn nested(disk: &Path, name: &str, read: impl FnOnce(&Opened) -> io::Result<Vec<u8>>) -> io::Result<Arc<Opened>> {
    let key = key(disk, Some(name))?;
    if let Some(archive) = kept(&key) {
        return Ok(archive);
    }
    let outer = self::disk(disk)?;
    let bytes = read(&outer)?;
    let archive = Arc::new(read_directory(Source::memory(bytes))?);
    keep(key, &archive);
    Ok(archive)
}

/// Reads an archive's directory. The zip crate is asked not to panic, but a panic inside it on hostile bytes
/// is caught here too and becomes an error (never a crash).
fn read_directory(source: Source) -> io::Result<Opened> {
    let zip = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| zip::ZipArchive::new(source)))
        .map_err(|_| io::Error::other("the zip reader failed on the archive's directory (internal error)"))?
        .map_err(zip_error)?;
    let mut zip = zip;
    let mut files = std::collections::BTreeMap::new();
    let mut skipped = Vec::new();
    let entries = zip.len();
    for index in 0..entries {
        let Ok(file) = zip.by_index_raw(index) else {
            // A member whose local header cannot be read is named when it is read.
            if let Some(name) = zip.name_for_index(index) {
                let name = name.to_owned();
                insert(&mut files, &mut skipped, &name, Entry::unreadable(index, "its local header is damaged"));
            }
            continue;
        };
        if file.is_dir() || file.is_symlink() {
            continue;
        }
        let name = file.name().to_owned();
        let entry = Entry {
            index,
            size: file.size(),
            compressed: file.compressed_size(),
            modified: stamp(&file),
            unreadable: unreadable(&file),
        };
        drop(file);
        insert(&mut files, &mut skipped, &name, entry);
    }
    Ok(Opened { zip, files, entries, skipped })
}

fn insert(
    files: &mut std::collections::BTreeMap<String, Entry>,
    skipped: &mut Vec<(String, &'static str)>,
    name: &str,
    entry: Entry,
) {
    match super::tidy_name(name) {
        None => skipped.push((name.to_owned(), "its name leaves the archive or is empty")),
        Some(tidy) if files.contains_key(&tidy) => skipped.push((tidy, "a second member of the same name")),
        Some(tidy) => {
            files.insert(tidy, entry);
        }
    }
}

impl Entry {
    fn unreadable(index: usize, why: &str) -> Self {
        Self { index, size: 0, compressed: 0, modified: None, unreadable: Some(why.to_owned()) }
    }
}

/// Why a member cannot be read, when it cannot.
fn unreadable<R: Read>(file: &zip::read::ZipFile<'_, R>) -> Option<String> {
    if file.encrypted() {
        return Some("it is encrypted (poolscope reads no passwords: extract it and pass the file)".to_owned());
    }
    let method = file.compression();
    (!zip::SUPPORTED_COMPRESSION_METHODS.contains(&method)).then(|| {
        format!("it is compressed with {method}, which poolscope does not decompress (only deflate): extract it")
    })
}

/// The member's modification time: the UTC extended timestamp when the zip has one, else its MS-DOS time.
fn stamp<R: Read>(file: &zip::read::ZipFile<'_, R>) -> Option<Stamp> {
    // Windows FILETIME: 100 ns ticks since 1601-01-01 UTC.
    const FILETIME_TO_UNIX: i64 = 11_644_473_600;
    let utc = file.extra_data_fields().find_map(|field| match field {
        zip::ExtraField::ExtendedTimestamp(ts) => ts.mod_time().map(i64::from),
        zip::ExtraField::Ntfs(ntfs) => {
            i64::try_from(ntfs.mtime() / 10_000_000).ok().map(|secs| secs - FILETIME_TO_UNIX).filter(|s| *s > 0)
        }
    });
    if let Some(t) = utc.and_then(|secs| DateTime::from_timestamp(secs, 0)) {
        return Some(Stamp::Utc(t));
    }
    let dos = file.last_modified()?;
    let date = NaiveDate::from_ymd_opt(i32::from(dos.year()), u32::from(dos.month()), u32::from(dos.day()))?;
    date.and_hms_opt(u32::from(dos.hour()), u32::from(dos.minute()), u32::from(dos.second())).map(Stamp::Local)
}

/// A zip crate error as an I/O error, its message kept.
pub fn zip_error(e: zip::result::ZipError) -> io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}
