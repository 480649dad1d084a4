//! One module per subcommand. Each resolves its settings, calls the domain
//! and reports through [`Printer`].

pub mod attest;
pub mod build;
pub mod completions;
pub mod graph;
pub mod init;
pub mod keygen;
pub mod keyless;
pub mod keys;
pub mod man;
pub mod pin;
pub mod pull;
pub mod push;
pub mod revoke;
pub mod scan;
pub mod sign;
pub mod verify;
pub mod why;

use std::path::PathBuf;
use std::process::ExitCode;

use miette::{IntoDiagnostic, Result, WrapErr};

use crate::cli::{Cli, Command, Format};
use crate::output::Printer;

/// How a command ended: 0 success, 1 a check failed, 2 usage or I/O error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    Failure,
    Error,
    /// A specific code, e.g. a failed training command's own exit status.
    Code(u8),
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        match s {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
            ExitStatus::Code(n) => ExitCode::from(n),
        }
    }
}

/// Settings shared by every command, resolved once from flags and the
/// environment.
pub struct Context {
    pub printer: Printer,
    /// The working directory (after `-C`).
    pub cwd: PathBuf,
    /// `--offline`, `MLPROV_OFFLINE` or `HF_HUB_OFFLINE`.
    pub offline: bool,
    /// `CI` is set or stdin/stderr is not a terminal: never prompt.
    pub interactive: bool,
}

impl Context {
    fn new(cli: &Cli) -> Result<Self> {
        use std::io::IsTerminal;
        let printer = Printer::new(&cli.global);
        let base = std::env::current_dir()
            .into_diagnostic()
            .wrap_err("cannot read the current directory")?;
        let cwd = match &cli.global.directory {
            Some(d) => {
                let d = base.join(d);
                if !d.is_dir() {
                    miette::bail!(
                        code = "mlprov::usage",
                        help = "pass an existing directory to -C",
                        "-C {}: not a directory",
                        d.display()
                    );
                }
                d
            }
            None => base,
        };
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        let interactive = !ci
            && std::io::stdin().is_terminal()
            && std::io::stderr().is_terminal()
            && !printer.github_actions;
        Ok(Self {
            printer,
            cwd,
            offline: cli.global.offline || crate::resolve::hf::HfSettings::env_offline(),
            interactive,
        })
    }
}

/// What resolving and checking inputs needs from this machine: the hash
/// cache and a progress reporter, owned by the command while a
/// [`ResolveContext`](crate::resolve::ResolveContext) borrows them.
pub(crate) struct Resolving {
    pub hash_cache: crate::digest::HashCache,
    pub reporter: crate::output::BarReporter,
    cache_dir: PathBuf,
}

impl Resolving {
    pub(crate) fn new(cx: &Context) -> Self {
        let cache_dir = crate::project::cache_dir();
        Self {
            hash_cache: crate::digest::HashCache::open(crate::digest::HashCache::default_path(
                &cache_dir,
            )),
            reporter: cx.printer.reporter(),
            cache_dir,
        }
    }

    /// The resolver settings for `project`, from flags and the environment.
    pub(crate) fn context<'a>(
        &'a self,
        cx: &Context,
        project: &'a crate::project::Project,
    ) -> crate::resolve::ResolveContext<'a> {
        crate::resolve::ResolveContext {
            root: &project.root,
            offline: cx.offline,
            hash_cache: Some(&self.hash_cache),
            cache_dir: self.cache_dir.clone(),
            hf: crate::resolve::hf::HfSettings::from_env(),
            reporter: &self.reporter,
        }
    }

    /// Keep what was hashed; a cache that cannot be written costs only speed.
    pub(crate) fn save(&self, cx: &Context) {
        if let Err(e) = self.hash_cache.save() {
            cx.printer
                .note(&format!("could not save the hash cache: {e}"));
        }
    }
}

fn install_error_hook(printer: &Printer) {
    let color = printer.color_stderr();
    let _ = miette::set_hook(Box::new(move |_| {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100);
        Box::new(
            miette::MietteHandlerOpts::new()
                .terminal_links(false)
                .color(color)
                .unicode(true)
                .width(width)
                .build(),
        )
    }));
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> ExitStatus {
    let printer = Printer::new(&cli.global);
    install_error_hook(&printer);
    if matches!(cli.global.format, Format::Dot | Format::Mermaid)
        && !matches!(cli.command, Command::Graph(_))
    {
        printer.error(&miette::miette!(
            code = "mlprov::usage",
            help = "use `--format human` or `--format json`; `mlprov graph` draws DOT and Mermaid",
            "`--format {}` is only for `mlprov graph`",
            match cli.global.format {
                Format::Dot => "dot",
                _ => "mermaid",
            }
        ));
        return ExitStatus::Error;
    }
    let cx = match Context::new(&cli) {
        Ok(cx) => cx,
        Err(e) => {
            printer.error(&e);
            return ExitStatus::Error;
        }
    };
    let result = match cli.command {
        Command::Init(args) => init::run(&cx, args),
        Command::Pin(args) => pin::run(&cx, args),
        Command::Scan(args) => scan::run(&cx, args),
        Command::Build(args) => build::run(&cx, args),
        Command::Push(args) => push::run(&cx, args),
        Command::Pull(args) => pull::run(&cx, args),
        Command::Keygen(args) => keygen::run(&cx, args),
        Command::Sign(args) => sign::run(&cx, args),
        Command::Attest(args) => attest::run(&cx, args),
        Command::Verify(args) => verify::run(&cx, args),
        Command::Graph(args) => graph::run(&cx, args),
        Command::Why(args) => why::run(&cx, args),
        Command::Revoke(args) => revoke::run(&cx, args),
        Command::Completions(args) => completions::run(&cx, args),
        Command::Man(args) => man::run(&cx, args),
        Command::Schema => {
            cx.printer.out(&crate::manifest::schema::json());
            Ok(ExitStatus::Success)
        }
    };
    match result {
        Ok(status) => status,
        Err(report) => {
            cx.printer.error(&report);
            ExitStatus::Error
        }
    }
}
