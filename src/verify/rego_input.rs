//! The Rego input document of a node (documented in the README, "Rego
//! policies"): a typed struct, built from what the checks proved about one
//! context of the node, outside the walk and the renderers. The node's
//! `depth` and `path` are set once the graph is complete.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::digest::Sha256Digest;
use crate::intoto::{
    PREDICATE_CYCLONEDX, PREDICATE_OMS, PREDICATE_SCAN, PREDICATE_SLSA_PROVENANCE, PREDICATE_SPDX3,
};
use crate::sign::trust::Signer;
use crate::verify::checks::{Facts, Node};
use crate::verify::node::{NodeVerdict, Status};

/// The input document.
#[derive(Debug, Clone, Serialize)]
pub struct RegoInput {
    pub artifact: ArtifactInput,
    pub model: ModelInput,
    pub attestation: AttestationSummary,
    pub attestations: Vec<AttestationInput>,
    pub provenance: Option<Value>,
    pub spdx: Option<Value>,
    /// The CycloneDX BOM with `properties` also as name → value maps.
    pub sbom: Option<Value>,
    pub cyclonedx: Option<Value>,
    pub scan: Option<Value>,
    pub role: String,
    pub node: NodeInput,
    pub depth: u32,
    pub path: Vec<PathEntry>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactInput {
    pub name: Option<String>,
    pub digest: Option<String>,
    pub uri: Option<String>,
    pub manifest_digest: Option<String>,
    pub licenses: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelInput {
    pub name: String,
    pub version: String,
}

/// The seed policies' `input.attestation`.
#[derive(Debug, Clone, Serialize)]
pub struct AttestationSummary {
    pub signature_verified: bool,
    pub sbom_attached: bool,
    pub spdx_attached: bool,
    pub model_signature_verified: bool,
    /// A keyless signer's OIDC identity, else a certificate's subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_oidc_issuer: Option<String>,
    pub predicate_types: Vec<String>,
    /// Each signer of a verified bundle, once.
    pub signers: Vec<Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationInput {
    pub predicate_type: Option<String>,
    pub source: String,
    pub bundle_digest: String,
    pub signer: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeInput {
    pub role: String,
    pub depth: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct PathEntry {
    pub id: String,
    pub name: Option<String>,
}

fn signer_value(s: &Signer) -> Value {
    s.to_json()
}

/// What the document says the node is.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    pub name: Option<&'a str>,
    pub digest: Option<Sha256Digest>,
    pub uri: Option<&'a str>,
    pub manifest_digest: Option<Sha256Digest>,
    /// The role of the context (`artifact` for the root).
    pub role: &'a str,
}

impl<'a> About<'a> {
    /// What the checks saw of a node in one context.
    pub fn of(node: &'a Node<'a>) -> Self {
        About {
            name: node.name,
            digest: node.digest,
            uri: node.uri,
            manifest_digest: node.manifest_digest,
            role: &node.rules.role,
        }
    }
}

impl RegoInput {
    /// The document for one context of a node (depth 0, an empty path:
    /// see [`RegoInput::place`]).
    pub fn new(node: &About<'_>, v: &NodeVerdict, facts: &Facts) -> Self {
        let first = |t: &str| v.statements(t).next().map(|s| s.predicate.clone());
        let provenance = first(PREDICATE_SLSA_PROVENANCE);
        let cyclonedx = first(PREDICATE_CYCLONEDX);
        let spdx = first(PREDICATE_SPDX3);
        let scan = first(PREDICATE_SCAN);
        let verified: Vec<_> = v
            .attestations
            .iter()
            .filter(|a| a.status == Status::Verified)
            .collect();
        let mut signers: Vec<Value> = Vec::new();
        for s in verified.iter().filter_map(|a| a.signer.as_ref()) {
            let j = signer_value(s);
            if !signers.contains(&j) {
                signers.push(j);
            }
        }
        let signers_of = || verified.iter().filter_map(|a| a.signer.as_ref());
        let (certificate_identity, certificate_oidc_issuer) =
            match signers_of().find(|s| matches!(s, Signer::Keyless { .. })) {
                Some(Signer::Keyless {
                    identity, issuer, ..
                }) => (Some(identity.clone()), Some(issuer.clone())),
                _ => match signers_of().find(|s| matches!(s, Signer::Certificate { .. })) {
                    Some(Signer::Certificate { subject, .. }) => (Some(subject.clone()), None),
                    _ => (None, None),
                },
            };
        let (mut name, mut version) = (node.name.map(str::to_string), None::<String>);
        if let Some(p) = &provenance {
            let ext = &p["buildDefinition"]["externalParameters"];
            if let Some(n) = ext["artifact"]["name"].as_str() {
                name = Some(n.to_string());
            }
            if let Some(n) = ext["artifact"]["version"].as_str() {
                version = Some(n.to_string());
            }
            if version.is_none()
                && let Some(c) = ext["commit"].as_str()
            {
                version = Some(c.to_string());
            }
        }
        if let Some(c) = &cyclonedx {
            let comp = &c["metadata"]["component"];
            if name.is_none() {
                name = comp["name"].as_str().map(str::to_string);
            }
            if version.is_none() {
                version = comp["version"].as_str().map(str::to_string);
            }
        }
        let role = node.role.to_string();
        RegoInput {
            artifact: ArtifactInput {
                name: node.name.map(str::to_string),
                digest: node.digest.map(|d| d.prefixed()),
                uri: node.uri.map(str::to_string),
                manifest_digest: node.manifest_digest.map(|d| d.prefixed()),
                licenses: facts.licenses.clone(),
            },
            model: ModelInput {
                name: name.unwrap_or_default(),
                version: version.unwrap_or_default(),
            },
            attestation: AttestationSummary {
                signature_verified: node.digest.is_some() && !verified.is_empty(),
                sbom_attached: cyclonedx.is_some(),
                spdx_attached: spdx.is_some(),
                model_signature_verified: v.proven.contains(PREDICATE_OMS),
                certificate_identity,
                certificate_oidc_issuer,
                predicate_types: v.proven.iter().cloned().collect(),
                signers,
            },
            attestations: verified
                .iter()
                .map(|a| AttestationInput {
                    predicate_type: a.predicate_type.clone(),
                    source: a.source.clone(),
                    bundle_digest: a.bundle_digest.prefixed(),
                    signer: a.signer.as_ref().map(signer_value),
                })
                .collect(),
            provenance,
            spdx,
            sbom: cyclonedx.as_ref().map(properties_as_maps),
            cyclonedx,
            scan,
            node: NodeInput {
                role: role.clone(),
                depth: 0,
            },
            role,
            depth: 0,
            path: Vec::new(),
        }
    }

    /// Where the node sits: its depth and the chain from the root to it.
    pub fn place(&mut self, depth: u32, path: Vec<PathEntry>) {
        self.depth = depth;
        self.node.depth = depth;
        self.path = path;
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// CycloneDX `properties` arrays as `name → value` maps (the first value
/// of a repeated name wins), at every level.
pub fn properties_as_maps(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                if k == "properties"
                    && let Some(arr) = x.as_array()
                    && arr.iter().all(|p| p["name"].is_string())
                {
                    let mut props = Map::new();
                    for p in arr {
                        if let Some(n) = p["name"].as_str() {
                            props
                                .entry(n.to_string())
                                .or_insert_with(|| p.get("value").cloned().unwrap_or(Value::Null));
                        }
                    }
                    out.insert(k.clone(), Value::Object(props));
                } else {
                    out.insert(k.clone(), properties_as_maps(x));
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(properties_as_maps).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn properties_become_maps() {
        let v = json!({"properties": [{"name": "training-commit", "value": "abc"}, {"name": "training-commit", "value": "x"}],
                       "components": [{"properties": [{"name": "a", "value": "1"}]}]});
        let m = properties_as_maps(&v);
        assert_eq!(m["properties"]["training-commit"], "abc");
        assert_eq!(m["components"][0]["properties"]["a"], "1");
    }

    #[test]
    fn the_documented_fields() {
        use crate::verify::checks::testing::*;
        let w = World::new();
        let d = digest("a");
        let prov = w.bundle(&w.platform, &provenance(&d, &[]));
        let g = gathered(d, vec![found(&prov)]);
        let policy = w.policy("");
        let rules = policy.context(None, "artifact", &[]);
        let mut node = node_in(&g, &rules, &policy);
        node.name = Some("acme/f");
        let j = crate::verify::checks::judge(&node);
        let mut input = RegoInput::new(&About::of(&node), &j.verdict, &j.facts);
        input.place(
            2,
            vec![PathEntry {
                id: "sha256:r".into(),
                name: Some("root".into()),
            }],
        );
        let v = input.to_value();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "artifact",
                "model",
                "attestation",
                "attestations",
                "provenance",
                "spdx",
                "sbom",
                "cyclonedx",
                "scan",
                "role",
                "node",
                "depth",
                "path"
            ]
        );
        assert_eq!(v["attestation"]["signature_verified"], true);
        assert_eq!(
            v["attestation"]["predicate_types"],
            json!(["https://slsa.dev/provenance/v1"])
        );
        assert!(v["attestation"].get("certificate_identity").is_none());
        assert_eq!(v["node"], json!({"role": "artifact", "depth": 2}));
        assert_eq!(v["path"][0]["name"], "root");
        assert_eq!(v["artifact"]["digest"], d.prefixed());
        assert!(v["artifact"].get("manifestDigest").is_some());
    }
}
