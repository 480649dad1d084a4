//! Progress and events from domain code, without printing.
//!
//! Domain functions take `&dyn Reporter`; the CLI decides whether that becomes
//! an indicatif bar, nothing (non-TTY, `--quiet`, JSON) or a log line.

/// Receives progress from long-running domain work. Every method has a no-op
/// default so an implementation only overrides what it shows.
pub trait Reporter: Sync {
    /// A task with a known number of bytes starts (hashing, downloading).
    fn start(&self, _label: &str, _total_bytes: u64) {}
    /// `n` more bytes of the current task are done. Called from many threads.
    fn on_bytes(&self, _n: u64) {}
    /// The current task is done.
    fn finish(&self) {}
    /// A short status line worth showing at `-v` (e.g. "downloading config.json").
    fn note(&self, _message: &str) {}
}

/// A reporter that shows nothing.
pub struct Silent;

impl Reporter for Silent {}
