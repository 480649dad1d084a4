//! Verification: stable finding codes, one node's verification (the unit
//! the graph walk calls), the provenance-graph walk under a per-role
//! policy (with Rego), rendering verdicts, and lineage (what descends
//! from an artifact).

pub mod code;
pub mod graph;
pub mod lineage;
pub mod locate;
pub mod node;
pub mod policy;
pub mod rego;
pub mod report;
pub mod vsa;

pub use code::Code;
pub use node::{NodeRequest, NodeVerdict, verify_node};
