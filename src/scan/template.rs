//! Chat templates (Jinja): can a template reach Python internals?
//!
//! An unsandboxed Jinja2 renderer resolves `x.name`, `x['name']`,
//! `x|attr('name')`, `map(attribute=…)` and `str.format` fields against
//! Python objects, so a template that can name an attribute starting with
//! `_` (`__class__`, `__globals__`, …), or one of the frame and generator
//! attributes that lead to the same places (`gi_frame`, `f_globals`, …),
//! can run code. The name does not have to be written out: `'__cla' ~
//! 'ss__'`, `'_' * 2`, `"\x5f\x5f"`, `'ssalc__'[::-1]` or a variable set
//! to one of those build it.
//!
//! The template is parsed (minijinja's parser, with string literals
//! re-decoded as Jinja2 decodes them, Python escapes included), and every
//! attribute name, subscript key, `attr`/`map`/`selectattr`/… argument and
//! `format` string is evaluated abstractly: constants are folded (`~`, `+`,
//! `*`, slices, common string filters), variables take every value any
//! `set` or `for` in the template gives them, and anything else is
//! "unknown". A key that is, or may be, such a name is reported; an unknown
//! key is reported too (context data such as `bos_token` comes from the
//! same file). Integers, booleans and loop counters are safe keys. A
//! template that does not parse is reported: what cannot be read is not
//! trusted.

use std::collections::HashMap;

use minijinja::machinery::ast::{self, CallArg, Expr, Stmt};

/// Attributes that lead from ordinary objects to frames, code and globals
/// without a leading underscore.
const FRAME_ATTRS: &[&str] = &[
    "ag_await",
    "ag_code",
    "ag_frame",
    "cr_await",
    "cr_code",
    "cr_frame",
    "f_back",
    "f_builtins",
    "f_code",
    "f_globals",
    "f_locals",
    "func_code",
    "func_globals",
    "gi_code",
    "gi_frame",
    "gi_yieldfrom",
    "im_func",
    "im_self",
    "mro",
    "tb_frame",
    "tb_next",
];

/// Names that, called from a template, would reach Python internals if a
/// renderer put them in the context.
const DANGEROUS_CALLS: &[&str] = &[
    "__import__",
    "compile",
    "eval",
    "exec",
    "getattr",
    "globals",
    "locals",
    "open",
    "setattr",
    "vars",
];

/// At most this many constant strings are tracked per value.
const MAX_STRS: usize = 64;
/// Constant strings longer than this are not tracked (the value becomes
/// unknown).
const MAX_STR_LEN: usize = 4096;

/// Whether an attribute name reaches Python internals.
fn risky_name(name: &str) -> bool {
    name.starts_with('_') || FRAME_ATTRS.contains(&name)
}

/// An attribute path as `make_attrgetter` splits it (`a.b.0`).
fn risky_path(path: &str) -> Option<&str> {
    path.split('.').find(|p| risky_name(p))
}

/// What an expression may evaluate to.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    /// Not a string (numbers, booleans, none, a loop object).
    NotStr,
    /// One of these strings.
    Strs(Vec<String>),
    /// A list whose items are values like this one.
    List(Box<Val>),
    /// The `loop` object.
    Loop,
    /// A dict literal whose values are like this one.
    Map(Box<Val>),
    /// Data the caller renders the template with (`messages`, `tools`)
    /// and what is read out of it: not chosen by the template's author.
    Data,
    /// Anything, possibly chosen by the template's author (strings built
    /// at render time, values from the file such as `bos_token`).
    Unknown,
}

impl Val {
    fn str(s: impl Into<String>) -> Val {
        Val::Strs(vec![s.into()])
    }

    fn join(self, other: Val) -> Val {
        match (self, other) {
            (a, b) if a == b => a,
            (Val::NotStr | Val::Loop, Val::NotStr | Val::Loop) => Val::NotStr,
            // A number or a string: numbers are safe keys and build no
            // names, so the string side decides.
            (Val::NotStr | Val::Loop, x) | (x, Val::NotStr | Val::Loop) if x != Val::Unknown => x,
            (Val::Strs(mut a), Val::Strs(b)) => {
                for s in b {
                    if !a.contains(&s) {
                        a.push(s);
                    }
                }
                if a.len() > MAX_STRS {
                    Val::Unknown
                } else {
                    Val::Strs(a)
                }
            }
            (Val::List(a), Val::List(b)) => Val::List(Box::new(a.join(*b))),
            (Val::Map(a), Val::Map(b)) => Val::Map(Box::new(a.join(*b))),
            (Val::Data, Val::NotStr | Val::Loop | Val::Data)
            | (Val::NotStr | Val::Loop, Val::Data) => Val::Data,
            // Caller data or something untainted: still not the author's.
            (Val::Data, other) | (other, Val::Data) if !other.tainted() => Val::Data,
            _ => Val::Unknown,
        }
    }

    /// Whether the author may have chosen this value: unknown, or built
    /// from constants holding `_` (from which a dunder can be assembled).
    fn tainted(&self) -> bool {
        match self {
            Val::Unknown => true,
            Val::Strs(ss) => ss.iter().any(|s| s.contains('_')),
            Val::List(e) | Val::Map(e) => e.tainted(),
            Val::NotStr | Val::Loop | Val::Data => false,
        }
    }

    /// The value of a string computed from these parts: author-chosen if a
    /// part is, or if a constant part holds `_` (it may build a dunder).
    fn computed(parts: &[&Val]) -> Val {
        let tainted = parts.iter().any(|p| p.tainted());
        if tainted { Val::Unknown } else { Val::Data }
    }

    /// The elements of iterating this value.
    fn element(&self) -> Val {
        match self {
            Val::List(e) => (**e).clone(),
            Val::Map(_) | Val::Data => Val::Data,
            Val::Strs(ss) => {
                let mut chars: Vec<String> = Vec::new();
                for s in ss {
                    for c in s.chars() {
                        let c = c.to_string();
                        if !chars.contains(&c) {
                            chars.push(c);
                        }
                    }
                }
                Val::Strs(chars)
            }
            _ => Val::Unknown,
        }
    }

    /// Why this value, used as an attribute name or key, may reach Python
    /// internals.
    fn risk(&self) -> Option<String> {
        match self {
            Val::Unknown => Some("a name computed at render time".into()),
            Val::NotStr | Val::Loop | Val::List(_) | Val::Map(_) | Val::Data => None,
            Val::Strs(ss) => ss
                .iter()
                .find(|s| risky_name(s))
                .map(|s| format!("`{}`", super::pickle::printable(s))),
        }
    }

    /// Like [`Val::risk`], for an attribute path (`a.__class__`).
    fn path_risk(&self) -> Option<String> {
        match self {
            Val::Strs(ss) => ss
                .iter()
                .find_map(|s| risky_path(s))
                .map(|s| format!("`{}`", super::pickle::printable(s))),
            other => other.risk(),
        }
    }
}

/// Decode a Jinja2 string literal's body as Jinja2 does (Python's
/// `unicode-escape`). `None` for a `\N{…}` escape (no name table here).
fn decode_python(body: &str) -> Option<String> {
    let c: Vec<char> = body.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        i += 1;
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        let Some(&e) = c.get(i) else {
            out.push('\\');
            break;
        };
        i += 1;
        i += super::pystr::escape(e, &c[i..], false, &mut out).ok()?;
    }
    Some(out)
}

/// The value of a string constant, re-read from the source: one or more
/// adjacent literals, decoded the Jinja2 way.
fn literal_strings(src: &str) -> Option<String> {
    let b: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = String::new();
    let mut any = false;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c != '\'' && c != '"' {
            return None;
        }
        let mut j = i + 1;
        let mut body = String::new();
        while j < b.len() && b[j] != c {
            if b[j] == '\\' && j + 1 < b.len() {
                body.push(b[j]);
                body.push(b[j + 1]);
                j += 2;
            } else {
                body.push(b[j]);
                j += 1;
            }
        }
        if j >= b.len() {
            return None;
        }
        out.push_str(&decode_python(&body.replace("\r\n", "\n"))?);
        any = true;
        i = j + 1;
    }
    any.then_some(out)
}

/// Context names renderers fill with the caller's data (not the file's).
const CALLER_DATA: &[&str] = &[
    "add_generation_prompt",
    "builtin_tools",
    "continue_final_message",
    "custom_tools",
    "date_string",
    "documents",
    "enable_thinking",
    "messages",
    "model_identity",
    "python_tools",
    "reasoning_effort",
    "tool_choice",
    "tools",
    "tools_in_user_message",
    "xml_tools",
];

/// Globals whose value is a function or object, not a string.
const FUNCTIONS: &[&str] = &[
    "cycler",
    "dict",
    "joiner",
    "lipsum",
    "namespace",
    "raise_exception",
    "range",
    "strftime_now",
];

struct Analysis<'a> {
    source: &'a str,
    /// Every expression assigned to a name anywhere (`set`, `with`, macro
    /// call sites and defaults, `namespace(k=…)` and `set ns.k = …` as
    /// `ns.k`), and every iterable a loop binds a name to.
    assigned: HashMap<String, Vec<&'a Expr<'a>>>,
    looped: HashMap<String, Vec<&'a Expr<'a>>>,
    /// Names bound to something unknown (`set` blocks, imports).
    opaque: Vec<String>,
    /// Macro names and their parameter names.
    macros: HashMap<&'a str, Vec<&'a str>>,
    memo: HashMap<String, Val>,
    visiting: Vec<String>,
    /// What a name being evaluated is known to hold so far.
    partial: HashMap<String, Val>,
    /// The previous round's values (the analysis iterates to a fixpoint).
    prev: HashMap<String, Val>,
    /// Evaluation steps left.
    fuel: u64,
    found: Option<String>,
}

impl<'a> Analysis<'a> {
    fn flag(&mut self, what: String) {
        if self.found.is_none() {
            self.found = Some(what);
        }
    }

    fn bind_target(&mut self, target: &'a Expr<'a>, value: Option<&'a Expr<'a>>, looped: bool) {
        match target {
            Expr::Var(v) => match value {
                Some(e) if looped => self.looped.entry(v.id.to_string()).or_default().push(e),
                Some(e) => {
                    self.assigned.entry(v.id.to_string()).or_default().push(e);
                    // `set ns = namespace(k=…)`: the attributes too.
                    if let Expr::Call(c) = e
                        && matches!(&c.expr, Expr::Var(f) if f.id == "namespace")
                    {
                        for a in &c.args {
                            if let CallArg::Kwarg(k, x) = a {
                                self.assigned
                                    .entry(format!("{}.{k}", v.id))
                                    .or_default()
                                    .push(x);
                            }
                        }
                    }
                }
                None => self.opaque.push(v.id.to_string()),
            },
            Expr::GetAttr(g) => {
                if let (Expr::Var(v), Some(e)) = (&g.expr, value) {
                    self.assigned
                        .entry(format!("{}.{}", v.id, g.name))
                        .or_default()
                        .push(e);
                }
            }
            Expr::List(l) => {
                for item in &l.items {
                    match value {
                        // `for a, b in x`: each name takes x's elements.
                        Some(e) => self.bind_target(item, Some(e), true),
                        None => self.bind_target(item, None, looped),
                    }
                }
            }
            _ => {}
        }
    }

    fn collect(&mut self, stmts: &'a [Stmt<'a>]) {
        for s in stmts {
            match s {
                Stmt::Template(t) => self.collect(&t.children),
                Stmt::ForLoop(f) => {
                    self.bind_target(&f.target, Some(&f.iter), true);
                    self.collect(&f.body);
                    self.collect(&f.else_body);
                }
                Stmt::IfCond(c) => {
                    self.collect(&c.true_body);
                    self.collect(&c.false_body);
                }
                Stmt::WithBlock(w) => {
                    for (t, e) in &w.assignments {
                        self.bind_target(t, Some(e), false);
                    }
                    self.collect(&w.body);
                }
                Stmt::Set(set) => self.bind_target(&set.target, Some(&set.expr), false),
                Stmt::SetBlock(b) => {
                    self.bind_target(&b.target, None, false);
                    self.collect(&b.body);
                }
                Stmt::AutoEscape(a) => self.collect(&a.body),
                Stmt::FilterBlock(f) => self.collect(&f.body),
                Stmt::Block(b) => self.collect(&b.body),
                Stmt::Macro(m) => {
                    self.macro_decl(m);
                    self.collect(&m.body);
                }
                Stmt::CallBlock(c) => {
                    for a in &c.macro_decl.args {
                        self.bind_target(a, None, false);
                    }
                    self.collect(&c.macro_decl.body);
                }
                Stmt::Import(i) => self.bind_target(&i.name, None, false),
                Stmt::FromImport(f) => {
                    for (n, alias) in &f.names {
                        self.bind_target(alias.as_ref().unwrap_or(n), None, false);
                    }
                }
                _ => {}
            }
        }
    }

    fn macro_decl(&mut self, m: &'a ast::Spanned<ast::Macro<'a>>) {
        let names: Vec<&'a str> = m
            .args
            .iter()
            .filter_map(|a| match a {
                Expr::Var(v) => Some(v.id),
                _ => None,
            })
            .collect();
        // Defaults belong to the last parameters.
        let first_default = names.len().saturating_sub(m.defaults.len());
        for (i, d) in m.defaults.iter().enumerate() {
            if let Some(n) = names.get(first_default + i) {
                self.assigned.entry(n.to_string()).or_default().push(d);
            }
        }
        self.macros.insert(m.name, names);
    }

    /// Bind macro parameters to the arguments of every call.
    fn bind_calls(&mut self, e: &'a Expr<'a>) {
        let mut stack = vec![e];
        while let Some(e) = stack.pop() {
            match e {
                Expr::Call(c) => {
                    if let Expr::Var(v) = &c.expr
                        && let Some(params) = self.macros.get(v.id).cloned()
                    {
                        let mut i = 0;
                        for a in &c.args {
                            match a {
                                CallArg::Pos(x) => {
                                    if let Some(p) = params.get(i) {
                                        self.assigned.entry(p.to_string()).or_default().push(x);
                                    }
                                    i += 1;
                                }
                                CallArg::Kwarg(k, x) => {
                                    self.assigned.entry(k.to_string()).or_default().push(x)
                                }
                                CallArg::PosSplat(_) | CallArg::KwargSplat(_) => {
                                    for p in &params {
                                        self.opaque.push(p.to_string());
                                    }
                                }
                            }
                        }
                    }
                    stack.push(&c.expr);
                    stack.extend(c.args.iter().map(arg_expr));
                }
                Expr::Slice(x) => {
                    stack.push(&x.expr);
                    stack.extend([&x.start, &x.stop, &x.step].into_iter().flatten());
                }
                Expr::UnaryOp(u) => stack.push(&u.expr),
                Expr::BinOp(b) => stack.extend([&b.left, &b.right]),
                Expr::Compare(c) => {
                    stack.push(&c.expr);
                    stack.extend(c.ops.iter().map(|o| &o.expr));
                }
                Expr::IfExpr(i) => {
                    stack.extend([&i.test_expr, &i.true_expr]);
                    stack.extend(i.false_expr.iter());
                }
                Expr::Filter(f) => {
                    stack.extend(f.expr.iter());
                    stack.extend(f.args.iter().map(arg_expr));
                }
                Expr::Test(t) => {
                    stack.push(&t.expr);
                    stack.extend(t.args.iter().map(arg_expr));
                }
                Expr::GetAttr(g) => stack.push(&g.expr),
                Expr::GetItem(g) => stack.extend([&g.expr, &g.subscript_expr]),
                Expr::List(l) => stack.extend(l.items.iter()),
                Expr::Map(m) => stack.extend(m.keys.iter().chain(m.values.iter())),
                Expr::Var(_) | Expr::Const(_) => {}
            }
        }
    }

    fn bind_all_calls(&mut self, stmts: &'a [Stmt<'a>]) {
        let mut exprs: Vec<&'a Expr<'a>> = Vec::new();
        let mut todo: Vec<&'a [Stmt<'a>]> = vec![stmts];
        while let Some(list) = todo.pop() {
            for s in list {
                match s {
                    Stmt::Template(t) => todo.push(&t.children),
                    Stmt::EmitExpr(x) => exprs.push(&x.expr),
                    Stmt::ForLoop(f) => {
                        exprs.push(&f.iter);
                        exprs.extend(f.filter_expr.iter());
                        todo.push(&f.body);
                        todo.push(&f.else_body);
                    }
                    Stmt::IfCond(c) => {
                        exprs.push(&c.expr);
                        todo.push(&c.true_body);
                        todo.push(&c.false_body);
                    }
                    Stmt::WithBlock(w) => {
                        exprs.extend(w.assignments.iter().map(|(_, e)| e));
                        todo.push(&w.body);
                    }
                    Stmt::Set(x) => exprs.push(&x.expr),
                    Stmt::SetBlock(b) => {
                        exprs.extend(b.filter.iter());
                        todo.push(&b.body);
                    }
                    Stmt::AutoEscape(a) => todo.push(&a.body),
                    Stmt::FilterBlock(f) => {
                        exprs.push(&f.filter);
                        todo.push(&f.body);
                    }
                    Stmt::Block(b) => todo.push(&b.body),
                    Stmt::Macro(m) => {
                        exprs.extend(m.defaults.iter());
                        todo.push(&m.body);
                    }
                    Stmt::CallBlock(c) => {
                        exprs.push(&c.call.expr);
                        exprs.extend(c.call.args.iter().map(arg_expr));
                        todo.push(&c.macro_decl.body);
                    }
                    Stmt::Do(x) => {
                        exprs.push(&x.call.expr);
                        exprs.extend(x.call.args.iter().map(arg_expr));
                    }
                    _ => {}
                }
            }
        }
        for e in exprs {
            self.bind_calls(e);
        }
    }

    /// What a name holds before (or without) any assignment in the template.
    fn default_value(&self, id: &str) -> Val {
        let param = self.macros.values().any(|ps| ps.contains(&id));
        let base = id.split('.').next().unwrap_or(id);
        if param || CALLER_DATA.contains(&base) || id.contains('.') {
            Val::Data
        } else if FUNCTIONS.contains(&id) {
            Val::NotStr
        } else {
            Val::Unknown
        }
    }

    fn var(&mut self, id: &str) -> Val {
        let known = self.assigned.contains_key(id) || self.looped.contains_key(id);
        if id == "loop" && !known {
            return Val::Loop;
        }
        if let Some(v) = self.memo.get(id) {
            return v.clone();
        }
        if self.opaque.iter().any(|x| x == id) {
            return Val::Unknown;
        }
        if self.visiting.iter().any(|x| x == id) {
            // A self-reference (`set tool = tool.function`): what the name
            // held before, as far as known.
            return match (self.prev.get(id), self.partial.get(id)) {
                (Some(a), Some(b)) => a.clone().join(b.clone()),
                (Some(v), None) | (None, Some(v)) => v.clone(),
                (None, None) => self.default_value(id),
            };
        }
        if !known {
            return self.default_value(id);
        }
        self.visiting.push(id.to_string());
        let mut v: Option<Val> = None;
        let assigned: Vec<&'a Expr<'a>> = self.assigned.get(id).cloned().unwrap_or_default();
        let looped: Vec<&'a Expr<'a>> = self.looped.get(id).cloned().unwrap_or_default();
        // Loop bindings first: they say what a name holds before the body
        // reassigns it.
        for e in looped {
            let x = self.eval(e, 0).element();
            v = Some(match v {
                Some(p) => p.join(x),
                None => x,
            });
            if let Some(v) = &v {
                self.partial.insert(id.to_string(), v.clone());
            }
        }
        if CALLER_DATA.contains(&id) && v.is_none() {
            v = Some(Val::Data);
            self.partial.insert(id.to_string(), Val::Data);
        }
        for e in assigned {
            let x = self.eval(e, 0);
            v = Some(match v {
                Some(p) => p.join(x),
                None => x,
            });
            if let Some(v) = &v {
                self.partial.insert(id.to_string(), v.clone());
            }
        }
        self.visiting.pop();
        let v = v.unwrap_or(Val::Unknown);
        self.partial.remove(id);
        self.memo.insert(id.to_string(), v.clone());
        v
    }

    fn constant(&self, c: &ast::Spanned<ast::Const>) -> Val {
        let value = &c.value;
        if let Some(s) = value.as_str() {
            // minijinja decodes escapes its own way: re-read the literal.
            let span = c.span();
            let raw = self
                .source
                .get(span.start_offset as usize..span.end_offset as usize);
            return match raw.map(literal_strings) {
                Some(Some(decoded)) if decoded.len() <= MAX_STR_LEN => Val::str(decoded),
                // Too long to track: what matters is whether a `_` is in it.
                Some(Some(decoded)) if decoded.contains('_') => Val::Unknown,
                Some(Some(_)) => Val::Data,
                Some(None) if raw.is_some_and(|r| r.contains("\\N")) => Val::Unknown,
                _ => Val::str(s),
            };
        }
        Val::NotStr
    }

    fn eval_args(&mut self, args: &'a [CallArg<'a>], d: usize) -> Vec<Val> {
        let mut out = Vec::new();
        for a in args {
            match a {
                CallArg::Pos(e) => out.push(self.eval(e, d)),
                CallArg::Kwarg(k, e) => {
                    out.push(Val::str(*k));
                    out.push(self.eval(e, d));
                }
                CallArg::PosSplat(_) | CallArg::KwargSplat(_) => out.push(Val::Unknown),
            }
        }
        out
    }

    fn eval(&mut self, e: &'a Expr<'a>, depth: usize) -> Val {
        if depth > 200 || self.fuel == 0 {
            return Val::Unknown;
        }
        self.fuel -= 1;
        let d = depth + 1;
        match e {
            Expr::Var(v) => self.var(v.id),
            Expr::Const(c) => self.constant(c),
            Expr::List(l) => {
                let mut el: Option<Val> = None;
                for item in &l.items {
                    let x = self.eval(item, d);
                    el = Some(match el {
                        Some(p) => p.join(x),
                        None => x,
                    });
                }
                Val::List(Box::new(el.unwrap_or(Val::NotStr)))
            }
            Expr::Map(m) => {
                let mut el: Option<Val> = None;
                for (k, v) in m.keys.iter().zip(&m.values) {
                    let kv = self.eval(k, d);
                    let vv = self.eval(v, d);
                    let kv = kv.join(vv);
                    el = Some(match el {
                        Some(p) => p.join(kv),
                        None => kv,
                    });
                }
                Val::Map(Box::new(el.unwrap_or(Val::NotStr)))
            }
            Expr::UnaryOp(_) | Expr::Compare(_) | Expr::Test(_) => Val::NotStr,
            Expr::IfExpr(i) => {
                let t = self.eval(&i.true_expr, d);
                match &i.false_expr {
                    Some(f) => t.join(self.eval(f, d)),
                    None => t.join(Val::NotStr),
                }
            }
            Expr::BinOp(b) => {
                use ast::BinOpKind as K;
                match b.op {
                    K::Eq | K::Ne | K::Lt | K::Lte | K::Gt | K::Gte | K::In => Val::NotStr,
                    K::ScAnd | K::ScOr => {
                        let l = self.eval(&b.left, d);
                        l.join(self.eval(&b.right, d))
                    }
                    K::Sub | K::Div | K::FloorDiv | K::Pow => Val::NotStr,
                    K::Concat => {
                        let l = self.eval(&b.left, d);
                        let r = self.eval(&b.right, d);
                        match (&l, &r) {
                            (Val::Strs(_), Val::Strs(_)) => concat(&l, &r),
                            _ => Val::computed(&[&l, &r]),
                        }
                    }
                    K::Add => {
                        let l = self.eval(&b.left, d);
                        let r = self.eval(&b.right, d);
                        match (&l, &r) {
                            (Val::NotStr | Val::Loop, Val::NotStr | Val::Loop) => Val::NotStr,
                            (Val::Strs(_), Val::Strs(_)) => concat(&l, &r),
                            (Val::List(_), Val::List(_)) => l.join(r),
                            _ => Val::computed(&[&l, &r]),
                        }
                    }
                    K::Mul => {
                        let l = self.eval(&b.left, d);
                        let r = self.eval(&b.right, d);
                        match (&l, &r) {
                            (Val::NotStr | Val::Loop, Val::NotStr | Val::Loop) => Val::NotStr,
                            (Val::Strs(ss), n) | (n, Val::Strs(ss)) => {
                                let count = int_const(&b.right).or_else(|| int_const(&b.left));
                                match (count, n) {
                                    (Some(k), Val::NotStr)
                                        if (0..=64).contains(&k)
                                            && ss
                                                .iter()
                                                .all(|s| s.len() * k as usize <= MAX_STR_LEN) =>
                                    {
                                        Val::Strs(ss.iter().map(|s| s.repeat(k as usize)).collect())
                                    }
                                    _ => Val::Unknown,
                                }
                            }
                            _ => Val::computed(&[&l, &r]),
                        }
                    }
                    // `'%c%c' % (95, 95)` is a string.
                    K::Rem => match self.eval(&b.left, d) {
                        Val::NotStr | Val::Loop => Val::NotStr,
                        _ => Val::Unknown,
                    },
                }
            }
            Expr::Slice(s) => {
                let v = self.eval(&s.expr, d);
                let start = s.start.as_ref().map(int_const);
                let stop = s.stop.as_ref().map(int_const);
                let step = s.step.as_ref().map(int_const);
                match v {
                    Val::Strs(ss)
                        if [start, stop, step].iter().all(|x| !matches!(x, Some(None))) =>
                    {
                        Val::Strs(
                            ss.iter()
                                .map(|x| slice(x, start.flatten(), stop.flatten(), step.flatten()))
                                .collect(),
                        )
                    }
                    Val::Strs(_) | Val::Unknown => Val::Unknown,
                    Val::List(e) => Val::List(e),
                    _ => Val::Data,
                }
            }
            Expr::GetAttr(g) => {
                if let Expr::Var(v) = &g.expr {
                    let key = format!("{}.{}", v.id, g.name);
                    if self.assigned.contains_key(&key) {
                        return self.var(&key);
                    }
                }
                match (self.eval(&g.expr, d), g.name) {
                    (
                        Val::Loop,
                        "index" | "index0" | "revindex" | "revindex0" | "length" | "depth"
                        | "depth0" | "first" | "last",
                    ) => Val::NotStr,
                    (Val::Unknown | Val::Strs(_), _) => Val::Unknown,
                    _ => Val::Data,
                }
            }
            Expr::GetItem(g) => {
                let base = self.eval(&g.expr, d);
                let key = self.eval(&g.subscript_expr, d);
                match (base, key) {
                    (Val::List(e), Val::NotStr | Val::Loop) => *e,
                    (s @ Val::Strs(_), Val::NotStr | Val::Loop) => s.element(),
                    (Val::Map(v), _) => *v,
                    (Val::Data | Val::NotStr | Val::Loop, _) => Val::Data,
                    _ => Val::Unknown,
                }
            }
            Expr::Filter(f) => {
                let input = f.expr.as_ref().map(|x| self.eval(x, d));
                let args = self.eval_args(&f.args, d);
                match (f.name, input) {
                    (
                        "length" | "count" | "int" | "float" | "round" | "abs" | "wordcount"
                        | "tojson",
                        _,
                    ) => Val::NotStr,
                    ("lower", Some(Val::Strs(ss))) => {
                        Val::Strs(ss.iter().map(|s| s.to_lowercase()).collect())
                    }
                    ("upper", Some(Val::Strs(ss))) => {
                        Val::Strs(ss.iter().map(|s| s.to_uppercase()).collect())
                    }
                    ("trim", Some(Val::Strs(ss))) if args.is_empty() => {
                        Val::Strs(ss.iter().map(|s| s.trim().to_string()).collect())
                    }
                    ("reverse", Some(Val::Strs(ss))) => {
                        Val::Strs(ss.iter().map(|s| s.chars().rev().collect()).collect())
                    }
                    ("string" | "e" | "escape" | "safe", Some(v @ Val::Strs(_))) => v,
                    ("first" | "last" | "random", Some(v)) => v.element(),
                    ("format", _) => Val::Unknown,
                    (_, Some(input)) => {
                        let mut parts: Vec<&Val> = vec![&input];
                        parts.extend(args.iter());
                        Val::computed(&parts)
                    }
                    (_, None) => Val::Unknown,
                }
            }
            Expr::Call(c) => {
                let args = self.eval_args(&c.args, d);
                match &c.expr {
                    Expr::Var(v) if v.id == "range" => Val::List(Box::new(Val::NotStr)),
                    Expr::Var(v)
                        if matches!(
                            v.id,
                            "namespace" | "raise_exception" | "cycler" | "joiner"
                        ) =>
                    {
                        Val::NotStr
                    }
                    Expr::Var(v) if v.id == "strftime_now" => Val::Data,
                    Expr::GetAttr(g) => {
                        let recv = self.eval(&g.expr, d);
                        match (g.name, recv) {
                            (
                                "startswith" | "endswith" | "isdigit" | "isalpha" | "count"
                                | "find" | "index",
                                _,
                            ) => Val::NotStr,
                            ("format" | "format_map", _) => Val::Unknown,
                            ("lower", Val::Strs(ss)) if args.is_empty() => {
                                Val::Strs(ss.iter().map(|s| s.to_lowercase()).collect())
                            }
                            ("upper", Val::Strs(ss)) if args.is_empty() => {
                                Val::Strs(ss.iter().map(|s| s.to_uppercase()).collect())
                            }
                            ("strip", Val::Strs(ss)) if args.is_empty() => {
                                Val::Strs(ss.iter().map(|s| s.trim().to_string()).collect())
                            }
                            ("split", recv) => {
                                let mut parts: Vec<&Val> = vec![&recv];
                                parts.extend(args.iter());
                                Val::List(Box::new(Val::computed(&parts)))
                            }
                            (_, recv) => {
                                let mut parts: Vec<&Val> = vec![&recv];
                                parts.extend(args.iter());
                                Val::computed(&parts)
                            }
                        }
                    }
                    // Macro output, `caller()`, `dict(k=…)`, unknown globals.
                    _ => Val::Unknown,
                }
            }
        }
    }

    fn args(&mut self, args: &'a [CallArg<'a>], d: usize) {
        for a in args {
            match a {
                CallArg::Pos(e)
                | CallArg::Kwarg(_, e)
                | CallArg::PosSplat(e)
                | CallArg::KwargSplat(e) => self.check(e, d),
            }
        }
    }

    /// Report the first way `e` reaches Python internals.
    fn check(&mut self, e: &'a Expr<'a>, depth: usize) {
        if self.found.is_some() || depth > 500 {
            if depth > 500 {
                self.flag("expressions nested too deeply to analyse".into());
            }
            return;
        }
        let d = depth + 1;
        match e {
            Expr::Var(_) | Expr::Const(_) => {}
            Expr::Slice(s) => {
                self.check(&s.expr, d);
                for x in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.check(x, d);
                }
            }
            Expr::UnaryOp(u) => self.check(&u.expr, d),
            Expr::BinOp(b) => {
                self.check(&b.left, d);
                self.check(&b.right, d);
            }
            Expr::Compare(c) => {
                self.check(&c.expr, d);
                for op in &c.ops {
                    self.check(&op.expr, d);
                }
            }
            Expr::IfExpr(i) => {
                self.check(&i.test_expr, d);
                self.check(&i.true_expr, d);
                if let Some(f) = &i.false_expr {
                    self.check(f, d);
                }
            }
            Expr::Test(t) => {
                self.check(&t.expr, d);
                self.args(&t.args, d);
            }
            Expr::List(l) => {
                for x in &l.items {
                    self.check(x, d);
                }
            }
            Expr::Map(m) => {
                for x in m.keys.iter().chain(m.values.iter()) {
                    self.check(x, d);
                }
            }
            Expr::GetAttr(g) => {
                if risky_name(g.name) {
                    self.flag(format!("attribute `{}`", g.name));
                }
                self.check(&g.expr, d);
            }
            Expr::GetItem(g) => {
                if let Some(why) = self.eval(&g.subscript_expr, d).risk() {
                    self.flag(format!("a subscript with {why}"));
                }
                self.check(&g.expr, d);
                self.check(&g.subscript_expr, d);
            }
            Expr::Filter(f) => {
                self.filter(f, d);
                if let Some(x) = &f.expr {
                    self.check(x, d);
                }
                self.args(&f.args, d);
            }
            Expr::Call(c) => {
                match &c.expr {
                    Expr::GetAttr(g) if matches!(g.name, "format" | "format_map") => {
                        if let Some(why) = format_risk(&self.eval(&g.expr, d)) {
                            self.flag(format!("`str.{}` on {why}", g.name));
                        }
                    }
                    Expr::Var(v) if DANGEROUS_CALLS.contains(&v.id) => {
                        self.flag(format!("a call to `{}`", v.id));
                    }
                    _ => {}
                }
                self.check(&c.expr, d);
                self.args(&c.args, d);
            }
        }
    }

    /// Filters that look attributes up by name.
    fn filter(&mut self, f: &'a ast::Spanned<ast::Filter<'a>>, d: usize) {
        let pos: Vec<&'a Expr<'a>> = f
            .args
            .iter()
            .filter_map(|a| match a {
                CallArg::Pos(e) => Some(e),
                _ => None,
            })
            .collect();
        let kw = |name: &str| {
            f.args.iter().find_map(|a| match a {
                CallArg::Kwarg(n, e) if *n == name => Some(e),
                _ => None,
            })
        };
        let splat = f
            .args
            .iter()
            .any(|a| matches!(a, CallArg::PosSplat(_) | CallArg::KwargSplat(_)));
        let mut paths: Vec<&'a Expr<'a>> = Vec::new();
        match f.name {
            "attr" => paths.extend(pos.first().copied()),
            "selectattr" | "rejectattr" | "groupby" => paths.extend(pos.first().copied()),
            "map" => {
                if let Some(first) = pos.first() {
                    match self.eval(first, d) {
                        Val::Strs(ss) if ss.iter().all(|s| s != "attr") => {}
                        Val::Strs(_) => paths.extend(pos.get(1).copied()),
                        _ => paths.push(first),
                    }
                }
            }
            _ => {}
        }
        if matches!(
            f.name,
            "map"
                | "sort"
                | "sum"
                | "unique"
                | "min"
                | "max"
                | "join"
                | "groupby"
                | "selectattr"
                | "rejectattr"
        ) {
            paths.extend(kw("attribute"));
        }
        if splat
            && matches!(
                f.name,
                "attr"
                    | "map"
                    | "selectattr"
                    | "rejectattr"
                    | "groupby"
                    | "sort"
                    | "sum"
                    | "unique"
                    | "min"
                    | "max"
                    | "join"
            )
        {
            self.flag(format!(
                "`{}` with arguments unpacked at render time",
                f.name
            ));
        }
        for p in paths {
            if let Some(why) = self.eval(p, d).path_risk() {
                self.flag(format!("`{}` with {why}", f.name));
            }
        }
    }

    fn stmts(&mut self, stmts: &'a [Stmt<'a>]) {
        for s in stmts {
            if self.found.is_some() {
                return;
            }
            match s {
                Stmt::Template(t) => self.stmts(&t.children),
                Stmt::EmitExpr(x) => self.check(&x.expr, 0),
                Stmt::EmitRaw(_) => {}
                Stmt::ForLoop(f) => {
                    self.check(&f.iter, 0);
                    if let Some(x) = &f.filter_expr {
                        self.check(x, 0);
                    }
                    self.stmts(&f.body);
                    self.stmts(&f.else_body);
                }
                Stmt::IfCond(c) => {
                    self.check(&c.expr, 0);
                    self.stmts(&c.true_body);
                    self.stmts(&c.false_body);
                }
                Stmt::WithBlock(w) => {
                    for (_, e) in &w.assignments {
                        self.check(e, 0);
                    }
                    self.stmts(&w.body);
                }
                Stmt::Set(set) => {
                    self.check(&set.target, 0);
                    self.check(&set.expr, 0);
                }
                Stmt::SetBlock(b) => {
                    self.check(&b.target, 0);
                    if let Some(x) = &b.filter {
                        self.check(x, 0);
                    }
                    self.stmts(&b.body);
                }
                Stmt::AutoEscape(a) => {
                    self.check(&a.enabled, 0);
                    self.stmts(&a.body);
                }
                Stmt::FilterBlock(f) => {
                    self.check(&f.filter, 0);
                    self.stmts(&f.body);
                }
                Stmt::Block(b) => self.stmts(&b.body),
                Stmt::Macro(m) => {
                    for x in &m.defaults {
                        self.check(x, 0);
                    }
                    self.stmts(&m.body);
                }
                Stmt::CallBlock(c) => {
                    self.check(&c.call.expr, 0);
                    self.args(&c.call.args, 0);
                    for x in &c.macro_decl.defaults {
                        self.check(x, 0);
                    }
                    self.stmts(&c.macro_decl.body);
                }
                Stmt::Do(x) => {
                    self.check(&x.call.expr, 0);
                    self.args(&x.call.args, 0);
                }
                Stmt::Import(_) | Stmt::FromImport(_) | Stmt::Extends(_) | Stmt::Include(_) => {
                    self.flag("a tag that loads another template".into());
                }
                Stmt::Continue(_) | Stmt::Break(_) => {}
            }
        }
    }
}

fn arg_expr<'a, 'b>(a: &'b CallArg<'a>) -> &'b Expr<'a> {
    match a {
        CallArg::Pos(e) | CallArg::Kwarg(_, e) | CallArg::PosSplat(e) | CallArg::KwargSplat(e) => e,
    }
}

fn concat(a: &Val, b: &Val) -> Val {
    match (a, b) {
        (Val::Strs(x), Val::Strs(y)) if x.len() * y.len() <= MAX_STRS => {
            let mut out = Vec::new();
            for p in x {
                for q in y {
                    let s = format!("{p}{q}");
                    if s.len() > MAX_STR_LEN {
                        return Val::Unknown;
                    }
                    if !out.contains(&s) {
                        out.push(s);
                    }
                }
            }
            Val::Strs(out)
        }
        _ => Val::Unknown,
    }
}

fn int_const(e: &Expr<'_>) -> Option<i64> {
    match e {
        Expr::Const(c) => c.value.as_i64(),
        Expr::UnaryOp(u) if matches!(u.op, ast::UnaryOpKind::Neg) => {
            int_const(&u.expr).and_then(i64::checked_neg)
        }
        _ => None,
    }
}

/// Python slicing of a string.
fn slice(s: &str, start: Option<i64>, stop: Option<i64>, step: Option<i64>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len() as i64;
    let step = step.unwrap_or(1);
    if step == 0 {
        return String::new();
    }
    let norm = |v: i64| if v < 0 { v + n } else { v };
    let mut out = String::new();
    if step > 0 {
        let a = start.map(norm).unwrap_or(0).clamp(0, n);
        let b = stop.map(norm).unwrap_or(n).clamp(0, n);
        let mut i = a;
        while i < b {
            out.push(chars[i as usize]);
            i = match i.checked_add(step) {
                Some(x) => x,
                None => break,
            };
        }
    } else {
        let a = start.map(norm).unwrap_or(n - 1).clamp(-1, n - 1);
        let b = stop.map(norm).unwrap_or(-1).clamp(-1, n - 1);
        let mut i = a;
        while i > b {
            out.push(chars[i as usize]);
            i = match i.checked_add(step) {
                Some(x) => x,
                None => break,
            };
        }
    }
    out
}

/// Whether a `str.format` string can reach attributes: a replacement field
/// with `.name` or `[key]` on a risky name, or a string not known.
fn format_risk(v: &Val) -> Option<String> {
    match v {
        Val::NotStr | Val::Loop | Val::List(_) | Val::Map(_) | Val::Data => None,
        Val::Unknown => Some("a string computed at render time".into()),
        Val::Strs(ss) => {
            for s in ss {
                let mut rest = s.as_str();
                while let Some(open) = rest.find('{') {
                    let after = &rest[open + 1..];
                    if let Some(stripped) = after.strip_prefix('{') {
                        rest = stripped;
                        continue;
                    }
                    let end = after.find('}').unwrap_or(after.len());
                    let field = &after[..end];
                    let field = field.split([':', '!']).next().unwrap_or(field);
                    for part in field.split(['.', '[', ']']).skip(1) {
                        if risky_name(part) {
                            return Some(format!(
                                "a field reaching `{}`",
                                super::pickle::printable(part)
                            ));
                        }
                    }
                    rest = &after[end.min(after.len())..];
                }
            }
            None
        }
    }
}

/// Why the template can reach Python internals, or `None`.
pub fn injection(template: &str) -> Option<String> {
    let syntax = minijinja::syntax::SyntaxConfig;
    let ws = minijinja::machinery::WhitespaceConfig::default();
    let ast = match minijinja::machinery::parse(template, "chat_template", syntax, ws) {
        Ok(a) => a,
        Err(e) => {
            return Some(format!(
                "the template cannot be parsed as Jinja ({}), so what it reaches cannot be known",
                e.detail().unwrap_or("syntax error")
            ));
        }
    };
    let stmts = std::slice::from_ref(&ast);
    let mut a = Analysis {
        source: template,
        assigned: HashMap::new(),
        looped: HashMap::new(),
        opaque: Vec::new(),
        macros: HashMap::new(),
        memo: HashMap::new(),
        visiting: Vec::new(),
        partial: HashMap::new(),
        prev: HashMap::new(),
        fuel: 2_000_000,
        found: None,
    };
    a.collect(stmts);
    a.bind_all_calls(stmts);
    // Every name's value, iterated until no value changes (a name read
    // inside its own definitions sees the previous round's value).
    let mut names: Vec<String> = a.assigned.keys().chain(a.looped.keys()).cloned().collect();
    names.sort();
    names.dedup();
    let mut stable = false;
    for _ in 0..12 {
        a.memo.clear();
        a.partial.clear();
        for n in &names {
            a.var(n);
        }
        if a.memo == a.prev {
            stable = true;
            break;
        }
        a.prev = a.memo.clone();
    }
    if !stable {
        for n in &names {
            if a.memo.get(n) != a.prev.get(n) {
                a.memo.insert(n.clone(), Val::Unknown);
            }
        }
    }
    a.stmts(stmts);
    if a.fuel == 0 && a.found.is_none() {
        a.found = Some("the template is too complex to analyse".into());
    }
    a.found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaching_internals_by_any_means() {
        for t in [
            "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
            "{{ x['__cla' ~ 'ss__'] }}",
            "{{ x[\"_\" + \"_class__\"] }}",
            "{{ x[\"\\x5f\\x5fclass\\x5f\\x5f\"] }}",
            "{{ x['\\u005f\\u005fclass__'] }}",
            "{{ x['\\U0000005f_class__'] }}",
            "{{ x['\\N{LOW LINE}_class__'] }}",
            "{{ x['\\137_class__'] }}",
            "{{ x|attr('__class__') }}",
            "{{ x|attr('_' * 2 ~ 'class' ~ '_' * 2) }}",
            "{% set a = '__cla' %}{% set b = a ~ 'ss__' %}{{ x[b] }}",
            "{{ x['ssalc__'[::-1]] }}",
            "{{ x['__CLASS__'|lower] }}",
            "{{ request.__init__ }}",
            "{{ messages|map(attribute='__class__')|list }}",
            "{{ messages|map('attr', '__class__')|list }}",
            "{{ messages|selectattr('a.__class__')|list }}",
            "{{ '{0.__class__}'.format(x) }}",
            "{{ (x|map('upper')).gi_frame.f_builtins }}",
            "{{ x[bos_token] }}",
            "{% for k in ['__class__'] %}{{ x[k] }}{% endfor %}",
            "{% include 'other' %}",
            "{{ x['%c%c' % (95, 95) ~ 'class__'] }}",
            "{% if %}",
            "{% set v = '_' if x else message.role %}{{ y[v ~ v ~ 'class' ~ v ~ v] }}",
            "{% macro g(k) %}{{ y[k] }}{% endmacro %}{{ g(messages[0].role ~ '_') }}",
            "{% set a = 'x' %}{% for c in [a] %}{% set b = c %}{% endfor %}{% set a = '__class__' %}{{ y[b] }}",
            "{% set a = '_' %}{% for i in range(3) %}{% set a = a ~ '_' %}{% endfor %}{{ y[a ~ 'class__'] }}",
        ] {
            assert!(injection(t).is_some(), "not flagged: {t}");
        }
    }

    #[test]
    fn ordinary_templates_are_not_flagged() {
        for t in [
            "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}",
            "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}[INST] {{ message['content'] | trim }} [/INST]{% else %}{{ message['content'] }}{{ eos_token }}{% endif %}{% endfor %}",
            "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% endif %}{% for message in loop_messages %}{{ message.role }}{% endfor %}",
            "{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}{{ messages[index].content }}{% endfor %}",
            "{% set ns = namespace(found=false) %}{% for m in messages %}{% if m.role == 'system' %}{% set ns.found = true %}{% endif %}{% endfor %}",
            "{{ messages[loop.index0 + 1] if false }}{% for i in range(3) %}{{ messages[i] }}{% endfor %}",
            "{{ tool_call.function.arguments | tojson }}{{ message.content.split('</think>')[-1].strip() }}",
            "{% for key in ['role', 'content'] %}{{ message[key] }}{% endfor %}",
            "{{ 'Hello {}'.format(name) }}{{ '%s'|format(x) }}{{ '__init__ is a method' }}",
            "{{ messages|map(attribute='content')|join('__') }}",
            "{%- macro t(spec) %}{%- set m = {'string': 'str'} %}{{ m[spec.type] }}{%- for x in spec.type %}{{ t({'type': x}) }}{% endfor %}{{ t(spec|items) }}{%- endmacro %}{% for tool in tools %}{% for n, f in tool.parameters.properties|items %}{{ t(f) }}{% endfor %}{% endfor %}",
        ] {
            assert_eq!(injection(t), None, "flagged: {t}");
        }
    }
}
