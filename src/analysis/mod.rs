//! Analysis: pure functions from a [`crate::model::Dataset`] (through [`crate::frame`]) to an [`Analysis`].
//!
//! `../shared/design/ANALYSIS.md` is the specification. The result types here are what
//! `poolscope analyze --format json` prints and what every report renders; each array is flat and
//! each element carries its `host` and `boot`, so `jq` and dataframe tools can use them directly.

pub mod attribution;
pub mod block;
pub mod boots;
pub mod correlate;
pub mod diff;
pub mod drivers;
pub mod eventlog;
pub mod growth;
pub mod handle_counts;
pub mod handle_growth;
pub mod host;
pub mod limits;
pub mod perfmon;
pub mod process_growth;
pub mod projection;
pub mod stacks;
pub mod stats;
pub mod suspects;
pub mod verdict;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Diagnostic, PoolType};

/// Version of the JSON layout of [`Analysis`]; bumped on any incompatible change.
pub const ANALYSIS_SCHEMA_VERSION: u32 = 1;

/// Everything `analyze` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// [`ANALYSIS_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// One plain-words verdict per host, most serious first.
    pub verdicts: Vec<Verdict>,
    /// Boots found per host.
    pub boots: Vec<Boot>,
    /// Growth of every (tag, pool) series that passed the trend test, ranked by sustained bytes/hour.
    pub suspects: Vec<Suspect>,
    /// Tags that grow like a leak but slow down like a cache warming up: not ranked, with what would
    /// decide them (ANALYSIS.md §3).
    #[serde(default)]
    pub undecided: Vec<Undecided>,
    /// The larger growers that passed the trend test but were not flagged, with why (a cache that
    /// levelled off, growth within the series' wander...): the answer to "why not my tag?". The same
    /// reasons are also given as Info diagnostics.
    #[serde(default)]
    pub rejected: Vec<Rejected>,
    /// Time to exhaustion of paged pool, nonpaged pool and commit.
    pub projections: Vec<Projection>,
    /// Who holds the objects of each suspect tag that allocates a kernel object: process, type, account and
    /// their shares of the growth, per boot.
    #[serde(default)]
    pub attributions: Vec<attribution::Attribution>,
    /// Tag series against handle series (process, type, account).
    pub correlations: Vec<Correlation>,
    /// Processes whose perfmon Handle Count grows, per boot, fastest first (absent without perfmon counters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub process_growth: Vec<process_growth::ProcessGrowth>,
    /// Who allocates each tag a WPA pool trace holds (AIFO allocations, commonest size, callers), per host:
    /// suspects first, then every other traced tag.
    #[serde(default)]
    pub allocation_stacks: Vec<stacks::AllocationStacks>,
    /// Per-boot series of pool totals and suspect tags, for charts (not needed by scripts).
    #[serde(default)]
    pub series: Vec<Series>,
    /// The parameters the analysis ran with.
    pub parameters: Parameters,
    /// Diagnostics from reading the inputs and from the analysis.
    pub diagnostics: Vec<Diagnostic>,
}

/// The analysis' conclusion for one host, in plain words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Host.
    pub host: String,
    /// Boot the verdict is about (the last boot with a leak).
    pub boot: u32,
    /// Whether a significant leak was found (drives `--fail-on leak`).
    pub leak_found: bool,
    /// The verdict in five short lines (what leaks, how fast, when it runs out, who, evidence), shown first in
    /// every output; [`Verdict::text`] is the explanation below it.
    #[serde(default)]
    pub block: block::VerdictBlock,
    /// One or a few sentences: the tag, its rate and share, the projection and the attribution.
    pub text: String,
}

/// One boot of one host: a stretch of time in which counters only grow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Boot {
    /// Host.
    pub host: String,
    /// Boot number within the host, from 0.
    pub boot: u32,
    /// First sample (or boot event) time.
    pub start: DateTime<Utc>,
    /// Last sample time.
    pub end: DateTime<Utc>,
    /// How the boot's start was found (`event 6005`, `page faults dropped`, `allocs dropped`, `first sample`).
    pub start_evidence: String,
    /// How the boot ended (`2004 at ...`, `6008 after`, `41 after`, `still running`).
    pub end_evidence: String,
    /// Whether the boot ended in exhaustion or a hang (2004, 2019/2020 inside it; 41/6008 after it; or, for a
    /// boot a reboot ended, its pool or commit at its limit at the last sample): the boot a post-mortem is about.
    #[serde(default)]
    pub died: bool,
    /// Number of pool snapshots in the boot.
    pub pool_samples: usize,
    /// Start of the fitting window after warm-up.
    pub fit_start: DateTime<Utc>,
    /// Set when the boot's capture is too short to separate a leak from warm-up: it then has no suspects
    /// and no projections.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub too_short: Option<TooShort>,
}

/// A boot too short to separate a leak from warm-up ([`suspects::MIN_FIT_HOURS`] of fitting window).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TooShort {
    /// Hours of samples in the boot (first to last sample).
    pub hours: f64,
    /// Hours of samples the boot would need (its warm-up plus the minimum fitting window).
    pub need_hours: f64,
}

/// A tag that grew but is not a suspect, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    /// Host.
    pub host: String,
    /// Boot.
    pub boot: u32,
    /// Pool tag.
    pub tag: String,
    /// Pool type.
    pub pool: PoolType,
    /// Why it is not a suspect (`levels off (no sustained growth over the last half)`).
    pub reason: String,
    /// Theil-Sen slope of bytes over the fitting window, bytes per hour.
    pub bytes_per_hour: f64,
    /// Theil-Sen slope over the last half of the window, bytes per hour (near 0: a plateau).
    pub late_bytes_per_hour: f64,
    /// Benjamini-Hochberg adjusted p-value of the trend test.
    pub q: f64,
}

/// A tag whose growth is slowing down like a cache warming up, without a fixed per-allocation size: neither
/// a suspect nor cleared (ANALYSIS.md §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Undecided {
    /// Host.
    pub host: String,
    /// Boot.
    pub boot: u32,
    /// Pool tag.
    pub tag: String,
    /// Pool type.
    pub pool: PoolType,
    /// Theil-Sen slope of bytes over the fitting window, bytes per hour.
    pub bytes_per_hour: f64,
    /// Theil-Sen slope over the first half of the window, bytes per hour.
    pub early_bytes_per_hour: f64,
    /// Theil-Sen slope over the last half of the window, bytes per hour.
    pub late_bytes_per_hour: f64,
    /// Theil-Sen slope of outstanding allocations over the first half of the window, per hour.
    #[serde(default)]
    pub early_outstanding_per_hour: f64,
    /// The same over the last half.
    #[serde(default)]
    pub late_outstanding_per_hour: f64,
    /// Median bytes per outstanding allocation (not fixed).
    pub per_alloc_bytes: f64,
    /// Hours more of samples that would decide it.
    pub more_hours: f64,
    /// What would decide it, in words.
    pub decide: String,
}

/// A (tag, pool) series that grows, with its statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suspect {
    /// Host.
    pub host: String,
    /// Boot.
    pub boot: u32,
    /// Rank within (host, boot), from 1.
    pub rank: u32,
    /// Pool tag.
    pub tag: String,
    /// Pool type.
    pub pool: PoolType,
    /// Theil-Sen slope of bytes, bytes per hour.
    pub bytes_per_hour: f64,
    /// 95% confidence interval of the Theil-Sen slope, bytes per hour.
    pub bytes_per_hour_ci: [f64; 2],
    /// OLS slope of bytes, bytes per hour (for comparison).
    pub ols_bytes_per_hour: f64,
    /// OLS R² of bytes against time.
    pub r_squared: f64,
    /// Theil-Sen slope of outstanding allocations, per hour.
    pub outstanding_per_hour: f64,
    /// Median bytes per outstanding allocation over the fit window.
    pub per_alloc_bytes: f64,
    /// Whether Per Alloc stays within a few percent (a leaked fixed-size object).
    pub per_alloc_stable: bool,
    /// Allocations per free over the fit window.
    pub alloc_free_ratio: f64,
    /// Share of positive steps.
    pub positive_step_share: f64,
    /// This series' slope as a share of the pool total's sustained slope (0..1).
    pub share_of_growth: f64,
    /// Mann-Kendall p-value (autocorrelation-corrected).
    pub trend_p: f64,
    /// Benjamini-Hochberg adjusted p-value across all series of the host and boot.
    pub trend_q: f64,
    /// Last - first bytes over the boot (what peers report; never ranked on).
    pub end_point_delta_bytes: i64,
    /// Bytes at the last sample.
    pub bytes_now: u64,
    /// Outstanding allocations at the last sample.
    pub outstanding_now: u64,
    /// `Mapped_Driver` text or pooltag description, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub driver: Option<String>,
    /// What the tag is (built-in notes or pooltag.txt), when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// Boots (of the same host) in which the same tag grew at a similar rate.
    pub repeats_in_boots: Vec<u32>,
}

/// Which pool or memory limit a projection is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// Paged pool.
    Paged,
    /// Nonpaged pool.
    Nonpaged,
    /// Commit charge against the commit limit.
    Commit,
}

/// Time to exhaustion of one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    /// Host.
    pub host: String,
    /// Boot.
    pub boot: u32,
    /// Resource.
    pub pool: Resource,
    /// Limit in bytes.
    pub limit_bytes: u64,
    /// Where the limit came from (`--limit-paged`, `event 2004 commit limit`, `poolmon Limit:`, `table: ...`).
    pub limit_source: String,
    /// Usage at the last sample, bytes.
    pub now_bytes: u64,
    /// Time of the last sample.
    pub now_at: DateTime<Utc>,
    /// Sustained growth used for the projection, bytes per hour.
    pub bytes_per_hour: f64,
    /// How the sustained rate was built (`suspects' robust slopes + residual trend`).
    pub rate_source: String,
    /// Projected exhaustion time, when growing.
    pub exhaustion_at: Option<DateTime<Utc>>,
    /// Range of the projected exhaustion time from the slope's confidence interval.
    pub exhaustion_range: Option<[DateTime<Utc>; 2]>,
    /// The naive projection from a straight-line fit of the total (shown for comparison).
    pub naive_exhaustion_at: Option<DateTime<Utc>>,
    /// When usage crosses 60% of the limit (PAL's warning band).
    pub warning_at: Option<DateTime<Utc>>,
    /// When usage crosses 80% of the limit (PAL's critical band).
    pub critical_at: Option<DateTime<Utc>>,
    /// When the archive shows the exhaustion happened (2004, 2019/2020, 6008 or 41 after the last sample).
    pub observed_exhaustion_at: Option<DateTime<Utc>>,
    /// The event that shows it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub observed_evidence: Option<String>,
}

/// A tag series that moves with a handle series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// Host.
    pub host: String,
    /// Boot.
    pub boot: u32,
    /// Pool tag.
    pub tag: String,
    /// Process image name (`lsass.exe`), or `(system)` for system-wide counts.
    pub process: String,
    /// Handle type (`Token`).
    pub handle_type: String,
    /// Account whose handles grow (from Token handle names), when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account: Option<String>,
    /// Spearman coefficient on per-interval increments, at the best lag.
    pub coefficient: f64,
    /// Lag in samples at which the coefficient is strongest (positive: handles follow the tag).
    pub lag: i32,
    /// Number of joined increments.
    pub samples: usize,
    /// Handle growth per hour.
    pub handles_per_hour: f64,
    /// Whether the tag is the kernel object of the handle type (Toke/Token, Proc/Process, ...).
    pub invariant: bool,
    /// Benjamini-Hochberg q-value of the coefficient over every series tested against the tag, with the lag
    /// search counted (Bonferroni over the lags tried).
    #[serde(default = "one")]
    pub q: f64,
}

fn one() -> f64 {
    1.0
}

/// A time series for charts: one per (host, boot, name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Host.
    pub host: String,
    /// Boot.
    pub boot: u32,
    /// What it is: `paged_total`, `nonpaged_total`, `commit`, `tag:Toke:paged`, `handles:lsass.exe:Token`.
    pub name: String,
    /// Sample times.
    pub times: Vec<DateTime<Utc>>,
    /// Values (bytes or counts).
    pub values: Vec<f64>,
}

/// Parameters the analysis ran with (echoed in reports).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Parameters {
    /// Warm-up excluded at the start of each boot, hours (`None`: the default rule).
    pub warmup_hours: Option<f64>,
    /// `--limit-paged`, bytes.
    pub limit_paged: Option<u64>,
    /// `--limit-nonpaged`, bytes.
    pub limit_nonpaged: Option<u64>,
    /// False-discovery rate for the trend tests.
    pub fdr: f64,
    /// Time zone used for local times.
    pub tz: String,
}

/// Options of [`analyze`].
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Warm-up excluded at the start of each boot, hours (`None`: 10% of the boot or 1 hour,
    /// whichever is shorter).
    pub warmup_hours: Option<f64>,
    /// Paged pool limit, bytes (`--limit-paged`).
    pub limit_paged: Option<u64>,
    /// Nonpaged pool limit, bytes (`--limit-nonpaged`).
    pub limit_nonpaged: Option<u64>,
    /// The suspect rule (false-discovery rate, material-size floor, persistence).
    pub rule: suspects::SuspectRule,
    /// Time zone the inputs' local times were read in (echoed in [`Parameters`]).
    pub tz: String,
    /// Tag descriptions (built-in notes, plus pooltag.txt when given).
    pub descriptions: crate::parse::pooltag::TagDescriptions,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        Self {
            warmup_hours: None,
            limit_paged: None,
            limit_nonpaged: None,
            rule: suspects::SuspectRule::default(),
            tz: "UTC".to_owned(),
            descriptions: crate::parse::pooltag::TagDescriptions::builtin(),
        }
    }
}

/// Analyses every host of a dataset (hosts in parallel; the output is sorted by host, then boot,
/// then rank, so it is the same on every run). The dataset's diagnostics come first in
/// [`Analysis::diagnostics`], then the analysis' own.
pub fn analyze(dataset: &crate::model::Dataset, options: &AnalyzeOptions) -> Analysis {
    analyze_loading(dataset, options, &|_, data| (std::borrow::Cow::Borrowed(data), Vec::new()))
}

/// Loads the full data of one host from what the dataset holds of it, with the diagnostics of reading it (see
/// [`analyze_loading`]).
pub type LoadHost<'a> = dyn for<'d> Fn(
        &str,
        &'d crate::model::HostData,
    ) -> (std::borrow::Cow<'d, crate::model::HostData>, Vec<crate::model::Diagnostic>)
    + Sync
    + 'a;

/// [`analyze`] over a dataset whose hosts are completed by `load` just before each is analysed and dropped
/// right after (a [`crate::ingest::survey_deferred`] holds no poolmon or handle.exe records; `load` reads them): peak memory
/// is that of the hosts analysed at once (one per core), not of the fleet.
pub fn analyze_loading(dataset: &crate::model::Dataset, options: &AnalyzeOptions, load: &LoadHost<'_>) -> Analysis {
    use rayon::prelude::*;
    let hosts: Vec<(&String, &crate::model::HostData)> = dataset.hosts.iter().collect();
    let (read, results): (Vec<Vec<crate::model::Diagnostic>>, Vec<host::HostResult>) = hosts
        .par_iter()
        .map(|(name, data)| {
            let (data, read) = load(name, data);
            (read, host::analyse_host(name, &data, options))
        })
        .unzip();
    // What reading the hosts said comes before what their analysis says; a warning every host's files give
    // (a missing zone) is said once.
    let read = crate::ingest::collapse_repeats(read.into_iter().flatten().collect());
    let mut analysis = Analysis {
        schema_version: ANALYSIS_SCHEMA_VERSION,
        verdicts: Vec::new(),
        boots: Vec::new(),
        suspects: Vec::new(),
        undecided: Vec::new(),
        rejected: Vec::new(),
        projections: Vec::new(),
        attributions: Vec::new(),
        correlations: Vec::new(),
        process_growth: Vec::new(),
        allocation_stacks: Vec::new(),
        series: Vec::new(),
        parameters: Parameters {
            warmup_hours: options.warmup_hours,
            limit_paged: options.limit_paged,
            limit_nonpaged: options.limit_nonpaged,
            fdr: options.rule.fdr,
            tz: options.tz.clone(),
        },
        diagnostics: dataset.diagnostics.iter().cloned().chain(read).collect(),
    };
    for r in results {
        analysis.verdicts.extend(r.verdict);
        analysis.boots.extend(r.boots);
        analysis.suspects.extend(r.suspects);
        analysis.undecided.extend(r.undecided);
        analysis.rejected.extend(r.rejected);
        analysis.projections.extend(r.projections);
        analysis.attributions.extend(r.attributions);
        analysis.correlations.extend(r.correlations);
        analysis.process_growth.extend(r.process_growth);
        analysis.allocation_stacks.extend(r.allocation_stacks);
        analysis.series.extend(r.series);
        analysis.diagnostics.extend(r.diagnostics);
    }
    // Most serious first: hosts with a leak, then the fastest top suspect, then the name.
    let top_rate = |v: &Verdict| {
        analysis
            .suspects
            .iter()
            .filter(|s| s.host == v.host && s.boot == v.boot && s.rank == 1)
            .map(|s| s.bytes_per_hour)
            .next()
            .unwrap_or(0.0)
    };
    let mut verdicts = std::mem::take(&mut analysis.verdicts);
    verdicts.sort_by(|a, b| {
        b.leak_found
            .cmp(&a.leak_found)
            .then_with(|| top_rate(b).total_cmp(&top_rate(a)))
            .then_with(|| a.host.cmp(&b.host))
    });
    analysis.verdicts = verdicts;
    analysis
}
