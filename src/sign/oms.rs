//! OpenSSF Model Signing (OMS) v1.0: the signed manifest of a model's files,
//! as `model_signing` 1.x writes and reads it.
//!
//! The statement's subject is the model's name (its directory name) with the
//! root digest; the predicate records how the model was serialized and one
//! resource per file, in `PurePosixPath` order:
//!
//! ```json
//! {"serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": false,
//!                    "ignore_paths": [".git", "model.sig"]},
//!  "resources": [{"name": "config.json", "algorithm": "sha256", "digest": "…"}]}
//! ```
//!
//! A model that is a single file has one resource named `.` (what
//! `model_signing` records for it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::digest::{self, FileEntry, FileSet, HashError, SetOptions, Sha256Digest, WalkError};
use crate::intoto::{PREDICATE_OMS, ResourceDescriptor, Statement};

/// The resource name of a single-file model.
pub const SINGLE_FILE_NAME: &str = ".";
pub use crate::digest::SIGNATURE_FILE;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OmsPredicate {
    pub serialization: Serialization,
    pub resources: Vec<Resource>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Serialization {
    pub method: String,
    pub hash_type: String,
    pub allow_symlinks: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub name: String,
    pub algorithm: String,
    pub digest: String,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum OmsError {
    #[error(transparent)]
    #[diagnostic(code(mlprov::sign::walk))]
    Walk(#[from] WalkError),
    #[error(transparent)]
    #[diagnostic(code(mlprov::sign::io))]
    Hash(#[from] HashError),
    #[error(
        "{0}: the model has no files to sign (everything is ignored or the directory is empty)"
    )]
    #[diagnostic(code(mlprov::sign::empty))]
    Empty(String),
}

/// The model's name as model_signing records it: the last path component,
/// or the resolved directory's name for `.` and `..`.
pub fn model_name(path: &Path) -> String {
    let direct = path
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty() && *n != "..");
    match direct {
        Some(n) => n.to_string(),
        None => path
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_string))
            .unwrap_or_default(),
    }
}

/// A model's file set on disk, hashed.
#[derive(Debug, Clone)]
pub struct HashedModel {
    pub name: String,
    /// Relative POSIX path (or `.` for a single file) and digest, in OMS order.
    pub files: Vec<FileEntry>,
    pub root: Sha256Digest,
    /// The ignore list as recorded in a signature (sorted, no duplicates).
    pub ignore_paths: Vec<String>,
    pub allow_symlinks: bool,
    pub total_bytes: u64,
}

impl From<digest::SetError> for OmsError {
    fn from(e: digest::SetError) -> Self {
        match e {
            digest::SetError::Walk(e) => OmsError::Walk(e),
            digest::SetError::Hash(e) => OmsError::Hash(e),
        }
    }
}

/// The model at `path` (a file or a directory) whose files `opts` selected
/// and [`FileSet::hash`] hashed into `set` (`sign` and `verify` hash with no
/// cache, so every byte is read again). A single file is named `.`.
pub fn hashed_model(path: &Path, opts: &SetOptions, set: FileSet) -> HashedModel {
    let is_file = std::fs::metadata(path).is_ok_and(|m| m.is_file());
    let mut files = set.files;
    if is_file {
        for f in &mut files {
            f.path = SINGLE_FILE_NAME.to_string();
        }
    }
    let set = FileSet::new(files);
    HashedModel {
        name: model_name(path),
        total_bytes: set.total_size(),
        files: set.files,
        root: set.digest,
        ignore_paths: opts.recorded_ignores(),
        allow_symlinks: opts.allows_symlinks(),
    }
}

impl HashedModel {
    /// The OMS v1.0 statement for this file set.
    pub fn statement(&self) -> Statement<OmsPredicate> {
        let resources = self
            .files
            .iter()
            .map(|f| Resource {
                name: f.path.clone(),
                algorithm: "sha256".into(),
                digest: f.sha256.hex(),
            })
            .collect();
        Statement::new(
            vec![ResourceDescriptor::sha256(self.name.clone(), &self.root)],
            PREDICATE_OMS,
            OmsPredicate {
                serialization: Serialization {
                    method: "files".into(),
                    hash_type: "sha256".into(),
                    allow_symlinks: self.allow_symlinks,
                    ignore_paths: self.ignore_paths.clone(),
                    shard_size: None,
                },
                resources,
            },
        )
    }
}

/// The ignore entry for a signature file, if it lies inside the model
/// directory.
pub fn signature_ignore(model: &Path, signature: &Path) -> Option<String> {
    let model = model.canonicalize().ok()?;
    let sig_dir = signature.parent().filter(|p| !p.as_os_str().is_empty())?;
    let sig = sig_dir.canonicalize().ok()?.join(signature.file_name()?);
    let rel = sig.strip_prefix(&model).ok()?;
    crate::fsutil::to_posix_relative(rel).filter(|r| !r.is_empty())
}

/// Resolve `--ignore-paths` arguments: relative to the model directory, or a
/// path (from the current directory) that lies inside it. Paths outside the
/// model are dropped, as model_signing drops them.
pub fn resolve_ignores(model: &Path, cwd: &Path, args: &[String]) -> Vec<String> {
    let canon_model = model.canonicalize().ok();
    let mut out = Vec::new();
    for a in args {
        let as_given = cwd.join(a);
        if let (Some(m), Ok(c)) = (&canon_model, as_given.canonicalize())
            && let Ok(rel) = c.strip_prefix(m)
            && let Some(r) = crate::fsutil::to_posix_relative(rel).filter(|r| !r.is_empty())
        {
            out.push(r);
            continue;
        }
        let trimmed = a.trim_start_matches("./").trim_end_matches('/');
        if crate::fsutil::is_safe_relative(trimmed) {
            out.push(trimmed.to_string());
        }
    }
    out
}

/// A signed OMS manifest, checked for internal consistency.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedManifest {
    pub name: String,
    pub root: Sha256Digest,
    pub files: BTreeMap<String, Sha256Digest>,
    pub ignore_paths: Vec<String>,
    pub allow_symlinks: bool,
}

/// Why a signed manifest cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("the OMS predicate is malformed: {0}")]
    Malformed(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Inconsistent(String),
}

/// Read and check the manifest in an OMS statement: one subject whose digest
/// is the root digest of the listed resources (besides any OCI manifest
/// subjects of mlprov's registry form), `files` serialization with
/// SHA-256, names unique, safe and in `PurePosixPath` order.
pub fn signed_manifest(statement: &Statement) -> Result<SignedManifest, ManifestError> {
    let pred: OmsPredicate = serde_json::from_value(statement.predicate.clone())
        .map_err(|e| ManifestError::Malformed(e.to_string()))?;
    let s = &pred.serialization;
    if s.method != "files" {
        return Err(ManifestError::Unsupported(format!(
            "serialization method `{}` is not supported (only `files`)",
            s.method
        )));
    }
    if s.hash_type != "sha256" {
        return Err(ManifestError::Unsupported(format!(
            "hash type `{}` is not supported (only sha256)",
            s.hash_type
        )));
    }
    // model_signing writes (and reads) exactly one subject. mlprov's
    // registry form of the same signature also names the OCI manifest `push`
    // publishes, as a subject with the OCI image manifest media type.
    let (manifests, roots): (Vec<_>, Vec<_>) = statement
        .subject
        .iter()
        .partition(|s| crate::registry::plan::is_manifest_subject(s));
    if roots.len() != 1 {
        return Err(ManifestError::Malformed(format!(
            "expected one subject for the file set, found {} (and {} OCI manifest{})",
            roots.len(),
            manifests.len(),
            if manifests.len() == 1 { "" } else { "s" }
        )));
    }
    if let Some(m) = manifests.iter().find(|m| m.sha256_digest().is_none()) {
        return Err(ManifestError::Malformed(format!(
            "the OCI manifest subject {:?} has no valid sha256 digest",
            m.name.as_deref().unwrap_or("")
        )));
    }
    let subject = roots[0];
    let root = subject
        .sha256_digest()
        .ok_or_else(|| ManifestError::Malformed("the subject has no valid sha256 digest".into()))?;
    let mut files = BTreeMap::new();
    let mut prev: Option<&str> = None;
    for r in &pred.resources {
        if r.algorithm != "sha256" {
            return Err(ManifestError::Unsupported(format!(
                "resource `{}` uses `{}`, not sha256",
                r.name, r.algorithm
            )));
        }
        if r.name != SINGLE_FILE_NAME && !crate::fsutil::is_safe_relative(&r.name) {
            return Err(ManifestError::Malformed(format!(
                "resource name `{}` is not a safe relative path",
                r.name
            )));
        }
        let d = Sha256Digest::from_hex(&r.digest)
            .map_err(|e| ManifestError::Malformed(e.to_string()))?;
        if let Some(p) = prev
            && digest::posix_path_cmp(p, &r.name) != std::cmp::Ordering::Less
        {
            return Err(ManifestError::Inconsistent(format!(
                "resources are not unique and in path order (`{p}` then `{}`)",
                r.name
            )));
        }
        prev = Some(&r.name);
        files.insert(r.name.clone(), d);
    }
    let computed = digest::artifact_digest(files.iter().map(|(p, d)| (p.as_str(), d)));
    if computed != root {
        return Err(ManifestError::Inconsistent(format!(
            "the subject digest {} is not the root digest of the listed files ({})",
            root.prefixed(),
            computed.prefixed()
        )));
    }
    Ok(SignedManifest {
        name: subject.name.clone().unwrap_or_default(),
        root,
        files,
        ignore_paths: s.ignore_paths.clone(),
        allow_symlinks: s.allow_symlinks,
    })
}

/// One difference between the signed manifest and the files on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileDiff {
    Changed {
        path: String,
        expected: Sha256Digest,
        actual: Sha256Digest,
    },
    Extra {
        path: String,
        digest: Sha256Digest,
        /// A missing file with the same content (a rename).
        same_as: Option<String>,
    },
    Missing {
        path: String,
        expected: Sha256Digest,
    },
}

/// Compare the signed file set with the hashed one, in path order.
pub fn compare(signed: &SignedManifest, actual: &[FileEntry]) -> Vec<FileDiff> {
    let actual_map: BTreeMap<&str, Sha256Digest> =
        actual.iter().map(|f| (f.path.as_str(), f.sha256)).collect();
    let missing: Vec<(&String, &Sha256Digest)> = signed
        .files
        .iter()
        .filter(|(p, _)| !actual_map.contains_key(p.as_str()))
        .collect();
    let mut out = Vec::new();
    for f in actual {
        match signed.files.get(&f.path) {
            Some(d) if *d == f.sha256 => {}
            Some(d) => out.push(FileDiff::Changed {
                path: f.path.clone(),
                expected: *d,
                actual: f.sha256,
            }),
            None => out.push(FileDiff::Extra {
                path: f.path.clone(),
                digest: f.sha256,
                same_as: missing
                    .iter()
                    .find(|(p, d)| **d == f.sha256 && p.as_str() != SINGLE_FILE_NAME)
                    .map(|(p, _)| (*p).clone()),
            }),
        }
    }
    for (p, d) in missing {
        out.push(FileDiff::Missing {
            path: p.clone(),
            expected: *d,
        });
    }
    out.sort_by(|a, b| digest::posix_path_cmp(a.path(), b.path()));
    out
}

impl FileDiff {
    pub fn path(&self) -> &str {
        match self {
            FileDiff::Changed { path, .. }
            | FileDiff::Extra { path, .. }
            | FileDiff::Missing { path, .. } => path,
        }
    }
}

/// Where `mlprov sign` writes by default: `DIR/model.sig`, or `model.sig`
/// next to a single-file model.
pub fn default_signature_path(model: &Path) -> PathBuf {
    if model.is_dir() {
        model.join(SIGNATURE_FILE)
    } else {
        model
            .parent()
            .map(|p| p.join(SIGNATURE_FILE))
            .unwrap_or_else(|| PathBuf::from(SIGNATURE_FILE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporter::Silent;

    fn hash_model(path: &Path, opts: &SetOptions) -> HashedModel {
        let set = FileSet::hash(path, opts, None, &Silent).unwrap();
        hashed_model(path, opts, set)
    }

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a")).unwrap();
        std::fs::write(d.path().join("a/b"), b"one").unwrap();
        std::fs::write(d.path().join("a.b"), b"two").unwrap();
        std::fs::write(d.path().join(".gitignore"), b"x").unwrap();
        d
    }

    #[test]
    fn statement_roundtrips_through_the_checker() {
        let d = tree();
        let m = hash_model(d.path(), &SetOptions::artifact());
        let names: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(names, ["a/b", "a.b"]);
        assert_eq!(
            m.ignore_paths,
            [
                ".git",
                ".gitattributes",
                ".github",
                ".gitignore",
                "model.sig"
            ]
        );
        let st = m.statement();
        let generic: Statement =
            serde_json::from_value(serde_json::to_value(&st).unwrap()).unwrap();
        let signed = signed_manifest(&generic).unwrap();
        assert_eq!(signed.root, m.root);
        assert!(compare(&signed, &m.files).is_empty());
    }

    #[test]
    fn compare_finds_changed_extra_missing_and_renames() {
        let d = tree();
        let m = hash_model(d.path(), &SetOptions::default());
        let st: Statement =
            serde_json::from_value(serde_json::to_value(m.statement()).unwrap()).unwrap();
        let signed = signed_manifest(&st).unwrap();
        std::fs::rename(d.path().join("a.b"), d.path().join("c")).unwrap();
        std::fs::write(d.path().join("a/b"), b"One").unwrap();
        std::fs::remove_file(d.path().join(".gitignore")).unwrap();
        let now = hash_model(d.path(), &SetOptions::default());
        let diffs = compare(&signed, &now.files);
        assert_eq!(diffs.len(), 4, "{diffs:?}");
        assert!(matches!(&diffs[0], FileDiff::Missing { path, .. } if path == ".gitignore"));
        assert!(matches!(&diffs[1], FileDiff::Changed { path, .. } if path == "a/b"));
        assert!(matches!(&diffs[2], FileDiff::Missing { path, .. } if path == "a.b"));
        assert!(
            matches!(&diffs[3], FileDiff::Extra { path, same_as: Some(s), .. } if path == "c" && s == "a.b")
        );
    }

    #[test]
    fn inconsistent_root_is_rejected() {
        let d = tree();
        let m = hash_model(d.path(), &SetOptions::default());
        let mut v = serde_json::to_value(m.statement()).unwrap();
        v["subject"][0]["digest"]["sha256"] = Sha256Digest::empty().hex().into();
        let st: Statement = serde_json::from_value(v).unwrap();
        assert!(matches!(
            signed_manifest(&st),
            Err(ManifestError::Inconsistent(_))
        ));
    }

    #[test]
    fn the_registry_form_names_the_manifest_beside_the_root() {
        let d = tree();
        let m = hash_model(d.path(), &SetOptions::default());
        let manifest = Sha256Digest::of(b"manifest");
        let mut st = m.statement();
        st.subject.push(crate::registry::plan::manifest_subject(
            Some("r.example/m"),
            &manifest,
        ));
        let generic: Statement =
            serde_json::from_value(serde_json::to_value(&st).unwrap()).unwrap();
        assert_eq!(signed_manifest(&generic).unwrap().root, m.root);
        // A second plain subject is not a manifest: refused, as model_signing does.
        let mut two = generic.clone();
        two.subject.push(ResourceDescriptor::sha256("x", &manifest));
        assert!(matches!(
            signed_manifest(&two),
            Err(ManifestError::Malformed(_))
        ));
        // Only manifests, no file set: refused.
        let mut none = generic;
        none.subject.remove(0);
        assert!(signed_manifest(&none).is_err());
    }

    #[test]
    fn single_file_is_named_dot() {
        let d = tree();
        let m = hash_model(&d.path().join("a.b"), &SetOptions::default());
        assert_eq!(m.files[0].path, ".");
        assert_eq!(m.name, "a.b");
    }
}
