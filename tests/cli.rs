//! CLI surface: help, generated files.

use crate::common::*;

#[test]
fn help_lists_only_working_commands() {
    let env = TestEnv::new();
    let r = env.run(&env.work(), &["--help"]).ok();
    assert!(r.stdout.contains("pin"));
    assert!(!r.stdout.contains("schema"), "hidden commands stay hidden");
}

#[test]
fn drawing_formats_are_only_for_graph() {
    let env = TestEnv::new();
    for f in ["dot", "mermaid"] {
        let r = env.run(&env.work(), &["--format", f, "pin"]).expect_code(2);
        assert!(
            r.stderr
                .contains(&format!("`--format {f}` is only for `mlprov graph`")),
            "{}",
            r.stderr
        );
    }
}

/// Global options work before and after a nested subcommand
/// (`attest -q import …`, `--format`, `-C`); an `attest` option before
/// `import` is refused, naming where it belongs.
#[test]
fn global_options_work_around_nested_subcommands() {
    let env = TestEnv::new();
    let dir = ProjectBuilder::new(env.work().join("p")).build();
    let d = dir.to_str().unwrap();
    for args in [
        &["attest", "-q", "import", "base", "--key", "k.key"][..],
        &[
            "attest", "--format", "json", "import", "base", "--key", "k.key",
        ],
        &["attest", "-C", d, "import", "base", "--key", "k.key"],
        &["attest", "import", "-q", "base", "--key", "k.key"],
        &[
            "-q", "attest", "import", "base", "--key", "k.key", "--format", "json",
        ],
    ] {
        let r = Run::of(env.cmd(&dir).args(args));
        assert!(
            !r.stderr.contains("cannot be used with") && !r.stderr.contains("Usage:"),
            "{args:?} was refused by the parser:\n{}",
            r.stderr
        );
        // It reached the command: there is no lock to import from.
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
    let r = Run::of(
        env.cmd(&dir)
            .args(["attest", "--key", "k.key", "import", "base"]),
    )
    .expect_code(2);
    // clap (the subcommand's own --key is missing) or mlprov refuses it.
    assert!(
        r.stderr.contains("attest import") && r.stderr.contains("--key"),
        "{}",
        r.stderr
    );
}

/// A file name with CR and ESC cannot rewrite the line that reports it:
/// human output (stdout and stderr) shows the control characters escaped;
/// JSON keeps the exact name.
#[cfg(unix)]
#[test]
fn control_characters_in_file_names_are_escaped_in_human_output() {
    let env = TestEnv::new();
    let dir = env.work().join("m");
    std::fs::create_dir_all(&dir).unwrap();
    let name = "evil\r\u{1b}[2Kok.pkl";
    std::fs::write(dir.join(name), EVIL_PICKLE).unwrap();
    let r = Run::of(env.cmd(&env.work()).args(["scan", "m", "--color", "never"]));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    for text in [&r.stdout, &r.stderr] {
        assert!(!text.contains('\r') && !text.contains('\u{1b}'), "{text:?}");
    }
    assert!(r.stdout.contains("evil\\r\\u{1b}[2Kok.pkl"), "{}", r.stdout);
    let r = Run::of(env.cmd(&env.work()).args(["scan", "m", "--format", "json"]));
    assert!(r.stdout.contains("evil\\r\\u001b[2Kok.pkl"), "{}", r.stdout);
}
