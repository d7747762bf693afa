#!/usr/bin/env bash
# A MinGW consumer of the Windows cross build, as installed: pkg-config (the
# DLL) and CMake's find_package(plum) (the DLL and libplum.a), each program
# run under Wine. usage: mingw_consumer.sh BUILD_WIN_DIR
# Prints one line per check; exits non-zero on the first failure.
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/stage
meson install -C "$build" --destdir "$stage" --no-rebuild >/dev/null
prefix=$stage/usr/local
wine=${WINE:-/usr/lib/wine/wine64}
export WINEDEBUG=${WINEDEBUG:--all} WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-"mscoree,mshtml="}
cc=x86_64-w64-mingw32-gcc-posix

# pkg-config: the DLL's import library; the DLL next to the program.
mkdir -p "$work/pc"
flags=$(PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" pkg-config --define-prefix --cflags --libs plum)
# shellcheck disable=SC2086
$cc -o "$work/pc/consumer.exe" "$here/mingw/consumer.c" $flags
cp "$prefix"/bin/*.dll "$work/pc/"
"$wine" "$work/pc/consumer.exe" | tr -d '\r' | grep -qx 'consumer: ok'
echo "mingw consumer via pkg-config (libplum.dll): ok"

# CMake: plum::plum (the DLL) and plum::plum_static (libplum.a).
cat >"$work/toolchain.cmake" <<TC
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_C_COMPILER $cc)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_EXE_LINKER_FLAGS "-static")
TC
cmake -S "$here/mingw" -B "$work/cmake" -DCMAKE_TOOLCHAIN_FILE="$work/toolchain.cmake" \
  -DCMAKE_FIND_ROOT_PATH="$prefix" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
cp "$prefix"/bin/*.dll "$work/cmake/"
for exe in consumer_shared consumer_static; do
  "$wine" "$work/cmake/$exe.exe" | tr -d '\r' | grep -qx 'consumer: ok'
  echo "mingw consumer via CMake ($exe): ok"
done
