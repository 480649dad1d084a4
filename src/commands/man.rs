//! `mlprov man`: roff man pages generated from the CLI definition.

use clap::CommandFactory;
use miette::{IntoDiagnostic, Result, WrapErr};

use super::Context;
use crate::cli::{Cli, ManArgs};

/// Every page: `mlprov.1` and `mlprov-<sub>.1` for each visible subcommand.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    let cmd = Cli::command();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    // Rendering into a Vec cannot fail.
    let _ = clap_mangen::Man::new(cmd.clone()).render(&mut buf);
    out.push(("mlprov.1".to_string(), buf));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("mlprov-{}", sub.get_name());
        let sub = sub.clone().name(name.clone());
        let mut buf = Vec::new();
        let _ = clap_mangen::Man::new(sub).render(&mut buf);
        out.push((format!("{name}.1"), buf));
    }
    out
}

pub fn run(cx: &Context, args: ManArgs) -> Result<()> {
    let pages = pages();
    let out_dir = if args.install {
        let base = cx.settings.env.data_home().ok_or_else(|| {
            miette::miette!(
                code = "mlprov::usage",
                help = "set HOME or XDG_DATA_HOME, or give --out-dir",
                "--install: no home directory"
            )
        })?;
        Some(base.join("man").join("man1"))
    } else {
        args.out_dir
    };
    match out_dir {
        None => cx.printer.out(&String::from_utf8_lossy(&pages[0].1)),
        Some(dir) => {
            let dir = cx.settings.cwd.join(dir);
            std::fs::create_dir_all(&dir)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot create {}", dir.display()))?;
            for (name, bytes) in &pages {
                crate::fsutil::write_atomic(&dir.join(name), bytes)
                    .into_diagnostic()
                    .wrap_err_with(|| format!("cannot write {}", dir.join(name).display()))?;
            }
            cx.printer.status(
                "Wrote",
                &format!("{} man pages to {}", pages.len(), dir.display()),
            );
        }
    }
    Ok(())
}
