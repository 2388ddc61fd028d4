//! Where a snapshot's time came from, and the settings that turn local text times into UTC.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where the time of a snapshot or event came from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// A timestamp inside the record itself (event logs).
    Record,
    /// A timestamp line the collection loop wrote just before the snapshot.
    TimestampLine,
    /// A timestamp in the file name.
    FileName,
    /// A timestamp in the name of a folder the file is in (`2024-03-11_1014/poolmon.txt`).
    FolderName,
    /// The file's modification time.
    FileModified,
    /// The `--time` override given by the user.
    Override,
    /// No time could be found.
    #[default]
    Unknown,
}

/// Day/month order of numeric dates such as `05/06/2020`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// Day first (`22/05/2020`), as in en-GB and most of Europe.
    Dmy,
    /// Month first (`05/22/2020`), as in en-US.
    Mdy,
}

/// How text times are interpreted; shared by every parser.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSettings {
    /// Zone in which local times (timestamp lines, exports) are read; UTC unless the user says otherwise.
    pub tz: chrono_tz::Tz,
    /// Whether the user gave `--tz` (when not, a diagnostic says UTC was assumed).
    pub tz_given: bool,
    /// Forced day/month order (`--date-order`); `None` settles it over the whole file.
    pub date_order: Option<DateOrder>,
    /// `--time`: the time to give snapshots that carry none of their own.
    pub time_override: Option<DateTime<Utc>>,
}

impl Default for TimeSettings {
    fn default() -> Self {
        Self { tz: chrono_tz::UTC, tz_given: false, date_order: None, time_override: None }
    }
}
