//! Training configs as YAML, JSON and TOML (the same bytes as each).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for name in ["train.yaml", "train.json", "train.toml"] {
        let _ = mlprov::run::parse_config(data, name);
    }
});
