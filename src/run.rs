//! The run record: what a training run was (argv, times, exit status, code
//! commit, hyperparameters, Python environment), recorded by `mlprov build`
//! or imported from a run made elsewhere (`--run FILE`).
//!
//! Everything here returns values and typed errors; the command decides what
//! to print. With `SOURCE_DATE_EPOCH` set, every timestamp is that instant
//! and the invocation id is derived from the run's inputs, so the same inputs
//! give byte-identical records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::digest::Sha256Digest;
use crate::limits::Limit;

/// The run record's file name under `target/mlprov/`.
pub const RUN_FILE: &str = "run.json";
pub const RUN_VERSION: u32 = 1;

/// A training run (or a packaging-only build), as written to `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RunRecord {
    pub version: u32,
    /// `training` when a command ran, `packaging` when the outputs were only
    /// hashed and described.
    pub kind: RunKind,
    pub invocation_id: String,
    /// The training command (empty for a packaging-only build).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub argv: Vec<String>,
    /// RFC 3339 UTC, whole seconds.
    pub started_on: String,
    pub finished_on: String,
    /// The command's exit code (absent for a packaging-only build).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    /// The git state of the training code (absent outside a git repository).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitState>,
    /// The build was allowed to run from a dirty tree (`--allow-dirty`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_dirty: bool,
    /// The training config file: its digest and flattened values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigRecord>,
    /// `--param k=v` extras.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    /// The Python environment of `[training].python`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<PythonEnv>,
    /// The mlprov version that recorded the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    Training,
    Packaging,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitState {
    /// The 40-hex commit of `HEAD`.
    pub commit: String,
    /// Uncommitted changes (tracked or untracked, not ignored) existed.
    pub dirty: bool,
    /// The changed paths, relative to the repository root (sorted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dirty_paths: Vec<String>,
    /// The `origin` remote (credentials removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigRecord {
    /// As written in `[training].config`, relative to the project.
    pub path: String,
    /// `sha256:<hex>` of the file's bytes.
    pub digest: String,
    /// Every scalar, flattened: `optimizer.lr`, `layers[0].size`.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PythonEnv {
    /// The interpreter as configured (`python3`, `.venv/bin/python`).
    pub interpreter: String,
    /// `pip list`, sorted by normalized name.
    pub packages: Vec<PyPackage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PyPackage {
    pub name: String,
    pub version: String,
    pub purl: String,
}

impl RunRecord {
    /// The record's canonical JSON (pretty, one trailing newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }

    /// The merged hyperparameters: config values, then `--param` extras
    /// (which win on a clash).
    pub fn hyperparameters(&self) -> BTreeMap<String, String> {
        let mut h = self
            .config
            .as_ref()
            .map(|c| c.values.clone())
            .unwrap_or_default();
        h.extend(self.parameters.clone());
        h
    }

    /// The config digest, parsed.
    pub fn config_digest(&self) -> Option<Sha256Digest> {
        self.config
            .as_ref()
            .and_then(|c| Sha256Digest::parse_any(&c.digest).ok())
    }

    /// Read and check a run record made elsewhere (`--run FILE`).
    pub fn import(path: &Path) -> Result<RunRecord, RunError> {
        let file = path.display().to_string();
        let bytes = crate::fsutil::read_bounded(path, crate::limits::Limit::RunRecordBytes)
            .map_err(|source| RunError::Io {
                path: file.clone(),
                source,
            })?;
        let invalid = |message: String| RunError::InvalidRecord {
            file: file.clone(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(RUN_VERSION) => {}
            Some(v) if v > u64::from(RUN_VERSION) => {
                return Err(RunError::NewerRecord { file, found: v });
            }
            _ => {
                return Err(invalid(
                    "missing or unsupported `version` (expected 1)".into(),
                ));
            }
        }
        let mut rec: RunRecord =
            serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        let started = parse_time(&rec.started_on).ok_or_else(|| {
            invalid(format!(
                "startedOn `{}` is not an RFC 3339 time",
                rec.started_on
            ))
        })?;
        let finished = parse_time(&rec.finished_on).ok_or_else(|| {
            invalid(format!(
                "finishedOn `{}` is not an RFC 3339 time",
                rec.finished_on
            ))
        })?;
        if finished < started {
            return Err(invalid("finishedOn is before startedOn".into()));
        }
        rec.started_on = format_time(started);
        rec.finished_on = format_time(finished);
        if rec.invocation_id.trim().is_empty() {
            return Err(invalid("invocationId is empty".into()));
        }
        if rec.kind == RunKind::Training && rec.argv.is_empty() {
            return Err(invalid("a training run needs its argv".into()));
        }
        if let Some(g) = &rec.git
            && !is_hex_commit(&g.commit)
        {
            return Err(invalid(format!(
                "git.commit `{}` is not a 40-hex commit",
                g.commit
            )));
        }
        if let Some(c) = &rec.config
            && Sha256Digest::parse_any(&c.digest).is_err()
        {
            return Err(invalid(format!(
                "config.digest `{}` is not a SHA-256 digest",
                c.digest
            )));
        }
        if let Some(c) = &mut rec.config {
            c.digest = Sha256Digest::parse_any(&c.digest)
                .map(|d| d.prefixed())
                .unwrap_or_default();
        }
        if let Some(p) = &mut rec.python {
            p.packages.sort_by(|a, b| a.name.cmp(&b.name));
            p.packages.dedup_by(|a, b| a.name == b.name);
        }
        Ok(rec)
    }
}

fn is_hex_commit(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

// ---------------------------------------------------------------------------
// Time

/// Where timestamps come from: `SOURCE_DATE_EPOCH` (reproducible builds) or
/// the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Fixed(i64),
    Wall,
}

impl Clock {
    /// Now, as RFC 3339 UTC without fractional seconds.
    pub fn now(&self) -> String {
        match self {
            Clock::Fixed(s) => chrono::DateTime::from_timestamp(*s, 0)
                .map(format_time)
                .unwrap_or_default(),
            Clock::Wall => format_time(chrono::Utc::now()),
        }
    }

    pub fn is_fixed(&self) -> bool {
        matches!(self, Clock::Fixed(_))
    }
}

/// `2025-01-15T10:00:00Z`.
pub fn format_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// An invocation id: a UUID (version 8, RFC 9562) from a SHA-256 of `seed`.
/// The command seeds it with the run's inputs, and adds the wall clock and
/// process id unless `SOURCE_DATE_EPOCH` asks for reproducibility.
pub fn invocation_id(seed: &[u8]) -> String {
    let d = Sha256::digest(seed);
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The unique part of a wall-clock invocation id.
pub fn wall_entropy() -> Vec<u8> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut v = nanos.to_le_bytes().to_vec();
    v.extend_from_slice(&std::process::id().to_le_bytes());
    v
}

// ---------------------------------------------------------------------------
// Git

/// The git state of the repository containing `root`, or `None` outside a
/// repository (or before its first commit). Paths under `exclude` (relative
/// to `root`: the build's own outputs) do not make the tree dirty.
pub fn git_state(root: &Path, exclude: &[&str]) -> Result<Option<GitState>, RunError> {
    let repo = match git2::Repository::discover(root) {
        Ok(r) => r,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(RunError::git(root, e)),
    };
    let Some(workdir) = repo.workdir().map(Path::to_path_buf) else {
        return Ok(None);
    };
    let head = match repo.head() {
        Ok(h) => h,
        Err(e)
            if matches!(
                e.code(),
                git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(RunError::git(root, e)),
    };
    let commit = head.peel_to_commit().map_err(|e| RunError::git(root, e))?;

    // Paths of the build's own outputs, relative to the repository root.
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let prefix = canon(root)
        .strip_prefix(canon(&workdir))
        .ok()
        .and_then(crate::fsutil::to_posix_relative)
        .unwrap_or_default();
    let excluded: Vec<String> = exclude
        .iter()
        .map(|e| e.trim_start_matches("./").trim_end_matches('/'))
        .filter(|e| !e.is_empty() && *e != ".")
        .map(|e| {
            if prefix.is_empty() {
                e.to_string()
            } else {
                format!("{prefix}/{e}")
            }
        })
        .collect();

    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = repo
        .statuses(Some(&mut opts))
        .map_err(|e| RunError::git(root, e))?;
    let mut dirty_paths: Vec<String> = statuses
        .iter()
        .filter(|s| s.status() != git2::Status::CURRENT && !s.status().is_ignored())
        .filter_map(|s| s.path().ok().map(str::to_string))
        .filter(|p| {
            !excluded
                .iter()
                .any(|e| p == e || p.starts_with(&format!("{e}/")))
        })
        .collect();
    dirty_paths.sort();
    dirty_paths.dedup();
    let remote = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| r.url().ok().map(sanitize_remote));
    Ok(Some(GitState {
        commit: commit.id().to_string(),
        dirty: !dirty_paths.is_empty(),
        dirty_paths,
        remote,
    }))
}

/// A remote URL without credentials; scp-like `git@host:path` becomes
/// `ssh://host/path`.
pub fn sanitize_remote(raw: &str) -> String {
    if let Ok(mut u) = url::Url::parse(raw)
        && u.has_host()
    {
        let _ = u.set_username("");
        let _ = u.set_password(None);
        return u.to_string();
    }
    if let Some((userhost, path)) = raw.split_once(':')
        && !userhost.contains('/')
        && !path.starts_with("//")
    {
        let host = userhost
            .rsplit_once('@')
            .map(|(_, h)| h)
            .unwrap_or(userhost);
        return format!("ssh://{host}/{}", path.trim_start_matches('/'));
    }
    raw.to_string()
}

// ---------------------------------------------------------------------------
// Training config

/// Read the training config and flatten its values. The format comes from
/// the extension: `.yaml`/`.yml`, `.json` or `.toml`.
pub fn read_config(root: &Path, rel: &str) -> Result<ConfigRecord, RunError> {
    let path = root.join(rel);
    let io = |source| RunError::ConfigIo {
        path: rel.to_string(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| {
            use std::io::Read as _;
            f.take(Limit::ConfigBytes.get().saturating_add(1))
                .read_to_end(&mut bytes)
        })
        .map_err(io)?;
    if bytes.len() as u64 > Limit::ConfigBytes.get() {
        return Err(RunError::ConfigLimit {
            path: rel.to_string(),
            limit: format!(
                "{} ({})",
                Limit::ConfigBytes.shown(),
                Limit::ConfigBytes.named()
            ),
        });
    }
    parse_config(&bytes, rel)
}

/// A config nests at most this deep (YAML, JSON and TOML; it protects the
/// stack, so no variable changes it). Its size, and a YAML config's size
/// with aliases expanded, are [`Limit::ConfigBytes`], [`Limit::ConfigNodes`]
/// and [`Limit::ConfigExpandedBytes`].
pub const MAX_CONFIG_DEPTH: usize = 64;

/// Parse a training config's bytes; `rel` names it and its extension says
/// the format.
pub fn parse_config(bytes: &[u8], rel: &str) -> Result<ConfigRecord, RunError> {
    let bad = |message: String| RunError::ConfigParse {
        path: rel.to_string(),
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))?;
    let ext = Path::new(rel)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let mut values = BTreeMap::new();
    match ext.as_str() {
        "yaml" | "yml" => {
            yaml_bounds(text).map_err(|limit| RunError::ConfigLimit {
                path: rel.to_string(),
                limit,
            })?;
            let docs =
                yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| bad(e.to_string()))?;
            match docs.as_slice() {
                [] => {}
                [doc] => {
                    if !matches!(doc, yaml_rust2::Yaml::Hash(_) | yaml_rust2::Yaml::Null) {
                        return Err(bad("the top level is not a mapping".into()));
                    }
                    flatten_yaml("", doc, &mut values);
                }
                many => {
                    return Err(bad(format!(
                        "holds {} YAML documents; expected one",
                        many.len()
                    )));
                }
            }
        }
        "json" => {
            let v: serde_json::Value =
                serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
            if !v.is_object() {
                return Err(bad("the top level is not an object".into()));
            }
            if json_depth(&v) > MAX_CONFIG_DEPTH {
                return Err(RunError::ConfigLimit {
                    path: rel.to_string(),
                    limit: format!("nesting depth {MAX_CONFIG_DEPTH} (MAX_CONFIG_DEPTH)"),
                });
            }
            flatten_json("", &v, &mut values);
        }
        "toml" => {
            let v: toml::Table = toml::from_str(text).map_err(|e| bad(e.message().to_string()))?;
            let v = toml::Value::Table(v);
            if toml_depth(&v) > MAX_CONFIG_DEPTH {
                return Err(RunError::ConfigLimit {
                    path: rel.to_string(),
                    limit: format!("nesting depth {MAX_CONFIG_DEPTH} (MAX_CONFIG_DEPTH)"),
                });
            }
            flatten_toml("", &v, &mut values);
        }
        _ => {
            return Err(RunError::ConfigFormat {
                path: rel.to_string(),
            });
        }
    }
    Ok(ConfigRecord {
        path: rel.to_string(),
        digest: Sha256Digest::of(bytes).prefixed(),
        values,
    })
}

/// Check a YAML text against [`Limit::ConfigNodes`],
/// [`Limit::ConfigExpandedBytes`] and [`MAX_CONFIG_DEPTH`] from the parser's
/// events, before any alias is expanded into a tree (a few hundred bytes of
/// nested aliases expand to gigabytes). Returns the limit exceeded.
fn yaml_bounds(text: &str) -> Result<(), String> {
    use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
    #[derive(Default)]
    struct Bounds {
        /// (anchor id, nodes, bytes) of each open collection.
        open: Vec<(usize, u64, u64)>,
        /// Expanded size of each anchored node.
        anchors: std::collections::HashMap<usize, (u64, u64)>,
        over: Option<String>,
    }
    impl Bounds {
        fn add(&mut self, nodes: u64, bytes: u64) {
            let (n, b) = match self.open.last_mut() {
                Some(top) => {
                    top.1 = top.1.saturating_add(nodes);
                    top.2 = top.2.saturating_add(bytes);
                    (top.1, top.2)
                }
                None => (nodes, bytes),
            };
            if n > Limit::ConfigNodes.get() {
                self.over = Some(format!(
                    "{} nodes with aliases expanded ({})",
                    Limit::ConfigNodes.shown(),
                    Limit::ConfigNodes.named()
                ));
            } else if b > Limit::ConfigExpandedBytes.get() {
                self.over = Some(format!(
                    "{} with aliases expanded ({})",
                    Limit::ConfigExpandedBytes.shown(),
                    Limit::ConfigExpandedBytes.named()
                ));
            }
        }
    }
    impl MarkedEventReceiver for Bounds {
        fn on_event(&mut self, ev: Event, _: yaml_rust2::scanner::Marker) {
            if self.over.is_some() {
                return;
            }
            match ev {
                Event::Scalar(v, _, anchor, _) => {
                    let size = (1, v.len() as u64);
                    if anchor > 0 {
                        self.anchors.insert(anchor, size);
                    }
                    self.add(size.0, size.1);
                }
                Event::Alias(anchor) => {
                    let (n, b) = self.anchors.get(&anchor).copied().unwrap_or((1, 0));
                    self.add(n, b);
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    self.open.push((anchor, 1, 0));
                    if self.open.len() > MAX_CONFIG_DEPTH {
                        self.over = Some(format!(
                            "nesting depth {MAX_CONFIG_DEPTH} (MAX_CONFIG_DEPTH)"
                        ));
                    }
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    if let Some((anchor, n, b)) = self.open.pop() {
                        if anchor > 0 {
                            self.anchors.insert(anchor, (n, b));
                        }
                        self.add(n, b);
                    }
                }
                _ => {}
            }
        }
    }
    let mut bounds = Bounds::default();
    // A syntax error is reported by the loader that follows.
    let _ = Parser::new_from_str(text).load(&mut bounds, true);
    match bounds.over {
        Some(limit) => Err(limit),
        None => Ok(()),
    }
}

fn json_depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(json_depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn toml_depth(v: &toml::Value) -> usize {
    match v {
        toml::Value::Array(a) => 1 + a.iter().map(toml_depth).max().unwrap_or(0),
        toml::Value::Table(t) => 1 + t.values().map(toml_depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn key_join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn flatten_yaml(prefix: &str, y: &yaml_rust2::Yaml, out: &mut BTreeMap<String, String>) {
    use yaml_rust2::Yaml as Y;
    match y {
        Y::Hash(h) => {
            if h.is_empty() && !prefix.is_empty() {
                out.insert(prefix.to_string(), "{}".into());
            }
            for (k, v) in h {
                let key = match k {
                    Y::String(s) | Y::Real(s) => s.clone(),
                    Y::Integer(i) => i.to_string(),
                    Y::Boolean(b) => b.to_string(),
                    Y::Null => "null".into(),
                    _ => continue,
                };
                flatten_yaml(&key_join(prefix, &key), v, out);
            }
        }
        Y::Array(a) => {
            if a.is_empty() {
                out.insert(prefix.to_string(), "[]".into());
            }
            for (i, v) in a.iter().enumerate() {
                flatten_yaml(&format!("{prefix}[{i}]"), v, out);
            }
        }
        // Scalars keep the spelling of the file (`2e-5` stays `2e-5`).
        Y::Real(s) | Y::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        Y::Integer(i) => {
            out.insert(prefix.to_string(), i.to_string());
        }
        Y::Boolean(b) => {
            out.insert(prefix.to_string(), b.to_string());
        }
        Y::Null | Y::Alias(_) | Y::BadValue => {
            out.insert(prefix.to_string(), "null".into());
        }
    }
}

fn flatten_json(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    use serde_json::Value as J;
    match v {
        J::Object(m) => {
            if m.is_empty() && !prefix.is_empty() {
                out.insert(prefix.to_string(), "{}".into());
            }
            for (k, v) in m {
                flatten_json(&key_join(prefix, k), v, out);
            }
        }
        J::Array(a) => {
            if a.is_empty() {
                out.insert(prefix.to_string(), "[]".into());
            }
            for (i, v) in a.iter().enumerate() {
                flatten_json(&format!("{prefix}[{i}]"), v, out);
            }
        }
        J::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

fn flatten_toml(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
    use toml::Value as T;
    match v {
        T::Table(t) => {
            if t.is_empty() && !prefix.is_empty() {
                out.insert(prefix.to_string(), "{}".into());
            }
            for (k, v) in t {
                flatten_toml(&key_join(prefix, k), v, out);
            }
        }
        T::Array(a) => {
            if a.is_empty() {
                out.insert(prefix.to_string(), "[]".into());
            }
            for (i, v) in a.iter().enumerate() {
                flatten_toml(&format!("{prefix}[{i}]"), v, out);
            }
        }
        T::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        T::Integer(i) => {
            out.insert(prefix.to_string(), i.to_string());
        }
        T::Float(f) => {
            out.insert(prefix.to_string(), f.to_string());
        }
        T::Boolean(b) => {
            out.insert(prefix.to_string(), b.to_string());
        }
        T::Datetime(d) => {
            out.insert(prefix.to_string(), d.to_string());
        }
    }
}

/// Parse `--param k=v` flags. Keys must be non-empty; a repeated key is an error.
pub fn parse_params(raw: &[String]) -> Result<BTreeMap<String, String>, RunError> {
    let mut out = BTreeMap::new();
    for p in raw {
        let Some((k, v)) = p.split_once('=') else {
            return Err(RunError::BadParam { param: p.clone() });
        };
        let k = k.trim();
        if k.is_empty() {
            return Err(RunError::BadParam { param: p.clone() });
        }
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(RunError::DuplicateParam { key: k.to_string() });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Python environment

#[derive(Deserialize)]
struct PipEntry {
    name: String,
    version: String,
}

/// `PYTHON -m pip list --format json`, as packages with purls.
pub fn python_env(interpreter: &str, root: &Path) -> Result<PythonEnv, RunError> {
    let out = Command::new(interpreter)
        .args([
            "-m",
            "pip",
            "list",
            "--format",
            "json",
            "--disable-pip-version-check",
            "--no-input",
        ])
        .current_dir(root)
        .stdin(Stdio::null())
        .env("PIP_NO_COLOR", "1")
        .output()
        .map_err(|source| RunError::PythonSpawn {
            interpreter: interpreter.to_string(),
            source,
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(RunError::PipFailed {
            interpreter: interpreter.to_string(),
            message: stderr.lines().last().unwrap_or("").trim().to_string(),
        });
    }
    let entries: Vec<PipEntry> =
        serde_json::from_slice(&out.stdout).map_err(|e| RunError::PipFailed {
            interpreter: interpreter.to_string(),
            message: format!("`pip list --format json` printed something else: {e}"),
        })?;
    let mut packages: Vec<PyPackage> = entries
        .into_iter()
        .map(|e| {
            let name = normalize_pypi(&e.name);
            PyPackage {
                purl: pypi_purl(&name, &e.version),
                name,
                version: e.version,
            }
        })
        .collect();
    packages.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version)));
    packages.dedup_by(|a, b| a.name == b.name);
    Ok(PythonEnv {
        interpreter: interpreter.to_string(),
        packages,
    })
}

/// PEP 503 normalization: lower case, runs of `-`, `_`, `.` become `-`.
pub fn normalize_pypi(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// `pkg:pypi/<name>@<version>`, percent-encoded as the purl spec asks.
pub fn pypi_purl(normalized_name: &str, version: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'.')
        .remove(b'-')
        .remove(b'_')
        .remove(b'~');
    format!(
        "pkg:pypi/{}@{}",
        percent_encoding::utf8_percent_encode(normalized_name, KEEP),
        percent_encoding::utf8_percent_encode(version, KEEP)
    )
}

// ---------------------------------------------------------------------------
// Running the command

/// How the training command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    /// The exit code; a command killed by signal N gets 128 + N, as shells do.
    pub code: i32,
}

/// Run `argv` in `dir` with inherited stdin and stderr. Its stdout goes to
/// ours, or to our stderr when `stdout_to_stderr` (JSON output keeps stdout
/// for mlprov's own document).
pub fn run_command(
    argv: &[String],
    dir: &Path,
    stdout_to_stderr: bool,
) -> Result<Finished, RunError> {
    let (program, args) = argv.split_first().ok_or(RunError::EmptyCommand)?;
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir);
    if stdout_to_stderr {
        cmd.stdout(Stdio::from(std::io::stderr()));
    }
    let status = cmd.status().map_err(|source| RunError::Spawn {
        program: program.clone(),
        dir: dir.to_path_buf(),
        source,
    })?;
    let code = match status.code() {
        Some(c) => c,
        None => signal_code(&status),
    };
    Ok(Finished { code })
}

#[cfg(unix)]
fn signal_code(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    128 + status.signal().unwrap_or(0)
}

#[cfg(not(unix))]
fn signal_code(_: &std::process::ExitStatus) -> i32 {
    1
}

// ---------------------------------------------------------------------------
// Errors

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum RunError {
    #[error("cannot read the git repository at {path}: {message}")]
    #[diagnostic(
        code(mlprov::run::git),
        help(
            "check the repository with `git status`; mlprov records the commit of the training code"
        )
    )]
    Git { path: String, message: String },

    #[error("cannot read the training config {path}: {source}")]
    #[diagnostic(
        code(mlprov::run::config),
        help("fix `config` in [training] of mlprov.toml, or create the file")
    )]
    ConfigIo {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("training config {path}: {message}")]
    #[diagnostic(
        code("mlprov::run::config-parse"),
        help("the config must be a YAML mapping, a JSON object or a TOML table")
    )]
    ConfigParse { path: String, message: String },

    #[error("training config {path}: over the limit of {limit}")]
    #[diagnostic(
        code("mlprov::run::config-limit"),
        help(
            "the limit is mlprov's (README, \"Limits\"): a training config is a small file of hyperparameters; point [training] config at it rather than at data"
        )
    )]
    ConfigLimit { path: String, limit: String },

    #[error("training config {path}: unknown format (expected .yaml, .yml, .json or .toml)")]
    #[diagnostic(
        code("mlprov::run::config-format"),
        help(
            "rename the file with its format's extension, or point [training] config at the YAML/JSON/TOML file that holds the hyperparameters"
        )
    )]
    ConfigFormat { path: String },

    #[error("--param `{param}` is not KEY=VALUE")]
    #[diagnostic(code(mlprov::usage), help("write e.g. `--param lr=2e-5`"))]
    BadParam { param: String },

    #[error("--param `{key}` is given twice")]
    #[diagnostic(code(mlprov::usage), help("give each parameter once"))]
    DuplicateParam { key: String },

    #[error("cannot run `{interpreter} -m pip list`: {source}")]
    #[diagnostic(
        code(mlprov::run::python),
        help(
            "set [training] python to the interpreter of the training environment (e.g. `.venv/bin/python`), or remove the key"
        )
    )]
    PythonSpawn {
        interpreter: String,
        #[source]
        source: std::io::Error,
    },

    #[error("`{interpreter} -m pip list` failed: {message}")]
    #[diagnostic(
        code(mlprov::run::pip),
        help("check that pip is installed in that environment (`{interpreter} -m ensurepip`)")
    )]
    PipFailed {
        interpreter: String,
        message: String,
    },

    #[error("the training command is empty")]
    #[diagnostic(
        code(mlprov::usage),
        help("give a command after `--`, or set [training] command")
    )]
    EmptyCommand,

    #[error("cannot run `{program}` (in {}): {source}", dir.display())]
    #[diagnostic(
        code(mlprov::run::spawn),
        help("check that the program exists and is on PATH; the command runs in the project root")
    )]
    Spawn {
        program: String,
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot read {path}: {source}")]
    #[diagnostic(code(mlprov::run::io), help("check the path given to --run"))]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{file} is not a valid run record: {message}")]
    #[diagnostic(
        code(mlprov::run::invalid),
        help(
            "a run record is the run.json that `mlprov build` writes under target/mlprov/; see the README for its fields"
        )
    )]
    InvalidRecord { file: String, message: String },

    #[error(
        "{file} was written by a newer mlprov (run record version {found}; this mlprov reads version {RUN_VERSION})"
    )]
    #[diagnostic(code(mlprov::run::newer), help("upgrade mlprov"))]
    NewerRecord { file: String, found: u64 },
}

impl RunError {
    fn git(path: &Path, e: git2::Error) -> RunError {
        RunError::Git {
            path: path.display().to_string(),
            message: e.message().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_yaml_keeping_spelling() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("c.yaml"),
            "lr: 2e-5\nepochs: 3\noptim:\n  name: adamw\n  betas: [0.9, 0.999]\nempty: []\nflag: true\n",
        )
        .unwrap();
        let c = read_config(d.path(), "c.yaml").unwrap();
        let v: Vec<(&str, &str)> = c
            .values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            v,
            [
                ("empty", "[]"),
                ("epochs", "3"),
                ("flag", "true"),
                ("lr", "2e-5"),
                ("optim.betas[0]", "0.9"),
                ("optim.betas[1]", "0.999"),
                ("optim.name", "adamw"),
            ]
        );
        assert!(c.digest.starts_with("sha256:"));
    }

    #[test]
    fn yaml_alias_bombs_are_refused_before_expansion() {
        // 9 levels of 9 aliases: 9^9 = 387 million leaves from ~300 bytes.
        let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            y.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let t = std::time::Instant::now();
        match parse_config(y.as_bytes(), "bomb.yaml") {
            Err(RunError::ConfigLimit { limit, .. }) => {
                assert!(limit.contains("MAX_CONFIG_NODES"), "{limit}")
            }
            other => panic!("{other:?}"),
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        // Aliases used within the limit still expand as before.
        let ok = parse_config(b"base: &b {lr: 1}\nrun: *b\n", "c.yaml").unwrap();
        assert_eq!(ok.values["run.lr"], "1");
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(matches!(
            parse_config(format!("k: {deep}").as_bytes(), "d.yaml"),
            Err(RunError::ConfigLimit { .. })
        ));
        assert!(matches!(
            parse_config(format!("{{\"k\": {deep}}}").as_bytes(), "d.json"),
            Err(RunError::ConfigLimit { .. }) | Err(RunError::ConfigParse { .. })
        ));
    }

    #[test]
    fn flattens_json_and_toml() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("c.json"),
            r#"{"a": {"b": 1.5, "c": "x"}, "n": null}"#,
        )
        .unwrap();
        let c = read_config(d.path(), "c.json").unwrap();
        assert_eq!(c.values["a.b"], "1.5");
        assert_eq!(c.values["a.c"], "x");
        assert_eq!(c.values["n"], "null");
        std::fs::write(
            d.path().join("c.toml"),
            "[opt]\nlr = 0.001\nsteps = [1, 2]\n",
        )
        .unwrap();
        let c = read_config(d.path(), "c.toml").unwrap();
        assert_eq!(c.values["opt.lr"], "0.001");
        assert_eq!(c.values["opt.steps[1]"], "2");
        std::fs::write(d.path().join("c.ini"), "x=1").unwrap();
        assert!(matches!(
            read_config(d.path(), "c.ini"),
            Err(RunError::ConfigFormat { .. })
        ));
        std::fs::write(d.path().join("bad.yaml"), "- 1\n- 2\n").unwrap();
        assert!(matches!(
            read_config(d.path(), "bad.yaml"),
            Err(RunError::ConfigParse { .. })
        ));
    }

    #[test]
    fn params() {
        let p = parse_params(&["lr=2e-5".into(), "tag=a=b".into()]).unwrap();
        assert_eq!(p["lr"], "2e-5");
        assert_eq!(p["tag"], "a=b");
        assert!(parse_params(&["nokey".into()]).is_err());
        assert!(parse_params(&["=v".into()]).is_err());
        assert!(parse_params(&["a=1".into(), "a=2".into()]).is_err());
    }

    #[test]
    fn purls() {
        assert_eq!(normalize_pypi("Foo_Bar.baz"), "foo-bar-baz");
        assert_eq!(normalize_pypi("typing--extensions"), "typing-extensions");
        assert_eq!(
            pypi_purl("torch", "2.3.0+cpu"),
            "pkg:pypi/torch@2.3.0%2Bcpu"
        );
    }

    #[test]
    fn remotes_lose_credentials() {
        assert_eq!(
            sanitize_remote("https://user:tok@github.com/acme/repo.git"),
            "https://github.com/acme/repo.git"
        );
        assert_eq!(
            sanitize_remote("git@github.com:acme/repo.git"),
            "ssh://github.com/acme/repo.git"
        );
    }

    #[test]
    fn invocation_ids_are_uuids() {
        let a = invocation_id(b"x");
        assert_eq!(a, invocation_id(b"x"));
        assert_ne!(a, invocation_id(b"y"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
    }

    #[test]
    fn times() {
        assert_eq!(Clock::Fixed(1_700_000_000).now(), "2023-11-14T22:13:20Z");
        let t = parse_time("2024-01-02T03:04:05.678+01:00").unwrap();
        assert_eq!(format_time(t), "2024-01-02T02:04:05Z");
    }
}
