// Fuzz target for the BSD routing-socket parser (src/net/routing_message.cpp)
// under three layouts: XNU's (4-byte sockaddrs), FreeBSD's on amd64 (8-byte)
// and OpenBSD's (rtm_hdrlen, rtm_priority), as tests/net/bsd_layouts.hpp
// states them. Besides no crash: whatever parses names a route of the
// dump's types, and a default gateway that is chosen is one of the parsed
// gateways, of its family, and an IPv6 link-local one carries a scope.
#include "bsd_layouts.hpp"
#include "net/routing_message.hpp"

#include <cstddef>
#include <cstdint>

namespace {

using plum::net::rtmsg::Layout;

void check(plum::ByteSpan in, const Layout &layout) {
	namespace rtmsg = plum::net::rtmsg;
	auto routes = rtmsg::parse_routes(in, layout);
	if (!routes)
		return;
	for (const auto &r : *routes)
		if (r.type != layout.type_get && r.type != layout.type_add)
			__builtin_trap();
	if (auto gw = rtmsg::default_gateway(*routes, layout); gw.ok()) {
		bool found = false;
		for (const auto &r : *routes)
			found = found || (r.gateway.is_v4() && r.gateway.to_v4() == *gw);
		if (!found || gw->is_unspecified())
			__builtin_trap();
	}
	if (auto gw = rtmsg::default_gateway6(*routes, layout); gw.ok()) {
		if (gw->address.is_unspecified() ||
		    (gw->address.is_link_local() && gw->address.scope_id() == 0))
			__builtin_trap();
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static const Layout layouts[] = {plum::net::rtmsg::kXnuLayout, plum::test::freebsd(),
	                                 plum::test::openbsd()};
	const plum::ByteSpan in(reinterpret_cast<const std::byte *>(data), size);
	for (const auto &layout : layouts)
		check(in, layout);
	return 0;
}
