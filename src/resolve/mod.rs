//! Resolving manifest inputs to immutable identity: commits, per-file
//! digests and the artifact digest.

pub mod check;
pub mod hf;
pub mod oci;
pub mod path;
pub mod url;

use std::path::{Path, PathBuf};

use miette::Diagnostic;

use crate::digest::{FileSet, HashCache, HashError, WalkError};
use crate::lockfile::LockedInput;
use crate::manifest::Input;
use crate::model::Source;
use crate::reporter::Reporter;

/// Everything a resolver needs, resolved once by the command.
pub struct ResolveContext<'a> {
    /// The project root: `path` inputs must stay inside it.
    pub root: &'a Path,
    /// `--offline`/`MLPROV_OFFLINE`: no network at all.
    pub offline: bool,
    /// The flag or variable behind `offline`, for messages.
    pub offline_cause: &'static str,
    /// Hugging Face is offline (`HF_HUB_OFFLINE`, or everything is): the cause.
    pub hf_offline: Option<&'static str>,
    pub hash_cache: Option<&'a HashCache>,
    /// mlprov's cache directory (downloads).
    pub cache_dir: PathBuf,
    pub hf: hf::HfSettings,
    /// How to reach the registries of `oci` inputs.
    pub registry: crate::registry::Access,
    pub reporter: &'a dyn Reporter,
}

/// Resolve one input to a lock entry.
pub fn resolve(input: &Input, cx: &ResolveContext<'_>) -> Result<LockedInput, ResolveError> {
    match &input.source {
        Source::Path { path } => path::resolve(input, path, cx),
        Source::Url { url } => {
            let sha256 = input.sha256.ok_or_else(|| ResolveError::NoDigest {
                input: input.name.clone(),
            })?;
            url::resolve(input, url, sha256, cx)
        }
        Source::Hf { repo } => hf::resolve(input, hf::RepoKind::Model, repo, revision(input), cx),
        Source::HfDataset { repo } => {
            hf::resolve(input, hf::RepoKind::Dataset, repo, revision(input), cx)
        }
        Source::Oci { reference } => oci::resolve(input, reference, cx),
    }
}

/// The revision an HF input asks for (`main` unless the manifest says).
fn revision(input: &Input) -> &str {
    input.revision.as_deref().unwrap_or("main")
}

/// Where the files of a locked input live on this machine, if they are here.
/// `path` inputs live in the project; HF inputs in the HF cache snapshot;
/// URL inputs in mlprov's download cache.
pub fn local_dir(locked: &LockedInput, cx: &ResolveContext<'_>) -> Option<PathBuf> {
    match &locked.source {
        Source::Path { path } => Some(cx.root.join(path)),
        Source::Hf { .. } | Source::HfDataset { .. } => {
            let (kind, repo) = locked.source.hf_repo()?;
            Some(hf::snapshot_dir(
                &cx.hf.cache_dir,
                kind,
                repo,
                locked.commit.as_deref()?,
            ))
        }
        Source::Url { .. } => Some(url::download_dir(
            &cx.cache_dir,
            &locked.files.first()?.sha256,
        )),
        Source::Oci { .. } => Some(oci::cache_dir(&cx.cache_dir, locked.manifest.as_ref()?)),
    }
}

/// The lock entry for an input whose files are `set` (as they lie in
/// `dir`): the manifest's request, the artifact digest, and each file's
/// format recognised by content. Resolvers add what their source knows
/// (commit, license, datasets).
pub(crate) fn locked(input: &Input, mut set: FileSet, dir: &Path) -> LockedInput {
    for f in &mut set.files {
        f.format = crate::scan::detect_file(&dir.join(&f.path))
            .ok()
            .map(|x| x.as_str().to_string());
    }
    LockedInput {
        name: input.name.clone(),
        role: input.role,
        source: input.source.clone(),
        requested: input.requested().map(str::to_string),
        commit: None,
        digest: set.digest,
        manifest: None,
        license: input.license.clone(),
        datasets: Vec::new(),
        include: input.include.clone(),
        exclude: input.exclude.clone(),
        files: set.files,
    }
}

/// Read `license:` and `datasets:` from a model card's YAML front matter.
pub fn card_metadata(readme: &str) -> (Option<String>, Vec<String>) {
    let Some(rest) = readme
        .strip_prefix("---\n")
        .or_else(|| readme.strip_prefix("---\r\n"))
    else {
        return (None, Vec::new());
    };
    let end = rest.find("\n---").map(|i| &rest[..i]).unwrap_or_default();
    let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(end) else {
        return (None, Vec::new());
    };
    let Some(doc) = docs.first() else {
        return (None, Vec::new());
    };
    card_fields(&yaml_to_json(doc))
}

/// `license` and `datasets` from card data already in JSON (the Hub API's
/// `cardData`).
pub fn card_fields(card: &serde_json::Value) -> (Option<String>, Vec<String>) {
    let license = match card.get("license") {
        Some(serde_json::Value::String(s)) => crate::license::from_hf(s),
        Some(serde_json::Value::Array(a)) => {
            let parts: Vec<String> = a
                .iter()
                .filter_map(|v| v.as_str())
                .filter_map(crate::license::from_hf)
                .collect();
            (!parts.is_empty()).then(|| parts.join(" AND "))
        }
        _ => None,
    };
    let datasets = match card.get("datasets") {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => {
            let mut v: Vec<String> = a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
            v.sort();
            v.dedup();
            v
        }
        _ => Vec::new(),
    };
    (license, datasets)
}

/// Convert a YAML value to JSON (numbers, strings, lists and maps).
pub fn yaml_to_json(y: &yaml_rust2::Yaml) -> serde_json::Value {
    use serde_json::Value as J;
    use yaml_rust2::Yaml as Y;
    match y {
        Y::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(J::Number)
            .unwrap_or_else(|| J::String(s.clone())),
        Y::Integer(i) => J::from(*i),
        Y::String(s) => J::String(s.clone()),
        Y::Boolean(b) => J::Bool(*b),
        Y::Array(a) => J::Array(a.iter().map(yaml_to_json).collect()),
        Y::Hash(h) => {
            let mut m = serde_json::Map::new();
            for (k, v) in h {
                let key = match k {
                    Y::String(s) => s.clone(),
                    Y::Integer(i) => i.to_string(),
                    Y::Boolean(b) => b.to_string(),
                    Y::Real(r) => r.clone(),
                    _ => continue,
                };
                m.insert(key, yaml_to_json(v));
            }
            J::Object(m)
        }
        Y::Alias(_) | Y::Null | Y::BadValue => J::Null,
    }
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ResolveError {
    #[error("input `{input}`: {path} does not exist")]
    #[diagnostic(
        code(mlprov::resolve::missing),
        help("create it, or fix `path` for `{input}` in mlprov.toml")
    )]
    Missing { input: String, path: String },

    #[error("input `{input}`: {path} resolves outside the project ({resolved})")]
    #[diagnostic(
        code(mlprov::resolve::outside),
        help(
            "inputs must live inside the project; copy the files in, or pin them with `url` + `sha256`"
        )
    )]
    Outside {
        input: String,
        path: String,
        resolved: String,
    },

    #[error("input `{input}`: {source}")]
    #[diagnostic(
        code(mlprov::resolve::walk),
        help(
            "symlinks must stay inside the input's directory; replace the link with the file, or remove it"
        )
    )]
    Walk {
        input: String,
        #[source]
        source: WalkError,
    },

    #[error("input `{input}`: cannot read {path}: {source}")]
    #[diagnostic(
        code(mlprov::resolve::io),
        help("check that the file exists and is readable by this user")
    )]
    Io {
        input: String,
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "input `{input}`: {file} does not match its expected digest (expected {expected}, got {actual})"
    )]
    #[diagnostic(
        code("mlprov::resolve::digest-mismatch"),
        help(
            "the server sent different bytes than it advertised; nothing was written. Retry later, or check the source for tampering"
        )
    )]
    DigestMismatch {
        input: String,
        file: String,
        expected: String,
        actual: String,
    },

    #[error("input `{input}`: cannot reach {url}: {message}")]
    #[diagnostic(
        code(mlprov::resolve::network),
        help(
            "check the network and the endpoint (HF_ENDPOINT); use `--offline` to pin from the local cache"
        )
    )]
    Network {
        input: String,
        url: String,
        message: String,
    },

    #[error("input `{input}`: {url} answered {status}{detail}")]
    #[diagnostic(code(mlprov::resolve::http), help("{help}"))]
    Http {
        input: String,
        url: String,
        status: u16,
        detail: String,
        help: String,
    },

    #[error("input `{input}`: Hugging Face repository `{repo}` was not found")]
    #[diagnostic(
        code("mlprov::resolve::hf-repo-not-found"),
        help(
            "check the id on the Hub; a private repository needs a token in HF_TOKEN (or `huggingface-cli login`)"
        )
    )]
    HfRepoNotFound { input: String, repo: String },

    #[error("input `{input}`: revision `{revision}` does not exist in `{repo}`")]
    #[diagnostic(
        code("mlprov::resolve::hf-revision-not-found"),
        help("give an existing branch, tag or 40-hex commit in `revision`")
    )]
    HfRevisionNotFound {
        input: String,
        repo: String,
        revision: String,
    },

    #[error("input `{input}`: `{repo}` is a gated repository and this token has no access{detail}")]
    #[diagnostic(
        code("mlprov::resolve::hf-gated"),
        help(
            "accept the conditions on {page} while logged in, then set HF_TOKEN to a token of that account"
        )
    )]
    HfGated {
        input: String,
        repo: String,
        page: String,
        detail: String,
    },

    #[error("input `{input}`: the Hub's answer for `{repo}` is not what mlprov expects: {message}")]
    #[diagnostic(
        code("mlprov::resolve::hf-protocol"),
        help("check HF_ENDPOINT points at a Hugging Face Hub (or a mirror speaking its API)")
    )]
    HfProtocol {
        input: String,
        repo: String,
        message: String,
    },

    #[error("input `{input}`: {cause} is set and {what} is not in the local cache")]
    #[diagnostic(
        code(mlprov::resolve::offline),
        help("run `mlprov pin` once with network access (without {cause})")
    )]
    Offline {
        input: String,
        what: String,
        /// The flag or variable that made mlprov offline.
        cause: &'static str,
    },

    #[error("input `{input}`: the include/exclude globs select no files")]
    #[diagnostic(
        code(mlprov::resolve::empty),
        help("check `include` and `exclude` for `{input}` in mlprov.toml")
    )]
    NoFiles { input: String },

    #[error("input `{input}`: a `url` input needs the `sha256` its download must have")]
    #[diagnostic(
        code("mlprov::resolve::no-digest"),
        help("add `sha256 = \"<64 hex>\"` for `{input}` in mlprov.toml")
    )]
    NoDigest { input: String },

    #[error("input `{input}`: {source}")]
    #[diagnostic(code(mlprov::resolve::registry))]
    Registry {
        input: String,
        #[source]
        #[diagnostic_source]
        source: crate::registry::RegistryError,
    },
}

impl ResolveError {
    /// A file of `input` could not be hashed.
    pub fn hash(input: &str) -> impl FnOnce(HashError) -> ResolveError + use<> {
        let input = input.to_string();
        move |e| ResolveError::Io {
            input,
            path: e.path.display().to_string(),
            source: e.source,
        }
    }

    pub fn io(input: &str, path: &Path) -> impl FnOnce(std::io::Error) -> ResolveError + use<> {
        let input = input.to_string();
        let path = path.display().to_string();
        move |source| ResolveError::Io {
            input,
            path,
            source,
        }
    }
}

/// Keep the files that the include globs select and the exclude globs do not.
pub fn glob_filter(include: &[String], exclude: &[String]) -> impl Fn(&str) -> bool + use<> {
    let build = |globs: &[String]| {
        let mut b = globset::GlobSetBuilder::new();
        for g in globs {
            // Validated in the manifest; a bad one selects nothing.
            if let Ok(glob) = globset::GlobBuilder::new(g)
                .literal_separator(false)
                .build()
            {
                b.add(glob);
            }
        }
        b.build().unwrap_or_else(|_| globset::GlobSet::empty())
    };
    let inc = build(include);
    let exc = build(exclude);
    let has_inc = !include.is_empty();
    move |path: &str| (!has_inc || inc.is_match(path)) && !exc.is_match(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_front_matter() {
        let readme =
            "---\nlicense: apache-2.0\ndatasets:\n- s2orc\n- ms_marco\ntags: [x]\n---\n# Title\n";
        let (l, d) = card_metadata(readme);
        assert_eq!(l.as_deref(), Some("Apache-2.0"));
        assert_eq!(d, ["ms_marco", "s2orc"]);
        assert_eq!(card_metadata("# no front matter"), (None, vec![]));
    }

    #[test]
    fn globs() {
        let f = glob_filter(
            &["*.safetensors".into(), "*.json".into()],
            &["tokenizer*".into()],
        );
        assert!(f("model.safetensors"));
        assert!(f("1_Pooling/config.json"));
        assert!(!f("tokenizer.json"));
        assert!(!f("README.md"));
        let all = glob_filter(&[], &[]);
        assert!(all("anything"));
    }
}

/// What `pin` did to one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Updated,
    Unchanged,
    Removed,
}

/// The new lock and what changed, per input name (sorted).
pub struct PinOutcome {
    pub lock: crate::lockfile::Lock,
    pub changes: Vec<(String, Change)>,
}

/// Resolve the manifest's inputs against the previous lock.
///
/// An entry whose manifest line did not change is kept as it is (cargo's
/// rule) unless it is named in `update`; `path` inputs are always re-hashed
/// (cheap with the hash cache), because their bytes are the truth. With
/// `only` non-empty, only those inputs are touched and the rest of the old
/// lock is kept.
pub fn pin(
    manifest: &crate::manifest::Manifest,
    old: Option<&crate::lockfile::Lock>,
    only: &[String],
    update: &[String],
    cx: &ResolveContext<'_>,
) -> Result<PinOutcome, ResolveError> {
    use crate::lockfile::Lock;
    let mut lock = Lock::new();
    let mut changes = Vec::new();
    for (name, input) in &manifest.inputs {
        let previous = old.and_then(|l| l.get(name));
        let touched = only.is_empty() || only.contains(name) || update.contains(name);
        let keep = previous.filter(|p| {
            !touched
                || (p.matches_request(input)
                    && !update.contains(name)
                    && !matches!(input.source, Source::Path { .. }))
        });
        let entry = match keep {
            Some(p) => {
                let mut p = p.clone();
                // Role and an explicit license are metadata: follow the manifest.
                p.role = input.role;
                if input.license.is_some() {
                    p.license = input.license.clone();
                }
                p
            }
            None => resolve(input, cx)?,
        };
        let change = match previous {
            None => Change::Added,
            Some(p) if *p == entry => Change::Unchanged,
            Some(_) => Change::Updated,
        };
        changes.push((name.clone(), change));
        lock.inputs.push(entry);
    }
    if let Some(old) = old {
        for p in &old.inputs {
            if !manifest.inputs.contains_key(&p.name) {
                changes.push((p.name.clone(), Change::Removed));
            }
        }
    }
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    lock.tidy();
    Ok(PinOutcome { lock, changes })
}
