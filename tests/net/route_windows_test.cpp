// route_windows.cpp against the system it runs on: the IP Helper API's
// default routes and addresses. Under Wine the IP Helper answers from the
// Linux host's tables, which the test also reads as text (Wine shows the
// host's /proc at Z:\proc) and parses with plum's own /proc parsers: the
// two must agree. On Windows, where no /proc exists, the answers are
// checked for consistency with each other. Only lookups: nothing is sent.
#include "net/proc_route.hpp"
#include "net/route.hpp"
#include "net/source_address.hpp"
#include "wine.hpp"

#include <doctest/doctest.h>

#include <winsock2.h>

#include <iphlpapi.h>
#include <netioapi.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace plum;

namespace {

// A host table under Wine (the path is the Linux one; Wine maps it onto
// its Z: drive); nothing on Windows.
std::optional<std::string> host_table(const char *name) {
	if (!test::under_wine())
		return std::nullopt;
	std::ifstream in(std::string("Z:\\proc\\net\\") + name, std::ios::binary);
	if (!in)
		return std::nullopt;
	std::ostringstream text;
	text << in.rdbuf();
	return text.str();
}

// The addresses /proc/net/if_inet6 lists (any interface), as text.
std::vector<asio::ip::address_v6> if_inet6_addresses(const std::string &table) {
	std::vector<asio::ip::address_v6> out;
	std::istringstream lines(table);
	std::string hex;
	std::string rest;
	while (lines >> hex && std::getline(lines, rest)) {
		if (hex.size() != 32)
			continue;
		asio::ip::address_v6::bytes_type b{};
		for (size_t i = 0; i < 16; ++i)
			b[i] = static_cast<unsigned char>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
		out.emplace_back(b);
	}
	return out;
}

// Whether the IP Helper lists any route of `family`. Wine 8.0 lists no
// IPv6 route at all (an empty table, on a host that has some), so under
// Wine plum finding no IPv6 default route is Wine's answer, and the
// comparison with the host's table is made only when Wine gives one.
bool lists_routes(ADDRESS_FAMILY family) {
	PMIB_IPFORWARD_TABLE2 table = nullptr;
	if (GetIpForwardTable2(family, &table) != NO_ERROR)
		return false;
	const bool any = table->NumEntries > 0;
	FreeMibTable(table);
	return any;
}

} // namespace

TEST_CASE("the IPv4 default gateway is the system's, and the source address towards it") {
	auto gateway = net::default_gateway();
	if (auto table = host_table("route")) {
		auto expected = net::parse_default_gateway(*table);
		INFO("host's /proc/net/route: " << *table);
		INFO("plum: " << (gateway.ok() ? gateway->to_string() : gateway.error().message()));
		REQUIRE(gateway.ok() == expected.ok());
		if (expected.ok())
			CHECK(*gateway == *expected);
	}
	if (!gateway.ok()) {
		CHECK(gateway.error().code() == std::error_code(Errc::no_gateway));
		return;
	}
	CHECK_FALSE(gateway->is_unspecified());
	auto local = net::local_address_towards(*gateway);
	REQUIRE(local.ok());
	CHECK_FALSE(local->is_unspecified());
	CHECK_FALSE(local->is_loopback());
	// The same question asked of a connected socket.
	auto connected = net::connected_source_address(*gateway);
	REQUIRE(connected.ok());
	CHECK(asio::ip::address(*local) == *connected);
}

TEST_CASE("the IPv6 default gateway is the system's, with its interface") {
	auto gateway = net::default_gateway6();
	auto table = host_table("ipv6_route");
	if (table && !lists_routes(AF_INET6)) {
		MESSAGE("Wine lists no IPv6 route: the host's IPv6 table is not compared");
		table.reset();
	}
	if (table) {
		auto expected = net::parse_default_gateway6(*table);
		INFO("host's /proc/net/ipv6_route: " << *table);
		INFO("plum: " << (gateway.ok() ? gateway->address.to_string() : gateway.error().message()));
		REQUIRE(gateway.ok() == expected.ok());
		if (expected.ok())
			CHECK(gateway->address.to_bytes() == expected->address.to_bytes());
	}
	if (!gateway.ok()) {
		CHECK(gateway.error().code() == std::error_code(Errc::no_gateway));
		return;
	}
	CHECK(gateway->index != 0);
	if (gateway->address.is_link_local())
		CHECK(gateway->address.scope_id() == gateway->index);

	// The pinhole address of that interface, if it has one, is one of the
	// host's addresses.
	auto pinhole = net::global_address6(gateway->index);
	if (!pinhole.ok())
		return;
	CHECK_FALSE(pinhole->is_link_local());
	CHECK_FALSE(pinhole->is_loopback());
	if (auto addresses = host_table("if_inet6")) {
		const auto listed = if_inet6_addresses(*addresses);
		INFO("host's /proc/net/if_inet6: " << *addresses);
		CHECK(std::find(listed.begin(), listed.end(), *pinhole) != listed.end());
	}
}
