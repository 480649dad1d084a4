//! Signatures and signers: every bundle gathered for the node is checked
//! under every trust of the context ([`ContextRules::trusts`]).
//!
//! - a bundle that cannot be read fails the node (fail closed), whoever
//!   signed it;
//! - a bundle whose signature does not verify, or whose certificate or log
//!   proof is broken, fails the node;
//! - a bundle found by digest whose signer is not trusted for the node (an
//!   unknown key, another keyless identity, a certificate from a CA or a
//!   log entry from a Sigstore instance the trusted root does not list) is
//!   **ignored**: it proves nothing and fails nothing. Given explicitly
//!   (`model.sig`, `--bundle`), it fails (`E0202` and friends): the user
//!   named it;
//! - a verified OMS statement whose manifest cannot be used fails
//!   (`E0105`, `E0106`);
//! - the bundles could not be listed at all: `E0302`.
//!
//! [`ContextRules::trusts`]: crate::verify::policy::ContextRules::trusts

use crate::intoto::PREDICATE_OMS;
use crate::verify::checks::Node;
use crate::verify::code::Code;
use crate::verify::node::{
    Attestation, Finding, Status, Verification, oms_manifest, verify_bundle,
};

/// The attestations of the node: one per gathered bundle, with its status.
pub fn check(node: &Node<'_>, findings: &mut Vec<Finding>) -> Vec<Attestation> {
    if let Some(e) = &node.gathered.lookup_error {
        findings.push(node.finding(
            Code::UnreadableAttestation,
            format!("cannot read attestations: {e}"),
        ));
    }
    let trusts = node.rules.trust_refs();
    let mut out = Vec::new();
    for c in &node.gathered.candidates {
        let mut a = Attestation {
            source: c.source.clone(),
            bundle_digest: c.bundle_digest,
            predicate_type: c.predicate_type().map(str::to_string),
            signer: None,
            status: Status::Verified,
            statement: None,
        };
        let fail =
            |a: &mut Attestation, findings: &mut Vec<Finding>, code: Code, message: String| {
                a.status = Status::Failed(code);
                findings.push(Finding {
                    source: Some(a.source.clone()),
                    ..node.finding(code, message)
                });
            };
        match &c.parsed {
            Err((code, message)) => fail(&mut a, findings, *code, message.clone()),
            Ok(b) => match verify_bundle(b, &trusts) {
                Verification::Trusted(signer) => {
                    a.signer = Some(*signer);
                    if b.statement.predicate_type == PREDICATE_OMS
                        && let Err((code, message)) = oms_manifest(&b.statement)
                    {
                        fail(&mut a, findings, code, message);
                    } else {
                        a.statement = Some(b.statement.clone());
                    }
                }
                Verification::Untrusted { code, reason } if c.explicit => {
                    fail(&mut a, findings, code, reason)
                }
                Verification::Untrusted { reason, .. } => {
                    a.status = Status::Ignored(format!("untrusted signer: {reason}"));
                }
                Verification::Failed { code, message } => fail(&mut a, findings, code, message),
            },
        }
        out.push(a);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::checks::testing::*;

    #[test]
    fn trusted_untrusted_and_broken_bundles() {
        let w = World::new();
        let d = digest("a");
        let good = w.bundle(&w.platform, &provenance(&d, &[]));
        let other = w.bundle(&w.attacker, &provenance(&d, &[]));
        let mut broken = w.bundle(&w.platform, &scan_statement(&d, &[]));
        tamper(&mut broken);
        let g = gathered(
            d,
            vec![found(&good), found(&other), found(&broken), raw("{}")],
        );
        let policy = w.policy("[policy.roles.base-model]\nsigners = [\"platform.pub\"]\n");
        let rules = policy.context(Some(crate::model::Role::BaseModel), "base-model", &[]);
        let node = node_in(&g, &rules, &policy);
        let mut f = Vec::new();
        let atts = check(&node, &mut f);
        assert_eq!(atts[0].status, Status::Verified);
        assert!(atts[0].statement.is_some());
        // Someone else's bundle proves nothing and fails nothing.
        match &atts[1].status {
            Status::Ignored(r) => assert!(r.starts_with("untrusted signer: "), "{r}"),
            s => panic!("{s:?}"),
        }
        assert_eq!(atts[2].status, Status::Failed(Code::SignatureInvalid));
        assert_eq!(atts[3].status, Status::Failed(Code::MalformedBundle));
        assert_eq!(codes(&f), ["E0201", "E0205"]);
    }

    #[test]
    fn explicit_bundles_from_untrusted_signers_fail() {
        let w = World::new();
        let d = digest("a");
        let other = w.bundle(&w.attacker, &provenance(&d, &[]));
        let g = gathered(d, vec![explicit(&other)]);
        let policy = w.policy("");
        let rules = policy.context(None, "artifact", &[]);
        let node = node_in(&g, &rules, &policy);
        let mut f = Vec::new();
        let atts = check(&node, &mut f);
        assert_eq!(atts[0].status, Status::Failed(Code::UntrustedSigner));
        assert_eq!(codes(&f), ["E0202"]);
    }

    #[test]
    fn a_bundle_counts_only_when_every_trust_of_the_context_trusts_it() {
        let w = World::new();
        let d = digest("a");
        let by_build = w.bundle(&w.build, &scan_statement(&d, &[]));
        let g = gathered(d, vec![found(&by_build)]);
        let policy = w.policy(
            "[policy.roles.base-model]\nsigners = [\"platform.pub\", \"build.pub\"]\n\
             [[policy.artifacts]]\nsource = \"hf:meta-llama/*\"\nsigners = [\"platform.pub\"]\n",
        );
        let sel = crate::verify::policy::Selection {
            source: Some("hf:meta-llama/Llama-3"),
            ..Default::default()
        };
        let rules = policy.context(
            Some(crate::model::Role::BaseModel),
            "base-model",
            &policy.selecting(&sel),
        );
        assert_eq!(rules.trusts.len(), 2);
        let node = node_in(&g, &rules, &policy);
        let mut f = Vec::new();
        let atts = check(&node, &mut f);
        match &atts[0].status {
            Status::Ignored(r) => assert!(
                r.contains("build.pub") && r.contains("source = \"hf:meta-llama/*\""),
                "{r}"
            ),
            s => panic!("{s:?}"),
        }
        assert!(f.is_empty(), "{f:?}");
        // The role alone trusts it.
        let rules = policy.context(Some(crate::model::Role::BaseModel), "base-model", &[]);
        let node = node_in(&g, &rules, &policy);
        assert_eq!(check(&node, &mut f)[0].status, Status::Verified);
    }

    #[test]
    fn unreadable_store_is_a_finding() {
        let w = World::new();
        let mut g = gathered(digest("a"), vec![]);
        g.lookup_error = Some("permission denied".into());
        let policy = w.policy("");
        let rules = policy.context(None, "artifact", &[]);
        let mut f = Vec::new();
        check(&node_in(&g, &rules, &policy), &mut f);
        assert_eq!(codes(&f), ["E0302"]);
    }
}
