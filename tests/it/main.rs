//! Integration tests: one test binary (linking polars once), one module per area.

mod cli;
mod diff;
mod tags;
