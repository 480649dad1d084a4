//! The pickle walker on arbitrary bytes, strict and sniffing, both framing
//! readings (any FRAME opcode makes it walk twice).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlprov::scan::pickle::{self, PickleOptions};

fuzz_target!(|data: &[u8]| {
    for strict in [true, false] {
        let r = pickle::scan_bytes(data, PickleOptions { strict, torchscript: !strict, total: None });
        assert!(r.findings.len() <= 64 * 16);
    }
    let _ = pickle::could_start(data);
});
