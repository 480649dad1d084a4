//! Every `--format json` document the suite produces is checked against
//! the JSON Schema committed for its command under `schemas/` (with the
//! `jsonschema` crate, not mlprov's own types). A failing command must
//! print the error document (`schemas/error.json`) instead of nothing.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;

use super::env::Run;

/// The subcommand a command line runs, and whether it asks for JSON.
pub fn json_command(cmd: &Command) -> Option<String> {
    let mut args: Vec<String> = Vec::new();
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut seen_bin = program == super::env::bin();
    for a in cmd.get_args() {
        let a = a.to_string_lossy().into_owned();
        if !seen_bin {
            seen_bin = a == super::env::bin();
            continue;
        }
        args.push(a);
    }
    if !seen_bin {
        return None;
    }
    let env_json = cmd
        .get_envs()
        .any(|(k, v)| k == "MLPROV_FORMAT" && v.is_some_and(|v| v == "json"));
    let mut json = env_json;
    let mut sub = None;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            break;
        }
        if a == "--format" {
            json = args.get(i + 1).is_some_and(|f| f == "json");
            i += 2;
            continue;
        }
        if let Some(f) = a.strip_prefix("--format=") {
            json = f == "json";
        } else if a == "-C" {
            i += 2;
            continue;
        } else if sub.is_none() && !a.starts_with('-') {
            sub = Some(a.clone());
        }
        i += 1;
    }
    if json { sub } else { None }
}

/// The compiled schemas, by document name (`schemas/NAME.json`).
fn validators() -> &'static BTreeMap<String, jsonschema::Validator> {
    static V: OnceLock<BTreeMap<String, jsonschema::Validator>> = OnceLock::new();
    V.get_or_init(|| {
        let dir = super::repo_root().join("schemas");
        let mut out = BTreeMap::new();
        for e in std::fs::read_dir(&dir).expect("schemas/") {
            let p = e.expect("entry").path();
            let Some(name) = p.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                continue;
            };
            let text = std::fs::read_to_string(&p).expect("read schema");
            let schema: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", p.display()));
            let v = jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("{}: not a JSON Schema: {e}", p.display()));
            out.insert(name, v);
        }
        out
    })
}

/// Check the document `run` printed, if its command asked for JSON.
pub fn check(cmd: &Command, run: &Run) {
    let Some(sub) = json_command(cmd) else {
        return;
    };
    let validators = validators();
    // Commands without a document (completions, man, schema) print what
    // they print.
    if !validators.contains_key(&sub) {
        return;
    }
    // clap refuses a command line before mlprov runs (exit 2, usage on
    // stderr): there is no document.
    if run.code == 2 && run.stdout.is_empty() && run.stderr.starts_with("error:") {
        return;
    }
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "`mlprov {sub} --format json` (exit {}) did not print one JSON document: {e}\nstdout:\n{}\nstderr:\n{}",
            run.code, run.stdout, run.stderr
        )
    });
    let name = if doc.get("error").is_some() && !validators[&sub].is_valid(&doc) {
        "error"
    } else {
        sub.as_str()
    };
    let errors: Vec<String> = validators[name]
        .iter_errors(&doc)
        .map(|e| format!("  {} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "`mlprov {sub} --format json` printed a document that does not match schemas/{name}.json:\n{}\ndocument:\n{}",
        errors.join("\n"),
        run.stdout
    );
}
