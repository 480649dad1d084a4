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
    let mut keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort();
    if keys != ["descr", "fortran_order", "shape"] {
        return Err(format!(
            "header keys are {keys:?}, not descr, fortran_order and shape"
        ));
    }
    let get = |k: &str| entries.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    let descr = get("descr").ok_or("no descr")?;
    if !matches!(get("fortran_order"), Some(Lit::Bool(_))) {
        return Err("fortran_order is not a boolean".into());
    }
    match get("shape") {
        Some(Lit::Seq(items, true)) if items.iter().all(|i| matches!(i, Lit::Int)) => {}
        _ => return Err("shape is not a tuple of integers".into()),
    }
    let object = match descr {
        Lit::Str(s) => is_object_code(s),
        Lit::Seq(fields, false) => fields_have_object(fields, 0)?,
        _ => return Err("descr is neither a type string nor a list of fields".into()),
    };
    Ok(NpyHeader {
        version,
        descr: descr.show(),
        object,
        data_offset: start + len as u64,
    })
}

/// `O`, `|O`, `<O8`, …: the object type code.
fn is_object_code(s: &str) -> bool {
    let s = s.trim_start_matches(['<', '>', '|', '=']);
    s.strip_prefix('O')
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()))
}

/// A structured dtype: `[(name, type[, shape]), …]`, type possibly nested.
fn fields_have_object(fields: &[Lit], depth: usize) -> Result<bool, String> {
    if depth > 32 {
        return Err("structured dtype nests too deeply".into());
    }
    for f in fields {
        let Lit::Seq(parts, true) = f else {
            return Err("a structured dtype field is not a tuple".into());
        };
        match parts.get(1) {
            Some(Lit::Str(t)) if is_object_code(t) => return Ok(true),
            Some(Lit::Seq(inner, false)) if fields_have_object(inner, depth + 1)? => {
                return Ok(true);
            }
            Some(_) => {}
            None => return Err("a structured dtype field has no type".into()),
        }
    }
    Ok(false)
}

/// The Python literals a `.npy` header uses.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Int,
    Bool(bool),
    None,
    /// A tuple (true) or list (false).
    Seq(Vec<Lit>, bool),
    Dict(Vec<(String, Lit)>),
}

impl Lit {
    fn show(&self) -> String {
        match self {
            Lit::Str(s) => s.clone(),
            Lit::Int => "int".into(),
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
    let b = text.as_bytes();
    let mut p = Parser { b, i: 0 };
    let v = p.value(0)?;
    p.ws();
    if p.i != b.len() {
        return Err(format!("unexpected text at header byte {}", p.i));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    fn value(&mut self, depth: usize) -> Result<Lit, String> {
        if depth > 64 {
            return Err("header nests too deeply".into());
        }
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let mut s = String::new();
                while let Some(&c) = self.b.get(self.i) {
                    self.i += 1;
                    if c == q {
                        return Ok(Lit::Str(s));
                    }
                    if c == b'\\' {
                        let Some(&e) = self.b.get(self.i) else { break };
                        self.i += 1;
                        s.push(char::from(e));
                    } else {
                        s.push(char::from(c));
                    }
                }
                Err("unterminated string in header".into())
            }
            Some(c @ (b'(' | b'[')) => {
                self.i += 1;
                let close = if c == b'(' { b')' } else { b']' };
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(close) {
                        self.i += 1;
                        return Ok(Lit::Seq(items, c == b'('));
                    }
                    items.push(self.value(depth + 1)?);
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(x) if x == close => {}
                        _ => return Err("expected `,` in a sequence".into()),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut entries = Vec::new();
                loop {
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        return Ok(Lit::Dict(entries));
                    }
                    let Lit::Str(k) = self.value(depth + 1)? else {
                        return Err("a header key is not a string".into());
                    };
                    if self.peek() != Some(b':') {
                        return Err("expected `:` in the header dict".into());
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    if entries.iter().any(|(n, _)| *n == k) {
                        return Err(format!("key `{k}` appears twice"));
                    }
                    entries.push((k, v));
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {}
                        _ => return Err("expected `,` in the header dict".into()),
                    }
                }
            }
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'+' => {
                self.i += 1;
                while self
                    .b
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_digit() || *c == b'_')
                {
                    self.i += 1;
                }
                if self.b.get(self.i) == Some(&b'L') {
                    self.i += 1;
                }
                Ok(Lit::Int)
            }
            Some(_) => {
                let rest = &self.b[self.i..];
                for (word, v) in [
                    ("True", Lit::Bool(true)),
                    ("False", Lit::Bool(false)),
                    ("None", Lit::None),
                ] {
                    if rest.starts_with(word.as_bytes()) {
                        self.i += word.len();
                        return Ok(v);
                    }
                }
                Err(format!("unexpected character at header byte {}", self.i))
            }
            None => Err("header ends early".into()),
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
