// The first verdict an application hears, against slow gateways on the
// loopback mock router: FAILURE early only when nothing answered at all;
// a gateway that showed life gets to finish its exchange first, and one
// slow request holds up nothing else.
#include "fake_igd.hpp"
#include "pcp_responder.hpp"
#include "recorder.hpp"

#include <doctest/doctest.h>

#include <mutex>
#include <thread>

using namespace plum;
using namespace std::chrono_literals;
using test::FakeIgd;
using test::PcpResponder;
using test::Recorder;

namespace {

using Clock = std::chrono::steady_clock;

// The defaults a user gets (10 s discover and mapping timeouts), pinned to
// the mock router.
Config user_config(const PcpResponder &pcp, const FakeIgd &igd, unsigned protocols) {
	Config c;
	c.gateway_address = "127.0.0.1";
	c.local_address = "127.0.0.1";
	c.pcp_port = pcp.port();
	c.ssdp_address = "127.0.0.1";
	c.ssdp_port = igd.ssdp_port();
	c.announce_port = test::free_udp_port();
	c.protocols = protocols;
	return c;
}

// Each state change of one mapping, with when it came.
struct Timeline {
	std::mutex m;
	std::vector<std::pair<State, Clock::duration>> seen;
	Clock::time_point start = Clock::now();

	StateCallback callback() {
		return [this](int, State s, const Mapping &) {
			std::lock_guard lock(m);
			seen.emplace_back(s, Clock::now() - start);
		};
	}
	std::optional<std::pair<State, Clock::duration>> first() {
		std::lock_guard lock(m);
		if (seen.empty())
			return std::nullopt;
		return seen.front();
	}
	bool wait_first(std::chrono::milliseconds timeout) {
		const auto end = Clock::now() + timeout;
		while (Clock::now() < end) {
			if (first())
				return true;
			std::this_thread::sleep_for(10ms);
		}
		return first().has_value();
	}
};

} // namespace

TEST_CASE("a slow IGD (3 s per SOAP call): the first callback is SUCCESS, no FAILURE before it") {
	PcpResponder pcp;
	pcp.set_mode(PcpResponder::Mode::Silent); // no PCP, no NAT-PMP: UPnP only
	FakeIgd igd;
	FakeIgd::ReplyStyle slow;
	slow.delay = 3000ms;
	igd.set_soap_style(slow);
	Client client;
	REQUIRE(client.init(user_config(pcp, igd, kUseAll)).ok());
	Timeline t;
	REQUIRE(client.start_mapping(IpProtocol::Tcp, 8080, 0, t.callback()).ok());
	REQUIRE(t.wait_first(20s));
	const auto [state, when] = *t.first();
	CHECK(state == State::Success);
	// GetExternalIPAddress then AddPortMapping, 3 s each.
	CHECK(when >= 5s);
	CHECK(igd.mapping(8080, "TCP").has_value());
	CHECK(client.cleanup().ok());
	CHECK(igd.mappings().empty());
}

TEST_CASE("a gateway whose only answer is a slow NAT-PMP one: SUCCESS first") {
	PcpResponder pcp;
	pcp.set_mode(PcpResponder::Mode::NatPmpOnly);
	pcp.set_delay(1500ms);
	FakeIgd igd;
	igd.set_ssdp_silent(true);
	Client client;
	REQUIRE(client.init(user_config(pcp, igd, kUseAll)).ok());
	Timeline t;
	REQUIRE(client.start_mapping(IpProtocol::Udp, 9000, 0, t.callback()).ok());
	REQUIRE(t.wait_first(20s));
	CHECK(t.first()->first == State::Success);
	CHECK(t.first()->second >= 2500ms); // the probe's reply, then the MAP's
	CHECK(pcp.mappings().size() == 1);
	CHECK(client.cleanup().ok());
	CHECK(pcp.mappings().empty());
}

TEST_CASE("a gateway where nothing answers: FAILURE still at about 2 s") {
	PcpResponder pcp;
	pcp.set_mode(PcpResponder::Mode::Silent);
	FakeIgd igd;
	igd.set_ssdp_silent(true);
	Client client;
	REQUIRE(client.init(user_config(pcp, igd, kUseAll)).ok());
	Timeline t;
	REQUIRE(client.start_mapping(IpProtocol::Tcp, 8081, 0, t.callback()).ok());
	REQUIRE(t.wait_first(10s));
	CHECK(t.first()->first == State::Failure);
	CHECK(t.first()->second >= 1500ms);
	CHECK(t.first()->second < 3000ms); // 1.9 s, with room for a loaded machine
	CHECK(client.cleanup().ok());
}

TEST_CASE("one slow SOAP call holds up neither other mappings nor destroy nor cleanup") {
	PcpResponder pcp;
	pcp.close(); // UPnP only, decided at once
	FakeIgd igd;
	igd.set_port_delay(7001, 4000ms);
	Client client;
	REQUIRE(client.init(user_config(pcp, igd, kUseAll)).ok());
	Recorder rec;
	const int slow = *client.start_mapping(IpProtocol::Tcp, 7001, 7001, rec.callback());
	const int fast = *client.start_mapping(IpProtocol::Tcp, 7002, 7002, rec.callback());
	REQUIRE(rec.wait([&] { return rec.count(fast, State::Success) == 1; }, 3s));
	CHECK(rec.count(slow, State::Success) == 0);
	CHECK(rec.count(slow, State::Failure) == 0);
	// Destroying the fast one completes while the slow call is in flight.
	const auto destroyed_at = Clock::now();
	client.destroy_mapping(fast);
	REQUIRE(rec.wait([&] { return rec.count(fast, State::Destroyed) == 1; }, 2s));
	CHECK(Clock::now() - destroyed_at < 1500ms);
	CHECK(!igd.mapping(7002, "TCP").has_value());
	CHECK(rec.count(slow, State::Success) == 0); // still waiting on its answer
	// Cleanup waits for the slow answer only as long as it takes, then
	// deletes what it granted.
	CHECK(client.cleanup().ok());
	CHECK(igd.mappings().empty());
	CHECK(rec.count(slow, State::Failure) == 0);
}
