//! Integration tests: one test binary (linking polars once), one module per area.

mod cli;
mod diff;
mod tags;
mod evtx_writer;
mod events;
mod poolmon;
mod report;
mod handle;
