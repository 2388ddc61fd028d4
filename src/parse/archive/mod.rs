//! .zip archives read in place (issue 13): a zip is listed, and each member file becomes an input like a file
//! on disk, never extracted (nothing is written anywhere).
//!
//! A member is named by a path with `!/` after the archive: `SRV01.zip!/poolmon/x.log`, and one level of
//! nesting, `fleet.zip!/SRV01.zip!/poolmon/x.log` (a zip inside that is named with a warning and not read).
//! That path is the member's [`PathBuf`] everywhere (walk, ingest, diagnostics `x.zip!/dir/f.log:12`,
//! provenance), and [`with_member`] opens it: a streaming reader that decompresses as it is read.
//!
//! Limits ([`ReadLimits`]): an archive with more than `--max-archive-entries` entries or declaring more than
//! `--max-archive-size` decompressed bytes (nested zips counted in their outer archive) is not read at all; a
//! member declaring more than `--max-compression-ratio` is refused before it is opened, and while it is read
//! ([`guard`]) it is cut at its declared size and refused past that ratio of the compressed bytes actually
//! consumed. Encrypted members and compression methods other than deflate are named in a warning and skipped.

pub mod guard;
pub mod open;

use std::ffi::OsString;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};

use crate::model::{Diagnostic, Severity, TimeSettings};
use crate::parse::ReadLimits;
use crate::units;

use open::{Opened, Stamp};

/// What follows an archive's path in a member's path.
pub const SEPARATOR: &str = "!/";

/// Whether a file name is a zip archive's (by its `.zip` extension; a `.docx` or `.jar` is a zip too, but no
/// archive of logs).
pub fn is_zip_name(name: &str) -> bool {
    name.len() >= 4 && name.is_char_boundary(name.len() - 4) && name[name.len() - 4..].eq_ignore_ascii_case(".zip")
}

/// Whether a path names a zip archive on disk or inside another (by name).
pub fn is_zip_path(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(is_zip_name)
}

/// The path of member `name` of the archive at `archive`: `archive.zip!/name`.
pub fn member_path(archive: &Path, name: &str) -> PathBuf {
    let mut path = OsString::from(archive.as_os_str());
    path.push(SEPARATOR);
    path.push(name);
    PathBuf::from(path)
}

/// The path standing for the inside of an archive (`x.zip!`), below which its members' paths are: the walked
/// root of a zip named on the command line.
pub fn inside(archive: &Path) -> PathBuf {
    let mut path = OsString::from(archive.as_os_str());
    path.push("!");
    PathBuf::from(path)
}

/// A path component as a folder name: `SRV01.zip!` (an archive's inside) is the folder `SRV01`, so a zip named
/// after a host counts like a folder named after it.
pub fn folder_name(component: &str) -> &str {
    component.strip_suffix('!').filter(|c| is_zip_name(c)).map_or(component, |c| &c[..c.len() - 4])
}

/// Where a member lives: the archive on disk, the nested zip in it (if any) and its tidied name there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The archive file on disk.
    pub archive: PathBuf,
    /// The tidied name of the zip inside `archive` that holds the member, for a nested member.
    pub nested: Option<String>,
    /// The member's tidied name in its archive.
    pub name: String,
}

/// Where the member at `path` lives; `None` for a path that names no archive member (a file on disk).
pub fn locate(path: &Path) -> Option<Location> {
    let mut disk = PathBuf::new();
    let mut components = path.components();
    for component in components.by_ref() {
        if let Component::Normal(name) = component {
            if let Some(zip) = name.to_str().and_then(|n| n.strip_suffix('!')).filter(|n| is_zip_name(n)) {
                disk.push(zip);
                let mut inner: Vec<String> = Vec::new();
                let mut nested = None;
                for part in components {
                    let part = part.as_os_str().to_string_lossy();
                    match part.strip_suffix('!').filter(|n| is_zip_name(n) && nested.is_none()) {
                        Some(zip) => {
                            inner.push(zip.to_owned());
                            nested = Some(inner.join("/"));
                            inner.clear();
                        }
                        None => inner.push(part.into_owned()),
                    }
                }
                return (!inner.is_empty()).then(|| Location { archive: disk, nested, name: inner.join("/") });
            }
        }
        disk.push(component);
    }
    None
}

/// Whether `path` names a member of an archive.
pub fn is_member(path: &Path) -> bool {
    locate(path).is_some()
}

/// A member name as a relative path of `/`-separated parts (either slash accepted; `.` and empty parts
/// dropped), or `None` when it is empty or climbs out of the archive (`../x`, `/etc/x`, `C:\x`).
pub fn tidy_name(name: &str) -> Option<String> {
    if name.starts_with(['/', '\\']) || name.get(1..2) == Some(":") {
        return None;
    }
    let mut parts = Vec::new();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return None,
            _ => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// What one archive (with its nested zips) has spent of its limits while being listed.
#[derive(Debug, Default)]
struct Budget {
    entries: usize,
    bytes: u64,
}

/// Lists the member files of the zip on disk at `archive` (and of the zips in it, one level deep), sorted by
/// name, as member paths; problems become diagnostics (an unreadable or over-limit archive lists nothing).
pub fn list(archive: &Path, limits: &ReadLimits, diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let shown = archive.display().to_string();
    let opened = match open::disk(archive) {
        Ok(opened) => opened,
        Err(e) => {
            diagnostics.push(Diagnostic::for_file(
                shown,
                Severity::Error,
                format!(
                    "cannot read the zip archive: {e} (its directory at the end is missing or damaged, as in a cut \
                     copy); nothing read from it"
                ),
            ));
            return Vec::new();
        }
    };
    let mut budget = Budget::default();
    let mut found = Vec::new();
    let mut said = Vec::new();
    let listed = list_opened(&opened, archive, archive, None, limits, &mut budget, &mut found, &mut said);
    match listed {
        Ok(()) => {
            diagnostics.append(&mut said);
            found
        }
        Err(refused) => {
            diagnostics.push(Diagnostic::for_file(shown, Severity::Error, refused));
            Vec::new()
        }
    }
}

/// Lists one opened archive into `found`; `Err` (what to say) when the outer archive must not be read at all.
#[allow(clippy::too_many_arguments)]
fn list_opened(
    opened: &Opened,
    disk: &Path,
    shown: &Path,
    nested: Option<&str>,
    limits: &ReadLimits,
    budget: &mut Budget,
    found: &mut Vec<PathBuf>,
    said: &mut Vec<Diagnostic>,
) -> Result<(), String> {
    budget.entries += opened.entries;
    if budget.entries > limits.max_archive_entries {
        return Err(format!(
            "nothing read from the zip archive: it holds more than {} entries (nested zips included), more than \
             the limit; --max-archive-entries raises it",
            limits.max_archive_entries
        ));
    }
    budget.bytes = opened.files.values().fold(budget.bytes, |sum, e| sum.saturating_add(e.size));
    if budget.bytes > limits.max_archive_bytes {
        return Err(format!(
            "nothing read from the zip archive: it declares more than {} decompressed (nested zips included), more \
             than the limit; --max-archive-size raises it",
            units::bytes(limits.max_archive_bytes as f64)
        ));
    }
    for (name, why) in &opened.skipped {
        said.push(Diagnostic::for_file(
            member_path(shown, name).display().to_string(),
            Severity::Warning,
            format!("zip member {name} not read: {why}"),
        ));
    }
    for (name, entry) in &opened.files {
        let path = member_path(shown, name);
        // The name is in the message too: warnings alike from many files are said once with a count, and each
        // skipped member must still be named.
        let warn = |said: &mut Vec<Diagnostic>, severity, why: String| {
            said.push(Diagnostic::for_file(
                path.display().to_string(),
                severity,
                format!("zip member {name} not read: {why}"),
            ));
        };
        if let Some(why) = &entry.unreadable {
            warn(said, Severity::Warning, why.clone());
            continue;
        }
        if let Some(why) = over_ratio(entry.size, entry.compressed, limits) {
            warn(said, Severity::Error, why);
            continue;
        }
        if !is_zip_name(name) {
            found.push(path);
            continue;
        }
        if nested.is_some() {
            warn(
                said,
                Severity::Warning,
                "a zip inside a zip inside a zip (one level of nesting is read): extract it".into(),
            );
            continue;
        }
        match open::nested(disk, name, |outer| read_nested(outer, name, limits)) {
            Ok(inner) => list_opened(&inner, disk, &path, Some(name), limits, budget, found, said)?,
            Err(e) => warn(said, Severity::Error, format!("cannot read the zip archive inside: {e}")),
        }
    }
    Ok(())
}

/// Why a member's declared sizes refuse it (`--max-compression-ratio`), if they do.
fn over_ratio(size: u64, compressed: u64, limits: &ReadLimits) -> Option<String> {
    let ratio = size / compressed.max(1);
    (size >= super::limits::RATIO_CHECKED_FROM && ratio > limits.max_compression_ratio).then(|| {
        format!(
            "it declares {} decompressed from {}, {ratio}:1, more than the limit of {}:1 (a zip bomb?); \
             --max-compression-ratio raises it",
            units::bytes(size as f64),
            units::bytes(compressed as f64),
            limits.max_compression_ratio
        )
    })
}

/// A nested zip's bytes, decompressed into memory (it must be seekable), guarded, at most `--max-file-size`.
fn read_nested(outer: &Opened, name: &str, limits: &ReadLimits) -> io::Result<Vec<u8>> {
    let entry = outer.files.get(name).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such member"))?;
    if entry.size > limits.max_file_bytes {
        return Err(io::Error::other(format!(
            "it is {}, larger than the limit of {} for a zip read into memory; --max-file-size raises it",
            units::bytes(entry.size as f64),
            units::bytes(limits.max_file_bytes as f64)
        )));
    }
    read_entry(outer, entry, limits, |reader, size| {
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        reader.read_to_end(&mut bytes).map(|_| bytes)
    })?
}

/// Calls `read` with a guarded reader of one entry's decompressed bytes and its declared size.
fn read_entry<T>(
    opened: &Opened,
    entry: &open::Entry,
    limits: &ReadLimits,
    read: impl FnOnce(&mut dyn Read, u64) -> T,
) -> io::Result<T> {
    if let Some(why) = &entry.unreadable {
        return Err(io::Error::other(format!("zip member not read: {why}")));
    }
    let (mut zip, consumed) = open::reader(opened);
    let file = zip.by_index(entry.index).map_err(open::zip_error)?;
    let mut guarded = guard::Guard::new(file, entry.size, consumed, limits.max_compression_ratio);
    Ok(read(&mut guarded, entry.size))
}

/// The opened archive and entry of a member path.
fn entry_of(path: &Path, limits: &ReadLimits) -> io::Result<(std::sync::Arc<Opened>, String)> {
    let not_member = || io::Error::new(io::ErrorKind::NotFound, "not a zip member");
    let location = locate(path).ok_or_else(not_member)?;
    let opened = match &location.nested {
        None => open::disk(&location.archive)?,
        Some(nested) => open::nested(&location.archive, nested, |outer| read_nested(outer, nested, limits))?,
    };
    if !opened.files.contains_key(&location.name) {
        return Err(io::Error::new(io::ErrorKind::NotFound, "no such member in the zip archive"));
    }
    Ok((opened, location.name))
}

/// Reads the member at `path`: calls `read` with a reader of its decompressed bytes (decompressed as they are
/// read, under the member limits) and its declared size.
pub fn with_member<T>(path: &Path, limits: &ReadLimits, read: impl FnOnce(&mut dyn Read, u64) -> T) -> io::Result<T> {
    let (opened, name) = entry_of(path, limits)?;
    let entry = opened.files.get(&name).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such member"))?;
    read_entry(&opened, entry, limits, read)
}

/// The declared size of the member at `path`.
pub fn member_len(path: &Path) -> Option<u64> {
    let (opened, name) = entry_of(path, &ReadLimits::default()).ok()?;
    opened.files.get(&name).map(|e| e.size)
}

/// The modification time of the member at `path`, as a file's mtime stands in for a snapshot's time: the
/// zip's UTC stamp when it has one, else its MS-DOS local time read in `--tz` (UTC when not given).
pub fn member_modified(path: &Path, time: &TimeSettings) -> Option<DateTime<Utc>> {
    let (opened, name) = entry_of(path, &ReadLimits::default()).ok()?;
    match opened.files.get(&name)?.modified? {
        Stamp::Utc(t) => Some(t),
        Stamp::Local(local) => time.tz.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths_locate_their_archive_and_nesting() {
        let path = member_path(&member_path(Path::new("/a/fleet.zip"), "SRV01.zip"), "poolmon/x.log");
        assert_eq!(path, Path::new("/a/fleet.zip!/SRV01.zip!/poolmon/x.log"));
        let location = locate(&path).unwrap();
        assert_eq!(location.archive, Path::new("/a/fleet.zip"));
        assert_eq!(location.nested.as_deref(), Some("SRV01.zip"));
        assert_eq!(location.name, "poolmon/x.log");
        let plain = locate(Path::new("SRV01.ZIP!/x.log")).unwrap();
        assert_eq!(
            (plain.archive.as_path(), plain.nested, plain.name.as_str()),
            (Path::new("SRV01.ZIP"), None, "x.log")
        );
        assert_eq!(locate(Path::new("/a/SRV01/poolmon/x.log")), None);
        assert_eq!(locate(Path::new("/a/x.zip!")), None, "an archive's inside is no member");
    }

    #[test]
    fn names_that_leave_the_archive_are_refused() {
        assert_eq!(tidy_name("dir\\sub//./f.log").as_deref(), Some("dir/sub/f.log"));
        for bad in ["../x", "a/../../x", "/etc/passwd", "C:\\x", "", "./"] {
            assert_eq!(tidy_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_archive_inside_is_a_folder_of_its_name() {
        assert_eq!(folder_name("SRV01.zip!"), "SRV01");
        assert_eq!(folder_name("SRV01.zip"), "SRV01.zip");
        assert_eq!(folder_name("poolmon"), "poolmon");
        assert!(is_zip_name("a.ZIP") && !is_zip_name("zip") && !is_zip_name("a.zipx"));
    }
}
