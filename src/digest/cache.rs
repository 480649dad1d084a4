//! The hash cache: digests of files keyed by (device, inode) and validated
//! by size, mtime and ctime, in its own versioned file.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use serde::{Deserialize, Serialize};

use super::Sha256Digest;

/// The identity and change stamp of a file on disk.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
}

impl FileId {
    pub fn of(path: &Path) -> io::Result<Self> {
        let m = std::fs::metadata(path)?;
        Ok(Self::from_metadata(&m))
    }

    #[cfg(unix)]
    fn from_metadata(m: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Self {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
            ctime_ns: m.ctime() as i128 * 1_000_000_000 + m.ctime_nsec() as i128,
        }
    }

    #[cfg(not(unix))]
    fn from_metadata(m: &std::fs::Metadata) -> Self {
        let ns = |t: io::Result<std::time::SystemTime>| {
            t.ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos() as i128)
                .unwrap_or(0)
        };
        Self {
            dev: 0,
            ino: 0,
            size: m.len(),
            mtime_ns: ns(m.modified()),
            ctime_ns: ns(m.created()),
        }
    }

    fn key(&self) -> String {
        format!("{}:{}", self.dev, self.ino)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheEntry {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    sha256: Sha256Digest,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    entries: BTreeMap<String, CacheEntry>,
}

const CACHE_VERSION: u32 = 1;

/// A file whose change stamp is this close to "now" may still be written to
/// within the same timestamp tick, so it is not cached ("racily clean", as git
/// calls it).
const RACY_WINDOW_NS: i128 = 2_000_000_000;

/// Digests of files keyed by (device, inode) and validated by size, mtime and
/// ctime. A speed-up for `pin` and `build`; `verify` never uses it.
pub struct HashCache {
    path: PathBuf,
    entries: Mutex<BTreeMap<String, CacheEntry>>,
    dirty: AtomicBool,
    now_ns: i128,
}

impl HashCache {
    /// Open the cache at `path`. A missing, unreadable or foreign-version file
    /// gives an empty cache: the cache is never a reason to fail.
    pub fn open(path: PathBuf) -> Self {
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<CacheFile>(&b).ok())
            .filter(|c| c.version == CACHE_VERSION)
            .map(|c| c.entries)
            .unwrap_or_default();
        let now_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i128)
            .unwrap_or(0);
        Self {
            path,
            entries: Mutex::new(entries),
            dirty: AtomicBool::new(false),
            now_ns,
        }
    }

    /// The default location: `$MLPROV_CACHE_DIR/hash-cache.json`.
    pub fn default_path(cache_dir: &Path) -> PathBuf {
        cache_dir.join("hash-cache-v1.json")
    }

    pub fn get(&self, id: &FileId) -> Option<Sha256Digest> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(&id.key())?;
        (e.size == id.size && e.mtime_ns == id.mtime_ns && e.ctime_ns == id.ctime_ns)
            .then_some(e.sha256)
    }

    pub fn put(&self, id: &FileId, sha256: Sha256Digest) {
        if self.now_ns - id.mtime_ns.max(id.ctime_ns) < RACY_WINDOW_NS {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            let new = CacheEntry {
                size: id.size,
                mtime_ns: id.mtime_ns,
                ctime_ns: id.ctime_ns,
                sha256,
            };
            let key = id.key();
            let changed = entries.get(&key).is_none_or(|e| {
                e.sha256 != new.sha256 || e.mtime_ns != new.mtime_ns || e.size != new.size
            });
            if changed {
                entries.insert(key, new);
                self.dirty.store(true, AtomicOrdering::Relaxed);
            }
        }
    }

    /// Write the cache back atomically if anything was added. Entries written
    /// meanwhile by another process are merged, not dropped.
    pub fn save(&self) -> io::Result<()> {
        if !self.dirty.load(AtomicOrdering::Relaxed) {
            return Ok(());
        }
        let mine = match self.entries.lock() {
            Ok(e) => e.clone(),
            Err(_) => return Ok(()),
        };
        let mut merged = Self::open(self.path.clone())
            .entries
            .into_inner()
            .unwrap_or_default();
        merged.extend(mine);
        let file = CacheFile {
            version: CACHE_VERSION,
            entries: merged,
        };
        let bytes = serde_json::to_vec(&file).map_err(io::Error::other)?;
        crate::fsutil::write_atomic(&self.path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_hits_only_when_unchanged() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        std::fs::write(&f, b"abc").unwrap();
        let mut id = FileId::of(&f).unwrap();
        // Pretend the file is old enough not to be racily clean.
        id.mtime_ns -= 10 * RACY_WINDOW_NS;
        id.ctime_ns -= 10 * RACY_WINDOW_NS;
        let cache = HashCache::open(d.path().join("cache.json"));
        cache.put(&id, Sha256Digest::of(b"abc"));
        assert_eq!(cache.get(&id), Some(Sha256Digest::of(b"abc")));
        cache.save().unwrap();
        let reopened = HashCache::open(d.path().join("cache.json"));
        assert_eq!(reopened.get(&id), Some(Sha256Digest::of(b"abc")));
        let mut changed = id.clone();
        changed.size += 1;
        assert_eq!(reopened.get(&changed), None);
    }
}
