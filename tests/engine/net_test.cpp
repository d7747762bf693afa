#include "net/address.hpp"
#include "net/proc_route.hpp"
#include "net/route.hpp"

#include <doctest/doctest.h>

using namespace plum;
using asio::ip::make_address;
using asio::ip::make_address_v4;

TEST_CASE("address classes") {
	CHECK(net::is_private(make_address_v4("10.1.2.3")));
	CHECK(net::is_private(make_address_v4("172.31.255.1")));
	CHECK_FALSE(net::is_private(make_address_v4("172.32.0.1")));
	CHECK(net::is_private(make_address_v4("192.168.0.1")));
	CHECK(net::is_cgnat(make_address_v4("100.64.0.1")));
	CHECK(net::is_cgnat(make_address_v4("100.127.255.255")));
	CHECK_FALSE(net::is_cgnat(make_address_v4("100.128.0.1")));
	CHECK(net::is_public(make_address_v4("1.2.3.4")));
	CHECK(net::is_public(make_address_v4("203.0.113.9")));
	for (auto s : {"127.0.0.1", "169.254.1.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
	               "192.168.1.1", "100.64.1.1"})
		CHECK_MESSAGE(!net::is_public(make_address_v4(s)), s);
	CHECK(net::is_public(make_address("2001:db8::1"))); // in 2000::/3
	CHECK_FALSE(net::is_public(make_address("fd00::1")));
	CHECK_FALSE(net::is_public(make_address("fe80::1")));
	CHECK(net::is_double_nat(make_address("100.70.0.1")));
	CHECK(net::is_double_nat(make_address("::ffff:192.168.1.2")));
	CHECK_FALSE(net::is_double_nat(make_address("1.2.3.4")));
}

TEST_CASE("parse_default_gateway reads /proc/net/route and picks the lowest metric") {
	const char *table =
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	    "eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	    "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
	    "eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n";
	auto gw = net::parse_default_gateway(table);
	REQUIRE(gw.ok());
	CHECK(gw->to_string() == "192.168.0.1");
}

TEST_CASE("parse_default_gateway refuses tables without a usable default route") {
	CHECK(net::parse_default_gateway("").error() == Errc::no_gateway);
	// A default route that is down (flags without RTF_UP) does not count.
	const char *down = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
	                   "eth0\t00000000\t0100A8C0\t0002\t0\t0\t0\t00000000\n";
	CHECK_FALSE(net::parse_default_gateway(down).ok());
	const char *garbage = "header\nzz zz zz zz zz zz zz zz\n\n\t\t\n";
	CHECK_FALSE(net::parse_default_gateway(garbage).ok());
}

TEST_CASE("local_address_towards loopback is loopback") {
	auto a = net::local_address_towards(make_address_v4("127.0.0.1"));
	REQUIRE(a.ok());
	CHECK(a->to_string() == "127.0.0.1");
}
