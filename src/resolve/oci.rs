//! `oci` inputs: `{ oci = "registry/repo:tag" }` resolves to a manifest
//! digest (the lock's `manifest`) and pins every layer as a file with its
//! `org.cncf.model.filepath`; the input's `digest` is the artifact digest of
//! those files, as for every other source. The files are fetched, each checked
//! against its layer digest, into mlprov's cache, where `build` finds them
//! ([`super::local_dir`]) or fetches them again ([`fetch`]).
//!
//! Registry access is the command's [`registry::Access`] (its registry
//! flags and `MLPROV_REGISTRY_*`, credentials as for `push`).

use std::path::{Path, PathBuf};

use crate::digest::{self, FileEntry, FileSet, Sha256Digest};
use crate::lockfile::LockedInput;
use crate::manifest::Input;
use crate::model::Source;
use crate::registry::{self, Client, OciRef, RegistryError};
use crate::reporter::Reporter;

use super::{ResolveContext, ResolveError, glob_filter};

/// Where the files of the OCI artifact with this manifest digest are cached.
pub fn cache_dir(cache_dir: &Path, manifest_digest: &Sha256Digest) -> PathBuf {
    cache_dir
        .join("oci")
        .join("sha256")
        .join(manifest_digest.hex())
}

fn reg(input: &str) -> impl FnOnce(RegistryError) -> ResolveError + use<> {
    let input = input.to_string();
    move |source| ResolveError::Registry { input, source }
}

fn client_for(r: &OciRef, input: &str, access: &registry::Access) -> Result<Client, ResolveError> {
    let settings = access.settings_for(&r.registry).map_err(reg(input))?;
    Client::new(&r.registry, &settings).map_err(reg(input))
}

pub fn resolve(
    input: &Input,
    reference: &str,
    cx: &ResolveContext<'_>,
) -> Result<LockedInput, ResolveError> {
    let name = input.name.as_str();
    if cx.offline {
        return Err(ResolveError::Offline {
            input: name.to_string(),
            what: format!("the manifest of {reference}"),
            cause: cx.offline_cause,
        });
    }
    let r = OciRef::parse(reference).map_err(reg(name))?;
    let client = client_for(&r, name, &cx.registry)?;
    cx.reporter.note(&format!("resolving {r}"));
    let resolved = registry::pull::resolve(&client, &r).map_err(reg(name))?;
    let keep = glob_filter(&input.include, &input.exclude);
    let files: Vec<FileEntry> = resolved
        .parsed
        .files
        .iter()
        .filter(|f| keep(&f.entry.path))
        .map(|f| f.entry.clone())
        .collect();
    if files.is_empty() {
        return Err(ResolveError::NoFiles {
            input: name.to_string(),
        });
    }
    let dir = cache_dir(&cx.cache_dir, &resolved.manifest_digest);
    fetch_into(&client, &r.repository, &files, &dir, name, cx.reporter)?;
    let license = input.license.clone().or_else(|| {
        resolved
            .parsed
            .annotation(registry::ANN_LICENSES)
            .map(str::to_string)
    });
    Ok(LockedInput {
        manifest: Some(resolved.manifest_digest),
        license,
        ..super::locked(input, FileSet::new(files), &dir)
    })
}

/// Make sure every file of a locked `oci` input is in the cache, fetching
/// what is missing from the manifest the lock pins (by digest, so a moved
/// tag changes nothing). Returns the directory holding the files.
pub fn fetch(
    locked: &LockedInput,
    cache: &Path,
    access: &registry::Access,
    reporter: &dyn Reporter,
) -> Result<PathBuf, ResolveError> {
    let name = locked.name.as_str();
    let (Source::Oci { reference }, Some(manifest)) = (&locked.source, locked.manifest) else {
        return Err(ResolveError::Registry {
            input: name.to_string(),
            source: RegistryError::BadReference {
                reference: locked.source.to_string(),
                message: "the lock entry is not an `oci` input with a manifest digest".into(),
            },
        });
    };
    let dir = cache_dir(cache, &manifest);
    let missing: Vec<FileEntry> = locked
        .files
        .iter()
        .filter(|f| !present(&dir.join(&f.path), f.size, &f.sha256))
        .cloned()
        .collect();
    if missing.is_empty() {
        return Ok(dir);
    }
    let r = OciRef::parse(reference)
        .map_err(reg(name))?
        .with_digest(manifest);
    let client = client_for(&r, name, access)?;
    let resolved = registry::pull::resolve(&client, &r).map_err(reg(name))?;
    for f in &missing {
        let listed = resolved.parsed.files.iter().any(|m| {
            m.entry.path == f.path && m.entry.sha256 == f.sha256 && m.entry.size == f.size
        });
        if !listed {
            return Err(ResolveError::DigestMismatch {
                input: name.to_string(),
                file: f.path.clone(),
                expected: f.sha256.prefixed(),
                actual: format!("not a layer of {r}"),
            });
        }
    }
    fetch_into(&client, &r.repository, &missing, &dir, name, reporter)?;
    Ok(dir)
}

fn present(path: &Path, size: u64, sha256: &Sha256Digest) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() == size)
        && digest::hash_file(path, &crate::reporter::Silent).is_ok_and(|(d, _)| d == *sha256)
}

/// Download files into `dir`, each into a temporary file that is renamed
/// into place only after its digest checked out.
fn fetch_into(
    client: &Client,
    repo: &str,
    files: &[FileEntry],
    dir: &Path,
    input: &str,
    reporter: &dyn Reporter,
) -> Result<(), ResolveError> {
    let todo: Vec<&FileEntry> = files
        .iter()
        .filter(|f| !present(&dir.join(&f.path), f.size, &f.sha256))
        .collect();
    if todo.is_empty() {
        return Ok(());
    }
    reporter.start("downloading", todo.iter().map(|f| f.size).sum());
    let r = fetch_each(client, repo, &todo, dir, input, reporter);
    reporter.finish();
    r
}

fn fetch_each(
    client: &Client,
    repo: &str,
    files: &[&FileEntry],
    dir: &Path,
    input: &str,
    reporter: &dyn Reporter,
) -> Result<(), ResolveError> {
    for f in files {
        let dest = dir.join(&f.path);
        let parent = dest.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent).map_err(ResolveError::io(input, parent))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(&crate::cleanup::prefix("download"))
            .suffix(".incomplete")
            .tempfile_in(parent)
            .map_err(ResolveError::io(input, parent))?;
        reporter.file(&f.path);
        client
            .download_blob(
                repo,
                &f.sha256,
                f.size,
                tmp.as_file_mut(),
                &f.path,
                reporter,
            )
            .map_err(reg(input))?;
        tmp.persist(&dest)
            .map_err(|e| ResolveError::io(input, &dest)(e.error))?;
    }
    Ok(())
}
