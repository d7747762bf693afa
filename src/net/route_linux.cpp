// route.hpp for Linux and Android: netlink first, /proc/net as the fallback.
#include "net/route_linux.hpp"

#include "net/netlink_route.hpp"
#include "net/proc_route.hpp"
#include "net/source_address.hpp"

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <fstream>

namespace plum::net {

RouteSource netlink_source() {
	RouteSource s;
	s.name = "netlink";
	s.gateway = []() -> Result<asio::ip::address_v4> {
		auto d = netlink::dump(RTM_GETROUTE, AF_INET);
		if (!d)
			return d.error();
		auto routes = netlink::parse_routes(*d);
		if (!routes)
			return routes.error();
		return netlink::default_gateway(*routes);
	};
	s.gateway6 = []() -> Result<Gateway6> {
		auto d = netlink::dump(RTM_GETROUTE, AF_INET6);
		if (!d)
			return d.error();
		auto routes = netlink::parse_routes(*d);
		if (!routes)
			return routes.error();
		auto gw = netlink::default_gateway6(*routes);
		if (gw) {
			char name[IF_NAMESIZE] = {};
			if (if_indextoname(gw->index, name))
				gw->interface_name = name;
		}
		return gw;
	};
	s.global_address6 = [](unsigned index) -> Result<asio::ip::address_v6> {
		auto d = netlink::dump(RTM_GETADDR, AF_INET6);
		if (!d)
			return d.error();
		auto addresses = netlink::parse_addresses(*d);
		if (!addresses)
			return addresses.error();
		return netlink::global_address6(*addresses, index);
	};
	return s;
}

namespace {

// Bounded: a routing or address table larger than 1 MiB is not one we walk.
Result<std::string> read_proc(const std::string &path) {
	std::ifstream in(path);
	if (!in)
		return Error(Errc::no_gateway, "cannot read " + path);
	std::string text;
	char buf[4096];
	while (in.read(buf, sizeof buf) || in.gcount() > 0) {
		text.append(buf, static_cast<size_t>(in.gcount()));
		if (text.size() > (1u << 20))
			return Error(Errc::too_large, path);
	}
	return text;
}

} // namespace

RouteSource proc_source(ProcPaths paths) {
	RouteSource s;
	s.name = "/proc";
	s.gateway = [paths]() -> Result<asio::ip::address_v4> {
		auto text = read_proc(paths.route);
		if (!text)
			return text.error();
		return parse_default_gateway(*text);
	};
	s.gateway6 = [paths]() -> Result<Gateway6> {
		auto text = read_proc(paths.ipv6_route);
		if (!text)
			return text.error();
		auto gw = parse_default_gateway6(*text);
		if (!gw)
			return gw.error();
		gw->index = if_nametoindex(gw->interface_name.c_str());
		if (gw->address.is_link_local()) {
			if (gw->index == 0)
				return Error(Errc::no_gateway, "no interface " + gw->interface_name);
			gw->address.scope_id(gw->index);
		}
		return gw;
	};
	s.global_address6 = [paths](unsigned index) -> Result<asio::ip::address_v6> {
		char name[IF_NAMESIZE] = {};
		if (!if_indextoname(index, name))
			return Error(Errc::no_gateway, "no interface " + std::to_string(index));
		auto text = read_proc(paths.if_inet6);
		if (!text)
			return text.error();
		return parse_global_address6(*text, name);
	};
	return s;
}

const std::vector<RouteSource> &linux_route_sources() {
	static const std::vector<RouteSource> sources{netlink_source(), proc_source()};
	return sources;
}

Result<asio::ip::address_v4> default_gateway() {
	return first_answer(linux_route_sources(), [](const RouteSource &s) { return s.gateway(); });
}

Result<Gateway6> default_gateway6() {
	return first_answer(linux_route_sources(), [](const RouteSource &s) { return s.gateway6(); });
}

Result<asio::ip::address_v6> global_address6(unsigned interface_index) {
	return first_answer(linux_route_sources(), [interface_index](const RouteSource &s) {
		return s.global_address6(interface_index);
	});
}

// The kernel's route lookup for a connected UDP socket is the one netlink
// would answer with RTM_GETROUTE for that destination (its RTA_PREFSRC).
Result<asio::ip::address_v4> local_address_towards(const asio::ip::address_v4 &peer) {
	return connected_source_address(peer);
}

Result<asio::ip::address_v6> local_address_towards6(const asio::ip::address_v6 &peer) {
	return connected_source_address(peer);
}

} // namespace plum::net
