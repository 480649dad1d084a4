//! `mlprov pin`: path, HF cache, HF API, determinism, bad input.

use std::path::{Path, PathBuf};

use crate::common::*;
use crate::hf_server::{HubFile, HubServer, Repo, commit_id, files_of};

const MINILM_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// A manifest with these `[inputs]` lines.
fn manifest(inputs: &str) -> String {
    ProjectBuilder::new("").inputs(inputs).manifest()
}

fn project(env: &TestEnv, name: &str, inputs: &str) -> PathBuf {
    ProjectBuilder::new(env.work().join(name))
        .inputs(inputs)
        .build()
}

fn lock_json(_env: &TestEnv, dir: &Path) -> toml::Value {
    toml::from_str(&std::fs::read_to_string(dir.join("mlprov.lock")).unwrap()).unwrap()
}

fn input_field<'a>(lock: &'a toml::Value, name: &str, field: &str) -> &'a toml::Value {
    lock["input"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no input {name}"))
        .get(field)
        .unwrap_or_else(|| panic!("no field {field}"))
}

fn file_sha<'a>(lock: &'a toml::Value, name: &str, path: &str) -> &'a str {
    input_field(lock, name, "files")
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str() == Some(path))
        .unwrap_or_else(|| panic!("no file {path}"))["sha256"]
        .as_str()
        .unwrap()
}

/// The reference digest from model_signing, when the validators are here.
fn oms_digest(dir: &Path) -> Option<String> {
    let r = shared_tool("oms-digest", &[dir.as_os_str()])?;
    assert_eq!(r.code, 0, "oms-digest failed: {}", r.stderr);
    Some(r.stdout.trim().to_string())
}

#[test]
fn pins_minilm_as_a_path_input_and_matches_model_signing() {
    let env = TestEnv::new();
    let dir = project(
        &env,
        "p",
        r#"base = { path = "base/", role = "base-model" }"#,
    );
    copy_dir(minilm(), &dir.join("base"));
    let r = env.run(&dir, &["pin"]).ok();
    assert!(r.stderr.contains("Pinned base"), "{}", r.stderr);
    let lock = lock_json(&env, &dir);
    assert_eq!(
        file_sha(&lock, "base", "model.safetensors"),
        MINILM_SAFETENSORS_SHA256
    );
    assert_eq!(
        input_field(&lock, "base", "license").as_str(),
        Some("Apache-2.0")
    );
    let digest = input_field(&lock, "base", "digest")
        .as_str()
        .unwrap()
        .to_string();
    match oms_digest(&dir.join("base")) {
        Some(reference) => assert_eq!(digest, reference),
        None => skip("validators absent: OMS reference digest not compared"),
    }
    // .gitattributes is repository plumbing, left out as model_signing does.
    assert!(
        !std::fs::read_to_string(dir.join("mlprov.lock"))
            .unwrap()
            .contains(".gitattributes")
    );
}

/// Write the standard HF cache layout for `files` at `commit` (blobs by LFS
/// sha256 or git oid, relative snapshot symlinks, refs without newline).
fn write_hf_cache(cache: &Path, repo_id: &str, refname: &str, commit: &str, files: &[HubFile]) {
    let rdir = cache.join(format!("models--{}", repo_id.replace('/', "--")));
    std::fs::create_dir_all(rdir.join("blobs")).unwrap();
    std::fs::create_dir_all(rdir.join("refs")).unwrap();
    std::fs::write(rdir.join("refs").join(refname), commit).unwrap();
    for f in files {
        let blob = if f.lfs { f.sha256() } else { f.git_oid() };
        std::fs::write(rdir.join("blobs").join(&blob), f.bytes.as_slice()).unwrap();
        let link = rdir.join("snapshots").join(commit).join(&f.path);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        let depth = f.path.matches('/').count() + 2;
        let target: PathBuf = std::iter::repeat_n("..", depth)
            .collect::<PathBuf>()
            .join("blobs")
            .join(&blob);
        std::os::unix::fs::symlink(target, link).unwrap();
    }
}

#[test]
fn pins_minilm_offline_from_the_hf_cache_layout() {
    let env = TestEnv::new();
    let commit = commit_id("minilm-main");
    write_hf_cache(
        &env.hf_cache(),
        MINILM_ID,
        "main",
        &commit,
        &files_of(minilm()),
    );
    let dir = project(
        &env,
        "p",
        &format!(r#"base = {{ hf = "{MINILM_ID}", revision = "main", role = "base-model" }}"#),
    );
    env.run(&dir, &["pin", "--offline"]).ok();
    let lock = lock_json(&env, &dir);
    assert_eq!(
        input_field(&lock, "base", "commit").as_str(),
        Some(commit.as_str())
    );
    assert_eq!(
        file_sha(&lock, "base", "model.safetensors"),
        MINILM_SAFETENSORS_SHA256
    );

    // Same bytes as the path pin: same artifact digest.
    let pdir = project(
        &env,
        "q",
        r#"base = { path = "base/", role = "base-model" }"#,
    );
    copy_dir(minilm(), &pdir.join("base"));
    env.run(&pdir, &["pin"]).ok();
    assert_eq!(
        input_field(&lock, "base", "digest"),
        input_field(&lock_json(&env, &pdir), "base", "digest")
    );

    // A tampered blob in the cache is caught against its name.
    let rdir = env
        .hf_cache()
        .join(format!("models--{}", MINILM_ID.replace('/', "--")));
    let blob = rdir.join("blobs").join(MINILM_SAFETENSORS_SHA256);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[1000] ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    std::fs::remove_file(dir.join("mlprov.lock")).unwrap();
    let r = env.run(&dir, &["pin", "--offline"]).expect_code(2);
    assert!(r.stderr.contains("model.safetensors"), "{}", r.stderr);
    assert!(!dir.join("mlprov.lock").exists());
}

fn minilm_repo() -> Repo {
    let mut repo = Repo {
        card: serde_json::json!({
            "license": "apache-2.0",
            "datasets": ["s2orc", "ms_marco"],
            "pipeline_tag": "sentence-similarity"
        }),
        ..Default::default()
    };
    let c1 = commit_id("c1");
    repo.refs.insert("main".into(), c1.clone());
    repo.refs.insert("v1".into(), c1.clone());
    repo.commits.insert(c1, files_of(minilm()));
    repo
}

fn run_hub(env: &TestEnv, server: &HubServer, dir: &Path, args: &[&str]) -> Run {
    Run::of(env.cmd(dir).env("HF_ENDPOINT", &server.endpoint).args(args))
}

#[test]
fn resolves_main_to_a_commit_through_the_hub_api() {
    let server = HubServer::start();
    server.add_repo(MINILM_ID, minilm_repo());
    let env = TestEnv::new();
    let dir = project(
        &env,
        "p",
        &format!(
            r#"base = {{ hf = "{MINILM_ID}", revision = "main", role = "base-model", include = ["*.safetensors", "*.json", "*.txt", "README.md"] }}"#
        ),
    );
    run_hub(&env, &server, &dir, &["pin"]).ok();
    let lock = lock_json(&env, &dir);
    let c1 = commit_id("c1");
    assert_eq!(
        input_field(&lock, "base", "commit").as_str(),
        Some(c1.as_str())
    );
    assert_eq!(
        input_field(&lock, "base", "requested").as_str(),
        Some("main")
    );
    assert_eq!(
        input_field(&lock, "base", "license").as_str(),
        Some("Apache-2.0")
    );
    assert_eq!(
        input_field(&lock, "base", "datasets")
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        file_sha(&lock, "base", "model.safetensors"),
        MINILM_SAFETENSORS_SHA256
    );
    // Paginated tree: 13 files + 1 directory at 5 per page were all seen.
    assert!(file_sha(&lock, "base", "vocab.txt").len() == 64);
    assert!(file_sha(&lock, "base", "1_Pooling/config.json").len() == 64);

    // The standard cache layout, usable by huggingface_hub.
    let rdir = env
        .hf_cache()
        .join("models--sentence-transformers--all-MiniLM-L6-v2");
    assert_eq!(std::fs::read_to_string(rdir.join("refs/main")).unwrap(), c1);
    let link = rdir
        .join("snapshots")
        .join(&c1)
        .join("1_Pooling/config.json");
    let target = std::fs::read_link(&link).unwrap();
    assert!(
        target.starts_with("../../../blobs/"),
        "{}",
        target.display()
    );
    assert!(rdir.join("blobs").join(MINILM_SAFETENSORS_SHA256).is_file());
    // No temporary download left behind.
    for e in std::fs::read_dir(rdir.join("blobs")).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!n.contains("incomplete"), "left {n}");
    }

    // The artifact digest equals the reference over the snapshot's files
    // (model_signing refuses symlinks, so it hashes a resolved copy).
    let copy = env.path().join("snapcopy");
    copy_resolved(&rdir.join("snapshots").join(&c1), &copy);
    match oms_digest(&copy) {
        Some(reference) => {
            assert_eq!(
                input_field(&lock, "base", "digest").as_str(),
                Some(reference.as_str())
            )
        }
        None => skip("validators absent: OMS reference digest not compared"),
    }

    // Re-pinning downloads nothing.
    let before = server.downloads().len();
    run_hub(&env, &server, &dir, &["pin"]).ok();
    assert_eq!(server.downloads().len(), before);
}

fn copy_resolved(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let meta = std::fs::metadata(e.path()).unwrap();
        if meta.is_dir() {
            copy_resolved(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn a_moving_tag_is_kept_until_update() {
    let server = HubServer::start();
    let mut repo = Repo::default();
    let a = commit_id("a");
    let b = commit_id("b");
    let file = |s: &str| HubFile {
        path: "weights.bin".into(),
        bytes: std::sync::Arc::new(s.as_bytes().to_vec()),
        lfs: true,
    };
    repo.commits.insert(a.clone(), vec![file("version a")]);
    repo.commits.insert(b.clone(), vec![file("version b")]);
    repo.refs.insert("v1".into(), a.clone());
    server.add_repo("org/tagged", repo);
    let env = TestEnv::new();
    let dir = project(
        &env,
        "p",
        r#"m = { hf = "org/tagged", revision = "v1", role = "base-model" }"#,
    );
    run_hub(&env, &server, &dir, &["pin"]).ok();
    let first = std::fs::read_to_string(dir.join("mlprov.lock")).unwrap();
    assert!(first.contains(&a));

    // The tag moves on the Hub.
    server.with_repo("org/tagged", |r| {
        r.refs.insert("v1".into(), b.clone());
    });
    run_hub(&env, &server, &dir, &["pin"]).ok();
    assert_eq!(
        std::fs::read_to_string(dir.join("mlprov.lock")).unwrap(),
        first
    );
    run_hub(&env, &server, &dir, &["pin", "--locked"]).ok();

    let r = run_hub(&env, &server, &dir, &["pin", "--update", "m"]).ok();
    assert!(r.stderr.contains("Updated m"), "{}", r.stderr);
    let second = std::fs::read_to_string(dir.join("mlprov.lock")).unwrap();
    assert!(second.contains(&b) && !second.contains(&a));

    // --locked names what would change, exits 1, writes nothing.
    std::fs::write(
        dir.join("mlprov.toml"),
        manifest(r#"m = { hf = "org/tagged", revision = "v1", role = "base-model", include = ["*.bin"] }"#),
    )
    .unwrap();
    let r = run_hub(&env, &server, &dir, &["pin", "--locked"]).expect_code(1);
    assert!(r.stderr.contains("m (updated)"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("mlprov.lock")).unwrap(),
        second
    );
}

#[test]
fn a_corrupted_blob_fails_naming_the_file_and_writes_nothing() {
    let server = HubServer::start();
    server.add_repo(MINILM_ID, minilm_repo());
    server
        .state
        .lock()
        .unwrap()
        .corrupt
        .insert("model.safetensors".into());
    let env = TestEnv::new();
    let dir = project(
        &env,
        "p",
        &format!(r#"base = {{ hf = "{MINILM_ID}", role = "base-model" }}"#),
    );
    let r = run_hub(&env, &server, &dir, &["pin"]).expect_code(2);
    assert!(r.stderr.contains("model.safetensors"), "{}", r.stderr);
    assert!(r.stderr.contains("does not match"), "{}", r.stderr);
    assert!(!dir.join("mlprov.lock").exists());
    let blobs = env
        .hf_cache()
        .join("models--sentence-transformers--all-MiniLM-L6-v2/blobs");
    assert!(!blobs.join(MINILM_SAFETENSORS_SHA256).exists());
    for e in std::fs::read_dir(&blobs).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!n.contains("incomplete"), "left {n}");
    }

    // A corrupted small (non-LFS) file is caught by its git blob id.
    server.state.lock().unwrap().corrupt = ["config.json".to_string()].into();
    let env = TestEnv::new();
    let dir = project(
        &env,
        "p",
        &format!(r#"base = {{ hf = "{MINILM_ID}", role = "base-model" }}"#),
    );
    let r = run_hub(&env, &server, &dir, &["pin"]).expect_code(2);
    assert!(
        r.stderr.contains("config.json") && r.stderr.contains("git blob"),
        "{}",
        r.stderr
    );
}

#[test]
fn hub_errors_are_clear() {
    let server = HubServer::start();
    server.add_repo(MINILM_ID, minilm_repo());
    let mut gated = minilm_repo();
    gated.gated = true;
    server.add_repo("meta-llama/Meta-Llama-3-8B", gated);
    let env = TestEnv::new();
    let cases = [
        (
            r#"m = { hf = "nobody/nothing", role = "base-model" }"#,
            "was not found",
            "HF_TOKEN",
        ),
        (
            &format!(r#"m = {{ hf = "{MINILM_ID}", revision = "v9", role = "base-model" }}"#)
                as &str,
            "revision `v9` does not exist",
            "branch, tag or 40-hex commit",
        ),
        (
            r#"m = { hf = "meta-llama/Meta-Llama-3-8B", role = "base-model" }"#,
            "gated repository",
            "accept the conditions",
        ),
        (
            &format!(r#"m = {{ hf-dataset = "{MINILM_ID}", role = "training-data" }}"#) as &str,
            "was not found",
            "HF_TOKEN",
        ),
    ];
    for (i, (input, message, help)) in cases.iter().enumerate() {
        let dir = project(&env, &format!("e{i}"), input);
        let r = run_hub(&env, &server, &dir, &["pin"]).expect_code(2);
        assert!(r.stderr.contains(message), "case {i}: {}", r.stderr);
        assert!(r.stderr.contains(help), "case {i}: {}", r.stderr);
        assert!(r.stderr.contains("input `m`"), "case {i}: {}", r.stderr);
        assert!(!dir.join("mlprov.lock").exists());
    }
}

#[test]
fn an_unreachable_hub_is_a_network_error() {
    let env = TestEnv::new();
    let dir = project(
        &env,
        "p",
        r#"m = { hf = "org/model", role = "base-model" }"#,
    );
    // HF_ENDPOINT from TestEnv points at a closed port.
    let r = env.run(&dir, &["pin"]).expect_code(2);
    assert!(r.stderr.contains("cannot reach"), "{}", r.stderr);
    assert!(r.stderr.contains("--offline"), "{}", r.stderr);
}

#[test]
fn pin_is_deterministic_across_runs_and_checkouts() {
    let env = TestEnv::new();
    let inputs = r#"base = { path = "base/", role = "base-model" }
data = { path = "data/train.jsonl", role = "training-data", license = "CC-BY-4.0" }"#;
    let mut locks = Vec::new();
    for name in ["one", "two"] {
        let dir = project(&env, name, inputs);
        copy_dir(minilm(), &dir.join("base"));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("data/train.jsonl"), "{\"q\": \"a\"}\n").unwrap();
        env.run(&dir, &["pin"]).ok();
        let first = std::fs::read(dir.join("mlprov.lock")).unwrap();
        std::fs::remove_file(dir.join("mlprov.lock")).unwrap();
        env.run(&dir, &["pin"]).ok();
        assert_eq!(std::fs::read(dir.join("mlprov.lock")).unwrap(), first);
        locks.push(first);
    }
    assert_eq!(locks[0], locks[1]);
    let text = String::from_utf8(locks[0].clone()).unwrap();
    assert!(text.starts_with("# This file is written by `mlprov pin`."));
    let base = text.find("name = \"base\"").unwrap();
    let data = text.find("name = \"data\"").unwrap();
    assert!(base < data, "inputs sorted by name");
}

#[test]
fn an_unchanged_entry_keeps_its_lock_entry_and_a_changed_file_updates_it() {
    let env = TestEnv::new();
    let dir = project(
        &env,
        "p",
        r#"data = { path = "data/", role = "training-data" }"#,
    );
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/a.jsonl"), "1\n").unwrap();
    env.run(&dir, &["pin"]).ok();
    let r = env.run(&dir, &["--format", "json", "pin"]).ok();
    assert_eq!(r.json()["inputs"][0]["status"], "unchanged");
    assert_eq!(r.json()["written"], false);
    std::fs::write(dir.join("data/a.jsonl"), "2\n").unwrap();
    let r = env.run(&dir, &["pin", "--locked"]).expect_code(1);
    assert!(r.stderr.contains("data (updated)"), "{}", r.stderr);
    // Nothing claims to have pinned, or that the lock is up to date.
    assert!(r.stderr.contains("Would update data"), "{}", r.stderr);
    for claim in ["Pinned", "Updated", "up to date", "Wrote"] {
        assert!(!r.stderr.contains(claim), "{claim}: {}", r.stderr);
    }
    let r = env.run(&dir, &["--format", "json", "pin"]).ok();
    assert_eq!(r.json()["inputs"][0]["status"], "updated");
}

#[test]
fn bad_input_is_reported_and_the_lock_survives() {
    let env = TestEnv::new();
    let dir = project(
        &env,
        "p",
        r#"data = { path = "data/", role = "training-data" }"#,
    );
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/a.txt"), "x").unwrap();
    env.run(&dir, &["pin"]).ok();
    let good = std::fs::read(dir.join("mlprov.lock")).unwrap();

    // A symlink leaving the tree.
    let outside = env.path().join("secret");
    std::fs::write(&outside, "s").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("data/link")).unwrap();
    let r = env.run(&dir, &["pin"]).expect_code(2);
    assert!(
        r.stderr.contains("outside the tree") && r.stderr.contains("link"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(dir.join("mlprov.lock")).unwrap(), good);
    std::fs::remove_file(dir.join("data/link")).unwrap();

    // An input directory that is a symlink out of the project.
    let elsewhere = env.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("ext")).unwrap();
    std::fs::write(
        dir.join("mlprov.toml"),
        manifest("data = { path = \"data/\", role = \"training-data\" }\next = { path = \"ext\", role = \"other\" }"),
    )
    .unwrap();
    let r = env.run(&dir, &["pin"]).expect_code(2);
    assert!(r.stderr.contains("outside the project"), "{}", r.stderr);
    assert_eq!(std::fs::read(dir.join("mlprov.lock")).unwrap(), good);

    // A missing input.
    std::fs::write(
        dir.join("mlprov.toml"),
        manifest("data = { path = \"data/\", role = \"training-data\" }\nmore = { path = \"more/\", role = \"other\" }"),
    )
    .unwrap();
    let r = env.run(&dir, &["pin"]).expect_code(2);
    assert!(r.stderr.contains("more/ does not exist"), "{}", r.stderr);
    assert_eq!(std::fs::read(dir.join("mlprov.lock")).unwrap(), good);

    // A lock from a newer mlprov is never overwritten.
    std::fs::write(
        dir.join("mlprov.toml"),
        manifest("data = { path = \"data/\", role = \"training-data\" }"),
    )
    .unwrap();
    let newer = String::from_utf8(good.clone())
        .unwrap()
        .replace("version = 2", "version = 3");
    std::fs::write(dir.join("mlprov.lock"), &newer).unwrap();
    let r = env.run(&dir, &["pin"]).expect_code(2);
    assert!(r.stderr.contains("newer mlprov"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("mlprov.lock")).unwrap(),
        newer
    );

    // A lock edited by hand.
    let text = String::from_utf8(good.clone()).unwrap();
    let sha = text.split("sha256 = \"").nth(1).unwrap()[..64].to_string();
    let edited = text.replace(&sha, &"0".repeat(64));
    std::fs::write(dir.join("mlprov.lock"), &edited).unwrap();
    let r = env.run(&dir, &["pin"]).expect_code(2);
    assert!(r.stderr.contains("edited by hand"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("mlprov.lock")).unwrap(),
        edited
    );

    // Unknown input names on the command line.
    std::fs::write(dir.join("mlprov.lock"), &good).unwrap();
    let r = env.run(&dir, &["pin", "--update", "nope"]).expect_code(2);
    assert!(
        r.stderr.contains("no input named `nope`") && r.stderr.contains("inputs are: data"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_unreadable_file_is_a_permission_error() {
    if std::process::Command::new("setpriv")
        .arg("--version")
        .output()
        .is_err()
    {
        skip("setpriv not available to drop root");
        return;
    }
    let env = TestEnv::new();
    let dir = project(
        &env,
        "p",
        r#"data = { path = "data/", role = "training-data" }"#,
    );
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/a.txt"), "x").unwrap();
    std::fs::write(dir.join("data/secret.txt"), "y").unwrap();
    use std::os::unix::fs::PermissionsExt;
    // Everything world-writable so an unprivileged user can run pin here…
    for p in [
        env.path().to_path_buf(),
        env.work(),
        dir.clone(),
        dir.join("data"),
        env.path().join("cache"),
        env.path().join("home"),
        env.path().join("hf"),
    ] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    // …except this one file.
    std::fs::set_permissions(
        dir.join("data/secret.txt"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    let mut cmd = env.cmd(&dir);
    let program = cmd.get_program().to_owned();
    let mut wrapped = std::process::Command::new("setpriv");
    wrapped
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(program)
        .arg("pin")
        .current_dir(&dir);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    let _ = &mut cmd;
    let r = Run::of(&mut wrapped);
    if r.stderr.contains("setpriv:") {
        skip(&format!(
            "setpriv cannot drop privileges here: {}",
            r.stderr
        ));
        return;
    }
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("secret.txt") && r.stderr.contains("ermission denied"),
        "{}",
        r.stderr
    );
    assert!(!dir.join("mlprov.lock").exists());
}

#[test]
fn kill_9_during_pin_leaves_the_old_lock_intact() {
    let env = TestEnv::new();
    let dir = project(
        &env,
        "p",
        r#"data = { path = "data/", role = "training-data" }"#,
    );
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/small.txt"), "x").unwrap();
    env.run(&dir, &["pin"]).ok();
    let good = std::fs::read(dir.join("mlprov.lock")).unwrap();
    // A bigger input makes the next pin take a while; kill it at several points.
    let big = vec![7u8; 64 << 20];
    std::fs::write(dir.join("data/big.bin"), &big).unwrap();
    for delay_ms in [5u64, 20, 60, 150] {
        let cache = env.path().join("cache");
        let _ = std::fs::remove_dir_all(&cache);
        let mut child = env.cmd(&dir).arg("pin").spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let now = std::fs::read(dir.join("mlprov.lock")).unwrap();
        let text = String::from_utf8(now.clone()).unwrap();
        // Either the old lock or a complete new one, never a mix.
        assert!(
            now == good || (text.contains("big.bin") && text.trim_end().ends_with(']')),
            "after kill at {delay_ms} ms: {text}"
        );
    }
}

/// Serve `body` at every path on 127.0.0.1, counting requests.
fn file_server(body: Vec<u8>) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = req.respond(tiny_http::Response::from_data(body.clone()));
        }
    });
    (format!("http://127.0.0.1:{port}"), hits)
}

#[test]
fn url_inputs_are_downloaded_verified_and_cached() {
    use sha2::Digest as _;
    let body = b"{\"added_tokens\": []}\n".to_vec();
    let sha = hex::encode(sha2::Sha256::digest(&body));
    let (base, hits) = file_server(body.clone());
    let env = TestEnv::new();
    let dir = project(
        &env,
        "p",
        &format!(
            r#"tok = {{ url = "{base}/files/tok.json", sha256 = "{sha}", role = "config", license = "MIT" }}"#
        ),
    );
    env.run(&dir, &["pin"]).ok();
    let lock = lock_json(&env, &dir);
    assert_eq!(file_sha(&lock, "tok", "tok.json"), sha);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Cached: no second download, also offline.
    std::fs::remove_file(dir.join("mlprov.lock")).unwrap();
    env.run(&dir, &["pin", "--offline"]).ok();
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);

    // A URL whose bytes are not the pinned digest fails and caches nothing.
    let wrong = "0".repeat(64);
    let dir2 = project(
        &env,
        "q",
        &format!(
            r#"tok = {{ url = "{base}/files/other.json", sha256 = "{wrong}", role = "config" }}"#
        ),
    );
    let r = env.run(&dir2, &["pin"]).expect_code(2);
    assert!(
        r.stderr.contains("other.json") && r.stderr.contains("does not match"),
        "{}",
        r.stderr
    );
    assert!(!dir2.join("mlprov.lock").exists());
    assert!(
        !env.path()
            .join("cache/downloads/sha256")
            .join(&wrong)
            .join("other.json")
            .exists()
    );
}

/// A revision that would name a file outside the HF cache (an absolute
/// path, `..`, a git-invalid name) is refused before anything is written,
/// even when a misbehaving Hub answers it with a commit; a canary file
/// outside the cache keeps its bytes.
#[test]
fn crafted_revisions_never_write_outside_the_hf_cache() {
    let env = TestEnv::new();
    let canary = env.work().join("canary");
    std::fs::write(&canary, "canary").unwrap();
    let c = commit_id("c");
    let server = HubServer::start();
    let mut repo = Repo::default();
    repo.commits.insert(
        c.clone(),
        vec![HubFile {
            path: "weights.bin".into(),
            bytes: std::sync::Arc::new(b"w".to_vec()),
            lfs: true,
        }],
    );
    let crafted = [
        canary.display().to_string(),
        "../../../../canary".to_string(),
        "a/./b".to_string(),
        "x\u{1b}[2K".to_string(),
        "main.lock".to_string(),
    ];
    for r in &crafted {
        repo.refs.insert(r.clone(), c.clone());
    }
    repo.refs.insert("refs/pr/1".into(), c.clone());
    server.add_repo("org/m", repo);
    for r in &crafted {
        let dir = project(
            &env,
            "p",
            &format!(
                r#"m = {{ hf = "org/m", revision = {}, role = "base-model" }}"#,
                toml::Value::from(r.as_str())
            ),
        );
        let out = run_hub(&env, &server, &dir, &["pin"]).expect_code(2);
        assert!(
            out.stderr.contains("mlprov::manifest::revision"),
            "{r:?}: {}",
            out.stderr
        );
        assert_eq!(std::fs::read_to_string(&canary).unwrap(), "canary", "{r:?}");
        assert!(!dir.join("mlprov.lock").exists(), "{r:?}");
    }
    // A real nested ref name still works, and its ref file stays under refs/.
    let dir = project(
        &env,
        "p",
        r#"m = { hf = "org/m", revision = "refs/pr/1", role = "base-model" }"#,
    );
    run_hub(&env, &server, &dir, &["pin"]).ok();
    let refs = env.hf_cache().join("models--org--m/refs/refs/pr/1");
    assert_eq!(std::fs::read_to_string(refs).unwrap(), c);
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "canary");
}

/// A lock whose commit is not a commit id (multi-byte characters, a path)
/// is refused as damaged by every command, without a panic.
#[test]
fn a_lock_commit_that_is_no_commit_id_is_refused_without_panic() {
    let env = TestEnv::new();
    let dir = project(
        &env,
        "p",
        r#"base = { path = "base/", role = "base-model" }"#,
    );
    let base = dir.join("base");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(base.join("w.bin"), b"w").unwrap();
    Run::of(env.cmd(&dir).arg("pin")).ok();
    let lock = std::fs::read_to_string(dir.join("mlprov.lock")).unwrap();
    for commit in ["ééééééééééééé", "../../../../etc", &"A".repeat(40)] {
        let bad = lock.replacen(
            "source = ",
            &format!("commit = {}\nsource = ", toml::Value::from(commit)),
            1,
        );
        std::fs::write(dir.join("mlprov.lock"), &bad).unwrap();
        for args in [
            &["pin", "--offline"][..],
            &["pin", "--locked", "--offline"],
            &["build", "--skip-training"],
        ] {
            let r = Run::of(env.cmd(&dir).args(args)).expect_code(2);
            assert!(
                r.stderr.contains("not a 40-hex commit id"),
                "{args:?}: {}",
                r.stderr
            );
        }
    }
}

/// `HF_HUB_OFFLINE` keeps Hugging Face offline and nothing else; every
/// refusal names the flag or variable that caused it.
#[test]
fn hf_hub_offline_is_for_hugging_face_only() {
    let env = TestEnv::new();
    let dir = project(
        &env,
        "p",
        r#"m = { hf = "org/model", revision = "main", role = "base-model" }"#,
    );
    let r = env
        .run_env(&dir, &["pin"], &[("HF_HUB_OFFLINE", "1")])
        .expect_code(2);
    assert!(
        r.stderr
            .contains("HF_HUB_OFFLINE is set and org/model@main"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("cannot reach"), "{}", r.stderr);
    // A registry is not Hugging Face: pull goes to the network (a closed
    // port here) instead of refusing.
    let pull = [
        "pull",
        "127.0.0.1:9/acme/m:1",
        "--plain-http",
        "--no-verify",
    ];
    let r = env
        .run_env(&dir, &pull, &[("HF_HUB_OFFLINE", "1")])
        .expect_code(2);
    assert!(!r.stderr.contains("offline"), "{}", r.stderr);
    env.run(
        &dir,
        &["keygen", "--no-password", "--output-key-prefix", "k"],
    )
    .ok();
    for (args, vars, cause) in [
        (
            &pull[..],
            &[("MLPROV_OFFLINE", "1")][..],
            "MLPROV_OFFLINE: pulling needs the network",
        ),
        (
            &["--offline", "push", "127.0.0.1:9/acme/m:1"][..],
            &[][..],
            "--offline: pushing needs the network",
        ),
        (
            &["verify", "127.0.0.1:9/acme/m:1", "--key", "k.pub"][..],
            &[("MLPROV_OFFLINE", "true")][..],
            "MLPROV_OFFLINE: verifying",
        ),
    ] {
        let r = env.run_env(&dir, args, vars).expect_code(2);
        assert!(r.stderr.contains(cause), "{args:?}: {}", r.stderr);
    }
}
