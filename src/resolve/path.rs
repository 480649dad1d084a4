//! `path` inputs: a file or directory inside the project.

use crate::digest::{FileSet, SetError, SetOptions};
use crate::lockfile::LockedInput;
use crate::manifest::Input;

use super::{ResolveContext, ResolveError, glob_filter, locked};

/// The files a `path` input selects on disk, hashed: the path must exist
/// and stay inside the project; the artifact's files
/// ([`SetOptions::artifact`]) with links that stay in the tree, and the
/// include/exclude globs apply. Also says whether the path is a directory.
pub(crate) fn hash_selected(
    input: &Input,
    rel: &str,
    cx: &ResolveContext<'_>,
) -> Result<(FileSet, bool), ResolveError> {
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
    let opts = SetOptions::artifact()
        .with_symlinks(true)
        .selecting(glob_filter(&input.include, &input.exclude));
    let set = FileSet::hash(&abs, &opts, cx.hash_cache, cx.reporter).map_err(|e| match e {
        SetError::Walk(source) => ResolveError::Walk {
            input: input.name.clone(),
            source,
        },
        SetError::Hash(e) => ResolveError::hash(&input.name)(e),
    })?;
    if set.is_empty() && (!input.include.is_empty() || !input.exclude.is_empty()) {
        return Err(ResolveError::NoFiles {
            input: input.name.clone(),
        });
    }
    Ok((set, canon.is_dir()))
}

pub fn resolve(
    input: &Input,
    rel: &str,
    cx: &ResolveContext<'_>,
) -> Result<LockedInput, ResolveError> {
    let abs = cx.root.join(rel);
    let (set, is_dir) = hash_selected(input, rel, cx)?;
    cx.reporter
        .note(&format!("hashed {} ({} files)", input.name, set.len()));
    let dir = if is_dir {
        abs.clone()
    } else {
        abs.parent().map(|p| p.to_path_buf()).unwrap_or_default()
    };
    // A model directory copied from the Hub carries its card: use its license
    // when the manifest does not give one.
    let (card_license, datasets) = if is_dir {
        std::fs::read_to_string(abs.join("README.md"))
            .map(|r| super::card_metadata(&r))
            .unwrap_or_default()
    } else {
        (None, Vec::new())
    };
    let mut entry = locked(input, set, &dir);
    entry.license = entry.license.or(card_license);
    entry.datasets = datasets;
    Ok(entry)
}
