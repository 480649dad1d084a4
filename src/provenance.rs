//! SLSA v1 provenance for a build: an in-toto Statement v1 whose subjects
//! are every output file plus the artifact digest, and whose
//! `resolvedDependencies` name every locked input by its artifact digest and
//! the training code by its git commit.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::build::{BuildFacts, Outputs, RunSource};
use crate::intoto::{
    BUILD_TYPE_TRAINING, BuildDefinition, BuildMetadata, Builder, PREDICATE_SLSA_PROVENANCE,
    Provenance, ResourceDescriptor, RunDetails, Statement,
};

/// The provenance file's name under `target/mlprov/`.
pub const PROVENANCE_FILE: &str = "provenance.json";

/// The name of the resolved dependency that records the training code.
pub const CODE_DEPENDENCY: &str = "training-code";

/// The subjects of every statement about a build's outputs: the artifact
/// (by name and artifact digest) and then every output file.
pub fn subjects(artifact_name: &str, outputs: &Outputs) -> Vec<ResourceDescriptor> {
    let mut subject = Vec::with_capacity(outputs.set.len() + 1);
    subject.push(ResourceDescriptor::sha256(
        artifact_name,
        &outputs.set.digest,
    ));
    for file in &outputs.set.files {
        subject.push(ResourceDescriptor::sha256(file.path.clone(), &file.sha256));
    }
    subject
}

/// The scan statement for a build's outputs (`https://mlprov.dev/scan/v1`),
/// written as `target/mlprov/scan.json` for `attest` to sign.
pub fn scan_statement(
    f: &BuildFacts<'_>,
    policy: &crate::scan::ScanPolicy,
) -> Statement<crate::scan::ScanPredicate> {
    Statement::new(
        subjects(&f.manifest.artifact.name, f.outputs),
        crate::intoto::PREDICATE_SCAN,
        f.outputs.scan.predicate(policy),
    )
}

/// The scan statement's file name under `target/mlprov/`.
pub const SCAN_FILE: &str = "scan.json";

/// The provenance statement for a build.
pub fn statement(f: &BuildFacts<'_>) -> Statement<Provenance> {
    let artifact = &f.manifest.artifact;
    let subject = subjects(&artifact.name, f.outputs);

    let mut deps: Vec<ResourceDescriptor> = f
        .inputs()
        .iter()
        .map(|i| {
            let mut d = ResourceDescriptor::sha256(i.name.clone(), &i.digest);
            d.uri = Some(i.uri());
            d.annotations
                .insert("role".into(), Value::String(i.role.to_string()));
            d
        })
        .collect();
    if let Some(g) = &f.run.git {
        let mut digest = BTreeMap::new();
        digest.insert("gitCommit".to_string(), g.commit.clone());
        let mut annotations = BTreeMap::new();
        annotations.insert("role".to_string(), Value::String("code".into()));
        if g.dirty {
            annotations.insert("dirty".to_string(), Value::Bool(true));
        }
        deps.push(ResourceDescriptor {
            name: Some(CODE_DEPENDENCY.into()),
            uri: crate::run::git_uri(g),
            digest,
            annotations,
            ..Default::default()
        });
    }

    let mut external = serde_json::Map::new();
    external.insert(
        "artifact".into(),
        json!({
            "name": artifact.name,
            "version": artifact.version,
            "kind": artifact.kind.as_str(),
            "path": f.outputs.path,
        }),
    );
    external.insert(
        "manifest".into(),
        json!({"path": crate::manifest::MANIFEST_FILE, "digest": {"sha256": f.manifest_digest.hex()}}),
    );
    if let Some(d) = &f.lock_digest {
        external.insert(
            "lock".into(),
            json!({"path": crate::lockfile::LOCK_FILE, "digest": {"sha256": d.hex()}}),
        );
    }
    external.insert("argv".into(), json!(f.run.argv));
    if let Some(c) = &f.run.config {
        let hex = crate::digest::Sha256Digest::parse_any(&c.digest)
            .map(|d| d.hex())
            .unwrap_or_default();
        external.insert(
            "config".into(),
            json!({"path": c.path, "digest": {"sha256": hex}}),
        );
    }
    if !f.run.parameters.is_empty() {
        external.insert("parameters".into(), json!(f.run.parameters));
    }

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
            external_parameters: Value::Object(external),
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

/// The builder id: the GitHub Actions workflow identity when running there,
/// else the local builder.
pub fn builder_id_from_env() -> String {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if env("GITHUB_ACTIONS").as_deref() == Some("true")
        && let Some(wf) = env("GITHUB_WORKFLOW_REF")
    {
        let server = env("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
        return format!("{}/{wf}", server.trim_end_matches('/'));
    }
    crate::intoto::BUILDER_LOCAL.to_string()
}
