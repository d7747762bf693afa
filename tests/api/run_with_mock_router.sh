#!/usr/bin/env bash
# Starts the loopback mock router, runs PROGRAM PCP_PORT against it, and
# checks that the router holds no mapping afterwards.
set -euo pipefail
mock=$1 program=$2
coproc MOCK { exec "$mock"; }
mock_pid=$MOCK_PID
read -r -t 10 ports <&"${MOCK[0]}"
pcp_port=${ports#pcp_port=}; pcp_port=${pcp_port%% *}
rc=0
timeout 60 "$program" "$pcp_port" || rc=$?
exec {MOCK[1]}>&-
read -r -t 10 summary <&"${MOCK[0]}" || summary="mock router: no summary"
wait "$mock_pid" || true
echo "$summary"
[ "$rc" -eq 0 ] || exit "$rc"
case "$summary" in
  *": 0 PCP/NAT-PMP and 0 UPnP mappings left") exit 0 ;;
  *) echo "mappings left on the router"; exit 1 ;;
esac
