//! Keyless signing and verification with Sigstore: a short-lived Fulcio
//! certificate for an OIDC identity, a Rekor transparency log entry, and a
//! Sigstore bundle v0.3 around a DSSE envelope (what `model_signing` writes
//! for `sign sigstore`, and what `cosign attest` writes).
//!
//! Verification ([`verify`]) is done here, not by the `sigstore` crate:
//! sigstore 0.15 neither checks the Merkle inclusion proof nor the signed
//! entry timestamp (it trusts the bundle's integrated time as written), and
//! keeps its SCT code private. Signing ([`sign`]) talks to Fulcio v2 and
//! Rekor v1 directly: sigstore's `SigningContext` only writes hashedrekord
//! message signatures (no DSSE), and its identity token type insists on an
//! `email` claim that GitHub Actions tokens do not have. The crate is used
//! for the trusted root's schema and TUF refresh, and for the browser flow.

pub mod cert;
pub mod client;
pub mod merkle;
pub mod oidc;
pub mod sign;
pub mod tlog;
pub mod trust_root;
pub mod tsa;
pub mod verify;

pub use trust_root::TrustedRoot;

/// The public-good Fulcio.
pub const PUBLIC_FULCIO_URL: &str = "https://fulcio.sigstore.dev";
/// The public-good Rekor.
pub const PUBLIC_REKOR_URL: &str = "https://rekor.sigstore.dev";
/// The public-good OIDC issuer for the browser flow.
pub const PUBLIC_OIDC_ISSUER: &str = "https://oauth2.sigstore.dev/auth";
/// The GitHub Actions OIDC issuer.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Why a keyless bundle did not verify. Each kind has its own finding code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeylessError {
    /// No identity is trusted, or no trusted root is available.
    #[error("{0}")]
    Untrusted(String),
    #[error("{0}")]
    IdentityMismatch(String),
    #[error("{0}")]
    IssuerMismatch(String),
    #[error("{0}")]
    SignatureInvalid(String),
    #[error("{0}")]
    Chain(String),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Validity(String),
    #[error("{0}")]
    Sct(String),
    #[error("{0}")]
    TlogMissing(String),
    #[error("{0}")]
    TlogUntrusted(String),
    #[error("{0}")]
    TlogMismatch(String),
    #[error("{0}")]
    TlogInclusion(String),
    #[error("{0}")]
    TlogSet(String),
    #[error("{0}")]
    Timestamp(String),
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Unsupported(String),
}
