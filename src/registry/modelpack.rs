//! The CNCF ModelPack layout: one raw layer per file (digest = the file's
//! sha256), the model config blob, and the manifest with provenance facts in
//! its annotations.

use std::collections::BTreeMap;

use oci_client::manifest::{OciDescriptor, OciImageManifest};
use serde_json::json;

use super::{
    ANN_ARTIFACT_DIGEST, ANN_ARTIFACT_KIND, ANN_ARTIFACT_NAME, ANN_CREATED, ANN_DESCRIPTION,
    ANN_FILE_METADATA, ANN_FILEPATH, ANN_LICENSES, ANN_LOCK_DIGEST, ANN_REVISION, ANN_SOURCE,
    ANN_TITLE, ANN_VERSION, MODEL_ARTIFACT_TYPE, MODEL_CONFIG_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE,
    RegistryError,
};
use crate::digest::{self, FileEntry, Sha256Digest};
use crate::model::ArtifactKind;

/// What a layer holds, as ModelPack types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    Weight,
    WeightConfig,
    Doc,
    Code,
    Dataset,
}

impl LayerKind {
    pub fn media_type(self) -> &'static str {
        match self {
            LayerKind::Weight => "application/vnd.cncf.model.weight.v1.raw",
            LayerKind::WeightConfig => "application/vnd.cncf.model.weight.config.v1.raw",
            LayerKind::Doc => "application/vnd.cncf.model.doc.v1.raw",
            LayerKind::Code => "application/vnd.cncf.model.code.v1.raw",
            LayerKind::Dataset => "application/vnd.cncf.model.dataset.v1.raw",
        }
    }

    pub fn from_media_type(m: &str) -> Option<Self> {
        [
            LayerKind::Weight,
            LayerKind::WeightConfig,
            LayerKind::Doc,
            LayerKind::Code,
            LayerKind::Dataset,
        ]
        .into_iter()
        .find(|k| k.media_type() == m)
    }
}

const WEIGHT_EXT: &[&str] = &[
    "safetensors",
    "bin",
    "pt",
    "pth",
    "ckpt",
    "gguf",
    "ggml",
    "onnx",
    "h5",
    "hdf5",
    "keras",
    "pb",
    "tflite",
    "msgpack",
    "npz",
    "npy",
    "pkl",
    "pickle",
    "joblib",
    "ot",
    "mlmodel",
    "engine",
    "plan",
];
const CONFIG_EXT: &[&str] = &[
    "json", "yaml", "yml", "toml", "cfg", "ini", "model", "spm", "tiktoken", "jinja",
];
const CONFIG_NAMES: &[&str] = &["vocab.txt", "merges.txt", "added_tokens.txt"];
const DOC_EXT: &[&str] = &["md", "rst", "txt", "pdf", "html", "adoc"];
const DOC_STEMS: &[&str] = &[
    "readme", "license", "licence", "notice", "copying", "citation",
];
const CODE_EXT: &[&str] = &[
    "py", "ipynb", "sh", "js", "ts", "go", "rs", "c", "cc", "cpp", "h", "hpp", "cu", "java", "lua",
    "r",
];
const CODE_NAMES: &[&str] = &["dockerfile", "makefile", "requirements.txt"];
const WEIGHT_FORMATS: &[&str] = &[
    "safetensors",
    "gguf",
    "pickle",
    "zip",
    "numpy",
    "hdf5",
    "onnx",
];

/// The ModelPack type of a file, by name first and detected format second.
/// In a dataset artifact, everything that is not documentation or code is
/// data.
pub fn layer_kind(path: &str, format: Option<&str>, kind: ArtifactKind) -> LayerKind {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), e.to_string()),
        None => (name.clone(), String::new()),
    };
    if CODE_NAMES.contains(&name.as_str()) || CODE_EXT.contains(&ext.as_str()) {
        return LayerKind::Code;
    }
    let doc = DOC_STEMS.iter().any(|d| stem == *d || name == *d)
        || (DOC_EXT.contains(&ext.as_str()) && !CONFIG_NAMES.contains(&name.as_str()));
    if doc {
        return LayerKind::Doc;
    }
    if kind == ArtifactKind::Dataset {
        return LayerKind::Dataset;
    }
    if CONFIG_NAMES.contains(&name.as_str()) || CONFIG_EXT.contains(&ext.as_str()) {
        return LayerKind::WeightConfig;
    }
    if WEIGHT_EXT.contains(&ext.as_str()) || format.is_some_and(|f| WEIGHT_FORMATS.contains(&f)) {
        return LayerKind::Weight;
    }
    match format {
        Some("json") => LayerKind::WeightConfig,
        Some("python") => LayerKind::Code,
        Some("text") => LayerKind::Doc,
        _ => LayerKind::Weight,
    }
}

/// One file of the artifact, as a layer: pushed, or read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerFile {
    pub entry: FileEntry,
    pub kind: LayerKind,
    /// Unix permission bits recorded in the file metadata (0o644 or 0o755).
    pub mode: u32,
}

impl LayerFile {
    /// Is the file executable (as the file metadata records it)?
    pub fn executable(&self) -> bool {
        self.mode & 0o111 != 0
    }
}

/// The artifact digest of layers.
pub fn layers_digest(files: &[LayerFile]) -> Sha256Digest {
    digest::entries_digest(files.iter().map(|f| &f.entry))
}

/// The artifact-level facts that go into the config and the annotations.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub name: String,
    pub version: String,
    pub kind: ArtifactKind,
    pub license: Option<String>,
    pub description: Option<String>,
    /// RFC 3339, UTC, no fractional seconds.
    pub created: String,
    /// Where the training code lives (git remote URL).
    pub source: Option<String>,
    /// Its revision (git commit).
    pub revision: Option<String>,
    /// SHA-256 of mlprov.lock.
    pub lock_digest: Option<Sha256Digest>,
    /// The format of the weights when they share one (`safetensors`, …).
    pub format: Option<String>,
}

/// The blobs and manifest of a model, ready to push.
#[derive(Debug, Clone)]
pub struct Built {
    pub config: Vec<u8>,
    pub manifest: Vec<u8>,
    pub manifest_digest: Sha256Digest,
    /// The OMS artifact digest of the files.
    pub artifact_digest: Sha256Digest,
}

/// Build the config and manifest. `files` in any order; layers are written
/// in OMS path order so the same tree always gives the same manifest.
pub fn build(info: &ModelInfo, files: &[LayerFile]) -> Result<Built, RegistryError> {
    if files.is_empty() {
        return Err(RegistryError::Empty {
            message: "the artifact has no files (ModelPack needs at least one layer)".into(),
        });
    }
    let artifact_digest = layers_digest(files);
    let mut files: Vec<&LayerFile> = files.iter().collect();
    files.sort_by(|a, b| digest::posix_path_cmp(&a.entry.path, &b.entry.path));

    let mut descriptor = serde_json::Map::new();
    descriptor.insert("name".into(), json!(info.name));
    descriptor.insert("version".into(), json!(info.version));
    descriptor.insert("createdAt".into(), json!(info.created));
    if let Some(l) = &info.license {
        descriptor.insert("licenses".into(), json!([l]));
    }
    if let Some(d) = &info.description {
        descriptor.insert("description".into(), json!(d));
    }
    if let Some(s) = &info.source {
        descriptor.insert("sourceURL".into(), json!(s));
    }
    if let Some(r) = &info.revision {
        descriptor.insert("revision".into(), json!(r));
    }
    let mut config = serde_json::Map::new();
    if let Some(f) = &info.format {
        config.insert("format".into(), json!(f));
    }
    // Keys in the schema's order: descriptor, config, modelfs.
    let mut doc = serde_json::Map::new();
    doc.insert("descriptor".into(), serde_json::Value::Object(descriptor));
    doc.insert("config".into(), serde_json::Value::Object(config));
    doc.insert(
        "modelfs".into(),
        json!({
            "type": "layers",
            "diffIds": files.iter().map(|f| f.entry.sha256.prefixed()).collect::<Vec<_>>(),
        }),
    );
    let config_bytes = serde_json::to_vec(&serde_json::Value::Object(doc)).map_err(|e| {
        RegistryError::Protocol {
            what: "ModelPack config".into(),
            message: e.to_string(),
        }
    })?;

    let layers = files
        .iter()
        .map(|f| {
            let name = f.entry.path.rsplit('/').next().unwrap_or(&f.entry.path);
            let metadata = json!({
                "name": name,
                "mode": f.mode,
                "uid": 0,
                "gid": 0,
                "size": f.entry.size,
                "mtime": info.created,
                "typeflag": 48,
            });
            let mut ann = BTreeMap::new();
            ann.insert(ANN_FILEPATH.to_string(), f.entry.path.clone());
            ann.insert(ANN_FILE_METADATA.to_string(), metadata.to_string());
            ann.insert(ANN_TITLE.to_string(), f.entry.path.clone());
            OciDescriptor {
                media_type: f.kind.media_type().to_string(),
                digest: f.entry.sha256.prefixed(),
                size: f.entry.size as i64,
                urls: None,
                annotations: Some(ann),
                artifact_type: None,
            }
        })
        .collect();

    let mut ann = BTreeMap::new();
    ann.insert(ANN_CREATED.to_string(), info.created.clone());
    ann.insert(ANN_VERSION.to_string(), info.version.clone());
    if let Some(l) = &info.license {
        ann.insert(ANN_LICENSES.to_string(), l.clone());
    }
    if let Some(s) = &info.source {
        ann.insert(ANN_SOURCE.to_string(), s.clone());
    }
    if let Some(r) = &info.revision {
        ann.insert(ANN_REVISION.to_string(), r.clone());
    }
    if let Some(d) = &info.description {
        ann.insert(ANN_DESCRIPTION.to_string(), d.clone());
    }
    ann.insert(ANN_ARTIFACT_NAME.to_string(), info.name.clone());
    ann.insert(
        ANN_ARTIFACT_KIND.to_string(),
        info.kind.as_str().to_string(),
    );
    ann.insert(ANN_ARTIFACT_DIGEST.to_string(), artifact_digest.prefixed());
    if let Some(l) = &info.lock_digest {
        ann.insert(ANN_LOCK_DIGEST.to_string(), l.prefixed());
    }
    let manifest = OciImageManifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST_MEDIA_TYPE.to_string()),
        config: OciDescriptor {
            media_type: MODEL_CONFIG_MEDIA_TYPE.to_string(),
            digest: Sha256Digest::of(&config_bytes).prefixed(),
            size: config_bytes.len() as i64,
            urls: None,
            annotations: None,
            artifact_type: None,
        },
        layers,
        subject: None,
        artifact_type: Some(MODEL_ARTIFACT_TYPE.to_string()),
        annotations: Some(ann),
    };
    let manifest_bytes = serde_json::to_vec(&manifest).map_err(|e| RegistryError::Protocol {
        what: "ModelPack manifest".into(),
        message: e.to_string(),
    })?;
    Ok(Built {
        manifest_digest: Sha256Digest::of(&manifest_bytes),
        config: config_bytes,
        manifest: manifest_bytes,
        artifact_digest,
    })
}

/// A ModelPack manifest read back from a registry, checked.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub manifest: OciImageManifest,
    /// Files in OMS path order, with the mode their metadata records.
    pub files: Vec<LayerFile>,
    /// The OMS artifact digest computed from the layers (not taken from the
    /// annotation, which is checked against it).
    pub artifact_digest: Sha256Digest,
    pub annotations: BTreeMap<String, String>,
}

impl Parsed {
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.entry.size).sum()
    }
}

/// Read a ModelPack manifest: every layer must be a raw ModelPack layer with
/// a safe, unique `org.cncf.model.filepath`, and the `dev.mlprov` artifact
/// digest annotation (when present) must match the layers.
pub fn parse(bytes: &[u8], reference: &str) -> Result<Parsed, RegistryError> {
    let not = |message: String| RegistryError::NotModelPack {
        reference: reference.to_string(),
        message,
    };
    let manifest: OciImageManifest = serde_json::from_slice(bytes)
        .map_err(|e| not(format!("not an OCI image manifest: {e}")))?;
    let is_model = manifest.artifact_type.as_deref() == Some(MODEL_ARTIFACT_TYPE)
        || manifest.config.media_type == MODEL_CONFIG_MEDIA_TYPE;
    if !is_model {
        return Err(not(format!(
            "artifactType is {:?} and the config is {}",
            manifest.artifact_type.as_deref().unwrap_or("(none)"),
            manifest.config.media_type
        )));
    }
    let mut files = Vec::with_capacity(manifest.layers.len());
    let mut seen = std::collections::BTreeSet::new();
    for (i, l) in manifest.layers.iter().enumerate() {
        let Some(kind) = LayerKind::from_media_type(&l.media_type) else {
            return Err(not(format!(
                "layer {i} has media type {} (mlprov reads raw ModelPack layers only, not tar archives)",
                l.media_type
            )));
        };
        let path = l
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANN_FILEPATH))
            .ok_or_else(|| not(format!("layer {i} has no {ANN_FILEPATH} annotation")))?;
        if !crate::fsutil::is_safe_relative(path) {
            return Err(not(format!(
                "layer {i} has an unsafe file path {path:?} (absolute, `..`, or empty parts)"
            )));
        }
        if !seen.insert(path.clone()) {
            return Err(not(format!("two layers have the file path {path:?}")));
        }
        let sha256 = Sha256Digest::from_prefixed(&l.digest)
            .map_err(|_| not(format!("layer {i} has a non-sha256 digest {}", l.digest)))?;
        if l.size < 0 {
            return Err(not(format!("layer {i} has a negative size")));
        }
        files.push(LayerFile {
            entry: FileEntry {
                path: path.clone(),
                size: l.size as u64,
                sha256,
                format: None,
            },
            kind,
            mode: recorded_mode(l.annotations.as_ref()),
        });
    }
    if files.is_empty() {
        return Err(not("it has no layers".into()));
    }
    // A file cannot also be a directory of another file.
    for p in &seen {
        let mut prefix = String::new();
        for part in p.split('/').take(p.split('/').count() - 1) {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if seen.contains(&prefix) {
                return Err(not(format!("{prefix:?} is both a file and a directory")));
            }
        }
    }
    files.sort_by(|a, b| digest::posix_path_cmp(&a.entry.path, &b.entry.path));
    let artifact_digest = layers_digest(&files);
    let annotations = manifest.annotations.clone().unwrap_or_default();
    if let Some(claimed) = annotations.get(ANN_ARTIFACT_DIGEST)
        && Sha256Digest::from_prefixed(claimed).ok() != Some(artifact_digest)
    {
        return Err(RegistryError::DigestMismatch {
            what: format!("{reference}: the {ANN_ARTIFACT_DIGEST} annotation"),
            expected: claimed.clone(),
            actual: artifact_digest.prefixed(),
        });
    }
    Ok(Parsed {
        manifest,
        files,
        artifact_digest,
        annotations,
    })
}

/// The permission bits a layer's `org.cncf.model.file.metadata+json`
/// records: 0o755 for an executable file, else 0o644.
fn recorded_mode(annotations: Option<&BTreeMap<String, String>>) -> u32 {
    let mode = annotations
        .and_then(|a| a.get(ANN_FILE_METADATA))
        .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        .and_then(|m| m.get("mode")?.as_u64());
    match mode {
        Some(m) if m & 0o111 != 0 => 0o755,
        _ => 0o644,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ModelInfo {
        ModelInfo {
            name: "acme/m".into(),
            version: "1.0".into(),
            kind: ArtifactKind::Model,
            license: Some("Apache-2.0".into()),
            description: None,
            created: "2024-01-01T00:00:00Z".into(),
            source: None,
            revision: Some("c".repeat(40)),
            lock_digest: None,
            format: Some("safetensors".into()),
        }
    }

    fn file(path: &str, bytes: &[u8]) -> LayerFile {
        LayerFile {
            entry: FileEntry {
                path: path.into(),
                size: bytes.len() as u64,
                sha256: Sha256Digest::of(bytes),
                format: None,
            },
            kind: layer_kind(path, None, ArtifactKind::Model),
            mode: 0o644,
        }
    }

    #[test]
    fn kinds() {
        let m = ArtifactKind::Model;
        assert_eq!(layer_kind("model.safetensors", None, m), LayerKind::Weight);
        assert_eq!(layer_kind("config.json", None, m), LayerKind::WeightConfig);
        assert_eq!(
            layer_kind("1_Pooling/config.json", None, m),
            LayerKind::WeightConfig
        );
        assert_eq!(layer_kind("vocab.txt", None, m), LayerKind::WeightConfig);
        assert_eq!(layer_kind("README.md", None, m), LayerKind::Doc);
        assert_eq!(layer_kind("LICENSE", None, m), LayerKind::Doc);
        assert_eq!(layer_kind("train.py", None, m), LayerKind::Code);
        assert_eq!(layer_kind("weights", Some("pickle"), m), LayerKind::Weight);
        let d = ArtifactKind::Dataset;
        assert_eq!(
            layer_kind("data/train.parquet", None, d),
            LayerKind::Dataset
        );
        assert_eq!(layer_kind("data/x.json", None, d), LayerKind::Dataset);
        assert_eq!(layer_kind("README.md", None, d), LayerKind::Doc);
    }

    #[test]
    fn build_is_deterministic_and_parses_back() {
        let files = vec![file("b/x.json", b"{}"), file("a.safetensors", b"w")];
        let one = build(&info(), &files).unwrap();
        let mut rev = files.clone();
        rev.reverse();
        let two = build(&info(), &rev).unwrap();
        assert_eq!(one.manifest, two.manifest);
        assert_eq!(one.config, two.config);
        let p = parse(&one.manifest, "r").unwrap();
        assert_eq!(p.artifact_digest, one.artifact_digest);
        assert_eq!(p.files[0].entry.path, "a.safetensors");
        assert_eq!(p.files[0].kind, LayerKind::Weight);
        assert_eq!(p.files, {
            let mut f = files.clone();
            f.sort_by(|a, b| digest::posix_path_cmp(&a.entry.path, &b.entry.path));
            f
        });
        let cfg: serde_json::Value = serde_json::from_slice(&one.config).unwrap();
        assert_eq!(
            cfg["modelfs"]["diffIds"][0],
            Sha256Digest::of(b"w").prefixed()
        );
        assert_eq!(
            cfg.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["descriptor", "config", "modelfs"]
        );
    }

    #[test]
    fn parse_rejects_unsafe_and_tampered() {
        let built = build(&info(), &[file("a.bin", b"1")]).unwrap();
        let text = String::from_utf8(built.manifest.clone()).unwrap();
        let evil = text.replace(
            "\"org.cncf.model.filepath\":\"a.bin\"",
            "\"org.cncf.model.filepath\":\"../a.bin\"",
        );
        assert!(matches!(
            parse(evil.as_bytes(), "r"),
            Err(RegistryError::NotModelPack { .. })
        ));
        let claimed = built.artifact_digest.prefixed();
        let lie = text.replace(&claimed, &Sha256Digest::of(b"lie").prefixed());
        assert!(matches!(
            parse(lie.as_bytes(), "r"),
            Err(RegistryError::DigestMismatch { .. })
        ));
        let tar = text.replace("weight.v1.raw", "weight.v1.tar");
        assert!(parse(tar.as_bytes(), "r").is_err());
    }

    #[test]
    fn file_and_directory_clash() {
        let built = build(&info(), &[file("a", b"1"), file("a/b", b"2")]).unwrap();
        assert!(parse(&built.manifest, "r").is_err());
    }
}
