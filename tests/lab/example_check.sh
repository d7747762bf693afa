#!/bin/bash
# The examples (examples/c, examples/cpp) against Debian's miniupnpd: run in
# plum-lan with the gateway pinned, an example must report SUCCESS at the
# lab's WAN address, the router must hold a DNAT rule for it while the
# example keeps the mapping, and none once the example has removed it and
# exited.
#
# usage: example_check.sh LAB_SH EXAMPLE SCENARIO
set -uo pipefail
LAB=$1
EXAMPLE=$2
SCENARIO=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lab_test_lib.sh"
[ -x "$EXAMPLE" ] || {
	echo "example not built: $EXAMPLE"
	exit 1
}
case "$SCENARIO" in
all | pmp-only) VIA=PCP ;;
upnp-only | igd1) VIA=UPnP ;;
*)
	echo "no mapping to expect in scenario $SCENARIO"
	exit 2
	;;
esac
lab_begin

WORK=$(mktemp -d /tmp/plum-lab-example.XXXXXX)
LAB_WORK=$WORK # lab_end removes it
HOLD_S=4
NAME=$(basename "$EXAMPLE")

timeout 90 "$LAB" exec "$EXAMPLE" "$ROUTER" "$HOLD_S" >"$WORK/out" 2>"$WORK/err" &
pid=$!
success_re="^mapping [0-9]+: SUCCESS external ${WAN_IP//./\\.}:([0-9]+) .*via $VIA\$"
mapped() { grep -Eq "$success_re" "$WORK/out"; }
mapped_or_exited() { mapped || ! kill -0 "$pid" 2>/dev/null; }

if wait_until 20000 mapped_or_exited && mapped; then
	port=$(sed -nE "s/$success_re/\1/p" "$WORK/out" | head -n 1)
	say "ok   - $NAME: SUCCESS at $WAN_IP:$port via $VIA"
	check "a DNAT rule for external port $port while $NAME holds it" dnat_for "$port"
else
	check "$NAME reported SUCCESS at $WAN_IP via $VIA within 20 s" false
fi
rc=0
wait "$pid" || rc=$?
sed "s/^/[$SCENARIO]   $NAME: /" "$WORK/out"
[ "$rc" = 0 ] || tail -n 20 "$WORK/err" | sed "s/^/[$SCENARIO]   $NAME stderr: /"
check "$NAME exited 0 (mapped, held, destroyed, cleaned up)" [ "$rc" = 0 ]
check "$NAME saw its mapping DESTROYED" grep -Eq "^mapping [0-9]+: DESTROYED" "$WORK/out"
check "no DNAT rule left on the router" wait_until 2000 no_dnat_at_all
lab_finish
