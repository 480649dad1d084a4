//! OCI registries: the model as a CNCF ModelPack artifact, its attestations
//! as OCI 1.1 referrers.
//!
//! - [`client`] speaks the distribution API: authentication, manifests and
//!   blob downloads through `oci-client`; chunked, resumable uploads,
//!   cross-repository mounts and the referrers API with plain HTTP requests
//!   (what `oci-client` cannot do), all with bounded retries and timeouts.
//! - [`modelpack`] builds and reads the ModelPack manifest and config.
//! - [`plan`] computes a project's manifest before the push, so that the
//!   statements signed before it can name the manifest digest.
//! - [`push`] and [`pull`] move an artifact and its bundles.
//! - [`credentials`] finds what to log in with.
//! - [`blobcache`] remembers where a registry's blobs are, so a push to
//!   another repository mounts them.
//!
//! Everything here is synchronous at its boundary: the client runs its async
//! work on a small current-thread runtime it owns.

pub mod blobcache;
pub mod client;
pub mod copy;
pub mod credentials;
pub mod modelpack;
pub mod plan;
pub mod pull;
pub mod push;

use std::fmt;
use std::time::Duration;

use miette::Diagnostic;

pub use client::Client;
pub use credentials::Credentials;

/// `artifactType` of a ModelPack model manifest.
pub const MODEL_ARTIFACT_TYPE: &str = "application/vnd.cncf.model.manifest.v1+json";
/// Media type of the ModelPack config blob.
pub const MODEL_CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.model.config.v1+json";
/// OCI image manifest media type.
pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// The OCI empty descriptor's media type and content (`{}`).
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
pub const EMPTY_CONTENT: &[u8] = b"{}";
/// `artifactType` (and layer media type) of a Sigstore bundle referrer.
pub const BUNDLE_ARTIFACT_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Layer annotation: the file's path relative to the model root.
pub const ANN_FILEPATH: &str = "org.cncf.model.filepath";
/// Layer annotation: the file's metadata (JSON).
pub const ANN_FILE_METADATA: &str = "org.cncf.model.file.metadata+json";
/// OCI annotation keys.
pub const ANN_TITLE: &str = "org.opencontainers.image.title";
pub const ANN_CREATED: &str = "org.opencontainers.image.created";
pub const ANN_SOURCE: &str = "org.opencontainers.image.source";
pub const ANN_REVISION: &str = "org.opencontainers.image.revision";
pub const ANN_LICENSES: &str = "org.opencontainers.image.licenses";
pub const ANN_VERSION: &str = "org.opencontainers.image.version";
pub const ANN_DESCRIPTION: &str = "org.opencontainers.image.description";
/// mlprov's own manifest annotations.
pub const ANN_ARTIFACT_DIGEST: &str = "dev.mlprov.artifact.digest";
pub const ANN_ARTIFACT_NAME: &str = "dev.mlprov.artifact.name";
pub const ANN_ARTIFACT_KIND: &str = "dev.mlprov.artifact.kind";
pub const ANN_LOCK_DIGEST: &str = "dev.mlprov.lock.digest";
/// Bundle referrer annotations, as cosign writes them.
pub const ANN_BUNDLE_CONTENT: &str = "dev.sigstore.bundle.content";
pub const ANN_BUNDLE_PREDICATE: &str = "dev.sigstore.bundle.predicateType";
/// `artifactType` of a referrer carrying evidence about one of the model's
/// inputs (its layer is still a Sigstore bundle): a referrer of the model's
/// manifest, so a verifier finds the whole graph's evidence from the
/// model's reference alone, but of its own type, so that cosign, Kyverno
/// and the policy-controller, which read the model's attestations as the
/// referrers of type [`BUNDLE_ARTIFACT_TYPE`], never see statements about
/// other subjects.
pub const INPUT_BUNDLE_ARTIFACT_TYPE: &str = "application/vnd.dev.mlprov.input-bundle.v1+json";
/// Input-evidence referrer annotation: the artifact digest
/// (`sha256:…`) of the input the bundle's statement is about. An index
/// only: the verifier reads the statement's subjects.
pub const ANN_BUNDLE_SUBJECT: &str = "dev.mlprov.bundle.subject";

// A bundle (a referrer's layer, a store entry) is at most
// `Limit::BundleBytes`; at most `Limit::Referrers` distinct bundles are
// fetched for one subject, `Limit::ReferrerBytes` together; a manifest or
// index is at most `Limit::RegistryManifestBytes` (crate::limits).

/// Blob transfers of one push or pull run this many at a time (each blob
/// streamed and hashed on its own thread; memory per transfer is bounded:
/// [`client::CHUNK`] for an upload, a 1 MiB write buffer for a download).
pub fn transfers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(2, 4)
}

/// Uploads at a time: fewer than downloads, since the registry's own
/// writes share the machine (each upload streams its body from the file).
pub fn upload_transfers() -> usize {
    transfers().min(2)
}

/// Run `work` on every item, at most `workers` at a time, on scoped
/// threads sharing the caller's client. The first error (in item order)
/// is returned once the transfers already started have ended; no new one
/// starts after a failure.
pub fn for_each_parallel<T: Sync>(
    items: &[T],
    workers: usize,
    work: impl Fn(&T) -> Result<(), RegistryError> + Sync,
) -> Result<(), RegistryError> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let workers = workers.clamp(1, items.len().max(1));
    if workers == 1 {
        return items.iter().try_for_each(work);
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let mut errors: Vec<(usize, RegistryError)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut errors = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        if let Err(e) = work(item) {
                            failed.store(true, Ordering::Relaxed);
                            errors.push((i, e));
                        }
                    }
                    errors
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    errors.sort_by_key(|(i, _)| *i);
    match errors.into_iter().next() {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// How to reach a registry, resolved once by the command.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Talk plain HTTP (a local registry).
    pub plain_http: bool,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// Longest wait for the next bytes from the registry; also the base of
    /// each request's deadline.
    pub timeout: Duration,
    /// Attempts per request (connection failures, 5xx, 429, stalls) before
    /// giving up; the waits between them double from 250 ms up to 4 s.
    pub attempts: u32,
    pub credentials: Credentials,
}

impl Settings {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
    pub const DEFAULT_ATTEMPTS: u32 = 5;

    pub fn new(credentials: Credentials) -> Self {
        Self {
            plain_http: false,
            insecure: false,
            timeout: Self::DEFAULT_TIMEOUT,
            attempts: Self::DEFAULT_ATTEMPTS,
            credentials,
        }
    }
}

/// How to reach every registry a command talks to, resolved once by the
/// command from its flags and the environment: [`Access::settings_for`]
/// gives the [`Settings`] for the target and for any registry a dependency
/// names alike.
#[derive(Clone)]
pub struct Access {
    pub plain_http: bool,
    pub insecure: bool,
    pub timeout: Duration,
    pub attempts: u32,
    /// `--username` with the password from stdin, for the registries the
    /// command itself names.
    pub login: Option<Login>,
    /// `MLPROV_REGISTRY_USERNAME`/`MLPROV_REGISTRY_PASSWORD`, for any registry.
    pub env_login: Option<(String, String)>,
    /// The Docker config file whose credential helpers or `auths` give
    /// credentials.
    pub docker_config: Option<std::path::PathBuf>,
}

/// An explicit login and the registries it is for.
#[derive(Clone)]
pub struct Login {
    pub registries: Vec<String>,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Login({} for {:?}, <redacted>)",
            self.username, self.registries
        )
    }
}

impl std::fmt::Debug for Access {
    /// Everything but the password of the environment's login.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("plain_http", &self.plain_http)
            .field("insecure", &self.insecure)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .field("login", &self.login)
            .field(
                "env_login",
                &self.env_login.as_ref().map(|(u, _)| (u, "<redacted>")),
            )
            .field("docker_config", &self.docker_config)
            .finish()
    }
}

impl Default for Access {
    /// Anonymous HTTPS with the default timeout and attempts.
    fn default() -> Self {
        Self {
            plain_http: false,
            insecure: false,
            timeout: Settings::DEFAULT_TIMEOUT,
            attempts: Settings::DEFAULT_ATTEMPTS,
            login: None,
            env_login: None,
            docker_config: None,
        }
    }
}

impl Access {
    /// The settings for `registry` (host[:port] as written in references).
    pub fn settings_for(&self, registry: &str) -> Result<Settings, RegistryError> {
        let explicit = self
            .login
            .as_ref()
            .filter(|l| l.registries.iter().any(|r| r == registry))
            .map(|l| (l.username.clone(), l.password.clone()));
        let credentials = credentials::resolve(
            registry,
            explicit,
            self.env_login.as_ref(),
            self.docker_config.as_deref(),
            self.timeout,
        )?;
        Ok(Settings {
            plain_http: self.plain_http,
            insecure: self.insecure,
            timeout: self.timeout,
            attempts: self.attempts,
            credentials,
        })
    }
}

/// A parsed OCI reference: `registry/repository[:tag][@sha256:…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRef {
    /// The registry as written (`127.0.0.1:5000`, `ghcr.io`, `docker.io`).
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<crate::digest::Sha256Digest>,
}

impl OciRef {
    /// Does `s` start with a registry host (`host.domain/`, `host:port/`,
    /// `localhost/`)? A reference must; a local path usually does not.
    pub fn names_registry(s: &str) -> bool {
        s.split_once('/').is_some_and(|(host, _)| {
            host.contains('.') || host.contains(':') || host == "localhost"
        })
    }

    /// Parse a reference. A registry host is required (no implicit Docker
    /// Hub), because a model reference without one is almost always a
    /// mistake.
    pub fn parse(s: &str) -> Result<Self, RegistryError> {
        let bad = |message: &str| RegistryError::BadReference {
            reference: s.to_string(),
            message: message.to_string(),
        };
        if s.contains("://") {
            return Err(bad("write the reference without a scheme"));
        }
        if !Self::names_registry(s) {
            return Err(bad(
                "it does not start with a registry host (e.g. `registry.example.com/` or `127.0.0.1:5000/`)",
            ));
        }
        let repo_part = s.split('@').next().unwrap_or(s);
        let repo_part = match repo_part.rsplit_once(':') {
            Some((r, tag)) if !tag.contains('/') => r,
            _ => repo_part,
        };
        if repo_part
            .split_once('/')
            .is_some_and(|(_, repo)| repo.chars().any(|c| c.is_ascii_uppercase()))
        {
            return Err(bad(&format!(
                "repository names are lower case (try `{}`)",
                s.split_once('/')
                    .map(|(host, rest)| {
                        let (name, suffix) = match rest.find([':', '@']) {
                            Some(i) => rest.split_at(i),
                            None => (rest, ""),
                        };
                        format!("{host}/{}{suffix}", name.to_ascii_lowercase())
                    })
                    .unwrap_or_default()
            )));
        }
        let parsed: oci_client::Reference = s
            .parse()
            .map_err(|e: oci_client::ParseError| bad(&e.to_string()))?;
        let digest = match parsed.digest() {
            Some(d) => Some(
                crate::digest::Sha256Digest::from_prefixed(d)
                    .map_err(|_| bad("only sha256 digests are supported"))?,
            ),
            None => None,
        };
        // oci-client fills in `latest` for a bare repository; keep what the
        // user wrote.
        let tag_written = {
            let name = s.split('@').next().unwrap_or(s);
            let last = name.rsplit('/').next().unwrap_or(name);
            last.contains(':')
        };
        Ok(Self {
            registry: parsed.registry().to_string(),
            repository: parsed.repository().to_string(),
            tag: if tag_written {
                parsed.tag().map(str::to_string)
            } else {
                None
            },
            digest,
        })
    }

    /// The same repository at another tag or digest.
    pub fn with_digest(&self, digest: crate::digest::Sha256Digest) -> Self {
        Self {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest),
        }
    }

    /// `registry/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What to ask the registry for: the digest if there is one, else the
    /// tag, else `latest`.
    pub fn lookup(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.prefixed(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{}", d.prefixed())?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum RegistryError {
    #[error("`{reference}` is not an OCI reference: {message}")]
    #[diagnostic(
        code(mlprov::registry::reference),
        help(
            "write registry/repository:tag or registry/repository@sha256:<hex>, e.g. 127.0.0.1:5000/models/minilm:1.0"
        )
    )]
    BadReference { reference: String, message: String },

    #[error("{what}: gave up after {attempts} attempts; last error: {message}")]
    #[diagnostic(
        code(mlprov::registry::network),
        help(
            "check that the registry is reachable and healthy; a registry on plain HTTP needs --plain-http. Nothing was reported as done"
        )
    )]
    GaveUp {
        what: String,
        attempts: u32,
        message: String,
    },

    #[error("{what}: the registry refused the credentials (401 Unauthorized)")]
    #[diagnostic(
        code(mlprov::registry::unauthorized),
        help(
            "log in: set MLPROV_REGISTRY_USERNAME and MLPROV_REGISTRY_PASSWORD, pass --username with --password-stdin, or add the registry to ~/.docker/config.json (`docker login`)"
        )
    )]
    Unauthorized { what: String },

    #[error("{what}: access denied (403 Forbidden)")]
    #[diagnostic(
        code(mlprov::registry::denied),
        help("these credentials may read but not write this repository, or not see it at all")
    )]
    Denied { what: String },

    #[error("{what}: not found in the registry")]
    #[diagnostic(
        code("mlprov::registry::not-found"),
        help("check the repository and the tag or digest (e.g. with `oras repo tags`)")
    )]
    NotFound { what: String },

    #[error("{what}: the registry answered {status}{detail}")]
    #[diagnostic(code(mlprov::registry::http))]
    Http {
        what: String,
        status: u16,
        detail: String,
    },

    #[error(
        "{what}: the registry served bytes that do not match their digest (expected {expected}, got {actual})"
    )]
    #[diagnostic(
        code("mlprov::registry::digest-mismatch"),
        help(
            "the content in the registry is not what its manifest names: it may have been tampered with. Nothing was placed; tell the publisher"
        )
    )]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    #[error("{what}: the registry's answer is not what the distribution spec describes: {message}")]
    #[diagnostic(
        code(mlprov::registry::protocol),
        help(
            "check that the reference points at an OCI registry (distribution, Harbor, zot, GHCR, ECR)"
        )
    )]
    Protocol { what: String, message: String },

    #[error("`{reference}` is not a ModelPack model artifact: {message}")]
    #[diagnostic(
        code("mlprov::registry::not-modelpack"),
        help(
            "mlprov pulls artifacts pushed as CNCF ModelPack manifests with raw layers (`mlprov push`, modctl with --raw)"
        )
    )]
    NotModelPack { reference: String, message: String },

    #[error("{path}: {source}")]
    #[diagnostic(code(mlprov::registry::io))]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{message}")]
    #[diagnostic(code(mlprov::registry::credentials), help("{help}"))]
    Credentials { message: String, help: String },

    #[error("{path} already exists and is not empty")]
    #[diagnostic(
        code(mlprov::registry::destination),
        help(
            "pull into a new or empty directory with -o DIR; mlprov never mixes pulled files into existing ones"
        )
    )]
    DestinationNotEmpty { path: String },

    #[error("nothing to push: {message}")]
    #[diagnostic(code(mlprov::registry::empty))]
    Empty { message: String },
}

impl RegistryError {
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> RegistryError + use<> {
        let path = path.display().to_string();
        move |source| RegistryError::Io { path, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r = OciRef::parse("127.0.0.1:5000/models/minilm:1.0").unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "models/minilm");
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert_eq!(r.to_string(), "127.0.0.1:5000/models/minilm:1.0");
        let d = format!("registry.example.com/a/b@sha256:{}", "ab".repeat(32));
        let r = OciRef::parse(&d).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.lookup(), format!("sha256:{}", "ab".repeat(32)));
        assert_eq!(r.to_string(), d);
        let bare = OciRef::parse("localhost/x").unwrap();
        assert_eq!(bare.tag, None);
        assert_eq!(bare.lookup(), "latest");
        for bad in [
            "minilm:1.0",
            "library/minilm",
            "https://ghcr.io/a/b:1",
            "ghcr.io/A/b:1",
            "ghcr.io/a/b@sha512:00",
        ] {
            assert!(OciRef::parse(bad).is_err(), "{bad}");
        }
        // Upper case in the repository: say so, with the fix. Tags may
        // have upper case.
        let e = OciRef::parse("ghcr.io/Acme/Support:V1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ghcr.io/acme/support:V1"), "{e}");
        assert!(OciRef::parse("127.0.0.1:5000/acme/support:V1").is_ok());
    }
}
