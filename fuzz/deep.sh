#!/usr/bin/env bash
# The deep fuzzing campaign (fuzz/README.md): every target for RUNS
# executions or SECONDS, whichever comes first, starting from its committed
# corpus; then the inputs that found new coverage are merged into
# fuzz/corpus/<name>/ (libFuzzer's -merge=1 keeps only those), and a
# finding stops the campaign with the crashing input kept in WORK.
#   fuzz/deep.sh BUILD_FUZZ [RUNS] [SECONDS] [TARGET...]
# BUILD_FUZZ: a build with -Dfuzzing=true (clang). Prints one line a target:
#   name executions seconds exec/s corpus-before corpus-after result
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$1
runs=${2:-10000000}
seconds=${3:-1800}
shift $(($# < 3 ? $# : 3))
all=$(cd "$root/fuzz" && for f in fuzz_*.cpp; do n=${f#fuzz_}; echo -n "${n%.cpp} "; done)
targets=${*:-$all}
work=$(mktemp -d /tmp/plum-fuzz.XXXXXX)
status=0
for name in $targets; do
  bin=$build/fuzz/fuzz_$name
  corpus=$root/fuzz/corpus/$name
  [ -x "$bin" ] || { echo "$name: $bin not built"; status=1; continue; }
  mkdir -p "$work/$name"
  cp -r "$corpus/." "$work/$name/"
  before=$(find "$corpus" -type f | wc -l)
  t0=$(date +%s)
  if "$bin" -runs="$runs" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$work/$name-" "$work/$name" >"$work/$name.log" 2>&1; then
    result=clean
  else
    result="FINDING (see $work/$name.log)"; status=1
  fi
  t=$(( $(date +%s) - t0 ))
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/$name.log")
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$work/$name.log")
  if [ "$result" = clean ]; then
    "$bin" -merge=1 -rss_limit_mb=2048 -timeout=10 "$corpus" "$work/$name" >"$work/$name.merge.log" 2>&1
  fi
  after=$(find "$corpus" -type f | wc -l)
  echo "$name ${execs:-?} ${t} ${rate:-?} $before $after $result"
done
[ "$status" = 0 ] && rm -rf "$work"
exit "$status"
