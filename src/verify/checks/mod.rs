//! The checks: each rule of verification is one file with one `check`
//! over a node (in one context) and the policy, pushing findings. The walk
//! ([`super::walk`]) gathers what a node needs and calls [`judge`], which
//! runs the per-node checks in a fixed order; the graph checks (cycles,
//! depth, Rego with the node's depth and path) run once the graph is
//! complete.
//!
//! | file | rule | codes |
//! |---|---|---|
//! | [`signature`] | every bundle's signature, and whether its signer is trusted for the node | `E0105`–`E0106`, `E0201`–`E0221`, `E0302` |
//! | [`subject`] | a trusted statement is about this artifact | `E0203` |
//! | [`files`] | the bytes at hand against the signed manifest or digest | `E0101`–`E0104` |
//! | [`required`] | the required predicate types are proven | `E0301`, `E0603` |
//! | [`revocation`] | the digest is not revoked | `E0404` |
//! | [`builders`] | the provenance was made by an allowed builder | `E0213`, `E0405` |
//! | [`license`] | the declared licenses pass `licenses.allow` | `E0401` |
//! | [`scan`] | the scan (bytes or attestation) passes `formats` | `E0402` |
//! | [`pinned`] | the node's own provenance names immutable revisions | `E0403` |
//! | [`rego`] | Rego deny rules | `E0406`, `E0407` |
//! | [`reach`] | dependencies have a digest and a reachable location | `E0603`, `E0604` |
//! | [`cycle`] | no artifact descends from itself | `E0601` |
//! | [`depth`] | the graph is no deeper than `--max-depth` | `E0602` |

pub mod builders;
pub mod cycle;
pub mod depth;
pub mod files;
pub mod license;
pub mod pinned;
pub mod reach;
pub mod rego;
pub mod required;
pub mod revocation;
pub mod scan;
pub mod signature;
pub mod subject;

use crate::digest::Sha256Digest;
use crate::intoto::{PREDICATE_SLSA_PROVENANCE, Provenance};
use crate::scan::ScanReport;
use crate::verify::code::Code;
use crate::verify::model::{Dep, NodeKind, ScanCheck, dep_key};
use crate::verify::node::{Attestation, Finding, Gathered, NodeVerdict, Status};
use crate::verify::policy::{ContextRules, VerifyPolicy};

/// Stands for the node's input name in a finding's `help:` line. The checks
/// judge a node without its names (a shared input has several); the walk
/// fills in the name the graph shows it under.
pub const INPUT_NAME: &str = "{input}";

/// One node in one context, as the checks see it.
pub struct Node<'a> {
    pub id: &'a str,
    pub kind: NodeKind,
    pub digest: Option<Sha256Digest>,
    pub manifest_digest: Option<Sha256Digest>,
    pub name: Option<&'a str>,
    pub uri: Option<&'a str>,
    /// The root of the graph (depth 0).
    pub is_root: bool,
    pub gathered: &'a Gathered,
    pub rules: &'a ContextRules<'a>,
    pub policy: &'a VerifyPolicy,
    /// The bytes at hand, scanned again, when the scan check wants them
    /// (see [`scan::wants_bytes`]).
    pub rescan: Option<&'a Result<ScanReport, String>>,
}

impl Node<'_> {
    /// A finding about this node.
    pub fn finding(&self, code: Code, message: impl Into<String>) -> Finding {
        Finding::new(code, self.digest, message)
    }
}

/// What a node proved in one context, besides the verdict.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Licenses declared by verified attestations.
    pub licenses: Vec<String>,
    /// Builder ids of verified provenance.
    pub builders: Vec<String>,
    /// A verified provenance was an import.
    pub imported: bool,
    pub scan: Option<ScanCheck>,
}

/// The outcome of the per-node checks in one context.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub verdict: NodeVerdict,
    pub findings: Vec<Finding>,
    pub facts: Facts,
    /// The dependencies named by the node's verified (non-import)
    /// provenance that can be walked (a digest or a git commit), in a
    /// canonical order.
    pub deps: Vec<Dep>,
}

/// Run the per-node checks, in order, on one context of a node. The result
/// depends only on what was gathered, the context and the policy.
pub fn judge(node: &Node<'_>) -> Judgement {
    let mut findings = Vec::new();
    let mut facts = Facts::default();
    if node.kind == NodeKind::GitCommit {
        required::check_git(node, &mut findings);
        return Judgement {
            verdict: NodeVerdict {
                name: node.name.map(str::to_string),
                digest: None,
                path: None,
                files: None,
                attestations: Vec::new(),
                proven: Default::default(),
                required: Vec::new(),
            },
            findings,
            facts,
            deps: Vec::new(),
        };
    }
    let mut atts = signature::check(node, &mut findings);
    subject::check(node, &mut atts, &mut findings);
    let files = files::check(node, &atts, &mut findings);
    let proven = required::check(node, &atts, &mut findings);
    revocation::check(node, &mut findings);
    let provenance = provenance_of(node, &atts, &mut findings);
    builders::check(node, &provenance, &mut facts, &mut findings);
    license::check(node, &atts, &provenance, &mut facts, &mut findings);
    scan::check(node, &atts, &mut facts, &mut findings);
    pinned::check(node, &atts, &provenance, &mut findings);

    let mut deps: Vec<Dep> = provenance
        .iter()
        .flat_map(crate::provenance::inputs)
        .collect();
    deps.sort_by(|a, b| dep_key(a).cmp(&dep_key(b)));
    deps.dedup();
    reach::check_dependencies(node.digest, &deps, &mut findings);
    deps.retain(|d| d.digest.is_some() || d.git_commit.is_some());

    let verdict = NodeVerdict {
        name: node
            .name
            .map(str::to_string)
            .or_else(|| node.gathered.name.clone()),
        digest: node.digest,
        path: node.gathered.bytes.as_ref().map(|b| b.path.clone()),
        files,
        attestations: atts,
        proven,
        required: node.rules.require.clone(),
    };
    Judgement {
        verdict,
        findings,
        facts,
        deps,
    }
}

/// The verified SLSA provenance predicates; one that cannot be read is an
/// `E0213` finding.
fn provenance_of(
    node: &Node<'_>,
    atts: &[Attestation],
    findings: &mut Vec<Finding>,
) -> Vec<Provenance> {
    let mut out = Vec::new();
    for a in atts.iter().filter(|a| a.status == Status::Verified) {
        let Some(st) = a
            .statement
            .as_ref()
            .filter(|s| s.predicate_type == PREDICATE_SLSA_PROVENANCE)
        else {
            continue;
        };
        match serde_json::from_value::<Provenance>(st.predicate.clone()) {
            Ok(p) => out.push(p),
            Err(e) => findings.push(Finding {
                source: Some(a.source.clone()),
                ..node.finding(
                    Code::MalformedStatement,
                    format!("the SLSA provenance predicate cannot be read: {e}"),
                )
            }),
        }
    }
    out
}

/// Push `s` onto `v` unless it is there.
pub(crate) fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

#[cfg(test)]
pub(crate) mod testing;
