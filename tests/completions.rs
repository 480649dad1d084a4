//! Shell completion in real shells: bash, zsh and fish load the committed
//! completions/ script in a pseudo-terminal, and TAB offers the project's
//! own values (input names for `pin --update`, roles for `verify --role`),
//! which mlprov computes when
//! the shell asks it (`COMPLETE=<shell> mlprov -- …`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::*;

const MANIFEST: &str = r#"[artifact]
name = "acme/complete"
version = "0.3.0"
kind = "model"
path = "out/"

[inputs]
base-model = { hf = "org/base", revision = "main", role = "base-model" }
train-split = { path = "data/", role = "training-data" }

[publish]
registry = "localhost:5000/acme/complete"

[policy.roles.training-data]
require = ["https://slsa.dev/provenance/v1"]
"#;

/// A project, and a directory holding `mlprov` for PATH.
fn setup(env: &TestEnv) -> (PathBuf, PathBuf) {
    let dir = env.work().join("project");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("mlprov.toml"), MANIFEST).unwrap();
    let bin_dir = env.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(bin(), bin_dir.join("mlprov")).unwrap();
    (dir, bin_dir)
}

fn installed(shell: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(shell).is_file()));
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{shell} is not installed (.ci/run installs it)"
        );
        eprintln!("skipped: {shell} is not installed");
    }
    found
}

/// `program args` in a pty, in `dir`, with `mlprov` first on PATH.
fn spawn(
    env: &TestEnv,
    dir: &Path,
    bin_dir: &Path,
    program: &str,
    args: &[&str],
) -> rexpect::session::PtySession {
    let mut cmd = std::process::Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env("HOME", env.path().join("home"))
        .env("MLPROV_HOME", env.path().join("home"))
        .env("MLPROV_CACHE_DIR", env.path().join("cache"))
        .env("XDG_CONFIG_HOME", env.path().join("config"))
        .env("XDG_DATA_HOME", env.path().join("data"))
        .env("TERM", "xterm")
        .env_remove("COMPLETE")
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
    rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn in a pty")
}

fn script(name: &str) -> String {
    repo_root()
        .join("completions")
        .join(name)
        .display()
        .to_string()
}

/// Type `text` (rexpect buffers until a flush).
fn keys(p: &mut rexpect::session::PtySession, text: &str) {
    p.send(text).unwrap();
    p.flush().unwrap();
}

fn pause() {
    std::thread::sleep(Duration::from_millis(400));
}

#[test]
fn bash_completes_input_names_and_no_dash() {
    if !installed("bash") {
        return;
    }
    let env = TestEnv::new();
    let (dir, bin_dir) = setup(&env);
    let mut p = spawn(&env, &dir, &bin_dir, "bash", &["--norc", "--noprofile"]);
    p.send_line(&format!(
        "PS1='READ''Y> '; source {}",
        script("mlprov.bash")
    ))
    .unwrap();
    p.exp_string("READY> ").unwrap();
    keys(&mut p, "mlprov pin --update \t\t");
    p.exp_string("base-model").unwrap();
    p.exp_string("train-split").unwrap();
    // A unique prefix completes in full: run the line bash holds as `echo …`.
    keys(&mut p, "tr\t");
    pause();
    keys(&mut p, "\x01echo \r");
    p.exp_string("\r\nmlprov pin --update train-split").unwrap();
    p.exp_string("READY> ").unwrap();
    keys(&mut p, "mlprov verify --role \t\t");
    p.exp_string("training-data").unwrap();
    p.exp_string("test-data").unwrap();
    keys(&mut p, "\x03");
    p.exp_string("READY> ").unwrap();
    // `verify <TAB>` inserts no `-`, even where nothing but options could
    // come (an empty directory): type a marker after the TAB and look at the
    // line bash holds.
    std::fs::create_dir_all(env.path().join("empty")).unwrap();
    p.send_line(&format!("cd {}", env.path().join("empty").display()))
        .unwrap();
    p.exp_string("READY> ").unwrap();
    keys(&mut p, "mlprov verify \t");
    pause();
    keys(&mut p, "ZZ\x01echo \x05 END\r");
    let before = p.exp_string(" END\r\n").unwrap();
    let line = before.rsplit("\r\n").next().unwrap_or(&before).to_string();
    assert_eq!(line, "mlprov verify ZZ", "bash changed the word");
    p.send_line("exit").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn zsh_completes_input_names() {
    if !installed("zsh") {
        return;
    }
    let env = TestEnv::new();
    let (dir, bin_dir) = setup(&env);
    let mut p = spawn(&env, &dir, &bin_dir, "zsh", &["-f", "-i"]);
    p.send_line(&format!(
        "PS1='READ''Y> '; autoload -U compinit && compinit -u; source {}",
        script("_mlprov")
    ))
    .unwrap();
    p.exp_string("READY> ").unwrap();
    keys(&mut p, "mlprov pin --update \t");
    p.exp_string("base-model").unwrap();
    p.exp_string("train-split").unwrap();
    keys(&mut p, "\x03");
    p.exp_string("READY> ").unwrap();
    keys(&mut p, "mlprov verify --role \t");
    // zsh groups the roles that share a description, in its own order.
    p.exp_regex(
        "(?s)(test-data.*policy.roles.training-data|policy.roles.training-data.*test-data)",
    )
    .unwrap();
    keys(&mut p, "\x03");
    p.exp_string("READY> ").unwrap();
    p.send_line("exit").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn fish_completes_input_names() {
    if !installed("fish") {
        return;
    }
    let env = TestEnv::new();
    let (dir, bin_dir) = setup(&env);
    let mut p = spawn(
        &env,
        &dir,
        &bin_dir,
        "fish",
        &[
            "--no-config",
            "-i",
            "-C",
            &format!("source {}", script("mlprov.fish")),
        ],
    );
    pause();
    keys(&mut p, "mlprov pin --update \t");
    p.exp_string("base-model").unwrap();
    p.exp_string("train-split").unwrap();
    keys(&mut p, "\x03");
    pause();
    keys(&mut p, "mlprov verify --role \t");
    // zsh groups the roles that share a description, in its own order.
    p.exp_regex(
        "(?s)(test-data.*policy.roles.training-data|policy.roles.training-data.*test-data)",
    )
    .unwrap();
    keys(&mut p, "\x03");
    pause();
    p.send_line("exit").unwrap();
    p.exp_eof().unwrap();
}

/// What the shells run, without a shell: the values for each argument mlprov
/// completes itself.
#[test]
fn the_completer_offers_project_values() {
    let env = TestEnv::new();
    let (dir, _) = setup(&env);
    let ask = |words: &[&str]| {
        let mut c = env.cmd(&dir);
        c.env("COMPLETE", "fish")
            .arg("--")
            .arg("mlprov")
            .args(words);
        Run::of(&mut c).ok().stdout
    };
    let out = ask(&["pin", "--update", ""]);
    assert!(
        out.contains("base-model\tinput (base-model)") && out.contains("train-split"),
        "{out}"
    );
    let out = ask(&["attest", "import", ""]);
    assert!(
        out.contains("base-model") && out.contains("train-split"),
        "{out}"
    );
    let out = ask(&["verify", "--require", ""]);
    assert!(out.contains("https://slsa.dev/provenance/v1"), "{out}");
    // Roles: those the policy has rules for first, then the inputs' roles,
    // then the rest.
    let out = ask(&["verify", "--role", ""]);
    let roles: Vec<&str> = out.lines().collect();
    assert_eq!(
        roles,
        [
            "training-data\t[policy.roles.training-data] in mlprov.toml",
            "base-model\trole of base-model",
            "test-data\trole",
            "config\trole",
            "code\trole",
            "adapter\trole",
            "other\trole",
        ],
        "{out}"
    );
    let out = ask(&["graph", "--role", "tr"]);
    assert!(out.starts_with("training-data"), "{out}");
    let out = ask(&["push", ""]);
    assert!(out.contains("localhost:5000/acme/complete:0.3.0"), "{out}");
    let out = ask(&["verify", "--format", ""]);
    assert_eq!(out.lines().collect::<Vec<_>>(), ["human", "json"], "{out}");
    let out = ask(&["graph", "--format", ""]);
    assert!(out.contains("dot") && out.contains("mermaid"), "{out}");
    // An empty word gets no options (bash would insert their common `-`)...
    let out = ask(&["verify", ""]);
    assert!(!out.lines().any(|l| l.starts_with('-')), "{out}");
    assert!(out.contains("localhost:5000/acme/complete:0.3.0"), "{out}");
    // ... a `-` gets them.
    let out = ask(&["verify", "-"]);
    assert!(out.contains("--key"), "{out}");
}
