#!/usr/bin/env bash
# Starts the loopback mock router, runs PROGRAM PCP_PORT against it, and
# checks that the router holds no mapping afterwards.
set -euo pipefail
mock=$1 program=$2
coproc MOCK { exec "$mock"; }
mock_pid=$MOCK_PID
# Our own copies of the pipes: bash unsets MOCK as soon as the coprocess
# exits, which it does when its stdin closes.
exec {from_mock}<&"${MOCK[0]}" {to_mock}>&"${MOCK[1]}"
orig_in=${MOCK[0]} orig_out=${MOCK[1]}
exec {orig_out}>&- {orig_in}<&- # else the mock never sees its stdin close
read -r -t 10 ports <&"$from_mock"
pcp_port=${ports#pcp_port=}; pcp_port=${pcp_port%% *}
rc=0
timeout 60 "$program" "$pcp_port" || rc=$?
exec {to_mock}>&-
read -r -t 10 summary <&"$from_mock" || summary="mock router: no summary"
wait "$mock_pid" || true
echo "$summary"
[ "$rc" -eq 0 ] || exit "$rc"
case "$summary" in
  *": 0 PCP/NAT-PMP and 0 UPnP mappings left") exit 0 ;;
  *) echo "mappings left on the router"; exit 1 ;;
esac
