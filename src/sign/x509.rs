//! X.509 certificate chains for certificate-signed bundles (model_signing's
//! `sign certificate`): the leaf must chain to a certificate the user trusts,
//! every issuer must be a CA allowed to sign certificates, the leaf must be
//! allowed to sign (key usage `digitalSignature` or extended key usage
//! `codeSigning`, as model_signing requires), and every certificate must be
//! valid at the signing time.
//!
//! A key-signed bundle carries no trusted timestamp, so, like model_signing,
//! the signing time is taken as the leaf's `notBefore`.
//!
//! rustls-webpki is not used: it rejects leaves that are CA certificates,
//! which model_signing's own fixtures are. Signatures are checked with
//! aws-lc-rs (already sigstore's backend) for RSA PKCS#1 v1.5, ECDSA and
//! Ed25519.

use std::path::Path;
use std::time::Duration;

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ECDSA_WITH_SHA_512, ID_CE_AUTHORITY_KEY_IDENTIFIER,
    ID_CE_BASIC_CONSTRAINTS, ID_CE_CERTIFICATE_POLICIES, ID_CE_EXT_KEY_USAGE, ID_CE_KEY_USAGE,
    ID_CE_SUBJECT_ALT_NAME, ID_CE_SUBJECT_KEY_IDENTIFIER, ID_EC_PUBLIC_KEY, ID_KP_CODE_SIGNING,
    RSA_ENCRYPTION, SECP_256_R_1, SECP_384_R_1, SECP_521_R_1, SHA_256_WITH_RSA_ENCRYPTION,
    SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};
use const_oid::db::rfc8410::ID_ED_25519;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

use crate::digest::Sha256Digest;

/// Longest chain followed from the leaf to a trusted certificate.
const MAX_DEPTH: usize = 8;

/// A parsed certificate with its DER.
#[derive(Clone)]
pub struct Cert {
    pub der: Vec<u8>,
    cert: x509_cert::Certificate,
}

impl std::fmt::Debug for Cert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cert({})", self.subject())
    }
}

impl Cert {
    pub fn from_der(der: &[u8]) -> Result<Self, String> {
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| e.to_string())?;
        Ok(Self {
            der: der.to_vec(),
            cert,
        })
    }

    pub fn subject(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }

    pub fn issuer(&self) -> String {
        self.cert.tbs_certificate().issuer().to_string()
    }

    /// SHA-256 of the DER certificate.
    pub fn fingerprint(&self) -> Sha256Digest {
        Sha256Digest::of(&self.der)
    }

    /// DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Result<Vec<u8>, String> {
        self.cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| e.to_string())
    }

    /// `notBefore` in Unix seconds.
    pub fn not_before_unix(&self) -> i64 {
        i64::try_from(self.not_before().as_secs()).unwrap_or(i64::MAX)
    }

    /// `notAfter` in Unix seconds.
    pub fn not_after_unix(&self) -> i64 {
        i64::try_from(self.not_after().as_secs()).unwrap_or(i64::MAX)
    }

    /// The parsed certificate.
    pub fn inner(&self) -> &x509_cert::Certificate {
        &self.cert
    }

    /// Extended key usages, when the extension is present.
    pub fn extended_key_usage(&self) -> Result<Option<Vec<ObjectIdentifier>>, String> {
        Ok(self.extension::<ExtendedKeyUsage>()?.map(|e| e.0))
    }

    fn not_before(&self) -> Duration {
        self.cert
            .tbs_certificate()
            .validity()
            .not_before
            .to_unix_duration()
    }

    fn not_after(&self) -> Duration {
        self.cert
            .tbs_certificate()
            .validity()
            .not_after
            .to_unix_duration()
    }

    /// Did `issuer`'s key sign this certificate?
    fn signed_by(&self, issuer: &Cert) -> bool {
        let Ok(tbs) = self.cert.tbs_certificate().to_der() else {
            return false;
        };
        let Some(signature) = self.cert.signature().as_bytes() else {
            return false;
        };
        issuer.verifies(self.cert.signature_algorithm().oid, &tbs, signature)
    }

    /// Does `signature` (made with signature algorithm `sig_alg`) over
    /// `msg` verify with this certificate's key?
    pub fn verifies(&self, sig_alg: ObjectIdentifier, msg: &[u8], signature: &[u8]) -> bool {
        let spki = self.cert.tbs_certificate().subject_public_key_info();
        let key_oid = spki.algorithm.oid;
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        let Some(alg) = verification_algorithm(sig_alg, key_oid, curve) else {
            return false;
        };
        let key_bytes = if key_oid == ID_ED_25519 {
            match spki.subject_public_key.as_bytes() {
                Some(b) => b.to_vec(),
                None => return false,
            }
        } else {
            match spki.to_der() {
                Ok(d) => d,
                Err(_) => return false,
            }
        };
        UnparsedPublicKey::new(alg, key_bytes)
            .verify(msg, signature)
            .is_ok()
    }

    /// A decoded extension, if the certificate has it.
    pub fn extension<'a, T>(&'a self) -> Result<Option<T>, String>
    where
        T: Decode<'a> + const_oid::AssociatedOid,
    {
        self.cert
            .tbs_certificate()
            .get_extension::<T>()
            .map(|o| o.map(|(_, v)| v))
            .map_err(|e| format!("{}: bad {} extension: {e}", self.subject(), T::OID))
    }

    /// Critical extensions this verifier does not understand. RFC 5280 says
    /// a certificate with one must be rejected.
    fn unknown_critical(&self) -> Vec<ObjectIdentifier> {
        const KNOWN: [ObjectIdentifier; 7] = [
            ID_CE_BASIC_CONSTRAINTS,
            ID_CE_KEY_USAGE,
            ID_CE_EXT_KEY_USAGE,
            ID_CE_SUBJECT_ALT_NAME,
            ID_CE_SUBJECT_KEY_IDENTIFIER,
            ID_CE_AUTHORITY_KEY_IDENTIFIER,
            ID_CE_CERTIFICATE_POLICIES,
        ];
        self.cert
            .tbs_certificate()
            .extensions()
            .map(|exts| {
                exts.iter()
                    .filter(|e| e.critical && !KNOWN.contains(&e.extn_id))
                    .map(|e| e.extn_id)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn verification_algorithm(
    sig_alg: ObjectIdentifier,
    key_alg: ObjectIdentifier,
    curve: Option<ObjectIdentifier>,
) -> Option<&'static dyn VerificationAlgorithm> {
    let ec = |c256: &'static dyn VerificationAlgorithm,
              c384: &'static dyn VerificationAlgorithm,
              c521: Option<&'static dyn VerificationAlgorithm>| {
        if key_alg != ID_EC_PUBLIC_KEY {
            return None;
        }
        match curve? {
            SECP_256_R_1 => Some(c256),
            SECP_384_R_1 => Some(c384),
            SECP_521_R_1 => c521,
            _ => None,
        }
    };
    let rsa = |a: &'static dyn VerificationAlgorithm| (key_alg == RSA_ENCRYPTION).then_some(a);
    match sig_alg {
        SHA_256_WITH_RSA_ENCRYPTION => rsa(&sig::RSA_PKCS1_2048_8192_SHA256),
        SHA_384_WITH_RSA_ENCRYPTION => rsa(&sig::RSA_PKCS1_2048_8192_SHA384),
        SHA_512_WITH_RSA_ENCRYPTION => rsa(&sig::RSA_PKCS1_2048_8192_SHA512),
        ECDSA_WITH_SHA_256 => ec(
            &sig::ECDSA_P256_SHA256_ASN1,
            &sig::ECDSA_P384_SHA256_ASN1,
            Some(&sig::ECDSA_P521_SHA256_ASN1),
        ),
        ECDSA_WITH_SHA_384 => ec(
            &sig::ECDSA_P256_SHA384_ASN1,
            &sig::ECDSA_P384_SHA384_ASN1,
            Some(&sig::ECDSA_P521_SHA384_ASN1),
        ),
        ECDSA_WITH_SHA_512 => ec(
            &sig::ECDSA_P256_SHA512_ASN1,
            &sig::ECDSA_P384_SHA512_ASN1,
            Some(&sig::ECDSA_P521_SHA512_ASN1),
        ),
        ID_ED_25519 => (key_alg == ID_ED_25519).then_some(&sig::ED25519 as _),
        _ => None,
    }
}

/// Read every certificate from a PEM file (a root, or a root and its
/// intermediates).
pub fn load_pem_certs(path: &Path) -> Result<Vec<Cert>, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let blocks = pem::parse_many(&text).map_err(|e| format!("{}: PEM: {e}", path.display()))?;
    let mut out = Vec::new();
    for b in blocks.iter().filter(|b| b.tag() == "CERTIFICATE") {
        out.push(Cert::from_der(b.contents()).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    if out.is_empty() {
        return Err(format!("{}: no `CERTIFICATE` PEM block", path.display()));
    }
    Ok(out)
}

/// Why a chain was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("certificate is not valid DER: {0}")]
    Malformed(String),
    #[error("{0}")]
    Untrusted(String),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Validity(String),
}

/// A leaf that chains to a trusted certificate.
#[derive(Debug, Clone)]
pub struct VerifiedLeaf {
    pub leaf: Cert,
    /// Subjects from the leaf up to the trusted certificate.
    pub path: Vec<String>,
    /// The certificate that issued the leaf (the leaf itself when it is
    /// trusted directly).
    pub issuer: Cert,
}

/// Verify `chain` (leaf first, then any intermediates the bundle carries)
/// against the trusted certificates `roots`.
pub fn verify_chain(chain: &[Vec<u8>], roots: &[Cert]) -> Result<VerifiedLeaf, ChainError> {
    verify_chain_at(chain, roots, None)
}

/// [`verify_chain`] with the issuers checked at `at` (Unix seconds) instead
/// of the leaf's `notBefore` (the caller checks the leaf's own validity).
pub fn verify_chain_at(
    chain: &[Vec<u8>],
    roots: &[Cert],
    at: Option<u64>,
) -> Result<VerifiedLeaf, ChainError> {
    let mut certs = Vec::with_capacity(chain.len());
    for der in chain {
        certs.push(Cert::from_der(der).map_err(ChainError::Malformed)?);
    }
    let Some(leaf) = certs.first().cloned() else {
        return Err(ChainError::Malformed(
            "the certificate chain is empty".into(),
        ));
    };
    if roots.is_empty() {
        return Err(ChainError::Untrusted(
            "no trusted certificates were given (pass --certificate-chain)".into(),
        ));
    }
    let at = at
        .map(Duration::from_secs)
        .unwrap_or_else(|| leaf.not_before());
    check_leaf(&leaf)?;
    let pool: Vec<Cert> = certs[1..].to_vec();
    let mut path = vec![leaf.clone()];
    let mut last_err: Option<ChainError> = None;
    if build(&leaf, &pool, roots, at, 0, &mut path, &mut last_err) {
        let issuer = path.get(1).cloned().unwrap_or_else(|| leaf.clone());
        return Ok(VerifiedLeaf {
            leaf,
            path: path.iter().map(Cert::subject).collect(),
            issuer,
        });
    }
    Err(last_err.unwrap_or_else(|| {
        ChainError::Untrusted(format!(
            "certificate `{}` (issuer `{}`) does not chain to a trusted certificate",
            leaf.subject(),
            leaf.issuer()
        ))
    }))
}

fn check_leaf(leaf: &Cert) -> Result<(), ChainError> {
    if let Some(oid) = leaf.unknown_critical().first() {
        return Err(ChainError::Usage(format!(
            "signing certificate `{}` has an unsupported critical extension {oid}",
            leaf.subject()
        )));
    }
    if leaf.not_after() < leaf.not_before() {
        return Err(ChainError::Validity(format!(
            "signing certificate `{}` expires before it becomes valid",
            leaf.subject()
        )));
    }
    let ku = leaf.extension::<KeyUsage>().map_err(ChainError::Usage)?;
    let eku = leaf
        .extension::<ExtendedKeyUsage>()
        .map_err(ChainError::Usage)?;
    let signing = ku.is_some_and(|k| k.digital_signature())
        || eku.is_some_and(|e| e.0.contains(&ID_KP_CODE_SIGNING));
    if !signing {
        return Err(ChainError::Usage(format!(
            "certificate `{}` may not sign: it has neither key usage digitalSignature nor extended key usage codeSigning",
            leaf.subject()
        )));
    }
    Ok(())
}

/// Is `issuer` allowed to issue `below` certificates under it at time `at`?
fn check_issuer(issuer: &Cert, below: usize, at: Duration) -> Result<(), ChainError> {
    if let Some(oid) = issuer.unknown_critical().first() {
        return Err(ChainError::Usage(format!(
            "CA certificate `{}` has an unsupported critical extension {oid}",
            issuer.subject()
        )));
    }
    let bc = issuer
        .extension::<BasicConstraints>()
        .map_err(ChainError::Usage)?;
    match bc {
        Some(bc) if bc.ca => {
            if let Some(max) = bc.path_len_constraint
                && below > usize::from(max)
            {
                return Err(ChainError::Usage(format!(
                    "CA certificate `{}` allows {max} intermediate(s) below it, the chain has {below}",
                    issuer.subject()
                )));
            }
        }
        _ => {
            return Err(ChainError::Usage(format!(
                "certificate `{}` issued another certificate but is not a CA (basicConstraints)",
                issuer.subject()
            )));
        }
    }
    if let Some(ku) = issuer.extension::<KeyUsage>().map_err(ChainError::Usage)?
        && !ku.key_cert_sign()
    {
        return Err(ChainError::Usage(format!(
            "CA certificate `{}` lacks key usage keyCertSign",
            issuer.subject()
        )));
    }
    if at < issuer.not_before() || at > issuer.not_after() {
        return Err(ChainError::Validity(format!(
            "CA certificate `{}` was not valid when the signing certificate was issued",
            issuer.subject()
        )));
    }
    Ok(())
}

/// Depth-first search for a path from `current` to a trusted certificate.
fn build(
    current: &Cert,
    pool: &[Cert],
    roots: &[Cert],
    at: Duration,
    depth: usize,
    path: &mut Vec<Cert>,
    last_err: &mut Option<ChainError>,
) -> bool {
    if roots.iter().any(|r| r.der == current.der) {
        return true;
    }
    if depth >= MAX_DEPTH {
        return false;
    }
    let issuer_name = current.cert.tbs_certificate().issuer();
    // Trusted certificates first, then the bundle's intermediates.
    for cand in roots.iter().chain(pool.iter()) {
        if cand.der == current.der || path.iter().any(|p| p.der == cand.der) {
            continue;
        }
        if cand.cert.tbs_certificate().subject() != issuer_name || !current.signed_by(cand) {
            continue;
        }
        // Intermediates strictly below this issuer (the leaf is not counted).
        let below = path.len() - 1;
        if let Err(e) = check_issuer(cand, below, at) {
            *last_err = Some(e);
            continue;
        }
        path.push(cand.clone());
        if build(cand, pool, roots, at, depth + 1, path, last_err) {
            return true;
        }
        path.pop();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Option<Vec<Cert>> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/fixtures/model-signing/keys")
            .join(name);
        p.is_file().then(|| load_pem_certs(&p).unwrap())
    }

    #[test]
    fn model_signing_fixture_chain() {
        let (Some(root), Some(int), Some(leaf)) = (
            fixture("ca-cert.pem"),
            fixture("int-ca-cert.pem"),
            fixture("signing-key-cert.pem"),
        ) else {
            eprintln!("SKIPPED: ../shared/fixtures absent");
            return;
        };
        let chain = vec![leaf[0].der.clone(), int[0].der.clone()];
        let ok = verify_chain(&chain, &root).unwrap();
        assert_eq!(ok.path.len(), 3);
        // Without the intermediate there is no path.
        let err = verify_chain(&chain[..1], &root).unwrap_err();
        assert!(matches!(err, ChainError::Untrusted(_)), "{err:?}");
        // Pinning the exact signing certificate, or the intermediate, is trust too.
        assert!(verify_chain(&chain, &leaf).is_ok());
        assert!(verify_chain(&chain, &int).is_ok());
        // No trusted certificates at all.
        let err = verify_chain(&chain, &[]).unwrap_err();
        assert!(matches!(err, ChainError::Untrusted(_)), "{err:?}");
        // The root is not a signing certificate.
        let err = verify_chain(&[root[0].der.clone()], &root).unwrap_err();
        assert!(matches!(err, ChainError::Usage(_)), "{err:?}");
    }
}
