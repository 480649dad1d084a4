//! `mlprov scan PATH…`: the unsafe-format scanner on its own.

use miette::{Result, miette};

use super::Context;
use crate::cli::ScanArgs;
use crate::document::{ScanDocument, ScannedFile};
use crate::fsutil::human_bytes;
use crate::scan::{self, FileReport, Outcome, ScanOptions, ScanPolicy, ScanReport, Verdict};

pub fn run(cx: &Context, args: ScanArgs) -> Result<()> {
    let policy = resolve_policy(cx, &args)?;
    let opts = ScanOptions {
        include_git: args.include_git,
    };
    let mut report = ScanReport::default();
    for p in &args.paths {
        let abs = cx.settings.cwd.join(p);
        let one = scan::scan_path(&abs, &opts)?;
        let shown = p.display().to_string();
        // A directory's files are shown under it; a file under its own path.
        let prefix = if abs.is_dir() {
            shown.trim_end_matches('/').to_string()
        } else {
            String::new()
        };
        let mut one = one;
        if !abs.is_dir() {
            for f in &mut one.files {
                f.path = shown.clone();
            }
        }
        report.extend(one, &prefix);
    }
    let verdict = report.verdict(&policy);
    if cx.printer.is_json() {
        cx.printer.document(&json_report(&report, &policy));
    } else {
        print_human(cx, &report, &verdict);
    }
    cx.printer.note(&format!(
        "read {} ({} bytes) from disk",
        human_bytes(report.bytes_read),
        report.bytes_read
    ));
    if verdict.pass {
        return Ok(());
    }
    Err(miette!(
        code = "mlprov::scan::findings",
        help = "each finding above says how to allow it if it is legitimate",
        "scan failed: {}",
        summary(&report, &verdict)
    ))
}

/// `3 files: 1 failing, 0 warnings, 0 allowed`.
fn summary(report: &ScanReport, verdict: &Verdict) -> String {
    let n = report.files.len();
    format!(
        "{n} file{}: {} failing, {} warning{}, {} allowed",
        if n == 1 { "" } else { "s" },
        verdict.violations.len(),
        verdict.warnings.len(),
        if verdict.warnings.len() == 1 { "" } else { "s" },
        verdict.allowed
    )
}

fn resolve_policy(cx: &Context, args: &ScanArgs) -> Result<ScanPolicy> {
    let mut policy = match &args.policy {
        Some(file) => {
            let path = cx.settings.cwd.join(file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                miette!(
                    code = "mlprov::usage",
                    help = "pass an mlprov.toml or a policy.toml to --policy",
                    "cannot read {}: {e}",
                    path.display()
                )
            })?;
            let p = crate::policy::parse_file(&text, &file.display().to_string())?;
            ScanPolicy::from(&p)
        }
        None => ScanPolicy::default(),
    };
    for (list, allow, flag) in [
        (&args.deny, false, "--deny"),
        (&args.allow, true, "--allow"),
    ] {
        for e in list {
            scan::finding::check_policy_entry(e, allow).map_err(|why| {
                miette!(
                    code = "mlprov::usage",
                    help = format!(
                        "kinds are: {}",
                        scan::Kind::ALL.map(|k| k.as_str()).join(", ")
                    ),
                    "{flag} {e}: {why}"
                )
            })?;
            if allow {
                policy.allow.push(e.clone());
            } else {
                policy.deny.push(e.clone());
            }
        }
    }
    policy.deny.sort();
    policy.deny.dedup();
    policy.allow.sort();
    policy.allow.dedup();
    Ok(policy)
}

/// The JSON document: the scan/v1 predicate, plus what each file imports
/// and how many bytes were read.
pub fn json_report(report: &ScanReport, policy: &ScanPolicy) -> ScanDocument {
    let p = report.predicate(policy);
    ScanDocument {
        version: crate::document::VERSION,
        scanner: p.scanner,
        policy: p.policy,
        verdict: p.verdict,
        summary: p.summary,
        files: p
            .files
            .into_iter()
            .zip(&report.files)
            .map(|(file, f)| ScannedFile {
                file,
                imports: f.imports.clone(),
            })
            .collect(),
        bytes_read: report.bytes_read,
    }
}

fn print_human(cx: &Context, report: &ScanReport, verdict: &Verdict) {
    let color = cx.printer.color_stdout();
    let paint = |s: &str, style: console::Style| -> String {
        if color {
            style.apply_to(s).to_string()
        } else {
            s.to_string()
        }
    };
    fn policy_outcomes<'a>(
        verdict: &Verdict,
        f: &'a FileReport,
    ) -> Vec<(&'a scan::Finding, Outcome, String)> {
        f.findings
            .iter()
            .map(|x| {
                let v = verdict
                    .violations
                    .iter()
                    .chain(&verdict.warnings)
                    .find(|v| v.file == f.path && v.finding.as_ref() == Some(x));
                match v {
                    Some(v) => (x, v.outcome, v.fix.clone()),
                    None => (x, Outcome::Allowed, String::new()),
                }
            })
            .collect()
    }
    let mut out = String::new();
    for f in &report.files {
        let denied: Vec<_> = verdict
            .violations
            .iter()
            .filter(|v| v.file == f.path && v.finding.is_none())
            .collect();
        if f.findings.is_empty() && denied.is_empty() {
            if cx.printer.verbose > 0 {
                out.push_str(&format!(
                    "{}  {}  {}\n",
                    paint("ok", console::Style::new().green()),
                    f.path,
                    f.format
                ));
            }
            continue;
        }
        let kinds: Vec<String> = f.kinds.iter().map(|k| k.to_string()).collect();
        out.push_str(&format!(
            "{}  {}{}\n",
            paint(&f.path, console::Style::new().bold()),
            f.format,
            if kinds.is_empty() {
                String::new()
            } else {
                format!(" [{}]", kinds.join(", "))
            }
        ));
        for d in denied {
            out.push_str(&format!(
                "  {} {}\n",
                paint("✗", console::Style::new().red().bold()),
                d.reason
            ));
            out.push_str(&format!("      help: {}\n", d.fix));
        }
        for (x, outcome, fix) in policy_outcomes(verdict, f) {
            let (mark, style) = match outcome {
                Outcome::Fail => ("✗", console::Style::new().red().bold()),
                Outcome::Warn => ("!", console::Style::new().yellow().bold()),
                Outcome::Allowed => ("~", console::Style::new().dim()),
            };
            let loc = x.location();
            out.push_str(&format!(
                "  {} {} {} ({}){}: {}\n",
                paint(mark, style),
                x.code.id(),
                x.code.name(),
                x.severity(),
                if loc.is_empty() {
                    String::new()
                } else {
                    format!(" at {loc}")
                },
                x.reason
            ));
            if outcome == Outcome::Fail {
                out.push_str(&format!("      help: {fix}\n"));
            }
        }
    }
    cx.printer.out(&out);
    if verdict.pass {
        cx.printer.status("Scanned", &summary(report, verdict));
    }
}
