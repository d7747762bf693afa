#!/usr/bin/env bash
# Installs what plum needs to build and test on Debian (12 or later).
# Idempotent; quiet when everything is there already.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config cmake
  libasio-dev libpugixml-dev libspdlog-dev libfmt-dev doctest-dev
  clang libclang-rt-14-dev
  iproute2 nftables miniupnpd-nftables miniupnpc natpmpc python3
  gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# miniupnpd's package asks about its (unused) service; keep it quiet.
echo "miniupnpd miniupnpd/start_daemon boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
