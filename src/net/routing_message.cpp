#include "net/routing_message.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <string>
#include <utility>

namespace plum::net::rtmsg {

namespace {

// The 4.4BSD sockaddrs, the same on every system with a routing socket:
// sa_len, sa_family, then sin_port and sin_addr; sin6_port, sin6_flowinfo,
// sin6_addr and sin6_scope_id.
constexpr size_t kSinAddr = 4;
constexpr size_t kSin6Addr = 8;
constexpr size_t kSin6ScopeId = 24;
// Bounds on a Layout, so that a wrong one is refused instead of read.
constexpr size_t kMaxHeader = 1024;
constexpr size_t kMaxAlign = 64;
constexpr unsigned kMaxRtax = 32;

// Native-endian fields of a message whose length was checked.
unsigned u8_at(ByteSpan m, size_t at) {
	return std::to_integer<unsigned>(m[at]);
}
uint16_t u16_at(ByteSpan m, size_t at) {
	uint16_t v;
	std::memcpy(&v, m.data() + at, sizeof v);
	return v;
}
uint32_t u32_at(ByteSpan m, size_t at) {
	uint32_t v;
	std::memcpy(&v, m.data() + at, sizeof v);
	return v;
}

// The address bytes of a sockaddr from `offset`, as many as it holds: a
// routing socket trims trailing zero bytes off masks (sa_len shorter than
// the structure), so the missing ones read as zero.
template <size_t N> std::array<unsigned char, N> address_bytes(ByteSpan sa, size_t offset) {
	std::array<unsigned char, N> b{};
	if (sa.size() > offset)
		std::memcpy(b.data(), sa.data() + offset, std::min(N, sa.size() - offset));
	return b;
}

unsigned family_of(ByteSpan sa) {
	return sa.size() >= 2 ? u8_at(sa, 1) : 0;
}

asio::ip::address address_of(ByteSpan sa, const Layout &layout) {
	const unsigned family = family_of(sa);
	if (family == layout.af_inet)
		return asio::ip::address_v4(address_bytes<4>(sa, kSinAddr));
	if (family != layout.af_inet6)
		return {};
	auto b = address_bytes<16>(sa, kSin6Addr);
	uint32_t scope = 0;
	if (sa.size() >= kSin6ScopeId + 4)
		scope = u32_at(sa, kSin6ScopeId);
	// KAME: inside the kernel a link-local address carries its interface
	// in bytes 2-3 (network order), and some routing messages still do.
	const bool link_local = b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
	if (link_local) {
		const unsigned embedded = unsigned(b[2]) << 8 | b[3];
		b[2] = b[3] = 0;
		if (scope == 0)
			scope = embedded;
	}
	return asio::ip::address_v6(b, link_local ? scope : 0);
}

// Leading one bits of the mask's address bytes.
unsigned prefix_of(ByteSpan sa, unsigned family, const Layout &layout) {
	unsigned bits = 0;
	auto count = [&bits](const auto &bytes) {
		for (unsigned char byte : bytes) {
			const unsigned ones = static_cast<unsigned>(std::countl_one(byte));
			bits += ones;
			if (ones < 8)
				break;
		}
	};
	if (family == layout.af_inet6)
		count(address_bytes<16>(sa, kSin6Addr));
	else
		count(address_bytes<4>(sa, kSinAddr));
	return bits;
}

bool layout_ok(const Layout &l) {
	const auto fits = [&l](size_t offset, size_t size) {
		return offset <= l.header_size && size <= l.header_size - offset;
	};
	return l.header_size > 0 && l.header_size <= kMaxHeader && fits(l.msglen_offset, 2) &&
	       fits(l.version_offset, 1) && fits(l.type_offset, 1) && fits(l.index_offset, 2) &&
	       fits(l.flags_offset, 4) && fits(l.addrs_offset, 4) &&
	       (!l.hdrlen_offset || fits(*l.hdrlen_offset, 2)) &&
	       (!l.priority_offset || fits(*l.priority_offset, 1)) && l.sockaddr_align > 0 &&
	       l.sockaddr_align <= kMaxAlign && l.rtax_max <= kMaxRtax;
}

// The end of the fields the parser reads, which every message must hold.
size_t fields_end(const Layout &l) {
	size_t end = std::max({l.msglen_offset + 2, l.version_offset + 1, l.type_offset + 1,
	                       l.index_offset + 2, l.flags_offset + 4, l.addrs_offset + 4});
	if (l.hdrlen_offset)
		end = std::max(end, *l.hdrlen_offset + 2);
	if (l.priority_offset)
		end = std::max(end, *l.priority_offset + 1);
	return end;
}

// One route message (its type is known to be a route's).
Result<Route> parse_route(ByteSpan m, const Layout &layout) {
	const size_t fixed = fields_end(layout);
	if (m.size() < fixed)
		return Error(Errc::malformed, "routing message of " + std::to_string(m.size()) +
		                                  " bytes is shorter than its header");
	// Where the sockaddrs start: OpenBSD says so in rtm_hdrlen.
	const size_t start =
	    layout.hdrlen_offset ? u16_at(m, *layout.hdrlen_offset) : layout.header_size;
	if (start < fixed || start > m.size())
		return Error(Errc::malformed, "routing message shorter than its header (header " +
		                                  std::to_string(start) + " bytes, message " +
		                                  std::to_string(m.size()) + ")");
	Route route;
	route.type = u8_at(m, layout.type_offset);
	route.index = u16_at(m, layout.index_offset);
	route.flags = u32_at(m, layout.flags_offset);
	if (layout.priority_offset)
		route.priority = u8_at(m, *layout.priority_offset);
	const uint32_t addrs = u32_at(m, layout.addrs_offset);

	// Each sockaddr named by a bit of rtm_addrs, in bit order: sa_len
	// bytes, padded to the alignment (a zero sa_len still takes one unit).
	std::optional<ByteSpan> dst, gateway, netmask;
	ByteSpan rest = m.subspan(start);
	for (unsigned i = 0; i < layout.rtax_max; ++i) {
		const uint32_t bit = uint32_t(1) << i;
		if ((addrs & bit) == 0)
			continue;
		if (rest.empty())
			return Error(Errc::malformed, "rtm_addrs names a sockaddr past the end of its message");
		const size_t sa_len = u8_at(rest, 0);
		if (sa_len > rest.size())
			return Error(Errc::malformed, "sockaddr of " + std::to_string(sa_len) +
			                                  " bytes overruns its routing message");
		const ByteSpan sa = rest.first(sa_len);
		if (bit == layout.rta_dst)
			dst = sa;
		else if (bit == layout.rta_gateway)
			gateway = sa;
		else if (bit == layout.rta_netmask)
			netmask = sa;
		const size_t a = layout.sockaddr_align;
		const size_t padded = sa_len == 0 ? a : (sa_len + a - 1) / a * a;
		// The padding of the last sockaddr may be cut off: it holds nothing.
		rest = rest.subspan(std::min(padded, rest.size()));
	}

	if (dst) {
		route.destination = address_of(*dst, layout);
		const unsigned family = family_of(*dst);
		route.has_destination = family == layout.af_inet || family == layout.af_inet6;
		if (netmask)
			route.prefix_length = prefix_of(*netmask, family, layout);
	}
	if (gateway) {
		route.gateway_family = family_of(*gateway);
		route.gateway = address_of(*gateway, layout);
	}
	return route;
}

} // namespace

Result<std::vector<Route>> parse_routes(ByteSpan dump, const Layout &layout) {
	if (!layout_ok(layout))
		return Error(Errc::invalid_argument, "routing message layout out of bounds");
	std::vector<Route> routes;
	ByteReader r(dump);
	while (!r.at_end()) {
		// rtm_msglen, rtm_version and rtm_type are where every version of
		// the header keeps them, so that a reader can skip what it does
		// not know.
		const size_t prefix =
		    std::max({layout.msglen_offset + 2, layout.version_offset + 1, layout.type_offset + 1});
		if (r.remaining() < prefix)
			return Error(Errc::truncated, "routing dump ends inside a message header");
		const ByteSpan head = dump.subspan(r.position(), prefix);
		const size_t msglen = u16_at(head, layout.msglen_offset);
		if (msglen == 0)
			return Error(Errc::malformed, "routing message with rtm_msglen 0");
		if (msglen < prefix)
			return Error(Errc::malformed, "routing message of " + std::to_string(msglen) +
			                                  " bytes is shorter than its header");
		if (msglen > r.remaining())
			return Error(Errc::truncated, "routing message of " + std::to_string(msglen) +
			                                  " bytes overruns the dump (" +
			                                  std::to_string(r.remaining()) + " left)");
		const ByteSpan m = r.span(msglen);
		const unsigned version = u8_at(m, layout.version_offset);
		if (version != layout.version)
			return Error(Errc::unsupported, "routing message version " + std::to_string(version) +
			                                    ", expected " + std::to_string(layout.version));
		const unsigned type = u8_at(m, layout.type_offset);
		if (type != layout.type_get && type != layout.type_add)
			continue;
		auto route = parse_route(m, layout);
		if (!route)
			return route.error();
		routes.push_back(std::move(*route));
	}
	return routes;
}

namespace {

const Route *best_default(const std::vector<Route> &routes, const Layout &layout, bool v6) {
	const uint32_t up_gateway = layout.flag_up | layout.flag_gateway;
	const Route *best = nullptr;
	const auto rank = [&layout](const Route &r) {
		const bool scoped = layout.flag_ifscope != 0 && (r.flags & layout.flag_ifscope) != 0;
		return std::pair(scoped, r.priority);
	};
	for (const auto &r : routes) {
		if (!r.has_destination || r.destination.is_v6() != v6 || !r.destination.is_unspecified() ||
		    r.prefix_length.value_or(0) != 0 || (r.flags & up_gateway) != up_gateway ||
		    r.gateway.is_v6() != v6 || r.gateway.is_unspecified())
			continue;
		if (r.gateway_family != (v6 ? layout.af_inet6 : layout.af_inet))
			continue;
		if (!best || rank(r) < rank(*best))
			best = &r;
	}
	return best;
}

} // namespace

Result<asio::ip::address_v4> default_gateway(const std::vector<Route> &routes,
                                             const Layout &layout) {
	const Route *r = best_default(routes, layout, false);
	if (!r)
		return Error(Errc::no_gateway, "no IPv4 default route");
	return r->gateway.to_v4();
}

Result<Gateway6> default_gateway6(const std::vector<Route> &routes, const Layout &layout) {
	const Route *r = best_default(routes, layout, true);
	if (!r)
		return Error(Errc::no_gateway, "no IPv6 default route");
	Gateway6 gw{r->gateway.to_v6(), {}, r->index};
	if (gw.address.is_link_local()) {
		// The route's interface is the scope when the address carries none.
		if (gw.address.scope_id() == 0)
			gw.address.scope_id(r->index);
		if (gw.index == 0)
			gw.index = static_cast<unsigned>(gw.address.scope_id());
		if (gw.address.scope_id() == 0)
			return Error(Errc::no_gateway, "IPv6 default route via " + gw.address.to_string() +
			                                   " names no interface");
	}
	return gw;
}

} // namespace plum::net::rtmsg
