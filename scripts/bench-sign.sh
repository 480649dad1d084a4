#!/usr/bin/env bash
# Benchmark `mlprov sign` / `mlprov verify` against the reference
# implementation (`model_signing sign key` / `verify key`) on a 3 GiB model
# tree, and against the physical hashing bound measured in the same run.
#
#   scripts/bench-sign.sh [--runs N] [--keep] [--check]
#
# The tree (safetensors-like shards of 2 GiB and 1 GiB plus small files) is
# built in target/bench/tree-3g, or reused if it is already there; it is
# deleted at the end unless --keep is given (the disk is shared).
#
# Bound: single-core SHA-256 speed S from `openssl speed -evp sha256 -bytes
# 1048576`; bound = max(largest file / S, total / (cores × S)): no tool can
# hash the tree faster, since one file's SHA-256 is sequential.
# Targets: each mlprov command ≥ 1.40× faster than model_signing's, and
# within 1.10× of the bound. --check makes a missed target exit 1.
#
# The script also checks interop on the tree: each tool accepts the other's
# signature, and both reject a one-byte change, an added, a removed and a
# renamed file.
#
# Needs: a release build (built here), openssl, and the validators venv
# (MLPROV_VALIDATORS, default target/validators/bin; see
# ../shared/tools/setup-validators.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=7
keep=0
check=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        --check) check=1; shift ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

validators="${MLPROV_VALIDATORS:-$root/target/validators/bin}"
ms="$validators/model_signing"
[ -x "$ms" ] || { echo "model_signing not found at $ms (set MLPROV_VALIDATORS or run ../shared/tools/setup-validators.sh)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl is needed for the hashing bound" >&2; exit 2; }

bench="$root/target/bench"
tree="$bench/tree-3g"
work="$bench/work"
mkdir -p "$bench"
rm -rf "$work"
mkdir -p "$work"
cleanup() {
    rm -rf "$work"
    if [ "$keep" = 0 ]; then rm -rf "$tree" "$tree.complete"; fi
}
trap cleanup EXIT

echo "building mlprov (release)…" >&2
(cd "$root" && cargo build --release --quiet)
mlprov="$root/target/release/mlprov"

GiB=$((1024 * 1024 * 1024))
# Pseudo-random bytes, fast (AES-CTR keystream).
noise() { (openssl enc -aes-128-ctr -nosalt -pass pass:mlprov-bench -in /dev/zero 2>/dev/null || true) | head -c "$1"; }
shard() { # name size: an 8-byte little-endian header length, a JSON header, then data
    local name="$1" size="$2"
    local header='{"__metadata__":{"format":"pt"},"weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    python3 - "$tree/$name" "$header" <<'PY'
import struct, sys
h = sys.argv[2].encode()
h += b" " * (-len(h) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
PY
    local hsize
    hsize=$(stat -c %s "$tree/$name")
    noise $((size - hsize)) >> "$tree/$name"
}
if [ ! -f "$tree.complete" ] || [ ! -d "$tree" ]; then
    echo "building the 3 GiB tree in $tree…" >&2
    rm -rf "$tree" "$tree.complete"
    mkdir -p "$tree/tokenizer"
    shard model-00001-of-00002.safetensors $((2 * GiB))
    shard model-00002-of-00002.safetensors $((1 * GiB))
    printf '{"architectures":["BenchModel"],"hidden_size":4096}\n' > "$tree/config.json"
    printf '{"metadata":{"total_size":3221225472}}\n' > "$tree/model.safetensors.index.json"
    printf '{"max_new_tokens":256}\n' > "$tree/generation_config.json"
    printf '# bench model\n' > "$tree/README.md"
    noise $((2 * 1024 * 1024)) > "$tree/tokenizer/tokenizer.json"
    printf '{"model_max_length":4096}\n' > "$tree/tokenizer/tokenizer_config.json"
    touch "$tree.complete"
fi

files=$(find "$tree" -type f | wc -l)
total=$(find "$tree" -type f -printf '%s\n' | awk '{s+=$1} END {printf "%.0f", s}')
largest=$(find "$tree" -type f -printf '%s\n' | sort -n | tail -1)
cores=$(nproc)
# Every timed run starts with the tree in the page cache, so the tools are
# compared on hashing, not on the disk. (This VM pages out memory that has
# not been touched for a few seconds, so warm it right before each run.)
warm() { find "$tree" -type f -exec cat {} + > /dev/null; }

# One key for both tools: an unencrypted P-256 PKCS#8 key from mlprov keygen.
export MLPROV_HOME="$work/home"
(cd "$work" && "$mlprov" -q keygen --no-password --output-key-prefix bench 2>/dev/null)
key="$work/bench.key"
pub="$work/bench.pub"

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
elapsed() { # command… → seconds on stdout; the command's output is discarded
    local t0 t1
    warm
    t0=$(now)
    "$@" > /dev/null 2>&1 || { echo "FAILED: $*" >&2; "$@" >&2 || true; exit 1; }
    t1=$(now)
    calc "$t1 - $t0"
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
minimum() { sort -g | head -1; }

ml_sig="$work/mlprov.sig"
ms_sig="$work/model_signing.sig"
declare -a t_ml_sign t_ms_sign t_ml_verify t_ms_verify
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "timing $runs rounds (interleaved)…" >&2
for i in $(seq 1 "$runs"); do
    t_ml_sign+=("$(elapsed "$mlprov" -q sign --key "$key" --signature "$ml_sig" "$tree")")
    t_ms_sign+=("$(elapsed "$ms" sign key --private_key "$key" --signature "$ms_sig" "$tree")")
    t_ml_verify+=("$(elapsed "$mlprov" -q verify --key "$pub" --signature "$ml_sig" "$tree")")
    t_ms_verify+=("$(elapsed "$ms" verify key --signature "$ms_sig" --public_key "$pub" "$tree")")
done

# The physical bound, measured now.
speed_k=$(openssl speed -evp sha256 -bytes 1048576 -seconds 3 2>/dev/null | awk '/^sha256/ {print $2}' | tr -d k)
speed=$(calc "$speed_k * 1000")
bound=$(calc "($largest / $speed > $total / ($cores * $speed)) ? $largest / $speed : $total / ($cores * $speed)")

m_ml_sign=$(printf '%s\n' "${t_ml_sign[@]}" | median)
m_ms_sign=$(printf '%s\n' "${t_ms_sign[@]}" | median)
m_ml_verify=$(printf '%s\n' "${t_ml_verify[@]}" | median)
m_ms_verify=$(printf '%s\n' "${t_ms_verify[@]}" | median)

missed=0
row() { # label mlprov model_signing
    local speedup vs_bound ok1 ok2
    speedup=$(calc "$3 / $2")
    vs_bound=$(calc "$2 / $bound")
    ok1=$(calc "($speedup >= 1.40) ? 1 : 0" | cut -d. -f1)
    ok2=$(calc "($vs_bound <= 1.10) ? 1 : 0" | cut -d. -f1)
    [ "$ok1" = 1 ] && [ "$ok2" = 1 ] || missed=1
    printf '%-7s mlprov %6.3f s   model_signing %6.3f s   speedup %5.2fx (target >= 1.40: %s)   mlprov/bound %5.3f (target <= 1.10: %s)\n' \
        "$1" "$2" "$3" "$speedup" "$([ "$ok1" = 1 ] && echo ok || echo MISSED)" "$vs_bound" "$([ "$ok2" = 1 ] && echo ok || echo MISSED)"
}
echo
printf 'tree: %d files, %s bytes (largest %s), %d cores; median of %d runs\n' "$files" "$total" "$largest" "$cores" "$runs"
printf 'SHA-256 (openssl speed, 1 MiB blocks, one core): %.1f MB/s; hashing bound %.3f s\n' "$(calc "$speed / 1000000")" "$bound"
printf 'runs: mlprov sign %s | model_signing sign %s\n' "${t_ml_sign[*]}" "${t_ms_sign[*]}"
printf 'runs: mlprov verify %s | model_signing verify %s\n' "${t_ml_verify[*]}" "${t_ms_verify[*]}"
printf 'fastest: mlprov sign %.3f s, verify %.3f s | model_signing sign %.3f s, verify %.3f s\n' \
    "$(printf '%s\n' "${t_ml_sign[@]}" | minimum)" "$(printf '%s\n' "${t_ml_verify[@]}" | minimum)" \
    "$(printf '%s\n' "${t_ms_sign[@]}" | minimum)" "$(printf '%s\n' "${t_ms_verify[@]}" | minimum)"
echo "load average before the runs: $load_before (other work on the machine inflates every figure; outliers show it)"
row sign "$m_ml_sign" "$m_ms_sign"
row verify "$m_ml_verify" "$m_ms_verify"

# Interop on the same tree: each tool accepts the other's signature …
echo
echo "interop on the 3 GiB tree:"
ms_verify() { "$ms" verify key --signature "$1" --public_key "$pub" "$tree" > /dev/null 2>&1; }
ml_verify() { "$mlprov" -q --format json verify --key "$pub" --signature "$1" "$tree" 2>/dev/null; }
ms_verify "$ml_sig" && echo "  model_signing accepts mlprov's signature" || { echo "  FAIL: model_signing rejects mlprov's signature"; exit 1; }
ml_verify "$ms_sig" > /dev/null && echo "  mlprov accepts model_signing's signature" || { echo "  FAIL: mlprov rejects model_signing's signature"; exit 1; }
# … and both reject each change, mlprov naming the file and the code.
expect_reject() { # what expected-codes-and-files
    local sig out
    for sig in "$ml_sig" "$ms_sig"; do
        if ms_verify "$sig"; then echo "  FAIL ($1): model_signing accepted $(basename "$sig")"; exit 1; fi
        out=$(ml_verify "$sig" || true)
        got=$(printf '%s' "$out" | python3 -c 'import json,sys; print(" ".join(sorted(f["code"]+":"+str(f["file"]) for f in json.load(sys.stdin)["findings"])))')
        if [ "$got" != "$2" ]; then echo "  FAIL ($1): mlprov reported '$got', expected '$2'"; exit 1; fi
    done
    echo "  $1: both reject; mlprov: $2"
}
shard2="$tree/model-00002-of-00002.safetensors"
flip() { python3 - "$shard2" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(123456789); b = f.read(1); f.seek(123456789); f.write(bytes([b[0] ^ 1]))
PY
}
flip; expect_reject "one-byte change" "E0101:model-00002-of-00002.safetensors"; flip
echo x > "$tree/added.bin"; expect_reject "added file" "E0102:added.bin"; rm "$tree/added.bin"
mv "$tree/README.md" "$work/README.md"; expect_reject "removed file" "E0103:README.md"; mv "$work/README.md" "$tree/README.md"
mv "$tree/config.json" "$tree/config.renamed.json"; expect_reject "renamed file" "E0102:config.renamed.json E0103:config.json"; mv "$tree/config.renamed.json" "$tree/config.json"
ms_verify "$ml_sig" && ml_verify "$ms_sig" > /dev/null && echo "  restored tree verifies again"

if [ "$missed" = 1 ] && [ "$check" = 1 ]; then
    echo "a performance target was missed" >&2
    exit 1
fi
