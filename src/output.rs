//! Writing output files safely (issue 14): never a half-written file under the final name, never an input
//! overwritten.
//!
//! Every file `report`, `parse -o` (and every other `-o FILE`), and `simulate` write goes through this
//! module: the bytes go to a temporary name in the target folder (`.NAME.tmp-PID-N`), are flushed to disk,
//! and the file is renamed into place, which is atomic on one file system. A run killed at any moment leaves
//! the previous complete file or none; its temporary file is removed by the next run ([`remove_stale_temps`]).
//! [`check_not_input`] refuses an output path that is, or is inside the folder of, an input.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Marks the temporary names of this module: `.NAME` + this + `PID-N`.
const TEMP_MARK: &str = ".tmp-";

/// Writes `bytes` to `path` through a temporary file in the same folder, then renames it into place,
/// so a reader (or a crash) never sees a half-written file. Creates the parent folder when missing.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes).map_err(|e| Error::io(path, e))?;
    file.commit()
}

/// Like [`write_atomic`], but the content is written by `fill` through a buffer instead of being held in
/// memory first (CSV tables of millions of rows).
pub fn write_atomic_with(path: &Path, fill: impl FnOnce(&mut AtomicFile) -> Result<()>) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    fill(&mut file)?;
    file.commit()
}

/// A file being written under a temporary name; [`AtomicFile::commit`] puts it in place. Dropped without
/// a commit (an error, a panic), it removes its temporary file and leaves the target as it was.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file for `path` (and `path`'s folder when missing).
    pub fn create(path: &Path) -> Result<Self> {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        // A run killed while writing this same file left its temporary file here: it goes now (only ours,
        // for this name, whose process is gone), so a killed `-o` leaves nothing behind after the next run.
        if let Some(name) = path.file_name() {
            remove_stale_temps_named(parent, Some(&name.to_string_lossy()));
        }
        let temp = temp_path(parent, path);
        let file = File::create(&temp).map_err(|e| Error::io(&temp, e))?;
        Ok(Self { target: path.to_owned(), temp, out: Some(BufWriter::with_capacity(1 << 20, file)) })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        let Some(out) = self.out.take() else { return Ok(()) };
        let result = (|| {
            let file = out.into_inner().map_err(std::io::IntoInnerError::into_error)?;
            file.sync_all()?;
            drop(file);
            std::fs::rename(&self.temp, &self.target)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&self.temp);
            return Err(Error::io(&self.target, e));
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.out {
            Some(out) => out.write(buf),
            None => Err(std::io::Error::other("file already committed")),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match &mut self.out {
            Some(out) => out.write_all(buf),
            None => Err(std::io::Error::other("file already committed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// `.NAME.tmp-PID-N` beside the target: hidden, unique per process and per file being written.
fn temp_path(parent: &Path, path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    parent.join(format!(".{name}{TEMP_MARK}{}-{n}", std::process::id()))
}

/// Removes the temporary files a killed run of ours left in `dir` (named `.NAME.tmp-PID-N`, PID no longer
/// running). Best effort: what cannot be read or removed stays.
pub fn remove_stale_temps(dir: &Path) {
    remove_stale_temps_named(dir, None);
}

/// [`remove_stale_temps`] limited to the temporary files of the target `only` when given.
fn remove_stale_temps_named(dir: &Path, only: Option<&str>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((target, pid)) = temp_parts(&name) else { continue };
        if only.is_some_and(|only| only != target) {
            continue;
        }
        if pid != std::process::id() && !process_running(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The target's file name and the PID in a temporary name of this module, if `name` is one.
fn temp_parts(name: &str) -> Option<(&str, u32)> {
    let rest = name.strip_prefix('.')?;
    let (target, tail) = rest.rsplit_once(TEMP_MARK)?;
    let (pid, n) = tail.split_once('-')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((target, pid.parse().ok()?))
}

/// Whether a process with this id runs (Linux: `/proc/PID`); elsewhere assumed so, and nothing is removed.
fn process_running(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// The canonical form of a path that may not exist yet: its nearest existing ancestor canonicalised,
/// with the missing components appended.
pub fn canonical_or_planned(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| path.to_path_buf(), |d| d.join(path))
    };
    let mut missing = Vec::new();
    let mut cursor = absolute.as_path();
    loop {
        if let Ok(real) = cursor.canonicalize() {
            return missing.iter().rev().fold(real, |acc: PathBuf, part| acc.join(part));
        }
        match (cursor.file_name(), cursor.parent()) {
            (Some(name), Some(parent)) => {
                missing.push(name.to_os_string());
                cursor = parent;
            }
            _ => return absolute,
        }
    }
}

/// Refuses an output path (a file or a folder) that is an input file, an input folder, or inside one, or
/// inside the folder of an input file: outputs are never written over or next to the evidence (and a later
/// run over the same folder would read them back as input). `what` names the output in the message.
pub fn check_not_input(out: &Path, inputs: &[PathBuf], what: &str) -> Result<()> {
    let planned = canonical_or_planned(out);
    for input in inputs {
        let Ok(real) = input.canonicalize() else { continue };
        if planned == real {
            return Err(Error::Usage(format!(
                "refusing to write {what} to {}: it is an input (choose a path outside the evidence)",
                out.display()
            )));
        }
        let folder = if real.is_dir() { real } else { real.parent().map(Path::to_path_buf).unwrap_or(real) };
        if planned.starts_with(&folder) {
            return Err(Error::Usage(format!(
                "refusing to write {what} to {}: it is inside the input folder {} (choose a path outside the evidence)",
                out.display(),
                folder.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn write_atomic_creates_parent_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b/out.json");
        write_atomic(&target, b"{}").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"{}");
        assert_eq!(names(target.parent().unwrap()), ["out.json"]);
    }

    #[test]
    fn an_uncommitted_file_leaves_the_previous_one_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("index.html");
        std::fs::write(&target, "old, complete").unwrap();
        {
            let mut file = AtomicFile::create(&target).unwrap();
            file.write_all(b"new, half").unwrap();
            assert_eq!(names(dir.path()).len(), 2, "the temporary file is beside the target");
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old, complete");
        assert_eq!(names(dir.path()), ["index.html"]);
    }

    #[test]
    fn a_failed_fill_removes_its_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let err = write_atomic_with(&path, |_| Err(Error::Usage("stop".into()))).unwrap_err();
        assert_eq!(err.to_string(), "stop");
        assert!(names(dir.path()).is_empty());
        write_atomic_with(&path, |f| f.write_all(b"a,b\n").map_err(|e| Error::io("t.csv", e))).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n");
    }

    #[test]
    fn temporary_names_are_recognised_and_stale_ones_removed() {
        assert_eq!(temp_parts(".index.html.tmp-123-0"), Some(("index.html", 123)));
        assert_eq!(temp_parts(".a.tmp-b.csv.tmp-77-12"), Some(("a.tmp-b.csv", 77)));
        assert_eq!(temp_parts("index.html"), None);
        assert_eq!(temp_parts(".x.tmp-1-"), None);
        let dir = tempfile::tempdir().unwrap();
        // PID 0 is never a user process; our own PID is running.
        std::fs::write(dir.path().join(".index.html.tmp-0-3"), "half").unwrap();
        std::fs::write(dir.path().join(format!(".summary.md.tmp-{}-9", std::process::id())), "").unwrap();
        std::fs::write(dir.path().join("index.html"), "whole").unwrap();
        remove_stale_temps(dir.path());
        let left = names(dir.path());
        assert!(left.contains(&"index.html".to_owned()) && left.len() == 2, "{left:?}");
    }

    #[test]
    fn writing_a_file_removes_what_a_killed_write_of_the_same_file_left_only() {
        let dir = tempfile::tempdir().unwrap();
        // A `parse -o rows.csv` killed mid-write (PID 0: gone), and another file's leftover.
        std::fs::write(dir.path().join(".rows.csv.tmp-0-0"), "half").unwrap();
        std::fs::write(dir.path().join(".other.csv.tmp-0-0"), "half").unwrap();
        write_atomic(&dir.path().join("rows.csv"), b"a\n").unwrap();
        assert_eq!(names(dir.path()), [".other.csv.tmp-0-0", "rows.csv"]);
    }

    #[test]
    fn outputs_at_or_inside_inputs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("archive");
        std::fs::create_dir_all(&archive).unwrap();
        let log = archive.join("poolmon.log");
        std::fs::write(&log, "x").unwrap();
        let inputs = std::slice::from_ref(&archive);
        for out in [archive.clone(), archive.join("report"), archive.join("out.csv")] {
            let err = check_not_input(&out, inputs, "the report").unwrap_err();
            assert!(err.to_string().starts_with("refusing to write the report to"), "{err}");
        }
        let err = check_not_input(&log, std::slice::from_ref(&log), "the CSV").unwrap_err();
        assert!(err.to_string().contains("it is an input"), "{err}");
        assert!(check_not_input(&archive.join("x.csv"), std::slice::from_ref(&log), "the CSV").is_err());
        assert!(check_not_input(&dir.path().join("out.csv"), &[archive, log], "the CSV").is_ok());
    }
}
