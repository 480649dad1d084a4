//! The `--format json` documents: one typed struct per command, each with
//! a top-level `version` and camelCase keys, and the error document every
//! command prints on stdout when it fails under `--format json`.
//!
//! `mlprov schema DOCUMENT` prints the JSON Schema of each, generated from
//! these types; the schemas are committed under `schemas/` and
//! `tests/generated.rs` keeps them fresh. The `verify` and `graph`
//! documents are built by `verify::report` and their schema
//! (`schemas/verify.json`) is written by hand; the test suite validates
//! every document it sees against its schema.

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;

use crate::scan::{PredicateFile, ScanPolicy, ScannerInfo, Summary};

/// The version of every document below; a change that removes or renames a
/// key raises it.
pub const VERSION: u32 = 1;

fn version_one(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "const": VERSION })
}

fn any_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "object" })
}

/// `--format json` when a command fails: what went wrong, as on stderr.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorDocument {
    #[schemars(schema_with = "version_one")]
    pub version: u32,
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorBody {
    /// The diagnostic code (`mlprov::build::stale-lock`), when it has one
    /// (every code is listed in `src/diagnostics.rs`).
    pub code: Option<String>,
    /// The message, with the causes that led to it.
    pub message: String,
    pub help: Option<String>,
    /// The exit status mlprov ends with.
    pub exit: u8,
}

// --- init -------------------------------------------------------------------

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InitDocument {
    #[schemars(schema_with = "version_one")]
    pub version: u32,
    /// The mlprov.toml written.
    pub manifest: String,
    pub template: String,
    /// The artifact name.
    pub name: String,
    pub gitignore_updated: bool,
}

// --- pin --------------------------------------------------------------------

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PinDocument {
    #[schemars(schema_with = "version_one")]
    pub version: u32,
    pub lock: String,
    /// Whether mlprov.lock was (re)written.
    pub written: bool,
    pub inputs: Vec<PinnedInput>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PinnedInput {
    pub name: String,
    /// `added`, `updated`, `unchanged` or `removed`.
    pub status: String,
    pub role: Option<String>,
    pub source: Option<String>,
    pub commit: Option<String>,
    pub digest: Option<String>,
    pub license: Option<String>,
    pub files: Option<usize>,
    pub bytes: Option<u64>,
}

// --- scan -------------------------------------------------------------------

/// The scan/v1 predicate, what each file imports, and how much was read.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScanDocument {
    #[schemars(schema_with = "version_one")]
    pub version: u32,
    pub scanner: ScannerInfo,
    pub policy: ScanPolicy,
    /// `pass` or `fail`.
    pub verdict: String,
    pub summary: Summary,
    pub files: Vec<ScannedFile>,
    pub bytes_read: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScannedFile {
    #[serde(flatten)]
    pub file: PredicateFile,
    /// Pickle globals and other imports the file names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<String>,
}

// --- build ------------------------------------------------------------------

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildDocument {
    #[schemars(schema_with = "version_one")]
    pub version: u32,
    pub artifact: BuiltArtifact,
    pub run: BuildRun,
    pub inputs: Vec<BuildInput>,
    /// Document name → path (relative to the project).
    pub documents: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuiltArtifact {
    pub name: String,
    /// The artifact's own version, from mlprov.toml.
    pub version: String,
    pub path: String,
    pub digest: String,
    pub files: usize,
    pub bytes: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildRun {
    /// `training` or `packaging`.
    pub kind: String,
    /// `recorded`, `imported` or `packaging`.
    pub source: String,
    pub invocation_id: String,
    pub exit_status: Option<i32>,
    pub git_commit: Option<String>,
    pub dirty: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildInput {
    pub name: String,
    pub role: String,
    pub uri: String,
    pub digest: String,
}

// --- push / pull ------------------------------------------------------------

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushDocument {
    #[schemars(schema_with = "version_one")]
    pub version: u32,
    pub reference: String,
    /// `registry/repo@sha256:…`, the manifest pushed.
    pub pushed: String,
    /// The manifest digest.
    pub digest: String,
    pub artifact_digest: String,
    pub tag: Option<String>,
    pub blobs: PushedBlobs,
    /// `none`, `api` or `tag-schema`.
    pub referrers_via: String,
    pub referrers: Vec<PushedReferrer>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushedBlobs {
    pub uploaded: usize,
    pub uploaded_bytes: u64,
    pub skipped: usize,
    pub mounted: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushedReferrer {
    pub digest: String,
    pub bundle_digest: String,
    pub predicate_type: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PullDocument {
    #[schemars(schema_with = "version_one")]
    pub version: u32,
    pub reference: String,
    /// `registry/repo@sha256:…`, the manifest pulled.
    pub pulled: String,
    pub digest: String,
    pub artifact_digest: String,
    /// Where the files were placed; `null` when verification failed and
    /// the download was discarded.
    pub directory: Option<String>,
    /// Whether signatures, attestations and policy were checked and held
    /// (`false` under `--no-verify` or when they did not).
    pub verified: bool,
    /// The verification report (the `verify` document's nodes and
    /// findings); `null` under `--no-verify`.
    #[schemars(schema_with = "nullable_object")]
    pub verification: Option<serde_json::Value>,
    pub files: Vec<PulledFile>,
    pub bundles: Vec<PulledBundle>,
    /// `api` or `tag-schema`.
    pub referrers_via: String,
}

fn nullable_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": ["object", "null"] })
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PulledFile {
    pub path: String,
    pub size: u64,
    /// Hex, without the `sha256:` prefix.
    pub sha256: String,
    pub media_type: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PulledBundle {
    pub referrer: String,
    /// The predicate type the referrer claims (a hint; the bundle says).
    pub predicate_type: Option<String>,
}

// --- keygen / sign / attest / revoke ---------------------------------------

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeygenDocument {
    #[schemars(schema_with = "version_one")]
    pub version: u32,
    pub private_key: String,
    pub public_key: String,
    pub algorithm: String,
    pub encrypted: bool,
    pub fingerprint: String,
    pub hint: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignDocument {
    #[schemars(schema_with = "version_one")]
    pub version: u32,
    pub signature: String,
    pub name: String,
    pub digest: String,
    pub files: usize,
    pub bytes: u64,
    pub predicate_type: String,
    /// The second signature, for the registry, that also names the
    /// ModelPack manifest `push` will publish (when the target is the
    /// project's artifact).
    pub oci_manifest: Option<SignedManifest>,
    /// How the bundle is signed (`kind`: `key` or `keyless`).
    #[schemars(schema_with = "any_object")]
    pub signer: serde_json::Value,
    /// Where the bundle was filed in the local store.
    pub store: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedManifest {
    pub digest: String,
    /// Where that bundle was filed in the local store.
    pub store: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttestDocument {
    #[schemars(schema_with = "version_one")]
    pub version: u32,
    pub bundles: Vec<AttestedBundle>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttestedBundle {
    /// `provenance`, `sbom`, `scan`, an input name, …
    pub what: String,
    pub file: String,
    pub predicate_type: String,
    pub subjects: Vec<String>,
    pub store: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevokeDocument {
    #[schemars(schema_with = "version_one")]
    pub version: u32,
    pub file: String,
    pub revoked: Vec<Revoked>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Revoked {
    pub digest: String,
    pub reason: Option<String>,
}

// --- why --------------------------------------------------------------------

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WhyDocument {
    #[schemars(schema_with = "version_one")]
    pub version: u32,
    pub query: String,
    /// `store`, or the registry repositories read.
    pub source: WhySource,
    pub matches: Vec<WhyMatch>,
    /// Only verified provenance was read (`--key`, `--identity`, …).
    pub verified_only: bool,
    /// Provenance statements read.
    pub statements: usize,
    pub descendants: Vec<WhyDescendant>,
    pub unreadable: Vec<WhyUnreadable>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum WhySource {
    Store(String),
    Repositories(Vec<String>),
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WhyMatch {
    pub digest: String,
    pub names: Vec<String>,
    pub references: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WhyDescendant {
    pub digest: String,
    pub name: String,
    pub depth: usize,
    pub via: Vec<String>,
    pub references: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WhyUnreadable {
    pub source: String,
    pub error: String,
}

/// `mlprov promote SRC DST --format json`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromoteDocument {
    #[schemars(schema_with = "version_one")]
    pub version: u32,
    /// SRC as given.
    pub source: String,
    /// `registry/repo:tag`, the tag moved (or that would be).
    pub destination: String,
    /// The model's manifest digest; `null` when SRC did not verify.
    pub digest: Option<String>,
    pub dry_run: bool,
    /// SRC verified under the policy.
    pub verified: bool,
    /// DST's tag points at the model (now, or already did).
    pub promoted: bool,
    /// Everything was in DST already: nothing was copied or attached.
    pub already_promoted: bool,
    /// The verification report (the `verify` document's nodes and findings).
    #[schemars(schema_with = "any_object")]
    pub verification: serde_json::Value,
    /// What the copy does (did, without --dry-run); `null` when SRC did not verify.
    pub plan: Option<PromotePlan>,
    /// The VSA attached to DST; `null` under --dry-run, when nothing was
    /// needed, or when SRC did not verify.
    pub vsa: Option<PromotedVsa>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromotePlan {
    /// `true`: SRC and DST are in one registry (blobs are mounted).
    pub same_registry: bool,
    pub blobs: Vec<PromoteBlob>,
    pub manifest: PromoteItem,
    pub referrers: Vec<PromoteReferrer>,
    /// What DST's tag pointed at before (`null`: no such tag).
    pub tag_before: Option<String>,
    pub mounted_bytes: u64,
    pub uploaded_bytes: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromoteBlob {
    pub digest: String,
    pub size: u64,
    /// `model`, or the referrer the blob belongs to.
    pub of: String,
    /// `present` (in DST already), `mount` or `upload`.
    pub action: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromoteItem {
    pub digest: String,
    /// `present` or `copy`.
    pub action: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromoteReferrer {
    pub digest: String,
    pub artifact_type: Option<String>,
    pub predicate_type: Option<String>,
    /// `present` or `copy`.
    pub action: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromotedVsa {
    /// The referrer manifest's digest in DST.
    pub referrer: String,
    /// The VSA bundle's sha256.
    pub bundle: String,
    /// The policy the VSA names (`file://…`).
    pub policy: Option<String>,
}

// --- the schemas ------------------------------------------------------------

/// The hand-written schema of the `verify` and `graph` documents.
const VERIFY_SCHEMA: &str = include_str!("../schemas/verify.json");

/// Every document with a schema: its name (`mlprov schema NAME`, the file
/// `schemas/NAME.json`) and its JSON Schema.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    fn schema_of<T: JsonSchema>() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
    }
    let verify: serde_json::Value = serde_json::from_str(VERIFY_SCHEMA).unwrap_or_default();
    vec![
        ("attest", schema_of::<AttestDocument>()),
        ("build", schema_of::<BuildDocument>()),
        ("error", schema_of::<ErrorDocument>()),
        ("graph", verify.clone()),
        ("init", schema_of::<InitDocument>()),
        ("keygen", schema_of::<KeygenDocument>()),
        ("pin", schema_of::<PinDocument>()),
        ("promote", schema_of::<PromoteDocument>()),
        ("pull", schema_of::<PullDocument>()),
        ("push", schema_of::<PushDocument>()),
        ("revoke", schema_of::<RevokeDocument>()),
        ("scan", schema_of::<ScanDocument>()),
        ("sign", schema_of::<SignDocument>()),
        ("verify", verify),
        ("why", schema_of::<WhyDocument>()),
    ]
}
