//! An isolated environment per test and the outcome of one run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary cargo built for this test run.
const CARGO_BIN: &str = env!("CARGO_BIN_EXE_mlprov");

/// The binary under test: a hard link to cargo's (a copy where links do not
/// work), made once per run. `install` builds the wheel with the dev
/// profile, which links `target/debug/mlprov` again while other tests run;
/// the link keeps the file this run started with, so no test finds it
/// missing half-way.
pub fn bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = Path::new(CARGO_BIN);
        let dir = cargo
            .parent()
            .expect("target/debug")
            .join("tmp")
            .join("under-test");
        // Links left by earlier runs whose process is gone.
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let pid = e.file_name().to_string_lossy().into_owned();
            if Path::new("/proc/self").exists() && !Path::new("/proc").join(&pid).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        // Named `mlprov` (clap names the program after argv[0]).
        let mine_dir = dir.join(std::process::id().to_string());
        std::fs::create_dir_all(&mine_dir).expect("mkdir target/debug/tmp/under-test/PID");
        let mine = mine_dir.join(cargo.file_name().expect("file name"));
        let _ = std::fs::remove_file(&mine);
        if std::fs::hard_link(cargo, &mine).is_err() {
            std::fs::copy(cargo, &mine).expect("copy the mlprov binary");
        }
        mine.to_string_lossy().into_owned()
    })
}

/// A private home, cache and HF cache for one test, so tests never share
/// state with each other or with the user's real directories.
pub struct TestEnv {
    pub tmp: tempfile::TempDir,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
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
        let mut c = Command::new(bin());
        c.current_dir(dir)
            .env("MLPROV_HOME", self.path().join("home"))
            .env("MLPROV_CACHE_DIR", self.path().join("cache"))
            .env("HF_HOME", self.path().join("hf"))
            .env("HF_ENDPOINT", "http://127.0.0.1:9")
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            // No periodic progress line in what tests compare, however
            // slow the machine (tests that want them set 200ms).
            .env("MLPROV_PROGRESS_INTERVAL", "86400s");
        for var in SCRUBBED {
            c.env_remove(var);
        }
        c
    }

    /// Run `mlprov ARGS` in `dir`.
    pub fn run(&self, dir: &Path, args: &[&str]) -> Run {
        Run::of(self.cmd(dir).args(args))
    }

    /// Run `mlprov ARGS` in `dir` with extra environment variables.
    pub fn run_env(&self, dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let mut c = self.cmd(dir);
        c.args(args);
        for (k, v) in vars {
            c.env(k, v);
        }
        Run::of(&mut c)
    }
}

/// Variables of the caller's environment that would change what mlprov
/// does; every test starts without them.
const SCRUBBED: &[&str] = &[
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_HUB_OFFLINE",
    "MLPROV_OFFLINE",
    "MLPROV_FORMAT",
    "MLPROV_PASSWORD",
    "COSIGN_PASSWORD",
    "MLPROV_REGISTRY_USERNAME",
    "MLPROV_REGISTRY_PASSWORD",
    "MLPROV_REGISTRY_PLAIN_HTTP",
    "MLPROV_REGISTRY_INSECURE",
    "MLPROV_REGISTRY_TIMEOUT",
    "MLPROV_FULCIO_URL",
    "MLPROV_REKOR_URL",
    "MLPROV_OIDC_ISSUER",
    "GITHUB_ACTIONS",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_OUTPUT",
    "GITHUB_WORKFLOW_REF",
    "SIGSTORE_ID_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "MLPROV_TRUSTED_ROOT",
    "SOURCE_DATE_EPOCH",
    "RUST_BACKTRACE",
];

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
    /// Spawn `cmd` (an mlprov command, possibly behind a wrapper such as
    /// `setpriv`), wait for it, and check that it did not panic and that a
    /// `--format json` document on stdout matches its committed schema.
    #[track_caller]
    pub fn of(cmd: &mut Command) -> Run {
        let r = Run::from(cmd.output().expect("spawn mlprov"));
        r.checked(cmd)
    }

    /// [`Run::of`] for a child spawned by the caller (e.g. with stdin).
    #[track_caller]
    pub fn of_child(cmd: &Command, child: std::process::Child) -> Run {
        let r = Run::from(child.wait_with_output().expect("wait for mlprov"));
        r.checked(cmd)
    }

    #[track_caller]
    fn checked(self, cmd: &Command) -> Run {
        assert!(
            !self.stderr.contains("panicked"),
            "mlprov panicked:\n{}",
            self.stderr
        );
        super::json_docs::check(cmd, &self);
        self
    }

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
