//! `mlprov completions SHELL`.

use clap::CommandFactory;
use std::path::PathBuf;

use miette::{IntoDiagnostic, Result, WrapErr};

use super::Context;
use crate::cli::{Cli, CompletionsArgs};
use crate::settings::EnvironmentOptions;

/// The completion script for `shell`, as bytes.
pub fn render(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "mlprov", &mut buf);
    buf
}

pub fn run(cx: &Context, args: CompletionsArgs) -> Result<()> {
    let shell = match args.shell {
        Some(s) => s,
        None => cx
            .settings
            .env
            .shell
            .as_deref()
            .and_then(clap_complete::Shell::from_shell_path)
            .ok_or_else(|| {
                miette::miette!(
                    code = "mlprov::usage",
                    help = "name the shell: mlprov completions --install bash|zsh|fish",
                    "--install: cannot tell the shell from $SHELL"
                )
            })?,
    };
    if !args.install {
        cx.printer.out(&String::from_utf8_lossy(&render(shell)));
        return Ok(());
    }
    let path = install_path(shell, &cx.settings.env)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot create {}", dir.display()))?;
    }
    crate::fsutil::write_atomic(&path, &render(shell))
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write {}", path.display()))?;
    cx.printer.status(
        "Installed",
        &format!("{shell} completions to {}", path.display()),
    );
    if shell == clap_complete::Shell::Zsh {
        cx.printer.status(
            "Note",
            &format!(
                "add `fpath=({} $fpath)` before `compinit` in ~/.zshrc if it is not there yet",
                path.parent()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default()
            ),
        );
    }
    Ok(())
}

/// A user directory, or an error naming the variable that would give it.
fn user_dir(dir: Option<PathBuf>, var: &str) -> Result<PathBuf> {
    dir.ok_or_else(|| {
        miette::miette!(
            code = "mlprov::usage",
            help = format!("set HOME or {var}"),
            "--install: no home directory"
        )
    })
}

/// Where `shell` loads completion scripts from, for this user.
pub fn install_path(shell: clap_complete::Shell, env: &EnvironmentOptions) -> Result<PathBuf> {
    use clap_complete::Shell;
    let data = || user_dir(env.data_home(), "XDG_DATA_HOME");
    Ok(match shell {
        Shell::Bash => match &env.bash_completion_user_dir {
            Some(d) => d.join("completions").join("mlprov"),
            None => data()?
                .join("bash-completion")
                .join("completions")
                .join("mlprov"),
        },
        Shell::Zsh => data()?.join("zsh").join("site-functions").join("_mlprov"),
        Shell::Fish => user_dir(env.config_home(), "XDG_CONFIG_HOME")?
            .join("fish")
            .join("completions")
            .join("mlprov.fish"),
        other => miette::bail!(
            code = "mlprov::usage",
            help = format!(
                "load the printed script from your profile instead: mlprov completions {other}"
            ),
            "--install: {other} has no directory it loads completion scripts from"
        ),
    })
}
