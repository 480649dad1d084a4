//! `mlprov serve`, the admission webhook, as the API server calls it:
//! `admission.k8s.io/v1` `AdmissionReview`s over HTTPS (a CA made here),
//! about models made with the documented commands (build, attest, sign,
//! push) from a fresh `MLPROV_HOME` into a real docker-registry.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use p256::ecdsa::{DerSignature, SigningKey};
use p256::elliptic_curve::Generate as _;
use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
use serde_json::{Value, json};
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::der::Encode as _;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::time::Validity;

use crate::common::*;
use crate::registry::server::{Registry, free_port};
use crate::sigstore_server::{Profile, ca_cert, ext, key_id, pem, serial, spki};

/// A test CA and a server certificate for 127.0.0.1 and localhost it
/// issued: (CA PEM, certificate PEM, PKCS#8 key PEM).
fn test_ca() -> (String, String, String) {
    let ca_key = SigningKey::generate();
    let ca_name = "CN=mlprov-serve-test-ca,O=mlprov-test";
    let ca = ca_cert(ca_name, ca_name, &ca_key, &ca_key, 0, vec![], 7);
    let leaf_key = SigningKey::generate();
    let leaf_spki = spki(leaf_key.verifying_key());
    let san = SubjectAltName(vec![
        GeneralName::IpAddress(x509_cert::der::asn1::OctetString::new(vec![127, 0, 0, 1]).unwrap()),
        GeneralName::DnsName(x509_cert::der::asn1::Ia5String::new("localhost").unwrap()),
    ]);
    let extensions = vec![
        ext(&KeyUsage(KeyUsages::DigitalSignature.into()), true),
        ext(
            &ExtendedKeyUsage(vec![const_oid::db::rfc5280::ID_KP_SERVER_AUTH]),
            false,
        ),
        ext(
            &BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
            true,
        ),
        ext(&SubjectKeyIdentifier(key_id(&leaf_spki)), false),
        ext(
            &AuthorityKeyIdentifier {
                key_identifier: Some(key_id(&spki(ca_key.verifying_key()))),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
            false,
        ),
        ext(&san, false),
    ];
    let leaf = CertificateBuilder::new(
        Profile {
            subject: "CN=mlprov-serve.mlprov.svc".parse().unwrap(),
            issuer: ca_name.parse().unwrap(),
            extensions,
        },
        serial(8),
        Validity::from_now(Duration::from_secs(86400)).unwrap(),
        leaf_spki,
    )
    .unwrap()
    .build::<_, DerSignature>(&ca_key)
    .unwrap()
    .to_der()
    .unwrap();
    let key = leaf_key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    (pem("CERTIFICATE", &ca), pem("CERTIFICATE", &leaf), key)
}

/// A running `mlprov serve`, stopped on drop.
pub struct Webhook {
    child: Child,
    url: String,
    client: reqwest::blocking::Client,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Webhook {
    pub fn start(env: &TestEnv, dir: &Path, tls: &Path, args: &[&str]) -> Self {
        let port = free_port();
        let mut c = env.cmd(dir);
        // A fresh home, as in a pod: what the webhook knows comes from the registry.
        let home = tls.join(format!("home-{port}"));
        c.env("MLPROV_HOME", &home)
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--tls-cert")
            .arg(tls.join("tls.crt"))
            .arg("--tls-key")
            .arg(tls.join("tls.key"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(tls.join(format!("serve-{port}.log"))).unwrap(),
            ));
        let child = c.spawn().expect("spawn mlprov serve");
        let ca = std::fs::read(tls.join("ca.crt")).unwrap();
        let client = reqwest::blocking::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .build()
            .unwrap();
        let mut w = Webhook {
            child,
            url: format!("https://127.0.0.1:{port}"),
            client,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = w.client.get(format!("{}/healthz", w.url)).send()
                && r.status().as_u16() == 200
            {
                return w;
            }
            if let Ok(Some(status)) = w.child.try_wait() {
                let log = std::fs::read_to_string(tls.join(format!("serve-{port}.log")))
                    .unwrap_or_default();
                panic!("mlprov serve exited ({status}): {log}");
            }
            assert!(Instant::now() < deadline, "mlprov serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// POST a body to /validate: (status, body text).
    fn post(&self, body: Vec<u8>) -> (u16, String) {
        let r = self
            .client
            .post(format!("{}/validate", self.url))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .expect("POST /validate");
        (r.status().as_u16(), r.text().unwrap())
    }

    /// Review `object` of kind `gvk`; the response review, checked for the
    /// echoes the API server requires.
    pub fn review(&self, gvk: (&str, &str, &str), object: Value) -> Value {
        let uid = format!("{:x}", rand_uid());
        let (status, body) = self.post(serde_json::to_vec(&review(&uid, gvk, object)).unwrap());
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["apiVersion"], "admission.k8s.io/v1", "{v}");
        assert_eq!(v["kind"], "AdmissionReview", "{v}");
        assert_eq!(v["response"]["uid"], uid.as_str(), "{v}");
        assert!(v["response"]["allowed"].is_boolean(), "{v}");
        v
    }

    pub fn metrics(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.url))
            .send()
            .unwrap()
            .text()
            .unwrap()
    }
}

fn rand_uid() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    t ^ (u128::from(N.fetch_add(1, Ordering::Relaxed)) << 100)
}

/// An `AdmissionReview` request as the API server sends it.
fn review(uid: &str, (group, version, kind): (&str, &str, &str), object: Value) -> Value {
    let resource = format!("{}s", kind.to_ascii_lowercase());
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group, "version": version, "resource": resource},
            "name": object["metadata"]["name"],
            "namespace": "ml",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:ml:deployer", "uid": "1", "groups": ["system:serviceaccounts"]},
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        }
    })
}

const POD: (&str, &str, &str) = ("", "v1", "Pod");
const DEPLOYMENT: (&str, &str, &str) = ("apps", "v1", "Deployment");
pub const ISVC: (&str, &str, &str) = ("serving.kserve.io", "v1beta1", "InferenceService");

fn pod(models: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "predictor", "namespace": "ml", "annotations": {"mlprov.dev/models": models}},
        "spec": {"containers": [{"name": "server", "image": "ghcr.io/acme/server:1"}]}
    })
}

fn deployment(models: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "predictor", "namespace": "ml"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "p"}}, "template": {
            "metadata": {"labels": {"app": "p"}, "annotations": {"mlprov.dev/models": models}},
            "spec": {
                "initContainers": [{"name": "model", "image": "ghcr.io/acme/mlprov:1", "args": ["pull", format!("oci://{models}"), "/mnt/models"]}],
                "containers": [{"name": "server", "image": "ghcr.io/acme/server:1"}]}}}
    })
}

pub fn isvc(storage_uri: &str) -> Value {
    json!({
        "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
        "metadata": {"name": "support-intent", "namespace": "ml"},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "huggingface"}, "storageUri": storage_uri}}}
    })
}

pub fn allowed(v: &Value) -> bool {
    v["response"]["allowed"].as_bool().unwrap()
}

fn message(v: &Value) -> String {
    v["response"]["status"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn denied_with(v: &Value, want: &[&str]) {
    assert!(!allowed(v), "allowed: {v}");
    assert_eq!(v["response"]["status"]["code"], 403, "{v}");
    let m = message(v);
    assert!(!m.contains('\n'), "not one line: {m}");
    for w in want {
        assert!(m.contains(w), "no {w:?} in {m}");
    }
}

pub fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

/// A model made and published with the documented commands: pin, build,
/// attest and sign with `key`, push to `repo:0.1.0`.
fn publish(env: &TestEnv, dir: &Path, repo: &str, weight: u8, key: &str) {
    ProjectBuilder::new(dir)
        .name("acme/tiny")
        .version("0.1.0")
        .license("MIT")
        .section("publish", &format!("registry = \"{repo}\""))
        .file("out/config.json", br#"{"hidden": 8}"#)
        .file(
            "out/model.safetensors",
            safetensors(&[f32::from(weight), 0.5]),
        )
        .build();
    env.run(dir, &["pin"]).ok();
    env.run_env(
        dir,
        &["build", "--skip-training", "--allow-dirty"],
        &[("SOURCE_DATE_EPOCH", "1700000000")],
    )
    .ok();
    std::fs::copy(
        env.work().join(format!("{key}.key")),
        dir.join("cosign.key"),
    )
    .unwrap();
    env.run(dir, &["attest", "--key", "cosign.key"]).ok();
    env.run(dir, &["sign", "--key", "cosign.key"]).ok();
    env.run(dir, &["push", "--plain-http"]).ok();
}

fn manifest_digest(reg: &Registry, repo: &str, tag: &str) -> String {
    let (status, body) = reg.manifest(repo, tag);
    assert_eq!(status, 200);
    format!("sha256:{}", sha256_hex(&body))
}

pub fn tls_dir(env: &TestEnv) -> PathBuf {
    let (ca, cert, key) = test_ca();
    let dir = env.path().join("tls");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.crt"), ca).unwrap();
    std::fs::write(dir.join("tls.crt"), cert).unwrap();
    std::fs::write(dir.join("tls.key"), key).unwrap();
    dir
}

#[test]
fn admission_reviews_admit_only_verified_models() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let env = TestEnv::new();
    let work = env.work();
    for prefix in ["trusted", "other", "verifier"] {
        env.run(
            &work,
            &["keygen", "--no-password", "--output-key-prefix", prefix],
        )
        .ok();
    }
    let addr = reg.addr.clone();
    publish(
        &env,
        &work.join("tiny"),
        &format!("{addr}/models/tiny"),
        1,
        "trusted",
    );
    publish(
        &env,
        &work.join("other"),
        &format!("{addr}/models/other"),
        2,
        "other",
    );
    publish(
        &env,
        &work.join("vouched"),
        &format!("{addr}/models/vouched"),
        3,
        "other",
    );
    // A verifier that trusts `other` checks `vouched` and attaches its VSA.
    env.run(
        &work.join("vouched"),
        &[
            "verify",
            &format!("{addr}/models/vouched:0.1.0"),
            "--plain-http",
            "--key",
            "../other.pub",
            "--emit-vsa",
            "vsa.json",
            "--vsa-key",
            "../verifier.key",
            "--attach",
        ],
    )
    .ok();
    // Someone with push access swaps the weights layer of tiny:0.1.0 for
    // other bytes (the config blob) and re-attaches its signed referrers.
    let (_, body) = reg.manifest("models/tiny", "0.1.0");
    let m: Value = serde_json::from_slice(&body).unwrap();
    let config_layer = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["annotations"]["org.cncf.model.filepath"] == "config.json")
        .unwrap()
        .clone();
    crate::registry::relabel(&reg, "models/tiny", "0.1.0", "tampered", |l| {
        if l["annotations"]["org.cncf.model.filepath"] == "model.safetensors" {
            l["digest"] = config_layer["digest"].clone();
            l["size"] = config_layer["size"].clone();
        }
    });

    let tiny = manifest_digest(&reg, "models/tiny", "0.1.0");
    let tiny_pinned = format!("{addr}/models/tiny@{tiny}");
    let tls = tls_dir(&env);
    let hook = Webhook::start(
        &env,
        &work,
        &tls,
        &[
            "--key",
            "trusted.pub",
            "--vsa-key",
            "verifier.pub",
            "--plain-http",
            "--allow-registry",
            &addr,
            "--max-request-bytes",
            "1048576",
        ],
    );

    // 200 concurrent reviews of one model: one verification, every one allowed.
    let hook = Arc::new(hook);
    let threads: Vec<_> = (0..200)
        .map(|_| {
            let hook = Arc::clone(&hook);
            let r = tiny_pinned.clone();
            std::thread::spawn(move || allowed(&hook.review(POD, pod(&r))))
        })
        .collect();
    let admitted = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|a| *a)
        .count();
    assert_eq!(admitted, 200);
    let m = hook.metrics();
    assert_eq!(metric(&m, "mlprov_serve_verifications_total"), 1, "{m}");
    assert_eq!(
        metric(&m, "mlprov_serve_cache_hits_total") + metric(&m, "mlprov_serve_coalesced_total"),
        199,
        "{m}"
    );
    assert_eq!(
        metric(&m, "mlprov_serve_verification_seconds_count"),
        1,
        "{m}"
    );
    assert_eq!(
        metric(&m, "mlprov_serve_reviews_total{result=\"allowed\"}"),
        200,
        "{m}"
    );

    // A verified model by digest, in a Deployment (by tag) and an
    // InferenceService (oci:// storageUri).
    let v = hook.review(DEPLOYMENT, deployment(&format!("{addr}/models/tiny:0.1.0")));
    assert!(allowed(&v), "{v}");
    let v = hook.review(ISVC, isvc(&format!("oci://{tiny_pinned}")));
    assert!(allowed(&v), "{v}");
    // A VSA from the trusted verifier admits a model signed by a key the
    // webhook does not trust.
    let v = hook.review(ISVC, isvc(&format!("oci://{addr}/models/vouched:0.1.0")));
    assert!(allowed(&v), "{v}");
    assert_eq!(
        metric(
            &hook.metrics(),
            "mlprov_serve_model_verdicts_total{result=\"vsa\"}"
        ),
        1
    );

    // Tampered: the manifest's layers no longer make the signed artifact.
    let v = hook.review(ISVC, isvc(&format!("oci://{addr}/models/tiny:tampered")));
    denied_with(
        &v,
        &[
            "tiny:tampered",
            "spec.predictor.model.storageUri",
            "digest-mismatch",
        ],
    );
    // An unverified tag: signed, by a key nobody trusts here.
    let v = hook.review(POD, pod(&format!("{addr}/models/other:0.1.0")));
    denied_with(&v, &["models/other:0.1.0", "E0301", "not trusted"]);
    // A tag that does not resolve.
    let v = hook.review(DEPLOYMENT, deployment(&format!("{addr}/models/tiny:9.9")));
    denied_with(&v, &["serve::tag", "tiny:9.9"]);
    // A registry models may not come from.
    let v = hook.review(
        POD,
        pod(&format!("registry.example.com/models/tiny@{tiny}")),
    );
    denied_with(&v, &["serve::registry-not-allowed", "registry.example.com"]);
    // One bad model among good ones denies the object.
    let v = hook.review(
        POD,
        pod(&format!("{tiny_pinned}, {addr}/models/other:0.1.0")),
    );
    denied_with(&v, &["1 of 2 model(s)", "models/other:0.1.0", "E0301"]);
    // Not OCI: cannot be verified.
    let v = hook.review(ISVC, isvc("s3://models/support-intent"));
    denied_with(&v, &["serve::bad-reference", "not an OCI reference"]);
    let v = hook.review(POD, pod("not a reference"));
    denied_with(&v, &["serve::bad-reference"]);

    // A kind mlprov does not know: allowed without models, denied with one.
    let widget = ("example.com", "v1", "Widget");
    let v = hook.review(
        widget,
        json!({"metadata": {"name": "w"}, "spec": {"size": 1}}),
    );
    assert!(allowed(&v), "{v}");
    let v = hook.review(
        widget,
        json!({"metadata": {"name": "w"}, "spec": {"model": format!("oci://{tiny_pinned}")}}),
    );
    denied_with(&v, &["serve::unknown-kind", "example.com/Widget"]);
    // A Pod without models is none of mlprov's business.
    let v = hook.review(POD, json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}));
    assert!(allowed(&v), "{v}");

    // Malformed reviews: HTTP 400 with the reason (no uid to echo).
    let (status, body) = hook.post(b"{not json".to_vec());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not JSON"), "{body}");
    let (status, body) =
        hook.post(br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"kind":"Pod"}}}"#.to_vec());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("request.uid"), "{body}");
    let (status, body) = hook.post(
        serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"uid": "x"}})).unwrap(),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("admission.k8s.io/v1 only"), "{body}");
    // Oversized: 413 before the body is read.
    let big = review(
        "big",
        POD,
        json!({"metadata": {"name": "p", "annotations": {"x": "a".repeat(2 << 20)}}}),
    );
    let (status, body) = hook.post(serde_json::to_vec(&big).unwrap());
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("1048576 bytes"), "{body}");
    let m = hook.metrics();
    assert_eq!(
        metric(&m, "mlprov_serve_reviews_total{result=\"too-large\"}"),
        1,
        "{m}"
    );
    assert_eq!(
        metric(&m, "mlprov_serve_reviews_total{result=\"malformed\"}"),
        3,
        "{m}"
    );
    drop(hook);

    // The registry down: a model that verified a moment ago is denied by a
    // webhook that has no verdict for it yet, never allowed.
    drop(reg);
    let hook = Webhook::start(
        &env,
        &work,
        &tls,
        &[
            "--key",
            "trusted.pub",
            "--plain-http",
            "--deadline-ms",
            "9000",
        ],
    );
    let v = hook.review(ISVC, isvc(&format!("oci://{tiny_pinned}")));
    assert!(!allowed(&v), "{v}");
    let m = message(&v);
    assert!(m.contains("tiny@sha256:"), "{m}");
    let v = hook.review(POD, pod(&format!("{addr}/models/tiny:0.1.0")));
    denied_with(&v, &["serve::tag"]);
}

#[test]
fn tls_files_that_do_not_load_stop_serve_at_start() {
    let env = TestEnv::new();
    let work = env.work();
    env.run(&work, &["keygen", "--no-password"]).ok();
    let tls = tls_dir(&env);
    let (_, other_cert, _) = test_ca();
    std::fs::write(tls.join("other.crt"), other_cert).unwrap();
    std::fs::write(tls.join("garbage.pem"), "hello\n").unwrap();
    std::fs::write(
        tls.join("encrypted.key"),
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .unwrap();
    let t = |f: &str| tls.join(f).to_str().unwrap().to_string();
    let cases = [
        (
            t("missing.crt"),
            t("tls.key"),
            "missing.crt: cannot read it",
        ),
        (
            t("garbage.pem"),
            t("tls.key"),
            "garbage.pem: holds no `CERTIFICATE`",
        ),
        (
            t("tls.crt"),
            t("garbage.pem"),
            "garbage.pem: holds no private key",
        ),
        (
            t("tls.crt"),
            t("encrypted.key"),
            "the private key is encrypted",
        ),
        (
            t("other.crt"),
            t("tls.key"),
            "cannot be used with the certificate",
        ),
    ];
    for (cert, key, want) in cases {
        let port = free_port().to_string();
        let r = env
            .run(
                &work,
                &[
                    "serve",
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                    "--tls-cert",
                    &cert,
                    "--tls-key",
                    &key,
                    "--key",
                    "cosign.pub",
                ],
            )
            .expect_code(2);
        assert!(r.stderr.contains(want), "{want}: {}", r.stderr);
        assert!(r.stderr.contains("mlprov::serve::tls"), "{}", r.stderr);
        assert!(r.stderr.contains("help:"), "{}", r.stderr);
    }
    let r = env
        .run(
            &work,
            &["serve", "--tls-key", &t("tls.key"), "--key", "cosign.pub"],
        )
        .expect_code(2);
    assert!(r.stderr.contains("--tls-cert is required"), "{}", r.stderr);
    let r = env
        .run(
            &work,
            &[
                "serve",
                "--tls-cert",
                &t("tls.crt"),
                "--tls-key",
                &t("tls.key"),
                "--key",
                "cosign.pub",
                "--deadline-ms",
                "45000",
            ],
        )
        .expect_code(2);
    assert!(r.stderr.contains("--deadline-ms 45000"), "{}", r.stderr);
}

/// `examples/kubernetes/webhook/`: the configuration calls the Service the
/// Deployment serves, on the path and port `serve` answers, with the
/// settings the README promises, and the API server waits longer than the
/// webhook's deadline.
#[test]
fn the_example_webhook_configuration_matches_what_serve_serves() {
    let dir = repo_root().join("examples/kubernetes/webhook");
    let config = crate::kubernetes::yaml_docs(&dir.join("validating-webhook.yaml"));
    let objects = crate::kubernetes::yaml_docs(&dir.join("serve.yaml"));
    let find = |kind: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in serve.yaml"))
    };
    let (deployment, service) = (find("Deployment"), find("Service"));
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[0], "serve");
    let flag = |name: &str| {
        args.iter()
            .find_map(|a| a.strip_prefix(&format!("--{name}=")))
            .unwrap_or_else(|| panic!("no --{name} in {args:?}"))
    };
    let listen_port: u64 = flag("listen").rsplit(':').next().unwrap().parse().unwrap();
    let deadline_ms: u64 = flag("deadline-ms").parse().unwrap();
    let port = &container["ports"][0];
    assert_eq!(port["containerPort"], listen_port);
    for probe in ["readinessProbe", "livenessProbe"] {
        let p = &container[probe]["httpGet"];
        assert_eq!(p["path"], "/healthz");
        assert_eq!(p["scheme"], "HTTPS");
        assert_eq!(p["port"], port["name"]);
    }
    assert_eq!(
        service["spec"]["selector"],
        deployment["spec"]["template"]["metadata"]["labels"]
    );
    let svc_port = &service["spec"]["ports"][0];
    assert_eq!(svc_port["targetPort"], port["name"]);

    assert_eq!(config.len(), 1);
    let c = &config[0];
    assert_eq!(c["apiVersion"], "admissionregistration.k8s.io/v1");
    assert_eq!(c["kind"], "ValidatingWebhookConfiguration");
    let hooks = c["webhooks"].as_array().unwrap();
    assert!(!hooks.is_empty());
    for h in hooks {
        assert_eq!(h["failurePolicy"], "Fail", "{h}");
        assert_eq!(h["sideEffects"], "None", "{h}");
        assert_eq!(h["admissionReviewVersions"], json!(["v1"]), "{h}");
        let timeout = h["timeoutSeconds"].as_u64().unwrap();
        assert!((1..=30).contains(&timeout), "{h}");
        assert!(
            timeout * 1000 > deadline_ms,
            "the API server gives up before the deadline"
        );
        assert!(h["namespaceSelector"].is_object(), "{h}");
        let s = &h["clientConfig"]["service"];
        assert_eq!(s["name"], service["metadata"]["name"]);
        assert_eq!(s["namespace"], service["metadata"]["namespace"]);
        assert_eq!(s["path"], "/validate");
        assert_eq!(s["port"], svc_port["port"]);
        let resources: Vec<String> = h["rules"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| {
                let g = r["apiGroups"][0].as_str().unwrap().to_string();
                r["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(move |x| format!("{g}/{}", x.as_str().unwrap()))
            })
            .collect();
        for want in [
            "/pods",
            "apps/deployments",
            "batch/jobs",
            "serving.kserve.io/inferenceservices",
        ] {
            assert!(
                resources.iter().any(|r| r == want),
                "{want} not in {resources:?}"
            );
        }
    }
    // The webhook's own namespace is not gated by it.
    let ns = find("Namespace");
    let sel = &hooks[0]["namespaceSelector"]["matchLabels"];
    let labels = &ns["metadata"]["labels"];
    assert!(
        sel.as_object()
            .unwrap()
            .iter()
            .any(|(k, v)| labels.get(k) != Some(v)),
        "the webhook would gate its own namespace"
    );
}
