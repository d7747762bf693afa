// route.hpp for macOS, iOS, FreeBSD, NetBSD, OpenBSD and DragonFly: the
// routing table from sysctl(NET_RT_FLAGS), parsed by routing_message.cpp;
// the interface addresses from getifaddrs, their state from
// SIOCGIFAFLAG_IN6, chosen by in6_flags.cpp.
//
// No machine that builds plum has compiled this file: there is no SDK or
// sysroot for these systems here. What it does with the bytes it reads
// (routing_message.cpp, in6_flags.cpp) is compiled and tested on Linux
// against hand-built macOS, FreeBSD and OpenBSD dumps, and fuzzed; this
// file (the sysctl and getifaddrs calls, the layouts from the headers) is
// not. Expect to fix it on its first build.
#include "net/route.hpp"

#include "net/in6_flags.hpp"
#include "net/routing_message.hpp"
#include "net/source_address.hpp"

#include <sys/types.h>

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/sysctl.h>

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

// iOS' SDK ships no <net/route.h>: there the layout is kXnuLayout (the
// same kernel as macOS), and the two constants below are XNU's.
#if __has_include(<net/route.h>)
#include <net/route.h>
#define PLUM_HAVE_NET_ROUTE_H
#endif
// The address flags (SIOCGIFAFLAG_IN6, IN6_IFF_*); also not in iOS' SDK,
// where an address's state is unknown and only its kind ranks it.
#if __has_include(<netinet6/in6_var.h>)
#include <netinet6/in6_var.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>

namespace plum::net {

namespace {

Error system_error(const char *what) {
	return Error(std::error_code(errno, std::generic_category()), what);
}

#ifdef PLUM_HAVE_NET_ROUTE_H

// How each system pads the sockaddrs of a routing message; no header says
// it as a constant, so per system, from the kernel's own macro.
#if defined(__APPLE__)
constexpr size_t kSockaddrAlign = sizeof(uint32_t); // XNU rtsock.c ROUNDUP32, 64-bit too
#elif defined(RT_ROUNDUP)
constexpr size_t kSockaddrAlign = RT_ROUNDUP(1); // NetBSD: 8 bytes on every architecture
#else
constexpr size_t kSockaddrAlign = sizeof(long); // FreeBSD SA_SIZE, OpenBSD and DragonFly ROUNDUP
#endif

// The fields the parser reads, and their sizes, as it reads them.
static_assert(sizeof(rt_msghdr::rtm_msglen) == 2 && sizeof(rt_msghdr::rtm_version) == 1 &&
              sizeof(rt_msghdr::rtm_type) == 1 && sizeof(rt_msghdr::rtm_index) == 2 &&
              sizeof(rt_msghdr::rtm_flags) == 4 && sizeof(rt_msghdr::rtm_addrs) == 4);
// routing_message.cpp's fixed sockaddr layout.
static_assert(offsetof(sockaddr_in, sin_addr) == 4 && offsetof(sockaddr_in6, sin6_addr) == 8 &&
              offsetof(sockaddr_in6, sin6_scope_id) == 24 && sizeof(sockaddr_in6) == 28);

constexpr rtmsg::Layout system_layout() {
	rtmsg::Layout l;
	l.header_size = sizeof(rt_msghdr);
	l.msglen_offset = offsetof(rt_msghdr, rtm_msglen);
	l.version_offset = offsetof(rt_msghdr, rtm_version);
	l.type_offset = offsetof(rt_msghdr, rtm_type);
	l.index_offset = offsetof(rt_msghdr, rtm_index);
	l.flags_offset = offsetof(rt_msghdr, rtm_flags);
	l.addrs_offset = offsetof(rt_msghdr, rtm_addrs);
#if defined(__OpenBSD__)
	// Only OpenBSD's header says where the sockaddrs start, and only it
	// reports a route's priority.
	static_assert(sizeof(rt_msghdr::rtm_hdrlen) == 2 && sizeof(rt_msghdr::rtm_priority) == 1);
	l.hdrlen_offset = offsetof(rt_msghdr, rtm_hdrlen);
	l.priority_offset = offsetof(rt_msghdr, rtm_priority);
#endif
	l.version = RTM_VERSION;
	l.type_get = RTM_GET;
	l.type_add = RTM_ADD;
	l.flag_up = RTF_UP;
	l.flag_gateway = RTF_GATEWAY;
#ifdef RTF_IFSCOPE
	l.flag_ifscope = RTF_IFSCOPE; // macOS
#endif
	l.rta_dst = RTA_DST;
	l.rta_gateway = RTA_GATEWAY;
	l.rta_netmask = RTA_NETMASK;
	l.rtax_max = RTAX_MAX;
	l.af_inet = AF_INET;
	l.af_inet6 = AF_INET6;
	l.af_link = AF_LINK;
	l.sockaddr_align = kSockaddrAlign;
	return l;
}
constexpr rtmsg::Layout kLayout = system_layout();
constexpr int kRtfGateway = RTF_GATEWAY;

#if defined(__APPLE__)
// iOS builds use kXnuLayout: a Mac build checks it against the header.
static_assert(kLayout.header_size == rtmsg::kXnuLayout.header_size &&
              kLayout.flags_offset == rtmsg::kXnuLayout.flags_offset &&
              kLayout.addrs_offset == rtmsg::kXnuLayout.addrs_offset &&
              kLayout.index_offset == rtmsg::kXnuLayout.index_offset &&
              kLayout.version == rtmsg::kXnuLayout.version &&
              kLayout.flag_ifscope == rtmsg::kXnuLayout.flag_ifscope &&
              kLayout.af_inet6 == rtmsg::kXnuLayout.af_inet6 &&
              kLayout.af_link == rtmsg::kXnuLayout.af_link);
#endif

#elif defined(__APPLE__)
constexpr rtmsg::Layout kLayout = rtmsg::kXnuLayout;
constexpr int kRtfGateway = 0x2; // XNU's RTF_GATEWAY
static_assert(AF_INET6 == 30 && AF_LINK == 18);
#else
#error "route_bsd.cpp needs <net/route.h>"
#endif

#ifndef NET_RT_FLAGS
#define NET_RT_FLAGS 2 // XNU's bsd/sys/socket.h, where an SDK hides it
#endif

// The routing table's routes with a gateway, of one family:
// sysctl({CTL_NET, PF_ROUTE, 0, family, NET_RT_FLAGS, RTF_GATEWAY}). The
// table may grow between asking its size and reading it (ENOMEM): ask
// again, a few times, with room to spare, up to 1 MiB.
Result<Bytes> routing_dump(int family) {
	constexpr size_t kMaxDump = 1u << 20;
	constexpr int kTries = 4;
	int mib[6] = {CTL_NET, PF_ROUTE, 0, family, NET_RT_FLAGS, kRtfGateway};
	for (int attempt = 0; attempt < kTries; ++attempt) {
		size_t needed = 0;
		if (::sysctl(mib, 6, nullptr, &needed, nullptr, 0) != 0)
			return system_error("sysctl(NET_RT_FLAGS) for the routing table's size");
		if (needed > kMaxDump)
			return Error(Errc::too_large,
			             "routing table of " + std::to_string(needed) + " bytes, over 1 MiB");
		size_t size = std::min(needed + needed / 4 + 4096, kMaxDump);
		Bytes dump(size);
		if (::sysctl(mib, 6, dump.data(), &size, nullptr, 0) == 0) {
			dump.resize(size);
			return dump;
		}
		if (errno != ENOMEM)
			return system_error("sysctl(NET_RT_FLAGS) reading the routing table");
	}
	return Error(Errc::too_large,
	             "routing table still growing after " + std::to_string(kTries) + " reads");
}

Result<std::vector<rtmsg::Route>> routes(int family) {
	auto dump = routing_dump(family);
	if (!dump)
		return dump.error();
	return rtmsg::parse_routes(*dump, kLayout);
}

// IN6_IFF_* where the header is there; none (all zero) where it is not.
constexpr in6::FlagBits flag_bits() {
	in6::FlagBits b;
#ifdef IN6_IFF_TENTATIVE
	b.tentative = IN6_IFF_TENTATIVE;
#endif
#ifdef IN6_IFF_DUPLICATED
	b.duplicated = IN6_IFF_DUPLICATED;
#endif
#ifdef IN6_IFF_DETACHED
	b.detached = IN6_IFF_DETACHED;
#endif
#ifdef IN6_IFF_DEPRECATED
	b.deprecated = IN6_IFF_DEPRECATED;
#endif
#ifdef IN6_IFF_TEMPORARY
	b.temporary = IN6_IFF_TEMPORARY;
#endif
#ifdef IN6_IFF_CLAT46
	b.clat46 = IN6_IFF_CLAT46;
#endif
	return b;
}

// An address's IN6_IFF_* flags, asked of the kernel on an AF_INET6 socket;
// 0 (nothing known) where the request does not exist or fails.
uint32_t in6_flags(int socket, const char *interface, const sockaddr_in6 &address) {
#ifdef SIOCGIFAFLAG_IN6
	if (socket < 0)
		return 0;
	in6_ifreq request{};
	const size_t n = std::min(std::strlen(interface), sizeof request.ifr_name - 1);
	std::memcpy(request.ifr_name, interface, n);
	request.ifr_ifru.ifru_addr = address;
	if (::ioctl(socket, SIOCGIFAFLAG_IN6, &request) != 0)
		return 0;
	return static_cast<uint32_t>(request.ifr_ifru.ifru_flags6);
#else
	(void)socket;
	(void)interface;
	(void)address;
	return 0;
#endif
}

} // namespace

Result<asio::ip::address_v4> default_gateway() {
	auto table = routes(AF_INET);
	if (!table)
		return table.error();
	return rtmsg::default_gateway(*table, kLayout);
}

Result<Gateway6> default_gateway6() {
	auto table = routes(AF_INET6);
	if (!table)
		return table.error();
	auto gw = rtmsg::default_gateway6(*table, kLayout);
	if (gw) {
		char name[IF_NAMESIZE] = {};
		if (::if_indextoname(gw->index, name))
			gw->interface_name = name;
	}
	return gw;
}

Result<asio::ip::address_v6> global_address6(unsigned interface_index) {
	ifaddrs *list = nullptr;
	if (::getifaddrs(&list) != 0)
		return system_error("getifaddrs");
	const std::unique_ptr<ifaddrs, void (*)(ifaddrs *)> owned(list, ::freeifaddrs);
	// For the flags; without it, addresses rank by their kind alone.
	const int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
	struct Closer {
		int fd;
		~Closer() {
			if (fd >= 0)
				::close(fd);
		}
	} closer{fd};

	std::vector<in6::InterfaceAddress> addresses;
	for (const ifaddrs *i = list; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 || !i->ifa_name)
			continue;
		const unsigned index = ::if_nametoindex(i->ifa_name);
		if (index != interface_index)
			continue;
		sockaddr_in6 sin6;
		std::memcpy(&sin6, i->ifa_addr, sizeof sin6);
		asio::ip::address_v6::bytes_type bytes;
		std::memcpy(bytes.data(), &sin6.sin6_addr, bytes.size());
		addresses.push_back({asio::ip::address_v6(bytes), index, in6_flags(fd, i->ifa_name, sin6)});
	}
	return in6::global_address6(addresses, interface_index, flag_bits());
}

// The kernel's route lookup for a connected UDP socket (nothing is sent).
Result<asio::ip::address_v4> local_address_towards(const asio::ip::address_v4 &peer) {
	return connected_source_address(peer);
}

Result<asio::ip::address_v6> local_address_towards6(const asio::ip::address_v6 &peer) {
	return connected_source_address(peer);
}

} // namespace plum::net
