//! The "Allocation stacks" tables (issue 13): who allocates each tag a WPA pool trace holds, for the HTML
//! report, `summary.md` and `analyze`'s text. Cells are plain text; each exporter escapes them.

use super::format;
use super::tables::{Align, Table};
use crate::analysis::stacks::AllocationStacks;
use crate::analysis::Analysis;
use crate::model::AllocationKind;
use crate::units::thousands;

/// A host's traced tags, suspects first.
pub fn of_host<'a>(analysis: &'a Analysis, host: &str) -> Vec<&'a AllocationStacks> {
    analysis.allocation_stacks.iter().filter(|s| s.host == host).collect()
}

/// `Toke (paged, suspect)`.
pub fn tag_cell(s: &AllocationStacks) -> String {
    let mut notes: Vec<&str> = s.pool.iter().map(|p| p.as_str()).collect();
    if s.suspect {
        notes.push("suspect");
    }
    if notes.is_empty() {
        format::tag(&s.tag)
    } else {
        format!("{} ({})", format::tag(&s.tag), notes.join(", "))
    }
}

/// `AIFI 21,402; AOFO 1,311`: the allocations of the other kinds.
pub fn other_kinds(s: &AllocationStacks) -> String {
    let parts: Vec<String> = s
        .by_kind
        .iter()
        .filter(|(k, n)| **k != AllocationKind::Aifo && **n > 0)
        .map(|(k, n)| format!("{k} {}", thousands(*n)))
        .collect();
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join("; ")
    }
}

/// `ntkrnlmp.exe!SepDuplicateToken (98%)`, or `-`.
pub fn top_caller(s: &AllocationStacks) -> String {
    s.callers
        .first()
        .map_or_else(|| "-".to_owned(), |c| format!("{} ({})", format::clean(&c.frame), format::percent(c.share)))
}

/// `6,043 x 1,664 B`, or `-`: the exact size, as the verdict says it (a per-allocation size is a fingerprint).
pub fn commonest_size(s: &AllocationStacks) -> String {
    s.dominant_size.map_or_else(
        || "-".to_owned(),
        |size| format!("{} x {} B", thousands(s.dominant_size_count), format::count_u(size)),
    )
}

/// One row per traced tag of a host.
pub fn tags(analysis: &Analysis, host: &str) -> Table {
    let mut t = Table {
        columns: vec![
            ("Tag", Align::Left),
            ("AIFO allocations", Align::Right),
            ("AIFO bytes", Align::Right),
            ("Commonest size", Align::Right),
            ("Allocated from", Align::Left),
            ("Rest of the trace", Align::Left),
        ],
        rows: Vec::new(),
    };
    for s in of_host(analysis, host) {
        t.rows.push(vec![
            tag_cell(s),
            thousands(s.outstanding),
            format::bytes(s.outstanding_bytes as f64),
            commonest_size(s),
            top_caller(s),
            other_kinds(s),
        ]);
    }
    t
}

/// One row per caller of each traced tag's AIFO allocations, with the frames above it.
pub fn callers(analysis: &Analysis, host: &str) -> Table {
    let mut t = Table {
        columns: vec![
            ("Tag", Align::Left),
            ("Caller", Align::Left),
            ("Called from", Align::Left),
            ("AIFO allocations", Align::Right),
            ("Share", Align::Right),
        ],
        rows: Vec::new(),
    };
    for s in of_host(analysis, host) {
        for c in &s.callers {
            let above: Vec<String> = c.frames.iter().skip(1).map(|f| format::clean(f)).collect();
            t.rows.push(vec![
                format::tag(&s.tag),
                format::clean(&c.frame),
                if above.is_empty() { "-".to_owned() } else { above.join(" < ") },
                thousands(c.count),
                format::percent(c.share),
            ]);
        }
    }
    t
}
