//! The model as `push` will publish it, known before the push.
//!
//! Admission gates (cosign, Kyverno, the Sigstore policy-controller) look an
//! attestation up by the OCI manifest digest the registry serves and accept
//! it only when its statement names that digest as a subject. The ModelPack
//! manifest is a pure function of:
//!
//! - the artifact's files: paths, sizes, SHA-256, detected formats (which
//!   pick the layer media types) and executable bits;
//! - `[artifact]` of mlprov.toml (name, version, kind, license, description);
//! - the SHA-256 of mlprov.lock;
//! - the build's provenance: `finishedOn` is the manifest's `created` (no
//!   wall clock), and the training-code dependency gives the source and
//!   revision annotations. Without a provenance, `SOURCE_DATE_EPOCH`, else the
//!   newest file's modification time, is `created`.
//!
//! So `build` computes the manifest and names its digest in the provenance
//! and the scan statement, `attest` signs those subjects as they are, `sign`
//! signs a second OMS statement that names it, and `push` computes it again
//! and refuses to publish a manifest other than the one the build named.

use std::path::Path;

use super::modelpack::{self, Built, LayerFile, LayerKind, ModelInfo};
use super::push::PushFile;
use super::{OCI_MANIFEST_MEDIA_TYPE, OciRef, RegistryError};
use crate::digest::{FileEntry, FileSet, Sha256Digest};
use crate::intoto::{Provenance, ResourceDescriptor, Statement};
use crate::manifest::Manifest;

/// What the build's provenance contributes to the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvenanceFacts {
    /// `runDetails.metadata.finishedOn`.
    pub created: Option<String>,
    /// The training code's git remote.
    pub source: Option<String>,
    /// The training code's git commit.
    pub revision: Option<String>,
}

/// Read the facts from a build's provenance.
pub fn provenance_facts(p: &Provenance) -> ProvenanceFacts {
    let code = crate::provenance::training_code(p);
    ProvenanceFacts {
        created: p
            .run_details
            .metadata
            .as_ref()
            .and_then(|m| m.finished_on.clone()),
        revision: code.as_ref().map(|(_, commit)| commit.clone()),
        source: code.and_then(|(remote, _)| remote),
    }
}

/// Everything the manifest is made from.
pub struct PlanInput<'a> {
    pub manifest: &'a Manifest,
    /// The artifact on disk (`[artifact].path`, absolute).
    pub root: &'a Path,
    /// Its files as [`crate::digest::SetOptions::artifact`] counts them.
    pub set: &'a FileSet,
    /// The build's provenance statement, when there is one.
    pub provenance: Option<&'a ProvenanceFacts>,
    /// SHA-256 of mlprov.lock's bytes, when there is a lock.
    pub lock_digest: Option<Sha256Digest>,
    /// `SOURCE_DATE_EPOCH`, for a model without provenance.
    pub epoch: Option<i64>,
}

/// The model's registry form: the files as layers, and the config and
/// manifest bytes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub files: Vec<PushFile>,
    pub built: Built,
}

impl Plan {
    pub fn manifest_digest(&self) -> Sha256Digest {
        self.built.manifest_digest
    }
}

/// Compute the manifest `push` publishes for these files.
pub fn plan(input: &PlanInput<'_>) -> Result<Plan, RegistryError> {
    let artifact = &input.manifest.artifact;
    let mut formats = std::collections::BTreeSet::new();
    let mut files = Vec::with_capacity(input.set.len());
    for (entry, abs) in input.set.files.iter().zip(input.set.paths(input.root)) {
        let format = crate::scan::detect_file(&abs)
            .ok()
            .map(|f| f.as_str().to_string());
        let kind = modelpack::layer_kind(&entry.path, format.as_deref(), artifact.kind);
        if kind == LayerKind::Weight
            && let Some(f) = &format
        {
            formats.insert(f.clone());
        }
        files.push(PushFile {
            layer: LayerFile {
                entry: FileEntry {
                    format,
                    ..entry.clone()
                },
                kind,
                mode: file_mode(&abs),
            },
            abs,
        });
    }
    let facts = input.provenance.cloned().unwrap_or_default();
    let created = facts
        .created
        .clone()
        .or_else(|| input.epoch.and_then(rfc3339))
        .unwrap_or_else(|| newest_mtime(files.iter().map(|f| f.abs.as_path())));
    let info = ModelInfo {
        name: artifact.name.clone(),
        version: artifact.version.clone(),
        kind: artifact.kind,
        license: artifact.license.clone(),
        description: artifact.description.clone(),
        created,
        source: facts.source,
        revision: facts.revision,
        lock_digest: input.lock_digest,
        format: (formats.len() == 1)
            .then(|| formats.into_iter().next())
            .flatten(),
    };
    let layers: Vec<LayerFile> = files.iter().map(|f| f.layer.clone()).collect();
    let built = modelpack::build(&info, &layers)?;
    Ok(Plan { files, built })
}

/// The repository `[publish].registry` names (`registry/repo`), if any.
pub fn publish_repository(manifest: &Manifest) -> Option<String> {
    let repo = manifest.publish.as_ref()?.registry.as_deref()?;
    OciRef::parse(repo).ok().map(|r| r.name())
}

/// The subject that names the ModelPack manifest in a statement:
/// `{name: "<registry>/<repo>", digest: {sha256}, mediaType: <OCI manifest>}`,
/// as cosign names an image (the repository, without tag). The name is left
/// out when the repository is not known yet; verifiers match the digest.
pub fn manifest_subject(repository: Option<&str>, digest: &Sha256Digest) -> ResourceDescriptor {
    let mut s = ResourceDescriptor::sha256("", digest);
    s.name = repository.map(str::to_string);
    s.media_type = Some(OCI_MANIFEST_MEDIA_TYPE.to_string());
    s
}

/// Is this subject an OCI manifest (rather than a file set or a file)?
pub fn is_manifest_subject(s: &ResourceDescriptor) -> bool {
    s.media_type.as_deref() == Some(OCI_MANIFEST_MEDIA_TYPE)
}

/// The OCI manifests a statement's subjects name.
pub fn named_manifests(subjects: &[ResourceDescriptor]) -> Vec<Sha256Digest> {
    subjects
        .iter()
        .filter(|s| is_manifest_subject(s))
        .filter_map(ResourceDescriptor::sha256_digest)
        .collect()
}

#[cfg(unix)]
fn file_mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(p) {
        Ok(m) if m.permissions().mode() & 0o111 != 0 => 0o755,
        _ => 0o644,
    }
}

#[cfg(not(unix))]
fn file_mode(_: &Path) -> u32 {
    0o644
}

fn rfc3339(secs: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(secs, 0).map(crate::run::format_time)
}

/// The newest modification time of the files: the same tree gives the same
/// `created`, so re-pushing it gives the same manifest.
fn newest_mtime<'a>(paths: impl Iterator<Item = &'a Path>) -> String {
    let newest = paths
        .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .max()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    rfc3339(newest).unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// Why the manifest `push` would publish is not the one the build named:
/// what changed since the build, as far as the provenance records it.
pub fn explain_change(
    provenance: &Provenance,
    manifest_bytes: &[u8],
    lock_digest: Option<&Sha256Digest>,
) -> String {
    let params = crate::provenance::training_parameters(provenance);
    let recorded = |lock: bool| {
        params.as_ref().and_then(|t| {
            if lock {
                t.lock.as_ref().map(|l| l.digest.sha256.clone())
            } else {
                Some(t.manifest.digest.sha256.clone())
            }
        })
    };
    let mut why = Vec::new();
    if recorded(false).as_deref() != Some(Sha256Digest::of(manifest_bytes).hex().as_str()) {
        why.push("mlprov.toml changed since the build");
    }
    if recorded(true) != lock_digest.map(Sha256Digest::hex) {
        why.push("mlprov.lock changed since the build");
    }
    if why.is_empty() {
        why.push(
            "a file's detected format or executable bit changed since the build, \
             or another mlprov version lays the manifest out differently",
        );
    }
    why.join("; ")
}

/// Why a project's manifest cannot be planned, or is not the one its build
/// named.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PlanError {
    #[error("cannot read {path}: {source}")]
    #[diagnostic(code(mlprov::push::io))]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{path} is not SLSA provenance: {reason}")]
    #[diagnostic(
        code(mlprov::push::provenance),
        help("`mlprov build` writes it; run it again")
    )]
    NotJson { path: String, reason: String },

    #[error("{path} describes `{name}` as {recorded}, but the files on disk are {actual}")]
    #[diagnostic(
        code("mlprov::push::stale-provenance"),
        help(
            "run `mlprov build` (and `mlprov attest`, `mlprov sign`) again so the provenance describes these files"
        )
    )]
    StaleProvenance {
        path: String,
        name: String,
        recorded: String,
        actual: String,
    },

    #[error(
        "{path} names the OCI manifest {named}, but the files and mlprov.toml make {actual}: {why}"
    )]
    #[diagnostic(
        code("mlprov::push::stale-manifest"),
        help(
            "run `mlprov build`, `mlprov attest` and `mlprov sign` again, so the signed statements name the manifest push publishes"
        )
    )]
    StaleManifest {
        path: String,
        named: String,
        actual: String,
        why: String,
    },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Registry(#[from] RegistryError),
}

/// A project's manifest, planned from what is on disk now, checked against
/// the build's provenance.
#[derive(Debug, Clone)]
pub struct ProjectPlan {
    pub plan: Plan,
    /// `target/mlprov/provenance.json`, when there is one.
    pub provenance: Option<Statement<Provenance>>,
}

/// Plan the manifest of a project's artifact (`set` = its files at `root`).
/// The build's provenance, when present, must describe these files and, if
/// it names an OCI manifest, name this one.
pub fn project_plan(
    project: &crate::project::Project,
    manifest: &Manifest,
    root: &Path,
    set: &FileSet,
    epoch: Option<i64>,
) -> Result<ProjectPlan, PlanError> {
    let path = project.out_dir().join(crate::provenance::PROVENANCE_FILE);
    let provenance = match std::fs::read(&path) {
        Ok(b) => Some(
            serde_json::from_slice::<Statement<Provenance>>(&b).map_err(|e| {
                PlanError::NotJson {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                }
            })?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(PlanError::Io {
                path: path.display().to_string(),
                source,
            });
        }
    };
    let subjects: &[ResourceDescriptor] = provenance
        .as_ref()
        .map(|p| p.subject.as_slice())
        .unwrap_or_default();
    // Pushing a model next to provenance of another build would publish a lie.
    let name = &manifest.artifact.name;
    if let Some(recorded) = subjects
        .iter()
        .find(|s| s.name.as_deref() == Some(name.as_str()) && !is_manifest_subject(s))
        .and_then(ResourceDescriptor::sha256_digest)
        && recorded != set.digest
    {
        return Err(PlanError::StaleProvenance {
            path: path.display().to_string(),
            name: name.clone(),
            recorded: recorded.prefixed(),
            actual: set.digest.prefixed(),
        });
    }
    let lock_bytes = std::fs::read(project.lock_path()).ok();
    let lock_digest = lock_bytes.as_deref().map(Sha256Digest::of);
    let facts = provenance.as_ref().map(|p| provenance_facts(&p.predicate));
    let plan = plan(&PlanInput {
        manifest,
        root,
        set,
        provenance: facts.as_ref(),
        lock_digest,
        epoch,
    })?;
    let named = named_manifests(subjects);
    if let Some(p) = &provenance
        && !named.is_empty()
        && !named.contains(&plan.manifest_digest())
    {
        let manifest_bytes = std::fs::read(project.manifest_path()).unwrap_or_default();
        return Err(PlanError::StaleManifest {
            path: path.display().to_string(),
            named: named
                .iter()
                .map(Sha256Digest::prefixed)
                .collect::<Vec<_>>()
                .join(", "),
            actual: plan.manifest_digest().prefixed(),
            why: explain_change(&p.predicate, &manifest_bytes, lock_digest.as_ref()),
        });
    }
    Ok(ProjectPlan { plan, provenance })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::SetOptions;
    use crate::reporter::Silent;

    fn manifest() -> Manifest {
        let text = "[artifact]\nname = \"acme/m\"\nversion = \"1.0\"\nkind = \"model\"\npath = \"out\"\nlicense = \"MIT\"\n\n[publish]\nregistry = \"registry.example.com/models/m\"\n";
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("mlprov.toml");
        std::fs::write(&p, text).unwrap();
        Manifest::load(&p).unwrap()
    }

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("config.json"), b"{}").unwrap();
        std::fs::write(d.path().join("w.safetensors"), b"weights").unwrap();
        d
    }

    fn planned(root: &Path, facts: Option<&ProvenanceFacts>, epoch: Option<i64>) -> Plan {
        let m = manifest();
        let set = FileSet::hash(root, &SetOptions::artifact(), None, &Silent).unwrap();
        plan(&PlanInput {
            manifest: &m,
            root,
            set: &set,
            provenance: facts,
            lock_digest: Some(Sha256Digest::of(b"lock")),
            epoch,
        })
        .unwrap()
    }

    #[test]
    fn same_inputs_same_manifest_and_created_from_the_build() {
        let d = tree();
        let facts = ProvenanceFacts {
            created: Some("2024-05-01T10:00:00Z".into()),
            source: Some("https://example.com/acme/train".into()),
            revision: Some("c".repeat(40)),
        };
        let one = planned(d.path(), Some(&facts), None);
        let two = planned(d.path(), Some(&facts), Some(1));
        assert_eq!(one.built.manifest, two.built.manifest);
        let m: serde_json::Value = serde_json::from_slice(&one.built.manifest).unwrap();
        assert_eq!(
            m["annotations"]["org.opencontainers.image.created"],
            "2024-05-01T10:00:00Z"
        );
        assert_eq!(
            m["annotations"]["org.opencontainers.image.revision"],
            "c".repeat(40)
        );
        // Without provenance: SOURCE_DATE_EPOCH.
        let e = planned(d.path(), None, Some(1_700_000_000));
        let m: serde_json::Value = serde_json::from_slice(&e.built.manifest).unwrap();
        assert_eq!(
            m["annotations"]["org.opencontainers.image.created"],
            "2023-11-14T22:13:20Z"
        );
        // Any change to what goes in changes the digest.
        std::fs::write(d.path().join("config.json"), b"{\"a\":1}").unwrap();
        assert_ne!(
            planned(d.path(), Some(&facts), None).manifest_digest(),
            one.manifest_digest()
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_executable_bit_is_part_of_the_manifest() {
        use std::os::unix::fs::PermissionsExt;
        let d = tree();
        let before = planned(d.path(), None, Some(0)).manifest_digest();
        let p = d.path().join("config.json");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_ne!(planned(d.path(), None, Some(0)).manifest_digest(), before);
    }

    #[test]
    fn manifest_subjects() {
        let d = Sha256Digest::of(b"m");
        let s = manifest_subject(Some("registry.example.com/models/m"), &d);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "name": "registry.example.com/models/m",
                "digest": {"sha256": d.hex()},
                "mediaType": OCI_MANIFEST_MEDIA_TYPE,
            })
        );
        let plain = ResourceDescriptor::sha256("acme/m", &Sha256Digest::of(b"a"));
        assert_eq!(named_manifests(&[plain, s]), vec![d]);
        let anon = serde_json::to_value(manifest_subject(None, &d)).unwrap();
        assert!(anon.get("name").is_none());
        assert_eq!(
            publish_repository(&manifest()).as_deref(),
            Some("registry.example.com/models/m")
        );
    }

    #[test]
    fn provenance_facts_read_the_code_dependency() {
        let v: Provenance = serde_json::from_value(serde_json::json!({
            "buildDefinition": {
                "buildType": crate::intoto::BUILD_TYPE_TRAINING,
                "externalParameters": {},
                "resolvedDependencies": [
                    {"name": "base", "digest": {"sha256": "00"}},
                    {"name": "training-code", "uri": "git+https://example.com/r@abc", "digest": {"gitCommit": "abc"}},
                ],
            },
            "runDetails": {
                "builder": {"id": "https://example.com/b"},
                "metadata": {"finishedOn": "2024-01-01T00:00:00Z"},
            },
        }))
        .unwrap();
        assert_eq!(
            provenance_facts(&v),
            ProvenanceFacts {
                created: Some("2024-01-01T00:00:00Z".into()),
                source: Some("https://example.com/r".into()),
                revision: Some("abc".into()),
            }
        );
    }
}
