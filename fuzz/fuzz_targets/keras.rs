//! The Keras config walk (any JSON, any depth), the legacy `.h5` reader,
//! and a `.keras`-style zip holding the input as `config.json`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlprov::scan::{self, keras};

fuzz_target!(|data: &[u8]| {
    let _ = keras::scan_json(data, 0);
    let mut h5 = b"\x89HDF\r\n\x1a\n".to_vec();
    h5.extend_from_slice(data);
    let _ = keras::scan_h5(&h5);
    let _ = scan::scan_bytes(data, "config.json");
});
