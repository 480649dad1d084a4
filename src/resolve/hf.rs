//! Hugging Face Hub inputs (`hf`, `hf-dataset`).
//!
//! The revision is resolved with `GET /api/{models|datasets}/{id}/revision/{rev}`,
//! files are listed with `GET …/tree/{commit}?recursive=true` (following
//! `Link` pagination; an LFS file's sha256 is its `lfs.oid`), and downloaded
//! from `/{id}/resolve/{commit}/{path}` into the standard Hugging Face cache
//! (`models--org--name/{blobs,refs,snapshots}`), so `transformers` and
//! `huggingface_hub` find them. Every downloaded byte is verified: LFS files
//! against their sha256, other files against their git blob id.
//!
//! The `hf-hub` crate is not used: it does not verify digests, drops the
//! tree's LFS oid, and brings the Xet transfer stack into every build.

use crate::limits::Limit;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::digest::{self, FileEntry, FileSet, SetOptions, Sha256Digest, TreeFile};
use crate::lockfile::LockedInput;
use crate::manifest::Input;

use super::url::{ATTEMPTS, Expect, error_chain, fetch_verified, git_blob_id};
use super::{ResolveContext, ResolveError, card_fields, card_metadata, glob_filter};

// A Hub API answer (revision info, one page of a tree listing) is at most
// `Limit::HubAnswerBytes`, checked while reading; a tree listing has at most
// `Limit::TreePages` pages.

/// Hub settings, resolved once by the command (`settings::hf_settings`).
#[derive(Clone)]
pub struct HfSettings {
    /// `HF_ENDPOINT`, default `https://huggingface.co`.
    pub endpoint: String,
    /// `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    pub cache_dir: PathBuf,
    /// `HF_TOKEN`, else the token file `huggingface-cli login` writes.
    pub token: Option<String>,
    /// Made on first use: building a TLS client reads the platform's root
    /// certificates, which a build that never goes online should not pay for.
    http: std::sync::OnceLock<reqwest::blocking::Client>,
}

impl HfSettings {
    pub fn new(endpoint: String, cache_dir: PathBuf, token: Option<String>) -> Self {
        Self {
            endpoint,
            cache_dir,
            token,
            http: std::sync::OnceLock::new(),
        }
    }

    /// The HTTP client shared by the resolvers.
    pub fn http(&self) -> &reqwest::blocking::Client {
        self.http.get_or_init(super::url::http_client)
    }
}

/// Which kind of Hub repository (the model vocabulary's [`HfKind`]).
pub use crate::model::HfKind as RepoKind;

impl RepoKind {
    fn api(self) -> &'static str {
        match self {
            Self::Model => "models",
            Self::Dataset => "datasets",
        }
    }
    fn cache_prefix(self) -> &'static str {
        match self {
            Self::Model => "models",
            Self::Dataset => "datasets",
        }
    }
    fn url_prefix(self) -> &'static str {
        match self {
            Self::Model => "",
            Self::Dataset => "datasets/",
        }
    }
}

/// `{cache}/models--org--name`.
pub fn repo_dir(cache: &Path, kind: RepoKind, repo: &str) -> PathBuf {
    cache.join(format!(
        "{}--{}",
        kind.cache_prefix(),
        repo.replace('/', "--")
    ))
}

pub fn snapshot_dir(cache: &Path, kind: RepoKind, repo: &str, commit: &str) -> PathBuf {
    repo_dir(cache, kind, repo).join("snapshots").join(commit)
}

pub use crate::model::is_commit;

/// `{repo_dir}/refs/{revision}`, the file naming the commit a branch or tag
/// was last seen at; `None` when `revision` is not a revision name
/// ([`crate::model::is_revision`]), so no name can reach outside `refs/`.
fn ref_file(rdir: &Path, revision: &str) -> Option<PathBuf> {
    crate::model::is_revision(revision).then(|| rdir.join("refs").join(revision))
}

/// Refuse a revision that is no revision name before anything uses it.
fn check_revision(input: &Input, repo: &str, revision: &str) -> Result<(), ResolveError> {
    if crate::model::is_revision(revision) {
        return Ok(());
    }
    Err(ResolveError::HfProtocol {
        input: input.name.clone(),
        repo: repo.to_string(),
        message: format!(
            "{revision:?} is not a revision name (a branch, a tag or a 40-hex commit)"
        ),
    })
}

#[derive(Debug, Deserialize)]
struct RevisionInfo {
    sha: Option<String>,
    #[serde(rename = "cardData", default)]
    card_data: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct TreeEntry {
    #[serde(rename = "type")]
    kind: String,
    path: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    oid: Option<String>,
    #[serde(default)]
    lfs: Option<LfsInfo>,
}

#[derive(Debug, Deserialize)]
struct LfsInfo {
    oid: String,
    size: u64,
}

/// A file of the resolved revision and what it must hash to.
struct RemoteFile {
    path: String,
    size: u64,
    /// LFS sha256, or git blob id.
    expect: Expect,
    blob_name: String,
}

pub fn resolve(
    input: &Input,
    kind: RepoKind,
    repo: &str,
    revision: &str,
    cx: &ResolveContext<'_>,
) -> Result<LockedInput, ResolveError> {
    check_revision(input, repo, revision)?;
    if let Some(cause) = cx.hf_offline {
        return resolve_offline(input, kind, repo, revision, cause, cx);
    }
    let hub = Hub {
        settings: &cx.hf,
        input: &input.name,
        repo,
        kind,
    };
    let rev_enc =
        percent_encoding::utf8_percent_encode(revision, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let info_url = format!(
        "{}/api/{}/{repo}/revision/{rev_enc}",
        cx.hf.endpoint,
        kind.api()
    );
    let info: RevisionInfo = hub.get_json(&info_url, Some(revision))?.0;
    let commit = info
        .sha
        .filter(|s| is_commit(s))
        .ok_or_else(|| hub.protocol("the revision answer has no 40-hex `sha`"))?;
    if is_commit(revision) && revision != commit {
        return Err(hub.protocol(&format!("asked for commit {revision} and got {commit}")));
    }
    cx.reporter
        .note(&format!("{repo}@{revision} is commit {commit}"));

    let keep = glob_filter(&input.include, &input.exclude);
    let mut files = Vec::new();
    for e in list_tree(&hub, &commit)? {
        if keep(&e.path) && !outside_artifact(&e.path) {
            files.push(remote_file(&hub, e)?);
        }
    }
    if files.is_empty() {
        return Err(ResolveError::NoFiles {
            input: input.name.clone(),
        });
    }

    // Download what is missing into the cache; verify what is there.
    let rdir = repo_dir(&cx.hf.cache_dir, kind, repo);
    let snap = rdir.join("snapshots").join(&commit);
    download_into_cache(&hub, &commit, &files, cx)?;
    if !is_commit(revision)
        && let Some(refs) = ref_file(&rdir, revision)
        && std::fs::read_to_string(&refs).ok().as_deref() != Some(commit.as_str())
    {
        crate::fsutil::write_atomic(&refs, commit.as_bytes())
            .map_err(ResolveError::io(&input.name, &refs))?;
    }

    // Digests: LFS files are known (and were verified); others are hashed.
    let tree_files: Vec<TreeFile> = files
        .iter()
        .map(|f| TreeFile {
            rel: f.path.clone(),
            abs: snap.join(&f.path),
            size: f.size,
        })
        .collect();
    let hashed = digest::hash_files(&tree_files, cx.hash_cache, cx.reporter)
        .map_err(ResolveError::hash(&input.name))?;
    for (h, f) in hashed.iter().zip(&files) {
        if let Expect::Sha256(want) = f.expect
            && want != h.sha256
        {
            return Err(ResolveError::DigestMismatch {
                input: input.name.clone(),
                file: f.path.clone(),
                expected: want.prefixed(),
                actual: h.sha256.prefixed(),
            });
        }
    }

    let (mut license, mut datasets) = info.card_data.as_ref().map(card_fields).unwrap_or_default();
    if license.is_none()
        && let Ok(readme) = std::fs::read_to_string(snap.join("README.md"))
    {
        let (l, d) = card_metadata(&readme);
        license = l;
        if datasets.is_empty() {
            datasets = d;
        }
    }
    Ok(finish(input, commit, hashed, &snap, license, datasets))
}

/// List every file of the repository at `commit` (following pagination),
/// refusing unsafe names.
fn list_tree(hub: &Hub<'_>, commit: &str) -> Result<Vec<TreeEntry>, ResolveError> {
    let mut entries: Vec<TreeEntry> = Vec::new();
    let mut next = Some(format!(
        "{}/api/{}/{}/tree/{commit}?recursive=true",
        hub.settings.endpoint,
        hub.kind.api(),
        hub.repo
    ));
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > Limit::TreePages.count() {
            return Err(hub.protocol(&format!(
                "tree pagination does not end (over {} pages; {})",
                Limit::TreePages.shown(),
                Limit::TreePages.named()
            )));
        }
        let (page, link): (Vec<TreeEntry>, Option<String>) = hub.get_json(&url, None)?;
        entries.extend(page);
        next = link
            .as_deref()
            .and_then(next_link)
            .map(|n| absolutize(&hub.settings.endpoint, &n));
    }
    entries.retain(|e| e.kind == "file");
    for e in &entries {
        if !crate::fsutil::is_safe_relative(&e.path) {
            return Err(hub.protocol(&format!("unsafe file name `{}` in the tree", e.path)));
        }
    }
    Ok(entries)
}

/// What a tree entry must hash to, and its blob name in the cache.
fn remote_file(hub: &Hub<'_>, e: TreeEntry) -> Result<RemoteFile, ResolveError> {
    let (expect, blob_name, size) = match (&e.lfs, &e.oid) {
        (Some(lfs), _) => {
            let d = Sha256Digest::from_hex(&lfs.oid)
                .map_err(|_| hub.protocol(&format!("`{}` has a bad lfs.oid", e.path)))?;
            (Expect::Sha256(d), d.hex(), lfs.size)
        }
        (None, Some(oid)) => {
            let mut b = [0u8; 20];
            hex::decode_to_slice(oid, &mut b)
                .map_err(|_| hub.protocol(&format!("`{}` has a bad oid", e.path)))?;
            (Expect::GitBlob(b), oid.to_ascii_lowercase(), e.size)
        }
        (None, None) => {
            return Err(hub.protocol(&format!("`{}` has neither oid nor lfs", e.path)));
        }
    };
    Ok(RemoteFile {
        path: e.path,
        size,
        expect,
        blob_name,
    })
}

/// Download the files whose blobs are missing or wrong into the HF cache
/// (verified while streaming) and link them into the commit's snapshot.
fn download_into_cache(
    hub: &Hub<'_>,
    commit: &str,
    files: &[RemoteFile],
    cx: &ResolveContext<'_>,
) -> Result<(), ResolveError> {
    let rdir = repo_dir(&cx.hf.cache_dir, hub.kind, hub.repo);
    let snap = rdir.join("snapshots").join(commit);
    for f in files {
        let blob = rdir.join("blobs").join(&f.blob_name);
        let present = blob.is_file() && blob_matches(&blob, f.expect, cx).unwrap_or(false);
        if !present {
            let url = format!(
                "{}/{}{}/resolve/{commit}/{}",
                cx.hf.endpoint,
                hub.kind.url_prefix(),
                hub.repo,
                encode_path(&f.path)
            );
            cx.reporter.note(&format!("downloading {}", f.path));
            fetch_verified(
                cx.hf.http(),
                &url,
                cx.hf.token.as_deref(),
                &blob,
                f.expect,
                Some(f.size),
                hub.input,
                &f.path,
                cx.reporter,
            )?;
        }
        link_snapshot(&snap, &f.path, &f.blob_name).map_err(ResolveError::io(hub.input, &snap))?;
    }
    Ok(())
}

/// Bring the files of a locked HF input that are missing from the local
/// cache back: list the locked commit's tree, check that each file's LFS
/// digest is still the locked one, download and verify it. The caller
/// re-hashes every file against the lock afterwards. Fails with
/// [`ResolveError::Offline`] under `--offline`.
pub fn fetch_locked(
    locked: &LockedInput,
    missing: &[&FileEntry],
    cx: &ResolveContext<'_>,
) -> Result<(), ResolveError> {
    if missing.is_empty() {
        return Ok(());
    }
    let Some((kind, repo)) = locked.source.hf_repo() else {
        return Err(ResolveError::HfProtocol {
            input: locked.name.clone(),
            repo: locked.source.to_string(),
            message: "not a Hugging Face input".into(),
        });
    };
    let commit = locked
        .commit
        .as_deref()
        .filter(|c| is_commit(c))
        .ok_or_else(|| ResolveError::HfProtocol {
            input: locked.name.clone(),
            repo: repo.to_string(),
            message: "the lock entry has no commit".into(),
        })?;
    if let Some(cause) = cx.hf_offline {
        let names: Vec<&str> = missing.iter().map(|f| f.path.as_str()).collect();
        return Err(ResolveError::Offline {
            input: locked.name.clone(),
            what: format!("{repo}@{commit}: {}", names.join(", ")),
            cause,
        });
    }
    let hub = Hub {
        settings: &cx.hf,
        input: &locked.name,
        repo,
        kind,
    };
    let mut tree: std::collections::HashMap<String, TreeEntry> = list_tree(&hub, commit)?
        .into_iter()
        .map(|e| (e.path.clone(), e))
        .collect();
    let mut files = Vec::new();
    for want in missing {
        let e = tree.remove(&want.path).ok_or_else(|| {
            hub.protocol(&format!(
                "`{}` is in mlprov.lock but not in the repository at commit {commit}",
                want.path
            ))
        })?;
        let f = remote_file(&hub, e)?;
        if let Expect::Sha256(d) = f.expect
            && d != want.sha256
        {
            return Err(ResolveError::DigestMismatch {
                input: locked.name.clone(),
                file: want.path.clone(),
                expected: want.sha256.prefixed(),
                actual: d.prefixed(),
            });
        }
        files.push(f);
    }
    download_into_cache(&hub, commit, &files, cx)
}

fn finish(
    input: &Input,
    commit: String,
    hashed: Vec<FileEntry>,
    snap: &Path,
    card_license: Option<String>,
    datasets: Vec<String>,
) -> LockedInput {
    let entry = super::locked(input, FileSet::new(hashed), snap);
    LockedInput {
        commit: Some(commit),
        license: entry.license.clone().or(card_license),
        datasets,
        ..entry
    }
}

/// Is the cached blob what it claims to be?
fn blob_matches(blob: &Path, expect: Expect, cx: &ResolveContext<'_>) -> std::io::Result<bool> {
    Ok(match expect {
        Expect::Sha256(want) => {
            let tf = TreeFile {
                rel: String::new(),
                abs: blob.to_path_buf(),
                size: std::fs::metadata(blob)?.len(),
            };
            digest::hash_files(&[tf], cx.hash_cache, &crate::reporter::Silent)
                .map_err(|e| e.source)?[0]
                .sha256
                == want
        }
        Expect::GitBlob(want) => git_blob_id(blob)? == want,
    })
}

/// `snapshots/{commit}/{path}` → `../../blobs/{name}` (relative, as
/// huggingface_hub writes it).
fn link_snapshot(snap: &Path, rel: &str, blob_name: &str) -> std::io::Result<()> {
    let link = snap.join(rel);
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let depth = rel.matches('/').count() + 2;
    let target: PathBuf = std::iter::repeat_n("..", depth)
        .collect::<PathBuf>()
        .join("blobs")
        .join(blob_name);
    if let Ok(existing) = std::fs::read_link(&link) {
        if existing == target {
            return Ok(());
        }
        std::fs::remove_file(&link)?;
    } else if link.exists() {
        std::fs::remove_file(&link)?;
    }
    symlink_or_copy(&target, &link)
}

#[cfg(unix)]
fn symlink_or_copy(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink_or_copy(target: &Path, link: &Path) -> std::io::Result<()> {
    let abs = link.parent().unwrap_or(Path::new(".")).join(target);
    std::fs::copy(abs, link).map(|_| ())
}

/// Pin from the local cache alone: the snapshot for the revision, each blob
/// verified against its name (sha256 for LFS blobs, git blob id otherwise).
fn resolve_offline(
    input: &Input,
    kind: RepoKind,
    repo: &str,
    revision: &str,
    cause: &'static str,
    cx: &ResolveContext<'_>,
) -> Result<LockedInput, ResolveError> {
    let rdir = repo_dir(&cx.hf.cache_dir, kind, repo);
    let offline = |what: String| ResolveError::Offline {
        input: input.name.clone(),
        what,
        cause,
    };
    let commit = if is_commit(revision) {
        revision.to_string()
    } else {
        let refs =
            ref_file(&rdir, revision).ok_or_else(|| offline(format!("{repo}@{revision}")))?;
        std::fs::read_to_string(&refs)
            .map(|s| s.trim().to_string())
            .ok()
            .filter(|c| is_commit(c))
            .ok_or_else(|| offline(format!("{repo}@{revision} ({})", refs.display())))?
    };
    let snap = rdir.join("snapshots").join(&commit);
    if !snap.is_dir() {
        return Err(offline(format!("{repo}@{commit} ({})", snap.display())));
    }
    let blobs = rdir.join("blobs").canonicalize().ok();
    let keep = glob_filter(&input.include, &input.exclude);
    let mut found = Vec::new();
    list_snapshot(&snap, "", &mut found).map_err(ResolveError::io(&input.name, &snap))?;
    let mut files = Vec::new();
    for (rel, abs) in found {
        if !keep(&rel) || outside_artifact(&rel) {
            continue;
        }
        let target = abs
            .canonicalize()
            .map_err(ResolveError::io(&input.name, &abs))?;
        let in_blobs = blobs.as_ref().is_some_and(|b| target.starts_with(b));
        let is_link = std::fs::symlink_metadata(&abs)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        if is_link && !in_blobs {
            return Err(ResolveError::Walk {
                input: input.name.clone(),
                source: digest::WalkError::SymlinkEscape { path: abs, target },
            });
        }
        let size = std::fs::metadata(&target)
            .map_err(ResolveError::io(&input.name, &target))?
            .len();
        files.push((rel, abs, target, size));
    }
    if files.is_empty() {
        return Err(offline(format!("any selected file of {repo}@{commit}")));
    }
    files.sort_by(|a, b| digest::posix_path_cmp(&a.0, &b.0));
    let tree_files: Vec<TreeFile> = files
        .iter()
        .map(|(rel, abs, _, size)| TreeFile {
            rel: rel.clone(),
            abs: abs.clone(),
            size: *size,
        })
        .collect();
    let hashed = digest::hash_files(&tree_files, cx.hash_cache, cx.reporter)
        .map_err(ResolveError::hash(&input.name))?;
    for (h, (rel, _, target, _)) in hashed.iter().zip(&files) {
        let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Ok(want) = Sha256Digest::from_hex(name) {
            if want != h.sha256 {
                return Err(ResolveError::DigestMismatch {
                    input: input.name.clone(),
                    file: rel.clone(),
                    expected: want.prefixed(),
                    actual: h.sha256.prefixed(),
                });
            }
        } else if name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            let have = git_blob_id(target).map_err(ResolveError::io(&input.name, target))?;
            if hex::encode(have) != name.to_ascii_lowercase() {
                return Err(ResolveError::DigestMismatch {
                    input: input.name.clone(),
                    file: rel.clone(),
                    expected: format!("git blob {name}"),
                    actual: format!("git blob {}", hex::encode(have)),
                });
            }
        }
    }
    let (license, datasets) = std::fs::read_to_string(snap.join("README.md"))
        .map(|r| card_metadata(&r))
        .unwrap_or_default();
    Ok(finish(input, commit, hashed, &snap, license, datasets))
}

fn list_snapshot(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(String, PathBuf)>,
) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().to_string();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let ft = e.file_type()?;
        if ft.is_dir() {
            list_snapshot(&e.path(), &rel, out)?;
        } else {
            out.push((rel, e.path()));
        }
    }
    Ok(())
}

/// `.gitattributes`, `.gitignore`, `.git/`, `.github/` (repository
/// plumbing) and an OMS `model.sig` are left out of the file set, as
/// model_signing leaves them out, so an HF input's artifact digest equals
/// the digest of its snapshot directory.
fn outside_artifact(rel: &str) -> bool {
    SetOptions::artifact().ignores(rel)
}

/// Percent-encode each path segment, keeping the slashes.
fn encode_path(p: &str) -> String {
    const SEG: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    p.split('/')
        .map(|s| percent_encoding::utf8_percent_encode(s, SEG).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// The `rel="next"` target of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

fn absolutize(endpoint: &str, link: &str) -> String {
    if link.starts_with("http://") || link.starts_with("https://") {
        link.to_string()
    } else {
        format!("{endpoint}{link}")
    }
}

struct Hub<'a> {
    settings: &'a HfSettings,
    input: &'a str,
    repo: &'a str,
    kind: RepoKind,
}

impl Hub<'_> {
    fn protocol(&self, message: &str) -> ResolveError {
        ResolveError::HfProtocol {
            input: self.input.to_string(),
            repo: self.repo.to_string(),
            message: message.to_string(),
        }
    }

    /// GET a JSON document with retries on network errors and 5xx; map the
    /// Hub's error codes (`X-Error-Code`) to clear errors.
    fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        url: &str,
        revision: Option<&str>,
    ) -> Result<(T, Option<String>), ResolveError> {
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(250 << attempt));
            }
            let mut req = self
                .settings
                .http()
                .get(url)
                .timeout(Duration::from_secs(60));
            if let Some(t) = &self.settings.token {
                req = req.bearer_auth(t);
            }
            let resp = match req.send() {
                Ok(r) => r,
                Err(e) => {
                    last = Some(ResolveError::Network {
                        input: self.input.to_string(),
                        url: url.to_string(),
                        message: error_chain(&e),
                    });
                    continue;
                }
            };
            let status = resp.status().as_u16();
            if resp.status().is_success() {
                let link = resp
                    .headers()
                    .get("link")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let mut body = Vec::new();
                std::io::Read::read_to_end(
                    &mut std::io::Read::take(resp, Limit::HubAnswerBytes.get().saturating_add(1)),
                    &mut body,
                )
                .map_err(|e| ResolveError::Network {
                    input: self.input.to_string(),
                    url: url.to_string(),
                    message: error_chain(&e),
                })?;
                if body.len() as u64 > Limit::HubAnswerBytes.get() {
                    return Err(self.protocol(&format!(
                        "{url}: the answer is over the limit of {} ({})",
                        Limit::HubAnswerBytes.shown(),
                        Limit::HubAnswerBytes.named()
                    )));
                }
                let v = serde_json::from_slice(&body)
                    .map_err(|e| self.protocol(&format!("{url}: {e}")))?;
                return Ok((v, link));
            }
            let header = |k: &str| {
                resp.headers()
                    .get(k)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            let code = header("x-error-code");
            let message = header("x-error-message");
            let detail = if message.is_empty() {
                String::new()
            } else {
                format!(": {message}")
            };
            let input = self.input.to_string();
            let repo = self.repo.to_string();
            let err = match (status, code.as_str()) {
                (_, "GatedRepo") => ResolveError::HfGated {
                    input,
                    page: format!(
                        "{}/{}{}",
                        self.settings.endpoint,
                        self.kind.url_prefix(),
                        self.repo
                    ),
                    repo,
                    detail,
                },
                (_, "RepoNotFound") => ResolveError::HfRepoNotFound { input, repo },
                (_, "RevisionNotFound") => ResolveError::HfRevisionNotFound {
                    input,
                    repo,
                    revision: revision.unwrap_or("").to_string(),
                },
                (404, _) if revision.is_some() => ResolveError::HfRepoNotFound { input, repo },
                (s, _) if s >= 500 => {
                    last = Some(ResolveError::Http {
                        input,
                        url: url.to_string(),
                        status: s,
                        detail,
                        help: "the Hub is having trouble; retry later".into(),
                    });
                    continue;
                }
                (s, _) => ResolveError::Http {
                    input,
                    url: url.to_string(),
                    status: s,
                    detail,
                    help: match s {
                        401 | 403 => {
                            "set HF_TOKEN to a token with access to this repository".into()
                        }
                        429 => "rate limited: retry later, or set HF_TOKEN".into(),
                        _ => "check the repository id and revision".into(),
                    },
                },
            };
            return Err(err);
        }
        Err(last.unwrap_or_else(|| self.protocol("no answer")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_link_header() {
        let h = r#"<https://huggingface.co/api/models/x/tree/main?recursive=true&cursor=abc>; rel="next""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://huggingface.co/api/models/x/tree/main?recursive=true&cursor=abc")
        );
        assert_eq!(next_link(r#"<a>; rel="prev""#), None);
    }

    #[test]
    fn cache_layout_names() {
        let c = Path::new("/c");
        assert_eq!(
            repo_dir(c, RepoKind::Model, "org/name"),
            Path::new("/c/models--org--name")
        );
        assert_eq!(
            snapshot_dir(c, RepoKind::Dataset, "org/d", "abc"),
            Path::new("/c/datasets--org--d/snapshots/abc")
        );
    }

    #[test]
    fn encodes_paths() {
        assert_eq!(
            encode_path("1_Pooling/config.json"),
            "1_Pooling/config.json"
        );
        assert_eq!(encode_path("a b/c#d"), "a%20b/c%23d");
    }

    #[test]
    fn snapshot_links_are_relative() {
        let d = tempfile::tempdir().unwrap();
        let snap = d.path().join("snapshots/c");
        link_snapshot(&snap, "1_Pooling/config.json", "abc").unwrap();
        assert_eq!(
            std::fs::read_link(snap.join("1_Pooling/config.json")).unwrap(),
            Path::new("../../../blobs/abc")
        );
    }
}
