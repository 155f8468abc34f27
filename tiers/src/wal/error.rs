//! Errors of the write-ahead log.

use std::path::PathBuf;

/// What can go wrong writing or replaying the WAL.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// A file operation failed (disk full, permissions, …).
    #[error("WAL I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },

    /// A complete record whose checksum or contents are wrong, before the end of the log: the log
    /// was damaged after it was written. Strata refuses to start rather than skip acknowledged
    /// writes.
    #[error("WAL segment {path} is damaged at byte {offset}: {reason}")]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// Where the bad record starts.
        offset: u64,
        /// What is wrong.
        reason: String,
    },

    /// A record payload that does not decode.
    #[error("WAL record format error: {0}")]
    Format(String),

    /// An earlier `fdatasync` failed, so nothing written since can be known to be on disk; the
    /// log refuses writes until the server is restarted and replays what the disk holds.
    #[error(
        "the write-ahead log could not be synced to disk ({0}); writes are refused until the \
         server is restarted"
    )]
    SyncFailed(std::sync::Arc<str>),

    /// The rows of a record could not be encoded or decoded as Arrow IPC.
    #[error("WAL Arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

/// Result alias for the WAL.
pub type WalResult<T> = std::result::Result<T, WalError>;

/// Attaches `path` to an I/O error.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> WalError {
    let path = path.into();
    move |source| WalError::Io { path, source }
}
