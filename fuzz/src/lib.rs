//! Shared set-up of the fuzz targets: the file context every parser is given.

use poolscope::model::TimeSettings;
use poolscope::parse::FileContext;

/// A context like a real file's: a stamped name (so the file-name time is read too), no `--tz`, no
/// modification time.
pub fn context(name: &str) -> FileContext {
    FileContext { path: format!("fuzz/{name}"), time: TimeSettings::default(), ..FileContext::default() }
}

/// The input as text the way the parsers receive it (BOM sniffing, UTF-16LE, ANSI fallback).
pub fn decoded(data: &[u8]) -> String {
    poolscope::parse::text::decode(data).text.into_owned()
}
