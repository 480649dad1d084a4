//! The chat-template analysis (minijinja's parser, Python string decoding,
//! the abstract evaluation) on arbitrary template text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlprov::scan::template;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = std::str::from_utf8(data) {
        let _ = template::injection(t);
    }
});
