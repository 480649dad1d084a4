//! GGUF: the header as llama.cpp's `gguf_init_from_file` checks it, with
//! every count and length bounded by the bytes left before anything is
//! allocated; `tokenizer.chat_template` reported for review; provenance
//! claims (`general.base_model.*`, `general.dataset*`, …) read into the scan
//! result. Only the header is read, never the tensor data.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, BufRead, BufReader, Read};

use sha2::{Digest, Sha256};

use super::finding::{Code, Finding};
use super::source::{RangeReader, ReadAt};

/// `GGML_MAX_DIMS`.
const MAX_DIMS: u32 = 4;
/// `GGML_MAX_NAME`.
const MAX_NAME: u64 = 64;
/// Keys and strings kept for inspection are cut here.
const KEEP: u64 = 4096;
/// A chat template is kept (and checked) up to this size.
const KEEP_TEMPLATE: u64 = 4 * 1024 * 1024;

/// (block size, bytes per block) of each ggml type, by id.
pub fn ggml_type(t: u32) -> Option<(u64, u64, &'static str)> {
    Some(match t {
        0 => (1, 4, "F32"),
        1 => (1, 2, "F16"),
        2 => (32, 18, "Q4_0"),
        3 => (32, 20, "Q4_1"),
        6 => (32, 22, "Q5_0"),
        7 => (32, 24, "Q5_1"),
        8 => (32, 34, "Q8_0"),
        9 => (32, 36, "Q8_1"),
        10 => (256, 84, "Q2_K"),
        11 => (256, 110, "Q3_K"),
        12 => (256, 144, "Q4_K"),
        13 => (256, 176, "Q5_K"),
        14 => (256, 210, "Q6_K"),
        15 => (256, 292, "Q8_K"),
        16 => (256, 66, "IQ2_XXS"),
        17 => (256, 74, "IQ2_XS"),
        18 => (256, 98, "IQ3_XXS"),
        19 => (256, 50, "IQ1_S"),
        20 => (32, 18, "IQ4_NL"),
        21 => (256, 110, "IQ3_S"),
        22 => (256, 82, "IQ2_S"),
        23 => (256, 136, "IQ4_XS"),
        24 => (1, 1, "I8"),
        25 => (1, 2, "I16"),
        26 => (1, 4, "I32"),
        27 => (1, 8, "I64"),
        28 => (1, 8, "F64"),
        29 => (256, 56, "IQ1_M"),
        30 => (1, 2, "BF16"),
        34 => (256, 54, "TQ1_0"),
        35 => (256, 66, "TQ2_0"),
        39 => (32, 17, "MXFP4"),
        _ => return None,
    })
}

/// What the header says.
#[derive(Debug, Default)]
pub struct Header {
    pub version: u32,
    pub tensors: u64,
    /// Provenance claims and identity (`general.*`), for the scan result.
    pub claims: BTreeMap<String, serde_json::Value>,
    pub findings: Vec<Finding>,
}

struct In<R> {
    r: R,
    pos: u64,
    size: u64,
}

enum Stop {
    Bad(u64, String),
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

type Res<T> = Result<T, Stop>;

impl<R: BufRead> In<R> {
    fn left(&self) -> u64 {
        self.size.saturating_sub(self.pos)
    }

    fn bytes<const N: usize>(&mut self) -> Res<[u8; N]> {
        if self.left() < N as u64 {
            return Err(Stop::Bad(self.pos, "header is truncated".into()));
        }
        let mut b = [0u8; N];
        self.r.read_exact(&mut b)?;
        self.pos += N as u64;
        Ok(b)
    }

    fn u32(&mut self) -> Res<u32> {
        Ok(u32::from_le_bytes(self.bytes::<4>()?))
    }

    fn u64(&mut self) -> Res<u64> {
        Ok(u64::from_le_bytes(self.bytes::<8>()?))
    }

    fn skip(&mut self, n: u64) -> Res<()> {
        if n > self.left() {
            return Err(Stop::Bad(
                self.pos,
                format!("a length of {n} runs past the end of the file"),
            ));
        }
        let got = io::copy(&mut (&mut self.r).take(n), &mut io::sink())?;
        self.pos += got;
        if got != n {
            return Err(Stop::Bad(self.pos, "header is truncated".into()));
        }
        Ok(())
    }

    /// A GGUF string: keep up to `keep` bytes, skip the rest (hashed into
    /// `hash` if given).
    fn string(&mut self, v1: bool, keep: u64, mut hash: Option<&mut Sha256>) -> Res<(String, u64)> {
        let at = self.pos;
        let n = if v1 {
            u64::from(self.u32()?)
        } else {
            self.u64()?
        };
        if n > self.left() {
            return Err(Stop::Bad(
                at,
                format!("string length {n} runs past the end of the file"),
            ));
        }
        let k = n.min(keep);
        let mut buf = vec![0u8; k as usize];
        self.r.read_exact(&mut buf)?;
        self.pos += k;
        if let Some(h) = hash.as_deref_mut() {
            h.update(&buf);
        }
        let mut rest = n - k;
        let mut chunk = [0u8; 8192];
        while rest > 0 {
            let m = rest.min(chunk.len() as u64) as usize;
            self.r.read_exact(&mut chunk[..m])?;
            if let Some(h) = hash.as_deref_mut() {
                h.update(&chunk[..m]);
            }
            self.pos += m as u64;
            rest -= m as u64;
        }
        Ok((String::from_utf8_lossy(&buf).into_owned(), n))
    }
}

/// Bytes of one value of a fixed-size GGUF type.
fn fixed_size(t: u32) -> Option<u64> {
    Some(match t {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        _ => return None,
    })
}

/// Whether a key's value is a provenance claim worth recording.
fn is_claim(key: &str) -> bool {
    key.starts_with("general.base_model.")
        || key.starts_with("general.dataset")
        || key.starts_with("general.source.")
        || key.starts_with("general.license")
        || matches!(
            key,
            "general.name"
                | "general.architecture"
                | "general.organization"
                | "general.author"
                | "general.version"
                | "general.url"
                | "general.repo_url"
                | "general.quantized_by"
        )
}

/// Check a GGUF file.
pub fn scan(src: &dyn ReadAt) -> Header {
    let mut h = Header::default();
    let size = src.size();
    let mut input = In {
        r: BufReader::with_capacity(64 * 1024, RangeReader::new(src, 0, size)),
        pos: 0,
        size,
    };
    match read(&mut input, &mut h) {
        Ok(()) => {}
        Err(Stop::Bad(at, msg)) => {
            h.findings
                .push(Finding::new(Code::GgufMalformed, Some(at), msg))
        }
        Err(Stop::Io(e)) => h.findings.push(Finding::new(
            Code::GgufMalformed,
            Some(input.pos),
            format!("cannot read the header: {e}"),
        )),
    }
    h.findings.sort();
    h
}

fn read<R: BufRead>(input: &mut In<R>, h: &mut Header) -> Res<()> {
    let magic = input.bytes::<4>()?;
    if &magic != b"GGUF" {
        return Err(Stop::Bad(0, "no GGUF magic".into()));
    }
    let version = input.u32()?;
    h.version = version;
    if !(1..=3).contains(&version) {
        let hint = if version & 0xFFFF == 0 && version != 0 {
            " (a big-endian file?)"
        } else {
            ""
        };
        return Err(Stop::Bad(
            4,
            format!("unsupported GGUF version {version}{hint}"),
        ));
    }
    let v1 = version == 1;
    let (n_tensors, n_kv) = if v1 {
        (u64::from(input.u32()?), u64::from(input.u32()?))
    } else {
        (input.u64()?, input.u64()?)
    };
    h.tensors = n_tensors;
    // A key-value pair takes at least 4 + 4 + 1 bytes, a tensor info at
    // least 4 + 4 + 8 + 4 + 8.
    let kv_min = if v1 { 9 } else { 13 };
    if n_kv > input.left() / kv_min {
        return Err(Stop::Bad(
            16,
            format!("{n_kv} key-value pairs cannot fit in the file"),
        ));
    }
    if n_tensors > input.left() / 28 {
        return Err(Stop::Bad(
            8,
            format!("{n_tensors} tensors cannot fit in the file"),
        ));
    }
    let mut keys = HashSet::new();
    let mut alignment = 32u64;
    for _ in 0..n_kv {
        let at = input.pos;
        let (key, klen) = input.string(v1, KEEP, None)?;
        if klen > KEEP {
            return Err(Stop::Bad(at, format!("key of {klen} bytes")));
        }
        if !keys.insert(key.clone()) {
            return Err(Stop::Bad(at, format!("duplicate key `{key}`")));
        }
        let vt = input.u32()?;
        let template =
            key == "tokenizer.chat_template" || key.starts_with("tokenizer.chat_template.");
        match vt {
            8 => {
                let mut hasher = Sha256::new();
                let keep = if template { KEEP_TEMPLATE } else { KEEP };
                let (s, n) = input.string(v1, keep, template.then_some(&mut hasher))?;
                if template {
                    check_template(h, &key, &s, n, at, hasher);
                } else if is_claim(&key) && n <= KEEP {
                    h.claims.insert(key, serde_json::Value::String(s));
                }
            }
            9 => {
                let et = input.u32()?;
                let n = if v1 {
                    u64::from(input.u32()?)
                } else {
                    input.u64()?
                };
                if et == 9 {
                    return Err(Stop::Bad(at, format!("`{key}` is an array of arrays")));
                }
                if et == 8 {
                    // Each string takes at least its length field.
                    if n > input.left() / if v1 { 4 } else { 8 } {
                        return Err(Stop::Bad(at, format!("`{key}` claims {n} strings")));
                    }
                    let mut items = Vec::new();
                    for _ in 0..n {
                        let (s, len) = input.string(v1, KEEP, None)?;
                        if is_claim(&key) && items.len() < 64 && len <= KEEP {
                            items.push(serde_json::Value::String(s));
                        }
                    }
                    if is_claim(&key) {
                        h.claims.insert(key, serde_json::Value::Array(items));
                    }
                } else {
                    let Some(es) = fixed_size(et) else {
                        return Err(Stop::Bad(
                            at,
                            format!("`{key}` has array element type {et}"),
                        ));
                    };
                    let total = n
                        .checked_mul(es)
                        .ok_or_else(|| Stop::Bad(at, format!("`{key}` array size overflows")))?;
                    input.skip(total)?;
                }
            }
            t => {
                let Some(n) = fixed_size(t) else {
                    return Err(Stop::Bad(at, format!("`{key}` has unknown value type {t}")));
                };
                let mut b = [0u8; 8];
                for x in b.iter_mut().take(n as usize) {
                    *x = input.bytes::<1>()?[0];
                }
                let v = u64::from_le_bytes(b);
                if key == "general.alignment" {
                    if t != 4 {
                        return Err(Stop::Bad(at, "general.alignment is not a uint32".into()));
                    }
                    if v == 0 || !v.is_power_of_two() {
                        return Err(Stop::Bad(
                            at,
                            format!("general.alignment {v} is not a power of two"),
                        ));
                    }
                    alignment = v;
                }
                if is_claim(&key) && matches!(t, 4 | 10) {
                    h.claims.insert(key, serde_json::Value::from(v));
                }
            }
        }
    }
    // Tensor infos.
    let mut names = HashSet::new();
    let mut infos = Vec::new();
    for i in 0..n_tensors {
        let at = input.pos;
        let (name, nlen) = input.string(v1, MAX_NAME, None)?;
        if nlen >= MAX_NAME {
            return Err(Stop::Bad(
                at,
                format!("tensor {i} name is {nlen} bytes (limit {})", MAX_NAME - 1),
            ));
        }
        if !names.insert(name.clone()) {
            return Err(Stop::Bad(at, format!("duplicate tensor `{name}`")));
        }
        let nd = input.u32()?;
        if nd > MAX_DIMS {
            return Err(Stop::Bad(
                at,
                format!("tensor `{name}` has {nd} dimensions (at most {MAX_DIMS})"),
            ));
        }
        let mut dims = [1u64; 4];
        for d in dims.iter_mut().take(nd as usize) {
            *d = if v1 {
                u64::from(input.u32()?)
            } else {
                input.u64()?
            };
            if *d > i64::MAX as u64 {
                return Err(Stop::Bad(
                    at,
                    format!("tensor `{name}` has a negative dimension"),
                ));
            }
        }
        let t = input.u32()?;
        let Some((block, bytes, tname)) = ggml_type(t) else {
            return Err(Stop::Bad(
                at,
                format!("tensor `{name}` has unknown type {t}"),
            ));
        };
        let offset = input.u64()?;
        let elems = dims
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .filter(|&e| e <= i64::MAX as u64)
            .ok_or_else(|| Stop::Bad(at, format!("tensor `{name}` element count overflows")))?;
        if dims[0] % block != 0 {
            return Err(Stop::Bad(
                at,
                format!(
                    "tensor `{name}`: first dimension {} is not a multiple of {tname}'s block size {block}",
                    dims[0]
                ),
            ));
        }
        let nbytes = (elems / block)
            .checked_mul(bytes)
            .ok_or_else(|| Stop::Bad(at, format!("tensor `{name}` byte size overflows")))?;
        infos.push((name, offset, nbytes, at));
    }
    // Data: aligned after the infos, tensors contiguous in order.
    let data_start = input
        .pos
        .checked_next_multiple_of(alignment)
        .ok_or_else(|| Stop::Bad(input.pos, "data offset overflows".into()))?;
    let mut expected = 0u64;
    for (name, offset, nbytes, at) in &infos {
        if *offset != expected {
            return Err(Stop::Bad(
                *at,
                format!("tensor `{name}` has offset {offset}, expected {expected}"),
            ));
        }
        expected = nbytes
            .checked_next_multiple_of(alignment)
            .and_then(|p| expected.checked_add(p))
            .ok_or_else(|| Stop::Bad(*at, format!("tensor `{name}` data size overflows")))?;
    }
    let end = data_start
        .checked_add(expected)
        .ok_or_else(|| Stop::Bad(data_start, "data size overflows".into()))?;
    let needed = match infos.last() {
        Some((_, off, nbytes, _)) => data_start.saturating_add(*off).saturating_add(*nbytes),
        None => input.pos,
    };
    if needed > input.size {
        return Err(Stop::Bad(
            input.size,
            format!(
                "tensor data needs {needed} bytes (padded: {end}) but the file has {}",
                input.size
            ),
        ));
    }
    Ok(())
}

fn check_template(h: &mut Header, key: &str, text: &str, len: u64, at: u64, hasher: Sha256) {
    let digest = hex::encode(hasher.finalize());
    h.claims.insert(
        format!("{key}.sha256"),
        serde_json::Value::String(digest.clone()),
    );
    if len > KEEP_TEMPLATE {
        h.findings.push(
            Finding::new(
                Code::GgufTemplateInjection,
                Some(at),
                format!("`{key}` is {len} bytes, too large to review"),
            )
            .with_subject(key.to_string()),
        );
    } else if let Some(how) = super::template::injection(text) {
        h.findings.push(
            Finding::new(
                Code::GgufTemplateInjection,
                Some(at),
                format!("`{key}` can reach Python internals ({how}): an unsandboxed Jinja renderer runs code through it"),
            )
            .with_subject(key.to_string()),
        );
    }
    h.findings.push(
        Finding::new(
            Code::GgufChatTemplate,
            Some(at),
            format!(
                "`{key}` is a {len}-byte Jinja template (sha256 {}…): review it before trusting it",
                &digest[..16]
            ),
        )
        .with_subject(key.to_string()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &mut Vec<u8>, t: &str) {
        v.extend_from_slice(&(t.len() as u64).to_le_bytes());
        v.extend_from_slice(t.as_bytes());
    }

    /// A valid GGUF v3 with one F32 tensor of 4 elements.
    fn valid(template: Option<&str>) -> Vec<u8> {
        let mut v = b"GGUF".to_vec();
        v.extend_from_slice(&3u32.to_le_bytes());
        v.extend_from_slice(&1u64.to_le_bytes());
        v.extend_from_slice(&(2u64 + u64::from(template.is_some())).to_le_bytes());
        s(&mut v, "general.architecture");
        v.extend_from_slice(&8u32.to_le_bytes());
        s(&mut v, "llama");
        s(&mut v, "general.base_model.0.repo_url");
        v.extend_from_slice(&8u32.to_le_bytes());
        s(&mut v, "https://huggingface.co/org/base");
        if let Some(t) = template {
            s(&mut v, "tokenizer.chat_template");
            v.extend_from_slice(&8u32.to_le_bytes());
            s(&mut v, t);
        }
        s(&mut v, "w");
        v.extend_from_slice(&1u32.to_le_bytes());
        v.extend_from_slice(&4u64.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&0u64.to_le_bytes());
        while !v.len().is_multiple_of(32) {
            v.push(0);
        }
        v.extend_from_slice(&[0u8; 32]);
        v
    }

    #[test]
    fn valid_file_and_claims() {
        let h = scan(&valid(None));
        assert!(h.findings.is_empty(), "{:?}", h.findings);
        assert_eq!(
            h.claims["general.base_model.0.repo_url"],
            "https://huggingface.co/org/base"
        );
        let h = scan(&valid(Some("{{ messages }}")));
        assert_eq!(h.findings.len(), 1);
        assert_eq!(h.findings[0].code, Code::GgufChatTemplate);
        let h = scan(&valid(Some(
            "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        )));
        assert!(
            h.findings
                .iter()
                .any(|f| f.code == Code::GgufTemplateInjection)
        );
    }

    #[test]
    fn bounds() {
        let mut v = valid(None);
        // n_kv = huge
        v[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(scan(&v).findings[0].code, Code::GgufMalformed);
        let mut v = valid(None);
        v.truncate(v.len() - 20);
        assert_eq!(scan(&v).findings[0].code, Code::GgufMalformed);
        let mut v = valid(None);
        // string length of the first key = huge
        v[24..32].copy_from_slice(&(1u64 << 62).to_le_bytes());
        assert_eq!(scan(&v).findings[0].code, Code::GgufMalformed);
    }
}
