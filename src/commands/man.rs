//! `mlprov man`: roff man pages generated from the CLI definition, one per
//! command (nested ones too: `mlprov-attest-import.1`), with EXAMPLES, EXIT
//! STATUS, ENVIRONMENT, FILES and SEE ALSO from src/help.rs.

use clap::{Command, CommandFactory};
use miette::{IntoDiagnostic, Result, WrapErr};
use roff::{Roff, bold, italic, roman};

use super::Context;
use crate::cli::{Cli, ManArgs};
use crate::help;

/// The file name of the page of the command at `path` (`"attest import"`).
pub fn page_name(path: &str) -> String {
    if path.is_empty() {
        "mlprov.1".to_string()
    } else {
        format!("mlprov-{}.1", path.replace(' ', "-"))
    }
}

/// The command at `path` below `cmd` (built).
fn find<'a>(cmd: &'a Command, path: &str) -> Option<&'a Command> {
    path.split_whitespace()
        .try_fold(cmd, |c, name| c.find_subcommand(name))
}

/// Every page: `mlprov.1` and `mlprov-<path>.1` for each visible command.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    // No `help` subcommand on the pages: there is no mlprov-help(1).
    let mut cmd = help::command().disable_help_subcommand(true);
    cmd.build();
    // What derive wrote after the options (the decorated command's
    // after_help also has the examples, which get their own section).
    let mut plain = Cli::command().disable_help_subcommand(true);
    plain.build();
    help::command_paths(&cmd)
        .into_iter()
        .filter_map(|path| {
            let c = find(&cmd, &path)?;
            let notes = find(&plain, &path)
                .and_then(|p| p.get_after_help())
                .map(|s| s.to_string());
            Some((page_name(&path), render(c, &path, notes.as_deref())))
        })
        .collect()
}

/// The page of the command `c` at `path`.
fn render(c: &Command, path: &str, notes: Option<&str>) -> Vec<u8> {
    let man = clap_mangen::Man::new(c.clone().after_help("").after_long_help(""))
        .source(format!("mlprov {}", env!("CARGO_PKG_VERSION")));
    let mut buf = Vec::new();
    // Rendering into a Vec cannot fail.
    let _ = man.render_title(&mut buf);
    let _ = man.render_name_section(&mut buf);
    let _ = man.render_synopsis_section(&mut buf);
    let _ = man.render_description_section(&mut buf);
    if c.get_arguments().any(|a| !a.is_hide_set()) {
        let _ = man.render_options_section(&mut buf);
    }
    if c.get_subcommands().any(|s| !s.is_hide_set()) {
        let _ = man.render_subcommands_section(&mut buf);
    }
    let mut roff = Roff::new();
    if let Some(notes) = notes.filter(|n| !n.trim().is_empty()) {
        roff.control("SH", ["NOTES"]);
        for para in notes.split("\n\n") {
            roff.control("PP", [])
                .text([roman(para.replace('\n', " "))]);
        }
    }
    roff.control("SH", ["EXAMPLES"]);
    for (about, line) in help::examples(path) {
        // .nf: a command line is not filled or justified.
        roff.control("TP", [])
            .text([roman(*about)])
            .control("nf", [])
            .text([bold(*line)])
            .control("fi", []);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, what) in help::EXIT_STATUS {
        roff.control("TP", [])
            .text([bold(*code)])
            .text([roman(*what)]);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, what) in help::ENVIRONMENT {
        roff.control("TP", [])
            .text([bold(*name)])
            .text([roman(*what)]);
    }
    roff.control("SH", ["FILES"]);
    for (file, what) in help::FILES {
        roff.control("TP", [])
            .text([italic(*file)])
            .text([roman(*what)]);
    }
    roff.control("SH", ["SEE ALSO"]);
    let mut see: Vec<String> = Vec::new();
    if !path.is_empty() {
        let parent = path.rsplit_once(' ').map_or("", |(p, _)| p);
        see.push(page_name(parent));
        if !parent.is_empty() {
            see.push(page_name(""));
        }
    }
    see.extend(
        c.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| page_name(format!("{path} {}", s.get_name()).trim_start())),
    );
    let refs: Vec<String> = see
        .iter()
        .map(|p| format!("{}(1)", p.trim_end_matches(".1")))
        .collect();
    roff.text([roman(refs.join(", "))]);
    let _ = roff.to_writer(&mut buf);
    let _ = man.render_version_section(&mut buf);
    buf
}

pub fn run(cx: &Context, args: ManArgs) -> Result<()> {
    let pages = pages();
    if !args.command.is_empty() {
        let path = args.command.join(" ");
        let name = page_name(&path);
        let page = pages.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            let known: Vec<String> = help::command_paths(&help::command())
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect();
            miette::miette!(
                code = "mlprov::usage",
                help = format!("commands with a page: {}", known.join(", ")),
                "no man page for `{path}`: not an mlprov command"
            )
        })?;
        cx.printer.out(&String::from_utf8_lossy(&page.1));
        return Ok(());
    }
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
