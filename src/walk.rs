//! Finds the files below a directory, for manifests and rule directories alike, and
//! reads a file's text within bounds: regular files only, never past a size limit.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Every file below `dir` whose extension is one of `extensions`, sorted so that
/// results never depend on directory order. Symbolic links are followed, but a
/// directory is entered once, so a link cycle cannot loop. Errors name the path.
pub fn files_below(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>, (PathBuf, std::io::Error)> {
    let mut files = Vec::new();
    let mut entered = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let canonical = current.canonicalize().map_err(|error| (current.clone(), error))?;
        if !entered.insert(canonical) {
            continue;
        }
        for entry in std::fs::read_dir(&current).map_err(|error| (current.clone(), error))? {
            let path = entry.map_err(|error| (current.clone(), error))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .and_then(|extension| extension.to_str())
                .is_some_and(|extension| extensions.contains(&extension))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The largest rule file, configuration file or baseline report read: far beyond any
/// real one, and a bound on what a mistaken path can make seaworthy hold in memory.
pub const MAX_SMALL_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a file's text was not read.
#[derive(Debug)]
pub enum Unread {
    /// It is not a regular file: a directory, FIFO, socket or device.
    NotAFile(&'static str),
    /// It holds more than the limit.
    TooLarge(u64),
    /// Reading failed, or it is not UTF-8.
    Io(std::io::Error),
}

/// What a path is when it is not a regular file (`metadata` follows links: what matters
/// is what a read would open); `None` for a regular file.
pub fn special_kind(metadata: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt as _;
    let kind = metadata.file_type();
    Some(if metadata.is_file() {
        return None;
    } else if kind.is_dir() {
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
    })
}

/// Reads at most `max_bytes` (one more tells that the input is larger) as UTF-8 text.
pub fn read_bounded(input: impl std::io::Read, max_bytes: u64) -> Result<String, Unread> {
    let mut bytes = Vec::new();
    input.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(Unread::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(Unread::TooLarge(max_bytes));
    }
    String::from_utf8(bytes).map_err(|error| {
        Unread::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8 text: {error}")))
    })
}

/// Reads a regular file of at most `max_bytes` as UTF-8 text. Anything else is refused
/// before it is opened: opening a FIFO blocks, and `/dev/zero` never ends.
pub fn read_file(path: &Path, max_bytes: u64) -> Result<String, Unread> {
    let metadata = std::fs::metadata(path).map_err(Unread::Io)?;
    if let Some(kind) = special_kind(&metadata) {
        return Err(Unread::NotAFile(kind));
    }
    read_bounded(std::fs::File::open(path).map_err(Unread::Io)?, max_bytes)
}

/// Opens a regular file of at most `max_bytes` for reading; anything else is refused
/// before it is opened. The caller still bounds what it reads: a file may grow.
pub fn open_file(path: &Path, max_bytes: u64) -> Result<std::fs::File, Unread> {
    let metadata = std::fs::metadata(path).map_err(Unread::Io)?;
    if let Some(kind) = special_kind(&metadata) {
        return Err(Unread::NotAFile(kind));
    }
    if metadata.len() > max_bytes {
        return Err(Unread::TooLarge(max_bytes));
    }
    std::fs::File::open(path).map_err(Unread::Io)
}

/// Reads a rule, configuration or report file: a regular file of at most
/// [`MAX_SMALL_FILE_BYTES`], as UTF-8 text.
pub fn read_small_file(path: &Path) -> std::io::Result<String> {
    read_file(path, MAX_SMALL_FILE_BYTES).map_err(|unread| match unread {
        Unread::Io(error) => error,
        Unread::NotAFile(kind) => std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{kind}, not a regular file: only regular files are read"),
        ),
        Unread::TooLarge(limit) => {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("larger than {limit} bytes"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_must_be_regular() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let file = dir.path().join("rule.yaml");
        std::fs::write(&file, "id: X").expect("write");
        assert_eq!(read_small_file(&file).expect("a regular file reads"), "id: X");
        let error = read_small_file(Path::new("/dev/zero")).expect_err("a device is refused");
        assert!(error.to_string().contains("not a regular file"), "{error}");
    }

    #[test]
    fn finds_matching_files_sorted_and_survives_a_link_cycle() {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir_all(dir.path().join("b/c")).expect("mkdir");
        for name in ["b/c/z.yaml", "a.yml", "b/x.json", "b/notes.txt"] {
            std::fs::write(dir.path().join(name), "").expect("write");
        }
        std::os::unix::fs::symlink(dir.path(), dir.path().join("b/c/loop")).expect("symlink");
        let files = files_below(dir.path(), &["yaml", "yml", "json"]).expect("walk");
        let names: Vec<String> =
            files.iter().map(|file| file.strip_prefix(dir.path()).expect("below").display().to_string()).collect();
        assert_eq!(names, vec!["a.yml", "b/c/z.yaml", "b/x.json"]);
    }
}
