//! The safetensors header checks on arbitrary bytes (and with a valid
//! length prefix, so the JSON part is reached).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlprov::scan::safetensors;

fuzz_target!(|data: &[u8]| {
    let _ = safetensors::scan(&data.to_vec());
    let mut framed = (data.len() as u64).to_le_bytes().to_vec();
    framed.extend_from_slice(data);
    let _ = safetensors::scan(&framed);
});
