//! One module per subcommand. Each resolves its settings, calls the domain
//! and reports through [`Printer`].

pub mod attest;
pub mod build;
pub mod completions;
pub mod graph;
pub mod init;
pub mod keygen;
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

use dialoguer::Password;
use dialoguer::theme::ColorfulTheme;
use zeroize::Zeroizing;

use crate::cli::{Cli, Command, Format};
use crate::output::Printer;
use crate::settings::signing::PasswordSource;
use crate::settings::{self, EnvironmentOptions, GlobalSettings};
use crate::sign::keys::KeyError;

/// How a command ended: 0 success, 1 a check failed, 2 usage or I/O error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    Failure,
    Error,
    /// A specific code, e.g. a failed training command's own exit status.
    Code(u8),
}

impl ExitStatus {
    /// 0 when a check passed, 1 when it failed.
    pub fn checked(passed: bool) -> Self {
        if passed { Self::Success } else { Self::Failure }
    }
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

/// What every command gets: the printer and the global settings, resolved
/// once from flags and the environment.
pub struct Context {
    pub printer: Printer,
    pub settings: GlobalSettings,
}

impl Context {
    /// Passwords for keys, from a hidden prompt when mlprov may prompt.
    pub fn prompt(&self) -> Prompt {
        Prompt {
            interactive: self.settings.interactive,
        }
    }
}

/// The terminal prompt for key passwords (dialoguer), when stdin and
/// stderr are terminals and `CI` is unset.
pub struct Prompt {
    interactive: bool,
}

impl PasswordSource for Prompt {
    fn can_ask(&self) -> bool {
        self.interactive
    }

    fn existing(&self, label: &str) -> std::result::Result<Zeroizing<String>, KeyError> {
        Password::with_theme(&ColorfulTheme::default())
            .with_prompt(format!("Password for {label}"))
            .allow_empty_password(true)
            .interact()
            .map(Zeroizing::new)
            .map_err(|e| KeyError::Prompt {
                path: label.to_string(),
                reason: e.to_string(),
            })
    }

    fn new_key(&self) -> std::result::Result<Zeroizing<String>, String> {
        Password::with_theme(&ColorfulTheme::default())
            .with_prompt("Password for the private key")
            .with_confirmation("Repeat the password", "The passwords do not match")
            .allow_empty_password(true)
            .interact()
            .map(Zeroizing::new)
            .map_err(|e| e.to_string())
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
        let cache_dir = cx.settings.paths.cache.clone();
        Self {
            hash_cache: crate::digest::HashCache::open(cx.settings.paths.hash_cache()),
            reporter: cx.printer.reporter(),
            cache_dir,
        }
    }

    /// The resolver settings for `project`; `registry` reaches the
    /// registries of `oci` inputs.
    pub(crate) fn context<'a>(
        &'a self,
        cx: &Context,
        project: &'a crate::project::Project,
        registry: crate::registry::Access,
    ) -> crate::resolve::ResolveContext<'a> {
        crate::resolve::ResolveContext {
            root: &project.root,
            offline: cx.settings.offline,
            hash_cache: Some(&self.hash_cache),
            cache_dir: self.cache_dir.clone(),
            hf: cx.settings.hf(),
            registry,
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

fn install_error_hook(printer: &Printer, width: usize) {
    let color = printer.color_stderr();
    let _ = miette::set_hook(Box::new(move |_| {
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
    let env = EnvironmentOptions::read();
    let printer = Printer::new(&settings::output_options(&cli.global, &env));
    install_error_hook(&printer, env.columns());
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
    let cx = match GlobalSettings::resolve(&cli.global, env) {
        Ok(settings) => Context { printer, settings },
        Err(e) => {
            printer.error(&miette::Report::new(e));
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
