#!/bin/bash
# A hostile LAN: plum-evil, a second host on the router's LAN bridge, sends
# forged PCP, NAT-PMP and SSDP packets (tools/lab/forge.py) at plum while
# `plumc map --hold` holds one mapping against Debian's miniupnpd. For each
# kind it counts what was tried and what was accepted, by what plum did:
#   requests  PCP/NAT-PMP datagrams and HTTP connections plum sent the
#             router meanwhile (nft counters in the router)
#   changes   state changes plum reported to the application
#   address   the external address plum reported
#
# From the attacker's own address nothing may be accepted. With the
# gateway's address spoofed: PCP replies with a wrong nonce and NAT-PMP
# replies to nothing asked are dropped, a forged NAT-PMP address notice is
# never reported as the external address, a flood of forged restart signals
# (PCP ANNOUNCE, NAT-PMP notices, SSDP NOTIFY with new BOOTIDs) costs at most
# one re-mapping round and never the mapping, and a forged useless LOCATION
# does not keep UPnP from following a real reboot.
#
# usage: hostile_check.sh LAB_SH PLUMC SCENARIO      (all | upnp-only)
set -uo pipefail
LAB=$1
PLUMC=$2
SCENARIO=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FORGE=$(cd "$HERE/../../tools/lab" && pwd)/forge.py
. "$HERE/lab_test_lib.sh"
EXPECT=$(expected_protocol) || exit 2
ACTIVE=${EXPECT/UPNP/UPnP} # as plumc's stats name it
lab_begin

WORK=$(mktemp -d /tmp/plum-lab-test.XXXXXX)
LAB_WORK=$WORK # lab_end removes it
PORT=8100
EVIL=192.168.77.66
# Debian's miniupnpd 2.3.1 sends BOOTID.UPNP.ORG as its start time: any other
# value reads as a reboot.
ROUNDS_MAX=1 # re-mapping rounds a flood may cost

forge() { "$LAB" evil-exec python3 "$FORGE" "$@" >/dev/null; }

# plum's UDP sockets in plum-lan, but its group listeners (5350, 1900).
plum_udp_ports() {
	"$LAB" exec ss -Hunap 2>/dev/null | grep -F '"plumc"' |
		sed -nE 's/^[^ ]+ +[0-9]+ +[0-9]+ +[0-9.*]+:([0-9]+) .*/\1/p' | grep -vxE '5350|1900' | sort -u
}

# The router's count of what plum sent it: PCP/NAT-PMP datagrams and TCP
# connections to its HTTP port. Cleared by add_counters.
add_counters() {
	"$LAB" router-exec nft -f - <<EOF
table ip plumcount
delete table ip plumcount
table ip plumcount {
	chain in {
		type filter hook input priority -300;
		ip saddr $CLIENT udp dport 5351 counter
		ip saddr $CLIENT tcp dport 5000 tcp flags syn counter
	}
}
EOF
}
requests() { # "UDP TCP" counts so far
	"$LAB" router-exec nft list table ip plumcount | sed -nE 's/.*dport (5351|5000).*packets ([0-9]+).*/\2/p' | tr '\n' ' '
}

changes() { grep -c '"state"' "$WORK/hold.json" 2>/dev/null || echo 0; }
status_field() { # status_field PYTHON_EXPR over the holder's stats s
	"$LAB" exec env PLUMC_STATUS_DIR="$WORK/status" "$PLUMC" status --json 2>/dev/null |
		python3 -c "import json,sys; h=json.load(sys.stdin)['holders']; s=h[0]['stats'] if h else {}; print($1)"
}

TABLE=$WORK/table
row() { printf '%-58s %6s %s\n' "$1" "$2" "$3" >>"$TABLE"; }

# What one step cost: runs the command, waits SETTLE s, and prints
# "UDP TCP CHANGES RECREATIONS" deltas.
measure() {
	local settle=$1
	shift
	local before after c0 c1 r0 r1
	before=$(requests) c0=$(changes) r0=$(status_field "sum(p['recreations'] for p in s['protocols'].values())")
	"$@"
	sleep "$settle"
	after=$(requests) c1=$(changes) r1=$(status_field "sum(p['recreations'] for p in s['protocols'].values())")
	set -- $before $after
	echo "$(($3 - $1)) $(($4 - $2)) $((c1 - c0)) $((r1 - r0))"
}

mkdir -p "$WORK/status"
"$LAB" exec env PLUMC_STATUS_DIR="$WORK/status" timeout --preserve-status -s INT 120 "$PLUMC" \
	--timeout 2000 --json map tcp "$PORT" --hold >"$WORK/hold.json" 2>"$WORK/hold.err" &
hold_pid=$!
held() { grep -q '"state":"SUCCESS"' "$WORK/hold.json" 2>/dev/null; }
if ! wait_until 15000 held; then
	check "plumc holds tcp $PORT within 15 s" false
	kill -INT "$hold_pid" 2>/dev/null
	wait "$hold_pid"
	lab_finish
fi
check "plumc holds tcp $PORT via $ACTIVE" [ "$(status_field "s['active']")" = "$ACTIVE" ]
add_counters || check "router counters installed" false
ports=$(plum_udp_ports | tr '\n' ' ')
say "    plum's UDP ports: $ports"

# --- 1. From the attacker's own address: nothing accepted ------------------
spray_own() {
	forge --count 20 pcp-announce 224.0.0.1:5350 --epoch 1
	forge --count 20 pcp-announce "$CLIENT:5350" --epoch 1
	forge --count 20 natpmp-address 224.0.0.1:5350 --address 6.6.6.6
	forge --count 20 natpmp-address "$CLIENT:5350" --address 6.6.6.6
	forge --count 20 ssdp-notify 239.255.255.250:1900 --bootid 99 --location "http://$EVIL:80/rootDesc.xml"
	for p in $ports; do
		forge --count 5 pcp-map "$CLIENT:$p" --port "$PORT" --ext-ip 6.6.6.6
		forge --count 5 natpmp-map "$CLIENT:$p" --port "$PORT"
		forge --count 5 ssdp-response "$CLIENT:$p" --location "http://$EVIL:80/rootDesc.xml"
	done
}
n_ports=$(wc -w <<<"$ports")
tried=$((100 + 15 * n_ports))
set -- $(measure 1.5 spray_own)
row "from $EVIL: ANNOUNCE, notices, NOTIFY, replies" "$tried" "requests +$1/+$2, changes +$3, recreations +$4"
check "from $EVIL: no request, no change, no recreation (+$1/+$2, +$3, +$4)" [ "$1$2$3$4" = 0000 ]

# --- 2. Spoofed gateway: replies to nothing asked, wrong nonces -------------
spray_replies() {
	for p in $ports; do
		forge --src "$ROUTER" --count 10 pcp-map "$CLIENT:$p" --port "$PORT" --ext-ip 6.6.6.6
		forge --src "$ROUTER" --count 10 natpmp-map "$CLIENT:$p" --port "$PORT" --ext-port 1
		forge --src "$ROUTER" --count 10 ssdp-response "$CLIENT:$p" --location "http://$ROUTER:1/"
	done
}
set -- $(measure 1.5 spray_replies)
row "spoofed $ROUTER: MAP replies (wrong nonce), SSDP answers" "$((30 * n_ports))" "requests +$1/+$2, changes +$3, recreations +$4"
check "spoofed replies: no change, no recreation (+$3, +$4)" [ "$3$4" = 00 ]

# --- 3. Spoofed gateway: NAT-PMP address notices ----------------------------
spray_notices() {
	forge --src "$ROUTER" --count 10 natpmp-address 224.0.0.1:5350 --address 6.6.6.6 --epoch 100000
	forge --src "$ROUTER" --count 10 natpmp-address "$CLIENT:5350" --address 0.0.0.0 --epoch 100000
}
set -- $(measure 2 spray_notices)
reported=$(status_field "s.get('external_address')")
row "spoofed $ROUTER: NAT-PMP notices (6.6.6.6, 0.0.0.0)" 20 "requests +$1/+$2, changes +$3; external $reported"
check "forged notices: the external address stays $WAN_IP (is $reported)" [ "$reported" = "$WAN_IP" ]
never_reported() { ! grep -qE '"external_host":"(6\.6\.6\.6|0\.0\.0\.0)"' "$WORK/hold.json"; }
check "forged notices: never reported to the application" never_reported

# --- 4. Spoofed gateway: a flood of restart signals --------------------------
flood_announce() { forge --src "$ROUTER" --count 100 --interval 0.05 pcp-announce 224.0.0.1:5350 --epoch 0; }
flood_notify() {
	for b in $(seq 1000 1019); do
		forge --src "$ROUTER" ssdp-notify 239.255.255.250:1900 --bootid "$b" --location "http://$ROUTER:1/"
		sleep 0.2
	done
}
set -- $(measure 2 flood_announce)
row "spoofed $ROUTER: 100 PCP ANNOUNCEs in 5 s" 100 "requests +$1/+$2, changes +$3, recreations +$4"
check "ANNOUNCE flood: at most $ROUNDS_MAX re-mapping round(s) (recreations +$4)" [ "$4" -le "$ROUNDS_MAX" ]
check "ANNOUNCE flood: no state change reported (+$3)" [ "$3" = 0 ]
check "ANNOUNCE flood: the mapping is still on the router" dnat_for "$PORT"
set -- $(measure 2 flood_notify)
row "spoofed $ROUTER: 20 NOTIFYs, new BOOTIDs, LOCATION :1" 20 "requests +$1/+$2, changes +$3, recreations +$4"
check "NOTIFY flood: at most $ROUNDS_MAX re-mapping round(s) (recreations +$4)" [ "$4" -le "$ROUNDS_MAX" ]
check "NOTIFY flood: no state change reported (+$3)" [ "$3" = 0 ]
check "NOTIFY flood: the mapping is still on the router" dnat_for "$PORT"

# --- 5. After all that, a real reboot is still followed ---------------------
"$LAB" restart-router --down-ms 2500 >/dev/null
t0=$(now_ms)
if wait_until 10000 dnat_for "$PORT"; then
	say "    a real reboot: the mapping back $(($(now_ms) - t0)) ms after the router came back"
else
	check "after the forgeries, a real reboot: the mapping back within 10 s" false
fi

kill -INT "$hold_pid" 2>/dev/null
wait "$hold_pid"
check "plumc map --hold ended cleanly" [ $? = 0 ]
check "no DNAT rule left" wait_until 3000 no_dnat_at_all
say "    what was tried, and what it cost (UDP/TCP requests plum sent the router):"
sed "s/^/[$SCENARIO]      /" "$TABLE"
lab_finish
