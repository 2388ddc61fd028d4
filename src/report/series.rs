//! Time series for charts and statistics: taken from [`Analysis::series`] when the analysis kept them,
//! else rebuilt from the [`Dataset`] for the boot's time window (the analysis may keep only some).
//!
//! Series names follow [`crate::analysis::Series::name`]: `paged_total`, `nonpaged_total`, `commit`,
//! `tag:<tag>:<pool>`, `handles:<process>:<type>`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::analysis::{Analysis, Boot, Resource};
use crate::model::handles::HandleMode;
use crate::model::{Dataset, HandleSnapshot, HostData, ObjectIdentity, PoolSnapshot, PoolType};

/// Process name used by the analysis for system-wide handle counts.
pub const SYSTEM_PROCESS: &str = "(system)";

/// A series' samples, in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Points {
    /// Sample times.
    pub times: Vec<DateTime<Utc>>,
    /// Values (bytes or counts).
    pub values: Vec<f64>,
}

impl Points {
    /// Whether there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    fn push(&mut self, at: DateTime<Utc>, value: f64) {
        self.times.push(at);
        self.values.push(value);
    }

    /// The last sample.
    pub fn last(&self) -> Option<(DateTime<Utc>, f64)> {
        Some((*self.times.last()?, *self.values.last()?))
    }
}

/// Min, mean, max and 90th percentile of a series (PAL's "Overall Counter Instance Statistics").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Smallest value.
    pub min: f64,
    /// Mean value.
    pub mean: f64,
    /// Largest value.
    pub max: f64,
    /// 90th percentile (nearest rank).
    pub p90: f64,
    /// Number of samples.
    pub samples: usize,
}

impl Summary {
    /// Statistics of `values`, or `None` when empty.
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let rank = ((0.9 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
        Some(Self {
            min: sorted[0],
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
            max: sorted[sorted.len() - 1],
            p90: sorted[rank],
            samples: sorted.len(),
        })
    }
}

/// The series name of a pool resource's total.
pub fn total_name(resource: Resource) -> &'static str {
    match resource {
        Resource::Paged => "paged_total",
        Resource::Nonpaged => "nonpaged_total",
        Resource::Commit => "commit",
    }
}

/// The series name of a tag's bytes.
pub fn tag_name(tag: &str, pool: PoolType) -> String {
    format!("tag:{tag}:{pool}")
}

/// The series name of a process' handles of one type.
pub fn handles_name(process: &str, handle_type: &str) -> String {
    format!("handles:{process}:{handle_type}")
}

/// Looks series up by host, boot and name.
pub struct SeriesSource<'a> {
    analysis: &'a Analysis,
    dataset: &'a Dataset,
    kept: HashMap<(&'a str, u32, &'a str), usize>,
    /// Every suspect's series, read in one pass per boot: charts and sections ask for them again
    /// and again, and each pass reads every row of every snapshot.
    prefetched: HashMap<(String, u32), BTreeMap<(String, PoolType), TagPoints>>,
}

impl<'a> SeriesSource<'a> {
    /// Indexes the analysis' series.
    pub fn new(analysis: &'a Analysis, dataset: &'a Dataset) -> Self {
        let kept =
            analysis.series.iter().enumerate().map(|(i, s)| ((s.host.as_str(), s.boot, s.name.as_str()), i)).collect();
        let mut source = Self { analysis, dataset, kept, prefetched: HashMap::new() };
        let mut wanted: BTreeMap<(String, u32), Vec<(String, PoolType)>> = BTreeMap::new();
        for s in &analysis.suspects {
            wanted.entry((s.host.clone(), s.boot)).or_default().push((s.tag.clone(), s.pool));
        }
        let prefetched = wanted
            .into_iter()
            .map(|((host, boot), mut keys)| {
                keys.sort();
                keys.dedup();
                let series = source.scan_tags(&host, boot, &keys);
                ((host, boot), series)
            })
            .collect();
        source.prefetched = prefetched;
        source
    }

    /// Hosts of the dataset.
    pub fn hosts(&self) -> impl Iterator<Item = &'a str> {
        self.dataset.hosts.keys().map(String::as_str)
    }

    /// The boot record, when the analysis found it.
    pub fn boot(&self, host: &str, boot: u32) -> Option<&'a Boot> {
        self.analysis.boots.iter().find(|b| b.host == host && b.boot == boot)
    }

    /// Boots of a host, in order.
    pub fn boots(&self, host: &str) -> Vec<&'a Boot> {
        let mut boots: Vec<&Boot> = self.analysis.boots.iter().filter(|b| b.host == host).collect();
        boots.sort_by_key(|b| b.boot);
        boots
    }

    fn host(&self, host: &str) -> Option<&'a HostData> {
        self.dataset.hosts.get(host)
    }

    fn in_boot(&self, host: &str, boot: u32, at: DateTime<Utc>) -> bool {
        match self.boot(host, boot) {
            Some(b) => at >= b.start && at <= b.end,
            // Without boot records every sample belongs to the one boot there is.
            None => boot == 0,
        }
    }

    fn kept(&self, host: &str, boot: u32, name: &str) -> Option<Points> {
        let i = *self.kept.get(&(host, boot, name))?;
        let s = &self.analysis.series[i];
        let n = s.times.len().min(s.values.len());
        let mut points = Points { times: s.times[..n].to_vec(), values: s.values[..n].to_vec() };
        sort_points(&mut points);
        Some(points)
    }

    fn pool_snapshots<'s>(
        &'s self,
        host: &'s str,
        boot: u32,
    ) -> impl Iterator<Item = (DateTime<Utc>, &'a PoolSnapshot)> + 's {
        self.host(host)
            .map(|h| h.pool_snapshots.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(move |s| s.taken_at.filter(|t| self.in_boot(host, boot, *t)).map(|t| (t, s)))
    }

    /// A pool resource's total over the boot.
    pub fn total(&self, host: &str, boot: u32, resource: Resource) -> Points {
        if let Some(points) = self.kept(host, boot, total_name(resource)) {
            return points;
        }
        let mut points = Points::default();
        for (at, snap) in self.pool_snapshots(host, boot) {
            let value = match resource {
                Resource::Commit => snap.header.commit_kb.map(|k| k as f64 * 1024.0),
                Resource::Paged | Resource::Nonpaged => {
                    let pool = if resource == Resource::Paged { PoolType::Paged } else { PoolType::Nonpaged };
                    let rows: Vec<u64> = snap.rows.iter().filter(|r| r.pool == pool).map(|r| r.bytes).collect();
                    if rows.is_empty() {
                        let header = if pool == PoolType::Paged {
                            snap.header.pool_paged_kb
                        } else {
                            snap.header.pool_nonpaged_kb
                        };
                        header.map(|k| k as f64 * 1024.0)
                    } else {
                        Some(rows.iter().map(|&b| b as f64).sum())
                    }
                }
            };
            if let Some(v) = value {
                points.push(at, v);
            }
        }
        sort_points(&mut points);
        points
    }

    /// Bytes and outstanding allocations of several (tag, pool) series over a boot, in one pass over
    /// the snapshots (an archive holds thousands of snapshots of hundreds of rows).
    pub fn tags(&self, host: &str, boot: u32, keys: &[(String, PoolType)]) -> BTreeMap<(String, PoolType), TagPoints> {
        let cached = self.prefetched.get(&(host.to_owned(), boot));
        let (hits, misses): (Vec<&(String, PoolType)>, Vec<&(String, PoolType)>) =
            keys.iter().partition(|k| cached.is_some_and(|c| c.contains_key(*k)));
        let misses: Vec<(String, PoolType)> = misses.into_iter().cloned().collect();
        let mut out = if misses.is_empty() { BTreeMap::new() } else { self.scan_tags(host, boot, &misses) };
        for key in hits {
            if let Some(points) = cached.and_then(|c| c.get(key)) {
                out.insert(key.clone(), points.clone());
            }
        }
        out
    }

    /// Reads (tag, pool) series from the snapshots of a boot in one pass.
    fn scan_tags(&self, host: &str, boot: u32, keys: &[(String, PoolType)]) -> BTreeMap<(String, PoolType), TagPoints> {
        let mut out: BTreeMap<(String, PoolType), TagPoints> = BTreeMap::new();
        let index: HashMap<(&str, PoolType), usize> =
            keys.iter().enumerate().map(|(i, (t, p))| ((t.as_str(), *p), i)).collect();
        let mut found: Vec<TagPoints> = vec![TagPoints::default(); keys.len()];
        for (at, snap) in self.pool_snapshots(host, boot) {
            for row in &snap.rows {
                if let Some(&i) = index.get(&(row.tag.as_str(), row.pool)) {
                    found[i].bytes.push(at, row.bytes as f64);
                    found[i].outstanding.push(at, row.diff as f64);
                }
            }
        }
        for ((tag, pool), mut points) in keys.iter().cloned().zip(found) {
            if let Some(kept) = self.kept(host, boot, &tag_name(&tag, pool)) {
                points.bytes = kept;
            }
            sort_points(&mut points.bytes);
            sort_points(&mut points.outstanding);
            out.insert((tag, pool), points);
        }
        out
    }

    /// Handles of one type held by the processes of one image name (or system-wide for
    /// [`SYSTEM_PROCESS`]) over a boot.
    pub fn handles(&self, host: &str, boot: u32, process: &str, handle_type: &str) -> Points {
        if let Some(points) = self.kept(host, boot, &handles_name(process, handle_type)) {
            return points;
        }
        let mut points = Points::default();
        for snap in self.host(host).map(|h| h.handle_snapshots.as_slice()).unwrap_or_default() {
            let Some(at) = snap.taken_at.filter(|t| self.in_boot(host, boot, *t)) else { continue };
            if let Some(count) = handle_count(snap, process, handle_type) {
                points.push(at, count as f64);
            }
        }
        sort_points(&mut points);
        points
    }

    /// Every handle type's count for the processes of one image name, per snapshot of the boot.
    pub fn handles_by_type(&self, host: &str, boot: u32, process: &str) -> BTreeMap<String, Points> {
        let mut out: BTreeMap<String, Points> = BTreeMap::new();
        for snap in self.host(host).map(|h| h.handle_snapshots.as_slice()).unwrap_or_default() {
            let Some(at) = snap.taken_at.filter(|t| self.in_boot(host, boot, *t)) else { continue };
            let Some(counts) = type_counts(snap, process) else { continue };
            for (handle_type, count) in counts {
                out.entry(handle_type).or_default().push(at, count as f64);
            }
        }
        for points in out.values_mut() {
            sort_points(points);
        }
        out
    }

    /// The boot's handle.exe dumps that list Token handles of the processes of one image name: each dump's
    /// time and handles by account, oldest first.
    fn account_dumps(&self, host: &str, boot: u32, process: &str) -> Vec<(DateTime<Utc>, BTreeMap<String, u64>)> {
        let mut dumps: Vec<(DateTime<Utc>, BTreeMap<String, u64>)> = self
            .host(host)
            .map(|h| h.handle_snapshots.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|snap| {
                let at = snap.taken_at.filter(|t| self.in_boot(host, boot, *t))?;
                let accounts = accounts_of(snap, process);
                (!accounts.is_empty()).then_some((at, accounts))
            })
            .collect();
        dumps.sort_by_key(|d| d.0);
        dumps
    }

    /// Token handles of the processes of one image name grouped by account, at the boot's first and
    /// last handle.exe dump that lists them (analysis §5: the account whose logons leak).
    pub fn token_accounts(&self, host: &str, boot: u32, process: &str) -> Vec<AccountHandles> {
        let dumps = self.account_dumps(host, boot, process);
        let (Some(first), Some(last)) = (dumps.first(), dumps.last()) else {
            return Vec::new();
        };
        let span = crate::report::format::hours_between(first.0, last.0);
        let mut names: Vec<&String> = first.1.keys().chain(last.1.keys()).collect();
        names.sort();
        names.dedup();
        let mut out: Vec<AccountHandles> = names
            .into_iter()
            .map(|account| {
                let at_first = first.1.get(account).copied().unwrap_or(0);
                let at_last = last.1.get(account).copied().unwrap_or(0);
                let per_hour = if span > 0.0 { (at_last as f64 - at_first as f64) / span } else { 0.0 };
                AccountHandles {
                    account: account.clone(),
                    first: at_first,
                    last: at_last,
                    first_at: first.0,
                    last_at: last.0,
                    per_hour,
                }
            })
            .collect();
        out.sort_by(|a, b| b.last.cmp(&a.last).then_with(|| a.account.cmp(&b.account)));
        out
    }

    /// Token handles of the processes of one image name by account, at every handle.exe dump of the
    /// boot that lists them (an account missing from a dump counts 0 there).
    pub fn accounts_over_time(&self, host: &str, boot: u32, process: &str) -> BTreeMap<String, Points> {
        let dumps = self.account_dumps(host, boot, process);
        let mut names: Vec<&String> = dumps.iter().flat_map(|d| d.1.keys()).collect();
        names.sort();
        names.dedup();
        let mut out = BTreeMap::new();
        for name in names {
            let mut points = Points::default();
            for (at, accounts) in &dumps {
                points.push(*at, accounts.get(name).copied().unwrap_or(0) as f64);
            }
            out.insert(name.clone(), points);
        }
        out
    }

    /// The (tag, pool) series that grew most between the boot's first and last pool snapshot, most
    /// first (ties by tag and pool), with their growth in bytes.
    pub fn top_growing_tags(&self, host: &str, boot: u32, n: usize) -> Vec<((String, PoolType), f64)> {
        let mut snaps: Vec<(DateTime<Utc>, &PoolSnapshot)> = self.pool_snapshots(host, boot).collect();
        snaps.sort_by_key(|s| s.0);
        let (Some(first), Some(last)) = (snaps.first(), snaps.last()) else { return Vec::new() };
        let before: HashMap<(&str, PoolType), u64> =
            first.1.rows.iter().map(|r| ((r.tag.as_str(), r.pool), r.bytes)).collect();
        let mut growth: Vec<((String, PoolType), f64)> = last
            .1
            .rows
            .iter()
            .map(|r| {
                let was = before.get(&(r.tag.as_str(), r.pool)).copied().unwrap_or(0);
                ((r.tag.to_string(), r.pool), r.bytes as f64 - was as f64)
            })
            .filter(|(_, g)| *g > 0.0)
            .collect();
        growth.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        growth.dedup_by(|a, b| a.0 == b.0);
        growth.truncate(n);
        growth
    }

    /// Image names with the most handles in the boot's last dump, most first.
    pub fn busiest_processes(&self, host: &str, boot: u32) -> Vec<(String, u64)> {
        let last = self
            .host(host)
            .map(|h| h.handle_snapshots.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|s| !s.processes.is_empty() && s.taken_at.is_some_and(|t| self.in_boot(host, boot, t)))
            .max_by_key(|s| s.taken_at);
        let mut totals: BTreeMap<String, u64> = BTreeMap::new();
        for p in last.map(|s| s.processes.as_slice()).unwrap_or_default() {
            *totals.entry(p.name.clone()).or_default() += p.handles.len() as u64;
        }
        let mut out: Vec<(String, u64)> = totals.into_iter().collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }
}

/// Bytes and outstanding allocations of one (tag, pool) series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagPoints {
    /// Bytes.
    pub bytes: Points,
    /// Outstanding allocations (poolmon's Diff).
    pub outstanding: Points,
}

/// Token handles held for one account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountHandles {
    /// `DOMAIN\user`.
    pub account: String,
    /// Handles in the first dump.
    pub first: u64,
    /// Handles in the last dump.
    pub last: u64,
    /// Time of the first dump.
    pub first_at: DateTime<Utc>,
    /// Time of the last dump.
    pub last_at: DateTime<Utc>,
    /// Growth per hour between the two.
    pub per_hour: f64,
}

fn matches_process(name: &str, process: &str) -> bool {
    name.eq_ignore_ascii_case(process)
}

/// Whether a `-p` filter (name prefix or pid) limits a summary to the given image name.
fn filter_selects(filter: &str, process: &str) -> bool {
    let f = filter.to_ascii_lowercase();
    let p = process.to_ascii_lowercase();
    !f.is_empty() && (p == f || p.strip_suffix(".exe") == Some(f.as_str()) || (p.starts_with(&f) && f.len() >= 3))
}

/// Handle count of one type in one snapshot for a process name, when the snapshot tells it.
fn handle_count(snap: &HandleSnapshot, process: &str, handle_type: &str) -> Option<u64> {
    if process == SYSTEM_PROCESS {
        if snap.process_filter.is_none() {
            if let Some(&n) = snap.type_counts.get(handle_type) {
                return Some(n);
            }
            if !snap.processes.is_empty() && snap.mode == HandleMode::Dump {
                return Some(
                    snap.processes.iter().flat_map(|p| &p.handles).filter(|h| h.handle_type == handle_type).count()
                        as u64,
                );
            }
        }
        return None;
    }
    type_counts(snap, process).map(|counts| counts.get(handle_type).copied().unwrap_or(0))
}

/// Counts by handle type for one image name in one snapshot; `None` when the snapshot does not cover it.
fn type_counts(snap: &HandleSnapshot, process: &str) -> Option<BTreeMap<String, u64>> {
    if snap.mode == HandleMode::Summary {
        let filter = snap.process_filter.as_deref()?;
        return filter_selects(filter, process).then(|| snap.type_counts.clone());
    }
    // A search lists only matching handles: it does not tell a process' full counts.
    if snap.mode == HandleMode::Search {
        return None;
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen = false;
    for p in snap.processes.iter().filter(|p| matches_process(&p.name, process)) {
        seen = true;
        for h in &p.handles {
            *counts.entry(h.handle_type.clone()).or_default() += 1;
        }
    }
    seen.then_some(counts)
}

/// Token handles by account for one image name in one snapshot.
fn accounts_of(snap: &HandleSnapshot, process: &str) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for p in snap.processes.iter().filter(|p| matches_process(&p.name, process)) {
        for h in p.handles.iter().filter(|h| h.handle_type.eq_ignore_ascii_case("Token")) {
            let account = match &h.identity {
                Some(ObjectIdentity::Token { account, .. }) => account.clone(),
                // handle.exe prints `DOMAIN\user:luid`; keep the account when the parser did not.
                _ => h.name.rsplit_once(':').map_or_else(|| h.name.clone(), |(a, _)| a.to_owned()),
            };
            if !account.is_empty() {
                *out.entry(account).or_default() += 1;
            }
        }
    }
    out
}

fn sort_points(points: &mut Points) {
    if points.times.windows(2).all(|w| w[0] <= w[1]) {
        return;
    }
    let mut pairs: Vec<(DateTime<Utc>, f64)> =
        points.times.iter().copied().zip(points.values.iter().copied()).collect();
    pairs.sort_by_key(|p| p.0);
    points.times = pairs.iter().map(|p| p.0).collect();
    points.values = pairs.iter().map(|p| p.1).collect();
}

/// Reduces `points` (sorted by x) to at most about `2 * buckets` points by keeping, per equal-width x
/// bucket, the smallest and the largest value in their time order. Unlike averaging this keeps spikes
/// and drops visible, and chart time stops growing with the number of rows.
pub fn downsample(points: &[(f64, f64)], buckets: usize) -> Vec<(f64, f64)> {
    if points.len() <= 2 * buckets.max(1) + 2 {
        return points.to_vec();
    }
    let (x0, x1) = (points[0].0, points[points.len() - 1].0);
    let width = (x1 - x0) / buckets as f64;
    if width <= 0.0 || !width.is_finite() {
        return vec![points[0], points[points.len() - 1]];
    }
    let mut out = Vec::with_capacity(2 * buckets + 2);
    out.push(points[0]);
    let mut i = 1;
    let last = points.len() - 1;
    while i < last {
        // Bucket numbers as integers: comparing floored floats for equality is fragile.
        let bucket_of = |x: f64| ((x - x0) / width).floor() as i64;
        let bucket = bucket_of(points[i].0);
        let mut lo = i;
        let mut hi = i;
        let mut j = i;
        while j < last && bucket_of(points[j].0) == bucket {
            if points[j].1 < points[lo].1 {
                lo = j;
            }
            if points[j].1 > points[hi].1 {
                hi = j;
            }
            j += 1;
        }
        let (a, b) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push(points[a]);
        if b != a {
            out.push(points[b]);
        }
        i = j;
    }
    out.push(points[last]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsample_keeps_ends_spikes_and_bounds_the_size() {
        let mut points: Vec<(f64, f64)> = (0..10_000).map(|i| (f64::from(i), f64::from(i % 7))).collect();
        points[5_000].1 = 1_000.0;
        let reduced = downsample(&points, 100);
        assert!(reduced.len() <= 2 * 100 + 2, "{}", reduced.len());
        assert_eq!(reduced.first(), points.first());
        assert_eq!(reduced.last(), points.last());
        assert!(reduced.contains(&(5_000.0, 1_000.0)));
        assert!(reduced.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn downsample_leaves_short_series_alone() {
        let points = vec![(0.0, 1.0), (1.0, 2.0), (2.0, 0.5)];
        assert_eq!(downsample(&points, 100), points);
    }

    #[test]
    fn summary_has_nearest_rank_p90() {
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        let s = Summary::of(&values).unwrap();
        assert_eq!((s.min, s.max, s.p90, s.samples), (1.0, 10.0, 9.0, 10));
        assert!((s.mean - 5.5).abs() < 1e-12);
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn summary_filters_select_processes_by_prefix_or_name() {
        assert!(filter_selects("lsass", "lsass.exe"));
        assert!(filter_selects("LSASS.EXE", "lsass.exe"));
        assert!(!filter_selects("ls", "lsass.exe"));
        assert!(!filter_selects("svchost", "lsass.exe"));
    }
}
