//! The verification policy, resolved: `[policy]` from `mlprov.toml` or a
//! standalone policy file, with every signer key loaded and the revocation
//! list read and verified, before the graph walk starts.
//!
//! Per role (and for the verified artifact itself, `[policy.artifact]`):
//!
//! - `require`: predicate types that must be proven. A role the policy does
//!   not mention, or a role table without `require`, needs SLSA provenance
//!   (an origin attestation) by default; `require = []` needs nothing,
//!   explicitly.
//! - `signers`: the only signers trusted for nodes of that role. Without
//!   `signers`, the keys given with `verify --key` are trusted.
//! - `optional = true`: a failing node of that role does not fail the root.
//!
//! `[[policy.artifacts]]` rules select nodes by `source`, `name` (globs over
//! what the parent's provenance says: `hf:meta-llama/*`, the input name) or
//! `digest`, wherever they sit. They add to the role's rules; both must
//! hold: the rule's `require` is required as well, and a bundle counts only
//! when the role's signers (when the role names any) and every selecting
//! rule's signers (when it names any) trust it. Where neither the role nor
//! a selecting rule names signers, the `--key` keys are trusted. Each
//! combination of a role and the rules selecting a node is a *context* the
//! node is judged under ([`ContextRules`]); a node must pass every context
//! it is reached in.
//!
//! Keyless identities (`{ identity, issuer }`, `{ identity-regexp, issuer }`)
//! need the Sigstore trusted root, loaded the first time one is named.
//!
//! # The signed revocation list
//!
//! `revocation-list = { bundle = "revoked.sigstore.json", signers = ["keys/security.pub"] }`
//! names a Sigstore bundle (v0.3, DSSE, as `mlprov attest` writes) whose
//! in-toto statement has predicate type [`PREDICATE_REVOCATION`]. Its
//! subjects are the revoked artifacts (`{name, digest: {sha256}}`), and its
//! predicate is
//!
//! ```json
//! {"revoked": [{"digest": "sha256:…", "reason": "poisoned base model (CVE-…)"}]}
//! ```
//!
//! A digest is revoked when it is a subject or listed in `revoked`. The
//! bundle must verify against one of the list's own `signers`: a list that
//! is missing, unreadable, unsigned or signed by anyone else stops
//! verification (exit 2), because an unverifiable revocation list cannot be
//! ignored safely. `mlprov revoke` writes such a bundle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::intoto::{PREDICATE_SLSA_PROVENANCE, Statement};
use crate::model::Role;
use crate::policy::{Policy, RolePolicy, Signer as PolicySigner};
use crate::scan::ScanPolicy;
use crate::sign::bundle;
use crate::sign::keys::PublicKey;
use crate::sign::trust::{IdentityRule, Trust};
use crate::verify::rego::RegoPolicy;

/// Predicate type of a signed revocation list.
pub const PREDICATE_REVOCATION: &str = "https://mlprov.dev/revocation/v1";

/// The rules for nodes of one role (or for the root).
#[derive(Debug, Clone, Default)]
pub struct RoleRules {
    /// Predicate types that must be proven.
    pub require: Vec<String>,
    /// Whether `require` was written in the policy (else it is the default).
    pub require_explicit: bool,
    pub trust: Trust,
    /// Whether the policy names the signers (else the `--key` keys apply).
    pub signers_explicit: bool,
    pub optional: bool,
}

/// One revoked digest and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The revocation predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationPredicate {
    pub revoked: Vec<Revocation>,
}

/// The policy the graph walk applies, with keys loaded.
#[derive(Debug, Clone, Default)]
pub struct VerifyPolicy {
    /// Where the policy came from (`mlprov.toml`, a file), for reports.
    pub source: Option<String>,
    /// SHA-256 of the policy file(s), for the VSA.
    pub digest: Option<Sha256Digest>,
    pub licenses_allow: Vec<String>,
    pub scan: ScanPolicy,
    pub require_pinned_revisions: bool,
    pub builders_allow: Vec<String>,
    /// Revoked digest → where it was revoked and why.
    pub revoked: BTreeMap<Sha256Digest, String>,
    pub root: RoleRules,
    pub roles: BTreeMap<Role, RoleRules>,
    /// Rules for a role the policy does not mention.
    pub default_rules: RoleRules,
    /// `[[policy.artifacts]]`, in the order written.
    pub artifacts: Vec<NodeRule>,
    pub rego: Option<RegoPolicy>,
    /// `[policy.model-card] require`: fields the root's `README.md` must have.
    pub model_card_require: Vec<String>,
}

/// A `[[policy.artifacts]]` rule, resolved: globs compiled, keys loaded.
#[derive(Debug, Clone)]
pub struct NodeRule {
    /// The rule in words, for messages.
    pub label: String,
    source: Option<globset::GlobMatcher>,
    name: Option<globset::GlobMatcher>,
    digest: Option<Sha256Digest>,
    pub require: Vec<String>,
    /// `None` when the rule names no signers.
    pub trust: Option<Trust>,
}

/// What a node is known by, to the rules that select nodes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection<'a> {
    pub digest: Option<&'a Sha256Digest>,
    /// The input name the parent's provenance gives the node.
    pub name: Option<&'a str>,
    /// The source the parent's provenance names (`hf:org/name`, …).
    pub source: Option<&'a str>,
}

impl NodeRule {
    /// Every selector the rule names matches.
    pub fn selects(&self, s: &Selection<'_>) -> bool {
        let glob = |g: &Option<globset::GlobMatcher>, v: Option<&str>| match g {
            None => true,
            Some(g) => v.is_some_and(|v| g.is_match(v)),
        };
        glob(&self.source, s.source)
            && glob(&self.name, s.name)
            && self.digest.is_none_or(|d| s.digest == Some(&d))
    }
}

/// The rules one context of a node is judged under: its role's and those
/// of the `[[policy.artifacts]]` rules that select it.
#[derive(Debug, Clone)]
pub struct ContextRules<'a> {
    /// The role name (`artifact` for the root).
    pub role: String,
    /// Predicate types that must be proven (the role's, then the rules').
    pub require: Vec<String>,
    /// Requirements the policy wrote down (not the default provenance).
    pub require_explicit: bool,
    /// Every trust a bundle must satisfy to count, with what it is, for
    /// messages: `[policy.roles.base-model] signers`.
    pub trusts: Vec<(String, &'a Trust)>,
    pub optional: bool,
    /// Indices of the selecting rules in [`VerifyPolicy::artifacts`].
    pub rules: Vec<usize>,
}

impl ContextRules<'_> {
    /// `trusts` as `(label, trust)` pairs for [`crate::verify::node::verify_bundle`].
    pub fn trust_refs(&self) -> Vec<(&str, &Trust)> {
        self.trusts.iter().map(|(l, t)| (l.as_str(), *t)).collect()
    }
}

/// A policy problem found before verification (exit 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PolicyError {
    #[error("policy {policy}: signer key {path}: {reason}")]
    #[diagnostic(
        code(mlprov::policy::key),
        help("signer keys are PEM public keys, relative to the policy file")
    )]
    Key {
        policy: String,
        path: String,
        reason: String,
    },
    #[error("revocation list {path}: {reason}")]
    #[diagnostic(
        code("mlprov::policy::revocation-list"),
        help(
            "the revocation list must be a Sigstore bundle with predicate https://mlprov.dev/revocation/v1 signed by one of its `signers`; write one with `mlprov revoke`"
        )
    )]
    RevocationList { path: String, reason: String },
    #[error("policy {policy}: signer identity-regexp `{regexp}`: {reason}")]
    #[diagnostic(
        code("mlprov::policy::identity-regexp"),
        help(
            "identity-regexp is a Rust regex matched against the whole certificate identity, e.g. `https://github\\.com/acme/.*/\\.github/workflows/release\\.yml@refs/tags/v.*`"
        )
    )]
    IdentityRegexp {
        policy: String,
        regexp: String,
        reason: String,
    },
    #[error(
        "policy {policy} trusts keyless signers, but the Sigstore trusted root is not usable: {reason}"
    )]
    #[diagnostic(
        code("mlprov::policy::trusted-root"),
        help("pass --trusted-root FILE (a trusted_root.json), or --refresh-trusted-root")
    )]
    TrustedRoot { policy: String, reason: String },
    #[error("policy {policy}: glob `{glob}`: {reason}")]
    #[diagnostic(
        code(mlprov::policy::glob),
        help("globs use `*`, `?`, `[abc]` and `{{a,b}}`; `*` does not cross a `/`")
    )]
    Glob {
        policy: String,
        glob: String,
        reason: String,
    },
}

impl VerifyPolicy {
    /// Rules for a role.
    pub fn rules(&self, role: Role) -> &RoleRules {
        self.roles.get(&role).unwrap_or(&self.default_rules)
    }

    /// The `[[policy.artifacts]]` rules that select a node, by index.
    pub fn selecting(&self, s: &Selection<'_>) -> Vec<usize> {
        self.artifacts
            .iter()
            .enumerate()
            .filter(|(_, r)| r.selects(s))
            .map(|(i, _)| i)
            .collect()
    }

    /// The rules of a context: `role` (`None` for the root, `role_name`
    /// `artifact`) with the selecting `rules`.
    pub fn context(
        &self,
        role: Option<Role>,
        role_name: &str,
        rules: &[usize],
    ) -> ContextRules<'_> {
        let (base, label) = match role {
            None => (
                &self.root,
                "[policy.artifact] signers and the --key keys".to_string(),
            ),
            Some(r) => (self.rules(r), format!("[policy.roles.{role_name}] signers")),
        };
        let mut require = base.require.clone();
        let mut require_explicit = base.require_explicit;
        let mut trusts: Vec<(String, &Trust)> = Vec::new();
        if role.is_none() || base.signers_explicit {
            let label = if role.is_none() && !base.signers_explicit {
                "the --key keys".to_string()
            } else {
                label
            };
            trusts.push((label, &base.trust));
        }
        for &i in rules {
            let Some(rule) = self.artifacts.get(i) else {
                continue;
            };
            for r in &rule.require {
                if !require.contains(r) {
                    require.push(r.clone());
                }
            }
            require_explicit |= !rule.require.is_empty();
            if let Some(t) = &rule.trust {
                trusts.push((format!("{} signers", rule.label), t));
            }
        }
        if trusts.is_empty() {
            trusts.push(("the --key keys".to_string(), &self.default_rules.trust));
        }
        ContextRules {
            role: role_name.to_string(),
            require,
            require_explicit,
            trusts,
            optional: role.is_some() && base.optional,
            rules: rules.to_vec(),
        }
    }
}

/// What the command line adds: trusted keys and roots, and required types
/// for the root.
pub struct CliTrust<'a> {
    pub trust: &'a Trust,
    pub require: &'a [String],
    /// The Sigstore trusted root, loaded the first time a keyless signer
    /// needs it (the command line's, or one the policy names).
    pub sigstore: &'a dyn Fn() -> Result<std::sync::Arc<crate::sign::keyless::TrustedRoot>, String>,
}

/// Add a policy signer to `trust`.
fn add_signer(
    trust: &mut Trust,
    s: &PolicySigner,
    base: &Path,
    src: &str,
    sigstore: &dyn Fn() -> Result<std::sync::Arc<crate::sign::keyless::TrustedRoot>, String>,
) -> Result<(), PolicyError> {
    let rule = match s {
        PolicySigner::Key(path) => {
            trust.keys.push(load_key(base, path, src)?);
            return Ok(());
        }
        PolicySigner::Identity { identity, issuer } => IdentityRule::exact(identity, issuer),
        PolicySigner::IdentityRegexp { regexp, issuer } => IdentityRule::regexp(regexp, issuer)
            .map_err(|e| PolicyError::IdentityRegexp {
                policy: src.to_string(),
                regexp: regexp.clone(),
                reason: e.to_string(),
            })?,
    };
    trust.identities.push(rule);
    if trust.sigstore.is_none() {
        trust.sigstore = Some(sigstore().map_err(|reason| PolicyError::TrustedRoot {
            policy: src.to_string(),
            reason,
        })?);
    }
    Ok(())
}

/// Resolve `policy` (read from `source`, whose keys are relative to `base`).
pub fn resolve(
    policy: &Policy,
    source: Option<String>,
    digest: Option<Sha256Digest>,
    base: &Path,
    cli: CliTrust<'_>,
) -> Result<VerifyPolicy, PolicyError> {
    let src = source.clone().unwrap_or_else(|| "(command line)".into());
    let default_require = vec![PREDICATE_SLSA_PROVENANCE.to_string()];
    let rules = |rp: Option<&RolePolicy>, default_require: &[String]| {
        let mut r = RoleRules {
            require: default_require.to_vec(),
            trust: cli.trust.clone(),
            ..Default::default()
        };
        if let Some(rp) = rp {
            if let Some(req) = &rp.require {
                r.require = req.clone();
                r.require_explicit = true;
            }
            r.optional = rp.optional;
            if !rp.signers.is_empty() {
                r.signers_explicit = true;
                r.trust = Trust::default();
                for s in &rp.signers {
                    add_signer(&mut r.trust, s, base, &src, cli.sigstore)?;
                }
            }
        }
        Ok::<_, PolicyError>(r)
    };

    let mut out = VerifyPolicy {
        source,
        digest,
        licenses_allow: policy.licenses_allow.clone(),
        scan: ScanPolicy::from(policy),
        require_pinned_revisions: policy.require_pinned_revisions,
        builders_allow: policy.builders_allow.clone(),
        model_card_require: policy.model_card_require.clone(),
        ..Default::default()
    };
    // The root: [policy.artifact], plus what the command line requires and
    // trusts (the user named those keys for this verification).
    let mut root = rules(policy.artifact.as_ref(), &[])?;
    root.optional = false;
    if root.signers_explicit {
        root.trust.keys.extend(cli.trust.keys.iter().cloned());
        root.trust.roots.extend(cli.trust.roots.iter().cloned());
        root.trust
            .identities
            .extend(cli.trust.identities.iter().cloned());
        if root.trust.sigstore.is_none() {
            root.trust.sigstore = cli.trust.sigstore.clone();
        }
    }
    for r in cli.require {
        if !root.require.contains(r) {
            root.require.push(r.clone());
        }
    }
    out.root = root;
    for (role, rp) in &policy.roles {
        out.roles.insert(*role, rules(Some(rp), &default_require)?);
    }
    out.default_rules = rules(None, &default_require)?;
    for rule in &policy.artifacts {
        let glob = |g: &Option<String>| {
            g.as_deref()
                .map(|g| {
                    globset::GlobBuilder::new(g)
                        .literal_separator(true)
                        .build()
                        .map(|g| g.compile_matcher())
                        .map_err(|e| PolicyError::Glob {
                            policy: src.clone(),
                            glob: g.to_string(),
                            reason: e.to_string(),
                        })
                })
                .transpose()
        };
        let trust = if rule.signers.is_empty() {
            None
        } else {
            let mut t = Trust::default();
            for s in &rule.signers {
                add_signer(&mut t, s, base, &src, cli.sigstore)?;
            }
            Some(t)
        };
        out.artifacts.push(NodeRule {
            label: rule.describe(),
            source: glob(&rule.source)?,
            name: glob(&rule.name)?,
            digest: rule.digest,
            require: rule.require.clone(),
            trust,
        });
    }
    for d in &policy.revoked {
        out.revoked.insert(*d, format!("revoked in {src}"));
    }
    if let Some(list) = &policy.revocation_list {
        let path = base.join(&list.bundle);
        let mut trust = Trust::default();
        for s in &list.signers {
            add_signer(&mut trust, s, base, &src, cli.sigstore)?;
        }
        let bytes = std::fs::read(&path).map_err(|e| PolicyError::RevocationList {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let entries =
            read_revocation_list(&bytes, &trust).map_err(|reason| PolicyError::RevocationList {
                path: path.display().to_string(),
                reason,
            })?;
        for (d, reason) in entries {
            out.revoked.entry(d).or_insert_with(|| match reason {
                Some(r) => format!("revoked by {} ({r})", list.bundle),
                None => format!("revoked by {}", list.bundle),
            });
        }
    }
    Ok(out)
}

fn load_key(base: &Path, path: &str, policy: &str) -> Result<PublicKey, PolicyError> {
    let full: PathBuf = base.join(path);
    let mut key = PublicKey::load(&full).map_err(|e| PolicyError::Key {
        policy: policy.to_string(),
        path: full.display().to_string(),
        reason: e.to_string(),
    })?;
    key.label = path.to_string();
    Ok(key)
}

/// Verify a revocation-list bundle and return the revoked digests.
pub fn read_revocation_list(
    bytes: &[u8],
    trust: &Trust,
) -> Result<Vec<(Sha256Digest, Option<String>)>, String> {
    let b = bundle::parse(bytes).map_err(|e| e.to_string())?;
    crate::sign::verify::verify(&b, trust).map_err(|e| e.to_string())?;
    if b.statement.predicate_type != PREDICATE_REVOCATION {
        return Err(format!(
            "predicate type is {}, not {PREDICATE_REVOCATION}",
            b.statement.predicate_type
        ));
    }
    let pred: RevocationPredicate = serde_json::from_value(b.statement.predicate.clone())
        .map_err(|e| format!("not a revocation predicate: {e}"))?;
    let mut out: Vec<(Sha256Digest, Option<String>)> = Vec::new();
    for r in &pred.revoked {
        let d = Sha256Digest::parse_any(&r.digest)
            .map_err(|_| format!("`{}` in revoked is not a sha256 digest", r.digest))?;
        out.push((d, r.reason.clone()));
    }
    for s in &b.statement.subject {
        if let Some(d) = s.sha256_digest()
            && !out.iter().any(|(x, _)| *x == d)
        {
            out.push((d, None));
        }
    }
    Ok(out)
}

/// The statement of a revocation list (what `mlprov revoke` signs).
pub fn revocation_statement(entries: &[(Sha256Digest, Option<String>)]) -> Statement {
    let mut seen = BTreeSet::new();
    let mut subject = Vec::new();
    let mut revoked = Vec::new();
    for (d, reason) in entries {
        if !seen.insert(*d) {
            continue;
        }
        subject.push(crate::intoto::ResourceDescriptor::sha256(d.prefixed(), d));
        revoked.push(Revocation {
            digest: d.prefixed(),
            reason: reason.clone(),
        });
    }
    Statement::new(
        subject,
        PREDICATE_REVOCATION,
        serde_json::to_value(RevocationPredicate { revoked }).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::keys::{KeyAlgorithm, SigningKey};

    #[test]
    fn revocation_list_round_trip_and_trust() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let other = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let a = Sha256Digest::of(b"a");
        let st = revocation_statement(&[(a, Some("poisoned".into())), (a, None)]);
        let bytes = bundle::sign_statement(&serde_json::to_vec(&st).unwrap(), &key).unwrap();
        let trust = Trust {
            keys: vec![key.public_key().unwrap()],
            roots: Vec::new(),
            ..Default::default()
        };
        let got = read_revocation_list(&bytes, &trust).unwrap();
        assert_eq!(got, vec![(a, Some("poisoned".to_string()))]);
        let wrong = Trust {
            keys: vec![other.public_key().unwrap()],
            roots: Vec::new(),
            ..Default::default()
        };
        assert!(read_revocation_list(&bytes, &wrong).is_err());
        // Another predicate type signed by the right key is not a list.
        let mut st2 = st.clone();
        st2.predicate_type = "https://example.com/x".into();
        let b2 = bundle::sign_statement(&serde_json::to_vec(&st2).unwrap(), &key).unwrap();
        assert!(read_revocation_list(&b2, &trust).is_err());
    }

    #[test]
    fn defaults_and_explicit_roles() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        std::fs::write(dir.path().join("p.pub"), key.public_key().unwrap().to_pem()).unwrap();
        let text = r#"
[policy.roles.base-model]
signers = ["p.pub"]
[policy.roles.test-data]
require = []
optional = true
[policy.roles.training-data]
require = ["https://mlprov.dev/scan/v1"]
signers = [{ identity = "https://x/wf.yml@refs/heads/main", issuer = "https://token.actions.githubusercontent.com" }]
"#;
        let p = crate::policy::parse_file(text, "p.toml").unwrap();
        let cli = Trust::default();
        let v = resolve(
            &p,
            Some("p.toml".into()),
            None,
            dir.path(),
            CliTrust {
                trust: &cli,
                require: &[],
                sigstore: &|| {
                    crate::sign::keyless::TrustedRoot::public_good()
                        .map(std::sync::Arc::new)
                        .map_err(|e| e.to_string())
                },
            },
        )
        .unwrap();
        let base = v.rules(Role::BaseModel);
        assert_eq!(base.require, [PREDICATE_SLSA_PROVENANCE]);
        assert!(!base.require_explicit);
        assert_eq!(base.trust.keys.len(), 1);
        assert!(v.rules(Role::TestData).require.is_empty());
        assert!(v.rules(Role::TestData).optional);
        let td = v.rules(Role::TrainingData);
        assert!(td.trust.keys.is_empty() && td.trust.identities.len() == 1);
        assert!(td.trust.sigstore.is_some());
        assert!(td.trust.identities[0].matches(
            "https://x/wf.yml@refs/heads/main",
            "https://token.actions.githubusercontent.com"
        ));
        assert_eq!(v.rules(Role::Config).require, [PREDICATE_SLSA_PROVENANCE]);
        assert!(v.root.require.is_empty());
    }
}
