//! The GGUF header reader on arbitrary bytes after a valid magic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlprov::scan::gguf;

fuzz_target!(|data: &[u8]| {
    let mut v = b"GGUF".to_vec();
    v.extend_from_slice(data);
    let _ = gguf::scan(&v);
    let _ = gguf::scan(&data.to_vec());
});
