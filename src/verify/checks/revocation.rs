//! Revocations: a node whose artifact digest (or registry manifest digest)
//! is on the policy's `revoked` list or its signed `revocation-list` fails
//! (`E0404`), wherever it sits in the graph.

use crate::verify::checks::Node;
use crate::verify::code::Code;
use crate::verify::node::Finding;

pub fn check(node: &Node<'_>, findings: &mut Vec<Finding>) {
    for d in [node.digest, node.manifest_digest].into_iter().flatten() {
        if let Some(why) = node.policy.revoked.get(&d) {
            findings.push(node.finding(Code::Revoked, format!("{} is {why}", d.prefixed())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::checks::testing::*;

    #[test]
    fn revoked_digests_fail() {
        let w = World::new();
        let (a, m) = (digest("a"), digest("m"));
        let g = gathered(a, vec![]);
        let mut policy = w.policy("");
        policy.revoked.insert(m, "revoked in p.toml".into());
        let rules = policy.context(None, "artifact", &[]);
        let mut node = node_in(&g, &rules, &policy);
        let mut f = Vec::new();
        check(&node, &mut f);
        assert!(f.is_empty());
        node.manifest_digest = Some(m);
        check(&node, &mut f);
        assert_eq!(codes(&f), ["E0404"]);
        assert!(
            f[0].message.ends_with("is revoked in p.toml"),
            "{}",
            f[0].message
        );
    }
}
