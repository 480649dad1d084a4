//! Registry credentials: `--username` + `--password-stdin`, then
//! `MLPROV_REGISTRY_USERNAME` / `MLPROV_REGISTRY_PASSWORD`, then the `auths`
//! of `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`).

use std::fmt;
use std::path::Path;

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
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic {
                username, source, ..
            } => write!(f, "Basic({username}, <redacted>, from {source})"),
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
        }
    }
}

/// Resolve credentials for `registry` (host[:port] as written in the
/// reference): `explicit` (`--username` with the password read from stdin)
/// first, then `env_login` (`MLPROV_REGISTRY_USERNAME`/`_PASSWORD`), then
/// the `auths` of the Docker config file.
pub fn resolve(
    registry: &str,
    explicit: Option<(String, String)>,
    env_login: Option<&(String, String)>,
    docker_config: Option<&Path>,
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
        Some(path) => from_docker_config(path, registry),
        None => Ok(Credentials::Anonymous),
    }
}

/// Read `auths` from a Docker config file. A missing file is anonymous
/// access; a damaged one is an error naming the file.
pub fn from_docker_config(path: &Path, registry: &str) -> Result<Credentials, RegistryError> {
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
    let Some(auths) = doc.get("auths").and_then(|a| a.as_object()) else {
        return Ok(Credentials::Anonymous);
    };
    let want = normalize_host(registry);
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
    let field = |k: &str| {
        entry
            .get(k)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
    };
    if let (Some(u), Some(p)) = (field("username"), field("password")) {
        return Ok(Credentials::Basic {
            username: u.to_string(),
            password: p.to_string(),
            source,
        });
    }
    Ok(Credentials::Anonymous)
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
        match from_docker_config(&p, "127.0.0.1:5000").unwrap() {
            Credentials::Basic {
                username, password, ..
            } => {
                assert_eq!(username, "alice");
                assert_eq!(password, "s3cr:et");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            from_docker_config(&p, "docker.io").unwrap(),
            Credentials::Basic { username, .. } if username == "bob"
        ));
        assert_eq!(
            from_docker_config(&p, "ghcr.io").unwrap(),
            Credentials::Anonymous
        );
        assert_eq!(
            from_docker_config(&d.path().join("missing.json"), "ghcr.io").unwrap(),
            Credentials::Anonymous
        );
    }

    #[test]
    fn damaged_docker_config_names_the_file() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), r#"{"auths": {"ghcr.io": {"auth": "%%%"}}}"#);
        let e = from_docker_config(&p, "ghcr.io").unwrap_err().to_string();
        assert!(e.contains("config.json") && e.contains("not base64"), "{e}");
        let p = write(d.path(), "{");
        assert!(from_docker_config(&p, "ghcr.io").is_err());
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
