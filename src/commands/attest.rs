//! `mlprov attest`: sign the build's statements into Sigstore bundles.
//!
//! - no arguments: `target/mlprov/provenance.json` as written, and the SBOM
//!   (`sbom.spdx.json`, and `bom.cdx.json` when present) wrapped in a
//!   statement about the provenance's subjects;
//! - `--type URI --predicate FILE`: any predicate about the built artifact;
//!   The scan of the outputs (`scan.json`) is signed alongside.
//! - `attest import NAME`: import provenance and a scan attestation for an
//!   input in `mlprov.lock`.
//!
//! Every bundle is written to `target/mlprov/` and filed in the local store.

use std::path::{Path, PathBuf};

use miette::{IntoDiagnostic, Result, WrapErr};

use super::Context;
use crate::cli::{AttestArgs, AttestCommand, AttestImportArgs};
use crate::digest::Sha256Digest;
use crate::fsutil::write_atomic_mode;
use crate::intoto::{
    PREDICATE_CYCLONEDX, PREDICATE_SCAN, PREDICATE_SLSA_PROVENANCE, PREDICATE_SPDX3,
    ResourceDescriptor, Statement,
};
use crate::lockfile::Lock;
use crate::project::Project;
use crate::settings::signing::{self, StatementSigner};
use crate::sign::attest;
use crate::store::{Store, predicate_slug};

pub fn run(cx: &Context, args: AttestArgs) -> Result<()> {
    if args.command.is_some()
        && (args.key.is_some()
            || args.keyless.keyless
            || args.predicate_type.is_some()
            || args.predicate.is_some())
    {
        return Err(miette::miette!(
            code = "mlprov::usage",
            help = "write them after the subcommand: `mlprov attest import NAME --key KEY`",
            "`--key`, `--keyless`, `--type` and `--predicate` of `attest` do not apply to `attest import`"
        ));
    }
    match args.command {
        Some(AttestCommand::Import(a)) => import(cx, a),
        None => build_outputs(cx, args),
    }
}

/// One bundle written.
struct Written {
    what: String,
    file: PathBuf,
    predicate_type: String,
    subjects: Vec<Sha256Digest>,
    stored: Vec<PathBuf>,
}

fn sign_and_write(
    key: &StatementSigner,
    store: &Store,
    what: &str,
    payload: &[u8],
    predicate_type: &str,
    subjects: Vec<Sha256Digest>,
    out: &Path,
) -> Result<Written> {
    let bundle = key.sign(payload)?;
    write_atomic_mode(out, &bundle, 0o644)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write {}", out.display()))?;
    let stored = store
        .put(&bundle, predicate_type, &subjects)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write to the local store {}", store.root().display()))?;
    Ok(Written {
        what: what.to_string(),
        file: out.to_path_buf(),
        predicate_type: predicate_type.to_string(),
        subjects,
        stored,
    })
}

fn read(path: &Path, help: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            miette::miette!(
                code = "mlprov::attest::missing",
                help = help.to_string(),
                "{} does not exist",
                path.display()
            )
        } else {
            miette::miette!(
                code = "mlprov::attest::io",
                "cannot read {}: {e}",
                path.display()
            )
        }
    })
}

/// The digests a bundle is filed under in the local store: its subjects',
/// but the OCI manifest's (what is signed about a model is looked up by its
/// artifact digest; `push` finds the manifest's own bundles by the manifest).
fn digests(subjects: &[ResourceDescriptor]) -> Vec<Sha256Digest> {
    subjects
        .iter()
        .filter(|s| !crate::registry::plan::is_manifest_subject(s))
        .filter_map(|s| s.sha256_digest())
        .collect()
}

/// An SBOM mlprov wrote names its artifact: one that names others was
/// written by another build than the provenance (an interrupted build, a
/// copied file) and would be signed as being about the wrong artifact.
fn same_build(
    sbom: &serde_json::Value,
    subjects: &[Sha256Digest],
    sbom_path: &Path,
    prov_path: &Path,
) -> Result<()> {
    let named = crate::sbom::artifact_digests(sbom);
    if named.is_empty() || subjects.iter().any(|s| named.contains(&s.hex())) {
        return Ok(());
    }
    miette::bail!(
        code = "mlprov::attest::stale",
        help = "run `mlprov build` again so every document describes the same outputs",
        "{} describes another artifact than {} (sha256:{})",
        sbom_path.display(),
        prov_path.display(),
        subjects.first().map(|s| s.hex()).unwrap_or_default()
    )
}

fn build_outputs(cx: &Context, args: AttestArgs) -> Result<()> {
    let project = Project::discover(&cx.settings.cwd)?;
    let out = project.out_dir();
    let build_help =
        "run `mlprov build` first: it writes the provenance and SBOM that attest signs";
    let prov_path = out.join("provenance.json");
    let prov_bytes = read(&prov_path, build_help)?;
    let prov = attest::read_statement(
        &prov_bytes,
        &prov_path.display().to_string(),
        PREDICATE_SLSA_PROVENANCE,
    )?;
    let subjects = prov.subject.clone();
    let subject_digests = digests(&subjects);

    // Read every input before asking for the key's password.
    let mut jobs: Vec<(String, Vec<u8>, String, PathBuf)> = Vec::new();
    if let (Some(ptype), Some(pfile)) = (&args.predicate_type, &args.predicate) {
        attest::check_type_uri(ptype)?;
        let pfile = cx.settings.cwd.join(pfile);
        let bytes = read(&pfile, "pass the predicate as a JSON file")?;
        let predicate = attest::read_predicate(&bytes, &pfile.display().to_string())?;
        let st = attest::wrap(&subjects, ptype, predicate);
        jobs.push((
            pfile.display().to_string(),
            serde_json::to_vec(&st).into_diagnostic()?,
            ptype.clone(),
            out.join(format!("{}.sigstore.json", predicate_slug(ptype))),
        ));
    } else {
        jobs.push((
            "provenance".into(),
            prov_bytes,
            PREDICATE_SLSA_PROVENANCE.into(),
            out.join("provenance.sigstore.json"),
        ));
        let sbom_path = out.join("sbom.spdx.json");
        let sbom = read(&sbom_path, build_help)?;
        let sbom = attest::read_predicate(&sbom, &sbom_path.display().to_string())?;
        same_build(&sbom, &subject_digests, &sbom_path, &prov_path)?;
        jobs.push((
            "SBOM".into(),
            serde_json::to_vec(&attest::wrap(&subjects, PREDICATE_SPDX3, sbom))
                .into_diagnostic()?,
            PREDICATE_SPDX3.into(),
            out.join("sbom.sigstore.json"),
        ));
        // The scan of the outputs, written by build as a complete statement
        // about the same subjects.
        let scan_path = out.join(crate::provenance::SCAN_FILE);
        if scan_path.is_file() {
            let scan_bytes = read(&scan_path, build_help)?;
            let scan = attest::read_statement(
                &scan_bytes,
                &scan_path.display().to_string(),
                PREDICATE_SCAN,
            )?;
            if scan.subject != subjects {
                miette::bail!(
                    code = "mlprov::attest::stale",
                    help = "run `mlprov build` again so every document describes the same outputs",
                    "{} and {} describe different outputs",
                    scan_path.display(),
                    prov_path.display()
                );
            }
            jobs.push((
                "scan".into(),
                scan_bytes,
                PREDICATE_SCAN.into(),
                out.join("scan.sigstore.json"),
            ));
        }
        let cdx_path = out.join("bom.cdx.json");
        if cdx_path.is_file() {
            let cdx = read(&cdx_path, build_help)?;
            let cdx = attest::read_predicate(&cdx, &cdx_path.display().to_string())?;
            same_build(&cdx, &subject_digests, &cdx_path, &prov_path)?;
            jobs.push((
                "CycloneDX BOM".into(),
                serde_json::to_vec(&attest::wrap(&subjects, PREDICATE_CYCLONEDX, cdx))
                    .into_diagnostic()?,
                PREDICATE_CYCLONEDX.into(),
                out.join("bom.sigstore.json"),
            ));
        }
    }

    let key = signer(cx, args.key.as_deref(), &args.keyless)?;
    let store = cx.settings.paths.store();
    let mut written = Vec::new();
    for (what, payload, ptype, path) in jobs {
        written.push(sign_and_write(
            &key,
            &store,
            &what,
            &payload,
            &ptype,
            subject_digests.clone(),
            &path,
        )?);
    }
    report(cx, &written);
    Ok(())
}

fn import(cx: &Context, args: AttestImportArgs) -> Result<()> {
    let project = Project::discover(&cx.settings.cwd)?;
    let lock = Lock::load(&project.lock_path())?.ok_or_else(|| {
        miette::miette!(
            code = "mlprov::attest::no-lock",
            help = "run `mlprov pin` to resolve the inputs",
            "no mlprov.lock in {}",
            project.root.display()
        )
    })?;
    if let Some(from) = lock.upgraded_from {
        cx.printer.warn(&format!(
            "mlprov.lock is lock version {from}; it was read as version {} (run `mlprov pin` to rewrite it)",
            crate::lockfile::LOCK_VERSION
        ));
    }
    let input = lock.get(&args.name).ok_or_else(|| {
        let names: Vec<&str> = lock.inputs.iter().map(|i| i.name.as_str()).collect();
        miette::miette!(
            code = "mlprov::usage",
            help = if names.is_empty() {
                "mlprov.lock has no inputs".to_string()
            } else {
                format!("inputs in mlprov.lock: {}", names.join(", "))
            },
            "no input named `{}` in mlprov.lock",
            args.name
        )
    })?;
    let st = crate::provenance::import_statement(input);
    let payload = serde_json::to_vec(&st).into_diagnostic()?;
    // The origin comes with a scan of the very bytes the lock pins.
    let scan_payload = import_scan(cx, &project, input)?;
    let key = signer(cx, args.key.as_deref(), &args.keyless)?;
    let store = cx.settings.paths.store();
    let base = file_safe(&input.name);
    let out = project.out_dir();
    let mut written = vec![sign_and_write(
        &key,
        &store,
        &format!("import of {} ({})", input.name, input.uri()),
        &payload,
        PREDICATE_SLSA_PROVENANCE,
        vec![input.digest],
        &out.join(format!("import-{base}.sigstore.json")),
    )?];
    written.push(sign_and_write(
        &key,
        &store,
        &format!("scan of {}", input.name),
        &scan_payload,
        PREDICATE_SCAN,
        vec![input.digest],
        &out.join(format!("import-{base}.scan.sigstore.json")),
    )?);
    report(cx, &written);
    Ok(())
}

/// Check a locked input's files on this machine against the lock (fetching
/// HF/URL/OCI files that are missing, unless offline), scan them, and return
/// the scan statement (subject: the input's artifact digest).
fn import_scan(
    cx: &Context,
    project: &Project,
    input: &crate::lockfile::LockedInput,
) -> Result<Vec<u8>> {
    use crate::resolve::{self, check};
    let manifest = crate::manifest::Manifest::load(&project.manifest_path())?;
    if !manifest.inputs.contains_key(&input.name) {
        miette::bail!(
            code = "mlprov::attest::stale",
            help = "run `mlprov pin` so mlprov.lock matches mlprov.toml",
            "input `{}` is in mlprov.lock but no longer in mlprov.toml",
            input.name
        );
    }
    let resolving = super::Resolving::new(cx);
    let access = crate::settings::registry::access(None, &[], &cx.settings.env)?;
    let rcx = resolving.context(cx, project, access);
    let one = Lock {
        inputs: vec![input.clone()],
        ..Lock::new()
    };
    let integrity = check::integrity(&manifest, &one, &rcx);
    resolving.save(cx);
    let integrity = integrity?;
    if let Some(m) = integrity.mismatches.first() {
        miette::bail!(
            code = "mlprov::attest::input-changed",
            help = "restore the locked bytes, or run `mlprov pin` to lock the new ones; nothing was attested",
            "the files of `{}` on disk are not what mlprov.lock pinned: {m}",
            input.name
        );
    }
    let mut dir = resolve::local_dir(input, &rcx).ok_or_else(|| {
        miette::miette!(
            code = "mlprov::attest::no-files",
            "input `{}`: its files are not on this machine",
            input.name
        )
    })?;
    if dir.is_file() {
        dir = dir.parent().map(Path::to_path_buf).unwrap_or_default();
    }
    let targets: Vec<crate::scan::ScanTarget> = input
        .files
        .iter()
        .map(|f| crate::scan::ScanTarget {
            rel: f.path.clone(),
            path: dir.join(&f.path),
            sha256: Some(f.sha256),
        })
        .collect();
    let report = crate::scan::scan_targets(&targets)?;
    let policy = crate::scan::ScanPolicy::from(&manifest.policy);
    let verdict = report.verdict(&policy);
    if !verdict.pass {
        cx.printer.warn(&format!(
            "input `{}`: the scan fails this project's policy ({} finding{}); the attestation records it",
            input.name,
            verdict.violations.len(),
            if verdict.violations.len() == 1 { "" } else { "s" }
        ));
    }
    let st = Statement::new(
        vec![crate::provenance::input_subject(input)],
        PREDICATE_SCAN,
        report.predicate(&policy),
    );
    serde_json::to_vec(&st).into_diagnostic()
}

fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The signer for the statements: the key (its password prompted for when
/// mlprov may), or keyless signing.
fn signer(
    cx: &Context,
    key: Option<&std::path::Path>,
    keyless: &crate::cli::KeylessSignArgs,
) -> Result<signing::StatementSigner> {
    signing::prepare(&cx.settings, &cx.printer, &cx.prompt(), key, keyless)?.start(&cx.printer)
}

fn report(cx: &Context, written: &[Written]) {
    if cx.printer.is_json() {
        cx.printer.document(&crate::document::AttestDocument {
            version: crate::document::VERSION,
            bundles: written
                .iter()
                .map(|w| crate::document::AttestedBundle {
                    what: w.what.clone(),
                    file: w.file.display().to_string(),
                    predicate_type: w.predicate_type.clone(),
                    subjects: w.subjects.iter().map(|d| d.prefixed()).collect(),
                    store: w.stored.iter().map(|p| p.display().to_string()).collect(),
                })
                .collect(),
        });
        return;
    }
    for w in written {
        cx.printer.status(
            "Attested",
            &format!("{} ({}) → {}", w.what, w.predicate_type, w.file.display()),
        );
        cx.printer.note(&format!(
            "filed under {} subject digest(s) in the local store",
            w.stored.len()
        ));
    }
}
