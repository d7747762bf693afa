// The routing-socket header layouts of three systems, written out as facts
// from their headers (no BSD header exists on the machines that build
// plum): what route_bsd.cpp fills in from <net/route.h> there. The parser's
// tests and its fuzz target both read dumps under them. macos() is kept
// apart from rtmsg::kXnuLayout on purpose: the test checks one against the
// other.
#pragma once

#include "net/routing_message.hpp"

namespace plum::test {

namespace rtmsg = plum::net::rtmsg;

// macOS and iOS (XNU bsd/net/route.h, bsd/sys/socket.h, bsd/net/rtsock.c):
// struct rt_msghdr is u_short rtm_msglen, u_char rtm_version, u_char
// rtm_type, u_short rtm_index, (2 bytes padding), int rtm_flags, int
// rtm_addrs, pid_t, int, int, int rtm_use, u_int32_t rtm_inits, then
// struct rt_metrics of 14 u_int32_t: 92 bytes. RTM_VERSION 5, RTM_ADD 1,
// RTM_GET 4, RTF_UP 0x1, RTF_GATEWAY 0x2, RTF_IFSCOPE 0x1000000, RTA_DST
// 0x1, RTA_GATEWAY 0x2, RTA_NETMASK 0x4, RTAX_MAX 8; AF_INET 2, AF_INET6
// 30, AF_LINK 18; sockaddrs rounded up to 4 bytes (ROUNDUP32) even on
// 64-bit machines.
inline rtmsg::Layout macos() {
	rtmsg::Layout l;
	l.header_size = 92;
	l.msglen_offset = 0;
	l.version_offset = 2;
	l.type_offset = 3;
	l.index_offset = 4;
	l.flags_offset = 8;
	l.addrs_offset = 12;
	l.version = 5;
	l.type_get = 4;
	l.type_add = 1;
	l.flag_up = 0x1;
	l.flag_gateway = 0x2;
	l.flag_ifscope = 0x1000000;
	l.rta_dst = 0x1;
	l.rta_gateway = 0x2;
	l.rta_netmask = 0x4;
	l.rtax_max = 8;
	l.af_inet = 2;
	l.af_inet6 = 30;
	l.af_link = 18;
	l.sockaddr_align = 4;
	return l;
}

// FreeBSD on amd64 (sys/net/route.h): the same first fields (rtm_index,
// then u_short _rtm_spare1, so rtm_flags at 8 and rtm_addrs at 12), then
// pid_t, int rtm_seq, int rtm_errno, int rtm_fmask, u_long rtm_inits at 32
// and struct rt_metrics of 14 u_long: 152 bytes. RTM_VERSION 5 and the
// same RTM_*, RTF_UP, RTF_GATEWAY, RTA_* and RTAX_MAX as above, no
// RTF_IFSCOPE; AF_INET6 28; SA_SIZE rounds sockaddrs up to sizeof(long),
// 8 bytes here.
inline rtmsg::Layout freebsd() {
	rtmsg::Layout l = macos();
	l.header_size = 152;
	l.flag_ifscope = 0;
	l.af_inet6 = 28;
	l.sockaddr_align = 8;
	return l;
}

// OpenBSD on amd64 (sys/net/route.h, sys/net/rtsock.c): u_short
// rtm_msglen, u_char rtm_version, u_char rtm_type, u_short rtm_hdrlen,
// u_short rtm_index, u_short rtm_tableid, u_char rtm_priority, u_char
// rtm_mpls, int rtm_addrs at 12, int rtm_flags at 16, then rtm_fmask,
// rtm_pid, rtm_seq, rtm_errno, u_int rtm_inits and a 56-byte rt_metrics:
// 96 bytes. RTAX_MAX 15; AF_INET6 24; ROUNDUP to sizeof(long).
inline rtmsg::Layout openbsd() {
	rtmsg::Layout l = macos();
	l.header_size = 96;
	l.hdrlen_offset = 4;
	l.index_offset = 6;
	l.priority_offset = 10;
	l.addrs_offset = 12;
	l.flags_offset = 16;
	l.flag_ifscope = 0;
	l.rtax_max = 15;
	l.af_inet6 = 24;
	l.sockaddr_align = 8;
	return l;
}

} // namespace plum::test
