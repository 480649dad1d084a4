//! The `[policy]` section's validator (in `mlprov.toml` or a standalone
//! policy file), on the shared spanned-TOML [`Validator`]: every problem
//! with its span, a label and a fix, reported at once. Also the section's
//! shapes for the JSON Schema of `mlprov.toml`, held in step with the
//! validator by a unit test.

use toml_edit::{Item, TableLike, Value};

use crate::digest::Sha256Digest;
use crate::model::Role;
use crate::policy::{ArtifactRule, Policy, RevocationList, RolePolicy, Signer};
use crate::scan::Kind;
use crate::validate::{ManifestError, Validator, item_span};

pub(crate) const POLICY_KEYS: &[&str] = &[
    "licenses",
    "formats",
    "require-pinned-revisions",
    "builders",
    "revoked",
    "revocation-list",
    "artifact",
    "roles",
    "artifacts",
    "model-card",
];
pub(crate) const ARTIFACT_RULE_KEYS: &[&str] = &["source", "name", "digest", "require", "signers"];
pub(crate) const ROLE_POLICY_KEYS: &[&str] = &["require", "signers", "optional"];
pub(crate) const ARTIFACT_POLICY_KEYS: &[&str] = &["require", "signers"];
pub(crate) const REVOCATION_LIST_KEYS: &[&str] = &["bundle", "signers"];
pub(crate) const SIGNER_KEYS: &[&str] = &["key", "identity", "identity-regexp", "issuer"];

/// Parse a standalone policy file (`verify --policy policy.toml`): either a
/// `[policy]` table or the policy keys at the top level.
pub fn parse_file(text: &str, file: &str) -> Result<Policy, ManifestError> {
    let mut v = Validator::new(text);
    let policy = v.standalone_policy();
    match policy {
        Some(p) if v.problems.is_empty() => Ok(p),
        _ => Err(v.into_error(file)),
    }
}

/// The roles, for help lines.
fn role_list() -> String {
    Role::ALL
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The scanner kinds `formats.deny` and `formats.allow` take, for help lines.
fn kind_list() -> String {
    Kind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Validator<'_> {
    fn standalone_policy(&mut self) -> Option<Policy> {
        let doc = self.parse_doc()?;
        let root = doc.as_table();
        if root.contains_key("policy") {
            let keys: Vec<&str> = vec![
                "policy", "artifact", "inputs", "training", "build", "publish",
            ];
            self.check_keys(root, &keys, "the policy file");
            let t = self.get_table(root, "policy", "the policy file")?;
            Some(self.policy(t, "[policy]"))
        } else {
            Some(self.policy(root, "the policy file"))
        }
    }

    pub(crate) fn policy(&mut self, t: &dyn TableLike, where_: &str) -> Policy {
        self.check_keys(t, POLICY_KEYS, where_);
        let mut p = Policy::default();
        if let Some(l) = self.get_table(t, "licenses", where_) {
            let w = format!("{where_} licenses");
            self.check_keys(l, &["allow"], &w);
            for (e, s) in self.get_str_array(l, "allow", &w).unwrap_or_default() {
                if self.check_license(&e, s, "licenses.allow") {
                    p.licenses_allow.push(e);
                }
            }
        }
        if let Some(f) = self.get_table(t, "formats", where_) {
            let w = format!("{where_} formats");
            self.check_keys(f, &["deny", "allow"], &w);
            for (e, s) in self.get_str_array(f, "deny", &w).unwrap_or_default() {
                if let Some(kind) = Kind::parse(&e) {
                    if !p.formats_deny.contains(&kind) {
                        p.formats_deny.push(kind);
                    }
                } else {
                    self.problem(
                        "format",
                        format!("unknown format `{e}` in formats.deny"),
                        s,
                        Some("not a scanner format"),
                        Some(format!("formats are: {}", kind_list())),
                    );
                }
            }
            for (e, s) in self.get_str_array(f, "allow", &w).unwrap_or_default() {
                match crate::scan::finding::check_policy_entry(&e, true) {
                    Ok(()) => p.formats_allow.push(e),
                    Err(why) => self.problem(
                        "format",
                        format!("bad entry `{e}` in formats.allow: {why}"),
                        s,
                        Some("not KIND or KIND:SUBJECT"),
                        Some(format!(
                            "kinds are: {}; a subject is exact or ends in `*`",
                            kind_list()
                        )),
                    ),
                }
            }
        }
        p.require_pinned_revisions = self
            .get_bool(t, "require-pinned-revisions", where_)
            .unwrap_or(false);
        if let Some(b) = self.get_table(t, "builders", where_) {
            let w = format!("{where_} builders");
            self.check_keys(b, &["allow"], &w);
            p.builders_allow = self
                .get_str_array(b, "allow", &w)
                .unwrap_or_default()
                .into_iter()
                .map(|x| x.0)
                .collect();
        }
        for (d, s) in self.get_str_array(t, "revoked", where_).unwrap_or_default() {
            match Sha256Digest::parse_any(&d) {
                Ok(d) => p.revoked.push(d),
                Err(_) => self.problem(
                    "sha256",
                    format!("`{d}` in revoked is not a digest"),
                    s,
                    Some("expected sha256:<64 hex>"),
                    None,
                ),
            }
        }
        if let Some(rl) = self.get_table(t, "revocation-list", where_) {
            let w = format!("{where_} revocation-list");
            self.check_keys(rl, REVOCATION_LIST_KEYS, &w);
            let bundle = self.require_str(
                rl,
                "bundle",
                &w,
                self.key_span(t, "revocation-list"),
                "\"revoked.sigstore.json\"",
            );
            let signers = match rl.get("signers") {
                Some(item) => self.signers(item, &w),
                None => Vec::new(),
            };
            if signers.is_empty() {
                self.problem(
                    "signer",
                    format!("{w} names no signers: a revocation list nobody is trusted to sign proves nothing"),
                    self.key_span(t, "revocation-list"),
                    Some("no signers"),
                    Some("add `signers = [\"keys/security.pub\"]`".into()),
                );
            }
            if let Some((bundle, _)) = bundle {
                p.revocation_list = Some(RevocationList { bundle, signers });
            }
        }
        if let Some(at) = self.get_table(t, "artifact", where_) {
            let w = "[policy.artifact]".to_string();
            self.check_keys(at, ARTIFACT_POLICY_KEYS, &w);
            p.artifact = Some(self.role_policy(at, &w));
        }
        if let Some(roles) = self.get_table(t, "roles", where_) {
            for (role_name, item) in roles.iter() {
                let rs = self.key_span(roles, role_name);
                let Some(role) = Role::parse(role_name) else {
                    self.problem(
                        "role",
                        format!("unknown role `{role_name}` in {where_} roles"),
                        rs,
                        Some("not a role"),
                        Some(format!("roles are: {}", role_list())),
                    );
                    continue;
                };
                let w = format!("[policy.roles.{role_name}]");
                let Some(rt) = item.as_table_like() else {
                    self.problem(
                        "type",
                        format!("{w} must be a table"),
                        item_span(item).or(rs),
                        Some("expected a table"),
                        None,
                    );
                    continue;
                };
                self.check_keys(rt, ROLE_POLICY_KEYS, &w);
                let rp = self.role_policy(rt, &w);
                p.roles.insert(role, rp);
            }
        }
        if let Some(c) = self.get_table(t, "model-card", where_) {
            let w = format!("{where_} model-card");
            self.check_keys(c, &["require"], &w);
            for (f, span) in self.get_str_array(c, "require", &w).unwrap_or_default() {
                if !crate::verify::card::FIELDS.contains(&f.as_str()) {
                    self.problem(
                        "model-card",
                        format!("unknown model-card field `{f}` in model-card.require"),
                        span,
                        Some("not a model-card field"),
                        Some(format!(
                            "fields are: {}",
                            crate::verify::card::FIELDS.join(", ")
                        )),
                    );
                } else if !p.model_card_require.contains(&f) {
                    p.model_card_require.push(f);
                }
            }
        }
        if let Some(item) = t.get("artifacts") {
            p.artifacts = self.artifact_rules(t, item);
        }
        p
    }

    /// `[[policy.artifacts]]` (or `artifacts = [{ … }]`): rules with at
    /// least one selector.
    fn artifact_rules(&mut self, parent: &dyn TableLike, item: &Item) -> Vec<ArtifactRule> {
        let tables: Vec<(&dyn TableLike, crate::validate::Span)> = match item {
            Item::ArrayOfTables(a) => a.iter().map(|t| (t as &dyn TableLike, t.span())).collect(),
            Item::Value(Value::Array(a)) => {
                let mut out = Vec::new();
                for v in a.iter() {
                    match v.as_inline_table() {
                        Some(t) => out.push((t as &dyn TableLike, v.span())),
                        None => self.problem(
                            "type",
                            "every element of `artifacts` in [policy] must be a table",
                            v.span(),
                            Some("not a table"),
                            Some("write each rule as `[[policy.artifacts]]` with `source`, `name` or `digest`".into()),
                        ),
                    }
                }
                out
            }
            _ => {
                self.problem(
                    "type",
                    "`artifacts` in [policy] must be an array of tables",
                    item_span(item).or_else(|| self.key_span(parent, "artifacts")),
                    Some("expected `[[policy.artifacts]]`"),
                    Some("write each rule as `[[policy.artifacts]]` with `source`, `name` or `digest`".into()),
                );
                return Vec::new();
            }
        };
        let mut rules = Vec::new();
        for (i, (rt, span)) in tables.into_iter().enumerate() {
            let w = format!("[[policy.artifacts]] #{}", i + 1);
            self.check_keys(rt, ARTIFACT_RULE_KEYS, &w);
            let mut rule = ArtifactRule::default();
            for key in ["source", "name"] {
                if let Some((g, s)) = self.get_str(rt, key, &w) {
                    match globset::Glob::new(&g) {
                        Ok(_) if key == "source" => rule.source = Some(g),
                        Ok(_) => rule.name = Some(g),
                        Err(e) => self.problem(
                            "glob",
                            format!("`{g}` in `{key}` of {w} is not a valid glob"),
                            s,
                            Some(&e.kind().to_string()),
                            Some("globs use `*`, `?`, `[abc]` and `{a,b}`, e.g. `\"hf:meta-llama/*\"`".into()),
                        ),
                    }
                }
            }
            if let Some((d, s)) = self.get_str(rt, "digest", &w) {
                match Sha256Digest::parse_any(&d) {
                    Ok(d) => rule.digest = Some(d),
                    Err(_) => self.problem(
                        "sha256",
                        format!("`{d}` in {w} is not a digest"),
                        s,
                        Some("expected sha256:<64 hex>"),
                        None,
                    ),
                }
            }
            let has_selector = ["source", "name", "digest"]
                .iter()
                .any(|k| rt.contains_key(k));
            if !has_selector {
                self.problem(
                    "selector",
                    format!("{w} selects nothing: a rule needs `source`, `name` or `digest`"),
                    span,
                    Some("no selector"),
                    Some("e.g. `source = \"hf:meta-llama/*\"`, `name = \"base-model\"` or `digest = \"sha256:…\"`".into()),
                );
            }
            rule.require = self
                .get_str_array(rt, "require", &w)
                .unwrap_or_default()
                .into_iter()
                .map(|x| x.0)
                .collect();
            rule.require.dedup();
            if let Some(signers) = rt.get("signers") {
                rule.signers = self.signers(signers, &w);
            }
            rules.push(rule);
        }
        rules
    }

    fn role_policy(&mut self, rt: &dyn TableLike, w: &str) -> RolePolicy {
        let mut rp = RolePolicy {
            require: self.get_str_array(rt, "require", w).map(|v| {
                let mut r: Vec<String> = v.into_iter().map(|x| x.0).collect();
                r.dedup();
                r
            }),
            optional: self.get_bool(rt, "optional", w).unwrap_or(false),
            ..Default::default()
        };
        if let Some(signers) = rt.get("signers") {
            rp.signers = self.signers(signers, w);
        }
        rp
    }

    fn signers(&mut self, item: &Item, where_: &str) -> Vec<Signer> {
        let Some(arr) = item.as_array() else {
            self.problem(
                "type",
                format!("`signers` in {where_} must be an array"),
                item_span(item),
                Some("expected an array"),
                Some("e.g. `signers = [\"keys/platform.pub\", { identity = \"…\", issuer = \"…\" }]`".into()),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for v in arr.iter() {
            match v {
                Value::String(s) => out.push(Signer::Key(s.value().to_string())),
                Value::InlineTable(it) => {
                    self.check_keys(it, SIGNER_KEYS, &format!("a signer in {where_}"));
                    let get = |k: &str| it.get(k).and_then(|x| x.as_str()).map(str::to_string);
                    match (get("key"), get("identity"), get("identity-regexp"), get("issuer")) {
                        (Some(k), None, None, None) => out.push(Signer::Key(k)),
                        (None, Some(identity), None, Some(issuer)) => {
                            out.push(Signer::Identity { identity, issuer })
                        }
                        (None, None, Some(regexp), Some(issuer)) => {
                            out.push(Signer::IdentityRegexp { regexp, issuer })
                        }
                        _ => self.problem(
                            "signer",
                            format!("a signer in {where_} must be a key path, or `identity` (or `identity-regexp`) with `issuer`"),
                            v.span(),
                            Some("incomplete or ambiguous signer"),
                            Some("e.g. `{ identity = \"https://github.com/acme/data/.github/workflows/curate.yml@refs/heads/main\", issuer = \"https://token.actions.githubusercontent.com\" }`".into()),
                        ),
                    }
                }
                _ => self.problem(
                    "signer",
                    format!("a signer in {where_} must be a string or an inline table"),
                    v.span(),
                    Some("not a signer"),
                    None,
                ),
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------
// JSON Schema

pub mod schema {
    //! Shapes of the `[policy]` table, for the JSON Schema only. Validation
    //! is done by the walker above; a unit test keeps the two in step.
    use std::collections::BTreeMap;

    use schemars::JsonSchema;

    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    #[allow(dead_code)]
    pub struct PolicySchema {
        pub licenses: Option<AllowSchema>,
        pub formats: Option<DenySchema>,
        pub require_pinned_revisions: Option<bool>,
        pub builders: Option<AllowSchema>,
        /// Revoked digests (`sha256:…`).
        pub revoked: Option<Vec<String>>,
        pub revocation_list: Option<RevocationListSchema>,
        /// What the verified artifact itself (the root of the graph) needs.
        pub artifact: Option<ArtifactPolicySchema>,
        pub roles: Option<BTreeMap<String, RolePolicySchema>>,
        /// Rules for the artifacts they select, anywhere in the graph, on
        /// top of the rules of their role: both must hold. A rule selects a
        /// node when every selector it names matches: `source` and `name`
        /// are globs over the source and the input name the parent's
        /// provenance gives the node (`hf:meta-llama/*`,
        /// `oci:registry/repo`), `digest` its artifact digest. Its
        /// `require` adds to the role's; its `signers` must trust a bundle
        /// as well as the role's signers (when the role names any) for the
        /// bundle to count. The command line's `--key` keys apply only
        /// where neither the role nor a selecting rule names signers.
        pub artifacts: Option<Vec<ArtifactRuleSchema>>,
        pub model_card: Option<ModelCardSchema>,
    }

    /// `[policy.model-card]`: what the model's card (`README.md`: YAML
    /// front matter and Markdown sections) must give. A missing field is
    /// finding E0408 on the verified artifact.
    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct ModelCardSchema {
        /// Fields the card must have: `intended-use`, `training-data`,
        /// `evaluation`, `limitations`, `license`.
        pub require: Option<Vec<String>>,
    }

    /// One `[[policy.artifacts]]` rule: at least one of `source`, `name`,
    /// `digest`.
    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct ArtifactRuleSchema {
        /// Glob over the source (`hf:org/name`, `hf-dataset:org/name`,
        /// `oci:registry/repo`, `path:dir/`, `url:https://…`).
        pub source: Option<String>,
        /// Glob over the input name the parent's provenance gives the node.
        pub name: Option<String>,
        /// The artifact digest (`sha256:…`).
        pub digest: Option<String>,
        /// Predicate types the selected artifacts must also carry.
        pub require: Option<Vec<String>>,
        /// Signers that must also trust each bundle that counts.
        pub signers: Option<Vec<SignerSchema>>,
    }

    /// A revocation list signed as a Sigstore bundle (predicate
    /// `https://mlprov.dev/revocation/v1`).
    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct RevocationListSchema {
        /// The bundle file, relative to the policy file.
        pub bundle: String,
        /// Who may sign it.
        pub signers: Vec<SignerSchema>,
    }

    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct ArtifactPolicySchema {
        /// Predicate types the verified artifact must carry.
        pub require: Option<Vec<String>>,
        pub signers: Option<Vec<SignerSchema>>,
    }

    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct AllowSchema {
        pub allow: Option<Vec<String>>,
    }

    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct DenySchema {
        pub deny: Option<Vec<String>>,
        /// Findings allowed after review: `KIND` or `KIND:SUBJECT`.
        pub allow: Option<Vec<String>>,
    }

    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct RolePolicySchema {
        /// Predicate types required for nodes of this role.
        pub require: Option<Vec<String>>,
        pub signers: Option<Vec<SignerSchema>>,
        /// Failures in this role do not fail the root.
        pub optional: Option<bool>,
    }

    #[derive(JsonSchema)]
    #[serde(untagged)]
    #[allow(dead_code)]
    pub enum SignerSchema {
        /// Path to a PEM public key.
        Key(String),
        Table(SignerTableSchema),
    }

    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    #[allow(dead_code)]
    pub struct SignerTableSchema {
        pub key: Option<String>,
        pub identity: Option<String>,
        pub identity_regexp: Option<String>,
        pub issuer: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_keys_match_validator() {
        let s: serde_json::Value = serde_json::from_str(&crate::manifest::schema::json()).unwrap();
        let props = |path: &str| -> Vec<String> {
            let mut v: Vec<String> = s
                .pointer(path)
                .and_then(|p| p.as_object())
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            v.sort();
            v
        };
        let sorted = |k: &[&str]| {
            let mut v: Vec<String> = k.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        };
        assert_eq!(props("/$defs/PolicySchema/properties"), sorted(POLICY_KEYS));
        assert_eq!(
            props("/$defs/RolePolicySchema/properties"),
            sorted(ROLE_POLICY_KEYS)
        );
        assert_eq!(
            props("/$defs/ArtifactPolicySchema/properties"),
            sorted(ARTIFACT_POLICY_KEYS)
        );
        assert_eq!(
            props("/$defs/RevocationListSchema/properties"),
            sorted(REVOCATION_LIST_KEYS)
        );
        assert_eq!(
            props("/$defs/ArtifactRuleSchema/properties"),
            sorted(ARTIFACT_RULE_KEYS)
        );
    }

    #[test]
    fn artifact_rules() {
        let p = parse_file(
            r#"
[[policy.artifacts]]
source = "hf:meta-llama/*"
signers = ["keys/platform.pub"]
require = ["https://mlprov.dev/scan/v1"]

[[policy.artifacts]]
name = "base-*"
digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
"#,
            "p.toml",
        )
        .unwrap();
        assert_eq!(p.artifacts.len(), 2);
        assert_eq!(p.artifacts[0].source.as_deref(), Some("hf:meta-llama/*"));
        assert_eq!(
            p.artifacts[0].signers,
            [Signer::Key("keys/platform.pub".into())]
        );
        assert_eq!(
            p.artifacts[0].describe(),
            "[[policy.artifacts]] source = \"hf:meta-llama/*\""
        );
        assert!(p.artifacts[1].digest.is_some() && p.artifacts[1].signers.is_empty());
        // Inline tables too.
        let p = parse_file("artifacts = [{ name = \"x\" }]\n", "p.toml").unwrap();
        assert_eq!(p.artifacts[0].name.as_deref(), Some("x"));
        // Every problem at once: no selector, a bad glob, a bad digest, an
        // unknown key.
        let e = parse_file(
            "[[policy.artifacts]]\nrequire = []\n[[policy.artifacts]]\nsource = \"hf:[x\"\ndigest = \"nope\"\nsigner = []\n",
            "p.toml",
        )
        .unwrap_err();
        let codes: Vec<&str> = e.problems.iter().map(|p| p.code).collect();
        assert_eq!(
            codes,
            ["selector", "unknown-key", "glob", "sha256"],
            "{:#?}",
            e.problems
        );
        assert!(parse_file("artifacts = 3\n", "p.toml").is_err());
    }

    #[test]
    fn every_scanner_kind_is_a_format() {
        let text = format!(
            "[policy]\nformats.deny = [{}]\n",
            Kind::ALL
                .iter()
                .map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let p = parse_file(&text, "p.toml").unwrap();
        assert_eq!(p.formats_deny, Kind::ALL);
        let e = parse_file("formats.deny = [\"pickles\"]\n", "p.toml").unwrap_err();
        assert_eq!(e.problems.len(), 1);
        assert!(
            e.problems[0]
                .help
                .as_deref()
                .unwrap()
                .contains("keras-lambda")
        );
    }
}
