//! Where objects come from: manifests on disk or stdin, or a saved facts snapshot.

pub mod live;
pub mod manifests;
pub mod snapshot;

use std::path::Path;

impl SourceError {
    /// The next step a user can take.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Read { .. } => Some("check the path"),
            Self::TooLarge { .. } => Some("raise --max-input-size if the input really is that large"),
            Self::NotAFile { .. } => Some("give a regular file or a directory; `-` reads stdin"),
            Self::Malformed { .. } | Self::InvalidObject { .. } => {
                Some("fix the manifest at that line, or leave the file out with --exclude")
            }
            Self::Exclude { .. } => Some("give a glob such as 'charts/**' or '**/*.tpl.yaml'"),
            Self::Live(live) => live.hint(),
            Self::Snapshot { .. } => Some("give a file written by `seaworthy snapshot`"),
        }
    }
}

/// Reads one regular file of at most `max_bytes` as UTF-8 text; a FIFO, socket or
/// device is refused before it is opened (opening a FIFO blocks, `/dev/zero` never ends).
pub fn read_regular_file(path: &Path, max_bytes: u64) -> Result<String, SourceError> {
    crate::walk::read_file(path, max_bytes).map_err(|unread| unread_error(&path.display().to_string(), unread))
}

/// Refuses anything that is not a regular file.
pub fn refuse_special(path: &Path, metadata: &std::fs::Metadata) -> Result<(), SourceError> {
    match crate::walk::special_kind(metadata) {
        Some(kind) => Err(SourceError::NotAFile { path: path.display().to_string(), kind }),
        None => Ok(()),
    }
}

pub(crate) fn unread_error(shown: &str, unread: crate::walk::Unread) -> SourceError {
    use crate::walk::Unread;
    match unread {
        Unread::NotAFile(kind) => SourceError::NotAFile { path: shown.to_owned(), kind },
        Unread::TooLarge(limit) => SourceError::TooLarge { path: shown.to_owned(), limit },
        Unread::Io(source) => SourceError::Read { path: shown.to_owned(), source },
    }
}

/// Reading a source failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A path could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The path as given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An input is larger than the size limit.
    #[error("{path} is larger than the input limit of {limit} bytes")]
    TooLarge {
        /// The path as given (`<stdin>` for `-`).
        path: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A path is neither a regular file nor a directory (a device, FIFO or socket).
    #[error("{path} is {kind}: only regular files, directories and stdin are read")]
    NotAFile {
        /// The path.
        path: String,
        /// What it is.
        kind: &'static str,
    },
    /// A manifest file is not valid YAML or JSON.
    #[error("{file}:{line}:{column}: malformed YAML: {reason}")]
    Malformed {
        /// The file.
        file: String,
        /// 1-based line of the error.
        line: u32,
        /// 1-based column of the error.
        column: u32,
        /// The parser's message.
        reason: String,
    },
    /// An object of a known kind does not match the Kubernetes schema.
    #[error("{file}:{line}: {reason}")]
    InvalidObject {
        /// The file.
        file: String,
        /// Line where the object starts.
        line: u32,
        /// What is wrong with it.
        reason: String,
    },
    /// An `--exclude` pattern is no glob.
    #[error("--exclude {pattern}: {reason}")]
    Exclude {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading a live cluster failed.
    #[error(transparent)]
    Live(#[from] live::LiveError),
    /// A snapshot file is not a facts document this version can read.
    #[error("{path}: not a seaworthy snapshot: {reason}")]
    Snapshot {
        /// The snapshot path.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}
