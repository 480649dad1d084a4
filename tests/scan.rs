//! `mlprov scan` on the generated corpus (tests/fixtures/scan, made by
//! scripts/gen-scan-corpus.py) and on the real all-MiniLM-L6-v2 model, and
//! the scan policy inside `mlprov pin`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

fn corpus() -> PathBuf {
    repo_root().join("tests").join("fixtures").join("scan")
}

fn expected() -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(corpus().join("expected.json")).expect("expected.json");
    serde_json::from_str::<serde_json::Value>(&text)
        .expect("json")
        .as_object()
        .expect("object")
        .clone()
}

fn codes(file: &serde_json::Value) -> BTreeSet<String> {
    file["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["code"].as_str().expect("code").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn fails(file: &serde_json::Value) -> bool {
    file["findings"]
        .as_array()
        .is_some_and(|a| a.iter().any(|f| f["outcome"] == "fail"))
}

#[test]
fn corpus_every_malicious_file_is_flagged_and_no_benign_one() {
    let env = TestEnv::new();
    let r = env
        .run(
            &corpus(),
            &["scan", "--format", "json", "malicious", "review", "benign"],
        )
        .expect_code(1);
    let doc = r.json();
    assert_eq!(doc["verdict"], "fail");
    assert_eq!(doc["scanner"]["name"], "mlprov-scan");
    let files = doc["files"].as_array().expect("files");
    let mut seen = 0;
    let mut problems = Vec::new();
    for (path, want) in expected() {
        let Some(f) = files.iter().find(|f| f["path"] == path.as_str()) else {
            problems.push(format!("{path}: not in the scan output"));
            continue;
        };
        seen += 1;
        let got = codes(f);
        let want_codes: BTreeSet<String> = want["codes"]
            .as_array()
            .expect("codes")
            .iter()
            .map(|c| c.as_str().expect("str").to_string())
            .collect();
        match want["class"].as_str().expect("class") {
            "malicious" => {
                if !fails(f) || !want_codes.is_subset(&got) {
                    problems.push(format!("{path}: want {want_codes:?} failing, got {got:?}"));
                }
            }
            "benign" => {
                if !got.is_empty() {
                    problems.push(format!("{path}: benign but flagged {got:?}"));
                }
            }
            "review" => {
                if fails(f) || got != want_codes {
                    problems.push(format!(
                        "{path}: want only {want_codes:?} (not failing), got {got:?}"
                    ));
                }
            }
            other => panic!("unknown class {other}"),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(seen >= 190, "only {seen} corpus files checked");
    // Every bypass class has at least one malicious file.
    let whys: Vec<String> = expected()
        .values()
        .filter(|v| v["class"] == "malicious")
        .map(|v| v["why"].as_str().expect("why").to_string())
        .collect();
    for needle in [
        "named .safetensors",
        "memo",
        "BINSTRING",
        "pathlib + os.system",
        "INST",
        "OBJ calls",
        "NEWOBJ",
        "REDUCE",
        "BUILD",
        "frame",
        "second pickle",
        "stream breaks",
        "cannot parse",
        "without .pkl",
        "flag bit",
        "CRC",
        "local header",
        "before the archive",
        "legacy torch",
        "TorchScript",
        "object-dtype",
        ".npz",
        "TimeDistributed",
        "200 wrappers",
        "100 MB",
        "not UTF-8",
        "start with {",
        "non-string",
        "unknown dtype",
        "overlap",
        "overflows",
        "after the last tensor",
        "same tensor name",
        "unknown key",
        "key-value count",
        "string length",
        "tensor dimensions",
        "tensor offset",
        "chat template",
        "auto_map",
        "Python source",
        "object-dtype spelled",
        "gzip-compressed",
        "zlib-compressed",
        "bz2-compressed",
        "xz-compressed",
        "lzma (alone)",
        "LZ4 frame",
        "decompression ratio limit",
        "legacy tar",
        "upper case",
        "local header claims",
        "without metadata.json",
        "Bidirectional",
        "model_config JSON is indented",
        "variable-length string",
        "training_config",
        "chat template reaching Python internals (concat)",
        "(hex-escapes)",
        "(attr-filter)",
        "(variables)",
        "(percent-c)",
        "(macro-arg)",
    ] {
        assert!(
            whys.iter().any(|w| w.contains(needle)),
            "no malicious corpus file for `{needle}`"
        );
    }
}

#[test]
fn corpus_is_generated_by_the_script() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = Command::new("python3")
        .arg(repo_root().join("scripts").join("gen-scan-corpus.py"))
        .arg(tmp.path())
        .output();
    let Ok(out) = out else {
        if in_ci() {
            panic!("python3 is needed to regenerate the scan corpus");
        }
        skip("python3 not found");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut differ = Vec::new();
    compare_trees(tmp.path(), &corpus(), "", &mut differ);
    compare_trees(&corpus(), tmp.path(), "", &mut differ);
    differ.sort();
    differ.dedup();
    assert!(
        differ.is_empty(),
        "tests/fixtures/scan is stale; run python3 scripts/gen-scan-corpus.py: {differ:?}"
    );
}

fn compare_trees(a: &Path, b: &Path, rel: &str, out: &mut Vec<String>) {
    for e in std::fs::read_dir(a.join(rel)).expect("read_dir") {
        let e = e.expect("entry");
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if e.file_type().expect("type").is_dir() {
            compare_trees(a, b, &r, out);
        } else if std::fs::read(b.join(&r)).ok() != std::fs::read(a.join(&r)).ok() {
            out.push(r);
        }
    }
}

#[test]
fn benign_files_and_minilm_pass_and_safetensors_costs_only_the_header() {
    let env = TestEnv::new();
    let r = env.run(&corpus(), &["scan", "benign"]).ok();
    assert!(r.stderr.contains("0 failing"), "{}", r.stderr);
    let model = minilm();
    let r = env
        .run(
            &env.work(),
            &["scan", "--format", "json", model.to_str().expect("utf8")],
        )
        .ok();
    let doc = r.json();
    assert_eq!(doc["verdict"], "pass");
    let files = doc["files"].as_array().expect("files");
    let st = files
        .iter()
        .find(|f| {
            f["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("model.safetensors"))
        })
        .expect("model.safetensors scanned");
    assert_eq!(st["format"], "safetensors");
    assert!(codes(st).is_empty(), "{st}");
    for f in files {
        assert!(codes(f).is_empty(), "MiniLM file flagged: {f}");
    }
    // 90 MB of weights; only headers (and the small config files) are read.
    let size = std::fs::metadata(model.join("model.safetensors"))
        .expect("size")
        .len();
    let read = doc["bytesRead"].as_u64().expect("bytesRead");
    assert!(size > 80_000_000);
    assert!(
        read < 2_000_000,
        "read {read} bytes to scan a {size}-byte model"
    );
}

#[test]
fn exit_codes_and_policy_flags() {
    let env = TestEnv::new();
    let c = corpus();
    env.run(&c, &["scan"]).expect_code(2);
    env.run(&c, &["scan", "does-not-exist"]).expect_code(2);
    let r = env
        .run(&c, &["scan", "--deny", "pickles", "benign"])
        .expect_code(2);
    assert!(r.stderr.contains("unknown kind"), "{}", r.stderr);
    env.run(&c, &["scan", "--allow", "pickle-global:*", "benign"])
        .expect_code(2);

    let bad = "malicious/global-runpy._run_code.pkl";
    let r = env.run(&c, &["scan", bad]).expect_code(1);
    assert!(r.stdout.contains("S0101"), "{}", r.stdout);
    assert!(r.stdout.contains("runpy._run_code"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("formats.allow = [\"pickle-global:runpy._run_code\"]"),
        "{}",
        r.stdout
    );
    env.run(&c, &["scan", "--allow", "pickle-global:runpy.*", bad])
        .ok();
    env.run(&c, &["scan", "--allow", "pickle-global:os.*", bad])
        .expect_code(1);
    // A format kind can be denied outright.
    env.run(&c, &["scan", "benign/state-dict.pt"]).ok();
    let r = env
        .run(&c, &["scan", "--deny", "pytorch", "benign/state-dict.pt"])
        .expect_code(1);
    assert!(r.stdout.contains("denied by policy"), "{}", r.stdout);
    // Low-severity findings fail only when their kind is denied.
    env.run(&c, &["scan", "review/chat-template.gguf"]).ok();
    env.run(
        &c,
        &[
            "scan",
            "--deny",
            "gguf-chat-template",
            "review/chat-template.gguf",
        ],
    )
    .expect_code(1);
    // A policy file.
    let pol = env.path().join("policy.toml");
    std::fs::write(&pol, "[policy]\nformats.deny = [\"pickle\"]\n").expect("write");
    env.run(
        &c,
        &[
            "scan",
            "--policy",
            pol.to_str().expect("utf8"),
            "benign/protocol0.pkl",
        ],
    )
    .expect_code(1);
}

#[test]
fn json_is_deterministic_and_carries_the_predicate_fields() {
    let env = TestEnv::new();
    let a = env
        .run(&corpus(), &["scan", "--format", "json", "malicious"])
        .expect_code(1);
    let b = env
        .run(&corpus(), &["scan", "--format", "json", "malicious"])
        .expect_code(1);
    assert_eq!(a.stdout, b.stdout);
    let doc = a.json();
    let f = doc["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == "malicious/torch-zip-payload.pt")
        .expect("file")
        .clone();
    assert_eq!(f["format"], "pytorch-zip");
    let finding = &f["findings"][0];
    assert_eq!(finding["code"], "S0101");
    assert_eq!(finding["name"], "pickle-global");
    assert_eq!(finding["severity"], "critical");
    assert_eq!(finding["member"], "archive/data.pkl");
    assert!(finding["offset"].is_u64());
    assert_eq!(finding["subject"], "os.system");
    assert_eq!(finding["outcome"], "fail");
    let paths: Vec<&str> = doc["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    let mut sorted = paths.clone();
    sorted.sort_by(|x, y| mlprov::digest::posix_path_cmp(x, y));
    assert_eq!(paths, sorted);
}

fn project(env: &TestEnv, policy: &str, files: &[&str]) -> PathBuf {
    let mut p = ProjectBuilder::new(env.work().join("proj"))
        .name("acme/x")
        .input(
            "weights",
            r#"{ path = "weights/", role = "base-model", license = "MIT" }"#,
        )
        .section("policy", policy);
    for f in files {
        let src = corpus().join(f);
        let name = src.file_name().expect("name").to_str().expect("utf-8");
        p = p.file(
            &format!("weights/{name}"),
            std::fs::read(&src).expect("read"),
        );
    }
    p.build()
}

#[test]
fn pin_refuses_an_input_with_a_finding_unless_policy_allows_it() {
    let env = TestEnv::new();
    let dir = project(
        &env,
        "",
        &["malicious/torch-zip-payload.pt", "benign/small.safetensors"],
    );
    let r = env.run(&dir, &["pin"]).expect_code(1);
    assert!(
        !dir.join("mlprov.lock").exists(),
        "lock written despite a failing scan"
    );
    for needle in [
        "input `weights`",
        "torch-zip-payload.pt",
        "archive/data.pkl",
        "S0101",
        "os.system",
        "formats.allow",
        "\"pickle-global:os.system\"",
        "mlprov.lock was not written",
    ] {
        assert!(
            r.stderr.contains(needle),
            "missing `{needle}` in:\n{}",
            r.stderr
        );
    }
    // Allowing exactly that global lets pin through.
    let dir = project(&env, "formats.allow = [\"pickle-global:os.system\"]", &[]);
    env.run(&dir, &["pin"]).ok();
    assert!(dir.join("mlprov.lock").exists());
}

#[test]
fn pin_applies_formats_deny_to_format_kinds() {
    let env = TestEnv::new();
    let dir = project(
        &env,
        "formats.deny = [\"pytorch\"]",
        &["benign/state-dict.pt"],
    );
    let r = env.run(&dir, &["pin"]).expect_code(1);
    assert!(r.stderr.contains("state-dict.pt"), "{}", r.stderr);
    assert!(r.stderr.contains("denied"), "{}", r.stderr);
    assert!(!dir.join("mlprov.lock").exists());
    // Without the deny, the same clean checkpoint pins.
    let dir = project(&env, "", &[]);
    env.run(&dir, &["pin"]).ok();
}

#[test]
fn pin_rejects_bad_allow_entries_in_the_manifest() {
    let env = TestEnv::new();
    let dir = project(
        &env,
        "formats.allow = [\"pickles:os.system\"]",
        &["benign/small.safetensors"],
    );
    let r = env.run(&dir, &["pin"]).expect_code(2);
    assert!(r.stderr.contains("formats.allow"), "{}", r.stderr);
}

/// Every global CPython's unpickler imports from a corpus pickle (loading it
/// the three ways loaders do: loads, BytesIO, a real file; stacked pickles
/// included) is reported by mlprov, and for benign pickles the import lists
/// are equal. The oracle never runs a payload (scripts/pickle-oracle.py).
#[test]
fn pickle_walk_matches_cpython() {
    let env = TestEnv::new();
    let c = corpus();
    let r = env
        .run(&c, &["scan", "--format", "json", "malicious", "benign"])
        .expect_code(1);
    let doc = r.json();
    let files: Vec<&serde_json::Value> = doc["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|f| matches!(f["format"].as_str(), Some("pickle" | "pytorch-legacy")))
        .collect();
    assert!(files.len() >= 40, "only {} pickle files", files.len());
    let paths: Vec<&str> = files
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    let out = Command::new("python3")
        .arg(repo_root().join("scripts").join("pickle-oracle.py"))
        .args(&paths)
        .current_dir(&c)
        .output();
    let Ok(out) = out else {
        if in_ci() {
            panic!("python3 is needed for the CPython oracle");
        }
        skip("python3 not found");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let oracle: serde_json::Value = serde_json::from_slice(&out.stdout).expect("oracle json");
    let mut problems = Vec::new();
    for f in files {
        let path = f["path"].as_str().expect("path");
        let mut ours: BTreeSet<String> = f["imports"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().expect("str").to_string())
                    .collect()
            })
            .unwrap_or_default();
        ours.extend(
            f["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x["subject"].as_str().map(str::to_string)),
        );
        let dynamic = codes(f).contains("S0102");
        for mode in ["loads", "bytesio", "file"] {
            let theirs: BTreeSet<String> = oracle[path][mode]
                .as_array()
                .expect("mode")
                .iter()
                .map(|x| x.as_str().expect("str").to_string())
                .collect();
            let missed: Vec<&String> = theirs.difference(&ours).collect();
            if !missed.is_empty() && !dynamic {
                problems.push(format!(
                    "{path} ({mode}): CPython imports {missed:?}, mlprov reports {ours:?}"
                ));
            }
            if path.starts_with("benign/") && theirs != ours {
                problems.push(format!(
                    "{path} ({mode}): CPython imports {theirs:?}, mlprov {ours:?}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The real loaders (numpy, joblib, jinja2; torch and keras where
/// installed) on the corpus, through scripts/loader-oracle.py: every file
/// whose payload a loader runs is flagged by mlprov, and no benign file runs
/// a payload. In CI, numpy, joblib and jinja2 must be there (`.ci/run`
/// installs them into the validators venv).
#[test]
#[ignore = "needs ../shared/tools"]
fn real_loaders_run_only_what_mlprov_flags() {
    let Some(bin) = validators() else {
        skip("validators venv not found");
        return;
    };
    let env = TestEnv::new();
    let c = corpus();
    let doc = env
        .run(
            &c,
            &["scan", "--format", "json", "malicious", "review", "benign"],
        )
        .expect_code(1)
        .json();
    let out = Command::new(bin.join("python"))
        .arg(repo_root().join("scripts").join("loader-oracle.py"))
        .arg("--corpus")
        .arg(&c)
        .output()
        .expect("run the loader oracle");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let oracle: serde_json::Value = serde_json::from_slice(&out.stdout).expect("oracle json");
    let files = doc["files"].as_array().expect("files");
    let mut problems = Vec::new();
    let mut confirmed: std::collections::BTreeMap<String, usize> = Default::default();
    for (path, o) in oracle.as_object().expect("object") {
        let Some(loader) = o["loader"].as_str() else {
            let missing = o["missing"].as_str().unwrap_or("?");
            if in_ci() && matches!(missing, "numpy" | "joblib" | "jinja2") {
                problems.push(format!("{path}: {missing} is not installed"));
            }
            continue;
        };
        let f = files
            .iter()
            .find(|f| f["path"] == path.as_str())
            .expect("scanned");
        let ran = o["ran"].as_bool().expect("ran");
        if ran {
            *confirmed.entry(loader.to_string()).or_default() += 1;
            if !fails(f) {
                problems.push(format!(
                    "{path}: {loader} runs its payload but mlprov passes it"
                ));
            }
        }
        if path.starts_with("benign/") && ran {
            problems.push(format!("{path}: a benign file runs a payload in {loader}"));
        }
        if path.starts_with("benign/") && fails(f) {
            problems.push(format!("{path}: benign for {loader} but flagged"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    eprintln!("payloads confirmed per loader: {confirmed:?}");
    assert!(
        confirmed.get("numpy").copied().unwrap_or(0) >= 20,
        "{confirmed:?}"
    );
}
