//! Everything read from an archive, grouped by host.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    AllocationTable, DebuggerLimits, Diagnostic, DriverInventory, DriverListing, Event, HandleSnapshot, PerfSeries,
    PoolSnapshot,
};

/// All records read from the inputs, grouped by host, with every diagnostic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Records per host name (`unknown` when no host could be told).
    pub hosts: BTreeMap<String, HostData>,
    /// Diagnostics from every input, in input order.
    pub diagnostics: Vec<Diagnostic>,
}

/// The records of one host, each sorted by time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostData {
    /// poolmon snapshots.
    pub pool_snapshots: Vec<PoolSnapshot>,
    /// handle.exe snapshots.
    pub handle_snapshots: Vec<HandleSnapshot>,
    /// Event-log records.
    pub events: Vec<Event>,
    /// Limits read from debugger output (`!vm`), in input order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub debugger_limits: Vec<DebuggerLimits>,
    /// Performance-counter series (perfmon CSV/TSV), one per file.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub perf_series: Vec<PerfSeries>,
    /// Pool allocations with their stacks (WPA pool-table exports), one table per file.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub allocations: Vec<AllocationTable>,
    /// Driver and minifilter lists (`driverquery`, `fltmc`, Win32_SystemDriver CSV), one per file.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub drivers: Vec<DriverListing>,
}

impl HostData {
    /// The host's drivers, its listings joined by name ([`DriverInventory::merge`]); empty without listings.
    pub fn driver_inventory(&self) -> DriverInventory {
        DriverInventory::merge(&self.drivers)
    }
}
