//! Licenses: what the node's verified attestations declare (an import
//! provenance's `license`, the SPDX 3 root element's declared license, the
//! CycloneDX component's licenses) under the one license rule of
//! [`crate::policy::license`] (`E0401`).

use serde_json::Value;

use crate::intoto::{PREDICATE_CYCLONEDX, PREDICATE_SPDX3, Provenance};
use crate::policy::license::Violation;
use crate::verify::checks::{Facts, Node, push_unique};
use crate::verify::code::Code;
use crate::verify::model::NodeKind;
use crate::verify::node::{Attestation, Finding, Status};

pub fn check(
    node: &Node<'_>,
    atts: &[Attestation],
    provenance: &[Provenance],
    facts: &mut Facts,
    findings: &mut Vec<Finding>,
) {
    for p in provenance {
        if let Some(l) = crate::provenance::import_parameters(p).and_then(|i| i.license) {
            push_unique(&mut facts.licenses, &l);
        }
    }
    for st in atts
        .iter()
        .filter(|a| a.status == Status::Verified)
        .filter_map(|a| a.statement.as_ref())
    {
        let found = match st.predicate_type.as_str() {
            PREDICATE_SPDX3 => spdx_licenses(&st.predicate),
            PREDICATE_CYCLONEDX => cyclonedx_licenses(&st.predicate),
            _ => continue,
        };
        for l in found {
            push_unique(&mut facts.licenses, &l);
        }
    }
    if node.kind != NodeKind::Artifact {
        return;
    }
    let name = node.name.unwrap_or(super::INPUT_NAME);
    for v in crate::policy::license::check(&facts.licenses, &node.policy.licenses_allow) {
        let (message, help) = match &v {
            Violation::Missing => (
                format!("{v}: no verified attestation of this node declares one"),
                if node.is_root {
                    "declare it as `license` under [artifact] in mlprov.toml, then `mlprov build` and `mlprov attest --key …` (the SBOM declares it); or drop `licenses.allow` from [policy]".to_string()
                } else {
                    format!(
                        "declare it in the input's line of mlprov.toml (`{name} = {{ …, license = \"SPDX-ID\" }}`), then `mlprov pin` and `mlprov attest --key …` (or `mlprov attest import {name} --key …`): the import provenance records it; or drop `licenses.allow` from [policy]"
                    )
                },
            ),
            Violation::NotAllowed { license, .. } => (
                v.to_string(),
                format!("if `{license}` is acceptable, add it to `licenses.allow` in [policy]"),
            ),
            Violation::Invalid { .. } => (
                v.to_string(),
                "declare the license as an SPDX expression (names outside the SPDX list as `LicenseRef-…`)".to_string(),
            ),
        };
        findings.push(node.finding(Code::LicenseDenied, message).with_help(help));
    }
}

/// The licenses an SPDX 3 document declares for its root element.
fn spdx_licenses(doc: &Value) -> Vec<String> {
    let graph = doc["@graph"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let roots: Vec<&str> = graph
        .iter()
        .filter(|e| e["type"] == "SpdxDocument")
        .flat_map(|e| e["rootElement"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    let mut out = Vec::new();
    for rel in graph.iter().filter(|e| {
        e["relationshipType"] == "hasDeclaredLicense"
            && e["from"].as_str().is_some_and(|f| roots.contains(&f))
    }) {
        for to in rel["to"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if let Some(expr) = graph
                .iter()
                .find(|e| e["spdxId"] == to)
                .and_then(|e| e["simplelicensing_licenseExpression"].as_str())
            {
                out.push(expr.to_string());
            }
        }
    }
    out
}

/// The licenses a CycloneDX BOM declares for its metadata component.
fn cyclonedx_licenses(bom: &Value) -> Vec<String> {
    bom["metadata"]["component"]["licenses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            l["expression"]
                .as_str()
                .or(l["license"]["id"].as_str())
                .map(str::to_string)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::checks::testing::*;
    use crate::verify::checks::{provenance_of, signature};
    use serde_json::json;

    #[test]
    fn licenses_from_every_verified_attestation() {
        let w = World::new();
        let d = digest("a");
        let import = w.bundle(
            &w.platform,
            &import_provenance(&d, "hf:acme/base", &"a".repeat(40), Some("Apache-2.0")),
        );
        let spdx = w.bundle(
            &w.platform,
            &statement(&d, PREDICATE_SPDX3, json!({"@graph": [
                {"type": "SpdxDocument", "rootElement": ["r"]},
                {"type": "simplelicensing_LicenseExpression", "spdxId": "l", "simplelicensing_licenseExpression": "MIT"},
                {"type": "Relationship", "relationshipType": "hasDeclaredLicense", "from": "r", "to": ["l"]},
            ]})),
        );
        let cdx = w.bundle(
            &w.platform,
            &statement(&d, PREDICATE_CYCLONEDX, json!({"metadata": {"component": {"licenses": [{"license": {"id": "GPL-3.0-only"}}]}}})),
        );
        let untrusted = w.bundle(
            &w.attacker,
            &statement(
                &d,
                PREDICATE_CYCLONEDX,
                json!({"metadata": {"component": {"licenses": [{"expression": "BSD-3-Clause"}]}}}),
            ),
        );
        let g = gathered(
            d,
            vec![found(&import), found(&spdx), found(&cdx), found(&untrusted)],
        );
        let policy = w.policy("licenses.allow = [\"Apache-2.0\", \"MIT\"]\n");
        let rules = policy.context(None, "artifact", &[]);
        let node = node_in(&g, &rules, &policy);
        let mut f = Vec::new();
        let atts = signature::check(&node, &mut f);
        let prov = provenance_of(&node, &atts, &mut f);
        let mut facts = Facts::default();
        check(&node, &atts, &prov, &mut facts, &mut f);
        assert_eq!(facts.licenses, ["Apache-2.0", "MIT", "GPL-3.0-only"]);
        assert_eq!(codes(&f), ["E0401"]);
        assert!(
            f[0].message.contains("`GPL-3.0-only` is not allowed"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn no_declared_license_under_an_allowlist() {
        let w = World::new();
        let g = gathered(digest("a"), vec![]);
        let policy = w.policy("licenses.allow = [\"MIT\"]\n");
        let rules = policy.context(None, "artifact", &[]);
        let (mut facts, mut f) = (Facts::default(), Vec::new());
        check(&node_in(&g, &rules, &policy), &[], &[], &mut facts, &mut f);
        assert_eq!(codes(&f), ["E0401"]);
        assert!(
            f[0].message.starts_with("no license is declared"),
            "{}",
            f[0].message
        );
        let open = w.policy("");
        let rules = open.context(None, "artifact", &[]);
        let mut f = Vec::new();
        check(&node_in(&g, &rules, &open), &[], &[], &mut facts, &mut f);
        assert!(f.is_empty());
    }
}
