#!/usr/bin/env python3
"""Cross-check `mlprov scan` against picklescan, modelscan and fickling on the corpus.

    python3 scripts/scan-peers.py [--mlprov PATH] [--validators DIR] [--minilm DIR]

Runs each peer from the validators venv (MLPROV_VALIDATORS, default
target/validators/bin) on every file of tests/fixtures/scan/expected.json, and prints
one row per file, then totals per tool:

  FLAG  the tool reports the file as unsafe (mlprov: a finding that fails the default policy)
  ok    the tool scanned it and reports nothing
  skip  the tool does not handle this format (modelscan exit 3)
  err   the tool failed on the file (exception, parse error) without a verdict

picklescan: exit 1 = FLAG, 0 = ok, 2 = err. modelscan: 1 = FLAG, 0 = ok, 3 = skip,
else err. fickling --check-safety: 0 = ok; 1 with a Python traceback = err, else FLAG;
2 ("cannot parse ... DO NOT TRUST") = err. Python standard library only.
"""

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CORPUS = os.path.join(ROOT, "tests", "fixtures", "scan")


def run(cmd, cwd):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        return -1, "timeout"


def picklescan(bin_dir, path, cwd):
    rc, _ = run([os.path.join(bin_dir, "picklescan"), "-p", path], cwd)
    return {0: "ok", 1: "FLAG"}.get(rc, "err")


def modelscan(bin_dir, path, cwd):
    rc, _ = run([os.path.join(bin_dir, "modelscan"), "-p", path], cwd)
    return {0: "ok", 1: "FLAG", 3: "skip"}.get(rc, "err")


def fickling(bin_dir, path, cwd):
    rc, out = run([os.path.join(bin_dir, "fickling"), "--check-safety", path], cwd)
    if rc == 0:
        return "ok"
    if rc == 1 and "Traceback" not in out:
        return "FLAG"
    return "err"


PEERS = [("picklescan", picklescan), ("modelscan", modelscan), ("fickling", fickling)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlprov", default=None)
    ap.add_argument("--validators", default=os.environ.get(
        "MLPROV_VALIDATORS", os.path.join(ROOT, "target", "validators", "bin")))
    ap.add_argument("--minilm", default=os.environ.get("MLPROV_TEST_MINILM"))
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    mlprov = args.mlprov or next(
        (p for p in (os.path.join(ROOT, "target", d, "mlprov") for d in ("release", "debug")) if os.path.exists(p)),
        None)
    if not mlprov:
        sys.exit("build mlprov first (cargo build --release)")
    expected = json.load(open(os.path.join(CORPUS, "expected.json")))
    rows = [(rel, e["class"], os.path.join(CORPUS, rel)) for rel, e in sorted(expected.items())]
    if args.minilm:
        rows.append(("MiniLM/model.safetensors", "benign", os.path.join(args.minilm, "model.safetensors")))

    # mlprov: one run over every file.
    p = subprocess.run([mlprov, "scan", "--format", "json"] + [r[2] for r in rows],
                       capture_output=True, text=True, cwd=ROOT)
    doc = json.loads(p.stdout)
    verdict = {}
    for f in doc["files"]:
        fails = any(x["outcome"] == "fail" for x in f.get("findings", []))
        verdict[os.path.normpath(os.path.join(ROOT, f["path"]))] = "FLAG" if fails else "ok"

    cwd = tempfile.mkdtemp(prefix="scan-peers-")
    results = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futs = {pool.submit(fn, args.validators, path, cwd): (rel, name)
                for rel, _, path in rows for name, fn in PEERS}
        for fut in concurrent.futures.as_completed(futs):
            results[futs[fut]] = fut.result()

    tools = ["mlprov"] + [n for n, _ in PEERS]
    width = max(len(r[0]) for r in rows)
    print(f"{'file':<{width}}  {'class':<9}  " + "  ".join(f"{t:<10}" for t in tools))
    totals = {t: {"malicious": 0, "benign_fp": 0, "err": 0, "skip": 0} for t in tools}
    counts = {"malicious": 0, "benign": 0, "review": 0}
    for rel, cls, path in rows:
        counts[cls] += 1
        cells = {"mlprov": verdict.get(os.path.normpath(path), "err")}
        cells.update({name: results[(rel, name)] for name, _ in PEERS})
        for t, v in cells.items():
            if cls == "malicious" and v == "FLAG":
                totals[t]["malicious"] += 1
            if cls == "benign" and v == "FLAG":
                totals[t]["benign_fp"] += 1
            if v == "err":
                totals[t]["err"] += 1
            if v == "skip":
                totals[t]["skip"] += 1
        print(f"{rel:<{width}}  {cls:<9}  " + "  ".join(f"{cells[t]:<10}" for t in tools))
    print()
    print(f"{'totals':<12} malicious flagged (of {counts['malicious']})   benign flagged (of {counts['benign']})   errors   skipped")
    for t in tools:
        x = totals[t]
        print(f"{t:<12} {x['malicious']:>26}   {x['benign_fp']:>22}   {x['err']:>6}   {x['skip']:>7}")


if __name__ == "__main__":
    main()
