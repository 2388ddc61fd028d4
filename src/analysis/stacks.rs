//! Allocation stacks (issue 13): what a host's WPA pool tables say about the code that allocates each tag.
//!
//! A "Pool usage" trace is the only evidence of who allocates: its AIFO allocations (allocated inside the trace,
//! still outstanding at its end) are the leak candidates. Per tag: how many there are, the size most of them
//! have, and their callers, named by the first frame that is not the pool allocator or a generic layer above
//! it ([`crate::parse::wpa::stack::is_generic`]). Every traced tag is kept (the engineer traced it for a
//! reason); only a suspect's stacks go into the verdict.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::host::HostResult;
use crate::model::{AllocationKind, AllocationTable, PoolType};
use crate::parse::wpa::stack;
use crate::units::thousands;

/// Callers kept per tag.
const CALLERS: usize = 5;
/// Frames kept per caller (the caller and those above it).
const FRAMES: usize = 4;
/// Characters of a frame in the verdict line (a ticket line stays short).
const FRAME_CHARS: usize = 70;
/// Below this share of the tag's AIFO allocations, the verdict line says the caller's share.
const SAY_SHARE_BELOW: f64 = 0.9;

/// What the WPA pool tables of one host say about one tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllocationStacks {
    /// Host.
    pub host: String,
    /// Pool tag (4 characters, trailing spaces kept).
    pub tag: String,
    /// Pool type, when the tables say and agree.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pool: Option<PoolType>,
    /// Whether the tag is one of the host's suspects (or the tag its verdict names): only then its stacks are in
    /// the verdict.
    pub suspect: bool,
    /// AIFO allocations: allocated inside the trace and still outstanding at its end (the leak candidates).
    pub outstanding: u64,
    /// Bytes of the AIFO allocations whose size is known.
    pub outstanding_bytes: u64,
    /// The size most AIFO allocations have, bytes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dominant_size: Option<u64>,
    /// AIFO allocations of that size.
    pub dominant_size_count: u64,
    /// Allocations of every kind (`aifo`, `aifi`, `aofi`, `aofo`) in the tables, for context: AIFI is churn,
    /// AOFO was allocated before the trace.
    pub by_kind: BTreeMap<AllocationKind, u64>,
    /// The callers of the AIFO allocations, most allocations first (at most 5).
    pub callers: Vec<StackCaller>,
    /// Files the rows came from.
    pub sources: Vec<String>,
}

/// One caller of a tag's AIFO allocations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackCaller {
    /// The first frame above the generic allocator frames, without its offset (`ntkrnlmp.exe!SepDuplicateToken`);
    /// `(no stack)` for rows without one.
    pub frame: String,
    /// That frame and the ones above it (its callers), innermost first, at most 4: the commonest such chain.
    pub frames: Vec<String>,
    /// AIFO allocations from it.
    pub count: u64,
    /// Its share of the tag's AIFO allocations (0..1).
    pub share: f64,
}

/// The caller name of rows that carry no stack.
pub const NO_STACK: &str = "(no stack)";

/// A frame without its `+0x1a3` offset: the function, so that two call sites in it count as one caller.
fn without_offset(frame: &str) -> &str {
    frame.split_once('+').map_or(frame, |(f, _)| f).trim()
}

/// Every tag of a host's WPA tables: suspects first, then by AIFO allocations, then by tag.
pub fn allocation_stacks(
    host: &str,
    tables: &[AllocationTable],
    suspect: &dyn Fn(&str) -> bool,
) -> Vec<AllocationStacks> {
    let mut by_tag: BTreeMap<&str, Vec<(&crate::model::PoolAllocation, &str)>> = BTreeMap::new();
    for table in tables {
        for a in &table.allocations {
            by_tag.entry(a.tag.as_str()).or_default().push((a, table.source.path.as_str()));
        }
    }
    let mut out: Vec<AllocationStacks> =
        by_tag.into_iter().map(|(tag, rows)| of_tag(host, tag, &rows, suspect(tag))).collect();
    out.sort_by(|a, b| {
        b.suspect.cmp(&a.suspect).then(b.outstanding.cmp(&a.outstanding)).then_with(|| a.tag.cmp(&b.tag))
    });
    out
}

fn of_tag(host: &str, tag: &str, rows: &[(&crate::model::PoolAllocation, &str)], suspect: bool) -> AllocationStacks {
    let mut by_kind: BTreeMap<AllocationKind, u64> = BTreeMap::new();
    let mut sizes: BTreeMap<u64, u64> = BTreeMap::new();
    // Caller -> (count, chain -> count).
    let mut callers: BTreeMap<String, (u64, BTreeMap<Vec<String>, u64>)> = BTreeMap::new();
    let (mut outstanding, mut outstanding_bytes) = (0u64, 0u64);
    let pools: std::collections::BTreeSet<PoolType> = rows.iter().filter_map(|(a, _)| a.pool).collect();
    let mut sources: Vec<String> = rows.iter().map(|(_, p)| (*p).to_owned()).collect();
    sources.dedup();
    for (a, _) in rows {
        *by_kind.entry(a.kind).or_default() += a.count;
        if a.kind != AllocationKind::Aifo {
            continue;
        }
        outstanding = outstanding.saturating_add(a.count);
        if let Some(size) = a.size {
            outstanding_bytes = outstanding_bytes.saturating_add(size.saturating_mul(a.count));
            *sizes.entry(size).or_default() += a.count;
        }
        let chain: Vec<String> =
            stack::callers(&a.stack, FRAMES).iter().map(|f| without_offset(f).to_owned()).collect();
        let frame = chain.first().cloned().unwrap_or_else(|| NO_STACK.to_owned());
        let entry = callers.entry(frame).or_default();
        entry.0 = entry.0.saturating_add(a.count);
        *entry.1.entry(chain).or_default() += a.count;
    }
    // The commonest size; the smaller one on a tie (deterministic).
    let dominant = sizes.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(s, c)| (*s, *c));
    let mut callers: Vec<StackCaller> = callers
        .into_iter()
        .map(|(frame, (count, chains))| {
            let frames = chains
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                .map(|(chain, _)| chain)
                .unwrap_or_default();
            let share = if outstanding > 0 { count as f64 / outstanding as f64 } else { 0.0 };
            StackCaller { frame, frames, count, share }
        })
        .collect();
    callers.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.frame.cmp(&b.frame)));
    callers.truncate(CALLERS);
    AllocationStacks {
        host: host.to_owned(),
        tag: tag.to_owned(),
        pool: if pools.len() == 1 { pools.into_iter().next() } else { None },
        suspect,
        outstanding,
        outstanding_bytes,
        dominant_size: dominant.map(|d| d.0),
        dominant_size_count: dominant.map_or(0, |d| d.1),
        by_kind,
        callers,
        sources,
    }
}

/// The verdict's Stacks line: `AIFO 6,189 allocations of tag Toke, 6,043 of them 1,664 bytes, allocated from
/// ntkrnlmp.exe!SepDuplicateToken`.
pub fn verdict_line(s: &AllocationStacks) -> String {
    let tag = s.tag.trim_end();
    if s.outstanding == 0 {
        let freed = s.by_kind.get(&AllocationKind::Aifi).copied().unwrap_or(0);
        return format!(
            "no AIFO allocation of tag {tag} in the WPA trace ({} allocated and freed inside it)",
            thousands(freed)
        );
    }
    let mut line = format!("AIFO {} allocations of tag {tag}", thousands(s.outstanding));
    if let Some(size) = s.dominant_size {
        line.push_str(&format!(", {} of them {} bytes", thousands(s.dominant_size_count), thousands(size)));
    }
    match s.callers.first() {
        Some(c) if c.frame != NO_STACK => {
            let frame: String = c.frame.chars().take(FRAME_CHARS).collect();
            line.push_str(&format!(", allocated from {frame}"));
            if c.share < SAY_SHARE_BELOW {
                line.push_str(&format!(" ({})", crate::units::percent(c.share)));
            }
        }
        _ => line.push_str(", no stack in the WPA table"),
    }
    line
}

/// Adds a host's allocation stacks to its result, and the Stacks line to its verdict when the verdict names a
/// leaking tag the tables hold.
pub fn attach(host: &str, tables: &[AllocationTable], out: &mut HostResult) {
    if tables.is_empty() {
        return;
    }
    let verdict_tag = out.verdict.as_ref().filter(|v| v.leak_found).and_then(|v| {
        let top = out.suspects.iter().find(|s| s.boot == v.boot && s.rank == 1).map(|s| s.tag.clone());
        top.or_else(|| out.attributions.iter().find(|a| a.boot == v.boot).map(|a| a.tag.clone()))
    });
    let same = |a: &str, b: &str| a.trim_end().eq_ignore_ascii_case(b.trim_end());
    let suspect = |tag: &str| {
        out.suspects.iter().any(|s| same(&s.tag, tag)) || verdict_tag.as_deref().is_some_and(|v| same(v, tag))
    };
    let stacks = allocation_stacks(host, tables, &suspect);
    if let (Some(tag), Some(verdict)) = (&verdict_tag, out.verdict.as_mut()) {
        if let Some(s) = stacks.iter().find(|s| same(&s.tag, tag)) {
            verdict.block.stacks = Some(verdict_line(s));
        }
    }
    out.allocation_stacks = stacks;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PoolAllocation, SourceRef};

    fn row(tag: &str, kind: AllocationKind, size: u64, count: u64, stack: &[&str]) -> PoolAllocation {
        PoolAllocation {
            source: SourceRef::line("t.csv", 2),
            tag: tag.to_owned(),
            pool: Some(PoolType::Paged),
            kind,
            size: Some(size),
            count,
            stack: stack.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn table(rows: Vec<PoolAllocation>) -> Vec<AllocationTable> {
        vec![AllocationTable { source: SourceRef::line("t.csv", 1), host: None, allocations: rows }]
    }

    const DUP: &[&str] =
        &["nt!ExAllocatePoolWithTag", "nt!ObpAllocateObject", "nt!SepDuplicateToken+0x1a3", "nt!NtDuplicateToken"];

    #[test]
    fn aifo_count_dominant_size_and_caller() {
        let tables = table(vec![
            row("Toke", AllocationKind::Aifo, 1664, 6043, DUP),
            row("Toke", AllocationKind::Aifo, 1680, 146, &["nt!ExAllocatePoolWithTag", "nt!SepCreateToken"]),
            row("Toke", AllocationKind::Aifi, 1664, 20_000, DUP),
            row("ObNm", AllocationKind::Aifo, 208, 12, &[]),
        ]);
        let stacks = allocation_stacks("h", &tables, &|t| t == "Toke");
        assert_eq!(stacks.len(), 2);
        let toke = &stacks[0];
        assert_eq!((toke.outstanding, toke.dominant_size, toke.dominant_size_count), (6189, Some(1664), 6043));
        assert_eq!(toke.callers[0].frame, "nt!SepDuplicateToken");
        assert_eq!(toke.callers[0].frames, ["nt!SepDuplicateToken", "nt!NtDuplicateToken"]);
        assert_eq!(toke.by_kind[&AllocationKind::Aifi], 20_000);
        assert_eq!(
            verdict_line(toke),
            "AIFO 6,189 allocations of tag Toke, 6,043 of them 1,664 bytes, allocated from nt!SepDuplicateToken"
        );
        assert!(!stacks[1].suspect);
        assert_eq!(stacks[1].callers[0].frame, NO_STACK);
        assert!(verdict_line(&stacks[1]).ends_with("no stack in the WPA table"));
    }

    #[test]
    fn a_minor_caller_share_is_said_and_no_aifo_is_said() {
        let tables = table(vec![
            row("Toke", AllocationKind::Aifo, 1664, 60, DUP),
            row("Toke", AllocationKind::Aifo, 1664, 40, &["nt!SepCreateToken"]),
            row("Key ", AllocationKind::Aifi, 64, 9, &[]),
        ]);
        let stacks = allocation_stacks("h", &tables, &|_| true);
        assert!(verdict_line(&stacks[0]).ends_with("nt!SepDuplicateToken (60%)"), "{}", verdict_line(&stacks[0]));
        assert_eq!(
            verdict_line(&stacks[1]),
            "no AIFO allocation of tag Key in the WPA trace (9 allocated and freed inside it)"
        );
    }
}
