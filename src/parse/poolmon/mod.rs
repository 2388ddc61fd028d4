//! poolmon output: `-n` snapshot files (x86 and x64 layouts) and interactive screens (formats reference §1).

use crate::model::{Diagnostic, PoolSnapshot};
use crate::parse::FileContext;

/// Parses every snapshot in a poolmon file. (Placeholder until the poolmon parser lands.)
pub fn parse(_text: &str, _ctx: &FileContext) -> (Vec<PoolSnapshot>, Vec<Diagnostic>) {
    (Vec::new(), Vec::new())
}
