//! Verification: stable finding codes, one node's verification (the unit
//! the graph walk calls), and rendering verdicts.

pub mod code;
pub mod node;
pub mod report;

pub use code::Code;
pub use node::{NodeRequest, NodeVerdict, verify_node};
