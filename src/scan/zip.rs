//! A lenient zip reader that sees every member any common reader would.
//!
//! `torch.load` reads checkpoints with miniz through the central directory;
//! Python's `zipfile` (NumPy's `np.load`, Keras) does too, but adjusts
//! offsets for data prepended to the archive; streaming readers walk the
//! local headers one after another. Scanners have been bypassed by archives
//! on which these disagree, or which a strict reader refuses (a CRC
//! mismatch, a flag bit, a local name that differs from the central one).
//!
//! This reader therefore never refuses on those grounds. It reads the
//! central directory (trying the offsets as written and as adjusted for a
//! prefix), then walks the local headers from the start, and returns the
//! union: every member either family of readers would load. Anything on
//! which readers disagree is reported (`S0202`), and nothing is hidden by
//! it. CRCs are not checked (torch does not either), so a member is read
//! exactly as the loader would read it.
//!
//! Every count and length is bounded by the file's size before anything is
//! allocated.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};

use super::finding::{Code, Finding};
use super::source::{Inflater, RangeReader, ReadAt, read_exact_at, read_vec_at};

const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;

/// At most this many members are read; more is a finding.
pub const MAX_ENTRIES: usize = 1_000_000;
/// A central directory larger than this is not read.
const MAX_CENTRAL: u64 = 256 * 1024 * 1024;
/// A member never inflates to more than this while being scanned.
pub const MAX_INFLATE: u64 = 4 * 1024 * 1024 * 1024;
/// At most this many bytes of member names in total.
const MAX_NAME_BYTES: usize = 64 * 1024 * 1024;

/// One member, as the loader would read it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The member name (the central directory's, or the local header's for
    /// a member only local headers show).
    pub name: String,
    pub method: u16,
    pub flags: u16,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    /// Offset of the member's data in the source.
    pub data_offset: u64,
    /// Offset of the member's local header.
    pub header_offset: u64,
    /// Seen only by a reader walking local headers.
    pub local_only: bool,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.name.ends_with('/') && self.uncompressed_size == 0
    }

    pub fn encrypted(&self) -> bool {
        self.flags & 1 != 0
    }

    /// How many bytes of data a loader reads: for a stored member, torch
    /// (miniz) reads the uncompressed size and zipfile the compressed one,
    /// so the longer of the two; otherwise the compressed size.
    pub fn read_len(&self) -> u64 {
        if self.method == 0 {
            self.compressed_size.max(self.uncompressed_size)
        } else {
            self.compressed_size
        }
    }
}

/// What [`read`] found.
#[derive(Debug, Default)]
pub struct Archive {
    pub entries: Vec<Entry>,
    pub findings: Vec<Finding>,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(a)
}

/// Whether the source ends with a zip end-of-central-directory record.
pub fn find_eocd(src: &dyn ReadAt) -> io::Result<Option<(u64, Vec<u8>)>> {
    let size = src.size();
    if size < 22 {
        return Ok(None);
    }
    let tail_len = size.min(22 + 65535);
    let start = size - tail_len;
    let tail = read_vec_at(src, start, tail_len as usize)?;
    let mut i = tail.len() - 22;
    loop {
        if u32_at(&tail, i) == EOCD_SIG {
            return Ok(Some((start + i as u64, tail[i..i + 22].to_vec())));
        }
        if i == 0 {
            return Ok(None);
        }
        i -= 1;
    }
}

/// Read an archive. `Err` holds a finding when no member can be found at
/// all (no end record and no local header).
pub fn read(src: &dyn ReadAt) -> Result<Archive, Finding> {
    let mut ar = Archive::default();
    let io = |e: io::Error| {
        Finding::new(
            Code::ZipMalformed,
            None,
            format!("cannot read the archive: {e}"),
        )
    };
    let mut central: Vec<Entry> = Vec::new();
    let local = walk_local(src).map_err(io)?;
    let known_local: HashMap<u64, (u64, &str)> = local
        .iter()
        .map(|l| (l.header_offset, (l.data_offset, l.name.as_str())))
        .collect();
    // Where the central directory and end records start (to the end of
    // the data): never a place for a hidden member.
    let mut tail_from = src.size();
    match find_eocd(src).map_err(io)? {
        Some((eocd_pos, eocd)) => {
            tail_from = eocd_pos;
            match read_central(src, eocd_pos, &eocd, &known_local, &mut ar.findings) {
                Ok((c, cd_start)) => {
                    central = c;
                    tail_from = tail_from.min(cd_start);
                }
                Err(f) => ar.findings.push(f),
            }
        }
        None => ar.findings.push(Finding::new(
            Code::ZipMalformed,
            None,
            "no end-of-central-directory record: readers using the central directory (torch, zipfile) cannot open it",
        )),
    }
    // Union: central entries, plus local-only ones.
    let known: HashMap<u64, usize> = central
        .iter()
        .enumerate()
        .map(|(i, e)| (e.header_offset, i))
        .collect();
    for l in local {
        match known.get(&l.header_offset) {
            Some(&i) => {
                let c = &central[i];
                if l.flags & 8 == 0
                    && (l.compressed_size != c.compressed_size
                        || l.uncompressed_size != c.uncompressed_size)
                {
                    ar.findings.push(
                        Finding::new(
                            Code::ZipAmbiguous,
                            Some(l.header_offset),
                            format!(
                                "the local header gives sizes {}/{} and the central directory {}/{}: streaming and central-directory readers read different bytes",
                                l.compressed_size, l.uncompressed_size, c.compressed_size, c.uncompressed_size
                            ),
                        )
                        .in_member(&c.name),
                    );
                }
                if c.name != l.name {
                    ar.findings.push(
                        Finding::new(
                            Code::ZipAmbiguous,
                            Some(l.header_offset),
                            format!(
                                "member is named `{}` in the central directory but `{}` in its local header",
                                c.name, l.name
                            ),
                        )
                        .in_member(&c.name),
                    );
                }
            }
            None => {
                ar.findings.push(
                    Finding::new(
                        Code::ZipAmbiguous,
                        Some(l.header_offset),
                        "member appears only in a local header: streaming readers see it, central-directory readers do not",
                    )
                    .in_member(&l.name),
                );
                central.push(l);
            }
        }
    }
    if central.is_empty() && ar.findings.iter().any(|f| f.code == Code::ZipMalformed) {
        let mut f = ar.findings.remove(
            ar.findings
                .iter()
                .position(|f| f.code == Code::ZipMalformed)
                .unwrap_or(0),
        );
        f.reason.push_str("; no member could be found");
        return Err(f);
    }
    // Duplicate names: which one a reader loads depends on the reader.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &central {
        *seen.entry(e.name.as_str()).or_default() += 1;
    }
    for (name, n) in seen {
        if n > 1 {
            ar.findings.push(
                Finding::new(
                    Code::ZipAmbiguous,
                    None,
                    format!("{n} members share this name; readers differ on which one they load"),
                )
                .in_member(name),
            );
        }
    }
    // Stored members whose two sizes differ: miniz (torch) reads the
    // uncompressed size, zipfile the compressed one.
    for e in &central {
        if e.method == 0 && e.compressed_size != e.uncompressed_size {
            ar.findings.push(
                Finding::new(
                    Code::ZipAmbiguous,
                    Some(e.header_offset),
                    format!(
                        "stored member with compressed size {} but uncompressed size {}: torch reads {} bytes, zipfile {}",
                        e.compressed_size, e.uncompressed_size, e.uncompressed_size, e.compressed_size
                    ),
                )
                .in_member(&e.name),
            );
        }
    }
    // Local headers in bytes that no member, nor the directory, covers: a
    // size field may have been crafted to skip over them.
    hidden_members(src, &mut central, tail_from, &mut ar.findings).map_err(io)?;
    // Overlapping data (several entries on the same bytes).
    let mut ranges: Vec<(u64, u64, &str)> = central
        .iter()
        .filter(|e| e.read_len() > 0)
        .map(|e| {
            (
                e.data_offset,
                e.data_offset.saturating_add(e.read_len()),
                e.name.as_str(),
            )
        })
        .collect();
    ranges.sort();
    if let Some(w) = ranges.windows(2).find(|w| w[1].0 < w[0].1) {
        ar.findings.push(
            Finding::new(
                Code::ZipAmbiguous,
                Some(w[1].0),
                format!("member data overlaps member `{}`", w[0].2),
            )
            .in_member(w[1].2),
        );
    }
    ar.entries = central;
    Ok(ar)
}

fn read_central(
    src: &dyn ReadAt,
    eocd_pos: u64,
    eocd: &[u8],
    known_local: &HashMap<u64, (u64, &str)>,
    findings: &mut Vec<Finding>,
) -> Result<(Vec<Entry>, u64), Finding> {
    let malformed = |msg: String| Finding::new(Code::ZipMalformed, Some(eocd_pos), msg);
    let size = src.size();
    let mut count = u64::from(u16_at(eocd, 10));
    let mut cd_size = u64::from(u32_at(eocd, 12));
    let mut cd_offset = u64::from(u32_at(eocd, 16));
    let mut end_of_cd = eocd_pos;
    // Zip64: a locator just before the end record.
    if eocd_pos >= 20 {
        let mut loc = [0u8; 20];
        if read_exact_at(src, eocd_pos - 20, &mut loc).is_ok()
            && u32_at(&loc, 0) == ZIP64_LOCATOR_SIG
        {
            let z_off = u64_at(&loc, 8);
            // The zip64 end record sits right before the locator; its
            // recorded offset may be shifted by a prefix.
            let mut candidates = vec![z_off];
            if eocd_pos >= 20 + 56 {
                candidates.push(eocd_pos - 20 - 56);
            }
            let mut found = false;
            for c in candidates {
                let mut z = [0u8; 56];
                if read_exact_at(src, c, &mut z).is_ok() && u32_at(&z, 0) == ZIP64_EOCD_SIG {
                    count = u64_at(&z, 32);
                    cd_size = u64_at(&z, 40);
                    cd_offset = u64_at(&z, 48);
                    end_of_cd = c;
                    found = true;
                    break;
                }
            }
            if !found {
                return Err(malformed(
                    "zip64 locator points at no zip64 end record".into(),
                ));
            }
        }
    }
    if cd_size > MAX_CENTRAL {
        return Err(malformed(format!(
            "central directory of {cd_size} bytes is too large to inspect"
        )));
    }
    if cd_size > size {
        return Err(malformed(format!(
            "central directory claims {cd_size} bytes, more than the file's {size}"
        )));
    }
    // Each central entry takes at least 46 bytes.
    if count > cd_size / 46 + 1 || count > MAX_ENTRIES as u64 {
        return Err(malformed(format!(
            "central directory claims {count} members in {cd_size} bytes"
        )));
    }
    // Where the directory starts: as written (miniz), or shifted by data
    // prepended to the archive (zipfile's `concat`).
    let shifted = end_of_cd.saturating_sub(cd_size);
    let concat = shifted.saturating_sub(cd_offset);
    let sig_at = |off: u64| -> bool {
        let mut b = [0u8; 4];
        read_exact_at(src, off, &mut b).is_ok() && u32::from_le_bytes(b) == CENTRAL_SIG
    };
    let (start, delta) = if count == 0 || sig_at(cd_offset) {
        (cd_offset, 0)
    } else if concat > 0 && sig_at(cd_offset + concat) {
        (cd_offset + concat, concat)
    } else {
        return Err(malformed(format!(
            "no central directory at offset {cd_offset} (nor at {})",
            cd_offset + concat
        )));
    };
    if concat > 0 {
        findings.push(Finding::new(
            Code::ZipAmbiguous,
            Some(0),
            format!(
                "{concat} bytes of other data before the archive: readers that adjust offsets and readers that do not see different archives"
            ),
        ));
    }
    let cd = read_vec_at(src, start, usize::try_from(cd_size).unwrap_or(usize::MAX))
        .map_err(|e| malformed(format!("cannot read the central directory: {e}")))?;
    let mut entries = Vec::new();
    let mut p = 0usize;
    let mut name_bytes = 0usize;
    for i in 0..count {
        if p + 46 > cd.len() || u32_at(&cd, p) != CENTRAL_SIG {
            findings.push(malformed(format!(
                "central directory entry {i} of {count} is missing or broken"
            )));
            break;
        }
        let flags = u16_at(&cd, p + 8);
        let method = u16_at(&cd, p + 10);
        let mut csize = u64::from(u32_at(&cd, p + 20));
        let mut usize_ = u64::from(u32_at(&cd, p + 24));
        let nlen = usize::from(u16_at(&cd, p + 28));
        let xlen = usize::from(u16_at(&cd, p + 30));
        let clen = usize::from(u16_at(&cd, p + 32));
        let mut lho = u64::from(u32_at(&cd, p + 42));
        let end = p + 46 + nlen + xlen + clen;
        if end > cd.len() {
            findings.push(malformed(format!(
                "central directory entry {i} runs past the directory"
            )));
            break;
        }
        name_bytes += nlen;
        if name_bytes > MAX_NAME_BYTES {
            findings.push(malformed("member names exceed 64 MiB in total".into()));
            break;
        }
        let name = String::from_utf8_lossy(&cd[p + 46..p + 46 + nlen]).into_owned();
        // Zip64 extra field: the sizes and offset that are 0xFFFFFFFF.
        let mut x = p + 46 + nlen;
        let xend = x + xlen;
        while x + 4 <= xend {
            let id = u16_at(&cd, x);
            let len = usize::from(u16_at(&cd, x + 2));
            let body = x + 4;
            if body + len > xend {
                break;
            }
            if id == 1 {
                let mut q = body;
                let mut take = |v: &mut u64| {
                    if *v == 0xFFFF_FFFF && q + 8 <= body + len {
                        *v = u64_at(&cd, q);
                        q += 8;
                    }
                };
                take(&mut usize_);
                take(&mut csize);
                take(&mut lho);
            }
            x = body + len;
        }
        let header_offset = lho.saturating_add(delta);
        let found = match known_local.get(&header_offset) {
            Some(&(data_offset, name)) => Ok((data_offset, name.to_string())),
            None => local_data_offset(src, header_offset),
        };
        match found {
            Ok((data_offset, _local_name)) => entries.push(Entry {
                name,
                method,
                flags,
                compressed_size: csize,
                uncompressed_size: usize_,
                data_offset,
                header_offset,
                local_only: false,
            }),
            Err(why) => findings
                .push(Finding::new(Code::ZipMalformed, Some(header_offset), why).in_member(&name)),
        }
        p = end;
    }
    Ok((entries, start))
}

/// Find local headers in the gaps between members (and before the
/// directory) and add them as members only local headers show.
fn hidden_members(
    src: &dyn ReadAt,
    entries: &mut Vec<Entry>,
    tail_from: u64,
    findings: &mut Vec<Finding>,
) -> io::Result<()> {
    let size = src.size();
    let mut covered: Vec<(u64, u64)> = entries
        .iter()
        .map(|e| {
            (
                e.header_offset,
                e.data_offset.saturating_add(e.read_len()).min(size),
            )
        })
        .collect();
    covered.push((tail_from, size));
    covered.sort();
    let mut gaps = Vec::new();
    let mut at = 0u64;
    for (a, b) in covered {
        if a > at {
            gaps.push((at, a));
        }
        at = at.max(b);
    }
    if at < size {
        gaps.push((at, size));
    }
    const CHUNK: u64 = 4 * 1024 * 1024;
    let mut found = Vec::new();
    for (a, b) in gaps {
        let mut off = a;
        while off + 30 <= b && entries.len() + found.len() < MAX_ENTRIES {
            let len = (b - off).min(CHUNK + 3);
            let buf = read_vec_at(src, off, len as usize)?;
            for i in memchr::memmem::find_iter(&buf, b"PK\x03\x04") {
                let o = off + i as u64;
                if o + 30 > b || i as u64 >= CHUNK {
                    continue;
                }
                if let Some(e) = local_entry(src, o)? {
                    found.push(e);
                }
            }
            off += CHUNK;
        }
    }
    for e in found {
        findings.push(
            Finding::new(
                Code::ZipAmbiguous,
                Some(e.header_offset),
                "a local header lies in bytes that no member covers (a size field skips over it): some readers see this member",
            )
            .in_member(&e.name),
        );
        entries.push(e);
    }
    Ok(())
}

/// The local header at `off` as a member, if it is a plausible one.
fn local_entry(src: &dyn ReadAt, off: u64) -> io::Result<Option<Entry>> {
    let Some(local) = read_local(src, off)? else {
        return Ok(None);
    };
    let h = &local.fixed;
    let flags = u16_at(h, 6);
    let method = u16_at(h, 8);
    let csize = u64::from(u32_at(h, 18));
    let usize_ = u64::from(u32_at(h, 22));
    let data_offset = off + 30 + local.name.len() as u64 + local.extra.len() as u64;
    if local.name.is_empty() || data_offset.saturating_add(csize) > src.size() {
        return Ok(None);
    }
    Ok(Some(Entry {
        name: String::from_utf8_lossy(&local.name).into_owned(),
        method,
        flags,
        compressed_size: csize,
        uncompressed_size: usize_,
        data_offset,
        header_offset: off,
        local_only: true,
    }))
}

/// A local header: its fixed 30 bytes, name and extra field.
struct Local {
    fixed: [u8; 30],
    name: Vec<u8>,
    extra: Vec<u8>,
}

/// Read the local header at `off` (usually in one read), or `None` when
/// there is no local header signature there.
fn read_local(src: &dyn ReadAt, off: u64) -> io::Result<Option<Local>> {
    let head = read_vec_at(src, off, 30 + 480)?;
    if head.len() < 30 || u32_at(&head, 0) != LOCAL_SIG {
        return Ok(None);
    }
    let mut fixed = [0u8; 30];
    fixed.copy_from_slice(&head[..30]);
    let nlen = usize::from(u16_at(&fixed, 26));
    let xlen = usize::from(u16_at(&fixed, 28));
    let var = if head.len() >= 30 + nlen + xlen {
        head[30..30 + nlen + xlen].to_vec()
    } else {
        read_vec_at(src, off + 30, nlen + xlen)?
    };
    let split = nlen.min(var.len());
    Ok(Some(Local {
        fixed,
        name: var[..split].to_vec(),
        extra: var[split..].to_vec(),
    }))
}

/// The data offset and name of the local header at `off`.
fn local_data_offset(src: &dyn ReadAt, off: u64) -> Result<(u64, String), String> {
    match read_local(src, off) {
        Ok(Some(l)) => Ok((
            off + 30 + l.name.len() as u64 + l.extra.len() as u64,
            String::from_utf8_lossy(&l.name).into_owned(),
        )),
        Ok(None) => Err(format!("no local header at offset {off}")),
        Err(e) => Err(format!("cannot read the local header at offset {off}: {e}")),
    }
}

/// Walk local headers from the start of the data, as a streaming reader
/// does, until something that is not a local header.
fn walk_local(src: &dyn ReadAt) -> io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut off = 0u64;
    let size = src.size();
    while out.len() < MAX_ENTRIES {
        let Some(local) = read_local(src, off)? else {
            break;
        };
        let h = &local.fixed;
        let flags = u16_at(h, 6);
        let method = u16_at(h, 8);
        let mut csize = u64::from(u32_at(h, 18));
        let mut usize_ = u64::from(u32_at(h, 22));
        let (name, extra) = (local.name, local.extra);
        let (nlen, xlen) = (name.len() as u64, extra.len() as u64);
        let mut x = 0usize;
        while x + 4 <= extra.len() {
            let id = u16_at(&extra, x);
            let len = usize::from(u16_at(&extra, x + 2));
            if x + 4 + len > extra.len() {
                break;
            }
            if id == 1 && len >= 16 {
                usize_ = u64_at(&extra, x + 4);
                csize = u64_at(&extra, x + 12);
            }
            x += 4 + len;
        }
        let data_offset = off + 30 + nlen + xlen;
        if flags & 8 != 0 && csize == 0 {
            // Sizes follow the data in a descriptor: a streaming reader
            // would have to inflate to find the end. Stop here; the central
            // directory covers such members.
            break;
        }
        let Some(next) = data_offset.checked_add(csize).filter(|&n| n <= size) else {
            break;
        };
        out.push(Entry {
            name: String::from_utf8_lossy(&name).into_owned(),
            method,
            flags,
            compressed_size: csize,
            uncompressed_size: usize_,
            data_offset,
            header_offset: off,
            local_only: true,
        });
        off = next;
        // Skip a data descriptor if there is one.
        let mut d = [0u8; 4];
        if flags & 8 != 0
            && read_exact_at(src, off, &mut d).is_ok()
            && u32::from_le_bytes(d) == 0x0807_4b50
        {
            off += 16;
        }
    }
    Ok(out)
}

/// A reader over a member's (uncompressed) content. Deflate output is
/// limited to the declared size, plus a little slack for sizes written as 0.
pub fn open_entry<'a>(src: &'a dyn ReadAt, e: &Entry) -> Result<Box<dyn Read + 'a>, String> {
    let raw = RangeReader::new(src, e.data_offset, e.read_len());
    match e.method {
        0 => Ok(Box::new(raw)),
        8 => {
            let limit = if e.uncompressed_size == 0 {
                e.compressed_size.saturating_mul(1032)
            } else {
                e.uncompressed_size
            }
            .min(MAX_INFLATE);
            Ok(Box::new(Inflater::new(raw, limit)))
        }
        m => Err(format!(
            "compression method {m} ({}) cannot be inspected",
            match m {
                12 => "bzip2",
                14 => "lzma",
                93 => "zstd",
                95 => "xz",
                _ => "unknown",
            }
        )),
    }
}

/// Up to `n` leading bytes of a member's content.
pub fn head(src: &dyn ReadAt, e: &Entry, n: usize) -> Result<Vec<u8>, String> {
    let r = open_entry(src, e)?;
    let mut v = Vec::with_capacity(n);
    r.take(n as u64)
        .read_to_end(&mut v)
        .map_err(|err| format!("cannot read: {err}"))?;
    Ok(v)
}

/// A member's whole content, if it is at most `max` bytes.
pub fn read_all(src: &dyn ReadAt, e: &Entry, max: u64) -> Result<Vec<u8>, String> {
    if e.uncompressed_size > max || (e.method == 0 && e.read_len() > max) {
        return Err(format!("member is larger than {max} bytes"));
    }
    let r = open_entry(src, e)?;
    let mut v = Vec::new();
    r.take(max + 1)
        .read_to_end(&mut v)
        .map_err(|err| format!("cannot read: {err}"))?;
    if v.len() as u64 > max {
        return Err(format!("member is larger than {max} bytes"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal stored zip writer for tests.
    pub(crate) fn make_zip(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut cd = Vec::new();
        for (name, data) in members {
            let off = out.len() as u32;
            out.extend_from_slice(&LOCAL_SIG.to_le_bytes());
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            cd.extend_from_slice(&CENTRAL_SIG.to_le_bytes());
            cd.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            cd.extend_from_slice(&0u32.to_le_bytes());
            cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
            cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
            cd.extend_from_slice(&(name.len() as u16).to_le_bytes());
            cd.extend_from_slice(&[0; 8]);
            cd.extend_from_slice(&[0; 4]);
            cd.extend_from_slice(&off.to_le_bytes());
            cd.extend_from_slice(name.as_bytes());
        }
        let cd_off = out.len() as u32;
        out.extend_from_slice(&cd);
        out.extend_from_slice(&EOCD_SIG.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_off.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    #[test]
    fn reads_members() {
        let z = make_zip(&[("a/data.pkl", b"\x80\x02N."), ("a/data/0", b"\0\0\0\0")]);
        let ar = read(&z).expect("zip");
        assert!(ar.findings.is_empty(), "{:?}", ar.findings);
        assert_eq!(ar.entries.len(), 2);
        assert_eq!(head(&z, &ar.entries[0], 4).expect("head"), b"\x80\x02N.");
    }

    #[test]
    fn prefix_and_name_mismatch_are_seen() {
        let z = make_zip(&[("a/data.pkl", b"\x80\x02N.")]);
        let mut p = b"JUNKJUNK".to_vec();
        p.extend_from_slice(&z);
        let ar = read(&p).expect("zip");
        assert_eq!(ar.entries.len(), 1);
        assert!(ar.findings.iter().any(|f| f.code == Code::ZipAmbiguous));
        // Rename in the local header only.
        let mut m = z.clone();
        m[30] = b'b';
        let ar = read(&m).expect("zip");
        assert!(
            ar.findings
                .iter()
                .any(|f| f.reason.contains("local header")),
            "{:?}",
            ar.findings
        );
    }

    #[test]
    fn local_only_member_is_found() {
        let z = make_zip(&[("x", b"hello")]);
        // Drop the end record and directory: only the local header remains.
        let local_len = 30 + 1 + 5;
        let ar = read(&z[..local_len].to_vec()).expect("zip");
        assert_eq!(ar.entries.len(), 1);
        assert!(ar.entries[0].local_only);
    }

    #[test]
    fn lying_counts_do_not_allocate() {
        let mut z = make_zip(&[("x", b"hello")]);
        let n = z.len();
        // count = 65535, cd size = 0xFFFFFFF0
        z[n - 12..n - 10].copy_from_slice(&0xFFFFu16.to_le_bytes());
        z[n - 10..n - 6].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        let ar = read(&z).expect("local walk still finds it");
        assert!(ar.findings.iter().any(|f| f.code == Code::ZipMalformed));
        assert_eq!(ar.entries.len(), 1);
    }
}
