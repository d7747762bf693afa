#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds plum and runs every test:
# unit and loopback tests, fuzz-corpus replay, and (as root, where network
# namespaces work) the lab suite against Debian's real miniupnpd.
#   tools/test.sh [BUILD_DIR]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

tools/setup.sh
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Dwerror=true
fi
ninja -C "$build"
set +e
meson test -C "$build" --print-errorlogs --num-processes 2 2>&1 | tee "$build/test-summary.txt"
rc=${PIPESTATUS[0]}
set -e
ok=$(awk '/^Ok:/ {print $2}' "$build/test-summary.txt")
fail=$(awk '/^Fail:/ {print $2}' "$build/test-summary.txt")
timeout=$(awk '/^Timeout:/ {print $2}' "$build/test-summary.txt")
skipped=$(awk '/^Skipped:/ {print $2}' "$build/test-summary.txt")
echo "${ok:-0} passed, $(( ${fail:-0} + ${timeout:-0} )) failed, ${skipped:-0} skipped"
exit "$rc"
