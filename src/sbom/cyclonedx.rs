//! The CycloneDX 1.6 ML-BOM of a build: the same facts as the SPDX SBOM,
//! in CycloneDX's vocabulary — `machine-learning-model` and `data`
//! components, file hashes, licenses, model cards, pypi purls.
//!
//! The `cyclonedx-bom` crate stops at spec 1.5 (no 1.6 ML-BOM fields), so
//! the document is built here from the 1.6 JSON schema.

use serde_json::{Map, Value, json};

use crate::build::{BuildFacts, RunSource};
use crate::lockfile::LockedInput;
use crate::model::{ArtifactKind, Role};

/// The ML-BOM's file name under `target/mlprov/`.
pub const BOM_FILE: &str = "bom.cdx.json";
pub const SPEC_VERSION: &str = "1.6";

const ARTIFACT_REF: &str = "artifact";

fn prop(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "value": value.into()})
}

fn licenses(expr: Option<&str>) -> Option<Value> {
    expr.filter(|e| !e.trim().is_empty())
        .map(|e| json!([{"expression": e}]))
}

/// The bom-ref of an input. The one base model (when there is exactly
/// one) is `base-model`, the convention deployment policies look for
/// (`components[_]["bom-ref"] == "base-model"`); other inputs are
/// `input:NAME`.
fn input_ref(i: &LockedInput, single_base: bool) -> String {
    if single_base && i.role == Role::BaseModel {
        "base-model".to_string()
    } else {
        format!("input:{}", i.name)
    }
}

fn single_base(inputs: &[LockedInput]) -> bool {
    inputs.iter().filter(|i| i.role == Role::BaseModel).count() == 1
}

/// Build the CycloneDX 1.6 document.
pub fn bom(f: &BuildFacts<'_>) -> Value {
    let artifact = &f.manifest.artifact;
    let run = f.run;

    // The artifact: metadata.component, with its files as sub-components.
    let mut files = Vec::with_capacity(f.outputs.set.len());
    for file in &f.outputs.set.files {
        let mut c = Map::new();
        c.insert("type".into(), json!("file"));
        c.insert("bom-ref".into(), json!(format!("file:{}", file.path)));
        c.insert("name".into(), json!(file.path));
        c.insert(
            "hashes".into(),
            json!([{"alg": "SHA-256", "content": file.sha256.hex()}]),
        );
        let mut props = vec![prop("mlprov:size", file.size.to_string())];
        if let Some(fmt) = &file.format {
            props.push(prop("mlprov:format", fmt.as_str()));
        }
        c.insert("properties".into(), Value::Array(props));
        files.push(Value::Object(c));
    }

    let is_dataset = artifact.kind == ArtifactKind::Dataset;
    let mut a = Map::new();
    a.insert(
        "type".into(),
        json!(if is_dataset {
            "data"
        } else {
            "machine-learning-model"
        }),
    );
    a.insert("bom-ref".into(), json!(ARTIFACT_REF));
    a.insert("name".into(), json!(artifact.name));
    a.insert("version".into(), json!(artifact.version));
    a.insert(
        "description".into(),
        json!(
            artifact
                .description
                .clone()
                .unwrap_or_else(|| f.training_summary())
        ),
    );
    if let Some(l) = licenses(artifact.license.as_deref()) {
        a.insert("licenses".into(), l);
    }
    if let Some(g) = &run.git
        && let Some(r) = &g.remote
    {
        a.insert(
            "externalReferences".into(),
            json!([{"type": "vcs", "url": r, "comment": format!("training code at commit {}", g.commit)}]),
        );
    }
    a.insert("components".into(), Value::Array(files));
    if is_dataset {
        a.insert(
            "data".into(),
            json!([{"type": "dataset", "name": artifact.name, "description": f.training_summary()}]),
        );
    } else {
        let datasets: Vec<Value> = f
            .inputs()
            .iter()
            .filter(|i| i.role.is_data())
            .map(|i| json!({"ref": input_ref(i, single_base(f.inputs()))}))
            .collect();
        let mut card = Map::new();
        if !datasets.is_empty() {
            card.insert("modelParameters".into(), json!({"datasets": datasets}));
        }
        let hyper: Vec<Value> = run
            .hyperparameters()
            .iter()
            .map(|(k, v)| prop(&format!("mlprov:hyperparameter:{k}"), v.as_str()))
            .collect();
        if !hyper.is_empty() {
            card.insert("properties".into(), Value::Array(hyper));
        }
        if !card.is_empty() {
            a.insert("modelCard".into(), Value::Object(card));
        }
    }
    a.insert(
        "properties".into(),
        json!([
            prop("mlprov:artifact-digest", f.outputs.set.digest.prefixed()),
            prop("mlprov:artifact-path", f.outputs.path.as_str()),
        ]),
    );

    // The run.
    let mut meta_props = vec![
        prop("mlprov:invocation-id", run.invocation_id.as_str()),
        prop("mlprov:run-record", f.run_source.as_str()),
        prop("mlprov:started-on", run.started_on.as_str()),
        prop("mlprov:finished-on", run.finished_on.as_str()),
        prop("mlprov:builder-id", f.builder_id.as_str()),
    ];
    if f.run_source != RunSource::Packaging {
        meta_props.push(prop("mlprov:argv", crate::build::shell_words(&run.argv)));
        meta_props.push(prop(
            "mlprov:exit-status",
            run.exit_status.unwrap_or(0).to_string(),
        ));
    }
    if let Some(g) = &run.git {
        meta_props.push(prop("mlprov:git-commit", g.commit.as_str()));
        meta_props.push(prop("mlprov:git-dirty", g.dirty.to_string()));
    }
    if let Some(c) = &run.config {
        meta_props.push(prop("mlprov:config-path", c.path.as_str()));
        meta_props.push(prop("mlprov:config-digest", c.digest.as_str()));
    }

    // Inputs and the Python environment.
    let single = single_base(f.inputs());
    let mut components: Vec<Value> = f
        .inputs()
        .iter()
        .map(|i| input_component(i, single))
        .collect();
    if let Some(py) = &run.python {
        for p in &py.packages {
            components.push(json!({
                "type": "library",
                "bom-ref": p.purl,
                "name": p.name,
                "version": p.version,
                "scope": "excluded",
                "purl": p.purl,
                "properties": [prop("mlprov:environment", "training")],
            }));
        }
    }
    let deps: Vec<Value> = f
        .inputs()
        .iter()
        .map(|i| json!(input_ref(i, single)))
        .collect();

    let serial = crate::run::invocation_id(
        format!(
            "cyclonedx\0{}\0{}",
            f.outputs.set.digest.hex(),
            run.invocation_id
        )
        .as_bytes(),
    );
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": format!("urn:uuid:{serial}"),
        "version": 1,
        "metadata": {
            "timestamp": f.created,
            "lifecycles": [{"phase": "build"}],
            "tools": {"components": [{
                "type": "application",
                "name": "mlprov",
                "version": crate::VERSION,
            }]},
            "component": Value::Object(a),
            "properties": meta_props,
        },
        "components": components,
        "dependencies": [{"ref": ARTIFACT_REF, "dependsOn": deps}],
        "properties": bom_properties(f),
    })
}

/// BOM-level properties deployment policies read: the training commit.
fn bom_properties(f: &BuildFacts<'_>) -> Value {
    let mut props = Vec::new();
    if let Some(g) = &f.run.git {
        props.push(prop("training-commit", g.commit.as_str()));
    }
    Value::Array(props)
}

fn input_component(i: &LockedInput, single_base: bool) -> Value {
    let mut c = Map::new();
    let (ty, data_type) = match i.role {
        Role::BaseModel | Role::Adapter => ("machine-learning-model", None),
        Role::TrainingData | Role::TestData => ("data", Some("dataset")),
        Role::Config => ("data", Some("configuration")),
        Role::Code => ("data", Some("source-code")),
        Role::Other => ("data", Some("other")),
    };
    c.insert("type".into(), json!(ty));
    c.insert("bom-ref".into(), json!(input_ref(i, single_base)));
    c.insert("name".into(), json!(super::input_display_name(i)));
    if let Some(commit) = &i.commit {
        c.insert("version".into(), json!(commit));
    }
    c.insert(
        "description".into(),
        json!(format!("mlprov input `{}` (role {})", i.name, i.role)),
    );
    // A single file's own hash; for a file set, its artifact digest (the
    // SHA-256 that identifies it everywhere in mlprov).
    let hash = match i.files.as_slice() {
        [only] => only.sha256.hex(),
        _ => i.digest.hex(),
    };
    c.insert(
        "hashes".into(),
        json!([{"alg": "SHA-256", "content": hash}]),
    );
    if let Some(l) = licenses(i.license.as_deref()) {
        c.insert("licenses".into(), l);
    }
    if let Some(purl) = super::hf_purl(i) {
        c.insert("purl".into(), json!(purl));
    }
    let mut refs = Vec::new();
    if let Some(loc) = super::download_location(i) {
        let mut r = json!({"type": "distribution", "url": loc});
        if let Some(c) = &i.commit {
            r["comment"] = json!(format!("revision:{c}"));
        }
        refs.push(r);
    }
    if let (Some((kind, repo)), Some(commit)) = (super::hf_repo(i), i.commit.as_deref())
        && i.files.iter().any(|f| f.path == "README.md")
    {
        let prefix = if kind == "dataset" { "datasets/" } else { "" };
        refs.push(json!({
            "type": "model-card",
            "url": format!("https://huggingface.co/{prefix}{repo}/blob/{commit}/README.md"),
        }));
    }
    if !refs.is_empty() {
        c.insert("externalReferences".into(), Value::Array(refs));
    }
    if ty == "machine-learning-model" && !i.datasets.is_empty() {
        let ds: Vec<Value> = i
            .datasets
            .iter()
            .map(|d| json!({"type": "dataset", "name": d, "description": "declared in the model card"}))
            .collect();
        c.insert(
            "modelCard".into(),
            json!({"modelParameters": {"datasets": ds}}),
        );
    }
    if let Some(dt) = data_type {
        c.insert("data".into(), json!([{"type": dt, "name": i.name}]));
    }
    c.insert(
        "properties".into(),
        json!([
            prop("mlprov:input", i.name.as_str()),
            prop("mlprov:role", i.role.as_str()),
            prop("mlprov:uri", i.uri().to_string()),
            prop("mlprov:artifact-digest", i.digest.prefixed()),
        ]),
    );
    Value::Object(c)
}
