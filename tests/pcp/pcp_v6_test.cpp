// PCP over IPv6 (RFC 6887 §11: a firewall without NAT) against
// plum::test::PcpResponder bound to ::1, and the pure parsers of the IPv6
// routing and address tables. Nothing leaves the loopback interface; where
// the host has no ::1 the socket tests say so and pass.
#include "loopback_wait.hpp"
#include "net/proc_route.hpp"
#include "net/route.hpp"
#include "pcp/announce_listener.hpp"
#include "pcp/pcp_client.hpp"
#include "pcp_responder.hpp"
#include "wine.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <optional>

using namespace plum;
using namespace plum::pcp;
using namespace std::chrono_literals;
using plum::test::have_ipv6_loopback;
using plum::test::PcpResponder;
using plum::test::run_until;
using Clock = std::chrono::steady_clock;

namespace {

const asio::ip::address_v6 kLoopback6 = asio::ip::address_v6::loopback();

template <class T> struct Outcome {
	std::optional<Result<T>> result;
	auto handler() {
		return [this](Result<T> r) { result.emplace(std::move(r)); };
	}
	bool done() const { return result.has_value(); }
};

engine::MapRequest map_request(IpProtocol protocol, uint16_t internal, uint8_t seed) {
	engine::MapRequest req;
	req.protocol = protocol;
	req.internal_port = internal;
	req.lifetime = 3600;
	for (size_t i = 0; i < req.nonce.size(); ++i)
		req.nonce[i] = uint8_t(seed * 17 + i);
	return req;
}

Result<engine::MapGrant> map_once(asio::io_context &io, PcpClient &client,
                                  const engine::MapRequest &req) {
	Outcome<engine::MapGrant> out;
	client.map(req, out.handler());
	REQUIRE(run_until(io, [&] { return out.done(); }));
	return *out.result;
}

PcpSettings settings_for(const PcpResponder &r, bool pin_local) {
	PcpSettings s;
	s.gateway = kLoopback6;
	s.server_port = r.port();
	if (pin_local)
		s.local_address = kLoopback6;
	s.mapping_timeout = 3000ms;
	return s;
}

} // namespace

TEST_CASE("PCP over IPv6: probe, map (a pinhole to our own address), renew, delete") {
	if (!have_ipv6_loopback()) {
		MESSAGE("no ::1 on this host: IPv6 socket test not run");
		return;
	}
	for (bool pin_local : {true, false}) {
		CAPTURE(pin_local);
		PcpResponder responder(kLoopback6);
		responder.set_check_client_address(true); // ADDRESS_MISMATCH unless it is ::1
		asio::io_context io;
		PcpClient client(io, settings_for(responder, pin_local), Logger());

		Outcome<engine::ProbeResult> probe;
		client.probe(probe.handler());
		REQUIRE(run_until(io, [&] { return probe.done(); }));
		REQUIRE(probe.result->ok());
		// No address until a MAP tells.
		CHECK((*probe.result)->external_address.is_unspecified());

		auto req = map_request(IpProtocol::Tcp, 8200, 1);
		auto grant = map_once(io, client, req);
		REQUIRE(grant.ok());
		// §11: a firewall without NAT maps our own address and port.
		CHECK(grant->external_address == asio::ip::address(kLoopback6));
		CHECK(grant->external_port == 8200);
		CHECK(grant->lifetime == 3600);
		auto last = responder.last_pcp_request();
		REQUIRE(last);
		// The header carries our IPv6 address as it is (not IPv4-mapped),
		// the suggested external address is :: ("no preference", §11.1).
		CHECK(last->client_address == kLoopback6);
		CHECK(last->map->external_address == asio::ip::address_v6::any());
		REQUIRE(responder.mappings().size() == 1);
		CHECK(responder.mappings()[0].client.address().is_v6());

		// A renewal: the same nonce renews the same pinhole.
		req.external_port = grant->external_port;
		req.lifetime = 7200;
		auto renewed = map_once(io, client, req);
		REQUIRE(renewed.ok());
		CHECK(renewed->external_port == 8200);
		CHECK(renewed->lifetime == 7200);
		REQUIRE(responder.mappings().size() == 1);
		CHECK(responder.mappings()[0].lifetime == 7200);
		CHECK(responder.counters().pcp_map == 2);

		Outcome<void> del;
		client.unmap(req, del.handler());
		REQUIRE(run_until(io, [&] { return del.done(); }));
		CHECK(del.result->ok());
		CHECK(responder.mappings().empty());
		CHECK(responder.last_pcp_request()->lifetime == 0);
		CHECK(client.exchange().stats().retransmissions == 0);
	}
}

TEST_CASE("PCP over IPv6: nothing listens on ::1 -> unreachable at once (ICMPv6)") {
	if (plum::test::under_wine()) {
		MESSAGE("skipped under Wine: it reports no ICMP port unreachable to a UDP socket "
		        "(Windows does, as WSAECONNRESET; see net/udp_socket.hpp)");
		return;
	}
	if (!have_ipv6_loopback()) {
		MESSAGE("no ::1 on this host: IPv6 socket test not run");
		return;
	}
	PcpResponder responder(kLoopback6);
	responder.close();
	asio::io_context io;
	PcpClient client(io, settings_for(responder, true), Logger());
	Outcome<engine::ProbeResult> probe;
	const auto t0 = Clock::now();
	client.probe(probe.handler());
	REQUIRE(run_until(io, [&] { return probe.done(); }));
	CHECK(Clock::now() - t0 < 240ms);
	REQUIRE_FALSE(probe.result->ok());
	CHECK(probe.result->error() == Errc::unreachable);
}

TEST_CASE("IPv6 ANNOUNCE listener: a restart announced by the gateway, others' ignored") {
	if (!have_ipv6_loopback()) {
		MESSAGE("no ::1 on this host: IPv6 socket test not run");
		return;
	}
	PcpResponder responder(kLoopback6);
	responder.set_epoch(3000);
	asio::io_context io;
	PcpClient client(io, settings_for(responder, true), Logger());
	int restarts = 0;
	engine::ProtocolEvents events;
	events.gateway_restarted = [&] { ++restarts; };
	client.set_events(events);
	Outcome<engine::ProbeResult> probe; // learns the epoch
	client.probe(probe.handler());
	REQUIRE(run_until(io, [&] { return probe.done(); }));
	REQUIRE(probe.result->ok());

	AnnounceSettings as;
	as.gateway = kLoopback6;
	as.bind_address = kLoopback6;
	as.port = 0;
	as.join_multicast = false; // tests: unicast to our port
	AnnounceListener listener(io, as, Logger());
	listener.set_handlers(announce_handlers_for(&client, nullptr));
	REQUIRE(listener.start().ok());
	REQUIRE(listener.local_endpoint().address().is_v6());

	responder.restart(); // epoch back to 0
	responder.send_announce(listener.local_endpoint());
	REQUIRE(run_until(io, [&] { return restarts == 1; }));
	CHECK(listener.stats().accepted == 1);

	// From an address that is not the gateway's: rejected.
	AnnounceSettings other = as;
	other.gateway = asio::ip::make_address("2001:db8::1");
	AnnounceListener strict(io, other, Logger());
	int heard = 0;
	AnnounceHandlers h;
	h.pcp_announce = [&](uint32_t, auto) { ++heard; };
	strict.set_handlers(h);
	REQUIRE(strict.start().ok());
	responder.send_announce(strict.local_endpoint());
	REQUIRE(run_until(io, [&] { return strict.stats().rejected == 1; }));
	CHECK(heard == 0);
}

TEST_CASE("parse_default_gateway6: the default route of the lowest metric, with its interface") {
	// dest dest_len src src_len next_hop metric refcnt use flags ifname
	const char *table =
	    "20010db8007700000000000000000000 40 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0\n"
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "fe800000000000000000000000000009 00000800 00000002 00000000 00000003 wlan0\n"
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "fe800000000000000000000000000001 00000400 00000002 00000000 00000003     eth0\n"
	    "00000000000000000000000000000001 80 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo\n";
	auto gw = net::parse_default_gateway6(table);
	REQUIRE(gw.ok());
	CHECK(gw->address.to_string() == "fe80::1");
	CHECK(gw->interface_name == "eth0");

	// No gateway flag, or a down route, or garbage: no default gateway.
	const char *no_gw =
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "fe800000000000000000000000000001 00000400 00000002 00000000 00000001 eth0\n";
	CHECK(net::parse_default_gateway6(no_gw).error() == Errc::no_gateway);
	const char *down =
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "fe800000000000000000000000000001 00000400 00000002 00000000 00000002 eth0\n";
	CHECK_FALSE(net::parse_default_gateway6(down).ok());
	CHECK_FALSE(net::parse_default_gateway6("").ok());
	CHECK_FALSE(net::parse_default_gateway6("zz zz zz zz zz zz zz zz zz zz\n\n").ok());
}

TEST_CASE("parse_global_address6: a usable, public, stable address of that interface") {
	// address ifindex prefix_len scope flags ifname
	const char *table = "fe800000000000000000000000000002 02 40 20 80 eth0\n"
	                    "fd000000000000000000000000000005 02 40 00 80 eth0\n"
	                    "20010db8007700000000000000000099 02 40 00 01 eth0\n"
	                    "20010db8007700000000000000000002 02 40 00 80 eth0\n"
	                    "20010db8000100000000000000000003 03 40 00 80 eth1\n"
	                    "00000000000000000000000000000001 01 80 10 80 lo\n";
	auto a = net::parse_global_address6(table, "eth0");
	REQUIRE(a.ok());
	CHECK(a->to_string() == "2001:db8:77::2"); // not the ULA, not the temporary one
	CHECK(net::parse_global_address6(table, "eth1")->to_string() == "2001:db8:1::3");
	// Loopback and link-local are not global; tentative or deprecated ones
	// are not usable.
	CHECK(net::parse_global_address6(table, "lo").error() == Errc::no_gateway);
	const char *unusable = "20010db8007700000000000000000002 02 40 00 40 eth0\n"
	                       "20010db8007700000000000000000003 02 40 00 20 eth0\n"
	                       "fe800000000000000000000000000002 02 40 20 80 eth0\n";
	CHECK_FALSE(net::parse_global_address6(unusable, "eth0").ok());
	// Only a ULA: better than nothing (a home network without a public prefix).
	CHECK(net::parse_global_address6(table, "eth0").ok());
	const char *ula = "fd000000000000000000000000000005 02 40 00 80 eth0\n";
	CHECK(net::parse_global_address6(ula, "eth0")->to_string() == "fd00::5");
}
