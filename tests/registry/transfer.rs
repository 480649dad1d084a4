//! Issue 18's transfers: the blob-location cache mounts a second
//! repository's blobs instead of uploading them, and progress is one
//! overall display: a bar on a terminal that leaves nothing behind, plain
//! periodic lines without one, nothing at `-q`.

use super::proxy::{Fault, Proxy};
use super::server::Registry;
use super::*;

/// The blob uploads (not mounts) among the proxy's requests since `from`.
fn uploads(proxy: &Proxy, from: usize) -> Vec<String> {
    proxy.log.lock().unwrap()[from..]
        .iter()
        .map(|(r, _)| r.clone())
        .filter(|r| r.contains("/blobs/uploads/") && !r.contains("mount="))
        .collect()
}

fn mounts(proxy: &Proxy, from: usize) -> usize {
    proxy.log.lock().unwrap()[from..]
        .iter()
        .filter(|(r, _)| r.starts_with("POST ") && r.contains("mount="))
        .count()
}

#[test]
fn second_repository_push_mounts_every_blob_and_a_bad_cache_still_pushes() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let proxy = Proxy::start(&reg.addr);
    let env = TestEnv::new();
    let proj = project(&env, "p");
    write_bundles(&proj);
    let push = |repo: &str| {
        let reference = format!("{}/{repo}:1.0", proxy.addr);
        run(
            &env,
            &proj,
            &["push", "--plain-http", &reference, "--format", "json"],
            &[],
        )
        .ok()
        .json()
    };
    let first = push("models/a");
    assert!(first["blobs"]["uploaded"].as_u64().unwrap() > 0, "{first}");
    let blobs = first["blobs"]["uploaded"].as_u64().unwrap();

    // No lock names models/a: only the blob-location cache knows.
    let n = proxy.log.lock().unwrap().len();
    let second = push("models/b");
    assert_eq!(second["blobs"]["uploaded"], 0, "{second}");
    assert_eq!(second["blobs"]["uploadedBytes"], 0, "{second}");
    assert_eq!(second["blobs"]["mounted"], blobs, "{second}");
    assert_eq!(second["digest"], first["digest"]);
    // The registry saw mounts and not one upload session.
    assert_eq!(uploads(&proxy, n), Vec::<String>::new());
    assert_eq!(mounts(&proxy, n) as u64, blobs);
    let (code, _) = reg.manifest("models/b", "1.0");
    assert_eq!(code, 200);

    let cache = env.path().join("cache").join("registry");
    let file = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a blob-location cache file");

    // A corrupt cache: ignored, the push uploads, the file is rewritten.
    std::fs::write(&file, b"{\"version\":1,\"blobs\":[{\"digest\":").unwrap();
    let n = proxy.log.lock().unwrap().len();
    let third = push("models/c");
    assert_eq!(third["blobs"]["uploaded"], blobs, "{third}");
    assert_eq!(mounts(&proxy, n), 0);
    let text = std::fs::read_to_string(&file).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&text).expect("rewritten as JSON");
    assert_eq!(parsed["version"], 1);

    // A stale cache (every blob "in" a repository that does not exist, and
    // in one that is not on this registry at all): the mounts are refused
    // (202), the push uploads and succeeds.
    let mut v = parsed.clone();
    for e in v["blobs"].as_array_mut().unwrap() {
        e["repositories"] = serde_json::json!(["models/gone", "nowhere/x"]);
    }
    std::fs::write(&file, v.to_string()).unwrap();
    let n = proxy.log.lock().unwrap().len();
    let fourth = push("models/d");
    assert_eq!(fourth["blobs"]["uploaded"], blobs, "{fourth}");
    assert_eq!(fourth["blobs"]["mounted"], 0, "{fourth}");
    assert!(mounts(&proxy, n) > 0, "the stale locations were tried");
    // …and forgotten: the file now names where the blobs really are.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("models/gone"), "{text}");
    assert!(text.contains("models/d"), "{text}");
    // The pushed model pulls intact.
    run(
        &env,
        &env.work(),
        &[
            "pull",
            "--plain-http",
            "--no-verify",
            &format!("{}/models/d:1.0", proxy.addr),
            "-o",
            "dest-d",
        ],
        &[],
    )
    .ok();
    assert!(tree(&env.work().join("dest-d")) == model_tree());
}

/// A push and a pull slowed down by the proxy (each blob answer held
/// 300 ms), so that progress has time to show.
fn slow(proxy: &Proxy) {
    proxy.clear();
    proxy.add("PUT", "/blobs/uploads/", Fault::Delay(300), usize::MAX);
    proxy.add("GET", "/blobs/sha256:", Fault::Delay(300), usize::MAX);
}

fn has_escape(s: &str) -> bool {
    s.contains('\u{1b}')
}

/// The plain progress lines of a stderr.
fn progress_lines<'a>(stderr: &'a str, verb: &str) -> Vec<&'a str> {
    stderr
        .lines()
        .filter(|l| l.trim_start().starts_with(verb) && l.contains(" of ") && l.contains('%'))
        .collect()
}

#[test]
fn piped_progress_is_plain_periodic_lines_and_quiet_is_silent() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let proxy = Proxy::start(&reg.addr);
    slow(&proxy);
    let env = TestEnv::new();
    let proj = project(&env, "p");
    let fast = [("MLPROV_PROGRESS_INTERVAL", "200ms")];

    // Piped (as `| cat`), colours allowed: no escape codes, periodic lines.
    let mut c = env.cmd(&proj);
    c.env_remove("NO_COLOR")
        .env("DOCKER_CONFIG", env.path().join("docker"))
        .env("MLPROV_PROGRESS_INTERVAL", "200ms")
        .args([
            "push",
            "--plain-http",
            &format!("{}/models/p:1", proxy.addr),
        ]);
    let r = Run::of(&mut c).ok();
    assert!(!has_escape(&r.stderr), "{:?}", r.stderr);
    let lines = progress_lines(&r.stderr, "Pushing");
    assert!(lines.len() >= 2, "periodic lines: {}", r.stderr);
    assert!(
        lines.iter().any(|l| l.contains("MiB") && l.contains("/s")),
        "total, rate: {lines:?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.contains(" of 86.") || l.contains(" of 87.") || l.contains(" of 9")),
        "one overall total: {lines:?}"
    );
    // stdout is the command's output only.
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);

    // NO_COLOR, a pull: the same plain lines.
    let r = run(
        &env,
        &env.work(),
        &[
            "pull",
            "--plain-http",
            "--no-verify",
            &format!("{}/models/p:1", proxy.addr),
            "-o",
            "dest",
        ],
        &fast,
    )
    .ok();
    assert!(!has_escape(&r.stderr), "{:?}", r.stderr);
    assert!(
        progress_lines(&r.stderr, "Pulling").len() >= 2,
        "{:?} {}",
        proxy.log.lock().unwrap(),
        r.stderr
    );

    // -q: no progress (the --no-verify warning stays).
    let r = run(
        &env,
        &env.work(),
        &[
            "-q",
            "pull",
            "--plain-http",
            "--no-verify",
            &format!("{}/models/p:1", proxy.addr),
            "-o",
            "dest-q",
        ],
        &fast,
    )
    .ok();
    assert!(
        progress_lines(&r.stderr, "Pulling").is_empty(),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains('%'), "{}", r.stderr);

    // The default period is 10 s: a 3-second pull prints no progress line.
    let r = run(
        &env,
        &env.work(),
        &[
            "pull",
            "--plain-http",
            "--no-verify",
            &format!("{}/models/p:1", proxy.addr),
            "-o",
            "dest-default",
        ],
        &[],
    )
    .ok();
    assert!(
        progress_lines(&r.stderr, "Pulling").is_empty(),
        "{}",
        r.stderr
    );

    // A bad period is refused, naming the variable.
    let r = run(
        &env,
        &proj,
        &["push", "--plain-http", "x/y:1"],
        &[("MLPROV_PROGRESS_INTERVAL", "soon")],
    )
    .expect_code(2);
    assert!(
        r.stderr.contains("MLPROV_PROGRESS_INTERVAL"),
        "{}",
        r.stderr
    );
}

/// A minimal terminal: what is on the screen after `bytes` (CR, LF,
/// cursor up/down, erase in line/display; other sequences ignored).
fn screen(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                col = 0;
                if lines.len() <= row {
                    lines.push(Vec::new());
                }
            }
            '\u{1b}' => {
                if chars.peek() != Some(&'[') {
                    chars.next();
                    continue;
                }
                chars.next();
                let mut arg = String::new();
                let mut cmd = ' ';
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() || c == '~' {
                        cmd = c;
                        break;
                    }
                    arg.push(c);
                }
                let n: usize = arg.trim_start_matches('?').parse().unwrap_or(0);
                match cmd {
                    'A' => row = row.saturating_sub(n.max(1)),
                    'B' => {
                        row += n.max(1);
                        while lines.len() <= row {
                            lines.push(Vec::new());
                        }
                    }
                    'G' => col = n.saturating_sub(1),
                    'K' if n == 2 => lines[row].clear(),
                    'K' if n == 1 => {
                        for x in lines[row].iter_mut().take(col + 1) {
                            *x = ' ';
                        }
                    }
                    'K' => lines[row].truncate(col),
                    'J' => {
                        lines[row].truncate(col);
                        lines.truncate(row + 1);
                    }
                    _ => {}
                }
            }
            c if c.is_control() => {}
            c => {
                let line = &mut lines[row];
                while line.len() < col {
                    line.push(' ');
                }
                if col < line.len() {
                    line[col] = c;
                } else {
                    line.push(c);
                }
                col += 1;
            }
        }
    }
    lines
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_string())
        .collect()
}

#[test]
fn terminal_screen_model() {
    let s = screen(b"a\nbar [==> ] 1/2\r\x1b[2K\x1b[1A\r\x1b[2Kdone\n");
    assert_eq!(s, ["done", ""]);
    assert_eq!(screen(b"x [=]\r\x1b[Ky\n"), ["y", ""]);
}

#[test]
fn terminal_progress_is_drawn_and_cleared() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let proxy = Proxy::start(&reg.addr);
    slow(&proxy);
    let env = TestEnv::new();
    let proj = project(&env, "p");
    for (dir, args, verb) in [
        (
            proj.clone(),
            vec![
                "push".to_string(),
                "--plain-http".into(),
                format!("{}/models/tty:1", proxy.addr),
            ],
            "Pushing",
        ),
        (
            env.work(),
            vec![
                "pull".to_string(),
                "--plain-http".into(),
                "--no-verify".into(),
                format!("{}/models/tty:1", proxy.addr),
                "-o".into(),
                "tty-dest".into(),
            ],
            "Pulling",
        ),
    ] {
        let mut cmd = env.cmd(&dir);
        cmd.env_remove("CI")
            .env_remove("NO_COLOR")
            .env("TERM", "xterm")
            .env("DOCKER_CONFIG", env.path().join("docker"))
            .args(&args);
        let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).expect("spawn in a pty");
        let out = p.exp_eof().expect("runs to the end");
        let bytes = out.as_bytes();
        let drawn = String::from_utf8_lossy(bytes);
        assert!(
            drawn.contains(verb) && drawn.contains("] ") && drawn.contains("ETA"),
            "a bar was drawn: {drawn:?}"
        );
        let screen = screen(bytes);
        let residue: Vec<&String> = screen
            .iter()
            .filter(|l| l.contains("ETA") || l.contains("[=") || l.contains("Hashing"))
            .collect();
        assert!(residue.is_empty(), "left on screen: {screen:#?}");
        let last = screen.iter().rev().find(|l| !l.is_empty()).unwrap();
        assert!(last.contains("@sha256:"), "the result is last: {screen:#?}");
    }
}
