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
//! Settings:
//!
//! - `finetune`: a fresh checkout (the tracked files of `examples/finetune`
//!   in a new git repository, at `examples/finetune` of it), a fresh
//!   `MLPROV_HOME`, the binary under test on `PATH`, and a local registry
//!   (tests/registry/) standing in for the block's `localhost:5000`.

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
            "printf '\\n@@mlprov-step {i}\\n'\n{cmd} 2>&1\nprintf '\\n@@mlprov-rc %s\\n' \"$?\"\n"
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

fn finetune_setting(env: &TestEnv, reg: &Registry) -> (PathBuf, BTreeMap<String, String>) {
    let root = repo_root();
    let repo = git2::Repository::open(&root).expect("the mlprov checkout is a git repository");
    let index = repo.index().expect("index");
    let checkout = env.work().join("mlprov");
    for e in index.iter() {
        let path = String::from_utf8_lossy(&e.path).to_string();
        if path.starts_with("examples/finetune/") {
            write(
                &checkout,
                &path,
                std::fs::read(root.join(&path)).expect("tracked file"),
            );
        }
    }
    git_init_commit(&checkout);
    let bin_dir = Path::new(bin()).parent().unwrap();
    let mut vars = BTreeMap::new();
    vars.insert(
        "PATH".to_string(),
        format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    vars.insert(
        "HOME".to_string(),
        env.path().join("user").display().to_string(),
    );
    vars.insert(
        "TMPDIR".to_string(),
        env.path().join("tmp").display().to_string(),
    );
    std::fs::create_dir_all(env.path().join("tmp")).unwrap();
    vars.insert(
        "MLPROV_HOME".to_string(),
        env.path().join("home").display().to_string(),
    );
    vars.insert(
        "MLPROV_CACHE_DIR".to_string(),
        env.path().join("cache").display().to_string(),
    );
    vars.insert("NO_COLOR".to_string(), "1".to_string());
    vars.insert("COLUMNS".to_string(), "100".to_string());
    vars.insert(
        "DOCKER_CONFIG".to_string(),
        env.path().join("docker").display().to_string(),
    );
    let _ = reg;
    (checkout, vars)
}

#[test]
fn marked_readme_console_blocks_run_and_match() {
    let all = blocks();
    assert!(
        all.iter().any(|b| b.setting == "finetune"),
        "no `<!-- mlprov-test: finetune -->` block in the READMEs"
    );
    let mut failures = Vec::new();
    for block in &all {
        assert_eq!(
            block.setting,
            "finetune",
            "{}:{}: unknown mlprov-test setting",
            block.file.display(),
            block.line
        );
        let Some(reg) = Registry::start(false) else {
            return;
        };
        let env = TestEnv::new();
        let (cwd, vars) = finetune_setting(&env, &reg);
        let subst_in = vec![("localhost:5000".to_string(), reg.addr.clone())];
        let subst_out = vec![
            (reg.addr.clone(), "localhost:5000".to_string()),
            (cwd.display().to_string(), "~/mlprov".to_string()),
        ];
        let results = run_block(block, &cwd, &vars, &subst_in);
        assert_eq!(
            results.len(),
            block.steps.len(),
            "{}:{}: not every command ran: {results:?}",
            block.file.display(),
            block.line
        );
        for ((cmd, shown), (rc, got)) in block.steps.iter().zip(&results) {
            let want = filter(&shown.join("\n"), &[]);
            let have = filter(got, &subst_out);
            if *rc != 0 || want != have {
                failures.push(format!(
                    "{}:{}: `$ {cmd}` exited {rc}\n--- the README shows\n{want}\n--- it printed\n{have}\n",
                    block.file.display(),
                    block.line
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
