//! Recognise a file's format from its first bytes (then its extension).

use std::io::Read;
use std::path::Path;

/// A file format as recorded in the lock and the scan result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Safetensors,
    Gguf,
    Pickle,
    /// A zip archive (PyTorch checkpoint, `.npz`, `.keras`, …).
    Zip,
    Numpy,
    Hdf5,
    /// A tar archive (legacy `torch.save` wrote one).
    Tar,
    /// A compressed stream that loaders (joblib) decompress transparently.
    Compressed(Compression),
    Onnx,
    Json,
    Python,
    Text,
    Unknown,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Safetensors => "safetensors",
            Format::Gguf => "gguf",
            Format::Pickle => "pickle",
            Format::Zip => "zip",
            Format::Numpy => "numpy",
            Format::Hdf5 => "hdf5",
            Format::Tar => "tar",
            Format::Compressed(c) => c.as_str(),
            Format::Onnx => "onnx",
            Format::Json => "json",
            Format::Python => "python",
            Format::Text => "text",
            Format::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many leading bytes [`detect_bytes`] looks at.
pub const SNIFF_LEN: usize = 512;

/// Detect the format of a file from its first bytes and its name.
pub fn detect_file(path: &Path) -> std::io::Result<Format> {
    let mut head = Vec::with_capacity(SNIFF_LEN);
    std::fs::File::open(path)?
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    let size = std::fs::metadata(path)?.len();
    let fmt = detect_bytes(
        &head,
        size,
        path.file_name().and_then(|n| n.to_str()).unwrap_or(""),
    );
    // A protocol 0/1 pickle has no magic: it is one if it parses as one.
    if matches!(fmt, Format::Text | Format::Unknown) && super::pickle::could_start(&head) {
        let mut open = || -> std::io::Result<Box<dyn Read>> {
            Ok(Box::new(std::io::BufReader::new(std::fs::File::open(
                path,
            )?)))
        };
        let r = super::pickle::scan(
            &mut open,
            super::pickle::PickleOptions {
                strict: false,
                torchscript: false,
                total: Some(size),
            },
        )?;
        if r.is_pickle {
            return Ok(Format::Pickle);
        }
    }
    Ok(fmt)
}

/// A compression format recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Compression {
    Gzip,
    Bzip2,
    /// `.xz` (and, through liblzma's auto decoder, `.lzma`).
    Xz,
    /// The legacy `.lzma` ("alone") format: no real magic, a properties
    /// byte and a dictionary size.
    Lzma,
    /// A zlib stream (RFC 1950): two header bytes with a check value.
    Zlib,
    /// An LZ4 frame.
    Lz4,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Lzma => "lzma",
            Compression::Zlib => "zlib",
            Compression::Lz4 => "lz4",
        }
    }

    /// Whether the magic bytes alone say this is compressed data (as
    /// opposed to a weak signature that raw bytes often match by chance).
    pub fn strong_magic(self) -> bool {
        matches!(
            self,
            Compression::Gzip | Compression::Bzip2 | Compression::Xz | Compression::Lz4
        )
    }
}

/// The compression format `head` starts with, if any.
pub fn compression(head: &[u8]) -> Option<Compression> {
    if head.starts_with(b"\x1f\x8b\x08") {
        return Some(Compression::Gzip);
    }
    // "BZh" + block size 1-9 + a block or end-of-stream magic.
    if head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
            || head[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
    {
        return Some(Compression::Bzip2);
    }
    if head.starts_with(b"\xfd7zXZ\x00") {
        return Some(Compression::Xz);
    }
    if head.starts_with(b"\x04\x22\x4d\x18") {
        return Some(Compression::Lz4);
    }
    // LZMA alone, as liblzma's auto decoder (Python's LZMAFile) accepts
    // it: properties with lc + lp <= 4 and pb <= 4, a dictionary size of
    // 2^n or 2^n + 2^(n-1), an uncompressed size unknown (-1) or below
    // 2^38. joblib routes on the prefix 5D 00.
    if head.len() >= 13 && head[0] < 225 {
        let props = head[0];
        let (lc, lp, pb) = (props % 9, (props / 9) % 5, props / 45);
        let dict = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
        let size = u64::from_le_bytes([
            head[5], head[6], head[7], head[8], head[9], head[10], head[11], head[12],
        ]);
        let dict_ok = dict != 0 && {
            let t = dict >> dict.trailing_zeros();
            t == 1 || t == 3
        };
        if lc + lp <= 4 && pb <= 4 && dict_ok && (size == u64::MAX || size < 1 << 38) {
            return Some(Compression::Lzma);
        }
    }
    // zlib: deflate with a window of at most 32 KiB, no preset dictionary,
    // and the header check. joblib routes on the first byte 0x78.
    if head.len() >= 2
        && head[0] & 0x0f == 8
        && head[0] >> 4 <= 7
        && head[1] & 0x20 == 0
        && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0
    {
        return Some(Compression::Zlib);
    }
    None
}

/// Whether the first 512 bytes are a tar header: a checksum that matches
/// (as Python's `tarfile` computes it, signed or unsigned), octal fields,
/// and a name.
pub fn is_tar_header(block: &[u8]) -> bool {
    if block.len() < 512 || block[0] == 0 {
        return false;
    }
    let Some(stored) = octal(&block[148..156]) else {
        return false;
    };
    let mut unsigned = 256u64;
    let mut signed = 256i64;
    for (i, &b) in block[..512].iter().enumerate() {
        if (148..156).contains(&i) {
            continue;
        }
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed)
}

/// A tar numeric field: octal digits, padded with spaces or NULs.
pub fn octal(field: &[u8]) -> Option<u64> {
    let s: Vec<u8> = field.iter().copied().take_while(|&c| c != 0).collect();
    let t = std::str::from_utf8(&s).ok()?.trim();
    if t.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(t, 8).ok()
}

/// Detect a format from the leading bytes `head` of a file of `size` bytes
/// named `name`. Content wins over the extension: a pickle named
/// `.safetensors` is a pickle. A protocol 0/1 pickle has no magic: it is
/// told from other bytes by parsing it (see `scan`), never by one byte.
pub fn detect_bytes(head: &[u8], size: u64, name: &str) -> Format {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Format::Zip;
    }
    if head.starts_with(b"GGUF") {
        return Format::Gguf;
    }
    if head.starts_with(b"\x93NUMPY") {
        return Format::Numpy;
    }
    if head.starts_with(b"\x89HDF\r\n\x1a\n") {
        return Format::Hdf5;
    }
    // Pickle protocol 2+ starts with PROTO; the rest must parse too.
    if head.len() >= 2
        && head[0] == 0x80
        && (2..=5).contains(&head[1])
        && super::pickle::could_start(head)
    {
        return Format::Pickle;
    }
    if head.len() >= 9 {
        let n = u64::from_le_bytes([
            head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7],
        ]);
        if head[8] == b'{' && n > 1 && n.checked_add(8).is_some_and(|t| t <= size) {
            return Format::Safetensors;
        }
    }
    if is_tar_header(head) {
        return Format::Tar;
    }
    if let Some(c) = compression(head) {
        return Format::Compressed(c);
    }
    plain_format(head, name)
}

/// The format of bytes with no magic that [`detect_bytes`] knows: ONNX and
/// Python by name, JSON or text by content, else unknown.
pub fn plain_format(head: &[u8], name: &str) -> Format {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("onnx") => return Format::Onnx,
        Some("py") => return Format::Python,
        _ => {}
    }
    // Text: valid UTF-8, allowing a character cut off at the end of `head`.
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    if utf8 && !head.is_empty() && !head.contains(&0) {
        return match ext.as_deref() {
            Some("json" | "jsonl") => Format::Json,
            _ => Format::Text,
        };
    }
    Format::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_beats_extension() {
        assert_eq!(
            detect_bytes(b"\x80\x04\x95", 10, "model.safetensors"),
            Format::Pickle
        );
        assert_eq!(detect_bytes(b"PK\x03\x04", 10, "x.png"), Format::Zip);
        let mut st = 2u64.to_le_bytes().to_vec();
        st.extend_from_slice(b"{}");
        assert_eq!(detect_bytes(&st, 10, "x.bin"), Format::Safetensors);
        assert_eq!(detect_bytes(b"{\"a\": 1}", 8, "config.json"), Format::Json);
        assert_eq!(detect_bytes(b"hello", 5, "README.md"), Format::Text);
    }
}
