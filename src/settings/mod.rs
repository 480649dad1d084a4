//! Settings, resolved before any work starts.
//!
//! The environment is read once ([`env::EnvironmentOptions::read`]); then
//! the global settings ([`GlobalSettings`]: working directory, offline,
//! interactivity, where things live, the output) and, per command, the
//! registry ([`registry`]), trust ([`trust`], [`policy`]) and signing
//! ([`signing`]) settings are merged from flags, the environment and
//! defaults, once. The domain takes the plain structs this produces
//! (`HfSettings`, `registry::Access`, a `Clock`, [`Paths`]) and never looks
//! at flags or variables itself.
//!
//! Settings never prompt and never print results: a command hands in the
//! [`Printer`] (for notes) and, for key passwords, a
//! [`signing::PasswordSource`].

pub mod env;
pub mod limits;
pub mod policy;
pub mod registry;
pub mod serve;
pub mod signing;
pub mod trust;
pub mod verify;

use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::output::{GitHubFiles, OutputOptions};
use crate::resolve::hf::HfSettings;
use crate::store::Store;

pub use env::EnvironmentOptions;

/// A setting that cannot be resolved.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SettingsError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Variable(#[from] env::BadVariable),

    #[error("-C {0}: not a directory")]
    #[diagnostic(
        code(mlprov::settings::directory),
        help("pass an existing directory to -C")
    )]
    Directory(String),

    #[error("cannot read the current directory: {0}")]
    #[diagnostic(code(mlprov::settings::cwd))]
    Cwd(std::io::Error),
}

/// Where mlprov keeps its own state.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The data home holding the local store (`MLPROV_HOME`, else the
    /// platform data dir, `~/.local/share/mlprov`).
    pub home: PathBuf,
    /// The hash and download cache (`MLPROV_CACHE_DIR`, else the platform
    /// cache dir, `~/.cache/mlprov`).
    pub cache: PathBuf,
}

impl Paths {
    pub fn resolve(env: &EnvironmentOptions) -> Self {
        let fallback = |d: Option<PathBuf>| d.unwrap_or_else(std::env::temp_dir).join("mlprov");
        Self {
            home: env
                .mlprov_home
                .clone()
                .unwrap_or_else(|| fallback(dirs::data_dir())),
            cache: env
                .mlprov_cache_dir
                .clone()
                .unwrap_or_else(|| fallback(dirs::cache_dir())),
        }
    }

    /// The local store.
    pub fn store(&self) -> Store {
        Store::new(&self.home)
    }

    /// Where a TUF refresh keeps the verified Sigstore trusted root.
    pub fn tuf_dir(&self) -> PathBuf {
        self.home.join("sigstore")
    }

    /// The hash cache file.
    pub fn hash_cache(&self) -> PathBuf {
        crate::digest::HashCache::default_path(&self.cache)
    }
}

/// Settings every command shares.
#[derive(Debug, Clone)]
pub struct GlobalSettings {
    /// The working directory (after `-C`).
    pub cwd: PathBuf,
    /// `--offline` or `MLPROV_OFFLINE`: no network at all.
    pub offline: bool,
    /// What made mlprov offline, for messages: `--offline` or
    /// `MLPROV_OFFLINE=…` (the flag when neither did).
    pub offline_cause: &'static str,
    /// Hugging Face only is offline (`HF_HUB_OFFLINE`, as huggingface_hub
    /// reads it): registries, Sigstore and URLs still work. Holds the cause.
    pub hf_offline: Option<&'static str>,
    /// stdin and stderr are terminals, `CI` is unset and this is not GitHub
    /// Actions: prompts are allowed.
    pub interactive: bool,
    pub paths: Paths,
    /// The limits on outside input (`MLPROV_MAX_*`), also installed for the
    /// process ([`crate::limits::install`]).
    pub limits: crate::limits::Limits,
    /// The environment as read at start.
    pub env: EnvironmentOptions,
}

/// The flag or variable that made mlprov offline: `MLPROV_OFFLINE=1` when
/// that variable is set to a true value (clap takes `--offline` from it),
/// else `--offline`.
fn offline_cause(offline: bool, env: &EnvironmentOptions) -> &'static str {
    let var = env.mlprov_offline.as_deref().is_some_and(|v| {
        matches!(
            v.to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on" | "y"
        )
    });
    if offline && var {
        "MLPROV_OFFLINE"
    } else {
        "--offline"
    }
}

impl GlobalSettings {
    pub fn resolve(args: &GlobalArgs, env: EnvironmentOptions) -> Result<Self, SettingsError> {
        use std::io::IsTerminal;
        let base = std::env::current_dir().map_err(SettingsError::Cwd)?;
        let cwd = match &args.directory {
            Some(d) => {
                let d = base.join(d);
                if !d.is_dir() {
                    return Err(SettingsError::Directory(d.display().to_string()));
                }
                d
            }
            None => base,
        };
        env.progress_interval()?;
        let interactive = !env.ci()
            && !env.github_actions()
            && std::io::stdin().is_terminal()
            && std::io::stderr().is_terminal();
        let limits = limits::resolve(&env)?;
        crate::limits::install(limits.clone());
        Ok(Self {
            cwd,
            limits,
            offline: args.offline,
            offline_cause: offline_cause(args.offline, &env),
            hf_offline: if args.offline {
                Some(offline_cause(true, &env))
            } else if env.hf_hub_offline() {
                Some("HF_HUB_OFFLINE")
            } else {
                None
            },
            interactive,
            paths: Paths::resolve(&env),
            env,
        })
    }

    /// How to undo what made mlprov offline: `drop --offline` or
    /// `unset MLPROV_OFFLINE`.
    pub fn online_hint(&self) -> String {
        if self.offline_cause == "--offline" {
            "drop --offline".to_string()
        } else {
            format!("unset {}", self.offline_cause)
        }
    }

    /// The Hugging Face Hub settings.
    pub fn hf(&self) -> HfSettings {
        hf_settings(&self.env)
    }
}

/// How the [`Printer`] writes: the global flags and the environment.
pub fn output_options(args: &GlobalArgs, env: &EnvironmentOptions) -> OutputOptions {
    OutputOptions {
        format: args.format,
        quiet: args.quiet,
        verbose: args.verbose,
        color: args.color,
        no_color: env.no_color(),
        github: env.github_actions().then(|| GitHubFiles {
            summary: env.github_step_summary.clone(),
            output: env.github_output.clone(),
            workspace: env.github_workspace.clone(),
            cwd: std::env::current_dir().ok(),
        }),
        // A bar needs cursor movement: not under NO_COLOR, in CI or on a
        // dumb terminal.
        plain_progress: env.no_color() || env.ci() || env.dumb_terminal(),
        // A bad value is refused by `GlobalSettings::resolve`.
        progress_interval: env
            .progress_interval()
            .ok()
            .flatten()
            .unwrap_or(OutputOptions::DEFAULT_PROGRESS_INTERVAL),
    }
}

/// Hub settings as huggingface_hub reads them: `HF_ENDPOINT` (default
/// `https://huggingface.co`); the cache `HF_HUB_CACHE`, else
/// `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub` (`HF_HOME` defaulting to
/// `$XDG_CACHE_HOME/huggingface`); the token `HF_TOKEN`, else
/// `HUGGING_FACE_HUB_TOKEN`, else the file `huggingface-cli login` writes.
pub fn hf_settings(env: &EnvironmentOptions) -> HfSettings {
    let hf_home = env.hf_home.clone().unwrap_or_else(|| {
        env.xdg_cache_home
            .clone()
            .or_else(dirs::cache_dir)
            .unwrap_or_else(std::env::temp_dir)
            .join("huggingface")
    });
    let cache_dir = env
        .hf_hub_cache
        .clone()
        .or_else(|| env.huggingface_hub_cache.clone())
        .unwrap_or_else(|| hf_home.join("hub"));
    let token = env
        .hf_token
        .clone()
        .or_else(|| env.hugging_face_hub_token.clone())
        .or_else(|| {
            std::fs::read_to_string(hf_home.join("token"))
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        });
    let endpoint = env
        .hf_endpoint
        .as_deref()
        .unwrap_or("https://huggingface.co")
        .trim_end_matches('/')
        .to_string();
    HfSettings::new(endpoint, cache_dir, token)
}
