//! A Hugging Face Hub stand-in on 127.0.0.1 that speaks the HTTP API mlprov
//! uses, with the real response shapes:
//! - `GET /api/{models|datasets}/{id}/revision/{rev}` → `{id, sha, cardData, siblings}`
//! - `GET /api/{models|datasets}/{id}/tree/{commit}?recursive=true` → entries
//!   `{type, oid, size, path, lfs?: {oid, size, pointerSize}}`, paginated with a
//!   `Link: <…&cursor=N>; rel="next"` header
//! - `GET /{id}/resolve/{commit}/{path}` (datasets under `/datasets/`) → LFS
//!   files redirect (302) to a CDN path; headers `X-Repo-Commit`, `ETag`,
//!   `X-Linked-Etag`, `X-Linked-Size`
//! - errors with `X-Error-Code` (`RepoNotFound`, `RevisionNotFound`,
//!   `GatedRepo`) and `X-Error-Message`, as the Hub sends them.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sha1::Digest as _;

pub const PAGE_SIZE: usize = 5;

#[derive(Clone)]
pub struct HubFile {
    pub path: String,
    pub bytes: Arc<Vec<u8>>,
    pub lfs: bool,
}

impl HubFile {
    pub fn sha256(&self) -> String {
        hex::encode(sha2::Sha256::digest(self.bytes.as_slice()))
    }
    pub fn git_oid(&self) -> String {
        let mut h = sha1::Sha1::new();
        h.update(format!("blob {}\0", self.bytes.len()).as_bytes());
        h.update(self.bytes.as_slice());
        hex::encode(h.finalize())
    }
}

#[derive(Default)]
pub struct Repo {
    pub dataset: bool,
    pub gated: bool,
    /// branch or tag → commit
    pub refs: BTreeMap<String, String>,
    pub commits: BTreeMap<String, Vec<HubFile>>,
    pub card: serde_json::Value,
}

#[derive(Default)]
pub struct State {
    pub repos: BTreeMap<String, Repo>,
    /// Paths whose bytes are served corrupted (one byte flipped).
    pub corrupt: BTreeSet<String>,
    pub downloads: Vec<String>,
}

pub struct HubServer {
    pub endpoint: String,
    pub state: Arc<Mutex<State>>,
    pub requests: Arc<AtomicUsize>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for HubServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A deterministic fake commit id for a label.
pub fn commit_id(label: &str) -> String {
    hex::encode(sha1::Sha1::digest(label.as_bytes()))
}

/// All files of a model directory, the big binary ones marked LFS as the Hub
/// stores them.
pub fn files_of(dir: &Path) -> Vec<HubFile> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<HubFile>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(root, &e.path(), out);
            } else {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                let bytes = std::fs::read(e.path()).unwrap();
                let lfs = rel.ends_with(".safetensors") || bytes.len() > 100_000;
                out.push(HubFile {
                    path: rel,
                    bytes: Arc::new(bytes),
                    lfs,
                });
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

impl HubServer {
    pub fn start() -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let port = server.server_addr().to_ip().expect("ip").port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State::default()));
        let requests = Arc::new(AtomicUsize::new(0));
        let (s2, st2, rq2, ep2) = (
            server.clone(),
            state.clone(),
            requests.clone(),
            endpoint.clone(),
        );
        let thread = std::thread::spawn(move || {
            for req in s2.incoming_requests() {
                rq2.fetch_add(1, Ordering::SeqCst);
                handle(req, &st2, &ep2);
            }
        });
        Self {
            endpoint,
            state,
            requests,
            server,
            thread: Some(thread),
        }
    }

    pub fn add_repo(&self, id: &str, repo: Repo) {
        self.state
            .lock()
            .unwrap()
            .repos
            .insert(id.to_string(), repo);
    }

    pub fn with_repo<R>(&self, id: &str, f: impl FnOnce(&mut Repo) -> R) -> R {
        f(self.state.lock().unwrap().repos.get_mut(id).expect("repo"))
    }

    pub fn downloads(&self) -> Vec<String> {
        self.state.lock().unwrap().downloads.clone()
    }
}

fn header(k: &str, v: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).expect("header")
}

fn json_response(v: &serde_json::Value) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    tiny_http::Response::from_data(serde_json::to_vec(v).unwrap())
        .with_header(header("Content-Type", "application/json; charset=utf-8"))
}

fn hub_error(
    status: u16,
    code: &str,
    message: &str,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    tiny_http::Response::from_data(
        serde_json::to_vec(&serde_json::json!({ "error": message })).unwrap(),
    )
    .with_status_code(status)
    .with_header(header("X-Error-Code", code))
    .with_header(header("X-Error-Message", message))
    .with_header(header("Content-Type", "application/json; charset=utf-8"))
}

fn handle(req: tiny_http::Request, state: &Arc<Mutex<State>>, endpoint: &str) {
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let path = percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .to_string();
    let mut st = state.lock().unwrap();

    // CDN: /cdn/{sha256}
    if let Some(sha) = path.strip_prefix("/cdn/") {
        for repo in st.repos.values() {
            for files in repo.commits.values() {
                if let Some(f) = files.iter().find(|f| f.sha256() == sha) {
                    let mut bytes = f.bytes.as_ref().clone();
                    let corrupt = st.corrupt.contains(&f.path);
                    let p = f.path.clone();
                    if corrupt && !bytes.is_empty() {
                        let mid = bytes.len() / 2;
                        bytes[mid] ^= 0x01;
                    }
                    st.downloads.push(p);
                    drop(st);
                    let _ = req.respond(tiny_http::Response::from_data(bytes));
                    return;
                }
            }
        }
        let _ = req.respond(tiny_http::Response::empty(404));
        return;
    }

    let (api, rest) = if let Some(r) = path.strip_prefix("/api/models/") {
        (true, (false, r))
    } else if let Some(r) = path.strip_prefix("/api/datasets/") {
        (true, (true, r))
    } else if let Some(r) = path.strip_prefix("/datasets/") {
        (false, (true, r))
    } else {
        (false, (false, path.trim_start_matches('/')))
    };
    let (dataset, rest) = rest;
    // rest = org/name/{revision|tree|resolve}/...
    let parts: Vec<&str> = rest.splitn(4, '/').collect();
    if parts.len() < 3 {
        let _ = req.respond(tiny_http::Response::empty(404));
        return;
    }
    let id = format!("{}/{}", parts[0], parts[1]);
    let verb = parts[2];
    let tail = parts.get(3).copied().unwrap_or("");
    let Some(repo) = st.repos.get(&id).filter(|r| r.dataset == dataset) else {
        let _ = req.respond(hub_error(401, "RepoNotFound", "Repository not found"));
        return;
    };
    if repo.gated {
        let kind = if dataset { "dataset" } else { "model" };
        let _ = req.respond(hub_error(
            403,
            "GatedRepo",
            &format!("Access to {kind} {id} is restricted. You must have access to it and be authenticated to access it. Please log in."),
        ));
        return;
    }
    let resolve_rev = |rev: &str| -> Option<String> {
        if repo.commits.contains_key(rev) {
            Some(rev.to_string())
        } else {
            repo.refs.get(rev).cloned()
        }
    };
    match (api, verb) {
        (true, "revision") => {
            let Some(commit) = resolve_rev(tail) else {
                let _ = req.respond(hub_error(
                    404,
                    "RevisionNotFound",
                    &format!("Invalid rev id: {tail}"),
                ));
                return;
            };
            let siblings: Vec<_> = repo.commits[&commit]
                .iter()
                .map(|f| serde_json::json!({ "rfilename": f.path }))
                .collect();
            let body = serde_json::json!({
                "_id": commit_id(&id),
                "id": id,
                "private": false,
                "sha": commit,
                "lastModified": "2024-01-05T10:00:00.000Z",
                "cardData": repo.card,
                "siblings": siblings,
            });
            let _ = req.respond(json_response(&body));
        }
        (true, "tree") => {
            let Some(commit) = resolve_rev(tail) else {
                let _ = req.respond(hub_error(
                    404,
                    "RevisionNotFound",
                    &format!("Invalid rev id: {tail}"),
                ));
                return;
            };
            let mut entries = Vec::new();
            let mut dirs = BTreeSet::new();
            for f in &repo.commits[&commit] {
                let mut p = f.path.as_str();
                while let Some((d, _)) = p.rsplit_once('/') {
                    dirs.insert(d.to_string());
                    p = d;
                }
            }
            for d in &dirs {
                entries.push(serde_json::json!({"type": "directory", "oid": commit_id(d), "size": 0, "path": d}));
            }
            for f in &repo.commits[&commit] {
                let mut e = serde_json::json!({
                    "type": "file", "oid": f.git_oid(), "size": f.bytes.len(), "path": f.path,
                });
                if f.lfs {
                    e["lfs"] = serde_json::json!({"oid": f.sha256(), "size": f.bytes.len(), "pointerSize": 134});
                }
                entries.push(e);
            }
            let cursor: usize = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("cursor="))
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            let page: Vec<_> = entries
                .iter()
                .skip(cursor)
                .take(PAGE_SIZE)
                .cloned()
                .collect();
            let mut resp = json_response(&serde_json::Value::Array(page));
            if cursor + PAGE_SIZE < entries.len() {
                let api_kind = if dataset { "datasets" } else { "models" };
                resp = resp.with_header(header(
                    "Link",
                    &format!(
                        "<{endpoint}/api/{api_kind}/{id}/tree/{tail}?recursive=true&cursor={}>; rel=\"next\"",
                        cursor + PAGE_SIZE
                    ),
                ));
            }
            let _ = req.respond(resp);
        }
        (false, "resolve") => {
            let Some((rev, file)) = tail.split_once('/') else {
                let _ = req.respond(tiny_http::Response::empty(404));
                return;
            };
            let Some(commit) = resolve_rev(rev) else {
                let _ = req.respond(hub_error(
                    404,
                    "RevisionNotFound",
                    &format!("Invalid rev id: {rev}"),
                ));
                return;
            };
            let Some(f) = repo.commits[&commit]
                .iter()
                .find(|f| f.path == file)
                .cloned()
            else {
                let _ = req.respond(hub_error(
                    404,
                    "EntryNotFound",
                    &format!("{file} does not exist on \"{rev}\""),
                ));
                return;
            };
            if f.lfs {
                let resp = tiny_http::Response::empty(302)
                    .with_header(header(
                        "Location",
                        &format!("{endpoint}/cdn/{}", f.sha256()),
                    ))
                    .with_header(header("X-Repo-Commit", &commit))
                    .with_header(header("X-Linked-Etag", &format!("\"{}\"", f.sha256())))
                    .with_header(header("X-Linked-Size", &f.bytes.len().to_string()))
                    .with_header(header("ETag", &format!("\"{}\"", f.git_oid())));
                let _ = req.respond(resp);
            } else {
                let mut bytes = f.bytes.as_ref().clone();
                if st.corrupt.contains(&f.path) && !bytes.is_empty() {
                    bytes[0] ^= 0x01;
                }
                st.downloads.push(f.path.clone());
                drop(st);
                let resp = tiny_http::Response::from_data(bytes)
                    .with_header(header("X-Repo-Commit", &commit))
                    .with_header(header("ETag", &format!("\"{}\"", f.git_oid())));
                let _ = req.respond(resp);
            }
        }
        _ => {
            let _ = req.respond(tiny_http::Response::empty(404));
        }
    }
}
