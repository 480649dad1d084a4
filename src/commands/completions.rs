//! `mlprov completions SHELL`, and answering the shell when it asks
//! (`COMPLETE=bash mlprov -- mlprov pin --update ""`).
//!
//! bash, zsh and fish get clap_complete's dynamic registration: a small
//! function that runs `mlprov` to complete, so the candidates come from the
//! project in the current directory (src/help.rs says which). PowerShell and
//! Elvish get the static script.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap_complete::engine::CompletionCandidate;
use clap_complete::env::{Bash, EnvCompleter, Fish, Shells, Zsh};
use miette::{IntoDiagnostic, Result, WrapErr};

use super::Context;
use crate::cli::CompletionsArgs;
use crate::settings::EnvironmentOptions;

/// The variable the registered shell function sets to ask for candidates.
pub const COMPLETE_VAR: &str = "COMPLETE";

/// The shells mlprov completes dynamically.
pub const SHELLS: Shells<'static> = Shells(&[&Dynamic(Bash), &Dynamic(Zsh), &Dynamic(Fish)]);

/// The completion script for `shell`, as bytes.
pub fn render(shell: clap_complete::Shell) -> Vec<u8> {
    use clap_complete::Shell;
    let mut buf = Vec::new();
    let dynamic: Option<&dyn EnvCompleter> = match shell {
        Shell::Bash => Some(&Dynamic(Bash)),
        Shell::Zsh => Some(&Dynamic(Zsh)),
        Shell::Fish => Some(&Dynamic(Fish)),
        _ => None,
    };
    match dynamic {
        // Writing into a Vec cannot fail.
        Some(d) => {
            let _ = d.write_registration(COMPLETE_VAR, "mlprov", "mlprov", "mlprov", &mut buf);
            if shell == Shell::Zsh {
                // Autoloaded from fpath as `_mlprov`, the file's body runs on
                // the first TAB: complete that one too, not only later ones.
                buf.extend_from_slice(
                    b"if [ \"$funcstack[1]\" = \"_mlprov\" ]; then\n    _clap_dynamic_completer_mlprov \"$@\"\nfi\n",
                );
            }
        }
        None => {
            let mut cmd = crate::help::command();
            clap_complete::generate(shell, &mut cmd, "mlprov", &mut buf);
        }
    }
    buf
}

/// A shell as clap_complete registers it, completing with one difference:
/// an empty word gets values and subcommands, not options (type `-` for
/// those), so bash never inserts the options' common `-` by itself.
struct Dynamic<S>(S);

impl<S: EnvCompleter> EnvCompleter for Dynamic<S> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn is(&self, name: &str) -> bool {
        self.0.is(name)
    }

    fn write_registration(
        &self,
        var: &str,
        name: &str,
        bin: &str,
        completer: &str,
        buf: &mut dyn Write,
    ) -> std::io::Result<()> {
        self.0.write_registration(var, name, bin, completer, buf)
    }

    fn write_complete(
        &self,
        cmd: &mut clap::Command,
        mut args: Vec<OsString>,
        current_dir: Option<&Path>,
        buf: &mut dyn Write,
    ) -> std::io::Result<()> {
        let env = EnvironmentOptions::read();
        let fish = self.0.name() == "fish";
        let index = if fish {
            args.len().saturating_sub(1)
        } else {
            env.clap_complete_index
                .as_deref()
                .and_then(|i| i.parse().ok())
                .unwrap_or_default()
        };
        if args.len() <= index {
            args.resize(index + 1, OsString::new());
        }
        let empty = args[index].is_empty();
        let mut found = clap_complete::engine::complete(cmd, args, index, current_dir)?;
        if empty {
            found.retain(|c| !c.get_value().to_string_lossy().starts_with('-'));
        }
        let ifs = env.clap_ifs.unwrap_or_else(|| "\n".to_string());
        write_candidates(self.0.name(), &found, &ifs, buf)
    }
}

/// Candidates as each shell's registered function reads them: bash one
/// value per `_CLAP_IFS`, zsh `value:help`, fish `value<TAB>help` lines.
fn write_candidates(
    shell: &str,
    found: &[CompletionCandidate],
    ifs: &str,
    buf: &mut dyn Write,
) -> std::io::Result<()> {
    let help = |c: &CompletionCandidate| {
        c.get_help()
            .map(|h| h.to_string().lines().next().unwrap_or_default().to_string())
    };
    for (i, c) in found.iter().enumerate() {
        let value = c.get_value().to_string_lossy();
        match shell {
            "fish" => match help(c) {
                Some(h) => writeln!(buf, "{value}\t{h}")?,
                None => writeln!(buf, "{value}")?,
            },
            "zsh" => {
                if i > 0 {
                    write!(buf, "{ifs}")?;
                }
                write!(buf, "{}", value.replace('\\', "\\\\").replace(':', "\\:"))?;
                if let Some(h) = help(c) {
                    write!(buf, ":{}", h.replace('\\', "\\\\"))?;
                }
            }
            _ => {
                if i > 0 {
                    write!(buf, "{ifs}")?;
                }
                write!(buf, "{value}")?;
            }
        }
    }
    Ok(())
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
