//! `mlprov.toml`: the typed manifest and its validation.
//!
//! Parsing walks the `toml_edit` document instead of deserializing with
//! serde, so that every problem in the file is collected with its span and a
//! fix, and reported at once (cargo-deny's two-phase validation).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use toml_edit::{Item, TableLike, Value};

use crate::digest::Sha256Digest;
use crate::model::{ArtifactKind, Role};

pub const MANIFEST_FILE: &str = "mlprov.toml";

/// The parsed, validated manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub artifact: Artifact,
    /// Inputs by name (sorted).
    pub inputs: BTreeMap<String, Input>,
    pub training: Option<Training>,
    pub build: BuildSettings,
    pub policy: Policy,
    pub publish: Option<Publish>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    pub name: String,
    pub version: String,
    pub kind: ArtifactKind,
    /// The build's output directory, relative to the project root.
    pub path: String,
    pub license: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub name: String,
    pub role: Role,
    pub source: Source,
    pub license: Option<String>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A Hugging Face model repository.
    Hf { repo: String, revision: String },
    /// A Hugging Face dataset repository.
    HfDataset { repo: String, revision: String },
    /// A file or directory inside the project.
    Path { path: String },
    /// A download with a known digest.
    Url { url: String, sha256: Sha256Digest },
    /// An OCI artifact.
    Oci { reference: String },
}

impl Source {
    /// The lock's `source` string: `hf:org/name`, `path:data/x`, …
    pub fn lock_source(&self) -> String {
        match self {
            Source::Hf { repo, .. } => format!("hf:{repo}"),
            Source::HfDataset { repo, .. } => format!("hf-dataset:{repo}"),
            Source::Path { path } => format!("path:{path}"),
            Source::Url { url, .. } => format!("url:{url}"),
            Source::Oci { reference } => format!("oci:{reference}"),
        }
    }

    /// The revision the manifest asked for, when the source has one.
    pub fn requested(&self) -> Option<&str> {
        match self {
            Source::Hf { revision, .. } | Source::HfDataset { revision, .. } => Some(revision),
            Source::Oci { reference } => oci_tag_or_digest(reference),
            _ => None,
        }
    }

    pub fn kind_key(&self) -> &'static str {
        match self {
            Source::Hf { .. } => "hf",
            Source::HfDataset { .. } => "hf-dataset",
            Source::Path { .. } => "path",
            Source::Url { .. } => "url",
            Source::Oci { .. } => "oci",
        }
    }
}

fn oci_tag_or_digest(reference: &str) -> Option<&str> {
    if let Some((_, d)) = reference.rsplit_once('@') {
        return Some(d);
    }
    let last = reference.rsplit('/').next().unwrap_or(reference);
    last.rsplit_once(':').map(|(_, t)| t)
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Training {
    pub command: Vec<String>,
    pub config: Option<String>,
    pub python: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BuildSettings {
    /// Also write a CycloneDX 1.6 ML-BOM.
    pub cyclonedx: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Publish {
    pub registry: Option<String>,
}

/// Verification and admission policy (`[policy]`, or a standalone policy file).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Policy {
    /// SPDX expressions allowed for inputs and outputs. Empty: no check.
    pub licenses_allow: Vec<String>,
    /// Scanner format/finding kinds that fail (`pickle`, `remote-code`, …).
    pub formats_deny: Vec<String>,
    /// Scanner findings allowed after review: a kind (`remote-code`) or
    /// `KIND:SUBJECT` (`pickle-global:sklearn.*`). See `scan::ScanPolicy`.
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

/// Scanner kinds `formats.deny` and `formats.allow` understand (the names
/// of `scan::Kind`; stable).
pub const DENIABLE_FORMATS: &[&str] = &[
    "pickle",
    "pytorch",
    "torchscript",
    "numpy-object",
    "keras-lambda",
    "remote-code",
    "gguf-chat-template",
    "unknown",
    "pickle-global",
    "keras-module",
    "malformed",
    "polyglot",
];

// ---------------------------------------------------------------------------
// Errors

/// One problem in a manifest, with where it is and how to fix it.
#[derive(Debug, Clone)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
    pub span: Option<Range<usize>>,
    pub label: Option<String>,
    pub help: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("mlprov::manifest::{}", self.code)))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            self.label.clone(),
            span,
        ))))
    }
}

/// Every problem found in one file.
#[derive(Debug)]
pub struct ManifestError {
    pub file: String,
    pub src: NamedSource<Arc<String>>,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "{}: {}", self.file, one.message),
            many => write!(f, "{}: {} problems", self.file, many.len()),
        }
    }
}

impl std::error::Error for ManifestError {}

impl Diagnostic for ManifestError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self.problems.as_slice() {
            [one] => one.code(),
            _ => Some(Box::new("mlprov::manifest")),
        }
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self.problems.as_slice() {
            [one] => one.help(),
            _ => None,
        }
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        match self.problems.as_slice() {
            [one] => one.labels(),
            _ => None,
        }
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.src)
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.problems.len() > 1 {
            Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
        } else {
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing

impl Manifest {
    /// Read and validate `path`.
    pub fn load(path: &Path) -> Result<Manifest, ManifestLoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestLoadError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Self::parse(&text, &path.display().to_string())?)
    }

    /// Validate manifest text. `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Manifest, ManifestError> {
        let mut v = Validator::new(text);
        let manifest = v.manifest();
        match manifest {
            Some(m) if v.problems.is_empty() => Ok(m),
            _ => Err(v.into_error(file)),
        }
    }
}

/// Parse a standalone policy file (`verify --policy policy.toml`): either a
/// `[policy]` table or the policy keys at the top level.
pub fn parse_policy_file(text: &str, file: &str) -> Result<Policy, ManifestError> {
    let mut v = Validator::new(text);
    let policy = v.standalone_policy();
    match policy {
        Some(p) if v.problems.is_empty() => Ok(p),
        _ => Err(v.into_error(file)),
    }
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ManifestLoadError {
    #[error("cannot read {path}: {source}")]
    #[diagnostic(
        code(mlprov::manifest::io),
        help("run `mlprov init` to create one, or pass `-C DIR` to point at the project")
    )]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(#[from] ManifestError),
}

const TOP_KEYS: &[&str] = &[
    "artifact", "inputs", "training", "build", "policy", "publish",
];
const ARTIFACT_KEYS: &[&str] = &["name", "version", "kind", "path", "license", "description"];
const SOURCE_KEYS: &[&str] = &["hf", "hf-dataset", "path", "url", "oci"];
const INPUT_KEYS: &[&str] = &[
    "hf",
    "hf-dataset",
    "path",
    "url",
    "oci",
    "revision",
    "sha256",
    "role",
    "license",
    "include",
    "exclude",
];
const TRAINING_KEYS: &[&str] = &["command", "config", "python"];
const BUILD_KEYS: &[&str] = &["cyclonedx"];
const PUBLISH_KEYS: &[&str] = &["registry"];
const POLICY_KEYS: &[&str] = &[
    "licenses",
    "formats",
    "require-pinned-revisions",
    "builders",
    "revoked",
    "revocation-list",
    "artifact",
    "roles",
];
const ROLE_POLICY_KEYS: &[&str] = &["require", "signers", "optional"];
const ARTIFACT_POLICY_KEYS: &[&str] = &["require", "signers"];
const REVOCATION_LIST_KEYS: &[&str] = &["bundle", "signers"];
const SIGNER_KEYS: &[&str] = &["key", "identity", "identity-regexp", "issuer"];

struct Validator<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

type Span = Option<Range<usize>>;

fn item_span(item: &Item) -> Span {
    match item {
        Item::Value(v) => v.span(),
        Item::Table(t) => t.span(),
        Item::ArrayOfTables(a) => a.span(),
        Item::None => None,
    }
}

fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(v) => match v {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a datetime",
            Value::Array(_) => "an array",
            Value::InlineTable(_) => "an inline table",
        },
    }
}

impl<'a> Validator<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            problems: Vec::new(),
        }
    }

    fn into_error(self, file: &str) -> ManifestError {
        ManifestError {
            file: file.to_string(),
            src: NamedSource::new(file, Arc::new(self.text.to_string())).with_language("toml"),
            problems: self.problems,
        }
    }

    fn problem(
        &mut self,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: Option<&str>,
        help: Option<String>,
    ) {
        self.problems.push(Problem {
            code,
            message: message.into(),
            span,
            label: label.map(str::to_string),
            help,
        });
    }

    fn parse_doc(&mut self) -> Option<toml_edit::Document<String>> {
        match toml_edit::Document::parse(self.text.to_string()) {
            Ok(d) => Some(d),
            Err(e) => {
                let msg = e.message().trim().to_string();
                self.problem(
                    "syntax",
                    format!("invalid TOML: {msg}"),
                    e.span(),
                    Some("here"),
                    Some("fix the TOML syntax; see https://toml.io".into()),
                );
                None
            }
        }
    }

    fn key_span(&self, t: &dyn TableLike, key: &str) -> Span {
        t.key(key).and_then(|k| k.span())
    }

    /// Report keys of `t` that are not in `allowed`.
    fn check_keys(&mut self, t: &dyn TableLike, allowed: &[&str], where_: &str) {
        let unknown: Vec<String> = t
            .iter()
            .map(|(k, _)| k.to_string())
            .filter(|k| !allowed.contains(&k.as_str()))
            .collect();
        for k in unknown {
            let best = allowed
                .iter()
                .map(|a| (strsim::jaro_winkler(a, &k), *a))
                .filter(|(s, _)| *s > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let help = match best {
                Some((_, a)) => format!("did you mean `{a}`?"),
                None => format!("expected one of: {}", allowed.join(", ")),
            };
            let span = self.key_span(t, &k);
            self.problem(
                "unknown-key",
                format!("unknown key `{k}` in {where_}"),
                span,
                Some("not a known key"),
                Some(help),
            );
        }
    }

    fn get_table<'t>(
        &mut self,
        parent: &'t dyn TableLike,
        key: &str,
        where_: &str,
    ) -> Option<&'t dyn TableLike> {
        let item = parent.get(key)?;
        match item.as_table_like() {
            Some(t) => Some(t),
            None => {
                let found = type_name(item);
                self.problem(
                    "type",
                    format!("`{key}` in {where_} must be a table, found {found}"),
                    item_span(item).or_else(|| self.key_span(parent, key)),
                    Some("expected a table"),
                    Some(format!("write it as `[{key}]` or `{key} = {{ … }}`")),
                );
                None
            }
        }
    }

    fn get_str(&mut self, t: &dyn TableLike, key: &str, where_: &str) -> Option<(String, Span)> {
        let item = t.get(key)?;
        match item.as_str() {
            Some(s) => Some((s.to_string(), item_span(item))),
            None => {
                let found = type_name(item);
                self.problem(
                    "type",
                    format!("`{key}` in {where_} must be a string, found {found}"),
                    item_span(item),
                    Some("expected a string"),
                    Some(format!("quote the value: `{key} = \"…\"`")),
                );
                None
            }
        }
    }

    fn require_str(
        &mut self,
        t: &dyn TableLike,
        key: &str,
        where_: &str,
        table_span: Span,
        example: &str,
    ) -> Option<(String, Span)> {
        if t.get(key).is_none() {
            self.problem(
                "missing-key",
                format!("{where_} is missing `{key}`"),
                table_span,
                Some(&format!("`{key}` is required here")),
                Some(format!("add `{key} = {example}`")),
            );
            return None;
        }
        let (s, span) = self.get_str(t, key, where_)?;
        if s.trim().is_empty() {
            self.problem(
                "empty",
                format!("`{key}` in {where_} is empty"),
                span,
                Some("empty string"),
                Some(format!("set it, e.g. `{key} = {example}`")),
            );
            return None;
        }
        Some((s, span))
    }

    fn get_bool(&mut self, t: &dyn TableLike, key: &str, where_: &str) -> Option<bool> {
        let item = t.get(key)?;
        match item.as_bool() {
            Some(b) => Some(b),
            None => {
                let found = type_name(item);
                self.problem(
                    "type",
                    format!("`{key}` in {where_} must be true or false, found {found}"),
                    item_span(item),
                    Some("expected a boolean"),
                    None,
                );
                None
            }
        }
    }

    /// An array of strings, with the span of each element.
    fn get_str_array(
        &mut self,
        t: &dyn TableLike,
        key: &str,
        where_: &str,
    ) -> Option<Vec<(String, Span)>> {
        let item = t.get(key)?;
        let Some(arr) = item.as_array() else {
            let found = type_name(item);
            self.problem(
                "type",
                format!("`{key}` in {where_} must be an array of strings, found {found}"),
                item_span(item),
                Some("expected an array"),
                Some(format!("write it as `{key} = [\"…\", \"…\"]`")),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for v in arr.iter() {
            match v.as_str() {
                Some(s) => out.push((s.to_string(), v.span())),
                None => {
                    ok = false;
                    self.problem(
                        "type",
                        format!("every element of `{key}` in {where_} must be a string"),
                        v.span(),
                        Some("not a string"),
                        None,
                    );
                }
            }
        }
        ok.then_some(out)
    }

    /// Validate an SPDX expression at `span`; on error the label points into
    /// the string where the parser stopped.
    fn check_license(&mut self, expr: &str, span: Span, where_: &str) -> bool {
        match crate::license::parse(expr) {
            Ok(_) => true,
            Err(e) => {
                // +1 for the opening quote when the string has no escapes.
                let inner = span.clone().and_then(|s| {
                    let raw = self.text.get(s.clone())?;
                    (raw.len() == expr.len() + 2).then(|| {
                        (s.start + 1 + e.span.start)
                            ..(s.start + 1 + e.span.end.max(e.span.start + 1))
                    })
                });
                self.problem(
                    "license",
                    format!("{where_}: `{expr}` is not a valid SPDX license expression"),
                    inner.or(span),
                    Some(&e.reason.to_string()),
                    Some(format!(
                        "use SPDX identifiers (https://spdx.org/licenses/) joined by AND/OR, or a `LicenseRef-` for anything else, e.g. `{}`",
                        crate::license::suggest(expr)
                    )),
                );
                false
            }
        }
    }

    fn manifest(&mut self) -> Option<Manifest> {
        let doc = self.parse_doc()?;
        let root = doc.as_table();
        self.check_keys(root, TOP_KEYS, "mlprov.toml");

        let artifact = match root.get("artifact") {
            None => {
                self.problem(
                    "missing-key",
                    "missing the `[artifact]` table",
                    Some(0..0),
                    Some("expected `[artifact]`"),
                    Some("add `[artifact]` with `name`, `version`, `kind` and `path` (`mlprov init` writes one)".into()),
                );
                None
            }
            Some(_) => self
                .get_table(root, "artifact", "mlprov.toml")
                .and_then(|t| self.artifact(t, root)),
        };

        let mut inputs = BTreeMap::new();
        if let Some(t) = self.get_table(root, "inputs", "mlprov.toml") {
            for (name, item) in t.iter() {
                if let Some(input) = self.input(t, name, item) {
                    inputs.insert(name.to_string(), input);
                }
            }
        }

        let training = match self.get_table(root, "training", "mlprov.toml") {
            Some(t) => self.training(t),
            None => None,
        };

        let mut build = BuildSettings::default();
        if let Some(t) = self.get_table(root, "build", "mlprov.toml") {
            self.check_keys(t, BUILD_KEYS, "[build]");
            build.cyclonedx = self.get_bool(t, "cyclonedx", "[build]").unwrap_or(false);
        }

        let publish = self.get_table(root, "publish", "mlprov.toml").map(|t| {
            self.check_keys(t, PUBLISH_KEYS, "[publish]");
            Publish {
                registry: self.get_str(t, "registry", "[publish]").map(|s| s.0),
            }
        });

        let policy = match self.get_table(root, "policy", "mlprov.toml") {
            Some(t) => self.policy(t, "[policy]"),
            None => Policy::default(),
        };

        Some(Manifest {
            artifact: artifact?,
            inputs,
            training,
            build,
            policy,
            publish,
        })
    }

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

    fn artifact(&mut self, t: &dyn TableLike, root: &dyn TableLike) -> Option<Artifact> {
        self.check_keys(t, ARTIFACT_KEYS, "[artifact]");
        let span = self.key_span(root, "artifact");
        let name = self.require_str(
            t,
            "name",
            "[artifact]",
            span.clone(),
            "\"acme/support-llama\"",
        );
        if let Some((n, s)) = &name
            && !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./@".contains(c))
        {
            self.problem(
                "name",
                format!(
                    "artifact name `{n}` has characters that cannot appear in a package or OCI name"
                ),
                s.clone(),
                Some("use letters, digits, `-`, `_`, `.`, `/`"),
                Some("e.g. `name = \"acme/support-llama\"`".into()),
            );
        }
        let version = self.require_str(t, "version", "[artifact]", span.clone(), "\"0.1.0\"");
        let kind = match self.require_str(t, "kind", "[artifact]", span.clone(), "\"model\"") {
            Some((k, s)) => match ArtifactKind::ALL.into_iter().find(|x| x.as_str() == k) {
                Some(kind) => Some(kind),
                None => {
                    self.problem(
                        "kind",
                        format!("unknown artifact kind `{k}`"),
                        s,
                        Some("not a kind"),
                        Some("kind is one of: model, dataset, adapter".into()),
                    );
                    None
                }
            },
            None => None,
        };
        let path = self.require_str(t, "path", "[artifact]", span, "\"out/\"");
        if let Some((p, s)) = &path {
            self.check_relative(p, s.clone(), "[artifact] path");
        }
        let license = self.get_str(t, "license", "[artifact]");
        if let Some((l, s)) = &license {
            self.check_license(l, s.clone(), "[artifact] license");
        }
        let description = self.get_str(t, "description", "[artifact]").map(|d| d.0);
        Some(Artifact {
            name: name?.0,
            version: version?.0,
            kind: kind?,
            path: path?.0,
            license: license.map(|l| l.0),
            description,
        })
    }

    /// A path in the manifest must stay inside the project.
    fn check_relative(&mut self, p: &str, span: Span, where_: &str) -> bool {
        let path = Path::new(p);
        if path.is_absolute() || p.starts_with('~') {
            self.problem(
                "path-outside",
                format!("{where_} `{p}` is absolute; paths are relative to the project"),
                span,
                Some("absolute path"),
                Some("move or link the files into the project and give a relative path, or pin them with `url` + `sha256`".into()),
            );
            return false;
        }
        if path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            self.problem(
                "path-outside",
                format!("{where_} `{p}` leaves the project (`..`)"),
                span,
                Some("points outside the project"),
                Some(
                    "move or link the files into the project, or pin them with `url` + `sha256`"
                        .into(),
                ),
            );
            return false;
        }
        true
    }

    fn input(&mut self, inputs: &dyn TableLike, name: &str, item: &Item) -> Option<Input> {
        let where_ = format!("input `{name}`");
        let name_span = self.key_span(inputs, name);
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            self.problem(
                "input-name",
                format!("input name `{name}` may only contain letters, digits, `-`, `_` and `.`"),
                name_span.clone(),
                Some("invalid name"),
                Some("rename it, e.g. `base-model`".into()),
            );
        }
        let Some(t) = item.as_table_like() else {
            let found = type_name(item);
            self.problem(
                "type",
                format!("{where_} must be a table, found {found}"),
                item_span(item),
                Some("expected `{ hf = \"…\", role = \"…\" }`"),
                Some(format!(
                    "write `{name} = {{ hf = \"org/model\", revision = \"main\", role = \"base-model\" }}`"
                )),
            );
            return None;
        };
        let span = item_span(item).or(name_span);
        self.check_keys(t, INPUT_KEYS, &where_);

        let mut present: Vec<&str> = SOURCE_KEYS
            .iter()
            .copied()
            .filter(|k| t.contains_key(k))
            .collect();
        // In the order they appear, so "the second source" is the second one written.
        present.sort_by_key(|k| self.key_span(t, k).map(|s| s.start).unwrap_or(usize::MAX));
        let source = match present.as_slice() {
            [] => {
                self.problem(
                    "source",
                    format!("{where_} has no source"),
                    span.clone(),
                    Some("needs one of hf, hf-dataset, path, url, oci"),
                    Some("add exactly one of `hf = \"org/name\"`, `hf-dataset = \"org/name\"`, `path = \"dir/\"`, `url = \"https://…\"` (with `sha256`), `oci = \"registry/repo:tag\"`".into()),
                );
                None
            }
            [one] => self.source(t, one, &where_, span.clone()),
            [first, second, ..] => {
                let second_span = self.key_span(t, second);
                self.problem(
                    "source",
                    format!("{where_} has two sources: `{first}` and `{second}`"),
                    second_span,
                    Some("second source"),
                    Some("an input comes from exactly one place; split it into two inputs".into()),
                );
                None
            }
        };
        // Keys that belong to a different source.
        let kind = source.as_ref().map(|s| s.kind_key());
        if let Some(k) = kind {
            for (key, allowed_for) in [
                ("revision", &["hf", "hf-dataset"][..]),
                ("sha256", &["url"][..]),
                ("include", &["hf", "hf-dataset", "path"][..]),
                ("exclude", &["hf", "hf-dataset", "path"][..]),
            ] {
                if t.contains_key(key) && !allowed_for.contains(&k) {
                    let s = self.key_span(t, key);
                    self.problem(
                        "unknown-key",
                        format!("`{key}` does not apply to a `{k}` input ({where_})"),
                        s,
                        Some(&format!("only for {}", allowed_for.join(", "))),
                        Some(format!("remove `{key}`")),
                    );
                }
            }
        }

        let role = match t.get("role") {
            None => {
                self.problem(
                    "missing-key",
                    format!("{where_} is missing `role`"),
                    span.clone(),
                    Some("which role does this input play?"),
                    Some(format!("add `role = \"…\"`, one of: {}", role_list())),
                );
                None
            }
            Some(_) => match self.get_str(t, "role", &where_) {
                Some((r, s)) => match Role::parse(&r) {
                    Some(role) => Some(role),
                    None => {
                        let best = Role::ALL
                            .iter()
                            .map(|x| (strsim::jaro_winkler(x.as_str(), &r), x.as_str()))
                            .filter(|(s, _)| *s > 0.75)
                            .max_by(|a, b| a.0.total_cmp(&b.0));
                        self.problem(
                            "role",
                            format!("unknown role `{r}` ({where_})"),
                            s,
                            Some("not a role"),
                            Some(match best {
                                Some((_, b)) => {
                                    format!("did you mean `{b}`? roles are: {}", role_list())
                                }
                                None => format!("roles are: {}", role_list()),
                            }),
                        );
                        None
                    }
                },
                None => None,
            },
        };
        let license = self.get_str(t, "license", &where_);
        if let Some((l, s)) = &license {
            self.check_license(l, s.clone(), &format!("{where_} license"));
        }
        let include = self.globs(t, "include", &where_);
        let exclude = self.globs(t, "exclude", &where_);
        Some(Input {
            name: name.to_string(),
            role: role?,
            source: source?,
            license: license.map(|l| l.0),
            include,
            exclude,
        })
    }

    fn globs(&mut self, t: &dyn TableLike, key: &str, where_: &str) -> Vec<String> {
        let Some(list) = self.get_str_array(t, key, where_) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (g, s) in list {
            match globset::Glob::new(&g) {
                Ok(_) => out.push(g),
                Err(e) => self.problem(
                    "glob",
                    format!("`{g}` in `{key}` of {where_} is not a valid glob"),
                    s,
                    Some(&e.kind().to_string()),
                    Some(
                        "globs use `*`, `**`, `?`, `[abc]` and `{a,b}`, e.g. `\"*.safetensors\"`"
                            .into(),
                    ),
                ),
            }
        }
        out
    }

    fn source(&mut self, t: &dyn TableLike, key: &str, where_: &str, span: Span) -> Option<Source> {
        let (value, vspan) = self.get_str(t, key, where_)?;
        match key {
            "hf" | "hf-dataset" => {
                let ok = {
                    let parts: Vec<&str> = value.split('/').collect();
                    (1..=2).contains(&parts.len())
                        && parts.iter().all(|p| {
                            !p.is_empty()
                                && !p.starts_with(['.', '-'])
                                && p.chars()
                                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                        })
                        && !value.contains("..")
                };
                if !ok {
                    self.problem(
                        "hf-repo",
                        format!("`{value}` is not a Hugging Face repository id ({where_})"),
                        vspan,
                        Some("expected `org/name`"),
                        Some(format!("write the id as on the Hub, e.g. `{key} = \"sentence-transformers/all-MiniLM-L6-v2\"`")),
                    );
                    return None;
                }
                let revision = match self.get_str(t, "revision", where_) {
                    Some((r, rs)) => {
                        if r.is_empty() || r.contains(char::is_whitespace) || r.contains("..") {
                            self.problem(
                                "revision",
                                format!("{r:?} is not a revision ({where_})"),
                                rs,
                                Some("invalid revision"),
                                Some("give a branch, a tag or a 40-hex commit".into()),
                            );
                            return None;
                        }
                        r
                    }
                    None => "main".to_string(),
                };
                Some(if key == "hf" {
                    Source::Hf {
                        repo: value,
                        revision,
                    }
                } else {
                    Source::HfDataset {
                        repo: value,
                        revision,
                    }
                })
            }
            "path" => self
                .check_relative(&value, vspan, &format!("{where_} path"))
                .then_some(Source::Path { path: value }),
            "url" => {
                let scheme_ok = value.starts_with("https://") || value.starts_with("http://");
                if !scheme_ok {
                    self.problem(
                        "url",
                        format!("`{value}` is not an http(s) URL ({where_})"),
                        vspan.clone(),
                        Some("expected https://…"),
                        Some("use an https:// URL; for local files use `path`".into()),
                    );
                }
                let sha = match t.get("sha256") {
                    None => {
                        self.problem(
                            "url-sha256",
                            format!("{where_} is a `url` without `sha256`"),
                            vspan,
                            Some("a URL alone can serve different bytes tomorrow"),
                            Some("add `sha256 = \"<64 hex>\"` (e.g. from `sha256sum` of a trusted download)".into()),
                        );
                        None
                    }
                    Some(_) => match self.get_str(t, "sha256", where_) {
                        Some((s, ss)) => match Sha256Digest::parse_any(&s) {
                            Ok(d) => Some(d),
                            Err(_) => {
                                self.problem(
                                    "sha256",
                                    format!("`{s}` is not a SHA-256 digest ({where_})"),
                                    ss,
                                    Some("expected 64 hex characters"),
                                    Some("copy the full digest printed by `sha256sum FILE`".into()),
                                );
                                None
                            }
                        },
                        None => None,
                    },
                };
                if !scheme_ok {
                    return None;
                }
                Some(Source::Url {
                    url: value,
                    sha256: sha?,
                })
            }
            "oci" => {
                let ok = value.contains('/')
                    && !value.contains("://")
                    && !value.contains(char::is_whitespace);
                if !ok {
                    self.problem(
                        "oci-reference",
                        format!("`{value}` is not an OCI reference ({where_})"),
                        vspan,
                        Some("expected registry/repository:tag or @sha256:…"),
                        Some(
                            "e.g. `oci = \"registry.example.com/models/adapter:v3\"` (no scheme)"
                                .into(),
                        ),
                    );
                    return None;
                }
                Some(Source::Oci { reference: value })
            }
            _ => {
                let _ = span;
                None
            }
        }
    }

    fn training(&mut self, t: &dyn TableLike) -> Option<Training> {
        self.check_keys(t, TRAINING_KEYS, "[training]");
        let command = match self.get_str_array(t, "command", "[training]") {
            Some(c) if c.is_empty() => {
                let s = t.get("command").and_then(item_span);
                self.problem(
                    "empty",
                    "`command` in [training] is empty",
                    s,
                    Some("no program to run"),
                    Some("give the argv, e.g. `command = [\"python\", \"train.py\"]`, or remove the key".into()),
                );
                Vec::new()
            }
            Some(c) => c.into_iter().map(|c| c.0).collect(),
            None => Vec::new(),
        };
        let config = self.get_str(t, "config", "[training]");
        if let Some((c, s)) = &config {
            self.check_relative(c, s.clone(), "[training] config");
        }
        let python = self.get_str(t, "python", "[training]").map(|p| p.0);
        Some(Training {
            command,
            config: config.map(|c| c.0),
            python,
        })
    }

    fn policy(&mut self, t: &dyn TableLike, where_: &str) -> Policy {
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
                if DENIABLE_FORMATS.contains(&e.as_str()) {
                    p.formats_deny.push(e);
                } else {
                    self.problem(
                        "format",
                        format!("unknown format `{e}` in formats.deny"),
                        s,
                        Some("not a scanner format"),
                        Some(format!("formats are: {}", DENIABLE_FORMATS.join(", "))),
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
                            DENIABLE_FORMATS.join(", ")
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
        p
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

fn role_list() -> String {
    Role::ALL
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------
// JSON Schema (generated by `mlprov schema`, committed as mlprov.schema.json)

pub mod schema {
    //! Shapes of the TOML file, for the JSON Schema only. Validation is done
    //! by the walker above; a unit test keeps the two in step.
    use std::collections::BTreeMap;

    use schemars::JsonSchema;

    /// mlprov.toml: what is built from what.
    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct ManifestSchema {
        pub artifact: ArtifactSchema,
        #[serde(default)]
        pub inputs: BTreeMap<String, InputSchema>,
        pub training: Option<TrainingSchema>,
        pub build: Option<BuildSchema>,
        pub policy: Option<PolicySchema>,
        pub publish: Option<PublishSchema>,
    }

    /// The artifact this repository builds.
    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct ArtifactSchema {
        /// Logical name, e.g. `acme/support-llama`.
        pub name: String,
        pub version: String,
        pub kind: KindSchema,
        /// The build's output directory, relative to the project.
        pub path: String,
        /// SPDX license expression of the output.
        pub license: Option<String>,
        pub description: Option<String>,
    }

    #[derive(JsonSchema)]
    #[serde(rename_all = "kebab-case")]
    #[allow(dead_code)]
    pub enum KindSchema {
        Model,
        Dataset,
        Adapter,
    }

    #[derive(JsonSchema)]
    #[serde(rename_all = "kebab-case")]
    #[allow(dead_code)]
    pub enum RoleSchema {
        BaseModel,
        TrainingData,
        TestData,
        Config,
        Code,
        Adapter,
        Other,
    }

    /// One input. Exactly one of `hf`, `hf-dataset`, `path`, `url`, `oci`.
    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    #[allow(dead_code)]
    pub struct InputSchema {
        /// Hugging Face model repository id.
        pub hf: Option<String>,
        /// Hugging Face dataset repository id.
        pub hf_dataset: Option<String>,
        /// File or directory inside the project.
        pub path: Option<String>,
        /// Download URL (requires `sha256`).
        pub url: Option<String>,
        /// OCI reference.
        pub oci: Option<String>,
        /// Branch, tag or commit (hf, hf-dataset; default `main`).
        pub revision: Option<String>,
        /// Expected SHA-256 of the download (url).
        pub sha256: Option<String>,
        pub role: RoleSchema,
        /// SPDX license expression (overrides the model card).
        pub license: Option<String>,
        /// Globs of files to include (hf, hf-dataset, path).
        pub include: Option<Vec<String>>,
        /// Globs of files to exclude (hf, hf-dataset, path).
        pub exclude: Option<Vec<String>>,
    }

    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct TrainingSchema {
        /// argv run by `mlprov build` when no `--` command is given.
        pub command: Option<Vec<String>>,
        /// Hyperparameter file (YAML, JSON or TOML).
        pub config: Option<String>,
        /// Python interpreter whose `pip list` is recorded.
        pub python: Option<String>,
    }

    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct BuildSchema {
        /// Also write a CycloneDX 1.6 ML-BOM.
        pub cyclonedx: Option<bool>,
    }

    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct PublishSchema {
        /// OCI repository to push to.
        pub registry: Option<String>,
    }

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

    /// The JSON Schema document, pretty-printed with a trailing newline.
    pub fn json() -> String {
        let schema = schemars::schema_for!(ManifestSchema);
        let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[artifact]
name = "acme/support-llama"
version = "1.2.0"
kind = "model"
path = "out/"
license = "Apache-2.0"

[inputs]
base-model = { hf = "meta-llama/Meta-Llama-3-8B", revision = "main", role = "base-model", include = ["*.safetensors", "*.json"] }
support-data = { path = "data/support/", role = "training-data", license = "LicenseRef-acme-internal" }
tok = { url = "https://example.com/tok.json", sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", role = "config" }

[training]
command = ["python", "train.py"]
config = "configs/ft.yaml"

[policy]
licenses.allow = ["Apache-2.0", "MIT"]
formats.deny = ["pickle"]
require-pinned-revisions = true
[policy.roles.base-model]
require = ["https://slsa.dev/provenance/v1"]
signers = ["keys/platform.pub", { identity = "x", issuer = "https://token.actions.githubusercontent.com" }]
"#;

    #[test]
    fn parses_the_design_example() {
        let m = Manifest::parse(GOOD, "mlprov.toml").unwrap();
        assert_eq!(m.artifact.kind, ArtifactKind::Model);
        assert_eq!(m.inputs.len(), 3);
        assert_eq!(
            m.inputs["base-model"].source,
            Source::Hf {
                repo: "meta-llama/Meta-Llama-3-8B".into(),
                revision: "main".into()
            }
        );
        assert_eq!(m.policy.roles[&Role::BaseModel].signers.len(), 2);
        assert!(m.policy.require_pinned_revisions);
    }

    #[test]
    fn reports_every_problem() {
        let bad = GOOD
            .replace("kind = \"model\"", "kind = \"modle\"")
            .replace("role = \"config\"", "role = \"cfg\"")
            .replace("license = \"Apache-2.0\"", "license = \"Apache 2\"");
        let e = Manifest::parse(&bad, "mlprov.toml").unwrap_err();
        assert_eq!(e.problems.len(), 3, "{:#?}", e.problems);
    }

    #[test]
    fn schema_keys_match_validator() {
        let s: serde_json::Value = serde_json::from_str(&schema::json()).unwrap();
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
        assert_eq!(props("/properties"), sorted(TOP_KEYS));
        assert_eq!(
            props("/$defs/ArtifactSchema/properties"),
            sorted(ARTIFACT_KEYS)
        );
        assert_eq!(props("/$defs/InputSchema/properties"), sorted(INPUT_KEYS));
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
            props("/$defs/TrainingSchema/properties"),
            sorted(TRAINING_KEYS)
        );
    }
}
