//! Sigstore bundle v0.3 (JSON) around a DSSE envelope: writing key-signed
//! bundles, and reading and checking any bundle.
//!
//! Written bundles carry `verificationMaterial.publicKey.hint` = hex SHA-256
//! of the signer's PEM public key (model_signing's convention, so its
//! verifier accepts them) and the same value as the envelope signature's
//! `keyid` (the bundle spec asks for both to match). Readers treat the hint
//! only as a hint: trust comes from the keys and certificates given to the
//! verifier, never from the bundle.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::intoto::{PAYLOAD_TYPE, STATEMENT_TYPE, Statement};
use crate::sign::dsse::{self, Envelope};
use crate::sign::keyless::tlog::TlogEntry;
use crate::sign::keyless::{KeylessError, TrustedRoot};
use crate::sign::keys::{KeyError, PublicKey, SigningKey};
use crate::sign::x509::{self, Cert, ChainError};

/// The media type mlprov writes.
pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The other spelling of v0.3 readers must accept.
const MEDIA_TYPE_V03_ALT: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";
const MEDIA_TYPE_LEGACY: [&str; 2] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
];
/// model_signing v0.2's predicate, with a PAE bug that makes its signatures
/// unverifiable by a correct DSSE implementation.
pub const LEGACY_OMS_PREDICATE: &str = "https://model_signing/Digests/v0.1";

#[derive(Serialize)]
struct OutBundle<'a> {
    #[serde(rename = "mediaType")]
    media_type: &'static str,
    #[serde(rename = "verificationMaterial")]
    verification_material: OutMaterial,
    #[serde(rename = "dsseEnvelope")]
    dsse_envelope: &'a Envelope,
}

#[derive(Serialize)]
struct OutMaterial {
    #[serde(rename = "publicKey")]
    public_key: OutPublicKey,
    #[serde(rename = "tlogEntries")]
    tlog_entries: Vec<serde_json::Value>,
}

#[derive(Serialize)]
struct OutPublicKey {
    hint: String,
}

/// Sign an in-toto statement's exact bytes with `key` and return the bundle
/// JSON (pretty-printed, one trailing newline).
pub fn sign_statement(payload: &[u8], key: &SigningKey) -> Result<Vec<u8>, KeyError> {
    let hint = key.public_key()?.hint();
    let signature = key.sign(&dsse::pae(PAYLOAD_TYPE, payload))?;
    let envelope = Envelope::new(PAYLOAD_TYPE, payload, &signature, Some(hint.clone()));
    let bundle = OutBundle {
        media_type: MEDIA_TYPE,
        verification_material: OutMaterial {
            public_key: OutPublicKey { hint },
            tlog_entries: Vec::new(),
        },
        dsse_envelope: &envelope,
    };
    let mut out = serde_json::to_vec_pretty(&bundle).map_err(|e| KeyError::Crypto {
        context: "writing the bundle".into(),
        reason: e.to_string(),
    })?;
    out.push(b'\n');
    Ok(out)
}

#[derive(Deserialize)]
struct InBundle {
    #[serde(rename = "mediaType")]
    media_type: String,
    #[serde(rename = "verificationMaterial")]
    verification_material: Option<InMaterial>,
    #[serde(rename = "dsseEnvelope")]
    dsse_envelope: Option<Envelope>,
    #[serde(rename = "messageSignature")]
    message_signature: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct InMaterial {
    #[serde(rename = "tlogEntries", default)]
    tlog_entries: Vec<TlogEntry>,
    #[serde(rename = "publicKey")]
    public_key: Option<InPublicKey>,
    #[serde(rename = "x509CertificateChain")]
    x509_certificate_chain: Option<InChain>,
    certificate: Option<InRaw>,
}

#[derive(Deserialize)]
struct InPublicKey {
    hint: Option<String>,
    #[serde(rename = "rawBytes")]
    raw_bytes: Option<String>,
}

#[derive(Deserialize)]
struct InChain {
    #[serde(default)]
    certificates: Vec<InRaw>,
}

#[derive(Deserialize)]
struct InRaw {
    #[serde(rename = "rawBytes")]
    raw_bytes: String,
}

/// Who a bundle says signed it (unverified until [`verify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Material {
    /// A key identified by a hint and/or an embedded public key (DER SPKI).
    PublicKey {
        hint: Option<String>,
        embedded: Option<Vec<u8>>,
    },
    /// A certificate chain, leaf first (DER).
    X509Chain(Vec<Vec<u8>>),
    /// A single (Fulcio) certificate: keyless signing.
    Certificate(Vec<u8>),
}

/// A bundle that parsed, with its payload decoded and its statement read.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub material: Material,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    /// The envelope signature's `keyid`, when set (part of the envelope a
    /// transparency log hashes).
    pub keyid: Option<String>,
    /// Transparency log entries (keyless bundles).
    pub tlog_entries: Vec<TlogEntry>,
    pub statement: Statement,
}

/// What is wrong with a bundle. [`crate::verify::Code`] maps each to a code.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BundleError {
    #[error("not a Sigstore bundle: {0}")]
    Malformed(String),
    #[error("{0}")]
    Legacy(String),
    #[error("the DSSE envelope has {0} signatures; a bundle must have exactly one")]
    SignatureCount(usize),
    #[error("the envelope's {0} is not valid base64")]
    Encoding(&'static str),
    #[error("payload type is `{0}`, not an in-toto statement ({PAYLOAD_TYPE})")]
    PayloadType(String),
    #[error("the payload is not an in-toto Statement v1: {0}")]
    Statement(String),
    #[error("{0}")]
    SignatureInvalid(String),
    #[error("{0}")]
    Untrusted(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("certificate chain: {0}")]
    Chain(ChainError),
    #[error("{0}")]
    Keyless(KeylessError),
}

/// Parse a bundle and decode its statement. No signature is checked here.
pub fn parse(bytes: &[u8]) -> Result<Bundle, BundleError> {
    let raw: InBundle = serde_json::from_slice(bytes).map_err(|e| {
        BundleError::Malformed(
            if serde_json::from_slice::<serde_json::Value>(bytes).is_err() {
                format!("not JSON ({e})")
            } else {
                e.to_string()
            },
        )
    })?;
    if MEDIA_TYPE_LEGACY.contains(&raw.media_type.as_str()) {
        return Err(BundleError::Legacy(format!(
            "bundle media type `{}` is an old Sigstore bundle version; re-sign to get a v0.3 bundle",
            raw.media_type
        )));
    }
    if raw.media_type != MEDIA_TYPE && raw.media_type != MEDIA_TYPE_V03_ALT {
        return Err(BundleError::Malformed(format!(
            "unknown media type `{}`",
            raw.media_type
        )));
    }
    let Some(envelope) = raw.dsse_envelope else {
        return Err(if raw.message_signature.is_some() {
            BundleError::PayloadType("a message signature (no DSSE envelope)".into())
        } else {
            BundleError::Malformed("no dsseEnvelope".into())
        });
    };
    if envelope.signatures.len() != 1 {
        return Err(BundleError::SignatureCount(envelope.signatures.len()));
    }
    let payload = dsse::decode_base64(&envelope.payload).ok_or(BundleError::Encoding("payload"))?;
    let signature = dsse::decode_base64(&envelope.signatures[0].sig)
        .ok_or(BundleError::Encoding("signature"))?;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(BundleError::PayloadType(envelope.payload_type));
    }
    let statement: Statement =
        serde_json::from_slice(&payload).map_err(|e| BundleError::Statement(e.to_string()))?;
    if statement.predicate_type == LEGACY_OMS_PREDICATE {
        return Err(BundleError::Legacy(format!(
            "unsupported legacy format: a model_signing v0.2 signature (predicate {LEGACY_OMS_PREDICATE}); \
             re-sign the model with `mlprov sign` or model_signing ≥ 1.0"
        )));
    }
    if statement.type_ != STATEMENT_TYPE {
        return Err(BundleError::Statement(format!(
            "`_type` is `{}`, expected {STATEMENT_TYPE}",
            statement.type_
        )));
    }
    if statement.subject.is_empty() {
        return Err(BundleError::Statement("it has no subject".into()));
    }
    let keyid = envelope.signatures[0]
        .keyid
        .clone()
        .filter(|k| !k.is_empty());
    let mut vm = raw.verification_material;
    let tlog_entries = vm
        .as_mut()
        .map(|m| std::mem::take(&mut m.tlog_entries))
        .unwrap_or_default();
    let material = material(vm)?;
    Ok(Bundle {
        material,
        payload,
        signature,
        keyid,
        tlog_entries,
        statement,
    })
}

fn material(m: Option<InMaterial>) -> Result<Material, BundleError> {
    let Some(m) = m else {
        return Err(BundleError::Malformed("no verificationMaterial".into()));
    };
    let b64 = |s: &str, what: &str| {
        dsse::decode_base64(s)
            .ok_or_else(|| BundleError::Malformed(format!("{what} is not valid base64")))
    };
    if let Some(chain) = m.x509_certificate_chain {
        let mut certs = Vec::new();
        for c in &chain.certificates {
            certs.push(b64(&c.raw_bytes, "a certificate")?);
        }
        if certs.is_empty() {
            return Err(BundleError::Malformed("empty x509CertificateChain".into()));
        }
        return Ok(Material::X509Chain(certs));
    }
    if let Some(c) = m.certificate {
        return Ok(Material::Certificate(b64(&c.raw_bytes, "the certificate")?));
    }
    if let Some(pk) = m.public_key {
        let embedded = match pk.raw_bytes.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => {
                let bytes = b64(s, "publicKey.rawBytes")?;
                // The spec says DER; model_signing before 1.0 stored PEM text.
                Some(if bytes.starts_with(b"-----BEGIN") {
                    pem::parse(&bytes)
                        .map_err(|e| BundleError::Malformed(format!("publicKey.rawBytes: {e}")))?
                        .into_contents()
                } else {
                    bytes
                })
            }
        };
        let hint = pk.hint.filter(|h| !h.is_empty());
        return Ok(Material::PublicKey { hint, embedded });
    }
    Err(BundleError::Malformed(
        "verificationMaterial has no public key or certificate".into(),
    ))
}

/// Do two bundles carry the same statement from the same claimed signer?
/// (ECDSA signatures differ on every signing; such bundles say the same.)
pub fn same_attestation(a: &[u8], b: &[u8]) -> bool {
    match (parse(a), parse(b)) {
        (Ok(a), Ok(b)) => a.payload == b.payload && a.material == b.material,
        _ => false,
    }
}

/// What the verifier trusts: public keys, certificate roots, and keyless
/// (Sigstore) signer identities with the trust material to check them.
///
/// Build it with struct update syntax (`Trust { keys, ..Default::default() }`)
/// so new fields do not break callers.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub keys: Vec<PublicKey>,
    pub roots: Vec<Cert>,
    /// Keyless signers accepted: OIDC identity and issuer as certified by
    /// Fulcio. Empty: no keyless signature is trusted.
    pub identities: Vec<IdentityRule>,
    /// Fulcio CAs, Rekor logs and CT logs that keyless bundles are checked
    /// against (the public-good root, a TUF refresh, or `--trusted-root`).
    pub sigstore: Option<Arc<TrustedRoot>>,
}

/// A keyless signer that is trusted: an exact identity and issuer, or an
/// identity regexp (only through the explicitly named
/// [`IdentityRule::regexp`]; a wildcard in an exact identity is literal).
#[derive(Debug, Clone)]
pub struct IdentityRule {
    pub identity: IdentityMatch,
    /// The OIDC issuer, always matched exactly.
    pub issuer: String,
}

/// How a rule matches the certificate's identity (its subject alternative
/// name: an email, a URI such as a GitHub workflow ref, or a username).
#[derive(Debug, Clone)]
pub enum IdentityMatch {
    Exact(String),
    /// Anchored: the whole identity must match.
    Regexp(regex::Regex),
}

impl IdentityRule {
    /// Trust exactly `identity` as issued by `issuer`.
    pub fn exact(identity: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self {
            identity: IdentityMatch::Exact(identity.into()),
            issuer: issuer.into(),
        }
    }

    /// Trust every identity that `pattern` matches in full (it is anchored
    /// as `^(?:pattern)$`), as issued by `issuer`.
    pub fn regexp(pattern: &str, issuer: impl Into<String>) -> Result<Self, regex::Error> {
        let re = regex::Regex::new(&format!("^(?:{pattern})$"))?;
        Ok(Self {
            identity: IdentityMatch::Regexp(re),
            issuer: issuer.into(),
        })
    }

    pub fn matches_identity(&self, identity: &str) -> bool {
        match &self.identity {
            IdentityMatch::Exact(e) => e == identity,
            IdentityMatch::Regexp(re) => re.is_match(identity),
        }
    }

    pub fn matches(&self, identity: &str, issuer: &str) -> bool {
        self.issuer == issuer && self.matches_identity(identity)
    }

    /// For messages: `stefanb@us.ibm.com (issuer https://…)`.
    pub fn describe(&self) -> String {
        match &self.identity {
            IdentityMatch::Exact(e) => format!("{e} (issuer {})", self.issuer),
            IdentityMatch::Regexp(re) => {
                format!(
                    "identity matching /{}/ (issuer {})",
                    re.as_str(),
                    self.issuer
                )
            }
        }
    }
}

/// Who signed a bundle, once proven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// A trusted key (its label: the file it came from).
    Key {
        label: String,
        algorithm: String,
        fingerprint: String,
    },
    /// A certificate chaining to a trusted root.
    Certificate {
        subject: String,
        path: Vec<String>,
        fingerprint: String,
    },
    /// A keyless (Sigstore) signature: a short-lived Fulcio certificate for
    /// an OIDC identity, logged in a transparency log.
    Keyless {
        /// The certificate's identity (subject alternative name).
        identity: String,
        /// The OIDC issuer the certificate records.
        issuer: String,
        /// SHA-256 of the signing certificate (`sha256:…`).
        fingerprint: String,
        proof: KeylessProof,
    },
}

/// What a keyless verification proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeylessProof {
    /// Subjects from the signing certificate to the trusted Fulcio root.
    pub chain: Vec<String>,
    /// The CT log whose signed certificate timestamp (SCT) verified: its log
    /// ID (hex SHA-256 of its key).
    pub sct_log: String,
    pub tlog: TlogProof,
    /// When the certificate was checked to be valid (Unix seconds): the
    /// log's integrated time when its signed entry timestamp verified,
    /// otherwise the verification time.
    pub checked_at: i64,
    pub time_source: TimeSource,
}

/// The transparency log entry that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// The log's base URL from the trusted root.
    pub log_url: String,
    /// The log ID (hex SHA-256 of the log's key).
    pub log_id: String,
    pub log_index: i64,
    /// Tree size of the signed checkpoint the inclusion proof reaches.
    pub tree_size: i64,
    /// The integrated time, when the signed entry timestamp (SET) proved it.
    pub integrated_time: Option<i64>,
}

/// Where the signing time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSource {
    /// The log's integrated time, signed by the log (SET).
    SignedEntryTimestamp,
    /// No trusted timestamp: the current time.
    VerificationTime,
}

impl Signer {
    /// One line for people: `key cosign.pub (ECDSA P-256)`.
    pub fn describe(&self) -> String {
        match self {
            Signer::Key {
                label, algorithm, ..
            } => format!("key {label} ({algorithm})"),
            Signer::Certificate { subject, path, .. } => {
                format!(
                    "certificate `{subject}` via {}",
                    path.last().map(String::as_str).unwrap_or("?")
                )
            }
            Signer::Keyless {
                identity, issuer, ..
            } => format!("{identity} (keyless, issuer {issuer})"),
        }
    }
}

/// Check the bundle's signature and that its signer is trusted.
pub fn verify(bundle: &Bundle, trust: &Trust) -> Result<Signer, BundleError> {
    let pae = dsse::pae(PAYLOAD_TYPE, &bundle.payload);
    match &bundle.material {
        Material::PublicKey { hint, embedded } => {
            verify_key(bundle, &pae, hint.as_deref(), embedded.as_deref(), trust)
        }
        Material::X509Chain(chain) => {
            let leaf = Cert::from_der(&chain[0])
                .map_err(|e| BundleError::Chain(ChainError::Malformed(e)))?;
            let spki = leaf
                .spki_der()
                .map_err(|e| BundleError::Chain(ChainError::Malformed(e)))?;
            let key = PublicKey::from_spki_der(&spki, &leaf.subject())
                .map_err(|e| BundleError::Unsupported(format!("signing certificate: {e}")))?;
            if !key.verify(&pae, &bundle.signature) {
                return Err(BundleError::SignatureInvalid(format!(
                    "the signature does not verify with the key of certificate `{}`",
                    leaf.subject()
                )));
            }
            let ok = x509::verify_chain(chain, &trust.roots).map_err(BundleError::Chain)?;
            Ok(Signer::Certificate {
                subject: ok.leaf.subject(),
                path: ok.path,
                fingerprint: ok.leaf.fingerprint().prefixed(),
            })
        }
        Material::Certificate(der) => {
            crate::sign::keyless::verify::verify(bundle, der, trust).map_err(BundleError::Keyless)
        }
    }
}

fn verify_key(
    bundle: &Bundle,
    pae: &[u8],
    hint: Option<&str>,
    embedded: Option<&[u8]>,
    trust: &Trust,
) -> Result<Signer, BundleError> {
    // Keys the hint names are tried first; the hint never decides trust.
    let mut keys: Vec<&PublicKey> = trust.keys.iter().collect();
    keys.sort_by_key(|k| !hint.is_some_and(|h| k.matches_hint(h)));
    for k in &keys {
        if k.verify(pae, &bundle.signature) {
            return Ok(Signer::Key {
                label: k.label.clone(),
                algorithm: k.algorithm.name().to_string(),
                fingerprint: k.fingerprint().prefixed(),
            });
        }
    }
    if let Some(named) = hint.and_then(|h| trust.keys.iter().find(|k| k.matches_hint(h))) {
        return Err(BundleError::SignatureInvalid(format!(
            "the signature does not verify with {} (the key the bundle names): the statement or signature was altered",
            named.label
        )));
    }
    if let Some(der) = embedded {
        if let Some(k) = trust.keys.iter().find(|k| k.spki_der() == der) {
            return Err(BundleError::SignatureInvalid(format!(
                "the signature does not verify with {}: the statement or signature was altered",
                k.label
            )));
        }
        if let Ok(k) = PublicKey::from_spki_der(der, "embedded key")
            && k.verify(pae, &bundle.signature)
        {
            return Err(BundleError::Untrusted(format!(
                "signed by key {} ({}), which is not among the trusted keys",
                k.fingerprint().prefixed(),
                k.algorithm
            )));
        }
    }
    if trust.keys.is_empty() {
        return Err(BundleError::Untrusted(
            "signed with a key, but no trusted key was given (pass --key)".into(),
        ));
    }
    Err(BundleError::Untrusted(match hint {
        Some(h) => format!("signed by a key that is not trusted (key hint {h})"),
        None => "none of the trusted keys verifies the signature".to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Sha256Digest;
    use crate::intoto::ResourceDescriptor;
    use crate::sign::keys::KeyAlgorithm;

    fn statement() -> Vec<u8> {
        let st = Statement::new(
            vec![ResourceDescriptor::sha256("m", &Sha256Digest::empty())],
            "https://example.com/p",
            serde_json::json!({"k": 1}),
        );
        serde_json::to_vec(&st).unwrap()
    }

    fn trust(keys: Vec<PublicKey>) -> Trust {
        Trust {
            keys,
            ..Default::default()
        }
    }

    #[test]
    fn sign_parse_verify() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let bytes = sign_statement(&statement(), &key).unwrap();
        let b = parse(&bytes).unwrap();
        assert_eq!(b.payload, statement());
        let pk = key.public_key().unwrap();
        assert!(
            matches!(&b.material, Material::PublicKey { hint: Some(h), .. } if *h == pk.hint())
        );
        let signer = verify(&b, &trust(vec![pk])).unwrap();
        assert!(matches!(signer, Signer::Key { .. }));
        // The schema of the sigstore protobuf specs accepts the JSON.
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let _: sigstore::bundle::Bundle = serde_json::from_value(v).unwrap();
    }

    #[test]
    fn untrusted_and_invalid_are_told_apart() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let other = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let bytes = sign_statement(&statement(), &key).unwrap();
        let b = parse(&bytes).unwrap();
        let err = verify(&b, &trust(vec![other.public_key().unwrap()])).unwrap_err();
        assert!(matches!(err, BundleError::Untrusted(_)), "{err:?}");
        let mut tampered = b.clone();
        tampered.payload.push(b' ');
        let err = verify(&tampered, &trust(vec![key.public_key().unwrap()])).unwrap_err();
        assert!(matches!(err, BundleError::SignatureInvalid(_)), "{err:?}");
    }

    #[test]
    fn ed25519_public_keys_verify() {
        use aws_lc_rs::encoding::AsDer as _;
        use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
        let kp = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let spki = kp.public_key().as_der().unwrap();
        let pk = PublicKey::from_spki_der(spki.as_ref(), "ed.pub").unwrap();
        assert_eq!(pk.algorithm, KeyAlgorithm::Ed25519);
        let payload = statement();
        let sig = kp.sign(&dsse::pae(PAYLOAD_TYPE, &payload));
        let env = Envelope::new(PAYLOAD_TYPE, &payload, sig.as_ref(), None);
        let bytes = serde_json::to_vec(&serde_json::json!({
            "mediaType": MEDIA_TYPE,
            "verificationMaterial": {"publicKey": {"hint": pk.hint()}},
            "dsseEnvelope": env,
        }))
        .unwrap();
        let b = parse(&bytes).unwrap();
        assert!(verify(&b, &trust(vec![pk])).is_ok());
    }

    #[test]
    fn two_signatures_and_bad_base64() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let bytes = sign_statement(&statement(), &key).unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let sig = v["dsseEnvelope"]["signatures"][0].clone();
        v["dsseEnvelope"]["signatures"]
            .as_array_mut()
            .unwrap()
            .push(sig);
        let err = parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(matches!(err, BundleError::SignatureCount(2)), "{err:?}");
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["dsseEnvelope"]["payload"] = "eyJf!!dHlwZSI6".into();
        let err = parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(matches!(err, BundleError::Encoding("payload")), "{err:?}");
    }
}
