//! Walking a file or directory into its regular files, in OMS path order,
//! under one [`SetOptions`].

use std::io;
use std::path::{Path, PathBuf};

use super::posix_path_cmp;
use super::set::SetOptions;

/// One regular file found by [`walk`].
#[derive(Debug, Clone)]
pub struct TreeFile {
    /// Relative POSIX path (for a single-file root: the file name).
    pub rel: String,
    /// Path to open.
    pub abs: PathBuf,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path}: symlink points outside the tree (to {target}); mlprov never follows a link out of the artifact"
    )]
    SymlinkEscape { path: PathBuf, target: PathBuf },
    #[error("{path}: is a symlink; symlinks are refused unless allowed explicitly")]
    SymlinkRefused { path: PathBuf },
    #[error("{path}: file name is not valid UTF-8; rename it so it can be recorded")]
    NonUtf8 { path: PathBuf },
    #[error("{path}: neither a regular file nor a directory (device, socket or FIFO)")]
    Special { path: PathBuf },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WalkError + '_ {
    move |source| WalkError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Walk a file or a directory into its regular files, sorted in OMS order.
///
/// A single file is a set of one, named by its file name. Symlinks are refused
/// unless the options allow them, and a symlink resolving outside `root` is always
/// refused.
pub fn walk(root: &Path, opts: &SetOptions) -> Result<Vec<TreeFile>, WalkError> {
    let canon_root = root.canonicalize().map_err(io_err(root))?;
    if !canon_root.is_dir() {
        let name = root
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| WalkError::NonUtf8 {
                path: root.to_path_buf(),
            })?
            .to_string();
        let m = std::fs::metadata(root).map_err(io_err(root))?;
        if !m.is_file() {
            return Err(WalkError::Special {
                path: root.to_path_buf(),
            });
        }
        return Ok(vec![TreeFile {
            rel: name,
            abs: root.to_path_buf(),
            size: m.len(),
        }]);
    }
    let mut out = Vec::new();
    walk_dir(&canon_root, root, "", opts, &mut out)?;
    out.sort_by(|a, b| posix_path_cmp(&a.rel, &b.rel));
    Ok(out)
}

fn walk_dir(
    canon_root: &Path,
    dir: &Path,
    prefix: &str,
    opts: &SetOptions,
    out: &mut Vec<TreeFile>,
) -> Result<(), WalkError> {
    let rd = std::fs::read_dir(dir).map_err(io_err(dir))?;
    for entry in rd {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| WalkError::NonUtf8 { path: path.clone() })?;
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if opts.ignores(&rel) {
            continue;
        }
        let ft = entry.file_type().map_err(io_err(&path))?;
        let (is_dir, size) = if ft.is_symlink() {
            let target = path.canonicalize().map_err(io_err(&path))?;
            if !target.starts_with(canon_root) {
                return Err(WalkError::SymlinkEscape { path, target });
            }
            if !opts.allows_symlinks() {
                return Err(WalkError::SymlinkRefused { path });
            }
            let m = std::fs::metadata(&path).map_err(io_err(&path))?;
            if m.is_dir() {
                // A link to a directory inside the tree could loop; refuse
                // to recurse through it rather than walk a cycle.
                return Err(WalkError::SymlinkRefused { path });
            }
            (false, m.len())
        } else if ft.is_dir() {
            (true, 0)
        } else if ft.is_file() {
            (false, entry.metadata().map_err(io_err(&path))?.len())
        } else {
            return Err(WalkError::Special { path });
        };
        if is_dir {
            walk_dir(canon_root, &path, &rel, opts, out)?;
        } else {
            out.push(TreeFile {
                rel,
                abs: path,
                size,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_refuses_escaping_symlink() {
        let outside = crate::digest::test_tree(&[("secret", b"x")]);
        let d = crate::digest::test_tree(&[]);
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path().join("secret"), d.path().join("link")).unwrap();
        let opts = SetOptions::default().with_symlinks(true);
        assert!(matches!(
            walk(d.path(), &opts),
            Err(WalkError::SymlinkEscape { .. })
        ));
    }
}
