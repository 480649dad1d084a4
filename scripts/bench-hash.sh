#!/usr/bin/env bash
# Hashing benchmark (issue: foundation). In one run, on a 3 GiB model tree:
#   mlprov pin, hash cache cleared (page cache warm)    "cold"
#   mlprov pin, hash cache warm                        "warm"
#   sha256sum over the same files                      (peer)
#   model_signing sign key                             (peer)
# and the physical bound max(largest/speed, total/(cores*speed)) with the
# single-core SHA-256 speed measured now. Prints medians and ratios.
#   scripts/bench-hash.sh            (RUNS=5 by default)
source "$(dirname "$0")/bench-common.sh"

build_release
ensure_validators
proj="$BENCH/hash-project"
make_model_tree "$BENCH/model"
rm -rf "$proj"; mkdir -p "$proj"
# The project holds the model as a path input (a hard-linked copy: same bytes, no extra disk).
mkdir -p "$proj/model"
for f in "$BENCH"/model/*; do ln "$f" "$proj/model/" 2>/dev/null || cp "$f" "$proj/model/"; done
cat > "$proj/mlprov.toml" <<'TOML'
[artifact]
name = "bench/model"
version = "0.1.0"
kind = "model"
path = "out/"

[inputs]
model = { path = "model/", role = "base-model" }
TOML
export MLPROV_CACHE_DIR="$BENCH/cache" MLPROV_HOME="$BENCH/home"
files=("$proj"/model/*)
warm_page_cache "${files[@]}"

cold_once() { rm -rf "$MLPROV_CACHE_DIR"; rm -f "$proj/mlprov.lock"; "$MLPROV" -q -C "$proj" pin; }
warm_once() { rm -f "$proj/mlprov.lock"; "$MLPROV" -q -C "$proj" pin; }
sha_once() { sha256sum "${files[@]}"; }
key="$BENCH/key.pem"
"$VALIDATORS/python" - "$key" <<'PY'
import sys
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import serialization
k = ec.generate_private_key(ec.SECP256R1())
open(sys.argv[1], "wb").write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
PY
ms_once() { "$VALIDATORS/model_signing" --log-level ERROR sign key --private_key "$key" --signature "$BENCH/ms.sig" "$proj/model"; }

read -r bound speed cores < <(hash_bound_seconds "$proj/model")
cold=$(median_of "$RUNS" cold_once)
warm_once >/dev/null 2>&1
warm=$(median_of "$RUNS" warm_once)
sha=$(median_of "$RUNS" sha_once)
ms=$(median_of 3 ms_once)
rm -rf "$MLPROV_CACHE_DIR"; rm -f "$proj/mlprov.lock"
rss=$(peak_rss_mib "$MLPROV" -q -C "$proj" pin)

total=$(du -sb --apparent-size "$proj/model" | cut -f1)
echo "tree: $proj/model, $(python3 -c "print(f'{$total/2**30:.2f}')") GiB, $cores cores, single-core SHA-256 $(python3 -c "print(f'{$speed/1e9:.2f}')") GB/s"
printf '%-34s %10s %s\n' "measure (median of $RUNS)" "seconds" "ratio"
printf '%-34s %10s %s\n' "physical bound" "$bound" "1.000"
printf '%-34s %10s %s\n' "mlprov pin (cold hash cache)" "$cold" "$(ratio "$cold" "$bound") x bound (target <= 1.10)"
printf '%-34s %10s %s\n' "mlprov pin (warm hash cache)" "$warm" "$(python3 -c "print(f'{100*$warm/$cold:.2f}')") % of cold (target <= 2 %)"
printf '%-34s %10s %s\n' "sha256sum (one core)" "$sha" "$(ratio "$sha" "$cold") x mlprov cold"
printf '%-34s %10s %s\n' "model_signing sign key (median 3)" "$ms" "$(ratio "$ms" "$cold") x mlprov cold (target >= 1.4)"
printf '%-34s %10s\n' "mlprov pin peak RSS (MiB)" "$rss"
echo "(target: peak RSS <= 64 MiB)"
