//! Rendering verdicts: a ✓/✗ tree for people, and a JSON document with
//! nodes, edges and findings for programs.
//!
//! JSON (`version` 1):
//!
//! ```json
//! {"version": 1, "verified": false,
//!  "nodes": [{"id": "sha256:…", "name": "…", "path": "…", "verified": false,
//!             "files": {"count": 7, "bytes": 91234, "checked": "manifest"},
//!             "required": ["https://model_signing/signature/v1.0"],
//!             "proven": ["https://model_signing/signature/v1.0"],
//!             "attestations": [{"source": "model.sig", "bundleDigest": "sha256:…",
//!                               "predicateType": "…", "status": "verified",
//!                               "signer": {"kind": "key", "key": "cosign.pub", …}}]}],
//!  "edges": [],
//!  "findings": [{"code": "E0102", "name": "extra-file", "node": "sha256:…",
//!                "file": "extra.bin", "source": null, "message": "…"}]}
//! ```

use serde_json::{Value, json};

use crate::fsutil::human_bytes;
use crate::sign::bundle::{Signer, TimeSource};
use crate::verify::code::Code;
use crate::verify::node::{Against, Finding, NodeVerdict, Status};

/// The JSON document for a set of verified nodes.
pub fn json(nodes: &[NodeVerdict]) -> Value {
    let findings: Vec<Value> = nodes
        .iter()
        .flat_map(|n| n.findings.iter())
        .map(finding_json)
        .collect();
    json!({
        "version": 1,
        "verified": nodes.iter().all(NodeVerdict::verified) && !nodes.is_empty(),
        "nodes": nodes.iter().map(node_json).collect::<Vec<_>>(),
        "edges": [],
        "findings": findings,
    })
}

fn node_json(n: &NodeVerdict) -> Value {
    json!({
        "id": n.digest.map(|d| d.prefixed()),
        "name": n.name,
        "path": n.path.as_ref().map(|p| p.display().to_string()),
        "verified": n.verified(),
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
                Status::Skipped(r) => ("skipped", None, Some(r.clone())),
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

fn signer_json(s: &Signer) -> Value {
    match s {
        Signer::Key {
            label,
            algorithm,
            fingerprint,
        } => {
            json!({"kind": "key", "key": label, "algorithm": algorithm, "fingerprint": fingerprint})
        }
        Signer::Certificate {
            subject,
            path,
            fingerprint,
        } => {
            json!({"kind": "certificate", "subject": subject, "chain": path, "fingerprint": fingerprint})
        }
        Signer::Keyless {
            identity,
            issuer,
            fingerprint,
            proof,
        } => json!({
            "kind": "keyless",
            "identity": identity,
            "issuer": issuer,
            "fingerprint": fingerprint,
            "chain": proof.chain,
            "sctLog": proof.sct_log,
            "tlog": {
                "url": proof.tlog.log_url,
                "logId": proof.tlog.log_id,
                "logIndex": proof.tlog.log_index,
                "treeSize": proof.tlog.tree_size,
                "integratedTime": proof.tlog.integrated_time,
                "inclusionProof": true,
                "signedEntryTimestamp": proof.tlog.integrated_time.is_some(),
            },
            "checkedAt": crate::sign::keyless::verify::rfc3339(proof.checked_at),
            "timeSource": match proof.time_source {
                TimeSource::SignedEntryTimestamp => "signed-entry-timestamp",
                TimeSource::VerificationTime => "verification-time",
            },
        }),
    }
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "code": f.code.code(),
        "name": f.code.name(),
        "node": f.node.map(|d| d.prefixed()),
        "file": f.file,
        "source": f.source,
        "message": f.message,
    })
}

/// The human tree.
pub fn human(nodes: &[NodeVerdict]) -> String {
    let mut out = String::new();
    for n in nodes {
        let mark = if n.verified() { "✓" } else { "✗" };
        let id = n
            .digest
            .map(|d| d.prefixed())
            .unwrap_or_else(|| "(unidentified)".into());
        let name = n.name.as_deref().unwrap_or("");
        out.push_str(&format!("{mark} {name} {id}\n"));
        if let Some(f) = &n.files {
            let failed = n
                .findings
                .iter()
                .any(|x| x.file.is_some() || x.code == Code::DigestMismatch);
            let (mark, how) = match f.against {
                Against::Manifest if !failed => ("✓", "every file matches the signed manifest"),
                Against::Manifest => ("✗", "checked against the signed manifest"),
                Against::Digest if !failed => ("✓", "the root digest matches"),
                Against::Digest => ("✗", "the root digest differs"),
                Against::Nothing => ("✗", "not checked: no verified signed manifest"),
            };
            out.push_str(&format!(
                "  {mark} files: {} ({}), {how}\n",
                f.files,
                human_bytes(f.bytes)
            ));
        }
        for a in &n.attestations {
            let pt = a.predicate_type.as_deref().unwrap_or("(unreadable)");
            match &a.status {
                Status::Verified => {
                    let by = a.signer.as_ref().map(Signer::describe).unwrap_or_default();
                    out.push_str(&format!("  ✓ {pt}\n      {} signed by {by}\n", a.source));
                }
                // Failures are listed with their finding below.
                Status::Failed(_) => {}
                Status::Skipped(r) => {
                    out.push_str(&format!("  - {pt} (skipped: {r})\n      {}\n", a.source));
                }
            }
        }
        for f in &n.findings {
            out.push_str(&format!(
                "  ✗ {} {}: {}\n",
                f.code.code(),
                f.code.name(),
                f.message
            ));
            if let Some(s) = &f.source {
                out.push_str(&format!("      in {s}\n"));
            }
        }
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A Markdown summary for a CI job page (GitHub's step summary): the
/// verdict per artifact, the tree, what was signed and by whom, findings.
pub fn markdown(nodes: &[NodeVerdict]) -> String {
    let ok = !nodes.is_empty() && nodes.iter().all(NodeVerdict::verified);
    let mut out = format!(
        "### {} mlprov verify: {}\n\n",
        if ok { "✅" } else { "❌" },
        if ok { "verified" } else { "failed" }
    );
    out.push_str("| Artifact | Digest | Files | Result |\n|---|---|---|---|\n");
    for n in nodes {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            cell(n.name.as_deref().unwrap_or("(unnamed)")),
            n.digest.map(|d| d.prefixed()).unwrap_or_else(|| "?".into()),
            n.files
                .as_ref()
                .map(|f| format!("{} ({})", f.files, human_bytes(f.bytes)))
                .unwrap_or_else(|| "-".into()),
            if n.verified() { "✅" } else { "❌" }
        ));
    }
    out.push_str("\n```text\n");
    out.push_str(&human(nodes));
    out.push_str("```\n");
    let atts: Vec<_> = nodes.iter().flat_map(|n| n.attestations.iter()).collect();
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
                Status::Skipped(r) => format!("skipped: {r}"),
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
    let findings: Vec<_> = nodes.iter().flat_map(|n| n.findings.iter()).collect();
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
