#!/bin/bash
# Soak: COUNT mappings with LIFETIME_S lifetimes (renewed at about half of
# it) held for HOLD_S seconds against Debian's miniupnpd, with one router
# reboot in the middle. tests/lab/lab_soak holds them through the C API;
# this script watches the router's DNAT rules all along.
#   - No mapping is lost: outside the reboot's window (from the reboot
#     until every rule is back), no mapping's DNAT rule is missing from two
#     reads in a row (~0.3 s apart). One read alone does not count:
#     miniupnpd 2.3.1 replaces a PCP mapping's rule on every renewal
#     (deletes it, then adds it again with a new handle), and a read can
#     fall between the two.
#   - The reboot is recovered: all COUNT rules back within 10 s.
#   - No memory grows: RSS at the end within 512 KiB of RSS after the
#     first renewals.
#   - Every mapping is SUCCESS at the end, DESTROYED once, no rule left.
# CI runs a short form (meson test --suite lab); the full one (10 minutes):
#   soak_check.sh tools/lab/lab.sh build/tests/lab/lab_soak all 100 6 600
#
# usage: soak_check.sh LAB_SH LAB_SOAK SCENARIO COUNT LIFETIME_S HOLD_S
set -uo pipefail
LAB=$1
CLIENT_BIN=$2
SCENARIO=$3
COUNT=$4
LIFETIME=$5
HOLD=$6
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lab_test_lib.sh"
case "$SCENARIO" in
all | pmp-only) PROTO=pcp ;;
upnp-only | igd1) PROTO=upnp ;;
*)
	echo "unknown scenario $SCENARIO"
	exit 2
	;;
esac
lab_begin

WORK=$(mktemp -d /tmp/plum-lab-test.XXXXXX)
LAB_WORK=$WORK # lab_end removes it

run_client soak "$COUNT" "$LIFETIME" "$HOLD" "$PROTO"
mapped() { grep -q '^mapped ' "$WORK/soak.out" || ! kill -0 "$CLIENT_PID" 2>/dev/null; }
SOAK_BASE_PORT=30000 # lab_soak.c's kBasePort: mapping i is port 30000 + i

if wait_until 70000 mapped && grep -q '^mapped ' "$WORK/soak.out"; then
	say "    $(grep '^mapped ' "$WORK/soak.out")"
	t_mapped=$(now_ms)
	reboot_at=$((t_mapped + HOLD * 500))
	rebooted=0 in_window=0 recovered_ms=-1 lost=0 blips=0 samples=0
	declare -A missing=() # port -> reads in a row without its rule
	# Until the hold ends (the client's destroys would read as losses).
	while [ $(($(now_ms) - t_mapped)) -lt $((HOLD * 1000 - 500)) ] && kill -0 "$CLIENT_PID" 2>/dev/null; do
		if [ "$rebooted" = 0 ] && [ "$(now_ms)" -ge "$reboot_at" ]; then
			"$LAB" restart-router --down-ms 1000 >/dev/null
			t_reboot=$(now_ms) rebooted=1 in_window=1
		fi
		ports=" $("$LAB" rules | sed -nE 's/.*dport ([0-9]+) dnat.*/\1/p' | tr '\n' ' ') "
		n=$(($(wc -w <<<"$ports")))
		samples=$((samples + 1))
		if [ "$in_window" = 1 ]; then
			if [ "$n" -ge "$COUNT" ]; then
				in_window=0 recovered_ms=$(($(now_ms) - t_reboot))
				missing=()
			fi
		else
			for ((p = SOAK_BASE_PORT; p < SOAK_BASE_PORT + COUNT; ++p)); do
				if [[ "$ports" == *" $p "* ]]; then
					[ "${missing[$p]:-0}" = 1 ] && blips=$((blips + 1))
					missing[$p]=0
				else
					missing[$p]=$((${missing[$p]:-0} + 1))
					if [ "${missing[$p]}" = 2 ]; then
						lost=$((lost + 1))
						[ "$lost" -le 5 ] && say "    port $p: no rule in two reads in a row, $(($(now_ms) - t_mapped)) ms into the hold"
					fi
				fi
			done
		fi
		sleep 0.2
	done
	say "    $samples reads of the rules; outside the reboot $blips rule(s) missing from one read only (replaced on renewal)"
	check "no mapping lost outside the reboot ($lost lost)" [ "$lost" = 0 ]
	check "the reboot happened" [ "$rebooted" = 1 ]
	if [ "$recovered_ms" -ge 0 ]; then
		say "    all $COUNT rules back ${recovered_ms} ms after the rebooted router came back"
	fi
	check "all $COUNT rules back within 10 s of the reboot" [ "$recovered_ms" -ge 0 ] && [ "$recovered_ms" -le 10000 ]
else
	check "lab_soak reported $COUNT mappings within 70 s" false
fi
check "lab_soak: every mapping SUCCESS at the end, each DESTROYED once" client_done soak
rss=$(sed -nE 's/^rss start_kb=([0-9]+) end_kb=([0-9]+)$/\1 \2/p' "$WORK/soak.out")
if [ -n "$rss" ]; then
	set -- $rss
	say "    RSS ${1} kB after the first renewals, ${2} kB at the end"
	check "RSS grew by at most 512 KiB" [ $(($2 - $1)) -le 512 ]
else
	check "lab_soak reported its RSS" false
fi
check "no DNAT rule left at the end" wait_until 3000 no_dnat_at_all
lab_finish
