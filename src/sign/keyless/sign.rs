//! A keyless signing session: an ephemeral P-256 key, a Fulcio certificate
//! for it, and one Rekor entry and Sigstore bundle v0.3 per statement; and
//! key-signed bundles logged in Rekor (`--tlog-upload`, as cosign does).
//!
//! Every bundle is verified against the trusted root before it is returned
//! (chain, SCT, inclusion proof, checkpoint, SET and the certificate's own
//! identity), so a misconfigured or lying Fulcio or Rekor is caught at
//! signing time, not by the first verifier.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use x509_cert::der::asn1::BitString;
use x509_cert::der::{Decode, Encode};
use x509_cert::request::{CertReq, CertReqInfo, Version};
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::cert::{self, CertIdentity};
use super::client::{self, ClientError};
use super::oidc::IdentityToken;
use super::tlog::{TlogEntry, cert_pem};
use super::trust_root::TrustedRoot;
use crate::intoto::PAYLOAD_TYPE;
use crate::sign::bundle::{self, MEDIA_TYPE};
use crate::sign::dsse::{self, Envelope};
use crate::sign::keys::PublicKey;
use crate::sign::keys::{KeyAlgorithm, KeyError, SigningKey, pem_lf};
use crate::sign::trust::{IdentityRule, Signer, Trust};

/// The transparency log a key-signed bundle is logged in, and the trusted
/// root that must describe it (the entry is verified before the bundle is
/// written).
#[derive(Debug, Clone)]
pub struct KeyTlog {
    pub rekor_url: String,
    pub root: Arc<TrustedRoot>,
}

/// Sign a statement with `key`, log the DSSE envelope in Rekor (a `dsse`
/// 0.0.1 entry whose verifier is the public key), and return the bundle
/// with the entry's inclusion proof, checkpoint and signed entry timestamp,
/// verified as `verify --require-tlog` will.
pub fn sign_with_key_logged(
    payload: &[u8],
    key: &SigningKey,
    log: &KeyTlog,
) -> Result<SignedBundle, SignError> {
    let envelope = bundle::key_envelope(payload, key)?;
    let envelope_json = serde_json::to_string(&envelope)
        .map_err(|e| SignError::Certificate(format!("writing the envelope: {e}")))?;
    let public: PublicKey = key.public_key()?;
    let entry = client::rekor_create_dsse(
        &log.rekor_url,
        &envelope_json,
        &pem_lf("PUBLIC KEY", public.spki_der()),
    )?;
    let bytes = bundle::key_bundle(&envelope, std::slice::from_ref(&entry))?;
    let unverifiable = |reason: String| SignError::Unverifiable {
        root: log.root.source.clone(),
        reason,
    };
    let parsed = bundle::parse(&bytes).map_err(|e| unverifiable(e.to_string()))?;
    let trust = Trust {
        keys: vec![public],
        sigstore: Some(log.root.clone()),
        require_tlog: true,
        ..Default::default()
    };
    let signer =
        crate::sign::verify::verify(&parsed, &trust).map_err(|e| unverifiable(e.to_string()))?;
    Ok(SignedBundle {
        bytes,
        signer,
        log_index: entry.log_index,
    })
}

/// Where the Sigstore services are.
#[derive(Debug, Clone)]
pub struct Services {
    pub fulcio_url: String,
    pub rekor_url: String,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SignError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Key(#[from] KeyError),
    #[error("the certificate Fulcio issued is not usable: {0}")]
    #[diagnostic(
        code(mlprov::keyless::certificate),
        help(
            "for a private Fulcio, pass --trusted-root with a trusted_root.json that lists its CA and CT log"
        )
    )]
    Certificate(String),
    #[error("the signature does not verify against the {root}: {reason}")]
    #[diagnostic(
        code(mlprov::keyless::unverifiable),
        help(
            "for a private Sigstore deployment, pass --trusted-root with a trusted_root.json that lists its Fulcio CA, Rekor log and CT log"
        )
    )]
    Unverifiable { root: String, reason: String },
}

/// A Fulcio certificate and its key, ready to sign statements.
pub struct Session {
    key: SigningKey,
    cert_der: Vec<u8>,
    pub identity: CertIdentity,
    services: Services,
    root: Arc<TrustedRoot>,
}

/// One signed statement.
pub struct SignedBundle {
    /// The bundle JSON (pretty, one trailing newline).
    pub bytes: Vec<u8>,
    /// Who the verification proved signed it.
    pub signer: Signer,
    pub log_index: i64,
}

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
    certificate: OutCert,
    #[serde(rename = "tlogEntries")]
    tlog_entries: [&'a TlogEntry; 1],
}

#[derive(Serialize)]
struct OutCert {
    #[serde(rename = "rawBytes")]
    raw_bytes: String,
}

/// A PKCS#10 request for `key`'s public key, signed by it (the proof of
/// possession Fulcio checks). The subject is empty: Fulcio takes the
/// identity from the token.
fn csr_pem(key: &SigningKey) -> Result<String, SignError> {
    let bad = |e: x509_cert::der::Error| SignError::Certificate(format!("building the CSR: {e}"));
    let spki = SubjectPublicKeyInfoOwned::from_der(key.public_key()?.spki_der()).map_err(bad)?;
    let info = CertReqInfo {
        version: Version::V1,
        subject: x509_cert::name::Name::from_der(&[0x30, 0x00]).map_err(bad)?,
        public_key: spki,
        attributes: Default::default(),
    };
    let sig = key.sign(&info.to_der().map_err(bad)?)?;
    let req = CertReq {
        info,
        algorithm: AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ECDSA_WITH_SHA_256,
            parameters: None,
        },
        signature: BitString::from_bytes(&sig).map_err(bad)?,
    };
    Ok(pem_lf("CERTIFICATE REQUEST", &req.to_der().map_err(bad)?))
}

impl Session {
    /// Make an ephemeral key and get a Fulcio certificate for it.
    pub fn start(
        services: Services,
        token: &IdentityToken,
        root: Arc<TrustedRoot>,
    ) -> Result<Self, SignError> {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256)?;
        let csr = csr_pem(&key)?;
        let chain = client::fulcio_signing_cert(&services.fulcio_url, &token.raw, &csr)?;
        let cert_der = chain[0].clone();
        let parsed = x509_cert::Certificate::from_der(&cert_der)
            .map_err(|e| SignError::Certificate(e.to_string()))?;
        let identity =
            cert::identity(&parsed).map_err(|e| SignError::Certificate(e.to_string()))?;
        let cert_spki = crate::sign::x509::Cert::from_der(&cert_der)
            .and_then(|c| c.spki_der())
            .map_err(SignError::Certificate)?;
        if cert_spki != key.public_key()?.spki_der() {
            return Err(SignError::Certificate(
                "it certifies another public key than the one requested".into(),
            ));
        }
        // Check the certificate before anything is logged under it.
        let leaf = crate::sign::x509::Cert::from_der(&cert_der).map_err(SignError::Certificate)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        super::verify::check_certificate(&leaf, &root, now).map_err(|e| {
            SignError::Unverifiable {
                root: root.source.clone(),
                reason: format!("the certificate Fulcio issued: {e}"),
            }
        })?;
        Ok(Self {
            key,
            cert_der,
            identity,
            services,
            root,
        })
    }

    /// Sign an in-toto statement's exact bytes, log it, and return the
    /// verified bundle.
    pub fn sign_statement(&self, payload: &[u8]) -> Result<SignedBundle, SignError> {
        let signature = self.key.sign(&dsse::pae(PAYLOAD_TYPE, payload))?;
        let envelope = Envelope::new(PAYLOAD_TYPE, payload, &signature, None);
        let envelope_json = serde_json::to_string(&envelope)
            .map_err(|e| SignError::Certificate(format!("writing the envelope: {e}")))?;
        let entry = client::rekor_create_dsse(
            &self.services.rekor_url,
            &envelope_json,
            &cert_pem(&self.cert_der),
        )?;
        let out = OutBundle {
            media_type: MEDIA_TYPE,
            verification_material: OutMaterial {
                certificate: OutCert {
                    raw_bytes: B64.encode(&self.cert_der),
                },
                tlog_entries: [&entry],
            },
            dsse_envelope: &envelope,
        };
        let mut bytes = serde_json::to_vec_pretty(&out)
            .map_err(|e| SignError::Certificate(format!("writing the bundle: {e}")))?;
        bytes.push(b'\n');

        // Verify what was made, as a verifier will.
        let unverifiable = |reason: String| SignError::Unverifiable {
            root: self.root.source.clone(),
            reason,
        };
        let parsed = bundle::parse(&bytes).map_err(|e| unverifiable(e.to_string()))?;
        let trust = Trust {
            identities: vec![IdentityRule::exact(
                self.identity.primary(),
                self.identity.issuer.clone(),
            )],
            sigstore: Some(self.root.clone()),
            ..Default::default()
        };
        let signer = crate::sign::verify::verify(&parsed, &trust)
            .map_err(|e| unverifiable(e.to_string()))?;
        Ok(SignedBundle {
            bytes,
            signer,
            log_index: entry.log_index,
        })
    }
}
