//! The provenance graph end to end: base model A (imported by a platform
//! key, with its scan attestation), dataset D (built and attested by a
//! data-team key) and F, fine-tuned from A on D (built, attested and
//! signed by a training key). `verify F` must pass only when every node
//! carries its own valid, policy-conforming attestations, and fail with a
//! distinct code on the right node otherwise.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use crate::common::*;

const PASSWORD: &str = "graph-test";
const VSA: &str = "https://slsa.dev/verification_summary/v1";

fn run(env: &TestEnv, dir: &Path, args: &[&str]) -> Run {
    env.run_env(
        dir,
        args,
        &[
            ("MLPROV_PASSWORD", PASSWORD),
            // For the registry variant (a plain-HTTP local registry).
            ("MLPROV_REGISTRY_PLAIN_HTTP", "1"),
        ],
    )
}

/// The scenario's directories and digests.
pub(crate) struct Scenario {
    pub(crate) env: TestEnv,
    pub(crate) work: PathBuf,
    a: String,
    d: String,
    f: String,
}

impl Scenario {
    fn keys(&self) -> PathBuf {
        self.work.join("keys")
    }
    pub(crate) fn fdir(&self) -> PathBuf {
        self.work.join("f")
    }
    fn ddir(&self) -> PathBuf {
        self.work.join("d")
    }

    /// Build A, D and F. `pickle` puts an os.system pickle in A (allowed by
    /// the platform team's and the training team's own policies).
    pub(crate) fn build(pickle: bool, git: bool) -> Scenario {
        let env = TestEnv::new();
        let work = env.work();
        let keys = work.join("keys");
        std::fs::create_dir_all(&keys).unwrap();
        for k in ["platform", "data", "training", "attacker", "security"] {
            let dir = keys.join(k);
            std::fs::create_dir_all(&dir).unwrap();
            run(&env, &dir, &["keygen"]).ok();
            std::fs::rename(dir.join("cosign.key"), keys.join(format!("{k}.key"))).unwrap();
            std::fs::rename(dir.join("cosign.pub"), keys.join(format!("{k}.pub"))).unwrap();
        }
        let allow = if pickle {
            "\n[policy]\nformats.allow = [\"pickle-global:os.system\", \"pickle\"]\n"
        } else {
            ""
        };

        // A: a path-pinned base model, imported by the platform team.
        let adir = work.join("a");
        write(
            &adir,
            "model/model.safetensors",
            safetensors(&[0.5, -1.0, 2.0]),
        );
        write(&adir, "model/config.json", "{\"hidden_size\": 3}\n");
        if pickle {
            write(&adir, "model/extra.pkl", EVIL_PICKLE);
        }
        write(
            &adir,
            "mlprov.toml",
            format!(
                "[artifact]\nname = \"platform/imports\"\nversion = \"1\"\nkind = \"model\"\npath = \"model/\"\n\n\
                 [inputs]\nbase = {{ path = \"model/\", role = \"base-model\", license = \"Apache-2.0\" }}\n{allow}"
            ),
        );
        run(&env, &adir, &["pin"]).ok();
        let r = run(
            &env,
            &adir,
            &[
                "--format",
                "json",
                "attest",
                "import",
                "base",
                "--key",
                s(&keys.join("platform.key")),
            ],
        )
        .ok();
        let a = r.json()["bundles"][0]["subjects"][0]
            .as_str()
            .unwrap()
            .to_string();

        // D: a dataset, built and attested by the data team.
        let ddir = work.join("d");
        write(
            &ddir,
            "raw/train.jsonl",
            "{\"text\": \"hello\", \"label\": 1}\n",
        );
        write(
            &ddir,
            "mlprov.toml",
            "[artifact]\nname = \"acme/support-data\"\nversion = \"2\"\nkind = \"dataset\"\npath = \"out/\"\nlicense = \"CC0-1.0\"\n\n[inputs]\n",
        );
        run(&env, &ddir, &["pin"]).ok();
        let d = build_and_attest(
            &env,
            &ddir,
            &keys.join("data.key"),
            &[
                "sh",
                "-c",
                "mkdir -p out && cp raw/train.jsonl out/train.jsonl",
            ],
        );

        // F: fine-tuned from A on D, in a git repository (the training commit).
        let fdir = work.join("f");
        common_copy(&adir.join("model"), &fdir.join("base"));
        common_copy(&ddir.join("out"), &fdir.join("data"));
        write(
            &fdir,
            "mlprov.toml",
            format!(
                "[artifact]\nname = \"acme/support-model\"\nversion = \"1.0.0\"\nkind = \"model\"\npath = \"out/\"\nlicense = \"Apache-2.0\"\n\n\
                 [inputs]\nbase = {{ path = \"base/\", role = \"base-model\", license = \"Apache-2.0\" }}\n\
                 data = {{ path = \"data/\", role = \"training-data\", license = \"CC0-1.0\" }}\n\n\
                 [build]\ncyclonedx = true\n{allow}"
            ),
        );
        write(
            &fdir,
            "train.sh",
            "mkdir -p out && cp base/model.safetensors out/model.safetensors && printf '{\"labels\": 2}\\n' > out/config.json\n",
        );
        write(&fdir, ".gitignore", "out/\ntarget/\n");
        run(&env, &fdir, &["pin"]).ok();
        if git {
            git_init_commit(&fdir);
        }
        let f = build_and_attest(&env, &fdir, &keys.join("training.key"), &["sh", "train.sh"]);
        run(
            &env,
            &fdir,
            &["sign", "--key", s(&keys.join("training.key"))],
        )
        .ok();

        write(&work, "policy.toml", POLICY);
        Scenario { env, work, a, d, f }
    }

    /// A copy of the whole scenario (store and projects) to break.
    fn copy(&self) -> Scenario {
        let env = TestEnv::new();
        common_copy(&self.env.path().join("home"), &env.path().join("home"));
        std::fs::remove_dir_all(env.work()).unwrap();
        common_copy(&self.work, &env.work());
        Scenario {
            work: env.work(),
            env,
            a: self.a.clone(),
            d: self.d.clone(),
            f: self.f.clone(),
        }
    }

    fn verify(&self, extra: &[&str]) -> Run {
        let policy = self.work.join("policy.toml");
        let mut args = vec!["--format", "json", "verify", "out", "--policy", s(&policy)];
        args.extend_from_slice(extra);
        run(&self.env, &self.fdir(), &args)
    }

    fn verify_human(&self, extra: &[&str]) -> Run {
        let policy = self.work.join("policy.toml");
        let mut args = vec!["verify", "out", "--policy", s(&policy)];
        args.extend_from_slice(extra);
        run(&self.env, &self.fdir(), &args)
    }

    fn store_dir(&self, digest: &str) -> PathBuf {
        self.env
            .store()
            .join("store/sha256")
            .join(digest.trim_start_matches("sha256:"))
    }
}

fn common_copy(from: &Path, to: &Path) {
    copy_dir(from, to);
}

fn build_and_attest(env: &TestEnv, dir: &Path, key: &Path, cmd: &[&str]) -> String {
    let mut args = vec!["build", "--"];
    args.extend_from_slice(cmd);
    run(env, dir, &args).ok();
    run(env, dir, &["attest", "--key", s(key)]).ok();
    let prov = read_json(&dir.join("target/mlprov/provenance.json"));
    format!(
        "sha256:{}",
        prov["subject"][0]["digest"]["sha256"].as_str().unwrap()
    )
}

const POLICY: &str = r#"[policy]
licenses.allow = ["Apache-2.0", "CC0-1.0", "MIT"]
require-pinned-revisions = true

[policy.artifact]
require = ["https://slsa.dev/provenance/v1", "https://spdx.dev/Document/v3", "https://model_signing/signature/v1.0"]
signers = ["keys/training.pub"]

[policy.roles.base-model]
require = ["https://slsa.dev/provenance/v1", "https://mlprov.dev/scan/v1"]
signers = ["keys/platform.pub"]

[policy.roles.training-data]
require = ["https://mlprov.dev/scan/v1"]
signers = ["keys/data.pub"]

[policy.roles.config]
require = []
"#;

/// (code, node) of every finding.
fn findings(r: &Run) -> Vec<(String, String)> {
    r.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["node"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[track_caller]
fn expect_failure(r: Run, code: &str, node: &str) -> Vec<(String, String)> {
    let r = r.expect_code(1);
    let f = findings(&r);
    assert!(
        f.iter().any(|(c, n)| c == code && n == node),
        "expected {code} on {node}, got {f:?}\n{}",
        r.stdout
    );
    f
}

fn edit_payload(bundle: &Path, edit: impl Fn(&mut Value)) {
    let mut b = read_json(bundle);
    let payload = B64
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let mut st: Value = serde_json::from_slice(&payload).unwrap();
    edit(&mut st);
    b["dsseEnvelope"]["payload"] = Value::String(B64.encode(serde_json::to_vec(&st).unwrap()));
    std::fs::write(bundle, serde_json::to_vec_pretty(&b).unwrap()).unwrap();
}

fn bundles_with(dir: &Path, slug: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(slug))
        .collect();
    v.sort();
    v
}

/// The scenario's own digests, named, before the shared filters.
fn filters(sc: &Scenario) -> Vec<(String, String)> {
    vec![
        (regex_escape(&sc.a), "[A]".into()),
        (regex_escape(&sc.d), "[D]".into()),
        (regex_escape(&sc.f), "[F]".into()),
        (regex_escape(&sc.a[..19]), "[A]".into()),
        (regex_escape(&sc.d[..19]), "[D]".into()),
        (regex_escape(&sc.f[..19]), "[F]".into()),
    ]
}

#[test]
fn a_plus_d_to_f() {
    let base = Scenario::build(false, true);

    // All present: three verified artifacts (and the recorded training commit).
    let r = base.verify_human(&[]).ok();
    let ticks = r
        .stdout
        .lines()
        .filter(|l| l.contains('✓') && !l.contains("✗"))
        .count();
    assert_eq!(ticks, 3, "{}", r.stdout);
    assert!(!r.stdout.contains('✗'), "{}", r.stdout);
    assert!(r.stdout.contains("recorded (git commit)"), "{}", r.stdout);
    let j = base.verify(&[]).ok().json();
    assert_eq!(j["verified"], true);
    let ids: Vec<&str> = j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        &ids[..3],
        [base.f.as_str(), base.a.as_str(), base.d.as_str()]
    );
    assert_eq!(j["edges"].as_array().unwrap().len(), 3);
    mlprov_snapshot!(
        "tree_verified",
        base.env,
        text = &r.stdout,
        extra = filters(&base)
    );
    mlprov_snapshot!("json_verified", base.env, json = &j, extra = filters(&base));
    let mut codes = std::collections::BTreeSet::new();

    // 1. D's bytes swapped after approval: D' carries its own valid
    // attestations, but F's provenance names D.
    {
        let sc = base.copy();
        write(
            &sc.ddir(),
            "raw/train.jsonl",
            "{\"text\": \"poison\", \"label\": 0}\n",
        );
        let d2 = build_and_attest(
            &sc.env,
            &sc.ddir(),
            &sc.keys().join("data.key"),
            &[
                "sh",
                "-c",
                "mkdir -p out && cp raw/train.jsonl out/train.jsonl",
            ],
        );
        assert_ne!(d2, sc.d);
        std::fs::copy(
            sc.ddir().join("out/train.jsonl"),
            sc.fdir().join("data/train.jsonl"),
        )
        .unwrap();
        let f = expect_failure(sc.verify(&[]), "E0101", &sc.d);
        codes.insert(("E0101", f.len()));
        let r = sc.verify_human(&[]).expect_code(1);
        let mut extra = vec![(regex_escape(&d2), "[D2]".to_string())];
        extra.extend(filters(&sc));
        mlprov_snapshot!("tree_swapped", sc.env, text = &r.stdout, extra = extra);
    }
    // 2. A's scan attestation missing.
    {
        let sc = base.copy();
        for p in bundles_with(&sc.store_dir(&sc.a), "mlprov.dev-scan-v1") {
            std::fs::remove_file(p).unwrap();
        }
        expect_failure(sc.verify(&[]), "E0301", &sc.a);
        codes.insert(("E0301", 0));
    }
    // 3. D attested by an untrusted key: the attacker's bundles prove
    // nothing (ignored, and listed), so what D's role requires is missing.
    {
        let sc = base.copy();
        std::fs::remove_dir_all(sc.store_dir(&sc.d)).unwrap();
        run(
            &sc.env,
            &sc.ddir(),
            &["attest", "--key", s(&sc.keys().join("attacker.key"))],
        )
        .ok();
        let r = sc.verify(&[]);
        let j = r.json();
        let f = expect_failure(r, "E0301", &sc.d);
        assert!(f.iter().all(|(c, _)| c != "E0202"), "{f:?}");
        let d = j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == sc.d.as_str())
            .unwrap();
        let ignored: Vec<&Value> = d["attestations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["status"] == "ignored")
            .collect();
        assert!(!ignored.is_empty(), "{d}");
        assert!(
            ignored.iter().all(|a| a["reason"]
                .as_str()
                .unwrap()
                .starts_with("untrusted signer")),
            "{d}"
        );
        let msg = j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "E0301")
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            msg.contains("none signed by a signer trusted for this node"),
            "{msg}"
        );
        let h = sc.verify_human(&[]).expect_code(1);
        assert!(
            h.stdout.contains("ignored: untrusted signer"),
            "{}",
            h.stdout
        );
        codes.insert(("E0301 (untrusted)", 0));
    }
    // 4. An attestation for A re-labelled onto D. Signed by the platform
    // key, which D's role does not trust, it is ignored; once the policy
    // trusts that key for D too, it is a trusted statement about other
    // content: E0203.
    {
        let sc = base.copy();
        // The platform's scan of A (F's `attest` also files the builder's own
        // scan of A there; the training key is trusted for neither role).
        let builders = std::fs::read(
            sc.work
                .join("f/target/mlprov/import-base.scan.sigstore.json"),
        )
        .unwrap_or_default();
        let from = bundles_with(&sc.store_dir(&sc.a), "mlprov.dev-scan-v1")
            .into_iter()
            .find(|b| std::fs::read(b).unwrap() != builders)
            .unwrap();
        std::fs::copy(&from, sc.store_dir(&sc.d).join(from.file_name().unwrap())).unwrap();
        sc.verify(&[]).ok();
        let p = std::fs::read_to_string(sc.work.join("policy.toml")).unwrap();
        write(
            &sc.work,
            "policy.toml",
            p.replace(
                "signers = [\"keys/data.pub\"]",
                "signers = [\"keys/data.pub\", \"keys/platform.pub\"]",
            ),
        );
        expect_failure(sc.verify(&[]), "E0203", &sc.d);
        codes.insert(("E0203", 0));
    }
    // 5. A revoked: inline, and by a signed revocation list.
    {
        let sc = base.copy();
        let p = std::fs::read_to_string(sc.work.join("policy.toml")).unwrap();
        write(
            &sc.work,
            "policy.toml",
            p.replace(
                "require-pinned-revisions = true",
                &format!("require-pinned-revisions = true\nrevoked = [\"{}\"]", sc.a),
            ),
        );
        expect_failure(sc.verify(&[]), "E0404", &sc.a);
        write(&sc.work, "policy.toml", p.replace(
            "require-pinned-revisions = true",
            "require-pinned-revisions = true\nrevocation-list = { bundle = \"revoked.sigstore.json\", signers = [\"keys/security.pub\"] }",
        ));
        run(
            &sc.env,
            &sc.work,
            &[
                "revoke",
                &sc.a,
                "--reason",
                "poisoned upstream",
                "--key",
                s(&sc.keys().join("security.key")),
            ],
        )
        .ok();
        let r = sc.verify(&[]);
        expect_failure(r, "E0404", &sc.a);
        // Signed by anyone else, the list stops verification.
        std::fs::remove_file(sc.work.join("revoked.sigstore.json")).unwrap();
        run(
            &sc.env,
            &sc.work,
            &["revoke", &sc.a, "--key", s(&sc.keys().join("attacker.key"))],
        )
        .ok();
        sc.verify(&[]).expect_code(2);
        codes.insert(("E0404", 0));
    }
    // 6. A dependency cycle: D's (re-signed) provenance names F.
    {
        let sc = base.copy();
        let prov = sc.ddir().join("target/mlprov/provenance.json");
        let mut v = read_json(&prov);
        v["predicate"]["buildDefinition"]["resolvedDependencies"] = serde_json::json!([
            {"name": "loop", "digest": {"sha256": sc.f.trim_start_matches("sha256:")}, "annotations": {"role": "base-model"}}
        ]);
        std::fs::write(&prov, serde_json::to_vec(&v).unwrap()).unwrap();
        run(
            &sc.env,
            &sc.ddir(),
            &["attest", "--key", s(&sc.keys().join("data.key"))],
        )
        .ok();
        expect_failure(sc.verify(&[]), "E0601", &sc.d);
        codes.insert(("E0601", 0));
        // The drawing shows the cycle edge.
        let policy = sc.work.join("policy.toml");
        let dot = run(
            &sc.env,
            &sc.fdir(),
            &["graph", "out", "--policy", s(&policy), "--format", "dot"],
        )
        .expect_code(1);
        assert!(dot.stdout.starts_with("digraph mlprov {"), "{}", dot.stdout);
        assert!(dot.stdout.contains("style=dashed"), "{}", dot.stdout);
    }
    // 7. F's provenance edited after signing.
    {
        let sc = base.copy();
        let store = bundles_with(&sc.store_dir(&sc.f), "slsa.dev-provenance-v1");
        for b in store
            .iter()
            .chain([sc.fdir().join("target/mlprov/provenance.sigstore.json")].iter())
        {
            edit_payload(b, |st| {
                st["predicate"]["runDetails"]["builder"]["id"] =
                    "https://evil.example/builder".into();
            });
        }
        expect_failure(sc.verify(&[]), "E0201", &sc.f);
        codes.insert(("E0201", 0));
    }
    // 8. An HF dependency pinned by branch instead of commit.
    {
        let sc = base.copy();
        let prov = sc.fdir().join("target/mlprov/provenance.json");
        let mut v = read_json(&prov);
        let tok = "ab".repeat(32);
        v["predicate"]["buildDefinition"]["resolvedDependencies"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"name": "tokenizer", "uri": "hf://acme/tokenizer@main", "digest": {"sha256": tok}, "annotations": {"role": "config"}}));
        std::fs::write(&prov, serde_json::to_vec(&v).unwrap()).unwrap();
        std::fs::remove_dir_all(sc.store_dir(&sc.f)).unwrap();
        run(
            &sc.env,
            &sc.fdir(),
            &["attest", "--key", s(&sc.keys().join("training.key"))],
        )
        .ok();
        run(
            &sc.env,
            &sc.fdir(),
            &["sign", "--key", s(&sc.keys().join("training.key"))],
        )
        .ok();
        let tok = format!("sha256:{tok}");
        // F's own provenance names a moving revision: F fails. The
        // tokenizer itself only lacks an attested license.
        let f = expect_failure(sc.verify(&[]), "E0403", &sc.f);
        assert!(
            f.iter()
                .all(|(c, n)| (c == "E0403" && *n == sc.f) || (c == "E0401" && *n == tok)),
            "{f:?}"
        );
        codes.insert(("E0403", 0));
    }
    // 9. A denied license on D.
    {
        let sc = base.copy();
        let p = std::fs::read_to_string(sc.work.join("policy.toml")).unwrap();
        write(&sc.work, "policy.toml", p.replace("\"CC0-1.0\", ", ""));
        let f = expect_failure(sc.verify(&[]), "E0401", &sc.d);
        assert!(f.iter().all(|(c, n)| c == "E0401" && *n == sc.d), "{f:?}");
        // F's own checks pass, but the command exits 1: the root line says ✗.
        let tree = sc.verify_human(&[]).expect_code(1);
        assert!(tree.stdout.starts_with("✗ "), "{}", tree.stdout);
        codes.insert(("E0401", 0));
        // Another allowed license next to it changes nothing.
        write(
            &sc.work,
            "policy.toml",
            p.replace("\"CC0-1.0\", ", "\"GPL-3.0-only\", \"CC0-1.0\", "),
        );
        sc.verify(&[]).ok();
    }
    // 10. A pickle finding in A's scan (the platform team allowed it; this
    // policy does not).
    {
        let sc = Scenario::build(true, false);
        let f = expect_failure(sc.verify(&[]), "E0402", &sc.a);
        assert!(f.iter().all(|(c, n)| c == "E0402" && *n == sc.a), "{f:?}");
        // From outside F's project the bytes are not at hand: the attested
        // scan alone decides.
        let policy = sc.work.join("policy.toml");
        let r = run(
            &sc.env,
            &sc.work,
            &[
                "--format",
                "json",
                "verify",
                s(&sc.fdir().join("out")),
                "--policy",
                s(&policy),
            ],
        );
        expect_failure(r, "E0402", &sc.a);
        codes.insert(("E0402", 0));
    }
    assert_eq!(codes.len(), 10, "{codes:?}");

    // Optional roles: a failing optional node does not fail the root.
    {
        let sc = base.copy();
        for p in bundles_with(&sc.store_dir(&sc.a), "mlprov.dev-scan-v1") {
            std::fs::remove_file(p).unwrap();
        }
        let p = std::fs::read_to_string(sc.work.join("policy.toml")).unwrap();
        write(
            &sc.work,
            "policy.toml",
            p.replace(
                "signers = [\"keys/platform.pub\"]",
                "signers = [\"keys/platform.pub\"]\noptional = true",
            ),
        );
        let j = sc.verify(&[]).ok().json();
        assert_eq!(j["findings"][0]["optional"], true);
    }
    // builders.allow: F's and D's builder (mlprov on this machine) passes;
    // a policy allowing only a CI builder fails both, each on its node.
    {
        let sc = base.copy();
        let prov = read_json(&sc.fdir().join("target/mlprov/provenance.json"));
        let builder = prov["predicate"]["runDetails"]["builder"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let p = std::fs::read_to_string(sc.work.join("policy.toml")).unwrap();
        let with = |allowed: &str| {
            p.replace(
                "require-pinned-revisions = true",
                &format!("require-pinned-revisions = true\nbuilders.allow = [\"{allowed}\"]"),
            )
        };
        write(&sc.work, "policy.toml", with(&builder));
        sc.verify(&[]).ok();
        write(
            &sc.work,
            "policy.toml",
            with("https://github.com/acme/ci/.github/workflows/train.yml"),
        );
        let f = expect_failure(sc.verify(&[]), "E0405", &sc.f);
        assert!(f.iter().any(|(c, n)| c == "E0405" && *n == sc.d), "{f:?}");
        assert!(f.iter().all(|(c, _)| c == "E0405"), "{f:?}");
    }
    // --max-depth: deeper than allowed is a failure, not a silent stop.
    expect_failure(base.verify(&["--max-depth", "0"]), "E0602", &base.f);
    // A policy that trusts only a keyless identity: D's key-signed
    // attestations are not from a trusted signer, so they prove nothing.
    {
        let sc = base.copy();
        let p = std::fs::read_to_string(sc.work.join("policy.toml")).unwrap();
        write(&sc.work, "policy.toml", p.replace(
            "signers = [\"keys/data.pub\"]",
            "signers = [{ identity = \"https://github.com/acme/data/.github/workflows/curate.yml@refs/heads/main\", issuer = \"https://token.actions.githubusercontent.com\" }]",
        ));
        expect_failure(sc.verify(&[]), "E0301", &sc.d);
    }

    // VSA: unsigned statement and signed bundle, judged by the validator.
    let vsa = base.work.join("vsa.json");
    let signed = base.work.join("vsa.sigstore.json");
    base.verify(&["--emit-vsa", s(&vsa)]).ok();
    base.verify(&[
        "--emit-vsa",
        s(&signed),
        "--vsa-key",
        s(&base.keys().join("training.key")),
    ])
    .ok();
    let st = read_json(&vsa);
    assert_eq!(st["predicateType"], VSA);
    assert_eq!(st["predicate"]["verificationResult"], "PASSED");
    assert_eq!(st["predicate"]["dependencyLevels"]["SLSA_BUILD_LEVEL_1"], 2);
    assert!(
        st["predicate"]["inputAttestations"]
            .as_array()
            .unwrap()
            .len()
            >= 6
    );
    for (file, key) in [
        (&vsa, None),
        (&signed, Some(base.keys().join("training.pub"))),
    ] {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            file.as_os_str(),
            "--expect-predicate".as_ref(),
            VSA.as_ref(),
        ];
        if let Some(k) = &key {
            args.push("--public-key".as_ref());
            args.push(k.as_os_str());
        }
        match shared_tool("validate-attestation", &args) {
            Some(v) => assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr),
            None => skip("validate-attestation absent"),
        }
    }

    // Lineage: every stored artifact descending from A.
    let r = run(&base.env, &base.work, &["--format", "json", "why", &base.a]).ok();
    let j = r.json();
    let desc: Vec<&str> = j["descendants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["digest"].as_str().unwrap())
        .collect();
    assert_eq!(desc, [base.f.as_str()]);
    // The short digest `verify` shows (`sha256:` and 12 hex), or its hex.
    let short = &base.a[..7 + 12];
    let policy = base.work.join("policy.toml");
    let tree = run(
        &base.env,
        &base.fdir(),
        &["verify", "out", "--policy", s(&policy)],
    )
    .ok();
    assert!(tree.stdout.contains(short), "{}", tree.stdout);
    // Colour on request (`--color always`), none under NO_COLOR (TestEnv's).
    assert!(!tree.stdout.contains('\u{1b}'), "{}", tree.stdout);
    let colored = run(
        &base.env,
        &base.fdir(),
        &["verify", "out", "--policy", s(&policy), "--color", "always"],
    )
    .ok();
    assert!(
        colored.stdout.contains("\u{1b}[32m"),
        "{:?}",
        colored.stdout
    );
    assert_eq!(console_strip(&colored.stdout), tree.stdout);
    for what in [short, &base.a[7..7 + 12]] {
        let r = run(&base.env, &base.work, &["--format", "json", "why", what]).ok();
        assert_eq!(r.json()["matches"][0]["digest"], base.a.as_str(), "{what}");
        assert_eq!(
            r.json()["descendants"][0]["digest"],
            base.f.as_str(),
            "{what}"
        );
    }
    let r = run(
        &base.env,
        &base.work,
        &[
            "--format",
            "json",
            "why",
            "data",
            "--key",
            s(&base.keys().join("training.pub")),
        ],
    )
    .ok();
    assert_eq!(r.json()["descendants"][0]["digest"], base.f.as_str());
    let m = run(
        &base.env,
        &base.fdir(),
        &[
            "graph",
            "out",
            "--policy",
            s(&base.work.join("policy.toml")),
            "--format",
            "mermaid",
        ],
    )
    .ok();
    assert!(m.stdout.starts_with("flowchart TD"), "{}", m.stdout);
    assert_eq!(m.stdout.matches(" -->|").count(), 3, "{}", m.stdout);
}

#[test]
fn rego_seed_policy_per_node() {
    let rego = repo_root().join("tests/fixtures/graph/model-deployment.rego");
    let query = "data.model.deployment.deny";
    // With the training commit in the SBOM: passes.
    let with = Scenario::build(false, true);
    let args = |sc: &Scenario| {
        vec![
            "--format".to_string(),
            "json".into(),
            "verify".into(),
            "out".into(),
            "--policy".into(),
            policy_of(sc),
            "--policy".into(),
            rego.display().to_string(),
            "--policy-query".into(),
            query.into(),
            "--policy-scope".into(),
            "root".into(),
        ]
    };
    fn policy_of(sc: &Scenario) -> String {
        sc.work.join("policy.toml").display().to_string()
    }
    let a = args(&with);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let r = run(&with.env, &with.fdir(), &a).ok();
    assert_eq!(r.json()["verified"], true);
    let bom = read_json(&with.fdir().join("target/mlprov/bom.cdx.json"));
    assert_eq!(bom["properties"][0]["name"], "training-commit");

    // Without it (no git repository): the seed's rule denies F.
    let without = Scenario::build(false, false);
    let a = args(&without);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let r = run(&without.env, &without.fdir(), &a);
    let f = expect_failure(r, "E0406", &without.f);
    assert_eq!(f.len(), 1, "{f:?}");
    let r = run(&without.env, &without.fdir(), &a).expect_code(1);
    let msg = r.json()["findings"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        msg,
        "Model acme/support-model:1.0.0 SBOM does not record the training commit SHA."
    );

    // Per node (the default scope), the seed policy also judges A and D,
    // which carry no CycloneDX SBOM of their own.
    let mut a = args(&with);
    a.truncate(a.len() - 2);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let r = run(&with.env, &with.fdir(), &a);
    expect_failure(r, "E0406", &with.a);
    // A query naming no rule is refused before anything is verified.
    let mut a = args(&with);
    a[9] = "data.model.deployment.dney".into();
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    run(&with.env, &with.fdir(), &a).expect_code(2);
}

/// The scenario published to a registry: A and D pushed with their bundles,
/// F built from them as `oci` inputs, signed and pushed. Returns F's
/// reference.
fn publish(sc: &Scenario, reg: &str, prefix: &str, before_push_f: impl Fn(&Path)) -> String {
    let (a_ref, d_ref, f_ref) = (
        format!("{reg}/{prefix}/a:1"),
        format!("{reg}/{prefix}/d:2"),
        format!("{reg}/{prefix}/f:1"),
    );
    run(&sc.env, &sc.work.join("a"), &["push", &a_ref]).ok();
    run(&sc.env, &sc.ddir(), &["push", &d_ref]).ok();
    let fo = sc.work.join(format!("fo-{}", prefix.replace('/', "-")));
    // F's team accepts what A's team accepted (the pickle case).
    let allow = if sc.work.join("a/model/extra.pkl").exists() {
        "\n[policy]\nformats.allow = [\"pickle-global:os.system\", \"pickle\"]\n"
    } else {
        ""
    };
    write(
        &fo,
        "mlprov.toml",
        format!(
            "[artifact]\nname = \"acme/support-model\"\nversion = \"1.0.0\"\nkind = \"model\"\npath = \"out/\"\nlicense = \"Apache-2.0\"\n\n\
             [inputs]\nbase = {{ oci = \"{a_ref}\", role = \"base-model\", license = \"Apache-2.0\" }}\n\
             data = {{ oci = \"{d_ref}\", role = \"training-data\", license = \"CC0-1.0\" }}\n\n\
             [build]\ncyclonedx = true\n{allow}"
        ),
    );
    write(
        &fo,
        "train.sh",
        "mkdir -p out && printf 'tuned' > out/weights.bin && printf '{\"labels\": 2}\\n' > out/config.json\n",
    );
    write(&fo, ".gitignore", "out/\ntarget/\n");
    run(&sc.env, &fo, &["pin"]).ok();
    git_init_commit(&fo);
    build_and_attest(
        &sc.env,
        &fo,
        &sc.keys().join("training.key"),
        &["sh", "train.sh"],
    );
    run(
        &sc.env,
        &fo,
        &["sign", "--key", s(&sc.keys().join("training.key"))],
    )
    .ok();
    before_push_f(&fo);
    run(&sc.env, &fo, &["push", &f_ref]).ok();
    f_ref
}

/// Verify a registry reference with nothing in the local store.
fn verify_ref(sc: &Scenario, reference: &str) -> Run {
    let store = sc.env.store().join("store");
    if store.exists() {
        std::fs::rename(
            &store,
            sc.env.path().join(format!("store-{}", std::process::id())),
        )
        .ok();
        let _ = std::fs::remove_dir_all(&store);
    }
    let policy = sc.work.join("policy.toml");
    run(
        &sc.env,
        &sc.work,
        &[
            "--format",
            "json",
            "verify",
            reference,
            "--policy",
            s(&policy),
        ],
    )
}

/// The node id of a finding's node, by artifact name.
fn node_named(r: &Run, name: &str) -> String {
    let j = r.json();
    if name == "root" {
        return j["root"].as_str().unwrap().to_string();
    }
    j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no node {name}: {j}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_plus_d_to_f_in_a_registry() {
    let Some(registry) = crate::registry::server::Registry::start(false) else {
        return;
    };
    let reg = registry.addr.clone();
    let base = Scenario::build(false, true);

    // All present: three verified artifacts, found through registry referrers only.
    {
        let sc = base.copy();
        let f = publish(&sc, &reg, "ok", |_| {});
        let r = verify_ref(&sc, &f).ok();
        let j = r.json();
        assert_eq!(j["verified"], true, "{j}");
        let verified = j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["verified"] == true && n["kind"] != "git-commit")
            .count();
        assert!(verified >= 3, "{j}");
        let h = run(
            &sc.env,
            &sc.work,
            &["verify", &f, "--policy", s(&sc.work.join("policy.toml"))],
        )
        .ok();
        assert_eq!(
            h.stdout.lines().filter(|l| l.contains('✓')).count(),
            3,
            "{}",
            h.stdout
        );
    }
    let mut codes: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    {
        let mut case = |name: &str,
                        sc: Scenario,
                        prefix: &str,
                        tamper_f: &dyn Fn(&Path),
                        code: &str,
                        node: &str| {
            let f = publish(&sc, &reg, prefix, tamper_f);
            let r = verify_ref(&sc, &f).expect_code(1);
            let id = node_named(&r, node);
            expect_failure(r, code, &id);
            codes.insert(code.to_string());
            eprintln!("registry case {name}: {code} on {node}");
        };
        // A's scan attestation missing.
        {
            let sc = base.copy();
            for p in bundles_with(&sc.store_dir(&sc.a), "mlprov.dev-scan-v1") {
                std::fs::remove_file(p).unwrap();
            }
            // `push` also publishes the project's own bundles.
            std::fs::remove_file(
                sc.work
                    .join("a/target/mlprov/import-base.scan.sigstore.json"),
            )
            .unwrap();
            case("scan missing", sc, "scanless", &|_| {}, "E0301", "base");
        }
        // D attested by an untrusted key.
        {
            let sc = base.copy();
            std::fs::remove_dir_all(sc.store_dir(&sc.d)).unwrap();
            run(
                &sc.env,
                &sc.ddir(),
                &["attest", "--key", s(&sc.keys().join("attacker.key"))],
            )
            .ok();
            case("untrusted", sc, "untrusted", &|_| {}, "E0301", "data");
        }
        // F's provenance edited after signing (before the push).
        {
            let sc = base.copy();
            let store = sc.env.store().join("store/sha256");
            let tamper = |fo: &Path| {
                let prov = read_json(&fo.join("target/mlprov/provenance.json"));
                let hex = prov["subject"][0]["digest"]["sha256"]
                    .as_str()
                    .unwrap()
                    .to_string();
                for b in bundles_with(&store.join(hex), "slsa.dev-provenance-v1") {
                    edit_payload(&b, |st| {
                        st["predicate"]["runDetails"]["builder"]["id"] =
                            "https://evil.example/builder".into();
                    });
                }
            };
            case("edited", sc, "edited", &tamper, "E0201", "root");
        }
        // A denied license on D, and A revoked: policy changes.
        {
            let sc = base.copy();
            let p = std::fs::read_to_string(sc.work.join("policy.toml")).unwrap();
            write(&sc.work, "policy.toml", p.replace("\"CC0-1.0\", ", ""));
            case("license", sc, "license", &|_| {}, "E0401", "data");
            let sc = base.copy();
            write(
                &sc.work,
                "policy.toml",
                p.replace(
                    "require-pinned-revisions = true",
                    &format!("require-pinned-revisions = true\nrevoked = [\"{}\"]", sc.a),
                ),
            );
            case("revoked", sc, "revoked", &|_| {}, "E0404", "base");
        }
        // A pickle finding in A's scan.
        {
            let sc = Scenario::build(true, false);
            case("pickle", sc, "pickle", &|_| {}, "E0402", "base");
        }
    }
    // A dependency cycle: D's (re-signed) provenance names F.
    {
        let sc = base.copy();
        let f = publish(&sc, &reg, "cycle", |_| {});
        let f_digest = read_json(&sc.work.join("fo-cycle/target/mlprov/provenance.json"))["subject"][0]["digest"]["sha256"]
            .as_str()
            .unwrap()
            .to_string();
        let prov = sc.ddir().join("target/mlprov/provenance.json");
        let mut v = read_json(&prov);
        v["predicate"]["buildDefinition"]["resolvedDependencies"] = serde_json::json!([
            {"name": "loop", "digest": {"sha256": f_digest}, "annotations": {"role": "base-model"}}
        ]);
        std::fs::write(&prov, serde_json::to_vec(&v).unwrap()).unwrap();
        run(
            &sc.env,
            &sc.ddir(),
            &["attest", "--key", s(&sc.keys().join("data.key"))],
        )
        .ok();
        run(&sc.env, &sc.ddir(), &["push", &format!("{reg}/cycle/d:2")]).ok();
        let r = verify_ref(&sc, &f);
        let r = r.expect_code(1);
        let id = node_named(&r, "data");
        expect_failure(r, "E0601", &id);
        codes.insert("E0601".into());
    }
    // An HF dependency pinned by branch instead of commit.
    {
        let sc = base.copy();
        let fo = sc.work.join("fo-branch");
        publish(&sc, &reg, "branch", |_| {});
        let prov_path = fo.join("target/mlprov/provenance.json");
        let mut v = read_json(&prov_path);
        let tok = "ab".repeat(32);
        v["predicate"]["buildDefinition"]["resolvedDependencies"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"name": "tokenizer", "uri": "hf://acme/tokenizer@main", "digest": {"sha256": tok}, "annotations": {"role": "config"}}));
        std::fs::write(&prov_path, serde_json::to_vec(&v).unwrap()).unwrap();
        run(
            &sc.env,
            &fo,
            &["attest", "--key", s(&sc.keys().join("training.key"))],
        )
        .ok();
        let f = format!("{reg}/branch/f:2");
        run(&sc.env, &fo, &["push", &f]).ok();
        let r = verify_ref(&sc, &f).expect_code(1);
        let root = node_named(&r, "root");
        expect_failure(r, "E0403", &root);
        codes.insert("E0403".into());
    }
    // D swapped after approval (last: blobs are shared by every repository). F names D's manifest by digest, so a tag
    // moved to D' changes nothing; what is left is a registry that serves
    // other bytes for that digest.
    {
        let sc = base.copy();
        let f = publish(&sc, &reg, "swapped", |_| {});
        write(
            &sc.ddir(),
            "raw/train.jsonl",
            "{\"text\": \"poison\", \"label\": 0}\n",
        );
        build_and_attest(
            &sc.env,
            &sc.ddir(),
            &sc.keys().join("data.key"),
            &[
                "sh",
                "-c",
                "mkdir -p out && cp raw/train.jsonl out/train.jsonl",
            ],
        );
        run(
            &sc.env,
            &sc.ddir(),
            &["push", &format!("{reg}/swapped/d:2")],
        )
        .ok();
        verify_ref(&sc, &f).ok();
        let (_, d2_body) = registry.manifest("swapped/d", "2");
        // The manifest digest F's lock pinned for `data`.
        let lock = std::fs::read_to_string(sc.work.join("fo-swapped/mlprov.lock")).unwrap();
        let entry = lock
            .split("name = ")
            .find(|e| e.starts_with("\"data\""))
            .unwrap();
        let line = entry
            .lines()
            .find(|l| l.starts_with("manifest = "))
            .unwrap();
        let d_digest = line
            .trim_start_matches("manifest = \"sha256:")
            .trim_end_matches('"')
            .to_string();
        std::fs::write(registry.blob_path(&d_digest), d2_body).unwrap();
        let r = verify_ref(&sc, &f).expect_code(1);
        let id = node_named(&r, "data");
        let f = findings(&r);
        assert!(
            f.iter().any(|(_, n)| *n == id) && f.iter().all(|(_, n)| *n == id),
            "{f:?}"
        );
        // Fail closed: the dependency cannot be proven (E0604, with the
        // digest mismatch in the message), so nothing about it counts.
        assert!(f.iter().any(|(c, _)| c == "E0604"), "{f:?}");
        let msg = r.stdout.clone();
        assert!(msg.contains("do not match their digest"), "{msg}");
        codes.insert("E0604".into());
    }
    // Not here: an attestation for A re-labelled onto D. `push` refuses to
    // publish a bundle about other content, so the registry cannot get one
    // from mlprov; the walk treats registry and store bundles alike.
    assert_eq!(codes.len(), 8, "{codes:?}");
}

/// `why --registry`: F published with A and D as `oci` inputs, found from
/// the registry alone (no local store), by A's or D's artifact digest, A's
/// manifest digest or an input name; nothing for an unrelated digest or an
/// untrusted key; an unreachable registry is an error; a tag whose
/// referrers cannot be read is reported and fails the answer.
#[test]
fn why_over_a_registry_repository() {
    let Some(registry) = crate::registry::server::Registry::start(false) else {
        return;
    };
    let reg = registry.addr.clone();
    let sc = Scenario::build(false, true);
    let f_ref = publish(&sc, &reg, "why", |_| {});
    let prov = read_json(&sc.work.join("fo-why/target/mlprov/provenance.json"));
    let f = format!(
        "sha256:{}",
        prov["subject"][0]["digest"]["sha256"].as_str().unwrap()
    );
    // F's provenance names A by its artifact digest, and its manifest in
    // the `oci://…@sha256:` URI.
    let base_dep = prov["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "base")
        .unwrap()
        .clone();
    assert_eq!(
        format!("sha256:{}", base_dep["digest"]["sha256"].as_str().unwrap()),
        sc.a
    );
    let a_manifest = base_dep["uri"]
        .as_str()
        .unwrap()
        .rsplit_once('@')
        .unwrap()
        .1
        .to_string();
    assert_ne!(a_manifest, sc.a);
    let store = sc.env.store().join("store");
    std::fs::remove_dir_all(&store).unwrap();

    let repo = format!("{reg}/why/f");
    let why = |what: &str, extra: &[&str]| {
        let mut args = vec!["--format", "json", "why", what, "--registry", &repo];
        args.extend_from_slice(extra);
        run(&sc.env, &sc.work, &args)
    };
    let descendants = |r: &Run| -> Vec<(String, Vec<String>)> {
        r.json()["descendants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["digest"].as_str().unwrap().to_string(),
                    d["references"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap().to_string())
                        .collect(),
                )
            })
            .collect()
    };
    let f_manifest = {
        let (status, body) = registry.manifest("why/f", "1");
        assert_eq!(status, 200);
        use sha2::Digest as _;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&body)))
    };
    let f_tagged = format!("{f_ref}@{f_manifest}");
    let expected = vec![(f.clone(), vec![f_tagged.clone()])];

    // A by its artifact digest, by its manifest digest (from the URI F's
    // provenance names it by), and by the input name; D by its artifact digest.
    for what in [sc.a.as_str(), a_manifest.as_str(), "base", sc.d.as_str()] {
        let r = why(what, &[]).ok();
        assert_eq!(descendants(&r), expected, "{what}: {}", r.stdout);
        assert!(r.json()["unreadable"].as_array().unwrap().is_empty());
    }
    let r = why(&sc.a, &[]).ok();
    let m = &r.json()["matches"][0];
    assert_eq!(m["digest"], sc.a.as_str());
    assert!(
        m["references"][0]
            .as_str()
            .unwrap()
            .ends_with(&format!("/why/a@{a_manifest}")),
        "{m}"
    );
    // Human output names F's tag.
    let h = run(&sc.env, &sc.work, &["why", &sc.a, "--registry", &repo]).ok();
    assert!(h.stdout.contains(&f_tagged), "{}", h.stdout);
    assert!(
        h.stderr.contains("1 artifact(s) descending from"),
        "{}",
        h.stderr
    );
    // Only provenance signed by the training key counts.
    let trusted = s(&sc.keys().join("training.pub")).to_string();
    let r = why(&sc.a, &["--key", &trusted]).ok();
    assert_eq!(descendants(&r), expected);
    let untrusted = s(&sc.keys().join("attacker.pub")).to_string();
    let r = why(&sc.a, &["--key", &untrusted]).ok();
    assert_eq!(descendants(&r), vec![]);
    assert_eq!(r.json()["statements"], 0);

    // An unrelated digest: nothing descends, and it says so.
    let unrelated = format!("sha256:{}", "0f".repeat(32));
    let r = why(&unrelated, &[]).ok();
    assert_eq!(descendants(&r), vec![]);
    let h = run(&sc.env, &sc.work, &["why", &unrelated, "--registry", &repo]).ok();
    assert_eq!(h.stdout, "");
    assert!(
        h.stderr.contains("0 artifact(s) descending from"),
        "{}",
        h.stderr
    );
    // A name nobody uses: exit 1.
    why("no-such-input", &[]).expect_code(1);
    // Not a repository reference: a usage error.
    run(&sc.env, &sc.work, &["why", &sc.a, "--registry", "why/f"]).expect_code(2);

    // An unreachable registry: exit 2, naming it.
    let gone = format!("127.0.0.1:{}/why/f", crate::registry::server::free_port());
    let r = run(&sc.env, &sc.work, &["why", &sc.a, "--registry", &gone]).expect_code(2);
    assert!(
        r.stderr.contains(&format!("listing the tags of {gone}")) && r.stderr.contains("gave up"),
        "{}",
        r.stderr
    );

    // A tag whose referrers cannot be read (F's bundles corrupted in the
    // registry's storage): reported, and the answer fails.
    let tags: Value = reqwest::blocking::get(format!("http://{reg}/v2/why/f/tags/list"))
        .unwrap()
        .json()
        .unwrap();
    let index_tag = tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str())
        .find(|t| t.starts_with("sha256-"))
        .unwrap()
        .to_string();
    let (_, index) = registry.manifest("why/f", &index_tag);
    let index: Value = serde_json::from_slice(&index).unwrap();
    for entry in index["manifests"].as_array().unwrap() {
        let (_, m) = registry.manifest("why/f", entry["digest"].as_str().unwrap());
        let m: Value = serde_json::from_slice(&m).unwrap();
        let layer = m["layers"][0]["digest"].as_str().unwrap();
        // Other bytes of the same length: served whole, with the wrong digest.
        let blob = registry.blob_path(layer.trim_start_matches("sha256:"));
        let len = std::fs::read(&blob).unwrap().len();
        std::fs::write(&blob, vec![b' '; len]).unwrap();
    }
    let r = why(&sc.a, &[]).expect_code(1);
    let j = r.json();
    assert_eq!(j["unreadable"][0]["source"], format!("{f_ref}"), "{j}");
    assert!(
        j["unreadable"][0]["error"]
            .as_str()
            .unwrap()
            .contains("do not match their digest"),
        "{j}"
    );
    assert!(
        r.stderr.contains(&format!("could not read {f_ref}")),
        "{}",
        r.stderr
    );
}

/// Issue 13's node-level policy on the user's path: G is trained on F
/// (input `tuned`), F on A (input `base`); A and F both reach their parents
/// as `base-model`, whose role trusts the platform key and the training
/// key. `[[policy.artifacts]]` rules say A (the platform's import) needs
/// the platform key and F (what the team built) the training key: A's
/// scan signed by the training key is ignored (A fails with E0301 naming
/// it and the rule), F's provenance signed by it counts.
#[test]
fn per_source_signer_rules_on_the_users_path() {
    let sc = Scenario::build(false, false);
    let keys = sc.keys();
    let training = keys.join("training.key");

    // G: trained on F's output, built, attested and signed by the team.
    let gdir = sc.work.join("g");
    common_copy(&sc.fdir().join("out"), &gdir.join("tuned"));
    write(
        &gdir,
        "mlprov.toml",
        "[artifact]\nname = \"acme/support-model-merged\"\nversion = \"1\"\nkind = \"model\"\npath = \"out/\"\nlicense = \"Apache-2.0\"\n\n\
         [inputs]\ntuned = { path = \"tuned/\", role = \"base-model\", license = \"Apache-2.0\" }\n",
    );
    run(&sc.env, &gdir, &["pin"]).ok();
    let g = build_and_attest(
        &sc.env,
        &gdir,
        &training,
        &[
            "sh",
            "-c",
            "mkdir -p out && cp tuned/model.safetensors out/model.safetensors",
        ],
    );
    run(&sc.env, &gdir, &["sign", "--key", s(&training)]).ok();

    let role_trusts_both = POLICY.replace(
        "[policy.roles.base-model]\nrequire = [\"https://slsa.dev/provenance/v1\", \"https://mlprov.dev/scan/v1\"]\nsigners = [\"keys/platform.pub\"]",
        "[policy.roles.base-model]\nrequire = [\"https://slsa.dev/provenance/v1\", \"https://mlprov.dev/scan/v1\"]\nsigners = [\"keys/platform.pub\", \"keys/training.pub\"]",
    );
    assert_ne!(role_trusts_both, POLICY);
    let per_source = format!(
        "{role_trusts_both}\n[[policy.artifacts]]\nsource = \"path:base/\"\nsigners = [\"keys/platform.pub\"]\n\n\
         [[policy.artifacts]]\nsource = \"path:tuned/\"\nsigners = [\"keys/training.pub\"]\n"
    );
    let verify = |policy: &str| {
        write(&sc.work, "policy.toml", policy);
        run(
            &sc.env,
            &gdir,
            &[
                "--format",
                "json",
                "verify",
                "out",
                "--policy",
                s(&sc.work.join("policy.toml")),
            ],
        )
    };
    // As built: A by the platform key, F (and G) by the training key.
    let r = verify(&per_source).ok();
    let j = r.json();
    let ids: Vec<&str> = j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    for id in [&g, &sc.f, &sc.a, &sc.d] {
        assert!(ids.contains(&id.as_str()), "{id} not in {ids:?}");
    }

    // A's scan, made again and signed by the training key; the platform's
    // scan of A gone.
    for p in bundles_with(&sc.store_dir(&sc.a), "mlprov.dev-scan-v1") {
        std::fs::remove_file(p).unwrap();
    }
    run(
        &sc.env,
        &sc.work.join("a"),
        &["attest", "import", "base", "--key", s(&training)],
    )
    .ok();
    // The role alone trusts the training key for A: accepted.
    verify(&role_trusts_both).ok();
    // A's rule does not: A fails, and only A; F's provenance signed by the
    // same key counts.
    let r = verify(&per_source);
    let j = r.json();
    let f = expect_failure(r, "E0301", &sc.a);
    assert!(f.iter().all(|(c, n)| c == "E0301" && *n == sc.a), "{f:?}");
    let msg = j["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("https://mlprov.dev/scan/v1"), "{msg}");
    assert!(
        msg.contains("[[policy.artifacts]] source = \"path:base/\" signers does not trust"),
        "{msg}"
    );
    let node = |id: &str| {
        j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == id)
            .unwrap()
            .clone()
    };
    let a = node(&sc.a);
    assert!(
        a["attestations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["status"] == "ignored"
                && x["predicateType"] == "https://mlprov.dev/scan/v1"),
        "{a}"
    );
    let f_node = node(&sc.f);
    assert_eq!(f_node["verified"], true, "{f_node}");
}

/// Text without SGR escape sequences.
fn console_strip(s: &str) -> String {
    regex::Regex::new("\u{1b}\\[[0-9;]*m")
        .unwrap()
        .replace_all(s, "")
        .into_owned()
}

/// `verify --role`: the data team's dataset judged as the platform's policy
/// judges training data, before any model pins it; the same bytes as the
/// artifact, or as a base model, are judged by those rules instead.
#[test]
fn verify_judges_a_target_as_an_input_of_a_role() {
    let sc = Scenario::build(false, false);
    let policy = sc.work.join("policy.toml");
    let verify = |extra: &[&str]| {
        let mut args = vec!["--format", "json", "verify", "out", "--policy", s(&policy)];
        args.extend_from_slice(extra);
        run(&sc.env, &sc.ddir(), &args)
    };
    let root = |r: &Run| {
        let j = r.json();
        j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == sc.d.as_str())
            .unwrap_or_else(|| panic!("no node {} in {j}", sc.d))
            .clone()
    };

    // As training data: the data team's key is the role's signer, and its
    // `attest` made the scan the role requires.
    let r = verify(&["--role", "training-data"]).ok();
    let d = root(&r);
    assert_eq!(d["roles"], serde_json::json!(["training-data"]), "{d}");
    assert_eq!(d["verified"], true, "{d}");

    // As the artifact: [policy.artifact] trusts the training key and wants
    // an SBOM and a model signature the data team never made.
    let r = verify(&[]);
    let f = expect_failure(r, "E0301", &sc.d);
    assert!(f.iter().all(|(_, n)| *n == sc.d), "{f:?}");

    // As a base model: only the platform key is trusted there.
    let r = verify(&["--role", "base-model"]);
    let j = r.json();
    expect_failure(r, "E0301", &sc.d);
    let findings = j["findings"].to_string();
    assert!(
        findings.contains("[policy.roles.base-model] signers"),
        "{findings}"
    );

    // The human tree names the role; a typo gets the list.
    let r = run(
        &sc.env,
        &sc.ddir(),
        &[
            "verify",
            "out",
            "--policy",
            s(&policy),
            "--role",
            "training-data",
        ],
    )
    .ok();
    assert!(r.stdout.contains("training-data"), "{}", r.stdout);
    let r = run(
        &sc.env,
        &sc.ddir(),
        &["verify", "out", "--role", "trainng-data"],
    )
    .expect_code(2);
    assert!(
        r.stderr.contains("training-data") && r.stderr.contains("base-model"),
        "{}",
        r.stderr
    );
}
