//! What a build produced and from what: the facts that provenance, the SPDX
//! 3.0.1 SBOM and the CycloneDX ML-BOM each render in their own vocabulary.

pub mod cyclonedx;
pub mod spdx3;

use std::path::Path;

use miette::Diagnostic;

use crate::digest::{self, HashCache, Sha256Digest, WalkOptions};
use crate::lockfile::{Lock, LockedInput};
use crate::manifest::{ArtifactKind, Manifest, Role};
use crate::reporter::Reporter;
use crate::run::RunRecord;

/// The OMS signature file `mlprov sign` may leave in the artifact; like
/// model_signing, the artifact digest never covers it.
pub const SIGNATURE_FILE: &str = "model.sig";

/// The build's output tree, hashed, scanned and described.
#[derive(Debug, Clone, PartialEq)]
pub struct Outputs {
    /// `[artifact].path` as written in the manifest.
    pub path: String,
    /// The artifact digest (OMS v1.0 root digest) of `files`.
    pub digest: Sha256Digest,
    /// In OMS path order.
    pub files: Vec<OutputFile>,
    /// The unsafe-format scan of every output file.
    pub scan: crate::scan::ScanReport,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub path: String,
    pub size: u64,
    pub sha256: Sha256Digest,
    /// Format recognised by content (`safetensors`, `json`, …).
    pub format: Option<String>,
}

impl Outputs {
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum OutputError {
    #[error("the artifact path {path} does not exist")]
    #[diagnostic(
        code(mlprov::build::no_outputs),
        help(
            "the training command should write the model to `{path}` ([artifact] path in mlprov.toml); fix the path or the command"
        )
    )]
    Missing { path: String },

    #[error("the artifact path {path} holds no files")]
    #[diagnostic(
        code(mlprov::build::empty_outputs),
        help(
            "the training command should write the model to `{path}` ([artifact] path in mlprov.toml)"
        )
    )]
    Empty { path: String },

    #[error("artifact {path}: {source}")]
    #[diagnostic(
        code(mlprov::build::walk),
        help(
            "outputs must be regular files inside the artifact path; replace symlinks with the files they point to"
        )
    )]
    Walk {
        path: String,
        #[source]
        source: digest::WalkError,
    },

    #[error("cannot hash {}: {}", source.path.display(), source.source)]
    #[diagnostic(code(mlprov::build::io), help("check that the outputs are readable"))]
    Hash {
        #[source]
        source: digest::HashError,
    },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Scan(#[from] crate::scan::ScanError),
}

/// Hash the `[artifact].path` tree (with the hash cache) and describe each
/// file. `.git`-like paths and the OMS signature file are left out, and
/// symlinks are refused, as in the artifact digest everywhere else.
pub fn hash_outputs(
    root: &Path,
    rel: &str,
    cache: Option<&HashCache>,
    reporter: &dyn Reporter,
) -> Result<Outputs, OutputError> {
    let abs = root.join(rel);
    if !abs.exists() {
        return Err(OutputError::Missing {
            path: rel.to_string(),
        });
    }
    let opts = WalkOptions {
        ignore_paths: vec![SIGNATURE_FILE.to_string()],
        ignore_git_paths: true,
        allow_symlinks: false,
    };
    let tree = digest::walk(&abs, &opts).map_err(|source| OutputError::Walk {
        path: rel.to_string(),
        source,
    })?;
    if tree.is_empty() {
        return Err(OutputError::Empty {
            path: rel.to_string(),
        });
    }
    let hashed = digest::hash_files(&tree, cache, reporter)
        .map_err(|source| OutputError::Hash { source })?;
    // The one place each output file is examined beyond its digest: the
    // scanner recognises its format by content and looks for unsafe content.
    let targets: Vec<crate::scan::ScanTarget> = hashed
        .iter()
        .zip(&tree)
        .map(|(h, t)| crate::scan::ScanTarget {
            rel: h.path.clone(),
            path: t.abs.clone(),
            sha256: Some(h.sha256),
        })
        .collect();
    let scan = crate::scan::scan_targets(&targets)?;
    let formats: std::collections::HashMap<&str, &str> = scan
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.format.as_str()))
        .collect();
    let format_of = |path: &str| formats.get(path).map(|f| f.to_string());
    let files: Vec<OutputFile> = hashed
        .into_iter()
        .map(|h| OutputFile {
            format: format_of(&h.path),
            path: h.path,
            size: h.size,
            sha256: h.sha256,
        })
        .collect();
    let digest = digest::artifact_digest(files.iter().map(|f| (f.path.as_str(), &f.sha256)));
    Ok(Outputs {
        path: rel.trim_end_matches('/').to_string(),
        digest,
        files,
        scan,
    })
}

/// How the run record came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunSource {
    /// `build` ran the training command.
    Recorded,
    /// `--run FILE`: a run made elsewhere.
    Imported,
    /// No command: the outputs were only hashed and described.
    Packaging,
}

impl RunSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RunSource::Recorded => "recorded",
            RunSource::Imported => "imported",
            RunSource::Packaging => "packaging",
        }
    }
}

/// Everything the documents say, resolved once by the command.
pub struct BuildFacts<'a> {
    pub manifest: &'a Manifest,
    /// SHA-256 of `mlprov.toml`'s bytes.
    pub manifest_digest: Sha256Digest,
    pub lock: &'a Lock,
    /// SHA-256 of `mlprov.lock`'s bytes (absent when there are no inputs).
    pub lock_digest: Option<Sha256Digest>,
    pub run: &'a RunRecord,
    pub run_source: RunSource,
    /// SHA-256 of the `run.json` bytes written beside the documents.
    pub run_digest: Sha256Digest,
    pub outputs: &'a Outputs,
    /// When the documents were made (SOURCE_DATE_EPOCH or now).
    pub created: String,
    /// `runDetails.builder.id`.
    pub builder_id: String,
}

impl BuildFacts<'_> {
    /// Inputs in lock order (sorted by name).
    pub fn inputs(&self) -> &[LockedInput] {
        &self.lock.inputs
    }

    /// A one-paragraph account of the run for people (SPDX
    /// `ai_informationAboutTraining`, CycloneDX descriptions).
    pub fn training_summary(&self) -> String {
        let r = self.run;
        let mut s = match self.run_source {
            RunSource::Packaging => format!(
                "Packaged by mlprov {} without running a training command (at {}).",
                crate::VERSION,
                r.finished_on
            ),
            src => format!(
                "Trained by `{}`, which exited {}; started {}, finished {} (run record {} by mlprov).",
                shell_words(&r.argv),
                r.exit_status.unwrap_or(0),
                r.started_on,
                r.finished_on,
                src.as_str()
            ),
        };
        if let Some(g) = &r.git {
            s.push_str(&format!(
                " Code: git commit {}{}.",
                g.commit,
                if g.dirty {
                    " with uncommitted changes"
                } else {
                    ""
                }
            ));
        }
        if let Some(c) = &r.config {
            s.push_str(&format!(" Training config: {} ({}).", c.path, c.digest));
        }
        for (role, label) in [
            (Role::BaseModel, "Base model"),
            (Role::Adapter, "Adapter"),
            (Role::TrainingData, "Training data"),
            (Role::TestData, "Test data"),
        ] {
            let names: Vec<String> = self
                .inputs()
                .iter()
                .filter(|i| i.role == role)
                .map(|i| format!("{} ({}, {})", i.name, i.uri(), i.digest.prefixed()))
                .collect();
            if !names.is_empty() {
                s.push_str(&format!(" {label}: {}.", names.join(", ")));
            }
        }
        s
    }

    pub fn is_model(&self) -> bool {
        self.manifest.artifact.kind != ArtifactKind::Dataset
    }
}

/// argv as one line, quoting words with spaces or quotes.
pub fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A web location for a locked input: the Hub page of the commit, or the
/// URL. Path inputs have none.
pub fn download_location(i: &LockedInput) -> Option<String> {
    let (kind, rest) = i.source.split_once(':')?;
    let commit = i.commit.as_deref();
    match (kind, commit) {
        ("hf", Some(c)) => Some(format!("https://huggingface.co/{rest}/tree/{c}")),
        ("hf-dataset", Some(c)) => Some(format!("https://huggingface.co/datasets/{rest}/tree/{c}")),
        ("url", _) => Some(rest.to_string()),
        _ => None,
    }
}

/// The Hub id of an HF input (`org/name`), if it is one.
pub fn hf_repo(i: &LockedInput) -> Option<(&'static str, &str)> {
    match i.source.split_once(':')? {
        ("hf", r) => Some(("model", r)),
        ("hf-dataset", r) => Some(("dataset", r)),
        _ => None,
    }
}

/// `pkg:huggingface/org/name@commit` for an HF model input.
pub fn hf_purl(i: &LockedInput) -> Option<String> {
    let (kind, repo) = hf_repo(i)?;
    if kind != "model" {
        return None;
    }
    let commit = i.commit.as_deref()?;
    Some(format!("pkg:huggingface/{repo}@{commit}"))
}

/// A human name for an input: the Hub id, the path or the URL's file.
pub fn input_display_name(i: &LockedInput) -> String {
    match i.source.split_once(':') {
        Some(("hf" | "hf-dataset" | "path", rest)) => rest.trim_end_matches('/').to_string(),
        Some(("url", _)) => i
            .files
            .first()
            .map(|f| f.path.clone())
            .unwrap_or_else(|| i.name.clone()),
        _ => i.name.clone(),
    }
}

/// The SPDX relationship an input's role maps to.
pub fn relationship_for(role: Role) -> &'static str {
    match role {
        Role::BaseModel | Role::Adapter => "descendantOf",
        Role::TrainingData => "trainedOn",
        Role::TestData => "testedOn",
        Role::Config | Role::Code | Role::Other => "dependsOn",
    }
}

/// Serialize a document: pretty JSON with a trailing newline.
pub fn to_json_bytes<T: serde::Serialize + ?Sized>(v: &T) -> Vec<u8> {
    let mut s = serde_json::to_vec_pretty(v).unwrap_or_default();
    s.push(b'\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_argv() {
        let a = [
            "python".to_string(),
            "train.py".into(),
            "--msg".into(),
            "a b".into(),
        ];
        assert_eq!(shell_words(&a), "python train.py --msg 'a b'");
    }

    #[test]
    fn outputs_ignore_signature_and_refuse_empty() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        assert!(matches!(
            hash_outputs(d.path(), "out", None, &crate::reporter::Silent),
            Err(OutputError::Empty { .. })
        ));
        assert!(matches!(
            hash_outputs(d.path(), "nope", None, &crate::reporter::Silent),
            Err(OutputError::Missing { .. })
        ));
        std::fs::write(out.join("config.json"), b"{}").unwrap();
        std::fs::write(out.join(SIGNATURE_FILE), b"sig").unwrap();
        let o = hash_outputs(d.path(), "out/", None, &crate::reporter::Silent).unwrap();
        assert_eq!(o.path, "out");
        assert_eq!(o.files.len(), 1);
        assert_eq!(o.files[0].format.as_deref(), Some("json"));
        assert_eq!(
            o.digest,
            digest::artifact_digest([("config.json", &Sha256Digest::of(b"{}"))])
        );
    }
}
