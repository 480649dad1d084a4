//! CLI surface: help, generated files.

use crate::common::*;

#[test]
fn help_lists_only_working_commands() {
    let env = TestEnv::new();
    let r = env.run(&env.work(), &["--help"]).ok();
    assert!(r.stdout.contains("pin"));
    assert!(!r.stdout.contains("schema"), "hidden commands stay hidden");
}
