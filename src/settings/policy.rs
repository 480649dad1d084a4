//! The verification policy: `--policy FILE.toml`, else the project's
//! `[policy]`, plus any `--policy FILE.rego`, resolved with the trust the
//! flags give.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{IntoDiagnostic, Result, WrapErr};

use super::GlobalSettings;
use crate::cli::GraphPolicyArgs;
use crate::digest::Sha256Digest;
use crate::project::Project;
use crate::sign::keyless::TrustedRoot;
use crate::sign::trust::Trust;
use crate::verify::policy::{self as vpolicy, CliTrust, VerifyPolicy};

/// The policy for one verification. `cli` is the trust the flags give,
/// `require` the `--require`d predicate types, and `sigstore` loads the
/// trusted root when a policy signer needs it.
pub fn load(
    s: &GlobalSettings,
    args: &GraphPolicyArgs,
    require: &[String],
    cli: &Trust,
    sigstore: &dyn Fn() -> std::result::Result<Arc<TrustedRoot>, String>,
) -> Result<VerifyPolicy> {
    let mut toml_file = None;
    let mut rego_files: Vec<PathBuf> = Vec::new();
    for p in &args.policy {
        let full = s.cwd.join(p);
        match full.extension().and_then(|e| e.to_str()) {
            Some("rego") => rego_files.push(full),
            Some("toml") if toml_file.is_none() => toml_file = Some(full),
            Some("toml") => miette::bail!(
                code = "mlprov::usage",
                help = "merge the policies into one file; add Rego rules with more .rego files",
                "--policy: more than one .toml policy given"
            ),
            _ => miette::bail!(
                code = "mlprov::usage",
                help = "a policy is a .toml file ([policy] keys) or a .rego file",
                "--policy {}: not a .toml or .rego file",
                p.display()
            ),
        }
    }
    let (policy, source, digest, base) = match &toml_file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot read policy {}", f.display()))?;
            let p = crate::policy::parse_file(&text, &f.display().to_string())?;
            let base = f.parent().map(|b| b.to_path_buf()).unwrap_or_default();
            (
                p,
                Some(f.display().to_string()),
                Some(Sha256Digest::of(text.as_bytes())),
                base,
            )
        }
        None => match Project::discover(&s.cwd) {
            Ok(project) => {
                let path = project.manifest_path();
                let m = crate::manifest::Manifest::load(&path)?;
                let bytes = std::fs::read(&path).unwrap_or_default();
                (
                    m.policy,
                    Some(path.display().to_string()),
                    Some(Sha256Digest::of(&bytes)),
                    project.root.clone(),
                )
            }
            Err(_) => (crate::policy::Policy::default(), None, None, s.cwd.clone()),
        },
    };
    let mut vp = vpolicy::resolve(
        &policy,
        source,
        digest,
        &base,
        CliTrust {
            trust: cli,
            require,
            sigstore,
        },
    )?;
    if !rego_files.is_empty() {
        let refs: Vec<&Path> = rego_files.iter().map(|p| p.as_path()).collect();
        vp.rego = Some(crate::verify::rego::RegoPolicy::load(
            &refs,
            &args.policy_query,
        )?);
    }
    Ok(vp)
}
