//! The verdict: the analysis of one host in plain words, most important first.
//!
//! "Toke (paged; Token objects) grows 24.9 MiB/h (95% CI 24.6 MiB/h to 25.2 MiB/h), 97% of paged pool growth,
//! 1,664 bytes per allocation; commit is projected to run out at 2020-05-22 14:02 UTC (observed:
//! event 2004 at ...); lsass.exe Token handles for CONTOSO\svc-scan grow in step (440/h; Spearman
//! 0.91 on increments)."

use chrono::{DateTime, Utc};
use std::fmt::Write as _;

use super::attribution::Attribution;
use super::block::{self, VerdictBlock};
use super::correlate::{MAX_Q, VERDICT_MIN_PAIRS};
use super::process_growth::ProcessGrowth;
use super::{Boot, Correlation, Projection, Resource, Suspect, Verdict};
use crate::model::Event;

/// `2020-05-22 14:02 UTC`.
pub fn time_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

use crate::units::rate;
pub use crate::units::thousands;

/// A duration in hours as `3.2 h` or `4.1 days`.
pub fn hours_text(hours: f64) -> String {
    if hours.abs() >= 48.0 {
        format!("{:.1} days", hours / 24.0)
    } else {
        format!("{hours:.1} h")
    }
}

fn resource_name(r: Resource) -> &'static str {
    match r {
        Resource::Paged => "paged pool",
        Resource::Nonpaged => "nonpaged pool",
        Resource::Commit => "commit",
    }
}

/// One host's results, each slice already limited to the host.
#[derive(Debug, Clone, Copy)]
pub struct HostFindings<'a> {
    /// Boots.
    pub boots: &'a [Boot],
    /// Suspects of every boot.
    pub suspects: &'a [Suspect],
    /// Projections of every boot.
    pub projections: &'a [Projection],
    /// Attributions of every boot.
    pub attributions: &'a [Attribution],
    /// Correlations of every boot.
    pub correlations: &'a [Correlation],
    /// The host's events (for what the archive shows at the hang).
    pub events: &'a [Event],
    /// handle.exe snapshots read for the host.
    pub handle_dumps: usize,
    /// Processes whose perfmon Handle Count grows, per boot.
    pub process_growth: &'a [ProcessGrowth],
    /// Whether the host's pool snapshots are totals only (perfmon counters: no tag rows), so no tag can be named.
    pub tagless: bool,
}

/// The boot a post-mortem is about: the last boot that died (2004, 2019/2020, 41/6008) with suspects; else the
/// last boot with suspects; else the last boot.
pub fn subject_boot(boots: &[Boot], suspects: &[Suspect]) -> Option<u32> {
    let has_suspects = |b: &&Boot| suspects.iter().any(|s| s.boot == b.boot);
    boots
        .iter()
        .rev()
        .find(|b| b.died && has_suspects(b))
        .or_else(|| boots.iter().rev().find(has_suspects))
        .or_else(|| boots.last())
        .map(|b| b.boot)
}

/// What the analysis found for one host.
pub fn verdict(host: &str, found: HostFindings<'_>, object_type: &dyn Fn(&str) -> Option<String>) -> Verdict {
    let HostFindings {
        boots,
        suspects,
        projections,
        attributions,
        correlations,
        events,
        handle_dumps,
        process_growth,
        tagless,
    } = found;
    let Some(last_boot) = boots.last() else {
        return Verdict {
            host: host.to_owned(),
            boot: 0,
            leak_found: false,
            block: VerdictBlock::one_line("not measured: no poolmon snapshots with times"),
            text: format!("{host}: no poolmon snapshots with times, so no pool growth could be measured."),
        };
    };
    let measurable = |b: &&Boot| b.pool_samples >= 4 && super::boots::hours_between(b.start, b.end) >= 1.0;
    if !boots.iter().any(|b| measurable(&b)) {
        let samples: usize = boots.iter().map(|b| b.pool_samples).sum();
        return Verdict {
            host: host.to_owned(),
            boot: last_boot.boot,
            leak_found: false,
            block: VerdictBlock::one_line(format!(
                "not measured: {samples} poolmon snapshot(s); a trend needs 4 or more over an hour of one boot"
            )),
            text: format!(
                "{host}: too few poolmon snapshots to measure growth ({samples} in {} boot(s)); a trend needs at \
                 least 4 snapshots over an hour or more of one boot (to compare two snapshots, use `poolscope diff`).",
                boots.len()
            ),
        };
    }
    let boot = subject_boot(boots, suspects).unwrap_or(last_boot.boot);
    let here: Vec<&Suspect> = suspects.iter().filter(|s| s.boot == boot).collect();
    let mut sentences = Vec::new();
    let leak_found = !here.is_empty();
    let mut summary = VerdictBlock::default();
    if let Some(top) = here.first() {
        let mut what = vec![top.pool.as_str().to_owned()];
        if let Some(t) = object_type(&top.tag) {
            what.push(format!("{t} objects"));
        } else if let Some(d) = &top.driver {
            what.push(d.clone());
        }
        let mut s = format!(
            "{} ({}) grows {} (95% CI {} to {}), {} of {} pool growth",
            top.tag.trim_end(),
            what.join("; "),
            rate(top.bytes_per_hour),
            rate(top.bytes_per_hour_ci[0]),
            rate(top.bytes_per_hour_ci[1]),
            percent(top.share_of_growth),
            top.pool.as_str(),
        );
        if top.per_alloc_bytes > 0.0 {
            let _ = write!(s, ", {} bytes per allocation", thousands(top.per_alloc_bytes.round() as u64));
            if top.per_alloc_stable {
                s.push_str(" (a fixed-size object leaking)");
            }
        }
        if !top.repeats_in_boots.is_empty() {
            let list: Vec<String> = top.repeats_in_boots.iter().map(u32::to_string).collect();
            let _ = write!(s, "; the same rate recurs in boot {}", list.join(", "));
        }
        sentences.push(s);
        let object = object_type(&top.tag);
        summary.what = Some(block::what_line(top, here.len() - 1, object.as_deref()));
        summary.how_fast = Some(block::how_fast_line(top));
        summary.when = Some(block::when_line(boot, projections));
        summary.who = Some(block::who_line(block::WhoInputs {
            boot,
            tag: &top.tag,
            object_type: object.as_deref(),
            attributions,
            correlations,
            handle_dumps,
            process_growth,
        }));
        if let Some(b) = boots.iter().find(|b| b.boot == boot) {
            summary.evidence = Some(block::evidence_line(b, boots, events, block::first_to_run_out(boot, projections)));
        }
        if here.len() > 1 {
            let others: Vec<String> = here[1..]
                .iter()
                .take(3)
                .map(|o| format!("{} ({}) {}", o.tag.trim_end(), o.pool, rate(o.bytes_per_hour)))
                .collect();
            let more = if here.len() > 4 { format!(" and {} more", here.len() - 4) } else { String::new() };
            sentences.push(format!("also growing: {}{more}", others.join(", ")));
        }
    } else if tagless {
        return tagless_verdict(host, found);
    } else if let Some(short) = boots.iter().find(|b| b.boot == boot).and_then(|b| b.too_short) {
        sentences.push(too_short_sentence(short));
        summary = VerdictBlock::one_line(format!("not measured: {}", too_short_sentence(short)));
    } else {
        let hours: f64 = boots.iter().map(|b| super::boots::hours_between(b.start, b.end)).sum();
        let boots_text = if boots.len() == 1 { "1 boot".to_owned() } else { format!("{} boots", boots.len()) };
        sentences.push(format!(
            "no leak found: no pool tag grows steadily after warm-up ({boots_text}, {} of uptime to the last sample)",
            hours_text(hours)
        ));
        summary = VerdictBlock::one_line(format!(
            "no leak found: no pool tag grows steadily after warm-up ({boots_text}, {})",
            hours_text(hours)
        ));
    }
    sentences.extend(projection_sentence(boot, projections));
    if let Some(top) = here.first() {
        let who = who_sentence(boot, &top.tag, attributions, correlations).or_else(|| {
            // Without handle.exe output, the process perfmon shows growing, with what the counter cannot tell.
            let g = block::chosen_process_growth(boot, process_growth).filter(|_| handle_dumps == 0)?;
            Some(perfmon_who_sentence(boot, g))
        });
        sentences.extend(who);
    }
    sentences.extend(leak_is_back(boot, boots, suspects, projections));
    Verdict { host: host.to_owned(), boot, leak_found, block: summary, text: join_sentences(host, &sentences) }
}

/// The verdict of a host whose pool record is totals only (perfmon counters, no poolmon): which resource runs out
/// and when, for the last boot that died (else the last boot), and which process grows; the tag stays unnamed.
fn tagless_verdict(host: &str, found: HostFindings<'_>) -> Verdict {
    let HostFindings { boots, projections, events, process_growth, .. } = found;
    let boot = boots.iter().rev().find(|b| b.died).or_else(|| boots.last()).map_or(0, |b| b.boot);
    let first = block::first_to_run_out(boot, projections);
    let growing = first.filter(|p| p.bytes_per_hour > 0.0);
    let mut summary = VerdictBlock::default();
    let what = match growing {
        Some(p) => format!(
            "tag not known: pool totals only (perfmon, no poolmon); {} grows {}",
            resource_name(p.pool),
            rate(p.bytes_per_hour)
        ),
        None => "tag not known: pool totals only (perfmon, no poolmon); no resource grows toward its limit".to_owned(),
    };
    summary.what = Some(what.clone());
    summary.how_fast = growing.map(|p| {
        format!(
            "{} {} ({}), from perfmon totals; poolmon -b -n names the tag",
            resource_name(p.pool),
            rate(p.bytes_per_hour),
            p.rate_source
        )
    });
    summary.when = Some(block::when_line(boot, projections));
    let grower = block::chosen_process_growth(boot, process_growth);
    summary.who = Some(match grower {
        Some(g) => block::perfmon_who_line(boot, g),
        None => "not attributed: no process's perfmon Handle Count grows".to_owned(),
    });
    if let Some(b) = boots.iter().find(|b| b.boot == boot) {
        summary.evidence = Some(block::evidence_line(b, boots, events, first));
    }
    let mut sentences = vec![format!(
        "{what}: perfmon counters give pool and commit totals but no pool tags, so the leaking tag is not known \
         (collect poolmon -b -n snapshots to name it)"
    )];
    sentences.extend(projection_sentence(boot, projections));
    sentences.extend(grower.map(|g| perfmon_who_sentence(boot, g)));
    Verdict {
        host: host.to_owned(),
        boot,
        leak_found: growing.is_some(),
        block: summary,
        text: join_sentences(host, &sentences),
    }
}

/// The perfmon Who sentence: the growing process and how to tell which handle type grows.
fn perfmon_who_sentence(boot: u32, g: &ProcessGrowth) -> String {
    format!(
        "{}; the counter covers every handle type, so dump the process with handle -a -p {} to tell which",
        block::perfmon_who_line(boot, g),
        g.image()
    )
}

/// `host: First sentence. Second sentence.`: each sentence capitalised unless it starts with a file name.
pub fn join_sentences(host: &str, sentences: &[String]) -> String {
    let mut text = format!("{host}: ");
    for (i, sentence) in sentences.iter().enumerate() {
        // Later sentences start with a capital, unless they start with a file name (`lsass.exe`).
        let first_word = sentence.split(' ').next().unwrap_or_default();
        let mut chars = sentence.chars();
        match chars.next() {
            Some(c) if i > 0 && !first_word.contains('.') => {
                text.extend(c.to_uppercase());
                text.push_str(chars.as_str());
            }
            _ => text.push_str(sentence),
        }
        text.push_str(". ");
    }
    text.trim_end().to_owned()
}

/// "capture too short to separate a leak from warm-up (2.0 h; need 4.4 h)".
pub fn too_short_sentence(short: super::TooShort) -> String {
    format!("capture too short to separate a leak from warm-up ({:.1} h; need {:.1} h)", short.hours, short.need_hours)
}

/// When the first resource runs out in a boot, with the evidence the archive holds.
fn projection_sentence(boot: u32, projections: &[Projection]) -> Option<String> {
    let mine: Vec<&Projection> = projections.iter().filter(|p| p.boot == boot).collect();
    let first = block::first_to_run_out(boot, projections);
    if let Some(p) = first {
        let at = p.exhaustion_at.unwrap_or(p.now_at);
        let mut s = if at <= p.now_at {
            format!("{} was at its limit at the last sample ({})", resource_name(p.pool), time_text(p.now_at))
        } else {
            format!(
                "{} is projected to run out at {} ({} after the last sample",
                resource_name(p.pool),
                time_text(at),
                hours_text(super::boots::hours_between(p.now_at, at))
            )
        };
        if at > p.now_at {
            if let Some([lo, hi]) = p.exhaustion_range {
                let _ = write!(s, "; range {} to {}", time_text(lo), time_text(hi));
            }
            s.push(')');
        }
        let _ = write!(s, " at the sustained {}", rate(p.bytes_per_hour));
        if let Some(naive) = p.naive_exhaustion_at {
            let _ = write!(s, " (a straight-line fit of the total says {})", time_text(naive));
        }
        if let (Some(obs), Some(evidence)) = (p.observed_exhaustion_at, &p.observed_evidence) {
            let error = super::boots::hours_between(obs, at);
            let _ = write!(
                s,
                "; observed: {evidence} ({} {} the projection)",
                hours_text(error.abs()),
                if error >= 0.0 { "before" } else { "after" }
            );
        }
        if p.observed_exhaustion_at.is_none() {
            // The model check of an earlier boot that ran out, when this one has not (yet).
            let checked = projections.iter().filter(|o| o.boot != boot && o.pool == p.pool).find_map(|o| {
                Some((o.boot, o.exhaustion_at?, o.observed_exhaustion_at?, o.observed_evidence.clone()?))
            });
            if let Some((b, projected, observed, evidence)) = checked {
                let error = super::boots::hours_between(observed, projected);
                let _ = write!(
                    s,
                    "; in boot {b} the same projection said {} and the archive shows {evidence} ({} apart)",
                    time_text(projected),
                    hours_text(error.abs())
                );
            }
        }
        return Some(s);
    } else if let Some(p) = mine.iter().find(|p| p.observed_exhaustion_at.is_some()) {
        return Some(format!("{} ran out: {}", resource_name(p.pool), p.observed_evidence.clone().unwrap_or_default()));
    }
    None
}

/// The boot after the subject, when the leak is back in it: its own rate and projection.
fn leak_is_back(boot: u32, boots: &[Boot], suspects: &[Suspect], projections: &[Projection]) -> Option<String> {
    let subject_tags: Vec<&str> = suspects.iter().filter(|s| s.boot == boot).map(|s| s.tag.as_str()).collect();
    let later = boots.iter().rfind(|b| b.boot > boot)?;
    let again = suspects.iter().find(|s| s.boot == later.boot && subject_tags.contains(&s.tag.as_str()))?;
    let mut s = format!(
        "the leak is back in boot {} (since {}): {} grows {}",
        later.boot,
        time_text(later.start),
        again.tag.trim_end(),
        rate(again.bytes_per_hour)
    );
    if let Some(p) = projection_sentence(later.boot, projections) {
        let _ = write!(s, "; {p}");
    }
    Some(s)
}

pub use crate::units::percent;

/// Who holds the leaked objects: the attribution of the subject boot (or, when it has none that names a
/// process, of the nearest boot that has one), then a correlation that passed its test as support.
pub fn who_sentence(
    boot: u32,
    tag: &str,
    attributions: &[Attribution],
    correlations: &[Correlation],
) -> Option<String> {
    // Growth measured in this boot; else growth measured in the nearest other boot (the same leak); else what
    // this boot's single dump shows.
    // An attribution read from event 2004 alone (no dumps) is said by the exhaustion sentences already.
    let of_tag = |a: &&Attribution| a.tag == tag && a.dumps > 0;
    let mut grown: Vec<&Attribution> =
        attributions.iter().filter(of_tag).filter(|a| a.handles_per_hour.is_some()).collect();
    grown.sort_by_key(|a| (a.boot.abs_diff(boot), a.boot));
    let named = grown.first().copied().or_else(|| attributions.iter().filter(of_tag).find(|a| a.boot == boot));
    let support = correlations
        .iter()
        .filter(|c| c.boot == boot && c.tag == tag && c.invariant && c.account.is_none())
        .filter(|c| c.samples >= VERDICT_MIN_PAIRS && c.q < MAX_Q)
        .max_by(|a, b| b.q.total_cmp(&a.q).then_with(|| a.samples.cmp(&b.samples)));
    let support_text = support.map(|c| {
        let whose =
            if c.process == crate::frame::SYSTEM_PROCESS { "system-wide".to_owned() } else { c.process.clone() };
        format!(
            "{whose} {} handles rise with {} (Spearman {:.2} on {} increments, q {:.0e})",
            c.handle_type,
            tag.trim_end(),
            c.coefficient,
            c.samples,
            c.q
        )
    });
    let Some(a) = named else { return support_text };
    let pid = a.pid.map_or(String::new(), |p| format!(" (pid {p})"));
    let in_boot = if a.boot == boot { String::new() } else { format!(" in boot {}", a.boot) };
    let mut s = match (a.handles_per_hour, a.share_of_growth) {
        (Some(rate), Some(share)) => {
            let of = match a.share_of.as_str() {
                super::attribution::SYSTEM_WIDE => format!("of the {} handle growth", a.object_type),
                other => format!("of the {} handle growth of {other}", a.object_type),
            };
            format!(
                "{}{pid} holds {} {of}{in_boot} (+{}/h between the dumps at {} and {}; {})",
                a.process,
                percent(share),
                thousands(rate.round() as u64),
                time_text(a.from),
                time_text(a.to),
                a.strength
            )
        }
        (Some(rate), None) => format!(
            "{}{pid} gains +{} {} handles/h{in_boot} between the dumps at {} and {} ({}; {}, so its share of all {} \
             handles is unknown)",
            a.process,
            thousands(rate.max(0.0).round() as u64),
            a.object_type,
            time_text(a.from),
            time_text(a.to),
            a.strength,
            a.share_of,
            a.object_type
        ),
        _ => {
            let held = a.held_share.map_or(String::new(), |h| format!("{} of ", percent(h)));
            format!(
                "{}{pid} held {held}the {} handles at the dump at {}{in_boot} ({} handles; {}, so no growth measured)",
                a.process,
                a.object_type,
                time_text(a.to),
                thousands(a.handles[1]),
                a.strength
            )
        }
    };
    if let (Some(account), Some(share)) = (&a.account, a.account_share) {
        let what = if a.object_type.eq_ignore_ascii_case("Token") { "tokens of" } else { "held for" };
        let those = if a.handles_per_hour.is_some() { "of those" } else { "of them" };
        let _ = write!(s, "; {} {those} are {what} {account}", percent(share));
    }
    if let Some(rate) = a.handles_per_hour.filter(|r| *r > 0.0) {
        let ratio = a.tag_outstanding_per_hour / rate;
        if ratio > 2.0 {
            // Said as a fact, not explained: handles are one way to hold an object (references are another).
            let _ = write!(
                s,
                "; these handles account for {} of {}'s {} allocations/h",
                percent(1.0 / ratio),
                tag.trim_end(),
                thousands(a.tag_outstanding_per_hour.round() as u64)
            );
        }
    }
    if let Some(t) = support_text {
        let _ = write!(s, "; {t}");
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::bytes;

    #[test]
    fn too_few_snapshots_say_so() {
        let t = chrono::DateTime::UNIX_EPOCH;
        let boot = Boot {
            host: "h".into(),
            boot: 0,
            start: t,
            end: t,
            start_evidence: "first sample".into(),
            end_evidence: "still running".into(),
            died: false,
            pool_samples: 1,
            fit_start: t,
            too_short: None,
        };
        let found = HostFindings {
            boots: &[boot],
            suspects: &[],
            projections: &[],
            attributions: &[],
            correlations: &[],
            events: &[],
            handle_dumps: 0,
            process_growth: &[],
            tagless: false,
        };
        let v = verdict("h", found, &|_| None);
        assert!(!v.leak_found);
        assert!(v.text.contains("too few poolmon snapshots"), "{}", v.text);
        assert_eq!(v.block.lines().len(), 1, "{:?}", v.block);
    }

    #[test]
    fn number_formats() {
        assert_eq!(thousands(1_394_724), "1,394,724");
        assert_eq!(thousands(999), "999");
        assert_eq!(bytes(2.9 * 1024.0 * 1024.0 * 1024.0), "2.90 GiB");
        assert_eq!(hours_text(50.0), "2.1 days");
        assert_eq!(hours_text(3.25), "3.2 h");
    }
}
