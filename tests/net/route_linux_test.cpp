// Linux's order of route sources, netlink then /proc, with one of them made
// unavailable. Where the real kernel answers, the assertions hold on any
// host (the two sources agree, or both fail); the /proc answers come from
// tables the test writes.
#include "net/route_linux.hpp"

#include <doctest/doctest.h>

#include <net/if.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace plum;

namespace {

net::RouteSource unavailable(std::string name) {
	net::RouteSource s;
	s.name = std::move(name);
	s.gateway = []() -> Result<asio::ip::address_v4> {
		return Error(Errc::no_gateway, "socket: address family not supported");
	};
	s.gateway6 = []() -> Result<net::Gateway6> {
		return Error(Errc::no_gateway, "socket: address family not supported");
	};
	s.global_address6 = [](unsigned) -> Result<asio::ip::address_v6> {
		return Error(Errc::no_gateway, "socket: address family not supported");
	};
	return s;
}

// /proc/net tables in a temporary directory: a default route via
// 192.168.7.1, an IPv6 one via fe80::7 on "lo", and a global address on "lo".
struct ProcTables {
	std::filesystem::path dir;
	net::ProcPaths paths;
	ProcTables() {
		dir = std::filesystem::temp_directory_path() /
		      ("plum_route_test_" + std::to_string(::getpid()));
		std::filesystem::create_directories(dir);
		paths = {(dir / "route").string(), (dir / "ipv6_route").string(),
		         (dir / "if_inet6").string()};
		std::ofstream(paths.route)
		    << "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n"
		       "eth0\t00000000\t0107A8C0\t0003\t0\t0\t100\t00000000\n";
		std::ofstream(paths.ipv6_route)
		    << "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
		       "fe800000000000000000000000000007 00000400 00000002 00000000 00000003 lo\n";
		std::ofstream(paths.if_inet6) << "20010db8000700000000000000000002 01 40 00 80 lo\n";
	}
	~ProcTables() {
		std::error_code ignored;
		std::filesystem::remove_all(dir, ignored);
	}
};

} // namespace

TEST_CASE("Linux asks netlink first, then /proc") {
	const auto &sources = net::linux_route_sources();
	REQUIRE(sources.size() == 2);
	CHECK(sources[0].name == "netlink");
	CHECK(sources[1].name == "/proc");
}

TEST_CASE("netlink unavailable (as to a sandbox without it): /proc answers") {
	ProcTables tables;
	const std::vector<net::RouteSource> sources{unavailable("netlink"),
	                                            net::proc_source(tables.paths)};
	auto gw = net::first_answer(sources, [](const auto &s) { return s.gateway(); });
	REQUIRE(gw.ok());
	CHECK(gw->to_string() == "192.168.7.1");

	const unsigned lo = if_nametoindex("lo");
	REQUIRE(lo != 0);
	auto gw6 = net::first_answer(sources, [](const auto &s) { return s.gateway6(); });
	REQUIRE(gw6.ok());
	CHECK(gw6->interface_name == "lo");
	CHECK(gw6->index == lo);
	CHECK(gw6->address.scope_id() == lo); // link-local: usable by a socket
	auto local6 = net::first_answer(sources, [lo](const auto &s) { return s.global_address6(lo); });
	REQUIRE(local6.ok());
	CHECK(local6->to_string() == "2001:db8:7::2");
}

TEST_CASE("/proc unavailable (as to an Android app): netlink answers alone") {
	const net::RouteSource netlink = net::netlink_source();
	const std::vector<net::RouteSource> sources{
	    netlink, net::proc_source(
	                 {"/nonexistent/route", "/nonexistent/ipv6_route", "/nonexistent/if_inet6"})};
	auto direct = netlink.gateway();
	auto gw = net::first_answer(sources, [](const auto &s) { return s.gateway(); });
	REQUIRE(gw.ok() == direct.ok());
	if (gw) {
		CHECK(*gw == *direct);
	} else {
		// Both failed: the reasons name both sources, /proc's unreadable file.
		CHECK(gw.error().context().find("netlink: ") == 0);
		CHECK(gw.error().context().find("/proc: cannot read /nonexistent/route") !=
		      std::string::npos);
	}
}

TEST_CASE("both sources unavailable: no gateway, with both reasons") {
	const std::vector<net::RouteSource> sources{
	    unavailable("netlink"),
	    net::proc_source({"/nonexistent/a", "/nonexistent/b", "/nonexistent/c"})};
	auto gw = net::first_answer(sources, [](const auto &s) { return s.gateway(); });
	REQUIRE_FALSE(gw.ok());
	CHECK(gw.error() == Errc::no_gateway);
	CHECK(gw.error().context() ==
	      "netlink: socket: address family not supported; /proc: cannot read /nonexistent/a");
}

TEST_CASE("netlink and /proc agree on this host's default gateways") {
	const auto netlink = net::netlink_source();
	const auto proc = net::proc_source();
	auto a = netlink.gateway(), b = proc.gateway();
	if (a && b)
		CHECK(*a == *b);
	auto a6 = netlink.gateway6(), b6 = proc.gateway6();
	if (a6 && b6) {
		CHECK(a6->address == b6->address);
		CHECK(a6->index == b6->index);
		auto l = netlink.global_address6(a6->index), m = proc.global_address6(b6->index);
		if (l && m)
			CHECK(*l == *m);
	}
}
