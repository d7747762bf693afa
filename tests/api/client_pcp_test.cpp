// plum::Client end to end against the loopback PCP/NAT-PMP responder.
#include "loopback_config.hpp"
#include "pcp_responder.hpp"
#include "recorder.hpp"

#include <doctest/doctest.h>

#include <atomic>

using namespace plum;
using namespace std::chrono_literals;
using test::loopback_config;
using test::PcpResponder;
using test::Recorder;

namespace {

size_t held(const PcpResponder &r) { return r.mappings().size(); }

} // namespace

TEST_CASE("PCP: create, query, destroy") {
	PcpResponder router;
	Client client;
	REQUIRE(client.init(loopback_config(router)).ok());
	Recorder rec;
	auto fut = client.create_mapping(IpProtocol::Tcp, 8080, 0, 5s, rec.callback());
	REQUIRE(fut.wait_for(5s) == std::future_status::ready);
	auto r = fut.get();
	REQUIRE_MESSAGE(r.ok(), r.error().message());
	CHECK(r->mapping.mapping_protocol == MappingProtocol::Pcp);
	CHECK(r->mapping.external_host == router.external_address().to_string());
	CHECK(r->mapping.external_port != 0);
	CHECK(client.has_mapping(r->id));
	REQUIRE(held(router) == 1);
	CHECK(router.mappings()[0].internal_port == 8080);
	auto q = client.query_mapping(r->id);
	REQUIRE(q);
	CHECK(q->state == State::Success);

	client.destroy_mapping(r->id);
	CHECK_FALSE(client.has_mapping(r->id));
	REQUIRE(rec.wait([&] { return rec.count(r->id, State::Destroyed) == 1; }, 5s));
	CHECK(held(router) == 0);
	client.destroy_mapping(r->id); // repeated: no-op
	client.destroy_mapping(12345); // unknown: no-op
	CHECK(client.cleanup().ok());
	CHECK(rec.count(r->id, State::Destroyed) == 1);
}

TEST_CASE("NAT-PMP only: PCP is refused by version, NAT-PMP maps") {
	PcpResponder router;
	router.set_mode(PcpResponder::Mode::NatPmpOnly);
	Client client;
	REQUIRE(client.init(loopback_config(router)).ok());
	auto r = client.create_mapping(IpProtocol::Udp, 4000, 4000, 5s).get();
	REQUIRE_MESSAGE(r.ok(), r.error().message());
	CHECK(r->mapping.mapping_protocol == MappingProtocol::NatPmp);
	CHECK(r->mapping.external_host == router.external_address().to_string());
	REQUIRE(held(router) == 1);
	CHECK(router.mappings()[0].natpmp);
	CHECK(client.cleanup().ok());
	CHECK(held(router) == 0);
}

TEST_CASE("nothing answers: FAILURE within the discover timeout, and the future says why") {
	PcpResponder router;
	router.set_mode(PcpResponder::Mode::Silent);
	Client client;
	Config c = loopback_config(router);
	c.discover_timeout = 400ms;
	REQUIRE(client.init(c).ok());
	const auto start = std::chrono::steady_clock::now();
	auto r = client.create_mapping(IpProtocol::Tcp, 8080, 0, 5s).get();
	CHECK_FALSE(r.ok());
	CHECK(std::chrono::steady_clock::now() - start < 3s);
	CHECK(client.cleanup().ok());
}

TEST_CASE("closed port: ICMP unreachable fails both protocols at once") {
	PcpResponder router;
	router.close();
	Client client;
	REQUIRE(client.init(loopback_config(router)).ok());
	Recorder rec;
	const int id = *client.start_mapping(IpProtocol::Tcp, 8080, 0, rec.callback());
	REQUIRE(rec.wait([&] { return rec.count(id, State::Failure) == 1; }, 3s));
	CHECK(client.cleanup().ok());
}

TEST_CASE("100 concurrent mappings all succeed; one refused port fails alone") {
	PcpResponder router;
	router.force_pcp_result(pcp::PcpResult::NotAuthorized, 1000, 7050);
	Client client;
	REQUIRE(client.init(loopback_config(router)).ok());
	Recorder rec;
	std::vector<int> ids;
	for (int i = 0; i < 100; ++i)
		ids.push_back(*client.start_mapping(IpProtocol::Udp, uint16_t(7000 + i), 0, rec.callback()));
	REQUIRE(rec.wait([&] { return rec.count(State::Success) == 99 && rec.count(State::Failure) == 1; },
	                 10s));
	CHECK(rec.count(ids[50], State::Failure) == 1);
	CHECK(held(router) == 99);
	for (auto &c : rec.all())
		if (c.state == State::Success)
			CHECK(c.mapping.mapping_protocol == MappingProtocol::Pcp);
	CHECK(client.cleanup().ok());
	CHECK(held(router) == 0);
}

TEST_CASE("lost and spoofed replies are survived") {
	PcpResponder router;
	router.drop_next(2);
	router.wrong_nonce_next(1);
	router.wrong_source_next(1);
	Client client;
	Config c = loopback_config(router, kUsePcp);
	c.discover_timeout = 8s; // four lost answers cost 250+500+1000+2000 ms of retries
	REQUIRE(client.init(c).ok());
	auto r = client.create_mapping(IpProtocol::Tcp, 9000, 0, 8s).get();
	REQUIRE_MESSAGE(r.ok(), r.error().message());
	CHECK(r->mapping.mapping_protocol == MappingProtocol::Pcp);
	CHECK(client.cleanup().ok());
}

TEST_CASE("gateway restart announced: every mapping is re-created") {
	PcpResponder router;
	router.set_epoch(5000);
	Client client;
	Config c = loopback_config(router);
	REQUIRE(client.init(c).ok());
	Recorder rec;
	for (int i = 0; i < 5; ++i)
		(void)client.start_mapping(IpProtocol::Tcp, uint16_t(6000 + i), 0, rec.callback());
	REQUIRE(rec.wait([&] { return rec.count(State::Success) == 5; }, 5s));
	REQUIRE(held(router) == 5);
	router.restart(); // forgets everything, epoch back to 0
	REQUIRE(held(router) == 0);
	router.send_announce({asio::ip::address_v4::loopback(), c.announce_port});
	CHECK(router.wait_until([&] { return held(router) == 5; }, 5s));
	CHECK(client.cleanup().ok());
	CHECK(held(router) == 0);
}

TEST_CASE("NAT-PMP external address change is reported with the new address") {
	PcpResponder router;
	router.set_mode(PcpResponder::Mode::NatPmpOnly);
	Client client;
	Config c = loopback_config(router);
	REQUIRE(client.init(c).ok());
	Recorder rec;
	const int id = *client.start_mapping(IpProtocol::Tcp, 8080, 0, rec.callback());
	REQUIRE(rec.wait([&] { return rec.count(id, State::Success) == 1; }, 5s));
	router.set_external_address(asio::ip::make_address_v4("198.51.100.77"));
	router.send_natpmp_notice({asio::ip::address_v4::loopback(), c.announce_port});
	REQUIRE(rec.wait([&] { return rec.count(id, State::Success) >= 2; }, 5s));
	CHECK(rec.all().back().mapping.external_host == "198.51.100.77");
	CHECK(client.cleanup().ok());
}

TEST_CASE("destroy while PENDING leaves nothing on the router") {
	PcpResponder router;
	router.set_delay(150ms);
	Client client;
	REQUIRE(client.init(loopback_config(router, kUsePcp)).ok());
	Recorder rec;
	const int id = *client.start_mapping(IpProtocol::Tcp, 8080, 0, rec.callback());
	CHECK(client.query_mapping(id)->state == State::Pending);
	// Destroy while the MAP request is at the router, its answer delayed.
	REQUIRE(router.wait_until([&] { return router.counters().pcp_map >= 1; }, 3s));
	client.destroy_mapping(id);
	CHECK_FALSE(client.has_mapping(id));
	auto status = client.query_mapping(id);
	CHECK((!status || status->state == State::Destroying));
	REQUIRE(rec.wait([&] { return rec.count(id, State::Destroyed) == 1; }, 5s));
	CHECK(router.wait_until([&] { return held(router) == 0; }, 2s));
	CHECK(client.cleanup().ok());
}

TEST_CASE("cleanup while 300 mappings are pending: nothing left, the queued ones never sent") {
	PcpResponder router;
	router.set_delay(100ms); // every answer a round trip of 100 ms
	Client client;
	REQUIRE(client.init(loopback_config(router, kUsePcp)).ok());
	constexpr int kCount = 300;
	for (int i = 0; i < kCount; ++i)
		REQUIRE(client.start_mapping(IpProtocol::Tcp, uint16_t(20000 + i)).ok());
	// The probe answered and the first MAPs are at the router, most of the
	// rest queued behind the in-flight window.
	REQUIRE(router.wait_until([&] { return router.counters().pcp_map >= 1; }, 3s));
	REQUIRE(client.cleanup().ok());
	// Whatever reached the router was deleted after it; what was still
	// queued was dropped, not sent and then deleted.
	CHECK(router.wait_until([&] { return held(router) == 0; }, 2s));
	const auto sent = router.counters().pcp_map;
	INFO("MAP requests (deletes included) at the router: " << sent);
	CHECK(sent < 2 * kCount);
}

TEST_CASE("callbacks may call the API") {
	PcpResponder router;
	Client client;
	REQUIRE(client.init(loopback_config(router)).ok());
	std::atomic<int> second{-1};
	Recorder rec;
	auto rec_cb = rec.callback();
	const int id = *client.start_mapping(IpProtocol::Tcp, 8080, 0,
	                                     [&](int id, State s, const Mapping &m) {
		                                     rec_cb(id, s, m);
		                                     if (s == State::Success) {
			                                     CHECK(client.has_mapping(id));
			                                     CHECK(client.query_mapping(id).has_value());
			                                     auto r = client.start_mapping(IpProtocol::Udp, 8081, 0,
			                                                                   rec.callback());
			                                     second = r ? *r : -2;
			                                     client.destroy_mapping(id);
		                                     }
	                                     });
	REQUIRE(rec.wait([&] { return rec.count(id, State::Destroyed) == 1; }, 5s));
	REQUIRE(second >= 0);
	REQUIRE(rec.wait([&] { return rec.count(second, State::Success) == 1; }, 5s));
	CHECK(client.cleanup().ok());
	CHECK(held(router) == 0);
}

TEST_CASE("init and cleanup follow libplum's rules; a public local address is Direct") {
	Client client;
	CHECK(client.cleanup().error() == Errc::not_initialized);
	Config c;
	c.gateway_address = "127.0.0.1";
	c.local_address = "198.51.100.9"; // public: no mapping needed, nothing sent
	REQUIRE(client.init(c).ok());
	CHECK(client.init(c).error() == Errc::already_initialized);
	auto r = client.create_mapping(IpProtocol::Tcp, 443, 0, 2s).get();
	REQUIRE(r.ok());
	CHECK(r->mapping.mapping_protocol == MappingProtocol::Direct);
	CHECK(r->mapping.external_host == "198.51.100.9");
	CHECK(r->mapping.external_port == 443);
	CHECK(client.get_local_address().value() == "198.51.100.9");
	CHECK(client.cleanup().ok());
	CHECK_FALSE(client.cleanup().ok());
	CHECK(client.create_mapping(IpProtocol::Tcp, 1, 0, 1s).get().error() == Errc::not_initialized);
}

TEST_CASE("PCP only (NAT-PMP refused by version): PCP maps") {
	PcpResponder router;
	router.set_mode(PcpResponder::Mode::PcpOnly);
	Client client;
	REQUIRE(client.init(loopback_config(router)).ok());
	auto r = client.create_mapping(IpProtocol::Udp, 4500, 0, 5s).get();
	REQUIRE_MESSAGE(r.ok(), r.error().message());
	CHECK(r->mapping.mapping_protocol == MappingProtocol::Pcp);
	CHECK(client.cleanup().ok());
	CHECK(held(router) == 0);
}

TEST_CASE("a refused renewal is reported as FAILURE, then SUCCESS when the router grants it again") {
	PcpResponder router;
	router.set_max_lifetime(2); // renewals after about 1 s
	Client client;
	REQUIRE(client.init(loopback_config(router, kUsePcp)).ok());
	Recorder rec;
	const int id = *client.start_mapping(IpProtocol::Tcp, 8080, 0, rec.callback());
	REQUIRE(rec.wait([&] { return rec.count(id, State::Success) == 1; }, 5s));
	router.force_pcp_result(pcp::PcpResult::NotAuthorized, 1, 8080);
	REQUIRE(rec.wait([&] { return rec.count(id, State::Failure) == 1; }, 5s));
	REQUIRE(rec.wait([&] { return rec.count(id, State::Success) == 2; }, 8s));
	CHECK(held(router) == 1);
	CHECK(client.cleanup().ok());
	CHECK(held(router) == 0);
}
