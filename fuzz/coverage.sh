#!/usr/bin/env bash
# Line coverage of each parser file, reached by replaying the committed
# fuzz corpus (clang source-based coverage, llvm-cov). Builds BUILD_COV if
# needed (clang, -fprofile-instr-generate -fcoverage-mapping, library and
# replay programs only) and prints llvm-cov's table for the parser files.
#   fuzz/coverage.sh [BUILD_COV]        (default: build-cov)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-cov}
flags='-fprofile-instr-generate -fcoverage-mapping'
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$build" "$root" -Dtests=false -Dtools=false \
    -Dbuildtype=debug -Dcpp_args="$flags" -Dcpp_link_args="$flags" >/dev/null
fi
names=$(cd "$root/fuzz" && for f in fuzz_*.cpp; do n=${f#fuzz_}; echo -n "${n%.cpp} "; done)
targets=""
for n in $names; do targets="$targets fuzz/replay_$n"; done
ninja -C "$build" $targets >/dev/null
profiles=$(mktemp -d)
objects=()
for n in $names; do
  LLVM_PROFILE_FILE="$profiles/$n.profraw" "$build/fuzz/replay_$n" "$root/fuzz/corpus/$n" >/dev/null
  objects+=(-object "$build/fuzz/replay_$n")
done
llvm-profdata merge -sparse "$profiles"/*.profraw -o "$profiles/all.profdata"
cd "$root"
llvm-cov report "${objects[@]:1}" -instr-profile="$profiles/all.profdata" \
  src/pcp/pcp_codec.cpp src/pcp/natpmp_codec.cpp src/http/response_parser.cpp src/http/url.cpp \
  src/upnp/ssdp.cpp src/upnp/description.cpp src/upnp/soap.cpp src/upnp/xml.cpp \
  src/net/netlink_route.cpp \
  src/net/routing_message.cpp
rm -rf "$profiles"
