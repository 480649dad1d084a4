//! The documented paths are tests: a ```console block in README.md or
//! examples/*/README.md that is marked, in the Markdown source, with
//!
//! ```text
//! <!-- mlprov-test: NAME -->
//! ```
//!
//! on the line before it runs here, command by command, in the setting NAME
//! names, and its output is compared line by line with what the block shows
//! (after filters for digests, commit ids, times, rates and temporary
//! paths, applied to both sides). Editing an output line of such a block
//! makes this test fail; so does a command that exits non-zero.
//!
//! `MLPROV_README_BLESS=1 cargo test --test tests readme::` rewrites each
//! marked block with what its commands printed (as `INSTA_UPDATE` would a
//! snapshot); review the diff before committing it.
//!
//! Every ```console block of those files must be marked (a test holds them
//! to it). After the setting, the marker may list each command's expected
//! exit status (`<!-- mlprov-test: fixtures exit=0,1 -->`; default 0).
//!
//! Settings:
//!
//! - `finetune`: a fresh checkout (the tracked files of `examples/finetune`
//!   in a new git repository, at `examples/finetune` of it), a fresh
//!   `MLPROV_HOME`, the binary under test on `PATH`, and a local registry
//!   (tests/registry/) standing in for the block's `localhost:5000` and
//!   `registry.example.com` (plain HTTP, `MLPROV_REGISTRY_PLAIN_HTTP=1`).
//! - `signed`: `finetune` after the README's walkthrough up to `sign`
//!   (`prepare_base.py`, `pin`, `build`, `keygen --no-password`, `attest
//!   --key cosign.key`, `sign --key cosign.key`), in `examples/finetune`.
//! - `keyless`: `finetune` after `prepare_base.py`, `pin` and `build`, in
//!   `examples/finetune`, with a local Fulcio, Rekor and GitHub Actions
//!   token service (tests/sigstore_server.rs, the job's identity
//!   `acme/support/.github/workflows/train-and-release.yml@refs/heads/main`)
//!   in `MLPROV_FULCIO_URL`, `MLPROV_REKOR_URL`, `MLPROV_TRUSTED_ROOT` and
//!   `ACTIONS_ID_TOKEN_REQUEST_URL`/`…_TOKEN`.
//! - `fixtures`: a directory holding model_signing's keyless reference
//!   model as `v1.1.0-sigstore/` and as `model/`, and the public-good
//!   `public-good-trusted_root.json` (from ../shared/fixtures).
//! - `graph`: the provenance-graph scenario of tests/graph.rs (a base model
//!   imported with the platform key, a dataset built with the data key, a
//!   model fine-tuned from both and signed with the training key, every
//!   step by mlprov's commands), in the fine-tuned project `f/`; `../` holds
//!   `keys/`, the README's `# policy.toml` block as `policy.toml`, the same
//!   without `CC0-1.0` as `policy-without-cc0.toml`, and the README's
//!   `package model.deployment` Rego block as `model-deployment.rego`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use crate::registry::server::Registry;

/// A marked console block: where it is, its setting, and its commands with
/// the output each shows.
struct Block {
    file: PathBuf,
    line: usize,
    setting: String,
    /// The exit status each command must have (0 where not listed).
    exits: Vec<i32>,
    steps: Vec<(String, Vec<String>)>,
}

fn blocks() -> Vec<Block> {
    let root = repo_root();
    let mut files = vec![root.join("README.md")];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path().join("README.md")))
        .filter(|p| p.is_file())
        .collect();
    examples.sort();
    files.extend(examples);
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let Some(setting) = lines[i]
                .trim()
                .strip_prefix("<!-- mlprov-test:")
                .and_then(|r| r.strip_suffix("-->"))
                .map(|s| s.trim().to_string())
            else {
                i += 1;
                continue;
            };
            assert_eq!(
                lines.get(i + 1).map(|l| l.trim()),
                Some("```console"),
                "{}:{}: a mlprov-test marker must precede a ```console block",
                file.display(),
                i + 1
            );
            let (setting, exits) = match setting.split_once(' ') {
                Some((name, rest)) => {
                    let list = rest.trim().strip_prefix("exit=").unwrap_or_else(|| {
                        panic!(
                            "{}:{}: after the setting only `exit=N,M…`",
                            file.display(),
                            i + 1
                        )
                    });
                    let exits = list
                        .split(',')
                        .map(|n| n.trim().parse().expect("exit=N,M…: numbers"))
                        .collect();
                    (name.to_string(), exits)
                }
                None => (setting, Vec::new()),
            };
            let start = i + 1;
            let mut steps: Vec<(String, Vec<String>)> = Vec::new();
            let mut j = i + 2;
            while j < lines.len() && lines[j].trim() != "```" {
                let l = lines[j];
                if let Some(cmd) = l.strip_prefix("$ ") {
                    let mut cmd = cmd.to_string();
                    while cmd.ends_with('\\') {
                        j += 1;
                        cmd.push('\n');
                        cmd.push_str(lines[j]);
                    }
                    steps.push((cmd, Vec::new()));
                } else {
                    let step = steps.last_mut().unwrap_or_else(|| {
                        panic!("{}:{}: output before any command", file.display(), j + 1)
                    });
                    step.1.push(l.to_string());
                }
                j += 1;
            }
            out.push(Block {
                file: file.clone(),
                line: start + 1,
                setting,
                exits,
                steps,
            });
            i = j;
        }
    }
    out
}

/// The filters, applied to what the block shows and to what ran.
fn filter(text: &str, subst: &[(String, String)]) -> String {
    let mut t = text.to_string();
    for (from, to) in subst {
        t = t.replace(from, to);
    }
    let rules: [(&str, &str); 9] = [
        // How much a push uploaded, and how fast (signatures vary in size).
        (r"\(\d+(\.\d+)? (B|KiB|MiB|GiB) in [^)]*\)", "([UPLOADED])"),
        (r"sha256:[0-9a-f]{64}", "sha256:[DIGEST]"),
        (r"sha256:[0-9a-f]{12}", "sha256:[SHORT]"),
        (r"\bsha256-[0-9a-f]{64}", "sha256-[DIGEST]"),
        (r"git:[0-9a-f]{12}", "git:[COMMIT]"),
        (r"\b[0-9a-f]{64}\b", "[HEX]"),
        (r"\b\d+(\.\d+)?s\b", "[DURATION]"),
        (r"\d+(\.\d+)? (B|KiB|MiB|GiB)/s\b", "[RATE]"),
        (r"/\S*/mlprov-test-[^/\s]+", "[TMP]"),
    ];
    for (re, with) in rules {
        t = regex::Regex::new(re)
            .unwrap()
            .replace_all(&t, with)
            .into_owned();
    }
    t
}

/// Run a block's commands in one bash session (so `cd` and `export`
/// carry over), each with stderr merged into stdout as a terminal shows
/// them, and return each command's exit status and output.
fn run_block(
    block: &Block,
    cwd: &Path,
    env: &BTreeMap<String, String>,
    subst_in: &[(String, String)],
) -> Vec<(i32, String)> {
    let mut script = String::new();
    for (i, (cmd, _)) in block.steps.iter().enumerate() {
        let mut cmd = cmd.clone();
        for (from, to) in subst_in {
            cmd = cmd.replace(from, to);
        }
        script.push_str(&format!(
            "printf '\\n@@mlprov-step {i}\\n'\n{{ {cmd}\n}} 2>&1\nprintf '\\n@@mlprov-rc %s\\n' \"$?\"\n"
        ));
    }
    let mut c = std::process::Command::new("bash");
    c.args(["--noprofile", "--norc", "-c", &script])
        .current_dir(cwd)
        .env_clear();
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("bash");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut results = Vec::new();
    for part in text.split("\n@@mlprov-step ").skip(1) {
        let (_, rest) = part.split_once('\n').unwrap_or((part, ""));
        let (body, rc) = rest
            .rsplit_once("\n@@mlprov-rc ")
            .unwrap_or_else(|| panic!("no exit status in {rest:?}"));
        let rc: i32 = rc.trim().parse().unwrap_or(-1);
        results.push((rc, body.trim_end_matches('\n').to_string()));
    }
    results
}

/// The tracked files under `prefix` of this checkout, in a new git
/// repository at `dir` (what a fresh clone has of them).
fn fresh_clone_of(prefix: &str, dir: &Path) {
    let root = repo_root();
    let repo = git2::Repository::open(&root).expect("the mlprov checkout is a git repository");
    let index = repo.index().expect("index");
    for e in index.iter() {
        let path = String::from_utf8_lossy(&e.path).to_string();
        if path.starts_with(prefix) {
            write(
                dir,
                &path,
                std::fs::read(root.join(&path)).expect("tracked file"),
            );
        }
    }
    git_init_commit(dir);
}

/// What every setting's shell has: the binary under test on `PATH`, a
/// fresh home, store, cache and Docker config, no colour, 100 columns.
fn base_vars(env: &TestEnv) -> BTreeMap<String, String> {
    let bin_dir = Path::new(bin()).parent().unwrap();
    let mut vars = BTreeMap::new();
    let path = |p: &str| env.path().join(p).display().to_string();
    vars.insert(
        "PATH".to_string(),
        format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    vars.insert("HOME".to_string(), path("user"));
    vars.insert("TMPDIR".to_string(), path("tmp"));
    std::fs::create_dir_all(env.path().join("tmp")).unwrap();
    vars.insert("MLPROV_HOME".to_string(), path("home"));
    vars.insert("MLPROV_CACHE_DIR".to_string(), path("cache"));
    vars.insert("NO_COLOR".to_string(), "1".to_string());
    vars.insert("COLUMNS".to_string(), "100".to_string());
    vars.insert("DOCKER_CONFIG".to_string(), path("docker"));
    vars
}

/// A fenced block of README.md by its language and first line.
fn readme_block(lang: &str, first_line: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let fence = format!("```{lang}\n{first_line}\n");
    let start = text
        .find(&fence)
        .unwrap_or_else(|| panic!("README.md has no ```{lang} block starting with {first_line:?}"));
    let body = &text[start + fence.len() - first_line.len() - 1..];
    let end = body.find("\n```").expect("an unterminated block");
    format!("{}\n", &body[..end])
}

/// Where a block runs, with what, and the text exchanged between the
/// block and the run (`localhost:5000` ↔ the test registry's address).
struct Setting {
    cwd: PathBuf,
    vars: BTreeMap<String, String>,
    subst_in: Vec<(String, String)>,
    subst_out: Vec<(String, String)>,
    // Kept alive while the block runs.
    _env: TestEnv,
    _registry: Option<Registry>,
    _scenario: Option<crate::graph::Scenario>,
    _sigstore: Option<crate::sigstore_server::Sigstore>,
}

/// `None` when what the setting needs is absent (said why; a failure under CI).
fn setting(name: &str) -> Option<Setting> {
    match name {
        "finetune" | "signed" | "keyless" => {
            let reg = Registry::start(false)?;
            let env = TestEnv::new();
            let checkout = env.work().join("mlprov");
            fresh_clone_of("examples/finetune/", &checkout);
            let mut vars = base_vars(&env);
            vars.insert("MLPROV_REGISTRY_PLAIN_HTTP".to_string(), "1".to_string());
            let mut cwd = checkout.clone();
            let mut sigstore = None;
            let mut subst_out_extra = Vec::new();
            if name == "keyless" {
                let sg = crate::sigstore_server::Sigstore::start();
                let root = env.path().join("trusted_root.json");
                std::fs::write(
                    &root,
                    serde_json::to_vec_pretty(&sg.trusted_root()).unwrap(),
                )
                .unwrap();
                vars.insert("MLPROV_FULCIO_URL".to_string(), sg.url.clone());
                vars.insert("MLPROV_REKOR_URL".to_string(), sg.url.clone());
                vars.insert(
                    "MLPROV_TRUSTED_ROOT".to_string(),
                    root.display().to_string(),
                );
                for (k, v) in sg.actions_env() {
                    vars.insert(k.to_string(), v);
                }
                // The local services stand in for the public-good ones.
                subst_out_extra.push((sg.url.clone(), "https://fulcio.sigstore.dev".to_string()));
                sigstore = Some(sg);
            }
            if name != "finetune" {
                cwd = checkout.join("examples/finetune");
                let walk = if name == "signed" {
                    "python3 prepare_base.py && mlprov pin && mlprov build && \
                    mlprov keygen --no-password && mlprov attest --key cosign.key && \
                    mlprov sign --key cosign.key"
                } else {
                    "python3 prepare_base.py && mlprov pin && mlprov build"
                };
                let out = std::process::Command::new("bash")
                    .args(["--noprofile", "--norc", "-c", walk])
                    .current_dir(&cwd)
                    .env_clear()
                    .envs(&vars)
                    .output()
                    .expect("bash");
                assert!(
                    out.status.success(),
                    "the walkthrough before a `{name}` block failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Some(Setting {
                subst_in: vec![
                    ("localhost:5000".to_string(), reg.addr.clone()),
                    ("registry.example.com".to_string(), reg.addr.clone()),
                ],
                subst_out: [
                    (reg.addr.clone(), "localhost:5000".to_string()),
                    (checkout.display().to_string(), "~/mlprov".to_string()),
                ]
                .into_iter()
                .chain(subst_out_extra)
                .collect(),
                cwd,
                vars,
                _env: env,
                _registry: Some(reg),
                _scenario: None,
                _sigstore: sigstore,
            })
        }
        "fixtures" => {
            let fx = shared_fixtures("model-signing", &["v1.1.0-sigstore/model.sig"])?;
            let root = shared_fixtures("sigstore", &["public-good-trusted_root.json"])?;
            let env = TestEnv::new();
            let cwd = env.work().join("fixtures");
            copy_dir(&fx.join("v1.1.0-sigstore"), &cwd.join("v1.1.0-sigstore"));
            copy_dir(&fx.join("v1.1.0-sigstore"), &cwd.join("model"));
            std::fs::copy(
                root.join("public-good-trusted_root.json"),
                cwd.join("public-good-trusted_root.json"),
            )
            .unwrap();
            let mut vars = base_vars(&env);
            // What a GitHub step has besides GITHUB_ACTIONS (the block sets that).
            let outputs = env.path().join("github-output");
            vars.insert("GITHUB_OUTPUT".to_string(), outputs.display().to_string());
            vars.insert("GITHUB_WORKSPACE".to_string(), cwd.display().to_string());
            Some(Setting {
                subst_in: Vec::new(),
                subst_out: vec![(cwd.display().to_string(), "~/fixtures".to_string())],
                cwd,
                vars,
                _env: env,
                _registry: None,
                _scenario: None,
                _sigstore: None,
            })
        }
        "graph" => {
            let sc = crate::graph::Scenario::build(false, true);
            let policy = readme_block(
                "toml",
                "# policy.toml (or the same keys under [policy] in mlprov.toml)",
            );
            std::fs::write(sc.work.join("policy.toml"), &policy).unwrap();
            let without = policy.replacen("\"CC0-1.0\", ", "", 1);
            assert_ne!(without, policy, "the README's policy.toml allows CC0-1.0");
            std::fs::write(sc.work.join("policy-without-cc0.toml"), without).unwrap();
            std::fs::write(
                sc.work.join("model-deployment.rego"),
                readme_block("rego", "package model.deployment"),
            )
            .unwrap();
            let env = TestEnv::new();
            let mut vars = base_vars(&env);
            // The scenario's store, not a fresh one.
            vars.insert(
                "MLPROV_HOME".to_string(),
                sc.env.path().join("home").display().to_string(),
            );
            Some(Setting {
                cwd: sc.fdir(),
                subst_in: Vec::new(),
                subst_out: vec![
                    (
                        sc.env.path().join("home").display().to_string(),
                        "~/.local/share/mlprov".to_string(),
                    ),
                    (sc.work.display().to_string(), "~/graph".to_string()),
                ],
                vars,
                _env: env,
                _registry: None,
                _scenario: Some(sc),
                _sigstore: None,
            })
        }
        other => panic!("unknown mlprov-test setting {other:?}"),
    }
}

#[test]
fn marked_readme_console_blocks_run_and_match() {
    let all = blocks();
    assert!(
        all.iter().any(|b| b.setting == "finetune"),
        "no `<!-- mlprov-test: finetune -->` block in the READMEs"
    );
    let bless = std::env::var_os("MLPROV_README_BLESS").is_some();
    let mut blessed: BTreeMap<PathBuf, Vec<(usize, String)>> = BTreeMap::new();
    let mut failures = Vec::new();
    for block in &all {
        let Some(st) = setting(&block.setting) else {
            continue;
        };
        let results = run_block(block, &st.cwd, &st.vars, &st.subst_in);
        // The registry's address reads as the host the block names.
        let shown_host = if block
            .steps
            .iter()
            .any(|(c, _)| c.contains("registry.example.com"))
        {
            "registry.example.com"
        } else {
            "localhost:5000"
        };
        let subst_out: Vec<(String, String)> = st
            .subst_out
            .iter()
            .map(|(from, to)| {
                let to = if to == "localhost:5000" {
                    shown_host
                } else {
                    to.as_str()
                };
                (from.clone(), to.to_string())
            })
            .collect();
        assert_eq!(
            results.len(),
            block.steps.len(),
            "{}:{}: not every command ran: {results:?}",
            block.file.display(),
            block.line
        );
        let failed_before = failures.len();
        for (i, ((cmd, shown), (rc, got))) in block.steps.iter().zip(&results).enumerate() {
            let want_rc = block.exits.get(i).copied().unwrap_or(0);
            let want = filter(&shown.join("\n"), &[]);
            let have = filter(got, &subst_out);
            if *rc != want_rc || want != have {
                failures.push(format!(
                    "{}:{}: `$ {cmd}` exited {rc} (the README says {want_rc})\n--- the README shows\n{want}\n--- it printed\n{have}\n",
                    block.file.display(),
                    block.line
                ));
            }
        }
        if bless && failures.len() > failed_before {
            let mut text = String::from("```console\n");
            for ((cmd, _), (_, got)) in block.steps.iter().zip(&results) {
                text.push_str(&format!("$ {cmd}\n"));
                let mut got = got.clone();
                for (from, to) in &subst_out {
                    got = got.replace(from, to);
                }
                for l in got.lines() {
                    text.push_str(l.trim_end());
                    text.push('\n');
                }
            }
            blessed
                .entry(block.file.clone())
                .or_default()
                .push((block.line, text));
        }
    }
    for (file, blocks) in blessed {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < lines.len() {
            // `line` is the 1-based line of the block's opening fence.
            if let Some((_, new)) = blocks.iter().find(|(l, _)| *l == i + 1) {
                out.push_str(new);
                i += 1;
                while lines[i].trim() != "```" {
                    i += 1;
                }
            }
            out.push_str(lines[i]);
            out.push('\n');
            i += 1;
        }
        std::fs::write(&file, out).unwrap();
        eprintln!("blessed {}", file.display());
    }
    if !bless {
        assert!(
            failures.is_empty(),
            "{}\nIf mlprov's output changed on purpose, rewrite the blocks with \
             `MLPROV_README_BLESS=1 cargo test --test tests readme::marked` and review the diff.",
            failures.join("\n")
        );
    }
}

/// Every ```console block of README.md and examples/*/README.md is marked:
/// a transcript in the documentation is a test.
#[test]
fn every_readme_console_block_is_marked() {
    let root = repo_root();
    let mut files = vec![root.join("README.md")];
    for e in std::fs::read_dir(root.join("examples")).unwrap() {
        let p = e.unwrap().path().join("README.md");
        if p.is_file() {
            files.push(p);
        }
    }
    let mut unmarked = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if l.trim() == "```console"
                && !(i > 0 && lines[i - 1].trim().starts_with("<!-- mlprov-test:"))
            {
                unmarked.push(format!("{}:{}", file.display(), i + 1));
            }
        }
    }
    assert!(
        unmarked.is_empty(),
        "console blocks without a `<!-- mlprov-test: SETTING -->` marker (see tests/readme.rs): {unmarked:?}"
    );
}
