//! Where things live: the project root, its manifest, lock and target
//! directory, and the per-user cache and store directories.

use std::path::{Path, PathBuf};

use crate::lockfile::LOCK_FILE;
use crate::manifest::MANIFEST_FILE;

/// A training repository: the directory holding `mlprov.toml`.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("no {MANIFEST_FILE} in {start} or any parent directory")]
#[diagnostic(
    code("mlprov::project::not-found"),
    help("run `mlprov init` to create one, or pass `-C DIR` to point at the project")
)]
pub struct NotFound {
    pub start: String,
}

impl Project {
    /// Find the project containing `start` (searching upwards, as cargo does).
    pub fn discover(start: &Path) -> Result<Project, NotFound> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            if d.join(MANIFEST_FILE).is_file() {
                return Ok(Project {
                    root: d.to_path_buf(),
                });
            }
            dir = d.parent();
        }
        Err(NotFound {
            start: start.display().to_string(),
        })
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.root.join(MANIFEST_FILE)
    }

    pub fn lock_path(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }

    /// `target/mlprov/`, where build, attest and sign write.
    pub fn out_dir(&self) -> PathBuf {
        self.root.join("target").join("mlprov")
    }

    /// A path as written in the manifest, relative to the project root.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

/// No PATH was given and there is no project to take `[artifact].path` from.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ArtifactPathError {
    #[error("no PATH given and {0}")]
    #[diagnostic(
        code("mlprov::project::no-path"),
        help("pass the model's path, or run inside a project with mlprov.toml")
    )]
    NoProject(NotFound),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Manifest(#[from] crate::manifest::ManifestLoadError),
}

/// The artifact of the project containing `start` (its `[artifact].path`),
/// for `sign` and `verify` run without a PATH.
pub fn artifact_path(start: &Path) -> Result<PathBuf, ArtifactPathError> {
    let project = Project::discover(start).map_err(ArtifactPathError::NoProject)?;
    let manifest = crate::manifest::Manifest::load(&project.manifest_path())?;
    Ok(project.join(&manifest.artifact.path))
}
