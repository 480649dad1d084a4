//! Push a model and its bundles.
//!
//! Order matters for "a partial push never reports success" and for the tag
//! never pointing at a model without its attestations: blobs first (skipped
//! when present, mounted when another repository of the registry has them),
//! then the model manifest by digest, then every bundle as a referrer, and
//! only then the tag.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use oci_client::manifest::{ImageIndexEntry, OciDescriptor, OciImageIndex, OciImageManifest};

use super::client::tag_schema;
use super::modelpack::{Built, LayerFile};
use super::{
    ANN_BUNDLE_CONTENT, ANN_BUNDLE_PREDICATE, ANN_BUNDLE_SUBJECT, ANN_CREATED, ANN_TITLE,
    BUNDLE_ARTIFACT_TYPE, Client, EMPTY_CONTENT, EMPTY_MEDIA_TYPE, INPUT_BUNDLE_ARTIFACT_TYPE,
    OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE, OciRef, RegistryError,
};
use crate::digest::Sha256Digest;
use crate::reporter::Reporter;

/// A file to push and where it is on disk.
#[derive(Debug, Clone)]
pub struct PushFile {
    pub layer: LayerFile,
    pub abs: PathBuf,
}

/// A signed bundle to attach to the model.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The in-toto predicate type (annotation `dev.sigstore.bundle.predicateType`).
    pub predicate_type: Option<String>,
    /// `dsse-envelope` or `message-signature` (annotation `dev.sigstore.bundle.content`).
    pub content: &'static str,
    pub bytes: Vec<u8>,
    /// The OCI manifests the statement names as subjects (by their media
    /// type, see [`super::plan::manifest_subject`]).
    pub manifests: Vec<Sha256Digest>,
    /// `None`: a bundle about the model itself, pushed in cosign's layout.
    /// `Some(input)`: evidence about one of its inputs (or their inputs),
    /// pushed as an input-bundle referrer annotated with that digest.
    pub about: Option<Sha256Digest>,
}

impl Bundle {
    /// Read the annotation facts from a Sigstore bundle's JSON: what it holds
    /// and, for a DSSE envelope, the statement's predicate type and subject
    /// digests. This is metadata for the registry, not verification.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<(Self, Vec<Sha256Digest>), String> {
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
        let media = v.get("mediaType").and_then(|m| m.as_str()).unwrap_or("");
        if !media.starts_with("application/vnd.dev.sigstore.bundle") {
            return Err(format!("mediaType {media:?} is not a Sigstore bundle"));
        }
        if v.get("messageSignature").is_some() {
            return Ok((
                Self {
                    predicate_type: None,
                    content: "message-signature",
                    bytes,
                    manifests: Vec::new(),
                    about: None,
                },
                Vec::new(),
            ));
        }
        let payload = v
            .pointer("/dsseEnvelope/payload")
            .and_then(|p| p.as_str())
            .ok_or("neither a dsseEnvelope nor a messageSignature")?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .map_err(|e| format!("DSSE payload is not base64: {e}"))?;
        let st: serde_json::Value =
            serde_json::from_slice(&raw).map_err(|e| format!("DSSE payload is not JSON: {e}"))?;
        let predicate_type = st
            .get("predicateType")
            .and_then(|p| p.as_str())
            .map(str::to_string);
        let listed = st.get("subject").and_then(|s| s.as_array());
        let digests = |manifests_only: bool| -> Vec<Sha256Digest> {
            listed
                .into_iter()
                .flatten()
                .filter(|s| {
                    !manifests_only
                        || s.get("mediaType").and_then(|m| m.as_str())
                            == Some(OCI_MANIFEST_MEDIA_TYPE)
                })
                .filter_map(|s| s.pointer("/digest/sha256").and_then(|d| d.as_str()))
                .filter_map(|d| Sha256Digest::from_hex(d).ok())
                .collect()
        };
        let (subjects, manifests) = (digests(false), digests(true));
        Ok((
            Self {
                predicate_type,
                content: "dsse-envelope",
                bytes,
                manifests,
                about: None,
            },
            subjects,
        ))
    }
}

/// What to push.
pub struct PushRequest<'a> {
    pub target: &'a OciRef,
    pub built: &'a Built,
    pub files: &'a [PushFile],
    pub bundles: &'a [Bundle],
    /// Other repositories of the same registry that may hold the blobs.
    pub mount_from: &'a [String],
}

/// How the referrers were made findable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferrersVia {
    /// No bundles.
    None,
    /// The registry's referrers API indexed them.
    Api,
    /// The `sha256-<hex>` tag holds the index.
    TagSchema,
}

/// A pushed referrer.
#[derive(Debug, Clone)]
pub struct PushedReferrer {
    pub digest: Sha256Digest,
    pub predicate_type: Option<String>,
    pub bundle_digest: Sha256Digest,
    /// The input the bundle is about (`None`: the model).
    pub about: Option<Sha256Digest>,
}

#[derive(Debug, Clone)]
pub struct PushOutcome {
    pub manifest_digest: Sha256Digest,
    pub artifact_digest: Sha256Digest,
    pub uploaded: usize,
    pub uploaded_bytes: u64,
    pub skipped: usize,
    pub mounted: usize,
    pub referrers: Vec<PushedReferrer>,
    pub referrers_via: ReferrersVia,
}

/// Push the model and its bundles; see the module docs for the order.
pub fn push(
    client: &Client,
    req: &PushRequest<'_>,
    reporter: &dyn Reporter,
) -> Result<PushOutcome, RegistryError> {
    let repo = req.target.repository.as_str();
    if let Some(d) = req.target.digest
        && d != req.built.manifest_digest
    {
        return Err(RegistryError::DigestMismatch {
            what: format!("pushing to {}", req.target),
            expected: d.prefixed(),
            actual: format!(
                "{} (the manifest of these files; push to a tag instead)",
                req.built.manifest_digest.prefixed()
            ),
        });
    }
    let mut out = PushOutcome {
        manifest_digest: req.built.manifest_digest,
        artifact_digest: req.built.artifact_digest,
        uploaded: 0,
        uploaded_bytes: 0,
        skipped: 0,
        mounted: 0,
        referrers: Vec::new(),
        referrers_via: ReferrersVia::None,
    };

    // Layers, each digest once.
    let mut seen = std::collections::BTreeSet::new();
    for f in req.files {
        if !seen.insert(f.layer.entry.sha256) {
            continue;
        }
        ensure_blob(
            client,
            repo,
            &f.layer.entry.sha256,
            f.layer.entry.size,
            req.mount_from,
            &mut out,
            |c| {
                reporter.start(
                    &format!("pushing {}", f.layer.entry.path),
                    f.layer.entry.size,
                );
                let r = c.upload_file(
                    repo,
                    &f.abs,
                    &f.layer.entry.sha256,
                    f.layer.entry.size,
                    reporter,
                );
                reporter.finish();
                r
            },
        )?;
    }
    let config_digest = Sha256Digest::of(&req.built.config);
    ensure_blob(
        client,
        repo,
        &config_digest,
        req.built.config.len() as u64,
        req.mount_from,
        &mut out,
        |c| c.upload_bytes(repo, &req.built.config).map(|_| ()),
    )?;

    // The model manifest, untagged for now.
    let digest = req.built.manifest_digest;
    if !client.manifest_exists(repo, &digest)? {
        client.put_manifest(
            repo,
            &digest.prefixed(),
            &req.built.manifest,
            OCI_MANIFEST_MEDIA_TYPE,
        )?;
    }

    // Bundles as referrers.
    if !req.bundles.is_empty() {
        let subject = Subject {
            digest: req.built.manifest_digest,
            size: req.built.manifest.len() as u64,
            created: created_of(&req.built.manifest),
        };
        let (referrers, via) = push_referrers(
            client,
            repo,
            &subject,
            req.bundles,
            req.mount_from,
            &mut out,
        )?;
        out.referrers = referrers;
        out.referrers_via = via;
    }

    // Finally the tag.
    if let Some(tag) = &req.target.tag {
        client.put_manifest(repo, tag, &req.built.manifest, OCI_MANIFEST_MEDIA_TYPE)?;
    }
    Ok(out)
}

fn ensure_blob(
    client: &Client,
    repo: &str,
    digest: &Sha256Digest,
    size: u64,
    mount_from: &[String],
    out: &mut PushOutcome,
    upload: impl FnOnce(&Client) -> Result<(), RegistryError>,
) -> Result<(), RegistryError> {
    if client.blob_exists(repo, digest)? {
        out.skipped += 1;
        return Ok(());
    }
    for from in mount_from.iter().filter(|f| f.as_str() != repo) {
        if client.mount(repo, from, digest)? {
            out.mounted += 1;
            return Ok(());
        }
    }
    upload(client)?;
    out.uploaded += 1;
    out.uploaded_bytes += size;
    Ok(())
}

/// The referrer's `artifactType`: cosign's for the model's own bundles,
/// mlprov's input-bundle type for evidence about its inputs.
pub fn referrer_artifact_type(bundle: &Bundle) -> &'static str {
    if bundle.about.is_some() {
        INPUT_BUNDLE_ARTIFACT_TYPE
    } else {
        BUNDLE_ARTIFACT_TYPE
    }
}

/// The referrer manifest for one bundle (cosign's layout).
pub fn referrer_manifest(
    bundle: &Bundle,
    subject: &Subject,
) -> (Vec<u8>, Sha256Digest, BTreeMap<String, String>) {
    let bundle_digest = Sha256Digest::of(&bundle.bytes);
    let mut ann = BTreeMap::new();
    ann.insert(ANN_BUNDLE_CONTENT.to_string(), bundle.content.to_string());
    if let Some(p) = &bundle.predicate_type {
        ann.insert(ANN_BUNDLE_PREDICATE.to_string(), p.clone());
    }
    if let Some(about) = &bundle.about {
        ann.insert(ANN_BUNDLE_SUBJECT.to_string(), about.prefixed());
    }
    // cosign sets it to the time of attaching; the bundle's own log time (or
    // the model's `created`) keeps a re-push byte-identical.
    ann.insert(
        ANN_CREATED.to_string(),
        bundle_time(&bundle.bytes).unwrap_or_else(|| subject.created.clone()),
    );
    let mut layer_ann = BTreeMap::new();
    layer_ann.insert(
        ANN_TITLE.to_string(),
        format!("sha256-{}.sigstore.json", bundle_digest.hex()),
    );
    let m = OciImageManifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST_MEDIA_TYPE.to_string()),
        config: OciDescriptor {
            media_type: EMPTY_MEDIA_TYPE.to_string(),
            digest: Sha256Digest::of(EMPTY_CONTENT).prefixed(),
            size: EMPTY_CONTENT.len() as i64,
            ..Default::default()
        },
        layers: vec![OciDescriptor {
            media_type: BUNDLE_ARTIFACT_TYPE.to_string(),
            digest: bundle_digest.prefixed(),
            size: bundle.bytes.len() as i64,
            urls: None,
            annotations: Some(layer_ann),
            artifact_type: None,
        }],
        subject: Some(OciDescriptor {
            media_type: OCI_MANIFEST_MEDIA_TYPE.to_string(),
            digest: subject.digest.prefixed(),
            size: subject.size as i64,
            ..Default::default()
        }),
        artifact_type: Some(referrer_artifact_type(bundle).to_string()),
        annotations: Some(ann.clone()),
    };
    // Serialising a struct of strings and maps cannot fail.
    let bytes = serde_json::to_vec(&m).unwrap_or_default();
    let digest = Sha256Digest::of(&bytes);
    (bytes, digest, ann)
}

/// The manifest referrers point at.
#[derive(Debug, Clone)]
pub struct Subject {
    pub digest: Sha256Digest,
    pub size: u64,
    /// RFC 3339: the referrers' `org.opencontainers.image.created` when a
    /// bundle has no log time of its own.
    pub created: String,
}

/// The `org.opencontainers.image.created` annotation of a manifest.
fn created_of(manifest: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(manifest)
        .ok()
        .and_then(|v| {
            v.pointer("/annotations")
                .and_then(|a| a.get(ANN_CREATED))
                .and_then(|c| c.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

/// When the bundle's first transparency-log entry was integrated, as RFC
/// 3339 (metadata for the registry; the verifier checks the entry itself).
fn bundle_time(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let t = v.pointer("/verificationMaterial/tlogEntries/0/integratedTime")?;
    let secs = match t {
        serde_json::Value::String(s) => s.parse::<i64>().ok()?,
        serde_json::Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    chrono::DateTime::from_timestamp(secs, 0).map(crate::run::format_time)
}

/// Attach bundles to a manifest that is already in the registry (`verify
/// --attach` publishes a VSA this way): the same referrers as `push` makes.
pub fn attach(
    client: &Client,
    repo: &str,
    subject: &Subject,
    bundles: &[Bundle],
) -> Result<(Vec<PushedReferrer>, ReferrersVia), RegistryError> {
    let mut out = PushOutcome {
        manifest_digest: subject.digest,
        artifact_digest: subject.digest,
        uploaded: 0,
        uploaded_bytes: 0,
        skipped: 0,
        mounted: 0,
        referrers: Vec::new(),
        referrers_via: ReferrersVia::None,
    };
    push_referrers(client, repo, subject, bundles, &[], &mut out)
}

fn push_referrers(
    client: &Client,
    repo: &str,
    subject: &Subject,
    bundles: &[Bundle],
    mount_from: &[String],
    out: &mut PushOutcome,
) -> Result<(Vec<PushedReferrer>, ReferrersVia), RegistryError> {
    ensure_blob(
        client,
        repo,
        &Sha256Digest::of(EMPTY_CONTENT),
        EMPTY_CONTENT.len() as u64,
        mount_from,
        out,
        |c| c.upload_bytes(repo, EMPTY_CONTENT).map(|_| ()),
    )?;
    let mut pushed = Vec::new();
    let mut entries = Vec::new();
    let mut api: Option<bool> = None;
    let mut bundles: Vec<&Bundle> = bundles.iter().collect();
    // One referrer per bundle and per what it is pushed as (the model's,
    // or an input's evidence).
    bundles.sort_by_key(|b| (Sha256Digest::of(&b.bytes), b.about));
    bundles.dedup_by_key(|b| (Sha256Digest::of(&b.bytes), b.about));
    for b in bundles {
        let bundle_digest = Sha256Digest::of(&b.bytes);
        ensure_blob(
            client,
            repo,
            &bundle_digest,
            b.bytes.len() as u64,
            mount_from,
            out,
            |c| c.upload_bytes(repo, &b.bytes).map(|_| ()),
        )?;
        let (bytes, digest, ann) = referrer_manifest(b, subject);
        if !client.manifest_exists(repo, &digest)? {
            let put =
                client.put_manifest(repo, &digest.prefixed(), &bytes, OCI_MANIFEST_MEDIA_TYPE)?;
            api = Some(api.unwrap_or(false) || put.subject_indexed);
        }
        entries.push(ImageIndexEntry {
            media_type: OCI_MANIFEST_MEDIA_TYPE.to_string(),
            digest: digest.prefixed(),
            size: bytes.len() as i64,
            platform: None,
            annotations: Some(ann),
            artifact_type: Some(referrer_artifact_type(b).to_string()),
        });
        pushed.push(PushedReferrer {
            digest,
            predicate_type: b.predicate_type.clone(),
            bundle_digest,
            about: b.about,
        });
    }
    let api = match api {
        Some(a) => a,
        // Nothing new was pushed: ask whether the registry has the API.
        None => client.referrers_api(repo, &subject.digest)?.is_some(),
    };
    if api {
        return Ok((pushed, ReferrersVia::Api));
    }
    // Referrers tag schema: merge into the index under `sha256-<hex>`.
    merge_tag_index(client, repo, &subject.digest, entries)?;
    Ok((pushed, ReferrersVia::TagSchema))
}

/// How often a push re-reads the tag-schema index after writing it.
const INDEX_ROUNDS: u32 = 12;

/// Merge `entries` into the `sha256-<hex>` index. The registry has no
/// compare-and-swap, so two pushes at once can each write an index read
/// before the other's write. After writing, the index is read again (after
/// a pause long enough for a concurrent writer's read-then-write to land)
/// and merged again until it holds every entry of this push.
pub(crate) fn merge_tag_index(
    client: &Client,
    repo: &str,
    subject: &Sha256Digest,
    entries: Vec<ImageIndexEntry>,
) -> Result<(), RegistryError> {
    let tag = tag_schema(subject);
    let mut wrote = false;
    for round in 0..INDEX_ROUNDS {
        let mut index = read_tag_index(client, repo, &tag)?;
        let before = index.manifests.len();
        for e in &entries {
            if !index.manifests.iter().any(|m| m.digest == e.digest) {
                index.manifests.push(e.clone());
            }
        }
        if index.manifests.len() == before {
            if !wrote || round > 1 {
                return Ok(());
            }
        } else {
            let bytes = serde_json::to_vec(&index).unwrap_or_default();
            client.put_manifest(repo, &tag, &bytes, OCI_INDEX_MEDIA_TYPE)?;
            wrote = true;
        }
        std::thread::sleep(jitter(round));
    }
    Err(RegistryError::Protocol {
        what: format!("referrers index {repo}:{tag}"),
        message: format!(
            "other pushes kept replacing it: this push's entries were still missing after {INDEX_ROUNDS} rounds"
        ),
    })
}

/// 400–900 ms, different per process and round.
fn jitter(round: u32) -> std::time::Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let seed = Sha256Digest::of(format!("{}-{nanos}-{round}", std::process::id()).as_bytes());
    std::time::Duration::from_millis(400 + u64::from(seed.0[0]) * 2)
}

fn read_tag_index(client: &Client, repo: &str, tag: &str) -> Result<OciImageIndex, RegistryError> {
    Ok(match client.get_manifest(repo, tag) {
        Ok((bytes, _)) => serde_json::from_slice::<OciImageIndex>(&bytes).map_err(|e| {
            RegistryError::Protocol {
                what: format!("referrers index {repo}:{tag}"),
                message: format!("not an OCI image index: {e}"),
            }
        })?,
        Err(RegistryError::NotFound { .. }) => OciImageIndex {
            schema_version: 2,
            media_type: Some(OCI_INDEX_MEDIA_TYPE.to_string()),
            manifests: Vec::new(),
            artifact_type: None,
            annotations: None,
        },
        Err(e) => return Err(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dsse(predicate: &str, subject_hex: &str) -> Vec<u8> {
        let st = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "m", "digest": {"sha256": subject_hex}}],
            "predicateType": predicate,
            "predicate": {},
        });
        let payload = base64::engine::general_purpose::STANDARD.encode(st.to_string());
        serde_json::to_vec(&serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {},
            "dsseEnvelope": {"payload": payload, "payloadType": "application/vnd.in-toto+json", "signatures": []},
        }))
        .unwrap()
    }

    #[test]
    fn bundle_metadata() {
        let d = Sha256Digest::of(b"m");
        let (b, subjects) =
            Bundle::from_bytes(dsse("https://slsa.dev/provenance/v1", &d.hex())).unwrap();
        assert_eq!(b.content, "dsse-envelope");
        assert_eq!(
            b.predicate_type.as_deref(),
            Some("https://slsa.dev/provenance/v1")
        );
        assert_eq!(subjects, vec![d]);
        assert!(Bundle::from_bytes(b"{}".to_vec()).is_err());
        assert!(Bundle::from_bytes(b"nope".to_vec()).is_err());
    }

    #[test]
    fn input_evidence_has_its_own_type_and_names_the_input() {
        let input = Sha256Digest::of(b"input");
        let (mut b, _) =
            Bundle::from_bytes(dsse("https://slsa.dev/provenance/v1", &input.hex())).unwrap();
        b.about = Some(input);
        let subject = Subject {
            digest: Sha256Digest::of(b"manifest"),
            size: 8,
            created: "2024-01-01T00:00:00Z".into(),
        };
        let (bytes, _, ann) = referrer_manifest(&b, &subject);
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["artifactType"], INPUT_BUNDLE_ARTIFACT_TYPE);
        // The layer is still a Sigstore bundle, the subject the model.
        assert_eq!(v["layers"][0]["mediaType"], BUNDLE_ARTIFACT_TYPE);
        assert_eq!(v["subject"]["digest"], subject.digest.prefixed());
        assert_eq!(v["annotations"][ANN_BUNDLE_SUBJECT], input.prefixed());
        assert_eq!(ann[ANN_BUNDLE_SUBJECT], input.prefixed());
        // The model's own bundles carry no such annotation.
        b.about = None;
        let (bytes, _, _) = referrer_manifest(&b, &subject);
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["artifactType"], BUNDLE_ARTIFACT_TYPE);
        assert!(v["annotations"].get(ANN_BUNDLE_SUBJECT).is_none());
    }

    #[test]
    fn referrer_layout_follows_cosign() {
        let (b, _) = Bundle::from_bytes(dsse("https://spdx.dev/Document/v3", "00")).unwrap();
        let subject = Subject {
            digest: Sha256Digest::of(b"manifest"),
            size: 8,
            created: "2024-01-01T00:00:00Z".into(),
        };
        let (bytes, digest, _) = referrer_manifest(&b, &subject);
        assert_eq!(digest, Sha256Digest::of(&bytes));
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["artifactType"], BUNDLE_ARTIFACT_TYPE);
        assert_eq!(v["config"]["mediaType"], EMPTY_MEDIA_TYPE);
        assert_eq!(
            v["config"]["digest"],
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(v["layers"].as_array().unwrap().len(), 1);
        assert_eq!(v["layers"][0]["mediaType"], BUNDLE_ARTIFACT_TYPE);
        assert_eq!(v["subject"]["digest"], subject.digest.prefixed());
        assert_eq!(v["annotations"][ANN_CREATED], "2024-01-01T00:00:00Z");
        assert_eq!(v["annotations"][ANN_BUNDLE_CONTENT], "dsse-envelope");
        assert_eq!(
            v["annotations"][ANN_BUNDLE_PREDICATE],
            "https://spdx.dev/Document/v3"
        );
    }
}
