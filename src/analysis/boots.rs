//! Splitting a host's timeline into boots (ANALYSIS.md §1).
//!
//! Reboots reset every pool counter, so every statistic is per boot. A boundary between two
//! consecutive poolmon snapshots is found from:
//! - the counters: the header's cumulative `PageFlts` dropping, or most tags' `Allocs` dropping at
//!   once (one tag's 32-bit counter wrapping drops only that tag);
//! - the event log: a boot instant (6005/6009 and Kernel-General 12 at boot, 6013's uptime subtracted
//!   from its time, 6008/41 logged at the next boot) or a shutdown (6006, Kernel-General 13, 1074)
//!   between the two snapshots.
//!
//! The counters are the stronger evidence: when both snapshots share enough tags to compare and
//! their counters kept growing, an event between them is ignored (a diagnostic says so: usually a
//! time zone mismatch between the event export and the poolmon timestamps).

use chrono::{DateTime, Duration, Utc};

use crate::model::{Diagnostic, Event, EventKind, PoolSnapshot, Severity};

/// Tags two snapshots must share before the counters can overrule the event log.
const MIN_COMMON_TAGS: usize = 10;
/// Share of shared tags whose Allocs must drop for the counters alone to mark a reboot.
const ALLOCS_DROP_SHARE: f64 = 0.5;
/// Default warm-up: this share of the boot ...
const WARMUP_SHARE: f64 = 0.10;
/// ... or this many hours, whichever is shorter (poolmon's "a few hours" to steady state, capped).
const WARMUP_MAX_HOURS: f64 = 1.0;

/// One boot of one host, with the indices of its pool snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct BootSpan {
    /// Boot number within the host, from 0.
    pub boot: u32,
    /// Boot time from the event log, or the first sample.
    pub start: DateTime<Utc>,
    /// Last sample.
    pub end: DateTime<Utc>,
    /// How the start was found.
    pub start_evidence: String,
    /// How the boot ended.
    pub end_evidence: String,
    /// Indices into the host's timed snapshots (`first..last+1`).
    pub snapshots: std::ops::Range<usize>,
    /// Start of the fitting window after warm-up.
    pub fit_start: DateTime<Utc>,
    /// Warm-up excluded, hours.
    pub warmup_hours: f64,
    /// First sample of the next boot (records up to it belong to this boot's end).
    pub next_first_sample: Option<DateTime<Utc>>,
    /// Start of the next boot (records from it on belong to the next boot).
    pub next_start: Option<DateTime<Utc>>,
}

impl BootSpan {
    /// Whether a time falls in this boot: from its start up to the next boot's start.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        t >= self.start && self.next_start.is_none_or(|n| t < n)
    }
}

/// A boot or shutdown instant read from the event log.
#[derive(Debug, Clone, PartialEq)]
struct Marker {
    at: DateTime<Utc>,
    /// Whether the instant is the boot itself (not a shutdown before it).
    is_boot: bool,
    evidence: String,
}

/// Boot and shutdown instants from the events, sorted by time.
fn markers(events: &[Event]) -> Vec<Marker> {
    let mut out: Vec<Marker> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Boot { start_time } => Some(Marker {
                at: start_time.unwrap_or(e.time),
                is_boot: true,
                evidence: format!("event {}", e.event_id),
            }),
            EventKind::Uptime { seconds } => Some(Marker {
                at: e.time - Duration::seconds(i64::try_from(*seconds).unwrap_or(i64::MAX / 2_000_000)),
                is_boot: true,
                evidence: format!("event {} uptime", e.event_id),
            }),
            EventKind::Crash { .. } => Some(Marker {
                at: e.time,
                is_boot: true,
                evidence: format!("event {} (unclean end before)", e.event_id),
            }),
            EventKind::Shutdown { .. } => {
                Some(Marker { at: e.time, is_boot: false, evidence: format!("event {} shutdown", e.event_id) })
            }
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.at.cmp(&b.at).then(b.is_boot.cmp(&a.is_boot)).then(a.evidence.cmp(&b.evidence)));
    // An unclean-end record is written after the next boot has started: 6008 and 41 within minutes of it,
    // User32 1076 when an administrator logs on and gives the reason, often hours later. Once a boot record
    // precedes it by that much, it adds nothing, and taking its own time as a reboot would contradict the
    // counters (the warning every simulated incident used to print for its 1076).
    let boot_times: Vec<DateTime<Utc>> =
        out.iter().filter(|m| m.is_boot && !m.evidence.contains("unclean")).map(|m| m.at).collect();
    out.retain(|m| {
        if !m.evidence.contains("unclean") {
            return true;
        }
        let window = if m.evidence.starts_with("event 1076") { LOGON_REASON_WINDOW } else { CRASH_RECORD_WINDOW };
        !boot_times.iter().any(|&b| b <= m.at && m.at - b <= window)
    });
    out
}

/// How long after a boot 6008 / Kernel-Power 41 are written.
const CRASH_RECORD_WINDOW: Duration = Duration::minutes(30);
/// How long after a boot the administrator's shutdown reason (User32 1076) may be written.
const LOGON_REASON_WINDOW: Duration = Duration::hours(24);

/// Whether a snapshot has outstanding counts only (`!poolused`: every row's frees 0 and allocs its diff), so its
/// Allocs are not poolmon's cumulative counter.
fn outstanding_only(s: &PoolSnapshot) -> bool {
    !s.rows.is_empty() && s.rows.iter().all(|r| r.frees == 0 && r.allocs == r.diff)
}

/// What the counters say about the step from `a` to `b`: `Some(true)` reset, `Some(false)` kept
/// growing, `None` cannot tell.
fn counters_reset(a: &PoolSnapshot, b: &PoolSnapshot) -> (Option<bool>, &'static str) {
    if let (Some(pa), Some(pb)) = (a.header.page_faults, b.header.page_faults) {
        if pb < pa {
            return (Some(true), "page faults dropped");
        }
    }
    let before: std::collections::HashMap<(&str, crate::model::PoolType), u64> =
        a.rows.iter().map(|r| ((r.tag.as_str(), r.pool), r.allocs)).collect();
    let (mut common, mut dropped) = (0usize, 0usize);
    for r in &b.rows {
        if let Some(&prev) = before.get(&(r.tag.as_str(), r.pool)) {
            common += 1;
            if r.allocs < prev {
                dropped += 1;
            }
        }
    }
    if common >= 3 && dropped as f64 >= ALLOCS_DROP_SHARE * common as f64 {
        return (Some(true), "allocs dropped");
    }
    if common >= MIN_COMMON_TAGS {
        let pf_grew = matches!((a.header.page_faults, b.header.page_faults), (Some(x), Some(y)) if y >= x);
        if pf_grew || dropped == 0 || (dropped as f64) < 0.1 * common as f64 {
            return (Some(false), "");
        }
    }
    (None, "")
}

/// The default warm-up for a boot of `span_hours`: 10% of it or 1 hour, whichever is shorter.
pub fn default_warmup_hours(span_hours: f64) -> f64 {
    (span_hours.max(0.0) * WARMUP_SHARE).min(WARMUP_MAX_HOURS)
}

/// Hours between two times.
pub fn hours_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 3_600_000.0
}

/// A time `hours` after `from`.
pub fn add_hours(from: DateTime<Utc>, hours: f64) -> DateTime<Utc> {
    if !hours.is_finite() {
        return from;
    }
    let ms = (hours * 3_600_000.0).clamp(-8.0e15, 8.0e15) as i64;
    from.checked_add_signed(Duration::milliseconds(ms)).unwrap_or(from)
}

/// Splits a host's snapshots (sorted by time, all with a time) into boots. `warmup_hours` is the
/// user's `--warmup`, `None` for the default rule. `restarts` are restarts another record shows (perfmon:
/// lsass.exe's process id changed), each as the time of the first sample after it; they count like counter
/// resets (perfmon totals have no cumulative counter to reset).
pub fn split_boots(
    host: &str,
    snaps: &[&PoolSnapshot],
    times: &[DateTime<Utc>],
    events: &[Event],
    restarts: &[DateTime<Utc>],
    warmup_hours: Option<f64>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<BootSpan> {
    if snaps.is_empty() {
        return Vec::new();
    }
    let marks = markers(events);
    // Boundaries: (index of the first snapshot of the new boot, start time, evidence).
    let mut starts: Vec<(usize, DateTime<Utc>, String)> = Vec::new();
    let first_marker = marks.iter().rev().find(|m| m.is_boot && m.at <= times[0]);
    starts.push(match first_marker {
        Some(m) => (0, m.at, m.evidence.clone()),
        None => (0, times[0], "first sample".to_owned()),
    });
    // Boot records the counters contradict, and counter resets no record explains: a whole number of hours
    // between them says the two sources were read in different zones.
    let mut lone_records: Vec<DateTime<Utc>> = Vec::new();
    let mut lone_resets: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    let mut last_cumulative = (!outstanding_only(snaps[0])).then_some(0);
    for i in 1..snaps.len() {
        let between: Vec<&Marker> = marks.iter().filter(|m| m.at > times[i - 1] && m.at <= times[i]).collect();
        // A debugger `!poolused` snapshot holds outstanding counts only (allocs = diff, no frees): compared with
        // poolmon's cumulative Allocs it would look like a reset. It is compared with nothing; the snapshot
        // after it is compared with the last cumulative one.
        let (mut reset, mut why) = match (last_cumulative, outstanding_only(snaps[i])) {
            (Some(prev), false) => counters_reset(snaps[prev], snaps[i]),
            _ => (None, ""),
        };
        if !outstanding_only(snaps[i]) {
            last_cumulative = Some(i);
        }
        if reset.is_none() && restarts.iter().any(|r| *r > times[i - 1] && *r <= times[i]) {
            (reset, why) = (Some(true), "lsass.exe's process id changed (perfmon)");
        }
        let boot_marker = between.iter().find(|m| m.is_boot).or(between.first());
        match (reset, boot_marker) {
            (Some(true), Some(m)) => {
                let at = if m.is_boot { m.at } else { times[i] };
                starts.push((i, at, format!("{}; {why}", m.evidence)));
            }
            (Some(true), None) => {
                lone_resets.push((times[i - 1], times[i]));
                starts.push((i, times[i], why.to_owned()));
            }
            (None, Some(m)) => starts.push((i, if m.is_boot { m.at } else { times[i] }, m.evidence.clone())),
            (Some(false), Some(m)) => {
                if m.is_boot {
                    lone_records.push(m.at);
                }
                diagnostics.push(Diagnostic::for_file(
                    "",
                    Severity::Warning,
                    format!(
                        "{host}: {} at {} lies between two snapshots whose counters kept growing; not taken as a \
                     reboot (do the event and poolmon times use the same time zone? see --tz)",
                        m.evidence,
                        m.at.format("%Y-%m-%d %H:%M:%S UTC")
                    ),
                ));
            }
            (_, None) => {}
        }
    }
    if let Some(hint) = zone_hint(host, &lone_records, &lone_resets) {
        diagnostics.push(hint);
    }
    let mut boots = Vec::with_capacity(starts.len());
    for (b, (first, start, evidence)) in starts.iter().enumerate() {
        let last = starts.get(b + 1).map_or(snaps.len(), |s| s.0);
        let end = times[last - 1];
        let next_first_sample = (last < snaps.len()).then(|| times[last]);
        let next_start = starts.get(b + 1).map(|s| s.1);
        let span = hours_between(*start, end);
        let warmup = warmup_hours.unwrap_or_else(|| default_warmup_hours(span));
        let mut fit_start = add_hours(*start, warmup).max(times[*first]);
        // Keep at least three samples to fit.
        let in_fit = times[*first..last].iter().filter(|t| **t >= fit_start).count();
        if in_fit < 3 {
            fit_start = times[*first];
        }
        boots.push(BootSpan {
            boot: b as u32,
            start: *start,
            end,
            start_evidence: evidence.clone(),
            end_evidence: String::new(),
            snapshots: *first..last,
            fit_start,
            warmup_hours: warmup,
            next_first_sample,
            next_start,
        });
    }
    for boot in &mut boots {
        boot.end_evidence = end_evidence(boot, events);
    }
    boots
}

/// The instants at which a boot may have ended or begun, sorted: every boot and shutdown record (as
/// [`split_boots`] reads them) and the perfmon `restarts`. A sample is before such an instant or after it;
/// [`owns`] keeps samples outside the poolmon snapshots from crossing one.
pub fn boundaries(events: &[Event], restarts: &[DateTime<Utc>]) -> Vec<DateTime<Utc>> {
    let mut out: Vec<DateTime<Utc>> =
        markers(events).into_iter().map(|m| m.at).chain(restarts.iter().copied()).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether a sample at `t` taken outside the poolmon snapshots (a perfmon row) belongs to `boot`, whose first
/// snapshot was at `first` (`boundaries` sorted, as [`boundaries`] gives them). Between its snapshots, whenever [`BootSpan::contains`] says so. Before the first
/// snapshot, when no boundary lies between the sample and it. After the last, when no boundary lies between it
/// and the sample, and, if a boot follows, one lies between the sample and the next boot's first snapshot: a
/// reboot whose instant no record gives (a counter reset alone) could be anywhere in that stretch, and the new
/// boot's low totals would read as a drop.
pub fn owns(boot: &BootSpan, first: DateTime<Utc>, t: DateTime<Utc>, boundaries: &[DateTime<Utc>]) -> bool {
    // `boundaries` is sorted: the first one after `from` tells (a perfmon log holds a sample every few seconds).
    let any_in = |from: DateTime<Utc>, to: DateTime<Utc>| {
        boundaries.get(boundaries.partition_point(|b| *b <= from)).is_some_and(|b| *b <= to)
    };
    if !boot.contains(t) {
        return false;
    }
    if t < first {
        return !any_in(t, first);
    }
    if t > boot.end {
        // A boundary at `t` itself puts the sample in the next boot: a restart is dated by the first sample after
        // it, a boot record by the instant the boot began.
        return !any_in(boot.end, t) && boot.next_first_sample.is_none_or(|n| any_in(t, n));
    }
    true
}

/// Largest zone offset looked for, in hours (UTC-12 to UTC+14).
const MAX_ZONE_HOURS: i64 = 14;

/// When every counter reset that no boot record explains sits the same whole number of hours after a boot
/// record that the counters contradict, the poolmon times were read in another zone than the events (UTC
/// records, local stamps read as UTC without `--tz`): a warning that names the `--tz` offset that reconciles
/// them.
fn zone_hint(host: &str, records: &[DateTime<Utc>], resets: &[(DateTime<Utc>, DateTime<Utc>)]) -> Option<Diagnostic> {
    if records.is_empty() || resets.is_empty() {
        return None;
    }
    let fits = |k: i64| {
        resets.iter().all(|(before, after)| {
            records.iter().any(|r| {
                let shifted = *r + Duration::hours(k);
                shifted > *before && shifted <= *after
            })
        })
    };
    let offsets: Vec<i64> = (-MAX_ZONE_HOURS..=MAX_ZONE_HOURS).filter(|k| *k != 0 && fits(*k)).collect();
    // Samples hours apart fit several offsets: only a single one is worth naming.
    let [k] = offsets[..] else { return None };
    let sign = if k > 0 { '+' } else { '-' };
    // IANA's Etc/GMT zones count the other way (Etc/GMT-2 is UTC+02:00).
    let etc = format!("Etc/GMT{}{}", if k > 0 { '-' } else { '+' }, k.abs());
    Some(Diagnostic::for_file(
        "",
        Severity::Warning,
        format!(
            "{host}: the poolmon reboots lie {k:+} h from the boot records ({} reboot(s)): the poolmon times look \
             like local time at UTC{sign}{:02}:00 read as UTC; --tz with the machine's zone (for example {etc}, or its \
             Windows name as `tzutil /g` prints it) would reconcile them",
            resets.len(),
            k.abs()
        ),
    ))
}

/// Whether a boot ended in exhaustion or a hang: a 2004 or 2019/2020 inside it, or a 41/6008 (unclean end)
/// logged after its last sample. Such a boot is the post-mortem's subject.
pub fn died(boot: &BootSpan, events: &[Event]) -> bool {
    let inside = |e: &Event| {
        matches!(e.kind, EventKind::ResourceExhaustion(_) | EventKind::PoolEmpty { .. }) && boot.contains(e.time)
    };
    let after = |e: &Event| e.time > boot.end && boot.next_first_sample.is_none_or(|n| e.time <= n);
    events.iter().any(|e| inside(e) || (after(e) && matches!(e.kind, EventKind::Crash { .. })))
}

/// How a boot ended: a 2004 inside it, a 6008/41 logged after its last sample (at the next boot), a
/// clean shutdown, or still running.
pub fn end_evidence(boot: &BootSpan, events: &[Event]) -> String {
    let mut parts = Vec::new();
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    if let Some(e) = events.iter().find(|e| matches!(e.kind, EventKind::ResourceExhaustion(_)) && boot.contains(e.time))
    {
        parts.push(format!("{} at {}", e.event_id, fmt(e.time)));
    }
    if let Some(e) = events.iter().find(|e| matches!(e.kind, EventKind::PoolEmpty { .. }) && boot.contains(e.time)) {
        parts.push(format!("{} (pool empty) at {}", e.event_id, fmt(e.time)));
    }
    let after = |e: &&Event| e.time > boot.end && boot.next_first_sample.is_none_or(|n| e.time <= n);
    if let Some(e) = events.iter().filter(after).find(|e| matches!(e.kind, EventKind::Crash { .. })) {
        let detail = match &e.kind {
            EventKind::Crash { previous_shutdown_at: Some(at), .. } => format!(" (went down at {})", fmt(*at)),
            EventKind::Crash { bugcheck_code: Some(code), .. } => format!(" (bugcheck 0x{code:x})"),
            _ => String::new(),
        };
        parts.push(format!("{} after{detail}", e.event_id));
    } else if let Some(e) = events.iter().filter(after).find(|e| matches!(e.kind, EventKind::Shutdown { .. })) {
        parts.push(format!("clean shutdown ({}) at {}", e.event_id, fmt(e.time)));
    }
    if parts.is_empty() {
        parts.push(if boot.next_first_sample.is_some() { "reboot".to_owned() } else { "still running".to_owned() });
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PoolHeader, PoolRow, PoolType, SourceRef, TimeSource};
    use chrono::TimeZone;

    fn snap(at: DateTime<Utc>, allocs: u64, page_faults: Option<u64>) -> PoolSnapshot {
        let rows = (0..12)
            .map(|i| PoolRow {
                tag: format!("T{i:03}").into(),
                pool: PoolType::Paged,
                allocs: allocs + i,
                frees: allocs / 2,
                diff: allocs - allocs / 2 + i,
                bytes: 1000,
                per_alloc: 10,
                driver: None,
            })
            .collect();
        PoolSnapshot {
            source: SourceRef::line("p.log", 1),
            host: None,
            taken_at: Some(at),
            time_source: TimeSource::TimestampLine,
            header: PoolHeader { page_faults, ..PoolHeader::default() },
            rows,
        }
    }

    fn event(at: DateTime<Utc>, id: u32, kind: EventKind) -> Event {
        Event {
            source: SourceRef::line("e.xml", 1),
            provider: "EventLog".into(),
            event_id: id,
            level: None,
            time: at,
            computer: None,
            channel: None,
            record_id: None,
            data: crate::model::event::EventData::new(),
            message: None,
            kind,
        }
    }

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 5, 22, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    fn split(snaps: &[PoolSnapshot], events: &[Event]) -> (Vec<BootSpan>, Vec<Diagnostic>) {
        let refs: Vec<&PoolSnapshot> = snaps.iter().collect();
        let times: Vec<_> = snaps.iter().map(|s| s.taken_at.unwrap()).collect();
        let mut diags = Vec::new();
        (split_boots("web1", &refs, &times, events, &[], None, &mut diags), diags)
    }

    #[test]
    fn samples_after_the_last_snapshot_stay_in_the_boot_until_a_boundary() {
        // Boot 0: snapshots 0..=9 h; boot 1 from a reset at 20 h whose instant a record gives (6005 at 15 h).
        let snaps: Vec<_> =
            (0..10).chain(20..25).map(|h| snap(t(h), if h < 10 { 1000 + 100 * h as u64 } else { 10 }, None)).collect();
        let events = vec![event(t(15), 6005, EventKind::Boot { start_time: None })];
        let (boots, _) = split(&snaps, &events);
        assert_eq!(boots.len(), 2);
        let bounds = boundaries(&events, &[]);
        let owner = |t: DateTime<Utc>| {
            boots.iter().find(|b| owns(b, snaps[b.snapshots.start].taken_at.unwrap(), t, &bounds)).map(|b| b.boot)
        };
        assert_eq!(owner(t(5) + Duration::minutes(30)), Some(0));
        assert_eq!(owner(t(14)), Some(0));
        // Boot 1 began at 15 h, before its first snapshot at 20 h.
        assert_eq!(owner(t(15)), Some(1));
        assert_eq!(owner(t(16)), Some(1));
        assert_eq!(owner(t(30)), Some(1));
        // Without the record the reboot could be anywhere between 9 h and 20 h: no sample there is boot 0's.
        let (boots, _) = split(&snaps, &[]);
        let owner = |t: DateTime<Utc>| {
            boots.iter().find(|b| owns(b, snaps[b.snapshots.start].taken_at.unwrap(), t, &[])).map(|b| b.boot)
        };
        assert_eq!((owner(t(14)), owner(t(19))), (None, None));
        // A perfmon restart after the last boot's last snapshot ends its samples.
        let restart = [t(27)];
        let last = &boots[1];
        let first = snaps[last.snapshots.start].taken_at.unwrap();
        assert!(owns(last, first, t(26), &restart) && !owns(last, first, t(27), &restart));
    }

    #[test]
    fn allocs_dropping_at_once_starts_a_boot() {
        let snaps: Vec<_> =
            (0..20).map(|h| snap(t(h), if h < 10 { 1000 + 100 * h as u64 } else { 10 }, None)).collect();
        let (boots, _) = split(&snaps, &[]);
        assert_eq!(boots.len(), 2);
        assert_eq!(boots[1].snapshots, 10..20);
        assert_eq!(boots[1].start_evidence, "allocs dropped");
        assert_eq!(boots[0].end_evidence, "reboot");
        assert_eq!(boots[1].end_evidence, "still running");
    }

    #[test]
    fn page_faults_dropping_starts_a_boot() {
        let snaps: Vec<_> =
            (0..6).map(|h| snap(t(h), 1000 + h as u64, Some(if h < 3 { 500 + h as u64 } else { 1 }))).collect();
        let (boots, _) = split(&snaps, &[]);
        assert_eq!(boots.len(), 2);
        assert_eq!(boots[1].start_evidence, "page faults dropped");
    }

    #[test]
    fn boot_event_gives_the_start_and_crash_event_the_end() {
        let snaps: Vec<_> =
            (1..=20).map(|h| snap(t(h), if h <= 10 { 1000 + h as u64 } else { 5 + h as u64 }, None)).collect();
        let events = vec![
            event(t(0), 6005, EventKind::Boot { start_time: None }),
            event(
                t(10) + Duration::minutes(30),
                6008,
                EventKind::Crash {
                    previous_shutdown: None,
                    previous_shutdown_at: Some(t(10)),
                    bugcheck_code: None,
                    reason: None,
                    user: None,
                },
            ),
        ];
        let (boots, _) = split(&snaps, &events);
        assert_eq!(boots.len(), 2);
        assert_eq!(boots[0].start, t(0));
        assert_eq!(boots[0].start_evidence, "event 6005");
        assert!(
            boots[0].end_evidence.starts_with("6008 after (went down at 2020-05-22 10:00"),
            "{}",
            boots[0].end_evidence
        );
        assert_eq!(boots[1].start, t(10) + Duration::minutes(30));
        assert!(boots[1].start_evidence.contains("6008") && boots[1].start_evidence.contains("allocs dropped"));
    }

    #[test]
    fn event_contradicted_by_growing_counters_is_ignored_with_a_warning() {
        let snaps: Vec<_> = (0..10).map(|h| snap(t(h), 1000 + 10 * h as u64, Some(100 + h as u64))).collect();
        let events = vec![event(t(4) + Duration::minutes(5), 6005, EventKind::Boot { start_time: None })];
        let (boots, diags) = split(&snaps, &events);
        assert_eq!(boots.len(), 1);
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.contains("time zone"), "{}", diags[0].message);
    }

    #[test]
    fn boot_records_hours_off_the_counter_resets_name_the_tz_that_reconciles_them() {
        // Counters reset between 10:00 and 10:20 (poolmon stamps local at UTC+2 read as UTC); the boot record
        // says 08:10 UTC.
        let at = |m: i64| t(0) + Duration::minutes(m);
        let snaps: Vec<_> =
            (0..60).map(|i| snap(at(i * 20), if i < 31 { 1000 + 10 * i as u64 } else { 5 }, None)).collect();
        let events = vec![event(at(490), 12, EventKind::Boot { start_time: None })];
        let (boots, diags) = split(&snaps, &events);
        assert_eq!(boots.len(), 2);
        let hint = diags.iter().find(|d| d.message.contains("reconcile")).expect("a zone hint");
        assert!(hint.message.contains("+2 h") && hint.message.contains("Etc/GMT-2"), "{}", hint.message);
        // Records that match the resets give no hint.
        let events = vec![event(at(610), 12, EventKind::Boot { start_time: None })];
        let (_, diags) = split(&snaps, &events);
        assert!(!diags.iter().any(|d| d.message.contains("reconcile")), "{diags:?}");
    }

    #[test]
    fn one_wrapping_counter_is_not_a_reboot() {
        let mut snaps: Vec<_> = (0..4).map(|h| snap(t(h), 1000 + 10 * h as u64, None)).collect();
        snaps[3].rows[0].allocs = 3; // T000 wrapped past 2^32
        let (boots, _) = split(&snaps, &[]);
        assert_eq!(boots.len(), 1);
    }

    #[test]
    fn warmup_is_ten_percent_or_one_hour() {
        assert!((default_warmup_hours(5.0) - 0.5).abs() < 1e-12);
        assert!((default_warmup_hours(90.0) - 1.0).abs() < 1e-12);
        let snaps: Vec<_> = (0..=90).map(|h| snap(t(h), 1000 + h as u64, None)).collect();
        let (boots, _) = split(&snaps, &[]);
        assert_eq!(boots[0].fit_start, t(1));
    }

    #[test]
    fn uptime_event_dates_the_boot_before_the_first_sample() {
        // Sampling starts 48 h after boot; a 6013 logged at hour 50 says the machine has been up 50 h.
        let snaps: Vec<_> = (48..60).map(|h| snap(t(h), 1000 + h as u64, None)).collect();
        let events = vec![event(t(50), 6013, EventKind::Uptime { seconds: 50 * 3600 })];
        let (boots, _) = split(&snaps, &events);
        assert_eq!(boots.len(), 1);
        assert_eq!(boots[0].start, t(0));
        assert_eq!(boots[0].start_evidence, "event 6013 uptime");
        // The warm-up (1 h after the boot) is long over: the fit starts at the first sample.
        assert_eq!(boots[0].fit_start, t(48));
        // Without the event the boot starts at the first sample.
        let (boots, _) = split(&snaps, &[]);
        assert_eq!((boots[0].start, boots[0].start_evidence.as_str()), (t(48), "first sample"));
    }
}
