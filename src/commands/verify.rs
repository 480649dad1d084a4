//! `mlprov verify [TARGET]`: verify one artifact: re-hash its files against
//! the signed manifest, check every signature against the trusted keys and
//! certificates, check subjects, and require attestations. TARGET may also
//! be an OCI reference: the registry's manifest and referrers feed the same
//! verifier.

use miette::{IntoDiagnostic, Result, WrapErr};

use super::{Context, ExitStatus, keys};
use crate::cli::{TrustArgs, VerifyArgs};
use crate::digest::Sha256Digest;
use crate::intoto::PREDICATE_OMS;
use crate::project::Project;
use crate::sign::oms;
use crate::store::Store;
use crate::verify::node::{
    BundleLookup, LocalBytes, Lookups, NodeRequest, RawBundle, SidecarDir, verify_node,
};
use crate::verify::report;

/// The trust the flags give; an empty trust is a usage error (mlprov never
/// trusts the key inside a signature).
pub(crate) fn trust_from_args(
    cx: &Context,
    args: &TrustArgs,
) -> Result<crate::sign::bundle::Trust> {
    let trust = keys::trust(cx, &args.key, &args.certificate_chain)?;
    if trust.keys.is_empty() && trust.roots.is_empty() {
        miette::bail!(
            code = "mlprov::usage",
            help = "pass --key PUB (repeatable) with the signer's public key, or --certificate-chain PEM",
            "no trusted signer given: mlprov never trusts the key inside a signature"
        );
    }
    Ok(trust)
}

/// Is `target` an OCI reference rather than a local path or a digest?
fn registry_target(cx: &Context, target: &str) -> Option<crate::registry::OciRef> {
    if target.starts_with("sha256:") || cx.cwd.join(target).exists() {
        return None;
    }
    let looks_like_ref = target
        .split('/')
        .next()
        .is_some_and(|host| host.contains('.') || host.contains(':') || host == "localhost");
    looks_like_ref
        .then(|| crate::registry::OciRef::parse(target).ok())
        .flatten()
}

/// The predicate types a model must prove: its file set (the OMS
/// signature) plus what was asked for.
fn required(extra: &[String]) -> Vec<String> {
    let mut require = vec![PREDICATE_OMS.to_string()];
    for r in extra {
        if !require.contains(r) {
            require.push(r.clone());
        }
    }
    require
}

/// Print verdicts (tree or JSON) and turn them into the exit status.
pub(crate) fn report_verdicts(
    cx: &Context,
    verdicts: &[crate::verify::node::NodeVerdict],
) -> ExitStatus {
    if cx.printer.is_json() {
        cx.printer.json(&report::json(verdicts));
    } else {
        cx.printer.out(&report::human(verdicts));
    }
    verdict_status(cx, verdicts)
}

/// The exit status of verdicts, with the one-line summary on stderr.
pub(crate) fn verdict_status(
    cx: &Context,
    verdicts: &[crate::verify::node::NodeVerdict],
) -> ExitStatus {
    let failed: Vec<_> = verdicts.iter().filter(|v| !v.verified()).collect();
    if failed.is_empty() {
        for v in verdicts {
            cx.printer.status(
                "Verified",
                &format!(
                    "{} {}",
                    v.name.as_deref().unwrap_or(""),
                    v.digest.map(|d| d.prefixed()).unwrap_or_default()
                ),
            );
        }
        return ExitStatus::Success;
    }
    let findings: Vec<_> = failed.iter().flat_map(|v| v.findings.iter()).collect();
    let codes: std::collections::BTreeSet<&str> = findings.iter().map(|f| f.code.code()).collect();
    cx.printer.error(&miette::miette!(
        code = "mlprov::verify::failed",
        "verification failed: {} finding(s) ({})",
        findings.len(),
        codes.into_iter().collect::<Vec<_>>().join(", ")
    ));
    ExitStatus::Failure
}

/// `verify REF`: the manifest's layers say which files (and so which
/// artifact digest) the reference holds; its referrers are the bundles.
fn verify_reference(
    cx: &Context,
    args: &VerifyArgs,
    trust: &crate::sign::bundle::Trust,
    reference: crate::registry::OciRef,
) -> Result<ExitStatus> {
    use crate::registry::{Client, pull};
    if cx.offline {
        miette::bail!(
            code = "mlprov::usage",
            help = "drop --offline, or verify a local copy (`mlprov pull` first)",
            "--offline: verifying {reference} needs the registry"
        );
    }
    let settings = super::push::registry_settings(&args.registry, &reference.registry)?;
    let client = Client::new(&reference.registry, &settings)?;
    let resolved = pull::resolve(&client, &reference)?;
    let (pulled, _) =
        pull::fetch_bundles(&client, &reference.repository, &resolved.manifest_digest)?;
    let pinned = format!(
        "{}@{}",
        resolved.reference.name(),
        resolved.manifest_digest.prefixed()
    );
    let mut bundles: Vec<RawBundle> = pulled
        .into_iter()
        .map(|b| RawBundle {
            source: format!("{pinned} referrer {}", b.referrer.prefixed()),
            bytes: b.bytes,
        })
        .collect();
    for b in &args.bundle {
        let p = cx.cwd.join(b);
        bundles.push(
            RawBundle::read(&p)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot read {}", p.display()))?,
        );
    }
    let store = Store::open_default();
    let reporter = cx.printer.reporter();
    let verdict = verify_node(
        NodeRequest {
            name: Some(pinned),
            expected: Some(resolved.parsed.artifact_digest),
            bytes: None,
            bundles,
            require: required(&args.trust.require),
            trust,
        },
        &Lookups(vec![&store]),
        &reporter,
    );
    Ok(report_verdicts(cx, &[verdict]))
}

pub fn run(cx: &Context, args: VerifyArgs) -> Result<ExitStatus> {
    let trust = trust_from_args(cx, &args.trust)?;
    if let Some(reference) = args.target.as_deref().and_then(|t| registry_target(cx, t)) {
        return verify_reference(cx, &args, &trust, reference);
    }

    let mut bundles = Vec::new();
    let mut require: Vec<String> = Vec::new();
    let read_bundle = |p: &std::path::Path| {
        let mut raw = RawBundle::read(p)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot read {}", p.display()))?;
        // Name it as the user would: relative to the working directory.
        if let Ok(rel) = p.strip_prefix(&cx.cwd) {
            raw.source = rel.display().to_string();
        }
        Ok::<_, miette::Report>(raw)
    };
    let digest_target = args
        .target
        .as_deref()
        .filter(|t| t.starts_with("sha256:"))
        .map(Sha256Digest::from_prefixed)
        .transpose()
        .map_err(|e| miette::miette!(code = "mlprov::usage", "{e}"))?;
    let (bytes, expected) = match digest_target {
        Some(d) => {
            if let Some(sig) = &args.signature {
                bundles.push(read_bundle(&cx.cwd.join(sig))?);
            }
            if args.trust.require.is_empty() {
                require.push(PREDICATE_OMS.to_string());
            }
            (None, Some(d))
        }
        None => {
            let path = match &args.target {
                Some(t) => cx.cwd.join(t),
                None => super::sign::artifact_path(cx)?,
            };
            if !path.exists() {
                miette::bail!(
                    code = "mlprov::verify::not_found",
                    help =
                        "pass a model directory or file, or a digest (sha256:…) in the local store",
                    "{}: no such file or directory",
                    path.display()
                );
            }
            let signature = args
                .signature
                .as_ref()
                .map(|s| cx.cwd.join(s))
                .unwrap_or_else(|| oms::default_signature_path(&path));
            if signature.is_file() {
                bundles.push(read_bundle(&signature)?);
            } else if args.signature.is_some() {
                miette::bail!(
                    code = "mlprov::verify::not_found",
                    "signature {} does not exist",
                    signature.display()
                );
            }
            // The file set is proven only by a signed manifest.
            require.push(PREDICATE_OMS.to_string());
            let mut ignore = oms::resolve_ignores(&path, &cx.cwd, &args.ignore_paths);
            if let Some(rel) = oms::signature_ignore(&path, &signature) {
                ignore.push(rel);
            }
            let settings = oms::Settings {
                ignore_paths: ignore,
                ignore_git_paths: true,
                allow_symlinks: false,
            };
            (Some(LocalBytes { path, settings }), None)
        }
    };
    for r in &args.trust.require {
        if !require.contains(r) {
            require.push(r.clone());
        }
    }
    for b in &args.bundle {
        bundles.push(read_bundle(&cx.cwd.join(b))?);
    }

    let store = Store::open_default();
    let sidecar = Project::discover(&cx.cwd)
        .ok()
        .map(|p| SidecarDir(p.out_dir()));
    let mut lookups: Vec<&dyn BundleLookup> = vec![&store];
    if let Some(s) = &sidecar {
        lookups.push(s);
    }
    let reporter = cx.printer.reporter();
    let verdict = verify_node(
        NodeRequest {
            name: None,
            expected,
            bytes,
            bundles,
            require,
            trust: &trust,
        },
        &Lookups(lookups),
        &reporter,
    );
    Ok(report_verdicts(cx, &[verdict]))
}
