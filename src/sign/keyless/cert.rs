//! What a Fulcio certificate says (the signer's identity and OIDC issuer)
//! and its embedded signed certificate timestamp (RFC 6962 SCT).

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{ID_CE_SUBJECT_ALT_NAME, ID_KP_CODE_SIGNING};
use x509_cert::der::asn1::Utf8StringRef;
use x509_cert::der::{Any, Decode, Encode, Tag, TagNumber, Tagged};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::sct::SignedCertificateTimestampList;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
    SubjectKeyIdentifier,
};

use super::KeylessError;
use super::trust_root::TrustedRoot;
use crate::digest::Sha256Digest;
use crate::sign::x509::Cert;

/// Fulcio's OIDC issuer extension (deprecated form: the raw string).
pub const OID_ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// Fulcio's OIDC issuer extension (DER UTF8String).
pub const OID_ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// Fulcio's otherName SAN for a username identity.
pub const OID_OTHERNAME_USERNAME: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");
/// The embedded SCT list (RFC 6962).
pub const OID_CT_PRECERT_SCTS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

fn malformed(what: &str, e: impl std::fmt::Display) -> KeylessError {
    KeylessError::Malformed(format!("signing certificate: {what}: {e}"))
}

/// The identity and issuer a Fulcio certificate records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertIdentity {
    /// Every subject alternative name (email, URI or username), in order.
    pub sans: Vec<String>,
    pub issuer: String,
}

impl CertIdentity {
    /// The identity to show: the first SAN.
    pub fn primary(&self) -> &str {
        self.sans.first().map(String::as_str).unwrap_or("")
    }
}

fn extensions(cert: &x509_cert::Certificate) -> &[Extension] {
    cert.tbs_certificate()
        .extensions()
        .map(|e| e.as_slice())
        .unwrap_or(&[])
}

/// Read the SANs and the OIDC issuer. A certificate without either is not
/// a Fulcio signing certificate.
pub fn identity(cert: &x509_cert::Certificate) -> Result<CertIdentity, KeylessError> {
    let mut sans = Vec::new();
    let mut issuer_v1 = None;
    let mut issuer_v2 = None;
    for ext in extensions(cert) {
        let value = ext.extn_value.as_bytes();
        if ext.extn_id == ID_CE_SUBJECT_ALT_NAME {
            let san = SubjectAltName::from_der(value).map_err(|e| malformed("SAN", e))?;
            for name in san.0 {
                match name {
                    GeneralName::Rfc822Name(s) => sans.push(s.to_string()),
                    GeneralName::UniformResourceIdentifier(s) => sans.push(s.to_string()),
                    GeneralName::OtherName(o) if o.type_id == OID_OTHERNAME_USERNAME => {
                        let s: Utf8StringRef<'_> = o
                            .value
                            .decode_as()
                            .map_err(|e| malformed("username SAN", e))?;
                        sans.push(s.as_str().to_string());
                    }
                    _ => {}
                }
            }
        } else if ext.extn_id == OID_ISSUER_V2 {
            let s = Utf8StringRef::from_der(value).map_err(|e| malformed("issuer", e))?;
            issuer_v2 = Some(s.as_str().to_string());
        } else if ext.extn_id == OID_ISSUER_V1 {
            issuer_v1 =
                Some(String::from_utf8(value.to_vec()).map_err(|e| malformed("issuer (v1)", e))?);
        }
    }
    if let (Some(a), Some(b)) = (&issuer_v1, &issuer_v2)
        && a != b
    {
        return Err(malformed(
            "issuer",
            format!("the two issuer extensions disagree ({a} vs {b})"),
        ));
    }
    let issuer = issuer_v2.or(issuer_v1).ok_or_else(|| {
        KeylessError::Usage(
            "the signing certificate has no Fulcio OIDC issuer extension: it is not a keyless (Fulcio) certificate".into(),
        )
    })?;
    if sans.is_empty() {
        return Err(KeylessError::Usage(
            "the signing certificate has no email, URI or username subject alternative name".into(),
        ));
    }
    Ok(CertIdentity { sans, issuer })
}

/// The Sigstore X.509 profile of a Fulcio signing certificate, as
/// sigstore-python (the WebPKI end-entity policy of `cryptography`) and
/// sigstore-js enforce it:
///
/// - key usage present, with digitalSignature; extended key usage with
///   codeSigning; not a CA;
/// - an Authority Key Identifier naming the issuing CA's Subject Key
///   Identifier (sigstore-js builds the path by it);
/// - the subject alternative name critical when the subject is empty
///   (RFC 5280, 4.2.1.6).
pub fn check_profile(leaf: &Cert, issuer: &Cert) -> Result<(), KeylessError> {
    let usage = |m: String| KeylessError::Usage(format!("the signing certificate {m}"));
    let ext = |e: String| KeylessError::Malformed(format!("signing certificate: {e}"));
    match leaf.extension::<KeyUsage>().map_err(ext)? {
        Some(ku) if ku.digital_signature() => {}
        Some(_) => return Err(usage("has key usage without digitalSignature".into())),
        None => {
            return Err(usage(
                "has no key usage extension (2.5.29.15); Fulcio sets digitalSignature".into(),
            ));
        }
    }
    let eku = leaf.extension::<ExtendedKeyUsage>().map_err(ext)?;
    if !eku.is_some_and(|e| e.0.contains(&ID_KP_CODE_SIGNING)) {
        return Err(usage("lacks extended key usage codeSigning".into()));
    }
    if leaf
        .extension::<BasicConstraints>()
        .map_err(ext)?
        .is_some_and(|bc| bc.ca)
    {
        return Err(usage("is a CA certificate".into()));
    }
    let aki = leaf
        .extension::<AuthorityKeyIdentifier>()
        .map_err(ext)?
        .and_then(|a| a.key_identifier)
        .ok_or_else(|| {
            usage(
                "has no Authority Key Identifier (2.5.29.35) with a key identifier, which Fulcio always sets".into(),
            )
        })?;
    if let Some(ski) = issuer.extension::<SubjectKeyIdentifier>().map_err(ext)?
        && ski.0 != aki
    {
        return Err(usage(format!(
            "names issuer key {} (Authority Key Identifier), but its issuer `{}` has key identifier {}",
            hex::encode(aki.as_bytes()),
            issuer.subject(),
            hex::encode(ski.0.as_bytes())
        )));
    }
    let subject_empty = leaf.inner().tbs_certificate().subject().is_empty();
    let san_critical = extensions(leaf.inner())
        .iter()
        .find(|e| e.extn_id == ID_CE_SUBJECT_ALT_NAME)
        .map(|e| e.critical);
    match san_critical {
        None => return Err(usage("has no subject alternative name".into())),
        Some(false) if subject_empty => {
            return Err(usage(
                "has an empty subject and a non-critical subject alternative name (RFC 5280 requires it critical)".into(),
            ));
        }
        Some(_) => {}
    }
    Ok(())
}

/// The leaf's TBSCertificate without the SCT list extension: what the CT
/// log signed (the precertificate's TBS). Done on the DER as it is, so
/// nothing is re-encoded differently.
fn precert_tbs(leaf_der: &[u8]) -> Result<Vec<u8>, x509_cert::der::Error> {
    let extensions_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(3),
    };
    let cert: Vec<Any> = Vec::from_der(leaf_der)?;
    let tbs = cert.first().ok_or_else(|| Tag::Sequence.value_error())?;
    let mut fields: Vec<Any> = tbs.decode_as()?;
    for f in fields.iter_mut().filter(|f| f.tag() == extensions_tag) {
        let exts: Vec<Any> = Vec::from_der(f.value())?;
        let mut kept = Vec::new();
        for e in exts {
            if e.decode_as::<Extension>()?.extn_id != OID_CT_PRECERT_SCTS {
                kept.push(e);
            }
        }
        *f = Any::new(extensions_tag, kept.to_der()?)?;
    }
    fields.to_der()
}

/// Verify the certificate's embedded SCTs against the trusted CT logs:
/// every one must verify with a CT log of the trusted root valid at its
/// time (as sigstore-js requires), and there must be at least one.
/// `issuer_spki` is the DER public key of the CA that issued the leaf.
/// Returns the first CT log's ID (hex).
pub fn verify_sct(
    leaf_der: &[u8],
    issuer_spki: &[u8],
    root: &TrustedRoot,
) -> Result<String, KeylessError> {
    let cert = x509_cert::Certificate::from_der(leaf_der).map_err(|e| malformed("DER", e))?;
    let Some(ext) = extensions(&cert)
        .iter()
        .find(|e| e.extn_id == OID_CT_PRECERT_SCTS)
    else {
        return Err(KeylessError::Sct(
            "the signing certificate has no embedded SCT: it was not logged in certificate transparency".into(),
        ));
    };
    let list = SignedCertificateTimestampList::from_der(ext.extn_value.as_bytes())
        .map_err(|e| KeylessError::Sct(format!("the SCT list is malformed: {e:?}")))?;
    let scts = list
        .parse_timestamps()
        .map_err(|e| KeylessError::Sct(format!("the SCT list is malformed: {e:?}")))?;
    if scts.is_empty() {
        return Err(KeylessError::Sct("the SCT list is empty".into()));
    }
    let tbs = precert_tbs(leaf_der).map_err(|e| malformed("TBS", e))?;
    let issuer_key_hash = Sha256Digest::of(issuer_spki);
    let mut reasons = Vec::new();
    let mut verified = Vec::new();
    for s in scts {
        let sct = match s.parse_timestamp() {
            Ok(s) => s,
            Err(e) => {
                reasons.push(format!("malformed SCT: {e:?}"));
                continue;
            }
        };
        let log_id = hex::encode(sct.log_id.key_id);
        let Some(log) = root.ctlog(&sct.log_id.key_id) else {
            reasons.push(format!(
                "SCT from CT log {log_id}, which the trusted root does not list"
            ));
            continue;
        };
        let ext = sct.extensions.as_slice();
        let tbs_len = tbs.len();
        if tbs_len >= 1 << 24 || ext.len() > u16::MAX as usize {
            reasons.push("the certificate is too large for an SCT".into());
            continue;
        }
        // RFC 6962, section 3.2: the digitally-signed struct for a precert entry.
        let mut signed = Vec::with_capacity(tbs_len + 64);
        signed.push(0); // version v1
        signed.push(0); // signature_type certificate_timestamp
        signed.extend_from_slice(&sct.timestamp.to_be_bytes());
        signed.extend_from_slice(&1u16.to_be_bytes()); // entry_type precert_entry
        signed.extend_from_slice(&issuer_key_hash.0);
        signed.extend_from_slice(&(tbs_len as u32).to_be_bytes()[1..]);
        signed.extend_from_slice(&tbs);
        signed.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        signed.extend_from_slice(ext);
        let ts = i64::try_from(sct.timestamp / 1000).unwrap_or(i64::MAX);
        if !log.valid_for.contains(ts) {
            reasons.push(format!(
                "SCT from CT log {} at {ts}, outside the time the trusted root allows its key",
                log.base_url
            ));
            continue;
        }
        if log.key.verify(&signed, sct.signature.signature.as_slice()) {
            verified.push(log_id);
            continue;
        }
        reasons.push(format!(
            "the SCT from CT log {} does not verify over this certificate",
            log.base_url
        ));
    }
    if reasons.is_empty()
        && let Some(first) = verified.into_iter().next()
    {
        return Ok(first);
    }
    Err(KeylessError::Sct(reasons.join("; ")))
}
