#!/usr/bin/python3
"""Capture miniupnpd's real replies as test fixtures, from inside plum-lan.

Run by tools/lab/capture_fixtures.sh through `lab.sh exec`; it talks only to
the lab router (192.168.77.1) and the SSDP/PCP multicast groups on the lab
LAN. Every wait is bounded. Files are written raw: datagrams byte for byte,
HTTP responses with status line, headers and body exactly as received.

usage:
  capture_fixtures.py upnp OUTDIR PREFIX      (PREFIX: igd2 or igd1)
  capture_fixtures.py pcp OUTDIR
  capture_fixtures.py listen OUTDIR SECONDS READYFILE  (multicast 224.0.0.1:5350)
"""
import os
import re
import socket
import struct
import sys
import time

ROUTER = "192.168.77.1"
CLIENT = "192.168.77.2"
CLIENT2 = "192.168.77.3"  # a second host on the lab LAN
HTTP_PORT = 5000
PCP_PORT = 5351
SSDP_GROUP = ("239.255.255.250", 1900)
MAX_REPLY = 256 * 1024


def save(outdir, name, data):
	path = os.path.join(outdir, name)
	with open(path, "wb") as f:
		f.write(data)
	print(f"  {name} ({len(data)} bytes)")


# ---------------------------------------------------------------- SSDP/HTTP


def ssdp_search(st, wait_s=1.0):
	"""M-SEARCH for st; return the raw datagrams that came back (bounded)."""
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(CLIENT))
	s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
	s.bind((CLIENT, 0))
	msg = (
		"M-SEARCH * HTTP/1.1\r\n"
		f"HOST: {SSDP_GROUP[0]}:{SSDP_GROUP[1]}\r\n"
		'MAN: "ssdp:discover"\r\n'
		"MX: 1\r\n"
		f"ST: {st}\r\n"
		"\r\n"
	).encode()
	s.sendto(msg, SSDP_GROUP)
	replies = []
	deadline = time.monotonic() + wait_s
	while len(replies) < 16:
		left = deadline - time.monotonic()
		if left <= 0:
			break
		s.settimeout(left)
		try:
			data, addr = s.recvfrom(65536)
		except socket.timeout:
			break
		if addr[0] == ROUTER:
			replies.append(data)
	s.close()
	return replies


def http_exchange(request, timeout_s=5.0, source=CLIENT):
	"""Send a raw HTTP request, return the raw response (read to close)."""
	s = socket.create_connection((ROUTER, HTTP_PORT), timeout=timeout_s, source_address=(source, 0))
	s.sendall(request)
	chunks = []
	total = 0
	deadline = time.monotonic() + timeout_s
	while total < MAX_REPLY:
		left = deadline - time.monotonic()
		if left <= 0:
			raise TimeoutError("HTTP response not closed in time")
		s.settimeout(left)
		chunk = s.recv(65536)
		if not chunk:
			break
		chunks.append(chunk)
		total += len(chunk)
	s.close()
	return b"".join(chunks)


def http_get(path):
	req = (
		f"GET {path} HTTP/1.1\r\n"
		f"Host: {ROUTER}:{HTTP_PORT}\r\n"
		"Connection: close\r\n"
		"\r\n"
	).encode()
	return http_exchange(req)


def body_of(response):
	head, _, body = response.partition(b"\r\n\r\n")
	if b"chunked" in head.lower():
		raise ValueError("chunked responses are not expected from miniupnpd")
	return body


def soap(control_url, service_type, action, args, source=CLIENT):
	inner = "".join(f"<{k}>{v}</{k}>" for k, v in args)
	body = (
		'<?xml version="1.0"?>\r\n'
		'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
		's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
		f'<s:Body><u:{action} xmlns:u="{service_type}">{inner}</u:{action}></s:Body>'
		"</s:Envelope>\r\n"
	).encode()
	req = (
		f"POST {control_url} HTTP/1.1\r\n"
		f"Host: {ROUTER}:{HTTP_PORT}\r\n"
		'Content-Type: text/xml; charset="utf-8"\r\n'
		f'SOAPAction: "{service_type}#{action}"\r\n'
		f"Content-Length: {len(body)}\r\n"
		"Connection: close\r\n"
		"\r\n"
	).encode() + body
	return http_exchange(req, source=source)


def status_of(response):
	return response.split(b"\r\n", 1)[0].decode(errors="replace")


def upnp_error_of(response):
	m = re.search(rb"<errorCode>(\d+)</errorCode>", response)
	return int(m.group(1)) if m else None


def port_mapping_args(ext_port, proto, int_port, lease, desc, client=CLIENT):
	return [
		("NewRemoteHost", ""),
		("NewExternalPort", ext_port),
		("NewProtocol", proto),
		("NewInternalPort", int_port),
		("NewInternalClient", client),
		("NewEnabled", 1),
		("NewPortMappingDescription", desc),
		("NewLeaseDuration", lease),
	]


def expect(cond, what):
	if not cond:
		raise SystemExit(f"capture: unexpected reply: {what}")


def capture_upnp(outdir, prefix):
	version = 2 if prefix == "igd2" else 1
	print(f"UPnP ({prefix}):")
	searches = [
		("InternetGatewayDevice", f"urn:schemas-upnp-org:device:InternetGatewayDevice:{version}"),
		("WANIPConnection", f"urn:schemas-upnp-org:service:WANIPConnection:{version}"),
		("rootdevice", "upnp:rootdevice"),
	]
	location = None
	for label, st in searches:
		replies = ssdp_search(st)
		expect(replies, f"no SSDP reply for {st}")
		save(outdir, f"{prefix}-ssdp-{label}.bin", replies[0])
		m = re.search(rb"(?im)^location:\s*(\S+)", replies[0])
		if m:
			location = m.group(1).decode()
	expect(location, "no LOCATION in SSDP replies")
	path = "/" + location.split("/", 3)[3]

	root = http_get(path)
	expect(status_of(root).endswith("200 OK"), status_of(root))
	save(outdir, f"{prefix}-root-desc.http", root)
	root_xml = body_of(root)
	save(outdir, f"{prefix}-root-desc.xml", root_xml)

	services = re.findall(
		rb"<serviceType>([^<]+)</serviceType>.*?<SCPDURL>([^<]+)</SCPDURL>.*?<controlURL>([^<]+)</controlURL>",
		root_xml,
		re.S,
	)
	control = None
	service_type = None
	for stype, scpd, ctl in services:
		name = stype.decode().split(":")[-2]
		scpd_resp = http_get(scpd.decode())
		expect(status_of(scpd_resp).endswith("200 OK"), status_of(scpd_resp))
		save(outdir, f"{prefix}-scpd-{name}.xml", body_of(scpd_resp))
		if name == "WANIPConnection":
			control, service_type = ctl.decode(), stype.decode()
	expect(control, "no WANIPConnection in the description")

	def act(label, action, args, want_error=None, source=CLIENT):
		resp = soap(control, service_type, action, args, source)
		err = upnp_error_of(resp)
		print(f"  {action}: {status_of(resp)} error={err}")
		if want_error is None:
			expect(status_of(resp).endswith("200 OK"), f"{action}: {status_of(resp)}")
		else:
			expect(err == want_error, f"{action}: wanted {want_error}, got {err}")
		save(outdir, f"{prefix}-soap-{label}.http", resp)
		return resp

	act("GetExternalIPAddress", "GetExternalIPAddress", [])
	act("GetStatusInfo", "GetStatusInfo", [])
	act("AddPortMapping", "AddPortMapping", port_mapping_args(9000, "TCP", 9000, 3600, "plum fixture"))
	# Same external port for another LAN host: conflict. (The same host
	# asking again with another internal port just updates its mapping.)
	act(
		"AddPortMapping-718",
		"AddPortMapping",
		port_mapping_args(9000, "TCP", 9001, 3600, "plum fixture", CLIENT2),
		718,
		CLIENT2,
	)
	act(
		"GetSpecificPortMappingEntry",
		"GetSpecificPortMappingEntry",
		[("NewRemoteHost", ""), ("NewExternalPort", 9000), ("NewProtocol", "TCP")],
	)
	act(
		"GetSpecificPortMappingEntry-714",
		"GetSpecificPortMappingEntry",
		[("NewRemoteHost", ""), ("NewExternalPort", 9999), ("NewProtocol", "TCP")],
		714,
	)
	if version == 2:
		# Another host wants the taken port 9000: the router picks another.
		# (For the same host, miniupnpd would just move its mapping.)
		resp = act(
			"AddAnyPortMapping",
			"AddAnyPortMapping",
			port_mapping_args(9000, "TCP", 9002, 3600, "plum fixture any", CLIENT2),
			source=CLIENT2,
		)
		m = re.search(rb"<NewReservedPort>(\d+)</NewReservedPort>", resp)
		expect(m and int(m.group(1)) != 9000, "NewReservedPort is another port")
		soap(
			control,
			service_type,
			"DeletePortMapping",
			[("NewRemoteHost", ""), ("NewExternalPort", int(m.group(1))), ("NewProtocol", "TCP")],
			CLIENT2,
		)
	else:
		# An IGDv2-only action sent to the v1 service.
		resp = soap(control, service_type, "AddAnyPortMapping", port_mapping_args(9010, "TCP", 9010, 3600, "plum v2 on v1"))
		err = upnp_error_of(resp)
		print(f"  AddAnyPortMapping on v1: {status_of(resp)} error={err}")
		save(outdir, f"{prefix}-soap-AddAnyPortMapping-{err if err else 'accepted'}.http", resp)
		if err is None:
			m = re.search(rb"<NewReservedPort>(\d+)</NewReservedPort>", resp)
			if m:
				soap(
					control,
					service_type,
					"DeletePortMapping",
					[("NewRemoteHost", ""), ("NewExternalPort", int(m.group(1))), ("NewProtocol", "TCP")],
				)
	act(
		"DeletePortMapping",
		"DeletePortMapping",
		[("NewRemoteHost", ""), ("NewExternalPort", 9000), ("NewProtocol", "TCP")],
	)
	# miniupnpd 2.3.1 (nftables) does not answer 714 here but 200 OK: it
	# does not check that the mapping existed. Name the file by what it got.
	resp = soap(
		control,
		service_type,
		"DeletePortMapping",
		[("NewRemoteHost", ""), ("NewExternalPort", 9000), ("NewProtocol", "TCP")],
	)
	err = upnp_error_of(resp)
	print(f"  DeletePortMapping of nothing: {status_of(resp)} error={err}")
	save(outdir, f"{prefix}-soap-DeletePortMapping-nonexistent-{err if err else 200}.http", resp)
	# An action the service does not have at all.
	act("NoSuchAction-401", "NoSuchAction", [], 401)


# ------------------------------------------------------------ PCP / NAT-PMP


def udp_exchange(payload, timeout_s=3.0):
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.bind((CLIENT, 0))
	s.connect((ROUTER, PCP_PORT))
	t0 = time.monotonic()
	s.send(payload)
	s.settimeout(timeout_s)
	data = s.recv(2048)
	elapsed = time.monotonic() - t0
	s.close()
	return data, elapsed


def mapped_v4(addr):
	return b"\x00" * 10 + b"\xff\xff" + socket.inet_aton(addr)


def pcp_header(opcode, lifetime):
	# RFC 6887 §7.1: version 2, R=0|opcode, reserved, lifetime, client address
	return struct.pack("!BBHI", 2, opcode & 0x7F, 0, lifetime) + mapped_v4(CLIENT)


def pcp_map(nonce, proto, int_port, ext_port, lifetime):
	# RFC 6887 §11.1: nonce, protocol, 3 reserved, internal port, suggested
	# external port, suggested external address (all zero: no preference)
	return (
		pcp_header(1, lifetime)
		+ nonce
		+ struct.pack("!B3xHH", proto, int_port, ext_port)
		+ mapped_v4("0.0.0.0")
	)


def pcp_result(reply):
	return reply[3] if len(reply) >= 4 else None


def capture_pcp(outdir):
	print("PCP / NAT-PMP:")
	nonce = lambda i: bytes([0x70, 0x6C, 0x75, 0x6D]) + struct.pack("!Q", i)  # "plum" + counter

	reply, dt = udp_exchange(pcp_header(0, 0))
	print(f"  PCP ANNOUNCE: result={pcp_result(reply)} {dt*1000:.1f} ms")
	expect(pcp_result(reply) == 0, "ANNOUNCE")
	save(outdir, "pcp-announce-reply.bin", reply)

	reply, dt = udp_exchange(pcp_map(nonce(1), 6, 9100, 9100, 3600))
	print(f"  PCP MAP: result={pcp_result(reply)} {dt*1000:.1f} ms")
	expect(pcp_result(reply) == 0, "MAP")
	save(outdir, "pcp-map-success.bin", reply)

	reply, dt = udp_exchange(pcp_map(nonce(2), 17, 9101, 9101, 3600))
	print(f"  PCP MAP udp: result={pcp_result(reply)} {dt*1000:.1f} ms")
	expect(pcp_result(reply) == 0, "MAP udp")
	save(outdir, "pcp-map-udp-success.bin", reply)

	reply, dt = udp_exchange(pcp_map(nonce(1), 6, 9100, 0, 0))
	print(f"  PCP MAP delete: result={pcp_result(reply)} {dt*1000:.1f} ms")
	expect(pcp_result(reply) == 0, "MAP delete")
	save(outdir, "pcp-map-delete-success.bin", reply)
	udp_exchange(pcp_map(nonce(2), 17, 9101, 0, 0))

	reply, dt = udp_exchange(pcp_map(nonce(3), 6, 9200, 0, 0))
	print(f"  PCP MAP delete of nothing: result={pcp_result(reply)} {dt*1000:.1f} ms")
	expect(pcp_result(reply) == 8, "delete of nothing: NO_RESOURCES")
	save(outdir, "pcp-map-delete-nothing-no-resources.bin", reply)

	# Port 80 is outside the allowed 1024-65535. miniupnpd walks every
	# external port looking for an allowed one before it gives up: seconds.
	reply, dt = udp_exchange(pcp_map(nonce(4), 6, 80, 80, 3600), timeout_s=15.0)
	print(f"  PCP MAP denied port: result={pcp_result(reply)} {dt*1000:.1f} ms")
	expect(pcp_result(reply) == 2, "denied port: NOT_AUTHORIZED")
	save(outdir, "pcp-map-not-authorized.bin", reply)

	# A PCP opcode the server does not implement (PEER is 2; 5 is unassigned).
	reply, dt = udp_exchange(pcp_header(5, 0))
	print(f"  PCP unknown opcode: result={pcp_result(reply)} {dt*1000:.1f} ms")
	save(outdir, f"pcp-unsupp-opcode-{pcp_result(reply)}.bin", reply)

	# RFC 6886 §3.2: version 0, opcode 0
	reply, dt = udp_exchange(struct.pack("!BB", 0, 0))
	print(f"  NAT-PMP public address: {reply.hex()} {dt*1000:.1f} ms")
	expect(len(reply) == 12 and reply[1] == 128 and reply[2:4] == b"\0\0", "NAT-PMP address")
	save(outdir, "natpmp-public-address.bin", reply)

	# RFC 6886 §3.3: version 0, opcode 1 udp / 2 tcp, reserved, internal
	# port, suggested external port, lifetime
	reply, dt = udp_exchange(struct.pack("!BBHHHI", 0, 2, 0, 9300, 9300, 3600))
	print(f"  NAT-PMP map tcp: {reply.hex()} {dt*1000:.1f} ms")
	expect(len(reply) == 16 and reply[1] == 130 and reply[2:4] == b"\0\0", "NAT-PMP map tcp")
	save(outdir, "natpmp-map-tcp.bin", reply)

	reply, dt = udp_exchange(struct.pack("!BBHHHI", 0, 1, 0, 9301, 9301, 3600))
	print(f"  NAT-PMP map udp: {reply.hex()} {dt*1000:.1f} ms")
	expect(len(reply) == 16 and reply[1] == 129, "NAT-PMP map udp")
	save(outdir, "natpmp-map-udp.bin", reply)

	reply, dt = udp_exchange(struct.pack("!BBHHHI", 0, 2, 0, 9300, 0, 0))
	print(f"  NAT-PMP unmap tcp: {reply.hex()} {dt*1000:.1f} ms")
	save(outdir, "natpmp-unmap-tcp.bin", reply)
	udp_exchange(struct.pack("!BBHHHI", 0, 1, 0, 9301, 0, 0))

	reply, dt = udp_exchange(struct.pack("!BBHHHI", 0, 2, 0, 80, 80, 3600), timeout_s=15.0)
	print(f"  NAT-PMP map denied port: {reply.hex()} {dt*1000:.1f} ms")
	save(outdir, f"natpmp-map-denied-result{struct.unpack('!H', reply[2:4])[0]}.bin", reply)

	# Version 1 is neither NAT-PMP (0) nor PCP (2): miniupnpd 2.3.1 drops it.
	try:
		reply, dt = udp_exchange(struct.pack("!BB", 1, 0), timeout_s=1.0)
		print(f"  version 1: {reply.hex()} {dt*1000:.1f} ms")
		save(outdir, "pcp-unsupp-version-1.bin", reply)
	except socket.timeout:
		print("  version 1: no reply within 1 s")


def listen_announce(outdir, seconds, readyfile):
	"""Keep the datagrams sent to 224.0.0.1:5350 (PCP ANNOUNCE / NAT-PMP
	address notices) while the router restarts."""
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("224.0.0.1", 5350))
	mreq = socket.inet_aton("224.0.0.1") + socket.inet_aton(CLIENT)
	s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
	open(readyfile, "w").close()
	deadline = time.monotonic() + seconds
	seen = {}
	while True:
		left = deadline - time.monotonic()
		if left <= 0:
			break
		s.settimeout(left)
		try:
			data, addr = s.recvfrom(2048)
		except socket.timeout:
			break
		if addr[0] != ROUTER:
			continue
		kind = "pcp-announce-multicast" if data[:1] == b"\x02" else "natpmp-address-multicast"
		if kind not in seen:
			seen[kind] = data
			save(outdir, f"{kind}.bin", data)
	print(f"  multicast notices: {sorted(seen)}")


def main():
	mode = sys.argv[1]
	outdir = sys.argv[2]
	os.makedirs(outdir, exist_ok=True)
	if mode == "upnp":
		capture_upnp(outdir, sys.argv[3])
	elif mode == "pcp":
		capture_pcp(outdir)
	elif mode == "listen":
		listen_announce(outdir, float(sys.argv[3]), sys.argv[4])
	else:
		raise SystemExit(__doc__)


if __name__ == "__main__":
	main()
