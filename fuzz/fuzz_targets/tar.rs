//! The tar reader and the legacy PyTorch tar checkpoint walk on arbitrary
//! bytes, raw and behind a first header whose checksum is made valid (so
//! the fuzzer reaches members, PAX records, long names and the
//! `storages`/`tensors`/`pickle` layouts).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlprov::scan::{self, tar};

fuzz_target!(|data: &[u8]| {
    let _ = tar::read(&data.to_vec());
    let _ = scan::scan_bytes(data, "model.pt");
    // Overlay the input on a header, fix the checksum.
    let mut v = data.to_vec();
    if v.len() < 512 {
        v.resize(512, 0);
    }
    if v[0] == 0 {
        v[0] = b'p';
    }
    v[148..156].copy_from_slice(b"        ");
    let sum: u32 = v[..512].iter().map(|&b| u32::from(b)).sum();
    v[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let _ = tar::read(&v);
    let _ = scan::scan_bytes(&v, "model.pt");
});
