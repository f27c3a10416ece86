//! Where objects come from: manifests on disk or stdin, or a saved facts snapshot.

pub mod live;
pub mod manifests;
pub mod snapshot;

use std::io::Read as _;
use std::path::Path;

impl SourceError {
    /// The next step a user can take.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Read { .. } => Some("check the path"),
            Self::TooLarge { .. } => Some("raise --max-input-size if the input really is that large"),
            Self::NotAFile { .. } => Some("give a regular file or a directory; `-` reads stdin"),
            Self::Malformed { .. } | Self::InvalidObject { .. } => {
                Some("fix the manifest at that line, or leave the file out")
            }
            Self::Live(live) => live.hint(),
            Self::Snapshot { .. } => Some("give a file written by `seaworthy snapshot`"),
        }
    }
}

/// Reads one regular file of at most `max_bytes` as UTF-8 text. A device, FIFO or socket
/// is refused before it is opened: opening a FIFO blocks, and `/dev/zero` never ends.
pub fn read_regular_file(path: &Path, max_bytes: u64) -> Result<String, SourceError> {
    let shown = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|source| SourceError::Read { path: shown.clone(), source })?;
    refuse_special(path, &metadata)?;
    let file = std::fs::File::open(path).map_err(|source| SourceError::Read { path: shown.clone(), source })?;
    read_limited(file, &shown, max_bytes)
}

/// Reads at most `max_bytes` (one more tells that the input is larger) as UTF-8 text.
pub fn read_limited(input: impl std::io::Read, shown: &str, max_bytes: u64) -> Result<String, SourceError> {
    let mut bytes = Vec::new();
    input
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| SourceError::Read { path: shown.to_owned(), source })?;
    if bytes.len() as u64 > max_bytes {
        return Err(SourceError::TooLarge { path: shown.to_owned(), limit: max_bytes });
    }
    String::from_utf8(bytes).map_err(|error| SourceError::Read {
        path: shown.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8 text: {error}")),
    })
}

/// Refuses anything that is not a regular file (`metadata` follows links: what matters
/// is what a read would open).
pub fn refuse_special(path: &Path, metadata: &std::fs::Metadata) -> Result<(), SourceError> {
    use std::os::unix::fs::FileTypeExt as _;
    if metadata.is_file() {
        return Ok(());
    }
    let kind = metadata.file_type();
    let kind = if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    };
    Err(SourceError::NotAFile { path: path.display().to_string(), kind })
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
