//! Keras: `Lambda` layers (serialized Python bytecode) at any depth of a
//! model config, including inside wrappers (`TimeDistributed`,
//! `Bidirectional`, nested models), and `module` references outside
//! `keras` (Keras imports them while deserializing).
//!
//! Configs are walked with an iterative JSON reader (no recursion, so no
//! nesting depth hides a layer), which decodes escapes (`"L\u0061mbda"`)
//! as Python's `json` does. Legacy `.h5` files keep the config as a JSON
//! string attribute: every JSON object in the file that starts with a
//! Keras key is walked.

use super::finding::{Code, Finding};
use super::source::{ReadAt, read_vec_at};

/// Classes that carry Python bytecode.
const LAMBDA_CLASSES: &[&str] = &["Lambda", "__lambda__"];

/// Whether a `module` reference stays inside Keras.
fn keras_module(m: &str) -> bool {
    m == "keras" || m.starts_with("keras.")
}

/// Findings for one JSON text (a `config.json`, an `.h5` attribute).
/// `Err` when the text is not JSON.
pub fn scan_json(text: &[u8], base: u64) -> Result<Vec<Finding>, String> {
    let mut out = Vec::new();
    walk(text, &mut |ev| match ev {
        Event::Object {
            class_name,
            module,
            at,
        } => object_findings(&class_name, &module, base + at as u64, &mut out),
    })?;
    out.sort();
    out.dedup_by(|a, b| a.code == b.code && a.subject == b.subject);
    Ok(out)
}

/// Findings for one config object: a `Lambda` class, a module outside
/// Keras. Every value of a key given twice counts (Python's `json` keeps
/// the last, other readers the first).
fn object_findings(class_name: &[String], module: &[String], at: u64, out: &mut Vec<Finding>) {
    for c in class_name {
        if LAMBDA_CLASSES.contains(&c.as_str()) {
            out.push(Finding::new(
                Code::KerasLambda,
                Some(at),
                format!("Keras `{c}` layer: loading it runs serialized Python bytecode"),
            ));
        }
    }
    for m in module {
        if !keras_module(m) {
            let shown = super::pickle::printable(m);
            out.push(
                Finding::new(
                    Code::KerasModule,
                    Some(at),
                    format!("Keras config imports module `{shown}`, outside keras"),
                )
                .with_subject(shown),
            );
        }
    }
}

enum Event {
    /// An object closed; its `class_name` and `module` string values.
    Object {
        class_name: Vec<String>,
        module: Vec<String>,
        at: usize,
    },
}

struct Frame {
    object: bool,
    /// In an object: the key whose value comes next.
    key: Option<String>,
    expect_key: bool,
    class_name: Vec<String>,
    module: Vec<String>,
    at: usize,
}

/// Walk one JSON value (and only whitespace after it). Returns the number
/// of bytes consumed.
fn walk(b: &[u8], on: &mut dyn FnMut(Event)) -> Result<usize, String> {
    let mut i = 0usize;
    let mut stack: Vec<Frame> = Vec::new();
    let ws = |i: &mut usize| {
        while *i < b.len() && matches!(b[*i], b' ' | b'\t' | b'\n' | b'\r') {
            *i += 1;
        }
    };
    let mut done_top = false;
    loop {
        ws(&mut i);
        if done_top {
            return Ok(i);
        }
        let Some(&c) = b.get(i) else {
            return Err("JSON ends early".into());
        };
        // Where are we?
        if let Some(top) = stack.last_mut()
            && top.object
            && top.expect_key
        {
            match c {
                b'}' if top.key.is_none() => {}
                b'"' => {
                    let (s, n) = string(b, i)?;
                    i = n;
                    ws(&mut i);
                    if b.get(i) != Some(&b':') {
                        return Err(format!("expected `:` at byte {i}"));
                    }
                    i += 1;
                    top.key = Some(s);
                    top.expect_key = false;
                    continue;
                }
                _ => return Err(format!("expected a key at byte {i}")),
            }
        }
        // A value, or the end of a container.
        match c {
            b'{' | b'[' => {
                stack.push(Frame {
                    object: c == b'{',
                    key: None,
                    expect_key: c == b'{',
                    class_name: Vec::new(),
                    module: Vec::new(),
                    at: i,
                });
                i += 1;
                continue;
            }
            b'}' | b']' => {
                let Some(f) = stack.pop() else {
                    return Err(format!("unexpected `{}` at byte {i}", char::from(c)));
                };
                if f.object != (c == b'}') {
                    return Err(format!("mismatched `{}` at byte {i}", char::from(c)));
                }
                i += 1;
                if f.object {
                    on(Event::Object {
                        class_name: f.class_name,
                        module: f.module,
                        at: f.at,
                    });
                }
            }
            b'"' => {
                let (s, n) = string(b, i)?;
                i = n;
                if let Some(top) = stack.last_mut()
                    && top.object
                {
                    match top.key.as_deref() {
                        Some("class_name") => top.class_name.push(s),
                        Some("module") => top.module.push(s),
                        _ => {}
                    }
                }
            }
            _ => {
                let start = i;
                while i < b.len()
                    && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                {
                    i += 1;
                }
                let tok = &b[start..i];
                let ok = matches!(
                    tok,
                    b"true" | b"false" | b"null" | b"NaN" | b"Infinity" | b"-Infinity"
                ) || (!tok.is_empty()
                    && tok.iter().all(|c| {
                        c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')
                    }));
                if !ok {
                    return Err(format!("unexpected token at byte {start}"));
                }
            }
        }
        // After a value: `,` or the container's end.
        ws(&mut i);
        match stack.last_mut() {
            None => done_top = true,
            Some(top) => match b.get(i) {
                Some(b',') => {
                    i += 1;
                    if top.object {
                        top.expect_key = true;
                        top.key = None;
                    }
                }
                Some(b'}') if top.object => {}
                Some(b']') if !top.object => {}
                _ => return Err(format!("expected `,` at byte {i}")),
            },
        }
    }
}

/// A JSON string starting at `b[i] == '"'`: its decoded text (cut at 4 KiB)
/// and the index after it.
fn string(b: &[u8], mut i: usize) -> Result<(String, usize), String> {
    i += 1;
    let mut out: Vec<u8> = Vec::new();
    let mut pending_high: Option<u32> = None;
    let push = |out: &mut Vec<u8>, c: char| {
        if out.len() < 4096 {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    };
    loop {
        let Some(&c) = b.get(i) else {
            return Err("unterminated string".into());
        };
        i += 1;
        match c {
            b'"' => break,
            b'\\' => {
                let Some(&e) = b.get(i) else {
                    return Err("unterminated string".into());
                };
                i += 1;
                let ch = match e {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        let h = b
                            .get(i..i + 4)
                            .and_then(|h| std::str::from_utf8(h).ok())
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                            .ok_or("bad \\u escape")?;
                        i += 4;
                        if (0xD800..0xDC00).contains(&h) {
                            pending_high = Some(h);
                            continue;
                        }
                        let cp = match pending_high.take() {
                            Some(hi) if (0xDC00..0xE000).contains(&h) => {
                                0x10000 + ((hi - 0xD800) << 10) + (h - 0xDC00)
                            }
                            _ => h,
                        };
                        char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER)
                    }
                    _ => return Err("bad escape".into()),
                };
                push(&mut out, ch);
            }
            _ => {
                if out.len() < 4096 {
                    out.push(c);
                }
            }
        }
    }
    Ok((String::from_utf8_lossy(&out).into_owned(), i))
}

/// One Keras attribute found in an HDF5 file: its name, the offset of its
/// value, and the text (or why it cannot be read).
pub type H5Attr = (String, u64, Result<Vec<u8>, String>);

/// Attributes of a legacy Keras `.h5` file that hold JSON Keras reads:
/// `model_config` (the architecture) and `training_config` (losses and
/// metrics, deserialized when the model is compiled on load).
const H5_CONFIG_ATTRS: &[&str] = &["model_config", "training_config"];

/// The JSON texts of the Keras attributes of an HDF5 file, read from the
/// attribute messages themselves (compact storage in an object header, or
/// dense storage in a fractal heap: the message layout is the same), as
/// fixed-length strings (what `attrs[...] = json.encode()` writes) or
/// variable-length strings in the global heap (what a `str` value writes).
/// Each item: (attribute name, offset of the value, the text or why it
/// cannot be read).
pub fn h5_config_attrs(src: &dyn ReadAt) -> std::io::Result<Vec<H5Attr>> {
    const CHUNK: u64 = 8 * 1024 * 1024;
    let size = src.size();
    // The superblock: sizes of offsets and lengths, and the base address.
    let mut sb_at = None;
    for at in [0u64, 512, 1024, 2048, 4096, 8192, 16384] {
        let b = read_vec_at(src, at, 16)?;
        if b.starts_with(b"\x89HDF\r\n\x1a\n") {
            sb_at = Some((at, b));
            break;
        }
    }
    let Some((base, sb)) = sb_at else {
        return Ok(Vec::new());
    };
    let (off_size, len_size) = match sb.get(8) {
        Some(0 | 1) => (sb.get(13).copied(), sb.get(14).copied()),
        Some(2 | 3) => (sb.get(9).copied(), sb.get(10).copied()),
        _ => (None, None),
    };
    let off_size = usize::from(off_size.unwrap_or(8)).clamp(1, 8);
    let len_size = usize::from(len_size.unwrap_or(8)).clamp(1, 8);
    let mut out = Vec::new();
    let mut off = 0u64;
    while off < size {
        let buf = read_vec_at(src, off, (CHUNK + 64) as usize)?;
        for name in H5_CONFIG_ATTRS {
            let mut needle = name.as_bytes().to_vec();
            needle.push(0);
            for i in memchr::memmem::find_iter(&buf, &needle) {
                if i as u64 >= CHUNK {
                    continue;
                }
                let at = off + i as u64;
                if let Some(found) = h5_attribute(src, at, name, base, off_size, len_size)? {
                    out.push((name.to_string(), found.0, found.1));
                }
            }
        }
        off += CHUNK;
    }
    Ok(out)
}

fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |a, &x| (a << 8) | u64::from(x))
}

/// The attribute message whose name starts at `name_at`, if the bytes
/// before it are an attribute message header (version 1, 2 or 3) naming
/// exactly `name`.
#[allow(clippy::type_complexity)] // (offset, text or why not)
fn h5_attribute(
    src: &dyn ReadAt,
    name_at: u64,
    name: &str,
    base: u64,
    off_size: usize,
    len_size: usize,
) -> std::io::Result<Option<(u64, Result<Vec<u8>, String>)>> {
    let nlen = name.len() as u64 + 1;
    let pad8 = |n: u64| n.div_ceil(8) * 8;
    for (hdr, version) in [(8u64, 1u8), (8, 2), (9, 3)] {
        if name_at < hdr {
            continue;
        }
        let h = read_vec_at(src, name_at - hdr, hdr as usize)?;
        if h.len() < hdr as usize || h[0] != version {
            continue;
        }
        if le(&h[2..4]) != nlen {
            continue;
        }
        let dt_size = le(&h[4..6]);
        let ds_size = le(&h[6..8]);
        let (dt_at, ds_at, data_at) = if version == 1 {
            let dt = name_at + pad8(nlen);
            let ds = dt + pad8(dt_size);
            (dt, ds, ds + pad8(ds_size))
        } else {
            let dt = name_at + nlen;
            let ds = dt + dt_size;
            (dt, ds, ds + ds_size)
        };
        let dt = read_vec_at(src, dt_at, dt_size.min(4096) as usize)?;
        let ds = read_vec_at(src, ds_at, ds_size.min(4096) as usize)?;
        if dt.len() < 8 || ds.len() < 2 {
            continue;
        }
        // Dataspace: rank, then dimensions (scalar: one element).
        let rank = usize::from(ds[1]);
        let dims_at = if ds[0] == 1 { 8 } else { 4 };
        let mut count: u64 = 1;
        for r in 0..rank {
            let s = dims_at + r * len_size;
            let Some(d) = ds.get(s..s + len_size) else {
                break;
            };
            count = count.saturating_mul(le(d));
        }
        let class = dt[0] & 0x0f;
        let elem = le(&dt[4..8]);
        let text = match class {
            // Fixed-length string.
            3 => {
                let total = elem.saturating_mul(count);
                if total > 256 * 1024 * 1024 {
                    Err(format!(
                        "the `{name}` attribute is {total} bytes, too large to read"
                    ))
                } else {
                    let mut v = read_vec_at(src, data_at, total as usize)?;
                    while v.last().is_some_and(|&c| c == 0 || c == b' ') {
                        v.pop();
                    }
                    Ok(v)
                }
            }
            // Variable-length string: a global heap reference.
            9 => {
                let r = read_vec_at(src, data_at, 4 + off_size + 4)?;
                if r.len() < 4 + off_size + 4 {
                    Err(format!(
                        "the `{name}` attribute's heap reference is truncated"
                    ))
                } else {
                    let coll = le(&r[4..4 + off_size]).saturating_add(base);
                    let index = le(&r[4 + off_size..8 + off_size]);
                    global_heap_object(src, coll, index, len_size)?
                }
            }
            other => Err(format!(
                "the `{name}` attribute has HDF5 type class {other}, not a string"
            )),
        };
        return Ok(Some((data_at, text)));
    }
    Ok(None)
}

/// Object `index` of the global heap collection at `at`.
fn global_heap_object(
    src: &dyn ReadAt,
    at: u64,
    index: u64,
    len_size: usize,
) -> std::io::Result<Result<Vec<u8>, String>> {
    let head = read_vec_at(src, at, 8 + len_size)?;
    if head.len() < 8 + len_size || &head[..4] != b"GCOL" {
        return Ok(Err(
            "the attribute's global heap collection is missing".into()
        ));
    }
    let coll_size = le(&head[8..8 + len_size]);
    let end = at.saturating_add(coll_size).min(src.size());
    let mut p = at + 8 + len_size as u64;
    while p.saturating_add(8 + len_size as u64) <= end {
        let h = read_vec_at(src, p, 8 + len_size)?;
        if h.len() < 8 + len_size {
            break;
        }
        let idx = le(&h[0..2]);
        let osize = le(&h[8..8 + len_size]);
        if idx == 0 {
            break;
        }
        let data_at = p + 8 + len_size as u64;
        if idx == index {
            if osize > 256 * 1024 * 1024 || data_at.saturating_add(osize) > end {
                return Ok(Err(
                    "the attribute's heap object runs past its collection".into()
                ));
            }
            return Ok(Ok(read_vec_at(src, data_at, osize as usize)?));
        }
        p = data_at.saturating_add(osize.div_ceil(8).saturating_mul(8));
    }
    Ok(Err(format!("the global heap has no object {index}")))
}

/// Keys that open a Keras config object.
const OPENERS: &[&[u8]] = &[b"{\"class_name\"", b"{\"module\"", b"{\"config\""];

/// Scan an HDF5 file for embedded Keras configs (the `model_config`
/// attribute). Returns findings and whether a Keras config was seen.
pub fn scan_h5(src: &dyn ReadAt) -> std::io::Result<(Vec<Finding>, bool)> {
    const CHUNK: u64 = 8 * 1024 * 1024;
    const MAX_JSON: usize = 64 * 1024 * 1024;
    let size = src.size();
    let mut findings = Vec::new();
    let mut keras = false;
    // The attributes Keras reads, parsed as JSON.
    for (name, at, text) in h5_config_attrs(src)? {
        keras = true;
        match text.and_then(|t| scan_json(&t, at).map_err(|why| format!("not JSON: {why}"))) {
            Ok(fs) => findings.extend(fs),
            Err(why) => findings.push(Finding::new(
                Code::KerasMalformed,
                Some(at),
                format!("the `{name}` attribute cannot be read: {why}"),
            )),
        }
    }
    // Any other JSON object that opens like a Keras config (configs copied
    // into datasets or other attributes).
    let mut off = 0u64;
    let mut next_free = 0u64;
    while off < size {
        let buf = read_vec_at(src, off, (CHUNK + 64) as usize)?;
        let finder = memchr::memmem::find_iter(&buf, b"{\"");
        for i in finder {
            let at = off + i as u64;
            if at < next_free || i as u64 >= CHUNK {
                continue;
            }
            if !OPENERS.iter().any(|o| buf[i..].starts_with(o)) {
                continue;
            }
            // Parse from here; the JSON may extend past this chunk: try 1 MiB,
            // then the most a config may take.
            for len in [1024 * 1024, MAX_JSON] {
                let text = read_vec_at(src, at, len)?;
                let complete = (text.len() as u64) < len as u64;
                match scan_json_prefix(&text, at) {
                    Ok(fs) => {
                        keras = true;
                        next_free = at + fs.1 as u64;
                        findings.extend(fs.0);
                        break;
                    }
                    Err(_) if complete => break,
                    Err(_) => {}
                }
            }
        }
        off += CHUNK;
    }
    findings.sort();
    findings.dedup_by(|a, b| a.code == b.code && a.subject == b.subject);
    Ok((findings, keras))
}

/// Like [`scan_json`], for a JSON object followed by other bytes. Returns
/// the findings and the length of the object.
fn scan_json_prefix(text: &[u8], base: u64) -> Result<(Vec<Finding>, usize), String> {
    let mut objects: Vec<(Vec<String>, Vec<String>, usize)> = Vec::new();
    let end = walk_until_top(text, &mut |ev| match ev {
        Event::Object {
            class_name,
            module,
            at,
        } => objects.push((class_name, module, at)),
    })?;
    let mut out = Vec::new();
    for (class_name, module, at) in objects {
        object_findings(&class_name, &module, base + at as u64, &mut out);
    }
    Ok((out, end))
}

/// [`walk`] that tolerates bytes after the first value.
fn walk_until_top(b: &[u8], on: &mut dyn FnMut(Event)) -> Result<usize, String> {
    // Find the extent of the first value with a cheap bracket matcher that
    // respects strings, then walk exactly that slice.
    let mut depth = 0usize;
    let mut i = 0usize;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1).ok_or("unbalanced")?;
                    if depth == 0 {
                        let n = walk(&b[..=i], on)?;
                        return Ok(n);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    Err("unterminated JSON".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_at_any_depth() {
        let cfg = br#"{"class_name": "Sequential", "config": {"layers": [
            {"class_name": "TimeDistributed", "config": {"layer": {"class_name": "L\u0061mbda", "config": {"function": ["..."]}}}}
        ]}}"#;
        let f = scan_json(cfg, 0).expect("json");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, Code::KerasLambda);
        let mut deep = String::new();
        for _ in 0..5000 {
            deep.push_str("{\"a\": ");
        }
        deep.push_str("{\"class_name\": \"Lambda\"}");
        for _ in 0..5000 {
            deep.push('}');
        }
        let f = scan_json(deep.as_bytes(), 0).expect("json");
        assert_eq!(f[0].code, Code::KerasLambda);
    }

    #[test]
    fn modules_outside_keras() {
        let cfg = br#"{"module": "keras.layers", "class_name": "Dense", "config": {"activation": {"module": "os", "class_name": "function", "config": "system"}}}"#;
        let f = scan_json(cfg, 0).expect("json");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].subject.as_deref(), Some("os"));
        assert!(
            scan_json(b"{\"a\": [1, 2, {\"b\": null}]}", 0)
                .expect("json")
                .is_empty()
        );
        assert!(scan_json(b"{\"a\": ", 0).is_err());
    }

    #[test]
    fn h5_embedded() {
        let mut f = b"\x89HDF\r\n\x1a\n\0\0\0garbage{not json".to_vec();
        f.extend_from_slice(
            br#"{"class_name": "Model", "config": {"layers": [{"class_name": "Lambda"}]}}"#,
        );
        f.extend_from_slice(b"\0\0\0more");
        let (fs, keras) = scan_h5(&f).expect("io");
        assert!(keras);
        assert_eq!(fs.len(), 1);
    }
}
