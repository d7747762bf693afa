#!/usr/bin/env bash
# The demo: plum maps a port on a real router. Sets up the machine, builds,
# brings up the lab (Debian's miniupnpd in network namespaces), runs
# `plumc probe` and `plumc map tcp 8080 --hold` inside it for a few seconds
# (the protocol chosen, the public address and port, a renewal, the rule on
# the router), then tears the lab down. Without root or network namespaces,
# it says why and runs against the loopback mock router instead.
set -euo pipefail
cd "$(dirname "$0")/.."
hold_seconds=${PLUM_DEMO_SECONDS:-8}

tools/setup.sh
[ -f build/build.ninja ] || meson setup build -Dwerror=true >/dev/null
ninja -C build >/dev/null
plumc=$PWD/build/tools/plumc

lab_ok() {
  [ "$(id -u)" -eq 0 ] || { echo "demo: not root"; return 1; }
  ip netns add plum-demo-check 2>/dev/null || { echo "demo: 'ip netns' does not work here"; return 1; }
  ip netns del plum-demo-check
}

banner() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if reason=$(lab_ok); then
  # The lab is one per machine: wait for a running lab test to finish.
  exec 8>/run/plum-lab.session.lock
  flock -w 600 8 || { echo "demo: the lab stayed busy for 10 minutes"; exit 1; }
  trap 'tools/lab/lab.sh down >/dev/null 2>&1 || true' EXIT
  banner "lab: miniupnpd 2.3.1 (PCP, NAT-PMP, UPnP IGDv2) in plum-rtr, plum in plum-lan (192.168.77.2)"
  tools/lab/lab.sh up all
  banner "plumc probe: which protocols the router speaks"
  tools/lab/lab.sh exec "$plumc" probe
  banner "plumc map tcp 8080 --hold (lifetime 6 s, renewed every ~3 s; ${hold_seconds} s, then Ctrl-C)"
  tools/lab/lab.sh exec timeout -s INT "$hold_seconds" "$plumc" -v map tcp 8080 --hold --lifetime 6 || true
  banner "the router's port-forwarding rules after plumc let go"
  tools/lab/lab.sh rules
  banner "plumc map tcp 9090 (one-shot, like upnpc -a), then the router's rules"
  tools/lab/lab.sh exec "$plumc" map tcp 9090
  tools/lab/lab.sh rules
  tools/lab/lab.sh exec "$plumc" unmap tcp 9090
else
  echo "$reason: running the demo against the loopback mock router instead"
  coproc MOCK { exec build/tests/mock_router/mock_router; }
  mock_pid=$MOCK_PID
  read -r ports <&"${MOCK[0]}"
  pcp_port=${ports#pcp_port=}; pcp_port=${pcp_port%% *}
  ssdp_port=${ports##*ssdp_port=}
  opts=(--gateway 127.0.0.1 --local 127.0.0.1 --pcp-port "$pcp_port" --ssdp "127.0.0.1:$ssdp_port")
  banner "plumc probe (mock router on 127.0.0.1)"
  "$plumc" "${opts[@]}" probe
  banner "plumc map tcp 8080 --hold (lifetime 6 s; ${hold_seconds} s, then Ctrl-C)"
  timeout -s INT "$hold_seconds" "$plumc" "${opts[@]}" -v map tcp 8080 --hold --lifetime 6 || true
  exec {MOCK[1]}>&-
  wait "$mock_pid" || true
fi
