#!/bin/bash
# Recapture tests/fixtures/miniupnpd-2.3.1/ from Debian's miniupnpd in the
# lab, and refresh the miniupnpd-* seeds in fuzz/corpus/. Needs root.
#
# usage: tools/lab/capture_fixtures.sh [OUTDIR]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB=$ROOT/tools/lab/lab.sh
CAP=$ROOT/tools/lab/capture_fixtures.py
OUT=${1:-$ROOT/tests/fixtures/miniupnpd-2.3.1}
PY=${PLUM_LAB_PYTHON:-$(command -v python3)}

trap '"$LAB" down >/dev/null 2>&1 || true' EXIT
"$LAB" down >/dev/null
"$LAB" up all
mkdir -p "$OUT"

# The router's unsolicited multicast notices at start-up: listen on
# 224.0.0.1:5350 in plum-lan while the router reboots.
ready=$(mktemp -u /tmp/plum-lab-ready.XXXXXX)
timeout 20 "$LAB" exec "$PY" "$CAP" listen "$OUT" 3 "$ready" &
listener=$!
for _ in $(seq 250); do
	[ -e "$ready" ] && break
	sleep 0.02
done
[ -e "$ready" ] || { echo "capture: listener did not start" >&2; exit 1; }
"$LAB" restart-router
wait "$listener"
rm -f "$ready"

timeout 60 "$LAB" exec "$PY" "$CAP" upnp "$OUT" igd2
timeout 60 "$LAB" exec "$PY" "$CAP" pcp "$OUT"
[ "$("$LAB" rules --count)" = 0 ] || { echo "capture: mappings left behind:" >&2; "$LAB" rules >&2; exit 1; }

"$LAB" up igd1
timeout 60 "$LAB" exec "$PY" "$CAP" upnp "$OUT" igd1
[ "$("$LAB" rules --count)" = 0 ] || { echo "capture: mappings left behind:" >&2; "$LAB" rules >&2; exit 1; }

# Fuzz seeds: datagrams as they are, HTTP responses whole, and the bodies
# for the XML parsers.
if [ "$OUT" = "$ROOT/tests/fixtures/miniupnpd-2.3.1" ]; then
	C=$ROOT/fuzz/corpus
	mkdir -p "$C"/{pcp,natpmp,http_response,ssdp,igd_description,soap_response}
	for f in "$OUT"/pcp-*.bin; do cp "$f" "$C/pcp/miniupnpd-$(basename "$f")"; done
	for f in "$OUT"/natpmp-*.bin; do cp "$f" "$C/natpmp/miniupnpd-$(basename "$f")"; done
	for f in "$OUT"/*-ssdp-*.bin; do cp "$f" "$C/ssdp/miniupnpd-$(basename "$f")"; done
	for f in "$OUT"/*.http; do cp "$f" "$C/http_response/miniupnpd-$(basename "$f")"; done
	for f in "$OUT"/*-root-desc.xml "$OUT"/*-scpd-*.xml; do cp "$f" "$C/igd_description/miniupnpd-$(basename "$f")"; done
	for f in "$OUT"/*-soap-*.http; do
		b=$(basename "$f" .http)
		"$PY" -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(d.partition(b"\r\n\r\n")[2])' "$f" \
			>"$C/soap_response/miniupnpd-$b.xml"
	done
fi
echo "capture: done -> $OUT"
