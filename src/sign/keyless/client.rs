//! Minimal clients for the two Sigstore services keyless signing needs:
//! Fulcio v2 (`POST /api/v2/signingCert`, a certificate for a CSR and an
//! OIDC token) and Rekor v1 (`POST /api/v1/log/entries`, a `dsse` entry).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use super::tlog::{Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId, TlogEntry};

/// What went wrong talking to Fulcio or Rekor.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ClientError {
    #[error("{service} ({url}): {reason}")]
    #[diagnostic(
        code(mlprov::keyless::network),
        help(
            "check the URL and the network; for a private deployment pass --fulcio-url and --rekor-url"
        )
    )]
    Network {
        service: &'static str,
        url: String,
        reason: String,
    },
    #[error("{service} refused the request ({status}): {message}")]
    #[diagnostic(code(mlprov::keyless::refused))]
    Refused {
        service: &'static str,
        status: u16,
        message: String,
        #[help]
        help: Option<String>,
    },
    #[error("{service} sent an answer mlprov cannot use: {reason}")]
    #[diagnostic(code("mlprov::keyless::bad-response"))]
    BadResponse {
        service: &'static str,
        reason: String,
    },
}

fn http() -> Result<reqwest::blocking::Client, String> {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("mlprov/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// POST JSON and read a JSON answer; an HTTP error carries the server's
/// message.
fn post_json(
    service: &'static str,
    url: &str,
    bearer: Option<&str>,
    body: &Value,
) -> Result<Value, ClientError> {
    let client = http().map_err(|reason| ClientError::Network {
        service,
        url: url.to_string(),
        reason,
    })?;
    let mut req = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(body.to_string());
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let resp = req.send().map_err(|e| ClientError::Network {
        service,
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    read_json(service, url, resp)
}

fn read_json(
    service: &'static str,
    url: &str,
    resp: reqwest::blocking::Response,
) -> Result<Value, ClientError> {
    let status = resp.status();
    let text = resp.text().map_err(|e| ClientError::Network {
        service,
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    if !status.is_success() {
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .or_else(|| v.get("error"))
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| text.chars().take(300).collect());
        let help = match (service, status.as_u16()) {
            ("Fulcio", 401 | 403) => Some(
                "the identity token was not accepted: it may have expired, or its audience is not `sigstore`".to_string(),
            ),
            _ => None,
        };
        return Err(ClientError::Refused {
            service,
            status: status.as_u16(),
            message,
            help,
        });
    }
    serde_json::from_str(&text).map_err(|e| ClientError::BadResponse {
        service,
        reason: format!("not JSON: {e}"),
    })
}

/// Ask Fulcio for a certificate: the chain it returns (leaf first, DER).
/// Only certificates with an embedded SCT are accepted.
pub fn fulcio_signing_cert(
    base_url: &str,
    token: &str,
    csr_pem: &str,
) -> Result<Vec<Vec<u8>>, ClientError> {
    let url = join(base_url, "api/v2/signingCert");
    let body = json!({
        "credentials": {"oidcIdentityToken": token},
        "certificateSigningRequest": B64.encode(csr_pem),
    });
    let v = post_json("Fulcio", &url, Some(token), &body)?;
    let bad = |reason: &str| ClientError::BadResponse {
        service: "Fulcio",
        reason: reason.to_string(),
    };
    if v.get("signedCertificateDetachedSct").is_some() {
        return Err(bad(
            "it issued a certificate with a detached SCT; mlprov needs an embedded SCT (a Fulcio with a CT log)",
        ));
    }
    let certs = v["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .ok_or_else(|| bad("no signedCertificateEmbeddedSct.chain.certificates"))?;
    let mut out = Vec::new();
    for c in certs {
        let pem_text = c
            .as_str()
            .ok_or_else(|| bad("a certificate is not a string"))?;
        let block =
            pem::parse(pem_text).map_err(|e| bad(&format!("a certificate is not PEM: {e}")))?;
        out.push(block.into_contents());
    }
    if out.is_empty() {
        return Err(bad("an empty certificate chain"));
    }
    Ok(out)
}

/// Log a DSSE envelope in Rekor v1 and return the entry in bundle form,
/// with its inclusion proof (fetched again if the answer had none yet).
/// `verifier_pem` is the signing certificate or the public key, PEM.
pub fn rekor_create_dsse(
    base_url: &str,
    envelope_json: &str,
    verifier_pem: &str,
) -> Result<TlogEntry, ClientError> {
    let url = join(base_url, "api/v1/log/entries");
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {"proposedContent": {
            "envelope": envelope_json,
            "verifiers": [B64.encode(verifier_pem)],
        }},
    });
    let v = post_json("Rekor", &url, None, &body)?;
    let (uuid, mut entry) = single_entry(&v)?;
    for _ in 0..10 {
        if entry["verification"]["inclusionProof"].is_object() {
            return entry_to_bundle(&entry);
        }
        std::thread::sleep(Duration::from_secs(1));
        let get_url = join(base_url, &format!("api/v1/log/entries/{uuid}"));
        let client = http().map_err(|reason| ClientError::Network {
            service: "Rekor",
            url: get_url.clone(),
            reason,
        })?;
        let resp = client
            .get(&get_url)
            .send()
            .map_err(|e| ClientError::Network {
                service: "Rekor",
                url: get_url.clone(),
                reason: e.to_string(),
            })?;
        entry = single_entry(&read_json("Rekor", &get_url, resp)?)?.1;
    }
    Err(ClientError::BadResponse {
        service: "Rekor",
        reason: "the entry has no inclusion proof yet; try again".into(),
    })
}

fn single_entry(v: &Value) -> Result<(String, Value), ClientError> {
    let obj = v
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or(ClientError::BadResponse {
            service: "Rekor",
            reason: "expected exactly one log entry".into(),
        })?;
    let (uuid, entry) = obj.iter().next().ok_or(ClientError::BadResponse {
        service: "Rekor",
        reason: "expected exactly one log entry".into(),
    })?;
    Ok((uuid.clone(), entry.clone()))
}

/// A Rekor v1 `LogEntry` as a bundle's `TransparencyLogEntry`.
fn entry_to_bundle(e: &Value) -> Result<TlogEntry, ClientError> {
    let bad = |reason: String| ClientError::BadResponse {
        service: "Rekor",
        reason,
    };
    let int = |v: &Value, what: &str| {
        v.as_i64()
            .ok_or_else(|| bad(format!("{what} is not an integer")))
    };
    let hex_to_b64 = |v: &Value, what: &str| -> Result<String, ClientError> {
        let s = v
            .as_str()
            .ok_or_else(|| bad(format!("{what} is missing")))?;
        let raw = hex::decode(s).map_err(|_| bad(format!("{what} is not hex")))?;
        Ok(B64.encode(raw))
    };
    let body_b64 = e["body"]
        .as_str()
        .ok_or_else(|| bad("body is missing".into()))?;
    let body: Value = B64
        .decode(body_b64)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("body is not base64 JSON".into()))?;
    let proof = &e["verification"]["inclusionProof"];
    let hashes = proof["hashes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| hex_to_b64(h, "inclusionProof.hashes"))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok(TlogEntry {
        log_index: int(&e["logIndex"], "logIndex")?,
        log_id: LogId {
            key_id: hex_to_b64(&e["logID"], "logID")?,
        },
        kind_version: KindVersion {
            kind: body["kind"].as_str().unwrap_or_default().to_string(),
            version: body["apiVersion"].as_str().unwrap_or_default().to_string(),
        },
        integrated_time: int(&e["integratedTime"], "integratedTime")?,
        inclusion_promise: e["verification"]["signedEntryTimestamp"].as_str().map(|s| {
            InclusionPromise {
                signed_entry_timestamp: s.to_string(),
            }
        }),
        inclusion_proof: Some(InclusionProof {
            log_index: int(&proof["logIndex"], "inclusionProof.logIndex")?,
            root_hash: hex_to_b64(&proof["rootHash"], "inclusionProof.rootHash")?,
            tree_size: int(&proof["treeSize"], "inclusionProof.treeSize")?,
            hashes,
            checkpoint: proof["checkpoint"].as_str().map(|c| Checkpoint {
                envelope: c.to_string(),
            }),
        }),
        canonicalized_body: body_b64.to_string(),
    })
}
