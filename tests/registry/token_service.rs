//! A registry token service for tests, as the distribution token
//! specification describes it and Docker Hub's `auth.docker.io` answers:
//! `GET /token?service=…&scope=repository:NAME:ACTIONS[&scope=…]`, Basic
//! credentials optional, and OAuth2's `POST /token` with
//! `grant_type=refresh_token` (`client_id`, `service`, space-separated
//! `scope`), which a Docker config's `identitytoken` is exchanged by.
//! [`USER`]/[`PASSWORD`] and [`REFRESH_TOKEN`] get every action asked for;
//! no credentials get a token granting nothing (a private registry); wrong
//! ones get 401, an unknown `service`, a grant other than `refresh_token` or a
//! POST without `client_id` 400. The token is an ES256 JWT whose
//! `x5c` header carries the signing certificate, which the real
//! docker-registry checks against its `rootcertbundle`, then the signature,
//! issuer, audience, expiry and the `access` claim of each request: a token
//! this service got wrong is refused by the registry, not by this file.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::Generate as _;
use serde_json::{Value, json};

use super::server::{PASSWORD, USER};
use crate::sigstore_server::{ca_cert, pem};

/// The registry's name for itself (`aud` of its tokens).
pub const SERVICE: &str = "mlprov-test-registry";
/// Who signs the tokens (`iss`).
pub const ISSUER: &str = "mlprov-test-token-service";
/// The identity token (OAuth2 refresh token) [`USER`] holds.
pub const REFRESH_TOKEN: &str = "mlprov-test-refresh-token";
const SUBJECT: &str = "CN=mlprov-test-token-signer,O=mlprov-test";

/// One request the service answered.
#[derive(Debug, Clone)]
pub struct Asked {
    /// The `scope` parameters, in order.
    pub scopes: Vec<String>,
    /// Basic credentials or a refresh token came with it (right or wrong).
    pub authenticated: bool,
    /// `POST` (the OAuth2 grant) rather than `GET`.
    pub post: bool,
    pub status: u16,
}

pub struct TokenService {
    pub addr: String,
    /// The signing certificate, the registry's `rootcertbundle`.
    pub certificate_pem: String,
    pub asked: Arc<Mutex<Vec<Asked>>>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for TokenService {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl TokenService {
    pub fn start() -> Self {
        Self::start_with_life(300)
    }

    /// Tokens that live `life` seconds (`expires_in`, and `exp` in the JWT;
    /// the registry allows 60 s of clock skew beyond it).
    pub fn start_with_life(life: u64) -> Self {
        let key = SigningKey::generate();
        let der = ca_cert(SUBJECT, SUBJECT, &key, &key, 0, vec![], 7);
        let certificate_pem = pem("CERTIFICATE", &der);
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let addr = format!(
            "127.0.0.1:{}",
            server.server_addr().to_ip().expect("ip").port()
        );
        let asked = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (server, asked) = (server.clone(), asked.clone());
            std::thread::spawn(move || {
                for req in server.incoming_requests() {
                    answer(req, &key, &der, &asked, life);
                }
            })
        };
        TokenService {
            addr,
            certificate_pem,
            asked,
            server,
            thread: Some(thread),
        }
    }

    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    pub fn asked(&self) -> Vec<Asked> {
        self.asked.lock().unwrap().clone()
    }
}

fn answer(
    mut req: tiny_http::Request,
    key: &SigningKey,
    cert_der: &[u8],
    asked: &Mutex<Vec<Asked>>,
    life: u64,
) {
    let url = url::Url::parse(&format!("http://x{}", req.url())).expect("request URL");
    let post = *req.method() == tiny_http::Method::Post;
    let (mut scopes, mut service, mut client_id, mut grant_type) = (Vec::new(), None, None, None);
    let mut credentials = None;
    if post {
        let mut body = String::new();
        let _ = std::io::Read::read_to_string(req.as_reader(), &mut body);
        for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
            match &*k {
                "scope" => scopes.extend(v.split(' ').map(str::to_string)),
                "service" => service = Some(v.into_owned()),
                "client_id" => client_id = Some(v.into_owned()),
                "grant_type" => grant_type = Some(v.into_owned()),
                "refresh_token" if v == REFRESH_TOKEN => {
                    credentials = Some(format!("{USER}:{PASSWORD}"))
                }
                "refresh_token" => credentials = Some(format!("{USER}:a wrong token")),
                _ => {}
            }
        }
    } else {
        for (k, v) in url.query_pairs() {
            match &*k {
                "scope" => scopes.push(v.into_owned()),
                "service" => service = Some(v.into_owned()),
                _ => {}
            }
        }
        credentials = req
            .headers()
            .iter()
            .find(|h| h.field.equiv("Authorization"))
            .and_then(|h| h.value.as_str().strip_prefix("Basic ").map(str::to_string))
            .map(|b| {
                let decoded = B64.decode(b.trim()).unwrap_or_default();
                String::from_utf8_lossy(&decoded).into_owned()
            });
    }
    let (status, body) = if url.path() != "/token" {
        (404, json!({"details": "not found"}))
    } else if service.as_deref() != Some(SERVICE) {
        (400, json!({"details": "unknown service"}))
    } else if post && grant_type.as_deref() != Some("refresh_token") {
        (400, json!({"error": "unsupported_grant_type"}))
    } else if post && (client_id.is_none() || credentials.is_none()) {
        (400, json!({"error": "invalid_request"}))
    } else {
        match &credentials {
            Some(c) if *c != format!("{USER}:{PASSWORD}") => {
                (401, json!({"details": "incorrect username or password"}))
            }
            _ => {
                let access = if credentials.is_some() {
                    scopes.iter().filter_map(|s| grant(s)).collect()
                } else {
                    Vec::new()
                };
                let token = jwt(key, cert_der, credentials.is_some(), access, life);
                // The OAuth2 answer has `access_token` only.
                let answer = if post {
                    json!({"access_token": token, "scope": scopes.join(" "), "expires_in": life, "issued_at": "2026-12-02T00:00:00Z"})
                } else {
                    json!({"token": token, "access_token": token, "expires_in": life, "issued_at": "2026-12-02T00:00:00Z"})
                };
                (200, answer)
            }
        }
    };
    asked.lock().unwrap().push(Asked {
        scopes,
        authenticated: credentials.is_some(),
        post,
        status,
    });
    let header =
        tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]).unwrap();
    let _ = req.respond(
        tiny_http::Response::from_string(body.to_string())
            .with_status_code(status)
            .with_header(header),
    );
}

/// The `access` entry for a `repository:NAME:ACTIONS` scope.
fn grant(scope: &str) -> Option<Value> {
    let rest = scope.strip_prefix("repository:")?;
    let (name, actions) = rest.rsplit_once(':')?;
    let actions: Vec<&str> = actions.split(',').collect();
    Some(json!({"type": "repository", "name": name, "actions": actions}))
}

fn jwt(key: &SigningKey, cert_der: &[u8], user: bool, access: Vec<Value>, life: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [B64.encode(cert_der)]});
    let claims = json!({
        "iss": ISSUER,
        "sub": if user { USER } else { "" },
        "aud": SERVICE,
        "exp": now + life,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("{now}-{}", access.len()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig: Signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}
