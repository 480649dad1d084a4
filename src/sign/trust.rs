//! The trust vocabulary: what a verifier trusts ([`Trust`], [`IdentityRule`])
//! and who a verification proved signed a bundle ([`Signer`] and its proofs).
//!
//! It sits below both the wire format's users and the verifiers
//! (`sign::verify`, `sign::keyless::verify`), and imports neither.
//! [`Signer`] serializes to the documented JSON that the verify report and
//! the Rego input carry (`signer` / `signers[]`).

use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::sign::keyless::trust_root::TrustedRoot;
use crate::sign::keys::PublicKey;
use crate::sign::x509::Cert;

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
    /// Key-signed bundles' transparency log entries are checked against its
    /// Rekor logs too.
    pub sigstore: Option<Arc<TrustedRoot>>,
    /// Key-signed bundles must carry a verified transparency log entry
    /// (`verify --require-tlog`). Keyless bundles always must.
    pub require_tlog: bool,
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
        /// The transparency log entry that verified, when the bundle has one.
        tlog: Option<TlogProof>,
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
    /// log's integrated time that its signed entry timestamp proved.
    pub checked_at: i64,
    pub time_source: TimeSource,
    /// The RFC 3161 timestamps that verified.
    pub timestamps: Vec<TimestampProof>,
}

/// An RFC 3161 timestamp that verified against a timestamp authority of
/// the trusted root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampProof {
    /// The authority's URI from the trusted root.
    pub authority: String,
    /// The stamped time (Unix seconds).
    pub time: i64,
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
    /// An RFC 3161 timestamp from a timestamp authority.
    TimestampAuthority,
    /// No trusted timestamp: the current time.
    VerificationTime,
}

impl TimeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeSource::SignedEntryTimestamp => "signed-entry-timestamp",
            TimeSource::TimestampAuthority => "timestamp-authority",
            TimeSource::VerificationTime => "verification-time",
        }
    }
}

/// Format Unix seconds as RFC 3339 (`2025-10-10T02:12:19Z`).
pub fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| t.to_string())
}

impl TlogProof {
    fn to_json(&self) -> Value {
        json!({
            "url": self.log_url,
            "logId": self.log_id,
            "logIndex": self.log_index,
            "treeSize": self.tree_size,
            "integratedTime": self.integrated_time,
            "inclusionProof": true,
            "signedEntryTimestamp": self.integrated_time.is_some(),
        })
    }
}

impl Signer {
    /// One line for people: `key cosign.pub (ECDSA P-256)`.
    pub fn describe(&self) -> String {
        match self {
            Signer::Key {
                label,
                algorithm,
                tlog,
                ..
            } => match tlog {
                None => format!("key {label} ({algorithm})"),
                Some(t) => format!(
                    "key {label} ({algorithm}), logged in {} at index {}",
                    t.log_url, t.log_index
                ),
            },
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

    /// The documented JSON form (the verify report's `signer`, the Rego
    /// input's `signers[]`).
    pub fn to_json(&self) -> Value {
        match self {
            Signer::Key {
                label,
                algorithm,
                fingerprint,
                tlog,
            } => {
                let mut v = json!({"kind": "key", "key": label, "algorithm": algorithm, "fingerprint": fingerprint});
                if let (Some(t), Some(o)) = (tlog, v.as_object_mut()) {
                    o.insert("tlog".into(), t.to_json());
                }
                v
            }
            Signer::Certificate {
                subject,
                path,
                fingerprint,
            } => {
                json!({"kind": "certificate", "subject": subject, "chain": path, "fingerprint": fingerprint})
            }
            Signer::Keyless {
                identity,
                issuer,
                fingerprint,
                proof,
            } => json!({
                "kind": "keyless",
                "identity": identity,
                "issuer": issuer,
                "fingerprint": fingerprint,
                "chain": proof.chain,
                "sctLog": proof.sct_log,
                "tlog": proof.tlog.to_json(),
                "checkedAt": rfc3339(proof.checked_at),
                "timeSource": proof.time_source.as_str(),
                "timestamps": proof.timestamps.iter().map(|t| json!({
                    "authority": t.authority,
                    "time": rfc3339(t.time),
                })).collect::<Vec<_>>(),
            }),
        }
    }
}

impl Serialize for Signer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signer_json_shapes() {
        let key = Signer::Key {
            label: "cosign.pub".into(),
            algorithm: "ECDSA P-256".into(),
            fingerprint: "sha256:ab".into(),
            tlog: None,
        };
        assert_eq!(
            serde_json::to_value(&key).unwrap(),
            json!({"kind": "key", "key": "cosign.pub", "algorithm": "ECDSA P-256", "fingerprint": "sha256:ab"})
        );
        let tlog = TlogProof {
            log_url: "https://rekor.example".into(),
            log_id: "00".into(),
            log_index: 5,
            tree_size: 6,
            integrated_time: Some(1_700_000_000),
        };
        let logged = Signer::Key {
            label: "cosign.pub".into(),
            algorithm: "ECDSA P-256".into(),
            fingerprint: "sha256:ab".into(),
            tlog: Some(tlog.clone()),
        };
        let v = serde_json::to_value(&logged).unwrap();
        assert_eq!(v["tlog"]["logIndex"], 5);
        assert_eq!(v["tlog"]["signedEntryTimestamp"], true);
        assert!(
            logged
                .describe()
                .contains("logged in https://rekor.example")
        );
        let keyless = Signer::Keyless {
            identity: "a@b".into(),
            issuer: "https://i".into(),
            fingerprint: "sha256:cd".into(),
            proof: KeylessProof {
                chain: vec!["x".into()],
                sct_log: "ff".into(),
                tlog,
                checked_at: 1_700_000_000,
                time_source: TimeSource::SignedEntryTimestamp,
                timestamps: vec![TimestampProof {
                    authority: "https://tsa.example".into(),
                    time: 1_700_000_000,
                }],
            },
        };
        let v = serde_json::to_value(&keyless).unwrap();
        assert_eq!(v["checkedAt"], "2023-11-14T22:13:20Z");
        assert_eq!(v["timeSource"], "signed-entry-timestamp");
        assert_eq!(v["tlog"]["treeSize"], 6);
        assert_eq!(v["timestamps"][0]["time"], "2023-11-14T22:13:20Z");
    }
}
