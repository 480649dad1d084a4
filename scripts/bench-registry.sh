#!/usr/bin/env bash
# Registry benchmark (issue 6). Against a local docker-registry (distribution
# 2.8, filesystem storage), in one run, on the 3 GiB model tree:
#   mlprov push, first push to a new repository, hash cache cold  vs  oras (Python SDK) push of the same files
#   mlprov push again, unchanged tree                                (target <= 1 s)
#   mlprov push to a second repository (blob-location cache: mounts)  (target <= 1 s)
#   mlprov pull --no-verify                                           vs  oras pull,
#       vs the hashing bound (target <= 1.5 x): the machine's SHA-256 speed
#       (openssl speed, one core) over the tree on every core, and, measured,
#       sha256sum of every file, all cores at once;
#       and, with BASELINE=path/to/an/older/mlprov, vs that binary   (target >= 2 x faster;
#       the two pulls alternate, each after `sync`, so noise hits both alike);
#       into the bench directory, and into /dev/shm where it has room (the
#       tool's speed without the disk's)
#   the CPU seconds of a pull: mlprov's and the registry's (on the same cores)
#   peak RSS of mlprov push and pull                                  (target <= 64 MiB)
# Prints medians and ratios. Deletes the tree and the registry storage
# afterwards (KEEP=1 keeps the tree).
#   scripts/bench-registry.sh            (RUNS=3 by default)
#   BASELINE=target/baseline/mlprov scripts/bench-registry.sh
RUNS="${RUNS:-3}"
source "$(dirname "$0")/bench-common.sh"

command -v docker-registry >/dev/null || { echo "docker-registry is not installed (apt-get install docker-registry)" >&2; exit 2; }
build_release
ensure_validators
make_model_tree "$BENCH/model"

store="$BENCH/registry-storage"
rm -rf "$store" "$store.yml"
cleanup() {
  stop_registry
  rm -rf "$store" "$store.yml" "$BENCH/pulled" "$BENCH/oras-pulled" "$BENCH/registry-project" "$BENCH/registry-cache" /dev/shm/mlprov-bench-pulled
  [ "${KEEP:-0}" = 1 ] || rm -rf "$BENCH/model"
}
trap cleanup EXIT
start_registry "$store"

proj="$BENCH/registry-project"
rm -rf "$proj"; mkdir -p "$proj/out"
for f in "$BENCH"/model/*; do ln "$f" "$proj/out/" 2>/dev/null || cp "$f" "$proj/out/"; done
cat > "$proj/mlprov.toml" <<'TOML'
[artifact]
name = "bench/model"
version = "0.1.0"
kind = "model"
path = "out/"
TOML
export MLPROV_CACHE_DIR="$BENCH/registry-cache" MLPROV_HOME="$BENCH/home" SOURCE_DATE_EPOCH=1700000000
files=("$proj"/out/*)
warm_page_cache "${files[@]}"

n=0
mlprov_first() { n=$((n + 1)); rm -rf "$MLPROV_CACHE_DIR"; "$MLPROV" -q -C "$proj" push --plain-http "$reg/bench/mlprov-$n:1"; }
o=0
oras_push() {
  o=$((o + 1))
  (cd "$proj/out" && "$VALIDATORS/python" - "$reg/bench/oras-$o:1" <<'PY'
import os, sys, oras.client
files = sorted(f for f in os.listdir(".") if not f.startswith("."))
oras.client.OrasClient(insecure=True).push(target=sys.argv[1], files=files, quiet=True)
PY
  )
}
mlprov_repush() { "$MLPROV" -q -C "$proj" push --plain-http "$reg/bench/mlprov-1:1"; }
k=0
# The cache of the last first push is intact: the blobs are mounted.
mlprov_second() { k=$((k + 1)); "$MLPROV" -q -C "$proj" push --plain-http "$reg/bench/second-$k:1"; }
reg_ticks() { awk '{print $14 + $15}' "/proc/$reg_pid/stat"; }
# timed_pull BIN DIR: one pull into DIR after `sync` (the last run's
# writeback done); prints its wall seconds, its CPU seconds and the registry's.
timed_pull() {
  local f r0 wall user sys
  rm -rf "$2"; sync
  f=$(mktemp); r0=$(reg_ticks)
  /usr/bin/time -f '%e %U %S' -o "$f" "$1" -q pull --plain-http --no-verify "$reg/bench/mlprov-1:1" -o "$2" > /dev/null 2>&1
  read -r wall user sys < "$f"; rm -f "$f"
  python3 -c "print($wall, round($user + $sys, 2), round(($(reg_ticks) - $r0) / $(getconf CLK_TCK), 2))"
}
# Pulls go to disk ($BENCH) and, where /dev/shm has room, to memory too: on a
# shared machine the disk's own speed can hide the tool's.
shm_dir=""
if [ -d /dev/shm ] && [ "$(df -B1 --output=avail /dev/shm | tail -n 1)" -gt $((2 * $(du -sb --apparent-size "$proj/out" | cut -f1))) ]; then
  shm_dir=/dev/shm/mlprov-bench-pulled
fi
# The hashing bound, measured: sha256sum of every file, as many at once as
# there are cores (the largest file is the critical path).
hash_all() { printf '%s\0' "${files[@]}" | xargs -0 -P "$(nproc)" -n 1 sha256sum > /dev/null; }
oras_pull() {
  rm -rf "$BENCH/oras-pulled"
  "$VALIDATORS/python" -c 'import sys, oras.client; oras.client.OrasClient(insecure=True).pull(target=sys.argv[1], outdir=sys.argv[2])' \
    "$reg/bench/oras-1:1" "$BENCH/oras-pulled"
}

first=$(median_of "$RUNS" mlprov_first)
oras=$(median_of "$RUNS" oras_push)
repush=$(median_of "$RUNS" mlprov_repush)
second=$(median_of "$RUNS" mlprov_second)
second_uploaded=$("$MLPROV" -C "$proj" --format json push --plain-http "$reg/bench/second-check:1" 2>/dev/null | python3 -c 'import json,sys; b=json.load(sys.stdin)["blobs"]; print("%d bytes uploaded, %d mounted" % (b["uploadedBytes"], b["mounted"]))')
hash=$(median_of "$RUNS" hash_all)
read -r bound speed _ < <(hash_bound_seconds "$proj/out")
# column K (1: wall, 2: CPU, 3: registry CPU) of the runs, median.
med() { local k="$1"; shift; printf '%s\n' "$@" | python3 -c "import statistics,sys; print(f'{statistics.median(float(l.split()[$k - 1]) for l in sys.stdin):.3f}')"; }
# pulls_into DIR: new and baseline alternating; sets pull, pull_cpu, pull_reg
# and base_pull, base_cpu, base_reg.
pulls_into() {
  local dir="$1" new_runs=() base_runs=()
  for _ in $(seq "$RUNS"); do
    new_runs+=("$(timed_pull "$MLPROV" "$dir")")
    cmp -s "$dir/model-00001-of-00002.safetensors" "$proj/out/model-00001-of-00002.safetensors" || { echo "pulled bytes differ" >&2; exit 1; }
    if [ -n "${BASELINE:-}" ]; then base_runs+=("$(timed_pull "$BASELINE" "$dir")"); fi
  done
  rm -rf "$dir"
  pull=$(med 1 "${new_runs[@]}"); pull_cpu=$(med 2 "${new_runs[@]}"); pull_reg=$(med 3 "${new_runs[@]}")
  if [ -n "${BASELINE:-}" ]; then
    base_pull=$(med 1 "${base_runs[@]}"); base_cpu=$(med 2 "${base_runs[@]}"); base_reg=$(med 3 "${base_runs[@]}")
  fi
}
pulls_into "$BENCH/pulled"
disk=("$pull" "$pull_cpu" "$pull_reg" "${base_pull:-}" "${base_cpu:-}" "${base_reg:-}")
if [ -n "$shm_dir" ]; then
  pulls_into "$shm_dir"
  shm=("$pull" "$pull_cpu" "$pull_reg" "${base_pull:-}" "${base_cpu:-}" "${base_reg:-}")
fi
# The disk is shared: one 3 GiB copy at a time.
rm -rf "$BENCH/pulled"
opull=$(median_of "$RUNS" oras_pull)
rm -rf "$BENCH/oras-pulled"
rm -rf "$MLPROV_CACHE_DIR"
rss_push=$(peak_rss_mib "$MLPROV" -q -C "$proj" push --plain-http "$reg/bench/rss:1")
rm -rf "$BENCH/pulled"
rss_pull=$(peak_rss_mib "$MLPROV" -q pull --plain-http --no-verify "$reg/bench/rss:1" -o "$BENCH/pulled")

total=$(du -sb --apparent-size "$proj/out" | cut -f1)
gib=$(python3 -c "print(f'{$total/2**30:.2f}')")
mibs() { python3 -c "print(f'{$total / 2**20 / float($1):.0f} MiB/s')"; }
echo "tree: $gib GiB in ${#files[@]} files; registry: docker-registry $(docker-registry --version | awk '{print $3}') on $reg; $(nproc) cores"
printf '%-46s %9s  %s\n' "measure (median of $RUNS)" "seconds" "note"
printf '%-46s %9s  %s\n' "mlprov push, first (cold hash cache)" "$first" "$(mibs "$first"); $(ratio "$first" "$oras") x oras (target <= 1.20)"
printf '%-46s %9s  %s\n' "oras push (Python SDK)" "$oras" "$(mibs "$oras")"
printf '%-46s %9s  %s\n' "mlprov push, unchanged tree" "$repush" "(target <= 1 s)"
printf '%-46s %9s  %s\n' "mlprov push, second repository" "$second" "(target <= 1 s); $second_uploaded"
printf '%-46s %9s  %s\n' "hashing bound (SHA-256 at $(python3 -c "print(f'{$speed / 2**20:.0f}')") MiB/s a core)" "$bound" "the largest file on one core, or the tree on $(nproc)"
printf '%-46s %9s  %s\n' "sha256sum of every file, $(nproc) at once" "$hash" "$(mibs "$hash")"
# print_pulls WHERE wall cpu reg base_wall base_cpu base_reg
print_pulls() {
  local where="$1" pull="$2" pull_cpu="$3" pull_reg="$4" base_pull="$5" base_cpu="$6" base_reg="$7"
  printf '%-46s %9s  %s\n' "mlprov pull --no-verify, $where" "$pull" "$(mibs "$pull"); $(ratio "$pull" "$opull") x oras; $(ratio "$pull" "$bound") x the hashing bound (target <= 1.5); $(ratio "$pull" "$hash") x sha256sum"
  printf '%-46s %9s  %s\n' "  CPU seconds: mlprov / the registry" "$pull_cpu" "/ $pull_reg (on the same $(nproc) cores)"
  if [ -n "$base_pull" ]; then
    printf '%-46s %9s  %s\n' "baseline ($(basename "$BASELINE")), $where" "$base_pull" "$(mibs "$base_pull"); new is $(ratio "$base_pull" "$pull") x faster (target >= 2)"
    printf '%-46s %9s  %s\n' "  CPU seconds: baseline / the registry" "$base_cpu" "/ $base_reg"
  fi
}
print_pulls "to disk" "${disk[@]}"
if [ -n "$shm_dir" ]; then print_pulls "to /dev/shm" "${shm[@]}"; fi
printf '%-46s %9s  %s\n' "oras pull (Python SDK)" "$opull" "$(mibs "$opull")"
printf '%-46s %9s  %s\n' "peak RSS mlprov push (MiB)" "$rss_push" "(target <= 64)"
printf '%-46s %9s  %s\n' "peak RSS mlprov pull (MiB)" "$rss_pull" "(target <= 64)"
