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
//!
//! The engine runs as OPA does where it matters for a deny rule: every
//! builtin regorus has but network access (`http.send` is not there, so a
//! policy using it fails closed), OPA's `crypto.*` digests and HMACs,
//! `glob.match` with OPA's pattern syntax, and
//! strict builtin errors: a builtin that fails (a type error, a bad
//! `sprintf` verb) fails the node instead of making a deny rule undefined.
//! [`guard`] keeps a policy from hanging or crashing `verify`.

mod crypto;
mod glob;
pub mod guard;

use std::path::Path;
use std::time::Duration;

use crate::limits::Limit;

/// The default query.
pub const DEFAULT_QUERY: &str = "data.mlprov.deny";

// A policy file's size, lines and line length, and how long parsing and one
// evaluation (one node) may take, are `Limit::PolicyBytes`, `PolicyLines`,
// `PolicyColumns`, `RegoParseSeconds` and `RegoEvalSeconds`
// (crate::limits; the defaults are regorus's, except a longer line).
/// The stack of the thread that parses and evaluates: regorus recurses on
/// it for every nested expression, rule and function, which
/// [`guard::MAX_NESTING`] and [`guard::MAX_CALL_DEPTH`] bound.
const STACK_BYTES: usize = 256 * 1024 * 1024;

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
    #[error("{path}: {message}")]
    #[diagnostic(
        code(mlprov::policy::limit),
        help(
            "mlprov refuses Rego that could hang or crash verification (the limits are in the README, \"Limits\"): a file's size, lines and line length and the parse and evaluation times can be raised with MLPROV_MAX_POLICY_BYTES, MLPROV_MAX_POLICY_LINES, MLPROV_MAX_POLICY_COLUMNS, MLPROV_REGO_PARSE_TIMEOUT and MLPROV_REGO_EVAL_TIMEOUT; nesting and rule chains cannot: split deep literals into rules, turn long rule chains into data"
        )
    )]
    Limit { path: String, message: String },
    #[error("{path}: function {} is recursive: {}", .chain[0], .chain.join(" -> "))]
    #[diagnostic(
        code(mlprov::policy::recursion),
        help(
            "Rego does not allow recursion (OPA refuses it as rego_recursion_error); walk nested data with `walk` or `graph.reachable` instead"
        )
    )]
    Recursion { path: String, chain: Vec<String> },
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

/// Run `f` on a thread with a stack large enough for what [`guard`] lets
/// through, waiting at most `limit`. `None`: it did not finish in time (the
/// thread is left to finish on its own; the caller fails).
fn on_big_stack<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("rego".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let _ = tx.send(f());
        });
    match spawned {
        Ok(_) => rx.recv_timeout(limit).ok(),
        Err(_) => None,
    }
}

fn new_engine() -> regorus::Engine {
    use std::num::{NonZeroU32, NonZeroUsize};
    let mut engine = regorus::Engine::new();
    engine.set_policy_length_config(regorus::utils::limits::PolicyLengthConfig {
        max_col: NonZeroU32::new(u32::try_from(Limit::PolicyColumns.get()).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MIN),
        max_file_bytes: NonZeroUsize::new(Limit::PolicyBytes.count()).unwrap_or(NonZeroUsize::MIN),
        max_lines: NonZeroUsize::new(Limit::PolicyLines.count()).unwrap_or(NonZeroUsize::MIN),
    });
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: Limit::RegoEvalSeconds.duration(),
        check_interval: NonZeroU32::new(64).expect("non-zero"),
    });
    engine.set_strict_builtin_errors(true);
    crypto::register(&mut engine);
    // Added to a fresh engine once: cannot fail.
    let _ = engine.add_extension("glob.match".into(), 3, Box::new(glob::glob_match));
    engine
}

/// Read one policy file, refusing what the limits do not allow before
/// anything is parsed.
fn read_policy(f: &Path) -> Result<String, RegoError> {
    use std::io::Read;
    let path = f.display().to_string();
    let io = |source| RegoError::Io {
        path: path.clone(),
        source,
    };
    let file = std::fs::File::open(f).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(RegoError::Limit {
            path,
            message: "not a regular file".into(),
        });
    }
    let mut text = String::new();
    file.take(Limit::PolicyBytes.get().saturating_add(1))
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > Limit::PolicyBytes.get() {
        return Err(RegoError::Limit {
            path,
            message: format!(
                "the file is larger than the limit of {} ({})",
                Limit::PolicyBytes.shown(),
                Limit::PolicyBytes.named()
            ),
        });
    }
    if let Some((line, col)) = guard::nesting_violation(&text) {
        return Err(RegoError::Limit {
            path,
            message: format!(
                "line {line}, column {col}: `[` and `{{` are nested more than {} deep (the limit)",
                guard::MAX_NESTING
            ),
        });
    }
    Ok(text)
}

impl RegoPolicy {
    /// Load `.rego` files and check that `query` names a rule in them.
    pub fn load(files: &[&Path], query: &str) -> Result<Self, RegoError> {
        let mut texts = Vec::new();
        for f in files {
            texts.push((f.display().to_string(), read_policy(f)?));
        }
        let names: Vec<String> = texts.iter().map(|(n, _)| n.clone()).collect();
        let all = names.join(", ");
        // Parse on the big stack, within the time limit.
        let parsed = on_big_stack(Limit::RegoParseSeconds.duration(), move || {
            let mut engine = new_engine();
            for (name, text) in texts {
                if let Err(e) = engine.add_policy(name.clone(), text) {
                    return Err(RegoError::Parse {
                        path: name,
                        message: e.to_string(),
                    });
                }
            }
            Ok(engine)
        });
        let engine = match parsed {
            Some(r) => r?,
            None => {
                return Err(RegoError::Limit {
                    path: all,
                    message: format!(
                        "parsing took longer than the limit of {} ({})",
                        Limit::RegoParseSeconds.shown(),
                        Limit::RegoParseSeconds.named()
                    ),
                });
            }
        };
        Self::check_calls(&engine, &all)?;
        let mut p = Self {
            engine,
            query: query.to_string(),
            files: names,
        };
        // The rule must exist: evaluating a missing rule is an error, an
        // existing partial set with no members is an empty set. The probe
        // also prepares the engine (rule scheduling) once for every clone.
        let mut engine = p.engine.clone();
        let q = query.to_string();
        let probed = on_big_stack(
            Limit::RegoEvalSeconds.duration() + Duration::from_secs(1),
            move || {
                engine.set_input(regorus::Value::new_object());
                let r = engine.eval_rule(q).map(|_| ()).map_err(|e| e.to_string());
                (engine, r)
            },
        );
        let Some((engine, result)) = probed else {
            return Err(RegoError::Limit {
                path: all,
                message: format!(
                    "evaluating {query} on an empty input took longer than the limit of {} ({})",
                    Limit::RegoEvalSeconds.shown(),
                    Limit::RegoEvalSeconds.named()
                ),
            });
        };
        if let Err(msg) = result {
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
        p.engine = engine;
        Ok(p)
    }

    /// Recursion and call depth, on the parsed modules.
    fn check_calls(engine: &regorus::Engine, all: &str) -> Result<(), RegoError> {
        let limit = |message: String| RegoError::Limit {
            path: all.to_string(),
            message,
        };
        let json = engine
            .get_ast_as_json()
            .map_err(|e| limit(format!("cannot inspect the parsed policy: {e}")))?;
        let ast: serde_json::Value = serde_json::from_str(&json).map_err(|e| {
            limit(format!(
                "the parsed policy is nested too deeply to check for recursion ({e})"
            ))
        })?;
        match guard::check_calls(&ast) {
            Ok(()) => Ok(()),
            Err(guard::CallProblem::Recursive(chain)) => Err(RegoError::Recursion {
                path: all.to_string(),
                chain,
            }),
            Err(guard::CallProblem::TooDeep(chain)) => Err(limit(format!(
                "a chain of {} rules and functions ({} -> … -> {}) is longer than the limit of {}",
                chain.len(),
                chain[0],
                chain[chain.len() - 1],
                guard::MAX_CALL_DEPTH
            ))),
        }
    }

    /// Evaluate the query on one input document.
    pub fn evaluate(&self, input: &serde_json::Value) -> Outcome {
        let json = input.to_string();
        let value = match regorus::Value::from_json_str(&json) {
            Ok(v) => v,
            Err(e) => return Outcome::Error(format!("input document: {e}")),
        };
        let mut engine = self.engine.clone();
        let query = self.query.clone();
        // The engine's timer stops evaluation at the limit; the wait is a
        // little longer so that its error, not ours, is the one reported.
        let ran = on_big_stack(
            Limit::RegoEvalSeconds.duration() + Duration::from_secs(5),
            move || {
                engine.set_input(value);
                engine.eval_rule(query).map_err(|e| e.to_string())
            },
        );
        let result = match ran {
            None => {
                return Outcome::Error(format!(
                    "evaluation took longer than the limit of {} ({})",
                    Limit::RegoEvalSeconds.shown(),
                    Limit::RegoEvalSeconds.named()
                ));
            }
            Some(Err(e)) if e.contains("exceeded time limit") => {
                return Outcome::Error(format!(
                    "evaluation took longer than the limit of {} ({}; {e})",
                    Limit::RegoEvalSeconds.shown(),
                    Limit::RegoEvalSeconds.named()
                ));
            }
            Some(Err(e)) => return Outcome::Error(e),
            Some(Ok(v)) => v,
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
    fn the_longest_chain_allowed_fits_on_the_stack() {
        // guard::MAX_CALL_DEPTH functions, each calling the next from inside
        // an expression nested as deep as the parser allows: evaluation must
        // finish (a stack overflow would abort the test process).
        let mut text = String::from("package x\n\n");
        let n = guard::MAX_CALL_DEPTH - 2;
        let nest = 28;
        for i in 0..n {
            text.push_str(&format!(
                "f{i}(v) := {}f{}(v){}\n",
                "(1 + ".repeat(nest),
                i + 1,
                " - 1)".repeat(nest)
            ));
        }
        text.push_str(&format!(
            "f{n}(v) := v\ndeny contains m if {{ m := sprintf(\"%v\", [f0(input.v)]) }}\n"
        ));
        let p = load(&text, "data.x.deny").unwrap();
        assert_eq!(
            p.evaluate(&json!({"v": 7})),
            Outcome::Denied(vec!["7".into()])
        );
    }

    #[test]
    fn strict_builtin_errors_fail_closed() {
        let p = load(
            "package x\n\ndeny contains sprintf(\"lr %d\", [input.lr]) if input.lr < 0.001\n",
            "data.x.deny",
        )
        .unwrap();
        let Outcome::Error(e) = p.evaluate(&json!({"lr": 0.0005})) else {
            panic!("a sprintf error must not pass")
        };
        assert!(e.contains("format verb"), "{e}");
    }

    #[test]
    fn non_collections_are_errors() {
        let p = load("package x\n\ndeny := 3\n", "data.x.deny").unwrap();
        assert!(matches!(p.evaluate(&json!({})), Outcome::Error(_)));
    }
}
