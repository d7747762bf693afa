#!/bin/bash
# IPv6 pinholes with PCP against Debian's miniupnpd (scenario pcp-v6):
# tests/lab/lab_v6_client (plum's C++ API, Config::families) in plum-lan, its
# pinholes checked in the router's nftables chain miniupnpd.
#
# miniupnpd 2.3.1 opens a pinhole for a PCP MAP from an IPv6 client (RFC 6887
# §11, external address = our own), renews it in place ("updating pinhole":
# the rule is replaced, its handle changes), and removes it when its lifetime
# ends. It deletes a pinhole on a PCP delete only until the first renewal:
# the renewal rewrites the rule's label without the nonce it compares, and
# later deletes get NOT_AUTHORIZED. So after a destroy the pinhole goes at
# once or when the lifetime plum last asked for ends: the test asks for 6 s
# and checks that plum stops renewing it. (Its restart ANNOUNCE over IPv6 goes
# to ff02::1 without an interface and was not seen on the lab's LAN: a
# reboot shows in the epoch of the next reply instead.)
#
# usage: pinhole_check.sh LAB_SH LAB_V6_CLIENT
set -uo pipefail
LAB=$1
CLIENT_BIN=$2
SCENARIO=pcp-v6
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lab_test_lib.sh"
[ -x "$CLIENT_BIN" ] || {
	echo "lab_v6_client not built: $CLIENT_BIN"
	exit 1
}
lab_begin

WORK=$(mktemp -d /tmp/plum-lab-v6.XXXXXX)
LAB_WORK=$WORK # lab_end removes it
CLIENT6=2001:db8:77::2
CLIENT6_HEX=0x20010db8007700000000000000000002
LIFETIME=6 # seconds; the lab's min_lifetime is 4

proto_hex() { [ "$1" = udp ] && echo 0x11 || echo 0x6; }
# pinhole_rule PROTO PORT: the router's pinhole rule for our address and port
pinhole_rule() { "$LAB" pinholes | grep -E "th dport $2 @nh,192,128 $CLIENT6_HEX @nh,48,8 $(proto_hex "$1") accept"; }
pinhole_for() { pinhole_rule "$1" "$2" >/dev/null; }
no_pinhole_for() { ! pinhole_for "$1" "$2"; }
pinhole_handle() { pinhole_rule "$1" "$2" | sed -nE 's/.*# handle ([0-9]+).*/\1/p' | head -n 1; }
handle_changed() { local h; h=$(pinhole_handle "$1" "$2") && [ -n "$h" ] && [ "$h" != "$3" ]; }
# (The log is read whole first: with pipefail, grep -q closing the pipe early
# would fail the pipeline.)
router_log_has() { local log; log=$("$LAB" log 5000) && grep -Fq -- "$1" <<<"$log"; }
router_renewed() { router_log_has "updating pinhole to $CLIENT6:$1 "; }
# Gone within the lifetime plum last asked for, and a little slack.
gone_by_expiry() { wait_until $(((LIFETIME + 4) * 1000)) no_pinhole_for "$1" "$2"; }

# 1. IPv6 only: map, renew, destroy.
run_client hold -f 2 -t "$LIFETIME" -s "$WORK/hold.mapped" -w "$WORK/hold.go" tcp 8200 hold
if wait_until 20000 mapped_or_gone hold && [ -e "$WORK/hold.mapped" ]; then
	t_mapped=$(now_ms)
	check "SUCCESS via PCP at our own address ([$CLIENT6]:8200, external_host6)" \
		grep -Fq "state=SUCCESS protocol=PCP external=[$CLIENT6]:8200 external6=$CLIENT6" "$WORK/hold.mapped"
	check "a pinhole rule for tcp 8200 to $CLIENT6 while mapped" pinhole_for tcp 8200
	h0=$(pinhole_handle tcp 8200)
	# plum renews at about half the lifetime: the router replaces the rule.
	check "plum renewed the pinhole (rule handle $h0 replaced within $LIFETIME s)" \
		wait_until $((LIFETIME * 1000)) handle_changed tcp 8200 "$h0"
	check "the router logged the renewal" wait_until 3000 router_renewed 8200
	# Without renewals the pinhole would be gone 6 s after the mapping.
	while [ $(($(now_ms) - t_mapped)) -lt $((LIFETIME * 2000 + 500)) ]; do sleep 0.1; done
	check "the pinhole outlives two lifetimes ($((LIFETIME * 2)) s) while held" pinhole_for tcp 8200
else
	check "lab_v6_client reported a mapping within 20 s" false
fi
touch "$WORK/hold.go"
check "lab_v6_client hold: destroyed cleanly" client_done hold
check "no pinhole for tcp 8200 after destroy (by $((LIFETIME + 4)) s)" gone_by_expiry tcp 8200
if router_log_has "Unauthorized to remove PCP mapping internal port 8200"; then
	say "     (miniupnpd refused plum's delete of the renewed pinhole, as 2.3.1 does; it expired)"
fi

# 2. IPv6 only: map, then cleanup().
run_client cleanup -f 2 -t "$LIFETIME" -s "$WORK/cleanup.mapped" -w "$WORK/cleanup.go" udp 8201 cleanup
if wait_until 20000 mapped_or_gone cleanup && [ -e "$WORK/cleanup.mapped" ]; then
	check "a pinhole rule for udp 8201 while mapped" pinhole_for udp 8201
else
	check "lab_v6_client reported a mapping within 20 s" false
fi
touch "$WORK/cleanup.go"
check "lab_v6_client cleanup: ok" client_done cleanup
check "no pinhole for udp 8201 after cleanup (by $((LIFETIME + 4)) s)" gone_by_expiry udp 8201

# 3. Both families: one mapping id, a DNAT rule on the IPv4 NAT and a pinhole.
run_client both -f 3 -G "$ROUTER" -t "$LIFETIME" -s "$WORK/both.mapped" -w "$WORK/both.go" tcp 8202 hold
if wait_until 20000 mapped_or_gone both && [ -e "$WORK/both.mapped" ]; then
	# The first family mapped reports SUCCESS; the other follows as a
	# SUCCESS event with both addresses.
	both_addresses() { grep -Eq "state=SUCCESS protocol=PCP external=$WAN_IP:[0-9]+ external6=$CLIENT6( |\$)" "$WORK/both.out"; }
	check "SUCCESS with external_host $WAN_IP (IPv4) and external_host6 $CLIENT6" wait_until 5000 both_addresses
	check "a DNAT rule for 8202 (IPv4)" wait_until 2000 dnat_for 8202
	check "a pinhole for tcp 8202 (IPv6)" wait_until 2000 pinhole_for tcp 8202
else
	check "lab_v6_client reported a mapping within 20 s" false
fi
touch "$WORK/both.go"
check "lab_v6_client both families: destroyed cleanly" client_done both
check "no DNAT rule for 8202 after destroy" wait_until 2000 no_dnat_for 8202
check "no pinhole for tcp 8202 after destroy (by $((LIFETIME + 4)) s)" gone_by_expiry tcp 8202
lab_finish
