#!/usr/bin/env bash
# Installs what plum needs to build and test on Debian (12 or later).
# Idempotent; quiet when everything is there already.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config cmake
  libasio-dev libspdlog-dev libfmt-dev doctest-dev
  clang libclang-rt-14-dev
  iproute2 nftables miniupnpd-nftables miniupnpc natpmpc python3
  gnuplot-nox
)

cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
updated=""
apt_update() {
  [ -n "$updated" ] || $SUDO apt-get update -q >/dev/null
  updated=1
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  # miniupnpd's package asks about its (unused) service; keep it quiet.
  echo "miniupnpd miniupnpd/start_daemon boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
  apt_update
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# pugixml is built from source (subprojects/pugixml.wrap): its tarball is
# Debian's source package's, put where meson looks before any download.
# Then it is unpacked (with subprojects/packagefiles/pugixml), so that a
# superproject using plum as a subproject finds it ready too.
wrap=subprojects/pugixml.wrap
tarball=$(sed -n 's/^source_filename *= *//p' "$wrap")
if [ ! -f "subprojects/packagecache/$tarball" ]; then
  if ! apt-get source --print-uris pugixml >/dev/null 2>&1; then
    # No deb-src entry: add one for the Debian release this machine runs.
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    echo "setup: adding a deb-src entry for $codename (pugixml's source)"
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$codename" | $SUDO tee /etc/apt/sources.list.d/plum-deb-src.sources >/dev/null
    updated=""
    apt_update
  fi
  work=$(mktemp -d)
  echo "setup: fetching pugixml's source (apt-get source)"
  # (apt warns that it downloads as root rather than as _apt: harmless.)
  (cd "$work" && apt-get source -q --download-only pugixml 2>&1 >/dev/null | grep -v unsandboxed) || true
  mkdir -p subprojects/packagecache
  if [ ! -f "$work/$tarball" ]; then
    echo "setup: Debian's pugixml source has no $tarball; meson will download it"
  else
    want=$(sed -n 's/^source_hash *= *//p' "$wrap")
    if [ "$(sha256sum "$work/$tarball" | cut -d' ' -f1)" != "$want" ]; then
      echo "setup: $tarball does not match $wrap's source_hash"; rm -rf "$work"; exit 1
    fi
    cp "$work/$tarball" subprojects/packagecache/
  fi
  rm -rf "$work"
fi
dir=$(sed -n 's/^directory *= *//p' "$wrap")
if [ ! -f "subprojects/$dir/meson.build" ] && [ -f "subprojects/packagecache/$tarball" ]; then
  meson subprojects download pugixml >/dev/null
fi
