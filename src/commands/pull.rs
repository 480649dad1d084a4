//! `mlprov pull REF [-o DIR]`: download into a staging directory next to
//! DIR (every blob checked against its digest while streaming), fetch the
//! bundle referrers, verify, and only then move the files into DIR.

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
    let trust = if args.no_verify {
        None
    } else {
        Some(super::verify::trust_from_args(cx, &args.trust).map_err(|e| {
            miette!(
                code = "mlprov::usage",
                help = "pass --key PUB (or --certificate-chain PEM) for the signer you trust; --no-verify places files without checking who signed them",
                "pull verifies before it places files: {e}"
            )
        })?)
    };
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
        let trust = trust.as_ref().ok_or_else(|| miette!("no trust"))?;
        let (status, report) = verify(cx, &staged, trust, &args.trust.require)?;
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

/// Signature verification of the staged content, before anything is
/// placed: the staged files are re-hashed against the signed OMS manifest,
/// which must be about the artifact digest the registry's layers give, and
/// every required predicate type must be proven by a trusted bundle. The
/// bundles that verified are filed in the local store.
fn verify(
    cx: &Context,
    staged: &Staged,
    trust: &crate::sign::trust::Trust,
    require: &[String],
) -> Result<(ExitStatus, serde_json::Value)> {
    use crate::verify::node::{LocalBytes, Lookups, NodeRequest, RawBundle, Status, verify_node};
    let pinned = format!(
        "{}@{}",
        staged.resolved.reference.name(),
        staged.resolved.manifest_digest.prefixed()
    );
    let bundles: Vec<RawBundle> = staged
        .bundles
        .iter()
        .map(|b| RawBundle {
            source: format!("{pinned} referrer {}", b.referrer.prefixed()),
            bytes: b.bytes.clone(),
        })
        .collect();
    let mut required = vec![crate::intoto::PREDICATE_OMS.to_string()];
    required.extend(
        require
            .iter()
            .filter(|r| *r != crate::intoto::PREDICATE_OMS)
            .cloned(),
    );
    let store = crate::store::Store::open_default();
    let reporter = cx.printer.reporter();
    let verdict = verify_node(
        NodeRequest {
            name: Some(pinned),
            expected: Some(staged.resolved.parsed.artifact_digest),
            bytes: Some(LocalBytes {
                path: staged.dir().to_path_buf(),
                settings: crate::digest::SetOptions::artifact(),
            }),
            listed: None,
            bundles,
            require: required,
            trust,
        },
        &Lookups(vec![&store]),
        &reporter,
    );
    let verdicts = std::slice::from_ref(&verdict);
    if !cx.printer.is_json() {
        cx.printer.detail(&crate::verify::report::human(verdicts));
    }
    let status = super::verify::verdict_status(cx, verdicts);
    if status == ExitStatus::Success {
        // Keep what verified, so `verify sha256:…`, `graph` and `why` see it.
        for a in &verdict.attestations {
            if !matches!(a.status, Status::Verified) {
                continue;
            }
            let (Some(st), Some(b)) = (
                a.statement.as_ref(),
                staged
                    .bundles
                    .iter()
                    .find(|b| Sha256Digest::of(&b.bytes) == a.bundle_digest),
            ) else {
                continue;
            };
            let subjects: Vec<Sha256Digest> = st
                .subject
                .iter()
                .filter_map(|s| s.sha256_digest())
                .collect();
            store
                .put(&b.bytes, &st.predicate_type, &subjects)
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
    Ok((status, crate::verify::report::json(verdicts)))
}
