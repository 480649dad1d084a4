//! The statements `mlprov attest` signs: the build's provenance as written,
//! the SBOM wrapped in a statement, any predicate about the built artifact,
//! and import provenance for a third-party input in the lock.

use std::collections::BTreeMap;

use serde_json::json;

use crate::intoto::{
    BUILD_TYPE_IMPORT, BUILDER_LOCAL, BuildDefinition, Builder, PREDICATE_SLSA_PROVENANCE,
    Provenance, ResourceDescriptor, RunDetails, STATEMENT_TYPE, Statement,
};
use crate::lockfile::LockedInput;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AttestError {
    #[error("{file}: not an in-toto Statement v1: {reason}")]
    #[diagnostic(
        code(mlprov::attest::statement),
        help("`mlprov build` writes it; run it again to regenerate the file")
    )]
    NotStatement { file: String, reason: String },

    #[error("{file}: predicateType is `{found}`, expected `{expected}`")]
    #[diagnostic(code(mlprov::attest::predicate_type))]
    PredicateType {
        file: String,
        found: String,
        expected: String,
    },

    #[error("{file}: has no subject with a sha256 digest to attest about")]
    #[diagnostic(code(mlprov::attest::no_subject))]
    NoSubject { file: String },

    #[error("{file}: not JSON: {reason}")]
    #[diagnostic(
        code(mlprov::attest::predicate),
        help("a predicate is a JSON document (an object)")
    )]
    NotJson { file: String, reason: String },

    #[error("`{uri}` is not an absolute URI for a predicate type")]
    #[diagnostic(
        code(mlprov::attest::type_uri),
        help("predicate types are URIs, e.g. https://example.com/eval-results/v1")
    )]
    TypeUri { uri: String },
}

/// Parse a statement file and check its predicate type; returns it with the
/// exact bytes to sign unchanged.
pub fn read_statement(
    bytes: &[u8],
    file: &str,
    expected_type: &str,
) -> Result<Statement, AttestError> {
    let st: Statement = serde_json::from_slice(bytes).map_err(|e| AttestError::NotStatement {
        file: file.to_string(),
        reason: e.to_string(),
    })?;
    if st.type_ != STATEMENT_TYPE {
        return Err(AttestError::NotStatement {
            file: file.to_string(),
            reason: format!("`_type` is `{}`", st.type_),
        });
    }
    if st.predicate_type != expected_type {
        return Err(AttestError::PredicateType {
            file: file.to_string(),
            found: st.predicate_type,
            expected: expected_type.to_string(),
        });
    }
    if !st.subject.iter().any(|s| s.sha256_digest().is_some()) {
        return Err(AttestError::NoSubject {
            file: file.to_string(),
        });
    }
    Ok(st)
}

/// Parse a predicate document (any JSON object).
pub fn read_predicate(bytes: &[u8], file: &str) -> Result<serde_json::Value, AttestError> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| AttestError::NotJson {
        file: file.to_string(),
        reason: e.to_string(),
    })?;
    if !v.is_object() {
        return Err(AttestError::NotJson {
            file: file.to_string(),
            reason: "the top level is not an object".into(),
        });
    }
    Ok(v)
}

/// Check a predicate type given on the command line.
pub fn check_type_uri(uri: &str) -> Result<(), AttestError> {
    match url::Url::parse(uri) {
        Ok(u) if u.has_host() || u.scheme() == "urn" => Ok(()),
        _ => Err(AttestError::TypeUri {
            uri: uri.to_string(),
        }),
    }
}

/// A statement about `subjects` carrying `predicate`.
pub fn wrap(
    subjects: &[ResourceDescriptor],
    predicate_type: &str,
    predicate: serde_json::Value,
) -> Statement {
    Statement::new(subjects.to_vec(), predicate_type, predicate)
}

/// Import provenance for a locked input: where it came from (source, URI,
/// revision, commit), its license, and every file's digest. The subject is
/// the input's artifact digest.
///
/// The per-file digests are `resolvedDependencies` without a `role`
/// annotation: they are the bytes fetched from the origin, not inputs with
/// attestations of their own.
pub fn import_statement(input: &LockedInput) -> Statement<Provenance> {
    let mut ext = serde_json::Map::new();
    ext.insert("input".into(), json!(input.name));
    ext.insert("role".into(), json!(input.role.as_str()));
    ext.insert("source".into(), json!(input.source));
    ext.insert("uri".into(), json!(input.uri()));
    if let Some(r) = &input.requested {
        ext.insert("requested".into(), json!(r));
    }
    if let Some(c) = &input.commit {
        ext.insert("commit".into(), json!(c));
    }
    if let Some(l) = &input.license {
        ext.insert("license".into(), json!(l));
    }
    if !input.include.is_empty() {
        ext.insert("include".into(), json!(input.include));
    }
    if !input.exclude.is_empty() {
        ext.insert("exclude".into(), json!(input.exclude));
    }
    if !input.datasets.is_empty() {
        ext.insert("datasets".into(), json!(input.datasets));
    }
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
    let mut subject = ResourceDescriptor::sha256(input.name.clone(), &input.digest);
    subject.uri = Some(input.uri());
    let mut version = BTreeMap::new();
    version.insert("mlprov".to_string(), crate::VERSION.to_string());
    Statement::new(
        vec![subject],
        PREDICATE_SLSA_PROVENANCE,
        Provenance {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE_IMPORT.to_string(),
                external_parameters: serde_json::Value::Object(ext),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::FileEntry;
    use crate::digest::Sha256Digest;
    use crate::model::Role;

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
            source: "hf:org/m".into(),
            requested: Some("main".into()),
            commit: Some("c".repeat(40)),
            digest: crate::digest::artifact_digest([("model.safetensors", &f.sha256)]),
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
    }

    #[test]
    fn type_uris() {
        assert!(check_type_uri("https://example.com/eval/v1").is_ok());
        assert!(check_type_uri("eval").is_err());
    }
}
