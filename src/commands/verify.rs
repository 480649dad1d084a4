//! `mlprov verify [TARGET]`: verify one artifact offline: re-hash its
//! files against the signed manifest, check every signature against the
//! trusted keys and certificates, check subjects, and require attestations.

use miette::{IntoDiagnostic, Result, WrapErr};

use super::{Context, ExitStatus, keyless, keys};
use crate::cli::VerifyArgs;
use crate::digest::Sha256Digest;
use crate::intoto::PREDICATE_OMS;
use crate::project::Project;
use crate::sign::oms;
use crate::store::Store;
use crate::verify::node::{
    BundleLookup, LocalBytes, Lookups, NodeRequest, RawBundle, SidecarDir, verify_node,
};
use crate::verify::report;

pub fn run(cx: &Context, args: VerifyArgs) -> Result<ExitStatus> {
    let mut trust = keys::trust(cx, &args.key, &args.certificate_chain)?;
    trust.identities = keyless::identity_rules(&args.keyless)?;
    if trust.keys.is_empty() && trust.roots.is_empty() && trust.identities.is_empty() {
        miette::bail!(
            code = "mlprov::usage",
            help = "pass --key PUB (repeatable) with the signer's public key, --certificate-chain PEM, \
                    or for keyless signatures --certificate-identity and --certificate-oidc-issuer",
            "no trusted signer given: mlprov never trusts the key inside a signature"
        );
    }
    trust.sigstore = Some(keyless::trusted_root(
        cx,
        args.keyless.trusted_root.as_deref(),
        args.keyless.refresh_trusted_root,
    )?);

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
            if args.require.is_empty() {
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
    for r in &args.require {
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
    let verdicts = [verdict];
    if cx.printer.is_json() {
        cx.printer.json(&report::json(&verdicts));
    } else {
        cx.printer.out(&report::human(&verdicts));
    }
    let v = &verdicts[0];
    if v.verified() {
        cx.printer.status(
            "Verified",
            &format!(
                "{} {}",
                v.name.as_deref().unwrap_or(""),
                v.digest.map(|d| d.prefixed()).unwrap_or_default()
            ),
        );
        Ok(ExitStatus::Success)
    } else {
        let codes: std::collections::BTreeSet<&str> =
            v.findings.iter().map(|f| f.code.code()).collect();
        cx.printer.error(&miette::miette!(
            code = "mlprov::verify::failed",
            "verification failed: {} finding(s) ({})",
            v.findings.len(),
            codes.into_iter().collect::<Vec<_>>().join(", ")
        ));
        Ok(ExitStatus::Failure)
    }
}
