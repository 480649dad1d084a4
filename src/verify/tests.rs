//! The walk and the checks together, in-process, on a mock store and a mock
//! registry: generated DAGs (the property test), node-level policy, pinned
//! revisions anywhere in the graph, untrusted bundles, and a scenario for
//! every finding code.

use std::collections::{BTreeMap, BTreeSet};

use crate::build::{BuildFacts, Outputs, RunSource};
use crate::digest::{FileEntry, FileSet, Sha256Digest, entries_digest};
use crate::intoto::{ResourceDescriptor, Statement};
use crate::lockfile::{Lock, LockedInput};
use crate::model::{Role, Source};
use crate::provenance as prov;
use crate::reporter::Silent;
use crate::run::RunRecord;
use crate::sign::keys::SigningKey;
use crate::store::Store;
use crate::verify::checks::testing::*;
use crate::verify::model::{Graph, Locator, NoRegistry, RegoScope, Root};
use crate::verify::node::{BundleLookup, RawBundle};
use crate::verify::policy::VerifyPolicy;
use crate::verify::walk::{Settings, verify_graph};

/// SplitMix64: a small seeded generator, so every failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn name(&mut self) -> String {
        let len = 1 + self.below(8);
        (0..len)
            .map(|_| (b'a' + self.below(26) as u8) as char)
            .collect()
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// How a generated node is attested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attested {
    /// Its provenance is signed by the trusted key.
    Trusted,
    /// Its only provenance is signed by someone else (ignored: E0301).
    Untrusted,
    /// No provenance at all (E0301).
    Missing,
}

/// A generated DAG: node 0 is the root; edges go from lower to higher.
struct Dag {
    n: usize,
    /// (parent, child, role)
    edges: Vec<(usize, usize, &'static str)>,
    attested: Vec<Attested>,
    /// Extra bundles from an untrusted signer, ignored.
    noise: Vec<bool>,
}

const ROLES: [&str; 3] = ["base-model", "training-data", "config"];

impl Dag {
    fn generate(rng: &mut Rng, faults: bool) -> Dag {
        let n = 1 + rng.below(30);
        let mut edges = Vec::new();
        for c in 1..n {
            // Every node has a parent, so all are reachable; some have more
            // (shared inputs).
            let p = rng.below(c);
            edges.push((p, c, ROLES[rng.below(3)]));
            for q in 0..c {
                if q != p && rng.chance(12) {
                    edges.push((q, c, ROLES[rng.below(3)]));
                }
            }
        }
        let attested = (0..n)
            .map(|i| match (faults && i > 0, rng.below(10)) {
                (true, 0) => Attested::Untrusted,
                (true, 1) => Attested::Missing,
                _ => Attested::Trusted,
            })
            .collect();
        let noise = (0..n).map(|_| rng.chance(20)).collect();
        Dag {
            n,
            edges,
            attested,
            noise,
        }
    }

    /// The node's artifact: one output file, as `build` records it.
    fn outputs(&self, seed: u64, i: usize) -> Outputs {
        Outputs {
            path: "out".into(),
            set: FileSet::new(vec![FileEntry {
                path: "model.safetensors".into(),
                size: 1024,
                sha256: Sha256Digest::of(format!("dag-{seed}-node-{i}").as_bytes()),
                format: Some("safetensors".into()),
            }]),
            scan: crate::scan::ScanReport {
                files: Vec::new(),
                bytes_read: 0,
            },
        }
    }

    fn digest(&self, seed: u64, i: usize) -> Sha256Digest {
        self.outputs(seed, i).set.digest
    }

    /// The local store a user's commands leave, with fresh input names and
    /// a shuffled input order: every node with inputs (and the root) is a
    /// build whose lock names its inputs (`provenance::statement`, written
    /// as `build` writes `provenance.json`), every other node an imported
    /// input (`provenance::import_statement`, as `attest import`); signed
    /// as `attest --key` signs (`bundle::sign_statement`) and filed as it
    /// files them (`Store::put` under every subject).
    fn filed(&self, w: &World, seed: u64, rng: &mut Rng) -> Filed {
        let filed = std::cell::RefCell::new(Filed::new());
        let manifest = crate::manifest::Manifest::parse(
            "[artifact]\nname = \"acme/model\"\nversion = \"1.0\"\nkind = \"model\"\npath = \"out\"\nlicense = \"Apache-2.0\"\n",
            "mlprov.toml",
        )
        .unwrap();
        let run: RunRecord = serde_json::from_value(serde_json::json!({
            "version": crate::run::RUN_VERSION,
            "kind": "packaging",
            "invocationId": format!("dag-{seed}"),
            "startedOn": "2026-12-01T00:00:00Z",
            "finishedOn": "2026-12-01T00:00:00Z",
        }))
        .unwrap();
        let commit =
            |i: usize| Sha256Digest::of(format!("commit-{i}").as_bytes()).hex()[..40].to_string();
        // What a parent's lock says about input `c`, under a fresh name.
        let locked = |rng: &mut Rng, c: usize, role: &str| {
            let files = self.outputs(seed, c).set.files;
            let leaf = !self.edges.iter().any(|(p, _, _)| *p == c);
            let name = rng.name();
            let source = if leaf {
                Source::Hf {
                    repo: format!("acme/{name}"),
                }
            } else {
                Source::Path {
                    path: format!("inputs/{name}"),
                }
            };
            LockedInput {
                name,
                role: Role::parse(role).unwrap(),
                source,
                requested: leaf.then(|| "main".to_string()),
                commit: leaf.then(|| commit(c)),
                digest: entries_digest(&files),
                manifest: None,
                license: Some("Apache-2.0".into()),
                datasets: Vec::new(),
                include: Vec::new(),
                exclude: Vec::new(),
                files,
            }
        };
        let mut imports: BTreeMap<usize, LockedInput> = BTreeMap::new();
        for i in 0..self.n {
            let outputs = self.outputs(seed, i);
            let mut inputs: Vec<LockedInput> = self
                .edges
                .iter()
                .filter(|(p, _, _)| *p == i)
                .map(|&(_, c, role)| locked(rng, c, role))
                .collect();
            rng.shuffle(&mut inputs);
            for input in &inputs {
                imports
                    .entry(
                        self.edges
                            .iter()
                            .find(|(p, c, _)| *p == i && self.digest(seed, *c) == input.digest)
                            .unwrap()
                            .1,
                    )
                    .or_insert_with(|| input.clone());
            }
            let payload = if i == 0 || !inputs.is_empty() {
                let lock = Lock {
                    version: crate::lockfile::LOCK_VERSION,
                    inputs,
                    upgraded_from: None,
                };
                let run_bytes = run.to_json().into_bytes();
                let facts = BuildFacts {
                    manifest: &manifest,
                    manifest_digest: Sha256Digest::of(b"mlprov.toml"),
                    lock: &lock,
                    lock_digest: Some(Sha256Digest::of(format!("lock-{seed}-{i}").as_bytes())),
                    run: &run,
                    run_source: RunSource::Packaging,
                    run_digest: Sha256Digest::of(&run_bytes),
                    outputs: &outputs,
                    created: "2026-12-01T00:00:00Z".into(),
                    builder_id: crate::intoto::BUILDER_LOCAL.into(),
                    oci_manifest: None,
                };
                Some(crate::sbom::to_json_bytes(&prov::statement(&facts)))
            } else {
                None
            };
            let file = |key: &SigningKey, payload: &[u8]| {
                let st: Statement = serde_json::from_slice(payload).unwrap();
                let subjects: Vec<Sha256Digest> = st
                    .subject
                    .iter()
                    .filter_map(|s| s.sha256_digest())
                    .collect();
                assert!(subjects.contains(&outputs.set.digest));
                let bundle = crate::sign::bundle::sign_statement(payload, key).unwrap();
                filed.borrow_mut().push((bundle, subjects));
            };
            // Imports are made once their input is known (below).
            if let Some(payload) = payload {
                match self.attested[i] {
                    Attested::Trusted => file(&w.platform, &payload),
                    Attested::Untrusted => file(&w.attacker, &payload),
                    Attested::Missing => {}
                }
                if self.noise[i] {
                    file(&w.attacker, &payload);
                }
            }
        }
        for (c, input) in imports {
            if self.edges.iter().any(|(p, _, _)| *p == c) {
                continue;
            }
            let payload = serde_json::to_vec(&prov::import_statement(&input)).unwrap();
            let bundle =
                |key: &SigningKey| crate::sign::bundle::sign_statement(&payload, key).unwrap();
            let put = |b: Vec<u8>| filed.borrow_mut().push((b, vec![input.digest]));
            match self.attested[c] {
                Attested::Trusted => put(bundle(&w.platform)),
                Attested::Untrusted => put(bundle(&w.attacker)),
                Attested::Missing => {}
            }
            if self.noise[c] {
                put(bundle(&w.attacker));
            }
        }
        filed.into_inner()
    }

    /// The same, filed in a local store in memory, addressed and
    /// replaced as `Store::put` does and listed in `Store::list`'s order
    /// (a real store on disk for 400 graphs costs minutes of fsync).
    fn store(&self, w: &World, seed: u64, rng: &mut Rng) -> MockStore {
        in_memory(&self.filed(w, seed, rng))
    }

    /// Shortest depths over the edges of nodes whose provenance counts.
    fn depths(&self) -> BTreeMap<usize, u32> {
        let mut depth = BTreeMap::from([(0usize, 0u32)]);
        let mut frontier = vec![0usize];
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for &p in &frontier {
                if self.attested[p] != Attested::Trusted {
                    continue;
                }
                let dp = depth[&p];
                for &(_, c, _) in self.edges.iter().filter(|(q, _, _)| *q == p) {
                    if let std::collections::btree_map::Entry::Vacant(e) = depth.entry(c) {
                        e.insert(dp + 1);
                        next.push(c);
                    }
                }
            }
            frontier = next;
        }
        depth
    }
}

/// Provenance bundles as `attest` files them: the bundle and its subjects.
type Filed = Vec<(Vec<u8>, Vec<Sha256Digest>)>;

/// Where the store would hold them, named by the path it would use.
fn in_memory(filed: &Filed) -> MockStore {
    let addressing = Store::new(std::path::Path::new("/home"));
    let pt = crate::intoto::PREDICATE_SLSA_PROVENANCE;
    let mut m = MockStore::default();
    for (bundle, subjects) in filed {
        let mut subjects = subjects.clone();
        subjects.sort();
        subjects.dedup();
        for s in subjects {
            let list = m.0.entry(s).or_default();
            list.retain(|old| !crate::sign::bundle::same_attestation(&old.bytes, bundle));
            list.push(RawBundle {
                source: addressing.path_for(&s, pt, bundle).display().to_string(),
                bytes: bundle.clone(),
            });
        }
    }
    for list in m.0.values_mut() {
        list.sort_by(|a, b| a.source.cmp(&b.source));
    }
    m
}

/// In a real local store on disk (`Store::put`, read back by the lookup
/// `verify` uses).
fn on_disk(filed: &Filed) -> (tempfile::TempDir, Store) {
    let home = tempfile::tempdir().unwrap();
    let store = Store::new(home.path());
    for (bundle, subjects) in filed {
        store
            .put(bundle, crate::intoto::PREDICATE_SLSA_PROVENANCE, subjects)
            .unwrap();
    }
    (home, store)
}

fn walk(
    policy: &VerifyPolicy,
    store: &dyn BundleLookup,
    locator: &dyn Locator,
    root: Root,
    max_depth: u32,
) -> Graph {
    verify_graph(
        root,
        &Settings {
            policy,
            max_depth,
            lookup: store,
            locator,
            reporter: &Silent,
            project_root: None,
            root_role: None,
            rego_scope: RegoScope::Graph,
        },
    )
}

fn root_at(d: Sha256Digest) -> Root {
    Root {
        expected: Some(d),
        ..Default::default()
    }
}

/// What must not depend on names or orders: the verdict, and per node its
/// depth, roles and findings.
type Summary = (bool, BTreeMap<String, (u32, Vec<String>, Vec<String>)>);

fn summary(g: &Graph) -> Summary {
    // Bundles are named by their file in the store: a temporary directory,
    // and the bundle's own digest (ECDSA signatures are randomized).
    let stored = regex::Regex::new(r"\S*/store/sha256/[0-9a-f]{64}/\S*?\.sigstore\.json").unwrap();
    let nodes = g
        .nodes
        .iter()
        .map(|n| {
            let findings = n
                .findings
                .iter()
                .map(|f| {
                    let message = stored.replace_all(&f.message, "<stored bundle>");
                    format!("{} {message}", f.code.code())
                })
                .collect();
            (n.id.clone(), (n.depth, n.roles.clone(), findings))
        })
        .collect();
    (g.verified(), nodes)
}

#[test]
fn generated_dags_verify_the_same_whatever_the_names_and_orders() {
    let w = World::new();
    let policy = w.policy("");
    let (mut checked, mut failed, mut shared) = (0, 0, 0);
    for seed in 0..200u64 {
        let mut rng = Rng(seed);
        let dag = Dag::generate(&mut rng, true);
        let root = dag.digest(seed, 0);
        let filed = dag.filed(&w, seed, &mut rng);
        let a = walk(&policy, &in_memory(&filed), &NoRegistry, root_at(root), 64);
        let b = walk(
            &policy,
            &dag.store(&w, seed, &mut rng),
            &NoRegistry,
            root_at(root),
            64,
        );
        assert_eq!(summary(&a), summary(&b), "seed {seed}");
        // The in-memory store is the real one: for some graphs, the same
        // bundles in a local store on disk give the same result.
        if seed % 20 == 0 {
            let (_home, disk) = on_disk(&filed);
            let c = walk(&policy, &disk, &NoRegistry, root_at(root), 64);
            assert_eq!(summary(&a), summary(&c), "seed {seed}, on disk");
        }
        // Every depth is the shortest distance over what counts.
        let expected: BTreeMap<String, u32> = dag
            .depths()
            .into_iter()
            .map(|(i, d)| (dag.digest(seed, i).prefixed(), d))
            .collect();
        let got: BTreeMap<String, u32> = a.nodes.iter().map(|n| (n.id.clone(), n.depth)).collect();
        assert_eq!(got, expected, "seed {seed}");
        // The verdict: every node reached must be attested by the trusted key.
        let all_good = expected.keys().all(|id| {
            (0..dag.n).any(|i| {
                dag.digest(seed, i).prefixed() == *id && dag.attested[i] == Attested::Trusted
            })
        });
        assert_eq!(a.verified(), all_good, "seed {seed}");
        // Untrusted bundles never fail anything by themselves.
        for n in &a.nodes {
            assert!(
                n.findings.iter().all(|f| f.code.code() != "E0202"),
                "seed {seed}: {:?}",
                n.findings
            );
        }
        checked += a.nodes.len();
        failed += usize::from(!a.verified());
        shared += a
            .edges
            .len()
            .saturating_sub(a.nodes.len().saturating_sub(1));
    }
    // The generator makes real cases: large graphs, shared inputs, failures.
    assert!(checked > 1000, "{checked}");
    assert!((20..180).contains(&failed), "{failed} of 200 failed");
    assert!(shared > 200, "{shared} shared edges");
}

#[test]
fn max_depth_fails_exactly_when_the_longest_shortest_path_exceeds_it() {
    let w = World::new();
    let policy = w.policy("");
    for seed in 1000..1200u64 {
        let mut rng = Rng(seed);
        let dag = Dag::generate(&mut rng, false);
        let store = dag.store(&w, seed, &mut rng);
        let root = dag.digest(seed, 0);
        let ecc = dag.depths().values().copied().max().unwrap_or(0);
        let k = rng.below(ecc as usize + 2) as u32;
        let g = walk(&policy, &store, &NoRegistry, root_at(root), k);
        // Other names and orders, the same limit: the same verdict,
        // findings and depths.
        let store2 = dag.store(&w, seed, &mut rng);
        let g2 = walk(&policy, &store2, &NoRegistry, root_at(root), k);
        assert_eq!(summary(&g), summary(&g2), "seed {seed}, --max-depth {k}");
        assert_eq!(
            g.verified(),
            ecc <= k,
            "seed {seed}: depth {ecc}, --max-depth {k}"
        );
        let e0602: Vec<u32> = g
            .nodes
            .iter()
            .filter(|n| n.findings.iter().any(|f| f.code.code() == "E0602"))
            .map(|n| n.depth)
            .collect();
        // Only nodes at the limit name what is deeper, and nothing deeper is judged.
        assert!(e0602.iter().all(|d| *d == k), "seed {seed}: {e0602:?}");
        assert!(g.nodes.iter().all(|n| n.depth <= k), "seed {seed}");
        assert_eq!(!e0602.is_empty(), ecc > k, "seed {seed}");
    }
}

/// The diamond of issue 13: a shared node reached by a shorter path after a
/// longer one keeps the shorter depth, and `--max-depth` does not depend on
/// which input was named first.
#[test]
fn a_shared_node_has_its_shortest_depth_whatever_the_names() {
    let w = World::new();
    let policy = w.policy("");
    let (g_, f, l, a, d1, d2) = (
        digest("G"),
        digest("F"),
        digest("L"),
        digest("A"),
        digest("D1"),
        digest("D2"),
    );
    for (first, second) in [("adapter", "base"), ("lora", "base"), ("a", "z")] {
        let mut store = MockStore::default();
        let put = |store: &mut MockStore, d: &Sha256Digest, deps: &[ResourceDescriptor]| {
            store.put(*d, w.bundle(&w.platform, &provenance(d, deps)));
        };
        // G = merge(F, L); L trained on F with D2; F = fine-tune(A, D1).
        put(
            &mut store,
            &g_,
            &[
                dep(first, &l, "adapter", None),
                dep(second, &f, "base-model", None),
            ],
        );
        put(
            &mut store,
            &l,
            &[
                dep("base", &f, "base-model", None),
                dep("data", &d2, "training-data", None),
            ],
        );
        put(
            &mut store,
            &f,
            &[
                dep("base", &a, "base-model", None),
                dep("data", &d1, "training-data", None),
            ],
        );
        for leaf in [&a, &d1, &d2] {
            put(&mut store, leaf, &[]);
        }
        let g = walk(&policy, &store, &NoRegistry, root_at(g_), 16);
        assert!(g.verified(), "{:?}", g.findings().collect::<Vec<_>>());
        let depth = |d: &Sha256Digest| g.node(&d.prefixed()).unwrap().depth;
        assert_eq!(
            [
                depth(&g_),
                depth(&f),
                depth(&l),
                depth(&a),
                depth(&d1),
                depth(&d2)
            ],
            [0, 1, 1, 2, 2, 2],
            "{first}/{second}"
        );
        assert!(walk(&policy, &store, &NoRegistry, root_at(g_), 2).verified());
        assert!(!walk(&policy, &store, &NoRegistry, root_at(g_), 1).verified());
    }
}

/// `require-pinned-revisions` judges every node's own provenance: an
/// import at `@main`, signed by a trusted key, fails on that node at depth 1
/// and at depth 3.
#[test]
fn an_import_at_main_fails_where_it_sits() {
    let w = World::new();
    let policy = w.policy("require-pinned-revisions = true\n");
    let commit = "0123456789abcdef0123456789abcdef01234567";
    for depth in [1usize, 3] {
        let chain: Vec<Sha256Digest> = (0..=depth).map(|i| digest(&format!("n{i}"))).collect();
        let mut store = MockStore::default();
        for i in 0..depth {
            let uri = format!("hf://acme/n{}@{commit}", i + 1);
            let st = provenance(
                &chain[i],
                &[dep("base", &chain[i + 1], "base-model", Some(&uri))],
            );
            store.put(chain[i], w.bundle(&w.platform, &st));
        }
        // The edge to the last node is pinned; its own import is not.
        let leaf = chain[depth];
        let st = import_provenance(&leaf, &format!("hf:acme/n{depth}"), "main", None);
        store.put(leaf, w.bundle(&w.platform, &st));
        let g = walk(&policy, &store, &NoRegistry, root_at(chain[0]), 16);
        assert!(!g.verified());
        let failing: Vec<(String, u32, &str)> = g
            .findings()
            .map(|(n, f)| (n.id.clone(), n.depth, f.code.code()))
            .collect();
        assert_eq!(
            failing,
            [(leaf.prefixed(), depth as u32, "E0403")],
            "depth {depth}"
        );
        // Pinned, it passes.
        let mut store2 = MockStore::default();
        for (d, bundles) in &store.0 {
            if *d != leaf {
                for b in bundles {
                    store2.put(*d, b.clone());
                }
            }
        }
        let st = import_provenance(&leaf, &format!("hf:acme/n{depth}"), commit, None);
        store2.put(leaf, w.bundle(&w.platform, &st));
        assert!(walk(&policy, &store2, &NoRegistry, root_at(chain[0]), 16).verified());
    }
}

/// Node-level policy: artifacts from `hf:meta-llama/*` need the platform
/// key, anything built by the team (its registry) the build key, although
/// both reach their parents as `base-model`, whose role trusts both keys.
#[test]
fn per_source_signer_rules() {
    let w = World::new();
    let policy = w.policy(
        r#"
[policy.roles.base-model]
require = ["https://slsa.dev/provenance/v1", "https://mlprov.dev/scan/v1"]
signers = ["platform.pub", "build.pub"]

[[policy.artifacts]]
source = "hf:meta-llama/*"
signers = ["platform.pub"]

[[policy.artifacts]]
source = "oci:registry.example/acme/*"
signers = ["build.pub"]
"#,
    );
    let (g_, f, a) = (digest("G"), digest("F"), digest("A"));
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let f_uri = format!("oci://registry.example/acme/f@{}", f.prefixed());
    let a_uri = format!("hf://meta-llama/Llama-3@{commit}");
    let build = |scan_a_by: &SigningKey| {
        let mut store = MockStore::default();
        let g_prov = provenance(&g_, &[dep("base", &f, "base-model", Some(&f_uri))]);
        store.put(g_, w.bundle(&w.platform, &g_prov));
        let f_prov = provenance(&f, &[dep("base", &a, "base-model", Some(&a_uri))]);
        store.put(f, w.bundle(&w.build, &f_prov));
        store.put(f, w.bundle(&w.build, &scan_statement(&f, &[])));
        let a_prov = import_provenance(&a, "hf:meta-llama/Llama-3", commit, None);
        store.put(a, w.bundle(&w.platform, &a_prov));
        store.put(a, w.bundle(scan_a_by, &scan_statement(&a, &[])));
        store
    };
    // The registry location of F resolves to F itself.
    let mut registry = MockRegistry::default();
    registry.0.insert(
        f_uri.clone(),
        Ok(crate::verify::model::Located {
            artifact: f,
            manifest: f,
            bundles: Vec::new(),
            location: format!("registry.example/acme/f@{}", f.prefixed()),
            files: Vec::new(),
        }),
    );
    // A's scan signed by the build key: the role trusts it, A's rule does
    // not. F's provenance and scan, signed by the build key, count.
    let g = walk(&policy, &build(&w.build), &registry, root_at(g_), 16);
    let failing: Vec<(String, &str)> = g
        .findings()
        .map(|(n, f)| (n.id.clone(), f.code.code()))
        .collect();
    assert_eq!(failing, [(a.prefixed(), "E0301")]);
    let msg = &g.node(&a.prefixed()).unwrap().findings[0].message;
    assert!(msg.contains("https://mlprov.dev/scan/v1"), "{msg}");
    assert!(
        msg.contains(
            "which [[policy.artifacts]] source = \"hf:meta-llama/*\" signers does not trust"
        ),
        "{msg}"
    );
    let a_node = g.node(&a.prefixed()).unwrap();
    assert!(
        a_node
            .verdict
            .as_ref()
            .unwrap()
            .attestations
            .iter()
            .any(|x| matches!(x.status, crate::verify::node::Status::Ignored(_)))
    );
    // Signed by the platform key, everything passes.
    let g = walk(&policy, &build(&w.platform), &registry, root_at(g_), 16);
    assert!(g.verified(), "{:?}", g.findings().collect::<Vec<_>>());
    // F's bundles signed by the platform key would not do: F's rule wants
    // the build key.
    let mut store = build(&w.platform);
    store.0.remove(&f);
    let f_prov = provenance(&f, &[dep("base", &a, "base-model", Some(&a_uri))]);
    store.put(f, w.bundle(&w.platform, &f_prov));
    store.put(f, w.bundle(&w.platform, &scan_statement(&f, &[])));
    let g = walk(&policy, &store, &registry, root_at(g_), 16);
    let failing: BTreeSet<String> = g.findings().map(|(n, _)| n.id.clone()).collect();
    assert_eq!(failing, BTreeSet::from([f.prefixed()]));
}
