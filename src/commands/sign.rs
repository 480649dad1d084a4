//! `mlprov sign [PATH]`: an OpenSSF Model Signing v1.0 signature of a
//! model's files (`model.sig`), interoperable with `model_signing` 1.x.

use std::path::Path;

use miette::{IntoDiagnostic, Result, WrapErr};

use super::Context;
use crate::cli::SignArgs;
use crate::digest::{FileSet, HashCache, SetOptions, Sha256Digest};
use crate::fsutil::{human_bytes, write_atomic_mode};
use crate::intoto::PREDICATE_OMS;
use crate::manifest::Manifest;
use crate::project::Project;
use crate::registry::plan;
use crate::reporter::Silent;
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

    let settings = SetOptions::artifact()
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
    let registry_form = registry_form(cx, &target, &model)?;
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
    // The registry form is filed under the manifest digest only: the store
    // then holds one OMS signature per artifact digest (model.sig), and
    // `push` finds the registry form by the manifest it publishes.
    let companion = match registry_form {
        Some(form) => {
            let bundle = signer.sign(&form.payload)?;
            let at = store
                .put(&bundle, PREDICATE_OMS, &[form.manifest])
                .into_diagnostic()
                .wrap_err_with(|| {
                    format!("cannot write to the local store {}", store.root().display())
                })?;
            Some((form.manifest, at))
        }
        None => None,
    };

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
            oci_manifest: companion
                .as_ref()
                .map(|(m, at)| crate::document::SignedManifest {
                    digest: m.prefixed(),
                    store: at.iter().map(|p| p.display().to_string()).collect(),
                }),
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
        if let Some((m, _)) = &companion {
            cx.printer.status(
                "Signed",
                &format!(
                    "the same files for the registry, also naming the OCI manifest {}",
                    m.prefixed()
                ),
            );
        }
        for p in stored
            .iter()
            .chain(companion.iter().flat_map(|(_, at)| at.iter()))
        {
            cx.printer.note(&format!("stored {}", p.display()));
        }
    }
    Ok(())
}

/// The OMS statement as `push` publishes it: model_signing reads `model.sig`
/// only with its one subject, so a second signature of the same manifest
/// also names the ModelPack manifest `push` will publish, which admission
/// gates look signatures up by.
struct RegistryForm {
    payload: Vec<u8>,
    manifest: Sha256Digest,
}

/// The registry form, when `target` is the project's artifact and the
/// signature covers exactly the files `push` publishes.
fn registry_form(
    cx: &Context,
    target: &Path,
    model: &oms::HashedModel,
) -> Result<Option<RegistryForm>> {
    let Ok(project) = Project::discover(&cx.settings.cwd) else {
        return Ok(None);
    };
    let Ok(manifest) = Manifest::load(&project.manifest_path()) else {
        return Ok(None);
    };
    let root = project.join(&manifest.artifact.path);
    let same = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y);
    if !same(&root, target) {
        return Ok(None);
    }
    let cache = HashCache::open(cx.settings.paths.hash_cache());
    let set = FileSet::hash(&root, &SetOptions::artifact(), Some(&cache), &Silent)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read {}", root.display()))?;
    let _ = cache.save();
    if set.digest != model.root {
        cx.printer.note(&format!(
            "the signature covers other files than `mlprov push` publishes ({} vs {}), so it does not name the OCI manifest",
            model.root.prefixed(),
            set.digest.prefixed()
        ));
        return Ok(None);
    }
    let epoch = match cx.settings.env.clock()? {
        crate::run::Clock::Fixed(s) => Some(s),
        crate::run::Clock::Wall => None,
    };
    let planned = match plan::project_plan(&project, &manifest, &root, &set, epoch) {
        Ok(p) => p.plan,
        Err(
            e @ (plan::PlanError::StaleProvenance { .. } | plan::PlanError::StaleManifest { .. }),
        ) => {
            cx.printer.warn(&format!(
                "model.sig is written, but no signature naming the OCI manifest: {e}"
            ));
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let manifest_digest = planned.manifest_digest();
    let mut st = model.statement();
    st.subject.push(plan::manifest_subject(
        plan::publish_repository(&manifest).as_deref(),
        &manifest_digest,
    ));
    Ok(Some(RegistryForm {
        payload: serde_json::to_vec(&st).into_diagnostic()?,
        manifest: manifest_digest,
    }))
}
