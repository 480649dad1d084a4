//! One node of the provenance graph: where its bundles come from, what is
//! gathered about it before it is judged, and the verdict's vocabulary.
//!
//! [`gather`] reads what the checks need, once per node: every bundle about
//! the node's digest (given explicitly, found in the local store, sidecar
//! files or registry referrers), each parsed once, and the node's bytes
//! when they are at hand, hashed. [`verify_bundle`] checks one bundle's
//! signature under the trust of one context of the node. Nothing here
//! prints or exits; the checks ([`super::checks`]) turn what was gathered
//! into findings with stable [`Code`]s.
//!
//! Bundles given explicitly (the model's `model.sig`, `--bundle FILE`)
//! must all verify and be about the node. A bundle found by digest whose
//! signer is not trusted for the node is ignored: it proves nothing and
//! fails nothing, because a shared store or a registry holds attestations
//! from many signers (and anyone who may push can add some).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::digest::{FileSet, SetOptions, Sha256Digest};
use crate::intoto::{PREDICATE_OMS, Statement};
use crate::reporter::Reporter;
use crate::sign::bundle::{self, Bundle, BundleError};
use crate::sign::keyless::KeylessError;
use crate::sign::oms::{self, SignedManifest};
use crate::sign::trust::{Signer, Trust};
use crate::sign::x509::ChainError;
use crate::store::Store;
use crate::verify::code::Code;

/// A bundle's bytes and where they came from (a path, for reports).
#[derive(Debug, Clone)]
pub struct RawBundle {
    pub source: String,
    pub bytes: Vec<u8>,
}

impl RawBundle {
    pub fn read(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            source: path.display().to_string(),
            bytes: crate::fsutil::read_bounded(path, crate::limits::Limit::BundleBytes)?,
        })
    }
}

/// Finds the bundles about a digest.
pub trait BundleLookup {
    /// Every bundle that may be about `digest`. An error means bundles could
    /// not be listed or read (the node then fails).
    fn bundles_for(&self, digest: &Sha256Digest) -> Result<Vec<RawBundle>, String>;
}

impl BundleLookup for Store {
    fn bundles_for(&self, digest: &Sha256Digest) -> Result<Vec<RawBundle>, String> {
        let listed = self
            .list(digest)
            .map_err(|e| format!("local store {}: {e}", self.root().display()))?;
        listed
            .iter()
            .map(|b| RawBundle::read(&b.path).map_err(|e| format!("{}: {e}", b.path.display())))
            .collect()
    }
}

/// `*.sigstore.json` files in a directory (a project's `target/mlprov/`)
/// whose statement names the digest. A file that cannot be parsed is
/// returned too, so it fails the node rather than being ignored.
pub struct SidecarDir(pub PathBuf);

impl BundleLookup for SidecarDir {
    fn bundles_for(&self, digest: &Sha256Digest) -> Result<Vec<RawBundle>, String> {
        let rd = match std::fs::read_dir(&self.0) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("{}: {e}", self.0.display())),
        };
        let mut paths: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".sigstore.json"))
            })
            .collect();
        paths.sort();
        let mut out = Vec::new();
        for p in paths {
            let raw = RawBundle::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let about = match bundle::parse(&raw.bytes) {
                Ok(b) => mentions(&b.statement, digest),
                Err(_) => true,
            };
            if about {
                out.push(raw);
            }
        }
        Ok(out)
    }
}

/// Several lookups, in order.
pub struct Lookups<'a>(pub Vec<&'a dyn BundleLookup>);

impl BundleLookup for Lookups<'_> {
    fn bundles_for(&self, digest: &Sha256Digest) -> Result<Vec<RawBundle>, String> {
        let mut out = Vec::new();
        for l in &self.0 {
            out.extend(l.bundles_for(digest)?);
        }
        Ok(out)
    }
}

/// No lookups: only explicit bundles count.
pub struct NoLookup;

impl BundleLookup for NoLookup {
    fn bundles_for(&self, _: &Sha256Digest) -> Result<Vec<RawBundle>, String> {
        Ok(Vec::new())
    }
}

fn mentions(st: &Statement, digest: &Sha256Digest) -> bool {
    st.subject
        .iter()
        .any(|s| s.sha256_digest() == Some(*digest))
}

/// The node's bytes, when they are at hand.
#[derive(Debug, Clone)]
pub struct LocalBytes {
    pub path: PathBuf,
    /// Which files make the artifact; the signed manifest's own ignore list
    /// is added. Never read through the hash cache.
    pub settings: SetOptions,
}

/// The outcome of one bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Verified,
    Failed(Code),
    /// Found by digest but signed by someone not trusted for the node: it
    /// proves nothing and fails nothing. The reason says who signed it.
    Ignored(String),
}

/// One bundle considered for the node.
#[derive(Debug, Clone)]
pub struct Attestation {
    pub source: String,
    pub bundle_digest: Sha256Digest,
    pub predicate_type: Option<String>,
    pub signer: Option<Signer>,
    pub status: Status,
    /// The statement, when the bundle verified (the checks read it; the
    /// walk drops it once the node is judged).
    pub statement: Option<Statement>,
}

/// A verification failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    /// The node's digest, when known.
    pub node: Option<Sha256Digest>,
    /// The file within the artifact, for integrity findings.
    pub file: Option<String>,
    /// The bundle, for signature findings.
    pub source: Option<String>,
    pub message: String,
    /// How to provide what is missing, or the policy line that relaxes it
    /// (shown as `help:` under the finding).
    pub help: Option<String>,
}

impl Finding {
    /// A finding about node `node` with no file or bundle.
    pub fn new(code: Code, node: Option<Sha256Digest>, message: impl Into<String>) -> Self {
        Self {
            code,
            node,
            file: None,
            source: None,
            message: message.into(),
            help: None,
        }
    }

    /// The finding with a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// How the bytes were checked.
#[derive(Debug, Clone)]
pub struct FilesCheck {
    pub files: usize,
    pub bytes: u64,
    pub against: Against,
}

/// What the re-hashed bytes were compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Against {
    /// File by file, against a verified OMS manifest.
    Manifest,
    /// The root digest only, against the digest the node must have.
    Digest,
    /// Nothing proves what the bytes should be.
    Nothing,
}

/// What one context of a node proved: every bundle considered, with its
/// outcome, and the predicate types required and proven.
#[derive(Debug, Clone)]
pub struct NodeVerdict {
    pub name: Option<String>,
    pub digest: Option<Sha256Digest>,
    pub path: Option<PathBuf>,
    pub files: Option<FilesCheck>,
    pub attestations: Vec<Attestation>,
    /// Predicate types proven by a trusted, valid bundle about this node.
    pub proven: BTreeSet<String>,
    pub required: Vec<String>,
}

impl NodeVerdict {
    /// Verified statements with this predicate type.
    pub fn statements(&self, predicate_type: &str) -> impl Iterator<Item = &Statement> {
        self.attestations.iter().filter_map(move |a| {
            a.statement
                .as_ref()
                .filter(|s| s.predicate_type == predicate_type)
        })
    }
}

// ---------------------------------------------------------------------------
// Gathering

/// One bundle as read for a node, parsed once.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub source: String,
    pub bundle_digest: Sha256Digest,
    /// Given explicitly: it must verify (an untrusted signer fails).
    pub explicit: bool,
    /// The parsed bundle, or why it cannot be read.
    pub parsed: Result<Bundle, (Code, String)>,
    /// The statement's sha256 subjects.
    pub subjects: Vec<Sha256Digest>,
}

impl Candidate {
    pub fn new(raw: &RawBundle, explicit: bool) -> Self {
        let parsed = bundle::parse(&raw.bytes).map_err(|e| (bundle_code(&e), e.to_string()));
        let subjects = parsed
            .as_ref()
            .map(|b| {
                b.statement
                    .subject
                    .iter()
                    .filter_map(|s| s.sha256_digest())
                    .collect()
            })
            .unwrap_or_default();
        Self {
            source: raw.source.clone(),
            bundle_digest: Sha256Digest::of(&raw.bytes),
            explicit,
            parsed,
            subjects,
        }
    }

    pub fn predicate_type(&self) -> Option<&str> {
        self.parsed
            .as_ref()
            .ok()
            .map(|b| b.statement.predicate_type.as_str())
    }
}

/// What to gather for a node.
pub struct GatherRequest<'a> {
    pub name: Option<String>,
    /// The digest the node must have; `None` for a path target, whose
    /// signed manifest (or else its bytes) says what it is.
    pub expected: Option<Sha256Digest>,
    pub bytes: Option<LocalBytes>,
    /// Bundles given explicitly.
    pub explicit: &'a [RawBundle],
    /// Bundles found outside the lookup (registry referrers).
    pub found: &'a [RawBundle],
    /// The trust that decides which explicit OMS manifest describes the
    /// bytes (the root's); empty for a dependency.
    pub trusts: &'a [(&'a str, &'a Trust)],
}

/// Everything read about a node before it is judged.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    pub name: Option<String>,
    pub digest: Option<Sha256Digest>,
    pub expected: Option<Sha256Digest>,
    pub candidates: Vec<Candidate>,
    /// The bundles could not be listed or read.
    pub lookup_error: Option<String>,
    pub bytes: Option<LocalBytes>,
    /// The bytes, hashed (or why they could not be).
    pub hashed: Option<Result<oms::HashedModel, String>>,
}

impl Gathered {
    /// Add bundles found later (another registry location of the node).
    pub fn add_found(&mut self, found: &[RawBundle]) {
        let mut seen: BTreeSet<Sha256Digest> =
            self.candidates.iter().map(|c| c.bundle_digest).collect();
        for raw in found {
            if seen.insert(Sha256Digest::of(&raw.bytes)) {
                self.candidates.push(Candidate::new(raw, false));
            }
        }
    }
}

/// Gather what the checks need about one node. See the module documentation.
pub fn gather(
    req: GatherRequest<'_>,
    lookup: &dyn BundleLookup,
    reporter: &dyn Reporter,
) -> Gathered {
    let mut g = Gathered {
        name: req.name,
        expected: req.expected,
        candidates: req
            .explicit
            .iter()
            .map(|b| Candidate::new(b, true))
            .collect(),
        ..Default::default()
    };

    // The signed manifest that describes the bytes: from an explicit,
    // trusted OMS bundle (model.sig).
    let explicit_manifest = g.candidates.iter().find_map(|c| {
        let b = c.parsed.as_ref().ok()?;
        if b.statement.predicate_type != PREDICATE_OMS || req.trusts.is_empty() {
            return None;
        }
        if !req
            .trusts
            .iter()
            .all(|(_, t)| crate::sign::verify::verify(b, t).is_ok())
        {
            return None;
        }
        oms::signed_manifest(&b.statement)
            .ok()
            .filter(|m| req.expected.is_none_or(|d| d == m.root))
    });

    // Hash the bytes, with the manifest's own ignore list.
    if let Some(bytes) = &req.bytes {
        let mut settings = bytes.settings.clone();
        if let Some(m) = &explicit_manifest {
            let allow = settings.allows_symlinks() || m.allow_symlinks;
            settings = settings
                .with_ignores(m.ignore_paths.iter().filter_map(|p| {
                    let p = p.trim_end_matches('/');
                    crate::fsutil::is_safe_relative(p).then(|| p.to_string())
                }))
                .with_symlinks(allow);
        }
        // Never through the hash cache: verification reads every byte.
        g.hashed = Some(
            FileSet::hash(&bytes.path, &settings, None, reporter)
                .map(|set| oms::hashed_model(&bytes.path, &settings, set))
                .map_err(|e| e.to_string()),
        );
    }
    g.bytes = req.bytes;

    g.digest = req
        .expected
        .or(explicit_manifest.as_ref().map(|m| m.root))
        .or(g
            .hashed
            .as_ref()
            .and_then(|h| h.as_ref().ok())
            .map(|h| h.root));
    if g.name.is_none() {
        g.name = explicit_manifest
            .as_ref()
            .map(|m| m.name.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| {
                g.hashed
                    .as_ref()
                    .and_then(|h| h.as_ref().ok())
                    .map(|h| h.name.clone())
            });
    }

    if let Some(d) = g.digest {
        match lookup.bundles_for(&d) {
            Ok(found) => g.add_found(&found),
            Err(e) => g.lookup_error = Some(e),
        }
    }
    g.add_found(req.found);
    g
}

/// The outcome of one bundle's signature under the trusts of a context.
#[derive(Debug, Clone)]
pub enum Verification {
    /// Trusted by every trust of the context.
    Trusted(Box<Signer>),
    /// Valid, but from a signer the context does not trust (or from a
    /// Sigstore instance it does not know).
    Untrusted { code: Code, reason: String },
    /// Invalid: altered, malformed, or unusable.
    Failed { code: Code, message: String },
}

/// Codes that mean "not from a signer trusted here" rather than "broken":
/// an unknown key, another keyless identity or issuer, a certificate that
/// does not chain to a trusted root, a log the trusted root does not list.
pub fn is_untrusted(code: Code) -> bool {
    matches!(
        code,
        Code::UntrustedSigner
            | Code::IdentityMismatch
            | Code::IssuerMismatch
            | Code::CertificateChain
            | Code::TlogUntrusted
    )
}

/// Check a parsed bundle against every `(label, trust)` of a context: it
/// counts only when each of them trusts its signer.
pub fn verify_bundle(b: &Bundle, trusts: &[(&str, &Trust)]) -> Verification {
    let mut signer: Option<Signer> = None;
    for (label, trust) in trusts {
        match crate::sign::verify::verify(b, trust) {
            Ok(s) => {
                signer.get_or_insert(s);
            }
            Err(e) => {
                let code = bundle_code(&e);
                if !is_untrusted(code) {
                    return Verification::Failed {
                        code,
                        message: e.to_string(),
                    };
                }
                let reason = match &signer {
                    Some(s) => format!("signed by {}, which {label} does not trust", s.describe()),
                    None if trusts.len() > 1 => format!("{e} ({label})"),
                    None => e.to_string(),
                };
                return Verification::Untrusted { code, reason };
            }
        }
    }
    match signer {
        Some(s) => Verification::Trusted(Box::new(s)),
        None => Verification::Untrusted {
            code: Code::UntrustedSigner,
            reason: "no signer is trusted for this node".into(),
        },
    }
}

/// The signed manifest of a verified OMS statement, or the finding code and
/// message when it cannot be used.
pub fn oms_manifest(st: &Statement) -> Result<SignedManifest, (Code, String)> {
    oms::signed_manifest(st).map_err(|e| {
        let code = match e {
            oms::ManifestError::Unsupported(_) => Code::UnsupportedSerialization,
            oms::ManifestError::Malformed(_) | oms::ManifestError::Inconsistent(_) => {
                Code::ManifestInconsistent
            }
        };
        (code, e.to_string())
    })
}

/// The finding code for a bundle problem.
pub fn bundle_code(e: &BundleError) -> Code {
    match e {
        BundleError::Malformed(_) => Code::MalformedBundle,
        BundleError::Legacy(_) => Code::UnsupportedLegacyFormat,
        BundleError::SignatureCount(_) => Code::SignatureCount,
        BundleError::Encoding(_) => Code::BadEncoding,
        BundleError::PayloadType(_) => Code::PayloadType,
        BundleError::Statement(_) => Code::MalformedStatement,
        BundleError::SignatureInvalid(_) => Code::SignatureInvalid,
        BundleError::Untrusted(_) => Code::UntrustedSigner,
        BundleError::Unsupported(_) => Code::UnsupportedMaterial,
        BundleError::Chain(c) => match c {
            ChainError::Malformed(_) => Code::MalformedBundle,
            ChainError::Untrusted(_) => Code::CertificateChain,
            ChainError::Usage(_) => Code::CertificateUsage,
            ChainError::Validity(_) => Code::CertificateValidity,
        },
        BundleError::Keyless(k) => match k {
            KeylessError::Untrusted(_) => Code::UntrustedSigner,
            KeylessError::IdentityMismatch(_) => Code::IdentityMismatch,
            KeylessError::IssuerMismatch(_) => Code::IssuerMismatch,
            KeylessError::SignatureInvalid(_) => Code::SignatureInvalid,
            KeylessError::Chain(_) => Code::CertificateChain,
            KeylessError::Usage(_) => Code::CertificateUsage,
            KeylessError::Validity(_) => Code::CertificateValidity,
            KeylessError::Sct(_) => Code::SctInvalid,
            KeylessError::TlogMissing(_) => Code::TlogMissing,
            KeylessError::TlogUntrusted(_) => Code::TlogUntrusted,
            KeylessError::TlogMismatch(_) => Code::TlogMismatch,
            KeylessError::TlogInclusion(_) => Code::TlogInclusion,
            KeylessError::TlogSet(_) => Code::TlogSet,
            KeylessError::Timestamp(_) => Code::TimestampInvalid,
            KeylessError::Malformed(_) => Code::MalformedBundle,
            KeylessError::Unsupported(_) => Code::UnsupportedMaterial,
        },
    }
}
