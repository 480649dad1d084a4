//! What a build is: the run it records, the outputs it hashed and scanned,
//! and the facts that provenance, the SPDX 3.0.1 SBOM and the CycloneDX
//! ML-BOM each render in their own vocabulary ([`BuildFacts`]).
//!
//! `commands/build.rs` orchestrates and reports; the renderers
//! (`provenance`, `sbom`) only read [`BuildFacts`].

pub mod record;

use std::path::Path;

use miette::Diagnostic;

use crate::digest::{self, FileSet, HashCache, SetOptions, Sha256Digest};
use crate::lockfile::{Lock, LockedInput};
use crate::manifest::Manifest;
use crate::model::{ArtifactKind, Role};
use crate::reporter::Reporter;
use crate::run::RunRecord;

pub use record::{RunRequest, invocation_seed, start_run};

/// The build's output tree, hashed, scanned and described.
#[derive(Debug, Clone, PartialEq)]
pub struct Outputs {
    /// `[artifact].path` as written in the manifest (no trailing slash).
    pub path: String,
    /// Every output file (with its format), in OMS path order, and the
    /// artifact digest.
    pub set: FileSet,
    /// The unsafe-format scan of every output file.
    pub scan: crate::scan::ScanReport,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum OutputError {
    #[error("the artifact path {path} does not exist")]
    #[diagnostic(
        code("mlprov::build::no-outputs"),
        help(
            "the training command should write the model to `{path}` ([artifact] path in mlprov.toml); fix the path or the command"
        )
    )]
    Missing { path: String },

    #[error("the artifact path {path} holds no files")]
    #[diagnostic(
        code("mlprov::build::empty-outputs"),
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
/// file: the artifact's file set ([`SetOptions::artifact`]), scanned.
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
    let set =
        FileSet::hash(&abs, &SetOptions::artifact(), cache, reporter).map_err(|e| match e {
            digest::SetError::Walk(source) => OutputError::Walk {
                path: rel.to_string(),
                source,
            },
            digest::SetError::Hash(source) => OutputError::Hash { source },
        })?;
    if set.is_empty() {
        return Err(OutputError::Empty {
            path: rel.to_string(),
        });
    }
    // The one place each output file is examined beyond its digest: the
    // scanner recognises its format by content and looks for unsafe content.
    let targets: Vec<crate::scan::ScanTarget> = set
        .files
        .iter()
        .zip(set.paths(&abs))
        .map(|(f, path)| crate::scan::ScanTarget {
            rel: f.path.clone(),
            path,
            sha256: Some(f.sha256),
        })
        .collect();
    let scan = crate::scan::scan_targets(&targets)?;
    let formats: std::collections::HashMap<&str, &str> = scan
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.format.as_str()))
        .collect();
    let mut set = set;
    for f in &mut set.files {
        f.format = formats.get(f.path.as_str()).map(|x| x.to_string());
    }
    Ok(Outputs {
        path: rel.trim_end_matches('/').to_string(),
        set,
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

/// The training command exited non-zero: nothing is written, and mlprov
/// exits with the command's status (registered as [`Exit::Child`]).
///
/// [`Exit::Child`]: crate::diagnostics::Exit::Child
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("the training command `{command}` exited with status {status}; nothing was written")]
#[diagnostic(
    code("mlprov::build::training-failed"),
    help("fix the training run; mlprov exits with its status")
)]
pub struct TrainingFailed {
    pub command: String,
    pub status: i32,
}

impl TrainingFailed {
    /// The status to exit with: the command's, or 1 when it has none that
    /// fits a byte (killed by a signal, 256, …).
    pub fn exit_status(&self) -> u8 {
        match u8::try_from(self.status & 0xff) {
            Ok(0) | Err(_) => 1,
            Ok(n) => n,
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
    /// The ModelPack manifest `push` will publish for the outputs, as a
    /// subject (see [`crate::registry::plan`]); set once it is computed.
    pub oci_manifest: Option<crate::intoto::ResourceDescriptor>,
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
        std::fs::write(out.join(digest::SIGNATURE_FILE), b"sig").unwrap();
        let o = hash_outputs(d.path(), "out/", None, &crate::reporter::Silent).unwrap();
        assert_eq!(o.path, "out");
        assert_eq!(o.set.len(), 1);
        assert_eq!(o.set.files[0].format.as_deref(), Some("json"));
        assert_eq!(
            o.set.digest,
            digest::artifact_digest([("config.json", &Sha256Digest::of(b"{}"))])
        );
    }
}
