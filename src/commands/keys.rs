//! Key and password handling shared by `keygen`, `sign`, `attest` and
//! `verify`: passwords come from `MLPROV_PASSWORD`, then `COSIGN_PASSWORD`,
//! then a hidden prompt when mlprov may prompt, and otherwise the command
//! fails with an error naming the variables.

use std::path::Path;

use dialoguer::Password;
use dialoguer::theme::ColorfulTheme;
use miette::Result;
use zeroize::Zeroizing;

use super::Context;
use crate::sign::keys::{KeyError, PublicKey, SigningKey};
use crate::sign::trust::Trust;
use crate::sign::x509;

/// The password from the environment, if one is set (an empty value is an
/// empty password, as cosign treats it).
pub fn env_password() -> Option<Zeroizing<String>> {
    for var in ["MLPROV_PASSWORD", "COSIGN_PASSWORD"] {
        if let Ok(v) = std::env::var(var) {
            return Some(Zeroizing::new(v));
        }
    }
    None
}

/// Load a signing key, asking for its password only if it is encrypted.
pub fn load_signing_key(cx: &Context, path: &Path) -> Result<SigningKey> {
    let label = path.display().to_string();
    let interactive = cx.interactive;
    let mut password = || -> std::result::Result<Zeroizing<String>, KeyError> {
        if let Some(p) = env_password() {
            return Ok(p);
        }
        if !interactive {
            return Err(KeyError::NoPassword {
                path: label.clone(),
            });
        }
        Password::with_theme(&ColorfulTheme::default())
            .with_prompt(format!("Password for {label}"))
            .allow_empty_password(true)
            .interact()
            .map(Zeroizing::new)
            .map_err(|e| KeyError::Prompt {
                path: label.clone(),
                reason: e.to_string(),
            })
    };
    Ok(SigningKey::load(&cx.cwd.join(path), &mut password)?)
}

/// A password for a new key: from the environment, or asked twice.
pub fn new_password(cx: &Context) -> Result<Zeroizing<String>> {
    if let Some(p) = env_password() {
        return Ok(p);
    }
    if !cx.interactive {
        miette::bail!(
            code = "mlprov::key::no_password",
            help = "set MLPROV_PASSWORD (or COSIGN_PASSWORD), or pass --no-password for an unencrypted throwaway key",
            "no password for the new private key, and mlprov cannot prompt here"
        );
    }
    Password::with_theme(&ColorfulTheme::default())
        .with_prompt("Password for the private key")
        .with_confirmation("Repeat the password", "The passwords do not match")
        .allow_empty_password(true)
        .interact()
        .map(Zeroizing::new)
        .map_err(|e| {
            miette::miette!(
                code = "mlprov::key::prompt",
                "cannot read the password: {e}"
            )
        })
}

/// The trusted keys and certificates given on the command line.
pub fn trust(
    cx: &Context,
    keys: &[std::path::PathBuf],
    chains: &[std::path::PathBuf],
) -> Result<Trust> {
    let mut trust = Trust::default();
    for k in keys {
        let mut key = PublicKey::load(&cx.cwd.join(k))?;
        key.label = k.display().to_string();
        trust.keys.push(key);
    }
    for c in chains {
        let certs = x509::load_pem_certs(&cx.cwd.join(c)).map_err(|e| {
            miette::miette!(
                code = "mlprov::verify::certificate_chain",
                help = "pass a PEM file with one or more `CERTIFICATE` blocks",
                "{e}"
            )
        })?;
        trust.roots.extend(certs);
    }
    Ok(trust)
}
