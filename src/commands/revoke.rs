//! `mlprov revoke DIGEST… --key KEY`: write (or extend) a signed revocation
//! list: a Sigstore bundle whose statement has predicate type
//! `https://mlprov.dev/revocation/v1` (see `verify::policy`). Policies name
//! it with `revocation-list = { bundle = "…", signers = ["…"] }`.

use miette::{IntoDiagnostic, Result, WrapErr};

use super::Context;
use crate::cli::RevokeArgs;
use crate::digest::Sha256Digest;
use crate::settings::signing;
use crate::sign::bundle;
use crate::sign::trust::Trust;
use crate::verify::policy;

pub fn run(cx: &Context, args: RevokeArgs) -> Result<()> {
    let mut added = Vec::new();
    for d in &args.digests {
        let digest = Sha256Digest::parse_any(d).map_err(|_| {
            miette::miette!(
                code = "mlprov::usage",
                help = "pass artifact digests as sha256:<64 hex>",
                "`{d}` is not a sha256 digest"
            )
        })?;
        added.push((digest, args.reason.clone()));
    }
    let key = signing::load_signing_key(&cx.settings, &cx.prompt(), &args.key)?;
    let out = cx.settings.cwd.join(&args.output);
    let mut entries = Vec::new();
    if out.exists() {
        let bytes = std::fs::read(&out)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot read {}", out.display()))?;
        let trust = Trust {
            keys: vec![key.public_key()?],
            roots: Vec::new(),
            ..Default::default()
        };
        entries = policy::read_revocation_list(&bytes, &trust).map_err(|e| {
            miette::miette!(
                code = "mlprov::revoke::existing",
                help = "write a new list with another --output, or sign with the key that signed this one",
                "{} exists but is not a revocation list signed by this key: {e}",
                out.display()
            )
        })?;
    }
    let before = entries.len();
    for (d, reason) in added {
        if !entries.iter().any(|(x, _)| *x == d) {
            entries.push((d, reason));
        }
    }
    let st = policy::revocation_statement(&entries);
    let payload = serde_json::to_vec(&st).into_diagnostic()?;
    let signed = bundle::sign_statement(&payload, &key)?;
    crate::fsutil::write_atomic(&out, &signed)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write {}", out.display()))?;
    if cx.printer.is_json() {
        cx.printer.document(&crate::document::RevokeDocument {
            version: crate::document::VERSION,
            file: out.display().to_string(),
            revoked: entries
                .iter()
                .map(|(d, r)| crate::document::Revoked {
                    digest: d.prefixed(),
                    reason: r.clone(),
                })
                .collect(),
        });
    } else {
        cx.printer.status(
            "Revoked",
            &format!(
                "{} digest(s) ({} new) → {}",
                entries.len(),
                entries.len() - before,
                out.display()
            ),
        );
    }
    Ok(())
}
