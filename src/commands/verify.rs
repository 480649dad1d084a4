//! `mlprov verify [TARGET]`: verify an artifact and its provenance graph:
//! re-hash its files against the signed manifest, check every signature
//! against the trusted keys and certificates, check subjects, require
//! attestations, then walk `resolvedDependencies` recursively, each input
//! under the policy for its role. TARGET may also be an OCI reference: the
//! registry's manifest and referrers feed the same verifier.

use miette::{IntoDiagnostic, Result, WrapErr};

use super::Context;
use crate::cli::VerifyArgs;
use crate::settings::signing;
use crate::settings::verify::{Outcome, verify_target};
use crate::verify::target::Target;
use crate::verify::{report, vsa};

pub fn run(cx: &Context, args: VerifyArgs) -> Result<()> {
    if args.attach && (args.emit_vsa.is_none() || (args.vsa_key.is_none() && !args.vsa_keyless)) {
        miette::bail!(
            code = "mlprov::usage",
            help = "add --emit-vsa FILE with --vsa-key KEY or --vsa-keyless",
            "--attach publishes a signed VSA, but none is made"
        );
    }
    if args.attach {
        let remote = match args.target.as_deref() {
            Some(t) => matches!(Target::parse(t, &cx.settings.cwd)?, Target::Reference(_)),
            None => false,
        };
        if !remote {
            miette::bail!(
                code = "mlprov::usage",
                help = "verify the model by its reference, e.g. `mlprov verify registry.example.com/models/m:1.0 … --attach`",
                "--attach puts the VSA beside the model in its registry: TARGET must be an OCI reference"
            );
        }
    }
    let out = verify_target(&cx.settings, &cx.printer, &args)?;
    if cx.printer.is_json() {
        cx.printer.json(&report::graph_json(&out.graph));
    } else {
        cx.printer.out(&report::graph_human_styled(
            &out.graph,
            cx.printer.color_stdout(),
        ));
        cx.printer.detail(&report::policy_human(
            &out.graph,
            &out.policy,
            &cx.settings.cwd,
        ));
    }
    if let Some(file) = &args.emit_vsa {
        emit_vsa(cx, &args, &out, file)?;
    }
    if cx.printer.github_actions {
        cx.printer.step_summary(&report::graph_markdown(&out.graph));
        let g = &out.graph;
        cx.printer
            .step_output("verified", if g.verified() { "true" } else { "false" });
        if let Some(d) = g.root().digest {
            cx.printer.step_output("digest", &d.prefixed());
        }
    }
    crate::output::graph_summary(&cx.printer, &cx.settings.cwd, &out.graph)
}

fn file_uri(p: &std::path::Path) -> String {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    format!("file://{}", abs.display())
}

fn emit_vsa(cx: &Context, args: &VerifyArgs, out: &Outcome, file: &std::path::Path) -> Result<()> {
    let clock = cx.settings.env.clock()?;
    let policy = out.policy.source.as_ref().map(|s| vsa::PolicyRef {
        uri: file_uri(std::path::Path::new(s)),
        sha256: out.policy.digest,
    });
    let root = out.graph.root();
    let manifest = match (&out.reference, root.manifest_digest) {
        (Some(r), Some(m)) => Some(crate::registry::plan::manifest_subject(Some(&r.name()), &m)),
        _ => None,
    };
    let st = vsa::statement(
        &out.graph,
        &out.resource_uri,
        policy.as_ref(),
        &clock.now(),
        manifest,
    );
    let payload = serde_json::to_vec(&st).into_diagnostic()?;
    let signed = args.vsa_key.is_some() || args.vsa_keyless;
    let bytes = if signed {
        let sign_args = args.vsa_sigstore.sign_args(
            args.vsa_keyless,
            args.rekor_url.clone(),
            args.tlog_upload,
            args.trust.keyless.trusted_root.clone(),
        );
        signing::prepare(
            &cx.settings,
            &cx.printer,
            &cx.prompt(),
            args.vsa_key.as_deref(),
            &sign_args,
        )?
        .start(&cx.printer)?
        .sign(&payload)?
    } else {
        let mut v = serde_json::to_vec_pretty(&st).into_diagnostic()?;
        v.push(b'\n');
        v
    };
    let path = cx.settings.cwd.join(file);
    crate::fsutil::write_atomic(&path, &bytes)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write {}", path.display()))?;
    cx.printer.status(
        "Wrote",
        &format!(
            "verification summary ({}) → {}",
            if signed {
                "signed"
            } else {
                "unsigned statement"
            },
            path.display()
        ),
    );
    if args.attach {
        attach_vsa(cx, out, bytes)?;
    }
    Ok(())
}

/// `--attach`: the signed VSA as a referrer of the verified manifest, in
/// the layout `push` gives every bundle (cosign's).
fn attach_vsa(cx: &Context, out: &Outcome, bundle: Vec<u8>) -> Result<()> {
    let root = out.graph.root();
    let (Some(reference), Some(manifest)) = (&out.reference, root.manifest_digest) else {
        miette::bail!(
            code = "mlprov::usage",
            help = "verify the model by its registry reference (`mlprov verify registry.example.com/models/m:1.0 …`)",
            "--attach publishes the VSA beside the model in its registry, but the verified target is not an OCI reference"
        );
    };
    if !out.graph.verified() {
        cx.printer.warn(&format!(
            "not attaching the VSA to {}: the verification failed, and a gate must not find a summary of a failed check beside the model",
            reference.name()
        ));
        return Ok(());
    }
    let (b, _) = crate::registry::push::Bundle::from_bytes(bundle).map_err(|e| {
        miette::miette!(
            code = "mlprov::verify::vsa",
            "the signed VSA is not a bundle: {e}"
        )
    })?;
    let settings = out.access.settings_for(&reference.registry)?;
    let client = crate::registry::Client::new(&reference.registry, &settings)?;
    let repo = reference.repository.as_str();
    let (manifest_bytes, _) = client.get_manifest(repo, &manifest.prefixed())?;
    if crate::digest::Sha256Digest::of(&manifest_bytes) != manifest {
        miette::bail!(
            code = "mlprov::verify::attach",
            help =
                "the registry answered other bytes for the manifest's digest; check the registry",
            "{}@{}: the registry served a manifest with another digest",
            reference.name(),
            manifest.prefixed()
        );
    }
    let created = serde_json::from_slice::<serde_json::Value>(&manifest_bytes)
        .ok()
        .and_then(|v| {
            v.pointer("/annotations/org.opencontainers.image.created")
                .and_then(|c| c.as_str())
                .map(str::to_string)
        });
    let subject = crate::registry::push::Subject {
        digest: manifest,
        size: manifest_bytes.len() as u64,
        created: vsa::time_verified(&b.bytes).or(created).unwrap_or_default(),
    };
    let (pushed, via) = crate::registry::push::attach(&client, repo, &subject, &[b])?;
    for r in &pushed {
        cx.printer.status(
            "Attached",
            &format!(
                "{} {} to {}@{}",
                r.predicate_type.as_deref().unwrap_or("(bundle)"),
                r.digest.prefixed(),
                reference.name(),
                manifest.prefixed()
            ),
        );
    }
    if via == crate::registry::push::ReferrersVia::TagSchema {
        cx.printer.note(
            "referrers indexed by the referrers tag schema (this registry has no referrers API)",
        );
    }
    Ok(())
}
