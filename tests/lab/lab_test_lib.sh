# Shared by the lab test scripts (sourced). The lab is one set of global
# namespaces, so a test holds a session lock for its whole run, brings the
# lab up, and always tears it down.
#
# Expects LAB (path to tools/lab/lab.sh) and SCENARIO to be set.

LAB_SESSION_LOCK=/run/plum-lab.session.lock
ROUTER=192.168.77.1
CLIENT=192.168.77.2
WAN_IP=1.2.3.4
DESC_URL=http://$ROUTER:5000/rootDesc.xml
FAILS=0

say() { echo "[$SCENARIO] $*"; }
check() {
	# check "what" command...: runs it, records a failure if it fails
	local what=$1
	shift
	if "$@"; then
		say "ok   - $what"
	else
		say "FAIL - $what"
		FAILS=$((FAILS + 1))
	fi
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# expected_protocol: the protocol plum must map with in $SCENARIO (PCP,
# UPNP, or NONE without a daemon), as lab_client and c_garbage name it;
# exits 2 on a scenario it does not know.
expected_protocol() {
	case "$SCENARIO" in
	all | pmp-only) echo PCP ;;
	upnp-only | igd1) echo UPNP ;;
	nothing) echo NONE ;;
	*)
		echo "unknown scenario $SCENARIO" >&2
		return 2
		;;
	esac
}

lab_begin() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: the lab needs root (network namespaces, nftables)"
		exit 77
	fi
	if ! ip netns list >/dev/null 2>&1; then
		echo "SKIP: 'ip netns' is unavailable"
		exit 77
	fi
	exec 8>"$LAB_SESSION_LOCK"
	flock -w 600 8 || {
		echo "another lab session held $LAB_SESSION_LOCK for 10 minutes"
		exit 1
	}
	trap lab_end EXIT
	local rc=0
	"$LAB" up "$SCENARIO" || rc=$?
	if [ "$rc" = 77 ]; then
		trap - EXIT
		exit 77
	fi
	[ "$rc" = 0 ] || {
		echo "lab up failed ($rc)"
		exit 1
	}
}

lab_end() {
	local rc=$?
	[ -n "${LAB_WORK:-}" ] && rm -rf "$LAB_WORK"
	if [ "$rc" != 0 ] || [ "$FAILS" != 0 ]; then
		echo "--- router log (last 40 lines) ---"
		"$LAB" log 40 2>/dev/null || true
		echo "--- router ruleset ---"
		"$LAB" router-exec nft list ruleset 2>/dev/null || true
	fi
	"$LAB" down >/dev/null 2>&1 || true
	exit "$rc"
}

# dnat_for PORT: the router has a DNAT rule for that external port to the client.
dnat_for() {
	"$LAB" rules | grep -Eq "dport $1 dnat ip to $CLIENT:[0-9]+"
}
no_dnat_for() { ! dnat_for "$1"; }
no_dnat_at_all() { [ "$("$LAB" rules --count)" = 0 ]; }

# wait_until MS command...: polls every 20 ms until the command succeeds.
wait_until() {
	local deadline=$(($(now_ms) + $1))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# For the scripts that drive a client binary in plum-lan; they set
# CLIENT_BIN and WORK.
# run_client NAME ARGS...: $CLIENT_BIN in plum-lan, in the background;
# output in $WORK/NAME.out, pid in CLIENT_PID.
run_client() {
	local name=$1
	shift
	timeout 120 "$LAB" exec "$CLIENT_BIN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	CLIENT_PID=$!
}
# client_done NAME: waits for the client, shows its output, returns its status.
client_done() {
	local rc=0
	wait "$CLIENT_PID" || rc=$?
	sed "s/^/[$SCENARIO]   $1: /" "$WORK/$1.out"
	[ "$rc" = 0 ] || tail -n 30 "$WORK/$1.err" | sed "s/^/[$SCENARIO]   $1 stderr: /"
	return "$rc"
}
# mapped_or_gone NAME: the client reported its mapping, or exited already.
mapped_or_gone() { [ -e "$WORK/$1.mapped" ] || ! kill -0 "$CLIENT_PID" 2>/dev/null; }

lab_finish() {
	if [ "$FAILS" != 0 ]; then
		say "$FAILS check(s) failed"
		exit 1
	fi
	say "all checks passed"
	exit 0
}
