//! `mlprov sign [PATH]`: an OpenSSF Model Signing v1.0 signature of a
//! model's files (`model.sig`), interoperable with `model_signing` 1.x.

use miette::{IntoDiagnostic, Result, WrapErr};

use super::Context;
use crate::cli::SignArgs;
use crate::fsutil::{human_bytes, write_atomic_mode};
use crate::intoto::PREDICATE_OMS;
use crate::settings::signing;
use crate::sign::oms;

pub fn run(cx: &Context, args: SignArgs) -> Result<()> {
    let target = match &args.path {
        Some(p) => cx.settings.cwd.join(p),
        None => crate::project::artifact_path(&cx.settings.cwd)?,
    };
    if !target.exists() {
        miette::bail!(
            code = "mlprov::sign::not-found",
            help = "pass the model directory (or file) to sign",
            "{}: no such file or directory",
            target.display()
        );
    }
    let signature = args
        .signature
        .as_ref()
        .map(|s| cx.settings.cwd.join(s))
        .unwrap_or_else(|| oms::default_signature_path(&target));
    // Open the key (or get the identity token) first: a wrong password
    // should not cost a full hash.
    let prepared = signing::prepare(
        &cx.settings,
        &cx.printer,
        &cx.prompt(),
        args.key.as_deref(),
        &args.keyless,
    )?;

    let settings = crate::digest::SetOptions::artifact()
        .with_signature(oms::signature_ignore(&target, &signature))
        .with_ignores(oms::resolve_ignores(
            &target,
            &cx.settings.cwd,
            &args.ignore_paths,
        ))
        .with_git_ignores(!args.no_ignore_git_paths)
        .with_symlinks(args.allow_symlinks);
    let reporter = cx.printer.reporter();
    let set = crate::digest::FileSet::hash(&target, &settings, None, &reporter)
        .map_err(oms::OmsError::from)?;
    let model = oms::hashed_model(&target, &settings, set);
    if model.files.is_empty() {
        return Err(oms::OmsError::Empty(target.display().to_string()).into());
    }
    let payload = serde_json::to_vec(&model.statement()).into_diagnostic()?;
    let signer = prepared.start(&cx.printer)?;
    let bundle = signer.sign(&payload)?;
    write_atomic_mode(&signature, &bundle, 0o644)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write {}", signature.display()))?;
    let store = cx.settings.paths.store();
    let stored = store
        .put(&bundle, PREDICATE_OMS, &[model.root])
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write to the local store {}", store.root().display()))?;

    cx.printer.step_output("digest", &model.root.prefixed());
    // Relative to the working directory, like build's outputs.
    let shown = signature
        .strip_prefix(&cx.settings.cwd)
        .unwrap_or(&signature);
    cx.printer
        .step_output("signature", &shown.display().to_string());
    if cx.printer.is_json() {
        cx.printer.document(&crate::document::SignDocument {
            version: crate::document::VERSION,
            signature: signature.display().to_string(),
            name: model.name.clone(),
            digest: model.root.prefixed(),
            files: model.files.len(),
            bytes: model.total_bytes,
            predicate_type: PREDICATE_OMS.to_string(),
            signer: signer.describe_json(),
            store: stored.iter().map(|p| p.display().to_string()).collect(),
        });
    } else {
        cx.printer.status(
            "Signed",
            &format!(
                "{} ({} files, {}) {} → {}",
                model.name,
                model.files.len(),
                human_bytes(model.total_bytes),
                model.root.prefixed(),
                signature.display()
            ),
        );
        for p in &stored {
            cx.printer.note(&format!("stored {}", p.display()));
        }
    }
    Ok(())
}
