// plum::Client with IPv6 (Config::families) end to end against the PCP
// responder on ::1, which answers an IPv6 client as a firewall without NAT
// (a pinhole to the client's own address and port). Everything is pinned:
// no test discovers the host's IPv6 gateway. Where the host has no ::1 the
// tests say so and pass.
#include "loopback_wait.hpp"
#include "pcp_responder.hpp"
#include "recorder.hpp"

#include <doctest/doctest.h>

#include <memory>

using namespace plum;
using namespace std::chrono_literals;
using test::have_ipv6_loopback;
using test::PcpResponder;
using test::Recorder;

namespace {

const asio::ip::address kLoopback6 = asio::ip::address_v6::loopback();

Config v6_config(uint16_t pcp_port, unsigned families = kIPv6) {
	Config c;
	c.families = families;
	c.gateway_address6 = "::1";
	c.local_address6 = "::1";
	c.gateway_address = "127.0.0.1";
	c.local_address = "127.0.0.1";
	c.pcp_port = pcp_port;
	c.announce_port = test::free_udp_port();
	c.protocols = kUsePcp | kUseNatPmp;
	c.discover_timeout = 1500ms;
	c.mapping_timeout = 2000ms;
	return c;
}

// A responder on 127.0.0.1 and one on ::1 with the same port number, since
// Config::pcp_port serves both families. Bounded retries when ::1:port is taken.
struct TwinResponders {
	std::unique_ptr<PcpResponder> v4, v6;
	TwinResponders() {
		for (int tries = 0; tries < 20 && !v6; ++tries) {
			v4 = std::make_unique<PcpResponder>();
			try {
				v6 = std::make_unique<PcpResponder>(kLoopback6, v4->port());
			} catch (const std::exception &) {
				v4.reset();
			}
		}
		REQUIRE(v6);
	}
};

} // namespace

TEST_CASE("IPv6 only: a pinhole to our own address, renewed, destroyed") {
	if (!have_ipv6_loopback()) {
		MESSAGE("no ::1 on this host: IPv6 client test not run");
		return;
	}
	PcpResponder router(kLoopback6);
	router.set_check_client_address(true);
	Client client;
	Config c = v6_config(router.port());
	c.lifetime = 2s; // renewed at about 1 s
	REQUIRE(client.init(c).ok());
	auto local = client.get_local_address();
	REQUIRE(local.ok());
	CHECK(*local == "::1"); // the IPv6 one when IPv6 is the only family

	Recorder rec;
	auto r = client.create_mapping(IpProtocol::Tcp, 8200, 0, 5s, rec.callback()).get();
	REQUIRE_MESSAGE(r.ok(), r.error().message());
	CHECK(r->mapping.mapping_protocol == MappingProtocol::Pcp);
	CHECK(r->mapping.external_host == "::1");
	CHECK(r->mapping.external_host6 == "::1");
	CHECK(r->mapping.external_port == 8200);
	REQUIRE(router.mappings().size() == 1);
	CHECK(router.mappings()[0].internal_port == 8200);

	// Renewals (same nonce): still one pinhole, and no new state for the app.
	CHECK(router.wait_until([&] { return router.counters().pcp_map >= 3; }, 5s));
	CHECK(router.mappings().size() == 1);
	CHECK(rec.count(r->id, State::Success) == 0);
	CHECK(rec.count(r->id, State::Failure) == 0);

	client.destroy_mapping(r->id);
	REQUIRE(rec.wait([&] { return rec.count(r->id, State::Destroyed) == 1; }, 5s));
	CHECK(router.mappings().empty());
	CHECK(client.cleanup().ok());
}

TEST_CASE("IPv4 and IPv6: one id, a mapping in each family, destroyed once") {
	if (!have_ipv6_loopback()) {
		MESSAGE("no ::1 on this host: IPv6 client test not run");
		return;
	}
	TwinResponders routers;
	Client client;
	REQUIRE(client.init(v6_config(routers.v4->port(), kIPv4 | kIPv6)).ok());
	auto local = client.get_local_address();
	REQUIRE(local.ok());
	CHECK(*local == "127.0.0.1"); // libplum's answer: the IPv4 one

	Recorder rec;
	auto id = client.start_mapping(IpProtocol::Udp, 8300, 0, rec.callback());
	REQUIRE(id.ok());
	// SUCCESS at the first family mapped; the view has both addresses once
	// both are.
	auto both = [&] {
		auto q = client.query_mapping(*id);
		return q && q->state == State::Success && !q->mapping.external_host6.empty() &&
		       q->mapping.external_host == routers.v4->external_address().to_string();
	};
	REQUIRE(rec.wait(both, 5s));
	auto q = client.query_mapping(*id);
	REQUIRE(q);
	CHECK(q->mapping.external_host6 == "::1");
	CHECK(q->mapping.mapping_protocol == MappingProtocol::Pcp);
	CHECK(q->mapping.external_port != 0);
	CHECK(routers.v4->mappings().size() == 1);
	CHECK(routers.v6->mappings().size() == 1);
	CHECK(rec.count(*id, State::Failure) == 0);
	CHECK(rec.count(*id, State::Success) >= 1);
	CHECK(rec.count(*id, State::Success) <= 2);

	client.destroy_mapping(*id);
	CHECK_FALSE(client.has_mapping(*id));
	REQUIRE(rec.wait([&] { return rec.count(*id, State::Destroyed) == 1; }, 5s));
	CHECK(routers.v4->mappings().empty());
	CHECK(routers.v6->mappings().empty());
	CHECK_FALSE(client.query_mapping(*id));
	CHECK(client.cleanup().ok());
	CHECK(rec.count(*id, State::Destroyed) == 1);
}

TEST_CASE("IPv4 and IPv6: the IPv6 gateway is silent; SUCCESS by IPv4 alone, FAILURE never") {
	if (!have_ipv6_loopback()) {
		MESSAGE("no ::1 on this host: IPv6 client test not run");
		return;
	}
	TwinResponders routers;
	routers.v6->close(); // ICMPv6 port unreachable: the IPv6 family fails at once
	Client client;
	REQUIRE(client.init(v6_config(routers.v4->port(), kIPv4 | kIPv6)).ok());
	Recorder rec;
	auto r = client.create_mapping(IpProtocol::Tcp, 8400, 0, 5s, rec.callback()).get();
	REQUIRE_MESSAGE(r.ok(), r.error().message());
	CHECK(r->mapping.external_host == routers.v4->external_address().to_string());
	CHECK(r->mapping.external_host6.empty());
	auto q = client.query_mapping(r->id);
	REQUIRE(q);
	CHECK(q->state == State::Success);
	CHECK(client.cleanup().ok());
	CHECK(routers.v4->mappings().empty());
	CHECK(rec.count(r->id, State::Failure) == 0);
}

TEST_CASE("IPv6 only, no PCP server: FAILURE, with the reason") {
	if (!have_ipv6_loopback()) {
		MESSAGE("no ::1 on this host: IPv6 client test not run");
		return;
	}
	PcpResponder router(kLoopback6);
	router.close();
	Client client;
	REQUIRE(client.init(v6_config(router.port())).ok());
	auto r = client.create_mapping(IpProtocol::Tcp, 8500, 0, 5s).get();
	REQUIRE_FALSE(r.ok());
	CHECK(client.cleanup().ok());
}

TEST_CASE("IPv6 config: a link-local gateway needs its interface") {
	Client client;
	Config c;
	c.families = kIPv6;
	c.gateway_address6 = "fe80::1"; // no %ifname: refused before anything is sent
	c.local_address6 = "::1";
	c.discover_timeout = 500ms;
	REQUIRE(client.init(c).ok());
	auto local = client.get_local_address();
	CHECK_FALSE(local.ok());
	CHECK(local.error() == Errc::invalid_argument);
	CHECK(client.cleanup().ok());
}
