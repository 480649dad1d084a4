//! The SPDX 3.0.1 SBOM (JSON-LD) of a build: the artifact as an
//! `ai_AIPackage` (or `dataset_DatasetPackage`), its files, its inputs by
//! role, licenses, hyperparameters, the training code and the Python
//! environment.
//!
//! Every element lives under one namespace derived from the artifact digest
//! and the invocation id, so two builds of the same bytes from the same run
//! give the same document, and every IRI referenced is defined in `@graph`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::build::{BuildFacts, RunSource};
use crate::digest::FileEntry;
use crate::lockfile::LockedInput;
use crate::model::{ArtifactKind, Role};

/// The SBOM's file name under `target/mlprov/`.
pub const SBOM_FILE: &str = "sbom.spdx.json";
pub const CONTEXT: &str = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld";
pub const SPEC_VERSION: &str = "3.0.1";
/// Where mlprov's element IRIs live.
pub const NAMESPACE_BASE: &str = "https://mlprov.dev/spdx/";

const CREATION_INFO: &str = "_:creationinfo";
pub const OMS_COMMENT: &str = "OpenSSF Model Signing v1.0 root digest: SHA-256 over the SHA-256 digests of the files, in path order";

struct Graph {
    ns: String,
    elements: Vec<Value>,
    /// Every element's spdxId, for SpdxDocument.element.
    ids: Vec<String>,
    relationships: usize,
    /// License expression → element id.
    licenses: BTreeMap<String, String>,
}

impl Graph {
    fn id(&self, local: &str) -> String {
        format!("{}{local}", self.ns)
    }

    fn push(&mut self, mut v: Map<String, Value>, ty: &str, id: String) {
        let mut head = Map::new();
        head.insert("type".into(), json!(ty));
        head.insert("spdxId".into(), json!(id));
        head.insert("creationInfo".into(), json!(CREATION_INFO));
        head.append(&mut v);
        self.ids.push(id);
        self.elements.push(Value::Object(head));
    }

    fn relationship(&mut self, from: &str, ty: &str, to: Vec<String>, extra: Map<String, Value>) {
        if to.is_empty() {
            return;
        }
        self.relationships += 1;
        let id = self.id(&format!("relationship/{}", self.relationships));
        let mut m = Map::new();
        m.insert("from".into(), json!(from));
        m.insert("relationshipType".into(), json!(ty));
        m.insert("to".into(), json!(to));
        let is_scoped = extra.contains_key("scope");
        for (k, v) in extra {
            m.insert(k, v);
        }
        self.push(
            m,
            if is_scoped {
                "LifecycleScopedRelationship"
            } else {
                "Relationship"
            },
            id,
        );
    }

    /// The element for a license expression, made once.
    fn license(&mut self, expr: &str) -> String {
        if let Some(id) = self.licenses.get(expr) {
            return id.clone();
        }
        let id = self.id(&format!("license/{}", self.licenses.len() + 1));
        let mut m = Map::new();
        m.insert("simplelicensing_licenseExpression".into(), json!(expr));
        self.push(m, "simplelicensing_LicenseExpression", id.clone());
        self.licenses.insert(expr.to_string(), id.clone());
        id
    }

    fn declared_license(&mut self, from: &str, expr: Option<&str>) {
        if let Some(e) = expr.filter(|e| !e.trim().is_empty()) {
            let lic = self.license(e);
            self.relationship(from, "hasDeclaredLicense", vec![lic], Map::new());
        }
    }
}

/// Percent-encode each `/`-separated segment for use in an IRI.
fn iri_path(s: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    s.split('/')
        .map(|seg| percent_encoding::utf8_percent_encode(seg, KEEP).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

fn sha256_hash(hex: String, comment: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!("Hash"));
    m.insert("algorithm".into(), json!("sha256"));
    m.insert("hashValue".into(), json!(hex));
    if let Some(c) = comment {
        m.insert("comment".into(), json!(c));
    }
    Value::Object(m)
}

/// `software_primaryPurpose` of an output file.
fn file_purpose(f: &FileEntry, kind: ArtifactKind) -> &'static str {
    let dataset = kind == ArtifactKind::Dataset;
    match f.format.as_deref() {
        Some("python") => "source",
        _ if dataset => "data",
        Some("safetensors" | "gguf" | "pickle" | "zip" | "numpy" | "hdf5" | "onnx") => "model",
        Some("json") => "configuration",
        _ => "other",
    }
}

/// Is `s` usable as a Hub dataset id in a URL?
fn hub_id_like(s: &str) -> bool {
    !s.is_empty()
        && s.split('/').count() <= 2
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c) || c == '/')
}

/// Build the SPDX 3.0.1 document.
pub fn document(f: &BuildFacts<'_>) -> Value {
    let artifact = &f.manifest.artifact;
    let mut g = Graph {
        ns: format!(
            "{NAMESPACE_BASE}{}/{}/",
            f.outputs.set.digest.hex(),
            iri_path(&f.run.invocation_id)
        ),
        elements: Vec::new(),
        ids: Vec::new(),
        relationships: 0,
        licenses: BTreeMap::new(),
    };

    // Who and what made the document.
    let agent = g.id("agent/mlprov");
    let tool = g.id("tool/mlprov");
    let mut m = Map::new();
    m.insert("name".into(), json!("mlprov"));
    g.push(m, "SoftwareAgent", agent.clone());
    let mut m = Map::new();
    m.insert("name".into(), json!(format!("mlprov {}", crate::VERSION)));
    g.push(m, "Tool", tool.clone());
    let data_license = g.license("CC0-1.0");

    // The artifact.
    let root = g.id("artifact");
    let is_dataset = artifact.kind == ArtifactKind::Dataset;
    let mut m = Map::new();
    m.insert("name".into(), json!(artifact.name));
    if let Some(d) = &artifact.description {
        m.insert("description".into(), json!(d));
    }
    m.insert(
        "verifiedUsing".into(),
        json!([sha256_hash(f.outputs.set.digest.hex(), Some(OMS_COMMENT))]),
    );
    m.insert("builtTime".into(), json!(f.run.finished_on));
    m.insert("software_packageVersion".into(), json!(artifact.version));
    m.insert(
        "software_primaryPurpose".into(),
        json!(if is_dataset { "data" } else { "model" }),
    );
    let summary = f.training_summary();
    let hyper = f.run.hyperparameters();
    if is_dataset {
        m.insert("dataset_datasetType".into(), json!(["noAssertion"]));
        m.insert(
            "dataset_datasetSize".into(),
            json!(f.outputs.set.total_size()),
        );
        m.insert("dataset_dataCollectionProcess".into(), json!(summary));
        g.push(m, "dataset_DatasetPackage", root.clone());
    } else {
        if !hyper.is_empty() {
            let entries: Vec<Value> = hyper
                .iter()
                .map(|(k, v)| json!({"type": "DictionaryEntry", "key": k, "value": v}))
                .collect();
            m.insert("ai_hyperparameter".into(), Value::Array(entries));
        }
        m.insert("ai_informationAboutTraining".into(), json!(summary));
        g.push(m, "ai_AIPackage", root.clone());
    }
    g.declared_license(&root, artifact.license.as_deref());

    // Its files.
    let mut file_ids = Vec::with_capacity(f.outputs.set.len());
    for file in &f.outputs.set.files {
        let id = g.id(&format!("file/{}", iri_path(&file.path)));
        let mut m = Map::new();
        m.insert("name".into(), json!(file.path));
        if let Some(fmt) = &file.format {
            m.insert("comment".into(), json!(format!("format: {fmt}")));
        }
        m.insert(
            "verifiedUsing".into(),
            json!([sha256_hash(file.sha256.hex(), None)]),
        );
        m.insert(
            "software_primaryPurpose".into(),
            json!(file_purpose(file, artifact.kind)),
        );
        m.insert("software_fileKind".into(), json!("file"));
        g.push(m, "software_File", id.clone());
        file_ids.push(id);
    }

    // Inputs, grouped by the relationship their role maps to.
    let mut by_rel: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for i in f.inputs() {
        let id = input_element(&mut g, i);
        by_rel
            .entry(super::relationship_for(i.role))
            .or_default()
            .push(id);
    }

    // The training code.
    if let Some(git) = &f.run.git {
        let id = g.id("code");
        let mut m = Map::new();
        m.insert(
            "name".into(),
            json!(git.remote.clone().unwrap_or_else(|| "training code".into())),
        );
        if git.dirty {
            m.insert(
                "comment".into(),
                json!("the working tree had uncommitted changes when the run started"),
            );
        }
        m.insert(
            "externalIdentifier".into(),
            json!([{
                "type": "ExternalIdentifier",
                "externalIdentifierType": "gitoid",
                "identifier": format!("gitoid:commit:sha1:{}", git.commit),
            }]),
        );
        m.insert("software_packageVersion".into(), json!(git.commit));
        if let Some(r) = &git.remote
            && (r.starts_with("https://") || r.starts_with("http://"))
        {
            m.insert("software_downloadLocation".into(), json!(r));
        }
        m.insert("software_primaryPurpose".into(), json!("source"));
        g.push(m, "software_Package", id.clone());
        by_rel.entry("dependsOn").or_default().push(id);
    }

    let mut contains = Map::new();
    contains.insert("completeness".into(), json!("complete"));
    g.relationship(&root, "contains", file_ids, contains);
    for ty in ["descendantOf", "trainedOn", "testedOn", "dependsOn"] {
        if let Some(to) = by_rel.remove(ty) {
            g.relationship(&root, ty, to, Map::new());
        }
    }

    // The Python environment of the run: build-time dependencies.
    if let Some(py) = &f.run.python {
        let mut ids = Vec::with_capacity(py.packages.len());
        for p in &py.packages {
            let id = g.id(&format!("python/{}", iri_path(&p.name)));
            let mut m = Map::new();
            m.insert("name".into(), json!(p.name));
            m.insert("software_packageVersion".into(), json!(p.version));
            m.insert("software_packageUrl".into(), json!(p.purl));
            m.insert("software_primaryPurpose".into(), json!("library"));
            g.push(m, "software_Package", id.clone());
            ids.push(id);
        }
        let mut scope = Map::new();
        scope.insert("scope".into(), json!("build"));
        g.relationship(&root, "dependsOn", ids, scope);
    }

    // Assemble: creation info, the document, then every element.
    let mut doc = Map::new();
    doc.insert(
        "name".into(),
        json!(format!("SBOM for {} {}", artifact.name, artifact.version)),
    );
    if f.run_source == RunSource::Imported {
        doc.insert(
            "comment".into(),
            json!("the run record was imported with `mlprov build --run`"),
        );
    }
    doc.insert(
        "profileConformance".into(),
        json!(["core", "software", "simpleLicensing", "ai", "dataset"]),
    );
    doc.insert("dataLicense".into(), json!(data_license));
    doc.insert("rootElement".into(), json!([root]));
    doc.insert("element".into(), json!(g.ids));
    let doc_id = g.id("document");
    let mut head = Map::new();
    head.insert("type".into(), json!("SpdxDocument"));
    head.insert("spdxId".into(), json!(doc_id));
    head.insert("creationInfo".into(), json!(CREATION_INFO));
    head.append(&mut doc);

    let creation = json!({
        "type": "CreationInfo",
        "@id": CREATION_INFO,
        "specVersion": SPEC_VERSION,
        "created": f.created,
        "createdBy": [agent],
        "createdUsing": [tool],
    });
    let mut graph = Vec::with_capacity(g.elements.len() + 2);
    graph.push(creation);
    graph.push(Value::Object(head));
    graph.extend(g.elements);
    json!({"@context": CONTEXT, "@graph": graph})
}

/// One locked input as a package; returns its id.
fn input_element(g: &mut Graph, i: &LockedInput) -> String {
    let id = g.id(&format!("input/{}", iri_path(&i.name)));
    let mut m = Map::new();
    m.insert("name".into(), json!(super::input_display_name(i)));
    m.insert(
        "comment".into(),
        json!(format!(
            "mlprov input `{}` (role {}), {}",
            i.name,
            i.role,
            i.uri()
        )),
    );
    m.insert(
        "verifiedUsing".into(),
        json!([sha256_hash(i.digest.hex(), Some(OMS_COMMENT))]),
    );
    if let Some(c) = &i.commit {
        m.insert("software_packageVersion".into(), json!(c));
    }
    if let Some(loc) = super::download_location(i) {
        m.insert("software_downloadLocation".into(), json!(loc));
    }
    if let Some(purl) = super::hf_purl(i) {
        m.insert("software_packageUrl".into(), json!(purl));
    }
    let ty = match i.role {
        Role::BaseModel | Role::Adapter => {
            m.insert("software_primaryPurpose".into(), json!("model"));
            "ai_AIPackage"
        }
        Role::TrainingData | Role::TestData => {
            m.insert("software_primaryPurpose".into(), json!("data"));
            m.insert("dataset_datasetType".into(), json!(["noAssertion"]));
            m.insert("dataset_datasetSize".into(), json!(i.total_size()));
            "dataset_DatasetPackage"
        }
        Role::Config => {
            m.insert("software_primaryPurpose".into(), json!("configuration"));
            "software_Package"
        }
        Role::Code => {
            m.insert("software_primaryPurpose".into(), json!("source"));
            "software_Package"
        }
        Role::Other => {
            m.insert("software_primaryPurpose".into(), json!("other"));
            "software_Package"
        }
    };
    g.push(m, ty, id.clone());
    g.declared_license(&id, i.license.as_deref());

    // Datasets the input's model card declares it was trained on.
    let mut card = Vec::new();
    for d in &i.datasets {
        let did = g.id(&format!(
            "input/{}/card-dataset/{}",
            iri_path(&i.name),
            iri_path(d)
        ));
        let mut m = Map::new();
        m.insert("name".into(), json!(d));
        m.insert(
            "comment".into(),
            json!(format!("declared in the model card of input `{}`", i.name)),
        );
        if hub_id_like(d) {
            m.insert(
                "software_downloadLocation".into(),
                json!(format!("https://huggingface.co/datasets/{d}")),
            );
        }
        m.insert("software_primaryPurpose".into(), json!("data"));
        m.insert("dataset_datasetType".into(), json!(["noAssertion"]));
        g.push(m, "dataset_DatasetPackage", did.clone());
        card.push(did);
    }
    g.relationship(&id, "trainedOn", card, Map::new());
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iri_segments_are_encoded() {
        assert_eq!(iri_path("1_Pooling/config.json"), "1_Pooling/config.json");
        assert_eq!(iri_path("a b/c#d"), "a%20b/c%23d");
    }
}
