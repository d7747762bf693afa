// The BSD routing socket's route messages (PF_ROUTE, as macOS, iOS,
// FreeBSD, NetBSD, OpenBSD and DragonFly speak it): a pure parser of a
// sysctl(NET_RT_DUMP / NET_RT_FLAGS) dump, and the choice of the default
// route over what it parsed. route_bsd.cpp reads the dump.
//
// A dump is a sequence of messages, each an rt_msghdr followed by the
// sockaddrs its rtm_addrs bitmask names, in RTAX order:
//
//   +-----------------------------+ 0
//   | rtm_msglen (u_short)        |   whole message, sockaddrs included
//   | rtm_version, rtm_type ...   |
//   | rtm_index, rtm_flags,       |   (offsets differ per system)
//   | rtm_addrs ...               |
//   +-----------------------------+ header size (OpenBSD: rtm_hdrlen)
//   | sa_len | sa_family | ...   |   RTAX_DST if RTA_DST is set
//   | padding to the alignment    |   (sa_len 0 still takes one unit)
//   +-----------------------------+
//   | RTAX_GATEWAY, RTAX_NETMASK, ... each the same way
//   +-----------------------------+ rtm_msglen
//
// Everything that differs per system is a Layout, which route_bsd.cpp fills
// from <net/route.h> with offsetof, sizeof and the macros, and the tests
// fill with the values those headers hold; the parser never includes a
// system header, so it is compiled, tested and fuzzed on Linux. The
// sockaddr_in / sockaddr_in6 layout (sin_addr at 4; sin6_addr at 8,
// sin6_scope_id at 24) is the same on all of them.
//
// The parser bounds-checks every length: the kernel writes these bytes, but
// a wrong Layout must give an error, not a crash.
#pragma once

#include "core/bytes.hpp"
#include "net/route.hpp"
#include "plum/result.hpp"

#include <asio/ip/address.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace plum::net::rtmsg {

struct Layout {
	size_t header_size = 0; // sizeof(struct rt_msghdr)
	// Offsets in rt_msghdr: rtm_msglen and rtm_index are u_short,
	// rtm_version and rtm_type u_char, rtm_flags and rtm_addrs int.
	size_t msglen_offset = 0;
	size_t version_offset = 0;
	size_t type_offset = 0;
	size_t index_offset = 0;
	size_t flags_offset = 0;
	size_t addrs_offset = 0;
	// OpenBSD's rtm_hdrlen (u_short): where the sockaddrs start, which a
	// newer kernel may move; elsewhere they follow header_size bytes.
	std::optional<size_t> hdrlen_offset;
	// OpenBSD's rtm_priority (u_char, lower is preferred); the other
	// systems have no route metric a dump reports.
	std::optional<size_t> priority_offset;

	unsigned version = 0;      // RTM_VERSION
	unsigned type_get = 0;     // RTM_GET: what a sysctl dump is made of
	unsigned type_add = 0;     // RTM_ADD: the same format, read off a socket
	uint32_t flag_up = 0;      // RTF_UP
	uint32_t flag_gateway = 0; // RTF_GATEWAY
	// macOS's RTF_IFSCOPE: a default route bound to one interface, beside
	// the unscoped one the system uses; 0 where there is none.
	uint32_t flag_ifscope = 0;
	uint32_t rta_dst = 0;      // RTA_DST
	uint32_t rta_gateway = 0;  // RTA_GATEWAY
	uint32_t rta_netmask = 0;  // RTA_NETMASK
	unsigned rtax_max = 0;     // RTAX_MAX: how many rtm_addrs bits name a sockaddr
	unsigned af_inet = 0;      // AF_INET
	unsigned af_inet6 = 0;     // AF_INET6
	unsigned af_link = 0;      // AF_LINK
	size_t sockaddr_align = 0; // each sockaddr is padded to a multiple of it
};

// XNU's layout (macOS and iOS, every architecture), as facts from its
// bsd/net/route.h, bsd/sys/socket.h and bsd/net/rtsock.c (ROUNDUP32): iOS'
// SDK ships no <net/route.h>, so route_bsd.cpp uses this there, and checks
// it against the header where there is one.
inline constexpr Layout kXnuLayout = [] {
	Layout l;
	l.header_size = 92; // 36 bytes of fields + rt_metrics of 14 u_int32_t
	l.msglen_offset = 0;
	l.version_offset = 2;
	l.type_offset = 3;
	l.index_offset = 4;
	l.flags_offset = 8; // after 2 bytes of padding
	l.addrs_offset = 12;
	l.version = 5;
	l.type_get = 0x4;
	l.type_add = 0x1;
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
	l.sockaddr_align = 4; // ROUNDUP32, on 64-bit systems too
	return l;
}();

struct Route {
	unsigned type = 0;     // RTM_GET, RTM_ADD
	uint32_t flags = 0;    // RTF_*
	unsigned index = 0;    // rtm_index: the interface the route leaves by
	unsigned priority = 0; // rtm_priority where the layout has one, else 0
	// RTAX_DST when it is an AF_INET or AF_INET6 sockaddr, else unspecified.
	asio::ip::address destination;
	bool has_destination = false;
	// RTAX_NETMASK's prefix length (its leading one bits, read against the
	// destination's family; bytes past sa_len are zero); none when absent.
	std::optional<unsigned> prefix_length;
	// RTAX_GATEWAY's family (AF_LINK for a route to a link, 0 if absent),
	// and its address when that is AF_INET or AF_INET6. An IPv6 link-local
	// gateway carries its scope: sin6_scope_id, or else the interface index
	// KAME kernels embed in bytes 2-3 of the address (which are cleared).
	unsigned gateway_family = 0;
	asio::ip::address gateway;
};

// One dump's route messages; messages of other types are skipped.
// Errors: Errc::invalid_argument for a Layout that cannot be right,
// Errc::malformed for a zero rtm_msglen, a message shorter than its header
// or a sockaddr that overruns its message, Errc::truncated for a dump that
// ends inside a message, Errc::unsupported for a message of another
// RTM_VERSION.
Result<std::vector<Route>> parse_routes(ByteSpan dump, const Layout &layout);

// Choices over parsed routes (pure): the default route (destination
// 0.0.0.0 or ::, netmask absent or /0, RTF_UP and RTF_GATEWAY, a gateway of
// the same family: an AF_LINK gateway is skipped), an unscoped one before a
// scoped one, then the lowest priority, then the first. For IPv6 the
// interface is rtm_index, and a link-local next hop carries a scope id.
Result<asio::ip::address_v4> default_gateway(const std::vector<Route> &routes,
                                             const Layout &layout);
Result<Gateway6> default_gateway6(const std::vector<Route> &routes, const Layout &layout);

} // namespace plum::net::rtmsg
