//! `mlprov pull REF [-o DIR]`: download into a staging directory next to
//! DIR (every blob checked against its digest while streaming), fetch the
//! bundle referrers, verify the staged model and its whole provenance graph
//! exactly as `verify REF` does (the same policy, trust and report), and
//! only then move the files into DIR.

use miette::{Result, miette};
use serde_json::json;

use super::push::registry_settings;
use super::{Context, ExitStatus};
use crate::cli::PullArgs;
use crate::digest::Sha256Digest;
use crate::fsutil::human_bytes;
use crate::registry::pull::{self, Staged};
use crate::registry::{Client, OciRef};

pub fn run(cx: &Context, args: PullArgs) -> Result<ExitStatus> {
    let reference = OciRef::parse(&args.reference)?;
    if cx.offline {
        return Err(miette!(
            code = "mlprov::usage",
            help = "drop --offline (or MLPROV_OFFLINE) to pull",
            "--offline: pulling needs the network"
        ));
    }
    let dest = match &args.output {
        Some(d) => cx.cwd.join(d),
        None => cx.cwd.join(
            reference
                .repository
                .rsplit('/')
                .next()
                .unwrap_or(&reference.repository),
        ),
    };
    // Know whom to trust before downloading anything.
    if !args.no_verify {
        super::verify::trust_from_args(cx, &args.trust).map_err(|e| {
            miette!(
                code = "mlprov::usage",
                help = "pass --key PUB (or --certificate-chain PEM) for the signer you trust; --no-verify places files without checking who signed them",
                "pull verifies before it places files: {e}"
            )
        })?;
    }
    let settings = registry_settings(&args.registry, &reference.registry)?;
    cx.printer.note(&format!(
        "registry {} as {}",
        reference.registry,
        settings.credentials.describe()
    ));
    let client = Client::new(&reference.registry, &settings)?;
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
        let (status, report) = verify(cx, &args, &staged)?;
        if status != ExitStatus::Success {
            if cx.printer.is_json() {
                cx.printer.json(&report);
            }
            cx.printer.status_dim(
                "Discarded",
                &format!("the download; nothing was placed in {}", dest.display()),
            );
            return Ok(ExitStatus::Failure);
        }
        verification = Some(report);
        true
    };

    let resolved = staged.resolved.clone();
    let bundles: Vec<_> = staged
        .bundles
        .iter()
        .map(|b| (b.referrer, b.predicate_type.clone()))
        .collect();
    let api = staged.referrers_api;
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
        cx.printer.json(&json!({
            "reference": reference.to_string(),
            "pulled": pinned,
            "digest": resolved.manifest_digest.prefixed(),
            "artifact_digest": resolved.parsed.artifact_digest.prefixed(),
            "directory": placed.display().to_string(),
            "verified": verified,
            "verification": verification,
            "files": resolved.parsed.files.iter().map(|f| json!({
                "path": f.entry.path,
                "size": f.entry.size,
                "sha256": f.entry.sha256.hex(),
                "media_type": f.kind.media_type(),
            })).collect::<Vec<_>>(),
            "bundles": bundles.iter().map(|(d, p)| json!({
                "referrer": d.prefixed(),
                "predicate_type": p,
            })).collect::<Vec<_>>(),
            "referrers_via": if api { "api" } else { "tag-schema" },
        }));
        return Ok(ExitStatus::Success);
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
            bundles.len(),
            if bundles.len() == 1 { "" } else { "s" },
            if api {
                "referrers API"
            } else {
                "referrers tag schema"
            }
        ),
    );
    cx.printer.out(&format!("{pinned}\n"));
    Ok(ExitStatus::Success)
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
) -> Result<(ExitStatus, serde_json::Value)> {
    use crate::verify::node::{RawBundle, Status};
    let location = format!(
        "{}@{}",
        staged.resolved.reference.name(),
        staged.resolved.manifest_digest.prefixed()
    );
    let referrers: Vec<RawBundle> = staged
        .bundles
        .iter()
        .map(|b| RawBundle {
            source: format!("{location} referrer {}", b.referrer.prefixed()),
            bytes: b.bytes.clone(),
        })
        .collect();
    let flags = super::verify::Flags {
        trust: &args.trust,
        graph: &args.graph,
        registry: &args.registry,
        target_registry: Some(&staged.resolved.reference.registry),
    };
    let out = super::verify::verify_with(cx, &flags, &|_, _| {
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
        cx.printer.detail(&crate::verify::report::graph_human(g));
    }
    let status = super::verify::graph_status(cx, g);
    if status == ExitStatus::Success {
        // Keep what verified, so `verify sha256:…`, `graph` and `why` see it.
        let store = crate::store::Store::open_default();
        for a in g.root().verdict.iter().flat_map(|v| v.attestations.iter()) {
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
    Ok((status, crate::verify::report::graph_json(g)))
}
