//! Required attestations: every predicate type the context requires (its
//! role's `require`, the selecting `[[policy.artifacts]]` rules' `require`,
//! and for the root the command line's `--require` and the OMS signature
//! of a path) must be proven by a trusted bundle about the node. The
//! finding says what was found but not trusted, and how to provide it.

use std::collections::BTreeSet;

use crate::intoto::{PREDICATE_OMS, PREDICATE_SCAN, PREDICATE_SLSA_PROVENANCE};
use crate::verify::checks::Node;
use crate::verify::code::Code;
use crate::verify::node::{Attestation, Finding, Status};

/// The predicate types proven; a finding for each required one that is not.
pub fn check(
    node: &Node<'_>,
    atts: &[Attestation],
    findings: &mut Vec<Finding>,
) -> BTreeSet<String> {
    let proven: BTreeSet<String> = atts
        .iter()
        .filter(|a| a.status == Status::Verified)
        .filter_map(|a| a.predicate_type.clone())
        .collect();
    for r in &node.rules.require {
        if proven.contains(r) {
            continue;
        }
        let of_type: Vec<&Attestation> = atts
            .iter()
            .filter(|a| a.predicate_type.as_deref() == Some(r.as_str()))
            .collect();
        let ignored: Vec<String> = of_type
            .iter()
            .filter_map(|a| match &a.status {
                Status::Ignored(why) => Some(format!("{} ({why})", a.source)),
                _ => None,
            })
            .collect();
        // A bundle of this type that failed has its own finding; otherwise
        // say how to provide one.
        let (why, help) = if of_type.is_empty() {
            ("no bundle of this type was found".to_string(), true)
        } else if ignored.len() == of_type.len() {
            (
                format!(
                    "found {} bundle{} of this type, none signed by a signer trusted for this node: {}",
                    ignored.len(),
                    if ignored.len() == 1 { "" } else { "s" },
                    ignored.join("; "),
                ),
                true,
            )
        } else {
            ("no bundle of this type verified".to_string(), false)
        };
        let f = node.finding(
            Code::MissingAttestation,
            format!("required attestation {r} is not proven: {why}"),
        );
        findings.push(if help { f.with_help(how(node, r)) } else { f });
    }
    if node.digest.is_none() && findings.is_empty() {
        findings.push(node.finding(
            Code::MissingAttestation,
            "nothing identifies the artifact: no signed manifest, digest or bytes",
        ));
    }
    proven
}

/// How to provide a missing attestation, or the policy line that relaxes
/// the requirement (the finding's `help:` line).
fn how(node: &Node<'_>, predicate: &str) -> String {
    let by: Vec<&str> = node.rules.trusts.iter().map(|(l, _)| l.as_str()).collect();
    let signed = format!("signed by a signer of {}", by.join(" and "));
    let rest: Vec<String> = node
        .rules
        .require
        .iter()
        .filter(|r| r.as_str() != predicate)
        .map(|r| format!("{r:?}"))
        .collect();
    let relax = if node.is_root {
        "or drop it from --require / `require` in [policy.artifact]".to_string()
    } else {
        format!(
            "or relax the policy: `require = [{}]` under [policy.roles.{}]",
            rest.join(", "),
            node.rules.role
        )
    };
    let name = node.name.unwrap_or(super::INPUT_NAME);
    let make = match (node.is_root, predicate) {
        (true, PREDICATE_OMS) => "sign the model: `mlprov sign --key …`".to_string(),
        (true, _) => "attest the build: `mlprov attest --key …`".to_string(),
        (false, PREDICATE_SLSA_PROVENANCE | PREDICATE_SCAN) => format!(
            "attest the input: `mlprov attest --key …` after `mlprov build` in the project that built the parent attests every input, or `mlprov attest import {name} --key …` attests this one on its own (e.g. by the team that owns it)"
        ),
        (false, _) => format!(
            "attest the input: `mlprov attest --type {predicate} --predicate FILE --key …` in the project that built it"
        ),
    };
    format!("{make}, {signed}; {relax}")
}

/// A git commit carries no attestations: a policy that requires some of
/// the node cannot be met (`E0603`).
pub fn check_git(node: &Node<'_>, findings: &mut Vec<Finding>) {
    if node.rules.require_explicit && !node.rules.require.is_empty() {
        findings.push(Finding::new(
            Code::UnresolvableDependency,
            None,
            format!(
                "the policy for role {} requires {}, but a git commit carries no attestations mlprov can look up",
                node.rules.role,
                node.rules.require.join(", ")
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::verify::checks::signature;
    use crate::verify::checks::testing::*;
    use crate::verify::model::NodeKind;

    #[test]
    fn missing_ignored_and_proven() {
        let w = World::new();
        let d = digest("a");
        let prov = w.bundle(&w.platform, &provenance(&d, &[]));
        let scan_by_other = w.bundle(&w.attacker, &scan_statement(&d, &[]));
        let g = gathered(d, vec![found(&prov), found(&scan_by_other)]);
        let policy = w.policy(
            "[policy.roles.base-model]\nrequire = [\"https://slsa.dev/provenance/v1\", \"https://mlprov.dev/scan/v1\", \"https://spdx.dev/Document/v3\"]\nsigners = [\"platform.pub\"]\n",
        );
        let rules = policy.context(Some(Role::BaseModel), "base-model", &[]);
        let node = node_in(&g, &rules, &policy);
        let mut f = Vec::new();
        let atts = signature::check(&node, &mut f);
        let proven = check(&node, &atts, &mut f);
        assert_eq!(proven.len(), 1);
        assert_eq!(codes(&f), ["E0301", "E0301"]);
        let scan = &f[0].message;
        assert!(scan.contains("https://mlprov.dev/scan/v1"), "{scan}");
        assert!(
            scan.contains("none signed by a signer trusted for this node"),
            "{scan}"
        );
        assert!(scan.contains("untrusted signer"), "{scan}");
        // How to provide it is the finding's help line (the walk puts the
        // input's name in place of `{input}`).
        let help = f[0].help.as_deref().unwrap_or_default();
        assert!(
            help.contains("mlprov attest import {input} --key"),
            "{help}"
        );
        assert!(help.contains("[policy.roles.base-model] signers"), "{help}");
        assert!(
            help.contains("`require = [\"https://slsa.dev/provenance/v1\", \"https://spdx.dev/Document/v3\"]` under [policy.roles.base-model]"),
            "{help}"
        );
        assert!(
            f[1].message.contains("no bundle of this type was found"),
            "{}",
            f[1].message
        );
    }

    #[test]
    fn nothing_identifies_the_artifact() {
        let w = World::new();
        let g = crate::verify::node::Gathered::default();
        let policy = w.policy("");
        let rules = policy.context(None, "artifact", &[]);
        let mut f = Vec::new();
        check(&node_in(&g, &rules, &policy), &[], &mut f);
        assert_eq!(codes(&f), ["E0301"]);
    }

    #[test]
    fn a_git_commit_cannot_meet_explicit_requirements() {
        let w = World::new();
        let g = crate::verify::node::Gathered::default();
        let policy =
            w.policy("[policy.roles.code]\nrequire = [\"https://slsa.dev/provenance/v1\"]\n");
        let rules = policy.context(Some(Role::Code), "code", &[]);
        let mut node = node_in(&g, &rules, &policy);
        node.kind = NodeKind::GitCommit;
        let mut f = Vec::new();
        check_git(&node, &mut f);
        assert_eq!(codes(&f), ["E0603"]);
        // The default requirement (provenance) does not apply to code.
        let policy = w.policy("");
        let rules = policy.context(Some(Role::Code), "code", &[]);
        let mut f = Vec::new();
        check_git(&node_in(&g, &rules, &policy), &mut f);
        assert!(f.is_empty());
    }
}
