//! Stable finding codes. A script or a policy can rely on a code meaning the
//! same thing in every release: codes are never reused or renumbered, only
//! added. Ranges:
//!
//! - `E01xx` integrity of the bytes against what was signed
//! - `E02xx` signatures, signers and bundle format
//! - `E03xx` required attestations
//! - `E04xx` policy (licenses, formats, scan verdicts, revocations, Rego, model card)
//! - `E06xx` the provenance graph (cycles, depth, unresolvable inputs)
//!

use serde::Serialize;

/// One kind of verification failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// A file's bytes (or the artifact's root digest) differ from what was signed.
    DigestMismatch,
    /// A file on disk is not in the signed manifest.
    ExtraFile,
    /// A file in the signed manifest is not on disk.
    MissingFile,
    /// The artifact's files could not be walked or read (I/O, refused symlink).
    UnreadableArtifact,
    /// The signed manifest contradicts itself (root digest, order, duplicates).
    ManifestInconsistent,
    /// The signed manifest uses a serialization mlprov does not verify (shards, blake3).
    UnsupportedSerialization,
    /// The signature does not verify over the statement: it was altered.
    SignatureInvalid,
    /// The signature is valid but its signer is not trusted.
    UntrustedSigner,
    /// The statement is about a different artifact.
    SubjectMismatch,
    /// The DSSE envelope does not have exactly one signature.
    SignatureCount,
    /// The file is not a Sigstore bundle (JSON, media type, missing fields).
    MalformedBundle,
    /// The payload or signature is not valid base64.
    BadEncoding,
    /// A format mlprov no longer verifies (model_signing v0.2, bundle v0.1/v0.2).
    UnsupportedLegacyFormat,
    /// The signing certificate does not chain to a trusted certificate.
    CertificateChain,
    /// A certificate in the chain may not be used this way (key usage, CA flags).
    CertificateUsage,
    /// A certificate in the chain was not valid at the signing time.
    CertificateValidity,
    /// The bundle's verification material is not supported (keyless, key type).
    UnsupportedMaterial,
    /// The envelope does not carry an in-toto statement.
    PayloadType,
    /// The payload is not a valid in-toto Statement v1.
    MalformedStatement,
    /// A keyless certificate's identity is not a trusted one.
    IdentityMismatch,
    /// A keyless certificate's identity is trusted, but from another OIDC issuer.
    IssuerMismatch,
    /// The signing certificate has no valid SCT from a trusted CT log.
    SctInvalid,
    /// A keyless bundle (or, with `--require-tlog`, a key-signed one) has no
    /// transparency log entry.
    TlogMissing,
    /// The transparency log entry is from a log the trusted root does not list.
    TlogUntrusted,
    /// The transparency log entry describes another envelope, signature or certificate.
    TlogMismatch,
    /// The inclusion proof or its signed checkpoint does not verify.
    TlogInclusion,
    /// The signed entry timestamp (SET) does not verify.
    TlogSet,
    /// An RFC 3161 timestamp in the bundle does not verify against the
    /// trusted root's timestamp authorities.
    TimestampInvalid,
    /// A required attestation (predicate type) is not proven.
    MissingAttestation,
    /// An attestation could not be fetched or read.
    UnreadableAttestation,
    /// The node's license is not in the policy's allowlist (or unknown).
    LicenseDenied,
    /// The scan (re-run on the bytes, or the verified scan attestation)
    /// fails under the policy's formats rules.
    ScanDenied,
    /// A Hugging Face dependency is not pinned to a 40-hex commit.
    UnpinnedRevision,
    /// The node's digest is on a revocation list.
    Revoked,
    /// The provenance was made by a builder the policy does not allow.
    BuilderNotAllowed,
    /// A Rego deny rule fired for the node.
    PolicyDenied,
    /// The policy cannot be enforced as written (a keyless identity this
    /// build cannot verify, a Rego evaluation error, a bad revocation list).
    PolicyUnenforceable,
    /// The model card (`README.md`) lacks a field `[policy.model-card]`
    /// requires, or cannot be read.
    ModelCardIncomplete,
    /// The provenance graph has a cycle.
    Cycle,
    /// The graph is deeper than `--max-depth`.
    MaxDepth,
    /// A dependency has no digest mlprov can look attestations up by.
    UnresolvableDependency,
    /// A dependency's location (registry, path) could not be reached.
    UnreachableDependency,
}

impl Code {
    /// Every code, in numeric order.
    pub const ALL: &'static [Code] = &[
        Code::DigestMismatch,
        Code::ExtraFile,
        Code::MissingFile,
        Code::UnreadableArtifact,
        Code::ManifestInconsistent,
        Code::UnsupportedSerialization,
        Code::SignatureInvalid,
        Code::UntrustedSigner,
        Code::SubjectMismatch,
        Code::SignatureCount,
        Code::MalformedBundle,
        Code::BadEncoding,
        Code::UnsupportedLegacyFormat,
        Code::CertificateChain,
        Code::CertificateUsage,
        Code::CertificateValidity,
        Code::UnsupportedMaterial,
        Code::PayloadType,
        Code::MalformedStatement,
        Code::IdentityMismatch,
        Code::IssuerMismatch,
        Code::SctInvalid,
        Code::TlogMissing,
        Code::TlogUntrusted,
        Code::TlogMismatch,
        Code::TlogInclusion,
        Code::TlogSet,
        Code::TimestampInvalid,
        Code::MissingAttestation,
        Code::UnreadableAttestation,
        Code::LicenseDenied,
        Code::ScanDenied,
        Code::UnpinnedRevision,
        Code::Revoked,
        Code::BuilderNotAllowed,
        Code::PolicyDenied,
        Code::PolicyUnenforceable,
        Code::ModelCardIncomplete,
        Code::Cycle,
        Code::MaxDepth,
        Code::UnresolvableDependency,
        Code::UnreachableDependency,
    ];

    /// The stable code, `E0101`.
    pub fn code(self) -> &'static str {
        match self {
            Code::DigestMismatch => "E0101",
            Code::ExtraFile => "E0102",
            Code::MissingFile => "E0103",
            Code::UnreadableArtifact => "E0104",
            Code::ManifestInconsistent => "E0105",
            Code::UnsupportedSerialization => "E0106",
            Code::SignatureInvalid => "E0201",
            Code::UntrustedSigner => "E0202",
            Code::SubjectMismatch => "E0203",
            Code::SignatureCount => "E0204",
            Code::MalformedBundle => "E0205",
            Code::BadEncoding => "E0206",
            Code::UnsupportedLegacyFormat => "E0207",
            Code::CertificateChain => "E0208",
            Code::CertificateUsage => "E0209",
            Code::CertificateValidity => "E0210",
            Code::UnsupportedMaterial => "E0211",
            Code::PayloadType => "E0212",
            Code::MalformedStatement => "E0213",
            Code::IdentityMismatch => "E0214",
            Code::IssuerMismatch => "E0215",
            Code::SctInvalid => "E0216",
            Code::TlogMissing => "E0217",
            Code::TlogUntrusted => "E0218",
            Code::TlogMismatch => "E0219",
            Code::TlogInclusion => "E0220",
            Code::TlogSet => "E0221",
            Code::TimestampInvalid => "E0222",
            Code::MissingAttestation => "E0301",
            Code::UnreadableAttestation => "E0302",
            Code::LicenseDenied => "E0401",
            Code::ScanDenied => "E0402",
            Code::UnpinnedRevision => "E0403",
            Code::Revoked => "E0404",
            Code::BuilderNotAllowed => "E0405",
            Code::PolicyDenied => "E0406",
            Code::PolicyUnenforceable => "E0407",
            Code::ModelCardIncomplete => "E0408",
            Code::Cycle => "E0601",
            Code::MaxDepth => "E0602",
            Code::UnresolvableDependency => "E0603",
            Code::UnreachableDependency => "E0604",
        }
    }

    /// The stable name, `digest-mismatch`.
    pub fn name(self) -> &'static str {
        match self {
            Code::DigestMismatch => "digest-mismatch",
            Code::ExtraFile => "extra-file",
            Code::MissingFile => "missing-file",
            Code::UnreadableArtifact => "unreadable-artifact",
            Code::ManifestInconsistent => "manifest-inconsistent",
            Code::UnsupportedSerialization => "unsupported-serialization",
            Code::SignatureInvalid => "signature-invalid",
            Code::UntrustedSigner => "untrusted-signer",
            Code::SubjectMismatch => "subject-mismatch",
            Code::SignatureCount => "signature-count",
            Code::MalformedBundle => "malformed-bundle",
            Code::BadEncoding => "bad-encoding",
            Code::UnsupportedLegacyFormat => "unsupported-legacy-format",
            Code::CertificateChain => "certificate-chain",
            Code::CertificateUsage => "certificate-usage",
            Code::CertificateValidity => "certificate-validity",
            Code::UnsupportedMaterial => "unsupported-material",
            Code::PayloadType => "payload-type",
            Code::MalformedStatement => "malformed-statement",
            Code::IdentityMismatch => "identity-mismatch",
            Code::IssuerMismatch => "issuer-mismatch",
            Code::SctInvalid => "sct-invalid",
            Code::TlogMissing => "tlog-missing",
            Code::TlogUntrusted => "tlog-untrusted",
            Code::TlogMismatch => "tlog-mismatch",
            Code::TlogInclusion => "tlog-inclusion-invalid",
            Code::TlogSet => "tlog-set-invalid",
            Code::TimestampInvalid => "timestamp-invalid",
            Code::MissingAttestation => "missing-attestation",
            Code::UnreadableAttestation => "unreadable-attestation",
            Code::LicenseDenied => "license-denied",
            Code::ScanDenied => "scan-denied",
            Code::UnpinnedRevision => "unpinned-revision",
            Code::Revoked => "revoked",
            Code::BuilderNotAllowed => "builder-not-allowed",
            Code::PolicyDenied => "policy-denied",
            Code::PolicyUnenforceable => "policy-unenforceable",
            Code::ModelCardIncomplete => "model-card-incomplete",
            Code::Cycle => "cycle",
            Code::MaxDepth => "max-depth",
            Code::UnresolvableDependency => "unresolvable-dependency",
            Code::UnreachableDependency => "unreachable-dependency",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code(), self.name())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let codes: BTreeSet<&str> = Code::ALL.iter().map(|c| c.code()).collect();
        let names: BTreeSet<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(codes.len(), Code::ALL.len(), "duplicate code");
        assert_eq!(names.len(), Code::ALL.len(), "duplicate name");
        for c in Code::ALL {
            let s = c.code();
            assert!(
                s.len() == 5 && s.starts_with('E') && s[1..].bytes().all(|b| b.is_ascii_digit())
            );
            assert!(
                c.name()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-')
            );
        }
        // ALL stays in numeric order.
        let listed: Vec<&str> = Code::ALL.iter().map(|c| c.code()).collect();
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(listed, sorted);
    }

    #[test]
    fn design_codes_are_stable() {
        // DESIGN.md names these; they must never change.
        assert_eq!(Code::DigestMismatch.code(), "E0101");
        assert_eq!(Code::ExtraFile.code(), "E0102");
        assert_eq!(Code::MissingFile.code(), "E0103");
        assert_eq!(Code::MissingAttestation.code(), "E0301");
        assert_eq!(Code::Cycle.code(), "E0601");
    }
}
