//! `mlprov.lock`: the exact bytes of every input. Written only by mlprov.
//!
//! The lock is versioned, sorted (inputs by name, files in OMS path order),
//! carries no timestamps and is written atomically, so `pin` twice gives the
//! same bytes and a crash never leaves half a lock.
//!
//! Version 2: an input's `digest` is always its artifact digest (the OMS
//! root of `files`), whatever the source; an `oci` input also records the
//! `manifest` digest its reference resolved to. A version 1 lock (where an
//! `oci` input's `digest` was the manifest digest) is read as version 2 and
//! says so ([`Lock::upgraded_from`]); `mlprov pin` writes it back upgraded.

use std::path::Path;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::{Deserialize, Serialize};
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, value};

use crate::digest::{self, FileEntry, Sha256Digest};
use crate::manifest::Input;
use crate::model::{ResourceUri, Role, Source};

pub const LOCK_FILE: &str = "mlprov.lock";
pub const LOCK_VERSION: u32 = 2;
/// The oldest lock version this mlprov reads (and upgrades).
pub const LOCK_VERSION_MIN: u32 = 1;
const HEADER: &str = "# This file is written by `mlprov pin`. Do not edit it by hand.\n";

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    #[serde(default, rename = "input")]
    pub inputs: Vec<LockedInput>,
    /// The version the file was written in, when it was older than
    /// [`LOCK_VERSION`] and was upgraded as it was read.
    #[serde(skip)]
    pub upgraded_from: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LockedInput {
    pub name: String,
    pub role: Role,
    /// `hf:org/name`, `hf-dataset:org/name`, `path:dir`, `url:https://…`, `oci:ref`.
    pub source: Source,
    /// The revision the manifest asked for (branch, tag, commit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<String>,
    /// What the revision resolved to (HF commit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The artifact digest of `files` (OMS root digest), for every source.
    #[serde(with = "digest::prefixed")]
    pub digest: Sha256Digest,
    /// `oci` inputs: the manifest digest the reference resolved to.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "prefixed_opt"
    )]
    pub manifest: Option<Sha256Digest>,
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

/// `Option<Sha256Digest>` as `sha256:<hex>`.
mod prefixed_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::digest::Sha256Digest;

    pub fn serialize<S: Serializer>(d: &Option<Sha256Digest>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&d.prefixed()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Sha256Digest>, D::Error> {
        let s = String::deserialize(d)?;
        Sha256Digest::from_prefixed(&s)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

impl LockedInput {
    /// Does this entry still answer what the manifest asks? (cargo's rule: an
    /// unchanged request keeps its resolution.)
    pub fn matches_request(&self, input: &Input) -> bool {
        self.source == input.source
            && self.requested.as_deref() == input.requested()
            && self.include == input.include
            && self.exclude == input.exclude
            && match &input.source {
                Source::Url { .. } => self.files.first().map(|f| f.sha256) == input.sha256,
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
            Some(c) => format!("{}@{}", self.source, c.chars().take(12).collect::<String>()),
            None => self.source.to_string(),
        }
    }

    /// The resource URI recorded in provenance: `hf://org/name@commit`,
    /// `hf://datasets/org/name@commit`, `file:path`, the URL,
    /// `oci://registry/repo@sha256:<manifest>`.
    pub fn uri(&self) -> ResourceUri {
        self.source
            .uri(self.commit.as_deref(), self.manifest.as_ref())
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
            upgraded_from: None,
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

    /// Read `path` (at most [`Limit::LockBytes`](crate::limits::Limit::LockBytes)); `Ok(None)` when there is no
    /// lock yet.
    pub fn load(path: &Path) -> Result<Option<Lock>, LockError> {
        let text = match crate::fsutil::read_text_bounded(path, crate::limits::Limit::LockBytes) {
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
        let version = match v.version {
            Some(toml::Value::Integer(n))
                if (i64::from(LOCK_VERSION_MIN)..=i64::from(LOCK_VERSION)).contains(&n) =>
            {
                n as u32
            }
            Some(toml::Value::Integer(n)) if n > i64::from(LOCK_VERSION) => {
                return Err(LockError::Newer {
                    file: file.to_string(),
                    found: n,
                });
            }
            other => {
                return Err(damaged(format!("unsupported lock version {other:?}"), None));
            }
        };
        let mut lock: Lock =
            toml::from_str(text).map_err(|e| damaged(e.message().to_string(), e.span()))?;
        if version < LOCK_VERSION {
            lock.upgrade(version);
        }
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
            // Names that become paths (`snapshots/{commit}`, `refs/{requested}`).
            if let Some(c) = &i.commit
                && !crate::model::is_commit(c)
            {
                return Err(damaged(
                    format!(
                        "input `{}` records commit {c:?}, not a 40-hex commit id",
                        i.name
                    ),
                    None,
                ));
            }
            if let (Source::Hf { .. } | Source::HfDataset { .. }, Some(r)) =
                (&i.source, &i.requested)
                && !crate::model::is_revision(r)
            {
                return Err(damaged(
                    format!(
                        "input `{}` records revision {r:?}, not a revision name",
                        i.name
                    ),
                    None,
                ));
            }
            if i.files_digest() != i.digest {
                return Err(LockError::Inconsistent {
                    file: file.to_string(),
                    input: i.name.clone(),
                });
            }
            match (&i.source, &i.manifest) {
                (Source::Oci { .. }, None) => {
                    return Err(damaged(
                        format!("`oci` input `{}` records no `manifest` digest", i.name),
                        None,
                    ));
                }
                (Source::Oci { .. }, Some(_)) | (_, None) => {}
                (_, Some(_)) => {
                    return Err(damaged(
                        format!(
                            "input `{}` records a `manifest` digest, which only `oci` inputs have",
                            i.name
                        ),
                        None,
                    ));
                }
            }
        }
        Ok(lock)
    }

    /// Read a lock written in an older `version` as the current one. Version
    /// 1 recorded an `oci` input's manifest digest as its `digest`: it moves
    /// to `manifest`, and `digest` becomes the artifact digest of the files.
    /// Nothing is re-resolved: the inputs and their files stay as they were.
    fn upgrade(&mut self, from: u32) {
        for i in &mut self.inputs {
            if from < 2 && matches!(i.source, Source::Oci { .. }) && i.manifest.is_none() {
                i.manifest = Some(i.digest);
                i.digest = i.files_digest();
            }
        }
        self.version = LOCK_VERSION;
        self.upgraded_from = Some(from);
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
            t.insert("source", value(i.source.to_string()));
            if let Some(r) = &i.requested {
                t.insert("requested", value(r));
            }
            if let Some(c) = &i.commit {
                t.insert("commit", value(c));
            }
            t.insert("digest", value(i.digest.prefixed()));
            if let Some(m) = &i.manifest {
                t.insert("manifest", value(m.prefixed()));
            }
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
            version: LOCK_VERSION,
            upgraded_from: None,
            inputs: vec![LockedInput {
                name: "base".into(),
                role: Role::BaseModel,
                source: Source::Hf {
                    repo: "org/m".into(),
                },
                requested: Some("main".into()),
                commit: Some("c".repeat(40)),
                digest,
                manifest: None,
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
            text.contains("\nversion = 2\n\n[[input]]\nname = \"base\"\n"),
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
            Lock::parse(&text.replace("version = 2", "version = 7"), "l"),
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
        assert_eq!(
            l.inputs[0].uri().to_string(),
            format!("hf://org/m@{}", "c".repeat(40))
        );
        let oci = oci_lock();
        assert_eq!(
            oci.inputs[0].uri().to_string(),
            format!("oci://127.0.0.1:5000/models/a@{}", manifest().prefixed())
        );
    }

    fn manifest() -> Sha256Digest {
        Sha256Digest::of(b"the manifest")
    }

    fn oci_lock() -> Lock {
        let mut l = sample();
        let i = &mut l.inputs[0];
        i.name = "a".into();
        i.source = Source::Oci {
            reference: "127.0.0.1:5000/models/a:1".into(),
        };
        i.requested = Some("1".into());
        i.commit = None;
        i.license = None;
        i.include.clear();
        i.manifest = Some(manifest());
        l.tidy();
        l
    }

    #[test]
    fn oci_entries_record_artifact_and_manifest() {
        let text = oci_lock().to_toml();
        let digest = oci_lock().inputs[0].files_digest();
        assert!(
            text.contains(&format!(
                "digest = \"{}\"\nmanifest = \"{}\"\n",
                digest.prefixed(),
                manifest().prefixed()
            )),
            "{text}"
        );
        assert_eq!(Lock::parse(&text, "l").unwrap(), oci_lock());
        // An oci entry must say which manifest it resolved to; others must not.
        let bare = text.replace(&format!("manifest = \"{}\"\n", manifest().prefixed()), "");
        assert!(matches!(
            Lock::parse(&bare, "l"),
            Err(LockError::Damaged(_))
        ));
        let hf = sample().to_toml().replace(
            "license = ",
            &format!("manifest = \"{}\"\nlicense = ", manifest().prefixed()),
        );
        assert!(matches!(Lock::parse(&hf, "l"), Err(LockError::Damaged(_))));
    }

    #[test]
    fn version_1_is_upgraded_in_place() {
        // Version 1: the oci input's digest was its manifest digest.
        let v2 = oci_lock().to_toml();
        let i = &oci_lock().inputs[0];
        let v1 = v2
            .replace("version = 2", "version = 1")
            .replace(&format!("manifest = \"{}\"\n", manifest().prefixed()), "")
            .replace(&i.digest.prefixed(), &manifest().prefixed());
        let read = Lock::parse(&v1, "l").unwrap();
        assert_eq!(read.upgraded_from, Some(1));
        assert_eq!(read.version, LOCK_VERSION);
        assert_eq!(read.inputs, oci_lock().inputs);
        assert_eq!(read.to_toml(), v2);
        // hf, path and url entries are the same text in both versions.
        let hf_v2 = sample().to_toml();
        let hf_v1 = hf_v2.replace("version = 2", "version = 1");
        let read = Lock::parse(&hf_v1, "l").unwrap();
        assert_eq!(read.upgraded_from, Some(1));
        assert_eq!(read.to_toml(), hf_v2);
        assert_eq!(Lock::parse(&hf_v2, "l").unwrap().upgraded_from, None);
    }
}
