//! `path` inputs: a file or directory inside the project.

use std::path::PathBuf;

use crate::digest::{self, TreeFile, WalkOptions};
use crate::lockfile::LockedInput;
use crate::manifest::Input;

use super::{ResolveContext, ResolveError, glob_filter, lock_files};

/// The files a `path` input selects on disk: the path must exist and stay
/// inside the project; `.git` and friends are left out, links must stay in
/// the tree, and the include/exclude globs apply. Also returns the canonical
/// path (to tell a file from a directory).
pub(crate) fn selected_files(
    input: &Input,
    rel: &str,
    cx: &ResolveContext<'_>,
) -> Result<(Vec<TreeFile>, PathBuf), ResolveError> {
    let abs = cx.root.join(rel);
    if !abs.exists() {
        return Err(ResolveError::Missing {
            input: input.name.clone(),
            path: rel.to_string(),
        });
    }
    let canon_root = cx
        .root
        .canonicalize()
        .map_err(ResolveError::io(&input.name, cx.root))?;
    let canon = abs
        .canonicalize()
        .map_err(ResolveError::io(&input.name, &abs))?;
    if !canon.starts_with(&canon_root) {
        return Err(ResolveError::Outside {
            input: input.name.clone(),
            path: rel.to_string(),
            resolved: canon.display().to_string(),
        });
    }
    let opts = WalkOptions {
        ignore_git_paths: true,
        allow_symlinks: true,
        ..Default::default()
    };
    let keep = glob_filter(&input.include, &input.exclude);
    let files: Vec<_> = digest::walk(&abs, &opts)
        .map_err(|source| ResolveError::Walk {
            input: input.name.clone(),
            source,
        })?
        .into_iter()
        .filter(|f| keep(&f.rel))
        .collect();
    if files.is_empty() && (!input.include.is_empty() || !input.exclude.is_empty()) {
        return Err(ResolveError::NoFiles {
            input: input.name.clone(),
        });
    }
    Ok((files, canon))
}

pub fn resolve(
    input: &Input,
    rel: &str,
    cx: &ResolveContext<'_>,
) -> Result<LockedInput, ResolveError> {
    let abs = cx.root.join(rel);
    let (files, canon) = selected_files(input, rel, cx)?;
    cx.reporter
        .note(&format!("hashing {} ({} files)", input.name, files.len()));
    let hashed =
        digest::hash_files(&files, cx.hash_cache, cx.reporter).map_err(|e| ResolveError::Io {
            input: input.name.clone(),
            path: e.path.display().to_string(),
            source: e.source,
        })?;
    let digest = digest::artifact_digest(hashed.iter().map(|f| (f.path.as_str(), &f.sha256)));
    let dir = if canon.is_dir() {
        abs.clone()
    } else {
        abs.parent().map(|p| p.to_path_buf()).unwrap_or_default()
    };
    // A model directory copied from the Hub carries its card: use its license
    // when the manifest does not give one.
    let (card_license, datasets) = if canon.is_dir() {
        std::fs::read_to_string(abs.join("README.md"))
            .map(|r| super::card_metadata(&r))
            .unwrap_or_default()
    } else {
        (None, Vec::new())
    };
    Ok(LockedInput {
        name: input.name.clone(),
        role: input.role,
        source: input.source.lock_source(),
        requested: None,
        commit: None,
        digest,
        license: input.license.clone().or(card_license),
        datasets,
        include: input.include.clone(),
        exclude: input.exclude.clone(),
        files: lock_files(hashed, &dir),
    })
}
