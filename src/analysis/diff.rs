//! Diff of two poolmon snapshots (ANALYSIS.md §6).
//!
//! Per (tag, pool type): the counters before and after, their signed changes, the rate per hour when both
//! snapshots have a time, and whether the tag appeared or disappeared; totals per pool and overall.
//! Rows are keyed by (tag, pool type) because one tag can have a Paged and a Nonp row (formats reference
//! §1.3); two rows with the same key in one snapshot are summed, with a note.
//!
//! The kernel's per-tag Allocs and Frees are 32-bit counters that wrap on long uptimes (formats reference
//! §1.3, "Number hazards"). When a counter went down while the snapshot pair looks like one boot, the change
//! is read as a wrap and 2^32 is added, if the Diff (outstanding) change agrees; the row says so in a note.
//! When most counters went down, or the cumulative page-fault count did, the snapshots are from different
//! boots: nothing is corrected and the diff says so.
//!
//! [`diff`] is a pure function of its inputs: same snapshots and options, same result, same order.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{PoolRow, PoolSnapshot, PoolTag, PoolType, SourceRef, TimeSource};
use crate::units::thousands;

/// Version of the JSON layout of [`SnapshotDiff`]; bumped on any incompatible change.
pub const DIFF_SCHEMA_VERSION: u32 = 1;

/// The span of a 32-bit kernel counter.
const COUNTER_SPAN: i128 = 1 << 32;

/// What rows are ranked by: the absolute change of this column, largest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffSort {
    /// |change in Bytes| (the default: bytes are what exhausts a pool).
    #[default]
    Bytes,
    /// |change in Diff| (outstanding allocations).
    Diff,
    /// |change in Allocs|.
    Allocs,
    /// |change in Frees|.
    Frees,
}

/// Options of [`diff`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// What rows are ranked by.
    pub sort: DiffSort,
    /// Keep only the first N rows after ranking (`None`: all). Totals always cover every row.
    pub top: Option<usize>,
    /// Keep only rows of this pool type (`None`: both).
    pub pool: Option<PoolType>,
    /// Also list rows present in both snapshots whose counters did not change at all.
    pub include_unchanged: bool,
    /// A reboot found between A and B among the snapshots of their file ([`reboot_between`]): then there is
    /// no rate per hour, since one rate over two boots is no boot's rate.
    pub reboot_between: Option<String>,
}

/// Whether a (tag, pool) row is in both snapshots or only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// In both snapshots.
    Present,
    /// Only in the after snapshot (its before counters are 0).
    Appeared,
    /// Only in the before snapshot (its after counters are 0).
    Disappeared,
}

/// Which snapshot a diff side is, and when it was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// File and line of the snapshot.
    pub source: SourceRef,
    /// Host, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub host: Option<String>,
    /// When it was taken (UTC), when known.
    pub taken_at: Option<DateTime<Utc>>,
    /// Where `taken_at` came from.
    pub time_source: TimeSource,
    /// 1-based position of the snapshot in its file, when the caller selected it from a series.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub index: Option<usize>,
    /// Number of snapshots in its file, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub count: Option<usize>,
    /// Number of rows (tag, pool type) in the snapshot.
    pub rows: usize,
}

impl SnapshotInfo {
    /// Describes a snapshot (without its position in a file; set `index` and `count` for that).
    pub fn of(snapshot: &PoolSnapshot) -> Self {
        Self {
            source: snapshot.source.clone(),
            host: snapshot.host.clone(),
            taken_at: snapshot.taken_at,
            time_source: snapshot.time_source,
            index: None,
            count: None,
            rows: snapshot.rows.len(),
        }
    }
}

/// The change of one (tag, pool type) between the two snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffRow {
    /// Pool tag, 4 characters, spaces kept.
    pub tag: String,
    /// Pool type.
    pub pool: PoolType,
    /// In both snapshots, or only in one.
    pub status: RowStatus,
    /// Bytes in the before snapshot.
    pub bytes_before: u64,
    /// Bytes in the after snapshot.
    pub bytes_after: u64,
    /// `bytes_after - bytes_before`.
    pub delta_bytes: i64,
    /// Outstanding allocations (Diff) before.
    pub diff_before: u64,
    /// Outstanding allocations (Diff) after.
    pub diff_after: u64,
    /// `diff_after - diff_before`.
    pub delta_diff: i64,
    /// Cumulative allocations before.
    pub allocs_before: u64,
    /// Cumulative allocations after.
    pub allocs_after: u64,
    /// Allocations made between the snapshots (2^32 added when the counter wrapped; see `notes`).
    pub delta_allocs: i64,
    /// Cumulative frees before.
    pub frees_before: u64,
    /// Cumulative frees after.
    pub frees_after: u64,
    /// Frees made between the snapshots (2^32 added when the counter wrapped; see `notes`).
    pub delta_frees: i64,
    /// `delta_bytes` per hour, when both snapshots have a time.
    pub bytes_per_hour: Option<f64>,
    /// `delta_diff` per hour, when both snapshots have a time.
    pub diff_per_hour: Option<f64>,
    /// Bytes per outstanding allocation before (`bytes / diff`, as poolmon's Per Alloc).
    pub per_alloc_before: Option<u64>,
    /// Bytes per outstanding allocation after.
    pub per_alloc_after: Option<u64>,
    /// Bytes per allocation of the change (`delta_bytes / delta_diff`): the size of what accumulated,
    /// when bytes and Diff moved the same way.
    pub per_alloc: Option<f64>,
    /// What the tag is, when the caller supplied descriptions ([`SnapshotDiff::describe_rows`]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// Notes on this row: counter wraps, summed duplicate rows, counters that went down.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
}

impl DiffRow {
    fn sort_key(&self, sort: DiffSort) -> u64 {
        match sort {
            DiffSort::Bytes => self.delta_bytes.unsigned_abs(),
            DiffSort::Diff => self.delta_diff.unsigned_abs(),
            DiffSort::Allocs => self.delta_allocs.unsigned_abs(),
            DiffSort::Frees => self.delta_frees.unsigned_abs(),
        }
    }

    fn unchanged(&self) -> bool {
        self.status == RowStatus::Present
            && self.delta_bytes == 0
            && self.delta_diff == 0
            && self.delta_allocs == 0
            && self.delta_frees == 0
    }
}

/// Which rows a [`DiffTotal`] adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TotalScope {
    /// Paged pool rows.
    Paged,
    /// Nonpaged pool rows.
    Nonpaged,
    /// Every row (of the pool filter).
    All,
}

impl TotalScope {
    /// `paged`, `nonpaged` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            TotalScope::Paged => "paged",
            TotalScope::Nonpaged => "nonpaged",
            TotalScope::All => "all",
        }
    }
}

/// Sums over the rows of one pool type, or of all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffTotal {
    /// Which rows.
    pub pool: TotalScope,
    /// Rows in the before snapshot.
    pub tags_before: usize,
    /// Rows in the after snapshot.
    pub tags_after: usize,
    /// Rows only in the after snapshot.
    pub appeared: usize,
    /// Rows only in the before snapshot.
    pub disappeared: usize,
    /// Rows in both whose counters changed.
    pub changed: usize,
    /// Sum of Bytes before.
    pub bytes_before: u64,
    /// Sum of Bytes after.
    pub bytes_after: u64,
    /// `bytes_after - bytes_before`.
    pub delta_bytes: i64,
    /// Sum of Diff before.
    pub diff_before: u64,
    /// Sum of Diff after.
    pub diff_after: u64,
    /// `diff_after - diff_before`.
    pub delta_diff: i64,
    /// `delta_bytes` per hour, when both snapshots have a time.
    pub bytes_per_hour: Option<f64>,
}

/// A tag and pool type (for the appeared and disappeared lists).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TagPool {
    /// Pool tag.
    pub tag: String,
    /// Pool type.
    pub pool: PoolType,
}

/// The diff of two snapshots: what `poolscope diff --format json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotDiff {
    /// [`DIFF_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The earlier (A) snapshot, as given.
    pub before: SnapshotInfo,
    /// The later (B) snapshot, as given.
    pub after: SnapshotInfo,
    /// Hours from A to B (negative when B was taken first), when both have a time.
    pub hours: Option<f64>,
    /// What rows are ranked by.
    pub sort: DiffSort,
    /// The pool filter (`None`: both pools).
    pub pool_filter: Option<PoolType>,
    /// Rows after the pool filter, before `top` was applied.
    pub rows_total: usize,
    /// Rows, ranked by the absolute change of the sort column (ties by tag, then pool), limited to `top`.
    pub rows: Vec<DiffRow>,
    /// Totals per pool type and overall (over every row of the pool filter, not only the top ones).
    pub totals: Vec<DiffTotal>,
    /// Tags only in B, sorted.
    pub appeared: Vec<TagPool>,
    /// Tags only in A, sorted.
    pub disappeared: Vec<TagPool>,
    /// Notes on the whole diff (different boots, reversed order, missing times).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl SnapshotDiff {
    /// Fills each row's `description` from a lookup (typically
    /// [`crate::parse::pooltag::TagDescriptions::describe`]).
    pub fn describe_rows(&mut self, describe: impl Fn(&str) -> Option<String>) {
        for row in &mut self.rows {
            row.description = describe(&row.tag);
        }
    }

    /// The total of one scope.
    pub fn total(&self, scope: TotalScope) -> Option<&DiffTotal> {
        self.totals.iter().find(|t| t.pool == scope)
    }
}

/// Counters of one (tag, pool) in one snapshot, duplicates summed.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    allocs: u64,
    frees: u64,
    diff: u64,
    bytes: u64,
    rows: usize,
}

impl Counters {
    fn add(&mut self, row: &PoolRow) {
        self.allocs = self.allocs.saturating_add(row.allocs);
        self.frees = self.frees.saturating_add(row.frees);
        self.diff = self.diff.saturating_add(row.diff);
        self.bytes = self.bytes.saturating_add(row.bytes);
        self.rows += 1;
    }
}

type Key = (PoolTag, PoolType);

fn index(snapshot: &PoolSnapshot, pool: Option<PoolType>) -> BTreeMap<Key, Counters> {
    let mut map: BTreeMap<Key, Counters> = BTreeMap::new();
    for row in snapshot.rows.iter().filter(|r| pool.is_none_or(|p| p == r.pool)) {
        map.entry((row.tag, row.pool)).or_default().add(row);
    }
    map
}

/// Signed difference, saturated to `i64`.
fn delta(after: u64, before: u64) -> i64 {
    let d = i128::from(after) - i128::from(before);
    i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The first reboot between consecutive snapshots of one file (A, the snapshots in between, B; in time
/// order), in words: A and B can both look like one boot (B's counters above A's) when a whole boot's growth
/// lies between them, so every step is checked, not only A against B.
pub fn reboot_between(snapshots: &[PoolSnapshot]) -> Option<String> {
    snapshots.windows(2).find_map(|w| {
        boot_change(&w[0], &w[1]).map(|_| {
            let at = |s: &PoolSnapshot| {
                s.taken_at.map_or_else(
                    || format!("line {}", s.source.line.unwrap_or(0)),
                    |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
                )
            };
            format!(
                "a reboot lies between A and B (the counters restart between the snapshots at {} and {}): changes \
                 span two boots and no rate per hour is given; diff two snapshots of one boot for its rate",
                at(&w[0]),
                at(&w[1])
            )
        })
    })
}

/// Why the pair looks like two different boots (then counters that went down are not wraps).
fn boot_change(before: &PoolSnapshot, after: &PoolSnapshot) -> Option<String> {
    if let (Some(a), Some(b)) = (before.header.page_faults, after.header.page_faults) {
        if b < a {
            return Some(format!(
                "the cumulative PageFlts count went down ({} to {}): the snapshots are from different boots",
                thousands(a),
                thousands(b)
            ));
        }
    }
    let a = index(before, None);
    let b = index(after, None);
    let (mut common, mut down) = (0usize, 0usize);
    for (key, ca) in &a {
        if let Some(cb) = b.get(key) {
            common += 1;
            if cb.allocs < ca.allocs {
                down += 1;
            }
        }
    }
    (common > 0 && down * 2 > common).then(|| {
        format!(
            "Allocs went down for {down} of {common} tags: the snapshots are from different boots \
             (or B is older than A); counters are not corrected for wrap"
        )
    })
}

/// Change of a counter that went down (`raw < 0`) within one boot, read as a 32-bit wrap: both readings fit
/// in 32 bits and the corrected change is under 2^31 (a counter that wraps was in the upper half of its
/// range; a small drop such as 5,000 to 100 is a reset, not 4.3 billion allocations). Returns the corrected
/// change when it wrapped.
fn wrapped(before: u64, after: u64, raw: i64) -> Option<i64> {
    let fits = |v: u64| i128::from(v) < COUNTER_SPAN;
    let corrected = i128::from(raw) + COUNTER_SPAN;
    (raw < 0 && fits(before) && fits(after) && corrected < COUNTER_SPAN / 2)
        .then(|| i64::try_from(corrected).unwrap_or(i64::MAX))
}

/// Whether Diff = Allocs - Frees (modulo 2^32) holds for a reading, so a wrap can be checked against it.
fn consistent(c: &Counters) -> bool {
    (i128::from(c.allocs) - i128::from(c.frees)).rem_euclid(COUNTER_SPAN) == i128::from(c.diff).rem_euclid(COUNTER_SPAN)
}

fn row_for(
    key: &Key,
    before: Option<&Counters>,
    after: Option<&Counters>,
    hours: Option<f64>,
    one_boot: bool,
) -> DiffRow {
    let zero = Counters::default();
    let (a, b) = (before.unwrap_or(&zero), after.unwrap_or(&zero));
    let status = match (before, after) {
        (Some(_), Some(_)) => RowStatus::Present,
        (None, _) => RowStatus::Appeared,
        (_, None) => RowStatus::Disappeared,
    };
    let mut notes = Vec::new();
    for (side, c) in [("A", before), ("B", after)] {
        if let Some(c) = c.filter(|c| c.rows > 1) {
            notes.push(format!("{} rows for this tag and pool in {side} were summed", c.rows));
        }
    }
    let delta_bytes = delta(b.bytes, a.bytes);
    let delta_diff = delta(b.diff, a.diff);
    let mut delta_allocs = delta(b.allocs, a.allocs);
    let mut delta_frees = delta(b.frees, a.frees);
    if status == RowStatus::Present && (delta_allocs < 0 || delta_frees < 0) {
        let wrap_a = if one_boot { wrapped(a.allocs, b.allocs, delta_allocs) } else { None };
        let wrap_f = if one_boot { wrapped(a.frees, b.frees, delta_frees) } else { None };
        let (new_a, new_f) = (wrap_a.unwrap_or(delta_allocs), wrap_f.unwrap_or(delta_frees));
        // Diff is the exact change of outstanding allocations, so a real wrap makes the corrected Allocs and
        // Frees changes add up to it. Rows whose Diff is not Allocs - Frees cannot be checked; trust the wrap.
        let checkable = consistent(a) && consistent(b);
        let agrees = i128::from(new_a) - i128::from(new_f) == i128::from(delta_diff);
        if (wrap_a.is_some() || wrap_f.is_some()) && (!checkable || agrees) {
            for (name, w) in [("Allocs", wrap_a), ("Frees", wrap_f)] {
                if w.is_some() {
                    notes.push(format!("{name} counter wrapped past 2^32 (32-bit kernel counter): 2^32 added"));
                }
            }
            delta_allocs = new_a;
            delta_frees = new_f;
        } else if one_boot {
            // Across boots every counter restarts; the diff-wide note says so once, not on every row.
            for (name, d) in [("Allocs", delta_allocs), ("Frees", delta_frees)] {
                if d < 0 {
                    notes.push(format!(
                        "{name} went down by {} (not a 32-bit wrap: a reset?); left as is",
                        thousands(d.unsigned_abs())
                    ));
                }
            }
        }
    }
    let per_alloc = |c: &Counters| (c.diff > 0).then(|| c.bytes / c.diff);
    DiffRow {
        tag: key.0.to_string(),
        pool: key.1,
        status,
        bytes_before: a.bytes,
        bytes_after: b.bytes,
        delta_bytes,
        diff_before: a.diff,
        diff_after: b.diff,
        delta_diff,
        allocs_before: a.allocs,
        allocs_after: b.allocs,
        delta_allocs,
        frees_before: a.frees,
        frees_after: b.frees,
        delta_frees,
        bytes_per_hour: hours.map(|h| round3(delta_bytes as f64 / h)),
        diff_per_hour: hours.map(|h| round3(delta_diff as f64 / h)),
        per_alloc_before: before.and_then(per_alloc),
        per_alloc_after: after.and_then(per_alloc),
        per_alloc: (delta_diff != 0 && (delta_bytes > 0) == (delta_diff > 0) && delta_bytes != 0)
            .then(|| round3(delta_bytes as f64 / delta_diff as f64)),
        description: None,
        notes,
    }
}

fn totals(rows: &[DiffRow], hours: Option<f64>, pool: Option<PoolType>) -> Vec<DiffTotal> {
    let mut scopes = Vec::new();
    if pool.is_none_or(|p| p == PoolType::Paged) {
        scopes.push(TotalScope::Paged);
    }
    if pool.is_none_or(|p| p == PoolType::Nonpaged) {
        scopes.push(TotalScope::Nonpaged);
    }
    scopes.push(TotalScope::All);
    scopes
        .into_iter()
        .map(|scope| {
            let in_scope = |r: &&DiffRow| match scope {
                TotalScope::Paged => r.pool == PoolType::Paged,
                TotalScope::Nonpaged => r.pool == PoolType::Nonpaged,
                TotalScope::All => true,
            };
            let mut t = DiffTotal {
                pool: scope,
                tags_before: 0,
                tags_after: 0,
                appeared: 0,
                disappeared: 0,
                changed: 0,
                bytes_before: 0,
                bytes_after: 0,
                delta_bytes: 0,
                diff_before: 0,
                diff_after: 0,
                delta_diff: 0,
                bytes_per_hour: None,
            };
            for r in rows.iter().filter(in_scope) {
                match r.status {
                    RowStatus::Present => {
                        t.tags_before += 1;
                        t.tags_after += 1;
                        t.changed += usize::from(!r.unchanged());
                    }
                    RowStatus::Appeared => {
                        t.tags_after += 1;
                        t.appeared += 1;
                    }
                    RowStatus::Disappeared => {
                        t.tags_before += 1;
                        t.disappeared += 1;
                    }
                }
                t.bytes_before = t.bytes_before.saturating_add(r.bytes_before);
                t.bytes_after = t.bytes_after.saturating_add(r.bytes_after);
                t.diff_before = t.diff_before.saturating_add(r.diff_before);
                t.diff_after = t.diff_after.saturating_add(r.diff_after);
            }
            t.delta_bytes = delta(t.bytes_after, t.bytes_before);
            t.delta_diff = delta(t.diff_after, t.diff_before);
            t.bytes_per_hour = hours.map(|h| round3(t.delta_bytes as f64 / h));
            t
        })
        .collect()
}

/// Diffs two snapshots: `before` (A) against `after` (B).
pub fn diff(before: &PoolSnapshot, after: &PoolSnapshot, options: &DiffOptions) -> SnapshotDiff {
    let mut notes = Vec::new();
    let hours = match (before.taken_at, after.taken_at) {
        (Some(a), Some(b)) => {
            let ms = (b - a).num_milliseconds();
            if ms < 0 {
                notes.push(
                    "B was taken before A: changes are still B minus A, and rates are per hour of real time".to_owned(),
                );
            }
            (ms != 0).then(|| ms as f64 / 3_600_000.0)
        }
        _ => None,
    };
    if hours.is_none() {
        let missing: Vec<&str> = [("A", before.taken_at), ("B", after.taken_at)]
            .into_iter()
            .filter(|(_, t)| t.is_none())
            .map(|(side, _)| side)
            .collect();
        if missing.is_empty() {
            notes.push("A and B have the same time: no rates per hour".to_owned());
        } else {
            notes.push(format!(
                "no time for {}: no rates per hour (give the time with --time, or keep timestamp lines)",
                missing.join(" and ")
            ));
        }
    }
    let boot_note = boot_change(before, after);
    let one_boot = boot_note.is_none();
    // Counters going down from A to B mean a reboot unless B is the older snapshot (then they went up in time).
    let reversed = hours.is_some_and(|h| h < 0.0);
    let across_reboot = (!one_boot && !reversed) || options.reboot_between.is_some();
    notes.extend(boot_note);
    if one_boot {
        notes.extend(options.reboot_between.clone());
    }
    // Never one rate over two boots (each restarts its counters): no rates at all across a reboot.
    let rate_hours = if across_reboot { None } else { hours };

    let a = index(before, options.pool);
    let b = index(after, options.pool);
    let mut keys: Vec<&Key> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let all_rows: Vec<DiffRow> =
        keys.into_iter().map(|k| row_for(k, a.get(k), b.get(k), rate_hours, one_boot)).collect();

    let totals = totals(&all_rows, rate_hours, options.pool);
    let appeared = all_rows
        .iter()
        .filter(|r| r.status == RowStatus::Appeared)
        .map(|r| TagPool { tag: r.tag.clone(), pool: r.pool })
        .collect();
    let disappeared = all_rows
        .iter()
        .filter(|r| r.status == RowStatus::Disappeared)
        .map(|r| TagPool { tag: r.tag.clone(), pool: r.pool })
        .collect();

    let mut rows: Vec<DiffRow> = all_rows.into_iter().filter(|r| options.include_unchanged || !r.unchanged()).collect();
    // Keys are unique and already sorted by (tag, pool), and sort_by is stable: ties keep that order.
    rows.sort_by_key(|r| std::cmp::Reverse(r.sort_key(options.sort)));
    let rows_total = rows.len();
    if let Some(n) = options.top {
        rows.truncate(n);
    }

    SnapshotDiff {
        schema_version: DIFF_SCHEMA_VERSION,
        before: SnapshotInfo::of(before),
        after: SnapshotInfo::of(after),
        hours: hours.map(round3),
        sort: options.sort,
        pool_filter: options.pool,
        rows_total,
        rows,
        totals,
        appeared,
        disappeared,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::PoolHeader;

    fn row(tag: &str, pool: PoolType, allocs: u64, frees: u64, bytes: u64) -> PoolRow {
        let diff = allocs.wrapping_sub(frees) % (1 << 32);
        PoolRow {
            tag: tag.into(),
            pool,
            allocs,
            frees,
            diff,
            bytes,
            per_alloc: bytes.checked_div(diff).unwrap_or(0),
            driver: None,
        }
    }

    fn snap(hour: Option<u32>, rows: Vec<PoolRow>) -> PoolSnapshot {
        PoolSnapshot {
            source: SourceRef::line("s.log", 1),
            host: None,
            taken_at: hour.map(|h| Utc.with_ymd_and_hms(2020, 5, 22, h, 0, 0).unwrap()),
            time_source: if hour.is_some() { TimeSource::TimestampLine } else { TimeSource::Unknown },
            header: PoolHeader::default(),
            rows,
        }
    }

    use PoolType::{Nonpaged, Paged};

    fn find<'a>(d: &'a SnapshotDiff, tag: &str, pool: PoolType) -> &'a DiffRow {
        d.rows.iter().find(|r| r.tag == tag && r.pool == pool).unwrap()
    }

    #[test]
    fn deltas_per_tag_and_pool_with_rate_per_hour() {
        let a = snap(Some(10), vec![row("Toke", Paged, 1000, 900, 100 * 1664), row("File", Nonpaged, 50, 40, 4000)]);
        let b = snap(Some(14), vec![row("Toke", Paged, 5000, 900, 4100 * 1664), row("File", Nonpaged, 60, 50, 4000)]);
        let d = diff(&a, &b, &DiffOptions::default());
        assert_eq!(d.hours, Some(4.0));
        let toke = find(&d, "Toke", Paged);
        assert_eq!((toke.delta_allocs, toke.delta_frees, toke.delta_diff), (4000, 0, 4000));
        assert_eq!(toke.delta_bytes, 4000 * 1664);
        assert_eq!(toke.bytes_per_hour, Some(1000.0 * 1664.0));
        assert_eq!(toke.diff_per_hour, Some(1000.0));
        assert_eq!(toke.per_alloc, Some(1664.0));
        assert_eq!((toke.per_alloc_before, toke.per_alloc_after), (Some(1664), Some(1664)));
        let file = find(&d, "File", Nonpaged);
        assert_eq!((file.delta_allocs, file.delta_frees, file.delta_bytes), (10, 10, 0));
        assert_eq!(file.per_alloc, None, "no byte change: no size of the change");
    }

    #[test]
    fn same_tag_in_both_pools_gives_two_rows() {
        let a = snap(None, vec![row("File", Paged, 10, 5, 500), row("File", Nonpaged, 10, 5, 900)]);
        let b = snap(None, vec![row("File", Nonpaged, 20, 5, 1900), row("File", Paged, 11, 5, 600)]);
        let d = diff(&a, &b, &DiffOptions::default());
        assert_eq!(d.rows.len(), 2);
        assert_eq!(find(&d, "File", Paged).delta_bytes, 100);
        assert_eq!(find(&d, "File", Nonpaged).delta_bytes, 1000);
    }

    #[test]
    fn duplicate_rows_in_one_snapshot_are_summed_with_a_note() {
        let a = snap(None, vec![row("Dup ", Paged, 10, 5, 500), row("Dup ", Paged, 10, 5, 500)]);
        let b = snap(None, vec![row("Dup ", Paged, 30, 10, 2000)]);
        let d = diff(&a, &b, &DiffOptions::default());
        let r = find(&d, "Dup ", Paged);
        assert_eq!((r.bytes_before, r.delta_bytes), (1000, 1000));
        assert!(r.notes.iter().any(|n| n.contains("2 rows") && n.contains(" A ")), "{:?}", r.notes);
    }

    #[test]
    fn appeared_and_disappeared_tags() {
        let a = snap(None, vec![row("Gone", Paged, 10, 5, 500), row("Same", Paged, 1, 0, 8)]);
        let b = snap(None, vec![row("New ", Nonpaged, 3, 0, 300), row("Same", Paged, 1, 0, 8)]);
        let d = diff(&a, &b, &DiffOptions::default());
        assert_eq!(find(&d, "New ", Nonpaged).status, RowStatus::Appeared);
        assert_eq!(find(&d, "New ", Nonpaged).delta_bytes, 300);
        assert_eq!(find(&d, "Gone", Paged).status, RowStatus::Disappeared);
        assert_eq!(find(&d, "Gone", Paged).delta_bytes, -500);
        assert_eq!(d.appeared, [TagPool { tag: "New ".into(), pool: Nonpaged }]);
        assert_eq!(d.disappeared, [TagPool { tag: "Gone".into(), pool: Paged }]);
        assert!(d.rows.iter().all(|r| r.tag != "Same"), "unchanged rows are left out by default");
        let all = diff(&a, &b, &DiffOptions { include_unchanged: true, ..DiffOptions::default() });
        assert_eq!(all.rows.len(), 3);
    }

    #[test]
    fn totals_per_pool_and_overall_cover_all_rows_not_only_top() {
        let a = snap(Some(0), vec![row("Aaaa", Paged, 1, 0, 100), row("Bbbb", Nonpaged, 1, 0, 100)]);
        let b = snap(
            Some(2),
            vec![row("Aaaa", Paged, 2, 0, 300), row("Bbbb", Nonpaged, 3, 0, 1100), row("Cccc", Paged, 1, 0, 50)],
        );
        let d = diff(&a, &b, &DiffOptions { top: Some(1), ..DiffOptions::default() });
        assert_eq!(d.rows.len(), 1);
        assert_eq!(d.rows_total, 3);
        let paged = d.total(TotalScope::Paged).unwrap();
        assert_eq!((paged.bytes_before, paged.bytes_after, paged.delta_bytes), (100, 350, 250));
        assert_eq!((paged.tags_before, paged.tags_after, paged.appeared, paged.changed), (1, 2, 1, 1));
        let all = d.total(TotalScope::All).unwrap();
        assert_eq!((all.delta_bytes, all.delta_diff), (1250, 4));
        assert_eq!(all.bytes_per_hour, Some(625.0));
        assert_eq!(
            d.totals.iter().map(|t| t.pool).collect::<Vec<_>>(),
            [TotalScope::Paged, TotalScope::Nonpaged, TotalScope::All]
        );
    }

    #[test]
    fn sort_by_absolute_change_with_ties_broken_by_tag_then_pool() {
        let a = snap(
            None,
            vec![
                row("Bbbb", Paged, 10, 0, 1000),
                row("Aaaa", Nonpaged, 10, 0, 1000),
                row("Aaaa", Paged, 10, 0, 1000),
                row("Cccc", Paged, 10, 0, 1000),
            ],
        );
        let b = snap(
            None,
            vec![
                row("Bbbb", Paged, 11, 0, 500),
                row("Aaaa", Nonpaged, 12, 0, 1500),
                row("Aaaa", Paged, 13, 0, 1500),
                row("Cccc", Paged, 100, 0, 1001),
            ],
        );
        let order = |sort| {
            diff(&a, &b, &DiffOptions { sort, ..DiffOptions::default() })
                .rows
                .iter()
                .map(|r| format!("{}/{}", r.tag, r.pool))
                .collect::<Vec<_>>()
        };
        assert_eq!(order(DiffSort::Bytes), ["Aaaa/paged", "Aaaa/nonpaged", "Bbbb/paged", "Cccc/paged"]);
        assert_eq!(order(DiffSort::Allocs), ["Cccc/paged", "Aaaa/paged", "Aaaa/nonpaged", "Bbbb/paged"]);
        assert_eq!(order(DiffSort::Diff), order(DiffSort::Allocs));
        assert_eq!(order(DiffSort::Frees), ["Aaaa/paged", "Aaaa/nonpaged", "Bbbb/paged", "Cccc/paged"]);
    }

    #[test]
    fn pool_filter_keeps_one_pool_and_its_totals() {
        let a = snap(None, vec![row("Aaaa", Paged, 1, 0, 100), row("Bbbb", Nonpaged, 1, 0, 100)]);
        let b = snap(None, vec![row("Aaaa", Paged, 2, 0, 300), row("Bbbb", Nonpaged, 3, 0, 1100)]);
        let d = diff(&a, &b, &DiffOptions { pool: Some(Nonpaged), ..DiffOptions::default() });
        assert_eq!(d.rows.len(), 1);
        assert_eq!(d.rows[0].tag, "Bbbb");
        assert_eq!(d.totals.iter().map(|t| t.pool).collect::<Vec<_>>(), [TotalScope::Nonpaged, TotalScope::All]);
        assert_eq!(d.total(TotalScope::All).unwrap().delta_bytes, 1000);
    }

    #[test]
    fn allocs_counter_wrap_within_one_boot_adds_2_pow_32() {
        let before = row("Wrap", Paged, 4_294_967_000, 4_294_966_000, 8000);
        // 1296 allocations later the 32-bit counter wrapped to 1000; frees did not move.
        let mut after = row("Wrap", Paged, 1000, 4_294_966_000, 18_368);
        after.diff = 2296;
        let a = snap(None, vec![before, row("Aaaa", Paged, 5, 0, 40)]);
        let b = snap(None, vec![after, row("Aaaa", Paged, 6, 0, 48)]);
        let d = diff(&a, &b, &DiffOptions::default());
        let r = find(&d, "Wrap", Paged);
        assert_eq!((r.delta_allocs, r.delta_frees, r.delta_diff), (1296, 0, 1296));
        assert!(r.notes.iter().any(|n| n.contains("Allocs counter wrapped")), "{:?}", r.notes);
    }

    #[test]
    fn decrease_that_diff_contradicts_is_not_a_wrap() {
        let a = snap(
            None,
            vec![row("Rset", Paged, 5000, 1000, 4000), row("Aaaa", Paged, 5, 0, 40), row("Bbbb", Paged, 5, 0, 40)],
        );
        let b = snap(
            None,
            vec![row("Rset", Paged, 100, 50, 50), row("Aaaa", Paged, 6, 0, 48), row("Bbbb", Paged, 6, 0, 48)],
        );
        let d = diff(&a, &b, &DiffOptions::default());
        let r = find(&d, "Rset", Paged);
        assert_eq!((r.delta_allocs, r.delta_frees), (-4900, -950));
        assert!(r.notes.iter().any(|n| n.contains("Allocs went down by 4,900 (not a 32-bit wrap")), "{:?}", r.notes);
    }

    #[test]
    fn different_boots_are_not_corrected_for_wrap() {
        let a = snap(None, vec![row("Aaaa", Paged, 5000, 10, 400), row("Bbbb", Paged, 6000, 10, 400)]);
        let b = snap(None, vec![row("Aaaa", Paged, 50, 10, 40), row("Bbbb", Paged, 60, 10, 50)]);
        let d = diff(&a, &b, &DiffOptions::default());
        assert!(d.notes.iter().any(|n| n.contains("different boots")), "{:?}", d.notes);
        assert_eq!(find(&d, "Aaaa", Paged).delta_allocs, -4950);
        assert!(find(&d, "Aaaa", Paged).notes.is_empty(), "said once for the diff, not on every row");
    }

    #[test]
    fn page_faults_going_down_means_a_new_boot() {
        let mut a = snap(None, vec![row("Wrap", Paged, 4_294_967_000, 0, 8)]);
        let mut b = snap(None, vec![row("Wrap", Paged, 1000, 0, 8)]);
        a.header.page_faults = Some(900_000);
        b.header.page_faults = Some(1_000);
        let d = diff(&a, &b, &DiffOptions::default());
        assert!(d.notes.iter().any(|n| n.contains("PageFlts")), "{:?}", d.notes);
        assert!(find(&d, "Wrap", Paged).delta_allocs < 0);
    }

    #[test]
    fn missing_or_equal_times_give_no_rates_and_say_why() {
        let a = snap(None, vec![row("Aaaa", Paged, 1, 0, 100)]);
        let b = snap(Some(3), vec![row("Aaaa", Paged, 2, 0, 200)]);
        let d = diff(&a, &b, &DiffOptions::default());
        assert_eq!(d.hours, None);
        assert_eq!(d.rows[0].bytes_per_hour, None);
        assert!(d.notes.iter().any(|n| n.contains("no time for A")), "{:?}", d.notes);
        let same = diff(&b, &b.clone(), &DiffOptions { include_unchanged: true, ..DiffOptions::default() });
        assert!(same.notes.iter().any(|n| n.contains("same time")));
    }

    #[test]
    fn reversed_order_keeps_b_minus_a_and_a_positive_rate_for_growth() {
        let a = snap(Some(14), vec![row("Aaaa", Paged, 20, 0, 2000)]);
        let b = snap(Some(10), vec![row("Aaaa", Paged, 10, 0, 1000)]);
        let d = diff(&a, &b, &DiffOptions::default());
        assert_eq!(d.hours, Some(-4.0));
        assert_eq!(d.rows[0].delta_bytes, -1000);
        assert_eq!(d.rows[0].bytes_per_hour, Some(250.0));
        assert!(d.notes.iter().any(|n| n.contains("B was taken before A")));
    }

    #[test]
    fn json_rows_have_the_documented_fields() {
        let a = snap(Some(0), vec![row("Toke", Paged, 1, 0, 100)]);
        let b = snap(Some(1), vec![row("Toke", Paged, 2, 0, 200)]);
        let mut d = diff(&a, &b, &DiffOptions::default());
        d.describe_rows(|t| (t == "Toke").then(|| "Token objects".to_owned()));
        let json = serde_json::to_value(&d).unwrap();
        for key in ["schema_version", "before", "after", "hours", "rows", "totals", "appeared", "disappeared"] {
            assert!(json.get(key).is_some(), "{key}");
        }
        let first = &json["rows"][0];
        for key in [
            "tag",
            "pool",
            "status",
            "bytes_before",
            "bytes_after",
            "delta_bytes",
            "delta_diff",
            "delta_allocs",
            "delta_frees",
            "bytes_per_hour",
            "diff_before",
            "diff_after",
            "allocs_before",
            "allocs_after",
            "frees_before",
            "frees_after",
            "per_alloc",
            "description",
        ] {
            assert!(first.get(key).is_some(), "{key} missing in {first}");
        }
        assert_eq!(first["status"], "present");
        assert_eq!(first["pool"], "paged");
        assert_eq!(json["before"]["time_source"], "timestamp_line");
    }

    #[test]
    fn identical_inputs_give_identical_json() {
        let a = snap(Some(0), vec![row("Bbbb", Paged, 1, 0, 100), row("Aaaa", Paged, 1, 0, 100)]);
        let b = snap(Some(1), vec![row("Aaaa", Paged, 3, 0, 300), row("Bbbb", Paged, 3, 0, 300)]);
        let one = serde_json::to_string(&diff(&a, &b, &DiffOptions::default())).unwrap();
        let two = serde_json::to_string(&diff(&a, &b, &DiffOptions::default())).unwrap();
        assert_eq!(one, two);
        assert!(one.find("Aaaa").unwrap() < one.find("Bbbb").unwrap(), "ties are broken by tag");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_counters_never_panic_and_rows_stay_ranked(
            before in proptest::collection::vec((0u8..6, proptest::bool::ANY, proptest::num::u64::ANY, proptest::num::u64::ANY, proptest::num::u64::ANY), 0..12),
            after in proptest::collection::vec((0u8..6, proptest::bool::ANY, proptest::num::u64::ANY, proptest::num::u64::ANY, proptest::num::u64::ANY), 0..12),
            faults in proptest::option::of((proptest::num::u64::ANY, proptest::num::u64::ANY)),
        ) {
            let rows = |v: &[(u8, bool, u64, u64, u64)]| -> Vec<PoolRow> {
                v.iter()
                    .map(|&(t, paged, allocs, frees, bytes)| PoolRow {
                        tag: format!("T{t}  ").into(),
                        pool: if paged { Paged } else { Nonpaged },
                        allocs,
                        frees,
                        diff: allocs.wrapping_sub(frees),
                        bytes,
                        per_alloc: 0,
                        driver: None,
                    })
                    .collect()
            };
            let mut a = snap(Some(1), rows(&before));
            let mut b = snap(Some(2), rows(&after));
            if let Some((x, y)) = faults {
                a.header.page_faults = Some(x);
                b.header.page_faults = Some(y);
            }
            for sort in [DiffSort::Bytes, DiffSort::Diff, DiffSort::Allocs, DiffSort::Frees] {
                let d = diff(&a, &b, &DiffOptions { sort, include_unchanged: true, ..DiffOptions::default() });
                let keys: Vec<u64> = d.rows.iter().map(|r| r.sort_key(sort)).collect();
                proptest::prop_assert!(keys.windows(2).all(|w| w[0] >= w[1]));
                proptest::prop_assert_eq!(d.totals.len(), 3);
            }
        }
    }
}
