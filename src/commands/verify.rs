//! `mlprov verify [TARGET]`: verify an artifact and its provenance graph:
//! re-hash its files against the signed manifest, check every signature
//! against the trusted keys and certificates, check subjects, require
//! attestations, then walk `resolvedDependencies` recursively, each input
//! under the policy for its role. TARGET may also be an OCI reference: the
//! registry's manifest and referrers feed the same verifier.

use miette::{IntoDiagnostic, Result, WrapErr};

use super::{Context, ExitStatus, keyless, keys};
use crate::cli::{TrustArgs, VerifyArgs};
use crate::digest::Sha256Digest;
use crate::intoto::PREDICATE_OMS;
use crate::project::Project;
use crate::sign::oms;
use crate::store::Store;
use crate::verify::graph::{self, Graph, Locator, NoRegistry, RegoScope, Root};
use crate::verify::locate::RegistryLocator;
use crate::verify::node::{BundleLookup, LocalBytes, Lookups, RawBundle, SidecarDir};
use crate::verify::policy::{self as vpolicy, CliTrust, VerifyPolicy};
use crate::verify::{report, vsa};

/// The trust the flags give: keys, certificate roots, keyless identities,
/// and the Sigstore trusted root when an identity needs it.
fn cli_trust(cx: &Context, args: &TrustArgs) -> Result<crate::sign::trust::Trust> {
    let mut trust = keys::trust(cx, &args.key, &args.certificate_chain)?;
    trust.identities = keyless::identity_rules(&args.keyless)?;
    trust.require_tlog = args.require_tlog;
    // Key-signed bundles' log entries are checked against the given root,
    // else (in the domain) the embedded public-good one.
    if !trust.identities.is_empty()
        || args.require_tlog
        || args.keyless.trusted_root.is_some()
        || args.keyless.refresh_trusted_root
    {
        trust.sigstore = Some(trusted_root(cx, args)?);
    }
    Ok(trust)
}

fn trusted_root(
    cx: &Context,
    args: &TrustArgs,
) -> Result<std::sync::Arc<crate::sign::keyless::TrustedRoot>> {
    keyless::trusted_root(
        cx,
        args.keyless.trusted_root.as_deref(),
        args.keyless.refresh_trusted_root,
    )
}

/// The trust the flags give; an empty trust is a usage error (mlprov never
/// trusts the key inside a signature).
pub(crate) fn trust_from_args(cx: &Context, args: &TrustArgs) -> Result<crate::sign::trust::Trust> {
    let trust = cli_trust(cx, args)?;
    if trust.keys.is_empty() && trust.roots.is_empty() && trust.identities.is_empty() {
        miette::bail!(
            code = "mlprov::usage",
            help = "pass --key PUB (repeatable) with the signer's public key, --certificate-chain PEM, \
                    or for keyless signatures --certificate-identity and --certificate-oidc-issuer",
            "no trusted signer given: mlprov never trusts the key inside a signature"
        );
    }
    Ok(trust)
}

/// A target that names a registry host but does not parse as a reference
/// is an error about the reference (e.g. upper-case letters), not a missing
/// local path.
fn registry_target(cx: &Context, target: &str) -> Result<Option<crate::registry::OciRef>> {
    if target.starts_with("sha256:") || cx.cwd.join(target).exists() {
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

/// Every finding as a GitHub Actions `::error` annotation, pointing at the
/// file it is about (a changed file, or the bundle that failed).
fn annotate_findings(cx: &Context, verdicts: &[crate::verify::node::NodeVerdict]) {
    for v in verdicts {
        for f in &v.findings {
            annotate_finding(cx, f, v.path.as_deref());
        }
    }
}

/// One finding as an annotation; `path` is where the node's files are.
fn annotate_finding(
    cx: &Context,
    f: &crate::verify::node::Finding,
    path: Option<&std::path::Path>,
) {
    use crate::output::{Level, Place};
    // Off GitHub Actions, spare the file checks below.
    if !cx.printer.github_actions {
        return;
    }
    let file = match (&f.file, path) {
        (Some(rel), Some(p)) if rel == oms::SINGLE_FILE_NAME || p.is_file() => {
            Some(p.to_path_buf())
        }
        (Some(rel), Some(p)) => Some(p.join(rel)),
        _ => f
            .source
            .as_ref()
            .map(|s| cx.cwd.join(s))
            .filter(|p| p.is_file()),
    };
    cx.printer.annotate(
        Level::Error,
        &Place {
            file,
            line: None,
            title: Some(f.code.to_string()),
        },
        &f.message,
    );
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
    annotate_findings(cx, verdicts);
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

/// The policy for this verification: `--policy FILE.toml`, else the
/// project's `[policy]`, plus any `--policy FILE.rego`.
pub(crate) fn load_policy(
    cx: &Context,
    args: &VerifyArgs,
    cli: &crate::sign::trust::Trust,
    sigstore: &dyn Fn() -> std::result::Result<
        std::sync::Arc<crate::sign::keyless::TrustedRoot>,
        String,
    >,
) -> Result<VerifyPolicy> {
    let mut toml_file = None;
    let mut rego_files = Vec::new();
    for p in &args.graph.policy {
        let full = cx.cwd.join(p);
        match full.extension().and_then(|e| e.to_str()) {
            Some("rego") => rego_files.push(full),
            Some("toml") if toml_file.is_none() => toml_file = Some(full),
            Some("toml") => miette::bail!(
                code = "mlprov::usage",
                help = "merge the policies into one file; add Rego rules with more .rego files",
                "--policy: more than one .toml policy given"
            ),
            _ => miette::bail!(
                code = "mlprov::usage",
                help = "a policy is a .toml file ([policy] keys) or a .rego file",
                "--policy {}: not a .toml or .rego file",
                p.display()
            ),
        }
    }
    let (policy, source, digest, base) = match &toml_file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot read policy {}", f.display()))?;
            let p = crate::policy::parse_file(&text, &f.display().to_string())?;
            let base = f.parent().map(|b| b.to_path_buf()).unwrap_or_default();
            (
                p,
                Some(f.display().to_string()),
                Some(Sha256Digest::of(text.as_bytes())),
                base,
            )
        }
        None => match Project::discover(&cx.cwd) {
            Ok(project) => {
                let path = project.manifest_path();
                let m = crate::manifest::Manifest::load(&path)?;
                let bytes = std::fs::read(&path).unwrap_or_default();
                (
                    m.policy,
                    Some(path.display().to_string()),
                    Some(Sha256Digest::of(&bytes)),
                    project.root.clone(),
                )
            }
            Err(_) => (crate::policy::Policy::default(), None, None, cx.cwd.clone()),
        },
    };
    let mut vp = vpolicy::resolve(
        &policy,
        source,
        digest,
        &base,
        CliTrust {
            trust: cli,
            require: &args.trust.require,
            sigstore,
        },
    )?;
    if !rego_files.is_empty() {
        let refs: Vec<&std::path::Path> = rego_files.iter().map(|p| p.as_path()).collect();
        vp.rego = Some(crate::verify::rego::RegoPolicy::load(
            &refs,
            &args.graph.policy_query,
        )?);
    }
    Ok(vp)
}

/// A verified graph and what was verified.
pub(crate) struct Outcome {
    pub graph: Graph,
    /// What was verified, as a URI (for the VSA).
    pub resource_uri: String,
    pub policy: VerifyPolicy,
    /// The registry reference verified (`verify REF`).
    pub reference: Option<crate::registry::OciRef>,
}

fn file_uri(p: &std::path::Path) -> String {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    format!("file://{}", abs.display())
}

/// Resolve the target and walk its graph.
pub(crate) fn verify_target(cx: &Context, args: &VerifyArgs) -> Result<Outcome> {
    let cli = cli_trust(cx, &args.trust)?;
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
        let r = trusted_root(cx, &args.trust).map_err(|e| e.to_string())?;
        Ok(std::sync::Arc::clone(sigstore_root.get_or_init(|| r)))
    };
    let policy = load_policy(cx, args, &cli, &sigstore)?;
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
        if let Ok(rel) = p.strip_prefix(&cx.cwd) {
            raw.source = rel.display().to_string();
        }
        Ok::<_, miette::Report>(raw)
    };
    let mut extra_bundles = Vec::new();
    for b in &args.bundle {
        extra_bundles.push(read_bundle(&cx.cwd.join(b))?);
    }

    // Registry access for the target and for `oci://` dependencies.
    let target_registry = match args.target.as_deref() {
        Some(t) => registry_target(cx, t)?,
        None => None,
    };
    let explicit_settings = match &target_registry {
        Some(r) if !cx.offline => Some((
            r.registry.clone(),
            super::push::registry_settings(&args.registry, &r.registry)?,
        )),
        _ => None,
    };
    let flags = (
        args.registry.plain_http,
        args.registry.insecure,
        args.registry.timeout,
    );
    let settings_for = move |reg: &str| {
        if let Some((r, s)) = &explicit_settings
            && r == reg
        {
            return Ok(s.clone());
        }
        let mut s = crate::registry::Settings::from_env(reg)?;
        s.plain_http |= flags.0;
        s.insecure |= flags.1;
        s.timeout = std::time::Duration::from_secs(flags.2.max(1));
        Ok(s)
    };
    let registry_locator = RegistryLocator::new(&settings_for);
    let no_registry = NoRegistry;
    let locator: &dyn Locator = if cx.offline {
        &no_registry
    } else {
        &registry_locator
    };

    let project = Project::discover(&cx.cwd).ok();
    let mut project_root = None;
    let verified_reference = target_registry.clone();
    let (root, resource_uri) = if let Some(reference) = target_registry {
        if cx.offline {
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
                // As `pull`: the OMS signature is required, and the layers'
                // paths must match its signed file list.
                require: required(&[]),
                uri: Some(uri.clone()),
                manifest: Some(located.manifest),
                listed: Some(located.files.clone()),
            },
            uri,
        )
    } else if let Some(d) = args.target.as_deref().filter(|t| t.starts_with("sha256:")) {
        let d = Sha256Digest::from_prefixed(d)
            .map_err(|e| miette::miette!(code = "mlprov::usage", "{e}"))?;
        let mut bundles = extra_bundles;
        if let Some(sig) = &args.signature {
            bundles.push(read_bundle(&cx.cwd.join(sig))?);
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
                listed: None,
            },
            d.prefixed(),
        )
    } else {
        let path = match &args.target {
            Some(t) => cx.cwd.join(t),
            None => super::sign::artifact_path(cx)?,
        };
        if !path.exists() {
            miette::bail!(
                code = "mlprov::verify::not_found",
                help = "pass a model directory or file, a digest (sha256:…) in the local store, or an OCI reference",
                "{}: no such file or directory",
                path.display()
            );
        }
        let signature = args
            .signature
            .as_ref()
            .map(|s| cx.cwd.join(s))
            .unwrap_or_else(|| oms::default_signature_path(&path));
        let mut bundles = Vec::new();
        if signature.is_file() {
            bundles.push(read_bundle(&signature)?);
        } else if args.signature.is_some() {
            miette::bail!(
                code = "mlprov::verify::not_found",
                "signature {} does not exist",
                signature.display()
            );
        }
        bundles.extend(extra_bundles);
        let settings = crate::digest::SetOptions::artifact()
            .with_signature(oms::signature_ignore(&path, &signature))
            .with_ignores(oms::resolve_ignores(&path, &cx.cwd, &args.ignore_paths));
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
                listed: None,
            },
            uri,
        )
    };

    let store = Store::open_default();
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
    })
}

/// The exit status of a graph, with a one-line summary on stderr.
pub(crate) fn graph_status(cx: &Context, g: &Graph) -> ExitStatus {
    let root = g.root();
    if g.verified() {
        let n = g.nodes.len();
        cx.printer.status(
            "Verified",
            &format!(
                "{} {} and {} input{} in its provenance graph",
                root.name.as_deref().unwrap_or(""),
                root.id,
                n - 1,
                if n == 2 { "" } else { "s" }
            ),
        );
        return ExitStatus::Success;
    }
    for (n, f) in g.findings() {
        let path = n
            .location
            .as_deref()
            .map(std::path::Path::new)
            .filter(|p| p.exists());
        annotate_finding(cx, f, path);
    }
    let failing: Vec<_> = g.findings().filter(|(n, _)| n.required_for_root).collect();
    let codes: std::collections::BTreeSet<&str> =
        failing.iter().map(|(_, f)| f.code.code()).collect();
    let nodes: std::collections::BTreeSet<String> = failing
        .iter()
        .map(|(n, _)| n.name.clone().unwrap_or_else(|| report::short_id(&n.id)))
        .collect();
    cx.printer.error(&miette::miette!(
        code = "mlprov::verify::failed",
        "verification failed: {} finding(s) ({}) in {}",
        failing.len(),
        codes.into_iter().collect::<Vec<_>>().join(", "),
        nodes.into_iter().collect::<Vec<_>>().join(", ")
    ));
    ExitStatus::Failure
}

pub fn run(cx: &Context, args: VerifyArgs) -> Result<ExitStatus> {
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
    Ok(graph_status(cx, &out.graph))
}

fn emit_vsa(cx: &Context, args: &VerifyArgs, out: &Outcome, file: &std::path::Path) -> Result<()> {
    let clock = crate::run::Clock::from_env()?;
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
        keyless::prepare(cx, args.vsa_key.as_deref(), &sign_args)?
            .start(cx)?
            .sign(&payload)?
    } else {
        let mut v = serde_json::to_vec_pretty(&st).into_diagnostic()?;
        v.push(b'\n');
        v
    };
    let path = cx.cwd.join(file);
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
        attach_vsa(cx, args, out, bytes)?;
    }
    Ok(())
}

/// `--attach`: the signed VSA as a referrer of the verified manifest, in
/// the layout `push` gives every bundle (cosign's).
fn attach_vsa(cx: &Context, args: &VerifyArgs, out: &Outcome, bundle: Vec<u8>) -> Result<()> {
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
    let settings = super::push::registry_settings(&args.registry, &reference.registry)?;
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
