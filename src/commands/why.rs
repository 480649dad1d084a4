//! `mlprov why DIGEST|NAME`: every artifact that descends from an artifact,
//! through the `resolvedDependencies` of the SLSA provenance filed in the
//! local store, or, with `--registry REPO`, attached to the models of
//! registry repositories ("which of my models descend from the base model
//! that was just disclosed as poisoned").
//!
//! Without `--key`, every provenance statement counts, whoever signed it:
//! for this question, listing too much is safer than too little. With
//! `--key`, only provenance signed by those keys counts. Anything that
//! cannot be read is reported, and makes the exit status 1: the list may
//! be incomplete.

use miette::{IntoDiagnostic, Result, WrapErr};

use super::Context;
use crate::cli::WhyArgs;
use crate::registry::OciRef;
use crate::registry::client::error_chain;
use crate::settings::registry::access as registry_access;
use crate::settings::trust;
use crate::verify::lineage::{self, Lineage, Unreadable};
use crate::verify::locate::RegistryLocator;

pub fn run(cx: &Context, args: WhyArgs) -> Result<()> {
    let trust = if args.key.is_empty() {
        None
    } else {
        Some(trust::keys_and_roots(&cx.settings, &args.key, &[])?)
    };
    let repos = args
        .repositories
        .iter()
        .map(|r| OciRef::parse(r))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if cx.settings.offline && !repos.is_empty() {
        miette::bail!(
            code = "mlprov::usage",
            help = format!(
                "{}, or ask the local store (without --registry)",
                cx.settings.online_hint()
            ),
            "{}: reading {} needs the registry",
            cx.settings.offline_cause,
            args.repositories.join(", ")
        );
    }

    let mut l = Lineage::default();
    let source = if repos.is_empty() {
        let store = cx.settings.paths.store();
        l.read_store(&store, trust.as_ref())
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot read the local store {}", store.root().display()))?;
        "the local store".to_string()
    } else {
        read_registries(cx, &args, &repos, &mut l, trust.as_ref())?;
        args.repositories.join(", ")
    };
    l.unreadable.sort();
    for u in &l.unreadable {
        cx.printer
            .warn(&format!("could not read {}: {}", u.source, u.error));
    }

    let mut starts = l.find(&args.what);
    if starts.is_empty()
        && let Some(found) = l.find_prefix(&args.what)
    {
        if found.len() > 1 {
            let candidates: Vec<String> = found
                .iter()
                .map(|d| match l.names_of(d).as_slice() {
                    [] => d.prefixed(),
                    names => format!("{} ({})", d.prefixed(), names.join(", ")),
                })
                .collect();
            return Err(miette::miette!(
                code = "mlprov::why::ambiguous",
                help = format!(
                    "give more of the digest; it could be:\n  {}",
                    candidates.join("\n  ")
                ),
                "`{}` is the start of {} digests in the provenance of {source}",
                args.what,
                found.len()
            ));
        }
        starts = found;
    }
    if starts.is_empty() {
        return Err(miette::miette!(
            code = "mlprov::why::unknown",
            help = "pass an artifact digest (sha256:…, or the short one `verify` shows) or a name that the provenance read uses",
            "no artifact named `{}` in the provenance of {source}",
            args.what
        ));
    }
    let rows = l.descendants(&starts);
    let refs = |d: &crate::digest::Sha256Digest| l.references_of(d);
    if cx.printer.is_json() {
        use crate::document::{WhyDescendant, WhyDocument, WhyMatch, WhySource, WhyUnreadable};
        cx.printer.document(&WhyDocument {
            version: crate::document::VERSION,
            query: args.what.clone(),
            source: if repos.is_empty() {
                WhySource::Store("store".to_string())
            } else {
                WhySource::Repositories(args.repositories.clone())
            },
            matches: starts
                .iter()
                .map(|d| WhyMatch {
                    digest: d.prefixed(),
                    names: l.names_of(d),
                    references: refs(d),
                })
                .collect(),
            verified_only: trust.is_some(),
            statements: l.statements,
            descendants: rows
                .iter()
                .map(|r| WhyDescendant {
                    digest: r.digest.prefixed(),
                    name: r.name.clone(),
                    depth: r.depth,
                    via: r.via.clone(),
                    references: r.references.clone(),
                })
                .collect(),
            unreadable: l
                .unreadable
                .iter()
                .map(|u| WhyUnreadable {
                    source: u.source.clone(),
                    error: u.error.clone(),
                })
                .collect(),
        });
    } else {
        let mut out = String::new();
        for r in &rows {
            out.push_str(&format!(
                "{}  {}  {}  (via {})\n",
                r.depth,
                r.name,
                r.digest.prefixed(),
                r.via.join(" → ")
            ));
            for reference in &r.references {
                out.push_str(&format!("   {reference}\n"));
            }
        }
        cx.printer.out(&out);
        cx.printer.status(
            "Found",
            &format!(
                "{} artifact(s) descending from {} in {source} ({} provenance statement(s) read{})",
                rows.len(),
                args.what,
                l.statements,
                if trust.is_some() {
                    ", signed by the given keys"
                } else {
                    ", signed by anyone: pass --key to count only trusted provenance"
                }
            ),
        );
    }
    if !l.unreadable.is_empty() {
        return Err(miette::miette!(
            code = "mlprov::why::incomplete",
            help = "the warnings above say what failed; fix it or remove it and ask again",
            "{} item(s) could not be read: artifacts descending through them are missing from the list",
            l.unreadable.len()
        ));
    }
    Ok(())
}

/// Read every tag of each `--registry` repository (or the one tag or
/// digest given), then the manifests of the `oci://` dependencies met, to
/// map them to artifact digests. A registry that cannot be reached is an
/// error; a tag that cannot be read is recorded as unreadable.
fn read_registries(
    cx: &Context,
    args: &WhyArgs,
    repos: &[OciRef],
    l: &mut Lineage,
    trust: Option<&crate::sign::trust::Trust>,
) -> Result<()> {
    // The flags (and a password from stdin, read once) for the registries
    // named; the environment and the flags for the ones dependencies name.
    let named: Vec<&str> = repos.iter().map(|r| r.registry.as_str()).collect();
    let access = registry_access(Some(&args.registry), &named, &cx.settings.env)?;
    let settings_for = move |reg: &str| access.settings_for(reg);
    let locator = RegistryLocator::new(&settings_for);

    for repo in repos {
        let client = locator.client(&repo.registry)?;
        let references: Vec<OciRef> = if repo.tag.is_some() || repo.digest.is_some() {
            vec![repo.clone()]
        } else {
            let mut tags = client.tags(&repo.repository)?;
            tags.sort();
            tags.into_iter()
                // The referrers tag schema's indexes (and cosign's
                // `sha256-….sig`/`.att`) are not models.
                .filter(|t| !t.starts_with("sha256-"))
                .map(|t| OciRef {
                    tag: Some(t),
                    ..repo.clone()
                })
                .collect()
        };
        cx.printer.status(
            "Reading",
            &format!("{repo} ({} reference(s))", references.len()),
        );
        for r in &references {
            match l.read_reference(&client, r, trust) {
                Ok(()) => {}
                Err(e) if lineage::stops(&e) => {
                    return Err(miette::Report::new(e).wrap_err(format!("cannot read {r}")));
                }
                Err(e) => l.unreadable.push(Unreadable {
                    source: r.to_string(),
                    error: error_chain(&e),
                }),
            }
        }
    }

    Ok(())
}
