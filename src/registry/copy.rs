//! Copy a model between repositories (`promote`): its blobs, its manifest by
//! digest and every referrer of it (the model's bundles and its inputs'
//! evidence, byte for byte, so digests, artifact types and annotations are
//! kept), in the referrers layout the destination supports. Within one
//! registry a blob is mounted from the source repository; across
//! registries it is streamed through a temporary file, its digest checked
//! on the way down and again by the destination on the way up.
//!
//! [`plan`] only reads; [`execute`] writes blobs first, then manifests, then
//! the referrers index, so nothing the destination lists points at a blob
//! it lacks. Moving the tag is [`move_tag`], called last by the command.

use oci_client::manifest::{ImageIndexEntry, OciImageManifest};

use super::{ANN_BUNDLE_PREDICATE, Client, OCI_MANIFEST_MEDIA_TYPE, OciRef, RegistryError};
use crate::digest::Sha256Digest;
use crate::limits::Limit;
use crate::reporter::Reporter;

/// What happens to one blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobAction {
    /// The destination repository has it.
    Present,
    /// Cross-repository mount (same registry).
    Mount,
    /// Download from the source, upload to the destination.
    Upload,
}

impl BlobAction {
    pub fn as_str(self) -> &'static str {
        match self {
            BlobAction::Present => "present",
            BlobAction::Mount => "mount",
            BlobAction::Upload => "upload",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlannedBlob {
    pub digest: Sha256Digest,
    pub size: u64,
    /// `model` or `referrer sha256:…`.
    pub of: String,
    pub action: BlobAction,
}

#[derive(Debug, Clone)]
pub struct PlannedReferrer {
    pub digest: Sha256Digest,
    pub bytes: Vec<u8>,
    pub media_type: String,
    /// The source's index entry (artifact type, annotations), written
    /// as is into a tag-schema index.
    pub entry: ImageIndexEntry,
    /// The destination has the manifest and lists it as a referrer.
    pub present: bool,
}

impl PlannedReferrer {
    pub fn artifact_type(&self) -> Option<&str> {
        self.entry.artifact_type.as_deref()
    }

    pub fn predicate_type(&self) -> Option<&str> {
        self.entry
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANN_BUNDLE_PREDICATE))
            .map(String::as_str)
    }
}

/// What a copy of `source` to `destination` has to do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub source: OciRef,
    pub destination: OciRef,
    pub tag: String,
    pub manifest_digest: Sha256Digest,
    pub manifest: Vec<u8>,
    pub media_type: String,
    /// The destination has the manifest already.
    pub manifest_present: bool,
    pub blobs: Vec<PlannedBlob>,
    pub referrers: Vec<PlannedReferrer>,
    /// What the destination tag points at now.
    pub tag_before: Option<Sha256Digest>,
    /// The destination's referrers of the manifest that the source does
    /// not have (VSAs of earlier promotions), with their predicate types.
    pub destination_only: Vec<(Sha256Digest, Option<String>)>,
}

impl Plan {
    pub fn same_registry(&self) -> bool {
        self.source.registry == self.destination.registry
    }

    /// Nothing to copy: every blob, the manifest and every referrer are in
    /// the destination already.
    pub fn nothing_to_copy(&self) -> bool {
        self.manifest_present
            && self.blobs.iter().all(|b| b.action == BlobAction::Present)
            && self.referrers.iter().all(|r| r.present)
    }

    pub fn bytes(&self, action: BlobAction) -> (usize, u64) {
        self.blobs
            .iter()
            .filter(|b| b.action == action)
            .fold((0, 0), |(n, s), b| (n + 1, s + b.size))
    }
}

fn parse_manifest(bytes: &[u8], what: &str) -> Result<OciImageManifest, RegistryError> {
    serde_json::from_slice(bytes).map_err(|e| RegistryError::Protocol {
        what: what.to_string(),
        message: format!("not an OCI image manifest: {e}"),
    })
}

fn descriptor_digest(d: &str, what: &str) -> Result<Sha256Digest, RegistryError> {
    Sha256Digest::from_prefixed(d).map_err(|_| RegistryError::Protocol {
        what: what.to_string(),
        message: format!("a non-sha256 digest {d}"),
    })
}

/// The blobs of a manifest: config, then layers.
fn blobs_of(m: &OciImageManifest, what: &str) -> Result<Vec<(Sha256Digest, u64)>, RegistryError> {
    std::iter::once(&m.config)
        .chain(m.layers.iter())
        .map(|d| {
            Ok((
                descriptor_digest(&d.digest, what)?,
                u64::try_from(d.size).unwrap_or(0),
            ))
        })
        .collect()
}

/// Read what copying `source@manifest_digest` to `destination:tag` needs;
/// writes nothing.
pub fn plan(
    src: &Client,
    source: &OciRef,
    dst: &Client,
    destination: &OciRef,
    tag: &str,
    manifest_digest: Sha256Digest,
) -> Result<Plan, RegistryError> {
    let src_repo = source.repository.as_str();
    let dst_repo = destination.repository.as_str();
    let (manifest, _) = src.get_manifest(src_repo, &manifest_digest.prefixed())?;
    let what = format!("{}@{}", source.name(), manifest_digest.prefixed());
    let parsed = parse_manifest(&manifest, &what)?;
    let media_type = parsed
        .media_type
        .clone()
        .unwrap_or_else(|| OCI_MANIFEST_MEDIA_TYPE.to_string());
    let mut wanted: Vec<(Sha256Digest, u64, String)> = blobs_of(&parsed, &what)?
        .into_iter()
        .map(|(d, s)| (d, s, "model".to_string()))
        .collect();

    let listed = src.referrers(src_repo, &manifest_digest)?;
    if listed.manifests.len() > Limit::Referrers.count() {
        return Err(RegistryError::Protocol {
            what: format!("referrers of {what}"),
            message: format!(
                "more than {} referrers ({})",
                Limit::Referrers.shown(),
                Limit::Referrers.named()
            ),
        });
    }
    let dst_listed = match dst.referrers(dst_repo, &manifest_digest) {
        Ok(r) => r.manifests,
        Err(RegistryError::NotFound { .. }) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut referrers = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for entry in &listed.manifests {
        let digest = descriptor_digest(&entry.digest, &format!("referrers of {what}"))?;
        if !seen.insert(digest) {
            continue;
        }
        let rwhat = format!("referrer {}", digest.prefixed());
        let (bytes, _) = src.get_manifest(src_repo, &digest.prefixed())?;
        let m = parse_manifest(&bytes, &rwhat)?;
        let points_back = m
            .subject
            .as_ref()
            .and_then(|s| Sha256Digest::from_prefixed(&s.digest).ok())
            == Some(manifest_digest);
        if !points_back {
            return Err(RegistryError::Protocol {
                what: rwhat,
                message: format!("its subject is not {}", manifest_digest.prefixed()),
            });
        }
        for (d, s) in blobs_of(&m, &rwhat)? {
            wanted.push((d, s, rwhat.clone()));
        }
        let present = dst.manifest_exists(dst_repo, &digest)?
            && dst_listed.iter().any(|e| e.digest == entry.digest);
        referrers.push(PlannedReferrer {
            digest,
            media_type: m
                .media_type
                .clone()
                .unwrap_or_else(|| OCI_MANIFEST_MEDIA_TYPE.to_string()),
            bytes,
            entry: entry.clone(),
            present,
        });
    }
    let destination_only = dst_listed
        .iter()
        .filter(|e| !listed.manifests.iter().any(|s| s.digest == e.digest))
        .filter_map(|e| {
            Some((
                Sha256Digest::from_prefixed(&e.digest).ok()?,
                e.annotations
                    .as_ref()
                    .and_then(|a| a.get(ANN_BUNDLE_PREDICATE))
                    .cloned(),
            ))
        })
        .collect();

    // One entry per blob, in first-seen order.
    let mut blobs: Vec<PlannedBlob> = Vec::new();
    for (digest, size, of) in wanted {
        if blobs.iter().any(|b| b.digest == digest) {
            continue;
        }
        let action = if dst.blob_exists(dst_repo, &digest)? {
            BlobAction::Present
        } else if source.registry == destination.registry {
            BlobAction::Mount
        } else {
            BlobAction::Upload
        };
        blobs.push(PlannedBlob {
            digest,
            size,
            of,
            action,
        });
    }
    let manifest_present = dst.manifest_exists(dst_repo, &manifest_digest)?;
    let tag_before = match dst.get_manifest(dst_repo, tag) {
        Ok((_, d)) => Some(d),
        Err(RegistryError::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    Ok(Plan {
        source: source.with_digest(manifest_digest),
        destination: destination.clone(),
        tag: tag.to_string(),
        manifest_digest,
        manifest,
        media_type,
        manifest_present,
        blobs,
        referrers,
        tag_before,
        destination_only,
    })
}

/// What a copy did.
#[derive(Debug, Clone, Default)]
pub struct Copied {
    pub mounted: usize,
    pub mounted_bytes: u64,
    pub uploaded: usize,
    pub uploaded_bytes: u64,
    pub present: usize,
    pub manifest_copied: bool,
    pub referrers_copied: usize,
    /// `true`: the destination indexed the referrers itself (referrers
    /// API); `false`: the `sha256-<hex>` tag index was written.
    pub referrers_api: bool,
}

/// A copy that stopped: what it did, and what is still missing.
#[derive(Debug)]
pub struct CopyError {
    pub done: Copied,
    pub step: String,
    pub not_copied: Vec<String>,
    pub source: RegistryError,
}

/// Copy what `plan` lists as missing, blobs first. Tags are not touched.
pub fn execute(
    src: &Client,
    dst: &Client,
    plan: &Plan,
    reporter: &dyn Reporter,
) -> Result<Copied, Box<CopyError>> {
    let src_repo = plan.source.repository.as_str();
    let dst_repo = plan.destination.repository.as_str();
    let mut done = Copied::default();
    // What is still missing when the copy stops at blob `blobs_from`, with
    // the manifest still to copy or not, at referrer `refs_from`.
    let missing_after = |blobs_from: usize, manifest: bool, refs_from: usize| -> Vec<String> {
        let mut out: Vec<String> = plan.blobs[blobs_from.min(plan.blobs.len())..]
            .iter()
            .filter(|b| b.action != BlobAction::Present)
            .map(|b| format!("blob {} ({})", b.digest.prefixed(), b.of))
            .collect();
        if manifest {
            out.push(format!("manifest {}", plan.manifest_digest.prefixed()));
        }
        out.extend(
            plan.referrers[refs_from.min(plan.referrers.len())..]
                .iter()
                .filter(|r| !r.present)
                .map(|r| format!("referrer {}", r.digest.prefixed())),
        );
        out
    };
    for (i, b) in plan.blobs.iter().enumerate() {
        let fail = |e: RegistryError, done: &Copied| {
            Box::new(CopyError {
                done: done.clone(),
                step: format!("copying blob {} ({})", b.digest.prefixed(), b.of),
                not_copied: missing_after(i, !plan.manifest_present, 0),
                source: e,
            })
        };
        match b.action {
            BlobAction::Present => done.present += 1,
            BlobAction::Mount => {
                if dst
                    .mount(dst_repo, src_repo, &b.digest)
                    .map_err(|e| fail(e, &done))?
                {
                    done.mounted += 1;
                    done.mounted_bytes += b.size;
                } else {
                    // The registry declined the mount: copy the bytes.
                    stream(src, src_repo, dst, dst_repo, b, reporter)
                        .map_err(|e| fail(e, &done))?;
                    done.uploaded += 1;
                    done.uploaded_bytes += b.size;
                }
            }
            BlobAction::Upload => {
                stream(src, src_repo, dst, dst_repo, b, reporter).map_err(|e| fail(e, &done))?;
                done.uploaded += 1;
                done.uploaded_bytes += b.size;
            }
        }
    }
    let n = plan.blobs.len();
    if !plan.manifest_present {
        dst.put_manifest(
            dst_repo,
            &plan.manifest_digest.prefixed(),
            &plan.manifest,
            &plan.media_type,
        )
        .map_err(|e| {
            Box::new(CopyError {
                done: done.clone(),
                step: format!("copying manifest {}", plan.manifest_digest.prefixed()),
                not_copied: missing_after(n, true, 0),
                source: e,
            })
        })?;
        done.manifest_copied = true;
    }
    let mut api = None;
    for (i, r) in plan.referrers.iter().enumerate() {
        let fail = |e: RegistryError, done: &Copied| {
            Box::new(CopyError {
                done: done.clone(),
                step: format!("copying referrer {}", r.digest.prefixed()),
                not_copied: missing_after(n, false, i),
                source: e,
            })
        };
        if r.present {
            continue;
        }
        let exists = dst
            .manifest_exists(dst_repo, &r.digest)
            .map_err(|e| fail(e, &done))?;
        if !exists {
            let put = dst
                .put_manifest(dst_repo, &r.digest.prefixed(), &r.bytes, &r.media_type)
                .map_err(|e| fail(e, &done))?;
            api = Some(api.unwrap_or(false) || put.subject_indexed);
        }
        done.referrers_copied += 1;
    }
    let index_fail = |e: RegistryError, done: &Copied| {
        Box::new(CopyError {
            done: done.clone(),
            step: format!(
                "writing the referrers index {}",
                super::client::tag_schema(&plan.manifest_digest)
            ),
            not_copied: plan
                .referrers
                .iter()
                .filter(|r| !r.present)
                .map(|r| format!("referrers index entry {}", r.digest.prefixed()))
                .collect(),
            source: e,
        })
    };
    let api = match api {
        Some(a) => a,
        None => dst
            .referrers_api(dst_repo, &plan.manifest_digest)
            .map_err(|e| index_fail(e, &done))?
            .is_some(),
    };
    done.referrers_api = api;
    let entries: Vec<ImageIndexEntry> = plan
        .referrers
        .iter()
        .filter(|r| !r.present)
        .map(|r| r.entry.clone())
        .collect();
    if !api && !entries.is_empty() {
        super::push::merge_tag_index(dst, dst_repo, &plan.manifest_digest, entries)
            .map_err(|e| index_fail(e, &done))?;
    }
    Ok(done)
}

/// Download a blob into a temporary file (digest and size checked while
/// streaming), then upload it.
fn stream(
    src: &Client,
    src_repo: &str,
    dst: &Client,
    dst_repo: &str,
    b: &PlannedBlob,
    reporter: &dyn Reporter,
) -> Result<(), RegistryError> {
    let tmp = tempfile::NamedTempFile::new().map_err(|e| RegistryError::Io {
        path: "temporary file".into(),
        source: e,
    })?;
    let mut file = tmp.reopen().map_err(|e| RegistryError::Io {
        path: tmp.path().display().to_string(),
        source: e,
    })?;
    let what = format!("blob {}", b.digest.prefixed());
    src.download_blob(src_repo, &b.digest, b.size, &mut file, &what, reporter)?;
    drop(file);
    dst.upload_file(dst_repo, tmp.path(), &b.digest, b.size, reporter)
}

/// Point `tag` at the copied manifest (the last step of a promotion).
pub fn move_tag(dst: &Client, plan: &Plan) -> Result<(), RegistryError> {
    dst.put_manifest(
        &plan.destination.repository,
        &plan.tag,
        &plan.manifest,
        &plan.media_type,
    )
    .map(|_| ())
}
