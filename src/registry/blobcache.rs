//! Where blobs were last seen on a registry, so that pushing a model to a
//! second repository mounts its blobs (`POST …/blobs/uploads/?mount=&from=`)
//! instead of uploading them again.
//!
//! One small JSON file per registry under the cache directory
//! (`MLPROV_CACHE_DIR/registry/<registry>.json`). It is a hint, never a
//! fact: a location that is wrong (the repository was deleted, the blob
//! garbage-collected, another account's repository) only costs a refused
//! mount, after which the blob is uploaded. A file that cannot be read or
//! parsed is ignored and rewritten. Writes go to a temporary file in the
//! same directory, then a rename; what another process wrote meanwhile is
//! merged in first.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;

/// At most this many blobs are remembered per registry (the least recently
/// used go first)…
pub const MAX_BLOBS: usize = 8192;
/// …each in at most this many repositories (the most recent first).
pub const MAX_REPOS_PER_BLOB: usize = 4;
/// The cache's file format version.
const VERSION: u32 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    version: u32,
    /// Least recently used first.
    blobs: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Entry {
    digest: String,
    /// Most recent first.
    repositories: Vec<String>,
}

/// The blob locations of one registry.
#[derive(Debug)]
pub struct BlobCache {
    path: PathBuf,
    /// Least recently used first.
    blobs: Vec<Entry>,
    /// What this process learnt, in order (merged into the file on save).
    learnt: Vec<(Sha256Digest, String)>,
}

/// The cache file of `registry` under `cache_dir`.
pub fn path_for(cache_dir: &Path, registry: &str) -> PathBuf {
    let name: String = registry
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    cache_dir.join("registry").join(format!("{name}.json"))
}

fn read(path: &Path) -> Vec<Entry> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    match serde_json::from_slice::<File>(&bytes) {
        Ok(f) if f.version == VERSION => f.blobs,
        // Corrupt, or another version: start afresh (the file is rewritten).
        _ => Vec::new(),
    }
}

impl BlobCache {
    /// Open the cache of `registry` under `cache_dir` (empty when there is
    /// none or it is unreadable).
    pub fn open(cache_dir: &Path, registry: &str) -> Self {
        let path = path_for(cache_dir, registry);
        let blobs = read(&path);
        Self {
            path,
            blobs,
            learnt: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The repositories `digest` was last seen in, the most recent first.
    pub fn locations(&self, digest: &Sha256Digest) -> Vec<String> {
        let key = digest.prefixed();
        self.blobs
            .iter()
            .find(|e| e.digest == key)
            .map(|e| e.repositories.clone())
            .unwrap_or_default()
    }

    /// `digest` is in `repo` (seen, uploaded, mounted or downloaded).
    pub fn record(&mut self, digest: &Sha256Digest, repo: &str) {
        insert(&mut self.blobs, digest, repo);
        self.learnt.push((*digest, repo.to_string()));
    }

    /// `digest` is not in `repo` after all (a mount from it was refused).
    pub fn forget(&mut self, digest: &Sha256Digest, repo: &str) {
        let key = digest.prefixed();
        for e in &mut self.blobs {
            if e.digest == key {
                e.repositories.retain(|r| r != repo);
            }
        }
        self.blobs.retain(|e| !e.repositories.is_empty());
        self.learnt.push((*digest, format!("\0{repo}")));
    }

    /// Whether anything was learnt since opening.
    pub fn changed(&self) -> bool {
        !self.learnt.is_empty()
    }

    /// Merge what this process learnt into the file as it is now, and
    /// write it atomically (temporary file, then rename).
    pub fn save(&mut self) -> std::io::Result<()> {
        if self.learnt.is_empty() {
            return Ok(());
        }
        let mut blobs = read(&self.path);
        for (d, repo) in &self.learnt {
            match repo.strip_prefix('\0') {
                Some(gone) => {
                    let key = d.prefixed();
                    for e in &mut blobs {
                        if e.digest == key {
                            e.repositories.retain(|r| r != gone);
                        }
                    }
                    blobs.retain(|e| !e.repositories.is_empty());
                }
                None => insert(&mut blobs, d, repo),
            }
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let file = File {
            version: VERSION,
            blobs: blobs.clone(),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".blobs-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        serde_json::to_writer(tmp.as_file_mut(), &file)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        self.blobs = blobs;
        self.learnt.clear();
        Ok(())
    }
}

fn insert(blobs: &mut Vec<Entry>, digest: &Sha256Digest, repo: &str) {
    let key = digest.prefixed();
    let mut entry = match blobs.iter().position(|e| e.digest == key) {
        Some(i) => blobs.remove(i),
        None => Entry {
            digest: key,
            repositories: Vec::new(),
        },
    };
    entry.repositories.retain(|r| r != repo);
    entry.repositories.insert(0, repo.to_string());
    entry.repositories.truncate(MAX_REPOS_PER_BLOB);
    blobs.push(entry);
    if blobs.len() > MAX_BLOBS {
        let excess = blobs.len() - MAX_BLOBS;
        blobs.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_a_reopen_and_stay_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let d = Sha256Digest::of(b"blob");
        let mut c = BlobCache::open(dir.path(), "127.0.0.1:5000");
        assert!(c.locations(&d).is_empty());
        for i in 0..6 {
            c.record(&d, &format!("r{i}"));
        }
        c.record(&d, "r3");
        c.save().unwrap();
        let c = BlobCache::open(dir.path(), "127.0.0.1:5000");
        assert_eq!(c.locations(&d), ["r3", "r5", "r4", "r2"]);
        assert!(c.path().ends_with("registry/127.0.0.1_5000.json"));
        // Another registry's file is another file.
        assert!(
            BlobCache::open(dir.path(), "ghcr.io")
                .locations(&d)
                .is_empty()
        );

        let mut c = BlobCache::open(dir.path(), "r");
        for i in 0..(MAX_BLOBS + 10) {
            c.record(&Sha256Digest::of(&i.to_le_bytes()), "repo");
        }
        c.save().unwrap();
        let c = BlobCache::open(dir.path(), "r");
        assert_eq!(c.blobs.len(), MAX_BLOBS);
        // The oldest went first.
        assert!(
            c.locations(&Sha256Digest::of(&0usize.to_le_bytes()))
                .is_empty()
        );
        assert_eq!(
            c.locations(&Sha256Digest::of(&(MAX_BLOBS + 9).to_le_bytes())),
            ["repo"]
        );
    }

    #[test]
    fn a_corrupt_file_is_ignored_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(dir.path(), "reg");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"{\"version\": 1, \"blobs\": [tru").unwrap();
        let d = Sha256Digest::of(b"x");
        let mut c = BlobCache::open(dir.path(), "reg");
        assert!(c.locations(&d).is_empty());
        c.record(&d, "a/b");
        c.save().unwrap();
        assert_eq!(BlobCache::open(dir.path(), "reg").locations(&d), ["a/b"]);
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn concurrent_writers_merge_and_forget_removes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (Sha256Digest::of(b"a"), Sha256Digest::of(b"b"));
        let mut one = BlobCache::open(dir.path(), "reg");
        let mut two = BlobCache::open(dir.path(), "reg");
        one.record(&a, "x");
        two.record(&b, "y");
        one.save().unwrap();
        two.save().unwrap();
        let mut c = BlobCache::open(dir.path(), "reg");
        assert_eq!(c.locations(&a), ["x"]);
        assert_eq!(c.locations(&b), ["y"]);
        c.forget(&a, "x");
        c.save().unwrap();
        assert!(BlobCache::open(dir.path(), "reg").locations(&a).is_empty());
    }
}
