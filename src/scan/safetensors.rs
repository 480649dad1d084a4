//! safetensors: every check of the reference reader, on the header alone.
//!
//! The reference (`safetensors::SafeTensors::read_metadata` + `validate`):
//! an 8-byte little-endian header length of at most 100 MB that fits the
//! file; UTF-8 JSON starting with `{`; `__metadata__` a map of strings;
//! known dtypes; data offsets that, sorted, start at 0, are contiguous, do
//! not overlap, and match prod(shape) × dtype size (with overflow checks);
//! the last tensor ending exactly at the end of the file.
//!
//! Stricter than the reference: a tensor name (or `__metadata__`) given
//! twice, a key other than `dtype`/`shape`/`data_offsets` in a tensor entry,
//! and bytes after the last tensor (the reference's error, reported here as
//! a polyglot) are findings.
//!
//! Cost: 8 + header bytes are read, never the tensor data.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::finding::{Code, Finding};
use super::source::{ReadAt, read_exact_at, read_vec_at};

/// The reference reader's limit on the header length.
pub const MAX_HEADER: u64 = 100_000_000;
/// At most this many findings of one code are listed.
const MAX_PER_CODE: usize = 16;

/// Bits per element of each dtype the reference knows.
pub fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" | "F8_E4M3FNUZ"
        | "F8_E5M2FNUZ" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        _ => return None,
    })
}

/// What the header says, and what is wrong with it.
#[derive(Debug, Default)]
pub struct Header {
    pub header_len: u64,
    pub tensors: usize,
    /// `__metadata__` entries (strings only, a few, for the scan result).
    pub metadata: BTreeMap<String, String>,
    pub findings: Vec<Finding>,
}

/// Check a safetensors file.
pub fn scan(src: &dyn ReadAt) -> Header {
    let mut h = Header::default();
    let size = src.size();
    let bad = |code: Code, offset: u64, msg: String| Finding::new(code, Some(offset), msg);
    if size < 8 {
        h.findings.push(bad(
            Code::SafetensorsHeader,
            0,
            format!("file is {size} bytes, shorter than the 8-byte header length"),
        ));
        return h;
    }
    let mut n8 = [0u8; 8];
    if let Err(e) = read_exact_at(src, 0, &mut n8) {
        h.findings.push(bad(
            Code::SafetensorsHeader,
            0,
            format!("cannot read the header length: {e}"),
        ));
        return h;
    }
    let n = u64::from_le_bytes(n8);
    h.header_len = n;
    if n > MAX_HEADER {
        h.findings.push(bad(
            Code::SafetensorsHeader,
            0,
            format!("header length {n} exceeds the 100 MB limit"),
        ));
        return h;
    }
    if n.checked_add(8).is_none_or(|end| end > size) {
        h.findings.push(bad(
            Code::SafetensorsHeader,
            0,
            format!("header length {n} runs past the end of the {size}-byte file"),
        ));
        return h;
    }
    let bytes = match read_vec_at(src, 8, n as usize) {
        Ok(b) if b.len() as u64 == n => b,
        Ok(_) | Err(_) => {
            h.findings.push(bad(
                Code::SafetensorsHeader,
                8,
                "cannot read the header".into(),
            ));
            return h;
        }
    };
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            h.findings.push(bad(
                Code::SafetensorsHeader,
                8 + e.valid_up_to() as u64,
                format!("header is not UTF-8 (at header byte {})", e.valid_up_to()),
            ));
            return h;
        }
    };
    if !text.starts_with('{') {
        h.findings.push(bad(
            Code::SafetensorsHeader,
            8,
            "header does not start with `{`".into(),
        ));
        return h;
    }
    let mut parsed = Parsed::default();
    let mut de = serde_json::Deserializer::from_str(text);
    if let Err(e) = TopSeed(&mut parsed)
        .deserialize(&mut de)
        .and_then(|()| de.end())
    {
        h.findings.push(bad(
            Code::SafetensorsHeader,
            8,
            format!("header is not valid safetensors JSON: {e}"),
        ));
        return h;
    }
    h.tensors = parsed.tensors.len();
    h.metadata = parsed.metadata;
    let mut push = |f: Finding| {
        if h.findings.iter().filter(|g| g.code == f.code).count() < MAX_PER_CODE {
            h.findings.push(f);
        }
    };
    for p in parsed.problems {
        push(p);
    }
    // Offsets, in data order, as the reference validates them.
    let mut order: Vec<&Tensor> = parsed.tensors.iter().collect();
    order.sort_by_key(|t| (t.start, t.end));
    let data_start = 8 + n;
    let mut expected = 0u64;
    for t in &order {
        if t.start != expected || t.end < t.start {
            push(
                bad(
                    Code::SafetensorsOffsets,
                    data_start.saturating_add(t.start),
                    if t.start < expected {
                        format!("tensor `{}` data [{}, {}) overlaps the previous tensor (which ends at {expected})", t.name, t.start, t.end)
                    } else if t.end < t.start {
                        format!("tensor `{}` data ends before it starts ([{}, {}))", t.name, t.start, t.end)
                    } else {
                        format!("tensor `{}` data starts at {}, leaving a gap after {expected}", t.name, t.start)
                    },
                )
                .with_subject(t.name.clone()),
            );
        }
        expected = expected.max(t.end);
        let Some(bits) = dtype_bits(&t.dtype) else {
            push(
                bad(
                    Code::SafetensorsDtype,
                    8,
                    format!("tensor `{}` has unknown dtype `{}`", t.name, t.dtype),
                )
                .with_subject(t.name.clone()),
            );
            continue;
        };
        let size = t
            .elements
            .and_then(|e| e.checked_mul(bits))
            .filter(|b| b % 8 == 0)
            .map(|b| b / 8);
        match size {
            None => push(
                bad(
                    Code::SafetensorsOffsets,
                    8,
                    format!("tensor `{}`: shape × dtype size overflows or is not a whole number of bytes", t.name),
                )
                .with_subject(t.name.clone()),
            ),
            Some(s) if t.end.checked_sub(t.start) != Some(s) => push(
                bad(
                    Code::SafetensorsOffsets,
                    data_start.saturating_add(t.start),
                    format!(
                        "tensor `{}` has {} bytes of data but its shape and dtype need {s}",
                        t.name,
                        t.end.saturating_sub(t.start)
                    ),
                )
                .with_subject(t.name.clone()),
            ),
            Some(_) => {}
        }
    }
    let end = data_start.saturating_add(expected);
    {
        if end > size {
            push(bad(
                Code::SafetensorsOffsets,
                size,
                format!("tensor data runs to byte {end}, past the end of the {size}-byte file"),
            ));
        } else if end < size {
            push(bad(
                Code::SafetensorsTrailing,
                end,
                format!(
                    "{} bytes after the last tensor (a polyglot: another format can hide there)",
                    size - end
                ),
            ));
        }
    }
    h.findings.sort();
    h
}

#[derive(Debug)]
struct Tensor {
    name: String,
    dtype: String,
    /// prod(shape), or None on overflow.
    elements: Option<u64>,
    start: u64,
    end: u64,
}

#[derive(Debug, Default)]
struct Parsed {
    tensors: Vec<Tensor>,
    metadata: BTreeMap<String, String>,
    problems: Vec<Finding>,
    names: std::collections::HashSet<String>,
}

struct TopSeed<'a>(&'a mut Parsed);

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of tensors")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let p = self.0;
        while let Some(key) = map.next_key::<String>()? {
            if !p.names.insert(key.clone()) {
                p.problems.push(
                    Finding::new(
                        Code::SafetensorsDuplicate,
                        Some(8),
                        format!("`{key}` appears twice in the header; readers keep different ones"),
                    )
                    .with_subject(key.clone()),
                );
            }
            if key == "__metadata__" {
                map.next_value_seed(MetaSeed(p))?;
                continue;
            }
            let mut t = Tensor {
                name: key,
                dtype: String::new(),
                elements: Some(1),
                start: 0,
                end: 0,
            };
            map.next_value_seed(TensorSeed(&mut t, &mut p.problems))?;
            p.tensors.push(t);
        }
        Ok(())
    }
}

struct MetaSeed<'a>(&'a mut Parsed);

impl<'de> DeserializeSeed<'de> for MetaSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MetaSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of strings or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match map.next_value::<StrOrNot>()? {
                StrOrNot::Str(v) => {
                    if self.0.metadata.len() < 32 && key.len() <= 128 && v.len() <= 512 {
                        self.0.metadata.insert(key, v);
                    }
                }
                StrOrNot::Not(what) => self.0.problems.push(
                    Finding::new(
                        Code::SafetensorsMetadata,
                        Some(8),
                        format!("__metadata__ value for `{key}` is {what}, not a string"),
                    )
                    .with_subject(key),
                ),
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.0.problems.push(Finding::new(
            Code::SafetensorsMetadata,
            Some(8),
            "__metadata__ is a list, not a map of strings",
        ));
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.0.problems.push(Finding::new(
            Code::SafetensorsMetadata,
            Some(8),
            "__metadata__ is not a map of strings",
        ));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.visit_bool(v != 0)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.visit_bool(v != 0)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.visit_bool(true)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.visit_bool(true)
    }
}

enum StrOrNot {
    Str(String),
    Not(&'static str),
}

impl<'de> de::Deserialize<'de> for StrOrNot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrOrNot;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StrOrNot, E> {
                Ok(StrOrNot::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<StrOrNot, E> {
                Ok(StrOrNot::Str(v))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<StrOrNot, E> {
                Ok(StrOrNot::Not("a boolean"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<StrOrNot, E> {
                Ok(StrOrNot::Not("a number"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<StrOrNot, E> {
                Ok(StrOrNot::Not("a number"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<StrOrNot, E> {
                Ok(StrOrNot::Not("a number"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<StrOrNot, E> {
                Ok(StrOrNot::Not("null"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<StrOrNot, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(StrOrNot::Not("a list"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<StrOrNot, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(StrOrNot::Not("an object"))
            }
        }
        d.deserialize_any(V)
    }
}

struct TensorSeed<'a>(&'a mut Tensor, &'a mut Vec<Finding>);

impl<'de> DeserializeSeed<'de> for TensorSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TensorSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a tensor entry {dtype, shape, data_offsets}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (t, problems) = (self.0, self.1);
        let (mut dtype, mut shape, mut offsets) = (false, false, false);
        while let Some(key) = map.next_key::<String>()? {
            let seen = match key.as_str() {
                "dtype" => {
                    t.dtype = map.next_value()?;
                    std::mem::replace(&mut dtype, true)
                }
                "shape" => {
                    t.elements = map.next_value::<Shape>()?.0;
                    std::mem::replace(&mut shape, true)
                }
                "data_offsets" => {
                    let (s, e): (u64, u64) = map.next_value()?;
                    t.start = s;
                    t.end = e;
                    std::mem::replace(&mut offsets, true)
                }
                other => {
                    map.next_value::<IgnoredAny>()?;
                    problems.push(
                        Finding::new(
                            Code::SafetensorsUnknownKey,
                            Some(8),
                            format!("tensor `{}` has an unknown key `{other}`", t.name),
                        )
                        .with_subject(t.name.clone()),
                    );
                    false
                }
            };
            if seen {
                problems.push(
                    Finding::new(
                        Code::SafetensorsDuplicate,
                        Some(8),
                        format!("tensor `{}` gives `{key}` twice", t.name),
                    )
                    .with_subject(t.name.clone()),
                );
            }
        }
        for (have, field) in [
            (dtype, "dtype"),
            (shape, "shape"),
            (offsets, "data_offsets"),
        ] {
            if !have {
                return Err(de::Error::missing_field(field));
            }
        }
        Ok(())
    }
}

/// A shape, kept only as its element count (None on overflow).
struct Shape(Option<u64>);

impl<'de> de::Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Shape;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of non-negative integers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Shape, A::Error> {
                let mut n = Some(1u64);
                while let Some(d) = s.next_element::<u64>()? {
                    n = n.and_then(|n| n.checked_mul(d));
                }
                Ok(Shape(n))
            }
        }
        d.deserialize_seq(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data: usize) -> Vec<u8> {
        let mut v = (header.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(header.as_bytes());
        v.extend(std::iter::repeat_n(0u8, data));
        v
    }

    fn codes(v: &[u8]) -> Vec<&'static str> {
        scan(&v.to_vec())
            .findings
            .iter()
            .map(|f| f.code.id())
            .collect()
    }

    #[test]
    fn valid() {
        let h = r#"{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#;
        let r = scan(&file(h, 12));
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.tensors, 2);
        assert_eq!(r.metadata["format"], "pt");
    }

    #[test]
    fn every_check() {
        let t = |h: &str, d: usize| codes(&file(h, d));
        assert_eq!(
            t(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                9
            ),
            ["S0505"]
        );
        assert_eq!(
            t(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                4
            ),
            ["S0504"]
        );
        assert_eq!(
            t(
                r#"{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#,
                8
            ),
            ["S0503"]
        );
        assert_eq!(
            t(
                r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                8
            ),
            ["S0504"]
        );
        assert_eq!(
            t(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                12
            ),
            ["S0504"]
        );
        assert_eq!(
            t(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                8
            ),
            ["S0506", "S0504"]
        );
        assert_eq!(
            t(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}"#,
                8
            ),
            ["S0507"]
        );
        assert_eq!(
            t(
                r#"{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                8
            ),
            ["S0502"]
        );
        assert_eq!(t(r#" {"a":1}"#, 0), ["S0501"]);
        assert_eq!(
            t(
                r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}"#,
                8
            ),
            ["S0504"]
        );
        assert_eq!(
            t(
                r#"{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}"#,
                2
            ),
            ["S0504"]
        );
        // Header length lies.
        let mut v = file("{}", 0);
        v[0..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
        assert_eq!(codes(&v), ["S0501"]);
        v[0..8].copy_from_slice(&1000u64.to_le_bytes());
        assert_eq!(codes(&v), ["S0501"]);
        assert_eq!(codes(&[1, 2, 3]), ["S0501"]);
    }
}
