//! Rego policy loading (the guards before regorus's parser, the parser,
//! the recursion check) and one evaluation of what loads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlprov::verify::rego::{DEFAULT_QUERY, RegoPolicy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("policy.rego");
    std::fs::write(&path, text).expect("write");
    if let Ok(p) = RegoPolicy::load(&[path.as_path()], DEFAULT_QUERY) {
        let _ = p.evaluate(&serde_json::json!({"model": {"name": "m"}, "dependencies": []}));
    }
});
