//! `mlprov sign [PATH]`: an OpenSSF Model Signing v1.0 signature of a
//! model's files (`model.sig`), interoperable with `model_signing` 1.x.

use std::path::PathBuf;

use miette::{IntoDiagnostic, Result, WrapErr};
use serde_json::json;

use super::{Context, ExitStatus, keyless};
use crate::cli::SignArgs;
use crate::fsutil::{human_bytes, write_atomic_mode};
use crate::intoto::PREDICATE_OMS;
use crate::manifest::Manifest;
use crate::project::Project;
use crate::sign::oms;
use crate::store::Store;

pub fn run(cx: &Context, args: SignArgs) -> Result<ExitStatus> {
    let target = match &args.path {
        Some(p) => cx.cwd.join(p),
        None => artifact_path(cx)?,
    };
    if !target.exists() {
        miette::bail!(
            code = "mlprov::sign::not_found",
            help = "pass the model directory (or file) to sign",
            "{}: no such file or directory",
            target.display()
        );
    }
    let signature = args
        .signature
        .as_ref()
        .map(|s| cx.cwd.join(s))
        .unwrap_or_else(|| oms::default_signature_path(&target));
    // Open the key (or get the identity token) first: a wrong password
    // should not cost a full hash.
    let prepared = keyless::prepare(cx, args.key.as_deref(), &args.keyless)?;

    let settings = crate::digest::SetOptions::artifact()
        .with_signature(oms::signature_ignore(&target, &signature))
        .with_ignores(oms::resolve_ignores(&target, &cx.cwd, &args.ignore_paths))
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
    let signer = prepared.start(cx)?;
    let bundle = signer.sign(&payload)?;
    write_atomic_mode(&signature, &bundle, 0o644)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write {}", signature.display()))?;
    let store = Store::open_default();
    let stored = store
        .put(&bundle, PREDICATE_OMS, &[model.root])
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write to the local store {}", store.root().display()))?;

    cx.printer.step_output("digest", &model.root.prefixed());
    // Relative to the working directory, like build's outputs.
    let shown = signature.strip_prefix(&cx.cwd).unwrap_or(&signature);
    cx.printer
        .step_output("signature", &shown.display().to_string());
    if cx.printer.is_json() {
        cx.printer.json(&json!({
            "signature": signature.display().to_string(),
            "name": model.name,
            "digest": model.root.prefixed(),
            "files": model.files.len(),
            "bytes": model.total_bytes,
            "predicateType": PREDICATE_OMS,
            "signer": signer.describe_json(),
            "store": stored.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        }));
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
    Ok(ExitStatus::Success)
}

/// The project's `[artifact].path`, for commands run without a PATH.
pub(crate) fn artifact_path(cx: &Context) -> Result<PathBuf> {
    let project = Project::discover(&cx.cwd).map_err(|e| {
        miette::miette!(
            code = "mlprov::usage",
            help = "pass the model's path, or run inside a project with mlprov.toml",
            "no PATH given and {e}"
        )
    })?;
    let manifest = Manifest::load(&project.manifest_path())?;
    Ok(project.join(&manifest.artifact.path))
}
