//! The admission decision: every model a review references must verify.
//!
//! Tags are resolved to digests on every review (a tag may move); verdicts
//! are cached by the pinned reference (`registry/repo@sha256:…`) for the
//! TTL, and concurrent reviews of one model wait for one verification.
//! A verification that does not finish within the deadline is a denial;
//! it carries on in the background and its verdict is cached, so a retry
//! by the API server finds it. Verdicts that say the registry could not be
//! reached are not cached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};
use serde_json::Value;

use super::review::{self, Models};
use crate::registry::OciRef;

/// What a model's check concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// Verified under the policy, in-process.
    Verified,
    /// A VSA from a trusted verifier about this digest, with a passing verdict.
    Vsa(String),
    /// Not admitted.
    Denied,
}

/// The verdict about one pinned model.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub proof: Proof,
    /// Finding or diagnostic codes (`E0202`, `serve::registry`), deduplicated.
    pub codes: Vec<String>,
    /// One line.
    pub reason: String,
    /// Whether the verdict may be cached (not when the registry could not
    /// be reached: that says nothing about the model).
    pub cacheable: bool,
}

impl Verdict {
    pub fn denied(codes: Vec<String>, reason: impl Into<String>, cacheable: bool) -> Self {
        Self {
            proof: Proof::Denied,
            codes,
            reason: one_line(&reason.into()),
            cacheable,
        }
    }

    pub fn admitted(&self) -> bool {
        self.proof != Proof::Denied
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How models are resolved and verified (blocking calls, run off the
/// server's threads).
pub trait Verifier: Send + Sync + 'static {
    /// The manifest digest a tag names now; a denial when it cannot be
    /// resolved.
    fn resolve(&self, reference: &OciRef) -> Result<crate::digest::Sha256Digest, Verdict>;
    /// The verdict about a reference pinned to its digest.
    fn verify(&self, pinned: &OciRef) -> Verdict;
}

/// The gate's settings.
#[derive(Debug, Clone)]
pub struct GateSettings {
    /// Longest a review may take before it is denied.
    pub deadline: Duration,
    /// How long a verdict is kept.
    pub cache_ttl: Duration,
    /// Registries models may come from (empty: any).
    pub allowed_registries: Vec<String>,
}

/// Seconds buckets of the verification time histogram.
const BUCKETS: [f64; 10] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub http_requests: AtomicU64,
    pub reviews_allowed: AtomicU64,
    pub reviews_denied: AtomicU64,
    pub reviews_malformed: AtomicU64,
    pub too_large: AtomicU64,
    pub verdicts_verified: AtomicU64,
    pub verdicts_vsa: AtomicU64,
    pub verdicts_denied: AtomicU64,
    pub verdicts_timeout: AtomicU64,
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    pub coalesced: AtomicU64,
    pub verifications: AtomicU64,
    pub tag_resolutions: AtomicU64,
    histogram: Mutex<Histogram>,
}

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    fn observe(&self, secs: f64) {
        let mut h = self.histogram.lock().unwrap_or_else(|e| e.into_inner());
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut s = String::new();
        let mut counter = |name: &str, help: &str, rows: &[(&str, u64)]| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} counter");
            for (labels, v) in rows {
                let _ = writeln!(s, "{name}{labels} {v}");
            }
        };
        counter(
            "mlprov_serve_http_requests_total",
            "HTTP requests received (every path).",
            &[("", g(&self.http_requests))],
        );
        counter(
            "mlprov_serve_reviews_total",
            "Admission reviews answered, by result.",
            &[
                ("{result=\"allowed\"}", g(&self.reviews_allowed)),
                ("{result=\"denied\"}", g(&self.reviews_denied)),
                ("{result=\"malformed\"}", g(&self.reviews_malformed)),
                ("{result=\"too-large\"}", g(&self.too_large)),
            ],
        );
        counter(
            "mlprov_serve_model_verdicts_total",
            "Verdicts about models, by result (cached ones included).",
            &[
                ("{result=\"verified\"}", g(&self.verdicts_verified)),
                ("{result=\"vsa\"}", g(&self.verdicts_vsa)),
                ("{result=\"denied\"}", g(&self.verdicts_denied)),
                ("{result=\"timeout\"}", g(&self.verdicts_timeout)),
            ],
        );
        counter(
            "mlprov_serve_cache_hits_total",
            "Model verdicts answered from the cache.",
            &[("", g(&self.cache_hits))],
        );
        counter(
            "mlprov_serve_cache_misses_total",
            "Model verdicts not in the cache (a verification started).",
            &[("", g(&self.cache_misses))],
        );
        counter(
            "mlprov_serve_coalesced_total",
            "Model checks that waited for a verification already running.",
            &[("", g(&self.coalesced))],
        );
        counter(
            "mlprov_serve_verifications_total",
            "Verifications run.",
            &[("", g(&self.verifications))],
        );
        counter(
            "mlprov_serve_tag_resolutions_total",
            "Tags resolved to digests at the registry.",
            &[("", g(&self.tag_resolutions))],
        );
        let h = self.histogram.lock().unwrap_or_else(|e| e.into_inner());
        let name = "mlprov_serve_verification_seconds";
        let _ = writeln!(
            s,
            "# HELP {name} Time a verification took.\n# TYPE {name} histogram"
        );
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(s, "{name}_bucket{{le=\"{b}\"}} {}", h.counts[i]);
        }
        let _ = writeln!(s, "{name}_bucket{{le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(s, "{name}_sum {}", h.sum);
        let _ = writeln!(s, "{name}_count {}", h.count);
        s
    }
}

type Pending = Shared<BoxFuture<'static, Verdict>>;

enum Slot {
    Running(Pending),
    Done(Verdict, Instant),
}

/// The admission gate.
pub struct Gate {
    verifier: Arc<dyn Verifier>,
    settings: GateSettings,
    cache: Mutex<HashMap<String, Slot>>,
    pub metrics: Metrics,
}

/// An HTTP answer to a review: 200 with an `AdmissionReview`, or 400.
#[derive(Debug, Clone)]
pub enum Answer {
    Review { allowed: bool, body: Value },
    BadRequest(String),
}

impl Gate {
    pub fn new(verifier: Arc<dyn Verifier>, settings: GateSettings) -> Self {
        Self {
            verifier,
            settings,
            cache: Mutex::new(HashMap::new()),
            metrics: Metrics::default(),
        }
    }

    /// Answer one review body.
    pub async fn review(self: &Arc<Self>, body: &[u8]) -> Answer {
        let req = match review::parse(body) {
            Ok(r) => r,
            Err(e) => {
                self.metrics
                    .reviews_malformed
                    .fetch_add(1, Ordering::Relaxed);
                return Answer::BadRequest(format!(
                    "not an admission.k8s.io/v1 AdmissionReview: {e}"
                ));
            }
        };
        let (allowed, message) = self.decide(&req).await;
        let counter = if allowed {
            &self.metrics.reviews_allowed
        } else {
            &self.metrics.reviews_denied
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Answer::Review {
            allowed,
            body: review::response(&req.uid, allowed, message.as_deref()),
        }
    }

    async fn decide(self: &Arc<Self>, req: &review::Request) -> (bool, Option<String>) {
        let what = if req.name.is_empty() {
            req.kind.clone()
        } else {
            format!("{} {}", req.kind, req.name)
        };
        let refs = match review::models(req) {
            Models::NoObject => return (true, None),
            Models::Known(refs) if refs.is_empty() => return (true, None),
            Models::Unknown(refs) if refs.is_empty() => return (true, None),
            Models::Unknown(refs) => {
                return (
                    false,
                    Some(format!(
                        "mlprov serve: serve::unknown-kind: {what}: mlprov does not know where a {}{} loads models from, and it references {} ({}); only Pods, workloads with pod templates and KServe InferenceServices with models are admitted",
                        if req.group.is_empty() {
                            String::new()
                        } else {
                            format!("{}/", req.group)
                        },
                        req.kind,
                        refs[0].written,
                        refs[0].place
                    )),
                );
            }
            Models::Known(refs) => refs,
        };
        // One check per distinct reference.
        let mut distinct: Vec<review::ModelRef> = Vec::new();
        for r in refs {
            if !distinct.iter().any(|d| d.written == r.written) {
                distinct.push(r);
            }
        }
        let deadline = self.settings.deadline;
        let checks = distinct.iter().map(|r| {
            let gate = Arc::clone(self);
            let r = r.clone();
            async move {
                let v = gate.check(&r).await;
                (r, v)
            }
        });
        let all = futures_util::future::join_all(checks);
        let results = match tokio::time::timeout(deadline, all).await {
            Ok(v) => v,
            Err(_) => {
                self.metrics
                    .verdicts_timeout
                    .fetch_add(1, Ordering::Relaxed);
                return (
                    false,
                    Some(format!(
                        "mlprov serve: serve::deadline: {what}: the verification of {} did not finish within {} ms; it continues, and a retry is answered from its verdict",
                        distinct
                            .iter()
                            .map(|d| d.written.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        deadline.as_millis()
                    )),
                );
            }
        };
        let denied: Vec<String> = results
            .iter()
            .filter(|(_, v)| !v.admitted())
            .map(|(r, v)| {
                let codes = if v.codes.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", v.codes.join(", "))
                };
                format!("{} ({}): {codes}{}", r.written, r.place, v.reason)
            })
            .collect();
        if denied.is_empty() {
            (true, None)
        } else {
            (
                false,
                Some(format!(
                    "mlprov serve: {what}: {} of {} model(s) did not verify: {}",
                    denied.len(),
                    results.len(),
                    denied.join("; ")
                )),
            )
        }
    }

    /// The verdict about one referenced model.
    async fn check(self: &Arc<Self>, r: &review::ModelRef) -> Verdict {
        let v = self.check_inner(r).await;
        let c = match v.proof {
            Proof::Verified => &self.metrics.verdicts_verified,
            Proof::Vsa(_) => &self.metrics.verdicts_vsa,
            Proof::Denied => &self.metrics.verdicts_denied,
        };
        c.fetch_add(1, Ordering::Relaxed);
        v
    }

    async fn check_inner(self: &Arc<Self>, r: &review::ModelRef) -> Verdict {
        let reference = match &r.parsed {
            Ok(o) => o.clone(),
            Err(e) => {
                return Verdict::denied(vec!["serve::bad-reference".into()], e.clone(), false);
            }
        };
        let allowed = &self.settings.allowed_registries;
        if !allowed.is_empty() && !allowed.iter().any(|a| a == &reference.registry) {
            return Verdict::denied(
                vec!["serve::registry-not-allowed".into()],
                format!(
                    "registry {} is not one models may come from (--allow-registry: {})",
                    reference.registry,
                    allowed.join(", ")
                ),
                false,
            );
        }
        let pinned = match reference.digest {
            Some(d) => reference.with_digest(d),
            None => {
                self.metrics.tag_resolutions.fetch_add(1, Ordering::Relaxed);
                let verifier = Arc::clone(&self.verifier);
                let rr = reference.clone();
                match tokio::task::spawn_blocking(move || verifier.resolve(&rr)).await {
                    Ok(Ok(d)) => reference.with_digest(d),
                    Ok(Err(v)) => return v,
                    Err(e) => {
                        return Verdict::denied(
                            vec!["serve::internal".into()],
                            format!("resolving the tag failed: {e}"),
                            false,
                        );
                    }
                }
            }
        };
        self.cached(pinned).await
    }

    /// The cached verdict, the running verification's, or a new one.
    async fn cached(self: &Arc<Self>, pinned: OciRef) -> Verdict {
        let key = pinned.to_string();
        let pending = {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            match cache.get(&key) {
                Some(Slot::Done(v, at)) if at.elapsed() < self.settings.cache_ttl => {
                    self.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
                    return v.clone();
                }
                Some(Slot::Running(p)) => {
                    self.metrics.coalesced.fetch_add(1, Ordering::Relaxed);
                    p.clone()
                }
                _ => {
                    self.metrics.cache_misses.fetch_add(1, Ordering::Relaxed);
                    self.metrics.verifications.fetch_add(1, Ordering::Relaxed);
                    let gate = Arc::clone(self);
                    let p = pinned.clone();
                    let job = tokio::task::spawn_blocking(move || {
                        let start = Instant::now();
                        let v = gate.verifier.verify(&p);
                        gate.metrics.observe(start.elapsed().as_secs_f64());
                        v
                    });
                    let fut: BoxFuture<'static, Verdict> = async move {
                        job.await.unwrap_or_else(|e| {
                            Verdict::denied(
                                vec!["serve::internal".into()],
                                format!("the verification stopped: {e}"),
                                false,
                            )
                        })
                    }
                    .boxed();
                    let shared = fut.shared();
                    cache.insert(key.clone(), Slot::Running(shared.clone()));
                    // Settle the slot even if every review waiting for it
                    // gives up at its deadline.
                    let gate = Arc::clone(self);
                    let k = key.clone();
                    let s = shared.clone();
                    tokio::spawn(async move {
                        let v = s.await;
                        gate.settle(&k, v);
                    });
                    shared
                }
            }
        };
        pending.await
    }

    fn settle(&self, key: &str, v: Verdict) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(cache.get(key), Some(Slot::Running(_))) {
            if v.cacheable {
                cache.insert(key.to_string(), Slot::Done(v, Instant::now()));
            } else {
                cache.remove(key);
            }
        }
        // Keep the cache bounded: drop expired verdicts now and then.
        if cache.len() > 4096 {
            let ttl = self.settings.cache_ttl;
            cache.retain(|_, s| match s {
                Slot::Done(_, at) => at.elapsed() < ttl,
                Slot::Running(_) => true,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Sha256Digest;
    use serde_json::json;
    use std::sync::atomic::AtomicUsize;

    struct Counting {
        calls: AtomicUsize,
        ok: bool,
        delay: Duration,
    }

    impl Verifier for Counting {
        fn resolve(&self, _: &OciRef) -> Result<Sha256Digest, Verdict> {
            Ok(Sha256Digest::of(b"m"))
        }
        fn verify(&self, _: &OciRef) -> Verdict {
            self.calls.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(self.delay);
            if self.ok {
                Verdict {
                    proof: Proof::Verified,
                    codes: vec![],
                    reason: String::new(),
                    cacheable: true,
                }
            } else {
                Verdict::denied(vec!["E0202".into()], "untrusted", true)
            }
        }
    }

    fn pod(model: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "operation": "CREATE", "namespace": "ml", "name": "p",
                "object": {"metadata": {"annotations": {"mlprov.dev/models": model}}, "spec": {"containers": []}}}
        }))
        .unwrap()
    }

    fn gate(v: Arc<Counting>, deadline: Duration) -> Arc<Gate> {
        Arc::new(Gate::new(
            v,
            GateSettings {
                deadline,
                cache_ttl: Duration::from_secs(60),
                allowed_registries: vec![],
            },
        ))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_reviews_verify_once_and_deadline_denies() {
        let v = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            ok: true,
            delay: Duration::from_millis(200),
        });
        let g = gate(Arc::clone(&v), Duration::from_secs(5));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let g = Arc::clone(&g);
            tasks.push(tokio::spawn(async move {
                g.review(&pod("r.example.com/m:1")).await
            }));
        }
        for t in tasks {
            let Answer::Review { allowed, .. } = t.await.unwrap() else {
                panic!()
            };
            assert!(allowed);
        }
        assert_eq!(v.calls.load(Ordering::SeqCst), 1);

        let slow = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            ok: true,
            delay: Duration::from_millis(500),
        });
        let g = gate(Arc::clone(&slow), Duration::from_millis(50));
        let Answer::Review { allowed, body } = g.review(&pod("r.example.com/m:1")).await else {
            panic!()
        };
        assert!(!allowed);
        let msg = body["response"]["status"]["message"].as_str().unwrap();
        assert!(msg.contains("serve::deadline"), "{msg}");
    }
}
