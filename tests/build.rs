//! `mlprov build`: lock freshness, input integrity, run recording, and the
//! documents it writes (judged by the independent validators).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

const TRAIN: &str = "mkdir -p out && cp base/model.safetensors out/model.safetensors && printf '{\"labels\": 2}\\n' > out/config.json && echo trained";

/// A project with a path-pinned base model, a dataset, a test set and a
/// shell "training" command.
fn project(env: &TestEnv, script: &str) -> PathBuf {
    ProjectBuilder::new(env.work().join("proj"))
        .name("acme/tiny")
        .version("1.0.0")
        .license("Apache-2.0")
        .input(
            "base",
            r#"{ path = "base/", role = "base-model", license = "Apache-2.0" }"#,
        )
        .input(
            "train",
            r#"{ path = "data/train.jsonl", role = "training-data", license = "CC0-1.0" }"#,
        )
        .input(
            "test",
            r#"{ path = "data/test.jsonl", role = "test-data", license = "CC0-1.0" }"#,
        )
        .section(
            "training",
            "command = [\"sh\", \"train.sh\"]\nconfig = \"config.yaml\"",
        )
        .file("base/model.safetensors", safetensors(&[0.5, -1.0, 2.0]))
        .file("base/config.json", "{\"hidden_size\": 3}\n")
        .file("data/train.jsonl", "{\"text\": \"a\", \"label\": 1}\n")
        .file("data/test.jsonl", "{\"text\": \"b\", \"label\": 0}\n")
        .file(
            "config.yaml",
            "lr: 2e-5\nepochs: 3\noptim:\n  name: adamw\n",
        )
        .file("train.sh", format!("# the training code\n{script}\n"))
        .file("notes.md", "# notes\n")
        .file(".gitignore", "out/\ntarget/\n")
        .build()
}

fn docs(dir: &Path) -> PathBuf {
    dir.join("target").join("mlprov")
}

/// Run the independent validators over every document of a build, and check
/// the provenance's dependencies against the lock.
fn validate(dir: &Path) {
    let d = docs(dir);
    let sbom = read_json(&d.join("sbom.spdx.json"));
    let graph = sbom["@graph"].as_array().unwrap();
    let has = |t: &str| graph.iter().any(|e| e["type"] == t);
    // Every IRI referenced is defined.
    let defined: std::collections::BTreeSet<&str> = graph
        .iter()
        .filter_map(|e| e["spdxId"].as_str().or(e["@id"].as_str()))
        .collect();
    let mut refs = Vec::new();
    collect_refs(&sbom, &mut refs);
    for r in refs {
        assert!(defined.contains(r.as_str()), "undefined IRI {r}");
    }
    // Timestamps have no fractional seconds.
    let mut times = Vec::new();
    timestamps(&sbom, &mut times);
    assert!(!times.is_empty());
    for t in times {
        assert_eq!(t.len(), 20, "fractional seconds in {t}");
    }

    // Provenance dependencies are the lock's artifact digests.
    let prov = read_json(&d.join("provenance.json"));
    if let Some(lock) = mlprov::lockfile::Lock::load(&dir.join("mlprov.lock")).unwrap() {
        let deps = prov["predicate"]["buildDefinition"]["resolvedDependencies"]
            .as_array()
            .unwrap();
        for i in &lock.inputs {
            let dep = deps
                .iter()
                .find(|d| d["name"] == i.name.as_str())
                .unwrap_or_else(|| panic!("no dependency for {}", i.name));
            assert_eq!(dep["digest"]["sha256"], i.digest.hex().as_str());
            assert_eq!(dep["uri"], i.uri().to_string());
            assert_eq!(dep["annotations"]["role"], i.role.as_str());
        }
    }

    let mut spdx_args: Vec<std::ffi::OsString> = vec![d.join("sbom.spdx.json").into()];
    for (ty, profile) in [
        ("ai_AIPackage", "ai"),
        ("dataset_DatasetPackage", "dataset"),
    ] {
        if has(ty) {
            spdx_args.push("--require-profile".into());
            spdx_args.push(profile.into());
        }
    }
    let spdx_args: Vec<&std::ffi::OsStr> = spdx_args.iter().map(|a| a.as_os_str()).collect();
    let Some(r) = shared_tool("validate-spdx3", &spdx_args) else {
        skip("validators not available: SPDX/provenance/CycloneDX validation skipped");
        return;
    };
    assert_eq!(r.code, 0, "validate-spdx3: {}{}", r.stdout, r.stderr);
    let prov_path = d.join("provenance.json");
    let r = shared_tool(
        "validate-attestation",
        &[
            prov_path.as_os_str(),
            "--expect-predicate".as_ref(),
            "https://slsa.dev/provenance/v1".as_ref(),
        ],
    )
    .unwrap();
    assert_eq!(r.code, 0, "validate-attestation: {}{}", r.stdout, r.stderr);
    // The scan statement is a valid in-toto statement about the same subjects.
    let scan_path = d.join("scan.json");
    let r = shared_tool(
        "validate-attestation",
        &[
            scan_path.as_os_str(),
            "--expect-predicate".as_ref(),
            "https://mlprov.dev/scan/v1".as_ref(),
        ],
    )
    .unwrap();
    assert_eq!(
        r.code, 0,
        "validate-attestation scan.json: {}{}",
        r.stdout, r.stderr
    );
    assert_eq!(read_json(&scan_path)["subject"], prov["subject"]);
    let bom = d.join("bom.cdx.json");
    if bom.exists() {
        let mut args: Vec<&std::ffi::OsStr> = vec![bom.as_os_str()];
        if read_json(&bom)["metadata"]["component"]["type"] == "machine-learning-model" {
            args.push("--require-model".as_ref());
        }
        let r = shared_tool("validate-cyclonedx", &args).unwrap();
        assert_eq!(r.code, 0, "validate-cyclonedx: {}{}", r.stdout, r.stderr);
    }
}

/// Every timestamp-looking string in a document, for the "no fractional
/// seconds" rule.
fn timestamps(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.values().for_each(|x| timestamps(x, out)),
        Value::Array(a) => a.iter().for_each(|x| timestamps(x, out)),
        Value::String(s)
            if s.len() >= 20
                && s.ends_with('Z')
                && s.as_bytes()[4] == b'-'
                && s.as_bytes()[10] == b'T' =>
        {
            out.push(s.clone())
        }
        _ => {}
    }
}

/// Strings in the SPDX graph that are references to elements (our IRIs and
/// the creation info blank node), outside `spdxId` itself.
fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "spdxId" || k == "@id" {
                    continue;
                }
                collect_refs(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        Value::String(s) if s.starts_with("https://mlprov.dev/spdx/") || s.starts_with("_:") => {
            out.push(s.clone())
        }
        _ => {}
    }
}

fn lock_bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("mlprov.lock")).unwrap()
}

#[test]
fn builds_and_records_the_run() {
    let env = TestEnv::new();
    let dir = project(&env, TRAIN);
    env.run(&dir, &["pin"]).ok();
    let r = env
        .run(
            &dir,
            &[
                "build",
                "--allow-dirty",
                "--param",
                "note=first run",
                "--format",
                "json",
            ],
        )
        .ok();
    // The training command's stdout went to stderr: stdout is mlprov's JSON.
    let out = r.json();
    assert!(r.stderr.contains("trained"), "{}", r.stderr);
    assert_eq!(out["run"]["exitStatus"], 0);
    assert_eq!(out["artifact"]["files"], 2);
    assert!(
        !docs(&dir).join("bom.cdx.json").exists(),
        "CycloneDX only when asked"
    );

    let run = read_json(&docs(&dir).join("run.json"));
    assert_eq!(run["kind"], "training");
    assert_eq!(run["argv"][0], "sh");
    assert_eq!(run["exitStatus"], 0);
    assert_eq!(run["config"]["values"]["lr"], "2e-5");
    assert_eq!(run["config"]["values"]["optim.name"], "adamw");
    assert_eq!(run["parameters"]["note"], "first run");
    assert!(run.get("git").is_none(), "no git repository here");
    let t = run["startedOn"].as_str().unwrap();
    assert_eq!(t.len(), 20, "{t}");

    let prov = read_json(&docs(&dir).join("provenance.json"));
    let subjects = prov["subject"].as_array().unwrap();
    assert_eq!(subjects[0]["name"], "acme/tiny");
    assert_eq!(
        subjects[0]["digest"]["sha256"],
        out["artifact"]["digest"].as_str().unwrap()[7..]
    );
    let names: Vec<&str> = subjects.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["acme/tiny", "config.json", "model.safetensors"]);
    let ext = &prov["predicate"]["buildDefinition"]["externalParameters"];
    assert_eq!(ext["argv"][0], "sh");
    assert_eq!(ext["parameters"]["note"], "first run");
    assert!(ext["manifest"]["digest"]["sha256"].is_string());
    assert!(ext["config"]["digest"]["sha256"].is_string());
    assert_eq!(
        prov["predicate"]["runDetails"]["builder"]["id"],
        "https://mlprov.dev/builder/local"
    );
    assert_eq!(
        prov["predicate"]["runDetails"]["metadata"]["invocationId"],
        run["invocationId"]
    );

    let sbom = read_json(&docs(&dir).join("sbom.spdx.json"));
    let graph = sbom["@graph"].as_array().unwrap();
    let artifact = graph
        .iter()
        .find(|e| e["type"] == "ai_AIPackage" && e["name"] == "acme/tiny")
        .unwrap();
    let hyper: BTreeMap<&str, &str> = artifact["ai_hyperparameter"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["key"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    assert_eq!(hyper["lr"], "2e-5");
    assert_eq!(hyper["note"], "first run");
    assert!(
        artifact["ai_informationAboutTraining"]
            .as_str()
            .unwrap()
            .contains("sh train.sh")
    );
    let rel = |ty: &str| -> Vec<&Value> {
        graph
            .iter()
            .filter(|e| e["relationshipType"] == ty && e["from"] == artifact["spdxId"])
            .collect()
    };
    assert_eq!(rel("contains")[0]["to"].as_array().unwrap().len(), 2);
    assert_eq!(rel("descendantOf").len(), 1);
    assert_eq!(rel("trainedOn").len(), 1);
    assert_eq!(rel("testedOn").len(), 1);
    let lic = rel("hasDeclaredLicense")[0]["to"][0].clone();
    let lic = graph.iter().find(|e| e["spdxId"] == lic).unwrap();
    assert_eq!(lic["simplelicensing_licenseExpression"], "Apache-2.0");
    let datasets = graph
        .iter()
        .filter(|e| e["type"] == "dataset_DatasetPackage")
        .count();
    assert_eq!(datasets, 2);
    validate(&dir);

    // --cyclonedx adds the ML-BOM; a later build without it removes it.
    // [training] python records the environment as pypi packages.
    let m = std::fs::read_to_string(dir.join("mlprov.toml")).unwrap();
    std::fs::write(
        dir.join("mlprov.toml"),
        m.replace(
            "config = \"config.yaml\"",
            "config = \"config.yaml\"\npython = \"python3\"",
        ),
    )
    .unwrap();
    env.run(&dir, &["build", "--allow-dirty", "--cyclonedx"])
        .ok();
    let run = read_json(&docs(&dir).join("run.json"));
    let pip = run["python"]["packages"].as_array().unwrap();
    assert!(pip.iter().any(|p| p["name"] == "pip"), "{pip:?}");
    assert!(
        pip.iter()
            .all(|p| p["purl"].as_str().unwrap().starts_with("pkg:pypi/"))
    );
    let bom = read_json(&docs(&dir).join("bom.cdx.json"));
    assert!(bom["components"].as_array().unwrap().iter().any(|c| {
        c["purl"]
            .as_str()
            .is_some_and(|p| p.starts_with("pkg:pypi/pip@"))
    }));
    assert_eq!(
        bom["metadata"]["component"]["type"],
        "machine-learning-model"
    );
    assert_eq!(
        bom["metadata"]["component"]["modelCard"]["modelParameters"]["datasets"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    validate(&dir);
    env.run(&dir, &["build", "--allow-dirty", "--skip-training"])
        .ok();
    assert!(!docs(&dir).join("bom.cdx.json").exists());
    assert_eq!(read_json(&docs(&dir).join("run.json"))["kind"], "packaging");
    validate(&dir);
}

#[test]
fn dataset_artifact_is_a_dataset_package() {
    let env = TestEnv::new();
    let dir = project(&env, TRAIN);
    let m = std::fs::read_to_string(dir.join("mlprov.toml")).unwrap();
    std::fs::write(
        dir.join("mlprov.toml"),
        m.replace("kind = \"model\"", "kind = \"dataset\""),
    )
    .unwrap();
    env.run(&dir, &["pin"]).ok();
    env.run(&dir, &["build", "--allow-dirty", "--cyclonedx"])
        .ok();
    let sbom = read_json(&docs(&dir).join("sbom.spdx.json"));
    let root = sbom["@graph"][1]["rootElement"][0].clone();
    let artifact = sbom["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["spdxId"] == root)
        .unwrap();
    assert_eq!(artifact["type"], "dataset_DatasetPackage");
    assert_eq!(artifact["software_primaryPurpose"], "data");
    let bom = read_json(&docs(&dir).join("bom.cdx.json"));
    assert_eq!(bom["metadata"]["component"]["type"], "data");
    validate(&dir);
}

#[test]
fn stale_or_missing_lock_fails_without_editing_it() {
    let env = TestEnv::new();
    let dir = project(&env, TRAIN);
    let r = env.run(&dir, &["build"]).expect_code(1);
    assert!(r.stderr.contains("mlprov pin"), "{}", r.stderr);

    env.run(&dir, &["pin"]).ok();
    let before = lock_bytes(&dir);
    let manifest = std::fs::read_to_string(dir.join("mlprov.toml")).unwrap();
    // A new input, and a changed one.
    let edited = manifest
        .replace("data/test.jsonl", "data/test2.jsonl")
        .replace(
            "[training]",
            "extra = { path = \"train.sh\", role = \"code\" }\n\n[training]",
        );
    write(&dir, "data/test2.jsonl", "{}\n");
    std::fs::write(dir.join("mlprov.toml"), edited).unwrap();
    let r = env.run(&dir, &["build", "--allow-dirty"]).expect_code(1);
    assert!(
        r.stderr.contains("does not match mlprov.toml"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("extra: added to mlprov.toml but not pinned"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("test: its source"), "{}", r.stderr);
    assert!(r.stderr.contains("run `mlprov pin`"), "{}", r.stderr);
    assert_eq!(lock_bytes(&dir), before, "build never edits the lock");
    assert!(!docs(&dir).exists(), "nothing written");
}

#[test]
fn input_changed_after_pin_is_named_and_nothing_is_written() {
    let env = TestEnv::new();
    let dir = project(&env, TRAIN);
    env.run(&dir, &["pin"]).ok();
    let lock = mlprov::lockfile::Lock::load(&dir.join("mlprov.lock"))
        .unwrap()
        .unwrap();
    let expected = lock.get("train").unwrap().files[0].sha256.prefixed();
    write(
        &dir,
        "data/train.jsonl",
        "{\"text\": \"poisoned\", \"label\": 1}\n",
    );
    write(&dir, "base/extra.bin", "new");
    let r = env.run(&dir, &["build", "--allow-dirty"]).expect_code(1);
    let actual =
        mlprov::digest::Sha256Digest::of(b"{\"text\": \"poisoned\", \"label\": 1}\n").prefixed();
    assert!(
        r.stderr.contains("data/train.jsonl changed"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&expected), "{}", r.stderr);
    assert!(r.stderr.contains(&actual), "{}", r.stderr);
    assert!(r.stderr.contains("base/extra.bin is new"), "{}", r.stderr);
    assert!(!dir.join("out").exists(), "training did not start");
    assert!(!docs(&dir).exists(), "nothing written");
}

#[test]
fn failing_training_command_propagates_its_status() {
    let env = TestEnv::new();
    let dir = project(&env, "mkdir -p out && echo partial > out/x && exit 7");
    env.run(&dir, &["pin"]).ok();
    let r = env.run(&dir, &["build", "--allow-dirty"]).expect_code(7);
    assert!(r.stderr.contains("exited with status 7"), "{}", r.stderr);
    assert!(!docs(&dir).exists(), "nothing written");
    // A command given after `--` wins over [training] command.
    let r = env
        .run(
            &dir,
            &["build", "--allow-dirty", "--", "sh", "-c", "exit 3"],
        )
        .expect_code(3);
    assert!(r.stderr.contains("exit 3"), "{}", r.stderr);
    let r = env
        .run(
            &dir,
            &["build", "--allow-dirty", "--", "/nonexistent/trainer"],
        )
        .expect_code(2);
    assert!(
        r.stderr.contains("cannot run `/nonexistent/trainer`"),
        "{}",
        r.stderr
    );
    assert!(!docs(&dir).exists(), "nothing written");
}

#[test]
fn outputs_with_findings_are_refused() {
    let env = TestEnv::new();
    // The "training" leaves a pickle that runs os.system when loaded, named
    // like a harmless file (protocol 2: PROTO, GLOBAL, args, REDUCE, STOP).
    let dir = project(
        &env,
        r#"mkdir -p out && cp base/model.safetensors out/model.safetensors && printf '\200\002cos\nsystem\nX\002\000\000\000idq\000\205R.' > out/extra.bin"#,
    );
    env.run(&dir, &["pin"]).ok();
    let r = env.run(&dir, &["build", "--allow-dirty"]).expect_code(1);
    assert!(r.stderr.contains("extra.bin"), "{}", r.stderr);
    assert!(r.stderr.contains("os.system"), "{}", r.stderr);
    assert!(r.stderr.contains("formats.allow"), "{}", r.stderr);
    assert!(!docs(&dir).exists(), "nothing written");
    // A clean build records the scan: per-file format and the verdict.
    let dir2 = env.work().join("clean");
    std::fs::rename(&dir, &dir2).unwrap();
    write(&dir2, "train.sh", TRAIN);
    std::fs::remove_dir_all(dir2.join("out")).unwrap();
    env.run(&dir2, &["build", "--allow-dirty"]).ok();
    let scan = read_json(&docs(&dir2).join("scan.json"));
    assert_eq!(scan["predicateType"], "https://mlprov.dev/scan/v1");
    let files = scan["predicate"]["files"].as_array().unwrap();
    assert!(
        files
            .iter()
            .any(|f| f["path"] == "model.safetensors" && f["format"] == "safetensors"),
        "{scan}"
    );
}

/// The license rule `pin` and `verify` apply holds at build time too: for
/// the locked inputs (pinned perhaps under an older policy) and the output,
/// before anything runs.
#[test]
fn licenses_outside_the_allowlist_stop_the_build() {
    let env = TestEnv::new();
    let dir = project(&env, TRAIN);
    env.run(&dir, &["pin"]).ok();
    let m = std::fs::read_to_string(dir.join("mlprov.toml")).unwrap();
    write(
        &dir,
        "mlprov.toml",
        format!("{m}\n[policy]\nlicenses.allow = [\"CC0-1.0\"]\n"),
    );
    let r = env.run(&dir, &["build", "--allow-dirty"]).expect_code(1);
    assert!(r.stderr.contains("mlprov::build::license"), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "input `base`: license `Apache-2.0` is not allowed by licenses.allow (CC0-1.0)"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("the output: license `Apache-2.0`"),
        "{}",
        r.stderr
    );
    assert!(!dir.join("out").exists(), "the training did not run");
    assert!(!docs(&dir).exists(), "nothing written");
    write(
        &dir,
        "mlprov.toml",
        format!("{m}\n[policy]\nlicenses.allow = [\"CC0-1.0\", \"Apache-2.0\"]\n"),
    );
    env.run(&dir, &["build", "--allow-dirty"]).ok();
}

#[test]
fn missing_output_dir_fails() {
    let env = TestEnv::new();
    let dir = project(&env, "echo forgot to save");
    env.run(&dir, &["pin"]).ok();
    let r = env.run(&dir, &["build", "--allow-dirty"]).expect_code(1);
    assert!(
        r.stderr.contains("the artifact path out/ does not exist"),
        "{}",
        r.stderr
    );
    assert!(!docs(&dir).exists(), "nothing written");
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let r = env.run(&dir, &["build", "--allow-dirty"]).expect_code(1);
    assert!(r.stderr.contains("holds no files"), "{}", r.stderr);
    assert!(!docs(&dir).exists(), "nothing written");
}

#[test]
fn dirty_tree_is_refused_unless_allowed() {
    let env = TestEnv::new();
    let dir = project(&env, TRAIN);
    env.run(&dir, &["pin"]).ok();
    let head = git_init_commit(&dir);

    // Clean: the commit is recorded.
    env.run(&dir, &["build"]).ok();
    let run = read_json(&docs(&dir).join("run.json"));
    assert_eq!(run["git"]["commit"], head.as_str());
    assert_eq!(run["git"]["dirty"], false);
    let prov = read_json(&docs(&dir).join("provenance.json"));
    let code = prov["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["digest"]["gitCommit"].is_string())
        .unwrap()
        .clone();
    assert_eq!(code["digest"]["gitCommit"], head.as_str());
    assert_eq!(code["annotations"]["role"], "code");
    validate(&dir);

    // The outputs and target/ (ignored) do not count; a code change does.
    std::fs::remove_dir_all(docs(&dir)).unwrap();
    write(&dir, "notes.md", "# changed\n");
    let r = env.run(&dir, &["build"]).expect_code(1);
    assert!(
        r.stderr.contains("uncommitted changes: notes.md"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("pass --allow-"), "{}", r.stderr);
    assert!(!docs(&dir).exists(), "nothing written");

    let r = env.run(&dir, &["build", "--allow-dirty"]).ok();
    assert!(r.stderr.contains("dirty tree"), "{}", r.stderr);
    let run = read_json(&docs(&dir).join("run.json"));
    assert_eq!(run["git"]["dirty"], true);
    assert_eq!(run["git"]["dirtyPaths"][0], "notes.md");
    assert_eq!(run["allowDirty"], true);
    let prov = read_json(&docs(&dir).join("provenance.json"));
    assert_eq!(
        prov["predicate"]["buildDefinition"]["internalParameters"]["allowDirty"],
        true
    );
    validate(&dir);
}

#[test]
fn imports_a_run_record() {
    let env = TestEnv::new();
    let dir = project(&env, TRAIN);
    env.run(&dir, &["pin"]).ok();
    // The outputs came from a cluster.
    write(&dir, "out/model.safetensors", safetensors(&[1.0]));
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let record = serde_json::json!({
        "version": 1,
        "kind": "training",
        "invocationId": "slurm-job-4242",
        "argv": ["torchrun", "--nproc-per-node=8", "train.py"],
        "startedOn": "2025-03-01T10:00:00.123+01:00",
        "finishedOn": "2025-03-01T14:30:00Z",
        "exitStatus": 0,
        "git": {"commit": commit, "dirty": false, "remote": "https://github.com/acme/train.git"},
        "config": {"path": "config.yaml", "digest": "sha256:".to_string() + &"ab".repeat(32), "values": {"lr": "1e-4"}},
        "parameters": {"nodes": "4"},
        "python": {"interpreter": "python3", "packages": [{"name": "torch", "version": "2.3.0", "purl": "pkg:pypi/torch@2.3.0"}]}
    });
    let rec = env.work().join("cluster-run.json");
    std::fs::write(&rec, serde_json::to_vec_pretty(&record).unwrap()).unwrap();
    let r = env
        .run(
            &dir,
            &[
                "build",
                "--allow-dirty",
                "--cyclonedx",
                "--run",
                rec.to_str().unwrap(),
            ],
        )
        .ok();
    assert!(
        !r.stderr.contains("Running"),
        "no command runs: {}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("differs from the config the imported run recorded"),
        "{}",
        r.stderr
    );
    let run = read_json(&docs(&dir).join("run.json"));
    assert_eq!(
        run["startedOn"], "2025-03-01T09:00:00Z",
        "normalised to UTC seconds"
    );
    assert_eq!(run["invocationId"], "slurm-job-4242");
    let prov = read_json(&docs(&dir).join("provenance.json"));
    let p = &prov["predicate"];
    assert_eq!(
        p["runDetails"]["metadata"]["startedOn"],
        "2025-03-01T09:00:00Z"
    );
    assert_eq!(
        p["runDetails"]["metadata"]["finishedOn"],
        "2025-03-01T14:30:00Z"
    );
    assert_eq!(
        p["buildDefinition"]["internalParameters"]["runRecord"],
        "imported"
    );
    assert_eq!(
        p["buildDefinition"]["externalParameters"]["argv"][0],
        "torchrun"
    );
    let code = p["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "training-code")
        .unwrap();
    assert_eq!(
        code["uri"],
        format!("git+https://github.com/acme/train.git@{commit}").as_str()
    );
    let bom = read_json(&docs(&dir).join("bom.cdx.json"));
    let torch = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purl"] == "pkg:pypi/torch@2.3.0")
        .unwrap();
    assert_eq!(torch["type"], "library");
    let sbom = std::fs::read_to_string(docs(&dir).join("sbom.spdx.json")).unwrap();
    assert!(sbom.contains("pkg:pypi/torch@2.3.0"));
    assert!(sbom.contains("gitoid:commit:sha1:0123456789abcdef"));
    validate(&dir);

    // A failed or malformed run record is refused.
    let mut failed = record.clone();
    failed["exitStatus"] = 1.into();
    std::fs::write(&rec, serde_json::to_vec(&failed).unwrap()).unwrap();
    let r = env
        .run(
            &dir,
            &["build", "--allow-dirty", "--run", rec.to_str().unwrap()],
        )
        .expect_code(1);
    assert!(r.stderr.contains("exited with status 1"), "{}", r.stderr);
    let mut bad = record.clone();
    bad["startedOn"] = "yesterday".into();
    std::fs::write(&rec, serde_json::to_vec(&bad).unwrap()).unwrap();
    let r = env
        .run(
            &dir,
            &["build", "--allow-dirty", "--run", rec.to_str().unwrap()],
        )
        .expect_code(2);
    assert!(
        r.stderr.contains("is not a valid run record"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("startedOn"), "{}", r.stderr);
    let mut dirty = record.clone();
    dirty["git"]["dirty"] = true.into();
    std::fs::write(&rec, serde_json::to_vec(&dirty).unwrap()).unwrap();
    let r = env
        .run(&dir, &["build", "--run", rec.to_str().unwrap()])
        .expect_code(1);
    assert!(r.stderr.contains("uncommitted changes"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------
// Hugging Face inputs

struct HfFile {
    path: &'static str,
    bytes: Vec<u8>,
    lfs: bool,
}

impl HfFile {
    fn sha256(&self) -> String {
        mlprov::digest::Sha256Digest::of(&self.bytes).hex()
    }
    fn git_blob(&self) -> String {
        use sha1::Digest;
        let mut h = sha1::Sha1::new();
        h.update(format!("blob {}\0", self.bytes.len()).as_bytes());
        h.update(&self.bytes);
        hex::encode(h.finalize())
    }
    fn blob_name(&self) -> String {
        if self.lfs {
            self.sha256()
        } else {
            self.git_blob()
        }
    }
}

const COMMIT: &str = "5f2c1b4e3d2a19088776655443322110ffeeddcc";

fn hf_files() -> Vec<HfFile> {
    vec![
        HfFile {
            path: "README.md",
            bytes: b"---\nlicense: mit\ndatasets:\n- acme/corpus\n- wikitext\n---\n# acme/base\n"
                .to_vec(),
            lfs: false,
        },
        HfFile {
            path: "config.json",
            bytes: b"{\"hidden_size\": 3}\n".to_vec(),
            lfs: false,
        },
        HfFile {
            path: "model.safetensors",
            bytes: safetensors(&[0.25, 0.5, 0.75]),
            lfs: true,
        },
    ]
}

/// The standard HF cache layout: blobs, refs/main and a snapshot of
/// relative symlinks, as huggingface_hub writes it.
fn write_hf_cache(cache: &Path, files: &[HfFile]) {
    let repo = cache.join("models--acme--base");
    write(&repo, "refs/main", COMMIT);
    for f in files {
        write(&repo, &format!("blobs/{}", f.blob_name()), &f.bytes);
        let link = repo.join("snapshots").join(COMMIT).join(f.path);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(format!("../../blobs/{}", f.blob_name()), &link).unwrap();
    }
}

fn hf_project(env: &TestEnv) -> PathBuf {
    let dir = project(env, TRAIN);
    let m = std::fs::read_to_string(dir.join("mlprov.toml"))
        .unwrap()
        .replace(
            "base = { path = \"base/\", role = \"base-model\", license = \"Apache-2.0\" }",
            "base = { hf = \"acme/base\", revision = \"main\", role = \"base-model\" }",
        );
    std::fs::write(dir.join("mlprov.toml"), m).unwrap();
    write_hf_cache(&env.hf_cache(), &hf_files());
    dir
}

/// A minimal Hub: the tree API and file downloads for acme/base at COMMIT.
/// `corrupt` serves wrong bytes for the LFS file. Returns the endpoint and
/// the request log; the server stops when the test process ends.
fn mock_hub(corrupt: bool) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", server.server_addr().to_ip().unwrap());
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        let files = hf_files();
        for req in server.incoming_requests() {
            let url = req.url().to_string();
            seen.lock().unwrap().push(url.clone());
            let tree_prefix = format!("/api/models/acme/base/tree/{COMMIT}");
            let resolve_prefix = format!("/acme/base/resolve/{COMMIT}/");
            let resp = if url.starts_with(&tree_prefix) {
                let entries: Vec<Value> = files
                    .iter()
                    .map(|f| {
                        let mut e = serde_json::json!({
                            "type": "file", "path": f.path, "size": f.bytes.len(), "oid": f.git_blob(),
                        });
                        if f.lfs {
                            e["lfs"] = serde_json::json!({"oid": f.sha256(), "size": f.bytes.len()});
                        }
                        e
                    })
                    .collect();
                tiny_http::Response::from_data(serde_json::to_vec(&entries).unwrap())
            } else if let Some(p) = url.strip_prefix(&resolve_prefix) {
                match files.iter().find(|f| f.path == p) {
                    Some(f) if corrupt && f.lfs => {
                        let mut b = f.bytes.clone();
                        let last = b.len() - 1;
                        b[last] ^= 1;
                        tiny_http::Response::from_data(b)
                    }
                    Some(f) => tiny_http::Response::from_data(f.bytes.clone()),
                    None => tiny_http::Response::from_data(Vec::new()).with_status_code(404),
                }
            } else {
                tiny_http::Response::from_data(Vec::new()).with_status_code(404)
            };
            let _ = req.respond(resp);
        }
    });
    (endpoint, log)
}

#[test]
fn hf_input_card_datasets_and_license_reach_the_documents() {
    let env = TestEnv::new();
    let dir = hf_project(&env);
    env.run(&dir, &["--offline", "pin"]).ok();
    let lock = mlprov::lockfile::Lock::load(&dir.join("mlprov.lock"))
        .unwrap()
        .unwrap();
    let base = lock.get("base").unwrap();
    assert_eq!(base.commit.as_deref(), Some(COMMIT));
    assert_eq!(base.license.as_deref(), Some("MIT"));
    assert_eq!(base.datasets, ["acme/corpus", "wikitext"]);

    env.run(
        &dir,
        &["--offline", "build", "--allow-dirty", "--cyclonedx"],
    )
    .ok();

    let prov = read_json(&docs(&dir).join("provenance.json"));
    let dep = prov["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "base")
        .unwrap()
        .clone();
    assert_eq!(dep["uri"], format!("hf://acme/base@{COMMIT}").as_str());

    let sbom = read_json(&docs(&dir).join("sbom.spdx.json"));
    let graph = sbom["@graph"].as_array().unwrap();
    let input = graph
        .iter()
        .find(|e| e["type"] == "ai_AIPackage" && e["name"] == "acme/base")
        .unwrap();
    assert_eq!(input["software_packageVersion"], COMMIT);
    assert_eq!(
        input["software_packageUrl"],
        format!("pkg:huggingface/acme/base@{COMMIT}").as_str()
    );
    let trained_on = graph
        .iter()
        .find(|e| e["relationshipType"] == "trainedOn" && e["from"] == input["spdxId"])
        .unwrap();
    let names: Vec<&str> = trained_on["to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| {
            graph.iter().find(|e| e["spdxId"] == *id).unwrap()["name"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(names, ["acme/corpus", "wikitext"]);
    let lic = graph
        .iter()
        .find(|e| e["relationshipType"] == "hasDeclaredLicense" && e["from"] == input["spdxId"])
        .unwrap();
    let lic = graph.iter().find(|e| e["spdxId"] == lic["to"][0]).unwrap();
    assert_eq!(lic["simplelicensing_licenseExpression"], "MIT");

    let bom = read_json(&docs(&dir).join("bom.cdx.json"));
    let c = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bom-ref"] == "base-model")
        .unwrap();
    assert_eq!(c["type"], "machine-learning-model");
    assert_eq!(c["licenses"][0]["expression"], "MIT");
    assert_eq!(
        c["modelCard"]["modelParameters"]["datasets"][0]["name"],
        "acme/corpus"
    );
    assert!(
        c["externalReferences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["type"] == "model-card")
    );
    validate(&dir);
}

#[test]
fn hf_files_missing_from_the_cache_are_fetched_and_verified() {
    let env = TestEnv::new();
    let dir = hf_project(&env);
    env.run(&dir, &["--offline", "pin"]).ok();
    let lfs = &hf_files()[2];
    let repo = env.hf_cache().join("models--acme--base");
    let remove = || {
        let _ = std::fs::remove_file(repo.join("blobs").join(lfs.blob_name()));
        let _ = std::fs::remove_file(repo.join("snapshots").join(COMMIT).join(lfs.path));
    };
    remove();

    // Offline: a clear error, nothing written.
    let r = env
        .run(&dir, &["--offline", "build", "--allow-dirty"])
        .expect_code(2);
    assert!(r.stderr.contains("--offline"), "{}", r.stderr);
    assert!(r.stderr.contains("model.safetensors"), "{}", r.stderr);
    assert!(!docs(&dir).exists());

    // A server sending other bytes is caught; nothing is cached or written.
    let (endpoint, _) = mock_hub(true);
    let r = Run::of(
        env.cmd(&dir)
            .args(["build", "--allow-dirty"])
            .env("HF_ENDPOINT", &endpoint),
    )
    .expect_code(2);
    assert!(
        r.stderr.contains("does not match its expected digest"),
        "{}",
        r.stderr
    );
    assert!(!repo.join("blobs").join(lfs.blob_name()).exists());
    assert!(!docs(&dir).exists());

    // Online: fetched, verified, linked, built.
    let (endpoint, log) = mock_hub(false);
    Run::of(
        env.cmd(&dir)
            .args(["build", "--allow-dirty"])
            .env("HF_ENDPOINT", &endpoint),
    )
    .ok();
    let log = log.lock().unwrap().clone();
    assert!(
        log.iter().any(|u| u.ends_with("/model.safetensors")),
        "{log:?}"
    );
    assert!(
        !log.iter().any(|u| u.ends_with("/config.json")),
        "only the missing file: {log:?}"
    );
    assert_eq!(
        std::fs::read(repo.join("snapshots").join(COMMIT).join(lfs.path)).unwrap(),
        lfs.bytes
    );
    validate(&dir);
}

// ---------------------------------------------------------------------------
// The example, determinism

fn example_copy(env: &TestEnv) -> PathBuf {
    let src = repo_root().join("examples").join("finetune");
    let dir = env.work().join("finetune");
    std::fs::create_dir_all(&dir).unwrap();
    for rel in [
        "mlprov.toml",
        "train.py",
        "prepare_base.py",
        "configs/finetune.yaml",
        "data/train.jsonl",
        "data/test.jsonl",
    ] {
        write(&dir, rel, std::fs::read(src.join(rel)).unwrap());
    }
    // The real all-MiniLM-L6-v2 when the suite has it, the tiny one otherwise.
    let mut prep = std::process::Command::new("python3");
    prep.arg(dir.join("prepare_base.py")).current_dir(&dir);
    match std::env::var_os("MLPROV_TEST_MINILM") {
        Some(m) => prep.arg("--from").arg(m),
        None => prep.arg("--tiny"),
    };
    let st = prep.status().expect("python3");
    assert!(st.success());
    dir
}

#[test]
fn example_builds_reproducibly_and_validates() {
    let env = TestEnv::new();
    let dir = example_copy(&env);
    env.run(&dir, &["pin"]).ok();
    git_init_commit(&dir);
    let build = || {
        Run::of(
            env.cmd(&dir)
                .arg("build")
                .env("SOURCE_DATE_EPOCH", "1700000000"),
        )
        .ok()
    };
    build();
    let names = [
        "provenance.json",
        "sbom.spdx.json",
        "bom.cdx.json",
        "run.json",
    ];
    let first: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(docs(&dir).join(n)).unwrap())
        .collect();
    validate(&dir);
    let run = read_json(&docs(&dir).join("run.json"));
    assert_eq!(run["startedOn"], "2023-11-14T22:13:20Z");
    assert_eq!(run["git"]["dirty"], false);
    std::fs::remove_dir_all(docs(&dir)).unwrap();
    std::fs::remove_dir_all(dir.join("out")).unwrap();
    build();
    for (n, bytes) in names.iter().zip(&first) {
        assert_eq!(
            &std::fs::read(docs(&dir).join(n)).unwrap(),
            bytes,
            "{n} differs between two builds with the same SOURCE_DATE_EPOCH"
        );
    }
    // A bad SOURCE_DATE_EPOCH is a usage error.
    let r = Run::of(
        env.cmd(&dir)
            .arg("build")
            .env("SOURCE_DATE_EPOCH", "yesterday"),
    )
    .expect_code(2);
    assert!(r.stderr.contains("SOURCE_DATE_EPOCH"), "{}", r.stderr);
}

/// The documents of one build appear together or not at all: `build` is
/// SIGKILLed at a range of moments after its training command finished
/// (while it hashes, scans and writes), and after every kill whatever
/// `target/mlprov` holds is one build's documents — the SBOM and the scan
/// describe the provenance's artifact — and `attest` refuses an SBOM of
/// another build.
#[cfg(unix)]
#[test]
fn killed_builds_leave_one_builds_documents() {
    let env = TestEnv::new();
    let dir = ProjectBuilder::new(env.work().join("p"))
        .section(
            "training",
            "command = [\"sh\", \"-c\", \"mkdir -p out && date +%s%N > out/w.bin && head -c 3000000 /dev/urandom > out/big.bin && touch trained\"]",
        )
        .build();
    Run::of(env.cmd(&dir).arg("pin")).ok();
    Run::of(env.cmd(&dir).args(["build", "--allow-dirty"])).ok();
    let docs = dir.join("target/mlprov");
    let consistent = |when: &str| {
        if !docs.exists() {
            return;
        }
        let prov = read_json(&docs.join("provenance.json"));
        let subject = prov["subject"][0]["digest"]["sha256"]
            .as_str()
            .unwrap()
            .to_string();
        let sbom = std::fs::read_to_string(docs.join("sbom.spdx.json")).unwrap();
        assert!(
            sbom.contains(&subject),
            "{when}: the SBOM is of another build"
        );
        let scan = read_json(&docs.join("scan.json"));
        assert_eq!(
            scan["subject"], prov["subject"],
            "{when}: the scan is of another build"
        );
    };
    consistent("first build");
    for delay_ms in [0u64, 1, 3, 6, 10, 20, 40, 80, 160] {
        let _ = std::fs::remove_file(dir.join("trained"));
        let mut child = env
            .cmd(&dir)
            .args(["build", "--allow-dirty"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while !dir.join("trained").exists() && started.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        consistent(&format!("killed {delay_ms} ms after training"));
    }
    // A build that completes still works after all that, and leaves one
    // generation behind.
    Run::of(env.cmd(&dir).args(["build", "--allow-dirty"])).ok();
    consistent("last build");
    let builds = std::fs::read_dir(dir.join("target/mlprov.builds"))
        .unwrap()
        .count();
    assert_eq!(builds, 1, "old generations were not removed");

    // An SBOM of another build next to this provenance: attest refuses it.
    let (key, _) = {
        run_env_pw(&env, &dir, &["keygen"]);
        (dir.join("cosign.key"), dir.join("cosign.pub"))
    };
    let other = std::fs::read_to_string(docs.join("sbom.spdx.json")).unwrap();
    let prov = read_json(&docs.join("provenance.json"));
    let subject = prov["subject"][0]["digest"]["sha256"].as_str().unwrap();
    std::fs::write(
        docs.join("sbom.spdx.json"),
        other.replace(subject, &"0".repeat(64)),
    )
    .unwrap();
    let r = Run::of(
        env.cmd(&dir)
            .args(["attest", "--key", key.to_str().unwrap()])
            .env("MLPROV_PASSWORD", "pw"),
    )
    .expect_code(1);
    assert!(r.stderr.contains("mlprov::attest::stale"), "{}", r.stderr);
}

fn run_env_pw(env: &TestEnv, dir: &std::path::Path, args: &[&str]) {
    Run::of(env.cmd(dir).args(args).env("MLPROV_PASSWORD", "pw")).ok();
}
