// Parsers of the routing and address tables Linux prints under /proc/net:
// the fallback when netlink is not available (see route_linux.cpp). Pure,
// so they build and are tested on every platform.
#pragma once

#include "net/route.hpp"
#include "plum/result.hpp"

#include <asio/ip/address_v4.hpp>
#include <asio/ip/address_v6.hpp>

#include <string_view>

namespace plum::net {

// Parses the text of /proc/net/route: the gateway of the default route
// (destination 0.0.0.0/0) with the lowest metric.
Result<asio::ip::address_v4> parse_default_gateway(std::string_view proc_net_route);

// Parses /proc/net/ipv6_route: the default route (::/0, up, with a
// gateway) of the lowest metric, with its interface's name (no index, no
// scope id: the caller looks those up).
Result<Gateway6> parse_default_gateway6(std::string_view proc_net_ipv6_route);

// Parses /proc/net/if_inet6: the address of `interface` a pinhole should
// open to, ranked as global_address6() says.
Result<asio::ip::address_v6> parse_global_address6(std::string_view proc_net_if_inet6,
                                                   std::string_view interface_name);

} // namespace plum::net
