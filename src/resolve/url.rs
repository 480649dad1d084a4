//! `url` inputs (download + sha256) and the verified download used by every
//! remote source.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use crate::digest::{self, FileEntry, FileSet, Sha256Digest};
use crate::lockfile::LockedInput;
use crate::manifest::Input;
use crate::reporter::Reporter;

use super::{ResolveContext, ResolveError};

/// How many times a download or API call is tried before giving up.
pub const ATTEMPTS: u32 = 3;

/// The HTTP client shared by the resolvers: rustls, a user agent, sane
/// timeouts (connect 30 s; each request gets a deadline from its size).
pub fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .user_agent(concat!("mlprov/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .timeout(None)
        .build()
        .unwrap_or_else(|_| reqwest::blocking::Client::new())
}

/// Where a URL download with this digest is cached.
pub fn download_dir(cache_dir: &Path, sha256: &Sha256Digest) -> PathBuf {
    cache_dir
        .join("downloads")
        .join("sha256")
        .join(sha256.hex())
}

/// What a download must hash to.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    Sha256(Sha256Digest),
    /// A git blob id (SHA-1 of `blob <len>\0<content>`), as the Hub gives for
    /// files not stored in LFS.
    GitBlob([u8; 20]),
}

/// Download `url` into `dest` (atomically: temp file in the same directory,
/// then rename), verifying size and digest while streaming. Returns the
/// file's SHA-256. A mismatch leaves nothing behind.
#[allow(clippy::too_many_arguments)]
pub fn fetch_verified(
    client: &reqwest::blocking::Client,
    url: &str,
    token: Option<&str>,
    dest: &Path,
    expect: Expect,
    expected_size: Option<u64>,
    input: &str,
    display_name: &str,
    reporter: &dyn Reporter,
) -> Result<Sha256Digest, ResolveError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(ResolveError::io(input, dir))?;
    let mut last_err = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(250 << attempt));
        }
        match fetch_once(
            client,
            url,
            token,
            dir,
            expect,
            expected_size,
            input,
            display_name,
            reporter,
        ) {
            Ok((tmp, sha)) => {
                tmp.persist(dest)
                    .map_err(|e| ResolveError::io(input, dest)(e.error))?;
                return Ok(sha);
            }
            Err(e @ ResolveError::Network { .. }) => last_err = Some(e),
            Err(ResolveError::Http { status, .. }) if status >= 500 && attempt + 1 < ATTEMPTS => {}
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| ResolveError::Network {
        input: input.to_string(),
        url: url.to_string(),
        message: "giving up after repeated server errors".into(),
    }))
}

#[allow(clippy::too_many_arguments)]
fn fetch_once(
    client: &reqwest::blocking::Client,
    url: &str,
    token: Option<&str>,
    dir: &Path,
    expect: Expect,
    expected_size: Option<u64>,
    input: &str,
    display_name: &str,
    reporter: &dyn Reporter,
) -> Result<(tempfile::NamedTempFile, Sha256Digest), ResolveError> {
    let net = |e: &dyn std::fmt::Display| ResolveError::Network {
        input: input.to_string(),
        url: url.to_string(),
        message: e.to_string(),
    };
    // The blocking client has no read timeout: bound the whole transfer by
    // its size instead (a minute plus 1 MiB/s), so a stalled server fails.
    let deadline = 60 + expected_size.unwrap_or(3600 << 20) / (1 << 20);
    let mut req = client.get(url).timeout(Duration::from_secs(deadline));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let mut resp = req.send().map_err(|e| net(&error_chain(&e)))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(ResolveError::Http {
            input: input.to_string(),
            url: url.to_string(),
            status: status.as_u16(),
            detail: String::new(),
            help: "check the URL; retry later if the server is having trouble".into(),
        });
    }
    let total = expected_size.or(resp.content_length()).unwrap_or(0);
    reporter.start(&format!("downloading {display_name}"), total);
    let mut tmp = tempfile::Builder::new()
        .prefix(&crate::cleanup::prefix("download"))
        .suffix(".incomplete")
        .tempfile_in(dir)
        .map_err(ResolveError::io(input, dir))?;
    let mut sha256 = Sha256::new();
    let mut sha1 = match (expect, expected_size) {
        (Expect::GitBlob(_), Some(n)) => {
            let mut h = Sha1::new();
            h.update(format!("blob {n}\0").as_bytes());
            Some(h)
        }
        _ => None,
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0u64;
    loop {
        let n = match resp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                reporter.finish();
                return Err(net(&e));
            }
        };
        sha256.update(&buf[..n]);
        if let Some(h) = sha1.as_mut() {
            h.update(&buf[..n]);
        }
        got += n as u64;
        if expected_size.is_some_and(|s| got > s) {
            break;
        }
        tmp.write_all(&buf[..n])
            .map_err(ResolveError::io(input, tmp.path()))?;
        reporter.on_bytes(n as u64);
    }
    reporter.finish();
    if let Some(s) = expected_size
        && got != s
    {
        return Err(ResolveError::DigestMismatch {
            input: input.to_string(),
            file: display_name.to_string(),
            expected: format!("{s} bytes"),
            actual: format!("{got} bytes"),
        });
    }
    let actual = Sha256Digest(sha256.finalize().into());
    match expect {
        Expect::Sha256(want) if want != actual => {
            return Err(ResolveError::DigestMismatch {
                input: input.to_string(),
                file: display_name.to_string(),
                expected: want.prefixed(),
                actual: actual.prefixed(),
            });
        }
        Expect::GitBlob(want) => {
            let have: [u8; 20] = match sha1 {
                Some(h) => h.finalize().into(),
                None => {
                    // Size unknown up front: hash the blob header now.
                    let mut h = Sha1::new();
                    h.update(format!("blob {got}\0").as_bytes());
                    let mut f = std::fs::File::open(tmp.path())
                        .map_err(ResolveError::io(input, tmp.path()))?;
                    std::io::copy(&mut f, &mut HashWriter(&mut h))
                        .map_err(ResolveError::io(input, tmp.path()))?;
                    h.finalize().into()
                }
            };
            if have != want {
                return Err(ResolveError::DigestMismatch {
                    input: input.to_string(),
                    file: display_name.to_string(),
                    expected: format!("git blob {}", hex::encode(want)),
                    actual: format!("git blob {}", hex::encode(have)),
                });
            }
        }
        _ => {}
    }
    tmp.as_file()
        .sync_all()
        .map_err(ResolveError::io(input, tmp.path()))?;
    Ok((tmp, actual))
}

struct HashWriter<'a>(&'a mut Sha1);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The git blob id of a file on disk.
pub fn git_blob_id(path: &Path) -> std::io::Result<[u8; 20]> {
    let size = std::fs::metadata(path)?.len();
    let mut h = Sha1::new();
    h.update(format!("blob {size}\0").as_bytes());
    std::io::copy(&mut std::fs::File::open(path)?, &mut HashWriter(&mut h))?;
    Ok(h.finalize().into())
}

/// reqwest errors hide the useful part (connection refused, reset) in their
/// source chain.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// The file name a URL download is recorded under.
fn file_name(url: &str) -> String {
    let path = url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.path_segments()
                .and_then(|mut s| s.next_back().map(str::to_string))
        })
        .unwrap_or_default();
    let decoded = percent_encoding::percent_decode_str(&path)
        .decode_utf8_lossy()
        .to_string();
    if crate::fsutil::is_safe_relative(&decoded) && !decoded.contains('/') {
        decoded
    } else {
        "download".to_string()
    }
}

pub fn resolve(
    input: &Input,
    url: &str,
    sha256: Sha256Digest,
    cx: &ResolveContext<'_>,
) -> Result<LockedInput, ResolveError> {
    let name = file_name(url);
    let dir = download_dir(&cx.cache_dir, &sha256);
    let dest = dir.join(&name);
    let cached = dest.is_file()
        && digest::hash_file(&dest, &crate::reporter::Silent)
            .map(|(d, _)| d == sha256)
            .unwrap_or(false);
    if !cached {
        if cx.offline {
            return Err(ResolveError::Offline {
                input: input.name.clone(),
                what: url.to_string(),
                cause: cx.offline_cause,
            });
        }
        cx.reporter.note(&format!("downloading {url}"));
        fetch_verified(
            cx.hf.http(),
            url,
            None,
            &dest,
            Expect::Sha256(sha256),
            None,
            &input.name,
            &name,
            cx.reporter,
        )?;
    }
    let size = std::fs::metadata(&dest)
        .map_err(ResolveError::io(&input.name, &dest))?
        .len();
    let set = FileSet::new(vec![FileEntry {
        path: name,
        size,
        sha256,
        format: None,
    }]);
    Ok(LockedInput {
        requested: None,
        include: Vec::new(),
        exclude: Vec::new(),
        ..super::locked(input, set, &dir)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_urls() {
        assert_eq!(file_name("https://example.com/a/tok.json?x=1"), "tok.json");
        assert_eq!(
            file_name("https://example.com/a/my%20file.bin"),
            "my file.bin"
        );
        assert_eq!(file_name("https://example.com/"), "download");
        assert_eq!(file_name("https://example.com/a/..%2F..%2Fetc"), "download");
    }
}
