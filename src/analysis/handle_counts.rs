//! Handle counts by group (ANALYSIS.md §5): what `poolscope handles` prints, computed here so the command is
//! argument handling plus one call. Each handle.exe snapshot is counted by the key `--by` selects (process and
//! type, type, process, account of a Token handle, object name), after the `--type` / `--process` filters; the
//! latest snapshot of each host and view is the grouped table; every group counted at two or more times is a
//! series with its growth ([`super::handle_growth`]).
//!
//! A `-s` summary counts types only (for the whole system, or for the processes of its `-p` filter), so it never
//! mixes with listings in one series: each key carries its view.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::handle_growth::{self, HandleGrowth};
use crate::model::handles::HandleMode;
use crate::model::{Dataset, Diagnostic, HandleSnapshot, ObjectIdentity, SourceRef, TimeSource};

/// Label of a summary that covers every process.
pub const ALL_PROCESSES: &str = "(all processes)";

/// Version of the JSON layout of [`HandleCounts`].
pub const HANDLE_COUNTS_SCHEMA_VERSION: u32 = 1;

/// What handles are grouped by (`--by`); `None` in a [`HandleQuery`] means process and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Object type.
    Type,
    /// Process (image name and pid).
    Process,
    /// Account in Token handle names (`DOMAIN\user:luid`).
    Account,
    /// Object name (with its type).
    Name,
}

/// What a count is of: the parts of the key that the grouping selects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GroupKey {
    /// `summary` (an `-s` count) or `listing` (handles listed one by one); never mixed in one series.
    pub view: &'static str,
    /// Image name (or the `-p` filter of a summary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// Process id (listings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Object type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub handle_type: Option<String>,
    /// Account of a Token handle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Object name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The filters and grouping of one count.
#[derive(Debug, Clone, Copy, Default)]
pub struct HandleQuery<'a> {
    /// The grouping; `None` is process and type.
    pub by: Option<GroupBy>,
    /// Only handles of this object type (case-insensitive).
    pub handle_type: Option<&'a str>,
    /// Only processes whose image name starts with this (case-insensitive, as `handle -p`), or this pid.
    pub process: Option<&'a str>,
}

impl HandleQuery<'_> {
    fn type_matches(&self, handle_type: &str) -> bool {
        self.handle_type.is_none_or(|t| t.eq_ignore_ascii_case(handle_type))
    }

    /// Whether a process passes the `process` filter: an image-name prefix, or a pid when it is a number.
    pub fn process_matches(&self, name: &str, pid: u32) -> bool {
        self.process.is_none_or(|p| match p.parse::<u32>() {
            Ok(want) => want == pid,
            Err(_) => name.to_lowercase().starts_with(&p.to_lowercase()),
        })
    }

    /// Whether a summary limited by `-p filter` (or not at all) speaks about the `process` asked for.
    pub fn summary_matches(&self, filter: Option<&str>) -> bool {
        match (self.process, filter) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(want), Some(filter)) => {
                let (want, filter) = (want.to_lowercase(), filter.to_lowercase());
                want.starts_with(&filter) || filter.starts_with(&want)
            }
        }
    }

    /// Counts one snapshot's handles by group; empty when nothing in it matches.
    pub fn count(&self, snap: &HandleSnapshot) -> BTreeMap<GroupKey, u64> {
        let mut counts = BTreeMap::new();
        if snap.mode == HandleMode::Summary {
            self.count_summary(snap, &mut counts);
            return counts;
        }
        for process in &snap.processes {
            if !self.process_matches(&process.name, process.pid) {
                continue;
            }
            for handle in process.handles.iter().filter(|h| self.type_matches(&h.handle_type)) {
                let mut key = GroupKey {
                    view: "listing",
                    process: None,
                    pid: None,
                    handle_type: None,
                    account: None,
                    name: None,
                };
                match self.by {
                    None => {
                        key.process = Some(process.name.clone());
                        key.pid = Some(process.pid);
                        key.handle_type = Some(handle.handle_type.clone());
                    }
                    Some(GroupBy::Type) => key.handle_type = Some(handle.handle_type.clone()),
                    Some(GroupBy::Process) => {
                        key.process = Some(process.name.clone());
                        key.pid = Some(process.pid);
                    }
                    Some(GroupBy::Account) => match &handle.identity {
                        Some(ObjectIdentity::Token { account, .. }) => key.account = Some(account.clone()),
                        _ => continue,
                    },
                    Some(GroupBy::Name) => {
                        key.handle_type = Some(handle.handle_type.clone());
                        key.name = Some(handle.name.clone());
                    }
                }
                *counts.entry(key).or_insert(0) += 1;
            }
        }
        counts
    }

    fn count_summary(&self, snap: &HandleSnapshot, counts: &mut BTreeMap<GroupKey, u64>) {
        let filter = snap.process_filter.as_deref();
        if !self.summary_matches(filter) {
            return;
        }
        let scope = filter.unwrap_or(ALL_PROCESSES).to_owned();
        let key = |process: Option<String>, handle_type: Option<String>| GroupKey {
            view: "summary",
            process,
            pid: None,
            handle_type,
            account: None,
            name: None,
        };
        match self.by {
            None | Some(GroupBy::Type) => {
                for (handle_type, &n) in snap.type_counts.iter().filter(|(t, _)| self.type_matches(t)) {
                    let process = self.by.is_none().then(|| scope.clone());
                    *counts.entry(key(process, Some(handle_type.clone()))).or_insert(0) += n;
                }
            }
            Some(GroupBy::Process) => {
                let n = if self.handle_type.is_some() {
                    snap.type_counts.iter().filter(|(t, _)| self.type_matches(t)).map(|(_, n)| n).sum()
                } else {
                    snap.total_handles.unwrap_or_else(|| snap.type_counts.values().sum())
                };
                if n > 0 || !snap.type_counts.is_empty() {
                    counts.insert(key(Some(scope), None), n);
                }
            }
            Some(GroupBy::Account | GroupBy::Name) => {}
        }
    }
}

/// A snapshot that had something to count.
#[derive(Debug, Serialize)]
pub struct CountedSnapshot {
    /// Host of the snapshot.
    pub host: String,
    /// File and line it was read from.
    pub source: SourceRef,
    /// When it was taken, when known.
    pub taken_at: Option<DateTime<Utc>>,
    /// Where `taken_at` came from.
    pub time_source: TimeSource,
    /// Which handle.exe output it was.
    pub mode: HandleMode,
    /// handle.exe version from its banner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<String>,
    /// The `-p` filter a summary was limited to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process_filter: Option<String>,
    /// Handles counted (after filters).
    pub handles: u64,
    /// The count of each group.
    #[serde(skip)]
    pub counts: BTreeMap<GroupKey, u64>,
}

/// One row of a latest snapshot's grouped table.
#[derive(Debug, Serialize)]
pub struct GroupRow {
    /// Host of the snapshot.
    pub host: String,
    /// Index of the snapshot in [`HandleCounts::snapshots`].
    pub snapshot: usize,
    /// The group.
    #[serde(flatten)]
    pub key: GroupKey,
    /// Handles in the group.
    pub count: u64,
    /// Share of the snapshot's counted handles, in percent.
    pub share: f64,
}

/// A group's count over one boot, and its growth.
pub type GroupSeries = HandleGrowth<GroupKey>;

/// Every snapshot counted, each host's latest grouped, and the growth of every group over time.
#[derive(Debug, Serialize)]
pub struct HandleCounts {
    /// [`HANDLE_COUNTS_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The grouping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<GroupBy>,
    /// The `--type` filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_type: Option<String>,
    /// The `--process` filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_process: Option<String>,
    /// Snapshots with at least one matching handle, per host in time order.
    pub snapshots: Vec<CountedSnapshot>,
    /// The latest counted snapshot of each host and view (summary, listing), grouped, largest first.
    pub groups: Vec<GroupRow>,
    /// Groups with counts at two or more times, fastest-growing first.
    pub series: Vec<GroupSeries>,
    /// What reading the inputs said.
    pub diagnostics: Vec<Diagnostic>,
}

/// Counts every snapshot of the dataset, picks each host's latest for the grouped table (its `top` largest
/// groups), and builds the series (the `top` fastest-growing).
pub fn count(dataset: &Dataset, query: &HandleQuery<'_>, top: Option<usize>) -> HandleCounts {
    let mut snapshots = Vec::new();
    for (host, data) in &dataset.hosts {
        for snap in &data.handle_snapshots {
            let counts = query.count(snap);
            if counts.is_empty() {
                continue;
            }
            snapshots.push(CountedSnapshot {
                host: host.clone(),
                source: snap.source.clone(),
                taken_at: snap.taken_at,
                time_source: snap.time_source,
                mode: snap.mode,
                tool_version: snap.tool_version.clone(),
                process_filter: snap.process_filter.clone(),
                handles: counts.values().sum(),
                counts,
            });
        }
    }
    let groups = latest_groups(&snapshots, top);
    let mut series = group_series(dataset, &snapshots);
    series.truncate(top.unwrap_or(usize::MAX));
    HandleCounts {
        schema_version: HANDLE_COUNTS_SCHEMA_VERSION,
        by: query.by,
        filter_type: query.handle_type.map(str::to_owned),
        filter_process: query.process.map(str::to_owned),
        snapshots,
        groups,
        series,
        diagnostics: dataset.diagnostics.clone(),
    }
}

/// The grouped rows of the latest snapshot of each host and view, largest first, `top` of each.
fn latest_groups(snapshots: &[CountedSnapshot], top: Option<usize>) -> Vec<GroupRow> {
    // Snapshots are in time order per host: the last one of each view wins.
    let mut latest: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (at, snap) in snapshots.iter().enumerate() {
        if let Some(key) = snap.counts.keys().next() {
            latest.insert((&snap.host, key.view), at);
        }
    }
    let mut latest: Vec<usize> = latest.into_values().collect();
    latest.sort_unstable();
    let mut groups = Vec::new();
    for at in latest {
        let snap = &snapshots[at];
        let mut rows: Vec<GroupRow> = snap
            .counts
            .iter()
            .map(|(key, &count)| GroupRow {
                host: snap.host.clone(),
                snapshot: at,
                key: key.clone(),
                count,
                share: if snap.handles == 0 { 0.0 } else { count as f64 * 100.0 / snap.handles as f64 },
            })
            .collect();
        rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        rows.truncate(top.unwrap_or(usize::MAX));
        groups.extend(rows);
    }
    groups
}

/// Series per (host, boot, group) over the timed snapshots, fastest-growing first (no series across a reboot,
/// no rate from collapsed or too-close times: [`handle_growth::series`]).
fn group_series(dataset: &Dataset, snapshots: &[CountedSnapshot]) -> Vec<GroupSeries> {
    let starts: BTreeMap<String, Vec<DateTime<Utc>>> =
        dataset.hosts.iter().map(|(host, data)| (host.clone(), handle_growth::boot_starts(data))).collect();
    let observations = snapshots.iter().filter_map(|snap| Some((snap, snap.taken_at?))).flat_map(|(snap, at)| {
        snap.counts.iter().map(move |(key, &count)| (snap.host.clone(), key.clone(), at, count))
    });
    handle_growth::series(observations, &starts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HandleEntry, ProcessHandles};

    fn entry(handle_type: &str, name: &str, identity: Option<ObjectIdentity>) -> HandleEntry {
        HandleEntry { value: 4, handle_type: handle_type.to_owned(), share: None, name: name.to_owned(), identity }
    }

    fn token(account: &str) -> HandleEntry {
        let identity = ObjectIdentity::Token { account: account.to_owned(), luid: "3e7".to_owned() };
        entry("Token", &format!("{account}:3e7"), Some(identity))
    }

    fn dump(handles: Vec<HandleEntry>) -> HandleSnapshot {
        HandleSnapshot {
            source: SourceRef::line("h.txt", 1),
            host: None,
            taken_at: None,
            time_source: TimeSource::Unknown,
            tool_version: None,
            mode: HandleMode::Dump,
            process_filter: None,
            type_counts: BTreeMap::new(),
            total_handles: None,
            processes: vec![ProcessHandles { name: "lsass.exe".to_owned(), pid: 768, owner: None, handles }],
        }
    }

    #[test]
    fn process_filter_is_a_prefix_or_a_pid() {
        let q = HandleQuery { process: Some("LSASS"), ..HandleQuery::default() };
        assert!(q.process_matches("lsass.exe", 768));
        assert!(!q.process_matches("svchost.exe", 768));
        let q = HandleQuery { process: Some("768"), ..HandleQuery::default() };
        assert!(q.process_matches("lsass.exe", 768));
        assert!(q.summary_matches(Some("768")));
        let q = HandleQuery { process: Some("lsass.exe"), ..HandleQuery::default() };
        assert!(q.summary_matches(Some("lsass")));
        assert!(!q.summary_matches(None));
    }

    #[test]
    fn token_handles_count_by_account_and_other_types_are_left_out() {
        let snap = dump(vec![
            token("CONTOSO\\svc-scan"),
            token("CONTOSO\\svc-scan"),
            token("NT AUTHORITY\\SYSTEM"),
            entry("File", "C:\\x", None),
        ]);
        let q = HandleQuery { by: Some(GroupBy::Account), ..HandleQuery::default() };
        let counts: Vec<(Option<String>, u64)> = q.count(&snap).into_iter().map(|(k, n)| (k.account, n)).collect();
        assert_eq!(
            counts,
            vec![(Some("CONTOSO\\svc-scan".to_owned()), 2), (Some("NT AUTHORITY\\SYSTEM".to_owned()), 1)]
        );
        let q = HandleQuery { by: Some(GroupBy::Account), process: Some("svchost"), ..HandleQuery::default() };
        assert!(q.count(&snap).is_empty());
        let q = HandleQuery { handle_type: Some("file"), ..HandleQuery::default() };
        let keys: Vec<GroupKey> = q.count(&snap).into_keys().collect();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].handle_type.as_deref(), Some("File"));
        assert_eq!(keys[0].pid, Some(768));
    }

    #[test]
    fn a_summary_counts_types_in_its_scope_only() {
        let mut snap = dump(Vec::new());
        snap.mode = HandleMode::Summary;
        snap.processes.clear();
        snap.process_filter = Some("lsass".to_owned());
        snap.type_counts = BTreeMap::from([("Token".to_owned(), 900), ("File".to_owned(), 100)]);
        let q = HandleQuery { by: Some(GroupBy::Process), process: Some("lsass.exe"), ..HandleQuery::default() };
        let counts: Vec<(GroupKey, u64)> = q.count(&snap).into_iter().collect();
        assert_eq!(counts.len(), 1);
        assert_eq!((counts[0].0.view, counts[0].0.process.as_deref(), counts[0].1), ("summary", Some("lsass"), 1000));
        let q = HandleQuery { process: Some("svchost"), ..HandleQuery::default() };
        assert!(q.count(&snap).is_empty(), "a summary of lsass says nothing of svchost");
        assert!(HandleQuery { by: Some(GroupBy::Account), ..HandleQuery::default() }.count(&snap).is_empty());
    }
}
