//! Digests: SHA-256, the OMS v1.0 artifact digest, and the file sets they
//! identify.
//!
//! The artifact digest of a set of files is the OpenSSF Model Signing v1.0
//! root digest: SHA-256 over the concatenated raw digests of every file, in
//! the order Python's `PurePosixPath` sorts their relative paths (component by
//! component). An empty set gives the digest of the empty string.
//!
//! - [`set`]: the artifact's file set ([`FileEntry`], [`FileSet`]) and the
//!   one walker configuration ([`SetOptions::artifact`]);
//! - [`walk`]: a file or directory into its regular files;
//! - [`hash`]: the parallel hashing engine;
//! - [`cache`]: the (device, inode, size, mtime, ctime) hash cache.

pub mod cache;
pub mod hash;
pub mod set;
pub mod walk;

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub use cache::{FileId, HashCache};
pub use hash::{HashError, hash_file, hash_files, hash_reader};
pub use set::{
    DEFAULT_IGNORES, FileEntry, FileSet, SIGNATURE_FILE, SetError, SetOptions, entries_digest,
};
pub use walk::{TreeFile, WalkError, walk};

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

/// A temporary tree with these files (parents made as needed).
#[cfg(test)]
pub(crate) fn test_tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (rel, bytes) in files {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
