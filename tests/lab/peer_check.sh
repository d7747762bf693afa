#!/bin/bash
# Peer cross-check: Debian's own clients (upnpc, natpmpc) and two tiny
# probes against Debian's miniupnpd in the lab, per scenario. This proves
# the lab itself before plum is judged by it.
#
# usage: peer_check.sh LAB_SH SCENARIO
set -uo pipefail
LAB=$1
SCENARIO=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lab_test_lib.sh"
PY=$(command -v python3 || echo /usr/bin/python3)
for tool in upnpc natpmpc; do
	command -v "$tool" >/dev/null || {
		echo "SKIP: $tool not installed"
		exit 77
	}
done
lab_begin

in_lan() { timeout 20 "$LAB" exec "$@"; }

upnp_add() {
	local out
	out=$(in_lan upnpc -u "$DESC_URL" -a "$CLIENT" 8080 8080 TCP 2>&1)
	echo "$out" | grep -q "external $WAN_IP:8080 TCP is redirected to internal $CLIENT:8080"
}
upnp_list_has() { in_lan upnpc -u "$DESC_URL" -l 2>&1 | grep -Eq "TCP +8080->$CLIENT:8080"; }
upnp_del() { in_lan upnpc -u "$DESC_URL" -d 8080 TCP 2>&1 | grep -q 'returned : 0'; }
upnp_refused() { ! in_lan upnpc -u "$DESC_URL" -s >/dev/null 2>&1; }
ssdp_answers() { in_lan "$PY" "$HERE/probe.py" ssdp "$1" 1.5 >/dev/null; }
ssdp_silent() { ! in_lan "$PY" "$HERE/probe.py" ssdp urn:schemas-upnp-org:device:InternetGatewayDevice:1 1.5 >/dev/null; }

pmp_add() {
	in_lan natpmpc -g "$ROUTER" -a 8081 8081 tcp 3600 2>&1 | grep -q 'Mapped public port 8081 protocol TCP to local port 8081'
}
pmp_address() { in_lan natpmpc -g "$ROUTER" 2>&1 | grep -q "Public IP address : $WAN_IP"; }
pmp_del() { in_lan natpmpc -g "$ROUTER" -a 8081 0 tcp 0 >/dev/null 2>&1; }
pmp_silent() {
	# libnatpmp connects its socket: the ICMP port unreachable ends it fast.
	local t0=$(now_ms)
	! in_lan natpmpc -g "$ROUTER" -a 8082 8082 tcp 60 >/dev/null 2>&1 && [ $(($(now_ms) - t0)) -lt 15000 ]
}
pcp_map() { in_lan "$PY" "$HERE/probe.py" pcp-map 8083 "$1" >/dev/null; }
pcp_silent() { in_lan "$PY" "$HERE/probe.py" pcp-silent 1 >/dev/null; }

case "$SCENARIO" in
all | upnp-only | igd1)
	v=2
	[ "$SCENARIO" = igd1 ] && v=1
	check "SSDP answers for InternetGatewayDevice:$v" ssdp_answers "urn:schemas-upnp-org:device:InternetGatewayDevice:$v"
	check "upnpc -a maps 8080/TCP to $CLIENT:8080 at $WAN_IP" upnp_add
	check "upnpc -l lists the mapping" upnp_list_has
	check "the router has a DNAT rule for 8080" dnat_for 8080
	check "upnpc -d removes it" upnp_del
	check "the DNAT rule is gone" no_dnat_for 8080
	;;
esac

case "$SCENARIO" in
all | pmp-only)
	check "natpmpc reads the public address $WAN_IP" pmp_address
	check "natpmpc -a maps 8081/TCP" pmp_add
	check "the router has a DNAT rule for 8081" dnat_for 8081
	check "natpmpc deletes it" pmp_del
	check "the DNAT rule for 8081 is gone" no_dnat_for 8081
	check "PCP MAP 8083/TCP succeeds" pcp_map 600
	check "the router has a DNAT rule for 8083" dnat_for 8083
	check "PCP MAP lifetime 0 deletes it" pcp_map 0
	check "the DNAT rule for 8083 is gone" no_dnat_for 8083
	;;
esac

case "$SCENARIO" in
pmp-only | nothing)
	check "no SSDP answer" ssdp_silent
	check "no UPnP HTTP server" upnp_refused
	;;
esac
case "$SCENARIO" in
upnp-only | igd1 | nothing)
	check "natpmpc gets no answer" pmp_silent
	check "no PCP answer" pcp_silent
	;;
esac
check "no mapping left on the router" no_dnat_at_all
lab_finish
