//! Keyless (Sigstore) settings shared by `sign`, `attest` and `verify`:
//! the trusted root, the trusted identities, and (for signing) the identity
//! token and the signing session.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::Result;

use super::{Context, keys};
use crate::cli::{KeylessSignArgs, KeylessTrustArgs};
use crate::sign::bundle;
use crate::sign::keyless::oidc::{self, IdentityToken};
use crate::sign::keyless::sign::{KeyTlog, Services, Session, sign_with_key_logged};
use crate::sign::keyless::{PUBLIC_FULCIO_URL, PUBLIC_REKOR_URL, TrustedRoot};
use crate::sign::keys::SigningKey;
use crate::sign::trust::IdentityRule;

/// Where a TUF refresh keeps the verified trusted root.
pub fn tuf_dir() -> PathBuf {
    crate::project::home_dir().join("sigstore")
}

/// The trusted root: `--trusted-root`, a TUF refresh when asked, the last
/// refresh, or the embedded public-good root.
pub fn trusted_root(
    cx: &Context,
    file: Option<&std::path::Path>,
    refresh: bool,
) -> Result<Arc<TrustedRoot>> {
    let root = if let Some(f) = file {
        TrustedRoot::load(&cx.cwd.join(f))?
    } else if refresh {
        if cx.offline {
            miette::bail!(
                code = "mlprov::usage",
                help = "drop --offline, or pass --trusted-root FILE",
                "--refresh-trusted-root needs the network, but mlprov is offline"
            );
        }
        TrustedRoot::refresh_tuf(&tuf_dir())?
    } else {
        let cached = tuf_dir().join("trusted_root.json");
        if cached.is_file() {
            let mut r = TrustedRoot::load(&cached)?;
            r.source = format!("{} (last TUF refresh)", cached.display());
            r
        } else {
            TrustedRoot::public_good()?
        }
    };
    for s in &root.skipped {
        cx.printer.note(&format!("trusted root: not usable: {s}"));
    }
    cx.printer
        .note(&format!("keyless trust: {}", root.describe()));
    Ok(Arc::new(root))
}

/// The identity rule the flags give, if any.
pub fn identity_rules(args: &KeylessTrustArgs) -> Result<Vec<IdentityRule>> {
    let issuer = args.certificate_oidc_issuer.as_deref();
    match (
        &args.certificate_identity,
        &args.certificate_identity_regexp,
        issuer,
    ) {
        (Some(id), None, Some(iss)) => Ok(vec![IdentityRule::exact(id, iss)]),
        (None, Some(re), Some(iss)) => Ok(vec![IdentityRule::regexp(re, iss).map_err(|e| {
            miette::miette!(
                code = "mlprov::usage",
                "--certificate-identity-regexp: not a valid regular expression: {e}"
            )
        })?]),
        (None, None, Some(_)) => miette::bail!(
            code = "mlprov::usage",
            help = "pass --certificate-identity (exact) or --certificate-identity-regexp",
            "--certificate-oidc-issuer names no identity: an issuer alone would trust everyone it issues tokens to"
        ),
        (None, None, None) => Ok(Vec::new()),
        // clap enforces the rest (issuer required, identity and regexp exclusive).
        _ => miette::bail!(
            code = "mlprov::usage",
            "pass exactly one of --certificate-identity and --certificate-identity-regexp, with --certificate-oidc-issuer"
        ),
    }
}

/// A signer ready to be started: a key that is open, or an identity token
/// (the Fulcio certificate, valid for minutes, is requested only when the
/// statements are ready).
pub enum Prepared {
    /// A key, and the log its bundles go to (`--tlog-upload`).
    Key(SigningKey, Option<KeyTlog>),
    Keyless {
        token: IdentityToken,
        services: Services,
        root: Arc<TrustedRoot>,
    },
}

/// Signs statements into bundles.
pub enum StatementSigner {
    Key(SigningKey, Option<KeyTlog>),
    Keyless(Session),
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Open the key, or get the identity token for keyless signing.
pub fn prepare(cx: &Context, key: Option<&Path>, k: &KeylessSignArgs) -> Result<Prepared> {
    if !k.keyless {
        let key = key.ok_or_else(|| {
            miette::miette!(
                code = "mlprov::usage",
                help = "pass --key cosign.key, or --keyless to sign with your OIDC identity",
                "no signing key given"
            )
        })?;
        let tlog = key_tlog(
            cx,
            k.tlog_upload,
            k.rekor_url.as_deref(),
            k.trusted_root.as_deref(),
        )?;
        return Ok(Prepared::Key(keys::load_signing_key(cx, key)?, tlog));
    }
    if k.tlog_upload == Some(false) {
        miette::bail!(
            code = "mlprov::usage",
            help = "drop --tlog-upload=false: it applies to --key signing only",
            "keyless signing always logs the signature in Rekor"
        );
    }
    let rekor_url = k.rekor_url.as_deref().unwrap_or(PUBLIC_REKOR_URL);
    if cx.offline {
        miette::bail!(
            code = "mlprov::usage",
            help = "sign with --key instead, or drop --offline",
            "keyless signing needs Fulcio and Rekor, but mlprov is offline"
        );
    }
    let custom = k.fulcio_url.trim_end_matches('/') != PUBLIC_FULCIO_URL
        || rekor_url.trim_end_matches('/') != PUBLIC_REKOR_URL;
    if custom && k.trusted_root.is_none() {
        miette::bail!(
            code = "mlprov::usage",
            help = "pass --trusted-root with the deployment's trusted_root.json (its Fulcio CA, Rekor log and CT log)",
            "--fulcio-url/--rekor-url name a private Sigstore deployment, but no trusted root describes it"
        );
    }
    let root = trusted_root(cx, k.trusted_root.as_deref(), false)?;
    let token = identity_token(cx, k)?;
    Ok(Prepared::Keyless {
        token,
        services: Services {
            fulcio_url: k.fulcio_url.clone(),
            rekor_url: rekor_url.to_string(),
        },
        root,
    })
}

/// Whether and where a key-signed bundle is logged: `--tlog-upload[=BOOL]`,
/// by default on when a Rekor URL is configured (`--rekor-url`,
/// `MLPROV_REKOR_URL`) and off otherwise, so that signing with a key never
/// publishes to the public log unasked. The log must be described by the
/// trusted root, because the entry is verified before the bundle is written.
pub fn key_tlog(
    cx: &Context,
    upload: Option<bool>,
    rekor_url: Option<&str>,
    trusted_root_file: Option<&Path>,
) -> Result<Option<KeyTlog>> {
    if !upload.unwrap_or(rekor_url.is_some()) {
        return Ok(None);
    }
    if cx.offline {
        miette::bail!(
            code = "mlprov::usage",
            help = "drop --offline, or sign without a log entry (--tlog-upload=false)",
            "logging the signature in Rekor needs the network, but mlprov is offline"
        );
    }
    let url = rekor_url.unwrap_or(PUBLIC_REKOR_URL);
    if url.trim_end_matches('/') != PUBLIC_REKOR_URL && trusted_root_file.is_none() {
        miette::bail!(
            code = "mlprov::usage",
            help = "pass --trusted-root with a trusted_root.json that lists the log, or --tlog-upload=false",
            "--rekor-url names a private Rekor ({url}), but no trusted root describes it"
        );
    }
    let root = trusted_root(cx, trusted_root_file, false)?;
    Ok(Some(KeyTlog {
        rekor_url: url.to_string(),
        root,
    }))
}

fn identity_token(cx: &Context, k: &KeylessSignArgs) -> Result<IdentityToken> {
    let raw = if let Some(t) = k.identity_token.as_deref().filter(|t| !t.trim().is_empty()) {
        t.to_string()
    } else if let (Some(url), Some(tok)) = (
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL")
            .ok()
            .filter(|v| !v.is_empty()),
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
            .ok()
            .filter(|v| !v.is_empty()),
    ) {
        oidc::github_actions(&url, &tok)?
    } else if cx.printer.github_actions {
        miette::bail!(
            code = "mlprov::keyless::no_token",
            help = "give the job `permissions: id-token: write` so GitHub provides ACTIONS_ID_TOKEN_REQUEST_URL",
            "keyless signing in GitHub Actions needs the job's OIDC token, which this job cannot request"
        );
    } else if cx.interactive {
        oidc::browser(&k.oidc_issuer, &k.oidc_client_id, &|url| {
            cx.printer.status(
                "Sign in",
                &format!("opening your browser; if it does not open, visit {url}"),
            )
        })?
    } else {
        miette::bail!(
            code = "mlprov::keyless::no_token",
            help = "pass --identity-token or set SIGSTORE_ID_TOKEN; in GitHub Actions give the job `permissions: id-token: write`",
            "keyless signing needs an OIDC identity token, and mlprov cannot open a browser here"
        );
    };
    let token = IdentityToken::parse(&raw)?;
    token.check_fresh(unix_now())?;
    Ok(token)
}

impl Prepared {
    /// Get the certificate (keyless), right before signing.
    pub fn start(self, cx: &Context) -> Result<StatementSigner> {
        match self {
            Prepared::Key(k, tlog) => Ok(StatementSigner::Key(k, tlog)),
            Prepared::Keyless {
                token,
                services,
                root,
            } => {
                let fulcio = services.fulcio_url.clone();
                let session = Session::start(services, &token, root)?;
                cx.printer.status(
                    "Certified",
                    &format!(
                        "{} (issuer {}) by {fulcio}",
                        session.identity.primary(),
                        session.identity.issuer
                    ),
                );
                Ok(StatementSigner::Keyless(session))
            }
        }
    }
}

impl StatementSigner {
    /// Sign an in-toto statement's bytes into a Sigstore bundle.
    /// Keyless bundles are logged in Rekor and verified against the
    /// trusted root before they are returned.
    pub fn sign(&self, payload: &[u8]) -> Result<Vec<u8>> {
        match self {
            StatementSigner::Key(k, None) => Ok(bundle::sign_statement(payload, k)?),
            StatementSigner::Key(k, Some(log)) => Ok(sign_with_key_logged(payload, k, log)?.bytes),
            StatementSigner::Keyless(s) => Ok(s.sign_statement(payload)?.bytes),
        }
    }

    /// For JSON reports: how the bundles are signed.
    pub fn describe_json(&self) -> serde_json::Value {
        match self {
            StatementSigner::Key(k, tlog) => {
                let mut v = serde_json::json!({
                    "kind": "key",
                    "algorithm": k.algorithm().id(),
                });
                if let (Some(t), Some(o)) = (tlog, v.as_object_mut()) {
                    o.insert("tlog".into(), serde_json::json!({"url": t.rekor_url}));
                }
                v
            }
            StatementSigner::Keyless(s) => serde_json::json!({
                "kind": "keyless",
                "identity": s.identity.primary(),
                "issuer": s.identity.issuer,
            }),
        }
    }
}
