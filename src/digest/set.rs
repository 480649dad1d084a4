//! The artifact's file set: every file with its relative POSIX path, size,
//! SHA-256 and (when known) format, and the artifact digest they make.
//!
//! One type serves every place a set of files is recorded or compared: the
//! lock's inputs, the build's outputs, a signed OMS manifest hashed again,
//! the layers pushed to or pulled from a registry. [`SetOptions::artifact`]
//! is the one place that says which files of a tree belong to the artifact.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::cache::HashCache;
use super::hash::{HashError, hash_files};
use super::walk::{WalkError, walk};
use super::{Sha256Digest, artifact_digest, posix_path_cmp};
use crate::reporter::Reporter;

/// The OMS signature file `mlprov sign` writes into a model directory. Like
/// model_signing, the artifact digest never covers it.
pub const SIGNATURE_FILE: &str = "model.sig";

/// Repository plumbing model_signing leaves out by default, relative to the
/// root: `.git/`, `.gitattributes`, `.github/`, `.gitignore`.
pub const DEFAULT_IGNORES: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// One file of a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Relative POSIX path.
    pub path: String,
    pub size: u64,
    pub sha256: Sha256Digest,
    /// Format recognised by content (`safetensors`, `pickle`, `json`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

impl fmt::Display for FileEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} bytes, sha256 {})",
            self.path, self.size, self.sha256
        )
    }
}

/// The artifact digest (OMS v1.0 root digest) of some entries, in any order.
pub fn entries_digest<'a>(files: impl IntoIterator<Item = &'a FileEntry>) -> Sha256Digest {
    artifact_digest(files.into_iter().map(|f| (f.path.as_str(), &f.sha256)))
}

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

type Selector = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Which files of a tree make the set. Start from [`SetOptions::artifact`].
#[derive(Clone, Default)]
pub struct SetOptions {
    /// Relative POSIX paths to leave out (a directory leaves out all below it).
    ignore_paths: Vec<String>,
    /// Where the signature file is, relative to the root, when it is inside.
    signature: Option<String>,
    /// Leave out [`DEFAULT_IGNORES`].
    ignore_git_paths: bool,
    /// Follow symlinks that stay inside the tree instead of refusing them.
    allow_symlinks: bool,
    /// Keep only the paths this selects (include/exclude globs).
    select: Option<Selector>,
}

impl fmt::Debug for SetOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetOptions")
            .field("ignore_paths", &self.ignore_paths)
            .field("signature", &self.signature)
            .field("ignore_git_paths", &self.ignore_git_paths)
            .field("allow_symlinks", &self.allow_symlinks)
            .field("select", &self.select.is_some())
            .finish()
    }
}

impl SetOptions {
    /// The artifact's files as mlprov and model_signing count them: every
    /// regular file except the git plumbing ([`DEFAULT_IGNORES`]) and the
    /// signature file ([`SIGNATURE_FILE`]); symlinks are refused.
    pub fn artifact() -> Self {
        Self {
            ignore_paths: Vec::new(),
            signature: Some(SIGNATURE_FILE.to_string()),
            ignore_git_paths: true,
            allow_symlinks: false,
            select: None,
        }
    }

    /// Also leave out these relative paths (`--ignore-paths`, the ignore
    /// list of a signed manifest).
    pub fn with_ignores<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ignore_paths.extend(paths.into_iter().map(Into::into));
        self
    }

    /// The signature file is at `rel` inside the root (`None`: outside it,
    /// so nothing in the tree is the signature).
    pub fn with_signature(mut self, rel: Option<String>) -> Self {
        self.signature = rel;
        self
    }

    /// Leave out the git plumbing (the default) or keep it.
    pub fn with_git_ignores(mut self, ignore: bool) -> Self {
        self.ignore_git_paths = ignore;
        self
    }

    /// Follow symlinks that stay inside the tree.
    pub fn with_symlinks(mut self, allow: bool) -> Self {
        self.allow_symlinks = allow;
        self
    }

    /// Keep only the paths `keep` selects.
    pub fn selecting(mut self, keep: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.select = Some(Arc::new(keep));
        self
    }

    pub fn allows_symlinks(&self) -> bool {
        self.allow_symlinks
    }

    /// Is `rel` (or a directory above it) left out by an ignore rule?
    pub fn ignores(&self, rel: &str) -> bool {
        let hit = |p: &str| {
            let p = p.trim_end_matches('/');
            !p.is_empty() && (rel == p || rel.starts_with(&format!("{p}/")))
        };
        self.ignore_paths.iter().any(|p| hit(p))
            || self.signature.as_deref().is_some_and(hit)
            || (self.ignore_git_paths && DEFAULT_IGNORES.iter().any(|p| hit(p)))
    }

    /// Does the selection (if any) keep `rel`?
    pub fn selects(&self, rel: &str) -> bool {
        self.select.as_ref().is_none_or(|keep| keep(rel))
    }

    /// Is `rel` one of the set's files (not ignored, and selected)?
    pub fn keeps(&self, rel: &str) -> bool {
        !self.ignores(rel) && self.selects(rel)
    }

    /// The ignore list as a signature records it: sorted, without
    /// duplicates or trailing slashes.
    pub fn recorded_ignores(&self) -> Vec<String> {
        let mut ignore: std::collections::BTreeSet<String> = self
            .ignore_paths
            .iter()
            .chain(self.signature.as_ref())
            .map(|p| p.trim_end_matches('/').to_string())
            .filter(|p| !p.is_empty())
            .collect();
        if self.ignore_git_paths {
            ignore.extend(DEFAULT_IGNORES.iter().map(|s| s.to_string()));
        }
        ignore.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
