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
pub const SNIFF_LEN: usize = 64;

/// Detect the format of a file from its first bytes and its name.
pub fn detect_file(path: &Path) -> std::io::Result<Format> {
    let mut head = Vec::with_capacity(SNIFF_LEN);
    std::fs::File::open(path)?
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    let size = std::fs::metadata(path)?.len();
    Ok(detect_bytes(
        &head,
        size,
        path.file_name().and_then(|n| n.to_str()).unwrap_or(""),
    ))
}

/// Detect a format from the leading bytes `head` of a file of `size` bytes
/// named `name`. Content wins over the extension: a pickle named
/// `.safetensors` is a pickle.
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
    // Pickle protocol 2+ starts with PROTO.
    if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
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
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("pkl" | "pickle" | "pt" | "pth" | "bin" | "ckpt" | "joblib")
            if looks_like_pickle0(head) =>
        {
            return Format::Pickle;
        }
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

/// Protocol 0/1 pickles have no PROTO opcode; they start with an opcode like
/// `(`, `c`, `]`, `}`.
fn looks_like_pickle0(head: &[u8]) -> bool {
    matches!(
        head.first(),
        Some(b'(' | b'c' | b']' | b'}' | b'N' | b'I' | b'S' | b'V')
    )
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
