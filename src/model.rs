//! The words every layer shares: what an artifact is ([`ArtifactKind`]), how
//! an input was used ([`Role`]), where it comes from ([`Source`]) and how
//! provenance names it ([`ResourceUri`]). Their text forms are written and
//! parsed here and nowhere else.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    Model,
    Dataset,
    Adapter,
}

impl ArtifactKind {
    pub const ALL: [ArtifactKind; 3] = [Self::Model, Self::Dataset, Self::Adapter];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Model => "model",
            Self::Dataset => "dataset",
            Self::Adapter => "adapter",
        }
    }
}

impl fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an input was used. Roles map to SPDX relationships and select the
/// verification policy for the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    BaseModel,
    TrainingData,
    TestData,
    Config,
    Code,
    Adapter,
    Other,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Self::BaseModel,
        Self::TrainingData,
        Self::TestData,
        Self::Config,
        Self::Code,
        Self::Adapter,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BaseModel => "base-model",
            Self::TrainingData => "training-data",
            Self::TestData => "test-data",
            Self::Config => "config",
            Self::Code => "code",
            Self::Adapter => "adapter",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Is an input in this role a dataset (for SPDX `dataset_DatasetPackage`)?
    pub fn is_data(self) -> bool {
        matches!(self, Self::TrainingData | Self::TestData)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an input comes from, as the lock records it: `hf:org/name`,
/// `hf-dataset:org/name`, `path:data/x`, `url:https://…`,
/// `oci:registry/repo:tag`. What the manifest asks of the source (a
/// revision, a sha256) sits beside it in [`crate::manifest::Input`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// A Hugging Face model repository.
    Hf { repo: String },
    /// A Hugging Face dataset repository.
    HfDataset { repo: String },
    /// A file or directory inside the project.
    Path { path: String },
    /// A download with a known digest.
    Url { url: String },
    /// An OCI artifact, by reference (`registry/repo:tag` or `@sha256:…`).
    Oci { reference: String },
}

impl Source {
    /// The manifest key of the source (`hf`, `hf-dataset`, `path`, `url`, `oci`).
    pub fn kind_key(&self) -> &'static str {
        match self {
            Source::Hf { .. } => "hf",
            Source::HfDataset { .. } => "hf-dataset",
            Source::Path { .. } => "path",
            Source::Url { .. } => "url",
            Source::Oci { .. } => "oci",
        }
    }

    /// The Hub id and repository kind of an HF source.
    pub fn hf_repo(&self) -> Option<(HfKind, &str)> {
        match self {
            Source::Hf { repo } => Some((HfKind::Model, repo)),
            Source::HfDataset { repo } => Some((HfKind::Dataset, repo)),
            _ => None,
        }
    }

    /// The tag or digest an `oci` reference names (`v3`, `sha256:…`).
    pub fn oci_tag_or_digest(&self) -> Option<&str> {
        let Source::Oci { reference } = self else {
            return None;
        };
        if let Some((_, d)) = reference.rsplit_once('@') {
            return Some(d);
        }
        let last = reference.rsplit('/').next().unwrap_or(reference);
        last.rsplit_once(':').map(|(_, t)| t)
    }

    /// The registry and repository of an `oci` reference
    /// (`127.0.0.1:5000`, `models/a`).
    pub fn oci_repository(&self) -> Option<(&str, &str)> {
        let Source::Oci { reference } = self else {
            return None;
        };
        let name = reference.split('@').next().unwrap_or(reference);
        let (registry, path) = name.split_once('/')?;
        let path = match path.rsplit_once(':') {
            Some((p, tag)) if !tag.contains('/') => p,
            _ => path,
        };
        Some((registry, path))
    }

    /// The URI provenance names the input by, once it is resolved: the HF
    /// commit, the OCI manifest digest.
    pub fn uri(&self, commit: Option<&str>, manifest: Option<&Sha256Digest>) -> ResourceUri {
        match self {
            Source::Hf { repo } => ResourceUri::Hf {
                repo: repo.clone(),
                commit: commit.unwrap_or_default().to_string(),
            },
            Source::HfDataset { repo } => ResourceUri::HfDataset {
                repo: repo.clone(),
                commit: commit.unwrap_or_default().to_string(),
            },
            Source::Path { path } => ResourceUri::File(path.clone()),
            Source::Url { url } => ResourceUri::Url(url.clone()),
            Source::Oci { reference } => match (self.oci_repository(), manifest) {
                (Some((registry, repo)), Some(m)) => ResourceUri::Oci {
                    registry: registry.to_string(),
                    repo: repo.to_string(),
                    manifest: *m,
                },
                _ => ResourceUri::Other(format!("oci://{reference}")),
            },
        }
    }
}

/// Which kind of Hugging Face repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HfKind {
    Model,
    Dataset,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Hf { repo } => write!(f, "hf:{repo}"),
            Source::HfDataset { repo } => write!(f, "hf-dataset:{repo}"),
            Source::Path { path } => write!(f, "path:{path}"),
            Source::Url { url } => write!(f, "url:{url}"),
            Source::Oci { reference } => write!(f, "oci:{reference}"),
        }
    }
}

/// A lock `source` that is not `kind:value` with a known kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a source (expected hf:org/name, hf-dataset:org/name, path:…, url:…, oci:…)")]
pub struct SourceParseError(pub String);

impl FromStr for Source {
    type Err = SourceParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SourceParseError(s.to_string());
        let (kind, rest) = s.split_once(':').ok_or_else(bad)?;
        if rest.is_empty() {
            return Err(bad());
        }
        let rest = rest.to_string();
        Ok(match kind {
            "hf" => Source::Hf { repo: rest },
            "hf-dataset" => Source::HfDataset { repo: rest },
            "path" => Source::Path { path: rest },
            "url" => Source::Url { url: rest },
            "oci" => Source::Oci { reference: rest },
            _ => return Err(bad()),
        })
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How provenance names a resource (a `ResourceDescriptor.uri`):
/// `hf://org/name@commit`, `hf://datasets/org/name@commit`, `file:path`, a
/// URL, `oci://registry/repo@sha256:…`, `git+URL@commit`. Anything else is
/// kept as written ([`ResourceUri::Other`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceUri {
    Hf {
        repo: String,
        commit: String,
    },
    HfDataset {
        repo: String,
        commit: String,
    },
    File(String),
    Url(String),
    Oci {
        registry: String,
        repo: String,
        manifest: Sha256Digest,
    },
    Git {
        remote: String,
        commit: String,
    },
    Other(String),
}

impl ResourceUri {
    /// The revision the URI pins the resource at: the HF commit or git
    /// commit as written (possibly a branch), or the OCI manifest digest.
    pub fn revision(&self) -> Option<String> {
        match self {
            ResourceUri::Hf { commit, .. }
            | ResourceUri::HfDataset { commit, .. }
            | ResourceUri::Git { commit, .. } => Some(commit.clone()),
            ResourceUri::Oci { manifest, .. } => Some(manifest.prefixed()),
            _ => None,
        }
    }

    /// Does the URI name an immutable revision? `Some(false)` for an HF or
    /// git URI whose revision is not a 40-hex commit (a branch, a tag,
    /// nothing); `None` for URIs that carry no revision.
    pub fn pinned(&self) -> Option<bool> {
        match self {
            ResourceUri::Hf { commit, .. }
            | ResourceUri::HfDataset { commit, .. }
            | ResourceUri::Git { commit, .. } => Some(is_commit(commit)),
            ResourceUri::Oci { .. } => Some(true),
            _ => None,
        }
    }

    /// The source a URI names, as the lock writes it (`hf:org/name`,
    /// `oci:registry/repo`, …), for matching provenance against source
    /// patterns. Git and unknown URIs name none.
    pub fn source(&self) -> Option<Source> {
        match self {
            ResourceUri::Hf { repo, .. } => Some(Source::Hf { repo: repo.clone() }),
            ResourceUri::HfDataset { repo, .. } => Some(Source::HfDataset { repo: repo.clone() }),
            ResourceUri::File(p) => Some(Source::Path { path: p.clone() }),
            ResourceUri::Url(u) => Some(Source::Url { url: u.clone() }),
            ResourceUri::Oci { registry, repo, .. } => Some(Source::Oci {
                reference: format!("{registry}/{repo}"),
            }),
            ResourceUri::Git { .. } | ResourceUri::Other(_) => None,
        }
    }

    /// The project-relative path of a `file:` URI.
    pub fn file_path(&self) -> Option<&str> {
        match self {
            ResourceUri::File(p) => Some(p),
            _ => None,
        }
    }
}

/// A full, lower-case 40-hex commit id.
pub fn is_commit(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Is `rev` a revision name git (and so the Hub) accepts: a branch, a tag
/// (`v1`, `refs/pr/1`) or a commit? The one check for a revision before it
/// names a file (`refs/{revision}` in the Hugging Face cache): git's
/// check-ref-format rules, which also make it a safe relative path (no
/// leading `/`, no `..`, no empty or dot components, no control characters).
/// A Hugging Face repository id: `name` or `org/name`, each part letters,
/// digits, `-`, `_` and `.`, not starting with `.` or `-`, no `..`.
pub fn is_hf_repo_id(value: &str) -> bool {
    let parts: Vec<&str> = value.split('/').collect();
    (1..=2).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && !p.starts_with(['.', '-'])
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
        && !value.contains("..")
}

/// An artifact name: letters, digits, `-`, `_`, `.`, `/` and `@`, as a
/// package or OCI name can hold.
pub fn is_artifact_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@".contains(c))
}

pub fn is_revision(rev: &str) -> bool {
    rev.len() <= 255
        && rev != "@"
        && crate::fsutil::is_safe_relative(rev)
        && !rev.contains("..")
        && !rev.contains("@{")
        && !rev.ends_with('.')
        && !rev.bytes().any(|b| {
            b < 0x20
                || b == 0x7f
                || matches!(b, b' ' | b'~' | b'^' | b':' | b'?' | b'*' | b'[' | b'\\')
        })
        && rev
            .split('/')
            .all(|c| !c.starts_with('.') && !c.ends_with(".lock"))
}

impl fmt::Display for ResourceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |f: &mut fmt::Formatter<'_>, commit: &str| {
            if commit.is_empty() {
                Ok(())
            } else {
                write!(f, "@{commit}")
            }
        };
        match self {
            ResourceUri::Hf { repo, commit } => {
                write!(f, "hf://{repo}")?;
                at(f, commit)
            }
            ResourceUri::HfDataset { repo, commit } => {
                write!(f, "hf://datasets/{repo}")?;
                at(f, commit)
            }
            ResourceUri::File(p) => write!(f, "file:{p}"),
            ResourceUri::Url(u) | ResourceUri::Other(u) => f.write_str(u),
            ResourceUri::Oci {
                registry,
                repo,
                manifest,
            } => write!(f, "oci://{registry}/{repo}@{}", manifest.prefixed()),
            ResourceUri::Git { remote, commit } => write!(f, "git+{remote}@{commit}"),
        }
    }
}

impl FromStr for ResourceUri {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let other = || ResourceUri::Other(s.to_string());
        let split_commit = |rest: &str| match rest.rsplit_once('@') {
            Some((r, c)) => (r.to_string(), c.to_string()),
            None => (rest.to_string(), String::new()),
        };
        Ok(if let Some(rest) = s.strip_prefix("hf://datasets/") {
            let (repo, commit) = split_commit(rest);
            ResourceUri::HfDataset { repo, commit }
        } else if let Some(rest) = s.strip_prefix("hf://") {
            let (repo, commit) = split_commit(rest);
            ResourceUri::Hf { repo, commit }
        } else if let Some(p) = s.strip_prefix("file:") {
            ResourceUri::File(p.to_string())
        } else if let Some(rest) = s.strip_prefix("oci://") {
            let parsed = rest.rsplit_once('@').and_then(|(name, d)| {
                let (registry, repo) = name.split_once('/')?;
                let manifest = Sha256Digest::from_prefixed(d).ok()?;
                (!registry.is_empty() && !repo.is_empty()).then(|| ResourceUri::Oci {
                    registry: registry.to_string(),
                    repo: repo.to_string(),
                    manifest,
                })
            });
            parsed.unwrap_or_else(other)
        } else if let Some(rest) = s.strip_prefix("git+") {
            match rest.rsplit_once('@') {
                Some((remote, commit)) if !remote.is_empty() && !commit.is_empty() => {
                    ResourceUri::Git {
                        remote: remote.to_string(),
                        commit: commit.to_string(),
                    }
                }
                _ => other(),
            }
        } else if s.starts_with("https://") || s.starts_with("http://") {
            ResourceUri::Url(s.to_string())
        } else {
            other()
        })
    }
}

impl ResourceUri {
    /// Read a URI as written in provenance (never fails: an unknown form is
    /// [`ResourceUri::Other`]).
    pub fn parse(s: &str) -> Self {
        match s.parse() {
            Ok(u) => u,
            Err(never) => match never {},
        }
    }
}

impl Serialize for ResourceUri {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ResourceUri {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_round_trip() {
        for s in [
            "hf:org/m",
            "hf-dataset:org/d",
            "path:data/x",
            "url:https://example.com/a?b=c:d",
            "oci:127.0.0.1:5000/models/a:1",
        ] {
            let parsed: Source = s.parse().unwrap();
            assert_eq!(parsed.to_string(), s);
        }
        assert!("git:x".parse::<Source>().is_err());
        assert!("hf".parse::<Source>().is_err());
        assert!("hf:".parse::<Source>().is_err());
    }

    #[test]
    fn oci_references() {
        let s = |r: &str| Source::Oci {
            reference: r.into(),
        };
        let d = Sha256Digest::of(b"m");
        assert_eq!(
            s("127.0.0.1:5000/models/a:1").oci_repository(),
            Some(("127.0.0.1:5000", "models/a"))
        );
        assert_eq!(
            s("127.0.0.1:5000/models/a:1").oci_tag_or_digest(),
            Some("1")
        );
        let pinned = format!("ghcr.io/acme/a@{}", d.prefixed());
        assert_eq!(s(&pinned).oci_repository(), Some(("ghcr.io", "acme/a")));
        assert_eq!(s(&pinned).oci_tag_or_digest(), Some(d.prefixed().as_str()));
        assert_eq!(s("localhost:5000/a").oci_tag_or_digest(), None);
        assert_eq!(
            s("127.0.0.1:5000/models/a:1")
                .uri(None, Some(&d))
                .to_string(),
            format!("oci://127.0.0.1:5000/models/a@{}", d.prefixed())
        );
    }

    #[test]
    fn uris_round_trip() {
        let d = Sha256Digest::of(b"m");
        let c = "c".repeat(40);
        for (text, want) in [
            (
                format!("hf://org/m@{c}"),
                ResourceUri::Hf {
                    repo: "org/m".into(),
                    commit: c.clone(),
                },
            ),
            (
                format!("hf://datasets/org/d@{c}"),
                ResourceUri::HfDataset {
                    repo: "org/d".into(),
                    commit: c.clone(),
                },
            ),
            (
                "hf://org/m".into(),
                ResourceUri::Hf {
                    repo: "org/m".into(),
                    commit: String::new(),
                },
            ),
            ("file:data/x".into(), ResourceUri::File("data/x".into())),
            (
                "https://example.com/t.json".into(),
                ResourceUri::Url("https://example.com/t.json".into()),
            ),
            (
                format!("oci://127.0.0.1:5000/models/a@{}", d.prefixed()),
                ResourceUri::Oci {
                    registry: "127.0.0.1:5000".into(),
                    repo: "models/a".into(),
                    manifest: d,
                },
            ),
            (
                format!("git+git@github.com:acme/train.git@{c}"),
                ResourceUri::Git {
                    remote: "git@github.com:acme/train.git".into(),
                    commit: c.clone(),
                },
            ),
            (
                "oci://x/y:latest".into(),
                ResourceUri::Other("oci://x/y:latest".into()),
            ),
            (
                "pkg:pypi/torch".into(),
                ResourceUri::Other("pkg:pypi/torch".into()),
            ),
        ] {
            let parsed = ResourceUri::parse(&text);
            assert_eq!(parsed, want, "{text}");
            assert_eq!(parsed.to_string(), text);
        }
        assert_eq!(
            ResourceUri::parse(&format!("hf://o/m@{c}")).pinned(),
            Some(true)
        );
        assert_eq!(ResourceUri::parse("hf://o/m@main").pinned(), Some(false));
        assert_eq!(ResourceUri::parse("file:x").pinned(), None);
        let oci = ResourceUri::parse(&format!("oci://r.example/models/a@{}", d.prefixed()));
        assert_eq!(oci.source().unwrap().to_string(), "oci:r.example/models/a");
        assert_eq!(
            ResourceUri::parse(&format!("hf://datasets/o/d@{c}"))
                .source()
                .unwrap()
                .to_string(),
            "hf-dataset:o/d"
        );
        assert_eq!(ResourceUri::parse("git+x@y").source(), None);
    }
}
