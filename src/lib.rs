//! mlprov: pin, build, sign and verify ML models together with their inputs.
//!
//! The binary is a thin shell over this library. Domain modules (`manifest`,
//! `lockfile`, `digest`, `resolve`, …) return values and typed errors and never
//! print; `commands` resolves settings, calls the domain and reports through
//! `output`.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod build;
pub mod cleanup;
pub mod cli;
pub mod commands;
pub mod diagnostics;
pub mod digest;
pub mod document;
pub mod fsutil;
pub mod gitignore;
pub mod help;
pub mod intoto;
pub mod license;
pub mod limits;
pub mod lockfile;
pub mod manifest;
pub mod model;
pub mod output;
pub mod policy;
pub mod project;
pub mod provenance;
pub mod registry;
pub mod reporter;
pub mod resolve;
pub mod run;
pub mod sbom;
pub mod scan;
pub mod serve;
pub mod settings;
pub mod sign;
pub mod store;
pub mod validate;
pub mod verify;

/// The version string recorded in documents mlprov writes.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
