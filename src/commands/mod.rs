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
pub mod promote;
pub mod pull;
pub mod push;
pub mod revoke;
pub mod scan;
pub mod serve;
pub mod sign;
pub mod verify;
pub mod why;

use std::path::PathBuf;
use std::process::ExitCode;

use dialoguer::Password;
use dialoguer::theme::ColorfulTheme;
use miette::IntoDiagnostic;
use zeroize::Zeroizing;

use crate::cli::{Cli, Command, Format};
use crate::diagnostics::{self, Exit};
use crate::document::{ErrorBody, ErrorDocument};
use crate::output::Printer;
use crate::settings::signing::PasswordSource;
use crate::settings::{self, EnvironmentOptions, GlobalSettings};
use crate::sign::keys::KeyError;

/// How mlprov exits: 0 when the command did what it was asked, else the
/// status registered for the code of the diagnostic it ended with
/// ([`crate::diagnostics`]: 1 a check failed, 2 it could not run, or a
/// training command's own status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus(pub u8);

impl ExitStatus {
    pub const SUCCESS: ExitStatus = ExitStatus(0);

    /// The status a command ends with when it fails with `report`.
    pub fn of(report: &miette::Report) -> Self {
        let code = report.code().map(|c| c.to_string());
        match diagnostics::exit_of(code.as_deref()) {
            Exit::Child => ExitStatus(
                report
                    .downcast_ref::<crate::build::TrainingFailed>()
                    .map_or(1, crate::build::TrainingFailed::exit_status),
            ),
            exit => ExitStatus(exit.status()),
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        ExitCode::from(s.0)
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
            offline_cause: cx.settings.offline_cause,
            hf_offline: cx.settings.hf_offline,
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

/// End with `report`: the diagnostic on stderr and, under `--format json`
/// when no document was printed, the error document on stdout. The exit
/// status is the one registered for its code.
fn fail(printer: &Printer, report: &miette::Report) -> ExitStatus {
    let status = ExitStatus::of(report);
    printer.error(report);
    if printer.is_json() && !crate::output::stdout_written() {
        let mut message = report.to_string();
        for cause in report.chain().skip(1) {
            let c = cause.to_string();
            if !message.contains(&c) {
                message.push_str(": ");
                message.push_str(&c);
            }
        }
        printer.document(&ErrorDocument {
            version: crate::document::VERSION,
            error: ErrorBody {
                code: report.code().map(|c| c.to_string()),
                message,
                help: report.help().map(|h| h.to_string()),
                exit: status.0,
            },
        });
    }
    status
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> ExitStatus {
    let env = EnvironmentOptions::read();
    let printer = Printer::new(&settings::output_options(&cli.global, &env));
    install_error_hook(&printer, env.columns());
    if matches!(cli.global.format, Format::Dot | Format::Mermaid)
        && !matches!(cli.command, Command::Graph(_))
    {
        return fail(
            &printer,
            &miette::miette!(
                code = "mlprov::usage",
                help =
                    "use `--format human` or `--format json`; `mlprov graph` draws DOT and Mermaid",
                "`--format {}` is only for `mlprov graph`",
                match cli.global.format {
                    Format::Dot => "dot",
                    _ => "mermaid",
                }
            ),
        );
    }
    let cx = match GlobalSettings::resolve(&cli.global, env) {
        Ok(settings) => Context { printer, settings },
        Err(e) => return fail(&printer, &miette::Report::new(e)),
    };
    let result = match cli.command {
        Command::Init(args) => init::run(&cx, args),
        Command::Pin(args) => pin::run(&cx, args),
        Command::Scan(args) => scan::run(&cx, args),
        Command::Build(args) => build::run(&cx, args),
        Command::Push(args) => push::run(&cx, args),
        Command::Pull(args) => pull::run(&cx, args),
        Command::Promote(args) => promote::run(&cx, args),
        Command::Keygen(args) => keygen::run(&cx, args),
        Command::Sign(args) => sign::run(&cx, args),
        Command::Attest(args) => attest::run(&cx, args),
        Command::Verify(args) => verify::run(&cx, args),
        Command::Serve(args) => serve::run(&cx, args),
        Command::Graph(args) => graph::run(&cx, args),
        Command::Why(args) => why::run(&cx, args),
        Command::Revoke(args) => revoke::run(&cx, args),
        Command::Completions(args) => completions::run(&cx, args),
        Command::Man(args) => man::run(&cx, args),
        Command::Schema(args) => schema(&cx, &args),
    };
    match result {
        Ok(()) => ExitStatus::SUCCESS,
        Err(report) => fail(&cx.printer, &report),
    }
}

/// `mlprov schema [DOCUMENT]`: the JSON Schema of mlprov.toml, or of a
/// command's `--format json` document.
fn schema(cx: &Context, args: &crate::cli::SchemaArgs) -> miette::Result<()> {
    let Some(name) = &args.document else {
        cx.printer.out(&crate::manifest::schema::json());
        return Ok(());
    };
    let schemas = crate::document::schemas();
    let Some((_, schema)) = schemas.iter().find(|(n, _)| n == name) else {
        let names: Vec<&str> = schemas.iter().map(|(n, _)| *n).collect();
        miette::bail!(
            code = "mlprov::usage",
            help = format!("one of: {}", names.join(", ")),
            "no document named `{name}`"
        );
    };
    let mut text = serde_json::to_string_pretty(schema).into_diagnostic()?;
    text.push('\n');
    cx.printer.out(&text);
    Ok(())
}
