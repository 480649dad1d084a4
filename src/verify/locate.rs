//! Registry locations of graph nodes: an `oci://registry/repo@sha256:…`
//! dependency URI names a ModelPack manifest. Its layers give the artifact
//! digest (what attestations are about) and its referrers the bundles.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::digest::Sha256Digest;
use crate::registry::{Client, OciRef, RegistryError, Settings, pull};
use crate::verify::model::{Located, Locator};
use crate::verify::node::RawBundle;

/// How to reach a registry (credentials, plain HTTP, timeouts).
pub type SettingsFor = dyn Fn(&str) -> Result<Settings, RegistryError>;

/// Resolves `oci://` locations against live registries, one client per
/// registry host.
pub struct RegistryLocator<'a> {
    settings: &'a SettingsFor,
    clients: RefCell<BTreeMap<String, std::rc::Rc<Client>>>,
}

impl<'a> RegistryLocator<'a> {
    pub fn new(settings: &'a SettingsFor) -> Self {
        Self {
            settings,
            clients: RefCell::new(BTreeMap::new()),
        }
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
        Ok(Located {
            artifact: resolved.parsed.artifact_digest,
            manifest: resolved.manifest_digest,
            bundles: bundles
                .into_iter()
                .map(|b| RawBundle {
                    source: format!("{pinned} referrer {}", b.referrer.prefixed()),
                    bytes: b.bytes,
                })
                .collect(),
            location: pinned,
        })
    }
}

/// `oci://registry/repo@sha256:…` → the reference, checked against the
/// dependency's digest.
pub fn parse_oci_uri(uri: &str, digest: &Sha256Digest) -> Result<OciRef, String> {
    let rest = uri
        .strip_prefix("oci://")
        .ok_or_else(|| format!("{uri} is not an oci:// URI"))?;
    let r = OciRef::parse(rest).map_err(|e| e.to_string())?;
    if let Some(d) = r.digest
        && d != *digest
    {
        return Err(format!(
            "the URI names manifest {} but the dependency's digest is {}",
            d.prefixed(),
            digest.prefixed()
        ));
    }
    Ok(r.with_digest(*digest))
}

impl Locator for RegistryLocator<'_> {
    fn locate(&self, uri: &str, digest: &Sha256Digest) -> Option<Result<Located, String>> {
        if !uri.starts_with("oci://") {
            return None;
        }
        Some(parse_oci_uri(uri, digest).and_then(|r| {
            self.resolve(&r)
                .map_err(|e| crate::registry::client::error_chain(&e))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_uris() {
        let d = Sha256Digest::of(b"m");
        let r =
            parse_oci_uri(&format!("oci://127.0.0.1:5000/acme/a@{}", d.prefixed()), &d).unwrap();
        assert_eq!(r.repository, "acme/a");
        assert_eq!(r.digest, Some(d));
        let other = Sha256Digest::of(b"x");
        assert!(
            parse_oci_uri(
                &format!("oci://127.0.0.1:5000/acme/a@{}", d.prefixed()),
                &other
            )
            .is_err()
        );
        assert!(parse_oci_uri("file:x", &d).is_err());
    }
}
