#!/usr/bin/env python3
"""Load scan-corpus files with the real loaders and report which ones run their payload.

    python3 scripts/loader-oracle.py [--corpus DIR] [REL_PATH...]

Every malicious payload in tests/fixtures/scan runs `echo mlprov-corpus` (through
os.system, os.popen or similar), so a loader "runs the payload" when that line appears
on the standard output of the process that loaded the file. Each file is loaded in a
one subprocess of this interpreter per loader with the loader its format calls for:

  .npy / .npz                 numpy.load(allow_pickle=True) (every array of an .npz)
  compressed/*                joblib.load (two gzip members: pickle.load(gzip.open(...)))
  torch zips and tar files    torch.load(weights_only=False)
  GGUF chat templates         jinja2.Environment().from_string(template).render(...)
  .keras / config.json        keras.saving.load_model(safe_mode=False) (KERAS_BACKEND=numpy)

Prints one JSON object: {rel_path: {"loader": ..., "ran": bool, "error": str|null}};
"loader": null when the loader is not installed ("missing": its name). Files with no
loader here are left out. Standard library only; the loaders come from the interpreter
that runs it.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MARK = "mlprov-corpus"

LOADERS = {
    "numpy": ("numpy", """
import sys, numpy as np
x = np.load(sys.argv[1], allow_pickle=True)
if hasattr(x, "files"):
    for k in x.files:
        x[k]
"""),
    "gzip-pickle": ("gzip", """
import gzip, pickle, sys
pickle.load(gzip.open(sys.argv[1]))
"""),
    "joblib": ("joblib", """
import sys, joblib
joblib.load(sys.argv[1])
"""),
    "torch": ("torch", """
import sys, torch
torch.load(sys.argv[1], weights_only=False)
"""),
    "jinja2": ("jinja2", """
import struct, sys, jinja2
# Read tokenizer.chat_template out of the GGUF header (v3, string values only
# need to be found; other values are skipped by their sizes).
data = open(sys.argv[1], "rb").read()
sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
pos = 24
n_kv = struct.unpack_from("<Q", data, 16)[0]
def s(p):
    n = struct.unpack_from("<Q", data, p)[0]
    return data[p + 8:p + 8 + n].decode("utf-8", "replace"), p + 8 + n
template = None
for _ in range(n_kv):
    key, pos = s(pos)
    t = struct.unpack_from("<I", data, pos)[0]
    pos += 4
    if t == 8:
        v, pos = s(pos)
        if key == "tokenizer.chat_template":
            template = v
    elif t == 9:
        et, n = struct.unpack_from("<IQ", data, pos)
        pos += 12
        for _ in range(n):
            if et == 8:
                _, pos = s(pos)
            else:
                pos += sizes[et]
    else:
        pos += sizes[t]
env = jinja2.Environment()
out = env.from_string(template).render(
    messages=[{"role": "user", "content": "hi"}], bos_token="<s>", eos_token="</s>",
    add_generation_prompt=True)
print(out)
"""),
    "keras": ("keras", """
import os, sys
os.environ.setdefault("KERAS_BACKEND", "numpy")
import keras
keras.saving.load_model(sys.argv[1], safe_mode=False)
"""),
}


def loader_for(rel):
    name = os.path.basename(rel)
    if rel.endswith((".npy", ".npz")):
        return "numpy"
    if name == "two-members.gz":
        return "gzip-pickle"
    if "/compressed/" in rel and not name.endswith(".pt.gz"):
        return "joblib"
    if rel.endswith(".gguf") and ("chat-template" in name or name.startswith("template-") or "/templates/" in rel):
        return "jinja2"
    if "torch-tar/" in rel or name in ("legacy-tar.pt", "state-dict-upper-case.pt") \
            or name.startswith(("torch-zip-upper", "torch-zip-crafted")):
        return "torch"
    return None


RUNNER = """
import os, sys, traceback
paths = sys.argv[1:]
for p in paths:
    sys.stdout.write("\\n@@mlprov-oracle-begin %s\\n" % p)
    sys.stdout.flush()
    try:
        load(p)
        err = ""
    except BaseException as e:
        err = ("%s: %s" % (type(e).__name__, e)).replace("\\n", " ")[:300]
    sys.stdout.flush()
    os.write(1, ("\\n@@mlprov-oracle-end %s\\n" % err).encode())
"""


def run_loader(kind, files, corpus):
    """Load `files` in one subprocess; returns {rel: (ran, error)}."""
    module, code = LOADERS[kind]
    body = "def load(path):\n" + "\n".join("    " + line.replace("sys.argv[1]", "path")
                                          for line in code.strip().splitlines())
    env = dict(os.environ, KERAS_BACKEND="numpy", PYTHONWARNINGS="ignore")
    try:
        p = subprocess.run([sys.executable, "-c", body + "\n" + RUNNER] + [os.path.join(corpus, f) for f in files],
                           capture_output=True, text=True, timeout=600, env=env)
        out = p.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
    result = {}
    for rel in files:
        path = os.path.join(corpus, rel)
        begin = out.find("@@mlprov-oracle-begin %s\n" % path)
        end = out.find("@@mlprov-oracle-end", begin)
        if begin < 0 or end < 0:
            result[rel] = (False, "the loader process died")
            continue
        chunk = out[begin:end]
        err = out[end + len("@@mlprov-oracle-end "):].split("\n", 1)[0].strip()
        result[rel] = (MARK in chunk.split("\n", 1)[1], err or None)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(ROOT, "tests", "fixtures", "scan"))
    ap.add_argument("paths", nargs="*")
    args = ap.parse_args()
    paths = args.paths or sorted(json.load(open(os.path.join(args.corpus, "expected.json"))))
    groups = {}
    for rel in paths:
        kind = loader_for(rel)
        if kind is not None:
            groups.setdefault(kind, []).append(rel)
    out = {}
    for kind, files in sorted(groups.items()):
        module = LOADERS[kind][0]
        if importlib.util.find_spec(module) is None:
            for rel in files:
                out[rel] = {"loader": None, "missing": module, "ran": False, "error": None}
            continue
        for rel, (ran, err) in run_loader(kind, files, args.corpus).items():
            out[rel] = {"loader": kind, "ran": ran, "error": err}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
