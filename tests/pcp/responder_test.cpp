// Self-test of the loopback PCP/NAT-PMP responder: raw datagrams on
// 127.0.0.1 in, expected bytes out. Every wait is bounded.
#include "pcp_responder.hpp"
#include "wine.hpp"

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <optional>

using namespace plum;
using namespace plum::pcp;
using asio::ip::udp;
using plum::test::PcpResponder;
using namespace std::chrono_literals;

namespace {

// A client socket on 127.0.0.1 that sends one datagram and waits (bounded)
// for one answer.
struct RawClient {
	asio::io_context io;
	udp::socket socket{io, udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0)};
	udp::endpoint last_from;

	udp::endpoint endpoint() const { return socket.local_endpoint(); }

	std::optional<Bytes> receive(std::chrono::milliseconds timeout = 2000ms) {
		std::array<std::byte, 2048> buf{};
		std::optional<Bytes> got;
		socket.async_receive_from(asio::buffer(buf), last_from, [&](std::error_code ec, size_t n) {
			if (!ec)
				got = Bytes(buf.begin(), buf.begin() + std::ptrdiff_t(n));
		});
		io.restart();
		io.run_for(timeout);
		if (!got) {
			socket.cancel();
			io.restart();
			io.run_for(1s); // let the cancelled handler complete
		}
		return got;
	}

	std::optional<Bytes> exchange(const PcpResponder &r, const Bytes &request,
	                              std::chrono::milliseconds timeout = 2000ms) {
		socket.send_to(asio::buffer(request), r.endpoint());
		return receive(timeout);
	}
};

const std::array<uint8_t, 12> kNonce{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

Bytes pcp_map(uint8_t protocol, uint16_t internal, uint16_t suggested, uint32_t lifetime,
              std::array<uint8_t, 12> nonce = kNonce) {
	Request req;
	req.opcode = Opcode::Map;
	req.lifetime = lifetime;
	req.client_address = to_v4_mapped(asio::ip::make_address_v4("127.0.0.1"));
	req.map = MapData{nonce, protocol, internal, suggested, {}};
	return encode_request(req);
}

Response pcp_reply(const std::optional<Bytes> &b) {
	REQUIRE(b);
	auto r = decode_response(*b);
	REQUIRE(r.ok());
	return *r;
}

NatPmpResponse natpmp_reply(const std::optional<Bytes> &b) {
	REQUIRE(b);
	auto r = decode_natpmp_response(*b);
	REQUIRE(r.ok());
	return *r;
}

Bytes bytes(std::initializer_list<uint8_t> l) {
	Bytes out;
	for (auto v : l)
		out.push_back(std::byte{v});
	return out;
}

} // namespace

TEST_CASE("responder: NAT-PMP public address, byte for byte") {
	PcpResponder r;
	CHECK(r.port() != 0);
	r.set_external_address(asio::ip::make_address_v4("198.51.100.4"));
	r.set_epoch(0x01020304);
	RawClient c;
	auto got = c.exchange(r, bytes({0, 0}));
	REQUIRE(got);
	REQUIRE(got->size() == 12);
	Bytes want = bytes({0x00, 0x80, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 198, 51, 100, 4});
	// The epoch may have ticked once meanwhile.
	Bytes got_masked = *got;
	got_masked[7] = want[7];
	CHECK(got_masked == want);
	CHECK(c.last_from == r.endpoint());
	CHECK(r.counters().natpmp_external_address == 1);
}

TEST_CASE("responder: NAT-PMP map, renew, port conflict, delete (RFC 6886 §3.3-3.4)") {
	PcpResponder r;
	r.set_max_lifetime(3600);
	RawClient c;
	auto m =
	    natpmp_reply(c.exchange(r, encode_natpmp_request({NatPmpOp::MapTcp, 8080, 8081, 7200})));
	CHECK(m.op == NatPmpOp::MapTcp);
	CHECK(m.result == NatPmpResult::Success);
	CHECK(m.internal_port == 8080);
	CHECK(m.external_port == 8081);
	CHECK(m.lifetime == 3600);
	REQUIRE(r.mappings().size() == 1);
	CHECK(r.mappings()[0].natpmp);
	CHECK(r.mappings()[0].protocol == 6);

	// Same request again: a renewal, same port.
	auto renew =
	    natpmp_reply(c.exchange(r, encode_natpmp_request({NatPmpOp::MapTcp, 8080, 0, 60})));
	CHECK(renew.external_port == 8081);
	CHECK(renew.lifetime == 60);
	CHECK(r.mappings().size() == 1);

	// Another internal port wanting 8081/TCP gets another port; UDP 8081 is free.
	auto other =
	    natpmp_reply(c.exchange(r, encode_natpmp_request({NatPmpOp::MapTcp, 9000, 8081, 60})));
	CHECK(other.external_port != 8081);
	CHECK(other.external_port != 0);
	auto udp_map =
	    natpmp_reply(c.exchange(r, encode_natpmp_request({NatPmpOp::MapUdp, 9000, 8081, 60})));
	CHECK(udp_map.external_port == 8081);
	CHECK(r.mappings().size() == 3);

	// Delete one, then all TCP mappings of this client.
	auto del = natpmp_reply(c.exchange(r, encode_natpmp_request({NatPmpOp::MapTcp, 8080, 0, 0})));
	CHECK(del.result == NatPmpResult::Success);
	CHECK(del.lifetime == 0);
	CHECK(r.mappings().size() == 2);
	natpmp_reply(c.exchange(r, encode_natpmp_request({NatPmpOp::MapTcp, 0, 0, 0})));
	REQUIRE(r.mappings().size() == 1);
	CHECK(r.mappings()[0].protocol == 17);

	// An unknown op: UNSUPP_OPCODE in the short form.
	auto bad = c.exchange(r, bytes({0, 9}));
	REQUIRE(bad);
	REQUIRE(bad->size() == 8);
	CHECK(Bytes(bad->begin(), bad->begin() + 4) == bytes({0, 0x89, 0, 5}));
}

TEST_CASE("responder: PCP MAP, renew by nonce, wrong nonce, delete by nonce") {
	PcpResponder r;
	r.set_external_address(asio::ip::make_address_v4("203.0.113.5"));
	r.set_max_lifetime(3600);
	RawClient c;
	auto got = c.exchange(r, pcp_map(6, 8080, 8080, 7200));
	REQUIRE(got);
	REQUIRE(got->size() == 60);
	// RFC 6887 §7.2 + §11.1, epoch masked (bytes 8-11).
	Bytes want = bytes({2, 0x81, 0, 0,  0,  0,  0x0e, 0x10, 0, 0,    0,    0,    0,    0,    0,
	                    0, 0,    0, 0,  0,  0,  0,    0,    0, 1,    2,    3,    4,    5,    6,
	                    7, 8,    9, 10, 11, 12, 6,    0,    0, 0,    0x1f, 0x90, 0x1f, 0x90, 0,
	                    0, 0,    0, 0,  0,  0,  0,    0,    0, 0xff, 0xff, 203,  0,    113,  5});
	Bytes masked = *got;
	std::memset(masked.data() + 8, 0, 4);
	CHECK(masked == want);
	CHECK(r.counters().pcp_map == 1);
	REQUIRE(r.last_pcp_request());
	CHECK(r.last_pcp_request()->lifetime == 7200);
	REQUIRE(r.mappings().size() == 1);
	CHECK(r.mappings()[0].nonce == kNonce);
	CHECK_FALSE(r.mappings()[0].natpmp);

	auto other_nonce = kNonce;
	other_nonce[0] = 99;
	auto stolen = pcp_reply(c.exchange(r, pcp_map(6, 8080, 8080, 7200, other_nonce)));
	CHECK(stolen.result == PcpResult::NotAuthorized);
	CHECK(pcp_reply(c.exchange(r, pcp_map(6, 8080, 0, 0, other_nonce))).result ==
	      PcpResult::NotAuthorized);
	CHECK(r.mappings().size() == 1);

	auto renew = pcp_reply(c.exchange(r, pcp_map(6, 8080, 0, 100)));
	CHECK(renew.result == PcpResult::Success);
	CHECK(renew.map->external_port == 8080);
	CHECK(renew.lifetime == 100);

	auto del = pcp_reply(c.exchange(r, pcp_map(6, 8080, 0, 0)));
	CHECK(del.result == PcpResult::Success);
	CHECK(del.lifetime == 0);
	CHECK(r.mappings().empty());
}

TEST_CASE("responder: ANNOUNCE, malformed and unknown requests") {
	PcpResponder r;
	RawClient c;
	Request ann;
	ann.opcode = Opcode::Announce;
	auto a = pcp_reply(c.exchange(r, encode_request(ann)));
	CHECK(a.opcode == Opcode::Announce);
	CHECK(a.result == PcpResult::Success);
	CHECK(r.counters().pcp_announce == 1);

	Bytes short_map = pcp_map(6, 1, 1, 1);
	short_map.resize(40);
	CHECK(pcp_reply(c.exchange(r, short_map)).result == PcpResult::MalformedRequest);
	Bytes op9 = encode_request(ann);
	op9[1] = std::byte{9};
	auto u = pcp_reply(c.exchange(r, op9));
	CHECK(u.result == PcpResult::UnsuppOpcode);
	CHECK(uint8_t(u.opcode) == 9);
	Bytes v3 = encode_request(ann);
	v3[0] = std::byte{3};
	auto v = pcp_reply(c.exchange(r, v3));
	CHECK(v.result == PcpResult::UnsuppVersion);
	CHECK(v.version == 2);
	CHECK(r.counters().pcp_other == 1);
}

TEST_CASE("responder: modes") {
	PcpResponder r;
	RawClient c;
	SUBCASE("NatPmpOnly answers PCP with version 0 / UNSUPP_VERSION") {
		r.set_mode(PcpResponder::Mode::NatPmpOnly);
		auto got = c.exchange(r, pcp_map(6, 80, 80, 60));
		REQUIRE(got);
		CHECK(got->size() == 8);
		CHECK(classify(*got) == WireKind::NatPmp);
		CHECK(natpmp_reply(got).result == NatPmpResult::UnsuppVersion);
		CHECK(natpmp_reply(c.exchange(r, bytes({0, 0}))).result == NatPmpResult::Success);
	}
	SUBCASE("PcpOnly answers NAT-PMP with a PCP UNSUPP_VERSION") {
		r.set_mode(PcpResponder::Mode::PcpOnly);
		auto got = c.exchange(r, bytes({0, 0}));
		REQUIRE(got);
		CHECK(classify(*got) == WireKind::Pcp);
		CHECK(pcp_reply(got).result == PcpResult::UnsuppVersion);
	}
	SUBCASE("Silent reads and counts but never answers") {
		r.set_mode(PcpResponder::Mode::Silent);
		CHECK_FALSE(c.exchange(r, bytes({0, 0}), 200ms));
		CHECK(r.counters().natpmp_external_address == 1);
		CHECK(r.counters().answered == 0);
	}
}

TEST_CASE("responder: fault injection") {
	PcpResponder r;
	RawClient c;
	SUBCASE("drop the next request") {
		r.drop_next(1);
		CHECK_FALSE(c.exchange(r, bytes({0, 0}), 200ms));
		CHECK(c.exchange(r, bytes({0, 0})));
		CHECK(r.counters().dropped == 1);
		CHECK(r.counters().natpmp_external_address == 2);
	}
	SUBCASE("forced results, for one internal port only") {
		r.force_pcp_result(PcpResult::NoResources, 1, 9999);
		CHECK(pcp_reply(c.exchange(r, pcp_map(6, 80, 80, 60))).result == PcpResult::Success);
		auto f = pcp_reply(c.exchange(r, pcp_map(6, 9999, 80, 60)));
		CHECK(f.result == PcpResult::NoResources);
		REQUIRE(f.map);
		CHECK(f.map->nonce == kNonce);
		CHECK(pcp_reply(c.exchange(r, pcp_map(6, 9999, 0, 60))).result == PcpResult::Success);

		r.force_natpmp_result(NatPmpResult::OutOfResources, 2);
		auto n = c.exchange(r, encode_natpmp_request({NatPmpOp::MapUdp, 5, 5, 60}));
		REQUIRE(n);
		CHECK(n->size() == 16); // the full form, as miniupnpd sends
		CHECK(natpmp_reply(n).result == NatPmpResult::OutOfResources);
		r.set_natpmp_short_errors(true);
		auto s = c.exchange(r, bytes({0, 0}));
		REQUIRE(s);
		CHECK(s->size() == 8);
		CHECK(natpmp_reply(s).result == NatPmpResult::OutOfResources);
		CHECK(natpmp_reply(c.exchange(r, bytes({0, 0}))).result == NatPmpResult::Success);
	}
	SUBCASE("a wrong nonce, then a reply from another port") {
		r.wrong_nonce_next(1);
		auto w = pcp_reply(c.exchange(r, pcp_map(17, 7000, 7000, 60)));
		CHECK(w.map->nonce != kNonce);
		CHECK(pcp_reply(c.exchange(r, pcp_map(17, 7000, 7000, 60))).map->nonce == kNonce);
		r.wrong_source_next(1);
		REQUIRE(c.exchange(r, bytes({0, 0})));
		CHECK(c.last_from.address() == r.endpoint().address());
		CHECK(c.last_from.port() != r.port());
		REQUIRE(c.exchange(r, bytes({0, 0})));
		CHECK(c.last_from == r.endpoint());
	}
	SUBCASE("a delay") {
		r.set_delay(150ms);
		auto t0 = std::chrono::steady_clock::now();
		REQUIRE(c.exchange(r, bytes({0, 0})));
		CHECK(std::chrono::steady_clock::now() - t0 >= 150ms);
	}
	SUBCASE("the client address check") {
		r.set_check_client_address(true);
		Request req;
		req.opcode = Opcode::Map;
		req.lifetime = 60;
		req.client_address = to_v4_mapped(asio::ip::make_address_v4("10.9.8.7"));
		req.map = MapData{kNonce, 6, 80, 80, {}};
		CHECK(pcp_reply(c.exchange(r, encode_request(req))).result == PcpResult::AddressMismatch);
		CHECK(pcp_reply(c.exchange(r, pcp_map(6, 80, 80, 60))).result == PcpResult::Success);
	}
}

TEST_CASE("responder: restart, epoch, unsolicited messages, close") {
	PcpResponder r;
	RawClient c;
	r.set_epoch(5000);
	CHECK(natpmp_reply(c.exchange(r, encode_natpmp_request({NatPmpOp::MapUdp, 1, 1, 60}))).epoch >=
	      5000);
	CHECK(r.mappings().size() == 1);
	r.restart();
	CHECK(r.mappings().empty());
	CHECK(r.epoch() <= 1);

	r.set_external_address(asio::ip::make_address_v4("192.0.2.77"));
	r.send_natpmp_notice(c.endpoint());
	auto notice = natpmp_reply(c.receive());
	CHECK(notice.op == NatPmpOp::ExternalAddress);
	CHECK(notice.external_address == asio::ip::make_address_v4("192.0.2.77"));
	CHECK(c.last_from == r.endpoint());
	r.send_announce(c.endpoint());
	auto ann = pcp_reply(c.receive());
	CHECK(ann.opcode == Opcode::Announce);
	CHECK(ann.epoch <= 1);
	CHECK(r.counters().answered == 1); // unsolicited messages are not answers

	CHECK(r.wait_until([&] { return r.counters().natpmp_map_udp == 1; }, 100ms));
	CHECK_FALSE(r.wait_until([] { return false; }, 20ms));

	if (plum::test::under_wine()) {
		MESSAGE("skipped under Wine: it reports no ICMP port unreachable to a UDP socket "
		        "(Windows does, as WSAECONNRESET; see net/udp_socket.hpp)");
		return;
	}
	// After close(), a connected socket learns of the ICMP port unreachable.
	r.close();
	asio::io_context io;
	udp::socket s(io, udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
	s.connect(r.endpoint());
	s.send(asio::buffer(bytes({0, 0})));
	std::array<std::byte, 64> buf{};
	std::error_code result;
	bool done = false;
	s.async_receive(asio::buffer(buf), [&](std::error_code ec, size_t) {
		result = ec;
		done = true;
	});
	io.run_for(2s);
	REQUIRE(done);
	CHECK(result == asio::error::connection_refused);
}
