//! Registry credentials: `--username` + `--password-stdin`, then
//! `MLPROV_REGISTRY_USERNAME` / `MLPROV_REGISTRY_PASSWORD`, then
//! `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`) as docker reads
//! it: the credential helper `credHelpers` names for the registry, else the
//! `credsStore` helper, else the `auths` entry (`auth`, `username` and
//! `password`, or an `identitytoken`).

use std::fmt;
use std::io::Read;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Of a credential helper's stdout and stderr, this much is read.
const MAX_HELPER_OUTPUT: u64 = 1 << 20;

use base64::Engine as _;

use super::RegistryError;

pub const ENV_USERNAME: &str = "MLPROV_REGISTRY_USERNAME";
pub const ENV_PASSWORD: &str = "MLPROV_REGISTRY_PASSWORD";

/// What to log in with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Anonymous,
    Basic {
        username: String,
        password: String,
        /// Where they came from, for messages (`--username`, the env, the file).
        source: String,
    },
    /// An OAuth2 refresh token (`identitytoken`, or a helper's `<token>`
    /// user), exchanged at the registry's token service for access tokens.
    IdentityToken {
        token: String,
        source: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic {
                username, source, ..
            } => write!(f, "Basic({username}, <redacted>, from {source})"),
            Credentials::IdentityToken { source, .. } => {
                write!(f, "IdentityToken(<redacted>, from {source})")
            }
        }
    }
}

impl Credentials {
    /// A short description for `-v` output (never the secret).
    pub fn describe(&self) -> String {
        match self {
            Credentials::Anonymous => "anonymous".to_string(),
            Credentials::Basic {
                username, source, ..
            } => format!("user `{username}` from {source}"),
            Credentials::IdentityToken { source, .. } => format!("an identity token from {source}"),
        }
    }
}

/// Resolve credentials for `registry` (host[:port] as written in the
/// reference): `explicit` (`--username` with the password read from stdin)
/// first, then `env_login` (`MLPROV_REGISTRY_USERNAME`/`_PASSWORD`), then
/// the Docker config file (a credential helper has `helper_timeout` to
/// answer).
pub fn resolve(
    registry: &str,
    explicit: Option<(String, String)>,
    env_login: Option<&(String, String)>,
    docker_config: Option<&Path>,
    helper_timeout: Duration,
) -> Result<Credentials, RegistryError> {
    if let Some((username, password)) = explicit {
        return Ok(Credentials::Basic {
            username,
            password,
            source: "--username/--password-stdin".into(),
        });
    }
    if let Some((username, password)) = env_login {
        return Ok(Credentials::Basic {
            username: username.clone(),
            password: password.clone(),
            source: format!("{ENV_USERNAME}/{ENV_PASSWORD}"),
        });
    }
    match docker_config {
        Some(path) => from_docker_config(path, registry, helper_timeout),
        None => Ok(Credentials::Anonymous),
    }
}

/// Read the credentials for `registry` from a Docker config file, as
/// docker does: `credHelpers."REGISTRY"`, else `credsStore`, names a helper
/// (`docker-credential-NAME get`) whose answer wins; a helper without
/// credentials for it leaves the `auths` entry. A missing file is anonymous
/// access; a damaged one, or a helper that cannot run, fails or does not
/// answer within `helper_timeout`, is an error naming the file.
pub fn from_docker_config(
    path: &Path,
    registry: &str,
    helper_timeout: Duration,
) -> Result<Credentials, RegistryError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Credentials::Anonymous),
        Err(e) => return Err(RegistryError::io(path)(e)),
    };
    let damaged = |message: String| RegistryError::Credentials {
        message: format!("{}: {message}", path.display()),
        help:
            "fix the entry (`docker login` rewrites it), or pass --username with --password-stdin"
                .into(),
    };
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| damaged(format!("not JSON: {e}")))?;
    let want = normalize_host(registry);
    let helper = doc
        .get("credHelpers")
        .and_then(|h| h.as_object())
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| k.as_str() == registry || normalize_host(k) == want)
                .and_then(|(k, v)| Some((v.as_str()?, format!("credHelpers.\"{k}\""))))
        })
        .or_else(|| {
            doc.get("credsStore")
                .and_then(|v| v.as_str())
                .map(|v| (v, "credsStore".to_string()))
        })
        .filter(|(name, _)| !name.is_empty());
    if let Some((name, key)) = helper
        && let Some(found) = from_helper(name, registry, path, &key, helper_timeout)?
    {
        return Ok(found);
    }
    let Some(auths) = doc.get("auths").and_then(|a| a.as_object()) else {
        return Ok(Credentials::Anonymous);
    };
    // An exact key wins over a normalised match (`https://host/v1/`).
    let entry = auths.get(registry).map(|v| (registry, v)).or_else(|| {
        auths
            .iter()
            .find(|(k, _)| normalize_host(k) == want)
            .map(|(k, v)| (k.as_str(), v))
    });
    let Some((key, entry)) = entry else {
        return Ok(Credentials::Anonymous);
    };
    let source = format!("{} (auths.\"{key}\")", path.display());
    let field = |k: &str| {
        entry
            .get(k)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
    };
    // `docker login` that got a refresh token (`az acr login`) writes it
    // beside an `auth` of `user:` with no password; the token wins, as in
    // docker and go-containerregistry.
    if let Some(token) = field("identitytoken") {
        return Ok(Credentials::IdentityToken {
            token: token.to_string(),
            source,
        });
    }
    if let Some(auth) = entry
        .get("auth")
        .and_then(|a| a.as_str())
        .filter(|a| !a.is_empty())
    {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|e| damaged(format!("auths.\"{key}\".auth is not base64: {e}")))?;
        let text = String::from_utf8(raw)
            .map_err(|_| damaged(format!("auths.\"{key}\".auth is not UTF-8")))?;
        let Some((username, password)) = text.split_once(':') else {
            return Err(damaged(format!(
                "auths.\"{key}\".auth does not decode to `username:password`"
            )));
        };
        return Ok(Credentials::Basic {
            username: username.to_string(),
            password: password.to_string(),
            source,
        });
    }
    if let (Some(u), Some(p)) = (field("username"), field("password")) {
        return Ok(Credentials::Basic {
            username: u.to_string(),
            password: p.to_string(),
            source,
        });
    }
    Ok(Credentials::Anonymous)
}

/// Read a child's pipe to its end (at most [`MAX_HELPER_OUTPUT`]) on a
/// thread of its own.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = pipe {
            let _ = p.take(MAX_HELPER_OUTPUT).read_to_end(&mut buf);
        }
        buf
    })
}

/// The server a credential helper is asked about: what `docker login`
/// stored, the host as written, and Docker Hub's historical URL for it.
fn helper_server(registry: &str) -> String {
    if normalize_host(registry) == "docker.io" {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    }
}

/// Ask `docker-credential-NAME get` (the docker credential helper
/// protocol: the server on stdin, `{"Username", "Secret"}` on stdout).
/// `None` when it has none for the server ("credentials not found").
fn from_helper(
    name: &str,
    registry: &str,
    config: &Path,
    key: &str,
    timeout: Duration,
) -> Result<Option<Credentials>, RegistryError> {
    let program = format!("docker-credential-{name}");
    let server = helper_server(registry);
    let help = format!(
        "install {program}, or remove {key} from {}; MLPROV_REGISTRY_USERNAME and MLPROV_REGISTRY_PASSWORD (or --username with --password-stdin) take precedence over the file",
        config.display()
    );
    let failed = |message: String| RegistryError::Credentials {
        message: format!("{} ({key}): {message}", config.display()),
        help: help.clone(),
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("cannot run the credential helper {program}: {e}")))?;
    // A helper that exits without reading its input is judged by its answer.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    // Both pipes are drained while waiting (a helper blocked on a full pipe
    // never exits); one that does not answer in time (a keyring prompt
    // nobody sees) is killed.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(format!(
                    "{program} get {server} did not answer within {} s (--timeout, MLPROV_REGISTRY_TIMEOUT)",
                    timeout.as_secs()
                )));
            }
            Err(e) => return Err(failed(format!("{program} get: {e}"))),
        }
    };
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    let said = |b: &[u8]| String::from_utf8_lossy(b).trim().to_string();
    if !status.success() {
        let (out, err) = (said(&stdout), said(&stderr));
        // docker-credential-helpers' errCredentialsNotFound.
        if out.contains("credentials not found") || err.contains("credentials not found") {
            return Ok(None);
        }
        // What the helper says on stderr, else stdout unless it looks like
        // an answer (which could hold the secret); the start of it.
        let text = if !err.is_empty() || out.starts_with('{') {
            err
        } else {
            out
        };
        return Err(failed(format!(
            "{program} get {server} failed ({status}){}",
            super::client::snippet(&text)
        )));
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        #[serde(default)]
        username: String,
        secret: String,
    }
    let answer: Answer = serde_json::from_slice(&stdout).map_err(|e| {
        failed(format!(
            "{program} get {server} answered something that is not credentials: {e}"
        ))
    })?;
    if answer.secret.is_empty() {
        return Ok(None);
    }
    let source = format!("{program} ({})", config.display());
    Ok(Some(if answer.username == "<token>" {
        Credentials::IdentityToken {
            token: answer.secret,
            source,
        }
    } else {
        Credentials::Basic {
            username: answer.username,
            password: answer.secret,
            source,
        }
    }))
}

/// `https://index.docker.io/v1/` → `docker.io`; `HOST:5000/` → `host:5000`.
fn normalize_host(key: &str) -> String {
    let k = key.split_once("://").map(|(_, r)| r).unwrap_or(key);
    let host = k.split('/').next().unwrap_or(k).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const T: Duration = Duration::from_secs(10);

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("config.json");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn docker_config_auths() {
        let d = tempfile::tempdir().unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cr:et");
        let p = write(
            d.path(),
            &format!(
                r#"{{"auths": {{"https://127.0.0.1:5000/v1/": {{"auth": "{auth}"}},
                   "https://index.docker.io/v1/": {{"username": "bob", "password": "pw"}}}}}}"#
            ),
        );
        match from_docker_config(&p, "127.0.0.1:5000", T).unwrap() {
            Credentials::Basic {
                username, password, ..
            } => {
                assert_eq!(username, "alice");
                assert_eq!(password, "s3cr:et");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            from_docker_config(&p, "docker.io", T).unwrap(),
            Credentials::Basic { username, .. } if username == "bob"
        ));
        assert_eq!(
            from_docker_config(&p, "ghcr.io", T).unwrap(),
            Credentials::Anonymous
        );
        assert_eq!(
            from_docker_config(&d.path().join("missing.json"), "ghcr.io", T).unwrap(),
            Credentials::Anonymous
        );
    }

    /// What `docker login` writes when the registry hands out a refresh
    /// token (`az acr login`): `auth` of `user:` and the token; the token wins.
    #[test]
    fn an_identity_token_wins_over_the_auth_beside_it() {
        let d = tempfile::tempdir().unwrap();
        let auth = base64::engine::general_purpose::STANDARD
            .encode("00000000-0000-0000-0000-000000000000:");
        let p = write(
            d.path(),
            &format!(
                r#"{{"auths": {{"acme.azurecr.io": {{"auth": "{auth}", "identitytoken": "eyJhbGciOi.refresh"}}}}}}"#
            ),
        );
        match from_docker_config(&p, "acme.azurecr.io", T).unwrap() {
            Credentials::IdentityToken { token, .. } => assert_eq!(token, "eyJhbGciOi.refresh"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn damaged_docker_config_names_the_file() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), r#"{"auths": {"ghcr.io": {"auth": "%%%"}}}"#);
        let e = from_docker_config(&p, "ghcr.io", T)
            .unwrap_err()
            .to_string();
        assert!(e.contains("config.json") && e.contains("not base64"), "{e}");
        let p = write(d.path(), "{");
        assert!(from_docker_config(&p, "ghcr.io", T).is_err());
    }

    #[test]
    fn secrets_are_not_printed() {
        let c = Credentials::Basic {
            username: "u".into(),
            password: "hunter2".into(),
            source: "x".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!c.describe().contains("hunter2"));
    }
}
