//! `mlprov push` / `mlprov pull` / `oci` inputs against a real registry
//! (Debian's docker-registry, distribution 2.8: no referrers API, so the tag
//! schema fallback runs for real), a referrers-API stand-in, and a
//! fault-injecting proxy.

pub mod proxy;
pub mod referrers_server;
pub mod server;
pub mod token_service;
mod transfer;

use std::path::{Path, PathBuf};
use std::time::Instant;

use base64::Engine as _;

use crate::common::*;
use proxy::{Fault, Proxy};
use server::{PASSWORD, Registry, USER, tree};

const SLSA: &str = "https://slsa.dev/provenance/v1";
const SPDX: &str = "https://spdx.dev/Document/v3";

/// A project whose artifact is the real all-MiniLM-L6-v2.
fn project(env: &TestEnv, name: &str) -> PathBuf {
    let dir = ProjectBuilder::new(env.work().join(name))
        .name("acme/minilm")
        .version("1.0")
        .license("Apache-2.0")
        .build();
    copy_dir(minilm(), &dir.join("out"));
    dir
}

/// The OMS artifact digest of a model directory (mlprov's own hashing,
/// used only to address the fixture bundles).
fn artifact_digest(dir: &Path) -> String {
    let opts = mlprov::digest::SetOptions::artifact();
    mlprov::digest::FileSet::hash(dir, &opts, None, &mlprov::reporter::Silent)
        .unwrap()
        .digest
        .hex()
}

/// A Sigstore bundle (v0.3, DSSE) whose statement names `subject_hex`. Its
/// signature is not checked by push/pull's transport, which is what these
/// tests exercise.
fn bundle(predicate: &str, subject_hex: &str) -> Vec<u8> {
    let st = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "acme/minilm", "digest": {"sha256": subject_hex}}],
        "predicateType": predicate,
        "predicate": {},
    });
    let payload = base64::engine::general_purpose::STANDARD.encode(st.to_string());
    serde_json::to_vec_pretty(&serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "test"}},
        "dsseEnvelope": {
            "payload": payload,
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": "MEUCIQ==", "keyid": ""}],
        },
    }))
    .unwrap()
}

fn write_bundles(proj: &Path) -> Vec<Vec<u8>> {
    let digest = artifact_digest(&proj.join("out"));
    let out = proj.join("target").join("mlprov");
    std::fs::create_dir_all(&out).unwrap();
    let a = bundle(SLSA, &digest);
    let b = bundle(SPDX, &digest);
    std::fs::write(out.join("provenance.sigstore.json"), &a).unwrap();
    std::fs::write(out.join("sbom.sigstore.json"), &b).unwrap();
    vec![a, b]
}

fn run(env: &TestEnv, dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut c = env.cmd(dir);
    c.args(args)
        .env_remove("MLPROV_REGISTRY_USERNAME")
        .env_remove("MLPROV_REGISTRY_PASSWORD")
        .env_remove("MLPROV_REGISTRY_PLAIN_HTTP")
        .env("DOCKER_CONFIG", env.path().join("docker"));
    for (k, v) in vars {
        c.env(k, v);
    }
    Run::of(&mut c)
}

/// `mlprov pull --plain-http --no-verify REFERENCE -o DIR` in the work
/// directory.
fn pull_unverified(env: &TestEnv, reference: &str, dir: &str, vars: &[(&str, &str)]) -> Run {
    run(
        env,
        &env.work(),
        &["pull", "--plain-http", "--no-verify", reference, "-o", dir],
        vars,
    )
}

/// The registry login [`Registry::start`]`(true)` and the token service
/// accept, as the environment gives it.
const LOGIN: [(&str, &str); 2] = [
    ("MLPROV_REGISTRY_USERNAME", USER),
    ("MLPROV_REGISTRY_PASSWORD", PASSWORD),
];

/// The model files as pulled (`.gitattributes` is not part of the artifact).
fn model_tree() -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut t = tree(minilm());
    t.remove(".gitattributes");
    t
}

fn no_staging_left(parent: &Path) {
    let left: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".mlprov-pull-"))
        .collect();
    assert!(left.is_empty(), "staging left behind: {left:?}");
}

#[test]
fn push_pull_minilm_with_bundles_tag_schema_and_oras() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let env = TestEnv::new();
    let proj = project(&env, "p");
    let bundles = write_bundles(&proj);
    let reference = format!("{}/models/minilm:1.0", reg.addr);

    let r = run(&env, &proj, &["push", "--plain-http", &reference], &[]).ok();
    let line = r.stdout.trim();
    let (name, digest) = line.split_once('@').expect("REF@sha256:…");
    assert_eq!(name, format!("{}/models/minilm", reg.addr));
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{line}"
    );
    assert!(
        r.stderr.contains("Attached https://slsa.dev/provenance/v1"),
        "{}",
        r.stderr
    );

    // The manifest is ModelPack, tagged, with raw layers addressed by file sha256.
    let (code, bytes) = reg.manifest("models/minilm", "1.0");
    assert_eq!(code, 200);
    assert_eq!(format!("sha256:{}", sha256_hex(&bytes)), digest);
    let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        m["artifactType"],
        "application/vnd.cncf.model.manifest.v1+json"
    );
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.cncf.model.config.v1+json"
    );
    let st = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["annotations"]["org.cncf.model.filepath"] == "model.safetensors")
        .expect("safetensors layer");
    assert_eq!(st["mediaType"], "application/vnd.cncf.model.weight.v1.raw");
    assert_eq!(st["digest"], format!("sha256:{MINILM_SAFETENSORS_SHA256}"));
    assert_eq!(
        m["annotations"]["dev.mlprov.artifact.digest"],
        format!("sha256:{}", artifact_digest(&proj.join("out")))
    );
    assert_eq!(
        m["annotations"]["org.opencontainers.image.licenses"],
        "Apache-2.0"
    );

    // distribution 2.8 has no referrers API: the tag schema index lists both.
    let (code, idx) = reg.manifest("models/minilm", &digest.replace(':', "-"));
    assert_eq!(code, 200, "no referrers tag");
    let idx: serde_json::Value = serde_json::from_slice(&idx).unwrap();
    let entries = idx["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let mut preds: Vec<&str> = entries
        .iter()
        .map(|e| {
            assert_eq!(
                e["artifactType"],
                "application/vnd.dev.sigstore.bundle.v0.3+json"
            );
            assert_eq!(
                e["annotations"]["dev.sigstore.bundle.content"],
                "dsse-envelope"
            );
            e["annotations"]["dev.sigstore.bundle.predicateType"]
                .as_str()
                .unwrap()
        })
        .collect();
    preds.sort();
    assert_eq!(preds, [SLSA, SPDX]);
    let (_, rm) = reg.manifest("models/minilm", entries[0]["digest"].as_str().unwrap());
    let rm: serde_json::Value = serde_json::from_slice(&rm).unwrap();
    assert_eq!(rm["subject"]["digest"], digest);
    assert_eq!(
        rm["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    let layer = reg.blob("models/minilm", rm["layers"][0]["digest"].as_str().unwrap());
    assert!(bundles.contains(&layer));

    // The config validates against the ModelPack schema (independent validator).
    let config = reg.blob("models/minilm", m["config"]["digest"].as_str().unwrap());
    let cfg: serde_json::Value = serde_json::from_slice(&config).unwrap();
    assert_eq!(cfg["modelfs"]["diffIds"].as_array().unwrap().len(), 12);
    if let Some(bin) = validators() {
        let f = env.path().join("config.json");
        std::fs::write(&f, &config).unwrap();
        let schema = repo_root().join("../shared/modelpack/config-schema.json");
        let out = std::process::Command::new(bin.join("python"))
            .args([
                "-c",
                "import json,sys,jsonschema; s=json.load(open(sys.argv[1])); jsonschema.validate(json.load(open(sys.argv[2])), s, format_checker=jsonschema.FormatChecker()); print('ok')",
            ])
            .arg(&schema)
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );

        // Interop: the oras Python SDK pulls byte-identical files.
        let oras_dir = env.path().join("oras");
        let out = std::process::Command::new(bin.join("python"))
            .args([
                "-c",
                "import sys, oras.client; oras.client.OrasClient(insecure=True).pull(target=sys.argv[1], outdir=sys.argv[2])",
            ])
            .arg(&reference)
            .arg(&oras_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            tree(&oras_dir) == model_tree(),
            "oras pulled different bytes"
        );
    } else {
        skip("validators venv missing: ModelPack schema and oras interop not checked");
    }

    // Pull: refuses without a trusted signer (before downloading), places
    // nothing; --no-verify places exactly the model and brings back both
    // bundles.
    let dest = env.work().join("pulled");
    let r = run(
        &env,
        &env.work(),
        &["pull", "--plain-http", &reference, "-o", "pulled"],
        &[],
    );
    let r = r.expect_code(2);
    assert!(
        r.stderr.contains("pull verifies before it places files"),
        "{}",
        r.stderr
    );
    assert!(!dest.exists());
    no_staging_left(&env.work());
    let r = run(
        &env,
        &env.work(),
        &[
            "pull",
            "--plain-http",
            "--no-verify",
            &reference,
            "-o",
            "pulled",
            "--format",
            "json",
        ],
        &[],
    )
    .ok();
    assert!(
        r.stderr.contains("--no-verify: NOT checking signatures"),
        "{}",
        r.stderr
    );
    let j = r.json();
    assert_eq!(j["digest"], digest);
    assert_eq!(j["verified"], false);
    assert_eq!(j["referrersVia"], "tag-schema");
    assert_eq!(j["bundles"].as_array().unwrap().len(), 2);
    assert!(tree(&dest) == model_tree(), "pulled different bytes");
    no_staging_left(&env.work());
    // DIR must be empty or absent.
    let r = pull_unverified(&env, &reference, "pulled", &[]);
    r.expect_code(2);

    // Re-push of the unchanged artifact uploads no blob and adds no referrer.
    let r = run(
        &env,
        &proj,
        &["push", "--plain-http", &reference, "--format", "json"],
        &[],
    )
    .ok();
    let j = r.json();
    assert_eq!(j["blobs"]["uploaded"], 0, "{j}");
    assert_eq!(j["digest"], digest);
    assert_eq!(j["referrers"].as_array().unwrap().len(), 2);
    let (_, idx) = reg.manifest("models/minilm", &digest.replace(':', "-"));
    let idx: serde_json::Value = serde_json::from_slice(&idx).unwrap();
    assert_eq!(idx["manifests"].as_array().unwrap().len(), 2);

    // A second repository on the same registry mounts instead of uploading.
    std::fs::write(
        proj.join("mlprov.lock"),
        format!(
            "version = 1\n\n[[input]]\nname = \"base\"\nrole = \"base-model\"\nsource = \"oci:{reference}\"\nrequested = \"1.0\"\ndigest = \"{digest}\"\nfiles = []\n"
        ),
    )
    .unwrap();
    let other = format!("{}/models/minilm-copy:1.0", reg.addr);
    let j = run(
        &env,
        &proj,
        &["push", "--plain-http", &other, "--format", "json"],
        &[],
    )
    .ok()
    .json();
    assert_eq!(j["blobs"]["uploaded"], 0, "{j}");
    assert_eq!(
        j["blobs"]["mounted"], 16,
        "12 files, config, empty config, 2 bundles: {j}"
    );
}

/// The acceptance path with real signatures: build, attest and sign the real
/// all-MiniLM-L6-v2, push, then `pull` verifies (signature, file set, the
/// required attestations) before placing the files, and `verify REF` passes.
/// A wrong key, or a missing required attestation, places nothing.
#[test]
fn signed_push_pull_and_verify_reference() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let env = TestEnv::new();
    let proj = project(&env, "signed");
    let pw = [("MLPROV_PASSWORD", "correct horse")];
    run(&env, &proj, &["keygen"], &pw).ok();
    run(
        &env,
        &proj,
        &["keygen", "--output-key-prefix", "other"],
        &pw,
    )
    .ok();
    run(&env, &proj, &["pin"], &[]).ok();
    run(&env, &proj, &["build", "--allow-dirty"], &[]).ok();
    run(&env, &proj, &["attest", "--key", "cosign.key"], &pw).ok();
    run(&env, &proj, &["sign", "--key", "cosign.key"], &pw).ok();
    let reference = format!("{}/models/signed:1.0", reg.addr);
    let r = run(
        &env,
        &proj,
        &["push", "--plain-http", &reference, "--format", "json"],
        &[],
    )
    .ok();
    let pushed = r.json();
    let mut preds: Vec<String> = pushed["referrers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["predicateType"].as_str().unwrap_or("").to_string())
        .collect();
    preds.sort();
    assert_eq!(
        preds,
        [
            "https://mlprov.dev/scan/v1",
            "https://model_signing/signature/v1.0",
            SLSA,
            SPDX
        ],
        "{pushed}"
    );
    let public = proj.join("cosign.pub");
    let public = public.to_str().unwrap();
    let require = [
        "--require",
        SLSA,
        "--require",
        SPDX,
        "--require",
        "https://mlprov.dev/scan/v1",
    ];

    // verify REF: the registry's manifest and referrers feed the verifier.
    let mut args = vec!["verify", "--plain-http", &reference, "--key", public];
    args.extend(require);
    let r = run(&env, &env.work(), &args, &[]).ok();
    assert!(r.stdout.contains('✓'), "{}", r.stdout);
    let mut args = vec!["verify", "--plain-http", &reference, "--key"];
    let other = proj.join("other.pub");
    args.push(other.to_str().unwrap());
    let r = run(&env, &env.work(), &args, &[]).expect_code(1);
    assert!(
        r.stdout.contains("E0202") || r.stdout.contains("E0301"),
        "{}",
        r.stdout
    );

    // pull with the wrong key: verified nothing, placed nothing.
    let r = run(
        &env,
        &env.work(),
        &[
            "pull",
            "--plain-http",
            &reference,
            "-o",
            "wrong",
            "--key",
            other.to_str().unwrap(),
        ],
        &[],
    )
    .expect_code(1);
    assert!(r.stderr.contains("nothing was placed"), "{}", r.stderr);
    assert!(!env.work().join("wrong").exists());
    no_staging_left(&env.work());

    // pull requiring an attestation nobody made: nothing placed.
    run(
        &env,
        &env.work(),
        &[
            "pull",
            "--plain-http",
            &reference,
            "-o",
            "unmet",
            "--key",
            public,
            "--require",
            "https://example.com/eval/v1",
        ],
        &[],
    )
    .expect_code(1);
    assert!(!env.work().join("unmet").exists());

    // pull with the right key: verified, placed, bundles filed in the store.
    let home2 = env.path().join("home2");
    let mut args = vec![
        "pull",
        "--plain-http",
        &reference,
        "-o",
        "good",
        "--key",
        public,
        "--format",
        "json",
    ];
    args.extend(require);
    let r = run(
        &env,
        &env.work(),
        &args,
        &[("MLPROV_HOME", home2.to_str().unwrap())],
    )
    .ok();
    assert_eq!(r.json()["verified"], true);
    assert!(
        tree(&env.work().join("good")) == model_tree(),
        "pulled different bytes"
    );
    let artifact = artifact_digest(&proj.join("out"));
    let stored = std::fs::read_dir(home2.join("store/sha256").join(&artifact))
        .unwrap()
        .count();
    assert_eq!(stored, 4, "provenance, SBOM, scan and OMS bundles filed");
    // Now the digest verifies offline from the store alone.
    let mut args = vec![
        "verify".to_string(),
        format!("sha256:{artifact}"),
        "--key".into(),
        public.into(),
    ];
    args.extend(require.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(
        &env,
        &env.work(),
        &args,
        &[("MLPROV_HOME", home2.to_str().unwrap())],
    )
    .ok();
}

#[test]
fn tampered_blob_in_the_registry_fails_pull_before_anything_lands() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let env = TestEnv::new();
    let proj = project(&env, "p");
    let reference = format!("{}/models/minilm:1.0", reg.addr);
    run(&env, &proj, &["push", "--plain-http", &reference], &[]).ok();
    let blob = reg.blob_path(MINILM_SAFETENSORS_SHA256);
    let mut bytes = std::fs::read(&blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&blob, &bytes).unwrap();

    let r = pull_unverified(&env, &reference, "dest", &[]).expect_code(2);
    assert!(
        r.stderr.contains("do not match their digest"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(MINILM_SAFETENSORS_SHA256), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(!env.work().join("dest").exists());
    no_staging_left(&env.work());
}

#[test]
fn htpasswd_auth_and_every_credential_source() {
    let Some(reg) = Registry::start(true) else {
        return;
    };
    let env = TestEnv::new();
    let proj = project(&env, "p");
    let reference = format!("{}/models/minilm:1.0", reg.addr);

    let r = run(&env, &proj, &["push", "--plain-http", &reference], &[]).expect_code(2);
    assert!(r.stderr.contains("401"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let r = run(
        &env,
        &proj,
        &["push", "--plain-http", &reference],
        &[
            ("MLPROV_REGISTRY_USERNAME", USER),
            ("MLPROV_REGISTRY_PASSWORD", "wrong"),
        ],
    )
    .expect_code(2);
    assert!(r.stderr.contains("refused the credentials"), "{}", r.stderr);

    // Environment.
    run(&env, &proj, &["push", "--plain-http", &reference], &LOGIN).ok();
    // --username + --password-stdin.
    let mut c = env.cmd(&env.work());
    c.args([
        "pull",
        "--plain-http",
        "--no-verify",
        &reference,
        "-o",
        "a",
        "--username",
        USER,
        "--password-stdin",
    ])
    .env("DOCKER_CONFIG", env.path().join("docker"))
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    Run::of_child(&c, child).ok();
    assert!(tree(&env.work().join("a")) == model_tree());
    // ~/.docker/config.json auths (base64 user:password).
    let docker = env.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(
        docker.join("config.json"),
        format!(
            "{{\"auths\": {{\"{}\": {{\"auth\": \"{auth}\"}}}}}}",
            reg.addr
        ),
    )
    .unwrap();
    pull_unverified(&env, &reference, "b", &[]).ok();
    assert!(tree(&env.work().join("b")) == model_tree());
}

/// A registry behind a token service (the handshake of Docker Hub, GHCR,
/// Quay): push and pull with credentials, refused without or with wrong
/// ones, and a push to a second repository mounts, with a token that may
/// pull from the first (the registry refuses the mount otherwise).
#[test]
fn token_auth_push_pull_and_mount() {
    let service = token_service::TokenService::start();
    let Some(reg) = Registry::start_with_tokens(&service) else {
        return;
    };
    let env = TestEnv::new();
    let proj = project(&env, "p");
    let reference = format!("{}/models/minilm:1.0", reg.addr);

    let r = run(&env, &proj, &["push", "--plain-http", &reference], &[]).expect_code(2);
    assert!(r.stderr.contains("refused the credentials"), "{}", r.stderr);
    let wrong = [
        ("MLPROV_REGISTRY_USERNAME", USER),
        ("MLPROV_REGISTRY_PASSWORD", "wrong"),
    ];
    let r = run(&env, &proj, &["push", "--plain-http", &reference], &wrong).expect_code(2);
    assert!(r.stderr.contains("refused the credentials"), "{}", r.stderr);
    assert!(
        service
            .asked()
            .iter()
            .any(|a| a.authenticated && a.status == 401),
        "{:?}",
        service.asked()
    );

    let first = run(
        &env,
        &proj,
        &["push", "--plain-http", &reference, "--format", "json"],
        &LOGIN,
    )
    .ok()
    .json();
    let uploaded = first["blobs"]["uploaded"].as_u64().unwrap();
    assert!(uploaded > 0, "{first}");
    // The token (300 s) is kept for the push's dozens of requests, and the
    // two upload threads wait for one login.
    let logins = |scope: &str| {
        service
            .asked()
            .iter()
            .filter(|a| a.status == 200 && a.authenticated && a.scopes == [scope])
            .count()
    };
    assert_eq!(
        logins("repository:models/minilm:pull,push"),
        1,
        "{:?}",
        service.asked()
    );
    assert!(
        service.asked().iter().any(|a| a.status == 200
            && a.authenticated
            && a.scopes == ["repository:models/minilm:pull,push"]),
        "{:?}",
        service.asked()
    );

    let r = pull_unverified(&env, &reference, "anon", &[]).expect_code(2);
    assert!(r.stderr.contains("refused the credentials"), "{}", r.stderr);
    assert!(!env.work().join("anon").exists());
    pull_unverified(&env, &reference, "a", &LOGIN).ok();
    assert!(tree(&env.work().join("a")) == model_tree());

    let second = run(
        &env,
        &proj,
        &[
            "push",
            "--plain-http",
            &format!("{}/models/copy:1.0", reg.addr),
            "--format",
            "json",
        ],
        &LOGIN,
    )
    .ok()
    .json();
    assert_eq!(second["blobs"]["uploaded"], 0, "{second}");
    assert_eq!(second["blobs"]["mounted"], uploaded, "{second}");
    assert!(
        service.asked().iter().any(|a| a.status == 200
            && a.scopes
                == [
                    "repository:models/copy:pull,push",
                    "repository:models/minilm:pull"
                ]),
        "{:?}",
        service.asked()
    );
}

#[test]
fn faults_are_retried_and_resumed() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let proxy = Proxy::start(&reg.addr);
    let env = TestEnv::new();
    let proj = project(&env, "p");
    write_bundles(&proj);
    let reference = format!("{}/models/minilm:1.0", proxy.addr);
    // 500s on the first session, on a manifest and on the referrers index; a
    // chunk cut mid-body (the 87 MiB safetensors goes up in 16 MiB chunks).
    proxy.add("POST", "/blobs/uploads/", Fault::Status(500), 2);
    proxy.add(
        "PATCH",
        "/blobs/uploads/",
        Fault::DropRequestAfter(3 << 20),
        1,
    );
    proxy.add("PATCH", "/blobs/uploads/", Fault::Status(503), 1);
    proxy.add("PUT", "/manifests/sha256-", Fault::Status(502), 1);
    proxy.add("PUT", "/manifests/1.0", Fault::Status(500), 1);
    let r = run(&env, &proj, &["push", "--plain-http", &reference], &[]).ok();
    assert!(r.stdout.trim().contains("@sha256:"));
    assert_eq!(proxy.faults(), 6);

    // Pull: a blob cut after 5 MiB resumes with a range request; a 500 on a
    // manifest and a stall on a small blob are retried.
    proxy.clear();
    let st = format!("/blobs/sha256:{MINILM_SAFETENSORS_SHA256}");
    proxy.add("GET", &st, Fault::DropResponseAfter(5 << 20), 2);
    proxy.add("GET", "/manifests/1.0", Fault::Status(500), 1);
    proxy.add("GET", "/blobs/sha256:", Fault::Stall, 1);
    let started = Instant::now();
    pull_unverified(
        &env,
        &reference,
        "dest",
        &[("MLPROV_REGISTRY_TIMEOUT", "2")],
    )
    .ok();
    assert!(tree(&env.work().join("dest")) == model_tree());
    assert_eq!(proxy.faults(), 6 + 4);
    assert!(started.elapsed().as_secs() < 60);
    let ranged = proxy
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|(r, f)| r.contains(&st) && f.is_none())
        .count();
    assert!(ranged >= 1);
}

#[test]
fn persistent_faults_fail_clearly_and_leave_nothing() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let proxy = Proxy::start(&reg.addr);
    let env = TestEnv::new();
    let proj = project(&env, "p");
    let reference = format!("{}/models/minilm:1.0", proxy.addr);

    // Uploads always fail: push gives up, prints no reference, tags nothing.
    proxy.add("PATCH", "/blobs/uploads/", Fault::Status(500), usize::MAX);
    let started = Instant::now();
    let r = run(&env, &proj, &["push", "--plain-http", &reference], &[]).expect_code(2);
    assert!(
        r.stderr.contains("gave up after 5 attempts"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
    assert!(started.elapsed().as_secs() < 60);
    assert_eq!(reg.manifest("models/minilm", "1.0").0, 404);

    // A registry that stalls: bounded by the timeout, nothing in DIR.
    proxy.clear();
    run(&env, &proj, &["push", "--plain-http", &reference], &[]).ok();
    proxy.add(
        "GET",
        &format!("/blobs/sha256:{MINILM_SAFETENSORS_SHA256}"),
        Fault::Stall,
        usize::MAX,
    );
    let started = Instant::now();
    let r = pull_unverified(
        &env,
        &reference,
        "dest",
        &[("MLPROV_REGISTRY_TIMEOUT", "1")],
    )
    .expect_code(2);
    assert!(r.stderr.contains("gave up after"), "{}", r.stderr);
    assert!(started.elapsed().as_secs() < 40, "{:?}", started.elapsed());
    assert!(!env.work().join("dest").exists());
    no_staging_left(&env.work());

    // Connections cut mid-blob every time: gives up too.
    proxy.clear();
    proxy.add(
        "GET",
        &format!("/blobs/sha256:{MINILM_SAFETENSORS_SHA256}"),
        Fault::DropResponseAfter(0),
        usize::MAX,
    );
    let r = pull_unverified(&env, &reference, "dest", &[]).expect_code(2);
    assert!(r.stderr.contains("gave up after"), "{}", r.stderr);
    assert!(!env.work().join("dest").exists());
    no_staging_left(&env.work());
}

#[test]
fn referrers_api_registry_gets_no_tag_schema() {
    let reg = referrers_server::ReferrersRegistry::start();
    let env = TestEnv::new();
    let proj = project(&env, "p");
    write_bundles(&proj);
    let reference = format!("{}/models/minilm:1.0", reg.addr);
    let j = run(
        &env,
        &proj,
        &["push", "--plain-http", &reference, "--format", "json"],
        &[],
    )
    .ok()
    .json();
    assert_eq!(j["referrersVia"], "api");
    assert_eq!(j["referrers"].as_array().unwrap().len(), 2);
    {
        let st = reg.state.lock().unwrap();
        assert!(
            !st.requests.iter().any(|r| r.contains("/manifests/sha256-")),
            "tag schema used on a registry with the referrers API: {:?}",
            st.requests
        );
    }
    let j = run(
        &env,
        &env.work(),
        &[
            "pull",
            "--plain-http",
            "--no-verify",
            &reference,
            "-o",
            "dest",
            "--format",
            "json",
        ],
        &[],
    )
    .ok()
    .json();
    assert_eq!(j["referrersVia"], "api");
    assert_eq!(j["bundles"].as_array().unwrap().len(), 2);
    assert!(tree(&env.work().join("dest")) == model_tree());
    let st = reg.state.lock().unwrap();
    assert!(
        st.requests
            .iter()
            .any(|r| r.starts_with("GET /v2/models/minilm/referrers/sha256:"))
    );
    assert!(!st.requests.iter().any(|r| r.contains("/manifests/sha256-")));
}

#[test]
fn oci_input_pins_the_artifact_and_manifest_digests_and_layers() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let env = TestEnv::new();
    let proj = project(&env, "p");
    let reference = format!("{}/models/minilm:1.0", reg.addr);
    let pushed = run(
        &env,
        &proj,
        &["push", "--plain-http", &reference, "--format", "json"],
        &[],
    )
    .ok()
    .json();
    let digest = pushed["digest"].as_str().unwrap().to_string();
    let artifact = pushed["artifactDigest"].as_str().unwrap().to_string();
    assert_eq!(
        artifact,
        format!("sha256:{}", artifact_digest(&proj.join("out")))
    );

    let ft = ProjectBuilder::new(env.work().join("ft"))
        .name("acme/ft")
        .version("1")
        .input(
            "base",
            &format!(r#"{{ oci = "{reference}", role = "base-model" }}"#),
        )
        .build();
    let r = run(&env, &ft, &["pin"], &[]).expect_code(2);
    assert!(
        r.stderr.contains("--plain-http") || r.stderr.contains("gave up"),
        "{}",
        r.stderr
    );
    run(&env, &ft, &["pin"], &[("MLPROV_REGISTRY_PLAIN_HTTP", "1")]).ok();
    let lock = std::fs::read_to_string(ft.join("mlprov.lock")).unwrap();
    // The digest is the artifact digest, as for every source; the manifest
    // the reference resolved to is recorded beside it.
    assert!(lock.contains("\nversion = 2\n"), "{lock}");
    assert!(
        lock.contains(&format!(
            "digest = \"{artifact}\"\nmanifest = \"{digest}\"\n"
        )),
        "{lock}"
    );
    assert!(
        lock.contains(&format!("source = \"oci:{reference}\"")),
        "{lock}"
    );
    assert!(lock.contains("requested = \"1.0\""), "{lock}");
    assert!(
        lock.contains(&format!(
            "{{ path = \"model.safetensors\", size = 90868376, sha256 = \"{MINILM_SAFETENSORS_SHA256}\", format = \"safetensors\" }}"
        )),
        "{lock}"
    );
    assert!(lock.contains("license = \"Apache-2.0\""), "{lock}");
    // Files are cached, digest-checked, where build looks for them.
    let cached = env
        .path()
        .join("cache/oci/sha256")
        .join(digest.trim_start_matches("sha256:"));
    assert!(tree(&cached) == model_tree());
    // Pinning again changes nothing (and needs no download).
    run(
        &env,
        &ft,
        &["pin", "--locked"],
        &[("MLPROV_REGISTRY_PLAIN_HTTP", "1")],
    )
    .ok();

    // A version 1 lock (where the oci digest was the manifest digest):
    // --locked refuses to upgrade it, pin upgrades it in place and says so.
    let v1 = lock.replace("\nversion = 2\n", "\nversion = 1\n").replace(
        &format!("digest = \"{artifact}\"\nmanifest = \"{digest}\"\n"),
        &format!("digest = \"{digest}\"\n"),
    );
    std::fs::write(ft.join("mlprov.lock"), &v1).unwrap();
    let r = run(
        &env,
        &ft,
        &["pin", "--locked"],
        &[("MLPROV_REGISTRY_PLAIN_HTTP", "1")],
    )
    .expect_code(1);
    assert!(
        r.stderr.contains("mlprov::pin::lock-version"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("lock version 1"), "{}", r.stderr);
    assert!(r.stderr.contains("run `mlprov pin`"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(ft.join("mlprov.lock")).unwrap(), v1);
    let r = run(&env, &ft, &["pin", "--offline"], &[]).ok();
    assert!(
        r.stderr
            .contains("Upgraded mlprov.lock from lock version 1 to 2"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(ft.join("mlprov.lock")).unwrap(),
        lock
    );
    run(&env, &ft, &["pin", "--locked", "--offline"], &[]).ok();
}

#[test]
fn push_takes_facts_from_the_build_and_refuses_stale_provenance() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let env = TestEnv::new();
    let proj = project(&env, "p");
    let commit = git_init_commit(&proj);
    run(&env, &proj, &["pin"], &[]).ok();
    run(
        &env,
        &proj,
        &["build", "--skip-training", "--allow-dirty"],
        &[],
    )
    .ok();
    let prov: serde_json::Value =
        serde_json::from_slice(&std::fs::read(proj.join("target/mlprov/provenance.json")).unwrap())
            .unwrap();
    let reference = format!("{}/models/minilm:1.0", reg.addr);
    run(&env, &proj, &["push", "--plain-http", &reference], &[]).ok();
    let (_, bytes) = reg.manifest("models/minilm", "1.0");
    let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let ann = &m["annotations"];
    assert_eq!(ann["org.opencontainers.image.revision"], commit);
    assert_eq!(
        ann["org.opencontainers.image.created"],
        prov["predicate"]["runDetails"]["metadata"]["finishedOn"]
    );
    let lock = std::fs::read(proj.join("mlprov.lock")).unwrap();
    assert_eq!(
        ann["dev.mlprov.lock.digest"],
        format!("sha256:{}", sha256_hex(&lock))
    );

    // The files changed after the build: the provenance no longer describes
    // them, a failed check (exit 1, as `build` with a stale lock).
    std::fs::write(proj.join("out/README.md"), "changed\n").unwrap();
    let r = run(&env, &proj, &["push", "--plain-http", &reference], &[]).expect_code(1);
    assert!(
        r.stderr.contains("provenance.json describes"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

/// Issue 13's acceptance for `oci` inputs, as two users would do it, each
/// from a fresh MLPROV_HOME: A is built, attested, signed and pushed; F names
/// it as an `oci` input, pins it, attests its import, builds, attests, signs
/// and pushes. `verify` of F gives the same verdict and the same node
/// identities with the registry reachable, stopped, and under `--offline`:
/// every node is its artifact digest, wherever its bundles come from.
#[test]
fn oci_inputs_pin_import_build_push_and_verify_online_and_offline_alike() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let pw = [("MLPROV_PASSWORD", "correct horse")];
    let http = [
        ("MLPROV_PASSWORD", "correct horse"),
        ("MLPROV_REGISTRY_PLAIN_HTTP", "1"),
    ];

    // A: the base model, by its own team.
    let env_a = TestEnv::new();
    let a = project(&env_a, "a");
    run(&env_a, &a, &["keygen"], &pw).ok();
    run(&env_a, &a, &["pin"], &[]).ok();
    run(&env_a, &a, &["build", "--allow-dirty"], &[]).ok();
    run(&env_a, &a, &["attest", "--key", "cosign.key"], &pw).ok();
    run(&env_a, &a, &["sign", "--key", "cosign.key"], &pw).ok();
    let a_ref = format!("{}/models/a:1", reg.addr);
    let pushed = run(
        &env_a,
        &a,
        &["push", "--plain-http", &a_ref, "--format", "json"],
        &[],
    )
    .ok()
    .json();
    let a_manifest = pushed["digest"].as_str().unwrap().to_string();
    let a_artifact = pushed["artifactDigest"].as_str().unwrap().to_string();
    assert_eq!(pushed["referrers"].as_array().unwrap().len(), 4, "{pushed}");

    // F: fine-tuned from A by another team, on another machine.
    let env = TestEnv::new();
    let f = env.work().join("f");
    std::fs::create_dir_all(&f).unwrap();
    run(&env, &f, &["keygen"], &pw).ok();
    let slsa_scan = format!("[\"{SLSA}\", \"https://mlprov.dev/scan/v1\"]");
    std::fs::write(
        f.join("mlprov.toml"),
        format!(
            "[artifact]\nname = \"acme/ft\"\nversion = \"1\"\nkind = \"model\"\npath = \"out/\"\nlicense = \"Apache-2.0\"\n\n\
             [inputs]\nbase = {{ oci = \"{a_ref}\", role = \"base-model\" }}\n\n\
             [policy]\nlicenses.allow = [\"Apache-2.0\"]\nrequire-pinned-revisions = true\n\n\
             [policy.artifact]\nrequire = [\"{SLSA}\", \"{SPDX}\", \"https://model_signing/signature/v1.0\"]\nsigners = [\"cosign.pub\"]\n\n\
             [policy.roles.base-model]\nrequire = {slsa_scan}\nsigners = [\"cosign.pub\"]\n"
        ),
    )
    .unwrap();
    run(&env, &f, &["pin"], &http).ok();
    let lock = std::fs::read_to_string(f.join("mlprov.lock")).unwrap();
    assert!(
        lock.contains(&format!(
            "digest = \"{a_artifact}\"\nmanifest = \"{a_manifest}\"\n"
        )),
        "{lock}"
    );
    // The import attestation of an oci input (refused before lock v2).
    let r = run(
        &env,
        &f,
        &[
            "attest",
            "import",
            "base",
            "--key",
            "cosign.key",
            "--format",
            "json",
        ],
        &http,
    )
    .ok();
    let bundles = r.json()["bundles"].clone();
    for b in bundles.as_array().unwrap() {
        assert_eq!(b["subjects"], serde_json::json!([a_artifact]), "{bundles}");
    }
    let store_a = env.store().join("store/sha256").join(&a_artifact[7..]);
    assert_eq!(std::fs::read_dir(&store_a).unwrap().count(), 2);
    run(
        &env,
        &f,
        &[
            "build",
            "--allow-dirty",
            "--",
            "sh",
            "-c",
            "mkdir -p out && printf '{\"base\": \"a\", \"epochs\": 1}\\n' > out/config.json",
        ],
        &http,
    )
    .ok();
    let prov: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.join("target/mlprov/provenance.json")).unwrap())
            .unwrap();
    let dep = &prov["predicate"]["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(dep["name"], "base");
    assert_eq!(dep["digest"]["sha256"], a_artifact[7..]);
    assert_eq!(
        dep["uri"],
        format!("oci://{}/models/a@{a_manifest}", reg.addr)
    );
    run(&env, &f, &["attest", "--key", "cosign.key"], &pw).ok();
    run(&env, &f, &["sign", "--key", "cosign.key"], &pw).ok();
    let f_ref = format!("{}/models/f:1", reg.addr);
    let pushed = run(
        &env,
        &f,
        &["push", "--plain-http", &f_ref, "--format", "json"],
        &[],
    )
    .ok()
    .json();
    let f_artifact = pushed["artifactDigest"].as_str().unwrap().to_string();

    // The verdict and the node identities of one verification.
    let summary = |r: &Run| {
        let j = r.json();
        let mut nodes: Vec<(String, String, bool, Option<String>)> = j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["id"].as_str().unwrap().to_string(),
                    n["roles"][0].as_str().unwrap().to_string(),
                    n["verified"].as_bool().unwrap(),
                    n["manifestDigest"].as_str().map(str::to_string),
                )
            })
            .collect();
        nodes.sort();
        (j["verified"].as_bool().unwrap(), nodes)
    };
    let want = {
        let mut n = vec![
            (
                a_artifact.clone(),
                "base-model".to_string(),
                true,
                Some(a_manifest.clone()),
            ),
            (f_artifact.clone(), "artifact".to_string(), true, None),
        ];
        n.sort();
        (true, n)
    };

    // Online: F from the registry, A's location read from the registry.
    let online = run(
        &env,
        &f,
        &["verify", "--plain-http", &f_ref, "--format", "json"],
        &[],
    )
    .ok();
    let mut online_summary = summary(&online);
    // The registry root carries its manifest digest; a local root has none.
    for n in &mut online_summary.1 {
        if n.0 == f_artifact {
            assert_eq!(n.3.as_deref(), pushed["digest"].as_str());
            n.3 = None;
        }
    }
    assert_eq!(online_summary, want, "{}", online.stdout);
    let j = online.json();
    let a_node = j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == a_artifact)
        .unwrap();
    assert_eq!(
        a_node["location"],
        format!("{}/models/a@{a_manifest}", reg.addr),
        "{a_node}"
    );
    // A's own bundles (signed by A's team, whom F's policy does not trust
    // for base models) were read from the registry and change nothing.
    assert!(
        a_node["attestations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["source"].as_str().unwrap_or("").contains("referrer")),
        "{a_node}"
    );

    // The same, locally (the project's out/ and the local store), with the
    // registry up and then down, and with --offline.
    let local = |args: &[&str]| {
        let mut v = vec!["verify", "--plain-http", "--format", "json"];
        v.extend(args);
        let r = run(&env, &f, &v, &[]);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        summary(&r)
    };
    assert_eq!(local(&[]), want);
    assert_eq!(local(&[&f_artifact]), want);
    drop(reg);
    assert_eq!(local(&[]), want);
    assert_eq!(local(&[&f_artifact]), want);
    assert_eq!(local(&["--offline"]), want);
    assert_eq!(local(&["--offline", &f_artifact]), want);

    // Without the import attestations the base model is unproven from what
    // is at hand: it fails, on that node, saying what is missing and that
    // its registry location could not be read.
    std::fs::remove_dir_all(&store_a).unwrap();
    for sidecar in [
        "import-base.sigstore.json",
        "import-base.scan.sigstore.json",
    ] {
        std::fs::remove_file(f.join("target/mlprov").join(sidecar)).unwrap();
    }
    for args in [vec![], vec!["--offline"]] {
        let mut v = vec!["verify", "--plain-http", "--format", "json"];
        v.extend(args);
        let r = run(&env, &f, &v, &[]).expect_code(1);
        let j = r.json();
        assert_eq!(j["verified"], false);
        let failing: Vec<&str> = j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["node"].as_str().unwrap())
            .collect();
        assert!(failing.iter().all(|n| *n == a_artifact), "{}", r.stdout);
        assert!(r.stdout.contains("E0301"), "{}", r.stdout);
        assert!(r.stdout.contains("E0604"), "{}", r.stdout);
    }
}

/// The attestations of a verification report: (node, predicate type, status)
/// of every counted one, and the ignored ones' reasons.
fn counted_and_ignored(j: &serde_json::Value) -> (Vec<(String, String, String)>, Vec<String>) {
    let (mut counted, mut ignored) = (Vec::new(), Vec::new());
    for n in j["nodes"].as_array().unwrap() {
        for a in n["attestations"].as_array().unwrap() {
            if a["status"] == "ignored" {
                ignored.push(a["reason"].as_str().unwrap_or("").to_string());
            } else {
                counted.push((
                    n["id"].as_str().unwrap().to_string(),
                    a["predicateType"].as_str().unwrap_or("").to_string(),
                    a["status"].to_string(),
                ));
            }
        }
    }
    counted.sort();
    (counted, ignored)
}

/// Issue 14 item 3: extra referrers pushed by a second signer (another key)
/// and by a keyless signer of a Sigstore instance the verifier does not
/// trust prove nothing and break nothing: `verify REF` and `pull REF` give
/// the same verdict with the same counted attestations, and the report
/// (JSON and text) lists the extra bundles as ignored.
#[test]
fn untrusted_referrers_change_nothing() {
    use crate::sigstore_server::Sigstore;
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let env = TestEnv::new();
    let proj = ProjectBuilder::new(env.work().join("model"))
        .name("acme/tiny")
        .version("1.0")
        .license("Apache-2.0")
        .file("out/config.json", br#"{"hidden": 4}"#)
        .file("out/model.safetensors", safetensors(&[0.5, 1.5, -2.0]))
        .build();
    let pw = [("MLPROV_PASSWORD", "correct horse")];
    run(&env, &proj, &["keygen"], &pw).ok();
    run(&env, &proj, &["pin"], &[]).ok();
    run(&env, &proj, &["build", "--allow-dirty"], &[]).ok();
    // The second signer and the keyless signer start from the same build.
    let second = env.work().join("second");
    let keyless = env.work().join("keyless");
    copy_dir(&proj, &second);
    copy_dir(&proj, &keyless);
    run(&env, &proj, &["attest", "--key", "cosign.key"], &pw).ok();
    run(&env, &proj, &["sign", "--key", "cosign.key"], &pw).ok();
    let reference = format!("{}/models/tiny:1.0", reg.addr);
    let push = |dir: &Path| {
        run(
            &env,
            dir,
            &["push", "--plain-http", &reference, "--format", "json"],
            &[],
        )
        .ok()
        .json()
    };
    let manifest = push(&proj)["digest"].clone();

    // The verifier is another machine: an empty local store.
    let verifier_home = env.path().join("verifier");
    let verifier = [("MLPROV_HOME", verifier_home.to_str().unwrap())];
    let public = proj.join("cosign.pub");
    let verify_args = |format: &str| -> Vec<String> {
        [
            "--format",
            format,
            "verify",
            "--plain-http",
            &reference,
            "--key",
            public.to_str().unwrap(),
            "--require",
            SLSA,
            "--require",
            SPDX,
            "--require",
            "https://mlprov.dev/scan/v1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let verify = |format: &str| {
        let args = verify_args(format);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&env, &env.work(), &args, &verifier).ok()
    };
    let before = verify("json").json();
    assert_eq!(before["verified"], true, "{before}");
    let (counted_before, ignored_before) = counted_and_ignored(&before);
    assert!(ignored_before.is_empty(), "{before}");
    assert!(counted_before.len() >= 4, "{before}");

    // A second legitimate signer attests and signs the same model with its
    // own key and pushes its bundles as more referrers.
    run(
        &env,
        &second,
        &["keygen", "--output-key-prefix", "second"],
        &pw,
    )
    .ok();
    run(&env, &second, &["attest", "--key", "second.key"], &pw).ok();
    run(&env, &second, &["sign", "--key", "second.key"], &pw).ok();
    assert_eq!(push(&second)["digest"], manifest);

    // A keyless signer of another Sigstore instance (a local Fulcio and
    // Rekor the verifier's trusted root does not list) does the same.
    let sigstore = Sigstore::start();
    let root = env.work().join("other_trusted_root.json");
    std::fs::write(
        &root,
        serde_json::to_vec_pretty(&sigstore.trusted_root()).unwrap(),
    )
    .unwrap();
    let vars: Vec<(&str, String)> = sigstore.actions_env().into_iter().collect();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run(
        &env,
        &keyless,
        &[
            "attest",
            "--keyless",
            "--fulcio-url",
            &sigstore.url,
            "--rekor-url",
            &sigstore.url,
            "--trusted-root",
            root.to_str().unwrap(),
        ],
        &vars,
    )
    .ok();
    assert_eq!(push(&keyless)["digest"], manifest);

    // The verdict and what counts are the same; the extra bundles are
    // listed as ignored.
    let after = verify("json").json();
    assert_eq!(after["verified"], true, "{after}");
    let (counted_after, ignored) = counted_and_ignored(&after);
    assert_eq!(counted_after, counted_before, "{after}");
    assert_eq!(after["findings"], before["findings"], "{after}");
    // What the first signer pushed, again by the second key; provenance,
    // SBOM and scan by the keyless signer.
    assert_eq!(ignored.len(), counted_before.len() + 3, "{after}");
    assert!(
        ignored.iter().all(|r| r.starts_with("untrusted signer")),
        "{ignored:?}"
    );
    let by_key = |r: &&String| r.contains("signed by a key that is not trusted");
    assert_eq!(
        ignored.iter().filter(by_key).count(),
        counted_before.len(),
        "{ignored:?}"
    );
    assert_eq!(
        ignored.iter().filter(|r| r.contains("keyless")).count(),
        3,
        "{ignored:?}"
    );
    let text = verify("human");
    assert_eq!(
        text.stdout.matches("ignored: untrusted signer").count(),
        ignored.len(),
        "{}",
        text.stdout
    );

    // A verifier that also trusts keyless signers, of its own Sigstore
    // instance: the other instance's certificates do not chain, so its
    // bundles are still ignored, and nothing else changes.
    let ours = Sigstore::start();
    let our_root = env.work().join("our_trusted_root.json");
    std::fs::write(
        &our_root,
        serde_json::to_vec_pretty(&ours.trusted_root()).unwrap(),
    )
    .unwrap();
    let mut args = verify_args("json");
    args.extend(
        [
            "--trusted-root",
            our_root.to_str().unwrap(),
            "--certificate-identity",
            crate::sigstore_server::WORKFLOW,
            "--certificate-oidc-issuer",
            crate::sigstore_server::GITHUB_ISSUER,
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let j = run(&env, &env.work(), &args, &verifier).ok().json();
    assert_eq!(j["verified"], true, "{j}");
    let (counted, ignored) = counted_and_ignored(&j);
    assert_eq!(counted, counted_before, "{j}");
    assert_eq!(ignored.len(), counted_before.len() + 3, "{j}");
    let keyless: Vec<&String> = ignored.iter().filter(|r| !by_key(r)).collect();
    assert_eq!(keyless.len(), 3, "{ignored:?}");
    assert!(
        keyless
            .iter()
            .all(|r| r.contains("which the trusted root does not list") || r.contains("chain")),
        "{keyless:?}"
    );

    // pull applies the same verification: it succeeds, and files only the
    // bundles that counted.
    let home2 = env.path().join("home2");
    let r = run(
        &env,
        &env.work(),
        &[
            "--format",
            "json",
            "pull",
            "--plain-http",
            &reference,
            "-o",
            "pulled",
            "--key",
            public.to_str().unwrap(),
            "--require",
            SLSA,
            "--require",
            SPDX,
            "--require",
            "https://mlprov.dev/scan/v1",
        ],
        &[("MLPROV_HOME", home2.to_str().unwrap())],
    )
    .ok();
    assert_eq!(r.json()["verified"], true, "{}", r.stdout);
    assert!(env.work().join("pulled/model.safetensors").is_file());
}

/// PUT a manifest (by tag or digest); returns its digest.
pub fn put_manifest(
    reg: &Registry,
    repo: &str,
    reference: &str,
    body: &[u8],
    media_type: &str,
) -> String {
    let r = reqwest::blocking::Client::new()
        .put(format!(
            "http://{}/v2/{repo}/manifests/{reference}",
            reg.addr
        ))
        .header("Content-Type", media_type)
        .basic_auth(USER, Some(PASSWORD))
        .body(body.to_vec())
        .send()
        .expect("PUT manifest");
    assert!(r.status().is_success(), "PUT {reference}: {}", r.status());
    format!("sha256:{}", sha256_hex(body))
}

/// Publish a copy of `repo:from` as `repo:to` with its layers edited by
/// `edit`, and its referrers (tag schema) re-attached to the copy, as
/// someone with push access could: the same signed bundles, other names.
pub fn relabel(
    reg: &Registry,
    repo: &str,
    from: &str,
    to: &str,
    edit: impl Fn(&mut serde_json::Value),
) {
    const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    let (status, body) = reg.manifest(repo, from);
    assert_eq!(status, 200);
    let old = format!("sha256:{}", sha256_hex(&body));
    let mut m: serde_json::Value = serde_json::from_slice(&body).unwrap();
    for layer in m["layers"].as_array_mut().unwrap() {
        edit(layer);
    }
    let new_body = serde_json::to_vec(&m).unwrap();
    let new = put_manifest(reg, repo, to, &new_body, MANIFEST);
    let (status, index) = reg.manifest(repo, &old.replace(':', "-"));
    assert_eq!(status, 200, "no tag-schema index for {old}");
    let mut index: serde_json::Value = serde_json::from_slice(&index).unwrap();
    for d in index["manifests"].as_array_mut().unwrap() {
        let (_, rb) = reg.manifest(repo, d["digest"].as_str().unwrap());
        let mut r: serde_json::Value = serde_json::from_slice(&rb).unwrap();
        r["subject"]["digest"] = new.clone().into();
        r["subject"]["size"] = new_body.len().into();
        let rb = serde_json::to_vec(&r).unwrap();
        let digest = format!("sha256:{}", sha256_hex(&rb));
        put_manifest(reg, repo, &digest, &rb, MANIFEST);
        d["digest"] = digest.into();
        d["size"] = rb.len().into();
    }
    put_manifest(
        reg,
        repo,
        &new.replace(':', "-"),
        &serde_json::to_vec(&index).unwrap(),
        "application/vnd.oci.image.index.v1+json",
    );
}

/// Layers renamed or pointed outside the destination by someone with push
/// access: `verify REF` fails exactly as `pull` does (the signed file list
/// names other paths), no file lands outside the destination (a canary
/// keeps its bytes), and no mode from the layer metadata is applied.
#[test]
fn relabelled_layers_fail_verify_ref_and_pull_alike() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let env = TestEnv::new();
    let proj = project(&env, "p");
    let pw = [("MLPROV_PASSWORD", "correct horse")];
    run(&env, &proj, &["keygen"], &pw).ok();
    run(&env, &proj, &["pin"], &[]).ok();
    run(&env, &proj, &["build", "--allow-dirty"], &[]).ok();
    run(&env, &proj, &["attest", "--key", "cosign.key"], &pw).ok();
    run(&env, &proj, &["sign", "--key", "cosign.key"], &pw).ok();
    let reference = format!("{}/models/m:1.0", reg.addr);
    run(&env, &proj, &["push", "--plain-http", &reference], &[]).ok();
    let public = proj.join("cosign.pub");
    let public = public.to_str().unwrap();
    let canary = env.work().join("canary");
    std::fs::write(&canary, "canary").unwrap();
    let set_path = |layer: &mut serde_json::Value, to: &str, mode: Option<u32>| {
        let ann = &mut layer["annotations"];
        ann["org.cncf.model.filepath"] = to.into();
        ann["org.opencontainers.image.title"] = to.into();
        if let Some(mode) = mode {
            let key = "org.cncf.model.file.metadata+json";
            let mut meta: serde_json::Value =
                serde_json::from_str(ann[key].as_str().unwrap()).unwrap();
            meta["mode"] = mode.into();
            ann[key] = meta.to_string().into();
        }
    };
    let path_of = |layer: &serde_json::Value| {
        layer["annotations"]["org.cncf.model.filepath"]
            .as_str()
            .unwrap()
            .to_string()
    };
    relabel(&reg, "models/m", "1.0", "renamed", |l| {
        match path_of(l).as_str() {
            "config.json" => set_path(l, "a/run.sh", Some(0o755)),
            // Names that keep the files in the same order keep the artifact digest.
            "model.safetensors" => set_path(l, "model.z", None),
            _ => {}
        }
    });
    let escape = canary.display().to_string();
    for (tag, to) in [("up", "../canary"), ("abs", escape.as_str())] {
        relabel(&reg, "models/m", "1.0", tag, |l| {
            if path_of(l) == "config.json" {
                set_path(l, to, Some(0o755));
            }
        });
    }

    let renamed = format!("{}/models/m:renamed", reg.addr);
    let r = run(
        &env,
        &env.work(),
        &["verify", "--plain-http", &renamed, "--key", public],
        &[],
    )
    .expect_code(1);
    for want in ["E0102", "E0103", "a/run.sh", "config.json"] {
        assert!(
            r.stdout.contains(want),
            "verify REF: no {want}:\n{}",
            r.stdout
        );
    }
    let r = run(
        &env,
        &env.work(),
        &[
            "pull",
            "--plain-http",
            &renamed,
            "-o",
            "renamed",
            "--key",
            public,
        ],
        &[],
    )
    .expect_code(1);
    assert!(
        r.stderr.contains("E0102") && r.stderr.contains("E0103"),
        "{}",
        r.stderr
    );
    assert!(!env.work().join("renamed").exists());
    // The untouched reference still verifies.
    run(
        &env,
        &env.work(),
        &["verify", "--plain-http", &reference, "--key", public],
        &[],
    )
    .ok();

    for tag in ["up", "abs"] {
        let bad = format!("{}/models/m:{tag}", reg.addr);
        for extra in [&["--key", public][..], &["--no-verify"]] {
            let out = env.work().join("d").join(tag);
            let mut args = vec!["pull", "--plain-http", &bad, "-o", out.to_str().unwrap()];
            args.extend(extra);
            let r = run(&env, &env.work(), &args, &[]);
            assert!(r.code == 1 || r.code == 2, "{tag} {extra:?}: {}", r.stderr);
            assert!(
                r.stderr.contains("unsafe") || r.stderr.contains("filepath"),
                "{}",
                r.stderr
            );
            assert_eq!(std::fs::read_to_string(&canary).unwrap(), "canary");
        }
        let r = run(
            &env,
            &env.work(),
            &["verify", "--plain-http", &bad, "--key", public],
            &[],
        );
        assert!(r.code == 1 || r.code == 2, "{}", r.stdout);
    }
    no_staging_left(&env.work());

    // --no-verify places the renamed files, without the unsigned 0755.
    let r = run(
        &env,
        &env.work(),
        &["pull", "--plain-http", &renamed, "-o", "nv", "--no-verify"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.work().join("nv/a/run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0, "an unsigned mode was applied: {mode:o}");
    }
}

/// `pull` interrupted by a real SIGINT or SIGTERM while a blob download
/// hangs removes its staging directory and exits 130; a staging directory
/// a SIGKILLed pull left (its owner pid gone) is swept by the next pull.
#[cfg(unix)]
#[test]
fn interrupted_pull_removes_its_staging_directory() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let proxy = Proxy::start(&reg.addr);
    let env = TestEnv::new();
    let proj = project(&env, "p");
    write_bundles(&proj);
    let reference = format!("{}/models/minilm:1.0", proxy.addr);
    run(&env, &proj, &["push", "--plain-http", &reference], &[]).ok();
    let staging = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with(".mlprov-pull-"))
            .collect()
    };
    for signal in ["INT", "TERM"] {
        proxy.clear();
        proxy.add("GET", "/blobs/sha256:", Fault::Stall, usize::MAX);
        let parent = env.work().join(format!("sig-{signal}"));
        std::fs::create_dir_all(&parent).unwrap();
        let mut cmd = env.cmd(&parent);
        cmd.args([
            "pull",
            "--plain-http",
            "--no-verify",
            &reference,
            "-o",
            "dest",
        ])
        .env("MLPROV_REGISTRY_TIMEOUT", "60")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
        let child = cmd.spawn().unwrap();
        let started = Instant::now();
        while staging(&parent).is_empty() {
            assert!(
                started.elapsed().as_secs() < 60,
                "no staging directory appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        let killed = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(killed.success());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "SIG{signal}: {stderr}");
        assert!(
            staging(&parent).is_empty(),
            "SIG{signal}: {:?}",
            staging(&parent)
        );
        assert!(!parent.join("dest").exists());
    }

    // What SIGKILL leaves (a dead owner pid in the name, older than the
    // grace minute) goes on the next pull into the same parent.
    proxy.clear();
    let parent = env.work().join("killed");
    let left = parent.join(".mlprov-pull-999999999-abc");
    std::fs::create_dir_all(left.join("sub")).unwrap();
    std::fs::write(left.join("sub/partial"), b"x").unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::open(&left)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    run(
        &env,
        &parent,
        &[
            "pull",
            "--plain-http",
            "--no-verify",
            &reference,
            "-o",
            "dest",
        ],
        &[],
    )
    .ok();
    assert!(!left.exists(), "the stale staging directory was not swept");
    assert!(tree(&parent.join("dest")) == model_tree());
}

/// Two pushes of the same model at once, with different bundles, to a
/// registry without the referrers API: the proxy delays every read of the
/// `sha256-<digest>` index by 1.5 s, so both pushes read it before either
/// writes. Both exit 0 and the index ends up with both pushes' entries.
#[test]
fn racing_pushes_keep_both_sets_of_tag_schema_entries() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let proxy = Proxy::start(&reg.addr);
    let env = TestEnv::new();
    let a = project(&env, "a");
    let b = project(&env, "b");
    let digest = artifact_digest(&a.join("out"));
    // Different bundles for the same subject (another predicate each).
    for (proj, predicate) in [
        (&a, "https://example.com/a/v1"),
        (&b, "https://example.com/b/v1"),
    ] {
        let out = proj.join("target").join("mlprov");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("provenance.sigstore.json"), bundle(SLSA, &digest)).unwrap();
        std::fs::write(out.join("extra.sigstore.json"), bundle(predicate, &digest)).unwrap();
    }
    let reference = format!("{}/models/race:1.0", proxy.addr);
    // Every GET of the tag-schema index answers late.
    proxy.add("GET", "/manifests/sha256-", Fault::Delay(1500), usize::MAX);
    let spawn = |proj: &Path| {
        let mut c = env.cmd(proj);
        c.args(["push", "--plain-http", &reference, "--format", "json"])
            .env_remove("MLPROV_REGISTRY_USERNAME")
            .env_remove("MLPROV_REGISTRY_PASSWORD")
            .env("DOCKER_CONFIG", env.path().join("docker"))
            // The same manifest for both (its `created` comes from here).
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c.spawn().unwrap()
    };
    let (ca, cb) = (spawn(&a), spawn(&b));
    let (oa, ob) = (
        ca.wait_with_output().unwrap(),
        cb.wait_with_output().unwrap(),
    );
    let mut want = std::collections::BTreeSet::new();
    for o in [&oa, &ob] {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for r in j["referrers"].as_array().unwrap() {
            want.insert(r["digest"].as_str().unwrap().to_string());
        }
    }
    let (status, index) = reg.manifest(
        "models/race",
        &format!("sha256-{}", {
            let (_, m) = reg.manifest("models/race", "1.0");
            sha256_hex(&m)
        }),
    );
    assert_eq!(status, 200);
    let index: serde_json::Value = serde_json::from_slice(&index).unwrap();
    let have: std::collections::BTreeSet<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap().to_string())
        .collect();
    assert!(want.len() >= 3, "{want:?}");
    assert_eq!(have, want, "entries lost from the tag-schema index");
    // Both reads really raced: at least two delayed index reads overlapped.
    let delayed = proxy
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, f)| matches!(f, Some(Fault::Delay(_))))
        .count();
    assert!(delayed >= 4, "{delayed}");
}

/// A token that lives 1 s (`expires_in: 1`) is renewed before each use
/// rather than sent until the registry refuses it: the push logs in again
/// and again, and succeeds.
#[test]
fn short_lived_tokens_are_renewed_before_they_expire() {
    let service = token_service::TokenService::start_with_life(1);
    let Some(reg) = Registry::start_with_tokens(&service) else {
        return;
    };
    let env = TestEnv::new();
    let proj = project(&env, "p");
    let reference = format!("{}/models/minilm:1.0", reg.addr);
    run(&env, &proj, &["push", "--plain-http", &reference], &LOGIN).ok();
    let logins = service
        .asked()
        .iter()
        .filter(|a| a.status == 200 && a.scopes == ["repository:models/minilm:pull,push"])
        .count();
    // Renewed for every request (13 blobs, manifests, referrers), where a
    // kept token would log in once or twice.
    assert!(logins > 10, "{logins}: {:?}", service.asked());
    pull_unverified(&env, &reference, "a", &LOGIN).ok();
    assert!(tree(&env.work().join("a")) == model_tree());
}

/// A credential helper that knows one server: `docker-credential-NAME get`
/// reads the server from stdin and answers `{"ServerURL", "Username",
/// "Secret"}`, or "credentials not found in native keychain" with exit 1
/// (docker-credential-helpers' protocol). Each server asked is logged.
fn credential_helper(dir: &Path, name: &str, server: &str, user: &str, secret: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let script = dir.join(format!("docker-credential-{name}"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nserver=$(cat)\necho \"$server\" >> \"$0.log\"\nif [ \"$server\" = '{server}' ]; then\n  printf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{secret}\"}}' \"$server\"\nelse\n  echo 'credentials not found in native keychain'\n  exit 1\nfi\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn docker_config(env: &TestEnv, json: &str) {
    let docker = env.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(docker.join("config.json"), json).unwrap();
}

/// Credentials as `docker login` leaves them with a credential store
/// (Docker Desktop, pass, secretservice) or a per-registry helper (ECR,
/// GCR): `credsStore`, `credHelpers` winning over it, a helper with nothing
/// for the registry (anonymous, then refused), a helper that is not
/// installed (an error naming it and the file), and an identity token
/// (a helper's `<token>` user) exchanged at a token service by OAuth2.
#[test]
fn docker_credential_helpers_and_identity_tokens() {
    let Some(reg) = Registry::start(true) else {
        return;
    };
    let env = TestEnv::new();
    let proj = project(&env, "p");
    let reference = format!("{}/models/minilm:1.0", reg.addr);
    let helpers = env.path().join("helpers");
    let script = credential_helper(&helpers, "mlprov-test", &reg.addr, USER, PASSWORD);
    let path = format!(
        "{}:{}",
        helpers.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let with_path = [("PATH", path.as_str())];

    docker_config(
        &env,
        &format!(
            r#"{{"auths": {{"{}": {{}}}}, "credsStore": "mlprov-test"}}"#,
            reg.addr
        ),
    );
    run(
        &env,
        &proj,
        &["push", "--plain-http", &reference],
        &with_path,
    )
    .ok();
    let log = std::fs::read_to_string(script.with_extension("log")).unwrap_or_default();
    assert!(log.lines().any(|l| l == reg.addr), "{log}");

    // credHelpers names the helper for this registry; the store is never run.
    docker_config(
        &env,
        &format!(
            r#"{{"credsStore": "absent", "credHelpers": {{"{}": "mlprov-test"}}}}"#,
            reg.addr
        ),
    );
    let pull = |dir: &str, reference: &str| pull_unverified(&env, reference, dir, &with_path);
    pull("a", &reference).ok();
    assert!(tree(&env.work().join("a")) == model_tree());

    // The helper has nothing for `localhost:PORT`: anonymous, refused.
    let port = reg.addr.rsplit(':').next().unwrap();
    docker_config(&env, r#"{"credsStore": "mlprov-test"}"#);
    let r = pull("b", &format!("localhost:{port}/models/minilm:1.0")).expect_code(2);
    assert!(r.stderr.contains("refused the credentials"), "{}", r.stderr);
    assert!(!env.work().join("b").exists());

    // A store that is not installed: an error naming it and the file.
    docker_config(&env, r#"{"credsStore": "absent"}"#);
    let r = pull("c", &reference).expect_code(2);
    assert!(
        r.stderr.contains("docker-credential-absent"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("config.json (credsStore)"),
        "{}",
        r.stderr
    );
    assert!(!env.work().join("c").exists());
    // A helper that never answers (a keyring prompt nobody sees) is killed
    // after --timeout.
    let hang = helpers.join("docker-credential-hang");
    std::fs::write(&hang, "#!/bin/sh\nexec sleep 60\n").unwrap();
    std::fs::set_permissions(&hang, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    docker_config(&env, r#"{"credsStore": "hang"}"#);
    let started = Instant::now();
    let r = pull_unverified(
        &env,
        &reference,
        "g",
        &[("PATH", path.as_str()), ("MLPROV_REGISTRY_TIMEOUT", "1")],
    )
    .expect_code(2);
    assert!(
        r.stderr.contains("did not answer within 1 s"),
        "{}",
        r.stderr
    );
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    docker_config(&env, r#"{"credsStore": "absent"}"#);
    // …which the environment's login overrides.
    pull_unverified(
        &env,
        &reference,
        "d",
        &[
            ("PATH", path.as_str()),
            ("MLPROV_REGISTRY_USERNAME", USER),
            ("MLPROV_REGISTRY_PASSWORD", PASSWORD),
        ],
    )
    .ok();

    // An identity token, from a helper and from `auths.identitytoken`: the
    // OAuth2 refresh-token grant at the registry's token service.
    let service = token_service::TokenService::start();
    let Some(treg) = Registry::start_with_tokens(&service) else {
        return;
    };
    let treference = format!("{}/models/minilm:1.0", treg.addr);
    credential_helper(
        &helpers,
        "mlprov-token",
        &treg.addr,
        "<token>",
        token_service::REFRESH_TOKEN,
    );
    docker_config(&env, r#"{"credsStore": "mlprov-token"}"#);
    run(
        &env,
        &proj,
        &["push", "--plain-http", &treference],
        &with_path,
    )
    .ok();
    assert!(
        service.asked().iter().any(|a| a.post
            && a.status == 200
            && a.scopes == ["repository:models/minilm:pull,push"]),
        "{:?}",
        service.asked()
    );
    docker_config(
        &env,
        &format!(
            r#"{{"auths": {{"{}": {{"identitytoken": "{}"}}}}}}"#,
            treg.addr,
            token_service::REFRESH_TOKEN
        ),
    );
    pull("e", &treference).ok();
    assert!(tree(&env.work().join("e")) == model_tree());
    docker_config(
        &env,
        &format!(
            r#"{{"auths": {{"{}": {{"identitytoken": "expired"}}}}}}"#,
            treg.addr
        ),
    );
    let r = pull("f", &treference).expect_code(2);
    assert!(r.stderr.contains("refused the credentials"), "{}", r.stderr);
}

/// A token service that redirects the OAuth2 grant (which carries the
/// refresh token in its body) to another host: mlprov does not follow, so
/// the other host never sees the request; the login fails, naming the 307.
#[test]
fn a_token_request_is_not_redirected_to_another_host() {
    use std::io::{Read as _, Write as _};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stolen = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = stolen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if conn.read(&mut b).unwrap_or(0) == 0 {
                    break;
                }
                head.push(b[0]);
            }
            let head = String::from_utf8_lossy(&head).to_string();
            let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
            let answer = if path.starts_with("/stolen") {
                seen.fetch_add(1, Ordering::SeqCst);
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 21\r\nConnection: close\r\n\r\n{\"access_token\":\"x\"}".to_string()
            } else if path.starts_with("/token") {
                // The same server under another name: another host to a client.
                format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://localhost:{port}/stolen\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
            } else {
                format!(
                    "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"s\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
            };
            let _ = conn.write_all(answer.as_bytes());
        }
    });
    let env = TestEnv::new();
    docker_config(
        &env,
        &format!(r#"{{"auths": {{"127.0.0.1:{port}": {{"identitytoken": "refresh-me"}}}}}}"#),
    );
    let r = pull_unverified(&env, &format!("127.0.0.1:{port}/m:1"), "out", &[]).expect_code(2);
    assert!(r.stderr.contains("307"), "{}", r.stderr);
    assert_eq!(
        stolen.load(Ordering::SeqCst),
        0,
        "the grant followed the redirect"
    );
    assert!(!env.work().join("out").exists());
}
