//! SPDX license expressions: validation, mapping of Hugging Face license
//! names, and evaluation against an allowlist.

use spdx::Expression;

/// Parse an SPDX license expression strictly.
pub fn parse(expr: &str) -> Result<Expression, spdx::ParseError> {
    Expression::parse(expr)
}

/// A suggestion for an expression that did not parse: the closest SPDX id,
/// or a `LicenseRef-` form for a non-SPDX name.
pub fn suggest(expr: &str) -> String {
    let trimmed = expr.trim();
    if let Some(id) = case_insensitive_id(trimmed) {
        return id.to_string();
    }
    if let Some(id) = similar(trimmed).first() {
        return id.to_string();
    }
    format!("LicenseRef-{}", sanitize_ref(trimmed))
}

/// SPDX ids that `name` is probably a spelling of (`Apache2`, `Apache 2.0`,
/// `apache-2` → `Apache-2.0`), best first, at most three. Compared without
/// case, spaces or punctuation; deprecated ids are left out.
pub fn similar(name: &str) -> Vec<&'static str> {
    let key = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let want = key(name);
    if want.len() < 2 {
        return Vec::new();
    }
    let mut scored: Vec<(f64, &'static str)> = spdx::identifiers::LICENSES
        .iter()
        .filter(|l| l.flags & spdx::flags::IS_DEPRECATED == 0)
        .map(|l| {
            let k = key(l.name);
            let mut score = strsim::normalized_damerau_levenshtein(&want, &k);
            // `GPL3` → `GPL-3.0-only`, `GPL-3.0-or-later`.
            if want.len() >= 4 && k.starts_with(&want) {
                score = score.max(0.8);
            }
            (score, l.name)
        })
        .filter(|(score, _)| *score >= 0.75)
        .collect();
    scored.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.1.cmp(b.1))
    });
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

/// Why `expr` is not an SPDX expression and how to write it, in one line
/// (for a prompt that asks again): the ids it is probably a spelling of, or
/// how AND/OR/WITH join terms, or the `LicenseRef-` form.
pub fn explain(expr: &str) -> Option<String> {
    let err = parse(expr).err()?;
    let t = expr.trim();
    let operators = t
        .split_whitespace()
        .any(|w| matches!(w.to_ascii_uppercase().as_str(), "AND" | "OR" | "WITH"))
        || t.contains(['(', ')', '+']);
    if operators {
        return Some(format!(
            "not a complete SPDX expression ({}): AND, OR and WITH each join two terms, e.g. `MIT OR Apache-2.0`, `Apache-2.0 WITH LLVM-exception`",
            err.reason
        ));
    }
    if let Some(id) = case_insensitive_id(t) {
        return Some(format!("SPDX ids are case-sensitive: write `{id}`"));
    }
    Some(match similar(t).as_slice() {
        [] => format!(
            "`{t}` is not an SPDX id: name a license from https://spdx.org/licenses/, or write one without an id as `LicenseRef-{}`",
            sanitize_ref(t)
        ),
        [one] => format!("`{t}` is not an SPDX id: did you mean `{one}`?"),
        many => format!(
            "`{t}` is not an SPDX id: did you mean {}?",
            many.iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

fn case_insensitive_id(name: &str) -> Option<&'static str> {
    spdx::identifiers::LICENSES
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(name))
        .map(|l| l.name)
}

/// Keep only the characters a `LicenseRef-` idstring may contain.
fn sanitize_ref(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() { "unknown".into() } else { s }
}

/// Map a license named in a Hugging Face model card (`license: apache-2.0`,
/// `llama3`, `other`) to an SPDX expression. SPDX ids are matched without
/// regard to case; anything else becomes `LicenseRef-<name>`.
/// `None` for "unknown"/empty.
pub fn from_hf(name: &str) -> Option<String> {
    let name = name.trim();
    if name.is_empty() || name.eq_ignore_ascii_case("unknown") {
        return None;
    }
    if parse(name).is_ok() {
        return Some(name.to_string());
    }
    if let Some(id) = case_insensitive_id(name) {
        return Some(id.to_string());
    }
    // Hugging Face's own short names for some common licenses.
    let mapped = match name.to_ascii_lowercase().as_str() {
        "gpl" | "gpl-3.0" => Some("GPL-3.0-only"),
        "gpl-2.0" => Some("GPL-2.0-only"),
        "lgpl-3.0" => Some("LGPL-3.0-only"),
        "lgpl-2.1" => Some("LGPL-2.1-only"),
        "agpl-3.0" => Some("AGPL-3.0-only"),
        "bsd" => Some("BSD-3-Clause"),
        "cc" => None,
        _ => None,
    };
    Some(match mapped {
        Some(id) => id.to_string(),
        None => format!("LicenseRef-{}", sanitize_ref(name)),
    })
}

/// Does `expr` satisfy an allowlist? `Apache-2.0 OR GPL-3.0-only` passes when
/// Apache-2.0 is allowed; `MIT AND GPL-3.0-only` needs both. Allowlist entries
/// that are themselves expressions are compared by their license requirements.
pub fn allowed(expr: &str, allow: &[String]) -> Result<bool, spdx::ParseError> {
    let e = parse(expr)?;
    let allowed_reqs: Vec<String> = allow
        .iter()
        .filter_map(|a| parse(a).ok())
        .flat_map(|a| {
            a.requirements()
                .map(|r| r.req.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(e.evaluate(|req| allowed_reqs.iter().any(|a| *a == req.to_string())))
}

#[cfg(test)]
mod tests {

    #[test]
    fn spellings_get_the_spdx_id() {
        for typed in ["Apache2", "Apache 2.0", "apache-2", "APACHE 2.0"] {
            assert_eq!(similar(typed).first(), Some(&"Apache-2.0"), "{typed}");
            assert!(explain(typed).unwrap().contains("`Apache-2.0`"), "{typed}");
        }
        assert_eq!(suggest("Apache 2"), "Apache-2.0");
        assert!(
            similar("GPL3").contains(&"GPL-3.0-only"),
            "{:?}",
            similar("GPL3")
        );
        let e = explain("MIT OR").unwrap();
        assert!(e.contains("AND, OR and WITH each join two terms"), "{e}");
        assert!(explain("mit").unwrap().contains("`MIT`"));
        assert!(
            explain("My Own License")
                .unwrap()
                .contains("LicenseRef-My-Own-License")
        );
        assert_eq!(explain("MIT OR Apache-2.0"), None);
    }

    use super::*;

    #[test]
    fn maps_hf_names() {
        assert_eq!(from_hf("apache-2.0").as_deref(), Some("Apache-2.0"));
        assert_eq!(from_hf("mit").as_deref(), Some("MIT"));
        assert_eq!(from_hf("llama3").as_deref(), Some("LicenseRef-llama3"));
        assert_eq!(from_hf("cc-by-4.0").as_deref(), Some("CC-BY-4.0"));
        assert_eq!(from_hf("unknown"), None);
        assert_eq!(from_hf("other").as_deref(), Some("LicenseRef-other"));
    }

    #[test]
    fn evaluates_or_and() {
        let allow = vec!["Apache-2.0".to_string(), "MIT".to_string()];
        assert!(allowed("Apache-2.0 OR GPL-3.0-only", &allow).unwrap());
        assert!(!allowed("MIT AND GPL-3.0-only", &allow).unwrap());
        assert!(allowed("MIT", &allow).unwrap());
        let refs = vec!["LicenseRef-acme-internal".to_string()];
        assert!(allowed("LicenseRef-acme-internal", &refs).unwrap());
        assert!(!allowed("LicenseRef-other", &refs).unwrap());
    }

    #[test]
    fn suggests() {
        assert_eq!(suggest("apache-2.0"), "Apache-2.0");
        assert_eq!(suggest("Llama 3"), "LicenseRef-Llama-3");
    }
}
