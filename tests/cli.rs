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
