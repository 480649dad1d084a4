//! `mlprov.toml`: the spanned validator and the typed manifest.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = mlprov::manifest::Manifest::parse(text, "mlprov.toml");
    }
});
