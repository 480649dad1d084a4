//! `mlprov why DIGEST|NAME`: every artifact in the local store that
//! descends from an artifact, through the `resolvedDependencies` of the
//! SLSA provenance filed there ("which of my models descend from the base
//! model that was just disclosed as poisoned").
//!
//! Without `--key`, every provenance statement in the store counts, whoever
//! signed it: for this question, listing too much is safer than too
//! little. With `--key`, only provenance signed by those keys counts.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use miette::{IntoDiagnostic, Result, WrapErr};
use serde_json::json;

use super::{Context, ExitStatus, keys};
use crate::cli::WhyArgs;
use crate::digest::Sha256Digest;
use crate::intoto::{BUILD_TYPE_IMPORT, PREDICATE_SLSA_PROVENANCE, Provenance};
use crate::sign::bundle;
use crate::store::{Store, predicate_slug};

/// Lineage read from the store.
#[derive(Default)]
struct Lineage {
    /// input digest → (child artifact digest, the input's name in the child).
    children: BTreeMap<Sha256Digest, BTreeSet<(Sha256Digest, String)>>,
    names: BTreeMap<Sha256Digest, BTreeSet<String>>,
    unreadable: Vec<String>,
    statements: usize,
}

fn read_lineage(store: &Store, trust: Option<&bundle::Trust>) -> Result<Lineage> {
    let slug = predicate_slug(PREDICATE_SLSA_PROVENANCE);
    let mut l = Lineage::default();
    let mut seen = BTreeSet::new();
    let subjects = store
        .subjects()
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read the local store {}", store.root().display()))?;
    for s in subjects {
        let listed = store
            .list(&s)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot read the local store {}", store.root().display()))?;
        for b in listed {
            if b.predicate_slug != slug || !seen.insert(b.bundle_digest) {
                continue;
            }
            let bytes = match std::fs::read(&b.path) {
                Ok(x) => x,
                Err(e) => {
                    l.unreadable.push(format!("{}: {e}", b.path.display()));
                    continue;
                }
            };
            let parsed = match bundle::parse(&bytes) {
                Ok(p) => p,
                Err(e) => {
                    l.unreadable.push(format!("{}: {e}", b.path.display()));
                    continue;
                }
            };
            if let Some(t) = trust
                && bundle::verify(&parsed, t).is_err()
            {
                continue;
            }
            let st = parsed.statement;
            let Some(child) = st.subject.first().and_then(|x| x.sha256_digest()) else {
                continue;
            };
            if let Some(n) = &st.subject[0].name {
                l.names.entry(child).or_default().insert(n.clone());
            }
            let Ok(prov) = serde_json::from_value::<Provenance>(st.predicate) else {
                l.unreadable
                    .push(format!("{}: not SLSA provenance", b.path.display()));
                continue;
            };
            l.statements += 1;
            if let Some(n) = prov.build_definition.external_parameters["input"].as_str() {
                l.names.entry(child).or_default().insert(n.to_string());
            }
            if prov.build_definition.build_type == BUILD_TYPE_IMPORT {
                continue;
            }
            for d in &prov.build_definition.resolved_dependencies {
                let Some(dd) = d.sha256_digest() else {
                    continue;
                };
                let name = d.name.clone().unwrap_or_default();
                if !name.is_empty() {
                    l.names.entry(dd).or_default().insert(name.clone());
                }
                l.children.entry(dd).or_default().insert((child, name));
            }
        }
    }
    Ok(l)
}

pub fn run(cx: &Context, args: WhyArgs) -> Result<ExitStatus> {
    let trust = if args.key.is_empty() {
        None
    } else {
        Some(keys::trust(cx, &args.key, &[])?)
    };
    let store = Store::open_default();
    let l = read_lineage(&store, trust.as_ref())?;
    for u in &l.unreadable {
        cx.printer
            .warn(&format!("skipped an unreadable bundle: {u}"));
    }
    let starts: BTreeSet<Sha256Digest> = match Sha256Digest::parse_any(&args.what) {
        Ok(d) if args.what.starts_with("sha256:") || args.what.len() == 64 => [d].into(),
        _ => l
            .names
            .iter()
            .filter(|(_, names)| names.contains(&args.what))
            .map(|(d, _)| *d)
            .collect(),
    };
    if starts.is_empty() {
        cx.printer.error(&miette::miette!(
            code = "mlprov::why::unknown",
            help = "pass an artifact digest (sha256:…) or a name that provenance in the store uses",
            "no artifact named `{}` in the local store's provenance",
            args.what
        ));
        return Ok(ExitStatus::Failure);
    }
    // Breadth first: the shortest path to each descendant.
    let mut found: BTreeMap<Sha256Digest, (usize, Vec<String>)> = BTreeMap::new();
    let mut queue: VecDeque<(Sha256Digest, usize, Vec<String>)> =
        starts.iter().map(|d| (*d, 0, Vec::new())).collect();
    let mut visited: BTreeSet<Sha256Digest> = starts.clone();
    while let Some((d, depth, via)) = queue.pop_front() {
        for (child, input) in l.children.get(&d).into_iter().flatten() {
            if visited.insert(*child) {
                let mut via = via.clone();
                via.push(if input.is_empty() {
                    d.prefixed()
                } else {
                    input.clone()
                });
                found.insert(*child, (depth + 1, via.clone()));
                queue.push_back((*child, depth + 1, via));
            }
        }
    }
    let name_of = |d: &Sha256Digest| {
        l.names
            .get(d)
            .map(|n| n.iter().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    let mut rows: Vec<(usize, String, Sha256Digest, Vec<String>)> = found
        .iter()
        .map(|(d, (depth, via))| (*depth, name_of(d), *d, via.clone()))
        .collect();
    rows.sort();
    if cx.printer.is_json() {
        cx.printer.json(&json!({
            "query": args.what,
            "matches": starts.iter().map(|d| json!({"digest": d.prefixed(), "names": l.names.get(d)})).collect::<Vec<_>>(),
            "verifiedOnly": trust.is_some(),
            "descendants": rows.iter().map(|(depth, name, d, via)| json!({
                "digest": d.prefixed(),
                "name": name,
                "depth": depth,
                "via": via,
            })).collect::<Vec<_>>(),
        }));
    } else {
        let mut out = String::new();
        for (depth, name, d, via) in &rows {
            out.push_str(&format!(
                "{depth}  {name}  {}  (via {})\n",
                d.prefixed(),
                via.join(" → ")
            ));
        }
        cx.printer.out(&out);
        cx.printer.note(&format!(
            "{} artifact(s) descend from {} ({} provenance statement(s) read{})",
            rows.len(),
            args.what,
            l.statements,
            if trust.is_some() {
                ", signed by the given keys"
            } else {
                ", signed by anyone: pass --key to count only trusted provenance"
            }
        ));
    }
    Ok(ExitStatus::Success)
}
