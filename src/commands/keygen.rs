//! `mlprov keygen`: an ECDSA P-256 key pair in cosign's format.

use miette::{IntoDiagnostic, Result, WrapErr};

use super::Context;
use crate::cli::KeygenArgs;
use crate::fsutil::write_atomic_mode;
use crate::settings::signing;
use crate::sign::keys::{KeyAlgorithm, SigningKey};

pub fn run(cx: &Context, args: KeygenArgs) -> Result<()> {
    let key_path = cx
        .settings
        .cwd
        .join(format!("{}.key", args.output_key_prefix));
    let pub_path = cx
        .settings
        .cwd
        .join(format!("{}.pub", args.output_key_prefix));
    let shown = |p: &std::path::Path| {
        p.strip_prefix(&cx.settings.cwd)
            .unwrap_or(p)
            .display()
            .to_string()
    };
    if !args.force {
        for p in [&key_path, &pub_path] {
            if p.exists() {
                miette::bail!(
                    code = "mlprov::keygen::exists",
                    help = "pass --force to replace it, or --output-key-prefix to write elsewhere",
                    "{} already exists; mlprov never overwrites a key without --force",
                    p.display()
                );
            }
        }
    }
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256)?;
    let private_pem = if args.no_password {
        key.to_pkcs8_pem()
    } else {
        let password = signing::new_password(&cx.settings, &cx.prompt())?;
        key.to_encrypted_pem(password.as_bytes())?
    };
    let public = key.public_key()?;
    write_atomic_mode(&key_path, private_pem.as_bytes(), 0o600)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write {}", key_path.display()))?;
    write_atomic_mode(&pub_path, public.to_pem().as_bytes(), 0o644)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write {}", pub_path.display()))?;
    // A private key in a git work tree is one `git add .` from being
    // published: make git ignore it (or say why that did not happen).
    let ignored = crate::gitignore::ensure_ignored(
        &key_path,
        "the private signing key written by `mlprov keygen`: never commit it",
    );
    match &ignored {
        Ok(crate::gitignore::Ignored::Tracked) => cx.printer.warn(&format!(
            "{} is tracked by git: remove it from the repository (`git rm --cached {}`) and rotate the key",
            key_path.display(),
            key_path.display()
        )),
        Err(e) => cx.printer.warn(&format!(
            "could not add {} to .gitignore ({e}): do not commit it",
            key_path.display()
        )),
        _ => {}
    }
    if args.no_password {
        cx.printer.warn(&format!(
            "{} is NOT encrypted (--no-password): anyone who can read it can sign as you",
            shown(&key_path)
        ));
    }
    if cx.printer.is_json() {
        cx.printer.document(&crate::document::KeygenDocument {
            version: crate::document::VERSION,
            private_key: key_path.display().to_string(),
            public_key: pub_path.display().to_string(),
            algorithm: key.algorithm().id().to_string(),
            encrypted: !args.no_password,
            fingerprint: public.fingerprint().prefixed(),
            hint: public.hint().to_string(),
        });
    } else {
        cx.printer.status(
            "Generated",
            &format!(
                "{} key pair: {} ({}), {}",
                key.algorithm(),
                shown(&key_path),
                if args.no_password {
                    "unencrypted"
                } else {
                    "encrypted"
                },
                shown(&pub_path)
            ),
        );
        if let Ok(crate::gitignore::Ignored::Added(p)) = &ignored {
            cx.printer.status(
                "Updated",
                &format!("{} (added {})", shown(p), shown(&key_path)),
            );
        }
    }
    Ok(())
}
