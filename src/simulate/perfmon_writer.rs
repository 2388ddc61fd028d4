//! perfmon counters as `logman create counter ... -f csv` (and `relog -f csv`) write them: the PDH-CSV 4.0
//! header row with the collecting machine's zone, one quoted column per `\\HOST\Object(Instance)\Counter`,
//! one row per sample in the machine's local time (reference peers.md §2.6). The simulated hosts run on UTC.
//!
//! The counters are the ones poolscope reads (and `poolscope kit` collects): the pool and commit totals, the
//! handle count of every process together, and per process its handle count, `ID Process` and pool bytes.

use chrono::{DateTime, Utc};

/// The zone part of the header: what PDH writes on a machine set to UTC.
const PDH_ZONE: &str = "(PDH-CSV 4.0) (Coordinated Universal Time)(0)";

/// Per-process counters collected, in column order.
const PROCESS_COUNTERS: [&str; 4] = ["Handle Count", "ID Process", "Pool Paged Bytes", "Pool Nonpaged Bytes"];

/// One process instance in one sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSample {
    /// Instance name as perfmon writes it (`lsass`, `svchost#1`: no `.exe`, `#n` for the n-th duplicate).
    pub instance: &'static str,
    /// `ID Process`.
    pub pid: u32,
    /// `Handle Count`.
    pub handles: u64,
    /// `Pool Paged Bytes` charged to the process.
    pub pool_paged: u64,
    /// `Pool Nonpaged Bytes` charged to the process.
    pub pool_nonpaged: u64,
}

/// One row of counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerfSample {
    /// `\Memory\Pool Paged Bytes`.
    pub pool_paged: u64,
    /// `\Memory\Pool Nonpaged Bytes`.
    pub pool_nonpaged: u64,
    /// `\Memory\Committed Bytes`.
    pub committed: u64,
    /// `\Memory\Commit Limit`.
    pub commit_limit: u64,
    /// `\Process(_Total)\Handle Count`.
    pub total_handles: u64,
    /// The processes, always the same instances in the same order within one file.
    pub processes: Vec<ProcessSample>,
}

/// The header row for `host` with the instances of `first` (the first sample of the file).
pub fn header(host: &str, first: &PerfSample) -> String {
    let mut columns = vec![PDH_ZONE.to_owned()];
    for counter in ["Pool Paged Bytes", "Pool Nonpaged Bytes", "Committed Bytes", "Commit Limit"] {
        columns.push(format!("\\\\{host}\\Memory\\{counter}"));
    }
    columns.push(format!("\\\\{host}\\Process(_Total)\\Handle Count"));
    for p in &first.processes {
        for counter in PROCESS_COUNTERS {
            columns.push(format!("\\\\{host}\\Process({})\\{counter}", p.instance));
        }
    }
    quoted_row(&columns)
}

/// One sample's row, its time written as PDH writes local times (`12/05/2026 14:00:00.123`).
pub fn row(t: DateTime<Utc>, sample: &PerfSample) -> String {
    let mut cells = vec![t.format("%m/%d/%Y %H:%M:%S%.3f").to_string()];
    for v in [sample.pool_paged, sample.pool_nonpaged, sample.committed, sample.commit_limit, sample.total_handles] {
        cells.push(v.to_string());
    }
    for p in &sample.processes {
        for v in [p.handles, u64::from(p.pid), p.pool_paged, p.pool_nonpaged] {
            cells.push(v.to_string());
        }
    }
    quoted_row(&cells)
}

/// `"a","b"` and a line end (the file's style turns `\n` into CRLF).
fn quoted_row(cells: &[String]) -> String {
    let mut line = String::with_capacity(cells.iter().map(|c| c.len() + 3).sum());
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push('"');
        line.push_str(&c.replace('"', "\"\""));
        line.push('"');
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::TimeSettings;
    use crate::parse::{parse_bytes, FileContext, Format};

    fn sample(lsass: u64) -> PerfSample {
        PerfSample {
            pool_paged: 300 << 20,
            pool_nonpaged: 80 << 20,
            committed: 2 << 30,
            commit_limit: 4 << 30,
            total_handles: 30_000 + lsass,
            processes: vec![
                ProcessSample { instance: "lsass", pid: 528, handles: lsass, pool_paged: 1 << 20, pool_nonpaged: 9000 },
                ProcessSample { instance: "svchost", pid: 900, handles: 700, pool_paged: 2 << 20, pool_nonpaged: 90 },
                ProcessSample { instance: "svchost#1", pid: 912, handles: 400, pool_paged: 1, pool_nonpaged: 2 },
            ],
        }
    }

    #[test]
    fn written_counters_read_back_with_host_zone_and_processes() {
        let t0 = Utc.with_ymd_and_hms(2020, 5, 18, 20, 0, 0).unwrap();
        let mut text = header("SRV-APP01", &sample(1_000));
        text.push_str(&row(t0, &sample(1_000)));
        text.push_str(&row(t0 + chrono::Duration::minutes(1), &sample(1_400)));
        let ctx = FileContext { path: "counters.csv".into(), time: TimeSettings::default(), ..FileContext::default() };
        let parsed = parse_bytes(text.as_bytes(), Some(Format::Perfmon), &ctx);
        assert!(parsed.diagnostics.iter().all(|d| d.severity != crate::model::Severity::Error), "{parsed:?}");
        let series = &parsed.perf_series;
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].host.as_deref(), Some("SRV-APP01"));
        let last = &series[0].samples[1];
        assert_eq!(last.time, t0 + chrono::Duration::minutes(1));
        assert_eq!(last.commit_limit, Some(4 << 30));
        assert_eq!(last.total_handles, Some(31_400));
        let lsass = last.processes.iter().find(|p| p.name == "lsass").expect("lsass");
        assert_eq!((lsass.pid, lsass.handle_count), (Some(528), Some(1_400)));
        // `svchost#1` is re-identified through its ID Process.
        assert!(last.processes.iter().any(|p| p.name == "svchost" && p.pid == Some(912)), "{last:?}");
    }
}
