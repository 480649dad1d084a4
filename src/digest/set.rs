//! The artifact's file set: every file with its relative POSIX path, size,
//! SHA-256 and (when known) format, and the artifact digest they make.
//!
//! One type serves every place a set of files is recorded or compared: the
//! lock's inputs, the build's outputs, a signed OMS manifest hashed again,
//! the layers pushed to or pulled from a registry. [`SetOptions::artifact`]
//! is the one place that says which files of a tree belong to the artifact.

use std::path::{Path, PathBuf};

use super::cache::HashCache;
use super::entry::{FileEntry, SetOptions, entries_digest};
use super::hash::{HashError, hash_files};
use super::walk::{WalkError, walk};
use super::{Sha256Digest, posix_path_cmp};
use crate::reporter::Reporter;

/// Files in OMS path order and their artifact digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSet {
    pub files: Vec<FileEntry>,
    /// The artifact digest of `files`.
    pub digest: Sha256Digest,
}

#[derive(Debug, thiserror::Error)]
pub enum SetError {
    #[error(transparent)]
    Walk(#[from] WalkError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

impl FileSet {
    /// A set of these entries, sorted into OMS order.
    pub fn new(mut files: Vec<FileEntry>) -> Self {
        files.sort_by(|a, b| posix_path_cmp(&a.path, &b.path));
        let digest = entries_digest(&files);
        Self { files, digest }
    }

    /// Walk `root` (a file or a directory) under `opts` and hash every file
    /// selected, in parallel. With a cache, unchanged files are not read;
    /// `verify` passes none.
    pub fn hash(
        root: &Path,
        opts: &SetOptions,
        cache: Option<&HashCache>,
        reporter: &dyn Reporter,
    ) -> Result<Self, SetError> {
        let mut tree = walk(root, opts)?;
        tree.retain(|f| opts.selects(&f.rel));
        Ok(Self::new(hash_files(&tree, cache, reporter)?))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Where each file is when the set was hashed from `root`: below it for
    /// a directory, `root` itself for a single file.
    pub fn paths(&self, root: &Path) -> Vec<PathBuf> {
        let is_dir = root.is_dir();
        self.files
            .iter()
            .map(|f| {
                if is_dir {
                    root.join(&f.path)
                } else {
                    root.to_path_buf()
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::SIGNATURE_FILE;
    use crate::reporter::Silent;

    #[test]
    fn artifact_leaves_out_git_paths_and_the_signature() {
        let d = crate::digest::test_tree(&[
            (".git/objects/x", b"x"),
            (".gitattributes", b"x"),
            (".gitignore2", b"x"),
            (SIGNATURE_FILE, b"sig"),
            ("w", b"x"),
            ("config.json", b"{}"),
        ]);
        let opts = SetOptions::artifact().with_ignores(["w"]);
        let set = FileSet::hash(d.path(), &opts, None, &Silent).unwrap();
        let names: Vec<_> = set.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(names, [".gitignore2", "config.json"]);
        assert_eq!(set.digest, entries_digest(&set.files));
        assert_eq!(
            opts.recorded_ignores(),
            [
                ".git",
                ".gitattributes",
                ".github",
                ".gitignore",
                "model.sig",
                "w"
            ]
        );
        // The signature elsewhere: a `model.sig` in the tree is a file.
        let elsewhere = SetOptions::artifact().with_signature(None);
        let set = FileSet::hash(d.path(), &elsewhere, None, &Silent).unwrap();
        assert!(set.files.iter().any(|f| f.path == SIGNATURE_FILE));
        assert!(!elsewhere.recorded_ignores().contains(&"model.sig".into()));
    }

    #[test]
    fn selection_and_single_files() {
        let d = crate::digest::test_tree(&[("sub/a.json", b"1"), ("b.bin", b"2")]);
        let opts = SetOptions::artifact().selecting(|p| p.ends_with(".json"));
        let set = FileSet::hash(d.path(), &opts, None, &Silent).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.paths(d.path()), [d.path().join("sub/a.json")]);
        let one = d.path().join("b.bin");
        let set = FileSet::hash(&one, &SetOptions::artifact(), None, &Silent).unwrap();
        assert_eq!(set.files[0].path, "b.bin");
        assert_eq!(set.paths(&one), vec![one]);
        assert_eq!(set.total_size(), 1);
    }

    #[test]
    fn new_sorts_into_oms_order() {
        let e = |p: &str| FileEntry {
            path: p.into(),
            size: 1,
            sha256: Sha256Digest::of(p.as_bytes()),
            format: None,
        };
        let set = FileSet::new(vec![e("a.b"), e("a/c"), e("a-b/c")]);
        let names: Vec<_> = set.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(names, ["a/c", "a-b/c", "a.b"]);
        assert_eq!(set.digest, FileSet::new(set.files.clone()).digest);
    }
}
