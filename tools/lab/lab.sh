#!/bin/bash
# plum lab: a real router (Debian's miniupnpd 2.3.1, nftables backend) in a
# box of network namespaces, for the lab tests and the benchmarks.
#
#   plum-lan  192.168.77.2/24 ── plum-lan0  ═ plum-rlan  ─┐
#                                                       plum-rbr 192.168.77.1/24
#   plum-evil 192.168.77.66/24 ─ plum-evil0 ═ plum-revil ─┘  (a bridge: the LAN)
#                                                  plum-rtr (miniupnpd, nft)
#   plum-wan  1.2.3.1/24 ─────── plum-wan0 ═ plum-rwan ── 1.2.3.4/24
#
# plum-evil is a second host on the LAN, for the hostile-LAN tests: it sends
# forged PCP, NAT-PMP and SSDP packets at plum (tools/lab/forge.py).
#
# Scenario pcp-v6 adds IPv6 (documentation prefixes, no RA, no DAD, no
# router solicitation; off in every other scenario):
#   plum-lan  2001:db8:77::2/64, default via fe80::1%plum-lan0
#   plum-rtr  fe80::1 + 2001:db8:77::1/64 (LAN), 2001:db8:1234::4/64 (WAN)
#   plum-wan  2001:db8:1234::1/64
#
# Nothing is attached to the host's namespace: the veth pairs are created
# directly inside the namespaces, and no route or NAT leads to the host, so
# nothing in the lab can reach, or send to, the host network.
#
# usage: lab.sh up <all|upnp-only|pmp-only|igd1|pcp-v6|nothing> | down | status |
#        rules [--count] | exec <cmd...> | router-exec <cmd...> |
#        wan-exec <cmd...> | evil-exec <cmd...> | restart-router [--down-ms N] | stop-router |
#        start-router | log [N] | pinholes [--count]
#
# Exit codes: 0 ok, 1 failure, 2 usage, 77 cannot run here (not root, no
# `ip netns`, missing package): meson treats 77 as "skipped".
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${PLUM_LAB_STATE:-/run/plum-lab}

NS_LAN=plum-lan
NS_RTR=plum-rtr
NS_WAN=plum-wan
NS_EVIL=plum-evil
LAN_IF=plum-lan0     # in plum-lan
RTR_LAN_IF=plum-rbr  # in plum-rtr, the LAN side: a bridge of the two ports below
RTR_LAN_PORT=plum-rlan   # in plum-rtr, plum-lan0's peer
RTR_EVIL_PORT=plum-revil # in plum-rtr, plum-evil0's peer
EVIL_IF=plum-evil0   # in plum-evil
RTR_WAN_IF=plum-rwan # in plum-rtr, the WAN side
WAN_IF=plum-wan0     # in plum-wan

LAN_NET=192.168.77.0/24
RTR_LAN_IP=192.168.77.1
CLIENT_IP=192.168.77.2
CLIENT2_IP=192.168.77.3 # a second address of plum-lan, on the same interface
EVIL_IP=192.168.77.66   # plum-evil, the hostile LAN host
RTR_WAN_IP=1.2.3.4
WAN_GW_IP=1.2.3.1
HTTP_PORT=5000
PCP_PORT=5351
UUID=8c9a6f3e-5a1b-4c2d-9e0f-706c756d6c61

MINIUPNPD=${PLUM_LAB_MINIUPNPD:-/usr/sbin/miniupnpd}
PYTHON=${PLUM_LAB_PYTHON:-$(command -v python3 || echo /usr/bin/python3)}
START_DEADLINE_S=5
STOP_DEADLINE_S=3
SCENARIOS="all upnp-only pmp-only igd1 pcp-v6 nothing"
# IPv6 of scenario pcp-v6 (RFC 3849 documentation prefix).
CLIENT_IP6=2001:db8:77::2
RTR_LAN_IP6=2001:db8:77::1
RTR_LAN_LL6=fe80::1
CLIENT_LL6=fe80::2
RTR_WAN_IP6=2001:db8:1234::4
WAN_GW_IP6=2001:db8:1234::1

die() {
	echo "lab: $*" >&2
	exit 1
}
skip() {
	echo "lab: SKIP: $*" >&2
	exit 77
}

check_env() {
	[ "$(id -u)" = 0 ] || skip "must run as root (network namespaces and nftables need it)"
	command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
	ip netns list >/dev/null 2>&1 || skip "'ip netns' is unavailable on this system"
	command -v nft >/dev/null || skip "nftables (nft) is not installed"
	command -v ss >/dev/null || skip "ss (iproute2) is not installed"
	command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
	[ -x "$MINIUPNPD" ] || skip "$MINIUPNPD not found (apt-get install miniupnpd-nftables)"
	[ -x "$PYTHON" ] || skip "python3 not found (needed for the log sink)"
}

ns_exists() { [ -e "/run/netns/$1" ]; }

# Monotonic-enough deadline in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

pid_alive() {
	local pid=$1 st
	[ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
	# A zombie has exited: treat it as dead.
	st=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ "$st" != Z ] && [ "$st" != X ]
}

# The pid recorded in $STATE/$1, if that process is still the one we started
# (its command line contains $2).
recorded_pid() {
	local file=$STATE/$1 want=$2 pid
	[ -s "$file" ] || return 1
	pid=$(cat "$file")
	pid_alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$want" || return 1
	echo "$pid"
}

# Stop the process recorded in $STATE/$1 (SIGTERM, then SIGKILL after the
# deadline) and forget it.
stop_recorded() {
	local file=$1 want=$2 pid deadline
	if pid=$(recorded_pid "$file" "$want"); then
		kill -TERM "$pid" 2>/dev/null || true
		deadline=$(($(now_ms) + STOP_DEADLINE_S * 1000))
		while pid_alive "$pid"; do
			if [ "$(now_ms)" -ge "$deadline" ]; then
				kill -KILL "$pid" 2>/dev/null || true
				break
			fi
			sleep 0.02
		done
	fi
	rm -f "$STATE/$file"
}

load_ruleset() {
	sed -e "s/@LAN_IF@/$RTR_LAN_IF/g" -e "s/@WAN_IF@/$RTR_WAN_IF/g" "$LAB_DIR/ruleset.nft" >"$STATE/ruleset.nft"
	ip netns exec "$NS_RTR" nft -f "$STATE/ruleset.nft" || die "loading the router's nftables ruleset failed"
}

topology_complete() {
	ns_exists "$NS_LAN" && ns_exists "$NS_RTR" && ns_exists "$NS_WAN" && ns_exists "$NS_EVIL" &&
		ip -n "$NS_LAN" link show "$LAN_IF" >/dev/null 2>&1 &&
		ip -n "$NS_RTR" link show "$RTR_LAN_IF" >/dev/null 2>&1 &&
		ip -n "$NS_EVIL" link show "$EVIL_IF" >/dev/null 2>&1 &&
		ip -n "$NS_RTR" link show "$RTR_WAN_IF" >/dev/null 2>&1 &&
		ip -n "$NS_WAN" link show "$WAN_IF" >/dev/null 2>&1
}

create_topology() {
	local ns
	for ns in "$NS_LAN" "$NS_RTR" "$NS_WAN" "$NS_EVIL"; do
		if ! ip netns add "$ns" 2>"$STATE/netns.err"; then
			cat "$STATE/netns.err" >&2
			skip "cannot create network namespace $ns"
		fi
		ip -n "$ns" link set lo up
		# No IPv6 in the lab: no router solicitations, DAD or MLD noise.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || true
	done

	# Each pair is created with both ends inside lab namespaces: neither end
	# ever exists in the host's namespace.
	ip link add "$LAN_IF" netns "$NS_LAN" type veth peer name "$RTR_LAN_PORT" netns "$NS_RTR"
	ip link add "$EVIL_IF" netns "$NS_EVIL" type veth peer name "$RTR_EVIL_PORT" netns "$NS_RTR"
	ip link add "$RTR_WAN_IF" netns "$NS_RTR" type veth peer name "$WAN_IF" netns "$NS_WAN"
	ip -n "$NS_LAN" link show "$LAN_IF" >/dev/null && ip -n "$NS_RTR" link show "$RTR_LAN_PORT" >/dev/null &&
		ip -n "$NS_EVIL" link show "$EVIL_IF" >/dev/null && ip -n "$NS_RTR" link show "$RTR_EVIL_PORT" >/dev/null &&
		ip -n "$NS_RTR" link show "$RTR_WAN_IF" >/dev/null && ip -n "$NS_WAN" link show "$WAN_IF" >/dev/null ||
		die "veth pairs did not land in the lab namespaces"
	! ip link show "$LAN_IF" >/dev/null 2>&1 && ! ip link show "$RTR_WAN_IF" >/dev/null 2>&1 &&
		! ip link show "$EVIL_IF" >/dev/null 2>&1 ||
		die "a lab interface appeared in the host namespace"
	# The LAN is a bridge in the router, as in a home router: every LAN host
	# sees the others' broadcasts and multicasts. No STP (ports forward at
	# once) and no IGMP snooping (every port gets every group's traffic, as
	# on a plain switch).
	ip -n "$NS_RTR" link add "$RTR_LAN_IF" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	ip -n "$NS_RTR" link set "$RTR_LAN_PORT" master "$RTR_LAN_IF"
	ip -n "$NS_RTR" link set "$RTR_EVIL_PORT" master "$RTR_LAN_IF"
	ip -n "$NS_RTR" link set "$RTR_LAN_PORT" up
	ip -n "$NS_RTR" link set "$RTR_EVIL_PORT" up
	# Where br_netfilter is loaded, frames bridged between two LAN hosts
	# would go through the router's forward chain (policy drop) as IP
	# packets: a home router's switch does not filter them.
	for v in iptables ip6tables arptables; do
		[ -e "/proc/sys/net/bridge/bridge-nf-call-$v" ] || continue
		ip netns exec "$NS_RTR" sysctl -qw "net.bridge.bridge-nf-call-$v=0"
	done

	ip -n "$NS_LAN" addr add "$CLIENT_IP/24" dev "$LAN_IF"
	ip -n "$NS_LAN" addr add "$CLIENT2_IP/24" dev "$LAN_IF"
	ip -n "$NS_LAN" link set "$LAN_IF" up
	ip -n "$NS_LAN" route add default via "$RTR_LAN_IP"

	ip -n "$NS_RTR" addr add "$RTR_LAN_IP/24" dev "$RTR_LAN_IF"
	ip -n "$NS_RTR" addr add "$RTR_WAN_IP/24" dev "$RTR_WAN_IF"
	ip -n "$NS_RTR" link set "$RTR_LAN_IF" up
	ip -n "$NS_RTR" link set "$RTR_WAN_IF" up
	ip -n "$NS_RTR" route add default via "$WAN_GW_IP"
	ip netns exec "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1
	# With the default queue of 10 datagrams, syslog() in miniupnpd blocks
	# whenever the log sink is not scheduled at once.
	ip netns exec "$NS_RTR" sysctl -qw net.unix.max_dgram_qlen=1024
	# Each run against the lab stands for an application's first start. The
	# kernel's per-host ICMP limit (a burst of 6, then one a second) would
	# otherwise drop the port-unreachable answers of the third quick run in
	# a row, and the runs would time each other instead of the router.
	ip netns exec "$NS_RTR" sysctl -qw net.ipv4.icmp_ratelimit=0
	ip netns exec "$NS_RTR" sysctl -qw net.ipv6.icmp.ratelimit=0 2>/dev/null || true

	ip -n "$NS_WAN" addr add "$WAN_GW_IP/24" dev "$WAN_IF"
	ip -n "$NS_WAN" link set "$WAN_IF" up

	ip -n "$NS_EVIL" addr add "$EVIL_IP/24" dev "$EVIL_IF"
	ip -n "$NS_EVIL" link set "$EVIL_IF" up
	ip -n "$NS_EVIL" route add default via "$RTR_LAN_IP"

	load_ruleset
}

# set_ipv6 on|off: IPv6 on the lab's interfaces, for scenario pcp-v6 only.
# Quiet by construction: no router advertisements accepted, no router
# solicitations, no DAD, no automatic link-local address (fixed ones instead).
# Turning it off (disable_ipv6=1) drops every IPv6 address and route again.
set_ipv6() {
	local ns ifc ns_if v=1
	[ "$1" = on ] && v=0
	for ns_if in "$NS_LAN:$LAN_IF" "$NS_RTR:$RTR_LAN_IF" "$NS_RTR:$RTR_WAN_IF" "$NS_WAN:$WAN_IF"; do
		ns=${ns_if%%:*} ifc=${ns_if#*:}
		if [ "$v" = 0 ]; then
			ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.accept_ra=0" "net.ipv6.conf.$ifc.router_solicitations=0" \
				"net.ipv6.conf.$ifc.dad_transmits=0" "net.ipv6.conf.$ifc.addr_gen_mode=1"
		fi
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=$v"
	done
	[ "$v" = 0 ] || return 0
	ip netns exec "$NS_RTR" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip -n "$NS_LAN" -6 addr add "$CLIENT_LL6/64" dev "$LAN_IF" nodad
	ip -n "$NS_LAN" -6 addr add "$CLIENT_IP6/64" dev "$LAN_IF" nodad
	ip -n "$NS_LAN" -6 route add default via "$RTR_LAN_LL6" dev "$LAN_IF"
	ip -n "$NS_RTR" -6 addr add "$RTR_LAN_LL6/64" dev "$RTR_LAN_IF" nodad
	ip -n "$NS_RTR" -6 addr add "$RTR_LAN_IP6/64" dev "$RTR_LAN_IF" nodad
	ip -n "$NS_RTR" -6 addr add "$RTR_WAN_IP6/64" dev "$RTR_WAN_IF" nodad
	ip -n "$NS_RTR" -6 route add default via "$WAN_GW_IP6" dev "$RTR_WAN_IF"
	ip -n "$NS_WAN" -6 addr add "$WAN_GW_IP6/64" dev "$WAN_IF" nodad
}

sink_running() { recorded_pid sink.pid log_sink.py >/dev/null; }

start_sink() {
	sink_running && return 0
	rm -f "$STATE/stderr.fifo" "$STATE/log.sock"
	mkfifo -m 600 "$STATE/stderr.fifo"
	# In plum-rtr, whose unix datagram queue is long (see create_topology).
	ip netns exec "$NS_RTR" "$PYTHON" "$LAB_DIR/log_sink.py" "$STATE/log.sock" "$STATE/stderr.fifo" "$STATE/miniupnpd.log" 5000 \
		</dev/null >/dev/null 2>"$STATE/sink.err" 9>&- &
	echo $! >"$STATE/sink.pid"
	local deadline=$(($(now_ms) + START_DEADLINE_S * 1000))
	until [ -S "$STATE/log.sock" ]; do
		pid_alive "$(cat "$STATE/sink.pid")" || {
			cat "$STATE/sink.err" >&2
			die "the log sink died"
		}
		[ "$(now_ms)" -lt "$deadline" ] || die "the log sink did not create $STATE/log.sock within ${START_DEADLINE_S}s"
		sleep 0.02
	done
}

write_config() {
	local scenario=$1
	{
		local ipv6_disable=yes
		[ "$scenario" = pcp-v6 ] && ipv6_disable=no
		sed -e "s/@SCENARIO@/$scenario/g" -e "s/@WAN_IF@/$RTR_WAN_IF/g" -e "s/@LAN_IF@/$RTR_LAN_IF/g" \
			-e "s/@IPV6_DISABLE@/$ipv6_disable/g" \
			-e "s/@HTTP_PORT@/$HTTP_PORT/g" -e "s/@UUID@/$UUID/g" -e "s#@LAN_NET@#$LAN_NET#g" \
			"$LAB_DIR/miniupnpd.conf.in"
		cat "$LAB_DIR/scenario-$scenario.conf"
	} >"$STATE/miniupnpd.conf"
}

scenario_has() {
	# scenario_has <scenario> natpmp|upnp
	case "$1:$2" in
	all:*) return 0 ;;
	upnp-only:upnp | igd1:upnp) return 0 ;;
	pmp-only:natpmp | pcp-v6:natpmp) return 0 ;;
	*) return 1 ;;
	esac
}

listening() {
	# listening udp|tcp <port>: something in plum-rtr listens there
	local flag=-lun
	[ "$1" = tcp ] && flag=-ltn
	[ -n "$(ip netns exec "$NS_RTR" ss -H "$flag" "sport = :$2" 2>/dev/null)" ]
}

start_router() {
	local scenario pid deadline
	scenario=$(cat "$STATE/scenario")
	# A rebooted router has a fresh firewall: miniupnpd leaves its rules on
	# SIGTERM and would adopt them as permanent mappings on its next start.
	# (PLUM_LAB_KEEP_RULESET=1 skips this, to watch exactly that happen.)
	[ "${PLUM_LAB_KEEP_RULESET:-0}" = 1 ] || load_ruleset
	[ "$scenario" = nothing ] && return 0
	recorded_pid miniupnpd.pid miniupnpd >/dev/null && return 0

	write_config "$scenario"
	start_sink
	rm -f "$STATE/miniupnpd.pidfile"
	# Where miniupnpd's log goes. With -d it logs at debug level, several
	# lines per mapping held on every request, and glibc copies every
	# syslog() line to stderr (LOG_PERROR):
	#   syslog  (default) /dev/log -> the sink's socket; stderr -> /dev/null
	#   stderr  stderr -> the sink through a FIFO; no /dev/log, so syslog()
	#           fails at once (use it to see errors printed before openlog)
	#   both    both of the above
	#   none    no log at all (the floor for benchmarks)
	local log_mode=${PLUM_LAB_LOG:-syslog} use_syslog=0 out=$STATE/stderr.fifo
	case "$log_mode" in
	stderr) ;;
	syslog) use_syslog=1 out=/dev/null ;;
	both) use_syslog=1 ;;
	none) out=/dev/null ;;
	*) die "PLUM_LAB_LOG must be stderr, syslog, both or none" ;;
	esac
	# A private /dev without /dev/console, which glibc's syslog() would
	# otherwise fall back to at 1-3 ms a line.
	ip netns exec "$NS_RTR" unshare --mount --propagation private -- /bin/sh -c '
		mount -t tmpfs -o size=64k,mode=0755 plum-lab-dev /dev &&
		mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 &&
		mknod -m 444 /dev/random c 1 8 && mknod -m 444 /dev/urandom c 1 9 &&
		{ [ "$5" = 0 ] || ln -s "$1" /dev/log; } &&
		exec "$2" -d -f "$3" -P "$4"' plum-lab-router \
		"$STATE/log.sock" "$MINIUPNPD" "$STATE/miniupnpd.conf" "$STATE/miniupnpd.pidfile" "$use_syslog" \
		</dev/null 1<>"$out" 2>&1 9>&- &
	pid=$!
	echo "$pid" >"$STATE/miniupnpd.pid"

	deadline=$(($(now_ms) + START_DEADLINE_S * 1000))
	while :; do
		if ! pid_alive "$pid"; then
			tail -n 20 "$STATE/miniupnpd.log" >&2 2>/dev/null || true
			die "miniupnpd exited during start-up (log: $STATE/miniupnpd.log; PLUM_LAB_LOG=both also keeps its stderr)"
		fi
		local ok=1
		if scenario_has "$scenario" natpmp && ! listening udp "$PCP_PORT"; then ok=0; fi
		if scenario_has "$scenario" upnp && ! listening tcp "$HTTP_PORT"; then ok=0; fi
		[ "$ok" = 1 ] && break
		if [ "$(now_ms)" -ge "$deadline" ]; then
			tail -n 20 "$STATE/miniupnpd.log" >&2 2>/dev/null || true
			die "miniupnpd did not listen within ${START_DEADLINE_S}s"
		fi
		sleep 0.02
	done
}

stop_router() {
	stop_recorded miniupnpd.pid miniupnpd
}

lock() {
	mkdir -p "$STATE"
	exec 9>"$STATE/lock"
	flock -w 30 9 || die "another lab.sh holds $STATE/lock"
}

need_up() {
	topology_complete && [ -s "$STATE/scenario" ] || die "the lab is not up (run: lab.sh up <scenario>)"
}

cmd_up() {
	local scenario=${1:-}
	case " $SCENARIOS " in
	*" $scenario "*) ;;
	*) echo "usage: lab.sh up <$(echo "$SCENARIOS" | tr ' ' '|')>" >&2 && exit 2 ;;
	esac
	check_env
	lock
	local t0
	t0=$(now_ms)
	if ! topology_complete; then
		do_down
		mkdir -p "$STATE"
		create_topology
	fi
	local old=
	[ -s "$STATE/scenario" ] && old=$(cat "$STATE/scenario")
	if [ "$old" != "$scenario" ]; then
		stop_router
		echo "$scenario" >"$STATE/scenario"
		if [ "$scenario" = pcp-v6 ]; then
			set_ipv6 on
		elif [ "$old" = pcp-v6 ]; then
			set_ipv6 off
		fi
		start_router
	elif [ "$scenario" != nothing ] && ! recorded_pid miniupnpd.pid miniupnpd >/dev/null; then
		start_router
	fi
	echo "lab: up ($scenario) in $(($(now_ms) - t0)) ms"
}

do_down() {
	local ns pid
	stop_router
	stop_recorded sink.pid log_sink.py
	for ns in "$NS_LAN" "$NS_RTR" "$NS_WAN" "$NS_EVIL"; do
		if ns_exists "$ns"; then
			# Whatever still runs inside a lab namespace was started by the lab
			# or its tests (a client left behind by a failed test).
			for pid in $(ip netns pids "$ns" 2>/dev/null); do
				kill -KILL "$pid" 2>/dev/null || true
			done
			ip netns del "$ns" 2>/dev/null || true
		fi
	done
	rm -f "$STATE"/{scenario,miniupnpd.conf,miniupnpd.pidfile,ruleset.nft,stderr.fifo,log.sock,netns.err}
}

cmd_down() {
	[ "$(id -u)" = 0 ] || skip "must run as root"
	lock
	do_down
	echo "lab: down"
}

dnat_rules() {
	ip netns exec "$NS_RTR" nft list chain inet filter prerouting_miniupnpd 2>/dev/null |
		grep -E '\bdnat\b' | sed -e 's/^[[:space:]]*//' || true
}

# The IPv6 pinholes miniupnpd made: its rules in the forward chain that
# match an IPv6 destination. miniupnpd 2.3.1 writes the match as a raw
# payload, which nft prints as "@nh,192,128 0x<address in hex>" (the
# destination field of the IPv6 header), with the rule handle (-a): a
# renewal replaces the rule, so the handle changes.
pinhole_rules() {
	ip netns exec "$NS_RTR" nft -a list chain inet filter miniupnpd 2>/dev/null |
		grep -E '@nh,192,128 |\bip6 daddr\b' | sed -e 's/^[[:space:]]*//' || true
}

cmd_pinholes() {
	need_up
	local rules
	rules=$(pinhole_rules)
	if [ "${1:-}" = --count ] || [ "${1:-}" = -c ]; then
		printf '%s' "$rules" | grep -c . || true
	else
		[ -n "$rules" ] && printf '%s\n' "$rules"
		return 0
	fi
}

cmd_status() {
	local scenario=none pid daemon=absent rc=0
	[ -s "$STATE/scenario" ] && scenario=$(cat "$STATE/scenario")
	if ! topology_complete; then
		echo "lab: down"
		return 1
	fi
	if pid=$(recorded_pid miniupnpd.pid miniupnpd); then
		daemon="running pid=$pid"
	elif [ "$scenario" != nothing ]; then
		daemon="NOT running"
		rc=1
	fi
	echo "scenario=$scenario"
	echo "miniupnpd=$daemon"
	echo "lan=$CLIENT_IP,$CLIENT2_IP router=$RTR_LAN_IP wan=$RTR_WAN_IP http_port=$HTTP_PORT"
	local rules
	rules=$(dnat_rules)
	echo "dnat_rules=$(printf '%s' "$rules" | grep -c . || true)"
	[ -n "$rules" ] && printf '%s\n' "$rules"
	return $rc
}

cmd_rules() {
	need_up
	local rules
	rules=$(dnat_rules)
	if [ "${1:-}" = --count ] || [ "${1:-}" = -c ]; then
		printf '%s' "$rules" | grep -c . || true
	else
		[ -n "$rules" ] && printf '%s\n' "$rules"
		return 0
	fi
}

main() {
	local cmd=${1:-}
	[ $# -gt 0 ] && shift
	case "$cmd" in
	up) cmd_up "$@" ;;
	down) cmd_down ;;
	status) cmd_status ;;
	rules) cmd_rules "$@" ;;
	pinholes) cmd_pinholes "$@" ;;
	exec)
		need_up
		exec ip netns exec "$NS_LAN" "$@"
		;;
	router-exec)
		need_up
		exec ip netns exec "$NS_RTR" "$@"
		;;
	wan-exec)
		need_up
		exec ip netns exec "$NS_WAN" "$@"
		;;
	evil-exec)
		need_up
		exec ip netns exec "$NS_EVIL" "$@"
		;;
	restart-router)
		# restart-router [--down-ms N]: stay powered off N ms (default 0). A
		# PCP client cannot tell a reboot within ~2 s of its last contact
		# from the epoch (RFC 6887 §8.5 allows that much slack); real
		# reboots take longer.
		local down_ms=0 t0
		if [ "${1:-}" = --down-ms ]; then
			down_ms=${2:-}
			[[ "$down_ms" =~ ^[0-9]+$ ]] && [ "$down_ms" -le 600000 ] || {
				echo "usage: lab.sh restart-router [--down-ms N]" >&2
				exit 2
			}
		fi
		check_env
		lock
		need_up
		t0=$(now_ms)
		stop_router
		# A reboot also forgets every TCP connection. Without this, the
		# TIME_WAIT sockets of earlier SOAP requests (miniupnpd keeps one
		# per request it answered) outlive the "reboot", and miniupnpd
		# reads all of /proc/net/tcp on every AddPortMapping.
		ip netns exec "$NS_RTR" ss -K -tan >/dev/null 2>&1 || true
		if [ "$down_ms" != 0 ]; then
			# Powered off: the firewall state is gone at once.
			load_ruleset
			sleep "$(printf '%d.%03d' $((down_ms / 1000)) $((down_ms % 1000)))"
		fi
		start_router
		echo "lab: router restarted in $(($(now_ms) - t0)) ms"
		;;
	stop-router)
		check_env
		lock
		need_up
		stop_router
		;;
	start-router)
		check_env
		lock
		need_up
		start_router
		;;
	log) tail -n "${1:-50}" "$STATE/miniupnpd.log" ;;
	*)
		sed -n '24,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
		exit 2
		;;
	esac
}

main "$@"
