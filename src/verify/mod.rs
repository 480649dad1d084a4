//! Verification: stable finding codes, the resolved policy, one node's
//! bundles, the provenance-graph walk, the checks (one rule per file),
//! the Rego input document, rendering verdicts, and lineage (what descends
//! from an artifact).
//!
//! A verification is `target` → `walk` → `checks`: [`target`] says what a
//! command-line target is (a path, a digest, a registry reference) and
//! builds the walk's root; [`walk`] computes the graph (each node judged
//! once per context, at its shortest depth); [`checks`] decide.

pub mod card;
pub mod checks;
pub mod code;
pub mod lineage;
pub mod locate;
pub mod model;
pub mod node;
pub mod policy;
pub mod rego;
pub mod rego_input;
pub mod report;
pub mod target;
pub mod vsa;
pub mod walk;

pub use code::Code;
pub use model::{Graph, GraphNode, Root};
pub use walk::{Settings, verify_graph};

#[cfg(test)]
mod tests;
