//! Verifying a keyless bundle, offline, against a trusted root:
//!
//! 1. the DSSE signature verifies with the certificate's key;
//! 2. every transparency log entry is from a trusted log, describes exactly
//!    this envelope and certificate, is included in a checkpoint the log
//!    signed under its own name, and its signed entry timestamp verifies;
//! 3. the signing time is the integrated time the SET proved (a bundle
//!    without one has no verified time and fails, as in sigstore-js and
//!    sigstore-python); the certificate must be valid then;
//! 4. the certificate chains to a Fulcio CA of the trusted root that was
//!    valid then, follows the Fulcio X.509 profile (key usage, code
//!    signing, Authority Key Identifier, critical SAN), and carries SCTs
//!    that all verify with trusted CT logs;
//! 5. its identity and OIDC issuer match a trusted identity rule.
//!
//! Every step fails closed with its own [`KeylessError`] kind.

use super::KeylessError;
use super::cert;
use super::tlog::{self, LoggedVerifier, Signed};
use super::trust_root::TrustedRoot;
use super::tsa;
use crate::intoto::PAYLOAD_TYPE;
use crate::sign::bundle::Bundle;
use crate::sign::dsse;
use crate::sign::keys::PublicKey;
use crate::sign::trust::{
    KeylessProof, Signer, TimeSource, TimestampProof, TlogProof, Trust, rfc3339,
};
use crate::sign::x509::{self, Cert, ChainError};

/// Verify a bundle whose material is the single certificate `leaf_der`.
pub fn verify(bundle: &Bundle, leaf_der: &[u8], trust: &Trust) -> Result<Signer, KeylessError> {
    let Some(root) = trust.sigstore.as_deref() else {
        return Err(KeylessError::Untrusted(
            "the bundle is signed keyless (a Fulcio certificate), but no Sigstore trusted root is configured"
                .into(),
        ));
    };
    let leaf = Cert::from_der(leaf_der)
        .map_err(|e| KeylessError::Malformed(format!("signing certificate: {e}")))?;
    let identity = cert::identity(leaf.inner())?;

    // 1. The signature.
    let spki = leaf
        .spki_der()
        .map_err(|e| KeylessError::Malformed(format!("signing certificate: {e}")))?;
    let key = PublicKey::from_spki_der(&spki, "signing certificate")
        .map_err(|e| KeylessError::Unsupported(e.to_string()))?;
    let pae = dsse::pae(PAYLOAD_TYPE, &bundle.payload);
    if !key.verify(&pae, &bundle.signature) {
        return Err(KeylessError::SignatureInvalid(format!(
            "the signature does not verify with the key of the signing certificate ({}): the statement or signature was altered",
            identity.primary()
        )));
    }

    // 2. The transparency log.
    if bundle.tlog_entries.is_empty() {
        return Err(KeylessError::TlogMissing(
            "the bundle has no transparency log entry: nothing proves the signature was logged"
                .into(),
        ));
    }
    let signed = Signed {
        payload: &bundle.payload,
        signature: &bundle.signature,
        verifier: LoggedVerifier::Certificate(leaf_der),
    };
    // Every entry must verify (sigstore-js checks each one).
    let mut verified = Vec::new();
    for entry in &bundle.tlog_entries {
        verified.push(tlog::verify_entry(entry, &signed, root)?);
    }
    let Some(entry) = verified
        .iter()
        .find(|v| v.integrated_time.is_some())
        .or(verified.first())
        .cloned()
    else {
        return Err(KeylessError::TlogMissing("no log entry".into()));
    };

    // 3. The signing times: the log's integrated time its SET proved, and
    // every RFC 3161 timestamp (each must verify). Without one nothing
    // proves when the short-lived certificate was used: sigstore-js and
    // sigstore-python refuse such a bundle. The certificate must be valid,
    // and chain, at each.
    let timestamps = verify_timestamps(bundle, root)?;
    let mut times: Vec<(i64, TimeSource)> = Vec::new();
    if let Some(t) = entry.integrated_time {
        times.push((t, TimeSource::SignedEntryTimestamp));
    }
    times.extend(
        timestamps
            .iter()
            .map(|t| (t.time, TimeSource::TimestampAuthority)),
    );
    let Some(&(at, source)) = times.first() else {
        return Err(KeylessError::Validity(format!(
            "the bundle has no signed log timestamp (signed entry timestamp) and no verified timestamp: nothing proves when the certificate (valid {} to {}) was used",
            rfc3339(leaf.not_before_unix()),
            rfc3339(leaf.not_after_unix())
        )));
    };
    let (nb, na) = (leaf.not_before_unix(), leaf.not_after_unix());
    for &(t, source) in &times {
        if t < nb || t > na {
            return Err(KeylessError::Validity(format!(
                "the signing certificate is valid {} to {}, but {} the signature at {}",
                rfc3339(nb),
                rfc3339(na),
                match source {
                    TimeSource::SignedEntryTimestamp => "the log recorded",
                    _ => "a timestamp authority stamped",
                },
                rfc3339(t)
            )));
        }
    }

    // 4. The chain to a Fulcio CA valid at those times, the profile, the SCTs.
    let (path, sct_log) = check_certificate(&leaf, root, at)?;
    for &(t, _) in times.iter().skip(1) {
        check_certificate(&leaf, root, t)?;
    }

    // 5. The identity.
    let (id, iss) = (identity.primary().to_string(), identity.issuer.clone());
    if trust.identities.is_empty() {
        return Err(KeylessError::Untrusted(format!(
            "signed keyless by {id} (issuer {iss}), but no keyless identity is trusted (pass --certificate-identity and --certificate-oidc-issuer)"
        )));
    }
    let matched = trust
        .identities
        .iter()
        .any(|r| identity.sans.iter().any(|s| r.matches(s, &iss)));
    if !matched {
        let trusted: Vec<String> = trust.identities.iter().map(|r| r.describe()).collect();
        let identity_ok = trust
            .identities
            .iter()
            .any(|r| identity.sans.iter().any(|s| r.matches_identity(s)));
        let msg = format!(
            "signed keyless by {id} (issuer {iss}); trusted: {}",
            trusted.join(", ")
        );
        return Err(if identity_ok {
            KeylessError::IssuerMismatch(msg)
        } else {
            KeylessError::IdentityMismatch(msg)
        });
    }

    let mut chain = path;
    if let Some(first) = chain.first_mut().filter(|s| s.is_empty()) {
        *first = format!("(keyless certificate for {id})");
    }
    Ok(Signer::Keyless {
        identity: id,
        issuer: iss,
        fingerprint: leaf.fingerprint().prefixed(),
        proof: KeylessProof {
            chain,
            sct_log,
            tlog: TlogProof {
                log_url: entry.log.base_url.clone(),
                log_id: entry.log.log_id_hex(),
                log_index: entry.log_index,
                tree_size: entry.tree_size,
                integrated_time: entry.integrated_time,
            },
            checked_at: at,
            time_source: source,
            timestamps,
        },
    })
}

/// Every RFC 3161 timestamp of the bundle, verified over its signature
/// against the trusted root's timestamp authorities.
pub fn verify_timestamps(
    bundle: &Bundle,
    root: &TrustedRoot,
) -> Result<Vec<TimestampProof>, KeylessError> {
    bundle
        .rfc3161_timestamps
        .iter()
        .map(|t| tsa::verify(t, &bundle.signature, root))
        .collect()
}

/// Step 4 of [`verify`]: the certificate chains to a Fulcio CA of `root`
/// valid at `at`, follows the Fulcio profile, and carries valid SCTs from
/// trusted CT logs. Returns the chain's subjects and the CT log's ID. Signing calls it
/// too, before anything is logged.
pub fn check_certificate(
    leaf: &Cert,
    root: &TrustedRoot,
    at: i64,
) -> Result<(Vec<String>, String), KeylessError> {
    let at_u = u64::try_from(at).unwrap_or(0);
    let mut chain_err: Option<ChainError> = None;
    let mut chained = None;
    for ca in root.cas.iter().filter(|ca| ca.valid_for.contains(at)) {
        let Some((anchor, intermediates)) = ca.chain.split_last() else {
            continue;
        };
        let mut chain = vec![leaf.der.clone()];
        chain.extend(intermediates.iter().map(|c| c.der.clone()));
        match x509::verify_chain_at(&chain, std::slice::from_ref(anchor), Some(at_u)) {
            Ok(v) => {
                chained = Some(v);
                break;
            }
            Err(e) => {
                // Keep the most telling error: a usage or validity problem
                // beats "does not chain" from another CA.
                if !matches!(e, ChainError::Untrusted(_)) || chain_err.is_none() {
                    chain_err = Some(e);
                }
            }
        }
    }
    let Some(chained) = chained else {
        return Err(match chain_err {
            Some(ChainError::Usage(m)) => KeylessError::Usage(m),
            Some(ChainError::Validity(m)) => KeylessError::Validity(m),
            Some(ChainError::Malformed(m)) => KeylessError::Malformed(m),
            Some(ChainError::Untrusted(_)) | None => KeylessError::Chain(format!(
                "the signing certificate (issuer `{}`) does not chain to a Fulcio CA of the {} valid at {}",
                leaf.issuer(),
                root.source,
                rfc3339(at)
            )),
        });
    };
    cert::check_profile(leaf, &chained.issuer)?;
    let issuer_spki = chained
        .issuer
        .spki_der()
        .map_err(|e| KeylessError::Malformed(format!("issuing CA: {e}")))?;
    let sct_log = cert::verify_sct(&leaf.der, &issuer_spki, root)?;
    Ok((chained.path, sct_log))
}
