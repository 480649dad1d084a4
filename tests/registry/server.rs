//! Debian's `docker-registry` (distribution 2.8) on a free 127.0.0.1 port,
//! with filesystem storage in a temp dir, optionally behind htpasswd auth or
//! bearer tokens from a [`TokenService`].

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::token_service::TokenService;
use crate::common::*;

pub const USER: &str = "mlprov-test";
pub const PASSWORD: &str = "correct horse battery staple";

/// The `docker-registry` binary, if installed. Absent: tests skip with a
/// printed reason, except under `CI`, where absence is a failure (`.ci/run`
/// installs it).
pub fn binary() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("docker-registry"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if in_ci() {
            panic!(
                "CI is set but docker-registry is not installed (apt-get install docker-registry)"
            );
        }
        skip("docker-registry is not installed (apt-get install docker-registry)");
    }
    found
}

/// How the registry authenticates.
enum Auth<'a> {
    None,
    Htpasswd,
    Token(&'a TokenService),
}

pub struct Registry {
    pub addr: String,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Registry {
    /// Start a registry; `auth` adds htpasswd with [`USER`]/[`PASSWORD`].
    pub fn start(auth: bool) -> Option<Self> {
        Self::launch(if auth { Auth::Htpasswd } else { Auth::None })
    }

    /// Start a registry that takes bearer tokens from `service` only (the
    /// distribution token handshake, as Docker Hub, GHCR and Quay use).
    pub fn start_with_tokens(service: &TokenService) -> Option<Self> {
        Self::launch(Auth::Token(service))
    }

    fn launch(auth: Auth<'_>) -> Option<Self> {
        let bin = binary()?;
        let dir = tempfile::Builder::new()
            .prefix("mlprov-registry-")
            .tempdir()
            .expect("tmp");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            dir.path().join("storage").display()
        );
        match auth {
            Auth::None => {}
            Auth::Htpasswd => {
                // distribution only reads bcrypt entries; cost 4 keeps the test fast.
                let hash = bcrypt::hash(PASSWORD, 4).expect("bcrypt");
                let htpasswd = dir.path().join("htpasswd");
                std::fs::write(&htpasswd, format!("{USER}:{hash}\n")).expect("htpasswd");
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: mlprov-test\n    path: {}\n",
                    htpasswd.display()
                ));
            }
            Auth::Token(service) => {
                let bundle = dir.path().join("token-signer.pem");
                std::fs::write(&bundle, &service.certificate_pem).expect("root bundle");
                config.push_str(&format!(
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    service.realm(),
                    super::token_service::SERVICE,
                    super::token_service::ISSUER,
                    bundle.display()
                ));
            }
        }
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).expect("config");
        // The log goes to a file: a pipe nobody drains fills up (every 404
        // of the referrers fallback is logged at error level) and then the
        // registry blocks mid-request.
        let log_path = dir.path().join("registry.log");
        let log = std::fs::File::create(&log_path).expect("registry log");
        let child = Command::new(bin)
            .arg("serve")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn docker-registry");
        let mut reg = Registry { addr, dir, child };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = reqwest::blocking::get(format!("http://{}/v2/", reg.addr))
                && (r.status().as_u16() == 200 || r.status().as_u16() == 401)
            {
                return Some(reg);
            }
            if let Ok(Some(status)) = reg.child.try_wait() {
                let err = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("docker-registry exited ({status}): {err}");
            }
            assert!(Instant::now() < deadline, "docker-registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The blob file of `digest` in the registry's storage.
    pub fn blob_path(&self, hex: &str) -> PathBuf {
        self.dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// GET a manifest (status, body) straight from the registry.
    pub fn manifest(&self, repo: &str, reference: &str) -> (u16, Vec<u8>) {
        let r = reqwest::blocking::Client::new()
            .get(format!("http://{}/v2/{repo}/manifests/{reference}", self.addr))
            .header(
                "Accept",
                "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
            )
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .expect("GET manifest");
        (r.status().as_u16(), r.bytes().expect("body").to_vec())
    }

    pub fn blob(&self, repo: &str, digest: &str) -> Vec<u8> {
        let r = reqwest::blocking::Client::new()
            .get(format!("http://{}/v2/{repo}/blobs/{digest}", self.addr))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .expect("GET blob");
        assert_eq!(r.status().as_u16(), 200);
        r.bytes().expect("body").to_vec()
    }
}

/// Every file under `dir` (relative path → bytes).
pub fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    fn walk(root: &Path, d: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}
