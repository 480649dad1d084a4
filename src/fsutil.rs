//! Small filesystem helpers shared by the domain modules.

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// Write `bytes` to `path` atomically: a temporary file in the same directory
/// is written, flushed to disk and renamed over the target. A crash or
/// `kill -9` leaves either the old file or the new one, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_impl(path, bytes, None)
}

/// Like [`write_atomic`], with the file's permission bits set to `mode` on
/// Unix before it appears (temporary files start as 0600): 0644 for files
/// meant to be shared (public keys, signatures), 0600 for secrets.
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write_atomic_impl(path, bytes, Some(mode))
}

fn write_atomic_impl(path: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    // What a killed run left here goes first.
    crate::cleanup::sweep(dir);
    let mut tmp = tempfile::Builder::new()
        .prefix(&crate::cleanup::prefix("tmp"))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    // Temporary files start as 0600; a file people share (a lock, a
    // document) gets the mode of the file it replaces, else 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = mode
            .or_else(|| {
                std::fs::metadata(path)
                    .ok()
                    .map(|m| m.permissions().mode() & 0o7777)
            })
            .unwrap_or(0o644);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // Make the rename itself durable where the platform allows it.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Read a regular file of at most `limit` bytes, while reading (a file that
/// grows, or a device, never costs more than `limit`). Anything that is not
/// a regular file (a FIFO that would block, `/dev/zero` through a symlink,
/// a directory) is refused before it is opened. The error names the limit
/// and its variable (`mlprov.toml: larger than the limit of 1 MiB
/// (MAX_MANIFEST_BYTES; raise it with MLPROV_MAX_MANIFEST_BYTES)`).
pub fn read_bounded(path: &Path, which: crate::limits::Limit) -> io::Result<Vec<u8>> {
    use std::io::Read as _;
    let limit = which.get();
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let too_large = || {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!(
                "larger than the limit of {} ({})",
                which.shown(),
                which.named()
            ),
        )
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut out = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(out)
}

/// [`read_bounded`] as UTF-8 text.
pub fn read_text_bounded(path: &Path, which: crate::limits::Limit) -> io::Result<String> {
    String::from_utf8(read_bounded(path, which)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// A directory of documents that appear together or not at all. `path`
/// (`target/mlprov`) is a symlink to one generation under
/// `{path}.builds/`; a new generation is written beside the current one and
/// [`publish`](Self::publish) points the symlink at it with one rename,
/// then removes older generations. A kill before that leaves the previous
/// generation in place (and a stale one that the next run removes); a
/// directory left by an older mlprov is moved aside first. Without
/// symlinks (Windows), the files are written into `path` itself.
pub struct Generation {
    path: PathBuf,
    dir: PathBuf,
}

impl Generation {
    /// A new generation beside the current one, holding the current one's
    /// files except `replaced` (what this run writes anew): bundles that
    /// `attest import` filed there stay.
    pub fn new(path: &Path, replaced: &[&str]) -> io::Result<Self> {
        if !cfg!(unix) {
            std::fs::create_dir_all(path)?;
            return Ok(Self {
                path: path.to_path_buf(),
                dir: path.to_path_buf(),
            });
        }
        let builds = Self::builds(path);
        std::fs::create_dir_all(&builds)?;
        let dir = tempfile::Builder::new()
            .prefix("build-")
            .tempdir_in(&builds)?
            .keep();
        if let Ok(rd) = std::fs::read_dir(path) {
            for e in rd.flatten() {
                let name = e.file_name();
                let keep = e.file_type().is_ok_and(|t| t.is_file())
                    && name
                        .to_str()
                        .is_some_and(|n| !replaced.contains(&n) && !n.starts_with(".mlprov-"));
                if keep {
                    let to = dir.join(&name);
                    if std::fs::hard_link(e.path(), &to).is_err() {
                        std::fs::copy(e.path(), &to)?;
                    }
                }
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            dir,
        })
    }

    fn builds(path: &Path) -> PathBuf {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".builds");
        path.with_file_name(name)
    }

    /// Where this generation's files go.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Make this generation the current one.
    pub fn publish(self) -> io::Result<()> {
        #[cfg(unix)]
        {
            let parent = self.path.parent().unwrap_or(Path::new("."));
            let builds = Self::builds(&self.path);
            if let Ok(d) = std::fs::File::open(&self.dir) {
                d.sync_all()?;
            }
            // A real directory (an older mlprov's layout) cannot be renamed
            // over: move it aside, to be removed with the old generations.
            if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.is_dir()) {
                let aside = tempfile::Builder::new()
                    .prefix("old-")
                    .tempdir_in(&builds)?
                    .keep();
                std::fs::remove_dir(&aside)?;
                std::fs::rename(&self.path, &aside)?;
            }
            let name = self.dir.file_name().unwrap_or_default();
            let target = Path::new(builds.file_name().unwrap_or_default()).join(name);
            let link = parent.join(format!("{}link", crate::cleanup::prefix("tmp")));
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&target, &link)?;
            std::fs::rename(&link, &self.path)?;
            if let Ok(d) = std::fs::File::open(parent) {
                let _ = d.sync_all();
            }
            // Older generations (and what interrupted builds left).
            if let Ok(rd) = std::fs::read_dir(&builds) {
                for e in rd.flatten() {
                    if e.file_name().as_os_str() != name {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        Ok(())
    }
}

/// Render a relative path with `/` separators (the form recorded in every
/// document), or `None` when it is not a plain relative path (absolute, or
/// containing `..`, or not UTF-8).
pub fn to_posix_relative(path: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// Is `rel` a safe relative POSIX path (no `..`, no absolute root, no empty
/// or `.` components, no backslashes or NULs)? Used for names that come from
/// servers, locks and registries before they touch the filesystem.
pub fn is_safe_relative(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.starts_with('/')
        && !rel.contains('\\')
        && !rel.contains('\0')
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// A human size: `1.5 GiB`, `654 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_relative_paths() {
        assert!(is_safe_relative("a/b.txt"));
        assert!(!is_safe_relative("../a"));
        assert!(!is_safe_relative("a/../b"));
        assert!(!is_safe_relative("/etc/passwd"));
        assert!(!is_safe_relative("a//b"));
        assert!(!is_safe_relative("a\\b"));
        assert!(!is_safe_relative(""));
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_keeps_or_sets_a_shareable_mode() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        write_atomic(&p, b"one").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p), 0o644);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(mode(&p), 0o640);
        write_atomic_mode(&p, b"three", 0o600).unwrap();
        assert_eq!(mode(&p), 0o600);
    }

    #[test]
    fn atomic_write_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
