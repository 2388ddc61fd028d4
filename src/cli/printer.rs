//! One place that decides what goes to stderr: quiet/verbose, colour, and sanitised log text.

use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};

use super::args::{ColorChoice, GlobalArgs};
use crate::model::{Diagnostic, Severity};

/// How many diagnostics are printed one by one before the rest are only counted (without `-v`).
const DIAGNOSTICS_SHOWN: usize = 20;

/// Writes diagnostics, warnings and errors to stderr according to the global options.
#[derive(Debug, Clone)]
pub struct Printer {
    /// `-q`: errors only.
    pub quiet: bool,
    /// `-v`: everything.
    pub verbose: bool,
    /// Whether stderr gets ANSI colours.
    pub color: bool,
    /// Whether progress bars may be drawn.
    pub progress: bool,
    /// Width stdout's tables and wrapped text are fitted to; `None` with `--wide`.
    pub width: Option<usize>,
}

impl Printer {
    /// Builds a printer from the global options and the environment (NO_COLOR, TERM, terminal).
    pub fn new(global: &GlobalArgs) -> Self {
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stderr().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var("TERM").map_or(true, |t| t != "dumb")
            }
        };
        Self {
            quiet: global.quiet,
            verbose: global.verbose,
            color,
            progress: !global.no_progress && !global.quiet,
            width: output_width(global.wide),
        }
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }

    /// Prints a fatal error and its cause chain once.
    pub fn error(&self, err: &anyhow::Error) {
        let label = self.paint(AnsiColor::Red.on_default().bold(), "error");
        let mut line = format!("poolscope: {label}: {}", sanitize(&err.to_string()));
        for cause in err.chain().skip(1) {
            let text = sanitize(&cause.to_string());
            if !line.contains(&text) {
                line.push_str(&format!(": {text}"));
            }
        }
        let _ = writeln!(std::io::stderr(), "{line}");
    }

    /// Prints a warning unless quiet.
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            let label = self.paint(AnsiColor::Yellow.on_default().bold(), "warning");
            let _ = writeln!(std::io::stderr(), "poolscope: {label}: {}", sanitize(message));
        }
    }

    /// Prints an informational line when verbose.
    pub fn info(&self, message: &str) {
        if self.verbose {
            let _ = writeln!(std::io::stderr(), "poolscope: {}", sanitize(message));
        }
    }

    /// Prints diagnostics as `poolscope: <path>:<line>: <severity>: <what>`: all with `-v`, the first
    /// few errors and warnings otherwise (then a count), errors only with `-q`.
    pub fn diagnostics(&self, diagnostics: &[Diagnostic]) {
        let mut stderr = std::io::stderr().lock();
        let mut shown = 0usize;
        let mut hidden = 0usize;
        for d in diagnostics {
            let wanted = match d.severity {
                Severity::Error => true,
                Severity::Warning => !self.quiet,
                Severity::Info => self.verbose,
            };
            if !wanted {
                continue;
            }
            if !self.verbose && shown >= DIAGNOSTICS_SHOWN {
                hidden += 1;
                continue;
            }
            shown += 1;
            let style = match d.severity {
                Severity::Error => AnsiColor::Red.on_default().bold(),
                Severity::Warning => AnsiColor::Yellow.on_default().bold(),
                Severity::Info => AnsiColor::Cyan.on_default(),
            };
            let sev = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            let location = if d.path.is_empty() { String::new() } else { format!("{}: ", sanitize(&d.location())) };
            let _ = writeln!(stderr, "poolscope: {location}{}: {}", self.paint(style, sev), sanitize(&d.message));
        }
        if hidden > 0 {
            let _ = writeln!(stderr, "poolscope: ... and {hidden} more diagnostics (use -v to see all)");
        }
    }
}

/// The narrowest width tables are fitted to: below it, nothing useful fits anyway.
const MIN_WIDTH: usize = 40;
/// The width used when neither `COLUMNS` nor a terminal says otherwise (a ticket's width when piped).
const DEFAULT_WIDTH: usize = 100;

/// The width tables and wrapped text are fitted to: `None` is unlimited (`--wide`).
pub fn output_width(wide: bool) -> Option<usize> {
    if wide {
        return None;
    }
    let from_env = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|&c| c > 0);
    let from_terminal = || {
        std::io::stdout()
            .is_terminal()
            .then(terminal_size::terminal_size)
            .flatten()
            .map(|(terminal_size::Width(w), _)| usize::from(w))
    };
    Some(from_env.or_else(from_terminal).unwrap_or(DEFAULT_WIDTH).max(MIN_WIDTH))
}

/// Log text as it may reach a terminal: control characters, escape sequences and bidi overrides shown
/// escaped (`\x1b`, `\u{202e}`), tabs kept. The CLI's one way to print untrusted text
/// ([`crate::untrusted::escape`]).
pub fn sanitize(text: &str) -> String {
    crate::untrusted::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn escape_sequences_from_logs_are_neutralised() {
        assert_eq!(sanitize("evil\u{1b}[2Jname\r\n"), r"evil\x1b[2Jname\r\n");
        assert_eq!(sanitize("a\u{202e}b\tc"), "a\\u{202e}b\tc");
    }
}
