//! In-process fixtures for the checks and the walk: signing keys, signed
//! statements of every kind mlprov verifies, a mock bundle store and a
//! mock registry. No CLI, no network.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::digest::Sha256Digest;
use crate::intoto::{
    BUILD_TYPE_TRAINING, BUILDER_LOCAL, PREDICATE_SCAN, PREDICATE_SLSA_PROVENANCE,
    ResourceDescriptor, Statement,
};
use crate::model::ResourceUri;
use crate::sign::keys::{KeyAlgorithm, SigningKey};
use crate::sign::oms::{self, HashedModel};
use crate::verify::checks::Node;
use crate::verify::model::{GraphNode, LocateError, Located, Locator, NodeKind};
use crate::verify::node::{BundleLookup, Candidate, Finding, Gathered, LocalBytes, RawBundle};
use crate::verify::policy::{CliTrust, ContextRules, VerifyPolicy};

/// Signers and a directory with their public keys (`platform.pub`, …),
/// where policies are resolved. The command line trusts `platform.pub`.
pub struct World {
    pub dir: tempfile::TempDir,
    pub platform: SigningKey,
    pub build: SigningKey,
    pub attacker: SigningKey,
}

impl World {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = |name: &str| {
            let k = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
            std::fs::write(
                dir.path().join(format!("{name}.pub")),
                k.public_key().unwrap().to_pem(),
            )
            .unwrap();
            k
        };
        let (platform, build, attacker) = (key("platform"), key("build"), key("attacker"));
        Self {
            dir,
            platform,
            build,
            attacker,
        }
    }

    /// A policy file's text, resolved with `platform.pub` on the command line.
    pub fn policy(&self, text: &str) -> VerifyPolicy {
        self.policy_with(text, &[])
    }

    pub fn policy_with(&self, text: &str, require: &[String]) -> VerifyPolicy {
        let p = crate::policy::parse_file(text, "policy.toml").unwrap();
        let mut cli_key =
            crate::sign::keys::PublicKey::load(&self.dir.path().join("platform.pub")).unwrap();
        cli_key.label = "platform.pub".into();
        let cli = crate::sign::trust::Trust {
            keys: vec![cli_key],
            ..Default::default()
        };
        crate::verify::policy::resolve(
            &p,
            Some("policy.toml".into()),
            None,
            self.dir.path(),
            CliTrust {
                trust: &cli,
                require,
                sigstore: &|| Err("no Sigstore trusted root in these tests".into()),
            },
        )
        .unwrap()
    }

    /// `st` signed by `key`, as a bundle.
    pub fn bundle(&self, key: &SigningKey, st: &Statement) -> RawBundle {
        let bytes =
            crate::sign::bundle::sign_statement(&serde_json::to_vec(st).unwrap(), key).unwrap();
        RawBundle {
            source: format!("store/{}", &Sha256Digest::of(&bytes).hex()[..12]),
            bytes,
        }
    }
}

pub fn digest(s: &str) -> Sha256Digest {
    Sha256Digest::of(s.as_bytes())
}

/// A statement about `d`.
pub fn statement(d: &Sha256Digest, predicate_type: &str, predicate: Value) -> Statement {
    Statement::new(
        vec![ResourceDescriptor::sha256("artifact", d)],
        predicate_type,
        predicate,
    )
}

fn slsa(build_type: &str, ext: Value, deps: &[ResourceDescriptor]) -> Value {
    json!({
        "buildDefinition": {
            "buildType": build_type,
            "externalParameters": ext,
            "resolvedDependencies": deps,
        },
        "runDetails": {"builder": {"id": BUILDER_LOCAL}},
    })
}

/// A training provenance about `d` naming `deps`.
pub fn provenance(d: &Sha256Digest, deps: &[ResourceDescriptor]) -> Statement {
    statement(
        d,
        PREDICATE_SLSA_PROVENANCE,
        slsa(
            BUILD_TYPE_TRAINING,
            json!({"artifact": {"name": "acme/model", "version": "1"}}),
            deps,
        ),
    )
}

/// An import provenance about `d`: `source` at `commit`, made by what
/// `attest import` calls (`provenance::import_statement` over the locked
/// input, here without files).
pub fn import_provenance(
    d: &Sha256Digest,
    source: &str,
    commit: &str,
    license: Option<&str>,
) -> Statement {
    let input = crate::lockfile::LockedInput {
        name: "base".into(),
        role: crate::model::Role::BaseModel,
        source: source.parse().unwrap(),
        requested: Some("main".into()),
        commit: Some(commit.into()),
        digest: *d,
        manifest: None,
        license: license.map(str::to_string),
        datasets: Vec::new(),
        include: Vec::new(),
        exclude: Vec::new(),
        files: Vec::new(),
    };
    let st = crate::provenance::import_statement(&input);
    serde_json::from_value(serde_json::to_value(st).unwrap()).unwrap()
}

/// A passing scan statement (no files) about `d`.
pub fn scan_statement(d: &Sha256Digest, _findings: &[()]) -> Statement {
    let report = crate::scan::ScanReport {
        files: Vec::new(),
        bytes_read: 0,
    };
    scan_statement_of(d, &report.predicate(&crate::scan::ScanPolicy::default()))
}

pub fn scan_statement_of(d: &Sha256Digest, pred: &crate::scan::ScanPredicate) -> Statement {
    statement(d, PREDICATE_SCAN, serde_json::to_value(pred).unwrap())
}

fn write_files(dir: &Path, files: &[(&str, &[u8])]) {
    for (p, b) in files {
        std::fs::write(dir.join(p), b).unwrap();
    }
}

/// The OMS statement of a directory holding `files`.
pub fn oms_statement(files: &[(&str, &[u8])]) -> Statement {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), files);
    let st = hash(dir.path()).statement();
    serde_json::from_value(serde_json::to_value(st).unwrap()).unwrap()
}

/// The OMS root digest of `files`.
pub fn oms_root(files: &[(&str, &[u8])]) -> Sha256Digest {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), files);
    hash(dir.path()).root
}

pub fn hash(dir: &Path) -> HashedModel {
    let opts = local(dir).settings;
    let set = crate::digest::FileSet::hash(dir, &opts, None, &crate::reporter::Silent).unwrap();
    oms::hashed_model(dir, &opts, set)
}

pub fn local(dir: &Path) -> LocalBytes {
    LocalBytes {
        path: dir.to_path_buf(),
        settings: crate::digest::SetOptions::artifact(),
    }
}

/// A `resolvedDependencies` entry.
pub fn dep(name: &str, d: &Sha256Digest, role: &str, uri: Option<&str>) -> ResourceDescriptor {
    let mut r = ResourceDescriptor::sha256(name, d);
    r.uri = uri.map(str::to_string);
    r.annotations.insert("role".into(), json!(role));
    r
}

/// A git dependency (the training code).
pub fn git_dep(name: &str, commit: &str) -> ResourceDescriptor {
    let mut digest = BTreeMap::new();
    digest.insert("gitCommit".to_string(), commit.to_string());
    let mut annotations = BTreeMap::new();
    annotations.insert("role".to_string(), json!("code"));
    ResourceDescriptor {
        name: Some(name.into()),
        digest,
        annotations,
        ..Default::default()
    }
}

/// Change the signed statement.
pub fn tamper(b: &mut RawBundle) {
    let mut v: Value = serde_json::from_slice(&b.bytes).unwrap();
    let p = v["dsseEnvelope"]["payload"].as_str().unwrap().to_string();
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD.decode(p).unwrap();
    let mut st: Value = serde_json::from_slice(&payload).unwrap();
    st["predicate"]["tampered"] = json!(true);
    v["dsseEnvelope"]["payload"] =
        json!(base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&st).unwrap()));
    b.bytes = serde_json::to_vec(&v).unwrap();
}

pub fn found(b: &RawBundle) -> Candidate {
    Candidate::new(b, false)
}

pub fn explicit(b: &RawBundle) -> Candidate {
    Candidate::new(b, true)
}

/// A found "bundle" with these bytes.
pub fn raw(text: &str) -> Candidate {
    Candidate::new(
        &RawBundle {
            source: "store/raw".into(),
            bytes: text.as_bytes().to_vec(),
        },
        false,
    )
}

pub fn gathered(d: Sha256Digest, candidates: Vec<Candidate>) -> Gathered {
    Gathered {
        digest: Some(d),
        expected: Some(d),
        candidates,
        ..Default::default()
    }
}

pub fn node_in<'a>(
    g: &'a Gathered,
    rules: &'a ContextRules<'a>,
    policy: &'a VerifyPolicy,
) -> Node<'a> {
    Node {
        id: "node",
        kind: NodeKind::Artifact,
        digest: g.digest,
        manifest_digest: None,
        name: None,
        uri: None,
        is_root: rules.role == crate::verify::model::ROOT_ROLE,
        gathered: g,
        rules,
        policy,
        rescan: None,
    }
}

pub fn codes(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.code.code()).collect()
}

/// A bare graph node.
pub fn graph_node(id: &str, depth: u32) -> GraphNode {
    GraphNode {
        id: id.into(),
        kind: NodeKind::Artifact,
        digest: None,
        manifest_digest: None,
        git_commit: None,
        name: Some(id.into()),
        uri: None,
        roles: vec!["base-model".into()],
        depth,
        optional: false,
        required_for_root: true,
        location: None,
        verdict: None,
        findings: Vec::new(),
        scan: None,
        licenses: Vec::new(),
        builders: Vec::new(),
        imported: false,
    }
}

/// Bundles by subject digest, like the local store.
#[derive(Default)]
pub struct MockStore(pub BTreeMap<Sha256Digest, Vec<RawBundle>>);

impl MockStore {
    pub fn put(&mut self, d: Sha256Digest, b: RawBundle) {
        self.0.entry(d).or_default().push(b);
    }
}

impl BundleLookup for MockStore {
    fn bundles_for(&self, digest: &Sha256Digest) -> Result<Vec<RawBundle>, String> {
        Ok(self.0.get(digest).cloned().unwrap_or_default())
    }
}

/// Registry locations by `oci://` URI text.
#[derive(Default)]
pub struct MockRegistry(pub BTreeMap<String, Result<Located, LocateError>>);

impl Locator for MockRegistry {
    fn locate(&self, uri: &ResourceUri, _: &Sha256Digest) -> Option<Result<Located, LocateError>> {
        if !matches!(uri, ResourceUri::Oci { .. }) {
            return None;
        }
        let text = uri.to_string();
        Some(self.0.get(&text).cloned().unwrap_or_else(|| {
            Err(LocateError::Contradicts(format!(
                "{text}: manifest unknown"
            )))
        }))
    }
}
