//! A distribution-API client with bounded retries, read timeouts and
//! resumable transfers, on plain `reqwest` requests (oci-client gives the
//! manifest types and reference parsing): the token handshake with its
//! answer bounded, blob checks, downloads hashed once while streaming and
//! resumed with a `Range`, chunked uploads that resume from the registry's
//! upload offset after a dropped connection, cross-repository mounts that
//! fall back cleanly on `202`, manifest uploads whose `OCI-Subject` and
//! `Docker-Content-Digest` headers are checked, and the referrers API whose
//! errors must not be mistaken for "no referrers".
//!
//! Every request is retried on connection failures, timeouts, 5xx, 408 and
//! 429, at most [`Settings::attempts`] times with waits doubling from 250 ms
//! up to 4 s; a stalled registry fails after [`Settings::timeout`] without
//! bytes. A token is renewed before its `expires_in` ends; a 401 logs in
//! again, once per request, and again for a transfer each time it has
//! moved on (a long transfer outlives several tokens).

use crate::limits::Limit;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use oci_client::Reference;
use oci_client::manifest::{ImageIndexEntry, OciImageIndex};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use sha2::{Digest as _, Sha256};

use super::blobcache::BlobCache;
use super::{Credentials, OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE, RegistryError, Settings};
use crate::digest::Sha256Digest;
use crate::reporter::Reporter;

/// Blobs up to this size go up in one request; larger ones in chunks of this
/// size, each retried and resumed on its own.
pub const CHUNK: u64 = 16 << 20;

/// An upload's body is read from its file in pieces of this size while it is
/// sent, so an upload holds a piece in memory, not a chunk.
const UPLOAD_PIECE: u64 = 256 << 10;

/// A download is written to its file once this much has arrived: the
/// network's pieces, gathered into one vectored write (no copy of them).
const WRITE_BATCH: usize = 256 << 10;

const USER_AGENT: &str = concat!("mlprov/", env!("CARGO_PKG_VERSION"));

/// Manifest media types mlprov asks for.
pub const ACCEPT_MANIFESTS: &[&str] = &[
    OCI_MANIFEST_MEDIA_TYPE,
    OCI_INDEX_MEDIA_TYPE,
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Why one attempt failed.
pub(crate) enum Fail {
    /// Worth another try (connection, timeout, 5xx, 429).
    Transient(String),
    /// 401: re-authenticate once, then give up.
    Unauthorized,
    Fatal(RegistryError),
}

impl From<RegistryError> for Fail {
    fn from(e: RegistryError) -> Self {
        Fail::Fatal(e)
    }
}

/// A client for one registry.
pub struct Client {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    /// For the token service (see [`Client::new`]).
    token_http: reqwest::Client,
    /// The registry as written in references.
    registry: String,
    /// `http(s)://host[:port]`, the host resolved (docker.io → registry-1…).
    base: String,
    settings: Settings,
    /// Bearer tokens per (repository, push, repository mounted from).
    tokens: Mutex<BTreeMap<TokenKey, Cached>>,
    /// Held while logging in, so transfers running at once wait for one
    /// login rather than each making its own.
    logging_in: tokio::sync::Mutex<()>,
    /// Where blobs of this registry were seen (see [`Client::with_blob_cache`]).
    blob_cache: Option<Mutex<BlobCache>>,
}

impl Drop for Client {
    fn drop(&mut self) {
        // A hint for the next push: losing it costs an upload, never a push.
        let _ = self.save_blob_cache();
    }
}

/// What a token is for: pull (and push) on a repository, and pull on the
/// repository a blob is mounted from (a token registry refuses a mount
/// whose token lacks it).
type TokenKey = (String, bool, Option<String>);

/// A token and until when to use it (`None`: no token, or one without end).
type Cached = (Option<String>, Option<std::time::Instant>);

/// A token is asked for again this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(10);

/// A token's life when the token service does not say (`expires_in`), as
/// the distribution token specification has it.
const TOKEN_DEFAULT_LIFE: Duration = Duration::from_secs(60);

/// What a manifest upload told us.
#[derive(Debug, Clone)]
pub struct PutManifest {
    pub digest: Sha256Digest,
    /// The registry answered `OCI-Subject`: it supports the referrers API and
    /// indexed the manifest's subject itself.
    pub subject_indexed: bool,
}

// A tag list page is at most `Limit::TagListBytes` (a registry without
// pagination answers every tag at once); at most `Limit::TagPages` pages of
// it are followed (a `Link` loop ends there).
/// Of an error answer's body, this much is read (for the message).
pub const MAX_ERROR_BODY_BYTES: u64 = 64 << 10;

/// Read a response body of at most `max` bytes, failing as soon as more
/// arrive (never reading the rest). `limit` names the limit.
async fn read_limited(
    resp: &mut reqwest::Response,
    limit: Limit,
    what: &str,
) -> Result<Vec<u8>, Fail> {
    let max = limit.get();
    let over = || {
        Fail::Fatal(RegistryError::Protocol {
            what: what.to_string(),
            message: format!(
                "the answer is over the limit of {} ({})",
                limit.shown(),
                limit.named()
            ),
        })
    };
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(over());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| Fail::Transient(error_chain(&e)))?
    {
        if (body.len() + chunk.len()) as u64 > max {
            return Err(over());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The start of an error answer's body (at most [`MAX_ERROR_BODY_BYTES`]),
/// for the message; the rest is never read.
async fn error_text(mut resp: reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = (MAX_ERROR_BODY_BYTES as usize).saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() as u64 >= MAX_ERROR_BODY_BYTES {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// The referrers of a manifest and how they were found.
#[derive(Debug, Clone)]
pub struct Referrers {
    /// `true`: the referrers API; `false`: the `sha256-<hex>` tag schema.
    pub api: bool,
    pub manifests: Vec<ImageIndexEntry>,
}

impl Client {
    pub fn new(registry: &str, settings: &Settings) -> Result<Self, RegistryError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RegistryError::Io {
                path: "async runtime".into(),
                source: e,
            })?;
        let scheme = if settings.plain_http { "http" } else { "https" };
        let client = |redirect: reqwest::redirect::Policy| {
            reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .danger_accept_invalid_certs(settings.insecure)
                .read_timeout(settings.timeout)
                .connect_timeout(settings.timeout.min(Duration::from_secs(30)))
                .redirect(redirect)
                .build()
                .map_err(|e| RegistryError::Protocol {
                    what: registry.to_string(),
                    message: format!("cannot set up the HTTP client: {e}"),
                })
        };
        // reqwest drops Authorization when a redirect leaves the host.
        let http = client(reqwest::redirect::Policy::limited(5))?;
        // A token request carries credentials in its body too (the OAuth2
        // grant, which a 307 would send on): its redirects stay on the host
        // and never leave HTTPS.
        let token_http = client(reqwest::redirect::Policy::custom(|attempt| {
            let from = attempt.previous().last();
            let same = from.is_some_and(|f| same_origin_or_upgrade(f, attempt.url()));
            if attempt.previous().len() > 5 || !same {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))?;
        let probe = Reference::with_tag(registry.to_string(), "x".into(), "x".into());
        let base = format!("{scheme}://{}", probe.resolve_registry());
        Ok(Self {
            rt,
            http,
            token_http,
            registry: registry.to_string(),
            base,
            settings: settings.clone(),
            tokens: Mutex::new(BTreeMap::new()),
            logging_in: tokio::sync::Mutex::new(()),
            blob_cache: None,
        })
    }

    /// Remember where this registry's blobs are, in the blob-location cache
    /// under `cache_dir` (see [`super::blobcache`]): every blob seen,
    /// uploaded, mounted or downloaded is recorded, and [`Self::mount_known`]
    /// mounts from there. Saved when the client is dropped.
    pub fn with_blob_cache(mut self, cache_dir: &Path) -> Self {
        self.blob_cache = Some(Mutex::new(BlobCache::open(cache_dir, &self.registry)));
        self
    }

    /// The repositories of this registry `digest` was last seen in, the
    /// most recent first (empty without a blob cache).
    pub fn known_locations(&self, digest: &Sha256Digest) -> Vec<String> {
        self.blob_cache
            .as_ref()
            .and_then(|c| c.lock().ok().map(|c| c.locations(digest)))
            .unwrap_or_default()
    }

    /// Record that `repo` holds `digest`.
    pub fn record_location(&self, repo: &str, digest: &Sha256Digest) {
        if let Some(Ok(mut c)) = self.blob_cache.as_ref().map(|c| c.lock()) {
            c.record(digest, repo);
        }
    }

    fn forget_location(&self, repo: &str, digest: &Sha256Digest) {
        if let Some(Ok(mut c)) = self.blob_cache.as_ref().map(|c| c.lock()) {
            c.forget(digest, repo);
        }
    }

    /// Write the blob-location cache now (also done on drop).
    pub fn save_blob_cache(&self) -> std::io::Result<()> {
        match self.blob_cache.as_ref().map(|c| c.lock()) {
            Some(Ok(mut c)) => c.save(),
            _ => Ok(()),
        }
    }

    /// Put `digest` into `repo` without uploading it: mount it from a
    /// repository where the blob-location cache last saw it, else from one
    /// of `also` (in order). Returns the repository it was mounted from, or
    /// `None` when every mount was refused or failed: the caller uploads.
    /// A wrong or stale location never fails: it is forgotten and the next
    /// one is tried.
    pub fn mount_known(
        &self,
        repo: &str,
        digest: &Sha256Digest,
        also: &[String],
    ) -> Option<String> {
        let known = self.known_locations(digest);
        let mut tried = std::collections::BTreeSet::new();
        for from in known.iter().chain(also) {
            if from == repo || !tried.insert(from.clone()) {
                continue;
            }
            match self.mount(repo, from, digest) {
                Ok(true) => return Some(from.clone()),
                _ if known.contains(from) => self.forget_location(from, digest),
                _ => {}
            }
        }
        None
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    // -----------------------------------------------------------------------
    // Public, synchronous operations

    /// Does the repository hold this blob? (HEAD)
    pub fn blob_exists(&self, repo: &str, digest: &Sha256Digest) -> Result<bool, RegistryError> {
        let there = self.rt.block_on(self.blob_exists_async(repo, digest))?;
        if there {
            self.record_location(repo, digest);
        }
        Ok(there)
    }

    /// Try to mount a blob from another repository of the same registry.
    /// `Ok(false)` when the registry declined (it then has nothing to clean).
    pub fn mount(
        &self,
        repo: &str,
        from: &str,
        digest: &Sha256Digest,
    ) -> Result<bool, RegistryError> {
        let mounted = self.rt.block_on(self.mount_async(repo, from, digest))?;
        if mounted {
            self.record_location(repo, digest);
        }
        Ok(mounted)
    }

    /// Upload a file as a blob with this digest (chunked above [`CHUNK`],
    /// resuming after failures).
    pub fn upload_file(
        &self,
        repo: &str,
        path: &Path,
        digest: &Sha256Digest,
        size: u64,
        reporter: &dyn Reporter,
    ) -> Result<(), RegistryError> {
        let source = Source::File(path);
        self.rt
            .block_on(self.upload_async(repo, &source, digest, size, reporter))?;
        self.record_location(repo, digest);
        Ok(())
    }

    /// Upload bytes as a blob.
    pub fn upload_bytes(&self, repo: &str, bytes: &[u8]) -> Result<Sha256Digest, RegistryError> {
        let digest = Sha256Digest::of(bytes);
        let source = Source::Bytes(bytes);
        self.rt.block_on(self.upload_async(
            repo,
            &source,
            &digest,
            bytes.len() as u64,
            &crate::reporter::Silent,
        ))?;
        self.record_location(repo, &digest);
        Ok(digest)
    }

    /// PUT a manifest under a tag or its digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<PutManifest, RegistryError> {
        self.rt
            .block_on(self.put_manifest_async(repo, reference, bytes, media_type))
    }

    /// Is a manifest with this digest in the repository? (HEAD)
    pub fn manifest_exists(
        &self,
        repo: &str,
        digest: &Sha256Digest,
    ) -> Result<bool, RegistryError> {
        self.rt.block_on(self.manifest_exists_async(repo, digest))
    }

    /// GET a manifest by tag or digest: its bytes and digest. By digest, the
    /// bytes are checked against it.
    pub fn get_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<(Vec<u8>, Sha256Digest), RegistryError> {
        self.rt.block_on(self.get_manifest_async(repo, reference))
    }

    /// Download a blob into `out` (from its start), checking size and digest
    /// while streaming and resuming after dropped connections.
    pub fn download_blob(
        &self,
        repo: &str,
        digest: &Sha256Digest,
        size: u64,
        out: &mut File,
        what: &str,
        reporter: &dyn Reporter,
    ) -> Result<(), RegistryError> {
        self.rt
            .block_on(self.download_async(repo, digest, size, out, what, reporter))?;
        self.record_location(repo, digest);
        Ok(())
    }

    /// Download a small blob into memory (at most `limit` bytes).
    pub fn fetch_small_blob(
        &self,
        repo: &str,
        digest: &Sha256Digest,
        size: u64,
        limit: Limit,
        what: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        let max = limit.get();
        if size > max {
            return Err(RegistryError::Protocol {
                what: what.to_string(),
                message: format!(
                    "{size} bytes is more than the {} allowed ({})",
                    limit.shown(),
                    limit.named()
                ),
            });
        }
        let mut tmp = tempfile::tempfile().map_err(|e| RegistryError::Io {
            path: "temporary file".into(),
            source: e,
        })?;
        self.download_blob(repo, digest, size, &mut tmp, what, &crate::reporter::Silent)?;
        let mut out = Vec::with_capacity(size as usize);
        tmp.seek(SeekFrom::Start(0))
            .and_then(|_| tmp.read_to_end(&mut out))
            .map_err(|e| RegistryError::Io {
                path: "temporary file".into(),
                source: e,
            })?;
        Ok(out)
    }

    /// The referrers of `subject`: the referrers API, or the tag schema on a
    /// registry without it. An error is an error, never "no referrers".
    pub fn referrers(
        &self,
        repo: &str,
        subject: &Sha256Digest,
    ) -> Result<Referrers, RegistryError> {
        self.rt.block_on(self.referrers_async(repo, subject))
    }

    /// Is there a referrers API? (`GET /v2/<repo>/referrers/<digest>`
    /// answering an index, rather than 404.)
    pub fn referrers_api(
        &self,
        repo: &str,
        subject: &Sha256Digest,
    ) -> Result<Option<OciImageIndex>, RegistryError> {
        self.rt.block_on(self.referrers_api_async(repo, subject))
    }

    /// Every tag of a repository (`GET /v2/<repo>/tags/list`), following
    /// the `Link: <…>; rel="next"` pagination, in the registry's order.
    pub fn tags(&self, repo: &str) -> Result<Vec<String>, RegistryError> {
        self.rt.block_on(self.tags_async(repo))
    }

    // -----------------------------------------------------------------------
    // Retries and authentication

    fn backoff(attempt: u32) -> Duration {
        Duration::from_millis((250u64 << attempt.min(4)).min(4000))
    }

    /// Run `op` until it succeeds, fails for good, or runs out of attempts.
    async fn retry<T>(
        &self,
        what: &str,
        repo: &str,
        push: bool,
        mut op: impl AsyncFnMut() -> Result<T, Fail>,
    ) -> Result<T, RegistryError> {
        let mut failures = 0u32;
        let mut reauthed = false;
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(Fail::Fatal(e)) => return Err(e),
                Err(Fail::Unauthorized) => {
                    if reauthed {
                        return Err(RegistryError::Unauthorized {
                            what: what.to_string(),
                        });
                    }
                    reauthed = true;
                    self.forget_token(repo, push);
                    self.token(repo, push).await.map_err(|f| match f {
                        Fail::Fatal(e) => e,
                        Fail::Unauthorized => RegistryError::Unauthorized {
                            what: what.to_string(),
                        },
                        Fail::Transient(message) => RegistryError::GaveUp {
                            what: what.to_string(),
                            attempts: failures + 1,
                            message,
                        },
                    })?;
                }
                Err(Fail::Transient(message)) => {
                    failures += 1;
                    if failures >= self.settings.attempts {
                        return Err(RegistryError::GaveUp {
                            what: what.to_string(),
                            attempts: failures,
                            message,
                        });
                    }
                    tokio::time::sleep(Self::backoff(failures - 1)).await;
                }
            }
        }
    }

    fn forget_token(&self, repo: &str, push: bool) {
        if let Ok(mut t) = self.tokens.lock() {
            t.retain(|(r, p, _), _| !(r == repo && *p == push));
        }
    }

    /// The bearer token for (repo, push), authenticating once. `None`: no
    /// token (anonymous, or Basic credentials sent with each request).
    async fn token(&self, repo: &str, push: bool) -> Result<Option<String>, Fail> {
        self.token_for(repo, push, None).await
    }

    /// The token for (repo, push), with pull on `from` too (a mount).
    async fn token_for(
        &self,
        repo: &str,
        push: bool,
        from: Option<&str>,
    ) -> Result<Option<String>, Fail> {
        let key = (repo.to_string(), push, from.map(str::to_string));
        let cached = |now: std::time::Instant| {
            self.tokens
                .lock()
                .ok()
                .and_then(|t| t.get(&key).cloned())
                .filter(|(_, until)| until.is_none_or(|u| now < u))
                .map(|(t, _)| t)
        };
        if let Some(t) = cached(std::time::Instant::now()) {
            return Ok(t);
        }
        let _one_at_a_time = self.logging_in.lock().await;
        let now = std::time::Instant::now();
        // Another transfer may have logged in while this one waited.
        if let Some(t) = cached(now) {
            return Ok(t);
        }
        let granted = tokio::time::timeout(self.settings.timeout, self.log_in(repo, push, from))
            .await
            .map_err(|_| {
                Fail::Transient(format!(
                    "logging in to {} took longer than the timeout of {} s",
                    self.registry,
                    self.settings.timeout.as_secs()
                ))
            })??;
        let (token, until) = match granted {
            Some((token, life)) => (Some(token), Some(now + life.saturating_sub(TOKEN_MARGIN))),
            None => (None, None),
        };
        if let Ok(mut t) = self.tokens.lock() {
            t.insert(key, (token.clone(), until));
        }
        Ok(token)
    }

    /// The distribution token handshake: `GET /v2/`; a `401` with a
    /// `Bearer` challenge names the token service (`realm`, `service`),
    /// which is asked for `repository:REPO:pull[,push]` (and
    /// `repository:FROM:pull` for a mount) with the Basic credentials, if any,
    /// or with an identity token exchanged by OAuth2's `refresh_token` grant
    /// (a `POST`, as the distribution token specification has it). Its answer is read up to
    /// [`Limit::RegistryTokenBytes`]. No challenge, or a `Basic` one: no
    /// token (Basic credentials then go with every request). A token comes
    /// with its life (`expires_in`, else 60 s).
    async fn log_in(
        &self,
        repo: &str,
        push: bool,
        from: Option<&str>,
    ) -> Result<Option<(String, Duration)>, Fail> {
        let what = format!("logging in to {}", self.registry);
        let transient = |e: reqwest::Error| Fail::Transient(error_chain(&e));
        let probe = self
            .http
            .get(self.url("/v2/"))
            .send()
            .await
            .map_err(transient)?;
        if is_transient_status(probe.status()) {
            return Err(Fail::Transient(format!(
                "{} from {}/v2/",
                probe.status(),
                self.registry
            )));
        }
        let challenge = probe
            .headers()
            .get_all(reqwest::header::WWW_AUTHENTICATE)
            .iter()
            .find_map(|v| bearer_challenge(v.to_str().ok()?));
        // The probe's body is never read.
        drop(probe);
        let Some((realm, service)) = challenge else {
            return Ok(None);
        };
        let mut url = parse_url(&realm, &what)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Fail::Fatal(RegistryError::Protocol {
                what,
                message: format!("the token service {realm:?} is not an HTTP(S) URL"),
            }));
        }
        let credentials = &self.settings.credentials;
        if !matches!(credentials, Credentials::Anonymous)
            && url.scheme() == "http"
            && !self.settings.plain_http
        {
            return Err(Fail::Fatal(RegistryError::Protocol {
                what,
                message: format!(
                    "the registry sends credentials to a token service over plain HTTP ({realm}); mlprov does not (with --plain-http it would)"
                ),
            }));
        }
        let actions = if push { "pull,push" } else { "pull" };
        let mut scopes = vec![format!("repository:{repo}:{actions}")];
        if let Some(from) = from.filter(|f| *f != repo) {
            scopes.push(format!("repository:{from}:pull"));
        }
        let rb = if let Credentials::IdentityToken { token: refresh, .. } = credentials {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "refresh_token")
                .append_pair("refresh_token", refresh)
                .append_pair("client_id", "mlprov")
                .append_pair("scope", &scopes.join(" "));
            if let Some(service) = &service {
                form.append_pair("service", service);
            }
            self.token_http
                .post(url)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form.finish())
        } else {
            {
                let mut q = url.query_pairs_mut();
                for scope in &scopes {
                    q.append_pair("scope", scope);
                }
                if let Some(service) = &service {
                    q.append_pair("service", service);
                }
            }
            let rb = self.token_http.get(url);
            match credentials {
                Credentials::Basic {
                    username, password, ..
                } => rb.basic_auth(username, Some(password)),
                _ => rb,
            }
        };
        let mut resp = rb.send().await.map_err(transient)?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Fail::Unauthorized);
        }
        if is_transient_status(status) {
            return Err(Fail::Transient(format!(
                "{status} from the token service {realm}"
            )));
        }
        if status != StatusCode::OK {
            return Err(Fail::Fatal(status_error(resp, &what).await));
        }
        let body = read_limited(&mut resp, Limit::RegistryTokenBytes, &what).await?;
        /// The token service's answer: `token`, or OAuth2's `access_token`.
        #[derive(serde::Deserialize)]
        struct Answer {
            token: Option<String>,
            access_token: Option<String>,
            expires_in: Option<u64>,
        }
        let answer: Answer = serde_json::from_slice(&body).map_err(|e| {
            Fail::Fatal(RegistryError::Protocol {
                what: what.clone(),
                message: format!("the token service's answer is not a token: {e}"),
            })
        })?;
        let life = answer
            .expires_in
            .map_or(TOKEN_DEFAULT_LIFE, Duration::from_secs);
        match answer.token.or(answer.access_token) {
            Some(t) if !t.is_empty() => Ok(Some((t, life))),
            _ => Err(Fail::Fatal(RegistryError::Protocol {
                what,
                message: "the token service answered without a token".into(),
            })),
        }
    }

    /// Send a request built by `build` with authentication; transport errors,
    /// 5xx, 408 and 429 are transient, 401 asks for a new token. Other
    /// statuses are the caller's to judge.
    async fn send(
        &self,
        repo: &str,
        push: bool,
        build: impl FnOnce(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Fail> {
        self.send_for(repo, push, None, build).await
    }

    /// [`Self::send`] with a token that may also pull from `from`.
    async fn send_for(
        &self,
        repo: &str,
        push: bool,
        from: Option<&str>,
        build: impl FnOnce(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Fail> {
        let token = self.token_for(repo, push, from).await?;
        let req = build(&self.http).build().map_err(|e| {
            Fail::Fatal(RegistryError::Protocol {
                what: self.registry.clone(),
                message: format!("cannot build the request: {e}"),
            })
        })?;
        // Credentials go to the registry only, not to a `Location` (an
        // upload session, a blob) on another host, as in go-containerregistry.
        let ours = same_origin(req.url(), &self.base);
        let mut rb = reqwest::RequestBuilder::from_parts(self.http.clone(), req);
        rb = match (ours, &token, &self.settings.credentials) {
            (true, Some(t), _) => rb.bearer_auth(t),
            (
                true,
                None,
                Credentials::Basic {
                    username, password, ..
                },
            ) => rb.basic_auth(username, Some(password)),
            _ => rb,
        };
        let resp = rb
            .send()
            .await
            .map_err(|e| Fail::Transient(error_chain(&e)))?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED {
            return Err(Fail::Unauthorized);
        }
        if is_transient_status(status) {
            let url = resp.url().path().to_string();
            let body = error_text(resp).await;
            return Err(Fail::Transient(format!(
                "{} {} from {url}{}",
                status.as_u16(),
                status.canonical_reason().unwrap_or(""),
                snippet(&body)
            )));
        }
        Ok(resp)
    }

    // -----------------------------------------------------------------------
    // Blobs

    async fn blob_exists_async(
        &self,
        repo: &str,
        digest: &Sha256Digest,
    ) -> Result<bool, RegistryError> {
        let what = format!("checking blob {} in {repo}", digest.prefixed());
        self.retry(&what, repo, false, async || {
            self.head_blob(repo, digest, &what).await
        })
        .await
    }

    /// `HEAD /v2/REPO/blobs/DIGEST`: `200` is there, `404` is not.
    async fn head_blob(&self, repo: &str, digest: &Sha256Digest, what: &str) -> Result<bool, Fail> {
        let url = self.url(&format!("/v2/{repo}/blobs/{}", digest.prefixed()));
        let resp = self.send(repo, false, |c| c.head(url)).await?;
        match resp.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(Fail::Fatal(status_error(resp, what).await)),
        }
    }

    async fn mount_async(
        &self,
        repo: &str,
        from: &str,
        digest: &Sha256Digest,
    ) -> Result<bool, RegistryError> {
        let what = format!("mounting {} from {from}", digest.prefixed());
        let mut url = parse_url(&self.url(&format!("/v2/{repo}/blobs/uploads/")), &what)?;
        url.query_pairs_mut()
            .append_pair("mount", &digest.prefixed())
            .append_pair("from", from);
        let resp = self
            .retry(&what, repo, true, async || {
                let url = url.clone();
                self.send_for(repo, true, Some(from), |c| {
                    c.post(url).header(CONTENT_LENGTH, 0)
                })
                .await
            })
            .await?;
        match resp.status() {
            StatusCode::CREATED => Ok(true),
            StatusCode::ACCEPTED => {
                // The registry opened an upload session instead; close it.
                if let Some(loc) = location(&resp, &self.base) {
                    let _ = self.send(repo, true, |c| c.delete(loc)).await;
                }
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    async fn upload_async(
        &self,
        repo: &str,
        source: &Source<'_>,
        digest: &Sha256Digest,
        size: u64,
        reporter: &dyn Reporter,
    ) -> Result<(), RegistryError> {
        let what = format!("uploading {} to {repo}", digest.prefixed());
        let mut state = Upload {
            session: None,
            offset: 0,
        };
        let mut file = match source {
            Source::File(p) => Some(File::open(p).map_err(RegistryError::io(p))?),
            Source::Bytes(_) => None,
        };
        let mut stalled = 0u32;
        let mut failures_total = 0u32;
        let mut reauthed = false;
        let mut reported = 0u64;
        loop {
            let step = self
                .upload_step(repo, &mut state, source, file.as_mut(), digest, size)
                .await;
            match step {
                Ok(true) => {
                    reporter.on_bytes(size.saturating_sub(reported));
                    return Ok(());
                }
                Ok(false) => {
                    stalled = 0;
                    // A token that expired after a chunk landed is renewed
                    // again (a long upload outlives several).
                    reauthed = false;
                    if state.offset > reported {
                        reporter.on_bytes(state.offset - reported);
                        reported = state.offset;
                    }
                }
                Err(Fail::Fatal(e)) => return Err(e),
                Err(Fail::Unauthorized) => {
                    if reauthed {
                        return Err(RegistryError::Unauthorized { what });
                    }
                    reauthed = true;
                    self.forget_token(repo, true);
                }
                Err(Fail::Transient(message)) => {
                    stalled += 1;
                    failures_total += 1;
                    if stalled >= self.settings.attempts
                        || failures_total >= self.settings.attempts * 4
                    {
                        return Err(RegistryError::GaveUp {
                            what,
                            attempts: failures_total,
                            message,
                        });
                    }
                    tokio::time::sleep(Self::backoff(stalled - 1)).await;
                    self.resync_upload(repo, &mut state, digest).await;
                    if state.offset == u64::MAX {
                        // Already there (the last request did land).
                        reporter.on_bytes(size.saturating_sub(reported));
                        return Ok(());
                    }
                }
            }
        }
    }

    /// After a failed request: ask the registry how much of the upload it
    /// holds, or start over if the session is gone. `offset = u64::MAX`
    /// means the blob is complete.
    async fn resync_upload(&self, repo: &str, state: &mut Upload, digest: &Sha256Digest) {
        if let Ok(true) = self.head_blob(repo, digest, "").await {
            state.offset = u64::MAX;
            return;
        }
        let Some(loc) = state.session.clone() else {
            state.offset = 0;
            return;
        };
        let status = self.send(repo, true, |c| c.get(loc)).await;
        match status {
            Ok(resp) if resp.status() == StatusCode::NO_CONTENT => {
                let range = resp
                    .headers()
                    .get("range")
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_range_end);
                if let Some(l) = location(&resp, &self.base) {
                    state.session = Some(l);
                }
                state.offset = match range {
                    // "0-0" is ambiguous (nothing, or one byte): resend it.
                    Some(end) if end > 0 => end + 1,
                    _ => 0,
                };
            }
            _ => {
                state.session = None;
                state.offset = 0;
            }
        }
    }

    /// One request of an upload. `Ok(true)`: the blob is complete.
    async fn upload_step(
        &self,
        repo: &str,
        state: &mut Upload,
        source: &Source<'_>,
        file: Option<&mut File>,
        digest: &Sha256Digest,
        size: u64,
    ) -> Result<bool, Fail> {
        let what = format!("uploading {} to {repo}", digest.prefixed());
        let Some(loc) = state.session.clone() else {
            let url = self.url(&format!("/v2/{repo}/blobs/uploads/"));
            let resp = self
                .send(repo, true, |c| c.post(url).header(CONTENT_LENGTH, 0))
                .await?;
            expect_status(&resp, &[StatusCode::ACCEPTED], &what)?;
            state.session =
                Some(
                    location(&resp, &self.base).ok_or_else(|| RegistryError::Protocol {
                        what: what.clone(),
                        message: "no Location header on the upload session".into(),
                    })?,
                );
            state.offset = 0;
            return Ok(false);
        };
        let monolithic = size <= CHUNK && state.offset == 0;
        if monolithic || state.offset >= size {
            let len = if monolithic { size } else { 0 };
            let body = body_range(source, file, 0, len).map_err(Fail::Fatal)?;
            let mut url = parse_url(&loc, &what)?;
            url.query_pairs_mut()
                .append_pair("digest", &digest.prefixed());
            let deadline = self.deadline(len);
            let resp = self
                .send(repo, true, |c| {
                    c.put(url)
                        .header(CONTENT_TYPE, "application/octet-stream")
                        .header(CONTENT_LENGTH, len)
                        .timeout(deadline)
                        .body(body)
                })
                .await?;
            if resp.status() == StatusCode::RANGE_NOT_SATISFIABLE
                || resp.status() == StatusCode::NOT_FOUND
            {
                state.session = None;
                return Err(Fail::Transient(format!(
                    "the registry dropped the upload session ({})",
                    resp.status()
                )));
            }
            if resp.status() == StatusCode::BAD_REQUEST {
                let body = resp.text().await.unwrap_or_default();
                if body.contains("DIGEST_INVALID") {
                    return Err(Fail::Fatal(RegistryError::DigestMismatch {
                        what,
                        expected: digest.prefixed(),
                        actual: "something else (the registry rejected the digest; did the file change while pushing?)".into(),
                    }));
                }
                return Err(Fail::Fatal(RegistryError::Http {
                    what,
                    status: 400,
                    detail: snippet(&body),
                }));
            }
            expect_status(&resp, &[StatusCode::CREATED], &what)?;
            if let Some(d) = header_digest(&resp)
                && d != *digest
            {
                return Err(Fail::Fatal(RegistryError::DigestMismatch {
                    what,
                    expected: digest.prefixed(),
                    actual: d.prefixed(),
                }));
            }
            return Ok(true);
        }
        let start = state.offset;
        let end = (start + CHUNK).min(size);
        let body = body_range(source, file, start, end - start).map_err(Fail::Fatal)?;
        let deadline = self.deadline(end - start);
        let resp = self
            .send(repo, true, |c| {
                c.patch(loc)
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .header("Content-Range", format!("{start}-{}", end - 1))
                    .header(CONTENT_LENGTH, end - start)
                    .timeout(deadline)
                    .body(body)
            })
            .await?;
        if resp.status() == StatusCode::RANGE_NOT_SATISFIABLE
            || resp.status() == StatusCode::NOT_FOUND
        {
            return Err(Fail::Transient(format!(
                "the registry lost track of the upload ({})",
                resp.status()
            )));
        }
        expect_status(
            &resp,
            &[StatusCode::ACCEPTED, StatusCode::NO_CONTENT],
            &what,
        )?;
        if let Some(l) = location(&resp, &self.base) {
            state.session = Some(l);
        }
        state.offset = resp
            .headers()
            .get("range")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_range_end)
            .map(|e| e + 1)
            .filter(|&o| o > start)
            .unwrap_or(end);
        Ok(false)
    }

    /// A whole-request deadline for sending `bytes`: the timeout plus time
    /// at 1 MiB/s, so a stalled upload cannot hang forever.
    fn deadline(&self, bytes: u64) -> Duration {
        self.settings.timeout + Duration::from_secs(bytes >> 20)
    }

    /// The deadline of a whole download of `bytes`, retries included: one
    /// timeout per attempt and one more, plus time at 1 MiB/s.
    fn transfer_deadline(&self, bytes: u64) -> Duration {
        self.settings.timeout * (self.settings.attempts + 1) + Duration::from_secs(bytes >> 20)
    }

    /// A whole download, retries included, within
    /// [`Self::transfer_deadline`]: a registry that trickles bytes (never
    /// idle long enough for the read timeout) still ends.
    async fn download_async(
        &self,
        repo: &str,
        digest: &Sha256Digest,
        size: u64,
        out: &mut File,
        what: &str,
        reporter: &dyn Reporter,
    ) -> Result<(), RegistryError> {
        let deadline = self.transfer_deadline(size);
        match tokio::time::timeout(
            deadline,
            self.download_unbounded(repo, digest, size, out, what, reporter),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(RegistryError::GaveUp {
                what: what.to_string(),
                attempts: 1,
                message: format!(
                    "the transfer did not finish within its deadline of {} s (--timeout per attempt plus 1 s per MiB; raise --timeout or MLPROV_REGISTRY_TIMEOUT)",
                    deadline.as_secs()
                ),
            }),
        }
    }

    async fn download_unbounded(
        &self,
        repo: &str,
        digest: &Sha256Digest,
        size: u64,
        out: &mut File,
        what: &str,
        reporter: &dyn Reporter,
    ) -> Result<(), RegistryError> {
        let io = |e: std::io::Error| RegistryError::Io {
            path: what.to_string(),
            source: e,
        };
        out.set_len(0)
            .and_then(|_| out.seek(SeekFrom::Start(0)))
            .map_err(io)?;
        let mut dl = Download {
            got: 0,
            hasher: StreamHasher::new(size),
        };
        let mut stalled = 0u32;
        let mut failures_total = 0u32;
        // Where the download was when it last logged in again: a token that
        // expired after more bytes arrived is renewed again.
        let mut reauthed_at: Option<u64> = None;
        loop {
            let before = dl.got;
            let step = self
                .download_attempt(repo, digest, size, out, &mut dl, what, reporter)
                .await;
            match step {
                Ok(()) => break,
                Err(Fail::Fatal(e)) => return Err(e),
                Err(Fail::Unauthorized) => {
                    if reauthed_at == Some(dl.got) {
                        return Err(RegistryError::Unauthorized {
                            what: what.to_string(),
                        });
                    }
                    reauthed_at = Some(dl.got);
                    self.forget_token(repo, false);
                    self.token(repo, false)
                        .await
                        .map_err(|_| RegistryError::Unauthorized {
                            what: what.to_string(),
                        })?;
                }
                Err(Fail::Transient(message)) => {
                    if dl.got > before {
                        stalled = 0;
                    }
                    stalled += 1;
                    failures_total += 1;
                    if stalled >= self.settings.attempts
                        || failures_total >= self.settings.attempts * 4
                    {
                        return Err(RegistryError::GaveUp {
                            what: what.to_string(),
                            attempts: failures_total,
                            message,
                        });
                    }
                    tokio::time::sleep(Self::backoff(stalled - 1)).await;
                }
            }
        }
        if dl.got != size {
            return Err(RegistryError::DigestMismatch {
                what: what.to_string(),
                expected: format!("{size} bytes"),
                actual: format!("{} bytes", dl.got),
            });
        }
        let actual = dl.hasher.finish().map_err(io)?;
        if actual != *digest {
            return Err(RegistryError::DigestMismatch {
                what: what.to_string(),
                expected: digest.prefixed(),
                actual: actual.prefixed(),
            });
        }
        out.flush().map_err(io)?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn download_attempt(
        &self,
        repo: &str,
        digest: &Sha256Digest,
        size: u64,
        out: &mut File,
        dl: &mut Download,
        what: &str,
        reporter: &dyn Reporter,
    ) -> Result<(), Fail> {
        if dl.got == size && size > 0 {
            return Ok(());
        }
        let io = |e: std::io::Error| {
            Fail::Fatal(RegistryError::Io {
                path: what.to_string(),
                source: e,
            })
        };
        // A plain GET (a Range from where the last attempt ended) rather
        // than oci-client's stream, which hashes every byte a second time.
        let url = self.url(&format!("/v2/{repo}/blobs/{}", digest.prefixed()));
        let from = dl.got;
        let mut resp = self
            .send(repo, false, |c| {
                let rb = c.get(url.clone());
                if from > 0 {
                    rb.header(reqwest::header::RANGE, format!("bytes={from}-"))
                } else {
                    rb
                }
            })
            .await?;
        match resp.status() {
            StatusCode::OK => {
                if dl.got > 0 {
                    // The registry ignored the range: start over.
                    out.set_len(0)
                        .and_then(|_| out.seek(SeekFrom::Start(0)))
                        .map_err(io)?;
                    reporter.undo_bytes(dl.got);
                    dl.got = 0;
                    dl.hasher = StreamHasher::new(size);
                }
            }
            StatusCode::PARTIAL_CONTENT if from > 0 => {
                let start = resp
                    .headers()
                    .get(reqwest::header::CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().strip_prefix("bytes "))
                    .and_then(|v| v.split('-').next())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                if start != Some(from) {
                    return Err(Fail::Fatal(RegistryError::Protocol {
                        what: what.to_string(),
                        message: format!(
                            "asked for bytes from {from}, the registry answered {}",
                            resp.headers()
                                .get(reqwest::header::CONTENT_RANGE)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("no Content-Range")
                        ),
                    }));
                }
            }
            StatusCode::RANGE_NOT_SATISFIABLE => {
                return Err(Fail::Transient(format!(
                    "the registry refused to resume at byte {from}"
                )));
            }
            _ => return Err(Fail::Fatal(status_error(resp, what).await)),
        }
        if resp.content_length().is_some_and(|n| dl.got + n > size) {
            return Err(Fail::Fatal(RegistryError::DigestMismatch {
                what: what.to_string(),
                expected: format!("{size} bytes"),
                actual: "more bytes".into(),
            }));
        }
        // Writes in large pieces (the network hands over a few KiB at a
        // time); what was written is flushed before a retry resumes.
        let mut buf = Batch::new(&mut *out);
        let result = loop {
            match resp.chunk().await {
                Ok(Some(bytes)) => {
                    if dl.got + bytes.len() as u64 > size {
                        break Err(Fail::Fatal(RegistryError::DigestMismatch {
                            what: what.to_string(),
                            expected: format!("{size} bytes"),
                            actual: "more bytes".into(),
                        }));
                    }
                    let n = bytes.len() as u64;
                    if let Err(e) = buf.push(bytes, &mut dl.hasher).await {
                        break Err(io(e));
                    }
                    dl.got += n;
                    reporter.on_bytes(n);
                }
                Ok(None) => break Ok(()),
                Err(_) if dl.got == size => break Ok(()),
                Err(e) => {
                    break Err(Fail::Transient(format!(
                        "connection lost after {} of {size} bytes: {}",
                        dl.got,
                        error_chain(&e)
                    )));
                }
            }
        };
        buf.flush(&mut dl.hasher).await.map_err(io)?;
        drop(buf);
        result?;
        if dl.got < size {
            return Err(Fail::Transient(format!(
                "the registry closed the connection after {} of {size} bytes",
                dl.got
            )));
        }
        Ok(())
    }

    // -----------------------------------------------------------------------
    // Manifests and referrers

    async fn put_manifest_async(
        &self,
        repo: &str,
        reference: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<PutManifest, RegistryError> {
        let digest = Sha256Digest::of(bytes);
        let what = format!("pushing manifest {repo}:{reference}");
        let url = self.url(&format!("/v2/{repo}/manifests/{reference}"));
        let resp = self
            .retry(&what, repo, true, async || {
                let body = bytes.to_vec();
                let resp = self
                    .send(repo, true, |c| {
                        c.put(url.clone())
                            .header(CONTENT_TYPE, media_type)
                            .body(body)
                    })
                    .await?;
                expect_status(&resp, &[StatusCode::CREATED, StatusCode::OK], &what)?;
                Ok(resp)
            })
            .await?;
        if let Some(d) = header_digest(&resp)
            && d != digest
        {
            return Err(RegistryError::DigestMismatch {
                what,
                expected: digest.prefixed(),
                actual: d.prefixed(),
            });
        }
        Ok(PutManifest {
            digest,
            subject_indexed: resp.headers().contains_key("oci-subject"),
        })
    }

    async fn manifest_exists_async(
        &self,
        repo: &str,
        digest: &Sha256Digest,
    ) -> Result<bool, RegistryError> {
        let what = format!("checking manifest {} in {repo}", digest.prefixed());
        let url = self.url(&format!("/v2/{repo}/manifests/{}", digest.prefixed()));
        let accept = ACCEPT_MANIFESTS.join(", ");
        self.retry(&what, repo, false, async || {
            let resp = self
                .send(repo, false, |c| c.head(url.clone()).header(ACCEPT, &accept))
                .await?;
            match resp.status() {
                StatusCode::OK => Ok(true),
                StatusCode::NOT_FOUND => Ok(false),
                _ => Err(Fail::Fatal(status_error(resp, &what).await)),
            }
        })
        .await
    }

    async fn get_manifest_async(
        &self,
        repo: &str,
        lookup: &str,
    ) -> Result<(Vec<u8>, Sha256Digest), RegistryError> {
        let what = format!("fetching manifest {}/{repo}:{lookup}", self.registry);
        let url = self.url(&format!("/v2/{repo}/manifests/{lookup}"));
        let accept = ACCEPT_MANIFESTS.join(", ");
        // Read here rather than through oci-client, which reads a body
        // whole before any limit could apply.
        let (bytes, header) = self
            .retry(&what, repo, false, async || {
                let mut resp = self
                    .send(repo, false, |c| {
                        c.get(url.clone())
                            .header(ACCEPT, &accept)
                            .timeout(self.settings.timeout)
                    })
                    .await?;
                if resp.status() != StatusCode::OK {
                    return Err(Fail::Fatal(status_error(resp, &what).await));
                }
                let header = header_digest(&resp);
                let body = read_limited(&mut resp, Limit::RegistryManifestBytes, &what).await?;
                Ok((body, header))
            })
            .await?;
        let actual = Sha256Digest::of(&bytes);
        if let Ok(want) = Sha256Digest::from_prefixed(lookup)
            && want != actual
        {
            return Err(RegistryError::DigestMismatch {
                what,
                expected: want.prefixed(),
                actual: actual.prefixed(),
            });
        }
        // The registry's digest header, when it sends one, must agree.
        if let Some(d) = header
            && d != actual
        {
            return Err(RegistryError::DigestMismatch {
                what,
                expected: d.prefixed(),
                actual: actual.prefixed(),
            });
        }
        Ok((bytes, actual))
    }

    async fn referrers_api_async(
        &self,
        repo: &str,
        subject: &Sha256Digest,
    ) -> Result<Option<OciImageIndex>, RegistryError> {
        let what = format!("listing referrers of {}", subject.prefixed());
        let url = self.url(&format!("/v2/{repo}/referrers/{}", subject.prefixed()));
        let resp = self
            .retry(&what, repo, false, async || {
                let mut resp = self
                    .send(repo, false, |c| {
                        c.get(url.clone())
                            .header(ACCEPT, OCI_INDEX_MEDIA_TYPE)
                            .timeout(self.settings.timeout)
                    })
                    .await?;
                if resp.status() != StatusCode::OK {
                    return Ok(Err(resp));
                }
                read_limited(&mut resp, Limit::RegistryManifestBytes, &what)
                    .await
                    .map(Ok)
            })
            .await?;
        match resp {
            Ok(body) => Ok(Some(parse_index(&body, &what)?)),
            // No referrers API (distribution 2.x answers 404 for the route).
            Err(r)
                if matches!(
                    r.status(),
                    StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
                ) =>
            {
                Ok(None)
            }
            Err(r) => Err(status_error(r, &what).await),
        }
    }

    async fn tags_async(&self, repo: &str) -> Result<Vec<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let what = format!("listing the tags of {}/{repo}", self.registry);
        let mut url = self.url(&format!("/v2/{repo}/tags/list"));
        let mut pages = std::collections::BTreeSet::new();
        let mut tags = Vec::new();
        loop {
            if !pages.insert(url.clone()) || pages.len() > Limit::TagPages.count() {
                return Err(RegistryError::Protocol {
                    what,
                    message: format!(
                        "the tag list's pagination does not end (at {url}, page {}; {})",
                        pages.len(),
                        Limit::TagPages.named()
                    ),
                });
            }
            let (body, next) = self
                .retry(&what, repo, false, async || {
                    let mut resp = self
                        .send(repo, false, |c| {
                            c.get(url.clone()).timeout(self.settings.timeout)
                        })
                        .await?;
                    if resp.status() != StatusCode::OK {
                        return Err(Fail::Fatal(status_error(resp, &what).await));
                    }
                    let next = next_link(resp.headers(), &self.base).map_err(|message| {
                        Fail::Fatal(RegistryError::Protocol {
                            what: what.clone(),
                            message,
                        })
                    })?;
                    let mut body = Vec::new();
                    while let Some(chunk) = resp
                        .chunk()
                        .await
                        .map_err(|e| Fail::Transient(error_chain(&e)))?
                    {
                        body.extend_from_slice(&chunk);
                        if body.len() as u64 > Limit::TagListBytes.get() {
                            return Err(Fail::Fatal(RegistryError::Protocol {
                                what: what.clone(),
                                message: format!(
                                    "a tag list page over {} ({})",
                                    Limit::TagListBytes.shown(),
                                    Limit::TagListBytes.named()
                                ),
                            }));
                        }
                    }
                    Ok((body, next))
                })
                .await?;
            let page: TagList =
                serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol {
                    what: what.clone(),
                    message: format!("not a tag list: {e}"),
                })?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(n) => url = n,
                None => return Ok(tags),
            }
        }
    }

    async fn referrers_async(
        &self,
        repo: &str,
        subject: &Sha256Digest,
    ) -> Result<Referrers, RegistryError> {
        if let Some(index) = self.referrers_api_async(repo, subject).await? {
            return Ok(Referrers {
                api: true,
                manifests: index.manifests,
            });
        }
        let tag = tag_schema(subject);
        match self.get_manifest_async(repo, &tag).await {
            Ok((bytes, _)) => {
                let index = parse_index(&bytes, &format!("referrers index {repo}:{tag}"))?;
                Ok(Referrers {
                    api: false,
                    manifests: index.manifests,
                })
            }
            Err(RegistryError::NotFound { .. }) => Ok(Referrers {
                api: false,
                manifests: Vec::new(),
            }),
            Err(e) => Err(e),
        }
    }
}

/// The referrers tag schema's tag for a subject: `sha256-<hex>`.
pub fn tag_schema(subject: &Sha256Digest) -> String {
    format!("sha256-{}", subject.hex())
}

/// Parse a referrers index or tag-schema index answer (public for the fuzz
/// target).
pub fn parse_index(body: &[u8], what: &str) -> Result<OciImageIndex, RegistryError> {
    serde_json::from_slice::<OciImageIndex>(body).map_err(|e| RegistryError::Protocol {
        what: what.to_string(),
        message: format!("not an OCI image index: {e}"),
    })
}

enum Source<'a> {
    File(&'a Path),
    Bytes(&'a [u8]),
}

struct Upload {
    /// The upload session's URL (absolute).
    session: Option<String>,
    /// Bytes the registry holds.
    offset: u64,
}

struct Download {
    got: u64,
    hasher: StreamHasher,
}

/// Received pieces waiting to be written with one `writev` and handed to
/// the hasher together: fewer system calls and thread wake-ups than one per
/// piece, and no copy of them into a buffer.
struct Batch<'f> {
    out: &'f mut File,
    pending: Vec<bytes::Bytes>,
    len: usize,
}

impl<'f> Batch<'f> {
    fn new(out: &'f mut File) -> Batch<'f> {
        Batch {
            out,
            pending: Vec::new(),
            len: 0,
        }
    }

    async fn push(&mut self, b: bytes::Bytes, hasher: &mut StreamHasher) -> std::io::Result<()> {
        self.len += b.len();
        self.pending.push(b);
        if self.len >= WRITE_BATCH {
            self.flush(hasher).await?;
        }
        Ok(())
    }

    /// Write everything pending (a short write continues where it ended),
    /// then hash it.
    async fn flush(&mut self, hasher: &mut StreamHasher) -> std::io::Result<()> {
        let mut slices: Vec<std::io::IoSlice<'_>> = self
            .pending
            .iter()
            .map(|b| std::io::IoSlice::new(b))
            .collect();
        let mut left = &mut slices[..];
        while !left.is_empty() {
            match self.out.write_vectored(left) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => std::io::IoSlice::advance_slices(&mut left, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.len = 0;
        if !self.pending.is_empty() {
            hasher.update(std::mem::take(&mut self.pending)).await;
        }
        Ok(())
    }
}

/// Blobs at least this large are hashed on a thread of their own.
const HASH_THREAD_MIN: u64 = 64 << 20;

/// Batches ([`WRITE_BATCH`]) in flight to a hashing thread.
const HASH_QUEUE: usize = 4;

/// The SHA-256 of a download as it streams: for a large blob on a thread of
/// its own, so hashing one piece overlaps receiving and writing the next (a
/// single large blob is otherwise hashed, received and written on one core);
/// inline for a small one.
enum StreamHasher {
    Inline(Sha256),
    Thread {
        tx: tokio::sync::mpsc::Sender<Vec<bytes::Bytes>>,
        done: std::thread::JoinHandle<Sha256>,
    },
}

impl StreamHasher {
    fn new(size: u64) -> StreamHasher {
        if size < HASH_THREAD_MIN {
            return StreamHasher::Inline(Sha256::new());
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<bytes::Bytes>>(HASH_QUEUE);
        let spawned = std::thread::Builder::new()
            .name("mlprov-hash".into())
            .spawn(move || {
                let mut h = Sha256::new();
                while let Some(batch) = rx.blocking_recv() {
                    for b in &batch {
                        h.update(b);
                    }
                }
                h
            });
        match spawned {
            Ok(done) => StreamHasher::Thread { tx, done },
            // No thread to be had: hash inline.
            Err(_) => StreamHasher::Inline(Sha256::new()),
        }
    }

    async fn update(&mut self, batch: Vec<bytes::Bytes>) {
        match self {
            StreamHasher::Inline(h) => {
                for b in &batch {
                    h.update(b);
                }
            }
            StreamHasher::Thread { tx, .. } => {
                // The receiver lives until the sender is dropped; a send
                // fails only if the thread died, which `finish` reports.
                let _ = tx.send(batch).await;
            }
        }
    }

    /// The digest of everything given to `update`.
    fn finish(self) -> Result<Sha256Digest, std::io::Error> {
        let h = match self {
            StreamHasher::Inline(h) => h,
            StreamHasher::Thread { tx, done } => {
                drop(tx);
                done.join()
                    .map_err(|_| std::io::Error::other("the hashing thread failed"))?
            }
        };
        Ok(Sha256Digest(h.finalize().into()))
    }
}

/// The body of an upload request: `len` bytes of `source` from `start`.
/// A file's bytes are read in [`UPLOAD_PIECE`]s while the request is sent.
/// A file shorter than its hashed size is an error here, before sending
/// (it changed while pushing), not a transient failure to retry.
fn body_range(
    source: &Source<'_>,
    file: Option<&mut File>,
    start: u64,
    len: u64,
) -> Result<reqwest::Body, RegistryError> {
    match (source, file) {
        (Source::Bytes(b), _) => Ok(b[start as usize..(start + len) as usize].to_vec().into()),
        (Source::File(_), _) if len == 0 => Ok(reqwest::Body::from(Vec::new())),
        (Source::File(p), Some(f)) => {
            let have = f.metadata().map_err(RegistryError::io(p))?.len();
            if have < start + len {
                return Err(RegistryError::Io {
                    path: p.display().to_string(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!(
                            "the file has {have} bytes, {} were hashed (did it change while pushing?)",
                            start + len
                        ),
                    ),
                });
            }
            let mut reader = f.try_clone().map_err(RegistryError::io(p))?;
            reader
                .seek(SeekFrom::Start(start))
                .map_err(RegistryError::io(p))?;
            let pieces =
                futures_util::stream::try_unfold((reader, len), |(mut r, left)| async move {
                    if left == 0 {
                        return Ok(None);
                    }
                    let mut buf = vec![0u8; left.min(UPLOAD_PIECE) as usize];
                    r.read_exact(&mut buf)?;
                    let n = buf.len() as u64;
                    Ok::<_, std::io::Error>(Some((buf, (r, left - n))))
                });
            Ok(reqwest::Body::wrap_stream(pieces))
        }
        (Source::File(p), None) => Err(RegistryError::Io {
            path: p.display().to_string(),
            source: std::io::Error::other("file not open"),
        }),
    }
}

fn is_transient_status(s: StatusCode) -> bool {
    s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::REQUEST_TIMEOUT
}

fn expect_status(resp: &reqwest::Response, ok: &[StatusCode], what: &str) -> Result<(), Fail> {
    let s = resp.status();
    if ok.contains(&s) {
        return Ok(());
    }
    Err(Fail::Fatal(match s {
        StatusCode::FORBIDDEN => RegistryError::Denied {
            what: what.to_string(),
        },
        StatusCode::NOT_FOUND => RegistryError::NotFound {
            what: what.to_string(),
        },
        _ => RegistryError::Http {
            what: what.to_string(),
            status: s.as_u16(),
            detail: String::new(),
        },
    }))
}

async fn status_error(resp: reqwest::Response, what: &str) -> RegistryError {
    let status = resp.status();
    let body = error_text(resp).await;
    match status {
        StatusCode::FORBIDDEN => RegistryError::Denied {
            what: what.to_string(),
        },
        StatusCode::NOT_FOUND => RegistryError::NotFound {
            what: what.to_string(),
        },
        _ => RegistryError::Http {
            what: what.to_string(),
            status: status.as_u16(),
            detail: snippet(&body),
        },
    }
}

/// The `realm` and `service` of a `WWW-Authenticate` header's `Bearer`
/// challenge (RFC 7235 syntax: several challenges, quoted values).
fn bearer_challenge(header: &str) -> Option<(String, Option<String>)> {
    http_auth::parser::ChallengeParser::new(header)
        .filter_map(Result::ok)
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
        .and_then(|c| {
            let param = |name: &str| {
                c.params
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.to_unescaped())
            };
            Some((param("realm")?, param("service")))
        })
}

/// `url` is on the registry `base` (`scheme://host[:port]`).
fn same_origin(url: &url::Url, base: &str) -> bool {
    url::Url::parse(base).is_ok_and(|b| {
        b.scheme() == url.scheme()
            && b.host_str() == url.host_str()
            && b.port_or_known_default() == url.port_or_known_default()
    })
}

/// A redirect from `from` to `to` stays on the host and does not leave
/// HTTPS (HTTP to HTTPS on the same host is fine).
fn same_origin_or_upgrade(from: &url::Url, to: &url::Url) -> bool {
    from.host_str() == to.host_str()
        && (from.scheme() == to.scheme() || (from.scheme() == "http" && to.scheme() == "https"))
}

/// The `Location` of a response as an absolute URL.
fn location(resp: &reqwest::Response, base: &str) -> Option<String> {
    let loc = resp.headers().get(LOCATION)?.to_str().ok()?;
    let base = url::Url::parse(base).ok()?;
    base.join(loc).ok().map(|u| u.to_string())
}

fn parse_url(s: &str, what: &str) -> Result<url::Url, Fail> {
    url::Url::parse(s).map_err(|e| {
        Fail::Fatal(RegistryError::Protocol {
            what: what.to_string(),
            message: format!("bad URL {s}: {e}"),
        })
    })
}

/// The `rel="next"` target of a `Link` header, resolved against `base`
/// (registries send paths such as `</v2/r/tags/list?n=100&last=b>`). A
/// link to another origin is refused: the token must not travel there.
fn next_link(headers: &reqwest::header::HeaderMap, base: &str) -> Result<Option<String>, String> {
    let base = url::Url::parse(base).map_err(|e| format!("bad base URL {base}: {e}"))?;
    for value in headers.get_all(reqwest::header::LINK) {
        let Ok(value) = value.to_str() else {
            continue;
        };
        for link in value.split(',') {
            let mut parts = link.split(';');
            let target = parts.next().unwrap_or("").trim();
            let is_next = parts.any(|p| {
                let p = p.trim();
                p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
            });
            if !is_next {
                continue;
            }
            let Some(target) = target.strip_prefix('<').and_then(|t| t.strip_suffix('>')) else {
                return Err(format!("a malformed Link header: {value}"));
            };
            let next = base
                .join(target)
                .map_err(|e| format!("a bad Link target {target}: {e}"))?;
            if next.origin() != base.origin() {
                return Err(format!("the next page is on another host ({next})"));
            }
            return Ok(Some(next.to_string()));
        }
    }
    Ok(None)
}

fn header_digest(resp: &reqwest::Response) -> Option<Sha256Digest> {
    let v = resp.headers().get("docker-content-digest")?.to_str().ok()?;
    Sha256Digest::from_prefixed(v.trim()).ok()
}

/// `0-1234` (or `bytes=0-1234`) → 1234.
fn parse_range_end(v: &str) -> Option<u64> {
    let v = v.trim().trim_start_matches("bytes=");
    let (_, end) = v.split_once('-')?;
    end.trim().parse().ok()
}

pub(super) fn snippet(body: &str) -> String {
    let t = body.trim();
    if t.is_empty() {
        return String::new();
    }
    let mut s: String = t.chars().take(200).collect();
    if t.chars().count() > 200 {
        s.push('…');
    }
    format!(": {s}")
}

/// An error and its causes on one line (reqwest hides the useful part).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

impl From<Fail> for RegistryError {
    fn from(f: Fail) -> Self {
        match f {
            Fail::Fatal(e) => e,
            Fail::Unauthorized => RegistryError::Unauthorized {
                what: "request".into(),
            },
            Fail::Transient(message) => RegistryError::GaveUp {
                what: "request".into(),
                attempts: 1,
                message,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large blob's bytes, written in vectored batches and hashed on the
    /// hashing thread, arrive whole and in order; a small one's inline.
    #[test]
    fn batched_writes_and_the_hashing_thread_see_every_byte_in_order() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for size in [HASH_THREAD_MIN - 1, HASH_THREAD_MIN + 12_345] {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("blob");
            let mut out = File::create(&path).unwrap();
            let mut hasher = StreamHasher::new(size);
            assert_eq!(
                matches!(hasher, StreamHasher::Thread { .. }),
                size >= HASH_THREAD_MIN
            );
            rt.block_on(async {
                let mut batch = Batch::new(&mut out);
                // Uneven pieces, as the network hands them over.
                let mut at = 0usize;
                let mut piece = 1usize;
                while at < data.len() {
                    let end = (at + piece).min(data.len());
                    let b = bytes::Bytes::copy_from_slice(&data[at..end]);
                    batch.push(b, &mut hasher).await.unwrap();
                    at = end;
                    piece = piece * 3 % 700_001 + 1;
                }
                batch.flush(&mut hasher).await.unwrap();
            });
            drop(out);
            assert_eq!(hasher.finish().unwrap(), Sha256Digest::of(&data));
            assert!(std::fs::read(&path).unwrap() == data, "file differs");
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range_end("0-1023"), Some(1023));
        assert_eq!(parse_range_end("bytes=0-5"), Some(5));
        assert_eq!(parse_range_end("nonsense"), None);
    }

    #[test]
    fn backoff_is_bounded() {
        assert_eq!(Client::backoff(0), Duration::from_millis(250));
        assert_eq!(Client::backoff(1), Duration::from_millis(500));
        assert_eq!(Client::backoff(9), Duration::from_millis(4000));
    }

    #[test]
    fn link_pagination() {
        use reqwest::header::{HeaderMap, HeaderValue, LINK};
        let base = "http://127.0.0.1:5000";
        let mut h = HeaderMap::new();
        assert_eq!(next_link(&h, base), Ok(None));
        h.insert(
            LINK,
            HeaderValue::from_static("</v2/a/b/tags/list?n=2&last=x>; rel=\"next\""),
        );
        assert_eq!(
            next_link(&h, base).unwrap().as_deref(),
            Some("http://127.0.0.1:5000/v2/a/b/tags/list?n=2&last=x")
        );
        h.insert(
            LINK,
            HeaderValue::from_static("<https://elsewhere.example/v2/a/tags/list>; rel=\"next\""),
        );
        assert!(next_link(&h, base).is_err());
        h.insert(
            LINK,
            HeaderValue::from_static("</v2/a/tags/list?last=x>; rel=\"prev\""),
        );
        assert_eq!(next_link(&h, base), Ok(None));
    }

    /// A registry that pages its tag list two at a time; the client follows
    /// every `Link` and asks each page exactly once.
    #[test]
    fn tags_follow_pagination() {
        let server = std::sync::Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let addr = server.server_addr().to_ip().unwrap().to_string();
        let all = ["1", "2", "3", "4", "5"];
        let thread = {
            let server = server.clone();
            std::thread::spawn(move || {
                let mut asked = Vec::new();
                for req in server.incoming_requests() {
                    let url = req.url().to_string();
                    if url == "/v2/" {
                        // The authentication probe: no challenge.
                        req.respond(tiny_http::Response::from_string("{}")).unwrap();
                        continue;
                    }
                    asked.push(url.clone());
                    let start = url
                        .split("last=")
                        .nth(1)
                        .and_then(|l| all.iter().position(|t| *t == l))
                        .map_or(0, |i| i + 1);
                    let page: Vec<&str> = all.iter().skip(start).take(2).copied().collect();
                    let body = serde_json::json!({"name": "acme/m", "tags": page}).to_string();
                    let mut resp = tiny_http::Response::from_string(body);
                    if start + 2 < all.len() {
                        let link =
                            format!("</v2/acme/m/tags/list?n=2&last={}>; rel=\"next\"", page[1]);
                        resp.add_header(
                            tiny_http::Header::from_bytes(&b"Link"[..], link.as_bytes()).unwrap(),
                        );
                    }
                    let last = start + 2 >= all.len();
                    req.respond(resp).unwrap();
                    if last {
                        return asked;
                    }
                }
                asked
            })
        };
        let mut settings = Settings::new(Credentials::Anonymous);
        settings.plain_http = true;
        let client = Client::new(&addr, &settings).unwrap();
        let tags = client.tags("acme/m").unwrap();
        assert_eq!(tags, all);
        let asked = thread.join().unwrap();
        assert_eq!(
            asked,
            [
                "/v2/acme/m/tags/list",
                "/v2/acme/m/tags/list?n=2&last=2",
                "/v2/acme/m/tags/list?n=2&last=4",
            ]
        );
    }

    #[test]
    fn tag_schema_tag() {
        let d = Sha256Digest::of(b"x");
        assert_eq!(tag_schema(&d), format!("sha256-{}", d.hex()));
    }
}
