//! `mlprov verify [TARGET]`: verify an artifact and its provenance graph:
//! re-hash its files against the signed manifest, check every signature
//! against the trusted keys and certificates, check subjects, require
//! attestations, then walk `resolvedDependencies` recursively, each input
//! under the policy for its role. TARGET may also be an OCI reference: the
//! registry's manifest and referrers feed the same verifier.

use miette::{IntoDiagnostic, Result, WrapErr};

use super::Context;
use crate::cli::VerifyArgs;
use crate::digest::Sha256Digest;
use crate::intoto::PREDICATE_OMS;
use crate::project::Project;
use crate::settings::registry::access as registry_access;
use crate::settings::{policy, signing, trust};
use crate::sign::oms;

use crate::verify::graph::{self, Graph, Locator, NoRegistry, RegoScope, Root};
use crate::verify::locate::RegistryLocator;
use crate::verify::node::{BundleLookup, LocalBytes, Lookups, RawBundle, SidecarDir};
use crate::verify::policy::VerifyPolicy;
use crate::verify::{report, vsa};

/// A target that names a registry host but does not parse as a reference
/// is an error about the reference (e.g. upper-case letters), not a missing
/// local path.
fn registry_target(cx: &Context, target: &str) -> Result<Option<crate::registry::OciRef>> {
    if target.starts_with("sha256:") || cx.settings.cwd.join(target).exists() {
        return Ok(None);
    }
    if !crate::registry::OciRef::names_registry(target) {
        return Ok(None);
    }
    Ok(Some(crate::registry::OciRef::parse(target)?))
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

/// A verified graph and what was verified.
pub(crate) struct Outcome {
    pub graph: Graph,
    /// What was verified, as a URI (for the VSA).
    pub resource_uri: String,
    pub policy: VerifyPolicy,
    /// The registry reference verified (`verify REF`).
    pub reference: Option<crate::registry::OciRef>,
    /// How registries were reached (`--attach` pushes with the same login).
    pub access: crate::registry::Access,
}

fn file_uri(p: &std::path::Path) -> String {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    format!("file://{}", abs.display())
}

/// Resolve the target and walk its graph.
pub(crate) fn verify_target(cx: &Context, args: &VerifyArgs) -> Result<Outcome> {
    let cli = trust::cli_trust(&cx.settings, &cx.printer, &args.trust)?;
    // The Sigstore trusted root, loaded once, when a keyless signer is
    // trusted (on the command line or by the policy).
    let sigstore_root = std::cell::OnceCell::new();
    if let Some(r) = &cli.sigstore {
        let _ = sigstore_root.set(std::sync::Arc::clone(r));
    }
    let sigstore = || {
        if let Some(r) = sigstore_root.get() {
            return Ok(std::sync::Arc::clone(r));
        }
        let r = trust::args_trusted_root(&cx.settings, &cx.printer, &args.trust)
            .map_err(|e| e.to_string())?;
        Ok(std::sync::Arc::clone(sigstore_root.get_or_init(|| r)))
    };
    let policy = policy::load(
        &cx.settings,
        &args.graph,
        &args.trust.require,
        &cli,
        &sigstore,
    )?;
    let any_policy_signers =
        policy.root.signers_explicit || policy.roles.values().any(|r| r.signers_explicit);
    if cli.keys.is_empty()
        && cli.roots.is_empty()
        && cli.identities.is_empty()
        && !any_policy_signers
    {
        miette::bail!(
            code = "mlprov::usage",
            help = "pass --key PUB (repeatable) with the signer's public key, --certificate-chain PEM, \
                    --certificate-identity with --certificate-oidc-issuer for keyless signatures, \
                    or a policy whose roles name `signers`",
            "no trusted signer given: mlprov never trusts the key inside a signature"
        );
    }

    let read_bundle = |p: &std::path::Path| {
        let mut raw = RawBundle::read(p)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot read {}", p.display()))?;
        // Name it as the user would: relative to the working directory.
        if let Ok(rel) = p.strip_prefix(&cx.settings.cwd) {
            raw.source = rel.display().to_string();
        }
        Ok::<_, miette::Report>(raw)
    };
    let mut extra_bundles = Vec::new();
    for b in &args.bundle {
        extra_bundles.push(read_bundle(&cx.settings.cwd.join(b))?);
    }

    // Registry access for the target and for `oci://` dependencies.
    let target_registry = match args.target.as_deref() {
        Some(t) => registry_target(cx, t)?,
        None => None,
    };
    let named: Vec<&str> = target_registry
        .iter()
        .filter(|_| !cx.settings.offline)
        .map(|r| r.registry.as_str())
        .collect();
    let access = registry_access(Some(&args.registry), &named, &cx.settings.env)?;
    let kept_access = access.clone();
    let settings_for = move |reg: &str| access.settings_for(reg);
    let registry_locator = RegistryLocator::new(&settings_for);
    let no_registry = NoRegistry;
    let locator: &dyn Locator = if cx.settings.offline {
        &no_registry
    } else {
        &registry_locator
    };

    let project = Project::discover(&cx.settings.cwd).ok();
    let mut project_root = None;
    let verified_reference = target_registry.clone();
    let (root, resource_uri) = if let Some(reference) = target_registry {
        if cx.settings.offline {
            miette::bail!(
                code = "mlprov::usage",
                help = "drop --offline, or verify a local copy (`mlprov pull` first)",
                "--offline: verifying {reference} needs the registry"
            );
        }
        let located = registry_locator.resolve(&reference)?;
        let mut bundles = located.bundles;
        bundles.extend(extra_bundles);
        let uri = crate::model::ResourceUri::Oci {
            registry: reference.registry.clone(),
            repo: reference.repository.clone(),
            manifest: located.manifest,
        }
        .to_string();
        (
            Root {
                name: Some(located.location.clone()),
                expected: Some(located.artifact),
                bytes: None,
                bundles,
                found: Vec::new(),
                require: required(&[]),
                uri: Some(uri.clone()),
                manifest: Some(located.manifest),
            },
            uri,
        )
    } else if let Some(d) = args.target.as_deref().filter(|t| t.starts_with("sha256:")) {
        let d = Sha256Digest::from_prefixed(d)
            .map_err(|e| miette::miette!(code = "mlprov::usage", "{e}"))?;
        let mut bundles = extra_bundles;
        if let Some(sig) = &args.signature {
            bundles.push(read_bundle(&cx.settings.cwd.join(sig))?);
        }
        let require = if args.trust.require.is_empty() && !policy.root.require_explicit {
            required(&[])
        } else {
            Vec::new()
        };
        (
            Root {
                name: None,
                expected: Some(d),
                bytes: None,
                bundles,
                found: Vec::new(),
                require,
                uri: None,
                manifest: None,
            },
            d.prefixed(),
        )
    } else {
        let path = match &args.target {
            Some(t) => cx.settings.cwd.join(t),
            None => crate::project::artifact_path(&cx.settings.cwd)?,
        };
        if !path.exists() {
            miette::bail!(
                code = "mlprov::verify::not-found",
                help = "pass a model directory or file, a digest (sha256:…) in the local store, or an OCI reference",
                "{}: no such file or directory",
                path.display()
            );
        }
        let signature = args
            .signature
            .as_ref()
            .map(|s| cx.settings.cwd.join(s))
            .unwrap_or_else(|| oms::default_signature_path(&path));
        let mut bundles = Vec::new();
        if signature.is_file() {
            bundles.push(read_bundle(&signature)?);
        } else if args.signature.is_some() {
            miette::bail!(
                code = "mlprov::verify::not-found",
                "signature {} does not exist",
                signature.display()
            );
        }
        bundles.extend(extra_bundles);
        let settings = crate::digest::SetOptions::artifact()
            .with_signature(oms::signature_ignore(&path, &signature))
            .with_ignores(oms::resolve_ignores(
                &path,
                &cx.settings.cwd,
                &args.ignore_paths,
            ));
        // The root's `file:` inputs are at hand when it was built here.
        if let Some(p) = &project {
            let abs = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
            if abs.starts_with(&p.root) {
                project_root = Some(p.root.clone());
            }
        }
        let uri = file_uri(&path);
        (
            Root {
                name: None,
                expected: None,
                bytes: Some(LocalBytes { path, settings }),
                bundles,
                found: Vec::new(),
                // The file set is proven only by a signed manifest.
                require: required(&[]),
                uri: None,
                manifest: None,
            },
            uri,
        )
    };

    let store = cx.settings.paths.store();
    let sidecar = project.as_ref().map(|p| SidecarDir(p.out_dir()));
    let mut lookups: Vec<&dyn BundleLookup> = vec![&store];
    if let Some(s) = &sidecar {
        lookups.push(s);
    }
    let lookup = Lookups(lookups);
    let reporter = cx.printer.reporter();
    let settings = graph::Settings {
        policy: &policy,
        max_depth: args.graph.max_depth,
        lookup: &lookup,
        locator,
        reporter: &reporter,
        project_root,
        rego_scope: match args.graph.policy_scope {
            crate::cli::PolicyScope::Graph => RegoScope::Graph,
            crate::cli::PolicyScope::Root => RegoScope::Root,
        },
    };
    let graph = graph::verify_graph(root, &settings);
    Ok(Outcome {
        graph,
        resource_uri,
        policy,
        reference: verified_reference,
        access: kept_access,
    })
}

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
            Some(t) => registry_target(cx, t)?.is_some(),
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
    let out = verify_target(cx, &args)?;
    if cx.printer.is_json() {
        cx.printer.json(&report::graph_json(&out.graph));
    } else {
        cx.printer.out(&report::graph_human(&out.graph));
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
        let k = &args.vsa_sigstore;
        let sign_args = crate::cli::KeylessSignArgs {
            keyless: args.vsa_keyless,
            identity_token: k.identity_token.clone(),
            fulcio_url: k.fulcio_url.clone(),
            rekor_url: args.rekor_url.clone(),
            tlog_upload: args.tlog_upload,
            oidc_issuer: k.oidc_issuer.clone(),
            oidc_client_id: k.oidc_client_id.clone(),
            trusted_root: args.trust.keyless.trusted_root.clone(),
        };
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
        created: vsa_time(&b.bytes).or(created).unwrap_or_default(),
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

/// The VSA's `timeVerified`, read back from its bundle.
fn vsa_time(bundle: &[u8]) -> Option<String> {
    use base64::Engine as _;
    let v: serde_json::Value = serde_json::from_slice(bundle).ok()?;
    let payload = v.pointer("/dsseEnvelope/payload")?.as_str()?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .ok()?;
    let st: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    st.pointer("/predicate/timeVerified")?
        .as_str()
        .map(str::to_string)
}
