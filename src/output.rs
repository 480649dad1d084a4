//! The one place that writes to the terminal: data on stdout (human or JSON),
//! status, warnings and progress on stderr.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use console::Style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{ColorChoice, Format, GlobalArgs};
use crate::reporter::Reporter;

/// Writes results and messages according to the global flags.
#[derive(Debug, Clone)]
pub struct Printer {
    pub format: Format,
    pub quiet: bool,
    pub verbose: u8,
    color_err: bool,
    color_out: bool,
    stderr_tty: bool,
    /// GitHub Actions workflow commands (`::error …::`) are also printed.
    pub github_actions: bool,
}

impl Printer {
    pub fn new(g: &GlobalArgs) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let stderr_tty = std::io::stderr().is_terminal();
        let stdout_tty = std::io::stdout().is_terminal();
        let (color_err, color_out) = match g.color {
            ColorChoice::Always => (true, true),
            ColorChoice::Never => (false, false),
            ColorChoice::Auto => (stderr_tty && !no_color, stdout_tty && !no_color),
        };
        console::set_colors_enabled_stderr(color_err);
        console::set_colors_enabled(color_out);
        Self {
            format: g.format,
            quiet: g.quiet,
            verbose: g.verbose,
            color_err,
            color_out,
            stderr_tty,
            github_actions: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
        }
    }

    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    pub fn color_stderr(&self) -> bool {
        self.color_err
    }

    pub fn color_stdout(&self) -> bool {
        self.color_out
    }

    /// A cargo-style status line on stderr: `     Pinned base-model (…)`.
    pub fn status(&self, verb: &str, message: &str) {
        if self.quiet {
            return;
        }
        let style = Style::new().green().bold();
        eprintln_safe(&format!("{:>12} {message}", style.apply_to(verb)));
    }

    /// Like [`status`](Self::status), in cyan, for steps that changed nothing.
    pub fn status_dim(&self, verb: &str, message: &str) {
        if self.quiet {
            return;
        }
        let style = Style::new().cyan().bold();
        eprintln_safe(&format!("{:>12} {message}", style.apply_to(verb)));
    }

    pub fn warn(&self, message: &str) {
        let style = Style::new().yellow().bold();
        eprintln_safe(&format!("{}: {message}", style.apply_to("warning")));
        if self.github_actions {
            eprintln_safe(&format!("::warning::{}", gha_escape(message)));
        }
    }

    /// A detail shown at `-v`.
    pub fn note(&self, message: &str) {
        if self.verbose > 0 && !self.quiet {
            let style = Style::new().dim();
            eprintln_safe(&format!("{:>12} {message}", style.apply_to("note")));
        }
    }

    /// Print an error (a miette report) to stderr.
    pub fn error(&self, report: &miette::Report) {
        eprintln_safe(&format!("{report:?}"));
        if self.github_actions {
            eprintln_safe(&format!("::error::{}", gha_escape(&report.to_string())));
        }
    }

    /// A block of human-readable detail on stderr (not data: a command
    /// whose data is something else, like `pull`'s reference, shows its
    /// verification tree here). Suppressed by `-q`.
    pub fn detail(&self, text: &str) {
        if !self.quiet {
            eprintln_safe(text.trim_end_matches('\n'));
        }
    }

    /// Human data on stdout.
    pub fn out(&self, text: &str) {
        write_stdout(text);
    }

    /// A JSON document on stdout (pretty, one trailing newline).
    pub fn json(&self, value: &serde_json::Value) {
        let mut s = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
        s.push('\n');
        write_stdout(&s);
    }

    /// A progress reporter for domain work: an indicatif bar when stderr is a
    /// terminal and output is human and not quiet; otherwise silent (notes
    /// still appear at `-v`).
    pub fn reporter(&self) -> BarReporter {
        let bars = self.stderr_tty && !self.quiet && !self.is_json();
        BarReporter {
            bar: Mutex::new(None),
            bars,
            verbose: self.verbose > 0 && !self.quiet,
        }
    }
}

/// Escape a message for a GitHub Actions workflow command.
pub fn gha_escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Write to stdout; a closed pipe (`mlprov … | head`) ends the program
/// quietly with success, as ripgrep does.
fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

fn eprintln_safe(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// Progress through indicatif.
pub struct BarReporter {
    bar: Mutex<Option<ProgressBar>>,
    bars: bool,
    verbose: bool,
}

impl BarReporter {
    fn current(&self) -> Option<ProgressBar> {
        self.bar.lock().ok().and_then(|b| b.clone())
    }
}

impl Reporter for BarReporter {
    fn start(&self, label: &str, total_bytes: u64) {
        if !self.bars {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{msg:>12.cyan.bold} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        let short = label.split_whitespace().next().unwrap_or(label);
        let short = short[..1].to_uppercase() + &short[1..];
        bar.set_message(short);
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut b) = self.bar.lock() {
            if let Some(old) = b.take() {
                old.finish_and_clear();
            }
            *b = Some(bar);
        }
    }

    fn on_bytes(&self, n: u64) {
        if let Some(b) = self.current() {
            b.inc(n);
        }
    }

    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock()
            && let Some(bar) = b.take()
        {
            bar.finish_and_clear();
        }
    }

    fn note(&self, message: &str) {
        if !self.verbose {
            return;
        }
        let line = format!("{:>12} {message}", Style::new().dim().apply_to("note"));
        match self.current() {
            Some(b) => b.println(line),
            None => eprintln_safe(&line),
        }
    }
}
