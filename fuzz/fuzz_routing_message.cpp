// Fuzz target for the BSD routing-socket parser (src/net/routing_message.cpp)
// under three layouts: XNU's (4-byte sockaddrs), FreeBSD's on amd64 (8-byte)
// and OpenBSD's (rtm_hdrlen, rtm_priority), the same facts as
// tests/net/routing_message_test.cpp. Besides no crash: whatever parses
// names a route of the dump's types, and a default gateway that is chosen
// is one of the parsed gateways, of its family, and an IPv6 link-local
// one carries a scope.
#include "net/routing_message.hpp"

#include <cstddef>
#include <cstdint>

namespace {

using plum::net::rtmsg::Layout;

Layout freebsd() {
	Layout l = plum::net::rtmsg::kXnuLayout;
	l.header_size = 152;
	l.flag_ifscope = 0;
	l.af_inet6 = 28;
	l.sockaddr_align = 8;
	return l;
}

Layout openbsd() {
	Layout l = plum::net::rtmsg::kXnuLayout;
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
	static const Layout layouts[] = {plum::net::rtmsg::kXnuLayout, freebsd(), openbsd()};
	const plum::ByteSpan in(reinterpret_cast<const std::byte *>(data), size);
	for (const auto &layout : layouts)
		check(in, layout);
	return 0;
}
