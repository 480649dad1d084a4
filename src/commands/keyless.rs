//! Keyless (Sigstore) settings shared by `sign`, `attest` and `verify`:
//! the trusted root, the trusted identities, and (for signing) the identity
//! token and the signing session.

use std::path::PathBuf;
use std::sync::Arc;

use miette::Result;

use super::Context;
use crate::cli::KeylessTrustArgs;
use crate::sign::bundle::IdentityRule;
use crate::sign::keyless::TrustedRoot;

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
