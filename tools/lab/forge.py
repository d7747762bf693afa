#!/usr/bin/env python3
"""Forged PCP, NAT-PMP and SSDP packets, for the lab's hostile-LAN tests.

Run in the lab's plum-evil namespace (lab.sh evil-exec), never elsewhere:
it writes raw IPv4 datagrams, so the source address may be any, the
gateway's included (--src). Every destination must lie in the lab's LAN
(192.168.77.0/24) or be one of the two link-local groups plum listens on
(224.0.0.1, 239.255.255.250); anything else is refused.

usage: forge.py [--src IP] [--count N] [--interval S] KIND DEST:PORT [options]

KIND and its options:
  pcp-announce   [--epoch E]                 PCP ANNOUNCE response (RFC 6887 §14.1.3)
  pcp-map        --port P [--nonce HEX]      PCP MAP response (RFC 6887 §11.1)
                 [--ext-ip A] [--ext-port P] [--lifetime S] [--result R]
  natpmp-address --address A [--epoch E]     NAT-PMP external address (RFC 6886 §3.2)
  natpmp-map     --port P [--ext-port P]     NAT-PMP TCP mapping response (§3.3)
                 [--lifetime S] [--epoch E]
  ssdp-response  --location URL              SSDP search answer for an IGD
  ssdp-notify    --location URL [--bootid N] SSDP NOTIFY for an IGD
                 [--nts alive|byebye] [--usn UUID]
Prints one line: what was sent, how many times.
"""
import argparse
import ipaddress
import socket
import struct
import sys
import time

LAN = ipaddress.ip_network("192.168.77.0/24")
GROUPS = {ipaddress.ip_address("224.0.0.1"), ipaddress.ip_address("239.255.255.250")}
IGD = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
LAB_UUID = "8c9a6f3e-5a1b-4c2d-9e0f-706c756d6c61"  # lab.sh's miniupnpd


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def datagram(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    """An IPv4 header and a UDP header (with its checksum) before payload."""
    length = 8 + len(payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, length)
    udp = struct.pack("!HHHH", sport, dport, length, 0) + payload
    csum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    ttl = 1 if ipaddress.ip_address(dst) in GROUPS else 64
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, 0, 0, ttl, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + udp


def mapped_v6(addr: str) -> bytes:
    return b"\0" * 10 + b"\xff\xff" + socket.inet_aton(addr)


def pcp_header(opcode: int, result: int, lifetime: int, epoch: int) -> bytes:
    # version 2, R bit set (a response), opcode, reserved, result, lifetime,
    # epoch time, 96 reserved bits
    return struct.pack("!BBBBII", 2, 0x80 | opcode, 0, result, lifetime, epoch) + b"\0" * 12


def payload(a) -> tuple:
    """(source port, bytes) of the packet that a asks for."""
    if a.kind == "pcp-announce":
        return 5351, pcp_header(0, 0, 0, a.epoch)
    if a.kind == "pcp-map":
        nonce = bytes.fromhex(a.nonce) if a.nonce else b"\xa5" * 12
        data = nonce[:12].ljust(12, b"\0") + struct.pack("!B3xHH", 6, a.port, a.ext_port or a.port)
        return 5351, pcp_header(1, a.result, a.lifetime, a.epoch) + data + mapped_v6(a.ext_ip)
    if a.kind == "natpmp-address":
        return 5351, struct.pack("!BBHI", 0, 128, 0, a.epoch) + socket.inet_aton(a.address)
    if a.kind == "natpmp-map":
        return 5351, struct.pack("!BBHIHHI", 0, 130, 0, a.epoch, a.port, a.ext_port or a.port,
                                 a.lifetime)
    usn = f"uuid:{a.usn}::{IGD}"
    if a.kind == "ssdp-response":
        lines = ["HTTP/1.1 200 OK", "CACHE-CONTROL: max-age=120", f"ST: {IGD}", f"USN: {usn}",
                 f"LOCATION: {a.location}", "SERVER: lab/1 UPnP/1.1 forge/1", "EXT:",
                 f"BOOTID.UPNP.ORG: {a.bootid}"]
    else:
        lines = ["NOTIFY * HTTP/1.1", "HOST: 239.255.255.250:1900", "CACHE-CONTROL: max-age=120",
                 f"LOCATION: {a.location}", f"NT: {IGD}", f"NTS: ssdp:{a.nts}", f"USN: {usn}",
                 "SERVER: lab/1 UPnP/1.1 forge/1", f"BOOTID.UPNP.ORG: {a.bootid}"]
    return 1900, ("\r\n".join(lines) + "\r\n\r\n").encode()


def main() -> int:
    p = argparse.ArgumentParser(description="forged PCP/NAT-PMP/SSDP packets (lab only)")
    p.add_argument("--src", default="192.168.77.66")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--interval", type=float, default=0.0)
    p.add_argument("kind", choices=["pcp-announce", "pcp-map", "natpmp-address", "natpmp-map",
                                    "ssdp-response", "ssdp-notify"])
    p.add_argument("dest")
    p.add_argument("--epoch", type=int, default=0)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--ext-port", type=int, default=0)
    p.add_argument("--ext-ip", default="6.6.6.6")
    p.add_argument("--nonce", default="")
    p.add_argument("--lifetime", type=int, default=7200)
    p.add_argument("--result", type=int, default=0)
    p.add_argument("--address", default="6.6.6.6")
    p.add_argument("--location", default="http://192.168.77.66:80/rootDesc.xml")
    p.add_argument("--bootid", type=int, default=1)
    p.add_argument("--nts", choices=["alive", "byebye"], default="alive")
    p.add_argument("--usn", default=LAB_UUID)
    a = p.parse_args()

    host, _, port = a.dest.rpartition(":")
    dst = ipaddress.ip_address(host)
    src = ipaddress.ip_address(a.src)
    if not (dst in LAN or dst in GROUPS) or src not in LAN:
        print(f"forge: {a.src} -> {a.dest} is outside the lab's LAN: refused", file=sys.stderr)
        return 2
    if a.count < 1 or a.count > 10000:
        print("forge: --count must be 1..10000", file=sys.stderr)
        return 2
    sport, data = payload(a)
    packet = datagram(a.src, host, sport, int(port), data)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i in range(a.count):
        s.sendto(packet, (host, 0))
        if a.interval and i + 1 < a.count:
            time.sleep(a.interval)
    print(f"forge: {a.kind} {a.src}:{sport} -> {a.dest} x{a.count} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
