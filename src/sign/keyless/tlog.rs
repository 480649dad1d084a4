//! Transparency log (Rekor v1) entries in a bundle: their protobuf-JSON
//! form, and the checks that prove a signature was logged:
//!
//! - the entry body is a `dsse` v0.0.1 entry for exactly this envelope,
//!   signature and certificate;
//! - the inclusion proof leads from the entry to the root of a checkpoint
//!   the log signed (RFC 6962 hashing, C2SP signed note);
//! - the signed entry timestamp (SET), when present, is the log's signature
//!   over the entry and its integrated time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::json;

use super::KeylessError;
use super::merkle;
use super::trust_root::{Log, TrustedRoot};
use crate::digest::Sha256Digest;
use crate::sign::dsse;

/// A `tlogEntries[]` item of a bundle (protobuf JSON: int64 as strings,
/// bytes as base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlogEntry {
    #[serde(with = "int64")]
    pub log_index: i64,
    pub log_id: LogId,
    pub kind_version: KindVersion,
    #[serde(with = "int64", default)]
    pub integrated_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_promise: Option<InclusionPromise>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
    /// base64 of the entry body as the log canonicalized it.
    pub canonicalized_body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    pub key_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindVersion {
    pub kind: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    pub signed_entry_timestamp: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    #[serde(with = "int64")]
    pub log_index: i64,
    pub root_hash: String,
    #[serde(with = "int64")]
    pub tree_size: i64,
    #[serde(default)]
    pub hashes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub envelope: String,
}

/// int64 fields: protobuf JSON writes strings, and accepts numbers too.
mod int64 {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            S(String),
            N(i64),
        }
        match Either::deserialize(d)? {
            Either::N(n) => Ok(n),
            Either::S(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// What a verified entry proved.
#[derive(Debug, Clone)]
pub struct VerifiedEntry<'a> {
    pub log: &'a Log,
    pub log_index: i64,
    pub tree_size: i64,
    /// The integrated time, when the SET proved it.
    pub integrated_time: Option<i64>,
}

/// The parts of the bundle the entry must describe.
pub struct Signed<'a> {
    pub payload: &'a [u8],
    pub signature: &'a [u8],
    /// Who the entry must record as the verifier.
    pub verifier: LoggedVerifier<'a>,
}

/// What a `dsse` entry records as a signature's verifier (the PEM Rekor
/// canonicalized).
#[derive(Debug, Clone, Copy)]
pub enum LoggedVerifier<'a> {
    /// A signing certificate (keyless), DER.
    Certificate(&'a [u8]),
    /// A public key (key-signed bundles), DER SubjectPublicKeyInfo.
    PublicKey(&'a [u8]),
}

impl LoggedVerifier<'_> {
    fn what(&self) -> &'static str {
        match self {
            LoggedVerifier::Certificate(_) => "signing certificate",
            LoggedVerifier::PublicKey(_) => "public key",
        }
    }
}

fn b64d(s: &str, what: &str) -> Result<Vec<u8>, KeylessError> {
    dsse::decode_base64(s)
        .ok_or_else(|| KeylessError::Malformed(format!("tlog entry: {what} is not valid base64")))
}

/// PEM of a certificate with LF line endings and 64-column lines (what a
/// Rekor entry's `verifier` holds, base64-encoded).
pub fn cert_pem(der: &[u8]) -> String {
    crate::sign::keys::pem_lf("CERTIFICATE", der)
}

/// Does the entry body describe this envelope, signature and certificate?
fn check_body(body: &[u8], s: &Signed<'_>) -> Result<(), KeylessError> {
    let mismatch = |m: String| KeylessError::TlogMismatch(m);
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| mismatch(format!("the log entry body is not JSON: {e}")))?;
    let kind = v["kind"].as_str().unwrap_or_default();
    let version = v["apiVersion"].as_str().unwrap_or_default();
    if kind != "dsse" || version != "0.0.1" {
        return Err(KeylessError::Unsupported(format!(
            "the log entry is of kind `{kind}` {version}; mlprov verifies `dsse` 0.0.1 entries for DSSE bundles"
        )));
    }
    let spec = &v["spec"];
    let hash = |field: &str| -> Result<String, KeylessError> {
        let h = &spec[field];
        if h["algorithm"].as_str() != Some("sha256") {
            return Err(mismatch(format!("the log entry's {field} is not SHA-256")));
        }
        Ok(h["value"].as_str().unwrap_or_default().to_ascii_lowercase())
    };
    if hash("payloadHash")? != Sha256Digest::of(s.payload).hex() {
        return Err(mismatch(
            "the log entry is for a different payload than the bundle's (payloadHash)".into(),
        ));
    }
    // `envelopeHash` is not compared: Rekor hashes the envelope JSON as the
    // client serialized it (model_signing 1.0 and 1.1 differ in whitespace),
    // so it cannot be recomputed. The payload hash, the signature (over
    // PAE(payloadType, payload)) and the certificate bind the entry.
    let sigs = spec["signatures"].as_array().cloned().unwrap_or_default();
    if sigs.len() != 1 {
        return Err(mismatch(format!(
            "the log entry records {} signatures, the bundle one",
            sigs.len()
        )));
    }
    let logged_sig = b64d(
        sigs[0]["signature"].as_str().unwrap_or_default(),
        "signature",
    )?;
    if logged_sig != s.signature {
        return Err(mismatch(
            "the log entry records a different signature than the bundle's".into(),
        ));
    }
    let verifier = b64d(sigs[0]["verifier"].as_str().unwrap_or_default(), "verifier")?;
    let block = pem::parse(&verifier)
        .map_err(|e| mismatch(format!("the log entry's verifier is not PEM: {e}")))?;
    let same = match s.verifier {
        LoggedVerifier::Certificate(der) => block.tag() == "CERTIFICATE" && block.contents() == der,
        LoggedVerifier::PublicKey(der) => block.tag() == "PUBLIC KEY" && block.contents() == der,
    };
    if !same {
        return Err(mismatch(format!(
            "the log entry records a different {} than the bundle's",
            s.verifier.what()
        )));
    }
    Ok(())
}

/// The canonical JSON a Rekor v1 SET signs.
pub fn set_payload(body_b64: &str, integrated_time: i64, log_id: &[u8], log_index: i64) -> Vec<u8> {
    let v = json!({
        "body": body_b64,
        "integratedTime": integrated_time,
        "logID": hex::encode(log_id),
        "logIndex": log_index,
    });
    serde_json_canonicalizer::to_vec(&v).unwrap_or_default()
}

/// A parsed signed note checkpoint.
struct Note<'a> {
    /// The signed text: every line up to the blank line, with its newline.
    text: &'a str,
    /// The first line: the log's name (`rekor.sigstore.dev - 1193050959916656506`).
    origin: &'a str,
    tree_size: u64,
    root: Vec<u8>,
    /// `(name, key hint, signature)`.
    signatures: Vec<(&'a str, [u8; 4], Vec<u8>)>,
}

fn parse_note(envelope: &str) -> Result<Note<'_>, String> {
    let split = envelope
        .find("\n\n")
        .ok_or("no blank line between the text and its signatures")?;
    let text = &envelope[..split + 1];
    let mut lines = text.lines();
    let origin = lines
        .next()
        .filter(|l| !l.is_empty())
        .ok_or("no origin line")?;
    let tree_size: u64 = lines
        .next()
        .and_then(|l| l.parse().ok())
        .ok_or("no tree size line")?;
    let root = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .ok_or("no root hash line")?;
    let mut signatures = Vec::new();
    for line in envelope[split + 2..].lines().filter(|l| !l.is_empty()) {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or("a signature line does not start with an em dash")?;
        let (name, sig) = rest
            .rsplit_once(' ')
            .ok_or("a signature line has no signature")?;
        let raw = B64
            .decode(sig)
            .map_err(|_| "a note signature is not base64")?;
        if raw.len() < 5 {
            return Err("a note signature is too short".into());
        }
        let hint: [u8; 4] = [raw[0], raw[1], raw[2], raw[3]];
        signatures.push((name, hint, raw[4..].to_vec()));
    }
    Ok(Note {
        text,
        origin,
        tree_size,
        root,
        signatures,
    })
}

/// The host (and port, if any) of a log's base URL: the name Rekor v1 signs
/// its checkpoints with (`rekor_server.hostname`).
fn log_names(base_url: &str) -> Vec<String> {
    let Ok(u) = url::Url::parse(base_url) else {
        return Vec::new();
    };
    let Some(host) = u.host_str() else {
        return Vec::new();
    };
    let mut names = vec![host.to_string()];
    if let Some(port) = u.port() {
        names.push(format!("{host}:{port}"));
    }
    names
}

/// The checkpoint is the log's own: a signature line under the log's name
/// (its base URL's host, as sigstore-js requires), with the key hint of the
/// log's key (the first four bytes of its log ID, as sigstore-python
/// requires), that verifies with that key; and the origin line is that
/// name, alone or as Rekor v1 writes it, `<name> - <tree ID>`.
fn check_checkpoint_signer(note: &Note<'_>, log: &Log) -> Result<(), String> {
    let names = log_names(&log.base_url);
    let origin_ok = |name: &str| {
        note.origin == name
            || note
                .origin
                .strip_prefix(name)
                .and_then(|r| r.strip_prefix(" - "))
                .is_some_and(|tree| !tree.is_empty() && tree.bytes().all(|b| b.is_ascii_digit()))
    };
    let hint = log.log_id.get(..4).unwrap_or_default();
    let mut saw_name = false;
    for (name, key_hint, sig) in &note.signatures {
        if !names.iter().any(|n| n == name) {
            continue;
        }
        saw_name = true;
        if key_hint.as_slice() != hint || !log.key.verify(note.text.as_bytes(), sig) {
            continue;
        }
        if !origin_ok(name) {
            return Err(format!(
                "the checkpoint's origin `{}` is not the log's (`{name} - <tree ID>`)",
                note.origin
            ));
        }
        return Ok(());
    }
    Err(if saw_name {
        format!(
            "the checkpoint is not signed by the key of {} (log ID {})",
            log.base_url,
            log.log_id_hex()
        )
    } else {
        format!(
            "the checkpoint has no signature by {} (expected a signature line named {})",
            log.base_url,
            names.first().map(String::as_str).unwrap_or("(no host)")
        )
    })
}

/// Verify one tlog entry against the trusted root and the bundle.
pub fn verify_entry<'a>(
    entry: &TlogEntry,
    signed: &Signed<'_>,
    root: &'a TrustedRoot,
) -> Result<VerifiedEntry<'a>, KeylessError> {
    let log_id = b64d(&entry.log_id.key_id, "logId.keyId")?;
    let log = root.tlog(&log_id).ok_or_else(|| {
        KeylessError::TlogUntrusted(format!(
            "the signature was logged in transparency log {}, which the trusted root does not list",
            hex::encode(&log_id)
        ))
    })?;
    if entry.kind_version.kind != "dsse" || entry.kind_version.version != "0.0.1" {
        return Err(KeylessError::Unsupported(format!(
            "the log entry is of kind `{}` {}; mlprov verifies `dsse` 0.0.1 entries for DSSE bundles",
            entry.kind_version.kind, entry.kind_version.version
        )));
    }
    let body = b64d(&entry.canonicalized_body, "canonicalizedBody")?;
    check_body(&body, signed)?;

    // Inclusion: the proof, up to a checkpoint the log signed.
    let Some(proof) = &entry.inclusion_proof else {
        return Err(KeylessError::TlogInclusion(
            "the log entry has no inclusion proof".into(),
        ));
    };
    let incl = |m: String| KeylessError::TlogInclusion(m);
    let (Ok(index), Ok(size)) = (
        u64::try_from(proof.log_index),
        u64::try_from(proof.tree_size),
    ) else {
        return Err(incl(
            "the inclusion proof has a negative index or size".into(),
        ));
    };
    let hashes = proof
        .hashes
        .iter()
        .map(|h| b64d(h, "inclusionProof.hashes"))
        .collect::<Result<Vec<_>, _>>()?;
    let root_hash = b64d(&proof.root_hash, "inclusionProof.rootHash")?;
    merkle::verify_inclusion(index, size, &merkle::leaf_hash(&body), &hashes, &root_hash)
        .map_err(|e| incl(format!("the inclusion proof does not verify: {e}")))?;
    let Some(checkpoint) = &proof.checkpoint else {
        return Err(incl("the inclusion proof has no signed checkpoint".into()));
    };
    let note = parse_note(&checkpoint.envelope)
        .map_err(|e| incl(format!("the checkpoint is malformed: {e}")))?;
    if note.tree_size != size || note.root != root_hash {
        return Err(incl(format!(
            "the checkpoint (size {}, root {}) is not the tree the inclusion proof is for (size {size}, root {})",
            note.tree_size,
            hex::encode(&note.root),
            hex::encode(&root_hash)
        )));
    }
    check_checkpoint_signer(&note, log).map_err(incl)?;

    // Time: only an integrated time the log signed (SET) counts.
    let mut integrated_time = None;
    if let Some(promise) = &entry.inclusion_promise {
        let set = b64d(&promise.signed_entry_timestamp, "signedEntryTimestamp")?;
        let msg = set_payload(
            &B64.encode(&body),
            entry.integrated_time,
            &log_id,
            entry.log_index,
        );
        if entry.integrated_time <= 0 || !log.key.verify(&msg, &set) {
            return Err(KeylessError::TlogSet(format!(
                "the signed entry timestamp does not verify with the key of {} (entry {}, integrated time {})",
                log.base_url, entry.log_index, entry.integrated_time
            )));
        }
        if !log.valid_for.contains(entry.integrated_time) {
            return Err(KeylessError::TlogSet(format!(
                "the log entry's integrated time {} is outside the time the trusted root allows the key of {}",
                entry.integrated_time, log.base_url
            )));
        }
        integrated_time = Some(entry.integrated_time);
    }
    Ok(VerifiedEntry {
        log,
        log_index: entry.log_index,
        tree_size: proof.tree_size,
        integrated_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_parsing() {
        let env = "rekor.example - 1\n3\nAAAA\n\n\u{2014} rekor.example AQIDBAUG\n";
        let n = parse_note(env).unwrap();
        assert_eq!(n.text, "rekor.example - 1\n3\nAAAA\n");
        assert_eq!(n.tree_size, 3);
        assert_eq!(n.signatures.len(), 1);
        assert_eq!(n.signatures[0].1, [1, 2, 3, 4]);
        assert!(parse_note("a\n3\nAAAA\n").is_err());
        assert!(parse_note("a\nx\nAAAA\n\n\u{2014} a AQIDBAUG\n").is_err());
        assert!(parse_note("a\n3\nAAAA\n\n- a AQIDBAUG\n").is_err());
    }

    #[test]
    fn int64_fields_accept_strings_and_numbers() {
        let e: InclusionProof = serde_json::from_value(json!({
            "logIndex": "5", "rootHash": "", "treeSize": 6, "hashes": []
        }))
        .unwrap();
        assert_eq!((e.log_index, e.tree_size), (5, 6));
        let out = serde_json::to_value(&e).unwrap();
        assert_eq!(out["treeSize"], "6");
    }
}
