//! Where a pool or commit limit comes from (ANALYSIS.md §4; peers.md §6).
//!
//! In order: the user's flag; a debugger's `!vm` over a dump of the host (its real `PagedPool Maximum`,
//! `NonPagedPool Max` and `Commit limit`); a Resource-Exhaustion-Detector 2004 event's figures; the poolmon
//! header's `Limit:` (the commit limit, KiB: paged pool is charged to commit, so paged pool can grow
//! at most by the commit headroom); the documented maxima for the OS release and RAM. The release is
//! read from the event log (6009's `6.01.` or Kernel-General 12's Major/MinorVersion) when present.

use crate::model::{DebuggerLimits, Event, EventKind, PoolSnapshot};

/// A Windows release family with its own pool maxima (x64; peers.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Vista / Server 2008 (6.0).
    Vista,
    /// Windows 7 / Server 2008 R2 (6.1).
    Win7,
    /// Windows 8 / Server 2012 (6.2).
    Win8,
    /// Windows 8.1 / Server 2012 R2 and later (6.3, 10.0).
    Win81OrLater,
}

/// One row of the x64 pool maxima table: the editable table of ANALYSIS.md §4.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolMaxima {
    /// The release family.
    pub release: Release,
    /// Display name.
    pub name: &'static str,
    /// Paged pool maximum, bytes (the smaller of this and the commit limit applies).
    pub paged_max: u64,
    /// Nonpaged pool maximum as a share of RAM.
    pub nonpaged_ram_share: f64,
    /// Nonpaged pool ceiling, bytes.
    pub nonpaged_cap: u64,
}

const GIB: u64 = 1 << 30;
const TIB: u64 = 1 << 40;

/// x64 pool maxima from Microsoft's "Memory Limits for Windows and Windows Server Releases".
pub const POOL_MAXIMA: [PoolMaxima; 4] = [
    PoolMaxima {
        release: Release::Vista,
        name: "x64 Vista/Server 2008",
        paged_max: 128 * GIB,
        nonpaged_ram_share: 0.40,
        nonpaged_cap: 128 * GIB,
    },
    PoolMaxima {
        release: Release::Win7,
        name: "x64 Windows 7/Server 2008 R2",
        paged_max: 128 * GIB,
        nonpaged_ram_share: 0.75,
        nonpaged_cap: 128 * GIB,
    },
    PoolMaxima {
        release: Release::Win8,
        name: "x64 Windows 8/Server 2012",
        paged_max: 384 * GIB,
        nonpaged_ram_share: 1.0,
        nonpaged_cap: 128 * GIB,
    },
    PoolMaxima {
        release: Release::Win81OrLater,
        name: "x64 Windows 8.1/Server 2012 R2 and later",
        paged_max: 15 * TIB + TIB / 2,
        nonpaged_ram_share: 1.0,
        nonpaged_cap: 16 * TIB,
    },
];

impl Release {
    /// The release of a Windows NT version number.
    pub fn from_version(major: u32, minor: u32) -> Option<Release> {
        match (major, minor) {
            (6, 0) => Some(Release::Vista),
            (6, 1) => Some(Release::Win7),
            (6, 2) => Some(Release::Win8),
            (6, 3..) | (10.., _) => Some(Release::Win81OrLater),
            _ => None,
        }
    }

    /// Its row of [`POOL_MAXIMA`].
    pub fn maxima(self) -> &'static PoolMaxima {
        POOL_MAXIMA.iter().find(|m| m.release == self).unwrap_or(&POOL_MAXIMA[3])
    }
}

/// The release named by the event log: Kernel-General 12 `MajorVersion`/`MinorVersion`, or 6009's
/// first value (`6.01.`). The last such event wins.
pub fn release_from_events(events: &[Event]) -> Option<Release> {
    let mut found = None;
    for e in events {
        let version = if let (Some(major), Some(minor)) = (e.data.get("MajorVersion"), e.data.get("MinorVersion")) {
            major.trim().parse().ok().zip(minor.trim().parse().ok())
        } else if e.event_id == 6009 {
            e.data.get("0").and_then(|v| {
                let mut parts = v.trim().trim_end_matches('.').split('.');
                let major = parts.next()?.parse().ok()?;
                let minor = parts.next()?.parse().ok()?;
                Some((major, minor))
            })
        } else {
            None
        };
        if let Some(r) = version.and_then(|(major, minor)| Release::from_version(major, minor)) {
            found = Some(r);
        }
    }
    found
}

/// What is known about a host's memory limits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostLimits {
    /// Commit limit and where it came from.
    pub commit: Option<(u64, String)>,
    /// Physical memory, bytes, and where it came from.
    pub ram: Option<(u64, String)>,
    /// Paged pool usage when a 2004 event fired with commit full.
    pub paged_at_2004: Option<u64>,
    /// The release, from the event log.
    pub release: Option<Release>,
    /// `!vm`'s paged pool maximum, bytes.
    pub paged_max: Option<u64>,
    /// `!vm`'s nonpaged pool maximum, bytes.
    pub nonpaged_max: Option<u64>,
}

/// Reads the host's limits from its debugger `!vm` output, 2004 events and poolmon headers (`!vm` first; within
/// a source the last value wins).
pub fn host_limits(events: &[Event], snaps: &[&PoolSnapshot], debugger: &[DebuggerLimits]) -> HostLimits {
    let mut out = HostLimits { release: release_from_events(events), ..HostLimits::default() };
    for vm in debugger {
        out.paged_max = vm.paged_pool_max.or(out.paged_max);
        out.nonpaged_max = vm.nonpaged_pool_max.or(out.nonpaged_max);
        if let Some(limit) = vm.commit_limit {
            out.commit = Some((limit, "!vm Commit limit".to_owned()));
        }
        if let Some(ram) = vm.physical_memory {
            out.ram = Some((ram, "!vm Physical Memory".to_owned()));
        }
    }
    let from_vm = (out.commit.is_some(), out.ram.is_some());
    for e in events {
        if let EventKind::ResourceExhaustion(r) = &e.kind {
            if let Some(limit) = r.commit_limit.filter(|_| !from_vm.0) {
                out.commit = Some((limit, "event 2004 SystemCommitLimit".to_owned()));
            }
            if let Some(ram) = r.physical_memory_size.filter(|_| !from_vm.1) {
                out.ram = Some((ram, "event 2004 PhysicalMemorySize".to_owned()));
            }
            // Paged pool at a 2004 is a paged limit only when commit really ran out then.
            let commit_full = match (r.commit_charge, r.commit_limit) {
                (Some(charge), Some(limit)) => charge as f64 >= 0.95 * limit as f64,
                _ => true,
            };
            if commit_full && r.paged_pool_usage.is_some() {
                out.paged_at_2004 = r.paged_pool_usage;
            }
        }
    }
    if out.commit.is_none() {
        if let Some(k) = snaps.iter().rev().find_map(|s| s.header.limit_kb) {
            out.commit = Some((k * 1024, "poolmon Limit:".to_owned()));
        }
    }
    if out.ram.is_none() {
        if let Some(k) = snaps.iter().rev().find_map(|s| s.header.memory_kb) {
            out.ram = Some((k * 1024, "poolmon Memory:".to_owned()));
        }
    }
    out
}

/// A resolved limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// Bytes.
    pub bytes: u64,
    /// Where it came from.
    pub source: String,
}

/// The paged pool limit. `headroom` is the commit limit minus the commit charge at the last sample,
/// when both are known: paged pool cannot grow past it.
pub fn paged_limit(flag: Option<u64>, host: &HostLimits, now: u64, headroom: Option<u64>) -> Option<Limit> {
    if let Some(bytes) = flag {
        return Some(Limit { bytes, source: "--limit-paged".to_owned() });
    }
    // The host's own maximum; paged pool is charged to commit, so the commit headroom binds when it is less.
    if let Some(max) = host.paged_max {
        let by_commit = headroom.map(|room| now.saturating_add(room)).filter(|&b| b < max);
        return Some(match by_commit {
            Some(bytes) => {
                let from = host.commit.as_ref().map_or("commit limit", |c| c.1.as_str());
                Limit { bytes, source: format!("commit headroom ({from}; below !vm PagedPoolMaximum)") }
            }
            None => Limit { bytes: max, source: "!vm PagedPoolMaximum".to_owned() },
        });
    }
    if let Some(bytes) = host.paged_at_2004 {
        return Some(Limit { bytes, source: "event 2004 PagedPoolUsage (paged pool when commit ran out)".to_owned() });
    }
    let table = host.release.unwrap_or(Release::Win81OrLater).maxima();
    let assumed = if host.release.is_some() { "" } else { " (release assumed)" };
    match headroom {
        Some(room) => {
            let by_commit = now.saturating_add(room);
            if by_commit <= table.paged_max {
                let from = host.commit.as_ref().map_or("commit limit", |c| c.1.as_str());
                Some(Limit { bytes: by_commit, source: format!("commit headroom ({from})") })
            } else {
                Some(Limit { bytes: table.paged_max, source: format!("table: {}{assumed}", table.name) })
            }
        }
        None => Some(Limit { bytes: table.paged_max, source: format!("table: {}{assumed}", table.name) }),
    }
}

/// The nonpaged pool limit: the flag, else `!vm`'s maximum, else the table's share of RAM (nonpaged pool lives
/// in RAM).
pub fn nonpaged_limit(flag: Option<u64>, host: &HostLimits) -> Option<Limit> {
    if let Some(bytes) = flag {
        return Some(Limit { bytes, source: "--limit-nonpaged".to_owned() });
    }
    if let Some(bytes) = host.nonpaged_max {
        return Some(Limit { bytes, source: "!vm NonPagedPoolMaximum".to_owned() });
    }
    let (ram, ram_from) = host.ram.clone()?;
    let table = host.release.unwrap_or(Release::Win81OrLater).maxima();
    let assumed = if host.release.is_some() { "" } else { ", release assumed" };
    let bytes = ((ram as f64 * table.nonpaged_ram_share) as u64).min(table.nonpaged_cap);
    let share = table.nonpaged_ram_share * 100.0;
    Some(Limit { bytes, source: format!("table: {}, {share:.0}% of RAM ({ram_from}{assumed})", table.name) })
}

/// The commit limit.
pub fn commit_limit(host: &HostLimits) -> Option<Limit> {
    host.commit.as_ref().map(|(bytes, source)| Limit { bytes: *bytes, source: source.clone() })
}

/// Reads a byte size: `3221225472`, `3G`, `2.5GiB`, `512M`, `640k`, `1.5 TB` (binary multiples:
/// Windows' own tools mean 1024 by K, M and G).
pub fn parse_bytes(text: &str) -> Option<u64> {
    let s = text.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: f64 = number.replace('_', "").parse().ok()?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.trim_end_matches('b').trim_end_matches('i');
    let scale: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number * scale;
    (0.0..1.8e19).contains(&bytes).then_some(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceRef;

    fn ev(id: u32, data: &[(&str, &str)]) -> Event {
        Event {
            source: SourceRef::line("e", 1),
            provider: "EventLog".into(),
            event_id: id,
            level: None,
            time: chrono::DateTime::UNIX_EPOCH,
            computer: None,
            channel: None,
            record_id: None,
            data: data.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            message: None,
            kind: EventKind::Other,
        }
    }

    #[test]
    fn release_from_6009_and_kernel_general_12() {
        assert_eq!(release_from_events(&[ev(6009, &[("0", "6.01."), ("1", "7601")])]), Some(Release::Win7));
        assert_eq!(
            release_from_events(&[ev(12, &[("MajorVersion", "10"), ("MinorVersion", "0")])]),
            Some(Release::Win81OrLater)
        );
        assert_eq!(release_from_events(&[ev(6005, &[])]), None);
    }

    #[test]
    fn nonpaged_limit_is_75_percent_of_ram_on_2008_r2() {
        let host = HostLimits {
            ram: Some((8 << 30, "poolmon Memory:".into())),
            release: Some(Release::Win7),
            ..HostLimits::default()
        };
        let limit = nonpaged_limit(None, &host).unwrap();
        assert_eq!(limit.bytes, 6 << 30);
        assert!(limit.source.contains("75% of RAM"), "{}", limit.source);
        assert_eq!(nonpaged_limit(Some(5), &host).unwrap().source, "--limit-nonpaged");
        assert!(nonpaged_limit(None, &HostLimits::default()).is_none());
    }

    #[test]
    fn paged_limit_order() {
        let mut host = HostLimits { commit: Some((4 << 30, "poolmon Limit:".into())), ..HostLimits::default() };
        assert_eq!(paged_limit(Some(7), &host, 0, None).unwrap().bytes, 7);
        let by_commit = paged_limit(None, &host, 1 << 30, Some(1 << 30)).unwrap();
        assert_eq!(by_commit.bytes, 2 << 30);
        assert_eq!(by_commit.source, "commit headroom (poolmon Limit:)");
        host.paged_at_2004 = Some(3 << 30);
        assert_eq!(paged_limit(None, &host, 1 << 30, Some(1 << 30)).unwrap().bytes, 3 << 30);
        let table = paged_limit(None, &HostLimits::default(), 0, None).unwrap();
        assert_eq!(table.bytes, 15 * TIB + TIB / 2);
    }

    #[test]
    fn vm_limits_come_first() {
        let vm = DebuggerLimits {
            paged_pool_max: Some(3 << 30),
            nonpaged_pool_max: Some(2 << 30),
            commit_limit: Some(8 << 30),
            ..DebuggerLimits::default()
        };
        let host = host_limits(&[], &[], &[vm]);
        assert_eq!(commit_limit(&host).unwrap().source, "!vm Commit limit");
        let paged = paged_limit(None, &host, 1 << 30, Some(4 << 30)).unwrap();
        assert_eq!((paged.bytes, paged.source.as_str()), (3 << 30, "!vm PagedPoolMaximum"));
        let tight = paged_limit(None, &host, 1 << 30, Some(1 << 30)).unwrap();
        assert_eq!(tight.bytes, 2 << 30);
        assert!(tight.source.contains("!vm Commit limit"), "{}", tight.source);
        assert_eq!(nonpaged_limit(None, &host).unwrap().source, "!vm NonPagedPoolMaximum");
        assert_eq!(paged_limit(Some(5), &host, 0, None).unwrap().source, "--limit-paged");
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_bytes("3G"), Some(3 << 30));
        assert_eq!(parse_bytes("2.5GiB"), Some(5 << 29));
        assert_eq!(parse_bytes("512M"), Some(512 << 20));
        assert_eq!(parse_bytes("512 mb"), Some(512 << 20));
        assert_eq!(parse_bytes("1024"), Some(1024));
        assert_eq!(parse_bytes("640k"), Some(640 << 10));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("3X"), None);
        assert_eq!(parse_bytes(""), None);
    }
}
