//! `mlprov init`: non-interactive with flags, and interactive through a
//! pseudo-terminal answering dialoguer's prompts.

use crate::common::*;

#[test]
fn init_yes_uses_flags_and_detection() {
    let env = TestEnv::new();
    let dir = env.work().join("repo");
    std::fs::create_dir_all(dir.join("configs")).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("train.py"), "print('train')\n").unwrap();
    std::fs::write(dir.join("configs/ft.yaml"), "lr: 0.001\n").unwrap();
    std::fs::write(dir.join("data/a.jsonl"), "{}\n").unwrap();
    std::fs::write(dir.join("requirements.txt"), "torch\n").unwrap();
    git_init_commit(&dir);
    // `python` exists (and `python3`): the command runs `python`.
    let bin = env.path().join("bin-both");
    std::fs::create_dir_all(&bin).unwrap();
    for py in ["python", "python3"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(bin.join(py), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(bin.join(py), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let r = Run::of(env.cmd(&dir).env("CI", "true").env("PATH", &bin).args([
        "init",
        "--yes",
        "--name",
        "acme/support",
        "--license",
        "MIT",
        "--base-model",
        "org/base@v2",
    ]))
    .ok();
    assert!(r.stderr.contains("Created"), "{}", r.stderr);
    let text = std::fs::read_to_string(dir.join("mlprov.toml")).unwrap();
    assert!(text.contains(r#"name = "acme/support""#), "{text}");
    assert!(text.contains(r#"license = "MIT""#), "{text}");
    assert!(
        text.contains(r#"base-model = { hf = "org/base", revision = "v2", role = "base-model" }"#),
        "{text}"
    );
    assert!(
        text.contains(r#"training-data = { path = "data/", role = "training-data" }"#),
        "{text}"
    );
    assert!(
        text.contains(r#"command = ["python", "train.py", "--config", "configs/ft.yaml"]"#),
        "{text}"
    );
    assert!(text.contains(r#"config = "configs/ft.yaml""#), "{text}");
    assert!(text.contains(r#"python = "python3""#), "{text}");
    assert_eq!(
        std::fs::read_to_string(dir.join(".gitignore")).unwrap(),
        "# mlprov build outputs and signatures\ntarget/\n"
    );

    // Never overwrites without --force.
    let r = Run::of(env.cmd(&dir).env("CI", "1").args(["init", "--yes"])).expect_code(2);
    assert!(
        r.stderr.contains("already exists") && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    assert!(
        std::fs::read_to_string(dir.join("mlprov.toml"))
            .unwrap()
            .contains("acme/support")
    );
    Run::of(env.cmd(&dir).env("CI", "1").args([
        "init",
        "--yes",
        "--force",
        "--template",
        "dataset",
        "--name",
        "acme/data",
    ]))
    .ok();
    let text = std::fs::read_to_string(dir.join("mlprov.toml")).unwrap();
    assert!(text.contains(r#"kind = "dataset""#), "{text}");
    // .gitignore already has target/: unchanged.
    assert_eq!(
        std::fs::read_to_string(dir.join(".gitignore"))
            .unwrap()
            .matches("target/")
            .count(),
        1
    );
}

#[test]
fn init_rejects_a_bad_license_flag_and_needs_a_model_to_import() {
    let env = TestEnv::new();
    let dir = env.work();
    let r = Run::of(
        env.cmd(&dir)
            .env("CI", "1")
            .args(["init", "--yes", "--license", "Apache 2"]),
    )
    .expect_code(2);
    assert!(r.stderr.contains("not a valid SPDX"), "{}", r.stderr);
    let r = Run::of(
        env.cmd(&dir)
            .env("CI", "1")
            .args(["init", "--yes", "--template", "import"]),
    )
    .expect_code(2);
    assert!(r.stderr.contains("--base-model"), "{}", r.stderr);
    // Flags are checked like answers, and the error names the flag.
    for (flag, value, why) in [
        ("--name", "My Model!!", "cannot be an artifact name"),
        (
            "--base-model",
            "meta llama/Llama 3!!",
            "is neither an existing path",
        ),
        (
            "--base-model",
            "models/missing/",
            "no such file or directory",
        ),
        ("--dataset", "nowhere/", "no such file or directory"),
    ] {
        let r = Run::of(
            env.cmd(&dir)
                .env("CI", "1")
                .args(["init", "--yes", flag, value]),
        )
        .expect_code(2);
        assert!(
            r.stderr.contains(&format!("{flag}: ")) && r.stderr.contains(why),
            "{}",
            r.stderr
        );
    }
    assert!(!dir.join("mlprov.toml").exists());
}

#[test]
fn every_template_pins() {
    let env = TestEnv::new();
    for t in ["fine-tune", "import", "dataset", "lora"] {
        let dir = env.work().join(t);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::create_dir_all(dir.join("base")).unwrap();
        std::fs::write(dir.join("data/x.jsonl"), "{}\n").unwrap();
        std::fs::write(dir.join("base/config.json"), "{}\n").unwrap();
        Run::of(env.cmd(&dir).env("CI", "1").args([
            "init",
            "--yes",
            "--template",
            t,
            "--base-model",
            "base/",
            "--license",
            "MIT",
        ]))
        .ok();
        env.run(&dir, &["pin"]).ok();
        assert!(dir.join("mlprov.lock").is_file(), "{t}");
    }
}

/// A pty session of `mlprov init` in `dir`, with only `python3` on PATH.
fn init_in_pty(env: &TestEnv, dir: &std::path::Path) -> rexpect::session::PtySession {
    let bin = env.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let py = bin.join("python3");
    std::fs::write(&py, "#!/bin/sh\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&py, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = env.cmd(dir);
    cmd.env_remove("CI")
        .env("TERM", "xterm")
        .env("PATH", &bin)
        .arg("init");
    rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn in a pty")
}

#[test]
fn init_interactive_through_a_pty() {
    let env = TestEnv::new();
    let dir = env.work().join("interactive");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::create_dir_all(dir.join("models/base")).unwrap();
    std::fs::write(dir.join("models/base/config.json"), "{}\n").unwrap();
    std::fs::write(dir.join("train.py"), "print('train')\n").unwrap();
    std::fs::write(dir.join("requirements.txt"), "torch\n").unwrap();
    let mut p = init_in_pty(&env, &dir);
    // Wait for each prompt to be drawn (dialoguer switches the terminal to
    // raw mode, which may drop input typed before it), then answer.
    let mut answer = |prompt: &str, keys: &str| {
        p.exp_string(prompt)
            .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
        std::thread::sleep(std::time::Duration::from_millis(150));
        p.send(keys).unwrap();
        p.flush().unwrap();
    };
    answer("lora: train an adapter", "\r"); // fine-tune, the default
    // Each wrong answer is refused as it is given and asked again; nothing
    // typed before it is lost.
    answer("Artifact name", "My Model!!\r");
    answer("cannot be an artifact name", "");
    answer("`my-model`", "acme/pty-model\r");
    answer("Version", "\r");
    answer("License of the output", "Apache 2\r");
    answer("did you mean `Apache-2.0`", "MIT OR\r");
    answer("AND, OR and WITH each join two terms", "Apache-2.0\r");
    // The detected models/base/ is offered; a bad Hub id and a missing path
    // are refused.
    answer("models/base/", "meta llama/Llama 3!!\r");
    answer(
        "is neither an existing path nor a Hugging Face repository id",
        "models/nope/\r",
    );
    answer("no such file or directory", "\r"); // the detected models/base/
    answer("Training data", "\r"); // the detected data/
    answer("Output directory", "\r");
    answer("Write mlprov.toml?", "y");
    p.exp_string("Created").unwrap();
    p.exp_eof().unwrap();
    let text = std::fs::read_to_string(dir.join("mlprov.toml")).unwrap();
    assert!(text.contains(r#"name = "acme/pty-model""#), "{text}");
    assert!(text.contains(r#"license = "Apache-2.0""#), "{text}");
    assert!(
        text.contains(r#"base-model = { path = "models/base/", role = "base-model" }"#),
        "{text}"
    );
    assert!(
        text.contains(r#"training-data = { path = "data/", role = "training-data" }"#),
        "{text}"
    );
    assert!(text.contains(r#"path = "out/""#), "{text}");
    // Only python3 exists: the command runs python3.
    assert!(
        text.contains(r#"command = ["python3", "train.py"]"#),
        "{text}"
    );
    assert!(text.contains(r#"python = "python3""#), "{text}");
}

/// Ctrl-C in the template menu (the cursor is hidden there) shows the cursor
/// again, writes nothing and ends as SIGINT would.
#[test]
fn ctrl_c_in_init_restores_the_cursor() {
    let env = TestEnv::new();
    let dir = env.work().join("cancelled");
    std::fs::create_dir_all(&dir).unwrap();
    let mut p = init_in_pty(&env, &dir);
    p.exp_string("lora: train an adapter").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    p.send("\x03").unwrap();
    p.flush().unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(
        rest.contains("\u{1b}[?25h"),
        "cursor not shown again: {rest:?}"
    );
    assert!(rest.contains("nothing was written"), "{rest:?}");
    assert!(!dir.join("mlprov.toml").exists());
}
