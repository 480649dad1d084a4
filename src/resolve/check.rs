//! Checks `build` makes before training: the lock still answers the manifest
//! (freshness), and the inputs on disk are the locked bytes (integrity).
//! Neither ever edits the lock.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::digest::{self, FileEntry, Sha256Digest, TreeFile};
use crate::lockfile::{Lock, LockedInput};
use crate::manifest::Manifest;
use crate::model::Source;

use super::{ResolveContext, ResolveError};

/// Why one input's lock entry no longer answers the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    /// In mlprov.toml, not in the lock.
    NotLocked,
    /// In the lock, no longer in mlprov.toml.
    Removed,
    /// Source, revision, include/exclude or sha256 changed.
    Changed,
    /// The role changed (the lock records it).
    Role { locked: String, manifest: String },
    /// The explicit license changed.
    License,
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stale::NotLocked => f.write_str("added to mlprov.toml but not pinned"),
            Stale::Removed => f.write_str("removed from mlprov.toml but still locked"),
            Stale::Changed => {
                f.write_str("its source, revision or file selection changed since it was pinned")
            }
            Stale::Role { locked, manifest } => {
                write!(f, "its role changed from {locked} to {manifest}")
            }
            Stale::License => f.write_str("its license changed since it was pinned"),
        }
    }
}

/// Every input whose lock entry is stale, sorted by name. Empty: the lock is
/// fresh.
pub fn freshness(manifest: &Manifest, lock: &Lock) -> Vec<(String, Stale)> {
    let mut out = Vec::new();
    for (name, input) in &manifest.inputs {
        match lock.get(name) {
            None => out.push((name.clone(), Stale::NotLocked)),
            Some(l) if !l.matches_request(input) => out.push((name.clone(), Stale::Changed)),
            Some(l) if l.role != input.role => out.push((
                name.clone(),
                Stale::Role {
                    locked: l.role.to_string(),
                    manifest: input.role.to_string(),
                },
            )),
            Some(l) if input.license.is_some() && l.license != input.license => {
                out.push((name.clone(), Stale::License))
            }
            Some(_) => {}
        }
    }
    for l in &lock.inputs {
        if !manifest.inputs.contains_key(&l.name) {
            out.push((l.name.clone(), Stale::Removed));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A file on disk that is not what the lock says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub input: String,
    /// Where the file is, for people: project-relative for `path` inputs,
    /// the cache path otherwise.
    pub path: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Changed {
        expected: Sha256Digest,
        actual: Sha256Digest,
    },
    Missing {
        expected: Sha256Digest,
    },
    Added {
        actual: Sha256Digest,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::Changed { expected, actual } => write!(
                f,
                "input `{}`: {} changed (expected {}, found {})",
                self.input,
                self.path,
                expected.prefixed(),
                actual.prefixed()
            ),
            Problem::Missing { expected } => write!(
                f,
                "input `{}`: {} is missing (expected {})",
                self.input,
                self.path,
                expected.prefixed()
            ),
            Problem::Added { actual } => write!(
                f,
                "input `{}`: {} is new since the input was pinned ({})",
                self.input,
                self.path,
                actual.prefixed()
            ),
        }
    }
}

/// What the integrity check found: per input, the files it hashed.
#[derive(Debug, Default)]
pub struct Integrity {
    pub mismatches: Vec<Mismatch>,
    pub files: usize,
    pub bytes: u64,
}

/// Re-hash every locked input where it lives on this machine and compare
/// each file with the lock. HF and URL files missing from their caches are
/// fetched and verified first (unless offline). Problems with the files are
/// collected (all of them); failures to check at all are errors.
pub fn integrity(
    manifest: &Manifest,
    lock: &Lock,
    cx: &ResolveContext<'_>,
) -> Result<Integrity, ResolveError> {
    let mut out = Integrity::default();
    for locked in &lock.inputs {
        let Some(input) = manifest.inputs.get(&locked.name) else {
            continue;
        };
        match &input.source {
            Source::Path { path } => check_path(locked, input, path, cx, &mut out)?,
            Source::Hf { .. } | Source::HfDataset { .. } => check_hf(locked, cx, &mut out)?,
            Source::Url { url } => {
                let sha256 = input.sha256.ok_or_else(|| ResolveError::NoDigest {
                    input: input.name.clone(),
                })?;
                let dir = super::url::download_dir(&cx.cache_dir, &sha256);
                let present = locked.files.iter().all(|f| dir.join(&f.path).is_file());
                if !present {
                    // Downloads and verifies, or fails offline.
                    super::url::resolve(input, url, sha256, cx)?;
                }
                let files = locked_tree(locked, &dir);
                compare(locked, &files, cx, &mut out, |rel| {
                    dir.join(rel).display().to_string()
                })?;
            }
            Source::Oci { .. } => {
                let cached = super::local_dir(locked, cx)
                    .filter(|dir| locked.files.iter().all(|f| dir.join(&f.path).is_file()));
                let dir = match cached {
                    Some(dir) => dir,
                    None if cx.offline => {
                        return Err(ResolveError::Offline {
                            input: locked.name.clone(),
                            what: format!("the files of {}", locked.source),
                            cause: cx.offline_cause,
                        });
                    }
                    // Fetches the layers of the pinned manifest, each verified.
                    None => super::oci::fetch(locked, &cx.cache_dir, &cx.registry, cx.reporter)?,
                };
                let files = locked_tree(locked, &dir);
                compare(locked, &files, cx, &mut out, |rel| {
                    dir.join(rel).display().to_string()
                })?;
            }
        }
    }
    Ok(out)
}

fn locked_tree(locked: &LockedInput, dir: &std::path::Path) -> Vec<TreeFile> {
    locked
        .files
        .iter()
        .map(|f| TreeFile {
            rel: f.path.clone(),
            abs: dir.join(&f.path),
            size: f.size,
        })
        .collect()
}

fn check_path(
    locked: &LockedInput,
    input: &crate::manifest::Input,
    rel: &str,
    cx: &ResolveContext<'_>,
    out: &mut Integrity,
) -> Result<(), ResolveError> {
    let (set, is_dir) = match super::path::hash_selected(input, rel, cx) {
        Ok(x) => x,
        Err(ResolveError::Missing { .. }) => {
            for f in &locked.files {
                out.mismatches.push(Mismatch {
                    input: locked.name.clone(),
                    path: display_path(rel, &f.path, false),
                    problem: Problem::Missing { expected: f.sha256 },
                });
            }
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    cx.reporter
        .note(&format!("checked {} ({} files)", locked.name, set.len()));
    out.files += set.len();
    out.bytes += set.total_size();
    let on_disk: BTreeMap<&str, Sha256Digest> = set
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.sha256))
        .collect();
    let in_lock: BTreeMap<&str, &FileEntry> =
        locked.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let names: BTreeSet<&str> = on_disk.keys().chain(in_lock.keys()).copied().collect();
    let mut names: Vec<&str> = names.into_iter().collect();
    names.sort_by(|a, b| digest::posix_path_cmp(a, b));
    for name in names {
        let problem = match (in_lock.get(name), on_disk.get(name)) {
            (Some(l), Some(d)) if l.sha256 == *d => continue,
            (Some(l), Some(d)) => Problem::Changed {
                expected: l.sha256,
                actual: *d,
            },
            (Some(l), None) => Problem::Missing { expected: l.sha256 },
            (None, Some(d)) => Problem::Added { actual: *d },
            (None, None) => continue,
        };
        out.mismatches.push(Mismatch {
            input: locked.name.clone(),
            path: display_path(rel, name, is_dir),
            problem,
        });
    }
    Ok(())
}

/// `data/train/x.jsonl` for a directory input, `data/train.jsonl` for a file.
fn display_path(input_path: &str, rel: &str, is_dir: bool) -> String {
    if is_dir {
        format!("{}/{rel}", input_path.trim_end_matches('/'))
    } else {
        input_path.to_string()
    }
}

fn check_hf(
    locked: &LockedInput,
    cx: &ResolveContext<'_>,
    out: &mut Integrity,
) -> Result<(), ResolveError> {
    let snap = super::local_dir(locked, cx).ok_or_else(|| ResolveError::HfProtocol {
        input: locked.name.clone(),
        repo: locked.source.to_string(),
        message: "the lock entry has no commit".into(),
    })?;
    let missing: Vec<&FileEntry> = locked
        .files
        .iter()
        .filter(|f| !snap.join(&f.path).is_file())
        .collect();
    if !missing.is_empty() {
        cx.reporter.note(&format!(
            "{}: {} file(s) missing from the Hugging Face cache",
            locked.name,
            missing.len()
        ));
        super::hf::fetch_locked(locked, &missing, cx)?;
    }
    let files = locked_tree(locked, &snap);
    compare(locked, &files, cx, out, |rel| {
        snap.join(rel).display().to_string()
    })
}

/// Hash `files` (the lock's list, placed on disk) and compare with the lock.
fn compare(
    locked: &LockedInput,
    files: &[TreeFile],
    cx: &ResolveContext<'_>,
    out: &mut Integrity,
    display: impl Fn(&str) -> String,
) -> Result<(), ResolveError> {
    let hashed = hash(locked, files, cx)?;
    out.files += hashed.len();
    out.bytes += hashed.iter().map(|f| f.size).sum::<u64>();
    for (h, l) in hashed.iter().zip(&locked.files) {
        if h.sha256 != l.sha256 {
            out.mismatches.push(Mismatch {
                input: locked.name.clone(),
                path: display(&l.path),
                problem: Problem::Changed {
                    expected: l.sha256,
                    actual: h.sha256,
                },
            });
        }
    }
    Ok(())
}

fn hash(
    locked: &LockedInput,
    files: &[TreeFile],
    cx: &ResolveContext<'_>,
) -> Result<Vec<FileEntry>, ResolveError> {
    cx.reporter
        .note(&format!("checking {} ({} files)", locked.name, files.len()));
    digest::hash_files(files, cx.hash_cache, cx.reporter).map_err(ResolveError::hash(&locked.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(inputs: &str) -> Manifest {
        let text = format!(
            "[artifact]\nname = \"a/m\"\nversion = \"1\"\nkind = \"model\"\npath = \"out\"\n\n[inputs]\n{inputs}"
        );
        Manifest::parse(&text, "mlprov.toml").unwrap()
    }

    fn locked(name: &str, path: &str, role: crate::model::Role) -> LockedInput {
        LockedInput {
            name: name.into(),
            role,
            source: Source::Path { path: path.into() },
            requested: None,
            commit: None,
            digest: Sha256Digest::empty(),
            manifest: None,
            license: None,
            datasets: vec![],
            include: vec![],
            exclude: vec![],
            files: vec![],
        }
    }

    #[test]
    fn freshness_names_every_stale_input() {
        use crate::model::Role;
        let m = manifest(
            "a = { path = \"a\", role = \"training-data\" }\nb = { path = \"b2\", role = \"config\" }\nc = { path = \"c\", role = \"test-data\" }\n",
        );
        let lock = Lock {
            version: crate::lockfile::LOCK_VERSION,
            upgraded_from: None,
            inputs: vec![
                locked("a", "a", Role::TrainingData),
                locked("b", "b", Role::Config),
                locked("c", "c", Role::TrainingData),
                locked("z", "z", Role::Other),
            ],
        };
        let stale = freshness(&m, &lock);
        let names: Vec<(&str, &Stale)> = stale.iter().map(|(n, s)| (n.as_str(), s)).collect();
        assert_eq!(names.len(), 3, "{stale:?}");
        assert_eq!(names[0], ("b", &Stale::Changed));
        assert!(matches!(names[1], ("c", Stale::Role { .. })));
        assert_eq!(names[2], ("z", &Stale::Removed));
        let fresh = Lock {
            version: crate::lockfile::LOCK_VERSION,
            upgraded_from: None,
            inputs: vec![locked("a", "a", Role::TrainingData)],
        };
        let m = manifest("a = { path = \"a\", role = \"training-data\" }\n");
        assert!(freshness(&m, &fresh).is_empty());
        let m = manifest(
            "a = { path = \"a\", role = \"training-data\" }\nn = { path = \"n\", role = \"config\" }\n",
        );
        assert_eq!(freshness(&m, &fresh), [("n".to_string(), Stale::NotLocked)]);
    }
}
