//! Trust settings: the keys, certificate roots and keyless identities the
//! flags name, and the Sigstore trusted root.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::Result;

use super::GlobalSettings;
use crate::cli::{KeylessTrustArgs, TrustArgs};
use crate::output::Printer;
use crate::sign::keyless::TrustedRoot;
use crate::sign::keys::PublicKey;
use crate::sign::trust::{IdentityRule, Trust};
use crate::sign::x509;

/// The trusted keys and certificates given on the command line.
pub fn keys_and_roots(s: &GlobalSettings, keys: &[PathBuf], chains: &[PathBuf]) -> Result<Trust> {
    let mut trust = Trust::default();
    for k in keys {
        let mut key = PublicKey::load(&s.cwd.join(k))?;
        key.label = k.display().to_string();
        trust.keys.push(key);
    }
    for c in chains {
        let certs = x509::load_pem_certs(&s.cwd.join(c)).map_err(|e| {
            miette::miette!(
                code = "mlprov::verify::certificate-chain",
                help = "pass a PEM file with one or more `CERTIFICATE` blocks",
                "{e}"
            )
        })?;
        trust.roots.extend(certs);
    }
    Ok(trust)
}

/// The trusted root: `--trusted-root`, a TUF refresh when asked, the last
/// refresh, or the embedded public-good root.
pub fn trusted_root(
    s: &GlobalSettings,
    printer: &Printer,
    file: Option<&Path>,
    refresh: bool,
) -> Result<Arc<TrustedRoot>> {
    let tuf_dir = s.paths.tuf_dir();
    let root = if let Some(f) = file {
        TrustedRoot::load(&s.cwd.join(f))?
    } else if refresh {
        if s.offline {
            miette::bail!(
                code = "mlprov::usage",
                help = format!("{}, or pass --trusted-root FILE", s.online_hint()),
                "--refresh-trusted-root needs the network, but mlprov is offline ({})",
                s.offline_cause
            );
        }
        TrustedRoot::refresh_tuf(&tuf_dir)?
    } else {
        let cached = tuf_dir.join("trusted_root.json");
        if cached.is_file() {
            let mut r = TrustedRoot::load(&cached)?;
            r.source = format!("{} (last TUF refresh)", cached.display());
            r
        } else {
            TrustedRoot::public_good()?
        }
    };
    for skipped in &root.skipped {
        printer.note(&format!("trusted root: not usable: {skipped}"));
    }
    printer.note(&format!("keyless trust: {}", root.describe()));
    Ok(Arc::new(root))
}

/// The identity rule the flags give, if any.
pub fn identity_rules(args: &KeylessTrustArgs) -> Result<Vec<IdentityRule>> {
    identity_rules_of(
        "--",
        args.certificate_identity.as_deref(),
        args.certificate_identity_regexp.as_deref(),
        args.certificate_oidc_issuer.as_deref(),
    )
}

/// The identity rule of `PREFIXcertificate-identity[-regexp]` and
/// `PREFIXcertificate-oidc-issuer` (`--` for signers, `--vsa-` for `serve`'s
/// VSA signers).
pub fn identity_rules_of(
    prefix: &str,
    identity: Option<&str>,
    regexp: Option<&str>,
    issuer: Option<&str>,
) -> Result<Vec<IdentityRule>> {
    match (identity, regexp, issuer) {
        (Some(id), None, Some(iss)) => Ok(vec![IdentityRule::exact(id, iss)]),
        (None, Some(re), Some(iss)) => Ok(vec![IdentityRule::regexp(re, iss).map_err(|e| {
            miette::miette!(
                code = "mlprov::usage",
                "{prefix}certificate-identity-regexp: not a valid regular expression: {e}"
            )
        })?]),
        (None, None, Some(_)) => miette::bail!(
            code = "mlprov::usage",
            help = format!(
                "pass {prefix}certificate-identity (exact) or {prefix}certificate-identity-regexp"
            ),
            "{prefix}certificate-oidc-issuer names no identity: an issuer alone would trust everyone it issues tokens to"
        ),
        (None, None, None) => Ok(Vec::new()),
        // clap enforces the rest (issuer required, identity and regexp exclusive).
        _ => miette::bail!(
            code = "mlprov::usage",
            "pass exactly one of {prefix}certificate-identity and {prefix}certificate-identity-regexp, with {prefix}certificate-oidc-issuer"
        ),
    }
}

/// The trusted root `--trusted-root`/`--refresh-trusted-root` name.
pub fn args_trusted_root(
    s: &GlobalSettings,
    printer: &Printer,
    args: &TrustArgs,
) -> Result<Arc<TrustedRoot>> {
    trusted_root(
        s,
        printer,
        args.keyless.trusted_root.as_deref(),
        args.keyless.refresh_trusted_root,
    )
}

/// The trust the flags give: keys, certificate roots, keyless identities,
/// and the Sigstore trusted root when an identity or a log check needs it.
pub fn cli_trust(s: &GlobalSettings, printer: &Printer, args: &TrustArgs) -> Result<Trust> {
    let mut trust = keys_and_roots(s, &args.key, &args.certificate_chain)?;
    trust.identities = identity_rules(&args.keyless)?;
    trust.require_tlog = args.require_tlog;
    // Key-signed bundles' log entries are checked against the given root,
    // else (in the domain) the embedded public-good one.
    if !trust.identities.is_empty()
        || args.require_tlog
        || args.keyless.trusted_root.is_some()
        || args.keyless.refresh_trusted_root
    {
        trust.sigstore = Some(args_trusted_root(s, printer, args)?);
    }
    Ok(trust)
}

/// The trust the flags give; an empty trust is a usage error (mlprov never
/// trusts the key inside a signature).
pub fn trust_from_args(s: &GlobalSettings, printer: &Printer, args: &TrustArgs) -> Result<Trust> {
    let trust = cli_trust(s, printer, args)?;
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
