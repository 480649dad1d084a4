//! What a verification target is, and the walk's root for it: a model
//! directory or file (its bytes re-hashed against its signed manifest), a
//! digest in the local store, a registry reference (its manifest's layers
//! give the artifact digest, its referrers the bundles), or a staged pull
//! (the downloaded bytes and the registry's referrers).

use std::path::{Path, PathBuf};

use crate::digest::{SetOptions, Sha256Digest};
use crate::intoto::PREDICATE_OMS;
use crate::registry::{OciRef, RegistryError};
use crate::sign::oms;
use crate::verify::locate::RegistryLocator;
use crate::verify::model::Root;
use crate::verify::node::{LocalBytes, RawBundle};

/// A verification target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A model directory or file.
    Path(PathBuf),
    /// An artifact digest, looked up in the local store.
    Digest(Sha256Digest),
    /// A model in a registry.
    Reference(OciRef),
}

/// A target that cannot be verified as given (exit 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TargetError {
    #[error("{path}: no such file or directory")]
    #[diagnostic(
        code("mlprov::verify::not-found"),
        help(
            "pass a model directory or file, a digest (sha256:…) in the local store, or an OCI reference"
        )
    )]
    NotFound { path: String },
    #[error("signature {path} does not exist")]
    #[diagnostic(code("mlprov::verify::not-found"))]
    SignatureNotFound { path: String },
    #[error("{target}: {message}")]
    #[diagnostic(code(mlprov::usage), help("a digest is sha256: and 64 hex digits"))]
    BadDigest { target: String, message: String },
    #[error("{cause}: verifying {reference} needs the registry")]
    #[diagnostic(
        code(mlprov::usage),
        help(
            "drop --offline (or unset MLPROV_OFFLINE), or verify a local copy (`mlprov pull` first)"
        )
    )]
    Offline {
        reference: String,
        /// The flag or variable that made mlprov offline.
        cause: &'static str,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Registry(#[from] RegistryError),
}

impl Target {
    /// What `target` names. A path that exists is a path; `sha256:…` is a
    /// digest; something that names a registry host (`host.tld/…`,
    /// `host:port/…`, `localhost/…`) is a reference, and one that does not
    /// parse is an error about the reference (not a missing path).
    pub fn parse(target: &str, cwd: &Path) -> Result<Target, TargetError> {
        if target.starts_with("sha256:") {
            return Sha256Digest::from_prefixed(target)
                .map(Target::Digest)
                .map_err(|e| TargetError::BadDigest {
                    target: target.to_string(),
                    message: e.to_string(),
                });
        }
        let path = cwd.join(target);
        if !path.exists() && OciRef::names_registry(target) {
            return Ok(Target::Reference(OciRef::parse(target)?));
        }
        Ok(Target::Path(path))
    }

    /// The registry a reference target names.
    pub fn registry(&self) -> Option<&str> {
        match self {
            Target::Reference(r) => Some(&r.registry),
            _ => None,
        }
    }
}

/// How to resolve a target.
pub struct TargetSettings<'a> {
    /// `--signature`: the OMS bundle of a path (default: `model.sig`
    /// beside it), or one more bundle for a digest.
    pub signature: Option<PathBuf>,
    /// `--bundle` files (explicit: they must verify).
    pub bundles: Vec<RawBundle>,
    /// `--ignore-paths`, relative to `cwd`.
    pub ignore_paths: &'a [String],
    pub cwd: &'a Path,
    /// The project the command runs in: a path inside it has its `file:`
    /// inputs at hand.
    pub project_root: Option<&'a Path>,
    /// `--require` is empty and the policy does not say what the root
    /// needs: a digest target then needs its OMS signature.
    pub default_require: bool,
    pub offline: bool,
    /// The flag or variable behind `offline`, for the message.
    pub offline_cause: &'static str,
    pub registry: &'a RegistryLocator<'a>,
    /// Read a bundle file named on the command line.
    pub read_bundle: &'a dyn Fn(&Path) -> std::io::Result<RawBundle>,
}

/// The walk's root for a target, and what else the verification needs.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub root: Root,
    /// What was verified, as a URI (for the VSA).
    pub resource_uri: String,
    /// The project whose `file:` inputs are at hand.
    pub project_root: Option<PathBuf>,
}

fn file_uri(p: &Path) -> String {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    format!("file://{}", abs.display())
}

/// The predicate types a model must prove: its file set (the OMS
/// signature).
fn oms_required() -> Vec<String> {
    vec![PREDICATE_OMS.to_string()]
}

/// The OCI reference of a model in a registry, as `oci:` source and URI.
fn reference_root(location: &str, artifact: Sha256Digest, manifest: Sha256Digest) -> Root {
    let repo = location.split_once('@').map(|(r, _)| r).unwrap_or(location);
    Root {
        name: Some(location.to_string()),
        expected: Some(artifact),
        require: oms_required(),
        uri: Some(format!("oci://{location}")),
        manifest: Some(manifest),
        source: Some(format!("oci:{repo}")),
        ..Default::default()
    }
}

/// Resolve a target into the walk's root.
pub fn resolve(target: &Target, s: &TargetSettings<'_>) -> Result<Resolved, TargetError> {
    let read = |p: &Path| {
        (s.read_bundle)(p).map_err(|_| TargetError::SignatureNotFound {
            path: p.display().to_string(),
        })
    };
    match target {
        Target::Reference(reference) => {
            if s.offline {
                return Err(TargetError::Offline {
                    reference: reference.to_string(),
                    cause: s.offline_cause,
                });
            }
            let located = s.registry.resolve(reference)?;
            let mut root = reference_root(&located.location, located.artifact, located.manifest);
            // Referrers are found, not given: anyone who may push can add
            // some, and one from a signer not trusted here is ignored.
            root.found = located.bundles;
            root.bundles = s.bundles.clone();
            root.listed = Some(crate::sign::oms::HashedModel {
                name: located.location.clone(),
                total_bytes: located.files.iter().map(|f| f.size).sum(),
                root: located.artifact,
                files: located.files,
                ignore_paths: Vec::new(),
                allow_symlinks: false,
            });
            Ok(Resolved {
                resource_uri: root.uri.clone().unwrap_or_default(),
                root,
                project_root: None,
            })
        }
        Target::Digest(d) => {
            let mut bundles = s.bundles.clone();
            if let Some(sig) = &s.signature {
                bundles.push(read(&s.cwd.join(sig))?);
            }
            Ok(Resolved {
                root: Root {
                    expected: Some(*d),
                    bundles,
                    require: if s.default_require {
                        oms_required()
                    } else {
                        Vec::new()
                    },
                    ..Default::default()
                },
                resource_uri: d.prefixed(),
                project_root: None,
            })
        }
        Target::Path(path) => {
            if !path.exists() {
                return Err(TargetError::NotFound {
                    path: path.display().to_string(),
                });
            }
            let signature = s
                .signature
                .as_ref()
                .map(|p| s.cwd.join(p))
                .unwrap_or_else(|| oms::default_signature_path(path));
            let mut bundles = Vec::new();
            if signature.is_file() {
                bundles.push(read(&signature)?);
            } else if s.signature.is_some() {
                return Err(TargetError::SignatureNotFound {
                    path: signature.display().to_string(),
                });
            }
            bundles.extend(s.bundles.iter().cloned());
            let abs = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            let project_root = s
                .project_root
                .filter(|p| abs.starts_with(p))
                .map(Path::to_path_buf);
            Ok(Resolved {
                root: Root {
                    bytes: Some(LocalBytes {
                        path: path.clone(),
                        settings: SetOptions::artifact()
                            .with_signature(oms::signature_ignore(path, &signature))
                            .with_ignores(oms::resolve_ignores(path, s.cwd, s.ignore_paths)),
                    }),
                    bundles,
                    // The file set is proven only by a signed manifest.
                    require: oms_required(),
                    ..Default::default()
                },
                resource_uri: file_uri(path),
                project_root,
            })
        }
    }
}

/// The root of a staged pull: the downloaded bytes, which must be the
/// artifact the registry's manifest describes, with the registry's
/// referrers.
pub fn staged(
    dir: &Path,
    location: &str,
    artifact: Sha256Digest,
    manifest: Sha256Digest,
    referrers: Vec<RawBundle>,
) -> Root {
    let mut root = reference_root(location, artifact, manifest);
    root.bytes = Some(LocalBytes {
        path: dir.to_path_buf(),
        settings: SetOptions::artifact(),
    });
    root.found = referrers;
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_target_is() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("out")).unwrap();
        let d = Sha256Digest::of(b"x");
        assert_eq!(
            Target::parse(&d.prefixed(), dir.path()).unwrap(),
            Target::Digest(d)
        );
        assert!(matches!(
            Target::parse("sha256:12", dir.path()),
            Err(TargetError::BadDigest { .. })
        ));
        assert_eq!(
            Target::parse("out", dir.path()).unwrap(),
            Target::Path(dir.path().join("out"))
        );
        let r = Target::parse("127.0.0.1:5000/acme/m:1", dir.path()).unwrap();
        assert_eq!(r.registry(), Some("127.0.0.1:5000"));
        // Names a registry, does not parse: a reference error.
        assert!(matches!(
            Target::parse("ghcr.io/Acme/M:1", dir.path()),
            Err(TargetError::Registry(_))
        ));
        // A missing path without a registry host is a path (not found later).
        assert_eq!(
            Target::parse("missing", dir.path()).unwrap(),
            Target::Path(dir.path().join("missing"))
        );
    }
}
