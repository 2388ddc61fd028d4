//! The post-mortem without poolmon output: what the event log (and handle.exe output, when given) supports.
//!
//! The System log alone is the most common archive after a hang. It cannot give a growth rate, but it says
//! when and what ran out (2004: commit charge against its limit, paged and nonpaged usage, the top tags, the
//! top processes with their commit and handle counts), when the pool was empty (Srv 2019/2020), how each boot
//! ended (41, 6008), and how often it happens. handle.exe output alone gives the growth of handles by process,
//! type and account. Boots come from the log's boot events (or, with handles only, one span over the dumps).

use chrono::{DateTime, Duration, Utc};

use super::attribution::{self, Attribution};
use super::block::VerdictBlock;
use super::boots::{self, BootSpan};
use super::verdict::{hours_text, time_text};
use super::Boot;
use crate::frame::HandleCount;
use crate::model::event::{ExhaustedProcess, ResourceExhaustion};
use crate::model::{Event, EventKind, PoolType};
use crate::parse::pooltag::object_type_for_tag;
use crate::units::{bytes, thousands};

/// Boot events closer than this to the previous one belong to the same start (12, 6009, 6005 come together).
const SAME_BOOT: i64 = 10;
/// A process named as the handle-leak suspect holds at least this many handles at a 2004 ...
const HANDLE_SUSPECT_MIN: u64 = 10_000;
/// ... and at least this many times the handles of the next process.
const HANDLE_SUSPECT_RATIO: f64 = 5.0;

/// Boots of a host without pool snapshots: one per boot start in the log (the first from the earliest record),
/// ending at the last record before the next start.
pub fn boots_from_records(events: &[Event], handle_times: &[DateTime<Utc>]) -> Vec<BootSpan> {
    let mut times: Vec<DateTime<Utc>> = events.iter().map(|e| e.time).chain(handle_times.iter().copied()).collect();
    times.sort_unstable();
    let Some(first) = times.first().copied() else { return Vec::new() };
    let mut starts: Vec<(DateTime<Utc>, String)> = Vec::new();
    let mut boot_events: Vec<&Event> = events.iter().filter(|e| matches!(e.kind, EventKind::Boot { .. })).collect();
    boot_events.sort_by_key(|e| e.time);
    for e in boot_events {
        let at = match e.kind {
            EventKind::Boot { start_time: Some(t) } => t,
            _ => e.time,
        };
        if starts.last().is_none_or(|(t, _)| at - *t > Duration::minutes(SAME_BOOT)) {
            starts.push((at, format!("event {}", e.event_id)));
        }
    }
    // Records before the first boot event belong to the boot the log starts in.
    if starts.first().is_none_or(|(t, _)| first < *t - Duration::minutes(SAME_BOOT)) {
        starts.insert(0, (first, "first record".to_owned()));
    }
    let mut spans = Vec::new();
    for (i, (start, evidence)) in starts.iter().enumerate() {
        let next = starts.get(i + 1).map(|(t, _)| *t);
        let end = times.iter().copied().filter(|t| *t >= *start && next.is_none_or(|n| *t < n)).max().unwrap_or(*start);
        let mut span = BootSpan {
            boot: i as u32,
            start: *start,
            end,
            start_evidence: evidence.clone(),
            end_evidence: String::new(),
            snapshots: 0..0,
            fit_start: *start,
            warmup_hours: 0.0,
            // The next boot's own records (41, 6008) are logged a minute or two after it starts.
            next_first_sample: next.map(|n| n + Duration::minutes(SAME_BOOT)),
            next_start: next,
        };
        span.end_evidence = boots::end_evidence(&span, events);
        spans.push(span);
    }
    spans
}

/// The boot rows of spans without pool samples.
pub fn boot_rows(host: &str, spans: &[BootSpan], events: &[Event]) -> Vec<Boot> {
    spans
        .iter()
        .map(|s| Boot {
            host: host.to_owned(),
            boot: s.boot,
            start: s.start,
            end: s.end,
            start_evidence: s.start_evidence.clone(),
            end_evidence: s.end_evidence.clone(),
            died: boots::died(s, events),
            pool_samples: 0,
            fit_start: s.fit_start,
            too_short: None,
        })
        .collect()
}

/// The 2004s of a boot, latest last.
fn exhaustions<'a>(span: &BootSpan, events: &'a [Event]) -> Vec<(&'a Event, &'a ResourceExhaustion)> {
    let mut out: Vec<(&Event, &ResourceExhaustion)> = events
        .iter()
        .filter(|e| span.contains(e.time))
        .filter_map(|e| match &e.kind {
            EventKind::ResourceExhaustion(r) => Some((e, r.as_ref())),
            _ => None,
        })
        .collect();
    out.sort_by_key(|(e, _)| e.time);
    out
}

/// The process a 2004 lists with far more handles than any other: the handle-leak suspect.
pub fn handle_suspect(r: &ResourceExhaustion) -> Option<(&ExhaustedProcess, Option<&ExhaustedProcess>)> {
    let mut by_handles: Vec<&ExhaustedProcess> = r.processes.iter().collect();
    by_handles.sort_by(|a, b| b.handle_count.cmp(&a.handle_count).then_with(|| a.name.cmp(&b.name)));
    let top = *by_handles.first()?;
    let next = by_handles.get(1).copied();
    let ratio = next.map_or(f64::INFINITY, |n| top.handle_count as f64 / n.handle_count.max(1) as f64);
    (top.handle_count >= HANDLE_SUSPECT_MIN && ratio >= HANDLE_SUSPECT_RATIO).then_some((top, next))
}

/// The tag a boot's handle attribution is about: the 2004's top paged tag when it allocates a kernel object.
fn tag_to_attribute(found: &[(&Event, &ResourceExhaustion)]) -> Option<String> {
    let (_, r) = found.last()?;
    r.paged_tags.iter().chain(&r.nonpaged_tags).map(|t| t.tag.clone()).find(|t| object_type_for_tag(t).is_some())
}

/// What the event log and the handle dumps support, per boot: the attributions and the verdict sentences.
pub struct RecordFindings {
    /// Attributions from handle.exe output (growth of the tag's object type, or of the fastest-growing type).
    pub attributions: Vec<Attribution>,
    /// The boot the verdict is about.
    pub subject: Option<u32>,
    /// Whether exhaustion is on record (a 2004 or 2019/2020), which drives `--fail-on leak`.
    pub exhaustion_on_record: bool,
    /// Verdict sentences.
    pub sentences: Vec<String>,
    /// The process a 2004 of the subject boot names as the handle-leak suspect.
    pub handle_suspect: Option<String>,
    /// The five-line block, without its Who line (the caller adds it from the attributions).
    pub block: VerdictBlock,
    /// The Who line from the 2004's handle-leak suspect, when there is one.
    pub who_from_2004: Option<String>,
}

/// The post-mortem of a host without pool snapshots.
pub fn findings(
    host: &str,
    spans: &[BootSpan],
    rows: &[Boot],
    events: &[Event],
    counts: &[HandleCount],
) -> RecordFindings {
    let mut attributions = Vec::new();
    for span in spans {
        let found = exhaustions(span, events);
        let tag = tag_to_attribute(&found).or_else(|| fastest_growing_tag(span, counts));
        if let Some(tag) = tag {
            let suspect = attribution::SuspectTag { tag: &tag, outstanding_per_hour: 0.0 };
            attributions.extend(attribution::attribute(host, span, suspect, counts));
        }
    }
    let subject = rows
        .iter()
        .rev()
        .find(|b| b.died)
        .or_else(|| rows.iter().rev().find(|b| attributions.iter().any(|a| a.boot == b.boot)))
        .or_else(|| rows.last())
        .map(|b| b.boot);
    let mut sentences = vec![if events.is_empty() {
        "no poolmon output and no event log, so pool growth and exhaustion were not measured; handle.exe output \
         alone says who grows"
            .to_owned()
    } else {
        "no poolmon output, so pool growth was not measured; the event log shows what ran out".to_owned()
    }];
    let mut exhaustion_on_record = false;
    let mut suspect_name = None;
    let mut block = VerdictBlock {
        what: Some("not measured: no poolmon output (a 2004's top tags would name it)".to_owned()),
        how_fast: Some("not measured: no poolmon snapshots, so no growth rate".to_owned()),
        when: Some(if events.is_empty() {
            "not on record: no event log in the archive".to_owned()
        } else {
            "not on record: no 2004 or 2019/2020 in the log".to_owned()
        }),
        who: None,
        evidence: None,
        stacks: None,
        drivers: None,
    };
    let mut who_from_2004 = None;
    if let Some(span) = subject.and_then(|b| spans.iter().find(|s| s.boot == b)) {
        let found = exhaustions(span, events);
        if let Some((e, r)) = found.last() {
            exhaustion_on_record = true;
            sentences.push(exhaustion_sentence(e, r, found.len()));
            block.what = Some(what_at_2004(r));
            block.when = Some(when_at_2004(e, r));
            if let Some((top, next)) = handle_suspect(r) {
                who_from_2004 = Some(format!(
                    "{} (pid {}) held {} handles at the 2004{}",
                    top.name,
                    top.pid,
                    thousands(top.handle_count),
                    next.map_or(String::new(), |n| format!(
                        ", {:.0}x the next process",
                        top.handle_count as f64 / n.handle_count.max(1) as f64
                    ))
                ));
                suspect_name = Some(top.name.clone());
                if !attributions.iter().any(|a| a.boot == span.boot) {
                    attributions.push(attribution_from_2004(host, span.boot, e, r, top, &found));
                }
                let next_text = next.map_or(String::new(), |n| {
                    format!(
                        ", {:.0}x the next process ({}, {})",
                        top.handle_count as f64 / n.handle_count.max(1) as f64,
                        n.name,
                        thousands(n.handle_count)
                    )
                });
                sentences.push(format!(
                    "{} (pid {}) held {} handles at the 2004{next_text}: the handle-leak suspect",
                    top.name,
                    top.pid,
                    thousands(top.handle_count)
                ));
            }
        }
        let empty: Vec<&Event> =
            events.iter().filter(|e| span.contains(e.time) && matches!(e.kind, EventKind::PoolEmpty { .. })).collect();
        if let (Some(first), Some(last)) = (empty.first(), empty.last()) {
            exhaustion_on_record = true;
            let pool = match first.kind {
                EventKind::PoolEmpty { pool: PoolType::Nonpaged } => "nonpaged",
                _ => "paged",
            };
            if block.when.as_deref().is_some_and(|w| w.starts_with("not on record")) {
                block.when = Some(format!("{pool} pool empty at {} (Srv {})", time_text(first.time), first.event_id));
            }
            sentences.push(if empty.len() == 1 {
                format!("the {pool} pool was empty (Srv {}) at {}", first.event_id, time_text(first.time))
            } else {
                format!(
                    "the {pool} pool was empty (Srv {}) {} times from {} to {}",
                    first.event_id,
                    empty.len(),
                    time_text(first.time),
                    time_text(last.time)
                )
            });
        }
        if let Some(row) = rows.iter().find(|b| b.boot == span.boot) {
            let mut evidence = super::block::evidence_line(row, rows, events, None);
            if let Some(again) = recurrence_short(rows) {
                evidence.push_str("; ");
                evidence.push_str(&again);
            }
            block.evidence = Some(evidence);
        }
        if let Some(row) = rows.iter().find(|b| b.boot == span.boot).filter(|_| !events.is_empty()) {
            sentences.push(format!(
                "boot {} ran from {} to {} and ended: {}",
                row.boot,
                time_text(row.start),
                time_text(row.end),
                row.end_evidence
            ));
        }
    }
    sentences.extend(recurrence(rows));
    RecordFindings {
        attributions,
        subject,
        exhaustion_on_record,
        sentences,
        handle_suspect: suspect_name,
        block,
        who_from_2004,
    }
}

/// What leaks, from a 2004's top paged tag: `Toke in paged pool (2.35 GiB at the 2004), Token objects`.
fn what_at_2004(r: &ResourceExhaustion) -> String {
    let Some(top) = r.paged_tags.first().or(r.nonpaged_tags.first()) else {
        return "not measured: no poolmon output, and the 2004 lists no pool tags".to_owned();
    };
    let pool = if r.paged_tags.is_empty() { "nonpaged" } else { "paged" };
    let object = object_type_for_tag(&top.tag).map_or(String::new(), |o| format!(", {o} objects"));
    format!(
        "{} in {pool} pool ({} at the 2004, its top {pool} tag){object}; growth not measured",
        top.tag.trim_end(),
        bytes(top.bytes as f64)
    )
}

/// When it ran out, from a 2004: `commit at 2020-05-22 13:44 UTC (event 2004): 4.24 GiB of its 4.25 GiB limit`.
fn when_at_2004(e: &Event, r: &ResourceExhaustion) -> String {
    let mut s = format!("commit ran out at {} (event 2004)", time_text(e.time));
    if let (Some(charge), Some(limit)) = (r.commit_charge, r.commit_limit) {
        s.push_str(&format!(": {} of its {} limit", bytes(charge as f64), bytes(limit as f64)));
    }
    s
}

/// `3 hangs in 12.0 days, about every 4.0 days`.
fn recurrence_short(rows: &[Boot]) -> Option<String> {
    let ends: Vec<DateTime<Utc>> = rows.iter().filter(|b| b.died).map(|b| b.end).collect();
    if ends.len() < 2 {
        return None;
    }
    let span_hours = boots::hours_between(ends[0], ends[ends.len() - 1]);
    Some(format!(
        "{} hangs in {}, about every {}",
        ends.len(),
        hours_text(span_hours),
        hours_text(span_hours / (ends.len() - 1) as f64)
    ))
}

/// The 2004's handle-leak suspect as an attribution, when no handle.exe output of the boot gives one: the
/// handles it held at the event (of every type: the event does not break them down) and its share of the
/// handles of the processes the event lists.
fn attribution_from_2004(
    host: &str,
    boot: u32,
    e: &Event,
    r: &ResourceExhaustion,
    top: &ExhaustedProcess,
    found: &[(&Event, &ResourceExhaustion)],
) -> Attribution {
    let tag = tag_to_attribute(found).unwrap_or_default();
    let listed: u64 = r.processes.iter().map(|p| p.handle_count).sum();
    Attribution {
        host: host.to_owned(),
        boot,
        object_type: object_type_for_tag(&tag).map_or_else(|| "(all types)".to_owned(), str::to_owned),
        tag,
        process: top.name.clone(),
        pid: Some(top.pid),
        from: e.time,
        to: e.time,
        dumps: 0,
        handles: [top.handle_count, top.handle_count],
        handles_per_hour: None,
        type_handles_per_hour: None,
        share_of_growth: None,
        share_of: "the processes event 2004 lists".to_owned(),
        held_share: (listed > 0).then(|| top.handle_count as f64 / listed as f64),
        account: None,
        account_share: None,
        tag_outstanding_per_hour: 0.0,
        strength: format!(
            "event 2004 at {} only (handles of every type; no handle.exe dumps to show the type, the growth or the \
             account)",
            time_text(e.time)
        ),
    }
}

/// "commit ran out at ... (event 2004: ...)".
fn exhaustion_sentence(e: &Event, r: &ResourceExhaustion, count: usize) -> String {
    let mut parts = Vec::new();
    if let (Some(charge), Some(limit)) = (r.commit_charge, r.commit_limit) {
        parts.push(format!("commit charge {} of its {} limit", bytes(charge as f64), bytes(limit as f64)));
    }
    match (r.paged_pool_usage, r.nonpaged_pool_usage) {
        (Some(p), Some(n)) => {
            parts.push(format!("paged pool {}, nonpaged {}", bytes(p as f64), bytes(n as f64)));
        }
        (Some(p), None) => parts.push(format!("paged pool {}", bytes(p as f64))),
        _ => {}
    }
    if !r.paged_tags.is_empty() {
        let tags: Vec<String> =
            r.paged_tags.iter().map(|t| format!("{} {}", t.tag.trim_end(), bytes(t.bytes as f64))).collect();
        let what = r
            .paged_tags
            .first()
            .and_then(|t| object_type_for_tag(&t.tag))
            .map_or(String::new(), |o| format!(" ({} is the {o} objects' tag)", r.paged_tags[0].tag.trim_end()));
        parts.push(format!("top paged tags {}{what}", tags.join(", ")));
    }
    let times = if count > 1 { format!("; {count} such events in the boot") } else { String::new() };
    format!("commit ran out at {} (event 2004: {}{times})", time_text(e.time), parts.join("; "))
}

/// "it happened N times in D days (every ~X)".
fn recurrence(rows: &[Boot]) -> Option<String> {
    let ends: Vec<DateTime<Utc>> = rows.iter().filter(|b| b.died).map(|b| b.end).collect();
    if ends.len() < 2 {
        return None;
    }
    let span_hours = boots::hours_between(ends[0], ends[ends.len() - 1]);
    Some(format!(
        "boots ended in exhaustion or a hang {} times in {}: about every {}",
        ends.len(),
        hours_text(span_hours),
        hours_text(span_hours / (ends.len() - 1) as f64)
    ))
}

/// With handle.exe output only: a tag standing for the object type whose handles grew fastest in any process.
fn fastest_growing_tag(span: &BootSpan, counts: &[HandleCount]) -> Option<String> {
    let mut best: Option<(f64, String)> = None;
    let mut types: Vec<&str> = counts.iter().map(|c| c.handle_type.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    for t in types {
        let Some(tag) = crate::parse::pooltag::tag_for_object_type(t) else { continue };
        let suspect = attribution::SuspectTag { tag, outstanding_per_hour: 0.0 };
        let rate = attribution::attribute("", span, suspect, counts).and_then(|a| a.handles_per_hour).unwrap_or(0.0);
        if rate > 0.0 && best.as_ref().is_none_or(|(r, _)| rate > *r) {
            best = Some((rate, tag.to_owned()));
        }
    }
    best.map(|(_, tag)| tag)
}

/// What to collect before the next hang, for the verdict of a host without pool snapshots.
pub fn next_collection(suspect_process: Option<&str>) -> String {
    let dumps = suspect_process.map_or_else(
        || "handle.exe -a -p <the process with most handles> every few hours".to_owned(),
        |p| format!("handle.exe -a -p {p} every few hours"),
    );
    format!(
        "to measure the rate and the time left before the next hang, collect poolmon snapshots (poolmon -b -n every \
         15 minutes), handle.exe -s hourly and {dumps}"
    )
}
