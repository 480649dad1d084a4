//! Registry settings: the flags (`--plain-http`, `--insecure`,
//! `--timeout`, `--username` + `--password-stdin`) merged with the
//! environment (`MLPROV_REGISTRY_PLAIN_HTTP`, `MLPROV_REGISTRY_INSECURE`,
//! `MLPROV_REGISTRY_TIMEOUT`, `MLPROV_REGISTRY_USERNAME`/`_PASSWORD`,
//! `DOCKER_CONFIG`), once, into a [`registry::Access`] that gives the
//! settings for the target and for every registry a dependency names.

use std::io::Read;
use std::time::Duration;

use crate::cli::RegistryArgs;
use crate::registry::{self, Access, Login};

use super::env::{
    self, EnvironmentOptions, REGISTRY_INSECURE, REGISTRY_PASSWORD, REGISTRY_PLAIN_HTTP,
    REGISTRY_TIMEOUT, REGISTRY_USERNAME,
};

/// Registry settings that cannot be resolved.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RegistrySettingsError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Variable(#[from] env::BadVariable),

    #[error("only one of {REGISTRY_USERNAME} and {REGISTRY_PASSWORD} is set")]
    #[diagnostic(
        code("mlprov::settings::registry-login"),
        help("set both, or neither to use ~/.docker/config.json")
    )]
    HalfLogin,

    #[error("--password-stdin: stdin was empty")]
    #[diagnostic(
        code("mlprov::settings::password-stdin"),
        help(
            "pipe the password in, e.g. `printf %s \"$TOKEN\" | mlprov push --username me --password-stdin`"
        )
    )]
    EmptyPassword,

    #[error("cannot read the password from stdin: {0}")]
    #[diagnostic(code("mlprov::settings::password-stdin"))]
    Stdin(std::io::Error),
}

/// How to reach registries. `args` are the command's flags (none for
/// commands without registry flags: the environment alone); `named` are
/// the registries the command names itself (its target, `--registry`
/// repositories), which a `--username` login is for: other registries a
/// dependency names get the environment's or Docker's credentials only.
/// The password is read from stdin here, once, when a login is given and a
/// registry is named.
pub fn access(
    args: Option<&RegistryArgs>,
    named: &[&str],
    env: &EnvironmentOptions,
) -> Result<Access, RegistrySettingsError> {
    let env_plain = env::parse_bool(REGISTRY_PLAIN_HTTP, env.registry_plain_http.as_deref())?;
    let env_insecure = env::parse_bool(REGISTRY_INSECURE, env.registry_insecure.as_deref())?;
    let env_timeout = env::parse_seconds(REGISTRY_TIMEOUT, env.registry_timeout.as_deref())?;
    let env_login = match (&env.registry_username, &env.registry_password) {
        (Some(u), Some(p)) => Some((u.clone(), p.clone())),
        (None, None) => None,
        _ => return Err(RegistrySettingsError::HalfLogin),
    };
    let flag = |f: fn(&RegistryArgs) -> bool| args.is_some_and(f);
    let timeout = args
        .and_then(|a| a.timeout)
        .or(env_timeout)
        .unwrap_or(registry::Settings::DEFAULT_TIMEOUT.as_secs());
    let login = match args {
        Some(a) if a.password_stdin && !named.is_empty() => match &a.username {
            Some(username) => Some(Login {
                registries: named.iter().map(|r| r.to_string()).collect(),
                username: username.clone(),
                password: read_password_stdin()?,
            }),
            None => None,
        },
        _ => None,
    };
    Ok(Access {
        plain_http: flag(|a| a.plain_http) || env_plain.unwrap_or(false),
        insecure: flag(|a| a.insecure) || env_insecure.unwrap_or(false),
        timeout: Duration::from_secs(timeout.max(1)),
        attempts: registry::Settings::DEFAULT_ATTEMPTS,
        login,
        env_login,
        docker_config: env
            .docker_config
            .as_ref()
            .map(|d| d.join("config.json"))
            .or_else(|| dirs::home_dir().map(|h| h.join(".docker").join("config.json"))),
    })
}

fn read_password_stdin() -> Result<String, RegistrySettingsError> {
    let mut pw = String::new();
    std::io::stdin()
        .read_to_string(&mut pw)
        .map_err(RegistrySettingsError::Stdin)?;
    let pw = pw.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        return Err(RegistrySettingsError::EmptyPassword);
    }
    Ok(pw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> EnvironmentOptions {
        EnvironmentOptions::from_pairs(vars)
    }

    #[test]
    fn flags_and_environment_merge_once() {
        let a = access(
            None,
            &[],
            &env(&[(REGISTRY_PLAIN_HTTP, "1"), (REGISTRY_TIMEOUT, "5")]),
        )
        .unwrap();
        assert!(a.plain_http && !a.insecure);
        assert_eq!(a.timeout, Duration::from_secs(5));
        let args = RegistryArgs {
            plain_http: false,
            insecure: true,
            username: None,
            password_stdin: false,
            timeout: Some(9),
        };
        let a = access(Some(&args), &[], &env(&[(REGISTRY_TIMEOUT, "5")])).unwrap();
        assert!(!a.plain_http && a.insecure);
        assert_eq!(a.timeout, Duration::from_secs(9));
        assert!(access(None, &[], &env(&[(REGISTRY_INSECURE, "maybe")])).is_err());
        assert!(access(None, &[], &env(&[(REGISTRY_USERNAME, "me")])).is_err());
    }
}
