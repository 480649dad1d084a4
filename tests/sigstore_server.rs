//! A local Sigstore for tests, on one HTTP port, as strict as the real
//! services (judged by sigstore-js and sigstore-python in the interop tests):
//!
//! - `GET /oidc/token?…&audience=sigstore` (bearer `request-token`): what
//!   GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_URL answers, an ES256 JWT
//!   with the claims GitHub puts in a job token;
//! - `POST /api/v2/signingCert`: a Fulcio v2 CA with a root and an
//!   intermediate. It verifies the token (signature, issuer, audience,
//!   expiry, the claims its issuer needs) and the CSR's proof of
//!   possession, and issues what Fulcio issues: key usage digitalSignature
//!   (critical), EKU codeSigning, Subject and Authority Key Identifiers, the
//!   SAN (critical, the subject is empty), the OIDC issuer extensions
//!   1.3.6.1.4.1.57264.1.1 and .1.8, the GitHub workflow extensions for an
//!   Actions token, and an embedded SCT from a test CT log; it answers with
//!   the chain leaf, intermediate, root;
//! - `POST /api/v1/log/entries`, `GET /api/v1/log/entries/{id}`: a Rekor v1
//!   log that accepts `dsse` 0.0.1 entries only after verifying every
//!   envelope signature with the given verifiers, keeps a real RFC 6962
//!   Merkle tree (its own implementation, not mlprov's), and answers as
//!   Rekor does: entry ID = tree ID + leaf hash, the virtual log index, an
//!   inclusion proof with a checkpoint signed under its hostname with origin
//!   `<hostname> - <tree ID>`, and a SET over the canonical entry. An entry
//!   logged twice is a 409.
//!
//! `trusted_root()` describes the CA and both logs as a trusted_root.json,
//! in the form the public-good one has.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
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
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::time::Validity;

pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The issuer of the test's email identity tokens (the public-good
/// Sigstore's Dex, as Fulcio's config names it).
pub const EMAIL_ISSUER: &str = "https://oauth2.sigstore.dev/auth";
pub const WORKFLOW: &str =
    "https://github.com/acme/support/.github/workflows/train-and-release.yml@refs/heads/main";
pub const REQUEST_TOKEN: &str = "request-token";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const ROOT_NAME: &str = "CN=mlprov-test-root,O=mlprov-test";
const INTERMEDIATE_NAME: &str = "CN=mlprov-test-intermediate,O=mlprov-test";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn spki(key: &VerifyingKey) -> SubjectPublicKeyInfoOwned {
    SubjectPublicKeyInfoOwned::from_key(key).unwrap()
}

fn spki_der(key: &SigningKey) -> Vec<u8> {
    spki(key.verifying_key()).to_der().unwrap()
}

fn sign(key: &SigningKey, msg: &[u8]) -> Vec<u8> {
    let sig: DerSignature = key.sign(msg);
    sig.as_bytes().to_vec()
}

/// RFC 5280 4.2.1.2 method (1), as Fulcio computes it: SHA-1 of the
/// subjectPublicKey bits.
pub fn key_id(spki: &SubjectPublicKeyInfoOwned) -> OctetString {
    use sha1::Digest as _;
    OctetString::new(sha1::Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()).unwrap()
}

/// A fresh positive 20-byte serial number, as Fulcio draws.
pub fn serial(seed: u64) -> SerialNumber {
    let mut b: Vec<u8> = Sha256::new()
        .chain_update(seed.to_be_bytes())
        .chain_update(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos()
                .to_be_bytes(),
        )
        .finalize()[..20]
        .to_vec();
    b[0] = (b[0] & 0x7f) | 0x40;
    SerialNumber::new(&b).unwrap()
}

/// A profile that writes exactly the extensions given.
pub struct Profile {
    pub subject: Name,
    pub issuer: Name,
    pub extensions: Vec<Extension>,
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

pub fn ext<T: const_oid::AssociatedOid + Encode>(value: &T, critical: bool) -> Extension {
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

/// A Fulcio extension (1.3.6.1.4.1.57264.1.N) holding a DER UTF8String.
fn utf8_ext(n: u32, value: &str) -> Extension {
    raw_ext(
        &format!("1.3.6.1.4.1.57264.1.{n}"),
        false,
        Utf8StringRef::new(value).unwrap().to_der().unwrap(),
    )
}

/// A deprecated Fulcio extension holding the raw string bytes.
fn raw_string_ext(n: u32, value: &str) -> Extension {
    raw_ext(
        &format!("1.3.6.1.4.1.57264.1.{n}"),
        false,
        value.as_bytes().to_vec(),
    )
}

pub fn aki(issuer: &SubjectPublicKeyInfoOwned) -> AuthorityKeyIdentifier {
    AuthorityKeyIdentifier {
        key_identifier: Some(key_id(issuer)),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    }
}

/// The TBSCertificate of a DER certificate.
fn tbs_of(cert_der: &[u8]) -> Vec<u8> {
    let fields: Vec<Any> = Vec::from_der(cert_der).unwrap();
    fields[0].to_der().unwrap()
}

pub fn pem(label: &str, der: &[u8]) -> String {
    let b = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER of the first PEM block in `text`, and its label.
fn pem_block(text: &str) -> Option<(String, Vec<u8>)> {
    let begin = text.find("-----BEGIN ")?;
    let rest = &text[begin + 11..];
    let label = rest[..rest.find("-----")?].to_string();
    let end_marker = format!("-----END {label}-----");
    let body_start = rest.find('\n')? + 1;
    let body_end = rest.find(&end_marker)?;
    let body: String = rest[body_start..body_end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Some((label, B64.decode(body).ok()?))
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

/// Ways to make the test services misbehave, one at a time, so that each
/// check a real verifier makes is shown to reject what it must.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Fulcio leaves out the Authority Key Identifier.
    pub no_aki: bool,
    /// Fulcio leaves out key usage.
    pub no_key_usage: bool,
    /// Fulcio marks the SAN non-critical although the subject is empty.
    pub san_not_critical: bool,
    /// The CT log's signature over the precertificate is broken.
    pub bad_sct: bool,
    /// A second SCT, from a CT log no trusted root lists.
    pub untrusted_sct: bool,
    /// Rekor signs its checkpoints under another name.
    pub checkpoint_name: Option<String>,
    /// Rekor writes another origin line.
    pub checkpoint_origin: Option<String>,
}

struct State {
    faults: Faults,
    url: String,
    oidc_key: SigningKey,
    root_cert: Vec<u8>,
    intermediate_key: SigningKey,
    intermediate_cert: Vec<u8>,
    ct_key: SigningKey,
    rekor_key: SigningKey,
    tree_id: i64,
    /// Bodies logged so far (seeded with unrelated entries, so proofs are
    /// not trivial), and when each was integrated.
    leaves: Vec<Vec<u8>>,
    integrated: Vec<u64>,
    serial: u64,
    /// When the keys were made: the start of their validity in the root.
    started: u64,
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

pub fn ca_cert(
    subject: &str,
    issuer: &str,
    key: &SigningKey,
    issuer_key: &SigningKey,
    path_len: u8,
    extra: Vec<Extension>,
    seed: u64,
) -> Vec<u8> {
    let own = spki(key.verifying_key());
    let mut extensions = vec![ext(
        &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        true,
    )];
    extensions.extend(extra);
    extensions.extend([
        ext(
            &BasicConstraints {
                ca: true,
                path_len_constraint: Some(path_len),
            },
            true,
        ),
        ext(&SubjectKeyIdentifier(key_id(&own)), false),
        ext(&aki(&spki(issuer_key.verifying_key())), false),
    ]);
    CertificateBuilder::new(
        Profile {
            subject: subject.parse().unwrap(),
            issuer: issuer.parse().unwrap(),
            extensions,
        },
        serial(seed),
        Validity::from_now(Duration::from_secs(365 * 86400)).unwrap(),
        own,
    )
    .unwrap()
    .build::<_, DerSignature>(issuer_key)
    .unwrap()
    .to_der()
    .unwrap()
}

impl Sigstore {
    pub fn start() -> Self {
        Self::start_with(Faults::default())
    }

    pub fn start_with(faults: Faults) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let port = server.server_addr().to_ip().expect("ip").port();
        let url = format!("http://127.0.0.1:{port}");

        let root_key = SigningKey::generate();
        let intermediate_key = SigningKey::generate();
        let root_cert = ca_cert(ROOT_NAME, ROOT_NAME, &root_key, &root_key, 1, vec![], 1);
        let intermediate_cert = ca_cert(
            INTERMEDIATE_NAME,
            ROOT_NAME,
            &intermediate_key,
            &root_key,
            0,
            vec![ext(
                &ExtendedKeyUsage(vec![const_oid::db::rfc5912::ID_KP_CODE_SIGNING]),
                false,
            )],
            2,
        );
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let state = Arc::new(Mutex::new(State {
            faults,
            url: url.clone(),
            oidc_key: SigningKey::generate(),
            root_cert,
            intermediate_key,
            intermediate_cert,
            ct_key: SigningKey::generate(),
            rekor_key: SigningKey::generate(),
            tree_id: i64::try_from(nanos % (1u128 << 62)).unwrap(),
            leaves: (0..5)
                .map(|i| format!("earlier entry {i}").into_bytes())
                .collect(),
            integrated: vec![now(); 5],
            serial: 100,
            started: now() - 60,
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

    /// An identity token for an email identity (what `--identity-token`
    /// gets from the public-good Sigstore's sign-in).
    pub fn email_token(&self, email: &str) -> String {
        let st = self.state.lock().unwrap();
        jwt(
            &st.oidc_key,
            &json!({
                "iss": EMAIL_ISSUER,
                "sub": "CgQxMjM0EgZnaXRodWI",
                "aud": "sigstore",
                "iat": now(),
                "exp": now() + 600,
                "email": email,
                "email_verified": true,
            }),
        )
    }

    /// How many entries the log holds.
    pub fn log_size(&self) -> usize {
        self.state.lock().unwrap().leaves.len()
    }

    /// trusted_root.json for the CA, the log and the CT log.
    pub fn trusted_root(&self) -> Value {
        let st = self.state.lock().unwrap();
        let start = chrono::DateTime::from_timestamp(i64::try_from(st.started).unwrap(), 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let log = |key: &SigningKey, url: &str| {
            json!({
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": B64.encode(spki_der(key)),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": start},
                },
                "logId": {"keyId": B64.encode(log_id(key))},
            })
        };
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(&st.rekor_key, &self.url)],
            "certificateAuthorities": [{
                "subject": {"organization": "mlprov-test", "commonName": "mlprov-test-root"},
                "uri": self.url,
                "certChain": {"certificates": [
                    {"rawBytes": B64.encode(&st.intermediate_cert)},
                    {"rawBytes": B64.encode(&st.root_cert)},
                ]},
                "validFor": {"start": start},
            }],
            "ctlogs": [log(&st.ct_key, &format!("{}/ct", self.url))],
            "timestampAuthorities": [],
        })
    }
}

/// An ES256 JWT (JOSE signature: r || s).
fn jwt(key: &SigningKey, claims: &Value) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT","kid":"mlprov-test"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig: Signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

/// The claims GitHub Actions puts in a job's OIDC token (audience sigstore).
fn actions_claims() -> Value {
    json!({
        "iss": GITHUB_ISSUER,
        "sub": "repo:acme/support:ref:refs/heads/main",
        "aud": "sigstore",
        "iat": now(),
        "nbf": now() - 5,
        "exp": now() + 600,
        "repository": "acme/support",
        "repository_id": "123456",
        "repository_owner": "acme",
        "repository_owner_id": "7890",
        "repository_visibility": "public",
        "workflow": "train-and-release",
        "workflow_ref": "acme/support/.github/workflows/train-and-release.yml@refs/heads/main",
        "workflow_sha": COMMIT,
        "job_workflow_ref": "acme/support/.github/workflows/train-and-release.yml@refs/heads/main",
        "job_workflow_sha": COMMIT,
        "sha": COMMIT,
        "ref": "refs/heads/main",
        "ref_type": "branch",
        "event_name": "push",
        "run_id": "42",
        "run_attempt": "1",
        "runner_environment": "github-hosted",
    })
}

/// Verify an ES256 JWT and return its claims, as Fulcio checks a token
/// against its issuer's keys.
fn verify_jwt(key: &VerifyingKey, token: &str) -> Result<Value, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("the identity token is not a JWT".into());
    }
    let header: Value = URL_SAFE_NO_PAD
        .decode(parts[0])
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or("the identity token's header is not JSON")?;
    if header["alg"] != "ES256" {
        return Err(format!("unsupported token algorithm {}", header["alg"]));
    }
    let sig = URL_SAFE_NO_PAD
        .decode(parts[2])
        .ok()
        .and_then(|s| Signature::from_slice(&s).ok())
        .ok_or("the identity token's signature is malformed")?;
    key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .map_err(|_| "the identity token's signature does not verify".to_string())?;
    let claims: Value = URL_SAFE_NO_PAD
        .decode(parts[1])
        .ok()
        .and_then(|c| serde_json::from_slice(&c).ok())
        .ok_or("the identity token's claims are not JSON")?;
    let aud_ok = match &claims["aud"] {
        Value::String(a) => a == "sigstore",
        Value::Array(a) => a.iter().any(|x| x == "sigstore"),
        _ => false,
    };
    if !aud_ok {
        return Err("the identity token's audience is not sigstore".into());
    }
    if claims["exp"].as_u64().is_none_or(|e| e <= now()) {
        return Err("the identity token has expired".into());
    }
    Ok(claims)
}

fn respond(req: tiny_http::Request, status: u16, body: &Value, headers: &[(&str, String)]) {
    let mut resp = tiny_http::Response::from_data(serde_json::to_vec(body).unwrap())
        .with_status_code(status)
        .with_header(
            tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]).unwrap(),
        );
    for (k, v) in headers {
        resp.add_header(tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap());
    }
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
    let path = path.to_string();
    let mut body = String::new();
    let _ = req.as_reader().read_to_string(&mut body);
    let mut st = state.lock().unwrap();
    match (req.method().as_str(), path.as_str()) {
        ("GET", "/oidc/token") => {
            if bearer(&req).as_deref() != Some(REQUEST_TOKEN) {
                return respond(req, 401, &json!({"message": "bad request token"}), &[]);
            }
            if !query.split('&').any(|kv| kv == "audience=sigstore") {
                return respond(
                    req,
                    400,
                    &json!({"message": "audience must be sigstore"}),
                    &[],
                );
            }
            let token = jwt(&st.oidc_key, &actions_claims());
            respond(req, 200, &json!({"value": token}), &[])
        }
        ("POST", "/api/v2/signingCert") => match fulcio(&mut st, &req, &body) {
            Ok(v) => respond(req, 201, &v, &[]),
            Err((code, m)) => respond(req, code, &json!({"code": 3, "message": m}), &[]),
        },
        ("POST", "/api/v1/log/entries") => match rekor_create(&mut st, &body) {
            Ok((id, v)) => {
                let location = format!("{}/api/v1/log/entries/{id}", st.url);
                respond(req, 201, &v, &[("Location", location), ("ETag", id)])
            }
            Err((code, m)) => respond(req, code, &json!({"code": code, "message": m}), &[]),
        },
        ("GET", p) if p.starts_with("/api/v1/log/entries/") => {
            let id = p.trim_start_matches("/api/v1/log/entries/");
            let uuid = if id.len() == 80 { &id[16..] } else { id };
            let found = st
                .leaves
                .iter()
                .position(|l| hex::encode(leaf_hash(l)) == uuid);
            match found {
                Some(i) => {
                    let (_, v) = rekor_entry(&st, i);
                    respond(req, 200, &v, &[])
                }
                None => respond(
                    req,
                    404,
                    &json!({"code": 404, "message": "entry not found"}),
                    &[],
                ),
            }
        }
        _ => respond(req, 404, &json!({"message": "not found"}), &[]),
    }
}

type Refusal = (u16, String);

fn bad(m: impl Into<String>) -> Refusal {
    (400, m.into())
}

/// The identity a verified token gives: the SAN and the extensions Fulcio
/// renders for its issuer.
fn principal(claims: &Value) -> Result<(GeneralName, Vec<Extension>), Refusal> {
    let claim = |k: &str| -> Result<String, Refusal> {
        claims[k]
            .as_str()
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| bad(format!("the token has no `{k}` claim")))
    };
    match claims["iss"].as_str() {
        Some(GITHUB_ISSUER) => {
            let gh = "https://github.com";
            let san = format!("{gh}/{}", claim("job_workflow_ref")?);
            let exts = vec![
                raw_string_ext(1, GITHUB_ISSUER),
                raw_string_ext(2, &claim("event_name")?),
                raw_string_ext(3, &claim("sha")?),
                raw_string_ext(4, &claim("workflow")?),
                raw_string_ext(5, &claim("repository")?),
                raw_string_ext(6, &claim("ref")?),
                utf8_ext(8, GITHUB_ISSUER),
                utf8_ext(9, &san),
                utf8_ext(10, &claim("job_workflow_sha")?),
                utf8_ext(11, &claim("runner_environment")?),
                utf8_ext(12, &format!("{gh}/{}", claim("repository")?)),
                utf8_ext(13, &claim("sha")?),
                utf8_ext(14, &claim("ref")?),
                utf8_ext(15, &claim("repository_id")?),
                utf8_ext(16, &format!("{gh}/{}", claim("repository_owner")?)),
                utf8_ext(17, &claim("repository_owner_id")?),
                utf8_ext(18, &format!("{gh}/{}", claim("workflow_ref")?)),
                utf8_ext(19, &claim("workflow_sha")?),
                utf8_ext(20, &claim("event_name")?),
                utf8_ext(
                    21,
                    &format!(
                        "{gh}/{}/actions/runs/{}/attempts/{}",
                        claim("repository")?,
                        claim("run_id")?,
                        claim("run_attempt")?
                    ),
                ),
                utf8_ext(22, &claim("repository_visibility")?),
            ];
            Ok((
                GeneralName::UniformResourceIdentifier(Ia5String::new(&san).unwrap()),
                exts,
            ))
        }
        Some(EMAIL_ISSUER) => {
            if claims["email_verified"] != true {
                return Err(bad("the token's email is not verified"));
            }
            let email = claim("email")?;
            Ok((
                GeneralName::Rfc822Name(Ia5String::new(&email).map_err(|e| bad(e.to_string()))?),
                vec![raw_string_ext(1, EMAIL_ISSUER), utf8_ext(8, EMAIL_ISSUER)],
            ))
        }
        other => Err(bad(format!("unknown OIDC issuer {other:?}"))),
    }
}

fn fulcio(st: &mut State, req: &tiny_http::Request, body: &str) -> Result<Value, Refusal> {
    let v: Value = serde_json::from_str(body).map_err(|e| bad(e.to_string()))?;
    let token = v["credentials"]["oidcIdentityToken"]
        .as_str()
        .unwrap_or_default();
    if bearer(req).is_some_and(|b| b != token) {
        return Err((401, "the bearer token is not the credentials' token".into()));
    }
    let claims = verify_jwt(st.oidc_key.verifying_key(), token).map_err(|m| (401, m))?;
    let (san, identity_exts) = principal(&claims)?;

    let csr_pem = B64
        .decode(v["certificateSigningRequest"].as_str().unwrap_or_default())
        .map_err(|e| bad(e.to_string()))?;
    let (label, csr_der) =
        pem_block(std::str::from_utf8(&csr_pem).map_err(|e| bad(e.to_string()))?)
            .ok_or_else(|| bad("the CSR is not PEM"))?;
    if label != "CERTIFICATE REQUEST" {
        return Err(bad(format!("the CSR is a PEM {label}")));
    }
    let csr =
        x509_cert::request::CertReq::from_der(&csr_der).map_err(|e| bad(format!("CSR: {e}")))?;
    // Proof of possession: the CSR is signed by the key it names.
    let key = VerifyingKey::from_sec1_bytes(csr.info.public_key.subject_public_key.raw_bytes())
        .map_err(|_| bad("the CSR's key is not an ECDSA P-256 key"))?;
    let sig = DerSignature::from_bytes(csr.signature.raw_bytes())
        .map_err(|_| bad("the CSR signature is malformed"))?;
    key.verify(&csr.info.to_der().unwrap(), &sig)
        .map_err(|_| bad("the CSR signature does not verify"))?;

    st.serial += 1;
    let empty = Name::from_der(&[0x30, 0x00]).unwrap();
    let issuer: Name = INTERMEDIATE_NAME.parse().unwrap();
    let leaf_spki = csr.info.public_key.clone();
    let f = st.faults.clone();
    let mut exts = Vec::new();
    if !f.no_key_usage {
        exts.push(ext(&KeyUsage(KeyUsages::DigitalSignature.into()), true));
    }
    exts.push(ext(
        &ExtendedKeyUsage(vec![const_oid::db::rfc5912::ID_KP_CODE_SIGNING]),
        false,
    ));
    exts.push(ext(&SubjectKeyIdentifier(key_id(&leaf_spki)), false));
    if !f.no_aki {
        exts.push(ext(&aki(&spki(st.intermediate_key.verifying_key())), false));
    }
    // Critical: the subject is empty (RFC 5280 4.2.1.6).
    exts.push(ext(&SubjectAltName(vec![san]), !f.san_not_critical));
    exts.extend(identity_exts);
    let validity = Validity::from_now(Duration::from_secs(600)).unwrap();
    let serial_number = serial(st.serial);
    let build = |extensions: Vec<Extension>| {
        CertificateBuilder::new(
            Profile {
                subject: empty.clone(),
                issuer: issuer.clone(),
                extensions,
            },
            serial_number.clone(),
            validity,
            leaf_spki.clone(),
        )
        .unwrap()
        .build::<_, DerSignature>(&st.intermediate_key)
        .unwrap()
        .to_der()
        .unwrap()
    };
    // The precertificate's TBS is what the CT log signs (RFC 6962 3.2).
    let pre_tbs = tbs_of(&build(exts.clone()));
    let ts = now() * 1000;
    let issuer_spki = spki(st.intermediate_key.verifying_key()).to_der().unwrap();
    let mut signed = vec![0u8, 0u8];
    signed.extend_from_slice(&ts.to_be_bytes());
    signed.extend_from_slice(&1u16.to_be_bytes());
    signed.extend_from_slice(&Sha256::digest(&issuer_spki));
    signed.extend_from_slice(&(pre_tbs.len() as u32).to_be_bytes()[1..]);
    signed.extend_from_slice(&pre_tbs);
    signed.extend_from_slice(&0u16.to_be_bytes());
    let one_sct = |key: &SigningKey, corrupt: bool| {
        let mut ct_sig = sign(key, &signed);
        if corrupt {
            let n = ct_sig.len();
            ct_sig[n - 2] ^= 1;
        }
        let mut sct = vec![0u8];
        sct.extend_from_slice(&log_id(key));
        sct.extend_from_slice(&ts.to_be_bytes());
        sct.extend_from_slice(&0u16.to_be_bytes());
        sct.extend_from_slice(&[4, 3]); // SHA-256, ECDSA
        sct.extend_from_slice(&(ct_sig.len() as u16).to_be_bytes());
        sct.extend_from_slice(&ct_sig);
        sct
    };
    let mut scts = vec![one_sct(&st.ct_key, f.bad_sct)];
    if f.untrusted_sct {
        scts.push(one_sct(&SigningKey::generate(), false));
    }
    let total: usize = scts.iter().map(|s| s.len() + 2).sum();
    let mut list = (total as u16).to_be_bytes().to_vec();
    for sct in &scts {
        list.extend_from_slice(&(sct.len() as u16).to_be_bytes());
        list.extend_from_slice(sct);
    }
    exts.push(raw_ext(
        "1.3.6.1.4.1.11129.2.4.2",
        false,
        OctetString::new(list).unwrap().to_der().unwrap(),
    ));
    let leaf = build(exts);
    Ok(
        json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [
            pem("CERTIFICATE", &leaf),
            pem("CERTIFICATE", &st.intermediate_cert),
            pem("CERTIFICATE", &st.root_cert),
        ]}}}),
    )
}

/// DSSE v1 pre-authentication encoding.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A verifier (base64 of a PEM certificate or public key): its key and the
/// canonical PEM Rekor records for it.
fn verifier_key(b64: &str) -> Result<(VerifyingKey, String), Refusal> {
    let text = B64
        .decode(b64)
        .ok()
        .and_then(|t| String::from_utf8(t).ok())
        .ok_or_else(|| bad("a verifier is not base64 PEM"))?;
    let (label, der) = pem_block(&text).ok_or_else(|| bad("a verifier is not PEM"))?;
    let spki_der = match label.as_str() {
        "CERTIFICATE" => x509_cert::Certificate::from_der(&der)
            .map_err(|e| bad(format!("a verifier certificate: {e}")))?
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap(),
        "PUBLIC KEY" => der.clone(),
        other => return Err(bad(format!("a verifier is a PEM {other}"))),
    };
    let parsed = SubjectPublicKeyInfoOwned::from_der(&spki_der)
        .map_err(|e| bad(format!("a verifier key: {e}")))?;
    let key = VerifyingKey::from_sec1_bytes(parsed.subject_public_key.raw_bytes())
        .map_err(|_| bad("a verifier is not an ECDSA P-256 key"))?;
    Ok((key, pem(&label, &der)))
}

fn rekor_create(st: &mut State, body: &str) -> Result<(String, Value), Refusal> {
    let v: Value = serde_json::from_str(body).map_err(|e| bad(e.to_string()))?;
    if v["kind"] != "dsse" || v["apiVersion"] != "0.0.1" {
        return Err(bad("only dsse 0.0.1 entries are accepted here"));
    }
    let spec = &v["spec"];
    if !spec["envelopeHash"].is_null()
        || !spec["payloadHash"].is_null()
        || !spec["signatures"].is_null()
    {
        return Err(bad(
            "either proposedContent or envelopeHash, payloadHash, and signatures must be present but not both",
        ));
    }
    let pc = &spec["proposedContent"];
    let envelope = pc["envelope"].as_str().ok_or_else(|| bad("no envelope"))?;
    let env: Value = serde_json::from_str(envelope).map_err(|e| bad(e.to_string()))?;
    let payload = B64
        .decode(env["payload"].as_str().unwrap_or_default())
        .map_err(|e| bad(e.to_string()))?;
    let payload_type = env["payloadType"].as_str().unwrap_or_default();
    let verifiers = pc["verifiers"]
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| bad("no verifiers"))?
        .iter()
        .map(|x| verifier_key(x.as_str().unwrap_or_default()))
        .collect::<Result<Vec<_>, _>>()?;
    // Every signature must verify with one of the verifiers.
    let mut signatures = Vec::new();
    for s in env["signatures"].as_array().cloned().unwrap_or_default() {
        let sig_b64 = s["sig"].as_str().unwrap_or_default().to_string();
        let sig = B64
            .decode(&sig_b64)
            .ok()
            .and_then(|d| DerSignature::from_bytes(&d).ok())
            .ok_or_else(|| bad("a signature is malformed"))?;
        let msg = pae(payload_type, &payload);
        let (_, canonical) = verifiers
            .iter()
            .find(|(k, _)| k.verify(&msg, &sig).is_ok())
            .ok_or_else(|| bad("all signatures must have a key that verifies it"))?;
        signatures.push(json!({"signature": sig_b64, "verifier": B64.encode(canonical)}));
    }
    if signatures.is_empty() {
        return Err(bad("the envelope has no signatures"));
    }
    signatures.sort_by(|a, b| a["signature"].as_str().cmp(&b["signature"].as_str()));
    let entry_body = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(envelope))},
            "payloadHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&payload))},
            "signatures": signatures,
        },
    });
    // Canonical JSON: keys sorted, no spaces (serde_json's map is sorted
    // here unless preserve_order is on, so sort explicitly).
    let body_bytes = serde_json_canonicalizer::to_vec(&entry_body).unwrap();
    if let Some(i) = st.leaves.iter().position(|l| *l == body_bytes) {
        let id = format!(
            "{:016x}{}",
            st.tree_id,
            hex::encode(leaf_hash(&st.leaves[i]))
        );
        return Err((
            409,
            format!("an equivalent entry already exists in the transparency log with UUID {id}"),
        ));
    }
    st.leaves.push(body_bytes);
    st.integrated.push(now());
    Ok(rekor_entry(st, st.leaves.len() - 1))
}

/// The API form of entry `index`, with a proof against the current tree.
fn rekor_entry(st: &State, index: usize) -> (String, Value) {
    let body_bytes = &st.leaves[index];
    let size = st.leaves.len();
    let root = mth(&st.leaves);
    let path = audit_path(index, &st.leaves);
    let id = log_id(&st.rekor_key);
    let hostname = st.faults.checkpoint_name.as_deref().unwrap_or("127.0.0.1");
    let origin = st
        .faults
        .checkpoint_origin
        .clone()
        .unwrap_or_else(|| format!("{hostname} - {}", st.tree_id));
    let text = format!("{origin}\n{size}\n{}\n", B64.encode(&root));
    let mut note_sig = id[..4].to_vec();
    note_sig.extend(sign(&st.rekor_key, text.as_bytes()));
    let checkpoint = format!("{text}\n\u{2014} {hostname} {}\n", B64.encode(note_sig));
    let integrated = st.integrated[index];
    let body_b64 = B64.encode(body_bytes);
    let set_payload = serde_json_canonicalizer::to_vec(&json!({
        "body": body_b64,
        "integratedTime": integrated,
        "logID": hex::encode(&id),
        "logIndex": index,
    }))
    .unwrap();
    let set = sign(&st.rekor_key, &set_payload);
    let entry_id = format!("{:016x}{}", st.tree_id, hex::encode(leaf_hash(body_bytes)));
    let v = json!({entry_id.clone(): {
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
    }});
    (entry_id, v)
}
