//! Who holds the leaked objects (ANALYSIS.md §5): a chain of shares of growth over the boot under analysis.
//!
//! 1. Tag -> kernel object type, from [`crate::parse::pooltag::object_type_for_tag`] (a tag with no object type
//!    is a driver's own allocation: no handle attribution).
//! 2. Object type -> process: each process's growth of handles of that type between its first and last dump in
//!    the boot (`-a`/`-p` dumps, or `-s -p` summaries), as a share of the type's system-wide growth over the
//!    same interval (from `-s` summaries nearest to the two dumps; without them, of the growth of every
//!    dumped process). A process is (image, pid) within one boot, so a pid reused after a reboot is another.
//! 3. Process -> account: the account whose Token handles (`DOMAIN\user:luid` names) carry most of that
//!    process's growth, and its share.
//! 4. Strength: how many dumps over how many hours, and how the handle rate compares with the tag's
//!    outstanding allocations per hour.
//!
//! With a single dump in the boot there is no growth to share out; the row then says what the process held at
//! that dump (`held_share`), which is still evidence for a boot where the leak has just come back.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::boots::{hours_between, BootSpan};
use super::stats;
use crate::frame::{HandleCount, SYSTEM_PROCESS};
use crate::parse::pooltag::object_type_for_tag;

/// [`Attribution::share_of`] when the type's growth comes from system-wide `-s` summaries.
pub const SYSTEM_WIDE: &str = "system-wide summaries";

/// A system-wide summary counts as taken "at" a dump when it is this close to it, in hours.
const SUMMARY_TOLERANCE_HOURS: f64 = 2.0;

/// Who holds the objects a suspect tag allocates, over one boot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// Host.
    pub host: String,
    /// Boot.
    pub boot: u32,
    /// Pool tag of the suspect.
    pub tag: String,
    /// Kernel object type the tag allocates (`Token` for `Toke`).
    pub object_type: String,
    /// Process image name (`lsass.exe`), or the `-p` filter text of per-process summaries.
    pub process: String,
    /// Process id, when the source names it (`-a`/`-p` dumps).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pid: Option<u32>,
    /// First and last dump of the process in the boot (equal with one dump).
    pub from: DateTime<Utc>,
    /// Last dump of the process in the boot.
    pub to: DateTime<Utc>,
    /// Dumps (or per-process summaries) of the process in the boot.
    pub dumps: usize,
    /// Handles of the type the process held at its first and its last dump.
    pub handles: [u64; 2],
    /// Growth of the process's handles of the type, per hour (`None` with one dump: no growth measurable).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub handles_per_hour: Option<f64>,
    /// System-wide growth of handles of the type over the same interval, per hour, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub type_handles_per_hour: Option<f64>,
    /// The process's share of the type's growth (0..1).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub share_of_growth: Option<f64>,
    /// What the type's growth was measured from (`system-wide summaries` or `the dumped processes`).
    pub share_of: String,
    /// With one dump: the process's share of the type's system-wide handles at that dump (0..1).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub held_share: Option<f64>,
    /// The account whose handles of the type carry most of the process's growth (or, with one dump, most of
    /// its handles), from Token handle names.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account: Option<String>,
    /// That account's share of the process's growth (or of its handles, with one dump), 0..1.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account_share: Option<f64>,
    /// The tag's outstanding allocations per hour, for comparison with `handles_per_hour`.
    pub tag_outstanding_per_hour: f64,
    /// How strong the evidence is, in words (`3 dumps over 42.0 h`).
    pub strength: String,
}

/// One process's handles of one type over the boot: time -> (total, per account).
#[derive(Debug, Default)]
struct ProcessSeries {
    points: BTreeMap<DateTime<Utc>, (u64, BTreeMap<String, u64>)>,
}

/// One process's series with its growth per hour (`None`: one dump, or times too close for a rate).
struct Candidate<'a> {
    key: &'a (String, Option<u32>),
    series: &'a ProcessSeries,
    per_hour: Option<f64>,
}

/// The suspect to attribute: its tag and how fast its outstanding allocations grow.
#[derive(Debug, Clone, Copy)]
pub struct SuspectTag<'a> {
    /// Pool tag.
    pub tag: &'a str,
    /// Theil-Sen slope of outstanding allocations, per hour.
    pub outstanding_per_hour: f64,
}

/// Growth per hour of a series: Theil-Sen with three points or more, else the difference of the two.
fn growth_per_hour(points: &[(f64, f64)]) -> Option<f64> {
    let (first, last) = (points.first()?, points.last()?);
    if last.0 - first.0 <= 1.0 / 60.0 {
        // Less than a minute apart (or collapsed times): no rate.
        return None;
    }
    if points.len() >= 3 {
        let (t, y): (Vec<f64>, Vec<f64>) = points.iter().copied().unzip();
        stats::theil_sen(&t, &y).map(|f| f.slope)
    } else {
        Some((last.1 - first.1) / (last.0 - first.0))
    }
}

/// The value of a time series nearest to `at`, within [`SUMMARY_TOLERANCE_HOURS`].
fn nearest(series: &BTreeMap<DateTime<Utc>, u64>, at: DateTime<Utc>) -> Option<(DateTime<Utc>, u64)> {
    series
        .iter()
        .map(|(t, v)| (*t, *v))
        .min_by(|a, b| hours_between(a.0, at).abs().total_cmp(&hours_between(b.0, at).abs()))
        .filter(|(t, _)| hours_between(*t, at).abs() <= SUMMARY_TOLERANCE_HOURS)
}

/// "3 dumps over 42.0 h".
fn strength_text(dumps: usize, hours: f64, summaries: usize) -> String {
    let dumps_text = if dumps == 1 { "1 dump".to_owned() } else { format!("{dumps} dumps over {hours:.1} h") };
    match summaries {
        0 => dumps_text,
        1 => format!("{dumps_text}; 1 system-wide summary"),
        n => format!("{dumps_text}; {n} system-wide summaries"),
    }
}

/// The attribution of one suspect tag over one boot, from the host's handle counts; `None` when the tag
/// allocates no known object type or no process's handles of the type were captured in the boot.
pub fn attribute(host: &str, boot: &BootSpan, suspect: SuspectTag<'_>, counts: &[HandleCount]) -> Option<Attribution> {
    let object_type = object_type_for_tag(suspect.tag)?;
    let of_type = |c: &&HandleCount| c.handle_type.eq_ignore_ascii_case(object_type);
    let mut processes: BTreeMap<(String, Option<u32>), ProcessSeries> = BTreeMap::new();
    let mut system: BTreeMap<DateTime<Utc>, u64> = BTreeMap::new();
    for c in counts.iter().filter(of_type) {
        let Some(t) = c.time.filter(|t| boot.contains(*t)) else { continue };
        if c.process == SYSTEM_PROCESS && c.pid.is_none() {
            *system.entry(t).or_default() += c.count;
            continue;
        }
        let point = processes.entry((c.process.clone(), c.pid)).or_default().points.entry(t).or_default();
        point.0 += c.count;
        if let Some(account) = &c.account {
            *point.1.entry(account.clone()).or_default() += c.count;
        }
    }
    // Each process's growth (or, with one dump, its level).
    let candidates: Vec<Candidate<'_>> = processes
        .iter()
        .map(|(key, series)| {
            let points: Vec<(f64, f64)> =
                series.points.iter().map(|(t, (n, _))| (hours_between(boot.start, *t), *n as f64)).collect();
            Candidate { key, series, per_hour: growth_per_hour(&points) }
        })
        .collect();
    let growing = candidates
        .iter()
        .filter(|c| c.per_hour.is_some_and(|r| r > 0.0))
        .max_by(|a, b| a.per_hour.unwrap_or(0.0).total_cmp(&b.per_hour.unwrap_or(0.0)).then_with(|| b.key.cmp(a.key)));
    // Without growth anywhere, the process holding most handles at its last dump.
    let last_count = |c: &Candidate<'_>| c.series.points.values().next_back().map_or(0, |p| p.0);
    let chosen = growing.or_else(|| {
        candidates
            .iter()
            .filter(|c| c.per_hour.is_none())
            .max_by(|a, b| last_count(a).cmp(&last_count(b)).then_with(|| b.key.cmp(a.key)))
    })?;
    let (first_t, first) = chosen.series.points.iter().next()?;
    let (last_t, last) = chosen.series.points.iter().next_back()?;
    let hours = hours_between(*first_t, *last_t);
    let dumps = chosen.series.points.len();
    let margin = chrono::Duration::minutes((SUMMARY_TOLERANCE_HOURS * 60.0) as i64);
    let summaries = system.range(*first_t - margin..=*last_t + margin).count();
    let mut row = Attribution {
        host: host.to_owned(),
        boot: boot.boot,
        tag: suspect.tag.to_owned(),
        object_type: object_type.to_owned(),
        process: chosen.key.0.clone(),
        pid: chosen.key.1,
        from: *first_t,
        to: *last_t,
        dumps,
        handles: [first.0, last.0],
        handles_per_hour: chosen.per_hour,
        type_handles_per_hour: None,
        share_of_growth: None,
        share_of: String::new(),
        held_share: None,
        account: None,
        account_share: None,
        tag_outstanding_per_hour: suspect.outstanding_per_hour,
        strength: strength_text(dumps, hours, summaries),
    };
    if let Some(rate) = chosen.per_hour.filter(|r| *r > 0.0) {
        let system_rate = nearest(&system, *first_t)
            .zip(nearest(&system, *last_t))
            .filter(|(a, b)| hours_between(a.0, b.0) > 0.0)
            .map(|(a, b)| (b.1 as f64 - a.1 as f64) / hours_between(a.0, b.0));
        match system_rate {
            Some(total) if total > 0.0 => {
                row.type_handles_per_hour = Some(total);
                row.share_of_growth = Some((rate / total).clamp(0.0, 1.0));
                SYSTEM_WIDE.clone_into(&mut row.share_of);
            }
            // One dumped process and no summary: it is all that was looked at, so its share says nothing.
            _ if candidates.len() == 1 => "only this process was dumped".clone_into(&mut row.share_of),
            _ => {
                let total: f64 = candidates.iter().filter_map(|c| c.per_hour).filter(|r| *r > 0.0).sum();
                row.type_handles_per_hour = Some(total);
                row.share_of_growth = Some((rate / total).clamp(0.0, 1.0));
                row.share_of = format!("the {} dumped processes", candidates.len());
            }
        }
        // The account that carries the growth between the first and the last dump.
        let grown = last.0 as f64 - first.0 as f64;
        let best = last
            .1
            .iter()
            .map(|(account, n)| (account, *n as f64 - first.1.get(account).copied().unwrap_or(0) as f64))
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)));
        if let Some((account, delta)) = best.filter(|(_, d)| *d > 0.0 && grown > 0.0) {
            row.account = Some(account.clone());
            row.account_share = Some((delta / grown).clamp(0.0, 1.0));
        }
    } else {
        "handles held at the dump".clone_into(&mut row.share_of);
        if let Some((_, total)) = nearest(&system, *last_t).filter(|(_, n)| *n > 0) {
            row.held_share = Some((last.0 as f64 / total as f64).clamp(0.0, 1.0));
        }
        if let Some((account, n)) = last.1.iter().max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0))) {
            if last.0 > 0 {
                row.account = Some(account.clone());
                row.account_share = Some(*n as f64 / last.0 as f64);
            }
        }
    }
    Some(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 5, 18, 20, 0, 0).unwrap()
    }

    fn boot(hours: i64) -> BootSpan {
        BootSpan {
            boot: 0,
            start: t0(),
            end: t0() + Duration::hours(hours),
            start_evidence: String::new(),
            end_evidence: String::new(),
            snapshots: 0..0,
            fit_start: t0(),
            warmup_hours: 0.0,
            next_first_sample: None,
            next_start: None,
        }
    }

    fn row(h: i64, process: &str, pid: Option<u32>, account: Option<&str>, count: u64) -> HandleCount {
        HandleCount {
            host: "h".into(),
            time: Some(t0() + Duration::hours(h)),
            process: process.into(),
            pid,
            handle_type: "Token".into(),
            account: account.map(str::to_owned),
            name_prefix: None,
            count,
            source_path: "x".into(),
            source_line: None,
        }
    }

    #[test]
    fn three_dumps_and_summaries_name_process_and_account() {
        let mut counts = Vec::new();
        for (h, n) in [(0, 10u64), (30, 13_389), (60, 26_765)] {
            counts.push(row(h, "lsass.exe", Some(528), Some("CONTOSO\\svc-scan"), n));
            counts.push(row(h, "lsass.exe", Some(528), Some("NT AUTHORITY\\SYSTEM"), 40));
            counts.push(row(h, "svchost.exe", Some(900), Some("NT AUTHORITY\\SYSTEM"), 100 + h as u64));
        }
        for h in 0..=60 {
            counts.push(row(h, SYSTEM_PROCESS, None, None, 600 + 446 * h as u64 + h as u64));
        }
        let tag = SuspectTag { tag: "Toke", outstanding_per_hour: 15_000.0 };
        let a = attribute("h", &boot(70), tag, &counts).unwrap();
        assert_eq!((a.process.as_str(), a.pid, a.dumps), ("lsass.exe", Some(528), 3));
        assert_eq!(a.handles, [50, 26_805]);
        let rate = a.handles_per_hour.unwrap();
        assert!((rate - 445.9).abs() < 1.0, "{rate}");
        let share = a.share_of_growth.unwrap();
        assert!(share > 0.99 && share <= 1.0, "{share}");
        assert_eq!(a.share_of, SYSTEM_WIDE);
        assert_eq!(a.account.as_deref(), Some("CONTOSO\\svc-scan"));
        assert!(a.account_share.unwrap() > 0.999);
        assert_eq!(a.strength, "3 dumps over 60.0 h; 61 system-wide summaries");
    }

    #[test]
    fn two_dumps_are_enough_and_share_falls_back_to_the_dumped_processes() {
        let counts = vec![
            row(0, "a.exe", Some(1), None, 100),
            row(10, "a.exe", Some(1), None, 1100),
            row(0, "b.exe", Some(2), None, 100),
            row(10, "b.exe", Some(2), None, 200),
        ];
        let a = attribute("h", &boot(20), SuspectTag { tag: "Toke", outstanding_per_hour: 100.0 }, &counts).unwrap();
        assert_eq!(a.process, "a.exe");
        assert_eq!(a.handles_per_hour, Some(100.0));
        assert!((a.share_of_growth.unwrap() - 100.0 / 110.0).abs() < 1e-9);
        assert_eq!(a.share_of, "the 2 dumped processes");
        assert_eq!(a.account, None);
    }

    #[test]
    fn a_reused_pid_in_another_boot_is_not_joined_and_one_dump_gives_a_level() {
        // Boot 0 ends at 20 h; the dump at 30 h belongs to the next boot.
        let mut b = boot(20);
        b.next_start = Some(t0() + Duration::hours(25));
        let counts = vec![
            row(10, "lsass.exe", Some(528), Some("CONTOSO\\svc-scan"), 900),
            row(30, "lsass.exe", Some(528), Some("CONTOSO\\svc-scan"), 50),
            row(10, SYSTEM_PROCESS, None, None, 1000),
        ];
        let a = attribute("h", &b, SuspectTag { tag: "Toke", outstanding_per_hour: 100.0 }, &counts).unwrap();
        assert_eq!(a.dumps, 1);
        assert_eq!(a.handles_per_hour, None);
        assert_eq!(a.held_share, Some(0.9));
        assert_eq!(a.account_share, Some(1.0));
        assert_eq!(a.strength, "1 dump; 1 system-wide summary");
    }

    #[test]
    fn collapsed_times_give_no_rate_and_driver_tags_no_row() {
        let counts = vec![row(0, "a.exe", Some(1), None, 100), row(0, "a.exe", Some(1), None, 100)];
        let a = attribute("h", &boot(5), SuspectTag { tag: "Toke", outstanding_per_hour: 1.0 }, &counts).unwrap();
        assert_eq!(a.handles_per_hour, None);
        assert!(attribute("h", &boot(5), SuspectTag { tag: "Abcd", outstanding_per_hour: 1.0 }, &counts).is_none());
    }
}
