//! WinDbg/kd text of a kernel dump taken at the hang (issue 13): the banner with `Debug session time:` (the
//! dump's time), then `!vm 1` (the pool maxima and the commit limit) and `!poolused 4` (outstanding allocations
//! and bytes per tag, paged pool first), as an engineer saves them with `.logopen`.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::pool_model::merge_by_tag;
use crate::model::PoolType;

/// Day and month names as the debugger prints them.
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Bytes of a page (x64).
const PAGE: u64 = 4096;

/// One tag in the dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpTag<'a> {
    /// The 4-character tag.
    pub tag: &'a str,
    /// Its pool.
    pub pool: PoolType,
    /// Outstanding allocations.
    pub allocs: u64,
    /// Bytes outstanding.
    pub bytes: u64,
}

/// What `!vm` reports, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmFigures {
    /// Physical memory.
    pub physical: u64,
    /// Available physical memory.
    pub available: u64,
    /// Nonpaged pool in use.
    pub nonpaged: u64,
    /// Nonpaged pool maximum.
    pub nonpaged_max: u64,
    /// Paged pool in use.
    pub paged: u64,
    /// Paged pool maximum.
    pub paged_max: u64,
    /// Committed memory.
    pub committed: u64,
    /// Commit limit.
    pub commit_limit: u64,
}

/// The kernel line of the banner: `Windows 7 Kernel Version 7601 (Service Pack 1) MP (2 procs) Free x64`.
fn kernel_line(major: u32, minor: u32, build: u32, service_pack: &str) -> String {
    let name = match (major, minor) {
        (6, 0) => "Vista",
        (6, 1) => "7",
        (6, 2) => "8",
        (6, 3) => "8.1",
        _ => "10",
    };
    let sp = if service_pack.is_empty() { String::new() } else { format!(" ({service_pack})") };
    format!("Windows {name} Kernel Version {build}{sp} MP (2 procs) Free x64")
}

/// `   708133 (   2832532 Kb)`: pages and KiB as `!vm` prints them.
fn pages(bytes: u64) -> String {
    format!("{:>8} ({:>10} Kb)", bytes / PAGE, bytes / 1024)
}

/// The saved debugger session for a dump written at `at`, `uptime_secs` after boot.
pub fn dump_text(
    os: (u32, u32, u32, &str),
    at: DateTime<Utc>,
    uptime_secs: u64,
    vm: &VmFigures,
    tags: &[DumpTag<'_>],
) -> String {
    let mut t = String::new();
    t.push_str("Microsoft (R) Windows Debugger Version 10.0.22621.1 AMD64\n\n");
    t.push_str(
        "Loading Dump File [C:\\Windows\\MEMORY.DMP]\nKernel Bitmap Dump File: Kernel address space is available\n\n",
    );
    let _ = writeln!(t, "{}", kernel_line(os.0, os.1, os.2, os.3));
    let _ = writeln!(
        t,
        "Debug session time: {} {} {:>2} {:02}:{:02}:{:02}.{:03} {} (UTC + 0:00)",
        WEEKDAYS[at.weekday().num_days_from_monday() as usize],
        MONTHS[at.month0() as usize],
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.timestamp_subsec_millis(),
        at.year()
    );
    let (days, rest) = (uptime_secs / 86_400, uptime_secs % 86_400);
    let _ = writeln!(t, "System Uptime: {days} days {}:{:02}:{:02}.000\n", rest / 3600, rest / 60 % 60, rest % 60);
    t.push_str("0: kd> !vm 1\n\n*** Virtual Memory Usage ***\n");
    let _ = writeln!(t, "\tPhysical Memory:     {}", pages(vm.physical));
    let _ = writeln!(t, "\tAvailable Pages:     {}", pages(vm.available));
    let _ = writeln!(t, "\tNonPagedPool Usage:  {}", pages(vm.nonpaged));
    let _ = writeln!(t, "\tNonPagedPool Max:    {}", pages(vm.nonpaged_max));
    let _ = writeln!(t, "\tPagedPool 0 Usage:   {}", pages(vm.paged));
    let _ = writeln!(t, "\tPagedPool Usage:     {}", pages(vm.paged));
    let _ = writeln!(t, "\tPagedPool Maximum:   {}", pages(vm.paged_max));
    let _ = writeln!(t, "\tCommitted pages:     {}", pages(vm.committed));
    let _ = writeln!(t, "\tCommit limit:        {}", pages(vm.commit_limit));
    t.push_str("\n\n0: kd> !poolused 4\n....\n Sorting by Paged Pool Consumed\n\n");
    t.push_str(
        "               NonPaged                  Paged\n Tag     Allocs         Used     Allocs         Used\n\n",
    );
    // One row per tag, both pools; paged bytes first, as flag 4 sorts.
    let mut rows: Vec<(&str, [u64; 4])> = merge_by_tag(tags.iter().map(|t| (t.tag, t.pool, [t.allocs, t.bytes])))
        .into_iter()
        .map(|(tag, [np, p])| (tag, [np[0], np[1], p[0], p[1]]))
        .collect();
    rows.sort_by(|a, b| b.1[3].cmp(&a.1[3]).then_with(|| b.1[1].cmp(&a.1[1])).then_with(|| a.0.cmp(b.0)));
    let mut total = [0u64; 4];
    for (tag, c) in &rows {
        for (sum, v) in total.iter_mut().zip(c) {
            *sum += v;
        }
        let _ = writeln!(t, " {tag:<4} {:>10} {:>12} {:>10} {:>12}", c[0], c[1], c[2], c[3]);
    }
    let _ = writeln!(t, " TOTAL {:>9} {:>12} {:>10} {:>12}", total[0], total[1], total[2], total[3]);
    t.push_str("0: kd> \n");
    t
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::TimeSettings;
    use crate::parse::{parse_bytes, FileContext, Format};

    #[test]
    fn the_dump_text_reads_back_as_one_snapshot_at_the_dump_time_with_vm_limits() {
        let at = Utc.with_ymd_and_hms(2020, 5, 22, 13, 5, 9).unwrap();
        let vm = VmFigures {
            physical: 4 << 30,
            available: 400 << 20,
            nonpaged: 90 << 20,
            nonpaged_max: 3 << 30,
            paged: 2_800 << 20,
            paged_max: 3 << 30,
            committed: 4_300 << 20,
            commit_limit: 4_352 << 20,
        };
        let tags = [
            DumpTag { tag: "Toke", pool: PoolType::Paged, allocs: 1_394_724, bytes: 2_320_820_736 },
            DumpTag { tag: "Irp ", pool: PoolType::Nonpaged, allocs: 1_000, bytes: 288_000 },
            DumpTag { tag: "Irp ", pool: PoolType::Paged, allocs: 2, bytes: 100 },
        ];
        let text = dump_text((6, 1, 7601, "Service Pack 1"), at, 3 * 86_400 + 61, &vm, &tags);
        assert!(text.contains("Debug session time: Fri May 22 13:05:09.000 2020 (UTC + 0:00)"), "{text}");
        let ctx = FileContext { path: "dump.txt".into(), time: TimeSettings::default(), ..FileContext::default() };
        let parsed = parse_bytes(text.as_bytes(), Some(Format::Poolused), &ctx);
        assert_eq!(parsed.pool_snapshots.len(), 1, "{parsed:#?}");
        let snap = &parsed.pool_snapshots[0];
        assert_eq!(snap.taken_at, Some(at));
        let toke = snap.rows.iter().find(|r| r.tag == "Toke").expect("Toke");
        assert_eq!((toke.pool, toke.bytes), (PoolType::Paged, 2_320_820_736));
        assert_eq!(snap.rows.len(), 3, "{:#?}", snap.rows);
        let limits = parsed.limits.first().expect("!vm limits");
        assert_eq!(limits.paged_pool_max, Some(3 << 30));
        assert_eq!(limits.commit_limit, Some(4_352 << 20));
    }
}
