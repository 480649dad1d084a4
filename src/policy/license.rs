//! The license rule, the one `pin` (every input), `build` (every input and
//! the output) and `verify` (every node of the graph) apply:
//!
//! - an empty `licenses.allow` admits everything;
//! - otherwise something must declare a license, and every declared
//!   license must be a valid SPDX expression the allowlist satisfies
//!   (`Apache-2.0 OR GPL-3.0-only` passes when `Apache-2.0` is allowed,
//!   `MIT AND GPL-3.0-only` needs both).
//!
//! Each caller says where the licenses came from and how to fix a failure;
//! the rule and its words are the same everywhere.

use std::fmt;

/// One way a set of declared licenses fails the allowlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// Nothing declares a license.
    Missing,
    /// A declared license the allowlist does not satisfy.
    NotAllowed { license: String, allow: Vec<String> },
    /// A declared license that is not an SPDX expression.
    Invalid { license: String, reason: String },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Missing => f.write_str("no license is declared, and licenses.allow is set"),
            Violation::NotAllowed { license, allow } => write!(
                f,
                "license `{license}` is not allowed by licenses.allow ({})",
                allow.join(", ")
            ),
            Violation::Invalid { license, reason } => {
                write!(
                    f,
                    "license `{license}` is not a valid SPDX expression: {reason}"
                )
            }
        }
    }
}

/// Check the licenses declared for one artifact against `allow`.
pub fn check<S: AsRef<str>>(declared: &[S], allow: &[String]) -> Vec<Violation> {
    if allow.is_empty() {
        return Vec::new();
    }
    if declared.is_empty() {
        return vec![Violation::Missing];
    }
    declared
        .iter()
        .filter_map(|l| {
            let license = l.as_ref();
            match crate::license::allowed(license, allow) {
                Ok(true) => None,
                Ok(false) => Some(Violation::NotAllowed {
                    license: license.to_string(),
                    allow: allow.to_vec(),
                }),
                Err(e) => Some(Violation::Invalid {
                    license: license.to_string(),
                    reason: e.reason.to_string(),
                }),
            }
        })
        .collect()
}

/// What a project-level check is about: a locked input, or the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Input(String),
    Output,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Input(name) => write!(f, "input `{name}`"),
            Subject::Output => f.write_str("the output"),
        }
    }
}

/// The rule over a project (`pin`, `build`): every input, by name with its
/// license, and, when given, the output's `[artifact] license`.
pub fn check_project<'a>(
    inputs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    output: Option<Option<&str>>,
    allow: &[String],
) -> Vec<(Subject, Violation)> {
    let mut out = Vec::new();
    let one = |l: Option<&str>| check(&l.into_iter().collect::<Vec<_>>(), allow);
    for (name, license) in inputs {
        out.extend(
            one(license)
                .into_iter()
                .map(|v| (Subject::Input(name.to_string()), v)),
        );
    }
    if let Some(license) = output {
        out.extend(one(license).into_iter().map(|v| (Subject::Output, v)));
    }
    out
}

/// One line for a project's violations: `input `a`: license …; the output: …`.
pub fn summary(bad: &[(Subject, Violation)]) -> String {
    bad.iter()
        .map(|(s, v)| format!("{s}: {v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// How to fix a project's violations, then `tail` (what was not done).
pub fn help(bad: &[(Subject, Violation)], tail: &str) -> String {
    let mut fixes: Vec<&str> = Vec::new();
    for (s, v) in bad {
        let fix = match (s, v) {
            (Subject::Input(_), Violation::Missing) => {
                "set `license = \"…\"` (an SPDX expression) on the input in mlprov.toml"
            }
            (Subject::Output, Violation::Missing) => {
                "set `license = \"…\"` (an SPDX expression) in [artifact]"
            }
            (_, Violation::NotAllowed { .. }) => {
                "replace the input, or add its license to [policy] licenses.allow if it is acceptable"
            }
            (_, Violation::Invalid { .. }) => {
                "write the license as an SPDX expression, or `LicenseRef-…` for anything else"
            }
        };
        if !fixes.contains(&fix) {
            fixes.push(fix);
        }
    }
    fixes.push(tail);
    fixes.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn empty_allowlist_admits_everything() {
        assert!(check::<&str>(&[], &[]).is_empty());
        assert!(check(&["GPL-3.0-only"], &[]).is_empty());
    }

    #[test]
    fn the_rule() {
        let a = allow(&["Apache-2.0", "MIT"]);
        assert_eq!(check::<&str>(&[], &a), [Violation::Missing]);
        assert!(check(&["Apache-2.0 OR GPL-3.0-only"], &a).is_empty());
        let v = check(&["MIT AND GPL-3.0-only", "MIT"], &a);
        assert_eq!(v.len(), 1);
        assert_eq!(
            v[0].to_string(),
            "license `MIT AND GPL-3.0-only` is not allowed by licenses.allow (Apache-2.0, MIT)"
        );
        let v = check(&["Apache 2"], &a);
        assert!(matches!(&v[0], Violation::Invalid { .. }), "{v:?}");
        assert!(
            v[0].to_string()
                .starts_with("license `Apache 2` is not a valid SPDX expression")
        );
    }

    #[test]
    fn projects() {
        let a = allow(&["Apache-2.0"]);
        let bad = check_project(
            [
                ("base", Some("MIT")),
                ("data", None),
                ("ok", Some("Apache-2.0")),
            ],
            Some(None),
            &a,
        );
        assert_eq!(bad.len(), 3, "{bad:?}");
        assert_eq!(
            summary(&bad),
            "input `base`: license `MIT` is not allowed by licenses.allow (Apache-2.0); input `data`: no license is declared, and licenses.allow is set; the output: no license is declared, and licenses.allow is set"
        );
        let h = help(&bad, "nothing was written");
        assert!(
            h.contains("on the input") && h.contains("in [artifact]"),
            "{h}"
        );
        assert!(h.ends_with("nothing was written"));
        assert!(check_project([("x", None)], None, &[]).is_empty());
    }
}
