//! `poolscope export`: a fleet's evidence and analysis as a hive-partitioned Parquet dataset (issue 11),
//! for DuckDB on one machine and Spark beyond it.
//!
//! ```text
//! DIR/SCHEMA.md                                          the schema (a copy of the repository's SCHEMA.md)
//! DIR/table=pool_samples/host=H/boot=B/part-0.parquet    likewise handle_counts, events, suspects,
//!                                                        projections, attributions
//! ```
//! Every column is documented in `SCHEMA.md`; its version, [`EXPORT_SCHEMA_VERSION`], is also in each
//! file's key-value metadata under [`META_SCHEMA_VERSION`]. Each partition is replaced atomically (a
//! temporary file renamed into place), and an export replaces only the partitions of the hosts it reads:
//! a host's boots that it no longer has are removed, other hosts' files are not touched. `H` and `B` are
//! escaped for path use ([`partition::escape_value`]); the `host` and `boot` columns inside the files hold
//! the values unescaped.

pub mod partition;
pub mod tables;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::analysis::{Analysis, Boot};
use crate::error::{Error, Result};
use crate::frame::BOOT;
use crate::model::{Dataset, HostData};

/// Version of the dataset's layout and columns (SCHEMA.md); bumped on any incompatible change.
pub const EXPORT_SCHEMA_VERSION: u32 = 1;

/// The schema document, written to the dataset's root as `SCHEMA.md`.
pub const SCHEMA_DOC: &str = include_str!("../../SCHEMA.md");

/// Key-value metadata key of the schema version in every Parquet file.
pub const META_SCHEMA_VERSION: &str = "poolscope.schema_version";
/// Key-value metadata key of the table name.
pub const META_TABLE: &str = "poolscope.table";
/// Key-value metadata key of the host, unescaped.
pub const META_HOST: &str = "poolscope.host";
/// Key-value metadata key of the boot (empty for the null partition).
pub const META_BOOT: &str = "poolscope.boot";
/// Key-value metadata key of the poolscope version that wrote the file.
pub const META_WRITER: &str = "poolscope.version";

/// Pool samples: one row per (snapshot, tag, pool type).
pub const POOL_SAMPLES: &str = "pool_samples";
/// Handle counts: one row per (snapshot, process, type, account or path prefix).
pub const HANDLE_COUNTS: &str = "handle_counts";
/// Event-log records.
pub const EVENTS: &str = "events";
/// The analysis' suspects.
pub const SUSPECTS: &str = "suspects";
/// The analysis' projections of exhaustion.
pub const PROJECTIONS: &str = "projections";
/// The analysis' attributions (who holds the leaked objects).
pub const ATTRIBUTIONS: &str = "attributions";
/// Every table, in SCHEMA.md's order.
pub const TABLES: [&str; 6] = [POOL_SAMPLES, HANDLE_COUNTS, EVENTS, SUSPECTS, PROJECTIONS, ATTRIBUTIONS];

/// One partition file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Table name.
    pub table: &'static str,
    /// Host (unescaped).
    pub host: String,
    /// Boot (`None`: rows outside every boot).
    pub boot: Option<u32>,
    /// Rows in the file.
    pub rows: usize,
    /// The file.
    pub path: PathBuf,
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// The hosts exported (their partitions were replaced).
    pub hosts: Vec<String>,
    /// Every partition file written.
    pub partitions: Vec<Written>,
}

/// Exports every host of `dataset` with its part of `analysis` into the dataset at `root` (created when
/// missing). Hosts are converted and written one at a time, so only one host's tables are in memory.
pub fn export(dataset: Dataset, analysis: &Analysis, root: &Path) -> Result<ExportSummary> {
    export_loading(dataset, analysis, root, &mut |_, data| data)
}

/// [`export`] over a dataset whose hosts `load` completes one at a time just before each is written (a
/// [`crate::ingest::survey`] without pool rows, whose rows `load` reads again): only one host's records and
/// tables are in memory at once.
pub fn export_loading(
    dataset: Dataset,
    analysis: &Analysis,
    root: &Path,
    load: &mut dyn FnMut(&str, HostData) -> HostData,
) -> Result<ExportSummary> {
    check_host_names(dataset.hosts.keys())?;
    std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
    crate::output::write_atomic(&root.join("SCHEMA.md"), SCHEMA_DOC.as_bytes())?;
    let mut summary = ExportSummary::default();
    for (host, data) in dataset.hosts {
        let data = load(&host, data);
        summary.partitions.extend(export_host(root, &host, data, analysis)?);
        summary.hosts.push(host);
    }
    Ok(summary)
}

/// Refuses two hosts whose partition folders would be the same on a case-insensitive file system (Windows,
/// macOS), or the same after a long name is cut: one would overwrite the other.
fn check_host_names<'a>(hosts: impl Iterator<Item = &'a String>) -> Result<()> {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for host in hosts {
        let folder = partition::escape_value(Some(host)).to_lowercase();
        if let Some(other) = seen.insert(folder, host) {
            return Err(Error::Usage(format!(
                "hosts {} and {} would share a partition folder (names differ only in case); export them \
                 to different folders or give one a --host name",
                crate::untrusted::escape(other),
                crate::untrusted::escape(host)
            )));
        }
    }
    Ok(())
}

/// Exports one host: builds its six tables, replaces each of its partitions, and removes the partitions of
/// boots it no longer has. The analysis tables get a (possibly empty) file for every boot the analysis saw,
/// so "analysed, nothing found" differs from "not exported".
pub fn export_host(root: &Path, host: &str, data: HostData, analysis: &Analysis) -> Result<Vec<Written>> {
    let boots: Vec<&Boot> = analysis.boots.iter().filter(|b| b.host == host).collect();
    let boot_ids: Vec<u32> = boots.iter().map(|b| b.boot).collect();
    let one = Dataset { hosts: BTreeMap::from([(host.to_owned(), data)]), diagnostics: Vec::new() };
    let mut written = Vec::new();
    let tables: [(&'static str, DataFrame, &[u32]); 6] = [
        (POOL_SAMPLES, tables::pool_samples(&one, &boots)?, &[]),
        (HANDLE_COUNTS, tables::handle_counts(&one, &boots)?, &[]),
        (EVENTS, tables::events(&one, &boots)?, &[]),
        (SUSPECTS, tables::suspects(&of_host(&analysis.suspects, host, |s| &s.host))?, &boot_ids),
        (PROJECTIONS, tables::projections(&of_host(&analysis.projections, host, |p| &p.host))?, &boot_ids),
        (ATTRIBUTIONS, tables::attributions(&of_host(&analysis.attributions, host, |a| &a.host))?, &boot_ids),
    ];
    for (table, df, always) in tables {
        written.extend(write_table(root, table, host, &df, always)?);
    }
    Ok(written)
}

fn of_host<'a, T>(rows: &'a [T], host: &str, host_of: impl Fn(&T) -> &String) -> Vec<&'a T> {
    rows.iter().filter(|r| host_of(r) == host).collect()
}

/// Writes one host's rows of a table, one partition per boot (plus an empty one for each of `always`), then
/// removes the host's other partitions of the table.
fn write_table(root: &Path, table: &'static str, host: &str, df: &DataFrame, always: &[u32]) -> Result<Vec<Written>> {
    let frame_err = |e: PolarsError| Error::Frame(e.to_string());
    let boot_col = df.column(BOOT).and_then(Column::i64).map_err(frame_err)?;
    let mut groups: BTreeSet<Option<i64>> = boot_col.iter().collect();
    groups.extend(always.iter().map(|&b| Some(i64::from(b))));
    let host_dir = partition::host_dir(root, table, host);
    let mut kept = Vec::new();
    let mut written = Vec::new();
    for group in groups {
        let mask: BooleanChunked = boot_col.iter().map(|b| Some(b == group)).collect();
        let mut part = df.filter(&mask).map_err(frame_err)?;
        // Boots are u32 in the analysis; an i64 outside that range cannot come from it.
        let boot = group.and_then(|b| u32::try_from(b).ok());
        let bytes = parquet_bytes(&mut part, table, host, boot)?;
        let component = partition::boot_component(boot);
        let path = partition::replace_partition(&host_dir.join(&component), &bytes)?;
        kept.push(component);
        written.push(Written { table, host: host.to_owned(), boot, rows: part.height(), path });
    }
    partition::remove_stale_boots(&host_dir, &kept)?;
    Ok(written)
}

/// One partition as Parquet (zstd), with the schema version and the partition's values in the file's
/// key-value metadata.
fn parquet_bytes(df: &mut DataFrame, table: &str, host: &str, boot: Option<u32>) -> Result<Vec<u8>> {
    let meta = KeyValueMetadata::from_static(vec![
        (META_SCHEMA_VERSION.to_owned(), EXPORT_SCHEMA_VERSION.to_string()),
        (META_TABLE.to_owned(), table.to_owned()),
        (META_HOST.to_owned(), host.to_owned()),
        (META_BOOT.to_owned(), boot.map(|b| b.to_string()).unwrap_or_default()),
        (META_WRITER.to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
    ]);
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_key_value_metadata(Some(meta))
        .finish(df)
        .map_err(|e| Error::Output { context: format!("{table} of {host}"), message: e.to_string() })?;
    Ok(buf)
}

/// Reads the key-value metadata of a Parquet file (`poolscope.*` keys and the writer's own).
pub fn read_metadata(path: &Path) -> Result<BTreeMap<String, String>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = ParquetReader::new(file);
    let meta = reader
        .get_metadata()
        .map_err(|e| Error::Output { context: path.display().to_string(), message: e.to_string() })?;
    Ok(meta
        .key_value_metadata
        .iter()
        .flatten()
        .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
        .collect())
}
