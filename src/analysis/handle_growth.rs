//! Handle counts over time (ANALYSIS.md §5): the growth of each group of handles (a process and type, an
//! account, ...) per host and per boot, first to last and by least squares.
//!
//! A series never spans a reboot: a boot starts at a boot record in the host's events (6005/6009, Kernel-General
//! 12) or where a process that lives exactly as long as the boot (lsass.exe, csrss.exe, ...) has a new pid, so
//! lsass.exe pid 528 of one boot and pid 552 of the next are two processes, and an account's Token handles are
//! counted per boot. A rate needs two distinct times at least [`MIN_RATE_MINUTES`] apart; otherwise the series
//! says why it has none.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::model::{EventKind, HandleMode, HostData};

/// Shortest span a rate per hour is given over: a handful of minutes between dumps extrapolated to an hour says
/// more about the moment than the trend.
pub const MIN_RATE_MINUTES: i64 = 5;

/// Processes that start with the boot and live until it ends: a new pid for one of them means a reboot.
const BOOT_LIFETIME: &[&str] = &["lsass.exe", "csrss.exe", "wininit.exe", "services.exe", "smss.exe"];

/// Boot records closer than this to each other are one start (12, 6009 and 6005 come together).
const SAME_BOOT_MINUTES: i64 = 10;

/// One count of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// Snapshot time.
    pub taken_at: DateTime<Utc>,
    /// Handles counted.
    pub count: u64,
}

/// A group's count over one boot of one host, and its growth.
#[derive(Debug, Clone, Serialize)]
pub struct HandleGrowth<K> {
    /// Host.
    pub host: String,
    /// Boot of the host, 0 for the earliest seen in its handle snapshots and events.
    pub boot: u32,
    /// What is counted (the caller's grouping).
    #[serde(flatten)]
    pub key: K,
    /// Counts in time order.
    pub points: Vec<Point>,
    /// First count.
    pub first: u64,
    /// Last count.
    pub last: u64,
    /// Last minus first.
    pub change: i64,
    /// Hours from the first to the last point.
    pub hours: f64,
    /// (last - first) / hours, when a rate can be given.
    pub per_hour_first_last: Option<f64>,
    /// Least-squares slope of count on time, per hour, when a rate can be given.
    pub per_hour_least_squares: Option<f64>,
    /// Why there is no rate, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_rate: Option<String>,
}

/// When the boots of a host start, as far as its events and handle snapshots tell: boot records, and the first
/// snapshot where a boot-lifetime process has a pid other than the one it had before.
pub fn boot_starts(host: &HostData) -> Vec<DateTime<Utc>> {
    let mut starts: Vec<DateTime<Utc>> = host
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Boot { start_time } => Some(start_time.unwrap_or(e.time)),
            _ => None,
        })
        .collect();
    let mut listings: Vec<_> =
        host.handle_snapshots.iter().filter(|s| s.mode != HandleMode::Summary && s.taken_at.is_some()).collect();
    listings.sort_by_key(|s| s.taken_at);
    let mut pids: BTreeMap<String, (u32, DateTime<Utc>)> = BTreeMap::new();
    for snap in listings {
        let Some(at) = snap.taken_at else { continue };
        for process in &snap.processes {
            let name = process.name.to_ascii_lowercase();
            if !BOOT_LIFETIME.contains(&name.as_str()) {
                continue;
            }
            if let Some(&(pid, seen)) = pids.get(&name) {
                // A boot record between the two snapshots already marks this reboot.
                let recorded = starts.iter().any(|s| *s > seen && *s <= at);
                if pid != process.pid && !recorded {
                    starts.push(at);
                }
            }
            pids.insert(name, (process.pid, at));
        }
    }
    starts.sort_unstable();
    starts.dedup_by(|b, a| *b - *a <= Duration::minutes(SAME_BOOT_MINUTES));
    starts
}

/// The boot a time falls in: how many boot starts lie at or before it (starts sorted).
fn boot_of(at: DateTime<Utc>, starts: &[DateTime<Utc>]) -> u32 {
    starts.partition_point(|s| *s <= at) as u32
}

/// Series per (host, boot, key) from `(host, key, time, count)` observations, fastest-growing first. `starts`
/// gives each host's boot starts ([`boot_starts`]); a host missing from it is one boot. Keys seen at only one
/// time of a boot give no series.
pub fn series<K: Ord + Clone>(
    observations: impl IntoIterator<Item = (String, K, DateTime<Utc>, u64)>,
    starts: &BTreeMap<String, Vec<DateTime<Utc>>>,
) -> Vec<HandleGrowth<K>> {
    let mut grouped: BTreeMap<(String, u32, K), Vec<Point>> = BTreeMap::new();
    for (host, key, taken_at, count) in observations {
        let boot = starts.get(&host).map_or(0, |s| boot_of(taken_at, s));
        grouped.entry((host, boot, key)).or_default().push(Point { taken_at, count });
    }
    // Boots numbered from 0 per host by order of appearance among the series, so gaps (a boot with no
    // handle snapshot) do not show.
    let mut numbering: BTreeMap<(String, u32), u32> = BTreeMap::new();
    for (host, boot, _) in grouped.keys() {
        let next = numbering.keys().filter(|(h, _)| h == host).count() as u32;
        numbering.entry((host.clone(), *boot)).or_insert(next);
    }
    let mut out: Vec<HandleGrowth<K>> = grouped
        .into_iter()
        .filter(|(_, p)| p.iter().any(|q| q.taken_at != p[0].taken_at))
        .map(|((host, boot, key), mut points)| {
            points.sort_by_key(|p| p.taken_at);
            let (first, last) = (points[0].clone(), points[points.len() - 1].clone());
            let span = last.taken_at - first.taken_at;
            let hours = span.num_milliseconds() as f64 / 3_600_000.0;
            let change = last.count as i64 - first.count as i64;
            let no_rate = (span < Duration::minutes(MIN_RATE_MINUTES)).then(|| {
                format!(
                    "its snapshots span {:.0} s: too short for a rate per hour (at least {MIN_RATE_MINUTES} min needed)",
                    span.num_milliseconds() as f64 / 1000.0
                )
            });
            let rated = no_rate.is_none();
            HandleGrowth {
                boot: numbering[&(host.clone(), boot)],
                host,
                key,
                per_hour_first_last: rated.then(|| change as f64 / hours),
                per_hour_least_squares: if rated { least_squares_per_hour(&points) } else { None },
                no_rate,
                first: first.count,
                last: last.count,
                change,
                hours,
                points,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let rate = |s: &HandleGrowth<K>| s.per_hour_least_squares.or(s.per_hour_first_last).unwrap_or(0.0);
        rate(b)
            .total_cmp(&rate(a))
            .then_with(|| a.host.cmp(&b.host))
            .then_with(|| a.boot.cmp(&b.boot))
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

/// The ordinary least-squares slope of count on time, in handles per hour; `None` when all points share one
/// time.
pub fn least_squares_per_hour(points: &[Point]) -> Option<f64> {
    let origin = points.first()?.taken_at;
    let xs: Vec<f64> = points.iter().map(|p| (p.taken_at - origin).num_milliseconds() as f64 / 3_600_000.0).collect();
    let n = xs.len() as f64;
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.count as f64).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, p) in xs.iter().zip(points) {
        sxy += (x - mean_x) * (p.count as f64 - mean_y);
        sxx += (x - mean_x) * (x - mean_x);
    }
    (sxx > 0.0).then(|| sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HandleSnapshot, ProcessHandles, SourceRef, TimeSource};

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_590_000_000 + minutes * 60, 0).unwrap()
    }

    #[test]
    fn least_squares_slope_per_hour() {
        let points: Vec<Point> = [(0, 100), (60, 110), (120, 120), (240, 140)]
            .iter()
            .map(|&(m, c)| Point { taken_at: at(m), count: c })
            .collect();
        let slope = least_squares_per_hour(&points).unwrap();
        assert!((slope - 10.0).abs() < 1e-9, "{slope}");
        let same = [Point { taken_at: at(0), count: 1 }, Point { taken_at: at(0), count: 2 }];
        assert_eq!(least_squares_per_hour(&same), None);
    }

    fn dump(minutes: i64, lsass_pid: u32) -> HandleSnapshot {
        HandleSnapshot {
            source: SourceRef::line("d.txt", 1),
            host: None,
            taken_at: Some(at(minutes)),
            time_source: TimeSource::FileName,
            tool_version: None,
            mode: HandleMode::Dump,
            process_filter: None,
            type_counts: BTreeMap::new(),
            total_handles: None,
            processes: vec![ProcessHandles {
                name: "lsass.exe".into(),
                pid: lsass_pid,
                owner: None,
                handles: Vec::new(),
            }],
        }
    }

    #[test]
    fn a_new_lsass_pid_starts_a_boot_and_splits_the_series() {
        let host = HostData {
            handle_snapshots: vec![dump(0, 528), dump(600, 528), dump(1200, 552), dump(1800, 552)],
            ..HostData::default()
        };
        let starts = boot_starts(&host);
        assert_eq!(starts, vec![at(1200)]);
        let by_host = BTreeMap::from([("H".to_owned(), starts)]);
        let obs = [(0, 10), (600, 1010), (1200, 5), (1800, 105)]
            .map(|(m, c)| ("H".to_owned(), "CONTOSO\\svc-scan".to_owned(), at(m), c));
        let series = series(obs, &by_host);
        assert_eq!(series.len(), 2);
        assert_eq!((series[0].boot, series[0].per_hour_first_last), (0, Some(100.0)));
        assert_eq!((series[1].boot, series[1].per_hour_first_last), (1, Some(10.0)));
    }

    #[test]
    fn collapsed_or_close_times_give_no_rate_and_say_why() {
        let obs = [(0, 10u64), (0, 2_000)].map(|(m, c)| ("H".to_owned(), "k", at(m), c));
        assert!(series(obs, &BTreeMap::new()).is_empty(), "one distinct time is no series");
        let close = [(0, 10u64), (2, 2_000)].map(|(m, c)| ("H".to_owned(), "k", at(m), c));
        let s = &series(close, &BTreeMap::new())[0];
        assert_eq!((s.per_hour_first_last, s.per_hour_least_squares), (None, None));
        assert!(s.no_rate.as_deref().is_some_and(|r| r.contains("120 s")), "{:?}", s.no_rate);
    }
}
