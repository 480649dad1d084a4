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
    code(mlprov::project::not_found),
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

/// The user's cache directory for mlprov: `$MLPROV_CACHE_DIR`, else the
/// platform cache dir (`~/.cache/mlprov`).
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MLPROV_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("mlprov")
}

/// mlprov's data home (the local store): `$MLPROV_HOME`, else the platform
/// data dir (`~/.local/share/mlprov`).
pub fn home_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MLPROV_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("mlprov")
}
