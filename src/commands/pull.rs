//! `mlprov pull REF [-o DIR]`: download into a staging directory next to
//! DIR (every blob checked against its digest while streaming), fetch the
//! bundle referrers, verify the staged model and its whole provenance graph
//! exactly as `verify REF` does (the same policy, trust and report), and
//! only then move the files into DIR.

use miette::{Result, miette};

use super::Context;
use crate::cli::PullArgs;
use crate::digest::Sha256Digest;
use crate::fsutil::human_bytes;
use crate::registry::pull::{self, Staged};
use crate::registry::{Client, OciRef};
use crate::settings::registry::access as registry_access;
use crate::settings::trust;

pub fn run(cx: &Context, args: PullArgs) -> Result<()> {
    // A KServe storageUri (`oci://…`) names the same reference.
    let reference = OciRef::parse(
        args.reference
            .strip_prefix("oci://")
            .unwrap_or(&args.reference),
    )?;
    if cx.settings.offline {
        return Err(miette!(
            code = "mlprov::usage",
            help = format!("{} to pull", cx.settings.online_hint()),
            "{}: pulling needs the network",
            cx.settings.offline_cause
        ));
    }
    let dest = match args.output.as_ref().or(args.dir.as_ref()) {
        Some(d) => cx.settings.cwd.join(d),
        None => cx.settings.cwd.join(
            reference
                .repository
                .rsplit('/')
                .next()
                .unwrap_or(&reference.repository),
        ),
    };
    // Know whom to trust before downloading anything.
    if !args.no_verify {
        trust::trust_from_args(&cx.settings, &cx.printer, &args.trust).map_err(|e| {
            miette!(
                code = "mlprov::usage",
                help = "pass --key PUB (or --certificate-chain PEM) for the signer you trust; --no-verify places files without checking who signed them",
                "pull verifies before it places files: {e}"
            )
        })?;
    }
    let access = registry_access(
        Some(&args.registry),
        &[&reference.registry],
        &cx.settings.env,
    )?;
    let settings = access.settings_for(&reference.registry)?;
    cx.printer.note(&format!(
        "registry {} as {}",
        reference.registry,
        settings.credentials.describe()
    ));
    let client =
        Client::new(&reference.registry, &settings)?.with_blob_cache(&cx.settings.paths.cache);
    // SIGINT, SIGTERM, SIGHUP: remove the staging directory, then end as
    // the signal would (130). A second handler is never needed: one pull
    // per process.
    let _ = ctrlc::set_handler(|| {
        crate::cleanup::remove_registered();
        eprintln!("interrupted: the partial download was removed");
        std::process::exit(130);
    });
    let reporter = cx.printer.reporter();
    let staged = pull::stage(&client, &reference, &dest, &reporter)?;

    let mut verification = None;
    let verified = if args.no_verify {
        cx.printer.warn(&format!(
            "--no-verify: NOT checking signatures, required attestations or policy for {}; only the digests of the downloaded bytes were checked. Do not load these files where they could run unless you trust the registry",
            staged.resolved.reference
        ));
        false
    } else {
        let (failure, report) = verify(cx, &args, &staged, access)?;
        if let Some(failure) = failure {
            if cx.printer.is_json() {
                cx.printer.document(&document(
                    &reference,
                    &staged.resolved,
                    &staged.bundles,
                    staged.referrers_api,
                    None,
                    false,
                    Some(report),
                ));
            }
            cx.printer.status_dim(
                "Discarded",
                &format!("the download; nothing was placed in {}", dest.display()),
            );
            return Err(failure);
        }
        verification = Some(report);
        true
    };

    let resolved = staged.resolved.clone();
    let bundles = staged.bundles.len();
    let api = staged.referrers_api;
    // Described before the staged files move into place.
    let mut described = document(
        &reference,
        &staged.resolved,
        &staged.bundles,
        staged.referrers_api,
        None,
        verified,
        verification,
    );
    let placed = staged.place()?;

    let pinned = format!(
        "{}@{}",
        resolved.reference.name(),
        resolved.manifest_digest.prefixed()
    );
    cx.printer
        .step_output("digest", &resolved.manifest_digest.prefixed());
    cx.printer.step_output("ref", &pinned);
    cx.printer
        .step_output("directory", &placed.display().to_string());
    if cx.printer.is_json() {
        described.directory = Some(placed.display().to_string());
        cx.printer.document(&described);
        return Ok(());
    }
    let n = resolved.parsed.files.len();
    cx.printer.status(
        "Pulled",
        &format!(
            "{} ({} file{}, {}) into {}",
            pinned,
            n,
            if n == 1 { "" } else { "s" },
            human_bytes(resolved.parsed.total_size()),
            placed.display()
        ),
    );
    cx.printer.status_dim(
        "Fetched",
        &format!(
            "{} bundle{} ({})",
            bundles,
            if bundles == 1 { "" } else { "s" },
            if api {
                "referrers API"
            } else {
                "referrers tag schema"
            }
        ),
    );
    cx.printer.out(&format!("{pinned}\n"));
    Ok(())
}

/// The `--format json` document of a pull; `placed` is `None` when the
/// download was discarded.
fn document(
    reference: &crate::registry::OciRef,
    resolved: &crate::registry::pull::Resolved,
    bundles: &[crate::registry::pull::PulledBundle],
    referrers_api: bool,
    placed: Option<&std::path::Path>,
    verified: bool,
    verification: Option<serde_json::Value>,
) -> crate::document::PullDocument {
    use crate::document::{PullDocument, PulledBundle, PulledFile};
    PullDocument {
        version: crate::document::VERSION,
        reference: reference.to_string(),
        pulled: format!(
            "{}@{}",
            resolved.reference.name(),
            resolved.manifest_digest.prefixed()
        ),
        digest: resolved.manifest_digest.prefixed(),
        artifact_digest: resolved.parsed.artifact_digest.prefixed(),
        directory: placed.map(|p| p.display().to_string()),
        verified,
        verification,
        files: resolved
            .parsed
            .files
            .iter()
            .map(|f| PulledFile {
                path: f.entry.path.clone(),
                size: f.entry.size,
                sha256: f.entry.sha256.hex(),
                media_type: f.kind.media_type().to_string(),
            })
            .collect(),
        bundles: bundles
            .iter()
            .map(|b| PulledBundle {
                referrer: b.referrer.prefixed(),
                predicate_type: b.predicate_type.clone(),
            })
            .collect(),
        referrers_via: if referrers_api { "api" } else { "tag-schema" }.to_string(),
    }
}

/// Verification of the staged content and its provenance graph, before
/// anything is placed: the same verification as `verify REF` (the graph,
/// the policy of `--policy` or the project, the trusted keys and
/// identities), with the staged files as the root's bytes, re-hashed
/// against the signed OMS manifest, which must be about the artifact the
/// registry's layers give. The root's bundles that verified are filed in
/// the local store.
fn verify(
    cx: &Context,
    args: &PullArgs,
    staged: &Staged,
    access: crate::registry::Access,
) -> Result<(Option<miette::Report>, serde_json::Value)> {
    use crate::verify::node::{RawBundle, Status};
    let location = format!(
        "{}@{}",
        staged.resolved.reference.name(),
        staged.resolved.manifest_digest.prefixed()
    );
    let raw = |b: &crate::registry::pull::PulledBundle| RawBundle {
        source: format!("{location} referrer {}", b.referrer.prefixed()),
        bytes: b.bytes.clone(),
    };
    // The model's own bundles are the root's; the inputs' evidence is found
    // for the nodes it is about.
    let referrers: Vec<RawBundle> = staged
        .bundles
        .iter()
        .filter(|b| !b.input_evidence)
        .map(raw)
        .collect();
    let evidence: Vec<crate::verify::locate::Evidence> = staged
        .bundles
        .iter()
        .filter(|b| b.input_evidence)
        .map(|b| crate::verify::locate::Evidence {
            about: b.about,
            bundle: raw(b),
        })
        .collect();
    let flags = crate::settings::verify::Flags {
        trust: &args.trust,
        graph: &args.graph,
        registry: &args.registry,
        target_registry: Some(&staged.resolved.reference.registry),
        access: Some(access),
        role: None,
    };
    let out =
        crate::settings::verify::verify_with(&cx.settings, &cx.printer, &flags, &|registry, _| {
            registry.add_evidence(evidence.clone());
            let root = crate::verify::target::staged(
                staged.dir(),
                &location,
                staged.resolved.parsed.artifact_digest,
                staged.resolved.manifest_digest,
                referrers.clone(),
            );
            Ok(crate::verify::target::Resolved {
                resource_uri: root.uri.clone().unwrap_or_default(),
                root,
                project_root: None,
            })
        })?;
    let g = &out.graph;
    if !cx.printer.is_json() {
        cx.printer
            .detail(&crate::verify::report::graph_human_styled(
                g,
                cx.printer.color_stderr(),
            ));
    }
    let failure = crate::output::graph_summary(&cx.printer, &cx.settings.cwd, g).err();
    if failure.is_none() {
        // Keep what verified, about the model and about its inputs, so
        // `verify sha256:…`, `graph` and `why` see it.
        let store = cx.settings.paths.store();
        for a in g
            .nodes
            .iter()
            .flat_map(|n| n.verdict.iter())
            .flat_map(|v| v.attestations.iter())
        {
            if a.status != Status::Verified {
                continue;
            }
            let Some(b) = staged
                .bundles
                .iter()
                .find(|b| Sha256Digest::of(&b.bytes) == a.bundle_digest)
            else {
                continue;
            };
            let Ok(parsed) = crate::sign::bundle::parse(&b.bytes) else {
                continue;
            };
            let subjects: Vec<Sha256Digest> = parsed
                .statement
                .subject
                .iter()
                .filter_map(|s| s.sha256_digest())
                .collect();
            store
                .put(&b.bytes, &parsed.statement.predicate_type, &subjects)
                .map_err(|e| {
                    miette!(
                        code = "mlprov::pull::store",
                        help = "check MLPROV_HOME and its permissions",
                        "cannot file the pulled bundles in the local store {}: {e}",
                        store.root().display()
                    )
                })?;
        }
    }
    Ok((failure, crate::verify::report::graph_json(g)))
}
