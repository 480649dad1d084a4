//! The provenance-graph walk (DESIGN.md "Verification").
//!
//! The root is verified like any node ([`verify_node`]); then every
//! `resolvedDependencies` entry of its verified SLSA provenance is a node,
//! identified by its artifact digest and verified under the policy for its
//! `annotations.role`, and so on recursively:
//!
//! - a node is verified once, however many parents name it (a DAG shares
//!   inputs); a node reached under a second role is checked under that
//!   role's rules too;
//! - a dependency that is its own ancestor is a cycle (`E0601`), and a
//!   node deeper than `--max-depth` that still has dependencies fails
//!   (`E0602`): the walk never stops silently;
//! - a node is identified by its artifact digest wherever its bundles come
//!   from: the local store, sidecar files, and the registry when the node
//!   has a registry location (an `oci://…@sha256:<manifest>` dependency URI:
//!   the manifest's layers must make the node's digest, and its referrers
//!   carry bundles). A registry whose answer contradicts the dependency
//!   fails the node (`E0604`); one that cannot be reached (or `--offline`)
//!   fails it only when the node is not verified without it, so the same
//!   store gives the same verdict online and offline;
//! - fail closed: an attestation that cannot be fetched, parsed or
//!   verified fails its node, and the root fails when any node fails,
//!   except nodes whose role the policy marks `optional = true` (and what
//!   is reached only through them);
//! - policy per node: required predicate types and trusted signers for the
//!   role, revocations, licenses, the scan verdict under `formats`
//!   (re-scanning the bytes when they are at hand), pinned revisions,
//!   allowed builders, and Rego deny rules.
//!
//! Import provenance (`https://mlprov.dev/build/import/v1`) lists the files
//! fetched from the origin, not inputs with attestations: its node is a
//! leaf. A dependency identified only by a git commit (the training code)
//! is recorded, not looked up: nothing is filed by git commit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::digest::Sha256Digest;
use crate::intoto::{
    BUILD_TYPE_IMPORT, PREDICATE_CYCLONEDX, PREDICATE_OMS, PREDICATE_SCAN,
    PREDICATE_SLSA_PROVENANCE, PREDICATE_SPDX3, Provenance, Statement,
};
use crate::model::ResourceUri;
use crate::provenance::{self, InputRef};
use crate::reporter::Reporter;
use crate::scan::{self, Kind, PredicateFile, ScanPolicy, ScanPredicate};
use crate::sign::trust::Signer;
use crate::verify::code::Code;
use crate::verify::node::{
    BundleLookup, Finding, LocalBytes, Lookups, NodeRequest, NodeVerdict, RawBundle, Status,
    verify_node,
};
use crate::verify::policy::VerifyPolicy;
use crate::verify::{rego, report};

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
    /// The files the manifest's layers name.
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

/// Settings of one walk.
pub struct Settings<'a> {
    pub policy: &'a VerifyPolicy,
    pub max_depth: u32,
    pub lookup: &'a dyn BundleLookup,
    pub locator: &'a dyn Locator,
    pub reporter: &'a dyn Reporter,
    /// The project the root was built in: the root's `file:` dependencies
    /// are its bytes at hand (re-hashed and re-scanned).
    pub project_root: Option<PathBuf>,
    pub rego_scope: RegoScope,
}

/// The root of the walk.
pub struct Root {
    pub name: Option<String>,
    pub expected: Option<Sha256Digest>,
    pub bytes: Option<LocalBytes>,
    /// Bundles given explicitly (they must all verify).
    pub bundles: Vec<RawBundle>,
    /// Bundles found for the root outside the lookup (registry referrers).
    pub found: Vec<RawBundle>,
    /// Predicate types required beyond `[policy.artifact]` (the command
    /// line's `--require`, the OMS signature for a path).
    pub require: Vec<String>,
    pub uri: Option<String>,
    /// The root's manifest digest when it lives in a registry.
    pub manifest: Option<Sha256Digest>,
    /// The files its registry manifest lists (see [`NodeRequest::listed`]).
    pub listed: Option<Vec<crate::digest::FileEntry>>,
}

/// What kind of node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// `artifact` for the root, else the roles it was reached under.
    pub roles: Vec<String>,
    /// The shortest distance from the root.
    pub depth: u32,
    pub optional: bool,
    /// Whether a failure here fails the root (false when only optional
    /// nodes lead here).
    pub required_for_root: bool,
    pub location: Option<String>,
    pub verdict: Option<NodeVerdict>,
    /// Every finding about this node (the verdict's and the policy's).
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub name: Option<String>,
    pub role: String,
    pub uri: Option<String>,
    /// The edge closes a cycle.
    pub cycle: bool,
}

/// The verified graph.
#[derive(Debug, Clone)]
pub struct Graph {
    /// In the order first reached (the root first).
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<Edge>,
    pub max_depth: u32,
    /// Node id → index in `nodes`.
    by_id: BTreeMap<String, usize>,
    /// Node id → indices in `edges` of its outgoing edges.
    out_edges: BTreeMap<String, Vec<usize>>,
}

impl Graph {
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

/// A dependency to visit: one input of a verified provenance.
type Dep = InputRef;

struct Walker<'a> {
    s: &'a Settings<'a>,
    nodes: Vec<GraphNode>,
    index: BTreeMap<String, usize>,
    /// Roles each node was checked under.
    checked: BTreeMap<String, BTreeSet<String>>,
    edges: Vec<Edge>,
    path: Vec<String>,
    /// Verified dependencies per node, for the walk.
    deps: BTreeMap<String, Vec<Dep>>,
}

/// Walk and verify the graph from `root`.
pub fn verify_graph(root: Root, s: &Settings<'_>) -> Graph {
    let mut w = Walker {
        s,
        nodes: Vec::new(),
        index: BTreeMap::new(),
        checked: BTreeMap::new(),
        edges: Vec::new(),
        path: Vec::new(),
        deps: BTreeMap::new(),
    };
    let id = w.visit_root(root);
    w.walk_children(&id, 0);
    let by_id = w.index;
    let mut out_edges: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, e) in w.edges.iter().enumerate() {
        out_edges.entry(e.from.clone()).or_default().push(i);
    }
    let mut g = Graph {
        nodes: w.nodes,
        edges: w.edges,
        max_depth: s.max_depth,
        by_id,
        out_edges,
    };
    mark_required(&mut g);
    g
}

/// A node counts for the root when a path of non-optional nodes leads to it.
fn mark_required(g: &mut Graph) {
    let mut required = vec![false; g.nodes.len()];
    let mut stack = vec![0usize];
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut required[i], true) {
            continue;
        }
        for e in g.children(&g.nodes[i].id) {
            if let Some(&c) = g.by_id.get(&e.to)
                && !g.nodes[c].optional
                && !required[c]
            {
                stack.push(c);
            }
        }
    }
    for (n, r) in g.nodes.iter_mut().zip(required) {
        n.required_for_root = r;
    }
}

impl<'a> Walker<'a> {
    fn visit_root(&mut self, root: Root) -> String {
        let rules = &self.s.policy.root;
        let mut require = rules.require.clone();
        for r in &root.require {
            if !require.contains(r) {
                require.push(r.clone());
            }
        }
        let fixed = FixedBundles(root.found.clone());
        let lookups = Lookups(vec![self.s.lookup, &fixed]);
        let verdict = verify_node(
            NodeRequest {
                name: root.name.clone(),
                expected: root.expected,
                bytes: root.bytes.clone(),
                listed: root.listed.clone(),
                bundles: root.bundles.clone(),
                require,
                trust: &rules.trust,
            },
            &lookups,
            self.s.reporter,
        );
        let id = verdict
            .digest
            .map(|d| d.prefixed())
            .unwrap_or_else(|| "(unidentified)".to_string());
        let mut node = GraphNode {
            id: id.clone(),
            kind: NodeKind::Artifact,
            digest: verdict.digest,
            manifest_digest: root.manifest,
            git_commit: None,
            name: verdict.name.clone(),
            uri: root.uri.clone(),
            roles: vec![ROOT_ROLE.to_string()],
            depth: 0,
            optional: false,
            required_for_root: true,
            location: root
                .bytes
                .as_ref()
                .map(|b| b.path.display().to_string())
                .or(root.uri.clone()),
            verdict: None,
            findings: Vec::new(),
            scan: None,
            licenses: Vec::new(),
            builders: Vec::new(),
            imported: false,
        };
        let deps = self.apply_policy(&mut node, verdict, ROOT_ROLE, root.bytes.as_ref());
        self.deps.insert(id.clone(), deps);
        self.checked
            .entry(id.clone())
            .or_default()
            .insert(ROOT_ROLE.to_string());
        self.index.insert(id.clone(), 0);
        self.nodes.push(node);
        id
    }

    fn walk_children(&mut self, id: &str, depth: u32) {
        let deps = self.deps.remove(id).unwrap_or_default();
        if deps.is_empty() {
            return;
        }
        self.path.push(id.to_string());
        if depth >= self.s.max_depth {
            let n = deps.len();
            let node = &mut self.nodes[self.index[id]];
            node.findings.push(Finding {
                code: Code::MaxDepth,
                node: node.digest,
                file: None,
                source: None,
                message: format!(
                    "{n} dependenc{} at depth {} not verified: the graph is deeper than --max-depth {}",
                    if n == 1 { "y" } else { "ies" },
                    depth + 1,
                    self.s.max_depth
                ),
            });
            self.path.pop();
            return;
        }
        for dep in deps {
            self.visit_dep(id, dep, depth + 1);
        }
        self.path.pop();
    }

    fn visit_dep(&mut self, parent: &str, dep: Dep, depth: u32) {
        // Which node is it?
        let (id, kind) = match (&dep.digest, &dep.git_commit) {
            (Some(d), _) => (d.prefixed(), NodeKind::Artifact),
            (None, Some(c)) => (format!("git:{c}"), NodeKind::GitCommit),
            (None, None) => {
                let p = &mut self.nodes[self.index[parent]];
                p.findings.push(Finding {
                    code: Code::UnresolvableDependency,
                    node: p.digest,
                    file: None,
                    source: None,
                    message: format!(
                        "dependency {} has no sha256 digest or git commit to verify it by",
                        dep.name
                            .clone()
                            .or(dep.uri.as_ref().map(ResourceUri::to_string))
                            .unwrap_or_else(|| "(unnamed)".to_string())
                    ),
                });
                return;
            }
        };
        // A registry location: where more bundles about the node may be.
        let mut located: Option<Result<Located, LocateError>> = None;
        if kind == NodeKind::Artifact
            && let (Some(uri), Some(d)) = (&dep.uri, &dep.digest)
        {
            located = self.s.locator.locate(uri, d);
        }
        let uri_text = dep.uri.as_ref().map(ResourceUri::to_string);

        let cycle = self.path.contains(&id);
        self.edges.push(Edge {
            from: parent.to_string(),
            to: id.clone(),
            name: dep.name.clone(),
            role: dep.role_name.clone(),
            uri: uri_text.clone(),
            cycle,
        });
        if cycle {
            let chain: Vec<String> = self
                .path
                .iter()
                .skip_while(|p| **p != id)
                .map(|p| self.display(p))
                .chain(std::iter::once(self.display(&id)))
                .collect();
            let p = &mut self.nodes[self.index[parent]];
            p.findings.push(Finding {
                code: Code::Cycle,
                node: p.digest,
                file: None,
                source: None,
                message: format!(
                    "its provenance names its own ancestor {}: {}",
                    dep.name.as_deref().unwrap_or(&id),
                    chain.join(" → ")
                ),
            });
            return;
        }

        if let Some(&i) = self.index.get(&id) {
            // Already verified: shared. Check a new role's rules too.
            if self.nodes[i].depth > depth {
                self.nodes[i].depth = depth;
            }
            self.edge_checks(i, &dep);
            let seen = self.checked.entry(id.clone()).or_default();
            if kind == NodeKind::Artifact && seen.insert(dep.role_name.clone()) {
                self.recheck(i, &dep, located);
            }
            return;
        }

        let rules = self.s.policy.rules(dep.role).clone();
        let mut node = GraphNode {
            id: id.clone(),
            kind,
            digest: None,
            manifest_digest: None,
            git_commit: dep.git_commit.clone(),
            name: dep.name.clone(),
            uri: uri_text.clone(),
            roles: vec![dep.role_name.clone()],
            depth,
            optional: rules.optional,
            required_for_root: true,
            location: None,
            verdict: None,
            findings: Vec::new(),
            scan: None,
            licenses: Vec::new(),
            builders: Vec::new(),
            imported: false,
        };
        let mut deps = Vec::new();
        match kind {
            NodeKind::GitCommit => {
                if !rules.require.is_empty() && rules.require_explicit {
                    node.findings.push(Finding {
                        code: Code::UnresolvableDependency,
                        node: None,
                        file: None,
                        source: None,
                        message: format!(
                            "the policy for role {} requires {}, but a git commit carries no attestations mlprov can look up",
                            dep.role_name,
                            rules.require.join(", ")
                        ),
                    });
                }
            }
            NodeKind::Artifact => {
                let mut found = Vec::new();
                let mut listed = None;
                let mut unreachable = None;
                let mut contradicts = false;
                match located {
                    Some(Ok(l)) => {
                        node.manifest_digest = Some(l.manifest);
                        node.location = Some(l.location.clone());
                        found = l.bundles;
                        listed = Some(l.files);
                    }
                    Some(Err(e)) => {
                        if let Some(ResourceUri::Oci { manifest, .. }) = &dep.uri {
                            node.manifest_digest = Some(*manifest);
                        }
                        contradicts = matches!(e, LocateError::Contradicts(_));
                        unreachable = Some(Finding {
                            code: Code::UnreachableDependency,
                            node: dep.digest,
                            file: None,
                            source: uri_text.clone(),
                            message: format!(
                                "cannot reach {}: {e}",
                                uri_text.as_deref().unwrap_or("")
                            ),
                        });
                    }
                    None => {}
                }
                let bytes = self.bytes_at_hand(parent, &dep);
                if let Some(b) = &bytes {
                    node.location = Some(b.path.display().to_string());
                }
                let fixed = FixedBundles(found);
                let lookups = Lookups(vec![self.s.lookup, &fixed]);
                let verdict = verify_node(
                    NodeRequest {
                        name: dep.name.clone(),
                        expected: dep.digest,
                        bytes: bytes.clone(),
                        listed,
                        bundles: Vec::new(),
                        require: rules.require.clone(),
                        trust: &rules.trust,
                    },
                    &lookups,
                    self.s.reporter,
                );
                node.digest = verdict.digest;
                deps = self.apply_policy(&mut node, verdict, &dep.role_name, bytes.as_ref());
                // A registry that contradicts the provenance fails the node.
                // One that was not reached could only have added bundles:
                // that matters when the node is not verified without them.
                if let Some(f) = unreachable
                    && (contradicts || !node.findings.is_empty())
                {
                    node.findings.push(f);
                }
            }
        }
        let i = self.nodes.len();
        self.index.insert(id.clone(), i);
        self.checked
            .entry(id.clone())
            .or_default()
            .insert(dep.role_name.clone());
        self.nodes.push(node);
        self.edge_checks(i, &dep);
        if kind == NodeKind::Artifact {
            self.deps.insert(id.clone(), deps);
            self.walk_children(&id, depth);
        }
    }

    fn display(&self, id: &str) -> String {
        self.index
            .get(id)
            .and_then(|&i| self.nodes[i].name.clone())
            .unwrap_or_else(|| short(id))
    }

    /// A node reached again under another role: verify it under that
    /// role's rules as well (its dependencies were walked already).
    fn recheck(&mut self, i: usize, dep: &Dep, located: Option<Result<Located, LocateError>>) {
        let rules = self.s.policy.rules(dep.role).clone();
        let (found, listed) = match located {
            Some(Ok(l)) => (l.bundles, Some(l.files)),
            _ => (Vec::new(), None),
        };
        let fixed = FixedBundles(found);
        let lookups = Lookups(vec![self.s.lookup, &fixed]);
        let verdict = verify_node(
            NodeRequest {
                name: self.nodes[i].name.clone(),
                expected: self.nodes[i].digest,
                bytes: None,
                listed,
                bundles: Vec::new(),
                require: rules.require.clone(),
                trust: &rules.trust,
            },
            &lookups,
            self.s.reporter,
        );
        let mut extra = self.nodes[i].clone();
        extra.findings.clear();
        let _ = self.apply_policy(&mut extra, verdict, &dep.role_name, None);
        let node = &mut self.nodes[i];
        node.roles.push(dep.role_name.clone());
        node.optional &= rules.optional;
        for mut f in extra.findings {
            if !node.findings.contains(&f) {
                f.message = format!("as {}: {}", dep.role_name, f.message);
                node.findings.push(f);
            }
        }
    }

    /// Checks that belong to the edge: a pinned revision.
    fn edge_checks(&mut self, i: usize, dep: &Dep) {
        if !self.s.policy.require_pinned_revisions {
            return;
        }
        let Some(uri @ (ResourceUri::Hf { .. } | ResourceUri::HfDataset { .. })) = &dep.uri else {
            return;
        };
        let rev = uri.revision().unwrap_or_default();
        if uri.pinned() == Some(false) {
            let node = &mut self.nodes[i];
            let f = Finding {
                code: Code::UnpinnedRevision,
                node: node.digest,
                file: None,
                source: None,
                message: format!(
                    "{uri} is not pinned to a commit ({}): require-pinned-revisions needs a 40-hex commit",
                    if rev.is_empty() {
                        "no revision".to_string()
                    } else {
                        format!("revision `{rev}`")
                    }
                ),
            };
            if !node.findings.contains(&f) {
                node.findings.push(f);
            }
        }
    }

    /// The bytes of a `file:` dependency of the root, when the root was
    /// built in this project.
    fn bytes_at_hand(&self, parent: &str, dep: &Dep) -> Option<LocalBytes> {
        if self.index.get(parent) != Some(&0) {
            return None;
        }
        let root = self.s.project_root.as_ref()?;
        let rel = dep.uri.as_ref()?.file_path()?.trim_end_matches('/');
        if !crate::fsutil::is_safe_relative(rel) {
            return None;
        }
        let path = root.join(rel);
        path.exists().then(|| LocalBytes {
            path,
            settings: crate::digest::SetOptions::artifact(),
        })
    }

    /// Apply the policy to a verified node; returns its dependencies.
    fn apply_policy(
        &self,
        node: &mut GraphNode,
        verdict: NodeVerdict,
        role: &str,
        bytes: Option<&LocalBytes>,
    ) -> Vec<Dep> {
        let p = self.s.policy;
        // Findings already made (an unreachable registry location) stay.
        let mut findings = std::mem::take(&mut node.findings);
        findings.extend(verdict.findings.iter().cloned());
        let digest = verdict.digest;
        let add = |findings: &mut Vec<Finding>, code: Code, message: String| {
            findings.push(Finding {
                code,
                node: digest,
                file: None,
                source: None,
                message,
            });
        };

        // A required type signed only by signers not trusted for the role.
        for r in &verdict.required {
            if verdict.proven.contains(r) {
                continue;
            }
            let untrusted: Vec<String> = verdict
                .attestations
                .iter()
                .filter(|a| a.predicate_type.as_deref() == Some(r.as_str()))
                .filter_map(|a| match &a.status {
                    Status::Skipped(why) => Some(why.clone()),
                    _ => None,
                })
                .collect();
            // Only when nothing else is wrong: then the untrusted signer
            // is the reason, not a side note.
            let already = findings.iter().any(|f| f.code != Code::MissingAttestation);
            if let Some(why) = untrusted.first().filter(|_| !already) {
                findings.retain(|f| {
                    !(f.code == Code::MissingAttestation && f.message.contains(r.as_str()))
                });
                add(
                    &mut findings,
                    Code::UntrustedSigner,
                    format!("{r} is signed only by signers not trusted for role {role}: {why}"),
                );
            }
        }

        // Revocations: the artifact, its manifest, its git commit.
        for d in [digest, node.manifest_digest].into_iter().flatten() {
            if let Some(why) = p.revoked.get(&d) {
                add(
                    &mut findings,
                    Code::Revoked,
                    format!("{} is {why}", d.prefixed()),
                );
            }
        }

        let provenance: Vec<&Statement> = verdict.statements(PREDICATE_SLSA_PROVENANCE).collect();
        let mut deps = Vec::new();
        for st in &provenance {
            let prov: Provenance = match serde_json::from_value(st.predicate.clone()) {
                Ok(p) => p,
                Err(e) => {
                    add(
                        &mut findings,
                        Code::MalformedStatement,
                        format!("the SLSA provenance predicate cannot be read: {e}"),
                    );
                    continue;
                }
            };
            let builder = prov.run_details.builder.id.clone();
            if !node.builders.contains(&builder) {
                node.builders.push(builder.clone());
            }
            if !p.builders_allow.is_empty() && !p.builders_allow.contains(&builder) {
                add(
                    &mut findings,
                    Code::BuilderNotAllowed,
                    format!(
                        "built by {builder}, which is not in builders.allow ({})",
                        p.builders_allow.join(", ")
                    ),
                );
            }
            if prov.build_definition.build_type == BUILD_TYPE_IMPORT {
                node.imported = true;
                if let Some(l) = provenance::import_parameters(&prov).and_then(|p| p.license) {
                    push_unique(&mut node.licenses, &l);
                }
                continue;
            }
            deps.extend(provenance::inputs(&prov));
        }
        deps.sort_by(|a, b| {
            (
                a.name.as_deref(),
                a.digest.map(|d| d.hex()),
                a.uri.as_ref().map(ResourceUri::to_string),
            )
                .cmp(&(
                    b.name.as_deref(),
                    b.digest.map(|d| d.hex()),
                    b.uri.as_ref().map(ResourceUri::to_string),
                ))
        });
        deps.dedup_by(|a, b| {
            a.name == b.name
                && a.digest == b.digest
                && a.git_commit == b.git_commit
                && a.uri == b.uri
        });

        // Licenses from the SBOMs.
        for st in verdict.statements(PREDICATE_SPDX3) {
            for l in spdx_licenses(&st.predicate) {
                push_unique(&mut node.licenses, &l);
            }
        }
        for st in verdict.statements(PREDICATE_CYCLONEDX) {
            for l in cyclonedx_licenses(&st.predicate) {
                push_unique(&mut node.licenses, &l);
            }
        }
        if node.kind == NodeKind::Artifact {
            for v in crate::policy::license::check(&node.licenses, &p.licenses_allow) {
                let message = match v {
                    crate::policy::license::Violation::Missing => {
                        format!("{v}: no verified attestation of this node declares one")
                    }
                    v => v.to_string(),
                };
                add(&mut findings, Code::LicenseDenied, message);
            }
        }

        // The scan: the bytes again when at hand, and every verified scan
        // attestation re-evaluated under this policy.
        // The verified artifact's own bytes are scanned when the policy
        // has formats rules; an input's bytes at hand always are.
        let scan_bytes = node.depth > 0 || !p.scan.deny.is_empty() || !p.scan.allow.is_empty();
        if let Some(b) = bytes
            && scan_bytes
            && b.path.exists()
        {
            match scan::scan_path(&b.path, &scan::ScanOptions::default()) {
                Ok(report) => {
                    let v = report.verdict(&p.scan);
                    node.scan = Some(ScanCheck::Rescanned {
                        files: report.files.len(),
                    });
                    for x in &v.violations {
                        add(
                            &mut findings,
                            Code::ScanDenied,
                            format!("{}: {} (re-scanned)", x.file, x.reason),
                        );
                    }
                }
                Err(e) => add(&mut findings, Code::ScanDenied, format!("cannot scan: {e}")),
            }
        }
        for st in verdict.statements(PREDICATE_SCAN) {
            match serde_json::from_value::<ScanPredicate>(st.predicate.clone()) {
                Ok(pred) => {
                    if node.scan.is_none() {
                        node.scan = Some(ScanCheck::Attested {
                            files: pred.files.len(),
                        });
                    }
                    for m in reevaluate_scan(&pred, &p.scan) {
                        add(&mut findings, Code::ScanDenied, m);
                    }
                }
                Err(e) => add(
                    &mut findings,
                    Code::ScanDenied,
                    format!("the scan attestation cannot be read: {e}"),
                ),
            }
        }

        // Rego.
        if let Some(rego) = &p.rego
            && (self.s.rego_scope == RegoScope::Graph || node.depth == 0)
        {
            let input = self.rego_input(node, &verdict, role);
            match rego.evaluate(&input) {
                rego::Outcome::Denied(msgs) => {
                    for m in msgs {
                        add(&mut findings, Code::PolicyDenied, m);
                    }
                }
                rego::Outcome::Error(e) => add(
                    &mut findings,
                    Code::PolicyUnenforceable,
                    format!("Rego policy {}: {e}", rego.query),
                ),
            }
        }

        if node.name.is_none() {
            node.name = verdict.name.clone();
        }
        node.findings = findings;
        // The statements were read; keeping every parsed document (an SPDX
        // graph per node) would make memory grow with the graph's bytes.
        let mut verdict = verdict;
        for a in &mut verdict.attestations {
            a.statement = None;
        }
        node.verdict = Some(verdict);
        deps
    }

    /// The Rego input document for a node (see the README).
    fn rego_input(&self, node: &GraphNode, v: &NodeVerdict, role: &str) -> Value {
        let first = |t: &str| v.statements(t).next().map(|s| s.predicate.clone());
        let provenance = first(PREDICATE_SLSA_PROVENANCE);
        let cyclonedx = first(PREDICATE_CYCLONEDX);
        let spdx = first(PREDICATE_SPDX3);
        let scan = first(PREDICATE_SCAN);
        let verified: Vec<&crate::verify::node::Attestation> = v
            .attestations
            .iter()
            .filter(|a| matches!(a.status, Status::Verified))
            .collect();
        // Each signer once (a signer of three bundles is one signer).
        let mut signers: Vec<Value> = Vec::new();
        for s in verified.iter().filter_map(|a| a.signer.as_ref()) {
            let v = report::signer_json(s);
            if !signers.contains(&v) {
                signers.push(v);
            }
        }
        let mut attestation = Map::new();
        attestation.insert(
            "signature_verified".into(),
            json!(v.digest.is_some() && !verified.is_empty()),
        );
        attestation.insert("sbom_attached".into(), json!(cyclonedx.is_some()));
        attestation.insert("spdx_attached".into(), json!(spdx.is_some()));
        attestation.insert(
            "model_signature_verified".into(),
            json!(v.proven.contains(PREDICATE_OMS)),
        );
        // The certificate identity: a keyless signer's OIDC identity (and
        // issuer), else a certificate's subject.
        let signers_of = || verified.iter().filter_map(|a| a.signer.as_ref());
        if let Some(Signer::Keyless {
            identity, issuer, ..
        }) = signers_of().find(|s| matches!(s, Signer::Keyless { .. }))
        {
            attestation.insert("certificate_identity".into(), json!(identity));
            attestation.insert("certificate_oidc_issuer".into(), json!(issuer));
        } else if let Some(Signer::Certificate { subject, .. }) =
            signers_of().find(|s| matches!(s, Signer::Certificate { .. }))
        {
            attestation.insert("certificate_identity".into(), json!(subject));
        }
        attestation.insert("predicate_types".into(), json!(v.proven));
        attestation.insert("signers".into(), Value::Array(signers));

        let (mut name, mut version) = (node.name.clone(), None::<String>);
        let prov = provenance
            .as_ref()
            .and_then(|p| serde_json::from_value::<Provenance>(p.clone()).ok());
        if let Some(t) = prov.as_ref().and_then(provenance::training_parameters) {
            name = Some(t.artifact.name);
            version = Some(t.artifact.version);
        }
        if version.is_none() {
            version = prov
                .as_ref()
                .and_then(provenance::import_parameters)
                .and_then(|i| i.commit);
        }
        if let Some(c) = &cyclonedx {
            let comp = &c["metadata"]["component"];
            if name.is_none() {
                name = comp["name"].as_str().map(str::to_string);
            }
            if version.is_none() {
                version = comp["version"].as_str().map(str::to_string);
            }
        }
        let path: Vec<Value> = self
            .path
            .iter()
            .chain(std::iter::once(&node.id))
            .map(|id| {
                let n = if *id == node.id {
                    Some(node)
                } else {
                    self.index.get(id).map(|&i| &self.nodes[i])
                };
                json!({"id": id, "name": n.and_then(|n| n.name.clone())})
            })
            .collect();
        json!({
            "artifact": {
                "name": node.name,
                "digest": node.digest.map(|d| d.prefixed()),
                "uri": node.uri,
                "manifestDigest": node.manifest_digest.map(|d| d.prefixed()),
                "licenses": node.licenses,
            },
            "model": {"name": name.unwrap_or_default(), "version": version.unwrap_or_default()},
            "attestation": Value::Object(attestation),
            "attestations": verified.iter().map(|a| json!({
                "predicateType": a.predicate_type,
                "source": a.source,
                "bundleDigest": a.bundle_digest.prefixed(),
                "signer": a.signer.as_ref().map(report::signer_json),
            })).collect::<Vec<_>>(),
            "provenance": provenance,
            "spdx": spdx,
            "sbom": cyclonedx.as_ref().map(properties_as_maps),
            "cyclonedx": cyclonedx,
            "scan": scan,
            "role": role,
            "node": {"role": role, "depth": self.path.len()},
            "depth": self.path.len(),
            "path": path,
        })
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

fn short(id: &str) -> String {
    match id.strip_prefix("sha256:") {
        Some(h) => format!("sha256:{}", h.chars().take(12).collect::<String>()),
        None => id.to_string(),
    }
}

/// The licenses an SPDX 3 document declares for its root element.
fn spdx_licenses(doc: &Value) -> Vec<String> {
    let graph = doc["@graph"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let roots: Vec<&str> = graph
        .iter()
        .filter(|e| e["type"] == "SpdxDocument")
        .flat_map(|e| e["rootElement"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    let mut out = Vec::new();
    for rel in graph.iter().filter(|e| {
        e["relationshipType"] == "hasDeclaredLicense"
            && e["from"].as_str().is_some_and(|f| roots.contains(&f))
    }) {
        for to in rel["to"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if let Some(expr) = graph
                .iter()
                .find(|e| e["spdxId"] == to)
                .and_then(|e| e["simplelicensing_licenseExpression"].as_str())
            {
                out.push(expr.to_string());
            }
        }
    }
    out
}

/// The licenses a CycloneDX BOM declares for its metadata component.
fn cyclonedx_licenses(bom: &Value) -> Vec<String> {
    bom["metadata"]["component"]["licenses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            l["expression"]
                .as_str()
                .or(l["license"]["id"].as_str())
                .map(str::to_string)
        })
        .collect()
}

/// CycloneDX `properties` arrays as `name → value` maps (the first value
/// of a repeated name wins), at every level.
pub fn properties_as_maps(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                if k == "properties"
                    && let Some(arr) = x.as_array()
                    && arr.iter().all(|p| p["name"].is_string())
                {
                    let mut props = Map::new();
                    for p in arr {
                        if let Some(n) = p["name"].as_str() {
                            props
                                .entry(n.to_string())
                                .or_insert_with(|| p.get("value").cloned().unwrap_or(Value::Null));
                        }
                    }
                    out.insert(k.clone(), Value::Object(props));
                } else {
                    out.insert(k.clone(), properties_as_maps(x));
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(properties_as_maps).collect()),
        other => other.clone(),
    }
}

/// Re-apply a formats policy to a scan predicate's recorded kinds and
/// findings. A finding code or kind this build does not know fails.
pub fn reevaluate_scan(pred: &ScanPredicate, policy: &ScanPolicy) -> Vec<String> {
    let mut out = Vec::new();
    if pred.verdict != "pass" && pred.verdict != "fail" {
        out.push(format!(
            "the scan verdict `{}` is neither pass nor fail",
            pred.verdict
        ));
    }
    for f in &pred.files {
        out.extend(reevaluate_file(f, policy));
    }
    out
}

fn reevaluate_file(f: &PredicateFile, policy: &ScanPolicy) -> Vec<String> {
    let mut out = Vec::new();
    for k in &f.kinds {
        match Kind::parse(k) {
            Some(kind) if policy.denies(kind) => out.push(format!(
                "{}: {} file and `{kind}` is denied by formats.deny (attested scan)",
                f.path, f.format
            )),
            Some(_) => {}
            None => out.push(format!(
                "{}: unknown format kind `{k}` in the scan attestation",
                f.path
            )),
        }
    }
    for x in &f.findings {
        let Some(code) = scan::Code::from_id(&x.code) else {
            out.push(format!(
                "{}: unknown scanner finding {} ({}) in the scan attestation",
                f.path, x.code, x.name
            ));
            continue;
        };
        let finding = scan::Finding {
            member: x.member.clone(),
            offset: x.offset,
            code,
            subject: x.subject.clone(),
            reason: x.reason.clone(),
        };
        if policy.outcome(&finding) == scan::Outcome::Fail {
            out.push(format!(
                "{}: {} {}: {} (attested scan)",
                f.path,
                code.id(),
                code.name(),
                x.reason
            ));
        }
    }
    out
}

/// Bundles known up front (registry referrers), returned for their digest.
pub struct FixedBundles(pub Vec<RawBundle>);

impl BundleLookup for FixedBundles {
    fn bundles_for(&self, _: &Sha256Digest) -> Result<Vec<RawBundle>, String> {
        Ok(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_become_maps() {
        let v = json!({"properties": [{"name": "training-commit", "value": "abc"}, {"name": "training-commit", "value": "x"}],
                       "components": [{"properties": [{"name": "a", "value": "1"}]}]});
        let m = properties_as_maps(&v);
        assert_eq!(m["properties"]["training-commit"], "abc");
        assert_eq!(m["components"][0]["properties"]["a"], "1");
    }

    #[test]
    fn attested_scans_are_reevaluated() {
        let report = scan::ScanReport {
            files: vec![scan::scan_bytes(b"cos\nsystem\n(S'x'\ntR.", "a.pkl")],
            bytes_read: 0,
        };
        // The producer allowed the finding; the verifier does not.
        let producer = ScanPolicy {
            deny: vec![],
            allow: vec!["pickle-global:os.system".into()],
        };
        let pred = report.predicate(&producer);
        assert_eq!(pred.verdict, "pass");
        let msgs = reevaluate_scan(&pred, &ScanPolicy::default());
        assert!(msgs.iter().any(|m| m.contains("S0101")), "{msgs:?}");
        assert!(
            reevaluate_scan(&pred, &producer)
                .iter()
                .all(|m| !m.contains("S0101"))
        );
        let deny = ScanPolicy {
            deny: vec!["pickle".into()],
            allow: vec!["pickle-global:os.system".into()],
        };
        assert!(
            reevaluate_scan(&pred, &deny)
                .iter()
                .any(|m| m.contains("denied"))
        );
        let mut bad = pred.clone();
        bad.files[0].findings[0].code = "S9999".into();
        assert!(
            reevaluate_scan(&bad, &producer)
                .iter()
                .any(|m| m.contains("unknown"))
        );
    }
}
