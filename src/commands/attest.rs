//! `mlprov attest`: sign the build's statements into Sigstore bundles.
//!
//! - no arguments: `target/mlprov/provenance.json` as written, the SBOM
//!   (`sbom.spdx.json`, and `bom.cdx.json` when present) wrapped in a
//!   statement about the provenance's subjects, and the scan of the outputs
//!   (`scan.json`); then the evidence the builder can vouch for about every
//!   input in `mlprov.lock` (an import provenance: source, resolved revision,
//!   per-file digests and declared license; and a scan of the locked bytes),
//!   unless this key already signed the same statements;
//! - `--type URI --predicate FILE`: any predicate about the built artifact;
//! - `attest import NAME`: the same import provenance and scan for one
//!   input on its own (for example by the team that owns it, with its key).
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

/// One statement to sign, and where its bundle goes.
struct Job {
    what: String,
    payload: Vec<u8>,
    predicate_type: String,
    subjects: Vec<Sha256Digest>,
    out: PathBuf,
}

/// One bundle written (or kept: the store already held the same statement
/// signed by this key).
struct Written {
    what: String,
    file: PathBuf,
    predicate_type: String,
    subjects: Vec<Sha256Digest>,
    stored: Vec<PathBuf>,
    kept: bool,
}

fn sign_and_write(key: &StatementSigner, store: &Store, job: Job) -> Result<Written> {
    let existing = job
        .subjects
        .first()
        .and_then(|d| already_signed(key, store, d, &job.payload));
    let kept = existing.is_some();
    let bundle = match existing {
        Some(b) => b,
        None => key.sign(&job.payload)?,
    };
    write_atomic_mode(&job.out, &bundle, 0o644)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write {}", job.out.display()))?;
    let stored = store
        .put(&bundle, &job.predicate_type, &job.subjects)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write to the local store {}", store.root().display()))?;
    Ok(Written {
        what: job.what,
        file: job.out,
        predicate_type: job.predicate_type,
        subjects: job.subjects,
        stored,
        kept,
    })
}

/// A bundle in the store about `subject` that carries exactly `payload`
/// and verifies with this signing key: signing it again would say nothing
/// new. (Keyless signers always sign: each signature is a new log entry
/// under a new certificate.)
fn already_signed(
    key: &StatementSigner,
    store: &Store,
    subject: &Sha256Digest,
    payload: &[u8],
) -> Option<Vec<u8>> {
    let StatementSigner::Key(k, None) = key else {
        return None;
    };
    let trust = crate::sign::trust::Trust {
        keys: vec![k.public_key().ok()?],
        ..Default::default()
    };
    store.list(subject).ok()?.into_iter().find_map(|b| {
        let bytes = std::fs::read(&b.path).ok()?;
        let parsed = crate::sign::bundle::parse(&bytes).ok()?;
        (parsed.payload == payload && crate::sign::verify::verify(&parsed, &trust).is_ok())
            .then_some(bytes)
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
    let job = |what: &str, payload: Vec<u8>, ptype: &str, file: PathBuf| Job {
        what: what.to_string(),
        payload,
        predicate_type: ptype.to_string(),
        subjects: subject_digests.clone(),
        out: file,
    };

    // Read every input before asking for the key's password.
    let mut jobs: Vec<Job> = Vec::new();
    if let (Some(ptype), Some(pfile)) = (&args.predicate_type, &args.predicate) {
        attest::check_type_uri(ptype)?;
        let pfile = cx.settings.cwd.join(pfile);
        let bytes = read(&pfile, "pass the predicate as a JSON file")?;
        let predicate = attest::read_predicate(&bytes, &pfile.display().to_string())?;
        let st = attest::wrap(&subjects, ptype, predicate);
        jobs.push(job(
            &pfile.display().to_string(),
            serde_json::to_vec(&st).into_diagnostic()?,
            ptype,
            out.join(format!("{}.sigstore.json", predicate_slug(ptype))),
        ));
    } else {
        jobs.push(job(
            "provenance",
            prov_bytes,
            PREDICATE_SLSA_PROVENANCE,
            out.join("provenance.sigstore.json"),
        ));
        let sbom_path = out.join("sbom.spdx.json");
        let sbom = read(&sbom_path, build_help)?;
        let sbom = attest::read_predicate(&sbom, &sbom_path.display().to_string())?;
        same_build(&sbom, &subject_digests, &sbom_path, &prov_path)?;
        jobs.push(job(
            "SBOM",
            serde_json::to_vec(&attest::wrap(&subjects, PREDICATE_SPDX3, sbom))
                .into_diagnostic()?,
            PREDICATE_SPDX3,
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
            jobs.push(job(
                "scan",
                scan_bytes,
                PREDICATE_SCAN,
                out.join("scan.sigstore.json"),
            ));
        }
        let cdx_path = out.join("bom.cdx.json");
        if cdx_path.is_file() {
            let cdx = read(&cdx_path, build_help)?;
            let cdx = attest::read_predicate(&cdx, &cdx_path.display().to_string())?;
            same_build(&cdx, &subject_digests, &cdx_path, &prov_path)?;
            jobs.push(job(
                "CycloneDX BOM",
                serde_json::to_vec(&attest::wrap(&subjects, PREDICATE_CYCLONEDX, cdx))
                    .into_diagnostic()?,
                PREDICATE_CYCLONEDX,
                out.join("bom.sigstore.json"),
            ));
        }
        // What the builder can vouch for about each input the provenance
        // names: where it came from and what its locked bytes are.
        if let Some(lock) = load_lock(cx, &project)? {
            let named = dependency_digests(&prov.predicate);
            for input in lock.inputs.iter().filter(|i| named.contains(&i.digest)) {
                jobs.extend(input_jobs(cx, &project, input)?);
            }
        }
    }

    let key = signer(cx, args.key.as_deref(), &args.keyless)?;
    let store = cx.settings.paths.store();
    let mut written = Vec::new();
    for j in jobs {
        written.push(sign_and_write(&key, &store, j)?);
    }
    report(cx, &written);
    Ok(())
}

/// The artifact digests of the provenance's resolved dependencies.
fn dependency_digests(predicate: &serde_json::Value) -> Vec<Sha256Digest> {
    predicate
        .pointer("/buildDefinition/resolvedDependencies")
        .and_then(|d| d.as_array())
        .map(|deps| {
            deps.iter()
                .filter_map(|d| d.pointer("/digest/sha256").and_then(|h| h.as_str()))
                .filter_map(|h| Sha256Digest::from_hex(h).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// `mlprov.lock`, when there is one.
fn load_lock(cx: &Context, project: &Project) -> Result<Option<Lock>> {
    let Some(lock) = Lock::load(&project.lock_path())? else {
        return Ok(None);
    };
    if let Some(from) = lock.upgraded_from {
        cx.printer.warn(&format!(
            "mlprov.lock is lock version {from}; it was read as version {} (run `mlprov pin` to rewrite it)",
            crate::lockfile::LOCK_VERSION
        ));
    }
    Ok(Some(lock))
}

/// The import provenance and the scan of one locked input (the scan checks
/// its bytes on this machine against the lock first).
fn input_jobs(
    cx: &Context,
    project: &Project,
    input: &crate::lockfile::LockedInput,
) -> Result<Vec<Job>> {
    let st = crate::provenance::import_statement(input);
    let payload = serde_json::to_vec(&st).into_diagnostic()?;
    // The origin comes with a scan of the very bytes the lock pins.
    let scan_payload = import_scan(cx, project, input)?;
    let base = file_safe(&input.name);
    let out = project.out_dir();
    Ok(vec![
        Job {
            what: format!("import of {} ({})", input.name, input.uri()),
            payload,
            predicate_type: PREDICATE_SLSA_PROVENANCE.to_string(),
            subjects: vec![input.digest],
            out: out.join(format!("import-{base}.sigstore.json")),
        },
        Job {
            what: format!("scan of {}", input.name),
            payload: scan_payload,
            predicate_type: PREDICATE_SCAN.to_string(),
            subjects: vec![input.digest],
            out: out.join(format!("import-{base}.scan.sigstore.json")),
        },
    ])
}

fn import(cx: &Context, args: AttestImportArgs) -> Result<()> {
    let project = Project::discover(&cx.settings.cwd)?;
    let lock = load_lock(cx, &project)?.ok_or_else(|| {
        miette::miette!(
            code = "mlprov::attest::no-lock",
            help = "run `mlprov pin` to resolve the inputs",
            "no mlprov.lock in {}",
            project.root.display()
        )
    })?;
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
    let jobs = input_jobs(cx, &project, input)?;
    let key = signer(cx, args.key.as_deref(), &args.keyless)?;
    let store = cx.settings.paths.store();
    let mut written = Vec::new();
    for j in jobs {
        written.push(sign_and_write(&key, &store, j)?);
    }
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
        let file = w.file.strip_prefix(&cx.settings.cwd).unwrap_or(&w.file);
        cx.printer.status(
            if w.kept { "Kept" } else { "Attested" },
            &format!("{} ({}) → {}", w.what, w.predicate_type, file.display()),
        );
    }
    let kept = written.iter().filter(|w| w.kept).count();
    if kept > 0 {
        cx.printer.note(&format!(
            "{kept} statement{} already signed by this key in the local store: not signed again",
            if kept == 1 { " was" } else { "s were" }
        ));
    }
    if let Some(store) = written.first().and_then(|w| w.stored.first()) {
        let root = store
            .ancestors()
            .find(|p| p.file_name().is_some_and(|n| n == "store"))
            .unwrap_or(store);
        cx.printer.note(&format!(
            "{} bundle{} filed in the local store {}",
            written.len(),
            if written.len() == 1 { "" } else { "s" },
            root.display()
        ));
    }
}
