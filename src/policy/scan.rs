//! Scan-policy failures gathered over several scanned sets (the inputs of
//! `pin`, the outputs of `build`), made into one error that names every
//! failing finding and the exact policy lines that would allow them, or
//! the kinds that deny them.

use std::fmt;

use crate::scan::{ScanPolicy, Verdict};

/// What failed, set by set.
#[derive(Debug, Default)]
pub struct PolicyFailures {
    failures: Vec<String>,
    allow: Vec<String>,
    denied: Vec<String>,
}

impl PolicyFailures {
    /// Add one verdict; `label` names the set ("input `base`", "output").
    /// Returns the warnings (findings that do not fail), one line each, for
    /// the caller to show.
    pub fn add(&mut self, label: &str, verdict: &Verdict, policy: &ScanPolicy) -> Vec<String> {
        let warnings = verdict
            .warnings
            .iter()
            .map(|w| {
                let code = w
                    .finding
                    .as_ref()
                    .map(|f| format!("{} {}: ", f.code.id(), f.code.name()));
                format!(
                    "{label}: {}: {}{}",
                    w.file,
                    code.unwrap_or_default(),
                    w.reason
                )
            })
            .collect();
        for v in &verdict.violations {
            match &v.finding {
                Some(f) => {
                    let loc = f.location();
                    self.failures.push(format!(
                        "{label}: {}{}: {} {}: {}",
                        v.file,
                        if loc.is_empty() {
                            String::new()
                        } else {
                            format!(" ({loc})")
                        },
                        f.code.id(),
                        f.code.name(),
                        f.reason
                    ));
                    if policy.denies(f.kind()) {
                        self.denied.push(f.kind().to_string());
                    } else {
                        self.allow.push(format!("\"{}\"", f.allow_entry()));
                    }
                }
                None => {
                    self.failures
                        .push(format!("{label}: {}: {}", v.file, v.reason));
                    self.denied.push(v.kind.to_string());
                }
            }
        }
        warnings
    }

    /// The error, or `None` when nothing failed. `code` is the diagnostic
    /// code (`mlprov::pin::scan`); `tail` says what was not done (e.g.
    /// "mlprov.lock was not written").
    pub fn into_error(mut self, code: &'static str, tail: &str) -> Option<ScanPolicyError> {
        if self.failures.is_empty() {
            return None;
        }
        self.allow.sort();
        self.allow.dedup();
        self.denied.sort();
        self.denied.dedup();
        let mut help = Vec::new();
        if !self.allow.is_empty() {
            help.push(format!(
                "if these files are legitimate, allow the findings in mlprov.toml: [policy] formats.allow = [{}]",
                self.allow.join(", ")
            ));
        }
        if !self.denied.is_empty() {
            help.push(format!(
                "{} denied by [policy] formats.deny: replace the files (e.g. safetensors weights) or change the policy",
                self.denied.join(", ")
            ));
        }
        help.push(tail.to_string());
        Some(ScanPolicyError {
            code,
            failures: self.failures,
            help: help.join("; "),
        })
    }
}

/// Findings the scan policy fails, over every scanned set.
#[derive(Debug)]
pub struct ScanPolicyError {
    code: &'static str,
    pub failures: Vec<String>,
    help: String,
}

impl fmt::Display for ScanPolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        write!(
            f,
            "scan policy: {n} finding{} fail{}:\n  {}",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" },
            self.failures.join("\n  ")
        )
    }
}

impl std::error::Error for ScanPolicyError {}

impl miette::Diagnostic for ScanPolicyError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{ScanReport, scan_bytes};

    #[test]
    fn failures_name_the_allow_line_and_warnings_are_returned() {
        let report = ScanReport {
            files: vec![scan_bytes(b"cos\nsystem\n(S'x'\ntR.", "a.pkl")],
            bytes_read: 0,
        };
        let policy = ScanPolicy::default();
        let mut f = PolicyFailures::default();
        let warnings = f.add("input `base`", &report.verdict(&policy), &policy);
        assert!(warnings.is_empty(), "{warnings:?}");
        let e = f
            .into_error("mlprov::pin::scan", "mlprov.lock was not written")
            .unwrap();
        let text = e.to_string();
        assert!(text.contains("input `base`: a.pkl"), "{text}");
        assert!(text.contains("S0101"), "{text}");
        let help = miette::Diagnostic::help(&e).unwrap().to_string();
        assert!(
            help.contains("formats.allow = [\"pickle-global:os.system\"]"),
            "{help}"
        );
        assert!(help.ends_with("mlprov.lock was not written"), "{help}");
        assert_eq!(
            miette::Diagnostic::code(&e).unwrap().to_string(),
            "mlprov::pin::scan"
        );
        assert!(PolicyFailures::default().into_error("x", "y").is_none());
    }
}
