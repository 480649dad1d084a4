//! The lenient zip reader and the archive scanner (torch, npz, keras,
//! nested archives, member pickles) on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlprov::scan::{self, zip};

fuzz_target!(|data: &[u8]| {
    let bytes = data.to_vec();
    if let Ok(ar) = zip::read(&bytes) {
        for e in ar.entries.iter().take(64) {
            let _ = zip::head(&bytes, e, 256);
            let _ = zip::read_all(&bytes, e, 1 << 20);
        }
    }
    let mut out = scan::Scanned::default();
    let _ = scan::torch::scan_zip(&bytes, "model.pt", "", &mut scan::Ctx::default(), &mut out);
    // The whole dispatcher, as a file named like a zip checkpoint.
    let _ = scan::scan_bytes(data, "model.pt");
});
