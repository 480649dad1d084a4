//! `mlprov serve`: a Kubernetes validating admission webhook. The API
//! server posts an `admission.k8s.io/v1` `AdmissionReview` for each Pod,
//! workload or KServe `InferenceService`; the object is admitted only when
//! every model it references verifies under the configured policy (the
//! verification `verify REF` makes, in-process) or carries a VSA from a
//! trusted verifier.
//!
//! - [`review`]: the review's shape and where objects reference models;
//! - [`gate`]: the decision, the verdict cache, the deadline, the metrics;
//! - [`server`]: HTTPS (rustls) and the HTTP endpoints.

pub mod gate;
pub mod review;
pub mod server;
