#!/usr/bin/env bash
# Checksums, signatures and SLSA provenance for a release, made by mlprov
# itself (the release workflow runs it keyless; the test suite with a key).
#   MLPROV=path/to/mlprov scripts/release-sign.sh DIST VERSION --keyless
#   MLPROV=path/to/mlprov scripts/release-sign.sh DIST VERSION --key cosign.key
# For every artifact in DIST (wheels, the sdist, the archives):
#   ARTIFACT.sigstore.json   a Sigstore bundle signing the artifact's SHA-256
#                            (`mlprov verify ARTIFACT --signature ...`)
# and, for the whole release:
#   SHA256SUMS               `sha256sum -c` format
#   provenance.json, provenance.sigstore.json
#                            SLSA v1 provenance (`mlprov build`) whose
#                            subjects are every artifact, built from the
#                            git commit of the checkout, signed
#                            (`mlprov attest`)
# Set MLPROV_RELEASE_ALLOW_DIRTY=1 to sign from a tree with uncommitted
# changes (recorded in the provenance; tests only).
set -euo pipefail
dist="${1:?usage: release-sign.sh DIST VERSION --keyless|--key KEY}"
version="${2:?version}"
shift 2
[ "$#" -ge 1 ] || { echo "error: give --keyless or --key KEY" >&2; exit 2; }
sign=("$@")
mlprov="${MLPROV:-mlprov}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dist="$(cd "$dist" && pwd)"

cargo_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)"
[ "$cargo_version" = "$version" ] || {
  echo "error: releasing $version but Cargo.toml says $cargo_version" >&2
  exit 1
}

mapfile -t artifacts < <(cd "$dist" && find . -maxdepth 1 -type f \
  ! -name '*.sigstore.json' ! -name SHA256SUMS ! -name 'provenance*.json' \
  -printf '%f\n' | LC_ALL=C sort)
[ "${#artifacts[@]}" -gt 0 ] || { echo "error: nothing to sign in $dist" >&2; exit 1; }

(cd "$dist" && sha256sum "${artifacts[@]}") >"$dist/SHA256SUMS"

for a in "${artifacts[@]}"; do
  "$mlprov" sign "$dist/$a" --signature "$dist/$a.sigstore.json" "${sign[@]}" -q
done

# The provenance of the release: a project under target/ (ignored by git,
# so the tree stays clean) whose output is the release; `build` records the
# git commit it was built from as the code it was made from.
proj="$root/target/release-provenance"
rm -rf "$proj"
mkdir -p "$proj/out"
for a in "${artifacts[@]}"; do cp "$dist/$a" "$proj/out/"; done
cat >"$proj/mlprov.toml" <<EOF
# Written by scripts/release-sign.sh: the release of mlprov $version.
[artifact]
name = "mlprov"
version = "$version"
kind = "model"
path = "out/"
license = "Apache-2.0"

[inputs]
EOF
dirty=()
if [ "${MLPROV_RELEASE_ALLOW_DIRTY:-}" = 1 ]; then dirty=(--allow-dirty); fi
"$mlprov" -C "$proj" pin -q
"$mlprov" -C "$proj" build --skip-training "${dirty[@]}" -q
"$mlprov" -C "$proj" attest "${sign[@]}" -q
cp "$proj/target/mlprov/provenance.json" "$proj/target/mlprov/provenance.sigstore.json" "$dist/"
echo "signed ${#artifacts[@]} artifacts in $dist" >&2
