//! `mlprov pin [NAME…]`: resolve inputs and write `mlprov.lock`.

use miette::{IntoDiagnostic, Result, WrapErr, miette};

use super::Context;
use crate::cli::PinArgs;
use crate::fsutil::human_bytes;
use crate::lockfile::{Lock, LockedInput};
use crate::manifest::Manifest;
use crate::policy::license;
use crate::project::Project;
use crate::resolve::{self, Change, ResolveContext};
use crate::scan::{self, ScanPolicy, ScanTarget};

pub fn run(cx: &Context, args: PinArgs) -> Result<()> {
    let project = Project::discover(&cx.settings.cwd)?;
    let manifest = Manifest::load(&project.manifest_path())?;
    for name in args.names.iter().chain(&args.update) {
        if !manifest.inputs.contains_key(name) {
            let known: Vec<&str> = manifest.inputs.keys().map(String::as_str).collect();
            return Err(miette!(
                code = "mlprov::usage",
                help = if known.is_empty() {
                    "mlprov.toml has no [inputs]".to_string()
                } else {
                    format!("inputs are: {}", known.join(", "))
                },
                "no input named `{name}` in mlprov.toml"
            ));
        }
    }
    let lock_path = project.lock_path();
    let old = Lock::load(&lock_path)?;
    // An older lock format is upgraded in place, never silently under --locked.
    let upgraded = old.as_ref().and_then(|l| l.upgraded_from);
    if let (true, Some(from)) = (args.locked, upgraded) {
        return Err(miette!(
            code = "mlprov::pin::lock-version",
            help = "run `mlprov pin` to upgrade mlprov.lock in place (it keeps every locked input and file), then commit it",
            "mlprov.lock is lock version {from}, and this mlprov writes version {}: the lock must be upgraded, which --locked forbids",
            crate::lockfile::LOCK_VERSION
        ));
    }

    let resolving = super::Resolving::new(cx);
    // `--username` logs in to the registries the `oci` inputs name.
    let registries: std::collections::BTreeSet<String> = manifest
        .inputs
        .values()
        .filter_map(|i| match &i.source {
            crate::model::Source::Oci { reference } => crate::registry::OciRef::parse(reference)
                .ok()
                .map(|r| r.registry),
            _ => None,
        })
        .collect();
    let named: Vec<&str> = registries.iter().map(String::as_str).collect();
    let access = crate::settings::registry::access(Some(&args.registry), &named, &cx.settings.env)?;
    let rcx = resolving.context(cx, &project, access);
    let outcome = resolve::pin(&manifest, old.as_ref(), &args.names, &args.update, &rcx);
    // The cache is worth keeping even when pinning failed half-way.
    resolving.save(cx);
    let outcome = outcome?;

    let changed: Vec<&(String, Change)> = outcome
        .changes
        .iter()
        .filter(|(_, c)| *c != Change::Unchanged)
        .collect();
    let new_text = outcome.lock.to_toml();
    let old_text = std::fs::read_to_string(&lock_path).ok();
    let differs = old_text.as_deref() != Some(new_text.as_str());

    if args.locked && differs {
        let list: Vec<String> = if changed.is_empty() {
            vec!["the lock's formatting".to_string()]
        } else {
            changed
                .iter()
                .map(|(n, c)| format!("{n} ({})", change_word(*c)))
                .collect()
        };
        report(cx, &outcome, Outcome::Refused);
        return Err(miette!(
            code = "mlprov::pin::locked",
            help = "run `mlprov pin` and commit mlprov.lock",
            "mlprov.lock is out of date and --locked was given; these would change: {}",
            list.join(", ")
        ));
    }

    // License policy: every input's license must be allowed.
    let bad = license::check_project(
        outcome
            .lock
            .inputs
            .iter()
            .map(|i| (i.name.as_str(), i.license.as_deref())),
        None,
        &manifest.policy.licenses_allow,
    );
    if !bad.is_empty() {
        return Err(miette!(
            code = "mlprov::pin::license",
            help = license::help(&bad, "mlprov.lock was not written"),
            "license policy: {}",
            license::summary(&bad)
        ));
    }

    // Scan policy: every resolved file is scanned; a finding the policy does
    // not allow fails pin before the lock is written.
    if let Some(failure) = scan_inputs(cx, &manifest, &outcome, &rcx)? {
        return Err(failure);
    }

    if differs {
        outcome
            .lock
            .write(&lock_path)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot write {}", lock_path.display()))?;
        if let Some(from) = upgraded {
            cx.printer.status(
                "Upgraded",
                &format!(
                    "mlprov.lock from lock version {from} to {} (the same inputs and files; `oci` inputs now record their artifact digest as `digest` and the manifest as `manifest`)",
                    crate::lockfile::LOCK_VERSION
                ),
            );
        }
    }
    report(
        cx,
        &outcome,
        if differs {
            Outcome::Written
        } else {
            Outcome::Unchanged
        },
    );
    Ok(())
}

/// Scan every input's files that are on this machine. Returns the error to
/// report when the policy fails.
fn scan_inputs(
    cx: &Context,
    manifest: &Manifest,
    outcome: &resolve::PinOutcome,
    rcx: &ResolveContext<'_>,
) -> Result<Option<miette::Report>> {
    let policy = ScanPolicy::from(&manifest.policy);
    let mut failures = crate::policy::scan::PolicyFailures::default();
    let mut bytes = 0u64;
    for input in &outcome.lock.inputs {
        let Some(mut dir) = resolve::local_dir(input, rcx) else {
            cx.printer.warn(&format!(
                "input `{}`: its files are not on this machine, so they were not scanned",
                input.name
            ));
            continue;
        };
        if dir.is_file() {
            dir = dir.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        }
        let (present, missing): (Vec<_>, Vec<_>) = input
            .files
            .iter()
            .map(|f| ScanTarget {
                rel: f.path.clone(),
                path: dir.join(&f.path),
                sha256: Some(f.sha256),
            })
            .partition(|t| t.path.is_file());
        if !missing.is_empty() {
            cx.printer.warn(&format!(
                "input `{}`: {} of its files are not on this machine and were not scanned",
                input.name,
                missing.len()
            ));
        }
        let report = scan::scan_targets(&present)?;
        bytes += report.bytes_read;
        let label = format!("input `{}`", input.name);
        for w in failures.add(&label, &report.verdict(&policy), &policy) {
            cx.printer.warn(&w);
        }
    }
    cx.printer.note(&format!(
        "scanned the inputs, reading {}",
        human_bytes(bytes)
    ));
    Ok(failures
        .into_error("mlprov::pin::scan", "mlprov.lock was not written")
        .map(miette::Report::new))
}

fn change_word(c: Change) -> &'static str {
    match c {
        Change::Added => "added",
        Change::Updated => "updated",
        Change::Unchanged => "unchanged",
        Change::Removed => "removed",
    }
}

fn summary(i: &LockedInput) -> String {
    format!(
        "{} ({} file{}, {}) {}",
        i.origin(),
        i.files.len(),
        if i.files.len() == 1 { "" } else { "s" },
        human_bytes(i.total_size()),
        i.digest.prefixed()
    )
}

/// What became of the lock.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Written,
    Unchanged,
    /// `--locked` and the lock would change: nothing was pinned, so the
    /// lines say what would change and nothing says "up to date".
    Refused,
}

fn report(cx: &Context, outcome: &resolve::PinOutcome, result: Outcome) {
    let written = result == Outcome::Written;
    if cx.printer.is_json() {
        let inputs: Vec<_> = outcome
            .changes
            .iter()
            .map(|(name, change)| {
                let entry = outcome.lock.get(name);
                crate::document::PinnedInput {
                    name: name.clone(),
                    status: change_word(*change).to_string(),
                    role: entry.map(|e| e.role.as_str().to_string()),
                    source: entry.map(|e| e.source.to_string()),
                    commit: entry.and_then(|e| e.commit.clone()),
                    digest: entry.map(|e| e.digest.prefixed()),
                    license: entry.and_then(|e| e.license.clone()),
                    files: entry.map(|e| e.files.len()),
                    bytes: entry.map(|e| e.total_size()),
                }
            })
            .collect();
        cx.printer.document(&crate::document::PinDocument {
            version: crate::document::VERSION,
            lock: crate::lockfile::LOCK_FILE.to_string(),
            written,
            inputs,
        });
        return;
    }
    for (name, change) in &outcome.changes {
        let entry = outcome.lock.get(name);
        match (change, entry) {
            (Change::Unchanged, _) if result == Outcome::Refused => {}
            (Change::Removed, _) if result == Outcome::Refused => {
                cx.printer.status("Would remove", name)
            }
            (Change::Removed, _) => cx.printer.status("Removed", name),
            (Change::Unchanged, Some(e)) => cx
                .printer
                .status_dim("Unchanged", &format!("{name} {}", summary(e))),
            (c, Some(e)) => cx.printer.status(
                match (*c == Change::Added, result == Outcome::Refused) {
                    (true, false) => "Pinned",
                    (false, false) => "Updated",
                    (true, true) => "Would pin",
                    (false, true) => "Would update",
                },
                &format!("{name} {}", summary(e)),
            ),
            (_, None) => {}
        }
    }
    if result == Outcome::Refused {
        // The error says it: mlprov.lock is out of date.
    } else if written {
        cx.printer.status("Wrote", crate::lockfile::LOCK_FILE);
    } else if outcome.changes.is_empty() {
        cx.printer
            .status_dim("Finished", "no inputs in mlprov.toml; nothing to pin");
    } else {
        cx.printer
            .status_dim("Finished", "mlprov.lock is up to date");
    }
}
