//! The library's error type: every variant says which file (and where in it) went wrong.

use std::path::PathBuf;

/// A failure that stops an operation (as opposed to a [`crate::model::Diagnostic`], which does not).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying IO error.
        #[source]
        source: std::io::Error,
    },
    /// A file yielded nothing usable.
    #[error("{path}: {message}")]
    NothingUsable {
        /// The file.
        path: PathBuf,
        /// What was expected and not found.
        message: String,
    },
    /// A line of a file could not be read, in strict mode.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What went wrong.
        message: String,
    },
    /// A binary record could not be read, in strict mode.
    #[error("{path}@0x{offset:08x}: {message}")]
    Binary {
        /// The file.
        path: PathBuf,
        /// Byte offset.
        offset: u64,
        /// What went wrong.
        message: String,
    },
    /// The user asked for something that cannot be done (bad argument value, unknown scenario).
    #[error("{0}")]
    Usage(String),
    /// Building or writing a data frame failed.
    #[error("data frame: {0}")]
    Frame(String),
    /// Writing an output failed.
    #[error("{context}: {message}")]
    Output {
        /// What was being written.
        context: String,
        /// What went wrong.
        message: String,
    },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An IO error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
