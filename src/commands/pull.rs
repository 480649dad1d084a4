//! `mlprov pull REF [-o DIR]`: download into a staging directory next to
//! DIR (every blob checked against its digest while streaming), fetch the
//! bundle referrers, verify, and only then move the files into DIR.

use miette::{Result, miette};
use serde_json::json;

use super::push::registry_settings;
use super::{Context, ExitStatus};
use crate::cli::PullArgs;
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
    let settings = registry_settings(&args.registry, &reference.registry)?;
    cx.printer.note(&format!(
        "registry {} as {}",
        reference.registry,
        settings.credentials.describe()
    ));
    let client = Client::new(&reference.registry, &settings)?;
    let reporter = cx.printer.reporter();
    let staged = pull::stage(&client, &reference, &dest, &reporter)?;

    let verified = if args.no_verify {
        cx.printer.warn(&format!(
            "--no-verify: NOT checking signatures, required attestations or policy for {}; only the digests of the downloaded bytes were checked. Do not load these files where they could run unless you trust the registry",
            staged.resolved.reference
        ));
        false
    } else {
        match verify(cx, &staged) {
            Ok(()) => true,
            Err(e) => {
                cx.printer.error(&e);
                cx.printer.status_dim(
                    "Discarded",
                    &format!("the download; nothing was placed in {}", dest.display()),
                );
                return Ok(ExitStatus::Failure);
            }
        }
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
    if cx.printer.is_json() {
        cx.printer.json(&json!({
            "reference": reference.to_string(),
            "pulled": pinned,
            "digest": resolved.manifest_digest.prefixed(),
            "artifact_digest": resolved.parsed.artifact_digest.prefixed(),
            "directory": placed.display().to_string(),
            "verified": verified,
            "files": resolved.parsed.files.iter().map(|f| json!({
                "path": f.path,
                "size": f.size,
                "sha256": f.sha256.hex(),
                "media_type": f.media_type,
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

/// Signature and policy verification of the staged content, before anything
/// is placed. Fails closed: this build has no verifier for signed bundles
/// yet, so only `--no-verify` places files.
fn verify(_cx: &Context, staged: &Staged) -> Result<()> {
    Err(miette!(
        code = "mlprov::pull::unverifiable",
        help = "pass --no-verify to accept content whose bytes match the registry's digests without checking who signed it",
        "cannot verify {}: this mlprov has no signature verifier ({} bundle{} fetched)",
        staged.resolved.reference,
        staged.bundles.len(),
        if staged.bundles.len() == 1 { "" } else { "s" }
    ))
}
