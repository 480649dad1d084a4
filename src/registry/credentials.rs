//! Registry credentials: `--username` + `--password-stdin`, then
//! `MLPROV_REGISTRY_USERNAME` / `MLPROV_REGISTRY_PASSWORD`, then the `auths`
//! of `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`).

use std::fmt;
use std::path::{Path, PathBuf};

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
/// reference). `explicit` is `--username` with the password read from stdin.
pub fn resolve(
    registry: &str,
    explicit: Option<(String, String)>,
) -> Result<Credentials, RegistryError> {
    if let Some((username, password)) = explicit {
        return Ok(Credentials::Basic {
            username,
            password,
            source: "--username/--password-stdin".into(),
        });
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (env(ENV_USERNAME), env(ENV_PASSWORD)) {
        (Some(username), Some(password)) => {
            return Ok(Credentials::Basic {
                username,
                password,
                source: format!("{ENV_USERNAME}/{ENV_PASSWORD}"),
            });
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(RegistryError::Credentials {
                message: format!("only one of {ENV_USERNAME} and {ENV_PASSWORD} is set"),
                help: "set both, or neither to use ~/.docker/config.json".into(),
            });
        }
        (None, None) => {}
    }
    match docker_config_path() {
        Some(path) => from_docker_config(&path, registry),
        None => Ok(Credentials::Anonymous),
    }
}

fn docker_config_path() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("config.json"));
    }
    dirs::home_dir().map(|h| h.join(".docker").join("config.json"))
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
