//! Lineage: which artifacts descend from which, read from the
//! `resolvedDependencies` of SLSA provenance statements, wherever they are
//! filed: the local store, or the referrers of the models in registry
//! repositories.
//!
//! Every statement is read the same way ([`Lineage::add_bundle`]): without a
//! trust, every provenance statement counts, whoever signed it (for "what
//! descends from this poisoned model", listing too much is safer than too
//! little); with one, only statements it verifies.
//!
//! Digests: a provenance names every input by its artifact digest (an `oci`
//! input's manifest rides in its `oci://…@sha256:` URI), so the lineage is
//! keyed by artifact digest alone. A ModelPack manifest read from a
//! registry, or named in an input's URI, is listed under its artifact;
//! asking about such a manifest digest finds that artifact.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::digest::Sha256Digest;
use crate::intoto::{PREDICATE_SLSA_PROVENANCE, Provenance};
use crate::model::ResourceUri;
use crate::provenance;
use crate::registry::{ANN_ARTIFACT_NAME, Client, OciRef, RegistryError, pull};
use crate::sign::bundle;
use crate::sign::trust::Trust;
use crate::store::{Store, predicate_slug};

/// Something that could not be read: the answer may be incomplete.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unreadable {
    /// A bundle file, a registry reference or a dependency URI.
    pub source: String,
    pub error: String,
}

/// An artifact descending from the one asked about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Descendant {
    /// Dependency steps from the ancestor (1: built from it directly).
    pub depth: usize,
    /// Its names (artifact and input names), joined.
    pub name: String,
    pub digest: Sha256Digest,
    /// The input names along the shortest path (or digests, unnamed).
    pub via: Vec<String>,
    /// Where it is in the registries read: `registry/repo:tag@sha256:…`.
    pub references: Vec<String>,
}

/// The lineage read so far.
#[derive(Debug, Default)]
pub struct Lineage {
    /// Dependency digest as the provenance records it → (child, the
    /// dependency's name in the child).
    edges: BTreeMap<Sha256Digest, BTreeSet<(Sha256Digest, String)>>,
    names: BTreeMap<Sha256Digest, BTreeSet<String>>,
    /// Registry references per digest (artifact, or a manifest that is not
    /// ModelPack), with the manifest digest each is pinned to: the tags read,
    /// and the `oci://` locations provenance gives for its inputs.
    references: BTreeMap<Sha256Digest, BTreeSet<(String, Sha256Digest)>>,
    seen: BTreeSet<Sha256Digest>,
    pub unreadable: Vec<Unreadable>,
    /// Provenance statements counted.
    pub statements: usize,
}

/// Errors after which reading a registry further is pointless: it is
/// unreachable, or refuses these credentials.
pub fn stops(e: &RegistryError) -> bool {
    matches!(
        e,
        RegistryError::GaveUp { .. }
            | RegistryError::Unauthorized { .. }
            | RegistryError::Denied { .. }
            | RegistryError::Credentials { .. }
            | RegistryError::Io { .. }
    )
}

impl Lineage {
    /// Read one bundle: its provenance statement's dependencies become
    /// edges. A bundle about anything but SLSA provenance is ignored; one
    /// `trust` does not verify is skipped; one that cannot be read is
    /// recorded as unreadable.
    pub fn add_bundle(&mut self, bytes: &[u8], source: &str, trust: Option<&Trust>) {
        if !self.seen.insert(Sha256Digest::of(bytes)) {
            return;
        }
        let unreadable = |l: &mut Self, error: String| {
            l.unreadable.push(Unreadable {
                source: source.to_string(),
                error,
            });
        };
        let parsed = match bundle::parse(bytes) {
            Ok(p) => p,
            Err(e) => return unreadable(self, e.to_string()),
        };
        if parsed.statement.predicate_type != PREDICATE_SLSA_PROVENANCE {
            return;
        }
        if let Some(t) = trust
            && crate::sign::verify::verify(&parsed, t).is_err()
        {
            return;
        }
        let st = parsed.statement;
        let Some(child) = st.subject.first().and_then(|x| x.sha256_digest()) else {
            return;
        };
        if let Some(n) = &st.subject[0].name {
            self.names.entry(child).or_default().insert(n.clone());
        }
        let prov = match serde_json::from_value::<Provenance>(st.predicate) {
            Ok(p) => p,
            Err(e) => return unreadable(self, format!("not SLSA provenance: {e}")),
        };
        self.statements += 1;
        if let Some(i) = provenance::import_parameters(&prov) {
            self.names.entry(child).or_default().insert(i.input);
        }
        for d in provenance::inputs(&prov) {
            let Some(dd) = d.digest else {
                continue;
            };
            let name = d.name.unwrap_or_default();
            if !name.is_empty() {
                self.names.entry(dd).or_default().insert(name.clone());
            }
            // Where the provenance says an `oci` input is.
            if let Some(ResourceUri::Oci {
                registry,
                repo,
                manifest,
            }) = &d.uri
            {
                let location = format!("{registry}/{repo}@{}", manifest.prefixed());
                self.references
                    .entry(dd)
                    .or_default()
                    .insert((location, *manifest));
            }
            self.edges.entry(dd).or_default().insert((child, name));
        }
    }

    /// Every provenance bundle in the local store.
    pub fn read_store(&mut self, store: &Store, trust: Option<&Trust>) -> std::io::Result<()> {
        let slug = predicate_slug(PREDICATE_SLSA_PROVENANCE);
        for s in store.subjects()? {
            for b in store.list(&s)? {
                if b.predicate_slug != slug || self.seen.contains(&b.bundle_digest) {
                    continue;
                }
                match crate::fsutil::read_bounded(&b.path, crate::limits::Limit::BundleBytes) {
                    Ok(bytes) => self.add_bundle(&bytes, &b.path.display().to_string(), trust),
                    Err(e) => self.unreadable.push(Unreadable {
                        source: b.path.display().to_string(),
                        error: e.to_string(),
                    }),
                }
            }
        }
        Ok(())
    }

    /// Record a manifest read from a registry: where it is, and the
    /// artifact its layers make (ModelPack manifests).
    fn add_manifest(
        &mut self,
        reference: &OciRef,
        manifest: Sha256Digest,
        model: Option<&pull::Resolved>,
    ) {
        let pinned = OciRef {
            digest: Some(manifest),
            ..reference.clone()
        };
        let key = match model {
            Some(r) => {
                let artifact = r.parsed.artifact_digest;
                if let Some(n) = r.parsed.annotation(ANN_ARTIFACT_NAME) {
                    self.names
                        .entry(artifact)
                        .or_default()
                        .insert(n.to_string());
                }
                artifact
            }
            None => manifest,
        };
        self.references
            .entry(key)
            .or_default()
            .insert((pinned.to_string(), manifest));
    }

    /// Read one registry reference (a tag or a digest): its manifest and
    /// the provenance among its bundle referrers. Any error leaves the
    /// reference partly read; the caller records it.
    pub fn read_reference(
        &mut self,
        client: &Client,
        reference: &OciRef,
        trust: Option<&Trust>,
    ) -> Result<(), RegistryError> {
        let manifest = match pull::resolve(client, reference) {
            Ok(r) => {
                self.add_manifest(reference, r.manifest_digest, Some(&r));
                r.manifest_digest
            }
            // Not a model (an image, an index): its referrers may still
            // carry provenance about what it was built from.
            Err(RegistryError::NotModelPack { .. }) => {
                let (_, digest) =
                    client.get_manifest(&reference.repository, &reference.lookup())?;
                self.add_manifest(reference, digest, None);
                digest
            }
            Err(e) => return Err(e),
        };
        let pinned = OciRef {
            digest: Some(manifest),
            ..reference.clone()
        };
        let (bundles, _) = pull::fetch_bundles(client, &reference.repository, &manifest)?;
        for b in bundles {
            // The referrer's annotation names its predicate: skip the
            // others unread (they may not even be DSSE bundles).
            if b.predicate_type
                .as_deref()
                .is_some_and(|t| t != PREDICATE_SLSA_PROVENANCE)
            {
                continue;
            }
            let source = format!("{pinned} referrer {}", b.referrer.prefixed());
            self.add_bundle(&b.bytes, &source, trust);
        }
        Ok(())
    }

    /// A manifest digest read from a registry stands for the artifact its
    /// layers make; any other digest for itself.
    fn canonical(&self, d: &Sha256Digest) -> Sha256Digest {
        self.references
            .iter()
            .find(|(_, refs)| refs.iter().any(|(_, m)| m == d))
            .map(|(artifact, _)| *artifact)
            .unwrap_or(*d)
    }

    /// The names of a digest.
    pub fn names_of(&self, d: &Sha256Digest) -> Vec<String> {
        self.names
            .get(d)
            .map(|n| n.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Where a digest is in the registries read.
    pub fn references_of(&self, d: &Sha256Digest) -> Vec<String> {
        self.references
            .get(d)
            .map(|r| r.iter().map(|(s, _)| s.clone()).collect())
            .unwrap_or_default()
    }

    /// What `what` names: a digest (`sha256:…` or 64 hex digits; an
    /// artifact or a manifest digest), else every digest a provenance
    /// statement or manifest gives that name.
    pub fn find(&self, what: &str) -> BTreeSet<Sha256Digest> {
        if (what.starts_with("sha256:") || what.len() == 64)
            && let Ok(d) = Sha256Digest::parse_any(what)
        {
            return [self.canonical(&d)].into();
        }
        self.names
            .iter()
            .filter(|(_, names)| names.contains(what))
            .map(|(d, _)| *d)
            .collect()
    }

    /// The artifacts whose digest starts with `what`: a short digest as
    /// `verify` shows it (`sha256:` and 12 hex digits, or the hex alone; at
    /// least 6 digits). `None` when `what` is not such a prefix.
    pub fn find_prefix(&self, what: &str) -> Option<BTreeSet<Sha256Digest>> {
        let hex = what.strip_prefix("sha256:").unwrap_or(what);
        if hex.len() < 6 || hex.len() >= 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let hex = hex.to_ascii_lowercase();
        let known = self
            .edges
            .iter()
            .flat_map(|(d, kids)| std::iter::once(d).chain(kids.iter().map(|(c, _)| c)))
            .chain(self.names.keys())
            .chain(self.references.keys());
        Some(
            known
                .filter(|d| d.hex().starts_with(&hex))
                .map(|d| self.canonical(d))
                .collect(),
        )
    }

    /// Everything descending from `starts`, breadth first (each at its
    /// shortest path), sorted by depth, name and digest.
    pub fn descendants(&self, starts: &BTreeSet<Sha256Digest>) -> Vec<Descendant> {
        let mut children: BTreeMap<Sha256Digest, BTreeSet<(Sha256Digest, &str)>> = BTreeMap::new();
        for (dep, kids) in &self.edges {
            let entry = children.entry(*dep).or_default();
            for (child, input) in kids {
                entry.insert((*child, input.as_str()));
            }
        }
        let mut found: BTreeMap<Sha256Digest, (usize, Vec<String>)> = BTreeMap::new();
        let mut queue: VecDeque<(Sha256Digest, usize, Vec<String>)> =
            starts.iter().map(|d| (*d, 0, Vec::new())).collect();
        let mut visited = starts.clone();
        while let Some((d, depth, via)) = queue.pop_front() {
            for (child, input) in children.get(&d).into_iter().flatten() {
                if visited.insert(*child) {
                    let mut via = via.clone();
                    via.push(if input.is_empty() {
                        d.prefixed()
                    } else {
                        (*input).to_string()
                    });
                    found.insert(*child, (depth + 1, via.clone()));
                    queue.push_back((*child, depth + 1, via));
                }
            }
        }
        let mut out: Vec<Descendant> = found
            .into_iter()
            .map(|(digest, (depth, via))| Descendant {
                depth,
                name: self.names_of(&digest).join(", "),
                digest,
                via,
                references: self.references_of(&digest),
            })
            .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(l: &mut Lineage, dep: Sha256Digest, child: Sha256Digest, name: &str) {
        l.edges
            .entry(dep)
            .or_default()
            .insert((child, name.to_string()));
        l.names.entry(dep).or_default().insert(name.to_string());
    }

    #[test]
    fn short_digests_match_a_unique_prefix_and_say_when_ambiguous() {
        let mut l = Lineage::default();
        // Two digests sharing their first 6 hex digits: among 20,000 small
        // inputs, about a dozen pairs do (24 bits; deterministic).
        let mut by_prefix = BTreeMap::new();
        let (x, y) = (0u16..20_000)
            .map(|i| Sha256Digest::of(&i.to_le_bytes()))
            .find_map(|d| {
                by_prefix
                    .insert(d.hex()[..6].to_string(), d)
                    .map(|earlier| (earlier, d))
            })
            .expect("a 24-bit collision among 20,000 digests");
        let child = Sha256Digest::of(b"child");
        edge(&mut l, x, child, "x");
        edge(&mut l, y, child, "y");
        let short = |d: &Sha256Digest| format!("sha256:{}", &d.hex()[..12]);
        assert_eq!(l.find_prefix(&short(&x)), Some([x].into()));
        assert_eq!(l.find_prefix(&x.hex()[..12]), Some([x].into()));
        assert_eq!(l.find_prefix(&short(&child)), Some([child].into()));
        assert_eq!(
            l.find_prefix("sha256:ffffffffffff").map(|s| s.len()),
            Some(0)
        );
        assert_eq!(l.find_prefix("base-model"), None);
        assert_eq!(l.find_prefix("abc"), None, "too short");
        assert_eq!(l.find_prefix(&x.hex()[..6]), Some([x, y].into()));
    }

    #[test]
    fn descendants_by_artifact_digest_and_name() {
        let (a, ma, d, f, g) = (
            Sha256Digest::of(b"a"),
            Sha256Digest::of(b"manifest of a"),
            Sha256Digest::of(b"d"),
            Sha256Digest::of(b"f"),
            Sha256Digest::of(b"g"),
        );
        let mut l = Lineage::default();
        // F from A and D; G from F.
        edge(&mut l, a, f, "base");
        edge(&mut l, d, f, "data");
        edge(&mut l, f, g, "parent");
        let from_a = l.descendants(&l.find(&a.prefixed()));
        assert_eq!(
            from_a
                .iter()
                .map(|x| (x.depth, x.digest, x.via.join(">")))
                .collect::<Vec<_>>(),
            [
                (1, f, "base".to_string()),
                (2, g, "base>parent".to_string())
            ]
        );
        // A's manifest, once read from a registry, names A.
        assert!(l.descendants(&l.find(&ma.prefixed())).is_empty());
        l.references
            .entry(a)
            .or_default()
            .insert((format!("r.example/a@{}", ma.prefixed()), ma));
        assert_eq!(l.descendants(&l.find(&ma.hex())), from_a);
        assert_eq!(l.find("base"), [a].into());
        assert_eq!(l.descendants(&l.find("data")).len(), 2);
        assert!(l.descendants(&[g].into()).is_empty());
    }
}
