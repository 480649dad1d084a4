//! The local store: signed bundles content-addressed by the digest of what
//! they are about.
//!
//! ```text
//! $MLPROV_HOME/store/sha256/<subject hex>/<predicate-slug>-<bundle sha256 hex>.sigstore.json
//! ```
//!
//! A bundle with several subjects (a build's provenance names every output
//! file and the artifact) is filed under each of them. Files are written
//! atomically and never modified: the same bundle always lands at the same
//! path, so storing it twice is a no-op. ECDSA signatures differ on every
//! signing, so re-signing the same statement with the same key makes a new
//! bundle: it replaces the earlier one, and the store keeps one bundle per
//! statement and signer.

use std::io;
use std::path::{Path, PathBuf};

use crate::digest::Sha256Digest;

const SUFFIX: &str = ".sigstore.json";

/// The bundle store under a data home.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// One stored bundle.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredBundle {
    pub path: PathBuf,
    /// The predicate type as a file-name slug.
    pub predicate_slug: String,
    /// SHA-256 of the bundle file.
    pub bundle_digest: Sha256Digest,
}

impl Store {
    /// The store in `home` (`$MLPROV_HOME`).
    pub fn new(home: &Path) -> Self {
        Self {
            root: home.join("store"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self, subject: &Sha256Digest) -> PathBuf {
        self.root.join("sha256").join(subject.hex())
    }

    /// Where `bundle` is filed for `subject`.
    pub fn path_for(&self, subject: &Sha256Digest, predicate_type: &str, bundle: &[u8]) -> PathBuf {
        let name = format!(
            "{}-{}{SUFFIX}",
            predicate_slug(predicate_type),
            Sha256Digest::of(bundle).hex()
        );
        self.dir(subject).join(name)
    }

    /// File `bundle` under each subject digest; returns the paths.
    pub fn put(
        &self,
        bundle: &[u8],
        predicate_type: &str,
        subjects: &[Sha256Digest],
    ) -> io::Result<Vec<PathBuf>> {
        let mut subjects = subjects.to_vec();
        subjects.sort();
        subjects.dedup();
        let mut out = Vec::with_capacity(subjects.len());
        for s in &subjects {
            // One writer per subject at a time: two `attest` runs filing the
            // same statement would otherwise each remove the other's bundle
            // as superseded, losing both. The lock is released on drop (and
            // by the OS if the process dies).
            let locks = self.root.join(LOCKS_DIR);
            std::fs::create_dir_all(&locks)?;
            let lock = std::fs::File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(locks.join(s.hex()))?;
            lock_exclusive(&lock)?;
            let path = self.path_for(s, predicate_type, bundle);
            let same = read_entry(&path).is_ok_and(|b| b == bundle);
            if !same {
                crate::fsutil::write_atomic_mode(&path, bundle, 0o644)?;
            }
            let slug = predicate_slug(predicate_type);
            for old in self.list(s)? {
                if old.path != path
                    && old.predicate_slug == slug
                    && read_entry(&old.path)
                        .is_ok_and(|b| crate::sign::bundle::same_attestation(&b, bundle))
                {
                    match std::fs::remove_file(&old.path) {
                        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                        _ => {}
                    }
                }
            }
            drop(lock);
            out.push(path);
        }
        Ok(out)
    }

    /// Every subject digest with bundles filed under it, sorted.
    pub fn subjects(&self) -> io::Result<Vec<Sha256Digest>> {
        let dir = self.root.join("sha256");
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry?;
            if let Some(d) = entry
                .file_name()
                .to_str()
                .and_then(|n| Sha256Digest::from_hex(n).ok())
            {
                out.push(d);
            }
        }
        out.sort();
        Ok(out)
    }

    /// Every bundle filed under `subject`, sorted by file name. A missing
    /// directory is an empty list; anything else unreadable is an error.
    pub fn list(&self, subject: &Sha256Digest) -> io::Result<Vec<StoredBundle>> {
        let dir = self.dir(subject);
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if let Some((slug, digest)) = parse_name(&name) {
                out.push(StoredBundle {
                    path: entry.path(),
                    predicate_slug: slug,
                    bundle_digest: digest,
                });
            }
        }
        out.sort();
        Ok(out)
    }
}

fn parse_name(name: &str) -> Option<(String, Sha256Digest)> {
    let stem = name.strip_suffix(SUFFIX)?;
    let (slug, hex) = stem.rsplit_once('-')?;
    Some((slug.to_string(), Sha256Digest::from_hex(hex).ok()?))
}

/// A predicate type URI as a short, safe file-name part:
/// `https://slsa.dev/provenance/v1` → `slsa.dev-provenance-v1`.
pub fn predicate_slug(uri: &str) -> String {
    let rest = uri.split_once("://").map(|(_, r)| r).unwrap_or(uri);
    let mut out = String::with_capacity(rest.len());
    for c in rest.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches(|c| c == '-' || c == '.');
    let mut out: String = out.chars().take(80).collect();
    while out.ends_with('-') || out.ends_with('.') {
        out.pop();
    }
    if out.is_empty() {
        "predicate".to_string()
    } else {
        out
    }
}

/// Wait for an exclusive advisory lock on `file` (flock; released when the
/// file is closed or the process dies). `File::lock` would do, from Rust
/// 1.89; the MSRV is 1.88.
#[cfg(unix)]
fn lock_exclusive(file: &std::fs::File) -> io::Result<()> {
    rustix::fs::flock(file, rustix::fs::FlockOperation::LockExclusive).map_err(io::Error::from)
}

#[cfg(not(unix))]
fn lock_exclusive(_: &std::fs::File) -> io::Result<()> {
    Ok(())
}

/// Where the per-subject lock files live (beside `sha256/`, so a subject's
/// directory holds bundles only).
const LOCKS_DIR: &str = "locks";

/// A store entry's bytes: a regular file of at most
/// [`Limit::BundleBytes`](crate::limits::Limit::BundleBytes) (a symlink to
/// `/dev/zero` or a FIFO is refused, never read or waited on).
pub fn read_entry(path: &Path) -> io::Result<Vec<u8>> {
    crate::fsutil::read_bounded(path, crate::limits::Limit::BundleBytes)
}

#[cfg(test)]
mod tests {

    #[cfg(unix)]
    #[test]
    fn entries_that_are_no_regular_files_are_refused_at_once() {
        let d = tempfile::tempdir().unwrap();
        let zero = d.path().join("zero.sigstore.json");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let fifo = d.path().join("fifo.sigstore.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let big = d.path().join("big.sigstore.json");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(crate::limits::Limit::BundleBytes.get() + 1)
            .unwrap();
        let t = std::time::Instant::now();
        for p in [&zero, &fifo] {
            let e = read_entry(p).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
        }
        let e = read_entry(&big).unwrap_err();
        assert!(e.to_string().contains("MAX_BUNDLE_BYTES"), "{e}");
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
    }
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            predicate_slug("https://slsa.dev/provenance/v1"),
            "slsa.dev-provenance-v1"
        );
        assert_eq!(
            predicate_slug("https://spdx.dev/Document/v3"),
            "spdx.dev-document-v3"
        );
        assert_eq!(
            predicate_slug("https://model_signing/signature/v1.0"),
            "model_signing-signature-v1.0"
        );
        assert_eq!(predicate_slug("https://x/../../etc"), "x-..-..-etc");
        assert!(!predicate_slug("https://x/../../etc").contains('/'));
        assert_eq!(predicate_slug("///"), "predicate");
    }

    #[test]
    fn resigning_replaces_the_equivalent_bundle() {
        use crate::sign::bundle::sign_statement;
        use crate::sign::keys::{KeyAlgorithm, SigningKey};
        let home = tempfile::tempdir().unwrap();
        let store = Store::new(home.path());
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let other = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let st = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m","digest":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}],"predicateType":"https://x/p","predicate":{}}"#;
        let d = Sha256Digest::empty();
        let first = sign_statement(st, &key).unwrap();
        let second = sign_statement(st, &key).unwrap();
        assert_ne!(first, second, "ECDSA signatures are randomized");
        store.put(&first, "https://x/p", &[d]).unwrap();
        let kept = store.put(&second, "https://x/p", &[d]).unwrap();
        let listed = store.list(&d).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].path, kept[0]);
        // Another signer's bundle of the same statement is kept beside it.
        store
            .put(&sign_statement(st, &other).unwrap(), "https://x/p", &[d])
            .unwrap();
        assert_eq!(store.list(&d).unwrap().len(), 2);
    }

    #[test]
    fn put_list_idempotent() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::new(home.path());
        let a = Sha256Digest::of(b"a");
        let b = Sha256Digest::of(b"b");
        assert!(store.list(&a).unwrap().is_empty());
        let paths = store
            .put(b"{}", "https://slsa.dev/provenance/v1", &[a, b, a])
            .unwrap();
        assert_eq!(paths.len(), 2);
        store
            .put(b"{}", "https://slsa.dev/provenance/v1", &[a])
            .unwrap();
        let listed = store.list(&a).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].predicate_slug, "slsa.dev-provenance-v1");
        assert_eq!(listed[0].bundle_digest, Sha256Digest::of(b"{}"));
        assert_eq!(std::fs::read(&listed[0].path).unwrap(), b"{}");
        assert_eq!(store.list(&b).unwrap().len(), 1);
    }
}
