//! An in-memory OCI registry on 127.0.0.1 that has the referrers API
//! (distribution spec 1.1), for the path Debian's distribution 2.8 cannot
//! exercise. It answers as the spec describes and refuses what a real
//! registry (distribution 3, zot) refuses:
//!
//! - everything is scoped to its repository: blobs, manifests, tags,
//!   mounts (only from a repository that has the blob) and referrers;
//! - uploads: POST (a session, a monolithic `?digest=` upload, or a mount),
//!   PATCH in order (`Content-Range` must start where the upload is, else
//!   416), PUT with `?digest=` that must match the bytes (400
//!   `DIGEST_INVALID`);
//! - a manifest PUT must be a JSON manifest or index of `schemaVersion` 2
//!   whose `mediaType` (when present) is the `Content-Type`, at most 4 MiB,
//!   whose config and layers (or, for an index, manifests) are already in the
//!   repository (400 `MANIFEST_BLOB_UNKNOWN`), under a valid tag or the digest
//!   of its bytes; one with a `subject` is answered with `OCI-Subject`, and
//!   the subject need not exist yet;
//! - `GET /v2/<name>/referrers/<digest>` is always 200 with an image index
//!   of the repository's manifests whose subject is that digest, each entry
//!   with `artifactType` (the manifest's, else its config media type) and
//!   the manifest's annotations when it has any, and honours the
//!   `artifactType` filter with `OCI-Filters-Applied`;
//! - errors carry the spec's JSON error bodies, every response the
//!   `Docker-Distribution-API-Version` header; manifests and blobs can be
//!   deleted (202), and `GET /v2/<name>/tags/list` lists the tags.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use sha2::Digest as _;

const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const MAX_MANIFEST: usize = 4 << 20;

#[derive(Default)]
pub struct State {
    /// (repo, digest) → bytes
    pub blobs: BTreeMap<(String, String), Vec<u8>>,
    /// (repo, digest) → (media type, bytes)
    pub manifests: BTreeMap<(String, String), (String, Vec<u8>)>,
    /// (repo, tag) → digest
    pub tags: BTreeMap<(String, String), String>,
    /// upload id → (repo, bytes so far)
    uploads: BTreeMap<String, (String, Vec<u8>)>,
    next_upload: u64,
    /// `METHOD /path` of every request.
    pub requests: Vec<String>,
}

pub struct ReferrersRegistry {
    pub addr: String,
    pub state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for ReferrersRegistry {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sha(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)))
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("header")
}

impl ReferrersRegistry {
    pub fn start() -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let addr = server.server_addr().to_ip().expect("ip").to_string();
        let state: Arc<Mutex<State>> = Arc::default();
        let thread = {
            let (server, state) = (server.clone(), state.clone());
            std::thread::spawn(move || {
                for mut req in server.incoming_requests() {
                    let mut body = Vec::new();
                    let _ = req.as_reader().read_to_end(&mut body);
                    let resp = answer(&state, &req, body)
                        .with_header(header("Docker-Distribution-API-Version", "registry/2.0"));
                    let _ = req.respond(resp);
                }
            })
        };
        Self {
            addr,
            state,
            server,
            thread: Some(thread),
        }
    }
}

type Resp = tiny_http::Response<std::io::Cursor<Vec<u8>>>;

fn status(code: u16) -> Resp {
    tiny_http::Response::from_data(Vec::new()).with_status_code(code)
}

/// A spec error: `{"errors": [{"code", "message"}]}`.
fn error(code: u16, err: &str, message: &str) -> Resp {
    let body = serde_json::json!({"errors": [{"code": err, "message": message}]});
    tiny_http::Response::from_data(body.to_string().into_bytes())
        .with_status_code(code)
        .with_header(header("Content-Type", "application/json"))
}

fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

fn is_tag(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// The spec's repository name grammar (lower-case path components joined
/// by `.`, `_`, `__` or dashes).
fn is_repo(s: &str) -> bool {
    !s.is_empty()
        && s.split('/').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
                && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
                && b.iter().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
                })
                && !part.contains("..")
                && !part.contains("___")
        })
}

fn request_header(req: &tiny_http::Request, name: &'static str) -> Option<String> {
    req.headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.to_string())
}

/// The blobs a manifest needs in its repository (an image manifest's config
/// and layers; an index's manifests are checked separately).
fn referenced(v: &serde_json::Value, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    if key == "blobs" {
        if let Some(d) = v.pointer("/config/digest").and_then(|d| d.as_str()) {
            out.push(d.to_string());
        }
        for l in v["layers"].as_array().into_iter().flatten() {
            if let Some(d) = l["digest"].as_str() {
                out.push(d.to_string());
            }
        }
    } else {
        for m in v["manifests"].as_array().into_iter().flatten() {
            if let Some(d) = m["digest"].as_str() {
                out.push(d.to_string());
            }
        }
    }
    out
}

fn put_manifest(
    st: &mut State,
    repo: String,
    reference: String,
    req: &tiny_http::Request,
    body: Vec<u8>,
) -> Resp {
    if body.len() > MAX_MANIFEST {
        return error(413, "SIZE_INVALID", "manifest larger than 4 MiB");
    }
    let media = request_header(req, "Content-Type").unwrap_or_default();
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return error(400, "MANIFEST_INVALID", "not JSON");
    };
    if v["schemaVersion"] != 2 {
        return error(400, "MANIFEST_INVALID", "schemaVersion is not 2");
    }
    if let Some(m) = v["mediaType"].as_str()
        && m != media
    {
        return error(
            400,
            "MANIFEST_INVALID",
            "mediaType does not match Content-Type",
        );
    }
    let (needs, what) = match media.as_str() {
        MANIFEST => (referenced(&v, "blobs"), "blob"),
        INDEX => (referenced(&v, "manifests"), "manifest"),
        _ => return error(400, "MANIFEST_INVALID", "unsupported manifest media type"),
    };
    for d in needs {
        let known = if what == "blob" {
            st.blobs.contains_key(&(repo.clone(), d.clone()))
        } else {
            st.manifests.contains_key(&(repo.clone(), d.clone()))
        };
        if !known {
            return error(
                400,
                "MANIFEST_BLOB_UNKNOWN",
                &format!("{what} {d} is not in {repo}"),
            );
        }
    }
    let d = sha(&body);
    if reference.starts_with("sha256:") {
        if reference != d {
            return error(
                400,
                "DIGEST_INVALID",
                "the manifest's bytes have another digest",
            );
        }
    } else if !is_tag(&reference) {
        return error(400, "TAG_INVALID", "not a valid tag");
    } else {
        st.tags.insert((repo.clone(), reference), d.clone());
    }
    st.manifests
        .insert((repo.clone(), d.clone()), (media, body));
    let mut r = status(201)
        .with_header(header("Docker-Content-Digest", &d))
        .with_header(header("Location", &format!("/v2/{repo}/manifests/{d}")));
    if let Some(s) = v.pointer("/subject/digest").and_then(|s| s.as_str()) {
        r = r.with_header(header("OCI-Subject", s));
    }
    r
}

fn referrers(st: &State, repo: &str, subject: &str, query: &BTreeMap<String, String>) -> Resp {
    if !is_digest(subject) {
        return error(400, "DIGEST_INVALID", "not a digest");
    }
    let filter = query.get("artifactType");
    let mut manifests = Vec::new();
    for ((r, d), (media, bytes)) in &st.manifests {
        if r != repo {
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
        if v.pointer("/subject/digest").and_then(|s| s.as_str()) != Some(subject) {
            continue;
        }
        let artifact_type = v["artifactType"]
            .as_str()
            .or_else(|| v.pointer("/config/mediaType").and_then(|m| m.as_str()));
        if filter.is_some() && filter.map(String::as_str) != artifact_type {
            continue;
        }
        let mut entry = serde_json::json!({
            "mediaType": media,
            "digest": d,
            "size": bytes.len(),
        });
        if let Some(t) = artifact_type {
            entry["artifactType"] = t.into();
        }
        if v["annotations"].as_object().is_some_and(|a| !a.is_empty()) {
            entry["annotations"] = v["annotations"].clone();
        }
        manifests.push(entry);
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": manifests,
    });
    let mut r = tiny_http::Response::from_data(index.to_string().into_bytes())
        .with_header(header("Content-Type", INDEX));
    if filter.is_some() {
        r = r.with_header(header("OCI-Filters-Applied", "artifactType"));
    }
    r
}

fn answer(state: &Mutex<State>, req: &tiny_http::Request, body: Vec<u8>) -> Resp {
    let method = req.method().as_str().to_string();
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let mut st = state.lock().unwrap();
    st.requests.push(format!("{method} {path}"));
    if path == "/v2/" {
        return tiny_http::Response::from_data(b"{}".to_vec())
            .with_header(header("Content-Type", "application/json"));
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return error(404, "NOT_FOUND", "not an API path");
    };
    let q: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if let Some(repo) = rest.strip_suffix("/tags/list") {
        let tags: BTreeSet<&String> = st
            .tags
            .keys()
            .filter(|(r, _)| r == repo)
            .map(|(_, t)| t)
            .collect();
        if tags.is_empty() {
            return error(404, "NAME_UNKNOWN", "no such repository");
        }
        let body = serde_json::json!({"name": repo, "tags": tags});
        return tiny_http::Response::from_data(body.to_string().into_bytes())
            .with_header(header("Content-Type", "application/json"));
    }
    for marker in ["/blobs/uploads/", "/blobs/", "/manifests/", "/referrers/"] {
        let Some(i) = rest.find(marker) else { continue };
        let repo = rest[..i].to_string();
        let arg = rest[i + marker.len()..].to_string();
        if !is_repo(&repo) {
            return error(400, "NAME_INVALID", "invalid repository name");
        }
        return match (marker, method.as_str()) {
            ("/blobs/uploads/", "POST") => {
                if let Some(d) = q.get("mount") {
                    let from = q.get("from").cloned().unwrap_or_default();
                    if let Some(b) = st.blobs.get(&(from, d.clone())).cloned() {
                        st.blobs.insert((repo.clone(), d.clone()), b);
                        return status(201)
                            .with_header(header("Docker-Content-Digest", d))
                            .with_header(header("Location", &format!("/v2/{repo}/blobs/{d}")));
                    }
                }
                if let Some(d) = q.get("digest") {
                    if sha(&body) != *d {
                        return error(400, "DIGEST_INVALID", "the upload has another digest");
                    }
                    st.blobs.insert((repo.clone(), d.clone()), body);
                    return status(201)
                        .with_header(header("Docker-Content-Digest", d))
                        .with_header(header("Location", &format!("/v2/{repo}/blobs/{d}")));
                }
                st.next_upload += 1;
                let id = format!("u{}", st.next_upload);
                st.uploads.insert(id.clone(), (repo.clone(), Vec::new()));
                status(202)
                    .with_header(header(
                        "Location",
                        &format!("/v2/{repo}/blobs/uploads/{id}"),
                    ))
                    .with_header(header("Range", "0-0"))
            }
            ("/blobs/uploads/", "PATCH") => {
                let range = request_header(req, "Content-Range");
                let Some((owner, up)) = st.uploads.get_mut(&arg) else {
                    return error(404, "BLOB_UPLOAD_UNKNOWN", "no such upload");
                };
                if *owner != repo {
                    return error(
                        404,
                        "BLOB_UPLOAD_UNKNOWN",
                        "no such upload in this repository",
                    );
                }
                if let Some(r) = range {
                    let start = r
                        .split('-')
                        .next()
                        .and_then(|s| s.trim().parse::<usize>().ok());
                    if start != Some(up.len()) {
                        return status(416).with_header(header(
                            "Range",
                            &format!("0-{}", up.len().saturating_sub(1)),
                        ));
                    }
                }
                up.extend_from_slice(&body);
                let end = up.len().saturating_sub(1);
                status(202)
                    .with_header(header(
                        "Location",
                        &format!("/v2/{repo}/blobs/uploads/{arg}"),
                    ))
                    .with_header(header("Range", &format!("0-{end}")))
            }
            ("/blobs/uploads/", "GET") => match st.uploads.get(&arg) {
                Some((owner, up)) if *owner == repo => status(204)
                    .with_header(header(
                        "Location",
                        &format!("/v2/{repo}/blobs/uploads/{arg}"),
                    ))
                    .with_header(header(
                        "Range",
                        &format!("0-{}", up.len().saturating_sub(1)),
                    )),
                _ => error(404, "BLOB_UPLOAD_UNKNOWN", "no such upload"),
            },
            ("/blobs/uploads/", "PUT") => {
                let Some((owner, mut up)) = st.uploads.remove(&arg) else {
                    return error(404, "BLOB_UPLOAD_UNKNOWN", "no such upload");
                };
                if owner != repo {
                    return error(
                        404,
                        "BLOB_UPLOAD_UNKNOWN",
                        "no such upload in this repository",
                    );
                }
                up.extend_from_slice(&body);
                let d = sha(&up);
                if q.get("digest") != Some(&d) {
                    return error(400, "DIGEST_INVALID", "the upload has another digest");
                }
                st.blobs.insert((repo.clone(), d.clone()), up);
                status(201)
                    .with_header(header("Docker-Content-Digest", &d))
                    .with_header(header("Location", &format!("/v2/{repo}/blobs/{d}")))
            }
            ("/blobs/", "HEAD") | ("/blobs/", "GET") => match st.blobs.get(&(repo, arg.clone())) {
                Some(b) => {
                    let len = b.len();
                    let data = if method == "HEAD" {
                        Vec::new()
                    } else {
                        b.clone()
                    };
                    let mut r = tiny_http::Response::from_data(data)
                        .with_header(header("Docker-Content-Digest", &arg))
                        .with_header(header("Content-Type", "application/octet-stream"));
                    if method == "HEAD" {
                        r = r.with_header(header("Content-Length", &len.to_string()));
                    }
                    r
                }
                None if method == "HEAD" => status(404),
                None => error(404, "BLOB_UNKNOWN", "no such blob in this repository"),
            },
            ("/blobs/", "DELETE") => match st.blobs.remove(&(repo, arg)) {
                Some(_) => status(202),
                None => error(404, "BLOB_UNKNOWN", "no such blob"),
            },
            ("/manifests/", "PUT") => put_manifest(&mut st, repo, arg, req, body),
            ("/manifests/", "HEAD") | ("/manifests/", "GET") => {
                let d = if arg.starts_with("sha256:") {
                    Some(arg.clone())
                } else {
                    st.tags.get(&(repo.clone(), arg)).cloned()
                };
                match d.and_then(|d| st.manifests.get(&(repo, d.clone())).map(|m| (d, m.clone()))) {
                    Some((d, (media, bytes))) => {
                        let len = bytes.len();
                        let data = if method == "HEAD" { Vec::new() } else { bytes };
                        let mut r = tiny_http::Response::from_data(data)
                            .with_header(header("Content-Type", &media))
                            .with_header(header("Docker-Content-Digest", &d));
                        if method == "HEAD" {
                            r = r.with_header(header("Content-Length", &len.to_string()));
                        }
                        r
                    }
                    None if method == "HEAD" => status(404),
                    None => error(
                        404,
                        "MANIFEST_UNKNOWN",
                        "no such manifest in this repository",
                    ),
                }
            }
            ("/manifests/", "DELETE") => {
                if !is_digest(&arg) {
                    return error(400, "UNSUPPORTED", "delete manifests by digest");
                }
                match st.manifests.remove(&(repo.clone(), arg.clone())) {
                    Some(_) => {
                        st.tags.retain(|(r, _), d| !(*r == repo && *d == arg));
                        status(202)
                    }
                    None => error(404, "MANIFEST_UNKNOWN", "no such manifest"),
                }
            }
            ("/referrers/", "GET") => referrers(&st, &repo, &arg, &q),
            _ => error(405, "UNSUPPORTED", "method not allowed"),
        };
    }
    error(404, "NOT_FOUND", "not an API path")
}
