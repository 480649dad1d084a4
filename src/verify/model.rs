//! The verified provenance graph: its nodes, edges and what the walk knows
//! about each dependency. The walk ([`super::walk`]) builds it, the checks
//! ([`super::checks`]) fill in findings, and the reports render it.

use std::collections::{BTreeMap, BTreeSet};

use crate::digest::Sha256Digest;
use crate::model::ResourceUri;
use crate::provenance::InputRef;
use crate::verify::node::{Finding, LocalBytes, NodeVerdict, RawBundle};

/// The default `--max-depth`.
pub const DEFAULT_MAX_DEPTH: u32 = 16;

/// The role name the root is reported under.
pub const ROOT_ROLE: &str = "artifact";

/// Where Rego deny rules run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegoScope {
    /// Every node of the graph.
    #[default]
    Graph,
    /// The verified artifact only.
    Root,
}

/// A registry location of a dependency, resolved.
#[derive(Debug, Clone)]
pub struct Located {
    /// The artifact (OMS root) digest the manifest's layers make.
    pub artifact: Sha256Digest,
    pub manifest: Sha256Digest,
    /// The bundles attached to the manifest (referrers).
    pub bundles: Vec<RawBundle>,
    /// `registry/repo@sha256:…`, for reports.
    pub location: String,
    /// The files the manifest's layers name (paths, sizes, digests).
    pub files: Vec<crate::digest::FileEntry>,
}

/// Why a registry location gave no bundles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocateError {
    /// Not reached: the registry is down, refuses these credentials, or
    /// verification is `--offline`. What it could have added is unknown.
    Unreachable(String),
    /// Reached, and its answer contradicts the dependency: other bytes for
    /// a pinned digest, a manifest whose layers make another artifact.
    Contradicts(String),
}

impl std::fmt::Display for LocateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LocateError::Unreachable(m) | LocateError::Contradicts(m) => f.write_str(m),
        }
    }
}

/// Resolves registry locations (`oci://` URIs).
pub trait Locator {
    /// `None` when the URI is not a registry location this locator handles.
    /// The located manifest's layers must make `digest` (the node's
    /// artifact digest).
    fn locate(
        &self,
        uri: &ResourceUri,
        digest: &Sha256Digest,
    ) -> Option<Result<Located, LocateError>>;
}

/// No registry access: `oci://` dependencies cannot be reached.
pub struct NoRegistry;

impl Locator for NoRegistry {
    fn locate(&self, uri: &ResourceUri, _: &Sha256Digest) -> Option<Result<Located, LocateError>> {
        matches!(uri, ResourceUri::Oci { .. }).then(|| {
            Err(LocateError::Unreachable(
                "registry access is not available for this verification".to_string(),
            ))
        })
    }
}

/// The root of the walk.
#[derive(Debug, Clone, Default)]
pub struct Root {
    pub name: Option<String>,
    pub expected: Option<Sha256Digest>,
    pub bytes: Option<LocalBytes>,
    /// Bundles given explicitly (they must all verify).
    pub bundles: Vec<RawBundle>,
    /// Bundles found for the root outside the lookup (registry referrers):
    /// like the store's, one from a signer not trusted here is ignored.
    pub found: Vec<RawBundle>,
    /// Predicate types required beyond `[policy.artifact]` (the command
    /// line's `--require`, the OMS signature for a path).
    pub require: Vec<String>,
    pub uri: Option<String>,
    /// The root's manifest digest when it lives in a registry.
    pub manifest: Option<Sha256Digest>,
    /// What the root's location says it is (`oci:registry/repo`), for node
    /// rules that select by `source`.
    pub source: Option<String>,
    /// The files a registry manifest lists for the root, when its bytes are
    /// not at hand: checked against the signed file list as bytes would be
    /// (a layer renamed in the registry fails `verify REF` as it fails
    /// `pull`).
    pub listed: Option<crate::sign::oms::HashedModel>,
}

/// What kind of node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    /// An artifact identified by its sha256 artifact digest.
    Artifact,
    /// Source code identified by a git commit (recorded, not looked up).
    GitCommit,
}

/// How the formats policy was applied to a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanCheck {
    /// The bytes were scanned again.
    Rescanned { files: usize },
    /// The verified scan attestation's findings were re-evaluated.
    Attested { files: usize },
}

/// One node of the verified graph.
#[derive(Debug, Clone)]
pub struct GraphNode {
    /// `sha256:…` or `git:<commit>`.
    pub id: String,
    pub kind: NodeKind,
    pub digest: Option<Sha256Digest>,
    pub manifest_digest: Option<Sha256Digest>,
    pub git_commit: Option<String>,
    pub name: Option<String>,
    pub uri: Option<String>,
    /// `artifact` for the root, else the roles it was reached under (sorted).
    pub roles: Vec<String>,
    /// The shortest distance from the root.
    pub depth: u32,
    pub optional: bool,
    /// Whether a failure here fails the root (false when only optional
    /// nodes lead here).
    pub required_for_root: bool,
    pub location: Option<String>,
    /// The verdict under the node's first context (its first role, in
    /// order): the attestations, what they proved and what was required.
    pub verdict: Option<NodeVerdict>,
    /// Every finding about this node, under every role it was reached as.
    pub findings: Vec<Finding>,
    pub scan: Option<ScanCheck>,
    /// Licenses read from verified attestations.
    pub licenses: Vec<String>,
    /// Builder ids of verified provenance.
    pub builders: Vec<String>,
    /// Whether a verified provenance was an import.
    pub imported: bool,
}

impl GraphNode {
    pub fn verified(&self) -> bool {
        self.findings.is_empty()
            && match self.kind {
                NodeKind::Artifact => self.digest.is_some(),
                NodeKind::GitCommit => true,
            }
    }

    /// Predicate types proven for this node.
    pub fn proven(&self) -> BTreeSet<String> {
        self.verdict
            .as_ref()
            .map(|v| v.proven.clone())
            .unwrap_or_default()
    }
}

/// A `resolvedDependencies` edge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub name: Option<String>,
    pub role: String,
    pub uri: Option<String>,
    /// The edge closes a cycle: it leads back to a node that reaches its
    /// source, no deeper than the source.
    pub cycle: bool,
}

/// The verified graph.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Breadth first from the root; a node's children in the order of the
    /// edges that name them.
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<Edge>,
    pub max_depth: u32,
    /// Node id → index in `nodes`.
    by_id: BTreeMap<String, usize>,
    /// Node id → indices in `edges` of its outgoing edges.
    out_edges: BTreeMap<String, Vec<usize>>,
}

impl Graph {
    /// A graph of `nodes` (the root first) and `edges` between them.
    pub fn new(nodes: Vec<GraphNode>, edges: Vec<Edge>, max_depth: u32) -> Self {
        let by_id = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        let mut out_edges: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, e) in edges.iter().enumerate() {
            out_edges.entry(e.from.clone()).or_default().push(i);
        }
        Self {
            nodes,
            edges,
            max_depth,
            by_id,
            out_edges,
        }
    }

    pub fn root(&self) -> &GraphNode {
        &self.nodes[0]
    }

    /// The root is verified: every node that counts for it verified.
    pub fn verified(&self) -> bool {
        !self.nodes.is_empty()
            && self
                .nodes
                .iter()
                .all(|n| n.verified() || !n.required_for_root)
    }

    pub fn node(&self, id: &str) -> Option<&GraphNode> {
        self.by_id.get(id).map(|&i| &self.nodes[i])
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Every finding, node by node.
    pub fn findings(&self) -> impl Iterator<Item = (&GraphNode, &Finding)> {
        self.nodes
            .iter()
            .flat_map(|n| n.findings.iter().map(move |f| (n, f)))
    }

    /// Children of a node, in the order their parent names them.
    pub fn children<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Edge> + 'a {
        self.out_edges
            .get(id)
            .into_iter()
            .flatten()
            .map(|&i| &self.edges[i])
    }
}

/// A dependency named by a verified provenance: one of its inputs.
pub type Dep = InputRef;

/// A sort key for dependencies that does not depend on the order the
/// provenance lists them in.
pub(crate) fn dep_key(
    d: &Dep,
) -> (
    Option<String>,
    Option<&str>,
    Option<&str>,
    &str,
    Option<String>,
) {
    (
        d.digest.map(|d| d.hex()),
        d.git_commit.as_deref(),
        d.name.as_deref(),
        d.role_name.as_str(),
        d.uri.as_ref().map(ResourceUri::to_string),
    )
}

/// `sha256:` and the first 12 hex digits, for messages.
pub(crate) fn short(id: &str) -> String {
    match id.strip_prefix("sha256:") {
        Some(h) => format!("sha256:{}", h.chars().take(12).collect::<String>()),
        None => id.to_string(),
    }
}

/// What a dependency URI says about where the artifact comes from, in the
/// words of the lock's `source` (`hf:org/name`, `hf-dataset:org/name`,
/// `oci:registry/repo`, `path:dir/`, `url:https://…`), for node rules that
/// select by `source`. `None` for a git commit or an unknown scheme.
pub fn source_of_uri(uri: &ResourceUri) -> Option<String> {
    Some(match uri {
        ResourceUri::Hf { repo, .. } => format!("hf:{repo}"),
        ResourceUri::HfDataset { repo, .. } => format!("hf-dataset:{repo}"),
        ResourceUri::Oci { registry, repo, .. } => format!("oci:{registry}/{repo}"),
        ResourceUri::File(p) => format!("path:{p}"),
        ResourceUri::Url(u) => format!("url:{u}"),
        ResourceUri::Git { .. } | ResourceUri::Other(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_of_uris() {
        let c = "a".repeat(40);
        let source_of_uri = |u: &str| source_of_uri(&ResourceUri::parse(u));
        assert_eq!(
            source_of_uri(&format!("hf://meta-llama/Llama-3@{c}")).as_deref(),
            Some("hf:meta-llama/Llama-3")
        );
        assert_eq!(
            source_of_uri(&format!("hf://datasets/acme/evals@{c}")).as_deref(),
            Some("hf-dataset:acme/evals")
        );
        assert_eq!(
            source_of_uri(&format!(
                "oci://127.0.0.1:5000/acme/a@sha256:{}",
                "0".repeat(64)
            ))
            .as_deref(),
            Some("oci:127.0.0.1:5000/acme/a")
        );
        assert_eq!(source_of_uri("file:data/").as_deref(), Some("path:data/"));
        assert_eq!(
            source_of_uri("https://example.com/tok.json").as_deref(),
            Some("url:https://example.com/tok.json")
        );
        assert_eq!(source_of_uri("git+https://x/y@abc"), None);
    }
}
