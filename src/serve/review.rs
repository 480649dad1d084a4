//! `admission.k8s.io/v1` `AdmissionReview`: the request the API server
//! posts, the models the object under review references, and the response
//! the API server expects back.
//!
//! The response echoes `apiVersion` and `kind` of the review and
//! `response.uid` is `request.uid`; a denial carries `status.code` (403)
//! and `status.message`. A body that is not an `AdmissionReview` at all
//! (no `request.uid` to echo) is answered with HTTP 400: the API server
//! then counts the call as failed and, under `failurePolicy: Fail`,
//! rejects the object.
//!
//! Where models are referenced:
//! - Pods, and the pod templates of Deployments, ReplicaSets,
//!   StatefulSets, DaemonSets, Jobs and CronJobs: every `oci://` URI in the
//!   `args`, `command` and `env[].value` of `containers`, `initContainers`
//!   and `ephemeralContainers` (KServe's storage initializer is called with
//!   the storage URI as an argument);
//! - KServe `InferenceService`s: `storageUri` of `spec.predictor.model`,
//!   of the older `spec.predictor.<framework>` forms, and of the
//!   transformer and explainer, plus the containers of each component;
//! - on any of these, the object's and the pod template's
//!   [`MODELS_ANNOTATION`]: references separated by commas or white space.
//!
//! A `storageUri` that is not `oci://` (s3://, gs://, pvc://, hf://…)
//! cannot be verified by mlprov and is denied. An object of another kind
//! is allowed only when it references no model: no annotation and no
//! `oci://` string anywhere in it.

use serde_json::{Value, json};

use crate::registry::OciRef;

/// The annotation listing the models a workload loads.
pub const MODELS_ANNOTATION: &str = "mlprov.dev/models";

/// The one `AdmissionReview` version served.
pub const API_VERSION: &str = "admission.k8s.io/v1";
pub const KIND: &str = "AdmissionReview";

/// A review that cannot be answered with an `AdmissionReview` (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

/// The parts of a request mlprov reads.
#[derive(Debug, Clone)]
pub struct Request {
    pub uid: String,
    /// `request.kind`: group, version, kind.
    pub group: String,
    pub kind: String,
    pub operation: String,
    /// `namespace/name` (or the name alone) for messages.
    pub name: String,
    pub object: Value,
}

/// Parse the body of a review.
pub fn parse(body: &[u8]) -> Result<Request, Malformed> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| Malformed(format!("the body is not JSON: {e}")))?;
    let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind != KIND {
        return Err(Malformed(format!(
            "kind is {kind:?}, not \"{KIND}\" (is this an admission review?)"
        )));
    }
    if api != API_VERSION {
        return Err(Malformed(format!(
            "apiVersion is {api:?}; mlprov serve answers {API_VERSION} only (admissionReviewVersions: [\"v1\"])"
        )));
    }
    let req = v
        .get("request")
        .filter(|r| r.is_object())
        .ok_or_else(|| Malformed("the review has no `request` object".into()))?;
    let uid = req
        .get("uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| Malformed("request.uid is missing".into()))?;
    let gvk = req.get("kind").unwrap_or(&Value::Null);
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let name = match (text(req, "namespace"), text(req, "name")) {
        (ns, n) if !ns.is_empty() && !n.is_empty() => format!("{ns}/{n}"),
        (ns, _) if !ns.is_empty() => format!("{ns}/(generated name)"),
        (_, n) => n,
    };
    Ok(Request {
        uid: uid.to_string(),
        group: text(gvk, "group"),
        kind: text(gvk, "kind"),
        operation: text(req, "operation"),
        name,
        object: req.get("object").cloned().unwrap_or(Value::Null),
    })
}

/// A model the object references, where, and what it parsed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef {
    /// Where in the object (`spec.predictor.model.storageUri`).
    pub place: String,
    /// As written.
    pub written: String,
    pub parsed: Result<OciRef, String>,
}

/// What the object references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Models {
    /// A kind mlprov knows: these references (possibly none).
    Known(Vec<ModelRef>),
    /// Another kind: the references found anyway (allowed only if none).
    Unknown(Vec<ModelRef>),
    /// Nothing to judge: a DELETE or CONNECT, or no object.
    NoObject,
}

fn reference(place: String, written: &str) -> ModelRef {
    let w = written.trim();
    let bare = w.strip_prefix("oci://").unwrap_or(w);
    let parsed = if w.contains("://") && !w.starts_with("oci://") {
        Err(format!(
            "{w} is not an OCI reference (oci://…), so mlprov cannot verify the model it names"
        ))
    } else {
        OciRef::parse(bare).map_err(|e| e.to_string())
    };
    ModelRef {
        place,
        written: w.to_string(),
        parsed,
    }
}

/// The models `req.object` references.
pub fn models(req: &Request) -> Models {
    if !req.object.is_object() || matches!(req.operation.as_str(), "DELETE" | "CONNECT") {
        return Models::NoObject;
    }
    let o = &req.object;
    let mut out = Vec::new();
    annotation(o, "metadata", &mut out);
    let template = |path: &str| o.pointer(path);
    match (req.group.as_str(), req.kind.as_str()) {
        ("", "Pod") => pod_spec(o.get("spec"), "spec", &mut out),
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet") | ("batch", "Job") => {
            pod_template(template("/spec/template"), "spec.template", &mut out)
        }
        ("batch", "CronJob") => {
            if let Some(jt) = template("/spec/jobTemplate") {
                annotation(jt, "spec.jobTemplate.metadata", &mut out);
            }
            pod_template(
                template("/spec/jobTemplate/spec/template"),
                "spec.jobTemplate.spec.template",
                &mut out,
            )
        }
        ("serving.kserve.io", "InferenceService") => inference_service(o, &mut out),
        _ => {
            oci_strings(o, String::new(), &mut out);
            dedup(&mut out);
            return Models::Unknown(out);
        }
    }
    dedup(&mut out);
    Models::Known(out)
}

fn dedup(out: &mut Vec<ModelRef>) {
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|m| seen.insert((m.place.clone(), m.written.clone())));
}

/// `parent.metadata.annotations[MODELS_ANNOTATION]`; `place` names that
/// metadata in messages.
fn annotation(parent: &Value, place: &str, out: &mut Vec<ModelRef>) {
    let meta = parent.get("metadata");
    let Some(v) = meta
        .and_then(|m| m.pointer("/annotations"))
        .and_then(|a| a.get(MODELS_ANNOTATION))
    else {
        return;
    };
    let place = format!("{place}.annotations[{MODELS_ANNOTATION}]");
    match v.as_str() {
        Some(s) => {
            for r in s
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|r| !r.is_empty())
            {
                out.push(reference(place.clone(), r));
            }
        }
        None => out.push(ModelRef {
            place,
            written: v.to_string(),
            parsed: Err("annotation values are strings".into()),
        }),
    }
}

fn pod_template(t: Option<&Value>, place: &str, out: &mut Vec<ModelRef>) {
    let Some(t) = t else { return };
    annotation(t, &format!("{place}.metadata"), out);
    pod_spec(t.get("spec"), &format!("{place}.spec"), out);
}

fn pod_spec(spec: Option<&Value>, place: &str, out: &mut Vec<ModelRef>) {
    let Some(spec) = spec else { return };
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        containers(spec.get(list), &format!("{place}.{list}"), out);
    }
}

fn containers(list: Option<&Value>, place: &str, out: &mut Vec<ModelRef>) {
    let Some(list) = list.and_then(Value::as_array) else {
        return;
    };
    for (i, c) in list.iter().enumerate() {
        let name = c.get("name").and_then(Value::as_str).unwrap_or("");
        let here = format!(
            "{place}[{i}]{}",
            if name.is_empty() {
                String::new()
            } else {
                format!("({name})")
            }
        );
        for field in ["command", "args"] {
            for (j, a) in c
                .get(field)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(s) = a.as_str().filter(|s| s.trim_start().starts_with("oci://")) {
                    out.push(reference(format!("{here}.{field}[{j}]"), s));
                }
            }
        }
        for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
            if let Some(s) = e
                .get("value")
                .and_then(Value::as_str)
                .filter(|s| s.trim_start().starts_with("oci://"))
            {
                let n = e.get("name").and_then(Value::as_str).unwrap_or("?");
                out.push(reference(format!("{here}.env[{n}]"), s));
            }
        }
    }
}

fn inference_service(o: &Value, out: &mut Vec<ModelRef>) {
    let Some(spec) = o.get("spec").and_then(Value::as_object) else {
        return;
    };
    for (component, c) in spec {
        let Some(c) = c.as_object() else { continue };
        let place = format!("spec.{component}");
        if let Some(s) = c.get("storageUri").and_then(Value::as_str) {
            out.push(reference(format!("{place}.storageUri"), s));
        }
        if let Some(uris) = c.get("storageUris").and_then(Value::as_array) {
            for (i, u) in uris.iter().enumerate() {
                if let Some(s) = u.as_str().or_else(|| u.get("uri").and_then(Value::as_str)) {
                    out.push(reference(format!("{place}.storageUris[{i}]"), s));
                }
            }
        }
        // `model` and the older framework forms (`sklearn`, `pytorch`,
        // `tensorflow`, …): any object with a storageUri.
        for (k, v) in c {
            if let Some(s) = v.get("storageUri").and_then(Value::as_str) {
                out.push(reference(format!("{place}.{k}.storageUri"), s));
            }
        }
        let pod = Value::Object(c.clone());
        pod_spec(Some(&pod), &place, out);
    }
}

/// Every string starting with `oci://` anywhere in `v` (objects of kinds
/// mlprov does not know).
fn oci_strings(v: &Value, place: String, out: &mut Vec<ModelRef>) {
    match v {
        Value::String(s) if s.trim_start().starts_with("oci://") => {
            out.push(reference(place, s));
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                oci_strings(x, format!("{place}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                if k == MODELS_ANNOTATION && place.ends_with("annotations") {
                    if let Some(s) = x.as_str() {
                        for r in s
                            .split(|c: char| c == ',' || c.is_whitespace())
                            .filter(|r| !r.is_empty())
                        {
                            out.push(reference(format!("{place}[{k}]"), r));
                        }
                    }
                    continue;
                }
                let p = if place.is_empty() {
                    k.clone()
                } else {
                    format!("{place}.{k}")
                };
                oci_strings(x, p, out);
            }
        }
        _ => {}
    }
}

/// The `AdmissionReview` response for `uid`: allowed, or denied with the
/// one-line `message` (HTTP 403 in `status.code`, as the API server shows it).
pub fn response(uid: &str, allowed: bool, message: Option<&str>) -> Value {
    let mut r = json!({"uid": uid, "allowed": allowed});
    if !allowed {
        r["status"] = json!({
            "code": 403,
            "message": message.unwrap_or("denied by mlprov serve"),
        });
    } else if let Some(m) = message {
        r["status"] = json!({"code": 200, "message": m});
    }
    json!({"apiVersion": API_VERSION, "kind": KIND, "response": r})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(group: &str, version: &str, kind: &str, object: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind": {"group": group, "version": version, "kind": kind},
                "resource": {"group": group, "version": version, "resource": "x"},
                "namespace": "ml",
                "name": "m",
                "operation": "CREATE",
                "userInfo": {"username": "admin"},
                "object": object,
                "oldObject": null,
                "dryRun": false,
            }
        }))
        .unwrap()
    }

    fn written(m: Models) -> Vec<(String, String)> {
        match m {
            Models::Known(v) | Models::Unknown(v) => {
                v.into_iter().map(|m| (m.place, m.written)).collect()
            }
            Models::NoObject => vec![],
        }
    }

    #[test]
    fn pod_containers_and_annotation() {
        let body = review(
            "",
            "v1",
            "Pod",
            json!({
                "metadata": {"annotations": {MODELS_ANNOTATION: "r.example.com/a@sha256:0000000000000000000000000000000000000000000000000000000000000000, r.example.com/b:1"}},
                "spec": {
                    "initContainers": [{"name": "init", "image": "mlprov", "args": ["pull", "oci://r.example.com/c:2", "/mnt/models"]}],
                    "containers": [{"name": "srv", "image": "srv:1", "env": [{"name": "MODEL", "value": "oci://r.example.com/d:3"}, {"name": "X", "value": "y"}]}],
                }
            }),
        );
        let req = parse(&body).unwrap();
        assert_eq!(req.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
        let got = written(models(&req));
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[2].0, "spec.initContainers[0](init).args[1]");
        assert_eq!(got[3].0, "spec.containers[0](srv).env[MODEL]");
    }

    #[test]
    fn deployment_template_and_isvc_forms() {
        let body = review(
            "apps",
            "v1",
            "Deployment",
            json!({"spec": {"template": {
                "metadata": {"annotations": {MODELS_ANNOTATION: "oci://r.example.com/a:1"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]}}}}),
        );
        let got = written(models(&parse(&body).unwrap()));
        assert_eq!(
            got,
            [(
                "spec.template.metadata.annotations[mlprov.dev/models]".to_string(),
                "oci://r.example.com/a:1".to_string()
            )]
        );
        let body = review(
            "serving.kserve.io",
            "v1beta1",
            "InferenceService",
            json!({"spec": {"predictor": {
                "model": {"modelFormat": {"name": "onnx"}, "storageUri": "oci://r.example.com/a:1"},
                "sklearn": {"storageUri": "oci://r.example.com/b:1"}}}}),
        );
        let got = written(models(&parse(&body).unwrap()));
        assert_eq!(got.len(), 2, "{got:?}");
        let body = review(
            "serving.kserve.io",
            "v1beta1",
            "InferenceService",
            json!({"spec": {"predictor": {"model": {"storageUri": "s3://bucket/model"}}}}),
        );
        let Models::Known(m) = models(&parse(&body).unwrap()) else {
            panic!()
        };
        assert!(
            m[0].parsed
                .as_ref()
                .unwrap_err()
                .contains("not an OCI reference")
        );
    }

    #[test]
    fn unknown_kinds_are_searched() {
        let body = review("example.com", "v1", "Widget", json!({"spec": {"a": ["x"]}}));
        assert_eq!(models(&parse(&body).unwrap()), Models::Unknown(vec![]));
        let body = review(
            "example.com",
            "v1",
            "Widget",
            json!({"spec": {"a": ["oci://r.example.com/a:1"]}}),
        );
        assert_eq!(written(models(&parse(&body).unwrap())).len(), 1);
    }

    #[test]
    fn malformed_reviews() {
        assert!(parse(b"{").is_err());
        assert!(
            parse(br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#).is_err()
        );
        assert!(parse(br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"a"}}"#).is_err());
        assert!(parse(br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":""}}"#).is_err());
    }

    #[test]
    fn response_echoes_uid() {
        let r = response("abc", false, Some("E0202 untrusted-signer: x"));
        assert_eq!(r["apiVersion"], API_VERSION);
        assert_eq!(r["kind"], KIND);
        assert_eq!(r["response"]["uid"], "abc");
        assert_eq!(r["response"]["allowed"], false);
        assert_eq!(r["response"]["status"]["code"], 403);
    }
}
