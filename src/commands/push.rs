//! `mlprov push [REF]`: the built model as a CNCF ModelPack artifact, its
//! signed bundles as OCI 1.1 referrers.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use miette::{IntoDiagnostic, Result, WrapErr, miette};

use super::Context;
use crate::cli::PushArgs;
use crate::digest::{FileSet, HashCache, SIGNATURE_FILE, SetOptions, Sha256Digest};
use crate::fsutil::human_bytes;
use crate::lockfile::Lock;
use crate::manifest::Manifest;
use crate::model::Source;
use crate::project::Project;
use crate::registry::modelpack::LayerFile;
use crate::registry::plan;
use crate::registry::push::{Bundle, PushRequest};
use crate::registry::{self, Client, OciRef};
use crate::settings::registry::access as registry_access;

pub fn run(cx: &Context, args: PushArgs) -> Result<()> {
    let project = Project::discover(&cx.settings.cwd)?;
    let manifest = Manifest::load(&project.manifest_path())?;
    let reference = match &args.reference {
        Some(r) => r.clone(),
        None => match manifest
            .publish
            .as_ref()
            .and_then(|p| p.registry.as_deref())
        {
            Some(repo) => format!("{repo}:{}", manifest.artifact.version),
            None => {
                return Err(miette!(
                    code = "mlprov::usage",
                    help = "pass REF (e.g. `mlprov push registry.example.com/models/name:1.0`), or set `registry` under [publish] in mlprov.toml",
                    "no reference to push to"
                ));
            }
        },
    };
    let target = OciRef::parse(&reference)?;
    if cx.settings.offline {
        return Err(miette!(
            code = "mlprov::usage",
            help = format!("{} to push", cx.settings.online_hint()),
            "{}: pushing needs the network",
            cx.settings.offline_cause
        ));
    }

    // The files, hashed (the cache makes this free after `build`).
    let root = project.join(&manifest.artifact.path);
    if !root.exists() {
        return Err(miette!(
            code = "mlprov::push::no-artifact",
            help = "run `mlprov build` first, or fix [artifact].path in mlprov.toml",
            "{} does not exist",
            root.display()
        ));
    }
    let cache = HashCache::open(cx.settings.paths.hash_cache());
    let reporter = cx.printer.reporter();
    let hashed = FileSet::hash(&root, &SetOptions::artifact(), Some(&cache), &reporter);
    let _ = cache.save();
    let set = hashed
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read {}", root.display()))?;
    let artifact_digest = set.digest;

    // The manifest, as the build planned it (checked against its provenance).
    let out_dir = project.out_dir();
    let epoch = match cx.settings.env.clock()? {
        crate::run::Clock::Fixed(s) => Some(s),
        crate::run::Clock::Wall => None,
    };
    let planned = plan::project_plan(&project, &manifest, &root, &set, epoch)?.plan;
    let files = planned.files;
    let built = planned.built;
    let layers: Vec<LayerFile> = files.iter().map(|f| f.layer.clone()).collect();

    // Bundles about this artifact.
    let sig_path = if root.is_dir() {
        // The OMS signature file: a referrer, never a layer.
        Some(root.join(SIGNATURE_FILE))
    } else {
        None
    };
    let Evidence { bundles, names } = gather_bundles(
        cx,
        &out_dir,
        sig_path.as_deref(),
        &artifact_digest,
        &built.manifest_digest,
    )?;
    if bundles.is_empty() {
        cx.printer.warn(&format!(
            "pushing without attestations: no signed bundle names {} (run `mlprov attest` and `mlprov sign` first)",
            artifact_digest.prefixed()
        ));
    }

    // Other repositories of this registry that may already hold the blobs.
    let mount_from = mount_candidates(&project, &target);

    let settings = registry_access(Some(&args.registry), &[&target.registry], &cx.settings.env)?
        .settings_for(&target.registry)?;
    cx.printer.note(&format!(
        "registry {} as {}",
        target.registry,
        settings.credentials.describe()
    ));
    let client =
        Client::new(&target.registry, &settings)?.with_blob_cache(&cx.settings.paths.cache);
    let started = Instant::now();
    let req = PushRequest {
        target: &target,
        built: &built,
        files: &files,
        bundles: &bundles,
        mount_from: &mount_from,
    };
    let outcome = registry::push::push(&client, &req, &reporter)?;
    let elapsed = started.elapsed();
    let pinned = format!("{}@{}", target.name(), outcome.manifest_digest.prefixed());
    cx.printer
        .step_output("digest", &outcome.manifest_digest.prefixed());
    cx.printer.step_output("ref", &pinned);
    cx.printer
        .step_output("artifact-digest", &outcome.artifact_digest.prefixed());

    if cx.printer.is_json() {
        use crate::document::{PushDocument, PushedBlobs, PushedReferrer};
        cx.printer.document(&PushDocument {
            version: crate::document::VERSION,
            reference: target.to_string(),
            pushed: pinned,
            digest: outcome.manifest_digest.prefixed(),
            artifact_digest: outcome.artifact_digest.prefixed(),
            tag: target.tag.clone(),
            blobs: PushedBlobs {
                uploaded: outcome.uploaded,
                uploaded_bytes: outcome.uploaded_bytes,
                skipped: outcome.skipped,
                mounted: outcome.mounted,
            },
            referrers_via: match outcome.referrers_via {
                crate::registry::push::ReferrersVia::None => "none",
                crate::registry::push::ReferrersVia::Api => "api",
                crate::registry::push::ReferrersVia::TagSchema => "tag-schema",
            }
            .to_string(),
            referrers: outcome
                .referrers
                .iter()
                .map(|r| PushedReferrer {
                    digest: r.digest.prefixed(),
                    bundle_digest: r.bundle_digest.prefixed(),
                    predicate_type: r.predicate_type.clone(),
                })
                .collect(),
        });
        return Ok(());
    }
    let total = set.total_size();
    cx.printer.status(
        "Pushed",
        &format!(
            "{} ({} file{}, {}) {}",
            target,
            layers.len(),
            if layers.len() == 1 { "" } else { "s" },
            human_bytes(total),
            outcome.manifest_digest.prefixed()
        ),
    );
    cx.printer.status_dim(
        "Blobs",
        &format!(
            "{} uploaded ({} in {}), {} already present, {} mounted",
            outcome.uploaded,
            human_bytes(outcome.uploaded_bytes),
            throughput(outcome.uploaded_bytes, elapsed),
            outcome.skipped,
            outcome.mounted
        ),
    );
    // In a stable order: by predicate type, then input name.
    let mut own: Vec<&registry::push::PushedReferrer> = outcome
        .referrers
        .iter()
        .filter(|r| r.about.is_none())
        .collect();
    own.sort_by(|a, b| (&a.predicate_type, a.digest).cmp(&(&b.predicate_type, b.digest)));
    for r in own {
        cx.printer.status(
            "Attached",
            &format!(
                "{} {}",
                r.predicate_type.as_deref().unwrap_or("(message signature)"),
                r.digest.prefixed()
            ),
        );
    }
    // The inputs' evidence, one line per input.
    let mut per_input: std::collections::BTreeMap<Sha256Digest, Vec<&str>> =
        std::collections::BTreeMap::new();
    for r in &outcome.referrers {
        if let Some(d) = r.about {
            per_input
                .entry(d)
                .or_default()
                .push(r.predicate_type.as_deref().unwrap_or("(message signature)"));
        }
    }
    let mut per_input: Vec<(Sha256Digest, Vec<&str>)> = per_input
        .into_iter()
        .map(|(d, mut types)| {
            types.sort();
            types.dedup();
            (d, types)
        })
        .collect();
    per_input.sort_by_key(|(d, _)| (names.get(d).cloned(), *d));
    for (d, types) in &per_input {
        cx.printer.status(
            "Attached",
            &format!(
                "evidence for {} {}: {}",
                names.get(d).map(String::as_str).unwrap_or("input"),
                d.prefixed(),
                types.join(", ")
            ),
        );
    }
    if !outcome.referrers.is_empty() {
        cx.printer.note(&format!(
            "referrers indexed by {}",
            match outcome.referrers_via {
                registry::push::ReferrersVia::Api => "the registry's referrers API",
                _ => "the referrers tag schema (this registry has no referrers API)",
            }
        ));
    }
    cx.printer.out(&format!("{pinned}\n"));
    Ok(())
}

fn throughput(bytes: u64, d: Duration) -> String {
    let secs = d.as_secs_f64().max(0.001);
    format!(
        "{:.1}s, {}/s",
        d.as_secs_f64(),
        human_bytes((bytes as f64 / secs) as u64)
    )
}

/// Signed bundles about the artifact: `target/mlprov/*.sigstore.json` and
/// the OMS `model.sig` beside the files, and what the local store holds
/// about it. A file there that is not a bundle is an error.
///
/// Then the evidence its inputs need: every bundle (sidecar or in the
/// store) about a dependency the model's provenance names, and, through
/// those bundles' own provenance, about their dependencies, recursively.
/// Those are pushed as input-evidence referrers of the model, so a verifier
/// finds the whole graph from the model's reference. A bundle about other
/// content than either (an older build) is left out.
fn gather_bundles(
    cx: &Context,
    out_dir: &Path,
    model_sig: Option<&Path>,
    artifact_digest: &Sha256Digest,
    manifest_digest: &Sha256Digest,
) -> Result<Evidence> {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(out_dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".sigstore.json"))
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    paths.sort();
    if let Some(s) = model_sig.filter(|s| s.is_file()) {
        paths.push(s.to_path_buf());
    }
    // Everything the local store holds about this artifact (import
    // attestations, evaluations attested elsewhere, earlier signatures).
    let store = cx.settings.paths.store();
    let list = |d: &Sha256Digest| {
        store.list(d).map_err(|e| {
            miette!(
                code = "mlprov::push::store",
                help = "check MLPROV_HOME and its permissions",
                "cannot read the local store {}: {e}",
                store.root().display()
            )
        })
    };
    paths.extend(list(artifact_digest)?.into_iter().map(|b| b.path));
    // And what is filed under the manifest push publishes (the registry form
    // of the OMS signature, which `sign` files there only).
    paths.extend(list(manifest_digest)?.into_iter().map(|b| b.path));
    let read = |p: &Path| -> Result<(Bundle, Vec<Sha256Digest>)> {
        let bytes = crate::store::read_entry(p)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot read {}", p.display()))?;
        Bundle::from_bytes(bytes).map_err(|e| {
            miette!(
                code = "mlprov::push::bad-bundle",
                help = "remove the file, or sign again with `mlprov attest` / `mlprov sign`",
                "{} is not a Sigstore bundle: {e}",
                p.display()
            )
        })
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut out: Vec<(PathBuf, Bundle)> = Vec::new();
    let mut others = Vec::new();
    for p in paths {
        let (bundle, subjects) = read(&p)?;
        if !seen.insert(Sha256Digest::of(&bundle.bytes)) {
            continue;
        }
        if !subjects.contains(artifact_digest) && bundle.content == "dsse-envelope" {
            // Perhaps evidence about an input (below).
            others.push((p, bundle, subjects));
            continue;
        }
        if !bundle.manifests.is_empty() && !bundle.manifests.contains(manifest_digest) {
            cx.printer.warn(&format!(
                "leaving out {}: it names the OCI manifest {}, not the {} pushed now (an earlier build?)",
                p.display(),
                bundle.manifests[0].prefixed(),
                manifest_digest.prefixed()
            ));
            continue;
        }
        out.push((p, bundle));
    }
    // `sign` writes the OMS signature twice: `model.sig` with the one subject
    // model_signing accepts, and a companion that also names the manifest.
    // The registry gets the companion, which gates find by manifest digest.
    let is_oms = |b: &Bundle| b.predicate_type.as_deref() == Some(crate::intoto::PREDICATE_OMS);
    if out
        .iter()
        .any(|(_, b)| is_oms(b) && b.manifests.contains(manifest_digest))
    {
        out.retain(|(_, b)| !(is_oms(b) && b.manifests.is_empty()));
    }
    for (p, b) in &out {
        if b.content == "dsse-envelope" && b.manifests.is_empty() {
            cx.printer.note(&format!(
                "{} does not name the OCI manifest: admission gates that look attestations up by manifest digest (cosign, Kyverno) will not use it; `mlprov build`, `attest` and `sign` again make statements that do",
                p.display()
            ));
        }
    }
    let model: Vec<Bundle> = out.into_iter().map(|(_, b)| b).collect();

    // The inputs' evidence, breadth first from the model's provenance.
    let mut queue: std::collections::VecDeque<(Sha256Digest, Option<String>)> =
        model.iter().flat_map(|b| dependencies(&b.bytes)).collect();
    let mut visited = std::collections::BTreeSet::from([*artifact_digest]);
    let mut used = std::collections::BTreeSet::new();
    let mut inputs = Vec::new();
    let mut names = std::collections::BTreeMap::new();
    while let Some((digest, name)) = queue.pop_front() {
        if let Some(n) = name {
            names.entry(digest).or_insert(n);
        }
        if !visited.insert(digest) {
            continue;
        }
        let mut found: Vec<Bundle> = Vec::new();
        for (i, (_, b, subjects)) in others.iter().enumerate() {
            if subjects.contains(&digest) {
                used.insert(i);
                found.push(b.clone());
            }
        }
        for stored in list(&digest)? {
            let (b, subjects) = read(&stored.path)?;
            if subjects.contains(&digest) {
                found.push(b);
            }
        }
        let mut kept = std::collections::BTreeSet::new();
        for mut b in found {
            if !kept.insert(Sha256Digest::of(&b.bytes)) {
                continue;
            }
            queue.extend(dependencies(&b.bytes));
            b.about = Some(digest);
            inputs.push(b);
        }
    }
    for (i, (p, _, _)) in others.iter().enumerate() {
        if !used.contains(&i) {
            cx.printer.warn(&format!(
                "leaving out {}: it is about other content than {} and its inputs (an older build?)",
                p.display(),
                artifact_digest.prefixed()
            ));
        }
    }
    let mut bundles = model;
    bundles.extend(inputs);
    Ok(Evidence { bundles, names })
}

/// The bundles `push` publishes, and the input names the provenance gives
/// the digests they are about (for the report).
struct Evidence {
    bundles: Vec<Bundle>,
    names: std::collections::BTreeMap<Sha256Digest, String>,
}

/// The artifact dependencies (digest, name) a build provenance bundle
/// names; nothing for other bundles.
fn dependencies(bundle: &[u8]) -> Vec<(Sha256Digest, Option<String>)> {
    let Ok(b) = crate::sign::bundle::parse(bundle) else {
        return Vec::new();
    };
    if b.statement.predicate_type != crate::intoto::PREDICATE_SLSA_PROVENANCE {
        return Vec::new();
    }
    // An import provenance's dependencies are the input's own files, which
    // verification does not walk (as in `verify`'s walk).
    if b.statement
        .predicate
        .pointer("/buildDefinition/buildType")
        .and_then(|t| t.as_str())
        == Some(crate::intoto::BUILD_TYPE_IMPORT)
    {
        return Vec::new();
    }
    b.statement
        .predicate
        .pointer("/buildDefinition/resolvedDependencies")
        .and_then(|d| d.as_array())
        .map(|deps| {
            deps.iter()
                .filter_map(|d| {
                    let digest = d.pointer("/digest/sha256").and_then(|h| h.as_str())?;
                    Some((
                        Sha256Digest::from_hex(digest).ok()?,
                        d.get("name").and_then(|n| n.as_str()).map(str::to_string),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Repositories of the target's registry named by the lock's `oci` inputs:
/// a fine-tune pushed beside its base model mounts the shared blobs.
fn mount_candidates(project: &Project, target: &OciRef) -> Vec<String> {
    let Ok(Some(lock)) = Lock::load(&project.lock_path()) else {
        return Vec::new();
    };
    let mut out: Vec<String> = lock
        .inputs
        .iter()
        .filter_map(|i| match &i.source {
            Source::Oci { reference } => OciRef::parse(reference).ok(),
            _ => None,
        })
        .filter(|r| r.registry == target.registry && r.repository != target.repository)
        .map(|r| r.repository)
        .collect();
    out.sort();
    out.dedup();
    out
}
