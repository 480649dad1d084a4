//! What admission gates accept (issue 15): every bundle `push` publishes
//! for a model, and the VSA `verify --attach` publishes, names the ModelPack
//! manifest digest the registry serves; they are found as cosign 3 finds
//! them (read here with plain HTTP, not mlprov's registry client) and they
//! verify with sigstore-js and sigstore-python (`../shared/tools/
//! verify-sigstore`) against that digest, key-signed (with a Rekor entry)
//! and keyless (the strict local Fulcio and Rekor).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

use crate::common::*;
use crate::registry::referrers_server::ReferrersRegistry;
use crate::registry::server::Registry;
use crate::sigstore_server::{GITHUB_ISSUER, Sigstore, WORKFLOW};

const SLSA: &str = "https://slsa.dev/provenance/v1";
const SPDX: &str = "https://spdx.dev/Document/v3";
const SCAN: &str = "https://mlprov.dev/scan/v1";
const OMS: &str = "https://model_signing/signature/v1.0";
const VSA: &str = "https://slsa.dev/verification_summary/v1";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// One bundle referrer, as cosign 3 reads it.
#[derive(Debug)]
struct Referrer {
    digest: String,
    annotations: BTreeMap<String, String>,
    bundle: Vec<u8>,
}

impl Referrer {
    fn predicate_type(&self) -> &str {
        self.annotations
            .get("dev.sigstore.bundle.predicateType")
            .map(String::as_str)
            .unwrap_or("")
    }
}

fn get(url: &str, accept: &str) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new()
        .get(url)
        .header("Accept", accept)
        .send()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// The bundle referrers of `subject` in `repo`, found the way cosign 3's
/// `GetBundles` finds them (go-containerregistry's `remote.Referrers`, then
/// `ociremote.Bundle` for each): the referrers API when it answers 200 with
/// an image index, else the `sha256-<hex>` tag (404: none); entries whose
/// `artifactType` is a Sigstore bundle; each such manifest must have exactly
/// one layer of a bundle media type, whose blob is the bundle. Returns
/// whether the referrers API answered, and the referrers.
fn cosign_referrers(addr: &str, repo: &str, subject: &str) -> (bool, Vec<Referrer>) {
    let base = format!("http://{addr}/v2/{repo}");
    let r = get(&format!("{base}/referrers/{subject}"), INDEX);
    let code = r.status().as_u16();
    assert!(
        matches!(code, 200 | 400 | 404 | 406),
        "referrers API answered {code}"
    );
    let api = code == 200
        && r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            == Some(INDEX);
    let index: Value = if api {
        serde_json::from_slice(&r.bytes().unwrap()).expect("referrers index")
    } else {
        let tag = format!("sha256-{}", subject.trim_start_matches("sha256:"));
        let r = get(&format!("{base}/manifests/{tag}"), INDEX);
        match r.status().as_u16() {
            404 => serde_json::json!({"manifests": []}),
            200 => serde_json::from_slice(&r.bytes().unwrap()).expect("tag schema index"),
            other => panic!("{base}/manifests/{tag}: {other}"),
        }
    };
    let mut out = Vec::new();
    for entry in index["manifests"].as_array().into_iter().flatten() {
        let at = entry["artifactType"].as_str().unwrap_or("");
        if !at.starts_with("application/vnd.dev.sigstore.bundle") {
            continue;
        }
        assert_eq!(at, BUNDLE, "{entry}");
        let digest = entry["digest"].as_str().unwrap().to_string();
        let r = get(&format!("{base}/manifests/{digest}"), OCI_MANIFEST);
        assert_eq!(r.status().as_u16(), 200, "{digest}");
        let bytes = r.bytes().unwrap().to_vec();
        assert_eq!(format!("sha256:{}", sha256_hex(&bytes)), digest);
        let m: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(m["artifactType"], BUNDLE);
        assert_eq!(m["subject"]["digest"], subject);
        let layers = m["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 1, "cosign expects exactly one layer: {m}");
        assert!(
            layers[0]["mediaType"]
                .as_str()
                .unwrap()
                .starts_with("application/vnd.dev.sigstore.bundle"),
            "{m}"
        );
        let layer = layers[0]["digest"].as_str().unwrap();
        let r = get(&format!("{base}/blobs/{layer}"), "*/*");
        assert_eq!(r.status().as_u16(), 200, "{layer}");
        let bundle = r.bytes().unwrap().to_vec();
        assert_eq!(format!("sha256:{}", sha256_hex(&bundle)), layer);
        let b: Value = serde_json::from_slice(&bundle).expect("bundle JSON");
        assert_eq!(b["mediaType"], BUNDLE);
        let annotations: BTreeMap<String, String> =
            serde_json::from_value(m["annotations"].clone()).unwrap_or_default();
        out.push(Referrer {
            digest,
            annotations,
            bundle,
        });
    }
    (api, out)
}

fn statement(bundle: &[u8]) -> Value {
    let b: Value = serde_json::from_slice(bundle).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap()
}

/// Every bundle of the referrers has the annotations cosign writes, and one
/// of each predicate type in `want`.
fn check_referrers(referrers: &[Referrer], want: &[&str]) {
    let types: BTreeSet<&str> = referrers.iter().map(Referrer::predicate_type).collect();
    assert_eq!(
        types,
        want.iter().copied().collect::<BTreeSet<_>>(),
        "{referrers:?}"
    );
    assert_eq!(referrers.len(), want.len(), "one referrer per type");
    for r in referrers {
        assert_eq!(
            r.annotations
                .get("dev.sigstore.bundle.content")
                .map(String::as_str),
            Some("dsse-envelope"),
            "{}",
            r.digest
        );
        let created = r
            .annotations
            .get("org.opencontainers.image.created")
            .unwrap_or_else(|| panic!("{}: no org.opencontainers.image.created", r.digest));
        assert!(
            chrono::DateTime::parse_from_rfc3339(created).is_ok(),
            "{}: created {created:?} is not RFC 3339",
            r.digest
        );
        assert_eq!(
            statement(&r.bundle)["predicateType"],
            r.predicate_type(),
            "the annotation is the statement's predicate type"
        );
    }
}

fn run_with(env: &TestEnv, dir: &Path, args: &[&str], vars: &[(&str, String)]) -> Run {
    let mut c = env.cmd(dir);
    c.args(args);
    for (k, v) in vars {
        c.env(k, v);
    }
    Run::of(&mut c)
}

/// A built project at `dir` whose `[publish].registry` is `publish`.
fn built_project(env: &TestEnv, dir: &Path, publish: &str) {
    ProjectBuilder::new(dir)
        .name("acme/tiny")
        .version("0.1.0")
        .license("MIT")
        .section("publish", &format!("registry = \"{publish}\""))
        .file("out/config.json", br#"{"hidden": 8}"#)
        .file("out/sub/weights.bin", vec![7u8; 4096])
        .build();
    env.run(dir, &["pin"]).ok();
    env.run_env(
        dir,
        &["build", "--skip-training", "--allow-dirty"],
        &[("SOURCE_DATE_EPOCH", "1700000000")],
    )
    .ok();
}

/// The manifest subject of the build's provenance.
fn planned_manifest(proj: &Path) -> String {
    let prov = read_json(&proj.join("target/mlprov/provenance.json"));
    let m: Vec<&Value> = prov["subject"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["mediaType"] == OCI_MANIFEST)
        .collect();
    assert_eq!(m.len(), 1, "{prov}");
    format!("sha256:{}", m[0]["digest"]["sha256"].as_str().unwrap())
}

fn artifact_digest(proj: &Path) -> String {
    let prov = read_json(&proj.join("target/mlprov/provenance.json"));
    format!(
        "sha256:{}",
        prov["subject"][0]["digest"]["sha256"].as_str().unwrap()
    )
}

fn verdicts(r: &Run) -> Vec<Value> {
    r.stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// `verify-sigstore BUNDLE --digest D` with the given trust flags.
fn verify_sigstore(bundle: &Path, digest: &str, trust: &[&str]) -> Option<(i32, Vec<Value>)> {
    let mut args: Vec<&std::ffi::OsStr> =
        vec![bundle.as_os_str(), "--digest".as_ref(), digest.as_ref()];
    args.extend(trust.iter().map(std::ffi::OsStr::new));
    let r = shared_tool("verify-sigstore", &args)?;
    Some((r.code, verdicts(&r)))
}

fn write_bundles(dir: &Path, referrers: &[Referrer]) -> Vec<(String, PathBuf)> {
    std::fs::create_dir_all(dir).unwrap();
    referrers
        .iter()
        .map(|r| {
            let p = dir.join(format!("{}.sigstore.json", &r.digest[7..19]));
            std::fs::write(&p, &r.bundle).unwrap();
            (r.predicate_type().to_string(), p)
        })
        .collect()
}

/// Key-signed: `attest`, `sign` and the VSA logged in the local Rekor
/// (`--tlog-upload`), pushed to Debian's docker-registry (referrers tag
/// schema) and to a registry with the referrers API. Each bundle cosign 3
/// finds passes `verify-sigstore --digest <manifest> --public-key` with and
/// without `--require-tlog --trusted-root`, and with the artifact digest;
/// model_signing still accepts model.sig.
#[test]
#[ignore = "needs ../shared/tools"]
fn key_signed_bundles_pass_the_gates_by_manifest_digest() {
    let env = TestEnv::new();
    let sigstore = Sigstore::start();
    let root = env.work().join("trusted_root.json");
    std::fs::write(
        &root,
        serde_json::to_vec_pretty(&sigstore.trusted_root()).unwrap(),
    )
    .unwrap();
    let api_reg = ReferrersRegistry::start();
    let tag_reg = Registry::start(false);
    let pw = [("MLPROV_PASSWORD", "pw".to_string())];
    let keys = env.work().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    run_with(&env, &keys, &["keygen"], &pw).ok();
    let (key, public) = (keys.join("cosign.key"), keys.join("cosign.pub"));
    let proj = env.work().join("proj");
    built_project(&env, &proj, &format!("{}/models/tiny", api_reg.addr));
    let manifest = planned_manifest(&proj);
    let artifact = artifact_digest(&proj);
    let rekor = ["--rekor-url", &sigstore.url, "--trusted-root", s(&root)];

    let mut args = vec!["attest", "--key", s(&key)];
    args.extend_from_slice(&rekor);
    run_with(&env, &proj, &args, &pw).ok();
    let mut args = vec!["sign", "--key", s(&key)];
    args.extend_from_slice(&rekor);
    run_with(&env, &proj, &args, &pw).ok();

    let mut registries = vec![(api_reg.addr.clone(), true)];
    match &tag_reg {
        Some(r) => registries.push((r.addr.clone(), false)),
        None => skip("docker-registry is absent: only the referrers-API registry is checked"),
    }
    let mut checked = 0;
    for (addr, has_api) in &registries {
        let reference = format!("{addr}/models/tiny:0.1.0");
        let j = env
            .run(
                &proj,
                &["--format", "json", "push", "--plain-http", &reference],
            )
            .ok()
            .json();
        assert_eq!(
            j["digest"],
            manifest.as_str(),
            "push publishes the planned manifest"
        );
        let vsa = env.work().join(format!("vsa-{}.sigstore.json", checked));
        let mut args = vec![
            "verify",
            &reference,
            "--plain-http",
            "--key",
            s(&public),
            "--require-tlog",
            "--emit-vsa",
            s(&vsa),
            "--vsa-key",
            s(&key),
            "--attach",
        ];
        args.extend_from_slice(&rekor);
        let r = run_with(&env, &env.work(), &args, &pw).ok();
        assert!(
            r.stderr
                .contains("Attached https://slsa.dev/verification_summary/v1"),
            "{}",
            r.stderr
        );
        let vsa_st = statement(&std::fs::read(&vsa).unwrap());
        assert_eq!(vsa_st["predicate"]["verificationResult"], "PASSED");

        let (api, referrers) = cosign_referrers(addr, "models/tiny", &manifest);
        assert_eq!(api, *has_api, "{addr}: referrers API");
        check_referrers(&referrers, &[OMS, SCAN, SLSA, SPDX, VSA]);
        // The OMS referrer is the registry form of model.sig: the same files.
        let oms = referrers
            .iter()
            .find(|r| r.predicate_type() == OMS)
            .unwrap();
        let local = statement(&std::fs::read(proj.join("out/model.sig")).unwrap());
        let pushed = statement(&oms.bundle);
        assert_eq!(pushed["predicate"], local["predicate"]);
        assert_eq!(local["subject"].as_array().unwrap().len(), 1);
        assert_eq!(pushed["subject"][0], local["subject"][0]);

        let dir = env.work().join(format!("referrers-{checked}"));
        for (ptype, file) in write_bundles(&dir, &referrers) {
            for (digest, logged) in [
                (manifest.as_str(), false),
                (manifest.as_str(), true),
                (artifact.as_str(), true),
            ] {
                let mut trust = vec!["--public-key", s(&public)];
                if logged {
                    trust.extend(["--require-tlog", "--trusted-root", s(&root)]);
                } else {
                    // sigstore-js checks a log entry whenever there is one.
                    trust.extend(["--trusted-root", s(&root)]);
                }
                let Some((code, v)) = verify_sigstore(&file, digest, &trust) else {
                    skip("../shared/tools or the validators venv is absent");
                    return;
                };
                assert_eq!(code, 0, "{ptype} with {digest}: {v:?}");
                assert!(!v.is_empty() && v.iter().all(|v| v["ok"] == true), "{v:?}");
            }
            // The check can fail: another digest is refused.
            let other = format!("sha256:{}", sha256_hex(b"another manifest"));
            let (code, v) = verify_sigstore(
                &file,
                &other,
                &["--public-key", s(&public), "--trusted-root", s(&root)],
            )
            .unwrap();
            assert_ne!(code, 0, "{ptype} accepted for another digest: {v:?}");
        }
        checked += 1;
    }
    assert_eq!(checked, registries.len());

    // model_signing still accepts model.sig (one subject, the file set).
    let bin = validators().unwrap();
    let ms = Run::from(
        std::process::Command::new(bin.join("model_signing"))
            .args([
                "verify",
                "key",
                "--signature",
                s(&proj.join("out/model.sig")),
                "--public_key",
                s(&public),
                s(&proj.join("out")),
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(ms.code, 0, "model_signing: {}{}", ms.stdout, ms.stderr);
}

/// Keyless: `attest`, `sign` and the VSA signed with a GitHub Actions
/// workflow identity against the strict local Fulcio and Rekor, pushed to a
/// registry with the referrers API. Each bundle passes `verify-sigstore
/// --digest <manifest> --trusted-root --identity --issuer` in sigstore-js
/// and sigstore-python, also with the artifact digest; another identity
/// fails in both; model_signing accepts the keyless model.sig. `serve`
/// admits the model on that VSA when it trusts the workflow as a VSA signer
/// (`--vsa-certificate-identity`), and not with another identity.
#[test]
#[ignore = "needs ../shared/tools"]
fn keyless_bundles_pass_the_gates_by_manifest_digest() {
    let env = TestEnv::new();
    let sigstore = Sigstore::start();
    let root = env.work().join("trusted_root.json");
    std::fs::write(
        &root,
        serde_json::to_vec_pretty(&sigstore.trusted_root()).unwrap(),
    )
    .unwrap();
    let reg = ReferrersRegistry::start();
    let proj = env.work().join("proj");
    built_project(&env, &proj, &format!("{}/models/tiny", reg.addr));
    let manifest = planned_manifest(&proj);
    let artifact = artifact_digest(&proj);
    let services = [
        "--fulcio-url",
        &sigstore.url,
        "--rekor-url",
        &sigstore.url,
        "--trusted-root",
        s(&root),
    ];
    let actions = sigstore.actions_env().to_vec();
    for cmd in ["attest", "sign"] {
        let mut args = vec![cmd, "--keyless"];
        args.extend_from_slice(&services);
        run_with(&env, &proj, &args, &actions).ok();
    }
    env.run(&proj, &["push", "--plain-http"]).ok();
    let reference = format!("{}/models/tiny:0.1.0", reg.addr);
    let vsa = env.work().join("vsa.sigstore.json");
    let mut args = vec![
        "verify",
        &reference,
        "--plain-http",
        "--certificate-identity",
        WORKFLOW,
        "--certificate-oidc-issuer",
        GITHUB_ISSUER,
        "--emit-vsa",
        s(&vsa),
        "--vsa-keyless",
        "--attach",
    ];
    args.extend_from_slice(&services);
    let r = run_with(&env, &env.work(), &args, &actions).ok();
    assert!(
        r.stderr
            .contains("Attached https://slsa.dev/verification_summary/v1"),
        "{}",
        r.stderr
    );

    let (api, referrers) = cosign_referrers(&reg.addr, "models/tiny", &manifest);
    assert!(api);
    check_referrers(&referrers, &[OMS, SCAN, SLSA, SPDX, VSA]);

    // The admission webhook trusts no signer of the model, only the
    // verification workflow as a keyless VSA signer: the VSA admits it.
    env.run(
        &env.work(),
        &[
            "keygen",
            "--no-password",
            "--output-key-prefix",
            "unrelated",
        ],
    )
    .ok();
    let tls = crate::serve::tls_dir(&env);
    let webhook = |identity: &str| {
        crate::serve::Webhook::start(
            &env,
            &env.work(),
            &tls,
            &[
                "--key",
                "unrelated.pub",
                "--vsa-certificate-identity",
                identity,
                "--vsa-certificate-oidc-issuer",
                GITHUB_ISSUER,
                "--trusted-root",
                s(&root),
                "--plain-http",
            ],
        )
    };
    let isvc = crate::serve::isvc(&format!("oci://{reference}"));
    let hook = webhook(WORKFLOW);
    let v = hook.review(crate::serve::ISVC, isvc.clone());
    assert!(crate::serve::allowed(&v), "{v}");
    let m = hook.metrics();
    assert_eq!(
        crate::serve::metric(&m, "mlprov_serve_model_verdicts_total{result=\"vsa\"}"),
        1,
        "{m}"
    );
    drop(hook);
    let hook = webhook("https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main");
    let v = hook.review(crate::serve::ISVC, isvc);
    assert!(!crate::serve::allowed(&v), "{v}");
    drop(hook);
    let dir = env.work().join("referrers");
    for (ptype, file) in write_bundles(&dir, &referrers) {
        for digest in [&manifest, &artifact] {
            let trust = [
                "--trusted-root",
                s(&root),
                "--identity",
                WORKFLOW,
                "--issuer",
                GITHUB_ISSUER,
            ];
            let Some((code, v)) = verify_sigstore(&file, digest, &trust) else {
                skip("../shared/tools or the validators venv is absent");
                return;
            };
            assert_eq!(code, 0, "{ptype} with {digest}: {v:?}");
            let tools: Vec<&str> = v.iter().map(|v| v["tool"].as_str().unwrap()).collect();
            assert_eq!(tools, ["sigstore-js", "sigstore-python"], "{v:?}");
            assert!(v.iter().all(|v| v["ok"] == true), "{v:?}");
        }
        let wrong = [
            "--trusted-root",
            s(&root),
            "--identity",
            "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main",
            "--issuer",
            GITHUB_ISSUER,
        ];
        let (code, v) = verify_sigstore(&file, &manifest, &wrong).unwrap();
        assert_ne!(code, 0, "{ptype}: {v:?}");
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v.iter().all(|v| v["ok"] == false), "{ptype}: {v:?}");
    }

    // model_signing still accepts the keyless model.sig (its one subject),
    // against the local Sigstore's trusted root; another identity fails.
    let bin = validators().unwrap();
    let tc = env.work().join("client_trust_config.json");
    std::fs::write(&tc, client_trust_config(&bin, &root)).unwrap();
    let model_signing = |identity: &str| {
        Run::from(
            std::process::Command::new(bin.join("model_signing"))
                .args([
                    "verify",
                    "sigstore",
                    "--trust_config",
                    s(&tc),
                    "--signature",
                    s(&proj.join("out/model.sig")),
                    "--identity",
                    identity,
                    "--identity_provider",
                    GITHUB_ISSUER,
                    s(&proj.join("out")),
                ])
                .output()
                .unwrap(),
        )
    };
    let ms = model_signing(WORKFLOW);
    assert_eq!(ms.code, 0, "model_signing: {}{}", ms.stdout, ms.stderr);
    let ms = model_signing("https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main");
    assert_ne!(ms.code, 0, "model_signing accepted another identity");
}

/// A Sigstore client trust config (what sigstore-python and model_signing
/// read with `--trust-config`): the given trusted root, and the signing
/// config sigstore-python ships (verification does not use it).
fn client_trust_config(bin: &Path, root: &Path) -> Vec<u8> {
    let lib = bin.join("../lib");
    let signing_config = std::fs::read_dir(&lib)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            p.join("site-packages/sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/signing_config.v0.2.json")
        })
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no signing_config.v0.2.json under {}", lib.display()));
    serde_json::to_vec(&serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": read_json(root),
        "signingConfig": read_json(&signing_config),
    }))
    .unwrap()
}

/// Without the independent tools: the build names the manifest `push`
/// publishes (under `[publish].registry`'s name), `sign` keeps model.sig in
/// model_signing's one-subject form and files a registry form that also
/// names the manifest, `push` publishes that form, `verify REF` accepts it,
/// and `push` refuses a manifest the build did not name.
#[test]
fn statements_name_the_manifest_push_publishes() {
    let env = TestEnv::new();
    let reg = ReferrersRegistry::start();
    let proj = env.work().join("proj");
    let repo = format!("{}/models/tiny", reg.addr);
    built_project(&env, &proj, &repo);
    let manifest = planned_manifest(&proj);
    let prov = read_json(&proj.join("target/mlprov/provenance.json"));
    let subject = prov["subject"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["mediaType"] == OCI_MANIFEST)
        .unwrap()
        .clone();
    assert_eq!(subject["name"], repo.as_str());
    // The scan statement names the same subjects.
    assert_eq!(
        read_json(&proj.join("target/mlprov/scan.json"))["subject"],
        prov["subject"]
    );
    env.run(&proj, &["keygen", "--no-password"]).ok();
    env.run(&proj, &["attest", "--key", "cosign.key"]).ok();
    let j = env
        .run(&proj, &["--format", "json", "sign", "--key", "cosign.key"])
        .ok()
        .json();
    assert_eq!(j["ociManifest"]["digest"], manifest.as_str());
    let local = statement(&std::fs::read(proj.join("out/model.sig")).unwrap());
    assert_eq!(local["subject"].as_array().unwrap().len(), 1);

    let j = env
        .run(&proj, &["--format", "json", "push", "--plain-http"])
        .ok()
        .json();
    assert_eq!(j["digest"], manifest.as_str());
    let (_, referrers) = cosign_referrers(&reg.addr, "models/tiny", &manifest);
    check_referrers(&referrers, &[OMS, SCAN, SLSA, SPDX]);
    for r in &referrers {
        let st = statement(&r.bundle);
        let named: Vec<&Value> = st["subject"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["mediaType"] == OCI_MANIFEST)
            .collect();
        assert_eq!(named.len(), 1, "{}: {st}", r.predicate_type());
        assert_eq!(
            format!("sha256:{}", named[0]["digest"]["sha256"].as_str().unwrap()),
            manifest
        );
    }
    // mlprov verifies the registry form, from the registry alone.
    let fresh = TestEnv::new();
    fresh
        .run(
            &fresh.work(),
            &[
                "verify",
                &format!("{repo}:0.1.0"),
                "--plain-http",
                "--key",
                s(&proj.join("cosign.pub")),
                "--require",
                OMS,
                "--require",
                SLSA,
            ],
        )
        .ok();
    // Re-pushing gives byte-identical referrers (their `created` is the
    // bundles' own time or the model's, not the clock).
    let before: BTreeSet<String> = referrers.iter().map(|r| r.digest.clone()).collect();
    env.run(&proj, &["push", "--plain-http"]).ok();
    let (_, again) = cosign_referrers(&reg.addr, "models/tiny", &manifest);
    let after: BTreeSet<String> = again.iter().map(|r| r.digest.clone()).collect();
    assert_eq!(before, after);

    // The manifest now differs from the build's (an executable bit): push
    // refuses before anything is uploaded, and says why.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let f = proj.join("out/config.json");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
        let requests = reg.state.lock().unwrap().requests.len();
        // A failed check (exit 1), as a stale lock or provenance.
        let r = env
            .run(&proj, &["push", "--plain-http", &format!("{repo}:0.2.0")])
            .expect_code(1);
        assert!(
            r.stderr.contains("mlprov::push::stale-manifest"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains(&manifest), "{}", r.stderr);
        assert!(r.stderr.contains("executable bit"), "{}", r.stderr);
        assert_eq!(reg.state.lock().unwrap().requests.len(), requests);
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    // mlprov.toml changed since the build: named as the reason.
    let toml = proj.join("mlprov.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        text.replace("version = \"0.1.0\"", "version = \"0.2.0\""),
    )
    .unwrap();
    let r = env.run(&proj, &["push", "--plain-http"]).expect_code(1);
    assert!(
        r.stderr.contains("mlprov.toml changed since the build"),
        "{}",
        r.stderr
    );
}

/// `--attach` needs a signed VSA and a registry target, and attaches only a
/// passing one.
#[test]
fn attach_needs_a_signed_passing_vsa_of_a_registry_model() {
    let env = TestEnv::new();
    let reg = ReferrersRegistry::start();
    let proj = env.work().join("proj");
    let repo = format!("{}/models/tiny", reg.addr);
    built_project(&env, &proj, &repo);
    env.run(&proj, &["keygen", "--no-password"]).ok();
    env.run(&proj, &["attest", "--key", "cosign.key"]).ok();
    env.run(&proj, &["sign", "--key", "cosign.key"]).ok();
    env.run(&proj, &["push", "--plain-http"]).ok();
    let reference = format!("{repo}:0.1.0");
    let manifest = planned_manifest(&proj);
    let r = env
        .run(
            &proj,
            &[
                "verify",
                &reference,
                "--plain-http",
                "--key",
                "cosign.pub",
                "--emit-vsa",
                "v.json",
                "--attach",
            ],
        )
        .expect_code(2);
    assert!(
        r.stderr.contains("--attach publishes a signed VSA"),
        "{}",
        r.stderr
    );
    let r = env
        .run(
            &proj,
            &[
                "verify",
                "--key",
                "cosign.pub",
                "--emit-vsa",
                "v.json",
                "--vsa-key",
                "cosign.key",
                "--attach",
            ],
        )
        .expect_code(2);
    assert!(
        r.stderr.contains("must be an OCI reference"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("Wrote"), "{}", r.stderr);
    // A failing verification (a predicate nobody attested) is not attached.
    let r = env
        .run(
            &proj,
            &[
                "verify",
                &reference,
                "--plain-http",
                "--key",
                "cosign.pub",
                "--require",
                "https://example.com/never/v1",
                "--emit-vsa",
                "v.json",
                "--vsa-key",
                "cosign.key",
                "--attach",
            ],
        )
        .expect_code(1);
    assert!(r.stderr.contains("not attaching the VSA"), "{}", r.stderr);
    let (_, referrers) = cosign_referrers(&reg.addr, "models/tiny", &manifest);
    assert!(referrers.iter().all(|r| r.predicate_type() != VSA));
    // A passing one is, and names the manifest.
    env.run(
        &proj,
        &[
            "verify",
            &reference,
            "--plain-http",
            "--key",
            "cosign.pub",
            "--emit-vsa",
            "v.json",
            "--vsa-key",
            "cosign.key",
            "--attach",
        ],
    )
    .ok();
    let (_, referrers) = cosign_referrers(&reg.addr, "models/tiny", &manifest);
    let vsa = referrers
        .iter()
        .find(|r| r.predicate_type() == VSA)
        .expect("VSA referrer");
    let st = statement(&vsa.bundle);
    assert_eq!(st["predicate"]["verificationResult"], "PASSED");
    assert!(
        st["subject"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["mediaType"] == OCI_MANIFEST
                && format!("sha256:{}", s["digest"]["sha256"].as_str().unwrap()) == manifest),
        "{st}"
    );
}
