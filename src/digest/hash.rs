//! The parallel hashing engine: every file once (hard links and links to
//! the same file share a read), largest first across every core, with the
//! other workers reading ahead for the files that are the critical path.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as AtomicOrdering};

use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

use super::Sha256Digest;
use super::cache::{FileId, HashCache};
use super::set::FileEntry;
use super::walk::TreeFile;
use crate::reporter::Reporter;

/// Read size for hashing. Large enough that syscalls are noise next to
/// SHA-256, small enough that memory stays bounded on every core.
pub(crate) const READ_BUF: usize = 1 << 20;

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
) -> Result<Vec<FileEntry>, HashError> {
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
                FileEntry {
                    path: files[i].rel.clone(),
                    size: n,
                    sha256: d,
                    format: None,
                },
            ));
        }
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, f)| f).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::set::SetOptions;
    use crate::digest::walk::walk;
    use crate::reporter::Silent;

    #[test]
    fn hashes_hardlinks_once_and_keeps_order() {
        let d = crate::digest::test_tree(&[("b", b"hello"), ("c", b"")]);
        std::fs::hard_link(d.path().join("b"), d.path().join("a")).unwrap();
        let files = walk(d.path(), &SetOptions::default()).unwrap();
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
        let big: Vec<u8> = (0..(PIPELINE_MIN as usize + 12345))
            .map(|i| (i % 241) as u8)
            .collect();
        let d = crate::digest::test_tree(&[("big", &big), ("small", b"small")]);
        let files = walk(d.path(), &SetOptions::default()).unwrap();
        let out = hash_files(&files, None, &Silent).unwrap();
        assert_eq!(out[0].sha256, Sha256Digest::of(&big));
        assert_eq!(out[1].sha256, Sha256Digest::of(b"small"));
    }
}
