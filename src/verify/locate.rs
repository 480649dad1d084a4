//! Registry locations of graph nodes: an `oci://registry/repo@sha256:…`
//! dependency URI names a ModelPack manifest. Its layers must make the
//! node's artifact digest (what attestations are about), and its referrers
//! carry bundles.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::digest::Sha256Digest;
use crate::model::ResourceUri;
use crate::registry::{Client, OciRef, RegistryError, Settings, pull};
use crate::verify::model::{LocateError, Located, Locator};
use crate::verify::node::{BundleLookup, RawBundle};

/// How to reach a registry (credentials, plain HTTP, timeouts).
pub type SettingsFor = dyn Fn(&str) -> Result<Settings, RegistryError>;

/// Resolves `oci://` locations against live registries, one client per
/// registry host.
///
/// Every manifest it resolves may also carry evidence about the model's
/// inputs (input-bundle referrers, as `mlprov push` publishes them): it
/// keeps those, and as a [`BundleLookup`] hands them out for the digests
/// their statements are about, so a graph verifies from the model's
/// reference alone. Like the local store's, such bundles are found, not
/// given: one from a signer not trusted for its node is ignored.
pub struct RegistryLocator<'a> {
    settings: &'a SettingsFor,
    clients: RefCell<BTreeMap<String, std::rc::Rc<Client>>>,
    evidence: RefCell<Vec<Evidence>>,
}

/// An input-evidence bundle, with the digest its referrer says it is about.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub about: Option<Sha256Digest>,
    pub bundle: RawBundle,
}

impl BundleLookup for RegistryLocator<'_> {
    /// The evidence whose statement names `digest`; one that cannot be
    /// parsed is returned for the digest its referrer names, so it fails
    /// that node rather than being skipped.
    fn bundles_for(&self, digest: &Sha256Digest) -> Result<Vec<RawBundle>, String> {
        Ok(self
            .evidence
            .borrow()
            .iter()
            .filter(|e| match crate::sign::bundle::parse(&e.bundle.bytes) {
                Ok(b) => b
                    .statement
                    .subject
                    .iter()
                    .any(|s| s.sha256_digest() == Some(*digest)),
                Err(_) => e.about == Some(*digest),
            })
            .map(|e| e.bundle.clone())
            .collect())
    }
}

impl<'a> RegistryLocator<'a> {
    pub fn new(settings: &'a SettingsFor) -> Self {
        Self {
            settings,
            clients: RefCell::new(BTreeMap::new()),
            evidence: RefCell::new(Vec::new()),
        }
    }

    /// Keep input evidence found elsewhere (a staged pull's referrers).
    pub fn add_evidence(&self, evidence: impl IntoIterator<Item = Evidence>) {
        self.evidence.borrow_mut().extend(evidence);
    }

    /// The client for a registry host, made on first use.
    pub fn client(&self, registry: &str) -> Result<std::rc::Rc<Client>, RegistryError> {
        if let Some(c) = self.clients.borrow().get(registry) {
            return Ok(c.clone());
        }
        let s = (self.settings)(registry)?;
        let c = std::rc::Rc::new(Client::new(registry, &s)?);
        self.clients
            .borrow_mut()
            .insert(registry.to_string(), c.clone());
        Ok(c)
    }

    /// Resolve a reference (a tag or a digest) and fetch its referrers.
    pub fn resolve(&self, reference: &OciRef) -> Result<Located, RegistryError> {
        let client = self.client(&reference.registry)?;
        let resolved = pull::resolve(&client, reference)?;
        let (bundles, _) =
            pull::fetch_bundles(&client, &reference.repository, &resolved.manifest_digest)?;
        let pinned = format!(
            "{}@{}",
            resolved.reference.name(),
            resolved.manifest_digest.prefixed()
        );
        let (evidence, own): (Vec<_>, Vec<_>) = bundles.into_iter().partition(|b| b.input_evidence);
        self.add_evidence(evidence.into_iter().map(|b| Evidence {
            about: b.about,
            bundle: RawBundle {
                source: format!("{pinned} referrer {}", b.referrer.prefixed()),
                bytes: b.bytes,
            },
        }));
        Ok(Located {
            artifact: resolved.parsed.artifact_digest,
            manifest: resolved.manifest_digest,
            bundles: own
                .into_iter()
                .map(|b| RawBundle {
                    source: format!("{pinned} referrer {}", b.referrer.prefixed()),
                    bytes: b.bytes,
                })
                .collect(),
            location: pinned,
            files: resolved
                .parsed
                .files
                .iter()
                .map(|f| f.entry.clone())
                .collect(),
        })
    }
}

/// The registry reference an `oci://registry/repo@sha256:<manifest>` URI
/// names.
pub fn oci_reference(uri: &ResourceUri) -> Option<OciRef> {
    match uri {
        ResourceUri::Oci {
            registry,
            repo,
            manifest,
        } => Some(OciRef {
            registry: registry.clone(),
            repository: repo.clone(),
            tag: None,
            digest: Some(*manifest),
        }),
        _ => None,
    }
}

impl Locator for RegistryLocator<'_> {
    fn locate(
        &self,
        uri: &ResourceUri,
        digest: &Sha256Digest,
    ) -> Option<Result<Located, LocateError>> {
        let reference = oci_reference(uri)?;
        Some(
            self.resolve(&reference)
                .map_err(|e| {
                    let message = crate::registry::client::error_chain(&e);
                    match e {
                        RegistryError::DigestMismatch { .. }
                        | RegistryError::NotModelPack { .. }
                        | RegistryError::Protocol { .. } => LocateError::Contradicts(message),
                        _ => LocateError::Unreachable(message),
                    }
                })
                .and_then(|l| {
                    if l.artifact == *digest {
                        Ok(l)
                    } else {
                        Err(LocateError::Contradicts(format!(
                            "{} holds artifact {}, not the dependency's {}",
                            l.location,
                            l.artifact.prefixed(),
                            digest.prefixed()
                        )))
                    }
                }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_uris() {
        let d = Sha256Digest::of(b"m");
        let uri = ResourceUri::parse(&format!("oci://127.0.0.1:5000/acme/a@{}", d.prefixed()));
        let r = oci_reference(&uri).unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "acme/a");
        assert_eq!(r.digest, Some(d));
        assert!(oci_reference(&ResourceUri::parse("file:x")).is_none());
    }
}
