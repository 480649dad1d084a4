//! Compressed streams that loaders decompress transparently, whatever the
//! file is called: `joblib.load` routes on the first bytes (zlib `x`, gzip,
//! bz2, lzma `5D 00`, xz, lz4), Python's `lzma.LZMAFile` takes xz and the
//! legacy "alone" format, `gzip`/`bz2` read concatenated members. The
//! scanner decompresses the same way and scans the result as a file.
//!
//! Decompression is bounded (see [`Limits`]): at most
//! [`MAX_DECOMPRESSED`] bytes per file for all streams together, no more
//! than [`MAX_RATIO`] times the compressed size once past
//! [`IN_MEMORY`], and liblzma's decoder memory at [`XZ_MEMLIMIT`]. Output
//! up to [`IN_MEMORY`] is kept in memory; beyond it, in an anonymous
//! temporary file (unlinked at creation, so nothing is left behind). A
//! stream that exceeds a limit is a finding (`S0802`) naming the limit,
//! and what was decompressed up to it is still scanned.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, Write};

use super::detect::Compression;
use super::source::{RangeReader, ReadAt, read_exact_at};

/// Decompressed bytes kept in memory before spilling to a temporary file.
pub const IN_MEMORY: u64 = 64 * 1024 * 1024;
/// All decompressed output of one scanned file (every nested stream).
pub const MAX_DECOMPRESSED: u64 = 4 * 1024 * 1024 * 1024;
/// Past [`RATIO_AFTER`], output may not exceed this many times the input.
/// Deflate cannot exceed 1032:1, so only bz2/xz streams of nearly constant
/// data reach it.
pub const MAX_RATIO: u64 = 1032;
/// Output up to this size may have any ratio.
pub const RATIO_AFTER: u64 = 8 * 1024 * 1024;
/// liblzma's decoder memory limit (dictionary and state).
pub const XZ_MEMLIMIT: u64 = 512 * 1024 * 1024;

/// The remaining decompression budget of one scanned file, and the limits
/// that apply to it.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub left: u64,
    pub in_memory: u64,
    pub ratio: u64,
    pub ratio_after: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            left: MAX_DECOMPRESSED,
            in_memory: IN_MEMORY,
            ratio: MAX_RATIO,
            ratio_after: RATIO_AFTER,
        }
    }
}

/// Decompressed content, random access.
pub enum Data {
    Mem(Vec<u8>),
    File(TempSource),
}

impl Data {
    pub fn as_source(&self) -> &dyn ReadAt {
        match self {
            Data::Mem(v) => v,
            Data::File(f) => f,
        }
    }
}

/// An anonymous temporary file read at offsets.
pub struct TempSource {
    file: File,
    size: u64,
}

impl ReadAt for TempSource {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.size - offset).unwrap_or(usize::MAX));
        pread(&self.file, &mut buf[..want], offset)
    }
}

#[cfg(unix)]
fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

#[cfg(windows)]
fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::windows::fs::FileExt;
    file.seek_read(buf, offset)
}

/// What decompressing a stream gave.
pub struct Output {
    pub data: Data,
    /// The stream decoded to its end without error.
    pub complete: bool,
    /// Why decoding stopped early (corrupt data).
    pub error: Option<String>,
    /// Which limit stopped it.
    pub limit: Option<String>,
}

/// A decoder over the source for one compression format.
fn decoder<'a>(
    kind: Compression,
    raw: BufReader<RangeReader<'a>>,
) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match kind {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(raw)),
        Compression::Zlib => Box::new(ZlibChain {
            inner: Some(flate2::bufread::ZlibDecoder::new(raw)),
        }),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(raw)),
        Compression::Xz | Compression::Lzma => {
            let stream = liblzma::stream::Stream::new_auto_decoder(
                XZ_MEMLIMIT,
                liblzma::stream::CONCATENATED,
            )
            .map_err(io::Error::other)?;
            Box::new(liblzma::bufread::XzDecoder::new_stream(raw, stream))
        }
        Compression::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(raw)),
    })
}

/// Consecutive zlib streams, as joblib's `BinaryZlibFile` reads them (a new
/// decompressor on the bytes after each stream's end).
struct ZlibChain<'a> {
    inner: Option<flate2::bufread::ZlibDecoder<BufReader<RangeReader<'a>>>>,
}

impl Read for ZlibChain<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(d) = self.inner.as_mut() else {
                return Ok(0);
            };
            let n = d.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // End of one stream: another one follows only if the next bytes
            // are a zlib header.
            let Some(d) = self.inner.take() else {
                return Ok(0);
            };
            let mut raw = d.into_inner();
            let next = raw.fill_buf()?;
            if next.len() >= 2 && super::detect::compression(next) == Some(Compression::Zlib) {
                self.inner = Some(flate2::bufread::ZlibDecoder::new(raw));
            } else {
                return Ok(0);
            }
        }
    }
}

/// Decompress `src` as `kind`, within `budget`.
pub fn decompress(src: &dyn ReadAt, kind: Compression, budget: &mut Budget) -> io::Result<Output> {
    let size = src.size();
    let raw = BufReader::with_capacity(64 * 1024, RangeReader::new(src, 0, size));
    match decoder(kind, raw) {
        Ok(d) => materialize(d, size, budget),
        Err(e) => Ok(Output {
            data: Data::Mem(Vec::new()),
            complete: false,
            error: Some(e.to_string()),
            limit: None,
        }),
    }
}

/// Read a decoder's output into memory (then a temporary file) within
/// `budget`; `input_len` is the compressed size the ratio limit is
/// measured against.
pub fn materialize(
    mut dec: Box<dyn Read + '_>,
    input_len: u64,
    budget: &mut Budget,
) -> io::Result<Output> {
    let size = input_len;
    let mut out = Output {
        data: Data::Mem(Vec::new()),
        complete: false,
        error: None,
        limit: None,
    };
    let mut mem: Vec<u8> = Vec::new();
    let mut spill: Option<File> = None;
    let mut total = 0u64;
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        let n = match dec.read(&mut chunk) {
            Ok(0) => {
                out.complete = true;
                break;
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        };
        let mut n = n as u64;
        if n > budget.left {
            n = budget.left;
            out.limit = Some(format!(
                "decompresses to more than {} (the scanner's limit for all compressed data in one file)",
                human(MAX_DECOMPRESSED)
            ));
        }
        let next = total + n;
        if next > budget.ratio_after && next > size.saturating_mul(budget.ratio) {
            out.limit = Some(format!(
                "expands more than {} times its compressed size ({}) beyond the first {} (a decompression bomb)",
                budget.ratio,
                human(size),
                human(budget.ratio_after)
            ));
        }
        let take = usize::try_from(n).unwrap_or(usize::MAX).min(chunk.len());
        match spill.as_mut() {
            Some(f) => f.write_all(&chunk[..take])?,
            None if next > budget.in_memory => {
                let mut f = tempfile::tempfile()?;
                f.write_all(&mem)?;
                f.write_all(&chunk[..take])?;
                mem = Vec::new();
                spill = Some(f);
            }
            None => mem.extend_from_slice(&chunk[..take]),
        }
        total = next;
        budget.left -= n;
        if out.limit.is_some() {
            break;
        }
    }
    out.data = match spill {
        Some(mut f) => {
            f.flush()?;
            f.rewind()?;
            Data::File(TempSource {
                file: f,
                size: total,
            })
        }
        None => Data::Mem(mem),
    };
    Ok(out)
}

/// Whether `src` starts with the magic of a compressed stream (re-checked
/// on the full header, not just the sniffed bytes).
pub fn sniff(src: &dyn ReadAt) -> Option<Compression> {
    let mut head = [0u8; 16];
    let n = src.size().min(16) as usize;
    read_exact_at(src, 0, &mut head[..n]).ok()?;
    super::detect::compression(&head[..n])
}

/// `1.5 GiB` style sizes for messages.
pub fn human(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (u, s) in UNITS {
        if n >= s {
            let v = n as f64 / s as f64;
            return if v.fract() == 0.0 {
                format!("{v:.0} {u}")
            } else {
                format!("{v:.1} {u}")
            };
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn all(kind: Compression, data: &[u8]) -> Output {
        decompress(&data.to_vec(), kind, &mut Budget::default()).expect("io")
    }

    fn bytes(o: &Output) -> Vec<u8> {
        let s = o.data.as_source();
        super::super::source::read_vec_at(s, 0, s.size() as usize).expect("read")
    }

    #[test]
    fn every_format_roundtrips() {
        let raw = b"\x80\x02}q\x00.".repeat(50);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&raw).expect("gz");
        let gz = gz.finish().expect("gz");
        let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zl.write_all(&raw).expect("zlib");
        let zl = zl.finish().expect("zlib");
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        bz.write_all(&raw).expect("bz");
        let bz = bz.finish().expect("bz");
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
        xz.write_all(&raw).expect("xz");
        let xz = xz.finish().expect("xz");
        let mut lz = lz4_flex::frame::FrameEncoder::new(Vec::new());
        lz.write_all(&raw).expect("lz4");
        let lz = lz.finish().expect("lz4");
        for (kind, data) in [
            (Compression::Gzip, &gz),
            (Compression::Zlib, &zl),
            (Compression::Bzip2, &bz),
            (Compression::Xz, &xz),
            (Compression::Lz4, &lz),
        ] {
            assert_eq!(super::super::detect::compression(data), Some(kind));
            let o = all(kind, data);
            assert!(o.complete, "{kind:?}: {:?}", o.error);
            assert_eq!(bytes(&o), raw, "{kind:?}");
        }
        // Two concatenated gzip members and two zlib streams read as one.
        let mut two = gz.clone();
        two.extend_from_slice(&gz);
        assert_eq!(bytes(&all(Compression::Gzip, &two)).len(), raw.len() * 2);
        let mut two = zl.clone();
        two.extend_from_slice(&zl);
        assert_eq!(bytes(&all(Compression::Zlib, &two)).len(), raw.len() * 2);
        // A corrupt stream keeps what decoded before the damage.
        let mut bad = gz.clone();
        let n = bad.len();
        bad.truncate(n - 12);
        let o = all(Compression::Gzip, &bad);
        assert!(!o.complete && o.error.is_some());
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        let zeros = vec![0u8; 4 * 1024 * 1024];
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(&zeros).expect("bz");
        let bz = bz.finish().expect("bz");
        let mut budget = Budget {
            in_memory: 1 << 20,
            ratio_after: 1 << 20,
            ..Budget::default()
        };
        let o = decompress(&bz, Compression::Bzip2, &mut budget).expect("io");
        assert!(
            o.limit.as_deref().is_some_and(|l| l.contains("1032 times")),
            "{:?}",
            o.limit
        );
        assert!(o.data.as_source().size() <= (1 << 20) + 256 * 1024);
        // Spilled to a temporary file past the in-memory part.
        let mut budget = Budget {
            in_memory: 1 << 20,
            ratio: u64::MAX,
            ..Budget::default()
        };
        let o = decompress(&bz, Compression::Bzip2, &mut budget).expect("io");
        assert!(o.complete && matches!(o.data, Data::File(_)));
        assert_eq!(bytes(&o), zeros);
        let mut budget = Budget {
            left: 1000,
            ..Budget::default()
        };
        let o = decompress(&bz, Compression::Bzip2, &mut budget).expect("io");
        assert!(o.limit.as_deref().is_some_and(|l| l.contains("4 GiB")));
        assert_eq!(o.data.as_source().size(), 1000);
        assert_eq!(budget.left, 0);
    }
}
