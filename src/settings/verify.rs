//! One verification, as `verify`, `graph` and `pull` ask for it: the
//! trust of the flags, the policy (`--policy`, else the project's
//! `[policy]`), registry access, the local store and the project's sidecar
//! bundles, resolved once; then the target's graph is walked.

use miette::{IntoDiagnostic, Result, WrapErr};

use super::GlobalSettings;
use super::registry::access as registry_access;
use super::{policy, trust};
use crate::cli::{GraphPolicyArgs, RegistryArgs, TrustArgs, VerifyArgs};
use crate::limits::Limit;
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
    /// `verify --role`: the root is judged as an input in this role.
    pub role: Option<crate::model::Role>,
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
    // The card is the model's: a root judged as an input has none to show.
    let card = (!policy.model_card_require.is_empty() && flags.role.is_none())
        .then(|| card_location(&resolved.root));

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
        root_role: flags.role,
        rego_scope: match flags.graph.policy_scope {
            crate::cli::PolicyScope::Graph => RegoScope::Graph,
            crate::cli::PolicyScope::Root => RegoScope::Root,
        },
    };
    let mut graph = walk::verify_graph(resolved.root, &settings);
    if let Some(card) = card {
        let text = read_card(card, &kept_access);
        model_card_findings(&mut graph, &policy.model_card_require, text);
    }
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
        role: args.role,
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
        let mut resolved = target::resolve(&target, &s)?;
        if args.role.is_some() {
            // Judged as an input is judged: by its role's rules and the
            // `--require`d types, not by the file-set signature a model
            // needs (its digest, re-hashed from the bytes, is what the
            // attestations must name).
            resolved.root.require = args.trust.require.clone();
        }
        Ok(resolved)
    })?;
    out.reference = reference;
    Ok(out)
}

/// Where the root's model card (`README.md`) is.
enum CardAt {
    /// A file on disk (it may not exist: then there is no card; `None`: a
    /// single-file model, which has none).
    File(Option<std::path::PathBuf>),
    /// A layer of a registry manifest (`None`: the manifest has no
    /// `README.md`).
    Layer {
        location: String,
        layer: Option<crate::digest::FileEntry>,
    },
    /// The target has no files to read a card from (a digest).
    Unavailable(String),
}

fn card_location(root: &crate::verify::Root) -> CardAt {
    if let Some(b) = &root.bytes {
        // A single-file model has no card.
        return CardAt::File(b.path.is_dir().then(|| b.path.join("README.md")));
    }
    if let (Some(listed), Some(location)) = (&root.listed, &root.name) {
        return CardAt::Layer {
            location: location.clone(),
            layer: listed.files.iter().find(|f| f.path == "README.md").cloned(),
        };
    }
    CardAt::Unavailable(
        "the target is a digest, so there are no files to read the model card from".into(),
    )
}

/// The card's text: `Ok(None)` when the model has none, `Err` when it
/// cannot be read (a finding too: what cannot be read proves nothing).
fn read_card(at: CardAt, access: &crate::registry::Access) -> Result<Option<String>, String> {
    let text = |bytes: Vec<u8>, what: &str| {
        String::from_utf8(bytes).map_err(|_| format!("{what} is not UTF-8 text"))
    };
    match at {
        CardAt::File(None) => Ok(None),
        CardAt::File(Some(p)) => match std::fs::metadata(&p) {
            Ok(m) if m.len() > Limit::ModelCardBytes.get() => Err(format!(
                "{} is larger than the limit of {} ({})",
                p.display(),
                Limit::ModelCardBytes.shown(),
                Limit::ModelCardBytes.named()
            )),
            Ok(_) => std::fs::read(&p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))
                .and_then(|b| text(b, &p.display().to_string()))
                .map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", p.display())),
        },
        CardAt::Layer { layer: None, .. } => Ok(None),
        CardAt::Layer {
            location,
            layer: Some(f),
        } => {
            let reference = crate::registry::OciRef::parse(&location).map_err(|e| e.to_string())?;
            let what = format!("{location} README.md");
            let fetch = || -> Result<Vec<u8>, crate::registry::RegistryError> {
                let settings = access.settings_for(&reference.registry)?;
                let client = crate::registry::Client::new(&reference.registry, &settings)?;
                // The layer's digest is the file's sha256, which the walk
                // checks against the signed file list; the download is
                // checked against it.
                client.fetch_small_blob(
                    &reference.repository,
                    &f.sha256,
                    f.size,
                    Limit::ModelCardBytes,
                    &what,
                )
            };
            let bytes = fetch().map_err(|e| format!("cannot fetch {what}: {e}"))?;
            text(bytes, &what).map(Some)
        }
        CardAt::Unavailable(why) => Err(why),
    }
}

/// E0408 on the root for each field of `require` the card lacks.
fn model_card_findings(
    graph: &mut Graph,
    require: &[String],
    card: Result<Option<String>, String>,
) {
    use crate::verify::Code;
    use crate::verify::node::Finding;
    let Some(root) = graph.nodes.first_mut() else {
        return;
    };
    let digest = root.digest;
    let policy_help = "or drop the field from `require` under [policy.model-card]";
    match card {
        Err(why) => root.findings.push(
            Finding::new(
                Code::ModelCardIncomplete,
                digest,
                format!("the model card cannot be checked: {why}"),
            )
            .with_help(format!(
                "publish the model with its README.md, {policy_help}"
            )),
        ),
        Ok(text) => {
            let missing = crate::verify::card::missing(text.as_deref(), require);
            for field in missing {
                let message = if text.is_none() {
                    format!("the model has no model card (README.md), so it lacks `{field}`")
                } else {
                    format!("the model card (README.md) lacks `{field}`")
                };
                root.findings.push(
                    Finding::new(Code::ModelCardIncomplete, digest, message).with_help(format!(
                        "add a `{}` section (or `{field}:` in the YAML front matter) to README.md and rebuild, {policy_help}",
                        card_heading(&field)
                    )),
                );
            }
        }
    }
}

fn card_heading(field: &str) -> &'static str {
    match field {
        "intended-use" => "## Intended use",
        "training-data" => "## Training data",
        "evaluation" => "## Evaluation",
        "limitations" => "## Limitations",
        _ => "## License",
    }
}
