//! Reaching dependencies: a dependency with neither a sha256 digest nor a
//! git commit cannot be verified (`E0603`, on the node whose provenance
//! names it); a dependency whose registry location cannot be reached or
//! does not hold it fails (`E0604`, on the dependency): nothing about it
//! can be proven.

use crate::digest::Sha256Digest;
use crate::verify::code::Code;
use crate::verify::model::Dep;
use crate::verify::node::Finding;

/// `E0603` for every dependency of `parent` that names nothing to verify by.
pub fn check_dependencies(parent: Option<Sha256Digest>, deps: &[Dep], findings: &mut Vec<Finding>) {
    for dep in deps
        .iter()
        .filter(|d| d.digest.is_none() && d.git_commit.is_none())
    {
        findings.push(Finding::new(
            Code::UnresolvableDependency,
            parent,
            format!(
                "dependency {} has no sha256 digest or git commit to verify it by",
                dep.name
                    .clone()
                    .or(dep.uri.as_ref().map(|u| u.to_string()))
                    .unwrap_or_else(|| "(unnamed)".to_string())
            ),
        ));
    }
}

/// `E0604` for a node whose registry location failed.
pub fn check_location(
    node: Option<Sha256Digest>,
    uri: &str,
    error: &str,
    findings: &mut Vec<Finding>,
) {
    let f = Finding {
        source: Some(uri.to_string()),
        ..Finding::new(
            Code::UnreachableDependency,
            node,
            format!("cannot reach {uri}: {error}"),
        )
    };
    if !findings.contains(&f) {
        findings.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    #[test]
    fn unresolvable_and_unreachable() {
        let dep = |digest, git: Option<&str>| Dep {
            name: Some("x".into()),
            role: Role::Config,
            role_name: "config".into(),
            uri: None,
            digest,
            git_commit: git.map(str::to_string),
        };
        let mut f = Vec::new();
        check_dependencies(
            None,
            &[
                dep(Some(Sha256Digest::of(b"a")), None),
                dep(None, Some("abc")),
                dep(None, None),
            ],
            &mut f,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, Code::UnresolvableDependency);
        check_location(None, "oci://r/x@sha256:00", "connection refused", &mut f);
        check_location(None, "oci://r/x@sha256:00", "connection refused", &mut f);
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].code, Code::UnreachableDependency);
    }
}
