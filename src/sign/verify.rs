//! Verifying a parsed bundle: the signature, and that its signer is
//! trusted. Key and certificate-chain bundles are checked here; keyless
//! (Fulcio certificate) bundles by [`crate::sign::keyless::verify`].

use std::sync::{Arc, OnceLock};

use crate::intoto::PAYLOAD_TYPE;
use crate::sign::bundle::{Bundle, BundleError, Material};
use crate::sign::dsse;
use crate::sign::keyless::tlog::{self, LoggedVerifier, Signed};
use crate::sign::keyless::{KeylessError, TrustedRoot};
use crate::sign::keys::PublicKey;
use crate::sign::trust::{Signer, TlogProof, Trust};
use crate::sign::x509::{self, Cert, ChainError};

/// Check the bundle's signature and that its signer is trusted.
///
/// RFC 3161 timestamps are verified whatever signed the bundle: a
/// timestamp that does not verify fails the bundle (as in sigstore-js).
pub fn verify(bundle: &Bundle, trust: &Trust) -> Result<Signer, BundleError> {
    if !bundle.rfc3161_timestamps.is_empty() && !matches!(bundle.material, Material::Certificate(_))
    {
        let root = match &trust.sigstore {
            Some(r) => r.clone(),
            None => public_good().map_err(BundleError::Keyless)?,
        };
        crate::sign::keyless::verify::verify_timestamps(bundle, &root)
            .map_err(BundleError::Keyless)?;
    }
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

/// The embedded public-good root, for a key-signed bundle's log entry when
/// no trusted root was configured (the entry was made in the public Rekor,
/// or it is from a log mlprov cannot trust and fails).
fn public_good() -> Result<Arc<TrustedRoot>, KeylessError> {
    static ROOT: OnceLock<Option<Arc<TrustedRoot>>> = OnceLock::new();
    ROOT.get_or_init(|| TrustedRoot::public_good().ok().map(Arc::new))
        .clone()
        .ok_or_else(|| KeylessError::Malformed("the embedded public-good trusted root".into()))
}

/// A key-signed bundle's transparency log entries, checked when present
/// (each must verify against a log of the trusted root, record this
/// signature, payload and public key, and be included in a checkpoint the
/// log signed) and required when the verifier asks (`--require-tlog`:
/// an entry with a signed entry timestamp, as cosign and sigstore-js want).
fn key_tlog(
    bundle: &Bundle,
    key: &PublicKey,
    trust: &Trust,
) -> Result<Option<TlogProof>, KeylessError> {
    if bundle.tlog_entries.is_empty() {
        if trust.require_tlog {
            return Err(KeylessError::TlogMissing(
                "the bundle has no transparency log entry, and one is required (--require-tlog): sign with --tlog-upload".into(),
            ));
        }
        return Ok(None);
    }
    let root = match &trust.sigstore {
        Some(r) => r.clone(),
        None => public_good()?,
    };
    let signed = Signed {
        payload: &bundle.payload,
        signature: &bundle.signature,
        verifier: LoggedVerifier::PublicKey(key.spki_der()),
    };
    let mut verified = Vec::new();
    for entry in &bundle.tlog_entries {
        verified.push(tlog::verify_entry(entry, &signed, &root)?);
    }
    let with_time = verified.iter().find(|v| v.integrated_time.is_some());
    if trust.require_tlog && with_time.is_none() {
        return Err(KeylessError::TlogSet(
            "the transparency log entry has no signed entry timestamp, and a logged signature is required (--require-tlog)".into(),
        ));
    }
    let Some(v) = with_time.or(verified.first()) else {
        return Ok(None);
    };
    Ok(Some(TlogProof {
        log_url: v.log.base_url.clone(),
        log_id: v.log.log_id_hex(),
        log_index: v.log_index,
        tree_size: v.tree_size,
        integrated_time: v.integrated_time,
    }))
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
            let tlog = key_tlog(bundle, k, trust).map_err(BundleError::Keyless)?;
            return Ok(Signer::Key {
                label: k.label.clone(),
                algorithm: k.algorithm.name().to_string(),
                fingerprint: k.fingerprint().prefixed(),
                tlog,
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
    use crate::intoto::{ResourceDescriptor, Statement};
    use crate::sign::bundle::{MEDIA_TYPE, parse, sign_statement};
    use crate::sign::dsse::Envelope;
    use crate::sign::keys::{KeyAlgorithm, SigningKey};

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
        let pk = key.public_key().unwrap();
        let signer = verify(&b, &trust(vec![pk])).unwrap();
        assert!(matches!(signer, Signer::Key { tlog: None, .. }));
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
}
