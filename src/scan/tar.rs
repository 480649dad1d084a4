//! Tar archives, read as Python's `tarfile` reads them, and the legacy
//! PyTorch tar checkpoint inside one.
//!
//! Old `torch.save` wrote a tar with members `storages`, `tensors` and
//! `pickle`, and `torch.load` still reads it (with `weights_only=False`):
//! `storages` is a pickle (the count), then per storage a pickle `(key,
//! location, storage_type)` and the raw data (an int64 element count and
//! the elements); then a pickle of storage views. `tensors` is a pickle
//! (the count), then per tensor a pickle `(key, storage_id, type)` and a raw
//! header (int32 ndim, 4 bytes, ndim sizes, ndim strides, an offset).
//! `pickle` is one pickle. Each of those pickles runs in the real unpickler,
//! so each is walked; the raw parts are skipped by the sizes the pickles and
//! headers give, exactly as the loader does. A layout that cannot be
//! followed is a finding, never a skip.
//!
//! The reader follows `tarfile`: 512-byte headers with a checksum (signed or
//! unsigned), octal or base-256 numbers, ustar prefixes, GNU long names,
//! PAX `path` and `size` records (per member and global), sizes skipped only
//! for regular members; the first invalid or all-zero header ends the
//! archive. `getmember` takes the last member of a name: every member of a
//! name is scanned, and duplicates are reported.

use std::collections::{BTreeMap, HashMap};
use std::io;

use super::detect::{is_tar_header, octal};
use super::finding::{Code, Finding, Kind};
use super::pickle::{self, PickleOptions};
use super::source::{RangeReader, ReadAt, Window, read_vec_at};
use super::{Ctx, Scanned};

/// At most this many members are read.
pub const MAX_MEMBERS: usize = 100_000;
/// PAX and GNU long-name records larger than this are not read.
const MAX_EXTENDED: u64 = 1024 * 1024;
/// At most this many storages or tensors are followed in a legacy
/// checkpoint (each needs at least one byte anyway).
const MAX_RECORDS: u64 = 10_000_000;

/// One member as `tarfile` sees it.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub typeflag: u8,
    pub size: u64,
    pub data_offset: u64,
    pub header_offset: u64,
    pub linkname: String,
}

impl Member {
    pub fn is_regular(&self) -> bool {
        matches!(self.typeflag, b'0' | 0 | b'7' | b'S')
    }

    pub fn is_link(&self) -> bool {
        matches!(self.typeflag, b'1' | b'2')
    }
}

fn nts(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// `tarfile.nti`: base-256 (first byte 0x80 or 0xff) or octal.
fn number(field: &[u8]) -> Option<u64> {
    match field.first() {
        Some(0x80) => {
            let mut n: u64 = 0;
            for &b in &field[1..] {
                n = n.checked_mul(256)?.checked_add(u64::from(b))?;
            }
            Some(n)
        }
        Some(0xff) => None,
        _ => octal(field),
    }
}

/// Parse PAX records (`"%d %s=%s\n"`), as `tarfile._proc_pax` does.
fn pax_records(data: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut p = 0usize;
    while p < data.len() {
        if data[p] == 0 {
            break;
        }
        let sp = data[p..]
            .iter()
            .position(|&c| c == b' ')
            .ok_or("PAX record without a length")?;
        let len: usize = std::str::from_utf8(&data[p..p + sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("PAX record length is not a number")?;
        if len < sp + 2 || p + len > data.len() || data[p + len - 1] != b'\n' {
            return Err("PAX record length is wrong".into());
        }
        let rec = &data[p + sp + 1..p + len - 1];
        let eq = rec
            .iter()
            .position(|&c| c == b'=')
            .ok_or("PAX record without `=`")?;
        out.push((
            String::from_utf8_lossy(&rec[..eq]).into_owned(),
            String::from_utf8_lossy(&rec[eq + 1..]).into_owned(),
        ));
        p += len;
    }
    Ok(out)
}

/// The members of an archive and what is wrong with it, or (`Err`) why it
/// is not a tar archive at all.
pub type Listing = Result<(Vec<Member>, Vec<Finding>), Finding>;

/// Read the member list. `Err` when the first header is not a tar header.
pub fn read(src: &dyn ReadAt) -> io::Result<Listing> {
    let size = src.size();
    let mut members = Vec::new();
    let mut findings = Vec::new();
    let mut off = 0u64;
    let mut global: HashMap<String, String> = HashMap::new();
    let mut pending: HashMap<String, String> = HashMap::new();
    let mut long_name: Option<String> = None;
    let mut long_link: Option<String> = None;
    while members.len() < MAX_MEMBERS {
        let block = read_vec_at(src, off, 512)?;
        if block.len() < 512 || block.iter().all(|&b| b == 0) || !is_tar_header(&block) {
            if off == 0 {
                return Ok(Err(Finding::new(
                    Code::TarMalformed,
                    Some(0),
                    "no valid tar header at the start",
                )));
            }
            if block.len() == 512 && !block.iter().all(|&b| b == 0) {
                findings.push(Finding::new(
                    Code::TarMalformed,
                    Some(off),
                    "an invalid tar header ends the archive here; tarfile ignores what follows",
                ));
            }
            break;
        }
        let typeflag = block[156];
        let Some(mut msize) = number(&block[124..136]) else {
            findings.push(Finding::new(
                Code::TarMalformed,
                Some(off),
                "member size field cannot be read",
            ));
            break;
        };
        let mut name = nts(&block[0..100]);
        let mut linkname = nts(&block[157..257]);
        let magic = &block[257..263];
        let gnu = magic == b"ustar ";
        if magic == b"ustar\0" && !matches!(typeflag, b'L' | b'K' | b'S') {
            let prefix = nts(&block[345..500]);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        let _ = gnu;
        let data_offset = off + 512;
        let padded = msize.div_ceil(512).saturating_mul(512);
        match typeflag {
            b'L' | b'K' | b'x' | b'g' | b'X' => {
                if msize > MAX_EXTENDED || data_offset.saturating_add(msize) > size {
                    findings.push(Finding::new(
                        Code::TarMalformed,
                        Some(off),
                        format!("extended header of {msize} bytes cannot be read"),
                    ));
                    break;
                }
                let data = read_vec_at(src, data_offset, msize as usize)?;
                match typeflag {
                    b'L' => long_name = Some(nts(&data)),
                    b'K' => long_link = Some(nts(&data)),
                    _ => match pax_records(&data) {
                        Ok(recs) => {
                            let target = if typeflag == b'g' {
                                &mut global
                            } else {
                                &mut pending
                            };
                            for (k, v) in recs {
                                target.insert(k, v);
                            }
                        }
                        Err(why) => {
                            findings.push(Finding::new(Code::TarMalformed, Some(off), why));
                            break;
                        }
                    },
                }
                off = data_offset.saturating_add(padded);
                continue;
            }
            _ => {}
        }
        if let Some(n) = long_name.take() {
            name = n;
        }
        if let Some(n) = long_link.take() {
            linkname = n;
        }
        let mut pax = global.clone();
        pax.extend(pending.drain());
        if let Some(p) = pax.get("path") {
            if *p != name {
                findings.push(
                    Finding::new(
                        Code::TarAmbiguous,
                        Some(off),
                        format!(
                            "a PAX header renames member `{}` to `{p}`: readers without PAX see another name",
                            super::pickle::printable(&name)
                        ),
                    )
                    .in_member(p),
                );
            }
            name = p.clone();
        }
        if let Some(l) = pax.get("linkpath") {
            linkname = l.clone();
        }
        if let Some(s) = pax.get("size") {
            match s.parse::<u64>() {
                Ok(v) => {
                    if v != msize {
                        findings.push(
                            Finding::new(
                                Code::TarAmbiguous,
                                Some(off),
                                format!(
                                    "a PAX header sets the size to {v}, the header says {msize}"
                                ),
                            )
                            .in_member(&name),
                        );
                    }
                    msize = v;
                }
                Err(_) => {
                    findings.push(Finding::new(
                        Code::TarMalformed,
                        Some(off),
                        "PAX size is not a number",
                    ));
                    break;
                }
            }
        }
        let mut typeflag = typeflag;
        if typeflag == 0 && name.ends_with('/') {
            typeflag = b'5';
        }
        if typeflag == b'5' {
            name = name.trim_end_matches('/').to_string();
        }
        let m = Member {
            name,
            typeflag,
            size: msize,
            data_offset,
            header_offset: off,
            linkname,
        };
        // tarfile skips the data of regular members (and unknown types)
        // only; directories, links and devices are followed by the next
        // header whatever their size field says.
        let known = matches!(
            typeflag,
            b'0' | 0 | b'1' | b'2' | b'3' | b'4' | b'5' | b'6' | b'7' | b'S'
        );
        let skip = if m.is_regular() || !known {
            msize.div_ceil(512).saturating_mul(512)
        } else {
            0
        };
        if m.is_regular() && data_offset.saturating_add(msize) > size {
            findings.push(
                Finding::new(
                    Code::TarMalformed,
                    Some(off),
                    format!(
                        "member claims {msize} bytes but the archive ends {} bytes after its header",
                        size.saturating_sub(data_offset)
                    ),
                )
                .in_member(&m.name),
            );
        }
        members.push(m);
        off = data_offset.saturating_add(skip);
        if off >= size {
            break;
        }
    }
    Ok(Ok((members, findings)))
}

/// Scan a tar archive into `out`.
pub fn scan_tar(
    src: &dyn ReadAt,
    prefix: &str,
    ctx: &mut Ctx,
    out: &mut Scanned,
) -> io::Result<()> {
    let label = |n: &str| {
        if prefix.is_empty() {
            n.to_string()
        } else {
            format!("{prefix}!{n}")
        }
    };
    let (members, findings) = match read(src)? {
        Ok(x) => x,
        Err(f) => {
            out.push(f, prefix);
            return Ok(());
        }
    };
    for f in findings {
        let f = match f.member.clone() {
            Some(m) => f.in_member(&label(&m)),
            None => f,
        };
        out.push(f, prefix);
    }
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &members {
        *count.entry(m.name.as_str()).or_default() += 1;
    }
    let torch = ["storages", "tensors", "pickle"]
        .iter()
        .all(|n| count.contains_key(n));
    if torch {
        if prefix.is_empty() {
            out.format = "pytorch-tar".into();
        }
        out.kinds.insert(Kind::Pytorch);
        out.kinds.insert(Kind::Pickle);
    }
    for (name, n) in &count {
        if *n > 1 {
            out.push(
                Finding::new(
                    Code::TarAmbiguous,
                    None,
                    format!("{n} members share this name; tarfile loads the last one"),
                )
                .in_member(&label(name)),
                "",
            );
        }
    }
    for m in &members {
        let lm = label(&m.name);
        let special = matches!(m.name.as_str(), "storages" | "tensors" | "pickle");
        if m.is_link() {
            if special && torch {
                out.push(
                    Finding::new(
                        Code::TarAmbiguous,
                        Some(m.header_offset),
                        format!(
                            "`{}` is a link to `{}`: torch.load reads another file",
                            m.name,
                            super::pickle::printable(&m.linkname)
                        ),
                    )
                    .in_member(&lm),
                    "",
                );
            }
            continue;
        }
        if !m.is_regular() {
            continue;
        }
        let w = Window::new(src, m.data_offset, m.size);
        match (torch, m.name.as_str()) {
            (true, "storages") => legacy_records(&w, &lm, true, out)?,
            (true, "tensors") => legacy_records(&w, &lm, false, out)?,
            (true, "pickle") => walk_member(&w, 0, w.size(), &lm, out)?,
            _ => {
                let inner = super::scan_nested(&w, &m.name, ctx)?;
                out.absorb(inner, &lm);
            }
        }
    }
    Ok(())
}

/// Walk one pickle at `[start, end)` of a member, strictly.
fn walk_member(
    src: &dyn ReadAt,
    start: u64,
    end: u64,
    m: &str,
    out: &mut Scanned,
) -> io::Result<()> {
    let len = end.saturating_sub(start);
    let r = pickle::scan(
        &mut || Ok(Box::new(RangeReader::new(src, start, len)) as Box<dyn io::Read + '_>),
        PickleOptions {
            strict: true,
            torchscript: false,
            total: Some(len),
        },
    )?;
    out.imports.extend(r.imports);
    for mut f in r.findings {
        f.offset = f.offset.map(|o| o + start);
        out.push(f.in_member(m), "");
    }
    Ok(())
}

/// A plain value of the small pickles in `storages` and `tensors`.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Int(i128),
    Str(String),
    Global(String),
    Seq(Vec<Val>),
    Other,
}

/// Evaluate a pickle made only of plain values (numbers, strings, tuples,
/// lists, globals, the memo). Returns the value and the offset after STOP,
/// or why it cannot be followed.
fn plain_value(src: &dyn ReadAt, start: u64) -> Result<(Val, u64), String> {
    let size = src.size();
    let mut pos = start;
    let mut stack: Vec<Val> = Vec::new();
    let mut marks: Vec<usize> = Vec::new();
    let mut memo: HashMap<u64, Val> = HashMap::new();
    let byte = |pos: &mut u64| -> Result<u8, String> {
        let mut b = [0u8; 1];
        if *pos >= size || src.read_at(*pos, &mut b).map_err(|e| e.to_string())? != 1 {
            return Err("the pickle is truncated".into());
        }
        *pos += 1;
        Ok(b[0])
    };
    let take = |pos: &mut u64, n: u64| -> Result<Vec<u8>, String> {
        if n > 1 << 20 || pos.saturating_add(n) > size {
            return Err("a length runs past the member".into());
        }
        let v = read_vec_at(src, *pos, n as usize).map_err(|e| e.to_string())?;
        *pos += n;
        Ok(v)
    };
    let line = |pos: &mut u64| -> Result<Vec<u8>, String> {
        let mut v = Vec::new();
        loop {
            let mut b = [0u8; 1];
            if *pos >= size || src.read_at(*pos, &mut b).map_err(|e| e.to_string())? != 1 {
                return Err("the pickle is truncated".into());
            }
            *pos += 1;
            if b[0] == b'\n' {
                return Ok(v);
            }
            v.push(b[0]);
            if v.len() > 4096 {
                return Err("a line is too long".into());
            }
        }
    };
    let le = |b: &[u8]| -> i128 {
        let mut n: i128 = 0;
        for (i, &x) in b.iter().enumerate().take(16) {
            n |= i128::from(x) << (8 * i);
        }
        if b.last().is_some_and(|&x| x & 0x80 != 0) && b.len() < 16 {
            n -= 1i128 << (8 * b.len());
        }
        n
    };
    let pop = |stack: &mut Vec<Val>, marks: &[usize]| -> Result<Val, String> {
        if stack.len() <= marks.last().copied().unwrap_or(0) && !marks.is_empty() {
            return Err("stack underflow".into());
        }
        stack.pop().ok_or_else(|| "stack underflow".to_string())
    };
    for _ in 0..100_000 {
        let op = byte(&mut pos)?;
        match op {
            0x80 => {
                byte(&mut pos)?;
            }
            0x95 => {
                take(&mut pos, 8)?;
            }
            b'K' => stack.push(Val::Int(i128::from(byte(&mut pos)?))),
            b'M' => {
                let b = take(&mut pos, 2)?;
                stack.push(Val::Int(i128::from(u16::from_le_bytes([b[0], b[1]]))));
            }
            b'J' => {
                let b = take(&mut pos, 4)?;
                stack.push(Val::Int(i128::from(i32::from_le_bytes([
                    b[0], b[1], b[2], b[3],
                ]))));
            }
            0x8a => {
                let n = byte(&mut pos)?;
                let b = take(&mut pos, u64::from(n))?;
                stack.push(if n <= 15 {
                    Val::Int(le(&b))
                } else {
                    Val::Other
                });
            }
            b'I' | b'L' => {
                let l = line(&mut pos)?;
                let t = String::from_utf8_lossy(&l);
                let t = t.trim_end_matches('L');
                stack.push(match t {
                    "00" => Val::Int(0),
                    "01" => Val::Int(1),
                    _ => Val::Int(t.parse().map_err(|_| "a text integer does not parse")?),
                });
            }
            b'N' | 0x88 | 0x89 => stack.push(Val::Other),
            b'X' => {
                let b = take(&mut pos, 4)?;
                let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                let s = take(&mut pos, u64::from(n))?;
                stack.push(Val::Str(String::from_utf8_lossy(&s).into_owned()));
            }
            0x8c | b'U' => {
                let n = byte(&mut pos)?;
                let s = take(&mut pos, u64::from(n))?;
                stack.push(Val::Str(String::from_utf8_lossy(&s).into_owned()));
            }
            b'T' => {
                let b = take(&mut pos, 4)?;
                let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                let s = take(&mut pos, u64::from(n))?;
                stack.push(Val::Str(String::from_utf8_lossy(&s).into_owned()));
            }
            b'c' => {
                let m = line(&mut pos)?;
                let n = line(&mut pos)?;
                stack.push(Val::Global(format!(
                    "{}.{}",
                    String::from_utf8_lossy(&m),
                    String::from_utf8_lossy(&n)
                )));
            }
            0x93 => {
                let n = pop(&mut stack, &marks)?;
                let m = pop(&mut stack, &marks)?;
                match (m, n) {
                    (Val::Str(m), Val::Str(n)) => stack.push(Val::Global(format!("{m}.{n}"))),
                    _ => return Err("STACK_GLOBAL on computed names".into()),
                }
            }
            b'(' => marks.push(stack.len()),
            b't' | b'l' => {
                let m = marks.pop().ok_or("no MARK")?;
                let items = stack.split_off(m);
                stack.push(Val::Seq(items));
            }
            b')' | b']' => stack.push(Val::Seq(Vec::new())),
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                let floor = marks.last().copied().unwrap_or(0);
                if stack.len() < floor + n {
                    return Err("stack underflow".into());
                }
                let items = stack.split_off(stack.len() - n);
                stack.push(Val::Seq(items));
            }
            b'a' => {
                let v = pop(&mut stack, &marks)?;
                match stack.last_mut() {
                    Some(Val::Seq(s)) => s.push(v),
                    _ => return Err("APPEND to a non-list".into()),
                }
            }
            b'e' => {
                let m = marks.pop().ok_or("no MARK")?;
                let items = stack.split_off(m);
                match stack.last_mut() {
                    Some(Val::Seq(s)) => s.extend(items),
                    _ => return Err("APPENDS to a non-list".into()),
                }
            }
            b'q' | b'r' | b'p' | 0x94 => {
                let idx = match op {
                    b'q' => u64::from(byte(&mut pos)?),
                    b'r' => {
                        let b = take(&mut pos, 4)?;
                        u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    }
                    b'p' => {
                        let l = line(&mut pos)?;
                        String::from_utf8_lossy(&l)
                            .parse()
                            .map_err(|_| "a PUT index does not parse")?
                    }
                    _ => memo.len() as u64,
                };
                let v = stack.last().cloned().ok_or("PUT on an empty stack")?;
                memo.insert(idx, v);
            }
            b'h' | b'j' | b'g' => {
                let idx = match op {
                    b'h' => u64::from(byte(&mut pos)?),
                    b'j' => {
                        let b = take(&mut pos, 4)?;
                        u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    }
                    _ => {
                        let l = line(&mut pos)?;
                        String::from_utf8_lossy(&l)
                            .parse()
                            .map_err(|_| "a GET index does not parse")?
                    }
                };
                stack.push(
                    memo.get(&idx)
                        .cloned()
                        .ok_or("GET of an unknown memo index")?,
                );
            }
            b'.' => {
                let v = stack.pop().ok_or("STOP on an empty stack")?;
                return Ok((v, pos));
            }
            other => {
                return Err(format!(
                    "opcode 0x{other:02x} at byte {} is not a plain value",
                    pos - 1
                ));
            }
        }
    }
    Err("the pickle is too long to follow".into())
}

/// Bytes per element of a legacy storage type (`torch.FloatStorage`, …).
fn element_size(storage_type: &str) -> Option<u64> {
    let name = storage_type.rsplit('.').next().unwrap_or(storage_type);
    Some(match name {
        "DoubleStorage" | "LongStorage" | "ComplexFloatStorage" => 8,
        "FloatStorage" | "IntStorage" | "QInt32Storage" => 4,
        "HalfStorage" | "BFloat16Storage" | "ShortStorage" => 2,
        "CharStorage" | "ByteStorage" | "BoolStorage" | "QUInt8Storage" | "QInt8Storage"
        | "QUInt4x2Storage" | "QUInt2x4Storage" => 1,
        "ComplexDoubleStorage" => 16,
        _ => return None,
    })
}

fn i64_at(src: &dyn ReadAt, pos: u64) -> Result<i64, String> {
    let b = read_vec_at(src, pos, 8).map_err(|e| e.to_string())?;
    if b.len() < 8 {
        return Err("raw data is truncated".into());
    }
    let mut a = [0u8; 8];
    a.copy_from_slice(&b);
    Ok(i64::from_le_bytes(a))
}

/// Follow the `storages` (or `tensors`) member of a legacy tar checkpoint:
/// walk each pickle it holds and skip the raw data between them as torch
/// reads it.
fn legacy_records(src: &dyn ReadAt, m: &str, storages: bool, out: &mut Scanned) -> io::Result<()> {
    let size = src.size();
    let mut pos = 0u64;
    let stop = |out: &mut Scanned, at: u64, why: String| {
        out.push(
            Finding::new(
                Code::TarMalformed,
                Some(at),
                format!("cannot follow the legacy checkpoint layout: {why}; the rest of the member is not inspected"),
            )
            .in_member(m),
            "",
        );
    };
    // Each pickle: its value (for the layout) and a strict walk of exactly
    // its bytes (for what it imports).
    let next = |pos: &mut u64, out: &mut Scanned| -> io::Result<Result<Val, String>> {
        let start = *pos;
        match plain_value(src, start) {
            Ok((v, end)) => {
                walk_member(src, start, end, m, out)?;
                *pos = end;
                Ok(Ok(v))
            }
            Err(why) => {
                // Walk the rest as pickles so what they import is reported.
                walk_member(src, start, size, m, out)?;
                Ok(Err(why))
            }
        }
    };
    let count = match next(&mut pos, out)? {
        Ok(Val::Int(n)) if n >= 0 && (n as u64) <= MAX_RECORDS => n as u64,
        Ok(v) => {
            stop(out, 0, format!("the record count is {v:?}, not a count"));
            return Ok(());
        }
        Err(why) => {
            stop(out, 0, why);
            return Ok(());
        }
    };
    for _ in 0..count {
        let at = pos;
        let args = match next(&mut pos, out)? {
            Ok(v) => v,
            Err(why) => {
                stop(out, at, why);
                return Ok(());
            }
        };
        if storages {
            let ty = match &args {
                Val::Seq(items) if items.len() == 3 => match &items[2] {
                    Val::Global(g) => g.clone(),
                    _ => String::new(),
                },
                _ => String::new(),
            };
            let Some(es) = element_size(&ty) else {
                stop(
                    out,
                    at,
                    format!(
                        "storage type `{}` has no known element size",
                        pickle::printable(&ty)
                    ),
                );
                return Ok(());
            };
            let numel = match i64_at(src, pos) {
                Ok(n) if n >= 0 => n as u64,
                Ok(n) => {
                    stop(out, pos, format!("a storage of {n} elements"));
                    return Ok(());
                }
                Err(why) => {
                    stop(out, pos, why);
                    return Ok(());
                }
            };
            let bytes = numel.checked_mul(es).and_then(|b| b.checked_add(8));
            match bytes
                .and_then(|b| pos.checked_add(b))
                .filter(|&e| e <= size)
            {
                Some(e) => pos = e,
                None => {
                    stop(
                        out,
                        pos,
                        format!("storage data of {numel} elements runs past the member"),
                    );
                    return Ok(());
                }
            }
        } else {
            let b = read_vec_at(src, pos, 4)?;
            if b.len() < 4 {
                stop(out, pos, "tensor header is truncated".into());
                return Ok(());
            }
            let ndim = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let Some(e) = u64::try_from(ndim)
                .ok()
                .filter(|&n| n <= 1024)
                .map(|n| pos + 8 + 16 * n + 8)
                .filter(|&e| e <= size)
            else {
                stop(out, pos, format!("tensor header with {ndim} dimensions"));
                return Ok(());
            };
            pos = e;
        }
    }
    if storages {
        let at = pos;
        if let Err(why) = next(&mut pos, out)? {
            stop(out, at, why);
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, size: usize, typeflag: u8) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[156] = typeflag;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    pub(crate) fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in members {
            out.extend(header(name, data.len(), b'0'));
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        out.extend(vec![0u8; 1024]);
        out
    }

    #[test]
    fn members_and_pax() {
        let t = tar(&[("a", b"hello"), ("b/c", b"x")]);
        let (m, f) = read(&t).expect("io").expect("tar");
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].size, 5);
        assert_eq!(
            read_vec_at(&t, m[0].data_offset, 5).expect("read"),
            b"hello"
        );
        // A PAX header renames the next member.
        let rec = b"13 path=evil\n";
        let mut p = header("././@PaxHeader", rec.len(), b'x');
        p.extend_from_slice(rec);
        p.resize(1024, 0);
        p.extend(tar(&[("pickle", b"x")]));
        let (m, f) = read(&p).expect("io").expect("tar");
        assert_eq!(m[0].name, "evil");
        assert!(f.iter().any(|f| f.code == Code::TarAmbiguous));
        assert!(read(&vec![0u8; 1024]).expect("io").is_err());
    }

    #[test]
    fn plain_values() {
        let (v, end) = plain_value(&b"\x80\x02K\x03.rest".to_vec(), 0).expect("value");
        assert_eq!(v, Val::Int(3));
        assert_eq!(end, 5);
        let p = b"\x80\x02X\x01\x00\x00\x000q\x00X\x03\x00\x00\x00cpuq\x01ctorch\nFloatStorage\nq\x02\x87q\x03.";
        let (v, _) = plain_value(&p.to_vec(), 0).expect("value");
        assert_eq!(
            v,
            Val::Seq(vec![
                Val::Str("0".into()),
                Val::Str("cpu".into()),
                Val::Global("torch.FloatStorage".into())
            ])
        );
        assert!(plain_value(&b"\x80\x02cos\nsystem\nR.".to_vec(), 0).is_err());
    }
}
