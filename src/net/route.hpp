// The default gateway and the local address that reaches it, asked of the
// operating system. Both can be pinned in plum::Config instead.
//
// This is the platform seam: the functions below are the same everywhere,
// and one file per platform answers them, chosen in src/net/meson.build:
// route_linux.cpp, route_windows.cpp, and route_bsd.cpp for macOS, iOS and
// the BSDs (whose parsers are tested on Linux, but which no machine that
// builds plum has compiled).
// Nothing above src/net/ asks which system it runs on.
#pragma once

#include "plum/result.hpp"

#include <asio/ip/address_v4.hpp>
#include <asio/ip/address_v6.hpp>

#include <string>

namespace plum::net {

// The gateway of the IPv4 default route of the lowest metric.
Result<asio::ip::address_v4> default_gateway();

// The local address the system would send from to reach `peer` (a route
// lookup: nothing is sent).
Result<asio::ip::address_v4> local_address_towards(const asio::ip::address_v4 &peer);

// --- IPv6 -------------------------------------------------------------------

// A default route: the next hop and the interface it leaves by. The next
// hop is usually the router's link-local address (fe80::/10), meaningless
// without the interface: default_gateway6() sets its scope id then.
struct Gateway6 {
	asio::ip::address_v6 address;
	std::string interface_name; // its name, for logs ("eth0"); may be empty
	unsigned index = 0;         // its index, which is what sockets use
};

// The IPv6 default route of the lowest metric.
Result<Gateway6> default_gateway6();
// The local address the system would send from to reach a (non link-local)
// IPv6 peer, as local_address_towards does for IPv4.
Result<asio::ip::address_v6> local_address_towards6(const asio::ip::address_v6 &peer);
// The global address of interface `index` a pinhole should open to: a
// usable one (not tentative, deprecated or failed DAD), a public (2000::/3)
// one before a ULA, a stable one before a temporary (privacy) one.
Result<asio::ip::address_v6> global_address6(unsigned interface_index);

} // namespace plum::net
