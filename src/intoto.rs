//! in-toto Statement v1 and the SLSA v1 provenance predicate, as typed serde
//! structs shared by `build`, `attest`, `sign` and `verify`.
//!
//! Field order in the structs is the order in the JSON, and optional fields
//! are omitted when empty, so documents are byte-stable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

pub const PREDICATE_SLSA_PROVENANCE: &str = "https://slsa.dev/provenance/v1";
pub const PREDICATE_SPDX3: &str = "https://spdx.dev/Document/v3";
pub const PREDICATE_OMS: &str = "https://model_signing/signature/v1.0";
pub const PREDICATE_SCAN: &str = "https://mlprov.dev/scan/v1";
pub const PREDICATE_VSA: &str = "https://slsa.dev/verification_summary/v1";
pub const PREDICATE_CYCLONEDX: &str = "https://cyclonedx.org/bom";

pub const BUILD_TYPE_TRAINING: &str = "https://mlprov.dev/build/training/v1";
pub const BUILD_TYPE_IMPORT: &str = "https://mlprov.dev/build/import/v1";
pub const BUILDER_LOCAL: &str = "https://mlprov.dev/builder/local";

/// An in-toto Statement v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement<P = serde_json::Value> {
    #[serde(rename = "_type")]
    pub type_: String,
    pub subject: Vec<ResourceDescriptor>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: P,
}

impl<P> Statement<P> {
    pub fn new(subject: Vec<ResourceDescriptor>, predicate_type: &str, predicate: P) -> Self {
        Self {
            type_: STATEMENT_TYPE.to_string(),
            subject,
            predicate_type: predicate_type.to_string(),
            predicate,
        }
    }
}

/// An in-toto ResourceDescriptor (subjects, dependencies, byproducts).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResourceDescriptor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(
        default,
        rename = "downloadLocation",
        skip_serializing_if = "Option::is_none"
    )]
    pub download_location: Option<String>,
    #[serde(default, rename = "mediaType", skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, serde_json::Value>,
}

impl ResourceDescriptor {
    /// `{name, digest: {sha256}}`.
    pub fn sha256(name: impl Into<String>, digest: &Sha256Digest) -> Self {
        let mut d = BTreeMap::new();
        d.insert("sha256".to_string(), digest.hex());
        Self {
            name: Some(name.into()),
            digest: d,
            ..Default::default()
        }
    }

    /// The sha256 of this descriptor, if it has a valid one.
    pub fn sha256_digest(&self) -> Option<Sha256Digest> {
        self.digest
            .get("sha256")
            .and_then(|h| Sha256Digest::from_hex(h).ok())
    }
}

/// The SLSA v1 provenance predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    #[serde(rename = "buildDefinition")]
    pub build_definition: BuildDefinition,
    #[serde(rename = "runDetails")]
    pub run_details: RunDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildDefinition {
    #[serde(rename = "buildType")]
    pub build_type: String,
    #[serde(rename = "externalParameters")]
    pub external_parameters: serde_json::Value,
    #[serde(
        default,
        rename = "internalParameters",
        skip_serializing_if = "Option::is_none"
    )]
    pub internal_parameters: Option<serde_json::Value>,
    #[serde(
        default,
        rename = "resolvedDependencies",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetails {
    pub builder: Builder,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BuildMetadata>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byproducts: Vec<ResourceDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Builder {
    pub id: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version: BTreeMap<String, String>,
    #[serde(
        default,
        rename = "builderDependencies",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub builder_dependencies: Vec<ResourceDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildMetadata {
    #[serde(
        default,
        rename = "invocationId",
        skip_serializing_if = "Option::is_none"
    )]
    pub invocation_id: Option<String>,
    #[serde(default, rename = "startedOn", skip_serializing_if = "Option::is_none")]
    pub started_on: Option<String>,
    #[serde(
        default,
        rename = "finishedOn",
        skip_serializing_if = "Option::is_none"
    )]
    pub finished_on: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_shape() {
        let s = Statement::new(
            vec![ResourceDescriptor::sha256("m", &Sha256Digest::empty())],
            PREDICATE_SCAN,
            serde_json::json!({}),
        );
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(
            j,
            r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m","digest":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}],"predicateType":"https://mlprov.dev/scan/v1","predicate":{}}"#
        );
        let back: Statement = serde_json::from_str(&j).unwrap();
        assert_eq!(back.subject[0].sha256_digest(), Some(Sha256Digest::empty()));
    }
}
