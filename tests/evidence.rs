//! The documented signing walkthrough on the bundled example, end to end,
//! as a user runs it: a fresh checkout of `examples/finetune`, a fresh
//! `MLPROV_HOME`, the README's commands. Every input gets evidence from
//! `attest`, `verify` proves the whole graph, the evidence travels with the
//! model through `push`, and a machine with an empty `MLPROV_HOME` verifies,
//! draws and pulls the same graph from the registry alone. The `verify` job
//! of `examples/github/train-and-release.yml` runs here too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use crate::registry::server::{PASSWORD, Registry, USER};

const SLSA: &str = "https://slsa.dev/provenance/v1";
const INPUTS: [&str; 4] = [
    "base-model",
    "support-test",
    "support-train",
    "training-config",
];

/// What a fresh clone has of `examples/finetune`: its tracked files (the
/// index of this checkout, read from the work tree), committed in a new git
/// repository so that `build` sees a clean tree.
pub(crate) fn fresh_example(env: &TestEnv) -> PathBuf {
    let root = repo_root();
    let repo = git2::Repository::open(&root).expect("the mlprov checkout is a git repository");
    let index = repo.index().expect("index");
    let dir = env.work().join("finetune");
    let mut copied = 0;
    for e in index.iter() {
        let path = String::from_utf8_lossy(&e.path).to_string();
        let Some(rel) = path.strip_prefix("examples/finetune/") else {
            continue;
        };
        write(
            &dir,
            rel,
            std::fs::read(root.join(&path)).expect("tracked file"),
        );
        copied += 1;
    }
    assert!(copied >= 6, "examples/finetune has {copied} tracked files");
    git_init_commit(&dir);
    dir
}

/// `git status --porcelain` of `dir`'s repository.
fn git_status(dir: &Path) -> Vec<String> {
    let repo = git2::Repository::open(dir).unwrap();
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(true);
    let statuses = repo.statuses(Some(&mut opts)).unwrap();
    statuses
        .iter()
        .filter_map(|s| s.path().ok().map(str::to_string))
        .collect()
}

/// A fresh clone of the example after `python3 prepare_base.py && mlprov
/// pin && mlprov build`.
fn built_example(env: &TestEnv) -> PathBuf {
    let dir = fresh_example(env);
    let st = std::process::Command::new("python3")
        .arg("prepare_base.py")
        .current_dir(&dir)
        .env_remove("MLPROV_MINILM_DIR")
        .status()
        .expect("python3");
    assert!(st.success());
    env.run(&dir, &["pin"]).ok();
    env.run(&dir, &["build"]).ok();
    dir
}

/// The README's walkthrough: `python3 prepare_base.py && mlprov pin &&
/// mlprov build && mlprov keygen --no-password && mlprov attest --key
/// cosign.key && mlprov sign --key cosign.key`. Returns the project.
pub(crate) fn walkthrough(env: &TestEnv) -> PathBuf {
    let dir = built_example(env);
    let r = env.run(&dir, &["keygen", "--no-password"]).ok();
    assert!(r.stderr.contains("Generated"), "{}", r.stderr);
    // The example ignores the private key already: nothing for git to add.
    let status = git_status(&dir);
    assert!(
        !status.iter().any(|p| p.ends_with("cosign.key")),
        "git would offer to commit the private key: {status:?}"
    );
    let r = env.run(&dir, &["attest", "--key", "cosign.key"]).ok();
    for name in INPUTS {
        assert!(
            r.stderr
                .contains(&format!("Attested import of {name} (file:")),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains(&format!("Attested scan of {name}")),
            "{}",
            r.stderr
        );
    }
    env.run(&dir, &["sign", "--key", "cosign.key"]).ok();
    dir
}

/// Per node of a verification (or graph) JSON report: digest → (names,
/// roles, verified, proven predicate types, finding codes).
pub(crate) type Summary =
    BTreeMap<String, (Vec<String>, Vec<String>, bool, Vec<String>, Vec<String>)>;

pub(crate) fn summary(report: &serde_json::Value) -> Summary {
    let nodes = report
        .get("verification")
        .and_then(|g| g.get("nodes"))
        .or_else(|| report.get("nodes"))
        .and_then(|n| n.as_array())
        .unwrap_or_else(|| panic!("no nodes in {report}"));
    let strings = |v: &serde_json::Value| -> Vec<String> {
        let mut out: Vec<String> = v
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .or_else(|| x.get("code").and_then(|c| c.as_str()).map(str::to_string))
                            .or_else(|| {
                                x.get("predicateType")
                                    .and_then(|c| c.as_str())
                                    .map(str::to_string)
                            })
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    };
    nodes
        .iter()
        .map(|n| {
            let id = n["id"].as_str().unwrap_or_default().to_string();
            (
                id,
                (
                    n["name"].as_str().into_iter().map(str::to_string).collect(),
                    strings(&n["roles"]),
                    n["verified"].as_bool().unwrap_or(false),
                    strings(&n["proven"]),
                    strings(&n["findings"]),
                ),
            )
        })
        .collect()
}

/// The input nodes of a summary by name (the root's name differs between a
/// directory and a reference).
/// Per input name: (roles, verified, proven, finding codes).
type InputSummary = BTreeMap<String, (Vec<String>, bool, Vec<String>, Vec<String>)>;

fn inputs_of(s: &Summary) -> InputSummary {
    s.values()
        .filter(|(names, ..)| names.iter().any(|n| INPUTS.contains(&n.as_str())))
        .map(|(names, roles, ok, proven, findings)| {
            (
                names.join(","),
                (roles.clone(), *ok, proven.clone(), findings.clone()),
            )
        })
        .collect()
}

#[test]
fn walkthrough_attests_every_input_and_verifies_the_graph() {
    let env = TestEnv::new();
    let dir = walkthrough(&env);
    let r = env.run(&dir, &["verify", "--key", "cosign.pub"]).ok();
    for name in INPUTS {
        let line = r
            .stdout
            .lines()
            .find(|l| l.contains(&format!(" {name} sha256:")))
            .unwrap_or_else(|| panic!("no line for {name}:\n{}", r.stdout));
        assert!(line.contains('✓'), "{line}");
        assert!(
            line.contains("provenance (import) · scan") && line.contains("by cosign.pub"),
            "{line}"
        );
    }
    assert!(!r.stdout.contains('✗'), "{}", r.stdout);

    // Attesting again signs nothing new: the store holds the same statements.
    let r = env.run(&dir, &["attest", "--key", "cosign.key"]).ok();
    assert!(!r.stderr.contains("Attested"), "{}", r.stderr);
    assert!(
        r.stderr.contains("Kept import of base-model"),
        "{}",
        r.stderr
    );

    // Without the inputs' evidence, every input fails, and each finding says
    // how to provide it.
    let bare = TestEnv::new();
    let out = dir.join("target/mlprov");
    for p in std::fs::read_dir(&out).unwrap() {
        let p = p.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("import-")
        {
            std::fs::remove_file(p).unwrap();
        }
    }
    let r = bare
        .run(&dir, &["verify", "--key", "cosign.pub"])
        .expect_code(1);
    for name in INPUTS {
        assert!(
            r.stdout
                .contains(&format!("mlprov attest import {name} --key")),
            "no help for {name}:\n{}",
            r.stdout
        );
    }
}

#[test]
fn keygen_in_a_git_repository_ignores_the_private_key() {
    let env = TestEnv::new();
    let dir = env.work().join("repo");
    write(&dir, "README.md", "x");
    git_init_commit(&dir);
    let sub = dir.join("keys");
    std::fs::create_dir_all(&sub).unwrap();
    let r = env.run(&sub, &["keygen", "--no-password"]).ok();
    assert!(r.stderr.contains("Updated"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(sub.join(".gitignore")).unwrap(),
        "# the private signing key written by `mlprov keygen`: never commit it\n/cosign.key\n"
    );
    let status = git_status(&dir);
    assert!(status.iter().any(|p| p == "keys/.gitignore"), "{status:?}");
    assert!(status.iter().any(|p| p == "keys/cosign.pub"), "{status:?}");
    assert!(
        !status.iter().any(|p| p.ends_with("cosign.key")),
        "{status:?}"
    );
    // A second key pair under another prefix gets its own line.
    env.run(
        &sub,
        &["keygen", "--no-password", "--output-key-prefix", "release"],
    )
    .ok();
    let text = std::fs::read_to_string(sub.join(".gitignore")).unwrap();
    assert!(text.ends_with("/release.key\n"), "{text}");
    // Outside a repository nothing is written.
    let plain = tempfile::tempdir().unwrap();
    let r = env.run(plain.path(), &["keygen", "--no-password"]).ok();
    assert!(!plain.path().join(".gitignore").exists(), "{}", r.stderr);
}

/// Rewrite the referrers index (the `sha256-<manifest>` tag: distribution
/// 2.8 has no referrers API) without the input-evidence referrers about
/// `input` of `predicate`.
pub(crate) fn drop_input_bundle(
    reg: &Registry,
    repo: &str,
    manifest: &str,
    input: &str,
    predicate: &str,
) {
    let tag = format!("sha256-{}", manifest.trim_start_matches("sha256:"));
    let (status, body) = reg.manifest(repo, &tag);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let mut index: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let before = index["manifests"].as_array().unwrap().len();
    index["manifests"].as_array_mut().unwrap().retain(|m| {
        !(m["annotations"]["dev.mlprov.bundle.subject"] == input
            && m["annotations"]["dev.sigstore.bundle.predicateType"] == predicate)
    });
    assert_eq!(
        index["manifests"].as_array().unwrap().len(),
        before - 1,
        "{index}"
    );
    let r = reqwest::blocking::Client::new()
        .put(format!("http://{}/v2/{repo}/manifests/{tag}", reg.addr))
        .header("Content-Type", "application/vnd.oci.image.index.v1+json")
        .basic_auth(USER, Some(PASSWORD))
        .body(serde_json::to_vec(&index).unwrap())
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text());
}

#[test]
fn pushed_model_carries_its_inputs_evidence_to_an_empty_home() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let env = TestEnv::new();
    let dir = walkthrough(&env);
    let local = env
        .run(&dir, &["verify", "--key", "cosign.pub", "--format", "json"])
        .ok()
        .json();
    let local = summary(&local);

    let reference = format!("{}/examples/support-intent:0.1.0", reg.addr);
    let pushed = env
        .run(
            &dir,
            &["push", "--plain-http", &reference, "--format", "json"],
        )
        .ok()
        .json();
    let manifest = pushed["digest"].as_str().unwrap().to_string();
    assert_eq!(
        pushed["referrers"].as_array().unwrap().len(),
        13,
        "{pushed}"
    );
    // The referrers as cosign reads them: only the model's own bundles have
    // the Sigstore bundle artifactType.
    let tag = format!("sha256-{}", manifest.trim_start_matches("sha256:"));
    let (_, index) = reg.manifest("examples/support-intent", &tag);
    let index: serde_json::Value = serde_json::from_slice(&index).unwrap();
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    for m in index["manifests"].as_array().unwrap() {
        *types
            .entry(m["artifactType"].as_str().unwrap().to_string())
            .or_default() += 1;
        let about = &m["annotations"]["dev.mlprov.bundle.subject"];
        assert_eq!(
            about.is_string(),
            m["artifactType"] == "application/vnd.dev.mlprov.input-bundle.v1+json",
            "{m}"
        );
    }
    assert_eq!(
        types,
        BTreeMap::from([
            (
                "application/vnd.dev.mlprov.input-bundle.v1+json".to_string(),
                8
            ),
            (
                "application/vnd.dev.sigstore.bundle.v0.3+json".to_string(),
                5
            ),
        ])
    );

    // A fresh machine: nothing in MLPROV_HOME, only the public key.
    let fresh = TestEnv::new();
    let public = fresh.work().join("cosign.pub");
    std::fs::copy(dir.join("cosign.pub"), &public).unwrap();
    let public = public.display().to_string();
    let remote = |args: &[&str]| {
        let mut all = args.to_vec();
        all.push("--plain-http");
        fresh.run(&fresh.work(), &all)
    };
    let r = remote(&["verify", &reference, "--key", &public]).ok();
    assert!(!r.stdout.contains('✗'), "{}", r.stdout);
    let v = remote(&["verify", &reference, "--key", &public, "--format", "json"])
        .ok()
        .json();
    let g = remote(&["graph", &reference, "--key", &public, "--format", "json"])
        .ok()
        .json();
    let target = fresh.work().join("pulled");
    let target_s = target.display().to_string();
    let p = remote(&[
        "pull", &reference, "--key", &public, "-o", &target_s, "--format", "json",
    ])
    .ok()
    .json();
    assert!(target.join("model.safetensors").is_file());
    let want = inputs_of(&local);
    assert_eq!(want.len(), 4, "{local:?}");
    for (what, report) in [("verify", &v), ("graph", &g), ("pull", &p)] {
        assert_eq!(inputs_of(&summary(report)), want, "{what} REF: {report}");
    }

    // One input's provenance missing from the registry: all three fail, on
    // that input, with E0301, and pull places nothing.
    let train = local
        .iter()
        .find(|(_, (names, ..))| names.contains(&"support-train".to_string()))
        .map(|(id, _)| id.clone())
        .unwrap();
    drop_input_bundle(&reg, "examples/support-intent", &manifest, &train, SLSA);
    let empty = TestEnv::new();
    let public2 = empty.work().join("cosign.pub");
    std::fs::copy(dir.join("cosign.pub"), &public2).unwrap();
    let public2 = public2.display().to_string();
    let again = |args: &[&str]| {
        let mut all = args.to_vec();
        all.push("--plain-http");
        empty.run(&empty.work(), &all).expect_code(1)
    };
    let target2 = empty.work().join("pulled");
    let target2_s = target2.display().to_string();
    for args in [
        vec!["verify", &reference, "--key", &public2, "--format", "json"],
        vec!["graph", &reference, "--key", &public2, "--format", "json"],
        vec![
            "pull", &reference, "--key", &public2, "-o", &target2_s, "--format", "json",
        ],
    ] {
        let r = again(&args);
        let s = summary(&r.json());
        for (id, (names, _, ok, _, findings)) in &s {
            if *id == train {
                assert!(!ok, "{args:?}: {names:?}");
                assert_eq!(findings, &["E0301"], "{args:?}");
            } else if names.iter().any(|n| INPUTS.contains(&n.as_str())) {
                assert!(ok, "{args:?}: {names:?} {findings:?}");
            }
        }
    }
    assert!(
        !target2.exists() || std::fs::read_dir(&target2).unwrap().next().is_none(),
        "pull placed files although verification failed"
    );
}

// ---------------------------------------------------------------------------
// examples/github: the `verify` job, run as a test.

/// A GitHub Actions `${{ … }}` context, as far as the `verify` job uses it.
/// An expression the test does not know fails the test, so a change to the
/// workflow that this stand-in does not model cannot pass unnoticed.
struct Contexts {
    values: BTreeMap<String, String>,
}

impl Contexts {
    fn eval(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find("}}")
                .unwrap_or_else(|| panic!("unterminated expression in {text:?}"));
            let expr = rest[start + 3..start + end].trim();
            let value = self.values.get(expr).unwrap_or_else(|| {
                panic!("the test does not model `${{{{ {expr} }}}}` ({text:?})")
            });
            out.push_str(value);
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        out
    }
}

/// `$GITHUB_OUTPUT` as the runner reads it: `name=value` lines and
/// `name<<DELIMITER` blocks.
fn read_outputs(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        }
    }
    out
}

fn yaml_str(y: &yaml_rust2::Yaml) -> Option<String> {
    match y {
        yaml_rust2::Yaml::String(s) => Some(s.clone()),
        yaml_rust2::Yaml::Integer(i) => Some(i.to_string()),
        yaml_rust2::Yaml::Boolean(b) => Some(b.to_string()),
        yaml_rust2::Yaml::Real(r) => Some(r.clone()),
        _ => None,
    }
}

fn yaml_env(y: &yaml_rust2::Yaml) -> Vec<(String, String)> {
    y.as_hash()
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| Some((yaml_str(k)?, yaml_str(v).unwrap_or_default())))
                .collect()
        })
        .unwrap_or_default()
}

/// The `verify` job of `examples/github/train-and-release.yml`, its `run:`
/// steps in order, each with `bash -eo pipefail` (GitHub's default shell)
/// and the environment the runner gives it (`${{ … }}` substituted by the
/// test), on a fresh `MLPROV_HOME`, against a local registry with
/// credentials. What the test substitutes, and why:
///
/// - the `release` job is the walkthrough on the bundled example (signed
///   with a `cosign.key`, since there is no GitHub OIDC token here) and
///   `mlprov push` to the local registry; its outputs are the workflow's
///   `jobs.release.outputs`, evaluated over that push step's
///   `$GITHUB_OUTPUT`;
/// - steps that install mlprov (`uses:` steps such as the cache or the
///   repository's action, and a `run:` step that `cargo install`s it) are
///   replaced by the binary under test on `PATH`;
/// - in the verify step, the keyless identity flags
///   (`--certificate-identity "$SIGNER" --certificate-oidc-issuer …`) are
///   replaced by `--key "$MLPROV_TEST_PUBLIC_KEY"`, the release key's
///   public half; the test fails if that text is not in the step;
/// - `MLPROV_REGISTRY_PLAIN_HTTP=true`: the local registry speaks HTTP.
#[test]
fn github_verify_job_passes_against_a_local_registry() {
    let Some(reg) = Registry::start(true) else {
        return;
    };
    let workflow = repo_root().join("examples/github/train-and-release.yml");
    let text = std::fs::read_to_string(&workflow).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("the workflow is YAML");
    let wf = &docs[0];
    let verify = &wf["jobs"]["verify"];
    assert!(
        !verify.is_badvalue(),
        "no verify job in {}",
        workflow.display()
    );
    assert_eq!(verify["needs"].as_str(), Some("release"));

    // The release job: the walkthrough, then push with the runner's files.
    let env = TestEnv::new();
    let dir = walkthrough(&env);
    let repository = "examples/support-intent";
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let push_outputs = env.path().join("push-outputs");
    env.run_env(
        &dir,
        &[
            "push",
            "--plain-http",
            &format!("{}/{repository}:{sha}", reg.addr),
        ],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_OUTPUT", push_outputs.to_str().unwrap()),
            ("MLPROV_REGISTRY_USERNAME", USER),
            ("MLPROV_REGISTRY_PASSWORD", PASSWORD),
        ],
    )
    .ok();
    let mut values = BTreeMap::new();
    for (k, v) in read_outputs(&push_outputs) {
        values.insert(format!("steps.push.outputs.{k}"), v);
    }
    values.insert("github.repository".into(), repository.into());
    values.insert("github.ref".into(), "refs/heads/main".into());
    values.insert("github.sha".into(), sha.into());
    values.insert("github.actor".into(), USER.into());
    values.insert("secrets.GITHUB_TOKEN".into(), PASSWORD.into());
    values.insert("runner.os".into(), "Linux".into());
    let workflow_env = yaml_env(&wf["env"]);
    for (k, v) in &workflow_env {
        values.insert(format!("env.{k}"), v.clone());
    }
    let release_outputs: Vec<(String, String)> = yaml_env(&wf["jobs"]["release"]["outputs"]);
    let mut cx = Contexts { values };
    for (k, v) in &release_outputs {
        let value = cx.eval(v);
        assert!(!value.is_empty(), "release output {k} is empty");
        cx.values
            .insert(format!("needs.release.outputs.{k}"), value);
    }

    // The verify job, on a fresh machine: an empty MLPROV_HOME.
    let runner = TestEnv::new();
    let public = runner.work().join("cosign.pub");
    std::fs::copy(dir.join("cosign.pub"), &public).unwrap();
    let bin_dir = Path::new(bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let summary = runner.path().join("step-summary.md");
    let mut ran = Vec::new();
    let mut substituted = false;
    for (i, step) in verify["steps"].as_vec().unwrap().iter().enumerate() {
        let name = step["name"].as_str().unwrap_or("").to_string();
        if !step["uses"].is_badvalue() {
            continue;
        }
        let script = step["run"]
            .as_str()
            .unwrap_or_else(|| panic!("step {name}: no run"));
        if script.contains("cargo") && script.contains("install") && script.contains("mlprov") {
            continue;
        }
        assert!(
            step["if"].is_badvalue(),
            "step {name}: `if:` is not modelled by this test"
        );
        let mut script = cx.eval(script);
        if script.contains("--certificate-identity") {
            // The two lines of the keyless identity become one `--key` line.
            let identity = "--certificate-identity \"$SIGNER\" \\";
            let issuer = "--certificate-oidc-issuer https://token.actions.githubusercontent.com \\";
            let lines: Vec<&str> = script.lines().collect();
            assert!(
                lines.iter().any(|l| l.trim() == identity)
                    && lines.iter().any(|l| l.trim() == issuer),
                "step {name}: the keyless flags changed; update the substitution:\n{script}"
            );
            script = lines
                .iter()
                .filter(|l| l.trim() != issuer)
                .map(|l| {
                    if l.trim() == identity {
                        "  --key \"$MLPROV_TEST_PUBLIC_KEY\" \\".to_string()
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            substituted = true;
        }
        let outputs = runner.path().join(format!("outputs-{i}"));
        std::fs::write(&outputs, "").unwrap();
        let mut c = std::process::Command::new("bash");
        c.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
            .current_dir(runner.work())
            .env("PATH", &path)
            .env("MLPROV_HOME", runner.path().join("home"))
            .env("MLPROV_CACHE_DIR", runner.path().join("cache"))
            .env("NO_COLOR", "1")
            .env("GITHUB_ACTIONS", "true")
            .env("CI", "true")
            .env("GITHUB_OUTPUT", &outputs)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_REPOSITORY", repository)
            .env("GITHUB_REF", "refs/heads/main")
            .env("GITHUB_SHA", sha)
            .env("MLPROV_REGISTRY_PLAIN_HTTP", "true")
            .env("MLPROV_TEST_PUBLIC_KEY", &public);
        for var in [
            "MLPROV_REGISTRY_USERNAME",
            "MLPROV_REGISTRY_PASSWORD",
            "DOCKER_CONFIG",
        ] {
            c.env_remove(var);
        }
        c.env("DOCKER_CONFIG", runner.path().join("docker"));
        for (k, v) in workflow_env.iter().chain(&yaml_env(&verify["env"])) {
            c.env(k, cx.eval(v));
        }
        for (k, v) in yaml_env(&step["env"]) {
            c.env(k, cx.eval(&v));
        }
        let r = Run::from(c.output().expect("bash"));
        assert_eq!(
            r.code, 0,
            "step `{name}` failed\n--- script\n{script}\n--- stdout\n{}\n--- stderr\n{}",
            r.stdout, r.stderr
        );
        if let Some(id) = step["id"].as_str() {
            for (k, v) in read_outputs(&outputs) {
                cx.values.insert(format!("steps.{id}.outputs.{k}"), v);
            }
        }
        ran.push(name);
    }
    assert!(
        substituted,
        "no step verified with the keyless flags: {ran:?}"
    );
    assert_eq!(
        ran,
        ["Verify the pushed model", "Check the verified digest"],
        "the verify job's steps changed"
    );
    assert_eq!(
        cx.values
            .get("steps.verify.outputs.verified")
            .map(String::as_str),
        Some("true")
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    for name in INPUTS {
        assert!(
            summary.contains(name),
            "step summary lacks {name}:\n{summary}"
        );
    }
}

/// Six `attest` runs at once on one project and one store (four with one
/// key, two with a second key), four times with an empty store: every run succeeds and no
/// bundle is lost — afterwards the model verifies with either key, every
/// input proven by that key (issue 19: the store takes concurrent writers).
#[test]
fn concurrent_attest_runs_lose_no_bundle() {
    let env = TestEnv::new();
    let dir = built_example(&env);
    env.run(&dir, &["keygen", "--no-password"]).ok();
    env.run(
        &dir,
        &["keygen", "--no-password", "--output-key-prefix", "second"],
    )
    .ok();
    for round in 0..4 {
        // A store of its own per round: every run files every bundle (a
        // store that has them already makes `attest` keep them).
        let store = TestEnv::new();
        let children: Vec<_> = [
            "cosign.key",
            "cosign.key",
            "cosign.key",
            "cosign.key",
            "second.key",
            "second.key",
        ]
        .iter()
        .map(|key| {
            store
                .cmd(&dir)
                .args(["attest", "--key", key])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn mlprov attest")
        })
        .collect();
        for (i, child) in children.into_iter().enumerate() {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}, run {i}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for (key, public) in [("cosign.key", "cosign.pub"), ("second.key", "second.pub")] {
            store.run(&dir, &["sign", "--key", key]).ok();
            let r = store.run(&dir, &["verify", "--key", public]);
            assert_eq!(
                r.code, 0,
                "round {round}, verify --key {public}: {}\n{}",
                r.stdout, r.stderr
            );
            for name in INPUTS {
                let line = r
                    .stdout
                    .lines()
                    .find(|l| l.contains(&format!(" {name} sha256:")))
                    .unwrap_or_else(|| panic!("no line for {name}:\n{}", r.stdout));
                assert!(
                    line.contains('✓')
                        && line.contains("provenance (import) · scan")
                        && line.contains(&format!("by {public}")),
                    "round {round}: {line}"
                );
            }
        }
    }
}
