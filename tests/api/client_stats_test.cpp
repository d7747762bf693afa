// Client::stats() against the loopback mock router: each counter moves when
// (and only when) the event it counts happens.
#include "api/protocol_factory.hpp"
#include "engine/engine.hpp"
#include "fake_igd.hpp"
#include "loopback_config.hpp"
#include "pcp_responder.hpp"
#include "recorder.hpp"
#include "wine.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

using namespace plum;
using namespace std::chrono_literals;
using test::FakeIgd;
using test::loopback_config;
using test::PcpResponder;
using test::Recorder;

namespace {

uint64_t result(const ProtocolStats &p, const std::string &name) {
	auto it = p.results.find(name);
	return it == p.results.end() ? 0 : it->second;
}

// Polls stats() until pred holds, at most `timeout`.
bool wait_stats(const Client &client, const std::function<bool(const Stats &)> &pred,
                std::chrono::milliseconds timeout, Stats &last) {
	const auto deadline = std::chrono::steady_clock::now() + timeout;
	while (true) {
		last = client.stats();
		if (pred(last))
			return true;
		if (std::chrono::steady_clock::now() >= deadline)
			return false;
		std::this_thread::sleep_for(20ms);
	}
}

} // namespace

TEST_CASE("stats: not running, then a fresh client, then one PCP mapping") {
	Client client;
	Stats idle = client.stats();
	CHECK(idle.mappings.empty());
	CHECK(idle.pcp.requests == 0);
	CHECK(idle.gateway.empty());

	PcpResponder router;
	REQUIRE(client.init(loopback_config(router)).ok());
	auto r = client.create_mapping(IpProtocol::Tcp, 8080, 0, 5s).get();
	REQUIRE_MESSAGE(r.ok(), r.error().message());

	const Stats s = client.stats();
	CHECK(s.active == MappingProtocol::Pcp);
	CHECK(s.gateway == "127.0.0.1");
	CHECK(s.local_address == "127.0.0.1");
	CHECK(s.external_address == router.external_address().to_string());
	CHECK_FALSE(s.double_nat);
	// ANNOUNCE (probe) and MAP: both answered SUCCESS, nothing lost.
	CHECK(s.pcp.requests >= 2);
	CHECK(s.pcp.retransmissions == 0);
	CHECK(s.pcp.timeouts == 0);
	CHECK(result(s.pcp, "SUCCESS") >= 2);
	CHECK(s.pcp.renewals == 0);
	CHECK(s.pcp.recreations == 0);
	// NAT-PMP was probed too (the engine asks every protocol at once).
	CHECK(s.natpmp.requests >= 1);
	CHECK(s.upnp.requests == 0);
	REQUIRE(s.mappings.size() == 1);
	const MappingStats &m = s.mappings[0];
	CHECK(m.id == r->id);
	CHECK(m.state == State::Success);
	CHECK(m.protocol == IpProtocol::Tcp);
	CHECK(m.mapping_protocol == MappingProtocol::Pcp);
	CHECK(m.internal_port == 8080);
	CHECK(m.external_port == r->mapping.external_port);
	CHECK(m.external_host == r->mapping.external_host);
	CHECK(m.age >= 0ms);
	CHECK(m.age < 10s);
	CHECK(m.renewals == 0);
	CHECK(m.failures == 0);
	CHECK(m.last_error.empty());
	CHECK(client.cleanup().ok());
	CHECK(client.stats().mappings.empty());
}

TEST_CASE("stats: a lost first reply is a retransmission") {
	PcpResponder router;
	router.drop_next(1);
	Client client;
	Config c = loopback_config(router, kUsePcp);
	c.discover_timeout = 4s;
	REQUIRE(client.init(c).ok());
	auto r = client.create_mapping(IpProtocol::Udp, 9000, 0, 6s).get();
	REQUIRE_MESSAGE(r.ok(), r.error().message());
	const Stats s = client.stats();
	CHECK(s.pcp.retransmissions >= 1);
	CHECK(s.pcp.timeouts == 0);
	CHECK(router.counters().dropped == 1);
	// Every datagram the router saw is a request or a retransmission of one.
	CHECK(s.pcp.requests + s.pcp.retransmissions == router.counters().total());
	CHECK(client.cleanup().ok());
}

TEST_CASE("stats: the router's refusal is counted by name and kept as the mapping's last error") {
	PcpResponder router;
	router.force_pcp_result(pcp::PcpResult::NoResources, 1, 7100);
	Client client;
	REQUIRE(client.init(loopback_config(router, kUsePcp)).ok());
	Recorder rec;
	const int id = *client.start_mapping(IpProtocol::Tcp, 7100, 0, rec.callback());
	REQUIRE(rec.wait([&] { return rec.count(id, State::Failure) == 1; }, 5s));
	Stats s;
	REQUIRE(wait_stats(
	    client, [](const Stats &x) { return result(x.pcp, "NO_RESOURCES") == 1; }, 2s, s));
	REQUIRE(s.mappings.size() == 1);
	CHECK(s.mappings[0].failures == 1);
	CHECK(s.mappings[0].last_error.find("NO_RESOURCES") != std::string::npos);
	// NO_RESOURCES is short-lived: the engine asks again (1 s later) and gets it.
	REQUIRE(rec.wait([&] { return rec.count(id, State::Success) == 1; }, 5s));
	s = client.stats();
	CHECK(result(s.pcp, "NO_RESOURCES") == 1);
	CHECK(s.mappings[0].state == State::Success);
	CHECK(s.mappings[0].failures == 1); // history: it failed once
	CHECK(client.cleanup().ok());
}

TEST_CASE("stats: N renewals with a short lifetime") {
	PcpResponder router;
	Client client;
	Config c = loopback_config(router, kUsePcp);
	c.lifetime = 2s; // renewed every ~1 s
	REQUIRE(client.init(c).ok());
	auto r = client.create_mapping(IpProtocol::Tcp, 8500, 0, 5s).get();
	REQUIRE_MESSAGE(r.ok(), r.error().message());
	Stats s;
	CHECK(wait_stats(
	    client, [](const Stats &x) { return x.pcp.renewals >= 3; }, 8s, s));
	REQUIRE(s.mappings.size() == 1);
	CHECK(s.mappings[0].renewals == s.pcp.renewals);
	CHECK(s.mappings[0].recreations == 0);
	CHECK(s.pcp.recreations == 0);
	// Each renewal was a MAP the router answered SUCCESS.
	CHECK(result(s.pcp, "SUCCESS") >= 1 + 1 + s.pcp.renewals);
	CHECK(client.cleanup().ok());
}

TEST_CASE("stats: a gateway restart is one re-creation per mapping") {
	PcpResponder router;
	router.set_epoch(5000);
	Client client;
	Config c = loopback_config(router, kUsePcp);
	REQUIRE(client.init(c).ok());
	auto r = client.create_mapping(IpProtocol::Tcp, 6000, 0, 5s).get();
	REQUIRE_MESSAGE(r.ok(), r.error().message());
	CHECK(client.stats().pcp.recreations == 0);
	router.restart();
	router.send_announce({asio::ip::address_v4::loopback(), c.announce_port});
	Stats s;
	CHECK(wait_stats(
	    client, [](const Stats &x) { return x.pcp.recreations >= 1; }, 5s, s));
	CHECK(s.pcp.recreations == 1);
	REQUIRE(s.mappings.size() == 1);
	CHECK(s.mappings[0].recreations == 1);
	CHECK(s.mappings[0].renewals == 0);
	CHECK(router.mappings().size() == 1);
	CHECK(client.cleanup().ok());
}

TEST_CASE("stats: a silent router counts timeouts, NAT-PMP too") {
	PcpResponder router;
	router.set_mode(PcpResponder::Mode::Silent);
	Client client;
	Config c = loopback_config(router);
	// Each exchange gives up (a timeout) before the prober would cancel it.
	c.mapping_timeout = 300ms;
	c.discover_timeout = 1000ms;
	REQUIRE(client.init(c).ok());
	auto r = client.create_mapping(IpProtocol::Tcp, 8080, 0, 5s).get();
	CHECK_FALSE(r.ok());
	Stats s;
	CHECK(wait_stats(
	    client, [](const Stats &x) { return x.pcp.timeouts >= 1 && x.natpmp.timeouts >= 1; }, 3s,
	    s));
	CHECK(result(s.pcp, "timeout") == s.pcp.timeouts);
	CHECK(result(s.natpmp, "timeout") == s.natpmp.timeouts);
	CHECK(s.pcp.retransmissions >= 1); // at 250 ms, before 300 ms ran out
	CHECK(s.active == MappingProtocol::Unknown);
	REQUIRE(s.mappings.size() == 1);
	CHECK(s.mappings[0].state == State::Failure);
	CHECK_FALSE(s.mappings[0].last_error.empty());
	CHECK(client.cleanup().ok());
}

TEST_CASE("stats: closed port counts ICMP unreachable") {
	if (plum::test::under_wine()) {
		MESSAGE("skipped under Wine: it reports no ICMP port unreachable to a UDP socket "
		        "(Windows does, as WSAECONNRESET; see net/udp_socket.hpp)");
		return;
	}
	PcpResponder router;
	router.close();
	Client client;
	REQUIRE(client.init(loopback_config(router, kUsePcp)).ok());
	Recorder rec;
	const int id = *client.start_mapping(IpProtocol::Tcp, 8080, 0, rec.callback());
	REQUIRE(rec.wait([&] { return rec.count(id, State::Failure) == 1; }, 3s));
	Stats s;
	CHECK(wait_stats(
	    client, [](const Stats &x) { return result(x.pcp, "ICMP unreachable") >= 1; }, 2s, s));
	CHECK(s.pcp.timeouts == 0);
	CHECK(client.cleanup().ok());
}

TEST_CASE("stats: UPnP requests, a 718 conflict by number, from a callback too") {
	FakeIgd igd;
	igd.set_igd_version(1);
	igd.fail_next("AddPortMapping", 718);
	Client client;
	Config c;
	c.gateway_address = "127.0.0.1";
	c.local_address = "127.0.0.1";
	c.ssdp_address = "127.0.0.1";
	c.ssdp_port = igd.ssdp_port();
	c.protocols = kUseUpnp;
	c.discover_timeout = 3s;
	c.mapping_timeout = 3s;
	REQUIRE(client.init(c).ok());
	// stats() from inside a callback (the engine's thread) must not wait
	// for itself.
	std::atomic<uint64_t> seen_in_callback{0};
	Recorder rec;
	auto record = rec.callback();
	const int id =
	    *client.start_mapping(IpProtocol::Tcp, 8080, 0, [&](int i, State st, const Mapping &m) {
		    seen_in_callback = client.stats().upnp.requests;
		    record(i, st, m);
	    });
	REQUIRE(rec.wait([&] { return rec.count(id, State::Success) == 1; }, 6s));
	CHECK(seen_in_callback > 0);
	const Stats s = client.stats();
	CHECK(s.active == MappingProtocol::Upnp);
	// SSDP search, description, GetExternalIPAddress, AddPortMapping x2.
	CHECK(s.upnp.requests >= 5);
	CHECK(result(s.upnp, "UPnP 718") == 1);
	CHECK(result(s.upnp, "SUCCESS") >= 3);
	CHECK(s.upnp.timeouts == 0);
	CHECK(s.pcp.requests == 0);
	REQUIRE(s.mappings.size() == 1);
	CHECK(s.mappings[0].mapping_protocol == MappingProtocol::Upnp);
	CHECK(s.mappings[0].failures == 0); // the 718 was handled inside one map()
	CHECK(client.cleanup().ok());
}

TEST_CASE("log: a failing mapping is one INFO line naming protocol, gateway, id and error; its "
          "retries are DEBUG") {
	PcpResponder router;
	// Refused twice: the first answer and the retry one second later.
	router.force_pcp_result(pcp::PcpResult::NoResources, 2, 7200);
	std::mutex mutex;
	std::vector<std::pair<LogLevel, std::string>> lines;
	Config c = loopback_config(router, kUsePcp);
	c.log_level = LogLevel::Debug;
	c.log_callback = [&](LogLevel level, std::string_view line) {
		std::lock_guard lock(mutex);
		lines.emplace_back(level, std::string(line));
	};
	Client client;
	REQUIRE(client.init(c).ok());
	Recorder rec;
	const int id = *client.start_mapping(IpProtocol::Tcp, 7200, 0, rec.callback());
	REQUIRE(rec.wait([&] { return rec.count(id, State::Success) == 1; }, 8s));
	CHECK(result(client.stats().pcp, "NO_RESOURCES") == 2);
	CHECK(client.cleanup().ok());

	std::lock_guard lock(mutex);
	const std::string name = "mapping " + std::to_string(id) + " ";
	int info = 0, debug = 0;
	for (const auto &entry : lines) {
		const LogLevel level = entry.first;
		const std::string &line = entry.second;
		if (line.find("NO_RESOURCES") == std::string::npos)
			continue;
		if (level == LogLevel::Info) {
			++info;
			CAPTURE(line);
			CHECK(line.find(name) != std::string::npos);
			CHECK(line.find("via PCP") != std::string::npos);
			CHECK(line.find("gateway 127.0.0.1") != std::string::npos);
		} else if (level == LogLevel::Debug && line.find(name) != std::string::npos) {
			++debug;
		}
	}
	CHECK(info == 1);
	CHECK(debug == 1);
}

TEST_CASE("stats: counters survive a network change that rebuilds the protocol clients") {
	PcpResponder router;
	asio::io_context io;
	const Config cfg = loopback_config(router, kUsePcp);
	engine::Settings settings;
	settings.recheck_period = 300ms; // each recheck looks at the environment again
	settings.discover_timeout = 1500ms;
	settings.mapping_timeout = 2000ms;
	settings.first_verdict = 1500ms;
	// The local address moves from 127.0.0.1 to 127.0.0.2 (both loopback).
	auto local = std::make_shared<std::string>("127.0.0.1");
	auto environment = [local]() -> Result<engine::Environment> {
		engine::Environment e;
		e.gateway = asio::ip::address_v4::loopback();
		e.local = asio::ip::make_address_v4(*local);
		return e;
	};
	std::vector<engine::StateChange> changes;
	engine::Engine eng(
	    io, settings, environment,
	    api::make_protocol_factory(io, cfg, settings.mapping_timeout, settings.discover_timeout,
	                               Logger()),
	    [&](const engine::StateChange &c) { changes.push_back(c); }, Logger());
	const auto run_until = [&](const std::function<bool()> &pred, std::chrono::milliseconds limit) {
		const auto deadline = std::chrono::steady_clock::now() + limit;
		while (!pred() && std::chrono::steady_clock::now() < deadline)
			io.run_one_for(20ms);
		return pred();
	};
	const auto successes = [&] {
		return std::count_if(changes.begin(), changes.end(),
		                     [](const auto &c) { return c.state == State::Success; });
	};
	eng.add(0, IpProtocol::Tcp, 8600, 0);
	REQUIRE(run_until([&] { return successes() == 1; }, 5s));
	const Stats before = eng.stats();
	CHECK(before.local_address == "127.0.0.1");
	CHECK(before.pcp.requests >= 2);

	*local = "127.0.0.2";
	// The recheck sees the new address, drops the clients, builds new ones
	// and maps again from there.
	REQUIRE(run_until(
	    [&] {
		    return eng.environment() && eng.environment()->local.to_string() == "127.0.0.2" &&
		           eng.stats().pcp.results["SUCCESS"] > before.pcp.results.at("SUCCESS") + 1;
	    },
	    5s));
	const Stats after = eng.stats();
	CHECK(after.local_address == "127.0.0.2");
	// What the first clients counted is still there, plus the new ones'.
	CHECK(after.pcp.requests >= before.pcp.requests + 2);
	CHECK(after.pcp.results.at("SUCCESS") >= before.pcp.results.at("SUCCESS") + 2);
	REQUIRE(after.mappings.size() == 1);
	CHECK(after.mappings[0].state == State::Success);

	bool done = false;
	eng.shutdown([&] { done = true; });
	CHECK(run_until([&] { return done; }, 5s));
}
