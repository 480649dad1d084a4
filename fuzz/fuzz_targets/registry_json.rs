//! The registry client's JSON answers: a ModelPack manifest and a
//! referrers / tag-schema index.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlprov::registry::{client, modelpack};

fuzz_target!(|data: &[u8]| {
    let _ = modelpack::parse(data, "127.0.0.1:5000/fuzz:1");
    let _ = client::parse_index(data, "referrers");
});
