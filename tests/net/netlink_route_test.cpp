// netlink's dump parser and the choices over it, on dumps built here byte
// for byte as the kernel lays them out (native endian, 4-byte aligned).
#include "net/netlink_route.hpp"

#include <doctest/doctest.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

using namespace plum;
using asio::ip::make_address;

namespace {

struct Dump {
	Bytes bytes;

	template <class T> void put(const T &v) {
		const auto *p = reinterpret_cast<const std::byte *>(&v);
		bytes.insert(bytes.end(), p, p + sizeof v);
	}
	void align() { bytes.resize(NLMSG_ALIGN(bytes.size())); }
	void attribute(uint16_t type, const void *data, size_t size) {
		rtattr a{static_cast<unsigned short>(RTA_LENGTH(size)), type};
		put(a);
		const auto *p = static_cast<const std::byte *>(data);
		bytes.insert(bytes.end(), p, p + size);
		bytes.resize(RTA_ALIGN(bytes.size()));
	}
	void address(uint16_t type, const std::string &text) {
		const auto a = make_address(text);
		if (a.is_v4()) {
			const auto b = a.to_v4().to_bytes();
			attribute(type, b.data(), b.size());
		} else {
			const auto b = a.to_v6().to_bytes();
			attribute(type, b.data(), b.size());
		}
	}
	void u32(uint16_t type, uint32_t v) { attribute(type, &v, sizeof v); }
	// Starts a message; finish() writes its length.
	size_t begin(uint16_t type) {
		const size_t at = bytes.size();
		nlmsghdr h{};
		h.nlmsg_type = type;
		put(h);
		return at;
	}
	void finish(size_t at) {
		const uint32_t len = static_cast<uint32_t>(bytes.size() - at);
		std::memcpy(bytes.data() + at, &len, sizeof len);
		align();
	}
	void route(int family, unsigned dst_len, const std::string &gateway, uint32_t oif,
	           uint32_t priority, uint8_t table = RT_TABLE_MAIN) {
		const size_t at = begin(RTM_NEWROUTE);
		rtmsg m{};
		m.rtm_family = static_cast<unsigned char>(family);
		m.rtm_dst_len = static_cast<unsigned char>(dst_len);
		m.rtm_table = table;
		m.rtm_type = RTN_UNICAST;
		put(m);
		if (!gateway.empty())
			address(RTA_GATEWAY, gateway);
		u32(RTA_OIF, oif);
		u32(RTA_PRIORITY, priority);
		finish(at);
	}
	void addr(const std::string &a, uint32_t index, uint8_t scope, uint32_t flags) {
		const size_t at = begin(RTM_NEWADDR);
		ifaddrmsg m{};
		m.ifa_family = make_address(a).is_v4() ? AF_INET : AF_INET6;
		m.ifa_prefixlen = 64;
		m.ifa_scope = scope;
		m.ifa_index = index;
		put(m);
		address(IFA_ADDRESS, a);
		u32(IFA_FLAGS, flags);
		finish(at);
	}
	void done() { finish(begin(NLMSG_DONE)); }
};

} // namespace

TEST_CASE("netlink: the default route of the lowest priority in the main table") {
	Dump d;
	d.route(AF_INET, 24, "", 2, 0);             // the LAN: not a default route
	d.route(AF_INET, 0, "192.168.9.1", 3, 600); // wlan, worse metric
	d.route(AF_INET, 0, "192.168.1.1", 2, 100); // the one
	d.route(AF_INET, 0, "10.9.9.9", 4, 1, 100); // a policy table
	d.route(AF_INET6, 0, "fe80::1", 2, 1024);
	d.route(AF_INET6, 0, "fe80::9", 3, 2048);
	d.done();
	auto routes = net::netlink::parse_routes(d.bytes);
	REQUIRE(routes.ok());
	CHECK(routes->size() == 6);
	auto gw = net::netlink::default_gateway(*routes);
	REQUIRE(gw.ok());
	CHECK(gw->to_string() == "192.168.1.1");
	auto gw6 = net::netlink::default_gateway6(*routes);
	REQUIRE(gw6.ok());
	CHECK(gw6->index == 2);
	CHECK(gw6->address.scope_id() == 2);
	CHECK(make_address(gw6->address.to_string()).to_v6().scope_id() == 2);
}

TEST_CASE("netlink: no default route is no gateway") {
	Dump d;
	d.route(AF_INET, 24, "", 2, 0);
	d.done();
	auto routes = net::netlink::parse_routes(d.bytes);
	REQUIRE(routes.ok());
	CHECK(net::netlink::default_gateway(*routes).error() == Errc::no_gateway);
	CHECK(net::netlink::default_gateway6(*routes).error() == Errc::no_gateway);
}

TEST_CASE("netlink: the pinhole address of an interface, as /proc's parser ranks it") {
	Dump d;
	d.addr("fe80::2", 2, RT_SCOPE_LINK, IFA_F_PERMANENT);
	d.addr("fd00::5", 2, RT_SCOPE_UNIVERSE, IFA_F_PERMANENT);
	d.addr("2001:db8:77::99", 2, RT_SCOPE_UNIVERSE, IFA_F_TEMPORARY);
	d.addr("2001:db8:77::2", 2, RT_SCOPE_UNIVERSE, 0);
	d.addr("2001:db8:77::3", 2, RT_SCOPE_UNIVERSE, IFA_F_TENTATIVE);
	d.addr("2001:db8:1::3", 3, RT_SCOPE_UNIVERSE, 0);
	d.addr("192.168.1.20", 2, RT_SCOPE_UNIVERSE, 0);
	d.done();
	auto addresses = net::netlink::parse_addresses(d.bytes);
	REQUIRE(addresses.ok());
	CHECK(addresses->size() == 7);
	CHECK(net::netlink::global_address6(*addresses, 2)->to_string() == "2001:db8:77::2");
	CHECK(net::netlink::global_address6(*addresses, 3)->to_string() == "2001:db8:1::3");
	CHECK(net::netlink::global_address6(*addresses, 9).error() == Errc::no_gateway);
}

TEST_CASE("netlink: a dump that overruns, stops early or reports an error fails") {
	Dump d;
	d.route(AF_INET, 0, "192.168.1.1", 2, 100);
	// Without NLMSG_DONE the dump is not whole.
	CHECK(net::netlink::parse_routes(d.bytes).error() == Errc::truncated);
	// A message longer than the dump.
	Bytes cut(d.bytes.begin(), d.bytes.end() - 4);
	CHECK(net::netlink::parse_routes(cut).error() == Errc::malformed);
	// An attribute longer than its message.
	Dump bad;
	const size_t at = bad.begin(RTM_NEWROUTE);
	bad.put(rtmsg{});
	bad.put(rtattr{200, RTA_GATEWAY});
	bad.finish(at);
	bad.done();
	CHECK(net::netlink::parse_routes(bad.bytes).error() == Errc::malformed);
	// The kernel's NLMSG_ERROR carries a negative errno.
	Dump error;
	const size_t e = error.begin(NLMSG_ERROR);
	error.put(int32_t(-EPERM));
	error.finish(e);
	auto r = net::netlink::parse_addresses(error.bytes);
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().code() == std::errc::operation_not_permitted);
	CHECK(net::netlink::parse_routes({}).error() == Errc::truncated);
}

TEST_CASE("netlink: this host's kernel answers a route dump that parses") {
	// Only that the exchange works: what the tables hold depends on the host.
	auto d = net::netlink::dump(RTM_GETROUTE, AF_INET);
	if (!d) {
		MESSAGE("netlink unavailable here: " << d.error().message());
		return;
	}
	CHECK(net::netlink::parse_routes(*d).ok());
}
