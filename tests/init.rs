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
    let r = Run::of(env.cmd(&dir).env("CI", "true").args([
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

#[test]
fn init_interactive_through_a_pty() {
    let env = TestEnv::new();
    let dir = env.work().join("interactive");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let mut cmd = env.cmd(&dir);
    cmd.env_remove("CI").env("TERM", "xterm").arg("init");
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn in a pty");
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
    answer("Artifact name", "acme/pty-model\r");
    answer("Version", "\r");
    answer("License of the output", "Apache 2\r"); // invalid: asked again
    answer("LicenseRef-Apache-2", &"\x7f".repeat(8));
    answer("License of the output", "Apache-2.0\r");
    answer("Base model", "org/base@v1\r");
    answer("Training data", "\r"); // the detected data/
    answer("Output directory", "\r");
    answer("Write mlprov.toml?", "y");
    p.exp_string("Created").unwrap();
    p.exp_eof().unwrap();
    let text = std::fs::read_to_string(dir.join("mlprov.toml")).unwrap();
    assert!(text.contains(r#"name = "acme/pty-model""#), "{text}");
    assert!(text.contains(r#"license = "Apache-2.0""#), "{text}");
    assert!(
        text.contains(r#"base-model = { hf = "org/base", revision = "v1", role = "base-model" }"#),
        "{text}"
    );
    assert!(
        text.contains(r#"training-data = { path = "data/", role = "training-data" }"#),
        "{text}"
    );
    assert!(text.contains(r#"path = "out/""#), "{text}");
}
