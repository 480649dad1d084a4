//! `mlprov build [-- CMD…]`: check that the lock is fresh and the inputs on
//! disk are the locked bytes, run and record the training (or import a run),
//! hash the outputs, and write provenance, SBOMs and the run record under
//! `target/mlprov/`. Never edits the lock; writes nothing unless every step
//! succeeded.

use std::path::Path;
use std::time::Instant;

use miette::{IntoDiagnostic, Result, WrapErr, miette};

use super::Context;
use crate::build::{self, BuildFacts, OutputError, RunSource};
use crate::cli::BuildArgs;
use crate::digest::Sha256Digest;
use crate::fsutil::{human_bytes, write_atomic};
use crate::lockfile::{LOCK_FILE, Lock};
use crate::manifest::Manifest;
use crate::policy::license;
use crate::project::Project;
use crate::registry::plan;
use crate::resolve::check;
use crate::run::{self, Clock, RunKind, RunRecord};
use crate::sbom::{self, cyclonedx, spdx3};

/// How many changed paths an error lists before summarising.
const LIST_MAX: usize = 20;

pub fn run(cx: &Context, args: BuildArgs) -> Result<()> {
    let project = Project::discover(&cx.settings.cwd)?;
    let manifest_path = project.manifest_path();
    let manifest_bytes = std::fs::read(&manifest_path)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read {}", manifest_path.display()))?;
    let manifest = Manifest::load(&manifest_path)?;
    let clock = cx.settings.env.clock()?;
    let params = run::parse_params(&args.params)?;
    let want_cyclonedx = args.cyclonedx || manifest.build.cyclonedx;

    // 1. The lock answers the manifest.
    let lock_path = project.lock_path();
    let lock_bytes = match std::fs::read(&lock_path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(e)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot read {}", lock_path.display()));
        }
    };
    let lock = match Lock::load(&lock_path)? {
        Some(l) => l,
        None if manifest.inputs.is_empty() => Lock::new(),
        None => {
            return Err(miette!(
                code = "mlprov::build::no-lock",
                help = "run `mlprov pin` to resolve the inputs, and commit mlprov.lock",
                "there is no {LOCK_FILE}: the inputs of mlprov.toml are not pinned"
            ));
        }
    };
    if let Some(from) = lock.upgraded_from {
        cx.printer.warn(&format!(
            "mlprov.lock is lock version {from}; it was read as version {} (run `mlprov pin` to rewrite it)",
            crate::lockfile::LOCK_VERSION
        ));
    }
    let stale = check::freshness(&manifest, &lock);
    if !stale.is_empty() {
        let lines: Vec<String> = stale
            .iter()
            .map(|(name, why)| format!("  {name}: {why}"))
            .collect();
        return Err(miette!(
            code = "mlprov::build::stale-lock",
            help = "run `mlprov pin` to update mlprov.lock (build never edits it), review the change and commit it",
            "mlprov.lock does not match mlprov.toml:\n{}",
            lines.join("\n")
        ));
    }

    // The license policy, before anything runs: the locked inputs (pinned
    // perhaps under an older policy) and the output.
    let bad = license::check_project(
        lock.inputs
            .iter()
            .map(|i| (i.name.as_str(), i.license.as_deref())),
        Some(manifest.artifact.license.as_deref()),
        &manifest.policy.licenses_allow,
    );
    if !bad.is_empty() {
        return Err(miette!(
            code = "mlprov::build::license",
            help = license::help(&bad, "nothing was run or written"),
            "license policy: {}",
            license::summary(&bad)
        ));
    }

    // 2. The inputs on disk are the locked bytes.
    let resolving = super::Resolving::new(cx);
    let access = crate::settings::registry::access(None, &[], &cx.settings.env)?;
    let rcx = resolving.context(cx, &project, access);
    let integrity = check::integrity(&manifest, &lock, &rcx);
    resolving.save(cx);
    let integrity = integrity?;
    if !integrity.mismatches.is_empty() {
        let mut lines: Vec<String> = integrity
            .mismatches
            .iter()
            .take(LIST_MAX)
            .map(|m| format!("  {m}"))
            .collect();
        if integrity.mismatches.len() > LIST_MAX {
            lines.push(format!(
                "  … and {} more",
                integrity.mismatches.len() - LIST_MAX
            ));
        }
        return Err(miette!(
            code = "mlprov::build::input-changed",
            help = "restore the locked bytes, or run `mlprov pin` to lock the new ones (and review why they changed); nothing was written",
            "the inputs on disk are not what mlprov.lock pinned:\n{}",
            lines.join("\n")
        ));
    }
    if !lock.inputs.is_empty() {
        cx.printer.status(
            "Checked",
            &format!(
                "{} input{} against {LOCK_FILE} ({} files, {})",
                lock.inputs.len(),
                if lock.inputs.len() == 1 { "" } else { "s" },
                integrity.files,
                human_bytes(integrity.bytes)
            ),
        );
    }

    // 3. The run.
    let artifact_path = manifest.artifact.path.clone();
    let excluded = [
        artifact_path.as_str(),
        "target/mlprov",
        "target/mlprov.builds",
    ];
    let (record, source) = match &args.run {
        Some(file) => {
            let file = cx.settings.cwd.join(file);
            let mut rec = RunRecord::import(&file)?;
            if let Some(g) = &rec.git
                && g.dirty
                && !rec.allow_dirty
                && !args.allow_dirty
            {
                return Err(miette!(
                    code = "mlprov::build::dirty",
                    help =
                        "pass --allow-dirty to build from it anyway (recorded in the provenance)",
                    "the imported run was made from a git tree with uncommitted changes ({})",
                    summarize(&g.dirty_paths)
                ));
            }
            if let Some(code) = rec.exit_status.filter(|c| *c != 0) {
                return Err(miette!(
                    code = "mlprov::build::training-failed",
                    help = "only a successful run can be packaged; import the record of a run that exited 0",
                    "the imported run exited with status {code}; nothing was written"
                ));
            }
            rec.allow_dirty |= args.allow_dirty;
            warn_config_drift(cx, &manifest, &project.root, &rec);
            cx.printer.status(
                "Imported",
                &format!("run {} from {}", rec.invocation_id, file.display()),
            );
            (rec, RunSource::Imported)
        }
        None => {
            let git = run::git_state(&project.root, &excluded)?;
            match &git {
                Some(g) if g.dirty && !args.allow_dirty => {
                    return Err(miette!(
                        code = "mlprov::build::dirty",
                        help = "commit or stash the changes so the provenance names the code that ran, or pass --allow-dirty (recorded in the provenance)",
                        "the git tree has uncommitted changes: {}",
                        summarize(&g.dirty_paths)
                    ));
                }
                Some(g) if g.dirty => cx.printer.warn(&format!(
                    "building from a dirty tree (--allow-dirty): {}",
                    summarize(&g.dirty_paths)
                )),
                Some(_) => {}
                None => cx.printer.warn(
                    "not in a git repository with a commit: the provenance will not name the training code",
                ),
            }
            let mut rec = build::start_run(
                &manifest,
                &project.root,
                git,
                &build::RunRequest {
                    manifest_bytes: &manifest_bytes,
                    lock_bytes: lock_bytes.as_deref(),
                    command: &args.command,
                    skip_training: args.skip_training,
                    params: &params,
                    allow_dirty: args.allow_dirty,
                    clock,
                },
            )?;
            let argv = rec.argv.clone();
            let source = if argv.is_empty() {
                RunSource::Packaging
            } else {
                cx.printer
                    .status("Running", &format!("`{}`", build::shell_words(&argv)));
                let t0 = Instant::now();
                let done = run::run_command(&argv, &project.root, cx.printer.is_json())?;
                rec.kind = RunKind::Training;
                rec.exit_status = Some(done.code);
                if done.code != 0 {
                    return Err(build::TrainingFailed {
                        command: build::shell_words(&argv),
                        status: done.code,
                    }
                    .into());
                }
                cx.printer.status(
                    "Trained",
                    &format!("in {:.1}s (exit 0)", t0.elapsed().as_secs_f64()),
                );
                RunSource::Recorded
            };
            rec.finished_on = clock.now();
            (rec, source)
        }
    };

    // 4. The outputs.
    let outputs = match build::hash_outputs(
        &project.root,
        &artifact_path,
        Some(&resolving.hash_cache),
        &resolving.reporter,
    ) {
        Ok(o) => o,
        Err(e @ (OutputError::Missing { .. } | OutputError::Empty { .. })) => {
            resolving.save(cx);
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    resolving.save(cx);
    // Outputs with findings the policy does not allow are not attested.
    let scan_policy = crate::scan::ScanPolicy::from(&manifest.policy);
    let mut scan_failures = crate::policy::scan::PolicyFailures::default();
    for w in scan_failures.add("output", &outputs.scan.verdict(&scan_policy), &scan_policy) {
        cx.printer.warn(&w);
    }
    if let Some(failure) = scan_failures.into_error(
        "mlprov::build::scan",
        "nothing was written to target/mlprov",
    ) {
        return Err(miette::Report::new(failure));
    }
    cx.printer.status(
        "Hashed",
        &format!(
            "{} ({} file{}, {}) {}",
            outputs.path,
            outputs.set.len(),
            if outputs.set.len() == 1 { "" } else { "s" },
            human_bytes(outputs.set.total_size()),
            outputs.set.digest.prefixed()
        ),
    );

    // 5. The documents.
    let out_dir = project.out_dir();
    let run_bytes = record.to_json().into_bytes();
    let mut facts = BuildFacts {
        manifest: &manifest,
        manifest_digest: Sha256Digest::of(&manifest_bytes),
        lock: &lock,
        lock_digest: lock_bytes.as_deref().map(Sha256Digest::of),
        run: &record,
        run_source: source,
        run_digest: Sha256Digest::of(&run_bytes),
        outputs: &outputs,
        created: clock.now(),
        builder_id: cx.settings.env.builder_id(),
        oci_manifest: None,
    };
    // The manifest `push` will publish, computed from the provenance as push
    // reads it back, so that every statement can name it.
    let draft = crate::provenance::statement(&facts);
    let planned = plan::plan(&plan::PlanInput {
        manifest: &manifest,
        root: &project.root.join(&artifact_path),
        set: &outputs.set,
        provenance: Some(&plan::provenance_facts(&draft.predicate)),
        lock_digest: facts.lock_digest,
        epoch: match clock {
            Clock::Fixed(s) => Some(s),
            Clock::Wall => None,
        },
    })?;
    facts.oci_manifest = Some(plan::manifest_subject(
        plan::publish_repository(&manifest).as_deref(),
        &planned.manifest_digest(),
    ));
    let provenance = sbom::to_json_bytes(&crate::provenance::statement(&facts));
    let scan_bytes = sbom::to_json_bytes(&crate::provenance::scan_statement(&facts, &scan_policy));
    let sbom_bytes = sbom::to_json_bytes(&spdx3::document(&facts));
    let bom_bytes = want_cyclonedx.then(|| sbom::to_json_bytes(&cyclonedx::bom(&facts)));

    // Every document of this build goes into a fresh directory, which then
    // replaces the previous build's at once (see `crate::fsutil::Generation`):
    // a kill or a failed write leaves the old documents or the new ones,
    // never a mix.
    let generation = crate::fsutil::Generation::new(
        &out_dir,
        &[
            crate::provenance::PROVENANCE_FILE,
            spdx3::SBOM_FILE,
            crate::provenance::SCAN_FILE,
            run::RUN_FILE,
            cyclonedx::BOM_FILE,
        ],
    )
    .into_diagnostic()
    .wrap_err_with(|| format!("cannot prepare {}", out_dir.display()))?;
    let write = |name: &str, bytes: &[u8]| -> Result<()> {
        let p = generation.dir().join(name);
        write_atomic(&p, bytes)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot write {}", p.display()))
    };
    write(run::RUN_FILE, &run_bytes)?;
    write(spdx3::SBOM_FILE, &sbom_bytes)?;
    write(crate::provenance::SCAN_FILE, &scan_bytes)?;
    let mut written = vec![
        crate::provenance::PROVENANCE_FILE,
        spdx3::SBOM_FILE,
        crate::provenance::SCAN_FILE,
        run::RUN_FILE,
    ];
    // (A BOM of an earlier build is not carried into the new directory.)
    if let Some(b) = &bom_bytes {
        write(cyclonedx::BOM_FILE, b)?;
        written.insert(3, cyclonedx::BOM_FILE);
    }
    write(crate::provenance::PROVENANCE_FILE, &provenance)?;
    generation
        .publish()
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot put the documents in place at {}", out_dir.display()))?;

    let rel_dir = "target/mlprov";
    if cx.printer.github_actions {
        cx.printer
            .step_output("digest", &outputs.set.digest.prefixed());
        cx.printer.step_output(
            "provenance",
            &format!("{rel_dir}/{}", crate::provenance::PROVENANCE_FILE),
        );
        cx.printer.step_summary(&github_summary(
            &manifest, &lock, &outputs, rel_dir, &written,
        ));
    }
    if cx.printer.is_json() {
        use crate::document::{BuildDocument, BuildInput, BuildRun, BuiltArtifact};
        cx.printer.document(&BuildDocument {
            version: crate::document::VERSION,
            artifact: BuiltArtifact {
                name: manifest.artifact.name.clone(),
                version: manifest.artifact.version.clone(),
                path: outputs.path.clone(),
                digest: outputs.set.digest.prefixed(),
                files: outputs.set.len(),
                bytes: outputs.set.total_size(),
            },
            run: BuildRun {
                kind: match record.kind {
                    RunKind::Training => "training",
                    RunKind::Packaging => "packaging",
                }
                .to_string(),
                source: source.as_str().to_string(),
                invocation_id: record.invocation_id.clone(),
                exit_status: record.exit_status,
                git_commit: record.git.as_ref().map(|g| g.commit.clone()),
                dirty: record.git.as_ref().is_some_and(|g| g.dirty),
            },
            inputs: lock
                .inputs
                .iter()
                .map(|i| BuildInput {
                    name: i.name.clone(),
                    role: i.role.as_str().to_string(),
                    uri: i.uri().to_string(),
                    digest: i.digest.prefixed(),
                })
                .collect(),
            documents: written
                .iter()
                .map(|n| (n.to_string(), format!("{rel_dir}/{n}")))
                .collect(),
        });
    } else {
        cx.printer
            .status("Wrote", &format!("{rel_dir}/{{{}}}", written.join(", ")));
    }
    Ok(())
}

/// `a, b, c and 7 more`.
fn summarize(paths: &[String]) -> String {
    const SHOW: usize = 5;
    let mut s = paths
        .iter()
        .take(SHOW)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > SHOW {
        s.push_str(&format!(" and {} more", paths.len() - SHOW));
    }
    s
}

/// An imported run carries its own config digest; say so when the local
/// file differs (the run record is what is recorded).
fn warn_config_drift(cx: &Context, manifest: &Manifest, root: &Path, rec: &RunRecord) {
    let Some(local) = manifest.training.as_ref().and_then(|t| t.config.as_deref()) else {
        return;
    };
    let Ok(bytes) = std::fs::read(root.join(local)) else {
        return;
    };
    if let Some(d) = rec.config_digest()
        && d != Sha256Digest::of(&bytes)
    {
        cx.printer.warn(&format!(
            "{local} differs from the config the imported run recorded ({}); the run record is what the documents describe",
            d.prefixed()
        ));
    }
}

/// The step summary of a build under GitHub Actions: what was built, from
/// which inputs (by digest), and the documents written.
fn github_summary(
    manifest: &crate::manifest::Manifest,
    lock: &crate::lockfile::Lock,
    outputs: &build::Outputs,
    rel_dir: &str,
    written: &[&str],
) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = format!(
        "### 🏗️ mlprov build: {} {}\n\n| Artifact | Digest | Files |\n|---|---|---|\n| {} | `{}` | {} ({}) |\n",
        cell(&manifest.artifact.name),
        cell(&manifest.artifact.version),
        cell(&outputs.path),
        outputs.set.digest.prefixed(),
        outputs.set.len(),
        human_bytes(outputs.set.total_size()),
    );
    if !lock.inputs.is_empty() {
        out.push_str("\n#### Inputs\n\n| Input | Role | Source | Digest |\n|---|---|---|---|\n");
        for i in &lock.inputs {
            out.push_str(&format!(
                "| {} | {} | {} | `{}` |\n",
                cell(&i.name),
                i.role.as_str(),
                cell(&i.uri().to_string()),
                i.digest.prefixed()
            ));
        }
    }
    out.push_str(&format!(
        "\n#### Written\n\n{}\n\nSign them with `mlprov attest` (add `--keyless` in CI).\n\n",
        written
            .iter()
            .map(|w| format!("- `{rel_dir}/{w}`"))
            .collect::<Vec<_>>()
            .join("\n")
    ));
    out
}
