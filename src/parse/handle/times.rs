//! When each run was taken. handle.exe never prints a time (formats reference §2.4: TSS's `FwGetHandle`
//! adds none), so it comes from around the output, as for poolmon snapshots (§1.4), strongest first:
//!
//! 1. the timestamp line a collection loop wrote just before the run (`echo %DATE% %TIME%`, `Get-Date`);
//! 2. a time in the file name;
//! 3. `--time`, for runs with no time of their own;
//! 4. the file's modification time.
//!
//! The file name and modification time date one moment. They are given to every run of a file that holds one
//! collection (at most one run per mode, such as TSS psSDP's `-s` followed by `-a`); in a file where a mode
//! repeats (a loop appending runs), the file name dates only the first run and the modification time only the
//! last, and the runs in between have no time.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::model::{Diagnostic, HandleSnapshot, Severity, TimeSource};
use crate::parse::timestamp::{resolve_stamps, RawStamp};
use crate::parse::FileContext;

/// Sets `taken_at` and `time_source` of a file's snapshots; `stamps[i]` is the timestamp line before run `i`.
pub fn assign(
    snapshots: &mut [HandleSnapshot],
    stamps: &[Option<RawStamp>],
    ctx: &FileContext,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let present: Vec<RawStamp> = stamps.iter().flatten().cloned().collect();
    let mut resolved = resolve_stamps(&present, &ctx.time, &ctx.path, diagnostics).into_iter();
    let modes: HashSet<_> = snapshots.iter().map(|s| s.mode).collect();
    let one_collection = modes.len() == snapshots.len();
    let from_name = ctx.name_time(diagnostics);
    let last = snapshots.len().saturating_sub(1);
    let mut untimed: Vec<u64> = Vec::new();
    for (i, snap) in snapshots.iter_mut().enumerate() {
        let stamped = if stamps.get(i).is_some_and(Option::is_some) { resolved.next().flatten() } else { None };
        let (time, source) = pick(
            stamped,
            from_name.filter(|_| one_collection || i == 0),
            ctx.time.time_override,
            ctx.modified.filter(|_| one_collection || i == last),
        );
        snap.taken_at = time;
        snap.time_source = source;
        if time.is_none() {
            untimed.push(snap.source.line.unwrap_or(0));
        }
    }
    if let Some(&first) = untimed.first() {
        let message = if snapshots.len() == 1 {
            "run has no time (no timestamp line before it, none in the file name, no file modification time): \
             pass --time to give it one"
                .to_owned()
        } else {
            format!(
                "{} of {} runs in this file have no time: a collection loop that writes `echo %DATE% %TIME%` before \
                 each handle.exe run gives every run its time",
                untimed.len(),
                snapshots.len()
            )
        };
        diagnostics.push(Diagnostic::at_line(&ctx.path, first, Severity::Warning, message));
    }
}

/// The strongest time available, and where it came from.
fn pick(
    stamped: Option<DateTime<Utc>>,
    from_name: Option<(DateTime<Utc>, TimeSource)>,
    forced: Option<DateTime<Utc>>,
    modified: Option<DateTime<Utc>>,
) -> (Option<DateTime<Utc>>, TimeSource) {
    let (from_name, name_source) = from_name.map_or((None, TimeSource::FileName), |(t, s)| (Some(t), s));
    [
        (stamped, TimeSource::TimestampLine),
        (from_name, name_source),
        (forced, TimeSource::Override),
        (modified, TimeSource::FileModified),
    ]
    .into_iter()
    .find_map(|(t, source)| t.map(|t| (Some(t), source)))
    .unwrap_or((None, TimeSource::Unknown))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn strongest_time_wins() {
        let (a, b, c, d) = (
            Some(at("2020-01-01T00:00:00Z")),
            Some(at("2020-01-02T00:00:00Z")),
            Some(at("2020-01-03T00:00:00Z")),
            Some(at("2020-01-04T00:00:00Z")),
        );
        let named = b.map(|t| (t, TimeSource::FileName));
        assert_eq!(pick(a, named, c, d), (a, TimeSource::TimestampLine));
        assert_eq!(pick(None, named, c, d), (b, TimeSource::FileName));
        let folder = b.map(|t| (t, TimeSource::FolderName));
        assert_eq!(pick(None, folder, c, d), (b, TimeSource::FolderName));
        assert_eq!(pick(None, None, c, d), (c, TimeSource::Override));
        assert_eq!(pick(None, None, None, d), (d, TimeSource::FileModified));
        assert_eq!(pick(None, None, None, None), (None, TimeSource::Unknown));
    }
}
