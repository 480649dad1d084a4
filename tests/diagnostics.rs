//! Every diagnostic code in `src/` is registered in `src/diagnostics.rs`
//! with its exit status and meaning, and every registered code is used.
//! The list is a snapshot: a new, renamed or re-classified code is a
//! visible diff.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use mlprov::diagnostics::{CODES, Exit};

use crate::common::repo_root;

fn rs_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Code → the files that use it: `code(mlprov::…)`, `code("mlprov::…")`,
/// `code = "mlprov::…"`, any other `"mlprov::…"` literal, and the manifest
/// validator's `problem("…")` (reported as `mlprov::manifest::…`). Unit
/// tests are left out.
fn used() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo_root().join("src");
    let mut files = Vec::new();
    rs_files(&src, &mut files);
    let attr = regex::Regex::new(r"code\(\s*(mlprov(?:::[A-Za-z0-9_-]+)+)\s*\)").unwrap();
    let lit = regex::Regex::new(r#""(mlprov(?:::[A-Za-z0-9_-]+)+)""#).unwrap();
    let problem = regex::Regex::new(r#"\.problem\(\s*"([^"]+)""#).unwrap();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in files {
        let rel = p
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "diagnostics.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let text = match text.find("#[cfg(test)]\nmod tests") {
            Some(at) => &text[..at],
            None => &text[..],
        };
        let mut add = |c: String| {
            out.entry(c).or_default().insert(rel.clone());
        };
        for c in attr.captures_iter(text) {
            add(c[1].to_string());
        }
        // (`format!("mlprov::manifest::{}", …)` is not a literal code: the
        // problems below are.)
        for c in lit.captures_iter(text) {
            add(c[1].to_string());
        }
        for c in problem.captures_iter(text) {
            add(format!("mlprov::manifest::{}", &c[1]));
        }
    }
    out
}

#[test]
fn every_code_is_registered_once_and_used() {
    let used = used();
    let registered: BTreeSet<&str> = CODES.iter().map(|c| c.code).collect();
    assert_eq!(registered.len(), CODES.len(), "a code is registered twice");
    let unregistered: Vec<String> = used
        .iter()
        .filter(|(c, _)| !registered.contains(c.as_str()))
        .map(|(c, f)| {
            format!(
                "{c} (in {})",
                f.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    let unused: Vec<&str> = registered
        .iter()
        .filter(|c| !used.contains_key(**c))
        .copied()
        .collect();
    assert!(
        unregistered.is_empty() && unused.is_empty(),
        "src/diagnostics.rs and the codes in src/ disagree.\n\
         used but not registered (add them to CODES with their exit status and meaning): {unregistered:#?}\n\
         registered but not used (delete them): {unused:#?}"
    );
    for c in CODES {
        let kebab = c.code.split("::").all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('-')
                && !seg.ends_with('-')
                && !seg.contains("--")
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
        assert!(kebab, "{} is not kebab-case", c.code);
    }
}

#[test]
fn the_codes_and_their_exit_statuses_are_a_snapshot() {
    let mut list = String::new();
    for c in CODES {
        let exit = match c.exit {
            Exit::Failed => "1",
            Exit::CannotRun => "2",
            Exit::Child => "child",
        };
        list.push_str(&format!("{:<44} {:<5} {}\n", c.code, exit, c.meaning));
    }
    insta::assert_snapshot!("diagnostic_codes", list);
}

/// Under `--format json` a failing command prints the error document on
/// stdout, and the exit status is the one its code is registered with.
#[test]
fn a_failing_command_prints_the_error_document() {
    use crate::common::{ProjectBuilder, TestEnv};
    let env = TestEnv::new();
    let empty = env.work().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    // Cannot run (2): no project.
    let r = env.run(&empty, &["--format", "json", "pin"]).expect_code(2);
    let doc = r.json();
    assert_eq!(doc["version"], 1, "{}", r.stdout);
    assert_eq!(doc["error"]["code"], "mlprov::project::not-found");
    assert_eq!(doc["error"]["exit"], 2);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no mlprov.toml"),
        "{doc}"
    );
    assert!(
        doc["error"]["help"]
            .as_str()
            .unwrap()
            .contains("mlprov init")
    );
    // Human output keeps stdout empty.
    let r = env.run(&empty, &["pin"]).expect_code(2);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.contains("mlprov::project::not-found"),
        "{}",
        r.stderr
    );

    // A check failed (1): inputs that were never pinned.
    let proj = ProjectBuilder::new(env.work().join("p"))
        .input("data", r#"{ path = "data.txt", role = "training-data" }"#)
        .file("data.txt", "x\n")
        .build();
    let r = env
        .run(&proj, &["--format", "json", "build"])
        .expect_code(1);
    let doc = r.json();
    assert_eq!(doc["error"]["code"], "mlprov::build::no-lock", "{doc}");
    assert_eq!(doc["error"]["exit"], 1);
    assert_eq!(
        mlprov::diagnostics::exit_of(Some("mlprov::build::no-lock")),
        Exit::Failed
    );
}
