//! The `.npy` header reader (a Python literal parser) on arbitrary header
//! text, behind a valid preamble.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlprov::scan::{self, numpy};

fuzz_target!(|data: &[u8]| {
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    let n = data.len().min(u16::MAX as usize);
    v.extend_from_slice(&(n as u16).to_le_bytes());
    v.extend_from_slice(data);
    let _ = numpy::read_header(&mut &v[..]);
    let _ = scan::scan_bytes(&v, "x.npy");
});
