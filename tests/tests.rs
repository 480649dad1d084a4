//! Integration tests: the real binary on real files, one test binary.

mod common;

mod build;
mod cli;
mod completions;
mod diagnostics;
mod evidence;
mod gates;
mod generated;
mod graph;
mod hf_server;
mod init;
mod install;
mod keyless;
mod kubernetes;
mod layering;
mod limits;
mod manifest_errors;
mod pin;
mod promote;
mod readme;
mod registry;
mod rego;
mod scan;
mod serve;
mod sign;
mod sigstore_server;
