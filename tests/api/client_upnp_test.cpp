// plum::Client end to end against the whole loopback mock router: the
// PCP/NAT-PMP responder and the fake IGD side by side on 127.0.0.1.
#include "fake_igd.hpp"
#include "pcp_responder.hpp"
#include "recorder.hpp"

#include <doctest/doctest.h>

using namespace plum;
using namespace std::chrono_literals;
using test::FakeIgd;
using test::PcpResponder;
using test::Recorder;

namespace {

struct MockRouter {
	PcpResponder pcp;
	FakeIgd igd;

	Config config(unsigned protocols = kUseAll) const {
		Config c;
		c.gateway_address = "127.0.0.1";
		c.local_address = "127.0.0.1";
		c.pcp_port = pcp.port();
		c.ssdp_address = "127.0.0.1";
		c.ssdp_port = igd.ssdp_port();
		c.announce_port = test::free_udp_port();
		c.protocols = protocols;
		c.discover_timeout = 3000ms;
		c.mapping_timeout = 3000ms;
		return c;
	}
};

} // namespace

TEST_CASE("all protocols on: PCP is chosen, UPnP is left alone") {
	MockRouter router;
	Client client;
	REQUIRE(client.init(router.config()).ok());
	auto r = client.create_mapping(IpProtocol::Tcp, 8080, 0, 5s).get();
	REQUIRE_MESSAGE(r.ok(), r.error().message());
	CHECK(r->mapping.mapping_protocol == MappingProtocol::Pcp);
	CHECK(router.pcp.mappings().size() == 1);
	CHECK(router.igd.mappings().empty());
	CHECK(client.cleanup().ok());
	CHECK(router.pcp.mappings().empty());
}

TEST_CASE("UPnP only (UDP 5351 closed): UPnP without waiting out PCP's timeouts") {
	MockRouter router;
	router.pcp.close();
	Client client;
	REQUIRE(client.init(router.config()).ok());
	const auto start = std::chrono::steady_clock::now();
	auto r = client.create_mapping(IpProtocol::Udp, 5000, 5000, 5s).get();
	const auto took = std::chrono::steady_clock::now() - start;
	REQUIRE_MESSAGE(r.ok(), r.error().message());
	CHECK(r->mapping.mapping_protocol == MappingProtocol::Upnp);
	CHECK(r->mapping.external_port == 5000);
	// PCP's first retransmission alone would be 250 ms: the ICMP error made
	// the decision (a bound with margin, not a benchmark).
	CHECK(took < 2s);
	auto m = router.igd.mapping(5000, "UDP");
	REQUIRE(m);
	CHECK(m->internal_client == "127.0.0.1");
	CHECK(m->internal_port == 5000);
	CHECK(client.cleanup().ok());
	CHECK(router.igd.mappings().empty());
	CHECK(router.igd.count("DeletePortMapping") == 1);
}

TEST_CASE("UPnP IGDv1: mapped with v1 actions only, then deleted") {
	MockRouter router;
	router.pcp.close();
	router.igd.set_igd_version(1);
	Client client;
	REQUIRE(client.init(router.config()).ok());
	Recorder rec;
	auto r = client.create_mapping(IpProtocol::Tcp, 8081, 0, 5s, rec.callback()).get();
	REQUIRE_MESSAGE(r.ok(), r.error().message());
	CHECK(r->mapping.mapping_protocol == MappingProtocol::Upnp);
	CHECK(router.igd.count("AddAnyPortMapping") == 0);
	CHECK(router.igd.count("AddPortMapping") >= 1);
	client.destroy_mapping(r->id);
	REQUIRE(rec.wait([&] { return rec.count(r->id, State::Destroyed) == 1; }, 5s));
	CHECK(router.igd.mappings().empty());
	CHECK(client.cleanup().ok());
}

TEST_CASE("UPnP: a conflict on one mapping does not fail the others") {
	MockRouter router;
	router.pcp.close();
	router.igd.set_igd_version(1);
	router.igd.fail_next("AddPortMapping", 718, 100); // every v1 retry conflicts too
	Client client;
	Config c = router.config();
	REQUIRE(client.init(c).ok());
	Recorder rec;
	const int bad = *client.start_mapping(IpProtocol::Tcp, 9000, 9000, rec.callback());
	REQUIRE(rec.wait([&] { return rec.count(bad, State::Failure) == 1; }, 8s));
	router.igd.fail_next("AddPortMapping", 718, 0); // the router frees up
	std::vector<int> ids;
	for (int i = 0; i < 10; ++i)
		ids.push_back(*client.start_mapping(IpProtocol::Udp, uint16_t(9100 + i), 0, rec.callback()));
	REQUIRE(rec.wait([&] {
		int n = 0;
		for (int id : ids)
			n += rec.count(id, State::Success);
		return n == 10;
	}, 8s));
	for (auto &ch : rec.all())
		if (ch.state == State::Success)
			CHECK(ch.mapping.mapping_protocol == MappingProtocol::Upnp);
	CHECK(client.cleanup().ok());
	CHECK(router.igd.mappings().empty());
}

TEST_CASE("UPnP: only permanent leases (725) still map, with lease 0") {
	MockRouter router;
	router.pcp.close();
	router.igd.set_permanent_only(true);
	Client client;
	REQUIRE(client.init(router.config()).ok());
	auto r = client.create_mapping(IpProtocol::Tcp, 8082, 0, 5s).get();
	REQUIRE_MESSAGE(r.ok(), r.error().message());
	auto m = router.igd.mapping(r->mapping.external_port, "TCP");
	REQUIRE(m);
	CHECK(m->lease == 0);
	CHECK(client.cleanup().ok());
	CHECK(router.igd.mappings().empty());
}
