//! Depth: a node at depth `--max-depth` whose provenance names inputs that
//! are not reached by a shorter path fails (`E0602`): the walk never stops
//! silently. So the root fails exactly when some node's shortest distance
//! from it exceeds `--max-depth`.

use crate::digest::Sha256Digest;
use crate::verify::code::Code;
use crate::verify::node::Finding;

/// `beyond`: how many of the node's dependencies are deeper than
/// `max_depth` (reached by no shorter path).
pub fn check(
    node: Option<Sha256Digest>,
    depth: u32,
    beyond: usize,
    max_depth: u32,
    findings: &mut Vec<Finding>,
) {
    if beyond == 0 {
        return;
    }
    findings.push(Finding::new(
        Code::MaxDepth,
        node,
        format!(
            "{beyond} dependenc{} at depth {} not verified: the graph is deeper than --max-depth {max_depth}",
            if beyond == 1 { "y" } else { "ies" },
            depth + 1,
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeper_than_allowed() {
        let mut f = Vec::new();
        check(None, 2, 0, 2, &mut f);
        assert!(f.is_empty());
        check(None, 2, 3, 2, &mut f);
        assert_eq!(f[0].code, Code::MaxDepth);
        assert_eq!(
            f[0].message,
            "3 dependencies at depth 3 not verified: the graph is deeper than --max-depth 2"
        );
    }
}
