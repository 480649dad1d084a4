//! `mlprov verify [TARGET]`: verify an artifact and its provenance graph:
//! re-hash its files against the signed manifest, check every signature
//! against the trusted keys and certificates, check subjects, require
//! attestations, then walk `resolvedDependencies` recursively, each input
//! under the policy for its role. TARGET may also be an OCI reference: the
//! registry's manifest and referrers feed the same verifier.

use miette::{IntoDiagnostic, Result, WrapErr};

use super::{Context, ExitStatus, keyless, keys};
use crate::cli::{GraphPolicyArgs, RegistryArgs, TrustArgs, VerifyArgs};
use crate::digest::Sha256Digest;
use crate::project::Project;
use crate::sign::oms;
use crate::store::Store;
use crate::verify::locate::RegistryLocator;
use crate::verify::model::{Graph, Locator, NoRegistry, RegoScope};
use crate::verify::node::{BundleLookup, Lookups, RawBundle, SidecarDir};
use crate::verify::policy::{self as vpolicy, CliTrust, VerifyPolicy};
use crate::verify::target::{self, Resolved, Target, TargetSettings};
use crate::verify::{report, vsa, walk};

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

/// The policy for this verification: `--policy FILE.toml`, else the
/// project's `[policy]`, plus any `--policy FILE.rego`.
pub(crate) fn load_policy(
    cx: &Context,
    graph: &GraphPolicyArgs,
    require: &[String],
    cli: &crate::sign::trust::Trust,
    sigstore: &dyn Fn() -> std::result::Result<
        std::sync::Arc<crate::sign::keyless::TrustedRoot>,
        String,
    >,
) -> Result<VerifyPolicy> {
    let mut toml_file = None;
    let mut rego_files = Vec::new();
    for p in &graph.policy {
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
            require,
            sigstore,
        },
    )?;
    if !rego_files.is_empty() {
        let refs: Vec<&std::path::Path> = rego_files.iter().map(|p| p.as_path()).collect();
        vp.rego = Some(crate::verify::rego::RegoPolicy::load(
            &refs,
            &graph.policy_query,
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

/// The flags of one verification (`verify`, `graph`, `pull`).
pub(crate) struct Flags<'a> {
    pub trust: &'a TrustArgs,
    pub graph: &'a GraphPolicyArgs,
    pub registry: &'a RegistryArgs,
    /// The registry the target names: the explicit registry flags apply to it.
    pub target_registry: Option<&'a str>,
}

/// Verify the graph of the root `resolve` makes: the trust of the flags,
/// the policy (`--policy`, else the project's `[policy]`), the local
/// store, the project's sidecar bundles and registry access for `oci://`
/// dependencies. `verify`, `graph` and `pull` all verify this way.
pub(crate) fn verify_with(
    cx: &Context,
    flags: &Flags<'_>,
    resolve: &dyn Fn(&RegistryLocator<'_>, &VerifyPolicy) -> Result<Resolved>,
) -> Result<Outcome> {
    let cli = cli_trust(cx, flags.trust)?;
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
        let r = trusted_root(cx, flags.trust).map_err(|e| e.to_string())?;
        Ok(std::sync::Arc::clone(sigstore_root.get_or_init(|| r)))
    };
    let policy = load_policy(cx, flags.graph, &flags.trust.require, &cli, &sigstore)?;
    let any_policy_signers = policy.root.signers_explicit
        || policy.roles.values().any(|r| r.signers_explicit)
        || policy.artifacts.iter().any(|r| r.trust.is_some());
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

    // Registry access for the target and for `oci://` dependencies.
    let explicit_settings = match flags.target_registry {
        Some(r) if !cx.offline => Some((
            r.to_string(),
            super::push::registry_settings(flags.registry, r)?,
        )),
        _ => None,
    };
    let reg = flags.registry;
    let fl = (reg.plain_http, reg.insecure, reg.timeout);
    let settings_for = move |r: &str| {
        if let Some((name, s)) = &explicit_settings
            && name == r
        {
            return Ok(s.clone());
        }
        let mut s = crate::registry::Settings::from_env(r)?;
        s.plain_http |= fl.0;
        s.insecure |= fl.1;
        s.timeout = std::time::Duration::from_secs(fl.2.max(1));
        Ok(s)
    };
    let registry_locator = RegistryLocator::new(&settings_for);
    let no_registry = NoRegistry;
    let locator: &dyn Locator = if cx.offline {
        &no_registry
    } else {
        &registry_locator
    };
    let resolved = resolve(&registry_locator, &policy)?;

    let project = Project::discover(&cx.cwd).ok();
    let store = Store::open_default();
    let sidecar = project.as_ref().map(|p| SidecarDir(p.out_dir()));
    let mut lookups: Vec<&dyn BundleLookup> = vec![&store];
    if let Some(s) = &sidecar {
        lookups.push(s);
    }
    let lookup = Lookups(lookups);
    let reporter = cx.printer.reporter();
    let settings = walk::Settings {
        policy: &policy,
        max_depth: flags.graph.max_depth,
        lookup: &lookup,
        locator,
        reporter: &reporter,
        project_root: resolved.project_root,
        rego_scope: match flags.graph.policy_scope {
            crate::cli::PolicyScope::Graph => RegoScope::Graph,
            crate::cli::PolicyScope::Root => RegoScope::Root,
        },
    };
    let graph = walk::verify_graph(resolved.root, &settings);
    Ok(Outcome {
        graph,
        resource_uri: resolved.resource_uri,
        policy,
        reference: None,
    })
}

/// Resolve the target and walk its graph.
pub(crate) fn verify_target(cx: &Context, args: &VerifyArgs) -> Result<Outcome> {
    let target = match args.target.as_deref() {
        Some(t) => Target::parse(t, &cx.cwd)?,
        None => Target::Path(super::sign::artifact_path(cx)?),
    };
    let read_bundle = |p: &std::path::Path| {
        let mut raw = RawBundle::read(p)?;
        // Name it as the user would: relative to the working directory.
        if let Ok(rel) = p.strip_prefix(&cx.cwd) {
            raw.source = rel.display().to_string();
        }
        Ok(raw)
    };
    let mut bundles = Vec::new();
    for b in &args.bundle {
        let p = cx.cwd.join(b);
        bundles.push(
            read_bundle(&p)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot read {}", p.display()))?,
        );
    }
    let project = Project::discover(&cx.cwd).ok();
    let flags = Flags {
        trust: &args.trust,
        graph: &args.graph,
        registry: &args.registry,
        target_registry: target.registry(),
    };
    let reference = match &target {
        Target::Reference(r) => Some(r.clone()),
        _ => None,
    };
    let mut out = verify_with(cx, &flags, &|registry, policy| {
        let s = TargetSettings {
            signature: args.signature.clone(),
            bundles: bundles.clone(),
            ignore_paths: &args.ignore_paths,
            cwd: &cx.cwd,
            project_root: project.as_ref().map(|p| p.root.as_path()),
            default_require: args.trust.require.is_empty() && !policy.root.require_explicit,
            offline: cx.offline,
            registry,
            read_bundle: &read_bundle,
        };
        Ok(target::resolve(&target, &s)?)
    })?;
    out.reference = reference;
    Ok(out)
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
            Some(t) => matches!(Target::parse(t, &cx.cwd)?, Target::Reference(_)),
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

fn file_uri(p: &std::path::Path) -> String {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    format!("file://{}", abs.display())
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
