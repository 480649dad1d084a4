//! The one place that writes to the terminal: data on stdout (human or JSON),
//! status, warnings and progress on stderr.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use console::Style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{ColorChoice, Format};
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
    /// Progress as plain lines even on a terminal (`NO_COLOR`, CI).
    plain_progress: bool,
    progress_interval: Duration,
    /// GitHub Actions workflow commands (`::error …::`) are also printed.
    pub github_actions: bool,
    github: GitHubFiles,
}

/// The files GitHub Actions gives a step (only under `GITHUB_ACTIONS=true`).
#[derive(Debug, Clone, Default)]
pub struct GitHubFiles {
    /// `GITHUB_STEP_SUMMARY`.
    pub summary: Option<PathBuf>,
    /// `GITHUB_OUTPUT`.
    pub output: Option<PathBuf>,
    /// `GITHUB_WORKSPACE`.
    pub workspace: Option<PathBuf>,
    /// The working directory, for files outside the workspace.
    pub cwd: Option<PathBuf>,
}

/// How to write, resolved by the settings from the global flags and the
/// environment.
#[derive(Debug, Clone)]
pub struct OutputOptions {
    pub format: Format,
    pub quiet: bool,
    pub verbose: u8,
    pub color: ColorChoice,
    /// `NO_COLOR` is set.
    pub no_color: bool,
    /// Running under GitHub Actions, with the step's files.
    pub github: Option<GitHubFiles>,
    /// Progress as plain lines even on a terminal (`NO_COLOR`, `CI`,
    /// `TERM=dumb`).
    pub plain_progress: bool,
    /// How often a plain progress line is printed (10 s;
    /// `MLPROV_PROGRESS_INTERVAL`, hidden, for tests).
    pub progress_interval: Duration,
}

impl OutputOptions {
    pub const DEFAULT_PROGRESS_INTERVAL: Duration = Duration::from_secs(10);
}

/// The level of a GitHub Actions annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

/// Where an annotation points.
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub title: Option<String>,
}

impl Printer {
    pub fn new(o: &OutputOptions) -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        let stdout_tty = std::io::stdout().is_terminal();
        let (color_err, color_out) = match o.color {
            ColorChoice::Always => (true, true),
            ColorChoice::Never => (false, false),
            ColorChoice::Auto => (stderr_tty && !o.no_color, stdout_tty && !o.no_color),
        };
        console::set_colors_enabled_stderr(color_err);
        console::set_colors_enabled(color_out);
        Self {
            format: o.format,
            quiet: o.quiet,
            verbose: o.verbose,
            color_err,
            color_out,
            stderr_tty,
            plain_progress: o.plain_progress,
            progress_interval: o.progress_interval,
            github_actions: o.github.is_some(),
            github: o.github.clone().unwrap_or_default(),
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
        self.annotate(Level::Warning, &Place::default(), message);
    }

    /// A detail shown at `-v`.
    pub fn note(&self, message: &str) {
        if self.verbose > 0 && !self.quiet {
            let style = Style::new().dim();
            eprintln_safe(&format!("{:>12} {message}", style.apply_to("note")));
        }
    }

    /// Print an error (a miette report) to stderr. Under GitHub Actions it
    /// is also an `::error` annotation, pointing at the file and line of its
    /// first label when it has one (a bad mlprov.toml); a report of several
    /// problems (every problem in a manifest) is one annotation per problem,
    /// each at its own line.
    pub fn error(&self, report: &miette::Report) {
        eprintln_safe(&format!("{report:?}"));
        if !self.github_actions {
            return;
        }
        let diag: &dyn miette::Diagnostic = report.as_ref();
        let src = report.source_code();
        let related: Vec<&dyn miette::Diagnostic> =
            diag.related().map(|r| r.collect()).unwrap_or_default();
        if related.is_empty() {
            self.annotate_diagnostic(diag, src);
        } else {
            for d in related {
                self.annotate_diagnostic(d, d.source_code().or(src));
            }
        }
    }

    /// One `::error` for `diag`, at its first label in `src`.
    fn annotate_diagnostic(
        &self,
        diag: &dyn miette::Diagnostic,
        src: Option<&dyn miette::SourceCode>,
    ) {
        let mut place = Place {
            title: diag.code().map(|c| c.to_string()),
            ..Place::default()
        };
        if let (Some(src), Some(label)) = (src, diag.labels().and_then(|mut l| l.next()))
            && let Ok(span) = src.read_span(label.inner(), 0, 0)
        {
            place.file = span.name().map(PathBuf::from);
            place.line = Some(span.line() + 1);
        }
        let mut message = diag.to_string();
        if let Some(help) = diag.help() {
            message.push_str(&format!("\nhelp: {help}"));
        }
        self.annotate(Level::Error, &place, &message);
    }

    /// A GitHub Actions annotation (`::error file=…,line=…,title=…::…`),
    /// only under GitHub Actions. A file inside `GITHUB_WORKSPACE` is named
    /// relative to it, as GitHub wants.
    pub fn annotate(&self, level: Level, place: &Place, message: &str) {
        if !self.github_actions {
            return;
        }
        let mut props = Vec::new();
        if let Some(f) = &place.file {
            // Relative to the workspace (GitHub's repository root), else
            // to the working directory: never absolute.
            let rel = self
                .github
                .workspace
                .iter()
                .chain(self.github.cwd.iter())
                .find_map(|w| f.strip_prefix(w).ok())
                .unwrap_or(f);
            props.push(format!(
                "file={}",
                gha_escape_property(&rel.display().to_string())
            ));
        }
        if let Some(l) = place.line {
            props.push(format!("line={l}"));
        }
        if let Some(t) = &place.title {
            props.push(format!("title={}", gha_escape_property(t)));
        }
        let cmd = match level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        };
        let props = if props.is_empty() {
            String::new()
        } else {
            format!(" {}", props.join(","))
        };
        eprintln_safe(&format!("::{cmd}{props}::{}", gha_escape(message)));
    }

    /// Append Markdown to the job's step summary (`$GITHUB_STEP_SUMMARY`).
    pub fn step_summary(&self, markdown: &str) {
        if let Some(p) = &self.github.summary
            && let Err(e) = append(p, markdown)
        {
            self.warn(&format!(
                "cannot write the step summary {}: {e}",
                p.display()
            ));
        }
    }

    /// Set a step output (`$GITHUB_OUTPUT`): `name=value`, or a heredoc for
    /// a value with line breaks.
    pub fn step_output(&self, name: &str, value: &str) {
        let Some(p) = &self.github.output else {
            return;
        };
        let line = if value.contains('\n') || value.contains('\r') {
            let mut delim = String::from("MLPROV_EOF");
            while value.contains(&delim) {
                delim.push('_');
            }
            format!("{name}<<{delim}\n{value}\n{delim}\n")
        } else {
            format!("{name}={value}\n")
        };
        if let Err(e) = append(p, &line) {
            self.warn(&format!(
                "cannot write the step output {}: {e}",
                p.display()
            ));
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
        write_stdout(&sanitize(text));
    }

    /// A JSON document on stdout (pretty, one trailing newline).
    pub fn json(&self, value: &serde_json::Value) {
        self.document(value);
    }

    /// A typed document ([`crate::document`]) on stdout as JSON (pretty,
    /// one trailing newline).
    pub fn document<T: serde::Serialize>(&self, doc: &T) {
        let mut s = serde_json::to_string_pretty(doc).unwrap_or_else(|_| "null".into());
        s.push('\n');
        write_stdout(&s);
    }

    /// A progress reporter for domain work: an indicatif bar when stderr is a
    /// terminal and output is human and not quiet; a plain line every
    /// [`OutputOptions::progress_interval`] without a terminal, under
    /// `NO_COLOR` or in CI; nothing at `-q` or with `--format json` (notes
    /// still appear at `-v`).
    pub fn reporter(&self) -> BarReporter {
        let mode = if self.quiet || self.is_json() {
            ProgressMode::Hidden
        } else if self.stderr_tty && !self.plain_progress {
            ProgressMode::Bar
        } else {
            ProgressMode::Lines(self.progress_interval)
        };
        BarReporter {
            mode,
            verbose: self.verbose > 0 && !self.quiet,
            bar: Mutex::new(None),
            ticker: Mutex::new(None),
        }
    }
}

/// Escape a message for a GitHub Actions workflow command.
pub fn gha_escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow command property value (`file=`, `title=`).
pub fn gha_escape_property(s: &str) -> String {
    gha_escape(s).replace(':', "%3A").replace(',', "%2C")
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// Write to stdout; a closed pipe (`mlprov … | head`) ends the program
/// quietly with success, as ripgrep does.
/// Whether anything was written to stdout (a command's document, so the
/// error document is not printed after it).
static STDOUT_WRITTEN: AtomicBool = AtomicBool::new(false);

pub fn stdout_written() -> bool {
    STDOUT_WRITTEN.load(Ordering::Relaxed)
}

fn write_stdout(text: &str) {
    STDOUT_WRITTEN.store(true, Ordering::Relaxed);
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

fn eprintln_safe(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", sanitize(text));
}

/// A name (a file path, a revision, a tag) as it may be shown on a
/// terminal: every control character (C0 including CR, LF and ESC, DEL,
/// C1) is written as an escape (`\r`, `\u{1b}`), so a crafted name cannot
/// move the cursor or overwrite the line that reports it. Everything else
/// is unchanged.
pub fn escape(name: &str) -> std::borrow::Cow<'_, str> {
    if !name.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Human text about to reach the terminal: like [`escape`], but line
/// breaks and tabs stay, and so do the colour sequences (SGR, `ESC [ … m`)
/// that mlprov's own styling writes. Every human line goes through here, so
/// a name inside any message is harmless wherever it was formatted.
pub fn sanitize(text: &str) -> std::borrow::Cow<'_, str> {
    let needs = text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t');
    if !needs {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}'
            && let Some(len) = sgr_len(rest)
        {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        match c {
            '\n' | '\t' => out.push(c),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    std::borrow::Cow::Owned(out)
}

/// The length of an SGR sequence (`ESC [ digits/; m`) at the start of `s`.
fn sgr_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.get(1) != Some(&b'[') {
        return None;
    }
    let mut i = 2;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b';') {
        i += 1;
    }
    (b.get(i) == Some(&b'm')).then_some(i + 1)
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProgressMode {
    /// `-q`, `--format json`.
    Hidden,
    /// An indicatif bar on the terminal, cleared when the task ends.
    Bar,
    /// No terminal (a pipe, a log, CI) or `NO_COLOR`: a plain line, no
    /// escape codes, every `interval`.
    Lines(Duration),
}

/// Progress through indicatif: one bar for the current task (or, without a
/// terminal, a plain line every interval), with the overall total, the
/// current file, the rate and the ETA. Nothing is left on the screen when
/// the task ends or the reporter is dropped (an error, Ctrl-C).
pub struct BarReporter {
    mode: ProgressMode,
    verbose: bool,
    /// The current task's bar (hidden in [`ProgressMode::Lines`], where it
    /// still keeps the position, rate and ETA).
    bar: Mutex<Option<ProgressBar>>,
    /// The ticker thread of [`ProgressMode::Lines`].
    ticker: Mutex<Option<Ticker>>,
}

struct Ticker {
    stop: std::sync::Arc<(Mutex<bool>, std::sync::Condvar)>,
    thread: std::thread::JoinHandle<()>,
}

impl Ticker {
    fn end(self) {
        let (lock, cv) = &*self.stop;
        if let Ok(mut s) = lock.lock() {
            *s = true;
        }
        cv.notify_all();
        let _ = self.thread.join();
    }
}

/// `pushing model.safetensors` → (`Pushing`, `model.safetensors`).
fn split_label(label: &str) -> (String, String) {
    let (verb, rest) = label.split_once(' ').unwrap_or((label, ""));
    let mut chars = verb.chars();
    let verb: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    (verb, escape(rest.trim()).into_owned())
}

/// The plain progress line of [`ProgressMode::Lines`].
fn progress_line(bar: &ProgressBar) -> String {
    let done = bar.position();
    let total = bar.length().unwrap_or(0);
    let pct = (u128::from(done.min(total)) * 100)
        .checked_div(u128::from(total))
        .unwrap_or(100);
    let rate = bar.per_sec();
    let mut line = format!(
        "{:>12} {} of {} ({pct}%)",
        bar.prefix(),
        indicatif::HumanBytes(done),
        indicatif::HumanBytes(total),
    );
    if rate.is_finite() && rate > 0.0 {
        line.push_str(&format!(
            ", {}/s, ETA {}",
            indicatif::BinaryBytes(rate as u64),
            indicatif::HumanDuration(bar.eta())
        ));
    }
    let file = bar.message();
    if !file.is_empty() {
        line.push_str(&format!(", {file}"));
    }
    line
}

impl BarReporter {
    fn current(&self) -> Option<ProgressBar> {
        self.bar.lock().ok().and_then(|b| b.clone())
    }

    fn stop_ticker(&self) {
        if let Some(t) = self.ticker.lock().ok().and_then(|mut t| t.take()) {
            t.end();
        }
    }

    fn start_ticker(&self, bar: ProgressBar, interval: Duration) {
        let stop = std::sync::Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let (lock, cv) = &*stop2;
            let Ok(mut stopped) = lock.lock() else {
                return;
            };
            // The flag is checked before every wait: a stop that came
            // before this thread first waited is not missed.
            let mut next = std::time::Instant::now() + interval;
            while !*stopped {
                let now = std::time::Instant::now();
                if now >= next {
                    eprintln_safe(&progress_line(&bar));
                    next = now + interval;
                    continue;
                }
                let Ok((s, _)) = cv.wait_timeout(stopped, next - now) else {
                    return;
                };
                stopped = s;
            }
        });
        if let Ok(mut t) = self.ticker.lock() {
            *t = Some(Ticker { stop, thread });
        }
    }
}

impl Reporter for BarReporter {
    fn start(&self, label: &str, total_bytes: u64) {
        if self.mode == ProgressMode::Hidden {
            return;
        }
        // One task at a time: whatever was shown goes first.
        self.finish();
        let (verb, what) = split_label(label);
        let bar = match self.mode {
            ProgressMode::Bar => {
                ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr())
            }
            _ => ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::hidden()),
        };
        let style = ProgressStyle::with_template(
            "{prefix:>12.cyan.bold} [{bar:25}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(verb);
        bar.set_message(what);
        match self.mode {
            ProgressMode::Bar => bar.enable_steady_tick(Duration::from_millis(200)),
            ProgressMode::Lines(interval) => self.start_ticker(bar.clone(), interval),
            ProgressMode::Hidden => {}
        }
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }

    fn file(&self, name: &str) {
        if let Some(b) = self.current() {
            b.set_message(escape(name).into_owned());
        }
    }

    fn on_bytes(&self, n: u64) {
        if let Some(b) = self.current() {
            b.inc(n);
        }
    }

    fn undo_bytes(&self, n: u64) {
        if let Some(b) = self.current() {
            b.set_position(b.position().saturating_sub(n));
        }
    }

    fn finish(&self) {
        self.stop_ticker();
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
        match (self.mode, self.current()) {
            (ProgressMode::Bar, Some(b)) => b.println(line),
            _ => eprintln_safe(&line),
        }
    }
}

impl Drop for BarReporter {
    fn drop(&mut self) {
        self.finish();
    }
}

// ---------------------------------------------------------------------------
// Verification summaries

/// One finding as an annotation; `path` is where the node's files are,
/// `cwd` what bundle sources are relative to.
pub fn annotate_finding(
    printer: &Printer,
    cwd: &Path,
    f: &crate::verify::node::Finding,
    path: Option<&Path>,
) {
    // Off GitHub Actions, spare the file checks below.
    if !printer.github_actions {
        return;
    }
    let file = match (&f.file, path) {
        (Some(rel), Some(p)) if rel == crate::sign::oms::SINGLE_FILE_NAME || p.is_file() => {
            Some(p.to_path_buf())
        }
        (Some(rel), Some(p)) => Some(p.join(rel)),
        _ => f
            .source
            .as_ref()
            .map(|s| cwd.join(s))
            .filter(|p| p.is_file()),
    };
    printer.annotate(
        Level::Error,
        &Place {
            file,
            line: None,
            title: Some(f.code.to_string()),
        },
        &f.message,
    );
}

/// The one-line summary of a verified graph on stderr (and the annotations
/// of its findings); the failure when it did not verify.
pub fn graph_summary(
    printer: &Printer,
    cwd: &Path,
    g: &crate::verify::model::Graph,
) -> miette::Result<()> {
    let root = g.root();
    if g.verified() {
        let n = g.nodes.len();
        printer.status(
            "Verified",
            &format!(
                "{} {} and {} input{} in its provenance graph",
                root.name.as_deref().unwrap_or(""),
                root.id,
                n - 1,
                if n == 2 { "" } else { "s" }
            ),
        );
        return Ok(());
    }
    for (n, f) in g.findings() {
        let path = n.location.as_deref().map(Path::new).filter(|p| p.exists());
        annotate_finding(printer, cwd, f, path);
    }
    let failing: Vec<_> = g.findings().filter(|(n, _)| n.required_for_root).collect();
    let codes: std::collections::BTreeSet<&str> =
        failing.iter().map(|(_, f)| f.code.code()).collect();
    let nodes: std::collections::BTreeSet<String> = failing
        .iter()
        .map(|(n, _)| {
            n.name
                .clone()
                .unwrap_or_else(|| crate::verify::report::short_id(&n.id))
        })
        .collect();
    Err(miette::miette!(
        code = "mlprov::verify::failed",
        "verification failed: {} finding(s) ({}) in {}",
        failing.len(),
        codes.into_iter().collect::<Vec<_>>().join(", "),
        nodes.into_iter().collect::<Vec<_>>().join(", ")
    ))
}

#[cfg(test)]
mod escape_tests {
    use super::*;

    /// A task that ends before its ticker thread first waits must not
    /// leave the ticker waiting for the whole interval (the join hung).
    #[test]
    fn plain_progress_tasks_end_at_once() {
        let r = BarReporter {
            mode: ProgressMode::Lines(Duration::from_secs(86_400)),
            verbose: false,
            bar: Mutex::new(None),
            ticker: Mutex::new(None),
        };
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for _ in 0..200 {
                r.start("hashing", 10);
                r.on_bytes(5);
                r.finish();
            }
            r.start("pulling", 10);
            drop(r);
            let _ = done.send(());
        });
        // A hang fails the test instead of stalling the suite.
        assert!(
            finished.recv_timeout(Duration::from_secs(600)).is_ok(),
            "start/finish hung"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape("a.bin"), "a.bin");
        assert_eq!(escape("a\rb\u{1b}[2Kc\n"), "a\\rb\\u{1b}[2Kc\\n");
        assert_eq!(escape("\u{9b}x"), "\\u{9b}x");
        // Colours and line breaks of mlprov's own text stay.
        let styled = format!(
            "{} ok\n",
            Style::new().green().force_styling(true).apply_to("Pinned")
        );
        assert_eq!(sanitize(&styled), styled);
        assert_eq!(
            sanitize("file x\r\u{1b}[1A\u{1b}]0;t\u{7}\n"),
            "file x\\r\\u{1b}[1A\\u{1b}]0;t\\u{7}\n"
        );
    }
}
