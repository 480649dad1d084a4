//! A local Sigstore for tests, on one HTTP port:
//!
//! - `GET /oidc/token?…&audience=sigstore` (bearer `request-token`): what
//!   GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_URL answers, a JWT;
//! - `POST /api/v2/signingCert`: a Fulcio v2 CA that checks the token and the
//!   CSR's proof of possession and issues a certificate with the workflow
//!   identity, the OIDC issuer extensions and an embedded SCT signed by a
//!   test CT log;
//! - `POST /api/v1/log/entries`: a Rekor v1 log that keeps a real RFC 6962
//!   Merkle tree (its own implementation, not mlprov's) and answers with an
//!   inclusion proof, a signed checkpoint and a SET.
//!
//! `trusted_root()` describes the CA and both logs as a trusted_root.json.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::elliptic_curve::Generate as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::der::asn1::{Ia5String, OctetString, Utf8StringRef};
use x509_cert::der::{Any, Decode, Encode};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::time::Validity;

pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
pub const WORKFLOW: &str =
    "https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main";
pub const REQUEST_TOKEN: &str = "request-token";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn spki_der(key: &SigningKey) -> Vec<u8> {
    SubjectPublicKeyInfoOwned::from_key(key.verifying_key())
        .unwrap()
        .to_der()
        .unwrap()
}

fn sign(key: &SigningKey, msg: &[u8]) -> Vec<u8> {
    let sig: DerSignature = key.sign(msg);
    sig.as_bytes().to_vec()
}

/// A profile that writes exactly the extensions given.
struct Profile {
    subject: Name,
    issuer: Name,
    extensions: Vec<Extension>,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _: &Name) -> Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        _: SubjectPublicKeyInfoRef<'_>,
        _: SubjectPublicKeyInfoRef<'_>,
        _: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

fn ext<T: const_oid::AssociatedOid + Encode>(value: &T, critical: bool) -> Extension {
    Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der().unwrap()).unwrap(),
    }
}

fn raw_ext(oid: &str, critical: bool, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: oid.parse().unwrap(),
        critical,
        extn_value: OctetString::new(value).unwrap(),
    }
}

/// The TBSCertificate of a DER certificate.
fn tbs_of(cert_der: &[u8]) -> Vec<u8> {
    let fields: Vec<Any> = Vec::from_der(cert_der).unwrap();
    fields[0].to_der().unwrap()
}

fn pem(label: &str, der: &[u8]) -> String {
    let b = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_der(text: &str) -> Vec<u8> {
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    B64.decode(body).unwrap()
}

// --- RFC 6962 Merkle tree, independent of mlprov's verifier ---

fn leaf_hash(d: &[u8]) -> Vec<u8> {
    Sha256::new()
        .chain_update([0u8])
        .chain_update(d)
        .finalize()
        .to_vec()
}

fn node(l: &[u8], r: &[u8]) -> Vec<u8> {
    Sha256::new()
        .chain_update([1u8])
        .chain_update(l)
        .chain_update(r)
        .finalize()
        .to_vec()
}

fn mth(leaves: &[Vec<u8>]) -> Vec<u8> {
    match leaves.len() {
        0 => Sha256::digest([]).to_vec(),
        1 => leaf_hash(&leaves[0]),
        n => {
            let k = n.next_power_of_two() / 2;
            node(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

fn audit_path(m: usize, leaves: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = n.next_power_of_two() / 2;
    let (mut p, sibling) = if m < k {
        (audit_path(m, &leaves[..k]), mth(&leaves[k..]))
    } else {
        (audit_path(m - k, &leaves[k..]), mth(&leaves[..k]))
    };
    p.push(sibling);
    p
}

struct State {
    ca_key: SigningKey,
    ca_cert: Vec<u8>,
    ct_key: SigningKey,
    rekor_key: SigningKey,
    /// Bodies logged so far (seeded with unrelated entries, so proofs are
    /// not trivial).
    leaves: Vec<Vec<u8>>,
    jwt: String,
    serial: u32,
}

pub struct Sigstore {
    pub url: String,
    state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Sigstore {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn log_id(key: &SigningKey) -> Vec<u8> {
    Sha256::digest(spki_der(key)).to_vec()
}

impl Sigstore {
    pub fn start() -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let port = server.server_addr().to_ip().expect("ip").port();
        let url = format!("http://127.0.0.1:{port}");

        let ca_key = SigningKey::generate();
        let ca_name: Name = "CN=mlprov-test-fulcio,O=mlprov-test".parse().unwrap();
        let profile = Profile {
            subject: ca_name.clone(),
            issuer: ca_name.clone(),
            extensions: vec![
                ext(
                    &BasicConstraints {
                        ca: true,
                        path_len_constraint: Some(1),
                    },
                    true,
                ),
                ext(&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign), true),
            ],
        };
        let ca_cert = CertificateBuilder::new(
            profile,
            SerialNumber::from(1u32),
            Validity::from_now(Duration::from_secs(86400)).unwrap(),
            SubjectPublicKeyInfoOwned::from_key(ca_key.verifying_key()).unwrap(),
        )
        .unwrap()
        .build::<_, DerSignature>(&ca_key)
        .unwrap()
        .to_der()
        .unwrap();

        let claims = json!({
            "iss": GITHUB_ISSUER,
            "sub": "repo:acme/models:ref:refs/heads/main",
            "aud": "sigstore",
            "exp": now() + 600,
            "job_workflow_ref": "acme/models/.github/workflows/release.yml@refs/heads/main",
        });
        let jwt = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            URL_SAFE_NO_PAD.encode(b"not-checked-by-the-test-ca")
        );
        let state = Arc::new(Mutex::new(State {
            ca_key,
            ca_cert,
            ct_key: SigningKey::generate(),
            rekor_key: SigningKey::generate(),
            leaves: (0..5)
                .map(|i| format!("earlier entry {i}").into_bytes())
                .collect(),
            jwt,
            serial: 100,
        }));
        let (s2, st2) = (server.clone(), state.clone());
        let thread = std::thread::spawn(move || {
            for req in s2.incoming_requests() {
                handle(req, &st2);
            }
        });
        Self {
            url,
            state,
            server,
            thread: Some(thread),
        }
    }

    /// What GitHub Actions sets: the URL already has a query.
    pub fn actions_env(&self) -> [(&'static str, String); 2] {
        [
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                format!("{}/oidc/token?api-version=2.0", self.url),
            ),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN.to_string()),
        ]
    }

    /// How many entries the log holds.
    pub fn log_size(&self) -> usize {
        self.state.lock().unwrap().leaves.len()
    }

    /// trusted_root.json for the CA, the log and the CT log.
    pub fn trusted_root(&self) -> Value {
        let st = self.state.lock().unwrap();
        let log = |key: &SigningKey, url: &str| {
            json!({
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": B64.encode(spki_der(key)),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2020-01-01T00:00:00Z"},
                },
                "logId": {"keyId": B64.encode(log_id(key))},
            })
        };
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(&st.rekor_key, &self.url)],
            "certificateAuthorities": [{
                "subject": {"organization": "mlprov-test", "commonName": "mlprov-test-fulcio"},
                "uri": self.url,
                "certChain": {"certificates": [{"rawBytes": B64.encode(&st.ca_cert)}]},
                "validFor": {"start": "2020-01-01T00:00:00Z"},
            }],
            "ctlogs": [log(&st.ct_key, &format!("{}/ct", self.url))],
            "timestampAuthorities": [],
        })
    }
}

fn respond(req: tiny_http::Request, status: u16, body: &Value) {
    let resp = tiny_http::Response::from_data(serde_json::to_vec(body).unwrap())
        .with_status_code(status)
        .with_header(
            tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]).unwrap(),
        );
    let _ = req.respond(resp);
}

fn bearer(req: &tiny_http::Request) -> Option<String> {
    req.headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| {
            h.value
                .as_str()
                .trim_start_matches("Bearer ")
                .trim_start_matches("bearer ")
                .to_string()
        })
}

fn handle(mut req: tiny_http::Request, state: &Arc<Mutex<State>>) {
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let mut body = String::new();
    let _ = req.as_reader().read_to_string(&mut body);
    let mut st = state.lock().unwrap();
    match (req.method().as_str(), path) {
        ("GET", "/oidc/token") => {
            if bearer(&req).as_deref() != Some(REQUEST_TOKEN) {
                return respond(req, 401, &json!({"message": "bad request token"}));
            }
            if !query.split('&').any(|kv| kv == "audience=sigstore") {
                return respond(req, 400, &json!({"message": "audience must be sigstore"}));
            }
            let jwt = st.jwt.clone();
            respond(req, 200, &json!({"value": jwt}))
        }
        ("POST", "/api/v2/signingCert") => match fulcio(&mut st, &req, &body) {
            Ok(v) => respond(req, 201, &v),
            Err(m) => respond(req, 400, &json!({"code": 3, "message": m})),
        },
        ("POST", "/api/v1/log/entries") => match rekor(&mut st, &body) {
            Ok(v) => respond(req, 201, &v),
            Err(m) => respond(req, 400, &json!({"code": 400, "message": m})),
        },
        _ => respond(req, 404, &json!({"message": "not found"})),
    }
}

fn fulcio(st: &mut State, req: &tiny_http::Request, body: &str) -> Result<Value, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let token = v["credentials"]["oidcIdentityToken"]
        .as_str()
        .unwrap_or_default();
    if token != st.jwt || bearer(req).as_deref() != Some(token) {
        return Err("unknown identity token".into());
    }
    let csr_pem = B64
        .decode(v["certificateSigningRequest"].as_str().unwrap_or_default())
        .map_err(|e| e.to_string())?;
    let csr = x509_cert::request::CertReq::from_der(&pem_der(
        std::str::from_utf8(&csr_pem).map_err(|e| e.to_string())?,
    ))
    .map_err(|e| format!("CSR: {e}"))?;
    // Proof of possession: the CSR is signed by the key it names.
    let point = csr.info.public_key.subject_public_key.raw_bytes().to_vec();
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1,
        point,
    )
    .verify(&csr.info.to_der().unwrap(), csr.signature.raw_bytes())
    .map_err(|_| "the CSR signature does not verify".to_string())?;

    st.serial += 1;
    let empty = Name::from_der(&[0x30, 0x00]).unwrap();
    let issuer: Name = "CN=mlprov-test-fulcio,O=mlprov-test".parse().unwrap();
    let mut exts = vec![
        ext(&KeyUsage(KeyUsages::DigitalSignature.into()), true),
        ext(
            &ExtendedKeyUsage(vec![const_oid::db::rfc5912::ID_KP_CODE_SIGNING]),
            false,
        ),
        ext(
            &SubjectAltName(vec![GeneralName::UniformResourceIdentifier(
                Ia5String::new(WORKFLOW).unwrap(),
            )]),
            true,
        ),
        raw_ext(
            "1.3.6.1.4.1.57264.1.1",
            false,
            GITHUB_ISSUER.as_bytes().to_vec(),
        ),
        raw_ext(
            "1.3.6.1.4.1.57264.1.8",
            false,
            Utf8StringRef::new(GITHUB_ISSUER).unwrap().to_der().unwrap(),
        ),
    ];
    let validity = Validity::from_now(Duration::from_secs(600)).unwrap();
    let build = |extensions: Vec<Extension>| {
        CertificateBuilder::new(
            Profile {
                subject: empty.clone(),
                issuer: issuer.clone(),
                extensions,
            },
            SerialNumber::from(st.serial),
            validity,
            csr.info.public_key.clone(),
        )
        .unwrap()
        .build::<_, DerSignature>(&st.ca_key)
        .unwrap()
        .to_der()
        .unwrap()
    };
    // The precertificate's TBS is what the CT log signs (RFC 6962 3.2).
    let pre_tbs = tbs_of(&build(exts.clone()));
    let ts = now() * 1000;
    let issuer_spki = x509_cert::Certificate::from_der(&st.ca_cert)
        .unwrap()
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .unwrap();
    let mut signed = vec![0u8, 0u8];
    signed.extend_from_slice(&ts.to_be_bytes());
    signed.extend_from_slice(&1u16.to_be_bytes());
    signed.extend_from_slice(&Sha256::digest(&issuer_spki));
    signed.extend_from_slice(&(pre_tbs.len() as u32).to_be_bytes()[1..]);
    signed.extend_from_slice(&pre_tbs);
    signed.extend_from_slice(&0u16.to_be_bytes());
    let ct_sig = sign(&st.ct_key, &signed);
    let mut sct = vec![0u8];
    sct.extend_from_slice(&log_id(&st.ct_key));
    sct.extend_from_slice(&ts.to_be_bytes());
    sct.extend_from_slice(&0u16.to_be_bytes());
    sct.extend_from_slice(&[4, 3]); // SHA-256, ECDSA
    sct.extend_from_slice(&(ct_sig.len() as u16).to_be_bytes());
    sct.extend_from_slice(&ct_sig);
    let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
    list.extend_from_slice(&(sct.len() as u16).to_be_bytes());
    list.extend_from_slice(&sct);
    exts.push(raw_ext(
        "1.3.6.1.4.1.11129.2.4.2",
        false,
        OctetString::new(list).unwrap().to_der().unwrap(),
    ));
    let leaf = build(exts);
    Ok(
        json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [
            pem("CERTIFICATE", &leaf),
            pem("CERTIFICATE", &st.ca_cert),
        ]}}}),
    )
}

fn rekor(st: &mut State, body: &str) -> Result<Value, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    if v["kind"] != "dsse" || v["apiVersion"] != "0.0.1" {
        return Err("only dsse 0.0.1".into());
    }
    let pc = &v["spec"]["proposedContent"];
    let envelope = pc["envelope"].as_str().ok_or("no envelope")?;
    let env: Value = serde_json::from_str(envelope).map_err(|e| e.to_string())?;
    let verifier = pc["verifiers"][0].as_str().ok_or("no verifier")?;
    let payload = B64
        .decode(env["payload"].as_str().unwrap_or_default())
        .map_err(|e| e.to_string())?;
    let sig = env["signatures"][0]["sig"].as_str().ok_or("no signature")?;
    let entry_body = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(envelope))},
            "payloadHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&payload))},
            "signatures": [{"signature": sig, "verifier": verifier}],
        },
    });
    let body_bytes = serde_json::to_vec(&entry_body).unwrap();
    st.leaves.push(body_bytes.clone());
    let index = st.leaves.len() - 1;
    let size = st.leaves.len();
    let root = mth(&st.leaves);
    let path = audit_path(index, &st.leaves);
    let id = log_id(&st.rekor_key);
    let text = format!("mlprov-test-rekor - 42\n{size}\n{}\n", B64.encode(&root));
    let mut note_sig = id[..4].to_vec();
    note_sig.extend(sign(&st.rekor_key, text.as_bytes()));
    let checkpoint = format!(
        "{text}\n\u{2014} mlprov-test-rekor {}\n",
        B64.encode(note_sig)
    );
    let integrated = now();
    let body_b64 = B64.encode(&body_bytes);
    // The SET signs this canonical JSON (keys sorted, no spaces).
    let set_payload = format!(
        r#"{{"body":"{body_b64}","integratedTime":{integrated},"logID":"{}","logIndex":{index}}}"#,
        hex::encode(&id)
    );
    let set = sign(&st.rekor_key, set_payload.as_bytes());
    let uuid = hex::encode(leaf_hash(&body_bytes));
    Ok(json!({uuid: {
        "body": body_b64,
        "integratedTime": integrated,
        "logID": hex::encode(&id),
        "logIndex": index,
        "verification": {
            "inclusionProof": {
                "checkpoint": checkpoint,
                "hashes": path.iter().map(hex::encode).collect::<Vec<_>>(),
                "logIndex": index,
                "rootHash": hex::encode(&root),
                "treeSize": size,
            },
            "signedEntryTimestamp": B64.encode(set),
        },
    }}))
}
