//! A fault-injecting HTTP/1.1 proxy between mlprov and a registry. Every
//! request gets its own upstream connection (the proxy rewrites it to
//! `Connection: close`), so a fault hits exactly the request it matches:
//! answer a status without asking the registry, cut the request body or the
//! response after N bytes, or stall without answering.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Answer this status, registry untouched.
    Status(u16),
    /// Forward the request, pass N bytes of the response, then cut.
    DropResponseAfter(usize),
    /// Forward the head and N bytes of the body, then cut.
    DropRequestAfter(usize),
    /// Read the request and never answer.
    Stall,
    /// Forward the request, then hold the registry's answer this many
    /// milliseconds: the client gets what was true when it asked, late.
    Delay(u64),
}

/// `METHOD path` of every request, and the fault applied if any.
pub type Log = Arc<Mutex<Vec<(String, Option<Fault>)>>>;

pub struct Rule {
    pub method: &'static str,
    pub path_contains: String,
    pub fault: Fault,
    /// How many more requests it hits (`usize::MAX`: all).
    pub times: usize,
}

pub struct Proxy {
    pub addr: String,
    rules: Arc<Mutex<Vec<Rule>>>,
    /// `METHOD path` of every request, and the fault applied if any.
    pub log: Log,
    stop: Arc<AtomicBool>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr);
    }
}

impl Proxy {
    pub fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::default();
        let log: Log = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let upstream = upstream.to_string();
        {
            let (rules, log, stop) = (rules.clone(), log.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (rules, log, stop, upstream) =
                        (rules.clone(), log.clone(), stop.clone(), upstream.clone());
                    std::thread::spawn(move || {
                        let _ = handle(conn, &upstream, &rules, &log, &stop);
                    });
                }
            });
        }
        Proxy {
            addr,
            rules,
            log,
            stop,
        }
    }

    pub fn add(&self, method: &'static str, path_contains: &str, fault: Fault, times: usize) {
        self.rules.lock().unwrap().push(Rule {
            method,
            path_contains: path_contains.to_string(),
            fault,
            times,
        });
    }

    pub fn clear(&self) {
        self.rules.lock().unwrap().clear();
    }

    /// How many requests got a fault.
    pub fn faults(&self) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, f)| f.is_some())
            .count()
    }
}

fn handle(
    mut client: TcpStream,
    upstream: &str,
    rules: &Mutex<Vec<Rule>>,
    log: &Mutex<Vec<(String, Option<Fault>)>>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    // The head.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = client.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("").to_string();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut content_length = 0usize;
    let mut out_head = format!("{request_line}\r\n");
    for l in lines {
        if l.is_empty() {
            continue;
        }
        let lower = l.to_ascii_lowercase();
        if lower.starts_with("connection:") {
            continue;
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        out_head.push_str(l);
        out_head.push_str("\r\n");
    }
    out_head.push_str("Connection: close\r\n\r\n");

    let fault = {
        let mut rules = rules.lock().unwrap();
        rules
            .iter_mut()
            .find(|r| r.times > 0 && r.method == method && path.contains(&r.path_contains))
            .map(|r| {
                r.times = r.times.saturating_sub(1);
                r.fault
            })
    };
    log.lock()
        .unwrap()
        .push((format!("{method} {path}"), fault));

    match fault {
        Some(Fault::Status(code)) => {
            let body = format!(
                "{{\"errors\":[{{\"code\":\"UNKNOWN\",\"message\":\"injected {code}\"}}]}}"
            );
            write!(
                client,
                "HTTP/1.1 {code} Injected\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
            // Drain what the client still sends so it sees the answer, not a reset.
            client.set_read_timeout(Some(Duration::from_millis(200)))?;
            let mut left = content_length.saturating_sub(buf.len() - head_end);
            while left > 0 {
                match client.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => left = left.saturating_sub(n),
                }
            }
            let _ = client.shutdown(Shutdown::Both);
            return Ok(());
        }
        Some(Fault::Stall) => {
            for _ in 0..1200 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            return Ok(());
        }
        _ => {}
    }

    let mut up = TcpStream::connect(upstream)?;
    up.write_all(out_head.as_bytes())?;
    // The body.
    let mut sent = 0usize;
    let cut = match fault {
        Some(Fault::DropRequestAfter(n)) => Some(n),
        _ => None,
    };
    let mut pending = buf[head_end..].to_vec();
    loop {
        let take = pending
            .len()
            .min(content_length - sent)
            .min(cut.map_or(usize::MAX, |c| c - sent.min(c)));
        up.write_all(&pending[..take])?;
        sent += take;
        if cut.is_some_and(|c| sent >= c) {
            let _ = up.shutdown(Shutdown::Both);
            let _ = client.shutdown(Shutdown::Both);
            return Ok(());
        }
        if sent >= content_length {
            break;
        }
        let n = client.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        pending = chunk[..n].to_vec();
    }
    // The response.
    if let Some(Fault::Delay(ms)) = fault {
        std::thread::sleep(Duration::from_millis(ms));
    }
    let limit = match fault {
        Some(Fault::DropResponseAfter(n)) => n,
        _ => usize::MAX,
    };
    let mut passed = 0usize;
    let mut big = vec![0u8; 1 << 16];
    loop {
        let n = up.read(&mut big)?;
        if n == 0 {
            break;
        }
        let take = n.min(limit - passed);
        client.write_all(&big[..take])?;
        passed += take;
        if passed >= limit {
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}
