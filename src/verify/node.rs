//! Verifying one node of the provenance graph: an artifact identified by a
//! digest, optionally with its bytes at hand, against the bundles about it.
//!
//! [`verify_node`] is the unit the recursive graph walk calls for every
//! node. It never prints and never exits: it returns a [`NodeVerdict`] with
//! what was proven and a finding (stable [`Code`]) for everything that was
//! not. It fails closed: a bundle that cannot be read or parsed is a
//! finding, never a skip.
//!
//! Bundles come from two places. Bundles given explicitly (the model's
//! `model.sig`, `--bundle FILE`) must all verify and be about the node.
//! Bundles found by digest (the local store, sidecar files) must verify;
//! one whose signer is simply not trusted here is skipped (recorded, not a
//! failure), because a shared store holds attestations from many signers.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::digest::{FileEntry, FileSet, SetOptions, Sha256Digest};
use crate::intoto::{PREDICATE_OMS, Statement};
use crate::reporter::Reporter;
use crate::sign::bundle::{self, BundleError};
use crate::sign::keyless::KeylessError;
use crate::sign::oms::{self, FileDiff, ManifestError, SignedManifest};
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
            bytes: crate::fsutil::read_bounded(
                path,
                crate::registry::MAX_BUNDLE_BYTES,
                "MAX_BUNDLE_BYTES",
            )?,
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

/// What to verify.
pub struct NodeRequest<'a> {
    /// A name for reports (the input name, the artifact name).
    pub name: Option<String>,
    /// The digest the node must have (from a parent's provenance, or a
    /// digest target). `None` for a path target: the signed manifest, or
    /// else the bytes, say what it is.
    pub expected: Option<Sha256Digest>,
    pub bytes: Option<LocalBytes>,
    /// The files a registry manifest lists for the node (its layers' paths,
    /// sizes and digests), when its bytes are not at hand: compared with
    /// the signed file list as the bytes would be, so a layer renamed in the
    /// registry fails as it fails `pull`.
    pub listed: Option<Vec<FileEntry>>,
    /// Bundles given explicitly.
    pub bundles: Vec<RawBundle>,
    /// Predicate types that must be proven by a trusted, valid bundle.
    pub require: Vec<String>,
    pub trust: &'a Trust,
}

/// The outcome of one bundle.
#[derive(Debug, Clone)]
pub enum Status {
    Verified,
    Failed(Code),
    /// Found by digest but signed by someone not trusted here.
    Skipped(String),
}

/// One bundle considered for the node.
#[derive(Debug, Clone)]
pub struct Attestation {
    pub source: String,
    pub bundle_digest: Sha256Digest,
    pub predicate_type: Option<String>,
    pub signer: Option<Signer>,
    pub status: Status,
    /// The statement, when the bundle verified (the graph walk reads
    /// provenance from here).
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

/// The verdict for one node.
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
    pub findings: Vec<Finding>,
}

impl NodeVerdict {
    /// Everything required is proven and nothing failed.
    pub fn verified(&self) -> bool {
        self.digest.is_some() && self.findings.is_empty()
    }

    /// Verified statements with this predicate type.
    pub fn statements(&self, predicate_type: &str) -> impl Iterator<Item = &Statement> {
        self.attestations.iter().filter_map(move |a| {
            a.statement
                .as_ref()
                .filter(|s| s.predicate_type == predicate_type)
        })
    }
}

struct Evaluated {
    att: Attestation,
    manifest: Option<SignedManifest>,
    /// Subjects' sha256 digests (from the parsed statement).
    subjects: Vec<Sha256Digest>,
    failure: Option<(Code, String)>,
}

fn evaluate(raw: &RawBundle, trust: &Trust, explicit: bool) -> Evaluated {
    let mut att = Attestation {
        source: raw.source.clone(),
        bundle_digest: Sha256Digest::of(&raw.bytes),
        predicate_type: None,
        signer: None,
        status: Status::Verified,
        statement: None,
    };
    let parsed = match bundle::parse(&raw.bytes) {
        Ok(b) => b,
        Err(e) => {
            let code = bundle_code(&e);
            att.status = Status::Failed(code);
            return Evaluated {
                att,
                manifest: None,
                subjects: Vec::new(),
                failure: Some((code, e.to_string())),
            };
        }
    };
    att.predicate_type = Some(parsed.statement.predicate_type.clone());
    let subjects = parsed
        .statement
        .subject
        .iter()
        .filter_map(|s| s.sha256_digest())
        .collect();
    match crate::sign::verify::verify(&parsed, trust) {
        Ok(signer) => att.signer = Some(signer),
        Err(e) => {
            let code = bundle_code(&e);
            // A bundle found by digest from a signer not trusted here (an
            // untrusted key, another keyless identity) is someone else's.
            let not_ours = matches!(
                code,
                Code::UntrustedSigner | Code::IdentityMismatch | Code::IssuerMismatch
            );
            att.status = if !explicit && not_ours {
                Status::Skipped(e.to_string())
            } else {
                Status::Failed(code)
            };
            let failure = matches!(att.status, Status::Failed(_)).then(|| (code, e.to_string()));
            return Evaluated {
                att,
                manifest: None,
                subjects,
                failure,
            };
        }
    }
    let mut manifest = None;
    if parsed.statement.predicate_type == PREDICATE_OMS {
        match oms::signed_manifest(&parsed.statement) {
            Ok(m) => manifest = Some(m),
            Err(e) => {
                let code = match e {
                    ManifestError::Unsupported(_) => Code::UnsupportedSerialization,
                    ManifestError::Malformed(_) | ManifestError::Inconsistent(_) => {
                        Code::ManifestInconsistent
                    }
                };
                att.status = Status::Failed(code);
                return Evaluated {
                    att,
                    manifest: None,
                    subjects,
                    failure: Some((code, e.to_string())),
                };
            }
        }
    }
    att.statement = Some(parsed.statement);
    Evaluated {
        att,
        manifest,
        subjects,
        failure: None,
    }
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

/// Verify one node. See the module documentation.
pub fn verify_node(
    req: NodeRequest<'_>,
    lookup: &dyn BundleLookup,
    reporter: &dyn Reporter,
) -> NodeVerdict {
    let mut findings: Vec<Finding> = Vec::new();
    let mut evaluated: Vec<Evaluated> = req
        .bundles
        .iter()
        .map(|b| evaluate(b, req.trust, true))
        .collect();

    // The signed manifest that describes the bytes: from an explicit,
    // verified OMS bundle (model.sig).
    let explicit_manifest = evaluated.iter().find_map(|e| {
        e.manifest
            .clone()
            .filter(|m| req.expected.is_none_or(|d| d == m.root))
    });

    // Hash the bytes, with the manifest's own ignore list.
    let mut hashed: Option<oms::HashedModel> = None;
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
        match FileSet::hash(&bytes.path, &settings, None, reporter) {
            Ok(set) => hashed = Some(oms::hashed_model(&bytes.path, &settings, set)),
            Err(e) => findings.push(Finding {
                code: Code::UnreadableArtifact,
                node: None,
                file: None,
                source: None,
                message: e.to_string(),
            }),
        }
    }

    let digest = req
        .expected
        .or(explicit_manifest.as_ref().map(|m| m.root))
        .or(hashed.as_ref().map(|h| h.root));

    if let Some(d) = digest {
        match lookup.bundles_for(&d) {
            Ok(found) => {
                let mut seen: BTreeSet<Sha256Digest> =
                    evaluated.iter().map(|e| e.att.bundle_digest).collect();
                for raw in found {
                    if seen.insert(Sha256Digest::of(&raw.bytes)) {
                        evaluated.push(evaluate(&raw, req.trust, false));
                    }
                }
            }
            Err(e) => findings.push(Finding {
                code: Code::UnreadableAttestation,
                node: Some(d),
                file: None,
                source: None,
                message: format!("cannot read attestations: {e}"),
            }),
        }
    }

    // Bundle failures, then subjects.
    for e in &mut evaluated {
        if let Some((code, message)) = e.failure.take() {
            findings.push(Finding {
                code,
                node: digest,
                file: None,
                source: Some(e.att.source.clone()),
                message,
            });
            continue;
        }
        // A bundle found under this digest but about something else is a
        // failure whoever signed it: it was filed or attached under the
        // wrong artifact (re-labelled).
        let skipped = matches!(e.att.status, Status::Skipped(_));
        if !matches!(e.att.status, Status::Verified) && !skipped {
            continue;
        }
        let Some(d) = digest else { continue };
        let about = match &e.manifest {
            Some(m) => m.root == d,
            None => e.subjects.contains(&d),
        };
        if !about {
            let listed: Vec<String> = e.subjects.iter().map(|s| s.prefixed()).collect();
            findings.push(Finding {
                code: Code::SubjectMismatch,
                node: Some(d),
                file: None,
                source: Some(e.att.source.clone()),
                message: format!(
                    "the statement is about {}, not this artifact ({})",
                    if listed.is_empty() {
                        "no sha256 subject".to_string()
                    } else {
                        listed.join(", ")
                    },
                    d.prefixed()
                ),
            });
            e.att.status = Status::Failed(Code::SubjectMismatch);
            e.att.statement = None;
            e.manifest = None;
        }
    }

    // The bytes against the signed manifest (or at least the digest).
    let manifest = evaluated.iter().find_map(|e| {
        e.manifest
            .as_ref()
            .filter(|m| matches!(e.att.status, Status::Verified) && Some(m.root) == digest)
            .cloned()
    });
    let mut files_check = None;
    if hashed.is_none()
        && let (Some(listed), Some(m)) = (&req.listed, &manifest)
    {
        findings.extend(file_findings(m, listed, digest, false));
    }
    if let Some(h) = &hashed {
        files_check = Some(FilesCheck {
            files: h.files.len(),
            bytes: h.total_bytes,
            against: if manifest.is_some() {
                Against::Manifest
            } else if req.expected.is_some() {
                Against::Digest
            } else {
                Against::Nothing
            },
        });
        if let Some(m) = &manifest {
            let dir_given = req.bytes.as_ref().is_some_and(|b| b.path.is_dir());
            findings.extend(file_findings(m, &h.files, digest, dir_given));
        } else if let Some(d) = digest
            && d != h.root
        {
            findings.push(Finding {
                code: Code::DigestMismatch,
                node: Some(d),
                file: None,
                source: None,
                message: format!(
                    "the files hash to {}, not {}",
                    h.root.prefixed(),
                    d.prefixed()
                ),
            });
        }
    }

    let proven: BTreeSet<String> = evaluated
        .iter()
        .filter(|e| matches!(e.att.status, Status::Verified))
        .filter_map(|e| e.att.predicate_type.clone())
        .collect();
    let mut required: Vec<String> = req.require.clone();
    required.dedup();
    for r in &required {
        if !proven.contains(r) {
            let why = if evaluated
                .iter()
                .any(|e| e.att.predicate_type.as_deref() == Some(r))
            {
                "no bundle of this type verified"
            } else {
                "no bundle of this type was found"
            };
            findings.push(Finding {
                code: Code::MissingAttestation,
                node: digest,
                file: None,
                source: None,
                message: format!("required attestation {r} is not proven: {why}"),
            });
        }
    }
    if digest.is_none() && findings.is_empty() {
        findings.push(Finding {
            code: Code::MissingAttestation,
            node: None,
            file: None,
            source: None,
            message: "nothing identifies the artifact: no signed manifest, digest or bytes".into(),
        });
    }

    NodeVerdict {
        name: req
            .name
            .or_else(|| {
                manifest
                    .as_ref()
                    .map(|m| m.name.clone())
                    .filter(|n| !n.is_empty())
            })
            .or_else(|| hashed.as_ref().map(|h| h.name.clone())),
        digest,
        path: req.bytes.map(|b| b.path),
        files: files_check,
        attestations: evaluated.into_iter().map(|e| e.att).collect(),
        proven,
        required,
        findings,
    }
}

fn file_findings(
    m: &SignedManifest,
    actual: &[FileEntry],
    node: Option<Sha256Digest>,
    dir_given: bool,
) -> Vec<Finding> {
    oms::compare(m, actual)
        .into_iter()
        .map(|d| {
            let (code, message) = match &d {
                FileDiff::Changed {
                    path,
                    expected,
                    actual,
                } => (
                    Code::DigestMismatch,
                    format!("{path}: content changed (signed {}, found {})", expected.prefixed(), actual.prefixed()),
                ),
                FileDiff::Extra { path, same_as, .. } => (
                    Code::ExtraFile,
                    match same_as {
                        Some(orig) => format!("{path}: not in the signed manifest (same content as missing {orig}: renamed?)"),
                        None => format!("{path}: not in the signed manifest"),
                    },
                ),
                FileDiff::Missing { path, .. } if path == oms::SINGLE_FILE_NAME && dir_given => (
                    Code::MissingFile,
                    "the signature covers a single file (`.`), but a directory was given: verify the file itself".to_string(),
                ),
                FileDiff::Missing { path, .. } => (
                    Code::MissingFile,
                    format!("{path}: signed but not found"),
                ),
            };
            Finding {
                code,
                node,
                file: Some(d.path().to_string()),
                source: None,
                message,
            }
        })
        .collect()
}
