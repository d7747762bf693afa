#!/bin/bash
# plum against Debian's miniupnpd: tests/lab/lab_client (the C API only) in
# plum-lan, checked against the router's own ruleset.
#
# usage: plum_check.sh LAB_SH LAB_CLIENT SCENARIO
set -uo pipefail
LAB=$1
CLIENT_BIN=$2
SCENARIO=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lab_test_lib.sh"
[ -x "$CLIENT_BIN" ] || {
	echo "lab_client not built: $CLIENT_BIN"
	exit 1
}
lab_begin

WORK=$(mktemp -d /tmp/plum-lab-test.XXXXXX)
LAB_WORK=$WORK # lab_end removes it
DISCOVER_MS=2000

EXPECT=$(expected_protocol) || exit 2

mapped_line_ok() {
	# mapped_line_ok FILE PORT: SUCCESS via $EXPECT at the WAN address
	grep -Eq "^state=SUCCESS protocol=$EXPECT external=$WAN_IP:$2 " "$1"
}
external_port_of() { sed -nE 's/.*external=[0-9.]+:([0-9]+) .*/\1/p' "$1" | head -n 1; }

if [ "$SCENARIO" = nothing ]; then
	t0=$(now_ms)
	run_client fail -d "$DISCOVER_MS" "$ROUTER" tcp 8090 ANY expect-failure $((DISCOVER_MS + 3000))
	check "plum reports FAILURE within the discover timeout (+3 s)" client_done fail
	say "    took $(($(now_ms) - t0)) ms (discover_timeout=$DISCOVER_MS)"
	check "no mapping on the router" no_dnat_at_all
	lab_finish
fi

# 1. map, hold, destroy: a DNAT rule while mapped, none after.
run_client hold -d "$DISCOVER_MS" -s "$WORK/hold.mapped" -w "$WORK/hold.go" "$ROUTER" tcp 8090 "$EXPECT" hold 30000
if wait_until 20000 mapped_or_gone hold && [ -e "$WORK/hold.mapped" ]; then
	check "SUCCESS via $EXPECT at $WAN_IP" mapped_line_ok "$WORK/hold.mapped" 8090
	port=$(external_port_of "$WORK/hold.mapped")
	check "a DNAT rule for external port $port while mapped" dnat_for "$port"
else
	check "lab_client reported a mapping within 20 s" false
	port=8090
fi
touch "$WORK/hold.go"
check "lab_client hold: destroyed cleanly" client_done hold
check "no DNAT rule for $port after destroy" wait_until 2000 no_dnat_for "$port"

# 2. map, then plum_cleanup(): cleanup removes the mapping from the router.
run_client cleanup -d "$DISCOVER_MS" -s "$WORK/cleanup.mapped" -w "$WORK/cleanup.go" "$ROUTER" udp 8091 "$EXPECT" cleanup
if wait_until 20000 mapped_or_gone cleanup && [ -e "$WORK/cleanup.mapped" ]; then
	port=$(external_port_of "$WORK/cleanup.mapped")
	check "a DNAT rule for external port $port (udp) while mapped" dnat_for "$port"
else
	check "lab_client reported a mapping within 20 s" false
	port=8091
fi
touch "$WORK/cleanup.go"
check "lab_client cleanup: ok" client_done cleanup
check "no DNAT rule left after plum_cleanup" no_dnat_at_all

# 2b. a peer's mapping and plum's side by side: plum leaves the peer's alone
# (a port-mapping client is rarely the only one on a LAN), and the router
# reports plum's mapping as plum's (upnpc -l: internal client and port).
peer_map() {
	if [ "$EXPECT" = UPNP ]; then
		"$LAB" exec upnpc -u "$DESC_URL" -a "$CLIENT" 9500 9500 TCP >/dev/null 2>&1
	else
		"$LAB" exec natpmpc -g "$ROUTER" -a 9500 9500 tcp 3600 >/dev/null 2>&1
	fi
}
peer_unmap() {
	if [ "$EXPECT" = UPNP ]; then
		"$LAB" exec upnpc -u "$DESC_URL" -d 9500 TCP >/dev/null 2>&1
	else
		"$LAB" exec natpmpc -g "$ROUTER" -a 9500 9500 tcp 0 >/dev/null 2>&1
	fi
}
upnpc_lists_plum() {
	# upnpc -l prints e.g. " 0 TCP  8093->192.168.77.2:8093  'plum' '' 7200"
	"$LAB" exec upnpc -u "$DESC_URL" -l 2>/dev/null | grep -Eq "TCP +$1->$CLIENT:8093 "
}
check "a peer (upnpc/natpmpc) maps external 9500" peer_map
check "the peer's DNAT rule for 9500" dnat_for 9500
run_client peer -d "$DISCOVER_MS" -s "$WORK/peer.mapped" -w "$WORK/peer.go" "$ROUTER" tcp 8093 "$EXPECT" hold 30000
if wait_until 20000 mapped_or_gone peer && [ -e "$WORK/peer.mapped" ]; then
	port=$(external_port_of "$WORK/peer.mapped")
	check "plum maps beside the peer (external $port)" dnat_for "$port"
	check "the peer's rule for 9500 is still there" dnat_for 9500
	if [ "$EXPECT" = UPNP ]; then
		check "upnpc -l reports plum's mapping: $port -> $CLIENT:8093" upnpc_lists_plum "$port"
	fi
else
	check "lab_client reported a mapping within 20 s" false
	port=8093
fi
touch "$WORK/peer.go"
check "lab_client beside a peer: destroyed cleanly" client_done peer
check "plum removed its own rule" wait_until 2000 no_dnat_for "$port"
check "and left the peer's rule for 9500" dnat_for 9500
check "the peer removes its mapping" peer_unmap
check "no DNAT rule left after the peer" wait_until 2000 no_dnat_at_all

# 3. router reboot: miniupnpd is off for 3 s, then starts with a fresh
# ruleset; plum must notice and map again. PCP/NAT-PMP: the ANNOUNCE and the
# epoch (a reboot within ~2 s of the last contact is invisible to the epoch
# check of RFC 6887 §8.5, hence the downtime). UPnP: a new BOOTID.UPNP.ORG in
# the gateway's first SSDP ssdp:alive. The recheck is 120 s away: only
# those messages can bring the mapping back within the 10 s allowed here.
run_client restart -d "$DISCOVER_MS" -r 120000 -s "$WORK/restart.mapped" -w "$WORK/restart.go" "$ROUTER" tcp 8092 "$EXPECT" restart-check 60000
if wait_until 20000 mapped_or_gone restart && [ -e "$WORK/restart.mapped" ]; then
	port=$(external_port_of "$WORK/restart.mapped")
	check "a DNAT rule for $port before the reboot" dnat_for "$port"
	"$LAB" restart-router --down-ms 3000 &
	reboot_pid=$!
	# While the router is off (3 s) its fresh ruleset has no mapping.
	check "the reboot wiped the rule" wait_until 2500 no_dnat_for "$port"
	check "the router came back" wait "$reboot_pid"
	t0=$(now_ms)
	if wait_until 10000 dnat_for "$port"; then
		say "ok   - plum re-created the mapping $(($(now_ms) - t0)) ms after the reboot"
	else
		check "plum re-created the mapping within 10 s of the reboot" false
	fi
else
	check "lab_client reported a mapping within 20 s" false
	port=8092
fi
touch "$WORK/restart.go"
check "lab_client restart-check: ok" client_done restart
check "no DNAT rule left at the end" wait_until 2000 no_dnat_at_all
lab_finish
