//! Limits on what comes from outside, enforced while reading: a registry
//! answering a huge manifest or trickling one byte per second, a YAML alias
//! bomb, an oversized mlprov.toml. Each ends with exit 2 naming the limit,
//! within a stated memory bound (peak RSS of the child, from `wait4`).

use std::io::{Read, Write};

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// How a misbehaving registry answers manifest requests.
#[derive(Clone, Copy)]
enum Answer {
    /// 256 MiB of JSON-ish bytes without a Content-Length, as fast as
    /// possible.
    Huge,
    /// One byte per second.
    Trickle,
    /// `/v2/` asks for a bearer token, and the token service answers
    /// 256 MiB without a Content-Length.
    HugeToken,
}

/// `stderr` as one line: miette's frame and line breaks removed.
fn flat(stderr: &str) -> String {
    stderr
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A registry on 127.0.0.1 that answers `/v2/` and misbehaves on
/// manifests. Threads end with the test process.
fn misbehaving_registry(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let served = addr.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let addr = served.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if conn.read(&mut b).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(b[0]);
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                if let Answer::HugeToken = answer {
                    if path.starts_with("/token") {
                        huge(&mut conn, "application/json");
                    } else {
                        let _ = write!(
                            conn,
                            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://{addr}/token\",service=\"misbehaving\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        );
                    }
                    return;
                }
                if !path.contains("/manifests/") {
                    let body = if path.contains("/referrers/") {
                        ""
                    } else {
                        "{}"
                    };
                    let status = if path == "/v2/" {
                        "200 OK"
                    } else {
                        "404 Not Found"
                    };
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    return;
                }
                match answer {
                    Answer::Huge => huge(&mut conn, "application/vnd.oci.image.manifest.v1+json"),
                    Answer::Trickle => {
                        let _ = write!(
                            conn,
                            "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
                        );
                        for _ in 0..1000 {
                            if conn.write_all(b" ").is_err() {
                                return;
                            }
                            std::thread::sleep(Duration::from_secs(1));
                        }
                    }
                    Answer::HugeToken => unreachable!("answered above"),
                }
            });
        }
    });
    addr
}

/// A 200 answer of 256 MiB of spaces without a Content-Length.
fn huge(conn: &mut std::net::TcpStream, content_type: &str) {
    let _ = write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n"
    );
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..256 {
        if conn.write_all(&chunk).is_err() {
            return;
        }
    }
}

struct Finished {
    code: i32,
    stderr: String,
    /// Peak resident set of the child, KiB.
    max_rss_kib: i64,
    took: Duration,
}

/// Run the command to its end and measure its peak RSS with GNU time
/// (`/usr/bin/time -f %M`, which reads it with `wait4` from a process it
/// forked itself: the test process's own pages, which a child forked from
/// it counts until it execs, stay out of the figure).
fn run_measured(cmd: &mut Command) -> Finished {
    let time = std::path::Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "these tests measure memory with GNU time: install the `time` package"
    );
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut wrapped = Command::new(time);
    wrapped
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(report.path())
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(d) = cmd.get_current_dir() {
        wrapped.current_dir(d);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    let start = Instant::now();
    let out = wrapped
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "mlprov panicked:\n{stderr}");
    let max_rss_kib = std::fs::read_to_string(report.path())
        .unwrap()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("GNU time's report");
    Finished {
        code: out.status.code().unwrap_or(-1),
        stderr,
        max_rss_kib,
        took: start.elapsed(),
    }
}

/// `pull` from a registry answering `answer`: exit 2 naming `limit` and
/// its variable, peak RSS under 120 MiB, nothing pulled.
fn refused_while_reading(answer: Answer, limit: &str) {
    let env = TestEnv::new();
    let addr = misbehaving_registry(answer);
    let out = env.work().join("out");
    let f = run_measured(env.cmd(&env.work()).args([
        "pull",
        "--plain-http",
        &format!("{addr}/m:1"),
        "--no-verify",
        "-o",
        out.to_str().unwrap(),
    ]));
    eprintln!(
        "exit {}, peak RSS {} KiB, {:?}",
        f.code, f.max_rss_kib, f.took
    );
    assert_eq!(f.code, 2, "{}", f.stderr);
    assert!(
        flat(&f.stderr).contains(&format!("{limit}; raise it with MLPROV_{limit}")),
        "{}",
        f.stderr
    );
    assert!(f.max_rss_kib < 120 * 1024, "peak RSS {} KiB", f.max_rss_kib);
    assert!(!out.exists());
}

/// A 256 MiB manifest answer stops at the 4 MiB limit while reading (peak
/// RSS was ~535 MiB).
#[test]
fn a_huge_registry_answer_is_refused_while_reading() {
    refused_while_reading(Answer::Huge, "MAX_REGISTRY_MANIFEST_BYTES");
}

/// A token service answering 256 MiB stops at the 1 MiB limit while
/// reading (it was read whole: 573 MiB peak RSS).
#[test]
fn a_huge_token_answer_is_refused_while_reading() {
    refused_while_reading(Answer::HugeToken, "MAX_REGISTRY_TOKEN_BYTES");
}

/// A registry sending one byte per second ends `pull --timeout 3`: each
/// request has an overall deadline besides the idle timeout (5 attempts of
/// 3 s plus backoff, well under a minute).
#[test]
fn a_trickling_registry_ends_pull_within_its_deadline() {
    let env = TestEnv::new();
    let addr = misbehaving_registry(Answer::Trickle);
    let f = run_measured(env.cmd(&env.work()).args([
        "pull",
        "--plain-http",
        "--timeout",
        "3",
        &format!("{addr}/m:1"),
        "--no-verify",
    ]));
    eprintln!(
        "exit {}, peak RSS {} KiB, {:?}",
        f.code, f.max_rss_kib, f.took
    );
    assert_eq!(f.code, 2, "{}", f.stderr);
    assert!(f.took < Duration::from_secs(60), "took {:?}", f.took);
    assert!(f.stderr.contains("gave up"), "{}", f.stderr);
}

/// The 299-byte-class YAML alias bomb: refused by `build` before expansion
/// (exit 2, the limit named, peak RSS under 100 MiB; it was 1.8 GiB).
#[test]
fn a_yaml_alias_bomb_is_refused_by_build() {
    let env = TestEnv::new();
    let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        y.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let dir = ProjectBuilder::new(env.work().join("p"))
        .section(
            "training",
            "command = [\"sh\", \"-c\", \"mkdir -p out && echo w > out/w.bin\"]\nconfig = \"train.yaml\"",
        )
        .file("train.yaml", y)
        .build();
    Run::of(env.cmd(&dir).arg("pin")).ok();
    let f = run_measured(env.cmd(&dir).args(["build", "--allow-dirty"]));
    eprintln!(
        "exit {}, peak RSS {} KiB, {:?}",
        f.code, f.max_rss_kib, f.took
    );
    assert_eq!(f.code, 2, "{}", f.stderr);
    assert!(f.stderr.contains("MAX_CONFIG_NODES"), "{}", f.stderr);
    assert!(f.max_rss_kib < 100 * 1024, "peak RSS {} KiB", f.max_rss_kib);
}

/// A 256 MiB mlprov.toml is refused by size while reading (exit 2, the
/// limit named, peak RSS under 60 MiB; it cost ~1 GiB).
#[test]
fn an_oversized_manifest_is_refused_by_size() {
    let env = TestEnv::new();
    let dir = ProjectBuilder::new(env.work().join("p")).build();
    // Written in pieces: the test process never holds the 256 MiB (a
    // forked child's peak would count the parent's pages).
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("mlprov.toml"))
        .unwrap();
    f.write_all(b"# ").unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..256 {
        f.write_all(&chunk).unwrap();
    }
    f.write_all(b"\n").unwrap();
    drop(f);
    let f = run_measured(env.cmd(&dir).arg("pin"));
    eprintln!(
        "exit {}, peak RSS {} KiB, {:?}",
        f.code, f.max_rss_kib, f.took
    );
    assert_eq!(f.code, 2, "{}", f.stderr);
    assert!(f.stderr.contains("MAX_MANIFEST_BYTES"), "{}", f.stderr);
    assert!(f.max_rss_kib < 60 * 1024, "peak RSS {} KiB", f.max_rss_kib);
}

/// Each limit's error says which variable raises it, and the variable does:
/// a 2 MiB mlprov.toml (a long comment) is refused at the default 1 MiB,
/// pinned with `MLPROV_MAX_MANIFEST_BYTES=4MiB`; lowered to 20 bytes, an
/// ordinary manifest is refused with the variable named.
#[test]
fn a_limit_is_raised_and_lowered_by_its_variable() {
    let env = TestEnv::new();
    let dir = ProjectBuilder::new(env.work().join("p")).build();
    let small = Run::of(
        env.cmd(&dir)
            .env("MLPROV_MAX_MANIFEST_BYTES", "20")
            .arg("pin"),
    );
    assert_eq!(small.code, 2, "{}", small.stderr);
    assert!(
        flat(&small.stderr).contains(
            "larger than the limit of 20 bytes (MAX_MANIFEST_BYTES; raise it with MLPROV_MAX_MANIFEST_BYTES)"
        ),
        "{}",
        small.stderr
    );
    let mut text = std::fs::read_to_string(dir.join("mlprov.toml")).unwrap();
    text.push_str("# ");
    text.push_str(&"x".repeat(2 << 20));
    text.push('\n');
    std::fs::write(dir.join("mlprov.toml"), text).unwrap();
    let refused = Run::of(env.cmd(&dir).arg("pin"));
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        flat(&refused.stderr)
            .contains("1 MiB (MAX_MANIFEST_BYTES; raise it with MLPROV_MAX_MANIFEST_BYTES)"),
        "{}",
        refused.stderr
    );
    Run::of(
        env.cmd(&dir)
            .env("MLPROV_MAX_MANIFEST_BYTES", "4MiB")
            .arg("pin"),
    )
    .ok();
    assert!(dir.join("mlprov.lock").is_file());
}

/// A limit variable that is not a size stops every command before any work,
/// naming the variable and an example (exit 2).
#[test]
fn a_bad_limit_variable_is_refused_with_its_name() {
    let env = TestEnv::new();
    let dir = ProjectBuilder::new(env.work().join("p")).build();
    for (var, value) in [
        ("MLPROV_MAX_BUNDLE_BYTES", "16 megs"),
        ("MLPROV_MAX_REFERRERS", "0"),
        ("MLPROV_REGO_EVAL_TIMEOUT", "10m"),
    ] {
        let r = Run::of(env.cmd(&dir).env(var, value).arg("pin"));
        assert_eq!(r.code, 2, "{var}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("{var}={value:?}")),
            "{var}: {}",
            r.stderr
        );
        assert!(!dir.join("mlprov.lock").exists(), "{var}: work was done");
    }
}

/// The README's limits table lists every variable that changes a limit.
#[test]
fn the_readme_lists_every_limit_variable() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for l in mlprov::limits::Limit::ALL {
        assert!(
            readme.contains(&format!("`{}`", l.variable())),
            "README.md's Limits table does not name {}",
            l.variable()
        );
    }
}
