//! Progress bars on stderr (indicatif), only when stderr is a terminal and `--no-progress` is not given.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Creates a progress bar over `total` units, or a hidden one when progress should not be drawn.
pub fn bar(total: u64, enabled: bool, what: &str) -> ProgressBar {
    if !enabled || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}
