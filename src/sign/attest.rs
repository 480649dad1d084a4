//! The statements `mlprov attest` signs: the build's provenance as written,
//! the SBOM wrapped in a statement and any predicate about the built
//! artifact. (Import provenance for a locked input is written by
//! [`crate::provenance::import_statement`].)

use crate::intoto::{ResourceDescriptor, STATEMENT_TYPE, Statement};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AttestError {
    #[error("{file}: not an in-toto Statement v1: {reason}")]
    #[diagnostic(
        code(mlprov::attest::statement),
        help("`mlprov build` writes it; run it again to regenerate the file")
    )]
    NotStatement { file: String, reason: String },

    #[error("{file}: predicateType is `{found}`, expected `{expected}`")]
    #[diagnostic(code("mlprov::attest::predicate-type"))]
    PredicateType {
        file: String,
        found: String,
        expected: String,
    },

    #[error("{file}: has no subject with a sha256 digest to attest about")]
    #[diagnostic(code("mlprov::attest::no-subject"))]
    NoSubject { file: String },

    #[error("{file}: not JSON: {reason}")]
    #[diagnostic(
        code(mlprov::attest::predicate),
        help("a predicate is a JSON document (an object)")
    )]
    NotJson { file: String, reason: String },

    #[error("`{uri}` is not an absolute URI for a predicate type")]
    #[diagnostic(
        code("mlprov::attest::type-uri"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_uris() {
        assert!(check_type_uri("https://example.com/eval/v1").is_ok());
        assert!(check_type_uri("eval").is_err());
    }
}
