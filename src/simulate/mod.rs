//! Writers of realistic incident archives: simulated poolmon, handle and event-log files with their ground truth.

pub mod events;
pub mod evtx;

// The incident simulator (`poolscope simulate`): scenarios, the engine and the text writers.
pub mod archive;
pub mod debugger_writer;
pub mod handle_model;
pub mod handle_writer;
pub mod host;
pub mod host_events;
pub mod host_output;
pub mod inventory_writer;
pub mod math;
pub mod perfmon_writer;
pub mod pool_csv_writer;
pub mod pool_model;
pub mod poolmon_writer;
pub mod rng;
pub mod scenario;
pub mod scenarios;
pub mod sink;
pub mod truth;
pub mod wpa_writer;

pub use archive::{simulate, TRUTH_FILE};
pub use scenario::{Extras, Layout, Newline, ScenarioName, SimOptions, StampStyle, TextEncoding};
pub use truth::Truth;
