//! The shape of `src/`, checked from its text:
//!
//! - no two files import each other in a loop (file level: every
//!   `use crate::…`, `super::…` and inline `crate::x::` path counts; a
//!   module's `mod.rs` composing its own children does not);
//! - layers point down: `commands` → `settings` → domain, and the domain
//!   never reaches `commands/`, `settings/`, `cli.rs` or `output.rs`;
//! - the environment is read only in `src/settings/`;
//! - a command file never imports another command file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::repo_root;

/// Import cycles that exist today, each as the sorted files of one strongly
/// connected component. Whoever removes a cycle deletes its entry here (the
/// test fails on an entry that no longer matches, so the list stays true).
const KNOWN_CYCLES: &[&[&str]] = &[];

/// `commands/X.rs` → `commands/Y.rs` imports that exist today; the owner
/// of the move deletes its entry.
const KNOWN_CROSS_COMMAND: &[(&str, &str)] = &[];

/// Source files and the module path each one defines.
struct Crate {
    /// file (relative to src/) → its text with comments and literals blanked
    files: BTreeMap<String, String>,
    /// module path (`resolve::hf`) → file
    modules: BTreeMap<Vec<String>, String>,
}

/// Blank comments, string, byte-string, raw-string and char literals
/// (keeping newlines), so braces and paths can be read from what is left.
fn clean(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, c: u8| out.push(if c == b'\n' { b'\n' } else { b' ' });
    while i < b.len() {
        let c = b[i];
        // Comments.
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
            continue;
        }
        let ident_before = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        // Raw strings: r"…", r#"…"#, br#"…"#.
        if !ident_before && (c == b'r' || (c == b'b' && b.get(i + 1) == Some(&b'r'))) {
            let start = if c == b'b' { i + 2 } else { i + 1 };
            let mut j = start;
            while b.get(j) == Some(&b'#') {
                j += 1;
            }
            if b.get(j) == Some(&b'"') {
                let hashes = j - start;
                out.extend(std::iter::repeat_n(b' ', j + 1 - i));
                i = j + 1;
                loop {
                    if i >= b.len() {
                        break;
                    }
                    if b[i] == b'"'
                        && b[i + 1..]
                            .iter()
                            .take(hashes)
                            .filter(|&&h| h == b'#')
                            .count()
                            == hashes
                    {
                        out.extend(std::iter::repeat_n(b' ', hashes + 1));
                        i += 1 + hashes;
                        break;
                    }
                    blank(&mut out, b[i]);
                    i += 1;
                }
                continue;
            }
        }
        // Strings and byte strings.
        if c == b'"' {
            out.push(b' ');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    blank(&mut out, b[i]);
                    i += 1;
                }
                if i < b.len() {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
            out.push(b' ');
            i += 1;
            continue;
        }
        // Char literals (not lifetimes): 'x', '\n', '\u{..}', '{'.
        if c == b'\'' {
            let lit_end = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..]
                    .iter()
                    .position(|&x| x == b'\'')
                    .map(|p| i + 2 + p)
            } else if b.get(i + 2) == Some(&b'\'') {
                Some(i + 2)
            } else {
                // A multi-byte char: up to 4 bytes then a quote.
                (2..=5)
                    .find(|k| b.get(i + k) == Some(&b'\'') && !b[i + 1].is_ascii())
                    .map(|k| i + k)
            };
            if let Some(end) = lit_end {
                out.extend(std::iter::repeat_n(b' ', end + 1 - i));
                i = end + 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Cut `#[cfg(test)] mod tests { … }` (test code imports what it likes).
fn without_tests(clean: &str) -> String {
    let mut s = clean.to_string();
    while let Some(at) = s.find("#[cfg(test)]") {
        let rest = &s[at..];
        let Some(open) = rest.find('{') else { break };
        let header = &rest[..open];
        if !header.contains("mod ") {
            // `#[cfg(test)]` on something else: blank the attribute only.
            s.replace_range(at..at + "#[cfg(test)]".len(), &" ".repeat(12));
            continue;
        }
        let end = matching_brace(&s, at + open).unwrap_or(s.len() - 1);
        let blanked: String = s[at..=end]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        s.replace_range(at..=end, &blanked);
    }
    s
}

fn matching_brace(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn module_of(rel: &str) -> Vec<String> {
    let stem = rel.trim_end_matches(".rs");
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    parts
}

impl Crate {
    fn read() -> Crate {
        let src = repo_root().join("src");
        let mut paths = Vec::new();
        rs_files(&src, &mut paths);
        let mut files = BTreeMap::new();
        let mut modules = BTreeMap::new();
        for p in paths {
            let rel = p
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            // main.rs is the binary crate: it reaches the library by name.
            if rel == "main.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&p).expect("read");
            let cleaned = without_tests(&clean(&text));
            modules.insert(module_of(&rel), rel.clone());
            files.insert(rel, cleaned);
        }
        // Inline modules (`pub mod schema { … }`) belong to their file.
        let inline = regex::Regex::new(r"\bmod\s+(\w+)\s*\{").expect("regex");
        for (rel, text) in &files {
            for c in inline.captures_iter(text) {
                let mut m = module_of(rel);
                m.push(c[1].to_string());
                modules.entry(m).or_insert_with(|| rel.clone());
            }
        }
        Crate { files, modules }
    }

    /// The file a path (absolute, from the crate root) lands in: its
    /// longest prefix that names a module.
    fn file_of(&self, path: &[String]) -> Option<&String> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.modules.get(&path[..n]))
    }

    /// Every module path a file refers to, made absolute.
    fn references(&self, rel: &str) -> Vec<Vec<String>> {
        let text = &self.files[rel];
        let here = module_of(rel);
        let mut out = Vec::new();
        static USE: OnceLock<regex::Regex> = OnceLock::new();
        static INLINE: OnceLock<regex::Regex> = OnceLock::new();
        let use_re = USE.get_or_init(|| regex::Regex::new(r"\buse\s+([^;]+);").expect("regex"));
        for c in use_re.captures_iter(text) {
            for p in expand_use(&c[1]) {
                if let Some(abs) = absolute(&here, &p) {
                    out.push(abs);
                }
            }
        }
        let inline = INLINE.get_or_init(|| {
            regex::Regex::new(r"\b(crate|super|self)((?:\s*::\s*\w+)+)").expect("regex")
        });
        for c in inline.captures_iter(text) {
            let mut p = vec![c[1].to_string()];
            p.extend(
                c[2].split("::")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
            if let Some(abs) = absolute(&here, &p) {
                out.push(abs);
            }
        }
        out
    }

    /// file → files it imports (a module file composing its own
    /// descendants is not an import).
    fn edges(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for rel in self.files.keys() {
            let here = module_of(rel);
            let set = g.entry(rel.clone()).or_default();
            for r in self.references(rel) {
                let Some(to) = self.file_of(&r) else { continue };
                if to == rel {
                    continue;
                }
                let to_mod = module_of(to);
                let descendant = to_mod.len() > here.len() && to_mod.starts_with(&here);
                let own_inline = self.modules.get(&to_mod) == Some(rel);
                if descendant && !own_inline && is_module_root(rel) {
                    continue;
                }
                set.insert(to.clone());
            }
        }
        g
    }
}

fn is_module_root(rel: &str) -> bool {
    rel == "lib.rs" || rel.ends_with("/mod.rs")
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e` (segments).
fn expand_use(tree: &str) -> Vec<Vec<String>> {
    fn go(prefix: &[String], s: &str, out: &mut Vec<Vec<String>>) {
        let s = s.trim();
        if s.is_empty() {
            return;
        }
        if let Some(open) = s.find('{') {
            let head: Vec<String> = s[..open]
                .split("::")
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect();
            let close = s.rfind('}').unwrap_or(s.len());
            let inner = &s[open + 1..close];
            let mut p = prefix.to_vec();
            p.extend(head);
            // Split the inner list at top-level commas.
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        go(&p, &inner[start..i], out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            go(&p, &inner[start..], out);
            return;
        }
        let s = s.split(" as ").next().unwrap_or(s);
        let mut p = prefix.to_vec();
        p.extend(
            s.split("::")
                .map(str::trim)
                .filter(|x| !x.is_empty() && *x != "*")
                .map(str::to_string),
        );
        out.push(p);
    }
    let mut out = Vec::new();
    go(&[], tree, &mut out);
    out
}

/// A path made absolute from the module `here`; `None` for paths that
/// leave the crate (`std::…`, `serde::…`).
fn absolute(here: &[String], p: &[String]) -> Option<Vec<String>> {
    let mut cur: Vec<String>;
    let mut rest = p;
    match p.first().map(String::as_str) {
        Some("crate") => {
            cur = Vec::new();
            rest = &p[1..];
        }
        Some("super") | Some("self") => {
            cur = here.to_vec();
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "super" => {
                        cur.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    cur.extend(rest.iter().cloned());
    Some(cur)
}

/// Strongly connected components of two or more files (Tarjan).
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    impl<'a> T<'a> {
        fn visit(&mut self, v: &'a str) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on.insert(v);
            if let Some(ws) = self.g.get(v) {
                for w in ws {
                    let w = w.as_str();
                    if !self.index.contains_key(w) {
                        self.visit(w);
                        let lw = self.low[w];
                        let lv = self.low.get_mut(v).expect("low");
                        *lv = (*lv).min(lw);
                    } else if self.on.contains(w) {
                        let iw = self.index[w];
                        let lv = self.low.get_mut(v).expect("low");
                        *lv = (*lv).min(iw);
                    }
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    comp.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out.sort();
    t.out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Root,
    Commands,
    Settings,
    Cli,
    Output,
    Domain,
}

fn layer(rel: &str) -> Layer {
    match rel {
        "lib.rs" => Layer::Root,
        // help.rs dresses cli.rs's command for people (examples, man
        // sections, completion candidates): the same layer.
        "cli.rs" | "help.rs" => Layer::Cli,
        "output.rs" => Layer::Output,
        _ if rel.starts_with("commands/") => Layer::Commands,
        _ if rel.starts_with("settings/") || rel == "settings.rs" => Layer::Settings,
        _ => Layer::Domain,
    }
}

/// What a layer may not import.
fn forbidden(from: Layer, to: Layer) -> bool {
    use Layer::*;
    match from {
        Domain => matches!(to, Commands | Settings | Cli | Output),
        Settings => matches!(to, Commands),
        Output => matches!(to, Commands | Settings),
        Cli => matches!(to, Commands | Settings | Output),
        Root | Commands => false,
    }
}

#[test]
fn no_import_cycles_between_files() {
    let c = Crate::read();
    let found = cycles(&c.edges());
    let known: Vec<Vec<String>> = KNOWN_CYCLES
        .iter()
        .map(|k| {
            let mut v: Vec<String> = k.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        })
        .collect();
    let new: Vec<&Vec<String>> = found.iter().filter(|f| !known.contains(f)).collect();
    let gone: Vec<&Vec<String>> = known.iter().filter(|k| !found.contains(k)).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "import cycles between src/ files changed.\n\
         new (break them: move the shared piece below both files): {new:?}\n\
         gone (delete them from KNOWN_CYCLES in tests/layering.rs): {gone:?}"
    );
}

#[test]
fn layers_point_down() {
    let c = Crate::read();
    let mut bad = Vec::new();
    for (from, tos) in c.edges() {
        for to in tos {
            if forbidden(layer(&from), layer(&to)) {
                bad.push(format!("{from} → {to}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports against the layering (commands → settings → domain; the domain never \
         reaches commands/, settings/, cli.rs or output.rs):\n  {}",
        bad.join("\n  ")
    );
}

#[test]
fn command_files_do_not_import_each_other() {
    let edges = Crate::read().edges();
    let mut bad = Vec::new();
    for (from, tos) in &edges {
        if !from.starts_with("commands/") || from == "commands/mod.rs" {
            continue;
        }
        for to in tos {
            if to.starts_with("commands/")
                && to != "commands/mod.rs"
                && !KNOWN_CROSS_COMMAND.contains(&(from.as_str(), to.as_str()))
            {
                bad.push(format!("{from} → {to}"));
            }
        }
    }
    let stale: Vec<String> = KNOWN_CROSS_COMMAND
        .iter()
        .filter(|(f, t)| !edges.get(*f).is_some_and(|s| s.contains(*t)))
        .map(|(f, t)| format!("{f} → {t}"))
        .collect();
    assert!(
        bad.is_empty() && stale.is_empty(),
        "a command file imports another (move the shared piece to settings/, output.rs or \
         the domain): {bad:?}\nno longer true, delete from KNOWN_CROSS_COMMAND: {stale:?}"
    );
}

#[test]
fn the_environment_is_read_only_in_settings() {
    let src = repo_root().join("src");
    let mut paths = Vec::new();
    rs_files(&src, &mut paths);
    let re = regex::Regex::new(r"\benv\s*::\s*(var|var_os|vars|vars_os)\b").expect("regex");
    let mut bad = Vec::new();
    for p in paths {
        let rel = p
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        if rel.starts_with("settings/") {
            continue;
        }
        let text = clean(&std::fs::read_to_string(&p).expect("read"));
        for (n, line) in text.lines().enumerate() {
            if re.is_match(line) {
                bad.push(format!("src/{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "the environment is read outside src/settings/ (read it in \
         settings::env::EnvironmentOptions and hand the value down):\n  {}",
        bad.join("\n  ")
    );
}

#[test]
fn the_checker_reads_paths_it_should() {
    assert_eq!(
        expand_use("crate::a::{b, c::{d, e as f}, self}"),
        [
            vec!["crate", "a", "b"],
            vec!["crate", "a", "c", "d"],
            vec!["crate", "a", "c", "e"],
            vec!["crate", "a", "self"],
        ]
        .iter()
        .map(|v| v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .collect::<Vec<_>>()
    );
    let here: Vec<String> = vec!["commands".into(), "pin".into()];
    assert_eq!(
        absolute(&here, &["super".into(), "scan".into()]),
        Some(vec!["commands".to_string(), "scan".to_string()])
    );
    let cleaned = clean("let s = \"crate::x {\"; // crate::y\nlet c = '{'; r#\"}\"#; crate::z");
    assert!(!cleaned.contains("crate::x") && !cleaned.contains("crate::y"));
    assert!(cleaned.contains("crate::z") && !cleaned.contains('{') && !cleaned.contains('}'));
}
