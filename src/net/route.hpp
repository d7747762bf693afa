// The default gateway and the local address that reaches it, from the
// kernel. Both can be pinned in plum::Config instead.
#pragma once

#include "plum/result.hpp"

#include <asio/ip/address_v4.hpp>
#include <asio/ip/address_v6.hpp>

#include <string>
#include <string_view>

namespace plum::net {

// Parses the text of /proc/net/route (Linux): the gateway of the default
// route (destination 0.0.0.0/0) with the lowest metric. Pure.
Result<asio::ip::address_v4> parse_default_gateway(std::string_view proc_net_route);

// Reads /proc/net/route (bounded read).
Result<asio::ip::address_v4> default_gateway();

// The local address the kernel would send from to reach `peer`: a UDP
// socket connect()ed to it (which sends nothing) tells its local endpoint.
Result<asio::ip::address_v4> local_address_towards(const asio::ip::address_v4 &peer);

// --- IPv6 -------------------------------------------------------------------

// A default route: the next hop and the interface it leaves by. The next
// hop is usually the router's link-local address (fe80::/10), meaningless
// without the interface: the returned address carries no scope; see
// default_gateway6() for one that does.
struct Gateway6 {
	asio::ip::address_v6 address;
	std::string interface;
};

// Parses /proc/net/ipv6_route (Linux): the default route (::/0, up, with a
// gateway) of the lowest metric. Pure.
Result<Gateway6> parse_default_gateway6(std::string_view proc_net_ipv6_route);

// Parses /proc/net/if_inet6: the global address of `interface` a pinhole
// should open to: a usable one (not tentative, deprecated or failed DAD), a
// public (2000::/3) one before a ULA, a stable one before a temporary one.
// Pure.
Result<asio::ip::address_v6> parse_global_address6(std::string_view proc_net_if_inet6,
                                                   std::string_view interface);

// Reads /proc/net/ipv6_route: the default gateway, with the interface's
// scope id when it is link-local (so a socket can reach it).
Result<Gateway6> default_gateway6();
// The local address the kernel would send from to reach a (non link-local)
// IPv6 peer, as local_address_towards does for IPv4.
Result<asio::ip::address_v6> local_address_towards6(const asio::ip::address_v6 &peer);
// Reads /proc/net/if_inet6: parse_global_address6 for that interface.
Result<asio::ip::address_v6> global_address6(std::string_view interface);

} // namespace plum::net
