//! When each snapshot was taken (formats reference §1.4: poolmon itself never prints a time).
//!
//! Per table, strongest first: the timestamp line the collection loop wrote just before it; for a file's first
//! table, a time in the file name (one file per run: Himmel, `PoolmonScript`, `PoolmonViz`); `--time` for
//! tables that have no time of their own; the file's modification time, for a file holding a single table
//! (in an append-mode log it dates only the last run). Whatever is left is unknown, and a diagnostic says so.

use chrono::{DateTime, Utc};

use crate::model::{Diagnostic, Severity, TimeSource};
use crate::parse::timestamp::{resolve_stamps, StampClock};
use crate::parse::FileContext;

use super::PoolmonTable;

/// How timestamp lines are turned into times: all at once (the whole file is known) or one by one (streaming).
enum StampTimes {
    /// Times of the file's stamps, in file order, resolved over the whole file.
    Resolved(std::vec::IntoIter<Option<DateTime<Utc>>>),
    /// Resolved as they come.
    Streaming(StampClock),
}

/// Gives tables their times, in file order.
pub struct TimeAssigner<'c> {
    ctx: &'c FileContext,
    stamps: StampTimes,
    index: usize,
    with_stamp: usize,
    /// Tables without a timestamp line: count and the first one's line.
    without_stamp: (usize, u64),
    unknown: usize,
}

impl<'c> TimeAssigner<'c> {
    /// For a whole file: the stamps of all tables are settled together (day/month order over the file).
    pub fn whole(ctx: &'c FileContext, tables: &[PoolmonTable], diagnostics: &mut Vec<Diagnostic>) -> Self {
        let stamps: Vec<_> = tables.iter().filter_map(|t| t.stamp.clone()).collect();
        let times = resolve_stamps(&stamps, &ctx.time, &ctx.path, diagnostics);
        Self::new(ctx, StampTimes::Resolved(times.into_iter()))
    }

    /// For streaming: stamps are settled as they come (see [`StampClock`]).
    pub fn streaming(ctx: &'c FileContext) -> Self {
        Self::new(ctx, StampTimes::Streaming(StampClock::new(&ctx.time, &ctx.path)))
    }

    fn new(ctx: &'c FileContext, stamps: StampTimes) -> Self {
        Self { ctx, stamps, index: 0, with_stamp: 0, without_stamp: (0, 0), unknown: 0 }
    }

    /// Sets `taken_at` and `time_source` of the next table. `only` says whether it is the file's only table.
    pub fn assign(&mut self, table: &mut PoolmonTable, only: bool, diagnostics: &mut Vec<Diagnostic>) {
        let first = self.index == 0;
        self.index += 1;
        let snapshot = &mut table.snapshot;
        if let Some(stamp) = &table.stamp {
            self.with_stamp += 1;
            snapshot.taken_at = match &mut self.stamps {
                StampTimes::Resolved(times) => times.next().flatten(),
                StampTimes::Streaming(clock) => clock.push(stamp, diagnostics),
            };
            snapshot.time_source =
                if snapshot.taken_at.is_some() { TimeSource::TimestampLine } else { TimeSource::Unknown };
            if snapshot.taken_at.is_none() {
                self.unknown += 1;
            }
            return;
        }
        if self.without_stamp.0 == 0 {
            self.without_stamp.1 = snapshot.source.line.unwrap_or(0);
        }
        self.without_stamp.0 += 1;
        let from_name = if first { self.ctx.name_time(diagnostics) } else { None };
        (snapshot.taken_at, snapshot.time_source) = if let Some((t, source)) = from_name {
            (Some(t), source)
        } else if let Some(t) = self.ctx.time.time_override {
            (Some(t), TimeSource::Override)
        } else if let (true, Some(t)) = (only, self.ctx.modified) {
            (Some(t), TimeSource::FileModified)
        } else {
            self.unknown += 1;
            (None, TimeSource::Unknown)
        };
        if only && snapshot.taken_at.is_none() {
            diagnostics.push(Diagnostic::at_line(
                &self.ctx.path,
                snapshot.source.line.unwrap_or(0),
                Severity::Warning,
                "snapshot has no time (no timestamp line before it, none in the file name, no file modification \
                 time); pass --time to give it one",
            ));
        }
    }

    /// Ends the file: what is said once about tables that had no timestamp line.
    pub fn finish(self, diagnostics: &mut Vec<Diagnostic>) {
        if let StampTimes::Streaming(clock) = self.stamps {
            clock.finish(diagnostics);
        }
        let (count, line) = self.without_stamp;
        let total = self.index;
        if total < 2 || count == 0 {
            return;
        }
        let message = if self.ctx.time.time_override.is_some() {
            format!(
                "{count} of {total} snapshots in this file have no timestamp line before them and were all given the \
                 --time value (one moment, so no rates between them)"
            )
        } else if self.unknown > 0 {
            format!(
                "{} of {total} snapshots in this file have no time: no timestamp line before them (the file's \
                 modification time dates only the last run); a collection loop that writes `echo %DATE% %TIME%` \
                 before each poolmon run dates every snapshot",
                self.unknown
            )
        } else {
            return;
        };
        diagnostics.push(Diagnostic::at_line(&self.ctx.path, line, Severity::Warning, message));
    }
}
