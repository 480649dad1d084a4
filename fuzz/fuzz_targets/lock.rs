//! `mlprov.lock`: parsing, and the canonical text of what parses
//! round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlprov::lockfile::Lock;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(lock) = Lock::parse(text, "mlprov.lock")
    {
        let again = Lock::parse(&lock.to_toml(), "mlprov.lock").expect("canonical text parses");
        assert_eq!(again.to_toml(), lock.to_toml());
        for i in &lock.inputs {
            let _ = i.origin();
            let _ = i.uri();
        }
    }
});
