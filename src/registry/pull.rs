//! Pull a model: resolve the reference to a manifest digest, download every
//! layer into a staging directory next to the destination (each blob's size
//! and digest checked while streaming), fetch the bundle referrers, and move
//! the staging directory into place only when the caller says the content
//! verified.

use std::fs::File;
use std::path::{Path, PathBuf};

use oci_client::manifest::OciImageManifest;

use super::modelpack::{self, LayerFile, Parsed};
use super::{
    ANN_BUNDLE_PREDICATE, ANN_BUNDLE_SUBJECT, BUNDLE_ARTIFACT_TYPE, Client,
    INPUT_BUNDLE_ARTIFACT_TYPE, OciRef, RegistryError,
};
use crate::digest::Sha256Digest;
use crate::limits::Limit;
use crate::reporter::Reporter;

/// A model manifest resolved from a reference.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The reference pinned to the manifest digest.
    pub reference: OciRef,
    pub manifest_digest: Sha256Digest,
    pub manifest: Vec<u8>,
    pub parsed: Parsed,
}

/// Resolve `reference` to its manifest and read it as ModelPack.
pub fn resolve(client: &Client, reference: &OciRef) -> Result<Resolved, RegistryError> {
    let (bytes, digest) = client.get_manifest(&reference.repository, &reference.lookup())?;
    let parsed = modelpack::parse(&bytes, &reference.to_string())?;
    Ok(Resolved {
        reference: reference.with_digest(digest),
        manifest_digest: digest,
        manifest: bytes,
        parsed,
    })
}

/// A bundle fetched from the referrers of a model.
#[derive(Debug, Clone)]
pub struct PulledBundle {
    /// The referrer manifest's digest.
    pub referrer: Sha256Digest,
    /// The predicate type the referrer claims (a hint; the bundle says).
    pub predicate_type: Option<String>,
    /// An [`INPUT_BUNDLE_ARTIFACT_TYPE`] referrer: evidence about one of
    /// the model's inputs, not about the model.
    pub input_evidence: bool,
    /// For input evidence: the input digest the referrer says the bundle is
    /// about (a hint too; the statement's subjects say).
    pub about: Option<Sha256Digest>,
    pub bytes: Vec<u8>,
}

/// The referrer types that carry a Sigstore bundle: the model's own
/// (cosign's layout) and evidence about its inputs.
fn is_bundle_type(t: &str) -> bool {
    t == BUNDLE_ARTIFACT_TYPE || t == INPUT_BUNDLE_ARTIFACT_TYPE
}

/// Every Sigstore bundle attached to `subject`, the model's own and the
/// evidence about its inputs. A listed bundle that cannot
/// be fetched, or whose referrer does not point back at `subject`, is an
/// error: nothing is skipped silently. Returns whether the referrers API
/// (rather than the tag schema) answered.
pub fn fetch_bundles(
    client: &Client,
    repo: &str,
    subject: &Sha256Digest,
) -> Result<(Vec<PulledBundle>, bool), RegistryError> {
    let listed = client.referrers(repo, subject)?;
    let mut out = Vec::new();
    // A referrer listed twice, or two referrers of one bundle blob, is
    // fetched once; count and bytes are bounded while fetching.
    let mut seen_referrers = std::collections::BTreeSet::new();
    let mut seen_layers = std::collections::BTreeSet::new();
    let mut total = 0u64;
    let limit = |message: String| RegistryError::Protocol {
        what: format!("referrers of {}", subject.prefixed()),
        message,
    };
    for entry in &listed.manifests {
        if entry
            .artifact_type
            .as_deref()
            .is_some_and(|t| !is_bundle_type(t))
        {
            continue;
        }
        let referrer =
            Sha256Digest::from_prefixed(&entry.digest).map_err(|_| RegistryError::Protocol {
                what: format!("referrers of {}", subject.prefixed()),
                message: format!("entry with a non-sha256 digest {}", entry.digest),
            })?;
        if !seen_referrers.insert(referrer) {
            continue;
        }
        if seen_referrers.len() > Limit::Referrers.count() {
            return Err(limit(format!(
                "more than {} referrers ({})",
                Limit::Referrers.shown(),
                Limit::Referrers.named()
            )));
        }
        let (bytes, _) = client.get_manifest(repo, &referrer.prefixed())?;
        let what = format!("referrer {}", referrer.prefixed());
        let m: OciImageManifest =
            serde_json::from_slice(&bytes).map_err(|e| RegistryError::Protocol {
                what: what.clone(),
                message: format!("not an OCI image manifest: {e}"),
            })?;
        if !m.artifact_type.as_deref().is_some_and(is_bundle_type) {
            // Listed without an artifactType and not a bundle: not ours.
            continue;
        }
        let points_back = m
            .subject
            .as_ref()
            .and_then(|s| Sha256Digest::from_prefixed(&s.digest).ok())
            == Some(*subject);
        if !points_back {
            return Err(RegistryError::Protocol {
                what,
                message: format!("its subject is not {}", subject.prefixed()),
            });
        }
        let [layer] = m.layers.as_slice() else {
            return Err(RegistryError::Protocol {
                what,
                message: format!(
                    "{} layers; a bundle referrer has exactly one",
                    m.layers.len()
                ),
            });
        };
        let digest =
            Sha256Digest::from_prefixed(&layer.digest).map_err(|_| RegistryError::Protocol {
                what: what.clone(),
                message: format!("non-sha256 layer digest {}", layer.digest),
            })?;
        let size = u64::try_from(layer.size).unwrap_or(u64::MAX);
        if !seen_layers.insert(digest) {
            continue;
        }
        total = total.saturating_add(size.min(Limit::BundleBytes.get().saturating_add(1)));
        if total > Limit::ReferrerBytes.get() {
            return Err(limit(format!(
                "bundles over {} together ({})",
                Limit::ReferrerBytes.shown(),
                Limit::ReferrerBytes.named()
            )));
        }
        let bytes = client.fetch_small_blob(repo, &digest, size, Limit::BundleBytes, &what)?;
        out.push(PulledBundle {
            referrer,
            predicate_type: m
                .annotations
                .as_ref()
                .and_then(|a| a.get(ANN_BUNDLE_PREDICATE))
                .cloned(),
            input_evidence: m.artifact_type.as_deref() == Some(INPUT_BUNDLE_ARTIFACT_TYPE),
            about: (m.artifact_type.as_deref() == Some(INPUT_BUNDLE_ARTIFACT_TYPE))
                .then(|| {
                    m.annotations
                        .as_ref()
                        .and_then(|a| a.get(ANN_BUNDLE_SUBJECT))
                        .and_then(|d| Sha256Digest::from_prefixed(d).ok())
                })
                .flatten(),
            bytes,
        });
    }
    out.sort_by_key(|b| b.referrer);
    Ok((out, listed.api))
}

/// Download `files` of `repo` into `dir` (which must exist), each verified
/// while streaming, several at a time ([`super::transfers`]) under one
/// progress total. Files are created with the default mode (umask):
/// layer metadata modes are unsigned.
pub fn download_files(
    client: &Client,
    repo: &str,
    files: &[LayerFile],
    dir: &Path,
    reporter: &dyn Reporter,
) -> Result<(), RegistryError> {
    for layer in files {
        let f = &layer.entry;
        if !crate::fsutil::is_safe_relative(&f.path) {
            return Err(RegistryError::Protocol {
                what: format!("layer {}", f.sha256.prefixed()),
                message: format!("unsafe file path {:?}", f.path),
            });
        }
    }
    // Largest first, so the longest transfer starts at once.
    let mut order: Vec<&LayerFile> = files.iter().collect();
    order.sort_by_key(|l| std::cmp::Reverse(l.entry.size));
    let total: u64 = files.iter().map(|l| l.entry.size).sum();
    reporter.start("pulling", total);
    let r = super::for_each_parallel(&order, super::transfers(), |layer| {
        let f = &layer.entry;
        let dest = dir.join(&f.path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(RegistryError::io(parent))?;
        }
        let mut out = File::create(&dest).map_err(RegistryError::io(&dest))?;
        reporter.file(&f.path);
        // Not fsynced: the staging directory is placed by one rename when
        // every file is complete, so a failure or signal leaves nothing; a
        // power loss right after a pull can leave short files, which
        // `mlprov verify DIR` reports (oras and huggingface_hub do not sync
        // either; a sync per file made a pull as slow as the disk's writes).
        client.download_blob(repo, &f.sha256, f.size, &mut out, &f.path, reporter)
        // The mode a layer's file metadata claims is not applied: nothing
        // signs it (the OMS file list has paths and digests only), so a
        // registry could make any file executable.
    });
    reporter.finish();
    r
}

/// Downloaded, digest-checked files waiting in a staging directory next to
/// their destination. Dropping it removes everything.
pub struct Staged {
    pub resolved: Resolved,
    pub bundles: Vec<PulledBundle>,
    /// The referrers API (rather than the tag schema) answered.
    pub referrers_api: bool,
    staging: tempfile::TempDir,
    dest: PathBuf,
    /// DEST is an existing empty directory (a volume mount, as KServe's
    /// `/mnt/models`, which cannot be replaced by a rename and whose parent
    /// may be read-only): the staging directory is inside it, and placing
    /// moves its entries up.
    in_place: bool,
    _registered: crate::cleanup::Registered,
}

impl Staged {
    /// Where the files are now (for verification before placing them).
    pub fn dir(&self) -> &Path {
        self.staging.path()
    }

    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Move the files into the destination: a rename of the staging
    /// directory, so DIR either gets everything or nothing.
    pub fn place(self) -> Result<PathBuf, RegistryError> {
        if self.in_place {
            return self.place_inside();
        }
        check_destination(&self.dest)?;
        if self.dest.exists() {
            std::fs::remove_dir(&self.dest).map_err(RegistryError::io(&self.dest))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = self.staging.path();
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
                .map_err(RegistryError::io(p))?;
        }
        let staging = self.staging.keep();
        std::fs::rename(&staging, &self.dest).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staging);
            RegistryError::io(&self.dest)(e)
        })?;
        Ok(self.dest)
    }
}

impl Staged {
    /// Move the staged entries into DEST, which holds nothing else (the
    /// staging directory is hidden inside it); then remove the staging
    /// directory. Every entry is a rename within one file system.
    fn place_inside(self) -> Result<PathBuf, RegistryError> {
        let staging = self.staging.path().to_path_buf();
        let others = std::fs::read_dir(&self.dest)
            .map_err(RegistryError::io(&self.dest))?
            .filter_map(|e| e.ok())
            .any(|e| e.path() != staging);
        if others {
            return Err(RegistryError::DestinationNotEmpty {
                path: self.dest.display().to_string(),
            });
        }
        let entries: Vec<_> = std::fs::read_dir(&staging)
            .map_err(RegistryError::io(&staging))?
            .collect::<Result<_, _>>()
            .map_err(RegistryError::io(&staging))?;
        for e in entries {
            let to = self.dest.join(e.file_name());
            std::fs::rename(e.path(), &to).map_err(RegistryError::io(&to))?;
        }
        // The staging directory is empty now; TempDir removes it.
        drop(self.staging);
        Ok(self.dest)
    }
}

/// DIR must be absent or an empty directory.
pub fn check_destination(dest: &Path) -> Result<(), RegistryError> {
    match std::fs::read_dir(dest) {
        Ok(mut rd) => {
            if rd.next().is_some() {
                return Err(RegistryError::DestinationNotEmpty {
                    path: dest.display().to_string(),
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if dest.exists() => Err(RegistryError::DestinationNotEmpty {
            path: dest.display().to_string(),
        }),
        Err(e) => Err(RegistryError::io(dest)(e)),
    }
}

/// Resolve, download every file into a staging directory next to `dest`,
/// and fetch the bundles. Nothing is written to `dest` itself.
pub fn stage(
    client: &Client,
    reference: &OciRef,
    dest: &Path,
    reporter: &dyn Reporter,
) -> Result<Staged, RegistryError> {
    if dest.is_dir() {
        crate::cleanup::sweep(dest);
    }
    check_destination(dest)?;
    let resolved = resolve(client, reference)?;
    // An existing (empty) directory is staged into: it may be a mount
    // point that a rename cannot replace.
    let in_place = dest.is_dir();
    let parent = if in_place {
        dest.to_path_buf()
    } else {
        match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    };
    std::fs::create_dir_all(&parent).map_err(RegistryError::io(&parent))?;
    crate::cleanup::sweep(&parent);
    let staging = tempfile::Builder::new()
        .prefix(&crate::cleanup::prefix("pull"))
        .tempdir_in(&parent)
        .map_err(RegistryError::io(&parent))?;
    // Removed by the command's signal handler if the pull is interrupted.
    let registered = crate::cleanup::register(staging.path());
    let repo = &reference.repository;
    download_files(
        client,
        repo,
        &resolved.parsed.files,
        staging.path(),
        reporter,
    )?;
    let (bundles, referrers_api) = fetch_bundles(client, repo, &resolved.manifest_digest)?;
    Ok(Staged {
        resolved,
        bundles,
        referrers_api,
        staging,
        dest: dest.to_path_buf(),
        in_place,
        _registered: registered,
    })
}
