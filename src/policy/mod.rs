//! The verification and admission policy: the typed `[policy]` vocabulary
//! (in `mlprov.toml`, or a standalone policy file for `verify --policy`),
//! its validator ([`cfg`]), and the rules more than one command applies:
//! the license rule ([`license`], used by `pin`, `build` and `verify`) and
//! scan-policy failures over several scanned sets ([`scan`], used by `pin`
//! and `build`).
//!
//! `policy` sits above the scanner: it turns `formats` into the scanner's
//! [`ScanPolicy`], so the scanner knows nothing of manifests.

pub mod cfg;
pub mod license;
pub mod scan;

use std::collections::BTreeMap;

use crate::digest::Sha256Digest;
use crate::model::Role;
use crate::scan::{Kind, ScanPolicy};

pub use cfg::parse_file;

/// Verification and admission policy (`[policy]`, or a standalone policy file).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Policy {
    /// SPDX expressions allowed for inputs and outputs. Empty: no check.
    pub licenses_allow: Vec<String>,
    /// Scanner format/finding kinds that fail (`pickle`, `remote-code`, …).
    pub formats_deny: Vec<Kind>,
    /// Scanner findings allowed after review: a kind (`remote-code`) or
    /// `KIND:SUBJECT` (`pickle-global:sklearn.*`). See [`ScanPolicy`].
    pub formats_allow: Vec<String>,
    pub require_pinned_revisions: bool,
    /// Allowed `runDetails.builder.id` values. Empty: any.
    pub builders_allow: Vec<String>,
    /// Revoked artifact digests: any node with one of them fails.
    pub revoked: Vec<Sha256Digest>,
    /// A signed revocation list (`revocation-list = { bundle, signers }`).
    pub revocation_list: Option<RevocationList>,
    /// The verified artifact itself (`[policy.artifact]`): the root of the
    /// graph, which has no role of its own.
    pub artifact: Option<RolePolicy>,
    pub roles: BTreeMap<Role, RolePolicy>,
    /// Rules for the artifacts they select, wherever they sit in the graph
    /// (`[[policy.artifacts]]`), in the order written.
    pub artifacts: Vec<ArtifactRule>,
    /// Fields the model card must have (`[policy.model-card] require`), in
    /// the order written.
    pub model_card_require: Vec<String>,
}

/// A rule for the artifacts it selects (`[[policy.artifacts]]`), on top of
/// the rules of the role they are reached as: both must hold. A node is
/// selected when every selector the rule names matches; the rule's
/// `require` is added to the role's, and a bundle counts for the node only
/// when the role's signers (if the role names any) and the rule's signers
/// (if it names any) all trust it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ArtifactRule {
    /// A glob over the node's source as its parent's provenance names it
    /// (`hf:meta-llama/*`, `oci:registry.example.com/models/*`,
    /// `hf-dataset:acme/*`, `path:data/*`, `url:https://…`).
    pub source: Option<String>,
    /// A glob over the name the parent's provenance gives the input.
    pub name: Option<String>,
    /// The artifact digest.
    pub digest: Option<Sha256Digest>,
    /// Predicate types the selected artifacts must also carry.
    pub require: Vec<String>,
    /// Signers the selected artifacts' bundles must (also) be signed by.
    pub signers: Vec<Signer>,
}

impl ArtifactRule {
    /// The rule in words, for messages: `[[policy.artifacts]] source = "hf:meta-llama/*"`.
    pub fn describe(&self) -> String {
        let mut sel = Vec::new();
        if let Some(s) = &self.source {
            sel.push(format!("source = \"{s}\""));
        }
        if let Some(n) = &self.name {
            sel.push(format!("name = \"{n}\""));
        }
        if let Some(d) = &self.digest {
            sel.push(format!("digest = \"{}\"", d.prefixed()));
        }
        format!("[[policy.artifacts]] {}", sel.join(", "))
    }
}

/// A revocation list signed as a Sigstore bundle, trusted only when one of
/// `signers` signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationList {
    /// The bundle file, relative to the policy file.
    pub bundle: String,
    pub signers: Vec<Signer>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RolePolicy {
    /// Predicate types every node of this role must carry. `None` when the
    /// table does not say (the verifier's default applies); `Some([])`
    /// requires nothing, explicitly.
    pub require: Option<Vec<String>>,
    pub signers: Vec<Signer>,
    /// A failure in a node of this role does not fail the root.
    pub optional: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// A public key file (PEM), relative to the manifest.
    Key(String),
    /// A keyless identity, matched exactly.
    Identity { identity: String, issuer: String },
    /// A keyless identity matched by a regular expression (explicit opt-in).
    IdentityRegexp { regexp: String, issuer: String },
}

impl From<&Policy> for ScanPolicy {
    /// The part of the policy the scanner obeys (sorted, without repeats).
    fn from(p: &Policy) -> Self {
        let mut deny: Vec<String> = p.formats_deny.iter().map(|k| k.to_string()).collect();
        let mut allow = p.formats_allow.clone();
        deny.sort();
        deny.dedup();
        allow.sort();
        allow.dedup();
        ScanPolicy { deny, allow }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_policy_from_formats() {
        let p = parse_file(
            "formats.deny = [\"pickle\", \"remote-code\", \"pickle\"]\nformats.allow = [\"pickle-global:os.*\"]\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(p.formats_deny, [Kind::Pickle, Kind::RemoteCode]);
        let s = ScanPolicy::from(&p);
        assert_eq!(s.deny, ["pickle", "remote-code"]);
        assert_eq!(s.allow, ["pickle-global:os.*"]);
        assert!(s.denies(Kind::Pickle) && !s.denies(Kind::Pytorch));
    }
}
