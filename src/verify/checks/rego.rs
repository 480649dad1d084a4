//! Rego: the policy's deny rules on the node's input document
//! ([`RegoInput`], with its depth and path): each message is an `E0406`
//! finding; an evaluation error fails the node closed (`E0407`, with the
//! message). `--policy-scope root` runs them on the root only.

use crate::digest::Sha256Digest;
use crate::verify::code::Code;
use crate::verify::model::RegoScope;
use crate::verify::node::Finding;
use crate::verify::rego::{Outcome, RegoPolicy};
use crate::verify::rego_input::RegoInput;

/// Whether Rego runs on a node at `depth` under `scope`.
pub fn applies(scope: RegoScope, depth: u32) -> bool {
    scope == RegoScope::Graph || depth == 0
}

pub fn check(
    rego: &RegoPolicy,
    input: &RegoInput,
    node: Option<Sha256Digest>,
    findings: &mut Vec<Finding>,
) {
    match rego.evaluate(&input.to_value()) {
        Outcome::Denied(msgs) => {
            for m in msgs {
                findings.push(Finding::new(Code::PolicyDenied, node, m));
            }
        }
        Outcome::Error(e) => findings.push(Finding::new(
            Code::PolicyUnenforceable,
            node,
            format!("Rego policy {}: {e}", rego.query),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::checks::testing::*;

    fn load(text: &str, query: &str) -> RegoPolicy {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.rego");
        std::fs::write(&p, text).unwrap();
        RegoPolicy::load(&[&p], query).unwrap()
    }

    #[test]
    fn deny_messages_and_errors() {
        let w = World::new();
        let d = digest("a");
        let prov = w.bundle(&w.platform, &provenance(&d, &[]));
        let g = gathered(d, vec![found(&prov)]);
        let policy = w.policy("");
        let rules = policy.context(None, "artifact", &[]);
        let node = node_in(&g, &rules, &policy);
        let j = crate::verify::checks::judge(&node);
        let mut input = RegoInput::new(
            &crate::verify::rego_input::About::of(&node),
            &j.verdict,
            &j.facts,
        );
        input.place(3, Vec::new());
        let deny = load(
            "package x\n\ndeny contains msg if {\n  input.depth > 2\n  msg := sprintf(\"too deep: %v\", [input.depth])\n}\n",
            "data.x.deny",
        );
        let mut f = Vec::new();
        check(&deny, &input, Some(d), &mut f);
        assert_eq!(codes(&f), ["E0406"]);
        assert_eq!(f[0].message, "too deep: 3");
        let bad = load("package x\n\ndeny := 3\n", "data.x.deny");
        let mut f = Vec::new();
        check(&bad, &input, Some(d), &mut f);
        assert_eq!(codes(&f), ["E0407"]);
        assert!(
            applies(RegoScope::Graph, 3)
                && applies(RegoScope::Root, 0)
                && !applies(RegoScope::Root, 1)
        );
    }
}
