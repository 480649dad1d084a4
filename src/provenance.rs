//! mlprov's provenance dialect, both directions.
//!
//! Written: SLSA v1 provenance for a build (an in-toto Statement v1 whose
//! subjects are the artifact digest, every output file and the OCI manifest
//! `push` will publish, whose `externalParameters` are [`TrainingParameters`] and whose
//! `resolvedDependencies` name every locked input by its artifact digest and
//! URI, and the training code by its git commit), and import provenance for
//! a locked input ([`ImportParameters`], [`import_statement`]).
//!
//! Read: [`inputs`] turns any SLSA provenance's `resolvedDependencies` into
//! typed [`InputRef`]s, and [`training_parameters`] / [`import_parameters`]
//! read mlprov's own parameters back. Nothing else reads these documents by
//! JSON pointer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::build::{BuildFacts, RunSource};
use crate::digest::Sha256Digest;
use crate::intoto::{
    BUILD_TYPE_IMPORT, BUILD_TYPE_TRAINING, BUILDER_LOCAL, BuildDefinition, BuildMetadata, Builder,
    PREDICATE_SLSA_PROVENANCE, Provenance, ResourceDescriptor, RunDetails, Statement,
};
use crate::lockfile::LockedInput;
use crate::model::{ArtifactKind, ResourceUri, Role};

/// The provenance file's name under `target/mlprov/`.
pub const PROVENANCE_FILE: &str = "provenance.json";

/// The name of the resolved dependency that records the training code.
pub const CODE_DEPENDENCY: &str = "training-code";

/// The `digest` key of a git commit in a ResourceDescriptor.
pub const GIT_COMMIT: &str = "gitCommit";

/// `externalParameters` of a training build
/// (`https://mlprov.dev/build/training/v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingParameters {
    pub artifact: ArtifactParameters,
    pub manifest: FileParameter,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<FileParameter>,
    #[serde(default)]
    pub argv: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<FileParameter>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
}

/// What was built (`[artifact]` of mlprov.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactParameters {
    pub name: String,
    pub version: String,
    pub kind: ArtifactKind,
    pub path: String,
}

/// A file of the project, by path and digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileParameter {
    pub path: String,
    pub digest: DigestSet,
}

impl FileParameter {
    fn new(path: &str, digest: &Sha256Digest) -> Self {
        Self {
            path: path.to_string(),
            digest: DigestSet {
                sha256: digest.hex(),
            },
        }
    }
}

/// `{"sha256": "<hex>"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestSet {
    pub sha256: String,
}

/// `externalParameters` of an import (`https://mlprov.dev/build/import/v1`):
/// where a third-party input came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportParameters {
    /// The input's name in the lock.
    pub input: String,
    pub role: Role,
    /// The lock's `source` (`hf:org/name`, `oci:registry/repo:tag`, …).
    pub source: crate::model::Source,
    pub uri: ResourceUri,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// `oci` inputs: the manifest digest (`sha256:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<String>,
}

/// One `resolvedDependencies` entry of a provenance, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputRef {
    pub name: Option<String>,
    /// The role it was used in (`annotations.role`; `other` when absent or
    /// not a role mlprov knows).
    pub role: Role,
    /// `annotations.role` as written (`other` when absent).
    pub role_name: String,
    pub uri: Option<ResourceUri>,
    /// `digest.sha256`: the artifact digest.
    pub digest: Option<Sha256Digest>,
    /// `digest.gitCommit`: source code by commit.
    pub git_commit: Option<String>,
}

/// The inputs a provenance names. Import provenance lists the files fetched
/// from the origin, not inputs with attestations of their own: it has none.
pub fn inputs(p: &Provenance) -> Vec<InputRef> {
    if p.build_definition.build_type == BUILD_TYPE_IMPORT {
        return Vec::new();
    }
    p.build_definition
        .resolved_dependencies
        .iter()
        .map(|d| {
            let role_name = d
                .annotations
                .get("role")
                .and_then(Value::as_str)
                .unwrap_or("other")
                .to_string();
            InputRef {
                name: d.name.clone(),
                role: Role::parse(&role_name).unwrap_or(Role::Other),
                role_name,
                uri: d.uri.as_deref().map(ResourceUri::parse),
                digest: d.sha256_digest(),
                git_commit: d.digest.get(GIT_COMMIT).cloned(),
            }
        })
        .collect()
}

/// The parameters of an mlprov training build, if `p` is one.
pub fn training_parameters(p: &Provenance) -> Option<TrainingParameters> {
    (p.build_definition.build_type == BUILD_TYPE_TRAINING)
        .then(|| serde_json::from_value(p.build_definition.external_parameters.clone()).ok())
        .flatten()
}

/// The parameters of an mlprov import, if `p` is one.
pub fn import_parameters(p: &Provenance) -> Option<ImportParameters> {
    (p.build_definition.build_type == BUILD_TYPE_IMPORT)
        .then(|| serde_json::from_value(p.build_definition.external_parameters.clone()).ok())
        .flatten()
}

/// The training code a provenance names: its git remote (when recorded) and
/// commit.
pub fn training_code(p: &Provenance) -> Option<(Option<String>, String)> {
    inputs(p).into_iter().find_map(|i| {
        let commit = i.git_commit?;
        let remote = match i.uri {
            Some(ResourceUri::Git { remote, commit: c }) if c == commit => Some(remote),
            _ => None,
        };
        Some((remote, commit))
    })
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The subjects of every statement about a build's outputs: the artifact
/// (by name and artifact digest), every output file, and the ModelPack
/// manifest `push` will publish (when computed), which admission gates look
/// attestations up by.
pub fn subjects(f: &BuildFacts<'_>) -> Vec<ResourceDescriptor> {
    let outputs = f.outputs;
    let mut subject = Vec::with_capacity(outputs.set.len() + 2);
    subject.push(ResourceDescriptor::sha256(
        f.manifest.artifact.name.clone(),
        &outputs.set.digest,
    ));
    for file in &outputs.set.files {
        subject.push(ResourceDescriptor::sha256(file.path.clone(), &file.sha256));
    }
    subject.extend(f.oci_manifest.clone());
    subject
}

/// The scan statement for a build's outputs (`https://mlprov.dev/scan/v1`),
/// written as `target/mlprov/scan.json` for `attest` to sign.
pub fn scan_statement(
    f: &BuildFacts<'_>,
    policy: &crate::scan::ScanPolicy,
) -> Statement<crate::scan::ScanPredicate> {
    Statement::new(
        subjects(f),
        crate::intoto::PREDICATE_SCAN,
        f.outputs.scan.predicate(policy),
    )
}

/// The scan statement's file name under `target/mlprov/`.
pub const SCAN_FILE: &str = "scan.json";

/// The provenance statement for a build.
pub fn statement(f: &BuildFacts<'_>) -> Statement<Provenance> {
    let artifact = &f.manifest.artifact;
    let subject = subjects(f);

    let mut deps: Vec<ResourceDescriptor> = f
        .inputs()
        .iter()
        .map(|i| {
            let mut d = ResourceDescriptor::sha256(i.name.clone(), &i.digest);
            d.uri = Some(i.uri().to_string());
            d.annotations
                .insert("role".into(), Value::String(i.role.to_string()));
            d
        })
        .collect();
    if let Some(g) = &f.run.git {
        let mut digest = BTreeMap::new();
        digest.insert(GIT_COMMIT.to_string(), g.commit.clone());
        let mut annotations = BTreeMap::new();
        annotations.insert("role".to_string(), Value::String(Role::Code.to_string()));
        if g.dirty {
            annotations.insert("dirty".to_string(), Value::Bool(true));
        }
        deps.push(ResourceDescriptor {
            name: Some(CODE_DEPENDENCY.into()),
            uri: g.remote.as_ref().map(|remote| {
                ResourceUri::Git {
                    remote: remote.clone(),
                    commit: g.commit.clone(),
                }
                .to_string()
            }),
            digest,
            annotations,
            ..Default::default()
        });
    }

    let external = TrainingParameters {
        artifact: ArtifactParameters {
            name: artifact.name.clone(),
            version: artifact.version.clone(),
            kind: artifact.kind,
            path: f.outputs.path.clone(),
        },
        manifest: FileParameter::new(crate::manifest::MANIFEST_FILE, &f.manifest_digest),
        lock: f
            .lock_digest
            .as_ref()
            .map(|d| FileParameter::new(crate::lockfile::LOCK_FILE, d)),
        argv: f.run.argv.clone(),
        config: f.run.config.as_ref().map(|c| FileParameter {
            path: c.path.clone(),
            digest: DigestSet {
                sha256: Sha256Digest::parse_any(&c.digest)
                    .map(|d| d.hex())
                    .unwrap_or_default(),
            },
        }),
        parameters: f.run.parameters.clone(),
    };

    let mut internal = serde_json::Map::new();
    internal.insert("runRecord".into(), json!(f.run_source.as_str()));
    if f.run.allow_dirty {
        internal.insert("allowDirty".into(), json!(true));
    }
    if f.run_source != RunSource::Packaging {
        internal.insert("exitStatus".into(), json!(f.run.exit_status.unwrap_or(0)));
    }

    let mut version = BTreeMap::new();
    version.insert("mlprov".to_string(), crate::VERSION.to_string());

    let mut run_json = ResourceDescriptor::sha256(crate::run::RUN_FILE, &f.run_digest);
    run_json.media_type = Some("application/json".into());

    let predicate = Provenance {
        build_definition: BuildDefinition {
            build_type: BUILD_TYPE_TRAINING.into(),
            external_parameters: to_value(&external),
            internal_parameters: Some(Value::Object(internal)),
            resolved_dependencies: deps,
        },
        run_details: RunDetails {
            builder: Builder {
                id: f.builder_id.clone(),
                version,
                builder_dependencies: Vec::new(),
            },
            metadata: Some(BuildMetadata {
                invocation_id: Some(f.run.invocation_id.clone()),
                started_on: Some(f.run.started_on.clone()),
                finished_on: Some(f.run.finished_on.clone()),
            }),
            byproducts: vec![run_json],
        },
    };
    Statement::new(subject, PREDICATE_SLSA_PROVENANCE, predicate)
}

/// Import provenance for a locked input: where it came from (source, URI,
/// revision, commit, manifest), its license, and every file's digest. The
/// subject is the input's artifact digest, whatever its source.
///
/// The per-file digests are `resolvedDependencies` without a `role`
/// annotation: they are the bytes fetched from the origin, not inputs with
/// attestations of their own.
pub fn import_statement(input: &LockedInput) -> Statement<Provenance> {
    let uri = input.uri();
    let ext = ImportParameters {
        input: input.name.clone(),
        role: input.role,
        source: input.source.clone(),
        uri: uri.clone(),
        requested: input.requested.clone(),
        commit: input.commit.clone(),
        manifest: input.manifest.map(|m| m.prefixed()),
        license: input.license.clone(),
        include: input.include.clone(),
        exclude: input.exclude.clone(),
        datasets: input.datasets.clone(),
    };
    let deps = input
        .files
        .iter()
        .map(|f| {
            let mut annotations = BTreeMap::new();
            annotations.insert("size".to_string(), json!(f.size));
            if let Some(fmt) = &f.format {
                annotations.insert("format".to_string(), json!(fmt));
            }
            ResourceDescriptor {
                name: Some(f.path.clone()),
                annotations,
                ..ResourceDescriptor::sha256(f.path.clone(), &f.sha256)
            }
        })
        .collect();
    let mut version = BTreeMap::new();
    version.insert("mlprov".to_string(), crate::VERSION.to_string());
    Statement::new(
        vec![input_subject(input)],
        PREDICATE_SLSA_PROVENANCE,
        Provenance {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE_IMPORT.to_string(),
                external_parameters: to_value(&ext),
                internal_parameters: None,
                resolved_dependencies: deps,
            },
            run_details: RunDetails {
                builder: Builder {
                    id: BUILDER_LOCAL.to_string(),
                    version,
                    builder_dependencies: Vec::new(),
                },
                metadata: None,
                byproducts: Vec::new(),
            },
        },
    )
}

/// The subject of a statement about a locked input: its name, artifact
/// digest and URI.
pub fn input_subject(input: &LockedInput) -> ResourceDescriptor {
    let mut subject = ResourceDescriptor::sha256(input.name.clone(), &input.digest);
    subject.uri = Some(input.uri().to_string());
    subject
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::FileEntry;

    #[test]
    fn import_statement_shape() {
        let f = FileEntry {
            path: "model.safetensors".into(),
            size: 3,
            sha256: Sha256Digest::of(b"abc"),
            format: Some("safetensors".into()),
        };
        let input = LockedInput {
            name: "base".into(),
            role: Role::BaseModel,
            source: crate::model::Source::Hf {
                repo: "org/m".into(),
            },
            requested: Some("main".into()),
            commit: Some("c".repeat(40)),
            digest: crate::digest::entries_digest([&f]),
            manifest: None,
            license: Some("Apache-2.0".into()),
            datasets: vec![],
            include: vec![],
            exclude: vec![],
            files: vec![f],
        };
        let st = import_statement(&input);
        let v = serde_json::to_value(&st).unwrap();
        assert_eq!(v["subject"][0]["digest"]["sha256"], input.digest.hex());
        assert_eq!(
            v["subject"][0]["uri"],
            format!("hf://org/m@{}", "c".repeat(40))
        );
        assert_eq!(
            v["predicate"]["buildDefinition"]["buildType"],
            BUILD_TYPE_IMPORT
        );
        assert_eq!(
            v["predicate"]["buildDefinition"]["externalParameters"]["license"],
            "Apache-2.0"
        );
        let dep = &v["predicate"]["buildDefinition"]["resolvedDependencies"][0];
        assert_eq!(dep["name"], "model.safetensors");
        assert_eq!(dep["annotations"]["format"], "safetensors");
        assert!(dep["annotations"].get("role").is_none());
        // Read back: the parameters, typed; the files are not inputs.
        let prov: Provenance = serde_json::from_value(v["predicate"].clone()).unwrap();
        let params = import_parameters(&prov).unwrap();
        assert_eq!(params.license.as_deref(), Some("Apache-2.0"));
        assert_eq!(params.uri, input.uri());
        assert_eq!(params.source, input.source);
        assert!(inputs(&prov).is_empty());
        assert!(training_parameters(&prov).is_none());
    }

    #[test]
    fn oci_imports_name_the_artifact_and_the_manifest() {
        let f = FileEntry {
            path: "model.safetensors".into(),
            size: 3,
            sha256: Sha256Digest::of(b"abc"),
            format: None,
        };
        let manifest = Sha256Digest::of(b"manifest");
        let input = LockedInput {
            name: "base".into(),
            role: Role::BaseModel,
            source: crate::model::Source::Oci {
                reference: "127.0.0.1:5000/models/a:1".into(),
            },
            requested: Some("1".into()),
            commit: None,
            digest: crate::digest::entries_digest([&f]),
            manifest: Some(manifest),
            license: None,
            datasets: vec![],
            include: vec![],
            exclude: vec![],
            files: vec![f],
        };
        let v = serde_json::to_value(import_statement(&input)).unwrap();
        assert_eq!(v["subject"][0]["digest"]["sha256"], input.digest.hex());
        let uri = format!("oci://127.0.0.1:5000/models/a@{}", manifest.prefixed());
        assert_eq!(v["subject"][0]["uri"], uri);
        let ext = &v["predicate"]["buildDefinition"]["externalParameters"];
        assert_eq!(ext["manifest"], manifest.prefixed());
        assert_eq!(ext["source"], "oci:127.0.0.1:5000/models/a:1");
    }

    #[test]
    fn inputs_are_typed() {
        let c = "c".repeat(40);
        let d = Sha256Digest::of(b"a");
        let mut base = ResourceDescriptor::sha256("base", &d);
        base.uri = Some(format!("hf://org/m@{c}"));
        base.annotations.insert("role".into(), json!("base-model"));
        let mut odd = ResourceDescriptor::sha256("odd", &d);
        odd.annotations.insert("role".into(), json!("curated-by"));
        let mut code = ResourceDescriptor {
            name: Some(CODE_DEPENDENCY.into()),
            uri: Some(format!("git+https://example.com/acme/train.git@{c}")),
            ..Default::default()
        };
        code.digest.insert(GIT_COMMIT.into(), c.clone());
        let prov = Provenance {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE_TRAINING.into(),
                external_parameters: json!({}),
                internal_parameters: None,
                resolved_dependencies: vec![base, odd, code],
            },
            run_details: RunDetails {
                builder: Builder {
                    id: BUILDER_LOCAL.into(),
                    version: BTreeMap::new(),
                    builder_dependencies: vec![],
                },
                metadata: None,
                byproducts: vec![],
            },
        };
        let refs = inputs(&prov);
        assert_eq!(refs[0].role, Role::BaseModel);
        assert_eq!(refs[0].digest, Some(d));
        assert_eq!(
            refs[0].uri,
            Some(ResourceUri::Hf {
                repo: "org/m".into(),
                commit: c.clone()
            })
        );
        assert_eq!(
            (refs[1].role, refs[1].role_name.as_str()),
            (Role::Other, "curated-by")
        );
        assert_eq!(refs[2].git_commit.as_deref(), Some(c.as_str()));
        assert_eq!(
            training_code(&prov),
            Some((Some("https://example.com/acme/train.git".to_string()), c))
        );
        // Not mlprov's training parameters: nothing to read.
        assert!(training_parameters(&prov).is_none());
    }
}
