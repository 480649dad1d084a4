# Shared helpers for the benchmark scripts (sourced, not run).
# Every benchmark measures mlprov and its peers in the same run and prints
# medians and ratios; absolute times on a shared machine mean little.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="${MLPROV_BENCH_DIR:-$ROOT/target/bench}"
RUNS="${RUNS:-5}"
MLPROV="$ROOT/target/release/mlprov"
VALIDATORS="${MLPROV_VALIDATORS:-$ROOT/target/validators/bin}"

build_release() {
  (cd "$ROOT" && cargo build --release --quiet)
}

# ensure_validators: the venv with model_signing, picklescan, oras …
ensure_validators() {
  if [ ! -x "$VALIDATORS/python" ]; then
    local setup="$ROOT/../shared/tools/setup-validators.sh"
    [ -x "$setup" ] || { echo "validators venv missing and $setup not found" >&2; return 1; }
    VALIDATORS="$("$setup" "$ROOT/target/validators" | tail -n 1)"
  fi
}

# make_model_tree DIR: a 3 GiB model directory (2 GiB + 1 GiB safetensors
# shards with valid headers, plus small config/tokenizer files). Reused if present.
make_model_tree() {
  local dir="$1"
  if [ -f "$dir/.complete" ]; then return; fi
  rm -rf "$dir"; mkdir -p "$dir"
  python3 - "$dir" <<'PY'
import json, os, struct, sys
d = sys.argv[1]
def shard(name, nbytes):
    n = nbytes // 4
    header = json.dumps({"w": {"dtype": "F32", "shape": [n], "data_offsets": [0, n * 4]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(os.path.join(d, name), "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        left = n * 4
        chunk = 64 << 20
        while left:
            k = min(chunk, left)
            f.write(os.urandom(k))
            left -= k
shard("model-00001-of-00002.safetensors", 2 << 30)
shard("model-00002-of-00002.safetensors", 1 << 30)
for i, name in enumerate(["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]):
    with open(os.path.join(d, name), "w") as f:
        json.dump({"file": name, "i": i, "pad": "x" * (1000 * (i + 1))}, f)
with open(os.path.join(d, "README.md"), "w") as f:
    f.write("---\nlicense: apache-2.0\n---\n# bench model\n")
PY
  touch "$dir/.complete"
}

# free_port: a TCP port free on 127.0.0.1 now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_registry STORAGE_DIR: a docker-registry (filesystem storage, no
# access log) on a free 127.0.0.1 port, ready to answer; sets `reg`
# (host:port) and `reg_pid`. The caller's cleanup stops it (stop_registry).
start_registry() {
  local storage="$1"
  mkdir -p "$storage"
  reg="127.0.0.1:$(free_port)"
  cat > "$storage.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $storage
  delete:
    enabled: true
http:
  addr: $reg
YML
  docker-registry serve "$storage.yml" >/dev/null 2>&1 &
  reg_pid=$!
  for _ in $(seq 100); do curl -sf "http://$reg/v2/" >/dev/null && return 0; sleep 0.1; done
  echo "docker-registry did not start on $reg" >&2
  return 1
}

stop_registry() {
  [ -n "${reg_pid:-}" ] || return 0
  kill "$reg_pid" 2>/dev/null || true
  wait "$reg_pid" 2>/dev/null || true
}

# warm_page_cache FILES…
warm_page_cache() { cat "$@" > /dev/null; }

# time_cmd: run "$@" once, print wall seconds.
time_cmd() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.4f}')"
}

# median_of N CMD…: run CMD N times, print the median wall seconds.
median_of() {
  local n="$1"; shift
  local times=()
  for _ in $(seq "$n"); do times+=("$(time_cmd "$@")"); done
  python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.4f}')" "${times[@]}"
}

# peak_rss_mib CMD…: peak resident set size of one run, in MiB.
peak_rss_mib() {
  local f
  f=$(mktemp)
  /usr/bin/time -f '%M' -o "$f" "$@" > /dev/null 2>&1
  python3 -c "print(f'{int(open(\"$f\").read().split()[-1]) / 1024:.1f}')"
  rm -f "$f"
}

# sha256_single_core_bps: single-core SHA-256 bytes/s (openssl, 1 MiB blocks).
sha256_single_core_bps() {
  openssl speed -evp sha256 -bytes 1048576 -seconds 3 2>/dev/null \
    | awk '/^sha256/ {v=$2; sub(/k$/, "", v); printf "%.0f\n", v * 1000}'
}

# hash_bound_seconds DIR: the physical hashing bound for a tree
# max(largest / speed, total / (cores × speed)).
hash_bound_seconds() {
  local dir="$1" speed cores
  speed=$(sha256_single_core_bps)
  cores=$(nproc)
  python3 - "$dir" "$speed" "$cores" <<'PY'
import os, sys
d, speed, cores = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
sizes = [os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs if not f.startswith(".")]
print(f"{max(max(sizes) / speed, sum(sizes) / (cores * speed)):.4f} {speed:.0f} {cores}")
PY
}

ratio() { python3 -c "print(f'{float($1) / float($2):.3f}')"; }
