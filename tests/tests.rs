//! Integration tests: the real binary on real files, one test binary.

mod common;

mod cli;
mod sign;
