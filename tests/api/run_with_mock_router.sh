#!/usr/bin/env bash
# Starts the loopback mock router, runs a program against it, and checks
# that the router holds no mapping afterwards.
#   run_with_mock_router.sh MOCK PROGRAM              runs PROGRAM PCP_PORT
#   run_with_mock_router.sh MOCK COMMAND ARG...       runs COMMAND ARG..., with
#                                                     each ARG PCP_PORT replaced
# MOCK_RUN_TIMEOUT: seconds the program may take (default 60).
set -euo pipefail
mock=$1
shift
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
if [ $# -eq 1 ]; then
  set -- "$1" "$pcp_port"
else
  set -- "${@/#PCP_PORT/$pcp_port}"
fi
timeout "${MOCK_RUN_TIMEOUT:-60}" "$@" || rc=$?
exec {to_mock}>&-
read -r -t 10 summary <&"$from_mock" || summary="mock router: no summary"
wait "$mock_pid" || true
echo "$summary"
[ "$rc" -eq 0 ] || exit "$rc"
case "$summary" in
  *": 0 PCP/NAT-PMP and 0 UPnP mappings left") exit 0 ;;
  *) echo "mappings left on the router"; exit 1 ;;
esac
