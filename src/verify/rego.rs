//! Rego policies (`verify --policy FILE.rego`), evaluated with regorus for
//! every node of the graph on the input document [`super::graph`] builds
//! (documented in the README, "Rego policies").
//!
//! The query (`--policy-query`, default `data.mlprov.deny`) names a rule
//! whose value is a set (or array) of messages; each message is a finding
//! (`E0406 policy-denied`). A query that names no rule in the loaded
//! policies is an error before anything is verified, so a typo cannot make
//! a policy pass silently. A rule that evaluates to something other than a
//! collection, or an evaluation error, fails the node (`E0407`).

use std::path::Path;

/// The default query.
pub const DEFAULT_QUERY: &str = "data.mlprov.deny";

/// Loaded Rego modules and the query to run.
#[derive(Debug, Clone)]
pub struct RegoPolicy {
    engine: regorus::Engine,
    pub query: String,
    /// The files, for reports.
    pub files: Vec<String>,
}

/// A Rego problem found before verification (exit 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RegoError {
    #[error("cannot read {path}: {source}")]
    #[diagnostic(code(mlprov::policy::io))]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    #[diagnostic(
        code(mlprov::policy::rego),
        help(
            "the policy must be valid Rego (v1 syntax; `import future.keywords…` and `import rego.v1` are accepted)"
        )
    )]
    Parse { path: String, message: String },
    #[error("--policy-query {query}: {message}")]
    #[diagnostic(
        code(mlprov::policy::query),
        help(
            "name a rule of a loaded package, e.g. data.model.deployment.deny for `package model.deployment` with `deny contains msg if {{ … }}`"
        )
    )]
    Query { query: String, message: String },
}

/// The outcome of one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The deny messages (empty: allowed).
    Denied(Vec<String>),
    /// The policy could not be evaluated for this input.
    Error(String),
}

impl RegoPolicy {
    /// Load `.rego` files and check that `query` names a rule in them.
    pub fn load(files: &[&Path], query: &str) -> Result<Self, RegoError> {
        let mut engine = regorus::Engine::new();
        let mut names = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(f).map_err(|source| RegoError::Io {
                path: f.display().to_string(),
                source,
            })?;
            engine
                .add_policy(f.display().to_string(), text)
                .map_err(|e| RegoError::Parse {
                    path: f.display().to_string(),
                    message: e.to_string(),
                })?;
            names.push(f.display().to_string());
        }
        let mut p = Self {
            engine,
            query: query.to_string(),
            files: names,
        };
        // The rule must exist: evaluating a missing rule is an error, an
        // existing partial set with no members is an empty set.
        let mut probe = p.engine.clone();
        probe.set_input(regorus::Value::new_object());
        if let Err(e) = probe.eval_rule(query.to_string()) {
            let msg = e.to_string();
            // Runtime errors on an empty input are fine here; only a missing
            // rule or a malformed path is refused.
            if msg.contains("not a valid rule path")
                || msg.contains("not found")
                || msg.contains("no rule")
                || msg.contains("invalid")
            {
                return Err(RegoError::Query {
                    query: query.to_string(),
                    message: msg,
                });
            }
        }
        p.engine.set_strict_builtin_errors(false);
        Ok(p)
    }

    /// Evaluate the query on one input document.
    pub fn evaluate(&self, input: &serde_json::Value) -> Outcome {
        let mut engine = self.engine.clone();
        let json = input.to_string();
        let value = match regorus::Value::from_json_str(&json) {
            Ok(v) => v,
            Err(e) => return Outcome::Error(format!("input document: {e}")),
        };
        engine.set_input(value);
        let result = match engine.eval_rule(self.query.clone()) {
            Ok(v) => v,
            Err(e) => return Outcome::Error(e.to_string()),
        };
        if result == regorus::Value::Undefined {
            // A partial set rule whose body never matched.
            return Outcome::Denied(Vec::new());
        }
        let json = match result.to_json_str() {
            Ok(j) => j,
            Err(e) => return Outcome::Error(e.to_string()),
        };
        let v: serde_json::Value = match serde_json::from_str(&json) {
            Ok(v) => v,
            Err(e) => return Outcome::Error(e.to_string()),
        };
        match v {
            serde_json::Value::Array(items) => {
                let mut msgs: Vec<String> = items
                    .into_iter()
                    .map(|m| match m {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    })
                    .collect();
                msgs.sort();
                msgs.dedup();
                Outcome::Denied(msgs)
            }
            other => Outcome::Error(format!("{} is {other}, not a set of messages", self.query)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SEED: &str = r#"package model.deployment

import future.keywords.if
import future.keywords.contains

deny contains msg if {
    not input.attestation.signature_verified
    msg := sprintf("Model %v:%v has no verified cosign signature.", [input.model.name, input.model.version])
}

deny contains msg if {
    input.attestation.sbom_attached
    not input.sbom.properties["training-commit"]
    msg := sprintf("Model %v:%v SBOM does not record the training commit SHA.", [input.model.name, input.model.version])
}

deny contains msg if {
    input.attestation.sbom_attached
    base_model := input.sbom.components[_]
    base_model["bom-ref"] == "base-model"
    ref := base_model.externalReferences[_]
    not regex.match(`revision:[a-f0-9]{40}`, ref.comment)
    msg := "unpinned"
}

deny contains msg if {
    input.attestation.signature_verified
    not startswith(input.attestation.certificate_identity, "https://github.com/example-org/")
    msg := sprintf("signed by %v", [input.attestation.certificate_identity])
}
"#;

    fn load(text: &str, query: &str) -> Result<RegoPolicy, RegoError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.rego");
        std::fs::write(&p, text).unwrap();
        RegoPolicy::load(&[&p], query)
    }

    #[test]
    fn seed_style_policy() {
        let p = load(SEED, "data.model.deployment.deny").unwrap();
        let good = json!({
            "model": {"name": "m", "version": "1"},
            "attestation": {"signature_verified": true, "sbom_attached": true},
            "sbom": {"properties": {"training-commit": "abc"}, "components": [
                {"bom-ref": "base-model", "externalReferences": [{"comment": format!("revision:{}", "a".repeat(40))}]}
            ]},
        });
        assert_eq!(p.evaluate(&good), Outcome::Denied(vec![]));
        let mut bad = good.clone();
        bad["sbom"]["properties"] = json!({});
        bad["sbom"]["components"][0]["externalReferences"][0]["comment"] = json!("revision:main");
        let Outcome::Denied(m) = p.evaluate(&bad) else {
            panic!()
        };
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].contains("training commit"), "{m:?}");
        let mut unsigned = good.clone();
        unsigned["attestation"]["signature_verified"] = json!(false);
        let Outcome::Denied(m) = p.evaluate(&unsigned) else {
            panic!()
        };
        assert_eq!(m, ["Model m:1 has no verified cosign signature."]);
        // A keyless identity outside the prefix is denied.
        let mut other = good.clone();
        other["attestation"]["certificate_identity"] = json!("https://github.com/evil/x");
        let Outcome::Denied(m) = p.evaluate(&other) else {
            panic!()
        };
        assert_eq!(m, ["signed by https://github.com/evil/x"]);
    }

    #[test]
    fn missing_rule_is_refused() {
        assert!(load(SEED, "data.model.deployment.dney").is_err());
        assert!(load(SEED, "data.mlprov.deny").is_err());
        assert!(load("package x\n\ndeny contains 1 if {", "data.x.deny").is_err());
    }

    #[test]
    fn non_collections_are_errors() {
        let p = load("package x\n\ndeny := 3\n", "data.x.deny").unwrap();
        assert!(matches!(p.evaluate(&json!({})), Outcome::Error(_)));
    }
}
