// Linux's (and Android's) sources of routes, in the order route_linux.cpp
// asks them: netlink, then /proc/net (readable by ordinary processes on
// Linux, not by apps on Android 10 and later). Exposed so a test can make
// one of them unavailable.
#pragma once

#include "net/route_sources.hpp"

#include <string>

namespace plum::net {

RouteSource netlink_source();

struct ProcPaths {
	std::string route = "/proc/net/route";
	std::string ipv6_route = "/proc/net/ipv6_route";
	std::string if_inet6 = "/proc/net/if_inet6";
};
RouteSource proc_source(ProcPaths paths = {});

// { netlink_source(), proc_source() }
const std::vector<RouteSource> &linux_route_sources();

} // namespace plum::net
