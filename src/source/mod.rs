//! Where objects come from: manifests on disk or stdin, or a saved facts snapshot.

pub mod live;
pub mod manifests;
pub mod snapshot;

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
