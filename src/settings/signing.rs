//! Signing settings: the key (and its password) or the keyless identity
//! token, the Sigstore services and the transparency log, resolved into a
//! [`Prepared`] signer before any statement is made.
//!
//! Passwords come from `MLPROV_PASSWORD`, then `COSIGN_PASSWORD`, then the
//! command's [`PasswordSource`] (a hidden prompt when mlprov may prompt);
//! otherwise the command fails with an error naming the variables.

use std::path::Path;
use std::sync::Arc;

use miette::Result;
use zeroize::Zeroizing;

use super::GlobalSettings;
use super::trust::trusted_root;
use crate::cli::KeylessSignArgs;
use crate::output::Printer;
use crate::sign::bundle;
use crate::sign::keyless::oidc::{self, IdentityToken};
use crate::sign::keyless::sign::{KeyTlog, Services, Session, sign_with_key_logged};
use crate::sign::keyless::{PUBLIC_FULCIO_URL, PUBLIC_REKOR_URL, TrustedRoot};
use crate::sign::keys::{KeyError, SigningKey};

/// Where passwords come from when the environment has none: the command's
/// prompt (settings never prompt themselves).
pub trait PasswordSource {
    /// Whether asking is possible here (a terminal, no `CI`).
    fn can_ask(&self) -> bool;
    /// The password of the existing key `label`.
    fn existing(&self, label: &str) -> std::result::Result<Zeroizing<String>, KeyError>;
    /// A password for a new key (asked twice).
    fn new_key(&self) -> std::result::Result<Zeroizing<String>, String>;
}

/// Load a signing key, asking for its password only if it is encrypted.
pub fn load_signing_key(
    s: &GlobalSettings,
    passwords: &dyn PasswordSource,
    path: &Path,
) -> Result<SigningKey> {
    let label = path.display().to_string();
    let mut password = || -> std::result::Result<Zeroizing<String>, KeyError> {
        if let Some(p) = s.env.key_password() {
            return Ok(p);
        }
        if !passwords.can_ask() {
            return Err(KeyError::NoPassword {
                path: label.clone(),
            });
        }
        passwords.existing(&label)
    };
    Ok(SigningKey::load(&s.cwd.join(path), &mut password)?)
}

/// A password for a new key: from the environment, or asked twice.
pub fn new_password(
    s: &GlobalSettings,
    passwords: &dyn PasswordSource,
) -> Result<Zeroizing<String>> {
    if let Some(p) = s.env.key_password() {
        return Ok(p);
    }
    if !passwords.can_ask() {
        miette::bail!(
            code = "mlprov::key::no-password",
            help = "set MLPROV_PASSWORD (or COSIGN_PASSWORD), or pass --no-password for an unencrypted throwaway key",
            "no password for the new private key, and mlprov cannot prompt here"
        );
    }
    passwords.new_key().map_err(|e| {
        miette::miette!(
            code = "mlprov::key::prompt",
            "cannot read the password: {e}"
        )
    })
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
pub fn prepare(
    s: &GlobalSettings,
    printer: &Printer,
    passwords: &dyn PasswordSource,
    key: Option<&Path>,
    k: &KeylessSignArgs,
) -> Result<Prepared> {
    if !k.keyless {
        let key = key.ok_or_else(|| {
            miette::miette!(
                code = "mlprov::usage",
                help = "pass --key cosign.key, or --keyless to sign with your OIDC identity",
                "no signing key given"
            )
        })?;
        let tlog = key_tlog(
            s,
            printer,
            k.tlog_upload,
            k.rekor_url.as_deref(),
            k.trusted_root.as_deref(),
        )?;
        return Ok(Prepared::Key(load_signing_key(s, passwords, key)?, tlog));
    }
    if k.tlog_upload == Some(false) {
        miette::bail!(
            code = "mlprov::usage",
            help = "drop --tlog-upload=false: it applies to --key signing only",
            "keyless signing always logs the signature in Rekor"
        );
    }
    let rekor_url = k.rekor_url.as_deref().unwrap_or(PUBLIC_REKOR_URL);
    if s.offline {
        miette::bail!(
            code = "mlprov::usage",
            help = format!("sign with --key instead, or {}", s.online_hint()),
            "keyless signing needs Fulcio and Rekor, but mlprov is offline ({})",
            s.offline_cause
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
    let root = trusted_root(s, printer, k.trusted_root.as_deref(), false)?;
    let token = identity_token(s, printer, k)?;
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
    s: &GlobalSettings,
    printer: &Printer,
    upload: Option<bool>,
    rekor_url: Option<&str>,
    trusted_root_file: Option<&Path>,
) -> Result<Option<KeyTlog>> {
    if !upload.unwrap_or(rekor_url.is_some()) {
        return Ok(None);
    }
    if s.offline {
        miette::bail!(
            code = "mlprov::usage",
            help = format!(
                "{}, or sign without a log entry (--tlog-upload=false)",
                s.online_hint()
            ),
            "logging the signature in Rekor needs the network, but mlprov is offline ({})",
            s.offline_cause
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
    let root = trusted_root(s, printer, trusted_root_file, false)?;
    Ok(Some(KeyTlog {
        rekor_url: url.to_string(),
        root,
    }))
}

fn identity_token(
    s: &GlobalSettings,
    printer: &Printer,
    k: &KeylessSignArgs,
) -> Result<IdentityToken> {
    let raw = if let Some(t) = k.identity_token.as_deref().filter(|t| !t.trim().is_empty()) {
        t.to_string()
    } else if let (Some(url), Some(tok)) = (
        &s.env.actions_id_token_request_url,
        &s.env.actions_id_token_request_token,
    ) {
        oidc::github_actions(url, tok)?
    } else if s.env.github_actions() {
        miette::bail!(
            code = "mlprov::keyless::no-token",
            help = "give the job `permissions: id-token: write` so GitHub provides ACTIONS_ID_TOKEN_REQUEST_URL",
            "keyless signing in GitHub Actions needs the job's OIDC token, which this job cannot request"
        );
    } else if s.interactive {
        oidc::browser(&k.oidc_issuer, &k.oidc_client_id, &|url| {
            printer.status(
                "Sign in",
                &format!("opening your browser; if it does not open, visit {url}"),
            )
        })?
    } else {
        miette::bail!(
            code = "mlprov::keyless::no-token",
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
    pub fn start(self, printer: &Printer) -> Result<StatementSigner> {
        match self {
            Prepared::Key(k, tlog) => Ok(StatementSigner::Key(k, tlog)),
            Prepared::Keyless {
                token,
                services,
                root,
            } => {
                let fulcio = services.fulcio_url.clone();
                let session = Session::start(services, &token, root)?;
                printer.status(
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
