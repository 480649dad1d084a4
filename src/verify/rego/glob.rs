//! `glob.match` as OPA matches: OPA uses Go's gobwas/glob, whose syntax
//! regorus's builtin (globset) reads differently: `**/*.bin` matches
//! `top.bin` in regorus but not in OPA, `**.bin` crosses `/` in OPA only,
//! and `[^a]` is a negation in regorus only. A deny rule written for OPA
//! would decide otherwise, so mlprov registers this implementation under the
//! builtin's name (regorus looks extensions up first). No crate implements
//! gobwas's syntax; the pattern is translated to a `regex`:
//!
//! - `*`: any run of characters that are not delimiters; `**`: any run;
//!   `?`: one character that is not a delimiter;
//! - `[abc]`, `[a-z]`, `[!abc]`: character classes; `{a,b*}`: alternatives
//!   (nested); `\c`: the character itself;
//! - delimiters: the second operand (runes); `[]` means `["."]` and `null`
//!   none, as in OPA.
//!
//! One quirk of gobwas is kept too: a pattern that is a literal, one
//! wildcard matching everything, and a literal is matched as "starts with
//! and ends with", even where the two overlap (`a/**/b` matches `a/b`).

use regorus::Value;

fn delimiters(v: &Value) -> anyhow::Result<Vec<char>> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => {
            let mut out = Vec::new();
            for i in items.iter() {
                let Value::String(s) = i else {
                    anyhow::bail!("glob.match: operand 2 must be array of runes");
                };
                let mut cs = s.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => out.push(c),
                    _ => anyhow::bail!(
                        "glob.match: operand 2 must be array of runes but got array containing string"
                    ),
                }
            }
            if out.is_empty() {
                out.push('.');
            }
            Ok(out)
        }
        _ => anyhow::bail!("glob.match: operand 2 must be one of {{array, null}}"),
    }
}

fn not_delims(delims: &[char]) -> String {
    if delims.is_empty() {
        return ".".into();
    }
    let mut s = String::from("[^");
    for d in delims {
        s.push_str(&regex::escape(&d.to_string()));
    }
    s.push(']');
    s
}

/// The regular expression for a gobwas pattern.
fn translate(pattern: &str, delims: &[char]) -> anyhow::Result<String> {
    let mut re = String::from("(?s)^");
    let mut chars = pattern.chars().peekable();
    let mut alternatives = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                if chars.peek() == Some(&'*') {
                    chars.next();
                    re.push_str(".*");
                } else {
                    re.push_str(&not_delims(delims));
                    re.push('*');
                }
            }
            '?' => re.push_str(&not_delims(delims)),
            '\\' => match chars.next() {
                Some(n) => re.push_str(&regex::escape(&n.to_string())),
                None => anyhow::bail!("glob.match: unexpected end of pattern after `\\`"),
            },
            '[' => {
                let mut class = String::from("[");
                if chars.peek() == Some(&'!') {
                    chars.next();
                    class.push('^');
                }
                let mut closed = false;
                let mut empty = true;
                for n in chars.by_ref() {
                    if n == ']' {
                        closed = true;
                        break;
                    }
                    empty = false;
                    if n == '-' {
                        class.push('-');
                    } else {
                        class.push_str(&regex::escape(&n.to_string()));
                    }
                }
                if !closed || empty {
                    anyhow::bail!("glob.match: unexpected end of character class in `{pattern}`");
                }
                class.push(']');
                re.push_str(&class);
            }
            '{' => {
                alternatives += 1;
                re.push_str("(?:");
            }
            ',' if alternatives > 0 => re.push('|'),
            '}' if alternatives > 0 => {
                alternatives -= 1;
                re.push(')');
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    if alternatives > 0 {
        anyhow::bail!("glob.match: unexpected end of pattern list in `{pattern}`");
    }
    re.push('$');
    Ok(re)
}

/// gobwas's prefix-suffix matcher: `P**S` (or `P*S` without delimiters),
/// `P` and `S` literal.
fn prefix_suffix<'a>(pattern: &'a str, delims: &[char]) -> Option<(&'a str, &'a str)> {
    const META: &[char] = &['*', '?', '[', ']', '{', '}', '\\', ','];
    let (p, s) = if let Some((p, s)) = pattern.split_once("**") {
        (p, s)
    } else if delims.is_empty() {
        pattern.split_once('*')?
    } else {
        return None;
    };
    if p.is_empty() || s.is_empty() || p.contains(META) || s.contains(META) {
        return None;
    }
    Some((p, s))
}

pub fn glob_match(args: Vec<Value>) -> anyhow::Result<Value> {
    let (Some(Value::String(pattern)), Some(d), Some(Value::String(text))) =
        (args.first(), args.get(1), args.get(2))
    else {
        anyhow::bail!("glob.match: operands 1 and 3 must be strings");
    };
    let delims = delimiters(d)?;
    if let Some((p, s)) = prefix_suffix(pattern, &delims) {
        return Ok(Value::from(text.starts_with(p) && text.ends_with(s)));
    }
    let re = translate(pattern, &delims)?;
    let re = regex::Regex::new(&re).map_err(|e| anyhow::anyhow!("glob.match: {e}"))?;
    Ok(Value::from(re.is_match(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, d: &[&str], s: &str) -> bool {
        let d = Value::from(d.iter().map(|x| Value::from(*x)).collect::<Vec<_>>());
        glob_match(vec![Value::from(p), d, Value::from(s)]).unwrap() == Value::from(true)
    }

    #[test]
    fn gobwas_semantics() {
        // What the real OPA answered for each of these.
        assert!(!m("*", &[], "a.b"));
        assert!(m("*", &["/"], "a.b"));
        assert!(!m("**/*.bin", &["/"], "top.bin"));
        assert!(m("**.bin", &["/"], "a/top.bin"));
        assert!(m("a/**/b", &["/"], "a/b"));
        assert!(m("a/**/b", &["/"], "a/x/y/b"));
        assert!(m("{a,b*}.c", &[], "bx.c"));
        assert!(m("[!a]x", &[], "bx"));
        assert!(!m("[^a]x", &[], "bx"));
        assert!(m("[a-c]x", &[], "bx"));
        assert!(!m("?x", &[], ".x"));
        assert!(m("\\*x", &[], "*x"));
        assert!(m("*:b", &[":"], "a:b"));
        assert!(m("{a,{b,c}}", &[], "c"));
        assert!(m("", &[], ""));
    }
}
