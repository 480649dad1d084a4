//! NumPy `.npy`: the header (a Python dict literal) is parsed without
//! evaluating it. An array whose dtype holds objects is stored as a pickle
//! after the header, which `np.load(allow_pickle=True)` unpickles: the
//! caller walks that pickle.

use std::io::Read;

/// What a `.npy` header says.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyHeader {
    pub version: (u8, u8),
    /// The dtype descriptor, as written.
    pub descr: String,
    /// The dtype holds Python objects: the data is a pickle.
    pub object: bool,
    /// Where the data starts.
    pub data_offset: u64,
}

/// Headers beyond this are not parsed (NumPy's own default limit is 10 000
/// bytes unless `allow_pickle=True`).
const MAX_HEADER: usize = 1024 * 1024;

/// Read and check a `.npy` header from the start of `r`.
pub fn read_header(r: &mut dyn Read) -> Result<NpyHeader, String> {
    let mut pre = [0u8; 8];
    r.read_exact(&mut pre)
        .map_err(|_| "file is shorter than the .npy preamble".to_string())?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err("no .npy magic".into());
    }
    let version = (pre[6], pre[7]);
    let (len, start) = match version.0 {
        1 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b)
                .map_err(|_| "truncated header length".to_string())?;
            (usize::from(u16::from_le_bytes(b)), 10u64)
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b)
                .map_err(|_| "truncated header length".to_string())?;
            (u32::from_le_bytes(b) as usize, 12u64)
        }
        v => return Err(format!("unsupported .npy version {v}.{}", version.1)),
    };
    if len > MAX_HEADER {
        return Err(format!("header of {len} bytes is too large to inspect"));
    }
    let mut h = vec![0u8; len];
    r.read_exact(&mut h)
        .map_err(|_| "header is truncated".to_string())?;
    let text: String = if version.0 == 3 {
        String::from_utf8(h).map_err(|_| "version 3 header is not UTF-8".to_string())?
    } else {
        h.iter().map(|&c| char::from(c)).collect()
    };
    let dict = parse_literal(&text)?;
    let Lit::Dict(entries) = dict else {
        return Err("header is not a dict".into());
    };
    let key = |k: &Lit| match k {
        Lit::Str(s) => Some(s.clone()),
        _ => None,
    };
    let mut keys: Vec<String> = entries.iter().filter_map(|(k, _)| key(k)).collect();
    keys.sort();
    keys.dedup();
    if keys != ["descr", "fortran_order", "shape"] {
        return Err(format!(
            "header keys are {keys:?}, not descr, fortran_order and shape"
        ));
    }
    // A key given twice: Python keeps the last value.
    let get = |k: &str| {
        entries
            .iter()
            .rev()
            .find(|(n, _)| key(n).as_deref() == Some(k))
            .map(|(_, v)| v)
    };
    let descr = get("descr").ok_or("no descr")?;
    if !matches!(get("fortran_order"), Some(Lit::Bool(_))) {
        return Err("fortran_order is not a boolean".into());
    }
    match get("shape") {
        Some(Lit::Seq(items, Seq::Tuple))
            if items.iter().all(|i| matches!(i, Lit::Int | Lit::Bool(_))) => {}
        _ => return Err("shape is not a tuple of integers".into()),
    }
    let object = descr_object(descr, 0)?;
    Ok(NpyHeader {
        version,
        descr: descr.show(),
        object,
        data_offset: start + len as u64,
    })
}

/// Whether `numpy.lib.format.descr_to_dtype(descr)` gives a dtype that
/// holds objects (`dtype.hasobject`, which makes `np.load` unpickle the
/// data). A descr numpy would refuse, or one this reader does not
/// understand, is an error (a finding), never "no objects".
///
/// `descr_to_dtype` takes a string (`numpy.dtype(s)`), a tuple (a subarray:
/// `(descr, shape)`), or anything else it iterates as fields, each field
/// unpacked as `(name, descr)` or `(name, descr, shape)`: lists, but also
/// dict keys, sets and two-character strings.
fn descr_object(d: &Lit, depth: usize) -> Result<bool, String> {
    if depth > 32 {
        return Err("the dtype nests too deeply".into());
    }
    match d {
        Lit::Str(s) => dtype_string_object(s),
        Lit::Seq(items, Seq::Tuple) => match items.first() {
            Some(inner) if items.len() >= 2 => descr_object(inner, depth + 1),
            _ => Err("a subarray dtype is not a (dtype, shape) tuple".into()),
        },
        other => {
            let mut any = false;
            for field in iterate(other)? {
                let parts = iterate(&field)?;
                if !(2..=3).contains(&parts.len()) {
                    return Err("a structured dtype field is not (name, dtype[, shape])".into());
                }
                any |= descr_object(&parts[1], depth + 1)?;
            }
            Ok(any)
        }
    }
}

/// What Python's `for x in value` yields.
fn iterate(v: &Lit) -> Result<Vec<Lit>, String> {
    Ok(match v {
        Lit::Seq(items, _) => items.clone(),
        Lit::Dict(entries) => entries.iter().map(|(k, _)| k.clone()).collect(),
        Lit::Str(s) => s.chars().map(|c| Lit::Str(c.to_string())).collect(),
        Lit::Bytes(b) => b.iter().map(|_| Lit::Int).collect(),
        _ => return Err(format!("`{}` is not a dtype descriptor", v.show())),
    })
}

/// Whether `numpy.dtype(s)` holds objects. Every item of a comma string
/// (`'f4,O'`, `'(2,)O'`, `'3O'`) is looked at; a type word that is neither
/// an object type nor a known plain type is an error.
fn dtype_string_object(s: &str) -> Result<bool, String> {
    let mut any = false;
    let mut depth = 0i32;
    let mut items = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '(' if depth == 0 => depth += 1000,
            ')' if depth >= 1000 => depth -= 1000,
            _ => {}
        }
        if c == ',' && depth == 0 {
            items.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    items.push(cur);
    for item in items {
        // [<>|=]? repeats ( *[(]?[ ,0-9]*[)]? *) [<>|=]? word
        let t = item.trim();
        let t = t.trim_start_matches(['<', '>', '|', '=', '!', '@', '^']);
        let t = t.trim_start_matches(|c: char| c.is_ascii_digit() || " ,()".contains(c));
        let t = t
            .trim_start_matches(['<', '>', '|', '=', '!', '@', '^'])
            .trim();
        if t.is_empty() && item.trim().is_empty() && s.contains(',') {
            // A trailing comma (`'f4,'`) adds nothing.
            continue;
        }
        if is_object_word(t) {
            any = true;
        } else if !is_plain_word(t) {
            return Err(format!(
                "dtype `{}` is not understood",
                super::pickle::printable(s)
            ));
        }
    }
    Ok(any)
}

fn is_object_word(t: &str) -> bool {
    matches!(t, "object" | "object_" | "object0" | "Object0")
        || t.strip_prefix('O')
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()))
}

/// Type strings of dtypes that hold no objects.
fn is_plain_word(t: &str) -> bool {
    const NAMES: &[&str] = &[
        "bool",
        "bool_",
        "bool8",
        "b1",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "float96",
        "float128",
        "complex64",
        "complex128",
        "complex192",
        "complex256",
        "half",
        "single",
        "double",
        "longdouble",
        "float",
        "float_",
        "int",
        "int_",
        "intc",
        "intp",
        "uint",
        "uintc",
        "uintp",
        "byte",
        "ubyte",
        "short",
        "ushort",
        "long",
        "ulong",
        "longlong",
        "ulonglong",
        "csingle",
        "cdouble",
        "clongdouble",
        "complex",
        "complex_",
        "str",
        "str_",
        "unicode",
        "unicode_",
        "bytes",
        "bytes_",
        "string_",
        "void",
        "void0",
        "datetime64",
        "timedelta64",
        "a",
    ];
    let base = t.split('[').next().unwrap_or(t);
    if NAMES.contains(&base) {
        return true;
    }
    let mut chars = base.chars();
    let Some(code) = chars.next() else {
        return false;
    };
    "?bBhHiIlLqQpPnNefdgFDGSUVamMc".contains(code) && chars.all(|c| c.is_ascii_digit())
}

/// How a sequence was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seq {
    Tuple,
    List,
    Set,
}

/// The Python literals `ast.literal_eval` accepts (what `np.load` parses
/// the header with), as far as the header check needs them.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Bytes(Vec<u8>),
    Int,
    Float,
    Bool(bool),
    None,
    Seq(Vec<Lit>, Seq),
    Dict(Vec<(Lit, Lit)>),
}

impl Lit {
    fn show(&self) -> String {
        match self {
            Lit::Str(s) => s.clone(),
            Lit::Bytes(b) => format!("b{:?}", String::from_utf8_lossy(b)),
            Lit::Int => "int".into(),
            Lit::Float => "float".into(),
            Lit::Bool(b) => b.to_string(),
            Lit::None => "None".into(),
            Lit::Seq(v, _) => format!(
                "[{}]",
                v.iter().map(Lit::show).collect::<Vec<_>>().join(", ")
            ),
            Lit::Dict(_) => "{…}".into(),
        }
    }
}

fn parse_literal(text: &str) -> Result<Lit, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = Parser { c: &chars, i: 0 };
    let v = p.expr(0)?;
    p.ws();
    if p.i != chars.len() {
        return Err(format!("unexpected text at header character {}", p.i));
    }
    Ok(v)
}

struct Parser<'a> {
    c: &'a [char],
    i: usize,
}

impl Parser<'_> {
    /// Whitespace, comments and line continuations (the header is one
    /// logical line inside brackets).
    fn ws(&mut self) {
        while let Some(&c) = self.c.get(self.i) {
            if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\x0c' {
                self.i += 1;
            } else if c == '#' {
                while self.c.get(self.i).is_some_and(|&c| c != '\n') {
                    self.i += 1;
                }
            } else if c == '\\' && self.c.get(self.i + 1) == Some(&'\n') {
                self.i += 2;
            } else {
                break;
            }
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.ws();
        self.c.get(self.i).copied()
    }

    /// A value, with `+`/`-` between numbers (complex literals `1+2j`).
    fn expr(&mut self, depth: usize) -> Result<Lit, String> {
        let v = self.unary(depth)?;
        if matches!(v, Lit::Int | Lit::Float) && matches!(self.peek(), Some('+' | '-')) {
            {
                self.i += 1;
                match self.unary(depth)? {
                    Lit::Int | Lit::Float => {}
                    _ => return Err("`+`/`-` on a non-number".into()),
                }
                return Ok(Lit::Float);
            }
        }
        Ok(v)
    }

    fn unary(&mut self, depth: usize) -> Result<Lit, String> {
        if matches!(self.peek(), Some('+' | '-')) {
            self.i += 1;
            return match self.unary(depth)? {
                v @ (Lit::Int | Lit::Float) => Ok(v),
                _ => Err("unary `+`/`-` on a non-number".into()),
            };
        }
        self.value(depth)
    }

    fn value(&mut self, depth: usize) -> Result<Lit, String> {
        if depth > 64 {
            return Err("header nests too deeply".into());
        }
        let Some(c) = self.peek() else {
            return Err("header ends early".into());
        };
        if c == '\'' || c == '"' || self.string_prefix().is_some() {
            return self.strings();
        }
        match c {
            '(' | '[' | '{' => self.container(c, depth),
            c if c.is_ascii_digit() || c == '.' => self.number(),
            _ => {
                let start = self.i;
                while self
                    .c
                    .get(self.i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    self.i += 1;
                }
                let word: String = self.c[start..self.i].iter().collect();
                match word.as_str() {
                    "True" => Ok(Lit::Bool(true)),
                    "False" => Ok(Lit::Bool(false)),
                    "None" => Ok(Lit::None),
                    "set" if self.peek() == Some('(') => {
                        self.i += 1;
                        if self.peek() != Some(')') {
                            return Err("only an empty set() is a literal".into());
                        }
                        self.i += 1;
                        Ok(Lit::Seq(Vec::new(), Seq::Set))
                    }
                    _ => Err(format!("unexpected `{word}` at header character {start}")),
                }
            }
        }
    }

    fn number(&mut self) -> Result<Lit, String> {
        let start = self.i;
        let mut float = false;
        while let Some(&c) = self.c.get(self.i) {
            let prev = if self.i > start {
                self.c[self.i - 1]
            } else {
                ' '
            };
            if c.is_ascii_alphanumeric()
                || c == '_'
                || c == '.'
                || ((c == '+' || c == '-')
                    && matches!(prev, 'e' | 'E')
                    && !self.c[start..self.i].iter().any(|c| matches!(c, 'x' | 'X')))
            {
                if matches!(c, '.' | 'e' | 'E' | 'j' | 'J')
                    && !self.c[start..self.i].iter().any(|c| matches!(c, 'x' | 'X'))
                {
                    float = true;
                }
                self.i += 1;
            } else {
                break;
            }
        }
        let t: String = self.c[start..self.i]
            .iter()
            .filter(|&&c| c != '_')
            .collect();
        let t = t.to_ascii_lowercase();
        let ok = if let Some(h) = t.strip_prefix("0x") {
            !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit())
        } else if let Some(o) = t.strip_prefix("0o") {
            !o.is_empty() && o.chars().all(|c| ('0'..='7').contains(&c))
        } else if let Some(b) = t.strip_prefix("0b") {
            !b.is_empty() && b.chars().all(|c| c == '0' || c == '1')
        } else if float {
            let f = t.trim_end_matches('j');
            f.parse::<f64>().is_ok()
        } else {
            !t.is_empty()
                && t.chars().all(|c| c.is_ascii_digit())
                && (t == "0" || !t.starts_with('0') || t.chars().all(|c| c == '0'))
        };
        if !ok {
            return Err(format!("`{t}` is not a number"));
        }
        Ok(if float { Lit::Float } else { Lit::Int })
    }

    fn container(&mut self, open: char, depth: usize) -> Result<Lit, String> {
        self.i += 1;
        let close = match open {
            '(' => ')',
            '[' => ']',
            _ => '}',
        };
        let mut items = Vec::new();
        let mut entries = Vec::new();
        let mut commas = 0usize;
        let mut dict: Option<bool> = None;
        loop {
            if self.peek() == Some(close) {
                self.i += 1;
                break;
            }
            let v = self.expr(depth + 1)?;
            if open == '{' {
                let is_dict = self.peek() == Some(':');
                match dict {
                    None => dict = Some(is_dict),
                    Some(d) if d != is_dict => return Err("a dict mixed with a set".into()),
                    _ => {}
                }
                if is_dict {
                    self.i += 1;
                    let val = self.expr(depth + 1)?;
                    entries.push((v, val));
                } else {
                    items.push(v);
                }
            } else {
                items.push(v);
            }
            match self.peek() {
                Some(',') => {
                    self.i += 1;
                    commas += 1;
                }
                Some(x) if x == close => {}
                _ => {
                    return Err(format!(
                        "expected `,` or `{close}` at header character {}",
                        self.i
                    ));
                }
            }
        }
        Ok(match open {
            '(' if items.len() == 1 && commas == 0 => items.remove(0),
            '(' => Lit::Seq(items, Seq::Tuple),
            '[' => Lit::Seq(items, Seq::List),
            _ if dict == Some(false) => Lit::Seq(items, Seq::Set),
            _ => Lit::Dict(entries),
        })
    }

    /// A string prefix (`r`, `b`, `u`, `rb`, `br`, any case) right before
    /// a quote.
    fn string_prefix(&self) -> Option<(usize, bool, bool)> {
        let mut j = self.i;
        let (mut raw, mut bytes) = (false, false);
        while j < self.i + 2 {
            match self.c.get(j).map(|c| c.to_ascii_lowercase()) {
                Some('r') if !raw => raw = true,
                Some('b') if !bytes => bytes = true,
                Some('u') if j == self.i => {}
                _ => break,
            }
            j += 1;
        }
        if j > self.i && matches!(self.c.get(j), Some('\'' | '"')) {
            let u = self.c[self.i].eq_ignore_ascii_case(&'u');
            if u && (raw || bytes) && j - self.i > 1 {
                return None;
            }
            Some((j - self.i, raw, bytes))
        } else {
            None
        }
    }

    /// One or more adjacent string literals (Python concatenates them).
    fn strings(&mut self) -> Result<Lit, String> {
        let mut text = String::new();
        let mut kind: Option<bool> = None;
        loop {
            let (plen, raw, bytes) = match self.peek() {
                Some('\'' | '"') => (0, false, false),
                _ => match self.string_prefix() {
                    Some(p) => p,
                    None => break,
                },
            };
            match kind {
                None => kind = Some(bytes),
                Some(k) if k != bytes => return Err("bytes and str literals are mixed".into()),
                _ => {}
            }
            self.i += plen;
            self.one_string(raw, bytes, &mut text)?;
        }
        Ok(match kind {
            Some(true) => Lit::Bytes(text.chars().map(|c| c as u32 as u8).collect()),
            _ => Lit::Str(text),
        })
    }

    fn one_string(&mut self, raw: bool, bytes: bool, out: &mut String) -> Result<(), String> {
        let q = self.c[self.i];
        let triple = self.c.get(self.i + 1) == Some(&q) && self.c.get(self.i + 2) == Some(&q);
        self.i += if triple { 3 } else { 1 };
        loop {
            let Some(&c) = self.c.get(self.i) else {
                return Err("unterminated string in header".into());
            };
            if c == q
                && (!triple
                    || (self.c.get(self.i + 1) == Some(&q) && self.c.get(self.i + 2) == Some(&q)))
            {
                self.i += if triple { 3 } else { 1 };
                return Ok(());
            }
            if c == '\n' && !triple {
                return Err("newline in a string".into());
            }
            if bytes && !c.is_ascii() {
                return Err("non-ASCII character in a bytes literal".into());
            }
            self.i += 1;
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(&e) = self.c.get(self.i) else {
                return Err("unterminated string in header".into());
            };
            self.i += 1;
            if raw {
                out.push('\\');
                out.push(e);
                continue;
            }
            let used = super::pystr::escape(e, &self.c[self.i..], bytes, out)
                .map_err(|m| format!("{m} in the header"))?;
            self.i += used;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str) -> Vec<u8> {
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend_from_slice(&(header.len() as u16).to_le_bytes());
        v.extend_from_slice(header.as_bytes());
        v
    }

    #[test]
    fn headers() {
        let text = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n";
        let h = read_header(&mut &npy(text)[..]).expect("ok");
        assert!(!h.object);
        assert_eq!(h.data_offset, 10 + text.len() as u64);
        let h =
            read_header(&mut &npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }")[..])
                .expect("ok");
        assert!(h.object);
        let h = read_header(&mut &npy("{'descr': [('O', '<f4'), ('b', [('c', '|O')])], 'fortran_order': False, 'shape': (), }")[..])
            .expect("ok");
        assert!(h.object, "nested object field");
        let h = read_header(
            &mut &npy("{'descr': [('O', '<f4')], 'fortran_order': False, 'shape': (1, 2), }")[..],
        )
        .expect("ok");
        assert!(!h.object, "a field named O is not an object field");
        assert!(read_header(&mut &npy("{'descr': '<f4', 'shape': (3,)}")[..]).is_err());
        assert!(read_header(&mut &npy("__import__('os')")[..]).is_err());
    }
}
