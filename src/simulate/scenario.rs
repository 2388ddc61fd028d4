//! What a simulation run is made of: the options (the CLI flags), and a [`Scenario`]: hosts, their pool
//! tags and how each one behaves, their handle counts, and what makes them hang.
//!
//! Scenarios are plain data built by [`crate::simulate::scenarios`]; the engine in
//! [`crate::simulate::host`] turns one host's spec into files, and [`crate::simulate::truth`] describes
//! the spec back as `truth.json`.

use chrono::{DateTime, Utc};

use crate::model::PoolType;

/// The named incidents `poolscope simulate` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScenarioName {
    /// The seed case: a Server 2008 R2 SP1 VM whose `Toke` (paged) pool grows ~15,700 allocations an
    /// hour once a security product's driver starts, until commit runs out after ~89 hours.
    LsassTokenLeak,
    /// A network driver leaks nonpaged buffers until nonpaged pool reaches its limit.
    NonpagedLeak,
    /// A cache that rises for hours and then plateaus (not a leak), next to a slow steady leak.
    CachePlateau,
    /// No leak: caches warm up, counters churn, a planned reboot.
    Healthy,
    /// Several hosts; one of them leaks.
    Fleet,
}

impl ScenarioName {
    /// Every scenario, in the order `--help` lists them.
    pub const ALL: [ScenarioName; 5] = [
        ScenarioName::LsassTokenLeak,
        ScenarioName::NonpagedLeak,
        ScenarioName::CachePlateau,
        ScenarioName::Healthy,
        ScenarioName::Fleet,
    ];

    /// The name on the command line and in `truth.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioName::LsassTokenLeak => "lsass-token-leak",
            ScenarioName::NonpagedLeak => "nonpaged-leak",
            ScenarioName::CachePlateau => "cache-plateau",
            ScenarioName::Healthy => "healthy",
            ScenarioName::Fleet => "fleet",
        }
    }

    /// One line saying what the scenario shows.
    pub fn description(self) -> &'static str {
        match self {
            ScenarioName::LsassTokenLeak => {
                "Server 2008 R2 VM: Toke (paged) leaks 1,664-byte tokens, lsass.exe Token handles grow, commit runs out"
            }
            ScenarioName::NonpagedLeak => "a network driver leaks nonpaged buffers until nonpaged pool runs out",
            ScenarioName::CachePlateau => {
                "a cache rises for hours then plateaus (not a leak) beside a slow steady leak"
            }
            ScenarioName::Healthy => "no leak: warm-up, churn, noise and a planned reboot",
            ScenarioName::Fleet => "several hosts (DIR/<HOST>/...), one of which leaks tokens",
        }
    }
}

impl std::fmt::Display for ScenarioName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ScenarioName {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScenarioName::ALL.into_iter().find(|n| n.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = ScenarioName::ALL.iter().map(|n| n.as_str()).collect();
            crate::Error::Usage(format!("unknown scenario {s:?} (expected one of: {})", names.join(", ")))
        })
    }
}

/// Text encoding of the text files written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEncoding {
    /// Single-byte ANSI, as poolmon and handle.exe write when redirected (all simulated text is ASCII).
    #[default]
    Ansi,
    /// UTF-16LE with a BOM, as Windows PowerShell 5.1's `Out-File` and `>` write (formats reference §1.5).
    Utf16,
}

/// Line endings of the text files written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Newline {
    /// CRLF, as the C runtime's text mode writes on Windows.
    #[default]
    Crlf,
    /// LF, as after a copy through a Unix tool.
    Lf,
}

/// How the collection loop records when each poolmon snapshot was taken (formats reference §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StampStyle {
    /// One growing `poolmon.log`; before each snapshot, cmd's `echo %DATE% %TIME% >> poolmon.log`
    /// (en-US: `Tue 05/22/2020 22:35:55.53 `, trailing space, hours below 10 space-padded).
    #[default]
    Cmd,
    /// One growing `poolmon.log`; before each snapshot, PowerShell's `Get-Date -Format o`
    /// (`2020-05-22T22:35:55.5300000+00:00`).
    Iso,
    /// One file per snapshot with the UTC time in its name: `poolmon-20200522T223555Z.txt`.
    FileName,
}

/// How a host's files are laid out in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Every file of a host in one folder (the archive's root when there is one host).
    #[default]
    Flat,
    /// As `poolscope kit`'s scripts write it: `<HOST>/<kind>/...` for every host (`poolmon/poolmon.log` with
    /// `Get-Date -Format o` stamps, `handle/`, `perfmon/counters-<boot>.csv`, `eventlog/System.evtx`).
    Kit,
}

/// Collections a run writes beyond poolmon, handle.exe and the System log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extras {
    /// perfmon counters (`logman ... -f csv`), one file per boot, sampled with each poolmon snapshot.
    pub perfmon: bool,
    /// PoolmonViz's `<yyyy-MM-dd>.pool.csv` beside poolmon, with each snapshot.
    pub pool_csv: bool,
    /// The WinDbg text (`!vm 1`, `!poolused 4`) of a kernel dump taken at each hang.
    pub debugger: bool,
}

/// The options of one run (`poolscope simulate` flags). `None` means the scenario's default.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Which incident.
    pub scenario: ScenarioName,
    /// Seed of every random stream: the same seed and options give a byte-identical archive.
    pub seed: u64,
    /// Length of the archive from the first boot, hours.
    pub hours: Option<f64>,
    /// Seconds between poolmon snapshots (the collection loop's sleep).
    pub interval_secs: u32,
    /// Number of hosts (fleet; for other scenarios extra hosts are healthy peers).
    pub hosts: Option<usize>,
    /// Number of background pool tags per host (besides the scenario's own tags).
    pub tags: Option<usize>,
    /// Text encoding.
    pub encoding: TextEncoding,
    /// Line endings.
    pub newline: Newline,
    /// How snapshot times are recorded.
    pub stamps: StampStyle,
    /// Cut the last poolmon snapshot of each host short (a copy taken while poolmon was writing).
    pub truncate_last: bool,
    /// Seconds between `handle.exe -s` summaries.
    pub handle_interval_secs: u32,
    /// Seconds between `handle.exe -a -p lsass.exe` dumps (0: none).
    pub dump_interval_secs: u32,
    /// When the first boot starts; `None` uses the scenario's date.
    pub start: Option<DateTime<Utc>>,
    /// How each host's files are laid out.
    pub layout: Layout,
    /// Collections beyond poolmon, handle.exe and the System log.
    pub extras: Extras,
}

impl SimOptions {
    /// The defaults for a scenario: 1-minute poolmon loop, hourly summaries, 6-hourly lsass dumps.
    pub fn new(scenario: ScenarioName, seed: u64) -> Self {
        Self {
            scenario,
            seed,
            hours: None,
            interval_secs: 60,
            hosts: None,
            tags: None,
            encoding: TextEncoding::Ansi,
            newline: Newline::Crlf,
            stamps: StampStyle::Cmd,
            truncate_last: false,
            handle_interval_secs: 3600,
            dump_interval_secs: 6 * 3600,
            start: None,
            layout: Layout::Flat,
            extras: Extras::default(),
        }
    }
}

/// A whole simulated incident.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Which one.
    pub name: ScenarioName,
    /// When the archive starts (the first boot of the earliest host).
    pub start: DateTime<Utc>,
    /// Its length, hours.
    pub hours: f64,
    /// The hosts; with more than one, each gets its own folder.
    pub hosts: Vec<HostSpec>,
}

/// The Windows release a host runs, as the event log and poolmon show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsSpec {
    /// Product name for truth.json (`Windows Server 2008 R2 SP1`).
    pub name: &'static str,
    /// Major version (6 for 2008 R2, 10 for 2016 and later).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Build number (7601).
    pub build: u32,
    /// QFE number (Kernel-General 12 `QfeVersion`).
    pub qfe: u32,
    /// Service pack text as 6009 prints it (`Service Pack 1`, or empty).
    pub service_pack: &'static str,
}

impl OsSpec {
    /// Windows Server 2008 R2 SP1 (6.1.7601), the seed case's OS.
    pub const SERVER_2008_R2_SP1: OsSpec = OsSpec {
        name: "Windows Server 2008 R2 SP1",
        major: 6,
        minor: 1,
        build: 7601,
        qfe: 24_214,
        service_pack: "Service Pack 1",
    };
    /// Windows Server 2012 R2 (6.3.9600).
    pub const SERVER_2012_R2: OsSpec =
        OsSpec { name: "Windows Server 2012 R2", major: 6, minor: 3, build: 9600, qfe: 19_846, service_pack: "" };
    /// Windows Server 2016 (10.0.14393).
    pub const SERVER_2016: OsSpec =
        OsSpec { name: "Windows Server 2016", major: 10, minor: 0, build: 14_393, qfe: 5_786, service_pack: "" };
}

/// The resource whose exhaustion hangs a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// Commit charge reaches the commit limit (paged pool is charged to commit; the seed case).
    Commit,
    /// Paged pool reaches its limit.
    PagedPool,
    /// Nonpaged pool reaches its limit.
    NonpagedPool,
}

impl Resource {
    /// `commit`, `paged_pool`, `nonpaged_pool`.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Commit => "commit",
            Resource::PagedPool => "paged_pool",
            Resource::NonpagedPool => "nonpaged_pool",
        }
    }
}

/// One simulated machine.
#[derive(Debug, Clone)]
pub struct HostSpec {
    /// `NetBIOS` name (`SRV-APP01`), also the folder name in multi-host archives.
    pub name: String,
    /// Domain `NetBIOS` name (`CONTOSO`).
    pub domain: String,
    /// DNS suffix; events carry `NAME.suffix` as their Computer.
    pub dns_suffix: String,
    /// Operating system.
    pub os: OsSpec,
    /// Physical memory visible to Windows, bytes (poolmon `Memory:`).
    pub ram_bytes: u64,
    /// Commit limit, bytes (poolmon `Limit:`): RAM plus page files.
    pub commit_limit_bytes: u64,
    /// Paged pool maximum, bytes (the documented limit for the release and RAM; peers §6).
    pub paged_limit_bytes: u64,
    /// Nonpaged pool maximum, bytes.
    pub nonpaged_limit_bytes: u64,
    /// What hangs the host when it runs out, if anything in this scenario does.
    pub exhaustion: Option<Resource>,
    /// Hours after the archive start at which this host's first boot begins.
    pub first_boot_offset_h: f64,
    /// Hours after the archive start of planned restarts (User32 1074, clean shutdown).
    pub planned_restarts_h: Vec<f64>,
    /// Pool bytes poolmon's totals hold beyond the tagged rows (untagged and overhead), paged.
    pub paged_overhead_bytes: u64,
    /// Same, nonpaged.
    pub nonpaged_overhead_bytes: u64,
    /// Commit charged by processes once warmed up, bytes (besides pool).
    pub process_commit_bytes: f64,
    /// Commit the kernel holds besides pool (driver images, page tables), bytes.
    pub kernel_commit_bytes: f64,
    /// Pool tags, background and scenario-specific.
    pub tags: Vec<TagSpec>,
    /// Handle counts and the lsass.exe handle table.
    pub handles: HandleSpec,
    /// Which process, handle type and account grow with the leak, when one does.
    pub responsible: Option<Responsible>,
    /// Relative standard deviation of the host's activity (logons per minute and the like), which
    /// modulates leaks that follow activity; mean 1.
    pub activity_sd: f64,
    /// Correlation time of that activity, hours.
    pub activity_tau_h: f64,
    /// A WPR "Pool usage" trace taken during the leak, exported from WPA's pool table, when the scenario has one.
    pub wpa_trace: Option<WpaTrace>,
    /// Drivers and minifilters loaded besides Windows' own, written into the host's driver inventory
    /// (`driverquery`, `fltmc`; issue 13).
    pub third_party_drivers: Vec<ThirdPartyDriver>,
}

/// A driver not shipped with Windows, as the host's driver inventory lists it.
#[derive(Debug, Clone)]
pub struct ThirdPartyDriver {
    /// Module (service) name (`ctxscan`).
    pub name: String,
    /// Display name (`Contoso Scan Filter Driver`).
    pub display_name: String,
    /// The company (`driverquery /si` `Manufacturer` of its device).
    pub company: String,
    /// Its minifilter altitude, when it is a file-system minifilter.
    pub altitude: Option<String>,
}

/// A WPR "Pool usage" trace of a leaking tag, as `wpaexporter` exports WPA's pool table (issue 13).
#[derive(Debug, Clone)]
pub struct WpaTrace {
    /// The leaking tag the trace was taken for.
    pub tag: String,
    /// Hours after the first boot's start at which the trace ends (earlier when the boot is shorter).
    pub ends_after_h: f64,
    /// How long the trace ran, hours.
    pub hours: f64,
    /// Frames of the leaking allocation's stack, outermost first (WPA's order), ending at the pool allocator.
    pub stack: Vec<String>,
    /// Frames of a rarer path to the same allocation (the tag's other allocations), outermost first.
    pub other_stack: Vec<String>,
}

/// How one pool tag (in one pool type) behaves within a boot.
#[derive(Debug, Clone)]
pub struct TagSpec {
    /// The 4-character tag, spaces kept (`Key `).
    pub tag: String,
    /// Paged or nonpaged.
    pub pool: PoolType,
    /// Outstanding allocations once warmed up (the level the noise moves around).
    pub base: f64,
    /// Mean bytes per allocation.
    pub per_alloc: u32,
    /// Relative spread of the mean allocation size over time (0: a fixed-size object).
    pub size_spread: f64,
    /// Allocations an hour that are freed again (traffic that moves Allocs and Frees, not Diff).
    pub churn_per_hour: f64,
    /// Relative standard deviation of the level noise.
    pub noise: f64,
    /// Correlation time of the level noise, hours.
    pub noise_tau_h: f64,
    /// Relative amplitude of a daily cycle (busy days, quiet nights); 0 for none.
    pub daily: f64,
    /// A cache that starts low after boot and fills up.
    pub warmup: Option<Warmup>,
    /// Hours after boot before the tag's first allocation (the row appears then).
    pub first_use_h: f64,
    /// A leak on top of the level, when this tag leaks.
    pub leak: Option<LeakSpec>,
}

/// A cache that fills after boot: level(t) = base * (from + (1 - from) * (1 - e^(-t/tau))).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Warmup {
    /// Fraction of the warmed-up level present right after boot.
    pub from: f64,
    /// Time constant, hours (95% filled after 3 tau).
    pub tau_h: f64,
}

/// A leak: allocations that are never freed.
#[derive(Debug, Clone, PartialEq)]
pub struct LeakSpec {
    /// Leaked allocations an hour (the true mean rate).
    pub allocs_per_hour: f64,
    /// Bytes per leaked allocation.
    pub per_alloc_bytes: u32,
    /// Hours after boot at which the leaking driver starts.
    pub starts_after_h: f64,
    /// The driver that leaks (truth only; poolmon does not show it without `/g`).
    pub driver: String,
    /// Whether the rate follows the host's activity (logons), which ties it to handle growth.
    pub follows_activity: bool,
}

/// Handle counts of a host and the contents of lsass.exe's handle table.
#[derive(Debug, Clone)]
pub struct HandleSpec {
    /// System-wide handles once warmed up, without any leak (`Total handles:` of `handle -s`).
    pub system_handles: f64,
    /// Handles lsass.exe holds once warmed up, without any leak.
    pub lsass_handles: u32,
    /// The domain accounts with legitimate logon sessions (tokens in lsass.exe).
    pub accounts: Vec<String>,
    /// Handles that leak, if any.
    pub leak: Option<HandleLeak>,
}

/// Handles a process leaks.
#[derive(Debug, Clone, PartialEq)]
pub struct HandleLeak {
    /// Account whose logon tokens leak (`CONTOSO\svc-scan`).
    pub account: String,
    /// Leaked handles an hour (mean).
    pub handles_per_hour: f64,
    /// Hours after boot at which the leak starts.
    pub starts_after_h: f64,
}

/// The process, handle type and account the leak belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responsible {
    /// Image name (`lsass.exe`).
    pub process: String,
    /// Handle type (`Token`).
    pub handle_type: String,
    /// Account (`CONTOSO\svc-scan`).
    pub account: String,
}

/// Parses a duration such as `90s`, `1m`, `15m`, `2h` or `1d` (a bare number means seconds).
pub fn parse_duration_secs(text: &str) -> crate::Result<u32> {
    let text = text.trim();
    let (digits, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len()));
    let value: f64 =
        digits.parse().map_err(|_| crate::Error::Usage(format!("{text:?}: expected a duration like 1m, 90s, 2h")))?;
    let factor = match unit {
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(crate::Error::Usage(format!("{text:?}: unknown unit {unit:?} (use s, m, h or d)"))),
    };
    let secs = value * factor;
    if !(1.0..=f64::from(u32::MAX)).contains(&secs) {
        return Err(crate::Error::Usage(format!("{text:?}: must be at least one second")));
    }
    Ok(secs.round() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_names_round_trip() {
        for name in ScenarioName::ALL {
            assert_eq!(name.as_str().parse::<ScenarioName>().unwrap(), name);
        }
        let err = "nope".parse::<ScenarioName>().unwrap_err().to_string();
        assert!(err.contains("lsass-token-leak"), "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("1m").unwrap(), 60);
        assert_eq!(parse_duration_secs("90s").unwrap(), 90);
        assert_eq!(parse_duration_secs("90").unwrap(), 90);
        assert_eq!(parse_duration_secs("1.5h").unwrap(), 5400);
        assert_eq!(parse_duration_secs("1d").unwrap(), 86_400);
        assert!(parse_duration_secs("0m").is_err());
        assert!(parse_duration_secs("5y").is_err());
        assert!(parse_duration_secs("m").is_err());
    }
}
