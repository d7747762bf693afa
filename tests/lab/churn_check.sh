#!/bin/bash
# Churn against Debian's miniupnpd: tests/lab/lab_churn (the C API, libplum's
# fields only) creates, holds and destroys CHURN_ROUNDS rounds of
# CHURN_COUNT mappings in plum-lan (CI: 3 x 100; the full form: 20 x 100),
# then leaves one more batch to plum_cleanup(). Nothing may be lost (every
# mapping granted with the scenario's protocol, destroyed once), no callback
# may come after cleanup, and the router must hold no rule at the end.
#
# usage: churn_check.sh LAB_SH LAB_CHURN SCENARIO
set -uo pipefail
LAB=$1
CLIENT_BIN=$2
SCENARIO=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lab_test_lib.sh"
[ -x "$CLIENT_BIN" ] || {
	echo "lab_churn not built: $CLIENT_BIN"
	exit 1
}
ROUNDS=${CHURN_ROUNDS:-3}
COUNT=${CHURN_COUNT:-100}
EXPECT=$(expected_protocol) || exit 2
lab_begin

WORK=$(mktemp -d /tmp/plum-lab-test.XXXXXX)
LAB_WORK=$WORK # lab_end removes it

t0=$(now_ms)
run_client churn "$ROUNDS" "$COUNT" "$EXPECT"
check "$ROUNDS rounds of $COUNT mappings via $EXPECT: all granted, all destroyed once, nothing after cleanup" \
	client_done churn
say "    took $(($(now_ms) - t0)) ms"
check "result=ok" grep -q '^result=ok' "$WORK/churn.out"
check "$((ROUNDS * COUNT)) SUCCESS and $((ROUNDS * COUNT)) DESTROYED" \
	grep -Eq "^total success=$((ROUNDS * COUNT)) failure=0 destroyed=$((ROUNDS * COUNT)) protocol_mismatch=0 late_callbacks=0 " \
	"$WORK/churn.out"
check "no rule left on the router" wait_until 2000 no_dnat_at_all
lab_finish
