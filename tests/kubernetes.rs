//! `examples/kubernetes/`: every Kyverno `ClusterPolicy` and policy-controller
//! `ClusterImagePolicy` validates against the resource's published CRD schema
//! (`../shared/crds/`, copied from kyverno/kyverno and
//! sigstore/policy-controller), with Python's `jsonschema` from the
//! validators venv. Unknown fields are refused where the API server would
//! drop or refuse them (every object schema that does not preserve unknown
//! fields), so a misspelt key fails here as it fails `kubectl apply
//! --validate=strict`.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::common::*;

/// kind → (CRD file, served version checked).
const CRDS: &[(&str, &str, &str)] = &[
    ("ClusterPolicy", "kyverno.io_clusterpolicies.yaml", "v1"),
    (
        "ClusterImagePolicy",
        "policy.sigstore.dev_clusterimagepolicies.yaml",
        "v1beta1",
    ),
];

/// Applies the API server's unknown-field rule and validates one document.
const CHECK: &str = r#"
import json, sys
import jsonschema

def strict(s):
    if isinstance(s, dict):
        if s.get("type") == "object" and "properties" in s \
                and not s.get("x-kubernetes-preserve-unknown-fields") \
                and "additionalProperties" not in s:
            s["additionalProperties"] = False
        for v in s.values():
            strict(v)
    elif isinstance(s, list):
        for v in s:
            strict(v)
    return s

schema = json.load(open(sys.argv[1]))
# The API server knows these on every object, whether the CRD lists them or not.
for k, t in [("apiVersion", "string"), ("kind", "string"), ("metadata", "object")]:
    schema.setdefault("properties", {}).setdefault(k, {"type": t})
schema = strict(schema)
doc = json.load(open(sys.argv[2]))
errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
for e in errors:
    print("/".join(str(p) for p in e.path) + ": " + e.message)
sys.exit(1 if errors else 0)
"#;

fn yaml_to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    other => panic!("unsupported YAML key {other:?}"),
                };
                m.insert(key, yaml_to_json(v));
            }
            Value::Object(m)
        }
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(r) => Value::from(r.parse::<f64>().expect("YAML real")),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Null => Value::Null,
        other => panic!("unsupported YAML value {other:?}"),
    }
}

pub fn yaml_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    yaml_rust2::YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .iter()
        .map(yaml_to_json)
        .collect()
}

/// `../shared/crds/`, if it has every CRD file.
fn crds() -> Option<PathBuf> {
    let dir = repo_root().join("../shared/crds");
    if let Some((_, f, _)) = CRDS.iter().find(|(_, f, _)| !dir.join(f).is_file()) {
        let what = format!(
            "the published CRD schemas are missing ({} does not exist)",
            dir.join(f).display()
        );
        // The CRDs are data fetched from kyverno/kyverno and sigstore/policy-controller
        // into the steering repository's shared/ (never committed here), so a CI machine
        // may lack them: this check then skips, loudly, even under CI.
        skip(&what);
        return None;
    }
    Some(dir)
}

/// The `openAPIV3Schema` of `version` in a CRD file.
fn crd_schema(file: &Path, version: &str) -> Value {
    let crd = yaml_docs(file)
        .into_iter()
        .find(|d| d["kind"] == "CustomResourceDefinition")
        .unwrap();
    crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == version && v["served"] == true)
        .unwrap_or_else(|| panic!("{}: no served {version}", file.display()))["schema"]
        ["openAPIV3Schema"]
        .clone()
}

/// Validate `doc` against `schema` with jsonschema; the error lines.
fn check(bin: &Path, dir: &Path, schema: &Value, doc: &Value) -> (i32, String) {
    let s = dir.join("schema.json");
    let d = dir.join("doc.json");
    std::fs::write(&s, serde_json::to_vec(schema).unwrap()).unwrap();
    std::fs::write(&d, serde_json::to_vec(doc).unwrap()).unwrap();
    let r = Run::from(
        std::process::Command::new(bin.join("python"))
            .arg("-c")
            .arg(CHECK)
            .arg(&s)
            .arg(&d)
            .output()
            .unwrap(),
    );
    (r.code, format!("{}{}", r.stdout, r.stderr))
}

#[test]
#[ignore = "needs ../shared/tools"]
fn policies_validate_against_the_published_crds() {
    let Some(bin) = validators() else {
        return;
    };
    let Some(crd_dir) = crds() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // Each CRD read once (Kyverno's is 1.4 MB of YAML).
    let schemas: std::collections::BTreeMap<&str, Value> = CRDS
        .iter()
        .map(|(kind, file, version)| (*kind, crd_schema(&crd_dir.join(file), version)))
        .collect();
    let examples = repo_root().join("examples/kubernetes");
    let mut checked = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    entries.sort();
    for file in entries {
        for doc in yaml_docs(&file) {
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            let Some((_, _, version)) = CRDS.iter().find(|(k, _, _)| *k == kind) else {
                assert_eq!(
                    kind,
                    "Pod",
                    "{}: a kind without a schema here",
                    file.display()
                );
                continue;
            };
            let api = doc["apiVersion"].as_str().unwrap();
            assert!(
                api.ends_with(&format!("/{version}")),
                "{}: {api}",
                file.display()
            );
            let (code, out) = check(&bin, tmp.path(), &schemas[kind.as_str()], &doc);
            assert_eq!(code, 0, "{} ({kind}): {out}", file.display());
            checked.push((
                file.file_name().unwrap().to_string_lossy().to_string(),
                kind,
                doc,
            ));
        }
    }
    let kinds: Vec<(&str, &str)> = checked
        .iter()
        .map(|(f, k, _)| (f.as_str(), k.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("kyverno-key.yaml", "ClusterPolicy"),
            ("kyverno-keyless.yaml", "ClusterPolicy"),
            ("policy-controller.yaml", "ClusterImagePolicy"),
            ("policy-controller.yaml", "ClusterImagePolicy"),
        ]
    );

    // What they check: Sigstore bundles, the provenance and the VSA.
    for (f, kind, doc) in &checked {
        let text = doc.to_string();
        if kind == "ClusterPolicy" {
            let vi = &doc["spec"]["rules"][0]["verifyImages"][0];
            assert_eq!(vi["type"], "SigstoreBundle", "{f}");
            assert_eq!(vi["verifyDigest"], true, "{f}");
            let types: Vec<&str> = vi["attestations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["type"].as_str().unwrap())
                .collect();
            assert_eq!(
                types,
                [
                    "https://slsa.dev/provenance/v1",
                    "https://slsa.dev/verification_summary/v1"
                ],
                "{f}"
            );
        } else {
            assert_eq!(
                doc["spec"]["authorities"][0]["signatureFormat"], "bundle",
                "{f}"
            );
        }
        assert!(text.contains("verification_summary") || text.contains("provenance/v1"));
    }

    // The check can fail: a misspelt key and a wrong enum value are refused.
    let (_, _, doc) = &checked[1];
    let schema = &schemas["ClusterPolicy"];
    let mut typo = doc.clone();
    let vi = typo["spec"]["rules"][0]["verifyImages"][0]
        .as_object_mut()
        .unwrap();
    let refs = vi.remove("imageReferences").unwrap();
    vi.insert("imageReference".into(), refs);
    let (code, out) = check(&bin, tmp.path(), schema, &typo);
    assert_ne!(code, 0, "a misspelt key passed: {out}");
    assert!(out.contains("imageReference"), "{out}");
    let mut bad = doc.clone();
    bad["spec"]["rules"][0]["verifyImages"][0]["type"] = "Sigstore".into();
    let (code, out) = check(&bin, tmp.path(), schema, &bad);
    assert_ne!(code, 0, "a wrong verification type passed: {out}");
    let (_, _, cip) = &checked[2];
    let schema = &schemas["ClusterImagePolicy"];
    let mut bad = cip.clone();
    bad["spec"]["authorities"][0]["keyless"]["identity"] =
        bad["spec"]["authorities"][0]["keyless"]["identities"].clone();
    let (code, out) = check(&bin, tmp.path(), schema, &bad);
    assert_ne!(code, 0, "an unknown ClusterImagePolicy field passed: {out}");
}

// ---------------------------------------------------------------------------
// examples/kubernetes/kserve: verified loading.

const KSERVE: &str = "examples/kubernetes/kserve";
/// KServe's CRD (`charts/kserve-crd/files/` of kserve/kserve), when the
/// steering repository's shared/ has it.
const CSC_CRD: &str = "serving.kserve.io_clusterstoragecontainers.yaml";

/// The ClusterStorageContainer of the example.
pub fn cluster_storage_container() -> Value {
    let docs = yaml_docs(
        &repo_root()
            .join(KSERVE)
            .join("cluster-storage-container.yaml"),
    );
    assert_eq!(docs.len(), 1);
    docs.into_iter().next().unwrap()
}

/// What KServe's injector relies on (pkg/webhook/admission/pod/
/// storage_initializer_injector.go): the container is found by its name
/// `storage-initializer`; it is chosen for a URI by `supportedUriFormats`
/// (prefix or regex) when `workloadType` is `initContainer`; KServe sets
/// `args` to the URI and the mount path and merges the rest of the
/// container over its default (so `args` here would replace the URI).
#[test]
fn kserve_storage_initializer_has_what_kserve_relies_on() {
    let csc = cluster_storage_container();
    assert_eq!(csc["apiVersion"], "serving.kserve.io/v1alpha1");
    assert_eq!(csc["kind"], "ClusterStorageContainer");
    assert!(
        csc["metadata"]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    let spec = &csc["spec"];
    let c = &spec["container"];
    assert_eq!(c["name"], "storage-initializer");
    assert!(c["image"].as_str().is_some_and(|i| !i.is_empty()));
    assert!(
        c.get("args").is_none(),
        "args would replace KServe's URI and path"
    );
    let command: Vec<&str> = c["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(&command[..2], ["mlprov", "pull"]);
    assert!(command.contains(&"--key") || command.contains(&"--certificate-identity"));
    assert_eq!(spec["workloadType"], "initContainer");
    let prefixes: Vec<&str> = spec["supportedUriFormats"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["prefix"].as_str())
        .collect();
    assert_eq!(prefixes, ["oci://"]);
    // The image sets what the command reads.
    let containerfile =
        std::fs::read_to_string(repo_root().join(KSERVE).join("Containerfile")).unwrap();
    for path in command.iter().filter(|a| a.starts_with("/etc/mlprov/")) {
        assert!(
            containerfile.contains(path),
            "the Containerfile does not provide {path}"
        );
        let name = path.trim_start_matches("/etc/mlprov/");
        if name == "policy.toml" {
            assert!(repo_root().join(KSERVE).join("trust").join(name).is_file());
        }
    }

    // The InferenceService: a pinned oci:// URI this container serves.
    let isvc = yaml_docs(&repo_root().join(KSERVE).join("inference-service.yaml"));
    assert_eq!(isvc.len(), 1);
    let isvc = &isvc[0];
    assert_eq!(isvc["apiVersion"], "serving.kserve.io/v1beta1");
    assert_eq!(isvc["kind"], "InferenceService");
    let model = &isvc["spec"]["predictor"]["model"];
    assert!(model["modelFormat"]["name"].is_string());
    let uri = model["storageUri"].as_str().unwrap();
    assert!(prefixes.iter().any(|p| uri.starts_with(p)), "{uri}");
    let (_, digest) = uri.split_once("@sha256:").expect("pinned by digest");
    assert!(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()));
    // mlprov reads the URI as a reference.
    let env = TestEnv::new();
    let r = env.run(&env.work(), &["pull", "--help"]).ok();
    assert!(r.stdout.contains("[DIR]"), "{}", r.stdout);
}

#[test]
#[ignore = "needs ../shared/tools"]
fn kserve_storage_container_validates_against_the_published_crd() {
    let Some(bin) = validators() else {
        return;
    };
    let file = repo_root().join("../shared/crds").join(CSC_CRD);
    if !file.is_file() {
        skip(&format!(
            "KServe's CRD schema is missing ({} does not exist)",
            file.display()
        ));
        return;
    }
    let schema = crd_schema(&file, "v1alpha1");
    let tmp = tempfile::tempdir().unwrap();
    let csc = cluster_storage_container();
    let (code, out) = check(&bin, tmp.path(), &schema, &csc);
    assert_eq!(code, 0, "{out}");
    // The check can fail: a misspelt key and a missing required field.
    let mut bad = csc.clone();
    bad["spec"]["supportedUriFormat"] = bad["spec"]["supportedUriFormats"].take();
    bad["spec"]
        .as_object_mut()
        .unwrap()
        .remove("supportedUriFormats");
    let (code, out) = check(&bin, tmp.path(), &schema, &bad);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("supportedUriFormat"), "{out}");
    let mut bad = csc.clone();
    bad["spec"]["container"]["imagePullPolicy"] = serde_json::json!(3);
    let (code, _) = check(&bin, tmp.path(), &schema, &bad);
    assert_ne!(code, 0);
}
