#!/bin/bash
# Soak against Debian's miniupnpd: tests/lab/lab_soak (plum's C++ API) holds
# SOAK_COUNT mappings with SOAK_LIFETIME s lifetimes (renewed every few
# seconds) for SOAK_MS while this script samples the router's DNAT rules
# every 250 ms and restarts the router once, halfway (3 s powered off).
# CI: 100 mappings, 6 s lifetimes, 40 s; the full form: SOAK_MS=600000.
#   - no mapping is lost: outside the restart, none is missing from two
#     samples in a row (a renewal may replace a rule for a moment);
#   - the restart is recovered: every rule is back, and every mapping is
#     SUCCESS at the end;
#   - RSS grows by less than SOAK_RSS_KB over the hold;
#   - nothing is left on the router after cleanup.
#
# usage: soak_check.sh LAB_SH LAB_SOAK SCENARIO
set -uo pipefail
LAB=$1
CLIENT_BIN=$2
SCENARIO=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lab_test_lib.sh"
[ -x "$CLIENT_BIN" ] || {
	echo "lab_soak not built: $CLIENT_BIN"
	exit 1
}
COUNT=${SOAK_COUNT:-100}
HOLD_MS=${SOAK_MS:-40000}
LIFETIME=${SOAK_LIFETIME:-6}
RSS_KB=${SOAK_RSS_KB:-2048}
case "$SCENARIO" in
all | upnp-only) ;;
*)
	echo "unknown scenario $SCENARIO"
	exit 2
	;;
esac
lab_begin

WORK=$(mktemp -d /tmp/plum-lab-test.XXXXXX)
LAB_WORK=$WORK # lab_end removes it

rules() { "$LAB" rules --count; }
all_rules_back() { [ "$(rules)" -ge "$COUNT" ]; }
# The mappings the router holds now, one "tcp:30000" a line, sorted.
held() { "$LAB" rules | sed -nE 's/.*\b(tcp|udp) dport ([0-9]+) .*/\1:\2/p' | sort -u; }

CLIENT_TIMEOUT=$((HOLD_MS / 1000 + 120))
timeout "$CLIENT_TIMEOUT" "$LAB" exec "$CLIENT_BIN" ${SOAK_VERBOSE:+-v} -t "$LIFETIME" "$COUNT" "$HOLD_MS" "$WORK/soak.mapped" \
	>"$WORK/soak.out" 2>"$WORK/soak.err" &
CLIENT_PID=$!
if ! wait_until 40000 mapped_or_gone soak || [ ! -e "$WORK/soak.mapped" ]; then
	check "lab_soak mapped $COUNT within 40 s" false
	client_done soak
	lab_finish
fi
wait_until 5000 all_rules_back
held >"$WORK/expected"
# A renewal may replace a rule (delete, then add: miniupnpd's nftables
# backend does), so one sample can miss a mapping for a moment. A mapping
# is lost when it is missing from two samples in a row, 250 ms apart.
hold_start=$(now_ms)
hold_end=$((hold_start + HOLD_MS))
restart_at=$((hold_start + HOLD_MS / 2))
restarted=0
samples=0
transient=0
lost=0
recovery_ms=-1
: >"$WORK/missing.prev"
while [ "$(now_ms)" -lt "$hold_end" ]; do
	if [ "$restarted" = 0 ] && [ "$(now_ms)" -ge "$restart_at" ]; then
		restarted=1
		say "    $(($(now_ms) - hold_start)) ms into the hold: restarting the router"
		"$LAB" restart-router --down-ms 3000 >/dev/null
		t_up=$(now_ms)
		if wait_until 15000 all_rules_back; then
			recovery_ms=$(($(now_ms) - t_up))
		fi
		: >"$WORK/missing.prev"
		continue
	fi
	held >"$WORK/now"
	comm -23 "$WORK/expected" "$WORK/now" >"$WORK/missing"
	samples=$((samples + 1))
	if [ -s "$WORK/missing" ]; then
		transient=$((transient + 1))
		gone=$(comm -12 "$WORK/missing" "$WORK/missing.prev" | tr '\n' ' ')
		if [ -n "$gone" ]; then
			lost=$((lost + 1))
			say "    $(($(now_ms) - hold_start)) ms into the hold: missing twice in a row: $gone"
		fi
	fi
	mv "$WORK/missing" "$WORK/missing.prev"
	sleep 0.25
done
check "lab_soak: every mapping SUCCESS at the end, no callback after cleanup" client_done soak
say "    $samples samples outside the restart, $transient with a mapping missing for a moment"
check "no mapping lost outside the restart (none missing from two samples in a row)" [ "$lost" = 0 ]
check "the restart recovered: all $COUNT rules back (in $recovery_ms ms after power-on)" [ "$recovery_ms" -ge 0 ]
rss=$(sed -nE 's/.*rss_start_kb=([0-9]+) rss_end_kb=([0-9]+).*/\1 \2/p' "$WORK/soak.out")
if [ -n "$rss" ]; then
	set -- $rss
	say "    RSS ${1} KB -> ${2} KB over the hold"
	check "RSS grew by less than $RSS_KB KB" [ $(($2 - $1)) -lt "$RSS_KB" ]
else
	check "lab_soak reported its RSS" false
fi
check "no rule left on the router" wait_until 3000 no_dnat_at_all
lab_finish
