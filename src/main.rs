//! The `mlprov` binary: parse arguments, run the command, map the outcome to an exit code.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::FromArgMatches;

fn main() -> ExitCode {
    // `COMPLETE=bash mlprov …`: the shell asks for candidates; answer and exit.
    clap_complete::CompleteEnv::with_factory(mlprov::help::command)
        .var(mlprov::commands::completions::COMPLETE_VAR)
        .shells(mlprov::commands::completions::SHELLS)
        .complete();
    let matches = mlprov::help::command().get_matches();
    let cli = mlprov::cli::Cli::from_arg_matches(&matches)
        .unwrap_or_else(|e| e.format(&mut mlprov::help::command()).exit());
    mlprov::commands::run(cli).into()
}
