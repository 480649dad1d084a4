#!/usr/bin/env python3
"""Generate a provenance graph for benchmarking `mlprov verify` (issue 7).

    python scripts/gen-graph.py N OUT_DIR [--seed S] [--levels L]

Needs the `cryptography` package (the validators venv has it:
target/validators/bin/python).

Writes, under OUT_DIR (which must not exist, or be empty):

  home/store/sha256/<artifact hex>/<slug>-<bundle sha256>.sigstore.json
        the local store ($MLPROV_HOME = OUT_DIR/home), laid out as src/store.rs
        files bundles;
  keys/bench.key, keys/bench.pub
        the P-256 key every bundle is signed with (PKCS#8 / SPKI PEM, derived
        from the seed: a benchmark key, not a secret);
  policy.toml
        the policy `verify --policy` applies: every role and the artifact need
        provenance, SPDX 3 and scan attestations from keys/bench.pub, licenses
        are allow-listed, revisions must be pinned, builders are allow-listed;
  graph.json
        what was generated: root digest, node and edge counts, level sizes.

The graph: N artifact nodes in L levels (default 10). Level L-1 is the root,
level 0 the leaves. Level sizes grow geometrically from the root (ratio ≤ 3).
Every node above level 0 depends on 2 or 3 distinct nodes of lower levels:
each node of the level below is named by at least one node of this level
(so the walk from the root reaches all N nodes, and the longest path has L
levels), and the remaining slots pick shared inputs from any lower level.
Every node is reached under one role only (leaves alternate base-model and
training-data, the rest are base-model), so the verifier checks each node
once. Structure and digests come from a seeded RNG; ECDSA signatures are
randomized as usual.

Each node gets exactly the three bundles `mlprov attest` writes for a build
(src/commands/attest.rs): the SLSA v1 provenance (pretty JSON, as
`provenance.json`), the SPDX 3.0.1 SBOM wrapped in a statement (compact), and
the scan statement (pretty, as `scan.json`), each a Sigstore bundle v0.3 with
a DSSE envelope, key hint and keyid = hex SHA-256 of the public key PEM
(src/sign/bundle.rs). Subjects are the artifact digest and two output files;
bundles are filed under the artifact digest only (what verify looks up; the
real attest also files them under each output file's digest). "Artifact
digests" are random 32 bytes: the root is verified by digest, without bytes.
Dependencies on leaf base models use pinned `hf://org/name@<commit>` URIs,
the others `file:inputs/<name>/`. No `training-code` git dependency is
written, so the verified graph has exactly N nodes.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
SLSA = "https://slsa.dev/provenance/v1"
SPDX3 = "https://spdx.dev/Document/v3"
SCAN = "https://mlprov.dev/scan/v1"
BUILD_TYPE = "https://mlprov.dev/build/training/v1"
BUILDER = "https://mlprov.dev/builder/local"
SLUGS = {SLSA: "slsa.dev-provenance-v1", SPDX3: "spdx.dev-document-v3", SCAN: "mlprov.dev-scan-v1"}
OMS_COMMENT = ("OpenSSF Model Signing v1.0 root digest: SHA-256 over the SHA-256 digests "
               "of the files, in path order")
SPDX_NS = "https://mlprov.dev/spdx/"
CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
TIME = "2026-01-01T00:00:00Z"
MAX_NODES_PER_LEVEL_RATIO = 3  # every node names at most 3 inputs


def mlprov_version():
    cargo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Cargo.toml")
    try:
        with open(cargo) as f:
            for line in f:
                if line.startswith("version"):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "0.1.0"


def pretty(v):
    """serde_json::to_vec_pretty plus a newline (what build writes)."""
    return (json.dumps(v, indent=2, ensure_ascii=False) + "\n").encode()


def compact(v):
    """serde_json::to_vec."""
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode()


def pae(payload):
    t = PAYLOAD_TYPE.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


class Signer:
    def __init__(self, seed):
        scalar = int.from_bytes(hashlib.sha256(b"mlprov-bench-graph-key:%d" % seed).digest(), "big")
        n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
        self.key = ec.derive_private_key(scalar % (n - 1) + 1, ec.SECP256R1())
        self.pub_pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.key_pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        self.hint = hashlib.sha256(self.pub_pem).hexdigest()

    def bundle(self, payload):
        """A Sigstore bundle v0.3 exactly as src/sign/bundle.rs writes it."""
        sig = self.key.sign(pae(payload), ec.ECDSA(hashes.SHA256()))
        return pretty({
            "mediaType": MEDIA_TYPE,
            "verificationMaterial": {"publicKey": {"hint": self.hint}, "tlogEntries": []},
            "dsseEnvelope": {
                "payload": base64.b64encode(payload).decode(),
                "payloadType": PAYLOAD_TYPE,
                "signatures": [{"sig": base64.b64encode(sig).decode(), "keyid": self.hint}],
            },
        })


def level_sizes(n, levels):
    """Sizes from the root (index 0) to the leaves, summing to n."""
    lo, hi = 1.0, float(MAX_NODES_PER_LEVEL_RATIO)
    for _ in range(100):
        r = (lo + hi) / 2
        if sum(r ** i for i in range(levels)) < n:
            lo = r
        else:
            hi = r
    sizes = [max(1, round(hi ** i)) for i in range(levels)]
    sizes[0] = 1
    sizes[-1] += n - sum(sizes)
    for i in range(1, levels):
        if not 1 <= sizes[i] <= MAX_NODES_PER_LEVEL_RATIO * sizes[i - 1]:
            raise SystemExit(f"cannot lay out {n} nodes in {levels} levels "
                             f"(sizes {sizes}); use {levels + 2}..{(3 ** levels - 1) // 2} nodes")
    if sizes[-1] < 3:
        raise SystemExit(f"too few nodes ({n}) for {levels} levels")
    return sizes


class Node:
    __slots__ = ("i", "level", "role", "kind", "name", "key", "digest", "files", "deps",
                 "commit", "license", "invocation", "size")


def make_graph(n, levels, rng):
    sizes = level_sizes(n, levels)
    by_dist = []
    nodes = []
    for dist, size in enumerate(sizes):
        row = []
        for _ in range(size):
            nd = Node()
            nd.i = len(nodes)
            nd.level = levels - 1 - dist
            leaf = nd.level == 0
            if leaf and nd.i % 2:
                nd.role, nd.kind = "training-data", "dataset"
            else:
                nd.role, nd.kind = "base-model", "model"
            stem = "data" if nd.kind == "dataset" else "model"
            nd.key = f"{stem}-{nd.i:05d}"
            nd.name = f"bench/{nd.key}" if dist else "bench/root-model"
            nd.digest = rng.randbytes(32).hex()
            if nd.kind == "dataset":
                nd.files = [("test.jsonl", rng.randbytes(32).hex(), 4096 + rng.randrange(4096), "jsonl"),
                            ("train.jsonl", rng.randbytes(32).hex(), 65536 + rng.randrange(65536), "jsonl")]
                nd.license = "CC0-1.0"
            else:
                nd.files = [("config.json", rng.randbytes(32).hex(), 200 + rng.randrange(800), "json"),
                            ("model.safetensors", rng.randbytes(32).hex(), (1 << 20) + rng.randrange(1 << 20), "safetensors")]
                nd.license = rng.choice(["Apache-2.0", "MIT"])
            nd.size = sum(f[2] for f in nd.files)
            nd.commit = rng.randbytes(20).hex()
            nd.invocation = "%08x-%04x-%04x-%04x-%012x" % (
                rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(16),
                rng.getrandbits(16), rng.getrandbits(48))
            nd.deps = []
            row.append(nd)
            nodes.append(nd)
        by_dist.append(row)

    edges = 0
    for dist in range(levels - 1):
        parents, below = by_dist[dist], by_dist[dist + 1]
        deeper = [x for row in by_dist[dist + 1:] for x in row]
        ks = [rng.choice((2, 3)) for _ in parents]
        twos = [j for j, k in enumerate(ks) if k == 2]
        rng.shuffle(twos)
        while sum(ks) < len(below):
            ks[twos.pop()] = 3
        slots = [j for j, k in enumerate(ks) for _ in range(k)]
        rng.shuffle(slots)
        # Every node of the level below gets a parent here.
        for child, j in zip(below, slots):
            parents[j].deps.append(child)
        # The other slots: shared inputs, half from the next level, half from any lower one.
        for j in slots[len(below):]:
            p = parents[j]
            while True:
                c = rng.choice(below) if rng.random() < 0.5 else rng.choice(deeper)
                if c not in p.deps:
                    p.deps.append(c)
                    break
        for p in parents:
            p.deps.sort(key=lambda d: d.key)
            edges += len(p.deps)
    return nodes, sizes, edges


def dep_source(d):
    """(lock source, uri, display name) of a dependency, as the lock records it."""
    if d.level == 0 and d.role == "base-model":
        repo = f"bench-org/{d.key}"
        return f"hf:{repo}", f"hf://{repo}@{d.commit}", repo
    return f"path:inputs/{d.key}/", f"file:inputs/{d.key}/", f"inputs/{d.key}"


def subjects(nd):
    out = [{"name": nd.name, "digest": {"sha256": nd.digest}}]
    out += [{"name": p, "digest": {"sha256": h}} for p, h, _, _ in nd.files]
    return out


def argv(nd):
    return ["python", "train.py", "--out", "out", "--seed", str(nd.i)]


def shell_words(a):
    return " ".join(a)


def summary(nd):
    s = (f"Trained by `{shell_words(argv(nd))}`, which exited 0; started {TIME}, finished "
         f"{TIME} (run record recorded by mlprov).")
    groups = {"base-model": [], "training-data": []}
    for d in nd.deps:
        _, uri, _ = dep_source(d)
        groups[d.role].append(f"{d.key} ({uri}, sha256:{d.digest})")
    if groups["base-model"]:
        s += " Base model: " + ", ".join(groups["base-model"]) + "."
    if groups["training-data"]:
        s += " Training data: " + ", ".join(groups["training-data"]) + "."
    return s


def provenance(nd, rng, version):
    deps = []
    for d in nd.deps:
        _, uri, _ = dep_source(d)
        deps.append({"name": d.key, "uri": uri, "digest": {"sha256": d.digest},
                     "annotations": {"role": d.role}})
    build = {
        "buildType": BUILD_TYPE,
        "externalParameters": {
            "artifact": {"name": nd.name, "version": "1.0.0", "kind": nd.kind, "path": "out"},
            "manifest": {"path": "mlprov.toml", "digest": {"sha256": rng.randbytes(32).hex()}},
            "lock": {"path": "mlprov.lock", "digest": {"sha256": rng.randbytes(32).hex()}},
            "argv": argv(nd),
        },
        "internalParameters": {"runRecord": "recorded", "exitStatus": 0},
    }
    if deps:
        build["resolvedDependencies"] = deps
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects(nd),
        "predicateType": SLSA,
        "predicate": {
            "buildDefinition": build,
            "runDetails": {
                "builder": {"id": BUILDER, "version": {"mlprov": version}},
                "metadata": {"invocationId": nd.invocation, "startedOn": TIME, "finishedOn": TIME},
                "byproducts": [{"name": "run.json", "digest": {"sha256": rng.randbytes(32).hex()},
                                "mediaType": "application/json"}],
            },
        },
    }


def scan(nd, version):
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects(nd),
        "predicateType": SCAN,
        "predicate": {
            "scanner": {"name": "mlprov-scan", "version": f"{version}+scan.1"},
            "policy": {"deny": [], "allow": []},
            "verdict": "pass",
            "summary": {"files": len(nd.files), "findings": 0, "failing": 0, "warnings": 0, "allowed": 0},
            "files": [{"path": p, "digest": {"sha256": h}, "size": size, "format": fmt}
                      for p, h, size, fmt in nd.files],
        },
    }


def spdx(nd, version):
    """The SPDX 3.0.1 document src/sbom/spdx3.rs writes for such a build."""
    ns = f"{SPDX_NS}{nd.digest}/{nd.invocation}/"
    elements, ids, licenses = [], [], {}
    rels = [0]

    def push(ty, sid, fields):
        e = {"type": ty, "spdxId": sid, "creationInfo": "_:creationinfo"}
        e.update(fields)
        elements.append(e)
        ids.append(sid)

    def relationship(frm, ty, to, extra=None):
        rels[0] += 1
        f = {"from": frm, "relationshipType": ty, "to": to}
        f.update(extra or {})
        push("Relationship", f"{ns}relationship/{rels[0]}", f)

    def license(expr):
        if expr not in licenses:
            sid = f"{ns}license/{len(licenses) + 1}"
            push("simplelicensing_LicenseExpression", sid, {"simplelicensing_licenseExpression": expr})
            licenses[expr] = sid
        return licenses[expr]

    def hash_(h, comment=None):
        v = {"type": "Hash", "algorithm": "sha256", "hashValue": h}
        if comment:
            v["comment"] = comment
        return v

    agent, tool = f"{ns}agent/mlprov", f"{ns}tool/mlprov"
    push("SoftwareAgent", agent, {"name": "mlprov"})
    push("Tool", tool, {"name": f"mlprov {version}"})
    data_license = license("CC0-1.0")
    root = f"{ns}artifact"
    fields = {"name": nd.name, "verifiedUsing": [hash_(nd.digest, OMS_COMMENT)],
              "builtTime": TIME, "software_packageVersion": "1.0.0"}
    if nd.kind == "dataset":
        fields.update({"software_primaryPurpose": "data", "dataset_datasetType": ["noAssertion"],
                       "dataset_datasetSize": nd.size, "dataset_dataCollectionProcess": summary(nd)})
        push("dataset_DatasetPackage", root, fields)
    else:
        fields.update({"software_primaryPurpose": "model", "ai_informationAboutTraining": summary(nd)})
        push("ai_AIPackage", root, fields)
    relationship(root, "hasDeclaredLicense", [license(nd.license)])
    file_ids = []
    for p, h, _, fmt in nd.files:
        sid = f"{ns}file/{p}"
        purpose = "data" if nd.kind == "dataset" else {"json": "configuration"}.get(fmt, "model")
        push("software_File", sid, {"name": p, "comment": f"format: {fmt}", "verifiedUsing": [hash_(h)],
                                    "software_primaryPurpose": purpose, "software_fileKind": "file"})
        file_ids.append(sid)
    by_rel = {}
    for d in nd.deps:
        source, uri, display = dep_source(d)
        sid = f"{ns}input/{d.key}"
        f = {"name": display, "comment": f"mlprov input `{d.key}` (role {d.role}), {uri}",
             "verifiedUsing": [hash_(d.digest, OMS_COMMENT)]}
        if source.startswith("hf:"):
            repo = source[3:]
            f["software_packageVersion"] = d.commit
            f["software_downloadLocation"] = f"https://huggingface.co/{repo}/tree/{d.commit}"
            f["software_packageUrl"] = f"pkg:huggingface/{repo}@{d.commit}"
        if d.role == "training-data":
            f.update({"software_primaryPurpose": "data", "dataset_datasetType": ["noAssertion"],
                      "dataset_datasetSize": d.size})
            push("dataset_DatasetPackage", sid, f)
        else:
            f["software_primaryPurpose"] = "model"
            push("ai_AIPackage", sid, f)
        relationship(sid, "hasDeclaredLicense", [license(d.license)])
        rel = "trainedOn" if d.role == "training-data" else "descendantOf"
        by_rel.setdefault(rel, []).append(sid)
    relationship(root, "contains", file_ids, {"completeness": "complete"})
    for ty in ("descendantOf", "trainedOn"):
        if ty in by_rel:
            relationship(root, ty, by_rel[ty])
    doc = {"type": "SpdxDocument", "spdxId": f"{ns}document", "creationInfo": "_:creationinfo",
           "name": f"SBOM for {nd.name} 1.0.0",
           "profileConformance": ["core", "software", "simpleLicensing", "ai", "dataset"],
           "dataLicense": data_license, "rootElement": [root], "element": ids}
    creation = {"type": "CreationInfo", "@id": "_:creationinfo", "specVersion": "3.0.1",
                "created": TIME, "createdBy": [agent], "createdUsing": [tool]}
    sbom = {"@context": CONTEXT, "@graph": [creation, doc] + elements}
    return {"_type": STATEMENT_TYPE, "subject": subjects(nd), "predicateType": SPDX3, "predicate": sbom}


POLICY = """# Generated by scripts/gen-graph.py: every node needs provenance, SBOM and scan
# attestations signed by keys/bench.pub.
[policy]
licenses.allow = ["Apache-2.0", "MIT", "CC0-1.0"]
require-pinned-revisions = true
builders.allow = ["{builder}"]

[policy.artifact]
require = [{req}]
signers = ["keys/bench.pub"]

[policy.roles.base-model]
require = [{req}]
signers = ["keys/bench.pub"]

[policy.roles.training-data]
require = [{req}]
signers = ["keys/bench.pub"]
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="number of artifact nodes")
    ap.add_argument("out", help="output directory (must not exist or be empty)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--levels", type=int, default=10)
    a = ap.parse_args()
    if os.path.exists(a.out) and os.listdir(a.out):
        raise SystemExit(f"{a.out} exists and is not empty")
    rng = random.Random(a.seed)
    version = mlprov_version()
    nodes, sizes, edges = make_graph(a.n, a.levels, rng)
    signer = Signer(a.seed)

    keys = os.path.join(a.out, "keys")
    os.makedirs(keys, exist_ok=True)
    with open(os.path.join(keys, "bench.pub"), "wb") as f:
        f.write(signer.pub_pem)
    fd = os.open(os.path.join(keys, "bench.key"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(signer.key_pem)
    req = ", ".join(f'"{t}"' for t in (SLSA, SPDX3, SCAN))
    with open(os.path.join(a.out, "policy.toml"), "w") as f:
        f.write(POLICY.format(builder=BUILDER, req=req))

    store = os.path.join(a.out, "home", "store", "sha256")
    nbytes = 0
    for nd in nodes:
        d = os.path.join(store, nd.digest)
        os.makedirs(d)
        for ptype, payload in ((SLSA, pretty(provenance(nd, rng, version))),
                               (SPDX3, compact(spdx(nd, version))),
                               (SCAN, pretty(scan(nd, version)))):
            b = signer.bundle(payload)
            name = f"{SLUGS[ptype]}-{hashlib.sha256(b).hexdigest()}.sigstore.json"
            with open(os.path.join(d, name), "wb") as f:
                f.write(b)
            nbytes += len(b)

    root = nodes[0]
    info = {"root": "sha256:" + root.digest, "nodes": len(nodes), "edges": edges,
            "bundles": 3 * len(nodes), "bundleBytes": nbytes, "levels": sizes, "seed": a.seed,
            "home": os.path.abspath(os.path.join(a.out, "home")),
            "policy": os.path.abspath(os.path.join(a.out, "policy.toml"))}
    with open(os.path.join(a.out, "graph.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    print(f"{len(nodes)} nodes, {edges} edges, levels {sizes}, {3 * len(nodes)} bundles "
          f"({nbytes / 1e6:.1f} MB) in {a.out}", file=sys.stderr)
    print(info["root"])


if __name__ == "__main__":
    main()
