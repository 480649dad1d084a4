//! Rendering a verified graph: a ✓/✗ tree for people, a Markdown summary
//! for CI job pages, and a JSON document with nodes, edges and findings for
//! programs (`verify`, `graph --format json` and `pull` print the same).
//!
//! JSON (`version` 1):
//!
//! ```json
//! {"version": 1, "verified": false, "root": "sha256:…", "maxDepth": 16,
//!  "nodes": [{"id": "sha256:…", "kind": "artifact", "name": "…", "depth": 0,
//!             "roles": ["artifact"], "verified": false,
//!             "files": {"count": 7, "bytes": 91234, "checked": "manifest"},
//!             "required": ["https://model_signing/signature/v1.0"],
//!             "proven": ["https://model_signing/signature/v1.0"],
//!             "attestations": [{"source": "model.sig", "bundleDigest": "sha256:…",
//!                               "predicateType": "…", "status": "verified",
//!                               "signer": {"kind": "key", "key": "cosign.pub", …}},
//!                              {"source": "…", "status": "ignored",
//!                               "reason": "untrusted signer: …"}], …}],
//!  "edges": [{"from": "sha256:…", "to": "sha256:…", "name": "base", "role": "base-model", …}],
//!  "findings": [{"code": "E0102", "name": "extra-file", "node": "sha256:…",
//!                "file": "extra.bin", "source": null, "message": "…"}]}
//! ```

use serde_json::{Value, json};

use crate::fsutil::human_bytes;
use crate::intoto::{
    PREDICATE_CYCLONEDX, PREDICATE_OMS, PREDICATE_SCAN, PREDICATE_SLSA_PROVENANCE, PREDICATE_SPDX3,
    PREDICATE_VSA,
};
use crate::sign::trust::Signer;
use crate::verify::code::Code;
use crate::verify::model::{Edge, Graph, GraphNode, NodeKind, ScanCheck};
use crate::verify::node::{Against, Finding, NodeVerdict, Status};
use crate::verify::policy::{RoleRules, VerifyPolicy};

fn node_json(n: &NodeVerdict) -> Value {
    json!({
        "id": n.digest.map(|d| d.prefixed()),
        "name": n.name,
        "path": n.path.as_ref().map(|p| p.display().to_string()),
        // Set by the graph (the verdict of one context is not the node's).
        "verified": false,
        "files": n.files.as_ref().map(|f| json!({
            "count": f.files,
            "bytes": f.bytes,
            "checked": match f.against {
                Against::Manifest => "manifest",
                Against::Digest => "digest",
                Against::Nothing => "nothing",
            },
        })),
        "required": n.required,
        "proven": n.proven,
        "attestations": n.attestations.iter().map(|a| {
            let (status, code, reason) = match &a.status {
                Status::Verified => ("verified", None, None),
                Status::Failed(c) => ("failed", Some(c.code()), None),
                Status::Ignored(r) => ("ignored", None, Some(r.clone())),
            };
            json!({
                "source": a.source,
                "bundleDigest": a.bundle_digest.prefixed(),
                "predicateType": a.predicate_type,
                "status": status,
                "code": code,
                "reason": reason,
                "signer": a.signer.as_ref().map(signer_json),
            })
        }).collect::<Vec<_>>(),
    })
}

pub(crate) fn signer_json(s: &Signer) -> Value {
    s.to_json()
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "code": f.code.code(),
        "name": f.code.name(),
        "node": f.node.map(|d| d.prefixed()),
        "file": f.file,
        "source": f.source,
        "message": f.message,
        "help": f.help,
    })
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A Markdown summary of a verified provenance graph for a CI job page
/// (GitHub's step summary): the verdict per node, the tree, what was signed
/// and by whom, findings.
pub fn graph_markdown(g: &Graph) -> String {
    let ok = g.verified();
    let mut out = format!(
        "### {} mlprov verify: {}\n\n",
        if ok { "✅" } else { "❌" },
        if ok { "verified" } else { "failed" }
    );
    out.push_str("| Artifact | Digest | Role | Files | Result |\n|---|---|---|---|---|\n");
    for n in &g.nodes {
        let files = n
            .verdict
            .as_ref()
            .and_then(|v| v.files.as_ref())
            .map(|f| format!("{} ({})", f.files, human_bytes(f.bytes)))
            .unwrap_or_else(|| "-".into());
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            cell(n.name.as_deref().unwrap_or("(unnamed)")),
            n.id,
            cell(&n.roles.join(", ")),
            files,
            if n.verified() { "✅" } else { "❌" }
        ));
    }
    out.push_str("\n```text\n");
    out.push_str(&graph_human(g));
    out.push_str("```\n");
    let atts: Vec<_> = g
        .nodes
        .iter()
        .filter_map(|n| n.verdict.as_ref())
        .flat_map(|v| v.attestations.iter())
        .collect();
    if !atts.is_empty() {
        out.push_str("\n#### Signatures\n\n| Predicate type | Bundle | Signed by | Result |\n|---|---|---|---|\n");
        for a in atts {
            let by = match &a.signer {
                Some(s @ Signer::Keyless { proof, .. }) => format!(
                    "{}; logged in {} at index {}",
                    s.describe(),
                    proof.tlog.log_url,
                    proof.tlog.log_index
                ),
                Some(s) => s.describe(),
                None => "-".into(),
            };
            let result = match &a.status {
                Status::Verified => "✅ verified".to_string(),
                Status::Failed(c) => format!("❌ {c}"),
                Status::Ignored(r) => format!("ignored: {r}"),
            };
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                cell(a.predicate_type.as_deref().unwrap_or("(unreadable)")),
                cell(&a.source),
                cell(&by),
                cell(&result)
            ));
        }
    }
    let findings: Vec<_> = g.findings().map(|(_, f)| f).collect();
    if !findings.is_empty() {
        out.push_str("\n#### Findings\n\n| Code | File | Message |\n|---|---|---|\n");
        for f in findings {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                f.code,
                cell(f.file.as_deref().or(f.source.as_deref()).unwrap_or("-")),
                cell(&f.message)
            ));
        }
    }
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------
// The provenance graph

/// A predicate type in a word, for the tree.
pub fn predicate_word(t: &str) -> &str {
    match t {
        PREDICATE_OMS => "signature",
        PREDICATE_SLSA_PROVENANCE => "provenance",
        PREDICATE_SPDX3 => "sbom",
        PREDICATE_CYCLONEDX => "cyclonedx",
        PREDICATE_SCAN => "scan",
        PREDICATE_VSA => "vsa",
        other => other,
    }
}

/// `sha256:` and the first 12 hex digits; `git:` and 12.
pub fn short_id(id: &str) -> String {
    match id.split_once(':') {
        Some((alg, h)) => format!("{alg}:{}", h.chars().take(12).collect::<String>()),
        None => id.to_string(),
    }
}

fn signer_label(s: &Signer) -> String {
    match s {
        Signer::Key { label, .. } => label.clone(),
        Signer::Certificate { subject, .. } => subject.clone(),
        Signer::Keyless { identity, .. } => identity.clone(),
    }
}

/// What was proven for a node, in words: `signature · provenance · scan`.
fn proven_words(n: &GraphNode) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(f) = n.verdict.as_ref().and_then(|v| v.files.as_ref()) {
        let bad = n
            .findings
            .iter()
            .any(|x| x.file.is_some() || x.code == Code::DigestMismatch);
        let mark = if bad || f.against == Against::Nothing {
            "✗"
        } else {
            "✓"
        };
        parts.push(format!(
            "files {mark} ({}, {})",
            f.files,
            human_bytes(f.bytes)
        ));
    }
    let proven = n.proven();
    // Required types first, in policy order, then the rest.
    let mut order: Vec<String> = n
        .verdict
        .as_ref()
        .map(|v| v.required.clone())
        .unwrap_or_default();
    for p in &proven {
        if !order.contains(p) {
            order.push(p.clone());
        }
    }
    for p in order.iter().filter(|p| proven.contains(*p)) {
        let w = predicate_word(p);
        if p == PREDICATE_SLSA_PROVENANCE && n.imported {
            parts.push("provenance (import)".into());
        } else {
            parts.push(w.to_string());
        }
    }
    if let Some(ScanCheck::Rescanned { files }) = &n.scan {
        parts.push(format!(
            "re-scanned {files} file{}",
            if *files == 1 { "" } else { "s" }
        ));
    }
    if n.kind == NodeKind::GitCommit {
        parts.push("recorded (git commit)".into());
    }
    let mut signers: Vec<String> = n
        .verdict
        .iter()
        .flat_map(|v| v.attestations.iter())
        .filter(|a| matches!(a.status, Status::Verified))
        .filter_map(|a| a.signer.as_ref().map(signer_label))
        .collect();
    signers.sort();
    signers.dedup();
    let mut s = if parts.is_empty() {
        "nothing proven".to_string()
    } else {
        parts.join(" · ")
    };
    if !signers.is_empty() {
        s.push_str(&format!(" — by {}", signers.join(", ")));
    }
    s
}

/// What the policy required of each role the graph has, in words (shown
/// after the tree): the predicate types each must prove (and whether that
/// is the default), whose signatures count, and the rules for every node.
pub fn policy_human(g: &Graph, policy: &VerifyPolicy, cwd: &std::path::Path) -> String {
    let words = |req: &[String]| -> String {
        if req.is_empty() {
            "nothing".to_string()
        } else {
            req.iter()
                .map(|r| predicate_word(r))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let signers = |r: &RoleRules| {
        if r.signers_explicit {
            "signers: the policy's"
        } else {
            "signers: --key / identity flags"
        }
    };
    let source = policy.source.as_deref().map(|s| {
        let p = std::path::Path::new(s);
        p.strip_prefix(cwd).unwrap_or(p).display().to_string()
    });
    let mut lines = vec![format!(
        "policy ({}; a role it does not name needs provenance):",
        source
            .map(|s| format!("[policy] of {s}"))
            .unwrap_or_else(|| "no [policy]".to_string())
    )];
    let root = g.root();
    let root_req = root
        .verdict
        .as_ref()
        .map(|v| v.required.clone())
        .unwrap_or_else(|| policy.root.require.clone());
    // `verify --role`: the root was judged by that role's rules.
    let root_role = root
        .roles
        .first()
        .and_then(|r| crate::model::Role::parse(r));
    let (root_label, root_rules) = match root_role {
        Some(r) => (r.as_str(), policy.rules(r)),
        None => ("artifact", &policy.root),
    };
    lines.push(format!(
        "  {:<16}{} · {}",
        root_label,
        words(&root_req),
        signers(root_rules)
    ));
    let mut roles = std::collections::BTreeSet::new();
    for n in g.nodes.iter().filter(|n| n.id != root.id) {
        if n.kind == NodeKind::GitCommit {
            continue;
        }
        for r in &n.roles {
            roles.insert(r.clone());
        }
    }
    roles.remove(root_label);
    for r in &roles {
        let rules = crate::model::Role::parse(r)
            .map(|role| policy.rules(role))
            .unwrap_or(&policy.default_rules);
        lines.push(format!(
            "  {:<16}{}{} · {}{}",
            r,
            words(&rules.require),
            if rules.require_explicit {
                ""
            } else {
                " (default)"
            },
            signers(rules),
            if rules.optional { " · optional" } else { "" }
        ));
    }
    let mut every = Vec::new();
    if !policy.licenses_allow.is_empty() {
        every.push(format!(
            "a declared license in licenses.allow ({})",
            policy.licenses_allow.join(", ")
        ));
    }
    if !policy.scan.deny.is_empty() {
        every.push(format!("no {} files", policy.scan.deny.join(", ")));
    }
    if policy.require_pinned_revisions {
        every.push("pinned revisions".to_string());
    }
    if !every.is_empty() {
        lines.push(format!("  {:<16}{}", "every node", every.join(" · ")));
    }
    lines.join("\n") + "\n"
}

/// The human tree: one line per node, findings under failing nodes.
pub fn graph_human(g: &Graph) -> String {
    graph_human_styled(g, false)
}

/// [`graph_human`], with ✓ in green and ✗ in red when `color` (a terminal
/// that takes colour: `--color`, `NO_COLOR`). The root's mark is the
/// verdict of the whole graph: ✗ whenever verification fails (exit 1),
/// even when the root's own checks passed and an input failed.
pub fn graph_human_styled(g: &Graph, color: bool) -> String {
    let mut out = String::new();
    let mut shown = std::collections::BTreeSet::new();
    let root = g.root();
    let paint = Paint { color };
    node_lines(
        g,
        root,
        None,
        "",
        "",
        &mut shown,
        &mut out,
        &paint,
        g.verified(),
    );
    out
}

/// Colours for the tree's marks.
struct Paint {
    color: bool,
}

impl Paint {
    fn mark(&self, mark: &str) -> String {
        if !self.color {
            return mark.to_string();
        }
        let style = match mark {
            "✓" => console::Style::new().green().bold(),
            "✗" => console::Style::new().red().bold(),
            _ => console::Style::new().dim(),
        };
        style.force_styling(true).apply_to(mark).to_string()
    }
}

#[allow(clippy::too_many_arguments)]
fn node_lines(
    g: &Graph,
    n: &GraphNode,
    edge: Option<&Edge>,
    lead: &str,
    cont: &str,
    shown: &mut std::collections::BTreeSet<String>,
    out: &mut String,
    paint: &Paint,
    graph_verified: bool,
) {
    // The root shows the whole graph's verdict.
    let verified = if edge.is_none() {
        n.verified() && graph_verified
    } else {
        n.verified()
    };
    let mark = paint.mark(match (n.kind, verified) {
        (NodeKind::GitCommit, true) => "·",
        (_, true) => "✓",
        (_, false) => "✗",
    });
    let name = edge
        .and_then(|e| e.name.clone())
        .or(n.name.clone())
        .unwrap_or_default();
    let role = edge
        .map(|e| e.role.clone())
        .unwrap_or_else(|| n.roles.join(", "));
    let optional = if n.optional && !n.verified() {
        " (optional)"
    } else {
        ""
    };
    if edge.is_some_and(|e| e.cycle) {
        out.push_str(&format!(
            "{lead}↺ {name} {} {role}: cycle back to an ancestor\n",
            short_id(&n.id)
        ));
        return;
    }
    if !shown.insert(n.id.clone()) {
        out.push_str(&format!(
            "{lead}{mark} {name} {} {role}{optional} (shown above)\n",
            short_id(&n.id)
        ));
        return;
    }
    out.push_str(&format!(
        "{lead}{mark} {name} {} {role}{optional}  {}\n",
        short_id(&n.id),
        proven_words(n)
    ));
    let children: Vec<&Edge> = g.children(&n.id).collect();
    let bar = if children.is_empty() {
        "    "
    } else {
        "│   "
    };
    for f in &n.findings {
        out.push_str(&format!(
            "{cont}{bar}{} {} {}: {}\n",
            paint.mark("✗"),
            f.code.code(),
            f.code.name(),
            f.message
        ));
        if let Some(s) = &f.source {
            out.push_str(&format!("{cont}{bar}    in {s}\n"));
        }
        if let Some(h) = &f.help {
            out.push_str(&format!("{cont}{bar}    help: {h}\n"));
        }
    }
    // What proved nothing: bundles from signers not trusted for the node.
    for a in n.verdict.iter().flat_map(|v| v.attestations.iter()) {
        if let Status::Ignored(why) = &a.status {
            out.push_str(&format!(
                "{cont}{bar}- {} ignored: {why}\n{cont}{bar}    in {}\n",
                predicate_word(a.predicate_type.as_deref().unwrap_or("(unreadable)")),
                a.source
            ));
        }
    }
    for (i, e) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        let (l, c) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        if let Some(child) = g.node(&e.to) {
            node_lines(
                g,
                child,
                Some(e),
                &format!("{cont}{l}"),
                &format!("{cont}{c}"),
                shown,
                out,
                paint,
                graph_verified,
            );
        }
    }
}

/// The JSON document of a verified graph (`version` 1): nodes, edges and
/// findings with codes.
pub fn graph_json(g: &Graph) -> Value {
    let findings: Vec<Value> = g
        .findings()
        .map(|(n, f)| {
            let mut v = finding_json(f);
            v["node"] = json!(n.id);
            v["optional"] = json!(!n.required_for_root);
            v
        })
        .collect();
    json!({
        "version": 1,
        "verified": g.verified(),
        "root": g.root().id,
        "maxDepth": g.max_depth,
        "nodes": g.nodes.iter().map(graph_node_json).collect::<Vec<_>>(),
        "edges": g.edges.iter().map(|e| json!({
            "from": e.from,
            "to": e.to,
            "name": e.name,
            "role": e.role,
            "uri": e.uri,
            "cycle": e.cycle,
        })).collect::<Vec<_>>(),
        "findings": findings,
    })
}

fn graph_node_json(n: &GraphNode) -> Value {
    let mut v = match &n.verdict {
        Some(verdict) => node_json(verdict),
        None => {
            json!({"required": [], "proven": [], "attestations": [], "files": null, "path": null})
        }
    };
    v["id"] = json!(n.id);
    v["kind"] = json!(match n.kind {
        NodeKind::Artifact => "artifact",
        NodeKind::GitCommit => "git-commit",
    });
    v["name"] = json!(n.name);
    v["digest"] = json!(n.digest.map(|d| d.prefixed()));
    v["manifestDigest"] = json!(n.manifest_digest.map(|d| d.prefixed()));
    v["gitCommit"] = json!(n.git_commit);
    v["uri"] = json!(n.uri);
    v["location"] = json!(n.location);
    v["roles"] = json!(n.roles);
    v["depth"] = json!(n.depth);
    v["optional"] = json!(n.optional);
    v["countsForRoot"] = json!(n.required_for_root);
    v["verified"] = json!(n.verified());
    v["licenses"] = json!(n.licenses);
    v["builders"] = json!(n.builders);
    v["scan"] = match &n.scan {
        Some(ScanCheck::Rescanned { files }) => json!({"checked": "rescanned", "files": files}),
        Some(ScanCheck::Attested { files }) => json!({"checked": "attestation", "files": files}),
        None => Value::Null,
    };
    v["findings"] = json!(n.findings.iter().map(finding_json).collect::<Vec<_>>());
    v
}
