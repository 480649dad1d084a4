#!/usr/bin/env bash
# Install a pinned mlprov release: download the standalone archive for this
# platform, check its SHA-256 against a trusted list, check its Sigstore
# signature with the binary it contains, then put `mlprov` in DEST/bin.
# Used by the GitHub Action (action.yml); also runs by hand.
#
#   MLPROV_VERSION=0.1.0 scripts/install-mlprov.sh [DEST]
#
# Environment:
#   MLPROV_VERSION    the release (required; no "latest": the tool that signs
#                     your models is pinned too)
#   MLPROV_CHECKSUMS  a SHA256SUMS file that lists the archive (default: the
#                     one beside this script, .github/mlprov-releases.sha256)
#   MLPROV_SHA256     the archive's digest, instead of looking it up
#   MLPROV_BASE_URL   where the archives are (default: the GitHub release,
#                     https://github.com/mlprov/mlprov/releases/download/vVERSION;
#                     file:// URLs and plain directories work too)
#   MLPROV_VERIFY     keyless (default) | key | none: how the archive's
#                     signature (ARCHIVE.sigstore.json) is checked
#   MLPROV_VERIFY_KEY the public key (PEM), for MLPROV_VERIFY=key
#   MLPROV_IDENTITY   the signer for keyless (default: mlprov's release
#                     workflow for the tag vVERSION)
#   MLPROV_TARGET     override the platform (a Rust target triple)
#   MLPROV_KEEP_DIR   keep the verified archive and signature there (a cache)
# Prints the bin directory on its last line. Exits 1 when a check fails.
set -euo pipefail

die() {
  echo "::error title=mlprov install::$*" >&2
  exit 1
}

version="${MLPROV_VERSION:?set MLPROV_VERSION to the mlprov release to install (e.g. 0.1.0)}"
version="${version#v}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-.+][0-9A-Za-z.-]+)?$ ]] ||
  die "MLPROV_VERSION=$version is not a release version (MAJOR.MINOR.PATCH)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-${RUNNER_TOOL_CACHE:-$HOME/.cache}/mlprov/$version}"

if [ -z "${MLPROV_TARGET:-}" ]; then
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$arch" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) die "no mlprov release for the $arch processor" ;;
  esac
  case "$os" in
    Linux) MLPROV_TARGET="$arch-unknown-linux-gnu" ;;
    Darwin) MLPROV_TARGET="$arch-apple-darwin" ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT) MLPROV_TARGET="$arch-pc-windows-msvc" ;;
    *) die "no mlprov release for $os" ;;
  esac
fi
target="$MLPROV_TARGET"
case "$target" in
  *windows*) ext=zip exe=mlprov.exe ;;
  *) ext=tar.gz exe=mlprov ;;
esac
archive="mlprov-$version-$target.$ext"

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# The expected digest: given, or from the trusted list (which comes with the
# action at the commit you pinned, not from the download site).
want="${MLPROV_SHA256:-}"
if [ -z "$want" ]; then
  sums="${MLPROV_CHECKSUMS:-$here/../.github/mlprov-releases.sha256}"
  [ -f "$sums" ] || die "no checksum list at $sums; set MLPROV_SHA256 or MLPROV_CHECKSUMS"
  want="$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1; exit }' "$sums")"
  [ -n "$want" ] || die "$archive is not in $sums: pin a released version, or give its digest in MLPROV_SHA256"
fi
[[ "$want" =~ ^[0-9a-f]{64}$ ]] || die "the expected SHA-256 of $archive is not 64 hex digits: $want"

base="${MLPROV_BASE_URL:-https://github.com/mlprov/mlprov/releases/download/v$version}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch() {
  case "$base" in
    http://* | https://*)
      curl --fail --silent --show-error --location --retry 3 --proto '=https,http' \
        -o "$work/$1" "$base/$1"
      ;;
    file://*) cp "${base#file://}/$1" "$work/$1" ;;
    *) cp "$base/$1" "$work/$1" ;;
  esac
}

fetch "$archive" || die "cannot download $base/$archive"
got="$(sha256 "$work/$archive")"
[ "$got" = "$want" ] || die "$archive has SHA-256 $got, expected $want: refusing to install it"

mkdir -p "$work/x"
case "$ext" in
  zip)
    if command -v unzip >/dev/null 2>&1; then
      unzip -q "$work/$archive" -d "$work/x"
    else
      python3 -m zipfile -e "$work/$archive" "$work/x"
    fi
    ;;
  *) tar -xzf "$work/$archive" -C "$work/x" ;;
esac
bin="$(find "$work/x" -type f -name "$exe" | head -n 1)"
[ -n "$bin" ] || die "$archive holds no $exe"
chmod +x "$bin"

# The signature: made by mlprov's release workflow (keyless), checked by the
# binary whose archive digest was just verified.
case "${MLPROV_VERIFY:-keyless}" in
  none) ;;
  key)
    key="${MLPROV_VERIFY_KEY:?MLPROV_VERIFY=key needs MLPROV_VERIFY_KEY (a public key)}"
    fetch "$archive.sigstore.json" || die "cannot download $base/$archive.sigstore.json"
    "$bin" verify "$work/$archive" --signature "$work/$archive.sigstore.json" --key "$key" -q >&2 ||
      die "the signature of $archive does not verify with $key: refusing to install it"
    ;;
  keyless)
    identity="${MLPROV_IDENTITY:-https://github.com/mlprov/mlprov/.github/workflows/release.yml@refs/tags/v$version}"
    fetch "$archive.sigstore.json" || die "cannot download $base/$archive.sigstore.json"
    "$bin" verify "$work/$archive" --signature "$work/$archive.sigstore.json" \
      --certificate-identity "$identity" \
      --certificate-oidc-issuer https://token.actions.githubusercontent.com -q >&2 ||
      die "the signature of $archive was not made by $identity: refusing to install it"
    ;;
  *) die "MLPROV_VERIFY must be keyless, key or none" ;;
esac

if [ -n "${MLPROV_KEEP_DIR:-}" ] && [ "${MLPROV_KEEP_DIR%/}" != "${base#file://}" ]; then
  mkdir -p "$MLPROV_KEEP_DIR"
  cp "$work/$archive" "$MLPROV_KEEP_DIR/"
  if [ -f "$work/$archive.sigstore.json" ]; then cp "$work/$archive.sigstore.json" "$MLPROV_KEEP_DIR/"; fi
fi

mkdir -p "$dest/bin"
cp "$bin" "$dest/bin/$exe.tmp"
mv -f "$dest/bin/$exe.tmp" "$dest/bin/$exe"
echo "installed mlprov $version ($target, sha256 $got) in $dest/bin" >&2
echo "$dest/bin"
