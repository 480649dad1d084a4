//! Shared helpers for the integration tests:
//!
//! - [`env`]: an isolated environment per test ([`TestEnv`]) and the
//!   outcome of one run ([`Run`]);
//! - [`project`]: a [`ProjectBuilder`] for `mlprov.toml` and its files;
//! - [`data`]: small files every test needs (`safetensors()`, `write()`,
//!   `s()`, [`EVIL_PICKLE`], …);
//! - [`snapshot`]: the `mlprov_snapshot!` macro and its shared filters;
//! - [`tools`]: the independent validators, the reference fixtures and the
//!   real all-MiniLM-L6-v2 model;
//! - [`json_docs`]: every `--format json` document checked against its
//!   committed schema.
#![allow(dead_code, unused_imports)]

pub mod data;
pub mod env;
pub mod json_docs;
pub mod project;
pub mod snapshot;
pub mod tools;

pub use data::*;
pub use env::*;
pub use project::*;
pub(crate) use snapshot::mlprov_snapshot;
pub use tools::*;
