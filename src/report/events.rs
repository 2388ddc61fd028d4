//! The events a pool-leak report shows: exhaustion (2004), pool empty (Srv 2019/2020), unexpected
//! shutdowns (6008, Kernel-Power 41, User32 1076) and boots, in time order (PAL's "alerts in
//! chronological order"; `../reference/events.md` for what each id means).

use chrono::{DateTime, Utc};

use crate::model::{Dataset, EventKind, PoolType, SourceRef};
use crate::report::format;

/// How an event matters to the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Importance {
    /// Evidence of exhaustion or of a hang: drawn on charts and used as the observed hang.
    Exhaustion,
    /// A boot or clean shutdown: context.
    Lifecycle,
}

/// One event worth showing.
#[derive(Debug, Clone, PartialEq)]
pub struct Notable {
    /// Host.
    pub host: String,
    /// When it happened: the event time, or for 6008 the previous shutdown time it reports.
    pub at: DateTime<Utc>,
    /// When it was logged.
    pub logged_at: DateTime<Utc>,
    /// Event id.
    pub event_id: u32,
    /// Provider.
    pub provider: String,
    /// Short chart label (`2004`, `2020 paged`, `41`).
    pub label: String,
    /// What it means, in words.
    pub meaning: String,
    /// Details from the record (top tags of a 2004, bugcheck code of a 41).
    pub details: String,
    /// Where it was read.
    pub source: SourceRef,
    /// How it matters.
    pub importance: Importance,
}

/// The notable events of every host, in time order.
pub fn notable(dataset: &Dataset) -> Vec<Notable> {
    let mut out = Vec::new();
    for (host, data) in &dataset.hosts {
        for event in &data.events {
            let base =
                |label: String, meaning: &str, details: String, importance: Importance, at: DateTime<Utc>| Notable {
                    host: host.clone(),
                    at,
                    logged_at: event.time,
                    event_id: event.event_id,
                    provider: event.provider.clone(),
                    label,
                    meaning: meaning.to_owned(),
                    details,
                    source: event.source.clone(),
                    importance,
                };
            let id = event.event_id;
            let item = match &event.kind {
                EventKind::ResourceExhaustion(r) => {
                    let tags: Vec<String> = r
                        .paged_tags
                        .iter()
                        .map(|t| format!("{} paged {}", format::tag(&t.tag), format::bytes(t.bytes as f64)))
                        .chain(
                            r.nonpaged_tags
                                .iter()
                                .map(|t| format!("{} nonpaged {}", format::tag(&t.tag), format::bytes(t.bytes as f64))),
                        )
                        .collect();
                    let mut details = Vec::new();
                    if let (Some(charge), Some(limit)) = (r.commit_charge, r.commit_limit) {
                        details.push(format!(
                            "commit {} of {}",
                            format::bytes(charge as f64),
                            format::bytes(limit as f64)
                        ));
                    }
                    if let Some(p) = r.paged_pool_usage {
                        details.push(format!("paged pool {}", format::bytes(p as f64)));
                    }
                    if !tags.is_empty() {
                        details.push(format!("top tags: {}", tags.join(", ")));
                    }
                    if let Some(p) = r.processes.first() {
                        details.push(format!("top process: {} ({} handles)", p.name, format::count_u(p.handle_count)));
                    }
                    let at = r.detected_at.unwrap_or(event.time);
                    Some(base(
                        id.to_string(),
                        "resource exhaustion detected",
                        details.join("; "),
                        Importance::Exhaustion,
                        at,
                    ))
                }
                EventKind::PoolEmpty { pool } => {
                    let which = match pool {
                        PoolType::Paged => "paged",
                        PoolType::Nonpaged => "nonpaged",
                    };
                    Some(base(
                        format!("{id} {which}"),
                        &format!("server could not allocate: {which} pool empty"),
                        String::new(),
                        Importance::Exhaustion,
                        event.time,
                    ))
                }
                EventKind::Crash { previous_shutdown, previous_shutdown_at, bugcheck_code, reason, .. } => {
                    let (meaning, at) = match id {
                        6008 => ("the previous shutdown was unexpected", previous_shutdown_at.unwrap_or(event.time)),
                        41 => ("rebooted without cleanly shutting down (hang or power loss)", event.time),
                        _ => ("unexpected shutdown reported", event.time),
                    };
                    let mut details = Vec::new();
                    if let Some(text) = previous_shutdown {
                        details.push(format!("previous shutdown at {text}"));
                    }
                    if let Some(text) = reason {
                        details.push(format!("reason: {text}"));
                    }
                    if let Some(code) = bugcheck_code {
                        details.push(if *code == 0 {
                            "bugcheck 0 (the machine hung or lost power)".to_owned()
                        } else {
                            format!("bugcheck 0x{code:08x}")
                        });
                    }
                    Some(base(id.to_string(), meaning, details.join("; "), Importance::Exhaustion, at))
                }
                EventKind::Boot { .. } => Some(base(
                    "boot".to_owned(),
                    "system or event log started",
                    String::new(),
                    Importance::Lifecycle,
                    event.time,
                )),
                EventKind::Shutdown { process, reason, .. } => {
                    let details =
                        [process.as_deref(), reason.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(": ");
                    Some(base(
                        "shutdown".to_owned(),
                        "clean shutdown or restart",
                        details,
                        Importance::Lifecycle,
                        event.time,
                    ))
                }
                EventKind::Uptime { .. } | EventKind::Other => None,
            };
            out.extend(item);
        }
    }
    out.sort_by(|a, b| a.host.cmp(&b.host).then(a.at.cmp(&b.at)).then(a.event_id.cmp(&b.event_id)));
    out
}
