//! Keeping secrets out of git: a file that must never be committed (a
//! private key) is added to the `.gitignore` beside it when it lies inside
//! a git work tree and nothing ignores it yet.

use std::io;
use std::path::{Path, PathBuf};

/// What [`ensure_ignored`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// Not inside a git work tree: nothing to do.
    NotInRepo,
    /// A rule already ignores the file.
    Already,
    /// The file is tracked by git: ignoring it would not untrack it.
    Tracked,
    /// `/<name>` was appended to this `.gitignore`.
    Added(PathBuf),
}

/// Make git ignore `file` (which need not exist yet), by appending
/// `/<file name>` to the `.gitignore` of its directory.
pub fn ensure_ignored(file: &Path, comment: &str) -> io::Result<Ignored> {
    let abs = std::path::absolute(file)?;
    let (Some(dir), Some(name)) = (abs.parent(), abs.file_name()) else {
        return Ok(Ignored::NotInRepo);
    };
    let Ok(repo) = git2::Repository::discover(dir) else {
        return Ok(Ignored::NotInRepo);
    };
    let Some(workdir) = repo.workdir().map(Path::to_path_buf) else {
        return Ok(Ignored::NotInRepo);
    };
    // Compare canonical forms: the work tree may be reached through a symlink.
    let canon_dir = dir.canonicalize()?;
    let canon_work = workdir.canonicalize()?;
    let Ok(rel_dir) = canon_dir.strip_prefix(&canon_work) else {
        return Ok(Ignored::NotInRepo);
    };
    let rel = rel_dir.join(name);
    if repo.is_path_ignored(&rel).map_err(io::Error::other)? {
        return Ok(Ignored::Already);
    }
    let tracked = repo
        .index()
        .map_err(io::Error::other)?
        .get_path(&rel, 0)
        .is_some();
    if tracked {
        return Ok(Ignored::Tracked);
    }
    let path = dir.join(".gitignore");
    let mut text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("# {comment}\n/{}\n", name.to_string_lossy()));
    crate::fsutil::write_atomic(&path, text.as_bytes())?;
    Ok(Ignored::Added(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_once_and_only_in_a_repo() {
        let d = tempfile::tempdir().unwrap();
        let key = d.path().join("sub/cosign.key");
        std::fs::create_dir_all(key.parent().unwrap()).unwrap();
        assert_eq!(ensure_ignored(&key, "k").unwrap(), Ignored::NotInRepo);
        git2::Repository::init(d.path()).unwrap();
        let added = ensure_ignored(&key, "private key").unwrap();
        assert_eq!(added, Ignored::Added(d.path().join("sub/.gitignore")));
        assert_eq!(
            std::fs::read_to_string(d.path().join("sub/.gitignore")).unwrap(),
            "# private key\n/cosign.key\n"
        );
        assert_eq!(ensure_ignored(&key, "k").unwrap(), Ignored::Already);
        // An existing .gitignore keeps its lines; a rule elsewhere counts.
        let other = d.path().join("other.key");
        std::fs::write(d.path().join(".gitignore"), "*.key").unwrap();
        assert_eq!(ensure_ignored(&other, "k").unwrap(), Ignored::Already);
        let pem = d.path().join("signing.pem");
        assert!(matches!(
            ensure_ignored(&pem, "k").unwrap(),
            Ignored::Added(_)
        ));
        assert_eq!(
            std::fs::read_to_string(d.path().join(".gitignore")).unwrap(),
            "*.key\n# k\n/signing.pem\n"
        );
    }
}
