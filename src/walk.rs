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

#[cfg(test)]
mod tests {
    use super::*;

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
