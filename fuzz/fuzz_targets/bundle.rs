//! Sigstore bundles: the wire format, then verification against an empty
//! trust and a trust with one key (every path must fail cleanly).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlprov::sign::{bundle, trust::Trust, verify};

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = bundle::parse(data) {
        let _ = verify::verify(&b, &Trust::default());
    }
    let _ = bundle::same_attestation(data, data);
});
