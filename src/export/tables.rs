//! The export's tables as polars frames: the three data tables of [`crate::frame`] with a boot column and
//! portable types, and the analysis' suspects, projections and attributions, flattened (a pair becomes two
//! columns) with the field names of `analyze --format json`.
//!
//! Every integer is written as int64 (unsigned Parquet integers are read as decimals by Spark and not at
//! all by some tools); a counter too large for it (only a garbled input gives one) is null. SCHEMA.md
//! documents every column; `tests/it/export.rs` checks it against what is written.

use chrono::{DateTime, Utc};
use polars::chunked_array::cast::CastOptions;
use polars::prelude::*;

use crate::analysis::attribution::Attribution;
use crate::analysis::{Boot, Projection, Suspect};
use crate::error::{Error, Result};
use crate::frame::{self, ACCOUNT, BOOT, HOST, PID, POOL, PROCESS, TAG, TIME};
use crate::model::Dataset;

fn frame_err(e: &PolarsError) -> Error {
    Error::Frame(e.to_string())
}

/// The boot a time belongs to: the boot whose span holds it, else the last boot that started before it
/// (an event between two boots' samples belongs to the boot it happened in), else none (before the first
/// boot, or no time).
pub fn boot_at(boots: &[&Boot], at: Option<DateTime<Utc>>) -> Option<u32> {
    let at = at?;
    boots
        .iter()
        .find(|b| at >= b.start && at <= b.end)
        .or_else(|| boots.iter().filter(|b| b.start <= at).max_by_key(|b| b.start))
        .map(|b| b.boot)
}

/// Casts unsigned and narrow integer columns to int64 (values that do not fit become null).
fn portable(df: DataFrame) -> Result<DataFrame> {
    let columns = df
        .columns()
        .iter()
        .map(|c| match c.dtype() {
            DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32 => c.cast_with_options(&DataType::Int64, CastOptions::NonStrict),
            _ => Ok(c.clone()),
        })
        .collect::<PolarsResult<Vec<_>>>()
        .map_err(|e| frame_err(&e))?;
    DataFrame::new(df.height(), columns).map_err(|e| frame_err(&e))
}

/// Adds a `boot` column (second, after `host`) from the frame's `time` column.
fn with_boot(mut df: DataFrame, boots: &[&Boot]) -> Result<DataFrame> {
    let times = df.column(TIME).and_then(Column::datetime).map_err(|e| frame_err(&e))?;
    let boot: Vec<Option<i64>> = times
        .physical()
        .iter()
        .map(|ms| boot_at(boots, ms.and_then(DateTime::from_timestamp_millis)).map(i64::from))
        .collect();
    df.insert_column(1, Column::new(BOOT.into(), boot)).map_err(|e| frame_err(&e))?;
    Ok(df)
}

/// One host's pool samples with their boot (a [`Dataset`] holding only that host).
pub fn pool_samples(host: &Dataset, boots: &[&Boot]) -> Result<DataFrame> {
    let boot_of = |_: &str, at: Option<DateTime<Utc>>| boot_at(boots, at);
    portable(frame::pool_rows_frame_with_boots(host, &boot_of)?)
}

/// One host's handle counts with their boot.
pub fn handle_counts(host: &Dataset, boots: &[&Boot]) -> Result<DataFrame> {
    portable(with_boot(frame::handle_rows_frame(host)?, boots)?)
}

/// One host's events with their boot.
pub fn events(host: &Dataset, boots: &[&Boot]) -> Result<DataFrame> {
    portable(with_boot(frame::events_frame(host)?, boots)?)
}

fn millis(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp_millis())
}

/// A column of `rows` mapped by `f` (the element type picks the column type).
fn col<T, V>(name: &str, rows: &[&T], f: impl Fn(&T) -> V) -> Column
where
    Series: NamedFrom<Vec<V>, [V]>,
{
    Series::new(name.into(), rows.iter().map(|r| f(r)).collect::<Vec<V>>()).into_column()
}

/// A UTC time column of `rows` mapped by `f`.
fn time_col<T>(name: &str, rows: &[&T], f: impl Fn(&T) -> Option<DateTime<Utc>>) -> Column {
    frame::time_column(name, &rows.iter().map(|r| millis(f(r))).collect::<Vec<_>>())
}

fn build(height: usize, columns: Vec<Column>) -> Result<DataFrame> {
    DataFrame::new(height, columns).map_err(|e| frame_err(&e))
}

/// The suspects table (one row per suspect of one host).
pub fn suspects(rows: &[&Suspect]) -> Result<DataFrame> {
    let mut repeats = ListPrimitiveChunkedBuilder::<Int64Type>::new(
        "repeats_in_boots".into(),
        rows.len(),
        rows.len(),
        DataType::Int64,
    );
    for s in rows {
        repeats.append_slice(&s.repeats_in_boots.iter().copied().map(i64::from).collect::<Vec<_>>());
    }
    build(
        rows.len(),
        vec![
            col(HOST, rows, |s| s.host.clone()),
            col(BOOT, rows, |s| i64::from(s.boot)),
            col("rank", rows, |s| i64::from(s.rank)),
            col(TAG, rows, |s| s.tag.clone()),
            col(POOL, rows, |s| s.pool.as_str()),
            col("bytes_per_hour", rows, |s| s.bytes_per_hour),
            col("bytes_per_hour_ci_low", rows, |s| s.bytes_per_hour_ci[0]),
            col("bytes_per_hour_ci_high", rows, |s| s.bytes_per_hour_ci[1]),
            col("ols_bytes_per_hour", rows, |s| s.ols_bytes_per_hour),
            col("r_squared", rows, |s| s.r_squared),
            col("outstanding_per_hour", rows, |s| s.outstanding_per_hour),
            col("per_alloc_bytes", rows, |s| s.per_alloc_bytes),
            col("per_alloc_stable", rows, |s| s.per_alloc_stable),
            col("alloc_free_ratio", rows, |s| s.alloc_free_ratio),
            col("positive_step_share", rows, |s| s.positive_step_share),
            col("share_of_growth", rows, |s| s.share_of_growth),
            col("trend_p", rows, |s| s.trend_p),
            col("trend_q", rows, |s| s.trend_q),
            col("end_point_delta_bytes", rows, |s| s.end_point_delta_bytes),
            col("bytes_now", rows, |s| i64::try_from(s.bytes_now).ok()),
            col("outstanding_now", rows, |s| i64::try_from(s.outstanding_now).ok()),
            col(frame::DRIVER, rows, |s| s.driver.clone()),
            col("description", rows, |s| s.description.clone()),
            repeats.finish().into_column(),
        ],
    )
}

/// The projections table (one row per resource and boot of one host).
pub fn projections(rows: &[&Projection]) -> Result<DataFrame> {
    let resource = |p: &Projection| match p.pool {
        crate::analysis::Resource::Paged => "paged",
        crate::analysis::Resource::Nonpaged => "nonpaged",
        crate::analysis::Resource::Commit => "commit",
    };
    build(
        rows.len(),
        vec![
            col(HOST, rows, |p| p.host.clone()),
            col(BOOT, rows, |p| i64::from(p.boot)),
            col(POOL, rows, resource),
            col("limit_bytes", rows, |p| i64::try_from(p.limit_bytes).ok()),
            col("limit_source", rows, |p| p.limit_source.clone()),
            col("now_bytes", rows, |p| i64::try_from(p.now_bytes).ok()),
            time_col("now_at", rows, |p| Some(p.now_at)),
            col("bytes_per_hour", rows, |p| p.bytes_per_hour),
            col("rate_source", rows, |p| p.rate_source.clone()),
            time_col("exhaustion_at", rows, |p| p.exhaustion_at),
            time_col("exhaustion_earliest", rows, |p| p.exhaustion_range.map(|r| r[0])),
            time_col("exhaustion_latest", rows, |p| p.exhaustion_range.map(|r| r[1])),
            time_col("naive_exhaustion_at", rows, |p| p.naive_exhaustion_at),
            time_col("warning_at", rows, |p| p.warning_at),
            time_col("critical_at", rows, |p| p.critical_at),
            time_col("observed_exhaustion_at", rows, |p| p.observed_exhaustion_at),
            col("observed_evidence", rows, |p| p.observed_evidence.clone()),
        ],
    )
}

/// The attributions table (one row per suspect tag, process and boot of one host).
pub fn attributions(rows: &[&Attribution]) -> Result<DataFrame> {
    build(
        rows.len(),
        vec![
            col(HOST, rows, |a| a.host.clone()),
            col(BOOT, rows, |a| i64::from(a.boot)),
            col(TAG, rows, |a| a.tag.clone()),
            col("object_type", rows, |a| a.object_type.clone()),
            col(PROCESS, rows, |a| a.process.clone()),
            col(PID, rows, |a| a.pid.map(i64::from)),
            time_col("first_dump_at", rows, |a| Some(a.from)),
            time_col("last_dump_at", rows, |a| Some(a.to)),
            col("dumps", rows, |a| i64::try_from(a.dumps).ok()),
            col("handles_first", rows, |a| i64::try_from(a.handles[0]).ok()),
            col("handles_last", rows, |a| i64::try_from(a.handles[1]).ok()),
            col("handles_per_hour", rows, |a| a.handles_per_hour),
            col("type_handles_per_hour", rows, |a| a.type_handles_per_hour),
            col("share_of_growth", rows, |a| a.share_of_growth),
            col("share_of", rows, |a| a.share_of.clone()),
            col("held_share", rows, |a| a.held_share),
            col(ACCOUNT, rows, |a| a.account.clone()),
            col("account_share", rows, |a| a.account_share),
            col("tag_outstanding_per_hour", rows, |a| a.tag_outstanding_per_hour),
            col("strength", rows, |a| a.strength.clone()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn boot(n: u32, from_h: i64, to_h: i64) -> Boot {
        let t0 = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        Boot {
            host: "h".into(),
            boot: n,
            start: t0 + chrono::Duration::hours(from_h),
            end: t0 + chrono::Duration::hours(to_h),
            start_evidence: String::new(),
            end_evidence: String::new(),
            died: false,
            pool_samples: 0,
            fit_start: t0,
            too_short: None,
        }
    }

    #[test]
    fn times_between_boots_belong_to_the_boot_before() {
        let (b0, b1) = (boot(0, 0, 10), boot(1, 12, 20));
        let boots = [&b0, &b1];
        let at = |h| Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(h));
        assert_eq!(boot_at(&boots, at(5)), Some(0));
        assert_eq!(boot_at(&boots, at(11)), Some(0));
        assert_eq!(boot_at(&boots, at(30)), Some(1));
        assert_eq!(boot_at(&boots, at(-1)), None);
        assert_eq!(boot_at(&boots, None), None);
    }

    #[test]
    fn empty_tables_keep_their_types() {
        let df = suspects(&[]).unwrap();
        assert_eq!(df.height(), 0);
        assert_eq!(df.column("repeats_in_boots").unwrap().dtype(), &DataType::List(Box::new(DataType::Int64)));
        assert_eq!(df.column("driver").unwrap().dtype(), &DataType::String);
        let df = projections(&[]).unwrap();
        assert!(matches!(df.column("exhaustion_at").unwrap().dtype(), DataType::Datetime(_, None)));
        assert_eq!(attributions(&[]).unwrap().column(PID).unwrap().dtype(), &DataType::Int64);
    }
}
