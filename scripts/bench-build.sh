#!/usr/bin/env bash
# Benchmarks of `mlprov build` (release build):
#  1. an unchanged 3 GiB output tree: cold hash cache vs warm (target: warm
#     <= 2 % of cold);
#  2. a 10,000-file output tree on one core (taskset -c 0): hashing with a
#     warm cache, format detection and writing every document (target < 2 s).
# Generated trees live in a temporary directory that is removed at the end.
#   scripts/bench-build.sh [--size-gib N] [--files N] [--runs N]
set -euo pipefail

size_gib=3
nfiles=10000
runs=3
while [ $# -gt 0 ]; do
    case "$1" in
        --size-gib) size_gib="$2"; shift 2 ;;
        --files) nfiles="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        *) echo "usage: $0 [--size-gib N] [--files N] [--runs N]" >&2; exit 2 ;;
    esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/mlprov"
work="$(mktemp -d "${TMPDIR:-/tmp}/mlprov-bench-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export MLPROV_CACHE_DIR="$work/cache" MLPROV_HOME="$work/home" HF_HOME="$work/hf" NO_COLOR=1
unset SOURCE_DATE_EPOCH MLPROV_OFFLINE

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

project() { # DIR: a packaging-only project in a clean git repository; outputs in DIR/out
    mkdir -p "$1/out"
    printf 'out/\ntarget/\n' > "$1/.gitignore"
    cat > "$1/mlprov.toml" <<TOML
[artifact]
name = "bench/model"
version = "1.0.0"
kind = "model"
path = "out/"
license = "Apache-2.0"
TOML
    git -C "$1" init -q
    git -C "$1" add -A
    git -C "$1" -c user.name=bench -c user.email=bench@example.invalid commit -qm bench
}

timed_build() { # DIR [PREFIX…]: seconds of one `mlprov build`
    local dir="$1"; shift
    local t0 t1
    t0=$(now)
    "$@" "$bin" -q -C "$dir" build >/dev/null
    t1=$(now)
    elapsed "$t0" "$t1"
}

echo "== 1. unchanged ${size_gib} GiB output tree: cold vs warm hash cache"
big="$work/big"
project "$big"
parts=$((size_gib * 4))
for i in $(seq 1 "$parts"); do
    head -c $((256 << 20)) /dev/urandom > "$big/out/model-$(printf %05d "$i")-of-$(printf %05d "$parts").safetensors"
done
sync
sleep 3   # older than the hash cache's racy-clean window
cat "$big"/out/* > /dev/null   # page cache warm for both cases: only the hash cache differs
cold=()
warm=()
for _ in $(seq 1 "$runs"); do
    rm -rf "$MLPROV_CACHE_DIR"
    cold+=("$(timed_build "$big")")
    warm+=("$(timed_build "$big")")
done
cold_m=$(printf '%s\n' "${cold[@]}" | median)
warm_m=$(printf '%s\n' "${warm[@]}" | median)
pct=$(echo "100 * $warm_m / $cold_m" | bc -l)
printf 'cold: %s s (runs: %s)\n' "$cold_m" "${cold[*]}"
printf 'warm: %s s (runs: %s)\n' "$warm_m" "${warm[*]}"
printf 'warm/cold: %.2f %% (target <= 2 %%)\n' "$pct"
rm -rf "$big"

echo "== 2. ${nfiles}-file output tree on one core"
many="$work/many"
project "$many"
python3 - "$many/out" "$nfiles" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"shard-{i // 100:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"part-{i:05d}.json"), "w") as f:
        f.write('{"i": %d, "pad": "%s"}\n' % (i, "x" * (i % 500)))
PY
sleep 3
rm -rf "$MLPROV_CACHE_DIR"
first=$(timed_build "$many" taskset -c 0)
docs=()
for _ in $(seq 1 "$runs"); do
    docs+=("$(timed_build "$many" taskset -c 0)")
done
docs_m=$(printf '%s\n' "${docs[@]}" | median)
printf 'first build (cold cache): %s s\n' "$first"
printf 'build with warm cache, one core: %s s (runs: %s; target < 2 s)\n' "$docs_m" "${docs[*]}"
ls -l "$many/target/mlprov" | awk 'NR>1 {printf "  %s %s bytes\n", $9, $5}'
