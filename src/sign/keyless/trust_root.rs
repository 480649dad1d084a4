//! The Sigstore trusted root (`trusted_root.json`, media type
//! `application/vnd.dev.sigstore.trustedroot+json;version=0.1` or v0.2):
//! the Fulcio CAs, Rekor logs and CT logs a keyless bundle must chain to,
//! each with the time range it may be used for.
//!
//! Three sources: the public-good root embedded in mlprov (the one the
//! Python `sigstore` 4.5.1 ships), a TUF refresh from the public-good TUF
//! repository (through the `sigstore` crate, only on request), or a file
//! (`--trusted-root`) for private deployments and air-gapped machines.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sigstore_protobuf_specs::dev::sigstore::common::v1::TimeRange;
use sigstore_protobuf_specs::dev::sigstore::trustroot::v1 as pb;

use crate::sign::keys::PublicKey;
use crate::sign::x509::Cert;

/// The public-good trusted root, embedded.
const PUBLIC_GOOD: &[u8] = include_bytes!("public-good-trusted_root.json");

const MEDIA_TYPES: [&str; 3] = [
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.1+json",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
];

/// A validity window in Unix seconds; `None` bounds are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Window {
    fn from_pb(r: Option<&TimeRange>) -> Self {
        Self {
            start: r.and_then(|r| r.start.as_ref()).map(|t| t.seconds),
            end: r.and_then(|r| r.end.as_ref()).map(|t| t.seconds),
        }
    }

    pub fn contains(&self, t: i64) -> bool {
        self.start.is_none_or(|s| s <= t) && self.end.is_none_or(|e| t <= e)
    }
}

/// A certificate authority (Fulcio): its chain, intermediates first and the
/// root last.
#[derive(Debug, Clone)]
pub struct CertificateAuthority {
    pub uri: String,
    pub chain: Vec<Cert>,
    pub valid_for: Window,
}

/// A transparency log (Rekor) or certificate transparency log.
#[derive(Debug, Clone)]
pub struct Log {
    pub base_url: String,
    /// The log ID: SHA-256 of the log's DER public key.
    pub log_id: Vec<u8>,
    pub key: PublicKey,
    /// When the key may be used.
    pub valid_for: Window,
}

impl Log {
    pub fn log_id_hex(&self) -> String {
        hex::encode(&self.log_id)
    }
}

/// A parsed trusted root.
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    /// Where it came from, for reports: `embedded public-good root`, a path.
    pub source: String,
    pub cas: Vec<CertificateAuthority>,
    pub tlogs: Vec<Log>,
    pub ctlogs: Vec<Log>,
    /// RFC 3161 timestamp authorities: each chain is the signing
    /// certificate first, the root last.
    pub timestamp_authorities: Vec<CertificateAuthority>,
    /// Entries that could not be used (an unsupported key type…), for notes.
    pub skipped: Vec<String>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TrustRootError {
    #[error("cannot read the trusted root {path}: {source}")]
    #[diagnostic(code("mlprov::keyless::trusted-root-io"))]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{source_name}: not a Sigstore trusted root: {reason}")]
    #[diagnostic(
        code("mlprov::keyless::trusted-root"),
        help(
            "pass a trusted_root.json (media type application/vnd.dev.sigstore.trustedroot+json), e.g. from `cosign trusted-root create` or the Sigstore TUF repository"
        )
    )]
    Malformed { source_name: String, reason: String },
    #[error("refreshing the Sigstore trusted root over TUF failed: {0}")]
    #[diagnostic(
        code(mlprov::keyless::tuf),
        help(
            "check the network, or pass --trusted-root FILE with a trusted_root.json obtained out of band"
        )
    )]
    Tuf(String),
}

impl TrustedRoot {
    /// The public-good root embedded in mlprov.
    pub fn public_good() -> Result<Self, TrustRootError> {
        Self::from_json(PUBLIC_GOOD, "embedded public-good trusted root")
    }

    pub fn load(path: &Path) -> Result<Self, TrustRootError> {
        let bytes = std::fs::read(path).map_err(|source| TrustRootError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&bytes, &path.display().to_string())
    }

    /// Parse `trusted_root.json`. Entries mlprov cannot use (a key of an
    /// unsupported type) are left out and listed in `skipped`; a malformed
    /// document is an error.
    pub fn from_json(bytes: &[u8], source: &str) -> Result<Self, TrustRootError> {
        let bad = |reason: String| TrustRootError::Malformed {
            source_name: source.to_string(),
            reason,
        };
        let raw: pb::TrustedRoot = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if !MEDIA_TYPES.contains(&raw.media_type.as_str()) {
            return Err(bad(format!("unknown mediaType `{}`", raw.media_type)));
        }
        let mut skipped = Vec::new();
        let authorities = |list: &[pb::CertificateAuthority],
                           what: &str|
         -> Result<Vec<CertificateAuthority>, TrustRootError> {
            let mut out = Vec::new();
            for (i, ca) in list.iter().enumerate() {
                let mut chain = Vec::new();
                for c in ca.cert_chain.iter().flat_map(|c| c.certificates.iter()) {
                    chain.push(
                        Cert::from_der(&c.raw_bytes)
                            .map_err(|e| bad(format!("{what}[{i}]: {e}")))?,
                    );
                }
                if chain.is_empty() {
                    return Err(bad(format!("{what}[{i}] has no certificates")));
                }
                out.push(CertificateAuthority {
                    uri: ca.uri.clone(),
                    chain,
                    valid_for: Window::from_pb(ca.valid_for.as_ref()),
                });
            }
            Ok(out)
        };
        let cas = authorities(&raw.certificate_authorities, "certificateAuthorities")?;
        let timestamp_authorities =
            authorities(&raw.timestamp_authorities, "timestampAuthorities")?;
        let logs = |list: &[pb::TransparencyLogInstance],
                    what: &str,
                    skipped: &mut Vec<String>|
         -> Result<Vec<Log>, TrustRootError> {
            let mut out = Vec::new();
            for (i, l) in list.iter().enumerate() {
                let Some(pk) = &l.public_key else {
                    return Err(bad(format!("{what}[{i}] has no publicKey")));
                };
                let Some(raw_key) = pk.raw_bytes.as_deref() else {
                    return Err(bad(format!("{what}[{i}] has no publicKey.rawBytes")));
                };
                let log_id = l
                    .log_id
                    .as_ref()
                    .map(|id| id.key_id.clone())
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| bad(format!("{what}[{i}] has no logId")))?;
                match PublicKey::from_spki_der(raw_key, &l.base_url) {
                    Ok(key) => out.push(Log {
                        base_url: l.base_url.clone(),
                        log_id,
                        key,
                        valid_for: Window::from_pb(pk.valid_for.as_ref()),
                    }),
                    Err(e) => skipped.push(format!("{what} {}: {e}", l.base_url)),
                }
            }
            Ok(out)
        };
        let tlogs = logs(&raw.tlogs, "tlogs", &mut skipped)?;
        let ctlogs = logs(&raw.ctlogs, "ctlogs", &mut skipped)?;
        if cas.is_empty() {
            return Err(bad("it lists no certificate authority".into()));
        }
        if tlogs.is_empty() {
            return Err(bad("it lists no usable transparency log".into()));
        }
        Ok(Self {
            source: source.to_string(),
            cas,
            tlogs,
            ctlogs,
            timestamp_authorities,
            skipped,
        })
    }

    /// Fetch the current public-good trusted root over TUF (the `sigstore`
    /// crate checks the TUF metadata from its embedded TUF root) and keep
    /// the verified `trusted_root.json` in `dir`.
    pub fn refresh_tuf(dir: &Path) -> Result<Self, TrustRootError> {
        std::fs::create_dir_all(dir).map_err(|source| TrustRootError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TrustRootError::Tuf(e.to_string()))?;
        rt.block_on(sigstore::trust::sigstore::SigstoreTrustRoot::new(Some(dir)))
            .map_err(|e| TrustRootError::Tuf(e.to_string()))?;
        let path = dir.join("trusted_root.json");
        let mut root = Self::load(&path)?;
        root.source = format!("{} (TUF-verified)", path.display());
        Ok(root)
    }

    /// The transparency log with this log ID.
    pub fn tlog(&self, log_id: &[u8]) -> Option<&Log> {
        self.tlogs.iter().find(|l| l.log_id == log_id)
    }

    /// The CT log with this log ID.
    pub fn ctlog(&self, log_id: &[u8]) -> Option<&Log> {
        self.ctlogs.iter().find(|l| l.log_id == log_id)
    }

    /// A short description for notes: `embedded public-good trusted root (2 CAs, 2 logs, 2 CT logs)`.
    pub fn describe(&self) -> String {
        format!(
            "{} ({} CA(s), {} log(s), {} CT log(s))",
            self.source,
            self.cas.len(),
            self.tlogs.len(),
            self.ctlogs.len()
        )
    }
}

/// Base64 for trusted-root and bundle byte fields.
pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_public_good_root_parses() {
        let r = TrustedRoot::public_good().unwrap();
        assert_eq!(r.cas.len(), 2);
        assert!(
            r.tlogs
                .iter()
                .any(|l| l.base_url == "https://rekor.sigstore.dev")
        );
        let rekor = r
            .tlog(
                &B64.decode("wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=")
                    .unwrap(),
            )
            .unwrap();
        // The log ID is the SHA-256 of the log's key.
        assert_eq!(
            crate::digest::Sha256Digest::of(rekor.key.spki_der())
                .0
                .to_vec(),
            rekor.log_id
        );
        assert!(!r.ctlogs.is_empty());
        assert!(r.cas[0].valid_for.end.is_some());
        assert!(r.cas[1].valid_for.contains(1_760_062_340));
        assert_eq!(r.timestamp_authorities.len(), 1);
        assert_eq!(r.timestamp_authorities[0].chain.len(), 2);
    }

    #[test]
    fn malformed_roots_are_errors() {
        assert!(TrustedRoot::from_json(b"{}", "x").is_err());
        assert!(TrustedRoot::from_json(b"not json", "x").is_err());
        let mut v: serde_json::Value = serde_json::from_slice(PUBLIC_GOOD).unwrap();
        v["mediaType"] = "application/json".into();
        let err = TrustedRoot::from_json(&serde_json::to_vec(&v).unwrap(), "x").unwrap_err();
        assert!(err.to_string().contains("mediaType"), "{err}");
        v["mediaType"] = MEDIA_TYPES[0].into();
        v["tlogs"] = serde_json::json!([]);
        assert!(TrustedRoot::from_json(&serde_json::to_vec(&v).unwrap(), "x").is_err());
    }
}
