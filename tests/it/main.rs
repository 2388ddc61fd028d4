//! Integration tests: one test binary (linking polars once), one module per area.

mod analysis;
mod atomic;
mod cli;
mod debugger;
mod diff;
mod events;
mod evtx_writer;
mod export;
mod fuzz_targets;
mod handle;
mod handle_cli;
mod hostile;
mod layouts;
mod limits;
mod markdown;
mod perfmon;
mod pool_csv;
mod poolmon;
mod report;
mod short;
mod simulate;
mod tags;
mod times;
mod verdicts;
mod wpa;
