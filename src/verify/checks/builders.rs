//! Builders: every verified provenance names its builder
//! (`runDetails.builder.id`); with `builders.allow`, one not on the list
//! fails the node (`E0405`).

use crate::intoto::{BUILD_TYPE_IMPORT, Provenance};
use crate::verify::checks::{Facts, Node, push_unique};
use crate::verify::code::Code;
use crate::verify::node::Finding;

pub fn check(
    node: &Node<'_>,
    provenance: &[Provenance],
    facts: &mut Facts,
    findings: &mut Vec<Finding>,
) {
    let allow = &node.policy.builders_allow;
    for p in provenance {
        let builder = &p.run_details.builder.id;
        push_unique(&mut facts.builders, builder);
        if p.build_definition.build_type == BUILD_TYPE_IMPORT {
            facts.imported = true;
        }
        if !allow.is_empty() && !allow.contains(builder) {
            findings.push(node.finding(
                Code::BuilderNotAllowed,
                format!(
                    "built by {builder}, which is not in builders.allow ({})",
                    allow.join(", ")
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::checks::testing::*;

    #[test]
    fn builders_allowlist() {
        let w = World::new();
        let d = digest("a");
        let g = gathered(d, vec![]);
        let p: Provenance = serde_json::from_value(provenance(&d, &[]).predicate).unwrap();
        let open = w.policy("");
        let rules = open.context(None, "artifact", &[]);
        let (mut facts, mut f) = (Facts::default(), Vec::new());
        check(
            &node_in(&g, &rules, &open),
            std::slice::from_ref(&p),
            &mut facts,
            &mut f,
        );
        assert!(f.is_empty());
        assert_eq!(facts.builders, ["https://mlprov.dev/builder/local"]);
        let closed = w.policy("builders.allow = [\"https://ci.example/builder\"]\n");
        let rules = closed.context(None, "artifact", &[]);
        check(&node_in(&g, &rules, &closed), &[p], &mut facts, &mut f);
        assert_eq!(codes(&f), ["E0405"]);
    }
}
