#!/usr/bin/env bash
# The public structs' layout (abi_layout.c's static checks) on targets this
# machine cannot run: 32- and 64-bit Linux, Android, Windows, macOS and iOS,
# compiled by clang with no C library (ABI_LAYOUT_STATIC_ONLY). Exits 77
# (skipped) where clang is missing.
#   abi_targets.sh SOURCE_ROOT
set -uo pipefail
root=$1
command -v clang >/dev/null || { echo "SKIP: no clang"; exit 77; }
targets="x86_64-linux-gnu i686-linux-gnu aarch64-linux-gnu armv7-linux-gnueabihf
  riscv64-linux-gnu aarch64-linux-android armv7-linux-androideabi
  x86_64-w64-windows-gnu i686-w64-windows-gnu x86_64-pc-windows-msvc
  aarch64-apple-darwin x86_64-apple-darwin arm64-apple-ios"
failed=0
for t in $targets; do
  if out=$(clang --target="$t" -ffreestanding -fsyntax-only -std=c11 -DABI_LAYOUT_STATIC_ONLY \
      -I"$root/include" "$root/tests/api/abi_layout.c" 2>&1); then
    echo "ok   $t"
  else
    echo "FAIL $t"; echo "$out" | grep -m3 'error:'; failed=$((failed + 1))
  fi
done
[ "$failed" -eq 0 ]
