//! The provenance-graph walk (DESIGN.md "Verification"): it computes the
//! graph, and leaves every rule to the checks ([`super::checks`]).
//!
//! The root is judged like any node; then every `resolvedDependencies`
//! entry of a verified (trusted) SLSA provenance of a node is an edge to a
//! node identified by its artifact digest (or, for the training code, its
//! git commit), reached in a *context*: the role the edge gives it and the
//! `[[policy.artifacts]]` rules that select it (by digest, by the name and
//! the source the edge gives it). Each (node, context) is judged once, by
//! [`checks::judge`]; a node reached in several contexts must pass each
//! (its findings from the second context on say which role they are for).
//!
//! The walk is a fixpoint: contexts and registry locations are added as
//! edges are found, a node's dependencies only grow with them, and a
//! node's depth is its shortest distance from the root over every edge
//! found, relaxed as shorter paths appear. So the graph, every verdict,
//! every finding and every depth are the same whatever the input names and
//! whatever order the provenance lists its dependencies in. Nodes deeper
//! than `--max-depth` are not judged: the node at `--max-depth` that names
//! them fails (`E0602`), so the root fails exactly when some node's
//! shortest distance from it exceeds `--max-depth`.
//!
//! Attestations come from the local store, sidecar files, and the registry
//! when an edge gives the node a registry location (an `oci://…@sha256:`
//! URI: the manifest gives the artifact digest, its referrers the bundles).
//! A dependency identified only by a git commit is recorded, not looked up.
//! An edge back to the root, or to any ancestor no deeper than its source,
//! closes a cycle (`E0601`).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::path::PathBuf;

use crate::digest::Sha256Digest;
use crate::model::{ResourceUri, Role};
use crate::reporter::Reporter;
use crate::scan::ScanReport;
use crate::sign::oms::HashedModel;
use crate::verify::checks::{self, Judgement, Node};
use crate::verify::model::{
    Dep, Edge, Graph, GraphNode, LocateError, Located, Locator, NodeKind, ROOT_ROLE, RegoScope,
    Root, ScanCheck, source_of_uri,
};
use crate::verify::node::{
    BundleLookup, Finding, GatherRequest, Gathered, LocalBytes, RawBundle, Status, gather,
};
use crate::verify::policy::{ContextRules, Selection, VerifyPolicy};
use crate::verify::rego_input::{About, PathEntry, RegoInput};

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
    /// The root is judged as an input in this role (`verify --role`), not
    /// as the artifact.
    pub root_role: Option<Role>,
    pub rego_scope: RegoScope,
}

/// A context: the role name and the selecting rules (indices).
type CtxKey = (String, Vec<usize>);

/// An edge as found: (from, to, name, role, uri).
type EdgeKey = (usize, usize, Option<String>, String, Option<String>);

/// An edge out of a node in the graph: (name, role, to, uri).
type OutEdge = (Option<String>, String, usize, Option<String>);

/// What the walk knows about one node.
struct NodeState {
    id: String,
    kind: NodeKind,
    digest: Option<Sha256Digest>,
    git_commit: Option<String>,
    is_root: bool,
    /// Names and URIs the edges give it.
    names: BTreeSet<String>,
    uris: BTreeSet<String>,
    /// Registry locations, by URI.
    locations: BTreeMap<String, Result<Located, LocateError>>,
    bytes: Option<LocalBytes>,
    hashed: Option<Result<HashedModel, String>>,
    rescan: Option<Option<Result<ScanReport, String>>>,
    /// The bundles, while contexts are left to judge.
    gathered: Option<Gathered>,
    /// Every context, judged (`Some`) or not yet.
    contexts: BTreeMap<CtxKey, Option<Judgement>>,
    dist: u32,
    /// The root's own name, explicit and found bundles, extra requirements.
    root: Option<Root>,
}

struct Walk<'a> {
    s: &'a Settings<'a>,
    nodes: Vec<NodeState>,
    index: BTreeMap<String, usize>,
    /// (from, to, name, role, uri).
    edges: BTreeSet<EdgeKey>,
    out: Vec<BTreeSet<usize>>,
    heap: BinaryHeap<Reverse<(u32, usize, CtxKey)>>,
    located: BTreeMap<(String, Sha256Digest), Option<Result<Located, LocateError>>>,
}

/// Walk and verify the graph from `root`.
pub fn verify_graph(root: Root, s: &Settings<'_>) -> Graph {
    let mut w = Walk {
        s,
        nodes: Vec::new(),
        index: BTreeMap::new(),
        edges: BTreeSet::new(),
        out: Vec::new(),
        heap: BinaryHeap::new(),
        located: BTreeMap::new(),
    };
    w.add_root(root);
    while let Some(Reverse((_, i, key))) = w.heap.pop() {
        let n = &w.nodes[i];
        if n.dist > s.max_depth || !matches!(n.contexts.get(&key), Some(None)) {
            continue;
        }
        w.judge(i, &key);
    }
    w.finish()
}

fn role_of(role_name: &str) -> Option<Role> {
    (role_name != ROOT_ROLE).then(|| Role::parse(role_name).unwrap_or(Role::Other))
}

impl<'a> Walk<'a> {
    fn new_node(&mut self, id: String, kind: NodeKind) -> usize {
        let i = self.nodes.len();
        self.index.insert(id.clone(), i);
        self.nodes.push(NodeState {
            id,
            kind,
            digest: None,
            git_commit: None,
            is_root: false,
            names: BTreeSet::new(),
            uris: BTreeSet::new(),
            locations: BTreeMap::new(),
            bytes: None,
            hashed: None,
            rescan: None,
            gathered: None,
            contexts: BTreeMap::new(),
            dist: u32::MAX,
            root: None,
        });
        self.out.push(BTreeSet::new());
        i
    }

    fn add_root(&mut self, root: Root) {
        let policy = self.s.policy;
        // The root's bundles are gathered with its role's trust, which
        // decides which explicit OMS manifest describes the bytes.
        let role_name = self
            .s
            .root_role
            .map_or(ROOT_ROLE, |r| r.as_str())
            .to_string();
        let base = policy.context(self.s.root_role, &role_name, &[]);
        let trusts = base.trust_refs();
        let mut g = gather(
            GatherRequest {
                name: root.name.clone(),
                expected: root.expected,
                bytes: root.bytes.clone(),
                explicit: &root.bundles,
                found: &root.found,
                trusts: &trusts,
            },
            self.s.lookup,
            self.s.reporter,
        );
        // Judged as an input (`--role`), the bytes are checked as an
        // input's are: against the digest its attestations name, which is
        // the digest they hash to (the bundles were gathered for it).
        if self.s.root_role.is_some() && g.expected.is_none() {
            g.expected = g.digest;
        }
        // A registry root's layers stand for its bytes in the files check.
        if g.hashed.is_none()
            && let Some(listed) = root.listed.clone()
        {
            g.hashed = Some(Ok(listed));
        }
        let id = g
            .digest
            .map(|d| d.prefixed())
            .unwrap_or_else(|| "(unidentified)".to_string());
        let i = self.new_node(id, NodeKind::Artifact);
        let rules = policy.selecting(&Selection {
            digest: g.digest.as_ref(),
            name: None,
            source: root.source.as_deref(),
        });
        let n = &mut self.nodes[i];
        n.digest = g.digest;
        n.is_root = true;
        n.dist = 0;
        n.bytes = root.bytes.clone();
        n.hashed = g.hashed.clone();
        n.gathered = Some(g);
        n.root = Some(root);
        let key = (role_name, rules);
        n.contexts.insert(key.clone(), None);
        self.heap.push(Reverse((0, i, key)));
    }

    /// The rules of a context of node `i` (the root's with its extra
    /// requirements).
    fn rules(&self, i: usize, key: &CtxKey) -> ContextRules<'a> {
        let mut rules = self.s.policy.context(role_of(&key.0), &key.0, &key.1);
        if let Some(root) = &self.nodes[i].root {
            for r in &root.require {
                if !rules.require.contains(r) {
                    rules.require.push(r.clone());
                }
            }
        }
        rules
    }

    /// Judge one context of node `i`, and follow the edges it proves.
    fn judge(&mut self, i: usize, key: &CtxKey) {
        let rules = self.rules(i, key);
        if self.nodes[i].gathered.is_none() && self.nodes[i].kind == NodeKind::Artifact {
            let g = self.gather(i);
            self.nodes[i].gathered = Some(g);
        }
        // The root, unless `--role` judges it as an input.
        let as_artifact = self.nodes[i].is_root && self.s.root_role.is_none();
        let n = &self.nodes[i];
        if n.rescan.is_none() {
            let want = checks::scan::wants_bytes(as_artifact, &self.s.policy.scan);
            let rescan = n
                .bytes
                .as_ref()
                .filter(|b| want && b.path.exists())
                .map(|b| {
                    crate::scan::scan_path(&b.path, &crate::scan::ScanOptions::default())
                        .map_err(|e| e.to_string())
                });
            self.nodes[i].rescan = Some(rescan);
        }
        let n = &self.nodes[i];
        let empty = Gathered::default();
        let manifest = manifest_of(n);
        let node = Node {
            id: &n.id,
            kind: n.kind,
            digest: n.digest,
            manifest_digest: manifest,
            name: None,
            uri: None,
            is_root: as_artifact,
            gathered: n.gathered.as_ref().unwrap_or(&empty),
            rules: &rules,
            policy: self.s.policy,
            rescan: n.rescan.as_ref().and_then(|r| r.as_ref()),
        };
        let mut judgement = checks::judge(&node);
        if self.s.policy.rego.is_none() {
            // Keeping every parsed document (an SPDX graph per node) would
            // make memory grow with the graph's bytes.
            for a in &mut judgement.verdict.attestations {
                a.statement = None;
            }
        }
        let deps = judgement.deps.clone();
        let n = &mut self.nodes[i];
        n.contexts.insert(key.clone(), Some(judgement));
        if n.contexts.values().all(Option::is_some) {
            n.gathered = None;
        }
        for dep in deps {
            self.add_edge(i, dep);
        }
    }

    /// Gather the bundles of a dependency node (again, when a new registry
    /// location adds referrers).
    fn gather(&self, i: usize) -> Gathered {
        let n = &self.nodes[i];
        let found: Vec<RawBundle> = n
            .locations
            .values()
            .filter_map(|l| l.as_ref().ok())
            .flat_map(|l| l.bundles.iter().cloned())
            .collect();
        let mut g = gather(
            GatherRequest {
                name: None,
                expected: n.digest,
                bytes: if n.hashed.is_none() {
                    n.bytes.clone()
                } else {
                    None
                },
                explicit: &[],
                found: &found,
                trusts: &[],
            },
            self.s.lookup,
            self.s.reporter,
        );
        if n.hashed.is_some() {
            g.hashed = n.hashed.clone();
            g.bytes = n.bytes.clone();
        }
        g
    }

    fn locate(
        &mut self,
        uri: &ResourceUri,
        digest: &Sha256Digest,
    ) -> Option<Result<Located, LocateError>> {
        let key = (uri.to_string(), *digest);
        if let Some(l) = self.located.get(&key) {
            return l.clone();
        }
        let l = self.s.locator.locate(uri, digest);
        self.located.insert(key, l.clone());
        l
    }

    /// An edge from node `p` to a dependency its provenance names.
    fn add_edge(&mut self, p: usize, dep: Dep) {
        let (id, kind) = match (&dep.digest, &dep.git_commit) {
            (Some(d), _) => (d.prefixed(), NodeKind::Artifact),
            (None, Some(c)) => (format!("git:{c}"), NodeKind::GitCommit),
            (None, None) => return,
        };
        let uri_text = dep.uri.as_ref().map(ResourceUri::to_string);
        // A registry location: where more bundles about the node may be
        // (its manifest's layers must make the node's digest).
        let mut located = None;
        if kind == NodeKind::Artifact
            && let (Some(uri), Some(d)) = (&dep.uri, &dep.digest)
            && let Some(l) = self.locate(uri, d)
        {
            located = Some((uri.to_string(), l));
        }
        let c = match self.index.get(&id) {
            Some(&c) => c,
            None => {
                let c = self.new_node(id, kind);
                let n = &mut self.nodes[c];
                n.digest = dep.digest;
                n.git_commit = dep.git_commit.clone();
                c
            }
        };
        let key = (
            p,
            c,
            dep.name.clone(),
            dep.role_name.clone(),
            uri_text.clone(),
        );
        if !self.edges.insert(key) {
            return;
        }
        self.out[p].insert(c);
        // The root's `file:` inputs are at hand when it was built here.
        if self.nodes[p].is_root
            && self.nodes[c].bytes.is_none()
            && let Some(b) = self.bytes_at_hand(&dep)
        {
            self.nodes[c].bytes = Some(b);
        }
        let n = &mut self.nodes[c];
        if let Some(name) = &dep.name {
            n.names.insert(name.clone());
        }
        if let Some(uri) = &uri_text {
            n.uris.insert(uri.clone());
        }
        if let Some((uri, l)) = located
            && !n.locations.contains_key(&uri)
        {
            n.locations.insert(uri, l);
            // New referrers: judge every context again with them.
            if n.contexts.values().any(Option::is_some) {
                n.gathered = None;
                let keys: Vec<CtxKey> = n.contexts.keys().cloned().collect();
                for k in keys {
                    n.contexts.insert(k.clone(), None);
                    self.heap.push(Reverse((n.dist, c, k)));
                }
            }
        }
        // An edge back to the root closes a cycle; the root has no role.
        if !self.nodes[c].is_root {
            let source = dep.uri.as_ref().and_then(source_of_uri);
            let rules = self.s.policy.selecting(&Selection {
                digest: self.nodes[c].digest.as_ref(),
                name: dep.name.as_deref(),
                source: source.as_deref(),
            });
            let key = (dep.role_name.clone(), rules);
            let n = &mut self.nodes[c];
            if !n.contexts.contains_key(&key) {
                n.contexts.insert(key.clone(), None);
                self.heap.push(Reverse((n.dist, c, key)));
            }
        }
        self.relax(p, c);
    }

    /// A shorter path to `c` through `p`: lower its distance and its
    /// descendants'.
    fn relax(&mut self, p: usize, c: usize) {
        let d = self.nodes[p].dist.saturating_add(1);
        if d >= self.nodes[c].dist {
            return;
        }
        self.nodes[c].dist = d;
        let mut queue = VecDeque::from([c]);
        while let Some(x) = queue.pop_front() {
            let dx = self.nodes[x].dist;
            for (k, j) in self.nodes[x].contexts.iter() {
                if j.is_none() {
                    self.heap.push(Reverse((dx, x, k.clone())));
                }
            }
            let children: Vec<usize> = self.out[x].iter().copied().collect();
            for y in children {
                if dx + 1 < self.nodes[y].dist {
                    self.nodes[y].dist = dx + 1;
                    queue.push_back(y);
                }
            }
        }
    }

    /// The bytes of a `file:` dependency of the root.
    fn bytes_at_hand(&self, dep: &Dep) -> Option<LocalBytes> {
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

    /// The graph: nodes no deeper than `--max-depth`, breadth first from
    /// the root, with the graph checks.
    fn finish(self) -> Graph {
        let max = self.s.max_depth;
        let kept = |i: usize| self.nodes[i].dist <= max;
        // Edges between kept nodes, per source in a canonical order.
        let mut by_from: Vec<Vec<OutEdge>> = vec![Vec::new(); self.nodes.len()];
        let mut beyond = vec![BTreeSet::new(); self.nodes.len()];
        for (f, t, name, role, uri) in &self.edges {
            if !kept(*f) {
                continue;
            }
            if kept(*t) {
                by_from[*f].push((name.clone(), role.clone(), *t, uri.clone()));
            } else {
                beyond[*f].insert(*t);
            }
        }
        for v in &mut by_from {
            v.sort_by(|a, b| {
                (&a.0, &a.1, &self.nodes[a.2].id, &a.3).cmp(&(
                    &b.0,
                    &b.1,
                    &self.nodes[b.2].id,
                    &b.3,
                ))
            });
        }
        // Breadth first from the root.
        let mut order = Vec::new();
        let mut seen = vec![false; self.nodes.len()];
        let mut queue = VecDeque::new();
        if !self.nodes.is_empty() {
            seen[0] = true;
            queue.push_back(0);
        }
        while let Some(x) = queue.pop_front() {
            order.push(x);
            for (_, _, t, _) in &by_from[x] {
                if !seen[*t] {
                    seen[*t] = true;
                    queue.push_back(*t);
                }
            }
        }
        // The chain from the root: through the parent with the smallest id
        // one level up.
        let mut parent: Vec<Option<usize>> = vec![None; self.nodes.len()];
        for &x in &order {
            for (_, _, t, _) in &by_from[x] {
                let t = *t;
                if self.nodes[t].dist == self.nodes[x].dist + 1
                    && parent[t].is_none_or(|q| self.nodes[x].id < self.nodes[q].id)
                {
                    parent[t] = Some(x);
                }
            }
        }
        let display_name = |i: usize| {
            let n = &self.nodes[i];
            n.root
                .as_ref()
                .and_then(|r| r.name.clone())
                .or_else(|| n.names.iter().next().cloned())
                .or_else(|| {
                    n.contexts
                        .values()
                        .flatten()
                        .find_map(|j| j.verdict.name.clone())
                })
        };
        let names: Vec<Option<String>> = (0..self.nodes.len()).map(display_name).collect();
        let path_of = |i: usize| {
            let mut chain = vec![i];
            let mut at = i;
            while let Some(p) = parent[at] {
                chain.push(p);
                at = p;
            }
            chain.reverse();
            chain
                .into_iter()
                .map(|x| PathEntry {
                    id: self.nodes[x].id.clone(),
                    name: names[x].clone(),
                })
                .collect::<Vec<_>>()
        };

        let mut out_nodes = Vec::with_capacity(order.len());
        let mut new_index = BTreeMap::new();
        for &i in &order {
            let node = self.graph_node(i, names[i].clone(), beyond[i].len(), &path_of);
            new_index.insert(node.id.clone(), out_nodes.len());
            out_nodes.push(node);
        }
        let mut edges = Vec::new();
        for &x in &order {
            for (name, role, t, uri) in &by_from[x] {
                edges.push(Edge {
                    from: self.nodes[x].id.clone(),
                    to: self.nodes[*t].id.clone(),
                    name: name.clone(),
                    role: role.clone(),
                    uri: uri.clone(),
                    cycle: false,
                });
            }
        }
        checks::cycle::check(&mut out_nodes, &mut edges, &new_index);
        let mut g = Graph::new(out_nodes, edges, max);
        mark_required(&mut g);
        g
    }

    /// One node of the graph: its contexts' verdicts and findings, with the
    /// graph checks that need its place (depth, Rego).
    fn graph_node(
        &self,
        i: usize,
        name: Option<String>,
        beyond: usize,
        path_of: &dyn Fn(usize) -> Vec<PathEntry>,
    ) -> GraphNode {
        let n = &self.nodes[i];
        let mut findings: Vec<Finding> = Vec::new();
        let uri = n
            .root
            .as_ref()
            .and_then(|r| r.uri.clone())
            .or_else(|| n.uris.iter().next().cloned());
        let ok_location = n.locations.values().find_map(|l| l.as_ref().ok());
        let manifest = manifest_of(n);
        let mut roles: Vec<String> = Vec::new();
        let mut optional = !n.is_root;
        let (mut licenses, mut builders) = (Vec::new(), Vec::new());
        let (mut imported, mut scan): (bool, Option<ScanCheck>) = (false, None);
        let mut verdict = None;
        let primary_role = n.contexts.keys().next().map(|k| k.0.clone());
        for (k, j) in &n.contexts {
            let Some(j) = j else { continue };
            if !roles.contains(&k.0) {
                roles.push(k.0.clone());
            }
            let rules = self.rules(i, k);
            optional &= rules.optional;
            let mut ctx_findings = j.findings.clone();
            if let Some(rego) = &self.s.policy.rego
                && checks::rego::applies(self.s.rego_scope, n.dist)
            {
                let about = About {
                    name: name.as_deref(),
                    digest: n.digest,
                    uri: uri.as_deref(),
                    manifest_digest: manifest,
                    role: &k.0,
                };
                let mut input = RegoInput::new(&about, &j.verdict, &j.facts);
                input.place(n.dist, path_of(i));
                checks::rego::check(rego, &input, n.digest, &mut ctx_findings);
            }
            let first = k == n.contexts.keys().next().unwrap_or(k);
            for mut f in ctx_findings {
                if findings.contains(&f) {
                    continue;
                }
                if !first {
                    f.message = if Some(&k.0) == primary_role.as_ref() {
                        let labels: Vec<String> =
                            k.1.iter()
                                .filter_map(|&r| self.s.policy.artifacts.get(r))
                                .map(|r| r.label.clone())
                                .collect();
                        if labels.is_empty() {
                            format!("as {}: {}", k.0, f.message)
                        } else {
                            format!("under {}: {}", labels.join(", "), f.message)
                        }
                    } else {
                        format!("as {}: {}", k.0, f.message)
                    };
                    if findings.contains(&f) {
                        continue;
                    }
                }
                findings.push(f);
            }
            for l in &j.facts.licenses {
                checks::push_unique(&mut licenses, l);
            }
            for b in &j.facts.builders {
                checks::push_unique(&mut builders, b);
            }
            imported |= j.facts.imported;
            if scan.is_none() {
                scan = j.facts.scan.clone();
            }
            if first && n.kind == NodeKind::Artifact {
                let mut v = j.verdict.clone();
                v.name = name.clone().or(v.name);
                for a in &mut v.attestations {
                    a.statement = None;
                }
                // What counted first, then what failed, then what was
                // ignored (each in the order found): bundle file names
                // carry random signature digests, so reports would
                // otherwise interleave them differently from run to run.
                v.attestations.sort_by_key(|a| match a.status {
                    Status::Verified => 0,
                    Status::Failed(_) => 1,
                    Status::Ignored(_) => 2,
                });
                verdict = Some(v);
            }
        }
        for f in &mut findings {
            if let Some(h) = &mut f.help {
                *h = h.replace(checks::INPUT_NAME, name.as_deref().unwrap_or("NAME"));
            }
        }
        checks::depth::check(n.digest, n.dist, beyond, self.s.max_depth, &mut findings);
        // A registry that contradicts the provenance fails the node; one
        // that was not reached could only have added bundles, which matters
        // when the node is not verified without them (so the same store
        // gives the same verdict online and offline).
        let unverified = !findings.is_empty();
        for (uri, l) in &n.locations {
            match l {
                Err(e @ LocateError::Contradicts(_)) => {
                    checks::reach::check_location(n.digest, uri, &e.to_string(), &mut findings)
                }
                Err(e @ LocateError::Unreachable(_)) if unverified => {
                    checks::reach::check_location(n.digest, uri, &e.to_string(), &mut findings)
                }
                _ => {}
            }
        }
        GraphNode {
            id: n.id.clone(),
            kind: n.kind,
            digest: n.digest,
            manifest_digest: manifest,
            git_commit: n.git_commit.clone(),
            name,
            uri: uri.clone(),
            roles,
            depth: n.dist,
            optional,
            required_for_root: true,
            location: ok_location
                .map(|l| l.location.clone())
                .or_else(|| n.bytes.as_ref().map(|b| b.path.display().to_string()))
                .or(uri),
            verdict,
            findings,
            scan,
            licenses,
            builders,
            imported,
        }
    }
}

/// The node's registry manifest digest: where it was located, else what
/// its `oci://` URI or the root's reference names.
fn manifest_of(n: &NodeState) -> Option<Sha256Digest> {
    n.locations
        .values()
        .find_map(|l| l.as_ref().ok())
        .map(|l| l.manifest)
        .or_else(|| n.root.as_ref().and_then(|r| r.manifest))
        .or_else(|| {
            n.uris.iter().find_map(|u| match ResourceUri::parse(u) {
                ResourceUri::Oci { manifest, .. } => Some(manifest),
                _ => None,
            })
        })
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
            if let Some(c) = g.index_of(&e.to)
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
