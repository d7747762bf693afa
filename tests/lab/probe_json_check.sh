#!/bin/bash
# `plumc probe --json` against Debian's miniupnpd: the JSON is parsed
# (python3's json module) and each field checked against what the lab's
# router is: which protocols answer in the scenario, the external address
# 1.2.3.4 (public), the PCP/NAT-PMP epoch, the UPnP device as miniupnpd
# describes it (friendly_name from the lab's config). In scenario all, a
# short `plumc map --hold --json` also shows its counters (renewals, results)
# and `plumc status` lists it while it runs.
#
# usage: probe_json_check.sh LAB_SH PLUMC SCENARIO
set -uo pipefail
LAB=$1
PLUMC=$2
SCENARIO=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lab_test_lib.sh"
[ -x "$PLUMC" ] || {
	echo "plumc not built: $PLUMC"
	exit 1
}
command -v python3 >/dev/null || {
	echo "SKIP: python3 is needed to parse the JSON"
	exit 77
}
lab_begin

WORK=$(mktemp -d /tmp/plum-lab-probe.XXXXXX)
LAB_WORK=$WORK # lab_end removes it

# check_json FILE SCENARIO: the probe's JSON, field by field.
check_json() {
	python3 - "$1" "$2" "$WAN_IP" "$ROUTER" "$CLIENT" <<'EOF'
import json, sys
path, scenario, wan, router, client = sys.argv[1:]
with open(path) as f:
    text = f.read()
fails = []
def want(what, ok):
    print(("ok   - " if ok else "FAIL - ") + what)
    if not ok:
        fails.append(what)
try:
    j = json.loads(text)
except ValueError as e:
    print("FAIL - the output is one JSON object: %s\n%s" % (e, text))
    sys.exit(1)
want("one JSON object, nothing else", text.count("\n") == 1 and isinstance(j, dict))
want("gateway %s" % router, j.get("gateway") == router)
want("local address %s" % client, j.get("local_address") == client)
want("not direct", j.get("direct") is False)
protocols = {p.get("protocol"): p for p in j.get("protocols", [])}
want("PCP, NAT-PMP and UPnP each reported", sorted(protocols) == ["NAT-PMP", "PCP", "UPnP"])
answers = {
    "all": {"PCP", "NAT-PMP", "UPnP"},
    "pmp-only": {"PCP", "NAT-PMP"},
    "upnp-only": {"UPnP"},
    "igd1": {"UPnP"},
    "nothing": set(),
}[scenario]
for name, p in protocols.items():
    answered = name in answers
    want("%s answered: %s" % (name, answered), p.get("answered") is answered)
    want("%s elapsed_ms is a number" % name, isinstance(p.get("elapsed_ms"), (int, float)))
    if not answered:
        want("%s says why not" % name, isinstance(p.get("error"), str) and p["error"] != "")
        continue
    rtt = p.get("rtt_ms")
    want("%s rtt_ms in [0, 2000): %s" % (name, rtt), isinstance(rtt, (int, float)) and 0 <= rtt < 2000)
    if name in ("PCP", "NAT-PMP"):
        want("%s epoch present: %s" % (name, p.get("epoch")), isinstance(p.get("epoch"), int) and p["epoch"] >= 0)
    if name in ("NAT-PMP", "UPnP"):
        want("%s external address %s" % (name, wan), p.get("external_address") == wan)
    if name == "UPnP":
        d = p.get("upnp") or {}
        igd = 1 if scenario == "igd1" else 2
        want("UPnP friendly name 'plum lab router': %r" % d.get("friendly_name"), d.get("friendly_name") == "plum lab router")
        # Debian's miniupnpd build describes itself so (see the fixtures
        # captured from this lab, tests/fixtures/miniupnpd-2.3.1/).
        want("UPnP manufacturer 'Debian', model 'Debian router': %r / %r" % (d.get("manufacturer"), d.get("model_name")),
             d.get("manufacturer") == "Debian" and d.get("model_name") == "Debian router")
        want("UPnP IGD version %d: %r" % (igd, d.get("igd_version")), d.get("igd_version") == igd)
        want("UPnP device type InternetGatewayDevice:%d" % igd,
             d.get("device_type") == "urn:schemas-upnp-org:device:InternetGatewayDevice:%d" % igd)
        svc = "urn:schemas-upnp-org:service:WANIPConnection:%d" % igd
        want("UPnP service %s" % svc, d.get("service_type") == svc)
        want("UPnP control URL on the router", str(d.get("control_url", "")).startswith("http://%s:" % router))
        want("UPnP services listed, %s among them" % svc, svc in d.get("services", []))
    else:
        want("%s has no UPnP device" % name, "upnp" not in p)
chosen = {"all": "PCP", "pmp-only": "PCP", "upnp-only": "UPnP", "igd1": "UPnP", "nothing": None}[scenario]
want("chosen %s" % chosen, j.get("chosen") == chosen)
if scenario == "nothing":
    want("no external address", j.get("external_address") is None)
    want("verdict unknown", j.get("verdict") == "unknown")
    want("double_nat and cgnat null", j.get("double_nat") is None and j.get("cgnat") is None)
else:
    want("external address %s" % wan, j.get("external_address") == wan)
    want("verdict public", j.get("verdict") == "public")
    want("no double NAT, no CGNAT", j.get("double_nat") is False and j.get("cgnat") is False)
sys.exit(1 if fails else 0)
EOF
}

"$LAB" exec timeout 30 "$PLUMC" --timeout 2000 --json probe >"$WORK/probe.json" 2>"$WORK/probe.err"
rc=$?
expect_rc=0
[ "$SCENARIO" = nothing ] && expect_rc=1
check "plumc probe --json exits $expect_rc (got $rc)" [ "$rc" = "$expect_rc" ]
[ "$rc" = "$expect_rc" ] || sed "s/^/[$SCENARIO]   stderr: /" "$WORK/probe.err"
if check_json "$WORK/probe.json" "$SCENARIO" | sed "s/^/[$SCENARIO]   /"; then
	say "ok   - probe JSON fields"
else
	say "FAIL - probe JSON fields"
	sed "s/^/[$SCENARIO]   json: /" "$WORK/probe.json"
	FAILS=$((FAILS + 1))
fi

if [ "$SCENARIO" = all ]; then
	# The counters of a real router: a 4 s lifetime is renewed every ~2 s.
	export PLUMC_STATUS_DIR=$WORK/status
	"$LAB" exec env PLUMC_STATUS_DIR="$PLUMC_STATUS_DIR" timeout --preserve-status -s INT 7 "$PLUMC" --timeout 2000 --json \
		map tcp 8095 --hold --lifetime 4 >"$WORK/hold.json" 2>"$WORK/hold.err" &
	hold_pid=$!
	status_lists_hold() {
		"$LAB" exec env PLUMC_STATUS_DIR="$PLUMC_STATUS_DIR" "$PLUMC" status --json >"$WORK/status.json" 2>/dev/null &&
			python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))["holders"]
sys.exit(0 if any(m["internal_port"] == 8095 and m["state"] == "SUCCESS"
                  for x in h for m in x["stats"]["mappings"]) else 1)' "$WORK/status.json"
	}
	check "plumc status lists the running holder and its mapping" wait_until 5000 status_lists_hold
	wait "$hold_pid"
	check "map --hold ended cleanly on SIGINT" [ $? = 0 ]
	check_hold() {
		python3 - "$WORK/hold.json" "$WAN_IP" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
states = [l["state"] for l in lines if "state" in l]
stats = [l["stats"] for l in lines if "stats" in l]
ok = True
def want(what, cond):
    global ok
    print(("ok   - " if cond else "FAIL - ") + what)
    ok = ok and cond
want("states SUCCESS ... DESTROYED: %s" % states, states[:1] == ["SUCCESS"] and states[-1:] == ["DESTROYED"])
want("a stats object after the first change and at exit", len(stats) >= 2)
last = stats[-1] if stats else {}
pcp = last.get("protocols", {}).get("PCP", {})
want("active PCP, external %s" % sys.argv[2], last.get("active") == "PCP" and last.get("external_address") == sys.argv[2])
want("PCP renewals >= 1: %s" % pcp.get("renewals"), pcp.get("renewals", 0) >= 1)
want("PCP results SUCCESS >= 3: %s" % pcp.get("results"), pcp.get("results", {}).get("SUCCESS", 0) >= 3)
want("PCP requests >= 3, no timeout: %s / %s" % (pcp.get("requests"), pcp.get("timeouts")),
     pcp.get("requests", 0) >= 3 and pcp.get("timeouts") == 0)
want("no mapping left at exit", last.get("mappings") == [])
sys.exit(0 if ok else 1)
EOF
	}
	if check_hold | sed "s/^/[$SCENARIO]   /"; then
		say "ok   - map --hold --json counters"
	else
		say "FAIL - map --hold --json counters"
		sed "s/^/[$SCENARIO]   hold: /" "$WORK/hold.json" "$WORK/hold.err"
		FAILS=$((FAILS + 1))
	fi
	check "the status file is gone after exit" [ -z "$(ls -A "$PLUMC_STATUS_DIR" 2>/dev/null)" ]
	check "no DNAT rule left" wait_until 2000 no_dnat_at_all
fi

lab_finish
