#include "engine/engine.hpp"
#include "fake_client.hpp"

#include <doctest/doctest.h>

using namespace plum;
using namespace plum::engine;
using namespace std::chrono_literals;
using test::FakeClient;
using test::run_until;

namespace {

// An engine on a local loop with PCP, NAT-PMP and UPnP fakes.
struct Harness {
	asio::io_context io;
	Settings settings;
	Environment env{asio::ip::make_address_v4("192.168.1.1"),
	                asio::ip::make_address_v4("192.168.1.2")};
	FakeClient::Script pcp, natpmp, upnp;
	FakeClient *fake_pcp = nullptr, *fake_natpmp = nullptr, *fake_upnp = nullptr;
	int factory_calls = 0;
	std::vector<StateChange> changes;
	std::unique_ptr<Engine> engine;

	Harness() {
		settings.first_verdict = 100ms;
		settings.discover_timeout = 300ms;
		settings.grace = 20ms;
		settings.reprobe_backoff = 100ms;
		settings.cleanup_timeout = 1000ms;
	}

	void start() {
		engine = std::make_unique<Engine>(
		    io, settings, [this]() -> Result<Environment> { return env; },
		    [this](const Environment &) {
			    ++factory_calls;
			    ClientSet set;
			    auto &v = set.clients;
			    auto a = std::make_unique<FakeClient>(io, MappingProtocol::Pcp, pcp);
			    auto b = std::make_unique<FakeClient>(io, MappingProtocol::NatPmp, natpmp);
			    auto c = std::make_unique<FakeClient>(io, MappingProtocol::Upnp, upnp);
			    fake_pcp = a.get();
			    fake_natpmp = b.get();
			    fake_upnp = c.get();
			    v.push_back(std::move(a));
			    v.push_back(std::move(b));
			    v.push_back(std::move(c));
			    return set;
		    },
		    [this](const StateChange &c) { changes.push_back(c); }, Logger());
	}

	std::optional<StateChange> last(int id) const {
		for (auto it = changes.rbegin(); it != changes.rend(); ++it)
			if (it->id == id)
				return *it;
		return std::nullopt;
	}
	int count(int id, State s) const {
		int n = 0;
		for (auto &c : changes)
			n += c.id == id && c.state == s;
		return n;
	}
	bool reached(int id, State s, std::chrono::milliseconds timeout = 3s) {
		return run_until(
		    io, [&] { return count(id, s) > 0; }, timeout);
	}
};

FakeClient::Script silent() {
	FakeClient::Script s;
	s.answers = false;
	s.probe_delay = 10s; // never answers within a test
	return s;
}
FakeClient::Script refusing(Errc e) {
	FakeClient::Script s;
	s.answers = false;
	s.probe_error = Error(e);
	return s;
}

} // namespace

TEST_CASE("a mapping succeeds with the most preferred protocol and is deleted on remove") {
	Harness h;
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 8080, 0);
	REQUIRE(h.reached(0, State::Success));
	auto s = *h.last(0);
	CHECK(s.mapping.mapping_protocol == MappingProtocol::Pcp);
	CHECK(s.mapping.external_host == "203.0.113.7");
	CHECK(s.mapping.external_port == 18080);
	CHECK(s.mapping.internal_port == 8080);
	CHECK(h.fake_pcp->held.count(8080) == 1);
	CHECK(h.fake_upnp->maps == 0);

	h.engine->remove(0);
	REQUIRE(h.reached(0, State::Destroyed));
	CHECK(h.fake_pcp->unmaps == 1);
	CHECK(h.fake_pcp->held.empty());
	CHECK(h.count(0, State::Destroyed) == 1);
	// A second remove of the same id is a no-op.
	h.engine->remove(0);
	run_until(
	    h.io, [] { return false; }, 20ms);
	CHECK(h.count(0, State::Destroyed) == 1);
}

TEST_CASE("UPnP only: chosen as soon as PCP and NAT-PMP are refused") {
	Harness h;
	h.pcp = refusing(Errc::unreachable);
	h.natpmp = refusing(Errc::unreachable);
	h.start();
	h.engine->add(3, IpProtocol::Udp, 5000, 5000);
	REQUIRE(h.reached(3, State::Success));
	CHECK(h.last(3)->mapping.mapping_protocol == MappingProtocol::Upnp);
	CHECK(h.last(3)->mapping.external_port == 5000);
	CHECK(h.count(3, State::Failure) == 0);
}

TEST_CASE("nothing answers: FAILURE at the first verdict, SUCCESS once a router appears") {
	Harness h;
	h.pcp = silent();
	h.natpmp = refusing(Errc::unreachable);
	h.upnp = refusing(Errc::timeout);
	h.start();
	h.engine->add(1, IpProtocol::Tcp, 9000, 0);
	REQUIRE(h.reached(1, State::Failure, 1s));
	CHECK(h.last(1)->error.has_value());
	CHECK(h.count(1, State::Success) == 0);
	// The router comes up: the next probe round finds it (PCP now answers).
	h.fake_pcp->script() = FakeClient::Script{};
	REQUIRE(h.reached(1, State::Success, 5s));
	CHECK(h.last(1)->mapping.mapping_protocol == MappingProtocol::Pcp);
}

TEST_CASE("a gateway that showed life: no early FAILURE while its slow probe finishes") {
	Harness h;
	h.pcp = silent();
	h.natpmp = refusing(Errc::unreachable);
	// SSDP answered at once; the rest of the probe takes past both the
	// first verdict (100 ms) and the discover timeout (300 ms).
	h.upnp.alive_after = 10ms;
	h.upnp.probe_delay = 500ms;
	h.settings.mapping_timeout = 2000ms;
	h.start();
	h.engine->add(1, IpProtocol::Tcp, 9000, 0);
	REQUIRE(h.reached(1, State::Success, 3s));
	CHECK(h.count(1, State::Failure) == 0);
	CHECK(h.changes.front().state == State::Success);
	CHECK(h.last(1)->mapping.mapping_protocol == MappingProtocol::Upnp);
}

TEST_CASE("a gateway that showed life and then went quiet: FAILURE at the mapping timeout") {
	Harness h;
	h.pcp = silent();
	h.natpmp = refusing(Errc::unreachable);
	h.upnp = silent();
	h.upnp.alive_after = 10ms;
	h.settings.mapping_timeout = 400ms;
	h.settings.live_probe_limit = 5000ms;
	h.start();
	const auto start = std::chrono::steady_clock::now();
	h.engine->add(1, IpProtocol::Tcp, 9000, 0);
	REQUIRE(h.reached(1, State::Failure, 3s));
	const auto took = std::chrono::steady_clock::now() - start;
	CHECK(took >= 390ms);
	CHECK(took < 1500ms);
}

TEST_CASE("one refused mapping does not fail the others or abandon the protocol") {
	Harness h;
	h.pcp.refuse[7000] = Error(std::make_error_code(std::errc::address_in_use), "conflict");
	h.start();
	for (int i = 0; i < 50; ++i)
		h.engine->add(i, IpProtocol::Tcp, uint16_t(6975 + i), 0);
	REQUIRE(run_until(
	    h.io,
	    [&] {
		    int done = 0;
		    for (int i = 0; i < 50; ++i)
			    done += h.count(i, State::Success) + h.count(i, State::Failure) > 0;
		    return done == 50;
	    },
	    5s));
	CHECK(h.count(25, State::Failure) == 1); // port 7000
	for (int i = 0; i < 50; ++i)
		if (i != 25)
			CHECK(h.last(i)->mapping.mapping_protocol == MappingProtocol::Pcp);
	CHECK(h.fake_upnp->maps == 0);
	CHECK(h.engine->active_protocol() == MappingProtocol::Pcp);
}

TEST_CASE("a gateway restart re-creates every mapping at once") {
	Harness h;
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 8080, 0);
	h.engine->add(1, IpProtocol::Udp, 8081, 0);
	REQUIRE(h.reached(1, State::Success));
	REQUIRE(h.reached(0, State::Success));
	h.fake_pcp->held.clear(); // the router forgot them
	const int maps_before = h.fake_pcp->maps;
	h.fake_pcp->events.gateway_restarted();
	REQUIRE(run_until(
	    h.io, [&] { return h.fake_pcp->held.size() == 2; }, 2s));
	CHECK(h.fake_pcp->maps == maps_before + 2);
}

TEST_CASE("an external address change is reported as SUCCESS with the new address") {
	Harness h;
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 8080, 0);
	REQUIRE(h.reached(0, State::Success));
	h.fake_pcp->script().external = "198.51.100.20";
	h.fake_pcp->events.external_address_changed(asio::ip::make_address("198.51.100.20"));
	REQUIRE(run_until(
	    h.io, [&] { return h.count(0, State::Success) >= 2; }, 2s));
	CHECK(h.last(0)->mapping.external_host == "198.51.100.20");
}

TEST_CASE("a public local address needs no mapping: Direct") {
	Harness h;
	h.env.local = asio::ip::make_address_v4("198.51.100.5");
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 443, 0);
	REQUIRE(h.reached(0, State::Success));
	CHECK(h.last(0)->mapping.mapping_protocol == MappingProtocol::Direct);
	CHECK(h.last(0)->mapping.external_host == "198.51.100.5");
	CHECK(h.last(0)->mapping.external_port == 443);
	CHECK(h.factory_calls == 0);
}

TEST_CASE("mappings are renewed at about half their lifetime") {
	Harness h;
	h.pcp.lifetime = 2; // seconds: renew after about 1 s
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 8080, 0);
	REQUIRE(h.reached(0, State::Success));
	const int maps = h.fake_pcp->maps;
	REQUIRE(run_until(
	    h.io, [&] { return h.fake_pcp->maps > maps; }, 3s));
	// The renewal asks for the port it holds, and nothing changed: no new callback.
	CHECK(h.fake_pcp->held.at(8080) == 18080);
	CHECK(h.count(0, State::Success) == 1);
}

TEST_CASE("remove during PENDING deletes what the router granted, then DESTROYED once") {
	Harness h;
	h.pcp.map_delay = 50ms;
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 8080, 0);
	REQUIRE(run_until(
	    h.io, [&] { return h.fake_pcp && h.fake_pcp->maps == 1; }, 2s));
	h.engine->remove(0);
	REQUIRE(h.reached(0, State::Destroyed));
	CHECK(h.fake_pcp->held.empty());
	CHECK(h.count(0, State::Destroyed) == 1);
}

TEST_CASE("shutdown deletes every mapping on the router before it completes") {
	Harness h;
	h.start();
	for (int i = 0; i < 20; ++i)
		h.engine->add(i, IpProtocol::Udp, uint16_t(4000 + i), 0);
	REQUIRE(run_until(
	    h.io, [&] { return h.fake_pcp && h.fake_pcp->held.size() == 20; }, 3s));
	bool done = false;
	h.engine->shutdown([&] { done = true; });
	REQUIRE(run_until(
	    h.io, [&] { return done; }, 3s));
	CHECK(h.fake_pcp->held.empty());
	for (int i = 0; i < 20; ++i)
		CHECK(h.count(i, State::Destroyed) == 1);
}

TEST_CASE("shutdown is bounded when the router stops answering") {
	Harness h;
	h.settings.cleanup_timeout = 200ms;
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 8080, 0);
	REQUIRE(h.reached(0, State::Success));
	h.fake_pcp->script().map_delay = 60s; // unmap never answers in time
	bool done = false;
	const auto start = std::chrono::steady_clock::now();
	h.engine->shutdown([&] { done = true; });
	REQUIRE(run_until(
	    h.io, [&] { return done; }, 3s));
	CHECK(std::chrono::steady_clock::now() - start < 2s);
	CHECK(h.count(0, State::Destroyed) == 1);
}

TEST_CASE("UPnP mappings are re-added at each recheck (a rebooted IGD tells no one)") {
	Harness h;
	h.pcp = refusing(Errc::unreachable);
	h.natpmp = refusing(Errc::unreachable);
	h.settings.recheck_period = 300ms;
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 8080, 0);
	REQUIRE(h.reached(0, State::Success));
	h.fake_upnp->held.clear(); // the router rebooted and forgot it
	REQUIRE(run_until(
	    h.io, [&] { return h.fake_upnp->held.count(8080) == 1; }, 3s));
	CHECK(h.count(0, State::Success) == 1); // same address and port: no new callback
	CHECK(h.count(0, State::Failure) == 0);
}

TEST_CASE("a UPnP gateway's reboot (its advertisements) re-adds every mapping at once") {
	Harness h;
	h.pcp = refusing(Errc::unreachable);
	h.natpmp = refusing(Errc::unreachable);
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 8080, 0);
	h.engine->add(1, IpProtocol::Udp, 8081, 0);
	REQUIRE(h.reached(0, State::Success));
	REQUIRE(h.reached(1, State::Success));
	h.fake_upnp->held.clear(); // the router rebooted and forgot them
	const int probes_before = h.fake_upnp->probes;
	const int maps_before = h.fake_upnp->maps;
	h.fake_upnp->events.gateway_restarted();
	REQUIRE(run_until(
	    h.io, [&] { return h.fake_upnp->held.size() == 2; }, 2s));
	CHECK(h.fake_upnp->probes == probes_before); // no round trip before re-adding
	CHECK(h.fake_upnp->maps == maps_before + 2);
	CHECK(h.count(0, State::Failure) == 0);
}

TEST_CASE("switching protocols deletes the old protocol's mapping before making the new one") {
	Harness h;
	h.pcp = refusing(Errc::unreachable);
	h.natpmp = refusing(Errc::unreachable);
	h.settings.recheck_period = 300ms;
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 8080, 0);
	REQUIRE(h.reached(0, State::Success));
	REQUIRE(h.fake_upnp->held.count(8080) == 1);
	const uint16_t external = h.fake_upnp->held[8080];
	// PCP comes up on the router; the next recheck prefers it.
	h.fake_pcp->script().answers = true;
	REQUIRE(run_until(
	    h.io, [&] { return h.fake_pcp->held.count(8080) == 1; }, 3s));
	CHECK(h.fake_upnp->held.empty());
	CHECK(h.fake_upnp->unmaps == 1);
	CHECK(h.fake_pcp->held[8080] == external); // the same external port asked for
	REQUIRE(run_until(
	    h.io, [&] { return h.last(0)->mapping.mapping_protocol == MappingProtocol::Pcp; }, 1s));
	CHECK(h.last(0)->state == State::Success);
	h.engine->remove(0);
	REQUIRE(h.reached(0, State::Destroyed));
	CHECK(h.fake_pcp->held.empty());
}

TEST_CASE("a probe that finds the protocol whose map() then fails: re-probed with backoff, not in "
          "a loop") {
	Harness h;
	// A PCP server that answers ANNOUNCE but not MAP.
	h.pcp.refuse[9000] = Error(Errc::timeout, "MAP unanswered");
	h.natpmp = refusing(Errc::unreachable);
	h.upnp = refusing(Errc::unreachable);
	h.start();
	h.engine->add(1, IpProtocol::Tcp, 9000, 0);
	REQUIRE(h.reached(1, State::Failure));
	run_until(
	    h.io, [] { return false; }, 1000ms);
	// 100 ms, doubling: a handful in a second, where it was hundreds.
	CHECK(h.fake_pcp->probes <= 6);
	CHECK(h.fake_pcp->probes >= 2);
	CHECK(h.count(1, State::Failure) == 1);
	// Once the map works again, it is granted.
	h.fake_pcp->script().refuse.clear();
	REQUIRE(h.reached(1, State::Success, 5s));
}

TEST_CASE("a flood of restart signals costs one re-creation round per holdoff") {
	Harness h;
	h.settings.restart_holdoff = 500ms;
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 8080, 0);
	h.engine->add(1, IpProtocol::Udp, 8081, 0);
	REQUIRE(h.reached(0, State::Success));
	REQUIRE(h.reached(1, State::Success));
	const int maps_before = h.fake_pcp->maps;
	for (int i = 0; i < 100; ++i)
		h.fake_pcp->events.gateway_restarted();
	run_until(
	    h.io, [] { return false; }, 200ms);
	CHECK(h.fake_pcp->maps == maps_before + 2); // the first acts at once
	run_until(
	    h.io, [] { return false; }, 600ms);
	CHECK(h.fake_pcp->maps == maps_before + 4); // the rest: one round at the holdoff's end
	CHECK(h.count(0, State::Failure) == 0);
}

TEST_CASE("a lifetime-0 or port-0 'success' is not reported as a live mapping") {
	Harness h;
	h.pcp.lifetime = 0; // PCP: lifetime 0 means deleted
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 8080, 0);
	REQUIRE(h.reached(0, State::Failure));
	CHECK(h.count(0, State::Success) == 0);
	// UPnP's lease 0 is permanent: that one is live.
	Harness u;
	u.pcp = refusing(Errc::unreachable);
	u.natpmp = refusing(Errc::unreachable);
	u.upnp.lifetime = 0;
	u.start();
	u.engine->add(0, IpProtocol::Tcp, 8080, 0);
	REQUIRE(u.reached(0, State::Success));
}

TEST_CASE(
    "a mapping whose protocol is gone is reported at the end of its lease, never kept silently") {
	Harness h;
	h.pcp.lifetime = 2;
	h.natpmp = refusing(Errc::unreachable);
	h.upnp = refusing(Errc::unreachable);
	h.settings.recheck_period = 300ms;
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 8080, 0);
	REQUIRE(h.reached(0, State::Success));
	const auto granted = std::chrono::steady_clock::now();
	h.fake_pcp->script().answers = false; // PCP no longer answers anything
	REQUIRE(h.reached(0, State::Failure, 4s));
	const auto after = std::chrono::steady_clock::now() - granted;
	CHECK_MESSAGE(after >= 1900ms, h.last(0)->error->message()); // held while the lease runs
	CHECK(after < 3s);
}

TEST_CASE("a probe that began while the router was off does not undo its recovery") {
	// A renewal meets a router that is powered off: FAILURE, and a probe.
	// The router comes back and says so (ANNOUNCE) while that probe still
	// waits for UPnP: the mapping is re-created. The probe then ends with
	// "nothing answered" (PCP was refused when it asked): a verdict older
	// than what PCP has said since, which must not drop PCP.
	Harness h;
	h.pcp.lifetime = 2; // renewed after about 1 s
	h.natpmp = refusing(Errc::unreachable);
	h.upnp = silent();
	h.settings.discover_timeout = 600ms;
	h.settings.reprobe_backoff = 5s; // a dropped PCP would stay dropped for the test
	h.start();
	h.engine->add(0, IpProtocol::Tcp, 8080, 0);
	REQUIRE(h.reached(0, State::Success));
	const int probes = h.fake_pcp->probes;
	h.fake_pcp->script().answers = false; // powered off
	h.fake_pcp->script().probe_error = Error(Errc::unreachable);
	REQUIRE(h.reached(0, State::Failure));
	REQUIRE(run_until(
	    h.io, [&] { return h.fake_pcp->probes > probes; }, 1s)); // the probe has begun
	h.fake_pcp->script().answers = true; // back, and it says so
	h.fake_pcp->held.clear();
	h.fake_pcp->events.gateway_restarted();
	REQUIRE(run_until(
	    h.io, [&] { return h.count(0, State::Success) == 2; }, 1s));
	// The probe's verdict comes (600 ms), then renewals every ~1 s: the
	// mapping stays SUCCESS, renewed by PCP, and no FAILURE is reported.
	const int maps = h.fake_pcp->maps;
	run_until(
	    h.io, [] { return false; }, 3s);
	CHECK(h.count(0, State::Failure) == 1);
	CHECK(h.last(0)->state == State::Success);
	CHECK(h.fake_pcp->maps >= maps + 2);
	CHECK(h.fake_pcp->held.count(8080) == 1);
}
