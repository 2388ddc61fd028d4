//! Event logs: binary .evtx and every export format (events reference §2, §3).

use crate::model::{Diagnostic, Event};
use crate::parse::{FileContext, Format};

/// Parses an event log or export. (Placeholder until the event parsers land.)
pub fn parse(_bytes: &[u8], _format: Format, _ctx: &FileContext) -> (Vec<Event>, Vec<Diagnostic>) {
    (Vec::new(), Vec::new())
}
