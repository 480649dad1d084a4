//! The SBOMs of a build: SPDX 3.0.1 ([`spdx3`]) and the CycloneDX 1.6
//! ML-BOM ([`cyclonedx`]), both rendered from [`crate::build::BuildFacts`],
//! and the small vocabulary they share about inputs.

pub mod cyclonedx;
pub mod spdx3;

use crate::lockfile::LockedInput;
use crate::model::{HfKind, Role, Source};

/// A web location for a locked input: the Hub page of the commit, or the
/// URL. Path and OCI inputs have none.
pub fn download_location(i: &LockedInput) -> Option<String> {
    let commit = i.commit.as_deref();
    match (&i.source, commit) {
        (Source::Hf { repo }, Some(c)) => Some(format!("https://huggingface.co/{repo}/tree/{c}")),
        (Source::HfDataset { repo }, Some(c)) => {
            Some(format!("https://huggingface.co/datasets/{repo}/tree/{c}"))
        }
        (Source::Url { url }, _) => Some(url.clone()),
        _ => None,
    }
}

/// The Hub id of an HF input (`org/name`), if it is one.
pub fn hf_repo(i: &LockedInput) -> Option<(&'static str, &str)> {
    match i.source.hf_repo()? {
        (HfKind::Model, r) => Some(("model", r)),
        (HfKind::Dataset, r) => Some(("dataset", r)),
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
    match &i.source {
        Source::Hf { repo } | Source::HfDataset { repo } => repo.clone(),
        Source::Path { path } => path.trim_end_matches('/').to_string(),
        Source::Url { .. } => i
            .files
            .first()
            .map(|f| f.path.clone())
            .unwrap_or_else(|| i.name.clone()),
        Source::Oci { .. } => i.name.clone(),
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

/// The artifact digests (hex) an SBOM that mlprov wrote names: SPDX hashes
/// carrying the OMS root comment (the artifact and its file-set inputs),
/// CycloneDX `mlprov:artifact-digest` properties. Empty for an SBOM mlprov
/// did not write. `attest` uses it to refuse an SBOM of another build.
pub fn artifact_digests(doc: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    fn walk(v: &Value, out: &mut Vec<String>, depth: usize) {
        if depth > 256 {
            return;
        }
        match v {
            Value::Object(m) => {
                if m.get("comment").and_then(Value::as_str) == Some(spdx3::OMS_COMMENT)
                    && let Some(h) = m.get("hashValue").and_then(Value::as_str)
                {
                    out.push(h.to_ascii_lowercase());
                }
                if m.get("name").and_then(Value::as_str) == Some("mlprov:artifact-digest")
                    && let Some(h) = m.get("value").and_then(Value::as_str)
                {
                    out.push(h.trim_start_matches("sha256:").to_ascii_lowercase());
                }
                for x in m.values() {
                    walk(x, out, depth + 1);
                }
            }
            Value::Array(a) => {
                for x in a {
                    walk(x, out, depth + 1);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, &mut out, 0);
    out
}
