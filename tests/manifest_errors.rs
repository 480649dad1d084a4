//! A table of malformed manifests, each with a snapshot of the error (span,
//! label and help), rendered exactly as a user sees it.

use crate::common::*;

const HEAD: &str = r#"[artifact]
name = "acme/m"
version = "0.1.0"
kind = "model"
path = "out/"
"#;

fn with_inputs(inputs: &str) -> String {
    format!("{HEAD}\n[inputs]\n{inputs}\n")
}

#[test]
fn malformed_manifests() {
    let cases: Vec<(&str, String)> = vec![
        (
            "syntax",
            format!("{HEAD}\n[inputs]\nbase = {{ hf = \"org/m\", role = \"base-model\" \n"),
        ),
        ("missing_artifact", "[inputs]\n".to_string()),
        (
            "unknown_table",
            format!("{HEAD}\n[artefact]\nname = \"x\"\n"),
        ),
        (
            "unknown_artifact_key",
            HEAD.replace("path = \"out/\"", "path = \"out/\"\nlicence = \"MIT\""),
        ),
        ("missing_name", HEAD.replace("name = \"acme/m\"\n", "")),
        (
            "bad_kind",
            HEAD.replace("kind = \"model\"", "kind = \"checkpoint\""),
        ),
        (
            "bad_license",
            HEAD.replace("path = \"out/\"", "path = \"out/\"\nlicense = \"Apache 2\""),
        ),
        (
            "non_spdx_license",
            HEAD.replace("path = \"out/\"", "path = \"out/\"\nlicense = \"Llama-3\""),
        ),
        (
            "wrong_type",
            HEAD.replace("version = \"0.1.0\"", "version = 1"),
        ),
        (
            "two_sources",
            with_inputs(r#"base = { hf = "org/m", path = "models/m", role = "base-model" }"#),
        ),
        (
            "no_source",
            with_inputs(r#"base = { revision = "main", role = "base-model" }"#),
        ),
        (
            "url_without_sha256",
            with_inputs(r#"tok = { url = "https://example.com/tok.json", role = "config" }"#),
        ),
        (
            "bad_sha256",
            with_inputs(
                r#"tok = { url = "https://example.com/tok.json", sha256 = "9f86d0", role = "config" }"#,
            ),
        ),
        (
            "unknown_role",
            with_inputs(r#"data = { path = "data/", role = "train-data" }"#),
        ),
        ("missing_role", with_inputs(r#"data = { path = "data/" }"#)),
        (
            "bad_hf_id",
            with_inputs(r#"base = { hf = "https://huggingface.co/org/m", role = "base-model" }"#),
        ),
        (
            "path_outside",
            with_inputs(r#"data = { path = "../shared/data", role = "training-data" }"#),
        ),
        (
            "absolute_path",
            with_inputs(r#"data = { path = "/mnt/data", role = "training-data" }"#),
        ),
        (
            "bad_glob",
            with_inputs(r#"base = { hf = "org/m", role = "base-model", include = ["*.{json"] }"#),
        ),
        (
            "key_for_other_source",
            with_inputs(
                r#"base = { hf = "org/m", sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", role = "base-model" }"#,
            ),
        ),
        ("input_not_a_table", with_inputs(r#"base = "org/m""#)),
        (
            "empty_command",
            format!("{HEAD}\n[training]\ncommand = []\n"),
        ),
        (
            "policy_unknown_format",
            format!("{HEAD}\n[policy]\nformats.deny = [\"pickles\"]\n"),
        ),
        (
            "policy_bad_allowed_license",
            format!("{HEAD}\n[policy]\nlicenses.allow = [\"MIT\", \"apache2\"]\n"),
        ),
        (
            "policy_unknown_role",
            format!("{HEAD}\n[policy.roles.base]\nrequire = []\n"),
        ),
        (
            "policy_incomplete_signer",
            format!(
                "{HEAD}\n[policy.roles.base-model]\nsigners = [{{ identity = \"https://github.com/acme/x/.github/workflows/a.yml@refs/heads/main\" }}]\n"
            ),
        ),
        (
            "many_problems",
            with_inputs(
                "a = { hf = \"org/m\", role = \"base\" }\nb = { url = \"ftp://x\", role = \"config\" }\nc = { path = \"d/\", role = \"other\", exclude = \"*.tmp\" }",
            ),
        ),
    ];
    assert!(cases.len() >= 15);
    let env = TestEnv::new();
    let mut names = std::collections::BTreeSet::new();
    for (name, text) in cases {
        assert!(names.insert(name), "duplicate case {name}");
        let dir = env.work().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("mlprov.toml"), &text).unwrap();
        let r = env.run(&dir, &["pin"]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains("help:"),
            "{name} has no help: {}",
            r.stderr
        );
        assert!(!dir.join("mlprov.lock").exists(), "{name} wrote a lock");
        let shown = r.stderr.replace(&dir.display().to_string(), "[PROJECT]");
        insta::assert_snapshot!(name, shown);
    }
}

/// Under GitHub Actions, a manifest with several problems is one `::error`
/// per problem, each with its file (relative to the workspace, else to the
/// working directory; never absolute) and line.
#[test]
fn every_problem_is_a_github_annotation_with_file_and_line() {
    let env = TestEnv::new();
    let dir = env.work().join("proj");
    std::fs::create_dir_all(&dir).unwrap();
    let text = with_inputs(
        "a = { hf = \"org/a\", role = \"base-modle\" }\nb = { path = \"/abs\", role = \"config\" }",
    )
    .replace("kind = \"model\"", "kind = \"checkpoint\"");
    std::fs::write(dir.join("mlprov.toml"), &text).unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (workspace, file) in [
        (Some(env.work()), "proj/mlprov.toml"),
        (None, "mlprov.toml"),
    ] {
        let mut vars = vec![("GITHUB_ACTIONS", "true".to_string())];
        if let Some(w) = &workspace {
            vars.push(("GITHUB_WORKSPACE", w.display().to_string()));
        }
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = env.run_env(&dir, &["pin"], &vars).expect_code(2);
        let annotations: Vec<&str> = r
            .stderr
            .lines()
            .filter(|l| l.starts_with("::error"))
            .collect();
        assert_eq!(annotations.len(), 3, "{}", r.stderr);
        let mut lines: Vec<usize> = Vec::new();
        for a in &annotations {
            assert!(a.starts_with(&format!("::error file={file},line=")), "{a}");
            assert!(!a.contains("file=/"), "{a}");
            let n = a.split("line=").nth(1).unwrap().split(',').next().unwrap();
            lines.push(n.parse().unwrap());
        }
        lines.sort();
        assert_eq!(
            lines,
            [
                line_of("checkpoint"),
                line_of("base-modle"),
                line_of("/abs")
            ],
            "{}",
            r.stderr
        );
    }
}
