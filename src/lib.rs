//! poolscope: post-mortem analysis of Windows kernel pool leaks from archived poolmon snapshots,
//! handle.exe output and event logs.
//!
//! The pipeline: [`parse`] (detect, decode, one parser per format) → [`model`] (typed records with
//! provenance and diagnostics) → [`ingest`] (walk inputs, group by host) → [`frame`] (polars tables)
//! → [`analysis`] (growth, suspects, projection, correlation) → [`report`] (text, JSON, Markdown,
//! HTML, charts) and [`export`] (a hive-partitioned Parquet dataset for fleets). [`simulate`] writes realistic
//! incident archives with their ground truth.

#[cfg(feature = "frames")]
pub mod analysis;
pub mod error;
#[cfg(feature = "frames")]
pub mod export;
#[cfg(feature = "frames")]
pub mod frame;
pub mod ingest;
pub mod kit;
pub mod model;
pub mod output;
pub mod parse;
#[cfg(feature = "frames")]
pub mod report;
pub mod simulate;
#[cfg(feature = "frames")]
pub mod stream_export;
#[cfg(feature = "frames")]
pub mod table;
pub mod units;
pub mod untrusted;

pub use error::{Error, Result};
#[cfg(feature = "frames")]
pub mod cli;
