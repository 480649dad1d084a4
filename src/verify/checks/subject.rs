//! Subjects: a trusted statement found or given for this node must be about
//! this artifact (an OMS manifest by its root digest, anything else by a
//! sha256 subject). One about other content was filed or attached under
//! the wrong artifact (re-labelled): `E0203`. Ignored bundles stay ignored:
//! what nobody trusted here cannot re-label anything.

use crate::intoto::PREDICATE_OMS;
use crate::verify::checks::Node;
use crate::verify::code::Code;
use crate::verify::node::{Attestation, Finding, Status, oms_manifest};

pub fn check(node: &Node<'_>, atts: &mut [Attestation], findings: &mut Vec<Finding>) {
    let Some(d) = node.digest else { return };
    for (a, c) in atts.iter_mut().zip(&node.gathered.candidates) {
        if a.status != Status::Verified {
            continue;
        }
        let Some(st) = &a.statement else { continue };
        let about = if st.predicate_type == PREDICATE_OMS {
            oms_manifest(st).is_ok_and(|m| m.root == d)
        } else {
            c.subjects.contains(&d)
        };
        if about {
            continue;
        }
        let listed: Vec<String> = c.subjects.iter().map(|s| s.prefixed()).collect();
        findings.push(Finding {
            source: Some(a.source.clone()),
            ..node.finding(
                Code::SubjectMismatch,
                format!(
                    "the statement is about {}, not this artifact ({})",
                    if listed.is_empty() {
                        "no sha256 subject".to_string()
                    } else {
                        listed.join(", ")
                    },
                    d.prefixed()
                ),
            )
        });
        a.status = Status::Failed(Code::SubjectMismatch);
        a.statement = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::checks::signature;
    use crate::verify::checks::testing::*;

    #[test]
    fn trusted_statements_about_other_content_fail_untrusted_ones_are_ignored() {
        let w = World::new();
        let (a, b) = (digest("a"), digest("b"));
        let ours = w.bundle(&w.platform, &scan_statement(&a, &[]));
        let relabelled = w.bundle(&w.platform, &scan_statement(&b, &[]));
        let theirs = w.bundle(&w.attacker, &scan_statement(&b, &[]));
        let g = gathered(a, vec![found(&ours), found(&relabelled), found(&theirs)]);
        let policy = w.policy("");
        let rules = policy.context(None, "artifact", &[]);
        let node = node_in(&g, &rules, &policy);
        let mut f = Vec::new();
        let mut atts = signature::check(&node, &mut f);
        check(&node, &mut atts, &mut f);
        assert_eq!(atts[0].status, Status::Verified);
        assert_eq!(atts[1].status, Status::Failed(Code::SubjectMismatch));
        assert!(atts[1].statement.is_none());
        assert!(matches!(atts[2].status, Status::Ignored(_)));
        assert_eq!(codes(&f), ["E0203"]);
        assert!(f[0].message.contains(&b.prefixed()), "{}", f[0].message);
    }
}
