//! The words every layer shares: what an artifact is ([`ArtifactKind`]), how
//! an input was used ([`Role`]), where it comes from ([`Source`]) and how
//! provenance names it ([`ResourceUri`]). Their text forms are written and
//! parsed here and nowhere else.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    Model,
    Dataset,
    Adapter,
}

impl ArtifactKind {
    pub const ALL: [ArtifactKind; 3] = [Self::Model, Self::Dataset, Self::Adapter];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Model => "model",
            Self::Dataset => "dataset",
            Self::Adapter => "adapter",
        }
    }
}

impl fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an input was used. Roles map to SPDX relationships and select the
/// verification policy for the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    BaseModel,
    TrainingData,
    TestData,
    Config,
    Code,
    Adapter,
    Other,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Self::BaseModel,
        Self::TrainingData,
        Self::TestData,
        Self::Config,
        Self::Code,
        Self::Adapter,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BaseModel => "base-model",
            Self::TrainingData => "training-data",
            Self::TestData => "test-data",
            Self::Config => "config",
            Self::Code => "code",
            Self::Adapter => "adapter",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Is an input in this role a dataset (for SPDX `dataset_DatasetPackage`)?
    pub fn is_data(self) -> bool {
        matches!(self, Self::TrainingData | Self::TestData)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
