//! Sigstore bundle v0.3 (JSON) around a DSSE envelope: writing key-signed
//! bundles, and reading and checking any bundle.
//!
//! Written bundles carry `verificationMaterial.publicKey.hint` = hex SHA-256
//! of the signer's PEM public key (model_signing's convention, so its
//! verifier accepts them) and the same value as the envelope signature's
//! `keyid` (the bundle spec asks for both to match). Readers treat the hint
//! only as a hint: trust comes from the keys and certificates given to the
//! verifier, never from the bundle.

use serde::{Deserialize, Serialize};

use crate::intoto::{PAYLOAD_TYPE, STATEMENT_TYPE, Statement};
use crate::sign::dsse::{self, Envelope};
use crate::sign::keyless::KeylessError;
use crate::sign::keyless::tlog::TlogEntry;
use crate::sign::keys::{KeyError, SigningKey};
use crate::sign::x509::ChainError;

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
    verification_material: OutMaterial<'a>,
    #[serde(rename = "dsseEnvelope")]
    dsse_envelope: &'a Envelope,
}

#[derive(Serialize)]
struct OutMaterial<'a> {
    #[serde(rename = "publicKey")]
    public_key: OutPublicKey,
    #[serde(rename = "tlogEntries")]
    tlog_entries: &'a [TlogEntry],
}

#[derive(Serialize)]
struct OutPublicKey {
    hint: String,
}

/// Sign an in-toto statement's exact bytes with `key` and return the bundle
/// JSON (pretty-printed, one trailing newline).
pub fn sign_statement(payload: &[u8], key: &SigningKey) -> Result<Vec<u8>, KeyError> {
    let envelope = key_envelope(payload, key)?;
    key_bundle(&envelope, &[])
}

/// The DSSE envelope of a statement signed with `key`, its signature's
/// `keyid` the key's hint.
pub fn key_envelope(payload: &[u8], key: &SigningKey) -> Result<Envelope, KeyError> {
    let hint = key.public_key()?.hint();
    let signature = key.sign(&dsse::pae(PAYLOAD_TYPE, payload))?;
    Ok(Envelope::new(PAYLOAD_TYPE, payload, &signature, Some(hint)))
}

/// The bundle JSON of a key-signed envelope and its transparency log
/// entries (none, or the one `--tlog-upload` made).
pub fn key_bundle(envelope: &Envelope, tlog_entries: &[TlogEntry]) -> Result<Vec<u8>, KeyError> {
    let hint = envelope.signatures[0].keyid.clone().unwrap_or_default();
    let bundle = OutBundle {
        media_type: MEDIA_TYPE,
        verification_material: OutMaterial {
            public_key: OutPublicKey { hint },
            tlog_entries,
        },
        dsse_envelope: envelope,
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
    #[serde(rename = "timestampVerificationData")]
    timestamp_verification_data: Option<InTimestamps>,
}

#[derive(Deserialize)]
struct InTimestamps {
    #[serde(rename = "rfc3161Timestamps", default)]
    rfc3161_timestamps: Vec<InTimestamp>,
}

#[derive(Deserialize)]
struct InTimestamp {
    #[serde(rename = "signedTimestamp", default)]
    signed_timestamp: String,
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

/// Who a bundle says signed it (unverified until [`crate::sign::verify::verify`]).
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
    /// Transparency log entries (keyless bundles, and key-signed bundles
    /// signed with `--tlog-upload`).
    pub tlog_entries: Vec<TlogEntry>,
    /// RFC 3161 signed timestamps (`timestampVerificationData`): the DER
    /// TimeStampResp of each. A value that is not base64 makes the bundle
    /// malformed.
    pub rfc3161_timestamps: Vec<Vec<u8>>,
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
    let mut rfc3161_timestamps = Vec::new();
    for t in vm
        .as_mut()
        .and_then(|m| m.timestamp_verification_data.take())
        .map(|t| t.rfc3161_timestamps)
        .unwrap_or_default()
    {
        let der = dsse::decode_base64(&t.signed_timestamp)
            .filter(|d| !d.is_empty())
            .ok_or_else(|| {
                BundleError::Malformed(
                    "timestampVerificationData: an RFC 3161 timestamp is not valid base64".into(),
                )
            })?;
        rfc3161_timestamps.push(der);
    }
    let material = material(vm)?;
    Ok(Bundle {
        material,
        payload,
        signature,
        keyid,
        tlog_entries,
        rfc3161_timestamps,
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

    #[test]
    fn sign_and_parse() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let bytes = sign_statement(&statement(), &key).unwrap();
        let b = parse(&bytes).unwrap();
        assert_eq!(b.payload, statement());
        let pk = key.public_key().unwrap();
        assert!(
            matches!(&b.material, Material::PublicKey { hint: Some(h), .. } if *h == pk.hint())
        );
        // The schema of the sigstore protobuf specs accepts the JSON.
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let _: sigstore::bundle::Bundle = serde_json::from_value(v).unwrap();
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

    #[test]
    fn rfc3161_timestamps_must_decode() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let bytes = sign_statement(&statement(), &key).unwrap();
        let with = |ts: &str| {
            let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            v["verificationMaterial"]["timestampVerificationData"] =
                serde_json::json!({"rfc3161Timestamps": [{"signedTimestamp": ts}]});
            serde_json::to_vec(&v).unwrap()
        };
        for bad in ["not base64 !!", ""] {
            let err = parse(&with(bad)).unwrap_err();
            assert!(
                matches!(err, BundleError::Malformed(ref m) if m.contains("RFC 3161")),
                "{err:?}"
            );
        }
        assert_eq!(
            parse(&with("MAMCAQA=")).unwrap().rfc3161_timestamps,
            vec![vec![0x30, 3, 2, 1, 0]]
        );
    }
}
