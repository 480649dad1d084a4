//! The HTTPS server: rustls (aws-lc-rs, the provider reqwest already
//! uses) and hyper's HTTP/1.1 server on tokio.
//!
//! - `POST /validate` (also `/`): an `AdmissionReview`, answered 200 with
//!   the response review, 400 when the body is not a review, 413 when it is
//!   larger than the limit (read no further: there is no uid to echo, and
//!   the API server counts a non-200 answer as a failed call, which
//!   `failurePolicy: Fail` turns into a rejection);
//! - `GET /healthz`: 200 `ok`;
//! - `GET /metrics`: Prometheus text format.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::gate::{Answer, Gate};

/// TLS material that cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{file}: {problem}")]
#[diagnostic(code(mlprov::serve::tls), help("{help}"))]
pub struct TlsError {
    pub file: String,
    pub problem: String,
    pub help: String,
}

fn tls_error(file: &Path, problem: impl Into<String>, help: &str) -> TlsError {
    TlsError {
        file: file.display().to_string(),
        problem: problem.into(),
        help: help.to_string(),
    }
}

const CERT_HELP: &str = "pass --tls-cert a PEM file with the server certificate first, then its intermediates (e.g. the `tls.crt` of a cert-manager Secret)";
const KEY_HELP: &str = "pass --tls-key the PEM private key of that certificate (PKCS#8, PKCS#1 or SEC1; e.g. the `tls.key` of the Secret), unencrypted";

/// Load the certificate chain and key into a server configuration; every
/// problem names the file and a fix.
pub fn tls_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let read = |p: &Path, help: &str| {
        std::fs::read(p).map_err(|e| tls_error(p, format!("cannot read it: {e}"), help))
    };
    let cert_pem = read(cert, CERT_HELP)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| tls_error(cert, format!("not a PEM certificate file: {e}"), CERT_HELP))?;
    if certs.is_empty() {
        return Err(tls_error(
            cert,
            "holds no `CERTIFICATE` PEM block",
            CERT_HELP,
        ));
    }
    let key_pem = read(key, KEY_HELP)?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        let problem = match e {
            rustls_pki_types::pem::Error::NoItemsFound => {
                if String::from_utf8_lossy(&key_pem).contains("ENCRYPTED") {
                    "the private key is encrypted".to_string()
                } else {
                    "holds no private key PEM block".to_string()
                }
            }
            e => format!("not a PEM private key: {e}"),
        };
        tls_error(key, problem, KEY_HELP)
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(cert, e.to_string(), CERT_HELP))?
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .map_err(|e| {
            tls_error(
                key,
                format!(
                    "cannot be used with the certificate in {}: {e}",
                    cert.display()
                ),
                "pass the key the certificate was issued for (the two files of one Secret)",
            )
        })?;
    let mut config = config;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serve until the process ends.
pub async fn run(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    gate: Arc<Gate>,
    max_request_bytes: usize,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            // Out of file descriptors and the like: wait, do not spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let gate = Arc::clone(&gate);
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                .await
            {
                Ok(Ok(t)) => t,
                _ => return,
            };
            let service = hyper::service::service_fn(move |req| {
                let gate = Arc::clone(&gate);
                async move {
                    Ok::<_, std::convert::Infallible>(handle(gate, req, max_request_bytes).await)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .header_read_timeout(Duration::from_secs(10))
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

enum Body {
    Read(Bytes),
    /// Over the limit; `drained`: the rest was read and dropped, so the
    /// client got to send it all and reads the 413 (a client still writing
    /// when the server closes sees a broken pipe, not the answer).
    TooLarge {
        drained: bool,
    },
    Failed(hyper::Error),
}

/// Bytes beyond the limit read (and dropped) so the client reads the 413.
const DRAIN_BYTES: u64 = 64 << 20;

/// Read a body of at most `max` bytes, keeping nothing beyond.
async fn read_body(mut body: Incoming, max: usize, declared: Option<u64>) -> Body {
    let mut buf = Vec::with_capacity(declared.map_or(0, |d| d.min(max as u64) as usize));
    let mut over = declared.is_some_and(|d| d > max as u64);
    let mut seen = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(e) if over => {
                let _ = e;
                return Body::TooLarge { drained: false };
            }
            Err(e) => return Body::Failed(e),
        };
        let Some(data) = frame.data_ref() else {
            continue;
        };
        seen += data.len() as u64;
        if over || buf.len() + data.len() > max {
            over = true;
            buf = Vec::new();
            if seen > max as u64 + DRAIN_BYTES {
                return Body::TooLarge { drained: false };
            }
            continue;
        }
        buf.extend_from_slice(data);
    }
    if over {
        Body::TooLarge { drained: true }
    } else {
        Body::Read(Bytes::from(buf))
    }
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn handle(gate: Arc<Gate>, req: Request<Incoming>, max: usize) -> Response<Full<Bytes>> {
    gate.metrics.http_requests.fetch_add(1, Ordering::Relaxed);
    let path = req.uri().path().to_string();
    match (req.method(), path.as_str()) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/metrics") => {
            let mut r = text(StatusCode::OK, gate.metrics.render());
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        }
        (&Method::POST, "/validate" | "/") => {
            let declared = req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let body = match read_body(req.into_body(), max, declared).await {
                Body::Read(b) => b,
                Body::TooLarge { drained } => {
                    gate.metrics.too_large.fetch_add(1, Ordering::Relaxed);
                    let mut r = text(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!(
                            "mlprov serve: the review is larger than the {max} bytes allowed (--max-request-bytes)\n"
                        ),
                    );
                    if !drained {
                        // The rest was not read: the connection ends here.
                        r.headers_mut().insert(
                            header::CONNECTION,
                            header::HeaderValue::from_static("close"),
                        );
                    }
                    return r;
                }
                Body::Failed(e) => {
                    gate.metrics
                        .reviews_malformed
                        .fetch_add(1, Ordering::Relaxed);
                    return text(
                        StatusCode::BAD_REQUEST,
                        format!("mlprov serve: cannot read the body: {e}\n"),
                    );
                }
            };
            match gate.review(&body).await {
                Answer::Review { body, .. } => {
                    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
                    r.headers_mut().insert(
                        header::CONTENT_TYPE,
                        header::HeaderValue::from_static("application/json"),
                    );
                    r
                }
                Answer::BadRequest(m) => {
                    text(StatusCode::BAD_REQUEST, format!("mlprov serve: {m}\n"))
                }
            }
        }
        (_, "/healthz" | "/metrics" | "/validate" | "/") => text(
            StatusCode::METHOD_NOT_ALLOWED,
            "mlprov serve: method not allowed\n",
        ),
        _ => text(
            StatusCode::NOT_FOUND,
            "mlprov serve: not found (POST /validate, GET /healthz, GET /metrics)\n",
        ),
    }
}
