//! handle.exe output of every version and mode (formats reference §2).

use crate::model::{Diagnostic, HandleSnapshot};
use crate::parse::FileContext;

/// Parses every handle.exe run in a file. (Placeholder until the handle parser lands.)
pub fn parse(_text: &str, _ctx: &FileContext) -> (Vec<HandleSnapshot>, Vec<Diagnostic>) {
    (Vec::new(), Vec::new())
}
