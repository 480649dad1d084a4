//! Signing: keys, DSSE, Sigstore bundles, OpenSSF Model Signing manifests,
//! X.509 chains, and the statements `attest` signs.

pub mod attest;
pub mod bundle;
pub mod dsse;
pub mod keyless;
pub mod keys;
pub mod oms;
pub mod trust;
pub mod verify;
pub mod x509;
