#!/usr/bin/python3
"""Tiny probes run inside plum-lan by the lab tests (no Debian client for
these): SSDP and PCP. Bounded waits; exit 0 = got the expected answer.

  probe.py ssdp ST SECONDS         a reply from the router within SECONDS
  probe.py pcp-map PORT LIFETIME   PCP MAP tcp PORT, result SUCCESS (0)
  probe.py pcp-silent SECONDS      no PCP answer within SECONDS
"""
import socket
import struct
import sys
import time

ROUTER, CLIENT = "192.168.77.1", "192.168.77.2"


def ssdp(st, seconds):
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(CLIENT))
	s.bind((CLIENT, 0))
	msg = f'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: {st}\r\n\r\n'
	s.sendto(msg.encode(), ("239.255.255.250", 1900))
	deadline = time.monotonic() + seconds
	while (left := deadline - time.monotonic()) > 0:
		s.settimeout(left)
		try:
			data, addr = s.recvfrom(4096)
		except socket.timeout:
			break
		if addr[0] == ROUTER and b"LOCATION:" in data.upper():
			print(data.decode(errors="replace").split("\r\n")[0])
			return 0
	print("no SSDP reply")
	return 1


def pcp_request(port, lifetime, seconds):
	mapped = lambda a: b"\0" * 10 + b"\xff\xff" + socket.inet_aton(a)
	# RFC 6887 §11.3: only the nonce that made a mapping may delete it, so
	# the nonce is a function of the port.
	nonce = b"plumlab!" + struct.pack("!I", port)
	req = struct.pack("!BBHI", 2, 1, 0, lifetime) + mapped(CLIENT) + nonce
	req += struct.pack("!B3xHH", 6, port, port) + mapped("0.0.0.0")
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.bind((CLIENT, 0))
	s.connect((ROUTER, 5351))
	s.send(req)
	s.settimeout(seconds)
	try:
		reply = s.recv(1100)
	except (socket.timeout, ConnectionRefusedError):
		return None
	if reply[24:36] != nonce:
		raise SystemExit("PCP reply with another nonce")
	return reply


def main():
	mode = sys.argv[1]
	if mode == "ssdp":
		return ssdp(sys.argv[2], float(sys.argv[3]))
	if mode == "pcp-map":
		reply = pcp_request(int(sys.argv[2]), int(sys.argv[3]), 3.0)
		if reply is None:
			print("no PCP reply")
			return 1
		ext = socket.inet_ntoa(reply[56:60])
		print(f"result={reply[3]} external={ext}:{struct.unpack('!H', reply[42:44])[0]}")
		return 0 if reply[3] == 0 else 1
	if mode == "pcp-silent":
		reply = pcp_request(9999, 60, float(sys.argv[2]))
		print("no PCP reply" if reply is None else f"PCP reply result={reply[3]}")
		return 0 if reply is None else 1
	raise SystemExit(__doc__)


if __name__ == "__main__":
	sys.exit(main())
