//! `mlprov completions SHELL`.

use clap::CommandFactory;
use miette::Result;

use super::{Context, ExitStatus};
use crate::cli::{Cli, CompletionsArgs};

/// The completion script for `shell`, as bytes.
pub fn render(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "mlprov", &mut buf);
    buf
}

pub fn run(cx: &Context, args: CompletionsArgs) -> Result<ExitStatus> {
    cx.printer
        .out(&String::from_utf8_lossy(&render(args.shell)));
    Ok(ExitStatus::Success)
}
