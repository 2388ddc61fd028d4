//! poolscope: post-mortem analysis of Windows kernel pool leaks from archived poolmon snapshots,
//! handle.exe output and event logs.
//!
//! The pipeline: [`parse`] (detect, decode, one parser per format) → [`model`] (typed records with
//! provenance and diagnostics) → [`ingest`] (walk inputs, group by host) → [`frame`] (polars tables)
//! → [`analysis`] (growth, suspects, projection, correlation) → [`report`] (text, JSON, Markdown,
//! HTML, charts). [`simulate`] writes realistic incident archives with their ground truth.

pub mod analysis;
pub mod error;
pub mod frame;
pub mod ingest;
pub mod model;
pub mod output;
pub mod parse;
pub mod report;
pub mod simulate;
pub mod table;
pub mod units;

pub use error::{Error, Result};
pub mod cli;
