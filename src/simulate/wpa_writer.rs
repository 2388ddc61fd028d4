//! The WPA pool table of a simulated "Pool usage" trace, as `wpaexporter` writes it (issue 13): comma-delimited,
//! every field quoted, numbers with thousands separators, the stack in one cell from `[Root]`, one row per
//! (type, tag, size, stack).
//!
//! The trace sees the leak at its rate (AIFO: allocated inside the trace, still outstanding at its end), the
//! tag's ordinary traffic (AIFI), the objects leaked before the trace began (AOFO), a few older ones freed
//! (AOFI), and another tag's object-name buffers so the table is not the leak alone.

use super::rng::Rng;
use super::scenario::{HostSpec, WpaTrace};
use crate::units::thousands;

/// The header `wpaexporter` writes for the pool table of the profile poolscope documents.
const HEADER: &str =
    "\"Line #\",\"Type\",\"Paged\",\"Pool Tag\",\"Stack\",\"Size\",\"Count\",\"Outstanding Size\",\"Total Size\"";

/// Another traced tag (object-name buffers): traffic, no leak.
const OTHER_TAG: &str = "ObNm";
/// Its allocation size, bytes.
const OTHER_SIZE: u64 = 208;

/// One row before it is written.
struct Row<'a> {
    kind: &'static str,
    tag: &'a str,
    stack: &'a [String],
    size: u64,
    count: u64,
}

/// The table's text (CRLF line ends) and its number of rows, for a trace ending `ends_after_h` hours into the
/// boot. Deterministic in `rng`.
pub fn pool_table(host: &HostSpec, trace: &WpaTrace, ends_after_h: f64, rng: &mut Rng) -> (String, u64) {
    let Some(spec) = host.tags.iter().find(|t| t.tag == trace.tag) else { return (String::new(), 0) };
    let per = u64::from(spec.per_alloc);
    let (rate, leak_from, leak_size) = spec
        .leak
        .as_ref()
        .map_or((0.0, 0.0, per), |l| (l.allocs_per_hour, l.starts_after_h, u64::from(l.per_alloc_bytes)));
    let leaked = rng.poisson(rate * trace.hours);
    // Most leaked tokens have the one size; a few carry more groups and are a little larger.
    let larger = rng.poisson(leaked as f64 * 0.015).min(leaked);
    let largest = rng.poisson(leaked as f64 * 0.008).min(leaked - larger);
    let main = leaked - larger - largest;
    let created = rng.poisson(main as f64 * 0.01).min(main);
    let churn = spec.churn_per_hour * trace.hours;
    let before = (ends_after_h - trace.hours - leak_from).max(0.0);
    let older = (spec.base + rate * before).max(0.0) as u64 + rng.below(50);
    let name_stack: Vec<String> = [
        "ntkrnlmp.exe!KiSystemServiceCopyEnd",
        "ntkrnlmp.exe!NtOpenFile",
        "ntkrnlmp.exe!IopCreateFile",
        "ntkrnlmp.exe!ObOpenObjectByNameEx",
        "ntkrnlmp.exe!ObpCaptureObjectName",
        "ntkrnlmp.exe!ExAllocatePoolWithTag",
    ]
    .iter()
    .map(|f| (*f).to_owned())
    .collect();
    let tag = trace.tag.as_str();
    let rows = [
        Row { kind: "AIFO", tag, stack: &trace.stack, size: leak_size, count: main - created },
        Row { kind: "AIFO", tag, stack: &trace.other_stack, size: leak_size, count: created },
        Row { kind: "AIFO", tag, stack: &trace.stack, size: leak_size + 16, count: larger },
        Row { kind: "AIFO", tag, stack: &trace.stack, size: leak_size + 48, count: largest },
        Row { kind: "AIFO", tag: OTHER_TAG, stack: &name_stack, size: OTHER_SIZE, count: rng.poisson(15.0) },
        Row { kind: "AIFI", tag, stack: &trace.stack, size: per, count: rng.poisson(churn * 0.7) },
        Row { kind: "AIFI", tag, stack: &trace.other_stack, size: per, count: rng.poisson(churn * 0.3) },
        Row {
            kind: "AIFI",
            tag: OTHER_TAG,
            stack: &name_stack,
            size: OTHER_SIZE,
            count: rng.poisson(30_000.0 * trace.hours),
        },
        Row { kind: "AOFI", tag, stack: &trace.stack, size: per, count: rng.poisson(spec.base * 0.05) },
        Row { kind: "AOFI", tag: OTHER_TAG, stack: &name_stack, size: OTHER_SIZE, count: rng.poisson(200.0) },
        Row { kind: "AOFO", tag, stack: &trace.stack, size: leak_size, count: older },
    ];
    let mut text = String::from(HEADER);
    text.push_str("\r\n");
    let mut written = 0u64;
    for row in rows.iter().filter(|r| r.count > 0) {
        written += 1;
        let total = row.size * row.count;
        let outstanding = if row.kind.ends_with("FO") { total } else { 0 };
        let cells = [
            written.to_string(),
            row.kind.to_owned(),
            if spec.pool == crate::model::PoolType::Paged { "Paged" } else { "NonPaged" }.to_owned(),
            row.tag.to_owned(),
            std::iter::once("[Root]").chain(row.stack.iter().map(String::as_str)).collect::<Vec<_>>().join("/"),
            thousands(row.size),
            thousands(row.count),
            thousands(outstanding),
            thousands(total),
        ];
        let quoted: Vec<String> = cells.iter().map(|c| format!("\"{c}\"")).collect();
        text.push_str(&quoted.join(","));
        text.push_str("\r\n");
    }
    (text, written)
}
