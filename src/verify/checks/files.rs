//! Files: the node's bytes, when they are at hand, against what was signed.
//! With a trusted OMS manifest about the node, file by file: a changed file
//! (`E0101`), one not in the manifest (`E0102`), one signed but missing
//! (`E0103`). Without one, the root digest against the digest the node
//! must have (`E0101`). Bytes that cannot be walked or read: `E0104`.

use crate::digest::{FileEntry, Sha256Digest};
use crate::intoto::PREDICATE_OMS;
use crate::sign::oms::{self, FileDiff, SignedManifest};
use crate::verify::checks::Node;
use crate::verify::code::Code;
use crate::verify::node::{Against, Attestation, FilesCheck, Finding, Status, oms_manifest};

pub fn check(
    node: &Node<'_>,
    atts: &[Attestation],
    findings: &mut Vec<Finding>,
) -> Option<FilesCheck> {
    let hashed = match node.gathered.hashed.as_ref()? {
        Ok(h) => h,
        Err(e) => {
            findings.push(Finding::new(Code::UnreadableArtifact, None, e.clone()));
            return None;
        }
    };
    let digest = node.digest;
    let manifest = atts
        .iter()
        .filter(|a| a.status == Status::Verified)
        .filter_map(|a| a.statement.as_ref())
        .filter(|s| s.predicate_type == PREDICATE_OMS)
        .filter_map(|s| oms_manifest(s).ok())
        .find(|m| Some(m.root) == digest);
    let against = if manifest.is_some() {
        Against::Manifest
    } else if node.gathered.expected.is_some() {
        Against::Digest
    } else {
        Against::Nothing
    };
    if let Some(m) = &manifest {
        let dir_given = node
            .gathered
            .bytes
            .as_ref()
            .is_some_and(|b| b.path.is_dir());
        findings.extend(file_findings(m, &hashed.files, digest, dir_given));
    } else if let Some(d) = digest
        && d != hashed.root
    {
        findings.push(Finding::new(
            Code::DigestMismatch,
            Some(d),
            format!(
                "the files hash to {}, not {}",
                hashed.root.prefixed(),
                d.prefixed()
            ),
        ));
    }
    Some(FilesCheck {
        files: hashed.files.len(),
        bytes: hashed.total_bytes,
        against,
    })
}

fn file_findings(
    m: &SignedManifest,
    actual: &[FileEntry],
    node: Option<Sha256Digest>,
    dir_given: bool,
) -> Vec<Finding> {
    oms::compare(m, actual)
        .into_iter()
        .map(|d| {
            let (code, message) = match &d {
                FileDiff::Changed {
                    path,
                    expected,
                    actual,
                } => (
                    Code::DigestMismatch,
                    format!("{path}: content changed (signed {}, found {})", expected.prefixed(), actual.prefixed()),
                ),
                FileDiff::Extra { path, same_as, .. } => (
                    Code::ExtraFile,
                    match same_as {
                        Some(orig) => format!("{path}: not in the signed manifest (same content as missing {orig}: renamed?)"),
                        None => format!("{path}: not in the signed manifest"),
                    },
                ),
                FileDiff::Missing { path, .. } if path == oms::SINGLE_FILE_NAME && dir_given => (
                    Code::MissingFile,
                    "the signature covers a single file (`.`), but a directory was given: verify the file itself".to_string(),
                ),
                FileDiff::Missing { path, .. } => (
                    Code::MissingFile,
                    format!("{path}: signed but not found"),
                ),
            };
            Finding {
                code,
                node,
                file: Some(d.path().to_string()),
                source: None,
                message,
                help: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::checks::signature;
    use crate::verify::checks::testing::*;

    #[test]
    fn bytes_against_the_signed_manifest_and_the_digest() {
        let w = World::new();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.bin"), b"a").unwrap();
        std::fs::write(dir.path().join("b.bin"), b"b").unwrap();
        let hashed = hash(dir.path());
        let d = hashed.root;
        // Signed: a.bin as is, b.bin with other bytes, c.bin missing.
        let sig = w.bundle(
            &w.platform,
            &oms_statement(&[("a.bin", b"a"), ("b.bin", b"B"), ("c.bin", b"c")]),
        );
        let signed_root = oms_root(&[("a.bin", b"a"), ("b.bin", b"B"), ("c.bin", b"c")]);
        let mut g = gathered(signed_root, vec![explicit(&sig)]);
        g.bytes = Some(local(dir.path()));
        g.hashed = Some(Ok(hashed.clone()));
        let policy = w.policy("");
        let rules = policy.context(None, "artifact", &[]);
        let node = node_in(&g, &rules, &policy);
        let mut f = Vec::new();
        let atts = signature::check(&node, &mut f);
        let fc = check(&node, &atts, &mut f).unwrap();
        assert_eq!(fc.against, Against::Manifest);
        assert_eq!(codes(&f), ["E0101", "E0103"]);

        // No manifest: the digest alone.
        let mut g = gathered(digest("other"), vec![]);
        g.hashed = Some(Ok(hashed.clone()));
        let node = node_in(&g, &rules, &policy);
        let mut f = Vec::new();
        let fc = check(&node, &[], &mut f).unwrap();
        assert_eq!(fc.against, Against::Digest);
        assert_eq!(codes(&f), ["E0101"]);
        let mut g = gathered(d, vec![]);
        g.hashed = Some(Ok(hashed));
        let mut f = Vec::new();
        check(&node_in(&g, &rules, &policy), &[], &mut f);
        assert!(f.is_empty(), "{f:?}");

        // An extra file, and bytes that cannot be read.
        std::fs::write(dir.path().join("extra.bin"), b"x").unwrap();
        let sig = w.bundle(
            &w.platform,
            &oms_statement(&[("a.bin", b"a"), ("b.bin", b"b")]),
        );
        let mut g = gathered(
            oms_root(&[("a.bin", b"a"), ("b.bin", b"b")]),
            vec![explicit(&sig)],
        );
        g.hashed = Some(Ok(hash(dir.path())));
        let node = node_in(&g, &rules, &policy);
        let mut f = Vec::new();
        let atts = signature::check(&node, &mut f);
        check(&node, &atts, &mut f);
        assert_eq!(codes(&f), ["E0102"]);
        g.hashed = Some(Err("a symlink leaves the tree".into()));
        let mut f = Vec::new();
        assert!(check(&node_in(&g, &rules, &policy), &[], &mut f).is_none());
        assert_eq!(codes(&f), ["E0104"]);
    }
}
