//! Two-phase validation of the TOML files people write (`mlprov.toml`, a
//! standalone `policy.toml`): the document is walked with `toml_edit`
//! instead of deserialized with serde, so that every problem is collected
//! with its span, a label and a fix, and reported at once (cargo-deny's
//! two-phase validation). Each section's owner validates its own keys
//! (`manifest` the artifact, inputs, training and publish; `policy::cfg`
//! the `[policy]` table) on the shared [`Validator`].

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use toml_edit::{Item, TableLike, Value};

// ---------------------------------------------------------------------------
// Errors

/// One problem in a manifest, with where it is and how to fix it.
#[derive(Debug, Clone)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
    pub span: Option<Range<usize>>,
    pub label: Option<String>,
    pub help: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("mlprov::manifest::{}", self.code)))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            self.label.clone(),
            span,
        ))))
    }
}

/// Every problem found in one file.
#[derive(Debug)]
pub struct ManifestError {
    pub file: String,
    pub src: NamedSource<Arc<String>>,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "{}: {}", self.file, one.message),
            many => write!(f, "{}: {} problems", self.file, many.len()),
        }
    }
}

impl std::error::Error for ManifestError {}

impl Diagnostic for ManifestError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self.problems.as_slice() {
            [one] => one.code(),
            _ => Some(Box::new("mlprov::manifest")),
        }
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self.problems.as_slice() {
            [one] => one.help(),
            _ => None,
        }
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        match self.problems.as_slice() {
            [one] => one.labels(),
            _ => None,
        }
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.src)
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.problems.len() > 1 {
            Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
        } else {
            None
        }
    }
}

// ---------------------------------------------------------------------------
// The walker

/// Collects the problems of one file while its sections are read.
pub(crate) struct Validator<'a> {
    pub(crate) text: &'a str,
    pub(crate) problems: Vec<Problem>,
}

pub(crate) type Span = Option<Range<usize>>;

pub(crate) fn item_span(item: &Item) -> Span {
    match item {
        Item::Value(v) => v.span(),
        Item::Table(t) => t.span(),
        Item::ArrayOfTables(a) => a.span(),
        Item::None => None,
    }
}

pub(crate) fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(v) => match v {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a datetime",
            Value::Array(_) => "an array",
            Value::InlineTable(_) => "an inline table",
        },
    }
}

impl<'a> Validator<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            problems: Vec::new(),
        }
    }

    pub(crate) fn into_error(self, file: &str) -> ManifestError {
        ManifestError {
            file: file.to_string(),
            src: NamedSource::new(file, Arc::new(self.text.to_string())).with_language("toml"),
            problems: self.problems,
        }
    }

    pub(crate) fn problem(
        &mut self,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: Option<&str>,
        help: Option<String>,
    ) {
        self.problems.push(Problem {
            code,
            message: message.into(),
            span,
            label: label.map(str::to_string),
            help,
        });
    }

    pub(crate) fn parse_doc(&mut self) -> Option<toml_edit::Document<String>> {
        match toml_edit::Document::parse(self.text.to_string()) {
            Ok(d) => Some(d),
            Err(e) => {
                let msg = e.message().trim().to_string();
                self.problem(
                    "syntax",
                    format!("invalid TOML: {msg}"),
                    e.span(),
                    Some("here"),
                    Some("fix the TOML syntax; see https://toml.io".into()),
                );
                None
            }
        }
    }

    pub(crate) fn key_span(&self, t: &dyn TableLike, key: &str) -> Span {
        t.key(key).and_then(|k| k.span())
    }

    /// Report keys of `t` that are not in `allowed`.
    pub(crate) fn check_keys(&mut self, t: &dyn TableLike, allowed: &[&str], where_: &str) {
        let unknown: Vec<String> = t
            .iter()
            .map(|(k, _)| k.to_string())
            .filter(|k| !allowed.contains(&k.as_str()))
            .collect();
        for k in unknown {
            let best = allowed
                .iter()
                .map(|a| (strsim::jaro_winkler(a, &k), *a))
                .filter(|(s, _)| *s > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let help = match best {
                Some((_, a)) => format!("did you mean `{a}`?"),
                None => format!("expected one of: {}", allowed.join(", ")),
            };
            let span = self.key_span(t, &k);
            self.problem(
                "unknown-key",
                format!("unknown key `{k}` in {where_}"),
                span,
                Some("not a known key"),
                Some(help),
            );
        }
    }

    pub(crate) fn get_table<'t>(
        &mut self,
        parent: &'t dyn TableLike,
        key: &str,
        where_: &str,
    ) -> Option<&'t dyn TableLike> {
        let item = parent.get(key)?;
        match item.as_table_like() {
            Some(t) => Some(t),
            None => {
                let found = type_name(item);
                self.problem(
                    "type",
                    format!("`{key}` in {where_} must be a table, found {found}"),
                    item_span(item).or_else(|| self.key_span(parent, key)),
                    Some("expected a table"),
                    Some(format!("write it as `[{key}]` or `{key} = {{ … }}`")),
                );
                None
            }
        }
    }

    pub(crate) fn get_str(
        &mut self,
        t: &dyn TableLike,
        key: &str,
        where_: &str,
    ) -> Option<(String, Span)> {
        let item = t.get(key)?;
        match item.as_str() {
            Some(s) => Some((s.to_string(), item_span(item))),
            None => {
                let found = type_name(item);
                self.problem(
                    "type",
                    format!("`{key}` in {where_} must be a string, found {found}"),
                    item_span(item),
                    Some("expected a string"),
                    Some(format!("quote the value: `{key} = \"…\"`")),
                );
                None
            }
        }
    }

    pub(crate) fn require_str(
        &mut self,
        t: &dyn TableLike,
        key: &str,
        where_: &str,
        table_span: Span,
        example: &str,
    ) -> Option<(String, Span)> {
        if t.get(key).is_none() {
            self.problem(
                "missing-key",
                format!("{where_} is missing `{key}`"),
                table_span,
                Some(&format!("`{key}` is required here")),
                Some(format!("add `{key} = {example}`")),
            );
            return None;
        }
        let (s, span) = self.get_str(t, key, where_)?;
        if s.trim().is_empty() {
            self.problem(
                "empty",
                format!("`{key}` in {where_} is empty"),
                span,
                Some("empty string"),
                Some(format!("set it, e.g. `{key} = {example}`")),
            );
            return None;
        }
        Some((s, span))
    }

    pub(crate) fn get_bool(&mut self, t: &dyn TableLike, key: &str, where_: &str) -> Option<bool> {
        let item = t.get(key)?;
        match item.as_bool() {
            Some(b) => Some(b),
            None => {
                let found = type_name(item);
                self.problem(
                    "type",
                    format!("`{key}` in {where_} must be true or false, found {found}"),
                    item_span(item),
                    Some("expected a boolean"),
                    None,
                );
                None
            }
        }
    }

    /// An array of strings, with the span of each element.
    pub(crate) fn get_str_array(
        &mut self,
        t: &dyn TableLike,
        key: &str,
        where_: &str,
    ) -> Option<Vec<(String, Span)>> {
        let item = t.get(key)?;
        let Some(arr) = item.as_array() else {
            let found = type_name(item);
            self.problem(
                "type",
                format!("`{key}` in {where_} must be an array of strings, found {found}"),
                item_span(item),
                Some("expected an array"),
                Some(format!("write it as `{key} = [\"…\", \"…\"]`")),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for v in arr.iter() {
            match v.as_str() {
                Some(s) => out.push((s.to_string(), v.span())),
                None => {
                    ok = false;
                    self.problem(
                        "type",
                        format!("every element of `{key}` in {where_} must be a string"),
                        v.span(),
                        Some("not a string"),
                        None,
                    );
                }
            }
        }
        ok.then_some(out)
    }

    /// Validate an SPDX expression at `span`; on error the label points into
    /// the string where the parser stopped.
    pub(crate) fn check_license(&mut self, expr: &str, span: Span, where_: &str) -> bool {
        match crate::license::parse(expr) {
            Ok(_) => true,
            Err(e) => {
                // +1 for the opening quote when the string has no escapes.
                let inner = span.clone().and_then(|s| {
                    let raw = self.text.get(s.clone())?;
                    (raw.len() == expr.len() + 2).then(|| {
                        (s.start + 1 + e.span.start)
                            ..(s.start + 1 + e.span.end.max(e.span.start + 1))
                    })
                });
                self.problem(
                    "license",
                    format!("{where_}: `{expr}` is not a valid SPDX license expression"),
                    inner.or(span),
                    Some(&e.reason.to_string()),
                    Some(format!(
                        "use SPDX identifiers (https://spdx.org/licenses/) joined by AND/OR, or a `LicenseRef-` for anything else, e.g. `{}`",
                        crate::license::suggest(expr)
                    )),
                );
                false
            }
        }
    }
}
