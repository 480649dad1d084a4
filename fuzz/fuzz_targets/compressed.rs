//! The decompressors (gzip, zlib, bz2, xz, lzma, lz4) and the scan of what
//! they produce, on arbitrary bytes behind each format's magic, within a
//! small budget so bombs stop early.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlprov::scan::{self, Compression, compress};

const MAGICS: &[(&[u8], Compression)] = &[
    (b"\x1f\x8b\x08", Compression::Gzip),
    (b"x\x9c", Compression::Zlib),
    (b"BZh9", Compression::Bzip2),
    (b"\xfd7zXZ\x00", Compression::Xz),
    (b"\x5d\x00\x00\x80\x00", Compression::Lzma),
    (b"\x04\x22\x4d\x18", Compression::Lz4),
];

fuzz_target!(|data: &[u8]| {
    for (magic, kind) in MAGICS {
        let mut v = magic.to_vec();
        v.extend_from_slice(data);
        let mut budget = compress::Budget {
            left: 8 << 20,
            in_memory: 1 << 20,
            ratio: compress::MAX_RATIO,
            ratio_after: 1 << 20,
        };
        let _ = compress::decompress(&v, *kind, &mut budget);
    }
    // The whole dispatcher, with the first byte choosing a magic.
    if let Some((&sel, rest)) = data.split_first() {
        let (magic, _) = MAGICS[usize::from(sel) % MAGICS.len()];
        let mut v = magic.to_vec();
        v.extend_from_slice(rest);
        let _ = scan::scan_bytes(&v, "model.joblib");
    }
});
