//! Random-access byte sources for the format scanners: a file (with a
//! counter of the bytes actually read, so `mlprov scan -v` can show that a
//! safetensors tree costs only its headers), memory, or a window of another
//! source (a stored zip member).

use std::fs::File;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes that can be read at any offset. Reads never allocate more than the
/// caller's buffer.
pub trait ReadAt: Sync {
    fn size(&self) -> u64;
    /// Read up to `buf.len()` bytes at `offset`; 0 means end of data.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
}

/// Read exactly `buf.len()` bytes at `offset`, or fail with `UnexpectedEof`.
pub fn read_exact_at(src: &dyn ReadAt, mut offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = src.read_at(offset, buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        offset += n as u64;
        buf = &mut buf[n..];
    }
    Ok(())
}

/// Read up to `len` bytes at `offset` into a new vector (shorter at the end
/// of the data). `len` must already be bounded by the caller.
pub fn read_vec_at(src: &dyn ReadAt, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let avail = src.size().saturating_sub(offset);
    let len = len.min(usize::try_from(avail).unwrap_or(usize::MAX));
    let mut v = vec![0u8; len];
    let mut got = 0;
    while got < len {
        let n = src.read_at(offset + got as u64, &mut v[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    v.truncate(got);
    Ok(v)
}

/// A file, counting the bytes read through it.
pub struct FileSource<'a> {
    file: File,
    size: u64,
    counter: &'a AtomicU64,
}

impl<'a> FileSource<'a> {
    pub fn new(file: File, counter: &'a AtomicU64) -> io::Result<Self> {
        let size = file.metadata()?.len();
        Ok(Self {
            file,
            size,
            counter,
        })
    }
}

impl ReadAt for FileSource<'_> {
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
        let n = pread(&self.file, &mut buf[..want], offset)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
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

impl ReadAt for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let Ok(off) = usize::try_from(offset) else {
            return Ok(0);
        };
        if off >= self.len() {
            return Ok(0);
        }
        let n = buf.len().min(self.len() - off);
        buf[..n].copy_from_slice(&self[off..off + n]);
        Ok(n)
    }
}

impl ReadAt for Vec<u8> {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.as_slice().read_at(offset, buf)
    }
}

/// `len` bytes of `inner` starting at `start` (clamped to the data).
pub struct Window<'a> {
    inner: &'a dyn ReadAt,
    start: u64,
    len: u64,
}

impl<'a> Window<'a> {
    pub fn new(inner: &'a dyn ReadAt, start: u64, len: u64) -> Self {
        let len = len.min(inner.size().saturating_sub(start));
        Self { inner, start, len }
    }
}

impl ReadAt for Window<'_> {
    fn size(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.len - offset).unwrap_or(usize::MAX));
        self.inner.read_at(self.start + offset, &mut buf[..want])
    }
}

/// A sequential reader over a range of a [`ReadAt`].
pub struct RangeReader<'a> {
    src: &'a dyn ReadAt,
    pos: u64,
    end: u64,
}

impl<'a> RangeReader<'a> {
    pub fn new(src: &'a dyn ReadAt, start: u64, len: u64) -> Self {
        let end = start.saturating_add(len).min(src.size());
        Self {
            src,
            pos: start.min(end),
            end,
        }
    }
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.end {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.end - self.pos).unwrap_or(usize::MAX));
        let n = self.src.read_at(self.pos, &mut buf[..want])?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// A raw-deflate decoder over any reader (zip method 8), stopping with an
/// error once more than `limit` bytes come out, so a member cannot inflate
/// without bound.
pub struct Inflater<R> {
    inner: R,
    state: Box<miniz_oxide::inflate::stream::InflateState>,
    input: Vec<u8>,
    in_pos: usize,
    in_len: usize,
    out_total: u64,
    limit: u64,
    done: bool,
}

impl<R: Read> Inflater<R> {
    pub fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            state: miniz_oxide::inflate::stream::InflateState::new_boxed(
                miniz_oxide::DataFormat::Raw,
            ),
            input: vec![0u8; 32 * 1024],
            in_pos: 0,
            in_len: 0,
            out_total: 0,
            limit,
            done: false,
        }
    }
}

impl<R: Read> Read for Inflater<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use miniz_oxide::{MZFlush, MZStatus};
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.in_pos == self.in_len {
                self.in_len = self.inner.read(&mut self.input)?;
                self.in_pos = 0;
            }
            let eof = self.in_len == 0;
            let flush = if eof { MZFlush::Finish } else { MZFlush::None };
            let res = miniz_oxide::inflate::stream::inflate(
                &mut self.state,
                &self.input[self.in_pos..self.in_len],
                buf,
                flush,
            );
            self.in_pos += res.bytes_consumed;
            self.out_total += res.bytes_written as u64;
            if self.out_total > self.limit {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "inflates to more than its declared size",
                ));
            }
            match res.status {
                Ok(MZStatus::StreamEnd) => {
                    self.done = true;
                    return Ok(res.bytes_written);
                }
                Ok(_) if res.bytes_written > 0 => return Ok(res.bytes_written),
                Ok(_) => {
                    if eof {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "deflate data ends early",
                        ));
                    }
                }
                Err(miniz_oxide::MZError::Buf) if !eof => {}
                Err(e) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("bad deflate data ({e:?})"),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_and_range() {
        let data: Vec<u8> = (0..100u8).collect();
        let w = Window::new(&data, 10, 20);
        assert_eq!(w.size(), 20);
        let mut b = [0u8; 5];
        read_exact_at(&w, 18, &mut b[..2]).expect("read");
        assert_eq!(&b[..2], &[28, 29]);
        assert!(read_exact_at(&w, 19, &mut b[..2]).is_err());
        let mut r = RangeReader::new(&data, 95, 50);
        let mut v = Vec::new();
        r.read_to_end(&mut v).expect("read");
        assert_eq!(v, [95, 96, 97, 98, 99]);
    }

    #[test]
    fn inflate_roundtrip_and_limit() {
        let raw = b"hello hello hello hello hello".repeat(100);
        let comp = miniz_oxide::deflate::compress_to_vec(&raw, 6);
        let mut out = Vec::new();
        Inflater::new(&comp[..], raw.len() as u64)
            .read_to_end(&mut out)
            .expect("inflate");
        assert_eq!(out, raw);
        let mut out = Vec::new();
        assert!(Inflater::new(&comp[..], 10).read_to_end(&mut out).is_err());
        let mut out = Vec::new();
        assert!(
            Inflater::new(&comp[..comp.len() / 2], 1 << 20)
                .read_to_end(&mut out)
                .is_err()
        );
    }
}
