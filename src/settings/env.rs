//! The environment, read once.
//!
//! [`EnvironmentOptions::read`] is the only place in mlprov that reads
//! environment variables (a test in `tests/layering.rs` holds it to that).
//! Flags that clap also takes from a variable (`--format`/`MLPROV_FORMAT`,
//! `--offline`/`MLPROV_OFFLINE`, the keyless URLs, `--trusted-root`,
//! `--identity-token`/`SIGSTORE_ID_TOKEN`) are parsed by clap, their one
//! parser; everything else is here, kept as text until the setting that
//! needs it parses it, strictly, with an error that names the variable.

use std::ffi::OsString;
use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::run::Clock;

pub const MLPROV_HOME: &str = "MLPROV_HOME";
pub const MLPROV_CACHE_DIR: &str = "MLPROV_CACHE_DIR";
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";
pub const REGISTRY_PLAIN_HTTP: &str = "MLPROV_REGISTRY_PLAIN_HTTP";
pub const REGISTRY_INSECURE: &str = "MLPROV_REGISTRY_INSECURE";
pub const REGISTRY_TIMEOUT: &str = "MLPROV_REGISTRY_TIMEOUT";
pub const REGISTRY_USERNAME: &str = "MLPROV_REGISTRY_USERNAME";
pub const REGISTRY_PASSWORD: &str = "MLPROV_REGISTRY_PASSWORD";
/// Hidden: how often a plain progress line is printed without a terminal
/// (`10s` by default; tests use `200ms`).
pub const PROGRESS_INTERVAL: &str = "MLPROV_PROGRESS_INTERVAL";
pub const SERVE_LISTEN: &str = "MLPROV_SERVE_LISTEN";
pub const SERVE_TLS_CERT: &str = "MLPROV_SERVE_TLS_CERT";
pub const SERVE_TLS_KEY: &str = "MLPROV_SERVE_TLS_KEY";
pub const SERVE_DEADLINE_MS: &str = "MLPROV_SERVE_DEADLINE_MS";
pub const SERVE_CACHE_TTL: &str = "MLPROV_SERVE_CACHE_TTL";
pub const SERVE_MAX_REQUEST_BYTES: &str = "MLPROV_SERVE_MAX_REQUEST_BYTES";

/// A variable holds a value mlprov cannot use.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{name}={value:?} is not {expected}")]
#[diagnostic(
    code("mlprov::settings::bad-variable"),
    help("set {name} to {example}, or unset it")
)]
pub struct BadVariable {
    pub name: &'static str,
    pub value: String,
    pub expected: &'static str,
    pub example: &'static str,
}

/// Every environment variable mlprov looks at. Empty values count as
/// unset, except the passwords (an empty password is a password, as cosign
/// treats it).
#[derive(Clone, Default)]
pub struct EnvironmentOptions {
    // Where things live.
    pub mlprov_home: Option<PathBuf>,
    pub mlprov_cache_dir: Option<PathBuf>,
    // Hugging Face, as huggingface_hub reads them.
    pub hf_home: Option<PathBuf>,
    pub xdg_cache_home: Option<PathBuf>,
    pub hf_hub_cache: Option<PathBuf>,
    pub huggingface_hub_cache: Option<PathBuf>,
    pub hf_token: Option<String>,
    pub hugging_face_hub_token: Option<String>,
    pub hf_endpoint: Option<String>,
    pub hf_hub_offline: Option<String>,
    // `--offline`'s variable, read again here only to name it in messages
    // (clap parses it).
    pub mlprov_offline: Option<String>,
    // Reproducibility.
    pub source_date_epoch: Option<String>,
    // Registries.
    pub registry_plain_http: Option<String>,
    pub registry_insecure: Option<String>,
    pub registry_timeout: Option<String>,
    pub registry_username: Option<String>,
    pub registry_password: Option<String>,
    pub docker_config: Option<PathBuf>,
    // mlprov serve
    pub serve_listen: Option<String>,
    pub serve_tls_cert: Option<PathBuf>,
    pub serve_tls_key: Option<PathBuf>,
    pub serve_deadline_ms: Option<String>,
    pub serve_cache_ttl: Option<String>,
    pub serve_max_request_bytes: Option<String>,
    // Keys.
    pub mlprov_password: Option<Zeroizing<String>>,
    pub cosign_password: Option<Zeroizing<String>>,
    // CI and GitHub Actions.
    pub ci: Option<String>,
    pub github_actions: Option<String>,
    pub github_step_summary: Option<PathBuf>,
    pub github_output: Option<PathBuf>,
    pub github_workspace: Option<PathBuf>,
    pub github_workflow_ref: Option<String>,
    pub github_server_url: Option<String>,
    pub actions_id_token_request_url: Option<String>,
    pub actions_id_token_request_token: Option<String>,
    // The terminal.
    pub no_color: Option<String>,
    pub columns: Option<String>,
    pub term: Option<String>,
    pub progress_interval: Option<String>,
    // The user's shell and directories (`completions --install`, `man --install`).
    pub shell: Option<PathBuf>,
    pub xdg_data_home: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub bash_completion_user_dir: Option<PathBuf>,
    // `PATH`, to see which programs exist (`init`: `python` or `python3`).
    pub path: Option<OsString>,
    // Dynamic completion (`COMPLETE=bash mlprov …`, set by the registered
    // shell function): the word being completed and the separator.
    pub clap_complete_index: Option<String>,
    pub clap_ifs: Option<String>,
    // Limits on outside input (`MLPROV_MAX_BUNDLE_BYTES`, …), as set.
    pub limits: Vec<(crate::limits::Limit, String)>,
}

impl std::fmt::Debug for EnvironmentOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets.
        f.debug_struct("EnvironmentOptions")
            .field("mlprov_home", &self.mlprov_home)
            .field("mlprov_cache_dir", &self.mlprov_cache_dir)
            .field("source_date_epoch", &self.source_date_epoch)
            .field("ci", &self.ci)
            .finish_non_exhaustive()
    }
}

impl EnvironmentOptions {
    /// Read the process environment.
    pub fn read() -> Self {
        Self::from_lookup(|k| std::env::var_os(k))
    }

    /// Read from `lookup` (the process environment, or a test's map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Self {
        let raw = |k: &str| lookup(k).map(|v| v.to_string_lossy().into_owned());
        let text = |k: &str| raw(k).filter(|v| !v.is_empty());
        let path = |k: &str| lookup(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let secret = |k: &str| raw(k).map(Zeroizing::new);
        Self {
            mlprov_home: path(MLPROV_HOME),
            mlprov_cache_dir: path(MLPROV_CACHE_DIR),
            hf_home: path("HF_HOME"),
            xdg_cache_home: path("XDG_CACHE_HOME"),
            hf_hub_cache: path("HF_HUB_CACHE"),
            huggingface_hub_cache: path("HUGGINGFACE_HUB_CACHE"),
            hf_token: text("HF_TOKEN"),
            hugging_face_hub_token: text("HUGGING_FACE_HUB_TOKEN"),
            hf_endpoint: text("HF_ENDPOINT"),
            hf_hub_offline: text("HF_HUB_OFFLINE"),
            mlprov_offline: text("MLPROV_OFFLINE"),
            source_date_epoch: raw(SOURCE_DATE_EPOCH).filter(|v| !v.trim().is_empty()),
            registry_plain_http: text(REGISTRY_PLAIN_HTTP),
            registry_insecure: text(REGISTRY_INSECURE),
            registry_timeout: text(REGISTRY_TIMEOUT),
            registry_username: text(REGISTRY_USERNAME),
            registry_password: text(REGISTRY_PASSWORD),
            docker_config: path("DOCKER_CONFIG"),
            serve_listen: text(SERVE_LISTEN),
            serve_tls_cert: path(SERVE_TLS_CERT),
            serve_tls_key: path(SERVE_TLS_KEY),
            serve_deadline_ms: text(SERVE_DEADLINE_MS),
            serve_cache_ttl: text(SERVE_CACHE_TTL),
            serve_max_request_bytes: text(SERVE_MAX_REQUEST_BYTES),
            mlprov_password: secret("MLPROV_PASSWORD"),
            cosign_password: secret("COSIGN_PASSWORD"),
            ci: text("CI"),
            github_actions: text("GITHUB_ACTIONS"),
            github_step_summary: path("GITHUB_STEP_SUMMARY"),
            github_output: path("GITHUB_OUTPUT"),
            github_workspace: path("GITHUB_WORKSPACE"),
            github_workflow_ref: text("GITHUB_WORKFLOW_REF"),
            github_server_url: text("GITHUB_SERVER_URL"),
            actions_id_token_request_url: text("ACTIONS_ID_TOKEN_REQUEST_URL"),
            actions_id_token_request_token: text("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
            no_color: text("NO_COLOR"),
            columns: text("COLUMNS"),
            term: text("TERM"),
            progress_interval: text(PROGRESS_INTERVAL),
            shell: path("SHELL"),
            xdg_data_home: path("XDG_DATA_HOME"),
            xdg_config_home: path("XDG_CONFIG_HOME"),
            bash_completion_user_dir: path("BASH_COMPLETION_USER_DIR"),
            path: lookup("PATH"),
            clap_complete_index: text("_CLAP_COMPLETE_INDEX"),
            clap_ifs: raw("_CLAP_IFS"),
            limits: crate::limits::Limit::ALL
                .iter()
                .filter_map(|l| text(l.variable()).map(|v| (*l, v)))
                .collect(),
        }
    }

    /// The user's data directory: `XDG_DATA_HOME`, else `~/.local/share`.
    pub fn data_home(&self) -> Option<PathBuf> {
        self.xdg_data_home
            .clone()
            .or_else(|| dirs::home_dir().map(|h| h.join(".local").join("share")))
    }

    /// The user's config directory: `XDG_CONFIG_HOME`, else `~/.config`.
    pub fn config_home(&self) -> Option<PathBuf> {
        self.xdg_config_home
            .clone()
            .or_else(|| dirs::home_dir().map(|h| h.join(".config")))
    }

    /// From `NAME=value` pairs (tests).
    #[cfg(test)]
    pub(crate) fn from_pairs(vars: &[(&str, &str)]) -> Self {
        Self::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        })
    }

    /// Whether `program` is an executable file in a `PATH` directory.
    pub fn on_path(&self, program: &str) -> bool {
        use std::os::unix::fs::PermissionsExt;
        self.path.as_ref().is_some_and(|p| {
            std::env::split_paths(p).any(|d| {
                std::fs::metadata(d.join(program))
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
        })
    }

    /// `CI` is set to anything but `false`: never prompt.
    pub fn ci(&self) -> bool {
        self.ci.as_deref().is_some_and(|v| v != "false")
    }

    /// `GITHUB_ACTIONS=true`.
    pub fn github_actions(&self) -> bool {
        self.github_actions.as_deref() == Some("true")
    }

    /// `NO_COLOR` is set (to anything).
    pub fn no_color(&self) -> bool {
        self.no_color.is_some()
    }

    /// `TERM=dumb`: a terminal that cannot move the cursor.
    pub fn dumb_terminal(&self) -> bool {
        self.term.as_deref() == Some("dumb")
    }

    /// `MLPROV_PROGRESS_INTERVAL` (`200ms`, `10s`, `1.5`: seconds), if set.
    pub fn progress_interval(&self) -> Result<Option<std::time::Duration>, BadVariable> {
        let Some(v) = self.progress_interval.as_deref() else {
            return Ok(None);
        };
        let bad = || BadVariable {
            name: PROGRESS_INTERVAL,
            value: v.to_string(),
            expected: "a duration of at least 10 ms",
            example: "`10s` or `200ms`",
        };
        let t = v.trim();
        let secs = if let Some(ms) = t.strip_suffix("ms") {
            ms.trim().parse::<f64>().map(|m| m / 1000.0)
        } else {
            t.strip_suffix('s').unwrap_or(t).trim().parse::<f64>()
        }
        .map_err(|_| bad())?;
        if !secs.is_finite() || !(0.01..=86_400.0).contains(&secs) {
            return Err(bad());
        }
        Ok(Some(std::time::Duration::from_secs_f64(secs)))
    }

    /// The terminal width for error reports (`COLUMNS`, else 100).
    pub fn columns(&self) -> usize {
        self.columns
            .as_deref()
            .and_then(|c| c.trim().parse().ok())
            .filter(|c| *c > 0)
            .unwrap_or(100)
    }

    /// `HF_HUB_OFFLINE`, truthy as huggingface_hub reads it (`1`, `true`,
    /// `yes`, `on`; anything else is online, as there).
    pub fn hf_hub_offline(&self) -> bool {
        self.hf_hub_offline
            .as_deref()
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
    }

    /// The password for a private key: `MLPROV_PASSWORD`, then
    /// `COSIGN_PASSWORD`.
    pub fn key_password(&self) -> Option<Zeroizing<String>> {
        self.mlprov_password
            .clone()
            .or_else(|| self.cosign_password.clone())
    }

    /// Where timestamps come from: `SOURCE_DATE_EPOCH` (whole seconds since
    /// 1970, reproducible builds) or the wall clock. The one parser of
    /// `SOURCE_DATE_EPOCH`: a value that is not a time is an error.
    pub fn clock(&self) -> Result<Clock, BadVariable> {
        let Some(v) = &self.source_date_epoch else {
            return Ok(Clock::Wall);
        };
        v.trim()
            .parse::<i64>()
            .ok()
            .filter(|s| chrono::DateTime::from_timestamp(*s, 0).is_some())
            .map(Clock::Fixed)
            .ok_or_else(|| BadVariable {
                name: SOURCE_DATE_EPOCH,
                value: v.clone(),
                expected: "a number of seconds since 1970-01-01",
                example: "a Unix time such as `$(git log -1 --format=%ct)`",
            })
    }

    /// The builder id: the GitHub Actions workflow identity when running
    /// there, else the local builder.
    pub fn builder_id(&self) -> String {
        if self.github_actions()
            && let Some(wf) = &self.github_workflow_ref
        {
            let server = self
                .github_server_url
                .as_deref()
                .unwrap_or("https://github.com");
            return format!("{}/{wf}", server.trim_end_matches('/'));
        }
        crate::intoto::BUILDER_LOCAL.to_string()
    }
}

/// A boolean variable: `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`
/// (any case), as clap reads the boolean flags.
pub fn parse_bool(name: &'static str, value: Option<&str>) -> Result<Option<bool>, BadVariable> {
    let Some(v) = value else { return Ok(None) };
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "on" | "t" => Ok(Some(true)),
        "0" | "false" | "no" | "n" | "off" | "f" => Ok(Some(false)),
        _ => Err(BadVariable {
            name,
            value: v.to_string(),
            expected: "a boolean",
            example: "1 or 0 (true/false, yes/no, on/off)",
        }),
    }
}

/// A whole number of seconds.
pub fn parse_seconds(name: &'static str, value: Option<&str>) -> Result<Option<u64>, BadVariable> {
    let Some(v) = value else { return Ok(None) };
    v.trim().parse().map(Some).map_err(|_| BadVariable {
        name,
        value: v.to_string(),
        expected: "a whole number of seconds",
        example: "a whole number, e.g. 60",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> EnvironmentOptions {
        EnvironmentOptions::from_pairs(vars)
    }

    #[test]
    fn source_date_epoch_is_strict() {
        assert_eq!(env(&[]).clock().unwrap(), Clock::Wall);
        assert_eq!(
            env(&[("SOURCE_DATE_EPOCH", " ")]).clock().unwrap(),
            Clock::Wall
        );
        assert_eq!(
            env(&[("SOURCE_DATE_EPOCH", "1700000000")]).clock().unwrap(),
            Clock::Fixed(1_700_000_000)
        );
        let e = env(&[("SOURCE_DATE_EPOCH", "yesterday")])
            .clock()
            .unwrap_err();
        assert!(
            e.to_string().contains("SOURCE_DATE_EPOCH=\"yesterday\""),
            "{e}"
        );
    }

    #[test]
    fn booleans_and_seconds_name_the_variable() {
        assert_eq!(parse_bool("X", Some("ON")).unwrap(), Some(true));
        assert_eq!(parse_bool("X", Some("0")).unwrap(), Some(false));
        assert_eq!(parse_bool("X", None).unwrap(), None);
        assert!(
            parse_bool("X", Some("maybe"))
                .unwrap_err()
                .to_string()
                .starts_with("X=")
        );
        assert_eq!(parse_seconds("T", Some("30")).unwrap(), Some(30));
        assert!(parse_seconds("T", Some("1m")).is_err());
    }

    #[test]
    fn empty_values_are_unset_except_passwords() {
        let e = env(&[
            ("MLPROV_HOME", ""),
            ("MLPROV_PASSWORD", ""),
            ("CI", "false"),
        ]);
        assert!(e.mlprov_home.is_none());
        assert_eq!(e.key_password().as_deref().map(|s| s.as_str()), Some(""));
        assert!(!e.ci());
    }
}
