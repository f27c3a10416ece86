//! Finds the files below a directory, for manifests and rule directories alike.

use std::collections::BTreeSet;
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

/// Reads a rule, configuration or report file: a regular file (a FIFO would block, a
/// device never end) of at most [`MAX_SMALL_FILE_BYTES`], as UTF-8 text.
pub fn read_small_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file: only regular files are read",
        ));
    }
    let mut text = String::new();
    std::fs::File::open(path)?.take(MAX_SMALL_FILE_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_SMALL_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_SMALL_FILE_BYTES} bytes"),
        ));
    }
    Ok(text)
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
