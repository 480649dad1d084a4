//! The unsafe-format scanner. Formats are recognised by content first and by
//! extension second.

pub mod detect;

pub use detect::{Format, detect_bytes, detect_file};
