//! Keyless (Sigstore) signing and verification:
//!
//! - real keyless bundles made elsewhere (model_signing 1.0.1 and 1.1.0 with
//!   the public-good Sigstore) verified offline, and every way of breaking
//!   them rejected with its own code;
//! - the signing flow end to end against local Fulcio v2 / Rekor v1 /
//!   GitHub Actions OIDC servers that this test runs (a test CA with an
//!   embedded SCT, a log with a real RFC 6962 Merkle tree and a SET);
//! - GitHub Actions annotations, step summary and outputs.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::common::{Run, TestEnv, copy_dir, repo_root, s, shared_fixtures, shared_tool, skip};

const IDENTITY: &str = "stefanb@us.ibm.com";
const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

fn fixtures() -> Option<PathBuf> {
    shared_fixtures(
        "",
        &[
            "model-signing/v1.1.0-sigstore/model.sig",
            "sigstore/public-good-trusted_root.json",
        ],
    )
}

/// A writable copy of a fixture model.
fn copy_model(env: &TestEnv, fx: &Path, version: &str) -> PathBuf {
    let dir = env.work().join(format!("{version}-sigstore"));
    copy_dir(&fx.join(format!("model-signing/{version}-sigstore")), &dir);
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let mut perm = std::fs::metadata(&p).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perm.set_readonly(false);
        std::fs::set_permissions(&p, perm).unwrap();
    }
    dir
}

fn edit_sig(model: &Path, f: impl FnOnce(&mut Value)) {
    let p = model.join("model.sig");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(&p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

fn verify(env: &TestEnv, fx: &Path, model: &Path, extra: &[&str]) -> Run {
    let root = fx.join("sigstore/public-good-trusted_root.json");
    let mut args = vec![
        "--format",
        "json",
        "verify",
        s(model),
        "--ignore-paths",
        "ignore-me",
        "--trusted-root",
        s(&root),
    ];
    args.extend_from_slice(extra);
    env.run(&env.work(), &args)
}

fn pinned<'a>(identity: &'a str, issuer: &'a str) -> [&'a str; 4] {
    [
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        issuer,
    ]
}

/// The finding codes of a failed verification.
fn codes(r: &Run) -> Vec<String> {
    r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[track_caller]
fn fails_with(r: Run, code: &str) -> Value {
    let r = r.expect_code(1);
    let c = codes(&r);
    assert!(
        c.contains(&code.to_string()),
        "expected {code}, got {c:?}\n{}",
        r.stdout
    );
    r.json()
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn model_signing_keyless_fixtures_verify_offline() {
    let Some(fx) = fixtures() else {
        return;
    };
    let env = TestEnv::new();
    for v in ["v1.0.1", "v1.1.0"] {
        let model = copy_model(&env, &fx, v);
        let r = verify(&env, &fx, &model, &pinned(IDENTITY, ISSUER)).ok();
        let j = r.json();
        assert_eq!(j["verified"], true);
        assert_eq!(j["nodes"][0]["files"]["count"], 2);
        let signer = &j["nodes"][0]["attestations"][0]["signer"];
        assert_eq!(signer["kind"], "keyless");
        assert_eq!(signer["identity"], IDENTITY);
        assert_eq!(signer["issuer"], ISSUER);
        assert_eq!(signer["tlog"]["url"], "https://rekor.sigstore.dev");
        assert_eq!(signer["tlog"]["signedEntryTimestamp"], true);
        assert_eq!(signer["timeSource"], "signed-entry-timestamp");
        assert_eq!(signer["chain"][2], "CN=sigstore,O=sigstore.dev");
        // model_signing 1.1 adds an RFC 3161 timestamp from the public-good
        // timestamp authority (1.0.1 does not): it verified.
        let stamps = if v == "v1.1.0" {
            json!([{"authority": "https://timestamp.sigstore.dev/api/v1/timestamp", "time": "2025-10-10T02:12:20Z"}])
        } else {
            json!([])
        };
        assert_eq!(signer["timestamps"], stamps);
        // The embedded public-good root (no --trusted-root) verifies too.
        env.run(
            &env.work(),
            &[
                "verify",
                s(&model),
                "--ignore-paths",
                "ignore-me",
                "--certificate-identity",
                IDENTITY,
                "--certificate-oidc-issuer",
                ISSUER,
            ],
        )
        .ok();
        // An explicitly named regexp that covers the identity passes.
        verify(
            &env,
            &fx,
            &model,
            &[
                "--certificate-identity-regexp",
                r"[a-z]+@us\.ibm\.com",
                "--certificate-oidc-issuer",
                ISSUER,
            ],
        )
        .ok();
    }
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn keyless_fixture_identity_must_match_exactly() {
    let Some(fx) = fixtures() else {
        return;
    };
    let env = TestEnv::new();
    let model = copy_model(&env, &fx, "v1.1.0");
    // Wrong identity, wrong issuer.
    let j = fails_with(
        verify(&env, &fx, &model, &pinned("someone@us.ibm.com", ISSUER)),
        "E0214",
    );
    let msg = j["findings"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains(IDENTITY) && msg.contains("someone@us.ibm.com"),
        "{msg}"
    );
    fails_with(
        verify(
            &env,
            &fx,
            &model,
            &pinned(IDENTITY, "https://accounts.google.com"),
        ),
        "E0215",
    );
    // A wildcard in an exact identity is literal, never a pattern.
    for wild in ["*", ".*", "*@us.ibm.com", "stefanb@*"] {
        fails_with(verify(&env, &fx, &model, &pinned(wild, ISSUER)), "E0214");
    }
    // A regexp must match the whole identity.
    fails_with(
        verify(
            &env,
            &fx,
            &model,
            &[
                "--certificate-identity-regexp",
                "stefanb",
                "--certificate-oidc-issuer",
                ISSUER,
            ],
        ),
        "E0214",
    );
    // No identity at all: a usage error naming the flags.
    let r = verify(&env, &fx, &model, &[]).expect_code(2);
    assert!(r.stderr.contains("--certificate-identity"), "{}", r.stderr);
    // An issuer alone trusts nobody.
    let r = verify(&env, &fx, &model, &["--certificate-oidc-issuer", ISSUER]).expect_code(2);
    assert!(r.stderr.contains("names no identity"), "{}", r.stderr);
    // A key-only verifier does not trust a keyless signature.
    let key = fx.join("model-signing/keys/signing-key-pub.pem");
    fails_with(verify(&env, &fx, &model, &["--key", s(&key)]), "E0202");
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn keyless_fixture_tampering_fails_closed() {
    let Some(fx) = fixtures() else {
        return;
    };
    let env = TestEnv::new();
    let ok = pinned(IDENTITY, ISSUER);
    let fresh = |name: &str| {
        let dir = copy_model(&env, &fx, "v1.1.0");
        let to = env.work().join(name);
        std::fs::rename(&dir, &to).unwrap();
        to
    };

    // A tampered file.
    let m = fresh("file");
    std::fs::write(m.join("signme-1"), b"tampered").unwrap();
    let j = fails_with(verify(&env, &fx, &m, &ok), "E0101");
    assert_eq!(j["findings"][0]["file"], "signme-1");

    // A tampered payload (the statement, re-encoded).
    let m = fresh("payload");
    edit_sig(&m, |v| {
        let p = B64
            .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap();
        let mut st: Value = serde_json::from_slice(&p).unwrap();
        st["predicate"]["resources"][0]["digest"] = json!("00".repeat(32));
        v["dsseEnvelope"]["payload"] = B64.encode(serde_json::to_vec(&st).unwrap()).into();
    });
    fails_with(verify(&env, &fx, &m, &ok), "E0201");

    // The tlog entry removed.
    let m = fresh("no-tlog");
    edit_sig(&m, |v| {
        v["verificationMaterial"]["tlogEntries"] = json!([]);
    });
    fails_with(verify(&env, &fx, &m, &ok), "E0217");

    // No log timestamp and no RFC 3161 timestamp: nothing proves when the
    // certificate (valid ten minutes in October 2025) was used.
    let m = fresh("no-time");
    edit_sig(&m, |v| {
        let e = &mut v["verificationMaterial"]["tlogEntries"][0];
        let o = e.as_object_mut().unwrap();
        o.remove("integratedTime");
        o.remove("inclusionPromise");
        v["verificationMaterial"]
            .as_object_mut()
            .unwrap()
            .remove("timestampVerificationData");
    });
    let j = fails_with(verify(&env, &fx, &m, &ok), "E0210");
    let msg = j["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("no signed log timestamp"), "{msg}");

    // No SET, but the RFC 3161 timestamp: its time is the signing time.
    let m = fresh("tsa-only");
    edit_sig(&m, |v| {
        let e = &mut v["verificationMaterial"]["tlogEntries"][0];
        e.as_object_mut().unwrap().remove("inclusionPromise");
    });
    let j = verify(&env, &fx, &m, &ok).ok().json();
    let signer = &j["nodes"][0]["attestations"][0]["signer"];
    assert_eq!(signer["timeSource"], "timestamp-authority");
    assert_eq!(signer["tlog"]["signedEntryTimestamp"], false);

    // A corrupted RFC 3161 timestamp: its signature no longer verifies.
    let m = fresh("tsa-corrupt");
    edit_sig(&m, |v| {
        let t = &mut v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
            ["signedTimestamp"];
        let mut der = B64.decode(t.as_str().unwrap()).unwrap();
        let n = der.len();
        der[n - 10] ^= 1;
        *t = B64.encode(der).into();
    });
    let j = fails_with(verify(&env, &fx, &m, &ok), "E0222");
    let msg = j["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("RFC 3161"), "{msg}");
    // Not even base64: a malformed bundle.
    let m = fresh("tsa-garbage");
    edit_sig(&m, |v| {
        v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"] =
            json!("%%% not a timestamp %%%");
    });
    fails_with(verify(&env, &fx, &m, &ok), "E0205");
    // Valid DER that is no timestamp response.
    let m = fresh("tsa-not-a-response");
    edit_sig(&m, |v| {
        v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"] =
            json!(B64.encode([0x30, 3, 2, 1, 0]));
    });
    fails_with(verify(&env, &fx, &m, &ok), "E0222");
    // Another signature's timestamp (v1.0.1's in the v1.1.0 bundle).
    // Another signature's timestamp (v1.1.0's in the v1.0.1 bundle).
    let m = copy_model(&env, &fx, "v1.0.1");
    let stamped: Value = serde_json::from_slice(
        &std::fs::read(fx.join("model-signing/v1.1.0-sigstore/model.sig")).unwrap(),
    )
    .unwrap();
    edit_sig(&m, |v| {
        v["verificationMaterial"]["timestampVerificationData"] =
            stamped["verificationMaterial"]["timestampVerificationData"].clone();
    });
    let j = fails_with(verify(&env, &fx, &m, &ok), "E0222");
    let msg = j["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("another signature"), "{msg}");
    // A trusted root without the timestamp authority cannot check it.
    let m = fresh("tsa-unknown");
    let mut no_tsa: Value = serde_json::from_slice(
        &std::fs::read(fx.join("sigstore/public-good-trusted_root.json")).unwrap(),
    )
    .unwrap();
    no_tsa["timestampAuthorities"] = json!([]);
    let no_tsa_path = env.work().join("no-tsa.json");
    std::fs::write(&no_tsa_path, serde_json::to_vec(&no_tsa).unwrap()).unwrap();
    let j = fails_with(
        env.run(
            &env.work(),
            &[
                &[
                    "--format",
                    "json",
                    "verify",
                    s(&m),
                    "--ignore-paths",
                    "ignore-me",
                    "--trusted-root",
                    s(&no_tsa_path),
                ][..],
                &ok[..],
            ]
            .concat(),
        ),
        "E0222",
    );
    let msg = j["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("no timestamp authority"), "{msg}");

    // An integrated time the SET does not sign (moved into the validity).
    let m = fresh("moved-time");
    edit_sig(&m, |v| {
        let e = &mut v["verificationMaterial"]["tlogEntries"][0];
        let t: i64 = e["integratedTime"].as_str().unwrap().parse().unwrap();
        e["integratedTime"] = json!((t + 1).to_string());
    });
    fails_with(verify(&env, &fx, &m, &ok), "E0221");

    // A forged SET.
    let m = fresh("set");
    edit_sig(&m, |v| {
        let e = &mut v["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"];
        let mut set = B64
            .decode(e["signedEntryTimestamp"].as_str().unwrap())
            .unwrap();
        let n = set.len();
        set[n - 3] ^= 1;
        e["signedEntryTimestamp"] = B64.encode(set).into();
    });
    fails_with(verify(&env, &fx, &m, &ok), "E0221");

    // A broken inclusion proof, and a checkpoint for another tree.
    let m = fresh("proof");
    edit_sig(&m, |v| {
        v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][3] =
            json!(B64.encode([7u8; 32]));
    });
    fails_with(verify(&env, &fx, &m, &ok), "E0220");
    let m = fresh("checkpoint");
    edit_sig(&m, |v| {
        let cp = &mut v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"];
        let text = cp.as_str().unwrap().replacen("\n47624", "\n47625", 1);
        *cp = text.into();
    });
    fails_with(verify(&env, &fx, &m, &ok), "E0220");

    // A log entry for another signature (the v1.0.1 entry in the v1.1.0 bundle).
    let m = fresh("other-entry");
    let other: Value = serde_json::from_slice(
        &std::fs::read(fx.join("model-signing/v1.0.1-sigstore/model.sig")).unwrap(),
    )
    .unwrap();
    edit_sig(&m, |v| {
        v["verificationMaterial"]["tlogEntries"] =
            other["verificationMaterial"]["tlogEntries"].clone();
    });
    fails_with(verify(&env, &fx, &m, &ok), "E0219");

    // Another signing certificate (v1.0.1's, same identity) for this signature.
    let m = fresh("other-cert");
    edit_sig(&m, |v| {
        v["verificationMaterial"]["certificate"] =
            other["verificationMaterial"]["certificate"].clone();
    });
    fails_with(verify(&env, &fx, &m, &ok), "E0201");

    // A trusted root that does not list the public-good log or CAs.
    let m = fresh("other-root");
    let mut root: Value = serde_json::from_slice(
        &std::fs::read(fx.join("sigstore/public-good-trusted_root.json")).unwrap(),
    )
    .unwrap();
    root["tlogs"].as_array_mut().unwrap().remove(0);
    let root_path = env.work().join("no-rekor-v1.json");
    std::fs::write(&root_path, serde_json::to_vec(&root).unwrap()).unwrap();
    let mut args = ok.to_vec();
    args.extend(["--trusted-root", s(&root_path)]);
    fails_with(
        env.run(
            &env.work(),
            &[
                &[
                    "--format",
                    "json",
                    "verify",
                    s(&m),
                    "--ignore-paths",
                    "ignore-me",
                ][..],
                &args,
            ]
            .concat(),
        ),
        "E0218",
    );
}

fn run_with(env: &TestEnv, dir: &Path, args: &[&str], vars: &[(&str, String)]) -> Run {
    let mut c = env.cmd(dir);
    c.args(args);
    for (k, v) in vars {
        c.env(k, v);
    }
    Run::of(&mut c)
}

fn small_model(dir: &Path) {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("config.json"), br#"{"hidden": 8}"#).unwrap();
    std::fs::write(dir.join("sub/weights.bin"), vec![7u8; 4096]).unwrap();
}

/// `sign --keyless` and `attest --keyless` against the local Fulcio,
/// Rekor and GitHub Actions token endpoint; the bundles verify with
/// `--trusted-root` describing them, and only with the pinned identity.
#[test]
fn keyless_sign_and_attest_against_local_sigstore() {
    use crate::sigstore_server::{GITHUB_ISSUER, Sigstore, WORKFLOW};
    let env = TestEnv::new();
    let sigstore = Sigstore::start();
    let root = env.work().join("trusted_root.json");
    std::fs::write(
        &root,
        serde_json::to_vec_pretty(&sigstore.trusted_root()).unwrap(),
    )
    .unwrap();
    let model = env.work().join("model");
    small_model(&model);
    let services = [
        "--fulcio-url",
        &sigstore.url,
        "--rekor-url",
        &sigstore.url,
        "--trusted-root",
        s(&root),
    ];
    let vars = sigstore.actions_env();

    let mut args = vec!["--format", "json", "sign", "--keyless", s(&model)];
    args.extend_from_slice(&services);
    let r = run_with(&env, &env.work(), &args, &vars).ok();
    let j = r.json();
    assert_eq!(j["signer"]["kind"], "keyless");
    assert_eq!(j["signer"]["identity"], WORKFLOW);
    assert_eq!(j["signer"]["issuer"], GITHUB_ISSUER);
    assert_eq!(sigstore.log_size(), 6);

    // The bundle: a certificate, one tlog entry with proof and promise, a DSSE envelope.
    let sig: Value =
        serde_json::from_slice(&std::fs::read(model.join("model.sig")).unwrap()).unwrap();
    assert_eq!(
        sig["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let vm = &sig["verificationMaterial"];
    assert!(vm["certificate"]["rawBytes"].is_string());
    let e = &vm["tlogEntries"][0];
    assert_eq!(
        e["kindVersion"],
        json!({"kind": "dsse", "version": "0.0.1"})
    );
    assert_eq!(e["logIndex"], "5");
    assert!(e["inclusionPromise"]["signedEntryTimestamp"].is_string());
    assert_eq!(e["inclusionProof"]["treeSize"], "6");
    assert!(e["inclusionProof"]["checkpoint"]["envelope"].is_string());
    assert_eq!(
        sig["dsseEnvelope"]["signatures"].as_array().unwrap().len(),
        1
    );
    // The sigstore protobuf schema reads it.
    let _: sigstore::bundle::Bundle = serde_json::from_value(sig.clone()).unwrap();

    let pin = [
        "--certificate-identity",
        WORKFLOW,
        "--certificate-oidc-issuer",
        GITHUB_ISSUER,
    ];
    let mut args = vec![
        "--format",
        "json",
        "verify",
        s(&model),
        "--trusted-root",
        s(&root),
    ];
    args.extend_from_slice(&pin);
    let j = env.run(&env.work(), &args).ok().json();
    let signer = &j["nodes"][0]["attestations"][0]["signer"];
    assert_eq!(signer["kind"], "keyless");
    assert_eq!(signer["identity"], WORKFLOW);
    assert_eq!(signer["tlog"]["logIndex"], 5);
    assert_eq!(signer["tlog"]["treeSize"], 6);
    assert_eq!(signer["timeSource"], "signed-entry-timestamp");
    assert_eq!(
        signer["chain"],
        json!([
            format!("(keyless certificate for {WORKFLOW})"),
            "CN=mlprov-test-intermediate,O=mlprov-test",
            "CN=mlprov-test-root,O=mlprov-test"
        ])
    );

    // Another workflow of the same repository is not trusted.
    let other = WORKFLOW.replace("release.yml", "nightly.yml");
    let mut args = vec![
        "--format",
        "json",
        "verify",
        s(&model),
        "--trusted-root",
        s(&root),
    ];
    args.extend_from_slice(&[
        "--certificate-identity",
        &other,
        "--certificate-oidc-issuer",
        GITHUB_ISSUER,
    ]);
    fails_with(env.run(&env.work(), &args), "E0214");
    // The public-good root does not trust the test log.
    let mut args = vec!["--format", "json", "verify", s(&model)];
    args.extend_from_slice(&pin);
    fails_with(env.run(&env.work(), &args), "E0218");

    // No token source in a non-interactive run: a clear error.
    let mut args = vec!["sign", "--keyless", s(&model)];
    args.extend_from_slice(&services);
    let r = run_with(&env, &env.work(), &args, &[]).expect_code(2);
    assert!(r.stderr.contains("SIGSTORE_ID_TOKEN"), "{}", r.stderr);
    // A private Fulcio without a trusted root describing it is refused up front.
    let r = run_with(
        &env,
        &env.work(),
        &[
            "sign",
            "--keyless",
            s(&model),
            "--fulcio-url",
            &sigstore.url,
            "--rekor-url",
            &sigstore.url,
        ],
        &vars,
    )
    .expect_code(2);
    assert!(r.stderr.contains("--trusted-root"), "{}", r.stderr);
    // Signing against the public-good root with the test services: what
    // Fulcio returned does not verify, and nothing is written.
    let before = std::fs::read(model.join("model.sig")).unwrap();
    let mut args = vec!["sign", "--keyless", s(&model)];
    args.extend_from_slice(&services[..4]);
    let public_root = fx_public_root();
    args.extend_from_slice(&["--trusted-root", s(&public_root)]);
    let r = run_with(&env, &env.work(), &args, &vars).expect_code(2);
    assert!(r.stderr.contains("does not verify against"), "{}", r.stderr);
    assert_eq!(std::fs::read(model.join("model.sig")).unwrap(), before);

    // attest --keyless: provenance and SBOM of a project.
    let proj = env.work().join("proj");
    std::fs::create_dir_all(proj.join("target/mlprov")).unwrap();
    std::fs::write(
        proj.join("mlprov.toml"),
        "[artifact]\nname = \"acme/tiny\"\nversion = \"0.1.0\"\nkind = \"model\"\npath = \"out/\"\nlicense = \"MIT\"\n",
    )
    .unwrap();
    small_model(&proj.join("out"));
    let digest = j["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let provenance = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "acme/tiny", "digest": {"sha256": digest}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {"buildType": "https://mlprov.dev/build/training/v1", "externalParameters": {}},
            "runDetails": {"builder": {"id": "https://mlprov.dev/builder/local"}}
        }
    });
    std::fs::write(
        proj.join("target/mlprov/provenance.json"),
        serde_json::to_vec_pretty(&provenance).unwrap(),
    )
    .unwrap();
    std::fs::write(
        proj.join("target/mlprov/sbom.spdx.json"),
        br#"{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}"#,
    )
    .unwrap();
    let mut args = vec!["--format", "json", "attest", "--keyless"];
    args.extend_from_slice(&services);
    let r = run_with(&env, &proj, &args, &vars).ok();
    assert_eq!(r.json()["bundles"].as_array().unwrap().len(), 2);
    assert_eq!(sigstore.log_size(), 8);
    let bundle = proj.join("target/mlprov/provenance.sigstore.json");
    let mut args = vec![
        "--format",
        "json",
        "verify",
        "out",
        "--trusted-root",
        s(&root),
        "--bundle",
        s(&bundle),
        "--require",
        "https://slsa.dev/provenance/v1",
    ];
    args.extend_from_slice(&pin);
    let j = env.run(&proj, &args).ok().json();
    assert!(
        j["nodes"][0]["proven"]
            .as_array()
            .unwrap()
            .contains(&json!("https://slsa.dev/provenance/v1")),
        "{j}"
    );

    // The same identity as a policy signer ([policy.artifact].signers):
    // the policy alone names who is trusted, no flags.
    let policy = |identity: &str| {
        format!(
            "[policy.artifact]\nrequire = [\"https://slsa.dev/provenance/v1\"]\nsigners = [{{ identity = \"{identity}\", issuer = \"{GITHUB_ISSUER}\" }}]\n"
        )
    };
    std::fs::write(proj.join("policy.toml"), policy(WORKFLOW)).unwrap();
    let args = [
        "--format",
        "json",
        "verify",
        "out",
        "--policy",
        "policy.toml",
        "--trusted-root",
        s(&root),
        "--bundle",
        s(&bundle),
    ];
    let j = env.run(&proj, &args).ok().json();
    assert_eq!(j["verified"], true, "{j}");
    // Another workflow in the policy: the keyless signature is not trusted.
    std::fs::write(proj.join("policy.toml"), policy(&other)).unwrap();
    fails_with(env.run(&proj, &args), "E0214");
    // A regexp only through `identity-regexp`, anchored on both ends.
    let regexp_policy = |re: &str| {
        format!(
            "[policy.artifact]\nrequire = [\"https://slsa.dev/provenance/v1\"]\nsigners = [{{ identity-regexp = '{re}', issuer = \"{GITHUB_ISSUER}\" }}]\n"
        )
    };
    std::fs::write(
        proj.join("policy.toml"),
        regexp_policy(r"https://github\.com/acme/.*"),
    )
    .unwrap();
    env.run(&proj, &args).ok();
    std::fs::write(
        proj.join("policy.toml"),
        regexp_policy(r"https://github\.com/acme"),
    )
    .unwrap();
    fails_with(env.run(&proj, &args), "E0214");
}

/// The local Sigstore, its trusted_root.json, and the service flags.
fn local_sigstore(
    env: &TestEnv,
    faults: crate::sigstore_server::Faults,
) -> (crate::sigstore_server::Sigstore, PathBuf) {
    let sigstore = crate::sigstore_server::Sigstore::start_with(faults);
    let root = env.work().join("trusted_root.json");
    std::fs::write(
        &root,
        serde_json::to_vec_pretty(&sigstore.trusted_root()).unwrap(),
    )
    .unwrap();
    (sigstore, root)
}

/// `verify-sigstore` (sigstore-js and sigstore-python) on a keyless bundle:
/// the exit code and one verdict per implementation.
fn verify_sigstore(
    bundle: &Path,
    digest: &str,
    root: &Path,
    id: &str,
    issuer: &str,
) -> Option<(i32, Vec<Value>)> {
    let args: Vec<&std::ffi::OsStr> = [
        bundle.as_os_str(),
        "--digest".as_ref(),
        digest.as_ref(),
        "--trusted-root".as_ref(),
        root.as_os_str(),
        "--identity".as_ref(),
        id.as_ref(),
        "--issuer".as_ref(),
        issuer.as_ref(),
    ]
    .to_vec();
    let r = shared_tool("verify-sigstore", &args)?;
    let verdicts: Vec<Value> = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Some((r.code, verdicts))
}

/// Keyless bundles mlprov makes against the strict local Fulcio and Rekor
/// (a GitHub Actions workflow identity and an email identity) verify with
/// sigstore-js and sigstore-python; another identity fails in both.
#[test]
#[ignore = "needs ../shared/tools"]
fn keyless_bundles_verify_with_sigstore_js_and_python() {
    use crate::sigstore_server::{EMAIL_ISSUER, GITHUB_ISSUER, WORKFLOW};
    let env = TestEnv::new();
    let (sigstore, root) = local_sigstore(&env, Default::default());
    let model = env.work().join("model");
    small_model(&model);
    let services = [
        "--fulcio-url",
        &sigstore.url,
        "--rekor-url",
        &sigstore.url,
        "--trusted-root",
        s(&root),
    ];
    let email = "alice@example.com";
    let email_token = sigstore.email_token(email);
    /// The signature file, identity, issuer, environment and extra flags.
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Vec<(&'a str, String)>,
        Vec<&'a str>,
    );
    let cases: [Case; 2] = [
        (
            "actions.sig",
            WORKFLOW,
            GITHUB_ISSUER,
            sigstore.actions_env().to_vec(),
            vec![],
        ),
        (
            "email.sig",
            email,
            EMAIL_ISSUER,
            vec![],
            vec!["--identity-token", &email_token],
        ),
    ];
    for (name, identity, issuer, vars, extra) in &cases {
        let sig = env.work().join(name);
        let mut args = vec![
            "--format",
            "json",
            "sign",
            "--keyless",
            s(&model),
            "--signature",
            s(&sig),
        ];
        args.extend_from_slice(&services);
        args.extend_from_slice(extra);
        let j = run_with(&env, &env.work(), &args, vars).ok().json();
        assert_eq!(j["signer"]["identity"], *identity);
        let digest = j["digest"].as_str().unwrap().to_string();
        let Some((code, verdicts)) = verify_sigstore(&sig, &digest, &root, identity, issuer) else {
            skip("../shared/tools or the validators venv is absent");
            return;
        };
        assert_eq!(code, 0, "{verdicts:?}");
        let tools: Vec<&str> = verdicts
            .iter()
            .map(|v| v["tool"].as_str().unwrap())
            .collect();
        assert_eq!(tools, ["sigstore-js", "sigstore-python"], "{verdicts:?}");
        assert!(verdicts.iter().all(|v| v["ok"] == true), "{verdicts:?}");
        // Another identity, and another issuer: both implementations refuse.
        for (id, iss) in [
            ("someone@example.com", *issuer),
            (*identity, "https://accounts.google.com"),
        ] {
            let (code, verdicts) = verify_sigstore(&sig, &digest, &root, id, iss).unwrap();
            assert_ne!(code, 0, "{verdicts:?}");
            assert_eq!(verdicts.len(), 2, "{verdicts:?}");
            assert!(verdicts.iter().all(|v| v["ok"] == false), "{verdicts:?}");
        }
        // And mlprov agrees with them.
        let verify = |id: &str, iss: &str| {
            env.run(
                &env.work(),
                &[
                    "--format",
                    "json",
                    "verify",
                    s(&model),
                    "--signature",
                    s(&sig),
                    "--trusted-root",
                    s(&root),
                    "--certificate-identity",
                    id,
                    "--certificate-oidc-issuer",
                    iss,
                ],
            )
        };
        verify(identity, issuer).ok();
        fails_with(verify("someone@example.com", issuer), "E0214");
    }
}

/// Each way a Fulcio, CT log or Rekor can depart from what sigstore-js and
/// sigstore-python accept is refused by mlprov when signing (it verifies
/// what the services returned before writing anything), with the reason.
#[test]
fn keyless_signing_refuses_what_sigstore_clients_refuse() {
    use crate::sigstore_server::Faults;
    let cases: Vec<(Faults, &str)> = vec![
        (
            Faults {
                no_aki: true,
                ..Default::default()
            },
            "Authority Key Identifier",
        ),
        (
            Faults {
                no_key_usage: true,
                ..Default::default()
            },
            "no key usage",
        ),
        (
            Faults {
                san_not_critical: true,
                ..Default::default()
            },
            "non-critical subject alternative name",
        ),
        (
            Faults {
                bad_sct: true,
                ..Default::default()
            },
            "SCT",
        ),
        (
            Faults {
                untrusted_sct: true,
                ..Default::default()
            },
            "which the trusted root does not list",
        ),
        (
            Faults {
                checkpoint_name: Some("rekor.example.com".into()),
                ..Default::default()
            },
            "no signature by",
        ),
        (
            Faults {
                checkpoint_origin: Some("another-log - 7".into()),
                ..Default::default()
            },
            "origin",
        ),
    ];
    for (faults, why) in cases {
        let env = TestEnv::new();
        let (sigstore, root) = local_sigstore(&env, faults.clone());
        let model = env.work().join("model");
        small_model(&model);
        let args = [
            "sign",
            "--keyless",
            s(&model),
            "--fulcio-url",
            &sigstore.url,
            "--rekor-url",
            &sigstore.url,
            "--trusted-root",
            s(&root),
        ];
        let r = run_with(&env, &env.work(), &args, &sigstore.actions_env()).expect_code(2);
        // miette wraps lines: compare the words.
        let words = r
            .stderr
            .replace('│', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            words.contains(why),
            "{faults:?}: expected `{why}` in\n{}",
            r.stderr
        );
        assert!(!model.join("model.sig").exists(), "{faults:?}");
    }
}

/// A keyless bundle's log entries must all verify, and a bundle without a
/// signed entry timestamp has no verified signing time.
#[test]
fn keyless_bundle_tlog_entries_all_verify() {
    let env = TestEnv::new();
    let (sigstore, root) = local_sigstore(&env, Default::default());
    let model = env.work().join("model");
    small_model(&model);
    let args = [
        "sign",
        "--keyless",
        s(&model),
        "--fulcio-url",
        &sigstore.url,
        "--rekor-url",
        &sigstore.url,
        "--trusted-root",
        s(&root),
    ];
    run_with(&env, &env.work(), &args, &sigstore.actions_env()).ok();
    let good = std::fs::read(model.join("model.sig")).unwrap();
    let verify = || {
        env.run(
            &env.work(),
            &[
                "--format",
                "json",
                "verify",
                s(&model),
                "--trusted-root",
                s(&root),
                "--certificate-identity",
                crate::sigstore_server::WORKFLOW,
                "--certificate-oidc-issuer",
                crate::sigstore_server::GITHUB_ISSUER,
            ],
        )
    };
    verify().ok();
    // A second, broken copy of the entry next to the good one.
    edit_sig(&model, |v| {
        let mut e = v["verificationMaterial"]["tlogEntries"][0].clone();
        e["inclusionProof"]["hashes"][0] = json!(B64.encode([7u8; 32]));
        v["verificationMaterial"]["tlogEntries"]
            .as_array_mut()
            .unwrap()
            .push(e);
    });
    fails_with(verify(), "E0220");
    // No SET: no verified time, even though the certificate is still valid.
    std::fs::write(model.join("model.sig"), &good).unwrap();
    edit_sig(&model, |v| {
        v["verificationMaterial"]["tlogEntries"][0]
            .as_object_mut()
            .unwrap()
            .remove("inclusionPromise");
    });
    let j = fails_with(verify(), "E0210");
    assert!(
        j["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no signed log timestamp")
    );
}

fn fx_public_root() -> PathBuf {
    repo_root().join("src/sign/keyless/public-good-trusted_root.json")
}

/// A GitHub Actions step: GITHUB_ACTIONS=true with temp files for the step
/// summary and outputs, and the work directory as the workspace.
struct GitHubStep {
    summary: PathBuf,
    output: PathBuf,
    vars: Vec<(&'static str, String)>,
}

impl GitHubStep {
    fn new(env: &TestEnv) -> Self {
        let summary = env.path().join("step_summary.md");
        let output = env.path().join("github_output");
        let vars = vec![
            ("GITHUB_ACTIONS", "true".to_string()),
            ("CI", "true".to_string()),
            ("GITHUB_STEP_SUMMARY", s(&summary).to_string()),
            ("GITHUB_OUTPUT", s(&output).to_string()),
            ("GITHUB_WORKSPACE", s(&env.work()).to_string()),
        ];
        Self {
            summary,
            output,
            vars,
        }
    }

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap_or_default()
    }

    /// The workflow commands a run printed.
    fn annotations(r: &Run) -> String {
        r.stderr
            .lines()
            .filter(|l| l.starts_with("::"))
            .map(|l| format!("{l}\n"))
            .collect()
    }
}

fn snapshot(name: &str, env: &TestEnv, text: &str) {
    let tmp = env.path().display().to_string();
    insta::with_settings!({filters => vec![(tmp.as_str(), "[TMP]")]}, {
        insta::assert_snapshot!(name, text);
    });
}

/// verify under GitHub Actions: findings become `::error file=…` annotations,
/// the verification tree and signers go to the step summary, the verdict and
/// digest to the step outputs.
#[test]
#[ignore = "needs ../shared/fixtures"]
fn github_actions_verify_annotations_summary_outputs() {
    let Some(fx) = fixtures() else {
        return;
    };
    let env = TestEnv::new();
    let model = copy_model(&env, &fx, "v1.1.0");
    let root = fx.join("sigstore/public-good-trusted_root.json");
    let step = GitHubStep::new(&env);
    let args = [
        "verify",
        "v1.1.0-sigstore",
        "--ignore-paths",
        "ignore-me",
        "--trusted-root",
        s(&root),
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
    ];
    let ok = run_with(&env, &env.work(), &args, &step.vars).ok();
    assert_eq!(GitHubStep::annotations(&ok), "");
    snapshot(
        "github_verify_ok_summary",
        &env,
        &GitHubStep::read(&step.summary),
    );
    snapshot(
        "github_verify_ok_outputs",
        &env,
        &GitHubStep::read(&step.output),
    );

    // A changed file and a bad signature: annotations on the files.
    std::fs::remove_file(&step.summary).unwrap();
    std::fs::remove_file(&step.output).unwrap();
    std::fs::write(model.join("signme-2"), b"tampered").unwrap();
    let bad = run_with(&env, &env.work(), &args, &step.vars).expect_code(1);
    snapshot(
        "github_verify_failed_annotations",
        &env,
        &GitHubStep::annotations(&bad),
    );
    snapshot(
        "github_verify_failed_summary",
        &env,
        &GitHubStep::read(&step.summary),
    );
    snapshot(
        "github_verify_failed_outputs",
        &env,
        &GitHubStep::read(&step.output),
    );

    // A keyless identity mismatch points at the bundle.
    std::fs::write(model.join("signme-2"), b"s1gnme2\n").unwrap();
    let mut other = args.to_vec();
    other[7] = "someone@example.com";
    let r = run_with(&env, &env.work(), &other, &step.vars).expect_code(1);
    snapshot(
        "github_verify_identity_annotations",
        &env,
        &GitHubStep::annotations(&r),
    );

    // Never a prompt: keyless signing without a token source fails with the fix.
    let r = run_with(
        &env,
        &env.work(),
        &[
            "sign",
            "--keyless",
            "v1.1.0-sigstore",
            "--signature",
            "x.sig",
        ],
        &step.vars,
    )
    .expect_code(2);
    snapshot(
        "github_sign_no_token_annotations",
        &env,
        &GitHubStep::annotations(&r),
    );
}

/// A bad mlprov.toml under GitHub Actions: the annotation names the file and line.
#[test]
fn github_actions_manifest_error_points_at_the_line() {
    let env = TestEnv::new();
    let proj = env.work().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(
        proj.join("mlprov.toml"),
        "[artifact]\nname = \"acme/tiny\"\nversion = \"0.1.0\"\nkind = \"spaceship\"\npath = \"out/\"\n",
    )
    .unwrap();
    let step = GitHubStep::new(&env);
    let r = run_with(&env, &proj, &["pin"], &step.vars).expect_code(2);
    let a = GitHubStep::annotations(&r);
    assert!(
        a.starts_with("::error file=proj/mlprov.toml,line=4,"),
        "{a}"
    );
    snapshot("github_manifest_error_annotations", &env, &a);
}

/// build under GitHub Actions: the summary (artifact, inputs, documents) and
/// the digest output.
#[test]
fn github_actions_build_summary_and_outputs() {
    let env = TestEnv::new();
    let proj = env.work().join("proj");
    std::fs::create_dir_all(proj.join("data")).unwrap();
    std::fs::write(proj.join("data/train.jsonl"), "{\"q\": 1}\n").unwrap();
    std::fs::write(
        proj.join("mlprov.toml"),
        "[artifact]\nname = \"acme/tiny\"\nversion = \"0.1.0\"\nkind = \"model\"\npath = \"out/\"\nlicense = \"MIT\"\n\n\
         [inputs]\ndata = { path = \"data/\", role = \"training-data\", license = \"MIT\" }\n",
    )
    .unwrap();
    small_model(&proj.join("out"));
    run_with(&env, &proj, &["pin"], &[]).ok();
    let step = GitHubStep::new(&env);
    let mut vars = step.vars.clone();
    vars.push(("SOURCE_DATE_EPOCH", "1700000000".into()));
    let r = run_with(
        &env,
        &proj,
        &["build", "--skip-training", "--allow-dirty"],
        &vars,
    );
    let r = r.ok();
    snapshot(
        "github_build_annotations",
        &env,
        &GitHubStep::annotations(&r),
    );
    snapshot(
        "github_build_summary",
        &env,
        &GitHubStep::read(&step.summary),
    );
    snapshot(
        "github_build_outputs",
        &env,
        &GitHubStep::read(&step.output),
    );
}

/// `verify-sigstore` on a key-signed bundle (sigstore-js), optionally
/// demanding a verified transparency log entry.
fn verify_sigstore_key(
    bundle: &Path,
    digest: &str,
    public: &Path,
    root: Option<&Path>,
) -> Option<(i32, Vec<Value>)> {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        bundle.as_os_str(),
        "--digest".as_ref(),
        digest.as_ref(),
        "--public-key".as_ref(),
        public.as_os_str(),
    ];
    if let Some(r) = root {
        args.extend([
            "--require-tlog".as_ref(),
            "--trusted-root".as_ref(),
            r.as_os_str(),
        ]);
    }
    let r = shared_tool("verify-sigstore", &args)?;
    let verdicts: Vec<Value> = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Some((r.code, verdicts))
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// The digest of the statement's subject named `name` (else the first).
fn subject_digest(bundle: &Path, name: &str) -> String {
    let b = read_json(bundle);
    let st: Value = serde_json::from_slice(
        &B64.decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let subjects = st["subject"].as_array().unwrap();
    let s = subjects
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or(&subjects[0]);
    format!("sha256:{}", s["digest"]["sha256"].as_str().unwrap())
}

/// `--tlog-upload` on `sign`, `attest` and the VSA: the DSSE envelope is
/// logged in the local Rekor (a `dsse` entry whose verifier is the public
/// key), the bundle carries the inclusion proof, checkpoint and signed
/// entry timestamp, and sigstore-js accepts it with `--require-tlog`;
/// model_signing still accepts model.sig. Unlogged key bundles stay valid
/// unless `--require-tlog`.
#[test]
fn key_signed_bundles_logged_in_rekor() {
    let env = TestEnv::new();
    let (sigstore, root) = local_sigstore(&env, Default::default());
    let pw = [("MLPROV_PASSWORD", "pw".to_string())];
    let keys = env.work().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    run_with(&env, &keys, &["keygen"], &pw).ok();
    let (key, public) = (keys.join("cosign.key"), keys.join("cosign.pub"));
    let model = env.work().join("model");
    small_model(&model);
    let rekor = ["--rekor-url", &sigstore.url, "--trusted-root", s(&root)];

    // sign --key --tlog-upload.
    let mut args = vec![
        "--format",
        "json",
        "sign",
        "--key",
        s(&key),
        s(&model),
        "--tlog-upload",
    ];
    args.extend_from_slice(&rekor);
    let j = run_with(&env, &env.work(), &args, &pw).ok().json();
    assert_eq!(j["signer"]["tlog"]["url"], sigstore.url);
    let digest = j["digest"].as_str().unwrap().to_string();
    assert_eq!(sigstore.log_size(), 6);
    let sig = model.join("model.sig");
    let b = read_json(&sig);
    let e = &b["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(
        e["kindVersion"],
        json!({"kind": "dsse", "version": "0.0.1"})
    );
    assert!(e["inclusionPromise"]["signedEntryTimestamp"].is_string());
    assert!(e["inclusionProof"]["checkpoint"]["envelope"].is_string());
    let body: Value = serde_json::from_slice(
        &B64.decode(e["canonicalizedBody"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let verifier = String::from_utf8(
        B64.decode(body["spec"]["signatures"][0]["verifier"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(
        verifier.starts_with("-----BEGIN PUBLIC KEY-----"),
        "{verifier}"
    );
    let _: sigstore::bundle::Bundle = serde_json::from_value(b.clone()).unwrap();

    // mlprov verifies the entry, and can require it.
    let verify = |sig: &Path, extra: &[&str]| {
        let mut args = vec![
            "--format",
            "json",
            "verify",
            s(&model),
            "--signature",
            s(sig),
            "--key",
            s(&public),
        ];
        args.extend_from_slice(extra);
        env.run(&env.work(), &args)
    };
    let j = verify(&sig, &["--require-tlog", "--trusted-root", s(&root)])
        .ok()
        .json();
    let signer = &j["nodes"][0]["attestations"][0]["signer"];
    assert_eq!(signer["kind"], "key");
    assert_eq!(signer["tlog"]["logIndex"], 5);
    assert_eq!(signer["tlog"]["signedEntryTimestamp"], true);
    // Without a trusted root naming the log (the public-good one): untrusted log.
    fails_with(verify(&sig, &[]), "E0218");

    // sign --key without a Rekor: no entry; valid unless a log entry is required.
    let plain = env.work().join("plain.sig");
    // (model/model.sig is now one of the model's files: this digest differs.)
    let plain_digest = run_with(
        &env,
        &env.work(),
        &[
            "--format",
            "json",
            "sign",
            "--key",
            s(&key),
            s(&model),
            "--signature",
            s(&plain),
        ],
        &pw,
    )
    .ok()
    .json()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        read_json(&plain)["verificationMaterial"]["tlogEntries"],
        json!([])
    );
    verify(&plain, &[]).ok();
    fails_with(
        verify(&plain, &["--require-tlog", "--trusted-root", s(&root)]),
        "E0217",
    );

    // The logged entry moved onto another signature: it does not match.
    let moved = env.work().join("moved.sig");
    let mut p = read_json(&plain);
    p["verificationMaterial"]["tlogEntries"] = b["verificationMaterial"]["tlogEntries"].clone();
    std::fs::write(&moved, serde_json::to_vec(&p).unwrap()).unwrap();
    fails_with(verify(&moved, &["--trusted-root", s(&root)]), "E0219");
    // A broken inclusion proof.
    let broken = env.work().join("broken.sig");
    let mut p = b.clone();
    p["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][0] =
        json!(B64.encode([9u8; 32]));
    std::fs::write(&broken, serde_json::to_vec(&p).unwrap()).unwrap();
    fails_with(verify(&broken, &["--trusted-root", s(&root)]), "E0220");

    // The default: on where a Rekor URL is configured, off with --tlog-upload=false.
    let by_env = env.work().join("env.sig");
    let vars = [
        ("MLPROV_PASSWORD", "pw".to_string()),
        ("MLPROV_REKOR_URL", sigstore.url.clone()),
        ("MLPROV_TRUSTED_ROOT", s(&root).to_string()),
    ];
    run_with(
        &env,
        &env.work(),
        &[
            "sign",
            "--key",
            s(&key),
            s(&model),
            "--signature",
            s(&by_env),
        ],
        &vars,
    )
    .ok();
    assert_eq!(
        read_json(&by_env)["verificationMaterial"]["tlogEntries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let off = env.work().join("off.sig");
    run_with(
        &env,
        &env.work(),
        &[
            "sign",
            "--key",
            s(&key),
            s(&model),
            "--signature",
            s(&off),
            "--tlog-upload=false",
        ],
        &vars,
    )
    .ok();
    assert_eq!(
        read_json(&off)["verificationMaterial"]["tlogEntries"],
        json!([])
    );
    // A private Rekor needs a trusted root describing it; keyless cannot opt out.
    let r = run_with(
        &env,
        &env.work(),
        &[
            "sign",
            "--key",
            s(&key),
            s(&model),
            "--signature",
            s(&off),
            "--rekor-url",
            &sigstore.url,
        ],
        &pw,
    )
    .expect_code(2);
    assert!(r.stderr.contains("--trusted-root"), "{}", r.stderr);
    let r = run_with(
        &env,
        &env.work(),
        &["sign", "--keyless", s(&model), "--tlog-upload=false"],
        &pw,
    )
    .expect_code(2);
    assert!(r.stderr.contains("always logs"), "{}", r.stderr);

    // attest --tlog-upload on a built project, and the signed VSA.
    let proj = env.work().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(
        proj.join("mlprov.toml"),
        "[artifact]\nname = \"acme/tiny\"\nversion = \"0.1.0\"\nkind = \"model\"\npath = \"out/\"\nlicense = \"MIT\"\n",
    )
    .unwrap();
    small_model(&proj.join("out"));
    run_with(&env, &proj, &["pin"], &[]).ok();
    run_with(
        &env,
        &proj,
        &["build", "--skip-training", "--allow-dirty"],
        &[("SOURCE_DATE_EPOCH", "1700000000".into())],
    )
    .ok();
    let mut args = vec!["attest", "--key", s(&key), "--tlog-upload"];
    args.extend_from_slice(&rekor);
    run_with(&env, &proj, &args, &pw).ok();
    let provenance = proj.join("target/mlprov/provenance.sigstore.json");
    assert_eq!(
        read_json(&provenance)["verificationMaterial"]["tlogEntries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let artifact = subject_digest(&provenance, "acme/tiny");
    let vsa = proj.join("vsa.sigstore.json");
    let mut args = vec![
        "verify",
        "out",
        "--key",
        s(&public),
        "--bundle",
        s(&provenance),
        "--require-tlog",
        "--emit-vsa",
        s(&vsa),
        "--vsa-key",
        s(&key),
        "--tlog-upload",
    ];
    args.extend_from_slice(&rekor);
    run_with(&env, &proj, &args, &pw).ok();
    assert_eq!(
        read_json(&vsa)["verificationMaterial"]["tlogEntries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The independent verifiers.
    let Some((code, verdicts)) = verify_sigstore_key(&sig, &digest, &public, Some(&root)) else {
        skip("../shared/tools or the validators venv is absent");
        return;
    };
    assert_eq!(code, 0, "{verdicts:?}");
    for (bundle, d) in [
        (&sig, &digest),
        (&provenance, &artifact),
        (&vsa, &subject_digest(&vsa, "acme/tiny")),
    ] {
        // A logged entry is always checked (sigstore-js, like mlprov, needs
        // the trusted root that lists the log), and with --require-tlog.
        let (code, verdicts) = verify_sigstore_key(bundle, d, &public, Some(&root)).unwrap();
        assert_eq!(code, 0, "{}: {verdicts:?}", bundle.display());
        assert!(verdicts.iter().all(|v| v["ok"] == true), "{verdicts:?}");
    }
    // An unlogged bundle: fine for a key, refused when a log entry is required.
    let (code, verdicts) = verify_sigstore_key(&plain, &plain_digest, &public, None).unwrap();
    assert_eq!(code, 0, "{verdicts:?}");
    let (code, verdicts) =
        verify_sigstore_key(&plain, &plain_digest, &public, Some(&root)).unwrap();
    assert_ne!(code, 0, "{verdicts:?}");
    // model_signing still accepts the logged model.sig.
    let bin = crate::common::validators().unwrap();
    let ms = Run::from(
        std::process::Command::new(bin.join("model_signing"))
            .args([
                "verify",
                "key",
                "--signature",
                s(&sig),
                "--public_key",
                s(&public),
                s(&model),
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(ms.code, 0, "model_signing: {}{}", ms.stdout, ms.stderr);
}
