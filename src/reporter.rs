//! Progress and events from domain code, without printing.
//!
//! Domain functions take `&dyn Reporter`; the CLI decides whether that becomes
//! an indicatif bar, a plain line every few seconds (no terminal), nothing
//! (`--quiet`, JSON) or a log line.
//!
//! A command shows one task at a time with one overall total (hashing the
//! tree, then pushing what the registry lacks); work running in parallel
//! reports into the same task, and [`Reporter::file`] names the file most
//! recently started.

/// Receives progress from long-running domain work. Every method has a no-op
/// default so an implementation only overrides what it shows.
pub trait Reporter: Sync {
    /// A task with a known number of bytes starts (hashing, downloading):
    /// `label` is a verb, optionally followed by what it works on
    /// ("pushing", "downloading config.json"). A task already shown is
    /// replaced, never shown twice.
    fn start(&self, _label: &str, _total_bytes: u64) {}
    /// The file the current task is now working on.
    fn file(&self, _name: &str) {}
    /// `n` more bytes of the current task are done. Called from many threads.
    fn on_bytes(&self, _n: u64) {}
    /// `n` bytes of the current task are to be done again (a transfer that
    /// restarted from the beginning).
    fn undo_bytes(&self, _n: u64) {}
    /// The current task is done.
    fn finish(&self) {}
    /// A short status line worth showing at `-v` (e.g. "downloading config.json").
    fn note(&self, _message: &str) {}
}

/// A reporter that shows nothing.
pub struct Silent;

impl Reporter for Silent {}
