//! `mlprov promote SRC DST`: the control point between registry tiers.
//! SRC is verified exactly as `verify REF` verifies it (the same library
//! call: graph, policy, trust); then its blobs, its manifest by digest and
//! every referrer (the model's bundles and its inputs' evidence) are copied
//! to DST (`registry::copy`); then a VSA of this verification, naming the
//! promotion policy, is signed and attached to the manifest in DST; only
//! then is DST's tag moved. A failure at any step leaves the tag where it
//! was and says what was not copied; a rerun copies only what is missing.

use miette::{IntoDiagnostic, Result, miette};

use super::Context;
use crate::cli::{PromoteArgs, VerifyArgs};
use crate::document::{
    PromoteBlob, PromoteDocument, PromoteItem, PromotePlan, PromoteReferrer, PromotedVsa,
};
use crate::fsutil::human_bytes;
use crate::intoto::PREDICATE_VSA;
use crate::registry::copy::{self, BlobAction, Plan};
use crate::registry::{Client, OciRef};
use crate::settings::registry::access as registry_access;
use crate::settings::signing;
use crate::settings::verify::verify_target;
use crate::verify::{report, vsa};

fn usage(message: String, help: &str) -> miette::Report {
    miette!(code = "mlprov::usage", help = help.to_string(), "{message}")
}

fn parse_ref(s: &str, what: &str) -> Result<OciRef> {
    let s = s.strip_prefix("oci://").unwrap_or(s);
    OciRef::parse(s).map_err(|e| {
        miette!(
            code = "mlprov::registry::reference",
            help = "write registry/repository:tag, e.g. registry.example.com/models/m:1.0",
            "{what}: {e}"
        )
    })
}

pub fn run(cx: &Context, args: PromoteArgs) -> Result<()> {
    let source = parse_ref(&args.source, "SRC")?;
    let destination = parse_ref(&args.destination, "DST")?;
    if cx.settings.offline {
        return Err(usage(
            "--offline: promoting needs both registries".into(),
            "drop --offline (or MLPROV_OFFLINE) to promote",
        ));
    }
    if destination.digest.is_some() {
        return Err(usage(
            format!(
                "DST `{}` names a digest: promote moves a tag",
                args.destination
            ),
            "name DST by its tag, e.g. registry.example.com/models/m:1.0 (the digest is SRC's)",
        ));
    }
    let Some(tag) = destination.tag.clone().or_else(|| source.tag.clone()) else {
        return Err(usage(
            format!(
                "DST `{}` has no tag, and SRC is pinned by digest, so there is no tag to take",
                args.destination
            ),
            "give DST a tag, e.g. registry.example.com/models/m:1.0",
        ));
    };
    if source.registry == destination.registry
        && source.repository == destination.repository
        && source.tag.as_deref() == Some(tag.as_str())
    {
        return Err(usage(
            format!("SRC and DST are the same tag `{}:{tag}`", source.name()),
            "promote into another repository or registry (the trusted tier)",
        ));
    }
    let project = crate::project::Project::discover(&cx.settings.cwd).ok();
    if args.graph.policy.is_empty() && project.is_none() {
        return Err(usage(
            "promote names its policy in the VSA it attaches, and there is none: no --policy and no mlprov.toml here".into(),
            "pass --policy promote.toml (a [policy] table: signers, required attestations, [policy.model-card])",
        ));
    }
    if !args.dry_run && args.vsa_key.is_none() && !args.vsa_keyless {
        return Err(usage(
            "promote attaches a signed VSA to the promoted model, but no signer is given".into(),
            "pass --vsa-key KEY (the gate's key) or --vsa-keyless, or --dry-run to see the plan",
        ));
    }

    // The VSA's signer first: a wrong key or password fails before anything
    // is read from or written to a registry.
    let signer = if args.dry_run {
        None
    } else {
        let sign_args = args.vsa_sigstore.sign_args(
            args.vsa_keyless,
            args.rekor_url.clone(),
            args.tlog_upload,
            args.trust.keyless.trusted_root.clone(),
        );
        Some(
            signing::prepare(
                &cx.settings,
                &cx.printer,
                &cx.prompt(),
                args.vsa_key.as_deref(),
                &sign_args,
            )?
            .start(&cx.printer)?,
        )
    };

    // SRC, verified as `verify REF` verifies it.
    let verify_args = VerifyArgs {
        target: Some(source.to_string()),
        trust: args.trust.clone(),
        signature: None,
        bundle: Vec::new(),
        ignore_paths: Vec::new(),
        role: None,
        registry: args.registry.clone(),
        graph: args.graph.clone(),
        emit_vsa: None,
        vsa_key: None,
        tlog_upload: None,
        rekor_url: None,
        vsa_keyless: false,
        attach: false,
        vsa_sigstore: args.vsa_sigstore.clone(),
    };
    let out = verify_target(&cx.settings, &cx.printer, &verify_args)?;
    let g = &out.graph;
    cx.printer.detail(&report::graph_human(g));
    cx.printer
        .detail(&report::policy_human(g, &out.policy, &cx.settings.cwd));
    let target = format!("{}:{tag}", destination.name());
    let mut doc = PromoteDocument {
        version: crate::document::VERSION,
        source: args.source.clone(),
        destination: target.clone(),
        digest: None,
        dry_run: args.dry_run,
        verified: g.verified(),
        promoted: false,
        already_promoted: false,
        verification: report::graph_json(g),
        plan: None,
        vsa: None,
    };
    if !g.verified() {
        if cx.printer.is_json() {
            cx.printer.document(&doc);
        }
        cx.printer.status_dim(
            "Refused",
            &format!("{}: nothing was copied to {target}", source),
        );
        return crate::output::graph_summary(&cx.printer, &cx.settings.cwd, g);
    }
    let manifest_digest = g.root().manifest_digest.ok_or_else(|| {
        miette!(
            code = "mlprov::promote::no-manifest",
            "{source} verified, but its manifest digest is unknown"
        )
    })?;
    doc.digest = Some(manifest_digest.prefixed());

    let access = registry_access(
        Some(&args.registry),
        &[&source.registry, &destination.registry],
        &cx.settings.env,
    )?;
    let src_client = Client::new(&source.registry, &access.settings_for(&source.registry)?)?;
    let dst_client = Client::new(
        &destination.registry,
        &access.settings_for(&destination.registry)?,
    )?;
    let plan = copy::plan(
        &src_client,
        &source,
        &dst_client,
        &destination,
        &tag,
        manifest_digest,
    )?;
    doc.plan = Some(plan_document(&plan, None));
    let has_vsa = plan
        .destination_only
        .iter()
        .any(|(_, p)| p.as_deref() == Some(PREDICATE_VSA));
    let already = plan.nothing_to_copy() && plan.tag_before == Some(manifest_digest) && has_vsa;

    if args.dry_run {
        if cx.printer.is_json() {
            doc.already_promoted = already;
            doc.promoted = already;
            cx.printer.document(&doc);
        } else {
            cx.printer.out(&plan_human(&plan, already));
        }
        cx.printer
            .status_dim("Dry run", &format!("nothing was changed in {target}"));
        return Ok(());
    }
    if already {
        doc.already_promoted = true;
        doc.promoted = true;
        if cx.printer.is_json() {
            cx.printer.document(&doc);
        }
        cx.printer.status(
            "Promoted",
            &format!(
                "already (nothing to copy): {target} is {}, with its {} blob{}, {} referrer{} and a VSA",
                manifest_digest.prefixed(),
                plan.blobs.len(),
                plural(plan.blobs.len()),
                plan.referrers.len(),
                plural(plan.referrers.len()),
            ),
        );
        if !cx.printer.is_json() {
            cx.printer.out(&format!(
                "{}@{}\n",
                destination.name(),
                manifest_digest.prefixed()
            ));
        }
        return Ok(());
    }

    let reporter = cx.printer.reporter();
    let copied = copy::execute(&src_client, &dst_client, &plan, &reporter).map_err(|e| {
        let tag_state = match plan.tag_before {
            Some(d) => format!("{target} still points at {}", d.prefixed()),
            None => format!("{target} still does not exist"),
        };
        let listed: Vec<String> = e.not_copied.iter().take(8).cloned().collect();
        let more = e.not_copied.len().saturating_sub(listed.len());
        miette!(
            code = "mlprov::promote::incomplete",
            help = "run the same `mlprov promote` again: it copies only what is missing",
            "promote stopped {}: {}. {tag_state}. Not copied: {}{}",
            e.step,
            crate::registry::client::error_chain(&e.source),
            if listed.is_empty() {
                "nothing (the referrers index was not updated)".to_string()
            } else {
                listed.join(", ")
            },
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )
    })?;
    doc.plan = Some(plan_document(&plan, Some(&copied)));
    let moved = copied.mounted + copied.uploaded;
    cx.printer.status(
        "Copied",
        &format!(
            "{} blob{} ({} mounted, {}; {} uploaded, {}; {} already in {}), {}, {} referrer{}",
            moved,
            plural(moved),
            copied.mounted,
            human_bytes(copied.mounted_bytes),
            copied.uploaded,
            human_bytes(copied.uploaded_bytes),
            copied.present,
            destination.registry,
            if copied.manifest_copied {
                "the manifest"
            } else {
                "the manifest already there"
            },
            copied.referrers_copied,
            plural(copied.referrers_copied),
        ),
    );

    // The VSA of this verification, about the manifest in DST.
    let clock = cx.settings.env.clock()?;
    let policy_source = out.policy.source.clone().or_else(|| {
        project
            .as_ref()
            .map(|p| p.root.join("mlprov.toml").display().to_string())
    });
    let policy = policy_source.as_ref().map(|s| vsa::PolicyRef {
        uri: file_uri(std::path::Path::new(s)),
        sha256: out.policy.digest,
    });
    let resource = format!(
        "oci://{}@{}",
        destination.name(),
        manifest_digest.prefixed()
    );
    let st = vsa::statement(
        g,
        &resource,
        policy.as_ref(),
        &clock.now(),
        Some(crate::registry::plan::manifest_subject(
            Some(&destination.name()),
            &manifest_digest,
        )),
    );
    let payload = serde_json::to_vec(&st).into_diagnostic()?;
    let Some(signer) = signer else {
        return Err(miette!("internal: no VSA signer outside --dry-run"));
    };
    let bundle = signer.sign(&payload)?;
    let (b, _) = crate::registry::push::Bundle::from_bytes(bundle.clone()).map_err(|e| {
        miette!(
            code = "mlprov::verify::vsa",
            "the signed VSA is not a bundle: {e}"
        )
    })?;
    let subject = crate::registry::push::Subject {
        digest: manifest_digest,
        size: plan.manifest.len() as u64,
        created: vsa::time_verified(&bundle).unwrap_or_else(|| clock.now()),
    };
    let not_moved = |e: crate::registry::RegistryError, step: &str| {
        miette!(
            code = "mlprov::promote::incomplete",
            help = "run the same `mlprov promote` again: it copies only what is missing",
            "promote stopped {step}: {}. {target} was not moved; the model and its referrers are in {} by digest",
            crate::registry::client::error_chain(&e),
            destination.name()
        )
    };
    let (pushed, _) = crate::registry::push::attach(
        &dst_client,
        &destination.repository,
        &subject,
        std::slice::from_ref(&b),
    )
    .map_err(|e| not_moved(e, "attaching the VSA"))?;
    let vsa_referrer = pushed.first().map(|r| r.digest);
    cx.printer.status(
        "Attached",
        &format!(
            "VSA {} to {}@{} (policy {})",
            vsa_referrer.map(|d| d.prefixed()).unwrap_or_default(),
            destination.name(),
            manifest_digest.prefixed(),
            policy.as_ref().map(|p| p.uri.as_str()).unwrap_or("none"),
        ),
    );
    doc.vsa = Some(PromotedVsa {
        referrer: vsa_referrer.map(|d| d.prefixed()).unwrap_or_default(),
        bundle: crate::digest::Sha256Digest::of(&bundle).prefixed(),
        policy: policy.as_ref().map(|p| p.uri.clone()),
    });

    copy::move_tag(&dst_client, &plan).map_err(|e| not_moved(e, "moving the tag"))?;
    doc.promoted = true;
    cx.printer.status(
        "Promoted",
        &format!(
            "{target} → {} (was {})",
            manifest_digest.prefixed(),
            plan.tag_before
                .map(|d| d.prefixed())
                .unwrap_or_else(|| "absent".into())
        ),
    );
    cx.printer
        .step_output("digest", &manifest_digest.prefixed());
    cx.printer.step_output(
        "ref",
        &format!("{}@{}", destination.name(), manifest_digest.prefixed()),
    );
    if cx.printer.is_json() {
        cx.printer.document(&doc);
        return Ok(());
    }
    cx.printer.out(&format!(
        "{}@{}\n",
        destination.name(),
        manifest_digest.prefixed()
    ));
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn file_uri(p: &std::path::Path) -> String {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    format!("file://{}", abs.display())
}

fn plan_document(plan: &Plan, copied: Option<&copy::Copied>) -> PromotePlan {
    let (_, mounted) = plan.bytes(BlobAction::Mount);
    let (_, uploaded) = plan.bytes(BlobAction::Upload);
    PromotePlan {
        same_registry: plan.same_registry(),
        blobs: plan
            .blobs
            .iter()
            .map(|b| PromoteBlob {
                digest: b.digest.prefixed(),
                size: b.size,
                of: b.of.clone(),
                action: b.action.as_str().to_string(),
            })
            .collect(),
        manifest: PromoteItem {
            digest: plan.manifest_digest.prefixed(),
            action: if plan.manifest_present {
                "present"
            } else {
                "copy"
            }
            .to_string(),
        },
        referrers: plan
            .referrers
            .iter()
            .map(|r| PromoteReferrer {
                digest: r.digest.prefixed(),
                artifact_type: r.artifact_type().map(str::to_string),
                predicate_type: r.predicate_type().map(str::to_string),
                action: if r.present { "present" } else { "copy" }.to_string(),
            })
            .collect(),
        tag_before: plan.tag_before.map(|d| d.prefixed()),
        // What was done, when it was (a declined mount is an upload).
        mounted_bytes: copied.map(|c| c.mounted_bytes).unwrap_or(mounted),
        uploaded_bytes: copied.map(|c| c.uploaded_bytes).unwrap_or(uploaded),
    }
}

/// The plan, for `--dry-run`.
fn plan_human(plan: &Plan, already: bool) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let target = format!("{}:{}", plan.destination.name(), plan.tag);
    let _ = writeln!(s, "promote {} → {target}", plan.source);
    if already {
        let _ = writeln!(
            s,
            "  nothing to copy: {target} is {} already, with every blob, referrer and a VSA",
            plan.manifest_digest.prefixed()
        );
        return s;
    }
    for (action, label) in [
        (BlobAction::Mount, "mount"),
        (BlobAction::Upload, "upload"),
        (BlobAction::Present, "already in DST"),
    ] {
        let (n, bytes) = plan.bytes(action);
        let _ = writeln!(s, "  blobs {label:<15} {n:>4} ({})", human_bytes(bytes));
    }
    let _ = writeln!(
        s,
        "  manifest {}       {}",
        plan.manifest_digest.prefixed(),
        if plan.manifest_present {
            "already in DST"
        } else {
            "copy"
        }
    );
    let copy = plan.referrers.iter().filter(|r| !r.present).count();
    let _ = writeln!(
        s,
        "  referrers             {copy:>4} to copy, {} already in DST",
        plan.referrers.len() - copy
    );
    for r in &plan.referrers {
        let _ = writeln!(
            s,
            "    {} {} {}",
            if r.present { "=" } else { "+" },
            r.digest.prefixed(),
            r.predicate_type()
                .or(r.artifact_type())
                .unwrap_or("(no type)")
        );
    }
    let _ = writeln!(s, "  then attach a signed VSA naming the policy");
    let _ = writeln!(
        s,
        "  then move {target}: {} → {}",
        plan.tag_before
            .map(|d| d.prefixed())
            .unwrap_or_else(|| "absent".into()),
        plan.manifest_digest.prefixed()
    );
    s
}
