//! One verification, as `verify`, `graph` and `pull` ask for it: the
//! trust of the flags, the policy (`--policy`, else the project's
//! `[policy]`), registry access, the local store and the project's sidecar
//! bundles, resolved once; then the target's graph is walked.

use miette::{IntoDiagnostic, Result, WrapErr};

use super::GlobalSettings;
use super::registry::access as registry_access;
use super::{policy, trust};
use crate::cli::{GraphPolicyArgs, RegistryArgs, TrustArgs, VerifyArgs};
use crate::output::Printer;
use crate::project::Project;
use crate::verify::locate::RegistryLocator;
use crate::verify::model::{Graph, Locator, NoRegistry, RegoScope};
use crate::verify::node::{BundleLookup, Lookups, RawBundle, SidecarDir};
use crate::verify::policy::VerifyPolicy;
use crate::verify::target::{self, Resolved, Target, TargetSettings};
use crate::verify::walk;

/// A verified graph and what was verified.
pub struct Outcome {
    pub graph: Graph,
    /// What was verified, as a URI (for the VSA).
    pub resource_uri: String,
    pub policy: VerifyPolicy,
    /// The registry reference verified (`verify REF`).
    pub reference: Option<crate::registry::OciRef>,
    /// How registries were reached (`--attach` pushes with the same login).
    pub access: crate::registry::Access,
}

/// The flags of one verification (`verify`, `graph`, `pull`).
pub struct Flags<'a> {
    pub trust: &'a TrustArgs,
    pub graph: &'a GraphPolicyArgs,
    pub registry: &'a RegistryArgs,
    /// The registry the target names: the explicit registry flags apply to it.
    pub target_registry: Option<&'a str>,
    /// Registry access already resolved (`pull` logged in before staging).
    pub access: Option<crate::registry::Access>,
}

/// Verify the graph of the root `resolve` makes: the trust of the flags,
/// the policy (`--policy`, else the project's `[policy]`), the local
/// store, the project's sidecar bundles and registry access for `oci://`
/// dependencies. `verify`, `graph` and `pull` all verify this way.
pub fn verify_with(
    s: &GlobalSettings,
    printer: &Printer,
    flags: &Flags<'_>,
    resolve: &dyn Fn(&RegistryLocator<'_>, &VerifyPolicy) -> Result<Resolved>,
) -> Result<Outcome> {
    let cli = trust::cli_trust(s, printer, flags.trust)?;
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
        let r = trust::args_trusted_root(s, printer, flags.trust).map_err(|e| e.to_string())?;
        Ok(std::sync::Arc::clone(sigstore_root.get_or_init(|| r)))
    };
    let policy = policy::load(s, flags.graph, &flags.trust.require, &cli, &sigstore)?;
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

    // Registry access for the target and for `oci://` dependencies; a
    // `--username` login is for the target's registry.
    let named: Vec<&str> = flags
        .target_registry
        .iter()
        .copied()
        .filter(|_| !s.offline)
        .collect();
    let access = match &flags.access {
        Some(a) => a.clone(),
        None => registry_access(Some(flags.registry), &named, &s.env)?,
    };
    let kept_access = access.clone();
    let settings_for = move |reg: &str| access.settings_for(reg);
    let registry_locator = RegistryLocator::new(&settings_for);
    let no_registry = NoRegistry;
    let locator: &dyn Locator = if s.offline {
        &no_registry
    } else {
        &registry_locator
    };
    let resolved = resolve(&registry_locator, &policy)?;

    let project = Project::discover(&s.cwd).ok();
    let store = s.paths.store();
    let sidecar = project.as_ref().map(|p| SidecarDir(p.out_dir()));
    let mut lookups: Vec<&dyn BundleLookup> = vec![&store];
    if let Some(s) = &sidecar {
        lookups.push(s);
    }
    // The inputs' evidence published with the registry manifests resolved.
    lookups.push(&registry_locator);
    let lookup = Lookups(lookups);
    let reporter = printer.reporter();
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
        access: kept_access,
    })
}

/// Resolve the target and walk its graph.
pub fn verify_target(s: &GlobalSettings, printer: &Printer, args: &VerifyArgs) -> Result<Outcome> {
    let target = match args.target.as_deref() {
        Some(t) => Target::parse(t, &s.cwd)?,
        None => Target::Path(crate::project::artifact_path(&s.cwd)?),
    };
    let read_bundle = |p: &std::path::Path| {
        let mut raw = RawBundle::read(p)?;
        // Name it as the user would: relative to the working directory.
        if let Ok(rel) = p.strip_prefix(&s.cwd) {
            raw.source = rel.display().to_string();
        }
        Ok(raw)
    };
    let mut bundles = Vec::new();
    for b in &args.bundle {
        let p = s.cwd.join(b);
        bundles.push(
            read_bundle(&p)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot read {}", p.display()))?,
        );
    }
    let project = Project::discover(&s.cwd).ok();
    let flags = Flags {
        trust: &args.trust,
        graph: &args.graph,
        registry: &args.registry,
        target_registry: target.registry(),
        access: None,
    };
    let reference = match &target {
        Target::Reference(r) => Some(r.clone()),
        _ => None,
    };
    let mut out = verify_with(s, printer, &flags, &|registry, policy| {
        let s = TargetSettings {
            signature: args.signature.clone(),
            bundles: bundles.clone(),
            ignore_paths: &args.ignore_paths,
            cwd: &s.cwd,
            project_root: project.as_ref().map(|p| p.root.as_path()),
            default_require: args.trust.require.is_empty() && !policy.root.require_explicit,
            offline: s.offline,
            offline_cause: s.offline_cause,
            registry,
            read_bundle: &read_bundle,
        };
        Ok(target::resolve(&target, &s)?)
    })?;
    out.reference = reference;
    Ok(out)
}
