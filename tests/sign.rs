//! keygen, sign, attest and verify: key formats, OMS interop with the
//! reference `model_signing` both ways, the reference fixtures, independent
//! DSSE checks of every bundle, and one distinct code per kind of rejection.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::common::*;

const PASSWORD: &str = "correct horse";
const OMS: &str = "https://model_signing/signature/v1.0";
const SLSA: &str = "https://slsa.dev/provenance/v1";
const SPDX: &str = "https://spdx.dev/Document/v3";

fn run_pw(env: &TestEnv, dir: &Path, args: &[&str]) -> Run {
    env.run_env(dir, args, &[("MLPROV_PASSWORD", PASSWORD)])
}

/// `mlprov keygen` in `dir`; returns (cosign.key, cosign.pub).
fn keygen(env: &TestEnv, dir: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    run_pw(env, dir, &["keygen"]).ok();
    (dir.join("cosign.key"), dir.join("cosign.pub"))
}

/// Finding (code, file) pairs from `verify --format json`.
fn findings(r: &Run) -> Vec<(String, Option<String>)> {
    r.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["file"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn codes(r: &Run) -> Vec<String> {
    findings(r).into_iter().map(|(c, _)| c).collect()
}

/// A tree whose paths exercise PurePosixPath order, with an empty file and
/// files in nested directories.
fn gen_tree(dir: &Path) {
    let files: &[(&str, usize)] = &[
        ("a/b", 10),
        ("a/c", 0),
        ("a-b/c", 3000),
        ("a.b", 1),
        ("B", 70_000),
        ("weights/model-00001-of-00002.safetensors", 1 << 20),
        ("weights/model-00002-of-00002.safetensors", 300_000),
        ("nested/deeper/still/config.json", 42),
        ("é-unicode.txt", 5),
    ];
    for (i, (p, n)) in files.iter().enumerate() {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let bytes: Vec<u8> = (0..*n).map(|j| ((j * 31 + i * 7) % 251) as u8).collect();
        std::fs::write(path, bytes).unwrap();
    }
    // Ignored by default by both tools.
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
}

fn vpython(bin: &Path, code: &str, args: &[&OsStr]) {
    let out = Command::new(bin.join("python"))
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn model_signing(bin: &Path, args: &[&str]) -> Run {
    Run::from(
        Command::new(bin.join("model_signing"))
            .args(args)
            .output()
            .expect("model_signing"),
    )
}

/// An EC key pair from Python's `cryptography` (PEM, SEC1 private key).
fn py_keypair(bin: &Path, dir: &Path, curve: &str) -> (PathBuf, PathBuf) {
    let key = dir.join("ms-key.pem");
    let public = dir.join("ms-pub.pem");
    vpython(
        bin,
        "import sys\n\
         from cryptography.hazmat.primitives.asymmetric import ec\n\
         from cryptography.hazmat.primitives import serialization as s\n\
         k = ec.generate_private_key(getattr(ec, sys.argv[3])())\n\
         open(sys.argv[1],'wb').write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption()))\n\
         open(sys.argv[2],'wb').write(k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo))\n",
        &[key.as_os_str(), public.as_os_str(), OsStr::new(curve)],
    );
    (key, public)
}

#[derive(Debug, Clone, Copy)]
enum Tamper {
    OneByte,
    Added,
    Removed,
    Renamed,
}

const TAMPERS: [Tamper; 4] = [
    Tamper::OneByte,
    Tamper::Added,
    Tamper::Removed,
    Tamper::Renamed,
];

/// Apply a change to a copy of a signed model; returns the (code, file)
/// findings mlprov must report.
fn tamper(dir: &Path, t: Tamper, victim: &str, other: &str) -> Vec<(String, Option<String>)> {
    match t {
        Tamper::OneByte => {
            let p = dir.join(victim);
            let mut b = std::fs::read(&p).unwrap();
            let mid = b.len() / 2;
            b[mid] ^= 0x01;
            std::fs::write(&p, b).unwrap();
            vec![("E0101".into(), Some(victim.into()))]
        }
        Tamper::Added => {
            std::fs::write(dir.join("added.bin"), b"new").unwrap();
            vec![("E0102".into(), Some("added.bin".into()))]
        }
        Tamper::Removed => {
            std::fs::remove_file(dir.join(other)).unwrap();
            vec![("E0103".into(), Some(other.into()))]
        }
        Tamper::Renamed => {
            let to = format!("{other}.renamed");
            std::fs::rename(dir.join(other), dir.join(&to)).unwrap();
            let mut v = vec![
                ("E0103".to_string(), Some(other.to_string())),
                ("E0102".to_string(), Some(to)),
            ];
            v.sort_by(|a, b| a.1.cmp(&b.1));
            v
        }
    }
}

/// Both directions of interop on one model, with every kind of tampering.
fn interop(env: &TestEnv, bin: &Path, model: &Path, victim: &str, other: &str) {
    let work = env.work();
    let (key, public) = keygen(env, &work.join("keys"));

    // The artifact digest equals the reference implementation's.
    let reference = shared_tool("oms-digest", &[model.as_os_str()])
        .expect("oms-digest")
        .ok();

    // mlprov signs, model_signing verifies.
    let signed = work.join("by-mlprov");
    copy_dir(model, &signed);
    let r = run_pw(
        env,
        &work,
        &["--format", "json", "sign", "--key", s(&key), s(&signed)],
    )
    .ok();
    let digest = r.json()["digest"].as_str().unwrap().to_string();
    assert_eq!(
        digest,
        reference.stdout.trim(),
        "root digest differs from model_signing's"
    );
    let ms = model_signing(
        bin,
        &[
            "verify",
            "key",
            "--signature",
            s(&signed.join("model.sig")),
            "--public_key",
            s(&public),
            s(&signed),
        ],
    );
    assert_eq!(
        ms.code, 0,
        "model_signing rejected mlprov's signature:\n{}{}",
        ms.stdout, ms.stderr
    );
    env.run_env(&work, &["verify", "--key", s(&public), s(&signed)], &[])
        .ok();
    let va = shared_tool(
        "validate-attestation",
        &[
            signed.join("model.sig").as_os_str(),
            OsStr::new("--public-key"),
            public.as_os_str(),
            OsStr::new("--expect-predicate"),
            OsStr::new(OMS),
        ],
    )
    .unwrap();
    assert_eq!(
        va.code, 0,
        "validate-attestation: {}{}",
        va.stdout, va.stderr
    );

    // model_signing signs (a P-384 key from Python), mlprov verifies.
    let (ms_key, ms_pub) = py_keypair(bin, &work, "SECP384R1");
    let theirs = work.join("by-model-signing");
    copy_dir(model, &theirs);
    let ms = model_signing(
        bin,
        &[
            "sign",
            "key",
            "--private_key",
            s(&ms_key),
            "--signature",
            s(&theirs.join("model.sig")),
            s(&theirs),
        ],
    );
    assert_eq!(
        ms.code, 0,
        "model_signing sign failed: {}{}",
        ms.stdout, ms.stderr
    );
    let r = env
        .run_env(
            &work,
            &[
                "--format",
                "json",
                "verify",
                "--key",
                s(&ms_pub),
                s(&theirs),
            ],
            &[],
        )
        .ok();
    assert_eq!(r.json()["nodes"][0]["id"], digest.as_str());
    assert_eq!(r.json()["nodes"][0]["files"]["checked"], "manifest");
    // The other key is not trusted for it.
    let r = env
        .run_env(
            &work,
            &[
                "--format",
                "json",
                "verify",
                "--key",
                s(&public),
                s(&theirs),
            ],
            &[],
        )
        .expect_code(1);
    assert_eq!(codes(&r), ["E0202"]);

    for t in TAMPERS {
        // model_signing's signature, changed: mlprov names file and code.
        let d = work.join(format!("ms-{t:?}"));
        copy_dir(&theirs, &d);
        let expected = tamper(&d, t, victim, other);
        let r = env
            .run_env(
                &work,
                &["--format", "json", "verify", "--key", s(&ms_pub), s(&d)],
                &[],
            )
            .expect_code(1);
        let mut got = findings(&r);
        got.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(got, expected, "{t:?}: {}", r.stdout);
        let human = env
            .run_env(&work, &["verify", "--key", s(&ms_pub), s(&d)], &[])
            .expect_code(1);
        for (code, file) in &expected {
            assert!(
                human.stdout.contains(code.as_str()),
                "{t:?}: {}",
                human.stdout
            );
            assert!(
                human.stdout.contains(file.as_deref().unwrap()),
                "{t:?}: {}",
                human.stdout
            );
        }

        // mlprov's signature, changed: model_signing rejects it too.
        let d = work.join(format!("ml-{t:?}"));
        copy_dir(&signed, &d);
        tamper(&d, t, victim, other);
        let ms = model_signing(
            bin,
            &[
                "verify",
                "key",
                "--signature",
                s(&d.join("model.sig")),
                "--public_key",
                s(&public),
                s(&d),
            ],
        );
        assert_ne!(ms.code, 0, "{t:?}: model_signing accepted a changed model");
        let r = env
            .run_env(
                &work,
                &["--format", "json", "verify", "--key", s(&public), s(&d)],
                &[],
            )
            .expect_code(1);
        let mut got = findings(&r);
        got.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(got, expected, "{t:?}");
    }
}

#[test]
#[ignore = "needs ../shared/tools"]
fn interop_minilm_both_ways() {
    let Some(bin) = validators() else {
        return;
    };
    let env = TestEnv::new();
    interop(&env, &bin, minilm(), "model.safetensors", "config.json");
}

#[test]
#[ignore = "needs ../shared/tools"]
fn interop_generated_tree_both_ways() {
    let Some(bin) = validators() else {
        return;
    };
    let env = TestEnv::new();
    let model = env.path().join("gen").join("tree");
    gen_tree(&model);
    interop(
        &env,
        &bin,
        &model,
        "weights/model-00001-of-00002.safetensors",
        "a-b/c",
    );
}

/// mlprov signing with a P-384 SEC1 key made by Python's `cryptography`
/// (SHA-384, as model_signing expects for that curve), and with the same key
/// as encrypted PKCS#8.
#[test]
#[ignore = "needs ../shared/tools"]
fn p384_sec1_and_encrypted_pkcs8_keys_interop() {
    let Some(bin) = validators() else {
        return;
    };
    let env = TestEnv::new();
    let work = env.work();
    let model = env.path().join("model");
    gen_tree(&model);
    let (sec1, public) = py_keypair(&bin, &work, "SECP384R1");
    assert!(
        std::fs::read_to_string(&sec1)
            .unwrap()
            .starts_with("-----BEGIN EC PRIVATE KEY-----")
    );
    let sig = work.join("p384.sig");
    env.run_env(
        &work,
        &["sign", "--key", s(&sec1), "--signature", s(&sig), s(&model)],
        &[],
    )
    .ok();
    let ms = model_signing(
        &bin,
        &[
            "verify",
            "key",
            "--signature",
            s(&sig),
            "--public_key",
            s(&public),
            s(&model),
        ],
    );
    assert_eq!(ms.code, 0, "{}{}", ms.stdout, ms.stderr);

    let enc = work.join("enc.pem");
    vpython(
        &bin,
        "import sys\n\
         from cryptography.hazmat.primitives import serialization as s\n\
         k = s.load_pem_private_key(open(sys.argv[1],'rb').read(), None)\n\
         open(sys.argv[2],'wb').write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.BestAvailableEncryption(b'pkcs8 pw')))\n",
        &[sec1.as_os_str(), enc.as_os_str()],
    );
    let args = [
        "sign",
        "--key",
        "enc.pem",
        "--signature",
        s(&sig),
        s(&model),
    ];
    let r = env
        .run_env(&work, &args, &[("MLPROV_PASSWORD", "nope")])
        .expect_code(2);
    assert!(
        r.stderr.contains("mlprov::key::wrong-password"),
        "{}",
        r.stderr
    );
    env.run_env(&work, &args, &[("MLPROV_PASSWORD", "pkcs8 pw")])
        .ok();
    env.run_env(
        &work,
        &[
            "verify",
            "--key",
            s(&public),
            "--signature",
            s(&sig),
            s(&model),
        ],
        &[],
    )
    .ok();
}

fn fixtures() -> Option<PathBuf> {
    shared_fixtures("model-signing", &["SOURCE.txt"])
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn reference_fixtures_verify() {
    let Some(fx) = fixtures() else {
        return;
    };
    let env = TestEnv::new();
    let key = fx.join("keys/signing-key-pub.pem");
    let root = fx.join("keys/ca-cert.pem");
    for v in ["v1.0.1", "v1.1.0"] {
        let r = env
            .run_env(
                &fx,
                &[
                    "--format",
                    "json",
                    "verify",
                    "--key",
                    s(&key),
                    "--ignore-paths",
                    "ignore-me",
                    &format!("{v}-elliptic-key"),
                ],
                &[],
            )
            .ok();
        assert_eq!(r.json()["nodes"][0]["files"]["count"], 2);
        let r = env
            .run_env(
                &fx,
                &[
                    "--format",
                    "json",
                    "verify",
                    "--certificate-chain",
                    s(&root),
                    "--ignore-paths",
                    "ignore-me",
                    &format!("{v}-certificate"),
                ],
                &[],
            )
            .ok();
        let signer = &r.json()["nodes"][0]["attestations"][0]["signer"];
        assert_eq!(signer["kind"], "certificate");
        assert_eq!(signer["chain"].as_array().unwrap().len(), 3, "{signer}");
    }
    // v1.0.1 does not record ignore-me: without --ignore-paths it is an extra file.
    let r = env
        .run_env(
            &fx,
            &[
                "--format",
                "json",
                "verify",
                "--key",
                s(&key),
                "v1.0.1-elliptic-key",
            ],
            &[],
        )
        .expect_code(1);
    assert_eq!(
        findings(&r),
        [("E0102".to_string(), Some("ignore-me".to_string()))]
    );
    // A certificate bundle with the wrong trust anchor, and with a key only.
    let other_root = fx.join("keys/signing-key-cert.pem");
    let r = env.run_env(
        &fx,
        &[
            "--format",
            "json",
            "verify",
            "--certificate-chain",
            s(&other_root),
            "--ignore-paths",
            "ignore-me",
            "v1.1.0-certificate",
        ],
        &[],
    );
    // The signing certificate itself, pinned, is trusted; the intermediate alone also.
    r.ok();
    let r = env
        .run_env(
            &fx,
            &[
                "--format",
                "json",
                "verify",
                "--key",
                s(&key),
                "--ignore-paths",
                "ignore-me",
                "v1.1.0-certificate",
            ],
            &[],
        )
        .expect_code(1);
    assert!(codes(&r).contains(&"E0208".to_string()), "{}", r.stdout);

    // v0.3.1 signed a single file (resource `.`): verified on the file.
    let r = env
        .run_env(
            &fx,
            &[
                "verify",
                "--key",
                s(&key),
                "--signature",
                "v0.3.1-elliptic-key/model.sig",
                "v0.3.1-elliptic-key/signme-1",
            ],
            &[],
        )
        .ok();
    assert!(r.stdout.contains("✓"));
    // v0.2.0: rejected as an unsupported legacy format, not a crash.
    let r = env
        .run_env(
            &fx,
            &[
                "--format",
                "json",
                "verify",
                "--certificate-chain",
                s(&root),
                "v0.2.0-certificate",
            ],
            &[],
        )
        .expect_code(1);
    assert!(codes(&r).contains(&"E0207".to_string()), "{}", r.stdout);
    let human = env
        .run_env(
            &fx,
            &[
                "verify",
                "--certificate-chain",
                s(&root),
                "v0.2.0-certificate",
            ],
            &[],
        )
        .expect_code(1);
    assert!(
        human.stdout.contains("unsupported legacy format"),
        "{}",
        human.stdout
    );
    // Keyless bundles with only a key trusted: an untrusted signer (the
    // keyless cases are in tests/keyless.rs).
    for v in ["v1.0.1-sigstore", "v1.1.0-sigstore"] {
        let r = env
            .run_env(
                &fx,
                &[
                    "--format",
                    "json",
                    "verify",
                    "--key",
                    s(&key),
                    "--ignore-paths",
                    "ignore-me",
                    v,
                ],
                &[],
            )
            .expect_code(1);
        assert!(codes(&r).contains(&"E0202".to_string()), "{}", r.stdout);
    }
}

/// Certificates made with Python's `cryptography`, signed by model_signing:
/// a leaf that may not sign, and a CA that had expired when the leaf was issued.
#[test]
#[ignore = "needs ../shared/tools"]
fn certificate_usage_and_validity() {
    let Some(bin) = validators() else {
        return;
    };
    let env = TestEnv::new();
    let work = env.work();
    let model = work.join("m");
    gen_tree(&model);
    let script = r#"
import sys, datetime
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization as s
from cryptography.hazmat.primitives.asymmetric import ec
out, case = sys.argv[1], sys.argv[2]
def name(cn): return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
now = datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc)
ca_key = ec.generate_private_key(ec.SECP384R1())
ca_from, ca_to = now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650)
if case == "expired-ca":
    ca_to = now - datetime.timedelta(hours=1)
ca = (x509.CertificateBuilder().subject_name(name("test-root")).issuer_name(name("test-root"))
      .public_key(ca_key.public_key()).serial_number(1).not_valid_before(ca_from).not_valid_after(ca_to)
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
      .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
      .sign(ca_key, hashes.SHA384()))
leaf_key = ec.generate_private_key(ec.SECP256R1())
signing = case != "no-usage"
b = (x509.CertificateBuilder().subject_name(name("test-signer")).issuer_name(name("test-root"))
     .public_key(leaf_key.public_key()).serial_number(2).not_valid_before(now)
     .not_valid_after(now + datetime.timedelta(days=365))
     .add_extension(x509.KeyUsage(signing, False, not signing, False, False, False, False, False, False), critical=True))
if signing:
    b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
leaf = b.sign(ca_key, hashes.SHA384())
open(out + "/ca.pem", "wb").write(ca.public_bytes(s.Encoding.PEM))
open(out + "/leaf.pem", "wb").write(leaf.public_bytes(s.Encoding.PEM))
open(out + "/leaf.key", "wb").write(leaf_key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
"#;
    for (case, code) in [
        ("good", None),
        ("no-usage", Some("E0209")),
        ("expired-ca", Some("E0210")),
    ] {
        let pki = work.join(case);
        std::fs::create_dir_all(&pki).unwrap();
        vpython(&bin, script, &[pki.as_os_str(), OsStr::new(case)]);
        let sig = pki.join("model.sig");
        let ms = model_signing(
            &bin,
            &[
                "sign",
                "certificate",
                "--private_key",
                s(&pki.join("leaf.key")),
                "--signing_certificate",
                s(&pki.join("leaf.pem")),
                "--certificate_chain",
                s(&pki.join("ca.pem")),
                "--signature",
                s(&sig),
                s(&model),
            ],
        );
        assert_eq!(ms.code, 0, "{case}: {}{}", ms.stdout, ms.stderr);
        let r = env.run_env(
            &work,
            &[
                "--format",
                "json",
                "verify",
                "--certificate-chain",
                s(&pki.join("ca.pem")),
                "--signature",
                s(&sig),
                s(&model),
            ],
            &[],
        );
        match code {
            None => {
                r.ok();
            }
            // The chain problem, then the manifest it leaves unproven.
            Some(c) => assert_eq!(codes(&r.expect_code(1)), [c, "E0301"], "{case}"),
        }
    }
}

#[test]
fn keygen_roundtrip_and_guards() {
    let env = TestEnv::new();
    let dir = env.work();
    let (key, public) = keygen(&env, &dir);
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let doc: serde_json::Value = serde_json::from_slice(&B64.decode(body).unwrap()).unwrap();
    assert_eq!(doc["kdf"]["name"], "scrypt");
    assert_eq!(
        doc["kdf"]["params"],
        serde_json::json!({"N": 65536, "r": 8, "p": 1})
    );
    assert_eq!(doc["cipher"]["name"], "nacl/secretbox");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&public).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }
    // Read back: sign and verify with it.
    let model = env.path().join("model");
    gen_tree(&model);
    run_pw(&env, &dir, &["sign", "--key", s(&key), s(&model)]).ok();
    env.run_env(&dir, &["verify", "--key", s(&public), s(&model)], &[])
        .ok();
    // COSIGN_PASSWORD works too.
    env.run_env(
        &dir,
        &["sign", "--key", s(&key), s(&model)],
        &[("COSIGN_PASSWORD", PASSWORD)],
    )
    .ok();
    // No password and no terminal: a clear error, no prompt.
    let r = env
        .run_env(&dir, &["sign", "--key", s(&key), s(&model)], &[])
        .expect_code(2);
    assert!(
        r.stderr.contains("mlprov::key::no-password"),
        "{}",
        r.stderr
    );
    // Never overwrite keys silently.
    let r = run_pw(&env, &dir, &["keygen"]).expect_code(2);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    run_pw(&env, &dir, &["keygen", "--force"]).ok();
    let r = env
        .run_env(&dir, &["keygen", "--output-key-prefix", "other"], &[])
        .expect_code(2);
    assert!(r.stderr.contains("--no-password"), "{}", r.stderr);
    // --no-password is the only way to an unencrypted key on disk.
    let r = env
        .run_env(
            &dir,
            &["keygen", "--no-password", "--output-key-prefix", "plain"],
            &[],
        )
        .ok();
    assert!(r.stderr.contains("NOT encrypted"), "{}", r.stderr);
    let plain = std::fs::read_to_string(dir.join("plain.key")).unwrap();
    assert!(plain.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    env.run_env(&dir, &["sign", "--key", "plain.key", s(&model)], &[])
        .ok();
    env.run_env(&dir, &["verify", "--key", "plain.pub", s(&model)], &[])
        .ok();
}

/// A key in cosign's legacy `ENCRYPTED COSIGN PRIVATE KEY` format, built
/// here from the format's definition (scrypt N=32768 r=8 p=1 → 32-byte key;
/// NaCl secretbox with a 24-byte nonce around PKCS#8), not by mlprov.
#[test]
fn reads_a_cosign_format_key_built_from_the_definition() {
    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
    use crypto_secretbox::aead::{Aead, KeyInit};

    let env = TestEnv::new();
    let dir = env.work();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(
        &ECDSA_P256_SHA256_ASN1_SIGNING,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .unwrap();
    let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
    let spki = kp.public_key().as_der().unwrap();

    let salt = [7u8; 32];
    let nonce = [9u8; 24];
    let params = scrypt::Params::new(15, 8, 1).unwrap();
    let mut k = [0u8; 32];
    scrypt::scrypt(b"legacy pw", &salt, &params, &mut k).unwrap();
    let sealed = crypto_secretbox::XSalsa20Poly1305::new(&k.into())
        .encrypt(&nonce.into(), pkcs8.as_ref())
        .unwrap();
    let doc = serde_json::json!({
        "kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": B64.encode(salt)},
        "cipher": {"name": "nacl/secretbox", "nonce": B64.encode(nonce)},
        "ciphertext": B64.encode(sealed),
    });
    let wrap = |label: &str, der: &[u8]| {
        let b = B64.encode(der);
        let lines: Vec<&str> = b
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    };
    std::fs::write(
        dir.join("legacy.key"),
        wrap(
            "ENCRYPTED COSIGN PRIVATE KEY",
            &serde_json::to_vec(&doc).unwrap(),
        ),
    )
    .unwrap();
    std::fs::write(dir.join("legacy.pub"), wrap("PUBLIC KEY", spki.as_ref())).unwrap();

    let model = env.path().join("model");
    gen_tree(&model);
    env.run_env(
        &dir,
        &["sign", "--key", "legacy.key", s(&model)],
        &[("COSIGN_PASSWORD", "legacy pw")],
    )
    .ok();
    env.run_env(&dir, &["verify", "--key", "legacy.pub", s(&model)], &[])
        .ok();
    // MLPROV_PASSWORD wins over COSIGN_PASSWORD.
    let r = env
        .run_env(
            &dir,
            &["sign", "--key", "legacy.key", s(&model)],
            &[
                ("COSIGN_PASSWORD", "legacy pw"),
                ("MLPROV_PASSWORD", "nope"),
            ],
        )
        .expect_code(2);
    assert!(
        r.stderr.contains("mlprov::key::wrong-password"),
        "{}",
        r.stderr
    );
}

/// `attest` (provenance + SBOM, --type, import) and `sign` in a project;
/// every bundle checked by the independent validator; verify by path and by
/// digest through the local store.
#[test]
fn attest_sign_store_and_verify() {
    let env = TestEnv::new();
    let (key, public) = keygen(&env, &env.work());
    let proj = ProjectBuilder::new(env.work().join("proj"))
        .name("acme/tiny")
        .license("MIT")
        .input(
            "data",
            r#"{ path = "data/", role = "training-data", license = "MIT" }"#,
        )
        .section("policy.roles.training-data", "require = []")
        .file("data/train.jsonl", "{\"q\": 1}\n")
        .build();
    env.run_env(&proj, &["pin"], &[]).ok();
    let lock: toml::Value =
        toml::from_str(&std::fs::read_to_string(proj.join("mlprov.lock")).unwrap()).unwrap();
    let data_digest = lock["input"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let out = proj.join("out");
    gen_tree(&out);
    std::fs::remove_dir_all(out.join(".git")).unwrap();

    // Sign the output first so we know its artifact digest.
    let r = run_pw(&env, &proj, &["--format", "json", "sign", "--key", s(&key)]).ok();
    let digest = r.json()["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    // What `mlprov build` writes: a provenance statement and a bare SPDX document.
    let target = proj.join("target/mlprov");
    std::fs::create_dir_all(&target).unwrap();
    let provenance = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [
            {"name": "acme/tiny", "digest": {"sha256": digest}},
            {"name": "B", "digest": {"sha256": "4f5bd0b5e0cb6e4d1c0ee3ac7b7e0aa5a8b83b5b7d6e7c1c9a3d3b6f0e5b8a11"}},
        ],
        "predicateType": SLSA,
        "predicate": {
            "buildDefinition": {
                "buildType": "https://mlprov.dev/build/training/v1",
                "externalParameters": {"argv": ["python", "train.py"]},
                "resolvedDependencies": [{"name": "data", "uri": "file:data/", "digest": {"sha256": data_digest}, "annotations": {"role": "training-data"}}]
            },
            "runDetails": {"builder": {"id": "https://mlprov.dev/builder/local"}}
        }
    });
    std::fs::write(
        target.join("provenance.json"),
        serde_json::to_vec_pretty(&provenance).unwrap(),
    )
    .unwrap();
    let spdx = repo_root().join("../shared/spdx3/example-ml.spdx3.json");
    let sbom = if spdx.is_file() {
        std::fs::read(&spdx).unwrap()
    } else {
        br#"{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}"#.to_vec()
    };
    std::fs::write(target.join("sbom.spdx.json"), &sbom).unwrap();
    std::fs::write(
        proj.join("eval.json"),
        r#"{"accuracy": 0.91, "dataset": "held-out"}"#,
    )
    .unwrap();

    let r = run_pw(
        &env,
        &proj,
        &["--format", "json", "attest", "--key", s(&key)],
    )
    .ok();
    // The provenance and the SBOM, then the input's evidence (its import
    // provenance and the scan of its locked bytes).
    let bundles = r.json()["bundles"].as_array().unwrap().clone();
    assert_eq!(bundles.len(), 4, "{bundles:?}");
    assert_eq!(
        bundles[2]["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    assert_eq!(bundles[3]["predicateType"], "https://mlprov.dev/scan/v1");
    run_pw(
        &env,
        &proj,
        &[
            "attest",
            "--key",
            s(&key),
            "--type",
            "https://example.com/eval/v1",
            "--predicate",
            "eval.json",
        ],
    )
    .ok();
    let r = run_pw(
        &env,
        &proj,
        &[
            "--format",
            "json",
            "attest",
            "import",
            "data",
            "--key",
            s(&key),
        ],
    )
    .ok();
    let import_digest = r.json()["bundles"][0]["subjects"][0]
        .as_str()
        .unwrap()
        .to_string();

    // The provenance bundle's payload is provenance.json, byte for byte.
    let b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(target.join("provenance.sigstore.json")).unwrap())
            .unwrap();
    assert_eq!(
        B64.decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
        std::fs::read(target.join("provenance.json")).unwrap()
    );
    assert_eq!(
        b["verificationMaterial"]["publicKey"]["hint"]
            .as_str()
            .unwrap()
            .len(),
        64
    );

    // Every bundle, checked by an independent implementation.
    let bundles = [
        (target.join("provenance.sigstore.json"), SLSA),
        (target.join("sbom.sigstore.json"), SPDX),
        (
            target.join("example.com-eval-v1.sigstore.json"),
            "https://example.com/eval/v1",
        ),
        (target.join("import-data.sigstore.json"), SLSA),
        (
            target.join("import-data.scan.sigstore.json"),
            "https://mlprov.dev/scan/v1",
        ),
        (out.join("model.sig"), OMS),
    ];
    for (file, ptype) in &bundles {
        assert!(file.is_file(), "{} missing", file.display());
        match shared_tool(
            "validate-attestation",
            &[
                file.as_os_str(),
                OsStr::new("--public-key"),
                public.as_os_str(),
                OsStr::new("--expect-predicate"),
                OsStr::new(ptype),
            ],
        ) {
            Some(v) => assert_eq!(v.code, 0, "{}: {}{}", file.display(), v.stdout, v.stderr),
            None => skip("validate-attestation absent"),
        }
    }

    // The store files them by subject digest.
    let dir = env.store().join("store/sha256").join(&digest);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let slugs: Vec<&str> = names
        .iter()
        .map(|n| n.rsplit_once('-').unwrap().0)
        .collect();
    assert_eq!(
        slugs,
        [
            "example.com-eval-v1",
            "model_signing-signature-v1.0",
            "slsa.dev-provenance-v1",
            "spdx.dev-document-v3"
        ]
    );
    for n in &names {
        let (_, hex) = n
            .trim_end_matches(".sigstore.json")
            .rsplit_once('-')
            .unwrap();
        let bytes = std::fs::read(dir.join(n)).unwrap();
        assert_eq!(hex, sha256_hex(&bytes), "{n} is not content-addressed");
    }

    // Verify the output with every attestation required, from the project.
    let r = env
        .run_env(
            &proj,
            &[
                "--format",
                "json",
                "verify",
                "--key",
                s(&public),
                "--require",
                SLSA,
                "--require",
                SPDX,
                "--require",
                "https://example.com/eval/v1",
            ],
            &[],
        )
        .ok();
    let doc = r.json();
    let proven: Vec<&str> = doc["nodes"][0]["proven"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(proven.len(), 4, "{proven:?}");
    // A required type nobody attested.
    let r = env
        .run_env(
            &proj,
            &[
                "--format",
                "json",
                "verify",
                "--key",
                s(&public),
                "--require",
                "https://mlprov.dev/scan/v1",
            ],
            &[],
        )
        .expect_code(1);
    assert_eq!(codes(&r), ["E0301"]);
    // By digest, from the store alone (outside the project): the import attestation.
    let r = env
        .run_env(
            &env.work(),
            &[
                "--format",
                "json",
                "verify",
                "--key",
                s(&public),
                "--require",
                SLSA,
                &import_digest,
            ],
            &[],
        )
        .ok();
    assert_eq!(r.json()["nodes"][0]["id"], import_digest.as_str());
    // Another signer's store entries are ignored, not trusted.
    let (_, other_pub) = keygen(&env, &env.work().join("other"));
    let r = env
        .run_env(
            &env.work(),
            &[
                "--format",
                "json",
                "verify",
                "--key",
                s(&other_pub),
                "--require",
                SLSA,
                &import_digest,
            ],
            &[],
        )
        .expect_code(1);
    // The required type exists, but only from a signer not trusted here:
    // it proves nothing, so the requirement is not met.
    assert_eq!(codes(&r), ["E0301"]);
    assert_eq!(r.json()["nodes"][0]["attestations"][0]["status"], "ignored");
    assert!(
        r.json()["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("none signed by a signer trusted for this node"),
        "{}",
        r.stdout
    );
}

/// Each kind of rejection has its own code, and none panics.
#[test]
fn rejections_have_distinct_codes() {
    let env = TestEnv::new();
    let work = env.work();
    let (key, public) = keygen(&env, &work);
    let model = env.path().join("model");
    gen_tree(&model);
    let sig = model.join("model.sig");
    run_pw(&env, &work, &["sign", "--key", s(&key), s(&model)]).ok();
    let good: serde_json::Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
    let mut seen: Vec<(String, String)> = Vec::new();

    // Key problems are errors (exit 2) with their own diagnostic codes.
    let r = env
        .run_env(
            &work,
            &["sign", "--key", s(&key), s(&model)],
            &[("MLPROV_PASSWORD", "wrong")],
        )
        .expect_code(2);
    seen.push(("wrong password".into(), diag_code(&r.stderr)));
    let text = std::fs::read_to_string(&key).unwrap();
    std::fs::write(work.join("truncated.key"), &text[..text.len() / 2]).unwrap();
    let r = run_pw(&env, &work, &["sign", "--key", "truncated.key", s(&model)]).expect_code(2);
    seen.push(("truncated key".into(), diag_code(&r.stderr)));
    // A secp256k1 public key (the curve's generator point), built by hand.
    let k1 = hex_der(
        "3056301006072a8648ce3d020106052b8104000a034200\
         0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798\
         483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8",
    );
    std::fs::write(work.join("k1.pub"), pem("PUBLIC KEY", &k1)).unwrap();
    let r = env
        .run_env(&work, &["verify", "--key", "k1.pub", s(&model)], &[])
        .expect_code(2);
    seen.push(("wrong-curve public key".into(), diag_code(&r.stderr)));

    // Bundle problems are findings (exit 1) with stable codes.
    let check = |what: &str, bundle: serde_json::Value| -> (String, String) {
        let f = work.join(format!("{}.sigstore.json", what.replace(' ', "-")));
        std::fs::write(&f, serde_json::to_vec(&bundle).unwrap()).unwrap();
        let args = [
            "--format",
            "json",
            "verify",
            "--key",
            s(&public),
            "--signature",
            s(&f),
            s(&model),
        ];
        let r = env.run_env(&work, &args, &[]).expect_code(1);
        // The bundle's own problem comes first (E0301 may follow: nothing
        // else proves the manifest).
        let c = codes(&r);
        assert!(
            !c.is_empty() && c[1..].iter().all(|x| x == "E0301"),
            "{what}: {}",
            r.stdout
        );
        (what.to_string(), c[0].clone())
    };
    let mut two = good.clone();
    let sig0 = two["dsseEnvelope"]["signatures"][0].clone();
    two["dsseEnvelope"]["signatures"]
        .as_array_mut()
        .unwrap()
        .push(sig0);
    seen.push(check("two signatures", two));
    let mut b64 = good.clone();
    let p = b64["dsseEnvelope"]["payload"].as_str().unwrap().to_string();
    b64["dsseEnvelope"]["payload"] = format!("{}!!{}", &p[..10], &p[10..]).into();
    seen.push(check("corrupted base64 payload", b64));

    // Signed by a key nobody trusts.
    let (other_key, _) = keygen(&env, &work.join("other"));
    let other_sig = work.join("other.sig");
    run_pw(
        &env,
        &work,
        &[
            "sign",
            "--key",
            s(&other_key),
            "--signature",
            s(&other_sig),
            s(&model),
        ],
    )
    .ok();
    let untrusted: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&other_sig).unwrap()).unwrap();
    seen.push(check("untrusted key", untrusted));

    // A valid bundle about another artifact, given with --bundle.
    let other_model = env.path().join("other-model");
    gen_tree(&other_model);
    std::fs::write(other_model.join("extra"), b"different").unwrap();
    let other_model_sig = work.join("other-model.sig");
    run_pw(
        &env,
        &work,
        &[
            "sign",
            "--key",
            s(&key),
            "--signature",
            s(&other_model_sig),
            s(&other_model),
        ],
    )
    .ok();
    let r = env
        .run_env(
            &work,
            &[
                "--format",
                "json",
                "verify",
                "--key",
                s(&public),
                "--bundle",
                s(&other_model_sig),
                s(&model),
            ],
            &[],
        )
        .expect_code(1);
    assert_eq!(codes(&r), ["E0203"], "{}", r.stdout);
    seen.push(("subject of another artifact".into(), "E0203".into()));

    // An altered statement (still valid base64): the signature fails.
    let mut altered = good.clone();
    let payload = B64
        .decode(good["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let text = String::from_utf8(payload)
        .unwrap()
        .replace("\"allow_symlinks\":false", "\"allow_symlinks\":true");
    altered["dsseEnvelope"]["payload"] = B64.encode(text).into();
    seen.push(check("signature invalid", altered));

    let mut codes_only: Vec<&str> = seen.iter().map(|(_, c)| c.as_str()).collect();
    let n = codes_only.len();
    codes_only.sort();
    codes_only.dedup();
    assert_eq!(codes_only.len(), n, "codes are not distinct: {seen:?}");
    let expect = [
        ("wrong password", "mlprov::key::wrong-password"),
        ("truncated key", "mlprov::key::malformed"),
        ("wrong-curve public key", "mlprov::key::unsupported"),
        ("two signatures", "E0204"),
        ("corrupted base64 payload", "E0206"),
        ("untrusted key", "E0202"),
        ("subject of another artifact", "E0203"),
        ("signature invalid", "E0201"),
    ];
    for (what, code) in expect {
        assert!(
            seen.contains(&(what.to_string(), code.to_string())),
            "{what}: {seen:?}"
        );
    }
}

fn diag_code(stderr: &str) -> String {
    stderr
        .split_whitespace()
        .find(|w| w.starts_with("mlprov::"))
        .unwrap_or_else(|| panic!("no diagnostic code in:\n{stderr}"))
        .to_string()
}

fn hex_der(h: &str) -> Vec<u8> {
    hex::decode(h).unwrap()
}

fn pem(label: &str, der: &[u8]) -> String {
    let b = B64.encode(der);
    let lines: Vec<&str> = b
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// On a terminal, passwords are prompted for (hidden), twice for a new key.
#[cfg(unix)]
#[test]
fn prompts_for_passwords_on_a_terminal() {
    use rexpect::process::WaitStatus;

    let env = TestEnv::new();
    let dir = env.work();
    let model = env.path().join("model");
    gen_tree(&model);
    let spawn = |args: &[&str]| {
        let mut cmd = env.cmd(&dir);
        cmd.env_remove("CI").args(args);
        rexpect::session::spawn_command(cmd, Some(60_000)).expect("spawn in a pty")
    };
    let mut p = spawn(&["keygen"]);
    p.exp_string("Password for the private key").unwrap();
    p.send_line("typed pw").unwrap();
    p.exp_string("Repeat the password").unwrap();
    p.send_line("typed pw").unwrap();
    p.exp_eof().unwrap();
    assert!(matches!(
        p.process().wait().unwrap(),
        WaitStatus::Exited(_, 0)
    ));

    let mut p = spawn(&["sign", "--key", "cosign.key", s(&model)]);
    p.exp_string("Password for cosign.key").unwrap();
    p.send_line("typed pw").unwrap();
    let out = p.exp_eof().unwrap();
    assert!(!out.contains("typed pw"), "the password was echoed: {out}");
    assert!(
        matches!(p.process().wait().unwrap(), WaitStatus::Exited(_, 0)),
        "{out}"
    );
    env.run_env(&dir, &["verify", "--key", "cosign.pub", s(&model)], &[])
        .ok();
}
