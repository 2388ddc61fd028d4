//! handle.exe snapshots: handle counts by type, and handles by process.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{SourceRef, TimeSource};

/// One handle.exe run (a `-s` summary, an `-a`/`-p` dump, a search, or CSV output) at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandleSnapshot {
    /// File and line where the run starts (its banner or first data line).
    pub source: SourceRef,
    /// Host the run came from, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub host: Option<String>,
    /// When it was taken, in UTC.
    pub taken_at: Option<DateTime<Utc>>,
    /// Where `taken_at` came from.
    pub time_source: TimeSource,
    /// handle.exe version from the banner (`3.5`, `4.22`, `5.0`), when there was one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tool_version: Option<String>,
    /// What kind of output this is.
    pub mode: HandleMode,
    /// The `-p` filter (process name prefix or pid) when the run was limited to some processes;
    /// `None` means all processes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub process_filter: Option<String>,
    /// `-s` summary counts by type name (duplicates summed), in the run's scope.
    pub type_counts: BTreeMap<String, u64>,
    /// `Total handles:` from a summary.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total_handles: Option<u64>,
    /// Processes and their handles (dump, search and CSV modes).
    pub processes: Vec<ProcessHandles>,
}

/// The kind of handle.exe output a snapshot was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandleMode {
    /// `-s`: `Handle type summary:` counts.
    Summary,
    /// `-a` / `-p` dump: per-process sections.
    Dump,
    /// Search mode: one line per matching handle.
    Search,
    /// `-v`/`-vt` CSV output (search or dump layout).
    Csv,
}

/// One process and the handles it holds, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessHandles {
    /// Image name (`lsass.exe`; may contain spaces; placeholders like `<Non-existant Process>` kept as is).
    pub name: String,
    /// Process id.
    pub pid: u32,
    /// Owner account (`NT AUTHORITY\SYSTEM`) or a placeholder such as `<unable to open token>`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub owner: Option<String>,
    /// Handles listed for the process.
    pub handles: Vec<HandleEntry>,
}

/// One handle line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandleEntry {
    /// Handle value (hex in the output).
    pub value: u64,
    /// Object type name (`Token`, `File`, `Key`, `ALPC Port`, `<Unknown type>`).
    pub handle_type: String,
    /// File share flags (`RW-`), when printed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub share: Option<String>,
    /// Object name as printed (may be empty).
    pub name: String,
    /// The name parsed by type, when it follows that type's convention.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub identity: Option<ObjectIdentity>,
}

/// An object name parsed by its type's convention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ObjectIdentity {
    /// Process handle: `name(pid)`.
    Process {
        /// Image name.
        name: String,
        /// Process id.
        pid: u32,
    },
    /// Thread handle: `name(pid): tid`.
    Thread {
        /// Image name of the owning process.
        name: String,
        /// Process id.
        pid: u32,
        /// Thread id.
        tid: u32,
    },
    /// Token handle: `DOMAIN\user:luid`.
    Token {
        /// `DOMAIN\user` (the account whose logon session the token belongs to).
        account: String,
        /// Logon session id (hex LUID as printed).
        luid: String,
    },
    /// File handle: a drive path, `\Device\...`, or a pipe.
    File {
        /// The path.
        path: String,
    },
    /// Registry key handle: `\REGISTRY\MACHINE\...`, `HKLM\...`.
    Key {
        /// The key path.
        path: String,
    },
}
