#!/usr/bin/env bash
# Benchmark `mlprov scan` against picklescan, in the same run:
#   1. the scan corpus (tests/fixtures/scan),
#   2. a generated 1 GiB torch-style zip checkpoint (128 storages of 8 MiB),
# printing the median wall time of each and the ratio; then
#   3. a generated 3 GiB safetensors tree (sparse files), showing the bytes
#      mlprov actually reads (only the headers).
#
# Usage: scripts/bench-scan.sh [RUNS]   (default 7)
# Env:   MLPROV_VALIDATORS (picklescan's venv bin, default target/validators/bin)
#        BENCH_DIR (where the big files go, default target/bench)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS="${1:-7}"
VAL="${MLPROV_VALIDATORS:-$ROOT/target/validators/bin}"
BENCH="${BENCH_DIR:-$ROOT/target/bench}"
MLPROV="$ROOT/target/release/mlprov"
mkdir -p "$BENCH"

(cd "$ROOT" && cargo build --release --quiet)
[ -x "$VAL/picklescan" ] || { echo "picklescan not found in $VAL" >&2; exit 2; }

# --- inputs -------------------------------------------------------------------
CKPT="$BENCH/checkpoint-1GiB.pt"
if [ ! -f "$CKPT" ]; then
  python3 - "$CKPT" "$ROOT/scripts/gen-scan-corpus.py" <<'EOF'
import collections, importlib.util, sys, zipfile
out, gen = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("gen", gen)
g = importlib.util.module_from_spec(spec)
spec.loader.exec_module(g)
n, size = 128, 8 * 1024 * 1024          # 128 storages x 8 MiB = 1 GiB
sd = collections.OrderedDict(
    (f"layers.{i}.weight", g.Tensor(str(i), [0.0] * (size // 4), [size // 4])) for i in range(n))
pkl = g.torch_pickle(sd)
chunk = bytes(range(256)) * 4096       # 1 MiB, not all zeros
with zipfile.ZipFile(out + ".tmp", "w", zipfile.ZIP_STORED) as z:
    z.writestr(zipfile.ZipInfo("archive/data.pkl", g.ZIP_DATE), pkl)
    z.writestr(zipfile.ZipInfo("archive/version", g.ZIP_DATE), b"3\n")
    for i in range(n):
        with z.open(zipfile.ZipInfo(f"archive/data/{i}", g.ZIP_DATE), "w", force_zip64=True) as f:
            for _ in range(size // len(chunk)):
                f.write(chunk)
import os
os.replace(out + ".tmp", out)
EOF
fi

TREE="$BENCH/safetensors-3GiB"
if [ ! -d "$TREE" ]; then
  python3 - "$TREE" <<'EOF'
import json, os, struct, sys
d = sys.argv[1]
os.makedirs(d + ".tmp", exist_ok=True)
per_file, files = 1 << 30, 3                  # 3 x 1 GiB, 64 tensors each
for k in range(files):
    n = 64
    each = per_file // n
    header = {"__metadata__": {"format": "pt"}}
    for i in range(n):
        header[f"model.layers.{k}.{i}.weight"] = {
            "dtype": "F32", "shape": [each // 4], "data_offsets": [i * each, (i + 1) * each]}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    with open(os.path.join(d + ".tmp", f"model-{k + 1:05d}-of-{files:05d}.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        f.truncate(8 + len(h) + n * each)      # sparse: the data is never read
with open(os.path.join(d + ".tmp", "config.json"), "w") as f:
    json.dump({"model_type": "llama", "hidden_size": 4096}, f)
os.replace(d + ".tmp", d)
EOF
fi

# --- timing ---------------------------------------------------------------------
median() { python3 -c 'import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
time_runs() {  # time_runs CMD... -> median seconds over $RUNS runs (after one warm-up)
  "$@" >/dev/null 2>&1 || true
  local t=()
  for _ in $(seq "$RUNS"); do
    local s e
    s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
    t+=("$(python3 -c "print(($e-$s)/1e9)")")
  done
  median "${t[@]}"
}

report() {  # report LABEL MLPROV_SECONDS PEER_SECONDS
  python3 -c "
import sys
label, m, p = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
print(f'{label:<28} mlprov {m*1000:9.1f} ms   picklescan {p*1000:9.1f} ms   ratio {p/m:7.1f}x')" "$@"
}

echo "median of $RUNS runs each (warm cache), $(nproc) cores"
m=$(time_runs "$MLPROV" scan "$ROOT/tests/fixtures/scan")
p=$(time_runs "$VAL/picklescan" -p "$ROOT/tests/fixtures/scan")
report "corpus ($(find "$ROOT/tests/fixtures/scan" -type f | wc -l) files)" "$m" "$p"
m=$(time_runs "$MLPROV" scan "$CKPT")
p=$(time_runs "$VAL/picklescan" -p "$CKPT")
report "1 GiB torch zip checkpoint" "$m" "$p"

# --- bytes read on a big safetensors tree ------------------------------------------
size=$(du -b --apparent-size -s "$TREE" | cut -f1)
read=$("$MLPROV" scan --format json "$TREE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytesRead"])')
python3 -c "
size, read = $size, $read
print(f'safetensors tree: {size/2**30:.2f} GiB on disk (apparent), mlprov read {read} bytes ({read/size*100:.5f}% of it)')"
