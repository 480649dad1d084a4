//! `mlprov promote` between two docker-registry instances (an intake and a
//! trusted tier), on the user's path: the example built, attested, signed
//! and pushed by the documented commands; the gate runs from an empty
//! `MLPROV_HOME` with only the public keys and its policy. The registries'
//! contents are read with plain HTTP (catalog, tags, referrers index), not
//! with mlprov's client. Also `pull` in the KServe storage-initializer form.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;
use crate::evidence::{drop_input_bundle, summary, walkthrough};
use crate::registry::proxy::{Fault, Proxy};
use crate::registry::server::Registry;

const REPO: &str = "examples/support-intent";
const VSA: &str = "https://slsa.dev/verification_summary/v1";
const SCAN: &str = "https://mlprov.dev/scan/v1";

/// The gate: an empty home, the model signer's public key, the gate's own
/// key pair and its promotion policy.
struct Gate {
    env: TestEnv,
    dir: PathBuf,
}

impl Gate {
    fn new(model_dir: &Path, policy: &str) -> Self {
        let env = TestEnv::new();
        let dir = env.work();
        std::fs::copy(model_dir.join("cosign.pub"), dir.join("model.pub")).unwrap();
        std::fs::write(dir.join("promote.toml"), policy).unwrap();
        let r = env
            .run(
                &dir,
                &["keygen", "--no-password", "--output-key-prefix", "gate"],
            )
            .ok();
        assert!(dir.join("gate.key").is_file(), "{}", r.stderr);
        Gate { env, dir }
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        all.push("--plain-http");
        self.env.run(&self.dir, &all)
    }

    fn promote(&self, src: &str, dst: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "promote",
            src,
            dst,
            "--key",
            "model.pub",
            "--policy",
            "promote.toml",
            "--vsa-key",
            "gate.key",
        ];
        args.extend(extra);
        self.run(&args)
    }
}

/// The trusted tier's policy: the project's licenses and formats, and a
/// scan as well as provenance for the base model and the data.
const POLICY: &str = r#"[policy]
licenses.allow = ["Apache-2.0", "CC0-1.0"]
formats.deny = ["pickle", "keras-lambda", "remote-code"]

[policy.roles.base-model]
require = ["https://slsa.dev/provenance/v1", "https://mlprov.dev/scan/v1"]

[policy.roles.training-data]
require = ["https://slsa.dev/provenance/v1", "https://mlprov.dev/scan/v1"]
"#;

fn get(url: &str) -> (u16, Value) {
    let r = reqwest::blocking::Client::new()
        .get(url)
        .header(
            "Accept",
            "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json",
        )
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let body = r.bytes().unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// What a registry holds: repositories, and per repository its tags.
fn contents(addr: &str) -> Vec<(String, Vec<String>)> {
    let (_, cat) = get(&format!("http://{addr}/v2/_catalog"));
    let mut out = Vec::new();
    for repo in cat["repositories"].as_array().cloned().unwrap_or_default() {
        let repo = repo.as_str().unwrap().to_string();
        let (_, t) = get(&format!("http://{addr}/v2/{repo}/tags/list"));
        let mut tags: Vec<String> = t["tags"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect();
        tags.sort();
        out.push((repo, tags));
    }
    out
}

/// The referrers index (tag schema) of a manifest: entries as
/// (digest, artifactType, annotations).
fn referrers(addr: &str, repo: &str, manifest: &str) -> Vec<Value> {
    let tag = format!("sha256-{}", manifest.trim_start_matches("sha256:"));
    let (status, index) = get(&format!("http://{addr}/v2/{repo}/manifests/{tag}"));
    if status == 404 {
        return Vec::new();
    }
    assert_eq!(status, 200, "{index}");
    let mut entries: Vec<Value> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            serde_json::json!({
                "digest": m["digest"],
                "artifactType": m["artifactType"],
                "annotations": m["annotations"],
            })
        })
        .collect();
    entries.sort_by_key(|e| e["digest"].as_str().unwrap().to_string());
    entries
}

fn tag_digest(addr: &str, repo: &str, tag: &str) -> Option<String> {
    let r = reqwest::blocking::Client::new()
        .head(format!("http://{addr}/v2/{repo}/manifests/{tag}"))
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .unwrap();
    (r.status().as_u16() == 200).then(|| {
        r.headers()["docker-content-digest"]
            .to_str()
            .unwrap()
            .to_string()
    })
}

/// Push the walkthrough's model to `addr`; its manifest digest.
fn push(env: &TestEnv, dir: &Path, addr: &str) -> String {
    let reference = format!("{addr}/{REPO}:0.1.0");
    let pushed = env
        .run(
            dir,
            &["push", "--plain-http", &reference, "--format", "json"],
        )
        .ok()
        .json();
    pushed["digest"].as_str().unwrap().to_string()
}

/// The example ClusterStorageContainer's command as KServe runs it: its
/// `command` (the image's /etc/mlprov files taken from `trust`), its plain
/// `env` values (paths under /tmp moved into the test's directory), and
/// KServe's two arguments, the storage URI and the mount path.
fn storage_initializer(env: &TestEnv, trust: &Path, uri: &str, mount: &Path) -> Run {
    let csc = crate::kubernetes::cluster_storage_container();
    let c = &csc["spec"]["container"];
    let command: Vec<String> = c["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let a = v.as_str().unwrap();
            match a.strip_prefix("/etc/mlprov/") {
                Some(name) => trust.join(name).display().to_string(),
                None => a.to_string(),
            }
        })
        .collect();
    assert_eq!(command[0], "mlprov");
    let mut cmd = env.cmd(&env.work());
    cmd.args(&command[1..]).arg(uri).arg(mount);
    for e in c["env"].as_array().unwrap() {
        if let Some(v) = e["value"].as_str() {
            let v = match v.strip_prefix("/tmp/") {
                Some(rest) => env.path().join(rest).display().to_string(),
                None => v.to_string(),
            };
            cmd.env(e["name"].as_str().unwrap(), v);
        }
    }
    // The test registries speak plain HTTP.
    cmd.env("MLPROV_REGISTRY_PLAIN_HTTP", "1");
    Run::of(&mut cmd)
}

#[test]
fn promote_copies_a_verified_model_with_every_bundle_and_gates_what_does_not_verify() {
    let (Some(intake), Some(trusted)) = (Registry::start(false), Registry::start(false)) else {
        return;
    };
    let env = TestEnv::new();
    let model = walkthrough(&env);
    let manifest = push(&env, &model, &intake.addr);
    let src = format!("{}/{REPO}:0.1.0", intake.addr);
    let intake_referrers = referrers(&intake.addr, REPO, &manifest);
    assert_eq!(intake_referrers.len(), 13);
    let gate = Gate::new(&model, POLICY);
    let empty = contents(&trusted.addr);

    // An untrusted signer: exit 1, nothing in the trusted registry.
    let r = gate
        .run(&[
            "promote",
            &src,
            &format!("{}/{REPO}:0.1.0", trusted.addr),
            "--key",
            "gate.pub",
            "--policy",
            "promote.toml",
            "--vsa-key",
            "gate.key",
        ])
        .expect_code(1);
    assert!(r.stderr.contains("nothing was copied"), "{}", r.stderr);
    assert_eq!(contents(&trusted.addr), empty);

    // --dry-run: the plan, nothing changed.
    let dst = format!("{}/{REPO}:0.1.0", trusted.addr);
    let plan = gate
        .run(&[
            "promote",
            &src,
            &dst,
            "--key",
            "model.pub",
            "--policy",
            "promote.toml",
            "--dry-run",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(plan["dryRun"], true);
    assert_eq!(plan["promoted"], false);
    assert_eq!(plan["digest"], manifest.as_str());
    let blobs = plan["plan"]["blobs"].as_array().unwrap();
    assert!(blobs.iter().all(|b| b["action"] == "upload"), "{plan}");
    assert_eq!(plan["plan"]["referrers"].as_array().unwrap().len(), 13);
    assert_eq!(contents(&trusted.addr), empty);

    // A trusted registry that fails mid-copy (writing the referrers index,
    // after every blob and manifest went up): exit 2, the tag not moved, the
    // missing part named; a rerun completes, copying only what is missing.
    let proxy = Proxy::start(&trusted.addr);
    let via_proxy = format!("{}/{REPO}:0.1.0", proxy.addr);
    proxy.add(
        "PUT",
        &format!("/manifests/sha256-{}", &manifest[7..]),
        Fault::Status(500),
        usize::MAX,
    );
    let r = gate.promote(&src, &via_proxy, &[]).expect_code(2);
    assert!(r.stderr.contains("promote stopped"), "{}", r.stderr);
    assert!(r.stderr.contains("still does not exist"), "{}", r.stderr);
    assert!(r.stderr.contains("Not copied"), "{}", r.stderr);
    assert_eq!(tag_digest(&trusted.addr, REPO, "0.1.0"), None);
    assert!(proxy.faults() > 0);
    proxy.clear();
    let rerun = gate
        .promote(&src, &via_proxy, &["--format", "json"])
        .ok()
        .json();
    assert_eq!(rerun["promoted"], true);
    let p = &rerun["plan"];
    assert!(
        p["blobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["action"] == "present"),
        "{p}"
    );
    assert_eq!(p["manifest"]["action"], "present");
    assert_eq!(p["uploadedBytes"], 0);
    assert_eq!(
        tag_digest(&trusted.addr, REPO, "0.1.0").as_deref(),
        Some(manifest.as_str())
    );

    // Every bundle arrived, byte for byte (same digests, artifact types and
    // annotations), plus the gate's VSA.
    let copied = referrers(&trusted.addr, REPO, &manifest);
    assert_eq!(copied.len(), 14, "{copied:#?}");
    for e in &intake_referrers {
        assert!(copied.contains(e), "{e} not copied");
    }
    let vsa: Vec<&Value> = copied
        .iter()
        .filter(|e| !intake_referrers.contains(e))
        .collect();
    assert_eq!(vsa.len(), 1);
    assert_eq!(
        vsa[0]["annotations"]["dev.sigstore.bundle.predicateType"],
        VSA
    );
    assert_eq!(
        vsa[0]["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let vsa_doc = &rerun["vsa"];
    assert_eq!(vsa_doc["referrer"], vsa[0]["digest"]);
    assert!(
        vsa_doc["policy"]
            .as_str()
            .unwrap()
            .ends_with("/promote.toml"),
        "{vsa_doc}"
    );

    // A fresh machine verifies the model from the trusted registry alone.
    let fresh = TestEnv::new();
    std::fs::copy(model.join("cosign.pub"), fresh.work().join("cosign.pub")).unwrap();
    let v = fresh
        .run(
            &fresh.work(),
            &["verify", &dst, "--key", "cosign.pub", "--plain-http"],
        )
        .ok();
    assert!(!v.stdout.contains('✗'), "{}", v.stdout);
    let vj = fresh
        .run(
            &fresh.work(),
            &[
                "verify",
                &dst,
                "--key",
                "cosign.pub",
                "--plain-http",
                "--format",
                "json",
            ],
        )
        .ok()
        .json();
    let nodes = summary(&vj);
    assert!(nodes.len() >= 5, "{vj}");
    assert!(nodes.values().all(|(_, _, ok, _, _)| *ok), "{nodes:?}");

    // The VSA, read from the registry, passes sigstore-js and
    // sigstore-python against the manifest digest with the gate's key.
    let vsa_manifest = get(&format!(
        "http://{}/v2/{REPO}/manifests/{}",
        trusted.addr,
        vsa[0]["digest"].as_str().unwrap()
    ))
    .1;
    let layer = vsa_manifest["layers"][0]["digest"].as_str().unwrap();
    let bundle = trusted.blob(REPO, layer);
    let bundle_path = gate.dir.join("vsa.sigstore.json");
    std::fs::write(&bundle_path, &bundle).unwrap();
    let gate_pub = gate.dir.join("gate.pub");
    if let Some(r) = shared_tool(
        "verify-sigstore",
        &[
            bundle_path.as_os_str(),
            "--digest".as_ref(),
            manifest.as_ref(),
            "--public-key".as_ref(),
            gate_pub.as_os_str(),
        ],
    ) {
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        let oks: Vec<Value> = r
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        assert!(!oks.is_empty(), "{}", r.stdout);
        assert!(oks.iter().all(|v| v["ok"] == true), "{}", r.stdout);
    }

    // Promoting the same digest again copies nothing and attaches nothing.
    let before = contents(&trusted.addr);
    let again = gate.promote(&src, &dst, &[]).ok();
    assert!(again.stderr.contains("nothing to copy"), "{}", again.stderr);
    assert_eq!(contents(&trusted.addr), before);
    assert_eq!(referrers(&trusted.addr, REPO, &manifest).len(), 14);

    // Within one registry blobs are mounted, never uploaded: the registry's
    // request log has one mount per blob and no blob upload but the VSA's.
    let same = Proxy::start(&intake.addr);
    let src_same = format!("{}/{REPO}:0.1.0", same.addr);
    let dst_same = format!("{}/trusted/support-intent:0.1.0", same.addr);
    let j = gate
        .promote(&src_same, &dst_same, &["--format", "json"])
        .ok()
        .json();
    let p = &j["plan"];
    assert_eq!(p["sameRegistry"], true);
    let n_blobs = p["blobs"].as_array().unwrap().len();
    assert!(n_blobs >= 15, "{p}");
    assert_eq!(p["uploadedBytes"], 0, "{p}");
    let total: u64 = p["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["size"].as_u64().unwrap())
        .sum();
    assert_eq!(p["mountedBytes"].as_u64().unwrap(), total);
    let log: Vec<String> = same
        .log
        .lock()
        .unwrap()
        .iter()
        .map(|(l, _)| l.clone())
        .collect();
    let mounts = log
        .iter()
        .filter(|l| l.starts_with("POST ") && l.contains("mount=") && l.contains("/trusted/"))
        .count();
    assert_eq!(mounts, n_blobs, "{log:#?}");
    // The VSA bundle is the one blob put into the new repository.
    let uploads = log
        .iter()
        .filter(|l| l.starts_with("PUT ") && l.contains("/trusted/support-intent/blobs/uploads/"))
        .count();
    assert_eq!(uploads, 1, "{log:#?}");
    assert_eq!(
        referrers(&intake.addr, "trusted/support-intent", &manifest).len(),
        14
    );

    // The storage-initializer form of pull: URI and directory positional,
    // into an existing empty directory (a volume mount in the pod).
    let mnt = fresh.work().join("mnt-models");
    std::fs::create_dir(&mnt).unwrap();
    let uri = format!("oci://{}/{REPO}@{manifest}", trusted.addr);
    let r = fresh
        .run(
            &fresh.work(),
            &[
                "pull",
                "--key",
                "cosign.pub",
                "--plain-http",
                &uri,
                mnt.to_str().unwrap(),
            ],
        )
        .ok();
    assert!(mnt.join("model.safetensors").is_file(), "{}", r.stderr);
    let placed: BTreeSet<String> = std::fs::read_dir(&mnt)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        !placed.iter().any(|n| n.starts_with(".mlprov")),
        "{placed:?}"
    );
    // A signer the pod does not trust: exit 1, nothing placed.
    let mnt2 = fresh.work().join("mnt-models-2");
    std::fs::create_dir(&mnt2).unwrap();
    std::fs::copy(gate.dir.join("gate.pub"), fresh.work().join("gate.pub")).unwrap();
    fresh
        .run(
            &fresh.work(),
            &[
                "pull",
                "--key",
                "gate.pub",
                "--plain-http",
                &uri,
                mnt2.to_str().unwrap(),
            ],
        )
        .expect_code(1);
    assert_eq!(std::fs::read_dir(&mnt2).unwrap().count(), 0);

    // The example storage initializer, as KServe calls it: the policy of
    // examples/kubernetes/kserve/trust and the model signer's key.
    let trust = fresh.work().join("etc-mlprov");
    std::fs::create_dir(&trust).unwrap();
    std::fs::copy(model.join("cosign.pub"), trust.join("cosign.pub")).unwrap();
    std::fs::copy(
        repo_root().join("examples/kubernetes/kserve/trust/policy.toml"),
        trust.join("policy.toml"),
    )
    .unwrap();
    let mnt3 = fresh.work().join("mnt-models-3");
    std::fs::create_dir(&mnt3).unwrap();
    let r = storage_initializer(&fresh, &trust, &uri, &mnt3).ok();
    assert!(r.stderr.contains("Pulled"), "{}", r.stderr);
    assert!(mnt3.join("model.safetensors").is_file());

    // A dataset whose scan is missing in the intake registry: exit 1 on
    // that input (E0301), and the trusted registry gets nothing new.
    let local = env
        .run(
            &model,
            &["verify", "--key", "cosign.pub", "--format", "json"],
        )
        .ok()
        .json();
    let train = summary(&local)
        .into_iter()
        .find(|(_, (names, ..))| names.contains(&"support-train".to_string()))
        .map(|(id, _)| id)
        .unwrap();
    drop_input_bundle(&intake, REPO, &manifest, &train, SCAN);
    let before = contents(&trusted.addr);
    let r = gate
        .promote(
            &src,
            &format!("{}/quarantine/support-intent:0.1.0", trusted.addr),
            &["--format", "json"],
        )
        .expect_code(1);
    let j = r.json();
    assert_eq!(j["verified"], false);
    let s = summary(&j);
    assert_eq!(s[&train].4, vec!["E0301".to_string()], "{j}");
    assert_eq!(contents(&trusted.addr), before);
    // The storage initializer (a new pod: an empty MLPROV_HOME) refuses it
    // too, and places nothing.
    let pod = TestEnv::new();
    let mnt4 = pod.work().join("mnt-models");
    std::fs::create_dir(&mnt4).unwrap();
    let intake_uri = format!("oci://{}/{REPO}@{manifest}", intake.addr);
    let r = storage_initializer(&pod, &trust, &intake_uri, &mnt4).expect_code(1);
    assert!(r.stderr.contains("nothing was placed"), "{}", r.stderr);
    assert_eq!(std::fs::read_dir(&mnt4).unwrap().count(), 0);
}

/// The example, with a training step that writes `card` as the model's
/// README.md, committed, built, attested and signed by the documented
/// commands.
fn model_with_card(env: &TestEnv, card: &str) -> PathBuf {
    let dir = crate::evidence::fresh_example(env);
    std::fs::write(dir.join("MODEL_CARD.md"), card).unwrap();
    let toml = std::fs::read_to_string(dir.join("mlprov.toml")).unwrap();
    let toml = toml.replace(
        r#"command = ["python3", "train.py", "--config", "configs/finetune.yaml"]"#,
        r#"command = ["sh", "-c", "python3 train.py --config configs/finetune.yaml && cp MODEL_CARD.md out/README.md"]"#,
    );
    assert!(toml.contains("cp MODEL_CARD.md"));
    std::fs::write(dir.join("mlprov.toml"), toml).unwrap();
    let git = |args: &[&str]| {
        let st = std::process::Command::new("git")
            .args(args)
            .current_dir(&dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .unwrap();
        assert!(st.success(), "git {args:?}");
    };
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "model card"]);
    let st = std::process::Command::new("python3")
        .arg("prepare_base.py")
        .current_dir(&dir)
        .env_remove("MLPROV_MINILM_DIR")
        .status()
        .unwrap();
    assert!(st.success());
    for args in [
        &["pin"][..],
        &["build"],
        &["keygen", "--no-password"],
        &["attest", "--key", "cosign.key"],
        &["sign", "--key", "cosign.key"],
    ] {
        env.run(&dir, args).ok();
    }
    assert!(dir.join("out/README.md").is_file());
    dir
}

#[test]
fn a_model_card_without_a_required_field_is_refused_with_the_field_named() {
    let (Some(intake), Some(trusted)) = (Registry::start(false), Registry::start(false)) else {
        return;
    };
    let env = TestEnv::new();
    let card = "---\nlicense: apache-2.0\ndatasets:\n  - acme/support-tickets\n---\n# support-intent\n\n\
## Intended use\n\nRouting English support tickets to a queue.\n\n\
## Evaluation\n\nAccuracy 0.88 on the held-out test split.\n\n\
## Limitations\n\n[More Information Needed]\n";
    let model = model_with_card(&env, card);
    let manifest = push(&env, &model, &intake.addr);
    let src = format!("{}/{REPO}:0.1.0", intake.addr);
    let dst = format!("{}/{REPO}:0.1.0", trusted.addr);
    let all = format!(
        "{POLICY}\n[policy.model-card]\nrequire = [\"intended-use\", \"training-data\", \"evaluation\", \"limitations\", \"license\"]\n"
    );
    let gate = Gate::new(&model, &all);
    let r = gate.promote(&src, &dst, &[]).expect_code(1);
    assert!(r.stderr.contains("E0408"), "{}", r.stderr);
    assert!(
        r.stdout.contains("lacks `limitations`") || r.stderr.contains("lacks `limitations`"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    let j = gate
        .promote(&src, &dst, &["--format", "json"])
        .expect_code(1)
        .json();
    let root = &j["verification"]["nodes"][0];
    let findings: Vec<(String, String)> = root["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].0, "E0408");
    assert!(findings[0].1.contains("`limitations`"), "{findings:?}");
    assert!(contents(&trusted.addr).is_empty());

    // The same policy gives `verify` the same verdict, locally and by REF.
    std::fs::copy(gate.dir.join("promote.toml"), model.join("card.toml")).unwrap();
    let r = env
        .run(
            &model,
            &["verify", "--key", "cosign.pub", "--policy", "card.toml"],
        )
        .expect_code(1);
    assert!(r.stdout.contains("E0408"), "{}", r.stdout);
    let r = gate
        .run(&[
            "verify",
            &dst.replace(&trusted.addr, &intake.addr),
            "--key",
            "model.pub",
            "--policy",
            "promote.toml",
        ])
        .expect_code(1);
    assert!(r.stdout.contains("lacks `limitations`"), "{}", r.stdout);

    // Without `limitations` in the policy the card passes and the model is
    // promoted.
    std::fs::write(
        gate.dir.join("promote.toml"),
        format!(
            "{POLICY}\n[policy.model-card]\nrequire = [\"intended-use\", \"training-data\", \"evaluation\", \"license\"]\n"
        ),
    )
    .unwrap();
    gate.promote(&src, &dst, &[]).ok();
    assert_eq!(
        tag_digest(&trusted.addr, REPO, "0.1.0").as_deref(),
        Some(manifest.as_str())
    );

    // An unknown field in the policy is a policy error with the fields listed.
    std::fs::write(
        gate.dir.join("promote.toml"),
        "[policy.model-card]\nrequire = [\"intended-uses\"]\n",
    )
    .unwrap();
    let r = gate.promote(&src, &dst, &[]).expect_code(2);
    assert!(
        r.stderr
            .contains("unknown model-card field `intended-uses`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("intended-use, training-data"),
        "{}",
        r.stderr
    );
}

#[test]
fn promote_bad_input_is_a_usage_error_before_any_request() {
    let env = TestEnv::new();
    let dir = env.work();
    std::fs::write(dir.join("promote.toml"), POLICY).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "promote",
                "127.0.0.1:9/a/m:1",
                "127.0.0.1:9/b/m@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                "--policy",
                "promote.toml",
                "--vsa-key",
                "k",
            ],
            "names a digest",
        ),
        (
            &[
                "promote",
                "127.0.0.1:9/a/m@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                "127.0.0.1:9/b/m",
                "--policy",
                "promote.toml",
                "--vsa-key",
                "k",
            ],
            "has no tag",
        ),
        (
            &[
                "promote",
                "127.0.0.1:9/a/m:1",
                "127.0.0.1:9/a/m:1",
                "--policy",
                "promote.toml",
                "--vsa-key",
                "k",
            ],
            "same tag",
        ),
        (
            &[
                "promote",
                "127.0.0.1:9/a/m:1",
                "127.0.0.1:9/b/m:1",
                "--vsa-key",
                "k",
            ],
            "no --policy",
        ),
        (
            &[
                "promote",
                "127.0.0.1:9/a/m:1",
                "127.0.0.1:9/b/m:1",
                "--policy",
                "promote.toml",
            ],
            "no signer is given",
        ),
        (
            &[
                "promote",
                "Not A Ref",
                "127.0.0.1:9/b/m:1",
                "--policy",
                "promote.toml",
                "--vsa-key",
                "k",
            ],
            "SRC: `Not A Ref` is not an OCI reference",
        ),
    ];
    for (args, want) in cases {
        let r = env.run(&dir, args).expect_code(2);
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("help"), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
}
