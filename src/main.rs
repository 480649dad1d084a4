//! The `mlprov` binary: parse arguments, run the command, map the outcome to an exit code.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = mlprov::cli::Cli::parse();
    mlprov::commands::run(cli).into()
}
