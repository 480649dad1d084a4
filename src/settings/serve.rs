//! `mlprov serve` settings: the flags merged with `MLPROV_SERVE_*`, once;
//! and the verifier the gate calls, which verifies a pinned model exactly
//! as `verify REF` does (the same [`super::verify::verify_with`]), or
//! admits it on a VSA from a trusted verifier.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::env::{self, BadVariable, SERVE_CACHE_TTL, SERVE_DEADLINE_MS, SERVE_MAX_REQUEST_BYTES};
use super::verify::{Flags, verify_with};
use super::{GlobalSettings, trust};
use crate::cli::ServeArgs;
use crate::digest::Sha256Digest;
use crate::output::Printer;
use crate::registry::{Access, Client, OciRef, pull};
use crate::serve::gate::{GateSettings, Proof, Verdict, Verifier};
use crate::sign::trust::Trust;
use crate::verify::node::{Verification, verify_bundle};
use crate::verify::target::{self, Target, TargetSettings};

/// The API server gives a webhook at most 30 s (`timeoutSeconds`).
const MAX_DEADLINE_MS: u64 = 30_000;
/// An UPDATE review carries `object` and `oldObject`, each at most the API
/// server's 3 MiB request limit, and the review around them.
pub const DEFAULT_MAX_REQUEST_BYTES: u64 = 7 << 20;

/// Resolved `serve` settings.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    pub max_request_bytes: usize,
    pub gate: GateSettings,
}

/// `serve` settings that cannot be resolved.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ServeSettingsError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Variable(#[from] BadVariable),

    #[error("{what} is required")]
    #[diagnostic(
        code(mlprov::usage),
        help(
            "pass --tls-cert FILE and --tls-key FILE (or MLPROV_SERVE_TLS_CERT/_KEY): the API server only calls webhooks over HTTPS"
        )
    )]
    MissingTls { what: &'static str },

    #[error("--listen {0}: not an address (host:port)")]
    #[diagnostic(
        code(mlprov::usage),
        help("e.g. --listen 0.0.0.0:8443 or --listen 127.0.0.1:9443")
    )]
    Listen(String),

    #[error("--deadline-ms {0}: must be between 1 and {MAX_DEADLINE_MS}")]
    #[diagnostic(
        code(mlprov::usage),
        help(
            "keep it below the webhook's timeoutSeconds (10 s by default, 30 s at most), e.g. 8000"
        )
    )]
    Deadline(u64),
}

fn number(name: &'static str, v: Option<&str>) -> Result<Option<u64>, BadVariable> {
    let Some(v) = v else { return Ok(None) };
    v.trim().parse().map(Some).map_err(|_| BadVariable {
        name,
        value: v.to_string(),
        expected: "a whole number",
        example: "a whole number, e.g. 8000",
    })
}

/// Merge the flags with the environment and the defaults.
pub fn resolve(s: &GlobalSettings, args: &ServeArgs) -> Result<ServeSettings, ServeSettingsError> {
    let e = &s.env;
    let listen_text = args
        .listen
        .clone()
        .or_else(|| e.serve_listen.clone())
        .unwrap_or_else(|| "0.0.0.0:8443".into());
    let listen = listen_text
        .parse()
        .map_err(|_| ServeSettingsError::Listen(listen_text.clone()))?;
    let tls_cert = args
        .tls_cert
        .clone()
        .or_else(|| e.serve_tls_cert.clone())
        .ok_or(ServeSettingsError::MissingTls { what: "--tls-cert" })?;
    let tls_key = args
        .tls_key
        .clone()
        .or_else(|| e.serve_tls_key.clone())
        .ok_or(ServeSettingsError::MissingTls { what: "--tls-key" })?;
    let deadline = match args.deadline_ms {
        Some(d) => d,
        None => number(SERVE_DEADLINE_MS, e.serve_deadline_ms.as_deref())?.unwrap_or(8000),
    };
    if deadline == 0 || deadline > MAX_DEADLINE_MS {
        return Err(ServeSettingsError::Deadline(deadline));
    }
    let ttl = match args.cache_ttl {
        Some(t) => t,
        None => env::parse_seconds(SERVE_CACHE_TTL, e.serve_cache_ttl.as_deref())?.unwrap_or(300),
    };
    let max = match args.max_request_bytes {
        Some(m) => m,
        None => number(
            SERVE_MAX_REQUEST_BYTES,
            e.serve_max_request_bytes.as_deref(),
        )?
        .unwrap_or(DEFAULT_MAX_REQUEST_BYTES),
    };
    Ok(ServeSettings {
        listen,
        tls_cert: s.cwd.join(tls_cert),
        tls_key: s.cwd.join(tls_key),
        max_request_bytes: usize::try_from(max).unwrap_or(usize::MAX),
        gate: GateSettings {
            deadline: Duration::from_millis(deadline),
            cache_ttl: Duration::from_secs(ttl),
            allowed_registries: args.allow_registry.clone(),
        },
    })
}

/// Verifies models as `verify REF` does, with the flags of `serve`.
pub struct PolicyVerifier {
    settings: GlobalSettings,
    printer: Printer,
    trust: crate::cli::TrustArgs,
    graph: crate::cli::GraphPolicyArgs,
    registry: crate::cli::RegistryArgs,
    access: Access,
    /// Verifiers whose VSAs admit a model (`--vsa-key`).
    vsa_trust: Option<Trust>,
}

impl PolicyVerifier {
    /// Check the trust flags and resolve registry access once (a
    /// `--password-stdin` login is read here, for the `--allow-registry`
    /// registries).
    pub fn new(s: &GlobalSettings, printer: &Printer, args: &ServeArgs) -> miette::Result<Self> {
        let cli = trust::cli_trust(s, printer, &args.trust)?;
        if cli.keys.is_empty()
            && cli.roots.is_empty()
            && cli.identities.is_empty()
            && args.graph.policy.is_empty()
        {
            miette::bail!(
                code = "mlprov::usage",
                help = "pass --key PUB (repeatable), --certificate-chain PEM, --certificate-identity with \
                        --certificate-oidc-issuer, or a --policy whose roles name `signers`",
                "no trusted signer given: mlprov never trusts the key inside a signature"
            );
        }
        let named: Vec<&str> = args.allow_registry.iter().map(String::as_str).collect();
        let access = super::registry::access(Some(&args.registry), &named, &s.env)?;
        let vsa_identities = trust::identity_rules_of(
            "--vsa-",
            args.vsa_certificate_identity.as_deref(),
            args.vsa_certificate_identity_regexp.as_deref(),
            args.vsa_certificate_oidc_issuer.as_deref(),
        )?;
        let vsa_trust = if args.vsa_key.is_empty() && vsa_identities.is_empty() {
            None
        } else {
            let mut t = trust::keys_and_roots(s, &args.vsa_key, &[])?;
            if !vsa_identities.is_empty() {
                t.identities = vsa_identities;
                t.sigstore = Some(trust::args_trusted_root(s, printer, &args.trust)?);
            }
            Some(t)
        };
        Ok(Self {
            settings: s.clone(),
            printer: printer.clone(),
            trust: args.trust.clone(),
            graph: args.graph.clone(),
            registry: args.registry.clone(),
            access,
            vsa_trust,
        })
    }

    fn client(&self, registry: &str) -> Result<Client, Verdict> {
        self.access
            .settings_for(registry)
            .and_then(|s| Client::new(registry, &s))
            .map_err(|e| {
                Verdict::denied(
                    vec!["serve::registry".into()],
                    format!("cannot reach {registry}: {e}"),
                    false,
                )
            })
    }

    /// A VSA among the model's referrers, signed by a `--vsa-key` or a
    /// `--vsa-certificate-identity`, about this manifest, with a passing
    /// verdict from mlprov's verifier.
    fn vsa(&self, pinned: &OciRef, digest: &Sha256Digest) -> Option<Verdict> {
        let trust = self.vsa_trust.as_ref()?;
        let client = self.client(&pinned.registry).ok()?;
        let (bundles, _) = pull::fetch_bundles(&client, &pinned.repository, digest).ok()?;
        for b in bundles.iter().filter(|b| !b.input_evidence) {
            let Ok(bundle) = crate::sign::bundle::parse(&b.bytes) else {
                continue;
            };
            let st = &bundle.statement;
            if st.predicate_type != crate::intoto::PREDICATE_VSA
                || !st
                    .subject
                    .iter()
                    .any(|s| s.sha256_digest() == Some(*digest))
                || st
                    .predicate
                    .pointer("/verificationResult")
                    .and_then(|v| v.as_str())
                    != Some("PASSED")
                || st
                    .predicate
                    .pointer("/verifier/id")
                    .and_then(|v| v.as_str())
                    != Some(crate::verify::vsa::VERIFIER_ID)
            {
                continue;
            }
            if let Verification::Trusted(signer) =
                verify_bundle(&bundle, &[("the VSA signers", trust)])
            {
                return Some(Verdict {
                    proof: Proof::Vsa(signer.describe()),
                    codes: Vec::new(),
                    reason: format!(
                        "VSA {} signed by {}",
                        b.referrer.prefixed(),
                        signer.describe()
                    ),
                    cacheable: true,
                });
            }
        }
        None
    }
}

impl Verifier for PolicyVerifier {
    fn resolve(&self, reference: &OciRef) -> Result<Sha256Digest, Verdict> {
        let client = self.client(&reference.registry)?;
        client
            .get_manifest(&reference.repository, &reference.lookup())
            .map(|(_, d)| d)
            .map_err(|e| {
                Verdict::denied(
                    vec!["serve::tag".into()],
                    format!("the tag cannot be resolved to a digest: {e}"),
                    false,
                )
            })
    }

    fn verify(&self, pinned: &OciRef) -> Verdict {
        let Some(digest) = pinned.digest else {
            return Verdict::denied(vec!["serve::internal".into()], "not pinned", false);
        };
        if let Some(v) = self.vsa(pinned, &digest) {
            return v;
        }
        let s = &self.settings;
        let flags = Flags {
            trust: &self.trust,
            graph: &self.graph,
            registry: &self.registry,
            target_registry: Some(&pinned.registry),
            access: Some(self.access.clone()),
            role: None,
        };
        let target = Target::Reference(pinned.clone());
        let read_bundle = |p: &std::path::Path| crate::verify::node::RawBundle::read(p);
        let no_ignore: Vec<String> = Vec::new();
        let out = verify_with(s, &self.printer, &flags, &|registry, policy| {
            let ts = TargetSettings {
                signature: None,
                bundles: Vec::new(),
                ignore_paths: &no_ignore,
                cwd: &s.cwd,
                project_root: None,
                default_require: self.trust.require.is_empty() && !policy.root.require_explicit,
                offline: false,
                offline_cause: "--offline",
                registry,
                read_bundle: &read_bundle,
            };
            Ok(target::resolve(&target, &ts)?)
        });
        match out {
            Ok(o) if o.graph.verified() => Verdict {
                proof: Proof::Verified,
                codes: Vec::new(),
                reason: String::new(),
                cacheable: true,
            },
            Ok(o) => {
                let mut codes: Vec<String> = Vec::new();
                let mut first = None;
                for (node, f) in o.graph.findings() {
                    let c = f.code.to_string();
                    if !codes.contains(&c) {
                        codes.push(c);
                    }
                    if first.is_none() {
                        let name = node.name.clone().unwrap_or_else(|| node.id.clone());
                        first = Some(format!("{name}: {}", f.message));
                    }
                }
                let n = o.graph.findings().count();
                let reason = match first {
                    Some(f) if n > 1 => format!("{f} (and {} more finding(s))", n - 1),
                    Some(f) => f,
                    None => "the verification did not pass".into(),
                };
                Verdict::denied(codes, reason, true)
            }
            Err(report) => {
                let code = report
                    .code()
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "serve::error".into());
                let mut reason = report.to_string();
                let mut source = report.source();
                while let Some(e) = source {
                    reason.push_str(": ");
                    reason.push_str(&e.to_string());
                    source = e.source();
                }
                Verdict::denied(vec![code], reason, false)
            }
        }
    }
}
