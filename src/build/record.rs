//! The run record of a build that runs (or skips) the training command here:
//! what it is asked to run, the code, config and environment it runs with,
//! and its invocation id.

use std::collections::BTreeMap;
use std::path::Path;

use crate::digest::Sha256Digest;
use crate::manifest::Manifest;
use crate::run::{self, Clock, GitState, RunError, RunKind, RunRecord};

/// What the command asks of the run.
pub struct RunRequest<'a> {
    /// The bytes of `mlprov.toml`.
    pub manifest_bytes: &'a [u8],
    /// The bytes of `mlprov.lock`, when there is one.
    pub lock_bytes: Option<&'a [u8]>,
    /// A command given after `--` (else `[training].command`).
    pub command: &'a [String],
    /// `--skip-training`: record a packaging-only build.
    pub skip_training: bool,
    /// `--param k=v` extras.
    pub params: &'a BTreeMap<String, String>,
    pub allow_dirty: bool,
    pub clock: Clock,
}

/// The record of a run about to start: argv, git state, config, Python
/// environment, invocation id and `startedOn`. A run with an empty argv is a
/// packaging-only build; the caller runs the command and then records its
/// exit status and `finishedOn`.
pub fn start_run(
    manifest: &Manifest,
    root: &Path,
    git: Option<GitState>,
    req: &RunRequest<'_>,
) -> Result<RunRecord, RunError> {
    let training = manifest.training.clone().unwrap_or_default();
    let config = training
        .config
        .as_deref()
        .map(|c| run::read_config(root, c))
        .transpose()?;
    let python = training
        .python
        .as_deref()
        .map(|p| run::python_env(p, root))
        .transpose()?;
    let argv: Vec<String> = if !req.command.is_empty() {
        req.command.to_vec()
    } else if req.skip_training {
        Vec::new()
    } else {
        training.command.clone()
    };
    let seed = invocation_seed(
        req.manifest_bytes,
        req.lock_bytes,
        &argv,
        config.as_ref().map(|c| c.digest.as_str()),
        req.params,
        git.as_ref().map(|g| g.commit.as_str()),
        req.clock,
    );
    Ok(RunRecord {
        version: run::RUN_VERSION,
        kind: RunKind::Packaging,
        invocation_id: run::invocation_id(&seed),
        argv,
        started_on: req.clock.now(),
        finished_on: String::new(),
        exit_status: None,
        git,
        allow_dirty: req.allow_dirty,
        config,
        parameters: req.params.clone(),
        python,
        recorded_by: Some(crate::VERSION.to_string()),
    })
}

/// What the invocation id is derived from: the run's inputs, and (unless
/// SOURCE_DATE_EPOCH pins the build) the wall clock and process id.
pub fn invocation_seed(
    manifest: &[u8],
    lock: Option<&[u8]>,
    argv: &[String],
    config_digest: Option<&str>,
    params: &BTreeMap<String, String>,
    commit: Option<&str>,
    clock: Clock,
) -> Vec<u8> {
    let mut seed = Vec::new();
    let mut part = |b: &[u8]| {
        seed.extend_from_slice(&(b.len() as u64).to_le_bytes());
        seed.extend_from_slice(b);
    };
    part(&Sha256Digest::of(manifest).0);
    part(
        &lock
            .map(Sha256Digest::of)
            .unwrap_or_else(Sha256Digest::empty)
            .0,
    );
    for a in argv {
        part(a.as_bytes());
    }
    part(config_digest.unwrap_or("").as_bytes());
    for (k, v) in params {
        part(k.as_bytes());
        part(v.as_bytes());
    }
    part(commit.unwrap_or("").as_bytes());
    match clock {
        Clock::Fixed(t) => part(&t.to_le_bytes()),
        Clock::Wall => part(&run::wall_entropy()),
    }
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_is_fixed_under_source_date_epoch_and_names_every_input() {
        let params = BTreeMap::from([("lr".to_string(), "0.1".to_string())]);
        let argv = ["python".to_string(), "train.py".into()];
        let seed = |commit: Option<&str>, clock| {
            invocation_seed(b"m", Some(b"l"), &argv, Some("c"), &params, commit, clock)
        };
        let a = seed(Some("abc"), Clock::Fixed(1));
        assert_eq!(a, seed(Some("abc"), Clock::Fixed(1)));
        assert_ne!(a, seed(Some("abd"), Clock::Fixed(1)));
        assert_ne!(a, seed(Some("abc"), Clock::Fixed(2)));
    }
}
