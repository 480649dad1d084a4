//! RFC 3161 signed timestamps in a bundle (`timestampVerificationData`),
//! checked against the trusted root's timestamp authorities as sigstore-js
//! and sigstore-python check them:
//!
//! - the response was granted and holds a CMS SignedData with one signer
//!   over a TSTInfo;
//! - the TSTInfo's message imprint is the hash of the bundle's signature;
//! - the signed attributes name the TSTInfo content type and its digest, and
//!   the signature over them verifies with the key of a timestamp
//!   authority's signing certificate that the signer identifier names;
//! - that certificate may stamp time (extended key usage timeStamping),
//!   chains to the authority's root, and the authority was valid at the
//!   stamped time.
//!
//! The CMS structures are read with `der` directly: the `cms` crate that
//! matches this tree's `der` 0.8 exists only as a release candidate.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ECDSA_WITH_SHA_512, ID_EC_PUBLIC_KEY, ID_SHA_256,
    ID_SHA_384, ID_SHA_512,
};
use sha2::Digest as _;
use x509_cert::der::asn1::{GeneralizedTime, OctetString};
use x509_cert::der::{Any, Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
use x509_cert::ext::pkix::ExtendedKeyUsage;

use super::KeylessError;
use super::trust_root::TrustedRoot;
use crate::sign::trust::{TimestampProof, rfc3339};
use crate::sign::x509::{self, Cert};

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

fn bad(m: impl std::fmt::Display) -> KeylessError {
    KeylessError::Timestamp(format!("the RFC 3161 timestamp {m}"))
}

fn der_err(what: &str) -> impl Fn(x509_cert::der::Error) -> KeylessError + '_ {
    move |e| bad(format!("is malformed ({what}: {e})"))
}

/// The elements of a constructed value's contents.
fn items(content: &[u8]) -> Result<Vec<Any>, x509_cert::der::Error> {
    let mut r = SliceReader::new(content)?;
    let mut out = Vec::new();
    while !r.is_finished() {
        out.push(Any::decode(&mut r)?);
    }
    Ok(out)
}

fn context(n: u32, constructed: bool) -> Tag {
    Tag::ContextSpecific {
        constructed,
        number: TagNumber(n),
    }
}

fn hash(alg: ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    Some(match alg {
        ID_SHA_256 => sha2::Sha256::digest(data).to_vec(),
        ID_SHA_384 => sha2::Sha384::digest(data).to_vec(),
        ID_SHA_512 => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

fn oid_of_algorithm(alg: &Any) -> Result<ObjectIdentifier, KeylessError> {
    let parts = items(alg.value()).map_err(der_err("algorithm"))?;
    parts
        .first()
        .ok_or_else(|| bad("is malformed (an empty algorithm identifier)"))?
        .decode_as::<ObjectIdentifier>()
        .map_err(der_err("algorithm"))
}

/// What the token says, before any signature is checked.
struct Token {
    tst_info: Vec<u8>,
    imprint_alg: ObjectIdentifier,
    imprint: Vec<u8>,
    gen_time: i64,
    /// The signer identifier: issuer Name (DER) and serial number.
    sid_issuer: Vec<u8>,
    sid_serial: Vec<u8>,
    digest_alg: ObjectIdentifier,
    /// The signed attributes, DER-encoded as the SET OF that was signed.
    signed_attrs: Vec<u8>,
    content_type_attr: Option<ObjectIdentifier>,
    message_digest_attr: Option<Vec<u8>>,
    signature_alg: ObjectIdentifier,
    signature: Vec<u8>,
}

fn parse(resp: &[u8]) -> Result<Token, KeylessError> {
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo }
    let top: Vec<Any> = Vec::from_der(resp).map_err(der_err("TimeStampResp"))?;
    let [status, token, ..] = top.as_slice() else {
        return Err(bad("has no timeStampToken"));
    };
    let status = items(status.value()).map_err(der_err("status"))?;
    let granted = status
        .first()
        .and_then(|s| s.decode_as::<u8>().ok())
        .is_some_and(|s| s <= 1);
    if !granted {
        return Err(bad("response does not grant a timestamp"));
    }
    // ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT SignedData }
    let ci = items(token.value()).map_err(der_err("ContentInfo"))?;
    let [ct, content] = ci.as_slice() else {
        return Err(bad("is malformed (ContentInfo)"));
    };
    if ct
        .decode_as::<ObjectIdentifier>()
        .map_err(der_err("ContentInfo"))?
        != ID_SIGNED_DATA
    {
        return Err(bad("is not CMS SignedData"));
    }
    let sd_any = Any::from_der(content.value()).map_err(der_err("SignedData"))?;
    let sd = items(sd_any.value()).map_err(der_err("SignedData"))?;
    // version, digestAlgorithms, encapContentInfo, [0] certificates?, [1] crls?, signerInfos
    let (Some(encap), Some(signer_infos)) = (sd.get(2), sd.last()) else {
        return Err(bad("is malformed (SignedData)"));
    };
    let encap = items(encap.value()).map_err(der_err("encapContentInfo"))?;
    let [ect, econtent] = encap.as_slice() else {
        return Err(bad("has no TSTInfo content"));
    };
    if ect
        .decode_as::<ObjectIdentifier>()
        .map_err(der_err("eContentType"))?
        != ID_CT_TST_INFO
    {
        return Err(bad("does not carry a TSTInfo"));
    }
    let tst_info = Any::from_der(econtent.value())
        .and_then(|a| a.decode_as::<OctetString>())
        .map_err(der_err("eContent"))?
        .as_bytes()
        .to_vec();
    // TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber, genTime, … }
    let tst: Vec<Any> = Vec::from_der(&tst_info).map_err(der_err("TSTInfo"))?;
    let (Some(imprint), Some(gen_time)) = (tst.get(2), tst.get(4)) else {
        return Err(bad("is malformed (TSTInfo)"));
    };
    let imprint = items(imprint.value()).map_err(der_err("messageImprint"))?;
    let [imprint_alg, hashed] = imprint.as_slice() else {
        return Err(bad("is malformed (messageImprint)"));
    };
    let imprint_alg = oid_of_algorithm(imprint_alg)?;
    let imprint = hashed
        .decode_as::<OctetString>()
        .map_err(der_err("hashedMessage"))?
        .as_bytes()
        .to_vec();
    let gen_time = gen_time
        .decode_as::<GeneralizedTime>()
        .map_err(der_err("genTime"))?
        .to_unix_duration()
        .as_secs();
    let gen_time = i64::try_from(gen_time).map_err(|_| bad("has a genTime out of range"))?;

    if signer_infos.tag() != Tag::Set {
        return Err(bad("is malformed (signerInfos)"));
    }
    let signers = items(signer_infos.value()).map_err(der_err("signerInfos"))?;
    let [si] = signers.as_slice() else {
        return Err(bad(format!(
            "has {} signers; one is expected",
            signers.len()
        )));
    };
    // SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, [0] signedAttrs,
    //                           signatureAlgorithm, signature, [1] unsignedAttrs? }
    let si = items(si.value()).map_err(der_err("SignerInfo"))?;
    let (Some(sid), Some(digest_alg), Some(attrs)) = (si.get(1), si.get(2), si.get(3)) else {
        return Err(bad("is malformed (SignerInfo)"));
    };
    if attrs.tag() != context(0, true) {
        return Err(bad("has no signed attributes"));
    }
    let (Some(signature_alg), Some(signature)) = (si.get(4), si.get(5)) else {
        return Err(bad("is malformed (SignerInfo)"));
    };
    if sid.tag() != Tag::Sequence {
        return Err(bad(
            "names its signer by key identifier; mlprov matches issuer and serial number",
        ));
    }
    let sid = items(sid.value()).map_err(der_err("sid"))?;
    let [sid_issuer, sid_serial] = sid.as_slice() else {
        return Err(bad("is malformed (sid)"));
    };
    let signed_attrs = Any::new(Tag::Set, attrs.value())
        .and_then(|a| a.to_der())
        .map_err(der_err("signedAttrs"))?;
    let mut content_type_attr = None;
    let mut message_digest_attr = None;
    for attr in items(attrs.value()).map_err(der_err("signedAttrs"))? {
        let parts = items(attr.value()).map_err(der_err("attribute"))?;
        let [oid, values] = parts.as_slice() else {
            return Err(bad("is malformed (attribute)"));
        };
        let oid = oid
            .decode_as::<ObjectIdentifier>()
            .map_err(der_err("attribute"))?;
        let values = items(values.value()).map_err(der_err("attribute values"))?;
        let [value] = values.as_slice() else {
            continue;
        };
        if oid == ID_CONTENT_TYPE {
            content_type_attr = value.decode_as::<ObjectIdentifier>().ok();
        } else if oid == ID_MESSAGE_DIGEST {
            message_digest_attr = value
                .decode_as::<OctetString>()
                .ok()
                .map(|o| o.as_bytes().to_vec());
        }
    }
    Ok(Token {
        tst_info,
        imprint_alg,
        imprint,
        gen_time,
        sid_issuer: sid_issuer.to_der().map_err(der_err("sid"))?,
        sid_serial: {
            let v = sid_serial.value();
            let zeros = v
                .iter()
                .take_while(|b| **b == 0)
                .count()
                .min(v.len().saturating_sub(1));
            v[zeros..].to_vec()
        },
        digest_alg: oid_of_algorithm(digest_alg)?,
        signed_attrs,
        content_type_attr,
        message_digest_attr,
        signature_alg: oid_of_algorithm(signature_alg)?,
        signature: signature
            .decode_as::<OctetString>()
            .map_err(der_err("signature"))?
            .as_bytes()
            .to_vec(),
    })
}

/// Verify one DER TimeStampResp over `signature` (the bundle's signature
/// bytes) against the trusted root's timestamp authorities.
pub fn verify(
    resp: &[u8],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<TimestampProof, KeylessError> {
    let t = parse(resp)?;
    match hash(t.imprint_alg, signature) {
        Some(h) if h == t.imprint => {}
        Some(_) => {
            return Err(bad(
                "is for another signature (its message imprint is not the hash of the bundle's signature)",
            ));
        }
        None => return Err(bad(format!("uses an unsupported hash {}", t.imprint_alg))),
    }
    if t.content_type_attr != Some(ID_CT_TST_INFO) {
        return Err(bad("does not sign the TSTInfo content type"));
    }
    let digest = hash(t.digest_alg, &t.tst_info)
        .ok_or_else(|| bad(format!("uses an unsupported digest {}", t.digest_alg)))?;
    if t.message_digest_attr.as_deref() != Some(digest.as_slice()) {
        return Err(bad(
            "was altered: the signed message digest is not the TSTInfo's",
        ));
    }
    // A plain id-ecPublicKey signature algorithm takes its hash from the digest algorithm.
    let sig_alg = if t.signature_alg == ID_EC_PUBLIC_KEY {
        match t.digest_alg {
            ID_SHA_256 => ECDSA_WITH_SHA_256,
            ID_SHA_384 => ECDSA_WITH_SHA_384,
            ID_SHA_512 => ECDSA_WITH_SHA_512,
            other => return Err(bad(format!("uses an unsupported digest {other}"))),
        }
    } else {
        t.signature_alg
    };
    if root.timestamp_authorities.is_empty() {
        return Err(KeylessError::Timestamp(
            "the bundle carries an RFC 3161 timestamp, but the trusted root lists no timestamp authority to check it against".into(),
        ));
    }
    let at = u64::try_from(t.gen_time).unwrap_or(0);
    let mut reasons = Vec::new();
    for tsa in &root.timestamp_authorities {
        let Some(leaf) = tsa.chain.first() else {
            continue;
        };
        if !tsa.valid_for.contains(t.gen_time) {
            reasons.push(format!(
                "{} was not valid at {}",
                tsa.uri,
                rfc3339(t.gen_time)
            ));
            continue;
        }
        let tbs = leaf.inner().tbs_certificate();
        let issuer_der = tbs.issuer().to_der().unwrap_or_default();
        if issuer_der != t.sid_issuer || tbs.serial_number().as_bytes() != t.sid_serial.as_slice() {
            continue;
        }
        if !leaf.verifies(sig_alg, &t.signed_attrs, &t.signature) {
            reasons.push(format!(
                "the signature does not verify with {}'s key",
                tsa.uri
            ));
            continue;
        }
        let eku = leaf.extension::<ExtendedKeyUsage>().map_err(bad)?;
        if !eku.is_some_and(|e| e.0.contains(&ID_KP_TIME_STAMPING)) {
            reasons.push(format!("{}'s certificate may not stamp time", tsa.uri));
            continue;
        }
        let chain: Vec<Vec<u8>> = tsa.chain.iter().map(|c| c.der.clone()).collect();
        let anchors: Vec<Cert> = tsa.chain.last().cloned().into_iter().collect();
        if let Err(e) = x509::verify_chain_at(&chain, &anchors, Some(at)) {
            reasons.push(format!("{}: {e}", tsa.uri));
            continue;
        }
        if at < u64::try_from(leaf.not_before_unix()).unwrap_or(u64::MAX)
            || t.gen_time > leaf.not_after_unix()
        {
            reasons.push(format!(
                "{}'s certificate was not valid at {}",
                tsa.uri,
                rfc3339(t.gen_time)
            ));
            continue;
        }
        return Ok(TimestampProof {
            time: t.gen_time,
            authority: tsa.uri.clone(),
        });
    }
    Err(KeylessError::Timestamp(if reasons.is_empty() {
        "the RFC 3161 timestamp is signed by no timestamp authority of the trusted root".into()
    } else {
        format!(
            "the RFC 3161 timestamp does not verify: {}",
            reasons.join("; ")
        )
    }))
}
