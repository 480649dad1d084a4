//! Pinned revisions (`require-pinned-revisions = true`): the node's own
//! verified provenance must name immutable revisions, wherever the node
//! sits in the graph (`E0403` on that node):
//!
//! - an import provenance records the revision it fetched: for a Hugging
//!   Face source (`hf:`, `hf-dataset:`) the `commit` and the `uri` must be
//!   a 40-hex commit, for an `oci:` source the `uri` must name a manifest
//!   digest;
//! - a build provenance's `resolvedDependencies` must name immutable
//!   revisions: `hf://…@<40-hex commit>`, `oci://…@sha256:<64 hex>`, a git
//!   dependency by its full commit.
//!
//! `file:` and URL inputs are immutable by their digest.

use crate::intoto::{BUILD_TYPE_IMPORT, Provenance};
use crate::model::{ResourceUri, is_commit};
use crate::verify::checks::Node;
use crate::verify::code::Code;
use crate::verify::node::{Attestation, Finding};

/// A git commit id: SHA-1 (40 hex) or SHA-256 (64 hex).
fn is_git_commit(s: &str) -> bool {
    is_commit(s) || (s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// Why a resource URI does not name an immutable revision, if it does not.
pub fn unpinned(uri: &ResourceUri) -> Option<String> {
    let pinned = match uri {
        ResourceUri::Git { commit, .. } => is_git_commit(commit),
        u => u.pinned()?,
    };
    (!pinned).then(|| match uri.revision().as_deref() {
        None | Some("") => "no revision".to_string(),
        Some(r) => format!("revision `{r}`"),
    })
}

pub fn check(
    node: &Node<'_>,
    _atts: &[Attestation],
    provenance: &[Provenance],
    findings: &mut Vec<Finding>,
) {
    if !node.policy.require_pinned_revisions {
        return;
    }
    let mut add = |message: String| {
        let f = node.finding(Code::UnpinnedRevision, message);
        if !findings.contains(&f) {
            findings.push(f);
        }
    };
    for p in provenance {
        if p.build_definition.build_type == BUILD_TYPE_IMPORT {
            let Some(ext) = crate::provenance::import_parameters(p) else {
                add("its import provenance does not say which revision it fetched (its parameters cannot be read): require-pinned-revisions needs an immutable revision".into());
                continue;
            };
            if ext.source.hf_repo().is_some() {
                let commit = ext.commit.as_deref().unwrap_or("");
                if !is_commit(commit) {
                    add(format!(
                        "its import provenance records {} at {}, not a 40-hex commit: require-pinned-revisions needs an immutable revision (re-import it after `mlprov pin`, which records the commit)",
                        ext.source,
                        if commit.is_empty() {
                            "no commit".to_string()
                        } else {
                            format!("`{commit}`")
                        }
                    ));
                    continue;
                }
            }
            if let Some(why) = unpinned(&ext.uri) {
                add(format!(
                    "its import provenance records {} ({why}): require-pinned-revisions needs an immutable revision",
                    ext.uri
                ));
            }
            continue;
        }
        for d in crate::provenance::inputs(p) {
            let what = d.name.as_deref().unwrap_or("a dependency");
            if let Some(c) = &d.git_commit
                && !is_git_commit(c)
            {
                add(format!(
                    "its provenance names {what} at git commit `{c}`, not a full commit id: require-pinned-revisions needs an immutable revision"
                ));
            }
            if let Some(uri) = &d.uri
                && let Some(why) = unpinned(uri)
            {
                add(format!(
                    "its provenance names {what} at {uri}, which is not pinned ({why}): require-pinned-revisions needs a 40-hex commit or a digest"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::checks::testing::*;
    use crate::verify::checks::{provenance_of, signature};

    #[test]
    fn uris() {
        let unpinned = |u: &str| unpinned(&ResourceUri::parse(u));
        let c = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(unpinned(&format!("hf://a/b@{c}")), None);
        assert_eq!(
            unpinned("hf://a/b@main").as_deref(),
            Some("revision `main`")
        );
        assert_eq!(unpinned("hf://a/b").as_deref(), Some("no revision"));
        assert_eq!(
            unpinned(&format!("oci://r/x@sha256:{}", "a".repeat(64))),
            None
        );
        // An oci URI without a manifest digest is no registry location.
        assert_eq!(unpinned("oci://r/x:1"), None);
        assert_eq!(unpinned(&format!("git+https://x/y@{c}")), None);
        assert!(unpinned("git+https://x/y@main").is_some());
        assert_eq!(unpinned("file:data/"), None);
        assert_eq!(unpinned("https://example.com/x"), None);
    }

    fn run(policy: &str, st: &crate::intoto::Statement) -> Vec<Finding> {
        let w = World::new();
        let d = digest("a");
        let b = w.bundle(&w.platform, st);
        let g = gathered(d, vec![found(&b)]);
        let policy = w.policy(policy);
        let rules = policy.context(None, "artifact", &[]);
        let node = node_in(&g, &rules, &policy);
        let mut f = Vec::new();
        let atts = signature::check(&node, &mut f);
        let prov = provenance_of(&node, &atts, &mut f);
        check(&node, &atts, &prov, &mut f);
        f
    }

    #[test]
    fn the_nodes_own_import_provenance() {
        let d = digest("a");
        let at_main = import_provenance(&d, "hf:meta-llama/Llama-3", "main", None);
        let f = run("require-pinned-revisions = true\n", &at_main);
        assert_eq!(codes(&f), ["E0403"]);
        assert!(f[0].message.contains("`main`"), "{}", f[0].message);
        assert!(run("", &at_main).is_empty());
        let pinned = import_provenance(&d, "hf:meta-llama/Llama-3", &"a".repeat(40), None);
        assert!(run("require-pinned-revisions = true\n", &pinned).is_empty());
    }

    #[test]
    fn the_nodes_own_build_provenance() {
        let d = digest("a");
        let tok = dep(
            "tokenizer",
            &digest("t"),
            "config",
            Some("hf://acme/tokenizer@main"),
        );
        let git = git_dep("training-code", "main");
        let st = provenance(&d, &[tok, git]);
        let f = run("require-pinned-revisions = true\n", &st);
        assert_eq!(codes(&f), ["E0403", "E0403"]);
        assert!(
            f.iter()
                .any(|x| x.message.contains("tokenizer at hf://acme/tokenizer@main"))
        );
    }
}
