//! Limits that keep a Rego policy from hanging or crashing `verify`
//! (issue 19): regorus's parser backtracks exponentially on nested `[` and
//! `{`, and its interpreter recurses on the native stack for every rule and
//! function it calls, so a recursive function (which OPA refuses to
//! compile) or a very long chain of rules overflows the stack and aborts
//! the process. Both are checked before anything is evaluated: the nesting
//! on the text, before parsing; recursion and call depth on the parsed
//! modules' syntax tree.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The deepest nesting of `[` and `{` accepted in a policy file.
pub const MAX_NESTING: usize = 12;
/// The longest chain of rules and functions one evaluation may go through
/// (a rule that uses a rule that calls a function …).
pub const MAX_CALL_DEPTH: usize = 100;

/// Where the nesting of `[`/`{` first goes past [`MAX_NESTING`], as
/// (line, column), both from 1.
pub fn nesting_violation(text: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let (mut line, mut col) = (1usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        col += 1;
        match c {
            '\n' => {
                line += 1;
                col = 0;
            }
            '#' => {
                // A comment runs to the end of the line.
                while chars.peek().is_some_and(|&n| n != '\n') {
                    chars.next();
                }
            }
            '"' => {
                while let Some(n) = chars.next() {
                    col += 1;
                    match n {
                        '\\' => {
                            chars.next();
                            col += 1;
                        }
                        '"' | '\n' => break,
                        _ => {}
                    }
                }
            }
            '`' => {
                for n in chars.by_ref() {
                    col += 1;
                    if n == '\n' {
                        line += 1;
                        col = 0;
                    }
                    if n == '`' {
                        break;
                    }
                }
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some((line, col));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// What the syntax tree check refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallProblem {
    /// A function that calls itself, directly or through other functions:
    /// the path from the function back to itself.
    Recursive(Vec<String>),
    /// A chain of rules and functions longer than [`MAX_CALL_DEPTH`].
    TooDeep(Vec<String>),
}

/// A rule or function of the loaded modules, by its path (`data.pkg.name`).
#[derive(Default)]
struct Node {
    function: bool,
    /// Functions this one calls (by path).
    calls: BTreeSet<String>,
    /// Everything this rule or function uses: calls and rule references.
    uses: BTreeSet<String>,
}

/// Check the modules regorus parsed (its syntax tree as JSON, from
/// `Engine::get_ast_as_json`) for recursive functions and over-long chains.
pub fn check_calls(ast: &Value) -> Result<(), CallProblem> {
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    // Pass 1: every rule and function, so that pass 2 can resolve names.
    let mut bodies = Vec::new();
    for module in ast.as_array().into_iter().flatten() {
        let Some(m) = module.get("ast") else { continue };
        let contents = module
            .pointer("/source/contents")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(pkg) = m.pointer("/package/refr").and_then(dotted) else {
            continue;
        };
        let pkg = format!("data.{pkg}");
        let mut aliases = BTreeMap::new();
        for import in m
            .get("imports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(path) = import.get("refr").and_then(dotted) else {
                continue;
            };
            if !path.starts_with("data.") {
                continue;
            }
            let alias = import
                .get("as")
                .and_then(|span| {
                    let start = span.get("start")?.as_u64()? as usize;
                    let end = span.get("end")?.as_u64()? as usize;
                    contents.get(start..end).map(str::to_string)
                })
                .or_else(|| path.rsplit('.').next().map(str::to_string));
            if let Some(alias) = alias {
                aliases.insert(alias, path);
            }
        }
        let aliases = std::sync::Arc::new(aliases);
        for rule in m
            .get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (head_ref, function) = if let Some(spec) = rule.get("Spec") {
                let Some(head) = spec.get("head").and_then(Value::as_object) else {
                    continue;
                };
                let Some((kind, h)) = head.iter().next() else {
                    continue;
                };
                (h.get("refr"), kind == "Func")
            } else if let Some(d) = rule.get("Default") {
                (d.get("refr"), false)
            } else {
                continue;
            };
            let Some(name) = head_ref.and_then(dotted) else {
                continue;
            };
            let path = format!("{pkg}.{name}");
            let node = nodes.entry(path.clone()).or_default();
            node.function |= function;
            bodies.push((path, pkg.clone(), aliases.clone(), rule));
        }
    }
    // Pass 2: what each rule and function uses.
    let paths: BTreeSet<String> = nodes.keys().cloned().collect();
    for (path, pkg, aliases, rule) in bodies {
        let mut used = Used::default();
        walk(rule, &mut used);
        let resolve = |name: &str| -> Option<String> {
            let (first, rest) = name.split_once('.').unwrap_or((name, ""));
            let full = if first == "data" {
                name.to_string()
            } else if first == "input" {
                return None;
            } else if let Some(p) = aliases.get(first) {
                if rest.is_empty() {
                    p.clone()
                } else {
                    format!("{p}.{rest}")
                }
            } else {
                format!("{pkg}.{name}")
            };
            Some(full)
        };
        let mut calls = BTreeSet::new();
        let mut uses = BTreeSet::new();
        for c in &used.calls {
            if let Some(full) = resolve(c)
                && nodes.get(&full).is_some_and(|n| n.function)
            {
                calls.insert(full.clone());
                uses.insert(full);
            }
        }
        for r in &used.refs {
            let Some(full) = resolve(r) else { continue };
            // The rule itself, rules under a package or prefix it names,
            // and the rule a longer reference reaches into.
            let under = format!("{full}.");
            for p in paths.range(full.clone()..) {
                if *p == full || p.starts_with(&under) {
                    uses.insert(p.clone());
                } else {
                    break;
                }
            }
            let mut prefix = full.as_str();
            while let Some((head, _)) = prefix.rsplit_once('.') {
                if paths.contains(head) {
                    uses.insert(head.to_string());
                }
                prefix = head;
            }
        }
        let node = nodes.get_mut(&path).expect("added in pass 1");
        node.calls.extend(calls);
        node.uses.extend(uses);
    }
    if let Some(cycle) = call_cycle(&nodes) {
        return Err(CallProblem::Recursive(cycle));
    }
    if let Some(chain) = longest_chain(&nodes) {
        return Err(CallProblem::TooDeep(chain));
    }
    Ok(())
}

#[derive(Default)]
struct Used {
    calls: BTreeSet<String>,
    refs: BTreeSet<String>,
}

/// The dotted name of a reference made of names and string indexes
/// (`data.lib["x"].f` → `data.lib.x.f`).
fn dotted(v: &Value) -> Option<String> {
    let (prefix, whole) = chain(v);
    if whole { prefix } else { None }
}

/// The literal prefix of a reference chain, and whether the whole chain is
/// literal.
fn chain(v: &Value) -> (Option<String>, bool) {
    let Some(obj) = v.as_object() else {
        return (None, false);
    };
    if let Some(var) = obj.get("Var") {
        let name = var.get("value").and_then(Value::as_str).map(str::to_string);
        return (name, true);
    }
    if let Some(d) = obj.get("RefDot") {
        let (base, whole) = d.get("refr").map(chain).unwrap_or((None, false));
        let field = d
            .get("field")
            .and_then(Value::as_array)
            .and_then(|f| f.iter().find_map(Value::as_str));
        return match (base, whole, field) {
            (Some(b), true, Some(f)) => (Some(format!("{b}.{f}")), true),
            (b, _, _) => (b, false),
        };
    }
    if let Some(b) = obj.get("RefBrack") {
        let (base, whole) = b.get("refr").map(chain).unwrap_or((None, false));
        let index = b.pointer("/index/String/value").and_then(Value::as_str);
        return match (base, whole, index) {
            (Some(b), true, Some(i)) => (Some(format!("{b}.{i}")), true),
            (b, _, _) => (b, false),
        };
    }
    (None, false)
}

/// Collect the calls and references in a rule (its own name excepted).
fn walk(v: &Value, used: &mut Used) {
    match v {
        Value::Array(items) => {
            for i in items {
                walk(i, used);
            }
        }
        Value::Object(obj) => {
            if obj.len() == 1 {
                let (k, inner) = obj.iter().next().expect("one entry");
                match k.as_str() {
                    "Call" => {
                        let fcn = inner.get("fcn");
                        match fcn.and_then(dotted) {
                            Some(name) => {
                                used.calls.insert(name);
                            }
                            None => {
                                if let Some(f) = fcn {
                                    walk(f, used);
                                }
                            }
                        }
                        if let Some(p) = inner.get("params") {
                            walk(p, used);
                        }
                        return;
                    }
                    "Var" | "RefDot" | "RefBrack" => {
                        if let (Some(prefix), _) = chain(v) {
                            used.refs.insert(prefix);
                        }
                        walk_indexes(v, used);
                        return;
                    }
                    "Spec" | "Default" => {
                        walk_head(inner, used);
                        return;
                    }
                    _ => {}
                }
            }
            for child in obj.values() {
                walk(child, used);
            }
        }
        _ => {}
    }
}

/// A rule's `Spec`, `head` or `Default` object: everything but the name.
fn walk_head(v: &Value, used: &mut Used) {
    match v {
        Value::Object(obj) => {
            for (k, child) in obj {
                match k.as_str() {
                    "refr" | "span" => {}
                    "head" | "Func" | "Set" | "Compr" => walk_head(child, used),
                    // The bodies of a rule are plain expressions.
                    _ => walk(child, used),
                }
            }
        }
        other => walk(other, used),
    }
}

/// The index expressions and non-reference bases inside a reference chain.
fn walk_indexes(v: &Value, used: &mut Used) {
    let Some(obj) = v.as_object() else { return };
    if let Some(d) = obj.get("RefDot") {
        if let Some(r) = d.get("refr") {
            walk_chain_base(r, used);
        }
    } else if let Some(b) = obj.get("RefBrack") {
        if let Some(r) = b.get("refr") {
            walk_chain_base(r, used);
        }
        if let Some(i) = b.get("index") {
            walk(i, used);
        }
    }
}

fn walk_chain_base(v: &Value, used: &mut Used) {
    let is_ref = v.as_object().is_some_and(|o| {
        o.contains_key("Var") || o.contains_key("RefDot") || o.contains_key("RefBrack")
    });
    if is_ref {
        walk_indexes(v, used);
    } else {
        walk(v, used);
    }
}

/// A cycle of function calls, as the path from a function back to itself.
/// Iterative, so that a long chain cannot overflow this check's own stack.
fn call_cycle(nodes: &BTreeMap<String, Node>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark: BTreeMap<&str, Mark> = nodes.keys().map(|k| (k.as_str(), Mark::New)).collect();
    for start in nodes.keys() {
        if mark[start.as_str()] != Mark::New {
            continue;
        }
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(
            start.as_str(),
            nodes[start].calls.iter().map(String::as_str).collect(),
        )];
        mark.insert(start.as_str(), Mark::Open);
        while let Some((_, todo)) = stack.last_mut() {
            match todo.pop() {
                Some(next) => match mark.get(next).copied() {
                    Some(Mark::New) => {
                        mark.insert(next, Mark::Open);
                        let calls = nodes[next].calls.iter().map(String::as_str).collect();
                        stack.push((next, calls));
                    }
                    Some(Mark::Open) => {
                        let from = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            stack[from..].iter().map(|(n, _)| n.to_string()).collect();
                        cycle.push(next.to_string());
                        return Some(cycle);
                    }
                    _ => {}
                },
                None => {
                    let (done, _) = stack.pop().expect("non-empty");
                    mark.insert(done, Mark::Done);
                }
            }
        }
    }
    None
}

/// A chain of uses longer than [`MAX_CALL_DEPTH`], if there is one (cycles
/// among rules are cut; regorus reports them when evaluating).
fn longest_chain(nodes: &BTreeMap<String, Node>) -> Option<Vec<String>> {
    // depth[n]: the longest chain starting at n, and the next node on it.
    let mut depth: BTreeMap<&str, (usize, Option<&str>)> = BTreeMap::new();
    let mut open: BTreeSet<&str> = BTreeSet::new();
    for start in nodes.keys() {
        if depth.contains_key(start.as_str()) {
            continue;
        }
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(
            start.as_str(),
            nodes[start].uses.iter().map(String::as_str).collect(),
        )];
        open.insert(start.as_str());
        while let Some((_, todo)) = stack.last_mut() {
            match todo.pop() {
                Some(next) => {
                    if depth.contains_key(next) || open.contains(next) || !nodes.contains_key(next)
                    {
                        continue;
                    }
                    open.insert(next);
                    let uses = nodes[next].uses.iter().map(String::as_str).collect();
                    stack.push((next, uses));
                }
                None => {
                    let (n, _) = stack.pop().expect("non-empty");
                    open.remove(n);
                    let best = nodes[n]
                        .uses
                        .iter()
                        .filter_map(|u| depth.get(u.as_str()).map(|(d, _)| (*d, u.as_str())))
                        .max_by_key(|(d, _)| *d);
                    let entry = match best {
                        Some((d, u)) => (d + 1, Some(u)),
                        None => (1, None),
                    };
                    depth.insert(n, entry);
                }
            }
        }
    }
    let (start, (d, _)) = depth.iter().max_by_key(|(_, (d, _))| *d)?;
    if *d <= MAX_CALL_DEPTH {
        return None;
    }
    let mut chain = vec![start.to_string()];
    let mut at = *start;
    while let Some((_, Some(next))) = depth.get(at) {
        chain.push(next.to_string());
        at = next;
    }
    Some(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments() {
        assert_eq!(nesting_violation("x := [[1]]"), None);
        let deep = format!("package x\nx := {}1{}", "[".repeat(13), "]".repeat(13));
        assert_eq!(nesting_violation(&deep), Some((2, 18)));
        let quoted = format!(
            "package x\n# {}\nx := \"{}\"\ny := `{}`",
            "[".repeat(40),
            "{\\\"".repeat(40),
            "[".repeat(40)
        );
        assert_eq!(nesting_violation(&quoted), None);
        // Closing brackets balance; objects count like arrays.
        let wide = "package x\nx := [".to_string() + &"{\"a\": [1]}, ".repeat(50) + "]";
        assert_eq!(nesting_violation(&wide), None);
    }
}
