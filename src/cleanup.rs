//! What an interrupted run leaves behind. Temporary files and staging
//! directories are named `.mlprov-<kind>-<pid>-<random>` and registered
//! while they exist: the signal handler the command layer installs
//! (SIGINT, SIGTERM, SIGHUP) removes what is registered before the process
//! ends. What a SIGKILL leaves is swept by a later run ([`sweep`]): an entry
//! whose owner process is gone (and that is not brand new), or, where the
//! owner cannot be told, one older than a day.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The kinds of leftovers mlprov makes (the `<kind>` of the name).
pub const KINDS: &[&str] = &["tmp", "pull", "download"];

/// The name prefix for a temporary of `kind` made by this process.
pub fn prefix(kind: &str) -> String {
    format!(".mlprov-{kind}-{}-", std::process::id())
}

/// A path removed by the signal handler while this guard lives.
#[derive(Debug)]
pub struct Registered(PathBuf);

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut live) = LIVE.lock()
            && let Some(i) = live.iter().rposition(|p| *p == self.0)
        {
            live.swap_remove(i);
        }
    }
}

/// Register `path` (a file or a directory) for removal on a signal.
pub fn register(path: &Path) -> Registered {
    if let Ok(mut live) = LIVE.lock() {
        live.push(path.to_path_buf());
    }
    Registered(path.to_path_buf())
}

/// Remove everything registered (what the signal handler does). Returns
/// how many paths were removed.
pub fn remove_registered() -> usize {
    let paths: Vec<PathBuf> = match LIVE.lock() {
        Ok(mut live) => std::mem::take(&mut *live),
        Err(_) => return 0,
    };
    let mut n = 0;
    for p in paths {
        let removed = match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&p).is_ok(),
            Ok(_) => std::fs::remove_file(&p).is_ok(),
            Err(_) => false,
        };
        n += usize::from(removed);
    }
    n
}

/// Entries younger than this are never swept (another process may have
/// just made one).
const GRACE: Duration = Duration::from_secs(60);
/// Without an owner pid (or off Linux), entries older than this are stale.
const STALE: Duration = Duration::from_secs(24 * 3600);

/// Remove the stale `.mlprov-<kind>-…` entries directly in `dir`: owner
/// gone and older than a minute, or older than a day. Best effort: what
/// cannot be read or removed is left alone.
pub fn sweep(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix(".mlprov-") else {
            continue;
        };
        let Some((kind, rest)) = rest.split_once('-') else {
            continue;
        };
        if !KINDS.contains(&kind) {
            continue;
        }
        let Ok(meta) = e.path().symlink_metadata() else {
            continue;
        };
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        let owner = rest
            .split_once('-')
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        let stale = match owner {
            Some(pid) if pid == std::process::id() => false,
            Some(pid) => match alive(pid) {
                Some(true) => false,
                Some(false) => age > GRACE,
                None => age > STALE,
            },
            None => age > STALE,
        };
        if stale {
            let p = e.path();
            let _ = if meta.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
}

/// Whether process `pid` runs, where the platform can tell (`/proc`).
fn alive(pid: u32) -> Option<bool> {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return None;
    }
    Some(proc.join(pid.to_string()).exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_only_what_is_stale() {
        let d = tempfile::tempdir().unwrap();
        // Owner gone (pid 0 is never a user process on Linux), old.
        let gone = d.path().join(".mlprov-tmp-0-abc");
        std::fs::write(&gone, "x").unwrap();
        let old = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&gone)
            .unwrap()
            .set_modified(old)
            .unwrap();
        // Our own, and someone else's file that only looks alike.
        let mine = d.path().join(format!("{}x", prefix("tmp")));
        std::fs::write(&mine, "x").unwrap();
        let other = d.path().join(".mlprov-other-0-x");
        std::fs::write(&other, "x").unwrap();
        let kept = d.path().join("mlprov.lock");
        std::fs::write(&kept, "x").unwrap();
        sweep(d.path());
        if alive(1).is_some() {
            assert!(!gone.exists());
        }
        assert!(mine.exists() && other.exists() && kept.exists());
    }

    #[test]
    fn registered_paths_are_removed_once() {
        let d = tempfile::tempdir().unwrap();
        let staging = d.path().join(".mlprov-pull-1-x");
        std::fs::create_dir_all(staging.join("a")).unwrap();
        std::fs::write(staging.join("a/f"), "x").unwrap();
        let g = register(&staging);
        let dropped = {
            let p = d.path().join("gone");
            register(&p)
        };
        drop(dropped);
        assert!(remove_registered() >= 1);
        assert!(!staging.exists());
        drop(g);
    }
}
