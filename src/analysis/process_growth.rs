//! Which process grows, from perfmon's per-process counters (issue 13): `Process(*)\Handle Count` and the pool
//! bytes charged to each process, over one boot.
//!
//! handle.exe dumps say which process holds handles *of the leaking type*; perfmon says only how many handles
//! each process holds in all, but it is collected every minute on many servers where nobody ran handle.exe. So
//! a process whose Handle Count grows steadily, and carries most of the growth of `Process(_Total)`, is named
//! as the process to dump next (and, with no handle.exe output at all, as the likely holder), with what the
//! counter can and cannot tell said in the text.
//!
//! The trend of each counter is the Theil-Sen slope of its hourly medians (the pool fit's aggregation) with
//! its 95% interval widened for autocorrelation (Hamed & Rao); a process counts as growing when the interval
//! excludes zero and it gained at least [`MIN_GAIN`] handles over the boot.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::boots::{hours_between, BootSpan};
use super::stats;
use crate::model::PerfSeries;

/// Handles a process must gain over the boot to be named (below it, services' normal churn).
pub const MIN_GAIN: u64 = 200;
/// Hours a process's counters must span to give a rate.
const MIN_HOURS: f64 = 2.0;
/// Width of the median bins the trend is fitted on, hours.
const BIN_HOURS: f64 = 1.0;

/// A process whose perfmon Handle Count grows over one boot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessGrowth {
    /// Host.
    pub host: String,
    /// Boot.
    pub boot: u32,
    /// Process name as perfmon names it (`lsass`: no `.exe`; a `#n` suffix resolved through `ID Process`).
    pub process: String,
    /// `ID Process`, when collected.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pid: Option<u32>,
    /// First sample of the process in the boot.
    pub from: DateTime<Utc>,
    /// Last sample of the process in the boot.
    pub to: DateTime<Utc>,
    /// Samples of the process in the boot.
    pub samples: usize,
    /// Handle Count at the first and the last sample.
    pub handles: [u64; 2],
    /// Growth of the Handle Count, per hour (Theil-Sen of hourly medians).
    pub handles_per_hour: f64,
    /// 95% interval of that growth.
    pub handles_per_hour_ci: [f64; 2],
    /// Growth of `Process(_Total)\Handle Count` over the same samples, per hour, when collected.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total_handles_per_hour: Option<f64>,
    /// The process's share of that growth (0..1).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub share_of_growth: Option<f64>,
    /// Growth of the paged pool charged to the process (`Pool Paged Bytes`), bytes per hour.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pool_paged_bytes_per_hour: Option<f64>,
    /// Growth of the nonpaged pool charged to the process, bytes per hour.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pool_nonpaged_bytes_per_hour: Option<f64>,
    /// The perfmon file(s) the counters came from.
    pub source: String,
}

impl ProcessGrowth {
    /// The image name as handle.exe and the event log write it (`lsass.exe`).
    pub fn image(&self) -> String {
        if self.process.to_ascii_lowercase().ends_with(".exe") {
            self.process.clone()
        } else {
            format!("{}.exe", self.process)
        }
    }
}

/// One process's counters over the boot: (hours since boot start, handles, paged bytes, nonpaged bytes).
#[derive(Default)]
struct Points {
    hours: Vec<f64>,
    times: Vec<DateTime<Utc>>,
    handles: Vec<f64>,
    paged: Vec<(f64, f64)>,
    nonpaged: Vec<(f64, f64)>,
}

/// Theil-Sen slope and 95% interval of hourly medians; `None` with fewer than three bins.
fn trend(hours: &[f64], values: &[f64]) -> Option<(f64, [f64; 2])> {
    let (t, y) = stats::bin_medians(hours, values, BIN_HOURS);
    if t.len() < 3 {
        return None;
    }
    let fit = stats::theil_sen(&t, &y)?;
    let factor = stats::hamed_rao_factor(&t, &y, fit.slope);
    let ci = stats::theil_sen_ci(&t, &y, factor)?;
    Some((fit.slope, ci))
}

fn slope_of(points: &[(f64, f64)]) -> Option<f64> {
    let (t, y): (Vec<f64>, Vec<f64>) = points.iter().copied().unzip();
    trend(&t, &y).map(|(s, _)| s)
}

/// The processes whose Handle Count grows over `span`, fastest first (ties by name and pid).
pub fn growing_processes(host: &str, span: &BootSpan, series: &[PerfSeries]) -> Vec<ProcessGrowth> {
    let mut processes: BTreeMap<(String, Option<u32>), Points> = BTreeMap::new();
    let mut total: (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut sources: Vec<&str> = Vec::new();
    for s in series {
        let mut used = false;
        for sample in s.samples.iter().filter(|x| span.contains(x.time)) {
            let h = hours_between(span.start, sample.time);
            if let Some(n) = sample.total_handles {
                total.0.push(h);
                total.1.push(n as f64);
            }
            for p in &sample.processes {
                let Some(handles) = p.handle_count else { continue };
                used = true;
                let points = processes.entry((p.name.clone(), p.pid)).or_default();
                points.hours.push(h);
                points.times.push(sample.time);
                points.handles.push(handles as f64);
                if let Some(b) = p.pool_paged_bytes {
                    points.paged.push((h, b as f64));
                }
                if let Some(b) = p.pool_nonpaged_bytes {
                    points.nonpaged.push((h, b as f64));
                }
            }
        }
        if used && !sources.contains(&s.source.path.as_str()) {
            sources.push(&s.source.path);
        }
    }
    let total_rate = trend(&total.0, &total.1).map(|(s, _)| s).filter(|s| *s > 0.0);
    let mut out: Vec<ProcessGrowth> = processes
        .into_iter()
        .filter_map(|((process, pid), p)| {
            let (first, last) = (*p.times.first()?, *p.times.last()?);
            if hours_between(first, last) < MIN_HOURS {
                return None;
            }
            let (rate, ci) = trend(&p.hours, &p.handles)?;
            let gain = (rate * (p.hours.last()? - p.hours.first()?)).max(0.0) as u64;
            if ci[0] <= 0.0 || gain < MIN_GAIN {
                return None;
            }
            Some(ProcessGrowth {
                host: host.to_owned(),
                boot: span.boot,
                process,
                pid,
                from: first,
                to: last,
                samples: p.handles.len(),
                handles: [*p.handles.first()? as u64, *p.handles.last()? as u64],
                handles_per_hour: rate,
                handles_per_hour_ci: ci,
                total_handles_per_hour: total_rate,
                share_of_growth: total_rate.map(|t| (rate / t).clamp(0.0, 1.0)),
                pool_paged_bytes_per_hour: slope_of(&p.paged),
                pool_nonpaged_bytes_per_hour: slope_of(&p.nonpaged),
                source: sources.join(", "),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.handles_per_hour
            .total_cmp(&a.handles_per_hour)
            .then_with(|| a.process.cmp(&b.process))
            .then_with(|| a.pid.cmp(&b.pid))
    });
    out
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::model::{PerfSample, ProcessCounters, SourceRef};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 5, 18, 20, 0, 0).unwrap()
    }

    fn span(hours: i64) -> BootSpan {
        BootSpan {
            boot: 0,
            start: t0(),
            end: t0() + Duration::hours(hours),
            start_evidence: String::new(),
            end_evidence: String::new(),
            snapshots: 0..0,
            fit_start: t0(),
            warmup_hours: 0.0,
            next_first_sample: None,
            next_start: None,
        }
    }

    fn process(name: &str, pid: u32, handles: u64) -> ProcessCounters {
        ProcessCounters {
            name: name.into(),
            pid: Some(pid),
            handle_count: Some(handles),
            pool_paged_bytes: Some(handles * 1_000),
            pool_nonpaged_bytes: None,
        }
    }

    /// lsass grows 400 handles an hour; svchost wobbles around 900 (a sawtooth of ±30).
    fn series(hours: u64) -> PerfSeries {
        let samples = (0..hours * 6)
            .map(|i| {
                let lsass = 1_000 + i * 400 / 6;
                let svchost = 900 + (i % 7) * 10 - 30;
                PerfSample {
                    time: t0() + Duration::minutes(10 * i as i64),
                    line: i + 2,
                    pool_paged_bytes: None,
                    pool_nonpaged_bytes: None,
                    committed_bytes: None,
                    commit_limit: None,
                    total_handles: Some(20_000 + lsass + svchost),
                    processes: vec![process("lsass", 624, lsass), process("svchost", 900, svchost)],
                }
            })
            .collect();
        PerfSeries { source: SourceRef::line("c.csv", 1), host: Some("H".into()), samples }
    }

    #[test]
    fn the_growing_process_is_named_with_its_share_and_the_steady_one_is_not() {
        let found = growing_processes("H", &span(30), &[series(24)]);
        assert_eq!(found.len(), 1, "{found:#?}");
        let g = &found[0];
        assert_eq!((g.process.as_str(), g.pid, g.image().as_str()), ("lsass", Some(624), "lsass.exe"));
        assert!((g.handles_per_hour - 400.0).abs() < 5.0, "{g:#?}");
        assert!(g.handles_per_hour_ci[0] > 300.0 && g.handles_per_hour_ci[1] < 500.0, "{g:#?}");
        assert!(g.share_of_growth.unwrap() > 0.95, "{g:#?}");
        assert!((g.pool_paged_bytes_per_hour.unwrap() - 400_000.0).abs() < 5_000.0, "{g:#?}");
        assert_eq!(g.source, "c.csv");
    }

    #[test]
    fn too_short_or_too_small_gains_name_nobody() {
        assert!(growing_processes("H", &span(30), &[series(1)]).is_empty());
        let mut slow = series(24);
        for s in &mut slow.samples {
            // 4 handles an hour: well under MIN_GAIN over the day.
            s.processes[0].handle_count = Some(1_000 + (s.time - t0()).num_minutes() as u64 / 15);
        }
        assert!(growing_processes("H", &span(30), &[slow]).is_empty());
    }

    #[test]
    fn samples_outside_the_boot_are_left_out() {
        let mut other = span(30);
        other.start = t0() + Duration::hours(100);
        other.end = t0() + Duration::hours(130);
        assert!(growing_processes("H", &other, &[series(24)]).is_empty());
    }
}
