// The routing-socket parser and the default-route choice, on dumps built
// here byte for byte as macOS, FreeBSD and OpenBSD lay them out. The
// layouts are written out as facts from each system's headers (no BSD
// header exists on the machine that runs this), so the test pins what
// route_bsd.cpp fills in from <net/route.h> there.
#include "bsd_layouts.hpp"
#include "net/routing_message.hpp"

#include <doctest/doctest.h>

#include <bit>
#include <cstring>

using namespace plum;
using asio::ip::make_address;
namespace rtmsg = plum::net::rtmsg;
using plum::test::freebsd;
using plum::test::macos;
using plum::test::openbsd;

namespace {

Bytes sa_in(const rtmsg::Layout &l, const std::string &text) {
	Bytes b(16);
	b[0] = std::byte{16};
	b[1] = std::byte(l.af_inet);
	const auto a = make_address(text).to_v4().to_bytes();
	std::memcpy(b.data() + 4, a.data(), 4);
	return b;
}

// `embedded`: the interface a KAME kernel writes into bytes 2-3 of a
// link-local address.
Bytes sa_in6(const rtmsg::Layout &l, const std::string &text, uint32_t scope_id = 0,
             uint16_t embedded = 0) {
	Bytes b(28);
	b[0] = std::byte{28};
	b[1] = std::byte(l.af_inet6);
	auto a = make_address(text).to_v6().to_bytes();
	if (embedded != 0) {
		a[2] = static_cast<unsigned char>(embedded >> 8);
		a[3] = static_cast<unsigned char>(embedded);
	}
	std::memcpy(b.data() + 8, a.data(), 16);
	std::memcpy(b.data() + 24, &scope_id, 4);
	return b;
}

// A sockaddr_dl (a route to a link): only sa_len and the family matter.
Bytes sa_dl(const rtmsg::Layout &l, uint8_t length, uint16_t index) {
	Bytes b(length);
	b[0] = std::byte{length};
	b[1] = std::byte(l.af_link);
	std::memcpy(b.data() + 2, &index, 2);
	return b;
}

// A netmask trimmed as a routing socket writes it: sa_len covers the
// bytes up to the last non-zero one (none at all for /0).
Bytes mask(const std::string &text, size_t address_offset) {
	const auto a = make_address(text);
	std::vector<unsigned char> bytes;
	if (a.is_v4()) {
		const auto b = a.to_v4().to_bytes();
		bytes.assign(b.begin(), b.end());
	} else {
		const auto b = a.to_v6().to_bytes();
		bytes.assign(b.begin(), b.end());
	}
	while (!bytes.empty() && bytes.back() == 0)
		bytes.pop_back();
	if (bytes.empty())
		return {};
	Bytes b(address_offset + bytes.size());
	b[0] = std::byte(b.size());
	std::memcpy(b.data() + address_offset, bytes.data(), bytes.size());
	return b;
}

struct Message {
	unsigned type = 4;    // RTM_GET
	uint32_t flags = 0x3; // RTF_UP | RTF_GATEWAY
	uint16_t index = 0;
	uint8_t priority = 0;
	// (RTA_* bit, sockaddr) in RTAX order; an empty sockaddr is one of
	// sa_len 0, which takes one alignment unit.
	std::vector<std::pair<uint32_t, Bytes>> sockaddrs;
	std::optional<unsigned> version;
	std::optional<uint16_t> hdrlen;
};

Message msg(unsigned type, uint32_t flags, uint16_t index,
            std::vector<std::pair<uint32_t, Bytes>> sockaddrs) {
	Message m;
	m.type = type;
	m.flags = flags;
	m.index = index;
	m.sockaddrs = std::move(sockaddrs);
	return m;
}

struct Dump {
	rtmsg::Layout layout;
	Bytes bytes;

	template <class T> void put(size_t at, T v) { std::memcpy(bytes.data() + at, &v, sizeof v); }

	Dump &add(const Message &m) {
		const size_t at = bytes.size();
		const size_t header = m.hdrlen.value_or(static_cast<uint16_t>(layout.header_size));
		bytes.resize(at + header);
		uint32_t addrs = 0;
		for (const auto &[bit, sa] : m.sockaddrs) {
			addrs |= bit;
			const size_t a = layout.sockaddr_align;
			const size_t padded = sa.empty() ? a : (sa.size() + a - 1) / a * a;
			const size_t start = bytes.size();
			bytes.resize(start + padded);
			if (!sa.empty()) // an empty vector's data() may be null
				std::memcpy(bytes.data() + start, sa.data(), sa.size());
		}
		put<uint16_t>(at + layout.msglen_offset, static_cast<uint16_t>(bytes.size() - at));
		put<uint8_t>(at + layout.version_offset,
		             static_cast<uint8_t>(m.version.value_or(layout.version)));
		put<uint8_t>(at + layout.type_offset, static_cast<uint8_t>(m.type));
		put<uint16_t>(at + layout.index_offset, m.index);
		put<uint32_t>(at + layout.flags_offset, m.flags);
		put<uint32_t>(at + layout.addrs_offset, addrs);
		if (layout.hdrlen_offset)
			put<uint16_t>(at + *layout.hdrlen_offset, static_cast<uint16_t>(header));
		if (layout.priority_offset)
			put<uint8_t>(at + *layout.priority_offset, m.priority);
		return *this;
	}

	// The default route via `gateway` (IPv4 or IPv6), netmask /0.
	Dump &default_route(const std::string &gateway, uint16_t index, uint32_t flags = 0x3,
	                    uint8_t priority = 0) {
		const bool v6 = make_address(gateway).is_v6();
		Message m;
		m.flags = flags;
		m.index = index;
		m.priority = priority;
		m.sockaddrs = {{layout.rta_dst, v6 ? sa_in6(layout, "::") : sa_in(layout, "0.0.0.0")},
		               {layout.rta_gateway, v6 ? sa_in6(layout, gateway) : sa_in(layout, gateway)},
		               {layout.rta_netmask, {}}};
		return add(m);
	}
};

// The address without its scope (whose text would name an interface of
// this machine).
std::string unscoped(const asio::ip::address_v6 &a) {
	return asio::ip::address_v6(a.to_bytes()).to_string();
}

Result<std::vector<rtmsg::Route>> parse(const Dump &d) {
	return rtmsg::parse_routes(d.bytes, d.layout);
}

} // namespace

TEST_CASE("routing message: the XNU layout route_bsd.cpp falls back to on iOS is macOS's") {
	const rtmsg::Layout facts = macos();
	const rtmsg::Layout &l = rtmsg::kXnuLayout;
	CHECK(l.header_size == facts.header_size);
	CHECK(l.msglen_offset == facts.msglen_offset);
	CHECK(l.version_offset == facts.version_offset);
	CHECK(l.type_offset == facts.type_offset);
	CHECK(l.index_offset == facts.index_offset);
	CHECK(l.flags_offset == facts.flags_offset);
	CHECK(l.addrs_offset == facts.addrs_offset);
	CHECK(!l.hdrlen_offset);
	CHECK(!l.priority_offset);
	CHECK(l.version == facts.version);
	CHECK(l.type_get == facts.type_get);
	CHECK(l.type_add == facts.type_add);
	CHECK(l.flag_up == facts.flag_up);
	CHECK(l.flag_gateway == facts.flag_gateway);
	CHECK(l.flag_ifscope == facts.flag_ifscope);
	CHECK(l.rta_dst == facts.rta_dst);
	CHECK(l.rta_gateway == facts.rta_gateway);
	CHECK(l.rta_netmask == facts.rta_netmask);
	CHECK(l.rtax_max == facts.rtax_max);
	CHECK(l.af_inet == facts.af_inet);
	CHECK(l.af_inet6 == facts.af_inet6);
	CHECK(l.af_link == facts.af_link);
	CHECK(l.sockaddr_align == facts.sockaddr_align);
}

TEST_CASE("routing message: a macOS message written out byte by byte") {
	if constexpr (std::endian::native != std::endian::little)
		return; // the bytes below are a little-endian Mac's
	// RTM_GET of the default route via 192.168.1.1 on en0 (index 4), flags
	// UP|GATEWAY|STATIC, RTA_DST|RTA_GATEWAY|RTA_NETMASK: 92 bytes of
	// header, two 16-byte sockaddr_in, and a netmask of sa_len 0 that takes
	// 4 bytes: 128 in all.
	Bytes b(128);
	const unsigned char header[16] = {128, 0, 5, 4, 4, 0, 0, 0, 0x03, 0x08, 0, 0, 0x07, 0, 0, 0};
	std::memcpy(b.data(), header, sizeof header);
	const unsigned char dst[8] = {16, 2, 0, 0, 0, 0, 0, 0};
	const unsigned char gateway[8] = {16, 2, 0, 0, 192, 168, 1, 1};
	std::memcpy(b.data() + 92, dst, sizeof dst);
	std::memcpy(b.data() + 108, gateway, sizeof gateway);
	auto routes = rtmsg::parse_routes(b, macos());
	REQUIRE(routes.ok());
	REQUIRE(routes->size() == 1);
	const auto &r = routes->front();
	CHECK(r.index == 4);
	CHECK(r.flags == 0x803);
	CHECK(r.prefix_length == 0u);
	CHECK(r.destination.to_string() == "0.0.0.0");
	CHECK(r.gateway_family == 2);
	auto gw = rtmsg::default_gateway(*routes, macos());
	REQUIRE(gw.ok());
	CHECK(gw->to_string() == "192.168.1.1");
}

TEST_CASE("routing message: macOS, the unscoped IPv4 default route among others") {
	const auto l = macos();
	Dump d{l, {}};
	// A scoped default route over a second interface comes first in the
	// table; the system's own is the unscoped one.
	d.default_route("10.9.9.1", 7, 0x3 | l.flag_ifscope);
	// The LAN: a route to a link (AF_LINK gateway), not to a gateway.
	d.add(msg(4, 0x1, 4,
	          {{l.rta_dst, sa_in(l, "192.168.1.0")},
	           {l.rta_gateway, sa_dl(l, 20, 4)},
	           {l.rta_netmask, mask("255.255.255.0", 4)}}));
	// A network behind a router: RTF_GATEWAY, but not /0.
	d.add(msg(4, 0x3, 4,
	          {{l.rta_dst, sa_in(l, "10.0.0.0")},
	           {l.rta_gateway, sa_in(l, "192.168.1.254")},
	           {l.rta_netmask, mask("255.0.0.0", 4)}}));
	d.default_route("192.168.1.1", 4);
	auto routes = parse(d);
	REQUIRE(routes.ok());
	REQUIRE(routes->size() == 4);
	CHECK((*routes)[1].prefix_length == 24u);
	CHECK((*routes)[1].gateway_family == l.af_link);
	CHECK((*routes)[1].gateway.is_unspecified());
	CHECK((*routes)[2].prefix_length == 8u);
	CHECK((*routes)[2].gateway.to_string() == "192.168.1.254");
	auto gw = rtmsg::default_gateway(*routes, l);
	REQUIRE(gw.ok());
	CHECK(gw->to_string() == "192.168.1.1");
	CHECK(rtmsg::default_gateway6(*routes, l).error() == Errc::no_gateway);

	SUBCASE("with only the scoped one, it answers") {
		Dump only{l, {}};
		only.default_route("10.9.9.1", 7, 0x3 | l.flag_ifscope);
		auto r = parse(only);
		REQUIRE(r.ok());
		CHECK(rtmsg::default_gateway(*r, l)->to_string() == "10.9.9.1");
	}
}

TEST_CASE("routing message: macOS, an IPv6 default route via a link-local router") {
	const auto l = macos();
	SUBCASE("the interface embedded in the address (KAME) is its scope") {
		Dump d{l, {}};
		Message m;
		m.index = 4;
		m.sockaddrs = {{l.rta_dst, sa_in6(l, "::")},
		               {l.rta_gateway, sa_in6(l, "fe80::1", 0, 4)},
		               {l.rta_netmask, {}}};
		d.add(m);
		auto routes = parse(d);
		REQUIRE(routes.ok());
		auto gw = rtmsg::default_gateway6(*routes, l);
		REQUIRE(gw.ok());
		CHECK(gw->index == 4);
		CHECK(gw->address.scope_id() == 4);
		// The embedded bytes are gone from the address itself.
		CHECK(unscoped(gw->address) == "fe80::1");
		CHECK(rtmsg::default_gateway(*routes, l).error() == Errc::no_gateway);
	}
	SUBCASE("sin6_scope_id wins over the embedded index") {
		Dump d{l, {}};
		Message m;
		m.index = 4;
		m.sockaddrs = {{l.rta_dst, sa_in6(l, "::")},
		               {l.rta_gateway, sa_in6(l, "fe80::1", 5, 4)},
		               {l.rta_netmask, {}}};
		d.add(m);
		auto routes = parse(d);
		REQUIRE(routes.ok());
		auto gw = rtmsg::default_gateway6(*routes, l);
		REQUIRE(gw.ok());
		CHECK(gw->address.scope_id() == 5);
		CHECK(gw->index == 4);
	}
	SUBCASE("with neither, the route's interface is the scope") {
		Dump d{l, {}};
		d.default_route("fe80::9", 6);
		auto routes = parse(d);
		REQUIRE(routes.ok());
		auto gw = rtmsg::default_gateway6(*routes, l);
		REQUIRE(gw.ok());
		CHECK(gw->address.scope_id() == 6);
		CHECK(gw->index == 6);
	}
	SUBCASE("a global next hop carries no scope") {
		Dump d{l, {}};
		d.default_route("2001:db8::1", 6);
		auto routes = parse(d);
		REQUIRE(routes.ok());
		auto gw = rtmsg::default_gateway6(*routes, l);
		REQUIRE(gw.ok());
		CHECK(gw->address.to_string() == "2001:db8::1");
		CHECK(gw->index == 6);
	}
}

TEST_CASE("routing message: FreeBSD's layout, 8-byte aligned sockaddrs") {
	const auto l = freebsd();
	Dump d{l, {}};
	// A default route whose gateway is a link (RTF_GATEWAY set all the
	// same, as a point-to-point default may be): skipped.
	d.add(msg(4, 0x3, 2,
	          {{l.rta_dst, sa_in(l, "0.0.0.0")},
	           {l.rta_gateway, sa_dl(l, 54, 2)},
	           {l.rta_netmask, sa_in(l, "0.0.0.0")}}));
	// Not up.
	d.add(msg(4, 0x2, 3,
	          {{l.rta_dst, sa_in(l, "0.0.0.0")},
	           {l.rta_gateway, sa_in(l, "172.16.0.1")},
	           {l.rta_netmask, sa_in(l, "0.0.0.0")}}));
	// The one, with a full-length netmask 0.0.0.0.
	d.add(msg(4, 0x3, 1,
	          {{l.rta_dst, sa_in(l, "0.0.0.0")},
	           {l.rta_gateway, sa_in(l, "192.0.2.1")},
	           {l.rta_netmask, sa_in(l, "0.0.0.0")}}));
	// IPv6: a 28-byte sockaddr_in6 takes 32 bytes here.
	d.add(msg(4, 0x3, 1,
	          {{l.rta_dst, sa_in6(l, "::")},
	           {l.rta_gateway, sa_in6(l, "fe80::1", 1)},
	           {l.rta_netmask, sa_in6(l, "::")}}));
	auto routes = parse(d);
	REQUIRE(routes.ok());
	REQUIRE(routes->size() == 4);
	CHECK((*routes)[0].gateway_family == l.af_link);
	CHECK((*routes)[3].prefix_length == 0u);
	auto gw = rtmsg::default_gateway(*routes, l);
	REQUIRE(gw.ok());
	CHECK(gw->to_string() == "192.0.2.1");
	auto gw6 = rtmsg::default_gateway6(*routes, l);
	REQUIRE(gw6.ok());
	CHECK(unscoped(gw6->address) == "fe80::1");
	CHECK(gw6->address.scope_id() == 1);
	CHECK(gw6->index == 1);

	SUBCASE("read with macOS's 4-byte alignment, the same bytes do not give that answer") {
		rtmsg::Layout wrong = l;
		wrong.sockaddr_align = 4;
		auto misread = rtmsg::parse_routes(d.bytes, wrong);
		const bool same = misread.ok() && rtmsg::default_gateway6(*misread, wrong).ok() &&
		                  rtmsg::default_gateway6(*misread, wrong)->address == gw6->address;
		CHECK_FALSE(same);
	}
}

TEST_CASE("routing message: OpenBSD's rtm_hdrlen and rtm_priority") {
	const auto l = openbsd();
	Dump d{l, {}};
	d.default_route("198.51.100.1", 1, 0x3, 56); // RTP_DEFAULT
	d.default_route("198.51.100.2", 2, 0x3, 8);  // RTP_STATIC: preferred
	d.default_route("198.51.100.3", 3, 0x3, 8);  // as good, but later
	// A newer kernel with a longer header: the sockaddrs start at
	// rtm_hdrlen, not at the header this code was built with.
	Message m;
	m.hdrlen = 104;
	m.index = 9;
	m.priority = 1;
	m.sockaddrs = {{l.rta_dst, sa_in6(l, "::")},
	               {l.rta_gateway, sa_in6(l, "2001:db8::9")},
	               {l.rta_netmask, {}}};
	d.add(m);
	auto routes = parse(d);
	REQUIRE(routes.ok());
	REQUIRE(routes->size() == 4);
	CHECK((*routes)[0].priority == 56);
	auto gw = rtmsg::default_gateway(*routes, l);
	REQUIRE(gw.ok());
	CHECK(gw->to_string() == "198.51.100.2");
	auto gw6 = rtmsg::default_gateway6(*routes, l);
	REQUIRE(gw6.ok());
	CHECK(gw6->address.to_string() == "2001:db8::9");
	CHECK(gw6->index == 9);
}

TEST_CASE("routing message: messages of other types are skipped, RTM_ADD is read") {
	const auto l = macos();
	Dump d{l, {}};
	// An RTM_IFINFO-like message (type 0xe), shorter than a route header
	// (hdrlen here only sets how long a header the builder writes).
	Message other;
	other.type = 0xe;
	other.hdrlen = 24;
	d.add(other);
	Message add;
	add.type = 1; // RTM_ADD, as read off a routing socket
	add.index = 3;
	add.sockaddrs = {{l.rta_dst, sa_in(l, "0.0.0.0")}, {l.rta_gateway, sa_in(l, "192.0.2.7")}};
	d.add(add);
	auto routes = parse(d);
	REQUIRE(routes.ok());
	REQUIRE(routes->size() == 1);
	CHECK(!(*routes)[0].prefix_length); // no netmask: absent, read as /0
	CHECK(rtmsg::default_gateway(*routes, l)->to_string() == "192.0.2.7");
}

TEST_CASE("routing message: an empty dump has no default route") {
	auto routes = rtmsg::parse_routes({}, macos());
	REQUIRE(routes.ok());
	CHECK(routes->empty());
	CHECK(rtmsg::default_gateway(*routes, macos()).error() == Errc::no_gateway);
	CHECK(rtmsg::default_gateway6(*routes, macos()).error() == Errc::no_gateway);
}

TEST_CASE("routing message: malformed dumps are errors, not crashes") {
	const auto l = macos();
	Dump good{l, {}};
	good.default_route("192.168.1.1", 4);
	const size_t size = good.bytes.size();
	REQUIRE(parse(good).ok());

	SUBCASE("rtm_msglen 0, which would never advance") {
		Dump d = good;
		d.put<uint16_t>(0, 0);
		CHECK(parse(d).error() == Errc::malformed);
	}
	SUBCASE("a message shorter than its header") {
		Dump d = good;
		d.bytes.resize(40);
		d.put<uint16_t>(0, 40);
		CHECK(parse(d).error() == Errc::malformed);
	}
	SUBCASE("rtm_msglen shorter than rtm_type's offset") {
		Dump d = good;
		d.put<uint16_t>(0, 2);
		CHECK(parse(d).error() == Errc::malformed);
	}
	SUBCASE("a message longer than the dump") {
		Dump d = good;
		d.bytes.resize(size - 8);
		CHECK(parse(d).error() == Errc::truncated);
	}
	SUBCASE("a dump that ends inside the next message's first bytes") {
		Dump d = good;
		d.bytes.push_back(std::byte{0});
		CHECK(parse(d).error() == Errc::truncated);
	}
	SUBCASE("a sockaddr that overruns its message") {
		Dump d = good;
		// The gateway (at 92 + 16) claims 40 bytes; 20 are left.
		d.bytes[92 + 16] = std::byte{40};
		CHECK(parse(d).error() == Errc::malformed);
	}
	SUBCASE("sa_len over what is left, in the last sockaddr") {
		Dump d = good;
		d.bytes[size - 4] = std::byte{16}; // the /0 netmask now claims 16 of 4 bytes
		CHECK(parse(d).error() == Errc::malformed);
	}
	SUBCASE("rtm_addrs names more sockaddrs than the message holds") {
		Dump d = good;
		d.put<uint32_t>(12, l.rta_dst | l.rta_gateway | l.rta_netmask | 0x8 | 0x10);
		CHECK(parse(d).error() == Errc::malformed);
	}
	SUBCASE("another RTM_VERSION") {
		Dump d = good;
		d.bytes[2] = std::byte{4};
		CHECK(parse(d).error() == Errc::unsupported);
	}
	SUBCASE("a layout that cannot be right") {
		rtmsg::Layout bad = l;
		bad.sockaddr_align = 0;
		CHECK(rtmsg::parse_routes(good.bytes, bad).error() == Errc::invalid_argument);
		bad = l;
		bad.flags_offset = 90; // an int past the 92-byte header
		CHECK(rtmsg::parse_routes(good.bytes, bad).error() == Errc::invalid_argument);
	}
	SUBCASE("OpenBSD: rtm_hdrlen past the message or inside the fixed fields") {
		const auto o = openbsd();
		Dump d{o, {}};
		d.default_route("192.0.2.1", 1);
		Dump past = d;
		past.put<uint16_t>(*o.hdrlen_offset, 4000);
		CHECK(parse(past).error() == Errc::malformed);
		Dump inside = d;
		inside.put<uint16_t>(*o.hdrlen_offset, 8);
		CHECK(parse(inside).error() == Errc::malformed);
	}
}
