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

use std::collections::BTreeMap;

use miette::{IntoDiagnostic, Result, WrapErr};
use serde_json::json;

use super::{Context, ExitStatus, keys};
use crate::cli::WhyArgs;
use crate::registry::client::error_chain;
use crate::registry::{OciRef, Settings};
use crate::store::Store;
use crate::verify::lineage::{self, Lineage, Unreadable};
use crate::verify::locate::RegistryLocator;

pub fn run(cx: &Context, args: WhyArgs) -> Result<ExitStatus> {
    let trust = if args.key.is_empty() {
        None
    } else {
        Some(keys::trust(cx, &args.key, &[])?)
    };
    let repos = args
        .repositories
        .iter()
        .map(|r| OciRef::parse(r))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if cx.offline && !repos.is_empty() {
        miette::bail!(
            code = "mlprov::usage",
            help = "drop --offline, or ask the local store (without --registry)",
            "--offline: reading {} needs the registry",
            args.repositories.join(", ")
        );
    }

    let mut l = Lineage::default();
    let source = if repos.is_empty() {
        let store = Store::open_default();
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

    let starts = l.find(&args.what);
    if starts.is_empty() {
        cx.printer.error(&miette::miette!(
            code = "mlprov::why::unknown",
            help = "pass an artifact digest (sha256:…) or a name that the provenance read uses",
            "no artifact named `{}` in the provenance of {source}",
            args.what
        ));
        return Ok(ExitStatus::Failure);
    }
    let rows = l.descendants(&starts);
    let refs = |d: &crate::digest::Sha256Digest| l.references_of(d);
    if cx.printer.is_json() {
        cx.printer.json(&json!({
            "query": args.what,
            "source": if repos.is_empty() { json!("store") } else { json!(args.repositories) },
            "matches": starts.iter().map(|d| json!({
                "digest": d.prefixed(),
                "names": l.names_of(d),
                "references": refs(d),
            })).collect::<Vec<_>>(),
            "verifiedOnly": trust.is_some(),
            "statements": l.statements,
            "descendants": rows.iter().map(|r| json!({
                "digest": r.digest.prefixed(),
                "name": r.name,
                "depth": r.depth,
                "via": r.via,
                "references": r.references,
            })).collect::<Vec<_>>(),
            "unreadable": l.unreadable.iter().map(|u| json!({
                "source": u.source,
                "error": u.error,
            })).collect::<Vec<_>>(),
        }));
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
        cx.printer.error(&miette::miette!(
            code = "mlprov::why::incomplete",
            help = "the warnings above say what failed; fix it or remove it and ask again",
            "{} item(s) could not be read: artifacts descending through them are missing from the list",
            l.unreadable.len()
        ));
        return Ok(ExitStatus::Failure);
    }
    Ok(ExitStatus::Success)
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
    let mut explicit: BTreeMap<String, Settings> = BTreeMap::new();
    for r in repos {
        if explicit.contains_key(&r.registry) {
            continue;
        }
        let s = match explicit.values().next() {
            Some(s) if args.registry.username.is_some() => s.clone(),
            _ => super::push::registry_settings(&args.registry, &r.registry)?,
        };
        explicit.insert(r.registry.clone(), s);
    }
    let flags = (
        args.registry.plain_http,
        args.registry.insecure,
        args.registry.timeout,
    );
    let settings_for = move |reg: &str| {
        if let Some(s) = explicit.get(reg) {
            return Ok(s.clone());
        }
        let mut s = Settings::from_env(reg)?;
        s.plain_http |= flags.0;
        s.insecure |= flags.1;
        s.timeout = std::time::Duration::from_secs(flags.2.max(1));
        Ok(s)
    };
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
