// Fuzz target for the rtnetlink dump parser (Linux, Android): the kernel
// writes these bytes, but the parser bounds-checks them as if it did not.
// Whatever parses, the choices over it must hold: a default gateway is
// one of the routes' gateways, of the family asked for.
#include "net/netlink_route.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	using namespace plum::net;
	plum::ByteSpan in(reinterpret_cast<const std::byte *>(data), size);

	if (auto routes = netlink::parse_routes(in); routes.ok()) {
		auto has_gateway = [&](const asio::ip::address &a) {
			return std::any_of(routes->begin(), routes->end(), [&](const netlink::Route &r) {
				return r.gateway == a || (r.gateway.is_v6() && a.is_v6() &&
				                          r.gateway.to_v6().to_bytes() == a.to_v6().to_bytes());
			});
		};
		if (auto gw = netlink::default_gateway(*routes); gw.ok() && !has_gateway(*gw))
			__builtin_trap();
		if (auto gw6 = netlink::default_gateway6(*routes); gw6.ok() && !has_gateway(gw6->address))
			__builtin_trap();
	}
	if (auto addresses = netlink::parse_addresses(in); addresses.ok()) {
		for (const auto &a : *addresses)
			if (auto best = netlink::global_address6(*addresses, a.index); best.ok()) {
				const bool listed = std::any_of(addresses->begin(), addresses->end(),
				                                [&](const netlink::Address &b) {
					                                return b.index == a.index && b.address == *best;
				                                });
				if (!listed)
					__builtin_trap();
			}
	}
	return 0;
}
