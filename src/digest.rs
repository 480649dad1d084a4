//! Hashing: SHA-256 digests, the OMS v1.0 artifact digest, the tree walker,
//! the parallel hashing engine and the (device, inode, size, mtime, ctime)
//! hash cache.
//!
//! The artifact digest of a set of files is the OpenSSF Model Signing v1.0
//! root digest: SHA-256 over the concatenated raw digests of every file, in
//! the order Python's `PurePosixPath` sorts their relative paths (component by
//! component). An empty set gives the digest of the empty string.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as AtomicOrdering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::reporter::Reporter;

/// Read size for hashing. Large enough that syscalls are noise next to
/// SHA-256, small enough that memory stays bounded on every core.
const READ_BUF: usize = 1 << 20;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// The digest of the empty string (also the artifact digest of no files).
    pub fn empty() -> Self {
        Self::of(b"")
    }

    /// Digest of a byte slice.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Lower-case hex, 64 characters.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// `sha256:<hex>`, the form used for artifact digests and OCI.
    pub fn prefixed(&self) -> String {
        format!("sha256:{}", self.hex())
    }

    /// Parse 64 hex characters (either case).
    pub fn from_hex(s: &str) -> Result<Self, DigestParseError> {
        if s.len() != 64 {
            return Err(DigestParseError(s.to_string()));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| DigestParseError(s.to_string()))?;
        Ok(Self(out))
    }

    /// Parse `sha256:<hex>`.
    pub fn from_prefixed(s: &str) -> Result<Self, DigestParseError> {
        match s.strip_prefix("sha256:") {
            Some(h) => Self::from_hex(h),
            None => Err(DigestParseError(s.to_string())),
        }
    }

    /// Parse either form.
    pub fn parse_any(s: &str) -> Result<Self, DigestParseError> {
        Self::from_prefixed(s).or_else(|_| Self::from_hex(s))
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl FromStr for Sha256Digest {
    type Err = DigestParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_any(s)
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "`{0}` is not a SHA-256 digest (expected 64 hex characters, optionally prefixed with `sha256:`)"
)]
pub struct DigestParseError(pub String);

/// Serialized as bare hex.
impl Serialize for Sha256Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// Serde helper for the `sha256:<hex>` form.
pub mod prefixed {
    use super::Sha256Digest;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Sha256Digest, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&d.prefixed())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Sha256Digest, D::Error> {
        let s = String::deserialize(d)?;
        Sha256Digest::from_prefixed(&s).map_err(serde::de::Error::custom)
    }
}

/// Compare two relative POSIX paths the way Python's `PurePosixPath` orders
/// them: component by component, each component by code point.
/// `a/b` < `a/c` < `a-b/c` < `a.b`.
pub fn posix_path_cmp(a: &str, b: &str) -> Ordering {
    a.split('/').cmp(b.split('/'))
}

/// A file's relative path and digest: one resource of the OMS manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    pub path: String,
    pub size: u64,
    pub sha256: Sha256Digest,
}

/// The artifact digest (OMS v1.0 root digest) of a set of files. Order of the
/// input does not matter; paths are sorted as `PurePosixPath` sorts them.
pub fn artifact_digest<'a, I>(files: I) -> Sha256Digest
where
    I: IntoIterator<Item = (&'a str, &'a Sha256Digest)>,
{
    let mut v: Vec<(&str, &Sha256Digest)> = files.into_iter().collect();
    v.sort_by(|a, b| posix_path_cmp(a.0, b.0));
    let mut h = Sha256::new();
    for (_, d) in v {
        h.update(d.0);
    }
    Sha256Digest(h.finalize().into())
}

/// Sort file digests into OMS order in place.
pub fn sort_posix(files: &mut [FileDigest]) {
    files.sort_by(|a, b| posix_path_cmp(&a.path, &b.path));
}

/// Paths model_signing ignores by default, relative to the model root.
pub const DEFAULT_IGNORES: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// Options for walking a file or directory into a file set.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Relative POSIX paths to leave out (a directory leaves out all below it).
    pub ignore_paths: Vec<String>,
    /// Also leave out `.git/`, `.gitattributes`, `.github/`, `.gitignore`.
    pub ignore_git_paths: bool,
    /// Follow symlinks that stay inside the tree instead of refusing them.
    pub allow_symlinks: bool,
}

/// One regular file found by [`walk`].
#[derive(Debug, Clone)]
pub struct TreeFile {
    /// Relative POSIX path (for a single-file root: the file name).
    pub rel: String,
    /// Path to open.
    pub abs: PathBuf,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path}: symlink points outside the tree (to {target}); mlprov never follows a link out of the artifact"
    )]
    SymlinkEscape { path: PathBuf, target: PathBuf },
    #[error("{path}: is a symlink; symlinks are refused unless allowed explicitly")]
    SymlinkRefused { path: PathBuf },
    #[error("{path}: file name is not valid UTF-8; rename it so it can be recorded")]
    NonUtf8 { path: PathBuf },
    #[error("{path}: neither a regular file nor a directory (device, socket or FIFO)")]
    Special { path: PathBuf },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WalkError + '_ {
    move |source| WalkError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl WalkOptions {
    fn ignored(&self, rel: &str) -> bool {
        let hit = |p: &str| {
            let p = p.trim_end_matches('/');
            rel == p || rel.starts_with(&format!("{p}/"))
        };
        self.ignore_paths.iter().any(|p| hit(p))
            || (self.ignore_git_paths && DEFAULT_IGNORES.iter().any(|p| hit(p)))
    }
}

/// Walk a file or a directory into its regular files, sorted in OMS order.
///
/// A single file is a set of one, named by its file name. Symlinks are refused
/// unless `allow_symlinks`, and a symlink resolving outside `root` is always
/// refused.
pub fn walk(root: &Path, opts: &WalkOptions) -> Result<Vec<TreeFile>, WalkError> {
    let canon_root = root.canonicalize().map_err(io_err(root))?;
    if !canon_root.is_dir() {
        let name = root
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| WalkError::NonUtf8 {
                path: root.to_path_buf(),
            })?
            .to_string();
        let m = std::fs::metadata(root).map_err(io_err(root))?;
        if !m.is_file() {
            return Err(WalkError::Special {
                path: root.to_path_buf(),
            });
        }
        return Ok(vec![TreeFile {
            rel: name,
            abs: root.to_path_buf(),
            size: m.len(),
        }]);
    }
    let mut out = Vec::new();
    walk_dir(&canon_root, root, "", opts, &mut out)?;
    out.sort_by(|a, b| posix_path_cmp(&a.rel, &b.rel));
    Ok(out)
}

fn walk_dir(
    canon_root: &Path,
    dir: &Path,
    prefix: &str,
    opts: &WalkOptions,
    out: &mut Vec<TreeFile>,
) -> Result<(), WalkError> {
    let rd = std::fs::read_dir(dir).map_err(io_err(dir))?;
    for entry in rd {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| WalkError::NonUtf8 { path: path.clone() })?;
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if opts.ignored(&rel) {
            continue;
        }
        let ft = entry.file_type().map_err(io_err(&path))?;
        let (is_dir, size) = if ft.is_symlink() {
            let target = path.canonicalize().map_err(io_err(&path))?;
            if !target.starts_with(canon_root) {
                return Err(WalkError::SymlinkEscape { path, target });
            }
            if !opts.allow_symlinks {
                return Err(WalkError::SymlinkRefused { path });
            }
            let m = std::fs::metadata(&path).map_err(io_err(&path))?;
            if m.is_dir() {
                // A link to a directory inside the tree could loop; refuse
                // to recurse through it rather than walk a cycle.
                return Err(WalkError::SymlinkRefused { path });
            }
            (false, m.len())
        } else if ft.is_dir() {
            (true, 0)
        } else if ft.is_file() {
            (false, entry.metadata().map_err(io_err(&path))?.len())
        } else {
            return Err(WalkError::Special { path });
        };
        if is_dir {
            walk_dir(canon_root, &path, &rel, opts, out)?;
        } else {
            out.push(TreeFile {
                rel,
                abs: path,
                size,
            });
        }
    }
    Ok(())
}

/// Hash one reader with a bounded buffer, reporting progress.
pub fn hash_reader(mut r: impl Read, reporter: &dyn Reporter) -> io::Result<(Sha256Digest, u64)> {
    let mut buf = vec![0u8; READ_BUF];
    let mut h = Sha256::new();
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        total += n as u64;
        reporter.on_bytes(n as u64);
    }
    Ok((Sha256Digest(h.finalize().into()), total))
}

/// Hash one file.
pub fn hash_file(path: &Path, reporter: &dyn Reporter) -> io::Result<(Sha256Digest, u64)> {
    hash_reader(File::open(path)?, reporter)
}

/// Files at least this large, and larger than a core's share of the work,
/// are hashed with read-ahead help from the other workers (see [`Pipe`]).
const PIPELINE_MIN: u64 = 64 << 20;
/// Chunks read ahead for such a file.
const PIPELINE_DEPTH: usize = 8;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Read `buf` full, or to the end of the file; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

struct PipeReader {
    file: File,
    eof: bool,
    error: Option<io::Error>,
}

/// A large file being hashed by one worker (its owner) while the others
/// copy its next chunks out of the page cache for it.
///
/// One file's SHA-256 is sequential, so the largest file is the critical
/// path of hashing a model, and the copy out of the page cache costs about a
/// fifth of the hash. The owner only hashes; a worker between chunks of its
/// own files, or with no files left, reads ahead for it. Chunks are read
/// and queued under one lock, so they stay in order; when nobody has read
/// ahead, the owner reads the next chunk itself.
struct Pipe {
    reader: Mutex<PipeReader>,
    queue: Mutex<std::collections::VecDeque<(Vec<u8>, usize)>>,
    spare: Mutex<Vec<Vec<u8>>>,
}

impl Pipe {
    fn open(path: &Path) -> io::Result<Self> {
        Ok(Self {
            reader: Mutex::new(PipeReader {
                file: File::open(path)?,
                eof: false,
                error: None,
            }),
            queue: Mutex::new(Default::default()),
            spare: Mutex::new(Vec::new()),
        })
    }

    /// Read the next chunk into the queue. A helper (`owner == false`) does
    /// nothing if another thread is reading or the queue is full. Returns
    /// whether a chunk was read.
    fn fill(&self, owner: bool) -> bool {
        let mut r = if owner {
            lock(&self.reader)
        } else {
            match self.reader.try_lock() {
                Ok(g) => g,
                Err(_) => return false,
            }
        };
        if r.eof || (!owner && lock(&self.queue).len() >= PIPELINE_DEPTH) {
            return false;
        }
        let mut buf = lock(&self.spare)
            .pop()
            .unwrap_or_else(|| vec![0u8; READ_BUF]);
        match read_full(&mut r.file, &mut buf) {
            Ok(n) => {
                r.eof = n < buf.len();
                lock(&self.queue).push_back((buf, n));
            }
            Err(e) => {
                r.eof = true;
                r.error = Some(e);
            }
        }
        true
    }

    /// The owner's next chunk, in order; `None` at the end.
    fn next(&self) -> Option<io::Result<(Vec<u8>, usize)>> {
        loop {
            if let Some(c) = lock(&self.queue).pop_front() {
                return Some(Ok(c));
            }
            {
                let mut r = lock(&self.reader);
                if r.eof {
                    // A helper may have queued the last chunk meanwhile.
                    if let Some(c) = lock(&self.queue).pop_front() {
                        return Some(Ok(c));
                    }
                    return r.error.take().map(Err);
                }
            }
            self.fill(true);
        }
    }

    fn recycle(&self, buf: Vec<u8>) {
        lock(&self.spare).push(buf);
    }
}

/// The large files being hashed right now, for workers to help.
#[derive(Default)]
struct Pipes(Mutex<Vec<std::sync::Arc<Pipe>>>);

impl Pipes {
    /// Read ahead for every active large file; returns whether anything was read.
    fn help(&self) -> bool {
        let active = lock(&self.0).clone();
        let mut any = false;
        for p in active {
            while p.fill(false) {
                any = true;
            }
        }
        any
    }

    fn is_empty(&self) -> bool {
        lock(&self.0).is_empty()
    }
}

/// Hash a large file as its owner, with help from the other workers.
fn hash_piped(
    path: &Path,
    pipes: &Pipes,
    reporter: &dyn Reporter,
) -> io::Result<(Sha256Digest, u64)> {
    let pipe = std::sync::Arc::new(Pipe::open(path)?);
    lock(&pipes.0).push(pipe.clone());
    let mut h = Sha256::new();
    let mut total = 0u64;
    let mut result = Ok(());
    while let Some(chunk) = pipe.next() {
        match chunk {
            Ok((buf, n)) => {
                h.update(&buf[..n]);
                total += n as u64;
                reporter.on_bytes(n as u64);
                pipe.recycle(buf);
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    lock(&pipes.0).retain(|p| !std::sync::Arc::ptr_eq(p, &pipe));
    result.map(|()| (Sha256Digest(h.finalize().into()), total))
}

/// Hash a file inline, reading ahead for the large files between chunks.
fn hash_helping(
    path: &Path,
    pipes: &Pipes,
    reporter: &dyn Reporter,
) -> io::Result<(Sha256Digest, u64)> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; READ_BUF];
    let mut h = Sha256::new();
    let mut total = 0u64;
    loop {
        pipes.help();
        let n = read_full(&mut file, &mut buf)?;
        h.update(&buf[..n]);
        total += n as u64;
        reporter.on_bytes(n as u64);
        if n < buf.len() {
            break;
        }
    }
    Ok((Sha256Digest(h.finalize().into()), total))
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct HashError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Hash many files in parallel across cores (largest first), each file once
/// even when several paths reach it (hard links, symlinks). Results come back
/// in the order of `files`. With a cache, unchanged files are not read.
pub fn hash_files(
    files: &[TreeFile],
    cache: Option<&HashCache>,
    reporter: &dyn Reporter,
) -> Result<Vec<FileDigest>, HashError> {
    // Group by identity so a file reached twice is read once.
    let mut by_id: HashMap<FileId, Vec<usize>> = HashMap::new();
    let mut unique: Vec<(FileId, usize)> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let id = FileId::of(&f.abs).map_err(|source| HashError {
            path: f.abs.clone(),
            source,
        })?;
        let slot = by_id.entry(id.clone()).or_default();
        if slot.is_empty() {
            unique.push((id, i));
        }
        slot.push(i);
    }
    // Largest first keeps every core busy until the end (LPT scheduling).
    unique.sort_by(|a, b| b.0.size.cmp(&a.0.size).then(a.1.cmp(&b.1)));
    let total: u64 = unique.iter().map(|(id, _)| id.size).sum();
    // Files larger than a core's fair share are the critical path: the other
    // workers read ahead for them. With one worker there is nobody to help.
    let threads = rayon::current_num_threads().max(1);
    let pipeline_from = if threads > 1 {
        PIPELINE_MIN.max(total / threads as u64)
    } else {
        u64::MAX
    };
    let pipes = Pipes::default();
    reporter.start("hashing", total);
    let failed = AtomicBool::new(false);
    let hash_one = |(id, i): &(FileId, usize)| {
        if failed.load(AtomicOrdering::Relaxed) {
            return Err(HashError {
                path: files[*i].abs.clone(),
                source: io::Error::other("not hashed after an earlier error"),
            });
        }
        if let Some(d) = cache.and_then(|c| c.get(id)) {
            reporter.on_bytes(id.size);
            return Ok((id.clone(), d, id.size));
        }
        let r = if id.size >= pipeline_from {
            hash_piped(&files[*i].abs, &pipes, reporter)
        } else {
            hash_helping(&files[*i].abs, &pipes, reporter)
        };
        let r = r.map_err(|source| HashError {
            path: files[*i].abs.clone(),
            source,
        });
        if r.is_err() {
            failed.store(true, AtomicOrdering::Relaxed);
        }
        let (d, n) = r?;
        Ok((id.clone(), d, n))
    };
    // Each worker takes the largest file not yet started (greedy LPT). A
    // plain `par_iter` would hand each thread a contiguous half of the
    // size-sorted list, so the two largest files could end up on one core.
    let next = AtomicUsize::new(0);
    let workers = rayon::current_num_threads().clamp(1, unique.len().max(1));
    type Hashed = Result<(FileId, Sha256Digest, u64), HashError>;
    let mut indexed: Vec<(usize, Hashed)> = (0..workers)
        .into_par_iter()
        .with_max_len(1)
        .flat_map_iter(|_| {
            let mut mine = Vec::new();
            loop {
                let k = next.fetch_add(1, AtomicOrdering::Relaxed);
                let Some(item) = unique.get(k) else { break };
                mine.push((k, hash_one(item)));
            }
            // No files left: read ahead for the large files still hashing.
            while !pipes.is_empty() {
                if !pipes.help() {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
            }
            mine
        })
        .collect();
    indexed.sort_by_key(|(k, _)| *k);
    let results = indexed.into_iter().map(|(_, r)| r);
    reporter.finish();
    let mut digests: HashMap<FileId, (Sha256Digest, u64)> = HashMap::new();
    // Report the first real error in input order, not a follow-on one.
    let mut errors: Vec<HashError> = Vec::new();
    for r in results {
        match r {
            Ok((id, d, n)) => {
                if let Some(c) = cache {
                    c.put(&id, d);
                }
                digests.insert(id, (d, n));
            }
            Err(e) => errors.push(e),
        }
    }
    if let Some(e) = errors
        .into_iter()
        .min_by_key(|e| e.source.kind() == io::ErrorKind::Other)
    {
        return Err(e);
    }
    let mut out = Vec::with_capacity(files.len());
    for (id, idxs) in by_id {
        let (d, n) = digests[&id];
        for i in idxs {
            out.push((
                i,
                FileDigest {
                    path: files[i].rel.clone(),
                    size: n,
                    sha256: d,
                },
            ));
        }
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, f)| f).collect())
}

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
    use crate::reporter::Silent;

    #[test]
    fn posix_order_matches_purepath() {
        let mut v = vec!["a.b", "a-b/c", "a/c", "a/b", "B", "a"];
        v.sort_by(|a, b| posix_path_cmp(a, b));
        assert_eq!(v, ["B", "a", "a/b", "a/c", "a-b/c", "a.b"]);
    }

    #[test]
    fn empty_set_digest() {
        assert_eq!(
            artifact_digest(std::iter::empty()).hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn digest_parse_roundtrip() {
        let d = Sha256Digest::of(b"x");
        assert_eq!(Sha256Digest::from_prefixed(&d.prefixed()).unwrap(), d);
        assert_eq!(Sha256Digest::parse_any(&d.hex().to_uppercase()).unwrap(), d);
        assert!(Sha256Digest::from_hex("abc").is_err());
        assert!(Sha256Digest::from_prefixed(&d.hex()).is_err());
    }

    #[test]
    fn hashes_hardlinks_once_and_keeps_order() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("b"), b"hello").unwrap();
        std::fs::hard_link(d.path().join("b"), d.path().join("a")).unwrap();
        std::fs::write(d.path().join("c"), b"").unwrap();
        let files = walk(d.path(), &WalkOptions::default()).unwrap();
        let out = hash_files(&files, None, &Silent).unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].path, "a");
        assert_eq!(out[0].sha256, Sha256Digest::of(b"hello"));
        assert_eq!(out[1].sha256, out[0].sha256);
        assert_eq!(out[2].sha256, Sha256Digest::empty());
    }

    #[test]
    fn piped_hash_matches_with_and_without_help() {
        let d = tempfile::tempdir().unwrap();
        for len in [
            0,
            1,
            READ_BUF - 1,
            READ_BUF,
            READ_BUF + 1,
            (PIPELINE_DEPTH + 3) * READ_BUF + 17,
        ] {
            let p = d.path().join(format!("f{len}"));
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            std::fs::write(&p, &bytes).unwrap();
            let expect = (Sha256Digest::of(&bytes), len as u64);
            // Alone: the owner reads every chunk itself.
            let pipes = Pipes::default();
            assert_eq!(
                hash_piped(&p, &pipes, &Silent).unwrap(),
                expect,
                "len {len}"
            );
            assert!(pipes.is_empty());
            // With a helper reading ahead concurrently.
            let pipes = Pipes::default();
            let done = AtomicBool::new(false);
            std::thread::scope(|s| {
                s.spawn(|| {
                    while !done.load(AtomicOrdering::Relaxed) {
                        pipes.help();
                    }
                });
                assert_eq!(
                    hash_piped(&p, &pipes, &Silent).unwrap(),
                    expect,
                    "len {len}"
                );
                done.store(true, AtomicOrdering::Relaxed);
            });
            assert_eq!(hash_helping(&p, &pipes, &Silent).unwrap(), expect);
        }
        let pipes = Pipes::default();
        assert!(hash_piped(&d.path().join("missing"), &pipes, &Silent).is_err());
    }

    #[test]
    fn large_files_hash_the_same_through_hash_files() {
        let d = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..(PIPELINE_MIN as usize + 12345))
            .map(|i| (i % 241) as u8)
            .collect();
        std::fs::write(d.path().join("big"), &big).unwrap();
        std::fs::write(d.path().join("small"), b"small").unwrap();
        let files = walk(d.path(), &WalkOptions::default()).unwrap();
        let out = hash_files(&files, None, &Silent).unwrap();
        assert_eq!(out[0].sha256, Sha256Digest::of(&big));
        assert_eq!(out[1].sha256, Sha256Digest::of(b"small"));
    }

    #[test]
    fn walk_refuses_escaping_symlink() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"x").unwrap();
        let d = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path().join("secret"), d.path().join("link")).unwrap();
        let opts = WalkOptions {
            allow_symlinks: true,
            ..Default::default()
        };
        assert!(matches!(
            walk(d.path(), &opts),
            Err(WalkError::SymlinkEscape { .. })
        ));
    }

    #[test]
    fn ignores_git_paths() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join(".git/objects")).unwrap();
        std::fs::write(d.path().join(".git/objects/x"), b"x").unwrap();
        std::fs::write(d.path().join(".gitattributes"), b"x").unwrap();
        std::fs::write(d.path().join(".gitignore2"), b"x").unwrap();
        std::fs::write(d.path().join("w"), b"x").unwrap();
        let opts = WalkOptions {
            ignore_git_paths: true,
            ignore_paths: vec!["w".into()],
            ..Default::default()
        };
        let files = walk(d.path(), &opts).unwrap();
        let names: Vec<_> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(names, [".gitignore2"]);
    }

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
