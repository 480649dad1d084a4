//! The SLSA Verification Summary (`https://slsa.dev/verification_summary/v1`)
//! of a graph verification, about the root artifact.
//!
//! - the subjects are the root artifact (by artifact digest) and, when it
//!   was verified from a registry, its OCI manifest;
//! - `verifier.id` is [`VERIFIER_ID`], with mlprov's version;
//! - `resourceUri` is what was verified (the registry reference pinned to
//!   its manifest digest, the path, or the digest);
//! - `policy` names the policy (file and SHA-256) when one was used;
//! - `inputAttestations` lists every attestation that verified, anywhere in
//!   the graph, by its bundle digest;
//! - `verifiedLevels` is `SLSA_BUILD_LEVEL_1` when the root's provenance
//!   verified (mlprov's builders are not hardened build platforms, so it
//!   never claims more), else `SLSA_BUILD_LEVEL_0`;
//! - `dependencyLevels` counts the dependencies (every node but the root)
//!   at each level, on the same rule.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::intoto::{PREDICATE_SLSA_PROVENANCE, PREDICATE_VSA, ResourceDescriptor, Statement};
use crate::verify::model::{Graph, GraphNode, NodeKind};
use crate::verify::node::Status;

pub const VERIFIER_ID: &str = "https://mlprov.dev/verifier/mlprov";

fn level(n: &GraphNode) -> &'static str {
    if n.verified() && n.proven().contains(PREDICATE_SLSA_PROVENANCE) {
        "SLSA_BUILD_LEVEL_1"
    } else {
        "SLSA_BUILD_LEVEL_0"
    }
}

/// What the VSA says about the policy.
pub struct PolicyRef {
    pub uri: String,
    pub sha256: Option<crate::digest::Sha256Digest>,
}

/// The VSA statement for a verified graph. `manifest` is the OCI manifest
/// the root was resolved from (`verify REF`): the verifier checked that its
/// layers are the verified files, so the VSA names it too, and admission
/// gates, which look attestations up by manifest digest, find it.
pub fn statement(
    g: &Graph,
    resource_uri: &str,
    policy: Option<&PolicyRef>,
    time_verified: &str,
    manifest: Option<ResourceDescriptor>,
) -> Statement {
    let root = g.root();
    let mut subject = match root.digest {
        Some(d) => vec![ResourceDescriptor::sha256(
            root.name.clone().unwrap_or_else(|| d.prefixed()),
            &d,
        )],
        None => Vec::new(),
    };
    subject.extend(manifest);
    let mut inputs: BTreeMap<String, String> = BTreeMap::new();
    for n in &g.nodes {
        for a in n.verdict.iter().flat_map(|v| v.attestations.iter()) {
            if matches!(a.status, Status::Verified) {
                inputs
                    .entry(a.bundle_digest.hex())
                    .or_insert_with(|| a.source.clone());
            }
        }
    }
    let mut input_attestations: Vec<(String, String)> =
        inputs.into_iter().map(|(d, uri)| (uri, d)).collect();
    input_attestations.sort();
    let mut deps: BTreeMap<&str, u64> = BTreeMap::new();
    for n in g.nodes.iter().skip(1) {
        if n.kind == NodeKind::Artifact {
            *deps.entry(level(n)).or_default() += 1;
        }
    }
    let passed = g.verified();
    let mut predicate = json!({
        "verifier": {"id": VERIFIER_ID, "version": {"mlprov": crate::VERSION}},
        "timeVerified": time_verified,
        "resourceUri": resource_uri,
        "inputAttestations": input_attestations.iter().map(|(uri, d)| json!({
            "uri": uri,
            "digest": {"sha256": d},
        })).collect::<Vec<_>>(),
        "verificationResult": if passed { "PASSED" } else { "FAILED" },
        "verifiedLevels": [if passed { level(root) } else { "SLSA_BUILD_LEVEL_0" }],
        "dependencyLevels": deps,
        "slsaVersion": "1.0",
    });
    if let Some(p) = policy {
        let mut d = serde_json::Map::new();
        if let Some(s) = p.sha256 {
            d.insert("sha256".into(), Value::String(s.hex()));
        }
        predicate["policy"] = json!({"uri": p.uri, "digest": d});
    }
    Statement::new(subject, PREDICATE_VSA, predicate)
}

/// The VSA's `timeVerified`, read back from its bundle.
pub fn time_verified(bundle: &[u8]) -> Option<String> {
    use base64::Engine as _;
    let v: serde_json::Value = serde_json::from_slice(bundle).ok()?;
    let payload = v.pointer("/dsseEnvelope/payload")?.as_str()?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .ok()?;
    let st: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    st.pointer("/predicate/timeVerified")?
        .as_str()
        .map(str::to_string)
}
