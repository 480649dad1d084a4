//! An in-memory OCI registry on 127.0.0.1 that has the referrers API
//! (distribution spec 1.1), for the path Debian's distribution 2.8 cannot
//! exercise. It answers as the spec describes: `OCI-Subject` on a manifest
//! PUT with a subject, and `GET /v2/<name>/referrers/<digest>` as an image
//! index whose entries carry the referrer's `artifactType` and annotations.
//! Blob uploads follow the spec too (POST, PATCH with Content-Range, PUT
//! with `?digest=`), so the same client code runs against it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sha2::Digest as _;

#[derive(Default)]
pub struct State {
    pub blobs: BTreeMap<String, Vec<u8>>,
    /// digest → (media type, bytes)
    pub manifests: BTreeMap<String, (String, Vec<u8>)>,
    /// (repo, tag) → digest
    pub tags: BTreeMap<(String, String), String>,
    uploads: BTreeMap<String, Vec<u8>>,
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
                    let resp = answer(&state, &req, body);
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

fn answer(state: &Mutex<State>, req: &tiny_http::Request, body: Vec<u8>) -> Resp {
    let method = req.method().as_str().to_string();
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let mut st = state.lock().unwrap();
    st.requests.push(format!("{method} {path}"));
    if path == "/v2/" {
        return tiny_http::Response::from_data(b"{}".to_vec());
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return status(404);
    };
    let q: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    for marker in ["/blobs/uploads/", "/blobs/", "/manifests/", "/referrers/"] {
        let Some(i) = rest.find(marker) else { continue };
        let repo = rest[..i].to_string();
        let arg = rest[i + marker.len()..].to_string();
        return match (marker, method.as_str()) {
            ("/blobs/uploads/", "POST") => {
                if let Some(d) = q.get("mount")
                    && st.blobs.contains_key(d)
                {
                    return status(201).with_header(header("Docker-Content-Digest", d));
                }
                let id = format!("u{}", st.uploads.len() + st.requests.len());
                st.uploads.insert(id.clone(), Vec::new());
                status(202)
                    .with_header(header(
                        "Location",
                        &format!("/v2/{repo}/blobs/uploads/{id}"),
                    ))
                    .with_header(header("Range", "0-0"))
            }
            ("/blobs/uploads/", "PATCH") => {
                let Some(up) = st.uploads.get_mut(&arg) else {
                    return status(404);
                };
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
                Some(up) => status(204)
                    .with_header(header(
                        "Location",
                        &format!("/v2/{repo}/blobs/uploads/{arg}"),
                    ))
                    .with_header(header(
                        "Range",
                        &format!("0-{}", up.len().saturating_sub(1)),
                    )),
                None => status(404),
            },
            ("/blobs/uploads/", "PUT") => {
                let Some(mut up) = st.uploads.remove(&arg) else {
                    return status(404);
                };
                up.extend_from_slice(&body);
                let d = sha(&up);
                if q.get("digest") != Some(&d) {
                    return status(400);
                }
                st.blobs.insert(d.clone(), up);
                status(201).with_header(header("Docker-Content-Digest", &d))
            }
            ("/blobs/", "HEAD") | ("/blobs/", "GET") => match st.blobs.get(&arg) {
                Some(b) => {
                    let data = if method == "HEAD" {
                        Vec::new()
                    } else {
                        b.clone()
                    };
                    tiny_http::Response::from_data(data)
                        .with_header(header("Docker-Content-Digest", &arg))
                }
                None => status(404),
            },
            ("/manifests/", "PUT") => {
                let d = sha(&body);
                let media = req
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Content-Type"))
                    .map(|h| h.value.to_string())
                    .unwrap_or_default();
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                st.manifests.insert(d.clone(), (media, body));
                if !arg.starts_with("sha256:") {
                    st.tags.insert((repo, arg), d.clone());
                }
                let mut r = status(201).with_header(header("Docker-Content-Digest", &d));
                if let Some(s) = v.pointer("/subject/digest").and_then(|s| s.as_str()) {
                    r = r.with_header(header("OCI-Subject", s));
                }
                r
            }
            ("/manifests/", "HEAD") | ("/manifests/", "GET") => {
                let d = if arg.starts_with("sha256:") {
                    Some(arg.clone())
                } else {
                    st.tags.get(&(repo, arg)).cloned()
                };
                match d.and_then(|d| st.manifests.get(&d).map(|m| (d, m.clone()))) {
                    Some((d, (media, bytes))) => {
                        let data = if method == "HEAD" { Vec::new() } else { bytes };
                        tiny_http::Response::from_data(data)
                            .with_header(header("Content-Type", &media))
                            .with_header(header("Docker-Content-Digest", &d))
                    }
                    None => status(404).with_header(header("Content-Type", "application/json")),
                }
            }
            ("/referrers/", "GET") => {
                let mut manifests = Vec::new();
                for (d, (media, bytes)) in &st.manifests {
                    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
                    if v.pointer("/subject/digest").and_then(|s| s.as_str()) == Some(arg.as_str()) {
                        manifests.push(serde_json::json!({
                            "mediaType": media,
                            "digest": d,
                            "size": bytes.len(),
                            "artifactType": v["artifactType"],
                            "annotations": v["annotations"],
                        }));
                    }
                }
                let index = serde_json::json!({
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": manifests,
                });
                tiny_http::Response::from_data(index.to_string().into_bytes()).with_header(header(
                    "Content-Type",
                    "application/vnd.oci.image.index.v1+json",
                ))
            }
            _ => status(405),
        };
    }
    status(404)
}
