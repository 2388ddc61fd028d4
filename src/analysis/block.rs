//! The verdict in five short lines (issue 10): what leaks, how fast, when it runs out, who holds it, and what
//! the archive shows at the hang; a sixth, Stacks, when the archive holds a WPA pool trace of the leaking
//! tag (issue 13: who allocates it); and a seventh, Drivers, when the tag is a kernel object allocated for any
//! caller (issue 13: the non-Microsoft drivers to question first, [`super::drivers`]). Each line is short enough to paste into a ticket; the long explanation
//! ([`super::Verdict::text`]) follows it in every output.
//!
//! A line with nothing to say says why (`not attributed: no handle.exe dumps in the archive`) instead of
//! vanishing; a host without a leak has a one-line block.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::attribution::{Attribution, SYSTEM_WIDE};
use super::boots::hours_between;
use super::correlate::{MAX_Q, VERDICT_MIN_PAIRS};
use super::process_growth::ProcessGrowth;
use super::verdict::{hours_text, percent, time_text};
use super::{Boot, Correlation, Projection, Resource, Suspect};
use crate::model::{Event, EventKind, PoolType};
use crate::units::{bytes, rate, rate_range, thousands};

/// The labels of the lines, in order.
pub const LABELS: [&str; 7] = ["What leaks", "How fast", "When it runs out", "Who", "Evidence", "Stacks", "Drivers"];

/// The verdict as five short lines, and the Stacks line when a WPA trace holds the leaking tag. `None` only in a one-line block (no leak, or nothing measurable), where
/// [`VerdictBlock::what`] says so.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VerdictBlock {
    /// What leaks: tag, pool, object type, driver or description when known.
    #[serde(default)]
    pub what: Option<String>,
    /// How fast: the sustained rate with its 95% CI, the share of the pool's growth, bytes per allocation.
    #[serde(default)]
    pub how_fast: Option<String>,
    /// When it runs out: the resource, the date and time, the limit and where it came from, the margin.
    #[serde(default)]
    pub when: Option<String>,
    /// Who holds the leaked objects: process, handle type, account, with their shares.
    #[serde(default)]
    pub who: Option<String>,
    /// What the archive shows at the hang (2004, 2019/2020, 41/6008), projected against observed.
    #[serde(default)]
    pub evidence: Option<String>,
    /// Who allocates the leaking tag, from a WPA pool trace: its AIFO allocations, their commonest size and
    /// the first frame above the pool allocator (`AIFO 6,189 allocations of tag Toke, 6,043 of them 1,664 bytes,
    /// allocated from ntkrnlmp.exe!SepDuplicateToken`). Absent without a WPA table of the tag.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stacks: Option<String>,
    /// When the leaking tag is a kernel object allocated for any caller (`Toke`, `File`...): the loaded drivers
    /// and minifilters that are not Microsoft's, to question first (`1 of 38 loaded drivers not Microsoft's: ctxscan.sys
    /// minifilter (altitude 329420, FSFilter Anti-Virus; publisher unknown): question it first ...`), or what to
    /// collect when the archive has no driver list (issue 13). Absent for other tags.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub drivers: Option<String>,
}

impl VerdictBlock {
    /// A block of one line, for a host with no leak or nothing to measure.
    pub fn one_line(text: impl Into<String>) -> Self {
        Self { what: Some(text.into()), ..Self::default() }
    }

    /// The lines that have text, with their labels, in order.
    pub fn lines(&self) -> Vec<(&'static str, &str)> {
        [&self.what, &self.how_fast, &self.when, &self.who, &self.evidence, &self.stacks, &self.drivers]
            .into_iter()
            .zip(LABELS)
            .filter_map(|(text, label)| text.as_deref().map(|t| (label, t)))
            .collect()
    }

    /// Whether the block has no line (a verdict read from an older JSON file).
    pub fn is_empty(&self) -> bool {
        self.lines().is_empty()
    }
}

/// A limit's source without its parenthetical detail (`event 2004 PagedPoolUsage`), for a short line.
fn short_source(source: &str) -> &str {
    source.split(" (").next().unwrap_or(source).trim()
}

fn resource_name(r: Resource) -> &'static str {
    match r {
        Resource::Paged => "paged pool",
        Resource::Nonpaged => "nonpaged pool",
        Resource::Commit => "commit",
    }
}

/// `13:44` on the same UTC day as `reference`, else `05-26 12:40`.
fn time_near(at: DateTime<Utc>, reference: DateTime<Utc>) -> String {
    if at.date_naive() == reference.date_naive() {
        at.format("%H:%M").to_string()
    } else {
        at.format("%m-%d %H:%M").to_string()
    }
}

/// What leaks: `Toke in paged pool, Token objects (nt!se)`.
pub fn what_line(top: &Suspect, others: usize, object_type: Option<&str>) -> String {
    let mut parts = vec![format!("{} in {} pool", top.tag.trim_end(), top.pool)];
    match (&top.description, object_type) {
        (Some(d), _) => parts.push(d.chars().take(60).collect()),
        (None, Some(t)) => parts.push(format!("{t} objects")),
        (None, None) => {}
    }
    if let Some(d) = &top.driver {
        parts.push(format!("driver {}", d.chars().take(40).collect::<String>()));
    }
    if others > 0 {
        parts.push(format!("{others} more growing tag{}", if others == 1 { "" } else { "s" }));
    }
    parts.join(", ")
}

/// How fast: `24.8 MiB/h (95% CI 24.6-25.0 MiB/h), 100% of paged pool growth; 1,663 B per allocation (fixed size)`.
pub fn how_fast_line(top: &Suspect) -> String {
    let mut s = format!(
        "{} (95% CI {}), {} of {} pool growth",
        rate(top.bytes_per_hour),
        rate_range(top.bytes_per_hour_ci[0], top.bytes_per_hour_ci[1]),
        percent(top.share_of_growth),
        top.pool
    );
    if top.per_alloc_bytes > 0.0 {
        s.push_str(&format!("; {} B per allocation", thousands(top.per_alloc_bytes.round() as u64)));
        if top.per_alloc_stable {
            s.push_str(" (fixed size)");
        }
    }
    s
}

/// The projection a boot's verdict is about: the first resource to run out; a paged pool limit that comes
/// from commit (its headroom, or the paged pool at a 2004) gives way to commit's own projection.
pub fn first_to_run_out(boot: u32, projections: &[Projection]) -> Option<&Projection> {
    let mine: Vec<&Projection> = projections.iter().filter(|p| p.boot == boot).collect();
    let mut first =
        mine.iter().copied().filter(|p| p.exhaustion_at.is_some()).min_by_key(|p| (p.exhaustion_at, p.pool));
    if let Some(p) = first {
        if p.pool == Resource::Paged && (p.limit_source.contains("commit") || p.limit_source.contains("2004")) {
            if let Some(c) = mine.iter().find(|c| c.pool == Resource::Commit && c.exhaustion_at.is_some()) {
                first = Some(c);
            }
        }
    }
    first
}

/// When it runs out: `commit at 2020-05-22 13:51 UTC (last sample +0.2 h); limit 4.25 GiB from event 2004
/// SystemCommitLimit, 11.4 MiB left`.
pub fn when_line(boot: u32, projections: &[Projection]) -> String {
    let Some(p) = first_to_run_out(boot, projections) else {
        if let Some(p) = projections.iter().find(|p| p.boot == boot && p.observed_exhaustion_at.is_some()) {
            return format!(
                "{} ran out (no projection): {}",
                resource_name(p.pool),
                p.observed_evidence.clone().unwrap_or_default()
            );
        }
        if projections.iter().any(|p| p.boot == boot) {
            return "not projected: no pool or commit total grows toward its limit".to_owned();
        }
        return "not projected: no limit known for paged pool, nonpaged pool or commit".to_owned();
    };
    let at = p.exhaustion_at.unwrap_or(p.now_at);
    let limit = format!("limit {} from {}", bytes(p.limit_bytes as f64), short_source(&p.limit_source));
    if at <= p.now_at {
        return format!("{} at its limit at the last sample ({}); {limit}", resource_name(p.pool), time_text(p.now_at));
    }
    let margin = p.limit_bytes.saturating_sub(p.now_bytes);
    format!(
        "{} at {} (last sample +{}); {limit}, {} left",
        resource_name(p.pool),
        time_text(at),
        hours_text(hours_between(p.now_at, at)),
        bytes(margin as f64)
    )
}

/// The attribution a boot's verdict names: growth measured in the boot, else in the nearest other boot (the
/// same leak), else what the boot's single dump shows.
pub fn chosen_attribution<'a>(boot: u32, tag: &str, attributions: &'a [Attribution]) -> Option<&'a Attribution> {
    let of_tag = |a: &&Attribution| a.tag == tag;
    let mut grown: Vec<&Attribution> =
        attributions.iter().filter(of_tag).filter(|a| a.handles_per_hour.is_some()).collect();
    grown.sort_by_key(|a| (a.boot.abs_diff(boot), a.boot));
    grown.first().copied().or_else(|| attributions.iter().filter(of_tag).find(|a| a.boot == boot))
}

/// What the archive holds for the Who line.
#[derive(Debug, Clone, Copy)]
pub struct WhoInputs<'a> {
    /// The boot.
    pub boot: u32,
    /// The suspect tag.
    pub tag: &'a str,
    /// The kernel object type the tag allocates, when it allocates one.
    pub object_type: Option<&'a str>,
    /// Attributions of every boot.
    pub attributions: &'a [Attribution],
    /// Correlations of every boot.
    pub correlations: &'a [Correlation],
    /// handle.exe snapshots read for the host.
    pub handle_dumps: usize,
    /// Processes whose perfmon Handle Count grows, per boot (the fallback without handle.exe dumps).
    pub process_growth: &'a [ProcessGrowth],
}

/// The process perfmon shows growing in `boot` (else in the nearest boot), fastest first.
pub fn chosen_process_growth(boot: u32, growth: &[ProcessGrowth]) -> Option<&ProcessGrowth> {
    growth.iter().min_by_key(|g| (g.boot.abs_diff(boot), g.boot)).and_then(|nearest| {
        // The list is fastest first within a boot: the first row of the nearest boot.
        growth.iter().find(|g| g.boot == nearest.boot)
    })
}

/// Who, from perfmon: `lsass.exe (pid 624): Handle Count +431/h (perfmon, all handle types), 97% of all
/// processes' handle growth`.
pub fn perfmon_who_line(boot: u32, g: &ProcessGrowth) -> String {
    let pid = g.pid.map_or(String::new(), |p| format!(" (pid {p})"));
    let in_boot = if g.boot == boot { String::new() } else { format!(" in boot {}", g.boot) };
    let share =
        g.share_of_growth.map_or(String::new(), |s| format!(", {} of all processes' handle growth", percent(s)));
    format!(
        "{}{pid}: Handle Count +{}/h{in_boot} (perfmon, all handle types){share}",
        g.image(),
        thousands(g.handles_per_hour.round() as u64)
    )
}

/// Who: `lsass.exe (pid 528): 99% of Token handle growth (+446/h); 100% are tokens of CONTOSO\svc-scan`.
pub fn who_line(w: WhoInputs<'_>) -> String {
    let tag = w.tag.trim_end();
    let Some(object) = w.object_type else {
        return format!("not attributed: {tag} is a driver's own allocation, not an object held by handles");
    };
    let Some(a) = chosen_attribution(w.boot, w.tag, w.attributions) else {
        if w.handle_dumps == 0 {
            return match chosen_process_growth(w.boot, w.process_growth) {
                Some(g) => perfmon_who_line(w.boot, g),
                None => "not attributed: no handle.exe dumps in the archive".to_owned(),
            };
        }
        let support = w
            .correlations
            .iter()
            .filter(|c| c.boot == w.boot && c.tag == w.tag && c.invariant && c.account.is_none())
            .find(|c| c.samples >= VERDICT_MIN_PAIRS && c.q < MAX_Q);
        return match support {
            Some(c) => format!(
                "no process named; system-wide {} handles rise with {tag} (Spearman {:.2})",
                c.handle_type, c.coefficient
            ),
            None => format!("not attributed: no dumped process's {object} handles grow with {tag}"),
        };
    };
    let process = &a.process;
    let pid = a.pid.map_or(String::new(), |p| format!(" (pid {p})"));
    let in_boot = if a.boot == w.boot { String::new() } else { format!(" in boot {}", a.boot) };
    let mut s = match (a.handles_per_hour, a.share_of_growth) {
        (Some(r), Some(share)) => {
            let of = if a.share_of == SYSTEM_WIDE { String::new() } else { " of the dumped processes".to_owned() };
            format!(
                "{process}{pid}: {} of {} handle growth{of}{in_boot} (+{}/h)",
                percent(share),
                a.object_type,
                thousands(r.round() as u64)
            )
        }
        (Some(r), None) => format!(
            "{process}{pid}: +{} {} handles/h{in_boot} (share of all unknown)",
            thousands(r.max(0.0).round() as u64),
            a.object_type
        ),
        _ => {
            let held = a.held_share.map_or(String::new(), |h| format!("{} of ", percent(h)));
            // An attribution read from event 2004 (no dumps) lists the top processes at the exhaustion.
            let at = if a.dumps == 0 { "event 2004 lists" } else { "at one dump" };
            format!("{process}{pid} held {held}the {} handles {at}{in_boot}", a.object_type)
        }
    };
    if let (Some(account), Some(share)) = (&a.account, a.account_share) {
        let what = if a.object_type.eq_ignore_ascii_case("Token") { "tokens of" } else { "held for" };
        s.push_str(&format!("; {} are {what} {}", percent(share), account));
    }
    s
}

/// The events of a boot: from its start to the next boot's start (a 2004 or a 6008 comes after the last
/// sample), duplicates of one record (two exports of one log) counted once.
fn boot_events<'a>(boot: &Boot, boots: &[Boot], events: &'a [Event]) -> Vec<&'a Event> {
    let next = boots.iter().filter(|b| b.start > boot.start).map(|b| b.start).min();
    let mut out: Vec<&Event> =
        events.iter().filter(|e| e.time >= boot.start && next.is_none_or(|n| e.time < n)).collect();
    out.sort_by_key(|e| (e.time, e.event_id));
    out.dedup_by(|a, b| a.time == b.time && a.event_id == b.event_id);
    out
}

/// The first crash record of the boot after `boot` (41, 6008), which tells how `boot` ended.
fn crash_after<'a>(boot: &Boot, boots: &[Boot], events: &'a [Event]) -> Option<&'a Event> {
    let next = boots.iter().filter(|b| b.start > boot.start).min_by_key(|b| b.start)?;
    let window_end = next.start + chrono::Duration::minutes(30);
    events
        .iter()
        .filter(|e| e.time > boot.end && e.time <= window_end)
        .find(|e| matches!(e.kind, EventKind::Crash { .. }))
}

/// Evidence: `2004 at 2020-05-22 13:44 UTC (projected 13:51, 0.1 h later); 2020 (paged pool empty) x4 from
/// 11:21; then 41 (bugcheck 0x0)`.
pub fn evidence_line(boot: &Boot, boots: &[Boot], events: &[Event], projection: Option<&Projection>) -> String {
    let mine = boot_events(boot, boots, events);
    let mut parts = Vec::new();
    let mut anchor: Option<DateTime<Utc>> = None;
    let exhaustions: Vec<&&Event> =
        mine.iter().filter(|e| matches!(e.kind, EventKind::ResourceExhaustion(_))).collect();
    if let Some(e) = exhaustions.first() {
        let times = if exhaustions.len() > 1 { format!(" x{}", exhaustions.len()) } else { String::new() };
        let mut s = format!("{}{times} at {}", e.event_id, time_text(e.time));
        if let Some(at) = projection.and_then(|p| p.exhaustion_at) {
            let error = hours_between(e.time, at);
            s.push_str(&format!(
                " (projected {}, {} {})",
                time_near(at, e.time),
                hours_text(error.abs()),
                if error >= 0.0 { "later" } else { "earlier" }
            ));
        }
        anchor = Some(e.time);
        parts.push(s);
    }
    let empty: Vec<&&Event> = mine.iter().filter(|e| matches!(e.kind, EventKind::PoolEmpty { .. })).collect();
    if let Some(first) = empty.first() {
        let pool = match first.kind {
            EventKind::PoolEmpty { pool: PoolType::Nonpaged } => "nonpaged",
            _ => "paged",
        };
        let at = match anchor {
            Some(a) => time_near(first.time, a),
            None => time_text(first.time),
        };
        parts.push(if empty.len() == 1 {
            format!("{} ({pool} pool empty) at {at}", first.event_id)
        } else {
            format!("{} ({pool} pool empty) x{} from {at}", first.event_id, empty.len())
        });
    }
    if let Some(e) = crash_after(boot, boots, events) {
        let detail = match &e.kind {
            EventKind::Crash { bugcheck_code: Some(code), .. } => format!(" (bugcheck 0x{code:x})"),
            _ => String::new(),
        };
        parts.push(format!("then {}{detail}", e.event_id));
    }
    if parts.is_empty() {
        if events.is_empty() {
            return "no event log in the archive: no 2004, 2019/2020 or crash on record".to_owned();
        }
        let state = if boots.iter().any(|b| b.start > boot.start) { "ended" } else { "still running" };
        return format!("no 2004, 2019/2020 or crash on record in boot {} ({state})", boot.boot);
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_order_and_skip_empty_ones() {
        let block = VerdictBlock { what: Some("a".into()), who: Some("b".into()), ..VerdictBlock::default() };
        assert_eq!(block.lines(), vec![("What leaks", "a"), ("Who", "b")]);
        // The Stacks line (a WPA trace of the leaking tag) comes last, after the evidence.
        let traced = VerdictBlock { evidence: Some("e".into()), stacks: Some("s".into()), ..block };
        assert_eq!(traced.lines()[2..], [("Evidence", "e"), ("Stacks", "s")]);
        // The Drivers line (who else to question) comes after the stacks.
        let questioned = VerdictBlock { drivers: Some("d".into()), ..traced };
        assert_eq!(questioned.lines()[3..], [("Stacks", "s"), ("Drivers", "d")]);
        assert!(VerdictBlock::default().is_empty());
        assert_eq!(VerdictBlock::one_line("no leak found").lines().len(), 1);
    }

    #[test]
    fn sources_lose_their_detail() {
        assert_eq!(
            short_source("event 2004 PagedPoolUsage (paged pool when commit ran out)"),
            "event 2004 PagedPoolUsage"
        );
        assert_eq!(short_source("poolmon Limit:"), "poolmon Limit:");
    }
}
