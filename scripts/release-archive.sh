#!/usr/bin/env bash
# The standalone archive of one platform, made from the binary inside the
# platform's wheel (one build per platform: the wheel and the archive hold
# the same bytes).
#   scripts/release-archive.sh WHEEL VERSION TARGET OUTDIR
# Writes OUTDIR/mlprov-VERSION-TARGET.tar.gz (.zip for Windows) with the
# binary, README.md, LICENSE and CHANGELOG.md, and prints its path.
set -euo pipefail
wheel="${1:?usage: release-archive.sh WHEEL VERSION TARGET OUTDIR}"
version="${2:?version}"
target="${3:?target triple}"
out="${4:?output directory}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="$(command -v python3 || command -v python)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$py" -m zipfile -e "$wheel" "$work/wheel"
case "$target" in
  *windows*) exe=mlprov.exe ext=zip ;;
  *) exe=mlprov ext=tar.gz ;;
esac
bin="$(find "$work/wheel" -path '*.data/scripts/*' -name "$exe" | head -n 1)"
[ -n "$bin" ] || { echo "error: $wheel holds no $exe" >&2; exit 1; }

name="mlprov-$version-$target"
mkdir -p "$work/$name" "$out"
cp "$bin" "$work/$name/$exe"
chmod 0755 "$work/$name/$exe"
for f in README.md LICENSE CHANGELOG.md; do
  if [ -f "$root/$f" ]; then cp "$root/$f" "$work/$name/"; fi
done
out="$(cd "$out" && pwd)"
if [ "$ext" = zip ]; then
  (cd "$work" && "$py" -m zipfile -c "$out/$name.zip" "$name")
else
  # Reproducible: sorted names, fixed owner and time.
  mtime="${SOURCE_DATE_EPOCH:-0}"
  (cd "$work" && tar --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@$mtime" -cf - "$name" | gzip -n -9 >"$out/$name.tar.gz") 2>/dev/null ||
    (cd "$work" && tar -cf - "$name" | gzip -n -9 >"$out/$name.tar.gz")
fi
echo "$out/$name.$ext"
