//! `mlprov.lock`: the exact bytes of every input. Written only by mlprov.
//!
//! The lock is versioned, sorted (inputs by name, files in OMS path order),
//! carries no timestamps and is written atomically, so `pin` twice gives the
//! same bytes and a crash never leaves half a lock.

use std::path::Path;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::{Deserialize, Serialize};
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, value};

use crate::digest::{self, FileEntry, Sha256Digest};
use crate::manifest::{Input, Source};
use crate::model::Role;

pub const LOCK_FILE: &str = "mlprov.lock";
pub const LOCK_VERSION: u32 = 1;
const HEADER: &str = "# This file is written by `mlprov pin`. Do not edit it by hand.\n";

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    #[serde(default, rename = "input")]
    pub inputs: Vec<LockedInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LockedInput {
    pub name: String,
    pub role: Role,
    /// `hf:org/name`, `hf-dataset:org/name`, `path:dir`, `url:https://…`, `oci:ref`.
    pub source: String,
    /// The revision the manifest asked for (branch, tag, commit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<String>,
    /// What the revision resolved to (HF commit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The artifact digest of `files` (OMS root digest); for OCI the manifest digest.
    #[serde(with = "digest::prefixed")]
    pub digest: Sha256Digest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Datasets the model card declares (HF), as `hf-dataset:` ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub files: Vec<FileEntry>,
}

impl LockedInput {
    /// Does this entry still answer what the manifest asks? (cargo's rule: an
    /// unchanged request keeps its resolution.)
    pub fn matches_request(&self, input: &Input) -> bool {
        self.source == input.source.lock_source()
            && self.requested.as_deref() == input.source.requested()
            && self.include == input.include
            && self.exclude == input.exclude
            && match &input.source {
                Source::Url { sha256, .. } => self.files.first().map(|f| f.sha256) == Some(*sha256),
                _ => true,
            }
    }

    /// The artifact digest recomputed from the file list.
    pub fn files_digest(&self) -> Sha256Digest {
        digest::entries_digest(&self.files)
    }

    /// A short, human description of where this input comes from.
    pub fn origin(&self) -> String {
        match &self.commit {
            Some(c) => format!("{}@{}", self.source, &c[..c.len().min(12)]),
            None => self.source.clone(),
        }
    }

    /// The resource URI recorded in provenance: `hf://org/name@commit`,
    /// `hf://datasets/org/name@commit`, `file:path`, the URL, `oci://…@sha256:…`.
    pub fn uri(&self) -> String {
        let (kind, rest) = self.source.split_once(':').unwrap_or(("", &self.source));
        match kind {
            "hf" => format!("hf://{rest}@{}", self.commit.as_deref().unwrap_or("")),
            "hf-dataset" => format!(
                "hf://datasets/{rest}@{}",
                self.commit.as_deref().unwrap_or("")
            ),
            "path" => format!("file:{rest}"),
            "url" => rest.to_string(),
            "oci" => {
                let repo = match rest.rsplit_once('@') {
                    Some((r, _)) => r.to_string(),
                    None => {
                        let (head, last) = rest.rsplit_once('/').unwrap_or(("", rest));
                        let last = last.split(':').next().unwrap_or(last);
                        if head.is_empty() {
                            last.to_string()
                        } else {
                            format!("{head}/{last}")
                        }
                    }
                };
                format!("oci://{repo}@{}", self.digest.prefixed())
            }
            _ => self.source.clone(),
        }
    }

    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

impl Lock {
    pub fn new() -> Self {
        Self {
            version: LOCK_VERSION,
            inputs: Vec::new(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&LockedInput> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// Sort inputs by name and files in OMS order.
    pub fn tidy(&mut self) {
        self.inputs.sort_by(|a, b| a.name.cmp(&b.name));
        for i in &mut self.inputs {
            i.files
                .sort_by(|a, b| digest::posix_path_cmp(&a.path, &b.path));
        }
    }

    /// Read `path`; `Ok(None)` when there is no lock yet.
    pub fn load(path: &Path) -> Result<Option<Lock>, LockError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(LockError::Io {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        Self::parse(&text, &path.display().to_string()).map(Some)
    }

    pub fn parse(text: &str, file: &str) -> Result<Lock, LockError> {
        let damaged = |message: String, span: Option<std::ops::Range<usize>>| {
            LockError::Damaged(Box::new(Damaged {
                file: file.to_string(),
                message,
                src: NamedSource::new(file, Arc::new(text.to_string())).with_language("toml"),
                span: span.map(|s| s.into()),
            }))
        };
        #[derive(Deserialize)]
        struct VersionOnly {
            version: Option<toml::Value>,
        }
        let v: VersionOnly =
            toml::from_str(text).map_err(|e| damaged(e.message().to_string(), e.span()))?;
        match v.version {
            Some(toml::Value::Integer(n)) if n == i64::from(LOCK_VERSION) => {}
            Some(toml::Value::Integer(n)) if n > i64::from(LOCK_VERSION) => {
                return Err(LockError::Newer {
                    file: file.to_string(),
                    found: n,
                });
            }
            other => {
                return Err(damaged(format!("unsupported lock version {other:?}"), None));
            }
        }
        let lock: Lock =
            toml::from_str(text).map_err(|e| damaged(e.message().to_string(), e.span()))?;
        let mut seen = std::collections::BTreeSet::new();
        for i in &lock.inputs {
            if !seen.insert(&i.name) {
                return Err(damaged(format!("input `{}` appears twice", i.name), None));
            }
            for f in &i.files {
                if !crate::fsutil::is_safe_relative(&f.path) {
                    return Err(damaged(
                        format!("input `{}` lists an unsafe path `{}`", i.name, f.path),
                        None,
                    ));
                }
            }
            if !i.source.starts_with("oci:") && i.files_digest() != i.digest {
                return Err(LockError::Inconsistent {
                    file: file.to_string(),
                    input: i.name.clone(),
                });
            }
        }
        Ok(lock)
    }

    /// The canonical text of the lock.
    pub fn to_toml(&self) -> String {
        let mut lock = self.clone();
        lock.tidy();
        let mut doc = DocumentMut::new();
        doc.insert("version", value(i64::from(lock.version)));
        let mut aot = ArrayOfTables::new();
        for i in &lock.inputs {
            let mut t = Table::new();
            t.insert("name", value(&i.name));
            t.insert("role", value(i.role.as_str()));
            t.insert("source", value(&i.source));
            if let Some(r) = &i.requested {
                t.insert("requested", value(r));
            }
            if let Some(c) = &i.commit {
                t.insert("commit", value(c));
            }
            t.insert("digest", value(i.digest.prefixed()));
            if let Some(l) = &i.license {
                t.insert("license", value(l));
            }
            for (key, list) in [
                ("datasets", &i.datasets),
                ("include", &i.include),
                ("exclude", &i.exclude),
            ] {
                if !list.is_empty() {
                    let arr: Array = list.iter().map(String::as_str).collect();
                    t.insert(key, value(arr));
                }
            }
            let mut files = Array::new();
            for f in &i.files {
                let mut it = InlineTable::new();
                it.insert("path", f.path.as_str().into());
                it.insert("size", (f.size as i64).into());
                it.insert("sha256", f.sha256.hex().into());
                if let Some(fmt) = &f.format {
                    it.insert("format", fmt.as_str().into());
                }
                it.fmt();
                let mut v = toml_edit::Value::InlineTable(it);
                v.decor_mut().set_prefix("\n  ");
                files.push_formatted(v);
            }
            if !files.is_empty() {
                files.set_trailing("\n");
                files.set_trailing_comma(true);
            }
            t.insert("files", Item::Value(toml_edit::Value::Array(files)));
            aot.push(t);
        }
        if !aot.is_empty() {
            doc.insert("input", Item::ArrayOfTables(aot));
        }
        format!("{HEADER}{doc}")
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        crate::fsutil::write_atomic(path, self.to_toml().as_bytes())
    }
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum LockError {
    #[error("cannot read {path}: {source}")]
    #[diagnostic(code(mlprov::lock::io))]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{file} was written by a newer mlprov (lock version {found}; this mlprov reads version {LOCK_VERSION})"
    )]
    #[diagnostic(
        code(mlprov::lock::newer),
        help("upgrade mlprov (`cargo install mlprov`), or restore the lock from version control")
    )]
    Newer { file: String, found: i64 },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Damaged(Box<Damaged>),
    #[error("{file}: the digest of input `{input}` does not match its file list (edited by hand?)")]
    #[diagnostic(
        code(mlprov::lock::inconsistent),
        help(
            "restore mlprov.lock from version control, or delete it and run `mlprov pin` to re-resolve every input"
        )
    )]
    Inconsistent { file: String, input: String },
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{file} is damaged: {message}")]
#[diagnostic(
    code(mlprov::lock::damaged),
    help(
        "the lock is written by `mlprov pin` only; restore it from version control, or delete it and run `mlprov pin`"
    )
)]
pub struct Damaged {
    pub file: String,
    pub message: String,
    #[source_code]
    pub src: NamedSource<Arc<String>>,
    #[label("here")]
    pub span: Option<SourceSpan>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Lock {
        let files = vec![
            FileEntry {
                path: "b/x.json".into(),
                size: 1,
                sha256: Sha256Digest::of(b"1"),
                format: Some("json".into()),
            },
            FileEntry {
                path: "a.safetensors".into(),
                size: 2,
                sha256: Sha256Digest::of(b"2"),
                format: None,
            },
        ];
        let digest = digest::entries_digest(&files);
        Lock {
            version: 1,
            inputs: vec![LockedInput {
                name: "base".into(),
                role: Role::BaseModel,
                source: "hf:org/m".into(),
                requested: Some("main".into()),
                commit: Some("c".repeat(40)),
                digest,
                license: Some("Apache-2.0".into()),
                datasets: vec![],
                include: vec!["*.json".into()],
                exclude: vec![],
                files,
            }],
        }
    }

    #[test]
    fn roundtrips_and_is_stable() {
        let text = sample().to_toml();
        assert!(text.starts_with(HEADER));
        let back = Lock::parse(&text, "mlprov.lock").unwrap();
        assert_eq!(back.to_toml(), text);
        assert_eq!(back.inputs[0].files[0].path, "a.safetensors");
    }

    #[test]
    fn layout() {
        let text = sample().to_toml();
        assert!(
            text.contains("\nversion = 1\n\n[[input]]\nname = \"base\"\n"),
            "{text}"
        );
        assert!(
            text.contains("files = [\n  { path = \"a.safetensors\", size = 2, sha256 = "),
            "{text}"
        );
        assert!(text.ends_with("},\n]\n"), "{text}");
    }

    #[test]
    fn rejects_newer_and_hand_edits() {
        let text = sample().to_toml();
        assert!(matches!(
            Lock::parse(&text.replace("version = 1", "version = 7"), "l"),
            Err(LockError::Newer { found: 7, .. })
        ));
        let edited = text.replace(&Sha256Digest::of(b"1").hex(), &Sha256Digest::of(b"9").hex());
        assert!(matches!(
            Lock::parse(&edited, "l"),
            Err(LockError::Inconsistent { .. })
        ));
        assert!(matches!(
            Lock::parse("version = 1\n[[input]]\nname = 3\n", "l"),
            Err(LockError::Damaged(_))
        ));
    }

    #[test]
    fn uris() {
        let l = sample();
        assert_eq!(l.inputs[0].uri(), format!("hf://org/m@{}", "c".repeat(40)));
    }
}
