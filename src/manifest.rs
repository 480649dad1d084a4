//! `mlprov.toml`: the typed manifest and its validation.
//!
//! Parsing walks the `toml_edit` document instead of deserializing with
//! serde, so that every problem in the file is collected with its span and a
//! fix, and reported at once (cargo-deny's two-phase validation, on the
//! shared [`crate::validate::Validator`]). The `[policy]` table is
//! validated by its owner, [`crate::policy::cfg`].

use std::collections::BTreeMap;
use std::path::Path;

use miette::Diagnostic;
use toml_edit::{Item, TableLike};

use crate::digest::Sha256Digest;
use crate::model::{ArtifactKind, Role, Source};
use crate::policy::Policy;
pub use crate::validate::{ManifestError, Problem};
use crate::validate::{Span, Validator, item_span, type_name};

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
    /// Where the input comes from.
    pub source: Source,
    /// The revision asked for (`hf`, `hf-dataset`: a branch, tag or commit;
    /// `main` when the manifest gives none).
    pub revision: Option<String>,
    /// The digest a `url` download must have.
    pub sha256: Option<Sha256Digest>,
    pub license: Option<String>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl Input {
    /// What the manifest asked for, as the lock records it in `requested`:
    /// the HF revision, the OCI tag or digest.
    pub fn requested(&self) -> Option<&str> {
        match &self.source {
            Source::Hf { .. } | Source::HfDataset { .. } => self.revision.as_deref(),
            Source::Oci { .. } => self.source.oci_tag_or_digest(),
            Source::Path { .. } | Source::Url { .. } => None,
        }
    }
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

// ---------------------------------------------------------------------------
// Parsing

impl Manifest {
    /// Read and validate `path` (at most
    /// [`Limit::ManifestBytes`](crate::limits::Limit::ManifestBytes), checked
    /// before it is parsed).
    pub fn load(path: &Path) -> Result<Manifest, ManifestLoadError> {
        let text = crate::fsutil::read_text_bounded(path, crate::limits::Limit::ManifestBytes)
            .map_err(|source| ManifestLoadError::Io {
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
impl<'a> Validator<'a> {
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
            && !n.is_empty()
            && !crate::model::is_artifact_name(n)
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
        let kind = source.as_ref().map(|s| s.0.kind_key());
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
        let (source, revision, sha256) = source?;
        Some(Input {
            name: name.to_string(),
            role: role?,
            source,
            revision,
            sha256,
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

    fn source(
        &mut self,
        t: &dyn TableLike,
        key: &str,
        where_: &str,
        span: Span,
    ) -> Option<(Source, Option<String>, Option<Sha256Digest>)> {
        let (value, vspan) = self.get_str(t, key, where_)?;
        match key {
            "hf" | "hf-dataset" => {
                let ok = crate::model::is_hf_repo_id(&value);
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
                        if !crate::model::is_revision(&r) {
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
                let source = if key == "hf" {
                    Source::Hf { repo: value }
                } else {
                    Source::HfDataset { repo: value }
                };
                Some((source, Some(revision), None))
            }
            "path" => self
                .check_relative(&value, vspan, &format!("{where_} path"))
                .then_some((Source::Path { path: value }, None, None)),
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
                Some((Source::Url { url: value }, None, Some(sha?)))
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
                Some((Source::Oci { reference: value }, None, None))
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
}

/// The roles, for help lines.
pub(crate) fn role_list() -> String {
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
        pub policy: Option<crate::policy::cfg::schema::PolicySchema>,
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
            }
        );
        assert_eq!(m.inputs["base-model"].requested(), Some("main"));
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
        assert_eq!(
            props("/$defs/TrainingSchema/properties"),
            sorted(TRAINING_KEYS)
        );
    }
}
